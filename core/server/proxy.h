#pragma once

#include <QByteArray>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>

#include "base/random.h"
#include "base/timer_queue.h"
#include "server/call_holder.h"
#include "server/local_domains.h"
#include "server/location_service.h"
#include "server/proxy_branch.h"
#include "server/proxy_observer.h"
#include "server/record_route.h"
#include "sip/message.h"
#include "transaction/transaction_layer.h"
#include "transport/transport.h"

namespace sb::server {

struct ProxyOptions {
    // §16.6 step 4: stay on the path of the dialogs that requests create (the dialog
    // tracker needs the in-dialog requests).
    bool recordRoute = true;
    // §16.8: how long an INVITE branch may go without a final response after its last
    // provisional. The RFC wants more than three minutes.
    base::Duration timerC{std::chrono::seconds(181)};
    // Where requests for domains that are not ours go; without it they are refused 403
    // (no open relay).
    std::optional<transport::Endpoint> upstream;
    // Targets per request (all q-value groups together): bounds what one request makes
    // the proxy hold.
    int maxForks = 10;
    // The host written in Record-Route ([server] record_route_host); empty: the listening
    // address of each transport (Transport::localEndpoint), and on a wildcard address the
    // address of ours the peer can reach (RecordRoute, LocalDomains::hostTowards).
    QByteArray recordRouteHost;
    // The key of the Record-Route tokens that admit in-dialog requests (RecordRoute):
    // 32 bytes kept across restarts, so that calls up before a restart can still end.
    // Empty: 32 random bytes (dialogs do not survive a restart).
    QByteArray secret;
    // How long an answered call is kept after its first 2xx to pass further 2xx (other
    // forks answering too) through its transactions. Later ones are forwarded
    // statelessly (§16.7 step 5 allows it; the transactions themselves still absorb
    // retransmissions for 64*T1). Short on purpose: the contexts kept are calls/s times
    // this (at 32 s, the full 64*T1, 650 calls/s already filled the default limit and
    // new calls got 503).
    base::Duration acceptedLinger{std::chrono::seconds(4)};
    // Requests handled at once (response contexts, §16.2); beyond it new requests get
    // 503 with Retry-After. Requests within a dialog may use twice as many.
    std::size_t maxResponseContexts = 20000;
    std::chrono::seconds retryAfter{5};
};

// The built-in server's stateful proxy, RFC 3261 §16: validates requests (§16.3),
// handles routes (§16.4), finds targets (§16.5: the location service for our domains,
// loose routing within dialogs, the upstream for other domains), forks in parallel by
// q-value group (§16.6), Record-Routes, selects the best response (§16.7), runs Timer C
// (§16.8), and relays CANCEL (§16.10). Requests arrive already authenticated; the
// dispatcher (the layer's ServerTransactionUser) hands them over.
//
// A request within a dialog (To tag) and the ACK of a 2xx are only relayed when they
// come back through our Record-Route with its token (RecordRoute): the answer to
// anything else is 481 (the ACK is dropped). In-dialog requests are not authenticated,
// so this is what keeps the proxy from relaying forged ones anywhere.
//
// Every INVITE or other request it forwards has a response context keyed by its server
// transaction; the context ends when the final response went upstream and every branch
// is over (after a 2xx, once acceptedLinger has passed too). Nothing of a call is kept
// beyond that.
class Proxy final : private transaction::ClientTransactionUser {
public:
    Proxy(transaction::TransactionLayer& layer, transport::Transport& transport,
          base::TimerQueue& timers, base::Random& random, const LocalDomains& domains,
          const LocationService& location, const UserDirectory& users, ProxyOptions options = {});
    ~Proxy() override;
    Proxy(const Proxy&) = delete;
    Proxy& operator=(const Proxy&) = delete;

    void setObserver(ProxyObserver* observer) { m_observer = observer; }
    void setCallHolder(CallHolder* holder) { m_holder = holder; }
    // The registered binding whose Contact is `uri` (BindingStore::lookupByContact): a
    // remote target inside a dialog that is a registered contact is reached by the flow
    // of its registration (a phone behind NAT). Unset: remote targets go where they name.
    using ContactLookup = std::function<std::optional<Binding>(const sip::Uri& uri)>;
    void setContactLookup(ContactLookup lookup) { m_contactLookup = std::move(lookup); }

    // Our Record-Route entries, with the tokens that admit in-dialog requests.
    const RecordRoute& recordRoute() const { return m_recordRoute; }

    // Where an in-dialog request to the remote target `uri` goes from here: the flow of
    // a registered contact, a numeric host, else the upstream; none when it cannot be
    // resolved (no DNS for remote targets).
    std::optional<transport::Endpoint> nextHopOf(const sip::Uri& uri) const;

    // From the dispatcher (ServerTransactionUser):
    // A request to route; `id` is its server transaction, answered here.
    void onRequest(transaction::TransactionId id, const transport::IncomingMessage& request);
    // The upstream CANCELled INVITE `inviteId` (the layer answered the CANCEL 200).
    void onCancel(transaction::TransactionId inviteId, const transport::IncomingMessage& cancel);
    // An ACK outside any transaction: the ACK for a 2xx, forwarded statelessly.
    void onAck(const transport::IncomingMessage& ack);
    // A response matching no client transaction: a 2xx to INVITE under our Via is
    // forwarded statelessly (§16.7 step 1); anything else is dropped.
    void onStrayResponse(const transport::IncomingMessage& response);
    // Timer H of an INVITE this proxy answered with a failure: nothing to do but tidy.
    void onAckTimeout(transaction::TransactionId inviteId);

    // ---- operator actions on a ringing call (issue 7) ----
    // A new leg for a call whose INVITE has no final answer yet: the branches still
    // ringing are CANCELled with `cancelReason` (RFC 3326), and the INVITE is forked
    // anew from `leg`. The caller's transaction goes on untouched. The dialog tracker
    // sees the old leg fail (cancelled) and the new leg start as a call of its own.
    struct Retarget {
        // What every new branch starts from: the current leg (currentLeg()) with a new
        // Request-URI (an AoR of ours or any SIP URI) and the headers the action adds.
        sip::Message leg;
        // Ring this local user's phones instead of routing the Request-URI (a queued call
        // ringing the operator's phone while its Request-URI stays the reception's).
        QString ringUser;
        QByteArray cancelReason;
        // The holder decides what happens when the new leg ends unanswered; false: the
        // caller gets the best response, as for any call.
        bool hold = true;
        // A leg that reaches nobody (ringUser not registered) still holds the call,
        // ringing nowhere; without it that is an error and nothing changes.
        bool allowNoBranch = false;
    };
    // Errors (the call untouched): no such call, already answered or cancelled, or the
    // leg cannot be routed (the reason names why: unknown user, not registered, ...).
    Result<void> retarget(CallId call, Retarget retarget);
    // Ends a ringing call with `status` upstream (CANCELling what still rings).
    Result<void> reject(CallId call, int status, QByteArray cancelReason);
    // The request the call's current leg forks from (Max-Forwards already decremented);
    // nullopt when the call is unknown or has its final answer.
    std::optional<sip::Message> currentLeg(CallId call) const;
    // The stable id of a call, from the id of any of its legs (as the tracker knows it).
    std::optional<CallId> stableCallOf(CallId call) const;

    // Statistics.
    std::size_t callsInProgress() const;  // INVITEs not yet answered finally upstream
    std::size_t responseContexts() const { return m_contexts.size(); }
    std::size_t pendingBranches() const;
    const ProxyOptions& options() const { return m_options; }

private:
    struct ResponseContext;
    struct Target;
    struct Routing;

    // ClientTransactionUser
    void onProvisional(transaction::TransactionId id, const sip::Message& response) override;
    void onFinal(transaction::TransactionId id, const sip::Message& response) override;
    void onTimeout(transaction::TransactionId id) override;
    void onTransportError(transaction::TransactionId id, const Error& error) override;

    // §16.3
    bool isLoop(const sip::Message& request, QByteArrayView hash) const;
    bool isOwnVia(const sip::Via& via) const;
    // §16.5
    // `throughUs`: a route set named us (RecordRoute::Preprocessing::cameThroughUs).
    Routing route(const sip::Message& request, bool inDialog, bool throughUs) const;
    Routing routeToLocalUser(const sip::Message& request, const sip::Uri& uri) const;
    Routing routeToUser(const sip::Message& request, const QString& user) const;
    Routing routeDirectly(const sip::Uri& uri) const;
    std::optional<transport::Endpoint> registeredFlowOf(const sip::Uri& uri) const;

    // §16.6
    void startNextGroup(ResponseContext& context);
    void forward(ResponseContext& context, const Target& target);
    void startTimerC(ResponseContext& context, ProxyBranch& branch);
    void onTimerC(transaction::TransactionId serverId, BranchId branchId);

    // §16.7
    struct BranchRef {
        transaction::TransactionId server = transaction::kNoTransaction;
        BranchId branch = 0;
    };
    ResponseContext* contextOf(transaction::TransactionId clientId, ProxyBranch** branch);
    void forwardProvisional(ResponseContext& context, const sip::Message& response);
    // `leg`: the call id of the answering branch.
    void forwardSuccess(ResponseContext& context, const sip::Message& response, CallId leg);
    void endBranch(ResponseContext& context, ProxyBranch& branch, int status,
                   const sip::Message* response);
    void endBranchLocally(ResponseContext& context, ProxyBranch& branch, int status);
    void cancelPending(ResponseContext& context, const QByteArray& reason);
    // Starts the next q-value group or sends the best response, once no branch is pending.
    void advance(ResponseContext& context);
    void sendBestResponse(ResponseContext& context);
    void answerLocally(transaction::TransactionId id, const sip::Message& request, int status,
                       QByteArray reason = {});
    void sendFinal(ResponseContext& context, const sip::Message& response, bool proxied);
    void noteFinal(ResponseContext& context, const sip::Message& response);
    // Ends the context when nothing is left to do for it; may erase it.
    void settle(transaction::TransactionId serverId);
    void erase(transaction::TransactionId serverId);
    void forwardResponseStatelessly(sip::Message response);
    ResponseContext* ringingCall(CallId call, Error* error);
    void sendOwnRinging(ResponseContext& context);
    void refreshRinging(transaction::TransactionId serverId);
    // Tells the observer that a replaced leg failed, once none of its branches is left.
    void closeRetiredLeg(ResponseContext& context, CallId leg);

    transaction::TransactionLayer& m_layer;
    transport::Transport& m_transport;
    base::TimerQueue& m_timers;
    base::Random& m_random;
    const LocalDomains& m_domains;
    const LocationService& m_location;
    const UserDirectory& m_users;
    ProxyOptions m_options;
    RecordRoute m_recordRoute;
    ProxyObserver* m_observer = nullptr;
    CallHolder* m_holder = nullptr;
    ContactLookup m_contactLookup;

    std::unordered_map<transaction::TransactionId, std::unique_ptr<ResponseContext>> m_contexts;
    std::unordered_map<transaction::TransactionId, BranchRef> m_branchOf;  // client id → branch
    // Initial INVITEs by call id: the stable id and the id of the current leg.
    std::unordered_map<CallId, transaction::TransactionId> m_callContexts;
    CallId m_nextCall = 1;
    BranchId m_nextBranch = 1;
};

}  // namespace sb::server
