#include "sip/uri.h"

#include <QHostAddress>
#include <QList>

#include <algorithm>

#include "sip/char_class.h"

namespace sb::sip {

namespace {

bool isAlnum(char c) {
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}
bool isHex(char c) {
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}
bool isMark(char c) {
    switch (c) {
        case '-':
        case '_':
        case '.':
        case '!':
        case '~':
        case '*':
        case '\'':
        case '(':
        case ')':
            return true;
        default:
            return false;
    }
}

// RFC 3261 §25.1: user = 1*( unreserved / escaped / user-unreserved ).
bool validUserOrPassword(QByteArrayView text, bool password) {
    for (qsizetype i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (!password && chars::is(c, chars::kUser)) continue;
        if (isAlnum(c) || isMark(c)) continue;
        if (c == '%') {
            if (i + 2 >= text.size()) return false;
            if (!isHex(text[i + 1]) || !isHex(text[i + 2])) return false;
            i += 2;
            continue;
        }
        switch (c) {
            case '&':
            case '=':
            case '+':
            case '$':
            case ',':
                continue;
            case ';':
            case '?':
            case '/':
                if (!password) continue;
                return false;
            default:
                return false;
        }
    }
    return true;
}

bool validHostname(QByteArrayView host) {
    if (host.isEmpty()) return false;
    for (char c : host)
        if (!chars::is(c, chars::kHost)) return false;
    return true;
}

// host [":" port], the host possibly an IPv6 reference. `rest` returns what follows.
Result<QByteArrayView> parseHostPort(QByteArrayView text, QByteArrayView& host, bool& ipv6,
                                     std::optional<quint16>& port, qsizetype base) {
    qsizetype pos = 0;
    if (text.startsWith('[')) {
        const qsizetype close = chars::find(text, ']');
        if (close < 0)
            return fail(ErrorKind::Parse, QStringLiteral("Unterminated IPv6 reference"), base, 400);
        host = text.sliced(1, close - 1);
        QHostAddress address;
        if (!address.setAddress(QString::fromLatin1(host)) ||
            address.protocol() != QAbstractSocket::IPv6Protocol)
            return fail(ErrorKind::Parse, QStringLiteral("Bad IPv6 reference"), base, 400);
        ipv6 = true;
        pos = close + 1;
    } else {
        while (pos < text.size() && text[pos] != ':' && text[pos] != ';' && text[pos] != '?')
            ++pos;
        host = text.first(pos);
        if (!validHostname(host))
            return fail(ErrorKind::Parse, QStringLiteral("Bad host in URI"), base, 400);
    }
    if (pos < text.size() && text[pos] == ':') {
        ++pos;
        qsizetype start = pos;
        quint32 value = 0;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
            value = value * 10 + quint32(text[pos] - '0');
            if (value > 65535)
                return fail(ErrorKind::Parse, QStringLiteral("Port out of range"), base + start,
                            400);
            ++pos;
        }
        if (pos == start)
            return fail(ErrorKind::Parse, QStringLiteral("Missing port after ':'"), base + start,
                        400);
        port = quint16(value);
    }
    return text.sliced(pos);
}

int hexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    return (c | 0x20) - 'a' + 10;
}

}  // namespace

QByteArray percentDecode(QByteArrayView text) {
    QByteArray out;
    out.reserve(text.size());
    for (qsizetype i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size() && isHex(text[i + 1]) && isHex(text[i + 2])) {
            out.append(char(hexValue(text[i + 1]) * 16 + hexValue(text[i + 2])));
            i += 2;
        } else {
            out.append(text[i]);
        }
    }
    return out;
}

Result<Uri> Uri::parse(QByteArrayView text) {
    Uri uri;
    uri.text = text;
    const qsizetype colon = chars::find(text, ':');
    if (colon <= 0) return fail(ErrorKind::Parse, QStringLiteral("URI has no scheme"), 0, 400);
    uri.schemeText = text.first(colon);
    // RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
    if (!chars::is(uri.schemeText[0], chars::kAlnum) ||
        (uri.schemeText[0] >= '0' && uri.schemeText[0] <= '9'))
        return fail(ErrorKind::Parse, QStringLiteral("Bad URI scheme"), 0, 400);
    for (char c : uri.schemeText)
        if (!isAlnum(c) && c != '+' && c != '-' && c != '.')
            return fail(ErrorKind::Parse, QStringLiteral("Bad URI scheme"), 0, 400);
    for (char c : text)
        if (chars::is(c, chars::kUriIllegal))
            return fail(ErrorKind::Parse, QStringLiteral("Illegal character in URI"), 0, 400);
    const QByteArrayView rest = text.sliced(colon + 1);

    if (chars::equalsIgnoreCase(uri.schemeText, "sip")) {
        uri.scheme = UriScheme::Sip;
    } else if (chars::equalsIgnoreCase(uri.schemeText, "sips")) {
        uri.scheme = UriScheme::Sips;
    } else if (chars::equalsIgnoreCase(uri.schemeText, "tel")) {
        // RFC 3966: tel:number;params
        uri.scheme = UriScheme::Tel;
        qsizetype semi = chars::find(rest, ';');
        uri.user = semi < 0 ? rest : rest.first(semi);
        if (uri.user.isEmpty())
            return fail(ErrorKind::Parse, QStringLiteral("Empty tel URI"), colon + 1, 400);
        if (semi >= 0) uri.params = ParamList(rest.sliced(semi));
        return uri;
    } else {
        uri.scheme = UriScheme::Other;  // the TU answers 416 where it matters
        return uri;
    }

    QByteArrayView hostPart = rest;
    qsizetype hostBase = colon + 1;
    const qsizetype at = chars::find(rest, '@');
    if (at >= 0) {
        QByteArrayView userinfo = rest.first(at);
        const qsizetype pw = chars::find(userinfo, ':');
        uri.user = pw < 0 ? userinfo : userinfo.first(pw);
        if (pw >= 0) uri.password = userinfo.sliced(pw + 1);
        if (uri.user.isEmpty())
            return fail(ErrorKind::Parse, QStringLiteral("Empty user part in URI"), hostBase, 400);
        if (!validUserOrPassword(uri.user, false))
            return fail(ErrorKind::Parse, QStringLiteral("Illegal character in URI user part"),
                        hostBase, 400);
        if (pw >= 0 && !validUserOrPassword(uri.password, true))
            return fail(ErrorKind::Parse, QStringLiteral("Illegal character in URI password"),
                        hostBase, 400);
        hostPart = rest.sliced(at + 1);
        hostBase += at + 1;
    }
    auto tail = parseHostPort(hostPart, uri.host, uri.ipv6Reference, uri.port, hostBase);
    if (!tail) return fail(tail.error());
    QByteArrayView after = *tail;
    const qsizetype question = chars::find(after, '?');
    if (question >= 0) {
        uri.headers = after.sliced(question + 1);
        after = after.first(question);
    }
    if (!after.isEmpty()) {
        if (after.front() != ';')
            return fail(ErrorKind::Parse, QStringLiteral("Unexpected text after URI host"),
                        hostBase, 400);
        uri.params = ParamList(after);
    }
    return uri;
}

QByteArray Uri::hostPort() const {
    QByteArray out;
    if (ipv6Reference) {
        out.append('[').append(host.data(), host.size()).append(']');
    } else {
        out.append(host.data(), host.size());
    }
    if (port) out.append(':').append(QByteArray::number(*port));
    return out;
}

QByteArray Uri::addressOfRecord() const {
    QByteArray out;
    if (scheme == UriScheme::Tel) return QByteArray("tel:").append(user.data(), user.size());
    out.append(scheme == UriScheme::Sips ? "sips:" : "sip:");
    if (!user.isEmpty()) out.append(percentDecode(user)).append('@');
    if (ipv6Reference) {
        out.append('[').append(host.toByteArray().toLower()).append(']');
    } else {
        out.append(host.toByteArray().toLower());
    }
    return out;
}

QByteArray Uri::transportParam() const {
    auto value = params.value("transport");
    return value ? value->toByteArray().toLower() : QByteArray();
}

bool uriEquivalent(const Uri& a, const Uri& b) {
    if (a.scheme != b.scheme) return false;
    if (a.scheme == UriScheme::Other) return a.text == b.text;
    if (a.scheme == UriScheme::Tel) return percentDecode(a.user) == percentDecode(b.user);
    if (percentDecode(a.user) != percentDecode(b.user)) return false;
    if (percentDecode(a.password) != percentDecode(b.password)) return false;
    if (a.host.compare(b.host, Qt::CaseInsensitive) != 0) return false;
    if (a.port != b.port) return false;
    // §19.1.4: user, ttl, method and maddr must match when present in either; other
    // parameters only when present in both.
    for (QByteArrayView name :
         {QByteArrayView("transport"), QByteArrayView("user"), QByteArrayView("ttl"),
          QByteArrayView("method"), QByteArrayView("maddr")}) {
        auto va = a.params.value(name);
        auto vb = b.params.value(name);
        if (va.has_value() != vb.has_value()) return false;
        if (va && va->compare(*vb, Qt::CaseInsensitive) != 0) return false;
    }
    // Header components are never ignored: the same set, in any order (§19.1.4).
    auto headerSet = [](QByteArrayView headers) {
        QList<QByteArray> items;
        for (QByteArrayView item : QByteArrayView(headers).toByteArray().split('&'))
            if (!item.isEmpty()) items.append(percentDecode(item));
        std::sort(items.begin(), items.end());
        return items;
    };
    if (headerSet(a.headers) != headerSet(b.headers)) return false;
    bool same = true;
    a.params.forEach([&](QByteArrayView name, QByteArrayView value, bool) {
        auto other = b.params.value(name);
        if (other && percentDecode(*other).toLower() != percentDecode(value).toLower())
            same = false;
        return same;
    });
    return same;
}

}  // namespace sb::sip
