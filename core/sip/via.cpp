#include "sip/via.h"

#include <QHostAddress>

#include "sip/char_class.h"

namespace sb::sip {

namespace {

bool isLws(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

void skipLws(QByteArrayView text, qsizetype& pos) {
    while (pos < text.size() && isLws(text[pos]))
        ++pos;
}

bool isTokenChar(char c) {
    if ((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')) return true;
    switch (c) {
        case '-':
        case '.':
        case '!':
        case '%':
        case '*':
        case '_':
        case '+':
        case '`':
        case '\'':
        case '~':
            return true;
        default:
            return false;
    }
}

QByteArrayView takeToken(QByteArrayView text, qsizetype& pos) {
    const qsizetype start = pos;
    while (pos < text.size() && isTokenChar(text[pos]))
        ++pos;
    return text.sliced(start, pos - start);
}

bool expect(QByteArrayView text, qsizetype& pos, char c) {
    skipLws(text, pos);
    if (pos >= text.size() || text[pos] != c) return false;
    ++pos;
    skipLws(text, pos);
    return true;
}

}  // namespace

Result<Via> Via::parse(QByteArrayView text) {
    Via via;
    qsizetype pos = 0;
    skipLws(text, pos);
    via.protocolName = takeToken(text, pos);
    if (via.protocolName.isEmpty() || !expect(text, pos, '/'))
        return fail(ErrorKind::Parse, QStringLiteral("Malformed Via protocol"), pos, 400);
    via.protocolVersion = takeToken(text, pos);
    if (via.protocolVersion.isEmpty() || !expect(text, pos, '/'))
        return fail(ErrorKind::Parse, QStringLiteral("Malformed Via protocol"), pos, 400);
    via.transport = takeToken(text, pos);
    if (via.transport.isEmpty())
        return fail(ErrorKind::Parse, QStringLiteral("Missing Via transport"), pos, 400);
    if (pos >= text.size() || !isLws(text[pos]))
        return fail(ErrorKind::Parse, QStringLiteral("Missing Via sent-by"), pos, 400);
    skipLws(text, pos);

    // sent-by = host [ ":" port ]
    if (pos < text.size() && text[pos] == '[') {
        const qsizetype close = chars::find(text, ']', pos);
        if (close < 0)
            return fail(ErrorKind::Parse, QStringLiteral("Unterminated IPv6 reference in Via"), pos,
                        400);
        via.host = text.sliced(pos + 1, close - pos - 1);
        QHostAddress address;
        if (!address.setAddress(QString::fromLatin1(via.host)))
            return fail(ErrorKind::Parse, QStringLiteral("Bad IPv6 reference in Via"), pos, 400);
        via.ipv6Reference = true;
        pos = close + 1;
    } else {
        const qsizetype start = pos;
        while (pos < text.size()) {
            const char c = text[pos];
            if (!((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c == '-' ||
                  c == '.' || c == '_'))
                break;
            ++pos;
        }
        via.host = text.sliced(start, pos - start);
        if (via.host.isEmpty())
            return fail(ErrorKind::Parse, QStringLiteral("Missing Via host"), pos, 400);
    }
    skipLws(text, pos);
    if (pos < text.size() && text[pos] == ':') {
        ++pos;
        skipLws(text, pos);
        const qsizetype start = pos;
        quint32 value = 0;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
            value = value * 10 + quint32(text[pos] - '0');
            if (value > 65535)
                return fail(ErrorKind::Parse, QStringLiteral("Via port out of range"), start, 400);
            ++pos;
        }
        if (pos == start)
            return fail(ErrorKind::Parse, QStringLiteral("Missing Via port"), pos, 400);
        via.port = quint16(value);
        skipLws(text, pos);
    }
    if (pos < text.size()) {
        if (text[pos] != ';')
            return fail(ErrorKind::Parse, QStringLiteral("Unexpected text in Via"), pos, 400);
        via.params = ParamList(text.sliced(pos));
        if (!via.params.isWellFormed())
            return fail(ErrorKind::Parse, QStringLiteral("Malformed Via parameters"), pos, 400);
    }
    return via;
}

QByteArrayView Via::branch() const {
    return params.value("branch").value_or(QByteArrayView());
}

bool Via::hasMagicCookie() const {
    return branch().startsWith(kMagicCookie);
}

std::optional<QByteArrayView> Via::received() const {
    return params.value("received");
}

std::optional<QByteArrayView> Via::maddr() const {
    return params.value("maddr");
}

bool Via::hasRport() const {
    return params.has("rport");
}

std::optional<quint16> Via::rport() const {
    auto value = params.value("rport");
    if (!value || value->isEmpty()) return std::nullopt;
    bool ok = false;
    const uint port = value->toByteArray().toUInt(&ok);
    if (!ok || port > 65535) return std::nullopt;
    return quint16(port);
}

}  // namespace sb::sip
