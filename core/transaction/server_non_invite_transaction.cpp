#include "transaction/server_non_invite_transaction.h"

namespace sb::transaction {

ServerNonInviteTransaction::ServerNonInviteTransaction(TransactionContext& context,
                                                       TransactionId id,
                                                       transport::IncomingMessage request)
    : ServerTransaction(context, id, std::move(request)), m_timerJ(context) {
    setState(State::Trying);
}

void ServerNonInviteTransaction::onRetransmission() {
    // Completed without a final response (endWithoutResponse) absorbs: re-sending a
    // provisional after giving up would only prolong the client's wait.
    if (state() == State::Proceeding || (state() == State::Completed && hasFinalResponse()))
        resendLast();
}

Result<void> ServerNonInviteTransaction::respond(sip::Message response) {
    if (state() != State::Trying && state() != State::Proceeding)
        return fail(ErrorKind::Protocol, QStringLiteral("request already has a final response"));
    if (response.statusCode() < 200) {
        setState(State::Proceeding);
        return sendNew(std::move(response));
    }
    setState(State::Completed);
    auto sent = sendNew(std::move(response));
    // §17.2.2: from here on only the response is re-sent; the request can go.
    scheduleCompact();
    if (!sent || isReliable()) {
        terminate();  // §17.2.4 on failure; Timer J is 0 over reliable transports
    } else {
        m_timerJ.start(context().timeout64(), [this] { terminate(); });
    }
    return sent;
}

Result<void> ServerNonInviteTransaction::endWithoutResponse() {
    if (state() != State::Trying && state() != State::Proceeding)
        return fail(ErrorKind::Protocol, QStringLiteral("request already has a final response"));
    setState(State::Completed);
    scheduleCompact();
    if (isReliable()) {
        terminate();  // no retransmissions to absorb over a reliable transport
    } else {
        m_timerJ.start(context().timeout64(), [this] { terminate(); });
    }
    return {};
}

void ServerNonInviteTransaction::stopTimers() {
    m_timerJ.stop();
}

}  // namespace sb::transaction
