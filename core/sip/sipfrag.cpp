#include "sip/sipfrag.h"

#include <algorithm>

namespace sb::sip {

namespace {

// A status line longer than this is no status line (and is not echoed back whole).
constexpr qsizetype kMaxLine = 1024;

Unexpected malformed(QString reason) {
    return fail(ErrorKind::Protocol, std::move(reason));
}

bool isDigit(char c) {
    return c >= '0' && c <= '9';
}

}  // namespace

Result<SipFragStatus> parseSipFragStatus(QByteArrayView body) {
    if (body.trimmed().isEmpty()) return malformed(QStringLiteral("empty sipfrag body"));
    qsizetype end = body.indexOf('\n');
    if (end < 0) end = body.size();
    QByteArrayView line = body.first(end);
    if (line.endsWith('\r')) line.chop(1);
    if (line.size() > kMaxLine) return malformed(QStringLiteral("sipfrag status line too long"));
    const bool control = std::any_of(line.begin(), line.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return (byte < 0x20 && c != '\t') || byte == 0x7f;
    });
    if (control) return malformed(QStringLiteral("control character in the sipfrag status line"));

    // RFC 3261 §25.1: Status-Line = SIP-Version SP Status-Code SP Reason-Phrase.
    static constexpr QByteArrayView kVersion = "SIP/2.0";
    if (line.size() < kVersion.size() ||
        line.first(kVersion.size()).compare(kVersion, Qt::CaseInsensitive) != 0) {
        return malformed(QStringLiteral("sipfrag does not start with a SIP/2.0 status line"));
    }
    QByteArrayView rest = line.sliced(kVersion.size());
    if (rest.isEmpty() || (rest.front() != ' ' && rest.front() != '\t'))
        return malformed(QStringLiteral("sipfrag does not start with a SIP/2.0 status line"));
    rest = rest.trimmed();
    if (rest.size() < 3 || !isDigit(rest[0]) || !isDigit(rest[1]) || !isDigit(rest[2]) ||
        (rest.size() > 3 && rest[3] != ' ' && rest[3] != '\t')) {
        return malformed(QStringLiteral("sipfrag status code is not three digits"));
    }
    const int code = (rest[0] - '0') * 100 + (rest[1] - '0') * 10 + (rest[2] - '0');
    if (code < 100 || code > 699)
        return malformed(QStringLiteral("sipfrag status code %1 is out of range").arg(code));
    SipFragStatus status;
    status.statusCode = code;
    status.reasonPhrase = rest.sliced(3).trimmed().toByteArray();
    return status;
}

bool isSipFragContentType(QByteArrayView contentType) {
    qsizetype end = contentType.indexOf(';');
    if (end < 0) end = contentType.size();
    return contentType.first(end).trimmed().compare("message/sipfrag", Qt::CaseInsensitive) == 0;
}

}  // namespace sb::sip
