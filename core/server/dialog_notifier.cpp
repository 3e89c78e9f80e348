#include "server/dialog_notifier.h"

#include <QCryptographicHash>
#include <QHostAddress>

#include <algorithm>

#include "base/log.h"
#include "sip/uri.h"
#include "transport/via_rules.h"

namespace sb::server {

namespace {

constexpr QByteArrayView kPackage = "dialog";
const QByteArray kContentType = "application/dialog-info+xml";

// RFC 6665 §8.2.1 / RFC 3261 §20.1: whether the Accept header (when there is one) lets
// application/dialog-info+xml through, directly or by a wildcard.
bool acceptsDialogInfo(const sip::Message& request) {
    if (!request.has(sip::HeaderId::Accept)) return true;
    const sip::ValueList values = request.values(sip::HeaderId::Accept);
    // "Accept:" with no value says nothing we could honour; treat it as absent.
    if (values.isEmpty()) return true;
    for (QByteArrayView value : values) {
        const qsizetype semicolon = value.indexOf(';');
        const QByteArray type =
            (semicolon < 0 ? value : value.first(semicolon)).trimmed().toByteArray().toLower();
        if (type == kContentType || type == "application/*" || type == "*/*") return true;
    }
    return false;
}

bool isSpecific(const QHostAddress& address) {
    return !address.isNull() && address != QHostAddress(QHostAddress::AnyIPv4) &&
           address != QHostAddress(QHostAddress::AnyIPv6) &&
           address != QHostAddress(QHostAddress::Any);
}

// A SIP URI whose host is an IP address, as an endpoint: transport from ;transport=
// (TLS for sips:), port as written or the transport's default. nullopt for names: the
// notifier does not locate servers (RFC 3263), it answers whoever subscribed.
std::optional<transport::Endpoint> endpointOfUri(QByteArrayView text) {
    auto uri = sip::Uri::parse(text);
    if (!uri || !uri->isSip()) return std::nullopt;
    const QHostAddress address(QString::fromLatin1(uri->host));
    if (address.isNull()) return std::nullopt;
    transport::Endpoint endpoint;
    endpoint.protocol =
        uri->scheme == sip::UriScheme::Sips ? transport::Protocol::Tls : transport::Protocol::Udp;
    if (const QByteArray name = uri->transportParam(); !name.isEmpty()) {
        auto protocol = transport::protocolFromName(name);
        if (!protocol) return std::nullopt;
        endpoint.protocol = *protocol;
    }
    endpoint.address = transport::normalizedAddress(address);
    endpoint.port = uri->port.value_or(transport::defaultPort(endpoint.protocol));
    return endpoint;
}

// RFC 4235 §4.1.2 ordering for a phone that shows one dialog: a ringing call matters
// most, then a call in progress, then the calls being set up, then ended ones.
int interest(dialoginfo::DialogState state) {
    switch (state) {
        case dialoginfo::DialogState::Early:
            return 4;
        case dialoginfo::DialogState::Confirmed:
            return 3;
        case dialoginfo::DialogState::Proceeding:
            return 2;
        case dialoginfo::DialogState::Trying:
            return 1;
        case dialoginfo::DialogState::Terminated:
            return 0;
    }
    return 0;
}

}  // namespace

// One subscription (RFC 6665 §4.2.1): its dialog, whom it watches, and where its
// NOTIFYs stand.
struct DialogNotifier::Watcher {
    explicit Watcher(dialog::Dialog created) : dialog(std::move(created)) {}

    dialog::Dialog dialog;
    dialog::DialogId key;
    QString user;        // the watched local user
    QString subscriber;  // subscriberKey(): who holds it, for the per-subscriber bound
    QByteArray eventId;  // Event: dialog;id=... (RFC 6665 §8.2.1), empty when absent
    WatcherCompat compat;
    transport::Endpoint source;  // where the last SUBSCRIBE came from
    quint64 nextVersion = 0;     // RFC 4235 §4.1: counts up per subscription from 0
    quint64 shownUpTo = 0;       // the store's sequence() when its last document was built
    base::TimePoint expiresAt{};
    base::TimerId expiryTimer = base::kNoTimer;
    base::TimerId retryTimer = base::kNoTimer;  // after a 491
    transaction::TransactionId inFlight = transaction::kNoTransaction;
    bool changed = false;        // the state changed while a NOTIFY was in flight
    QByteArray terminateReason;  // set: the subscription ends with a terminated NOTIFY
    bool finalSent = false;      // that NOTIFY is on its way
};

DialogNotifier::DialogNotifier(transaction::TransactionLayer& transactions,
                               base::TimerQueue& timers, base::Random& random,
                               DialogStateStore& store, const LocalDomains& domains,
                               NotifierOptions options)
    : m_transactions(transactions),
      m_timers(timers),
      m_random(random),
      m_store(store),
      m_domains(domains),
      m_options(std::move(options)) {
    // A configuration that contradicts itself still gives a usable range.
    m_options.maxExpires = std::max(m_options.maxExpires, m_options.minExpires);
    m_options.defaultExpires =
        std::clamp(m_options.defaultExpires, m_options.minExpires, m_options.maxExpires);
    m_listener = m_store.addListener([this](const QString& user, DialogStateStore::Change change) {
        // Watchers saw these dialogs end; their leaving is no news (RFC 4235 §3.7.1).
        if (change == DialogStateStore::Change::EndedRemoved) return;
        onStoreChanged(user);
    });
}

DialogNotifier::~DialogNotifier() {
    m_store.removeListener(m_listener);
    for (auto& [key, watcher] : m_watchers) {
        m_timers.cancel(watcher->expiryTimer);
        m_timers.cancel(watcher->retryTimer);
        if (watcher->inFlight != transaction::kNoTransaction)
            m_transactions.forget(watcher->inFlight);
    }
}

std::size_t DialogNotifier::watcherCount(const QString& user) const {
    auto found = m_byUser.constFind(user);
    return found == m_byUser.cend() ? 0 : found->size();
}

bool DialogNotifier::ownsDialog(const sip::Message& request) const {
    auto to = request.to();
    if (!to || to->tag().isEmpty()) return false;
    return m_watchers.contains(dialog::DialogId::ofIncomingRequest(request));
}

void DialogNotifier::onSubscribe(transaction::TransactionId id,
                                 const transport::IncomingMessage& incoming,
                                 const QString& watcherUser) {
    const sip::Message& request = incoming.message;
    if (request.method() != sip::Method::Subscribe) {
        reject(id, request, 405, "Method Not Allowed Here", {{sip::HeaderId::Allow, "SUBSCRIBE"}});
        return;
    }
    auto to = request.to();
    if (!to) {
        reject(id, request, 400, "Malformed To Header");
        return;
    }
    if (to->tag().isEmpty()) {
        subscribeInitial(id, incoming, watcherUser);
        return;
    }
    // RFC 6665 §4.2.1.2: a SUBSCRIBE within a dialog refreshes (or ends) its subscription.
    auto found = m_watchers.find(dialog::DialogId::ofIncomingRequest(request));
    if (found == m_watchers.end()) {
        reject(id, request, 481, "Subscription Does Not Exist");
        return;
    }
    subscribeRefresh(id, incoming, *found->second);
}

void DialogNotifier::reject(transaction::TransactionId id, const sip::Message& request, int status,
                            QByteArray reason,
                            std::vector<std::pair<sip::HeaderId, QByteArray>> headers) {
    // RFC 3261 §8.2.6.2: a final response to a request without To tag gets one.
    sip::Message response =
        sip::makeResponse(request, status, std::move(reason), m_random.token(12));
    for (auto& [header, value] : headers)
        response.addHeader(header, std::move(value));
    qCDebug(lcServer) << "SUBSCRIBE" << request.callId() << "refused:" << status
                      << response.reasonPhrase();
    (void)m_transactions.sendResponse(id, std::move(response));
}

std::optional<quint32> DialogNotifier::grantedExpires(transaction::TransactionId id,
                                                      const sip::Message& request) {
    // RFC 6665 §4.2.1.1: no Expires means the package's default (RFC 4235 §3.4).
    if (!request.has(sip::HeaderId::Expires)) return m_options.defaultExpires;
    const std::optional<quint32> asked = request.expires();
    if (!asked) {
        reject(id, request, 400, "Malformed Expires Header");
        return std::nullopt;
    }
    // RFC 6665 §4.2.1.4: Expires: 0 is a fetch (or an un-SUBSCRIBE within the dialog).
    if (*asked == 0) return 0;
    // RFC 6665 §4.2.1.1: too short → 423 with Min-Expires; too long → cut down.
    if (*asked < m_options.minExpires) {
        reject(id, request, 423, "Interval Too Brief",
               {{sip::HeaderId::MinExpires, QByteArray::number(m_options.minExpires)}});
        return std::nullopt;
    }
    return std::min(*asked, m_options.maxExpires);
}

void DialogNotifier::subscribeInitial(transaction::TransactionId id,
                                      const transport::IncomingMessage& incoming,
                                      const QString& watcherUser) {
    const sip::Message& request = incoming.message;
    if (m_shutDown) {
        reject(id, request, 503, "Server Shutting Down",
               {{sip::HeaderId::RetryAfter, QByteArray::number(m_options.retryAfter.count())}});
        return;
    }
    // RFC 6665 §7.2.2 / §8.2.1: only the dialog package (RFC 4235 §3.1) is served here.
    auto event = request.event();
    if (!request.has(sip::HeaderId::Event) || !event || event->package != kPackage) {
        reject(id, request, 489, "Bad Event (only dialog is supported)",
               {{sip::HeaderId::AllowEvents, "dialog"}});
        return;
    }
    // RFC 4235 §3.5: application/dialog-info+xml is the one body NOTIFY carries.
    if (!acceptsDialogInfo(request)) {
        reject(id, request, 406, "Not Acceptable (application/dialog-info+xml only)",
               {{sip::HeaderId::Accept, kContentType}});
        return;
    }
    auto uri = sip::Uri::parse(request.requestUri());
    const QString user = uri ? m_domains.userOf(*uri) : QString();
    if (user.isEmpty() || (m_options.userExists && !m_options.userExists(user))) {
        reject(id, request, 404, "No Such User");
        return;
    }
    auto from = request.from();
    if (!from || from->tag().isEmpty()) {
        reject(id, request, 400, "Missing From Tag");
        return;
    }
    // RFC 3261 §8.1.1.8: a request that creates a dialog carries a Contact (NOTIFYs go
    // to it, RFC 6665 §4.1.2.1).
    auto contacts = request.contacts();
    if (!contacts || contacts->star || contacts->entries.empty()) {
        reject(id, request, 400, "Missing Contact Header");
        return;
    }
    const std::optional<quint32> expires = grantedExpires(id, request);
    if (!expires) return;

    const QString subscriber = subscriberKey(watcherUser, incoming);
    if (m_watchers.size() >= m_options.maxWatchers) {
        qCWarning(lcServer) << "dialog notifier full:" << m_watchers.size() << "subscriptions";
        reject(id, request, 503, "Too Many Subscriptions",
               {{sip::HeaderId::RetryAfter, QByteArray::number(m_options.retryAfter.count())}});
        return;
    }
    if (m_bySubscriber.value(subscriber) >= m_options.maxWatchersPerSubscriber) {
        qCWarning(lcServer) << "too many dialog subscriptions from" << subscriber;
        reject(id, request, 503, "Too Many Subscriptions From This Subscriber",
               {{sip::HeaderId::RetryAfter, QByteArray::number(m_options.retryAfter.count())}});
        return;
    }

    // RFC 6665 §4.2.1.1: 200 with our To tag, a Contact and the granted Expires; RFC 3261
    // §12.1.1: the Record-Route of the request is copied into it.
    // Our tag makes the dialog (and the subscription's key) unique (RFC 3261 §19.3).
    dialog::DialogId candidate{request.callId().toByteArray(), {}, from->tag().toByteArray()};
    do {
        candidate.localTag = m_random.token(16);
    } while (m_watchers.contains(candidate));
    sip::Message ok = sip::makeResponse(request, 200, {}, candidate.localTag);
    for (QByteArrayView route : request.values(sip::HeaderId::RecordRoute))
        ok.addHeader(sip::HeaderId::RecordRoute, route.toByteArray());
    ok.addHeader(sip::HeaderId::Contact, contactFor(incoming));
    ok.addHeader(sip::HeaderId::Expires, QByteArray::number(*expires));
    auto created = dialog::Dialog::createUas(request, ok);
    if (!created) {
        reject(id, request, 400, created.error().reason.toUtf8());
        return;
    }
    if (auto sent = m_transactions.sendResponse(id, std::move(ok)); !sent) {
        qCDebug(lcServer) << "200 to SUBSCRIBE not sent:" << sent.error().toString();
        return;
    }

    auto owned = std::make_unique<Watcher>(std::move(*created));
    Watcher& watcher = *owned;
    watcher.key = watcher.dialog.id();
    watcher.user = user;
    watcher.subscriber = subscriber;
    watcher.eventId = event->id().toByteArray();
    watcher.compat = compatFor(watcherUser, request);
    watcher.source = incoming.source;
    const dialog::DialogId key = watcher.key;
    m_watchers.emplace(key, std::move(owned));
    m_byUser[user].push_back(key);
    ++m_bySubscriber[subscriber];
    qCInfo(lcServer) << "dialog subscription to" << user << "from" << subscriber << "for"
                     << *expires << "s";

    if (*expires == 0) {
        // RFC 6665 §4.2.1.4: a fetch gets the current state in a terminating NOTIFY.
        terminate(watcher, "timeout");
        return;
    }
    startExpiry(watcher, *expires);
    notify(watcher);
}

void DialogNotifier::subscribeRefresh(transaction::TransactionId id,
                                      const transport::IncomingMessage& incoming,
                                      Watcher& watcher) {
    const sip::Message& request = incoming.message;
    // The subscription is ending (expired, un-SUBSCRIBEd, shut down): it cannot be
    // refreshed any more; the subscriber starts a new one.
    if (!watcher.terminateReason.isEmpty()) {
        reject(id, request, 481, "Subscription Is Ending");
        return;
    }
    auto event = request.event();
    if (!request.has(sip::HeaderId::Event) || !event || event->package != kPackage) {
        reject(id, request, 489, "Bad Event (only dialog is supported)",
               {{sip::HeaderId::AllowEvents, "dialog"}});
        return;
    }
    // RFC 6665 §4.2.1.2: a refresh names the subscription by its Event id as well.
    if (event->id() != watcher.eventId) {
        reject(id, request, 481, "Subscription Does Not Exist (Event id differs)");
        return;
    }
    if (!acceptsDialogInfo(request)) {
        reject(id, request, 406, "Not Acceptable (application/dialog-info+xml only)",
               {{sip::HeaderId::Accept, kContentType}});
        return;
    }
    // RFC 3261 §12.2.2: CSeq order (500 when out of order); a Contact refreshes the target.
    if (auto inOrder = watcher.dialog.onRequest(request); !inOrder) {
        const int status = inOrder.error().sipStatus ? inOrder.error().sipStatus : 400;
        reject(id, request, status, inOrder.error().reason.toUtf8());
        return;
    }
    const std::optional<quint32> expires = grantedExpires(id, request);
    if (!expires) return;

    sip::Message ok = sip::makeResponse(request, 200);
    ok.addHeader(sip::HeaderId::Contact, watcher.dialog.localContact());
    ok.addHeader(sip::HeaderId::Expires, QByteArray::number(*expires));
    if (auto sent = m_transactions.sendResponse(id, std::move(ok)); !sent) {
        qCDebug(lcServer) << "200 to SUBSCRIBE refresh not sent:" << sent.error().toString();
        return;
    }
    // The phone may have moved (NAT binding, new flow): NOTIFYs follow its latest request.
    watcher.source = incoming.source;
    if (*expires == 0) {
        // RFC 6665 §4.2.1.4: un-SUBSCRIBE → a last NOTIFY with the current state.
        terminate(watcher, "timeout");
        return;
    }
    startExpiry(watcher, *expires);
    // RFC 6665 §4.2.1.2: a successful refresh is followed by a NOTIFY with the state.
    notify(watcher);
}

QByteArray DialogNotifier::contactFor(const transport::IncomingMessage& request) const {
    // The address the SUBSCRIBE reached, when the socket is bound to one; else a listening
    // address of the same transport; else one the subscriber can reach.
    transport::Endpoint local = request.local;
    QByteArray host;
    if (isSpecific(local.address)) {
        host = transport::hostText(local.address);
    } else {
        for (const transport::Endpoint& listening : m_domains.listening()) {
            if (listening.protocol != local.protocol || !isSpecific(listening.address)) continue;
            host = transport::hostText(listening.address);
            if (local.port == 0) local.port = listening.port;
            break;
        }
    }
    // Listening on a wildcard address only: the configured host, else the address of ours
    // that the subscriber can reach (a domain name the phone cannot resolve would make
    // its in-dialog requests go nowhere).
    if (host.isEmpty()) host = m_domains.hostTowards(request.source.address);
    QByteArray uri = "sip:" + host;
    if (local.port != 0) uri += ':' + QByteArray::number(local.port);
    if (local.protocol != transport::Protocol::Udp)
        uri += ";transport=" + transport::protocolName(local.protocol).toByteArray().toLower();
    return '<' + uri + '>';
}

transport::Endpoint DialogNotifier::destinationFor(const Watcher& watcher) const {
    // Over TCP/TLS the subscriber's own flow is the one way back that surely works
    // (a phone behind NAT cannot be connected to).
    if (transport::isReliable(watcher.source.protocol)) return watcher.source;
    // RFC 3261 §12.2.1.1: through a proxy, the first route; it is an address when the
    // proxy Record-Routed with one. A name would need RFC 3263: the proxy that sent the
    // SUBSCRIBE is where it came from.
    if (!watcher.dialog.routeSet().empty())
        return endpointOfUri(watcher.dialog.nextHopUri()).value_or(watcher.source);
    if (!m_options.notifyToSourceAddress) {
        if (auto target = endpointOfUri(watcher.dialog.remoteTarget())) return *target;
    }
    return watcher.source;
}

WatcherCompat DialogNotifier::compatFor(const QString& watcherUser,
                                        const sip::Message& request) const {
    const QString userAgent = QString::fromUtf8(request.header(sip::HeaderId::UserAgent));
    for (const WatcherCompatRule& rule : m_options.compatRules) {
        bool any = false;
        bool holds = true;
        if (!rule.watcherUser.isEmpty()) {
            any = true;
            holds = holds && rule.watcherUser == watcherUser;
        }
        if (!rule.userAgentContains.isEmpty()) {
            any = true;
            holds = holds && userAgent.contains(QString::fromUtf8(rule.userAgentContains),
                                                Qt::CaseInsensitive);
        }
        if (any && holds) return rule.compat;
    }
    return m_options.defaultCompat;
}

QString DialogNotifier::subscriberKey(const QString& watcherUser,
                                      const transport::IncomingMessage& request) const {
    if (!watcherUser.isEmpty()) return QStringLiteral("user:") + watcherUser;
    // A trusted source (loopback, a trusted peer) is not one subscriber: every phone on
    // it, by its From address, has a bound of its own.
    const Result<sip::NameAddr> from = request.message.from();
    const QString who = from ? QString::fromUtf8(from->uri.addressOfRecord()) : QString();
    return QStringLiteral("address:") +
           transport::normalizedAddress(request.source.address).toString() + QLatin1Char('/') + who;
}

void DialogNotifier::startExpiry(Watcher& watcher, quint32 seconds) {
    m_timers.cancel(watcher.expiryTimer);
    const base::Duration after = std::chrono::seconds(seconds);
    watcher.expiresAt = m_timers.now() + after;
    watcher.expiryTimer = m_timers.start(after, [this, key = watcher.key] {
        auto found = m_watchers.find(key);
        if (found == m_watchers.end()) return;
        found->second->expiryTimer = base::kNoTimer;
        qCDebug(lcServer) << "dialog subscription to" << found->second->user << "expired";
        // RFC 6665 §4.2.2: an expired subscription ends with reason=timeout.
        terminate(*found->second, "timeout");
    });
}

void DialogNotifier::onStoreChanged(const QString& user) {
    auto found = m_byUser.constFind(user);
    if (found == m_byUser.cend()) return;
    // A copy: a failed send removes its watcher from the list.
    const std::vector<dialog::DialogId> keys = *found;
    for (const dialog::DialogId& key : keys) {
        auto watcher = m_watchers.find(key);
        if (watcher != m_watchers.end()) notify(*watcher->second);
    }
}

void DialogNotifier::notify(Watcher& watcher) {
    // An ending subscription's last NOTIFY is built when it goes out: it has the newest
    // state anyway.
    if (!watcher.terminateReason.isEmpty()) return;
    // RFC 6665 §4.2.2: one NOTIFY at a time; later changes ride on the next one.
    if (watcher.inFlight != transaction::kNoTransaction || watcher.retryTimer != base::kNoTimer) {
        watcher.changed = true;
        return;
    }
    sendNotify(watcher);
}

void DialogNotifier::terminate(Watcher& watcher, QByteArray reason) {
    if (!watcher.terminateReason.isEmpty()) return;
    watcher.terminateReason = std::move(reason);
    m_timers.cancel(watcher.expiryTimer);
    watcher.expiryTimer = base::kNoTimer;
    // With a NOTIFY in flight the terminated one follows when it is answered.
    if (watcher.inFlight != transaction::kNoTransaction) return;
    m_timers.cancel(watcher.retryTimer);
    watcher.retryTimer = base::kNoTimer;
    sendNotify(watcher);
}

dialoginfo::Document DialogNotifier::documentFor(const Watcher& watcher) const {
    dialoginfo::Document document;
    document.state = dialoginfo::DocumentState::Full;
    document.entity = m_domains.aorUri(watcher.user);
    // A dialog whose end this watcher was shown is left out from then on.
    document.dialogs = m_store.dialogs(watcher.user, watcher.shownUpTo);
    if (watcher.compat.singleDialog && document.dialogs.size() > 1) {
        // The most interesting; among equals the last, which the store filled most recently.
        std::size_t best = 0;
        for (std::size_t i = 1; i < document.dialogs.size(); ++i) {
            if (interest(document.dialogs[i].state) >= interest(document.dialogs[best].state))
                best = i;
        }
        dialoginfo::DialogInfo kept = std::move(document.dialogs[best]);
        document.dialogs.clear();
        document.dialogs.push_back(std::move(kept));
    }
    if (watcher.compat.dummyDialogWhenIdle && document.dialogs.empty()) {
        // The same id in every document (and after a restart): a hash of the entity.
        dialoginfo::DialogInfo idle;
        idle.id = QString::fromLatin1(
            QCryptographicHash::hash(document.entity.toUtf8(), QCryptographicHash::Md5).toHex());
        idle.state = dialoginfo::DialogState::Terminated;
        document.dialogs.push_back(std::move(idle));
    }
    return document;
}

void DialogNotifier::sendNotify(Watcher& watcher) {
    const dialog::DialogId key = watcher.key;
    const bool final = !watcher.terminateReason.isEmpty();
    watcher.changed = false;

    sip::Message request = watcher.dialog.createRequest(sip::Method::Notify);
    QByteArray event = kPackage.toByteArray();
    if (!watcher.eventId.isEmpty()) event += ";id=" + watcher.eventId;
    request.addHeader(sip::HeaderId::Event, event);
    // RFC 6665 §4.2.2 / §8.2.3: the state of the subscription, with the time left.
    if (final) {
        request.addHeader(sip::HeaderId::SubscriptionState,
                          "terminated;reason=" + watcher.terminateReason);
    } else {
        const auto left =
            std::chrono::ceil<std::chrono::seconds>(watcher.expiresAt - m_timers.now());
        request.addHeader(
            sip::HeaderId::SubscriptionState,
            "active;expires=" + QByteArray::number(qint64(std::max<qint64>(left.count(), 0))));
    }
    dialoginfo::Document document = documentFor(watcher);
    watcher.shownUpTo = m_store.sequence();
    document.version = watcher.nextVersion++;
    request.setBody(kContentType, dialoginfo::writeDocument(document, m_options.document));

    auto sent = m_transactions.sendRequest(std::move(request), destinationFor(watcher), this);
    if (!sent) {
        // RFC 6665 §4.2.2: a NOTIFY that cannot be delivered ends the subscription.
        qCInfo(lcServer) << "dialog subscription to" << watcher.user
                         << "ends: NOTIFY not sent:" << sent.error().toString();
        remove(key);
        return;
    }
    watcher.inFlight = *sent;
    watcher.finalSent = final;
    m_inFlight.emplace(*sent, key);
}

DialogNotifier::Watcher* DialogNotifier::watcherForTransaction(transaction::TransactionId id) {
    auto found = m_inFlight.find(id);
    if (found == m_inFlight.end()) return nullptr;
    const dialog::DialogId key = found->second;
    m_inFlight.erase(found);
    auto watcher = m_watchers.find(key);
    if (watcher == m_watchers.end()) return nullptr;
    watcher->second->inFlight = transaction::kNoTransaction;
    return watcher->second.get();
}

void DialogNotifier::onFinal(transaction::TransactionId id, const sip::Message& response) {
    Watcher* watcher = watcherForTransaction(id);
    if (!watcher) return;
    const int status = response.statusCode();
    const bool ending = !watcher->terminateReason.isEmpty();

    if (status >= 200 && status < 300) {
        watcher->dialog.onResponse(response);  // RFC 6665 §4.1.2: a 2xx may move the target
        if (watcher->finalSent) {
            remove(watcher->key);
        } else if (ending || watcher->changed) {
            sendNotify(*watcher);  // the terminated NOTIFY, or the coalesced changes
        }
        return;
    }
    if (status == 491) {
        // RFC 3261 §14.1: the far side was busy with a request of its own; try again
        // after 0-2 s (we do not own the Call-ID), with the newest state.
        watcher->finalSent = false;
        watcher->changed = true;
        const base::Duration wait(m_random.bounded(2001));
        watcher->retryTimer = m_timers.start(wait, [this, key = watcher->key] {
            auto found = m_watchers.find(key);
            if (found == m_watchers.end()) return;
            Watcher& retried = *found->second;
            retried.retryTimer = base::kNoTimer;
            if (retried.inFlight == transaction::kNoTransaction) sendNotify(retried);
        });
        return;
    }
    if ((status == 401 || status == 407) && !watcher->finalSent) {
        // The subscriber challenges our NOTIFY and we hold no credentials for it: the
        // subscription stays; the state goes out with the next change or refresh.
        qCInfo(lcServer) << "NOTIFY to" << watcher->subscriber << "challenged with" << status;
        if (ending || watcher->changed) sendNotify(*watcher);
        return;
    }
    // RFC 6665 §4.2.2: 481 (and any other failure) means the subscription is gone there.
    if (!watcher->finalSent)
        qCInfo(lcServer) << "dialog subscription to" << watcher->user << "ends: NOTIFY got"
                         << status;
    remove(watcher->key);
}

void DialogNotifier::onTimeout(transaction::TransactionId id) {
    onNotifyFailed(id, QStringLiteral("timeout"));
}

void DialogNotifier::onTransportError(transaction::TransactionId id, const Error& error) {
    onNotifyFailed(id, error.toString());
}

void DialogNotifier::onNotifyFailed(transaction::TransactionId id, const QString& why) {
    Watcher* watcher = watcherForTransaction(id);
    if (!watcher) return;
    // RFC 6665 §4.2.2: Timer F or a transport failure ends the subscription.
    qCInfo(lcServer) << "dialog subscription to" << watcher->user << "ends: NOTIFY failed:" << why;
    remove(watcher->key);
}

void DialogNotifier::shutdown() {
    m_shutDown = true;
    // A copy of the keys: a failed send removes its watcher.
    std::vector<dialog::DialogId> keys;
    keys.reserve(m_watchers.size());
    for (const auto& [key, watcher] : m_watchers)
        keys.push_back(key);
    for (const dialog::DialogId& key : keys) {
        auto found = m_watchers.find(key);
        if (found != m_watchers.end()) terminate(*found->second, "deactivated");
    }
}

void DialogNotifier::remove(dialog::DialogId key) {
    auto found = m_watchers.find(key);
    if (found == m_watchers.end()) return;
    Watcher& watcher = *found->second;
    m_timers.cancel(watcher.expiryTimer);
    m_timers.cancel(watcher.retryTimer);
    if (watcher.inFlight != transaction::kNoTransaction) {
        m_transactions.forget(watcher.inFlight);
        m_inFlight.erase(watcher.inFlight);
    }
    if (auto users = m_byUser.find(watcher.user); users != m_byUser.end()) {
        std::erase(*users, key);
        if (users->empty()) m_byUser.erase(users);
    }
    if (auto count = m_bySubscriber.find(watcher.subscriber); count != m_bySubscriber.end()) {
        if (--*count == 0) m_bySubscriber.erase(count);
    }
    m_watchers.erase(found);
}

}  // namespace sb::server
