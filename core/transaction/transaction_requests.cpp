#include "transaction/transaction_requests.h"

namespace sb::transaction {

namespace {

QByteArrayView protocolText(transport::Protocol protocol) {
    switch (protocol) {
        case transport::Protocol::Udp:
            return "UDP";
        case transport::Protocol::Tcp:
            return "TCP";
        case transport::Protocol::Tls:
            return "TLS";
    }
    return "UDP";
}

void copyHeaders(const sip::Message& from, sip::Message& to, sip::HeaderId id) {
    for (const sip::HeaderField& field : from.headers()) {
        if (field.id == id) to.addHeader(id, field.value.toByteArray());
    }
}

// Requests built from another request start with the same mandatory header fields.
sip::Message copyCommon(const sip::Message& invite, sip::Method method, QByteArray toValue) {
    sip::Message request = sip::Message::request(method, invite.requestUri().toByteArray());
    // The single top Via (a comma-separated first field may hold more than one).
    request.addHeader(sip::HeaderId::Via, invite.values(sip::HeaderId::Via).value(0).toByteArray());
    request.addHeader(sip::HeaderId::MaxForwards, "70");
    request.addHeader(sip::HeaderId::From, invite.header(sip::HeaderId::From).toByteArray());
    request.addHeader(sip::HeaderId::To, std::move(toValue));
    request.addHeader(sip::HeaderId::CallId, invite.callId().toByteArray());
    const quint32 number =
        invite.cseq().map([](const sip::CSeq& c) { return c.number; }).value_or(0);
    request.addHeader(sip::HeaderId::CSeq,
                      QByteArray::number(number) + ' ' + sip::methodName(method).toByteArray());
    copyHeaders(invite, request, sip::HeaderId::Route);
    return request;
}

}  // namespace

QByteArray newBranch(base::Random& random) {
    return sip::kMagicCookie.toByteArray() + random.token(20);
}

QByteArray viaValue(const std::optional<transport::Endpoint>& local, transport::Protocol protocol,
                    QByteArrayView branch) {
    // "SIP/2.0/UDP host:port" of the last endpoint asked for: every request leaves through
    // the same few, and QHostAddress::toString() cost more than the rest of the Via.
    thread_local std::optional<transport::Endpoint> lastLocal;
    thread_local transport::Protocol lastProtocol = transport::Protocol::Udp;
    thread_local QByteArray lastPrefix;
    if (lastPrefix.isEmpty() || lastLocal != local || lastProtocol != protocol) {
        QByteArray sentBy = "0.0.0.0";
        if (local && !local->address.isNull()) {
            sentBy = local->address.toString().toLatin1();
            if (local->address.protocol() == QAbstractSocket::IPv6Protocol)
                sentBy = '[' + sentBy + ']';
            if (local->port != 0) sentBy += ':' + QByteArray::number(local->port);
        }
        lastPrefix = "SIP/2.0/" + protocolText(protocol).toByteArray() + ' ' + sentBy;
        lastLocal = local;
        lastProtocol = protocol;
    }
    QByteArray out;
    out.reserve(lastPrefix.size() + branch.size() + 15);
    out += lastPrefix;
    out += ";branch=";
    out += branch;
    out += ";rport";
    return out;
}

sip::Message makeAckForFailure(const sip::Message& invite, const sip::Message& response) {
    return copyCommon(invite, sip::Method::Ack, response.header(sip::HeaderId::To).toByteArray());
}

sip::Message makeCancel(const sip::Message& invite, const QByteArray& reasonHeader) {
    sip::Message cancel =
        copyCommon(invite, sip::Method::Cancel, invite.header(sip::HeaderId::To).toByteArray());
    if (!reasonHeader.isEmpty()) cancel.addHeader(sip::HeaderId::Reason, reasonHeader);
    return cancel;
}

}  // namespace sb::transaction
