#include <QTest>

#include "transport/transport.h"

using namespace sb;
using namespace sb::transport;

// The small shared vocabulary of transport.h: names, endpoints, their text form.
class TstTransport : public QObject {
    Q_OBJECT
private slots:
    void protocolNames();
    void endpointText();
    void parseEndpoint_data();
    void parseEndpoint();
    void parseEndpointRejects_data();
    void parseEndpointRejects();
    void normalizesMappedAddresses();
    void hashFollowsEquality();
};

void TstTransport::protocolNames() {
    QCOMPARE(protocolName(Protocol::Udp), QByteArrayView("UDP"));
    QCOMPARE(protocolName(Protocol::Tcp), QByteArrayView("TCP"));
    QCOMPARE(protocolName(Protocol::Tls), QByteArrayView("TLS"));
    QCOMPARE(protocolFromName("udp"), std::optional(Protocol::Udp));
    QCOMPARE(protocolFromName("Tcp"), std::optional(Protocol::Tcp));
    QCOMPARE(protocolFromName("TLS"), std::optional(Protocol::Tls));
    QCOMPARE(protocolFromName("SCTP"), std::nullopt);
    QVERIFY(!isReliable(Protocol::Udp));
    QVERIFY(isReliable(Protocol::Tcp));
    QCOMPARE(defaultPort(Protocol::Udp), 5060);
    QCOMPARE(defaultPort(Protocol::Tls), 5061);
}

void TstTransport::endpointText() {
    QCOMPARE((Endpoint{Protocol::Udp, QHostAddress("127.0.0.1"), 5060}.toString()),
             QString("udp:127.0.0.1:5060"));
    QCOMPARE((Endpoint{Protocol::Tcp, QHostAddress("::1"), 5070}.toString()),
             QString("tcp:[::1]:5070"));
}

void TstTransport::parseEndpoint_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<int>("protocol");
    QTest::addColumn<QString>("address");
    QTest::addColumn<int>("port");
    QTest::newRow("udp v4") << "udp:127.0.0.1:0" << int(Protocol::Udp) << "127.0.0.1" << 0;
    QTest::newRow("tcp v6") << "tcp:[::1]:5070" << int(Protocol::Tcp) << "::1" << 5070;
    QTest::newRow("upper case") << "TCP:10.0.0.1:5060" << int(Protocol::Tcp) << "10.0.0.1" << 5060;
    QTest::newRow("no protocol") << "192.168.1.2:5062" << int(Protocol::Udp) << "192.168.1.2"
                                 << 5062;
    QTest::newRow("v6 no protocol")
        << "[2001:db8::1]:5060" << int(Protocol::Udp) << "2001:db8::1" << 5060;
    QTest::newRow("spaces") << "  udp:0.0.0.0:5060 " << int(Protocol::Udp) << "0.0.0.0" << 5060;
}

void TstTransport::parseEndpoint() {
    QFETCH(QString, text);
    QFETCH(int, protocol);
    QFETCH(QString, address);
    QFETCH(int, port);
    const auto endpoint = sb::transport::parseEndpoint(text);
    QVERIFY2(endpoint.has_value(), qPrintable(endpoint ? QString() : endpoint.error().reason));
    QCOMPARE(int(endpoint->protocol), protocol);
    QCOMPARE(endpoint->address, QHostAddress(address));
    QCOMPARE(int(endpoint->port), port);
}

void TstTransport::parseEndpointRejects_data() {
    QTest::addColumn<QString>("text");
    QTest::newRow("no port") << "udp:127.0.0.1";
    QTest::newRow("name") << "udp:example.com:5060";
    QTest::newRow("bad port") << "tcp:127.0.0.1:70000";
    QTest::newRow("v6 without brackets") << "udp:::1:5060";
    QTest::newRow("unclosed bracket") << "tcp:[::1:5060";
    QTest::newRow("empty") << "";
}

void TstTransport::parseEndpointRejects() {
    QFETCH(QString, text);
    const auto endpoint = sb::transport::parseEndpoint(text);
    QVERIFY(!endpoint.has_value());
    QCOMPARE(endpoint.error().kind, ErrorKind::Config);
}

void TstTransport::normalizesMappedAddresses() {
    QCOMPARE(normalizedAddress(QHostAddress("::ffff:192.0.2.7")), QHostAddress("192.0.2.7"));
    QCOMPARE(normalizedAddress(QHostAddress("::1")), QHostAddress("::1"));
    QCOMPARE(normalizedAddress(QHostAddress(QHostAddress::AnyIPv6)),
             QHostAddress(QHostAddress::AnyIPv6));
    QCOMPARE(normalizedAddress(QHostAddress("10.1.2.3")), QHostAddress("10.1.2.3"));
}

void TstTransport::hashFollowsEquality() {
    const Endpoint a{Protocol::Tcp, QHostAddress("127.0.0.1"), 5060};
    const Endpoint b{Protocol::Tcp, QHostAddress("127.0.0.1"), 5060};
    const Endpoint c{Protocol::Udp, QHostAddress("127.0.0.1"), 5060};
    QCOMPARE(a, b);
    QCOMPARE(qHash(a), qHash(b));
    QVERIFY(!(a == c));
    QHash<Endpoint, int> table;
    table.insert(a, 1);
    table.insert(c, 2);
    QCOMPARE(table.value(b), 1);
    QCOMPARE(table.size(), 2);
}

QTEST_GUILESS_MAIN(TstTransport)
#include "tst_transport.moc"
