#include "transaction/server_transaction.h"

#include "base/log.h"
#include "sip/parser.h"

namespace sb::transaction {

ServerTransaction::ServerTransaction(TransactionContext& context, TransactionId id,
                                     transport::IncomingMessage request)
    : m_context(context),
      m_id(id),
      m_request(std::make_unique<transport::IncomingMessage>(std::move(request))),
      m_source(m_request->source),
      m_connection(m_request->connection) {}

QByteArray ServerTransaction::lastResponseToTag() const {
    if (m_lastResponse.isEmpty()) return {};
    auto response = sip::Parser::parse(m_lastResponse);
    if (!response) return {};
    auto to = response->to();
    return to ? to->tag().toByteArray() : QByteArray();
}

void ServerTransaction::terminate() {
    stopTimers();
    if (m_state == State::Terminated) return;
    m_state = State::Terminated;
    m_context.terminatedServers.push_back(m_id);
}

void ServerTransaction::scheduleCompact() {
    m_context.completedServers.push_back(m_id);
}

Result<void> ServerTransaction::sendNew(sip::Message response) {
    auto sent = m_context.transport.sendResponse(response, m_source, m_connection);
    m_lastStatus = response.statusCode();
    m_lastResponse = response.serialize();
    return sent;
}

void ServerTransaction::resendLast() {
    if (m_lastResponse.isEmpty()) return;
    // Retransmissions are rare: the transport routes by the response's top Via
    // (§18.2.2), so the kept bytes are parsed again rather than a Message kept around.
    // The parsed message refers into m_lastResponse, which outlives the send.
    auto response = sip::Parser::parse(m_lastResponse);
    if (!response) {
        qCWarning(lcTransaction) << "server transaction" << m_id
                                 << "cannot re-read its response:" << response.error().reason;
        return;
    }
    auto sent = m_context.transport.sendResponse(*response, m_source, m_connection);
    if (!sent)
        qCDebug(lcTransaction) << "server transaction" << m_id
                               << "resend failed:" << sent.error().reason;
}

}  // namespace sb::transaction
