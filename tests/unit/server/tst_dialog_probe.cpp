// Tests core/server/dialog_probe.*: after a restart, each party of an answered call the
// tracker took up is asked with an OPTIONS inside the dialog (CSeq 0, From/To as the
// other party writes them, sent where the resolver says); a 481 or no answer at all
// reports the call gone, any other answer leaves it alone (FakeTransport, ManualClock).

#include <QTest>

#include <vector>

#include "base/manual_clock.h"
#include "base/random.h"
#include "fake_transport.h"
#include "server/dialog_probe.h"
#include "sip/name_addr.h"
#include "transaction/transaction_layer.h"

using namespace sb;
using namespace std::chrono_literals;
using sip::HeaderId;
using test::FakeTransport;
using transport::Protocol;

namespace {

struct World {
    World()
        : transport(&clock),
          random(5),
          layer(transport, clock, random),
          probe(
              layer,
              [](const sip::Uri& uri) -> std::optional<transport::Endpoint> {
                  // Numeric hosts only, as the proxy without DNS.
                  const QHostAddress address(QString::fromUtf8(uri.host.toByteArray()));
                  if (address.isNull()) return std::nullopt;
                  return transport::Endpoint{Protocol::Udp, address, uri.port.value_or(5060)};
              },
              [this](server::CallId call, bool noAnswer) {
                  gone.push_back({call, noAnswer});
              }) {}

    static server::DialogTracker::AnsweredDialog dialog(server::CallId call) {
        server::DialogTracker::AnsweredDialog d;
        d.call = call;
        d.callId = "call-" + QByteArray::number(call) + "@127.0.0.1";
        d.callerUri = "sip:201@switchboard.local";
        d.callerTag = "from201";
        d.callerTarget = "sip:201@127.0.0.1:5070";
        d.calleeUri = "sip:202@switchboard.local";
        d.calleeTag = "to202";
        d.calleeTarget = "sip:202@127.0.0.2:5080";
        return d;
    }
    std::vector<test::SentMessage> options() const {
        return transport.requests(sip::Method::Options);
    }

    base::ManualClock clock;
    FakeTransport transport;
    base::SeededRandom random;
    transaction::TransactionLayer layer;
    std::vector<std::pair<server::CallId, bool>> gone;
    server::DialogProbe probe;
};

QByteArray tagOf(const test::SentMessage& sent, HeaderId header) {
    const auto nameAddr = sip::NameAddr::parse(sent.message.header(header));
    return nameAddr ? nameAddr->tag().toByteArray() : QByteArray();
}

}  // namespace

class TestDialogProbe : public QObject {
    Q_OBJECT

private slots:
    // Each party is asked as the other party would ask it, with the lowest CSeq.
    void bothPartiesAreAskedInsideTheDialog() {
        World w;
        QCOMPARE(w.probe.probe(World::dialog(1)), 2);
        w.clock.advance(0ms);
        const auto sent = w.options();
        QCOMPARE(sent.size(), std::size_t(2));
        const test::SentMessage& toCallee = sent[0];
        QCOMPARE(toCallee.message.requestUri(), QByteArrayView("sip:202@127.0.0.2:5080"));
        QCOMPARE(toCallee.destination.address, QHostAddress(QStringLiteral("127.0.0.2")));
        QCOMPARE(toCallee.destination.port, quint16(5080));
        QCOMPARE(tagOf(toCallee, HeaderId::From), QByteArray("from201"));
        QCOMPARE(tagOf(toCallee, HeaderId::To), QByteArray("to202"));
        QCOMPARE(toCallee.message.callId(), QByteArrayView("call-1@127.0.0.1"));
        QCOMPARE(toCallee.message.cseq()->number, quint32(0));
        const test::SentMessage& toCaller = sent[1];
        QCOMPARE(toCaller.message.requestUri(), QByteArrayView("sip:201@127.0.0.1:5070"));
        QCOMPARE(tagOf(toCaller, HeaderId::From), QByteArray("to202"));
        QCOMPARE(tagOf(toCaller, HeaderId::To), QByteArray("from201"));
        QCOMPARE(w.probe.pending(), std::size_t(2));
    }

    // A party that has the dialog answers anything but 481 (a 500 for the low CSeq is
    // the usual answer): the call stays. A 481 ends it (not "no answer").
    void answersTellWhetherTheDialogIsThere() {
        World w;
        w.probe.probe(World::dialog(1));
        w.probe.probe(World::dialog(2));
        w.clock.advance(0ms);
        const auto sent = w.options();
        QCOMPARE(sent.size(), std::size_t(4));
        QVERIFY(w.transport.respond(sent[0], 500));
        QVERIFY(w.transport.respond(sent[1], 200));
        QVERIFY(w.transport.respond(sent[2], 200));
        QVERIFY(w.transport.respond(sent[3], 481));
        w.clock.advance(0ms);
        QCOMPARE(w.gone.size(), std::size_t(1));
        QCOMPARE(w.gone[0], (std::pair<server::CallId, bool>{2, false}));
        QCOMPARE(w.probe.pending(), std::size_t(0));
    }

    // No answer at all (Timer F): the party is gone with the call.
    void noAnswerMeansGone() {
        World w;
        w.probe.probe(World::dialog(3));
        w.clock.advance(0ms);
        QVERIFY(w.transport.respond(w.options()[0], 200));
        w.clock.advance(32s);
        QCOMPARE(w.gone.size(), std::size_t(1));
        QCOMPARE(w.gone[0], (std::pair<server::CallId, bool>{3, true}));
    }

    // A party without a known or resolvable target is not asked.
    void unknownTargetsAreNotAsked() {
        World w;
        auto d = World::dialog(4);
        d.callerTarget.clear();
        d.calleeTarget = "sip:202@phone.example.com";
        QCOMPARE(w.probe.probe(d), 0);
        d.calleeTarget = "not a uri";
        QCOMPARE(w.probe.probe(d), 0);
        w.clock.advance(40s);
        QVERIFY(w.options().empty());
        QVERIFY(w.gone.empty());
    }
};

QTEST_GUILESS_MAIN(TestDialogProbe)
#include "tst_dialog_probe.moc"
