#include "server/location_service.h"

#include <QHostAddress>

#include "sip/uri.h"

namespace sb::server {

transport::Endpoint Binding::nextHop() const {
    // RFC 5626 §5.3 / RFC 3581: a request to a phone behind NAT, or one that keeps a
    // connection open to us, goes back over the flow the phone opened; only that flow is
    // sure to get through the NAT (and a TCP phone may not listen at all).
    const bool reliable = transport::isReliable(source.protocol);
    // A TCP/TLS binding restored from the file (connection 0) has no flow any more: the
    // source port was the phone's ephemeral port, where nothing listens. The Contact is
    // where the phone said it accepts requests (RFC 3261 §10.2.1).
    const bool flowGone = reliable && connection == 0;
    if (!flowGone && (behindNat || reliable)) return source;
    const auto uri = sip::Uri::parse(contactUri);
    if (!uri || !uri->isSip()) return source;
    // A host name would need RFC 3263 resolution, which the proxy does not do for
    // registered contacts: the address the REGISTER came from is the best guess.
    const QHostAddress address(QString::fromLatin1(uri->host));
    if (address.isNull()) return source;

    transport::Endpoint hop;
    if (uri->scheme == sip::UriScheme::Sips) {
        hop.protocol = transport::Protocol::Tls;
    } else if (const QByteArray name = uri->transportParam(); !name.isEmpty()) {
        const auto protocol = transport::protocolFromName(name);
        if (!protocol) return source;  // ws, sctp, ...: not a transport of ours
        hop.protocol = *protocol;
    } else {
        hop.protocol = transport::Protocol::Udp;
    }
    hop.address = transport::normalizedAddress(address);
    hop.port = uri->port.value_or(transport::defaultPort(hop.protocol));
    if (hop.port == 0) return source;
    return hop;
}

}  // namespace sb::server
