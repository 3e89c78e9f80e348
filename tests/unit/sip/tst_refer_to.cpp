// The Replaces value (RFC 3891 §6.1) and the Refer-To URI of a pickup by REFER, with the
// escaping of RFC 3261 §19.1.1 headers in a URI.

#include <QTest>

#include "sip/name_addr.h"
#include "sip/refer_to.h"
#include "sip/typed_headers.h"
#include "sip/uri.h"
#include "sip_test_util.h"

using namespace sb;
using namespace sb::sip;
using namespace sb::sip::test;

namespace {

ReplacesTarget ringingDialog() {
    ReplacesTarget target;
    target.callId = "a84b4c76e66710@pc33.atlanta.example";
    target.toTag = "314159";
    target.fromTag = "9fxced76sl";
    return target;
}

}  // namespace

class TestReferTo : public QObject {
    Q_OBJECT

private slots:
    void replacesValue();
    void withoutEarlyOnly();
    void replacesRoundTrips();
    void badDialogsAreRefused_data();
    void badDialogsAreRefused();
    void headerValueEscaping();
    void referToEmbedsEscapedReplaces();
    void referToRoundTrips();
    void referToRefusesBadTargets_data();
    void referToRefusesBadTargets();
};

void TestReferTo::replacesValue() {
    Result<QByteArray> value = formatReplaces(ringingDialog());
    QVERIFY2(value, qPrintable(describe(value)));
    QCOMPARE(*value, QByteArray("a84b4c76e66710@pc33.atlanta.example;to-tag=314159;"
                                "from-tag=9fxced76sl;early-only"));
}

void TestReferTo::withoutEarlyOnly() {
    ReplacesTarget target = ringingDialog();
    target.earlyOnly = false;
    QVERIFY(!formatReplaces(target)->endsWith("early-only"));
}

void TestReferTo::replacesRoundTrips() {
    ReplacesTarget target = ringingDialog();
    target.callId = "weird\"(id)<x>@host";  // word characters that need care elsewhere
    Result<QByteArray> value = formatReplaces(target);
    QVERIFY2(value, qPrintable(describe(value)));
    Result<ReplacesHeader> parsed = ReplacesHeader::parse(*value);
    QVERIFY2(parsed, qPrintable(describe(parsed)));
    QCOMPARE(parsed->callId, QByteArrayView(target.callId));
    QCOMPARE(parsed->toTag, QByteArrayView(target.toTag));
    QCOMPARE(parsed->fromTag, QByteArrayView(target.fromTag));
    QVERIFY(parsed->earlyOnly);
}

void TestReferTo::badDialogsAreRefused_data() {
    QTest::addColumn<QByteArray>("callId");
    QTest::addColumn<QByteArray>("toTag");
    QTest::addColumn<QByteArray>("fromTag");
    QTest::newRow("no call-id") << QByteArray() << QByteArray("a") << QByteArray("b");
    QTest::newRow("space in call-id") << QByteArray("a b") << QByteArray("a") << QByteArray("b");
    QTest::newRow("semicolon in call-id")
        << QByteArray("a;to-tag=x") << QByteArray("a") << QByteArray("b");
    QTest::newRow("two @") << QByteArray("a@b@c") << QByteArray("a") << QByteArray("b");
    QTest::newRow("no to-tag (Asterisk)") << QByteArray("c1") << QByteArray() << QByteArray("b");
    QTest::newRow("no from-tag") << QByteArray("c1") << QByteArray("a") << QByteArray();
    QTest::newRow("tag with semicolon") << QByteArray("c1") << QByteArray("a;x") << QByteArray("b");
}

void TestReferTo::badDialogsAreRefused() {
    QFETCH(QByteArray, callId);
    QFETCH(QByteArray, toTag);
    QFETCH(QByteArray, fromTag);
    ReplacesTarget target{callId, toTag, fromTag, true};
    QVERIFY(!formatReplaces(target));
    QVERIFY(!referToWithReplaces("sip:201@127.0.0.1:5071", target));
}

void TestReferTo::headerValueEscaping() {
    QCOMPARE(escapeUriHeaderValue("abc-_.!~*'()[]/?:+$"), QByteArray("abc-_.!~*'()[]/?:+$"));
    QCOMPARE(escapeUriHeaderValue("a@b;c=d&e%f \"g\"<>,#"),
             QByteArray("a%40b%3Bc%3Dd%26e%25f%20%22g%22%3C%3E%2C%23"));
    QCOMPARE(escapeUriHeaderValue("\xc3\xa4"), QByteArray("%C3%A4"));
}

void TestReferTo::referToEmbedsEscapedReplaces() {
    Result<QByteArray> referTo = referToWithReplaces("sip:201@127.0.0.1:5071", ringingDialog());
    QVERIFY2(referTo, qPrintable(describe(referTo)));
    QCOMPARE(*referTo,
             QByteArray("<sip:201@127.0.0.1:5071?Replaces=a84b4c76e66710%40pc33.atlanta"
                        ".example%3Bto-tag%3D314159%3Bfrom-tag%3D9fxced76sl%3Bearly-only>"));
}

void TestReferTo::referToRoundTrips() {
    ReplacesTarget target = ringingDialog();
    target.callId = "x%y\"z@h";
    Result<QByteArray> referTo = referToWithReplaces("sip:201@127.0.0.1;transport=tcp", target);
    QVERIFY2(referTo, qPrintable(describe(referTo)));
    Result<NameAddr> parsed = NameAddr::parse(*referTo);
    QVERIFY2(parsed, qPrintable(describe(parsed)));
    QCOMPARE(parsed->uri.params.value("transport"), std::optional<QByteArrayView>("tcp"));
    const QByteArrayView headers = parsed->uri.headers;
    QVERIFY(headers.startsWith("Replaces="));
    const QByteArray decoded = percentDecode(headers.sliced(9));
    Result<ReplacesHeader> replaces = ReplacesHeader::parse(decoded);
    QVERIFY2(replaces, qPrintable(describe(replaces)));
    QCOMPARE(replaces->callId, QByteArrayView("x%y\"z@h"));
}

void TestReferTo::referToRefusesBadTargets_data() {
    QTest::addColumn<QByteArray>("target");
    QTest::newRow("empty") << QByteArray();
    QTest::newRow("tel") << QByteArray("tel:+4930123");
    QTest::newRow("angle bracket") << QByteArray("sip:a@b>");
    QTest::newRow("headers already") << QByteArray("sip:a@b?Subject=x");
}

void TestReferTo::referToRefusesBadTargets() {
    QFETCH(QByteArray, target);
    QVERIFY(!referToWithReplaces(target, ringingDialog()));
}

QTEST_APPLESS_MAIN(TestReferTo)
#include "tst_refer_to.moc"
