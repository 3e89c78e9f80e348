// Tests core/ua/reception_queue.*: client mode's queue of calls to the reception
// identity, against a FakeTransport and a ManualClock — 180 with a To tag of ours and
// again every minute, CANCEL → 487, forward by 302 (Contact, Diversion topmost above what
// the call carried, suffix, counter/limit, privacy, History-Info beside or instead),
// reject, and refusals that leave the call ringing.

#include <QTest>

#include <memory>

#include "base/manual_clock.h"
#include "base/random.h"
#include "fake_transport.h"
#include "sip/message.h"
#include "transaction/transaction_layer.h"
#include "ua/reception_queue.h"

using namespace sb;
using namespace std::chrono_literals;
using sip::HeaderId;
using test::FakeTransport;
using transport::Protocol;
using Queue = ua::ReceptionQueue;

namespace {

const QByteArray kDomain = "switchboard.local";

transport::Endpoint caller() {
    return FakeTransport::endpoint(Protocol::Udp, "127.0.0.1", 5070);
}

ua::ReceptionOptions defaultOptions() {
    ua::ReceptionOptions options;
    options.domain = QString::fromUtf8(kDomain);
    options.contactUri = "sip:200@127.0.0.1:5060";
    return options;
}

// An INVITE to the reception identity as a PBX would send it; `branch` and `callId`
// tell calls (and retransmissions) apart.
QByteArray invite(const QByteArray& callId, const QByteArray& extraHeaders = {},
                  const QByteArray& branch = {}, const QByteArray& toTag = {}) {
    QByteArray text =
        "INVITE sip:200@switchboard.local SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-" +
        (branch.isEmpty() ? callId : branch) +
        "\r\n"
        "From: \"Alice\" <sip:201@switchboard.local>;tag=a-" +
        callId +
        "\r\n"
        "To: <sip:reception@switchboard.local>" +
        (toTag.isEmpty() ? QByteArray() : ";tag=" + toTag) +
        "\r\n"
        "Call-ID: " +
        callId +
        "\r\n"
        "CSeq: 1 INVITE\r\n"
        "Max-Forwards: 70\r\n"
        "Contact: <sip:201@127.0.0.1:5070>\r\n" +
        extraHeaders + "Content-Length: 0\r\n\r\n";
    return text;
}

// The owner's part: new INVITEs and their CANCELs go to the queue; the rest is answered
// as an owner would, so a test sees what the queue leaves to it.
class Owner final : public transaction::ServerTransactionUser {
public:
    void onRequest(transaction::TransactionId id,
                   const transport::IncomingMessage& incoming) override {
        if (queue && queue->onInvite(id, incoming.message)) return;
        ++leftToOwner;
        (void)layer->sendResponse(id, sip::makeResponse(incoming.message, 481));
    }
    void onCancel(transaction::TransactionId id,
                  const transport::IncomingMessage& cancel) override {
        if (queue) queue->onCancel(id, cancel.message);
    }
    void onAck(const transport::IncomingMessage&) override { ++acksToOwner; }

    transaction::TransactionLayer* layer = nullptr;
    Queue* queue = nullptr;
    int leftToOwner = 0;
    int acksToOwner = 0;
};

struct World {
    explicit World(ua::ReceptionOptions options = defaultOptions())
        : transport(&clock), random(7), layer(transport, clock, random) {
        owner.layer = &layer;
        layer.setServerUser(&owner);
        queue = std::make_unique<Queue>(layer, clock, random, std::move(options));
        owner.queue = queue.get();
        queue->setListener([this](const Queue::Event& event) { events.push_back(event); });
    }
    ~World() { owner.queue = nullptr; }

    void receive(const QByteArray& bytes) {
        if (Result<void> sent = transport.injectRaw(bytes, caller()); !sent)
            qFatal("inject failed: %s", qPrintable(sent.error().toString()));
    }
    // A call rings in the queue; returns its id.
    Queue::CallId call(const QByteArray& callId, const QByteArray& extraHeaders = {}) {
        receive(invite(callId, extraHeaders));
        const std::vector<Queue::Call> calls = queue->queue();
        return calls.empty() ? 0 : calls.back().call;
    }
    std::vector<test::SentMessage> responses(int status) const {
        std::vector<test::SentMessage> out;
        for (const test::SentMessage& sent : transport.responses())
            if (sent.statusCode() == status) out.push_back(sent);
        return out;
    }
    int finals() const { return transport.countResponsesInRange(200, 699); }
    const sip::Message& last() const { return transport.lastResponse()->message; }

    base::ManualClock clock;
    FakeTransport transport;
    base::SeededRandom random;
    transaction::TransactionLayer layer;
    Owner owner;
    std::unique_ptr<Queue> queue;
    std::vector<Queue::Event> events;
};

QByteArrayList fields(const sip::Message& message, HeaderId id) {
    QByteArrayList out;
    for (const sip::HeaderField& field : message.headers())
        if (field.id == id) out << field.value.toByteArray();
    return out;
}

QByteArray toTagOf(const sip::Message& response) {
    return response.to() ? response.to()->tag().toByteArray() : QByteArray();
}

}  // namespace

class TestReceptionQueue : public QObject {
    Q_OBJECT

private slots:
    void ringsWithATagOfOursAndQueues() {
        World w;
        const base::TimePoint arrival = w.clock.now();
        const Queue::CallId id = w.call("c1");
        QVERIFY(id != 0);
        QCOMPARE(w.responses(180).size(), std::size_t(1));
        const sip::Message ringing = w.responses(180).front().message;
        QVERIFY(!toTagOf(ringing).isEmpty());
        QCOMPARE(ringing.header(HeaderId::Contact), QByteArrayView("<sip:200@127.0.0.1:5060>"));
        QCOMPARE(w.responses(180).front().destination, caller());
        QCOMPARE(w.finals(), 0);

        const std::vector<Queue::Call> queue = w.queue->queue();
        QCOMPARE(queue.size(), std::size_t(1));
        const Queue::Call& call = queue.front();
        QCOMPARE(call.call, id);
        QCOMPARE(call.callerDisplay, QStringLiteral("Alice"));
        QCOMPARE(call.callerUri, QStringLiteral("sip:201@switchboard.local"));
        QCOMPARE(call.calledUri, QStringLiteral("sip:200@switchboard.local"));
        QCOMPARE(call.toUri, QStringLiteral("sip:reception@switchboard.local"));
        QCOMPARE(call.sipCallId, QByteArray("c1"));
        QCOMPARE(call.since, arrival);
        QVERIFY(call.history.isEmpty());
        QVERIFY(w.queue->holds(1));
        QCOMPARE(w.events.size(), std::size_t(1));
        QCOMPARE(w.events[0].kind, Queue::EventKind::Changed);
        QCOMPARE(w.events[0].call.call, id);

        // A retransmitted INVITE is the layer's: it repeats the 180, no second call.
        w.receive(invite("c1"));
        QCOMPARE(w.queue->queue().size(), std::size_t(1));
        QCOMPARE(w.responses(180).size(), std::size_t(2));
        QCOMPARE(w.events.size(), std::size_t(1));
    }

    void historyTextFromTheDiversionItArrivedWith() {
        World w;
        const Queue::CallId id =
            w.call("c1",
                   "Diversion: <sip:203@switchboard.local>;reason=no-answer\r\n"
                   "Diversion: <sip:+4930@carrier.example>;reason=unconditional\r\n");
        QCOMPARE(
            w.queue->call(id)->history,
            QStringList({"from 203, no-answer", "from sip:+4930@carrier.example, unconditional"}));
    }

    void ringsAgainEveryMinuteInTheSameDialog() {
        World w;
        w.call("c1");
        w.clock.advance(59s);
        QCOMPARE(w.responses(180).size(), std::size_t(1));
        w.clock.advance(1s);
        QCOMPARE(w.responses(180).size(), std::size_t(2));
        w.clock.advance(60s);
        const std::vector<test::SentMessage> rings = w.responses(180);
        QCOMPARE(rings.size(), std::size_t(3));
        QCOMPARE(toTagOf(rings[1].message), toTagOf(rings[0].message));
        QCOMPARE(toTagOf(rings[2].message), toTagOf(rings[0].message));
        QCOMPARE(w.finals(), 0);
        QCOMPARE(w.queue->queue().size(), std::size_t(1));
    }

    void cancelAnswers487AndTheCallLeaves() {
        World w;
        const Queue::CallId id = w.call("c1");
        const QByteArray tag = toTagOf(w.last());
        QByteArray cancel =
            invite("c1", "Reason: SIP;cause=200;text=\"Call completed elsewhere\"\r\n");
        cancel.replace("INVITE sip:", "CANCEL sip:").replace("CSeq: 1 INVITE", "CSeq: 1 CANCEL");
        w.receive(cancel);

        QCOMPARE(w.responses(200).size(), std::size_t(1));  // the layer's, for the CANCEL
        QCOMPARE(w.responses(487).size(), std::size_t(1));
        const sip::Message terminated = w.responses(487).front().message;
        QCOMPARE(toTagOf(terminated), tag);
        QCOMPARE(terminated.cseq()->method, sip::Method::Invite);
        QVERIFY(w.queue->queue().empty());
        QVERIFY(!w.queue->holds(1));
        QCOMPARE(w.events.back().kind, Queue::EventKind::Left);
        QCOMPARE(w.events.back().call.call, id);
        QCOMPARE(w.events.back().status, 487);
        QCOMPARE(w.events.back().cancelReason,
                 QByteArray("SIP;cause=200;text=\"Call completed elsewhere\""));

        // The ACK of the 487 stays in the transaction layer; no more 180s.
        QByteArray ack = invite("c1", {}, {}, tag);
        ack.replace("INVITE sip:", "ACK sip:").replace("CSeq: 1 INVITE", "CSeq: 1 ACK");
        w.receive(ack);
        QCOMPARE(w.owner.acksToOwner, 0);
        w.clock.advance(120s);
        QCOMPARE(w.responses(180).size(), std::size_t(1));

        // Actions on it now fail, and say why.
        Queue::ForwardRequest forward;
        forward.call = id;
        forward.to = "203";
        const Result<QString> forwarded = w.queue->forward(forward);
        QVERIFY(!forwarded);
        QCOMPARE(forwarded.error().reason, QStringLiteral("the call has ended"));
        QCOMPARE(w.queue->reject(id, 603).error().reason, QStringLiteral("the call has ended"));
        QCOMPARE(w.finals(), 2);  // the CANCEL's 200 and the 487, nothing more
    }

    void forwardSends302WithContactAndTopmostDiversion() {
        World w;
        const QByteArray single = "<sip:203@switchboard.local>;reason=no-answer";
        const QByteArray list =
            "<sip:204@switchboard.local>;reason=user-busy, "
            "\"Bob\" <sip:205@switchboard.local>;reason=unconditional;counter=1";
        const Queue::CallId id =
            w.call("c1", "Diversion: " + single + "\r\nDiversion: " + list + "\r\n");
        const QByteArray tag = toTagOf(w.last());
        Queue::ForwardRequest request;
        request.call = id;
        request.to = "206";
        request.reason = "user-busy";
        const Result<QString> done = w.queue->forward(request);
        QVERIFY2(done, done ? "" : qPrintable(done.error().reason));
        QCOMPARE(*done, QStringLiteral("Forwarded to 206 (user-busy)"));

        QCOMPARE(w.finals(), 1);
        const sip::Message& moved = w.last();
        QCOMPARE(moved.statusCode(), 302);
        QCOMPARE(moved.reasonPhrase(), QByteArrayView("Moved Temporarily"));
        QCOMPARE(toTagOf(moved), tag);
        QCOMPARE(moved.header(HeaderId::Contact), QByteArrayView("<sip:206@switchboard.local>"));
        QCOMPARE(fields(moved, HeaderId::Diversion),
                 QByteArrayList({"<sip:200@switchboard.local>;reason=user-busy", single, list}));
        QVERIFY(!moved.has(HeaderId::HistoryInfo));
        // The bytes on the wire: the new entry is the first Diversion line.
        const QByteArray wire = moved.serialize();
        QVERIFY(
            wire.contains("\r\nDiversion: <sip:200@switchboard.local>;reason=user-busy\r\n"
                          "Diversion: " +
                          single + "\r\nDiversion: " + list + "\r\n"));

        QVERIFY(w.queue->queue().empty());
        QCOMPARE(w.events.back().kind, Queue::EventKind::Left);
        QCOMPARE(w.events.back().status, 302);
        QCOMPARE(w.queue->forward(request).error().reason, QStringLiteral("the call has ended"));
        QCOMPARE(w.finals(), 1);
    }

    void forwardWithEveryOption() {
        ua::ReceptionOptions options = defaultOptions();
        options.suffix = ";x-desk=front";
        options.counter = 2;
        options.limit = 5;
        options.screen = true;
        options.defaultReason = "no-answer";
        World w(options);
        const Queue::CallId id = w.call("c1");
        Queue::ForwardRequest request;
        request.call = id;
        request.to = "sip:anna@example.org";
        request.diversionUri = "sip:reception@switchboard.local";
        request.privacy = sip::DiversionPrivacy::Full;
        const Result<QString> done = w.queue->forward(request);
        QVERIFY2(done, done ? "" : qPrintable(done.error().reason));
        QCOMPARE(*done, QStringLiteral("Forwarded to sip:anna@example.org (no-answer)"));
        QCOMPARE(w.last().header(HeaderId::Contact), QByteArrayView("<sip:anna@example.org>"));
        QCOMPARE(fields(w.last(), HeaderId::Diversion),
                 QByteArrayList({"<sip:reception@switchboard.local>;reason=no-answer;counter=2;"
                                 "limit=5;privacy=full;screen=yes;x-desk=front"}));
    }

    // Behind a registrar the Request-URI is our Contact: the diverting URI is the
    // reception identity we registered, unless the forward names one.
    void divertingUriIsTheRegisteredIdentity() {
        ua::ReceptionOptions options = defaultOptions();
        options.ownUri = "sip:200@pbx.example.com";
        World w(options);
        const Queue::CallId id = w.call("c1");
        Queue::ForwardRequest request;
        request.call = id;
        request.to = "203";
        request.reason = "user-busy";
        const Result<QString> done = w.queue->forward(request);
        QVERIFY2(done, done ? "" : qPrintable(done.error().reason));
        QCOMPARE(fields(w.last(), HeaderId::Diversion),
                 QByteArrayList({"<sip:200@pbx.example.com>;reason=user-busy"}));
    }

    void counterOverride() {
        World w;
        Queue::ForwardRequest request;
        request.call = w.call("c1");
        request.to = "anna@example.org";  // a URI without its scheme
        request.counter = 3;
        QVERIFY(w.queue->forward(request));
        QCOMPARE(w.last().header(HeaderId::Contact), QByteArrayView("<sip:anna@example.org>"));
        QCOMPARE(fields(w.last(), HeaderId::Diversion),
                 QByteArrayList({"<sip:200@switchboard.local>;reason=deflection;counter=3"}));
    }

    void forwardBeyondTheLimitIsRefusedAndTheCallRings() {
        World w;
        const Queue::CallId id = w.call(
            "c1", "Diversion: <sip:203@switchboard.local>;reason=no-answer;counter=2;limit=2\r\n");
        Queue::ForwardRequest request;
        request.call = id;
        request.to = "204";
        const Result<QString> done = w.queue->forward(request);
        QVERIFY(!done);
        QVERIFY2(done.error().reason.contains(QStringLiteral("at most 2")),
                 qPrintable(done.error().reason));
        QCOMPARE(w.finals(), 0);
        QVERIFY(w.queue->call(id));
        w.clock.advance(60s);
        QCOMPARE(w.responses(180).size(), std::size_t(2));  // still ringing
    }

    void ownLimitIsCheckedToo() {
        ua::ReceptionOptions options = defaultOptions();
        options.limit = 2;
        World w(options);
        Queue::ForwardRequest request;
        request.call = w.call("c1", "Diversion: <sip:203@switchboard.local>;reason=no-answer\r\n");
        request.to = "204";
        request.counter = 2;
        QVERIFY(!w.queue->forward(request));
        request.counter = 1;
        QVERIFY(w.queue->forward(request));
        QCOMPARE(fields(w.last(), HeaderId::Diversion).size(), 2);
    }

    void historyInfoBesideDiversion() {
        ua::ReceptionOptions options = defaultOptions();
        options.historyInfo = ua::ReceptionOptions::HistoryInfo::Beside;
        World w(options);
        Queue::ForwardRequest request;
        request.call = w.call("c1",
                              "History-Info: <sip:202@switchboard.local>;index=1\r\n"
                              "History-Info: <sip:200@switchboard.local?Reason=SIP%3Bcause%3D486>"
                              ";index=1.1;mp=1\r\n");
        request.to = "203";
        request.reason = "user-busy";
        QVERIFY(w.queue->forward(request));
        const sip::Message& moved = w.last();
        QCOMPARE(fields(moved, HeaderId::Diversion),
                 QByteArrayList({"<sip:200@switchboard.local>;reason=user-busy"}));
        QCOMPARE(
            fields(moved, HeaderId::HistoryInfo),
            QByteArrayList({"<sip:202@switchboard.local>;index=1",
                            "<sip:200@switchboard.local?Reason=SIP%3Bcause%3D486>;index=1.1;mp=1",
                            "<sip:203@switchboard.local;cause=486>;index=1.1.1;mp=1.1"}));
    }

    void historyInfoInsteadOfDiversion() {
        ua::ReceptionOptions options = defaultOptions();
        options.historyInfo = ua::ReceptionOptions::HistoryInfo::Instead;
        World w(options);
        Queue::ForwardRequest request;
        request.call = w.call("c1", "Diversion: <sip:203@switchboard.local>;reason=no-answer\r\n");
        request.to = "204";
        request.reason = "unconditional";
        request.privacy = sip::DiversionPrivacy::Uri;
        QVERIFY(w.queue->forward(request));
        const sip::Message& moved = w.last();
        QVERIFY(!moved.has(HeaderId::Diversion));
        QCOMPARE(fields(moved, HeaderId::HistoryInfo),
                 QByteArrayList({"<sip:200@switchboard.local?Privacy=history>;index=1",
                                 "<sip:204@switchboard.local;cause=302>;index=1.1;mp=1"}));
    }

    void historyInfoOverride() {
        World w;  // History-Info off by configuration
        Queue::ForwardRequest request;
        request.call = w.call("c1");
        request.to = "204";
        request.historyInfo = true;
        QVERIFY(w.queue->forward(request));
        QCOMPARE(fields(w.last(), HeaderId::Diversion).size(), 1);
        QCOMPARE(fields(w.last(), HeaderId::HistoryInfo).size(), 2);

        ua::ReceptionOptions options = defaultOptions();
        options.historyInfo = ua::ReceptionOptions::HistoryInfo::Beside;
        World v(options);
        request.call = v.call("c2");
        request.historyInfo = false;
        QVERIFY(v.queue->forward(request));
        QCOMPARE(fields(v.last(), HeaderId::Diversion).size(), 1);
        QVERIFY(!v.last().has(HeaderId::HistoryInfo));
    }

    void rejectSendsTheStatus() {
        World w;
        const Queue::CallId id = w.call("c1");
        const QByteArray tag = toTagOf(w.last());
        const Result<QString> done = w.queue->reject(id, 603);
        QVERIFY2(done, done ? "" : qPrintable(done.error().reason));
        QCOMPARE(*done, QStringLiteral("Rejected with 603 Decline"));
        QCOMPARE(w.last().statusCode(), 603);
        QCOMPARE(toTagOf(w.last()), tag);
        QCOMPARE(w.events.back().kind, Queue::EventKind::Left);
        QCOMPARE(w.events.back().status, 603);
        QVERIFY(w.queue->queue().empty());
        QCOMPARE(w.queue->reject(id, 486).error().reason, QStringLiteral("the call has ended"));
    }

    void rejectNeedsAnErrorStatus_data() {
        QTest::addColumn<int>("status");
        QTest::newRow("2xx") << 200;
        QTest::newRow("3xx") << 302;
        QTest::newRow("700") << 700;
        QTest::newRow("negative") << -1;
    }
    void rejectNeedsAnErrorStatus() {
        QFETCH(int, status);
        World w;
        const Queue::CallId id = w.call("c1");
        const Result<QString> done = w.queue->reject(id, status);
        QVERIFY(!done);
        QVERIFY2(done.error().reason.contains(QStringLiteral("400-699")),
                 qPrintable(done.error().reason));
        QCOMPARE(w.finals(), 0);
        QVERIFY(w.queue->call(id));
    }

    void unknownCall() {
        World w;
        w.call("c1");
        Queue::ForwardRequest request;
        request.call = 99;
        request.to = "203";
        QCOMPARE(w.queue->forward(request).error().reason,
                 QStringLiteral("no call 99 in the queue"));
        QCOMPARE(w.queue->reject(0, 603).error().reason, QStringLiteral("no call 0 in the queue"));
        QVERIFY(!w.queue->call(99));
        QCOMPARE(w.finals(), 0);
    }

    void badTargetIsRefusedAndTheCallRings_data() {
        QTest::addColumn<QString>("to");
        QTest::addColumn<QString>("message");
        QTest::newRow("empty") << "  "
                               << "no target given";
        QTest::newRow("space in URI") << "sip:an na@example.org"
                                      << "is not a SIP URI";
        QTest::newRow("angle brackets") << "<sip:anna@example.org>"
                                        << "is not a SIP URI";
        QTest::newRow("URI headers") << "sip:anna@example.org?Replaces=x"
                                     << "is not a SIP URI";
        QTest::newRow("no host") << "sip:anna@"
                                 << "is not a SIP URI";
        QTest::newRow("quote") << "sip:an\"na@example.org"
                               << "is not a SIP URI";
        QTest::newRow("extension with space") << "20 3"
                                              << "neither an extension nor a SIP URI";
        QTest::newRow("extension with params") << "203;lr"
                                               << "neither an extension nor a SIP URI";
        QTest::newRow("tel URI") << "tel:+4930123"
                                 << "neither an extension nor a SIP URI";
    }
    void badTargetIsRefusedAndTheCallRings() {
        QFETCH(QString, to);
        QFETCH(QString, message);
        World w;
        const Queue::CallId id = w.call("c1");
        Queue::ForwardRequest request;
        request.call = id;
        request.to = to;
        const Result<QString> done = w.queue->forward(request);
        QVERIFY(!done);
        QVERIFY2(done.error().reason.contains(message), qPrintable(done.error().reason));
        QCOMPARE(w.finals(), 0);
        QVERIFY(w.queue->call(id));
        QCOMPARE(w.events.size(), std::size_t(1));  // no Left
    }

    void extensionNeedsADomain() {
        ua::ReceptionOptions options = defaultOptions();
        options.domain.clear();
        World w(options);
        Queue::ForwardRequest request;
        request.call = w.call("c1");
        request.to = "203";
        const Result<QString> done = w.queue->forward(request);
        QVERIFY(!done);
        QVERIFY2(done.error().reason.contains(QStringLiteral("no domain")),
                 qPrintable(done.error().reason));
        QCOMPARE(w.finals(), 0);
    }

    void reasonMustBeAToken_data() {
        QTest::addColumn<int>("mode");  // ReceptionOptions::HistoryInfo
        QTest::newRow("Diversion") << int(ua::ReceptionOptions::HistoryInfo::Off);
        QTest::newRow("History-Info instead") << int(ua::ReceptionOptions::HistoryInfo::Instead);
    }
    void reasonMustBeAToken() {
        QFETCH(int, mode);
        ua::ReceptionOptions options = defaultOptions();
        options.historyInfo = ua::ReceptionOptions::HistoryInfo(mode);
        World w(options);
        Queue::ForwardRequest request;
        request.call = w.call("c1");
        request.to = "203";
        request.reason = "user busy";
        const Result<QString> done = w.queue->forward(request);
        QVERIFY(!done);
        QVERIFY2(done.error().reason.contains(QStringLiteral("token")),
                 qPrintable(done.error().reason));
        QCOMPARE(w.finals(), 0);
        QVERIFY(w.queue->call(request.call));
        // An administrator's own token is fine.
        request.reason = "x-lunch";
        QVERIFY(w.queue->forward(request));
    }

    void reasonsOfferedAreRfc5806ThenTheAdministrators() {
        ua::ReceptionOptions options = defaultOptions();
        options.extraReasons = {"x-lunch", "user-busy"};
        World w(options);
        const QByteArrayList reasons = w.queue->reasons();
        QCOMPARE(reasons.size(), 12);
        QCOMPARE(reasons.back(), QByteArray("x-lunch"));
        QVERIFY(reasons.contains("user-busy"));
    }

    void queueListsLongestWaitingFirst() {
        World w;
        const Queue::CallId first = w.call("c1");
        w.clock.advance(5s);
        const Queue::CallId second = w.call("c2");
        w.clock.advance(5s);
        const Queue::CallId third = w.call("c3");
        QVERIFY(first < second && second < third);
        QVERIFY(w.queue->reject(second, 486));
        const std::vector<Queue::Call> queue = w.queue->queue();
        QCOMPARE(queue.size(), std::size_t(2));
        QCOMPARE(queue[0].call, first);
        QCOMPARE(queue[1].call, third);
        QVERIFY(queue[0].since < queue[1].since);
        // Each call rings in a dialog of its own.
        QVERIFY(toTagOf(w.responses(180)[0].message) != toTagOf(w.responses(180)[2].message));
    }

    void inDialogInviteIsLeftToTheOwner() {
        World w;
        w.receive(invite("c1", {}, {}, "someone"));
        QCOMPARE(w.owner.leftToOwner, 1);
        QVERIFY(w.queue->queue().empty());
        QCOMPARE(w.last().statusCode(), 481);
    }

    void mergedRequestGets482() {
        World w;
        w.call("c1");
        w.receive(invite("c1", {}, "other-branch"));
        QCOMPARE(w.responses(482).size(), std::size_t(1));
        QCOMPARE(w.queue->queue().size(), std::size_t(1));
    }

    void fullQueueAnswers486() {
        ua::ReceptionOptions options = defaultOptions();
        options.maxCalls = 1;
        World w(options);
        w.call("c1");
        w.receive(invite("c2"));
        QCOMPARE(w.responses(486).size(), std::size_t(1));
        QCOMPARE(w.queue->queue().size(), std::size_t(1));
    }

    void lostTransportEndsTheCall() {
        World w;
        const Queue::CallId id = w.call("c1");
        w.transport.failAllSends(FakeTransport::defaultSendError());
        Queue::ForwardRequest request;
        request.call = id;
        request.to = "203";
        const Result<QString> done = w.queue->forward(request);
        QVERIFY(!done);
        QVERIFY2(done.error().reason.contains(QStringLiteral("the call has ended")),
                 qPrintable(done.error().reason));
        QCOMPARE(w.events.back().kind, Queue::EventKind::Left);
        QCOMPARE(w.events.back().status, 0);
        QVERIFY(w.queue->queue().empty());
    }

    void listenerMayActOnTheCallItIsToldAbout() {
        World w;
        w.queue->setListener([&](const Queue::Event& event) {
            w.events.push_back(event);
            if (event.kind == Queue::EventKind::Changed)
                (void)w.queue->reject(event.call.call, 480);
        });
        w.call("c1");
        QCOMPARE(w.responses(480).size(), std::size_t(1));
        QVERIFY(w.queue->queue().empty());
        w.clock.advance(60s);
        QCOMPARE(w.responses(180).size(), std::size_t(1));
    }

    void goingAwayAnswersRingingCalls480() {
        World w;
        w.call("c1");
        w.call("c2");
        w.owner.queue = nullptr;
        w.queue.reset();
        QCOMPARE(w.responses(480).size(), std::size_t(2));
    }
};

QTEST_GUILESS_MAIN(TestReceptionQueue)
#include "tst_reception_queue.moc"
