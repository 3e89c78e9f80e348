#include "transaction/server_transaction.h"

#include "base/log.h"

namespace sb::transaction {

ServerTransaction::ServerTransaction(TransactionContext& context, TransactionId id,
                                     transport::IncomingMessage request)
    : m_context(context), m_id(id), m_request(std::move(request)) {}

QByteArray ServerTransaction::lastResponseToTag() const {
    if (!m_hasResponse) return {};
    auto to = m_lastResponse.to();
    return to ? to->tag().toByteArray() : QByteArray();
}

void ServerTransaction::terminate() {
    stopTimers();
    if (m_state == State::Terminated) return;
    m_state = State::Terminated;
    m_context.terminatedServers.push_back(m_id);
}

Result<void> ServerTransaction::sendNew(sip::Message response) {
    m_lastResponse = std::move(response);
    m_hasResponse = true;
    return m_context.transport.sendResponse(m_lastResponse, m_request.source, m_request.connection);
}

void ServerTransaction::resendLast() {
    if (!m_hasResponse) return;
    auto sent =
        m_context.transport.sendResponse(m_lastResponse, m_request.source, m_request.connection);
    if (!sent)
        qCDebug(lcTransaction) << "server transaction" << m_id
                               << "resend failed:" << sent.error().reason;
}

}  // namespace sb::transaction
