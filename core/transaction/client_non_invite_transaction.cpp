#include "transaction/client_non_invite_transaction.h"

#include <algorithm>

namespace sb::transaction {

ClientNonInviteTransaction::ClientNonInviteTransaction(TransactionContext& context,
                                                       TransactionId id, QByteArray key,
                                                       sip::Message request,
                                                       transport::Endpoint destination,
                                                       ClientTransactionUser* user)
    : ClientTransaction(context, id, std::move(key), std::move(request), std::move(destination),
                        user),
      m_timerE(context),
      m_timerF(context),
      m_timerK(context) {
    setState(State::Trying);
}

void ClientNonInviteTransaction::start() {
    if (!isReliable()) m_timerE.start(context().values.t1, [this] { onTimerE(); });
    m_timerF.start(context().timeout64(), [this] { onTimerF(); });
}

void ClientNonInviteTransaction::onTimerE() {
    if (state() != State::Trying && state() != State::Proceeding) return;
    // §17.1.2.2: E doubles up to T2 in Trying, and is T2 in Proceeding.
    const base::Duration next = state() == State::Trying
                                    ? std::min(2 * m_timerE.interval(), context().values.t2)
                                    : context().values.t2;
    if (!retransmit()) return;
    m_timerE.start(next, [this] { onTimerE(); });
}

void ClientNonInviteTransaction::onTimerF() {
    if (state() != State::Trying && state() != State::Proceeding) return;
    terminate();
    reportTimeout();
}

void ClientNonInviteTransaction::onResponse(const sip::Message& response) {
    if (state() != State::Trying && state() != State::Proceeding) return;  // Completed absorbs
    if (response.statusCode() < 200) {
        setState(State::Proceeding);
        reportProvisional(response);
        return;
    }
    m_timerE.stop();
    m_timerF.stop();
    setState(State::Completed);
    if (isReliable()) {
        terminate();  // Timer K is 0 over reliable transports
    } else {
        m_timerK.start(context().values.t4, [this] { terminate(); });
    }
    reportFinal(response);
}

void ClientNonInviteTransaction::stopTimers() {
    m_timerE.stop();
    m_timerF.stop();
    m_timerK.stop();
}

}  // namespace sb::transaction
