#pragma once

#include "transaction/server_transaction.h"

namespace sb::transaction {

// RFC 3261 §17.2.2 non-INVITE server transaction.
//
//   Trying ──1xx──► Proceeding ──200-699──► Completed ──Timer J──► Terminated
//   Trying absorbs retransmitted requests; Proceeding and Completed answer them with
//   the last response. J is 64*T1 unreliable, 0 reliable.
//   RFC 4320 §4.2: a TU that will not answer (a proxy whose branches all timed out)
//   moves it to Completed without a final response, where retransmissions are absorbed.
class ServerNonInviteTransaction final : public ServerTransaction {
public:
    ServerNonInviteTransaction(TransactionContext& context, TransactionId id,
                               transport::IncomingMessage request);

    bool isInvite() const override { return false; }
    void onRetransmission() override;
    Result<void> respond(sip::Message response) override;
    Result<void> endWithoutResponse() override;

private:
    void stopTimers() override;

    TransactionTimer m_timerJ;
};

}  // namespace sb::transaction
