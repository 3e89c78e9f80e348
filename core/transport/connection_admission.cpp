#include "transport/connection_admission.h"

#include "transport/transport.h"

namespace sb::transport {

QHostAddress ConnectionAdmission::sourceKey(const QHostAddress& address) {
    const QHostAddress plain = normalizedAddress(address);
    if (plain.protocol() != QAbstractSocket::IPv6Protocol) return plain;
    Q_IPV6ADDR bytes = plain.toIPv6Address();
    for (int i = 8; i < 16; ++i)
        bytes[i] = 0;
    return QHostAddress(bytes);
}

Result<void> ConnectionAdmission::admit(const QHostAddress& address) {
    if (m_total >= m_limits.total) {
        return fail(ErrorKind::Limit,
                    QStringLiteral("%1 inbound connections open (limit)").arg(m_total));
    }
    const QHostAddress key = sourceKey(address);
    const std::size_t open = m_perSource.value(key, 0);
    if (open >= m_limits.perAddress) {
        return fail(
            ErrorKind::Limit,
            QStringLiteral("%1 connections from %2 open (limit)").arg(open).arg(key.toString()));
    }
    m_perSource.insert(key, open + 1);
    ++m_total;
    return {};
}

void ConnectionAdmission::release(const QHostAddress& address) {
    const auto it = m_perSource.find(sourceKey(address));
    if (it == m_perSource.end()) return;
    if (--*it == 0) m_perSource.erase(it);
    if (m_total > 0) --m_total;
}

std::size_t ConnectionAdmission::from(const QHostAddress& address) const {
    return m_perSource.value(sourceKey(address), 0);
}

}  // namespace sb::transport
