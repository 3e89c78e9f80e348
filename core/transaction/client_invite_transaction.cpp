#include "transaction/client_invite_transaction.h"

#include "base/log.h"
#include "transaction/transaction_requests.h"

namespace sb::transaction {

ClientInviteTransaction::ClientInviteTransaction(TransactionContext& context, TransactionId id,
                                                 QByteArray key, sip::Message request,
                                                 transport::Endpoint destination,
                                                 ClientTransactionUser* user)
    : ClientTransaction(context, id, std::move(key), std::move(request), std::move(destination),
                        user),
      m_timerA(context),
      m_timerB(context),
      m_timerD(context),
      m_timerM(context),
      m_cancelTimer(context) {
    setState(State::Calling);
}

void ClientInviteTransaction::start() {
    // §17.1.1.2: Timer A only for unreliable transports; Timer B always.
    if (!isReliable()) m_timerA.start(context().values.t1, [this] { onTimerA(); });
    m_timerB.start(context().timeout64(), [this] { onTimerB(); });
}

void ClientInviteTransaction::onTimerA() {
    if (state() != State::Calling) return;
    const base::Duration next = 2 * m_timerA.interval();  // §17.1.1.2: A doubles, no cap for INVITE
    if (!retransmit()) return;
    m_timerA.start(next, [this] { onTimerA(); });
}

void ClientInviteTransaction::onTimerB() {
    if (state() != State::Calling) return;
    terminate();
    reportTimeout();
}

void ClientInviteTransaction::onResponse(const sip::Message& response) {
    const int status = response.statusCode();
    if (status < 200) {
        if (state() == State::Calling) {
            // §17.1.1.2: a provisional response stops the retransmissions and Timer B.
            m_timerA.stop();
            m_timerB.stop();
            setState(State::Proceeding);
        }
        if (state() == State::Proceeding) reportProvisional(response);
        return;
    }
    if (status < 300) {
        if (state() == State::Calling || state() == State::Proceeding) {
            stopTimers();
            setState(State::Accepted);
            // RFC 6026 §7.2: Timer M keeps the transaction to pass further 2xx up.
            m_timerM.start(context().timeout64(), [this] { terminate(); });
            reportFinal(response);
        } else if (state() == State::Accepted) {
            reportFinal(response);
        }
        return;
    }
    switch (state()) {
        case State::Calling:
        case State::Proceeding: {
            stopTimers();
            setState(State::Completed);
            // §17.1.1.3: the ACK for a non-2xx belongs to the transaction.
            m_ack = makeAckForFailure(request(), response);
            if (auto sent = context().transport.sendRequest(m_ack, destination()); !sent) {
                qCDebug(lcTransaction) << "ACK for" << status << "not sent:" << sent.error().reason;
            }
            if (isReliable()) {
                terminate();  // Timer D is 0 over reliable transports
            } else {
                m_timerD.start(kTimerDUnreliable, [this] { terminate(); });
            }
            reportFinal(response);
            break;
        }
        case State::Completed:
            // A retransmitted final response: the ACK was lost; send it again, tell nobody.
            if (auto sent = context().transport.sendRequest(m_ack, destination()); !sent) {
                qCDebug(lcTransaction) << "ACK retransmission not sent:" << sent.error().reason;
            }
            break;
        default:
            break;
    }
}

void ClientInviteTransaction::requestCancel(QByteArray reasonHeader) {
    if (m_cancelRequested) return;
    m_cancelRequested = true;
    m_cancelReason = std::move(reasonHeader);
}

void ClientInviteTransaction::noteCancelSent() {
    m_cancelSent = true;
    m_cancelTimer.start(context().timeout64(), [this] { onCancelTimeout(); });
}

void ClientInviteTransaction::onCancelTimeout() {
    if (state() != State::Calling && state() != State::Proceeding) return;
    terminate();
    reportTimeout();
}

void ClientInviteTransaction::stopTimers() {
    m_timerA.stop();
    m_timerB.stop();
    m_timerD.stop();
    m_timerM.stop();
    m_cancelTimer.stop();
}

}  // namespace sb::transaction
