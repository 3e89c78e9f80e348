#include "server/proxy.h"

#include <algorithm>
#include <deque>

#include "base/log.h"
#include "server/best_response.h"
#include "sip/params.h"
#include "transport/via_rules.h"

namespace sb::server {

namespace {

constexpr int kDefaultMaxForwards = 70;  // §16.6 step 3 (and §8.1.1.6)
constexpr int kToTagLength = 10;
constexpr int kBranchUniqueLength = 12;
// RFC 3326: why the proxy CANCELs a branch after another one answered.
const QByteArray kCompletedElsewhere = R"(SIP;cause=200;text="Call completed elsewhere")";

QByteArrayView tagOf(const Result<sip::NameAddr>& header) {
    return header ? header->tag() : QByteArrayView();
}

bool isDialogCreating(sip::Method method) {
    // §16.6 step 4 (and RFC 6665 §4.3 for SUBSCRIBE/NOTIFY, RFC 3515 for REFER): the
    // requests whose dialogs the proxy wants to stay in.
    return method == sip::Method::Invite || method == sip::Method::Subscribe ||
           method == sip::Method::Refer || method == sip::Method::Notify;
}

constexpr int kSecretLength = 32;
constexpr base::Duration kRingingRefresh = std::chrono::seconds(60);

ProxyOptions withSecret(ProxyOptions options, base::Random& random) {
    if (!options.secret.isEmpty()) return options;
    options.secret.reserve(kSecretLength);
    while (options.secret.size() < kSecretLength) {
        const quint64 word = random.next();
        options.secret.append(reinterpret_cast<const char*>(&word), sizeof word);
    }
    return options;
}

QByteArray reasonFor(int status, QByteArrayView phrase) {
    const QByteArrayView text = phrase.isEmpty() ? sip::defaultReasonPhrase(status) : phrase;
    return "SIP;cause=" + QByteArray::number(status) + ";text=" + sip::quote(text);
}

}  // namespace

struct Proxy::Target {
    QByteArray uri;  // the Request-URI of the copy
    transport::Endpoint destination;
    int qValue = 1000;
};

struct Proxy::Routing {
    std::vector<Target> targets;
    int status = 0;  // without targets: the answer, and its reason phrase
    QByteArray reason;

    static Routing to(Target target) {
        Routing routing;
        routing.targets.push_back(std::move(target));
        return routing;
    }
    static Routing refuse(int status, QByteArray reason = {}) {
        Routing routing;
        routing.status = status;
        routing.reason = std::move(reason);
        return routing;
    }
};

// RFC 3261 §16.2: the response context of one forwarded request.
struct Proxy::ResponseContext {
    transaction::TransactionId server = transaction::kNoTransaction;
    CallId call = 0;           // the current leg, as the observer knows it
    CallId stableCall = 0;     // the first leg's id, for the holder (a retarget keeps it)
    sip::Message request;      // as received
    sip::Message forwardBase;  // after §16.4, Max-Forwards decremented: what every copy starts as
    transport::Endpoint source;
    transport::Endpoint local;
    transport::ConnectionId connection = 0;
    QByteArray loopHash;
    QByteArray toTag;  // for the responses the proxy generates itself
    bool isInvite = false;
    bool inDialog = false;
    bool observed = false;          // an initial INVITE: the observer follows its branches
    bool inDialogReported = false;  // onInDialogRequest was called: its final follows
    bool recordRoute = false;

    std::vector<Target> targets;  // by q-value, best first
    std::size_t nextTarget = 0;   // the first target not yet tried
    std::size_t group = 0;
    std::deque<ProxyBranch> branches;  // a deque: references stay valid as branches are added
    BestResponse best;

    bool finalSent = false;
    bool answered = false;   // a 2xx went upstream
    bool cancelled = false;  // the upstream CANCELled (§16.10)
    bool lingerDone = false;
    base::TimerId linger = base::kNoTimer;

    // Operator actions (CallHolder).
    bool held = false;               // when no branch is left, the holder decides
    bool holderKnows = false;        // the holder hears of its final response
    bool legEndReported = false;     // the holder heard that the current leg ended
    bool provisionalSent = false;    // a ringing response went upstream
    std::vector<CallId> closedLegs;  // replaced legs whose end the observer has heard
    base::TimerId ringingRefresh = base::kNoTimer;  // our own 180, again every minute

    bool legPending(CallId leg) const {
        return std::any_of(branches.begin(), branches.end(),
                           [leg](const ProxyBranch& b) { return b.call == leg && b.isPending(); });
    }

    bool hasPending() const {
        return std::any_of(branches.begin(), branches.end(),
                           [](const ProxyBranch& b) { return b.isPending(); });
    }
    ProxyBranch* branch(BranchId id) {
        for (ProxyBranch& b : branches)
            if (b.id == id) return &b;
        return nullptr;
    }
};

Proxy::Proxy(transaction::TransactionLayer& layer, transport::Transport& transport,
             base::TimerQueue& timers, base::Random& random, const LocalDomains& domains,
             const LocationService& location, const UserDirectory& users, ProxyOptions options)
    : m_layer(layer),
      m_transport(transport),
      m_timers(timers),
      m_random(random),
      m_domains(domains),
      m_location(location),
      m_users(users),
      m_options(withSecret(std::move(options), random)),
      m_recordRoute(transport, domains, m_options.recordRouteHost, m_options.secret) {
    // Bad configuration never wins: a non-positive Timer C or fork limit would make the
    // proxy give up at once or never forward.
    if (m_options.timerC <= base::Duration::zero()) m_options.timerC = ProxyOptions{}.timerC;
    if (m_options.maxForks < 1) m_options.maxForks = 1;
    if (m_options.acceptedLinger < base::Duration::zero())
        m_options.acceptedLinger = ProxyOptions{}.acceptedLinger;
}

Proxy::~Proxy() {
    for (auto& [id, context] : m_contexts) {
        for (ProxyBranch& branch : context->branches)
            if (branch.timerC != base::kNoTimer) m_timers.cancel(branch.timerC);
        if (context->linger != base::kNoTimer) m_timers.cancel(context->linger);
        if (context->ringingRefresh != base::kNoTimer) m_timers.cancel(context->ringingRefresh);
    }
    // Client transactions outlive the proxy's interest (Timer M after a 2xx).
    m_layer.forgetUser(this);
}

std::size_t Proxy::callsInProgress() const {
    return std::size_t(std::count_if(m_contexts.begin(), m_contexts.end(), [](const auto& entry) {
        return entry.second->isInvite && !entry.second->finalSent;
    }));
}

std::size_t Proxy::pendingBranches() const {
    std::size_t pending = 0;
    for (const auto& [id, context] : m_contexts) {
        for (const ProxyBranch& branch : context->branches)
            pending += branch.isPending() ? 1 : 0;
    }
    return pending;
}

// ---- requests ---------------------------------------------------------------------

void Proxy::answerLocally(transaction::TransactionId id, const sip::Message& request, int status,
                          QByteArray reason) {
    sip::Message response =
        sip::makeResponse(request, status, std::move(reason), m_random.token(kToTagLength));
    if (status == 420) {
        // §16.3 step 5 / §20.40: name what is not supported.
        for (QByteArrayView option : request.values(sip::HeaderId::ProxyRequire))
            response.addHeader(sip::HeaderId::Unsupported, option.toByteArray());
    }
    if (status == 503) {
        response.addHeader(sip::HeaderId::RetryAfter,
                           QByteArray::number(qint64(m_options.retryAfter.count())));
    }
    if (auto sent = m_layer.sendResponse(id, std::move(response)); !sent)
        qCDebug(lcServer) << "answer" << status << "not sent:" << sent.error().reason;
}

bool Proxy::isOwnVia(const sip::Via& via) const {
    return loopHashOfBranch(via.branch()).has_value() &&
           m_recordRoute.isOwnHost(via.host, via.port);
}

bool Proxy::isLoop(const sip::Message& request, QByteArrayView hash) const {
    // §16.3 step 4: a Via of ours with the same loop hash: the request is back unchanged.
    auto vias = request.vias();
    if (!vias) return false;
    for (const sip::Via& via : *vias) {
        if (!isOwnVia(via)) continue;
        if (loopHashOfBranch(via.branch()) == hash) return true;
    }
    return false;
}

void Proxy::onRequest(transaction::TransactionId id, const transport::IncomingMessage& incoming) {
    const sip::Message& request = incoming.message;
    const bool inDialog = !tagOf(request.to()).isEmpty();
    // A request within a dialog (a BYE above all) ends or keeps a call that is already
    // up: under load it gets room beyond the limit that new calls see, so that a busy
    // proxy sheds new calls rather than leaving answered ones hanging. Still bounded.
    const std::size_t limit =
        inDialog ? 2 * m_options.maxResponseContexts : m_options.maxResponseContexts;
    if (m_contexts.size() >= limit) {
        answerLocally(id, request, 503, "Proxy Busy");
        return;
    }
    // §16.3 step 2 (the layer checked the syntax): a scheme we cannot route (tel:, ...)
    // only goes to the upstream.
    auto uri = sip::Uri::parse(request.requestUri());
    if (!uri || (!uri->isSip() && !m_options.upstream)) {
        answerLocally(id, request, 416);
        return;
    }
    // §16.3 step 3.
    const std::optional<quint32> maxForwards = request.maxForwards();
    if (maxForwards && *maxForwards == 0) {
        answerLocally(id, request, 483);
        return;
    }
    // §16.3 step 4.
    const QByteArray hash = loopHash(request);
    if (isLoop(request, hash)) {
        answerLocally(id, request, 482);
        return;
    }
    // §16.3 step 5: this proxy supports no extension a client could require of it.
    if (request.has(sip::HeaderId::ProxyRequire)) {
        answerLocally(id, request, 420);
        return;
    }
    // §16.4 route information preprocessing, on the copy every branch starts from.
    sip::Message forwardBase = request;
    const RecordRoute::Preprocessing routes = m_recordRoute.preprocess(forwardBase);
    if (inDialog && !routes.validToken) {
        // A dialog we are on carries our Record-Route token back (RecordRoute); without
        // it the request is forged, stale (record_route off) or of a dialog we are not
        // part of. §12.2.2 has the UAS answer such a request 481; nobody else may send it
        // through us.
        answerLocally(id, request, 481);
        return;
    }

    auto created = std::make_unique<ResponseContext>();
    ResponseContext& c = *created;
    c.server = id;
    c.call = m_nextCall++;
    c.stableCall = c.call;
    c.request = request;
    c.source = incoming.source;
    c.local = incoming.local;
    c.connection = incoming.connection;
    c.loopHash = hash;
    c.toTag = m_random.token(kToTagLength);
    c.isInvite = request.method() == sip::Method::Invite;
    c.inDialog = inDialog;
    c.observed = c.isInvite && !inDialog;
    c.recordRoute = m_options.recordRoute && !inDialog && isDialogCreating(request.method());
    m_contexts.emplace(id, std::move(created));

    // §16.6 step 3 once for every copy.
    c.forwardBase = std::move(forwardBase);
    c.forwardBase.setHeader(
        sip::HeaderId::MaxForwards,
        QByteArray::number(maxForwards ? qint64(*maxForwards) - 1 : kDefaultMaxForwards));

    QString calleeUser;
    if (c.observed) {
        m_callContexts[c.call] = id;
        if (auto callee = sip::Uri::parse(c.forwardBase.requestUri()))
            calleeUser = m_domains.userOf(*callee);
    }
    if (c.observed && m_observer) {
        ProxyObserver::CallStart start;
        start.call = c.call;
        start.invite = &c.request;
        start.source = c.source;
        if (auto from = request.from()) start.callerUser = m_domains.userOf(from->uri);
        start.calleeUser = calleeUser;
        start.at = m_timers.now();
        m_observer->onCallStarted(start);
    }
    CallHolder::Admission admission;
    if (c.observed && m_holder) admission = m_holder->admit(c.call, request, calleeUser);

    Routing routing;
    if (admission.hold) {
        // The holder keeps it (a call to the reception): it rings the operator's phone
        // meanwhile, or nobody (then the caller hears our own ringing).
        c.held = true;
        c.holderKnows = true;
        if (!admission.ringUser.isEmpty()) routing = routeToUser(c.forwardBase, admission.ringUser);
    } else {
        routing = route(c.forwardBase, inDialog, routes.cameThroughUs());
    }
    if (routing.targets.empty() && !c.held) {
        sendFinal(c, sip::makeResponse(request, routing.status, routing.reason, c.toTag), false);
        settle(id);
        return;
    }
    if (inDialog && m_observer) {
        m_observer->onInDialogRequest(request, incoming.source);
        c.inDialogReported = true;
    }
    if (c.isInvite) {
        // §16.2: the proxy answers 100 itself at once rather than leave the upstream
        // retransmitting for the layer's 200 ms.
        if (auto sent = m_layer.sendResponse(id, sip::makeResponse(request, 100)); !sent)
            qCDebug(lcServer) << "100 Trying not sent:" << sent.error().reason;
    }
    c.targets = std::move(routing.targets);
    advance(c);
    settle(id);
}

std::optional<transport::Endpoint> Proxy::registeredFlowOf(const sip::Uri& uri) const {
    // A remote target that is a registered contact is reached the way its REGISTER came
    // (Binding::nextHop): a phone behind NAT put a private address in its Contact. Found
    // by the contact itself: its user part need not be the AoR's (or be there at all).
    if (!m_contactLookup) return std::nullopt;
    if (std::optional<Binding> binding = m_contactLookup(uri)) return binding->nextHop();
    return std::nullopt;
}

Proxy::Routing Proxy::routeDirectly(const sip::Uri& uri) const {
    if (auto flow = registeredFlowOf(uri)) return Routing::to({uri.text.toByteArray(), *flow});
    if (auto target = numericTarget(uri)) return Routing::to({uri.text.toByteArray(), *target});
    if (m_options.upstream) return Routing::to({uri.text.toByteArray(), *m_options.upstream});
    // RFC 3263 needs DNS, which this proxy does not do for remote targets.
    return Routing::refuse(502, "Cannot Resolve Destination Host");
}

std::optional<transport::Endpoint> Proxy::nextHopOf(const sip::Uri& uri) const {
    const Routing routing = routeDirectly(uri);
    if (routing.targets.empty()) return std::nullopt;
    return routing.targets.front().destination;
}

Proxy::Routing Proxy::routeToLocalUser(const sip::Message& request, const sip::Uri& uri) const {
    const QString user = m_domains.userOf(uri);
    if (user.isEmpty()) return Routing::refuse(404, "No User In Request-URI");
    return routeToUser(request, user);
}

Proxy::Routing Proxy::routeToUser(const sip::Message& request, const QString& user) const {
    std::vector<Binding> bindings = m_location.lookup(user);
    if (bindings.empty()) {
        // §16.5 / §21.4.18: known but not registered now is 480, not 404.
        return m_users.hasUser(user) ? Routing::refuse(480) : Routing::refuse(404);
    }
    Routing routing;
    for (const Binding& binding : bindings) {
        if (routing.targets.size() >= std::size_t(m_options.maxForks)) break;
        auto contact = sip::Uri::parse(binding.contactUri);
        if (!contact || !contact->isSip()) continue;
        const transport::Endpoint hop = binding.nextHop();
        if (hop.address.isNull() || hop.port == 0) continue;
        // §16.5: a target set holds no duplicates.
        const bool duplicate =
            std::any_of(routing.targets.begin(), routing.targets.end(), [&](const Target& t) {
                auto known = sip::Uri::parse(t.uri);
                return known && sip::uriEquivalent(*known, *contact);
            });
        if (duplicate) continue;
        routing.targets.push_back({binding.contactUri, hop, std::clamp(binding.qValue, 0, 1000)});
    }
    if (routing.targets.empty()) return Routing::refuse(480, "No Usable Contact");
    // §16.6: higher q first; equal q keep the location service's order (most recent).
    std::stable_sort(routing.targets.begin(), routing.targets.end(),
                     [](const Target& a, const Target& b) { return a.qValue > b.qValue; });
    // An ACK cannot fork (it has no response to choose from), and a request within a
    // dialog has one remote target: the best contact only.
    if (request.method() == sip::Method::Ack || !tagOf(request.to()).isEmpty())
        routing.targets.resize(1);
    return routing;
}

Proxy::Routing Proxy::route(const sip::Message& request, bool inDialog, bool throughUs) const {
    auto uri = sip::Uri::parse(request.requestUri());
    if (!uri) return Routing::refuse(400, "Malformed Request-URI");
    const sip::ValueList routes = request.values(sip::HeaderId::Route);
    if (!routes.isEmpty()) {
        // §16.5 / §16.6 step 7: a route set remains after ours; the Request-URI is the
        // only target and the top Route the next hop. Only a route that came through us
        // is followed: a request naming someone else's proxy first is not ours to relay.
        if (!throughUs) return Routing::refuse(403, "Relaying denied");
        auto next = sip::NameAddr::parse(routes.front());
        if (!next || !next->uri.isSip()) return Routing::refuse(400, "Malformed Route");
        if (auto target = numericTarget(next->uri))
            return Routing::to({request.requestUri().toByteArray(), *target});
        if (m_options.upstream)
            return Routing::to({request.requestUri().toByteArray(), *m_options.upstream});
        return Routing::refuse(502, "Cannot Resolve Route Host");
    }
    if (!uri->isSip()) {
        // §16.3 step 2: a scheme we cannot route (tel:, ...) only goes to the upstream.
        if (m_options.upstream) return Routing::to({uri->text.toByteArray(), *m_options.upstream});
        return Routing::refuse(416);
    }
    if (m_domains.isLocal(*uri)) {
        // Within a dialog the Request-URI is one remote target: a registered contact
        // that happens to look like ours is that contact, never a fork to all of them.
        if (inDialog) {
            if (auto flow = registeredFlowOf(*uri))
                return Routing::to({uri->text.toByteArray(), *flow});
        }
        return routeToLocalUser(request, *uri);
    }
    // Another domain. Within a dialog that we Record-Routed the Request-URI is the
    // remote target (loose routing, §16.12): straight there.
    if (inDialog && throughUs) return routeDirectly(*uri);
    if (m_options.upstream) return Routing::to({uri->text.toByteArray(), *m_options.upstream});
    return Routing::refuse(403, "Relaying denied");
}

// ---- forwarding -------------------------------------------------------------------

void Proxy::advance(ResponseContext& c) {
    // Branches of a leg a retarget replaced may still be winding down (their 487 is on
    // its way): only the current leg's branches hold the next step back.
    while (!c.finalSent && !c.legPending(c.call)) {
        // §16.6: the next q-value group only while nothing decided the call: no 6xx
        // (§16.7 step 5: no new branches), no CANCEL from upstream.
        if (!c.cancelled && !c.best.has6xx() && c.nextTarget < c.targets.size()) {
            startNextGroup(c);
            continue;
        }
        if (c.held && !c.cancelled) {
            // The holder decides; the caller keeps ringing meanwhile. It may retarget or
            // reject from inside, hence the loop goes on.
            if (c.legEndReported) return;
            c.legEndReported = true;
            sendOwnRinging(c);
            if (!m_holder) return;
            const transaction::TransactionId serverId = c.server;
            m_holder->onLegEnded(c.stableCall, c.best.status());
            // The holder may have ended the call from inside (a retarget whose branch
            // failed at once, answered upstream): then the context may be gone.
            if (m_contexts.find(serverId) == m_contexts.end()) return;
            continue;
        }
        sendBestResponse(c);
    }
}

void Proxy::startNextGroup(ResponseContext& c) {
    const int q = c.targets[c.nextTarget].qValue;
    ++c.group;
    // §16.6 "q-value ordering": equal q in parallel, the group at once.
    while (c.nextTarget < c.targets.size() && c.targets[c.nextTarget].qValue == q) {
        const Target target = c.targets[c.nextTarget++];
        forward(c, target);
    }
}

void Proxy::forward(ResponseContext& c, const Target& target) {
    // §16.6 steps 1-2 (copy, Request-URI) and 4 (Record-Route); 3 was done once.
    sip::Message copy = c.forwardBase;
    if (copy.requestUri() != QByteArrayView(target.uri)) copy.setRequestUri(target.uri);
    if (c.recordRoute) {
        m_recordRoute.addTo(copy, {c.source.protocol, c.local.address, c.source.address},
                            {target.destination.protocol, {}, target.destination.address});
    }
    applyStrictRoute(copy);  // §16.6 step 6

    ProxyBranch& branch = c.branches.emplace_back();
    branch.id = m_nextBranch++;
    branch.call = c.call;
    branch.targetUri = target.uri;
    branch.destination = target.destination;
    branch.group = c.group;
    if (c.observed && m_observer) m_observer->onBranchStarted(branch.call, branch.id, target.uri);

    // §16.6 step 8: our Via, its branch carrying the loop hash; §16.6 step 10: statefully.
    transaction::ClientRequestOptions options;
    options.branch = makeBranch(c.loopHash, m_random.token(kBranchUniqueLength));
    auto started = m_layer.sendRequest(std::move(copy), target.destination, this, options);
    if (!started) {
        // §16.9: a transport error counts as a 503 from that branch.
        qCDebug(lcServer) << "branch to" << target.destination.toString()
                          << "failed:" << started.error().reason;
        endBranchLocally(c, branch, 503);
        return;
    }
    branch.transaction = *started;
    m_branchOf[*started] = BranchRef{c.server, branch.id};
    if (c.isInvite) startTimerC(c, branch);
}

void Proxy::startTimerC(ResponseContext& c, ProxyBranch& branch) {
    if (branch.timerC != base::kNoTimer) m_timers.cancel(branch.timerC);
    const transaction::TransactionId serverId = c.server;
    const BranchId branchId = branch.id;
    branch.timerC = m_timers.start(m_options.timerC,
                                   [this, serverId, branchId] { onTimerC(serverId, branchId); });
}

void Proxy::onTimerC(transaction::TransactionId serverId, BranchId branchId) {
    auto it = m_contexts.find(serverId);
    if (it == m_contexts.end()) return;
    ResponseContext& c = *it->second;
    ProxyBranch* branch = c.branch(branchId);
    if (!branch) return;
    branch->timerC = base::kNoTimer;
    if (!branch->isPending() || branch->cancelled) return;
    branch->timerCFired = true;
    branch->cancelled = true;
    // §16.8: with a provisional response, CANCEL it (its 487 then counts as 408);
    // without one, behave as if it answered 408. The layer still CANCELs it should a
    // provisional come late (§9.1).
    m_layer.cancelInvite(branch->transaction);
    if (branch->state == ProxyBranch::State::Trying) {
        endBranchLocally(c, *branch, 408);
        advance(c);
    }
    settle(serverId);
}

// ---- responses --------------------------------------------------------------------

Proxy::ResponseContext* Proxy::contextOf(transaction::TransactionId clientId,
                                         ProxyBranch** branch) {
    auto ref = m_branchOf.find(clientId);
    if (ref == m_branchOf.end()) return nullptr;
    auto it = m_contexts.find(ref->second.server);
    if (it == m_contexts.end()) return nullptr;
    *branch = it->second->branch(ref->second.branch);
    return *branch ? it->second.get() : nullptr;
}

void Proxy::onProvisional(transaction::TransactionId id, const sip::Message& response) {
    ProxyBranch* branch = nullptr;
    ResponseContext* c = contextOf(id, &branch);
    if (!c) return;
    if (c->observed && m_observer) m_observer->onBranchResponse(branch->call, branch->id, response);
    if (!branch->isPending()) return;
    branch->state = ProxyBranch::State::Proceeding;
    const int status = response.statusCode();
    // §16.7 step 2: a provisional other than 100 restarts Timer C.
    if (status > 100 && c->isInvite && !branch->cancelled) startTimerC(*c, *branch);
    // §16.7 step 5: every provisional but 100 goes upstream at once, until a final has.
    // RFC 4320 §4.1: none but 100 to a non-INVITE.
    if (status == 100 || !c->isInvite || c->finalSent) return;
    forwardProvisional(*c, response);
}

void Proxy::forwardProvisional(ResponseContext& c, const sip::Message& response) {
    sip::Message upstream = response;
    removeTopVia(upstream);  // §16.7 step 3
    if (auto sent = m_layer.sendResponse(c.server, std::move(upstream)); !sent) {
        qCDebug(lcServer) << "provisional not forwarded:" << sent.error().reason;
        return;
    }
    c.provisionalSent = true;
}

void Proxy::onFinal(transaction::TransactionId id, const sip::Message& response) {
    const int status = response.statusCode();
    ProxyBranch* branch = nullptr;
    ResponseContext* c = contextOf(id, &branch);
    if (!c) {
        // The call is over here but the transaction lives on (Timer M after a 2xx): a
        // late 2xx to INVITE is still forwarded (§16.7 step 5), statelessly.
        const auto cseq = response.cseq();
        if (status < 300 && cseq && cseq->method == sip::Method::Invite) {
            sip::Message upstream = response;
            if (removeTopVia(upstream)) forwardResponseStatelessly(std::move(upstream));
        }
        return;
    }
    const transaction::TransactionId serverId = c->server;
    if (c->observed && m_observer) m_observer->onBranchResponse(branch->call, branch->id, response);
    sip::Message upstream = response;
    removeTopVia(upstream);  // §16.7 step 3
    if (status < 300) {
        if (branch->isPending()) {
            if (branch->timerC != base::kNoTimer) m_timers.cancel(branch->timerC);
            branch->timerC = base::kNoTimer;
            branch->state = ProxyBranch::State::Completed;
            branch->status = status;
        }
        forwardSuccess(*c, upstream, branch->call);
    } else if (branch->isPending()) {
        if (branch->timerCFired) {
            endBranch(*c, *branch, 408, nullptr);  // §16.8: the CANCELled branch is a 408
        } else {
            endBranch(*c, *branch, status, &upstream);
        }
        closeRetiredLeg(*c, branch->call);
    }
    advance(*c);
    settle(serverId);
}

void Proxy::forwardSuccess(ResponseContext& c, const sip::Message& response, CallId leg) {
    if (!c.isInvite) {
        // A non-INVITE has one final response; a second 2xx (another fork) goes nowhere.
        if (!c.finalSent) sendFinal(c, response, false);
        return;
    }
    // §16.7 step 5: every 2xx to INVITE goes upstream at once, also after a final went
    // (forking: each 2xx is an early dialog of its own that the UAC acknowledges or
    // ends). Through the server transaction while it is Accepted; after a failure went
    // upstream (a 2xx racing a 6xx or CANCEL) it has no room for it: statelessly.
    transaction::ServerResponseOptions options;
    options.proxied = true;
    if (auto sent = m_layer.sendResponse(c.server, response, options); !sent) {
        if (auto stateless = m_transport.sendResponse(response, c.source, c.connection); !stateless)
            qCDebug(lcServer) << "2xx not forwarded:" << stateless.error().reason;
    }
    if (c.finalSent) return;
    c.finalSent = true;
    c.answered = true;
    if (leg != c.call) {
        // A leg a retarget replaced answered before its CANCEL arrived (a pickup a moment
        // too late): the call is that leg's; the new leg ends instead.
        c.closedLegs.push_back(leg);
        if (c.observed && m_observer) {
            m_observer->onCallAnswered(leg, response);
            m_observer->onCallFailed(c.call, 487, true);
        }
        if (c.holderKnows && m_holder)
            m_holder->onCallFinished(c.stableCall, response.statusCode());
    } else {
        noteFinal(c, response);
    }
    // §16.7 step 10 / §16.10: the call is answered; the other branches are CANCELled.
    cancelPending(c, kCompletedElsewhere);
    const transaction::TransactionId serverId = c.server;
    c.linger = m_timers.start(m_options.acceptedLinger, [this, serverId] {
        auto it = m_contexts.find(serverId);
        if (it == m_contexts.end()) return;
        it->second->linger = base::kNoTimer;
        it->second->lingerDone = true;
        settle(serverId);
    });
}

void Proxy::endBranch(ResponseContext& c, ProxyBranch& branch, int status,
                      const sip::Message* response) {
    if (!branch.isPending()) return;
    if (branch.timerC != base::kNoTimer) m_timers.cancel(branch.timerC);
    branch.timerC = base::kNoTimer;
    branch.state = ProxyBranch::State::Completed;
    branch.status = status;
    if (branch.retired) {
        // A leg that a retarget replaced: its end says nothing about the new one.
    } else if (response) {
        c.best.add(*response);  // §16.7 step 4
    } else {
        c.best.addLocal(status);
    }
    // §16.7 step 5: a 6xx is not forwarded at once, but the other branches are
    // CANCELled and no new ones start.
    if (response && status >= 600 && !c.finalSent && !branch.retired)
        cancelPending(c, reasonFor(status, response->reasonPhrase()));
}

void Proxy::endBranchLocally(ResponseContext& c, ProxyBranch& branch, int status) {
    if (!branch.isPending()) return;
    // What the observer hears: a branch the proxy itself CANCELled ended as 487.
    const int reported = branch.cancelled && !branch.timerCFired ? 487 : status;
    endBranch(c, branch, status, nullptr);
    if (c.observed && m_observer) m_observer->onBranchEnded(branch.call, branch.id, reported);
    closeRetiredLeg(c, branch.call);
}

void Proxy::onTimeout(transaction::TransactionId id) {
    ProxyBranch* branch = nullptr;
    ResponseContext* c = contextOf(id, &branch);
    if (!c) return;
    const transaction::TransactionId serverId = c->server;
    // Timer B/F, or §9.1's wait for the answer to our CANCEL: a 408 (§16.7 step 6 then
    // sends none for a non-INVITE, RFC 4320).
    endBranchLocally(*c, *branch, 408);
    advance(*c);
    settle(serverId);
}

void Proxy::onTransportError(transaction::TransactionId id, const Error& error) {
    ProxyBranch* branch = nullptr;
    ResponseContext* c = contextOf(id, &branch);
    if (!c) return;
    qCDebug(lcServer) << "branch" << branch->id << "transport error:" << error.reason;
    const transaction::TransactionId serverId = c->server;
    endBranchLocally(*c, *branch, 503);  // §16.9
    advance(*c);
    settle(serverId);
}

void Proxy::cancelPending(ResponseContext& c, const QByteArray& reason) {
    // §9.1: only INVITE is CANCELled; a non-INVITE branch runs to its end.
    if (!c.isInvite) return;
    for (ProxyBranch& branch : c.branches) {
        if (!branch.isPending() || branch.cancelled) continue;
        branch.cancelled = true;
        if (branch.timerC != base::kNoTimer) m_timers.cancel(branch.timerC);
        branch.timerC = base::kNoTimer;
        m_layer.cancelInvite(branch.transaction, reason);
    }
}

void Proxy::onCancel(transaction::TransactionId inviteId,
                     const transport::IncomingMessage& cancel) {
    auto it = m_contexts.find(inviteId);
    if (it == m_contexts.end()) return;
    ResponseContext& c = *it->second;
    if (c.finalSent) return;
    // §16.10: CANCEL every pending branch (the caller's Reason travels with it, RFC 3326)
    // and answer the INVITE 487 once they are over.
    c.cancelled = true;
    QByteArray reason;
    for (QByteArrayView value : cancel.message.values(sip::HeaderId::Reason)) {
        if (!reason.isEmpty()) reason += ", ";
        reason += value.toByteArray();
    }
    cancelPending(c, reason);
    advance(c);
    settle(inviteId);
}

void Proxy::sendBestResponse(ResponseContext& c) {
    if (c.cancelled && c.isInvite) {
        sendFinal(c, sip::makeResponse(c.request, 487, {}, c.toTag), false);
        return;
    }
    // RFC 4320 §4.2: no 408 to a non-INVITE; the client times out on its own.
    if (!c.isInvite && c.best.status() == 408) {
        if (auto ended = m_layer.endWithoutResponse(c.server); !ended)
            qCDebug(lcServer) << "cannot end without response:" << ended.error().reason;
        c.finalSent = true;
        // The tracker still learns that the request (a BYE, say) got nowhere.
        noteFinal(c, sip::makeResponse(c.request, 408, {}, c.toTag));
        return;
    }
    sendFinal(c, c.best.build(c.request, c.toTag), false);
}

void Proxy::sendFinal(ResponseContext& c, const sip::Message& response, bool proxied) {
    transaction::ServerResponseOptions options;
    options.proxied = proxied;
    if (auto sent = m_layer.sendResponse(c.server, response, options); !sent)
        qCDebug(lcServer) << "final" << response.statusCode() << "not sent:" << sent.error().reason;
    c.finalSent = true;
    noteFinal(c, response);
}

void Proxy::noteFinal(ResponseContext& c, const sip::Message& response) {
    const int status = response.statusCode();
    if (c.holderKnows && m_holder) m_holder->onCallFinished(c.stableCall, status);
    if (!m_observer) return;
    if (c.observed) {
        if (status < 300) {
            m_observer->onCallAnswered(c.call, response);
        } else {
            m_observer->onCallFailed(c.call, status, c.cancelled);
        }
    } else if (c.inDialogReported) {
        m_observer->onInDialogResponse(response);
    }
}

void Proxy::settle(transaction::TransactionId serverId) {
    auto it = m_contexts.find(serverId);
    if (it == m_contexts.end()) return;
    const ResponseContext& c = *it->second;
    if (!c.finalSent || c.hasPending()) return;
    if (c.answered && !c.lingerDone) return;
    erase(serverId);
}

void Proxy::erase(transaction::TransactionId serverId) {
    auto it = m_contexts.find(serverId);
    if (it == m_contexts.end()) return;
    ResponseContext& c = *it->second;
    for (ProxyBranch& branch : c.branches) {
        if (branch.timerC != base::kNoTimer) m_timers.cancel(branch.timerC);
        if (branch.transaction != transaction::kNoTransaction) m_branchOf.erase(branch.transaction);
    }
    if (c.linger != base::kNoTimer) m_timers.cancel(c.linger);
    if (c.ringingRefresh != base::kNoTimer) m_timers.cancel(c.ringingRefresh);
    m_callContexts.erase(c.call);
    m_callContexts.erase(c.stableCall);
    m_contexts.erase(it);
}

void Proxy::onAckTimeout(transaction::TransactionId inviteId) {
    // Timer H after a failure this proxy sent upstream: the upstream never ACKed it. The
    // proxy keeps no session to end; a context still waiting for branches ends as usual.
    settle(inviteId);
}

// ---- operator actions -------------------------------------------------------------

Proxy::ResponseContext* Proxy::ringingCall(CallId call, Error* error) {
    const auto known = m_callContexts.find(call);
    const auto it =
        known == m_callContexts.end() ? m_contexts.end() : m_contexts.find(known->second);
    if (it == m_contexts.end()) {
        *error = makeError(ErrorKind::Protocol, QStringLiteral("the call has ended"));
        return nullptr;
    }
    ResponseContext& c = *it->second;
    if (c.answered) {
        *error = makeError(ErrorKind::Protocol, QStringLiteral("the call has been answered"));
        return nullptr;
    }
    if (c.finalSent || c.cancelled) {
        *error = makeError(ErrorKind::Protocol, QStringLiteral("the call has ended"));
        return nullptr;
    }
    return &c;
}

void Proxy::sendOwnRinging(ResponseContext& c) {
    // A held call that rings nowhere: the caller hears ringing from us (and stays in
    // Proceeding: no Timer B upstream, RFC 3261 §17.1.1.2).
    if (c.provisionalSent || !c.isInvite || c.finalSent) return;
    if (auto sent = m_layer.sendResponse(c.server, sip::makeResponse(c.request, 180, {}, c.toTag));
        !sent) {
        qCDebug(lcServer) << "own 180 not sent:" << sent.error().reason;
        return;
    }
    c.provisionalSent = true;
    // RFC 3261 §13.3.1.1: a call that waits (in the queue) gets a provisional response
    // every minute, so that a proxy upstream does not give up on it (its Timer C).
    const transaction::TransactionId serverId = c.server;
    c.ringingRefresh =
        m_timers.start(kRingingRefresh, [this, serverId] { refreshRinging(serverId); });
}

void Proxy::refreshRinging(transaction::TransactionId serverId) {
    auto it = m_contexts.find(serverId);
    if (it == m_contexts.end()) return;
    ResponseContext& c = *it->second;
    c.ringingRefresh = base::kNoTimer;
    if (c.finalSent) return;
    if (auto sent = m_layer.sendResponse(c.server, sip::makeResponse(c.request, 180, {}, c.toTag));
        !sent)
        qCDebug(lcServer) << "own 180 not sent again:" << sent.error().reason;
    c.ringingRefresh =
        m_timers.start(kRingingRefresh, [this, serverId] { refreshRinging(serverId); });
}

Result<void> Proxy::retarget(CallId call, Retarget retarget) {
    Error error;
    ResponseContext* found = ringingCall(call, &error);
    if (!found) return fail(error);
    ResponseContext& c = *found;
    Routing routing = retarget.ringUser.isEmpty() ? route(retarget.leg, false, false)
                                                  : routeToUser(retarget.leg, retarget.ringUser);
    if (routing.targets.empty() && !retarget.allowNoBranch) {
        const QByteArrayView phrase =
            routing.reason.isEmpty() ? sip::defaultReasonPhrase(routing.status) : routing.reason;
        return fail(ErrorKind::Protocol,
                    QStringLiteral("%1 %2").arg(routing.status).arg(QString::fromUtf8(phrase)), -1,
                    routing.status);
    }
    // The old leg: what still rings is CANCELled and no longer counts. The tracker sees
    // it end as cancelled, and the new leg start as a call of its own.
    for (ProxyBranch& branch : c.branches)
        branch.retired = true;
    cancelPending(c, retarget.cancelReason);

    const CallId oldLeg = c.call;
    if (c.call != c.stableCall) m_callContexts.erase(c.call);
    c.call = m_nextCall++;
    // The tracker hears the old leg fail once its branches are over (or at once).
    closeRetiredLeg(c, oldLeg);
    m_callContexts[c.call] = c.server;
    c.forwardBase = std::move(retarget.leg);
    c.loopHash = loopHash(c.forwardBase);
    c.held = retarget.hold;
    c.holderKnows = c.holderKnows || m_holder != nullptr;
    c.legEndReported = false;
    c.best = BestResponse{};
    c.targets = std::move(routing.targets);
    c.nextTarget = 0;
    if (c.observed && m_observer) {
        ProxyObserver::CallStart start;
        start.call = c.call;
        start.invite = &c.forwardBase;
        start.source = c.source;
        if (auto from = c.forwardBase.from()) start.callerUser = m_domains.userOf(from->uri);
        if (auto callee = sip::Uri::parse(c.forwardBase.requestUri()))
            start.calleeUser = m_domains.userOf(*callee);
        start.at = m_timers.now();
        m_observer->onCallStarted(start);
    }
    const transaction::TransactionId serverId = c.server;
    advance(c);
    settle(serverId);
    return {};
}

void Proxy::closeRetiredLeg(ResponseContext& c, CallId leg) {
    if (leg == c.call || !c.observed || c.legPending(leg)) return;
    if (std::find(c.closedLegs.begin(), c.closedLegs.end(), leg) != c.closedLegs.end()) return;
    c.closedLegs.push_back(leg);
    if (m_observer) m_observer->onCallFailed(leg, 487, true);
}

Result<void> Proxy::reject(CallId call, int status, QByteArray cancelReason) {
    if (status < 300 || status > 699)
        return fail(ErrorKind::Protocol,
                    QStringLiteral("%1 is not a final failure status").arg(status));
    Error error;
    ResponseContext* found = ringingCall(call, &error);
    if (!found) return fail(error);
    ResponseContext& c = *found;
    for (ProxyBranch& branch : c.branches)
        branch.retired = true;
    cancelPending(c, cancelReason);
    c.held = false;
    sendFinal(c, sip::makeResponse(c.request, status, {}, c.toTag), false);
    settle(c.server);
    return {};
}

std::optional<sip::Message> Proxy::currentLeg(CallId call) const {
    const auto known = m_callContexts.find(call);
    if (known == m_callContexts.end()) return std::nullopt;
    const auto it = m_contexts.find(known->second);
    if (it == m_contexts.end() || it->second->finalSent) return std::nullopt;
    return it->second->forwardBase;
}

std::optional<CallId> Proxy::stableCallOf(CallId call) const {
    const auto known = m_callContexts.find(call);
    if (known == m_callContexts.end()) return std::nullopt;
    const auto it = m_contexts.find(known->second);
    if (it == m_contexts.end()) return std::nullopt;
    return it->second->stableCall;
}

// ---- stateless forwarding ---------------------------------------------------------

void Proxy::onAck(const transport::IncomingMessage& incoming) {
    const sip::Message& ack = incoming.message;
    // §16.3 for an ACK: what fails is dropped, since an ACK is never answered.
    const std::optional<quint32> maxForwards = ack.maxForwards();
    if (maxForwards && *maxForwards == 0) return;
    const QByteArray hash = loopHash(ack);
    if (isLoop(ack, hash)) return;
    auto topVia = ack.topVia();
    if (!topVia) return;

    sip::Message forwarded = ack;
    const RecordRoute::Preprocessing routes = m_recordRoute.preprocess(forwarded);
    // The ACK for a 2xx follows the dialog's route set, which carries our token when we
    // Record-Routed the INVITE. Without it: an ACK for a failure whose transaction is gone
    // (hop by hop, §17.1.1.3), or a forged one. Nothing to forward either way.
    if (!routes.validToken) return;
    const Routing routing = route(forwarded, true, routes.cameThroughUs());
    if (routing.targets.empty()) {
        qCDebug(lcServer) << "ACK not routed:" << routing.status << routing.reason;
        return;
    }
    const Target& target = routing.targets.front();
    if (forwarded.requestUri() != QByteArrayView(target.uri)) forwarded.setRequestUri(target.uri);
    forwarded.setHeader(
        sip::HeaderId::MaxForwards,
        QByteArray::number(maxForwards ? qint64(*maxForwards) - 1 : kDefaultMaxForwards));
    applyStrictRoute(forwarded);
    // §16.11: a stateless forward's branch is the same for a retransmission of the
    // same ACK: derived from its top Via.
    transaction::StatelessRequestOptions options;
    options.pushVia = true;
    options.branch = makeBranch(hash, shortHash(ack.values(sip::HeaderId::Via).value(0)));
    if (auto sent = m_layer.sendStateless(std::move(forwarded), target.destination, options);
        !sent) {
        qCDebug(lcServer) << "ACK not forwarded:" << sent.error().reason;
        return;
    }
    if (m_observer) m_observer->onInDialogRequest(ack, incoming.source);
}

void Proxy::onStrayResponse(const transport::IncomingMessage& incoming) {
    const sip::Message& response = incoming.message;
    // §16.7 step 1 forwards what matches no transaction statelessly; RFC 6026 keeps the
    // INVITE client transaction for Timer M so that hardly anything is stray. What is
    // left worth forwarding is a 2xx to INVITE under a Via of ours (the UAS still
    // retransmitting); anything else is dropped.
    const auto cseq = response.cseq();
    const int status = response.statusCode();
    if (!cseq || cseq->method != sip::Method::Invite || status < 200 || status >= 300) return;
    auto via = response.topVia();
    if (!via || !isOwnVia(*via)) return;
    sip::Message upstream = response;
    if (!removeTopVia(upstream) || !upstream.has(sip::HeaderId::Via)) return;
    forwardResponseStatelessly(std::move(upstream));
}

void Proxy::forwardResponseStatelessly(sip::Message response) {
    // §18.2.2 by the (now) top Via: received/rport, else sent-by.
    auto via = response.topVia();
    if (!via) return;
    auto routed = transport::routeResponse(*via);
    if (!routed) return;
    transport::Endpoint towards;
    towards.protocol = routed->protocol;
    towards.address = routed->address().value_or(QHostAddress());
    towards.port = routed->port;
    if (auto sent = m_transport.sendResponse(response, towards, 0); !sent)
        qCDebug(lcServer) << "stray 2xx not forwarded:" << sent.error().reason;
}

}  // namespace sb::server
