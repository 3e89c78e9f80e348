#pragma once

#include <QHostAddress>

#include <functional>
#include <optional>
#include <vector>

#include "transport/transport.h"

namespace sb::app {

// The interface address the routing table picks towards a remote address; null when
// there is none.
using SourceAddressLookup = std::function<QHostAddress(const QHostAddress& remote)>;

// The local endpoint a Contact names for requests sent to `target` (RFC 3261 §10.2.1:
// an address the registrar's side can reach us at): among the `listening` endpoints,
// one of the target's transport, of the target's address family before a dual-stack
// wildcard (the socket the transport sends from). A wildcard address is replaced by
// `sourceAddress(target)`. nullopt when no listener can reach the target.
std::optional<transport::Endpoint> contactEndpointFor(
    const std::vector<transport::Endpoint>& listening, const transport::Endpoint& target,
    const SourceAddressLookup& sourceAddress);

// The production SourceAddressLookup: a UDP socket connected towards `remote` (which
// sends nothing) tells which local address the routing table chose.
QHostAddress routedSourceAddress(const QHostAddress& remote);

}  // namespace sb::app
