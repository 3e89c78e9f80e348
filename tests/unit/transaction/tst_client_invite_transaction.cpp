// RFC 3261 §17.1.1 INVITE client transaction (with RFC 6026 Accepted) and §9.1 CANCEL.

#include <QTest>

#include "base/manual_clock.h"
#include "base/random.h"
#include "fake_transport.h"
#include "transaction/transaction_layer.h"
#include "transaction_test_support.h"

using namespace sb;
using namespace sb::test;
using Event = RecordingClientUser::Event;
using Direction = FakeTransport::Direction;

namespace {

struct Fixture {
    explicit Fixture(transaction::TimerValues values = {})
        : layer(transport, clock, random, values) {
        layer.setServerUser(&server);
        start = clock.now();
    }

    transaction::TransactionId invite(transport::Protocol protocol = transport::Protocol::Udp,
                                      sip::Message request = outgoingRequest(sip::Method::Invite)) {
        auto id = layer.sendRequest(std::move(request), peerEndpoint(protocol), &user);
        if (!id) qFatal("sendRequest failed: %s", qPrintable(id.error().reason));
        return *id;
    }
    const SentMessage& sentInvite() const { return *transport.lastRequest(sip::Method::Invite); }
    void respond(int status, QByteArrayView toTag = "bob-1") {
        QVERIFY(transport.respond(sentInvite(), status, toTag).has_value());
    }
    qint64 elapsed(const SentMessage& sent) const { return (sent.at - start).count(); }

    base::ManualClock clock;
    FakeTransport transport{&clock};
    base::SeededRandom random{7};
    transaction::TransactionLayer layer;
    RecordingClientUser user;
    RecordingServerUser server;
    base::TimePoint start;
};

}  // namespace

class TestClientInviteTransaction : public QObject {
    Q_OBJECT

private slots:
    void sendAddsTopViaWithBranchAndRport() {
        Fixture f;
        f.invite();
        QCOMPARE(f.transport.sent().size(), 1u);
        const sip::Message& sent = f.sentInvite().message;
        QCOMPARE(sent.count(sip::HeaderId::Via), 1);
        auto via = sent.topVia();
        QVERIFY(via.has_value());
        QVERIFY(via->hasMagicCookie());
        QVERIFY(via->branch().size() > sip::kMagicCookie.size());
        QVERIFY(via->hasRport());
        QCOMPARE(via->transport, QByteArrayView("UDP"));
        QCOMPARE(sent.maxForwards(), std::optional<quint32>(70));
        QCOMPARE(f.user.events.size(), 0u);  // nothing is reported from inside sendRequest
        QCOMPARE(f.layer.clientTransactionCount(), 1u);
    }

    void branchesAreUnique() {
        Fixture f;
        f.invite();
        f.layer.sendRequest(outgoingRequest(sip::Method::Invite, 2, "call-2@test"), peerEndpoint(),
                            &f.user);
        const auto sent = f.transport.requests(sip::Method::Invite);
        QCOMPARE(sent.size(), 2u);
        QVERIFY(sent[0].message.topVia()->branch() != sent[1].message.topVia()->branch());
    }

    void timerADoublesUntilTimerB() {
        Fixture f;
        const auto id = f.invite();
        f.clock.advance(base::Duration(40'000));
        // §17.1.1.2: sends at 0, then after 500, 1000, 2000, 4000, 8000, 16000 ms; Timer B
        // (64*T1 = 32 s) ends it before the next one.
        const auto sent = f.transport.requests(sip::Method::Invite);
        QCOMPARE(sent.size(), 7u);
        const qint64 expected[] = {0, 500, 1500, 3500, 7500, 15500, 31500};
        for (std::size_t i = 0; i < sent.size(); ++i)
            QCOMPARE(f.elapsed(sent[i]), expected[i]);
        for (const auto& s : sent)
            QCOMPARE(s.message.topVia()->branch(), sent[0].message.topVia()->branch());
        QCOMPARE(f.user.count(Event::Timeout), 1);
        QCOMPARE(f.user.events.front().id, id);
        QCOMPARE(f.layer.clientTransactionCount(), 0u);
    }

    void timerBFiresAt64T1() {
        Fixture f;
        f.invite();
        f.clock.advance(base::Duration(31'999));
        QCOMPARE(f.user.count(Event::Timeout), 0);
        f.clock.advance(base::Duration(1));
        QCOMPARE(f.user.count(Event::Timeout), 1);
    }

    void configurableTimerValues() {
        transaction::TimerValues values;
        values.t1 = base::Duration(100);
        Fixture f(values);
        f.invite();
        f.clock.advance(base::Duration(10'000));
        const auto sent = f.transport.requests(sip::Method::Invite);
        const qint64 expected[] = {0, 100, 300, 700, 1500, 3100};
        QCOMPARE(sent.size(), 7u);
        for (std::size_t i = 0; i < 6; ++i)
            QCOMPARE(f.elapsed(sent[i]), expected[i]);
        QCOMPARE(f.elapsed(sent[6]), 6300);
        QCOMPARE(f.user.count(Event::Timeout), 1);
    }

    void reliableTransportSendsOnce() {
        Fixture f;
        f.invite(transport::Protocol::Tcp);
        f.clock.advance(base::Duration(31'999));
        QCOMPARE(f.transport.countRequests(sip::Method::Invite), 1);
        QCOMPARE(f.user.count(Event::Timeout), 0);
        f.clock.advance(base::Duration(1));
        QCOMPARE(f.user.count(Event::Timeout), 1);  // Timer B runs on every transport
    }

    void transportChosenByTransportDecidesRetransmission() {
        // §18.1.1: the transport may move a large request to TCP; the endpoint it used counts.
        Fixture f;
        f.transport.setProtocolOverride(transport::Protocol::Tcp);
        f.invite(transport::Protocol::Udp);
        f.clock.advance(base::Duration(10'000));
        QCOMPARE(f.transport.countRequests(sip::Method::Invite), 1);
        QCOMPARE(f.sentInvite().destination.protocol, transport::Protocol::Tcp);
    }

    void lostRetransmissionsStillCount() {
        Fixture f;
        f.transport.faults(Direction::ToNetwork).dropNext = 3;
        int delivered = 0;
        f.transport.setPeer([&](const SentMessage&) { ++delivered; });
        f.invite();
        f.clock.advance(base::Duration(4'000));
        QCOMPARE(f.transport.countRequests(sip::Method::Invite), 4);
        QCOMPARE(delivered, 1);
    }

    void provisionalStopsRetransmissionsAndTimerB() {
        Fixture f;
        const auto id = f.invite();
        f.clock.advance(base::Duration(700));
        QCOMPARE(f.transport.countRequests(sip::Method::Invite), 2);
        f.respond(180);
        QCOMPARE(f.user.statuses(Event::Provisional), std::vector<int>{180});
        QCOMPARE(f.user.events.front().id, id);
        QCOMPARE(f.user.events.front().toTag, QByteArray("bob-1"));
        f.clock.advance(base::Duration(120'000));
        QCOMPARE(f.transport.countRequests(sip::Method::Invite), 2);
        QCOMPARE(f.user.count(Event::Timeout), 0);
        QCOMPARE(f.layer.clientTransactionCount(), 1u);  // Proceeding waits for the final answer
        f.respond(183);
        QCOMPARE(f.user.statuses(Event::Provisional), (std::vector<int>{180, 183}));
    }

    void failureResponseIsAcknowledged_data() {
        QTest::addColumn<int>("status");
        QTest::addColumn<bool>("afterProvisional");
        for (int status : {300, 302, 401, 404, 407, 486, 487, 500, 503, 603, 699}) {
            QTest::addRow("%d", status) << status << false;
            QTest::addRow("%d after 180", status) << status << true;
        }
    }

    void failureResponseIsAcknowledged() {
        QFETCH(int, status);
        QFETCH(bool, afterProvisional);
        Fixture f;
        sip::Message request = outgoingRequest(sip::Method::Invite, 17);
        request.addHeader(sip::HeaderId::Route, "<sip:proxy1.test;lr>");
        request.addHeader(sip::HeaderId::Route, "<sip:proxy2.test;lr>");
        request.addHeader(sip::HeaderId::Subject, "not copied");
        f.invite(transport::Protocol::Udp, request);
        if (afterProvisional) f.respond(180);
        f.respond(status, "bob-9");
        QCOMPARE(f.user.statuses(Event::Final), std::vector<int>{status});

        // §17.1.1.3: the ACK.
        QCOMPARE(f.transport.countRequests(sip::Method::Ack), 1);
        const SentMessage& ack = *f.transport.lastRequest(sip::Method::Ack);
        const sip::Message& invite = f.sentInvite().message;
        QCOMPARE(ack.destination, f.sentInvite().destination);
        QCOMPARE(ack.message.requestUri(), invite.requestUri());
        QCOMPARE(ack.message.callId(), invite.callId());
        QCOMPARE(ack.message.header(sip::HeaderId::From), invite.header(sip::HeaderId::From));
        QCOMPARE(ack.message.to()->tag(), QByteArrayView("bob-9"));
        QCOMPARE(ack.message.to()->uri.text, invite.to()->uri.text);
        QCOMPARE(ack.message.cseq()->number, 17u);
        QCOMPARE(ack.message.cseq()->method, sip::Method::Ack);
        QCOMPARE(ack.message.count(sip::HeaderId::Via), 1);
        QCOMPARE(ack.message.header(sip::HeaderId::Via), invite.header(sip::HeaderId::Via));
        const auto routes = ack.message.values(sip::HeaderId::Route);
        QCOMPARE(routes.size(), 2);
        QCOMPARE(routes[0], QByteArrayView("<sip:proxy1.test;lr>"));
        QCOMPARE(routes[1], QByteArrayView("<sip:proxy2.test;lr>"));
        QVERIFY(!ack.message.has(sip::HeaderId::Contact));
        QVERIFY(ack.message.header("Subject").isEmpty());
    }

    void completedResendsAckAndAbsorbsUntilTimerD() {
        Fixture f;
        f.invite();
        f.respond(486);
        f.clock.advance(base::Duration(1'000));
        f.respond(486);  // the ACK was lost
        f.respond(486);
        QCOMPARE(f.transport.countRequests(sip::Method::Ack), 3);
        QCOMPARE(f.user.count(Event::Final), 1);
        QCOMPARE(f.transport.countRequests(sip::Method::Invite), 1);  // Timer A stopped
        // Timer D: 32 s over UDP.
        f.clock.advance(base::Duration(30'999));
        QCOMPARE(f.layer.clientTransactionCount(), 1u);
        f.clock.advance(base::Duration(1));
        QCOMPARE(f.layer.clientTransactionCount(), 0u);
        f.respond(486);  // now it matches nothing
        QCOMPARE(f.transport.countRequests(sip::Method::Ack), 3);
        QCOMPARE(f.server.strays.size(), 1u);
        QCOMPARE(f.user.events.size(), 1u);
    }

    void reliableFailureEndsAtOnce() {
        Fixture f;
        f.invite(transport::Protocol::Tcp);
        f.respond(404);
        QCOMPARE(f.transport.countRequests(sip::Method::Ack), 1);
        QCOMPARE(f.user.count(Event::Final), 1);
        QCOMPARE(f.layer.clientTransactionCount(), 0u);  // Timer D is 0 over TCP
    }

    void everyTwoXxGoesToTheTuUntilTimerM() {
        Fixture f;
        const auto id = f.invite();
        f.respond(180, "fork-a");
        f.respond(200, "fork-a");
        QCOMPARE(f.user.statuses(Event::Final), std::vector<int>{200});
        // §13.2.2.4: the 2xx ACK belongs to the dialog, not to the transaction.
        QCOMPARE(f.transport.countRequests(sip::Method::Ack), 0);
        f.respond(200, "fork-b");  // another branch of a forked INVITE
        f.respond(200, "fork-a");  // a retransmission
        QCOMPARE(f.user.statuses(Event::Final), (std::vector<int>{200, 200, 200}));
        QCOMPARE(f.user.events[2].toTag, QByteArray("fork-b"));
        for (const auto& e : f.user.events)
            QCOMPARE(e.id, id);
        f.respond(486, "fork-c");  // RFC 6026: non-2xx in Accepted is dropped
        QCOMPARE(f.user.count(Event::Final), 3);
        QCOMPARE(f.transport.countRequests(sip::Method::Ack), 0);
        // Timer M (64*T1) ends it; a late 2xx goes to the dialog layer as a stray response.
        f.clock.advance(base::Duration(31'999));
        QCOMPARE(f.layer.clientTransactionCount(), 1u);
        f.clock.advance(base::Duration(1));
        QCOMPARE(f.layer.clientTransactionCount(), 0u);
        f.respond(200, "fork-a");
        QCOMPARE(f.user.count(Event::Final), 3);
        QCOMPARE(f.server.strays.size(), 1u);
        QCOMPARE(f.server.strays[0].statusCode(), 200);
    }

    void twoXxStopsRetransmissionsAndTimerB() {
        Fixture f;
        f.invite();
        f.respond(200);
        f.clock.advance(base::Duration(100'000));
        QCOMPARE(f.transport.countRequests(sip::Method::Invite), 1);
        QCOMPARE(f.user.count(Event::Timeout), 0);
    }

    void cancelAfterProvisional() {
        Fixture f;
        sip::Message request = outgoingRequest(sip::Method::Invite, 5);
        request.addHeader(sip::HeaderId::Route, "<sip:proxy.test;lr>");
        const auto id = f.invite(transport::Protocol::Udp, request);
        f.respond(180);
        f.layer.cancelInvite(id, "SIP;cause=200;text=\"Call completed elsewhere\"");
        QCOMPARE(f.transport.countRequests(sip::Method::Cancel), 1);
        const SentMessage cancel = *f.transport.lastRequest(sip::Method::Cancel);
        const sip::Message& invite = f.sentInvite().message;
        // §9.1: same Request-URI, Call-ID, To, From, CSeq number and top Via; Route copied.
        QCOMPARE(cancel.destination, f.sentInvite().destination);
        QCOMPARE(cancel.message.requestUri(), invite.requestUri());
        QCOMPARE(cancel.message.callId(), invite.callId());
        QCOMPARE(cancel.message.header(sip::HeaderId::To), invite.header(sip::HeaderId::To));
        QCOMPARE(cancel.message.header(sip::HeaderId::From), invite.header(sip::HeaderId::From));
        QCOMPARE(cancel.message.cseq()->number, 5u);
        QCOMPARE(cancel.message.cseq()->method, sip::Method::Cancel);
        QCOMPARE(cancel.message.count(sip::HeaderId::Via), 1);
        QCOMPARE(cancel.message.topVia()->branch(), invite.topVia()->branch());
        QCOMPARE(cancel.message.header(sip::HeaderId::Route),
                 QByteArrayView("<sip:proxy.test;lr>"));
        QCOMPARE(cancel.message.header(sip::HeaderId::Reason),
                 QByteArrayView("SIP;cause=200;text=\"Call completed elsewhere\""));
        QCOMPARE(f.layer.clientTransactionCount(), 2u);  // the CANCEL is its own transaction

        // The CANCEL retransmits like any non-INVITE request until answered.
        f.clock.advance(base::Duration(600));
        QCOMPARE(f.transport.countRequests(sip::Method::Cancel), 2);
        QVERIFY(f.transport.respond(cancel, 200, "bob-1").has_value());
        f.clock.advance(base::Duration(2'000));
        QCOMPARE(f.transport.countRequests(sip::Method::Cancel), 2);
        // Its answer is nobody's business; the INVITE ends with 487.
        QCOMPARE(f.user.count(Event::Final), 0);
        f.respond(487);
        QCOMPARE(f.user.statuses(Event::Final), std::vector<int>{487});
        QCOMPARE(f.transport.countRequests(sip::Method::Ack), 1);
        QCOMPARE(f.transport.lastRequest(sip::Method::Ack)->message.cseq()->number, 5u);
    }

    void cancelBeforeProvisionalWaits() {
        Fixture f;
        const auto id = f.invite();
        f.layer.cancelInvite(id);
        QCOMPARE(f.transport.countRequests(sip::Method::Cancel), 0);  // §9.1: not yet
        f.clock.advance(base::Duration(1'000));
        QCOMPARE(f.transport.countRequests(sip::Method::Cancel), 0);
        QCOMPARE(f.transport.countRequests(sip::Method::Invite), 2);  // still Calling
        f.respond(100);
        QCOMPARE(f.transport.countRequests(sip::Method::Cancel), 1);
        QVERIFY(!f.transport.lastRequest(sip::Method::Cancel)->message.has(sip::HeaderId::Reason));
        f.respond(183);
        QCOMPARE(f.transport.countRequests(sip::Method::Cancel), 1);  // once only
        f.layer.cancelInvite(id);
        QCOMPARE(f.transport.countRequests(sip::Method::Cancel), 1);
    }

    void cancelBeforeAnyResponseThenFinal() {
        Fixture f;
        const auto id = f.invite();
        f.layer.cancelInvite(id);
        f.respond(486);
        f.clock.advance(base::Duration(40'000));
        QCOMPARE(f.transport.countRequests(sip::Method::Cancel), 0);
        QCOMPARE(f.user.statuses(Event::Final), std::vector<int>{486});
    }

    void cancelAfterFinalDoesNothing() {
        Fixture f;
        const auto id = f.invite();
        f.respond(180);
        f.respond(200);
        f.layer.cancelInvite(id);
        QCOMPARE(f.transport.countRequests(sip::Method::Cancel), 0);
        f.layer.cancelInvite(9999);  // unknown ids are ignored
        QCOMPARE(f.transport.countRequests(sip::Method::Cancel), 0);
    }

    void cancelledInviteWithoutAnswerGivesUpAfter64T1() {
        Fixture f;
        const auto id = f.invite();
        f.respond(180);
        f.layer.cancelInvite(id);
        QVERIFY(
            f.transport.respond(*f.transport.lastRequest(sip::Method::Cancel), 200).has_value());
        f.clock.advance(base::Duration(31'999));
        QCOMPARE(f.user.count(Event::Timeout), 0);
        f.clock.advance(base::Duration(1));
        QCOMPARE(f.user.count(Event::Timeout), 1);  // §9.1
        QCOMPARE(f.layer.clientTransactionCount(), 0u);
    }

    void initialSendFailureIsReturned() {
        Fixture f;
        f.transport.failNextSends(1);
        auto id =
            f.layer.sendRequest(outgoingRequest(sip::Method::Invite), peerEndpoint(), &f.user);
        QVERIFY(!id.has_value());
        QCOMPARE(id.error().kind, ErrorKind::Transport);
        f.clock.advance(base::Duration(60'000));
        QCOMPARE(f.user.events.size(), 0u);
        QCOMPARE(f.layer.clientTransactionCount(), 0u);
    }

    void retransmissionFailureIsReported() {
        Fixture f;
        const auto id = f.invite();
        f.transport.failNextSends(1);
        f.clock.advance(base::Duration(500));
        QCOMPARE(f.user.count(Event::TransportError), 1);
        QCOMPARE(f.user.events.front().id, id);
        QCOMPARE(f.user.lastError.kind, ErrorKind::Transport);
        QCOMPARE(f.layer.clientTransactionCount(), 0u);
        f.clock.advance(base::Duration(60'000));
        QCOMPARE(f.user.events.size(), 1u);
    }

    void flowFailureIsReported() {
        Fixture f;
        const auto id = f.invite(transport::Protocol::Tcp);
        f.transport.flowFailed(FakeTransport::endpoint(transport::Protocol::Tcp, "127.0.0.9", 5070),
                               FakeTransport::defaultSendError());
        QCOMPARE(f.user.events.size(), 0u);  // another destination
        f.transport.flowFailed(peerEndpoint(transport::Protocol::Tcp),
                               FakeTransport::defaultSendError());
        QCOMPARE(f.user.count(Event::TransportError), 1);
        QCOMPARE(f.user.events.front().id, id);
        QCOMPARE(f.layer.clientTransactionCount(), 0u);
    }

    void forgetSilencesTheTransaction() {
        Fixture f;
        const auto id = f.invite();
        f.layer.forget(id);
        f.respond(180);
        f.clock.advance(base::Duration(1'000));
        QCOMPARE(f.user.events.size(), 0u);
        f.respond(486);
        QCOMPARE(f.transport.countRequests(sip::Method::Ack), 1);  // still runs: ACKs
        QCOMPARE(f.user.events.size(), 0u);
    }

    void callbackMayCallBackIntoTheLayer() {
        Fixture f;
        transaction::TransactionId second = transaction::kNoTransaction;
        f.user.hook = [&](const Event& e) {
            if (e.kind != Event::Final) return;
            f.layer.forget(e.id);
            auto next = f.layer.sendRequest(outgoingRequest(sip::Method::Invite, 2), peerEndpoint(),
                                            &f.user);
            QVERIFY(next.has_value());
            second = *next;
        };
        const auto first = f.invite();
        f.respond(486);
        QVERIFY(second != transaction::kNoTransaction);
        QVERIFY(second != first);
        QCOMPARE(f.transport.countRequests(sip::Method::Invite), 2);
        QCOMPARE(f.layer.clientTransactionCount(), 2u);
    }

    void branchMayBeGiven() {
        // A loop-detecting proxy chooses its branch (§16.6 step 8).
        Fixture f;
        transaction::ClientRequestOptions options;
        options.branch = "z9hG4bKsb0123456789abcdef.xyz";
        auto id = f.layer.sendRequest(outgoingRequest(sip::Method::Invite), peerEndpoint(), &f.user,
                                      options);
        QVERIFY(id.has_value());
        QCOMPARE(f.sentInvite().message.topVia()->branch(),
                 QByteArrayView("z9hG4bKsb0123456789abcdef.xyz"));
        f.respond(180);
        QCOMPARE(f.user.count(Event::Provisional), 1);  // matched by that branch
        // The CANCEL reuses it (§9.1).
        f.layer.cancelInvite(*id);
        QCOMPARE(f.transport.lastRequest(sip::Method::Cancel)->message.topVia()->branch(),
                 QByteArrayView("z9hG4bKsb0123456789abcdef.xyz"));
        // A second transaction with the same branch is refused, and one without the cookie.
        QVERIFY(!f.layer
                     .sendRequest(outgoingRequest(sip::Method::Invite, 2), peerEndpoint(), &f.user,
                                  options)
                     .has_value());
        options.branch = "no-cookie";
        QVERIFY(!f.layer
                     .sendRequest(outgoingRequest(sip::Method::Invite, 3), peerEndpoint(), &f.user,
                                  options)
                     .has_value());
        QCOMPARE(f.transport.countRequests(sip::Method::Invite), 1);
    }

    void forgetUserSilencesAllItsTransactions() {
        Fixture f;
        RecordingClientUser other;
        f.invite();
        auto second =
            f.layer.sendRequest(outgoingRequest(sip::Method::Invite, 2), peerEndpoint(), &f.user);
        QVERIFY(second.has_value());
        auto third =
            f.layer.sendRequest(outgoingRequest(sip::Method::Invite, 3), peerEndpoint(), &other);
        QVERIFY(third.has_value());
        f.layer.forgetUser(&f.user);
        for (const SentMessage& invite : f.transport.requests(sip::Method::Invite))
            QVERIFY(f.transport.respond(invite, 180, "bob-1").has_value());
        QCOMPARE(f.user.events.size(), 0u);
        QCOMPARE(other.count(Event::Provisional), 1);
        QCOMPARE(f.layer.clientTransactionCount(), 3u);  // they run on
    }

    void statelessRequestKeepsOrPushesAVia() {
        // §13.2.2.4: a UA's ACK keeps its own Via; §16.11: a proxy pushes its own on top.
        Fixture f;
        sip::Message ack = outgoingRequest(sip::Method::Ack);
        ack.addHeader(sip::HeaderId::Via, "SIP/2.0/UDP 127.0.0.3:5080;branch=z9hG4bK-up;rport");
        QVERIFY(f.layer.sendStateless(ack, peerEndpoint()).has_value());
        QCOMPARE(f.transport.lastRequest(sip::Method::Ack)->message.count(sip::HeaderId::Via), 1);
        QCOMPARE(f.transport.lastRequest(sip::Method::Ack)->message.topVia()->branch(),
                 QByteArrayView("z9hG4bK-up"));

        transaction::StatelessRequestOptions push;
        push.pushVia = true;
        push.branch = "z9hG4bKsb-ack-1";
        QVERIFY(f.layer.sendStateless(ack, peerEndpoint(), push).has_value());
        const sip::Message& forwarded = f.transport.lastRequest(sip::Method::Ack)->message;
        auto vias = forwarded.vias();
        QVERIFY(vias.has_value());
        QCOMPARE(vias->size(), 2u);
        QCOMPARE(vias->at(0).branch(), QByteArrayView("z9hG4bKsb-ack-1"));
        QCOMPARE(vias->at(0).host, QByteArrayView("127.0.0.1"));  // filled by the transport
        QVERIFY(vias->at(0).hasRport());
        QCOMPARE(vias->at(1).branch(), QByteArrayView("z9hG4bK-up"));

        push.branch.clear();  // a fresh one
        QVERIFY(f.layer.sendStateless(ack, peerEndpoint(), push).has_value());
        auto fresh = f.transport.lastRequest(sip::Method::Ack)->message.topVia();
        QVERIFY(fresh->hasMagicCookie());
        QVERIFY(fresh->branch() != QByteArrayView("z9hG4bK-up"));
        push.branch = "bad";
        QVERIFY(!f.layer.sendStateless(ack, peerEndpoint(), push).has_value());
        QCOMPARE(f.layer.clientTransactionCount(), 0u);
    }

    void ackIsNotATransaction() {
        Fixture f;
        auto id = f.layer.sendRequest(outgoingRequest(sip::Method::Ack), peerEndpoint(), &f.user);
        QVERIFY(!id.has_value());
        QCOMPARE(f.transport.sent().size(), 0u);
    }
};

QTEST_GUILESS_MAIN(TestClientInviteTransaction)
#include "tst_client_invite_transaction.moc"
