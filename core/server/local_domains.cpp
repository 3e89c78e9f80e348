#include "server/local_domains.h"

namespace sb::server {

namespace {
const QString kDefaultDomain = QStringLiteral("switchboard.local");
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
}

QString LocalDomains::primary() const {
    return m_domains.isEmpty() ? kDefaultDomain : m_domains.first();
}

bool LocalDomains::isLocal(const sip::Uri& uri) const {
    if (!uri.isSip()) return false;
    return isLocalHost(uri.host, uri.port);
}

bool LocalDomains::isLocalHost(QByteArrayView host, std::optional<quint16> port) const {
    const QString name = QString::fromUtf8(host).toLower();
    if (name.isEmpty()) return false;
    // A domain name is ours whatever port is written (RFC 3263 would locate us anyway).
    if (m_domains.contains(name) || (m_domains.isEmpty() && name == kDefaultDomain)) return true;
    const QHostAddress address(name);
    if (address.isNull()) return false;
    for (const auto& endpoint : m_listening) {
        const bool anyAddress = endpoint.address == QHostAddress::AnyIPv4 ||
                                endpoint.address == QHostAddress::AnyIPv6 ||
                                endpoint.address == QHostAddress::Any;
        const bool sameAddress = anyAddress || transport::normalizedAddress(endpoint.address) ==
                                                   transport::normalizedAddress(address);
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

}  // namespace sb::server
