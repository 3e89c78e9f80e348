#include "ua/subscription_set.h"

#include <QHashFunctions>
#include <QHostAddress>

#include <algorithm>
#include <deque>
#include <unordered_map>
#include <utility>

#include "base/log.h"
#include "dialog/dialog.h"
#include "dialoginfo/rlmi.h"
#include "sip/digest.h"
#include "sip/multipart.h"
#include "sip/params.h"
#include "sip/typed_headers.h"
#include "sip/uri.h"
#include "ua/retry_backoff.h"
#include "ua/subscribe_pacer.h"

namespace sb::ua {

using transaction::kNoTransaction;
using transaction::TransactionId;
using State = SubscriptionStatus::State;

namespace {

constexpr int kCallIdLength = 24;
constexpr int kTagLength = 12;
constexpr int kMaxIntervalRetries = 3;
// RFC 6665 §4.1.2.4: without a NOTIFY within 64*T1 of the 2xx the subscription failed.
constexpr base::Duration kNotifyWait = std::chrono::seconds(32);
// How long an ended dialog is remembered, so that NOTIFYs still in flight (the final
// one after an un-SUBSCRIBE, retransmissions) get 200 instead of 481: 64*T1, the life
// of a non-INVITE transaction (RFC 3261 §17.1.2.2).
constexpr base::Duration kTombstoneLife = std::chrono::seconds(32);
// A server that ends every new subscription at once with deactivated/timeout would
// otherwise be asked again at once, forever (RFC 6665 §4.1.3 says "immediately"): after
// this many such ends in a row, each within kQuickEndWindow of its SUBSCRIBE, the
// back-off applies instead.
constexpr int kMaxQuickEnds = 3;
constexpr base::Duration kQuickEndWindow = std::chrono::minutes(1);

// RFC 4662 lists: one RLMI document names every resource of the list (about 130 bytes
// each), so the dialog-info defaults (256 KB) are too small for a board of 2,000. The
// SIP message size limit in front of it bounds the real size anyway.
dialoginfo::ParseLimits rlmiLimits() {
    dialoginfo::ParseLimits limits;
    limits.maxBytes = 4 * 1024 * 1024;
    limits.maxResources = 10000;
    return limits;
}

// Lookup by view: a NOTIFY's Call-ID is found without building a QByteArray (C++20
// heterogeneous lookup), so handling one allocates nothing beyond its response.
struct ViewHash {
    using is_transparent = void;
    size_t operator()(QByteArrayView view) const noexcept { return qHash(view); }
};
struct ViewEqual {
    using is_transparent = void;
    bool operator()(QByteArrayView a, QByteArrayView b) const noexcept { return a == b; }
};
template <class T>
using ViewMap = std::unordered_map<QByteArray, T, ViewHash, ViewEqual>;

QByteArray reasonOf(const sip::Message& response) {
    return QByteArray::number(response.statusCode()) + ' ' + response.reasonPhrase().toByteArray();
}

QByteArray uriHost(const QHostAddress& address) {
    const QByteArray text = address.toString().toLatin1();
    return address.protocol() == QAbstractSocket::IPv6Protocol ? "[" + text + "]" : text;
}

// RFC 6665 §4.1.2.2: answers to a refresh after which the subscription is over (481 is
// handled before: a new subscription at once). Other failures leave it valid until it
// expires.
bool endsSubscriptionOnRefresh(int code) {
    switch (code) {
        case 404:
        case 405:
        case 410:
        case 416:
        case 480:
        case 481:
        case 482:
        case 483:
        case 484:
        case 485:
        case 489:
        case 501:
        case 604:
            return true;
        default:
            return false;
    }
}

// Answers that say the resource cannot be watched (as opposed to "try again later"):
// shown as unavailable, retried only after the back-off.
bool refusesResource(int code) {
    switch (code) {
        case 401:
        case 403:
        case 407:
        case 404:
        case 405:
        case 410:
        case 416:
        case 420:
        case 484:
        case 485:
        case 488:
        case 489:
        case 501:
        case 603:
        case 604:
        case 606:
            return true;
        default:
            return false;
    }
}

// RFC 4662 §4 / RFC 3261 §8.2.2.3: answers from a server that does not do resource
// lists (or not this one): subscribe to each resource instead.
bool refusesEventList(int code) {
    switch (code) {
        case 403:
        case 404:
        case 415:
        case 420:
        case 421:
        case 480:
        case 488:
        case 489:
        case 501:
        case 604:
            return true;
        default:
            return false;
    }
}

// The key that matches an RLMI <resource uri> to a watched resource: "user@host" with
// the host in lower case (scheme, port and parameters ignored).
QByteArray resourceKey(QByteArrayView uri) {
    auto parsed = sip::Uri::parse(uri);
    if (!parsed) return uri.toByteArray();
    QByteArray key = sip::percentDecode(parsed->user);
    if (!key.isEmpty()) key += '@';
    key += parsed->host.toByteArray().toLower();
    return key;
}

}  // namespace

struct SubscriptionSet::Impl final : transaction::ClientTransactionUser {
    enum class Phase { Idle, Queued, Subscribing, Established, Waiting, Ending };
    enum class TxKind { None, Initial, Refresh, Unsubscribe };

    // One subscription: a resource (or the resource list) and its current dialog.
    struct Sub {
        Sub(Impl& owner, QByteArray key, bool isList)
            : impl(owner),
              resource(std::move(key)),
              list(isList),
              digest(owner.random),
              backoff(owner.random, owner.options.backoffBase, owner.options.backoffMax) {}
        ~Sub() {
            impl.cancelTimers(*this);
            if (tx != kNoTransaction) impl.transactions.forget(tx);
        }
        Sub(const Sub&) = delete;
        Sub& operator=(const Sub&) = delete;

        Impl& impl;
        QByteArray resource;
        bool list = false;
        SubscriptionStatus status;
        Phase phase = Phase::Idle;
        QByteArray callId;
        QByteArray fromTag;
        quint32 cseq = 0;
        quint32 requested = 0;
        int intervalRetries = 0;
        sip::Message initial;  // the latest initial SUBSCRIBE, for Dialog::createUac
        std::optional<dialog::Dialog> dialog;
        bool notified = false;  // a NOTIFY came in the current dialog
        std::optional<quint32> lastNotifyCSeq;
        bool unsubscribeAfterFinal = false;
        // A refresh was asked for (refetch, NeedFullState) while a transaction was in
        // flight: sent when that one completes.
        bool refreshWanted = false;
        base::TimePoint startedAt{};  // the initial SUBSCRIBE of the current dialog
        int quickEnds = 0;            // deactivated/timeout soon after the SUBSCRIBE, in a row
        base::TimePoint expiresAt{};
        TransactionId tx = kNoTransaction;
        TxKind txKind = TxKind::None;
        base::TimerId refreshTimer = base::kNoTimer;
        base::TimerId retryTimer = base::kNoTimer;
        base::TimerId notifyTimer = base::kNoTimer;
        transport::Endpoint destination;
        sip::DigestClient digest;  // per subscription: challenges race across dialogs
        RetryBackoff backoff;
    };

    Impl(transaction::TransactionLayer& layer, base::TimerQueue& timerQueue, base::Random& rnd,
         SubscriptionOptions opts, SubscriptionHandler& h)
        : transactions(layer),
          timers(timerQueue),
          random(rnd),
          options(std::move(opts)),
          handler(h),
          pacer(timerQueue, options.subscribeRate,
                [this](const QByteArray& key) { release(key); }) {
        listMode = !options.resourceListUri.isEmpty();
        if (!options.outboundProxyUri.isEmpty()) {
            // RFC 3261 §8.1.2: a preloaded loose route towards the outbound proxy.
            auto route = sip::Uri::parse(options.outboundProxyUri);
            routeValue = "<" + options.outboundProxyUri +
                         (route && route->params.has("lr") ? "" : ";lr") + ">";
        }
        const QByteArray aorText = "<" + options.aor + ">";
        fromValue = options.displayName.isEmpty()
                        ? aorText
                        : sip::quote(options.displayName.toUtf8()) + ' ' + aorText;
        if (auto aor = sip::Uri::parse(options.aor)) {
            contactUser = aor->user.toByteArray();
            if (options.authUser.isEmpty()) authUser = sip::percentDecode(aor->user);
        }
        if (!options.authUser.isEmpty()) authUser = options.authUser;
    }

    ~Impl() override {
        // Subs cancel their own timers and forget their transactions.
        pacer.clear();
        subs.clear();
        ending.clear();
        graveyard.clear();
        listSub.reset();
        if (reportTimer != base::kNoTimer) timers.cancel(reportTimer);
        if (stopTimer != base::kNoTimer) timers.cancel(stopTimer);
    }

    // --- reports -------------------------------------------------------------------

    // Every report goes through the event loop, so the handler never runs inside a
    // call on the set (CONVENTIONS.md) and may call back into it.
    void report(const QByteArray& resource, const SubscriptionStatus& status) {
        pendingReports.emplace_back(resource, status);
        if (reportTimer != base::kNoTimer) return;
        reportTimer = timers.start(base::Duration(0), [this] {
            reportTimer = base::kNoTimer;
            while (!pendingReports.empty()) {
                auto next = std::move(pendingReports.front());
                pendingReports.pop_front();
                handler.onStatus(next.first, next.second);
            }
        });
    }

    void setStatus(Sub& sub, State state, QByteArray reason = {}, int code = 0,
                   std::optional<base::Duration> retryIn = std::nullopt) {
        SubscriptionStatus next;
        next.state = state;
        next.reason = std::move(reason);
        next.statusCode = code;
        next.retryIn = retryIn;
        const bool changed = next.state != sub.status.state || next.reason != sub.status.reason ||
                             next.statusCode != sub.status.statusCode ||
                             next.retryIn != sub.status.retryIn;
        if (!changed) return;
        sub.status = std::move(next);
        if (sub.list) {
            listStatusChanged(sub.status);
        } else {
            report(sub.resource, sub.status);
        }
    }

    // --- pacing and starting -------------------------------------------------------

    void enqueue(Sub& sub, QByteArray reason = {}, int code = 0) {
        cancelTimers(sub);
        sub.phase = Phase::Queued;
        setStatus(sub, State::Queued, std::move(reason), code);
        pacer.enqueue(sub.resource);
    }

    void release(const QByteArray& key) {
        Sub* sub = nullptr;
        if (listSub && listSub->resource == key) {
            sub = listSub.get();
        } else if (auto it = subs.find(key); it != subs.end()) {
            sub = it->second.get();
        }
        if (!sub || sub->phase != Phase::Queued) return;
        startInitial(*sub);
    }

    void startInitial(Sub& sub) {
        endDialog(sub);
        sub.callId = random.token(kCallIdLength);
        sub.fromTag = random.token(kTagLength);
        byCallId[sub.callId] = &sub;
        sub.cseq = 0;
        sub.requested = options.expires;
        sub.intervalRetries = 0;
        sub.notified = false;
        sub.startedAt = timers.now();
        sub.digest.setCredentials(authUser, options.password);
        sub.digest.reset();
        sub.phase = Phase::Subscribing;
        setStatus(sub, State::Subscribing);
        sendInitial(sub);
    }

    void addCommonHeaders(Sub& sub, sip::Message& request, quint32 expires) {
        using sip::HeaderId;
        request.addHeader(HeaderId::Event, options.eventPackage);
        if (sub.list) {
            // RFC 4662 §4.3 / §5: we understand lists, their RLMI and multipart bodies.
            request.addHeader(HeaderId::Accept,
                              options.accept + ", application/rlmi+xml, multipart/related");
            request.addHeader(HeaderId::Require, "eventlist");
            request.addHeader(HeaderId::Supported, "eventlist");
        } else {
            request.addHeader(HeaderId::Accept, options.accept);
        }
        request.addHeader(HeaderId::Expires, QByteArray::number(expires));
        if (!options.userAgent.isEmpty()) request.addHeader(HeaderId::UserAgent, options.userAgent);
    }

    void sendInitial(Sub& sub) {
        using sip::HeaderId;
        const std::optional<transport::Endpoint> hop =
            options.nextHop ? options.nextHop() : std::nullopt;
        if (!hop) {
            failed(sub, 0, "no next hop", std::nullopt);
            return;
        }
        std::optional<transport::Endpoint> local =
            options.localEndpointFor ? options.localEndpointFor(*hop) : std::nullopt;
        if (!local) {
            failed(sub, 503, "no local address reaches " + hop->toString().toUtf8(), std::nullopt);
            return;
        }
        QByteArray contact = "sip:";
        if (!contactUser.isEmpty()) contact += contactUser + '@';
        contact += uriHost(local->address) + ':' + QByteArray::number(local->port);
        if (local->protocol != transport::Protocol::Udp)
            contact +=
                ";transport=" + transport::protocolName(local->protocol).toByteArray().toLower();

        // RFC 6665 §4.1.2.1: a dialog-forming SUBSCRIBE to the resource.
        sip::Message request = sip::Message::request(sip::Method::Subscribe, sub.resource);
        if (!routeValue.isEmpty()) request.addHeader(HeaderId::Route, routeValue);
        request.addHeader(HeaderId::MaxForwards, "70");
        request.addHeader(HeaderId::From, fromValue + ";tag=" + sub.fromTag);
        request.addHeader(HeaderId::To, "<" + sub.resource + ">");
        request.addHeader(HeaderId::CallId, sub.callId);
        request.addHeader(HeaderId::CSeq, QByteArray::number(++sub.cseq) + " SUBSCRIBE");
        request.addHeader(HeaderId::Contact, "<" + contact + ">");
        addCommonHeaders(sub, request, sub.requested);
        sub.digest.authorize(request);
        sub.initial = request;
        sub.destination = *hop;
        send(sub, std::move(request), *hop, TxKind::Initial);
    }

    // RFC 6665 §4.1.2.2 refresh, or §4.1.2.3 un-SUBSCRIBE (expires 0), in the dialog.
    void sendInDialog(Sub& sub, TxKind kind) {
        sip::Message request = sub.dialog->createRequest(sip::Method::Subscribe);
        addCommonHeaders(sub, request, kind == TxKind::Unsubscribe ? 0 : sub.requested);
        sub.digest.authorize(request);
        // Any refresh makes the notifier send full state (RFC 6665 §4.2.2).
        if (kind == TxKind::Refresh) sub.refreshWanted = false;
        send(sub, std::move(request), inDialogDestination(sub), kind);
    }

    // Where an in-dialog request goes: the outbound proxy when one is configured (it
    // keeps the flow, RFC 5626), else the first route or remote target when it names a
    // numeric address (RFC 3261 §12.2.1.1), else the account's next hop.
    transport::Endpoint inDialogDestination(const Sub& sub) const {
        if (routeValue.isEmpty() && sub.dialog) {
            const QByteArray uriText = sub.dialog->nextHopUri();
            QByteArrayView text = uriText;
            if (text.startsWith('<')) text = text.sliced(1, text.indexOf('>') - 1);
            if (auto uri = sip::Uri::parse(text); uri && uri->isSip()) {
                QHostAddress address;
                if (address.setAddress(QString::fromLatin1(uri->host))) {
                    transport::Protocol protocol = uri->scheme == sip::UriScheme::Sips
                                                       ? transport::Protocol::Tls
                                                       : options.transport;
                    if (auto named = transport::protocolFromName(uri->transportParam()))
                        protocol = *named;
                    return transport::Endpoint{
                        protocol, address, uri->port.value_or(transport::defaultPort(protocol))};
                }
            }
        }
        if (options.nextHop) {
            if (auto hop = options.nextHop()) return *hop;
        }
        return sub.destination;
    }

    void send(Sub& sub, sip::Message request, const transport::Endpoint& to, TxKind kind) {
        auto id = transactions.sendRequest(std::move(request), to, this);
        if (id) {
            sub.tx = *id;
            sub.txKind = kind;
            byTx[*id] = &sub;
            return;
        }
        // No transaction, so no callback will come: a transport error now.
        const QByteArray reason = "transport error: " + id.error().reason.toUtf8();
        transportFailure(sub, kind, reason);
    }

    // --- client transaction results -----------------------------------------------

    Sub* takeTx(TransactionId id) {
        auto it = byTx.find(id);
        if (it == byTx.end()) return nullptr;
        Sub* sub = it->second;
        byTx.erase(it);
        if (sub->tx != id) return nullptr;
        sub->tx = kNoTransaction;
        return sub;
    }

    void onFinal(TransactionId id, const sip::Message& response) override {
        if (response.statusCode() < 200) return;
        Sub* sub = takeTx(id);
        if (!sub) return;
        const TxKind kind = std::exchange(sub->txKind, TxKind::None);
        switch (kind) {
            case TxKind::Initial:
                initialAnswered(*sub, response);
                break;
            case TxKind::Refresh:
                refreshAnswered(*sub, response);
                break;
            case TxKind::Unsubscribe:
                unsubscribeAnswered(*sub, response);
                break;
            case TxKind::None:
                break;
        }
    }

    void onTimeout(TransactionId id) override {
        Sub* sub = takeTx(id);
        if (!sub) return;
        const TxKind kind = std::exchange(sub->txKind, TxKind::None);
        // RFC 3261 §8.1.3.1: Timer F counts as a 408.
        if (kind == TxKind::Initial && sub->phase == Phase::Ending) {
            endAfterInitial(*sub);
        } else if (kind == TxKind::Initial) {
            failed(*sub, 408, "408 Request Timeout", std::nullopt);
        } else if (kind == TxKind::Refresh) {
            // RFC 6665 §4.1.2.2: a refresh answered 408 ends the subscription.
            resubscribeNow(*sub, "408 on refresh", 408);
        } else if (kind == TxKind::Unsubscribe) {
            finishEnding(*sub);
        }
    }

    void onTransportError(TransactionId id, const Error& error) override {
        Sub* sub = takeTx(id);
        if (!sub) return;
        const TxKind kind = std::exchange(sub->txKind, TxKind::None);
        transportFailure(*sub, kind, "transport error: " + error.reason.toUtf8());
    }

    void transportFailure(Sub& sub, TxKind kind, const QByteArray& reason) {
        if (sub.phase == Phase::Ending) {
            if (kind == TxKind::Initial) {
                endAfterInitial(sub);
            } else {
                finishEnding(sub);
            }
            return;
        }
        if (kind == TxKind::Refresh) {
            resubscribeNow(sub, reason, 503);
        } else {
            failed(sub, 503, reason, std::nullopt);
        }
    }

    void initialAnswered(Sub& sub, const sip::Message& response) {
        const int code = response.statusCode();
        if (code < 300) {
            sub.digest.markAccepted();
            if (!sub.dialog) {
                auto created = dialog::Dialog::createUac(sub.initial, response);
                if (!created) {
                    failed(sub, code, "unusable 2xx: " + created.error().reason.toUtf8(),
                           std::nullopt);
                    return;
                }
                sub.dialog = std::move(*created);
            } else {
                sub.dialog->onResponse(response);
            }
            if (sub.phase == Phase::Ending) {
                // unsubscribe() while the SUBSCRIBE was in flight: end the dialog now.
                sendInDialog(sub, TxKind::Unsubscribe);
                return;
            }
            if (sub.phase != Phase::Subscribing && sub.phase != Phase::Established) return;
            sub.phase = Phase::Established;
            const quint32 granted = response.expires().value_or(sub.requested);
            scheduleRefresh(sub, granted);
            if (!sub.notified && sub.notifyTimer == base::kNoTimer) {
                sub.notifyTimer = timers.start(kNotifyWait, [this, s = &sub] {
                    s->notifyTimer = base::kNoTimer;
                    if (!s->notified && s->phase == Phase::Established)
                        failed(*s, 0, "no NOTIFY after the 2xx", std::nullopt);
                });
            }
            // A refetch asked for while this SUBSCRIBE was in flight (a NOTIFY that
            // overtook the 2xx needed full state): now the dialog can carry it.
            if (sub.refreshWanted) refreshNow(sub);
            return;
        }
        if (sub.phase == Phase::Ending) {
            endAfterInitial(sub);
            return;
        }
        if (code == 401 || code == 407) {
            // RFC 3261 §22.2: answer each challenge once; a second one means refused.
            auto answered = sub.digest.handleChallenge(response);
            if (answered) {
                sendInitial(sub);
            } else {
                failed(sub, code, reasonOf(response), response.retryAfter());
            }
            return;
        }
        if (code == 423) {
            // RFC 6665 §4.1.2.1 / RFC 3261 §10.2.8: ask again with at least Min-Expires.
            const std::optional<quint32> minimum = response.minExpires();
            if (minimum && *minimum > sub.requested && sub.intervalRetries < kMaxIntervalRetries) {
                sub.requested = *minimum;
                ++sub.intervalRetries;
                sendInitial(sub);
                return;
            }
        }
        if (sub.list && refusesEventList(code)) {
            qCInfo(lcUa) << "resource list" << sub.resource << "refused (" << code
                         << "); subscribing to each resource";
            fallBackToResources();
            return;
        }
        failed(sub, code, reasonOf(response), response.retryAfter());
    }

    void refreshAnswered(Sub& sub, const sip::Message& response) {
        const int code = response.statusCode();
        if (sub.dialog) sub.dialog->onResponse(response);
        if (code < 300) {
            sub.digest.markAccepted();
            if (sub.phase != Phase::Established) return;
            sub.intervalRetries = 0;
            // The subscription lived through a refresh: it is healthy again.
            sub.backoff.reset();
            sub.quickEnds = 0;
            const quint32 granted = response.expires().value_or(sub.requested);
            if (granted > 0) scheduleRefresh(sub, granted);
            if (sub.refreshWanted) refreshNow(sub);  // asked for while this one was in flight
            return;
        }
        if ((code == 401 || code == 407) && sub.digest.handleChallenge(response) && sub.dialog) {
            sendInDialog(sub, TxKind::Refresh);
            return;
        }
        if (code == 481 || code == 408) {
            // RFC 6665 §4.1.2.2: the subscription is gone; start a new one.
            resubscribeNow(sub, QByteArray::number(code) + " on refresh", code);
            return;
        }
        if (code == 423 && sub.dialog && sub.phase == Phase::Established) {
            // RFC 6665 §4.1.2.2 / RFC 3261 §10.2.8: refresh again with at least
            // Min-Expires, as for the initial SUBSCRIBE.
            const std::optional<quint32> minimum = response.minExpires();
            if (minimum && *minimum > sub.requested && sub.intervalRetries < kMaxIntervalRetries) {
                sub.requested = *minimum;
                ++sub.intervalRetries;
                sendInDialog(sub, TxKind::Refresh);
                return;
            }
        }
        if (endsSubscriptionOnRefresh(code) || code == 401 || code == 407 || !sub.dialog ||
            sub.phase != Phase::Established) {
            // RFC 6665 §4.1.2.2 (404, 405, 410, 416, 480-485, 489, 501, 604), or a challenge
            // we cannot answer: the subscription is over; a new one after the back-off.
            failed(sub, code, reasonOf(response) + " on refresh", response.retryAfter());
            return;
        }
        refreshFailed(sub, code, reasonOf(response) + " on refresh", response.retryAfter());
    }

    // RFC 6665 §4.1.2.2: a refresh that failed otherwise leaves the subscription valid
    // until the expiry last agreed. Try the refresh again after the back-off while that
    // is before the expiry; else wait for the expiry and then start a new subscription.
    void refreshFailed(Sub& sub, int code, QByteArray reason, std::optional<quint32> retryAfter) {
        if (sub.refreshTimer != base::kNoTimer) timers.cancel(sub.refreshTimer);
        sub.refreshTimer = base::kNoTimer;
        const base::Duration delay = sub.backoff.failed(
            retryAfter ? std::optional<base::Duration>(std::chrono::seconds(*retryAfter))
                       : std::nullopt);
        const base::TimePoint now = timers.now();
        if (now + delay < sub.expiresAt) {
            qCInfo(lcUa) << "refresh of" << sub.resource << "failed:" << reason
                         << "- still valid, refresh again in" << delay.count() << "ms";
            sub.refreshTimer = timers.start(delay, [this, s = &sub] {
                s->refreshTimer = base::kNoTimer;
                refreshNow(*s);
            });
            return;
        }
        const base::Duration left = std::max(base::Duration(0), sub.expiresAt - now);
        qCInfo(lcUa) << "refresh of" << sub.resource << "failed:" << reason
                     << "- a new subscription when it expires in" << left.count() << "ms";
        sub.refreshTimer =
            timers.start(left, [this, s = &sub, reason = std::move(reason), code]() mutable {
                s->refreshTimer = base::kNoTimer;
                if (s->phase == Phase::Established) resubscribeNow(*s, std::move(reason), code);
            });
    }

    void unsubscribeAnswered(Sub& sub, const sip::Message& response) {
        const int code = response.statusCode();
        if ((code == 401 || code == 407) && sub.digest.handleChallenge(response) && sub.dialog) {
            sendInDialog(sub, TxKind::Unsubscribe);
            return;
        }
        finishEnding(sub);
    }

    // --- timing ----------------------------------------------------------------------

    // RFC 6665 §4.1.2.2: refresh before expiry. A random point between 70 % and 90 % of
    // a long lifetime, between 40 % and 50 % of a short one, so that thousands of
    // subscriptions started together do not refresh together.
    base::Duration refreshDelay(quint32 expires) {
        const qint64 lifetimeMs = qint64(expires) * 1000;
        const bool isShort = expires <= 120;
        const qint64 low = isShort ? lifetimeMs * 4 / 10 : lifetimeMs * 7 / 10;
        const qint64 high = isShort ? lifetimeMs / 2 : lifetimeMs * 9 / 10;
        return base::Duration(low + qint64(random.bounded(quint64(high - low + 1))));
    }

    void scheduleRefresh(Sub& sub, quint32 expires) {
        if (sub.refreshTimer != base::kNoTimer) timers.cancel(sub.refreshTimer);
        sub.refreshTimer = base::kNoTimer;
        sub.expiresAt = timers.now() + std::chrono::seconds(expires);
        if (expires == 0) return;  // ends now: a terminated NOTIFY follows (§4.1.2.2)
        sub.refreshTimer = timers.start(refreshDelay(expires), [this, s = &sub] {
            s->refreshTimer = base::kNoTimer;
            refreshNow(*s);
        });
    }

    void refreshNow(Sub& sub) {
        if (sub.phase != Phase::Established || !sub.dialog) return;
        if (sub.tx != kNoTransaction) {
            // One transaction at a time in the dialog: send it when this one completes.
            sub.refreshWanted = true;
            return;
        }
        sendInDialog(sub, TxKind::Refresh);
    }

    void cancelTimers(Sub& sub) {
        for (base::TimerId* timer : {&sub.refreshTimer, &sub.retryTimer, &sub.notifyTimer}) {
            if (*timer != base::kNoTimer) timers.cancel(*timer);
            *timer = base::kNoTimer;
        }
    }

    // --- ending dialogs and failures ---------------------------------------------------

    void addTombstone(const QByteArray& callId) {
        pruneTombstones();
        const base::TimePoint until = timers.now() + kTombstoneLife;
        tombstones[callId] = until;
        tombstoneOrder.emplace_back(until, callId);
    }

    void pruneTombstones() {
        const base::TimePoint now = timers.now();
        while (!tombstoneOrder.empty() && tombstoneOrder.front().first <= now) {
            auto it = tombstones.find(tombstoneOrder.front().second);
            if (it != tombstones.end() && it->second <= now) tombstones.erase(it);
            tombstoneOrder.pop_front();
        }
    }

    // Forgets the current dialog (and any transaction of it); NOTIFYs still on their
    // way to it are answered 200 for a while.
    void endDialog(Sub& sub) {
        cancelTimers(sub);
        if (sub.tx != kNoTransaction) {
            byTx.erase(sub.tx);
            transactions.forget(sub.tx);
            sub.tx = kNoTransaction;
            sub.txKind = TxKind::None;
        }
        if (!sub.callId.isEmpty()) {
            auto it = byCallId.find(sub.callId);
            if (it != byCallId.end() && it->second == &sub) byCallId.erase(it);
            addTombstone(sub.callId);
            sub.callId.clear();
        }
        sub.dialog.reset();
        sub.notified = false;
        sub.refreshWanted = false;  // a new dialog starts with full state anyway
        sub.lastNotifyCSeq.reset();
    }

    // RFC 6665 §4.1.3 deactivated/timeout, 481/408 on refresh: a new subscription at
    // once (still paced, so a server restart does not bring them all back together).
    void resubscribeNow(Sub& sub, QByteArray reason, int code) {
        endDialog(sub);
        enqueue(sub, std::move(reason), code);
    }

    // A failure: Unavailable (refused) or Retrying, a new subscription after the
    // back-off or the server's Retry-After.
    void failed(Sub& sub, int code, QByteArray reason, std::optional<quint32> retryAfter,
                std::optional<State> forced = std::nullopt) {
        endDialog(sub);
        const State state = forced                  ? *forced
                            : refusesResource(code) ? State::Unavailable
                                                    : State::Retrying;
        const base::Duration delay = sub.backoff.failed(
            retryAfter ? std::optional<base::Duration>(std::chrono::seconds(*retryAfter))
                       : std::nullopt);
        waitAndRetry(sub, state, std::move(reason), code, delay);
    }

    void waitAndRetry(Sub& sub, State state, QByteArray reason, int code, base::Duration delay) {
        sub.phase = Phase::Waiting;
        qCInfo(lcUa) << "subscription to" << sub.resource << "ended:" << reason << "- again in"
                     << delay.count() << "ms";
        setStatus(sub, state, std::move(reason), code, delay);
        sub.retryTimer = timers.start(delay, [this, s = &sub] {
            s->retryTimer = base::kNoTimer;
            enqueue(*s, s->status.reason, s->status.statusCode);
        });
    }

    void terminated(Sub& sub, const sip::SubscriptionStateHeader& state) {
        const QByteArrayView reasonView = state.reason();
        const QByteArray reason = reasonView.toByteArray().toLower();
        const std::optional<quint32> retryAfter = state.retryAfter();
        if (reason == "deactivated" || reason == "timeout") {
            // RFC 6665 §4.1.3: re-subscribe at once, unless the server keeps ending new
            // subscriptions straight away: then it is not a one-off, so back off.
            const bool quick = timers.now() - sub.startedAt < kQuickEndWindow;
            sub.quickEnds = quick ? sub.quickEnds + 1 : 0;
            if (!quick) sub.backoff.reset();
            if (sub.quickEnds >= kMaxQuickEnds) {
                endDialog(sub);
                waitAndRetry(sub, State::Retrying, reason, 0, sub.backoff.failed());
            } else {
                resubscribeNow(sub, reason, 0);
            }
        } else if (reason == "probation" || reason == "giveup") {
            // §4.1.3: retry after retry-after, or later at our discretion (back-off).
            endDialog(sub);
            const base::Duration delay = retryAfter
                                             ? base::Duration(std::chrono::seconds(*retryAfter))
                                             : sub.backoff.failed();
            waitAndRetry(sub, State::Retrying, reason, 0, delay);
        } else if (reason == "rejected" || reason == "noresource" || reason == "invariant") {
            // §4.1.3: do not re-subscribe soon; shown as unavailable, tried again later.
            failed(sub, 0, reason, retryAfter, State::Unavailable);
        } else {
            // No or an unknown reason (§4.1.3: treated as none): after the back-off.
            failed(sub, 0, reason.isEmpty() ? QByteArray("terminated") : reason, retryAfter,
                   State::Retrying);
        }
    }

    // --- unsubscribing --------------------------------------------------------------

    // Takes a subscription out of the watched set and ends it gracefully (RFC 6665
    // §4.1.2.3): un-SUBSCRIBE in the dialog, or after the 2xx of a SUBSCRIBE in flight.
    void beginEnding(std::unique_ptr<Sub> owned) {
        Sub& sub = *owned;
        pacer.remove(sub.resource);
        cancelTimers(sub);
        if (sub.tx != kNoTransaction && sub.txKind == TxKind::Initial) {
            sub.phase = Phase::Ending;
            ending.push_back(std::move(owned));
            return;
        }
        if (sub.dialog && !sub.dialog->isTerminated()) {
            if (sub.tx != kNoTransaction) {
                byTx.erase(sub.tx);
                transactions.forget(sub.tx);
                sub.tx = kNoTransaction;
            }
            sub.phase = Phase::Ending;
            ending.push_back(std::move(owned));
            sendInDialog(sub, TxKind::Unsubscribe);
            return;
        }
        sub.phase = Phase::Ending;
        endDialog(sub);
        dispose(std::move(owned));
    }

    // The initial SUBSCRIBE of a subscription being ended failed or timed out. When a
    // NOTIFY formed the dialog meanwhile (RFC 6665 §4.1.2.4) the notifier holds a
    // subscription: end it with an un-SUBSCRIBE in that dialog (§4.1.2.3).
    void endAfterInitial(Sub& sub) {
        if (sub.dialog && !sub.dialog->isTerminated()) {
            sendInDialog(sub, TxKind::Unsubscribe);
            return;
        }
        finishEnding(sub);
    }

    void finishEnding(Sub& sub) {
        endDialog(sub);
        auto it = std::find_if(ending.begin(), ending.end(),
                               [&](const std::unique_ptr<Sub>& s) { return s.get() == &sub; });
        if (it != ending.end()) {
            std::unique_ptr<Sub> done = std::move(*it);
            ending.erase(it);
            dispose(std::move(done));
        }
        checkStopDone();
    }

    // Destroys a subscription that is no longer watched, or keeps it until the NOTIFY
    // being delivered is done with it: a handler may unsubscribe() or stopAll() from
    // onNotify (SubscriptionHandler), and handleNotify still uses the Sub afterwards.
    void dispose(std::unique_ptr<Sub> sub) {
        if (delivering > 0) graveyard.push_back(std::move(sub));
    }

    // Whether `sub` is still the watched subscription it was (not unsubscribed, not
    // replaced). Only for a Sub kept alive (during delivery, see dispose()).
    bool isWatched(const Sub& sub) const {
        if (&sub == listSub.get()) return true;
        auto it = subs.find(sub.resource);
        return it != subs.end() && it->second.get() == &sub;
    }

    void checkStopDone() {
        if (!stopDone || !ending.empty()) return;
        finishStop();
    }

    void finishStop() {
        if (stopTimer != base::kNoTimer) timers.cancel(stopTimer);
        stopTimer = base::kNoTimer;
        auto done = std::exchange(stopDone, nullptr);
        if (!done) return;
        // From the event loop, never from inside stopAll() or a transaction callback.
        timers.start(base::Duration(0), std::move(done));
    }

    // --- NOTIFY ------------------------------------------------------------------------

    void respond(TransactionId id, const sip::Message& request, int code, QByteArray reason = {}) {
        (void)transactions.sendResponse(id, sip::makeResponse(request, code, std::move(reason)));
    }

    bool handleNotify(TransactionId id, const sip::Message& request) {
        auto event = request.event();
        const bool ourPackage =
            event && event->package.compare(options.eventPackage, Qt::CaseInsensitive) == 0;
        auto to = request.to();
        const QByteArrayView toTag = to ? to->tag() : QByteArrayView();

        Sub* sub = nullptr;
        if (auto it = byCallId.find(request.callId()); it != byCallId.end()) {
            // RFC 6665 §4.1.2.4: our From tag is the NOTIFY's To tag.
            if (it->second->fromTag == toTag) sub = it->second;
        }
        if (!sub) {
            pruneTombstones();
            if (tombstones.find(request.callId()) != tombstones.end()) {
                // A dialog we ended a moment ago (its final NOTIFY, or one crossing our
                // un-SUBSCRIBE): acknowledge, deliver nothing.
                respond(id, request, ourPackage ? 200 : 489);
                return true;
            }
            if (!ourPackage) return false;  // someone else's event package
            respond(id, request, 481);      // RFC 6665 §4.1.3
            return true;
        }
        if (!ourPackage) {
            // RFC 6665 §8.2.1 / §4.1.3: a package we did not subscribe to.
            respond(id, request, 489);
            return true;
        }
        auto state = request.subscriptionState();
        if (!state) {
            respond(id, request, 400, "Missing or malformed Subscription-State");
            return true;
        }
        auto from = request.from();
        if (!from) {
            respond(id, request, 400, "Malformed From");
            return true;
        }
        if (sub->dialog) {
            if (sub->dialog->id().remoteTag != from->tag()) {
                // A second dialog from a forked SUBSCRIBE: we keep one (§4.1.2.4 allows
                // refusing the others).
                respond(id, request, 481);
                return true;
            }
        } else if (!createDialogFromNotify(*sub, request)) {
            respond(id, request, 400, "NOTIFY cannot form a dialog");
            return true;
        }
        if (!inSequence(*sub, request)) {
            respond(id, request, 500, "CSeq out of order");  // RFC 3261 §12.2.2
            return true;
        }
        if (sub->phase == Phase::Ending) {
            // unsubscribe() already forgot the resource: acknowledge only.
            respond(id, request, 200);
            return true;
        }
        sub->notified = true;

        // The handler may call back into the set from onNotify (unsubscribe, stopAll,
        // restartAll, subscribe): Subs ended meanwhile are kept alive until this returns,
        // and whether `sub` is still the same subscription is checked again below.
        struct Delivering {
            Impl& impl;
            explicit Delivering(Impl& i) : impl(i) { ++impl.delivering; }
            ~Delivering() {
                if (--impl.delivering == 0) impl.graveyard.clear();
            }
        } guard(*this);
        const QByteArray callId = sub->callId;
        const Phase phase = sub->phase;

        QString badReason;
        const NotifyVerdict verdict = deliver(*sub, request, &badReason);
        if (verdict == NotifyVerdict::BadBody) {
            QByteArray phrase = badReason.isEmpty() ? QByteArray("Bad Body") : badReason.toUtf8();
            phrase.replace('\r', ' ').replace('\n', ' ');
            respond(id, request, 400, std::move(phrase));
        } else {
            respond(id, request, 200);
        }
        // onNotify runs inside this call: a handler that unsubscribed there ended the
        // subscription (kept alive by dispose() or among the ending ones), and one that
        // called restartAll() gave it a new dialog: nothing more to do with this NOTIFY.
        if (sub->phase != phase || sub->callId != callId || !isWatched(*sub)) return true;

        const QByteArrayView stateName = state->state;
        if (stateName.compare("terminated", Qt::CaseInsensitive) == 0) {
            terminated(*sub, *state);
            return true;
        }
        const bool pending = stateName.compare("pending", Qt::CaseInsensitive) == 0;
        if (sub->notifyTimer != base::kNoTimer) {
            timers.cancel(sub->notifyTimer);
            sub->notifyTimer = base::kNoTimer;
        }
        if (sub->status.state != State::Active && sub->status.state != State::Pending &&
            sub->quickEnds == 0) {
            // Not while subscriptions keep ending at once: their back-off must grow.
            sub->backoff.reset();
        }
        setStatus(*sub, pending ? State::Pending : State::Active);
        // RFC 6665 §4.1.2.3 / §8.2.3: expires= is the time left. Reschedule only when the
        // notifier shortened the subscription (cheap on the usual NOTIFY).
        if (const std::optional<quint32> left = state->expires(); left && *left > 0) {
            const base::TimePoint end = timers.now() + std::chrono::seconds(*left);
            if (sub->refreshTimer == base::kNoTimer ||
                end + std::chrono::seconds(1) < sub->expiresAt) {
                if (sub->phase == Phase::Established || sub->phase == Phase::Subscribing)
                    scheduleRefresh(*sub, *left);
            }
        }
        if (verdict == NotifyVerdict::NeedFullState) {
            // RFC 4235 §4.1: a refresh makes the notifier send full state.
            refreshNow(*sub);
        }
        return true;
    }

    // RFC 3261 §12.2.2: a NOTIFY's CSeq must not go below the last one, and (NOTIFY being
    // a target refresh, RFC 6665 §4.1.2.4) its Contact replaces the remote target. The
    // dialog is only told when the Contact changed: its update copies the Contact, and
    // the usual NOTIFY repeats it, so this path allocates nothing.
    bool inSequence(Sub& sub, const sip::Message& request) {
        auto cseq = request.cseq();
        if (!cseq) return false;
        if (sub.lastNotifyCSeq && cseq->number < *sub.lastNotifyCSeq) return false;
        sub.lastNotifyCSeq = cseq->number;
        const QByteArrayView contact = request.header(sip::HeaderId::Contact);
        if (!contact.isEmpty() && !contact.contains(sub.dialog->remoteTarget()))
            (void)sub.dialog->onRequest(request);
        return true;
    }

    // RFC 6665 §4.1.2.4: a NOTIFY before the 2xx creates the dialog: our From tag is its
    // To tag, its From tag the remote one, its Contact the remote target, its
    // Record-Route the route set. Built as if the NOTIFY's header fields came in a 2xx.
    bool createDialogFromNotify(Sub& sub, const sip::Message& notify) {
        if (sub.initial.isResponse() || sub.initial.headers().isEmpty()) return false;
        sip::Message shaped = sip::Message::response(200);
        shaped.addHeader(sip::HeaderId::To, notify.header(sip::HeaderId::From).toByteArray());
        if (notify.has(sip::HeaderId::Contact))
            shaped.addHeader(sip::HeaderId::Contact,
                             notify.header(sip::HeaderId::Contact).toByteArray());
        // createUac reverses the 2xx's Record-Route; the NOTIFY's is used in order.
        const sip::ValueList routes = notify.values(sip::HeaderId::RecordRoute);
        for (qsizetype i = routes.size(); i > 0; --i)
            shaped.addHeader(sip::HeaderId::RecordRoute, routes[i - 1].toByteArray());
        auto created = dialog::Dialog::createUac(sub.initial, shaped);
        if (!created) return false;
        sub.dialog = std::move(*created);
        if (sub.phase == Phase::Subscribing) sub.phase = Phase::Established;
        return true;
    }

    NotifyVerdict deliver(Sub& sub, const sip::Message& request, QString* badReason) {
        const QByteArrayView contentType = request.header(sip::HeaderId::ContentType);
        if (!sub.list || !sip::isMultipart(contentType)) {
            // A copy: the handler may unsubscribe, and so end `sub`, while it runs.
            const QByteArray resource = sub.resource;
            return handler.onNotify(resource, contentType, request.body(), badReason);
        }
        return deliverList(request, contentType, badReason);
    }

    // --- RFC 4662 resource list -----------------------------------------------------

    struct Member {
        SubscriptionStatus status;
        bool listed = false;  // the list's RLMI named it
        quint64 seenIn = 0;   // the list NOTIFY that named it last
    };

    void setMemberStatus(const QByteArray& resource, Member& member, SubscriptionStatus next) {
        if (next.state == member.status.state && next.reason == member.status.reason &&
            next.statusCode == member.status.statusCode && next.retryIn == member.status.retryIn)
            return;
        member.status = std::move(next);
        report(resource, member.status);
    }

    // The list subscription changed: members follow it unless it is usable, in which
    // case each member's own RLMI state decides (Pending until it is known).
    void listStatusChanged(const SubscriptionStatus& list) {
        for (auto& [resource, member] : members) {
            if (list.usable()) {
                if (member.listed) continue;
                SubscriptionStatus pending;
                pending.state = State::Pending;
                setMemberStatus(resource, member, pending);
            } else {
                member.listed = false;
                setMemberStatus(resource, member, list);
            }
        }
    }

    NotifyVerdict deliverList(const sip::Message& request, QByteArrayView contentType,
                              QString* badReason) {
        auto split = sip::splitMultipart(contentType, request.body());
        if (!split) {
            *badReason = split.error().reason;
            return NotifyVerdict::BadBody;
        }
        const sip::MultipartPart* root = split->root();
        if (!root) {
            *badReason = QStringLiteral("list NOTIFY without parts");
            return NotifyVerdict::BadBody;
        }
        auto rlmi = dialoginfo::parseRlmi(root->body, rlmiLimits());
        ++listNotifyCount;
        if (!rlmi) {
            *badReason = QStringLiteral("RLMI: %1").arg(rlmi.error().reason);
            return NotifyVerdict::BadBody;
        }
        // The handler may unsubscribe() or stopAll() from onNotify, or subscribe() (which
        // may rehash): no reference or iterator into the member maps is held across it.
        // The name is copied and the member looked up again after every callback.
        NotifyVerdict verdict = NotifyVerdict::Accepted;
        const quint64 notifyNumber = listNotifyCount;
        for (const dialoginfo::RlmiResource& resource : rlmi->resources) {
            QByteArray name;
            if (auto key = memberByKey.find(resourceKey(resource.uri.toUtf8()));
                key != memberByKey.end()) {
                name = key->second;
            } else {
                continue;  // not (or no longer) watched
            }
            if (auto member = members.find(name); member != members.end()) {
                member->second.listed = true;
                member->second.seenIn = notifyNumber;
            } else {
                continue;
            }
            bool watched = true;
            SubscriptionStatus next;
            next.state = State::Pending;
            for (const dialoginfo::RlmiInstance& instance : resource.instances) {
                // RFC 4662 §5.2: the instance state; terminated carries a reason.
                if (instance.state == QLatin1String("active")) {
                    next.state = State::Active;
                } else if (instance.state == QLatin1String("terminated")) {
                    next.state = State::Unavailable;
                    next.reason = instance.reason.toUtf8();
                } else {
                    next.state = State::Pending;
                }
                if (instance.cid.isEmpty()) continue;
                const sip::MultipartPart* part = split->byContentId(instance.cid.toUtf8());
                if (!part) continue;
                QString partReason;
                const NotifyVerdict one =
                    handler.onNotify(name, part->contentType, part->body, &partReason);
                if (one == NotifyVerdict::BadBody && verdict != NotifyVerdict::BadBody) {
                    verdict = NotifyVerdict::BadBody;
                    *badReason = partReason;
                } else if (one == NotifyVerdict::NeedFullState &&
                           verdict == NotifyVerdict::Accepted) {
                    verdict = NotifyVerdict::NeedFullState;
                }
                if (!members.count(name)) {
                    watched = false;  // unsubscribed from inside onNotify
                    break;
                }
            }
            if (!watched) continue;
            if (auto member = members.find(name); member != members.end()) {
                // Again: the handler may have unsubscribed and re-subscribed it.
                member->second.listed = true;
                member->second.seenIn = notifyNumber;
                setMemberStatus(name, member->second, std::move(next));
            }
        }
        if (rlmi->fullState && listSub) {
            // RFC 4662 §5.2: a full-state list names every resource it has; the others
            // are not in the list at the server.
            for (auto& [name, member] : members) {
                if (member.seenIn == listNotifyCount) continue;
                member.listed = true;
                SubscriptionStatus absent;
                absent.state = State::Unavailable;
                absent.reason = "not in the resource list";
                setMemberStatus(name, member, absent);
            }
        }
        return verdict;
    }

    void addMember(const QByteArray& resource) {
        Member member;
        const QByteArray key = resourceKey(resource);
        memberByKey[key] = resource;
        memberKeys[resource] = key;
        auto [it, inserted] = members.emplace(resource, member);
        if (!inserted) return;
        if (!listSub) {
            listSub = std::make_unique<Sub>(*this, options.resourceListUri, true);
            enqueue(*listSub);
        }
        SubscriptionStatus initial = listSub->status;
        if (initial.usable()) {
            initial = {};
            initial.state = State::Pending;
        }
        it->second.status = initial;
        report(resource, it->second.status);
    }

    void removeMember(const QByteArray& resource) {
        auto it = members.find(resource);
        if (it == members.end()) return;
        members.erase(it);
        auto key = memberKeys.find(resource);
        if (key != memberKeys.end()) {
            memberByKey.erase(key->second);
            memberKeys.erase(key);
        }
        SubscriptionStatus gone;
        gone.state = State::Terminated;
        report(resource, gone);
    }

    // The server does not do lists: one subscription per resource from now on.
    void fallBackToResources() {
        listMode = false;
        if (listSub) {
            std::unique_ptr<Sub> list = std::move(listSub);
            pacer.remove(list->resource);
            endDialog(*list);
            dispose(std::move(list));
        }
        auto names = std::move(members);
        members.clear();
        memberByKey.clear();
        memberKeys.clear();
        for (auto& [resource, member] : names)
            addResource(resource);
    }

    void addResource(const QByteArray& resource) {
        auto [it, inserted] = subs.emplace(resource, nullptr);
        if (!inserted) return;
        it->second = std::make_unique<Sub>(*this, resource, false);
        // The first report says Queued even when the status compares equal.
        report(resource, it->second->status);
        enqueue(*it->second);
    }

    transaction::TransactionLayer& transactions;
    base::TimerQueue& timers;
    base::Random& random;
    SubscriptionOptions options;
    SubscriptionHandler& handler;
    SubscribePacer pacer;

    QByteArray routeValue;
    QByteArray fromValue;
    QByteArray contactUser;
    QByteArray authUser;

    ViewMap<std::unique_ptr<Sub>> subs;  // by resource URI
    std::vector<std::unique_ptr<Sub>> ending;
    ViewMap<Sub*> byCallId;
    std::unordered_map<TransactionId, Sub*> byTx;
    ViewMap<base::TimePoint> tombstones;  // Call-ID → until
    std::deque<std::pair<base::TimePoint, QByteArray>> tombstoneOrder;

    bool listMode = false;
    std::unique_ptr<Sub> listSub;
    quint64 listNotifyCount = 0;
    ViewMap<Member> members;          // resource → status (list mode)
    ViewMap<QByteArray> memberByKey;  // normalised key → resource
    ViewMap<QByteArray> memberKeys;   // resource → normalised key

    // NOTIFY deliveries in progress (handleNotify), and the Subs ended meanwhile, kept
    // alive until the delivery is over (dispose()).
    int delivering = 0;
    std::vector<std::unique_ptr<Sub>> graveyard;

    std::deque<std::pair<QByteArray, SubscriptionStatus>> pendingReports;
    base::TimerId reportTimer = base::kNoTimer;
    std::function<void()> stopDone;
    base::TimerId stopTimer = base::kNoTimer;
};

SubscriptionSet::SubscriptionSet(transaction::TransactionLayer& transactions,
                                 base::TimerQueue& timers, base::Random& random,
                                 SubscriptionOptions options, SubscriptionHandler& handler)
    : d(std::make_unique<Impl>(transactions, timers, random, std::move(options), handler)) {}

SubscriptionSet::~SubscriptionSet() = default;

void SubscriptionSet::subscribe(const QByteArray& resource) {
    if (resource.isEmpty()) return;
    if (d->listMode) {
        d->addMember(resource);
        return;
    }
    d->addResource(resource);
}

void SubscriptionSet::unsubscribe(const QByteArray& resource) {
    if (d->listMode) {
        d->removeMember(resource);
        return;
    }
    auto it = d->subs.find(resource);
    if (it == d->subs.end()) return;
    std::unique_ptr<Impl::Sub> sub = std::move(it->second);
    d->subs.erase(it);
    SubscriptionStatus gone;
    gone.state = State::Terminated;
    d->report(resource, gone);
    d->beginEnding(std::move(sub));
}

void SubscriptionSet::refetch(const QByteArray& resource) {
    if (d->listMode) {
        if (d->listSub && d->members.count(resource)) d->refreshNow(*d->listSub);
        return;
    }
    auto it = d->subs.find(resource);
    if (it != d->subs.end()) d->refreshNow(*it->second);
}

void SubscriptionSet::restartAll() {
    // The old next hop is gone: new dialogs through the new one, paced.
    auto restart = [this](Impl::Sub& sub) {
        if (sub.phase == Impl::Phase::Queued) return;
        d->resubscribeNow(sub, "restarted", 0);
    };
    if (d->listSub) restart(*d->listSub);
    for (auto& [resource, sub] : d->subs)
        restart(*sub);
}

void SubscriptionSet::stopAll(std::function<void()> done, base::Duration bound) {
    d->pacer.clear();
    if (d->listSub) d->beginEnding(std::move(d->listSub));
    std::vector<QByteArray> names;
    for (auto& [resource, member] : d->members)
        names.push_back(resource);
    for (const QByteArray& name : names)
        d->removeMember(name);
    auto subs = std::move(d->subs);
    d->subs.clear();
    for (auto& [resource, sub] : subs) {
        SubscriptionStatus gone;
        gone.state = State::Terminated;
        d->report(resource, gone);
        d->beginEnding(std::move(sub));
    }
    if (d->stopTimer != base::kNoTimer) d->timers.cancel(d->stopTimer);
    d->stopTimer = base::kNoTimer;
    if (auto earlier = std::move(d->stopDone)) {
        // A second stopAll() while the first still waits: both callers hear of the end.
        d->stopDone = [earlier = std::move(earlier), done = std::move(done)] {
            earlier();
            if (done) done();
        };
    } else {
        d->stopDone = std::move(done);
    }
    if (d->ending.empty()) {
        d->finishStop();
        return;
    }
    d->stopTimer = d->timers.start(bound, [this] {
        d->stopTimer = base::kNoTimer;
        d->finishStop();
    });
}

bool SubscriptionSet::handleRequest(transaction::TransactionId id,
                                    const transport::IncomingMessage& request) {
    if (request.message.method() != sip::Method::Notify) return false;
    return d->handleNotify(id, request.message);
}

std::optional<SubscriptionStatus> SubscriptionSet::status(const QByteArray& resource) const {
    if (d->listMode) {
        auto it = d->members.find(resource);
        if (it == d->members.end()) return std::nullopt;
        return it->second.status;
    }
    auto it = d->subs.find(resource);
    if (it == d->subs.end()) return std::nullopt;
    return it->second->status;
}

std::size_t SubscriptionSet::resourceCount() const {
    return d->listMode ? d->members.size() : d->subs.size();
}

std::size_t SubscriptionSet::activeCount() const {
    std::size_t count = 0;
    if (d->listMode) {
        for (const auto& [resource, member] : d->members)
            count += member.status.usable() ? 1 : 0;
        return count;
    }
    for (const auto& [resource, sub] : d->subs)
        count += sub->status.usable() ? 1 : 0;
    return count;
}

QByteArrayView subscriptionStateName(SubscriptionStatus::State state) {
    switch (state) {
        case State::Queued:
            return "queued";
        case State::Subscribing:
            return "subscribing";
        case State::Pending:
            return "pending";
        case State::Active:
            return "active";
        case State::Retrying:
            return "retrying";
        case State::Unavailable:
            return "unavailable";
        case State::Terminated:
            return "terminated";
    }
    return "queued";
}

}  // namespace sb::ua
