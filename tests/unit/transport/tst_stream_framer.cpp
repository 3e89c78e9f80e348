#include <QTest>

#include "transport/stream_framer.h"

using namespace sb;
using namespace sb::transport;

namespace {

QByteArray message(QByteArray body = {}, QByteArray callId = "c1") {
    return "MESSAGE sip:bob@example.com SIP/2.0\r\n"
           "Via: SIP/2.0/TCP 192.0.2.1;branch=z9hG4bK1\r\n"
           "From: <sip:alice@example.com>;tag=a\r\n"
           "To: <sip:bob@example.com>\r\n"
           "Call-ID: " +
           callId +
           "\r\n"
           "CSeq: 1 MESSAGE\r\n"
           "Content-Length: " +
           QByteArray::number(body.size()) + "\r\n\r\n" + body;
}

}  // namespace

// RFC 3261 §18.3 stream framing and RFC 5626 §4.4.1 keep-alives, without sockets.
class TstStreamFramer : public QObject {
    Q_OBJECT
private slots:
    void wholeMessage();
    void byteByByte();
    void twoMessagesInOneChunk();
    void splitInsideBody();
    void pingIsAnswered();
    void pingSplitAcrossReads();
    void pingsBetweenMessages();
    void loneCrlfBeforeMessageIsNoPing();
    void clientSeesPongs();
    void missingContentLengthFails();
    void oversizedHeadersFail();
    void bufferLimitHoldsForIncompleteBody();
    void nothingAfterFailure();
    void tricklingHeadersCostsLinearWork();
    void tricklingBodyCostsLinearWork();
    void everySplitFramesAlike_data();
    void everySplitFramesAlike();
    void foldedAndCompactContentLength();
    void headerEndSplitAcrossReads();
    void crRunWithoutMessageIsBounded();
    void trickledOversizedHeadersFail();
};

void TstStreamFramer::wholeMessage() {
    StreamFramer framer(StreamFramer::Role::Server);
    const QByteArray bytes = message("hello");
    const auto out = framer.feed(bytes);
    QCOMPARE(out.messages.size(), std::size_t(1));
    QCOMPARE(out.messages[0], bytes);
    QCOMPARE(out.pings, 0);
    QVERIFY(!out.error);
    QCOMPARE(framer.buffered(), 0);
}

void TstStreamFramer::byteByByte() {
    StreamFramer framer(StreamFramer::Role::Server);
    const QByteArray bytes = message("body text");
    std::vector<QByteArray> got;
    for (qsizetype i = 0; i < bytes.size(); ++i) {
        auto out = framer.feed(bytes.sliced(i, 1));
        QVERIFY(!out.error);
        for (auto& m : out.messages)
            got.push_back(std::move(m));
        if (i + 1 < bytes.size()) QCOMPARE(got.size(), std::size_t(0));
    }
    QCOMPARE(got.size(), std::size_t(1));
    QCOMPARE(got[0], bytes);
}

void TstStreamFramer::twoMessagesInOneChunk() {
    StreamFramer framer(StreamFramer::Role::Server);
    const QByteArray first = message("one", "c1");
    const QByteArray second = message("second", "c2");
    const QByteArray third = message("3", "c3");
    auto out = framer.feed(first + second + third.first(20));
    QCOMPARE(out.messages.size(), std::size_t(2));
    QCOMPARE(out.messages[0], first);
    QCOMPARE(out.messages[1], second);
    QCOMPARE(framer.buffered(), 20);
    out = framer.feed(third.sliced(20));
    QCOMPARE(out.messages.size(), std::size_t(1));
    QCOMPARE(out.messages[0], third);
}

void TstStreamFramer::splitInsideBody() {
    StreamFramer framer(StreamFramer::Role::Server);
    const QByteArray bytes = message("0123456789");
    auto out = framer.feed(bytes.first(bytes.size() - 4));
    QVERIFY(out.messages.empty());
    out = framer.feed(bytes.last(4));
    QCOMPARE(out.messages.size(), std::size_t(1));
    QCOMPARE(out.messages[0], bytes);
}

void TstStreamFramer::pingIsAnswered() {
    StreamFramer framer(StreamFramer::Role::Server);
    auto out = framer.feed("\r\n\r\n");
    QCOMPARE(out.pings, 1);
    QVERIFY(out.messages.empty());
    QCOMPARE(framer.buffered(), 0);
    out = framer.feed("\r\n\r\n\r\n\r\n");
    QCOMPARE(out.pings, 2);
}

void TstStreamFramer::pingSplitAcrossReads() {
    StreamFramer framer(StreamFramer::Role::Server);
    QCOMPARE(framer.feed("\r").pings, 0);
    QCOMPARE(framer.feed("\n\r").pings, 0);
    QCOMPARE(framer.feed("\n").pings, 1);
}

void TstStreamFramer::pingsBetweenMessages() {
    StreamFramer framer(StreamFramer::Role::Server);
    const QByteArray bytes = message("x");
    const auto out = framer.feed("\r\n\r\n" + bytes + "\r\n\r\n" + bytes);
    QCOMPARE(out.pings, 2);
    QCOMPARE(out.messages.size(), std::size_t(2));
    QCOMPARE(out.messages[1], bytes);
}

void TstStreamFramer::loneCrlfBeforeMessageIsNoPing() {
    // RFC 3261 §7.5: CRLFs before a start line are ignored; one CRLF is not a ping.
    StreamFramer framer(StreamFramer::Role::Server);
    const QByteArray bytes = message();
    auto out = framer.feed("\r\n" + bytes);
    QCOMPARE(out.pings, 0);
    QCOMPARE(out.messages.size(), std::size_t(1));
    // And the half-seen CRLF does not combine with a later one.
    out = framer.feed("\r\n");
    QCOMPARE(out.pings, 0);
    out = framer.feed(bytes);
    QCOMPARE(out.pings, 0);
    QCOMPARE(out.messages.size(), std::size_t(1));
}

void TstStreamFramer::clientSeesPongs() {
    // On a flow we opened, CRLFs are pongs and are never answered.
    StreamFramer framer(StreamFramer::Role::Client);
    auto out = framer.feed("\r\n");
    QCOMPARE(out.pongs, 1);
    QCOMPARE(out.pings, 0);
    out = framer.feed("\r\n\r\n");
    QCOMPARE(out.pongs, 2);
    QCOMPARE(out.pings, 0);
}

void TstStreamFramer::missingContentLengthFails() {
    StreamFramer framer(StreamFramer::Role::Server);
    const QByteArray bytes =
        "OPTIONS sip:bob@example.com SIP/2.0\r\n"
        "Via: SIP/2.0/TCP 192.0.2.1;branch=z9hG4bK1\r\n"
        "From: <sip:alice@example.com>;tag=a\r\n"
        "To: <sip:bob@example.com>\r\n"
        "Call-ID: c1\r\nCSeq: 1 OPTIONS\r\n\r\n";
    const auto out = framer.feed(bytes);
    QVERIFY(out.error.has_value());
    QVERIFY(out.error->reason.contains(QLatin1String("Content-Length")));
    QCOMPARE(out.rejected, bytes);
    QVERIFY(framer.failed());
    QCOMPARE(framer.buffered(), 0);
}

void TstStreamFramer::oversizedHeadersFail() {
    sip::ParseLimits limits;
    limits.maxMessageSize = 1024;
    StreamFramer framer(StreamFramer::Role::Server, limits);
    QByteArray bytes = "OPTIONS sip:bob@example.com SIP/2.0\r\n";
    std::optional<StreamFramer::Output> failed;
    for (int i = 0; i < 100 && !failed; ++i) {
        auto out = framer.feed("X-Filler: " + QByteArray(60, 'a') + "\r\n");
        if (out.error) failed = std::move(out);
        QVERIFY(framer.buffered() <= 2 * limits.maxMessageSize);
    }
    QVERIFY(failed.has_value());
    QCOMPARE(failed->error->sipStatus, 513);
}

void TstStreamFramer::bufferLimitHoldsForIncompleteBody() {
    sip::ParseLimits limits;
    limits.maxMessageSize = 4096;
    StreamFramer framer(StreamFramer::Role::Server, limits);
    QByteArray head = message();
    head.replace("Content-Length: 0", "Content-Length: 100000");
    const auto out = framer.feed(head);
    // The declared size alone is over the limit: refused before any body is buffered.
    QVERIFY(out.error.has_value());
    QCOMPARE(out.error->sipStatus, 513);
}

void TstStreamFramer::nothingAfterFailure() {
    StreamFramer framer(StreamFramer::Role::Server);
    QVERIFY(framer.feed("GARBAGE\r\n\r\n").error.has_value());
    const auto out = framer.feed(message());
    QVERIFY(out.messages.empty());
    QVERIFY(!out.error);
}

namespace {

// Feeds `bytes` one at a time; returns the messages framed.
std::vector<QByteArray> trickle(StreamFramer& framer, QByteArrayView bytes) {
    std::vector<QByteArray> got;
    for (qsizetype i = 0; i < bytes.size(); ++i) {
        auto out = framer.feed(bytes.sliced(i, 1));
        if (out.error) qFatal("framing failed: %s", qPrintable(out.error->reason));
        for (auto& m : out.messages)
            got.push_back(std::move(m));
    }
    return got;
}

}  // namespace

void TstStreamFramer::tricklingHeadersCostsLinearWork() {
    // A slow peer sends a 60 KiB header section byte by byte: the framer must not rescan
    // what it already saw (that would be ~1.8e9 byte looks here).
    QByteArray bytes = message("body");
    QByteArray filler;
    while (filler.size() < 60 * 1024)
        filler += "X-Filler: " + QByteArray(100, 'f') + "\r\n";
    bytes.replace("CSeq:", filler + "CSeq:");
    QVERIFY(bytes.size() < 64 * 1024);
    StreamFramer framer(StreamFramer::Role::Server);
    const auto got = trickle(framer, bytes);
    QCOMPARE(got.size(), std::size_t(1));
    QCOMPARE(got[0], bytes);
    QVERIFY2(framer.examinedBytes() <= quint64(8 * bytes.size()),
             qPrintable(QStringLiteral("%1 bytes looked at for %2")
                            .arg(framer.examinedBytes())
                            .arg(bytes.size())));
}

void TstStreamFramer::tricklingBodyCostsLinearWork() {
    // Large headers, then a large body byte by byte: once the Content-Length is known
    // the headers are not read again per byte.
    QByteArray bytes = message(QByteArray(30 * 1024, 'b'));
    bytes.replace("CSeq:", "X-Filler: " + QByteArray(30 * 1024, 'h') + "\r\nCSeq:");
    StreamFramer framer(StreamFramer::Role::Server);
    const auto got = trickle(framer, bytes);
    QCOMPARE(got.size(), std::size_t(1));
    QCOMPARE(got[0], bytes);
    QVERIFY2(framer.examinedBytes() <= quint64(8 * bytes.size()),
             qPrintable(QStringLiteral("%1 bytes looked at for %2")
                            .arg(framer.examinedBytes())
                            .arg(bytes.size())));
    // The same stream of many small messages stays linear as well.
    StreamFramer many(StreamFramer::Role::Server);
    QByteArray stream;
    for (int i = 0; i < 50; ++i)
        stream += "\r\n\r\n" + message(QByteArray::number(i), "c" + QByteArray::number(i));
    QCOMPARE(trickle(many, stream).size(), std::size_t(50));
    QVERIFY(many.examinedBytes() <= quint64(8 * stream.size()));
}

void TstStreamFramer::everySplitFramesAlike_data() {
    QTest::addColumn<QByteArray>("stream");
    QTest::addColumn<int>("messages");
    const QByteArray a = message("first body", "c1");
    const QByteArray b = message({}, "c2");
    QByteArray lf = message("x", "c3");
    lf.replace("\r\n", "\n");  // bare LFs, tolerated
    QByteArray mixed = message("yz", "c4");
    mixed.replace("\r\n\r\n", "\n\r\n");  // LF CR LF ends the headers too
    QTest::newRow("two messages") << a + b << 2;
    QTest::newRow("pings around") << "\r\n\r\n" + a + "\r\n" + b + "\r\n\r\n" << 2;
    QTest::newRow("bare LFs") << lf + a << 2;
    QTest::newRow("LF CR LF") << mixed + b << 2;
    QTest::newRow("stray CRs in front") << "\r\r\n" + a << 1;
}

void TstStreamFramer::everySplitFramesAlike() {
    // The incremental framer must cut a stream exactly as one findStreamFrame() pass over
    // the whole does, wherever the reads split it.
    QFETCH(QByteArray, stream);
    QFETCH(int, messages);
    StreamFramer whole(StreamFramer::Role::Server);
    const auto reference = whole.feed(stream);
    QVERIFY(!reference.error);
    QCOMPARE(int(reference.messages.size()), messages);
    for (qsizetype cut = 1; cut < stream.size(); ++cut) {
        for (qsizetype second = cut; second <= stream.size(); second += 7) {
            StreamFramer framer(StreamFramer::Role::Server);
            std::vector<QByteArray> got;
            int pings = 0;
            for (auto part :
                 {stream.first(cut), stream.sliced(cut, second - cut), stream.sliced(second)}) {
                auto out = framer.feed(part);
                QVERIFY(!out.error);
                pings += out.pings;
                for (auto& m : out.messages)
                    got.push_back(std::move(m));
            }
            QCOMPARE(got, reference.messages);
            QCOMPARE(pings, reference.pings);
            QCOMPARE(framer.buffered(), whole.buffered());
        }
    }
}

void TstStreamFramer::foldedAndCompactContentLength() {
    // The length the framer waits for is the one findStreamFrame() reads: compact form,
    // a folded value, any case.
    for (const QByteArray& header : {QByteArray("l: 5"), QByteArray("Content-Length:\r\n 5"),
                                     QByteArray("CONTENT-length : 5")}) {
        QByteArray bytes = message("12345");
        bytes.replace("Content-Length: 5", header);
        StreamFramer framer(StreamFramer::Role::Server);
        auto out = framer.feed(bytes.first(bytes.size() - 3));
        QVERIFY(out.messages.empty());
        QVERIFY(!out.error);
        out = framer.feed(bytes.sliced(bytes.size() - 3, 2));
        QVERIFY(out.messages.empty());
        out = framer.feed(bytes.last(1) + "OP");  // and the start of the next one
        QCOMPARE(out.messages.size(), std::size_t(1));
        QCOMPARE(out.messages[0], bytes);
        QCOMPARE(framer.buffered(), 2);
    }
}

void TstStreamFramer::headerEndSplitAcrossReads() {
    // The empty line itself arrives a byte per read, after the scan already stopped at
    // the last LF.
    const QByteArray bytes = message();
    const qsizetype end = bytes.size();
    StreamFramer framer(StreamFramer::Role::Server);
    QVERIFY(framer.feed(bytes.first(end - 3)).messages.empty());
    QVERIFY(framer.feed(bytes.sliced(end - 3, 1)).messages.empty());
    QVERIFY(framer.feed(bytes.sliced(end - 2, 1)).messages.empty());
    const auto out = framer.feed(bytes.last(1));
    QCOMPARE(out.messages.size(), std::size_t(1));
    QCOMPARE(out.messages[0], bytes);
}

void TstStreamFramer::crRunWithoutMessageIsBounded() {
    // CRs that never make a CRLF are no keep-alive and no message: they may not pile up.
    sip::ParseLimits limits;
    limits.maxMessageSize = 1024;
    StreamFramer framer(StreamFramer::Role::Server, limits);
    std::optional<StreamFramer::Output> failed;
    for (int i = 0; i < 4096 && !failed; ++i) {
        auto out = framer.feed("\r\r");
        QVERIFY(out.messages.empty());
        if (out.error) failed = std::move(out);
        QVERIFY(framer.buffered() <= framer.maxBuffered());
    }
    QVERIFY(failed.has_value());
    QCOMPARE(failed->error->kind, ErrorKind::Limit);
    QVERIFY(framer.failed());
}

void TstStreamFramer::trickledOversizedHeadersFail() {
    // The same 513 as for a header section that arrives at once, a byte at a time.
    sip::ParseLimits limits;
    limits.maxMessageSize = 2048;
    StreamFramer framer(StreamFramer::Role::Server, limits);
    const QByteArray bytes =
        "OPTIONS sip:bob@example.com SIP/2.0\r\nX-Filler: " + QByteArray(4096, 'a') + "\r\n";
    std::optional<StreamFramer::Output> failed;
    for (qsizetype i = 0; i < bytes.size() && !failed; ++i) {
        auto out = framer.feed(bytes.sliced(i, 1));
        if (out.error) failed = std::move(out);
    }
    QVERIFY(failed.has_value());
    QCOMPARE(failed->error->sipStatus, 513);
    QCOMPARE(failed->rejected.size(), limits.maxMessageSize + 1);
    QVERIFY(framer.examinedBytes() <= quint64(8 * bytes.size()));
}

QTEST_GUILESS_MAIN(TstStreamFramer)
#include "tst_stream_framer.moc"
