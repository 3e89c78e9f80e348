// SIP trace redaction: Authorization and Proxy-Authorization values never reach a log
// or trace file (any letter case, folded continuation lines included); everything else,
// bodies above all, stays byte for byte.

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include "base/sip_trace.h"

using namespace sb::base;

namespace {

QByteArray crlf(QByteArrayView text) {
    QByteArray out;
    for (char ch : text) {
        if (ch == '\n') out.append('\r');
        out.append(ch);
    }
    return out;
}

const char kSecret[] = "0123456789abcdef0123456789abcdef";

const char kRegister[] =
    "REGISTER sip:example.com SIP/2.0\n"
    "Via: SIP/2.0/UDP 192.0.2.9:5070;branch=z9hG4bKtrace1;rport\n"
    "Max-Forwards: 70\n"
    "To: <sip:desk@example.com>\n"
    "From: <sip:desk@example.com>;tag=t1\n"
    "Call-ID: trace-1@192.0.2.9\n"
    "CSeq: 2 REGISTER\n"
    "Contact: <sip:desk@192.0.2.9:5070>;expires=3600\n"
    "Authorization: Digest username=\"desk\", realm=\"example.com\", nonce=\"n0nce\", "
    "uri=\"sip:example.com\", response=\"0123456789abcdef0123456789abcdef\", algorithm=MD5\n"
    "Content-Length: 0\n"
    "\n";

}  // namespace

class TestSipTrace : public QObject {
    Q_OBJECT

private slots:
    void authorizationRedacted();
    void proxyAuthorizationRedacted();
    void anyCase_data();
    void anyCase();
    void foldedContinuationRedacted();
    void severalCredentialHeaders();
    void challengesAndOtherHeadersKept();
    void credentialLinesAfterTheHeadersAreRedactedToo();
    void otherBodyLinesUntouched();
    void bareLfMessages();
    void messageWithoutBody();
    void fileTraceRedactsAndAppends();
    void fileTraceUnwritablePath();
};

void TestSipTrace::authorizationRedacted() {
    const QByteArray in = crlf(kRegister);
    const QByteArray out = redactCredentials(in);
    QVERIFY(!out.contains(kSecret));
    QVERIFY(!out.contains("username=\"desk\""));
    QVERIFY(!out.contains("n0nce"));
    QVERIFY(out.contains("\r\nAuthorization: <redacted>\r\n"));
    // Only that value changed.
    QByteArray expected = in;
    const qsizetype at = expected.indexOf("Authorization:") + 14;
    expected.replace(at, expected.indexOf("\r\n", at) - at, " <redacted>");
    QCOMPARE(out, expected);
}

void TestSipTrace::proxyAuthorizationRedacted() {
    QByteArray in = crlf(kRegister);
    in.replace("Authorization:", "Proxy-Authorization:");
    const QByteArray out = redactCredentials(in);
    QVERIFY(!out.contains(kSecret));
    QVERIFY(out.contains("\r\nProxy-Authorization: <redacted>\r\n"));
    QVERIFY(out.contains("\r\nCall-ID: trace-1@192.0.2.9\r\n"));
}

void TestSipTrace::anyCase_data() {
    QTest::addColumn<QByteArray>("name");
    QTest::newRow("lower") << QByteArray("authorization");
    QTest::newRow("upper") << QByteArray("AUTHORIZATION");
    QTest::newRow("mixed") << QByteArray("aUtHoRiZaTiOn");
    QTest::newRow("proxy lower") << QByteArray("proxy-authorization");
    QTest::newRow("proxy mixed") << QByteArray("PROXY-Authorization");
    QTest::newRow("space before colon") << QByteArray("Authorization  ");
}

// RFC 3261 §7.3.1: header names are case-insensitive; LWS may precede the colon.
void TestSipTrace::anyCase() {
    QFETCH(QByteArray, name);
    QByteArray in = crlf(kRegister);
    in.replace("Authorization:", name + ":");
    const QByteArray out = redactCredentials(in);
    QVERIFY2(!out.contains(kSecret), out.constData());
    QVERIFY(out.contains("<redacted>"));
}

// RFC 3261 §7.3.1: a field may continue on lines that start with SP or HTAB.
void TestSipTrace::foldedContinuationRedacted() {
    const QByteArray in = crlf(
        "REGISTER sip:example.com SIP/2.0\n"
        "Via: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKf\n"
        "Authorization: Digest username=\"desk\",\n"
        "  realm=\"example.com\", nonce=\"n0nce\",\n"
        "\tresponse=\"0123456789abcdef0123456789abcdef\"\n"
        "Call-ID: folded-1\n"
        "Content-Length: 0\n\n");
    const QByteArray out = redactCredentials(in);
    QVERIFY2(!out.contains(kSecret), out.constData());
    QVERIFY(!out.contains("n0nce"));
    QVERIFY(!out.contains("realm=\"example.com\""));
    QVERIFY(out.contains("\r\nAuthorization: <redacted>\r\nCall-ID: folded-1\r\n"));
    QVERIFY(out.startsWith("REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.9"));
}

void TestSipTrace::severalCredentialHeaders() {
    const QByteArray in = crlf(
        "INVITE sip:desk@example.com SIP/2.0\n"
        "Proxy-Authorization: Digest username=\"a\", "
        "response=\"0123456789abcdef0123456789abcdef\"\n"
        "Subject: not secret\n"
        "Proxy-Authorization: Digest username=\"b\", "
        "response=\"fedcba9876543210fedcba9876543210\"\n"
        "Authorization: Digest username=\"c\", response=\"00000000000000000000000000000000\"\n"
        "Content-Length: 0\n\n");
    const QByteArray out = redactCredentials(in);
    QVERIFY(!out.contains(kSecret));
    QVERIFY(!out.contains("fedcba9876543210fedcba9876543210"));
    QVERIFY(!out.contains("00000000000000000000000000000000"));
    QCOMPARE(out.count("<redacted>"), qsizetype(3));
    QVERIFY(out.contains("\r\nSubject: not secret\r\n"));
}

// Challenges carry no secret and are needed to debug authentication; similar names
// are not credentials.
void TestSipTrace::challengesAndOtherHeadersKept() {
    const QByteArray in = crlf(
        "SIP/2.0 401 Unauthorized\n"
        "Via: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKc\n"
        "WWW-Authenticate: Digest realm=\"example.com\", nonce=\"abc\", qop=\"auth\"\n"
        "Proxy-Authenticate: Digest realm=\"example.com\", nonce=\"def\"\n"
        "Authentication-Info: nextnonce=\"ghi\"\n"
        "X-Authorization-Hint: visible\n"
        "Content-Length: 0\n\n");
    QCOMPARE(redactCredentials(in), in);
}

void TestSipTrace::credentialLinesAfterTheHeadersAreRedactedToo() {
    // A trace records whatever bytes a flow carried: a sipfrag body, or a second request
    // pipelined behind one that could not be framed. A credential line there is redacted
    // as well; the rest of the bytes stay as they were.
    const char raw[] =
        "Authorization: Digest response=\"body-secret\"\r\n"
        "proxy-authorization: also-secret\r\n"
        "\r\n\0\x01\xff binary\n";
    const QByteArray body(raw, sizeof(raw) - 1);
    QByteArray in = crlf(kRegister);
    in.replace("Content-Length: 0", "Content-Type: message/sipfrag\r\nContent-Length: " +
                                        QByteArray::number(body.size()));
    in += body;
    in += crlf(kRegister);  // pipelined behind the first message
    const QByteArray out = redactCredentials(in);
    QVERIFY(!out.contains(kSecret));
    QVERIFY(!out.contains("body-secret"));
    QVERIFY(!out.contains("also-secret"));
    QCOMPARE(out.count("<redacted>"), qsizetype(4));
    QVERIFY(out.contains(QByteArray("\r\n\0\x01\xff binary\n", 13)));
}

void TestSipTrace::otherBodyLinesUntouched() {
    const QByteArray body = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n";
    QByteArray in = crlf(kRegister);
    in.replace("Content-Length: 0", "Content-Type: application/sdp\r\nContent-Length: " +
                                        QByteArray::number(body.size()));
    in += body;
    const QByteArray out = redactCredentials(in);
    QVERIFY(out.endsWith(body));
    QCOMPARE(out.count("<redacted>"), qsizetype(1));
}

void TestSipTrace::bareLfMessages() {
    const QByteArray in(kRegister);  // LF only
    const QByteArray out = redactCredentials(in);
    QVERIFY(!out.contains(kSecret));
    QVERIFY(out.contains("\nAuthorization: <redacted>\nContent-Length: 0\n"));
}

void TestSipTrace::messageWithoutBody() {
    QCOMPARE(redactCredentials(""), QByteArray());
    const QByteArray headersOnly = "Authorization: Digest response=\"x\"";  // no line end
    QVERIFY(!redactCredentials(headersOnly).contains("response"));
}

void TestSipTrace::fileTraceRedactsAndAppends() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("trace.log"));
    {
        FileSipTrace trace(path);
        QVERIFY2(trace.isOpen(), qPrintable(trace.errorString()));
        trace.record(SipTrace::Direction::Sent, "UDP", QStringLiteral("192.0.2.9:5070"),
                     QStringLiteral("192.0.2.1:5060"), crlf(kRegister));
    }
    {
        FileSipTrace again(path);  // appends, never truncates
        again.record(SipTrace::Direction::Received, "TCP", QStringLiteral("192.0.2.9:5070"),
                     QStringLiteral("192.0.2.1:5060"),
                     crlf("SIP/2.0 200 OK\nCall-ID: trace-1@192.0.2.9\nContent-Length: 0\n\n"));
    }
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray text = file.readAll();
    QVERIFY(!text.contains(kSecret));
    QVERIFY(!text.contains("n0nce"));
    QVERIFY(text.contains("Authorization: <redacted>"));
    QVERIFY(text.contains("REGISTER sip:example.com SIP/2.0"));
    QVERIFY(text.contains("SIP/2.0 200 OK"));
    QVERIFY(text.indexOf("REGISTER sip:") < text.indexOf("SIP/2.0 200 OK"));
    QVERIFY(text.contains("UDP"));
    QVERIFY(text.contains("TCP"));
    QVERIFY(text.contains("192.0.2.1:5060"));
}

void TestSipTrace::fileTraceUnwritablePath() {
    QTemporaryDir dir;
    FileSipTrace trace(dir.filePath(QStringLiteral("no/such/dir/trace.log")));
    QVERIFY(!trace.isOpen());
    QVERIFY(!trace.errorString().isEmpty());
    // Recording into a closed trace is a no-op, not a crash.
    trace.record(SipTrace::Direction::Sent, "UDP", QString(), QString(), crlf(kRegister));
}

QTEST_GUILESS_MAIN(TestSipTrace)
#include "tst_sip_trace.moc"
