#include "app/server_session.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>
#include <QStandardPaths>
#include <QTimer>

#include "app/server_board_bridge.h"
#include "app/users_section.h"
#include "base/event_loop_timers.h"
#include "base/load_pacer.h"
#include "base/log.h"
#include "board/console.h"
#include "server/dialog_publisher.h"
#include "server/sip_server.h"
#include "server/user_store.h"
#include "sip/diversion.h"
#include "transaction/transaction_layer.h"
#include "transport/sip_transport.h"
#include "transport/via_rules.h"

namespace sb::app {

namespace {

server::SipServerOptions serverOptions(const Config& config) {
    const ServerConfig& server = config.server;
    server::SipServerOptions out;
    out.domains = server.domains;
    out.trustLoopback = server.trustLoopback;
    out.trustedPeers = server.trustedPeers;
    out.auth.realm = server.realm.toUtf8();
    out.auth.algorithms = server.digestAlgorithms;
    out.registrar.minExpires = server.minExpires;
    out.registrar.maxExpires = server.maxExpires;
    out.registrar.defaultExpires = server.defaultExpires;
    // Restored bindings are cut to what a REGISTER could have been granted.
    out.bindings.maxLifetime = std::chrono::seconds(server.maxExpires);
    out.proxy.recordRoute = server.recordRoute;
    // Validated as an address by the config; IPv6 goes into URIs in brackets.
    if (!server.recordRouteHost.isEmpty())
        out.proxy.recordRouteHost = transport::hostText(QHostAddress(server.recordRouteHost));
    out.proxy.timerC = std::chrono::seconds(server.timerC);
    if (!server.upstreamHost.isEmpty()) {
        out.proxy.upstream = transport::Endpoint{
            server.upstreamTransport, QHostAddress(server.upstreamHost), server.upstreamPort};
    }
    out.attendant = config.attendant.options;
    out.tracker.lifetime = std::chrono::seconds(server.dialogLifetime);
    out.tracker.calleeTrying = server.calleeTrying;
    // Each entry names a watcher user or a piece of a User-Agent; a watcher that both
    // lists name gets both switches.
    auto addRule = [&out](const QString& match, server::WatcherCompat compat) {
        out.notifier.compatRules.push_back({match, {}, compat});
        out.notifier.compatRules.push_back({{}, match.toUtf8(), compat});
    };
    for (const QString& match : server.singleDialogWatchers) {
        const bool alsoDummy = server.dummyDialogWatchers.contains(match);
        addRule(match, server::WatcherCompat{true, alsoDummy});
    }
    for (const QString& match : server.dummyDialogWatchers) {
        if (!server.singleDialogWatchers.contains(match))
            addRule(match, server::WatcherCompat{false, true});
    }
    return out;
}

server::DialogPublisherOptions publisherOptions(const PublishConfig& publish,
                                                const ServerConfig& server) {
    server::DialogPublisherOptions out;
    out.server = transport::Endpoint{publish.transport, QHostAddress(publish.serverHost),
                                     publish.serverPort};
    out.profile = publish.profile;
    // override_lifetime when set, else the call's own lifetime (the tracker's safety net,
    // Kamailio dialog's lifetime): a publication outlives no call the server still tracks.
    out.expires = publish.lifetime != 0 ? publish.lifetime : server.dialogLifetime;
    out.calleeTrying = publish.calleeTrying;
    out.publishInDialog = publish.publishInDialog;
    server::PublishRules& rules = out.rules;
    switch (publish.whichCalls) {
        case PublishConfig::WhichCalls::Local:
            rules.whichCalls = server::PublishRules::WhichCalls::Local;
            break;
        case PublishConfig::WhichCalls::All:
            rules.whichCalls = server::PublishRules::WhichCalls::All;
            break;
        case PublishConfig::WhichCalls::Marked:
            rules.whichCalls = server::PublishRules::WhichCalls::Marked;
            break;
    }
    rules.markHeader = publish.markHeader;
    rules.calleeEntityFromRequestUri =
        publish.calleeEntity == PublishConfig::CalleeEntity::RequestUri;
    rules.skipCaller = publish.skipCaller;
    rules.skipCallee = publish.skipCallee;
    rules.callerEntityWhenSkipped = publish.callerEntityWhenSkipped;
    rules.calleeEntityWhenSkipped = publish.calleeEntityWhenSkipped;
    switch (publish.dialogId) {
        case PublishConfig::DialogIdStyle::Uuid:
            out.dialogId = server::DialogPublisherOptions::DialogId::Uuid;
            break;
        case PublishConfig::DialogIdStyle::Counter:
            out.dialogId = server::DialogPublisherOptions::DialogId::Counter;
            break;
        case PublishConfig::DialogIdStyle::CallId:
            out.dialogId = server::DialogPublisherOptions::DialogId::CallId;
            break;
    }
    out.userAgent = QByteArrayLiteral("Switchboard/") + QByteArray(SB_VERSION);
    return out;
}

PublicationView publicationView(const server::PublicationEvent& event) {
    PublicationView view;
    view.entity = event.entity;
    view.dialog = event.dialogId;
    switch (event.kind) {
        case server::PublicationEvent::Kind::Published:
            view.state = QStringLiteral("published");
            break;
        case server::PublicationEvent::Kind::Failed:
            view.state = QStringLiteral("failed");
            break;
        case server::PublicationEvent::Kind::Removed:
            view.state = QStringLiteral("removed");
            break;
    }
    view.dialogState = dialoginfo::stateName(event.state);
    view.code = event.statusCode;
    view.reason = event.reason;
    return view;
}

constexpr qsizetype kSecretLength = 32;
constexpr QFileDevice::Permissions kOwnerOnly = QFileDevice::ReadOwner | QFileDevice::WriteOwner;

// The server's secret (SipServerOptions::secret) from `path`, created with 32 random bytes
// when missing or damaged. Kept in a file so that the Record-Route tokens of calls up
// before a restart still admit their BYEs; only the owner may read it, since whoever
// knows it can relay through the server. Empty (a random secret per start) when it can
// be neither read nor written.
QByteArray serverSecret(const QString& path, base::Random& random) {
    QFile existing(path);
    if (existing.exists()) {
        if (existing.open(QIODevice::ReadOnly)) {
            const QByteArray secret = existing.read(kSecretLength + 1);
            existing.close();
            if (secret.size() == kSecretLength) {
                constexpr QFileDevice::Permissions kOthers =
                    QFileDevice::ReadGroup | QFileDevice::WriteGroup | QFileDevice::ReadOther |
                    QFileDevice::WriteOther;
                if ((existing.permissions() & kOthers) && !existing.setPermissions(kOwnerOnly)) {
                    qCWarning(lcApp).noquote() << QStringLiteral("%1 is readable by others: %2")
                                                      .arg(path, existing.errorString());
                }
                return secret;
            }
            qCWarning(lcApp).noquote() << QStringLiteral(
                                              "%1 holds %2 bytes instead of %3: "
                                              "replaced; calls set up before cannot "
                                              "be ended through the server")
                                              .arg(path)
                                              .arg(secret.size())
                                              .arg(kSecretLength);
        } else {
            qCWarning(lcApp).noquote()
                << QStringLiteral("cannot read %1: %2; using a secret for this run only")
                       .arg(path, existing.errorString());
            return {};
        }
    }
    QByteArray secret;
    secret.reserve(kSecretLength);
    while (secret.size() < kSecretLength) {
        const quint64 word = random.next();
        secret.append(reinterpret_cast<const char*>(&word), sizeof word);
    }
    QDir().mkpath(QFileInfo(path).absolutePath());
    // Atomically: a crash mid-write leaves no half secret behind.
    QSaveFile file(path);
    const bool written = file.open(QIODevice::WriteOnly) && file.setPermissions(kOwnerOnly) &&
                         file.write(secret) == kSecretLength && file.commit();
    if (!written) {
        qCWarning(lcApp).noquote()
            << QStringLiteral("cannot write %1: %2; calls will not survive a restart")
                   .arg(path, file.errorString());
    }
    return secret;
}

// A saved state file (publications, calls) larger than this is not read: tens of
// thousands of calls.
constexpr qint64 kMaxSavedState = 16 * 1024 * 1024;

}  // namespace

// The server's objects in construction order; destroyed in reverse.
struct ServerSession::Core {
    Core(const Config& config, const ServerSessionSeams& seams)
        : ownTimers(seams.timers ? nullptr : std::make_unique<base::EventLoopTimers>()),
          ownRandom(seams.random ? nullptr : std::make_unique<base::SystemRandom>()),
          timers(seams.timers ? *seams.timers : *ownTimers),
          random(seams.random ? *seams.random : *ownRandom),
          transport(timers),
          transactions(transport, timers, random,
                       transaction::TimerValues{config.sip.t1, config.sip.t2, config.sip.t4}) {}
    ~Core() {
        publisher.reset();
        pacer.reset();
        bridge.reset();
        transactions.setServerUser(nullptr);
        server.reset();
    }

    std::unique_ptr<base::EventLoopTimers> ownTimers;
    std::unique_ptr<base::SystemRandom> ownRandom;
    base::TimerQueue& timers;
    base::Random& random;
    transport::SipTransport transport;
    transaction::TransactionLayer transactions;
    server::UserStore users;
    std::unique_ptr<server::SipServer> server;
    std::unique_ptr<ServerBoardBridge> bridge;
    std::unique_ptr<server::DialogPublisher> publisher;
    std::unique_ptr<base::LoadPacer> pacer;  // calls before presence
    int bindingListener = 0;
};

ServerSession::ServerSession(Config config, QString configPath, ServerSessionSeams seams,
                             QObject* parent)
    : Session(parent),
      m_config(std::move(config)),
      m_configPath(std::move(configPath)),
      m_seams(seams) {}

ServerSession::~ServerSession() {
    if (m_core && m_core->server)
        m_core->server->bindings().removeListener(m_core->bindingListener);
}

void ServerSession::setSipTrace(base::SipTrace* trace) {
    m_trace = trace;
    if (m_core) m_core->transport.setTrace(trace);
}

void ServerSession::setBoard(board::Console* console) {
    m_board = console;
}

QString ServerSession::bindingsPath() const {
    if (!m_config.server.bindingsFile.isEmpty()) {
        if (QDir::isAbsolutePath(m_config.server.bindingsFile) || m_configPath.isEmpty())
            return m_config.server.bindingsFile;
        return QFileInfo(m_configPath).dir().filePath(m_config.server.bindingsFile);
    }
    if (!m_configPath.isEmpty())
        return QFileInfo(m_configPath).dir().filePath(QStringLiteral("bindings.json"));
    return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) +
           QStringLiteral("/bindings.json");
}

Result<void> ServerSession::open() {
    if (m_core) return {};
    auto core = std::make_unique<Core>(m_config, m_seams);
    core->transport.setTrace(m_trace);

    // Users: only HA1 hashes, from [users] (app/users_section.h).
    core->users.setRealm(m_config.server.realm);
    if (!m_configPath.isEmpty()) {
        QFile file(m_configPath);
        if (file.open(QIODevice::ReadOnly)) {
            const UsersSection section = parseUsersSection(file.readAll());
            for (const QString& problem : section.problems)
                qCWarning(lcApp).noquote() << m_configPath + QStringLiteral(": ") + problem;
            for (const UserEntry& entry : section.users) {
                if (auto added =
                        core->users.addUserWithHa1(entry.user, entry.ha1Md5, entry.ha1Sha256);
                    !added) {
                    qCWarning(lcApp).noquote()
                        << QStringLiteral("[users] %1: %2").arg(entry.user, added.error().reason);
                }
            }
        }
    }

    for (const ListenAddress& listen : m_config.sip.listen) {
        const transport::Endpoint local{listen.protocol, listen.address, listen.port};
        if (const Result<transport::Endpoint> bound = core->transport.listen(local); !bound) {
            return fail(ErrorKind::Transport,
                        QStringLiteral("cannot listen on %1 (port %2, set by [sip] listen): %3")
                            .arg(listen.toString())
                            .arg(listen.port)
                            .arg(bound.error().reason));
        }
    }

    server::SipServerOptions options = serverOptions(m_config);
    options.secret = serverSecret(
        QFileInfo(bindingsPath()).dir().filePath(QStringLiteral("server.secret")), core->random);
    core->server = std::make_unique<server::SipServer>(
        core->transactions, core->transport, core->timers, core->random, core->users, options);
    for (const transport::Endpoint& endpoint : core->transport.listeningEndpoints())
        core->server->addListeningEndpoint(endpoint);
    core->transactions.setServerUser(core->server.get());

    server::BindingStore& bindings = core->server->bindings();
    const QString path = bindingsPath();
    if (QFileInfo::exists(path)) {
        if (auto loaded = bindings.load(path); !loaded)
            qCWarning(lcApp).noquote() << QStringLiteral("bindings not restored from %1: %2")
                                              .arg(path, loaded.error().reason);
    }
    QDir().mkpath(QFileInfo(path).absolutePath());
    bindings.setAutosavePath(path);
    core->bindingListener =
        bindings.addListener([this](const QString& user) { reportBindings(user); });
    // Calls change with every provisional response: one signal per loop turn is enough.
    core->server->tracker().setChangeListener([this] {
        if (m_callsChangePending) return;
        m_callsChangePending = true;
        QTimer::singleShot(0, this, [this] {
            m_callsChangePending = false;
            emit callsChanged();
        });
    });

    core->server->attendant().setListener(
        [this](const server::Attendant::Event& event) { emit callChanged(queuedCallView(event)); });

    if (m_config.publish.enabled) {
        core->publisher = std::make_unique<server::DialogPublisher>(
            core->transactions, core->timers, core->random, core->server->domains(),
            publisherOptions(m_config.publish, m_config.server));
        server::DialogPublisher* publisher = core->publisher.get();
        core->server->tracker().setSideListener(
            [publisher](const server::DialogTracker::CallSide& side) { publisher->onSide(side); });
        publisher->setEventListener([this](const server::PublicationEvent& event) {
            emit publicationChanged(publicationView(event));
        });
        // Calls before presence: the thread's own load decides how long states wait. Not
        // with injected timers (tests), whose time is not the thread's CPU time.
        if (m_config.publish.holdWhenBusy > 0 && !m_seams.timers) {
            base::LoadPacer::Options pacing;
            pacing.maxHold = std::chrono::seconds(m_config.publish.holdWhenBusy);
            pacing.firstHold = std::min(pacing.firstHold, pacing.maxHold);
            core->pacer =
                std::make_unique<base::LoadPacer>(core->timers, base::threadCpuTime, pacing);
            base::LoadPacer* pacer = core->pacer.get();
            publisher->setHold([pacer] { return pacer->hold(); });
            pacer->setListener(
                [publisher, heldBefore = quint64(0)](base::Duration hold, double busy) mutable {
                    if (hold.count() > 0) {
                        heldBefore = publisher->heldAwayCount();
                        qCInfo(lcApp).noquote()
                            << QStringLiteral(
                                   "server busy (%1 %): dialog states wait before they "
                                   "are published, calls first")
                                   .arg(qRound(busy * 100));
                    } else {
                        qCInfo(lcApp).noquote()
                            << QStringLiteral(
                                   "server no longer busy: dialog states are published "
                                   "at once (%1 publication(s) of calls over before "
                                   "their turn not sent)")
                                   .arg(publisher->heldAwayCount() - heldBefore);
                    }
                });
        }
        // What the presence server holds survives a restart: taken up now, saved when
        // it changes (at most once a second) and when the session ends.
        const QString statePath =
            QFileInfo(bindingsPath()).dir().filePath(QStringLiteral("publications.json"));
        if (QFile file(statePath); file.open(QIODevice::ReadOnly))
            publisher->restoreState(file.read(kMaxSavedState), QDateTime::currentMSecsSinceEpoch());
        m_publicationStatePath = statePath;
        publisher->setStateChangedListener([this] {
            if (m_publicationSavePending) return;
            m_publicationSavePending = true;
            QTimer::singleShot(1000, this, [this] {
                m_publicationSavePending = false;
                savePublicationState();
            });
        });
    }

    // Answered calls survive a restart: their BYE comes back through the server, and
    // their lamps and publications go on. Taken up now (after the publisher, which
    // claims its publications of them), saved when they change and when the session ends.
    server::DialogTracker& tracker = core->server->tracker();
    m_callStatePath = QFileInfo(bindingsPath()).dir().filePath(QStringLiteral("calls.json"));
    if (QFile file(m_callStatePath); file.open(QIODevice::ReadOnly)) {
        const int restored =
            tracker.restoreState(file.read(kMaxSavedState), QDateTime::currentMSecsSinceEpoch());
        if (restored > 0) {
            qCInfo(lcApp).noquote()
                << QStringLiteral("%1 answered call(s) of before the restart taken up")
                       .arg(restored);
            // Those that ended while the server was down are found out and ended.
            core->server->probeRestoredCalls();
        }
    }
    if (core->publisher) {
        if (const int ended = core->publisher->settleRestored(); ended > 0)
            qCInfo(lcApp).noquote() << QStringLiteral(
                                           "%1 publication(s) of calls that ended before the "
                                           "restart published terminated")
                                           .arg(ended);
    }
    tracker.setSavedStateListener([this] {
        if (m_callSavePending) return;
        m_callSavePending = true;
        QTimer::singleShot(1000, this, [this] {
            m_callSavePending = false;
            saveCallState();
        });
    });

    if (m_board) {
        // The board shows every user the server serves ([monitor] first, in its order and
        // with its names; then the other users of [users]).
        for (const QString& user : core->users.users()) {
            if (m_board->state(user)) continue;
            board::Extension extension;
            extension.number = user;
            extension.name = user;
            if (auto added = m_board->monitor(extension); !added)
                qCWarning(lcApp).noquote() << QStringLiteral("user %1 not shown on the board: %2")
                                                  .arg(user, added.error().reason);
        }
        core->bridge = std::make_unique<ServerBoardBridge>(*m_board, core->server->dialogState(),
                                                           bindings, core->server->domains());
        core->bridge->refreshAll();
    }
    m_core = std::move(core);
    if (m_core->publisher && m_board) {
        // The directory's identity and publish_to, also as they are edited later.
        syncPublishDirectory();
        connect(m_board, &board::Console::directoryChanged, this,
                &ServerSession::syncPublishDirectory, Qt::UniqueConnection);
    }
    return {};
}

namespace {

// Writes `state` to `path` atomically (QSaveFile); a failure is logged with what it costs.
void writeState(const QString& path, const QByteArray& state, const QString& lost) {
    QDir().mkpath(QFileInfo(path).absolutePath());
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(state) != state.size() || !file.commit())
        qCWarning(lcApp).noquote()
            << QStringLiteral("cannot write %1: %2; %3").arg(path, file.errorString(), lost);
}

}  // namespace

void ServerSession::savePublicationState() {
    if (!m_core || !m_core->publisher || m_publicationStatePath.isEmpty()) return;
    writeState(m_publicationStatePath,
               m_core->publisher->saveState(QDateTime::currentMSecsSinceEpoch()),
               QStringLiteral("publications will not be taken up after a restart"));
}

void ServerSession::saveCallState() {
    if (!m_core || !m_core->server || m_callStatePath.isEmpty()) return;
    writeState(m_callStatePath,
               m_core->server->tracker().saveState(QDateTime::currentMSecsSinceEpoch()),
               QStringLiteral("answered calls will not be taken up after a restart"));
}

void ServerSession::syncPublishDirectory() {
    if (!m_core || !m_core->publisher || !m_board) return;
    QHash<QString, server::PublishDirectoryEntry> entries;
    for (const board::Extension& extension : m_board->directory().extensions()) {
        if (extension.identity.isEmpty() && extension.publishTo.isEmpty()) continue;
        entries.insert(extension.number, {extension.identity, extension.publishTo});
    }
    m_core->publisher->setDirectory(entries);
}

void ServerSession::start() {
    if (!m_core) return;
    // Bindings restored from the file are announced like fresh ones.
    for (const QString& user : m_core->server->bindings().registeredUsers())
        reportBindings(user);
}

namespace {

BindingView bindingView(const server::Binding& binding, base::TimePoint now) {
    BindingView view;
    view.contact = QString::fromUtf8(binding.contactUri);
    view.source = binding.source.toString();
    view.expiresIn =
        std::chrono::duration_cast<std::chrono::seconds>(binding.expiresAt - now).count();
    view.userAgent = QString::fromUtf8(binding.userAgent);
    return view;
}

QString callStateName(const server::DialogTracker::CallView& call) {
    using State = dialoginfo::DialogState;
    switch (call.state) {
        case State::Trying:
        case State::Proceeding:
            return QStringLiteral("trying");
        case State::Early:
            return QStringLiteral("ringing");
        case State::Confirmed:
            return QStringLiteral("connected");
        case State::Terminated:
            return QStringLiteral("ended");
    }
    return {};
}

}  // namespace

void ServerSession::reportBindings(const QString& user) {
    if (!m_core || !m_core->server) return;
    const base::TimePoint now = m_core->timers.now();
    QList<BindingView> views;
    for (const server::Binding& binding : m_core->server->bindings().lookup(user))
        views << bindingView(binding, now);
    emit bindingsChanged(user, views);
}

QDateTime ServerSession::wallTime(base::TimePoint time) const {
    const auto age = m_core->timers.now() - time;
    return QDateTime::currentDateTimeUtc().addMSecs(-qint64(age.count()));
}

QString ServerSession::domain() const {
    return m_config.server.domains.isEmpty() ? QString() : m_config.server.domains.constFirst();
}

QList<QPair<QString, BindingView>> ServerSession::allBindings() const {
    QList<QPair<QString, BindingView>> out;
    if (!m_core || !m_core->server) return out;
    const base::TimePoint now = m_core->timers.now();
    server::BindingStore& bindings = m_core->server->bindings();
    QStringList users = bindings.registeredUsers();
    users.sort();
    for (const QString& user : users)
        for (const server::Binding& binding : bindings.lookup(user))
            out.append({user, bindingView(binding, now)});
    return out;
}

QList<CallSummary> ServerSession::calls() const {
    QList<CallSummary> out;
    if (!m_core || !m_core->server) return out;
    for (const server::DialogTracker::CallView& call : m_core->server->tracker().calls()) {
        CallSummary summary;
        summary.caller = call.callerUser.isEmpty() ? call.callerIdentity : call.callerUser;
        summary.callerDisplay = call.callerDisplay;
        summary.callee = call.calleeUser.isEmpty() ? call.calleeIdentity : call.calleeUser;
        summary.calleeDisplay = call.calleeDisplay;
        summary.state = callStateName(call);
        summary.started = wallTime(call.started);
        if (call.answered) summary.answered = wallTime(*call.answered);
        out << summary;
    }
    return out;
}

// ---- operator actions ---------------------------------------------------------------

namespace {

QString attendantStateName(server::Attendant::Call::State state) {
    using State = server::Attendant::Call::State;
    switch (state) {
        case State::Waiting:
            return QStringLiteral("waiting");
        case State::Forwarding:
            return QStringLiteral("forwarding");
        case State::PickingUp:
            return QStringLiteral("picking-up");
        case State::ToPhone:
            return QStringLiteral("to-phone");
    }
    return {};
}

Unexpected notServing() {
    return fail(ErrorKind::Protocol, QStringLiteral("the server is not running"));
}

}  // namespace

QueuedCallView ServerSession::queuedCallView(const server::Attendant::Call& call) const {
    QueuedCallView view;
    view.call = call.call;
    view.state = attendantStateName(call.state);
    view.queued = call.queued;
    view.callerDisplay = call.callerDisplay;
    view.callerUri = call.callerUri;
    view.calledUri = call.calledUri;
    view.since = wallTime(call.since);
    view.history = call.history;
    view.target = call.target;
    view.outcome = call.outcome;
    return view;
}

QueuedCallView ServerSession::queuedCallView(const server::Attendant::Event& event) const {
    QueuedCallView view = queuedCallView(event.call);
    if (event.kind == server::Attendant::EventKind::Left) {
        view.status = event.status;
        if (event.status == 0) {
            view.state = QStringLiteral("returned");
        } else {
            view.state = event.status < 300 ? QStringLiteral("answered") : QStringLiteral("gone");
        }
    }
    return view;
}

Result<QString> ServerSession::pickup(const QString& extension, const QString& dialog) {
    if (!m_core || !m_core->server) return notServing();
    server::Attendant& attendant = m_core->server->attendant();
    Result<server::CallId> call =
        dialog.isEmpty() ? attendant.ringingCallOf(extension) : attendant.callOfDialog(dialog);
    if (!call) return fail(call.error());
    return attendant.pickup(*call);
}

Result<QString> ServerSession::forward(const ForwardCommand& command) {
    if (!m_core || !m_core->server) return notServing();
    server::Attendant& attendant = m_core->server->attendant();
    server::Attendant::ForwardRequest request;
    if (command.call != 0) {
        request.call = command.call;
    } else {
        Result<server::CallId> call = attendant.ringingCallOf(command.extension);
        if (!call) return fail(call.error());
        request.call = *call;
    }
    Result<sip::ForwardChoices> choices = forwardChoicesOf(command);
    if (!choices) return fail(choices.error());
    static_cast<sip::ForwardChoices&>(request) = *choices;
    request.to = command.to;
    return attendant.forward(request);
}

Result<QString> ServerSession::sendToPhone(quint64 call) {
    if (!m_core || !m_core->server) return notServing();
    return m_core->server->attendant().sendToPhone(call);
}

Result<QString> ServerSession::reject(quint64 call, int status) {
    if (!m_core || !m_core->server) return notServing();
    return m_core->server->attendant().reject(call, status);
}

QList<QueuedCallView> ServerSession::queue() const {
    QList<QueuedCallView> out;
    if (!m_core || !m_core->server) return out;
    for (const server::Attendant::Call& call : m_core->server->attendant().queue())
        out << queuedCallView(call);
    return out;
}

QStringList ServerSession::forwardReasons() const {
    QStringList reasons = Session::forwardReasons();
    for (const QByteArray& extra : m_config.attendant.options.extraReasons)
        if (!reasons.contains(QString::fromUtf8(extra))) reasons << QString::fromUtf8(extra);
    return reasons;
}

QString ServerSession::extensionActionsUnavailable() const {
    return {};  // every call passes through the built-in server
}

void ServerSession::stop(base::Duration bound) {
    if (m_stopping) return;
    m_stopping = true;
    if (!m_core) {
        QTimer::singleShot(0, this, [this] { emit stopped(); });
        return;
    }
    // Watchers learn that their subscriptions end (terminated NOTIFY); the bindings are
    // saved. The NOTIFYs leave at once; a short grace lets TCP queues drain.
    m_core->server->shutdown();
    savePublicationState();
    saveCallState();
    const base::Duration grace = std::min(bound, base::Duration(300));
    QTimer::singleShot(grace, this, [this] { emit stopped(); });
}

QStringList ServerSession::listenAddresses() const {
    QStringList out;
    if (!m_core) return out;
    for (const transport::Endpoint& endpoint : m_core->transport.listeningEndpoints())
        out << endpoint.toString();
    return out;
}

QStringList ServerSession::users() const {
    return m_core ? m_core->users.users() : QStringList();
}

server::SipServer* ServerSession::server() {
    return m_core ? m_core->server.get() : nullptr;
}

}  // namespace sb::app
