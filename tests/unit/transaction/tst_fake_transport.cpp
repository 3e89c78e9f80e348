// The FakeTransport test seam itself: recording, injection and network faults.

#include <QTest>

#include "base/manual_clock.h"
#include "fake_transport.h"
#include "transaction_test_support.h"

using namespace sb;
using namespace sb::test;
using Direction = FakeTransport::Direction;

namespace {

class CollectingUser final : public transport::TransportUser {
public:
    void onMessage(transport::IncomingMessage&& incoming) override {
        received.push_back(std::move(incoming));
    }
    void onFlowFailed(const transport::Endpoint& remote, const Error&) override {
        failed.push_back(remote);
    }
    std::vector<transport::IncomingMessage> received;
    std::vector<transport::Endpoint> failed;
};

sip::Message request(quint32 cseq) {
    return incomingRequest(sip::Method::Options, "z9hG4bK-" + QByteArray::number(cseq), cseq);
}

}  // namespace

class TestFakeTransport : public QObject {
    Q_OBJECT

private slots:
    void recordsAndFillsTheTopVia() {
        base::ManualClock clock;
        FakeTransport transport(&clock);
        sip::Message m = outgoingRequest(sip::Method::Options);
        m.prependHeader(sip::HeaderId::Via, "SIP/2.0/UDP 0.0.0.0;branch=z9hG4bKx;rport");
        auto used = transport.sendRequest(m, peerEndpoint());
        QVERIFY(used.has_value());
        QCOMPARE(*used, peerEndpoint());
        QCOMPARE(transport.sent().size(), 1u);
        auto via = transport.sent()[0].message.topVia();
        QCOMPARE(via->host, QByteArrayView("127.0.0.1"));
        QCOMPARE(via->port, std::optional<quint16>(5060));
        QCOMPARE(via->branch(), QByteArrayView("z9hG4bKx"));
        QVERIFY(via->hasRport());
        QCOMPARE(m.topVia()->host, QByteArrayView("127.0.0.1"));  // the caller's message too

        transport.setProtocolOverride(transport::Protocol::Tcp);
        used = transport.sendRequest(m, peerEndpoint());
        QCOMPARE(used->protocol, transport::Protocol::Tcp);
        QCOMPARE(transport.sent()[1].message.topVia()->transport, QByteArrayView("TCP"));
    }

    void injectionParsesLikeTheNetwork() {
        FakeTransport transport;
        CollectingUser user;
        transport.setUser(&user);
        QVERIFY(transport.inject(request(1), peerEndpoint(), 7).has_value());
        QCOMPARE(user.received.size(), 1u);
        QVERIFY(!user.received[0].message.raw().isEmpty());
        QCOMPARE(user.received[0].source, peerEndpoint());
        QCOMPARE(user.received[0].connection, transport::ConnectionId(7));
        QCOMPARE(user.received[0].local.port, quint16(5060));
        QVERIFY(!transport.injectRaw("garbage\r\n\r\n", peerEndpoint()).has_value());
        QCOMPARE(user.received.size(), 1u);
    }

    void dropDuplicateDelay() {
        base::ManualClock clock;
        FakeTransport transport(&clock);
        CollectingUser user;
        transport.setUser(&user);
        auto& in = transport.faults(Direction::FromNetwork);
        in.dropNext = 1;
        QVERIFY(transport.inject(request(1), peerEndpoint()).has_value());
        QCOMPARE(user.received.size(), 0u);
        in.duplicateNext = 1;
        QVERIFY(transport.inject(request(2), peerEndpoint()).has_value());
        QCOMPARE(user.received.size(), 2u);
        in.delay = base::Duration(100);
        QVERIFY(transport.inject(request(3), peerEndpoint()).has_value());
        QCOMPARE(user.received.size(), 2u);
        clock.advance(base::Duration(100));
        QCOMPARE(user.received.size(), 3u);
        in.delay = base::Duration(0);
        in.dropIf = [](const sip::Message& m) { return m.cseq()->number == 4; };
        QVERIFY(transport.inject(request(4), peerEndpoint()).has_value());
        QVERIFY(transport.inject(request(5), peerEndpoint()).has_value());
        QCOMPARE(user.received.size(), 4u);
        QCOMPARE(user.received.back().message.cseq()->number, 5u);
    }

    void holdAndReorder() {
        FakeTransport transport;
        CollectingUser user;
        transport.setUser(&user);
        transport.faults(Direction::FromNetwork).holdNext = 3;
        for (quint32 n = 1; n <= 3; ++n)
            QVERIFY(transport.inject(request(n), peerEndpoint()).has_value());
        QCOMPARE(transport.heldCount(Direction::FromNetwork), 3);
        QCOMPARE(user.received.size(), 0u);
        transport.releaseHeld(Direction::FromNetwork, FakeTransport::ReleaseOrder::Reversed);
        QCOMPARE(user.received.size(), 3u);
        QCOMPARE(user.received[0].message.cseq()->number, 3u);
        QCOMPARE(user.received[2].message.cseq()->number, 1u);
    }

    void outgoingFaultsAffectThePeerOnly() {
        base::ManualClock clock;
        FakeTransport transport(&clock);
        std::vector<quint32> atPeer;
        transport.setPeer(
            [&](const SentMessage& s) { atPeer.push_back(s.message.cseq()->number); });
        auto& out = transport.faults(Direction::ToNetwork);
        out.dropNext = 1;
        out.duplicateNext = 1;
        for (quint32 n = 1; n <= 2; ++n) {
            sip::Message m = request(n);
            QVERIFY(transport.sendRequest(m, peerEndpoint()).has_value());
        }
        QCOMPARE(transport.sent().size(), 2u);
        QCOMPARE(atPeer, (std::vector<quint32>{2, 2}));
        const sip::Message response = sip::makeResponse(request(9), 200);
        QVERIFY(transport.sendResponse(response, peerEndpoint(), 3).has_value());
        QCOMPARE(transport.lastResponse()->connection, transport::ConnectionId(3));
        QCOMPARE(transport.countResponses(200), 1);
        QCOMPARE(atPeer.size(), 3u);
    }

    void sendFailures() {
        FakeTransport transport;
        transport.failNextSends(2);
        sip::Message m = request(1);
        QVERIFY(!transport.sendRequest(m, peerEndpoint()).has_value());
        QVERIFY(!transport.sendResponse(sip::makeResponse(m, 200), peerEndpoint(), 0).has_value());
        QVERIFY(transport.sendRequest(m, peerEndpoint()).has_value());
        transport.failAllSends(FakeTransport::defaultSendError());
        QVERIFY(!transport.sendRequest(m, peerEndpoint()).has_value());
        transport.failAllSends(std::nullopt);
        QVERIFY(transport.sendRequest(m, peerEndpoint()).has_value());
        QCOMPARE(transport.failedSendCount(), 3);
        QCOMPARE(transport.sent().size(), 2u);

        CollectingUser user;
        transport.setUser(&user);
        transport.flowFailed(peerEndpoint(), FakeTransport::defaultSendError());
        QCOMPARE(user.failed.size(), 1u);
    }

    void injectAfterAndAnswer() {
        base::ManualClock clock;
        FakeTransport transport(&clock);
        CollectingUser user;
        transport.setUser(&user);
        sip::Message m = outgoingRequest(sip::Method::Options);
        m.prependHeader(sip::HeaderId::Via, "SIP/2.0/UDP 0.0.0.0;branch=z9hG4bKy");
        QVERIFY(transport.sendRequest(m, peerEndpoint()).has_value());
        QVERIFY(transport.respond(transport.sent()[0], 200, "t1").has_value());
        QCOMPARE(user.received.size(), 1u);
        QCOMPARE(user.received[0].message.statusCode(), 200);
        QCOMPARE(user.received[0].message.to()->tag(), QByteArrayView("t1"));
        QCOMPARE(user.received[0].source, peerEndpoint());
        QVERIFY(transport.injectAfter(base::Duration(50), request(2), peerEndpoint()).has_value());
        clock.advance(base::Duration(49));
        QCOMPARE(user.received.size(), 1u);
        clock.advance(base::Duration(1));
        QCOMPARE(user.received.size(), 2u);
    }
};

QTEST_GUILESS_MAIN(TestFakeTransport)
#include "tst_fake_transport.moc"
