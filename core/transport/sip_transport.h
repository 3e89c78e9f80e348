#pragma once

#include <QStringView>

#include <memory>
#include <optional>
#include <vector>

#include "base/sip_trace.h"
#include "base/timer_queue.h"
#include "sip/parser.h"
#include "transport/flow_liveness.h"
#include "transport/server_locator.h"
#include "transport/transport.h"

namespace sb::transport {

struct SipTransportConfig {
    sip::ParseLimits limits;
    // RFC 3261 §18.1.1: a UDP request larger than this moves to TCP (path MTU unknown).
    qsizetype mtuAllowance = 1300;
    FlowTimersConfig flows;
    base::Duration connectTimeout = std::chrono::seconds(10);
    // Connections of both directions together; further inbound ones are refused.
    std::size_t maxConnections = 1024;
    // Inbound connections in all, and from one IP address (one /64 for IPv6): further
    // ones are closed as soon as they are accepted.
    std::size_t maxInboundConnections = 1024;
    std::size_t maxInboundConnectionsPerAddress = 64;
    // Per connection: bytes accepted for sending but not yet written to the kernel
    // (queued while it connects, or buffered while the peer does not read). A send that
    // would pass it fails with ErrorKind::Limit and queues nothing.
    qsizetype maxQueuedBytes = 1024 * 1024;
    // SO_RCVBUF asked for on every UDP socket it listens on; 0 keeps the system default.
    // The default (net.core.rmem_default, ~208 KB) holds about 90 NOTIFYs of 1.1 KB, so
    // a burst from a presence server (a board of 2,000 extensions) is dropped by the
    // kernel before it is read. Linux caps it at net.core.rmem_max; the size granted
    // is logged (lcTransport, debug).
    int udpReceiveBufferBytes = 4 * 1024 * 1024;
};

// What happened on the wire, for diagnostics and tests.
struct TransportCounters {
    quint64 messagesReceived = 0;  // handed to the TransportUser
    quint64 messagesSent = 0;
    quint64 parseErrors = 0;   // received messages that did not parse, frame or validate
    quint64 dropped = 0;       // received and discarded without an answer
    quint64 refusalsSent = 0;  // 400/513 answers the transport gave itself
    quint64 keepAlivesAnswered = 0;
    quint64 keepAlivesSent = 0;
    quint64 keepAlivesIgnored = 0;  // CRLF/STUN datagrams over UDP
    quint64 connectionsOpened = 0;  // outbound
    quint64 connectionsAccepted = 0;
    quint64 connectionsClosed = 0;
    quint64 connectionsRefused = 0;         // inbound ones over a connection limit
    quint64 incompleteMessageTimeouts = 0;  // closed: a message not complete in time
    quint64 sendsRefused = 0;               // messages and pongs over maxQueuedBytes
};

// The SIP transports on Qt Network (RFC 3261 §18): UDP and TCP over IPv4 and IPv6,
// listening and connecting.
//
// Receiving: datagrams are parsed whole; streams are framed by Content-Length with a
// bounded buffer per connection. A request that does not parse or validate is answered
// 400 (513 when too large) with the parser's reason when its Via, From, To, Call-ID and
// CSeq are readable, otherwise dropped and counted; such responses are dropped and
// counted. Requests get ;received/;rport (§18.2.1, RFC 3581) before the user sees them.
//
// Sending: requests get the top Via's transport and sent-by of the socket used; a UDP
// request over `mtuAllowance` goes over TCP (§18.1.1) unless its next hop (top loose
// Route, else Request-URI) says ;transport=udp, and falls back to UDP when the TCP
// connection cannot be made. Responses follow §18.2.2 / RFC 3581 §4 and leave UDP from
// the socket the request came in on.
//
// Connections: one per remote endpoint, reused for requests and responses in both
// directions, whichever side opened it; closed after `flows.idleTimeout` of silence;
// flows we opened send RFC 5626 CRLFCRLF pings and fail without a pong; pings on flows
// the peer opened are answered with CRLF. CRLF and STUN datagrams over UDP are ignored.
//
// Bad input never wins: inbound connections are limited in all and per address, a
// message must be complete within `flows.incompleteMessageTimeout` of its first byte,
// and what waits to be sent on a connection is bounded by `maxQueuedBytes`.
//
// Timers run on the injected TimerQueue. Every message sent or received (also the ones
// refused) goes to the optional SipTrace. Callbacks to the TransportUser come from the
// event loop, never from inside a send call.
class SipTransport final : public Transport {
public:
    explicit SipTransport(base::TimerQueue& timers, SipTransportConfig config = {});
    ~SipTransport() override;
    SipTransport(const SipTransport&) = delete;
    SipTransport& operator=(const SipTransport&) = delete;

    // Binds a UDP socket or a TCP server; port 0 picks a free one. Returns the bound
    // endpoint (port resolved).
    Result<Endpoint> listen(const Endpoint& local);
    // "udp:127.0.0.1:0", "tcp:[::1]:5070" (see parseEndpoint()).
    Result<Endpoint> listen(QStringView spec);
    std::vector<Endpoint> listeningEndpoints() const;

    void setTrace(base::SipTrace* trace);
    // RFC 3263 §5: where a response must go to a host name in its Via, that name is
    // located through `locator` (not owned; null refuses such responses).
    void setServerLocator(ServerLocator* locator);
    const TransportCounters& counters() const;

    std::size_t connectionCount() const;
    // The open (or opening) connection towards `remote`, if any.
    std::optional<ConnectionId> connectionTo(const Endpoint& remote) const;
    bool isConnectionOpen(ConnectionId id) const;
    void closeConnection(ConnectionId id);
    // RFC 5626 §4.4.1: sends a CRLFCRLF ping on the connection towards `remote` now.
    Result<void> sendKeepAlive(const Endpoint& remote);

    // Transport
    void setUser(TransportUser* user) override;
    Result<Endpoint> sendRequest(sip::Message& request, const Endpoint& destination) override;
    Result<void> sendResponse(const sip::Message& response, const Endpoint& requestSource,
                              ConnectionId connection) override;
    // The first listener of `protocol` as bound (an any-address listener reports the
    // any-address).
    std::optional<Endpoint> localEndpoint(Protocol protocol) const override;

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

}  // namespace sb::transport
