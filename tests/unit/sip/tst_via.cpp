// Via (RFC 3261 §20.42, §18.2.1 received, §8.1.1.7 branch cookie; RFC 3581 rport;
// RFC 5118 IPv6 sent-by).

#include <QTest>

#include "sip/via.h"
#include "sip_test_util.h"

using namespace sb;
using namespace sb::sip;
using namespace sb::sip::test;

class TestVia : public QObject {
    Q_OBJECT

private slots:
    void basic();
    void portAndParams();
    void ipv6SentBy_data();
    void ipv6SentBy();
    void rport();
    void maddrAndTtl();
    void magicCookie_data();
    void magicCookie();
    void lwsEverywhere();
    void transportsAsWritten();
    void invalid_data();
    void invalid();
};

void TestVia::basic() {
    Result<Via> via = Via::parse("SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds");
    QVERIFY2(via, qPrintable(describe(via)));
    QCOMPARE(bytes(via->protocolName), QByteArray("SIP"));
    QCOMPARE(bytes(via->protocolVersion), QByteArray("2.0"));
    QCOMPARE(bytes(via->transport), QByteArray("UDP"));
    QCOMPARE(bytes(via->host), QByteArray("pc33.atlanta.com"));
    QVERIFY(!via->ipv6Reference);
    QVERIFY(!via->port.has_value());
    QCOMPARE(bytes(via->branch()), QByteArray("z9hG4bK776asdhds"));
    QVERIFY(via->hasMagicCookie());
    QVERIFY(!via->received().has_value());
    QVERIFY(!via->maddr().has_value());
    QVERIFY(!via->hasRport());
    QVERIFY(!via->rport().has_value());
}

void TestVia::portAndParams() {
    Result<Via> via = Via::parse(
        "SIP/2.0/TCP 192.0.2.1:5070;received=198.51.100.7;branch=z9hG4bKnashds8;alias;x=y");
    QVERIFY2(via, qPrintable(describe(via)));
    QCOMPARE(bytes(via->host), QByteArray("192.0.2.1"));
    QCOMPARE(via->port, std::optional<quint16>(5070));
    QCOMPARE(bytes(via->received().value_or("<absent>")), QByteArray("198.51.100.7"));
    QCOMPARE(bytes(via->branch()), QByteArray("z9hG4bKnashds8"));
    QVERIFY(via->params.has("alias"));
    QCOMPARE(bytes(via->params.value("x").value_or("<absent>")), QByteArray("y"));
}

void TestVia::ipv6SentBy_data() {
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QByteArray>("host");
    QTest::addColumn<int>("port");
    QTest::newRow("with port") << QByteArray("SIP/2.0/UDP [2001:db8::9]:5060;branch=z9hG4bKa")
                               << QByteArray("2001:db8::9") << 5060;
    QTest::newRow("without port") << QByteArray("SIP/2.0/TLS [::1];branch=z9hG4bKb")
                                  << QByteArray("::1") << -1;
    // RFC 5118 §4.5: received may hold the address with or without brackets.
    QTest::newRow("received v6 bracketed")
        << QByteArray("SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bKas3;received=[2001:db8::9:255]")
        << QByteArray("2001:db8::9:1") << -1;
    QTest::newRow("received v6")
        << QByteArray("SIP/2.0/UDP [2001:db8::9]:5070;received=2001:db8::9;branch=z9hG4bKc")
        << QByteArray("2001:db8::9") << 5070;
}

void TestVia::ipv6SentBy() {
    QFETCH(QByteArray, text);
    QFETCH(QByteArray, host);
    QFETCH(int, port);
    Result<Via> via = Via::parse(text);
    QVERIFY2(via, qPrintable(describe(via)));
    QVERIFY(via->ipv6Reference);
    QCOMPARE(bytes(via->host), host);
    QCOMPARE(via->port.has_value(), port >= 0);
    if (port >= 0) QCOMPARE(int(*via->port), port);
    QVERIFY(via->hasMagicCookie());
}

// RFC 3581: ";rport" asks for it, ";rport=N" is the filled-in answer.
void TestVia::rport() {
    Result<Via> asked = Via::parse("SIP/2.0/UDP 192.0.2.1:5060;rport;branch=z9hG4bK1");
    QVERIFY2(asked, qPrintable(describe(asked)));
    QVERIFY(asked->hasRport());
    QVERIFY(!asked->rport().has_value());
    Result<Via> answered =
        Via::parse("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;rport=62311;received=203.0.113.9");
    QVERIFY2(answered, qPrintable(describe(answered)));
    QVERIFY(answered->hasRport());
    QCOMPARE(answered->rport(), std::optional<quint16>(62311));
    QCOMPARE(bytes(answered->received().value_or("<absent>")), QByteArray("203.0.113.9"));
    Result<Via> none = Via::parse("SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1");
    QVERIFY(none);
    QVERIFY(!none->hasRport());
    Result<Via> tooBig = Via::parse("SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1;rport=70000");
    if (tooBig) QVERIFY(!tooBig->rport().has_value());
}

void TestVia::maddrAndTtl() {
    Result<Via> via =
        Via::parse("SIP/2.0/UDP 192.0.2.1;maddr=239.255.255.1;ttl=15;branch=z9hG4bKm");
    QVERIFY2(via, qPrintable(describe(via)));
    QCOMPARE(bytes(via->maddr().value_or("<absent>")), QByteArray("239.255.255.1"));
    QCOMPARE(bytes(via->params.value("ttl").value_or("<absent>")), QByteArray("15"));
}

// RFC 3261 §8.1.1.7: the branch starts with exactly "z9hG4bK".
void TestVia::magicCookie_data() {
    QTest::addColumn<QByteArray>("branch");
    QTest::addColumn<bool>("cookie");
    QTest::newRow("rfc3261") << QByteArray("z9hG4bK776asdhds") << true;
    QTest::newRow("cookie only") << QByteArray("z9hG4bK") << true;  // RFC 4475 §3.2.1
    QTest::newRow("rfc2543") << QByteArray("390skdjuw") << false;
    QTest::newRow("wrong case") << QByteArray("Z9HG4BK776") << false;
    QTest::newRow("lower k") << QByteArray("z9hG4bk776") << false;
    QTest::newRow("cookie later") << QByteArray("xz9hG4bK776") << false;
    QTest::newRow("short") << QByteArray("z9hG4b") << false;
}

void TestVia::magicCookie() {
    QFETCH(QByteArray, branch);
    QFETCH(bool, cookie);
    const QByteArray text = "SIP/2.0/UDP host.example.com;branch=" + branch;
    Result<Via> via = Via::parse(text);
    QVERIFY2(via, qPrintable(describe(via)));
    QCOMPARE(bytes(via->branch()), branch);
    QCOMPARE(via->hasMagicCookie(), cookie);
    Result<Via> without = Via::parse("SIP/2.0/UDP host.example.com");
    QVERIFY(without);
    QVERIFY(without->branch().isEmpty());
    QVERIFY(!without->hasMagicCookie());
}

// RFC 3261 §25.1: SLASH, SEMI and EQUAL allow LWS (RFC 4475 §3.1.1.1).
void TestVia::lwsEverywhere() {
    Result<Via> via =
        Via::parse("SIP  /   2.0\r\n /UDP\r\n    192.0.2.2 : 5062 ;  branch = z9hG4bKx");
    QVERIFY2(via, qPrintable(describe(via)));
    QCOMPARE(bytes(via->protocolName), QByteArray("SIP"));
    QCOMPARE(bytes(via->protocolVersion), QByteArray("2.0"));
    QCOMPARE(bytes(via->transport), QByteArray("UDP"));
    QCOMPARE(bytes(via->host), QByteArray("192.0.2.2"));
    QCOMPARE(via->port, std::optional<quint16>(5062));
    QCOMPARE(bytes(via->branch()), QByteArray("z9hG4bKx"));
}

void TestVia::transportsAsWritten() {
    for (const char* transport : {"UDP", "TCP", "TLS", "SCTP", "WS", "WSS", "udp", "UNKNOWN"}) {
        const QByteArray text =
            QByteArray("SIP/2.0/") + transport + " t.example.com;branch=z9hG4bK1";
        Result<Via> via = Via::parse(text);
        QVERIFY2(via, qPrintable(describe(via)));
        QCOMPARE(bytes(via->transport), QByteArray(transport));
    }
}

void TestVia::invalid_data() {
    QTest::addColumn<QByteArray>("text");
    QTest::newRow("empty") << QByteArray();
    QTest::newRow("no transport") << QByteArray("SIP/2.0 host.example.com");
    QTest::newRow("no host") << QByteArray("SIP/2.0/UDP");
    QTest::newRow("no host, params") << QByteArray("SIP/2.0/UDP ;branch=z9hG4bK1");
    QTest::newRow("port too big") << QByteArray("SIP/2.0/UDP host.example.com:99999");
    QTest::newRow("port letters") << QByteArray("SIP/2.0/UDP host.example.com:5o60");
    QTest::newRow("unterminated v6") << QByteArray("SIP/2.0/UDP [2001:db8::1;branch=z9hG4bK1");
    QTest::newRow("just a semicolon") << QByteArray(";");  // RFC 4475 badinv01's list element
    QTest::newRow("empty params") << QByteArray("SIP/2.0/UDP 192.0.2.15;;");  // badinv01
    QTest::newRow("two hosts") << QByteArray("SIP/2.0/UDP a.example.com b.example.com");
    QTest::newRow("garbage") << QByteArray("not a via at all");
}

void TestVia::invalid() {
    QFETCH(QByteArray, text);
    Result<Via> via = Via::parse(text);
    QVERIFY2(!via, qPrintable(QStringLiteral("accepted \"%1\"").arg(QString::fromLatin1(text))));
    QVERIFY(!via.error().reason.isEmpty());
}

QTEST_GUILESS_MAIN(TestVia)
#include "tst_via.moc"
