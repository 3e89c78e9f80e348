// RFC 3261 §17.2.2 non-INVITE server transaction.

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
    Fixture() : layer(transport, clock, random) { layer.setServerUser(&server); }

    void inject(const sip::Message& m, transport::Protocol protocol = transport::Protocol::Udp) {
        QVERIFY(transport.inject(m, peerEndpoint(protocol)).has_value());
    }
    transaction::TransactionId receive(transport::Protocol protocol = transport::Protocol::Udp) {
        inject(incomingRequest(sip::Method::Options), protocol);
        if (server.requests.empty()) qFatal("request not delivered");
        return server.requests.back().id;
    }
    Result<void> answer(transaction::TransactionId id, int status) {
        // After a final response the layer no longer holds the request (Completed keeps
        // only the response): answer again from the copy the TU recorded.
        const sip::Message* request = layer.serverRequest(id);
        for (const auto& received : server.requests)
            if (!request && received.id == id) request = &received.message;
        if (!request) qFatal("no request for %llu", static_cast<unsigned long long>(id));
        return layer.sendResponse(id, sip::makeResponse(*request, status, {}, "alice-1"));
    }

    base::ManualClock clock;
    FakeTransport transport{&clock};
    base::SeededRandom random{5};
    transaction::TransactionLayer layer;
    RecordingServerUser server;
};

}  // namespace

class TestServerNonInviteTransaction : public QObject {
    Q_OBJECT

private slots:
    void tryingAbsorbsRetransmissions() {
        Fixture f;
        f.receive();
        f.inject(incomingRequest(sip::Method::Options));
        f.inject(incomingRequest(sip::Method::Options));
        QCOMPARE(f.server.requests.size(), 1u);
        QCOMPARE(f.transport.sent().size(), 0u);  // no 100 Trying for non-INVITE
        f.clock.advance(base::Duration(1'000));
        QCOMPARE(f.transport.sent().size(), 0u);
    }

    void proceedingResendsTheProvisional() {
        Fixture f;
        const auto id = f.receive();
        QVERIFY(f.answer(id, 100).has_value());
        f.inject(incomingRequest(sip::Method::Options));
        QCOMPARE(f.transport.countResponses(100), 2);
        QVERIFY(f.answer(id, 200).has_value());
        QCOMPARE(f.transport.countResponses(200), 1);
    }

    void completedResendsTheFinalUntilTimerJ() {
        Fixture f;
        const auto id = f.receive();
        QVERIFY(f.answer(id, 200).has_value());
        f.clock.advance(base::Duration(10'000));
        QCOMPARE(f.transport.countResponses(200), 1);  // the server never retransmits by itself
        f.inject(incomingRequest(sip::Method::Options));
        QCOMPARE(f.transport.countResponses(200), 2);
        QCOMPARE(f.server.requests.size(), 1u);
        // Timer J = 64*T1 over UDP.
        f.clock.advance(base::Duration(21'999));
        QCOMPARE(f.layer.serverTransactionCount(), 1u);
        f.clock.advance(base::Duration(1));
        QCOMPARE(f.layer.serverTransactionCount(), 0u);
        // Afterwards the same request is new again.
        f.inject(incomingRequest(sip::Method::Options));
        QCOMPARE(f.server.requests.size(), 2u);
        QVERIFY(f.server.requests[1].id != id);
    }

    void endWithoutResponseAbsorbsUntilTimerJ() {
        // RFC 4320 §4.2: a proxy whose branches all timed out sends no 408; the
        // transaction still absorbs retransmissions (no new request for the TU) for 64*T1.
        Fixture f;
        const auto id = f.receive();
        QVERIFY(f.layer.endWithoutResponse(id).has_value());
        QVERIFY(f.layer.serverRequest(id) == nullptr);
        f.inject(incomingRequest(sip::Method::Options));
        QCOMPARE(f.server.requests.size(), 1u);
        QCOMPARE(f.transport.sent().size(), 0u);
        QVERIFY(!f.answer(id, 200).has_value());  // and no answer later
        QVERIFY(!f.layer.endWithoutResponse(id).has_value());
        f.clock.advance(base::Duration(31'999));
        QCOMPARE(f.layer.serverTransactionCount(), 1u);
        f.clock.advance(base::Duration(1));
        QCOMPARE(f.layer.serverTransactionCount(), 0u);
        QCOMPARE(f.transport.sent().size(), 0u);
    }

    void endWithoutResponseAfterAProvisionalSendsNothingMore() {
        Fixture f;
        const auto id = f.receive();
        QVERIFY(f.answer(id, 100).has_value());
        QVERIFY(f.layer.endWithoutResponse(id).has_value());
        f.inject(incomingRequest(sip::Method::Options));
        QCOMPARE(f.transport.sent().size(), 1u);  // the 100 is not repeated
    }

    void endWithoutResponseOverTcpEndsAtOnce() {
        Fixture f;
        const auto id = f.receive(transport::Protocol::Tcp);
        QVERIFY(f.layer.endWithoutResponse(id).has_value());
        QCOMPARE(f.layer.serverTransactionCount(), 0u);
    }

    void inviteCannotEndWithoutResponse() {
        Fixture f;
        f.inject(incomingRequest(sip::Method::Invite));
        const auto id = f.server.requests.back().id;
        QVERIFY(!f.layer.endWithoutResponse(id).has_value());
        QVERIFY(!f.layer.endWithoutResponse(4242).has_value());
        QCOMPARE(f.layer.serverTransactionCount(), 1u);
    }

    void reliableEndsAtOnce() {
        Fixture f;
        const auto id = f.receive(transport::Protocol::Tcp);
        QVERIFY(f.answer(id, 200).has_value());
        QCOMPARE(f.layer.serverTransactionCount(), 0u);  // Timer J is 0 over TCP
    }

    void oneFinalResponseOnly() {
        Fixture f;
        const auto id = f.receive();
        QVERIFY(f.answer(id, 404).has_value());
        QVERIFY(!f.answer(id, 200).has_value());
        QVERIFY(!f.answer(id, 180).has_value());
        QCOMPARE(f.transport.sent().size(), 1u);
    }

    void sendFailureIsReturned() {
        Fixture f;
        const auto id = f.receive();
        f.transport.failNextSends(1);
        auto sent = f.answer(id, 200);
        QVERIFY(!sent.has_value());
        QCOMPARE(sent.error().kind, ErrorKind::Transport);
        QCOMPARE(f.layer.serverTransactionCount(), 0u);  // §17.2.4
    }

    void completedResendsTheSameBytes() {
        // §17.2.2: a retransmitted request gets the final response again, byte for byte,
        // to the same place, although the transaction only keeps the serialized response.
        Fixture f;
        const auto id = f.receive();
        sip::Message response = sip::makeResponse(*f.layer.serverRequest(id), 202, "Taken", "a-1");
        response.addHeader("X-Extra", "kept as sent");
        response.setBody("text/plain", "a body that must come back unchanged");
        QVERIFY(f.layer.sendResponse(id, response).has_value());
        const SentMessage first = *f.transport.lastResponse();
        f.inject(incomingRequest(sip::Method::Options));
        f.inject(incomingRequest(sip::Method::Options));
        QCOMPARE(f.transport.countResponses(202), 3);
        for (const SentMessage& again : f.transport.responses()) {
            QCOMPARE(again.message.serialize(), first.message.serialize());
            QCOMPARE(again.destination, first.destination);
            QCOMPARE(again.connection, first.connection);
        }
        QCOMPARE(first.message.serialize(), response.serialize());
        QCOMPARE(f.server.requests.size(), 1u);
    }

    void requestIsDroppedOnceCompleted() {
        // The request is kept while the TU may answer (Trying, Proceeding) and dropped
        // after the final response: Completed only re-sends it (§17.2.2).
        Fixture f;
        const auto id = f.receive();
        QVERIFY(f.layer.serverRequest(id) != nullptr);
        QVERIFY(f.answer(id, 100).has_value());
        QVERIFY(f.layer.serverRequest(id) != nullptr);
        QVERIFY(f.answer(id, 200).has_value());
        QCOMPARE(f.layer.serverTransactionCount(), 1u);  // alive for Timer J
        QVERIFY(f.layer.serverRequest(id) == nullptr);
        f.inject(incomingRequest(sip::Method::Options));
        QCOMPARE(f.transport.countResponses(200), 2);
    }

    void requestOutlivesTheAnswerWithinTheEvent() {
        // A TU answering from inside onRequest may read the request after answering
        // (e.g. to log it): it is only dropped when the event is over.
        Fixture f;
        QByteArray callIdAfterAnswer;
        bool requestStillThere = false;
        f.server.onRequestHook = [&](transaction::TransactionId id,
                                     const transport::IncomingMessage& incoming) {
            QVERIFY(f.answer(id, 200).has_value());
            requestStillThere = f.layer.serverRequest(id) == &incoming.message;
            callIdAfterAnswer = incoming.message.callId().toByteArray();
        };
        const auto id = f.receive();
        QVERIFY(requestStillThere);
        QCOMPARE(callIdAfterAnswer, QByteArray("peer-call@test"));
        QVERIFY(f.layer.serverRequest(id) == nullptr);
    }

    void answerFromInsideOnRequest() {
        Fixture f;
        f.server.onRequestHook = [&](transaction::TransactionId id,
                                     const transport::IncomingMessage&) {
            QVERIFY(f.answer(id, 200).has_value());
        };
        f.receive();
        QCOMPARE(f.transport.countResponses(200), 1);
        f.inject(incomingRequest(sip::Method::Options));
        QCOMPARE(f.transport.countResponses(200), 2);
    }
};

QTEST_GUILESS_MAIN(TestServerNonInviteTransaction)
#include "tst_server_non_invite_transaction.moc"
