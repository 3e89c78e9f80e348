#include "app/account_session.h"

#include "app/client_attendant.h"
#include "app/subscription_bridge.h"
#include "board/board_republisher.h"
#include "board/console.h"
#include "sip/message.h"
#include "ua/subscription_set.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QSaveFile>
#include <QTimer>

#include <chrono>

#include "base/event_loop_timers.h"
#include "base/log.h"
#include "sip/uri.h"
#include "transaction/transaction_layer.h"
#include "transport/server_locator.h"
#include "transport/sip_transport.h"
#include "transport/system_dns_resolver.h"
#include "ua/registration_client.h"

namespace sb::app {

namespace {

using namespace std::chrono_literals;

const QByteArray kAllow = QByteArrayLiteral("OPTIONS, NOTIFY, ACK, BYE, CANCEL");
// A saved state file larger than this is not read: thousands of extensions' worth.
constexpr qint64 kMaxSavedState = 16 * 1024 * 1024;
// With a reception queue the console takes INVITEs too (it rings and redirects them).
const QByteArray kAllowWithQueue = QByteArrayLiteral("INVITE, OPTIONS, NOTIFY, ACK, BYE, CANCEL");

quint32 wholeSecondsUp(base::Duration duration) {
    return static_cast<quint32>((std::max(duration, base::Duration::zero()) + 999ms) / 1s);
}

// RFC 3263 §4: the outbound proxy when one is set, else the AOR's domain, over the
// configured transport.
Result<transport::LocateQuery> registrarQuery(const AccountConfig& account) {
    transport::LocateQuery query;
    if (!account.proxyHost.isEmpty()) {
        query.host = account.proxyHost.toUtf8();
        if (account.proxyPort != 0) query.port = account.proxyPort;
    } else {
        // The Uri views its text: keep the bytes alive while it is read.
        const QByteArray aor = account.aor.toUtf8();
        const Result<sip::Uri> uri = sip::Uri::parse(aor);
        if (!uri) return fail(uri.error());
        Result<transport::LocateQuery> fromUri = transport::LocateQuery::fromUri(*uri);
        if (!fromUri) return fail(fromUri.error());
        query = *fromUri;
    }
    query.transport = account.transport;
    return query;
}

// RFC 4662: the full-state NOTIFY of a resource list of 2,000 extensions is a
// multipart body of several hundred KB, over the default 64 KiB message limit; it can
// only come over TCP (a UDP datagram ends at 64 KiB anyway).
transport::SipTransportConfig transportConfig(const Config& config) {
    transport::SipTransportConfig out;
    if (!config.subscriptions.resourceList.isEmpty()) out.limits.maxMessageSize = 4 * 1024 * 1024;
    return out;
}

}  // namespace

// The core objects, in construction order; the transaction layer sits between the
// transport and the registration, and this struct forwards transport events to both.
struct AccountSession::Core final : transport::TransportUser,
                                    transaction::ServerTransactionUser,
                                    ua::RegistrationHandler {
    Core(AccountSession& owner, const Config& config, const AccountSessionSeams& seams)
        : session(owner),
          ownTimers(seams.timers ? nullptr : std::make_unique<base::EventLoopTimers>()),
          ownRandom(seams.random ? nullptr : std::make_unique<base::SystemRandom>()),
          ownDns(seams.dns ? nullptr : std::make_unique<transport::SystemDnsResolver>()),
          timers(seams.timers ? *seams.timers : *ownTimers),
          random(seams.random ? *seams.random : *ownRandom),
          dns(seams.dns ? *seams.dns : *ownDns),
          sourceAddress(seams.sourceAddress ? seams.sourceAddress
                                            : SourceAddressLookup(routedSourceAddress)),
          transport(timers, transportConfig(config)),
          transactions(transport, timers, random,
                       transaction::TimerValues{config.sip.t1, config.sip.t2, config.sip.t4}),
          locator(dns, timers, random) {
        // The transaction layer registered itself; flow failures also concern the
        // registration (RFC 5626 §4.4.1: re-register over a new flow).
        transport.setUser(this);
        transactions.setServerUser(this);
    }
    ~Core() override {
        transactions.setServerUser(nullptr);
        attendant.reset();
        if (bridge) bridge->detach();
        republisher.reset();
        subscriptions.reset();
        bridge.reset();
        registration.reset();
        if (lookup != 0) locator.cancel(lookup);
        if (stopTimer != base::kNoTimer) timers.cancel(stopTimer);
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

    // ServerTransactionUser: NOTIFYs go to the subscriptions, then to the pickups' REFER
    // subscriptions; INVITEs ring in the reception queue when there is one.
    void onRequest(transaction::TransactionId id,
                   const transport::IncomingMessage& incoming) override {
        if (subscriptions && subscriptions->handleRequest(id, incoming)) return;
        const sip::Message& request = incoming.message;
        if (attendant && attendant->onRequest(id, request)) return;
        const QByteArray& allow =
            session.m_config.attendant.options.number.isEmpty() ? kAllow : kAllowWithQueue;
        sip::Message response;
        switch (request.method()) {
            case sip::Method::Options:
                response = sip::makeResponse(request, 200);
                response.addHeader("Allow", allow);
                response.addHeader("Accept", "application/dialog-info+xml");
                break;
            case sip::Method::Notify:
                // RFC 6665 §4.1.3: no subscription it could belong to.
                response = sip::makeResponse(request, 481, "Subscription does not exist");
                break;
            case sip::Method::Invite:
                response = sip::makeResponse(
                    request, 480, attendant ? "Not a new call" : "Console takes no calls");
                break;
            case sip::Method::Bye:
            case sip::Method::Cancel:
                response = sip::makeResponse(request, 481);
                break;
            default:
                response = sip::makeResponse(request, 405);
                response.addHeader("Allow", allow);
                break;
        }
        if (const Result<void> sent = transactions.sendResponse(id, std::move(response)); !sent)
            qCDebug(lcApp) << "cannot answer" << request.methodName() << sent.error().reason;
    }

    void onCancel(transaction::TransactionId inviteId,
                  const transport::IncomingMessage& cancel) override {
        if (attendant) attendant->onCancel(inviteId, cancel.message);
    }

    // RegistrationHandler
    void onRegistered(quint32 expires, const std::vector<QByteArray>& contacts) override {
        (void)contacts;
        if (!attendant) session.startAttendant();
        // Subscriptions go where the registration went (the account's proxy): first
        // once registered, afresh when the registration moved to another server.
        const std::optional<transport::Endpoint> destination =
            registration ? registration->currentDestination() : std::nullopt;
        if (!subscriptions) {
            session.startSubscriptions();
        } else if (destination && lastDestination && !(*destination == *lastDestination)) {
            subscriptions->restartAll();
        }
        lastDestination = destination;
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
        status.reason =
            statusCode != 0 && reason.startsWith(prefix) ? reason.mid(prefix.size()) : reason;
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
    void onTargetsNeeded() override { session.locateRegistrar(); }

    AccountSession& session;
    std::unique_ptr<base::EventLoopTimers> ownTimers;
    std::unique_ptr<base::SystemRandom> ownRandom;
    std::unique_ptr<transport::SystemDnsResolver> ownDns;
    base::TimerQueue& timers;
    base::Random& random;
    transport::DnsResolver& dns;
    SourceAddressLookup sourceAddress;
    transport::SipTransport transport;
    transaction::TransactionLayer transactions;
    transport::ServerLocator locator;
    transport::LocateQuery query;
    std::unique_ptr<ua::RegistrationClient> registration;
    std::unique_ptr<SubscriptionBridge> bridge;
    std::unique_ptr<ua::SubscriptionSet> subscriptions;
    std::unique_ptr<board::BoardRepublisher> republisher;  // [publish] in client mode
    std::unique_ptr<ClientAttendant> attendant;            // queue and pickup, once registered
    std::optional<transport::Endpoint> lastDestination;
    transport::ServerLocator::LookupId lookup = 0;
    base::TimerId stopTimer = base::kNoTimer;
};

AccountSession::AccountSession(Config config, QObject* parent)
    : AccountSession(std::move(config), AccountSessionSeams{}, parent) {}

AccountSession::AccountSession(Config config, AccountSessionSeams seams, QObject* parent)
    : Session(parent), m_config(std::move(config)), m_seams(std::move(seams)) {
    m_status.aor = m_config.account.aor;
}

AccountSession::~AccountSession() = default;

void AccountSession::setSipTrace(base::SipTrace* trace) {
    m_trace = trace;
    if (m_core) m_core->transport.setTrace(trace);
}

Result<void> AccountSession::open() {
    if (m_core) return {};
    auto core = std::make_unique<Core>(*this, m_config, m_seams);
    core->transport.setTrace(m_trace);
    core->transport.setServerLocator(&core->locator);
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

    const AccountConfig& account = m_config.account;
    const Result<transport::LocateQuery> query = registrarQuery(account);
    if (!query) {
        registrationImpossible(query.error().reason);
        return;
    }
    m_core->query = *query;

    ua::RegistrationOptions options;
    options.aor = account.aor.toUtf8();
    options.authUser = account.authUser.toUtf8();
    options.password = account.password.toUtf8();
    options.expires = account.expires;
    options.transport = account.transport;
    options.userAgent = QByteArrayLiteral("Switchboard/" SB_VERSION);
    // RFC 3263 anew for every attempt from the first target (onTargetsNeeded), and a
    // Contact that the current target can reach.
    options.locateEachAttempt = true;
    options.localEndpointFor = [core = m_core.get()](const transport::Endpoint& target) {
        return contactEndpointFor(core->transport.listeningEndpoints(), target,
                                  core->sourceAddress);
    };
    m_core->registration = std::make_unique<ua::RegistrationClient>(
        m_core->transactions, m_core->timers, m_core->random, std::move(options), *m_core);
    if (const Result<void> started = m_core->registration->start(); !started) {
        m_core->registration.reset();
        registrationImpossible(started.error().reason);
    }
}

void AccountSession::setBoard(board::Console* console) {
    m_board = console;
}

void AccountSession::startSubscriptions() {
    if (!m_core || !m_board || m_stopping || m_core->subscriptions) return;
    const AccountConfig& account = m_config.account;
    const SubscriptionsConfig& config = m_config.subscriptions;
    ua::SubscriptionOptions options;
    options.aor = account.aor.toUtf8();
    options.authUser = account.authUser.toUtf8();
    options.password = account.password.toUtf8();
    options.expires = config.expires;
    options.subscribeRate = config.rate;
    options.resourceListUri = config.resourceList.toUtf8();
    options.transport = account.transport;
    options.userAgent = QByteArrayLiteral("Switchboard/" SB_VERSION);
    options.nextHop = [core = m_core.get()]() -> std::optional<transport::Endpoint> {
        return core->registration ? core->registration->currentDestination() : std::nullopt;
    };
    options.localEndpointFor = [core = m_core.get()](const transport::Endpoint& target) {
        return contactEndpointFor(core->transport.listeningEndpoints(), target,
                                  core->sourceAddress);
    };
    m_core->bridge = std::make_unique<SubscriptionBridge>(*m_board);
    m_core->subscriptions = std::make_unique<ua::SubscriptionSet>(
        m_core->transactions, m_core->timers, m_core->random, std::move(options), *m_core->bridge);
    m_core->bridge->attach(*m_core->subscriptions);
    qCDebug(lcApp) << "subscribing to" << m_board->monitoredCount() << "extension(s)";
    startRepublishing();
}

void AccountSession::startAttendant() {
    if (!m_core || !m_core->registration || m_stopping || m_core->attendant) return;
    ClientAttendant::Wiring wiring;
    wiring.contactUri = m_core->registration->contactUri();
    wiring.nextHop = [core = m_core.get()]() -> std::optional<transport::Endpoint> {
        return core->registration ? core->registration->currentDestination() : std::nullopt;
    };
    wiring.localEndpointFor = [core = m_core.get()](const transport::Endpoint& target) {
        return contactEndpointFor(core->transport.listeningEndpoints(), target,
                                  core->sourceAddress);
    };
    m_core->attendant = std::make_unique<ClientAttendant>(
        m_config, m_core->transactions, m_core->timers, m_core->random, m_board, std::move(wiring));
    m_core->attendant->setListener([this](const QueuedCallView& view) { emit callChanged(view); });
}

namespace {
Unexpected notRegistered() {
    return fail(ErrorKind::Protocol,
                QStringLiteral("the console is not registered at the PBX yet: no action is "
                               "possible"));
}
}  // namespace

Result<QString> AccountSession::pickup(const QString& extension, const QString& dialog) {
    if (!m_core || !m_core->attendant) return notRegistered();
    return m_core->attendant->pickup(extension, dialog);
}

Result<QString> AccountSession::forward(const ForwardCommand& command) {
    if (!m_core || !m_core->attendant) return notRegistered();
    return m_core->attendant->forward(command);
}

Result<QString> AccountSession::sendToPhone(quint64 call) {
    if (!m_core || !m_core->attendant) return notRegistered();
    return m_core->attendant->sendToPhone(call);
}

Result<QString> AccountSession::reject(quint64 call, int status) {
    if (!m_core || !m_core->attendant) return notRegistered();
    return m_core->attendant->reject(call, status);
}

QList<QueuedCallView> AccountSession::queue() const {
    if (!m_core || !m_core->attendant) return {};
    return m_core->attendant->queue();
}

QStringList AccountSession::forwardReasons() const {
    QStringList reasons = Session::forwardReasons();
    for (const QByteArray& extra : m_config.attendant.options.extraReasons)
        if (!reasons.contains(QString::fromUtf8(extra))) reasons << QString::fromUtf8(extra);
    return reasons;
}

QString AccountSession::extensionActionsUnavailable() const {
    if (m_config.attendant.options.phoneUser.isEmpty())
        return QStringLiteral("no phone of the operator is configured ([attendant] phone)");
    return {};
}

QString AccountSession::extensionForwardUnavailable() const {
    return ClientAttendant::forwardUnavailable();
}

void AccountSession::startRepublishing() {
    const PublishConfig& publish = m_config.publish;
    if (!publish.enabled || !m_board || m_core->republisher) return;
    board::RepublisherOptions options;
    options.server = transport::Endpoint{publish.transport, QHostAddress(publish.serverHost),
                                         publish.serverPort};
    options.profile = publish.profile;
    options.expires = publish.lifetime != 0 ? publish.lifetime : publish.expires;
    options.userAgent = QByteArrayLiteral("Switchboard/" SB_VERSION);
    options.authUser = m_config.account.authUser.toUtf8();
    options.password = m_config.account.password.toUtf8();
    m_core->republisher = std::make_unique<board::BoardRepublisher>(
        *m_board, m_core->transactions, m_core->timers, m_core->random, std::move(options));
    m_core->republisher->setEventListener([this](const board::RepublishEvent& event) {
        PublicationView view;
        view.entity = event.entity;
        view.state = event.kind == board::RepublishEvent::Kind::Published
                         ? QStringLiteral("published")
                         : QStringLiteral("failed");
        view.dialogState = event.dialogState;
        view.code = event.statusCode;
        view.reason = event.reason;
        emit publicationChanged(view);
    });
    // What the presence server holds survives a restart, a crash included: taken up
    // before the first state goes out, saved when it changes (at most once a second).
    if (!m_stateDirectory.isEmpty()) {
        const QString path = QDir(m_stateDirectory).filePath(QStringLiteral("publications.json"));
        if (QFile file(path); file.open(QIODevice::ReadOnly))
            m_core->republisher->restoreState(file.read(kMaxSavedState),
                                              QDateTime::currentMSecsSinceEpoch());
        m_core->republisher->setStateChangedListener([this] {
            if (m_publicationSavePending) return;
            m_publicationSavePending = true;
            QTimer::singleShot(1000, this, [this] {
                m_publicationSavePending = false;
                savePublicationState();
            });
        });
    }
    m_core->republisher->start();
}

void AccountSession::savePublicationState() {
    if (!m_core || !m_core->republisher || m_stateDirectory.isEmpty()) return;
    const QString path = QDir(m_stateDirectory).filePath(QStringLiteral("publications.json"));
    QDir().mkpath(m_stateDirectory);
    QSaveFile file(path);
    const QByteArray state = m_core->republisher->saveState(QDateTime::currentMSecsSinceEpoch());
    if (!file.open(QIODevice::WriteOnly) || file.write(state) != state.size() || !file.commit())
        qCWarning(lcApp).noquote() << QStringLiteral(
                                          "cannot write %1: %2; publications will not be taken "
                                          "up after a restart")
                                          .arg(path, file.errorString());
}

void AccountSession::locateRegistrar() {
    if (!m_core || !m_core->registration || m_stopping) return;
    if (m_core->lookup != 0) m_core->locator.cancel(m_core->lookup);
    const QByteArray host = m_core->query.host;
    qCDebug(lcApp) << "locating" << host << "for" << m_config.account.aor;
    m_core->lookup = m_core->locator.locate(
        m_core->query, [this, host](Result<transport::ServerTargets> targets) {
            m_core->lookup = 0;
            if (!m_core->registration) return;
            if (!targets || targets->size() == 0) {
                const QString why =
                    targets ? QStringLiteral("no address found for %1").arg(QString::fromUtf8(host))
                            : targets.error().reason;
                // Retried on the registration's own back-off, reported as its failure.
                m_core->registration->locateFailed(QStringLiteral("DNS lookup of %1 failed: %2")
                                                       .arg(QString::fromUtf8(host), why));
                return;
            }
            std::vector<transport::Endpoint> proxies;
            for (const transport::ServerTarget& target : targets->all())
                proxies.push_back(target.endpoint);
            qCDebug(lcApp) << "registrar" << host << "is at" << proxies.size() << "target(s)";
            m_core->registration->setProxies(std::move(proxies));
        });
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
    }
    if (m_core && m_core->republisher) {
        // Removed now (Expires: 0): nothing to take up after the restart.
        m_core->republisher->stop();
        savePublicationState();
    }
    if (m_core && m_core->subscriptions) {
        // RFC 6665 §4.1.2.3: un-SUBSCRIBE everything first, while still registered.
        m_core->bridge->detach();
        m_core->subscriptions->stopAll([this, bound] { stopRegistration(bound); }, bound);
        return;
    }
    stopRegistration(bound);
}

void AccountSession::stopRegistration(base::Duration bound) {
    if (m_core && m_core->registration) {
        // RFC 3261 §10.2.2: remove our binding; onUnregistered() finishes the stop, the
        // bound keeps a silent registrar from holding us up.
        m_core->stopTimer = m_core->timers.start(bound, [this] {
            m_core->stopTimer = base::kNoTimer;
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
    if (m_core && m_core->stopTimer != base::kNoTimer) {
        m_core->timers.cancel(m_core->stopTimer);
        m_core->stopTimer = base::kNoTimer;
    }
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
