// RFC 3261 §17.1.2 non-INVITE client transaction.

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
    explicit Fixture(transaction::TimerValues values = {})
        : layer(transport, clock, random, values) {
        layer.setServerUser(&server);
        start = clock.now();
    }

    transaction::TransactionId send(transport::Protocol protocol = transport::Protocol::Udp,
                                    sip::Method method = sip::Method::Register) {
        auto id = layer.sendRequest(outgoingRequest(method), peerEndpoint(protocol), &user);
        if (!id) qFatal("sendRequest failed: %s", qPrintable(id.error().reason));
        return *id;
    }
    SentMessage sentRequest() const { return *transport.lastRequest(); }
    void respond(int status) {
        QVERIFY(transport.respond(sentRequest(), status, "srv").has_value());
    }
    std::vector<qint64> sendTimes(sip::Method method = sip::Method::Register) const {
        std::vector<qint64> times;
        for (const auto& s : transport.requests(method))
            times.push_back((s.at - start).count());
        return times;
    }

    base::ManualClock clock;
    FakeTransport transport{&clock};
    base::SeededRandom random{11};
    transaction::TransactionLayer layer;
    RecordingClientUser user;
    RecordingServerUser server;
    base::TimePoint start;
};

}  // namespace

class TestClientNonInviteTransaction : public QObject {
    Q_OBJECT

private slots:
    void timerEDoublesUpToT2UntilTimerF() {
        Fixture f;
        const auto id = f.send();
        f.clock.advance(base::Duration(40'000));
        // §17.1.2.2: E = 500, 1000, 2000, then capped at T2 = 4000; F = 64*T1 = 32 s.
        const std::vector<qint64> expected{0,     500,   1500,  3500,  7500, 11500,
                                           15500, 19500, 23500, 27500, 31500};
        QCOMPARE(f.sendTimes(), expected);
        QCOMPARE(f.user.count(Event::Timeout), 1);
        QCOMPARE(f.user.events.front().id, id);
        QCOMPARE(f.layer.clientTransactionCount(), 0u);
    }

    void timerFFiresAt64T1() {
        Fixture f;
        f.send();
        f.clock.advance(base::Duration(31'999));
        QCOMPARE(f.user.count(Event::Timeout), 0);
        f.clock.advance(base::Duration(1));
        QCOMPARE(f.user.count(Event::Timeout), 1);
    }

    void configurableT2() {
        transaction::TimerValues values;
        values.t1 = base::Duration(200);
        values.t2 = base::Duration(1000);
        Fixture f(values);
        f.send();
        f.clock.advance(base::Duration(4'000));
        // E: 200, 400, 800, 1000, 1000 ...; F = 12.8 s.
        const std::vector<qint64> expected{0, 200, 600, 1400, 2400, 3400};
        QCOMPARE(f.sendTimes(), expected);
        f.clock.advance(base::Duration(8'799));
        QCOMPARE(f.user.count(Event::Timeout), 0);
        f.clock.advance(base::Duration(1));
        QCOMPARE(f.user.count(Event::Timeout), 1);
    }

    void provisionalMovesToProceedingWithT2Retransmissions() {
        Fixture f;
        f.send(transport::Protocol::Udp, sip::Method::Options);
        f.clock.advance(base::Duration(600));  // sends at 0 and 500; next E due at 1500
        f.respond(100);
        QCOMPARE(f.user.statuses(Event::Provisional), std::vector<int>{100});
        f.clock.advance(base::Duration(13'400));  // to 14 s
        // §17.1.2.2: the pending E (1500) fires, then every T2 in Proceeding.
        const std::vector<qint64> expected{0, 500, 1500, 5500, 9500, 13500};
        QCOMPARE(f.sendTimes(sip::Method::Options), expected);
        f.clock.advance(base::Duration(18'000));
        QCOMPARE(f.user.count(Event::Timeout), 1);  // F still runs in Proceeding
    }

    void finalResponseThenTimerKAbsorbs() {
        Fixture f;
        const auto id = f.send();
        f.clock.advance(base::Duration(600));
        f.respond(200);
        QCOMPARE(f.user.statuses(Event::Final), std::vector<int>{200});
        QCOMPARE(f.user.events.front().id, id);
        f.respond(200);  // retransmission: absorbed in Completed
        QCOMPARE(f.user.count(Event::Final), 1);
        QCOMPARE(f.server.strays.size(), 0u);
        f.clock.advance(base::Duration(4'000));
        QCOMPARE(f.transport.countRequests(sip::Method::Register),
                 2);  // no retransmission after the answer
        // Timer K = T4 = 5 s over UDP, from the answer at 600 ms.
        f.clock.advance(base::Duration(999));
        QCOMPARE(f.layer.clientTransactionCount(), 1u);
        f.clock.advance(base::Duration(1));
        QCOMPARE(f.layer.clientTransactionCount(), 0u);
        f.respond(200);
        QCOMPARE(f.server.strays.size(), 1u);
        QCOMPARE(f.user.count(Event::Final), 1);
    }

    void reliableSendsOnceAndEndsAtOnce() {
        Fixture f;
        f.send(transport::Protocol::Tcp);
        f.clock.advance(base::Duration(20'000));
        QCOMPARE(f.transport.countRequests(sip::Method::Register), 1);
        f.respond(401);
        QCOMPARE(f.user.statuses(Event::Final), std::vector<int>{401});
        QCOMPARE(f.layer.clientTransactionCount(), 0u);  // Timer K is 0 over TCP
    }

    void reliableTimesOutWithTimerF() {
        Fixture f;
        f.send(transport::Protocol::Tcp);
        f.clock.advance(base::Duration(32'000));
        QCOMPARE(f.transport.countRequests(sip::Method::Register), 1);
        QCOMPARE(f.user.count(Event::Timeout), 1);
    }

    void noAckForNonInvite() {
        Fixture f;
        f.send();
        f.respond(486);
        QCOMPARE(f.transport.countRequests(sip::Method::Ack), 0);
    }

    void retransmissionFailureIsReported() {
        Fixture f;
        f.send();
        f.transport.failAllSends(FakeTransport::defaultSendError());
        f.clock.advance(base::Duration(500));
        QCOMPARE(f.user.count(Event::TransportError), 1);
        QCOMPARE(f.layer.clientTransactionCount(), 0u);
    }

    void responseForOtherMethodDoesNotMatch() {
        // §17.1.3: the CSeq method must match too.
        Fixture f;
        f.send();
        sip::Message response = sip::makeResponse(f.sentRequest().message, 200);
        response.setHeader(sip::HeaderId::CSeq, "1 OPTIONS");
        QVERIFY(f.transport.inject(response, peerEndpoint()).has_value());
        QCOMPARE(f.user.events.size(), 0u);
        QCOMPARE(f.server.strays.size(), 1u);
    }
};

QTEST_GUILESS_MAIN(TestClientNonInviteTransaction)
#include "tst_client_non_invite_transaction.moc"
