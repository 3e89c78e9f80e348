#include "server/local_domains.h"

#include <QNetworkInterface>
#include <QUdpSocket>

#include <algorithm>

#include "transport/via_rules.h"

namespace sb::server {

namespace {

const QString kDefaultDomain = QStringLiteral("switchboard.local");
// Any port will do for a connected UDP socket that never sends: 9 is "discard".
constexpr quint16 kProbePort = 9;

bool sameFamily(const QHostAddress& a, const QHostAddress& b) {
    return a.protocol() == b.protocol();
}

// Whether a wildcard listener bound to `wildcard` receives packets for `address`. Qt
// binds AnyIPv4 to IPv4 only and AnyIPv6 with IPV6_V6ONLY; Any is dual-stack.
bool wildcardCovers(const QHostAddress& wildcard, const QHostAddress& address) {
    switch (wildcard.protocol()) {
        case QAbstractSocket::IPv4Protocol:
        case QAbstractSocket::IPv6Protocol:
            return sameFamily(wildcard, address);
        default:
            return true;
    }
}

QHostAddress loopbackLike(const QHostAddress& peer) {
    return peer.protocol() == QAbstractSocket::IPv6Protocol
               ? QHostAddress(QHostAddress::LocalHostIPv6)
               : QHostAddress(QHostAddress::LocalHost);
}

}  // namespace

bool isWildcardAddress(const QHostAddress& address) {
    return address.isNull() || address == QHostAddress(QHostAddress::AnyIPv4) ||
           address == QHostAddress(QHostAddress::AnyIPv6) ||
           address == QHostAddress(QHostAddress::Any);
}

std::optional<QHostAddress> systemRouteTowards(const QHostAddress& peer) {
    if (peer.isNull() || isWildcardAddress(peer)) return std::nullopt;
    // connect(2) on a UDP socket only asks the routing table which interface and source
    // address the datagrams would take; no packet leaves.
    QUdpSocket socket;
    socket.connectToHost(peer, kProbePort);
    if (socket.state() != QAbstractSocket::ConnectedState && !socket.waitForConnected(0))
        return std::nullopt;
    const QHostAddress local = transport::normalizedAddress(socket.localAddress());
    if (local.isNull() || isWildcardAddress(local)) return std::nullopt;
    return local;
}

LocalDomains::LocalDomains(QStringList domains) {
    setDomains(std::move(domains));
}

void LocalDomains::setDomains(QStringList domains) {
    m_domains.clear();
    for (const QString& domain : domains) {
        const QString trimmed = domain.trimmed().toLower();
        if (!trimmed.isEmpty() && !m_domains.contains(trimmed)) m_domains.append(trimmed);
    }
}

void LocalDomains::addListeningEndpoint(const transport::Endpoint& endpoint) {
    for (const auto& known : m_listening)
        if (known == endpoint) return;
    m_listening.push_back(endpoint);
    // Read once, here, rather than per request: a wildcard listener needs them for every
    // isLocalHost(), and the interfaces of a machine change seldom.
    if (isWildcardAddress(endpoint.address) && !m_interfaces) interfaceAddresses();
}

void LocalDomains::setInterfaceAddresses(std::vector<QHostAddress> addresses) {
    for (QHostAddress& address : addresses)
        address = transport::normalizedAddress(address);
    m_interfaces = std::move(addresses);
    m_routeCache.clear();
}

const std::vector<QHostAddress>& LocalDomains::interfaceAddresses() const {
    if (!m_interfaces) {
        std::vector<QHostAddress> addresses;
        for (const QHostAddress& address : QNetworkInterface::allAddresses()) {
            // A scope id (fe80::1%eth0) is not part of how a URI names the address.
            QHostAddress plain = transport::normalizedAddress(address);
            plain.setScopeId(QString());
            addresses.push_back(plain);
        }
        m_interfaces = std::move(addresses);
    }
    return *m_interfaces;
}

bool LocalDomains::isInterfaceAddress(const QHostAddress& address) const {
    const QHostAddress wanted = transport::normalizedAddress(address);
    const auto& all = interfaceAddresses();
    return std::find(all.begin(), all.end(), wanted) != all.end();
}

QString LocalDomains::primary() const {
    return m_domains.isEmpty() ? kDefaultDomain : m_domains.first();
}

bool LocalDomains::isLocal(const sip::Uri& uri) const {
    if (!uri.isSip()) return false;
    return isLocalHost(uri.host, uri.port);
}

bool LocalDomains::isLocalHost(QByteArrayView host, std::optional<quint16> port) const {
    if (host.startsWith('[') && host.endsWith(']')) host = host.sliced(1, host.size() - 2);
    const QString name = QString::fromUtf8(host).toLower();
    if (name.isEmpty()) return false;
    // A domain name is ours whatever port is written (RFC 3263 would locate us anyway).
    if (m_domains.contains(name) || (m_domains.isEmpty() && name == kDefaultDomain)) return true;
    const QHostAddress parsed(name);
    if (parsed.isNull()) return false;
    const QHostAddress address = transport::normalizedAddress(parsed);
    for (const auto& endpoint : m_listening) {
        const QHostAddress listening = transport::normalizedAddress(endpoint.address);
        const bool sameAddress =
            isWildcardAddress(listening)
                ? wildcardCovers(listening, address) && isInterfaceAddress(address)
                : listening == address;
        if (!sameAddress) continue;
        // An address is ours only with our port (or the default port when none is given):
        // 127.0.0.1:5080 is another server on the same machine.
        const quint16 wanted = port.value_or(transport::defaultPort(endpoint.protocol));
        if (wanted == endpoint.port) return true;
    }
    return false;
}

QString LocalDomains::userOf(const sip::Uri& uri) const {
    if (!isLocal(uri) || uri.user.isEmpty()) return {};
    return QString::fromUtf8(sip::percentDecode(uri.user));
}

QString LocalDomains::aorUri(const QString& user) const {
    return QStringLiteral("sip:%1@%2").arg(user, primary());
}

void LocalDomains::setRouteLookup(RouteLookup lookup) {
    m_routeLookup = std::move(lookup);
    m_routeCache.clear();
}

QHostAddress LocalDomains::addressTowards(const QHostAddress& peer) const {
    const QHostAddress target = transport::normalizedAddress(peer);
    const bool known = !target.isNull() && !isWildcardAddress(target);
    if (known) {
        if (const auto cached = m_routeCache.constFind(target); cached != m_routeCache.constEnd())
            return *cached;
        const std::optional<QHostAddress> routed =
            m_routeLookup ? m_routeLookup(target) : systemRouteTowards(target);
        if (routed && !routed->isNull()) {
            // Bounded: a flood of sources cannot grow it; the lookups are cheap to redo.
            if (m_routeCache.size() >= kMaxCachedRoutes) m_routeCache.clear();
            const QHostAddress local = transport::normalizedAddress(*routed);
            m_routeCache.insert(target, local);
            return local;
        }
        // No route: a loopback peer reaches our loopback address, another peer one of
        // our other addresses.
        if (target.isLoopback()) return loopbackLike(target);
    }
    const auto& all = interfaceAddresses();
    auto pick = [&](auto&& accept) -> QHostAddress {
        for (const QHostAddress& address : all)
            if (accept(address)) return address;
        return {};
    };
    auto usable = [&](const QHostAddress& address, bool anyFamily) {
        return !address.isLoopback() && !address.isLinkLocal() && !isWildcardAddress(address) &&
               (anyFamily || !known || sameFamily(address, target));
    };
    // The peer's family first (IPv4 when the peer is unknown), then any family, then
    // loopback: something the peer may reach beats a domain name it cannot resolve.
    QHostAddress chosen = pick([&](const QHostAddress& a) {
        return usable(a, false) && (known || a.protocol() == QAbstractSocket::IPv4Protocol);
    });
    if (chosen.isNull()) chosen = pick([&](const QHostAddress& a) { return usable(a, true); });
    if (chosen.isNull()) chosen = pick([](const QHostAddress& a) { return a.isLoopback(); });
    return chosen;
}

QByteArray LocalDomains::hostTowards(const QHostAddress& peer) const {
    if (!m_advertisedHost.isEmpty()) return m_advertisedHost;
    const QHostAddress address = addressTowards(peer);
    if (!address.isNull()) return transport::hostText(address);
    return primary().toUtf8();
}

}  // namespace sb::server
