// NameAddr (RFC 3261 §20.10, §25.1 name-addr / addr-spec with header parameters) and
// splitCommaList.

#include <QTest>

#include "sip/name_addr.h"
#include "sip_test_util.h"

using namespace sb;
using namespace sb::sip;
using namespace sb::sip::test;

class TestNameAddr : public QObject {
    Q_OBJECT

private slots:
    void quotedDisplayName();
    void tokenDisplayName();
    void noDisplayName();
    void addrSpecParamsBelongToTheHeader();
    void nameAddrParamsBelongToTheUri();
    void escapesInDisplayName();
    void utf8DisplayName();
    void specialCharactersInsideQuotes();
    void noSpaceBeforeAngle();
    void whitespaceEverywhere();
    void ipv6AndContactParams();
    void uriHeadersInBrackets();
    void telAndOtherSchemes();
    void tagAbsentOrFlag();
    void diversionValue();
    void unquotedCommaInDisplayName();
    void invalid_data();
    void invalid();
    void splitCommaList_data();
    void splitCommaList();
};

void TestNameAddr::quotedDisplayName() {
    Result<NameAddr> na = NameAddr::parse("\"Alice Smith\" <sip:alice@atlanta.com>;tag=1928301774");
    QVERIFY2(na, qPrintable(describe(na)));
    QCOMPARE(bytes(na->display), QByteArray("\"Alice Smith\""));
    QCOMPARE(na->displayName(), QStringLiteral("Alice Smith"));
    QVERIFY(na->angleBrackets);
    QCOMPARE(bytes(na->uriText), QByteArray("sip:alice@atlanta.com"));
    QCOMPARE(bytes(na->uri.user), QByteArray("alice"));
    QCOMPARE(bytes(na->uri.host), QByteArray("atlanta.com"));
    QCOMPARE(bytes(na->tag()), QByteArray("1928301774"));
    QCOMPARE(bytes(na->params.raw()).trimmed(), QByteArray(";tag=1928301774"));
}

void TestNameAddr::tokenDisplayName() {
    Result<NameAddr> na = NameAddr::parse("Bob Jones <sip:bob@biloxi.com>");
    QVERIFY2(na, qPrintable(describe(na)));
    QCOMPARE(na->displayName(), QStringLiteral("Bob Jones"));
    QCOMPARE(bytes(na->uri.user), QByteArray("bob"));
    QVERIFY(na->tag().isEmpty());
    Result<NameAddr> single = NameAddr::parse("Reception <sip:desk@example.com>;tag=9");
    QVERIFY2(single, qPrintable(describe(single)));
    QCOMPARE(single->displayName(), QStringLiteral("Reception"));
    QCOMPARE(bytes(single->tag()), QByteArray("9"));
}

void TestNameAddr::noDisplayName() {
    Result<NameAddr> na = NameAddr::parse("<sip:bob@biloxi.com>;tag=a6c85cf");
    QVERIFY2(na, qPrintable(describe(na)));
    QVERIFY(na->display.isEmpty());
    QVERIFY(na->displayName().isEmpty());
    QVERIFY(na->angleBrackets);
    QCOMPARE(bytes(na->tag()), QByteArray("a6c85cf"));
}

// RFC 3261 §20.10: without <>, parameters after the URI are header parameters.
void TestNameAddr::addrSpecParamsBelongToTheHeader() {
    Result<NameAddr> na = NameAddr::parse("sip:bob@biloxi.com;tag=a6c85cf;expires=30");
    QVERIFY2(na, qPrintable(describe(na)));
    QVERIFY(!na->angleBrackets);
    QVERIFY(na->display.isEmpty());
    QCOMPARE(bytes(na->uriText), QByteArray("sip:bob@biloxi.com"));
    QVERIFY(na->uri.params.isEmpty());
    QCOMPARE(bytes(na->tag()), QByteArray("a6c85cf"));
    QCOMPARE(bytes(na->params.value("expires").value_or("<absent>")), QByteArray("30"));
    Result<NameAddr> port = NameAddr::parse("sip:bob@192.0.2.4:5060;tag=x");
    QVERIFY2(port, qPrintable(describe(port)));
    QCOMPARE(port->uri.port, std::optional<quint16>(5060));
    QCOMPARE(bytes(port->tag()), QByteArray("x"));
}

void TestNameAddr::nameAddrParamsBelongToTheUri() {
    Result<NameAddr> na =
        NameAddr::parse("<sip:+19725552222@gw1.example.net;user=phone;lr>;tag=t;q=0.5");
    QVERIFY2(na, qPrintable(describe(na)));
    QCOMPARE(bytes(na->uriText), QByteArray("sip:+19725552222@gw1.example.net;user=phone;lr"));
    QVERIFY(na->uri.params.has("user"));
    QVERIFY(na->uri.params.has("lr"));
    QVERIFY(!na->uri.params.has("tag"));
    QVERIFY(!na->params.has("user"));
    QCOMPARE(bytes(na->params.value("q").value_or("<absent>")), QByteArray("0.5"));
    QCOMPARE(bytes(na->tag()), QByteArray("t"));
}

// RFC 3261 §25.1 quoted-pair inside the display name.
void TestNameAddr::escapesInDisplayName() {
    Result<NameAddr> na = NameAddr::parse("\"a \\\"b\\\" \\\\c\" <sip:x@example.com>");
    QVERIFY2(na, qPrintable(describe(na)));
    QCOMPARE(na->displayName(), QStringLiteral("a \"b\" \\c"));
    QCOMPARE(bytes(na->display), QByteArray("\"a \\\"b\\\" \\\\c\""));
}

void TestNameAddr::utf8DisplayName() {
    Result<NameAddr> na = NameAddr::parse("\"Zoë Müller – Empfang\" <sip:zoe@example.com>");
    QVERIFY2(na, qPrintable(describe(na)));
    QCOMPARE(na->displayName(), QString::fromUtf8("Zoë Müller – Empfang"));
}

void TestNameAddr::specialCharactersInsideQuotes() {
    Result<NameAddr> na =
        NameAddr::parse("\"<not a uri>, ;tag=fake\" <sip:real@example.com>;tag=real");
    QVERIFY2(na, qPrintable(describe(na)));
    QCOMPARE(na->displayName(), QStringLiteral("<not a uri>, ;tag=fake"));
    QCOMPARE(bytes(na->uri.user), QByteArray("real"));
    QCOMPARE(bytes(na->tag()), QByteArray("real"));
}

// RFC 4475 §3.1.1.6: "caller<sip:...>" is accepted.
void TestNameAddr::noSpaceBeforeAngle() {
    Result<NameAddr> na = NameAddr::parse("caller<sip:caller@example.com>;tag=323");
    QVERIFY2(na, qPrintable(describe(na)));
    QCOMPARE(na->displayName(), QStringLiteral("caller"));
    QCOMPARE(bytes(na->uri.user), QByteArray("caller"));
    QCOMPARE(bytes(na->tag()), QByteArray("323"));
    Result<NameAddr> quoted = NameAddr::parse("\"caller\"<sip:caller@example.com>");
    QVERIFY2(quoted, qPrintable(describe(quoted)));
    QCOMPARE(quoted->displayName(), QStringLiteral("caller"));
}

void TestNameAddr::whitespaceEverywhere() {
    Result<NameAddr> na =
        NameAddr::parse("  \"Desk\"   <sip:desk@example.com>  ;  tag = abc ;lr  ");
    QVERIFY2(na, qPrintable(describe(na)));
    QCOMPARE(na->displayName(), QStringLiteral("Desk"));
    QCOMPARE(bytes(na->tag()), QByteArray("abc"));
    QVERIFY(na->params.has("lr"));
    // Folded, as in RFC 4475 wsinv.
    Result<NameAddr> folded =
        NameAddr::parse("\"J\"       <sip:j@example.com>\r\n  ;\r\n  tag = 98asjd8");
    QVERIFY2(folded, qPrintable(describe(folded)));
    QCOMPARE(bytes(folded->tag()), QByteArray("98asjd8"));
}

void TestNameAddr::ipv6AndContactParams() {
    Result<NameAddr> na = NameAddr::parse(
        "<sip:op@[2001:db8::1]:5070;transport=tcp>;expires=3600;q=0.7;+sip.instance="
        "\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\"");
    QVERIFY2(na, qPrintable(describe(na)));
    QCOMPARE(bytes(na->uri.host), QByteArray("2001:db8::1"));
    QVERIFY(na->uri.ipv6Reference);
    QCOMPARE(na->uri.port, std::optional<quint16>(5070));
    QCOMPARE(na->uri.transportParam(), QByteArray("tcp"));
    QCOMPARE(bytes(na->params.value("expires").value_or("<absent>")), QByteArray("3600"));
    QCOMPARE(bytes(na->params.value("q").value_or("<absent>")), QByteArray("0.7"));
    QCOMPARE(unquote(na->params.value("+sip.instance").value_or("")),
             QByteArray("<urn:uuid:00000000-0000-1000-8000-000A95A0E128>"));
}

void TestNameAddr::uriHeadersInBrackets() {
    Result<NameAddr> na = NameAddr::parse(
        "<sip:desk@example.com?Replaces=abc%40h%3Bto-tag%3D1%3Bfrom-tag%3D2&Priority=urgent>");
    QVERIFY2(na, qPrintable(describe(na)));
    QCOMPARE(bytes(na->uri.headers),
             QByteArray("Replaces=abc%40h%3Bto-tag%3D1%3Bfrom-tag%3D2&Priority=urgent"));
    QVERIFY(na->params.isEmpty());
}

void TestNameAddr::telAndOtherSchemes() {
    Result<NameAddr> tel = NameAddr::parse("\"Gateway\" <tel:+1-201-555-0123>;tag=t1");
    QVERIFY2(tel, qPrintable(describe(tel)));
    QCOMPARE(tel->uri.scheme, UriScheme::Tel);
    QCOMPARE(bytes(tel->uri.user), QByteArray("+1-201-555-0123"));
    QCOMPARE(bytes(tel->tag()), QByteArray("t1"));
    Result<NameAddr> http = NameAddr::parse("<http://www.example.com>;tag=3234233");
    QVERIFY2(http, qPrintable(describe(http)));
    QCOMPARE(http->uri.scheme, UriScheme::Other);
    QCOMPARE(bytes(http->uriText), QByteArray("http://www.example.com"));
    QCOMPARE(bytes(http->tag()), QByteArray("3234233"));
}

void TestNameAddr::tagAbsentOrFlag() {
    QVERIFY(NameAddr::parse("<sip:a@example.com>")->tag().isEmpty());
    QVERIFY(NameAddr::parse("<sip:a@example.com>;tag")->tag().isEmpty());
    QVERIFY(NameAddr::parse("<sip:a@example.com;tag=uri-param>")->tag().isEmpty());
    QCOMPARE(bytes(NameAddr::parse("<sip:a@example.com>;TAG=upper")->tag()), QByteArray("upper"));
}

// RFC 5806: Diversion entries are name-addrs with parameters.
void TestNameAddr::diversionValue() {
    Result<NameAddr> na = NameAddr::parse(
        "<sip:desk@example.com>;reason=unconditional;counter=1;privacy=off;screen=no");
    QVERIFY2(na, qPrintable(describe(na)));
    QCOMPARE(bytes(na->params.value("reason").value_or("<absent>")), QByteArray("unconditional"));
    QCOMPARE(bytes(na->params.value("counter").value_or("<absent>")), QByteArray("1"));
    QCOMPARE(bytes(na->params.value("privacy").value_or("<absent>")), QByteArray("off"));
}

// RFC 4475 §3.1.2.15 (baddn): "reasonable always to reject"; a liberal parser may infer
// the quotes. Either way the comma must not be lost or split the value.
void TestNameAddr::unquotedCommaInDisplayName() {
    Result<NameAddr> na = NameAddr::parse("Bell, Alexander <sip:a.g.bell@example.com>;tag=43");
    if (!na) {
        QVERIFY(!na.error().reason.isEmpty());
        return;
    }
    QCOMPARE(na->displayName(), QStringLiteral("Bell, Alexander"));
    QCOMPARE(bytes(na->uri.user), QByteArray("a.g.bell"));
    QCOMPARE(bytes(na->tag()), QByteArray("43"));
}

void TestNameAddr::invalid_data() {
    QTest::addColumn<QByteArray>("text");
    QTest::newRow("empty") << QByteArray();
    QTest::newRow("blank") << QByteArray("   ");
    QTest::newRow("unterminated quote")  // RFC 4475 quotbal
        << QByteArray("\"Mr. J. Desk <sip:j.desk@example.com>");
    QTest::newRow("unclosed angle") << QByteArray("<sip:desk@example.com");
    QTest::newRow("empty angle") << QByteArray("Desk <>");
    QTest::newRow("no scheme in angle") << QByteArray("<not a uri>");
    QTest::newRow("display without uri") << QByteArray("\"Desk\"");
    QTest::newRow("two uris") << QByteArray("<sip:a@example.com> <sip:b@example.com>");
    QTest::newRow("bad uri port") << QByteArray("<sip:a@example.com:99999>");
}

void TestNameAddr::invalid() {
    QFETCH(QByteArray, text);
    Result<NameAddr> na = NameAddr::parse(text);
    QVERIFY2(!na, qPrintable(QStringLiteral("accepted \"%1\"").arg(QString::fromUtf8(text))));
    QVERIFY(!na.error().reason.isEmpty());
}

void TestNameAddr::splitCommaList_data() {
    QTest::addColumn<QByteArray>("value");
    QTest::addColumn<QList<QByteArray>>("parts");
    QTest::newRow("simple") << QByteArray("a, b ,c") << QList<QByteArray>{"a", "b", "c"};
    QTest::newRow("empty elements dropped") << QByteArray(", ,a,,") << QList<QByteArray>{"a"};
    QTest::newRow("empty") << QByteArray("") << QList<QByteArray>{};
    QTest::newRow("quoted comma")
        << QByteArray("\"Smith, John\" <sip:js@example.com>, <sip:b@example.com>")
        << QList<QByteArray>{"\"Smith, John\" <sip:js@example.com>", "<sip:b@example.com>"};
    QTest::newRow("comma in angle brackets")
        << QByteArray("<sip:a@example.com;x=1,2>;q=0.1,<sip:b@example.com>")
        << QList<QByteArray>{"<sip:a@example.com;x=1,2>;q=0.1", "<sip:b@example.com>"};
    QTest::newRow("escaped quote")
        << QByteArray("\"a\\\", b\" <sip:a@example.com>, sip:c@example.com")
        << QList<QByteArray>{"\"a\\\", b\" <sip:a@example.com>", "sip:c@example.com"};
    QTest::newRow("folded") << QByteArray("timer,\r\n 100rel,\r\n\treplaces")
                            << QList<QByteArray>{"timer", "100rel", "replaces"};
    QTest::newRow("quoted param value")
        << QByteArray("<sip:a@x>;text=\"a, b\", <sip:b@x>")
        << QList<QByteArray>{"<sip:a@x>;text=\"a, b\"", "<sip:b@x>"};
}

void TestNameAddr::splitCommaList() {
    QFETCH(QByteArray, value);
    QFETCH(QList<QByteArray>, parts);
    const ValueList got = sb::sip::splitCommaList(value);
    QList<QByteArray> list;
    for (QByteArrayView part : got)
        list << part.toByteArray();
    QCOMPARE(list, parts);
}

QTEST_GUILESS_MAIN(TestNameAddr)
#include "tst_name_addr.moc"
