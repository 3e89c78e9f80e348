// The attendant's actions in the built-in server (issue 7), on the real proxy and dialog
// tracker with a fake transport and clock: the queue of calls to the reception number,
// forward with a Diversion (CANCEL with Reason, fork, recall when busy or unanswered),
// pickup to the operator's phone (and back to the extension when her phone fails), the
// race of a pickup with an answer, and bad input that leaves the call ringing.

#include <QTest>

#include "base/manual_clock.h"
#include "base/random.h"
#include "fake_transport.h"
#include "proxy_fixture.h"
#include "server/attendant.h"
#include "server/dialog_state_store.h"
#include "server/dialog_tracker.h"
#include "sip/diversion.h"

using namespace sb;
using namespace sb::server;
using sb::test::Dispatcher;
using sb::test::FakeLocation;
using sb::test::FakeTransport;
using sb::test::SentMessage;
using transport::Protocol;

namespace {

transport::Endpoint endpoint(const char* address, quint16 port) {
    return FakeTransport::endpoint(Protocol::Udp, address, port);
}

const transport::Endpoint kCaller = endpoint("127.0.0.2", 5070);
const transport::Endpoint k202 = endpoint("127.0.0.3", 5080);
const transport::Endpoint k203 = endpoint("127.0.0.4", 5090);
const transport::Endpoint kPhone = endpoint("127.0.0.6", 5100);  // the operator's, 209
const QByteArray k202Contact = "sip:202@127.0.0.3:5080";
const QByteArray k203Contact = "sip:203@127.0.0.4:5090";
const QByteArray kPhoneContact = "sip:209@127.0.0.6:5100";
const QByteArray kCallId = "queue-1@127.0.0.2";
constexpr auto kRecall = std::chrono::seconds(30);

AttendantOptions attendantOptions() {
    AttendantOptions options;
    options.number = QStringLiteral("200");
    options.phoneUser = QStringLiteral("209");
    options.recallAfter = kRecall;
    return options;
}

struct Fixture {
    explicit Fixture(AttendantOptions options = attendantOptions())
        : layer(transport, clock, random),
          domains(QStringList{QStringLiteral("switchboard.local")}),
          tracker(store, domains, clock, random),
          proxy(layer, transport, clock, random, domains, location, location, proxyOptions()),
          attendant(proxy, tracker, domains, location, clock, std::move(options)) {
        domains.addListeningEndpoint(FakeTransport::endpoint(Protocol::Udp, "127.0.0.1", 5060));
        dispatcher.proxy = &proxy;
        layer.setServerUser(&dispatcher);
        proxy.setObserver(&tracker);
        proxy.setCallHolder(&attendant);
        attendant.setListener([this](const Attendant::Event& event) { events.push_back(event); });
        location.users.insert(QStringLiteral("201"));
        location.add(QStringLiteral("202"), k202Contact, k202);
        location.add(QStringLiteral("203"), k203Contact, k203);
        location.add(QStringLiteral("209"), kPhoneContact, kPhone);
    }
    ~Fixture() { layer.setServerUser(nullptr); }

    static ProxyOptions proxyOptions() {
        ProxyOptions options;
        options.secret = QByteArray(32, 'k');
        return options;
    }

    // 201 calls `callee` (an INVITE, or its CANCEL on the same branch).
    static sip::Message fromCaller(sip::Method method, QByteArray callee,
                                   QByteArray extraHeader = {}) {
        sip::Message m = sip::Message::request(method, "sip:" + callee + "@switchboard.local");
        m.addHeader(sip::HeaderId::Via, "SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bK-a1;rport");
        m.addHeader(sip::HeaderId::MaxForwards, "70");
        m.addHeader(sip::HeaderId::From, "\"Alice\" <sip:201@switchboard.local>;tag=alice");
        m.addHeader(sip::HeaderId::To, "<sip:" + callee + "@switchboard.local>");
        m.addHeader(sip::HeaderId::CallId, kCallId);
        m.addHeader(sip::HeaderId::CSeq, "1 " + sip::methodName(method).toByteArray());
        m.addHeader(sip::HeaderId::Contact, "<sip:201@127.0.0.2:5070>");
        if (!extraHeader.isEmpty()) {
            const qsizetype colon = extraHeader.indexOf(':');
            m.addHeader(extraHeader.left(colon), extraHeader.mid(colon + 1).trimmed());
        }
        return m;
    }
    void call(QByteArray callee, QByteArray extraHeader = {}) {
        QVERIFY(transport.inject(fromCaller(sip::Method::Invite, callee, extraHeader), kCaller));
    }
    void callerCancels(QByteArray callee) {
        QVERIFY(transport.inject(fromCaller(sip::Method::Cancel, callee), kCaller));
    }

    std::vector<SentMessage> requestsTo(sip::Method method, const transport::Endpoint& to) const {
        std::vector<SentMessage> out;
        for (const SentMessage& s : transport.requests(method))
            if (s.destination == to) out.push_back(s);
        return out;
    }
    SentMessage lastInviteTo(const transport::Endpoint& to) const {
        auto sent = requestsTo(sip::Method::Invite, to);
        if (sent.empty()) qWarning("no INVITE sent to %s", qPrintable(to.toString()));
        return sent.empty() ? SentMessage{} : sent.back();
    }
    // The downstream phone answers the INVITE it got.
    void answer(const SentMessage& sent, int status, QByteArray toTag) {
        sip::Message response = sip::makeResponse(sent.message, status, {}, toTag);
        if (status > 100 && status < 300) {
            for (QByteArrayView rr : sent.message.values(sip::HeaderId::RecordRoute))
                response.addHeader(sip::HeaderId::RecordRoute, rr.toByteArray());
            response.addHeader(sip::HeaderId::Contact,
                               "<" + sent.message.requestUri().toByteArray() + ">");
        }
        QVERIFY(transport.answer(sent, response));
    }
    // A phone that got a CANCEL: 200 to it and 487 to its INVITE.
    void acceptCancel(const transport::Endpoint& phone, QByteArray toTag) {
        const auto cancels = requestsTo(sip::Method::Cancel, phone);
        QVERIFY(!cancels.empty());
        answer(cancels.back(), 200, toTag);
        answer(lastInviteTo(phone), 487, toTag);
    }
    std::vector<int> upstreamStatuses() const {
        std::vector<int> out;
        for (const SentMessage& s : transport.responses())
            if (s.destination == kCaller && s.message.cseq()->method == sip::Method::Invite)
                out.push_back(s.statusCode());
        return out;
    }
    bool finalSentUpstream() const {
        for (int status : upstreamStatuses())
            if (status >= 200) return true;
        return false;
    }
    // The live (not terminated) dialogs of `user` in the state store.
    int liveDialogs(const QString& user) const {
        int live = 0;
        for (const dialoginfo::DialogInfo& d : store.dialogs(user))
            live += d.state != dialoginfo::DialogState::Terminated ? 1 : 0;
        return live;
    }
    CallId queuedCall() const {
        const auto queue = attendant.queue();
        if (queue.size() != 1) qWarning("queue has %d calls", int(queue.size()));
        return queue.empty() ? 0 : queue.front().call;
    }

    base::ManualClock clock;
    FakeTransport transport{&clock};
    base::SeededRandom random{7};
    transaction::TransactionLayer layer;
    LocalDomains domains;
    FakeLocation location;
    DialogStateStore store;
    DialogTracker tracker;
    Proxy proxy;
    Attendant attendant;
    Dispatcher dispatcher;
    std::vector<Attendant::Event> events;
};

QByteArrayList diversionsOf(const sip::Message& m) {
    QByteArrayList out;
    for (QByteArrayView value : m.values(sip::HeaderId::Diversion))
        out << value.toByteArray();
    return out;
}

}  // namespace

class TestAttendant : public QObject {
    Q_OBJECT

private slots:
    void queuedCallRingsThePhoneAndWaits();
    void queueWithoutPhoneRingsNobody();
    void forwardFromTheQueue();
    void forwardOfAnExtensionsCall();
    void recallWhenTheTargetIsBusy();
    void recallWhenNobodyAnswers();
    void pickupMovesTheCallToTheOperator();
    void ringingCallOfLooksOnlyAtThatExtension();
    void pickupFailureRingsTheExtensionAgain();
    void pickupNeverStealsAnAnsweredCall();
    void pickupReturnThatFailsAtOnceEndsTheCall();
    void sendToPhoneAndBack();
    void callerHangsUpWhileQueued();
    void rejectFromTheQueue();
    void historyInfoBesideOrInstead();
    void diversionOptions();
    void historyInfoExplainsAQueuedCall();
    void badInputLeavesTheCallRinging();
    void limitRefusesTheForward();
};

void TestAttendant::queuedCallRingsThePhoneAndWaits() {
    Fixture f;
    f.call("200", "Diversion: <sip:100@pbx.example>;reason=unconditional");
    const SentMessage toPhone = f.lastInviteTo(kPhone);
    QCOMPARE(toPhone.message.requestUri(), QByteArrayView(kPhoneContact));
    QCOMPARE(toPhone.message.header(sip::HeaderId::To),
             QByteArrayView("<sip:200@switchboard.local>"));

    const auto queue = f.attendant.queue();
    QCOMPARE(queue.size(), std::size_t(1));
    QCOMPARE(queue[0].callerDisplay, QStringLiteral("Alice"));
    QCOMPARE(queue[0].callerUri, QStringLiteral("sip:201@switchboard.local"));
    QCOMPARE(queue[0].calledUri, QStringLiteral("sip:200@switchboard.local"));
    QCOMPARE(queue[0].history,
             QStringList{QStringLiteral("from sip:100@pbx.example, unconditional")});
    QCOMPARE(queue[0].target, QStringLiteral("209"));
    QCOMPARE(f.events.back().kind, Attendant::EventKind::Changed);

    // The operator is on another call: her phone says busy. The call waits on, and the
    // caller hears ringing from the server itself.
    f.answer(toPhone, 486, "phone-1");
    QCOMPARE(f.upstreamStatuses(), (std::vector<int>{100, 180}));
    QCOMPARE(f.attendant.queue().size(), std::size_t(1));
    QVERIFY(f.attendant.queue()[0].target.isEmpty());
    // It rings on: 180 again every minute (RFC 3261 §13.3.1.1), so that nobody upstream
    // gives up on it.
    f.clock.advance(std::chrono::minutes(5));
    QVERIFY(!f.finalSentUpstream());
    QCOMPARE(f.upstreamStatuses(), (std::vector<int>{100, 180, 180, 180, 180, 180, 180}));
}

void TestAttendant::queueWithoutPhoneRingsNobody() {
    AttendantOptions options = attendantOptions();
    options.ringPhone = false;
    Fixture f(options);
    f.call("200");
    QVERIFY(f.requestsTo(sip::Method::Invite, kPhone).empty());
    QCOMPARE(f.upstreamStatuses(), (std::vector<int>{100, 180}));
    QCOMPARE(f.attendant.queue().size(), std::size_t(1));
    QVERIFY(f.attendant.queue()[0].target.isEmpty());
}

void TestAttendant::forwardFromTheQueue() {
    Fixture f;
    f.call("200", "Diversion: <sip:100@pbx.example>;reason=unconditional");
    const SentMessage toPhone = f.lastInviteTo(kPhone);
    f.answer(toPhone, 180, "phone-1");

    Attendant::ForwardRequest request;
    request.call = f.queuedCall();
    request.to = QStringLiteral("203");
    request.reason = "user-busy";
    Result<QString> done = f.attendant.forward(request);
    QVERIFY2(done, qPrintable(done ? QString() : done.error().reason));
    QCOMPARE(*done, QStringLiteral("Forwarding to 203 (user-busy)"));

    // The phone's branch is CANCELled with a Reason that says why.
    const auto cancels = f.requestsTo(sip::Method::Cancel, kPhone);
    QCOMPARE(cancels.size(), std::size_t(1));
    QCOMPARE(cancels[0].message.header(sip::HeaderId::Reason),
             QByteArrayView(R"(SIP;cause=181;text="Call is being forwarded")"));
    // 203 gets the INVITE with the new Diversion on top of the one it came with.
    const SentMessage to203 = f.lastInviteTo(k203);
    QCOMPARE(to203.message.requestUri(), QByteArrayView(k203Contact));
    QCOMPARE(diversionsOf(to203.message),
             (QByteArrayList{"<sip:200@switchboard.local>;reason=user-busy",
                             "<sip:100@pbx.example>;reason=unconditional"}));
    QCOMPARE(f.attendant.queue()[0].state, Attendant::Call::State::Forwarding);

    // The phone's 487 is not the caller's business; 203 answers and the caller gets it.
    f.acceptCancel(kPhone, "phone-1");
    QVERIFY(!f.finalSentUpstream());
    f.answer(to203, 180, "anna");
    f.answer(to203, 200, "anna");
    QCOMPARE(f.upstreamStatuses().back(), 200);
    QVERIFY(f.attendant.queue().empty());
    QCOMPARE(f.events.back().kind, Attendant::EventKind::Left);
    QCOMPARE(f.events.back().status, 200);
    QCOMPARE(f.events.back().call.outcome, QStringLiteral("answered by 203"));
    QCOMPARE(f.liveDialogs(QStringLiteral("203")), 1);
    QCOMPARE(f.liveDialogs(QStringLiteral("209")), 0);
}

void TestAttendant::forwardOfAnExtensionsCall() {
    Fixture f;
    f.call("202");
    const SentMessage to202 = f.lastInviteTo(k202);
    f.answer(to202, 180, "bob");
    QCOMPARE(f.liveDialogs(QStringLiteral("202")), 1);
    QVERIFY(f.attendant.queue().empty());  // not a reception call

    Result<CallId> ringing = f.attendant.ringingCallOf(QStringLiteral("202"));
    QVERIFY(ringing);
    Attendant::ForwardRequest request;
    request.call = *ringing;
    request.to = QStringLiteral("203");
    request.reason = "no-answer";
    QVERIFY(f.attendant.forward(request));

    const auto cancels = f.requestsTo(sip::Method::Cancel, k202);
    QCOMPARE(cancels.size(), std::size_t(1));
    QVERIFY(cancels[0].message.has(sip::HeaderId::Reason));
    const SentMessage to203 = f.lastInviteTo(k203);
    QCOMPARE(diversionsOf(to203.message),
             QByteArrayList{"<sip:202@switchboard.local>;reason=no-answer"});
    f.acceptCancel(k202, "bob");
    QVERIFY(!f.finalSentUpstream());
    // 202's lamp goes out, 203's rings.
    f.answer(to203, 180, "anna");
    QCOMPARE(f.liveDialogs(QStringLiteral("202")), 0);
    QCOMPARE(f.liveDialogs(QStringLiteral("203")), 1);
    QCOMPARE(f.liveDialogs(QStringLiteral("201")), 1);
    f.answer(to203, 200, "anna");
    QCOMPARE(f.upstreamStatuses().back(), 200);
}

void TestAttendant::recallWhenTheTargetIsBusy() {
    Fixture f;
    f.call("202");
    f.answer(f.lastInviteTo(k202), 180, "bob");
    Attendant::ForwardRequest request;
    request.call = *f.attendant.ringingCallOf(QStringLiteral("202"));
    request.to = QStringLiteral("203");
    request.reason = "user-busy";
    QVERIFY(f.attendant.forward(request));
    f.acceptCancel(k202, "bob");

    f.answer(f.lastInviteTo(k203), 486, "anna");
    QVERIFY(!f.finalSentUpstream());
    // Back in the queue, marked, and ringing the operator's phone with why it came.
    const auto queue = f.attendant.queue();
    QCOMPARE(queue.size(), std::size_t(1));
    QCOMPARE(queue[0].outcome, QStringLiteral("203 busy"));
    QCOMPARE(queue[0].state, Attendant::Call::State::Waiting);
    const SentMessage toPhone = f.lastInviteTo(kPhone);
    QCOMPARE(diversionsOf(toPhone.message),
             (QByteArrayList{"<sip:203@switchboard.local>;reason=user-busy",
                             "<sip:202@switchboard.local>;reason=user-busy"}));
    QCOMPARE(queue[0].history, (QStringList{QStringLiteral("from 203, user-busy"),
                                            QStringLiteral("from 202, user-busy")}));
    // The operator takes it on her phone.
    f.answer(toPhone, 200, "phone-1");
    QCOMPARE(f.upstreamStatuses().back(), 200);
    QVERIFY(f.attendant.queue().empty());
}

void TestAttendant::recallWhenNobodyAnswers() {
    Fixture f;
    f.call("200");
    f.answer(f.lastInviteTo(kPhone), 180, "phone-1");
    Attendant::ForwardRequest request;
    request.call = f.queuedCall();
    request.to = QStringLiteral("203");
    QVERIFY(f.attendant.forward(request));
    f.acceptCancel(kPhone, "phone-1");
    const SentMessage to203 = f.lastInviteTo(k203);
    // The default reason.
    QCOMPARE(diversionsOf(to203.message),
             QByteArrayList{"<sip:200@switchboard.local>;reason=deflection"});
    f.answer(to203, 180, "anna");

    f.clock.advance(kRecall - std::chrono::seconds(1));
    QVERIFY(f.requestsTo(sip::Method::Cancel, k203).empty());
    f.clock.advance(std::chrono::seconds(1));
    const auto cancels = f.requestsTo(sip::Method::Cancel, k203);
    QCOMPARE(cancels.size(), std::size_t(1));
    QCOMPARE(cancels[0].message.header(sip::HeaderId::Reason),
             QByteArrayView(R"(SIP;cause=480;text="Not answered, back to the attendant")"));
    QCOMPARE(f.requestsTo(sip::Method::Invite, kPhone).size(), std::size_t(2));
    QCOMPARE(f.attendant.queue()[0].outcome, QStringLiteral("203 did not answer"));
    QCOMPARE(diversionsOf(f.lastInviteTo(kPhone).message).front(),
             QByteArray("<sip:203@switchboard.local>;reason=no-answer"));
    f.acceptCancel(k203, "anna");
    QVERIFY(!f.finalSentUpstream());
}

void TestAttendant::pickupMovesTheCallToTheOperator() {
    Fixture f;
    f.call("202");
    const SentMessage to202 = f.lastInviteTo(k202);
    f.answer(to202, 180, "bob");
    Result<CallId> ringing = f.attendant.ringingCallOf(QStringLiteral("202"));
    QVERIFY(ringing);
    Result<QString> done = f.attendant.pickup(*ringing);
    QVERIFY2(done, qPrintable(done ? QString() : done.error().reason));

    const auto cancels = f.requestsTo(sip::Method::Cancel, k202);
    QCOMPARE(cancels.size(), std::size_t(1));
    QCOMPARE(cancels[0].message.header(sip::HeaderId::Reason),
             QByteArrayView(R"(SIP;cause=200;text="Call completed elsewhere")"));
    const SentMessage toPhone = f.lastInviteTo(kPhone);
    QCOMPARE(toPhone.message.header(sip::HeaderId::CallInfo),
             QByteArrayView("<sip:switchboard.local>;answer-after=0"));
    QVERIFY(!toPhone.message.has(sip::HeaderId::Diversion));
    f.acceptCancel(k202, "bob");
    f.answer(toPhone, 200, "phone-1");
    QCOMPARE(f.upstreamStatuses().back(), 200);
    QCOMPARE(f.liveDialogs(QStringLiteral("202")), 0);
    QCOMPARE(f.liveDialogs(QStringLiteral("209")), 1);
    QCOMPARE(f.events.back().kind, Attendant::EventKind::Left);
    QCOMPARE(f.events.back().status, 200);
}

void TestAttendant::ringingCallOfLooksOnlyAtThatExtension() {
    // The call an action on an extension means is found among the calls to that
    // extension (DialogTracker::callsTo, not a view of every call: the benchmark with
    // 1,000 calls ringing spent most of a pickup on that): the one ringing longest, and
    // no longer one that was moved away.
    Fixture f;
    const auto callFrom = [&f](QByteArray callee, QByteArray id) {
        sip::Message invite = Fixture::fromCaller(sip::Method::Invite, callee);
        invite.setHeader(sip::HeaderId::CallId, id + "@127.0.0.2");
        invite.setHeader(sip::HeaderId::Via,
                         "SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bK-" + id + ";rport");
        QVERIFY(f.transport.inject(invite, kCaller));
    };
    callFrom("202", "first");
    const SentMessage first = f.lastInviteTo(k202);
    f.answer(first, 180, "bob-1");
    f.clock.advance(std::chrono::seconds(1));
    callFrom("203", "other");
    f.answer(f.lastInviteTo(k203), 180, "anna");
    callFrom("202", "second");
    f.answer(f.lastInviteTo(k202), 180, "bob-2");

    const auto to202 = f.tracker.callsTo(QStringLiteral("202"));
    QCOMPARE(to202.size(), std::size_t(2));
    QCOMPARE(to202[0].callId, QByteArray("first@127.0.0.2"));
    QCOMPARE(to202[1].callId, QByteArray("second@127.0.0.2"));
    QCOMPARE(f.tracker.callsTo(QStringLiteral("203")).size(), std::size_t(1));
    QVERIFY(f.tracker.callsTo(QStringLiteral("209")).empty());

    Result<CallId> longest = f.attendant.ringingCallOf(QStringLiteral("202"));
    QVERIFY(longest);
    QCOMPARE(*longest, to202[0].id);
    QVERIFY(f.attendant.pickup(*longest));
    const auto cancels = f.requestsTo(sip::Method::Cancel, k202);
    QCOMPARE(cancels.size(), std::size_t(1));
    f.answer(cancels[0], 200, "bob-1");
    f.answer(first, 487, "bob-1");

    // The picked-up call is a call to the operator's phone now; 202's next is the other.
    QCOMPARE(f.tracker.callsTo(QStringLiteral("209")).size(), std::size_t(1));
    Result<CallId> next = f.attendant.ringingCallOf(QStringLiteral("202"));
    QVERIFY(next);
    QCOMPARE(*next, to202[1].id);
    // The moved leg lingers as ended, then leaves the index with the call.
    QCOMPARE(f.tracker.callsTo(QStringLiteral("202")).size(), std::size_t(2));
    f.clock.advance(DialogTrackerOptions{}.terminatedLinger + std::chrono::seconds(1));
    QCOMPARE(f.tracker.callsTo(QStringLiteral("202")).size(), std::size_t(1));
    QCOMPARE(f.tracker.callsTo(QStringLiteral("202"))[0].id, to202[1].id);
}

void TestAttendant::pickupFailureRingsTheExtensionAgain() {
    Fixture f;
    f.call("202");
    f.answer(f.lastInviteTo(k202), 180, "bob");
    QVERIFY(f.attendant.pickup(*f.attendant.ringingCallOf(QStringLiteral("202"))));
    f.acceptCancel(k202, "bob");
    f.answer(f.lastInviteTo(kPhone), 486, "phone-1");

    // 202 rings again, as a plain call: no Diversion, and its failure is the caller's.
    const auto to202 = f.requestsTo(sip::Method::Invite, k202);
    QCOMPARE(to202.size(), std::size_t(2));
    QVERIFY(!to202.back().message.has(sip::HeaderId::Diversion));
    QVERIFY(!to202.back().message.has(sip::HeaderId::CallInfo));
    QCOMPARE(f.events.back().kind, Attendant::EventKind::Left);
    QCOMPARE(f.events.back().call.outcome,
             QStringLiteral("pickup failed: your phone busy; ringing 202 again"));
    QVERIFY(!f.finalSentUpstream());
    f.answer(to202.back(), 180, "bob-2");
    QCOMPARE(f.liveDialogs(QStringLiteral("202")), 1);
    f.answer(to202.back(), 486, "bob-2");
    QCOMPARE(f.upstreamStatuses().back(), 486);
}

void TestAttendant::pickupNeverStealsAnAnsweredCall() {
    Fixture f;
    f.call("202");
    const SentMessage to202 = f.lastInviteTo(k202);
    f.answer(to202, 180, "bob");
    QVERIFY(f.attendant.pickup(*f.attendant.ringingCallOf(QStringLiteral("202"))));
    const SentMessage toPhone = f.lastInviteTo(kPhone);
    f.answer(toPhone, 180, "phone-1");
    // 202 answered before our CANCEL reached it: the call is 202's, not dropped.
    f.answer(to202, 200, "bob");
    QCOMPARE(f.upstreamStatuses().back(), 200);
    const auto phoneCancels = f.requestsTo(sip::Method::Cancel, kPhone);
    QCOMPARE(phoneCancels.size(), std::size_t(1));
    QCOMPARE(phoneCancels[0].message.header(sip::HeaderId::Reason),
             QByteArrayView(R"(SIP;cause=200;text="Call completed elsewhere")"));
    f.acceptCancel(kPhone, "phone-1");
    QCOMPARE(f.upstreamStatuses().back(), 200);
    QCOMPARE(f.liveDialogs(QStringLiteral("202")), 1);
    QCOMPARE(f.liveDialogs(QStringLiteral("209")), 0);
    QVERIFY(f.attendant.queue().empty());
}

void TestAttendant::pickupReturnThatFailsAtOnceEndsTheCall() {
    // The operator's phone never answers (Timer B), and the way back to 202 fails at
    // once (its flow is gone): the caller gets the failure, and nothing of the call is
    // left (the context ends from inside the holder's callback).
    Fixture f;
    f.call("202");
    f.answer(f.lastInviteTo(k202), 180, "bob");
    QVERIFY(f.attendant.pickup(*f.attendant.ringingCallOf(QStringLiteral("202"))));
    f.acceptCancel(k202, "bob");
    QCOMPARE(f.requestsTo(sip::Method::Invite, kPhone).size(), std::size_t(1));
    f.transport.failAllSends(Error{ErrorKind::Transport, QStringLiteral("gone")});
    f.clock.advance(std::chrono::seconds(33));  // Timer B of the phone's branch
    f.transport.failAllSends(std::nullopt);
    QCOMPARE(f.events.back().kind, Attendant::EventKind::Left);
    QCOMPARE(f.proxy.responseContexts(), 0u);
    QCOMPARE(f.proxy.callsInProgress(), 0u);
}

void TestAttendant::sendToPhoneAndBack() {
    AttendantOptions options = attendantOptions();
    options.ringPhone = false;
    options.autoAnswer = AttendantOptions::AutoAnswer::AlertInfo;
    Fixture f(options);
    f.call("200");
    const CallId call = f.queuedCall();
    QVERIFY(f.attendant.sendToPhone(call));
    const SentMessage toPhone = f.lastInviteTo(kPhone);
    QCOMPARE(toPhone.message.header(sip::HeaderId::AlertInfo),
             QByteArrayView("<sip:switchboard.local>;info=alert-autoanswer;delay=0"));
    QCOMPARE(f.attendant.queue()[0].state, Attendant::Call::State::ToPhone);
    f.answer(toPhone, 603, "phone-1");
    QCOMPARE(f.attendant.queue()[0].state, Attendant::Call::State::Waiting);
    QCOMPARE(f.attendant.queue()[0].outcome, QStringLiteral("your phone declined"));
    QVERIFY(!f.finalSentUpstream());
    // A pickup of a queued call is the same as sending it to the phone.
    QVERIFY(f.attendant.pickup(call));
    QCOMPARE(f.requestsTo(sip::Method::Invite, kPhone).size(), std::size_t(2));
}

void TestAttendant::callerHangsUpWhileQueued() {
    Fixture f;
    f.call("200");
    f.answer(f.lastInviteTo(kPhone), 180, "phone-1");
    f.callerCancels("200");
    f.acceptCancel(kPhone, "phone-1");
    QCOMPARE(f.upstreamStatuses().back(), 487);
    QVERIFY(f.attendant.queue().empty());
    QCOMPARE(f.events.back().kind, Attendant::EventKind::Left);
    QCOMPARE(f.events.back().call.outcome, QStringLiteral("the caller hung up"));
    // Actions on it are refused now.
    Attendant::ForwardRequest request;
    request.call = f.events.back().call.call;
    request.to = QStringLiteral("203");
    QVERIFY(!f.attendant.forward(request));
}

void TestAttendant::rejectFromTheQueue() {
    Fixture f;
    f.call("200");
    f.answer(f.lastInviteTo(kPhone), 180, "phone-1");
    QVERIFY(!f.attendant.reject(f.queuedCall(), 200));
    Result<QString> rejected = f.attendant.reject(f.queuedCall(), 486);
    QVERIFY(rejected);
    QCOMPARE(f.upstreamStatuses().back(), 486);
    QCOMPARE(f.requestsTo(sip::Method::Cancel, kPhone).size(), std::size_t(1));
    f.acceptCancel(kPhone, "phone-1");
    QCOMPARE(f.upstreamStatuses().back(), 486);
    QVERIFY(f.attendant.queue().empty());
}

void TestAttendant::historyInfoBesideOrInstead() {
    for (auto mode :
         {AttendantOptions::HistoryInfo::Beside, AttendantOptions::HistoryInfo::Instead}) {
        AttendantOptions options = attendantOptions();
        options.historyInfo = mode;
        options.ringPhone = false;
        Fixture f(options);
        f.call("200");
        Attendant::ForwardRequest request;
        request.call = f.queuedCall();
        request.to = QStringLiteral("203");
        request.reason = "user-busy";
        QVERIFY(f.attendant.forward(request));
        const sip::Message& invite = f.lastInviteTo(k203).message;
        QCOMPARE(invite.has(sip::HeaderId::Diversion),
                 mode == AttendantOptions::HistoryInfo::Beside);
        QByteArrayList history;
        for (QByteArrayView value : invite.values(sip::HeaderId::HistoryInfo))
            history << value.toByteArray();
        QCOMPARE(history, (QByteArrayList{"<sip:200@switchboard.local>;index=1",
                                          "<sip:203@switchboard.local;cause=486>;index=1.1;mp=1"}));
    }
    // The per-forward switch turns it on when the configuration has it off.
    Fixture f;
    f.call("202");
    Attendant::ForwardRequest request;
    request.call = *f.attendant.ringingCallOf(QStringLiteral("202"));
    request.to = QStringLiteral("203");
    request.historyInfo = true;
    f.answer(f.lastInviteTo(k202), 180, "bob");
    QVERIFY(f.attendant.forward(request));
    QCOMPARE(f.lastInviteTo(k203).message.count(sip::HeaderId::HistoryInfo), 2);
    QVERIFY(f.lastInviteTo(k203).message.has(sip::HeaderId::Diversion));
}

void TestAttendant::diversionOptions() {
    AttendantOptions options = attendantOptions();
    options.suffix = ";x-site=berlin";
    options.counter = 1;
    options.limit = 5;
    options.screen = true;
    options.privacy = sip::DiversionPrivacy::Off;
    options.ringPhone = false;
    Fixture f(options);
    f.call("200");
    Attendant::ForwardRequest request;
    request.call = f.queuedCall();
    request.to = QStringLiteral("sip:203@switchboard.local");
    request.reason = "away";
    request.diversionUri = "sip:reception@switchboard.local";
    request.privacy = sip::DiversionPrivacy::Full;
    QVERIFY(f.attendant.forward(request));
    QCOMPARE(diversionsOf(f.lastInviteTo(k203).message),
             QByteArrayList{"<sip:reception@switchboard.local>;reason=away;counter=1;limit=5;"
                            "privacy=full;screen=yes;x-site=berlin"});
}

void TestAttendant::historyInfoExplainsAQueuedCall() {
    Fixture f;
    f.call("200",
           "History-Info: <sip:100@pbx.example>;index=1, "
           "<sip:101@pbx.example;cause=408>;index=1.1;mp=1, "
           "<sip:200@switchboard.local;cause=486>;index=1.1.1;mp=1.1");
    QCOMPARE(f.attendant.queue().at(0).history,
             (QStringList{QStringLiteral("from sip:101@pbx.example, user-busy"),
                          QStringLiteral("from sip:100@pbx.example, no-answer")}));
}

void TestAttendant::badInputLeavesTheCallRinging() {
    Fixture f;
    f.call("202");
    f.answer(f.lastInviteTo(k202), 180, "bob");
    const CallId call = *f.attendant.ringingCallOf(QStringLiteral("202"));
    const auto refused = [&](QString to, QByteArray reason, QString complaint) {
        Attendant::ForwardRequest request;
        request.call = call;
        request.to = to;
        request.reason = reason;
        Result<QString> result = f.attendant.forward(request);
        QVERIFY2(!result, qPrintable(to));
        QVERIFY2(result.error().reason.contains(complaint), qPrintable(result.error().reason));
    };
    refused(QStringLiteral("299"), "user-busy", QStringLiteral("unknown extension 299"));
    refused(QStringLiteral("sip:203@switchboard.local>x"), "user-busy",
            QStringLiteral("not a SIP URI"));
    refused(QStringLiteral("sip:299@switchboard.local"), "user-busy",
            QStringLiteral("unknown extension 299"));
    refused(QStringLiteral("203"), "user busy", QStringLiteral("not a token"));
    refused(QString(), "user-busy", QStringLiteral("no target"));
    // Known but not registered: refused by routing, named so.
    f.location.users.insert(QStringLiteral("204"));
    refused(QStringLiteral("204"), "user-busy", QStringLiteral("204 is not registered"));
    refused(QStringLiteral("sip:someone@elsewhere.example"), "user-busy",
            QStringLiteral("cannot be reached"));
    // Nothing happened to the call: no CANCEL, no new branch, nothing upstream.
    QVERIFY(f.requestsTo(sip::Method::Cancel, k202).empty());
    QCOMPARE(f.transport.requests(sip::Method::Invite).size(), std::size_t(1));
    QVERIFY(!f.finalSentUpstream());
    QCOMPARE(f.liveDialogs(QStringLiteral("202")), 1);

    // A pickup of an idle or busy extension, or of a call that is gone.
    Result<CallId> idle = f.attendant.ringingCallOf(QStringLiteral("203"));
    QVERIFY(!idle);
    QCOMPARE(idle.error().reason, QStringLiteral("203 has no ringing call"));
    QVERIFY(!f.attendant.pickup(9999));
    QVERIFY(!f.attendant.reject(9999, 486));
    QVERIFY(!f.attendant.sendToPhone(call));  // not a queued call
    f.answer(f.lastInviteTo(k202), 200, "bob");
    Result<CallId> busy = f.attendant.ringingCallOf(QStringLiteral("202"));
    QVERIFY(!busy);
    QCOMPARE(busy.error().reason, QStringLiteral("202 is not ringing (busy)"));
    Result<QString> late = f.attendant.pickup(call);
    QVERIFY(!late);
}

void TestAttendant::limitRefusesTheForward() {
    Fixture f;
    f.call("202", "Diversion: <sip:100@pbx.example>;reason=unconditional;counter=2;limit=2");
    f.answer(f.lastInviteTo(k202), 180, "bob");
    Attendant::ForwardRequest request;
    request.call = *f.attendant.ringingCallOf(QStringLiteral("202"));
    request.to = QStringLiteral("203");
    Result<QString> refused = f.attendant.forward(request);
    QVERIFY(!refused);
    QVERIFY2(refused.error().reason.contains("allows at most 2"),
             qPrintable(refused.error().reason));
    QVERIFY(f.requestsTo(sip::Method::Cancel, k202).empty());
    QVERIFY(f.requestsTo(sip::Method::Invite, k203).empty());
}

QTEST_GUILESS_MAIN(TestAttendant)
#include "tst_attendant.moc"
