#pragma once

#include <QByteArray>

#include "transaction/client_transaction.h"

namespace sb::transaction {

// RFC 3261 §17.1.1 INVITE client transaction, with RFC 6026's Accepted state: a 2xx
// moves it to Accepted for Timer M (64*T1), in which every further 2xx (retransmission
// or another fork's answer) is passed to the TU, whose dialog acknowledges each.
//
//   Calling ──1xx──► Proceeding ──2xx──► Accepted ──Timer M──► Terminated
//      │ Timer A retransmits (unreliable only), Timer B times out
//      └──300-699──► Completed (ACK sent here, resent per retransmitted final)
//                        └──Timer D (32 s unreliable, 0 reliable)──► Terminated
class ClientInviteTransaction final : public ClientTransaction {
public:
    ClientInviteTransaction(TransactionContext& context, TransactionId id, QByteArray key,
                            sip::Message request, transport::Endpoint destination,
                            ClientTransactionUser* user);

    bool isInvite() const override { return true; }
    void start() override;
    void onResponse(const sip::Message& response) override;

    // RFC 3261 §9.1: a CANCEL may only be sent once a provisional response arrived.
    // The layer asks for one; it waits here until then.
    void requestCancel(QByteArray reasonHeader);
    bool cancelRequested() const { return m_cancelRequested; }
    const QByteArray& cancelReason() const { return m_cancelReason; }
    bool cancelSent() const { return m_cancelSent; }
    // The CANCEL went out: §9.1, when no final response follows within 64*T1, the
    // INVITE is given up (reported as a timeout).
    void noteCancelSent();

    static constexpr base::Duration kTimerDUnreliable{32'000};

private:
    void stopTimers() override;
    void onTimerA();
    void onTimerB();
    void onCancelTimeout();

    TransactionTimer m_timerA;
    TransactionTimer m_timerB;
    TransactionTimer m_timerD;
    TransactionTimer m_timerM;
    TransactionTimer m_cancelTimer;
    sip::Message m_ack;
    bool m_cancelRequested = false;
    bool m_cancelSent = false;
    QByteArray m_cancelReason;
};

}  // namespace sb::transaction
