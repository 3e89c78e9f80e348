#include "transaction/transaction_key.h"

namespace sb::transaction {

namespace {

constexpr char kSeparator = '\x1f';  // cannot appear in any of the header values joined

QByteArray join(std::initializer_list<QByteArrayView> parts) {
    QByteArray key;
    for (QByteArrayView part : parts) {
        key += part;
        key += kSeparator;
    }
    return key;
}

QByteArrayView tagOf(const Result<sip::NameAddr>& nameAddr) {
    return nameAddr ? nameAddr->tag() : QByteArrayView();
}

}  // namespace

QByteArray clientKey(QByteArrayView branch, QByteArrayView method) {
    return join({branch, method});
}

std::optional<QByteArray> clientKeyOfResponse(const sip::Message& response) {
    auto via = response.topVia();
    auto cseq = response.cseq();
    if (!via || !cseq || via->branch().isEmpty()) return std::nullopt;
    return clientKey(via->branch(), cseq->methodName);
}

bool usesRfc2543Matching(const sip::Message& request) {
    auto via = request.topVia();
    return !via || !via->hasMagicCookie();
}

std::optional<QByteArray> serverKey(const sip::Message& request, QByteArrayView matchMethod) {
    return serverKey(request, matchMethod, tagOf(request.to()));
}

std::optional<QByteArray> serverKey(const sip::Message& request, QByteArrayView matchMethod,
                                    QByteArrayView toTag) {
    auto via = request.topVia();
    if (!via) return std::nullopt;
    if (via->hasMagicCookie()) {
        // Hosts compare case-insensitively; the port as written (a retransmission
        // repeats the Via byte for byte).
        const QByteArray host = via->host.toByteArray().toLower();
        const QByteArray port = via->port ? QByteArray::number(*via->port) : QByteArray();
        return join({"3261", via->branch(), host, port, matchMethod});
    }
    // RFC 3261 §17.2.3, last paragraphs: the RFC 2543 way.
    auto cseq = request.cseq();
    if (!cseq) return std::nullopt;
    const QByteArray topVia = request.values(sip::HeaderId::Via).value(0).toByteArray();
    return join({"2543", matchMethod, request.requestUri(), toTag, tagOf(request.from()),
                 request.callId(), QByteArray::number(cseq->number), topVia});
}

QByteArray dialogAckKey(QByteArrayView callId, QByteArrayView fromTag, QByteArrayView toTag,
                        quint32 cseqNumber) {
    return join({"ack", callId, fromTag, toTag, QByteArray::number(cseqNumber)});
}

std::optional<QByteArray> dialogAckKeyOfAck(const sip::Message& ack) {
    auto cseq = ack.cseq();
    if (!cseq) return std::nullopt;
    return dialogAckKey(ack.callId(), tagOf(ack.from()), tagOf(ack.to()), cseq->number);
}

}  // namespace sb::transaction
