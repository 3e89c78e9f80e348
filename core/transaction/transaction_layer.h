#pragma once

#include <QtGlobal>

#include <chrono>
#include <functional>
#include <memory>
#include <unordered_map>

#include "base/random.h"
#include "base/result.h"
#include "base/timer_queue.h"
#include "sip/message.h"
#include "transport/transport.h"

namespace sb::transaction {

// RFC 3261 §17.1.1.1 timer base values, configurable (Table 4).
struct TimerValues {
    base::Duration t1{500};  // RTT estimate
    base::Duration t2{
        4000};  // maximum retransmit interval for non-INVITE requests and INVITE responses
    base::Duration t4{5000};  // maximum time a message remains in the network
};

using TransactionId = quint64;
constexpr TransactionId kNoTransaction = 0;

// What a client transaction reports to its user (the TU: registration, subscription,
// dialog usages). Callbacks are made from the event loop, never from inside
// TransactionLayer::sendRequest(); after onTimeout/onTransportError, or onFinal with a
// non-2xx (or any final for non-INVITE), the id is dead.
class ClientTransactionUser {
public:
    virtual ~ClientTransactionUser() = default;
    virtual void onProvisional(TransactionId id, const sip::Message& response) {
        (void)id, (void)response;
    }
    // A final response. For INVITE, 2xx may arrive more than once (forking, §13.2.2.4):
    // every 2xx is passed on; the TU/dialog acknowledges each. The INVITE client
    // transaction implements RFC 6026: after a 2xx it stays Accepted for Timer M
    // (64*T1), passing every further 2xx here; later ones go to onStrayResponse().
    virtual void onFinal(TransactionId id, const sip::Message& response) = 0;
    // Timer B or F fired (reported as a 408 to the TU, §8.1.3.1).
    virtual void onTimeout(TransactionId id) = 0;
    virtual void onTransportError(TransactionId id, const Error& error) = 0;
};

// The TU core for requests that start a server transaction, and for what matches none.
class ServerTransactionUser {
public:
    virtual ~ServerTransactionUser() = default;
    // A new request (not ACK, not a retransmission). Answer with sendResponse(id, ...).
    // For INVITE the layer has already sent 100 Trying when the TU does not answer
    // within 200 ms (§17.2.1).
    virtual void onRequest(TransactionId id, const transport::IncomingMessage& request) = 0;
    // CANCEL matched a pending INVITE server transaction: the layer answered the CANCEL
    // 200 itself (§9.2); the TU should answer the INVITE 487.
    virtual void onCancel(TransactionId inviteId, const transport::IncomingMessage& cancel) {
        (void)inviteId, (void)cancel;
    }
    // An ACK for a 2xx, or any ACK that matches no transaction: goes to the dialog layer.
    virtual void onAck(const transport::IncomingMessage& ack) { (void)ack; }
    // A response that matches no client transaction (e.g. a 2xx retransmission after the
    // INVITE client transaction ended): goes to the dialog layer, which re-sends the ACK.
    virtual void onStrayResponse(const transport::IncomingMessage& response) { (void)response; }
    // No ACK came for the final response of INVITE server transaction `inviteId`: Timer H
    // for a 3xx-6xx (§17.2.1), Timer L for a 2xx that the layer retransmitted in vain
    // (§13.3.1.4, RFC 6026): the TU should end the session (BYE for a 2xx).
    virtual void onAckTimeout(TransactionId inviteId) { (void)inviteId; }
};

// Bounds on what unsolicited requests can make the layer hold (bad input never wins).
struct ServerTransactionLimits {
    // Server transactions alive at once: each lives up to 64*T1 after its final response
    // (Timer J, Timer H/I). A new request beyond it is answered 503 statelessly, with
    // Retry-After, and creates none. Completed transactions keep only their response
    // bytes (see ServerTransaction): ~0.9 KB of heap each for a NOTIFY's 200 (measured,
    // tst_server_transaction_limits; ~4.5 KB while the request was kept), so 200,000 is
    // ~6,000 NOTIFY/s sustained over UDP (Timer J = 32 s) for ~180 MB.
    std::size_t maxServerTransactions = 200000;
    // RFC 3261 §21.5.4 / §20.33: when the client may try again.
    std::chrono::seconds retryAfter{5};
};

struct ClientRequestOptions {
    // Keep the request's own top Via branch (used for CANCEL, which must reuse the
    // INVITE's branch, §9.1) instead of adding a new Via.
    bool keepTopVia = false;
    // The branch of the Via the layer adds (ignored with keepTopVia); a fresh random one
    // when empty. A proxy that detects loops puts its loop hash in it (§16.6 step 8); it
    // must start with the magic cookie and be unique like any other branch (§8.1.1.7).
    QByteArray branch;
};

struct ServerResponseOptions {
    // The response is a proxy's forwarding of a downstream response (RFC 3261 §16.7),
    // not the answer of a UAS core. For a 2xx to INVITE the transaction then does not
    // retransmit it (§13.3.1.4 is the UAS core's job; the proxy forwards the UAS's own
    // retransmissions, RFC 6026 §7.1), and Timer L ends the transaction without
    // onAckTimeout (the ACK is end to end; a proxy has no session to end).
    bool proxied = false;
};

struct StatelessRequestOptions {
    // Push a Via of our own on top of the request's Vias, as a proxy forwarding a request
    // statelessly must (§16.11, e.g. the ACK for a 2xx, §16.6 step 8). Without it a Via
    // is only added when the request has none.
    bool pushVia = false;
    // The branch of an added Via; a fresh random one when empty. A stateless forwarder
    // derives it from the request so that retransmissions carry the same one (§16.11).
    QByteArray branch;
};

// The RFC 3261 §17 transaction layer: the four state machines (INVITE / non-INVITE,
// client / server), matching (§17.1.3, §17.2.3 and the RFC 2543 fallback), timers A–K
// off an injected TimerQueue, retransmissions over unreliable transports only.
// INVITE transactions follow RFC 6026: a 2xx moves both sides to Accepted (Timers L and
// M, 64*T1) instead of ending them. It makes itself the transport's user on construction
// (and leaves on destruction).
class TransactionLayer final : public transport::TransportUser {
public:
    TransactionLayer(transport::Transport& transport, base::TimerQueue& timers,
                     base::Random& random, TimerValues values = {});
    ~TransactionLayer() override;

    // Without a server user every new request is answered 503 statelessly (no
    // transaction is kept for it).
    void setServerUser(ServerTransactionUser* user);
    void setServerLimits(ServerTransactionLimits limits);

    // Starts a client transaction: adds a top Via with a fresh RFC 3261 branch and
    // ;rport (unless options.keepTopVia), sends, retransmits, reports to `user`.
    // `user` must outlive the transaction or call forget(id) first.
    Result<TransactionId> sendRequest(sip::Message request, const transport::Endpoint& destination,
                                      ClientTransactionUser* user,
                                      ClientRequestOptions options = {});

    // RFC 3261 §9.1: CANCEL a pending INVITE client transaction. Sent at once when a
    // provisional response has arrived, otherwise as soon as one does; the INVITE then
    // ends with 487 (or whatever the far side says).
    void cancelInvite(TransactionId inviteId, QByteArray reasonHeader = {});

    // The user no longer wants callbacks for `id`; the transaction itself runs on.
    void forget(TransactionId id);
    // The same for every client transaction `user` started: a TU that goes away while
    // some of its transactions run on (an INVITE lingers for Timer M after its 2xx).
    void forgetUser(const ClientTransactionUser* user);

    // Answers a server transaction (provisional or final). A 2xx to an INVITE is
    // retransmitted by the layer until its ACK arrives (§13.3.1.4, see onAckTimeout),
    // unless options.proxied.
    Result<void> sendResponse(TransactionId serverId, sip::Message response,
                              ServerResponseOptions options = {});

    // RFC 4320 §4.2: a non-INVITE server transaction that will get no final response (a
    // proxy whose every branch timed out must not send 408) ends without one. It still
    // absorbs retransmissions of the request for 64*T1 (0 over reliable transports), so
    // they are not taken for new requests. Fails for INVITE and for transactions that
    // already sent a final response.
    Result<void> endWithoutResponse(TransactionId serverId);

    // Sent outside any transaction: ACK for a 2xx (§13.2.2.4), which the dialog layer owns.
    // A top Via with a fresh branch is added when the request has none (§17.1.1.3: the
    // 2xx ACK is a transaction of its own); an existing one is kept, so a re-sent ACK
    // can be the same message again. options.pushVia adds one on top of existing ones.
    Result<transport::Endpoint> sendStateless(sip::Message request,
                                              const transport::Endpoint& destination,
                                              StatelessRequestOptions options = {});

    // The request that started a server transaction (for building responses). Null once
    // the transaction has sent a final response and the event in which it did is over
    // (non-INVITE Completed, INVITE Completed/Confirmed: the request is dropped then to
    // keep them light, §17.2.1/§17.2.2); an INVITE answered 2xx (Accepted) keeps it.
    const sip::Message* serverRequest(TransactionId serverId) const;

    // Counters for diagnostics and tests.
    std::size_t clientTransactionCount() const;
    std::size_t serverTransactionCount() const;

    // TransportUser
    void onMessage(transport::IncomingMessage&& incoming) override;
    void onFlowFailed(const transport::Endpoint& remote, const Error& error) override;

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

}  // namespace sb::transaction
