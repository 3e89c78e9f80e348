#include "transaction/transaction_layer.h"

#include <QHash>

#include <vector>

#include "base/log.h"
#include "transaction/client_invite_transaction.h"
#include "transaction/client_non_invite_transaction.h"
#include "transaction/server_invite_transaction.h"
#include "transaction/server_non_invite_transaction.h"
#include "transaction/transaction_context.h"
#include "transaction/transaction_key.h"
#include "transaction/transaction_requests.h"
#include "transport/error_response.h"

namespace sb::transaction {

struct TransactionLayer::Impl {
    Impl(transport::Transport& transport, base::TimerQueue& timers, base::Random& random,
         TimerValues values)
        : context(transport, timers, random, values) {
        context.reap = [this] { reap(); };
    }

    // Client side.
    Result<TransactionId> startClient(sip::Message request, const transport::Endpoint& destination,
                                      ClientTransactionUser* user,
                                      const ClientRequestOptions& options);
    void sendCancel(ClientInviteTransaction& invite);
    void onResponse(const transport::IncomingMessage& incoming);

    // Server side.
    void onRequest(transport::IncomingMessage&& incoming);
    void onCancelRequest(transport::IncomingMessage&& incoming);
    ServerTransaction* findServer(const std::optional<QByteArray>& key);
    ServerTransaction& createServer(transport::IncomingMessage&& incoming, const QByteArray& key);
    void fileServerKey(ServerTransaction& transaction, const QByteArray& key);
    void answerStatelessly(const transport::IncomingMessage& incoming, int status,
                           QByteArray reason);
    // Whether a new server transaction would pass the limit.
    bool serversFull() const { return servers.size() >= limits.maxServerTransactions; }
    // RFC 3261 §21.5.4: 503, without a transaction; with Retry-After when `busy`.
    void refuseStatelessly(const transport::IncomingMessage& incoming, bool busy);

    void reap();

    TransactionContext context;  // declared first: transactions refer to it until they die
    TransactionId nextId = 1;
    ServerTransactionLimits limits;
    std::unordered_map<TransactionId, std::unique_ptr<ClientTransaction>> clients;
    std::unordered_map<TransactionId, std::unique_ptr<ServerTransaction>> servers;
    QHash<QByteArray, TransactionId> clientByKey;
    QHash<QByteArray, TransactionId> serverByKey;
};

TransactionLayer::TransactionLayer(transport::Transport& transport, base::TimerQueue& timers,
                                   base::Random& random, TimerValues values)
    : d(std::make_unique<Impl>(transport, timers, random, values)) {
    transport.setUser(this);
}

TransactionLayer::~TransactionLayer() {
    d->context.transport.setUser(nullptr);
    d->context.reap = nullptr;
    d->clients.clear();
    d->servers.clear();
}

void TransactionLayer::setServerUser(ServerTransactionUser* user) {
    d->context.serverUser = user;
}

void TransactionLayer::setServerLimits(ServerTransactionLimits limits) {
    d->limits = limits;
}

// ---- client transactions ----------------------------------------------------------

Result<TransactionId> TransactionLayer::sendRequest(sip::Message request,
                                                    const transport::Endpoint& destination,
                                                    ClientTransactionUser* user,
                                                    ClientRequestOptions options) {
    EventScope scope(d->context);
    return d->startClient(std::move(request), destination, user, options);
}

Result<TransactionId> TransactionLayer::Impl::startClient(sip::Message request,
                                                          const transport::Endpoint& destination,
                                                          ClientTransactionUser* user,
                                                          const ClientRequestOptions& options) {
    if (!request.isRequest()) return fail(ErrorKind::Protocol, QStringLiteral("not a request"));
    if (request.method() == sip::Method::Ack)
        return fail(ErrorKind::Protocol,
                    QStringLiteral("ACK starts no transaction; use sendStateless()"));
    if (!options.keepTopVia) {
        if (!options.branch.isEmpty() && !options.branch.startsWith(sip::kMagicCookie))
            return fail(ErrorKind::Protocol,
                        QStringLiteral("a branch must start with the magic cookie"));
        const QByteArray branch =
            options.branch.isEmpty() ? newBranch(context.random) : options.branch;
        request.prependHeader(sip::HeaderId::Via,
                              viaValue(context.transport.localEndpoint(destination.protocol),
                                       destination.protocol, branch));
    }
    // RFC 3261 §8.1.1.6: a UAC must insert Max-Forwards; 70 is the recommended value.
    if (!request.has(sip::HeaderId::MaxForwards))
        request.addHeader(sip::HeaderId::MaxForwards, "70");

    auto via = request.topVia();
    if (!via || via->branch().isEmpty())
        return fail(ErrorKind::Protocol, QStringLiteral("request has no top Via with a branch"));
    const QByteArray key = clientKey(via->branch(), request.methodName());
    if (clientByKey.contains(key))
        return fail(ErrorKind::Protocol,
                    QStringLiteral("a client transaction with this branch and method exists"));

    auto used = context.transport.sendRequest(request, destination);
    if (!used) return fail(used.error());

    const TransactionId id = nextId++;
    std::unique_ptr<ClientTransaction> transaction;
    if (request.method() == sip::Method::Invite) {
        transaction = std::make_unique<ClientInviteTransaction>(context, id, key,
                                                                std::move(request), *used, user);
    } else {
        transaction = std::make_unique<ClientNonInviteTransaction>(context, id, key,
                                                                   std::move(request), *used, user);
    }
    ClientTransaction& started = *transaction;
    clients.emplace(id, std::move(transaction));
    clientByKey.insert(key, id);
    started.start();
    qCDebug(lcTransaction) << "client transaction" << id << started.request().methodName() << "to"
                           << used->address.toString() << used->port;
    return id;
}

void TransactionLayer::cancelInvite(TransactionId inviteId, QByteArray reasonHeader) {
    EventScope scope(d->context);
    auto it = d->clients.find(inviteId);
    if (it == d->clients.end() || !it->second->isInvite()) return;
    auto& invite = static_cast<ClientInviteTransaction&>(*it->second);
    invite.requestCancel(std::move(reasonHeader));
    // §9.1: only once a provisional response has arrived; until then it waits.
    if (invite.state() == ClientTransaction::State::Proceeding) d->sendCancel(invite);
}

void TransactionLayer::Impl::sendCancel(ClientInviteTransaction& invite) {
    if (invite.cancelSent()) return;
    sip::Message cancel = makeCancel(invite.request(), invite.cancelReason());
    // The CANCEL is a transaction of its own whose answer nobody waits for; the INVITE
    // ends with the far side's 487 (or with the timeout noteCancelSent() starts).
    ClientRequestOptions keepVia;
    keepVia.keepTopVia = true;
    auto started = startClient(std::move(cancel), invite.destination(), nullptr, keepVia);
    if (!started) {
        qCDebug(lcTransaction) << "CANCEL for" << invite.id()
                               << "not sent:" << started.error().reason;
        return;
    }
    invite.noteCancelSent();
}

void TransactionLayer::forget(TransactionId id) {
    auto it = d->clients.find(id);
    if (it != d->clients.end()) it->second->forgetUser();
}

void TransactionLayer::forgetUser(const ClientTransactionUser* user) {
    if (!user) return;
    for (auto& [id, transaction] : d->clients) {
        if (transaction->user() == user) transaction->forgetUser();
    }
}

void TransactionLayer::Impl::onResponse(const transport::IncomingMessage& incoming) {
    const sip::Message& response = incoming.message;
    const auto key = clientKeyOfResponse(response);
    const TransactionId id = key ? clientByKey.value(*key, kNoTransaction) : kNoTransaction;
    auto it = clients.find(id);
    if (it == clients.end() || it->second->isTerminated()) {
        // §17.1.3 found nothing: e.g. a 2xx retransmitted after the INVITE transaction
        // ended, which the dialog layer acknowledges again.
        if (context.serverUser) context.serverUser->onStrayResponse(incoming);
        return;
    }
    ClientTransaction& transaction = *it->second;
    transaction.onResponse(response);
    if (transaction.isInvite()) {
        auto& invite = static_cast<ClientInviteTransaction&>(transaction);
        if (invite.cancelRequested() && invite.state() == ClientTransaction::State::Proceeding)
            sendCancel(invite);
    }
}

// ---- server transactions ----------------------------------------------------------

ServerTransaction* TransactionLayer::Impl::findServer(const std::optional<QByteArray>& key) {
    if (!key) return nullptr;
    auto it = servers.find(serverByKey.value(*key, kNoTransaction));
    if (it == servers.end() || it->second->isTerminated()) return nullptr;
    return it->second.get();
}

void TransactionLayer::Impl::fileServerKey(ServerTransaction& transaction, const QByteArray& key) {
    if (serverByKey.value(key, kNoTransaction) == transaction.id()) return;
    serverByKey.insert(key, transaction.id());
    transaction.keys().push_back(key);
}

ServerTransaction& TransactionLayer::Impl::createServer(transport::IncomingMessage&& incoming,
                                                        const QByteArray& key) {
    const TransactionId id = nextId++;
    std::unique_ptr<ServerTransaction> transaction;
    if (incoming.message.method() == sip::Method::Invite) {
        transaction = std::make_unique<ServerInviteTransaction>(context, id, std::move(incoming));
    } else {
        transaction =
            std::make_unique<ServerNonInviteTransaction>(context, id, std::move(incoming));
    }
    ServerTransaction& created = *transaction;
    servers.emplace(id, std::move(transaction));
    fileServerKey(created, key);
    created.start();
    return created;
}

void TransactionLayer::Impl::answerStatelessly(const transport::IncomingMessage& incoming,
                                               int status, QByteArray reason) {
    const sip::Message response = sip::makeResponse(incoming.message, status, std::move(reason));
    if (auto sent = context.transport.sendResponse(response, incoming.source, incoming.connection);
        !sent) {
        qCDebug(lcTransaction) << "stateless" << status << "not sent:" << sent.error().reason;
    }
}

void TransactionLayer::Impl::refuseStatelessly(const transport::IncomingMessage& incoming,
                                               bool busy) {
    const sip::Message& request = incoming.message;
    // §8.2.6.2: a To tag, the same for every retransmission of the request.
    const QByteArray toTag = transport::statelessToTag(
        request.callId(), request.header(sip::HeaderId::From), request.header(sip::HeaderId::Via));
    sip::Message response = sip::makeResponse(request, 503, {}, toTag);
    if (busy) {
        response.addHeader(sip::HeaderId::RetryAfter,
                           QByteArray::number(qint64(limits.retryAfter.count())));
    }
    if (auto sent = context.transport.sendResponse(response, incoming.source, incoming.connection);
        !sent) {
        qCDebug(lcTransaction) << "stateless 503 not sent:" << sent.error().reason;
    }
}

void TransactionLayer::Impl::onRequest(transport::IncomingMessage&& incoming) {
    const sip::Message& request = incoming.message;
    if (auto valid = request.validate(); !valid) {
        // §8.2 / §21.4.1: a request we cannot use gets 400 with the reason; an ACK gets nothing.
        qCDebug(lcTransaction) << "invalid request:" << valid.error().reason;
        if (request.method() != sip::Method::Ack && request.has(sip::HeaderId::Via))
            answerStatelessly(incoming, 400, valid.error().reason.toUtf8());
        return;
    }
    const bool isAck = request.method() == sip::Method::Ack;
    // §17.2.3: an ACK matches the INVITE transaction it acknowledges.
    const auto key = serverKey(request, isAck ? QByteArrayView("INVITE") : request.methodName());
    if (ServerTransaction* existing = findServer(key)) {
        if (!isAck) {
            existing->onRetransmission();
        } else if (existing->isInvite() &&
                   static_cast<ServerInviteTransaction*>(existing)->onAck() && context.serverUser) {
            context.serverUser->onAck(incoming);
        }
        return;
    }
    if (isAck) {
        // The ACK of a 2xx carries a branch of its own: find the INVITE by dialog and
        // CSeq to stop the 2xx retransmissions, then hand the ACK to the dialog layer.
        if (ServerTransaction* accepted = findServer(dialogAckKeyOfAck(request));
            accepted && accepted->isInvite())
            static_cast<ServerInviteTransaction*>(accepted)->onAck();
        if (context.serverUser) context.serverUser->onAck(incoming);
        return;
    }
    if (!key) return;  // validate() passed, so this cannot happen; keep the guard cheap
    if (request.method() == sip::Method::Cancel) {
        onCancelRequest(std::move(incoming));
        return;
    }
    if (!context.serverUser) {
        // Nobody serves requests here: answering statelessly keeps nothing for 32 s.
        refuseStatelessly(incoming, false);
        return;
    }
    if (serversFull()) {
        refuseStatelessly(incoming, true);
        return;
    }
    ServerTransaction& created = createServer(std::move(incoming), *key);
    qCDebug(lcTransaction) << "server transaction" << created.id()
                           << created.request().methodName();
    context.serverUser->onRequest(created.id(), created.incoming());
}

void TransactionLayer::Impl::onCancelRequest(transport::IncomingMessage&& incoming) {
    // §9.2: the CANCEL is a non-INVITE server transaction of its own, matched to the
    // INVITE it cancels by the §17.2.3 rules (method aside).
    const auto inviteKey = serverKey(incoming.message, "INVITE");
    ServerTransaction* invite = findServer(inviteKey);
    const auto cancelKey = serverKey(incoming.message, "CANCEL");
    if (!cancelKey) return;
    if (serversFull()) {
        refuseStatelessly(incoming, true);
        return;
    }
    ServerTransaction& cancel = createServer(std::move(incoming), *cancelKey);
    if (!invite) {
        (void)cancel.respond(sip::makeResponse(cancel.request(), 481));
        return;
    }
    // §9.2: the 200 for the CANCEL carries the To tag of the INVITE's response.
    QByteArray toTag = invite->lastResponseToTag();
    if (toTag.isEmpty()) toTag = context.random.token(10);
    (void)cancel.respond(sip::makeResponse(cancel.request(), 200, {}, toTag));
    if (!invite->hasFinalResponse() && context.serverUser)
        context.serverUser->onCancel(invite->id(), cancel.incoming());
}

Result<void> TransactionLayer::sendResponse(TransactionId serverId, sip::Message response,
                                            ServerResponseOptions options) {
    EventScope scope(d->context);
    auto it = d->servers.find(serverId);
    if (it == d->servers.end() || it->second->isTerminated())
        return fail(ErrorKind::Protocol, QStringLiteral("no such server transaction"));
    ServerTransaction& transaction = *it->second;
    if (!response.isResponse()) return fail(ErrorKind::Protocol, QStringLiteral("not a response"));
    if (options.proxied && transaction.isInvite())
        static_cast<ServerInviteTransaction&>(transaction).setProxied();
    const bool final = response.statusCode() >= 200;
    const bool success = response.statusCode() >= 200 && response.statusCode() < 300;
    auto sent = transaction.respond(std::move(response));
    // (A refused second final finds the request already dropped: nothing to file then.)
    if (transaction.isInvite() && final && transaction.hasFinalResponse() &&
        transaction.hasRequest()) {
        const sip::Message& request = transaction.request();
        const QByteArray toTag = transaction.lastResponseToTag();
        // RFC 2543 peers: their ACK carries the To tag of our final response (§17.2.3).
        if (usesRfc2543Matching(request)) {
            if (auto ackKey = serverKey(request, "INVITE", toTag))
                d->fileServerKey(transaction, *ackKey);
        }
        if (success) {
            auto from = request.from();
            auto cseq = request.cseq();
            if (from && cseq)
                d->fileServerKey(transaction,
                                 dialogAckKey(request.callId(), from->tag(), toTag, cseq->number));
        }
    }
    return sent;
}

Result<void> TransactionLayer::endWithoutResponse(TransactionId serverId) {
    EventScope scope(d->context);
    auto it = d->servers.find(serverId);
    if (it == d->servers.end() || it->second->isTerminated())
        return fail(ErrorKind::Protocol, QStringLiteral("no such server transaction"));
    return it->second->endWithoutResponse();
}

const sip::Message* TransactionLayer::serverRequest(TransactionId serverId) const {
    auto it = d->servers.find(serverId);
    if (it == d->servers.end() || !it->second->hasRequest()) return nullptr;
    return &it->second->request();
}

// ---- outside transactions ---------------------------------------------------------

Result<transport::Endpoint> TransactionLayer::sendStateless(sip::Message request,
                                                            const transport::Endpoint& destination,
                                                            StatelessRequestOptions options) {
    if (!request.isRequest()) return fail(ErrorKind::Protocol, QStringLiteral("not a request"));
    if (!options.branch.isEmpty() && !options.branch.startsWith(sip::kMagicCookie))
        return fail(ErrorKind::Protocol,
                    QStringLiteral("a branch must start with the magic cookie"));
    if (options.pushVia || !request.has(sip::HeaderId::Via)) {
        const QByteArray branch =
            options.branch.isEmpty() ? newBranch(d->context.random) : options.branch;
        request.prependHeader(sip::HeaderId::Via,
                              viaValue(d->context.transport.localEndpoint(destination.protocol),
                                       destination.protocol, branch));
    }
    if (!request.has(sip::HeaderId::MaxForwards))
        request.addHeader(sip::HeaderId::MaxForwards, "70");
    return d->context.transport.sendRequest(request, destination);
}

std::size_t TransactionLayer::clientTransactionCount() const {
    return d->clients.size();
}
std::size_t TransactionLayer::serverTransactionCount() const {
    return d->servers.size();
}

// ---- transport events -------------------------------------------------------------

void TransactionLayer::onMessage(transport::IncomingMessage&& incoming) {
    EventScope scope(d->context);
    if (incoming.message.isResponse()) {
        if (auto valid = incoming.message.validate(); !valid) {
            // §18.1.2: a malformed response is dropped silently.
            qCDebug(lcTransaction) << "dropping invalid response:" << valid.error().reason;
            return;
        }
        d->onResponse(incoming);
    } else {
        d->onRequest(std::move(incoming));
    }
}

void TransactionLayer::onFlowFailed(const transport::Endpoint& remote, const Error& error) {
    EventScope scope(d->context);
    // Collect first: a TU callback may start or end transactions.
    std::vector<TransactionId> affected;
    for (const auto& [id, transaction] : d->clients) {
        if (!transaction->isTerminated() && transaction->destination() == remote)
            affected.push_back(id);
    }
    for (TransactionId id : affected) {
        auto it = d->clients.find(id);
        if (it != d->clients.end()) it->second->onFlowFailed(error);
    }
}

void TransactionLayer::Impl::reap() {
    // Erasing may not run a callback, so one pass empties both lists.
    std::vector<TransactionId> deadClients;
    std::vector<TransactionId> deadServers;
    deadClients.swap(context.terminatedClients);
    deadServers.swap(context.terminatedServers);
    std::vector<TransactionId> completed;
    completed.swap(context.completedServers);
    for (TransactionId id : completed) {
        if (auto it = servers.find(id); it != servers.end()) it->second->compact();
    }
    for (TransactionId id : deadClients) {
        auto it = clients.find(id);
        if (it == clients.end()) continue;
        if (clientByKey.value(it->second->key(), kNoTransaction) == id)
            clientByKey.remove(it->second->key());
        clients.erase(it);
    }
    for (TransactionId id : deadServers) {
        auto it = servers.find(id);
        if (it == servers.end()) continue;
        for (const QByteArray& key : it->second->keys()) {
            if (serverByKey.value(key, kNoTransaction) == id) serverByKey.remove(key);
        }
        servers.erase(it);
    }
}

}  // namespace sb::transaction
