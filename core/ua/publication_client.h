#pragma once

#include <QByteArray>
#include <QString>

#include <functional>
#include <optional>

#include "base/random.h"
#include "base/result.h"
#include "base/timer_queue.h"
#include "sip/digest.h"
#include "sip/message.h"
#include "transaction/transaction_layer.h"
#include "transport/transport.h"
#include "ua/retry_backoff.h"

namespace sb::ua {

struct PublicationOptions {
    // The published resource: Request-URI, To and From (RFC 3903 §4).
    QByteArray entityUri;
    // The presence server (event state compositor) every PUBLISH goes to.
    transport::Endpoint server;
    // When set, a preloaded Route: <uri;lr> (RFC 3261 §8.1.2).
    QByteArray outboundProxyUri;
    QByteArray authUser;  // digest user name; the entity's user part when empty
    QByteArray password;
    QByteArray event = "dialog";
    QByteArray contentType = "application/dialog-info+xml";
    quint32 expires = 3600;  // asked for unless publish() says otherwise
    QByteArray userAgent;
    // Failure back-off (RetryBackoff): a presence server that is down is asked again
    // after 5 s, 10 s, ... up to 5 minutes, with jitter.
    base::Duration backoffBase = std::chrono::seconds(5);
    base::Duration backoffMax = std::chrono::minutes(5);
};

// What happened to one publication, reported from transaction callbacks and timers,
// never from inside publish()/remove()/resume().
class PublicationHandler {
public:
    virtual ~PublicationHandler() = default;
    // The server holds our newest state under `etag` for `expires` seconds.
    virtual void onPublished(const QByteArray& etag, quint32 expires) = 0;
    // A PUBLISH failed (`statusCode` 408 for a timeout, 503 for a transport error); the
    // current state goes out again by itself after `retryIn`.
    virtual void onPublishFailed(int statusCode, const QString& reason, base::Duration retryIn) = 0;
    // After remove(): the server dropped the publication (or never had it).
    virtual void onRemoved() = 0;
};

// RFC 3903 event publication agent for one resource (one publication): initial PUBLISH
// with body, modify (SIP-If-Match + body), refresh before expiry (SIP-If-Match, no
// body), remove (Expires: 0), digest authentication (401/407), 423 Min-Expires.
//
// Stale state never wins: one PUBLISH is in flight at a time; a state published
// meanwhile waits, and only the newest waits (coalesced). A 412 (the server lost our
// entity tag) starts a new publication carrying the current state, never the body
// that failed; after a timeout, a 5xx or a transport error the current state goes out
// again after a back-off. So a 180 followed at once by a 200 cannot produce a 412, and
// an "early" can never arrive after a "terminated".
class PublicationClient final : private transaction::ClientTransactionUser {
public:
    enum class State {
        Idle,        // nothing published (yet, or any more: the last one ran out)
        Publishing,  // a PUBLISH is in flight and nothing is held by the server yet
        Published,   // the server holds a state of ours; a PUBLISH may be in flight
        RetryWait,   // failed, waiting for the back-off to run out
        Removing,    // Expires: 0 in flight or waiting for its turn
        Removed,     // remove() done
    };

    PublicationClient(transaction::TransactionLayer& transactions, base::TimerQueue& timers,
                      base::Random& random, PublicationOptions options,
                      PublicationHandler& handler);
    ~PublicationClient() override;

    PublicationClient(const PublicationClient&) = delete;
    PublicationClient& operator=(const PublicationClient&) = delete;

    // Checks the options (entity and proxy URIs). Nothing is sent before publish().
    Result<void> start();

    // Publishes `body` (the whole new state) for `expires` seconds (0: options.expires).
    // With `keepAlive` the publication is refreshed before it runs out; without, it is
    // left to expire (a terminated dialog published for a few seconds).
    void publish(QByteArray body, quint32 expires = 0, bool keepAlive = true);
    // Makes the body of a state, once, when a PUBLISH first carries it.
    using BodySource = std::function<QByteArray()>;
    // The same with the body made only when a PUBLISH carries it: a state that a newer
    // one replaces before its turn (coalesced) is never made.
    void publish(BodySource body, quint32 expires = 0, bool keepAlive = true);
    // Takes the publication away (PUBLISH with Expires: 0) once nothing else is in flight.
    void remove();
    // After a restart: the server still holds our publication under `etag` for about
    // `secondsLeft`. The next publish() modifies it (a 412 starts a new one). With
    // `refreshExpires`, the state it holds is still current: it is refreshed (no body,
    // asking for that many seconds) before it runs out, as after a publish().
    void resume(QByteArray etag, quint32 secondsLeft, quint32 refreshExpires = 0);

    State state() const { return m_state; }
    const QByteArray& etag() const { return m_etag; }
    quint32 grantedExpires() const { return m_granted; }
    // Whether no PUBLISH has gone out yet and the server holds nothing of ours (a state
    // handed over may still wait for its turn).
    bool sentNothing() const { return m_cseq == 0 && m_etag.isEmpty(); }
    // Whether the newest state has not yet been accepted by the server.
    bool hasPendingState() const { return m_bodyVersion != m_acceptedVersion; }
    // Which publish() call (counted from 1) gave the state the server holds; 0: none.
    // With onPublished() it says which of several states handed over was accepted.
    quint64 acceptedVersion() const { return m_acceptedVersion; }
    int consecutiveFailures() const { return m_backoff.failures(); }
    const PublicationOptions& options() const { return m_options; }

    // When to refresh a publication granted for `expires` seconds (as registrations).
    static base::Duration refreshDelay(quint32 expires);

private:
    enum class Kind { Initial, Modify, Refresh, Remove };

    // ClientTransactionUser
    void onFinal(transaction::TransactionId id, const sip::Message& response) override;
    void onTimeout(transaction::TransactionId id) override;
    void onTransportError(transaction::TransactionId id, const Error& error) override;

    // Sends what is due (the remove, the newest state), unless a PUBLISH is in flight.
    void sendNext();
    void send(Kind kind);
    void changed(quint32 expires, bool keepAlive);
    // The newest state's body, made now if it was handed over as a BodySource.
    const QByteArray& body();
    sip::Message buildRequest(Kind kind);
    void succeeded(const sip::Message& response);
    // No answer came (timeout, transport error).
    void unanswered(int statusCode, const QString& reason);
    void failed(int statusCode, const QString& reason, std::optional<quint32> retryAfter);
    void lost();  // the server no longer knows our entity tag
    void armRefresh();
    void cancelTimers();

    transaction::TransactionLayer& m_transactions;
    base::TimerQueue& m_timers;
    base::Random& m_random;
    PublicationOptions m_options;
    PublicationHandler& m_handler;
    sip::DigestClient m_digest;
    RetryBackoff m_backoff;

    State m_state = State::Idle;
    QByteArray m_routeValue;
    QByteArray m_callId;
    QByteArray m_toValue;    // <entity>, the To of every PUBLISH
    QByteArray m_fromValue;  // <entity>;tag=..., the From
    quint32 m_cseq = 0;

    QByteArray m_body;              // the newest state (once made)
    BodySource m_bodySource;        // the newest state while not yet made
    quint64 m_bodyVersion = 0;      // publish() calls so far
    quint64 m_acceptedVersion = 0;  // the newest of them the server accepted
    quint32 m_requested = 0;
    bool m_keepAlive = true;
    bool m_removeRequested = false;
    QByteArray m_etag;
    quint32 m_granted = 0;
    int m_intervalRetries = 0;

    transaction::TransactionId m_transaction = transaction::kNoTransaction;
    Kind m_inFlightKind = Kind::Initial;
    quint64 m_inFlightVersion = 0;
    base::TimerId m_refreshTimer = base::kNoTimer;
    base::TimerId m_expiryTimer = base::kNoTimer;
    base::TimerId m_retryTimer = base::kNoTimer;
    base::TimerId m_sendTimer = base::kNoTimer;  // a send deferred out of a public call
};

}  // namespace sb::ua
