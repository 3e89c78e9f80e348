#include "sip/refer_to.h"

#include <algorithm>

#include "sip/char_class.h"
#include "sip/diversion.h"
#include "sip/uri.h"

namespace sb::sip {

namespace {

Unexpected invalid(QString reason) {
    return fail(ErrorKind::Protocol, std::move(reason));
}

// RFC 3261 §25.1 word: a Call-ID is word ["@" word].
bool isWordChar(char c) {
    if (chars::is(c, chars::kToken)) return true;
    switch (c) {
        case '(':
        case ')':
        case '<':
        case '>':
        case ':':
        case '\\':
        case '"':
        case '/':
        case '[':
        case ']':
        case '?':
        case '{':
        case '}':
            return true;
        default:
            return false;
    }
}

bool isCallId(QByteArrayView text) {
    if (text.isEmpty() || text.count('@') > 1) return false;
    return std::all_of(text.begin(), text.end(), [](char c) { return c == '@' || isWordChar(c); });
}

bool isHeaderValueChar(char c) {
    if (chars::is(c, chars::kAlnum)) return true;
    switch (c) {
        // unreserved marks
        case '-':
        case '_':
        case '.':
        case '!':
        case '~':
        case '*':
        case '\'':
        case '(':
        case ')':
        // hnv-unreserved
        case '[':
        case ']':
        case '/':
        case '?':
        case ':':
        case '+':
        case '$':
            return true;
        default:
            return false;
    }
}

}  // namespace

Result<QByteArray> formatReplaces(const ReplacesTarget& target) {
    if (!isCallId(target.callId))
        return invalid(QStringLiteral("the Call-ID \"%1\" is malformed")
                           .arg(QString::fromUtf8(target.callId.left(120))));
    if (!isSipToken(target.toTag) || !isSipToken(target.fromTag))
        return invalid(QStringLiteral("the dialog's tags are missing or malformed"));
    QByteArray text = target.callId + ";to-tag=" + target.toTag + ";from-tag=" + target.fromTag;
    if (target.earlyOnly) text += ";early-only";
    return text;
}

QByteArray escapeUriHeaderValue(QByteArrayView value) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    QByteArray escaped;
    escaped.reserve(value.size() * 2);
    for (char c : value) {
        if (isHeaderValueChar(c)) {
            escaped += c;
            continue;
        }
        const auto byte = static_cast<unsigned char>(c);
        escaped += '%';
        escaped += kHex[byte >> 4];
        escaped += kHex[byte & 0xF];
    }
    return escaped;
}

Result<QByteArray> referToWithReplaces(QByteArrayView target, const ReplacesTarget& replaces) {
    const bool unsafe = std::any_of(target.begin(), target.end(),
                                    [](char c) { return chars::is(c, chars::kUriIllegal); });
    auto uri = Uri::parse(target);
    if (unsafe || !uri || !uri->isSip())
        return invalid(QStringLiteral("\"%1\" is not a SIP URI").arg(QString::fromUtf8(target)));
    if (!uri->headers.isEmpty())
        return invalid(QStringLiteral("the target URI already carries headers"));
    Result<QByteArray> value = formatReplaces(replaces);
    if (!value) return fail(value.error());
    return '<' + target.toByteArray() + "?Replaces=" + escapeUriHeaderValue(*value) + '>';
}

}  // namespace sb::sip
