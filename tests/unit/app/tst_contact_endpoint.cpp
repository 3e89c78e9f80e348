#include <QTest>

#include "app/contact_endpoint.h"

using namespace sb;
using transport::Endpoint;
using transport::Protocol;

namespace {

Endpoint ep(Protocol protocol, const char* address, quint16 port) {
    return Endpoint{protocol, QHostAddress(QString::fromLatin1(address)), port};
}

Endpoint any(Protocol protocol, QHostAddress::SpecialAddress address, quint16 port) {
    return Endpoint{protocol, QHostAddress(address), port};
}

// The routing table of the test: 127.0.0.5 towards IPv4, 2001:db8::5 towards IPv6.
QHostAddress routes(const QHostAddress& remote) {
    return remote.protocol() == QAbstractSocket::IPv6Protocol
               ? QHostAddress(QStringLiteral("2001:db8::5"))
               : QHostAddress(QStringLiteral("127.0.0.5"));
}

}  // namespace

class TestContactEndpoint : public QObject {
    Q_OBJECT

private slots:
    void sameTransportAndFamily() {
        const std::vector<Endpoint> listening = {
            ep(Protocol::Udp, "127.0.0.1", 5060),
            ep(Protocol::Tcp, "127.0.0.1", 5062),
            ep(Protocol::Udp, "::1", 5064),
        };
        QCOMPARE(app::contactEndpointFor(listening, ep(Protocol::Udp, "127.0.0.9", 5060), routes),
                 std::optional<Endpoint>(ep(Protocol::Udp, "127.0.0.1", 5060)));
        QCOMPARE(app::contactEndpointFor(listening, ep(Protocol::Tcp, "127.0.0.9", 5060), routes),
                 std::optional<Endpoint>(ep(Protocol::Tcp, "127.0.0.1", 5062)));
        QCOMPARE(app::contactEndpointFor(listening, ep(Protocol::Udp, "::2", 5060), routes),
                 std::optional<Endpoint>(ep(Protocol::Udp, "::1", 5064)));
        // No TCP listener of the IPv6 family, and no dual-stack one.
        QCOMPARE(app::contactEndpointFor(listening, ep(Protocol::Tcp, "::2", 5060), routes),
                 std::nullopt);
    }

    void wildcardNamesTheRoutedInterface() {
        const std::vector<Endpoint> listening = {
            any(Protocol::Udp, QHostAddress::AnyIPv4, 5060),
            any(Protocol::Tcp, QHostAddress::Any, 5070),
        };
        QCOMPARE(app::contactEndpointFor(listening, ep(Protocol::Udp, "127.0.0.9", 5060), routes),
                 std::optional<Endpoint>(ep(Protocol::Udp, "127.0.0.5", 5060)));
        // The dual-stack listener serves either family.
        QCOMPARE(app::contactEndpointFor(listening, ep(Protocol::Tcp, "2001:db8::1", 5060), routes),
                 std::optional<Endpoint>(ep(Protocol::Tcp, "2001:db8::5", 5070)));
        QCOMPARE(app::contactEndpointFor(listening, ep(Protocol::Tcp, "127.0.0.9", 5060), routes),
                 std::optional<Endpoint>(ep(Protocol::Tcp, "127.0.0.5", 5070)));
        // An IPv4-only wildcard cannot reach an IPv6 target.
        QCOMPARE(app::contactEndpointFor(listening, ep(Protocol::Udp, "2001:db8::1", 5060), routes),
                 std::nullopt);
    }

    void specificAddressBeforeDualStack() {
        const std::vector<Endpoint> listening = {
            any(Protocol::Udp, QHostAddress::Any, 5060),
            ep(Protocol::Udp, "127.0.0.1", 5080),
        };
        QCOMPARE(app::contactEndpointFor(listening, ep(Protocol::Udp, "127.0.0.2", 5060), routes),
                 std::optional<Endpoint>(ep(Protocol::Udp, "127.0.0.1", 5080)));
    }

    void noRouteNoContact() {
        const std::vector<Endpoint> listening = {any(Protocol::Udp, QHostAddress::AnyIPv4, 5060)};
        const app::SourceAddressLookup none = [](const QHostAddress&) { return QHostAddress(); };
        QCOMPARE(app::contactEndpointFor(listening, ep(Protocol::Udp, "127.0.0.9", 5060), none),
                 std::nullopt);
        QCOMPARE(app::contactEndpointFor({}, ep(Protocol::Udp, "127.0.0.9", 5060), routes),
                 std::nullopt);
    }
};

QTEST_GUILESS_MAIN(TestContactEndpoint)
#include "tst_contact_endpoint.moc"
