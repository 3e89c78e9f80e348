// Dialog tracker: RFC 4235 states for both parties of every proxied INVITE, fed to the
// DialogStateStore, driven through the ProxyObserver callbacks the proxy makes.

#include <QTest>

#include "base/manual_clock.h"
#include "base/random.h"
#include "server/dialog_state_store.h"
#include "server/dialog_tracker.h"
#include "server/local_domains.h"
#include "sip/message.h"
#include "sip/parser.h"

using namespace sb;
using namespace std::chrono_literals;
using dialoginfo::DialogInfo;
using dialoginfo::DialogState;
using dialoginfo::Direction;
using server::BranchId;
using server::CallId;
using server::DialogTracker;
using server::ProxyObserver;

namespace {

const QByteArray kCallId = "call-1@127.0.0.1";
const QByteArray kFromTag = "from201";

// Test messages are written with "\n"; the wire uses CRLF (RFC 3261 §7).
sip::Message parse(QByteArray text) {
    text.replace("\n", "\r\n");
    auto parsed = sip::Parser::parse(text);
    if (!parsed) qFatal("test message does not parse: %s", qPrintable(parsed.error().reason));
    return *parsed;
}

sip::Message wire(const sip::Message& message) {
    auto parsed = sip::Parser::parse(message.serialize());
    if (!parsed) qFatal("test message does not parse: %s", qPrintable(parsed.error().reason));
    return *parsed;
}

struct InviteText {
    QByteArray from = "\"Alice\" <sip:201@switchboard.local>";
    QByteArray to = "<sip:202@switchboard.local>";
    QByteArray callId = kCallId;
    QByteArray fromTag = kFromTag;
    QByteArray contact = "<sip:201@127.0.0.1:5070>";
};

sip::Message invite(const InviteText& t = {}) {
    return parse(
        "INVITE sip:202@switchboard.local SIP/2.0\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-inv1\n"
        "Max-Forwards: 70\n"
        "From: " +
        t.from + ";tag=" + t.fromTag +
        "\n"
        "To: " +
        t.to +
        "\n"
        "Call-ID: " +
        t.callId +
        "\n"
        "CSeq: 1 INVITE\n"
        "Contact: " +
        t.contact +
        "\n"
        "Content-Length: 0\n\n");
}

// A response to `request` with a To tag (none when empty) and a Contact (none when empty).
sip::Message response(const sip::Message& request, int status, QByteArray toTag = {},
                      QByteArray contact = {}) {
    sip::Message m = sip::makeResponse(request, status, {}, toTag);
    if (!contact.isEmpty()) m.addHeader(sip::HeaderId::Contact, contact);
    return wire(m);
}

// An in-dialog request (RFC 3261 §12.2.1.1): From carries the sender's tag, To the peer's.
sip::Message inDialog(QByteArray method, bool fromCaller, QByteArray toTag,
                      QByteArray callId = kCallId, QByteArray callerTag = kFromTag, int cseq = 2) {
    const QByteArray caller = "<sip:201@switchboard.local>;tag=" + callerTag;
    const QByteArray callee = "<sip:202@switchboard.local>;tag=" + toTag;
    return parse(method + " sip:peer@127.0.0.1:5080 SIP/2.0\n" +
                 "Via: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK-" + method.toLower() + "\n" +
                 "Max-Forwards: 70\n" + "From: " + (fromCaller ? caller : callee) + "\n" +
                 "To: " + (fromCaller ? callee : caller) + "\n" + "Call-ID: " + callId + "\n" +
                 "CSeq: " + QByteArray::number(cseq) + " " + method + "\n" +
                 "Content-Length: 0\n\n");
}

const transport::Endpoint kSource{transport::Protocol::Udp,
                                  QHostAddress(QStringLiteral("127.0.0.1")), 5070};

}  // namespace

class TestDialogTracker : public QObject {
    Q_OBJECT

private:
    // Most tests show the callee from the start (RFC 4235's full state machine);
    // calleeSideWaitsForTheFirstAnswer tests the default.
    static server::DialogTrackerOptions withCalleeTrying() {
        server::DialogTrackerOptions options;
        options.calleeTrying = true;
        return options;
    }

    struct Fixture {
        explicit Fixture(server::DialogTrackerOptions options = withCalleeTrying())
            : domains(QStringList{QStringLiteral("switchboard.local")}),
              tracker(store, domains, clock, random, options) {
            tracker.setChangeListener([this] { ++changes; });
        }

        // 201 calls 202 (both local) unless told otherwise.
        void start(CallId id, const sip::Message& request, QString caller = QStringLiteral("201"),
                   QString callee = QStringLiteral("202")) {
            ProxyObserver::CallStart start;
            start.call = id;
            start.invite = &request;
            start.source = kSource;
            start.callerUser = std::move(caller);
            start.calleeUser = std::move(callee);
            start.at = clock.now();
            tracker.onCallStarted(start);
        }

        // The one dialog `user` has.
        DialogInfo only(const QString& user) const {
            const auto dialogs = store.dialogs(user);
            if (dialogs.size() != 1)
                qWarning("%s has %d dialogs", qPrintable(user), int(dialogs.size()));
            return dialogs.empty() ? DialogInfo{} : dialogs.front();
        }
        DialogInfo caller() const { return only(QStringLiteral("201")); }
        DialogInfo callee() const { return only(QStringLiteral("202")); }

        base::ManualClock clock;
        base::SeededRandom random{7};
        server::LocalDomains domains;
        server::DialogStateStore store;
        DialogTracker tracker;
        int changes = 0;
    };

    // Up to 200 OK + ACK on one branch.
    static sip::Message answeredCall(Fixture& f, CallId id = 1) {
        const sip::Message inv = invite();
        f.start(id, inv);
        f.tracker.onBranchStarted(id, 10, "sip:202@127.0.0.1:5080");
        f.tracker.onBranchResponse(id, 10, response(inv, 180, "to202", "<sip:202@127.0.0.1:5080>"));
        const sip::Message ok = response(inv, 200, "to202", "<sip:202@127.0.0.1:5080>");
        f.tracker.onBranchResponse(id, 10, ok);
        f.tracker.onCallAnswered(id, ok);
        f.tracker.onInDialogRequest(inDialog("ACK", true, "to202", kCallId, kFromTag, 1), kSource);
        return inv;
    }

private slots:
    // What the publisher is told: both sides after every change; the INVITE with the
    // reports of the start only; in-dialog requests on the confirmed dialog flagged, and
    // not before the answer (an early dialog's INFO never counts as confirmed).
    void sideReportsForThePublisher() {
        Fixture f;
        struct Report {
            server::CallId call;
            QString user;
            Direction direction;
            DialogState state;
            QByteArray inviteCallId;  // empty when the report carries no INVITE
            bool inDialogRequest;
        };
        std::vector<Report> reports;
        f.tracker.setSideListener([&](const DialogTracker::CallSide& side) {
            reports.push_back({side.call, side.user, side.dialog.direction, side.dialog.state,
                               side.invite ? side.invite->callId().toByteArray() : QByteArray(),
                               side.inDialogRequest});
        });
        const sip::Message inv = invite();
        f.start(1, inv);
        QCOMPARE(reports.size(), std::size_t(2));
        QCOMPARE(reports[0].user, QStringLiteral("201"));
        QCOMPARE(reports[0].direction, Direction::Initiator);
        QCOMPARE(reports[1].user, QStringLiteral("202"));
        QCOMPARE(reports[1].direction, Direction::Recipient);
        QCOMPARE(reports[0].inviteCallId, kCallId);
        QCOMPARE(reports[1].inviteCallId, kCallId);

        f.tracker.onBranchStarted(1, 10, "sip:202@127.0.0.1:5080");
        f.tracker.onBranchResponse(1, 10, response(inv, 180, "to202", "<sip:202@127.0.0.1:5080>"));
        QCOMPARE(reports.back().state, DialogState::Early);
        QVERIFY(reports.back().inviteCallId.isEmpty());
        const std::size_t beforeInfo = reports.size();
        f.tracker.onInDialogRequest(inDialog("INFO", true, "to202"), kSource);
        QCOMPARE(reports.size(), beforeInfo);  // early: nothing to report

        const sip::Message ok = response(inv, 200, "to202", "<sip:202@127.0.0.1:5080>");
        f.tracker.onBranchResponse(1, 10, ok);
        f.tracker.onCallAnswered(1, ok);
        f.tracker.onInDialogRequest(inDialog("ACK", true, "to202", kCallId, kFromTag, 1), kSource);
        const std::size_t beforeUpdate = reports.size();
        QVERIFY(std::none_of(reports.begin(), reports.end(),
                             [](const Report& r) { return r.inDialogRequest; }));
        f.tracker.onInDialogRequest(inDialog("UPDATE", false, "to202", kCallId, kFromTag, 3),
                                    kSource);
        QCOMPARE(reports.size(), beforeUpdate + 2);
        QVERIFY(reports.back().inDialogRequest);
        QCOMPARE(reports.back().state, DialogState::Confirmed);
    }

    // A 1xx with several Contacts names no one remote target: the callee's target is
    // left out rather than guessed (pua_dialoginfo does the same).
    void calleeTargetOnlyFromASingleContact() {
        Fixture f;
        const sip::Message inv = invite();
        f.start(1, inv);
        f.tracker.onBranchStarted(1, 10, "sip:202@127.0.0.1:5080");
        f.tracker.onBranchResponse(
            1, 10,
            response(inv, 180, "to202", "<sip:202@127.0.0.1:5080>, <sip:202@127.0.0.3:5080>"));
        QCOMPARE(f.callee().state, DialogState::Early);
        QVERIFY(!f.callee().local.target);
        f.tracker.onBranchResponse(1, 10, response(inv, 180, "to202", "<sip:202@127.0.0.1:5080>"));
        QVERIFY(f.callee().local.target);
        QCOMPARE(f.callee().local.target->uri, QStringLiteral("sip:202@127.0.0.1:5080"));
    }

    void basicCallBothSides() {
        Fixture f;
        const sip::Message inv = invite();
        f.start(1, inv);

        // Trying at once on both sides.
        DialogInfo a = f.caller();
        QCOMPARE(a.state, DialogState::Trying);
        QCOMPARE(a.direction, Direction::Initiator);
        QCOMPARE(a.callId, QString::fromUtf8(kCallId));
        QCOMPARE(a.localTag, QStringLiteral("from201"));
        QVERIFY(a.remoteTag.isEmpty());
        QCOMPARE(a.local.identity, QStringLiteral("sip:201@switchboard.local"));
        QCOMPARE(a.local.display, QStringLiteral("Alice"));
        QVERIFY(a.local.target);
        QCOMPARE(a.local.target->uri, QStringLiteral("sip:201@127.0.0.1:5070"));
        QCOMPARE(a.remote.identity, QStringLiteral("sip:202@switchboard.local"));
        QVERIFY(!a.remote.target);
        QVERIFY(a.id.startsWith(u'd'));
        DialogInfo b = f.callee();
        QCOMPARE(b.state, DialogState::Trying);
        QCOMPARE(b.direction, Direction::Recipient);
        QVERIFY(b.localTag.isEmpty());
        QCOMPARE(b.remoteTag, QStringLiteral("from201"));
        QCOMPARE(b.local.identity, QStringLiteral("sip:202@switchboard.local"));
        QCOMPARE(b.remote.identity, QStringLiteral("sip:201@switchboard.local"));
        QCOMPARE(b.remote.display, QStringLiteral("Alice"));
        QCOMPARE(b.remote.target->uri, QStringLiteral("sip:201@127.0.0.1:5070"));
        QVERIFY(a.id != b.id);
        QCOMPARE(a.id, f.tracker.dialogIdOf(1, Direction::Initiator));
        QCOMPARE(b.id, f.tracker.dialogIdOf(1, Direction::Recipient));
        const QString callerId = a.id, calleeId = b.id;

        f.tracker.onBranchStarted(1, 10, "sip:202@127.0.0.1:5080");
        // RFC 4235 §3.7.1: 1xx without To tag → proceeding.
        f.tracker.onBranchResponse(1, 10, response(inv, 100));
        QCOMPARE(f.caller().state, DialogState::Proceeding);
        QCOMPARE(f.callee().state, DialogState::Proceeding);

        // 1xx with To tag → early, with the tags on both sides.
        f.tracker.onBranchResponse(1, 10, response(inv, 180, "to202", "<sip:202@127.0.0.1:5080>"));
        a = f.caller();
        b = f.callee();
        QCOMPARE(a.state, DialogState::Early);
        QCOMPARE(b.state, DialogState::Early);
        QCOMPARE(a.remoteTag, QStringLiteral("to202"));
        QCOMPARE(b.localTag, QStringLiteral("to202"));
        QCOMPARE(b.remoteTag, QStringLiteral("from201"));
        QCOMPARE(a.remote.target->uri, QStringLiteral("sip:202@127.0.0.1:5080"));
        QCOMPARE(b.local.target->uri, QStringLiteral("sip:202@127.0.0.1:5080"));

        const base::TimePoint answerAt = f.clock.now() + 3s;
        f.clock.advance(3s);
        const sip::Message ok = response(inv, 200, "to202", "<sip:202@127.0.0.1:5080>");
        f.tracker.onBranchResponse(1, 10, ok);
        f.tracker.onCallAnswered(1, ok);
        QCOMPARE(f.caller().state, DialogState::Confirmed);
        QCOMPARE(f.callee().state, DialogState::Confirmed);
        QCOMPARE(f.callee().localTag, QStringLiteral("to202"));
        auto view = f.tracker.call(1);
        QVERIFY(view);
        QCOMPARE(view->state, DialogState::Confirmed);
        QVERIFY(view->answered);
        QCOMPARE(*view->answered, answerAt);
        QVERIFY(!view->acknowledged);

        f.tracker.onInDialogRequest(inDialog("ACK", true, "to202", kCallId, kFromTag, 1), kSource);
        QVERIFY(f.tracker.call(1)->acknowledged);

        // The callee hangs up: the caller's side saw the remote party's BYE.
        f.clock.advance(60s);
        f.tracker.onInDialogRequest(inDialog("BYE", false, "to202"), kSource);
        a = f.caller();
        b = f.callee();
        QCOMPARE(a.state, DialogState::Terminated);
        QCOMPARE(a.stateEvent, QStringLiteral("remote-bye"));
        QCOMPARE(b.state, DialogState::Terminated);
        QCOMPARE(b.stateEvent, QStringLiteral("local-bye"));
        QCOMPARE(a.stateCode, 0);
        QCOMPARE(a.id, callerId);
        QCOMPARE(b.id, calleeId);
        // The 200 to the BYE changes nothing.
        f.tracker.onInDialogResponse(response(inDialog("BYE", false, "to202"), 200));
        QCOMPARE(f.callee().stateEvent, QStringLiteral("local-bye"));
        QVERIFY(f.tracker.call(1)->ended);

        // Visible for the linger, then gone from the store and the tracker.
        f.clock.advance(4s);
        QCOMPARE(f.store.dialogCount(), 2u);
        QCOMPARE(f.tracker.callCount(), 1u);
        f.clock.advance(1s);
        QCOMPARE(f.store.dialogCount(), 0u);
        QVERIFY(!f.store.hasDialogs(QStringLiteral("201")));
        QVERIFY(!f.store.hasDialogs(QStringLiteral("202")));
        QCOMPARE(f.tracker.callCount(), 0u);
        QVERIFY(!f.tracker.knowsDialog(inDialog("BYE", true, "to202")));
        QCOMPARE(f.clock.pendingTimers(), 0u);
    }

    void byeFromCallerIsLocalByeForTheCaller() {
        Fixture f;
        answeredCall(f);
        f.tracker.onInDialogRequest(inDialog("BYE", true, "to202"), kSource);
        QCOMPARE(f.caller().stateEvent, QStringLiteral("local-bye"));
        QCOMPARE(f.callee().stateEvent, QStringLiteral("remote-bye"));
        QCOMPARE(f.tracker.call(1)->stateEvent, QStringLiteral("local-bye"));
    }

    void calleeSideWaitsForTheFirstAnswer() {
        // The default (pua_dialoginfo's callee_trying off): the callee's side appears
        // with its phone's first provisional response, not when the INVITE goes out.
        Fixture f{server::DialogTrackerOptions{}};
        const sip::Message inv = invite();
        f.start(1, inv);
        f.tracker.onBranchStarted(1, 10, "sip:202@127.0.0.1:5080");
        QCOMPARE(f.caller().state, DialogState::Trying);
        QVERIFY(f.store.dialogs(QStringLiteral("202")).empty());
        f.tracker.onBranchResponse(1, 10, response(inv, 180, "to202"));
        QCOMPARE(f.callee().state, DialogState::Early);
        f.tracker.onBranchResponse(1, 10, response(inv, 486, "to202"));
        f.tracker.onCallFailed(1, 486, false);
        QCOMPARE(f.callee().state, DialogState::Terminated);

        // A call that ends before the callee's phone answered anything is never shown
        // on the callee's side.
        InviteText text;
        text.callId = "second-call";
        const sip::Message second = invite(text);
        f.start(2, second);
        f.tracker.onBranchStarted(2, 20, "sip:202@127.0.0.1:5080");
        f.tracker.onCallFailed(2, 408, false);
        QCOMPARE(f.store.dialogs(QStringLiteral("201")).size(), 2u);
        QCOMPARE(f.store.dialogs(QStringLiteral("202")).size(), 1u);
    }

    void cancelled() {
        Fixture f;
        const sip::Message inv = invite();
        f.start(1, inv);
        f.tracker.onBranchStarted(1, 10, "sip:202@127.0.0.1:5080");
        f.tracker.onBranchResponse(1, 10, response(inv, 180, "to202"));
        f.tracker.onBranchResponse(1, 10, response(inv, 487, "to202"));
        f.tracker.onCallFailed(1, 487, true);
        for (const DialogInfo& d : {f.caller(), f.callee()}) {
            QCOMPARE(d.state, DialogState::Terminated);
            QCOMPARE(d.stateEvent, QStringLiteral("cancelled"));
            QCOMPARE(d.stateCode, 0);
        }
        // The early dialog the cancel ended keeps its tags.
        QCOMPARE(f.caller().remoteTag, QStringLiteral("to202"));
        QCOMPARE(f.callee().localTag, QStringLiteral("to202"));
        const auto view = f.tracker.call(1);
        QCOMPARE(view->branchViews.size(), 1u);
        QCOMPARE(view->branchViews[0].finalStatus, 487);
        QCOMPARE(view->branchViews[0].endEvent, QStringLiteral("cancelled"));
        QVERIFY(!view->answered);
        f.clock.advance(5s);
        QCOMPARE(f.store.dialogCount(), 0u);
    }

    void rejectedWithCode() {
        Fixture f;
        const sip::Message inv = invite();
        f.start(1, inv);
        f.tracker.onBranchStarted(1, 10, "sip:202@127.0.0.1:5080");
        f.tracker.onBranchResponse(1, 10, response(inv, 486, "to202"));
        f.tracker.onCallFailed(1, 486, false);
        for (const DialogInfo& d : {f.caller(), f.callee()}) {
            QCOMPARE(d.state, DialogState::Terminated);
            QCOMPARE(d.stateEvent, QStringLiteral("rejected"));
            QCOMPARE(d.stateCode, 486);
        }
    }

    void noAnswerIsTimeoutTransportFailureIsError() {
        Fixture f;
        const sip::Message inv = invite();
        f.start(1, inv);
        f.tracker.onBranchStarted(1, 10, "sip:202@127.0.0.1:5080");
        f.tracker.onBranchResponse(1, 10, response(inv, 180, "to202"));
        // Timer C: the proxy ends the branch as 408.
        f.tracker.onBranchEnded(1, 10, 408);
        QCOMPARE(f.caller().state, DialogState::Early);  // no step back before the final answer
        f.tracker.onCallFailed(1, 408, false);
        QCOMPARE(f.caller().stateEvent, QStringLiteral("timeout"));
        QCOMPARE(f.callee().stateEvent, QStringLiteral("timeout"));
        QCOMPARE(f.callee().stateCode, 0);

        const sip::Message inv2 = invite({.callId = "call-2@127.0.0.1"});
        f.start(2, inv2);
        f.tracker.onBranchStarted(2, 20, "sip:202@127.0.0.1:5080");
        f.tracker.onBranchEnded(2, 20, 503);
        f.tracker.onCallFailed(2, 503, false);
        const auto dialogs = f.store.dialogs(QStringLiteral("202"));
        QCOMPARE(dialogs.size(), 2u);
        QCOMPARE(dialogs[1].callId, QStringLiteral("call-2@127.0.0.1"));
        QCOMPARE(dialogs[1].stateEvent, QStringLiteral("error"));
        QCOMPARE(f.tracker.call(2)->branchViews[0].endEvent, QStringLiteral("error"));
    }

    void forkingShowsTheMostAdvancedBranchThenTheAnsweringOne() {
        Fixture f;
        const sip::Message inv = invite();
        f.start(1, inv);
        f.tracker.onBranchStarted(1, 10, "sip:202@127.0.0.1:5080");
        f.tracker.onBranchStarted(1, 11, "sip:202@127.0.0.1:5090");
        QCOMPARE(f.tracker.call(1)->branches, 2);
        f.tracker.onBranchResponse(1, 10, response(inv, 100));
        QCOMPARE(f.callee().state, DialogState::Proceeding);

        // Early on branch 11 beats proceeding on branch 10.
        f.tracker.onBranchResponse(1, 11, response(inv, 183, "fork-b", "<sip:202@127.0.0.1:5090>"));
        QCOMPARE(f.callee().state, DialogState::Early);
        QCOMPARE(f.callee().localTag, QStringLiteral("fork-b"));
        // Both early: the one shown stays shown (no flapping).
        f.tracker.onBranchResponse(1, 10, response(inv, 180, "fork-a", "<sip:202@127.0.0.1:5080>"));
        QCOMPARE(f.callee().state, DialogState::Early);
        QCOMPARE(f.callee().localTag, QStringLiteral("fork-b"));
        QCOMPARE(f.caller().remoteTag, QStringLiteral("fork-b"));
        // Both early dialogs are known to the proxy.
        QVERIFY(f.tracker.knowsDialog(inDialog("PRACK", true, "fork-a")));
        QVERIFY(f.tracker.knowsDialog(inDialog("PRACK", true, "fork-b")));

        // Branch 10 answers: its dialog is the call's, the other branch is cancelled.
        const sip::Message ok = response(inv, 200, "fork-a", "<sip:202@127.0.0.1:5080>");
        f.tracker.onBranchResponse(1, 10, ok);
        f.tracker.onCallAnswered(1, ok);
        f.tracker.onBranchEnded(1, 11, 487);
        DialogInfo b = f.callee();
        QCOMPARE(b.state, DialogState::Confirmed);
        QCOMPARE(b.localTag, QStringLiteral("fork-a"));
        QCOMPARE(b.local.target->uri, QStringLiteral("sip:202@127.0.0.1:5080"));
        QCOMPARE(f.caller().state, DialogState::Confirmed);
        QCOMPARE(f.caller().remoteTag, QStringLiteral("fork-a"));
        const auto view = f.tracker.call(1);
        QCOMPARE(view->toTag, QByteArray("fork-a"));
        QCOMPARE(view->branchViews.size(), 2u);
        QCOMPARE(view->branchViews[0].state, DialogState::Confirmed);
        QCOMPARE(view->branchViews[1].state, DialogState::Terminated);
        QCOMPARE(view->branchViews[1].endEvent, QStringLiteral("cancelled"));
        QCOMPARE(view->branchViews[1].toTags, QByteArrayList{"fork-b"});
        // A late 487 from the cancelled branch changes nothing.
        f.tracker.onBranchResponse(1, 11, response(inv, 487, "fork-b"));
        QCOMPARE(f.callee().state, DialogState::Confirmed);
    }

    void branchFailureFallsBackToTheNextMostAdvanced() {
        Fixture f;
        const sip::Message inv = invite();
        f.start(1, inv);
        f.tracker.onBranchStarted(1, 10, "sip:202@127.0.0.1:5080");
        f.tracker.onBranchStarted(1, 11, "sip:202@127.0.0.1:5090");
        f.tracker.onBranchResponse(1, 10, response(inv, 180, "fork-a"));
        f.tracker.onBranchResponse(1, 11, response(inv, 100));
        QCOMPARE(f.callee().state, DialogState::Early);
        // The ringing phone is busy (one of two devices): the other still proceeds.
        f.tracker.onBranchResponse(1, 10, response(inv, 486, "fork-a"));
        QCOMPARE(f.callee().state, DialogState::Proceeding);
        QVERIFY(f.callee().localTag.isEmpty());
        // RFC 6228: 199 ends one early dialog of a branch.
        f.tracker.onBranchResponse(1, 11, response(inv, 180, "fork-c"));
        QCOMPARE(f.callee().localTag, QStringLiteral("fork-c"));
        f.tracker.onBranchResponse(1, 11, response(inv, 199, "fork-c"));
        QCOMPARE(f.callee().state, DialogState::Proceeding);
    }

    void requestsOnEarlyDialogNeverConfirmIt() {
        Fixture f;
        const sip::Message inv = invite();
        f.start(1, inv);
        f.tracker.onBranchStarted(1, 10, "sip:202@127.0.0.1:5080");
        f.tracker.onBranchResponse(1, 10, response(inv, 183, "to202"));
        const int before = f.changes;
        for (const QByteArray method : {"INFO", "PRACK", "UPDATE"}) {
            const sip::Message request = inDialog(method, true, "to202");
            QVERIFY(f.tracker.knowsDialog(request));
            f.tracker.onInDialogRequest(request, kSource);
            f.tracker.onInDialogResponse(response(request, 200));
        }
        f.tracker.onInDialogRequest(inDialog("INFO", false, "to202"), kSource);
        QCOMPARE(f.caller().state, DialogState::Early);
        QCOMPARE(f.callee().state, DialogState::Early);
        QCOMPARE(f.changes, before);
        QVERIFY(!f.tracker.call(1)->answered);
    }

    void lifetimeEndsAForgottenCall() {
        server::DialogTrackerOptions options;
        options.lifetime = 1h;
        Fixture f(options);
        answeredCall(f);
        // An in-dialog request restarts the safety net (Kamailio resets the dialog timer).
        f.clock.advance(50min);
        f.tracker.onInDialogRequest(inDialog("INVITE", true, "to202", kCallId, kFromTag, 3),
                                    kSource);
        f.clock.advance(50min);
        QCOMPARE(f.caller().state, DialogState::Confirmed);
        f.clock.advance(10min);
        QCOMPARE(f.caller().state, DialogState::Terminated);
        QCOMPARE(f.caller().stateEvent, QStringLiteral("timeout"));
        QCOMPARE(f.callee().stateEvent, QStringLiteral("timeout"));
        f.clock.advance(5s);
        QCOMPARE(f.tracker.callCount(), 0u);
        QCOMPARE(f.store.dialogCount(), 0u);
    }

    void lifetimeAlsoBoundsAnUnansweredCall() {
        server::DialogTrackerOptions options = withCalleeTrying();
        options.lifetime = 1h;
        Fixture f(options);
        const sip::Message inv = invite();
        f.start(1, inv);
        f.clock.advance(1h);
        QCOMPARE(f.callee().stateEvent, QStringLiteral("timeout"));
        f.clock.advance(5s);
        QCOMPARE(f.tracker.callCount(), 0u);
    }

    void noAckEndsTheDialog() {
        Fixture f;
        const sip::Message inv = invite();
        f.start(1, inv);
        f.tracker.onBranchStarted(1, 10, "sip:202@127.0.0.1:5080");
        const sip::Message ok = response(inv, 200, "to202", "<sip:202@127.0.0.1:5080>");
        f.tracker.onBranchResponse(1, 10, ok);
        f.tracker.onCallAnswered(1, ok);
        f.clock.advance(31s);
        QCOMPARE(f.callee().state, DialogState::Confirmed);
        f.clock.advance(1s);
        QCOMPARE(f.callee().state, DialogState::Terminated);
        QCOMPARE(f.callee().stateEvent, QStringLiteral("timeout"));
        QVERIFY(!f.tracker.call(1)->acknowledged);
    }

    void ackedDialogOutlivesTheAckTimeout() {
        Fixture f;
        answeredCall(f);
        f.clock.advance(10min);
        QCOMPARE(f.callee().state, DialogState::Confirmed);
    }

    // A restart: the answered call comes back under restoredCallId() with what both
    // sides showed (dialog ids, tags, targets, identities), its BYE is known and ends it;
    // calls not answered yet are not saved, and the safety net counts on from the last
    // sign of life before the restart.
    void answeredCallsSurviveARestart() {
        server::DialogTrackerOptions options = withCalleeTrying();
        options.lifetime = 1h;
        Fixture before(options);
        int saves = 0;
        before.tracker.setSavedStateListener([&saves] { ++saves; });
        answeredCall(before, 7);
        QCOMPARE(saves, 2);  // answered, acknowledged
        InviteText ringing;
        ringing.callId = "call-2@127.0.0.1";
        before.start(8, invite(ringing));
        QCOMPARE(saves, 2);  // a call not answered is not saved
        const auto answeredOf = [&before](const QString& user) {
            for (const DialogInfo& dialog : before.store.dialogs(user))
                if (dialog.callId == QString::fromUtf8(kCallId)) return dialog;
            return DialogInfo{};
        };
        const DialogInfo callerBefore = answeredOf(QStringLiteral("201"));
        const DialogInfo calleeBefore = answeredOf(QStringLiteral("202"));
        QCOMPARE(callerBefore.state, DialogState::Confirmed);
        before.clock.advance(10min);
        const qint64 wall = 1'800'000'000'000;
        const QByteArray saved = before.tracker.saveState(wall);

        Fixture after(options);
        std::vector<DialogTracker::CallSide> reports;
        after.tracker.setSideListener(
            [&reports](const DialogTracker::CallSide& side) { reports.push_back(side); });
        QCOMPARE(after.tracker.restoreState(saved, wall + 60'000), 1);
        const CallId id = DialogTracker::restoredCallId(7);
        QVERIFY(id != 7);
        QCOMPARE(DialogTracker::restoredCallId(id), id);  // a second restart keeps it
        QVERIFY(after.tracker.call(id));
        QCOMPARE(after.tracker.callCount(), 1u);
        QCOMPARE(after.changes, 1);
        QCOMPARE(reports.size(), std::size_t(2));
        QCOMPARE(reports[0].call, id);
        QCOMPARE(reports[0].user, QStringLiteral("201"));
        QVERIFY(!reports[0].invite);
        QCOMPARE(reports[1].user, QStringLiteral("202"));
        QCOMPARE(after.caller(), callerBefore);
        QCOMPARE(after.callee(), calleeBefore);
        QCOMPARE(after.callee().local.target->uri, QStringLiteral("sip:202@127.0.0.1:5080"));
        QCOMPARE(after.caller().local.target->uri, QStringLiteral("sip:201@127.0.0.1:5070"));
        QCOMPARE(after.caller().local.display, QStringLiteral("Alice"));
        const auto view = *after.tracker.call(id);
        QCOMPARE(view.state, DialogState::Confirmed);
        QVERIFY(view.acknowledged);
        QCOMPARE(view.branchViews.front().contactUri, QByteArray("sip:202@127.0.0.1:5080"));
        // Started 10 min + 1 min before "now", as the wall clock says.
        QCOMPARE(after.clock.now() - view.started, base::Duration(11min));

        // Its in-dialog requests are known (no 481), and the BYE ends it.
        QVERIFY(after.tracker.knowsDialog(inDialog("BYE", false, "to202")));
        QVERIFY(!after.tracker.knowsDialog(inDialog("BYE", false, "to203")));
        after.tracker.onInDialogRequest(inDialog("BYE", false, "to202", kCallId, kFromTag, 5),
                                        kSource);
        QCOMPARE(after.caller().state, DialogState::Terminated);
        QCOMPARE(after.caller().stateEvent, QStringLiteral("remote-bye"));
        QCOMPARE(after.callee().stateEvent, QStringLiteral("local-bye"));
        QCOMPARE(after.caller().id, callerBefore.id);

        // The safety net: 1 h from the ACK, of which 11 min had passed.
        Fixture timed(options);
        QCOMPARE(timed.tracker.restoreState(saved, wall + 60'000), 1);
        timed.clock.advance(48min);
        QCOMPARE(timed.caller().state, DialogState::Confirmed);
        timed.clock.advance(1min);
        QCOMPARE(timed.caller().state, DialogState::Terminated);
        QCOMPARE(timed.caller().stateEvent, QStringLiteral("timeout"));

        // Ran out while the server was down, or a damaged file: nothing comes back.
        Fixture late(options);
        QCOMPARE(late.tracker.restoreState(saved, wall + 3'600'000), 0);
        QCOMPARE(late.tracker.restoreState("{\"calls\": [{\"id\": \"x\"}]}", wall), 0);
        QCOMPARE(late.tracker.restoreState("not json", wall), 0);
        QCOMPARE(late.tracker.callCount(), 0u);
        QCOMPARE(late.store.dialogCount(), 0u);
    }

    // What is saved follows the calls: an answer, the ACK, an in-dialog request and the
    // end of an answered call each ask for a save; an ended call is not written.
    void savedStateFollowsTheCalls() {
        Fixture f;
        int saves = 0;
        f.tracker.setSavedStateListener([&saves] { ++saves; });
        answeredCall(f);
        QCOMPARE(saves, 2);
        f.tracker.onInDialogRequest(inDialog("INFO", true, "to202", kCallId, kFromTag, 3), kSource);
        QCOMPARE(saves, 3);
        const qint64 wall = 1'800'000'000'000;
        QVERIFY(f.tracker.saveState(wall).contains(kCallId));
        f.tracker.onInDialogRequest(inDialog("BYE", true, "to202", kCallId, kFromTag, 4), kSource);
        QCOMPARE(saves, 4);
        QVERIFY(!f.tracker.saveState(wall).contains(kCallId));
    }

    void knowsDialog() {
        Fixture f;
        answeredCall(f);
        QVERIFY(f.tracker.knowsDialog(inDialog("BYE", true, "to202")));
        QVERIFY(f.tracker.knowsDialog(inDialog("BYE", false, "to202")));  // tags swapped
        QVERIFY(!f.tracker.knowsDialog(inDialog("BYE", true, "forged")));
        QVERIFY(!f.tracker.knowsDialog(inDialog("BYE", false, "to202", kCallId, "forged")));
        QVERIFY(!f.tracker.knowsDialog(inDialog("BYE", true, "to202", "other@127.0.0.1")));
        // A forged request is not acted upon either.
        f.tracker.onInDialogRequest(inDialog("BYE", true, "forged"), kSource);
        QCOMPARE(f.callee().state, DialogState::Confirmed);
        // While the ended call lingers its dialog is still known (crossing BYEs pass).
        f.tracker.onInDialogRequest(inDialog("BYE", true, "to202"), kSource);
        QVERIFY(f.tracker.knowsDialog(inDialog("BYE", false, "to202", kCallId, kFromTag, 5)));
        f.clock.advance(5s);
        QVERIFY(!f.tracker.knowsDialog(inDialog("BYE", false, "to202")));
    }

    void secondAnswerIsKnownButDoesNotReplaceTheFirst() {
        Fixture f;
        const sip::Message inv = invite();
        f.start(1, inv);
        f.tracker.onBranchStarted(1, 10, "sip:202@127.0.0.1:5080");
        f.tracker.onBranchStarted(1, 11, "sip:202@127.0.0.1:5090");
        const sip::Message okA = response(inv, 200, "fork-a", "<sip:202@127.0.0.1:5080>");
        f.tracker.onBranchResponse(1, 10, okA);
        f.tracker.onCallAnswered(1, okA);
        // RFC 3261 §16.7: the second 2xx is forwarded too; the caller ACKs and BYEs it.
        f.tracker.onBranchResponse(1, 11, response(inv, 200, "fork-b", "<sip:202@127.0.0.1:5090>"));
        QCOMPARE(f.callee().localTag, QStringLiteral("fork-a"));
        const sip::Message byeB = inDialog("BYE", true, "fork-b");
        QVERIFY(f.tracker.knowsDialog(byeB));
        f.tracker.onInDialogRequest(byeB, kSource);
        QCOMPARE(f.callee().state, DialogState::Confirmed);
        QCOMPARE(f.tracker.call(1)->branchViews[1].state, DialogState::Terminated);
        QCOMPARE(f.tracker.call(1)->branchViews[1].endEvent, QStringLiteral("local-bye"));
    }

    void answerAfterCancelDoesNotResurrect() {
        Fixture f;
        const sip::Message inv = invite();
        f.start(1, inv);
        f.tracker.onBranchStarted(1, 10, "sip:202@127.0.0.1:5080");
        f.tracker.onCallFailed(1, 487, true);
        f.tracker.onBranchResponse(1, 10, response(inv, 200, "to202"));
        f.tracker.onCallAnswered(1, response(inv, 200, "to202"));
        QCOMPARE(f.callee().state, DialogState::Terminated);
        QCOMPARE(f.callee().stateEvent, QStringLiteral("cancelled"));
        // The caller's ACK and BYE for that 2xx still pass the proxy.
        QVERIFY(f.tracker.knowsDialog(inDialog("BYE", true, "to202")));
    }

    void notFoundInDialogEndsTheDialog() {
        Fixture f;
        answeredCall(f);
        const sip::Message reinvite = inDialog("INVITE", true, "to202", kCallId, kFromTag, 3);
        f.tracker.onInDialogRequest(reinvite, kSource);
        f.tracker.onInDialogResponse(response(reinvite, 491));
        QCOMPARE(f.callee().state, DialogState::Confirmed);
        // RFC 3261 §12.2.1.2: a 481 says the far side has no such dialog.
        f.tracker.onInDialogResponse(response(reinvite, 481));
        QCOMPARE(f.callee().state, DialogState::Terminated);
        QCOMPARE(f.callee().stateEvent, QStringLiteral("error"));
    }

    void identityKeptExactly() {
        Fixture f;
        InviteText text;
        text.from = "\"Smith & \\\"Sons\\\" <Ltd>\" <sip:201@switchboard.local;x=a&b>";
        text.to = "\"O'Brien & Co\" <sip:202@switchboard.local>";
        text.callId = "a\"b<c>'d@127.0.0.1";
        text.fromTag = "t&'x";
        const sip::Message inv = invite(text);
        f.start(1, inv);
        const DialogInfo a = f.caller();
        QCOMPARE(a.local.display, QStringLiteral("Smith & \"Sons\" <Ltd>"));
        QCOMPARE(a.local.identity, QStringLiteral("sip:201@switchboard.local;x=a&b"));
        QCOMPARE(a.remote.display, QStringLiteral("O'Brien & Co"));
        QCOMPARE(a.callId, QStringLiteral("a\"b<c>'d@127.0.0.1"));
        QCOMPARE(a.localTag, QStringLiteral("t&'x"));
        const DialogInfo b = f.callee();
        QCOMPARE(b.remote.display, QStringLiteral("Smith & \"Sons\" <Ltd>"));
        QCOMPARE(b.local.display, QStringLiteral("O'Brien & Co"));
        // Ids stay NCName-safe whatever the call-id holds.
        for (const QString& id : {a.id, b.id}) {
            QVERIFY(id.at(0).isLetter());
            for (QChar c : id)
                QVERIFY(c.isLetterOrNumber());
        }
        const auto view = f.tracker.call(1);
        QCOMPARE(view->callerDisplay, QStringLiteral("Smith & \"Sons\" <Ltd>"));
        QCOMPARE(view->calleeIdentity, QStringLiteral("sip:202@switchboard.local"));
    }

    void nonLocalCallerOnlyTheCalleeIsTracked() {
        Fixture f;
        const sip::Message inv = invite({.from = "<sip:carrier@127.0.0.9>"});
        f.start(1, inv, QString());
        QCOMPARE(f.store.users(), QStringList{QStringLiteral("202")});
        const DialogInfo b = f.callee();
        QCOMPARE(b.remote.identity, QStringLiteral("sip:carrier@127.0.0.9"));
        QCOMPARE(f.tracker.callCount(), 1u);
        QVERIFY(f.tracker.call(1)->callerUser.isEmpty());

        // Neither side local (forwarded upstream): tracked for the panel and the proxy.
        const sip::Message inv2 = invite({.callId = "call-2@127.0.0.1"});
        f.start(2, inv2, QString(), QString());
        QCOMPARE(f.tracker.callCount(), 2u);
        QCOMPARE(f.store.dialogCount(), 1u);
    }

    void callToOneselfFillsOneSlotWithBothSides() {
        Fixture f;
        const sip::Message inv = invite();
        f.start(1, inv, QStringLiteral("201"), QStringLiteral("201"));
        const auto dialogs = f.store.dialogs(QStringLiteral("201"));
        QCOMPARE(dialogs.size(), 2u);
        QCOMPARE(dialogs[0].direction, Direction::Initiator);
        QCOMPARE(dialogs[1].direction, Direction::Recipient);
        f.tracker.onCallFailed(1, 480, false);
        f.clock.advance(5s);
        QCOMPARE(f.store.dialogCount(), 0u);
    }

    void boundedCallCount() {
        server::DialogTrackerOptions options = withCalleeTrying();
        options.maxCalls = 2;
        options.lifetime = 1h;
        Fixture f(options);
        const sip::Message inv1 = invite({.callId = "c1@127.0.0.1"});
        const sip::Message inv2 = invite({.callId = "c2@127.0.0.1"});
        const sip::Message inv3 = invite({.callId = "c3@127.0.0.1"});
        f.start(1, inv1);
        f.start(2, inv2);
        QVERIFY(!f.tracker.knowsDialog(inDialog("BYE", true, "x", "c3@127.0.0.1")));
        QTest::ignoreMessage(QtWarningMsg,
                             "dialog tracker full: 2 calls tracked, 1 not tracked so far");
        f.start(3, inv3);
        QCOMPARE(f.tracker.callCount(), 2u);
        QCOMPARE(f.tracker.untrackedCalls(), 1u);
        QVERIFY(!f.tracker.call(3));
        QCOMPARE(f.store.dialogs(QStringLiteral("202")).size(), 2u);
        // Callbacks for the untracked call are ignored.
        f.tracker.onBranchStarted(3, 30, "sip:202@127.0.0.1:5080");
        f.tracker.onBranchResponse(3, 30, response(inv3, 180, "t3"));
        QCOMPARE(f.tracker.callCount(), 2u);
        // The tracker cannot tell about untracked calls: fail open (the UA answers 481).
        QVERIFY(f.tracker.knowsDialog(inDialog("BYE", true, "t3", "c3@127.0.0.1")));

        // Once calls end and linger out, new calls are tracked again.
        f.tracker.onCallFailed(1, 486, false);
        f.clock.advance(5s);
        QCOMPARE(f.tracker.callCount(), 1u);
        const sip::Message inv4 = invite({.callId = "c4@127.0.0.1"});
        f.start(4, inv4);
        QCOMPARE(f.tracker.callCount(), 2u);
        QCOMPARE(f.tracker.untrackedCalls(), 1u);
        // After a lifetime without refusals, unknown dialogs are unknown again.
        f.clock.advance(1h);
        QVERIFY(!f.tracker.knowsDialog(inDialog("BYE", true, "t3", "c3@127.0.0.1")));
    }

    void boundedBranchesAndTags() {
        server::DialogTrackerOptions options;
        options.maxBranchesPerCall = 2;
        options.maxDialogsPerBranch = 3;
        Fixture f(options);
        const sip::Message inv = invite();
        f.start(1, inv);
        for (BranchId id = 1; id <= 5; ++id)
            f.tracker.onBranchStarted(1, id, "sip:x@127.0.0.1");
        QCOMPARE(f.tracker.call(1)->branches, 2);
        for (int i = 0; i < 10; ++i)
            f.tracker.onBranchResponse(1, 1, response(inv, 180, "tag" + QByteArray::number(i)));
        QCOMPARE(f.tracker.call(1)->branchViews[0].toTags.size(), 3);
        QVERIFY(!f.tracker.knowsDialog(inDialog("PRACK", true, "tag5")));
        QVERIFY(f.tracker.knowsDialog(inDialog("PRACK", true, "tag2")));
    }

    void changeListenerOncePerChange() {
        Fixture f;
        const sip::Message inv = invite();
        f.start(1, inv);
        QCOMPARE(f.changes, 1);
        f.tracker.onBranchStarted(1, 10, "sip:202@127.0.0.1:5080");
        QCOMPARE(f.changes, 2);
        f.tracker.onBranchResponse(1, 10, response(inv, 180, "to202"));
        QCOMPARE(f.changes, 3);
        f.tracker.onCallFailed(1, 487, true);
        QCOMPARE(f.changes, 4);
        f.clock.advance(5s);  // removed
        QCOMPARE(f.changes, 5);
        QVERIFY(f.tracker.calls().empty());
    }

    void callsInStartOrder() {
        Fixture f;
        const sip::Message inv1 = invite({.callId = "c1@127.0.0.1"});
        const sip::Message inv2 = invite({.callId = "c2@127.0.0.1", .fromTag = "other"});
        f.start(900, inv1);
        f.clock.advance(1s);
        f.start(5, inv2, QStringLiteral("203"), QStringLiteral("202"));
        const auto calls = f.tracker.calls();
        QCOMPARE(calls.size(), 2u);
        QCOMPARE(calls[0].id, CallId(900));
        QCOMPARE(calls[1].id, CallId(5));
        QCOMPARE(calls[1].callerUser, QStringLiteral("203"));
        QCOMPARE(calls[1].callId, QByteArray("c2@127.0.0.1"));
        QCOMPARE(calls[1].started, calls[0].started + 1s);
        QCOMPARE(calls[0].callerIdentity, QStringLiteral("sip:201@switchboard.local"));
        QCOMPARE(f.store.dialogs(QStringLiteral("202")).size(), 2u);
        // Distinct calls, distinct dialog ids.
        QVERIFY(f.tracker.dialogIdOf(900, Direction::Recipient) !=
                f.tracker.dialogIdOf(5, Direction::Recipient));
    }
};

QTEST_GUILESS_MAIN(TestDialogTracker)
#include "tst_dialog_tracker.moc"
