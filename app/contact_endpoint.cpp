#include "app/contact_endpoint.h"

#include <QUdpSocket>

namespace sb::app {

namespace {

bool isAnyAddress(const QHostAddress& address) {
    return address == QHostAddress(QHostAddress::AnyIPv4) ||
           address == QHostAddress(QHostAddress::AnyIPv6) ||
           address == QHostAddress(QHostAddress::Any);
}

bool isDualStack(const QHostAddress& address) {
    return address == QHostAddress(QHostAddress::Any);
}

}  // namespace

std::optional<transport::Endpoint> contactEndpointFor(
    const std::vector<transport::Endpoint>& listening, const transport::Endpoint& target,
    const SourceAddressLookup& sourceAddress) {
    // The transport's own choice of socket: the same family first, then dual stack.
    const transport::Endpoint* chosen = nullptr;
    for (const transport::Endpoint& local : listening) {
        if (local.protocol == target.protocol && !isDualStack(local.address) &&
            local.address.protocol() == target.address.protocol()) {
            chosen = &local;
            break;
        }
    }
    if (!chosen) {
        for (const transport::Endpoint& local : listening) {
            if (local.protocol == target.protocol && isDualStack(local.address)) {
                chosen = &local;
                break;
            }
        }
    }
    if (!chosen) return std::nullopt;

    transport::Endpoint contact = *chosen;
    if (isAnyAddress(contact.address)) {
        // A wildcard is no address to be reached at: name the interface towards the target.
        const QHostAddress source = sourceAddress ? sourceAddress(target.address) : QHostAddress();
        if (source.isNull() || isAnyAddress(source)) return std::nullopt;
        contact.address = transport::normalizedAddress(source);
    }
    return contact;
}

QHostAddress routedSourceAddress(const QHostAddress& remote) {
    QUdpSocket probe;
    probe.connectToHost(remote, 9);
    if (probe.state() != QAbstractSocket::ConnectedState && !probe.waitForConnected(0)) return {};
    return probe.localAddress();
}

}  // namespace sb::app
