#pragma once

#include <QByteArray>
#include <QByteArrayList>
#include <QMultiHash>
#include <QString>

#include <chrono>
#include <functional>
#include <optional>
#include <unordered_map>
#include <vector>

#include "base/clock.h"
#include "base/random.h"
#include "base/timer_queue.h"
#include "dialoginfo/dialog_info.h"
#include "server/proxy_observer.h"

namespace sb::server {

class DialogStateStore;
class LocalDomains;

struct DialogTrackerOptions {
    // Safety net (Kamailio dialog's default_timeout): a dialog that sees no BYE and no
    // in-dialog request for this long is ended with event "timeout". Counted from the
    // start of the call, again from the answer and from every in-dialog request on the
    // confirmed dialog (Kamailio resets the dialog timer on in-dialog requests).
    base::Duration lifetime = std::chrono::hours(12);
    // How long a terminated call stays in the store and in calls(), so that watchers,
    // the publisher and the board see the end (presence's clean_period).
    base::Duration terminatedLinger = std::chrono::seconds(5);
    // RFC 3261 §13.3.1.4: a UAS gives up on a 2xx that no ACK confirms after 64*T1;
    // the tracker ends such a dialog then (event "timeout"). Zero disables the check.
    base::Duration ackTimeout = std::chrono::seconds(32);
    // Calls tracked at once (lingering ones included); beyond it new calls are not
    // tracked and untrackedCalls() counts them.
    std::size_t maxCalls = 100'000;
    // Per call: branches, and per branch the early dialogs (To tags) kept. More are
    // ignored, so a hostile downstream cannot grow a call without bound.
    std::size_t maxBranchesPerCall = 32;
    std::size_t maxDialogsPerBranch = 16;
    // Whether the callee's side shows "trying" as soon as the INVITE is forwarded
    // (pua_dialoginfo's callee_trying, off there too). Off, the callee's dialog appears
    // with the callee's first provisional response: before it the proxy cannot know that
    // the callee's phone has the INVITE (RFC 4235 §3.7.1), and its watchers are spared a
    // NOTIFY per call. A call that ends before then is never shown on the callee's side.
    bool calleeTrying = false;
};

// The built-in server's dialog tracker: what Kamailio's dialog module sees of every
// INVITE the proxy forwards, mapped to RFC 4235 dialog states the way pua_dialoginfo
// maps the dialog callbacks, for both parties. Each tracked call fills the slot
// "call:<CallId>" of the caller's and of the callee's user in the DialogStateStore with
// one dialog each (RFC 4235 §4.1: direction initiator / recipient):
//
//   trying      at once on the caller's side; on the callee's only with
//               options.calleeTrying (pua_dialoginfo's callee_trying)
//   proceeding  a 1xx without To tag on a branch
//   early       a 1xx with To tag (an early dialog per To tag, several while forking);
//               while forking, both sides show the most advanced live branch
//               (early > proceeding > trying)
//   confirmed   the 2xx: from then on the dialog of the answering branch and To tag
//   terminated  with the RFC 4235 §4.1.2 event: cancelled, rejected (code = status),
//               local-bye / remote-bye (per side: who sent the BYE), timeout (no answer,
//               no ACK, lifetime), error (transport failure, 481 in the dialog)
//
// Terminated calls linger (options.terminatedLinger), then their slots and all memory go.
// Every callback is cheap: lookups by CallId or by Call-ID, a few branches per call.
class DialogTracker final : public ProxyObserver {
public:
    using State = dialoginfo::DialogState;

    struct BranchView {
        BranchId id = 0;
        QByteArray contactUri;  // where the branch was sent
        State state = State::Trying;
        QByteArrayList toTags;  // the dialogs (early or confirmed) it created, in order
        int finalStatus = 0;    // its final response or how the proxy ended it; 0 while live
        QString endEvent;       // RFC 4235 event of its end, empty while live
    };

    // One call for the server panel and headless mode. Durations are the reader's to
    // compute: ringing since `started`, talking since `answered`.
    struct CallView {
        CallId id = 0;
        QString callerUser;  // empty when the caller is not local
        QString calleeUser;  // the AoR called (never the contact); empty when not local
        QString callerIdentity, calleeIdentity;  // From / To URI as written
        QString callerDisplay, calleeDisplay;
        QByteArray callId;
        QByteArray fromTag;
        QByteArray toTag;  // of the dialog shown (the answered one once confirmed)
        State state = State::Trying;
        QString stateEvent;  // when terminated, as the caller's dialog shows it
        int stateCode = 0;
        base::TimePoint started{};
        std::optional<base::TimePoint> answered;
        std::optional<base::TimePoint> ended;
        bool acknowledged = false;  // the ACK of the 2xx passed
        int branches = 0;           // branches forked so far
        std::vector<BranchView> branchViews;
    };

    DialogTracker(DialogStateStore& store, const LocalDomains& domains, base::TimerQueue& timers,
                  base::Random& random, DialogTrackerOptions options = {});
    ~DialogTracker() override;

    DialogTracker(const DialogTracker&) = delete;
    DialogTracker& operator=(const DialogTracker&) = delete;

    // ProxyObserver.
    void onCallStarted(const CallStart& start) override;
    void onBranchStarted(CallId call, BranchId branch, const QByteArray& contactUri) override;
    void onBranchResponse(CallId call, BranchId branch, const sip::Message& response) override;
    void onBranchEnded(CallId call, BranchId branch, int status) override;
    void onCallAnswered(CallId call, const sip::Message& response) override;
    void onCallFailed(CallId call, int status, bool cancelled) override;
    void onInDialogRequest(const sip::Message& request, const transport::Endpoint& source) override;
    void onInDialogResponse(const sip::Message& response) override;

    // Whether the request's Call-ID and its two tags (in either order) name a dialog of a
    // tracked call: an early or confirmed dialog, also while a terminated call lingers.
    // The proxy answers 481 to in-dialog requests that name none (forged or stale).
    // Fails open: while calls had to go untracked (maxCalls reached) within the last
    // lifetime, every request counts as known, since the tracker cannot tell.
    bool knowsDialog(const sip::Message& request) const;

    // Calls in the order they started (terminated ones while they linger).
    std::vector<CallView> calls() const;
    std::optional<CallView> call(CallId id) const;
    // The calls to `user` (the AoR called), in the order they started: what an operator's
    // action on an extension looks for, without a view of every call (with 1,000 calls
    // ringing, calls() per command was most of a pickup's time).
    std::vector<CallView> callsTo(const QString& user) const;
    std::size_t callCount() const { return m_calls.size(); }
    // Calls that were not tracked because maxCalls was reached.
    quint64 untrackedCalls() const { return m_untracked; }

    // Called once after every change of calls() (a call added, changed or removed).
    // The listener may read the tracker but must not drive it.
    void setChangeListener(std::function<void()> listener) {
        m_changeListener = std::move(listener);
    }

    // The dialog id used in the store for one side of a call: stable while the call
    // lives, unique per call and side, an XML NCName (a letter and hex digits).
    QString dialogIdOf(CallId id, dialoginfo::Direction side) const;

    // One side of a tracked call after a change, for the dialog-info publisher (issue 6):
    // both sides every time, remote parties too (user empty), and the callee's side from
    // the start whatever options.calleeTrying says (the publisher has its own switch).
    struct CallSide {
        CallId call = 0;
        QString user;                   // the local user of this side; empty for a remote party
        dialoginfo::DialogInfo dialog;  // this side's view (direction says which side)
        // The INVITE as received (before the proxy's changes), on the reports of the
        // call's start only: the publisher's rules read its Request-URI and headers.
        const sip::Message* invite = nullptr;
        // The report of an in-dialog request on the confirmed dialog (re-INVITE, UPDATE,
        // INFO, ...: not ACK or BYE) that changed nothing.
        bool inDialogRequest = false;
    };
    // Called after every change of a call, once per side. Must not drive the tracker.
    void setSideListener(std::function<void(const CallSide& side)> listener) {
        m_sideListener = std::move(listener);
    }

    // Calls across a restart. An answered call lives on between the phones while the
    // server is down, and its in-dialog requests come back through it (Record-Route):
    // without its record the BYE would get a 481 and the lamps would never go out. What
    // saveState() writes (JSON, for an atomic file write): every confirmed call with what
    // its documents show, its dialog ids, and when it started, was answered and last
    // showed it was alive; `wallNow` (UTC, ms since the epoch) dates those times.
    QByteArray saveState(qint64 wallNow) const;
    // After a restart: every saved call whose lifetime has not run out comes back as a
    // confirmed call under restoredCallId() of its saved id, with the same dialog ids,
    // and is shown (store and side listener) as it was. Returns how many came back; a
    // damaged state restores none.
    int restoreState(QByteArrayView saved, qint64 wallNow);
    // The id a saved call comes back under: never one the proxy gives a new call (it
    // counts from 1), the same however often the server restarts.
    static constexpr CallId restoredCallId(CallId saved) { return saved | (CallId(1) << 62); }
    // An answered call's dialog as an in-dialog request needs it (RFC 3261 §12.2.1.1):
    // both parties' URIs (From / To as written), tags and remote targets (Contacts).
    struct AnsweredDialog {
        CallId call = 0;
        QByteArray callId;
        QByteArray callerUri, callerTag, callerTarget;
        QByteArray calleeUri, calleeTag, calleeTarget;  // targets empty when unknown
    };
    // The answered calls restoreState() took up that are still confirmed.
    std::vector<AnsweredDialog> restoredDialogs() const;
    // Ends an answered call that a party no longer has (it ended while the server was
    // down; DialogProbe): event "timeout" when the party did not answer, else "error".
    void endGoneCall(CallId id, bool noAnswer);

    // Called after every change of what saveState() would write (debounce it): a call
    // answered, acknowledged, alive again (an in-dialog request), or ended once answered.
    void setSavedStateListener(std::function<void()> listener) {
        m_savedStateChanged = std::move(listener);
    }

private:
    // One dialog a branch created: an early dialog per To tag, confirmed by its 2xx.
    struct BranchDialog {
        QByteArray toTag;
        std::optional<dialoginfo::Target> target;  // the callee's Contact
        State state = State::Early;
        bool acknowledged = false;
    };
    struct Branch {
        BranchId id = 0;
        QByteArray contactUri;
        State state = State::Trying;
        std::vector<BranchDialog> dialogs;
        int finalStatus = 0;
        QString endEvent;
    };
    // What one call shows on both sides: its state and the dialog (To tag, callee
    // target) it is about.
    struct Shown {
        State state = State::Trying;
        QByteArray toTag;
        std::optional<dialoginfo::Target> calleeTarget;
    };
    struct Call {
        CallId id = 0;
        quint64 sequence = 0;  // start order
        QString callerUser, calleeUser;
        dialoginfo::Participant caller, callee;
        QByteArray callId, fromTag;
        QString dialogIdCaller, dialogIdCallee;
        base::TimePoint started{};
        std::optional<base::TimePoint> answered, ended;
        std::vector<Branch> branches;
        Shown shown;
        // The branch shown before the answer: a tie between equally advanced branches
        // keeps showing it instead of flapping.
        BranchId shownBranch = 0;
        bool answeredDialog = false;  // shown.toTag is the confirmed dialog's
        bool acknowledged = false;
        bool calleeShown = false;  // the callee's side has been published
        QString event;             // RFC 4235 event when terminated (not for BYEs, see below)
        int code = 0;
        std::optional<bool> byeFromCaller;  // set when a BYE ended it
        base::TimePoint lifetimeFrom{};     // when the lifetime last started counting
        base::TimerId lifetimeTimer = base::kNoTimer;
        base::TimerId ackTimer = base::kNoTimer;
        base::TimerId lingerTimer = base::kNoTimer;
    };
    // Where an in-dialog message belongs (indices, so a const lookup can serve both
    // knowsDialog() and the handlers that change what it found).
    struct Match {
        CallId call = 0;
        bool found = false;
        int branch = -1;  // -1 when only the answered dialog matched
        int dialog = -1;
        bool answered = false;    // the confirmed dialog the call shows
        bool fromCaller = false;  // the request (of a response: its request) came from the caller
    };

    Call* find(CallId id);
    const Call* find(CallId id) const;
    Match match(const sip::Message& message) const;
    Branch* branchOf(Call& call, BranchId id, bool create);
    static BranchDialog* dialogOf(Branch& branch, QByteArrayView toTag);
    BranchDialog* addDialog(Branch& branch, QByteArrayView toTag);

    void confirm(Call& call, Branch* branch, QByteArrayView toTag,
                 std::optional<dialoginfo::Target> target);
    void terminate(Call& call, QString event, int code);
    void endBranch(Branch& branch, int status, QString event);
    void refreshShown(Call& call);
    void restartLifetime(Call& call);
    void startLifetime(Call& call, base::Duration left);
    void remove(CallId id);

    dialoginfo::DialogInfo sideOf(const Call& call, dialoginfo::Direction side) const;
    // `invite`: the call's INVITE, when the call starts (for CallSide::invite).
    void publish(Call& call, const sip::Message* invite = nullptr);
    void reportSides(const Call& call, const sip::Message* invite, bool inDialogRequest);
    CallView viewOf(const Call& call) const;
    void changed();
    void savedStateChanged();

    DialogStateStore& m_store;
    const LocalDomains& m_domains;
    base::TimerQueue& m_timers;
    DialogTrackerOptions m_options;
    QByteArray m_idSalt;  // keeps dialog ids unguessable from the Call-ID alone

    std::unordered_map<CallId, Call> m_calls;
    QMultiHash<QByteArray, CallId> m_byCallId;
    QMultiHash<QString, CallId> m_byCallee;  // calls by their non-empty calleeUser
    quint64 m_nextSequence = 1;
    quint64 m_untracked = 0;
    std::optional<base::TimePoint> m_lastUntracked;
    std::function<void()> m_changeListener;
    std::function<void(const CallSide&)> m_sideListener;
    std::function<void()> m_savedStateChanged;
};

}  // namespace sb::server
