#include <QTest>

#include "sip/parser.h"
#include "transport/via_rules.h"

using namespace sb;
using namespace sb::transport;

namespace {

sip::Message request(QByteArray via, QByteArray requestUri = "sip:bob@example.com",
                     QByteArray extra = {}) {
    QByteArray text = "OPTIONS " + requestUri + " SIP/2.0\r\n";
    text += "Via: " + via + "\r\n";
    text += extra;
    text +=
        "From: <sip:alice@example.com>;tag=a1\r\n"
        "To: <sip:bob@example.com>\r\n"
        "Call-ID: c1@example.com\r\n"
        "CSeq: 1 OPTIONS\r\n"
        "Max-Forwards: 70\r\n"
        "Content-Length: 0\r\n\r\n";
    auto parsed = sip::Parser::parse(text);
    if (!parsed) qFatal("test message does not parse: %s", qPrintable(parsed.error().reason));
    return *parsed;
}

Endpoint udp(const char* address, quint16 port) {
    return {Protocol::Udp, QHostAddress(address), port};
}

QByteArray topVia(const sip::Message& message) {
    return message.values(sip::HeaderId::Via).value(0).toByteArray();
}

}  // namespace

// RFC 3261 §18 and RFC 3581 Via processing, as pure functions.
class TstViaRules : public QObject {
    Q_OBJECT
private slots:
    void stamp_data();
    void stamp();
    void stampKeepsLowerVias();
    void stampFailsWithoutVia();
    void stampThenRouteIsSymmetric();
    void sentBy();
    void sentByIpv6();
    void route_data();
    void route();
    void routeRejectsUnknownTransport();
    void pinsUdp_data();
    void pinsUdp();
    void hostText();
};

void TstViaRules::stamp_data() {
    QTest::addColumn<QByteArray>("via");
    QTest::addColumn<QString>("sourceAddress");
    QTest::addColumn<int>("sourcePort");
    QTest::addColumn<QByteArray>("expected");

    QTest::newRow("same address, no rport: untouched")
        << QByteArray("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1") << "192.0.2.1" << 5060
        << QByteArray("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1");
    QTest::newRow("other address: received (§18.2.1)")
        << QByteArray("SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK1") << "192.0.2.1" << 5060
        << QByteArray("SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK1;received=192.0.2.1");
    QTest::newRow("host name: received")
        << QByteArray("SIP/2.0/TCP pc33.example.com;branch=z9hG4bK1") << "192.0.2.1" << 40000
        << QByteArray("SIP/2.0/TCP pc33.example.com;branch=z9hG4bK1;received=192.0.2.1");
    QTest::newRow("empty rport: filled, received even if same (RFC 3581 §4)")
        << QByteArray("SIP/2.0/UDP 192.0.2.1:5060;rport;branch=z9hG4bK1") << "192.0.2.1" << 41000
        << QByteArray("SIP/2.0/UDP 192.0.2.1:5060;rport=41000;branch=z9hG4bK1;received=192.0.2.1");
    QTest::newRow("rport behind NAT")
        << QByteArray("SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK1;rport") << "198.51.100.7" << 1024
        << QByteArray("SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK1;rport=1024;received=198.51.100.7");
    QTest::newRow("rport with a value is left alone")
        << QByteArray("SIP/2.0/UDP 192.0.2.1:5060;rport=5000;branch=z9hG4bK1") << "192.0.2.1"
        << 41000 << QByteArray("SIP/2.0/UDP 192.0.2.1:5060;rport=5000;branch=z9hG4bK1");
    QTest::newRow("a forged received is replaced")
        << QByteArray("SIP/2.0/UDP 10.0.0.5;received=203.0.113.1;branch=z9hG4bK1") << "192.0.2.1"
        << 5060 << QByteArray("SIP/2.0/UDP 10.0.0.5;branch=z9hG4bK1;received=192.0.2.1");
    QTest::newRow("IPv6 same address")
        << QByteArray("SIP/2.0/UDP [::1]:5060;branch=z9hG4bK1") << "::1" << 5060
        << QByteArray("SIP/2.0/UDP [::1]:5060;branch=z9hG4bK1");
    QTest::newRow("IPv6 written differently is the same address")
        << QByteArray("SIP/2.0/UDP [2001:db8:0:0::1];branch=z9hG4bK1") << "2001:db8::1" << 5060
        << QByteArray("SIP/2.0/UDP [2001:db8:0:0::1];branch=z9hG4bK1");
    QTest::newRow("IPv6 received has no brackets")
        << QByteArray("SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK1;rport") << "2001:db8::2"
        << 6000
        << QByteArray(
               "SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK1;rport=6000;received=2001:db8::2");
    QTest::newRow("IPv4-mapped source matches IPv4 sent-by")
        << QByteArray("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1") << "::ffff:192.0.2.1" << 5060
        << QByteArray("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1");
    QTest::newRow("other parameters keep spelling and order")
        << QByteArray("SIP/2.0/UDP 10.0.0.5;Branch=z9hG4bK1;ttl=1;x-flag;RPORT") << "192.0.2.1" << 7
        << QByteArray(
               "SIP/2.0/UDP 10.0.0.5;Branch=z9hG4bK1;ttl=1;x-flag;RPORT=7;received=192.0.2.1");
}

void TstViaRules::stamp() {
    QFETCH(QByteArray, via);
    QFETCH(QString, sourceAddress);
    QFETCH(int, sourcePort);
    QFETCH(QByteArray, expected);
    sip::Message message = request(via);
    const auto stamped =
        stampReceived(message, udp(qPrintable(sourceAddress), quint16(sourcePort)));
    QVERIFY(stamped.has_value());
    QCOMPARE(topVia(message), expected);
    // The result is still a well-formed Via that says what was stamped.
    const auto parsed = message.topVia();
    QVERIFY(parsed.has_value());
}

void TstViaRules::stampKeepsLowerVias() {
    sip::Message message = request(
        "SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKtop;rport, SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKlow",
        "sip:bob@example.com", "Via: SIP/2.0/TCP 10.0.0.10;branch=z9hG4bKlast\r\n");
    QVERIFY(stampReceived(message, udp("192.0.2.1", 5999)).has_value());
    const auto vias = message.values(sip::HeaderId::Via);
    QCOMPARE(vias.size(), 3);
    QCOMPARE(vias[0].toByteArray(),
             QByteArray("SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKtop;rport=5999;received=192.0.2.1"));
    QCOMPARE(vias[1].toByteArray(), QByteArray("SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKlow"));
    QCOMPARE(vias[2].toByteArray(), QByteArray("SIP/2.0/TCP 10.0.0.10;branch=z9hG4bKlast"));
    // And it survives a trip over the wire.
    const auto again = sip::Parser::parse(message.serialize());
    QVERIFY(again.has_value());
    QCOMPARE(again->topVia()->received(), std::optional<QByteArrayView>("192.0.2.1"));
    QCOMPARE(again->topVia()->rport(), std::optional<quint16>(5999));
}

void TstViaRules::stampFailsWithoutVia() {
    sip::Message message = sip::Message::request(sip::Method::Options, "sip:bob@example.com");
    QVERIFY(!stampReceived(message, udp("192.0.2.1", 5060)).has_value());
}

void TstViaRules::stampThenRouteIsSymmetric() {
    // A client behind a NAT: the response must go where the request came from.
    sip::Message message = request("SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK1;rport");
    QVERIFY(stampReceived(message, udp("198.51.100.7", 31000)).has_value());
    const auto response = sip::makeResponse(message, 200);
    const auto route = routeResponse(*response.topVia());
    QVERIFY(route.has_value());
    QCOMPARE(route->protocol, Protocol::Udp);
    QCOMPARE(route->address(), std::optional(QHostAddress("198.51.100.7")));
    QCOMPARE(route->port, 31000);
}

void TstViaRules::sentBy() {
    sip::Message message = request("SIP/2.0/UDP placeholder.invalid;branch=z9hG4bKabc;rport");
    QVERIFY(setSentBy(message, Protocol::Tcp, "192.0.2.4", 5070).has_value());
    QCOMPARE(topVia(message), QByteArray("SIP/2.0/TCP 192.0.2.4:5070;branch=z9hG4bKabc;rport"));
    QVERIFY(setSentBy(message, Protocol::Udp, "192.0.2.4", 5060).has_value());
    QCOMPARE(topVia(message), QByteArray("SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bKabc;rport"));

    sip::Message noVia = sip::Message::request(sip::Method::Options, "sip:bob@example.com");
    QVERIFY(!setSentBy(noVia, Protocol::Udp, "192.0.2.4", 5060).has_value());
}

void TstViaRules::sentByIpv6() {
    sip::Message message = request("SIP/2.0/UDP x.invalid;branch=z9hG4bKabc");
    QVERIFY(setSentBy(message, Protocol::Udp, transport::hostText(QHostAddress("::1")), 5062)
                .has_value());
    QCOMPARE(topVia(message), QByteArray("SIP/2.0/UDP [::1]:5062;branch=z9hG4bKabc"));
    // A bare IPv6 host gets its brackets too.
    QVERIFY(setSentBy(message, Protocol::Tcp, "2001:db8::5", 5060).has_value());
    QCOMPARE(topVia(message), QByteArray("SIP/2.0/TCP [2001:db8::5]:5060;branch=z9hG4bKabc"));
    QCOMPARE(message.topVia()->host, QByteArrayView("2001:db8::5"));
}

void TstViaRules::route_data() {
    QTest::addColumn<QByteArray>("via");
    QTest::addColumn<int>("protocol");
    QTest::addColumn<bool>("reuseConnection");
    QTest::addColumn<QByteArray>("host");
    QTest::addColumn<int>("port");

    QTest::newRow("udp sent-by") << QByteArray("SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK1")
                                 << int(Protocol::Udp) << false << QByteArray("10.0.0.1") << 5062;
    QTest::newRow("udp default port")
        << QByteArray("SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1") << int(Protocol::Udp) << false
        << QByteArray("10.0.0.1") << 5060;
    QTest::newRow("udp received, sent-by port")
        << QByteArray("SIP/2.0/UDP pc.example.com:5070;branch=z9hG4bK1;received=192.0.2.1")
        << int(Protocol::Udp) << false << QByteArray("192.0.2.1") << 5070;
    QTest::newRow("udp received, port 5060")
        << QByteArray("SIP/2.0/UDP pc.example.com;branch=z9hG4bK1;received=192.0.2.1")
        << int(Protocol::Udp) << false << QByteArray("192.0.2.1") << 5060;
    QTest::newRow("udp received + rport (RFC 3581 §4)")
        << QByteArray("SIP/2.0/UDP 10.0.0.5:5060;rport=40000;branch=z9hG4bK1;received=192.0.2.1")
        << int(Protocol::Udp) << false << QByteArray("192.0.2.1") << 40000;
    QTest::newRow("udp rport without value is not a port")
        << QByteArray("SIP/2.0/UDP 10.0.0.5:5066;rport;branch=z9hG4bK1;received=192.0.2.1")
        << int(Protocol::Udp) << false << QByteArray("192.0.2.1") << 5066;
    QTest::newRow("udp maddr wins")
        << QByteArray(
               "SIP/2.0/UDP "
               "10.0.0.5:5062;maddr=224.0.1.75;received=192.0.2.1;rport=1;branch=z9hG4bK1")
        << int(Protocol::Udp) << false << QByteArray("224.0.1.75") << 5062;
    QTest::newRow("udp name without received")
        << QByteArray("SIP/2.0/UDP pc.example.com;branch=z9hG4bK1") << int(Protocol::Udp) << false
        << QByteArray("pc.example.com") << 5060;
    QTest::newRow("tcp: connection first, then received at sent-by port")
        << QByteArray("SIP/2.0/TCP 10.0.0.5:5070;rport=40000;received=192.0.2.1;branch=z9hG4bK1")
        << int(Protocol::Tcp) << true << QByteArray("192.0.2.1") << 5070;
    QTest::newRow("tcp without received")
        << QByteArray("SIP/2.0/TCP 10.0.0.5;branch=z9hG4bK1") << int(Protocol::Tcp) << true
        << QByteArray("10.0.0.5") << 5060;
    QTest::newRow("tls default port")
        << QByteArray("SIP/2.0/TLS pc.example.com;branch=z9hG4bK1") << int(Protocol::Tls) << true
        << QByteArray("pc.example.com") << 5061;
    QTest::newRow("ipv6")
        << QByteArray(
               "SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK1;received=2001:db8::2;rport=4000")
        << int(Protocol::Udp) << false << QByteArray("2001:db8::2") << 4000;
    QTest::newRow("lower-case transport")
        << QByteArray("SIP/2.0/udp 10.0.0.1:5062;branch=z9hG4bK1") << int(Protocol::Udp) << false
        << QByteArray("10.0.0.1") << 5062;
}

void TstViaRules::route() {
    QFETCH(QByteArray, via);
    QFETCH(int, protocol);
    QFETCH(bool, reuseConnection);
    QFETCH(QByteArray, host);
    QFETCH(int, port);
    const auto parsed = sip::Via::parse(via);
    QVERIFY(parsed.has_value());
    const auto route = routeResponse(*parsed);
    QVERIFY2(route.has_value(), qPrintable(route ? QString() : route.error().reason));
    QCOMPARE(int(route->protocol), protocol);
    QCOMPARE(route->reuseConnection, reuseConnection);
    QCOMPARE(route->host, host);
    QCOMPARE(int(route->port), port);
    QHostAddress numeric;
    QCOMPARE(route->address().has_value(), numeric.setAddress(QString::fromLatin1(host)));
}

void TstViaRules::routeRejectsUnknownTransport() {
    const auto via = sip::Via::parse("SIP/2.0/SCTP 10.0.0.1;branch=z9hG4bK1");
    QVERIFY(via.has_value());
    QVERIFY(!routeResponse(*via).has_value());
}

void TstViaRules::pinsUdp_data() {
    QTest::addColumn<QByteArray>("requestUri");
    QTest::addColumn<QByteArray>("routes");
    QTest::addColumn<bool>("pinned");
    QTest::newRow("plain") << QByteArray("sip:bob@example.com") << QByteArray() << false;
    QTest::newRow("request-uri pins udp")
        << QByteArray("sip:bob@example.com;transport=udp") << QByteArray() << true;
    QTest::newRow("request-uri says tcp")
        << QByteArray("sip:bob@example.com;transport=tcp") << QByteArray() << false;
    QTest::newRow("upper case") << QByteArray("sip:bob@example.com;transport=UDP") << QByteArray()
                                << true;
    QTest::newRow("loose route pins udp")
        << QByteArray("sip:bob@example.com")
        << QByteArray("Route: <sip:proxy.example.com;lr;transport=udp>\r\n") << true;
    QTest::newRow("loose route is the next hop, not the request-uri")
        << QByteArray("sip:bob@example.com;transport=udp")
        << QByteArray("Route: <sip:proxy.example.com;lr>\r\n") << false;
    QTest::newRow("strict route: the request-uri is the next hop")
        << QByteArray("sip:proxy.example.com;transport=udp")
        << QByteArray("Route: <sip:bob@example.com;transport=tcp>\r\n") << true;
}

void TstViaRules::pinsUdp() {
    QFETCH(QByteArray, requestUri);
    QFETCH(QByteArray, routes);
    QFETCH(bool, pinned);
    const sip::Message message =
        request("SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1", requestUri, routes);
    QCOMPARE(transport::pinsUdp(message), pinned);
}

void TstViaRules::hostText() {
    QCOMPARE(transport::hostText(QHostAddress("192.0.2.1")), QByteArray("192.0.2.1"));
    QCOMPARE(transport::hostText(QHostAddress("::1")), QByteArray("[::1]"));
    QCOMPARE(transport::hostText(QHostAddress("::ffff:192.0.2.1")), QByteArray("192.0.2.1"));
    QCOMPARE(formatVia("tcp", "example.com", std::nullopt, ";branch=z9hG4bKx"),
             QByteArray("SIP/2.0/TCP example.com;branch=z9hG4bKx"));
}

QTEST_GUILESS_MAIN(TstViaRules)
#include "tst_via_rules.moc"
