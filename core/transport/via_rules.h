#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QHostAddress>

#include <optional>

#include "base/result.h"
#include "sip/message.h"
#include "sip/via.h"
#include "transport/transport.h"

// The Via rules of RFC 3261 §18 and RFC 3581 as pure functions, so that the decisions
// ("what does the top Via say now", "where does this response go") are tested without
// sockets.
namespace sb::transport {

// An address as a Via or URI host: IPv6 in brackets, IPv4 as is.
QByteArray hostText(const QHostAddress& address);

// One Via value: "SIP/2.0/<transport> <host>[:<port>]<params>", with `params` exactly as
// given (empty, or starting at ';'). `host` is bracketed when it is an IPv6 address.
QByteArray formatVia(QByteArrayView transport, QByteArrayView host, std::optional<quint16> port,
                     QByteArrayView params);

// Replaces the topmost Via value (the first element of the first Via field, which may
// hold a comma list) with `value`. False when the message has no Via.
bool replaceTopVia(sip::Message& message, const QByteArray& value);

// RFC 3261 §18.2.1 and RFC 3581 §4, on a received request: adds ;received=<source
// address> when the sent-by host is a name or a different address, and when ;rport is
// present without a value fills it with the source port and adds ;received even when
// the address is the same. Other parameters keep their order and spelling.
Result<void> stampReceived(sip::Message& request, const Endpoint& source);

// RFC 3261 §18.1.1: the top Via of an outgoing request names the transport and the
// sent-by actually used; its parameters (branch, rport, ...) are kept.
Result<void> setSentBy(sip::Message& request, Protocol protocol, QByteArrayView host, quint16 port);

// Where a response goes, read from its top Via (RFC 3261 §18.2.2, RFC 3581 §4).
struct ResponseRoute {
    Protocol protocol = Protocol::Udp;
    // Reliable transports: the connection the request came on comes first; `host`/`port`
    // are where to connect when it is gone.
    bool reuseConnection = false;
    QByteArray host;  // a numeric address, or a name to locate (RFC 3263 §5)
    quint16 port = 0;

    // The host as an address; nullopt when it is a name.
    std::optional<QHostAddress> address() const;
};
Result<ResponseRoute> routeResponse(const sip::Via& topVia);

// RFC 3261 §18.1.1: whether the next hop of `request` pinned UDP with ;transport=udp
// (the top Route when it is a loose route, else the Request-URI), in which case a large
// request stays on UDP instead of moving to TCP.
bool pinsUdp(const sip::Message& request);

}  // namespace sb::transport
