#include <QTest>

#include "sip/parser.h"
#include "transport/send_queue.h"

using namespace sb;
using namespace sb::transport;

namespace {

SendQueue::Entry entry(qsizetype size, char fill = 'x') {
    return SendQueue::Entry{QByteArray(size, fill), std::nullopt, {}};
}

}  // namespace

// The bound on what one connection may hold unsent, without sockets.
class TstSendQueue : public QObject {
    Q_OBJECT
private slots:
    void queuesUpToTheLimit();
    void refusedEntryIsNotQueued();
    void socketBufferCounts();
    void takeAllEmptiesInOrder();
    void keepsTheUdpFallback();
};

void TstSendQueue::queuesUpToTheLimit() {
    SendQueue queue(1000);
    QVERIFY(queue.push(entry(400)).has_value());
    QVERIFY(queue.push(entry(600)).has_value());  // exactly full
    QCOMPARE(queue.bytes(), 1000);
    const auto refused = queue.push(entry(1));
    QVERIFY(!refused.has_value());
    QCOMPARE(refused.error().kind, ErrorKind::Limit);
    QCOMPARE(queue.size(), std::size_t(2));
}

void TstSendQueue::refusedEntryIsNotQueued() {
    SendQueue queue(1000);
    QVERIFY(!queue.push(entry(1001)).has_value());
    QVERIFY(queue.empty());
    QCOMPARE(queue.bytes(), 0);
    QVERIFY(queue.push(entry(10)).has_value());  // smaller ones still go
}

void TstSendQueue::socketBufferCounts() {
    // Once connected the socket's own unsent bytes count against the same bound.
    const SendQueue queue(1024 * 1024);
    QVERIFY(queue.checkRoom(1000, 0).has_value());
    QVERIFY(queue.checkRoom(1000, 1024 * 1024 - 1000).has_value());
    QVERIFY(!queue.checkRoom(1000, 1024 * 1024 - 999).has_value());
    QVERIFY(!queue.checkRoom(1, 1024 * 1024).has_value());
    QVERIFY(queue.checkRoom(0, 1024 * 1024).has_value());
}

void TstSendQueue::takeAllEmptiesInOrder() {
    SendQueue queue(100);
    QVERIFY(queue.push(entry(10, 'a')).has_value());
    QVERIFY(queue.push(entry(20, 'b')).has_value());
    const auto taken = queue.takeAll();
    QCOMPARE(taken.size(), std::size_t(2));
    QCOMPARE(taken[0].bytes, QByteArray(10, 'a'));
    QCOMPARE(taken[1].bytes, QByteArray(20, 'b'));
    QVERIFY(queue.empty());
    QCOMPARE(queue.bytes(), 0);
    QVERIFY(queue.push(entry(100)).has_value());  // the room is back
}

void TstSendQueue::keepsTheUdpFallback() {
    const QByteArray text =
        "OPTIONS sip:bob@example.com SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 127.0.0.9;branch=z9hG4bK1\r\n"
        "From: <sip:alice@example.com>;tag=a\r\nTo: <sip:bob@example.com>\r\n"
        "Call-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
    auto message = sip::Parser::parse(text);
    QVERIFY(message.has_value());
    const Endpoint udp{Protocol::Udp, QHostAddress("127.0.0.8"), 5060};
    SendQueue queue(4096);
    QVERIFY(queue.push(SendQueue::Entry{text, *message, udp}).has_value());
    auto taken = queue.takeAll();
    QCOMPARE(taken.size(), std::size_t(1));
    QVERIFY(taken[0].udpFallback.has_value());
    QCOMPARE(taken[0].udpFallback->callId(), QByteArrayView("c1"));
    QCOMPARE(taken[0].udpDestination, udp);
}

QTEST_GUILESS_MAIN(TstSendQueue)
#include "tst_send_queue.moc"
