#pragma once

#include <QByteArray>
#include <QByteArrayView>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "base/random.h"
#include "base/timer_queue.h"
#include "transaction/transaction_layer.h"
#include "transport/transport.h"

namespace sb::ua {

// What a subscription to one resource looks like from outside (RFC 6665 §4.1.2).
struct SubscriptionStatus {
    enum class State {
        Queued,       // waiting for its turn (initial SUBSCRIBEs are paced)
        Subscribing,  // SUBSCRIBE in flight, no answer yet
        Pending,      // Subscription-State: pending (authorisation awaited)
        Active,       // Subscription-State: active
        Retrying,     // ended; a new subscription starts after `retryIn`
        Unavailable,  // refused (rejected, noresource, invariant, 403, 404, ...): retried
                      // with back-off after `retryIn`, shown as not monitorable
        Terminated,   // unsubscribed on request (unmonitor, quit)
    };
    State state = State::Queued;
    // Subscription-State reason (RFC 6665 §4.1.3: deactivated, probation, rejected,
    // timeout, giveup, noresource, invariant) or, without one, what happened
    // ("408 Request Timeout", "transport error", "481 on refresh").
    QByteArray reason;
    int statusCode = 0;  // the SIP status that ended or refused it, 0 if none
    std::optional<base::Duration> retryIn;

    // Whether the resource's state is known: Pending and Active only. Everything else
    // shows the extension as offline (DESIGN.md "Lamps").
    bool usable() const { return state == State::Pending || state == State::Active; }
};

// How the user took a NOTIFY's body; decides the answer and what happens next.
enum class NotifyVerdict {
    Accepted,       // 200 OK
    NeedFullState,  // 200 OK, then a refresh SUBSCRIBE so the notifier sends full state
                    // (RFC 4235 §4.1: version gap or partial document without a full one)
    BadBody,        // 400 with the reason given by the user; subscription kept
};

// Protocol moments of the subscriptions, reported from the event loop (never from
// inside a call on SubscriptionSet, so handlers may call back into it).
class SubscriptionHandler {
public:
    virtual ~SubscriptionHandler() = default;
    // The subscription to `resource` changed state.
    virtual void onStatus(const QByteArray& resource, const SubscriptionStatus& status) = 0;
    // A NOTIFY body (possibly empty: no state change, RFC 6665 §4.1.3) for `resource`:
    // the whole body of a plain NOTIFY, or one part of an RFC 4662 list NOTIFY. A NOTIFY
    // that arrives before the 200 to its SUBSCRIBE is delivered too. `badReason` is set
    // by the handler when it answers BadBody.
    virtual NotifyVerdict onNotify(const QByteArray& resource, QByteArrayView contentType,
                                   QByteArrayView body, QString* badReason) = 0;
};

struct SubscriptionOptions {
    QByteArray eventPackage = "dialog";
    QByteArray accept = "application/dialog-info+xml";
    QByteArray aor;  // the subscriber (From), "sip:operator@example.com"
    QByteArray authUser;
    QByteArray password;
    QString displayName;
    quint32 expires = 3600;  // requested subscription duration, seconds
    // Where requests go first (the account's proxy, as the registration located it);
    // asked for every new SUBSCRIBE. nullopt: nowhere to send now → Retrying.
    std::function<std::optional<transport::Endpoint>()> nextHop;
    // The local endpoint that reaches `target`, for the Contact.
    std::function<std::optional<transport::Endpoint>(const transport::Endpoint& target)>
        localEndpointFor;
    transport::Protocol transport = transport::Protocol::Udp;
    QByteArray outboundProxyUri;  // preloaded Route: <uri;lr>, when set
    QByteArray userAgent;
    // Initial SUBSCRIBEs per second (and re-subscriptions after failures), so that a
    // board of 2,000 does not flood the server.
    double subscribeRate = 50.0;
    // Failure back-off for Unavailable/Retrying without Retry-After: base·2^(n-1) capped.
    base::Duration backoffBase = std::chrono::seconds(30);
    base::Duration backoffMax = std::chrono::minutes(30);
    // RFC 4662: when set, one subscription to this list URI (Require/Supported:
    // eventlist, Accept: multipart/related, application/rlmi+xml and `accept`) replaces
    // the per-resource ones; subscribe() then only names the resources of interest.
    QByteArray resourceListUri;
};

// RFC 6665 subscriber for many resources of one event package: one dialog-forming
// SUBSCRIBE per resource, digest authentication (401/407), refresh before expiry spread
// out over time, every Subscription-State, 481/408 on refresh → a new subscription,
// NOTIFY before the 200, paced initial SUBSCRIBEs, un-SUBSCRIBE (Expires: 0) on
// unsubscribe() and stopAll(). Owns its subscriptions, keyed by resource URI.
class SubscriptionSet {
public:
    SubscriptionSet(transaction::TransactionLayer& transactions, base::TimerQueue& timers,
                    base::Random& random, SubscriptionOptions options,
                    SubscriptionHandler& handler);
    ~SubscriptionSet();

    SubscriptionSet(const SubscriptionSet&) = delete;
    SubscriptionSet& operator=(const SubscriptionSet&) = delete;

    // Starts watching `resource` ("sip:201@example.com"); queued behind the pacing.
    // Subscribing to a resource already watched does nothing.
    void subscribe(const QByteArray& resource);
    // Ends the subscription (SUBSCRIBE Expires: 0) and forgets the resource.
    void unsubscribe(const QByteArray& resource);
    // A refresh SUBSCRIBE within the dialog now, so the notifier sends full state.
    void refetch(const QByteArray& resource);
    // After the next hop changed (e.g. the registrar failed over): new subscriptions.
    void restartAll();
    // Unsubscribes everything; `done` is called (from the event loop) once every
    // un-SUBSCRIBE is answered or has failed, or `bound` has passed.
    void stopAll(std::function<void()> done, base::Duration bound = std::chrono::seconds(5));

    // A request from the transaction layer's server user. Returns false when it is no
    // NOTIFY for this event package; otherwise answers it (200, 400, or 481 for a NOTIFY
    // that matches no subscription) and returns true.
    bool handleRequest(transaction::TransactionId id, const transport::IncomingMessage& request);

    std::optional<SubscriptionStatus> status(const QByteArray& resource) const;
    std::size_t resourceCount() const;
    std::size_t activeCount() const;  // Pending or Active

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

QByteArrayView subscriptionStateName(SubscriptionStatus::State state);

}  // namespace sb::ua
