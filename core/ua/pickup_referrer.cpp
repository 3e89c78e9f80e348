#include "ua/pickup_referrer.h"

#include <map>
#include <unordered_map>

#include "base/log.h"
#include "sip/digest.h"
#include "sip/refer_to.h"
#include "sip/sipfrag.h"
#include "sip/uri.h"

namespace sb::ua {

using transaction::kNoTransaction;
using transaction::TransactionId;
using Step = PickupReport::Step;
using ReportState = PickupReport::State;

namespace {

constexpr int kCallIdLength = 24;
constexpr int kTagLength = 12;
// NOTIFYs of a REFER that no longer drives a pickup (a late final NOTIFY, forked
// phones) are still acknowledged for this long: 64*T1 (RFC 3261 §17.1.2.2).
constexpr base::Duration kLinger = std::chrono::seconds(32);

QByteArray uriHost(const QHostAddress& address) {
    const QByteArray text = address.toString().toLatin1();
    return address.protocol() == QAbstractSocket::IPv6Protocol ? "[" + text + "]" : text;
}

QString statusText(int code, QByteArrayView phrase) {
    if (phrase.isEmpty()) phrase = sip::defaultReasonPhrase(code);
    return phrase.isEmpty() ? QString::number(code)
                            : QStringLiteral("%1 %2").arg(code).arg(QString::fromUtf8(phrase));
}

// RFC 3261 §25.1 user: unreserved / escaped / user-unreserved. Everything else in a
// pickup code ('#', spaces) is escaped.
QByteArray escapeUser(QByteArrayView user) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    static constexpr QByteArrayView kAllowed = "-_.!~*'()&=+$,;?/";
    QByteArray out;
    for (char c : user) {
        const bool alnum =
            (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (alnum || kAllowed.contains(c)) {
            out += c;
            continue;
        }
        const auto byte = static_cast<unsigned char>(c);
        out += '%';
        out += kHex[byte >> 4];
        out += kHex[byte & 0xF];
    }
    return out;
}

QByteArray quotedDisplay(const QString& display) {
    QByteArray text = display.toUtf8();
    text.replace('\\', "\\\\").replace('"', "\\\"");
    return '"' + text + "\" ";
}

}  // namespace

struct PickupReferrer::Pickup {
    quint64 id = 0;
    PickupTarget target;
    QByteArray replacesReferTo;  // empty: step 1 impossible
    QString replacesProblem;     // why it is impossible, or how it failed
    int problemStatus = 0;       // the SIP status of that failure
    QByteArray codeUser;         // "**202"; empty: no step 2
    QByteArray domain;
    Step step = Step::Replaces;
    QByteArray referCallId;  // the REFER of the current step
    base::TimerId startTimer = base::kNoTimer;
    base::TimerId stepTimer = base::kNoTimer;
};

// One REFER and its implicit subscription (RFC 3515 §2.4.4), found by Call-ID.
struct PickupReferrer::Refer {
    quint64 pickupId = 0;  // 0: retired, its NOTIFYs are only acknowledged
    Step step = Step::Replaces;
    QByteArray callId;
    QByteArray fromTag;
    QByteArray referTo;
    quint32 cseq = 0;
    transport::Endpoint destination;
    TransactionId transaction = kNoTransaction;
    bool finalSeen = false;  // a final status arrived in a NOTIFY
    base::TimerId lingerTimer = base::kNoTimer;
};

struct PickupReferrer::State {
    explicit State(base::Random& random) : digest(random) {}

    sip::DigestClient digest;
    QByteArray routeValue;
    QByteArray fromValue;  // name-addr without the tag
    QByteArray aorError;   // set when the options' AoR is unusable
    quint64 nextId = 1;
    std::unordered_map<quint64, std::unique_ptr<Pickup>> pickups;
    std::map<QByteArray, std::unique_ptr<Refer>> refers;  // by Call-ID
    std::unordered_map<TransactionId, Refer*> byTransaction;
};

PickupReferrer::PickupReferrer(transaction::TransactionLayer& transactions,
                               base::TimerQueue& timers, base::Random& random,
                               PickupReferrerOptions options)
    : m_transactions(transactions),
      m_timers(timers),
      m_random(random),
      m_options(std::move(options)),
      d(std::make_unique<State>(random)) {
    auto aor = sip::Uri::parse(m_options.aor);
    if (!aor || !aor->isSip()) {
        d->aorError = "the console's address \"" + m_options.aor + "\" is not a SIP URI";
    } else {
        d->fromValue = (m_options.displayName.isEmpty() ? QByteArray()
                                                        : quotedDisplay(m_options.displayName)) +
                       "<" + m_options.aor + ">";
        const QByteArray authUser =
            !m_options.authUser.isEmpty() ? m_options.authUser : sip::percentDecode(aor->user);
        d->digest.setCredentials(authUser, m_options.password);
    }
    if (!m_options.outboundProxyUri.isEmpty()) {
        auto route = sip::Uri::parse(m_options.outboundProxyUri);
        if (route && route->isSip()) {
            d->routeValue =
                "<" + m_options.outboundProxyUri + (route->params.has("lr") ? "" : ";lr") + ">";
        } else {
            d->aorError = "outbound proxy \"" + m_options.outboundProxyUri + "\" is not a SIP URI";
        }
    }
}

PickupReferrer::~PickupReferrer() {
    m_transactions.forgetUser(this);
    for (auto& [id, pickup] : d->pickups) {
        m_timers.cancel(pickup->startTimer);
        m_timers.cancel(pickup->stepTimer);
    }
    for (auto& [callId, refer] : d->refers)
        m_timers.cancel(refer->lingerTimer);
}

Result<QByteArray> PickupReferrer::replacesReferTo(const PickupTarget& target) {
    if (target.callId.isEmpty() || target.localTag.isEmpty() || target.remoteTag.isEmpty())
        return fail(ErrorKind::Protocol,
                    QStringLiteral("the server gave no call-id and tags for the call"));
    if (target.remoteTarget.isEmpty())
        return fail(ErrorKind::Protocol,
                    QStringLiteral("the server gave no address of the caller"));
    // RFC 3891 §3: the UA that receives the INVITE with Replaces (the caller) matches
    // to-tag against its local tag and from-tag against its remote tag. The document
    // is the extension's: the caller's local tag is the extension's remote tag.
    sip::ReplacesTarget replaces;
    replaces.callId = target.callId;
    replaces.toTag = target.remoteTag;
    replaces.fromTag = target.localTag;
    // §3: early-only makes the caller refuse (486) once the call has been answered, so a
    // pickup can never steal an answered call.
    replaces.earlyOnly = true;
    return sip::referToWithReplaces(target.remoteTarget, replaces);
}

QByteArray PickupReferrer::pickupCodeFor(QByteArrayView code, QByteArrayView extension) {
    code = code.trimmed();
    if (code.isEmpty() || code.compare("none", Qt::CaseInsensitive) == 0) return {};
    const qsizetype at = code.indexOf("ext");
    if (at < 0) return code.toByteArray();
    if (extension.isEmpty()) return {};
    QByteArray text = code.toByteArray();
    text.replace(at, 3, extension.toByteArray());
    return text;
}

Result<quint64> PickupReferrer::pickup(const PickupTarget& target) {
    const QString extension = QString::fromUtf8(target.extension);
    if (!d->aorError.isEmpty()) return fail(ErrorKind::Config, QString::fromUtf8(d->aorError));
    auto phone = sip::Uri::parse(target.phoneAor);
    if (!phone || !phone->isSip() || !phone->headers.isEmpty())
        return fail(ErrorKind::Config,
                    QStringLiteral("your phone's address \"%1\" is not a SIP URI")
                        .arg(QString::fromUtf8(target.phoneAor)));
    if (target.outgoing)
        return fail(ErrorKind::Protocol,
                    QStringLiteral("%1 placed this call: there is no ringing call to pick up")
                        .arg(extension));

    auto pickup = std::make_unique<Pickup>();
    pickup->target = target;
    Result<QByteArray> referTo = replacesReferTo(target);
    if (referTo)
        pickup->replacesReferTo = *referTo;
    else
        pickup->replacesProblem = referTo.error().reason;
    pickup->codeUser = escapeUser(pickupCodeFor(m_options.pickupCode, target.extension));
    pickup->domain = !m_options.domain.isEmpty() ? m_options.domain : phone->hostPort();
    if (pickup->replacesReferTo.isEmpty() && pickup->codeUser.isEmpty())
        return fail(ErrorKind::Protocol,
                    QStringLiteral("cannot pick up %1's call: %2, and no pickup code is configured")
                        .arg(extension, pickup->replacesProblem));

    pickup->id = d->nextId++;
    const quint64 id = pickup->id;
    Pickup* raw = pickup.get();
    d->pickups.emplace(id, std::move(pickup));
    // From the event loop: the listener never hears of this pickup inside pickup().
    raw->startTimer = m_timers.start(base::Duration::zero(), [this, id] {
        auto it = d->pickups.find(id);
        if (it == d->pickups.end()) return;
        Pickup& p = *it->second;
        p.startTimer = base::kNoTimer;
        startStep(p, p.replacesReferTo.isEmpty() ? Step::PickupCode : Step::Replaces);
    });
    return id;
}

std::size_t PickupReferrer::activeCount() const {
    return d->pickups.size();
}

void PickupReferrer::startStep(Pickup& pickup, Step step) {
    pickup.step = step;
    auto refer = std::make_unique<Refer>();
    refer->pickupId = pickup.id;
    refer->step = step;
    refer->callId = m_random.token(kCallIdLength);
    refer->fromTag = m_random.token(kTagLength);
    refer->referTo = step == Step::Replaces ? pickup.replacesReferTo
                                            : "<sip:" + pickup.codeUser + "@" + pickup.domain + ">";
    pickup.referCallId = refer->callId;
    Refer& ref = *refer;
    d->refers.emplace(refer->callId, std::move(refer));

    const QString extension = QString::fromUtf8(pickup.target.extension);
    QString text;
    if (step == Step::Replaces) {
        text = QStringLiteral("asking your phone to take over %1's call").arg(extension);
    } else {
        text = QStringLiteral("asking your phone to dial the pickup code %1")
                   .arg(QString::fromUtf8(pickup.codeUser));
        if (!pickup.replacesProblem.isEmpty())
            text = pickup.replacesProblem + QStringLiteral("; ") + text;
    }
    m_timers.cancel(pickup.stepTimer);
    const quint64 id = pickup.id;
    pickup.stepTimer = m_timers.start(m_options.stepTimeout, [this, id] {
        auto it = d->pickups.find(id);
        if (it == d->pickups.end()) return;
        it->second->stepTimer = base::kNoTimer;
        // No fallback: the phone may still be acting on this REFER.
        finish(*it->second, ReportState::Failed, 408, QStringLiteral("no answer from the phone"));
    });
    report(pickup, ReportState::Trying, step == Step::Replaces ? 0 : pickup.problemStatus, text);
    sendRefer(ref);
}

void PickupReferrer::sendRefer(Refer& refer) {
    using sip::HeaderId;
    Pickup* pickup = pickupOf(refer);
    if (!pickup) return;
    const std::optional<transport::Endpoint> hop =
        m_options.nextHop ? m_options.nextHop() : std::nullopt;
    if (!hop) {
        referUnanswered(refer, 503, QStringLiteral("no route to your phone (not registered?)"));
        return;
    }
    QByteArray contact = m_options.contactUri;
    if (contact.isEmpty()) {
        const std::optional<transport::Endpoint> local =
            m_options.localEndpointFor ? m_options.localEndpointFor(*hop) : std::nullopt;
        if (!local) {
            referUnanswered(refer, 503,
                            QStringLiteral("no local address reaches %1").arg(hop->toString()));
            return;
        }
        contact = "sip:" + uriHost(local->address) + ':' + QByteArray::number(local->port);
        if (local->protocol != transport::Protocol::Udp)
            contact +=
                ";transport=" + transport::protocolName(local->protocol).toByteArray().toLower();
    }

    // RFC 3515 §2.4.1: an out-of-dialog REFER to the operator's phone; it creates the
    // dialog of its implicit subscription, so it carries a Contact.
    sip::Message request = sip::Message::request(sip::Method::Refer, pickup->target.phoneAor);
    if (!d->routeValue.isEmpty()) request.addHeader(HeaderId::Route, d->routeValue);
    request.addHeader(HeaderId::MaxForwards, "70");
    request.addHeader(HeaderId::From, d->fromValue + ";tag=" + refer.fromTag);
    request.addHeader(HeaderId::To, "<" + pickup->target.phoneAor + ">");
    request.addHeader(HeaderId::CallId, refer.callId);
    request.addHeader(HeaderId::CSeq, QByteArray::number(++refer.cseq) + " REFER");
    request.addHeader(HeaderId::Contact, "<" + contact + ">");
    request.addHeader(HeaderId::ReferTo, refer.referTo);
    // RFC 3892: who asked for the transfer, for the phone to show or to authorise.
    request.addHeader(HeaderId::ReferredBy, "<" + m_options.aor + ">");
    if (!m_options.userAgent.isEmpty()) request.addHeader(HeaderId::UserAgent, m_options.userAgent);
    d->digest.authorize(request);

    refer.destination = *hop;
    auto sent = m_transactions.sendRequest(std::move(request), *hop, this);
    if (!sent) {
        referUnanswered(refer, 503,
                        QStringLiteral("could not reach your phone: %1").arg(sent.error().reason));
        return;
    }
    refer.transaction = *sent;
    d->byTransaction[*sent] = &refer;
}

PickupReferrer::Pickup* PickupReferrer::pickupOf(const Refer& refer) {
    if (refer.pickupId == 0) return nullptr;
    auto it = d->pickups.find(refer.pickupId);
    if (it == d->pickups.end() || it->second->referCallId != refer.callId) return nullptr;
    return it->second.get();
}

void PickupReferrer::onFinal(TransactionId id, const sip::Message& response) {
    auto it = d->byTransaction.find(id);
    if (it == d->byTransaction.end() || response.statusCode() < 200) return;
    Refer& refer = *it->second;
    d->byTransaction.erase(it);
    refer.transaction = kNoTransaction;
    Pickup* pickup = pickupOf(refer);
    if (!pickup || refer.finalSeen) return;  // a NOTIFY already told the outcome
    const int code = response.statusCode();
    if (code < 300) {
        d->digest.markAccepted();
        // RFC 3515 §2.4.2: 202 only says the phone will try; the NOTIFYs tell the rest.
        report(*pickup, ReportState::Trying, code,
               QStringLiteral("your phone accepted (%1)")
                   .arg(statusText(code, response.reasonPhrase())));
        return;
    }
    if (code == 401 || code == 407) {
        auto answered = d->digest.handleChallenge(response);
        if (answered) {
            sendRefer(refer);
            return;
        }
        referRefused(refer, code,
                     QStringLiteral("%1: %2").arg(statusText(code, response.reasonPhrase()),
                                                  answered.error().reason));
        return;
    }
    d->digest.markAccepted();
    const QString status = statusText(code, response.reasonPhrase());
    const bool refused = code == 403 || code == 405 || code == 501 || code == 603;
    referRefused(refer, code, refused ? QStringLiteral("phone refused (%1)").arg(status) : status);
}

void PickupReferrer::onTimeout(TransactionId id) {
    auto it = d->byTransaction.find(id);
    if (it == d->byTransaction.end()) return;
    Refer& refer = *it->second;
    d->byTransaction.erase(it);
    refer.transaction = kNoTransaction;
    // RFC 3261 §8.1.3.1: Timer F is a 408.
    referUnanswered(refer, 408, QStringLiteral("no answer from the phone"));
}

void PickupReferrer::onTransportError(TransactionId id, const Error& error) {
    auto it = d->byTransaction.find(id);
    if (it == d->byTransaction.end()) return;
    Refer& refer = *it->second;
    d->byTransaction.erase(it);
    refer.transaction = kNoTransaction;
    referUnanswered(refer, 503, QStringLiteral("could not reach your phone: %1").arg(error.reason));
}

void PickupReferrer::referUnanswered(Refer& refer, int statusCode, const QString& text) {
    // The phone cannot be reached: a second REFER to it would fare no better.
    if (Pickup* pickup = pickupOf(refer)) finish(*pickup, ReportState::Failed, statusCode, text);
}

void PickupReferrer::referRefused(Refer& refer, int statusCode, const QString& text) {
    if (Pickup* pickup = pickupOf(refer)) stepFailed(*pickup, statusCode, text, true);
}

void PickupReferrer::sipfragStatus(Refer& refer, int statusCode, const QByteArray& reasonPhrase) {
    Pickup* pickup = pickupOf(refer);
    if (!pickup || refer.finalSeen) return;
    const QString status = statusText(statusCode, reasonPhrase);
    const QString extension = QString::fromUtf8(pickup->target.extension);
    if (statusCode < 200) {
        report(*pickup, ReportState::Trying, statusCode,
               QStringLiteral("your phone is taking the call (%1)").arg(status));
        return;
    }
    refer.finalSeen = true;
    if (statusCode < 300) {
        finish(*pickup, ReportState::Done, statusCode,
               refer.step == Step::Replaces
                   ? QStringLiteral("picked up %1's call").arg(extension)
                   : QStringLiteral("picked up %1's call with %2")
                         .arg(extension, QString::fromUtf8(pickup->codeUser)));
        return;
    }
    if (refer.step == Step::PickupCode) {
        finish(*pickup, ReportState::Failed, statusCode,
               QStringLiteral("pickup code %1 failed (%2)")
                   .arg(QString::fromUtf8(pickup->codeUser), status));
        return;
    }
    // RFC 3891 §3: 486 to an early-only Replaces means the call was answered meanwhile.
    // Never try further: the call must not be taken from whoever answered it.
    if (statusCode == 486) {
        finish(*pickup, ReportState::Failed, statusCode, QStringLiteral("already answered"));
        return;
    }
    // §3: 481 means the caller knows no such dialog (gone, or tags the server reported
    // wrongly); the server's own pickup may still find it.
    stepFailed(*pickup, statusCode, statusCode == 481 ? QStringLiteral("call gone") : status, true);
}

void PickupReferrer::stepFailed(Pickup& pickup, int statusCode, const QString& text,
                                bool mayFallBack) {
    if (!mayFallBack || pickup.step != Step::Replaces || pickup.codeUser.isEmpty()) {
        finish(pickup, ReportState::Failed, statusCode, text);
        return;
    }
    if (auto it = d->refers.find(pickup.referCallId); it != d->refers.end()) retire(*it->second);
    pickup.replacesProblem = QStringLiteral("take-over failed: %1").arg(text);
    pickup.problemStatus = statusCode;
    startStep(pickup, Step::PickupCode);
}

void PickupReferrer::finish(Pickup& pickup, ReportState state, int statusCode,
                            const QString& text) {
    if (auto it = d->refers.find(pickup.referCallId); it != d->refers.end()) retire(*it->second);
    m_timers.cancel(pickup.startTimer);
    m_timers.cancel(pickup.stepTimer);
    PickupReport done;
    done.id = pickup.id;
    done.step = pickup.step;
    done.state = state;
    done.statusCode = statusCode;
    done.text = text;
    qCInfo(lcUa) << "pickup" << done.id << "of" << pickup.target.extension << pickupStateName(state)
                 << text;
    d->pickups.erase(pickup.id);  // `pickup` is gone from here on
    // Last: the listener may start another pickup.
    if (m_listener) m_listener(done);
}

void PickupReferrer::report(const Pickup& pickup, ReportState state, int statusCode,
                            const QString& text) {
    PickupReport step;
    step.id = pickup.id;
    step.step = pickup.step;
    step.state = state;
    step.statusCode = statusCode;
    step.text = text;
    qCDebug(lcUa) << "pickup" << step.id << pickupStepName(step.step) << text;
    if (m_listener) m_listener(step);
}

void PickupReferrer::retire(Refer& refer) {
    refer.pickupId = 0;
    if (refer.transaction != kNoTransaction) {
        m_transactions.forget(refer.transaction);
        d->byTransaction.erase(refer.transaction);
        refer.transaction = kNoTransaction;
    }
    if (refer.lingerTimer != base::kNoTimer) return;
    const QByteArray callId = refer.callId;
    refer.lingerTimer = m_timers.start(kLinger, [this, callId] {
        auto it = d->refers.find(callId);
        if (it == d->refers.end()) return;
        if (it->second->transaction != kNoTransaction)
            d->byTransaction.erase(it->second->transaction);
        d->refers.erase(it);
    });
}

void PickupReferrer::subscriptionEnded(Refer& refer) {
    const QByteArray callId = refer.callId;
    if (Pickup* pickup = pickupOf(refer); pickup && !refer.finalSeen) {
        // RFC 3515 §2.4.7: the report ended without a final status; what became of the
        // referred INVITE is unknown, so nothing further is tried.
        finish(*pickup, ReportState::Failed, 0,
               QStringLiteral("your phone ended its report without a result"));
    }
    // Nothing more comes in this dialog: the REFER is forgotten.
    auto it = d->refers.find(callId);
    if (it == d->refers.end()) return;
    Refer& ended = *it->second;
    m_timers.cancel(ended.lingerTimer);
    if (ended.transaction != kNoTransaction) {
        m_transactions.forget(ended.transaction);
        d->byTransaction.erase(ended.transaction);
    }
    d->refers.erase(it);
}

void PickupReferrer::respond(TransactionId id, const sip::Message& request, int code,
                             QByteArray reason) {
    sip::Message response = sip::makeResponse(request, code, std::move(reason));
    if (code == 415) response.addHeader(sip::HeaderId::Accept, "message/sipfrag");
    (void)m_transactions.sendResponse(id, std::move(response));
}

bool PickupReferrer::onRequest(TransactionId id, const sip::Message& request) {
    if (request.method() != sip::Method::Notify) return false;
    auto event = request.event();
    if (!event || event->package.compare("refer", Qt::CaseInsensitive) != 0) return false;

    // RFC 6665 §4.1.2.4: the NOTIFY's Call-ID is the REFER's, its To tag our From tag.
    auto to = request.to();
    auto it = d->refers.find(request.callId().toByteArray());
    if (!to || it == d->refers.end() || it->second->fromTag != to->tag()) {
        respond(id, request, 481, "Subscription does not exist");  // RFC 6665 §4.1.3
        return true;
    }
    bool terminated = false;
    if (request.has(sip::HeaderId::SubscriptionState)) {
        auto state = request.subscriptionState();
        if (!state) {
            respond(id, request, 400, "Malformed Subscription-State");
            return true;
        }
        terminated = state->state.compare("terminated", Qt::CaseInsensitive) == 0;
    }
    // RFC 3515 §2.4.5: the body is a message/sipfrag starting with a Status-Line.
    if (!sip::isSipFragContentType(request.header(sip::HeaderId::ContentType))) {
        respond(id, request, 415, "Unsupported Media Type");
        return true;
    }
    auto status = sip::parseSipFragStatus(request.body());
    if (!status) {
        qCInfo(lcUa) << "REFER NOTIFY with a bad sipfrag:" << status.error().reason;
        respond(id, request, 400, "Malformed sipfrag: " + status.error().reason.toUtf8());
        return true;
    }
    respond(id, request, 200);

    const QByteArray callId = it->first;
    sipfragStatus(*it->second, status->statusCode, status->reasonPhrase);
    // The listener may have started other pickups: look the REFER up again.
    if (!terminated) return true;
    if (auto again = d->refers.find(callId); again != d->refers.end())
        subscriptionEnded(*again->second);
    return true;
}

QByteArrayView pickupStepName(Step step) {
    switch (step) {
        case Step::Replaces:
            return "replaces";
        case Step::PickupCode:
            return "pickup-code";
    }
    return "replaces";
}

QByteArrayView pickupStateName(ReportState state) {
    switch (state) {
        case ReportState::Trying:
            return "trying";
        case ReportState::Done:
            return "done";
        case ReportState::Failed:
            return "failed";
    }
    return "trying";
}

}  // namespace sb::ua
