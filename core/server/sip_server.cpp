#include "server/sip_server.h"

#include "base/log.h"
#include "server/dialog_state_store.h"
#include "server/user_store.h"

namespace sb::server {

namespace {

bool isLoopback(const QHostAddress& address) {
    return transport::normalizedAddress(address).isLoopback();
}

// RFC 3261 §8.2.2.3 / §16.3 step 1: what we answer OPTIONS with and route at all.
constexpr QByteArrayView kAllow =
    "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, SUBSCRIBE, NOTIFY, PUBLISH, REFER, INFO, "
    "UPDATE, PRACK, MESSAGE";

}  // namespace

SipServer::SipServer(transaction::TransactionLayer& layer, transport::Transport& transport,
                     base::TimerQueue& timers, base::Random& random, UserStore& users,
                     const SipServerOptions& options)
    : m_layer(layer),
      m_trustLoopback(options.trustLoopback),
      m_trustedPeers(options.trustedPeers),
      m_domains(options.domains),
      m_users(users) {
    // The Record-Route host is also what the notifier's Contact names on a wildcard
    // listener (LocalDomains::hostTowards).
    m_domains.setAdvertisedHost(options.proxy.recordRouteHost);
    // One secret for every role that needs one, unless a role was given its own.
    DigestAuthenticator::Options auth = options.auth;
    if (auth.secret.isEmpty()) auth.secret = options.secret;
    auth.isLocal = [this](const sip::Uri& uri) { return m_domains.isLocal(uri); };
    m_authenticator = std::make_unique<DigestAuthenticator>(users, timers, random, auth);
    m_bindings = std::make_unique<BindingStore>(timers, options.bindings);
    m_registrar =
        std::make_unique<Registrar>(*m_bindings, m_domains, users, random, options.registrar);
    m_dialogState = std::make_unique<DialogStateStore>();
    m_tracker =
        std::make_unique<DialogTracker>(*m_dialogState, m_domains, timers, random, options.tracker);
    ProxyOptions proxy = options.proxy;
    if (proxy.secret.isEmpty()) proxy.secret = options.secret;
    m_proxy = std::make_unique<Proxy>(layer, transport, timers, random, m_domains, *m_bindings,
                                      users, proxy);
    m_proxy->setObserver(m_tracker.get());
    // In-dialog requests are admitted by the Record-Route token alone (Proxy): a BYE of a
    // call the tracker forgot (restart, lifetime) must still reach the other phone.
    m_proxy->setContactLookup(
        [this](const sip::Uri& uri) { return m_bindings->lookupByContact(uri); });
    m_attendant = std::make_unique<Attendant>(*m_proxy, *m_tracker, m_domains, users, timers,
                                              options.attendant);
    m_proxy->setCallHolder(m_attendant.get());
    NotifierOptions notifier = options.notifier;
    if (!notifier.userExists)
        notifier.userExists = [this](const QString& user) { return m_users.hasUser(user); };
    m_notifier = std::make_unique<DialogNotifier>(layer, timers, random, *m_dialogState, m_domains,
                                                  notifier);
    PublicationOptions publication = options.publication;
    m_publications =
        std::make_unique<PublicationStore>(*m_dialogState, m_domains, timers, random, publication);
}

SipServer::~SipServer() {
    m_proxy->setCallHolder(nullptr);
}

void SipServer::addListeningEndpoint(const transport::Endpoint& endpoint) {
    m_domains.addListeningEndpoint(endpoint);
}

void SipServer::shutdown() {
    m_notifier->shutdown();
    if (auto flushed = m_bindings->flush(); !flushed)
        qCWarning(lcServer) << "bindings not saved:" << flushed.error().reason;
}

int SipServer::probeRestoredCalls() {
    if (!m_probe) {
        m_probe = std::make_unique<DialogProbe>(
            m_layer, [this](const sip::Uri& uri) { return m_proxy->nextHopOf(uri); },
            [this](CallId call, bool noAnswer) { m_tracker->endGoneCall(call, noAnswer); });
    }
    int sent = 0;
    for (const DialogTracker::AnsweredDialog& dialog : m_tracker->restoredDialogs())
        sent += m_probe->probe(dialog);
    return sent;
}

bool SipServer::isTrusted(const transport::Endpoint& source) const {
    if (m_trustLoopback && isLoopback(source.address)) return true;
    const QHostAddress address = transport::normalizedAddress(source.address);
    for (const QHostAddress& peer : m_trustedPeers)
        if (transport::normalizedAddress(peer) == address) return true;
    return false;
}

void SipServer::respond(transaction::TransactionId id, sip::Message response) {
    if (auto sent = m_layer.sendResponse(id, std::move(response)); !sent)
        qCDebug(lcServer) << "response not sent:" << sent.error().reason;
}

bool SipServer::admit(transaction::TransactionId id, const transport::IncomingMessage& incoming,
                      bool registerRequest, QString& user) {
    user.clear();
    if (isTrusted(incoming.source)) return true;
    const AuthHeader kind = registerRequest ? AuthHeader::Www : AuthHeader::Proxy;
    AuthOutcome outcome = m_authenticator->authenticate(incoming.message, incoming.source, kind);
    if (outcome.kind == AuthOutcome::Kind::Authenticated) {
        user = outcome.user;
        return true;
    }
    if (outcome.kind == AuthOutcome::Kind::Challenge) {
        ++m_counters.challenges;
    } else {
        ++m_counters.authRefusals;
    }
    qCDebug(lcServer) << incoming.message.methodName() << "from" << incoming.source.toString()
                      << "not admitted:" << outcome.reason;
    respond(id, std::move(outcome.response));
    return false;
}

bool SipServer::isStrictRouted(const sip::Uri& requestUri, const sip::Message& request) const {
    const RecordRoute& recordRoute = m_proxy->recordRoute();
    return recordRoute.isOwnRecordRouteUri(requestUri) &&
           recordRoute.hasValidToken(requestUri, request.header(sip::HeaderId::CallId));
}

bool SipServer::isForServer(const sip::Message& request) const {
    // A Request-URI without a user part naming one of our addresses or domains.
    const Result<sip::Uri> uri = sip::Uri::parse(request.requestUri());
    return uri && uri->user.isEmpty() && m_domains.isLocal(*uri);
}

void SipServer::answerOptions(transaction::TransactionId id, const sip::Message& request) {
    sip::Message response = sip::makeResponse(request, 200, {}, "sb-options");
    response.addHeader(sip::HeaderId::Allow, QByteArray(kAllow.data(), kAllow.size()));
    response.addHeader(sip::HeaderId::Accept, "application/sdp, application/dialog-info+xml");
    response.addHeader(sip::HeaderId::AllowEvents, "dialog");
    respond(id, std::move(response));
}

void SipServer::onRequest(transaction::TransactionId id,
                          const transport::IncomingMessage& incoming) {
    const sip::Message& request = incoming.message;
    const Result<sip::NameAddr> to = request.to();
    const bool inDialog = to && !to->tag().isEmpty();

    if (inDialog) {
        // Refreshes and un-SUBSCRIBEs of a watcher's subscription are the notifier's;
        // everything else in a dialog follows the Record-Route through the proxy, which
        // refuses dialogs nobody knows (481).
        if (request.method() == sip::Method::Subscribe && m_notifier->ownsDialog(request)) {
            ++m_counters.subscribes;
            m_notifier->onSubscribe(id, incoming, QString());
            return;
        }
        // Record-Route makes every in-dialog request we must route carry a Route to us.
        // Without one, a request for one of our addresses or domains is for a dialog of
        // the server itself, which nobody claimed above (a NOTIFY for no subscription, a
        // stale refresh, a forged BYE) — unless a strict router put our Record-Route
        // entry, token and all, into the Request-URI (§16.4): that one is the proxy's.
        const Result<sip::Uri> target = sip::Uri::parse(request.requestUri());
        if (!request.has(sip::HeaderId::Route) && target && m_domains.isLocal(*target) &&
            !isStrictRouted(*target, request)) {
            respond(id, sip::makeResponse(request, 481, "No such dialog or subscription here"));
            return;
        }
        ++m_counters.proxiedRequests;
        m_proxy->onRequest(id, incoming);
        return;
    }

    switch (request.method()) {
        case sip::Method::Register: {
            QString user;
            if (!admit(id, incoming, true, user)) return;
            ++m_counters.registers;
            respond(id, m_registrar->handle(incoming, user));
            return;
        }
        case sip::Method::Options:
            if (isForServer(request)) {
                answerOptions(id, request);
                return;
            }
            break;
        case sip::Method::Subscribe: {
            const Result<sip::EventHeader> event = request.event();
            const Result<sip::Uri> uri = sip::Uri::parse(request.requestUri());
            // Our dialog package for our users; other packages go on to the phone.
            if (uri && m_domains.isLocal(*uri) &&
                (!event || event->package.compare("dialog", Qt::CaseInsensitive) == 0 ||
                 uri->user.isEmpty())) {
                QString user;
                if (!admit(id, incoming, false, user)) return;
                ++m_counters.subscribes;
                m_notifier->onSubscribe(id, incoming, user);
                return;
            }
            break;
        }
        case sip::Method::Publish: {
            const Result<sip::Uri> uri = sip::Uri::parse(request.requestUri());
            if (uri && m_domains.isLocal(*uri)) {
                QString user;
                if (!admit(id, incoming, false, user)) return;
                ++m_counters.publishes;
                respond(id, m_publications->handle(incoming, user));
                return;
            }
            break;
        }
        default:
            break;
    }

    QString user;
    if (!admit(id, incoming, false, user)) return;
    transport::IncomingMessage forwarded = incoming;
    if (!user.isEmpty()) {
        // Kamailio's auth_check(..., 1): the caller is who authenticated, not whoever the
        // From header claims.
        const Result<sip::NameAddr> from = request.from();
        if (!from || m_domains.userOf(from->uri) != user) {
            ++m_counters.authRefusals;
            respond(id, sip::makeResponse(request, 403,
                                          "From does not match the authenticated user", "sb-auth"));
            return;
        }
        // RFC 3261 §22.3: our realm's credentials were consumed here.
        m_authenticator->removeOwnCredentials(forwarded.message, AuthHeader::Proxy);
    }
    ++m_counters.proxiedRequests;
    m_proxy->onRequest(id, forwarded);
}

void SipServer::onCancel(transaction::TransactionId inviteId,
                         const transport::IncomingMessage& cancel) {
    m_proxy->onCancel(inviteId, cancel);
}

void SipServer::onAck(const transport::IncomingMessage& ack) {
    m_proxy->onAck(ack);
}

void SipServer::onStrayResponse(const transport::IncomingMessage& response) {
    m_proxy->onStrayResponse(response);
}

void SipServer::onAckTimeout(transaction::TransactionId inviteId) {
    m_proxy->onAckTimeout(inviteId);
}

}  // namespace sb::server
