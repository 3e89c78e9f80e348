#include "server/dialog_tracker.h"

#include <QCryptographicHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>

#include "base/log.h"
#include "server/dialog_state_store.h"
#include "server/local_domains.h"

namespace sb::server {

using dialoginfo::DialogInfo;
using dialoginfo::Direction;
using dialoginfo::Participant;
using dialoginfo::Target;
using State = DialogTracker::State;

namespace {

// RFC 4235 §4.1.2 <state event="...">.
const QString kCancelled = QStringLiteral("cancelled");
const QString kRejected = QStringLiteral("rejected");
const QString kLocalBye = QStringLiteral("local-bye");
const QString kRemoteBye = QStringLiteral("remote-bye");
const QString kTimeout = QStringLiteral("timeout");
const QString kError = QStringLiteral("error");

bool isLive(State state) {
    return state == State::Trying || state == State::Proceeding || state == State::Early;
}

// How far a live branch has come: the callee's dialog while forking shows the most
// advanced one (early > proceeding > trying).
int rank(State state) {
    switch (state) {
        case State::Trying:
            return 1;
        case State::Proceeding:
            return 2;
        case State::Early:
            return 3;
        case State::Confirmed:
        case State::Terminated:
            break;
    }
    return 0;
}

Participant participantOf(const Result<sip::NameAddr>& nameAddr) {
    Participant participant;
    if (!nameAddr) return participant;
    participant.identity = QString::fromUtf8(nameAddr->uriText);
    participant.display = nameAddr->displayName();
    return participant;
}

QByteArray tagOf(const Result<sip::NameAddr>& nameAddr) {
    return nameAddr ? nameAddr->tag().toByteArray() : QByteArray();
}

// The first Contact of a message (RFC 3261 §12.1.1 / §12.1.2: the remote target).
// The remote target: the Contact when the message has exactly one (RFC 3261 §12.1: a
// dialog has one remote target); with several it is not known which one, as
// pua_dialoginfo decides too.
std::optional<Target> contactTarget(const sip::Message& message) {
    const auto contacts = message.contacts();
    if (!contacts || contacts->star || contacts->entries.size() != 1) return std::nullopt;
    Target target;
    target.uri = QString::fromUtf8(contacts->entries.front().uriText);
    if (target.uri.isEmpty()) return std::nullopt;
    return target;
}

// A final response of a branch itself: 487 answers a CANCEL, the rest reject the call.
QString eventOfResponse(int status) {
    return status == 487 ? kCancelled : kRejected;
}

// A branch the proxy ended without a final response of its own (ProxyObserver): 487
// cancelled by the proxy, 408 Timer B/C, 503 (and any other 5xx) a transport failure.
QString eventOfProxyEnd(int status) {
    if (status == 487) return kCancelled;
    if (status == 408) return kTimeout;
    if (status >= 500 && status < 600) return kError;
    return kRejected;
}

}  // namespace

DialogTracker::DialogTracker(DialogStateStore& store, const LocalDomains& domains,
                             base::TimerQueue& timers, base::Random& random,
                             DialogTrackerOptions options)
    : m_store(store),
      m_domains(domains),
      m_timers(timers),
      m_options(options),
      m_idSalt(random.token(16)) {}

DialogTracker::~DialogTracker() {
    // The store keeps what was published last: it belongs to whoever owns the store,
    // and listeners may already be gone during shutdown.
    for (auto& [id, call] : m_calls) {
        m_timers.cancel(call.lifetimeTimer);
        m_timers.cancel(call.ackTimer);
        m_timers.cancel(call.lingerTimer);
    }
}

// ---- ProxyObserver -------------------------------------------------------------------

void DialogTracker::onCallStarted(const CallStart& start) {
    if (!start.invite || find(start.call)) return;
    if (m_calls.size() >= m_options.maxCalls) {
        ++m_untracked;
        m_lastUntracked = m_timers.now();
        if (m_untracked == 1 || m_untracked % 1000 == 0)
            qCWarning(lcServer) << "dialog tracker full:" << m_options.maxCalls << "calls tracked,"
                                << m_untracked << "not tracked so far";
        return;
    }
    const sip::Message& invite = *start.invite;
    const auto from = invite.from();
    const auto to = invite.to();

    Call call;
    call.id = start.call;
    call.sequence = m_nextSequence++;
    call.callerUser = start.callerUser;
    call.calleeUser = start.calleeUser;
    call.caller = participantOf(from);
    call.callee = participantOf(to);
    // A From/To the proxy accepted always parses; the AoR keeps the document useful if not.
    if (call.caller.identity.isEmpty() && !call.callerUser.isEmpty())
        call.caller.identity = m_domains.aorUri(call.callerUser);
    if (call.callee.identity.isEmpty() && !call.calleeUser.isEmpty())
        call.callee.identity = m_domains.aorUri(call.calleeUser);
    call.caller.target = contactTarget(invite);
    call.callId = invite.callId().toByteArray();
    call.fromTag = tagOf(from);
    call.started = start.at == base::TimePoint{} ? m_timers.now() : start.at;

    // Stable for the call's life and unique per call and side: the call's SIP identity
    // (Call-ID, From tag, CSeq of the INVITE: a re-sent INVITE after a 407 is another
    // call) and the side, salted per process. A letter first: an XML NCName.
    const auto cseq = invite.cseq();
    const QByteArray key = m_idSalt + '\0' + call.callId + '\0' + call.fromTag + '\0' +
                           QByteArray::number(cseq ? cseq->number : 0) + '\0' +
                           QByteArray::number(call.id);
    const auto idFor = [&key](char side) {
        const QByteArray digest =
            QCryptographicHash::hash(key + '\0' + side, QCryptographicHash::Sha1).toHex();
        return QStringLiteral("d") + QString::fromLatin1(digest.left(20));
    };
    call.dialogIdCaller = idFor('i');
    call.dialogIdCallee = idFor('r');

    const CallId id = call.id;
    auto [it, inserted] = m_calls.emplace(id, std::move(call));
    m_byCallId.insert(it->second.callId, id);
    if (!it->second.calleeUser.isEmpty()) m_byCallee.insert(it->second.calleeUser, id);
    restartLifetime(it->second);
    publish(it->second, &invite);
    changed();
}

void DialogTracker::onBranchStarted(CallId id, BranchId branchId, const QByteArray& contactUri) {
    Call* call = find(id);
    if (!call || call->shown.state == State::Terminated) return;
    Branch* branch = branchOf(*call, branchId, true);
    if (!branch) return;
    branch->contactUri = contactUri;
    refreshShown(*call);
    publish(*call);
    changed();
}

void DialogTracker::onBranchResponse(CallId id, BranchId branchId, const sip::Message& response) {
    Call* call = find(id);
    if (!call) return;
    const int status = response.statusCode();
    const bool callOver = call->shown.state == State::Terminated;
    // After the end only a 2xx still matters: it creates a dialog the caller will ACK
    // and BYE (RFC 3261 §16.7: every 2xx is forwarded), so knowsDialog() must know it.
    if (status < 100 || (callOver && status >= 300) || (callOver && status < 200)) return;
    Branch* branch = branchOf(*call, branchId, true);
    if (!branch) return;
    const QByteArray toTag = tagOf(response.to());
    const std::optional<Target> target = contactTarget(response);

    if (status < 200) {
        if (!isLive(branch->state)) return;  // a late provisional after the final one
        if (toTag.isEmpty()) {
            // RFC 4235 §3.7.1: a 1xx without To tag → proceeding.
            if (branch->state == State::Trying) branch->state = State::Proceeding;
        } else if (status == 199) {
            // RFC 6228: 199 Early Dialog Terminated ends the early dialog of its To tag.
            if (BranchDialog* dialog = dialogOf(*branch, toTag)) {
                dialog->state = State::Terminated;
                const bool anyEarly =
                    std::any_of(branch->dialogs.begin(), branch->dialogs.end(),
                                [](const BranchDialog& d) { return d.state == State::Early; });
                if (!anyEarly) branch->state = State::Proceeding;
            }
        } else {
            // RFC 4235 §3.7.1 / RFC 3261 §12.1: a 1xx with To tag creates an early dialog;
            // a forking proxy further down may send several, one per To tag.
            BranchDialog* dialog = dialogOf(*branch, toTag);
            if (!dialog) dialog = addDialog(*branch, toTag);
            if (dialog && dialog->state == State::Early) {
                if (target) dialog->target = target;
                branch->state = State::Early;
            }
        }
    } else if (status < 300) {
        BranchDialog* dialog = dialogOf(*branch, toTag);
        if (!dialog) dialog = addDialog(*branch, toTag);
        if (dialog) {
            dialog->state = callOver ? State::Terminated : State::Confirmed;
            if (target) dialog->target = target;
        }
        if (callOver) {
            // Known (for the ACK and BYE that follow), but the ended call stays ended.
            changed();
            return;
        }
        if (branch->state != State::Confirmed) {
            branch->state = State::Confirmed;
            branch->finalStatus = status;
            // RFC 3261 §13.2.2.4: the early dialogs of the transaction that no 2xx
            // confirmed end with it.
            for (BranchDialog& other : branch->dialogs)
                if (other.state == State::Early) other.state = State::Terminated;
        }
        confirm(*call, branch, toTag, dialog ? dialog->target : target);
    } else {
        if (!isLive(branch->state)) return;
        endBranch(*branch, status, eventOfResponse(status));
    }
    refreshShown(*call);
    publish(*call);
    changed();
}

void DialogTracker::onBranchEnded(CallId id, BranchId branchId, int status) {
    Call* call = find(id);
    if (!call) return;
    Branch* branch = branchOf(*call, branchId, false);
    if (!branch || !isLive(branch->state)) return;
    endBranch(*branch, status, eventOfProxyEnd(status));
    refreshShown(*call);
    publish(*call);
    changed();
}

void DialogTracker::onCallAnswered(CallId id, const sip::Message& response) {
    Call* call = find(id);
    if (!call || call->answeredDialog || call->shown.state == State::Terminated) return;
    const QByteArray toTag = tagOf(response.to());
    std::optional<Target> target = contactTarget(response);
    Branch* answering = nullptr;
    for (Branch& branch : call->branches) {
        if (BranchDialog* dialog = dialogOf(branch, toTag)) {
            // The proxy did not report this 2xx on the branch: the branch is answered.
            answering = &branch;
            branch.state = State::Confirmed;
            if (branch.finalStatus == 0) branch.finalStatus = response.statusCode();
            dialog->state = State::Confirmed;
            if (target)
                dialog->target = target;
            else
                target = dialog->target;
            break;
        }
    }
    confirm(*call, answering, toTag, target);
    publish(*call);
    changed();
}

void DialogTracker::onCallFailed(CallId id, int status, bool cancelled) {
    Call* call = find(id);
    if (!call || call->answeredDialog || call->shown.state == State::Terminated) return;
    QString event;
    int code = 0;
    if (cancelled) {
        event = kCancelled;
    } else {
        // The best response came from a branch: its end says why (a 486 is a rejection,
        // a 408 the proxy made up when nobody answered is a timeout).
        const auto from =
            std::find_if(call->branches.begin(), call->branches.end(), [status](const Branch& b) {
                return b.state == State::Terminated && b.finalStatus == status;
            });
        event = from != call->branches.end() ? from->endEvent : eventOfProxyEnd(status);
    }
    // RFC 4235 §4.1.2: the code attribute goes with the "rejected" event.
    if (event == kRejected) code = status;
    terminate(*call, event, code);
    publish(*call);
    changed();
}

void DialogTracker::onInDialogRequest(const sip::Message& request, const transport::Endpoint&) {
    const Match found = match(request);
    if (!found.found) return;
    Call& call = m_calls.at(found.call);
    if (call.shown.state == State::Terminated) return;
    Branch* branch = found.branch >= 0 ? &call.branches[std::size_t(found.branch)] : nullptr;
    BranchDialog* dialog =
        branch && found.dialog >= 0 ? &branch->dialogs[std::size_t(found.dialog)] : nullptr;

    switch (request.method()) {
        case sip::Method::Bye:
            if (found.answered) {
                // Kamailio's dialog module ends the dialog when it sees the BYE, not its
                // 200: the parties have hung up either way (RFC 3261 §15.1.2).
                call.byeFromCaller = found.fromCaller;
                terminate(call, found.fromCaller ? kLocalBye : kRemoteBye, 0);
            } else if (dialog && dialog->state != State::Terminated) {
                // RFC 3261 §15: the caller may BYE one early dialog (or a second
                // confirmed one); the call goes on in its other dialogs.
                dialog->state = State::Terminated;
                const bool anyConfirmed =
                    std::any_of(branch->dialogs.begin(), branch->dialogs.end(),
                                [](const BranchDialog& d) { return d.state == State::Confirmed; });
                const bool anyEarly =
                    std::any_of(branch->dialogs.begin(), branch->dialogs.end(),
                                [](const BranchDialog& d) { return d.state == State::Early; });
                if (branch->state == State::Confirmed && !anyConfirmed) {
                    branch->state = State::Terminated;
                    branch->endEvent = found.fromCaller ? kLocalBye : kRemoteBye;
                } else if (branch->state == State::Early && !anyEarly) {
                    branch->state = State::Proceeding;
                }
                refreshShown(call);
            } else {
                return;
            }
            break;
        case sip::Method::Ack:
            // The ACK of the 2xx (RFC 3261 §13.2.2.4) completes the answered dialog.
            if (dialog) dialog->acknowledged = true;
            if (!found.answered) return;
            if (!call.acknowledged) {
                call.acknowledged = true;
                m_timers.cancel(call.ackTimer);
                call.ackTimer = base::kNoTimer;
            }
            restartLifetime(call);
            savedStateChanged();
            break;
        default:
            // re-INVITE, UPDATE, INFO, PRACK, ... change no state (they never confirm an
            // early dialog); on the confirmed dialog they show it is alive.
            if (!found.answered) return;
            restartLifetime(call);
            reportSides(call, nullptr, true);
            savedStateChanged();
            return;
    }
    publish(call);
    changed();
}

void DialogTracker::onInDialogResponse(const sip::Message& response) {
    // The 200 or 481 to a BYE changes nothing: the BYE ended the dialog already. Only a
    // 481 to another request on the confirmed dialog says the far side has no such
    // dialog (RFC 3261 §12.2.1.2, RFC 5057 §5.1: dialog-terminating), and a UA that
    // gets it may end the dialog without a BYE.
    if (response.statusCode() != 481) return;
    const auto cseq = response.cseq();
    if (!cseq || cseq->method == sip::Method::Bye || cseq->method == sip::Method::Ack ||
        cseq->method == sip::Method::Cancel)
        return;
    const Match found = match(response);
    if (!found.found || !found.answered) return;
    Call& call = m_calls.at(found.call);
    if (call.shown.state == State::Terminated) return;
    terminate(call, kError, 0);
    publish(call);
    changed();
}

// ---- Queries ---------------------------------------------------------------------------

bool DialogTracker::knowsDialog(const sip::Message& request) const {
    if (m_lastUntracked && m_timers.now() - *m_lastUntracked < m_options.lifetime) return true;
    return match(request).found;
}

std::vector<DialogTracker::CallView> DialogTracker::calls() const {
    std::vector<const Call*> ordered;
    ordered.reserve(m_calls.size());
    for (const auto& [id, call] : m_calls)
        ordered.push_back(&call);
    std::sort(ordered.begin(), ordered.end(),
              [](const Call* a, const Call* b) { return a->sequence < b->sequence; });
    std::vector<CallView> views;
    views.reserve(ordered.size());
    for (const Call* call : ordered)
        views.push_back(viewOf(*call));
    return views;
}

std::vector<DialogTracker::CallView> DialogTracker::callsTo(const QString& user) const {
    std::vector<const Call*> ordered;
    const auto [first, last] = m_byCallee.equal_range(user);
    for (auto it = first; it != last; ++it)
        if (const Call* call = find(*it)) ordered.push_back(call);
    std::sort(ordered.begin(), ordered.end(),
              [](const Call* a, const Call* b) { return a->sequence < b->sequence; });
    std::vector<CallView> views;
    views.reserve(ordered.size());
    for (const Call* call : ordered)
        views.push_back(viewOf(*call));
    return views;
}

std::optional<DialogTracker::CallView> DialogTracker::call(CallId id) const {
    const Call* found = find(id);
    if (!found) return std::nullopt;
    return viewOf(*found);
}

QString DialogTracker::dialogIdOf(CallId id, Direction side) const {
    const Call* found = find(id);
    if (!found) return {};
    return side == Direction::Recipient ? found->dialogIdCallee : found->dialogIdCaller;
}

// ---- Internals -------------------------------------------------------------------------

DialogTracker::Call* DialogTracker::find(CallId id) {
    const auto it = m_calls.find(id);
    return it == m_calls.end() ? nullptr : &it->second;
}

const DialogTracker::Call* DialogTracker::find(CallId id) const {
    const auto it = m_calls.find(id);
    return it == m_calls.end() ? nullptr : &it->second;
}

DialogTracker::Match DialogTracker::match(const sip::Message& message) const {
    Match result;
    const QByteArrayView callIdView = message.callId();
    if (callIdView.isEmpty()) return result;
    // A key over the message's bytes: no copy for the lookup every in-dialog request makes.
    const QByteArray callId = QByteArray::fromRawData(callIdView.data(), callIdView.size());
    const auto [first, last] = m_byCallId.equal_range(callId);
    if (first == last) return result;
    const QByteArray fromTag = tagOf(message.from());
    const QByteArray toTag = tagOf(message.to());
    for (auto it = first; it != last; ++it) {
        const CallId id = it.value();
        const Call* call = find(id);
        if (!call) continue;
        // RFC 3261 §12: the caller's requests carry its tag in From, the callee's in To.
        QByteArray otherTag;
        bool fromCaller = false;
        if (!fromTag.isEmpty() && fromTag == call->fromTag) {
            otherTag = toTag;
            fromCaller = true;
        } else if (!toTag.isEmpty() && toTag == call->fromTag) {
            otherTag = fromTag;
        } else {
            continue;
        }
        if (otherTag.isEmpty()) continue;
        result.call = id;
        result.fromCaller = fromCaller;
        result.answered = call->answeredDialog && call->shown.toTag == otherTag;
        for (std::size_t b = 0; b < call->branches.size(); ++b) {
            const auto& dialogs = call->branches[b].dialogs;
            for (std::size_t d = 0; d < dialogs.size(); ++d) {
                if (dialogs[d].toTag != otherTag) continue;
                result.branch = int(b);
                result.dialog = int(d);
                result.found = true;
                return result;
            }
        }
        if (result.answered) {
            result.found = true;
            return result;
        }
    }
    return Match{};
}

DialogTracker::Branch* DialogTracker::branchOf(Call& call, BranchId id, bool create) {
    for (Branch& branch : call.branches)
        if (branch.id == id) return &branch;
    if (!create || call.branches.size() >= m_options.maxBranchesPerCall) return nullptr;
    Branch branch;
    branch.id = id;
    call.branches.push_back(std::move(branch));
    return &call.branches.back();
}

DialogTracker::BranchDialog* DialogTracker::dialogOf(Branch& branch, QByteArrayView toTag) {
    for (BranchDialog& dialog : branch.dialogs)
        if (dialog.toTag == toTag) return &dialog;
    return nullptr;
}

DialogTracker::BranchDialog* DialogTracker::addDialog(Branch& branch, QByteArrayView toTag) {
    if (branch.dialogs.size() >= m_options.maxDialogsPerBranch) return nullptr;
    BranchDialog dialog;
    dialog.toTag = toTag.toByteArray();
    branch.dialogs.push_back(std::move(dialog));
    return &branch.dialogs.back();
}

void DialogTracker::confirm(Call& call, Branch* branch, QByteArrayView toTag,
                            std::optional<Target> target) {
    if (call.answeredDialog || call.shown.state == State::Terminated) return;
    call.answeredDialog = true;
    call.shown = Shown{State::Confirmed, toTag.toByteArray(), std::move(target)};
    call.shownBranch = branch ? branch->id : 0;
    call.answered = m_timers.now();
    if (m_options.ackTimeout > base::Duration::zero()) {
        const CallId id = call.id;
        call.ackTimer = m_timers.start(m_options.ackTimeout, [this, id] {
            Call* timedOut = find(id);
            if (!timedOut) return;
            timedOut->ackTimer = base::kNoTimer;
            if (timedOut->acknowledged || timedOut->shown.state == State::Terminated) return;
            // RFC 3261 §13.3.1.4: no ACK within 64*T1 → the UAS ends the dialog.
            terminate(*timedOut, kTimeout, 0);
            publish(*timedOut);
            changed();
        });
    }
    restartLifetime(call);
    savedStateChanged();
}

void DialogTracker::terminate(Call& call, QString event, int code) {
    if (call.shown.state == State::Terminated) return;
    call.shown.state = State::Terminated;
    call.event = std::move(event);
    call.code = code;
    call.ended = m_timers.now();
    for (Branch& branch : call.branches) {
        if (branch.state == State::Terminated) continue;
        for (BranchDialog& dialog : branch.dialogs)
            dialog.state = State::Terminated;
        branch.state = State::Terminated;
        branch.endEvent = call.event;
    }
    m_timers.cancel(call.lifetimeTimer);
    m_timers.cancel(call.ackTimer);
    call.lifetimeTimer = base::kNoTimer;
    call.ackTimer = base::kNoTimer;
    const CallId id = call.id;
    // Like presence's clean_period: the terminated state stays visible for a moment so
    // that watchers, the publisher and the board see how the call ended.
    call.lingerTimer = m_timers.start(m_options.terminatedLinger, [this, id] {
        remove(id);
        changed();
    });
    if (call.answeredDialog) savedStateChanged();
}

void DialogTracker::endBranch(Branch& branch, int status, QString event) {
    branch.state = State::Terminated;
    branch.finalStatus = status;
    branch.endEvent = std::move(event);
    for (BranchDialog& dialog : branch.dialogs)
        if (dialog.state == State::Early) dialog.state = State::Terminated;
}

void DialogTracker::refreshShown(Call& call) {
    if (call.answeredDialog || call.shown.state == State::Terminated) return;
    const Branch* best = nullptr;
    for (const Branch& branch : call.branches) {
        if (!isLive(branch.state)) continue;
        if (!best || rank(branch.state) > rank(best->state) ||
            (rank(branch.state) == rank(best->state) && branch.id == call.shownBranch))
            best = &branch;
    }
    // No live branch (between a cancelled branch and the next one, or before the final
    // response goes upstream): keep showing what was shown, never step back.
    if (!best) return;
    Shown shown;
    shown.state = best->state;
    if (best->state == State::Early) {
        const BranchDialog* pick = nullptr;
        for (const BranchDialog& dialog : best->dialogs) {
            if (dialog.state != State::Early) continue;
            if (!pick || (best->id == call.shownBranch && dialog.toTag == call.shown.toTag))
                pick = &dialog;
        }
        if (pick) {
            shown.toTag = pick->toTag;
            shown.calleeTarget = pick->target;
        }
    }
    call.shown = std::move(shown);
    call.shownBranch = best->id;
}

void DialogTracker::restartLifetime(Call& call) {
    call.lifetimeFrom = m_timers.now();
    startLifetime(call, m_options.lifetime);
}

void DialogTracker::startLifetime(Call& call, base::Duration left) {
    m_timers.cancel(call.lifetimeTimer);
    const CallId id = call.id;
    call.lifetimeTimer = m_timers.start(left, [this, id] {
        Call* expired = find(id);
        if (!expired) return;
        expired->lifetimeTimer = base::kNoTimer;
        terminate(*expired, kTimeout, 0);
        publish(*expired);
        changed();
    });
}

void DialogTracker::remove(CallId id) {
    const auto it = m_calls.find(id);
    if (it == m_calls.end()) return;
    Call& call = it->second;
    m_timers.cancel(call.lifetimeTimer);
    m_timers.cancel(call.ackTimer);
    m_timers.cancel(call.lingerTimer);
    const QString sourceKey = QStringLiteral("call:%1").arg(id);
    if (!call.callerUser.isEmpty()) m_store.removeSource(call.callerUser, sourceKey);
    if (!call.calleeUser.isEmpty() && call.calleeUser != call.callerUser)
        m_store.removeSource(call.calleeUser, sourceKey);
    m_byCallId.remove(call.callId, id);
    if (!call.calleeUser.isEmpty()) m_byCallee.remove(call.calleeUser, id);
    m_calls.erase(it);
}

DialogInfo DialogTracker::sideOf(const Call& call, Direction side) const {
    const bool caller = side == Direction::Initiator;
    DialogInfo info;
    info.id = caller ? call.dialogIdCaller : call.dialogIdCallee;
    info.callId = QString::fromUtf8(call.callId);
    const QString fromTag = QString::fromUtf8(call.fromTag);
    const QString toTag = QString::fromUtf8(call.shown.toTag);
    info.localTag = caller ? fromTag : toTag;
    info.remoteTag = caller ? toTag : fromTag;
    info.direction = side;
    info.state = call.shown.state;
    if (call.shown.state == State::Terminated) {
        if (call.byeFromCaller) {
            // RFC 4235 §4.1.2: local-bye when this side sent the BYE, remote-bye when the
            // other side did.
            info.stateEvent = *call.byeFromCaller == caller ? kLocalBye : kRemoteBye;
        } else {
            info.stateEvent = call.event;
            info.stateCode = call.code;
        }
    }
    Participant callee = call.callee;
    callee.target = call.shown.calleeTarget;
    info.local = caller ? call.caller : callee;
    info.remote = caller ? callee : call.caller;
    return info;
}

void DialogTracker::publish(Call& call, const sip::Message* invite) {
    const QString sourceKey = QStringLiteral("call:%1").arg(call.id);
    // The callee's side from its first provisional response on (options.calleeTrying).
    call.calleeShown = call.calleeShown || m_options.calleeTrying ||
                       (call.shown.state != State::Trying && call.shown.state != State::Terminated);
    if (!call.callerUser.isEmpty() && call.callerUser == call.calleeUser) {
        // A user calling itself (another of its phones): both sides in its one slot.
        std::vector<DialogInfo> both{sideOf(call, Direction::Initiator)};
        if (call.calleeShown) both.push_back(sideOf(call, Direction::Recipient));
        m_store.setDialogs(call.callerUser, sourceKey, std::move(both));
    } else {
        if (!call.callerUser.isEmpty())
            m_store.setDialogs(call.callerUser, sourceKey, {sideOf(call, Direction::Initiator)});
        if (!call.calleeUser.isEmpty() && call.calleeShown)
            m_store.setDialogs(call.calleeUser, sourceKey, {sideOf(call, Direction::Recipient)});
    }
    reportSides(call, invite, false);
}

void DialogTracker::reportSides(const Call& call, const sip::Message* invite,
                                bool inDialogRequest) {
    if (!m_sideListener) return;
    m_sideListener(CallSide{call.id, call.callerUser, sideOf(call, Direction::Initiator), invite,
                            inDialogRequest});
    m_sideListener(CallSide{call.id, call.calleeUser, sideOf(call, Direction::Recipient), invite,
                            inDialogRequest});
}

DialogTracker::CallView DialogTracker::viewOf(const Call& call) const {
    CallView view;
    view.id = call.id;
    view.callerUser = call.callerUser;
    view.calleeUser = call.calleeUser;
    view.callerIdentity = call.caller.identity;
    view.calleeIdentity = call.callee.identity;
    view.callerDisplay = call.caller.display;
    view.calleeDisplay = call.callee.display;
    view.callId = call.callId;
    view.fromTag = call.fromTag;
    view.toTag = call.shown.toTag;
    view.state = call.shown.state;
    if (call.shown.state == State::Terminated) {
        // As the caller's dialog shows it.
        view.stateEvent =
            call.byeFromCaller ? (*call.byeFromCaller ? kLocalBye : kRemoteBye) : call.event;
        view.stateCode = call.code;
    }
    view.started = call.started;
    view.answered = call.answered;
    view.ended = call.ended;
    view.acknowledged = call.acknowledged;
    view.branches = int(call.branches.size());
    view.branchViews.reserve(call.branches.size());
    for (const Branch& branch : call.branches) {
        BranchView b;
        b.id = branch.id;
        b.contactUri = branch.contactUri;
        b.state = branch.state;
        for (const BranchDialog& dialog : branch.dialogs)
            b.toTags << dialog.toTag;
        b.finalStatus = branch.finalStatus;
        b.endEvent = branch.endEvent;
        view.branchViews.push_back(std::move(b));
    }
    return view;
}

void DialogTracker::changed() {
    if (m_changeListener) m_changeListener();
}

void DialogTracker::savedStateChanged() {
    if (m_savedStateChanged) m_savedStateChanged();
}

// ---- Across a restart ------------------------------------------------------------------

namespace {

QJsonObject participantJson(const Participant& participant) {
    QJsonObject out{{QStringLiteral("identity"), participant.identity}};
    if (!participant.display.isEmpty()) out.insert(QStringLiteral("display"), participant.display);
    if (participant.target) out.insert(QStringLiteral("target"), participant.target->uri);
    return out;
}

Participant participantFrom(const QJsonObject& json) {
    Participant out;
    out.identity = json.value(QStringLiteral("identity")).toString();
    out.display = json.value(QStringLiteral("display")).toString();
    const QString target = json.value(QStringLiteral("target")).toString();
    if (!target.isEmpty()) out.target = Target{target, {}};
    return out;
}

QByteArray bytesOf(const QJsonObject& json, const QString& key) {
    return json.value(key).toString().toUtf8();
}

}  // namespace

QByteArray DialogTracker::saveState(qint64 wallNow) const {
    const base::TimePoint now = m_timers.now();
    const auto wall = [&](base::TimePoint time) {
        return wallNow - std::chrono::duration_cast<std::chrono::milliseconds>(now - time).count();
    };
    std::vector<const Call*> saved;
    for (const auto& [id, call] : m_calls)
        if (call.answeredDialog && call.shown.state == State::Confirmed) saved.push_back(&call);
    std::sort(saved.begin(), saved.end(),
              [](const Call* a, const Call* b) { return a->sequence < b->sequence; });
    QJsonArray calls;
    for (const Call* call : saved) {
        QJsonObject callee = participantJson(call->callee);
        if (call->shown.calleeTarget)
            callee.insert(QStringLiteral("target"), call->shown.calleeTarget->uri);
        const auto branch =
            std::find_if(call->branches.begin(), call->branches.end(),
                         [call](const Branch& b) { return b.id == call->shownBranch; });
        QJsonObject json{
            {QStringLiteral("id"), QString::number(call->id)},
            {QStringLiteral("caller_user"), call->callerUser},
            {QStringLiteral("callee_user"), call->calleeUser},
            {QStringLiteral("caller"), participantJson(call->caller)},
            {QStringLiteral("callee"), callee},
            {QStringLiteral("call_id"), QString::fromUtf8(call->callId)},
            {QStringLiteral("from_tag"), QString::fromUtf8(call->fromTag)},
            {QStringLiteral("to_tag"), QString::fromUtf8(call->shown.toTag)},
            {QStringLiteral("dialog_ids"), QJsonArray{call->dialogIdCaller, call->dialogIdCallee}},
            {QStringLiteral("contact"),
             branch == call->branches.end() ? QString() : QString::fromUtf8(branch->contactUri)},
            {QStringLiteral("acknowledged"), call->acknowledged},
            {QStringLiteral("started"), wall(call->started)},
            {QStringLiteral("answered"), wall(call->answered.value_or(call->started))},
            {QStringLiteral("alive"), wall(call->lifetimeFrom)}};
        calls.append(json);
    }
    return QJsonDocument(QJsonObject{{QStringLiteral("calls"), calls}}).toJson();
}

std::vector<DialogTracker::AnsweredDialog> DialogTracker::restoredDialogs() const {
    std::vector<AnsweredDialog> out;
    for (const auto& [id, call] : m_calls) {
        if (restoredCallId(id) != id || !call.answeredDialog ||
            call.shown.state != State::Confirmed)
            continue;
        AnsweredDialog dialog;
        dialog.call = id;
        dialog.callId = call.callId;
        dialog.callerUri = call.caller.identity.toUtf8();
        dialog.callerTag = call.fromTag;
        if (call.caller.target) dialog.callerTarget = call.caller.target->uri.toUtf8();
        dialog.calleeUri = call.callee.identity.toUtf8();
        dialog.calleeTag = call.shown.toTag;
        if (call.shown.calleeTarget) dialog.calleeTarget = call.shown.calleeTarget->uri.toUtf8();
        out.push_back(std::move(dialog));
    }
    std::sort(out.begin(), out.end(),
              [](const AnsweredDialog& a, const AnsweredDialog& b) { return a.call < b.call; });
    return out;
}

void DialogTracker::endGoneCall(CallId id, bool noAnswer) {
    Call* call = find(id);
    if (!call || call->shown.state == State::Terminated) return;
    terminate(*call, noAnswer ? kTimeout : kError, 0);
    publish(*call);
    changed();
}

int DialogTracker::restoreState(QByteArrayView saved, qint64 wallNow) {
    QJsonParseError error{};
    const QJsonDocument json = QJsonDocument::fromJson(saved.toByteArray(), &error);
    if (error.error != QJsonParseError::NoError || !json.isObject()) return 0;
    const base::TimePoint now = m_timers.now();
    // A saved wall time as a time of this process's clock (never in its future).
    const auto local = [&](qint64 wall) {
        return now - std::chrono::milliseconds(std::max<qint64>(0, wallNow - wall));
    };
    int restored = 0;
    for (const QJsonValue& value : json.object().value(QStringLiteral("calls")).toArray()) {
        const QJsonObject o = value.toObject();
        bool numeric = false;
        const CallId savedId = o.value(QStringLiteral("id")).toString().toULongLong(&numeric);
        const QByteArray callId = bytesOf(o, QStringLiteral("call_id"));
        const QByteArray fromTag = bytesOf(o, QStringLiteral("from_tag"));
        const QByteArray toTag = bytesOf(o, QStringLiteral("to_tag"));
        const QJsonArray dialogIds = o.value(QStringLiteral("dialog_ids")).toArray();
        if (!numeric || callId.isEmpty() || fromTag.isEmpty() || toTag.isEmpty() ||
            dialogIds.size() != 2)
            continue;  // damaged
        const CallId id = restoredCallId(savedId);
        if (find(id) || m_calls.size() >= m_options.maxCalls) continue;
        // Ended by the safety net while the server was down: its end is not shown (the
        // publisher publishes the end of what it took up and nothing claimed).
        const base::TimePoint aliveAt = local(o.value(QStringLiteral("alive")).toInteger());
        const base::Duration left = m_options.lifetime - (now - aliveAt);
        if (left <= base::Duration::zero()) continue;

        Call call;
        call.id = id;
        call.sequence = m_nextSequence++;
        call.callerUser = o.value(QStringLiteral("caller_user")).toString();
        call.calleeUser = o.value(QStringLiteral("callee_user")).toString();
        call.caller = participantFrom(o.value(QStringLiteral("caller")).toObject());
        const Participant callee = participantFrom(o.value(QStringLiteral("callee")).toObject());
        call.callee = Participant{callee.identity, callee.display, std::nullopt};
        call.callId = callId;
        call.fromTag = fromTag;
        call.dialogIdCaller = dialogIds.at(0).toString();
        call.dialogIdCallee = dialogIds.at(1).toString();
        call.started = local(o.value(QStringLiteral("started")).toInteger());
        call.answered = local(o.value(QStringLiteral("answered")).toInteger());
        call.lifetimeFrom = aliveAt;
        // Its ACK may have passed while the server was down: no ACK timer again.
        call.acknowledged = o.value(QStringLiteral("acknowledged")).toBool();
        Branch branch;
        branch.id = 0;
        branch.contactUri = bytesOf(o, QStringLiteral("contact"));
        branch.state = State::Confirmed;
        branch.finalStatus = 200;
        branch.dialogs.push_back(BranchDialog{toTag, callee.target, State::Confirmed, true});
        call.branches.push_back(std::move(branch));
        call.shown = Shown{State::Confirmed, toTag, callee.target};
        call.shownBranch = 0;
        call.answeredDialog = true;
        call.calleeShown = true;

        auto [it, inserted] = m_calls.emplace(id, std::move(call));
        m_byCallId.insert(it->second.callId, id);
        if (!it->second.calleeUser.isEmpty()) m_byCallee.insert(it->second.calleeUser, id);
        startLifetime(it->second, left);
        publish(it->second);
        ++restored;
    }
    if (restored > 0) changed();
    return restored;
}

}  // namespace sb::server
