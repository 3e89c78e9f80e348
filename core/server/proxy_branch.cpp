#include "server/proxy_branch.h"

#include <QCryptographicHash>

namespace sb::server {

namespace {

constexpr QByteArrayView kMarker = "sb";
constexpr qsizetype kHashLength = 16;

QByteArrayView tagOf(const Result<sip::NameAddr>& header) {
    return header ? header->tag() : QByteArrayView();
}

bool isHexDigit(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

}  // namespace

QByteArray shortHash(QByteArrayView text) {
    return QCryptographicHash::hash(text, QCryptographicHash::Sha1).toHex().left(kHashLength);
}

QByteArray loopHash(const sip::Message& request) {
    QCryptographicHash hash(QCryptographicHash::Sha1);
    auto add = [&hash](QByteArrayView part) {
        hash.addData(part);
        hash.addData(QByteArrayView("\n"));
    };
    add(request.requestUri());
    add(tagOf(request.from()));
    add(tagOf(request.to()));
    add(request.callId());
    add(QByteArray::number(
        request.cseq().map([](const sip::CSeq& c) { return c.number; }).value_or(0)));
    for (const sip::HeaderField& field : request.headers()) {
        const bool routing = field.id == sip::HeaderId::Route ||
                             field.id == sip::HeaderId::ProxyRequire ||
                             field.id == sip::HeaderId::ProxyAuthorization;
        if (!routing) continue;
        add(sip::canonicalHeaderName(field.id));
        add(field.value);
    }
    return hash.result().toHex().left(kHashLength);
}

QByteArray makeBranch(QByteArrayView loopHash, QByteArrayView unique) {
    return sip::kMagicCookie.toByteArray() + kMarker.toByteArray() + loopHash.toByteArray() + '.' +
           unique.toByteArray();
}

std::optional<QByteArrayView> loopHashOfBranch(QByteArrayView branch) {
    const qsizetype prefix = sip::kMagicCookie.size() + kMarker.size();
    if (branch.size() < prefix + kHashLength + 2) return std::nullopt;
    if (!branch.startsWith(sip::kMagicCookie) ||
        branch.sliced(sip::kMagicCookie.size(), 2) != kMarker)
        return std::nullopt;
    const QByteArrayView hash = branch.sliced(prefix, kHashLength);
    for (char c : hash) {
        if (!isHexDigit(c)) return std::nullopt;
    }
    if (branch[prefix + kHashLength] != '.') return std::nullopt;
    return hash;
}

bool removeTopVia(sip::Message& message) {
    if (!message.has(sip::HeaderId::Via)) return false;
    const sip::ValueList values = sip::splitCommaList(message.header(sip::HeaderId::Via));
    if (values.size() <= 1) return message.removeFirstHeader(sip::HeaderId::Via);
    QByteArray rest;
    for (qsizetype i = 1; i < values.size(); ++i) {
        if (!rest.isEmpty()) rest += ", ";
        rest += values[i].toByteArray();
    }
    return message.replaceFirstHeader(sip::HeaderId::Via, rest);
}

}  // namespace sb::server
