// CSeq (RFC 3261 §20.16), Event (RFC 6665 §8.2.1), Subscription-State (RFC 6665
// §8.2.3), Replaces (RFC 3891 §6.1) and the overflow-checked decimal parser.

#include <QTest>

#include "sip/typed_headers.h"
#include "sip_test_util.h"

using namespace sb;
using namespace sb::sip;
using namespace sb::sip::test;

class TestTypedHeaders : public QObject {
    Q_OBJECT

private slots:
    void unsignedValues_data();
    void unsignedValues();
    void cseq_data();
    void cseq();
    void cseqInvalid_data();
    void cseqInvalid();
    void event();
    void eventInvalid();
    void subscriptionState();
    void subscriptionStateInvalid();
    void replaces();
    void replacesInvalid_data();
    void replacesInvalid();
};

void TestTypedHeaders::unsignedValues_data() {
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<quint32>("value");
    QTest::newRow("0") << QByteArray("0") << true << 0u;
    QTest::newRow("70") << QByteArray("70") << true << 70u;
    QTest::newRow("leading zeros") << QByteArray("0068") << true << 68u;
    QTest::newRow("2^32-1") << QByteArray("4294967295") << true << 4294967295u;
    QTest::newRow("2^32") << QByteArray("4294967296") << false << 0u;
    QTest::newRow("2^32+5") << QByteArray("4294967301") << false << 0u;
    QTest::newRow("contact expires of scalar02") << QByteArray("280297596632815") << false << 0u;
    QTest::newRow("100 digits") << QByteArray("1" + QByteArray(100, '0')) << false << 0u;
    QTest::newRow("many zeros then 1") << QByteArray(QByteArray(40, '0') + "1") << true << 1u;
    QTest::newRow("empty") << QByteArray() << false << 0u;
    QTest::newRow("negative") << QByteArray("-1") << false << 0u;
    QTest::newRow("plus") << QByteArray("+1") << false << 0u;
    QTest::newRow("trailing letter") << QByteArray("12a") << false << 0u;
    QTest::newRow("decimal") << QByteArray("1.5") << false << 0u;
    QTest::newRow("inner space") << QByteArray("1 2") << false << 0u;
}

void TestTypedHeaders::unsignedValues() {
    QFETCH(QByteArray, text);
    QFETCH(bool, ok);
    QFETCH(quint32, value);
    const std::optional<quint32> got = parseUnsigned(text);
    QCOMPARE(got.has_value(), ok);
    if (ok) QCOMPARE(*got, value);
}

void TestTypedHeaders::cseq_data() {
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<quint32>("number");
    QTest::addColumn<int>("method");
    QTest::addColumn<QByteArray>("name");
    QTest::newRow("invite") << QByteArray("4711 INVITE") << 4711u << int(Method::Invite)
                            << QByteArray("INVITE");
    QTest::newRow("zero") << QByteArray("0 ACK") << 0u << int(Method::Ack) << QByteArray("ACK");
    QTest::newRow("max") << QByteArray("4294967295 BYE") << 4294967295u << int(Method::Bye)
                         << QByteArray("BYE");
    QTest::newRow("folded, zeros")  // RFC 4475 wsinv
        << QByteArray("0009\r\n  INVITE") << 9u << int(Method::Invite) << QByteArray("INVITE");
    QTest::newRow("extra spaces") << QByteArray("  12   NOTIFY  ") << 12u << int(Method::Notify)
                                  << QByteArray("NOTIFY");
    QTest::newRow("tab") << QByteArray("3\tSUBSCRIBE") << 3u << int(Method::Subscribe)
                         << QByteArray("SUBSCRIBE");
    QTest::newRow("extension") << QByteArray("8 NEWMETHOD") << 8u << int(Method::Unknown)
                               << QByteArray("NEWMETHOD");
    QTest::newRow("lower case is unknown")
        << QByteArray("8 invite") << 8u << int(Method::Unknown) << QByteArray("invite");
}

void TestTypedHeaders::cseq() {
    QFETCH(QByteArray, text);
    QFETCH(quint32, number);
    QFETCH(int, method);
    QFETCH(QByteArray, name);
    Result<CSeq> cseq = CSeq::parse(text);
    QVERIFY2(cseq, qPrintable(describe(cseq)));
    QCOMPARE(cseq->number, number);
    QCOMPARE(int(cseq->method), method);
    QCOMPARE(bytes(cseq->methodName), name);
}

void TestTypedHeaders::cseqInvalid_data() {
    QTest::addColumn<QByteArray>("text");
    QTest::newRow("empty") << QByteArray();
    QTest::newRow("no method") << QByteArray("12");
    QTest::newRow("no number") << QByteArray("INVITE");
    QTest::newRow("2^32") << QByteArray("4294967296 INVITE");
    QTest::newRow("scalar02") << QByteArray("36893488147419103232 REGISTER");
    QTest::newRow("negative") << QByteArray("-1 INVITE");
    QTest::newRow("letters in number") << QByteArray("1a INVITE");
    QTest::newRow("trailing junk") << QByteArray("1 INVITE extra");
    QTest::newRow("method not a token") << QByteArray("1 IN/VITE");
}

void TestTypedHeaders::cseqInvalid() {
    QFETCH(QByteArray, text);
    Result<CSeq> cseq = CSeq::parse(text);
    QVERIFY2(!cseq, qPrintable(QStringLiteral("accepted \"%1\"").arg(QString::fromLatin1(text))));
    QVERIFY(!cseq.error().reason.isEmpty());
}

void TestTypedHeaders::event() {
    Result<EventHeader> plain = EventHeader::parse("dialog");
    QVERIFY2(plain, qPrintable(describe(plain)));
    QCOMPARE(bytes(plain->package), QByteArray("dialog"));
    QVERIFY(plain->id().isEmpty());
    QVERIFY(plain->params.isEmpty());

    Result<EventHeader> withId = EventHeader::parse("dialog;id=42");
    QVERIFY2(withId, qPrintable(describe(withId)));
    QCOMPARE(bytes(withId->package), QByteArray("dialog"));
    QCOMPARE(bytes(withId->id()), QByteArray("42"));

    Result<EventHeader> spaced = EventHeader::parse("presence ; id = abc ; foo");
    QVERIFY2(spaced, qPrintable(describe(spaced)));
    QCOMPARE(bytes(spaced->package), QByteArray("presence"));
    QCOMPARE(bytes(spaced->id()), QByteArray("abc"));
    QVERIFY(spaced->params.has("foo"));

    Result<EventHeader> winfo = EventHeader::parse("presence.winfo");
    QVERIFY2(winfo, qPrintable(describe(winfo)));
    QCOMPARE(bytes(winfo->package), QByteArray("presence.winfo"));

    Result<EventHeader> refer = EventHeader::parse("refer;id=93809824");
    QVERIFY2(refer, qPrintable(describe(refer)));
    QCOMPARE(bytes(refer->id()), QByteArray("93809824"));
}

void TestTypedHeaders::eventInvalid() {
    QVERIFY(!EventHeader::parse(""));
    QVERIFY(!EventHeader::parse("   "));
    QVERIFY(!EventHeader::parse(";id=1"));
    QVERIFY(!EventHeader::parse("dia log"));
}

void TestTypedHeaders::subscriptionState() {
    Result<SubscriptionStateHeader> active = SubscriptionStateHeader::parse("active;expires=600");
    QVERIFY2(active, qPrintable(describe(active)));
    QCOMPARE(bytes(active->state), QByteArray("active"));
    QCOMPARE(active->expires(), std::optional<quint32>(600));
    QVERIFY(active->reason().isEmpty());
    QVERIFY(!active->retryAfter().has_value());

    Result<SubscriptionStateHeader> terminated =
        SubscriptionStateHeader::parse("terminated;reason=timeout;retry-after=30");
    QVERIFY2(terminated, qPrintable(describe(terminated)));
    QCOMPARE(bytes(terminated->state), QByteArray("terminated"));
    QCOMPARE(bytes(terminated->reason()), QByteArray("timeout"));
    QCOMPARE(terminated->retryAfter(), std::optional<quint32>(30));
    QVERIFY(!terminated->expires().has_value());

    Result<SubscriptionStateHeader> pending = SubscriptionStateHeader::parse("pending");
    QVERIFY2(pending, qPrintable(describe(pending)));
    QCOMPARE(bytes(pending->state), QByteArray("pending"));
    QVERIFY(!pending->expires().has_value());

    // Parameter names are case-insensitive; LWS is allowed.
    Result<SubscriptionStateHeader> mixed =
        SubscriptionStateHeader::parse("active ; Expires = 3600");
    QVERIFY2(mixed, qPrintable(describe(mixed)));
    QCOMPARE(mixed->expires(), std::optional<quint32>(3600));

    // An out-of-range expires reads as absent, not as a wrapped number.
    Result<SubscriptionStateHeader> huge =
        SubscriptionStateHeader::parse("active;expires=99999999999");
    QVERIFY2(huge, qPrintable(describe(huge)));
    QVERIFY(!huge->expires().has_value());

    Result<SubscriptionStateHeader> extension =
        SubscriptionStateHeader::parse("terminated;reason=noresource");
    QVERIFY(extension);
    QCOMPARE(bytes(extension->reason()), QByteArray("noresource"));
}

void TestTypedHeaders::subscriptionStateInvalid() {
    QVERIFY(!SubscriptionStateHeader::parse(""));
    QVERIFY(!SubscriptionStateHeader::parse(";expires=60"));
}

void TestTypedHeaders::replaces() {
    Result<ReplacesHeader> r =
        ReplacesHeader::parse("98732@sip.example.com;from-tag=r33th4x0r;to-tag=ff87ff");
    QVERIFY2(r, qPrintable(describe(r)));
    QCOMPARE(bytes(r->callId), QByteArray("98732@sip.example.com"));
    QCOMPARE(bytes(r->fromTag), QByteArray("r33th4x0r"));
    QCOMPARE(bytes(r->toTag), QByteArray("ff87ff"));
    QVERIFY(!r->earlyOnly);

    Result<ReplacesHeader> early =
        ReplacesHeader::parse("a84b4c76e66710 ; to-tag=1 ; from-tag=2 ; early-only");
    QVERIFY2(early, qPrintable(describe(early)));
    QCOMPARE(bytes(early->callId), QByteArray("a84b4c76e66710"));
    QCOMPARE(bytes(early->toTag), QByteArray("1"));
    QCOMPARE(bytes(early->fromTag), QByteArray("2"));
    QVERIFY(early->earlyOnly);

    // Call-IDs may hold characters that are not token characters (word, RFC 3261 §25.1).
    Result<ReplacesHeader> odd = ReplacesHeader::parse("x%y!z@[2001:db8::1];to-tag=a;from-tag=b");
    QVERIFY2(odd, qPrintable(describe(odd)));
    QCOMPARE(bytes(odd->callId), QByteArray("x%y!z@[2001:db8::1]"));
}

void TestTypedHeaders::replacesInvalid_data() {
    QTest::addColumn<QByteArray>("text");
    QTest::newRow("empty") << QByteArray();
    QTest::newRow("no call-id") << QByteArray(";to-tag=1;from-tag=2");
    // RFC 3891 §6.1: to-tag and from-tag are both required.
    QTest::newRow("no to-tag") << QByteArray("abc@h;from-tag=2");
    QTest::newRow("no from-tag") << QByteArray("abc@h;to-tag=1");
    QTest::newRow("call-id only") << QByteArray("abc@h");
}

void TestTypedHeaders::replacesInvalid() {
    QFETCH(QByteArray, text);
    Result<ReplacesHeader> r = ReplacesHeader::parse(text);
    QVERIFY2(!r, qPrintable(QStringLiteral("accepted \"%1\"").arg(QString::fromLatin1(text))));
    QVERIFY(!r.error().reason.isEmpty());
}

QTEST_GUILESS_MAIN(TestTypedHeaders)
#include "tst_typed_headers.moc"
