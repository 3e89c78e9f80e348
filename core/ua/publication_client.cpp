#include "ua/publication_client.h"

#include "base/log.h"
#include "sip/params.h"
#include "sip/uri.h"

namespace sb::ua {

using transaction::kNoTransaction;
using transaction::TransactionId;

namespace {

// A server that keeps raising Min-Expires would otherwise keep us busy (RFC 3903 §11.3).
constexpr int kMaxIntervalRetries = 3;
constexpr int kCallIdLength = 24;
constexpr int kTagLength = 12;

// A token of `length` characters from [0-9a-z], as Random::token gives, drawing 64 bits
// per 12 characters instead of per character (a publication is made per call side and
// entity, and the system source costs a few hundred cycles a draw).
QByteArray token(base::Random& random, int length) {
    static constexpr char kAlphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    constexpr int kPerDraw = 12;  // 36^12 < 2^64
    QByteArray out(length, Qt::Uninitialized);
    quint64 bits = 0;
    for (int i = 0; i < length; ++i) {
        if (i % kPerDraw == 0) bits = random.next();
        out[i] = kAlphabet[bits % 36];
        bits /= 36;
    }
    return out;
}

QString reasonOf(const sip::Message& response) {
    return QStringLiteral("%1 %2")
        .arg(response.statusCode())
        .arg(QString::fromUtf8(response.reasonPhrase()));
}

}  // namespace

PublicationClient::PublicationClient(transaction::TransactionLayer& transactions,
                                     base::TimerQueue& timers, base::Random& random,
                                     PublicationOptions options, PublicationHandler& handler)
    : m_transactions(transactions),
      m_timers(timers),
      m_random(random),
      m_options(std::move(options)),
      m_handler(handler),
      m_digest(random),
      m_backoff(random, m_options.backoffBase, m_options.backoffMax) {}

PublicationClient::~PublicationClient() {
    cancelTimers();
    if (m_transaction != kNoTransaction) m_transactions.forget(m_transaction);
}

Result<void> PublicationClient::start() {
    auto entity = sip::Uri::parse(m_options.entityUri);
    if (!entity || !entity->isSip()) {
        return fail(ErrorKind::Config,
                    QStringLiteral("the published entity \"%1\" is not a SIP URI")
                        .arg(QString::fromUtf8(m_options.entityUri)));
    }
    m_routeValue.clear();
    if (!m_options.outboundProxyUri.isEmpty()) {
        auto route = sip::Uri::parse(m_options.outboundProxyUri);
        if (!route || !route->isSip()) {
            return fail(ErrorKind::Config, QStringLiteral("outbound proxy \"%1\" is not a SIP URI")
                                               .arg(QString::fromUtf8(m_options.outboundProxyUri)));
        }
        m_routeValue =
            "<" + m_options.outboundProxyUri + (route->params.has("lr") ? "" : ";lr") + ">";
    }
    const QByteArray authUser =
        !m_options.authUser.isEmpty() ? m_options.authUser : sip::percentDecode(entity->user);
    m_digest.setCredentials(authUser, m_options.password);
    m_callId = token(m_random, kCallIdLength);
    m_toValue = "<" + m_options.entityUri + ">";
    m_fromValue = m_toValue + ";tag=" + token(m_random, kTagLength);
    return {};
}

base::Duration PublicationClient::refreshDelay(quint32 expires) {
    // Short publications refresh at half-time; long ones a minute early, which leaves
    // room for a full Timer F (32 s) and an auth round trip.
    if (expires <= 120) return base::Duration(qint64(expires) * 500);
    return std::chrono::seconds(expires - 60);
}

void PublicationClient::publish(QByteArray body, quint32 expires, bool keepAlive) {
    if (m_state == State::Removed || m_removeRequested) return;  // remove() was final
    m_body = std::move(body);
    m_bodySource = nullptr;
    changed(expires, keepAlive);
}

void PublicationClient::publish(BodySource body, quint32 expires, bool keepAlive) {
    if (m_state == State::Removed || m_removeRequested) return;  // remove() was final
    m_body.clear();
    m_bodySource = std::move(body);
    changed(expires, keepAlive);
}

const QByteArray& PublicationClient::body() {
    if (m_bodySource) {
        m_body = m_bodySource();
        m_bodySource = nullptr;
    }
    return m_body;
}

void PublicationClient::changed(quint32 expires, bool keepAlive) {
    ++m_bodyVersion;
    m_requested = expires != 0 ? expires : m_options.expires;
    m_keepAlive = keepAlive;
    m_intervalRetries = 0;
    // Out of the caller's call: several changes in one pass of the event loop go out
    // as one PUBLISH, and the handler never hears of a failure from inside publish().
    if (m_sendTimer == base::kNoTimer && m_retryTimer == base::kNoTimer) {
        m_sendTimer = m_timers.start(base::Duration::zero(), [this] {
            m_sendTimer = base::kNoTimer;
            sendNext();
        });
    }
}

void PublicationClient::remove() {
    if (m_state == State::Removed || m_removeRequested) return;
    m_removeRequested = true;
    m_state = State::Removing;
    m_timers.cancel(m_refreshTimer);
    m_refreshTimer = base::kNoTimer;
    m_timers.cancel(m_retryTimer);
    m_retryTimer = base::kNoTimer;
    if (m_sendTimer == base::kNoTimer) {
        m_sendTimer = m_timers.start(base::Duration::zero(), [this] {
            m_sendTimer = base::kNoTimer;
            sendNext();
        });
    }
}

void PublicationClient::resume(QByteArray etag, quint32 secondsLeft, quint32 refreshExpires) {
    if (m_state != State::Idle || etag.isEmpty() || secondsLeft == 0) return;
    m_etag = std::move(etag);
    m_granted = secondsLeft;
    m_state = State::Published;
    if (refreshExpires != 0) {
        m_requested = refreshExpires;
        m_keepAlive = true;
        armRefresh();
        return;
    }
    m_timers.cancel(m_expiryTimer);
    // Nothing to refresh with until the caller publishes again; until then the server
    // lets it run out, and so do we.
    m_expiryTimer = m_timers.start(std::chrono::seconds(secondsLeft), [this] {
        m_expiryTimer = base::kNoTimer;
        if (m_transaction != kNoTransaction || m_state != State::Published) return;
        m_etag.clear();
        m_state = State::Idle;
    });
}

void PublicationClient::sendNext() {
    if (m_transaction != kNoTransaction) return;
    if (m_removeRequested) {
        if (m_etag.isEmpty()) {
            // Nothing held by the server: removed already.
            m_state = State::Removed;
            cancelTimers();
            m_handler.onRemoved();
            return;
        }
        send(Kind::Remove);
        return;
    }
    if (m_bodyVersion == m_acceptedVersion) return;
    send(m_etag.isEmpty() ? Kind::Initial : Kind::Modify);
}

void PublicationClient::send(Kind kind) {
    m_timers.cancel(m_retryTimer);
    m_retryTimer = base::kNoTimer;
    sip::Message request = buildRequest(kind);
    m_digest.authorize(request);
    auto sent = m_transactions.sendRequest(std::move(request), m_options.server, this);
    if (!sent) {
        qCDebug(lcUa) << "PUBLISH for" << m_options.entityUri << "not sent:" << sent.error().reason;
        failed(503, QStringLiteral("transport error: %1").arg(sent.error().reason), std::nullopt);
        return;
    }
    m_transaction = *sent;
    m_inFlightKind = kind;
    m_inFlightVersion = m_bodyVersion;
    if (m_state == State::Idle || m_state == State::RetryWait)
        m_state = m_etag.isEmpty() ? State::Publishing : State::Published;
}

sip::Message PublicationClient::buildRequest(Kind kind) {
    using sip::HeaderId;
    sip::Message request = sip::Message::request(sip::Method::Publish, m_options.entityUri);
    if (!m_routeValue.isEmpty()) request.addHeader(HeaderId::Route, m_routeValue);
    request.addHeader(HeaderId::MaxForwards, QByteArrayLiteral("70"));
    // RFC 3903 §4: To and From name the resource.
    request.addHeader(HeaderId::To, m_toValue);
    request.addHeader(HeaderId::From, m_fromValue);
    request.addHeader(HeaderId::CallId, m_callId);
    QByteArray cseq = QByteArray::number(++m_cseq);
    cseq += " PUBLISH";
    request.addHeader(HeaderId::CSeq, std::move(cseq));
    request.addHeader(HeaderId::Event, m_options.event);
    request.addHeader(HeaderId::Expires,
                      QByteArray::number(kind == Kind::Remove ? 0 : m_requested));
    // §4.1: SIP-If-Match names the publication a modify, refresh or remove is about.
    if (kind != Kind::Initial) request.addHeader(HeaderId::SipIfMatch, m_etag);
    if (!m_options.userAgent.isEmpty()) request.addHeader(HeaderId::UserAgent, m_options.userAgent);
    // §4.1: an initial PUBLISH and a modify carry the state; a refresh and a remove none.
    if (kind == Kind::Initial || kind == Kind::Modify)
        request.setBody(m_options.contentType, body());
    return request;
}

void PublicationClient::onFinal(TransactionId id, const sip::Message& response) {
    if (id != m_transaction || response.statusCode() < 200) return;
    m_transaction = kNoTransaction;
    const int code = response.statusCode();
    if (code < 300) {
        succeeded(response);
        return;
    }
    if (code == 401 || code == 407) {
        auto answered = m_digest.handleChallenge(response);
        if (answered) {
            // Again with credentials, carrying the newest state.
            send(m_inFlightKind == Kind::Refresh && hasPendingState() ? Kind::Modify
                                                                      : m_inFlightKind);
        } else {
            failed(code, reasonOf(response) + QStringLiteral(": ") + answered.error().reason,
                   std::nullopt);
        }
        return;
    }
    m_digest.markAccepted();
    if (code == 412) {
        // §6: the server does not know our entity tag (it expired or the server
        // restarted). A new publication, with the current state.
        if (m_inFlightKind == Kind::Remove) {
            m_etag.clear();
            sendNext();  // reports the removal
            return;
        }
        qCDebug(lcUa) << "publication of" << m_options.entityUri << "unknown to the server (412)";
        lost();
        sendNext();
        return;
    }
    if (code == 423) {
        // §11.3: ask for at least Min-Expires.
        const std::optional<quint32> minimum = response.minExpires();
        if (minimum && *minimum > m_requested && m_intervalRetries < kMaxIntervalRetries) {
            m_requested = *minimum;
            ++m_intervalRetries;
            send(m_inFlightKind == Kind::Refresh && hasPendingState()
                     ? (m_etag.isEmpty() ? Kind::Initial : Kind::Modify)
                     : m_inFlightKind);
            return;
        }
    }
    if (m_inFlightKind == Kind::Remove) {
        // The server refuses the removal: it lets the publication run out instead.
        m_etag.clear();
        sendNext();
        return;
    }
    failed(code, reasonOf(response), response.retryAfter());
}

void PublicationClient::onTimeout(TransactionId id) {
    // RFC 3261 §8.1.3.1: Timer F is a 408.
    if (id == m_transaction) unanswered(408, QStringLiteral("408 Request Timeout"));
}

void PublicationClient::onTransportError(TransactionId id, const Error& error) {
    // §8.1.3.1: a transport error counts as a 503.
    if (id == m_transaction)
        unanswered(503, QStringLiteral("transport error: %1").arg(error.reason));
}

void PublicationClient::unanswered(int statusCode, const QString& reason) {
    m_transaction = kNoTransaction;
    if (m_inFlightKind == Kind::Remove) {
        // A removal is not retried: the server lets the publication run out anyway.
        m_etag.clear();
        sendNext();
        return;
    }
    failed(statusCode, reason, std::nullopt);
}

void PublicationClient::succeeded(const sip::Message& response) {
    m_digest.markAccepted();
    m_backoff.reset();
    if (m_inFlightKind == Kind::Remove) {
        m_etag.clear();
        m_granted = 0;
        sendNext();  // reports the removal
        return;
    }
    // §11.3: the 2xx carries the entity tag of the publication and its lifetime.
    const QByteArrayView etag = response.sipETag().trimmed();
    m_etag = etag.toByteArray();
    m_granted = response.expires().value_or(m_requested);
    if (m_inFlightKind != Kind::Refresh) m_acceptedVersion = m_inFlightVersion;
    m_state = m_removeRequested ? State::Removing : State::Published;
    if (m_etag.isEmpty()) {
        // Without an entity tag nothing can be modified: the next state starts anew.
        qCInfo(lcUa) << "PUBLISH for" << m_options.entityUri << "answered without SIP-ETag";
    }
    armRefresh();
    if (!m_removeRequested) m_handler.onPublished(m_etag, m_granted);
    sendNext();
}

void PublicationClient::armRefresh() {
    m_timers.cancel(m_refreshTimer);
    m_refreshTimer = base::kNoTimer;
    m_timers.cancel(m_expiryTimer);
    m_expiryTimer = base::kNoTimer;
    if (m_etag.isEmpty() || m_granted == 0 || m_removeRequested) return;
    if (m_keepAlive) {
        m_refreshTimer = m_timers.start(refreshDelay(m_granted), [this] {
            m_refreshTimer = base::kNoTimer;
            if (m_transaction != kNoTransaction || m_removeRequested) return;
            m_intervalRetries = 0;
            // A newer state that waits goes out instead (it refreshes as well).
            send(hasPendingState() ? Kind::Modify : Kind::Refresh);
        });
        return;
    }
    // Left to run out: the server forgets it then, and so do we.
    m_expiryTimer = m_timers.start(std::chrono::seconds(m_granted), [this] {
        m_expiryTimer = base::kNoTimer;
        if (m_transaction != kNoTransaction || m_removeRequested) return;
        m_etag.clear();
        if (m_state == State::Published) m_state = State::Idle;
    });
}

void PublicationClient::lost() {
    m_etag.clear();
    m_granted = 0;
    m_acceptedVersion = 0;  // the server holds nothing of ours
    if (m_bodyVersion == 0) m_bodyVersion = 1;
    m_timers.cancel(m_refreshTimer);
    m_refreshTimer = base::kNoTimer;
    m_timers.cancel(m_expiryTimer);
    m_expiryTimer = base::kNoTimer;
    m_state = State::Publishing;
}

void PublicationClient::failed(int statusCode, const QString& reason,
                               std::optional<quint32> retryAfter) {
    std::optional<base::Duration> atLeast;
    if (retryAfter) atLeast = std::chrono::seconds(*retryAfter);
    const base::Duration wait = m_backoff.failed(atLeast);
    qCInfo(lcUa) << "PUBLISH for" << m_options.entityUri << "failed:" << reason << "- again in"
                 << wait.count() << "ms";
    m_state = State::RetryWait;
    // The state that failed is not kept apart: the retry carries whatever is newest
    // (a failed modify left it pending). After a failed refresh nobody knows whether
    // the server still holds the publication: the retry carries the state again.
    if (m_inFlightKind == Kind::Refresh) m_acceptedVersion = 0;
    m_timers.cancel(m_retryTimer);
    m_retryTimer = m_timers.start(wait, [this] {
        m_retryTimer = base::kNoTimer;
        sendNext();
    });
    m_handler.onPublishFailed(statusCode, reason, wait);
}

void PublicationClient::cancelTimers() {
    for (base::TimerId* timer : {&m_refreshTimer, &m_expiryTimer, &m_retryTimer, &m_sendTimer}) {
        m_timers.cancel(*timer);
        *timer = base::kNoTimer;
    }
}

}  // namespace sb::ua
