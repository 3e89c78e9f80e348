// The RFC 6665 dialog-event subscriber (SubscriptionSet) against a FakeTransport and a
// ManualClock: SUBSCRIBE contents, NOTIFY handling (before the 200, unmatched, wrong
// Event, verdicts), every Subscription-State reason, refresh failures, authentication,
// pacing, refresh spread, un-SUBSCRIBE, stopAll, and RFC 4662 resource lists.

#include <QTest>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <set>

#include "base/manual_clock.h"
#include "base/random.h"
#include "fake_transport.h"
#include "sip/message.h"
#include "sip/parser.h"
#include "transaction/transaction_layer.h"
#include "ua/subscribe_pacer.h"
#include "ua/subscription_set.h"

using namespace sb;
using namespace std::chrono_literals;
using sip::HeaderId;
using State = ua::SubscriptionStatus::State;
using test::FakeTransport;
using transport::Protocol;

namespace {

const QByteArray kR1 = "sip:201@example.com";
const QByteArray kR2 = "sip:202@example.com";
const QByteArray kList = "sip:board@example.com";
const QByteArray kNotifierTag = "n-tag";
const QByteArray kNotifierContact = "<sip:notifier@127.0.0.1:5070>";

transport::Endpoint proxy() {
    return FakeTransport::endpoint(Protocol::Udp, "127.0.0.1", 5070);
}

struct Delivered {
    QByteArray resource;
    QByteArray contentType;
    QByteArray body;
};

class RecordingHandler final : public ua::SubscriptionHandler {
public:
    void onStatus(const QByteArray& resource, const ua::SubscriptionStatus& status) override {
        statuses.emplace_back(resource, status);
        latest[resource] = status;
    }
    ua::NotifyVerdict onNotify(const QByteArray& resource, QByteArrayView contentType,
                               QByteArrayView body, QString* badReason) override {
        notifies.push_back({resource, contentType.toByteArray(), body.toByteArray()});
        if (during) {
            // The handler calls back into the set (SubscriptionHandler allows it), then
            // still reads its arguments: they must outlive what it did.
            during(resource);
            touchedAfter.push_back(resource + ' ' + contentType.toByteArray() + ' ' +
                                   body.toByteArray());
        }
        if (verdict == ua::NotifyVerdict::BadBody) *badReason = QStringLiteral("version gap");
        return verdict;
    }

    std::vector<std::pair<QByteArray, ua::SubscriptionStatus>> statuses;
    std::map<QByteArray, ua::SubscriptionStatus> latest;
    std::vector<Delivered> notifies;
    ua::NotifyVerdict verdict = ua::NotifyVerdict::Accepted;
    std::function<void(const QByteArray& resource)> during;  // inside onNotify
    std::vector<QByteArray> touchedAfter;
};

// The TU core: NOTIFYs go to the set, anything else gets 501.
class Router final : public transaction::ServerTransactionUser {
public:
    void onRequest(transaction::TransactionId id,
                   const transport::IncomingMessage& request) override {
        if (set && set->handleRequest(id, request)) return;
        ++unhandled;
        (void)layer->sendResponse(id, sip::makeResponse(request.message, 501));
    }
    ua::SubscriptionSet* set = nullptr;
    transaction::TransactionLayer* layer = nullptr;
    int unhandled = 0;
};

ua::SubscriptionOptions defaultOptions() {
    ua::SubscriptionOptions options;
    options.aor = "sip:operator@example.com";
    options.password = "s3cret";
    options.expires = 3600;
    options.nextHop = [] { return std::optional<transport::Endpoint>(proxy()); };
    options.localEndpointFor = [](const transport::Endpoint&) {
        return std::optional<transport::Endpoint>(
            FakeTransport::endpoint(Protocol::Udp, "127.0.0.1", 5060));
    };
    return options;
}

struct World {
    explicit World(ua::SubscriptionOptions options = defaultOptions(), quint64 seed = 7)
        : transport(&clock), random(seed), layer(transport, clock, random) {
        set = std::make_unique<ua::SubscriptionSet>(layer, clock, random, std::move(options),
                                                    handler);
        router.set = set.get();
        router.layer = &layer;
        layer.setServerUser(&router);
    }
    ~World() { layer.setServerUser(nullptr); }

    void settle() { clock.advance(0ms); }

    // Distinct SUBSCRIBEs (a retransmission repeats Call-ID and CSeq).
    std::vector<test::SentMessage> subscribes() const {
        std::vector<test::SentMessage> out;
        std::set<std::pair<QByteArray, quint32>> seen;
        for (const test::SentMessage& sent : transport.requests(sip::Method::Subscribe)) {
            if (seen.insert({sent.message.callId().toByteArray(), sent.message.cseq()->number})
                    .second)
                out.push_back(sent);
        }
        return out;
    }
    std::vector<test::SentMessage> subscribesTo(const QByteArray& resource) const {
        std::vector<test::SentMessage> out;
        for (const test::SentMessage& sent : subscribes()) {
            if (sent.message.to()->uri.text == resource) out.push_back(sent);
        }
        return out;
    }
    test::SentMessage lastSubscribe(const QByteArray& resource) const {
        auto all = subscribesTo(resource);
        return all.empty() ? test::SentMessage{} : all.back();
    }

    sip::Message okFor(const test::SentMessage& request, quint32 expires = 3600) const {
        sip::Message response = sip::makeResponse(request.message, 200, {}, kNotifierTag);
        response.addHeader(HeaderId::Contact, kNotifierContact);
        response.addHeader(HeaderId::Expires, QByteArray::number(expires));
        return response;
    }
    void ok(const test::SentMessage& request, quint32 expires = 3600) {
        QVERIFY(transport.answer(request, okFor(request, expires)));
    }
    void reply(const test::SentMessage& request, int code, QByteArray extraName = {},
               QByteArray extraValue = {}) {
        sip::Message response = sip::makeResponse(request.message, code, {}, kNotifierTag);
        if (!extraName.isEmpty()) response.addHeader(extraName, extraValue);
        QVERIFY(transport.answer(request, response));
    }

    // A NOTIFY in the dialog that `subscribe` forms; returns the answer's status code.
    int notify(const test::SentMessage& subscribe, QByteArray state, QByteArray body = {},
               QByteArray contentType = "application/dialog-info+xml", QByteArray event = "dialog",
               QByteArray toTag = {}) {
        const sip::Message& s = subscribe.message;
        sip::Message n = sip::Message::request(sip::Method::Notify, "sip:operator@127.0.0.1:5060");
        n.addHeader(HeaderId::Via,
                    "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKn" + QByteArray::number(++branch));
        n.addHeader(HeaderId::MaxForwards, "70");
        n.addHeader(HeaderId::From, s.header(HeaderId::To).toByteArray() + ";tag=" + kNotifierTag);
        n.addHeader(HeaderId::To, toTag.isEmpty() ? s.header(HeaderId::From).toByteArray()
                                                  : "<sip:operator@example.com>;tag=" + toTag);
        n.addHeader(HeaderId::CallId, s.callId().toByteArray());
        n.addHeader(HeaderId::CSeq, QByteArray::number(++notifyCSeq) + " NOTIFY");
        n.addHeader(HeaderId::Contact, kNotifierContact);
        if (!event.isEmpty()) n.addHeader(HeaderId::Event, event);
        n.addHeader(HeaderId::SubscriptionState, state);
        if (!body.isEmpty()) n.setBody(contentType, body);
        const std::size_t before = transport.responses().size();
        if (!inject(n)) return -1;
        const auto responses = transport.responses();
        if (responses.size() == before) return 0;
        lastNotifyResponse = responses.back().message;
        return responses.back().statusCode();
    }

    // As from the network. A message over the parser's default limit (64 KB, a large
    // RFC 4662 list NOTIFY over TCP) is parsed with a larger one.
    bool inject(const sip::Message& message) {
        const QByteArray bytes = message.serialize();
        if (bytes.size() < 60 * 1024) return bool(transport.inject(message, proxy()));
        sip::ParseLimits limits;
        limits.maxMessageSize = 8 * 1024 * 1024;
        auto parsed = sip::Parser::parse(bytes, limits);
        if (!parsed) return false;
        transport::IncomingMessage incoming;
        incoming.message = std::move(*parsed);
        incoming.source = proxy();
        incoming.local = *transport.localEndpoint(Protocol::Udp);
        transport.injectIncoming(std::move(incoming));
        return true;
    }

    // Initial SUBSCRIBEs (no To tag) sent to `resource`.
    std::size_t initialsTo(const QByteArray& resource) const {
        std::size_t count = 0;
        for (const test::SentMessage& sent : subscribesTo(resource))
            count += sent.message.to()->tag().isEmpty() ? 1 : 0;
        return count;
    }

    // Subscribes `resource` and brings it to Active: 200, then NOTIFY active.
    test::SentMessage activate(const QByteArray& resource) {
        set->subscribe(resource);
        settle();
        for (int i = 0; i < 100 && subscribesTo(resource).empty(); ++i)
            clock.advance(5ms);  // its turn in the pacing
        const test::SentMessage sent = lastSubscribe(resource);
        ok(sent);
        notify(sent, "active;expires=3600", "<dialog-info/>");
        settle();
        return sent;
    }

    base::ManualClock clock;
    FakeTransport transport;
    base::SeededRandom random;
    transaction::TransactionLayer layer;
    RecordingHandler handler;
    Router router;
    std::unique_ptr<ua::SubscriptionSet> set;
    int branch = 0;
    quint32 notifyCSeq = 0;
    sip::Message lastNotifyResponse;
};

// An RFC 4662 list NOTIFY body: RLMI naming `resources` (all active), each with a
// dialog-info part "<doc{n}/>" when `withParts`.
const QByteArray kListType =
    "multipart/related;type=\"application/rlmi+xml\";start=\"<root@example.com>\";"
    "boundary=\"bnd\"";

QByteArray listBody(const std::vector<QByteArray>& resources, bool withParts = true,
                    bool fullState = true) {
    QByteArray rlmi =
        "<list xmlns=\"urn:ietf:params:xml:ns:rlmi\" uri=\"sip:board@example.com\" "
        "version=\"0\" fullState=\"" +
        QByteArray(fullState ? "true" : "false") + "\">\r\n";
    QByteArray parts;
    for (std::size_t i = 0; i < resources.size(); ++i) {
        const QByteArray n = QByteArray::number(qulonglong(i));
        rlmi +=
            "<resource uri=\"" + resources[i] + "\"><instance id=\"i" + n + "\" state=\"active\"" +
            (withParts ? " cid=\"p" + n + "@example.com\"" : QByteArray()) + "/></resource>\r\n";
        if (withParts)
            parts += "--bnd\r\nContent-ID: <p" + n +
                     "@example.com>\r\nContent-Type: application/dialog-info+xml\r\n\r\n<doc" + n +
                     "/>\r\n";
    }
    rlmi += "</list>\r\n";
    return "--bnd\r\nContent-ID: <root@example.com>\r\n"
           "Content-Type: application/rlmi+xml\r\n\r\n" +
           rlmi + "\r\n" + parts + "--bnd--\r\n";
}

ua::SubscriptionOptions listOptions() {
    ua::SubscriptionOptions options = defaultOptions();
    options.resourceListUri = kList;
    return options;
}

State stateOf(World& w, const QByteArray& resource) {
    auto status = w.set->status(resource);
    return status ? status->state : State::Terminated;
}

}  // namespace

class TestSubscriptionSet : public QObject {
    Q_OBJECT

private slots:
    void subscribeContents() {
        ua::SubscriptionOptions options = defaultOptions();
        options.outboundProxyUri = "sip:127.0.0.1:5070";
        options.userAgent = "Switchboard/test";
        options.displayName = QStringLiteral("Reception");
        World w(options);
        w.set->subscribe(kR1);
        QCOMPARE(stateOf(w, kR1), State::Queued);
        QCOMPARE(w.subscribes().size(), std::size_t(0));  // paced: from the event loop
        w.settle();
        QCOMPARE(w.subscribes().size(), std::size_t(1));
        const test::SentMessage sent = w.lastSubscribe(kR1);
        const sip::Message& m = sent.message;
        QCOMPARE(sent.destination, proxy());
        QCOMPARE(m.requestUri(), QByteArrayView(kR1));
        QCOMPARE(m.header(HeaderId::Route), QByteArrayView("<sip:127.0.0.1:5070;lr>"));
        QCOMPARE(m.event()->package, QByteArrayView("dialog"));
        QCOMPARE(m.header(HeaderId::Accept), QByteArrayView("application/dialog-info+xml"));
        QCOMPARE(m.expires(), std::optional<quint32>(3600));
        QCOMPARE(m.to()->uri.text, QByteArrayView(kR1));
        QVERIFY(m.to()->tag().isEmpty());
        QCOMPARE(m.from()->uri.text, QByteArrayView("sip:operator@example.com"));
        QVERIFY(!m.from()->tag().isEmpty());
        QCOMPARE(m.from()->displayName(), QStringLiteral("Reception"));
        QCOMPARE(m.contacts()->entries.front().uriText,
                 QByteArrayView("sip:operator@127.0.0.1:5060"));
        QCOMPARE(m.header(HeaderId::UserAgent), QByteArrayView("Switchboard/test"));
        QVERIFY(!m.has(HeaderId::Require));
        QVERIFY(m.validate());
        QCOMPARE(stateOf(w, kR1), State::Subscribing);
        QCOMPARE(w.handler.latest[kR1].state, State::Subscribing);
        // Subscribing twice does nothing.
        w.set->subscribe(kR1);
        w.settle();
        QCOMPARE(w.subscribes().size(), std::size_t(1));
        QCOMPARE(w.set->resourceCount(), std::size_t(1));
    }

    void activeAfterOkAndNotify() {
        World w;
        w.set->subscribe(kR1);
        w.settle();
        const test::SentMessage sent = w.lastSubscribe(kR1);
        w.ok(sent);
        w.settle();
        QCOMPARE(stateOf(w, kR1), State::Subscribing);  // state comes with the NOTIFY
        QCOMPARE(w.notify(sent, "pending;expires=3600"), 200);
        w.settle();
        QCOMPARE(stateOf(w, kR1), State::Pending);
        QCOMPARE(w.notify(sent, "active;expires=3599", "<dialog-info/>"), 200);
        QCOMPARE(w.handler.latest.count(kR1), std::size_t(1));
        // Reports come from the event loop, not from inside handleRequest.
        QCOMPARE(w.handler.latest[kR1].state, State::Pending);
        w.settle();
        QCOMPARE(w.handler.latest[kR1].state, State::Active);
        QCOMPARE(w.set->activeCount(), std::size_t(1));
        QCOMPARE(w.handler.notifies.size(), std::size_t(2));
        QCOMPARE(w.handler.notifies.back().resource, kR1);
        QCOMPARE(w.handler.notifies.back().body, QByteArray("<dialog-info/>"));
        QCOMPARE(w.handler.notifies.back().contentType, QByteArray("application/dialog-info+xml"));
        QCOMPARE(w.handler.notifies.front().body, QByteArray());  // empty body delivered
    }

    void notifyBeforeOk() {
        World w;
        w.set->subscribe(kR1);
        w.settle();
        const test::SentMessage sent = w.lastSubscribe(kR1);
        // RFC 6665 §4.1.2.4: the NOTIFY overtakes the 200.
        QCOMPARE(w.notify(sent, "active;expires=600", "<early/>"), 200);
        w.settle();
        QCOMPARE(stateOf(w, kR1), State::Active);
        QCOMPARE(w.handler.notifies.size(), std::size_t(1));
        QCOMPARE(w.handler.notifies[0].body, QByteArray("<early/>"));
        w.ok(sent, 600);
        w.settle();
        QCOMPARE(stateOf(w, kR1), State::Active);
        // The refresh goes in the dialog the NOTIFY formed.
        w.clock.advance(600s);
        const auto all = w.subscribesTo(kR1);
        QVERIFY(all.size() >= 2);
        const sip::Message& refresh = all[1].message;
        QCOMPARE(refresh.callId(), sent.message.callId());
        QCOMPARE(refresh.to()->tag(), QByteArrayView(kNotifierTag));
        QCOMPARE(refresh.from()->tag(), sent.message.from()->tag());
        QVERIFY(refresh.cseq()->number > sent.message.cseq()->number);
        QCOMPARE(refresh.requestUri(), QByteArrayView("sip:notifier@127.0.0.1:5070"));
        QCOMPARE(all[1].destination, proxy());
    }

    void unmatchedNotifyGets481() {
        World w;
        const test::SentMessage sent = w.activate(kR1);
        // Another Call-ID.
        test::SentMessage other = sent;
        other.message.setHeader(HeaderId::CallId, "unknown-call-id");
        QCOMPARE(w.notify(other, "active"), 481);
        // Our Call-ID but another To tag.
        QCOMPARE(w.notify(sent, "active", {}, {}, "dialog", "not-ours"), 481);
        QCOMPARE(w.handler.notifies.size(), std::size_t(1));
        // A NOTIFY of another package matching nothing is not ours to answer.
        QCOMPARE(w.notify(other, "active", {}, {}, "message-summary"), 501);
        QCOMPARE(w.router.unhandled, 1);
    }

    void wrongEventGets489() {
        World w;
        const test::SentMessage sent = w.activate(kR1);
        QCOMPARE(w.notify(sent, "active", {}, {}, "presence"), 489);
        QCOMPARE(w.notify(sent, "active", {}, {}, QByteArray()), 489);
        QCOMPARE(w.handler.notifies.size(), std::size_t(1));
        QCOMPARE(stateOf(w, kR1), State::Active);
    }

    void verdicts() {
        World w;
        const test::SentMessage sent = w.activate(kR1);
        const std::size_t before = w.subscribesTo(kR1).size();
        w.handler.verdict = ua::NotifyVerdict::NeedFullState;
        QCOMPARE(w.notify(sent, "active;expires=3000", "<partial/>"), 200);
        // RFC 4235 §4.1: a refresh in the dialog fetches full state.
        auto all = w.subscribesTo(kR1);
        QCOMPARE(all.size(), before + 1);
        QCOMPARE(all.back().message.callId(), sent.message.callId());
        QCOMPARE(all.back().message.to()->tag(), QByteArrayView(kNotifierTag));
        QCOMPARE(all.back().message.expires(), std::optional<quint32>(3600));
        w.ok(all.back());
        w.handler.verdict = ua::NotifyVerdict::BadBody;
        QCOMPARE(w.notify(sent, "active", "garbage"), 400);
        QCOMPARE(w.lastNotifyResponse.reasonPhrase(), QByteArrayView("version gap"));
        w.settle();
        QCOMPARE(stateOf(w, kR1), State::Active);  // kept
    }

    void notifyOrderAndTarget() {
        World w;
        const test::SentMessage sent = w.activate(kR1);
        w.notifyCSeq = 9;  // CSeq 10: a gap is fine
        QCOMPARE(w.notify(sent, "active"), 200);
        const quint32 current = w.notifyCSeq;
        w.notifyCSeq = 0;  // CSeq 1 after a higher one: out of order (RFC 3261 §12.2.2)
        QCOMPARE(w.notify(sent, "active", "<old/>"), 500);
        QVERIFY(w.handler.notifies.back().body != "<old/>");
        // A NOTIFY is a target refresh: its new Contact is where the refresh goes.
        w.notifyCSeq = current + 5;
        sip::Message n = sip::Message::request(sip::Method::Notify, "sip:operator@127.0.0.1:5060");
        n.addHeader(HeaderId::Via, "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKmoved");
        n.addHeader(HeaderId::From,
                    sent.message.header(HeaderId::To).toByteArray() + ";tag=" + kNotifierTag);
        n.addHeader(HeaderId::To, sent.message.header(HeaderId::From).toByteArray());
        n.addHeader(HeaderId::CallId, sent.message.callId().toByteArray());
        n.addHeader(HeaderId::CSeq, "100 NOTIFY");
        n.addHeader(HeaderId::Contact, "<sip:moved@127.0.0.9:5080>");
        n.addHeader(HeaderId::Event, "dialog");
        n.addHeader(HeaderId::SubscriptionState, "active");
        QVERIFY(w.transport.inject(n, proxy()));
        QCOMPARE(w.transport.lastResponse()->statusCode(), 200);
        w.set->refetch(kR1);
        const test::SentMessage refresh = w.lastSubscribe(kR1);
        QCOMPARE(refresh.message.requestUri(), QByteArrayView("sip:moved@127.0.0.9:5080"));
        QCOMPARE(refresh.destination, FakeTransport::endpoint(Protocol::Udp, "127.0.0.9", 5080));
    }

    void terminatedReasons_data() {
        QTest::addColumn<QByteArray>("state");
        QTest::addColumn<int>("expected");
        QTest::addColumn<qint64>("minWaitMs");  // no new SUBSCRIBE before
        QTest::addColumn<qint64>("maxWaitMs");  // a new SUBSCRIBE by then
        QTest::newRow("deactivated") << QByteArray("terminated;reason=deactivated")
                                     << int(State::Queued) << qint64(0) << qint64(100);
        QTest::newRow("timeout") << QByteArray("terminated;reason=timeout") << int(State::Queued)
                                 << qint64(0) << qint64(100);
        QTest::newRow("probation retry-after")
            << QByteArray("terminated;reason=probation;retry-after=20") << int(State::Retrying)
            << qint64(19'000) << qint64(20'100);
        QTest::newRow("giveup retry-after")
            << QByteArray("terminated;reason=giveup;retry-after=45") << int(State::Retrying)
            << qint64(44'000) << qint64(45'100);
        QTest::newRow("giveup back-off")
            << QByteArray("terminated;reason=giveup") << int(State::Retrying) << qint64(14'000)
            << qint64(30'100);
        QTest::newRow("rejected") << QByteArray("terminated;reason=rejected")
                                  << int(State::Unavailable) << qint64(14'000) << qint64(30'100);
        QTest::newRow("noresource") << QByteArray("terminated;reason=noresource")
                                    << int(State::Unavailable) << qint64(14'000) << qint64(30'100);
        QTest::newRow("invariant") << QByteArray("terminated;reason=invariant")
                                   << int(State::Unavailable) << qint64(14'000) << qint64(30'100);
        QTest::newRow("no reason")
            << QByteArray("terminated") << int(State::Retrying) << qint64(14'000) << qint64(30'100);
    }

    void terminatedReasons() {
        QFETCH(QByteArray, state);
        QFETCH(int, expected);
        QFETCH(qint64, minWaitMs);
        QFETCH(qint64, maxWaitMs);
        World w;
        const test::SentMessage sent = w.activate(kR1);
        QCOMPARE(w.notify(sent, state, "<final/>"), 200);
        QCOMPARE(w.handler.notifies.back().body, QByteArray("<final/>"));  // still delivered
        QCOMPARE(int(stateOf(w, kR1)), expected);
        const ua::SubscriptionStatus status = *w.set->status(kR1);
        const QByteArray reason = state.contains("reason=")
                                      ? state.mid(state.indexOf("reason=") + 7).split(';').front()
                                      : QByteArray("terminated");
        QCOMPARE(status.reason, reason);
        QVERIFY(!status.usable());
        if (expected != int(State::Queued)) {
            QVERIFY(status.retryIn);
            QVERIFY(status.retryIn->count() >= minWaitMs && status.retryIn->count() <= maxWaitMs);
        }
        w.settle();
        QCOMPARE(int(w.handler.latest[kR1].state), expected);
        // A late NOTIFY in the ended dialog gets 200, not 481.
        QCOMPARE(w.notify(sent, "terminated"), 200);

        const std::size_t before = w.subscribesTo(kR1).size();
        if (minWaitMs > 0) {
            w.clock.advance(base::Duration(minWaitMs));
            QCOMPARE(w.subscribesTo(kR1).size(), before);
        }
        w.clock.advance(base::Duration(maxWaitMs - minWaitMs));
        QCOMPARE(w.subscribesTo(kR1).size(), before + 1);
        // A new subscription: new dialog.
        const test::SentMessage again = w.lastSubscribe(kR1);
        QVERIFY(again.message.callId() != sent.message.callId());
        QVERIFY(again.message.to()->tag().isEmpty());
        QCOMPARE(stateOf(w, kR1), State::Subscribing);
    }

    void refreshAnswered481Or408_data() {
        QTest::addColumn<int>("code");
        QTest::newRow("481") << 481;
        QTest::newRow("408") << 408;
        QTest::newRow("timeout") << 0;
    }

    void refreshAnswered481Or408() {
        QFETCH(int, code);
        World w;
        const test::SentMessage sent = w.activate(kR1);
        w.set->refetch(kR1);
        auto all = w.subscribesTo(kR1);
        QCOMPARE(all.size(), std::size_t(2));
        const test::SentMessage refresh = all.back();
        QCOMPARE(refresh.message.callId(), sent.message.callId());
        if (code != 0) {
            w.reply(refresh, code);
            w.clock.advance(100ms);
        } else {
            w.clock.advance(33s);  // Timer F
        }
        all = w.subscribesTo(kR1);
        QCOMPARE(all.size(), std::size_t(3));
        QVERIFY(all.back().message.callId() != sent.message.callId());
        QVERIFY(all.back().message.to()->tag().isEmpty());
        // Reported as queued for a new subscription, with what ended the old one.
        const QByteArray expectedReason = code == 481 ? "481 on refresh" : "408 on refresh";
        w.settle();
        QVERIFY(
            std::any_of(w.handler.statuses.begin(), w.handler.statuses.end(), [&](const auto& s) {
                return s.first == kR1 && s.second.state == State::Queued &&
                       s.second.reason == expectedReason;
            }));
    }

    void refreshBeforeExpiry() {
        World w;
        const test::SentMessage sent = w.activate(kR1);
        const base::TimePoint start = w.clock.now();
        // Expires from the 200 (3600 s): the refresh comes between 70 % and 90 %.
        w.clock.advance(2519s);
        QCOMPARE(w.subscribesTo(kR1).size(), std::size_t(1));
        for (int i = 0; i < 730 && w.subscribesTo(kR1).size() == 1; ++i)
            w.clock.advance(1s);
        QCOMPARE(w.subscribesTo(kR1).size(), std::size_t(2));
        QVERIFY(w.clock.now() - start <= 3241s);
        const test::SentMessage refresh = w.lastSubscribe(kR1);
        QCOMPARE(refresh.message.expires(), std::optional<quint32>(3600));
        w.ok(refresh, 120);
        // Granted 120 s now: refreshed within half of it.
        w.clock.advance(61s);
        QCOMPARE(w.subscribesTo(kR1).size(), std::size_t(3));
        // A NOTIFY that shortens the subscription brings the refresh forward.
        w.ok(w.lastSubscribe(kR1), 3600);
        QCOMPARE(w.notify(sent, "active;expires=10"), 200);
        w.clock.advance(6s);
        QCOMPARE(w.subscribesTo(kR1).size(), std::size_t(4));
    }

    void initialFailures_data() {
        QTest::addColumn<int>("code");
        QTest::addColumn<QByteArray>("retryAfter");
        QTest::addColumn<int>("expected");
        QTest::addColumn<qint64>("minWaitMs");
        QTest::newRow("404") << 404 << QByteArray() << int(State::Unavailable) << qint64(15'000);
        QTest::newRow("403") << 403 << QByteArray() << int(State::Unavailable) << qint64(15'000);
        QTest::newRow("489") << 489 << QByteArray() << int(State::Unavailable) << qint64(15'000);
        QTest::newRow("503 retry-after")
            << 503 << QByteArray("120") << int(State::Retrying) << qint64(120'000);
        QTest::newRow("500") << 500 << QByteArray() << int(State::Retrying) << qint64(15'000);
        QTest::newRow("timeout") << 0 << QByteArray() << int(State::Retrying) << qint64(15'000);
    }

    void initialFailures() {
        QFETCH(int, code);
        QFETCH(QByteArray, retryAfter);
        QFETCH(int, expected);
        QFETCH(qint64, minWaitMs);
        World w;
        w.set->subscribe(kR1);
        w.settle();
        const test::SentMessage sent = w.lastSubscribe(kR1);
        if (code == 0) {
            w.clock.advance(32s);
        } else {
            w.reply(sent, code, retryAfter.isEmpty() ? QByteArray() : QByteArray("Retry-After"),
                    retryAfter);
        }
        const ua::SubscriptionStatus status = *w.set->status(kR1);
        QCOMPARE(int(status.state), expected);
        QCOMPARE(status.statusCode, code == 0 ? 408 : code);
        QVERIFY(status.retryIn && status.retryIn->count() >= minWaitMs);
        QVERIFY(!status.reason.isEmpty());
        w.clock.advance(*status.retryIn - 1ms);
        QCOMPARE(w.subscribesTo(kR1).size(), std::size_t(1));
        w.clock.advance(100ms);
        QCOMPARE(w.subscribesTo(kR1).size(), std::size_t(2));
    }

    void transportErrorRetries() {
        World w;
        w.transport.failNextSends(1);
        w.set->subscribe(kR1);
        w.settle();
        QCOMPARE(stateOf(w, kR1), State::Retrying);
        QVERIFY(w.set->status(kR1)->reason.contains("transport error"));
    }

    void authChallengeAnsweredOnce() {
        World w;
        w.set->subscribe(kR1);
        w.settle();
        const test::SentMessage first = w.lastSubscribe(kR1);
        w.reply(first, 407, "Proxy-Authenticate",
                "Digest realm=\"example.com\", nonce=\"abc\", qop=\"auth\"");
        auto all = w.subscribesTo(kR1);
        QCOMPARE(all.size(), std::size_t(2));
        const sip::Message& second = all.back().message;
        QCOMPARE(second.callId(), first.message.callId());
        QCOMPARE(second.cseq()->number, first.message.cseq()->number + 1);
        QVERIFY(second.header(HeaderId::ProxyAuthorization).contains("username=\"operator\""));
        QVERIFY(
            second.header(HeaderId::ProxyAuthorization).contains("uri=\"sip:201@example.com\""));
        // The same realm again: the credentials were refused.
        w.reply(all.back(), 407, "Proxy-Authenticate",
                "Digest realm=\"example.com\", nonce=\"def\", qop=\"auth\"");
        QCOMPARE(w.subscribesTo(kR1).size(), std::size_t(2));
        QCOMPARE(stateOf(w, kR1), State::Unavailable);
        QCOMPARE(w.set->status(kR1)->statusCode, 407);
    }

    void authOnRefresh() {
        World w;
        w.activate(kR1);
        w.set->refetch(kR1);
        const test::SentMessage refresh = w.lastSubscribe(kR1);
        w.reply(refresh, 401, "WWW-Authenticate", "Digest realm=\"example.com\", nonce=\"n1\"");
        auto all = w.subscribesTo(kR1);
        QCOMPARE(all.size(), std::size_t(3));
        QVERIFY(all.back().message.has(HeaderId::Authorization));
        QCOMPARE(all.back().message.to()->tag(), QByteArrayView(kNotifierTag));
    }

    void pacing() {
        World w;  // default 50/s
        for (int i = 0; i < 200; ++i)
            w.set->subscribe("sip:" + QByteArray::number(1000 + i) + "@example.com");
        QCOMPARE(w.set->resourceCount(), std::size_t(200));
        w.settle();
        QVERIFY(w.subscribes().size() <= 2);
        w.clock.advance(1s);
        const std::size_t afterOne = w.subscribes().size();
        QVERIFY2(afterOne >= 45 && afterOne <= 55, qPrintable(QString::number(afterOne)));
        int queued = 0;
        for (const auto& [resource, status] : w.handler.latest)
            queued += status.state == State::Queued ? 1 : 0;
        QCOMPARE(std::size_t(queued), 200 - afterOne);
        // Unsubscribing a queued resource just drops it.
        w.set->unsubscribe("sip:1199@example.com");
        w.clock.advance(10s);
        QCOMPARE(w.subscribes().size(), std::size_t(199));
        QCOMPARE(w.subscribesTo("sip:1199@example.com").size(), std::size_t(0));
    }

    void refreshesSpreadOut() {
        ua::SubscriptionOptions options = defaultOptions();
        options.subscribeRate = 0;  // unpaced: all start together
        World w(options);
        std::vector<QByteArray> resources;
        for (int i = 0; i < 100; ++i)
            resources.push_back("sip:" + QByteArray::number(2000 + i) + "@example.com");
        for (const QByteArray& r : resources)
            w.set->subscribe(r);
        w.settle();
        const base::TimePoint start = w.clock.now();
        for (const test::SentMessage& sent : w.subscribes()) {
            w.ok(sent);
            w.notify(sent, "active");
        }
        // The notifier answers every refresh.
        w.transport.setPeer([&w](const test::SentMessage& sent) {
            if (sent.isRequest() && sent.method() == sip::Method::Subscribe)
                (void)w.transport.injectAfter(10ms, w.okFor(sent), proxy());
        });
        w.clock.advance(3300s);
        std::set<qint64> refreshAt;
        for (const test::SentMessage& sent : w.subscribes()) {
            if (sent.message.to()->tag().isEmpty()) continue;
            const qint64 offset = (sent.at - start).count();
            QVERIFY(offset >= 2'520'000 && offset <= 3'240'000);
            refreshAt.insert(offset);
        }
        QCOMPARE(w.subscribes().size(), std::size_t(200));
        QVERIFY(refreshAt.size() > 50);  // not all together
    }

    void unsubscribeSendsExpiresZero() {
        World w;
        const test::SentMessage sent = w.activate(kR1);
        w.set->unsubscribe(kR1);
        QCOMPARE(w.set->resourceCount(), std::size_t(0));
        QVERIFY(!w.set->status(kR1));
        const test::SentMessage un = w.lastSubscribe(kR1);
        QCOMPARE(un.message.expires(), std::optional<quint32>(0));
        QCOMPARE(un.message.callId(), sent.message.callId());
        QCOMPARE(un.message.to()->tag(), QByteArrayView(kNotifierTag));
        w.settle();
        QCOMPARE(w.handler.latest[kR1].state, State::Terminated);
        const std::size_t delivered = w.handler.notifies.size();
        // The final NOTIFY crosses the 200: 200, not delivered.
        QCOMPARE(w.notify(sent, "terminated;reason=timeout"), 200);
        w.ok(un, 0);
        QCOMPARE(w.notify(sent, "terminated;reason=timeout"), 200);  // tombstone
        QCOMPARE(w.handler.notifies.size(), delivered);
        w.clock.advance(40s);
        QCOMPARE(w.notify(sent, "terminated"), 481);  // forgotten after a while
        QCOMPARE(w.subscribes().size(), std::size_t(2));
    }

    void unsubscribeWhileSubscribing() {
        World w;
        w.set->subscribe(kR1);
        w.settle();
        const test::SentMessage sent = w.lastSubscribe(kR1);
        w.set->unsubscribe(kR1);
        QCOMPARE(w.subscribes().size(), std::size_t(1));
        w.ok(sent);
        // The 2xx formed the dialog: end it at once.
        QCOMPARE(w.subscribes().size(), std::size_t(2));
        QCOMPARE(w.lastSubscribe(kR1).message.expires(), std::optional<quint32>(0));
    }

    void stopAllCallsDone() {
        World w;
        const test::SentMessage a = w.activate(kR1);
        const test::SentMessage b = w.activate(kR2);
        w.set->subscribe("sip:203@example.com");  // still queued: nothing to end
        int done = 0;
        w.set->stopAll([&] { ++done; });
        QCOMPARE(w.set->resourceCount(), std::size_t(0));
        QCOMPARE(w.lastSubscribe(kR1).message.expires(), std::optional<quint32>(0));
        QCOMPARE(w.lastSubscribe(kR2).message.expires(), std::optional<quint32>(0));
        w.settle();
        QCOMPARE(done, 0);
        w.ok(w.lastSubscribe(kR1), 0);
        w.settle();
        QCOMPARE(done, 0);
        w.reply(w.lastSubscribe(kR2), 481);
        QCOMPARE(done, 0);  // from the event loop
        w.settle();
        QCOMPARE(done, 1);
        w.clock.advance(10s);
        QCOMPARE(done, 1);
        QCOMPARE(w.subscribesTo("sip:203@example.com").size(), std::size_t(0));
    }

    void stopAllBounded() {
        World w;
        w.activate(kR1);
        int done = 0;
        w.set->stopAll([&] { ++done; }, 2s);
        w.transport.faults(FakeTransport::Direction::ToNetwork).dropNext = 100;
        w.clock.advance(1900ms);
        QCOMPARE(done, 0);
        w.clock.advance(200ms);
        QCOMPARE(done, 1);
        // With nothing to end, done still comes from the event loop.
        World idle;
        int idleDone = 0;
        idle.set->stopAll([&] { ++idleDone; });
        QCOMPARE(idleDone, 0);
        idle.settle();
        QCOMPARE(idleDone, 1);
    }

    void restartAllStartsNewDialogs() {
        World w;
        const test::SentMessage sent = w.activate(kR1);
        w.set->restartAll();
        w.clock.advance(100ms);
        const test::SentMessage again = w.lastSubscribe(kR1);
        QVERIFY(again.message.callId() != sent.message.callId());
        QVERIFY(again.message.to()->tag().isEmpty());
        QCOMPARE(w.notify(sent, "active"), 200);  // the old dialog's late NOTIFY
    }

    void noNotifyAfterOk() {
        World w;
        w.set->subscribe(kR1);
        w.settle();
        w.ok(w.lastSubscribe(kR1));
        w.clock.advance(33s);  // RFC 6665 §4.1.2.4: 64*T1 without NOTIFY
        QCOMPARE(stateOf(w, kR1), State::Retrying);
    }

    void resourceListNotify() {
        ua::SubscriptionOptions options = defaultOptions();
        options.resourceListUri = kList;
        World w(options);
        w.set->subscribe(kR1);
        w.set->subscribe(kR2);
        w.set->subscribe("sip:203@example.com");
        QCOMPARE(w.set->resourceCount(), std::size_t(3));
        w.settle();
        QCOMPARE(w.subscribes().size(), std::size_t(1));
        const test::SentMessage sent = w.lastSubscribe(kList);
        const sip::Message& m = sent.message;
        QCOMPARE(m.requestUri(), QByteArrayView(kList));
        QCOMPARE(m.header(HeaderId::Require), QByteArrayView("eventlist"));
        QCOMPARE(m.header(HeaderId::Supported), QByteArrayView("eventlist"));
        QVERIFY(m.header(HeaderId::Accept).contains("multipart/related"));
        QVERIFY(m.header(HeaderId::Accept).contains("application/rlmi+xml"));
        QVERIFY(m.header(HeaderId::Accept).contains("application/dialog-info+xml"));
        w.ok(sent);

        const QByteArray rlmi =
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
            "<list xmlns=\"urn:ietf:params:xml:ns:rlmi\" uri=\"sip:board@example.com\" "
            "version=\"0\" fullState=\"true\">\r\n"
            "<resource uri=\"sip:201@example.com\"><name>Alice</name>"
            "<instance id=\"i1\" state=\"active\" cid=\"p201@example.com\"/></resource>\r\n"
            "<resource uri=\"sip:202@example.com:5060\"><name>Bob</name>"
            "<instance id=\"i2\" state=\"active\" cid=\"p202@example.com\"/></resource>\r\n"
            "</list>\r\n";
        const QByteArray body =
            "--bnd\r\n"
            "Content-Transfer-Encoding: binary\r\n"
            "Content-ID: <root@example.com>\r\n"
            "Content-Type: application/rlmi+xml;charset=\"UTF-8\"\r\n\r\n" +
            rlmi +
            "\r\n--bnd\r\n"
            "Content-ID: <p201@example.com>\r\n"
            "Content-Type: application/dialog-info+xml\r\n\r\n"
            "<doc201/>\r\n"
            "--bnd\r\n"
            "Content-ID: <p202@example.com>\r\n"
            "Content-Type: application/dialog-info+xml\r\n\r\n"
            "<doc202/>\r\n"
            "--bnd--\r\n";
        const QByteArray type =
            "multipart/related;type=\"application/rlmi+xml\";"
            "start=\"<root@example.com>\";boundary=\"bnd\"";
        QCOMPARE(w.notify(sent, "active;expires=3600", body, type), 200);
        QCOMPARE(w.handler.notifies.size(), std::size_t(2));
        QCOMPARE(w.handler.notifies[0].resource, kR1);
        QCOMPARE(w.handler.notifies[0].body, QByteArray("<doc201/>"));
        QCOMPARE(w.handler.notifies[1].resource, kR2);
        QCOMPARE(w.handler.notifies[1].body, QByteArray("<doc202/>"));
        QCOMPARE(w.handler.notifies[1].contentType, QByteArray("application/dialog-info+xml"));
        w.settle();
        QCOMPARE(stateOf(w, kR1), State::Active);
        QCOMPARE(stateOf(w, kR2), State::Active);
        QCOMPARE(w.set->activeCount(), std::size_t(2));
        // Full state without 203: the server's list does not have it.
        QCOMPARE(stateOf(w, "sip:203@example.com"), State::Unavailable);
        QCOMPARE(w.set->status("sip:203@example.com")->reason,
                 QByteArray("not in the resource list"));

        // A partial list NOTIFY: 202's instance ended; 201 (not named) stays as it was.
        const QByteArray partial =
            "<list xmlns=\"urn:ietf:params:xml:ns:rlmi\" uri=\"sip:board@example.com\" "
            "version=\"1\" fullState=\"false\">"
            "<resource uri=\"sip:202@example.com\">"
            "<instance id=\"i2\" state=\"terminated\" reason=\"rejected\"/></resource></list>";
        const QByteArray partialBody =
            "--bnd\r\nContent-Type: application/rlmi+xml\r\n\r\n" + partial + "\r\n--bnd--\r\n";
        QCOMPARE(w.notify(sent, "active;expires=3600", partialBody, type), 200);
        w.settle();
        QCOMPARE(stateOf(w, kR1), State::Active);
        QCOMPARE(stateOf(w, kR2), State::Unavailable);
        QCOMPARE(w.set->status(kR2)->reason, QByteArray("rejected"));
        QCOMPARE(w.handler.notifies.size(), std::size_t(2));  // no part to deliver

        // A list NOTIFY whose RLMI does not parse: 400, nothing delivered.
        const QByteArray broken =
            "--bnd\r\nContent-Type: application/rlmi+xml\r\n\r\n<list\r\n--bnd--\r\n";
        QCOMPARE(w.notify(sent, "active", broken, type), 400);

        // A plain NOTIFY on the list subscription belongs to the list URI.
        QCOMPARE(w.notify(sent, "active", "<plain/>"), 200);
        QCOMPARE(w.handler.notifies.back().resource, kList);

        // The list ends: every member follows.
        QCOMPARE(w.notify(sent, "terminated;reason=noresource"), 200);
        w.settle();
        QCOMPARE(stateOf(w, kR1), State::Unavailable);
        QCOMPARE(stateOf(w, kR2), State::Unavailable);
        w.set->unsubscribe(kR2);
        QCOMPARE(w.set->resourceCount(), std::size_t(2));
    }

    void resourceListRefusedFallsBack() {
        ua::SubscriptionOptions options = defaultOptions();
        options.resourceListUri = kList;
        World w(options);
        w.set->subscribe(kR1);
        w.set->subscribe(kR2);
        w.settle();
        w.reply(w.lastSubscribe(kList), 489);
        w.clock.advance(1s);
        QCOMPARE(w.subscribesTo(kR1).size(), std::size_t(1));
        QCOMPARE(w.subscribesTo(kR2).size(), std::size_t(1));
        QVERIFY(!w.subscribesTo(kR1).front().message.has(HeaderId::Require));
        QCOMPARE(w.set->resourceCount(), std::size_t(2));
        QCOMPARE(stateOf(w, kR1), State::Subscribing);
    }

    // Review finding 1: SubscriptionHandler lets handlers call back into the set from
    // onNotify, which runs inside handleRequest. Nothing the NOTIFY path holds (the Sub,
    // the resource name) may die under it. Run under the asan preset too.
    void callbackInsideNotify_data() {
        QTest::addColumn<QByteArray>("action");
        QTest::addColumn<QByteArray>("state");
        for (const char* action : {"unsubscribe", "unsubscribe-fails", "stopAll", "stopAll-fails",
                                   "resubscribe", "restartAll"}) {
            for (const char* state : {"active;expires=3600", "terminated;reason=deactivated"}) {
                const QByteArray name = QByteArray(action) + " / " + state;
                QTest::newRow(name.constData()) << QByteArray(action) << QByteArray(state);
            }
        }
    }

    void callbackInsideNotify() {
        QFETCH(QByteArray, action);
        QFETCH(QByteArray, state);
        World w;
        const test::SentMessage sent = w.activate(kR1);
        w.activate(kR2);
        int calls = 0;
        int stopped = 0;
        w.handler.during = [&](const QByteArray& resource) {
            if (calls++ > 0) return;
            if (action.startsWith("unsubscribe")) {
                // The un-SUBSCRIBE fails at once: the Sub ends inside the callback.
                if (action.endsWith("-fails")) w.transport.failNextSends(1);
                w.set->unsubscribe(resource);
            } else if (action.startsWith("stopAll")) {
                if (action.endsWith("-fails")) w.transport.failNextSends(2);
                w.set->stopAll([&] { ++stopped; });
            } else if (action == "resubscribe") {
                w.set->unsubscribe(resource);
                w.set->subscribe(resource);
            } else if (action == "restartAll") {
                w.set->restartAll();
            }
        };
        QCOMPARE(w.notify(sent, state, "<x/>"), 200);
        QCOMPARE(w.handler.touchedAfter.size(), std::size_t(1));
        QCOMPARE(w.handler.touchedAfter.front(), kR1 + " application/dialog-info+xml <x/>");
        w.settle();
        const bool fails = action.endsWith("-fails");
        if (action.startsWith("unsubscribe")) {
            QVERIFY(!w.set->status(kR1));
            QCOMPARE(w.handler.latest[kR1].state, State::Terminated);
            if (!fails) {
                const test::SentMessage un = w.lastSubscribe(kR1);
                QCOMPARE(un.message.expires(), std::optional<quint32>(0));
                QCOMPARE(un.message.callId(), sent.message.callId());
            }
            QCOMPARE(stateOf(w, kR2), State::Active);
        } else if (action.startsWith("stopAll")) {
            QCOMPARE(w.set->resourceCount(), std::size_t(0));
            if (!fails) {
                w.ok(w.lastSubscribe(kR1), 0);
                w.ok(w.lastSubscribe(kR2), 0);
                w.settle();
            }
            QCOMPARE(stopped, 1);
        } else if (action == "resubscribe") {
            QCOMPARE(stateOf(w, kR1), State::Queued);
        }
        // Whatever the NOTIFY said, what the handler did decides: one new subscription
        // when it asked for one, none when it unsubscribed.
        w.clock.advance(1s);
        const std::size_t expected = action == "resubscribe" || action == "restartAll" ? 2 : 1;
        QCOMPARE(w.initialsTo(kR1), expected);
        // Late NOTIFYs in the old dialog are acknowledged, not delivered.
        const std::size_t delivered = w.handler.notifies.size();
        QCOMPARE(w.notify(sent, "terminated"), 200);
        QCOMPARE(w.handler.notifies.size(), delivered);
    }

    void callbackInsideListNotify_data() {
        QTest::addColumn<QByteArray>("action");
        QTest::newRow("unsubscribe") << QByteArray("unsubscribe");
        QTest::newRow("unsubscribe another") << QByteArray("unsubscribe another");
        QTest::newRow("stopAll") << QByteArray("stopAll");
        QTest::newRow("churn") << QByteArray("churn");
    }

    void callbackInsideListNotify() {
        QFETCH(QByteArray, action);
        const QByteArray r3 = "sip:203@example.com";
        World w(listOptions());
        w.set->subscribe(kR1);
        w.set->subscribe(kR2);
        w.set->subscribe(r3);
        w.settle();
        const test::SentMessage sent = w.lastSubscribe(kList);
        w.ok(sent);
        int calls = 0;
        int stopped = 0;
        w.handler.during = [&](const QByteArray& resource) {
            if (calls++ > 0) return;
            if (action == "unsubscribe") {
                w.set->unsubscribe(resource);
            } else if (action == "unsubscribe another") {
                w.set->unsubscribe(kR2);
            } else if (action == "stopAll") {
                w.set->stopAll([&] { ++stopped; });
            } else if (action == "churn") {
                // Enough new members to rehash the maps, then the one being delivered.
                for (int i = 0; i < 300; ++i)
                    w.set->subscribe("sip:" + QByteArray::number(5000 + i) + "@example.com");
                w.set->unsubscribe(resource);
            }
        };
        QCOMPARE(w.notify(sent, "active;expires=3600", listBody({kR1, kR2, r3}), kListType), 200);
        QCOMPARE(w.handler.touchedAfter.front(), kR1 + " application/dialog-info+xml <doc0/>");
        w.settle();
        if (action == "unsubscribe" || action == "churn") {
            QCOMPARE(w.handler.notifies.size(), std::size_t(3));
            QVERIFY(!w.set->status(kR1));
            QCOMPARE(stateOf(w, kR2), State::Active);
            QCOMPARE(stateOf(w, r3), State::Active);
            QCOMPARE(w.set->resourceCount(), std::size_t(action == "churn" ? 302 : 2));
        } else if (action == "unsubscribe another") {
            QCOMPARE(w.handler.notifies.size(), std::size_t(2));  // 202 no longer watched
            QCOMPARE(w.handler.notifies.back().resource, r3);
            QVERIFY(!w.set->status(kR2));
            QCOMPARE(stateOf(w, kR1), State::Active);
        } else {
            QCOMPARE(w.handler.notifies.size(), std::size_t(1));
            QCOMPARE(w.set->resourceCount(), std::size_t(0));
            const test::SentMessage un = w.lastSubscribe(kList);
            QCOMPARE(un.message.expires(), std::optional<quint32>(0));
            w.ok(un, 0);
            w.settle();
            QCOMPARE(stopped, 1);
        }
    }

    // Review finding 2: the RLMI of a 2,000-resource list is larger than the dialog-info
    // parse limit (256 KB).
    void largeResourceList() {
        World w(listOptions());
        std::vector<QByteArray> resources;
        const QByteArray domain = "@" + QByteArray(90, 'b') + ".example.com";
        for (int i = 0; i < 2000; ++i)
            resources.push_back("sip:" + QByteArray::number(4000 + i) + domain);
        for (const QByteArray& r : resources)
            w.set->subscribe(r);
        w.settle();
        const test::SentMessage sent = w.lastSubscribe(kList);
        w.ok(sent);
        const QByteArray body = listBody(resources, false);
        QVERIFY(body.size() > 256 * 1024);
        QCOMPARE(w.notify(sent, "active;expires=3600", body, kListType), 200);
        w.settle();
        QCOMPARE(w.set->activeCount(), std::size_t(2000));
        QCOMPARE(stateOf(w, resources.back()), State::Active);
    }

    // Review finding 3: RFC 6665 §4.1.2.2, a refresh that fails otherwise than 481/408
    // (or one of the codes that end the subscription) leaves it valid until it expires.
    void refreshFailureKeepsSubscription_data() {
        QTest::addColumn<int>("code");
        QTest::addColumn<int>("expected");
        QTest::newRow("500 kept") << 500 << int(State::Active);
        QTest::newRow("503 kept") << 503 << int(State::Active);
        QTest::newRow("403 kept") << 403 << int(State::Active);
        QTest::newRow("404 ends") << 404 << int(State::Unavailable);
        QTest::newRow("489 ends") << 489 << int(State::Unavailable);
    }

    void refreshFailureKeepsSubscription() {
        QFETCH(int, code);
        QFETCH(int, expected);
        World w;
        const test::SentMessage sent = w.activate(kR1);
        w.set->refetch(kR1);
        QCOMPARE(w.subscribesTo(kR1).size(), std::size_t(2));
        w.reply(w.lastSubscribe(kR1), code);
        w.settle();
        QCOMPARE(int(stateOf(w, kR1)), expected);
        if (expected != int(State::Active)) return;  // as before: back-off, new dialog
        QVERIFY(w.set->status(kR1)->usable());
        // The refresh is tried again in the same dialog after the back-off (15-30 s).
        w.clock.advance(14s);
        QCOMPARE(w.subscribesTo(kR1).size(), std::size_t(2));
        w.clock.advance(17s);
        auto all = w.subscribesTo(kR1);
        QCOMPARE(all.size(), std::size_t(3));
        QCOMPARE(all.back().message.callId(), sent.message.callId());
        QCOMPARE(all.back().message.to()->tag(), QByteArrayView(kNotifierTag));
        w.ok(all.back());
        w.settle();
        QCOMPARE(stateOf(w, kR1), State::Active);
        QCOMPARE(w.initialsTo(kR1), std::size_t(1));
        QCOMPARE(w.notify(sent, "active", "<still/>"), 200);
    }

    void refreshFailsUntilExpiry() {
        World w;
        w.set->subscribe(kR1);
        w.settle();
        const test::SentMessage sent = w.lastSubscribe(kR1);
        w.ok(sent, 120);
        const base::TimePoint start = w.clock.now();
        QCOMPARE(w.notify(sent, "active", "<x/>"), 200);
        // Every refresh is answered 500.
        w.transport.setPeer([&w](const test::SentMessage& out) {
            if (out.isRequest() && out.method() == sip::Method::Subscribe &&
                !out.message.to()->tag().isEmpty())
                (void)w.transport.injectAfter(10ms, sip::makeResponse(out.message, 500),
                                              out.destination);
        });
        for (int i = 0; i < 200 && w.initialsTo(kR1) == 1; ++i) {
            QVERIFY2(stateOf(w, kR1) == State::Active, "valid until it expires");
            w.clock.advance(1s);
        }
        QCOMPARE(w.initialsTo(kR1), std::size_t(2));
        // Not before the expiry, and the refresh was tried more than once before it.
        QVERIFY(w.clock.now() - start >= 120s);
        std::size_t refreshes = 0;
        for (const test::SentMessage& s : w.subscribesTo(kR1))
            refreshes += s.message.callId() == sent.message.callId() ? 1 : 0;
        QVERIFY(refreshes >= 3);  // the initial one and at least two refreshes
        QVERIFY(w.lastSubscribe(kR1).message.callId() != sent.message.callId());
    }

    void refresh423UsesMinExpires() {
        World w;
        const test::SentMessage sent = w.activate(kR1);
        w.set->refetch(kR1);
        w.reply(w.lastSubscribe(kR1), 423, "Min-Expires", "7200");
        auto all = w.subscribesTo(kR1);
        QCOMPARE(all.size(), std::size_t(3));
        QCOMPARE(all.back().message.expires(), std::optional<quint32>(7200));
        QCOMPARE(all.back().message.callId(), sent.message.callId());
        QCOMPARE(all.back().message.to()->tag(), QByteArrayView(kNotifierTag));
        w.ok(all.back(), 7200);
        w.settle();
        QCOMPARE(stateOf(w, kR1), State::Active);
    }

    // Review finding 4: a refetch while a transaction is in flight is sent afterwards.
    void refetchWhileInFlight() {
        World w;
        const test::SentMessage sent = w.activate(kR1);
        w.set->refetch(kR1);
        QCOMPARE(w.subscribesTo(kR1).size(), std::size_t(2));
        w.handler.verdict = ua::NotifyVerdict::NeedFullState;
        QCOMPARE(w.notify(sent, "active", "<partial/>"), 200);
        w.set->refetch(kR1);
        QCOMPARE(w.subscribesTo(kR1).size(), std::size_t(2));  // one at a time
        w.ok(w.lastSubscribe(kR1));
        auto all = w.subscribesTo(kR1);
        QCOMPARE(all.size(), std::size_t(3));  // one more, not two
        QCOMPARE(all.back().message.callId(), sent.message.callId());
        w.ok(all.back());
        QCOMPARE(w.subscribesTo(kR1).size(), std::size_t(3));
    }

    void needFullStateBeforeOk() {
        World w;
        w.set->subscribe(kR1);
        w.settle();
        const test::SentMessage sent = w.lastSubscribe(kR1);
        w.handler.verdict = ua::NotifyVerdict::NeedFullState;
        QCOMPARE(w.notify(sent, "active;expires=3600", "<partial/>"), 200);
        QCOMPARE(w.subscribesTo(kR1).size(), std::size_t(1));  // the SUBSCRIBE is in flight
        w.handler.verdict = ua::NotifyVerdict::Accepted;
        w.ok(sent);
        auto all = w.subscribesTo(kR1);
        QCOMPARE(all.size(), std::size_t(2));
        QCOMPARE(all.back().message.callId(), sent.message.callId());
        QCOMPARE(all.back().message.to()->tag(), QByteArrayView(kNotifierTag));
    }

    // Review finding 5: the initial SUBSCRIBE of an ending subscription timed out, but a
    // NOTIFY had formed the dialog: the notifier holds a subscription to end.
    void unsubscribeAfterInitialTimeout_data() {
        QTest::addColumn<bool>("viaStopAll");
        QTest::newRow("unsubscribe") << false;
        QTest::newRow("stopAll") << true;
    }

    void unsubscribeAfterInitialTimeout() {
        QFETCH(bool, viaStopAll);
        World w;
        w.set->subscribe(kR1);
        w.settle();
        const test::SentMessage sent = w.lastSubscribe(kR1);
        QCOMPARE(w.notify(sent, "active", "<x/>"), 200);  // before any answer
        int stopped = 0;
        if (viaStopAll) {
            w.set->stopAll([&] { ++stopped; }, 60s);
        } else {
            w.set->unsubscribe(kR1);
        }
        QCOMPARE(w.subscribes().size(), std::size_t(1));
        w.clock.advance(33s);  // Timer F of the initial SUBSCRIBE
        auto all = w.subscribesTo(kR1);
        QCOMPARE(all.size(), std::size_t(2));
        const sip::Message& un = all.back().message;
        QCOMPARE(un.expires(), std::optional<quint32>(0));
        QCOMPARE(un.callId(), sent.message.callId());
        QCOMPARE(un.to()->tag(), QByteArrayView(kNotifierTag));
        QCOMPARE(stopped, 0);
        w.ok(all.back(), 0);
        w.settle();
        QCOMPARE(stopped, viaStopAll ? 1 : 0);
        QCOMPARE(w.initialsTo(kR1), std::size_t(1));
    }

    // Review finding 6: queue/unqueue churn must not grow the pacer's order queue.
    void pacerStaysBounded() {
        base::ManualClock clock;
        std::vector<QByteArray> released;
        ua::SubscribePacer pacer(clock, 1.0,
                                 [&](const QByteArray& key) { released.push_back(key); });
        pacer.enqueue("first");
        pacer.enqueue("second");
        for (int i = 0; i < 10000; ++i) {
            const QByteArray key = "k" + QByteArray::number(i);
            pacer.enqueue(key);
            QVERIFY(pacer.remove(key));
            QVERIFY(pacer.backlog() <= 2 * pacer.size() + 17);
        }
        QCOMPARE(pacer.size(), std::size_t(2));
        QVERIFY(!pacer.remove("k0"));
        // A key removed and queued again goes to the back.
        pacer.enqueue("a");
        pacer.enqueue("b");
        QVERIFY(pacer.remove("a"));
        pacer.enqueue("a");
        QVERIFY(pacer.contains("a"));
        clock.advance(10s);
        QCOMPARE(released, (std::vector<QByteArray>{"first", "second", "b", "a"}));
        QCOMPARE(pacer.size(), std::size_t(0));
        QCOMPARE(pacer.backlog(), std::size_t(0));
    }

    // Review finding 7: a server that ends every new subscription at once.
    void quickTerminationsBackOff() {
        World w;
        test::SentMessage sent = w.activate(kR1);
        for (int i = 0; i < 2; ++i) {
            QCOMPARE(w.notify(sent, "terminated;reason=deactivated"), 200);
            QCOMPARE(stateOf(w, kR1), State::Queued);  // RFC 6665 §4.1.3: at once
            w.clock.advance(100ms);
            sent = w.lastSubscribe(kR1);
            QVERIFY(sent.message.to()->tag().isEmpty());
            w.ok(sent);
            QCOMPARE(w.notify(sent, "active", "<x/>"), 200);
        }
        QCOMPARE(w.notify(sent, "terminated;reason=deactivated"), 200);
        const ua::SubscriptionStatus status = *w.set->status(kR1);
        QCOMPARE(status.state, State::Retrying);
        QCOMPARE(status.reason, QByteArray("deactivated"));
        QVERIFY(status.retryIn && *status.retryIn >= 15s);
        const std::size_t before = w.initialsTo(kR1);
        QCOMPARE(before, std::size_t(3));
        w.clock.advance(14s);
        QCOMPARE(w.initialsTo(kR1), before);
        w.clock.advance(*status.retryIn - 14s + 100ms);
        QCOMPARE(w.initialsTo(kR1), before + 1);
        // A subscription that lasted over a minute is re-subscribed at once again.
        sent = w.lastSubscribe(kR1);
        w.ok(sent);
        QCOMPARE(w.notify(sent, "active", "<x/>"), 200);
        w.clock.advance(61s);
        QCOMPARE(w.notify(sent, "terminated;reason=timeout"), 200);
        QCOMPARE(stateOf(w, kR1), State::Queued);
    }

    void stateNames() {
        QCOMPARE(ua::subscriptionStateName(State::Queued), QByteArrayView("queued"));
        QCOMPARE(ua::subscriptionStateName(State::Unavailable), QByteArrayView("unavailable"));
        QCOMPARE(ua::subscriptionStateName(State::Terminated), QByteArrayView("terminated"));
    }
};

QTEST_GUILESS_MAIN(TestSubscriptionSet)
#include "tst_subscription_set.moc"
