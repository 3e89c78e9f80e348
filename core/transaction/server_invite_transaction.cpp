#include "transaction/server_invite_transaction.h"

#include <algorithm>

#include "base/log.h"

namespace sb::transaction {

ServerInviteTransaction::ServerInviteTransaction(TransactionContext& context, TransactionId id,
                                                 transport::IncomingMessage request)
    : ServerTransaction(context, id, std::move(request)),
      m_tryingTimer(context),
      m_timerG(context),
      m_timerH(context),
      m_timerI(context),
      m_timerL(context),
      m_retransmit2xx(context) {
    setState(State::Proceeding);
}

void ServerInviteTransaction::start() {
    // §17.2.1: 100 Trying unless the TU answers within 200 ms.
    m_tryingTimer.start(kTryingDelay, [this] { onTrying(); });
}

void ServerInviteTransaction::onTrying() {
    if (state() != State::Proceeding || hasResponse()) return;
    if (auto sent = sendNew(sip::makeResponse(request(), 100)); !sent) {
        qCDebug(lcTransaction) << "100 Trying not sent:" << sent.error().reason;
    }
}

void ServerInviteTransaction::onRetransmission() {
    // §17.2.1: Proceeding and Completed answer with the last response; Confirmed and
    // Accepted absorb (RFC 6026 §7.1: the TU retransmits a 2xx, not the request).
    if (state() == State::Proceeding || state() == State::Completed) resendLast();
}

Result<void> ServerInviteTransaction::respond(sip::Message response) {
    const int status = response.statusCode();
    if (state() == State::Accepted) {
        if (status < 200 || status >= 300)
            return fail(ErrorKind::Protocol, QStringLiteral("INVITE already answered 2xx"));
        // RFC 6026 §8.5: a 2xx from the TU in Accepted is passed to the transport.
        return sendNew(std::move(response));
    }
    if (state() != State::Proceeding)
        return fail(ErrorKind::Protocol, QStringLiteral("INVITE already has a final response"));
    m_tryingTimer.stop();
    if (status < 200) return sendNew(std::move(response));

    auto sent = sendNew(std::move(response));
    if (status < 300) {
        setState(State::Accepted);
        m_timerL.start(context().timeout64(), [this] { onTimerL(); });
        // §13.3.1.4 retransmissions are the UAS core's; a proxy forwards the UAS's own.
        if (!m_proxied) m_retransmit2xx.start(context().values.t1, [this] { on2xxRetransmit(); });
    } else {
        setState(State::Completed);
        // §17.2.1: Completed and Confirmed only re-send this response and wait for the
        // ACK, matched by key; the request can go. (Accepted keeps it: the TU may
        // still send another 2xx, RFC 6026 §8.5, built from serverRequest().)
        scheduleCompact();
        if (!isReliable()) m_timerG.start(context().values.t1, [this] { onTimerG(); });
        m_timerH.start(context().timeout64(), [this] { onTimerH(); });
    }
    if (!sent) {
        // §17.2.4: the final response could not be sent; the TU learns it here.
        terminate();
    }
    return sent;
}

bool ServerInviteTransaction::onAck() {
    switch (state()) {
        case State::Completed:
            m_timerG.stop();
            m_timerH.stop();
            setState(State::Confirmed);
            // Timer I absorbs ACK retransmissions: T4 unreliable, 0 reliable.
            if (isReliable()) {
                terminate();
            } else {
                m_timerI.start(context().values.t4, [this] { terminate(); });
            }
            return false;
        case State::Accepted:
            m_ackReceived = true;
            m_retransmit2xx.stop();
            return true;
        default:
            return false;
    }
}

void ServerInviteTransaction::onTimerG() {
    if (state() != State::Completed) return;
    const base::Duration next = std::min(2 * m_timerG.interval(), context().values.t2);
    resendLast();
    m_timerG.start(next, [this] { onTimerG(); });
}

void ServerInviteTransaction::onTimerH() {
    if (state() != State::Completed) return;
    terminate();
    if (context().serverUser) context().serverUser->onAckTimeout(id());
}

void ServerInviteTransaction::on2xxRetransmit() {
    if (state() != State::Accepted || m_ackReceived) return;
    const base::Duration next = std::min(2 * m_retransmit2xx.interval(), context().values.t2);
    resendLast();
    m_retransmit2xx.start(next, [this] { on2xxRetransmit(); });
}

void ServerInviteTransaction::onTimerL() {
    // A proxy sees the ACK only when it is on the route (Record-Route); a missing ACK is
    // the UAS's business, which ends the session itself.
    const bool report = !m_ackReceived && !m_proxied;
    terminate();
    if (report && context().serverUser) context().serverUser->onAckTimeout(id());
}

void ServerInviteTransaction::stopTimers() {
    m_tryingTimer.stop();
    m_timerG.stop();
    m_timerH.stop();
    m_timerI.stop();
    m_timerL.stop();
    m_retransmit2xx.stop();
}

}  // namespace sb::transaction
