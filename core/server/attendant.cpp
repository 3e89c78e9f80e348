#include "server/attendant.h"

#include <algorithm>

#include "base/log.h"
#include "sip/call_history.h"
#include "sip/name_addr.h"
#include "sip/params.h"
#include "sip/typed_headers.h"
#include "sip/uri.h"

namespace sb::server {

namespace {

// RFC 3326 Reasons of the CANCELs an action sends to the branches still ringing.
const QByteArray kForwarded = R"(SIP;cause=181;text="Call is being forwarded")";
const QByteArray kCompletedElsewhere = R"(SIP;cause=200;text="Call completed elsewhere")";
const QByteArray kNotAnswered = R"(SIP;cause=480;text="Not answered, back to the attendant")";
const QByteArray kOperatorDidNotAnswer = R"(SIP;cause=480;text="The attendant did not answer")";

QByteArray diversionReasonOf(int status) {
    // RFC 5806 §4 reasons for what ended a forward.
    if (status == 486 || status == 600) return "user-busy";
    if (status == 0 || status == 408 || status == 480 || status == 487) return "no-answer";
    return "unavailable";
}

QString displayOf(QByteArrayView uri, const LocalDomains& domains) {
    auto parsed = sip::Uri::parse(uri);
    if (parsed) {
        const QString user = domains.userOf(*parsed);
        if (!user.isEmpty()) return user;
    }
    return QString::fromUtf8(uri);
}

}  // namespace

QString outcomeOfStatus(int status) {
    if (status == 0 || status == 408 || status == 480 || status == 487)
        return QStringLiteral("did not answer");
    if (status == 486 || status == 600) return QStringLiteral("busy");
    if (status == 603) return QStringLiteral("declined");
    if (status == 404 || status == 604) return QStringLiteral("does not exist");
    return QStringLiteral("failed (%1)").arg(status);
}

Attendant::Attendant(Proxy& proxy, const DialogTracker& tracker, const LocalDomains& domains,
                     const UserDirectory& users, base::TimerQueue& timers, AttendantOptions options)
    : m_proxy(proxy),
      m_tracker(tracker),
      m_domains(domains),
      m_users(users),
      m_timers(timers),
      m_options(std::move(options)) {
    if (m_options.recallAfter <= base::Duration::zero())
        m_options.recallAfter = AttendantOptions{}.recallAfter;
}

Attendant::~Attendant() {
    for (auto& [id, held] : m_held)
        stopRecallTimer(held);
}

// ---- CallHolder ---------------------------------------------------------------------

CallHolder::Admission Attendant::admit(CallId call, const sip::Message& invite,
                                       const QString& calleeUser) {
    if (m_options.number.isEmpty() || calleeUser != m_options.number) return {};
    Held& held = hold(call, invite);
    held.view.queued = true;
    held.view.state = Call::State::Waiting;
    const bool ring = m_options.ringPhone && !m_options.phoneUser.isEmpty();
    held.view.target = ring ? m_options.phoneUser : QString();
    emitChanged(held);
    return {true, ring ? m_options.phoneUser : QString()};
}

void Attendant::onLegEnded(CallId call, int status) {
    Held* held = find(call);
    if (!held) return;
    switch (held->view.state) {
        case Call::State::Waiting:
            // The operator's phone did not take a queued call (or none rang): it waits on.
            if (!held->view.target.isEmpty()) {
                held->view.target.clear();
                emitChanged(*held);
            }
            break;
        case Call::State::Forwarding:
            recall(call, status);
            break;
        case Call::State::PickingUp:
            returnToExtension(call, status);
            break;
        case Call::State::ToPhone:
            stopRecallTimer(*held);
            held->view.state = Call::State::Waiting;
            held->view.target.clear();
            held->view.outcome = QStringLiteral("your phone %1").arg(outcomeOfStatus(status));
            emitChanged(*held);
            break;
    }
}

void Attendant::onCallFinished(CallId call, int status) {
    auto it = m_held.find(call);
    if (it == m_held.end()) return;
    stopRecallTimer(it->second);
    Event event;
    event.kind = EventKind::Left;
    event.call = it->second.view;
    event.status = status;
    if (status < 300) {
        event.call.outcome = it->second.view.target.isEmpty()
                                 ? QStringLiteral("answered")
                                 : QStringLiteral("answered by %1").arg(it->second.view.target);
    } else if (status == 487) {
        event.call.outcome = QStringLiteral("the caller hung up");
    }
    m_held.erase(it);
    if (m_listener) m_listener(event);
}

// ---- actions ------------------------------------------------------------------------

Result<CallId> Attendant::stableOf(CallId call) const {
    if (std::optional<CallId> stable = m_proxy.stableCallOf(call)) return *stable;
    return fail(ErrorKind::Protocol, QStringLiteral("call %1 is not ringing (it has ended or never "
                                                    "existed)")
                                         .arg(call));
}

Result<QByteArray> Attendant::targetUri(const QString& to, QString* user) const {
    const QString text = to.trimmed();
    if (text.isEmpty()) return fail(ErrorKind::Protocol, QStringLiteral("no target given"));
    const bool uriLike = text.startsWith(QLatin1String("sip:")) ||
                         text.startsWith(QLatin1String("sips:")) || text.contains(QLatin1Char('@'));
    if (!uriLike) {
        // An extension of ours: it must exist (registered or not; not registered is
        // refused when routing, with its own message).
        if (!m_users.hasUser(text))
            return fail(ErrorKind::Protocol, QStringLiteral("unknown extension %1").arg(text));
        *user = text;
        return m_domains.aorUri(text).toUtf8();
    }
    QByteArray uri = text.toUtf8();
    if (!text.startsWith(QLatin1String("sip"))) uri.prepend("sip:");
    const bool unsafe = std::any_of(uri.begin(), uri.end(), [](char c) {
        return c <= ' ' || c == '<' || c == '>' || c == '"' || c == 127;
    });
    auto parsed = sip::Uri::parse(uri);
    if (unsafe || !parsed || !parsed->isSip() || !parsed->headers.isEmpty())
        return fail(ErrorKind::Protocol, QStringLiteral("\"%1\" is not a SIP URI").arg(text));
    *user = m_domains.userOf(*parsed);
    if (!user->isEmpty() && !m_users.hasUser(*user))
        return fail(ErrorKind::Protocol, QStringLiteral("unknown extension %1").arg(*user));
    return uri;
}

Result<QString> Attendant::forward(const ForwardRequest& request) {
    Result<CallId> stable = stableOf(request.call);
    if (!stable) return fail(stable.error());
    std::optional<sip::Message> leg = m_proxy.currentLeg(*stable);
    if (!leg) return fail(ErrorKind::Protocol, QStringLiteral("the call is no longer ringing"));
    QString targetUser;
    Result<QByteArray> target = targetUri(request.to, &targetUser);
    if (!target) return fail(target.error());

    const QByteArray divertedFrom =
        request.diversionUri.isEmpty() ? leg->requestUri().toByteArray() : request.diversionUri;
    sip::Message next = *leg;
    next.setRequestUri(*target);
    Result<QByteArray> reason = sip::recordForward(next, m_options, request, divertedFrom, *target);
    if (!reason) return fail(reason.error());

    const QString targetName = targetUser.isEmpty() ? QString::fromUtf8(*target) : targetUser;
    // The state is set before the retarget: a branch that fails at once ends the new leg
    // from inside retarget(), and that end must find the call forwarding.
    Held* before = find(*stable);
    const std::optional<Held> saved = before ? std::optional<Held>(*before) : std::nullopt;
    Held& held = hold(*stable, *leg);
    stopRecallTimer(held);
    held.view.state = Call::State::Forwarding;
    held.view.target = targetName;
    held.view.outcome.clear();
    held.returnLeg.reset();
    refreshHistory(held, next);

    Proxy::Retarget retarget;
    retarget.leg = std::move(next);
    retarget.cancelReason = kForwarded;
    if (Result<void> moved = m_proxy.retarget(*stable, std::move(retarget)); !moved) {
        if (saved) {
            m_held[*stable] = *saved;
        } else {
            m_held.erase(*stable);
        }
        const int status = moved.error().sipStatus;
        if (status == 480)
            return fail(ErrorKind::Protocol,
                        QStringLiteral("%1 is not registered").arg(targetName));
        if (status == 404)
            return fail(ErrorKind::Protocol,
                        QStringLiteral("unknown extension %1").arg(targetName));
        if (status == 403)
            return fail(ErrorKind::Protocol,
                        QStringLiteral("%1 cannot be reached from here (no upstream for its "
                                       "domain)")
                            .arg(targetName));
        return fail(
            ErrorKind::Protocol,
            QStringLiteral("cannot forward to %1: %2").arg(targetName, moved.error().reason));
    }
    if (Held* now = find(*stable); now && now->view.state == Call::State::Forwarding) {
        startRecallTimer(*now);
        emitChanged(*now);
    }
    return QStringLiteral("Forwarding to %1 (%2)").arg(targetName, QString::fromUtf8(*reason));
}

Result<QString> Attendant::pickup(CallId call) {
    Result<CallId> stable = stableOf(call);
    if (!stable) return fail(stable.error());
    if (Held* held = find(*stable); held && held->view.queued) return sendToPhone(*stable);
    if (m_options.phoneUser.isEmpty())
        return fail(ErrorKind::Config,
                    QStringLiteral("no operator phone is configured ([attendant] phone)"));
    std::optional<sip::Message> leg = m_proxy.currentLeg(*stable);
    if (!leg) return fail(ErrorKind::Protocol, QStringLiteral("the call is no longer ringing"));
    const QString extension = displayOf(leg->requestUri(), m_domains);
    if (extension == m_options.phoneUser)
        return fail(ErrorKind::Protocol, QStringLiteral("the call already rings your phone"));

    sip::Message next = autoAnswered(*leg);
    next.setRequestUri(m_domains.aorUri(m_options.phoneUser).toUtf8());
    Held& held = hold(*stable, *leg);
    held.view.queued = false;
    held.view.state = Call::State::PickingUp;
    held.view.target = m_options.phoneUser;
    held.view.outcome.clear();
    held.returnLeg = *leg;
    held.returnUser = extension;

    Proxy::Retarget retarget;
    retarget.leg = std::move(next);
    retarget.cancelReason = kCompletedElsewhere;
    if (Result<void> moved = m_proxy.retarget(*stable, std::move(retarget)); !moved) {
        m_held.erase(*stable);
        if (moved.error().sipStatus == 480 || moved.error().sipStatus == 404)
            return fail(
                ErrorKind::Protocol,
                QStringLiteral("your phone (%1) is not registered").arg(m_options.phoneUser));
        return fail(ErrorKind::Protocol,
                    QStringLiteral("cannot ring your phone: %1").arg(moved.error().reason));
    }
    if (Held* now = find(*stable); now && now->view.state == Call::State::PickingUp) {
        startRecallTimer(*now);
        emitChanged(*now);
    }
    return QStringLiteral("Picking up the call ringing at %1").arg(extension);
}

Result<QString> Attendant::sendToPhone(CallId call) {
    Result<CallId> stable = stableOf(call);
    if (!stable) return fail(stable.error());
    Held* held = find(*stable);
    if (!held || !held->view.queued)
        return fail(ErrorKind::Protocol, QStringLiteral("call %1 is not in the queue").arg(call));
    if (m_options.phoneUser.isEmpty())
        return fail(ErrorKind::Config,
                    QStringLiteral("no operator phone is configured ([attendant] phone)"));
    std::optional<sip::Message> leg = m_proxy.currentLeg(*stable);
    if (!leg) return fail(ErrorKind::Protocol, QStringLiteral("the call is no longer ringing"));
    sip::Message next = autoAnswered(*leg);
    next.setRequestUri(m_domains.aorUri(m_options.phoneUser).toUtf8());
    const Held saved = *held;
    stopRecallTimer(*held);
    held->view.state = Call::State::ToPhone;
    held->view.target = m_options.phoneUser;
    held->view.outcome.clear();

    Proxy::Retarget retarget;
    retarget.leg = std::move(next);
    if (Result<void> moved = m_proxy.retarget(*stable, std::move(retarget)); !moved) {
        m_held[*stable] = saved;
        return fail(ErrorKind::Protocol, QStringLiteral("your phone (%1) cannot be rung: %2")
                                             .arg(m_options.phoneUser, moved.error().reason));
    }
    if (Held* now = find(*stable); now && now->view.state == Call::State::ToPhone) {
        startRecallTimer(*now);
        emitChanged(*now);
    }
    return QStringLiteral("Sending the call to your phone (%1)").arg(m_options.phoneUser);
}

Result<QString> Attendant::reject(CallId call, int status) {
    if (status < 400 || status > 699)
        return fail(ErrorKind::Protocol,
                    QStringLiteral("%1 is not a failure status (400-699)").arg(status));
    Result<CallId> stable = stableOf(call);
    if (!stable) return fail(stable.error());
    const QByteArray reason =
        "SIP;cause=" + QByteArray::number(status) + ";text=\"Rejected by the attendant\"";
    if (Result<void> rejected = m_proxy.reject(*stable, status, reason); !rejected)
        return fail(rejected.error());
    return QStringLiteral("Rejected with %1").arg(status);
}

Result<CallId> Attendant::ringingCallOf(const QString& user) const {
    std::optional<DialogTracker::CallView> best;
    bool busy = false;
    for (const DialogTracker::CallView& view : m_tracker.callsTo(user)) {
        if (view.ended) continue;
        if (view.answered || view.state == DialogTracker::State::Confirmed) {
            busy = true;
            continue;
        }
        if (view.state == DialogTracker::State::Terminated) continue;
        if (!best || view.started < best->started) best = view;
    }
    if (best) return best->id;
    return fail(ErrorKind::Protocol, busy ? QStringLiteral("%1 is not ringing (busy)").arg(user)
                                          : QStringLiteral("%1 has no ringing call").arg(user));
}

Result<CallId> Attendant::callOfDialog(const QString& dialogId) const {
    for (const DialogTracker::CallView& view : m_tracker.calls()) {
        if (m_tracker.dialogIdOf(view.id, dialoginfo::Direction::Initiator) == dialogId ||
            m_tracker.dialogIdOf(view.id, dialoginfo::Direction::Recipient) == dialogId)
            return view.id;
    }
    return fail(ErrorKind::Protocol, QStringLiteral("no call has the dialog %1").arg(dialogId));
}

std::vector<Attendant::Call> Attendant::queue() const {
    std::vector<Call> calls;
    for (const auto& [id, held] : m_held)
        if (held.view.queued) calls.push_back(held.view);
    std::sort(calls.begin(), calls.end(), [](const Call& a, const Call& b) {
        return a.since != b.since ? a.since < b.since : a.call < b.call;
    });
    return calls;
}

std::optional<Attendant::Call> Attendant::call(CallId call) const {
    const std::optional<CallId> stable = m_proxy.stableCallOf(call);
    const auto it = m_held.find(stable.value_or(call));
    if (it == m_held.end()) return std::nullopt;
    return it->second.view;
}

// ---- how a call comes back ----------------------------------------------------------

void Attendant::recall(CallId stable, int status) {
    Held* held = find(stable);
    std::optional<sip::Message> leg = m_proxy.currentLeg(stable);
    if (!held || !leg) return;
    stopRecallTimer(*held);
    const QString failed = held->view.target;
    // The recall is a diversion too: the queue (and the operator's phone) show why the
    // call is back ("from 203, user-busy").
    sip::Message next = *leg;
    sip::DiversionEntry entry;
    entry.uri = leg->requestUri().toByteArray();
    entry.reason = diversionReasonOf(status);
    entry.suffix = m_options.suffix;
    if (Result<void> added = sip::addDiversion(next, entry); !added)
        qCDebug(lcServer) << "recall without Diversion:" << added.error().reason;
    Proxy::Retarget retarget;
    if (!m_options.number.isEmpty()) {
        next.setRequestUri(m_domains.aorUri(m_options.number).toUtf8());
        retarget.ringUser = m_options.phoneUser;
    } else if (!m_options.phoneUser.isEmpty()) {
        next.setRequestUri(m_domains.aorUri(m_options.phoneUser).toUtf8());
    }
    held->view.queued = true;
    held->view.state = Call::State::Waiting;
    held->view.target = m_options.phoneUser;
    held->view.outcome = QStringLiteral("%1 %2").arg(failed, outcomeOfStatus(status));
    refreshHistory(*held, next);
    retarget.leg = std::move(next);
    retarget.cancelReason = status == 0 ? kNotAnswered : QByteArray();
    retarget.allowNoBranch = true;
    const QString outcome = held->view.outcome;
    if (Result<void> moved = m_proxy.retarget(stable, std::move(retarget)); !moved) {
        qCWarning(lcServer) << "recall of call" << stable << "failed:" << moved.error().reason;
        return;
    }
    if (Held* now = find(stable)) {
        now->view.outcome = outcome;
        emitChanged(*now);
    }
}

void Attendant::returnToExtension(CallId stable, int status) {
    Held* held = find(stable);
    if (!held || !held->returnLeg) return;
    stopRecallTimer(*held);
    Held gone = *held;
    Proxy::Retarget retarget;
    retarget.leg = *held->returnLeg;
    retarget.cancelReason = status == 0 ? kOperatorDidNotAnswer : QByteArray();
    retarget.hold = false;  // ringing the extension again: a plain call from now on
    m_held.erase(stable);
    if (Result<void> moved = m_proxy.retarget(stable, std::move(retarget)); !moved) {
        // The extension cannot be rung any more (unregistered meanwhile): the queue
        // takes the call rather than losing it.
        qCDebug(lcServer) << "pickup return failed:" << moved.error().reason;
        m_held.emplace(stable, std::move(gone));
        recall(stable, status);
        return;
    }
    Event event;
    event.kind = EventKind::Left;
    event.call = gone.view;
    event.call.outcome = QStringLiteral("pickup failed: your phone %1; ringing %2 again")
                             .arg(outcomeOfStatus(status), gone.returnUser);
    if (m_listener) m_listener(event);
}

// ---- helpers ------------------------------------------------------------------------

Attendant::Held* Attendant::find(CallId stable) {
    auto it = m_held.find(stable);
    return it == m_held.end() ? nullptr : &it->second;
}

Attendant::Held& Attendant::hold(CallId stable, const sip::Message& leg) {
    auto [it, created] = m_held.try_emplace(stable);
    Held& held = it->second;
    if (created) {
        held.view.call = stable;
        held.view.since = m_timers.now();
        if (auto from = leg.from()) {
            held.view.callerDisplay = from->displayName();
            held.view.callerUri = QString::fromUtf8(from->uriText);
        }
        held.view.calledUri = QString::fromUtf8(leg.requestUri());
        refreshHistory(held, leg);
    }
    return held;
}

void Attendant::startRecallTimer(Held& held) {
    stopRecallTimer(held);
    const CallId stable = held.view.call;
    held.recallTimer = m_timers.start(m_options.recallAfter, [this, stable] {
        Held* held = find(stable);
        if (!held) return;
        held->recallTimer = base::kNoTimer;
        switch (held->view.state) {
            case Call::State::Forwarding:
                recall(stable, 0);
                break;
            case Call::State::PickingUp:
                returnToExtension(stable, 0);
                break;
            case Call::State::ToPhone: {
                // Her phone did not answer: the call goes back to waiting, ringing nobody.
                std::optional<sip::Message> leg = m_proxy.currentLeg(stable);
                if (!leg) return;
                sip::Message next = *leg;
                if (!m_options.number.isEmpty())
                    next.setRequestUri(m_domains.aorUri(m_options.number).toUtf8());
                held->view.state = Call::State::Waiting;
                held->view.target.clear();
                held->view.outcome = QStringLiteral("your phone did not answer");
                Proxy::Retarget retarget;
                retarget.leg = std::move(next);
                retarget.cancelReason = kOperatorDidNotAnswer;
                retarget.allowNoBranch = true;
                if (Result<void> moved = m_proxy.retarget(stable, std::move(retarget)); !moved)
                    return;
                if (Held* now = find(stable)) emitChanged(*now);
                break;
            }
            case Call::State::Waiting:
                break;
        }
    });
}

void Attendant::stopRecallTimer(Held& held) {
    if (held.recallTimer == base::kNoTimer) return;
    m_timers.cancel(held.recallTimer);
    held.recallTimer = base::kNoTimer;
}

sip::Message Attendant::autoAnswered(sip::Message leg) const {
    const QByteArray domain = "<sip:" + m_domains.primary().toUtf8() + '>';
    switch (m_options.autoAnswer) {
        case AttendantOptions::AutoAnswer::CallInfo:
            leg.addHeader(sip::HeaderId::CallInfo, domain + ";answer-after=0");
            break;
        case AttendantOptions::AutoAnswer::AlertInfo:
            leg.addHeader(sip::HeaderId::AlertInfo, domain + ";info=alert-autoanswer;delay=0");
            break;
        case AttendantOptions::AutoAnswer::None:
            break;
    }
    return leg;
}

void Attendant::refreshHistory(Held& held, const sip::Message& leg) {
    held.view.history =
        sip::arrivalHistory(leg, [this](QByteArrayView uri) { return displayOf(uri, m_domains); });
}

void Attendant::emitChanged(const Held& held) {
    if (!m_listener) return;
    Event event;
    event.kind = EventKind::Changed;
    event.call = held.view;
    m_listener(event);
}

}  // namespace sb::server
