#pragma once

#include "transaction/server_transaction.h"

namespace sb::transaction {

// RFC 3261 §17.2.1 INVITE server transaction, with RFC 6026's Accepted state.
//
//   Proceeding ──300-699──► Completed ──ACK──► Confirmed ──Timer I──► Terminated
//       │  100 Trying after 200 ms      │ Timer G resends the final (unreliable only),
//       │  without a TU answer          │ Timer H (64*T1) gives up waiting for the ACK
//       └──2xx──► Accepted ──Timer L (64*T1)──► Terminated
//
// RFC 6026: a 2xx does not end the transaction. In Accepted, retransmitted INVITEs are
// absorbed (they never reach the TU as new requests) and the ACK for the 2xx is passed
// to the TU. On behalf of the UAS core, the 2xx is retransmitted here as §13.3.1.4
// asks: T1 doubling up to T2, over any transport, until the ACK arrives; when Timer L
// fires without one, the TU hears onAckTimeout() and should end the dialog (BYE).
// A proxied transaction (setProxied) forwards a downstream 2xx instead: no
// retransmissions and no onAckTimeout, only Timer L (RFC 6026 §7.1; the UAS retransmits
// its 2xx through the proxy and the ACK goes end to end).
class ServerInviteTransaction final : public ServerTransaction {
public:
    ServerInviteTransaction(TransactionContext& context, TransactionId id,
                            transport::IncomingMessage request);

    bool isInvite() const override { return true; }
    void start() override;
    void onRetransmission() override;
    Result<void> respond(sip::Message response) override;
    // An ACK matched this transaction. Returns whether the TU must see it (the ACK of a
    // 2xx); the ACK of a non-2xx stays inside the transaction (§17.2.1).
    bool onAck();
    bool ackReceived() const { return m_ackReceived; }
    // The TU is a proxy forwarding responses (ServerResponseOptions::proxied).
    void setProxied() { m_proxied = true; }
    bool isProxied() const { return m_proxied; }

    static constexpr base::Duration kTryingDelay{200};

private:
    void stopTimers() override;
    void onTrying();
    void onTimerG();
    void onTimerH();
    void onTimerL();
    void on2xxRetransmit();

    TransactionTimer m_tryingTimer;
    TransactionTimer m_timerG;
    TransactionTimer m_timerH;
    TransactionTimer m_timerI;
    TransactionTimer m_timerL;
    TransactionTimer m_retransmit2xx;
    bool m_ackReceived = false;
    bool m_proxied = false;
};

}  // namespace sb::transaction
