#include "app/account_session.h"

#include <QTimer>
#include <QUdpSocket>

#include <chrono>

#include "base/event_loop_timers.h"
#include "base/log.h"
#include "base/random.h"
#include "sip/uri.h"
#include "transaction/transaction_layer.h"
#include "transport/server_locator.h"
#include "transport/sip_transport.h"
#include "transport/system_dns_resolver.h"
#include "ua/registration_client.h"

namespace sb::app {

namespace {

using namespace std::chrono_literals;

// Without an answer from DNS there is no registration client yet to back off; try again
// after the client's own first back-off step.
constexpr base::Duration kLocateRetry = 30s;

bool isAnyAddress(const QHostAddress& address) {
    return address == QHostAddress(QHostAddress::AnyIPv4) ||
           address == QHostAddress(QHostAddress::AnyIPv6) ||
           address == QHostAddress(QHostAddress::Any);
}

// The address this host uses towards `remote`: connecting a UDP socket sends nothing,
// it only asks the routing table. Needed for a Contact when we listen on 0.0.0.0.
QHostAddress sourceAddressTowards(const QHostAddress& remote) {
    QUdpSocket probe;
    probe.connectToHost(remote, 9);
    if (!probe.waitForConnected(0) && probe.state() != QAbstractSocket::ConnectedState) return {};
    return probe.localAddress();
}

quint32 wholeSecondsUp(base::Duration duration) {
    return static_cast<quint32>((std::max(duration, base::Duration::zero()) + 999ms) / 1s);
}

}  // namespace

// The core objects, in construction order; the transaction layer sits between the
// transport and the registration, and this struct forwards transport events to both.
struct AccountSession::Core final : transport::TransportUser, ua::RegistrationHandler {
    Core(AccountSession& owner, const Config& config)
        : session(owner),
          transport(timers),
          transactions(transport, timers, random,
                       transaction::TimerValues{config.sip.t1, config.sip.t2, config.sip.t4}),
          locator(dns, timers, random) {
        // The transaction layer registered itself; flow failures also concern the
        // registration (RFC 5626 §4.4.1: re-register over a new flow).
        transport.setUser(this);
    }
    ~Core() override {
        registration.reset();
        if (lookup != 0) locator.cancel(lookup);
        if (retryTimer != base::kNoTimer) timers.cancel(retryTimer);
        transport.setUser(&transactions);
    }

    // TransportUser
    void onMessage(transport::IncomingMessage&& incoming) override {
        transactions.onMessage(std::move(incoming));
    }
    void onFlowFailed(const transport::Endpoint& remote, const Error& error) override {
        transactions.onFlowFailed(remote, error);
        if (registration) registration->handleFlowFailure(remote);
    }

    // RegistrationHandler
    void onRegistered(quint32 expires, const std::vector<QByteArray>& contacts) override {
        (void)contacts;
        RegistrationStatus status = session.m_status;
        status.state = RegistrationStatus::State::Registered;
        status.expires = expires;
        status.code = 0;
        status.reason.clear();
        status.retryIn.reset();
        session.report(status);
    }
    void onRegistrationFailed(int statusCode, const QString& reason,
                              base::Duration retryIn) override {
        RegistrationStatus status = session.m_status;
        status.state = RegistrationStatus::State::Failed;
        status.expires = 0;
        status.code = statusCode;
        // The client says "403 Forbidden"; the code has its own field.
        const QString prefix = QString::number(statusCode) + QLatin1Char(' ');
        status.reason = reason.startsWith(prefix) ? reason.mid(prefix.size()) : reason;
        status.retryIn = wholeSecondsUp(retryIn);
        session.report(status);
    }
    void onUnregistered() override {
        RegistrationStatus status = session.m_status;
        status.state = RegistrationStatus::State::Unregistered;
        status.expires = 0;
        status.code = 0;
        status.reason.clear();
        status.retryIn.reset();
        session.report(status);
        if (session.m_stopping) session.finishStop();
    }

    AccountSession& session;
    base::EventLoopTimers timers;
    base::SystemRandom random;
    transport::SipTransport transport;
    transaction::TransactionLayer transactions;
    transport::SystemDnsResolver dns;
    transport::ServerLocator locator;
    std::unique_ptr<ua::RegistrationClient> registration;
    transport::ServerLocator::LookupId lookup = 0;
    base::TimerId retryTimer = base::kNoTimer;
};

AccountSession::AccountSession(Config config, QObject* parent)
    : QObject(parent), m_config(std::move(config)) {
    m_status.aor = m_config.account.aor;
}

AccountSession::~AccountSession() = default;

void AccountSession::setSipTrace(base::SipTrace* trace) {
    m_trace = trace;
    if (m_core) m_core->transport.setTrace(trace);
}

Result<void> AccountSession::open() {
    if (m_core) return {};
    auto core = std::make_unique<Core>(*this, m_config);
    core->transport.setTrace(m_trace);
    for (const ListenAddress& listen : m_config.sip.listen) {
        const transport::Endpoint local{listen.protocol, listen.address, listen.port};
        if (const Result<transport::Endpoint> bound = core->transport.listen(local); !bound) {
            return fail(ErrorKind::Transport, QStringLiteral("cannot listen on %1: %2")
                                                  .arg(listen.toString(), bound.error().reason));
        }
    }
    m_core = std::move(core);
    return {};
}

QStringList AccountSession::listenAddresses() const {
    QStringList out;
    if (!m_core) return out;
    for (const transport::Endpoint& endpoint : m_core->transport.listeningEndpoints())
        out << endpoint.toString();
    return out;
}

void AccountSession::startRegistration() {
    if (!m_core || m_stopping || m_core->registration) return;
    RegistrationStatus status = m_status;
    status.state = RegistrationStatus::State::Registering;
    report(status);
    locateRegistrar();
}

void AccountSession::locateRegistrar() {
    const AccountConfig& account = m_config.account;
    // RFC 3263 §4: the outbound proxy when one is set, else the AOR's domain, over the
    // configured transport.
    transport::LocateQuery query;
    if (!account.proxyHost.isEmpty()) {
        query.host = account.proxyHost.toUtf8();
        if (account.proxyPort != 0) query.port = account.proxyPort;
    } else {
        const QByteArray aor = account.aor.toUtf8();
        const Result<sip::Uri> uri = sip::Uri::parse(aor);
        if (!uri) {
            registrationImpossible(uri.error().reason);
            return;
        }
        const Result<transport::LocateQuery> fromUri = transport::LocateQuery::fromUri(*uri);
        if (!fromUri) {
            registrationImpossible(fromUri.error().reason);
            return;
        }
        query = *fromUri;
    }
    query.transport = account.transport;
    qCDebug(lcApp) << "locating" << query.host << "for" << account.aor;
    m_core->lookup =
        m_core->locator.locate(query, [this](Result<transport::ServerTargets> targets) {
            m_core->lookup = 0;
            if (!targets || targets->size() == 0) {
                const QString why =
                    targets ? QStringLiteral("no address found") : targets.error().reason;
                RegistrationStatus status = m_status;
                status.state = RegistrationStatus::State::Failed;
                status.code = 0;
                status.reason = QStringLiteral("cannot locate the registrar: %1").arg(why);
                status.retryIn = wholeSecondsUp(kLocateRetry);
                report(status);
                m_core->retryTimer = m_core->timers.start(kLocateRetry, [this] {
                    m_core->retryTimer = base::kNoTimer;
                    locateRegistrar();
                });
                return;
            }
            std::vector<transport::Endpoint> proxies;
            for (const transport::ServerTarget& target : targets->all())
                proxies.push_back(target.endpoint);
            startClient(std::move(proxies));
        });
}

void AccountSession::startClient(std::vector<transport::Endpoint> proxies) {
    const AccountConfig& account = m_config.account;
    ua::RegistrationOptions options;
    options.aor = account.aor.toUtf8();
    options.authUser = account.authUser.toUtf8();
    options.password = account.password.toUtf8();
    options.expires = account.expires;
    options.transport = account.transport;
    options.userAgent = QByteArrayLiteral("Switchboard/" SB_VERSION);
    options.localEndpoint = m_core->transport.localEndpoint(account.transport);
    if (options.localEndpoint && isAnyAddress(options.localEndpoint->address) && !proxies.empty()) {
        // A Contact must be reachable: name the interface that leads to the registrar.
        const QHostAddress source = sourceAddressTowards(proxies.front().address);
        if (!source.isNull()) options.localEndpoint->address = source;
    }
    options.proxies = std::move(proxies);

    m_core->registration = std::make_unique<ua::RegistrationClient>(
        m_core->transactions, m_core->timers, m_core->random, std::move(options), *m_core);
    if (const Result<void> started = m_core->registration->start(); !started) {
        m_core->registration.reset();
        registrationImpossible(started.error().reason);
    }
}

void AccountSession::registrationImpossible(const QString& reason) {
    // A configuration the client cannot use: no retry would help.
    RegistrationStatus status = m_status;
    status.state = RegistrationStatus::State::Failed;
    status.code = 0;
    status.reason = reason;
    status.retryIn.reset();
    report(status);
}

void AccountSession::stop(base::Duration bound) {
    if (m_stopping) return;
    m_stopping = true;
    if (m_core) {
        if (m_core->lookup != 0) m_core->locator.cancel(m_core->lookup);
        m_core->lookup = 0;
        if (m_core->retryTimer != base::kNoTimer) m_core->timers.cancel(m_core->retryTimer);
        m_core->retryTimer = base::kNoTimer;
    }
    if (m_core && m_core->registration) {
        // RFC 3261 §10.2.2: remove our binding; onUnregistered() finishes the stop, the
        // bound keeps a silent registrar from holding us up.
        QTimer::singleShot(bound, this, [this] {
            qCWarning(lcApp) << "no answer to the un-REGISTER in time; quitting anyway";
            finishStop();
        });
        m_core->registration->stop();
        return;
    }
    QTimer::singleShot(0, this, &AccountSession::finishStop);
}

void AccountSession::finishStop() {
    if (m_stopped) return;
    m_stopped = true;
    if (m_status.state != RegistrationStatus::State::Unregistered) {
        RegistrationStatus status = m_status;
        status.state = RegistrationStatus::State::Unregistered;
        status.expires = 0;
        status.retryIn.reset();
        if (m_status.state == RegistrationStatus::State::Registered) {
            status.code = 0;
            status.reason = QStringLiteral("no answer to the un-REGISTER");
        }
        report(status);
    }
    emit stopped();
}

void AccountSession::report(RegistrationStatus status) {
    status.aor = m_config.account.aor;
    if (status == m_status && status.state != RegistrationStatus::State::Registered) return;
    m_status = std::move(status);
    qCDebug(lcApp) << "registration" << stateName(m_status.state) << m_status.code
                   << m_status.reason;
    emit registrationChanged(m_status);
}

}  // namespace sb::app
