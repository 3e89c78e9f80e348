// The dialog-event notifier of the built-in server (DialogNotifier, RFC 6665 notifier for
// RFC 4235) against a FakeTransport, a ManualClock and a real TransactionLayer: refusals
// (489, 406, 404, 423, 400, 503), the 200 and the immediate full-state NOTIFY, versions,
// aggregation, the compatibility switches, coalescing behind a NOTIFY in flight,
// refresh, un-SUBSCRIBE and fetch, expiry, NOTIFY failures, shutdown, escaping, where
// NOTIFYs go, and the bounds.

#include <QTest>

#include <functional>
#include <memory>
#include <set>

#include "../dialoginfo/dialog_info_schema.h"
#include "base/manual_clock.h"
#include "base/random.h"
#include "dialoginfo/dialog_info.h"
#include "fake_transport.h"
#include "server/dialog_notifier.h"
#include "server/dialog_state_store.h"
#include "server/local_domains.h"
#include "sip/message.h"
#include "transaction/transaction_layer.h"

using namespace sb;
using namespace std::chrono_literals;
using dialoginfo::DialogInfo;
using dialoginfo::DialogState;
using sip::HeaderId;
using test::FakeTransport;
using test::SentMessage;
using transport::Protocol;

namespace {

const QString kHostile = QStringLiteral("sip:a&b\"c'<d>@x");

transport::Endpoint phone(Protocol protocol = Protocol::Udp) {
    return FakeTransport::endpoint(protocol, "127.0.0.1", 5062);
}
transport::Endpoint otherPhone() {
    return FakeTransport::endpoint(Protocol::Udp, "127.0.0.1", 5064);
}

// What a phone puts in its SUBSCRIBE; each field can be changed per test.
struct SubscribeSpec {
    QByteArray requestUri = "sip:202@switchboard.local";
    QByteArray from = "<sip:201@switchboard.local>";
    QByteArray fromTag = "ph-1";
    QByteArray to = "<sip:202@switchboard.local>";
    QByteArray toTag;  // set for a refresh
    QByteArray callId = "sub-1@127.0.0.1";
    quint32 cseq = 1;
    QByteArray contact = "<sip:201@127.0.0.1:5062>";
    std::optional<QByteArray> event = QByteArray("dialog");
    std::optional<QByteArray> expires = QByteArray("3600");
    std::optional<QByteArray> accept = QByteArray("application/dialog-info+xml");
    QByteArray userAgent = "TestPhone/1.0";
    std::vector<QByteArray> recordRoutes;
};

DialogInfo dialogOf(const QString& id, DialogState state, const QString& remote = {}) {
    DialogInfo dialog;
    dialog.id = id;
    dialog.callId = id + QStringLiteral("@127.0.0.1");
    dialog.localTag = QStringLiteral("lt-") + id;
    dialog.remoteTag = QStringLiteral("rt-") + id;
    dialog.direction = dialoginfo::Direction::Recipient;
    dialog.state = state;
    dialog.local.identity = QStringLiteral("sip:202@switchboard.local");
    dialog.local.target = dialoginfo::Target{QStringLiteral("sip:202@127.0.0.1:5066"), {}};
    dialog.remote.identity =
        remote.isEmpty() ? QStringLiteral("sip:203@switchboard.local") : remote;
    dialog.remote.display = QStringLiteral("Caller");
    dialog.remote.target = dialoginfo::Target{QStringLiteral("sip:203@127.0.0.1:5068"), {}};
    return dialog;
}

// The TU core of the test server: SUBSCRIBEs go to the notifier, with the watcher user
// the test sets (as the dispatcher would after authentication).
class Router final : public transaction::ServerTransactionUser {
public:
    void onRequest(transaction::TransactionId id,
                   const transport::IncomingMessage& request) override {
        if (request.message.method() == sip::Method::Subscribe && notifier) {
            notifier->onSubscribe(id, request, watcherUser);
            return;
        }
        (void)layer->sendResponse(id, sip::makeResponse(request.message, 501, {}, "x"));
    }
    server::DialogNotifier* notifier = nullptr;
    transaction::TransactionLayer* layer = nullptr;
    QString watcherUser = QStringLiteral("201");
};

server::NotifierOptions defaultOptions() {
    server::NotifierOptions options;
    options.userExists = [](const QString& user) {
        return user == QLatin1String("201") || user == QLatin1String("202") ||
               user == QLatin1String("203");
    };
    return options;
}

struct World {
    explicit World(server::NotifierOptions options = defaultOptions())
        : transport(&clock), random(11), layer(transport, clock, random) {
        domains.setDomains({QStringLiteral("switchboard.local")});
        domains.addListeningEndpoint(FakeTransport::endpoint(Protocol::Udp, "127.0.0.1", 5060));
        notifier = std::make_unique<server::DialogNotifier>(layer, clock, random, store, domains,
                                                            std::move(options));
        router.notifier = notifier.get();
        router.layer = &layer;
        layer.setServerUser(&router);
    }
    ~World() {
        layer.setServerUser(nullptr);
        notifier.reset();
    }

    sip::Message subscribeMessage(const SubscribeSpec& spec) {
        sip::Message request = sip::Message::request(sip::Method::Subscribe, spec.requestUri);
        request.addHeader(HeaderId::Via, "SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-s" +
                                             QByteArray::number(++branches) + ";rport");
        request.addHeader(HeaderId::MaxForwards, "70");
        for (const QByteArray& route : spec.recordRoutes)
            request.addHeader(HeaderId::RecordRoute, route);
        request.addHeader(HeaderId::From, spec.from + ";tag=" + spec.fromTag);
        request.addHeader(HeaderId::To,
                          spec.toTag.isEmpty() ? spec.to : spec.to + ";tag=" + spec.toTag);
        request.addHeader(HeaderId::CallId, spec.callId);
        request.addHeader(HeaderId::CSeq, QByteArray::number(spec.cseq) + " SUBSCRIBE");
        if (!spec.contact.isEmpty()) request.addHeader(HeaderId::Contact, spec.contact);
        if (spec.event) request.addHeader(HeaderId::Event, *spec.event);
        if (spec.expires) request.addHeader(HeaderId::Expires, *spec.expires);
        if (spec.accept) request.addHeader(HeaderId::Accept, *spec.accept);
        request.addHeader(HeaderId::UserAgent, spec.userAgent);
        return request;
    }

    // Sends a SUBSCRIBE and returns the response the notifier gave to it.
    sip::Message subscribe(const SubscribeSpec& spec, const transport::Endpoint& from = phone()) {
        const std::size_t before = transport.sent().size();
        const auto injected = transport.inject(subscribeMessage(spec), from);
        if (!injected) qWarning() << injected.error().toString();
        clock.advance(0ms);
        const auto& sent = transport.sent();
        for (std::size_t i = before; i < sent.size(); ++i) {
            if (sent[i].isResponse() && sent[i].message.callId() == spec.callId &&
                sent[i].message.cseq()->method == sip::Method::Subscribe)
                return sent[i].message;
        }
        return {};
    }

    // An initial SUBSCRIBE answered 200, with the dialog's To tag remembered in `spec`.
    sip::Message subscribeOk(SubscribeSpec& spec, const transport::Endpoint& from = phone()) {
        sip::Message ok = subscribe(spec, from);
        spec.toTag = ok.to() ? ok.to()->tag().toByteArray() : QByteArray();
        return ok;
    }

    // Distinct NOTIFYs sent (a retransmission repeats the CSeq of its Call-ID), in order.
    std::vector<SentMessage> notifies(const QByteArray& callId = {}) const {
        std::vector<SentMessage> out;
        std::set<std::pair<QByteArray, quint32>> seen;
        for (const SentMessage& sent : transport.requests(sip::Method::Notify)) {
            const QByteArray id = sent.message.callId().toByteArray();
            if (!callId.isEmpty() && id != callId) continue;
            if (seen.insert({id, sent.message.cseq()->number}).second) out.push_back(sent);
        }
        return out;
    }
    SentMessage lastNotify(const QByteArray& callId = {}) const {
        auto all = notifies(callId);
        return all.empty() ? SentMessage{} : all.back();
    }
    void answer(const SentMessage& notify, int status = 200) {
        (void)transport.respond(notify, status);
        clock.advance(0ms);
    }
    // Answers every NOTIFY sent so far 200 (retransmissions match the same transaction).
    void answerAll() {
        for (const SentMessage& notify : notifies())
            answer(notify);
    }

    base::ManualClock clock;
    FakeTransport transport;
    base::SeededRandom random;
    transaction::TransactionLayer layer;
    server::DialogStateStore store;
    server::LocalDomains domains;
    std::unique_ptr<server::DialogNotifier> notifier;
    Router router;
    int branches = 0;
};

dialoginfo::Document bodyOf(const SentMessage& notify) {
    // Every body the notifier sends must be valid RFC 4235, not only parse leniently.
    QString schemaError;
    if (!dialoginfo::test::validatesAgainstDialogInfoSchema(notify.message.body().toByteArray(),
                                                            &schemaError)) {
        qWarning() << "NOTIFY body is not valid RFC 4235:" << schemaError;
        return {};
    }
    auto parsed = dialoginfo::parseDocument(notify.message.body());
    if (!parsed) {
        qWarning() << "NOTIFY body does not parse:" << parsed.error().toString();
        return {};
    }
    return *parsed;
}

QByteArray header(const sip::Message& message, HeaderId id) {
    return message.header(id).toByteArray();
}

}  // namespace

class TestDialogNotifier : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { dialoginfo::initialiseXml(); }

    void refusesOtherEventPackages() {
        World world;
        SubscribeSpec spec;
        spec.event = QByteArray("presence");
        sip::Message refused = world.subscribe(spec);
        QCOMPARE(refused.statusCode(), 489);
        QCOMPARE(header(refused, HeaderId::AllowEvents), QByteArray("dialog"));
        QVERIFY(refused.to()->tag().size() > 0);

        spec.event.reset();
        spec.callId = "sub-2@127.0.0.1";
        QCOMPARE(world.subscribe(spec).statusCode(), 489);
        QCOMPARE(world.notifier->watcherCount(), std::size_t(0));
        QCOMPARE(world.transport.countRequests(sip::Method::Notify), 0);
    }

    void refusesAnAcceptWithoutDialogInfo() {
        World world;
        SubscribeSpec spec;
        spec.accept = QByteArray("application/pidf+xml, application/xpidf+xml");
        sip::Message refused = world.subscribe(spec);
        QCOMPARE(refused.statusCode(), 406);
        QCOMPARE(header(refused, HeaderId::Accept), QByteArray("application/dialog-info+xml"));

        // Wildcards, parameters and letter case are fine; so is no Accept at all.
        spec.accept = QByteArray("application/*;q=0.5");
        spec.callId = "sub-2@127.0.0.1";
        QCOMPARE(world.subscribe(spec).statusCode(), 200);
        spec.accept = QByteArray("Application/Dialog-Info+XML");
        spec.callId = "sub-3@127.0.0.1";
        QCOMPARE(world.subscribe(spec).statusCode(), 200);
        spec.accept.reset();
        spec.callId = "sub-4@127.0.0.1";
        QCOMPARE(world.subscribe(spec).statusCode(), 200);
    }

    void refusesUnknownUsers() {
        World world;
        SubscribeSpec spec;
        spec.requestUri = "sip:999@switchboard.local";
        QCOMPARE(world.subscribe(spec).statusCode(), 404);
        spec.requestUri = "sip:202@elsewhere.example";
        spec.callId = "sub-2@127.0.0.1";
        QCOMPARE(world.subscribe(spec).statusCode(), 404);
        QCOMPARE(world.notifier->watcherCount(), std::size_t(0));
    }

    void expiresBounds() {
        World world;
        SubscribeSpec spec;
        spec.expires = QByteArray("30");
        sip::Message brief = world.subscribe(spec);
        QCOMPARE(brief.statusCode(), 423);
        QCOMPARE(brief.minExpires(), std::optional<quint32>(60));

        spec.expires = QByteArray("soon");
        spec.callId = "sub-2@127.0.0.1";
        QCOMPARE(world.subscribe(spec).statusCode(), 400);

        spec.expires = QByteArray("7200");
        spec.callId = "sub-3@127.0.0.1";
        sip::Message cut = world.subscribe(spec);
        QCOMPARE(cut.statusCode(), 200);
        QCOMPARE(cut.expires(), std::optional<quint32>(3600));

        spec.expires.reset();
        spec.callId = "sub-4@127.0.0.1";
        sip::Message byDefault = world.subscribe(spec);
        QCOMPARE(byDefault.statusCode(), 200);
        QCOMPARE(byDefault.expires(), std::optional<quint32>(3600));
        QCOMPARE(world.lastNotify("sub-4@127.0.0.1").message.subscriptionState()->expires(),
                 std::optional<quint32>(3600));
    }

    void refusesSubscribesThatCannotMakeADialog() {
        World world;
        SubscribeSpec spec;
        spec.contact.clear();
        QCOMPARE(world.subscribe(spec).statusCode(), 400);
        QCOMPARE(world.notifier->watcherCount(), std::size_t(0));
    }

    void okThenImmediateFullNotify() {
        World world;
        world.store.setDialogs(QStringLiteral("202"), QStringLiteral("call:1"),
                               {dialogOf(QStringLiteral("d1"), DialogState::Confirmed)});
        SubscribeSpec spec;
        sip::Message ok = world.subscribeOk(spec);
        QCOMPARE(ok.statusCode(), 200);
        QVERIFY(!spec.toTag.isEmpty());
        QCOMPARE(header(ok, HeaderId::Contact), QByteArray("<sip:127.0.0.1:5060>"));
        QCOMPARE(ok.expires(), std::optional<quint32>(3600));
        QCOMPARE(world.notifier->watcherCount(), std::size_t(1));
        QCOMPARE(world.notifier->watcherCount(QStringLiteral("202")), std::size_t(1));

        // The 200 goes out first, then the NOTIFY.
        const auto& sent = world.transport.sent();
        QCOMPARE(sent.size(), std::size_t(2));
        QVERIFY(sent[0].isResponse());
        QCOMPARE(sent[1].method(), sip::Method::Notify);

        const SentMessage notify = sent[1];
        const sip::Message& message = notify.message;
        QCOMPARE(message.requestUri(), QByteArrayView("sip:201@127.0.0.1:5062"));
        QCOMPARE(notify.destination, phone());
        QCOMPARE(message.callId(), QByteArrayView(spec.callId));
        QCOMPARE(message.from()->tag(), QByteArrayView(spec.toTag));
        QCOMPARE(message.to()->tag(), QByteArrayView(spec.fromTag));
        QCOMPARE(message.from()->uri.text, QByteArrayView("sip:202@switchboard.local"));
        QCOMPARE(header(message, HeaderId::Event), QByteArray("dialog"));
        QCOMPARE(header(message, HeaderId::Contact), QByteArray("<sip:127.0.0.1:5060>"));
        auto state = message.subscriptionState();
        QVERIFY(state);
        QCOMPARE(state->state, QByteArrayView("active"));
        QCOMPARE(state->expires(), std::optional<quint32>(3600));
        QCOMPARE(header(message, HeaderId::ContentType), QByteArray("application/dialog-info+xml"));

        QVERIFY(dialoginfo::parseDocument(message.body()));
        const dialoginfo::Document document = bodyOf(notify);
        QCOMPARE(document.version, std::optional<quint64>(0));
        QCOMPARE(document.state, dialoginfo::DocumentState::Full);
        QCOMPARE(document.entity, QStringLiteral("sip:202@switchboard.local"));
        QCOMPARE(document.dialogs.size(), std::size_t(1));
        const DialogInfo& dialog = document.dialogs.front();
        QCOMPARE(dialog.id, QStringLiteral("d1"));
        QCOMPARE(dialog.callId, QStringLiteral("d1@127.0.0.1"));
        QCOMPARE(dialog.localTag, QStringLiteral("lt-d1"));
        QCOMPARE(dialog.remoteTag, QStringLiteral("rt-d1"));
        QCOMPARE(dialog.state, DialogState::Confirmed);
        QCOMPARE(dialog.remote.identity, QStringLiteral("sip:203@switchboard.local"));
        QCOMPARE(dialog.remote.target->uri, QStringLiteral("sip:203@127.0.0.1:5068"));
        QCOMPARE(dialog.local.target->uri, QStringLiteral("sip:202@127.0.0.1:5066"));

        // The in-dialog requests of this subscription belong to the notifier.
        SubscribeSpec refresh = spec;
        refresh.cseq = 2;
        QVERIFY(world.notifier->ownsDialog(world.subscribeMessage(refresh)));
        refresh.toTag = "someone-else";
        QVERIFY(!world.notifier->ownsDialog(world.subscribeMessage(refresh)));
    }

    void throughAProxyTheRouteSetIsUsed() {
        World world;
        SubscribeSpec spec;
        spec.recordRoutes = {"<sip:127.0.0.3:5070;lr>"};
        sip::Message ok =
            world.subscribeOk(spec, FakeTransport::endpoint(Protocol::Udp, "127.0.0.3", 5070));
        QCOMPARE(ok.statusCode(), 200);
        // RFC 3261 §12.1.1: the 200 carries the Record-Route back.
        QCOMPARE(header(ok, HeaderId::RecordRoute), QByteArray("<sip:127.0.0.3:5070;lr>"));
        const SentMessage notify = world.lastNotify();
        QCOMPARE(header(notify.message, HeaderId::Route), QByteArray("<sip:127.0.0.3:5070;lr>"));
        QCOMPARE(notify.destination, FakeTransport::endpoint(Protocol::Udp, "127.0.0.3", 5070));
    }

    void anEndShownOnceIsLeftOutOfLaterDocuments() {
        // RFC 4235 §3.7.1: the NOTIFY after the end shows the dialog terminated; later
        // documents leave it out although the store still keeps it for a while.
        World world;
        SubscribeSpec spec;
        world.subscribeOk(spec);
        world.answerAll();
        world.store.setDialogs(QStringLiteral("202"), QStringLiteral("call:1"),
                               {dialogOf(QStringLiteral("d1"), DialogState::Terminated)});
        world.answerAll();
        const dialoginfo::Document ended = bodyOf(world.lastNotify());
        QCOMPARE(ended.dialogs.size(), std::size_t(1));
        QCOMPARE(ended.dialogs.front().state, DialogState::Terminated);

        world.store.setDialogs(QStringLiteral("202"), QStringLiteral("call:2"),
                               {dialogOf(QStringLiteral("d2"), DialogState::Early)});
        world.answerAll();
        const dialoginfo::Document next = bodyOf(world.lastNotify());
        QCOMPARE(next.dialogs.size(), std::size_t(1));
        QCOMPARE(next.dialogs.front().id, QStringLiteral("d2"));
        QCOMPARE(world.store.dialogCount(), std::size_t(2));
    }

    void anEndedDialogLeavesWithoutANotify() {
        // The watcher saw the call end; the dialog's leaving the store (its linger ran
        // out) is no news. The next document simply no longer lists it.
        World world;
        SubscribeSpec spec;
        world.subscribeOk(spec);
        world.answerAll();
        world.store.setDialogs(QStringLiteral("202"), QStringLiteral("call:1"),
                               {dialogOf(QStringLiteral("d1"), DialogState::Terminated)});
        world.answerAll();
        const std::size_t before = world.notifies().size();
        world.store.removeSource(QStringLiteral("202"), QStringLiteral("call:1"));
        world.answerAll();
        QCOMPARE(world.notifies().size(), before);

        world.store.setDialogs(QStringLiteral("202"), QStringLiteral("call:2"),
                               {dialogOf(QStringLiteral("d2"), DialogState::Early)});
        world.answerAll();
        const dialoginfo::Document next = bodyOf(world.lastNotify());
        QCOMPARE(next.dialogs.size(), std::size_t(1));
        QCOMPARE(next.dialogs.front().id, QStringLiteral("d2"));
    }

    void versionsIncreaseWithEveryNotify() {
        World world;
        SubscribeSpec spec;
        world.subscribeOk(spec);
        world.answerAll();
        world.store.setDialogs(QStringLiteral("202"), QStringLiteral("call:1"),
                               {dialogOf(QStringLiteral("d1"), DialogState::Early)});
        world.answerAll();
        world.store.setDialogs(QStringLiteral("202"), QStringLiteral("call:1"),
                               {dialogOf(QStringLiteral("d1"), DialogState::Confirmed)});
        world.answerAll();
        world.store.removeSource(QStringLiteral("202"), QStringLiteral("call:1"));
        world.answerAll();
        // Another user's change does not concern this watcher.
        world.store.setDialogs(QStringLiteral("203"), QStringLiteral("call:2"),
                               {dialogOf(QStringLiteral("d2"), DialogState::Early)});

        const auto notifies = world.notifies();
        QCOMPARE(notifies.size(), std::size_t(4));
        for (std::size_t i = 0; i < notifies.size(); ++i) {
            QCOMPARE(bodyOf(notifies[i]).version, std::optional<quint64>(i));
            if (i > 0)
                QVERIFY(notifies[i].message.cseq()->number >
                        notifies[i - 1].message.cseq()->number);
        }
        QCOMPARE(bodyOf(notifies[1]).dialogs.front().state, DialogState::Early);
        QCOMPARE(bodyOf(notifies[2]).dialogs.front().state, DialogState::Confirmed);
        QVERIFY(bodyOf(notifies[3]).dialogs.empty());
    }

    void versionsCountPerSubscription() {
        World world;
        SubscribeSpec first;
        world.subscribeOk(first);
        world.answerAll();
        world.store.setDialogs(QStringLiteral("202"), QStringLiteral("call:1"),
                               {dialogOf(QStringLiteral("d1"), DialogState::Early)});
        world.answerAll();
        SubscribeSpec second;
        second.callId = "sub-2@127.0.0.1";
        second.fromTag = "ph-2";
        world.subscribeOk(second, otherPhone());
        QCOMPARE(bodyOf(world.lastNotify(second.callId)).version, std::optional<quint64>(0));
        QCOMPARE(world.lastNotify(second.callId).destination, otherPhone());
        QCOMPARE(bodyOf(world.lastNotify(first.callId)).version, std::optional<quint64>(1));
    }

    void aggregatesEveryDialogOfTheUser() {
        World world;
        world.store.setDialogs(QStringLiteral("202"), QStringLiteral("call:1"),
                               {dialogOf(QStringLiteral("d1"), DialogState::Confirmed)});
        world.store.setDialogs(QStringLiteral("202"), QStringLiteral("publish:e1"),
                               {dialogOf(QStringLiteral("d2"), DialogState::Early)});
        SubscribeSpec spec;
        world.subscribeOk(spec);
        const dialoginfo::Document document = bodyOf(world.lastNotify());
        QCOMPARE(document.dialogs.size(), std::size_t(2));
        QCOMPARE(document.dialogs[0].id, QStringLiteral("d1"));
        QCOMPARE(document.dialogs[1].id, QStringLiteral("d2"));
        QCOMPARE(document.dialogs[1].state, DialogState::Early);
        QVERIFY(dialoginfo::parseDocument(world.lastNotify().message.body()));
    }

    void singleDialogPicksTheMostInteresting() {
        server::NotifierOptions options = defaultOptions();
        server::WatcherCompatRule byAgent;
        byAgent.userAgentContains = "yealink";
        byAgent.compat.singleDialog = true;
        options.compatRules.push_back(byAgent);
        World world(options);
        world.store.setDialogs(QStringLiteral("202"), QStringLiteral("call:1"),
                               {dialogOf(QStringLiteral("d1"), DialogState::Confirmed)});
        world.store.setDialogs(QStringLiteral("202"), QStringLiteral("call:2"),
                               {dialogOf(QStringLiteral("d2"), DialogState::Early)});
        world.store.setDialogs(QStringLiteral("202"), QStringLiteral("call:3"),
                               {dialogOf(QStringLiteral("d3"), DialogState::Trying)});

        SubscribeSpec yealink;
        yealink.userAgent = "Yealink SIP-T46S 66.86.0.15";
        world.subscribeOk(yealink);
        dialoginfo::Document single = bodyOf(world.lastNotify(yealink.callId));
        QCOMPARE(single.dialogs.size(), std::size_t(1));
        QCOMPARE(single.dialogs.front().id, QStringLiteral("d2"));

        // Another phone without the switch sees them all.
        SubscribeSpec other;
        other.callId = "sub-2@127.0.0.1";
        other.fromTag = "ph-2";
        world.subscribeOk(other, otherPhone());
        QCOMPARE(bodyOf(world.lastNotify(other.callId)).dialogs.size(), std::size_t(3));

        // Among equals the newest wins: the early call ends, two confirmed remain.
        world.answerAll();
        world.store.setDialogs(QStringLiteral("202"), QStringLiteral("call:2"),
                               {dialogOf(QStringLiteral("d2"), DialogState::Confirmed)});
        single = bodyOf(world.lastNotify(yealink.callId));
        QCOMPARE(single.dialogs.size(), std::size_t(1));
        QCOMPARE(single.dialogs.front().id, QStringLiteral("d2"));
        QCOMPARE(single.dialogs.front().state, DialogState::Confirmed);
    }

    void compatRuleByWatcherUser() {
        server::NotifierOptions options = defaultOptions();
        server::WatcherCompatRule byUser;
        byUser.watcherUser = QStringLiteral("203");
        byUser.compat.singleDialog = true;
        options.compatRules.push_back(byUser);
        World world(options);
        world.store.setDialogs(QStringLiteral("202"), QStringLiteral("call:1"),
                               {dialogOf(QStringLiteral("d1"), DialogState::Terminated),
                                dialogOf(QStringLiteral("d2"), DialogState::Proceeding)});
        world.router.watcherUser = QStringLiteral("203");
        SubscribeSpec spec;
        world.subscribeOk(spec);
        const dialoginfo::Document document = bodyOf(world.lastNotify());
        QCOMPARE(document.dialogs.size(), std::size_t(1));
        QCOMPARE(document.dialogs.front().id, QStringLiteral("d2"));
    }

    void dummyDialogWhenIdle() {
        server::NotifierOptions options = defaultOptions();
        options.defaultCompat.dummyDialogWhenIdle = true;
        World world(options);
        SubscribeSpec spec;
        world.subscribeOk(spec);
        world.answerAll();
        const dialoginfo::Document idle = bodyOf(world.lastNotify());
        QCOMPARE(idle.dialogs.size(), std::size_t(1));
        QCOMPARE(idle.dialogs.front().state, DialogState::Terminated);
        QCOMPARE(idle.dialogs.front().id.size(), 32);
        QVERIFY(dialoginfo::parseDocument(world.lastNotify().message.body()));

        // A real dialog replaces it; when that is gone, the same id comes back.
        world.store.setDialogs(QStringLiteral("202"), QStringLiteral("call:1"),
                               {dialogOf(QStringLiteral("d1"), DialogState::Early)});
        world.answerAll();
        const dialoginfo::Document busy = bodyOf(world.lastNotify());
        QCOMPARE(busy.dialogs.size(), std::size_t(1));
        QCOMPARE(busy.dialogs.front().id, QStringLiteral("d1"));
        world.store.removeSource(QStringLiteral("202"), QStringLiteral("call:1"));
        world.answerAll();
        const dialoginfo::Document again = bodyOf(world.lastNotify());
        QCOMPARE(again.dialogs.size(), std::size_t(1));
        QCOMPARE(again.dialogs.front().id, idle.dialogs.front().id);
        QCOMPARE(again.version, std::optional<quint64>(2));
    }

    void coalescesChangesWhileANotifyIsInFlight() {
        World world;
        SubscribeSpec spec;
        world.subscribeOk(spec);
        const SentMessage first = world.lastNotify();
        // RFC 6665 §4.2.2: nothing more while the first is unanswered.
        world.store.setDialogs(QStringLiteral("202"), QStringLiteral("call:1"),
                               {dialogOf(QStringLiteral("d1"), DialogState::Trying)});
        world.store.setDialogs(QStringLiteral("202"), QStringLiteral("call:1"),
                               {dialogOf(QStringLiteral("d1"), DialogState::Early)});
        world.store.setDialogs(QStringLiteral("202"), QStringLiteral("call:2"),
                               {dialogOf(QStringLiteral("d2"), DialogState::Confirmed)});
        QCOMPARE(world.notifies().size(), std::size_t(1));

        world.answer(first);
        const auto notifies = world.notifies();
        QCOMPARE(notifies.size(), std::size_t(2));
        const dialoginfo::Document newest = bodyOf(notifies[1]);
        QCOMPARE(newest.version, std::optional<quint64>(1));
        QCOMPARE(newest.dialogs.size(), std::size_t(2));
        QCOMPARE(newest.dialogs[0].state, DialogState::Early);
        QCOMPARE(newest.dialogs[1].state, DialogState::Confirmed);

        // Answered and nothing changed since: no further NOTIFY.
        world.answer(notifies[1]);
        QCOMPARE(world.notifies().size(), std::size_t(2));
    }

    void refreshGets200AndFullState() {
        World world;
        SubscribeSpec spec;
        world.subscribeOk(spec);
        world.answerAll();
        world.store.setDialogs(QStringLiteral("202"), QStringLiteral("call:1"),
                               {dialogOf(QStringLiteral("d1"), DialogState::Confirmed)});
        world.answerAll();

        world.clock.advance(600s);
        SubscribeSpec refresh = spec;
        refresh.cseq = 2;
        refresh.expires = QByteArray("1800");
        refresh.contact = "<sip:201@127.0.0.1:5062;ob>";
        sip::Message ok = world.subscribe(refresh);
        QCOMPARE(ok.statusCode(), 200);
        QCOMPARE(ok.to()->tag(), QByteArrayView(spec.toTag));
        QCOMPARE(ok.expires(), std::optional<quint32>(1800));
        QCOMPARE(world.notifier->watcherCount(), std::size_t(1));

        const SentMessage notify = world.lastNotify();
        QCOMPARE(world.notifies().size(), std::size_t(3));
        QCOMPARE(notify.message.subscriptionState()->state, QByteArrayView("active"));
        QCOMPARE(notify.message.subscriptionState()->expires(), std::optional<quint32>(1800));
        // The refresh's Contact is the new remote target (RFC 6665 §4.2.1.2).
        QCOMPARE(notify.message.requestUri(), QByteArrayView("sip:201@127.0.0.1:5062;ob"));
        const dialoginfo::Document document = bodyOf(notify);
        QCOMPARE(document.version, std::optional<quint64>(2));
        QCOMPARE(document.dialogs.size(), std::size_t(1));
        world.answerAll();

        // The refreshed duration counts: 1800 s from the refresh, not 3600 from the start.
        world.clock.advance(1799s);
        QCOMPARE(world.notifies().size(), std::size_t(3));
        world.clock.advance(1s);
        QCOMPARE(world.lastNotify().message.subscriptionState()->state,
                 QByteArrayView("terminated"));
    }

    void refreshRefusals() {
        World world;
        SubscribeSpec spec;
        world.subscribeOk(spec);
        world.answerAll();
        // RFC 3261 §12.2.2: a CSeq lower than the last is out of order.
        SubscribeSpec stale = spec;
        stale.cseq = 0;
        QCOMPARE(world.subscribe(stale).statusCode(), 500);
        // A dialog the notifier does not know.
        SubscribeSpec unknown = spec;
        unknown.toTag = "nope";
        unknown.cseq = 5;
        QCOMPARE(world.subscribe(unknown).statusCode(), 481);
        // Another Event id within the dialog names no subscription here.
        SubscribeSpec otherId = spec;
        otherId.cseq = 6;
        otherId.event = QByteArray("dialog;id=7");
        QCOMPARE(world.subscribe(otherId).statusCode(), 481);
        // Too short a refresh: 423; the subscription itself goes on.
        SubscribeSpec brief = spec;
        brief.cseq = 7;
        brief.expires = QByteArray("10");
        QCOMPARE(world.subscribe(brief).statusCode(), 423);
        QCOMPARE(world.notifier->watcherCount(), std::size_t(1));
        QCOMPARE(world.notifies().size(), std::size_t(1));
    }

    void eventIdIsKept() {
        World world;
        SubscribeSpec spec;
        spec.event = QByteArray("dialog;id=42");
        world.subscribeOk(spec);
        QCOMPARE(header(world.lastNotify().message, HeaderId::Event), QByteArray("dialog;id=42"));
        world.answerAll();
        SubscribeSpec refresh = spec;
        refresh.cseq = 2;
        QCOMPARE(world.subscribe(refresh).statusCode(), 200);
    }

    void unsubscribeGetsTerminatedNotifyWithState() {
        World world;
        world.store.setDialogs(QStringLiteral("202"), QStringLiteral("call:1"),
                               {dialogOf(QStringLiteral("d1"), DialogState::Early)});
        SubscribeSpec spec;
        world.subscribeOk(spec);
        world.answerAll();

        SubscribeSpec unsubscribe = spec;
        unsubscribe.cseq = 2;
        unsubscribe.expires = QByteArray("0");
        sip::Message ok = world.subscribe(unsubscribe);
        QCOMPARE(ok.statusCode(), 200);
        QCOMPARE(ok.expires(), std::optional<quint32>(0));
        const SentMessage last = world.lastNotify();
        QCOMPARE(world.notifies().size(), std::size_t(2));
        auto state = last.message.subscriptionState();
        QCOMPARE(state->state, QByteArrayView("terminated"));
        QCOMPARE(state->reason(), QByteArrayView("timeout"));
        QCOMPARE(bodyOf(last).dialogs.size(), std::size_t(1));
        QCOMPARE(bodyOf(last).version, std::optional<quint64>(1));

        // Still there until the last NOTIFY is answered; then gone, and deaf to changes.
        QCOMPARE(world.notifier->watcherCount(), std::size_t(1));
        world.answer(last);
        QCOMPARE(world.notifier->watcherCount(), std::size_t(0));
        QCOMPARE(world.notifier->watcherCount(QStringLiteral("202")), std::size_t(0));
        QVERIFY(!world.notifier->ownsDialog(world.subscribeMessage(unsubscribe)));
        world.store.removeSource(QStringLiteral("202"), QStringLiteral("call:1"));
        QCOMPARE(world.notifies().size(), std::size_t(2));
    }

    void fetchWithExpiresZero() {
        World world;
        world.store.setDialogs(QStringLiteral("202"), QStringLiteral("call:1"),
                               {dialogOf(QStringLiteral("d1"), DialogState::Confirmed)});
        SubscribeSpec spec;
        spec.expires = QByteArray("0");
        sip::Message ok = world.subscribe(spec);
        QCOMPARE(ok.statusCode(), 200);
        QCOMPARE(ok.expires(), std::optional<quint32>(0));
        const SentMessage notify = world.lastNotify();
        QCOMPARE(world.notifies().size(), std::size_t(1));
        QCOMPARE(notify.message.subscriptionState()->state, QByteArrayView("terminated"));
        QCOMPARE(notify.message.subscriptionState()->reason(), QByteArrayView("timeout"));
        QCOMPARE(bodyOf(notify).dialogs.size(), std::size_t(1));
        world.answer(notify);
        QCOMPARE(world.notifier->watcherCount(), std::size_t(0));
    }

    void terminationWaitsForTheNotifyInFlight() {
        World world;
        SubscribeSpec spec;
        world.subscribeOk(spec);
        const SentMessage first = world.lastNotify();
        SubscribeSpec unsubscribe = spec;
        unsubscribe.cseq = 2;
        unsubscribe.expires = QByteArray("0");
        QCOMPARE(world.subscribe(unsubscribe).statusCode(), 200);
        QCOMPARE(world.notifies().size(), std::size_t(1));
        world.answer(first);
        QCOMPARE(world.notifies().size(), std::size_t(2));
        QCOMPARE(world.lastNotify().message.subscriptionState()->state,
                 QByteArrayView("terminated"));
    }

    void expiryEndsTheSubscription() {
        World world;
        SubscribeSpec spec;
        spec.expires = QByteArray("60");
        world.subscribeOk(spec);
        world.answerAll();
        world.clock.advance(59s);
        QCOMPARE(world.notifies().size(), std::size_t(1));
        world.clock.advance(1s);
        const SentMessage last = world.lastNotify();
        QCOMPARE(world.notifies().size(), std::size_t(2));
        QCOMPARE(last.message.subscriptionState()->state, QByteArrayView("terminated"));
        QCOMPARE(last.message.subscriptionState()->reason(), QByteArrayView("timeout"));
        world.answer(last);
        QCOMPARE(world.notifier->watcherCount(), std::size_t(0));
        // A refresh after the end finds nothing.
        SubscribeSpec late = spec;
        late.cseq = 2;
        QCOMPARE(world.subscribe(late).statusCode(), 481);
    }

    void notifyAnswered481RemovesTheWatcher() {
        World world;
        SubscribeSpec spec;
        world.subscribeOk(spec);
        world.answer(world.lastNotify(), 481);
        QCOMPARE(world.notifier->watcherCount(), std::size_t(0));
        world.store.setDialogs(QStringLiteral("202"), QStringLiteral("call:1"),
                               {dialogOf(QStringLiteral("d1"), DialogState::Early)});
        QCOMPARE(world.notifies().size(), std::size_t(1));
    }

    void notifyFailuresRemoveTheWatcher_data() {
        QTest::addColumn<int>("status");
        QTest::newRow("404") << 404;
        QTest::newRow("408") << 408;
        QTest::newRow("500") << 500;
        QTest::newRow("603") << 603;
        QTest::newRow("302") << 302;
    }

    void notifyFailuresRemoveTheWatcher() {
        QFETCH(int, status);
        World world;
        SubscribeSpec spec;
        world.subscribeOk(spec);
        world.answer(world.lastNotify(), status);
        QCOMPARE(world.notifier->watcherCount(), std::size_t(0));
    }

    void notifyTimeoutRemovesTheWatcher() {
        World world;
        SubscribeSpec spec;
        world.subscribeOk(spec);
        // Timer F (64*T1) runs out without an answer.
        world.clock.advance(33s);
        QCOMPARE(world.notifier->watcherCount(), std::size_t(0));
    }

    void undeliverableNotifyRemovesTheWatcher() {
        World world;
        SubscribeSpec spec;
        QCOMPARE(world.subscribeOk(spec).statusCode(), 200);
        world.answerAll();
        world.transport.failAllSends(FakeTransport::defaultSendError());
        world.store.setDialogs(QStringLiteral("202"), QStringLiteral("call:1"),
                               {dialogOf(QStringLiteral("d1"), DialogState::Early)});
        world.transport.failAllSends(std::nullopt);
        QCOMPARE(world.notifier->watcherCount(), std::size_t(0));
        QCOMPARE(world.notifies().size(), std::size_t(1));
    }

    void challengedNotifyKeepsTheSubscription() {
        World world;
        SubscribeSpec spec;
        world.subscribeOk(spec);
        world.answer(world.lastNotify(), 401);
        QCOMPARE(world.notifier->watcherCount(), std::size_t(1));
        world.store.setDialogs(QStringLiteral("202"), QStringLiteral("call:1"),
                               {dialogOf(QStringLiteral("d1"), DialogState::Early)});
        QCOMPARE(world.notifies().size(), std::size_t(2));
    }

    void requestPendingIsRetried() {
        World world;
        SubscribeSpec spec;
        world.subscribeOk(spec);
        world.answer(world.lastNotify(), 491);
        QCOMPARE(world.notifier->watcherCount(), std::size_t(1));
        QCOMPARE(world.notifies().size(), std::size_t(1));
        // RFC 3261 §14.1: within 2 s it is sent again, as a new NOTIFY.
        world.clock.advance(2001ms);
        const auto notifies = world.notifies();
        QCOMPARE(notifies.size(), std::size_t(2));
        QCOMPARE(bodyOf(notifies[1]).version, std::optional<quint64>(1));
        world.answer(notifies[1]);
        QCOMPARE(world.notifier->watcherCount(), std::size_t(1));
    }

    void shutdownTerminatesEverySubscription() {
        World world;
        world.store.setDialogs(QStringLiteral("202"), QStringLiteral("call:1"),
                               {dialogOf(QStringLiteral("d1"), DialogState::Confirmed)});
        SubscribeSpec first;
        world.subscribeOk(first);
        world.answerAll();
        SubscribeSpec second;
        second.callId = "sub-2@127.0.0.1";
        second.fromTag = "ph-2";
        second.requestUri = "sip:203@switchboard.local";
        second.to = "<sip:203@switchboard.local>";
        world.subscribeOk(second, otherPhone());
        const SentMessage secondInFlight = world.lastNotify(second.callId);

        world.notifier->shutdown();
        // The first gets its terminated NOTIFY now, the second once its NOTIFY in flight
        // is answered (RFC 6665 §4.2.2).
        const SentMessage firstLast = world.lastNotify(first.callId);
        QCOMPARE(firstLast.message.subscriptionState()->state, QByteArrayView("terminated"));
        QCOMPARE(firstLast.message.subscriptionState()->reason(), QByteArrayView("deactivated"));
        QCOMPARE(bodyOf(firstLast).dialogs.size(), std::size_t(1));
        QCOMPARE(world.notifies(second.callId).size(), std::size_t(1));
        world.answer(secondInFlight);
        const SentMessage secondLast = world.lastNotify(second.callId);
        QCOMPARE(secondLast.message.subscriptionState()->reason(), QByteArrayView("deactivated"));

        // New subscriptions are refused meanwhile.
        SubscribeSpec third;
        third.callId = "sub-3@127.0.0.1";
        sip::Message refused = world.subscribe(third);
        QCOMPARE(refused.statusCode(), 503);
        QVERIFY(refused.has(HeaderId::RetryAfter));

        QCOMPARE(world.notifier->watcherCount(), std::size_t(2));
        world.answer(firstLast);
        world.answer(secondLast);
        QCOMPARE(world.notifier->watcherCount(), std::size_t(0));
    }

    void escapingSurvivesTheNotify() {
        World world;
        DialogInfo dialog = dialogOf(QStringLiteral("d1"), DialogState::Early, kHostile);
        dialog.callId = QStringLiteral("call\"id'with&quotes<>@127.0.0.1");
        dialog.remote.display = QStringLiteral("\"Boss\" & Co <ltd>");
        world.store.setDialogs(QStringLiteral("202"), QStringLiteral("call:1"), {dialog});
        SubscribeSpec spec;
        world.subscribeOk(spec);
        const SentMessage notify = world.lastNotify();
        auto parsed = dialoginfo::parseDocument(notify.message.body());
        QVERIFY2(parsed, qPrintable(parsed ? QString() : parsed.error().toString()));
        QCOMPARE(parsed->dialogs.size(), std::size_t(1));
        QCOMPARE(parsed->dialogs.front().remote.identity, kHostile);
        QCOMPARE(parsed->dialogs.front().remote.display, dialog.remote.display);
        QCOMPARE(parsed->dialogs.front().callId, dialog.callId);
    }

    void notifiesGoWhereThePhoneReallyIs() {
        // Behind NAT: the Contact names an address the server cannot reach; the SUBSCRIBE
        // came from the NAT's public side.
        {
            World world;
            SubscribeSpec spec;
            spec.contact = "<sip:201@127.0.0.9:5099>";
            world.subscribeOk(spec);
            QCOMPARE(world.lastNotify().message.requestUri(),
                     QByteArrayView("sip:201@127.0.0.9:5099"));
            QCOMPARE(world.lastNotify().destination, phone());
        }
        // Without the source preference the Contact's address is used.
        {
            server::NotifierOptions options = defaultOptions();
            options.notifyToSourceAddress = false;
            World world(options);
            SubscribeSpec spec;
            spec.contact = "<sip:201@127.0.0.9:5099;transport=tcp>";
            world.subscribeOk(spec);
            QCOMPARE(world.lastNotify().destination,
                     FakeTransport::endpoint(Protocol::Tcp, "127.0.0.9", 5099));
        }
        // Over TCP the phone's own flow, whatever the Contact says.
        {
            World world;
            SubscribeSpec spec;
            spec.contact = "<sip:201@127.0.0.9:5099;transport=tcp>";
            sip::Message ok = world.subscribeOk(spec, phone(Protocol::Tcp));
            QCOMPARE(header(ok, HeaderId::Contact),
                     QByteArray("<sip:127.0.0.1:5060;transport=tcp>"));
            QCOMPARE(world.lastNotify().destination, phone(Protocol::Tcp));
        }
    }

    void boundsTheNumberOfWatchers() {
        server::NotifierOptions options = defaultOptions();
        options.maxWatchers = 2;
        options.maxWatchersPerSubscriber = 1;
        World world(options);
        SubscribeSpec first;
        QCOMPARE(world.subscribeOk(first).statusCode(), 200);

        // The same subscriber again: over its own bound.
        SubscribeSpec again;
        again.callId = "sub-2@127.0.0.1";
        again.requestUri = "sip:203@switchboard.local";
        sip::Message perSubscriber = world.subscribe(again);
        QCOMPARE(perSubscriber.statusCode(), 503);
        QVERIFY(perSubscriber.has(HeaderId::RetryAfter));

        world.router.watcherUser = QStringLiteral("203");
        SubscribeSpec second;
        second.callId = "sub-3@127.0.0.1";
        QCOMPARE(world.subscribeOk(second).statusCode(), 200);

        // Over the total bound.
        world.router.watcherUser = QStringLiteral("202");
        SubscribeSpec third;
        third.callId = "sub-4@127.0.0.1";
        sip::Message full = world.subscribe(third);
        QCOMPARE(full.statusCode(), 503);
        QCOMPARE(full.header(HeaderId::RetryAfter), QByteArrayView("30"));
        QCOMPARE(world.notifier->watcherCount(), std::size_t(2));

        // A subscription that ends makes room again.
        world.answer(world.lastNotify(first.callId), 481);
        third.callId = "sub-5@127.0.0.1";
        QCOMPARE(world.subscribe(third).statusCode(), 200);
    }

    void destroyingWithNotifiesInFlightIsSafe() {
        World world;
        SubscribeSpec spec;
        world.subscribeOk(spec);
        const SentMessage pending = world.lastNotify();
        world.router.notifier = nullptr;
        world.notifier.reset();
        // The answer and the timers find no notifier to call.
        world.answer(pending);
        world.clock.advance(40s);
        QCOMPARE(world.transport.countRequests(sip::Method::Notify), 1);
    }
};

QTEST_GUILESS_MAIN(TestDialogNotifier)
#include "tst_dialog_notifier.moc"
