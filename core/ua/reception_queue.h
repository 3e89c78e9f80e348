#pragma once

#include <QByteArray>
#include <QByteArrayList>
#include <QString>
#include <QStringList>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "base/random.h"
#include "base/result.h"
#include "base/timer_queue.h"
#include "sip/forward_record.h"
#include "sip/message.h"
#include "transaction/transaction_layer.h"

namespace sb::ua {

// The queue's settings, and what a forward adds ([diversion], sip::ForwardOptions, as
// the built-in server's attendant has them).
struct ReceptionOptions : sip::ForwardOptions {
    // Extension targets of a forward become sip:<ext>@<domain>, and diverting URIs in
    // this domain are shown by their user part ("from 203").
    QString domain;
    // Our registered contact: the Contact of the 180 (§12.1.1, a dialog-creating
    // response carries one). Empty: none.
    QByteArray contactUri;
    // The reception identity (the AoR registered): the diverting URI of a forward when
    // none is given. Empty: the Request-URI as received.
    QByteArray ownUri;
    // RFC 3261 §13.3.1.1: a UAS that holds an INVITE sends a provisional every minute.
    base::Duration ringAgainEvery = std::chrono::seconds(60);
    // Calls ringing at once; more are answered 486 (bad input never wins).
    std::size_t maxCalls = 1000;
};

// Client mode's queue (issue 7, DESIGN.md "Operator actions"): the console is a UA
// registered under the reception identity, and every INVITE that reaches it rings here
// (180 with a To tag of ours, one early dialog per call, again every minute) until the
// operator forwards it (302 with Contact and the Diversion / History-Info entries, which
// the PBX or the caller follows), rejects it, or the caller gives up (CANCEL → 487).
//
// The owner is the transaction layer's ServerTransactionUser and passes on what belongs
// here: new INVITEs (onInvite) and CANCELs of them (onCancel). The layer itself sends
// 100 Trying, answers the CANCEL 200 and absorbs the ACK of our 3xx-6xx (§17.2.1), so
// no ACK needs to come here. Listener calls are made after the queue is updated, from
// inside onInvite/onCancel/forward/reject/timers; the listener may call back in.
class ReceptionQueue final {
public:
    using CallId = quint64;

    // A call in the queue: what the operator sees.
    struct Call {
        CallId call = 0;  // stable for the call's life, never reused
        QString callerDisplay;
        QString callerUri;  // From
        QString calledUri;  // the Request-URI it arrived with
        QString toUri;      // To (what the caller dialled, before any retargeting)
        QByteArray sipCallId;
        base::TimePoint since{};
        // How it came here: its Diversion (else History-Info) entries as text, latest
        // first ("from 203, no-answer"); see sip::arrivalHistory.
        QStringList history;
    };

    enum class EventKind { Changed, Left };
    struct Event {
        EventKind kind = EventKind::Changed;
        Call call;
        // Left: the final status sent (302 forwarded, 487 caller gone, the rejection),
        // 0 when the transaction was lost underneath (transport failure).
        int status = 0;
        QByteArray cancelReason;  // Left by CANCEL: its Reason header (RFC 3326), if any
    };

    // diversionUri empty: options.ownUri, else the Request-URI of the INVITE as received.
    struct ForwardRequest : sip::ForwardChoices {
        CallId call = 0;
        QString to;  // an extension (sip:<to>@<domain>) or a SIP URI
    };

    ReceptionQueue(transaction::TransactionLayer& transactions, base::TimerQueue& timers,
                   base::Random& random, ReceptionOptions options);
    // Calls still ringing are answered 480: the console going away must not leave
    // callers ringing until their proxy gives up. No listener call.
    ~ReceptionQueue();
    ReceptionQueue(const ReceptionQueue&) = delete;
    ReceptionQueue& operator=(const ReceptionQueue&) = delete;

    const ReceptionOptions& options() const { return m_options; }
    // The reason tokens offered: RFC 5806's eleven, then the administrator's.
    QByteArrayList reasons() const { return m_options.reasons(); }

    // A new INVITE from the layer (ServerTransactionUser::onRequest). Answers it 180 and
    // queues it. False when it is not a new call (a To tag: an in-dialog request); the
    // owner answers it then. A request merged with a ringing one (§8.2.2.2) gets 482, a
    // full queue 486: both true, answered here.
    bool onInvite(transaction::TransactionId id, const sip::Message& invite);
    // ServerTransactionUser::onCancel: the caller gave up. Answers the INVITE 487 and the
    // call leaves. False when `inviteId` is none of ours.
    bool onCancel(transaction::TransactionId inviteId, const sip::Message& cancel);

    // Each returns what it did, in words for the operator ("Forwarded to 203
    // (user-busy)"), or why not; a refused action leaves the call ringing.
    Result<QString> forward(const ForwardRequest& request);
    Result<QString> reject(CallId call, int status);

    std::vector<Call> queue() const;  // longest waiting first
    std::optional<Call> call(CallId call) const;
    bool holds(transaction::TransactionId id) const { return m_byTransaction.contains(id); }

    void setListener(std::function<void(const Event&)> listener) {
        m_listener = std::move(listener);
    }

private:
    struct Ringing {
        Call view;
        transaction::TransactionId transaction = transaction::kNoTransaction;
        sip::Message invite;  // as received: the Diversion / History-Info it carried
        QByteArray toTag;     // ours, in every response (one early dialog)
        base::TimerId ringTimer = base::kNoTimer;
    };

    Result<Ringing*> ringing(CallId call);
    Result<QByteArray> targetUri(const QString& to) const;
    QString display(QByteArrayView uri) const;
    // The 180 again, and the timer for the next one.
    void ring(Ringing& call);
    void scheduleRing(Ringing& call);
    // A final response for `call`; on success (or a lost transaction) the call leaves.
    Result<void> finish(CallId call, sip::Message response, QByteArray cancelReason = {});
    void leave(CallId call, int status, QByteArray cancelReason);
    void notify(const Event& event) const;

    transaction::TransactionLayer& m_transactions;
    base::TimerQueue& m_timers;
    base::Random& m_random;
    ReceptionOptions m_options;
    std::map<CallId, Ringing> m_calls;  // ordered by id: arrival order
    std::map<transaction::TransactionId, CallId> m_byTransaction;
    CallId m_nextCall = 1;
    std::function<void(const Event&)> m_listener;
};

}  // namespace sb::ua
