// RFC 3261 §17.2.1 INVITE server transaction (with RFC 6026 Accepted) and §9.2 CANCEL.

#include <QTest>

#include "base/manual_clock.h"
#include "base/random.h"
#include "fake_transport.h"
#include "transaction/transaction_layer.h"
#include "transaction_test_support.h"

using namespace sb;
using namespace sb::test;

namespace {

struct Fixture {
    Fixture() : layer(transport, clock, random) {
        layer.setServerUser(&server);
        start = clock.now();
    }

    void inject(const sip::Message& m, transport::Protocol protocol = transport::Protocol::Udp,
                transport::ConnectionId connection = 0) {
        QVERIFY(transport.inject(m, peerEndpoint(protocol), connection).has_value());
    }
    transaction::TransactionId receiveInvite(
        transport::Protocol protocol = transport::Protocol::Udp) {
        inject(incomingRequest(sip::Method::Invite), protocol);
        if (server.requests.empty()) qFatal("INVITE not delivered");
        return server.requests.back().id;
    }
    void answer(transaction::TransactionId id, int status, QByteArrayView toTag = "alice-1") {
        const sip::Message* request = layer.serverRequest(id);
        QVERIFY(request);
        QVERIFY(layer.sendResponse(id, sip::makeResponse(*request, status, {}, toTag)).has_value());
    }
    std::vector<qint64> responseTimes(int status) const {
        std::vector<qint64> times;
        for (const auto& s : transport.responses())
            if (s.statusCode() == status) times.push_back((s.at - start).count());
        return times;
    }
    // The ACK a UAC sends for a 3xx-6xx: same branch as the INVITE (§17.1.1.3).
    static sip::Message ackForFailure() {
        return incomingRequest(sip::Method::Ack, "z9hG4bK-peer-1", 1, "alice-1");
    }
    // The ACK for a 2xx: a new branch (§13.2.2.4).
    static sip::Message ackFor2xx() {
        return incomingRequest(sip::Method::Ack, "z9hG4bK-peer-ack", 1, "alice-1");
    }

    base::ManualClock clock;
    FakeTransport transport{&clock};
    base::SeededRandom random{3};
    transaction::TransactionLayer layer;
    RecordingServerUser server;
    base::TimePoint start;
};

}  // namespace

class TestServerInviteTransaction : public QObject {
    Q_OBJECT

private slots:
    void newInviteReachesTheTu() {
        Fixture f;
        const auto id = f.receiveInvite();
        QCOMPARE(f.server.requests.size(), 1u);
        QCOMPARE(f.server.requests[0].message.method(), sip::Method::Invite);
        QVERIFY(f.layer.serverRequest(id) != nullptr);
        QCOMPARE(f.layer.serverTransactionCount(), 1u);
    }

    void tryingAfter200Milliseconds() {
        Fixture f;
        f.receiveInvite();
        f.clock.advance(base::Duration(199));
        QCOMPARE(f.transport.sent().size(), 0u);
        f.clock.advance(base::Duration(1));
        QCOMPARE(f.transport.countResponses(100), 1);
        const SentMessage& trying = *f.transport.lastResponse();
        QCOMPARE(trying.destination, peerEndpoint());
        QCOMPARE(trying.message.topVia()->branch(), QByteArrayView("z9hG4bK-peer-1"));
        QVERIFY(trying.message.to()->tag().isEmpty());
        f.clock.advance(base::Duration(10'000));
        QCOMPARE(f.transport.sent().size(), 1u);
    }

    void noTryingWhenTheTuAnswersInTime() {
        Fixture f;
        f.server.onRequestHook = [&](transaction::TransactionId id,
                                     const transport::IncomingMessage& in) {
            QVERIFY(f.layer.sendResponse(id, sip::makeResponse(in.message, 180, {}, "alice-1"))
                        .has_value());
        };
        f.receiveInvite();
        f.clock.advance(base::Duration(1'000));
        QCOMPARE(f.transport.countResponses(100), 0);
        QCOMPARE(f.transport.countResponses(180), 1);
    }

    void retransmittedInviteGetsTheLastProvisional() {
        Fixture f;
        const auto id = f.receiveInvite();
        f.inject(incomingRequest(sip::Method::Invite));  // before any response: absorbed
        QCOMPARE(f.transport.sent().size(), 0u);
        f.answer(id, 180);
        f.inject(incomingRequest(sip::Method::Invite));
        QCOMPARE(f.transport.countResponses(180), 2);
        QCOMPARE(f.server.requests.size(), 1u);  // the TU saw it once
        QCOMPARE(f.layer.serverTransactionCount(), 1u);
    }

    void failureIsRetransmittedWithTimerGUntilTimerH() {
        Fixture f;
        const auto id = f.receiveInvite();
        f.answer(id, 486);
        f.clock.advance(base::Duration(40'000));
        // G: 500, 1000, 2000, 4000 (T2), 4000 ...; H = 64*T1 = 32 s.
        const std::vector<qint64> expected{0,     500,   1500,  3500,  7500, 11500,
                                           15500, 19500, 23500, 27500, 31500};
        QCOMPARE(f.responseTimes(486), expected);
        QCOMPARE(f.server.ackTimeouts, std::vector<transaction::TransactionId>{id});
        QCOMPARE(f.layer.serverTransactionCount(), 0u);
    }

    void retransmittedInviteInCompletedGetsTheFinal() {
        Fixture f;
        const auto id = f.receiveInvite();
        f.answer(id, 404);
        f.inject(incomingRequest(sip::Method::Invite));
        QCOMPARE(f.transport.countResponses(404), 2);
        QCOMPARE(f.server.requests.size(), 1u);
    }

    void ackStopsRetransmissionsAndTimerIAbsorbs() {
        Fixture f;
        const auto id = f.receiveInvite();
        f.answer(id, 486);
        f.clock.advance(base::Duration(600));
        QCOMPARE(f.transport.countResponses(486), 2);
        f.inject(Fixture::ackForFailure());
        QCOMPARE(f.server.acks.size(), 0u);  // the non-2xx ACK stays in the transaction
        f.inject(Fixture::ackForFailure());
        f.inject(incomingRequest(sip::Method::Invite));
        QCOMPARE(f.server.acks.size(), 0u);
        QCOMPARE(f.server.requests.size(), 1u);
        f.clock.advance(base::Duration(4'999));  // Timer I = T4 over UDP
        QCOMPARE(f.transport.countResponses(486), 2);
        QCOMPARE(f.layer.serverTransactionCount(), 1u);
        f.clock.advance(base::Duration(1));
        QCOMPARE(f.layer.serverTransactionCount(), 0u);
        QVERIFY(f.server.ackTimeouts.empty());
    }

    void reliableFailureSentOnce() {
        Fixture f;
        const auto id = f.receiveInvite(transport::Protocol::Tcp);
        f.answer(id, 486);
        f.clock.advance(base::Duration(31'999));
        QCOMPARE(f.transport.countResponses(486), 1);
        QVERIFY(f.server.ackTimeouts.empty());
        f.clock.advance(base::Duration(1));  // Timer H runs on every transport
        QCOMPARE(f.server.ackTimeouts.size(), 1u);
    }

    void reliableAckEndsAtOnce() {
        Fixture f;
        const auto id = f.receiveInvite(transport::Protocol::Tcp);
        f.answer(id, 486);
        f.inject(Fixture::ackForFailure(), transport::Protocol::Tcp);
        QCOMPARE(f.layer.serverTransactionCount(), 0u);  // Timer I is 0 over TCP
    }

    void responsesGoBackOnTheConnection() {
        Fixture f;
        f.inject(incomingRequest(sip::Method::Invite), transport::Protocol::Tcp, 42);
        const auto id = f.server.requests.back().id;
        f.answer(id, 180);
        QCOMPARE(f.transport.lastResponse()->connection, transport::ConnectionId(42));
        QCOMPARE(f.transport.lastResponse()->destination, peerEndpoint(transport::Protocol::Tcp));
    }

    void twoXxIsRetransmittedUntilTheAck() {
        Fixture f;
        const auto id = f.receiveInvite();
        f.answer(id, 200);
        f.clock.advance(base::Duration(4'000));
        // §13.3.1.4: T1, doubling up to T2.
        QCOMPARE(f.responseTimes(200), (std::vector<qint64>{0, 500, 1500, 3500}));
        // RFC 6026: a retransmitted INVITE is absorbed in Accepted, not answered again.
        f.inject(incomingRequest(sip::Method::Invite));
        QCOMPARE(f.transport.countResponses(200), 4);
        QCOMPARE(f.server.requests.size(), 1u);
        f.inject(Fixture::ackFor2xx());
        QCOMPARE(f.server.acks.size(), 1u);
        f.clock.advance(base::Duration(20'000));
        QCOMPARE(f.transport.countResponses(200), 4);
        f.inject(Fixture::ackFor2xx());  // ACK retransmissions still reach the dialog layer
        QCOMPARE(f.server.acks.size(), 2u);
        // Timer L ends it; no complaint since the ACK came.
        f.clock.advance(base::Duration(8'000));
        QCOMPARE(f.layer.serverTransactionCount(), 0u);
        QVERIFY(f.server.ackTimeouts.empty());
    }

    void twoXxWithoutAckIsReported() {
        Fixture f;
        const auto id = f.receiveInvite();
        f.answer(id, 200);
        f.clock.advance(base::Duration(31'999));
        const std::vector<qint64> expected{0,     500,   1500,  3500,  7500, 11500,
                                           15500, 19500, 23500, 27500, 31500};
        QCOMPARE(f.responseTimes(200), expected);
        QVERIFY(f.server.ackTimeouts.empty());
        f.clock.advance(base::Duration(1));
        QCOMPARE(f.server.ackTimeouts, std::vector<transaction::TransactionId>{id});
        QCOMPARE(f.layer.serverTransactionCount(), 0u);
    }

    void twoXxIsRetransmittedOverTcpToo() {
        // §13.3.1.4: 2xx retransmission is end to end, independent of the transport.
        Fixture f;
        const auto id = f.receiveInvite(transport::Protocol::Tcp);
        f.answer(id, 200);
        f.clock.advance(base::Duration(1'000));
        QCOMPARE(f.transport.countResponses(200), 2);
        f.inject(Fixture::ackFor2xx(), transport::Protocol::Tcp);
        f.clock.advance(base::Duration(10'000));
        QCOMPARE(f.transport.countResponses(200), 2);
    }

    void proxiedTwoXxIsNotRetransmitted() {
        // A proxy forwards the UAS's 2xx (ServerResponseOptions::proxied): §13.3.1.4
        // retransmission is the UAS core's job, the ACK goes end to end, so neither
        // retransmissions nor onAckTimeout come from the transaction (RFC 6026 §7.1).
        Fixture f;
        const auto id = f.receiveInvite();
        const sip::Message* request = f.layer.serverRequest(id);
        QVERIFY(request);
        transaction::ServerResponseOptions proxied;
        proxied.proxied = true;
        QVERIFY(f.layer.sendResponse(id, sip::makeResponse(*request, 200, {}, "bob-1"), proxied)
                    .has_value());
        f.clock.advance(base::Duration(5'000));
        QCOMPARE(f.transport.countResponses(200), 1);
        // The UAS's retransmission (or another fork's 2xx) is forwarded again.
        QVERIFY(f.layer.sendResponse(id, sip::makeResponse(*request, 200, {}, "bob-2"), proxied)
                    .has_value());
        QCOMPARE(f.transport.countResponses(200), 2);
        f.inject(incomingRequest(sip::Method::Invite));  // absorbed in Accepted
        QCOMPARE(f.transport.countResponses(200), 2);
        f.clock.advance(base::Duration(30'000));  // Timer L (64*T1) ends it, no ACK seen
        QCOMPARE(f.layer.serverTransactionCount(), 0u);
        QVERIFY(f.server.ackTimeouts.empty());
        QCOMPARE(f.transport.countResponses(200), 2);
    }

    void proxiedTransactionStillPassesTheAck() {
        Fixture f;
        const auto id = f.receiveInvite();
        const sip::Message* request = f.layer.serverRequest(id);
        transaction::ServerResponseOptions proxied;
        proxied.proxied = true;
        QVERIFY(f.layer.sendResponse(id, sip::makeResponse(*request, 200, {}, "alice-1"), proxied)
                    .has_value());
        f.inject(Fixture::ackFor2xx());
        QCOMPARE(f.server.acks.size(), 1u);  // the proxy forwards it along the route
    }

    void proxiedFailureBehavesAsUsual() {
        // Only the 2xx handling differs: a 3xx-6xx is hop by hop (§16.7 step 6).
        Fixture f;
        const auto id = f.receiveInvite();
        const sip::Message* request = f.layer.serverRequest(id);
        transaction::ServerResponseOptions proxied;
        proxied.proxied = true;
        QVERIFY(f.layer.sendResponse(id, sip::makeResponse(*request, 486, {}, "alice-1"), proxied)
                    .has_value());
        f.clock.advance(base::Duration(600));
        QCOMPARE(f.transport.countResponses(486), 2);  // Timer G
        f.clock.advance(base::Duration(40'000));
        QCOMPARE(f.server.ackTimeouts, std::vector<transaction::TransactionId>{id});  // Timer H
    }

    void tuMayRetransmitTheTwoXxItself() {
        Fixture f;
        const auto id = f.receiveInvite();
        f.answer(id, 200);
        f.answer(id, 200);
        QCOMPARE(f.transport.countResponses(200), 2);
        const sip::Message* request = f.layer.serverRequest(id);
        QVERIFY(!f.layer.sendResponse(id, sip::makeResponse(*request, 486)).has_value());
    }

    void noSecondFinalResponse() {
        Fixture f;
        const auto id = f.receiveInvite();
        // Copied: the transaction drops its request once Completed.
        const sip::Message request = *f.layer.serverRequest(id);
        f.answer(id, 486);
        QVERIFY(!f.layer.sendResponse(id, sip::makeResponse(request, 200)).has_value());
        QVERIFY(!f.layer.sendResponse(id, sip::makeResponse(request, 180)).has_value());
        QVERIFY(!f.layer.sendResponse(12345, sip::makeResponse(request, 180)).has_value());
        QCOMPARE(f.transport.sent().size(), 1u);
    }

    void cancelOfPendingInvite() {
        Fixture f;
        const auto id = f.receiveInvite();
        f.answer(id, 180, "alice-7");
        f.inject(incomingRequest(sip::Method::Cancel));
        // §9.2: the layer answers the CANCEL 200 (same To tag as the INVITE's response)
        // and tells the TU, who answers the INVITE 487.
        QCOMPARE(f.transport.countResponses(200), 1);
        const SentMessage ok = *f.transport.lastResponse();
        QCOMPARE(ok.message.cseq()->method, sip::Method::Cancel);
        QCOMPARE(ok.message.to()->tag(), QByteArrayView("alice-7"));
        QCOMPARE(f.server.cancels.size(), 1u);
        QCOMPARE(f.server.cancels[0].id, id);
        QCOMPARE(f.server.requests.size(), 1u);  // the CANCEL is not a new request for the TU
        f.inject(incomingRequest(sip::Method::Cancel));  // retransmitted CANCEL: 200 again
        QCOMPARE(f.transport.countResponses(200), 2);
        QCOMPARE(f.server.cancels.size(), 1u);
        f.answer(id, 487, "alice-7");
        QCOMPARE(f.transport.countResponses(487), 1);
    }

    void cancelBeforeAnyResponse() {
        Fixture f;
        const auto id = f.receiveInvite();
        f.inject(incomingRequest(sip::Method::Cancel));
        QCOMPARE(f.transport.countResponses(200), 1);
        QVERIFY(!f.transport.lastResponse()->message.to()->tag().isEmpty());
        QCOMPARE(f.server.cancels.size(), 1u);
        QCOMPARE(f.server.cancels[0].id, id);
    }

    void completedDropsTheRequestAndResendsTheSameBytes() {
        // §17.2.1: Completed and Confirmed re-send the final response (Timer G, a
        // retransmitted INVITE) and wait for the ACK; the request itself is dropped.
        Fixture f;
        const auto id = f.receiveInvite();
        f.answer(id, 486);
        QVERIFY(f.layer.serverRequest(id) == nullptr);
        f.inject(incomingRequest(sip::Method::Invite));  // retransmission
        f.clock.advance(base::Duration(500));            // Timer G
        const auto responses = f.transport.responses();
        QCOMPARE(responses.size(), 3u);
        for (const SentMessage& again : responses) {
            QCOMPARE(again.message.serialize(), responses.front().message.serialize());
            QCOMPARE(again.destination, responses.front().destination);
        }
        f.inject(Fixture::ackForFailure());
        QCOMPARE(f.server.acks.size(), 0u);  // matched by key without the request
        f.clock.advance(base::Duration(10'000));
        QCOMPARE(f.transport.countResponses(486), 3);  // the ACK stopped Timer G
        QCOMPARE(f.server.ackTimeouts.size(), 0u);
        QCOMPARE(f.layer.serverTransactionCount(), 0u);  // Timer I (T4) ended it
    }

    void cancelAfterFailureReusesItsToTag() {
        // §9.2: the 200 for a CANCEL carries the To tag of the INVITE's response, read
        // from the kept response bytes once the request is gone.
        Fixture f;
        const auto id = f.receiveInvite();
        f.answer(id, 486, "alice-9");
        f.inject(incomingRequest(sip::Method::Cancel));
        const SentMessage ok = *f.transport.lastResponse();
        QCOMPARE(ok.message.cseq()->method, sip::Method::Cancel);
        QCOMPARE(ok.message.to()->tag(), QByteArrayView("alice-9"));
        QCOMPARE(f.server.cancels.size(), 0u);
    }

    void acceptedKeepsTheRequest() {
        // RFC 6026 §8.5: the TU may send the 2xx again, built from the request.
        Fixture f;
        const auto id = f.receiveInvite();
        f.answer(id, 200);
        QVERIFY(f.layer.serverRequest(id) != nullptr);
    }

    void cancelAfterFinalIsAnsweredButIgnored() {
        Fixture f;
        const auto id = f.receiveInvite();
        f.answer(id, 200);
        f.inject(incomingRequest(sip::Method::Cancel));
        const auto responses = f.transport.responses();
        QCOMPARE(responses.back().statusCode(), 200);
        QCOMPARE(responses.back().message.cseq()->method, sip::Method::Cancel);
        QCOMPARE(f.server.cancels.size(), 0u);
    }

    void cancelMatchingNothingGets481() {
        Fixture f;
        f.inject(incomingRequest(sip::Method::Cancel, "z9hG4bK-unknown"));
        QCOMPARE(f.transport.countResponses(481), 1);
        QCOMPARE(f.transport.lastResponse()->message.cseq()->method, sip::Method::Cancel);
        QCOMPARE(f.server.cancels.size(), 0u);
        QCOMPARE(f.server.requests.size(), 0u);
    }

    void withoutATuTheLayerAnswers503() {
        Fixture f;
        f.layer.setServerUser(nullptr);
        f.inject(incomingRequest(sip::Method::Invite));
        QCOMPARE(f.transport.countResponses(503), 1);
    }

    void invalidRequestGets400() {
        Fixture f;
        sip::Message broken = incomingRequest(sip::Method::Invite);
        broken.removeHeaders(sip::HeaderId::CallId);
        f.inject(broken);
        QCOMPARE(f.transport.countResponses(400), 1);
        QVERIFY(!f.transport.lastResponse()->message.reasonPhrase().isEmpty());
        QCOMPARE(f.server.requests.size(), 0u);
        sip::Message brokenAck = Fixture::ackForFailure();
        brokenAck.removeHeaders(sip::HeaderId::CallId);
        f.inject(brokenAck);
        QCOMPARE(f.transport.sent().size(), 1u);  // nothing answers an ACK
        QCOMPARE(f.server.acks.size(), 0u);
    }

    void unmatchedAckGoesToTheTu() {
        Fixture f;
        f.inject(incomingRequest(sip::Method::Ack, "z9hG4bK-lonely", 1, "x"));
        QCOMPARE(f.server.acks.size(), 1u);
        QCOMPARE(f.transport.sent().size(), 0u);
    }
};

QTEST_GUILESS_MAIN(TestServerInviteTransaction)
#include "tst_server_invite_transaction.moc"
