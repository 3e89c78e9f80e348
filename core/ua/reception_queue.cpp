#include "ua/reception_queue.h"

#include <algorithm>

#include "base/log.h"
#include "sip/call_history.h"
#include "sip/history_info.h"
#include "sip/uri.h"

namespace sb::ua {

namespace {

constexpr int kTagLength = 10;

Unexpected refused(QString reason) {
    return fail(ErrorKind::Protocol, std::move(reason));
}

// What an extension may be written with: RFC 3261 §25.1 unreserved characters and '+',
// so that sip:<ext>@<domain> needs no escaping and cannot grow parameters or headers.
bool isExtension(const QString& text) {
    return !text.isEmpty() && std::all_of(text.begin(), text.end(), [](QChar c) {
        return (c.unicode() < 128 && c.isLetterOrNumber()) ||
               QStringLiteral("-_.!~*'()+").contains(c);
    });
}

}  // namespace

ReceptionQueue::ReceptionQueue(transaction::TransactionLayer& transactions,
                               base::TimerQueue& timers, base::Random& random,
                               ReceptionOptions options)
    : m_transactions(transactions),
      m_timers(timers),
      m_random(random),
      m_options(std::move(options)) {}

ReceptionQueue::~ReceptionQueue() {
    for (auto& [id, call] : m_calls) {
        m_timers.cancel(call.ringTimer);
        (void)m_transactions.sendResponse(call.transaction,
                                          sip::makeResponse(call.invite, 480, {}, call.toTag));
    }
}

// ---- From the transaction layer ---------------------------------------------------------

bool ReceptionQueue::onInvite(transaction::TransactionId id, const sip::Message& invite) {
    if (invite.method() != sip::Method::Invite) return false;
    const Result<sip::NameAddr> from = invite.from();
    const Result<sip::NameAddr> to = invite.to();
    if (to && !to->tag().isEmpty()) return false;  // in a dialog: not a new call

    auto answer = [&](int status, QByteArray phrase) {
        if (Result<void> sent = m_transactions.sendResponse(
                id,
                sip::makeResponse(invite, status, std::move(phrase), m_random.token(kTagLength)));
            !sent)
            qCDebug(lcUa) << "reception queue cannot answer" << status << sent.error().reason;
    };
    // §8.2.2.2: the same request reaching us again by another path (a forking proxy).
    const Result<sip::CSeq> cseq = invite.cseq();
    const bool merged = std::any_of(m_calls.begin(), m_calls.end(), [&](const auto& entry) {
        const sip::Message& other = entry.second.invite;
        return other.callId() == invite.callId() && from && other.from() &&
               other.from()->tag() == from->tag() && cseq && other.cseq() &&
               other.cseq()->number == cseq->number;
    });
    if (merged) {
        answer(482, {});
        return true;
    }
    if (m_calls.size() >= m_options.maxCalls) {
        answer(486, "Reception queue full");
        return true;
    }

    Ringing call;
    call.transaction = id;
    call.invite = invite;
    call.toTag = m_random.token(kTagLength);
    call.view.call = m_nextCall++;
    if (from) {
        call.view.callerDisplay = from->displayName();
        call.view.callerUri = QString::fromUtf8(from->uriText);
    }
    if (to) call.view.toUri = QString::fromUtf8(to->uriText);
    call.view.calledUri = QString::fromUtf8(invite.requestUri());
    call.view.sipCallId = invite.callId().toByteArray();
    call.view.since = m_timers.now();
    call.view.history =
        sip::arrivalHistory(invite, [this](QByteArrayView uri) { return display(uri); });

    const CallId callId = call.view.call;
    Ringing& held = m_calls.emplace(callId, std::move(call)).first->second;
    m_byTransaction.emplace(id, callId);
    ring(held);
    if (const auto it = m_calls.find(callId); it != m_calls.end()) {
        scheduleRing(it->second);
        notify({EventKind::Changed, it->second.view, 0, {}});
    }
    return true;
}

bool ReceptionQueue::onCancel(transaction::TransactionId inviteId, const sip::Message& cancel) {
    const auto found = m_byTransaction.find(inviteId);
    if (found == m_byTransaction.end()) return false;
    const CallId callId = found->second;
    const Ringing& call = m_calls.at(callId);
    // §9.2: the INVITE is answered 487, in the early dialog of our 180.
    (void)finish(callId, sip::makeResponse(call.invite, 487, {}, call.toTag),
                 cancel.header(sip::HeaderId::Reason).toByteArray());
    return true;
}

// ---- Operator actions ---------------------------------------------------------------------

Result<QString> ReceptionQueue::forward(const ForwardRequest& request) {
    Result<Ringing*> found = ringing(request.call);
    if (!found) return fail(found.error());
    const Ringing& call = **found;
    Result<QByteArray> target = targetUri(request.to);
    if (!target) return fail(target.error());

    // The diverting URI: given, else the reception identity we registered (the
    // Request-URI that reaches us is our Contact, rewritten by the registrar's proxy),
    // else the Request-URI as received.
    const QByteArray divertedFrom = !request.diversionUri.isEmpty() ? request.diversionUri
                                    : !m_options.ownUri.isEmpty()
                                        ? m_options.ownUri
                                        : call.invite.requestUri().toByteArray();
    // RFC 3261 §8.3 / RFC 5806: the 302 names the target and carries the diversion the
    // next INVITE is to carry, the entries the call arrived with included.
    sip::Message moved = sip::makeResponse(call.invite, 302, {}, call.toTag);
    moved.addHeader(sip::HeaderId::Contact, '<' + *target + '>');
    Result<QByteArray> reason =
        sip::recordForward(moved, m_options, request, divertedFrom, *target, &call.invite);
    if (!reason) return fail(reason.error());
    const QString targetName = request.to.trimmed();
    if (Result<void> sent = finish(request.call, std::move(moved)); !sent)
        return refused(QStringLiteral("cannot forward to %1: %2 (the call has ended)")
                           .arg(targetName, sent.error().reason));
    return QStringLiteral("Forwarded to %1 (%2)").arg(targetName, QString::fromUtf8(*reason));
}

Result<QString> ReceptionQueue::reject(CallId callId, int status) {
    Result<Ringing*> found = ringing(callId);
    if (!found) return fail(found.error());
    if (status < 400 || status > 699)
        return refused(
            QStringLiteral("%1 is not a status to reject a call with (400-699)").arg(status));
    const Ringing& call = **found;
    sip::Message response = sip::makeResponse(call.invite, status, {}, call.toTag);
    const QString words = QStringLiteral("Rejected with %1 %2")
                              .arg(status)
                              .arg(QString::fromUtf8(response.reasonPhrase()))
                              .trimmed();
    if (Result<void> sent = finish(callId, std::move(response)); !sent)
        return refused(
            QStringLiteral("cannot reject: %1 (the call has ended)").arg(sent.error().reason));
    return words;
}

std::vector<ReceptionQueue::Call> ReceptionQueue::queue() const {
    // Ids grow with arrival, so the map's order is the longest waiting first.
    std::vector<Call> calls;
    calls.reserve(m_calls.size());
    for (const auto& [id, call] : m_calls)
        calls.push_back(call.view);
    return calls;
}

std::optional<ReceptionQueue::Call> ReceptionQueue::call(CallId callId) const {
    const auto it = m_calls.find(callId);
    if (it == m_calls.end()) return std::nullopt;
    return it->second.view;
}

// ---- Inside ---------------------------------------------------------------------------------

Result<ReceptionQueue::Ringing*> ReceptionQueue::ringing(CallId callId) {
    const auto it = m_calls.find(callId);
    if (it != m_calls.end()) return &it->second;
    if (callId > 0 && callId < m_nextCall) return refused(QStringLiteral("the call has ended"));
    return refused(QStringLiteral("no call %1 in the queue").arg(callId));
}

Result<QByteArray> ReceptionQueue::targetUri(const QString& to) const {
    const QString text = to.trimmed();
    if (text.isEmpty()) return refused(QStringLiteral("no target given"));
    const bool uriLike = text.startsWith(QLatin1String("sip:")) ||
                         text.startsWith(QLatin1String("sips:")) || text.contains(QLatin1Char('@'));
    if (!uriLike) {
        if (!isExtension(text))
            return refused(
                QStringLiteral("\"%1\" is neither an extension nor a SIP URI").arg(text));
        if (m_options.domain.isEmpty())
            return refused(
                QStringLiteral("no domain configured to reach extension %1 in").arg(text));
        return QStringLiteral("sip:%1@%2").arg(text, m_options.domain).toUtf8();
    }
    QByteArray uri = text.toUtf8();
    if (!text.startsWith(QLatin1String("sip:")) && !text.startsWith(QLatin1String("sips:")))
        uri.prepend("sip:");
    // The URI goes into <...> of a Contact: nothing that ends it early, and no headers
    // (a ?Replaces= would make the caller do more than follow a redirect).
    const bool unsafe = std::any_of(uri.begin(), uri.end(), [](char c) {
        return c <= ' ' || c == '<' || c == '>' || c == '"' || c == 127;
    });
    const Result<sip::Uri> parsed = sip::Uri::parse(uri);
    if (unsafe || !parsed || !parsed->isSip() || parsed->host.isEmpty() ||
        !parsed->headers.isEmpty())
        return refused(QStringLiteral("\"%1\" is not a SIP URI").arg(text));
    return uri;
}

QString ReceptionQueue::display(QByteArrayView uri) const {
    const Result<sip::Uri> parsed = sip::Uri::parse(uri);
    if (parsed && parsed->isSip() && !parsed->user.isEmpty() && !m_options.domain.isEmpty() &&
        QString::fromUtf8(parsed->host).compare(m_options.domain, Qt::CaseInsensitive) == 0)
        return QString::fromUtf8(sip::percentDecode(parsed->user));
    return QString::fromUtf8(uri);
}

void ReceptionQueue::ring(Ringing& call) {
    sip::Message ringing = sip::makeResponse(call.invite, 180, {}, call.toTag);
    if (!m_options.contactUri.isEmpty())
        ringing.addHeader(sip::HeaderId::Contact, '<' + m_options.contactUri + '>');
    if (Result<void> sent = m_transactions.sendResponse(call.transaction, std::move(ringing));
        !sent) {
        qCDebug(lcUa) << "reception queue: 180 not sent:" << sent.error().reason;
        // A transport hiccup leaves the transaction ringing (the next 180 may pass); a
        // transaction that is gone takes the call with it.
        if (!m_transactions.serverRequest(call.transaction)) leave(call.view.call, 0, {});
    }
}

void ReceptionQueue::scheduleRing(Ringing& call) {
    const CallId callId = call.view.call;
    call.ringTimer = m_timers.start(m_options.ringAgainEvery, [this, callId] {
        const auto it = m_calls.find(callId);
        if (it == m_calls.end()) return;
        it->second.ringTimer = base::kNoTimer;
        ring(it->second);
        if (const auto again = m_calls.find(callId); again != m_calls.end())
            scheduleRing(again->second);
    });
}

Result<void> ReceptionQueue::finish(CallId callId, sip::Message response, QByteArray cancelReason) {
    const int status = response.statusCode();
    Ringing& call = m_calls.at(callId);
    Result<void> sent = m_transactions.sendResponse(call.transaction, std::move(response));
    // A final response that could not be sent ends the transaction all the same (§17.2.4):
    // the call cannot be answered again, so it leaves either way.
    leave(callId, sent ? status : 0, std::move(cancelReason));
    if (!sent) return fail(sent.error());
    return {};
}

void ReceptionQueue::leave(CallId callId, int status, QByteArray cancelReason) {
    const auto it = m_calls.find(callId);
    if (it == m_calls.end()) return;
    m_timers.cancel(it->second.ringTimer);
    Event event{EventKind::Left, std::move(it->second.view), status, std::move(cancelReason)};
    m_byTransaction.erase(it->second.transaction);
    m_calls.erase(it);
    notify(event);
}

void ReceptionQueue::notify(const Event& event) const {
    if (m_listener) m_listener(event);
}

}  // namespace sb::ua
