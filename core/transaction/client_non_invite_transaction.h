#pragma once

#include "transaction/client_transaction.h"

namespace sb::transaction {

// RFC 3261 §17.1.2 non-INVITE client transaction.
//
//   Trying ──1xx──► Proceeding ──200-699──► Completed ──Timer K──► Terminated
//   Timer E retransmits (unreliable only): T1, doubling up to T2; T2 in Proceeding.
//   Timer F (64*T1) times out in Trying and Proceeding. K is T4 unreliable, 0 reliable.
class ClientNonInviteTransaction final : public ClientTransaction {
public:
    ClientNonInviteTransaction(TransactionContext& context, TransactionId id, QByteArray key,
                               sip::Message request, transport::Endpoint destination,
                               ClientTransactionUser* user);

    bool isInvite() const override { return false; }
    void start() override;
    void onResponse(const sip::Message& response) override;

private:
    void stopTimers() override;
    void onTimerE();
    void onTimerF();

    TransactionTimer m_timerE;
    TransactionTimer m_timerF;
    TransactionTimer m_timerK;
};

}  // namespace sb::transaction
