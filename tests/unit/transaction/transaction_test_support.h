#pragma once

// Shared by the transaction unit tests: recording TUs and message builders.

#include <QByteArray>

#include <functional>
#include <vector>

#include "base/error.h"
#include "sip/message.h"
#include "transaction/transaction_layer.h"
#include "transport/transport.h"

namespace sb::test {

// Records what a client transaction reports.
class RecordingClientUser final : public transaction::ClientTransactionUser {
public:
    struct Event {
        enum Kind { Provisional, Final, Timeout, TransportError } kind;
        transaction::TransactionId id;
        int status = 0;
        QByteArray toTag;
    };

    void onProvisional(transaction::TransactionId id, const sip::Message& response) override {
        record({Event::Provisional, id, response.statusCode(), tagOf(response)});
    }
    void onFinal(transaction::TransactionId id, const sip::Message& response) override {
        record({Event::Final, id, response.statusCode(), tagOf(response)});
    }
    void onTimeout(transaction::TransactionId id) override { record({Event::Timeout, id, 0, {}}); }
    void onTransportError(transaction::TransactionId id, const Error& error) override {
        lastError = error;
        record({Event::TransportError, id, 0, {}});
    }

    int count(Event::Kind kind) const {
        int n = 0;
        for (const Event& e : events)
            n += e.kind == kind ? 1 : 0;
        return n;
    }
    std::vector<int> statuses(Event::Kind kind) const {
        std::vector<int> out;
        for (const Event& e : events)
            if (e.kind == kind) out.push_back(e.status);
        return out;
    }

    std::vector<Event> events;
    Error lastError;
    // Runs after each event is recorded (tests that call back into the layer).
    std::function<void(const Event&)> hook;

private:
    void record(Event event) {
        events.push_back(event);
        if (hook) hook(Event(events.back()));
    }
    static QByteArray tagOf(const sip::Message& m) {
        auto to = m.to();
        return to ? to->tag().toByteArray() : QByteArray();
    }
};

// Records what the server side reports; can answer requests from inside onRequest.
class RecordingServerUser final : public transaction::ServerTransactionUser {
public:
    void onRequest(transaction::TransactionId id,
                   const transport::IncomingMessage& request) override {
        requests.push_back({id, request.message});
        if (onRequestHook) onRequestHook(id, request);
    }
    void onCancel(transaction::TransactionId inviteId,
                  const transport::IncomingMessage& cancel) override {
        cancels.push_back({inviteId, cancel.message});
    }
    void onAck(const transport::IncomingMessage& ack) override { acks.push_back(ack.message); }
    void onStrayResponse(const transport::IncomingMessage& response) override {
        strays.push_back(response.message);
    }
    void onAckTimeout(transaction::TransactionId inviteId) override {
        ackTimeouts.push_back(inviteId);
    }

    struct Received {
        transaction::TransactionId id;
        sip::Message message;
    };
    std::vector<Received> requests;
    std::vector<Received> cancels;
    std::vector<sip::Message> acks;
    std::vector<sip::Message> strays;
    std::vector<transaction::TransactionId> ackTimeouts;
    std::function<void(transaction::TransactionId, const transport::IncomingMessage&)>
        onRequestHook;
};

inline transport::Endpoint peerEndpoint(transport::Protocol protocol = transport::Protocol::Udp) {
    transport::Endpoint e;
    e.protocol = protocol;
    e.address = QHostAddress(QStringLiteral("127.0.0.2"));
    e.port = 5070;
    return e;
}

// A request as a UAC would build it before the transaction layer adds the Via.
inline sip::Message outgoingRequest(sip::Method method, quint32 cseq = 1,
                                    QByteArray callId = "call-1@test") {
    sip::Message m = sip::Message::request(method, "sip:bob@127.0.0.2:5070");
    m.addHeader(sip::HeaderId::From, "\"Alice\" <sip:alice@test>;tag=alice-tag");
    m.addHeader(sip::HeaderId::To, "<sip:bob@test>");
    m.addHeader(sip::HeaderId::CallId, callId);
    m.addHeader(sip::HeaderId::CSeq,
                QByteArray::number(cseq) + ' ' + sip::methodName(method).toByteArray());
    m.addHeader(sip::HeaderId::Contact, "<sip:alice@127.0.0.1:5060>");
    return m;
}

// A request as it arrives from a peer (with the peer's Via).
inline sip::Message incomingRequest(sip::Method method, QByteArray branch = "z9hG4bK-peer-1",
                                    quint32 cseq = 1, QByteArray toTag = {}) {
    sip::Message m = sip::Message::request(method, "sip:alice@127.0.0.1:5060");
    m.addHeader(sip::HeaderId::Via, "SIP/2.0/UDP 127.0.0.2:5070;branch=" + branch + ";rport");
    m.addHeader(sip::HeaderId::MaxForwards, "70");
    m.addHeader(sip::HeaderId::From, "<sip:bob@test>;tag=bob-tag");
    m.addHeader(sip::HeaderId::To,
                toTag.isEmpty() ? QByteArray("<sip:alice@test>") : "<sip:alice@test>;tag=" + toTag);
    m.addHeader(sip::HeaderId::CallId, "peer-call@test");
    m.addHeader(sip::HeaderId::CSeq,
                QByteArray::number(cseq) + ' ' + sip::methodName(method).toByteArray());
    m.addHeader(sip::HeaderId::Contact, "<sip:bob@127.0.0.2:5070>");
    return m;
}

}  // namespace sb::test
