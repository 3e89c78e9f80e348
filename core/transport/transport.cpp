#include "transport/transport.h"

#include <QHash>

namespace sb::transport {

QByteArrayView protocolName(Protocol protocol) {
    switch (protocol) {
        case Protocol::Udp:
            return "UDP";
        case Protocol::Tcp:
            return "TCP";
        case Protocol::Tls:
            return "TLS";
    }
    return "UDP";
}

std::optional<Protocol> protocolFromName(QByteArrayView name) {
    const QByteArrayView trimmed = name.trimmed();
    for (Protocol protocol : {Protocol::Udp, Protocol::Tcp, Protocol::Tls}) {
        if (trimmed.compare(protocolName(protocol), Qt::CaseInsensitive) == 0) return protocol;
    }
    return std::nullopt;
}

QString Endpoint::toString() const {
    const QString scheme = QString::fromLatin1(protocolName(protocol)).toLower();
    const QString host = address.protocol() == QAbstractSocket::IPv6Protocol
                             ? QLatin1Char('[') + address.toString() + QLatin1Char(']')
                             : address.toString();
    return scheme + QLatin1Char(':') + host + QLatin1Char(':') + QString::number(port);
}

size_t qHash(const Endpoint& endpoint, size_t seed) noexcept {
    return qHashMulti(seed, static_cast<int>(endpoint.protocol), endpoint.address, endpoint.port);
}

Result<Endpoint> parseEndpoint(QStringView text) {
    Endpoint endpoint;
    QStringView rest = text.trimmed();
    const qsizetype colon = rest.indexOf(QLatin1Char(':'));
    if (colon > 0 && !rest.startsWith(QLatin1Char('['))) {
        if (const auto protocol = protocolFromName(rest.first(colon).toLatin1())) {
            endpoint.protocol = *protocol;
            rest = rest.sliced(colon + 1);
        }
    }
    QStringView host;
    QStringView port;
    if (rest.startsWith(QLatin1Char('['))) {
        const qsizetype close = rest.indexOf(QLatin1Char(']'));
        if (close < 0 || close + 1 >= rest.size() || rest[close + 1] != QLatin1Char(':')) {
            return fail(ErrorKind::Config,
                        QStringLiteral("expected [address]:port in \"%1\"").arg(text));
        }
        host = rest.sliced(1, close - 1);
        port = rest.sliced(close + 2);
    } else {
        const qsizetype last = rest.lastIndexOf(QLatin1Char(':'));
        if (last <= 0 || rest.first(last).contains(QLatin1Char(':'))) {
            return fail(
                ErrorKind::Config,
                QStringLiteral("expected address:port (IPv6 in brackets) in \"%1\"").arg(text));
        }
        host = rest.first(last);
        port = rest.sliced(last + 1);
    }
    bool ok = false;
    const uint portNumber = port.toUInt(&ok);
    if (!ok || portNumber > 65535) {
        return fail(ErrorKind::Config, QStringLiteral("bad port in \"%1\"").arg(text));
    }
    endpoint.port = static_cast<quint16>(portNumber);
    if (host == QLatin1String("*")) {
        endpoint.address = QHostAddress(QHostAddress::Any);
    } else if (!endpoint.address.setAddress(host.toString())) {
        return fail(ErrorKind::Config,
                    QStringLiteral("\"%1\" is not a numeric IP address").arg(host));
    }
    return endpoint;
}

QHostAddress normalizedAddress(const QHostAddress& address) {
    if (address.protocol() == QAbstractSocket::IPv6Protocol) {
        bool isV4 = false;
        const quint32 v4 = address.toIPv4Address(&isV4);
        // toIPv4Address() also accepts "::" (as 0.0.0.0); keep the IPv6 any-address.
        if (isV4 && address != QHostAddress(QHostAddress::AnyIPv6)) return QHostAddress(v4);
    }
    return address;
}

}  // namespace sb::transport
