// Tests core/board/board_republisher.*: client mode's publishing of each monitored
// extension's merged dialog-info to a presence server (FakeTransport, ManualClock):
// one publication per extension and entity, a PUBLISH only when the document changes,
// publish_to, nothing before the state is known, removal when an extension leaves.

#include <QCoreApplication>
#include <QTest>

#include <set>

#include "base/manual_clock.h"
#include "base/random.h"
#include "board/board_republisher.h"
#include "board/console.h"
#include "dialoginfo/dialog_info.h"
#include "fake_transport.h"
#include "transaction/transaction_layer.h"

using namespace sb;
using namespace std::chrono_literals;
using dialoginfo::DialogState;
using sip::HeaderId;
using test::FakeTransport;
using transport::Protocol;

namespace {

transport::Endpoint presenceServer() {
    return FakeTransport::endpoint(Protocol::Udp, "127.0.0.1", 5080);
}

// 202 rings from 201 (as a PBX's NOTIFY says it).
QByteArray ringing(int version) {
    return "<?xml version=\"1.0\"?>\n"
           "<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" version=\"" +
           QByteArray::number(version) +
           "\" state=\"full\" entity=\"sip:202@pbx.example\">\n"
           "  <dialog id=\"a1\" call-id=\"c1\" local-tag=\"lt\" remote-tag=\"rt\" "
           "direction=\"recipient\">\n"
           "    <state>early</state><duration>" +
           QByteArray::number(version) +
           "</duration>\n"
           "    <local><identity>sip:202@pbx.example</identity></local>\n"
           "    <remote><identity display=\"Alice\">sip:201@pbx.example</identity></remote>\n"
           "  </dialog>\n"
           "</dialog-info>\n";
}

QByteArray idle(int version) {
    return "<?xml version=\"1.0\"?>\n"
           "<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" version=\"" +
           QByteArray::number(version) + "\" state=\"full\" entity=\"sip:202@pbx.example\"/>\n";
}

struct World {
    World() : transport(&clock), random(5), layer(transport, clock, random), console(clock) {
        dialoginfo::initialiseXml();
        console.setDomain(QStringLiteral("pbx.example"));
        board::RepublisherOptions options;
        options.server = presenceServer();
        republisher =
            std::make_unique<board::BoardRepublisher>(console, layer, clock, random, options);
    }

    void monitor(board::Extension extension) {
        const QString number = extension.number;
        QVERIFY(console.monitor(extension));
        ua::SubscriptionStatus active;
        active.state = ua::SubscriptionStatus::State::Active;
        console.setSubscriptionStatus(number, active);
    }
    void notify(const QString& number, const QByteArray& body) {
        QCOMPARE(console.applyDialogInfo(body, number), board::ApplyResult::Applied);
        settle();
    }
    void settle() {
        QCoreApplication::processEvents();  // the console's coalesced signals
        clock.advance(0ms);                 // the clients send from the event loop
    }
    std::vector<test::SentMessage> publishes() const {
        std::vector<test::SentMessage> out;
        std::set<std::pair<QByteArray, quint32>> seen;
        for (const test::SentMessage& sent : transport.requests(sip::Method::Publish)) {
            const auto key =
                std::pair{sent.message.callId().toByteArray(), sent.message.cseq()->number};
            if (seen.insert(key).second) out.push_back(sent);
        }
        return out;
    }
    void ok(const test::SentMessage& request) {
        sip::Message response = sip::makeResponse(request.message, 200, {}, "esc");
        response.addHeader(HeaderId::SipETag, "e" + QByteArray::number(++etags));
        response.addHeader(HeaderId::Expires, "3600");
        QVERIFY(transport.answer(request, response));
    }
    static dialoginfo::Document bodyOf(const test::SentMessage& sent) {
        auto parsed = dialoginfo::parseDocument(sent.message.body());
        if (!parsed) qFatal("PUBLISH body does not parse");
        return *parsed;
    }

    base::ManualClock clock;
    FakeTransport transport;
    base::SeededRandom random;
    transaction::TransactionLayer layer;
    board::Console console;
    std::unique_ptr<board::BoardRepublisher> republisher;
    int etags = 0;
};

}  // namespace

class TestBoardRepublisher : public QObject {
    Q_OBJECT

private slots:
    void publishesTheMergedStateWhenItChanges() {
        World w;
        std::vector<board::RepublishEvent> events;
        w.republisher->setEventListener(
            [&](const board::RepublishEvent& event) { events.push_back(event); });
        w.monitor({QStringLiteral("202"), QStringLiteral("Bob"), {}, {}});
        w.republisher->start();
        w.settle();
        // Nothing is known before the first NOTIFY: nothing to say.
        QVERIFY(w.publishes().empty());

        w.notify(QStringLiteral("202"), ringing(1));
        QCOMPARE(w.publishes().size(), std::size_t(1));
        const test::SentMessage first = w.publishes().front();
        QCOMPARE(first.destination, presenceServer());
        QCOMPARE(first.message.requestUri(), QByteArrayView("sip:202@pbx.example"));
        QCOMPARE(first.message.header(HeaderId::Event), QByteArrayView("dialog"));
        const dialoginfo::Document document = World::bodyOf(first);
        QCOMPARE(document.entity, QStringLiteral("sip:202@pbx.example"));
        QCOMPARE(document.dialogs.size(), std::size_t(1));
        QCOMPARE(document.dialogs.front().state, DialogState::Early);
        QCOMPARE(document.dialogs.front().remote.identity, QStringLiteral("sip:201@pbx.example"));
        w.ok(first);
        QCOMPARE(events.size(), std::size_t(1));
        QCOMPARE(events.back().kind, board::RepublishEvent::Kind::Published);
        QCOMPARE(events.back().dialogState, QStringLiteral("early"));

        // The same state again (only its duration aged): no PUBLISH.
        w.notify(QStringLiteral("202"), ringing(2));
        QCOMPARE(w.publishes().size(), std::size_t(1));

        // Idle: a document without dialogs.
        w.notify(QStringLiteral("202"), idle(3));
        QCOMPARE(w.publishes().size(), std::size_t(2));
        const test::SentMessage second = w.publishes().back();
        QVERIFY(second.message.has(HeaderId::SipIfMatch));
        QVERIFY(World::bodyOf(second).dialogs.empty());
        QCOMPARE(World::bodyOf(second).version, std::optional<quint64>(1));
    }

    void publishToListsTheEntities() {
        World w;
        board::Extension extension{QStringLiteral("202"), QStringLiteral("Bob"), {}, {}};
        extension.publishTo = {QStringLiteral("sip:202@presence.example"),
                               QStringLiteral("sip:bob@presence.example")};
        w.monitor(extension);
        w.republisher->start();
        w.notify(QStringLiteral("202"), ringing(1));
        QStringList uris;
        for (const test::SentMessage& sent : w.publishes())
            uris << QString::fromUtf8(sent.message.requestUri());
        uris.sort();
        QCOMPARE(uris, extension.publishTo);
        QCOMPARE(w.republisher->publicationCount(), std::size_t(2));
    }

    void anExtensionThatLeavesIsUnpublished() {
        World w;
        w.monitor({QStringLiteral("202"), QStringLiteral("Bob"), {}, {}});
        w.republisher->start();
        w.notify(QStringLiteral("202"), ringing(1));
        w.ok(w.publishes().back());
        QVERIFY(w.console.unmonitor(QStringLiteral("202")));
        w.settle();
        const test::SentMessage removal = w.publishes().back();
        QCOMPARE(removal.message.expires(), std::optional<quint32>(0));
        QCOMPARE(removal.message.requestUri(), QByteArrayView("sip:202@pbx.example"));
        w.ok(removal);
        w.clock.advance(0ms);
        QCOMPARE(w.republisher->publicationCount(), std::size_t(0));
    }

    // A restart (a crash included) takes the publications up: the extension's first
    // state replaces what the server holds under the saved ETag (no second publication
    // beside it), the version goes on, and a saved extension no longer on the board is
    // removed. What ran out meanwhile, and a damaged file, restore nothing.
    void aRestartTakesThePublicationsUp() {
        World before;
        int changes = 0;
        before.republisher->setStateChangedListener([&changes] { ++changes; });
        before.monitor({QStringLiteral("202"), QStringLiteral("Bob"), {}, {}});
        before.monitor({QStringLiteral("203"), QStringLiteral("Carol"), {}, {}});
        before.republisher->start();
        before.notify(QStringLiteral("202"), ringing(1));
        before.notify(QStringLiteral("203"), idle(1).replace("sip:202@", "sip:203@"));
        for (const test::SentMessage& sent : before.publishes())
            before.ok(sent);
        QCOMPARE(changes, 2);
        const qint64 wall = 1'800'000'000'000;
        const QByteArray saved = before.republisher->saveState(wall);

        World after;  // 203 is no longer on the board
        after.monitor({QStringLiteral("202"), QStringLiteral("Bob"), {}, {}});
        QCOMPARE(after.republisher->restoreState(saved, wall + 60'000), 2);
        after.republisher->start();
        after.settle();
        // 203's publication is removed under its ETag.
        QCOMPARE(after.publishes().size(), std::size_t(1));
        const test::SentMessage removal = after.publishes().front();
        QCOMPARE(removal.message.requestUri(), QByteArrayView("sip:203@pbx.example"));
        QCOMPARE(removal.message.expires(), std::optional<quint32>(0));
        QCOMPARE(removal.message.header(HeaderId::SipIfMatch), QByteArrayView("e2"));
        // 202's first state modifies the publication of before.
        after.notify(QStringLiteral("202"), idle(5));
        QCOMPARE(after.publishes().size(), std::size_t(2));
        const test::SentMessage modify = after.publishes().back();
        QCOMPARE(modify.message.requestUri(), QByteArrayView("sip:202@pbx.example"));
        QCOMPARE(modify.message.header(HeaderId::SipIfMatch), QByteArrayView("e1"));
        QCOMPARE(World::bodyOf(modify).version, std::optional<quint64>(1));

        World late;
        QCOMPARE(late.republisher->restoreState(saved, wall + 3'600'000), 0);
        QCOMPARE(late.republisher->restoreState("{broken", wall), 0);
        QCOMPARE(late.republisher->publicationCount(), std::size_t(0));
    }
};

QTEST_GUILESS_MAIN(TestBoardRepublisher)
#include "tst_board_republisher.moc"
