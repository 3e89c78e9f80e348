// Uri (RFC 3261 §19.1, RFC 3966 tel, RFC 5118 IPv6 references): parsing of every part,
// the helpers, §19.1.4 comparison and percent-decoding.

#include <QTest>

#include "sip/uri.h"
#include "sip_test_util.h"

using namespace sb;
using namespace sb::sip;
using namespace sb::sip::test;

Q_DECLARE_METATYPE(sb::sip::UriScheme)

namespace {

Uri parsed(QByteArrayView text) {
    Result<Uri> uri = Uri::parse(text);
    return uri ? *uri : Uri{};
}

}  // namespace

class TestUri : public QObject {
    Q_OBJECT

private slots:
    void simpleSip();
    void everyPart();
    void rfc3261Examples_data();
    void rfc3261Examples();
    void ipv6References_data();
    void ipv6References();
    void telUris();
    void otherSchemes_data();
    void otherSchemes();
    void schemeIsCaseInsensitive();
    void userWithReservedCharacters();
    void ports_data();
    void ports();
    void invalid_data();
    void invalid();
    void hostPort();
    void addressOfRecord();
    void transportParam();
    void equivalent_data();
    void equivalent();
    void percentDecoding();
    void viewsIntoTheInput();
};

void TestUri::simpleSip() {
    Result<Uri> uri = Uri::parse("sip:alice@atlanta.com");
    QVERIFY2(uri, qPrintable(describe(uri)));
    QCOMPARE(uri->scheme, UriScheme::Sip);
    QVERIFY(uri->isSip());
    QCOMPARE(bytes(uri->text), QByteArray("sip:alice@atlanta.com"));
    QCOMPARE(bytes(uri->schemeText), QByteArray("sip"));
    QCOMPARE(bytes(uri->user), QByteArray("alice"));
    QVERIFY(uri->password.isEmpty());
    QCOMPARE(bytes(uri->host), QByteArray("atlanta.com"));
    QVERIFY(!uri->ipv6Reference);
    QVERIFY(!uri->port.has_value());
    QVERIFY(uri->params.isEmpty());
    QVERIFY(uri->headers.isEmpty());
}

void TestUri::everyPart() {
    Result<Uri> uri = Uri::parse(
        "sips:alice:secretword@[2001:db8::10]:5061;transport=tcp;lr;maddr=239.255.255.1"
        "?subject=project%20x&priority=urgent");
    QVERIFY2(uri, qPrintable(describe(uri)));
    QCOMPARE(uri->scheme, UriScheme::Sips);
    QVERIFY(uri->isSip());
    QCOMPARE(bytes(uri->user), QByteArray("alice"));
    QCOMPARE(bytes(uri->password), QByteArray("secretword"));
    QCOMPARE(bytes(uri->host), QByteArray("2001:db8::10"));
    QVERIFY(uri->ipv6Reference);
    QCOMPARE(uri->port, std::optional<quint16>(5061));
    QCOMPARE(bytes(uri->params.value("transport").value_or("<absent>")), QByteArray("tcp"));
    QVERIFY(uri->params.has("lr"));
    QCOMPARE(bytes(uri->params.value("maddr").value_or("<absent>")), QByteArray("239.255.255.1"));
    QVERIFY(!uri->params.has("subject"));
    QCOMPARE(bytes(uri->headers), QByteArray("subject=project%20x&priority=urgent"));
}

void TestUri::rfc3261Examples_data() {
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QByteArray>("user");
    QTest::addColumn<QByteArray>("password");
    QTest::addColumn<QByteArray>("host");
    QTest::addColumn<int>("port");  // -1: none
    QTest::addColumn<QByteArray>("params");
    QTest::addColumn<QByteArray>("headers");
    // RFC 3261 §19.1.3
    QTest::newRow("alice") << QByteArray("sip:alice@atlanta.com") << QByteArray("alice")
                           << QByteArray() << QByteArray("atlanta.com") << -1 << QByteArray()
                           << QByteArray();
    QTest::newRow("password+transport")
        << QByteArray("sip:alice:secretword@atlanta.com;transport=tcp") << QByteArray("alice")
        << QByteArray("secretword") << QByteArray("atlanta.com") << -1
        << QByteArray(";transport=tcp") << QByteArray();
    QTest::newRow("sips headers")
        << QByteArray("sips:alice@atlanta.com?subject=project%20x&priority=urgent")
        << QByteArray("alice") << QByteArray() << QByteArray("atlanta.com") << -1 << QByteArray()
        << QByteArray("subject=project%20x&priority=urgent");
    QTest::newRow("telephone user")
        << QByteArray("sip:+1-212-555-1212:1234@gateway.com;user=phone")
        << QByteArray("+1-212-555-1212") << QByteArray("1234") << QByteArray("gateway.com") << -1
        << QByteArray(";user=phone") << QByteArray();
    QTest::newRow("sips 1212") << QByteArray("sips:1212@gateway.com") << QByteArray("1212")
                               << QByteArray() << QByteArray("gateway.com") << -1 << QByteArray()
                               << QByteArray();
    QTest::newRow("ipv4") << QByteArray("sip:alice@192.0.2.4") << QByteArray("alice")
                          << QByteArray() << QByteArray("192.0.2.4") << -1 << QByteArray()
                          << QByteArray();
    QTest::newRow("no user, method")
        << QByteArray("sip:atlanta.com;method=REGISTER?to=alice%40atlanta.com") << QByteArray()
        << QByteArray() << QByteArray("atlanta.com") << -1 << QByteArray(";method=REGISTER")
        << QByteArray("to=alice%40atlanta.com");
    QTest::newRow("semicolon in user")
        << QByteArray("sip:alice;day=tuesday@atlanta.com") << QByteArray("alice;day=tuesday")
        << QByteArray() << QByteArray("atlanta.com") << -1 << QByteArray() << QByteArray();
    QTest::newRow("host and port")
        << QByteArray("sip:192.0.2.4:5070") << QByteArray() << QByteArray()
        << QByteArray("192.0.2.4") << 5070 << QByteArray() << QByteArray();
    QTest::newRow("user host port params")
        << QByteArray("sip:op@pbx.example.com:5080;transport=udp;lr") << QByteArray("op")
        << QByteArray() << QByteArray("pbx.example.com") << 5080 << QByteArray(";transport=udp;lr")
        << QByteArray();
}

void TestUri::rfc3261Examples() {
    QFETCH(QByteArray, text);
    QFETCH(QByteArray, user);
    QFETCH(QByteArray, password);
    QFETCH(QByteArray, host);
    QFETCH(int, port);
    QFETCH(QByteArray, params);
    QFETCH(QByteArray, headers);
    Result<Uri> uri = Uri::parse(text);
    QVERIFY2(uri, qPrintable(describe(uri)));
    QVERIFY(uri->isSip());
    QCOMPARE(bytes(uri->user), user);
    QCOMPARE(bytes(uri->password), password);
    QCOMPARE(bytes(uri->host), host);
    QCOMPARE(uri->port.has_value(), port >= 0);
    if (port >= 0) QCOMPARE(int(*uri->port), port);
    QCOMPARE(bytes(uri->params.raw()), params);
    QCOMPARE(bytes(uri->headers), headers);
}

// RFC 3261 §19.1.1 and RFC 5118 (IPv6 torture tests): IPv6 references in brackets.
void TestUri::ipv6References_data() {
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QByteArray>("host");
    QTest::addColumn<int>("port");
    QTest::newRow("loopback") << QByteArray("sip:[::1]") << QByteArray("::1") << -1;
    QTest::newRow("user port") << QByteArray("sip:op@[2001:db8::9]:5060")
                               << QByteArray("2001:db8::9") << 5060;
    QTest::newRow("params") << QByteArray("sip:op@[2001:db8::1];transport=tcp")
                            << QByteArray("2001:db8::1") << -1;
    QTest::newRow("full form") << QByteArray("sip:[2001:db8:0:0:1:0:0:1]:5070")
                               << QByteArray("2001:db8:0:0:1:0:0:1") << 5070;
    // RFC 5118 §4.3: inside the brackets ":5070" is part of the address, not a port.
    QTest::newRow("port-looking group")
        << QByteArray("sip:user@[2001:db8::10:5070]") << QByteArray("2001:db8::10:5070") << -1;
    QTest::newRow("port after bracket")
        << QByteArray("sip:user@[2001:db8::10]:5070") << QByteArray("2001:db8::10") << 5070;
    QTest::newRow("v4-mapped") << QByteArray("sips:user@[::ffff:192.0.2.128]")
                               << QByteArray("::ffff:192.0.2.128") << -1;
}

void TestUri::ipv6References() {
    QFETCH(QByteArray, text);
    QFETCH(QByteArray, host);
    QFETCH(int, port);
    Result<Uri> uri = Uri::parse(text);
    QVERIFY2(uri, qPrintable(describe(uri)));
    QVERIFY(uri->ipv6Reference);
    QCOMPARE(bytes(uri->host), host);
    QCOMPARE(uri->port.has_value(), port >= 0);
    if (port >= 0) QCOMPARE(int(*uri->port), port);
}

// RFC 3966: the number is the "user"; parameters follow ';'.
void TestUri::telUris() {
    Result<Uri> global = Uri::parse("tel:+1-201-555-0123");
    QVERIFY2(global, qPrintable(describe(global)));
    QCOMPARE(global->scheme, UriScheme::Tel);
    QVERIFY(!global->isSip());
    QCOMPARE(bytes(global->schemeText), QByteArray("tel"));
    QCOMPARE(bytes(global->user), QByteArray("+1-201-555-0123"));
    QVERIFY(global->host.isEmpty());

    Result<Uri> local = Uri::parse("tel:7042;phone-context=example.com");
    QVERIFY2(local, qPrintable(describe(local)));
    QCOMPARE(local->scheme, UriScheme::Tel);
    QCOMPARE(bytes(local->user), QByteArray("7042"));
    QCOMPARE(bytes(local->params.value("phone-context").value_or("<absent>")),
             QByteArray("example.com"));
}

void TestUri::otherSchemes_data() {
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QByteArray>("scheme");
    QTest::newRow("http") << QByteArray("http://www.example.com") << QByteArray("http");
    QTest::newRow("urn") << QByteArray("urn:service:sos") << QByteArray("urn");
    QTest::newRow("mailto") << QByteArray("mailto:desk@example.com") << QByteArray("mailto");
    QTest::newRow("isbn") << QByteArray("isbn:2983792873") << QByteArray("isbn");
    QTest::newRow("soap.beep") << QByteArray("soap.beep://192.0.2.103:3002")
                               << QByteArray("soap.beep");
    QTest::newRow("im") << QByteArray("im:desk@example.com") << QByteArray("im");
}

// Unknown schemes parse (RFC 4475 §3.3.2-§3.3.4): only text and schemeText are set.
void TestUri::otherSchemes() {
    QFETCH(QByteArray, text);
    QFETCH(QByteArray, scheme);
    Result<Uri> uri = Uri::parse(text);
    QVERIFY2(uri, qPrintable(describe(uri)));
    QCOMPARE(uri->scheme, UriScheme::Other);
    QVERIFY(!uri->isSip());
    QCOMPARE(bytes(uri->schemeText), scheme);
    QCOMPARE(bytes(uri->text), text);
}

// RFC 3261 §19.1.4: scheme names are case-insensitive.
void TestUri::schemeIsCaseInsensitive() {
    Result<Uri> upper = Uri::parse("SIP:ALICE@AtLanTa.CoM;Transport=UDP");
    QVERIFY2(upper, qPrintable(describe(upper)));
    QCOMPARE(upper->scheme, UriScheme::Sip);
    QCOMPARE(bytes(upper->schemeText), QByteArray("SIP"));
    QCOMPARE(bytes(upper->user), QByteArray("ALICE"));
    QCOMPARE(bytes(upper->host), QByteArray("AtLanTa.CoM"));
    QCOMPARE(parsed("Sips:a@b.example.com").scheme, UriScheme::Sips);
    QCOMPARE(parsed("TEL:+4930123").scheme, UriScheme::Tel);
}

// RFC 3261 §25.1 user-unreserved and password characters (RFC 4475 §3.1.1.2).
void TestUri::userWithReservedCharacters() {
    Result<Uri> uri = Uri::parse(
        "sip:1_odd.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d"
        "@example.com;lr");
    QVERIFY2(uri, qPrintable(describe(uri)));
    QCOMPARE(bytes(uri->user), QByteArray("1_odd.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"));
    QCOMPARE(bytes(uri->password), QByteArray("&it+has=1,weird!*pas$wo~d"));
    QCOMPARE(bytes(uri->host), QByteArray("example.com"));
    QVERIFY(uri->params.has("lr"));
    QVERIFY(uri->headers.isEmpty());
}

void TestUri::ports_data() {
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<int>("port");
    QTest::newRow("1") << QByteArray("sip:h.example.com:1") << true << 1;
    QTest::newRow("5060") << QByteArray("sip:h.example.com:5060") << true << 5060;
    QTest::newRow("65535") << QByteArray("sip:h.example.com:65535") << true << 65535;
    QTest::newRow("65536") << QByteArray("sip:h.example.com:65536") << false << 0;
    QTest::newRow("99999") << QByteArray("sip:h.example.com:99999") << false << 0;
    QTest::newRow("4294967296+5060") << QByteArray("sip:h.example.com:4295022356") << false << 0;
    QTest::newRow("empty") << QByteArray("sip:h.example.com:") << false << 0;
    QTest::newRow("letters") << QByteArray("sip:h.example.com:50x0") << false << 0;
    QTest::newRow("negative") << QByteArray("sip:h.example.com:-1") << false << 0;
    QTest::newRow("v6 65536") << QByteArray("sip:[::1]:65536") << false << 0;
}

void TestUri::ports() {
    QFETCH(QByteArray, text);
    QFETCH(bool, ok);
    QFETCH(int, port);
    Result<Uri> uri = Uri::parse(text);
    QCOMPARE(bool(uri), ok);
    if (ok) {
        QCOMPARE(uri->port, std::optional<quint16>(quint16(port)));
    } else {
        QVERIFY(!uri.error().reason.isEmpty());
    }
}

void TestUri::invalid_data() {
    QTest::addColumn<QByteArray>("text");
    QTest::newRow("empty") << QByteArray();
    QTest::newRow("no scheme") << QByteArray("alice@atlanta.com");
    QTest::newRow("scheme only") << QByteArray("sip:");
    QTest::newRow("user but no host") << QByteArray("sip:alice@");
    QTest::newRow("space in host") << QByteArray("sip:alice@atlanta .com");
    QTest::newRow("space in user") << QByteArray("sip:al ice@atlanta.com");
    QTest::newRow("angle brackets") << QByteArray("<sip:desk@example.com>");  // RFC 4475 ltgtruri
    QTest::newRow("unterminated v6") << QByteArray("sip:[2001:db8::1");
    QTest::newRow("v6 without brackets and port") << QByteArray("sip:2001:db8::1:5060");
    QTest::newRow("bad v6") << QByteArray("sip:[2001:db8:::::zz]");
    QTest::newRow("scheme with space") << QByteArray("si p:alice@atlanta.com");
    QTest::newRow("scheme starting with digit") << QByteArray("1sip:alice@atlanta.com");
    QTest::newRow("lws before params") << QByteArray("sip:desk@example.com; lr");  // lwsruri
}

void TestUri::invalid() {
    QFETCH(QByteArray, text);
    Result<Uri> uri = Uri::parse(text);
    QVERIFY2(!uri, qPrintable(QStringLiteral("accepted \"%1\"").arg(QString::fromLatin1(text))));
    QVERIFY(!uri.error().reason.isEmpty());
}

void TestUri::hostPort() {
    QCOMPARE(parsed("sip:alice@atlanta.com").hostPort(), QByteArray("atlanta.com"));
    QCOMPARE(parsed("sip:alice@atlanta.com:5070;lr").hostPort(), QByteArray("atlanta.com:5070"));
    QCOMPARE(parsed("sip:[2001:db8::1]").hostPort(), QByteArray("[2001:db8::1]"));
    QCOMPARE(parsed("sips:op@[2001:db8::1]:5061").hostPort(), QByteArray("[2001:db8::1]:5061"));
    QCOMPARE(parsed("sip:192.0.2.4:5060").hostPort(), QByteArray("192.0.2.4:5060"));
}

// scheme:user@host without port or parameters, for matching AORs.
void TestUri::addressOfRecord() {
    const QByteArray aor = parsed("sip:Alice@Atlanta.com:5060;transport=tcp?x=y").addressOfRecord();
    QVERIFY2(aor.startsWith("sip:Alice@"), aor.constData());
    QCOMPARE(aor.mid(10).toLower(), QByteArray("atlanta.com"));
    QCOMPARE(parsed("sips:bob@biloxi.com").addressOfRecord(), QByteArray("sips:bob@biloxi.com"));
    QCOMPARE(parsed("sip:example.com;lr").addressOfRecord(), QByteArray("sip:example.com"));
    QCOMPARE(parsed("sip:op:secret@example.com").addressOfRecord(),
             QByteArray("sip:op@example.com"));
    // The same AOR from differently written URIs.
    QCOMPARE(parsed("sip:desk@example.com:5060").addressOfRecord(),
             parsed("sip:desk@example.com;transport=udp").addressOfRecord());
}

void TestUri::transportParam() {
    QCOMPARE(parsed("sip:a@b.example.com;transport=TCP").transportParam(), QByteArray("tcp"));
    QCOMPARE(parsed("sip:a@b.example.com;Transport=Udp").transportParam(), QByteArray("udp"));
    QCOMPARE(parsed("sip:a@b.example.com;lr").transportParam(), QByteArray());
    QCOMPARE(parsed("sip:a@b.example.com").transportParam(), QByteArray());
}

void TestUri::equivalent_data() {
    QTest::addColumn<QByteArray>("a");
    QTest::addColumn<QByteArray>("b");
    QTest::addColumn<bool>("same");
    // RFC 3261 §19.1.4, the equivalent examples.
    QTest::newRow("escaped user, host case, transport case")
        << QByteArray("sip:%61lice@atlanta.com;transport=TCP")
        << QByteArray("sip:alice@AtLanTa.CoM;Transport=tcp") << true;
    QTest::newRow("unknown params only on one side")
        << QByteArray("sip:carol@chicago.com") << QByteArray("sip:carol@chicago.com;newparam=5")
        << true;
    QTest::newRow("unknown params on different sides")
        << QByteArray("sip:carol@chicago.com;security=on")
        << QByteArray("sip:carol@chicago.com;newparam=5") << true;
    QTest::newRow("parameter order")
        << QByteArray("sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com")
        << QByteArray("sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com")
        << true;
    QTest::newRow("header order")
        << QByteArray("sip:alice@atlanta.com?subject=project%20x&priority=urgent")
        << QByteArray("sip:alice@atlanta.com?priority=urgent&subject=project%20x") << true;
    QTest::newRow("identical") << QByteArray("sip:desk@example.com")
                               << QByteArray("sip:desk@example.com") << true;
    // RFC 3261 §19.1.4, the non-equivalent examples.
    QTest::newRow("user case") << QByteArray("SIP:ALICE@AtLanTa.CoM;Transport=udp")
                               << QByteArray("sip:alice@AtLanTa.CoM;Transport=UDP") << false;
    QTest::newRow("explicit port")
        << QByteArray("sip:bob@biloxi.com") << QByteArray("sip:bob@biloxi.com:5060") << false;
    QTest::newRow("transport only on one side")
        << QByteArray("sip:bob@biloxi.com") << QByteArray("sip:bob@biloxi.com;transport=udp")
        << false;
    QTest::newRow("port and transport")
        << QByteArray("sip:bob@biloxi.com") << QByteArray("sip:bob@biloxi.com:6000;transport=tcp")
        << false;
    QTest::newRow("header only on one side")
        << QByteArray("sip:carol@chicago.com")
        << QByteArray("sip:carol@chicago.com?Subject=next%20meeting") << false;
    QTest::newRow("host vs address")
        << QByteArray("sip:bob@phone21.boxesbybob.com") << QByteArray("sip:bob@192.0.2.4") << false;
    // More of the same rules.
    QTest::newRow("same param, different values")
        << QByteArray("sip:carol@chicago.com;security=on")
        << QByteArray("sip:carol@chicago.com;security=off") << false;
    QTest::newRow("sip vs sips") << QByteArray("sip:desk@example.com")
                                 << QByteArray("sips:desk@example.com") << false;
    QTest::newRow("user=phone on one side") << QByteArray("sip:+1234@example.com;user=phone")
                                            << QByteArray("sip:+1234@example.com") << false;
    QTest::newRow("maddr on one side") << QByteArray("sip:desk@example.com;maddr=192.0.2.1")
                                       << QByteArray("sip:desk@example.com") << false;
    QTest::newRow("different ports") << QByteArray("sip:desk@example.com:5060")
                                     << QByteArray("sip:desk@example.com:5070") << false;
    QTest::newRow("password differs")
        << QByteArray("sip:desk:a@example.com") << QByteArray("sip:desk:b@example.com") << false;
    QTest::newRow("escaped vs plain user %00")
        << QByteArray("sip:%00@host5.example.com") << QByteArray("sip:%00%00@host5.example.com")
        << false;
    QTest::newRow("v6 case") << QByteArray("sip:[2001:DB8::1]") << QByteArray("sip:[2001:db8::1]")
                             << true;
}

void TestUri::equivalent() {
    QFETCH(QByteArray, a);
    QFETCH(QByteArray, b);
    QFETCH(bool, same);
    Result<Uri> ua = Uri::parse(a);
    Result<Uri> ub = Uri::parse(b);
    QVERIFY2(ua, qPrintable(describe(ua)));
    QVERIFY2(ub, qPrintable(describe(ub)));
    QCOMPARE(uriEquivalent(*ua, *ub), same);
    QCOMPARE(uriEquivalent(*ub, *ua), same);  // symmetric
    QVERIFY(uriEquivalent(*ua, *ua));
}

void TestUri::percentDecoding() {
    QCOMPARE(percentDecode("%41%62c"), QByteArray("Abc"));
    QCOMPARE(percentDecode("%3a%3A"), QByteArray("::"));
    QCOMPARE(percentDecode("I%20have%20spaces"), QByteArray("I have spaces"));
    QCOMPARE(percentDecode("null-%00-null"), QByteArray("null-\0-null", 11));
    QCOMPARE(percentDecode("v%61lue%25%34%31"), QByteArray("value%41"));  // not recursive
    QCOMPARE(percentDecode("plain"), QByteArray("plain"));
    QCOMPARE(percentDecode(""), QByteArray());
    // Not escapes: left as written (RFC 4475 §3.1.1.5 "%Z%45" style).
    QCOMPARE(percentDecode("%zz"), QByteArray("%zz"));
    QCOMPARE(percentDecode("100%"), QByteArray("100%"));
    QCOMPARE(percentDecode("%4"), QByteArray("%4"));
    QCOMPARE(percentDecode("%Z%45"), QByteArray("%ZE"));
}

// The parts are views into the text given to parse().
void TestUri::viewsIntoTheInput() {
    const QByteArray text("sip:op:pw@pbx.example.com:5080;lr?h=v");
    Result<Uri> uri = Uri::parse(text);
    QVERIFY(uri);
    for (QByteArrayView part : {uri->text, uri->schemeText, uri->user, uri->password, uri->host,
                                uri->params.raw(), uri->headers}) {
        QVERIFY(part.data() >= text.constData());
        QVERIFY(part.data() + part.size() <= text.constData() + text.size());
    }
}

QTEST_GUILESS_MAIN(TestUri)
#include "tst_uri.moc"
