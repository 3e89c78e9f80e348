// Tests app/subscription_bridge.*: the board's directory drives the subscriptions, and
// what a NOTIFY says reaches the board (fake transport, manual clock, real core).

#include <QCoreApplication>
#include <QSet>
#include <QTest>

#include <memory>

#include "app/subscription_bridge.h"
#include "base/manual_clock.h"
#include "base/random.h"
#include "board/console.h"
#include "dialoginfo/dialog_info.h"
#include "fake_transport.h"
#include "sip/message.h"
#include "transaction/transaction_layer.h"
#include "ua/subscription_set.h"

using namespace sb;
using namespace std::chrono_literals;
using dialoginfo::Lamp;
using sip::HeaderId;

namespace {

const transport::Endpoint kProxy{transport::Protocol::Udp,
                                 QHostAddress(QStringLiteral("127.0.0.1")), 5070};

// The transaction layer's server user, as AccountSession is: NOTIFYs to the set.
struct NotifyRouter final : transaction::ServerTransactionUser {
    void onRequest(transaction::TransactionId id, const transport::IncomingMessage& in) override {
        if (set && set->handleRequest(id, in)) return;
        unrouted++;
    }
    ua::SubscriptionSet* set = nullptr;
    int unrouted = 0;
};

struct World {
    World() : transport(&clock), random(7), layer(transport, clock, random), console(clock) {
        dialoginfo::initialiseXml();
        console.setDomain(QStringLiteral("example.com"));
        ua::SubscriptionOptions options;
        options.aor = "sip:200@example.com";
        options.authUser = "200";
        options.password = "secret";
        options.nextHop = [] { return std::optional<transport::Endpoint>(kProxy); };
        options.localEndpointFor = [this](const transport::Endpoint&) {
            return transport.localEndpoint(transport::Protocol::Udp);
        };
        bridge = std::make_unique<app::SubscriptionBridge>(console);
        set = std::make_unique<ua::SubscriptionSet>(layer, clock, random, std::move(options),
                                                    *bridge);
        router.set = set.get();
        layer.setServerUser(&router);
    }
    ~World() {
        layer.setServerUser(nullptr);
        bridge->detach();
    }

    // Lets timers run and queued Qt signals arrive.
    void settle(base::Duration by = 100ms) {
        clock.advance(by);
        QCoreApplication::processEvents();
        QCoreApplication::processEvents();
    }

    // Distinct SUBSCRIBEs (UDP retransmissions repeat Call-ID and CSeq).
    std::vector<test::SentMessage> subscribes() const {
        std::vector<test::SentMessage> out;
        QSet<QByteArray> seen;
        for (const test::SentMessage& sent : transport.requests(sip::Method::Subscribe)) {
            const QByteArray key = sent.message.callId().toByteArray() + ' ' +
                                   QByteArray::number(sent.message.cseq()->number);
            if (!seen.contains(key)) {
                seen.insert(key);
                out.push_back(sent);
            }
        }
        return out;
    }

    // The notifier's side: NOTIFY within the dialog the SUBSCRIBE `sub` created.
    QByteArray notify(const test::SentMessage& sub, int cseq, QByteArrayView contentType,
                      QByteArrayView body, QByteArrayView state = "active;expires=3600") const {
        const sip::Message& request = sub.message;
        const QByteArray fromTag = request.from()->tag().toByteArray();
        QByteArray text =
            "NOTIFY sip:200@127.0.0.1:5060 SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-n" +
            QByteArray::number(cseq) +
            "\r\n"
            "From: <" +
            request.requestUri().toByteArray() +
            ">;tag=notifier\r\n"
            "To: <sip:200@example.com>;tag=" +
            fromTag + "\r\nCall-ID: " + request.callId().toByteArray() +
            "\r\nCSeq: " + QByteArray::number(cseq) +
            " NOTIFY\r\nMax-Forwards: 70\r\nEvent: dialog\r\n"
            "Subscription-State: " +
            state.toByteArray() + "\r\nContact: <sip:notifier@127.0.0.1:5070>\r\n";
        if (!contentType.isEmpty()) text += "Content-Type: " + contentType.toByteArray() + "\r\n";
        text +=
            "Content-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body.toByteArray();
        return text;
    }

    int lastStatusFor(sip::Method method) const {
        int code = 0;
        for (const test::SentMessage& sent : transport.sent()) {
            if (sent.isResponse() && sent.message.cseq() && sent.message.cseq()->method == method)
                code = sent.statusCode();
        }
        return code;
    }

    base::ManualClock clock;
    test::FakeTransport transport;
    base::SeededRandom random;
    transaction::TransactionLayer layer;
    board::Console console;
    std::unique_ptr<app::SubscriptionBridge> bridge;
    std::unique_ptr<ua::SubscriptionSet> set;
    NotifyRouter router;
};

const QByteArray kRinging =
    R"(<?xml version="1.0"?>
<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="1" state="full" entity="sip:201@example.com">
 <dialog id="d1" call-id="c1" local-tag="l1" remote-tag="r1" direction="recipient">
  <state>early</state>
  <remote><identity display="Bob">sip:202@example.com</identity></remote>
  <local><identity>sip:201@example.com</identity></local>
 </dialog>
</dialog-info>)";

}  // namespace

class TstSubscriptionBridge : public QObject {
    Q_OBJECT

private slots:
    void monitoredExtensionsAreSubscribedAndLightUp() {
        World world;
        QVERIFY(world.console.monitor({QStringLiteral("201"), QStringLiteral("Alice"), {}, {}}));
        world.bridge->attach(*world.set);
        world.settle(1s);
        const auto subscribes = world.subscribes();
        QCOMPARE(subscribes.size(), std::size_t(1));
        QCOMPARE(subscribes[0].message.requestUri().toByteArray(),
                 QByteArray("sip:201@example.com"));

        QVERIFY(world.transport.respond(subscribes[0], 200, "notifier"));
        world.settle();
        QVERIFY(world.transport.injectRaw(
            world.notify(subscribes[0], 1, "application/dialog-info+xml", kRinging), kProxy));
        world.settle();
        QCOMPARE(world.lastStatusFor(sip::Method::Notify), 200);
        const board::ExtensionState* state = world.console.state(QStringLiteral("201"));
        QVERIFY(state);
        QVERIFY(state->subscription.usable());
        QCOMPARE(state->lamp.lamp, Lamp::Ringing);
        QCOMPARE(state->lamp.otherDisplay, QStringLiteral("Bob"));
    }

    void aNewExtensionIsSubscribedAndARemovedOneUnsubscribed() {
        World world;
        world.bridge->attach(*world.set);
        QVERIFY(world.console.monitor({QStringLiteral("202"), {}, {}, {}}));
        world.settle(1s);
        auto subscribes = world.subscribes();
        QCOMPARE(subscribes.size(), std::size_t(1));
        QVERIFY(world.transport.respond(subscribes[0], 200, "notifier"));
        world.settle();
        QVERIFY(world.console.unmonitor(QStringLiteral("202")));
        world.settle(1s);
        subscribes = world.subscribes();
        QCOMPARE(subscribes.size(), std::size_t(2));
        QCOMPARE(subscribes[1].message.expires().value_or(99), quint32(0));
    }

    void aBodyOfAnotherTypeIsRefused() {
        World world;
        QVERIFY(world.console.monitor({QStringLiteral("201"), {}, {}, {}}));
        world.bridge->attach(*world.set);
        world.settle(1s);
        const auto subscribes = world.subscribes();
        QCOMPARE(subscribes.size(), std::size_t(1));
        QVERIFY(world.transport.respond(subscribes[0], 200, "notifier"));
        world.settle();
        QVERIFY(world.transport.injectRaw(
            world.notify(subscribes[0], 1, "application/pidf+xml", "<presence/>"), kProxy));
        world.settle();
        QCOMPARE(world.lastStatusFor(sip::Method::Notify), 400);
        QCOMPARE(world.console.state(QStringLiteral("201"))->lamp.lamp, Lamp::Offline);
    }

    void malformedDialogInfoIsRefusedWithItsReason() {
        World world;
        QVERIFY(world.console.monitor({QStringLiteral("201"), {}, {}, {}}));
        world.bridge->attach(*world.set);
        world.settle(1s);
        const auto subscribes = world.subscribes();
        QVERIFY(world.transport.respond(subscribes[0], 200, "notifier"));
        world.settle();
        QVERIFY(world.transport.injectRaw(
            world.notify(subscribes[0], 1, "application/dialog-info+xml", "<dialog-info"), kProxy));
        world.settle();
        QCOMPARE(world.lastStatusFor(sip::Method::Notify), 400);
        bool named = false;
        for (const test::SentMessage& sent : world.transport.sent()) {
            if (sent.isResponse() && sent.statusCode() == 400)
                named = sent.message.reasonPhrase().startsWith("Bad dialog-info");
        }
        QVERIFY(named);
    }

    void anEmptyNotifyMeansNoDialogs() {
        // Kamailio's presence_dialoginfo sends no body when no dialog is stored.
        World world;
        QVERIFY(world.console.monitor({QStringLiteral("201"), {}, {}, {}}));
        world.bridge->attach(*world.set);
        world.settle(1s);
        const auto subscribes = world.subscribes();
        QVERIFY(world.transport.respond(subscribes[0], 200, "notifier"));
        world.settle();
        QVERIFY(world.transport.injectRaw(
            world.notify(subscribes[0], 1, "application/dialog-info+xml", kRinging), kProxy));
        world.settle();
        QVERIFY(world.transport.injectRaw(world.notify(subscribes[0], 2, {}, {}), kProxy));
        world.settle();
        QCOMPARE(world.lastStatusFor(sip::Method::Notify), 200);
        QCOMPARE(world.console.state(QStringLiteral("201"))->lamp.lamp, Lamp::Idle);
    }

    void activeButNoNotifyYetIsNotIdle() {
        World world;
        QVERIFY(world.console.monitor({QStringLiteral("201"), {}, {}, {}}));
        world.bridge->attach(*world.set);
        world.settle(1s);
        QVERIFY(world.transport.respond(world.subscribes()[0], 200, "notifier"));
        world.settle();
        // Nothing is known before the first NOTIFY (RFC 6665 §4.1.2.4).
        QCOMPARE(world.console.state(QStringLiteral("201"))->lamp.lamp, Lamp::Offline);
    }
};

QTEST_GUILESS_MAIN(TstSubscriptionBridge)
#include "tst_subscription_bridge.moc"
