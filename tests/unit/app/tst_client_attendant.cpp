// ClientAttendant: the operator's actions at a PBX (issue 7, client mode) over a fake
// transport and a ManualClock. A pickup takes the ringing dialog from the board (the
// extension's dialog-info) and REFERs the operator's phone with the caller's target and
// Replaces; its NOTIFYs become the call events the front ends show. Calls to the
// reception identity ring in the queue and leave by 302 with the registered identity as
// the diverting URI, or by a rejection. What cannot be done says why.

#include <QCoreApplication>
#include <QTest>

#include "app/client_attendant.h"
#include "base/manual_clock.h"
#include "base/random.h"
#include "board/console.h"
#include "fake_transport.h"
#include "transaction/transaction_layer.h"

using namespace sb;
using namespace std::chrono_literals;
using sb::sip::HeaderId;
using sb::test::FakeTransport;

namespace {

transport::Endpoint pbx() {
    return FakeTransport::endpoint(transport::Protocol::Udp, "127.0.0.1", 5062);
}

app::Config clientConfig() {
    app::Config config;
    config.server.enabled = false;
    config.account.aor = QStringLiteral("sip:200@pbx.example.com");
    config.account.authUser = QStringLiteral("200");
    config.subscriptions.domain = QStringLiteral("pbx.example.com");
    config.attendant.options.number = QStringLiteral("200");
    config.attendant.options.phoneUser = QStringLiteral("204");
    config.attendant.options.defaultReason = "deflection";
    return config;
}

// 202's document while a call from 201 rings there (as Kamailio's presence sends it).
QByteArray ringingAt202() {
    return "<?xml version=\"1.0\"?>\n"
           "<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" version=\"1\" "
           "state=\"full\" entity=\"sip:202@pbx.example.com\">"
           "<dialog id=\"d1\" call-id=\"abc@callers.test\" local-tag=\"t202\" "
           "remote-tag=\"t201\" direction=\"recipient\"><state>early</state>"
           "<local><identity>sip:202@pbx.example.com</identity></local>"
           "<remote><identity display=\"Alice\">sip:201@pbx.example.com</identity>"
           "<target uri=\"sip:201@127.0.0.1:5070\"/></remote></dialog></dialog-info>";
}

QByteArray inviteToReception(const QByteArray& callId) {
    return "INVITE sip:200@127.0.0.1:5060 SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-" +
           callId +
           "\r\n"
           "From: \"Alice\" <sip:201@pbx.example.com>;tag=a1\r\n"
           "To: <sip:200@pbx.example.com>\r\n"
           "Call-ID: " +
           callId +
           "\r\n"
           "CSeq: 1 INVITE\r\n"
           "Max-Forwards: 70\r\n"
           "Contact: <sip:201@127.0.0.1:5070>\r\n"
           "Diversion: <sip:100@pbx.example.com>;reason=unconditional\r\n"
           "Content-Length: 0\r\n\r\n";
}

// The session's part: requests go to the attendant first, as AccountSession does.
class Owner final : public transaction::ServerTransactionUser {
public:
    void onRequest(transaction::TransactionId id,
                   const transport::IncomingMessage& incoming) override {
        if (attendant && attendant->onRequest(id, incoming.message)) return;
        (void)layer->sendResponse(id, sip::makeResponse(incoming.message, 481));
    }
    void onCancel(transaction::TransactionId id,
                  const transport::IncomingMessage& cancel) override {
        if (attendant) attendant->onCancel(id, cancel.message);
    }
    transaction::TransactionLayer* layer = nullptr;
    app::ClientAttendant* attendant = nullptr;
};

struct World {
    explicit World(app::Config c = clientConfig())
        : config(std::move(c)),
          transport(&clock),
          random(11),
          layer(transport, clock, random),
          console(clock) {
        console.setDomain(config.subscriptions.domain);
        ua::SubscriptionStatus active;
        active.state = ua::SubscriptionStatus::State::Active;
        for (const char* number : {"201", "202", "203", "204"}) {
            (void)console.monitor(board::Extension{QString::fromLatin1(number), {}, {}, {}});
            console.setSubscriptionStatus(QString::fromLatin1(number), active);
        }
        app::ClientAttendant::Wiring wiring;
        wiring.contactUri = "sip:200@127.0.0.1:5060";
        wiring.nextHop = [] { return std::optional<transport::Endpoint>(pbx()); };
        wiring.localEndpointFor = [](const transport::Endpoint&) {
            return std::optional<transport::Endpoint>(
                FakeTransport::endpoint(transport::Protocol::Udp, "127.0.0.1", 5060));
        };
        attendant = std::make_unique<app::ClientAttendant>(config, layer, clock, random, &console,
                                                           std::move(wiring));
        attendant->setListener([this](const app::QueuedCallView& view) { events << view; });
        owner.layer = &layer;
        owner.attendant = attendant.get();
        layer.setServerUser(&owner);
    }
    ~World() { layer.setServerUser(nullptr); }

    void receive(const QByteArray& bytes) {
        if (!transport.injectRaw(bytes, pbx())) qFatal("inject failed");
    }
    sip::Message notifyFor(const test::SentMessage& refer, const QByteArray& body,
                           const QByteArray& state) {
        sip::Message n = sip::Message::request(sip::Method::Notify, "sip:200@127.0.0.1:5060");
        n.addHeader(HeaderId::Via,
                    "SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bKn" + QByteArray::number(++notifies));
        n.addHeader(HeaderId::MaxForwards, "70");
        n.addHeader(HeaderId::From, "<sip:204@pbx.example.com>;tag=phone204");
        n.addHeader(HeaderId::To, refer.message.header(HeaderId::From).toByteArray());
        n.addHeader(HeaderId::CallId, refer.message.callId().toByteArray());
        n.addHeader(HeaderId::CSeq, QByteArray::number(notifies) + " NOTIFY");
        n.addHeader(HeaderId::Contact, "<sip:204@127.0.0.1:5080>");
        n.addHeader(HeaderId::Event, "refer");
        n.addHeader(HeaderId::SubscriptionState, state);
        n.setBody("message/sipfrag", body);
        return n;
    }

    app::Config config;
    base::ManualClock clock;
    FakeTransport transport;
    base::SeededRandom random;
    transaction::TransactionLayer layer;
    board::Console console;
    Owner owner;
    std::unique_ptr<app::ClientAttendant> attendant;
    QList<app::QueuedCallView> events;
    int notifies = 0;
};

}  // namespace

class TstClientAttendant : public QObject {
    Q_OBJECT

private slots:
    // The ringing dialog on the board becomes a REFER to the operator's phone whose
    // Refer-To calls the caller's target with Replaces (RFC 3891: the tags as the caller
    // sees its dialog), and the phone's NOTIFYs become the call's events.
    void pickupReferThePhoneWithTheBoardsDialog() {
        World w;
        QCOMPARE(w.console.applyDialogInfo(ringingAt202(), QStringLiteral("202")),
                 board::ApplyResult::Applied);
        const Result<QString> done = w.attendant->pickup(QStringLiteral("202"), {});
        QVERIFY2(done, done ? "" : qPrintable(done.error().reason));
        QCOMPARE(*done,
                 QStringLiteral("Asking 204 (your phone) to take over the call ringing at 202"));
        QCOMPARE(w.events.size(), 1);
        QCOMPARE(w.events.last().state, QStringLiteral("picking-up"));
        QCOMPARE(w.events.last().callerUri, QStringLiteral("sip:201@pbx.example.com"));
        QCOMPARE(w.events.last().callerDisplay, QStringLiteral("Alice"));
        QCOMPARE(w.events.last().target, QStringLiteral("204"));
        QVERIFY(!w.events.last().queued);

        w.clock.advance(0ms);
        const test::SentMessage* refer = w.transport.lastRequest(sip::Method::Refer);
        QVERIFY(refer);
        QCOMPARE(refer->message.requestUri(), QByteArrayView("sip:204@pbx.example.com"));
        QCOMPARE(refer->message.header(HeaderId::ReferTo),
                 QByteArrayView("<sip:201@127.0.0.1:5070?Replaces=abc%40callers.test%3Bto-tag%"
                                "3Dt201%3Bfrom-tag%3Dt202%3Bearly-only>"));
        QCOMPARE(refer->destination, pbx());
        const test::SentMessage referCopy = *refer;
        QVERIFY(w.transport.respond(referCopy, 202, "phone204"));

        QVERIFY(w.transport.inject(
            w.notifyFor(referCopy, "SIP/2.0 100 Trying\r\n", "active;expires=60"), pbx()));
        QVERIFY(w.transport.inject(
            w.notifyFor(referCopy, "SIP/2.0 200 OK\r\n", "terminated;reason=noresource"), pbx()));
        QCOMPARE(w.transport.countResponses(200), 2);
        QCOMPARE(w.events.last().state, QStringLiteral("answered"));
        QCOMPARE(w.events.last().call, w.events.first().call);
        QVERIFY(!w.events.last().outcome.isEmpty());
    }

    // "Already answered" (486 from early-only) ends the pickup with its reason: the call
    // stays where it was, never stolen.
    void pickupThatCameTooLateSaysSo() {
        World w;
        w.console.applyDialogInfo(ringingAt202(), QStringLiteral("202"));
        QVERIFY(w.attendant->pickup(QString(), QStringLiteral("d1")));  // by dialog id
        w.clock.advance(0ms);
        const test::SentMessage refer = *w.transport.lastRequest(sip::Method::Refer);
        QVERIFY(w.transport.respond(refer, 202, "phone204"));
        QVERIFY(w.transport.inject(
            w.notifyFor(refer, "SIP/2.0 486 Busy Here\r\n", "terminated;reason=noresource"),
            pbx()));
        QCOMPARE(w.events.last().state, QStringLiteral("failed"));
        QVERIFY2(w.events.last().outcome.contains(QStringLiteral("already answered")),
                 qPrintable(w.events.last().outcome));
        QCOMPARE(w.transport.countRequests(sip::Method::Refer), 1);
    }

    void pickupRefusals_data() {
        QTest::addColumn<QString>("extension");
        QTest::addColumn<QString>("dialog");
        QTest::addColumn<bool>("phone");
        QTest::addColumn<QString>("error");
        QTest::newRow("idle") << "203"
                              << "" << true << "nothing rings at 203 (idle)";
        QTest::newRow("unknown") << "999"
                                 << "" << true << "999 is not an extension on the board";
        QTest::newRow("no such dialog")
            << ""
            << "nope" << true << "no call with dialog id nope on the board";
        QTest::newRow("no phone") << "202"
                                  << "" << false
                                  << "no phone of the operator is configured ([attendant] phone)";
    }

    void pickupRefusals() {
        QFETCH(QString, extension);
        QFETCH(QString, dialog);
        QFETCH(bool, phone);
        QFETCH(QString, error);
        app::Config config = clientConfig();
        if (!phone) config.attendant.options.phoneUser.clear();
        World w(config);
        w.console.applyDialogInfo(ringingAt202(), QStringLiteral("202"));
        w.console.applyDialogInfo(
            "<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" "
            "version=\"1\" state=\"full\" "
            "entity=\"sip:203@pbx.example.com\"/>",
            QStringLiteral("203"));
        const Result<QString> done = w.attendant->pickup(extension, dialog);
        QVERIFY(!done);
        QCOMPARE(done.error().reason, error);
        w.clock.advance(0ms);
        QCOMPARE(w.transport.countRequests(sip::Method::Refer), 0);
        QVERIFY(w.events.isEmpty());
    }

    // A call to the reception identity rings in the queue; a forward sends it on by 302
    // with the registered identity as the diverting URI, above what it arrived with.
    void queuedCallIsForwardedByRedirect() {
        World w;
        w.receive(inviteToReception("q1"));
        QCOMPARE(w.transport.countResponses(180), 1);
        const QList<app::QueuedCallView> queue = w.attendant->queue();
        QCOMPARE(queue.size(), 1);
        QCOMPARE(queue.first().state, QStringLiteral("waiting"));
        QVERIFY(queue.first().queued);
        QCOMPARE(queue.first().callerUri, QStringLiteral("sip:201@pbx.example.com"));
        QCOMPARE(queue.first().history, QStringList{QStringLiteral("from 100, unconditional")});

        app::ForwardCommand command;
        command.call = queue.first().call;
        command.to = QStringLiteral("203");
        command.reason = QStringLiteral("user-busy");
        const Result<QString> done = w.attendant->forward(command);
        QVERIFY2(done, done ? "" : qPrintable(done.error().reason));
        const sip::Message& redirect = w.transport.lastResponse()->message;
        QCOMPARE(redirect.statusCode(), 302);
        QCOMPARE(redirect.header(HeaderId::Contact), QByteArrayView("<sip:203@pbx.example.com>"));
        QByteArrayList diversions;
        for (const sip::HeaderField& field : redirect.headers())
            if (field.id == HeaderId::Diversion) diversions << field.value.toByteArray();
        QCOMPARE(diversions, (QByteArrayList{"<sip:200@pbx.example.com>;reason=user-busy",
                                             "<sip:100@pbx.example.com>;reason=unconditional"}));
        QCOMPARE(w.events.last().state, QStringLiteral("forwarded"));
        QCOMPARE(w.events.last().status, 302);
        QVERIFY(w.attendant->queue().isEmpty());
    }

    // Send to my phone is a 302 to her phone; reject ends the call with the status.
    void sendToPhoneAndReject() {
        World w;
        w.receive(inviteToReception("q1"));
        w.receive(inviteToReception("q2"));
        const QList<app::QueuedCallView> queue = w.attendant->queue();
        QCOMPARE(queue.size(), 2);
        QVERIFY(w.attendant->sendToPhone(queue.at(0).call));
        QCOMPARE(w.transport.lastResponse()->message.header(HeaderId::Contact),
                 QByteArrayView("<sip:204@pbx.example.com>"));
        QVERIFY(w.attendant->reject(queue.at(1).call, 603));
        QCOMPARE(w.transport.lastResponse()->message.statusCode(), 603);
        QCOMPARE(w.events.last().state, QStringLiteral("gone"));
        QCOMPARE(w.events.last().status, 603);
        // The call has left: another action on it says so.
        const Result<QString> again = w.attendant->reject(queue.at(1).call, 486);
        QVERIFY(!again);
        QVERIFY2(again.error().reason.contains(QStringLiteral("ended")),
                 qPrintable(again.error().reason));
    }

    // Another extension's ringing call cannot be forwarded at a PBX: refused with why.
    void forwardOfAnExtensionsCallIsRefused() {
        World w;
        w.console.applyDialogInfo(ringingAt202(), QStringLiteral("202"));
        app::ForwardCommand command;
        command.extension = QStringLiteral("202");
        command.to = QStringLiteral("203");
        const Result<QString> done = w.attendant->forward(command);
        QVERIFY(!done);
        QCOMPARE(done.error().reason, app::ClientAttendant::forwardUnavailable());
        QVERIFY(w.transport.sent().empty());
    }
};

QTEST_GUILESS_MAIN(TstClientAttendant)
#include "tst_client_attendant.moc"
