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

QTEST_GUILESS_MAIN(TstStreamFramer)
#include "tst_stream_framer.moc"
