#pragma once

#include <QByteArray>
#include <QString>

#include <chrono>
#include <deque>
#include <functional>
#include <optional>
#include <vector>

#include "base/random.h"
#include "base/result.h"
#include "base/timer_queue.h"
#include "sip/digest.h"
#include "sip/message.h"
#include "transaction/transaction_layer.h"
#include "transport/transport.h"
#include "ua/retry_backoff.h"

namespace sb::ua {

struct RegistrationOptions {
    QByteArray aor;       // address-of-record, "sip:alice@example.com": To and From (§10.2)
    QByteArray authUser;  // digest user name; the AoR's user part when empty
    QByteArray password;
    QString displayName;  // for From/To, may be empty
    // Our Contact URI. When empty it is built from the local endpoint and the AoR's user
    // ("sip:alice@127.0.0.1:5070;transport=tcp"): from `localEndpointFor` when set, else
    // from `localEndpoint`.
    QByteArray contactUri;
    std::optional<transport::Endpoint> localEndpoint;
    // The local endpoint that reaches `target` (the listening address of its transport,
    // a wildcard replaced by the interface that routes there), asked before every
    // REGISTER: after failover to a target behind another interface or over another
    // transport, the Contact names an address that target can reach (RFC 3261 §10.2.1;
    // a changed Contact is a new binding, the old one runs out). nullopt: no local
    // endpoint reaches the target, which is then skipped like one that failed.
    std::function<std::optional<transport::Endpoint>(const transport::Endpoint& target)>
        localEndpointFor;
    quint32 expires = 3600;  // requested binding lifetime, seconds
    // Next hops, already resolved (RFC 3263 server location happens in core/transport):
    // tried in order; 503, timeout and transport errors move on to the next (§4.3).
    // Empty: the AoR's host must be a numeric address, reached over `transport`.
    std::vector<transport::Endpoint> proxies;
    // RFC 3263 server location per attempt: instead of `proxies`, every attempt that
    // starts from the first target (the first one, each one after a failure back-off,
    // refreshNow() while waiting) asks the handler for fresh next hops
    // (onTargetsNeeded) and waits in State::Locating for setProxies() or
    // locateFailed(). DNS answers change and a list that failed entirely is stale.
    bool locateEachAttempt = false;
    transport::Protocol transport = transport::Protocol::Udp;
    // When set, a preloaded Route: <uri;lr> towards the outbound proxy (RFC 3261 §8.1.2).
    QByteArray outboundProxyUri;
    // Request-URI; "sip:<domain of the AoR>" when empty (§10.2: no user part).
    QByteArray registrarUri;
    QByteArray userAgent;
    // Failure back-off (RetryBackoff, RFC 5626 §4.5 shape): base·2^(n-1) capped at max,
    // then a random 50-100 % of that. Failed server location counts as a failure too.
    base::Duration backoffBase = std::chrono::seconds(30);
    base::Duration backoffMax = std::chrono::minutes(30);
};

// Protocol moments of one registration, reported from the event loop (never from inside
// start()/stop()). A handler may call stop() or refreshNow() from a callback, but must
// not destroy the client there.
class RegistrationHandler {
public:
    virtual ~RegistrationHandler() = default;
    // A REGISTER (first or refresh) succeeded: our binding lives `expires` seconds;
    // `contacts` are all bindings of the AoR as the registrar listed them.
    virtual void onRegistered(quint32 expires, const std::vector<QByteArray>& contacts) = 0;
    // Registration failed (`statusCode` 408 for a timeout, 503 for a transport error, 0
    // when server location failed); the next attempt starts by itself after `retryIn`.
    virtual void onRegistrationFailed(int statusCode, const QString& reason,
                                      base::Duration retryIn) = 0;
    // With RegistrationOptions::locateEachAttempt: an attempt begins and needs next hops.
    // Answer later (or at once) with setProxies() or locateFailed(); the client waits.
    // Handlers of clients without that option need not override it.
    virtual void onTargetsNeeded() {}
    // After stop(): the binding was removed (or could not be, and we gave up trying).
    virtual void onUnregistered() = 0;
};

// RFC 3261 §10.2 registration of one contact for one AoR: REGISTER with a constant
// Call-ID and increasing CSeq, digest authentication (401/407), refresh before expiry,
// 423 Interval Too Brief, failover across next hops, back-off with jitter after
// failures, and un-REGISTER (expires=0) on stop().
class RegistrationClient final : private transaction::ClientTransactionUser {
public:
    enum class State {
        Idle,           // not started
        Locating,       // waiting for next hops (locateEachAttempt)
        Registering,    // first REGISTER (or one after a failure) in flight
        Registered,     // binding active; a refresh may be in flight
        RetryWait,      // failed, waiting for the back-off to run out
        Unregistering,  // expires=0 in flight
        Unregistered,   // stopped
    };

    RegistrationClient(transaction::TransactionLayer& transactions, base::TimerQueue& timers,
                       base::Random& random, RegistrationOptions options,
                       RegistrationHandler& handler);
    ~RegistrationClient() override;

    RegistrationClient(const RegistrationClient&) = delete;
    RegistrationClient& operator=(const RegistrationClient&) = delete;

    // Checks the options and sends the first REGISTER. Config errors come back here;
    // everything later goes to the handler.
    Result<void> start();
    // Removes our binding (Contact ...;expires=0) and reports onUnregistered().
    void stop();
    // Re-registers at once, e.g. after the network changed.
    void refreshNow();
    // The transport lost the flow towards `remote` (TCP reset, ICMP unreachable): a
    // registration that used it is renewed at once, over a new flow.
    void handleFlowFailure(const transport::Endpoint& remote);
    // New next hops, in order. In State::Locating the waiting attempt starts with the
    // first of them (an empty list is a failure, like locateFailed()); otherwise they
    // replace the list from the next attempt that starts from the first target (a
    // registration in progress keeps its target; an empty list keeps the old one).
    void setProxies(std::vector<transport::Endpoint> proxies);
    // In State::Locating: no next hop could be found (`reason` says why, for the
    // handler's report). Counts as a failure: back-off, onRegistrationFailed with code 0.
    void locateFailed(const QString& reason);

    State state() const { return m_state; }
    quint32 grantedExpires() const { return m_granted; }
    quint32 requestedExpires() const { return m_requested; }
    QByteArray callId() const { return m_callId; }
    quint32 lastCSeq() const { return m_cseq; }
    int consecutiveFailures() const { return m_backoff.failures(); }
    std::optional<transport::Endpoint> currentDestination() const;
    // The Contact of the latest REGISTER (empty before the first one is built).
    const QByteArray& contactUri() const { return m_contactUri; }
    // When to refresh a binding granted for `expires` seconds: half of a short lifetime,
    // a minute before the end of a long one.
    static base::Duration refreshDelay(quint32 expires);

private:
    // ClientTransactionUser
    void onFinal(transaction::TransactionId id, const sip::Message& response) override;
    void onTimeout(transaction::TransactionId id) override;
    void onTransportError(transaction::TransactionId id, const Error& error) override;

    void beginAttempt();
    void send();
    void sendTo(std::size_t index);
    std::optional<QByteArray> contactFor(const transport::Endpoint& target) const;
    QByteArray contactFrom(const transport::Endpoint& local) const;
    sip::Message buildRequest(quint32 expires);
    void handleRegisterFinal(const sip::Message& response);
    void handleUnregisterFinal(const sip::Message& response);
    void failOver(int statusCode, const QString& reason, std::optional<quint32> retryAfter);
    void registered(const sip::Message& response);
    void failed(int statusCode, const QString& reason, std::optional<quint32> retryAfter);
    void finishUnregister();
    void cancelTimers();
    void abandonTransaction();
    void report(std::function<void()> call);

    class SyncCall;
    friend class SyncCall;

    transaction::TransactionLayer& m_transactions;
    base::TimerQueue& m_timers;
    base::Random& m_random;
    RegistrationOptions m_options;
    RegistrationHandler& m_handler;
    sip::DigestClient m_digest;
    RetryBackoff m_backoff;

    State m_state = State::Idle;
    QByteArray m_callId;
    QByteArray m_fromTag;
    QByteArray m_contactUri;
    QByteArray m_contactUser;  // the AoR's user part, for built Contacts
    QByteArray m_registrarUri;
    QByteArray m_routeValue;
    QByteArray m_toValue;
    std::vector<transport::Endpoint> m_destinations;
    std::size_t m_destination = 0;
    quint32 m_cseq = 0;
    quint32 m_requested = 0;
    quint32 m_granted = 0;
    int m_intervalRetries = 0;  // 423s answered in the current attempt

    transaction::TransactionId m_transaction = transaction::kNoTransaction;
    base::TimerId m_refreshTimer = base::kNoTimer;
    base::TimerId m_retryTimer = base::kNoTimer;
    base::TimerId m_reportTimer = base::kNoTimer;
    std::deque<std::function<void()>> m_pendingReports;
    int m_syncDepth = 0;  // inside a public call: reports wait for the event loop
};

QByteArrayView registrationStateName(RegistrationClient::State state);

}  // namespace sb::ua
