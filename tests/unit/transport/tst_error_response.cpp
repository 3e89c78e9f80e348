#include <QTest>

#include "sip/parser.h"
#include "transport/error_response.h"

using namespace sb;
using namespace sb::transport;

namespace {

const QByteArray kHeaders =
    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKbad1;rport\r\n"
    "Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKlower\r\n"
    "From: \"Alice\" <sip:alice@example.com>;tag=a1\r\n"
    "To: <sip:bob@example.com>\r\n"
    "Call-ID: bad-1@example.com\r\n"
    "CSeq: 7 INVITE\r\n";

Error parseError(QString reason, int status = 0) {
    return makeError(ErrorKind::Parse, std::move(reason), 3, status);
}

}  // namespace

// The transport's own answers to requests it cannot accept (400 / 513).
class TstErrorResponse : public QObject {
    Q_OBJECT
private slots:
    void statusFromError();
    void reasonIsSanitised();
    void fromUnparsableBytes();
    void compactNames();
    void unreadableRequestIsDropped_data();
    void unreadableRequestIsDropped();
    void fromParsedButInvalid();
    void tagIsStableAcrossRetransmissions();
    void existingToTagIsKept();
};

void TstErrorResponse::statusFromError() {
    QCOMPARE(refusalStatus(parseError("x")), 400);
    QCOMPARE(refusalStatus(parseError("x", 513)), 513);
    QCOMPARE(refusalStatus(parseError("x", 505)), 505);
    QCOMPARE(refusalStatus(parseError("x", 200)), 400);  // never a success
}

void TstErrorResponse::reasonIsSanitised() {
    QCOMPARE(refusalReason(parseError("Malformed\r\nInjected: yes"), 400),
             QByteArray("Malformed  Injected: yes"));
    QCOMPARE(refusalReason(parseError(QString()), 400), QByteArray("Bad Request"));
    const QByteArray longReason =
        refusalReason(parseError(QString(300, QChar(0x00e9))), 400);  // é, 2 bytes each
    QVERIFY(longReason.size() <= 120);
    QVERIFY(QString::fromUtf8(longReason).toUtf8() == longReason);  // still valid UTF-8
}

void TstErrorResponse::fromUnparsableBytes() {
    const QByteArray bytes =
        "INVITE sip:bob@example.com SIP/2.0\r\n" + kHeaders + "Content-Length: banana\r\n\r\n";
    const auto response =
        refusalFor(bytes, parseError("Malformed Content-Length"), sip::ParseLimits{});
    QVERIFY(response.has_value());
    QCOMPARE(response->statusCode(), 400);
    QCOMPARE(response->reasonPhrase(), QByteArrayView("Malformed Content-Length"));
    // §8.2.6.2: Vias in order, From, Call-ID, CSeq copied; To gets a tag.
    const auto vias = response->values(sip::HeaderId::Via);
    QCOMPARE(vias.size(), 2);
    QCOMPARE(vias[0].toByteArray(),
             QByteArray("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKbad1;rport"));
    QCOMPARE(vias[1].toByteArray(), QByteArray("SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKlower"));
    QCOMPARE(response->header(sip::HeaderId::From),
             QByteArrayView("\"Alice\" <sip:alice@example.com>;tag=a1"));
    QCOMPARE(response->callId(), QByteArrayView("bad-1@example.com"));
    QCOMPARE(response->header(sip::HeaderId::CSeq), QByteArrayView("7 INVITE"));
    QVERIFY(!response->to()->tag().isEmpty());
    // The answer itself is a valid message.
    const auto reparsed = sip::Parser::parse(response->serialize());
    QVERIFY(reparsed.has_value());
    QVERIFY(reparsed->validate().has_value());
}

void TstErrorResponse::compactNames() {
    const QByteArray bytes =
        "\r\nOPTIONS sip:bob@example.com SIP/2.0\n"
        "v: SIP/2.0/TCP 192.0.2.1;branch=z9hG4bKcompact\n"
        "f: <sip:alice@example.com>;tag=a1\n"
        "t: <sip:bob@example.com>\n"
        "i: compact-1\n"
        "CSeq: 1 OPTIONS\n"
        "Broken line without colon\n\n";
    const auto response =
        refusalFor(bytes, parseError("Malformed header line"), sip::ParseLimits{});
    QVERIFY(response.has_value());
    QCOMPARE(response->header(sip::HeaderId::Via),
             QByteArrayView("SIP/2.0/TCP 192.0.2.1;branch=z9hG4bKcompact"));
    QCOMPARE(response->header(sip::HeaderId::CSeq), QByteArrayView("1 OPTIONS"));
    QCOMPARE(response->callId(), QByteArrayView("compact-1"));
}

void TstErrorResponse::unreadableRequestIsDropped_data() {
    QTest::addColumn<QByteArray>("bytes");
    QTest::newRow("binary") << QByteArray("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11);
    QTest::newRow("a response") << "SIP/2.0 200 OK\r\n" + kHeaders + "\r\n";
    QTest::newRow("an ACK") << "ACK sip:bob@example.com SIP/2.0\r\n" + kHeaders + "\r\n";
    QTest::newRow("no Via") << QByteArray(
        "OPTIONS sip:bob@example.com SIP/2.0\r\n"
        "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n"
        "Call-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n");
    QTest::newRow("no CSeq") << QByteArray(
        "OPTIONS sip:bob@example.com SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n"
        "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n"
        "Call-ID: x\r\n\r\n");
    QTest::newRow("truncated start line") << QByteArray("OPTIONS sip:bob@exa");
    QTest::newRow("headers beyond the size limit") << "OPTIONS sip:bob@example.com SIP/2.0\r\n" +
                                                          QByteArray(70000, 'x') + "\r\n" +
                                                          kHeaders + "\r\n";
}

void TstErrorResponse::unreadableRequestIsDropped() {
    QFETCH(QByteArray, bytes);
    QVERIFY(!refusalFor(bytes, parseError("bad"), sip::ParseLimits{}).has_value());
}

void TstErrorResponse::fromParsedButInvalid() {
    const QByteArray bytes = "OPTIONS sip:bob@example.com SIP/2.0\r\n" +
                             QByteArray(kHeaders).replace("7 INVITE", "7 OPTIONS") +
                             "Content-Length: 0\r\n\r\n";
    const auto parsed = sip::Parser::parse(bytes);
    QVERIFY(parsed.has_value());
    const auto response = refusalFor(*parsed, parseError("Missing Max-Forwards", 483));
    QVERIFY(response.has_value());
    QCOMPARE(response->statusCode(), 483);
    QCOMPARE(response->reasonPhrase(), QByteArrayView("Missing Max-Forwards"));
    QCOMPARE(response->count(sip::HeaderId::Via), parsed->count(sip::HeaderId::Via));
    QVERIFY(!response->to()->tag().isEmpty());

    auto ack = sip::Parser::parse(
        QByteArray(bytes).replace("OPTIONS sip", "ACK sip").replace("7 OPTIONS", "7 ACK"));
    QVERIFY(ack.has_value());
    QVERIFY(!refusalFor(*ack, parseError("whatever")).has_value());
}

void TstErrorResponse::tagIsStableAcrossRetransmissions() {
    const QByteArray bytes =
        "INVITE sip:bob@example.com SIP/2.0\r\n" + kHeaders + "Content-Length: x\r\n\r\n";
    const auto first = refusalFor(bytes, parseError("bad"), sip::ParseLimits{});
    const auto again = refusalFor(bytes, parseError("bad"), sip::ParseLimits{});
    QVERIFY(first && again);
    QCOMPARE(first->to()->tag(), again->to()->tag());
    QByteArray other = bytes;
    other.replace("bad-1@example.com", "bad-2@example.com");
    const auto different = refusalFor(other, parseError("bad"), sip::ParseLimits{});
    QVERIFY(different.has_value());
    QVERIFY(first->to()->tag() != different->to()->tag());
}

void TstErrorResponse::existingToTagIsKept() {
    QByteArray bytes =
        "BYE sip:bob@example.com SIP/2.0\r\n" + kHeaders + "Content-Length: x\r\n\r\n";
    bytes.replace("To: <sip:bob@example.com>", "To: <sip:bob@example.com>;tag=b9");
    const auto response = refusalFor(bytes, parseError("bad"), sip::ParseLimits{});
    QVERIFY(response.has_value());
    QCOMPARE(response->to()->tag(), QByteArrayView("b9"));
}

QTEST_GUILESS_MAIN(TstErrorResponse)
#include "tst_error_response.moc"
