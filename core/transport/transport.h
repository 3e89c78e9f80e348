#pragma once

#include <QByteArrayView>
#include <QHostAddress>
#include <QString>

#include <optional>

#include "base/result.h"
#include "sip/message.h"

namespace sb::transport {

enum class Protocol : quint8 { Udp, Tcp, Tls };

QByteArrayView protocolName(Protocol protocol);                 // "UDP", "TCP", "TLS"
std::optional<Protocol> protocolFromName(QByteArrayView name);  // case-insensitive
inline bool isReliable(Protocol protocol) {
    return protocol != Protocol::Udp;
}

// A transport address: where a message came from or goes to.
struct Endpoint {
    Protocol protocol = Protocol::Udp;
    QHostAddress address;
    quint16 port = 0;

    QString toString() const;  // "udp:127.0.0.1:5060", "tcp:[::1]:5060"
    bool operator==(const Endpoint& other) const = default;
};
size_t qHash(const Endpoint& endpoint, size_t seed = 0) noexcept;

// Parses "udp:127.0.0.1:5060", "tcp:[::1]:0", "[::1]:5060" (UDP when no protocol is
// named) or "0.0.0.0:5060"; "*" as host means every address (dual stack). The port is
// required.
Result<Endpoint> parseEndpoint(QStringView text);

// IPv4-mapped IPv6 addresses (::ffff:a.b.c.d, as a dual-stack socket reports IPv4
// peers) become plain IPv4, so that the same peer always has the same Endpoint.
QHostAddress normalizedAddress(const QHostAddress& address);

// The port a transport uses when none is given (RFC 3261 §19.1.2): 5060, TLS 5061.
inline quint16 defaultPort(Protocol protocol) {
    return protocol == Protocol::Tls ? 5061 : 5060;
}

// Identifies a connection (TCP/TLS) a message arrived on; 0 for datagrams.
using ConnectionId = quint64;

struct IncomingMessage {
    sip::Message message;
    Endpoint source;  // the packet's source address (what RFC 3581 calls received/rport)
    Endpoint local;   // the listening address it arrived at
    ConnectionId connection = 0;
};

// The layer above the transport (the transaction layer) implements this.
class TransportUser {
public:
    virtual ~TransportUser() = default;
    // A message that parsed (framing only; the user validates). Requests that did not
    // parse were already answered 400/513 by the transport where possible.
    virtual void onMessage(IncomingMessage&& incoming) = 0;
    // A connection or destination failed after a send (ICMP unreachable, reset, connect
    // timeout): transactions towards `remote` fail over (RFC 3263 §4.3).
    virtual void onFlowFailed(const Endpoint& remote, const Error& error) {
        (void)remote, (void)error;
    }
};

// What the transaction layer sees of the transports (RFC 3261 §18). Implementations:
// the real UDP/TCP transports on Qt Network, and a FakeTransport for unit tests.
class Transport {
public:
    virtual ~Transport() = default;

    virtual void setUser(TransportUser* user) = 0;

    // RFC 3261 §18.1.1: sends `request` to `destination`. The caller puts a top Via with
    // its branch (and ;rport, RFC 3581); the transport fills in that Via's transport and
    // sent-by for the socket it really uses. A UDP request larger than the MTU allowance
    // (1300 bytes) goes over TCP instead, unless the caller pinned UDP: the next hop URI
    // (top loose Route, else Request-URI) carries ;transport=udp (via_rules.h pinsUdp()).
    // Returns the endpoint actually used (protocol may differ from `destination`'s).
    virtual Result<Endpoint> sendRequest(sip::Message& request, const Endpoint& destination) = 0;

    // RFC 3261 §18.2.2 (and RFC 3581 §4): sends `response` the way its top Via says —
    // over `connection` when it is still open, else to received/rport or sent-by.
    virtual Result<void> sendResponse(const sip::Message& response, const Endpoint& requestSource,
                                      ConnectionId connection) = 0;

    // The address this transport listens on for `protocol` (port resolved when 0 was asked).
    virtual std::optional<Endpoint> localEndpoint(Protocol protocol) const = 0;
};

}  // namespace sb::transport
