#pragma once

#include <QByteArray>

#include <vector>

#include "sip/message.h"
#include "transaction/transaction_context.h"
#include "transaction/transaction_layer.h"
#include "transport/transport.h"

namespace sb::transaction {

// What the two server state machines (§17.2.1, §17.2.2) share: the request that
// created the transaction, the last response sent, and how responses leave.
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
    const transport::IncomingMessage& incoming() const { return m_request; }
    const sip::Message& request() const { return m_request.message; }
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

    bool hasResponse() const { return m_hasResponse; }
    bool hasFinalResponse() const { return m_hasResponse && m_lastResponse.statusCode() >= 200; }
    const sip::Message& lastResponse() const { return m_lastResponse; }
    // The To tag of the last response sent; empty when none was sent or it had none.
    QByteArray lastResponseToTag() const;

protected:
    TransactionContext& context() { return m_context; }
    bool isReliable() const { return transport::isReliable(m_request.source.protocol); }
    void setState(State state) { m_state = state; }
    void terminate();
    virtual void stopTimers() = 0;

    // Sends `response` and remembers it as the last response (for retransmissions).
    Result<void> sendNew(sip::Message response);
    // Sends the last response again.
    void resendLast();

private:
    TransactionContext& m_context;
    TransactionId m_id;
    transport::IncomingMessage m_request;
    sip::Message m_lastResponse;
    bool m_hasResponse = false;
    State m_state = State::Trying;
    std::vector<QByteArray> m_keys;
};

}  // namespace sb::transaction
