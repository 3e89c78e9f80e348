// RFC 3261 §17.1.3 and §17.2.3 matching, including the RFC 2543 fallback.

#include <QTest>

#include "base/manual_clock.h"
#include "base/random.h"
#include "fake_transport.h"
#include "transaction/transaction_layer.h"
#include "transaction_test_support.h"

using namespace sb;
using namespace sb::test;
using Event = RecordingClientUser::Event;

namespace {

struct Fixture {
    Fixture() : layer(transport, clock, random) { layer.setServerUser(&server); }

    void inject(const sip::Message& m) { QVERIFY(transport.inject(m, peerEndpoint()).has_value()); }

    base::ManualClock clock;
    FakeTransport transport{&clock};
    base::SeededRandom random{9};
    transaction::TransactionLayer layer;
    RecordingServerUser server;
    RecordingClientUser user;
};

// An RFC 2543 request: its Via has no magic-cookie branch.
sip::Message rfc2543Request(sip::Method method, QByteArray toTag = {},
                            QByteArray callId = "old-call@test") {
    sip::Message m = sip::Message::request(method, "sip:alice@127.0.0.1:5060");
    m.addHeader(sip::HeaderId::Via, "SIP/2.0/UDP 127.0.0.2:5070");
    m.addHeader(sip::HeaderId::From, "<sip:old@test>;tag=old-tag");
    m.addHeader(sip::HeaderId::To,
                toTag.isEmpty() ? QByteArray("<sip:alice@test>") : "<sip:alice@test>;tag=" + toTag);
    m.addHeader(sip::HeaderId::CallId, callId);
    m.addHeader(sip::HeaderId::CSeq, "1 " + sip::methodName(method).toByteArray());
    return m;
}

}  // namespace

class TestTransactionMatching : public QObject {
    Q_OBJECT

private slots:
    void responseWithOtherBranchIsStray() {
        Fixture f;
        QVERIFY(f.layer.sendRequest(outgoingRequest(sip::Method::Options), peerEndpoint(), &f.user)
                    .has_value());
        sip::Message response = sip::makeResponse(f.transport.lastRequest()->message, 200);
        response.setHeader(sip::HeaderId::Via,
                           "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKother;rport=5060");
        f.inject(response);
        QCOMPARE(f.user.events.size(), 0u);
        QCOMPARE(f.server.strays.size(), 1u);
    }

    void inviteAndCancelShareABranchButNotATransaction() {
        Fixture f;
        auto id =
            f.layer.sendRequest(outgoingRequest(sip::Method::Invite), peerEndpoint(), &f.user);
        QVERIFY(id.has_value());
        QVERIFY(f.transport.respond(*f.transport.lastRequest(), 180, "b").has_value());
        f.layer.cancelInvite(*id);
        const SentMessage cancel = *f.transport.lastRequest(sip::Method::Cancel);
        QVERIFY(f.transport.respond(cancel, 200, "b").has_value());
        // The CANCEL's 200 did not end the INVITE.
        QCOMPARE(f.user.count(Event::Final), 0);
        QVERIFY(f.transport.respond(*f.transport.lastRequest(sip::Method::Invite), 487, "b")
                    .has_value());
        QCOMPARE(f.user.statuses(Event::Final), std::vector<int>{487});
    }

    void serverMatchesBranchSentByAndMethod() {
        Fixture f;
        f.inject(incomingRequest(sip::Method::Options, "z9hG4bK-a"));
        f.inject(incomingRequest(sip::Method::Options, "z9hG4bK-a"));  // retransmission
        QCOMPARE(f.server.requests.size(), 1u);
        f.inject(incomingRequest(sip::Method::Options, "z9hG4bK-b"));  // other branch
        QCOMPARE(f.server.requests.size(), 2u);
        sip::Message otherSentBy = incomingRequest(sip::Method::Options, "z9hG4bK-a");
        otherSentBy.setHeader(sip::HeaderId::Via, "SIP/2.0/UDP 127.0.0.3:5070;branch=z9hG4bK-a");
        f.inject(otherSentBy);  // same branch from elsewhere
        QCOMPARE(f.server.requests.size(), 3u);
        sip::Message otherMethod = incomingRequest(sip::Method::Info, "z9hG4bK-a");
        f.inject(otherMethod);  // same branch, other method
        QCOMPARE(f.server.requests.size(), 4u);
        sip::Message upperHost = incomingRequest(sip::Method::Options, "z9hG4bK-c");
        upperHost.setHeader(sip::HeaderId::Via, "SIP/2.0/UDP PEER.example;branch=z9hG4bK-c");
        f.inject(upperHost);
        sip::Message lowerHost = upperHost;
        lowerHost.setHeader(sip::HeaderId::Via, "SIP/2.0/UDP peer.example;branch=z9hG4bK-c");
        f.inject(lowerHost);  // hosts compare case-insensitively
        QCOMPARE(f.server.requests.size(), 5u);
    }

    void rfc2543RetransmissionMatches() {
        Fixture f;
        f.inject(rfc2543Request(sip::Method::Invite));
        const auto id = f.server.requests.back().id;
        QVERIFY(
            f.layer.sendResponse(id, sip::makeResponse(*f.layer.serverRequest(id), 180, {}, "a1"))
                .has_value());
        f.inject(rfc2543Request(sip::Method::Invite));
        QCOMPARE(f.server.requests.size(), 1u);
        QCOMPARE(f.transport.countResponses(180), 2);
        f.inject(rfc2543Request(sip::Method::Invite, {}, "another-call@test"));
        QCOMPARE(f.server.requests.size(), 2u);
        sip::Message otherUri = rfc2543Request(sip::Method::Invite);
        otherUri.setRequestUri("sip:someone-else@127.0.0.1");
        f.inject(otherUri);
        QCOMPARE(f.server.requests.size(), 3u);
    }

    void rfc2543AckForFailureMatchesByResponseToTag() {
        Fixture f;
        f.inject(rfc2543Request(sip::Method::Invite));
        const auto id = f.server.requests.back().id;
        QVERIFY(
            f.layer.sendResponse(id, sip::makeResponse(*f.layer.serverRequest(id), 486, {}, "a1"))
                .has_value());
        f.inject(rfc2543Request(sip::Method::Ack, "wrong-tag"));
        QCOMPARE(f.server.acks.size(), 1u);  // matches nothing: the TU sees it
        f.inject(rfc2543Request(sip::Method::Ack, "a1"));
        QCOMPARE(f.server.acks.size(), 1u);  // absorbed by the transaction (Confirmed)
        f.clock.advance(base::Duration(10'000));
        QCOMPARE(f.transport.countResponses(486), 1);  // the ACK stopped Timer G
        QVERIFY(f.server.ackTimeouts.empty());
    }

    void rfc2543CancelMatchesTheInvite() {
        Fixture f;
        f.inject(rfc2543Request(sip::Method::Invite));
        const auto id = f.server.requests.back().id;
        f.inject(rfc2543Request(sip::Method::Cancel));
        QCOMPARE(f.server.cancels.size(), 1u);
        QCOMPARE(f.server.cancels[0].id, id);
        QCOMPARE(f.transport.countResponses(200), 1);
        f.inject(rfc2543Request(sip::Method::Cancel, {}, "unknown@test"));
        QCOMPARE(f.transport.countResponses(481), 1);
    }

    void rfc2543NonInviteRetransmission() {
        Fixture f;
        f.inject(rfc2543Request(sip::Method::Options));
        const auto id = f.server.requests.back().id;
        QVERIFY(
            f.layer.sendResponse(id, sip::makeResponse(*f.layer.serverRequest(id), 200, {}, "a1"))
                .has_value());
        f.inject(rfc2543Request(sip::Method::Options));
        QCOMPARE(f.server.requests.size(), 1u);
        QCOMPARE(f.transport.countResponses(200), 2);
    }

    void ackFor2xxMatchesByDialogNotBranch() {
        Fixture f;
        f.inject(incomingRequest(sip::Method::Invite, "z9hG4bK-inv"));
        const auto id = f.server.requests.back().id;
        QVERIFY(
            f.layer.sendResponse(id, sip::makeResponse(*f.layer.serverRequest(id), 200, {}, "a1"))
                .has_value());
        // An ACK of another dialog (other To tag) does not stop the 2xx retransmissions.
        f.inject(incomingRequest(sip::Method::Ack, "z9hG4bK-ack1", 1, "other"));
        f.clock.advance(base::Duration(600));
        QCOMPARE(f.transport.countResponses(200), 2);
        f.inject(incomingRequest(sip::Method::Ack, "z9hG4bK-ack2", 1, "a1"));
        f.clock.advance(base::Duration(10'000));
        QCOMPARE(f.transport.countResponses(200), 2);
        QCOMPARE(f.server.acks.size(), 2u);  // both ACKs go to the dialog layer
    }
};

QTEST_GUILESS_MAIN(TestTransactionMatching)
#include "tst_transaction_matching.moc"
