#include "transaction/client_transaction.h"

#include "base/log.h"

namespace sb::transaction {

ClientTransaction::ClientTransaction(TransactionContext& context, TransactionId id, QByteArray key,
                                     sip::Message request, transport::Endpoint destination,
                                     ClientTransactionUser* user)
    : m_context(context),
      m_id(id),
      m_key(std::move(key)),
      m_request(std::move(request)),
      m_destination(std::move(destination)),
      m_user(user) {}

bool ClientTransaction::send(sip::Message& message) {
    auto sent = m_context.transport.sendRequest(message, m_destination);
    if (sent) return true;
    qCDebug(lcTransaction) << "client transaction" << m_id << "send failed:" << sent.error().reason;
    terminate();
    reportTransportError(sent.error());
    return false;
}

void ClientTransaction::onFlowFailed(const Error& error) {
    if (m_state == State::Completed || m_state == State::Accepted || m_state == State::Terminated)
        return;
    terminate();
    reportTransportError(error);
}

void ClientTransaction::terminate() {
    stopTimers();
    if (m_state == State::Terminated) return;
    m_state = State::Terminated;
    m_context.terminatedClients.push_back(m_id);
}

void ClientTransaction::reportProvisional(const sip::Message& response) {
    if (m_user) m_user->onProvisional(m_id, response);
}

void ClientTransaction::reportFinal(const sip::Message& response) {
    if (m_user) m_user->onFinal(m_id, response);
}

void ClientTransaction::reportTimeout() {
    if (m_user) m_user->onTimeout(m_id);
}

void ClientTransaction::reportTransportError(const Error& error) {
    if (m_user) m_user->onTransportError(m_id, error);
}

}  // namespace sb::transaction
