#include "ua/registration_client.h"

#include <QHostAddress>

#include <algorithm>

#include "base/log.h"
#include "sip/params.h"
#include "sip/typed_headers.h"
#include "sip/uri.h"

namespace sb::ua {

using transaction::kNoTransaction;
using transaction::TransactionId;

namespace {

constexpr QByteArrayView kMaxForwards = "70";
// A registrar that keeps raising Min-Expires would otherwise keep us busy (§10.2.8).
constexpr int kMaxIntervalRetries = 3;
constexpr int kCallIdLength = 24;
constexpr int kTagLength = 12;

QString reasonOf(const sip::Message& response) {
    return QStringLiteral("%1 %2")
        .arg(response.statusCode())
        .arg(QString::fromUtf8(response.reasonPhrase()));
}

QByteArray uriHost(const QHostAddress& address) {
    const QByteArray text = address.toString().toLatin1();
    return address.protocol() == QAbstractSocket::IPv6Protocol ? "[" + text + "]" : text;
}

}  // namespace

// Reports made while a public call is running are queued to the event loop, so the
// handler never re-enters its caller (CONVENTIONS.md).
class RegistrationClient::SyncCall {
public:
    explicit SyncCall(RegistrationClient& client) : m_client(client) { ++m_client.m_syncDepth; }
    ~SyncCall() { --m_client.m_syncDepth; }
    SyncCall(const SyncCall&) = delete;
    SyncCall& operator=(const SyncCall&) = delete;

private:
    RegistrationClient& m_client;
};

RegistrationClient::RegistrationClient(transaction::TransactionLayer& transactions,
                                       base::TimerQueue& timers, base::Random& random,
                                       RegistrationOptions options, RegistrationHandler& handler)
    : m_transactions(transactions),
      m_timers(timers),
      m_random(random),
      m_options(std::move(options)),
      m_handler(handler),
      m_digest(random),
      m_backoff(random, m_options.backoffBase, m_options.backoffMax) {}

RegistrationClient::~RegistrationClient() {
    abandonTransaction();
    cancelTimers();
    if (m_reportTimer != base::kNoTimer) m_timers.cancel(m_reportTimer);
}

Result<void> RegistrationClient::start() {
    if (m_state != State::Idle && m_state != State::Unregistered)
        return fail(ErrorKind::Protocol, QStringLiteral("registration already running"));
    auto aor = sip::Uri::parse(m_options.aor);
    if (!aor || !aor->isSip() || aor->host.isEmpty())
        return fail(ErrorKind::Config, QStringLiteral("address-of-record \"%1\" is not a SIP URI")
                                           .arg(QString::fromUtf8(m_options.aor)));
    if (m_options.expires == 0)
        return fail(ErrorKind::Config, QStringLiteral("expires must be greater than 0"));

    // §10.2: the Request-URI names the domain of the location service, without user.
    m_registrarUri = !m_options.registrarUri.isEmpty()
                         ? m_options.registrarUri
                         : aor->schemeText.toByteArray() + ':' + aor->hostPort();
    const QByteArray aorText = "<" + m_options.aor + ">";
    m_toValue = m_options.displayName.isEmpty()
                    ? aorText
                    : sip::quote(m_options.displayName.toUtf8()) + ' ' + aorText;

    m_contactUser = aor->user.toByteArray();
    if (m_options.contactUri.isEmpty() && !m_options.localEndpointFor && !m_options.localEndpoint)
        return fail(ErrorKind::Config,
                    QStringLiteral("no contact URI and no local endpoint to build one from"));
    // Known before the first target when it does not depend on one; else built per target.
    m_contactUri = !m_options.contactUri.isEmpty() ? m_options.contactUri
                   : !m_options.localEndpointFor && m_options.localEndpoint
                       ? contactFrom(*m_options.localEndpoint)
                       : QByteArray();

    m_destinations = m_options.proxies;
    if (m_destinations.empty() && !m_options.locateEachAttempt) {
        QHostAddress address;
        if (!address.setAddress(QString::fromLatin1(aor->host)))
            return fail(ErrorKind::Config,
                        QStringLiteral("no proxy given and the AoR's host \"%1\" is not an "
                                       "address; set a proxy")
                            .arg(QString::fromLatin1(aor->host)));
        const quint16 defaultPort = m_options.transport == transport::Protocol::Tls ? 5061 : 5060;
        m_destinations.push_back(
            transport::Endpoint{m_options.transport, address, aor->port.value_or(defaultPort)});
    }

    m_routeValue.clear();
    if (!m_options.outboundProxyUri.isEmpty()) {
        // RFC 3261 §8.1.2 / §16.12: a preloaded loose route.
        auto route = sip::Uri::parse(m_options.outboundProxyUri);
        if (!route || !route->isSip())
            return fail(ErrorKind::Config, QStringLiteral("outbound proxy \"%1\" is not a SIP URI")
                                               .arg(QString::fromUtf8(m_options.outboundProxyUri)));
        m_routeValue =
            "<" + m_options.outboundProxyUri + (route->params.has("lr") ? "" : ";lr") + ">";
    }

    const QByteArray authUser =
        !m_options.authUser.isEmpty() ? m_options.authUser : sip::percentDecode(aor->user);
    m_digest.setCredentials(authUser, m_options.password);
    m_digest.reset();

    m_callId = m_random.token(kCallIdLength);
    m_fromTag = m_random.token(kTagLength);
    m_cseq = 0;
    m_requested = m_options.expires;
    m_granted = 0;
    m_backoff.reset();

    SyncCall guard(*this);
    qCDebug(lcUa) << "registering" << m_options.aor;
    beginAttempt();
    return {};
}

void RegistrationClient::stop() {
    SyncCall guard(*this);
    cancelTimers();
    switch (m_state) {
        case State::Registered:
        case State::Registering:
            // A REGISTER in flight may still create the binding: remove it either way.
            abandonTransaction();
            m_state = State::Unregistering;
            send();
            break;
        case State::Unregistering:
            break;
        case State::Idle:
        case State::Locating:
        case State::RetryWait:
        case State::Unregistered:
            finishUnregister();
            break;
    }
}

void RegistrationClient::refreshNow() {
    SyncCall guard(*this);
    if (m_state != State::Registered && m_state != State::RetryWait) return;
    if (m_transaction != kNoTransaction) return;
    cancelTimers();
    m_intervalRetries = 0;
    if (m_state == State::RetryWait) {
        // A new attempt from the first target, as after the back-off.
        beginAttempt();
        return;
    }
    send();
}

void RegistrationClient::handleFlowFailure(const transport::Endpoint& remote) {
    if (m_state != State::Registered || m_transaction != kNoTransaction) return;
    if (m_destination >= m_destinations.size() || !(m_destinations[m_destination] == remote))
        return;
    qCDebug(lcUa) << "flow to" << remote.toString() << "failed; re-registering";
    refreshNow();
}

void RegistrationClient::setProxies(std::vector<transport::Endpoint> proxies) {
    SyncCall guard(*this);
    m_options.proxies = std::move(proxies);
    if (m_state != State::Locating) return;
    if (m_options.proxies.empty()) {
        failed(0, QStringLiteral("no next hop to send the REGISTER to"), std::nullopt);
        return;
    }
    m_destinations = m_options.proxies;
    m_destination = 0;
    m_state = State::Registering;
    send();
}

void RegistrationClient::locateFailed(const QString& reason) {
    SyncCall guard(*this);
    if (m_state != State::Locating) return;
    failed(0, reason, std::nullopt);
}

std::optional<transport::Endpoint> RegistrationClient::currentDestination() const {
    if (m_state == State::Locating || m_destination >= m_destinations.size()) return std::nullopt;
    return m_destinations[m_destination];
}

base::Duration RegistrationClient::refreshDelay(quint32 expires) {
    // Short bindings refresh at half-time; long ones a minute early, which leaves room
    // for a full Timer F (32 s) and an auth round trip.
    if (expires <= 120) return base::Duration(qint64(expires) * 500);
    return std::chrono::seconds(expires - 60);
}

void RegistrationClient::beginAttempt() {
    m_destination = 0;
    m_intervalRetries = 0;
    if (m_options.locateEachAttempt) {
        // RFC 3263 §4: locate afresh; the handler answers with setProxies/locateFailed.
        m_state = State::Locating;
        report([this] {
            if (m_state == State::Locating) m_handler.onTargetsNeeded();
        });
        return;
    }
    if (!m_options.proxies.empty()) m_destinations = m_options.proxies;
    m_state = State::Registering;
    send();
}

void RegistrationClient::send() {
    sendTo(m_destination);
}

void RegistrationClient::sendTo(std::size_t index) {
    m_destination = index;
    const transport::Endpoint target = m_destinations[index];
    const bool unregister = m_state == State::Unregistering;
    if (!unregister) {
        // The un-REGISTER removes the Contact last registered; a REGISTER names the
        // address this target reaches us at.
        const std::optional<QByteArray> contact = contactFor(target);
        if (!contact) {
            failOver(503, QStringLiteral("no local address reaches %1").arg(target.toString()),
                     std::nullopt);
            return;
        }
        if (*contact != m_contactUri)
            qCDebug(lcUa) << "contact towards" << target.toString() << "is" << *contact;
        m_contactUri = *contact;
    }
    sip::Message request = buildRequest(unregister ? 0 : m_requested);
    m_digest.authorize(request);
    auto id = m_transactions.sendRequest(std::move(request), target, this);
    if (id) {
        m_transaction = *id;
        return;
    }
    // No transaction was created, so no callback will come: handle it as a transport error.
    qCDebug(lcUa) << "REGISTER to" << target.toString() << "not sent:" << id.error().reason;
    if (unregister) {
        finishUnregister();
        return;
    }
    failOver(503, QStringLiteral("transport error: %1").arg(id.error().reason), std::nullopt);
}

std::optional<QByteArray> RegistrationClient::contactFor(const transport::Endpoint& target) const {
    if (!m_options.contactUri.isEmpty()) return m_options.contactUri;
    if (m_options.localEndpointFor) {
        const std::optional<transport::Endpoint> local = m_options.localEndpointFor(target);
        if (!local) return std::nullopt;
        return contactFrom(*local);
    }
    if (m_options.localEndpoint) return contactFrom(*m_options.localEndpoint);
    return std::nullopt;
}

QByteArray RegistrationClient::contactFrom(const transport::Endpoint& local) const {
    QByteArray uri = "sip:";
    if (!m_contactUser.isEmpty()) uri += m_contactUser + '@';
    uri += uriHost(local.address) + ':' + QByteArray::number(local.port);
    if (local.protocol != transport::Protocol::Udp)
        uri += ";transport=" + transport::protocolName(local.protocol).toByteArray().toLower();
    return uri;
}

sip::Message RegistrationClient::buildRequest(quint32 expires) {
    using sip::HeaderId;
    sip::Message request = sip::Message::request(sip::Method::Register, m_registrarUri);
    if (!m_routeValue.isEmpty()) request.addHeader(HeaderId::Route, m_routeValue);
    request.addHeader(HeaderId::MaxForwards, kMaxForwards.toByteArray());
    // §10.2: To and From carry the AoR; Call-ID stays, CSeq grows across refreshes.
    request.addHeader(HeaderId::To, m_toValue);
    request.addHeader(HeaderId::From, m_toValue + ";tag=" + m_fromTag);
    request.addHeader(HeaderId::CallId, m_callId);
    request.addHeader(HeaderId::CSeq, QByteArray::number(++m_cseq) + " REGISTER");
    request.addHeader(HeaderId::Contact,
                      "<" + m_contactUri + ">;expires=" + QByteArray::number(expires));
    request.addHeader(HeaderId::Expires, QByteArray::number(expires));
    if (!m_options.userAgent.isEmpty()) request.addHeader(HeaderId::UserAgent, m_options.userAgent);
    return request;
}

void RegistrationClient::onFinal(TransactionId id, const sip::Message& response) {
    if (id != m_transaction || response.statusCode() < 200) return;
    m_transaction = kNoTransaction;
    if (m_state == State::Unregistering) {
        handleUnregisterFinal(response);
    } else {
        handleRegisterFinal(response);
    }
}

void RegistrationClient::onTimeout(TransactionId id) {
    if (id != m_transaction) return;
    m_transaction = kNoTransaction;
    if (m_state == State::Unregistering) {
        finishUnregister();
        return;
    }
    // §8.1.3.1: Timer F is a 408; RFC 3263 §4.3: try the next hop.
    failOver(408, QStringLiteral("408 Request Timeout"), std::nullopt);
}

void RegistrationClient::onTransportError(TransactionId id, const Error& error) {
    if (id != m_transaction) return;
    m_transaction = kNoTransaction;
    if (m_state == State::Unregistering) {
        finishUnregister();
        return;
    }
    // §8.1.3.1: a transport error counts as a 503.
    failOver(503, QStringLiteral("transport error: %1").arg(error.reason), std::nullopt);
}

void RegistrationClient::handleRegisterFinal(const sip::Message& response) {
    const int code = response.statusCode();
    if (code < 300) {
        registered(response);
        return;
    }
    if (code == 401 || code == 407) {
        auto answered = m_digest.handleChallenge(response);
        if (answered) {
            send();
        } else {
            failed(code, reasonOf(response) + QStringLiteral(": ") + answered.error().reason,
                   std::nullopt);
        }
        return;
    }
    if (code == 423) {
        // §10.2.8: retry with at least Min-Expires.
        const std::optional<quint32> minimum = response.minExpires();
        if (minimum && *minimum > m_requested && m_intervalRetries < kMaxIntervalRetries) {
            m_requested = *minimum;
            ++m_intervalRetries;
            send();
        } else {
            failed(code, reasonOf(response), response.retryAfter());
        }
        return;
    }
    if (code == 503) {
        failOver(code, reasonOf(response), response.retryAfter());
        return;
    }
    failed(code, reasonOf(response), response.retryAfter());
}

void RegistrationClient::handleUnregisterFinal(const sip::Message& response) {
    const int code = response.statusCode();
    if ((code == 401 || code == 407) && m_digest.handleChallenge(response)) {
        send();
        return;
    }
    finishUnregister();
}

void RegistrationClient::failOver(int statusCode, const QString& reason,
                                  std::optional<quint32> after) {
    if (m_destination + 1 < m_destinations.size()) {
        qCDebug(lcUa) << "REGISTER via" << m_destinations[m_destination].toString() << "failed ("
                      << reason << "); trying" << m_destinations[m_destination + 1].toString();
        // Another server has its own nonces: start its challenge round afresh.
        m_digest.reset();
        m_intervalRetries = 0;
        sendTo(m_destination + 1);
        return;
    }
    failed(statusCode, reason, after);
}

void RegistrationClient::registered(const sip::Message& response) {
    m_digest.markAccepted();
    m_backoff.reset();
    m_intervalRetries = 0;

    // §10.2.4: the 200 lists every binding; ours carries the lifetime granted, which may
    // be shorter than asked. Fall back to Expires, then to what we asked.
    std::vector<QByteArray> contacts;
    std::optional<quint32> granted;
    auto ours = sip::Uri::parse(m_contactUri);
    if (auto listed = response.contacts()) {
        for (const sip::NameAddr& entry : listed->entries) {
            contacts.push_back(entry.uriText.toByteArray());
            if (granted || !ours || !sip::uriEquivalent(entry.uri, *ours)) continue;
            if (auto expires = entry.params.value("expires"))
                granted = sip::parseUnsigned(*expires);
        }
    }
    if (!granted) granted = response.expires();
    if (!granted) granted = m_requested;
    if (*granted == 0) {
        failed(response.statusCode(), QStringLiteral("registrar kept no binding for our contact"),
               std::nullopt);
        return;
    }

    m_granted = *granted;
    m_state = State::Registered;
    if (m_refreshTimer != base::kNoTimer) m_timers.cancel(m_refreshTimer);
    m_refreshTimer = m_timers.start(refreshDelay(m_granted), [this] {
        m_refreshTimer = base::kNoTimer;
        if (m_state != State::Registered || m_transaction != kNoTransaction) return;
        m_intervalRetries = 0;
        send();
    });
    qCDebug(lcUa) << "registered" << m_options.aor << "for" << m_granted << "s";
    const quint32 expires = m_granted;
    report([this, expires, contacts = std::move(contacts)] {
        m_handler.onRegistered(expires, contacts);
    });
}

void RegistrationClient::failed(int statusCode, const QString& reason,
                                std::optional<quint32> after) {
    m_digest.reset();
    m_destination = 0;
    m_granted = 0;
    m_intervalRetries = 0;
    cancelTimers();

    // RFC 5626 §4.5: a random 50-100 % of the doubled delay, so that many clients
    // failing together do not come back together; Retry-After may ask for longer.
    const base::Duration delay = m_backoff.failed(
        after ? std::optional<base::Duration>(std::chrono::seconds(*after)) : std::nullopt);

    m_state = State::RetryWait;
    m_retryTimer = m_timers.start(delay, [this] {
        m_retryTimer = base::kNoTimer;
        beginAttempt();
    });
    qCInfo(lcUa) << "registration of" << m_options.aor << "failed:" << reason << "- retry in"
                 << delay.count() << "ms";
    report([this, statusCode, reason, delay] {
        m_handler.onRegistrationFailed(statusCode, reason, delay);
    });
}

void RegistrationClient::finishUnregister() {
    m_state = State::Unregistered;
    m_granted = 0;
    qCDebug(lcUa) << "unregistered" << m_options.aor;
    report([this] { m_handler.onUnregistered(); });
}

void RegistrationClient::cancelTimers() {
    if (m_refreshTimer != base::kNoTimer) m_timers.cancel(m_refreshTimer);
    if (m_retryTimer != base::kNoTimer) m_timers.cancel(m_retryTimer);
    m_refreshTimer = base::kNoTimer;
    m_retryTimer = base::kNoTimer;
}

void RegistrationClient::abandonTransaction() {
    if (m_transaction == kNoTransaction) return;
    m_transactions.forget(m_transaction);
    m_transaction = kNoTransaction;
}

void RegistrationClient::report(std::function<void()> call) {
    if (m_syncDepth == 0) {
        call();
        return;
    }
    m_pendingReports.push_back(std::move(call));
    if (m_reportTimer != base::kNoTimer) return;
    m_reportTimer = m_timers.start(base::Duration(0), [this] {
        m_reportTimer = base::kNoTimer;
        while (!m_pendingReports.empty()) {
            auto next = std::move(m_pendingReports.front());
            m_pendingReports.pop_front();
            next();
        }
    });
}

QByteArrayView registrationStateName(RegistrationClient::State state) {
    switch (state) {
        case RegistrationClient::State::Idle:
            return "idle";
        case RegistrationClient::State::Locating:
            return "locating";
        case RegistrationClient::State::Registering:
            return "registering";
        case RegistrationClient::State::Registered:
            return "registered";
        case RegistrationClient::State::RetryWait:
            return "retry-wait";
        case RegistrationClient::State::Unregistering:
            return "unregistering";
        case RegistrationClient::State::Unregistered:
            return "unregistered";
    }
    return "idle";
}

}  // namespace sb::ua
