// findStreamFrame (RFC 3261 §18.3 framing on TCP/TLS by Content-Length; RFC 5626 §4.4.1
// CRLF keep-alives before a message).

#include <QTest>

#include "sip/parser.h"
#include "sip_test_util.h"

using namespace sb;
using namespace sb::sip;
using namespace sb::sip::test;

namespace {

QByteArray message(QByteArrayView body = "hello", QByteArrayView lengthLine = {}) {
    QByteArray text =
        "MESSAGE sip:desk@example.com SIP/2.0\n"
        "Via: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bKs1\n"
        "Max-Forwards: 70\n"
        "To: <sip:desk@example.com>\n"
        "From: <sip:op@example.com>;tag=1\n"
        "Call-ID: stream-1\n"
        "CSeq: 1 MESSAGE\n"
        "Content-Type: text/plain\n";
    text += lengthLine.isNull() ? "Content-Length: " + QByteArray::number(body.size())
                                : lengthLine.toByteArray();
    text += "\n\n";
    return crlf(text) + body.toByteArray();
}

const char* statusName(StreamFrame::Status status) {
    switch (status) {
        case StreamFrame::Status::NeedMore:
            return "NeedMore";
        case StreamFrame::Status::Complete:
            return "Complete";
        case StreamFrame::Status::Invalid:
            return "Invalid";
    }
    return "?";
}

}  // namespace

class TestStreamFrame : public QObject {
    Q_OBJECT

private slots:
    void completeMessage();
    void everyPrefixNeedsMore();
    void twoMessagesBackToBack();
    void keepAlivePing();
    void keepAlivePong();
    void keepAliveBeforeMessage();
    void emptyBuffer();
    void compactAndAnyCaseContentLength();
    void foldedContentLength();
    void continuationLineIsNotAHeader();
    void missingContentLength();
    void malformedContentLength_data();
    void malformedContentLength();
    void conflictingContentLength();
    void bodyOverLimitRefusedEarly();
    void headersOverLimitRefused();
    void binaryBody();
    void capturedMessagesInOneStream();
    void agreesWithParser();
};

void TestStreamFrame::completeMessage() {
    const QByteArray wire = message();
    const StreamFrame frame = findStreamFrame(wire);
    QVERIFY2(frame.status == StreamFrame::Status::Complete, statusName(frame.status));
    QCOMPARE(frame.skip, qsizetype(0));
    QCOMPARE(frame.length, wire.size());
}

// Data arrives in any slices: nothing is complete before the last body byte.
void TestStreamFrame::everyPrefixNeedsMore() {
    const QByteArray wire = message("body bytes\r\n\r\nstill body");
    for (qsizetype n = 0; n < wire.size(); ++n) {
        const StreamFrame frame = findStreamFrame(QByteArrayView(wire).first(n));
        QVERIFY2(frame.status == StreamFrame::Status::NeedMore,
                 qPrintable(QStringLiteral("prefix %1: %2").arg(n).arg(statusName(frame.status))));
    }
    const StreamFrame frame = findStreamFrame(wire);
    QVERIFY(frame.status == StreamFrame::Status::Complete);
    QCOMPARE(frame.length, wire.size());
}

void TestStreamFrame::twoMessagesBackToBack() {
    const QByteArray first = message("one");
    const QByteArray second = message("second body");
    const QByteArray stream = first + second + QByteArray("INVITE sip:partial");
    const StreamFrame a = findStreamFrame(stream);
    QVERIFY(a.status == StreamFrame::Status::Complete);
    QCOMPARE(a.length, first.size());
    const QByteArrayView rest = QByteArrayView(stream).sliced(a.skip + a.length);
    const StreamFrame b = findStreamFrame(rest);
    QVERIFY(b.status == StreamFrame::Status::Complete);
    QCOMPARE(b.length, second.size());
    const StreamFrame c = findStreamFrame(rest.sliced(b.skip + b.length));
    QVERIFY(c.status == StreamFrame::Status::NeedMore);
}

// RFC 5626 §4.4.1: a double CRLF is a ping the receiver answers with a single CRLF.
void TestStreamFrame::keepAlivePing() {
    const StreamFrame frame = findStreamFrame("\r\n\r\n");
    QVERIFY2(frame.status == StreamFrame::Status::NeedMore, statusName(frame.status));
    QCOMPARE(frame.skip, qsizetype(4));
}

void TestStreamFrame::keepAlivePong() {
    const StreamFrame frame = findStreamFrame("\r\n");
    QVERIFY(frame.status == StreamFrame::Status::NeedMore);
    QCOMPARE(frame.skip, qsizetype(2));
}

void TestStreamFrame::keepAliveBeforeMessage() {
    const QByteArray wire = message();
    const StreamFrame frame = findStreamFrame("\r\n\r\n" + wire);
    QVERIFY(frame.status == StreamFrame::Status::Complete);
    QCOMPARE(frame.skip, qsizetype(4));
    QCOMPARE(frame.length, wire.size());
    // Keep-alive in front of a partial message: skip it, wait for the rest.
    const StreamFrame partial = findStreamFrame("\r\n\r\n" + wire.left(20));
    QVERIFY(partial.status == StreamFrame::Status::NeedMore);
    QCOMPARE(partial.skip, qsizetype(4));
}

void TestStreamFrame::emptyBuffer() {
    const StreamFrame frame = findStreamFrame(QByteArrayView());
    QVERIFY(frame.status == StreamFrame::Status::NeedMore);
    QCOMPARE(frame.skip, qsizetype(0));
}

void TestStreamFrame::compactAndAnyCaseContentLength() {
    for (const char* line :
         {"l: 5", "L:5", "content-length: 5", "CONTENT-LENGTH :  5", "Content-Length: 0005"}) {
        const QByteArray wire = message("hello", line);
        const StreamFrame frame = findStreamFrame(wire + "NEXT");
        QVERIFY2(frame.status == StreamFrame::Status::Complete, line);
        QCOMPARE(frame.length, wire.size());
    }
}

// RFC 3261 §7.3.1: any header value may be folded, Content-Length included.
void TestStreamFrame::foldedContentLength() {
    const QByteArray wire = message("hello", "Content-Length:\n 5");
    const StreamFrame frame = findStreamFrame(wire + "NEXT");
    QVERIFY2(
        frame.status == StreamFrame::Status::Complete,
        qPrintable(QStringLiteral("%1: %2").arg(statusName(frame.status), frame.error.reason)));
    QCOMPARE(frame.length, wire.size());
}

// A folded line that happens to read "l: 999" belongs to the field above it.
void TestStreamFrame::continuationLineIsNotAHeader() {
    const QByteArray wire = message("hello", "Content-Length: 5\nSubject: hi\n l: 999");
    const StreamFrame frame = findStreamFrame(wire + "NEXT");
    QVERIFY2(
        frame.status == StreamFrame::Status::Complete,
        qPrintable(QStringLiteral("%1: %2").arg(statusName(frame.status), frame.error.reason)));
    QCOMPARE(frame.length, wire.size());
}

// RFC 3261 §18.3: on a stream Content-Length is mandatory.
void TestStreamFrame::missingContentLength() {
    QByteArray wire = message("hello", "X-No-Length: here");
    const StreamFrame frame = findStreamFrame(wire);
    QVERIFY2(frame.status == StreamFrame::Status::Invalid, statusName(frame.status));
    QCOMPARE(frame.error.sipStatus, 400);
    QVERIFY(!frame.error.reason.isEmpty());
}

void TestStreamFrame::malformedContentLength_data() {
    QTest::addColumn<QByteArray>("line");
    QTest::newRow("negative") << QByteArray("Content-Length: -999");  // RFC 4475 ncl
    QTest::newRow("word") << QByteArray("Content-Length: five");
    QTest::newRow("empty") << QByteArray("Content-Length:");
    QTest::newRow("overflow") << QByteArray("Content-Length: 99999999999999999999");
    QTest::newRow("two numbers") << QByteArray("Content-Length: 5 5");
}

// A bad Content-Length on a stream is not recoverable: the connection must close.
void TestStreamFrame::malformedContentLength() {
    QFETCH(QByteArray, line);
    const QByteArray wire = message("hello", line);
    const StreamFrame frame = findStreamFrame(wire);
    QVERIFY2(frame.status == StreamFrame::Status::Invalid, statusName(frame.status));
    QVERIFY(!frame.error.reason.isEmpty());
    const qsizetype at = wire.indexOf(line.left(15));
    QVERIFY2(frame.error.offset >= at && frame.error.offset <= at + line.size(),
             qPrintable(QString::number(frame.error.offset)));
}

// RFC 4475 §3.3.9 (mcl01): two different values make the framing unknowable.
void TestStreamFrame::conflictingContentLength() {
    const QByteArray wire = message("hello", "Content-Length: 5\nContent-Length: 2");
    const StreamFrame frame = findStreamFrame(wire);
    QVERIFY2(frame.status == StreamFrame::Status::Invalid, statusName(frame.status));
    QVERIFY(!frame.error.reason.isEmpty());
}

// A declared body over the message limit is refused as soon as the headers are in,
// without buffering it (513, a Limit error).
void TestStreamFrame::bodyOverLimitRefusedEarly() {
    const QByteArray head = message({}, "Content-Length: 70000");
    const StreamFrame frame = findStreamFrame(head);
    QVERIFY2(frame.status == StreamFrame::Status::Invalid, statusName(frame.status));
    QCOMPARE(frame.error.sipStatus, 513);
    QCOMPARE(frame.error.kind, ErrorKind::Limit);
    ParseLimits small;
    small.maxMessageSize = 300;
    const StreamFrame custom = findStreamFrame(message(QByteArray(100, 'x')), small);
    QVERIFY(custom.status == StreamFrame::Status::Invalid);
    QCOMPARE(custom.error.sipStatus, 513);
}

// Headers that never end must not be buffered forever.
void TestStreamFrame::headersOverLimitRefused() {
    QByteArray endless = "MESSAGE sip:desk@example.com SIP/2.0\r\n";
    while (endless.size() <= 64 * 1024)
        endless += "X-Filler: aaaaaaaaaaaaaaaaaaaaaaaa\r\n";
    const StreamFrame frame = findStreamFrame(endless);
    QVERIFY2(frame.status == StreamFrame::Status::Invalid, statusName(frame.status));
    QVERIFY(frame.error.sipStatus == 513 || frame.error.sipStatus == 400);
    QCOMPARE(frame.error.kind, ErrorKind::Limit);
}

void TestStreamFrame::binaryBody() {
    const QByteArray body("\r\n\r\n\0\0\r\nContent-Length: 1\r\n\r\n", 29);
    const QByteArray wire = message(body);
    const StreamFrame frame = findStreamFrame(wire + wire);
    QVERIFY(frame.status == StreamFrame::Status::Complete);
    QCOMPARE(frame.length, wire.size());
}

// The real captured messages concatenated as one TCP stream frame one by one.
void TestStreamFrame::capturedMessagesInOneStream() {
    QList<QByteArray> messages;
    for (const char* name : {"captured-sipp-uac-invite.sip", "captured-sipp-uas-180.sip",
                             "captured-sipp-uas-200-invite.sip", "captured-sipp-uac-ack.sip",
                             "captured-kamailio-401-register.sip",
                             "captured-kamailio-notify-dialog.sip", "captured-sipp-publish.sip"}) {
        messages << fixture(QString::fromLatin1(name));
        QVERIFY2(!messages.back().isEmpty(), name);
    }
    QByteArray stream;
    for (const QByteArray& m : messages)
        stream += m + "\r\n\r\n";  // keep-alives in between
    QByteArrayView rest(stream);
    for (const QByteArray& expected : messages) {
        const StreamFrame frame = findStreamFrame(rest);
        QVERIFY2(frame.status == StreamFrame::Status::Complete, statusName(frame.status));
        const QByteArrayView got = rest.sliced(frame.skip, frame.length);
        QCOMPARE(got.toByteArray(), expected);
        QVERIFY(Parser::parse(got.toByteArray()));
        rest = rest.sliced(frame.skip + frame.length);
    }
    const StreamFrame tail = findStreamFrame(rest);
    QVERIFY(tail.status == StreamFrame::Status::NeedMore);
    QCOMPARE(tail.skip, rest.size());
}

// What the framer cuts out is exactly what the parser reads as one message.
void TestStreamFrame::agreesWithParser() {
    for (const char* name :
         {"wsinv.sip", "esc01.sip", "longreq.sip", "mpart01.sip", "unreason.sip", "escnull.sip"}) {
        const QByteArray wire = fixture(QString::fromLatin1(name));
        QVERIFY2(!wire.isEmpty(), name);
        const StreamFrame frame = findStreamFrame(wire + "OPTIONS sip:next");
        QVERIFY2(frame.status == StreamFrame::Status::Complete,
                 qPrintable(
                     QStringLiteral("%1: %2 %3")
                         .arg(QLatin1String(name), statusName(frame.status), frame.error.reason)));
        QCOMPARE(frame.length, wire.size());
        Result<Message> msg = Parser::parse(wire.left(frame.length));
        QVERIFY2(msg, name);
    }
}

QTEST_GUILESS_MAIN(TestStreamFrame)
#include "tst_stream_frame.moc"
