#include "transport/sip_transport.h"

#include <QHash>
#include <QPointer>
#include <QTcpServer>
#include <QTcpSocket>
#include <QUdpSocket>

#include <memory>
#include <unordered_map>

#include "base/log.h"
#include "sip/parser.h"
#include "transport/connection_admission.h"
#include "transport/error_response.h"
#include "transport/send_queue.h"
#include "transport/stream_framer.h"
#include "transport/via_rules.h"

namespace sb::transport {

namespace {

constexpr qsizetype kReadChunk = 64 * 1024;
constexpr int kMaxRememberedUdpPeers = 4096;
// The largest UDP payload (65535 less the UDP header); a datagram is never cut short.
constexpr qsizetype kMaxDatagramBytes = 65535 - 8;
constexpr base::Duration kCloseGrace = std::chrono::seconds(5);
// How long a destination whose TCP side refused stays UDP-only, and how many are kept.
constexpr base::Duration kUdpOnlyFor = std::chrono::minutes(5);
constexpr qsizetype kMaxUdpOnlyDestinations = 4096;

bool isAnyAddress(const QHostAddress& address) {
    return address == QHostAddress(QHostAddress::Any) ||
           address == QHostAddress(QHostAddress::AnyIPv4) ||
           address == QHostAddress(QHostAddress::AnyIPv6);
}

// Whether a socket bound to `local` can reach `remote`.
bool familyFits(const QHostAddress& local, const QHostAddress& remote) {
    if (local == QHostAddress(QHostAddress::Any)) return true;  // dual stack
    return local.protocol() == remote.protocol();
}

// RFC 5626 §4.4.2 / §3.5.1: over UDP, keep-alives are CRLFs (or other whitespace some
// phones send) or STUN binding requests; none of them is SIP.
bool isUdpKeepAlive(QByteArrayView bytes) {
    if (bytes.size() >= 20 && static_cast<quint8>(bytes[4]) == 0x21 &&
        static_cast<quint8>(bytes[5]) == 0x12 && static_cast<quint8>(bytes[6]) == 0xa4 &&
        static_cast<quint8>(bytes[7]) == 0x42 && (static_cast<quint8>(bytes[0]) & 0xc0) == 0) {
        return true;  // RFC 5389 magic cookie
    }
    for (char c : bytes) {
        if (c != '\r' && c != '\n' && c != ' ' && c != '\t' && c != '\0') return false;
    }
    return true;
}

struct SendScope {
    explicit SendScope(int& depth) : m_depth(depth) { ++m_depth; }
    ~SendScope() { --m_depth; }
    SendScope(const SendScope&) = delete;
    SendScope& operator=(const SendScope&) = delete;
    int& m_depth;
};

template <class T>
struct DeleteLater {
    void operator()(T* object) const {
        if (object) object->deleteLater();
    }
};

}  // namespace

struct SipTransport::Impl {
    struct UdpListener {
        Endpoint local;
        std::unique_ptr<QUdpSocket, DeleteLater<QUdpSocket>> socket;
    };
    struct TcpListener {
        Endpoint local;
        std::unique_ptr<QTcpServer, DeleteLater<QTcpServer>> server;
    };
    struct Connection {
        ConnectionId id = 0;
        Endpoint remote;
        Endpoint local;
        bool outbound = false;
        bool established = false;
        QTcpSocket* socket = nullptr;  // owned; handed to retire() on close
        StreamFramer framer;
        std::unique_ptr<FlowLiveness> liveness;
        // Bytes waiting for the connection to be established, within the send bound.
        SendQueue pending;
        base::TimerId connectTimer = base::kNoTimer;

        Connection(StreamFramer::Role role, const sip::ParseLimits& limits,
                   qsizetype maxQueuedBytes)
            : framer(role, limits), pending(maxQueuedBytes) {}
    };

    Impl(SipTransport& owner, base::TimerQueue& timers, SipTransportConfig config)
        : q(owner),
          timers(timers),
          config(std::move(config)),
          admission(
              {this->config.maxInboundConnections, this->config.maxInboundConnectionsPerAddress}) {}
    ~Impl();

    // Receiving.
    void onUdpReadyRead(std::size_t listenerIndex);
    void onNewConnection(std::size_t listenerIndex);
    void onStreamReadyRead(ConnectionId id);
    void onConnected(ConnectionId id);
    void onSocketError(ConnectionId id);
    void onConnectFailed(ConnectionId id, const Error& error);
    void handleIncoming(QByteArray bytes, const Endpoint& source, const Endpoint& local,
                        ConnectionId connection);
    void refuse(std::optional<sip::Message> response, const Endpoint& source,
                ConnectionId connection, const Error& error);

    // Sending.
    Result<Endpoint> sendStream(sip::Message& request, const Endpoint& target,
                                std::optional<sip::Message> udpFallback, const Endpoint& udpTarget);
    Result<void> sendDatagram(UdpListener& udp, const QByteArray& bytes, const Endpoint& target);
    Result<void> writeToConnection(Connection& connection, QByteArray bytes,
                                   std::optional<sip::Message> udpFallback = std::nullopt,
                                   const Endpoint& udpTarget = {});
    // `isMessage` false for keep-alives, which are neither traced nor idle-resetting.
    void writeNow(Connection& connection, const QByteArray& bytes, bool isMessage = true);
    void sendPong(Connection& connection);
    Result<Connection*> openConnection(const Endpoint& remote);
    Result<void> sendToName(const ResponseRoute& route, bool portGiven, const Endpoint& source,
                            QByteArray bytes);
    Result<void> sendResolvedResponse(const Endpoint& target, const Endpoint& source,
                                      const QByteArray& bytes);
    ServerLocator* locator = nullptr;
    // Lets a locator callback that outlives the transport see that it is gone.
    std::shared_ptr<int> aliveToken = std::make_shared<int>(0);
    Connection* registerConnection(QTcpSocket* socket, const Endpoint& remote,
                                   const Endpoint& local, bool outbound);
    void startLiveness(Connection& connection);
    void closeConnection(ConnectionId id, std::optional<Error> failure, bool graceful);
    void retire(QTcpSocket* socket, bool graceful);

    // Choices.
    UdpListener* udpListenerFor(const QHostAddress& remote);
    UdpListener* udpListenerForResponse(const Endpoint& requestSource, const QHostAddress& remote);
    const TcpListener* tcpListenerFor(const QHostAddress& remote) const;
    QHostAddress concreteLocalAddress(const QHostAddress& bound, const QHostAddress& remote);
    Connection* connection(ConnectionId id);
    Connection* flowTo(const Endpoint& remote);
    void trace(base::SipTrace::Direction direction, Protocol protocol, const Endpoint& local,
               const Endpoint& remote, QByteArrayView bytes);

    SipTransport& q;
    base::TimerQueue& timers;
    SipTransportConfig config;
    TransportUser* user = nullptr;
    base::SipTrace* sipTrace = nullptr;
    TransportCounters counters;
    ConnectionAdmission admission;  // inbound connections only
    // Receiver of every socket connection we make; destroyed first, so no socket signal
    // reaches a half-destroyed transport.
    std::unique_ptr<QObject> context = std::make_unique<QObject>();
    int sendDepth = 0;  // > 0 while inside sendRequest/sendResponse
    // Every datagram is serialised into this one buffer and written from it at once: its
    // memory stays, instead of a block of 1 to 2 KB allocated and freed per message.
    QByteArray datagram;
    // Every datagram is received into this one buffer (the largest a UDP datagram can
    // be): its size need not be asked first (a peek per datagram, as receiveDatagram()
    // does) and no QNetworkDatagram is made.
    QByteArray receiveBuffer;
    std::vector<UdpListener> udpListeners;
    std::vector<TcpListener> tcpListeners;
    std::unordered_map<ConnectionId, std::unique_ptr<Connection>> connections;
    QHash<Endpoint, ConnectionId> flows;
    QHash<Endpoint, std::size_t> udpListenerOfPeer;  // where each UDP peer's last request came in
    // UDP destinations whose TCP side refused a request moved there for its size
    // (§18.1.1): until the time given, such requests go straight over UDP. Many phones
    // listen on UDP only; without this each large NOTIFY would first try to connect.
    QHash<Endpoint, base::TimePoint> udpOnlyUntil;
    bool isUdpOnly(const Endpoint& udpTarget);
    void rememberUdpOnly(const Endpoint& udpTarget);
    QHash<QHostAddress, QHostAddress> routedLocal;  // for any-address listeners
    std::vector<QPointer<QTcpSocket>> closing;
    ConnectionId nextConnectionId = 1;
};

SipTransport::Impl::~Impl() {
    context.reset();
    for (auto& [id, c] : connections) {
        timers.cancel(c->connectTimer);
        c->liveness.reset();
        retire(c->socket, false);
    }
    connections.clear();
    for (const QPointer<QTcpSocket>& socket : closing) {
        if (socket) {
            socket->abort();
            socket->deleteLater();
        }
    }
    for (auto& listener : udpListeners)
        listener.socket->close();
    for (auto& listener : tcpListeners)
        listener.server->close();
}

// ---------------------------------------------------------------------------------------
// Choices

SipTransport::Impl::Connection* SipTransport::Impl::connection(ConnectionId id) {
    const auto it = connections.find(id);
    return it == connections.end() ? nullptr : it->second.get();
}

SipTransport::Impl::Connection* SipTransport::Impl::flowTo(const Endpoint& remote) {
    const auto it = flows.constFind(remote);
    return it == flows.cend() ? nullptr : connection(*it);
}

SipTransport::Impl::UdpListener* SipTransport::Impl::udpListenerFor(const QHostAddress& remote) {
    // Same family first, then a dual-stack socket.
    for (auto& listener : udpListeners) {
        if (listener.local.address.protocol() == remote.protocol() &&
            !(listener.local.address == QHostAddress(QHostAddress::Any))) {
            return &listener;
        }
    }
    for (auto& listener : udpListeners) {
        if (familyFits(listener.local.address, remote)) return &listener;
    }
    return nullptr;
}

SipTransport::Impl::UdpListener* SipTransport::Impl::udpListenerForResponse(
    const Endpoint& requestSource, const QHostAddress& remote) {
    // The socket the request came in on, so the response comes from the address and
    // port the client sent to (what NATs and RFC 3581 clients expect).
    const auto it = udpListenerOfPeer.constFind(requestSource);
    if (it != udpListenerOfPeer.cend() && *it < udpListeners.size() &&
        familyFits(udpListeners[*it].local.address, remote)) {
        return &udpListeners[*it];
    }
    return udpListenerFor(remote);
}

const SipTransport::Impl::TcpListener* SipTransport::Impl::tcpListenerFor(
    const QHostAddress& remote) const {
    for (const auto& listener : tcpListeners) {
        if (listener.local.address.protocol() == remote.protocol() &&
            !(listener.local.address == QHostAddress(QHostAddress::Any))) {
            return &listener;
        }
    }
    for (const auto& listener : tcpListeners) {
        if (familyFits(listener.local.address, remote)) return &listener;
    }
    return nullptr;
}

QHostAddress SipTransport::Impl::concreteLocalAddress(const QHostAddress& bound,
                                                      const QHostAddress& remote) {
    if (!isAnyAddress(bound)) return bound;
    // The address the routing table picks towards `remote`: a connected UDP socket
    // knows it without sending anything.
    const auto it = routedLocal.constFind(remote);
    if (it != routedLocal.cend()) return *it;
    QUdpSocket probe;
    probe.connectToHost(remote, 9);
    QHostAddress local = normalizedAddress(probe.localAddress());
    if (local.isNull())
        local = remote.protocol() == QAbstractSocket::IPv6Protocol
                    ? QHostAddress(QHostAddress::LocalHostIPv6)
                    : QHostAddress(QHostAddress::LocalHost);
    if (routedLocal.size() > kMaxRememberedUdpPeers) routedLocal.clear();
    routedLocal.insert(remote, local);
    return local;
}

void SipTransport::Impl::trace(base::SipTrace::Direction direction, Protocol protocol,
                               const Endpoint& local, const Endpoint& remote,
                               QByteArrayView bytes) {
    if (sipTrace)
        sipTrace->record(direction, protocolName(protocol), local.toString(), remote.toString(),
                         bytes);
}

// ---------------------------------------------------------------------------------------
// Receiving

void SipTransport::Impl::onUdpReadyRead(std::size_t listenerIndex) {
    while (listenerIndex < udpListeners.size() &&
           udpListeners[listenerIndex].socket->hasPendingDatagrams()) {
        UdpListener& listener = udpListeners[listenerIndex];
        if (receiveBuffer.size() != kMaxDatagramBytes) receiveBuffer.resize(kMaxDatagramBytes);
        QHostAddress senderAddress;
        quint16 senderPort = 0;
        const qint64 received = listener.socket->readDatagram(
            receiveBuffer.data(), receiveBuffer.size(), &senderAddress, &senderPort);
        if (received < 0) break;
        const Endpoint source{Protocol::Udp, normalizedAddress(senderAddress), senderPort};
        if (udpListenerOfPeer.size() > kMaxRememberedUdpPeers) udpListenerOfPeer.clear();
        udpListenerOfPeer.insert(source, listenerIndex);
        const Endpoint local = listener.local;
        const QByteArray bytes(receiveBuffer.constData(), received);
        if (isUdpKeepAlive(bytes)) {
            ++counters.keepAlivesIgnored;
            continue;
        }
        handleIncoming(bytes, source, local, 0);
    }
}

void SipTransport::Impl::onNewConnection(std::size_t listenerIndex) {
    if (listenerIndex >= tcpListeners.size()) return;
    QTcpServer* server = tcpListeners[listenerIndex].server.get();
    while (QTcpSocket* socket = server->nextPendingConnection()) {
        socket->setParent(nullptr);
        const Endpoint remote{Protocol::Tcp, normalizedAddress(socket->peerAddress()),
                              socket->peerPort()};
        Result<void> admitted;
        if (connections.size() >= config.maxConnections) {
            admitted = fail(ErrorKind::Limit,
                            QStringLiteral("%1 connections open (limit)").arg(connections.size()));
        } else {
            admitted = admission.admit(remote.address);
        }
        if (!admitted) {
            qCDebug(lcTransport) << "refusing a connection from" << remote.toString() << ":"
                                 << admitted.error().reason;
            ++counters.connectionsRefused;
            retire(socket, false);
            continue;
        }
        const Endpoint local{Protocol::Tcp, normalizedAddress(socket->localAddress()),
                             socket->localPort()};
        Connection* c = registerConnection(socket, remote, local, false);
        c->established = true;
        ++counters.connectionsAccepted;
        startLiveness(*c);
        qCDebug(lcTransport) << "accepted" << remote.toString() << "on" << local.toString();
        // Bytes may already be waiting.
        if (socket->bytesAvailable() > 0) onStreamReadyRead(c->id);
    }
}

void SipTransport::Impl::onStreamReadyRead(ConnectionId id) {
    Connection* c = connection(id);
    while (c && c->socket->bytesAvailable() > 0) {
        const QByteArray chunk = c->socket->read(kReadChunk);
        if (chunk.isEmpty()) break;
        if (c->liveness) c->liveness->onReceived();
        StreamFramer::Output out = c->framer.feed(chunk);
        if (c->liveness) {
            // Each message has its own deadline from its first byte to its last.
            if (!out.messages.empty()) c->liveness->onMessageComplete();
            if (c->framer.buffered() > 0) c->liveness->onPartialMessage();
        }
        for (int i = 0; i < out.pings; ++i)
            sendPong(*c);
        const Endpoint remote = c->remote;
        const Endpoint local = c->local;
        for (QByteArray& message : out.messages) {
            handleIncoming(std::move(message), remote, local, id);
            c = connection(id);  // the user may have closed it
            if (!c) return;
        }
        if (out.error) {
            // §18.3: the stream cannot be framed any more; answer if possible, then close.
            ++counters.parseErrors;
            trace(base::SipTrace::Direction::Received, remote.protocol, local, remote,
                  out.rejected);
            qCDebug(lcTransport) << "closing" << remote.toString() << ":" << out.error->reason;
            const Error error = *out.error;
            refuse(refusalFor(out.rejected, error, config.limits), remote, id, error);
            closeConnection(id, std::nullopt, true);
            return;
        }
    }
}

void SipTransport::Impl::handleIncoming(QByteArray bytes, const Endpoint& source,
                                        const Endpoint& local, ConnectionId connectionId) {
    trace(base::SipTrace::Direction::Received, source.protocol, local, source, bytes);
    auto parsed = sip::Parser::parse(bytes, config.limits);
    if (!parsed) {
        ++counters.parseErrors;
        qCDebug(lcTransport) << "unparsable message from" << source.toString() << ":"
                             << parsed.error().reason;
        refuse(refusalFor(bytes, parsed.error(), config.limits), source, connectionId,
               parsed.error());
        return;
    }
    sip::Message& message = *parsed;
    if (auto valid = message.validate(); !valid) {
        ++counters.parseErrors;
        qCDebug(lcTransport) << "invalid message from" << source.toString() << ":"
                             << valid.error().reason;
        refuse(message.isRequest() ? refusalFor(message, valid.error()) : std::nullopt, source,
               connectionId, valid.error());
        return;
    }
    if (message.isRequest()) {
        if (auto stamped = stampReceived(message, source); !stamped) {
            ++counters.parseErrors;
            refuse(refusalFor(message, stamped.error()), source, connectionId, stamped.error());
            return;
        }
    }
    if (!user) {
        ++counters.dropped;
        return;
    }
    ++counters.messagesReceived;
    user->onMessage(IncomingMessage{std::move(message), source, local, connectionId});
}

void SipTransport::Impl::refuse(std::optional<sip::Message> response, const Endpoint& source,
                                ConnectionId connectionId, const Error& error) {
    if (!response) {
        ++counters.dropped;
        return;
    }
    (void)stampReceived(*response, source);  // so that §18.2.2 routing sees received/rport
    if (auto sent = q.sendResponse(*response, source, connectionId); !sent) {
        ++counters.dropped;
        qCDebug(lcTransport) << "cannot answer a bad request from" << source.toString() << ":"
                             << sent.error().reason;
        return;
    }
    ++counters.refusalsSent;
    qCDebug(lcTransport) << "answered" << response->statusCode() << "to" << source.toString() << ":"
                         << error.reason;
}

void SipTransport::Impl::onConnected(ConnectionId id) {
    Connection* c = connection(id);
    if (!c || c->established) return;
    timers.cancel(c->connectTimer);
    c->connectTimer = base::kNoTimer;
    const Endpoint local{Protocol::Tcp, normalizedAddress(c->socket->localAddress()),
                         c->socket->localPort()};
    if (local == c->remote) {
        // TCP simultaneous open with itself: connecting to a local port nobody listens
        // on can pick that very port as the source and "succeed". Nobody is there; what
        // we sent would come back to us as if from a peer.
        onConnectFailed(id, makeError(ErrorKind::Transport,
                                      QStringLiteral("%1: connected to itself (nobody listens)")
                                          .arg(c->remote.toString())));
        return;
    }
    c->established = true;
    c->local = local;
    startLiveness(*c);
    qCDebug(lcTransport) << "connected" << c->local.toString() << "→" << c->remote.toString();
    for (const SendQueue::Entry& send : c->pending.takeAll())
        writeNow(*c, send.bytes);
}

void SipTransport::Impl::onSocketError(ConnectionId id) {
    Connection* c = connection(id);
    if (!c) return;
    if (sendDepth > 0) {
        // Qt may report a refused connect from inside connectToHost(): the user hears
        // of it from the event loop, not from inside its own send call.
        QMetaObject::invokeMethod(
            context.get(), [this, id] { onSocketError(id); }, Qt::QueuedConnection);
        return;
    }
    const QAbstractSocket::SocketError code = c->socket->error();
    const Error error =
        makeError(ErrorKind::Transport,
                  QStringLiteral("%1: %2").arg(c->remote.toString(), c->socket->errorString()));
    if (!c->established) {
        onConnectFailed(id, error);
        return;
    }
    // A peer closing its side is normal (its idle timeout); anything else is a failure.
    const bool failure = code != QAbstractSocket::RemoteHostClosedError;
    closeConnection(id, failure ? std::optional<Error>(error) : std::nullopt, false);
}

void SipTransport::Impl::onConnectFailed(ConnectionId id, const Error& error) {
    Connection* c = connection(id);
    if (!c) return;
    const Endpoint remote = c->remote;
    std::vector<SendQueue::Entry> pending = c->pending.takeAll();
    qCDebug(lcTransport) << "cannot connect to" << remote.toString() << ":" << error.reason;

    // §18.1.1: a request that went to TCP only for its size is retried over UDP.
    bool othersFailed = pending.empty() && c->outbound;
    for (SendQueue::Entry& send : pending) {
        if (!send.udpFallback) {
            othersFailed = true;
            continue;
        }
        rememberUdpOnly(send.udpDestination);
        UdpListener* udp = udpListenerFor(send.udpDestination.address);
        if (!udp || !sendDatagram(*udp, send.udpFallback->serialize(), send.udpDestination))
            othersFailed = true;
    }
    closeConnection(id, othersFailed ? std::optional<Error>(error) : std::nullopt, false);
}

bool SipTransport::Impl::isUdpOnly(const Endpoint& udpTarget) {
    auto found = udpOnlyUntil.find(udpTarget);
    if (found == udpOnlyUntil.end()) return false;
    if (*found > timers.now()) return true;
    udpOnlyUntil.erase(found);
    return false;
}

void SipTransport::Impl::rememberUdpOnly(const Endpoint& udpTarget) {
    const base::TimePoint now = timers.now();
    if (udpOnlyUntil.size() >= kMaxUdpOnlyDestinations) {
        udpOnlyUntil.removeIf([now](const auto& entry) { return entry.value() <= now; });
        if (udpOnlyUntil.size() >= kMaxUdpOnlyDestinations) return;  // bounded; TCP is tried again
    }
    udpOnlyUntil.insert(udpTarget, now + kUdpOnlyFor);
}

// ---------------------------------------------------------------------------------------
// Connections

SipTransport::Impl::Connection* SipTransport::Impl::registerConnection(QTcpSocket* socket,
                                                                       const Endpoint& remote,
                                                                       const Endpoint& local,
                                                                       bool outbound) {
    auto owned = std::make_unique<Connection>(
        outbound ? StreamFramer::Role::Client : StreamFramer::Role::Server, config.limits,
        config.maxQueuedBytes);
    Connection* c = owned.get();
    c->id = nextConnectionId++;
    c->remote = remote;
    c->local = local;
    c->outbound = outbound;
    c->socket = socket;
    // Qt stops reading from the kernel when this much is buffered: the framer's bound
    // then holds for the whole path.
    socket->setReadBufferSize(kReadChunk);
    const ConnectionId id = c->id;
    QObject::connect(socket, &QTcpSocket::readyRead, context.get(),
                     [this, id] { onStreamReadyRead(id); });
    QObject::connect(socket, &QTcpSocket::connected, context.get(),
                     [this, id] { onConnected(id); });
    QObject::connect(socket, &QTcpSocket::errorOccurred, context.get(),
                     [this, id] { onSocketError(id); });
    QObject::connect(socket, &QTcpSocket::disconnected, context.get(),
                     [this, id] { closeConnection(id, std::nullopt, false); });
    connections.emplace(id, std::move(owned));
    flows.insert(remote, id);
    return c;
}

void SipTransport::Impl::startLiveness(Connection& c) {
    const ConnectionId id = c.id;
    FlowLiveness::Handler handler;
    handler.sendPing = [this, id] {
        if (Connection* c = connection(id)) {
            writeNow(*c, QByteArrayLiteral("\r\n\r\n"), false);
            ++counters.keepAlivesSent;
        }
    };
    handler.expired = [this, id](const Error& error) {
        qCDebug(lcTransport) << "closing connection" << id << ":" << error.reason;
        // A message left incomplete is a peer holding the flow (slow loris): no grace.
        const bool stalled = error.kind == ErrorKind::Limit;
        if (stalled) ++counters.incompleteMessageTimeouts;
        // Idle is a normal end; a missing pong means the flow failed (RFC 5626 §4.4.1).
        closeConnection(
            id, error.kind == ErrorKind::Timeout ? std::nullopt : std::optional<Error>(error),
            !stalled);
    };
    c.liveness = std::make_unique<FlowLiveness>(
        timers, config.flows,
        c.outbound ? FlowLiveness::Role::Outbound : FlowLiveness::Role::Inbound,
        std::move(handler));
}

Result<SipTransport::Impl::Connection*> SipTransport::Impl::openConnection(const Endpoint& remote) {
    if (connections.size() >= config.maxConnections) {
        return fail(ErrorKind::Transport,
                    QStringLiteral("cannot connect to %1: connection limit reached")
                        .arg(remote.toString()));
    }
    auto* socket = new QTcpSocket;
    // Bind first, so that the Via can name the local address and port before the
    // connection is up: the TCP listener's address when there is one of the family.
    QHostAddress bindAddress = remote.address.protocol() == QAbstractSocket::IPv6Protocol
                                   ? QHostAddress(QHostAddress::AnyIPv6)
                                   : QHostAddress(QHostAddress::AnyIPv4);
    if (const TcpListener* listener = tcpListenerFor(remote.address);
        listener && !isAnyAddress(listener->local.address)) {
        bindAddress = listener->local.address;
    } else if (const UdpListener* udp = udpListenerFor(remote.address);
               udp && !isAnyAddress(udp->local.address)) {
        bindAddress = udp->local.address;
    }
    if (!socket->bind(bindAddress, 0)) {
        const QString reason = socket->errorString();
        delete socket;
        return fail(
            ErrorKind::Transport,
            QStringLiteral("cannot bind a socket for %1: %2").arg(remote.toString(), reason));
    }
    const Endpoint local{
        Protocol::Tcp,
        concreteLocalAddress(normalizedAddress(socket->localAddress()), remote.address),
        socket->localPort()};
    Connection* c = registerConnection(socket, remote, local, true);
    ++counters.connectionsOpened;
    const ConnectionId id = c->id;
    c->connectTimer = timers.start(config.connectTimeout, [this, id] {
        if (Connection* c = connection(id)) {
            c->connectTimer = base::kNoTimer;
            onConnectFailed(
                id,
                makeError(ErrorKind::Timeout,
                          QStringLiteral("connecting to %1 timed out").arg(c->remote.toString())));
        }
    });
    qCDebug(lcTransport) << "connecting" << local.toString() << "→" << remote.toString();
    socket->connectToHost(remote.address, remote.port);
    return c;
}

void SipTransport::Impl::closeConnection(ConnectionId id, std::optional<Error> failure,
                                         bool graceful) {
    const auto it = connections.find(id);
    if (it == connections.end()) return;
    std::unique_ptr<Connection> c = std::move(it->second);
    connections.erase(it);
    if (const auto flow = flows.constFind(c->remote); flow != flows.cend() && *flow == id)
        flows.erase(flow);
    if (!c->outbound) admission.release(c->remote.address);
    timers.cancel(c->connectTimer);
    c->liveness.reset();
    retire(c->socket, graceful && c->established);
    c->socket = nullptr;
    ++counters.connectionsClosed;
    qCDebug(lcTransport) << "closed" << c->remote.toString()
                         << (failure ? failure->reason : QString());
    // Last, with the books already in order: the user may send again from here.
    if (failure && user) user->onFlowFailed(c->remote, *failure);
}

void SipTransport::Impl::retire(QTcpSocket* socket, bool graceful) {
    if (!socket) return;
    QObject::disconnect(socket, nullptr, context.get(), nullptr);
    if (!graceful || socket->state() != QAbstractSocket::ConnectedState) {
        socket->abort();
        socket->deleteLater();
        return;
    }
    // Let what was written (a 400 before closing) leave first, within a grace period.
    QObject::connect(socket, &QAbstractSocket::disconnected, socket, &QObject::deleteLater);
    socket->disconnectFromHost();
    if (socket->state() == QAbstractSocket::UnconnectedState) {
        socket->deleteLater();
        return;
    }
    QPointer<QTcpSocket> guard(socket);
    std::erase_if(closing, [](const QPointer<QTcpSocket>& p) { return p.isNull(); });
    closing.push_back(guard);
    timers.start(kCloseGrace, [guard] {
        if (guard) {
            guard->abort();
            guard->deleteLater();
        }
    });
}

// ---------------------------------------------------------------------------------------
// Sending

void SipTransport::Impl::writeNow(Connection& c, const QByteArray& bytes, bool isMessage) {
    c.socket->write(bytes);
    if (!isMessage) return;
    if (c.liveness) c.liveness->onSent();
    trace(base::SipTrace::Direction::Sent, c.remote.protocol, c.local, c.remote, bytes);
}

void SipTransport::Impl::sendPong(Connection& c) {
    // RFC 5626 §4.4.1. A peer that pings without reading its pongs gets no more of them
    // once its send queue is full.
    static const QByteArray pong = QByteArrayLiteral("\r\n");
    if (!c.pending.checkRoom(pong.size(), c.socket->bytesToWrite())) {
        ++counters.sendsRefused;
        return;
    }
    writeNow(c, pong, false);
    ++counters.keepAlivesAnswered;
}

Result<void> SipTransport::Impl::writeToConnection(Connection& c, QByteArray bytes,
                                                   std::optional<sip::Message> udpFallback,
                                                   const Endpoint& udpTarget) {
    if (!c.established) {
        if (auto queued = c.pending.push(
                SendQueue::Entry{std::move(bytes), std::move(udpFallback), udpTarget});
            !queued) {
            ++counters.sendsRefused;
            return fail(ErrorKind::Limit, QStringLiteral("cannot send to %1: %2")
                                              .arg(c.remote.toString(), queued.error().reason));
        }
        ++counters.messagesSent;
        return {};
    }
    if (!c.socket->isWritable()) {
        return fail(ErrorKind::Transport,
                    QStringLiteral("connection to %1 is closed").arg(c.remote.toString()));
    }
    // A peer that does not read must not make the socket's buffer grow without bound.
    if (auto room = c.pending.checkRoom(bytes.size(), c.socket->bytesToWrite()); !room) {
        ++counters.sendsRefused;
        return fail(
            ErrorKind::Limit,
            QStringLiteral("cannot send to %1: %2").arg(c.remote.toString(), room.error().reason));
    }
    writeNow(c, bytes);
    ++counters.messagesSent;
    return {};
}

Result<void> SipTransport::Impl::sendDatagram(UdpListener& udp, const QByteArray& bytes,
                                              const Endpoint& target) {
    const qint64 written = udp.socket->writeDatagram(bytes, target.address, target.port);
    if (written != bytes.size()) {
        return fail(ErrorKind::Transport, QStringLiteral("cannot send to %1: %2")
                                              .arg(target.toString(), udp.socket->errorString()));
    }
    Endpoint local = udp.local;
    local.address = concreteLocalAddress(local.address, target.address);
    trace(base::SipTrace::Direction::Sent, Protocol::Udp, local, target, bytes);
    ++counters.messagesSent;
    return {};
}

Result<Endpoint> SipTransport::Impl::sendStream(sip::Message& request, const Endpoint& target,
                                                std::optional<sip::Message> udpFallback,
                                                const Endpoint& udpTarget) {
    Connection* c = flowTo(target);
    if (!c) {
        auto opened = openConnection(target);
        if (!opened) return fail(opened.error());
        c = *opened;
    }
    // The sent-by is where the response comes back if this connection is gone: the TCP
    // listener when there is one, else this connection's own address.
    Endpoint sentBy = c->local;
    if (const TcpListener* listener = tcpListenerFor(target.address)) {
        sentBy =
            Endpoint{Protocol::Tcp, concreteLocalAddress(listener->local.address, target.address),
                     listener->local.port};
    }
    if (auto filled = setSentBy(request, Protocol::Tcp, hostText(sentBy.address), sentBy.port);
        !filled) {
        return fail(filled.error());
    }
    if (auto written =
            writeToConnection(*c, request.serialize(), std::move(udpFallback), udpTarget);
        !written) {
        return fail(written.error());
    }
    return target;
}

// ---------------------------------------------------------------------------------------
// SipTransport

SipTransport::SipTransport(base::TimerQueue& timers, SipTransportConfig config)
    : d(std::make_unique<Impl>(*this, timers, std::move(config))) {}

SipTransport::~SipTransport() = default;

Result<Endpoint> SipTransport::listen(QStringView spec) {
    auto endpoint = parseEndpoint(spec);
    if (!endpoint) return fail(endpoint.error());
    return listen(*endpoint);
}

Result<Endpoint> SipTransport::listen(const Endpoint& requested) {
    Endpoint local = requested;
    local.address = normalizedAddress(requested.address);
    switch (requested.protocol) {
        case Protocol::Udp: {
            auto socket = std::unique_ptr<QUdpSocket, DeleteLater<QUdpSocket>>(new QUdpSocket);
            if (!socket->bind(local.address, local.port)) {
                return fail(ErrorKind::Transport,
                            QStringLiteral("cannot listen on %1: %2")
                                .arg(requested.toString(), socket->errorString()));
            }
            local.port = socket->localPort();
            if (d->config.udpReceiveBufferBytes > 0) {
                // Before any datagram is read: bursts of NOTIFYs must not overflow it.
                socket->setSocketOption(QAbstractSocket::ReceiveBufferSizeSocketOption,
                                        d->config.udpReceiveBufferBytes);
                qCDebug(lcTransport)
                    << "UDP receive buffer on" << local.toString() << ":"
                    << socket->socketOption(QAbstractSocket::ReceiveBufferSizeSocketOption).toInt()
                    << "bytes granted for" << d->config.udpReceiveBufferBytes << "asked";
            }
            const std::size_t index = d->udpListeners.size();
            QObject::connect(socket.get(), &QUdpSocket::readyRead, d->context.get(),
                             [this, index] { d->onUdpReadyRead(index); });
            QObject::connect(socket.get(), &QUdpSocket::errorOccurred, d->context.get(),
                             [this, index] {
                                 // Unconnected UDP: ICMP errors cannot be tied to a send; only log
                                 // them.
                                 if (index < d->udpListeners.size()) {
                                     qCDebug(lcTransport)
                                         << "UDP socket" << d->udpListeners[index].local.toString()
                                         << ":" << d->udpListeners[index].socket->errorString();
                                 }
                             });
            d->udpListeners.push_back({local, std::move(socket)});
            break;
        }
        case Protocol::Tcp: {
            auto server = std::unique_ptr<QTcpServer, DeleteLater<QTcpServer>>(new QTcpServer);
            if (!server->listen(local.address, local.port)) {
                return fail(ErrorKind::Transport,
                            QStringLiteral("cannot listen on %1: %2")
                                .arg(requested.toString(), server->errorString()));
            }
            local.port = server->serverPort();
            const std::size_t index = d->tcpListeners.size();
            QObject::connect(server.get(), &QTcpServer::newConnection, d->context.get(),
                             [this, index] { d->onNewConnection(index); });
            d->tcpListeners.push_back({local, std::move(server)});
            break;
        }
        case Protocol::Tls:
            return fail(ErrorKind::Config, QStringLiteral("TLS transport is not available"));
    }
    qCDebug(lcTransport) << "listening on" << local.toString();
    return local;
}

std::vector<Endpoint> SipTransport::listeningEndpoints() const {
    std::vector<Endpoint> endpoints;
    for (const auto& listener : d->udpListeners)
        endpoints.push_back(listener.local);
    for (const auto& listener : d->tcpListeners)
        endpoints.push_back(listener.local);
    return endpoints;
}

void SipTransport::setTrace(base::SipTrace* trace) {
    d->sipTrace = trace;
}

void SipTransport::setServerLocator(ServerLocator* locator) {
    d->locator = locator;
}

Result<void> SipTransport::Impl::sendToName(const ResponseRoute& route, bool portGiven,
                                            const Endpoint& source, QByteArray bytes) {
    if (!locator) {
        return fail(ErrorKind::Transport,
                    QStringLiteral("cannot answer to host name %1: no server locator")
                        .arg(QString::fromLatin1(route.host)));
    }
    // RFC 3263 §5: a port in sent-by means A/AAAA only; without one, SRV for the Via's
    // transport first. The response is on its way once the name is located.
    LocateQuery query;
    query.host = route.host;
    if (portGiven) query.port = route.port;
    query.transport = route.protocol;
    const std::weak_ptr<int> alive = aliveToken;
    locator->locate(query, [this, alive, protocol = route.protocol, source,
                            bytes = std::move(bytes),
                            host = route.host](Result<ServerTargets> targets) {
        if (alive.expired()) return;
        if (!targets || targets->all().empty()) {
            ++counters.dropped;
            qCWarning(lcTransport)
                << "response to" << host
                << "dropped:" << (targets ? QStringLiteral("no address") : targets.error().reason);
            return;
        }
        // §5: each target in turn until one takes the response.
        for (const ServerTarget& target : targets->all()) {
            if (target.endpoint.protocol != protocol) continue;
            if (sendResolvedResponse(target.endpoint, source, bytes)) return;
        }
        ++counters.dropped;
        qCWarning(lcTransport) << "response to" << host << "dropped: no target took it";
    });
    return {};
}

Result<void> SipTransport::Impl::sendResolvedResponse(const Endpoint& target,
                                                      const Endpoint& source,
                                                      const QByteArray& bytes) {
    if (isReliable(target.protocol)) {
        Connection* c = flowTo(target);
        if (!c) {
            auto opened = openConnection(target);
            if (!opened) return fail(opened.error());
            c = *opened;
        }
        return writeToConnection(*c, bytes);
    }
    UdpListener* udp = udpListenerForResponse(source, target.address);
    if (!udp)
        return fail(ErrorKind::Transport,
                    QStringLiteral("no UDP socket can reach %1").arg(target.toString()));
    return sendDatagram(*udp, bytes, target);
}

const TransportCounters& SipTransport::counters() const {
    return d->counters;
}

std::size_t SipTransport::connectionCount() const {
    return d->connections.size();
}

std::optional<ConnectionId> SipTransport::connectionTo(const Endpoint& remote) const {
    Endpoint key = remote;
    key.address = normalizedAddress(remote.address);
    const auto it = d->flows.constFind(key);
    if (it == d->flows.cend()) return std::nullopt;
    return *it;
}

bool SipTransport::isConnectionOpen(ConnectionId id) const {
    const auto it = d->connections.find(id);
    return it != d->connections.end() && it->second->established;
}

void SipTransport::closeConnection(ConnectionId id) {
    d->closeConnection(id, std::nullopt, true);
}

Result<void> SipTransport::sendKeepAlive(const Endpoint& remote) {
    Endpoint key = remote;
    key.address = normalizedAddress(remote.address);
    Impl::Connection* c = d->flowTo(key);
    if (!c || !c->established) {
        return fail(ErrorKind::Transport,
                    QStringLiteral("no open connection to %1").arg(remote.toString()));
    }
    d->writeNow(*c, QByteArrayLiteral("\r\n\r\n"), false);
    ++d->counters.keepAlivesSent;
    return {};
}

void SipTransport::setUser(TransportUser* user) {
    d->user = user;
}

std::optional<Endpoint> SipTransport::localEndpoint(Protocol protocol) const {
    if (protocol == Protocol::Udp && !d->udpListeners.empty()) return d->udpListeners.front().local;
    if (protocol == Protocol::Tcp && !d->tcpListeners.empty()) return d->tcpListeners.front().local;
    return std::nullopt;
}

Result<Endpoint> SipTransport::sendRequest(sip::Message& request, const Endpoint& destination) {
    const SendScope scope(d->sendDepth);
    if (!request.isRequest())
        return fail(ErrorKind::Protocol, QStringLiteral("sendRequest needs a request"));
    if (destination.address.isNull() || destination.port == 0) {
        return fail(ErrorKind::Transport, QStringLiteral("no destination address"));
    }
    Endpoint target{destination.protocol, normalizedAddress(destination.address), destination.port};
    switch (target.protocol) {
        case Protocol::Tls:
            return fail(ErrorKind::Transport, QStringLiteral("TLS transport is not available"));
        case Protocol::Tcp:
            return d->sendStream(request, target, std::nullopt, {});
        case Protocol::Udp:
            break;
    }

    Impl::UdpListener* udp = d->udpListenerFor(target.address);
    if (!udp) {
        return fail(ErrorKind::Transport,
                    QStringLiteral("no UDP socket can reach %1").arg(target.toString()));
    }
    const QHostAddress local = d->concreteLocalAddress(udp->local.address, target.address);
    if (auto filled = setSentBy(request, Protocol::Udp, hostText(local), udp->local.port);
        !filled) {
        return fail(filled.error());
    }
    QByteArray& bytes = d->datagram;
    request.serializeInto(bytes);
    if (bytes.size() > d->config.mtuAllowance && !pinsUdp(request) && !d->isUdpOnly(target)) {
        // §18.1.1: larger than the MTU allowance → a congestion-controlled transport.
        qCDebug(lcTransport) << "request of" << bytes.size() << "bytes to" << target.toString()
                             << "moves to TCP";
        sip::Message udpForm = request;
        return d->sendStream(request, Endpoint{Protocol::Tcp, target.address, target.port},
                             std::move(udpForm), target);
    }
    if (auto sent = d->sendDatagram(*udp, bytes, target); !sent) return fail(sent.error());
    return target;
}

Result<void> SipTransport::sendResponse(const sip::Message& response, const Endpoint& requestSource,
                                        ConnectionId connectionId) {
    const SendScope scope(d->sendDepth);
    if (!response.isResponse())
        return fail(ErrorKind::Protocol, QStringLiteral("sendResponse needs a response"));
    const Endpoint source{requestSource.protocol, normalizedAddress(requestSource.address),
                          requestSource.port};

    // §18.2.2: a reliable transport answers on the request's connection while it is open
    // (also when a confused client wrote another transport in its Via).
    if (connectionId != 0) {
        if (Impl::Connection* c = d->connection(connectionId))
            return d->writeToConnection(*c, response.serialize());
    }

    ResponseRoute route;
    bool viaHasPort = false;
    if (auto via = response.topVia()) {
        viaHasPort = via->port.has_value() || via->rport().has_value();
        auto routed = routeResponse(*via);
        if (!routed) return fail(routed.error());
        route = *routed;
    } else {
        // No usable Via: back to where the request came from.
        route.protocol = source.protocol;
        route.reuseConnection = isReliable(source.protocol);
        route.host = source.address.toString().toLatin1();
        route.port = source.port;
    }
    if (route.protocol == Protocol::Tls) {
        return fail(ErrorKind::Transport, QStringLiteral("TLS transport is not available"));
    }
    const auto address = route.address();
    if (isReliable(route.protocol)) {
        if (isReliable(source.protocol)) {
            if (Impl::Connection* c =
                    d->flowTo(Endpoint{Protocol::Tcp, source.address, source.port})) {
                return d->writeToConnection(*c, response.serialize());
            }
        }
        if (!address) return d->sendToName(route, viaHasPort, source, response.serialize());
        const Endpoint target{Protocol::Tcp, *address, route.port};
        Impl::Connection* c = d->flowTo(target);
        if (!c) {
            auto opened = d->openConnection(target);
            if (!opened) return fail(opened.error());
            c = *opened;
        }
        return d->writeToConnection(*c, response.serialize());
    }
    if (!address) return d->sendToName(route, viaHasPort, source, response.serialize());
    const Endpoint target{Protocol::Udp, *address, route.port};
    Impl::UdpListener* udp = d->udpListenerForResponse(source, target.address);
    if (!udp)
        return fail(ErrorKind::Transport,
                    QStringLiteral("no UDP socket can reach %1").arg(target.toString()));
    response.serializeInto(d->datagram);
    return d->sendDatagram(*udp, d->datagram, target);
}

}  // namespace sb::transport
