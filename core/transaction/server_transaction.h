#pragma once

#include <QByteArray>

#include <memory>
#include <vector>

#include "sip/message.h"
#include "transaction/transaction_context.h"
#include "transaction/transaction_layer.h"
#include "transport/transport.h"

namespace sb::transaction {

// What the two server state machines (§17.2.1, §17.2.2) share: the request that
// created the transaction, the last response sent, and how responses leave.
//
// Memory: a console absorbs thousands of NOTIFYs a second and each non-INVITE server
// transaction lives 64*T1 (32 s) after its final response over UDP (Timer J, §17.2.2).
// In Completed all it still does is answer a retransmitted request with the same final
// response, so once the final response is sent (and the event that sent it is over,
// so the TU's reference to the request stays valid while it handles it) the request
// is dropped (compact()). The last response is kept as its wire bytes, never as a
// sip::Message (whose header index alone is over 1 KB and which shares the request's
// buffer). What remains is the key(s), the bytes, where to send them, and the timers.
class ServerTransaction {
public:
    // The RFC's state names; Confirmed and Accepted (RFC 6026) are INVITE only,
    // Trying is non-INVITE only.
    enum class State { Trying, Proceeding, Completed, Confirmed, Accepted, Terminated };

    ServerTransaction(TransactionContext& context, TransactionId id,
                      transport::IncomingMessage request);
    virtual ~ServerTransaction() = default;
    ServerTransaction(const ServerTransaction&) = delete;
    ServerTransaction& operator=(const ServerTransaction&) = delete;

    TransactionId id() const { return m_id; }
    // The request, until compact() dropped it: only call while hasRequest().
    const transport::IncomingMessage& incoming() const { return *m_request; }
    const sip::Message& request() const { return m_request->message; }
    bool hasRequest() const { return m_request != nullptr; }
    State state() const { return m_state; }
    bool isTerminated() const { return m_state == State::Terminated; }
    virtual bool isInvite() const = 0;

    // The index keys the layer filed this transaction under (removed when it is reaped).
    std::vector<QByteArray>& keys() { return m_keys; }

    virtual void start() {}
    // The request arrived again (§17.2.1, §17.2.2): absorbed or answered with the last
    // response, depending on the state.
    virtual void onRetransmission() = 0;
    // The TU answers.
    virtual Result<void> respond(sip::Message response) = 0;
    // The TU will not answer (RFC 4320 §4.2); only non-INVITE transactions allow it.
    virtual Result<void> endWithoutResponse() {
        return fail(ErrorKind::Protocol, QStringLiteral("an INVITE must be answered"));
    }

    bool hasResponse() const { return m_lastStatus != 0; }
    bool hasFinalResponse() const { return m_lastStatus >= 200; }
    int lastStatus() const { return m_lastStatus; }
    // The last response exactly as it was sent (and is re-sent); empty when none was.
    const QByteArray& lastResponseBytes() const { return m_lastResponse; }
    // The To tag of the last response sent; empty when none was sent or it had none.
    // Read from the kept bytes: only INVITE handling asks (§9.2, §17.2.3), never per NOTIFY.
    QByteArray lastResponseToTag() const;

    // Drops the request (serverRequest() then returns null). The layer calls it when
    // the event in which the transaction reached Completed is over.
    void compact() { m_request.reset(); }

protected:
    TransactionContext& context() { return m_context; }
    bool isReliable() const { return transport::isReliable(m_source.protocol); }
    void setState(State state) { m_state = state; }
    void terminate();
    // The request is no longer needed: dropped once the current event is over.
    void scheduleCompact();
    virtual void stopTimers() = 0;

    // Sends `response` and remembers it as the last response (for retransmissions).
    Result<void> sendNew(sip::Message response);
    // Sends the last response again, the same bytes.
    void resendLast();

private:
    TransactionContext& m_context;
    TransactionId m_id;
    std::unique_ptr<transport::IncomingMessage> m_request;
    // Where responses go (§18.2.2), kept apart from the request so it can be dropped.
    transport::Endpoint m_source;
    transport::ConnectionId m_connection = 0;
    QByteArray m_lastResponse;  // serialized
    int m_lastStatus = 0;
    State m_state = State::Trying;
    std::vector<QByteArray> m_keys;
};

}  // namespace sb::transaction
