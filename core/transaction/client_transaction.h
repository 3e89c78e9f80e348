#pragma once

#include <QByteArray>

#include <cstddef>

#include "sip/message.h"
#include "transaction/transaction_context.h"
#include "transaction/transaction_layer.h"
#include "transport/transport.h"

namespace sb::transaction {

// What the two client state machines (§17.1.1, §17.1.2) share: the request as sent,
// where it went, the TU, and the way they retransmit and report.
class ClientTransaction {
public:
    // The RFC's state names; Calling is INVITE only, Trying non-INVITE only, Accepted is
    // RFC 6026's state for an INVITE answered 2xx.
    enum class State { Calling, Trying, Proceeding, Completed, Accepted, Terminated };

    ClientTransaction(TransactionContext& context, TransactionId id, QByteArray key,
                      sip::Message request, transport::Endpoint destination,
                      ClientTransactionUser* user);
    virtual ~ClientTransaction() = default;
    // Client transactions come and go by the thousand a second, and each is over a
    // kilobyte (its request's inline header fields): more than malloc's per-thread
    // caches keep, so every one took malloc's slow path. Freed blocks are kept for the
    // next transaction of the same size.
    static void* operator new(std::size_t size);
    static void operator delete(void* block, std::size_t size);
    ClientTransaction(const ClientTransaction&) = delete;
    ClientTransaction& operator=(const ClientTransaction&) = delete;

    TransactionId id() const { return m_id; }
    const QByteArray& key() const { return m_key; }
    const sip::Message& request() const { return m_request; }
    // The endpoint the transport really used for the first send (retransmissions and
    // the ACK go there too).
    const transport::Endpoint& destination() const { return m_destination; }
    State state() const { return m_state; }
    bool isTerminated() const { return m_state == State::Terminated; }
    virtual bool isInvite() const = 0;

    void forgetUser() { m_user = nullptr; }
    const ClientTransactionUser* user() const { return m_user; }

    // The request went out for the first time: start the timers.
    virtual void start() = 0;
    virtual void onResponse(const sip::Message& response) = 0;
    // The flow to the destination failed (RFC 3261 §17.1.4); ignored once a final
    // response has arrived.
    void onFlowFailed(const Error& error);

protected:
    bool isReliable() const { return transport::isReliable(m_destination.protocol); }
    TransactionContext& context() { return m_context; }
    // Sends `message` to the destination; a failure is reported to the TU and ends
    // the transaction. Returns whether it was sent.
    bool send(sip::Message& message);
    bool retransmit() { return send(m_request); }

    void setState(State state) { m_state = state; }
    void terminate();
    virtual void stopTimers() = 0;

    // TU callbacks, skipped once the TU has called forget().
    void reportProvisional(const sip::Message& response);
    void reportFinal(const sip::Message& response);
    void reportTimeout();
    void reportTransportError(const Error& error);

private:
    TransactionContext& m_context;
    TransactionId m_id;
    QByteArray m_key;
    sip::Message m_request;
    transport::Endpoint m_destination;
    ClientTransactionUser* m_user;
    State m_state = State::Trying;
};

}  // namespace sb::transaction
