#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QHash>
#include <QHostAddress>
#include <QString>
#include <QStringList>

#include <functional>
#include <optional>
#include <vector>

#include "sip/uri.h"
#include "transport/transport.h"

namespace sb::server {

// Which Request-URIs and AoRs the built-in server is responsible for (RFC 3261 §16.4:
// "the domain of the proxy"): the configured domains (the first is the primary one,
// used in documents) and the addresses it listens on, with or without the port. Users
// are one namespace across all local domains, as Kamailio's usrloc keeps them without
// use_domain: 201@switchboard.local and 201@127.0.0.1 are the same user.
//
// A listener on a wildcard address (0.0.0.0, ::) makes the addresses of this machine's
// interfaces ours — not every address: a request for 127.0.0.9 or for another host on
// the LAN is somebody else's, even when it names our port.
//
// It also answers which of our addresses to advertise (Record-Route, Contact) to a peer
// when the socket is bound to a wildcard address and so does not say which one the peer
// reached: the configured host when there is one, else the address the operating system
// would send from towards that peer.
class LocalDomains {
public:
    // The local address the system's routing table picks to reach `peer`; nullopt when
    // there is no route. The default opens a UDP socket and connects it (nothing is sent).
    using RouteLookup = std::function<std::optional<QHostAddress>(const QHostAddress& peer)>;

    // Bounds the cache of addressTowards(): one entry per peer address.
    static constexpr qsizetype kMaxCachedRoutes = 256;

    LocalDomains() = default;
    explicit LocalDomains(QStringList domains);

    void setDomains(QStringList domains);  // lower-cased; the first is primary
    // A wildcard endpoint reads the interface addresses (once, unless set already).
    void addListeningEndpoint(const transport::Endpoint& endpoint);

    const QStringList& domains() const { return m_domains; }
    QString primary() const;  // "switchboard.local" when none is configured
    const std::vector<transport::Endpoint>& listening() const { return m_listening; }

    // Whether `uri`'s host (and port, when it names one of ours) is one of ours.
    bool isLocal(const sip::Uri& uri) const;
    bool isLocalHost(QByteArrayView host, std::optional<quint16> port = {}) const;
    // The user key of a local URI ("201" for sip:201@switchboard.local;user=phone),
    // percent-decoded; empty when `uri` is not local or has no user part.
    QString userOf(const sip::Uri& uri) const;
    // "sip:<user>@<primary>" — the entity of documents and board extensions.
    QString aorUri(const QString& user) const;

    // The addresses of this machine (QNetworkInterface::allAddresses(), loopback
    // included): what a wildcard listener receives on. Read when the first wildcard
    // endpoint is added, or set here (tests, or after the interfaces changed).
    void setInterfaceAddresses(std::vector<QHostAddress> addresses);
    const std::vector<QHostAddress>& interfaceAddresses() const;
    bool isInterfaceAddress(const QHostAddress& address) const;

    // The host to advertise on wildcard listeners ([server] record_route_host): written
    // into Record-Route and Contact instead of a guessed address. Empty: guess per peer.
    void setAdvertisedHost(QByteArray host) { m_advertisedHost = std::move(host); }
    const QByteArray& advertisedHost() const { return m_advertisedHost; }

    // Replaces the routing-table lookup (tests; the default asks the system).
    void setRouteLookup(RouteLookup lookup);
    // Which of our addresses `peer` can reach us at: the system's choice of source
    // address towards it (cached per peer, at most kMaxCachedRoutes); without a route, a
    // loopback address for a loopback peer and an interface address of the peer's family
    // that is not loopback for any other. Null only when the machine has no address.
    QHostAddress addressTowards(const QHostAddress& peer) const;
    // The host text to advertise to `peer`: advertisedHost() when set, else
    // addressTowards(peer) (IPv6 in brackets), else the primary domain.
    QByteArray hostTowards(const QHostAddress& peer) const;

private:
    QStringList m_domains;
    std::vector<transport::Endpoint> m_listening;
    // A fact about the machine read on first use, not state of this object: mutable.
    mutable std::optional<std::vector<QHostAddress>> m_interfaces;
    QByteArray m_advertisedHost;
    RouteLookup m_routeLookup;
    mutable QHash<QHostAddress, QHostAddress> m_routeCache;
};

// Whether `address` is unspecified (null, 0.0.0.0, ::): a socket bound to it takes
// packets for every address of the machine.
bool isWildcardAddress(const QHostAddress& address);

// The system's source address towards `peer` (a UDP socket connected to it, which sends
// nothing); nullopt when there is no route.
std::optional<QHostAddress> systemRouteTowards(const QHostAddress& peer);

}  // namespace sb::server
