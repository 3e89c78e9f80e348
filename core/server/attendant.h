#pragma once

#include <QByteArray>
#include <QString>

#include <chrono>
#include <functional>
#include <optional>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "base/timer_queue.h"
#include "server/call_holder.h"
#include "server/dialog_tracker.h"
#include "server/local_domains.h"
#include "server/location_service.h"
#include "server/proxy.h"
#include "sip/forward_record.h"

namespace sb::server {

// [attendant], and what a forward adds ([diversion], sip::ForwardOptions).
struct AttendantOptions : sip::ForwardOptions {
    QString number;         // the reception identity's user ("200", "reception"); empty: no queue
    QString phoneUser;      // the extension whose phone the operator speaks on; empty: none
    bool ringPhone = true;  // calls to the reception number ring that phone too
    base::Duration recallAfter = std::chrono::seconds(30);

    // What tells the operator's phone to answer a call she asked for by itself.
    enum class AutoAnswer { None, CallInfo, AlertInfo };
    AutoAnswer autoAnswer = AutoAnswer::CallInfo;
};

// The operator's actions in the built-in server (issue 7, DESIGN.md "Operator actions"):
// the queue of calls to the reception number, forward with reason, pickup, recall.
//
// Calls to the reception number are held by the proxy (CallHolder): they ring the
// operator's phone (ring_phone) or nobody, and wait in the queue. A forward retargets a
// ringing call (queued or ringing at any extension): the ringing branches are CANCELled
// with a Reason, the INVITE forks to the target with a Diversion (and History-Info)
// entry. If the target is busy, fails or does not answer within recall_after, the call
// comes back to the queue with what happened, and rings the operator's phone. A pickup
// moves a call ringing at an extension to the operator's phone (CANCEL with "Call
// completed elsewhere"); if her phone fails or does not answer, the call rings the
// extension again. The caller's transaction is never broken.
class Attendant final : public CallHolder {
public:
    // A call in the queue (or being forwarded or picked up): what the operator sees.
    struct Call {
        enum class State {
            Waiting,     // in the queue, ringing the operator's phone or nobody
            Forwarding,  // ringing the forward target
            PickingUp,   // ringing the operator's phone, taken from an extension
            ToPhone,     // ringing the operator's phone, sent from the queue
        };
        CallId call = 0;      // stable (Proxy::stableCallOf)
        bool queued = false;  // listed in the queue (else an action on an extension's call)
        State state = State::Waiting;
        QString callerDisplay;
        QString callerUri;
        QString calledUri;  // the Request-URI it arrived with
        base::TimePoint since{};
        // How it came here: the Diversion entries it carries now, topmost first, as text
        // ("from 203, no-answer").
        QStringList history;
        QString target;   // what it rings now (a forward's target, the phone)
        QString outcome;  // what the last action came to ("203 busy"), empty when none
    };

    enum class EventKind { Changed, Left };
    struct Event {
        EventKind kind = EventKind::Changed;
        Call call;
        int status = 0;  // Left: the final status upstream (2xx answered, 487 caller gone, ...)
    };

    // diversionUri empty: the Request-URI of the diverted leg as received.
    struct ForwardRequest : sip::ForwardChoices {
        CallId call = 0;  // a queued call or any ringing call (a tracker leg id is fine)
        QString to;       // an extension of ours, or a SIP URI
    };

    Attendant(Proxy& proxy, const DialogTracker& tracker, const LocalDomains& domains,
              const UserDirectory& users, base::TimerQueue& timers, AttendantOptions options);
    ~Attendant() override;
    Attendant(const Attendant&) = delete;
    Attendant& operator=(const Attendant&) = delete;

    const AttendantOptions& options() const { return m_options; }
    // The reason tokens offered: RFC 5806's eleven, then the administrator's.
    QByteArrayList reasons() const { return m_options.reasons(); }

    // Each returns what it did, in words for the operator ("Forwarding to 203 (user-busy)"),
    // or why not; a refused action leaves the call ringing where it was.
    Result<QString> forward(const ForwardRequest& request);
    Result<QString> pickup(CallId call);
    Result<QString> sendToPhone(CallId call);
    Result<QString> reject(CallId call, int status);

    // The call ringing at `user` that a pickup or forward of that extension means: the
    // one ringing longest. An error says why there is none.
    Result<CallId> ringingCallOf(const QString& user) const;
    // The call whose dialog (either side) has this id in the dialog state (lamp events).
    Result<CallId> callOfDialog(const QString& dialogId) const;

    std::vector<Call> queue() const;  // queued calls, longest waiting first
    std::optional<Call> call(CallId call) const;

    void setListener(std::function<void(const Event&)> listener) {
        m_listener = std::move(listener);
    }

    // CallHolder
    Admission admit(CallId call, const sip::Message& invite, const QString& calleeUser) override;
    void onLegEnded(CallId call, int status) override;
    void onCallFinished(CallId call, int status) override;

private:
    struct Held {
        Call view;
        std::optional<sip::Message> returnLeg;  // a pickup's leg back to the extension
        QString returnUser;                     // that extension
        base::TimerId recallTimer = base::kNoTimer;
    };

    Held* find(CallId stable);
    Held& hold(CallId stable, const sip::Message& leg);
    Result<CallId> stableOf(CallId call) const;
    Result<QByteArray> targetUri(const QString& to, QString* user) const;
    // Back to the queue after a forward ended with `status` (0: recall_after ran out).
    void recall(CallId stable, int status);
    // A pickup that did not work out: the extension rings again.
    void returnToExtension(CallId stable, int status);
    void startRecallTimer(Held& held);
    void stopRecallTimer(Held& held);
    sip::Message autoAnswered(sip::Message leg) const;
    void refreshHistory(Held& held, const sip::Message& leg);
    void emitChanged(const Held& held);

    Proxy& m_proxy;
    const DialogTracker& m_tracker;
    const LocalDomains& m_domains;
    const UserDirectory& m_users;
    base::TimerQueue& m_timers;
    AttendantOptions m_options;
    std::unordered_map<CallId, Held> m_held;
    std::function<void(const Event&)> m_listener;
};

// "no answer", "busy", ... : what a forward's final status means to an operator.
QString outcomeOfStatus(int status);

}  // namespace sb::server
