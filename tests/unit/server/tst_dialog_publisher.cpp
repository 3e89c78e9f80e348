// Tests core/server/dialog_publisher.*: call sides as the tracker reports them become
// one publication each at the presence server (FakeTransport, ManualClock): which sides
// are published and when, one PUBLISH per change of what the document says, the end
// with a short expiry and then nothing more, dialog id styles, and the events reported.

#include <QTest>

#include <memory>
#include <set>

#include "base/manual_clock.h"
#include "base/random.h"
#include "dialoginfo/dialog_info.h"
#include "fake_transport.h"
#include "server/dialog_publisher.h"
#include "server/local_domains.h"
#include "transaction/transaction_layer.h"

using namespace sb;
using namespace std::chrono_literals;
using dialoginfo::DialogState;
using dialoginfo::Direction;
using sip::HeaderId;
using test::FakeTransport;
using transport::Protocol;

namespace {

transport::Endpoint presenceServer() {
    return FakeTransport::endpoint(Protocol::Udp, "127.0.0.1", 5080);
}

server::DialogTracker::CallSide side(server::CallId call, Direction direction, DialogState state,
                                     QString user) {
    server::DialogTracker::CallSide out;
    out.call = call;
    out.user = std::move(user);
    dialoginfo::DialogInfo& d = out.dialog;
    const bool caller = direction == Direction::Initiator;
    d.id = QStringLiteral("d%1%2").arg(call).arg(caller ? 'i' : 'r');
    d.callId = QStringLiteral("call-%1@127.0.0.1").arg(call);
    d.direction = direction;
    d.state = state;
    d.localTag = caller ? QStringLiteral("from") : QString();
    d.remoteTag = caller ? QString() : QStringLiteral("from");
    d.local.identity = caller ? QStringLiteral("sip:201@switchboard.local")
                              : QStringLiteral("sip:202@switchboard.local");
    d.remote.identity = caller ? QStringLiteral("sip:202@switchboard.local")
                               : QStringLiteral("sip:201@switchboard.local");
    return out;
}

struct World {
    explicit World(server::DialogPublisherOptions options = {})
        : transport(&clock),
          random(11),
          layer(transport, clock, random),
          domains(QStringList{QStringLiteral("switchboard.local")}) {
        options.server = presenceServer();
        publisher =
            std::make_unique<server::DialogPublisher>(layer, clock, random, domains, options);
        publisher->setEventListener(
            [this](const server::PublicationEvent& event) { events.push_back(event); });
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
    void feed(const server::DialogTracker::CallSide& s) {
        publisher->onSide(s);
        clock.advance(0ms);  // the clients send from the event loop
    }
    void ok(const test::SentMessage& request, quint32 expires) {
        sip::Message response = sip::makeResponse(request.message, 200, {}, "esc");
        response.addHeader(HeaderId::SipETag, "e" + QByteArray::number(++etags));
        response.addHeader(HeaderId::Expires, QByteArray::number(expires));
        QVERIFY(transport.answer(request, response));
    }
    dialoginfo::Document bodyOf(const test::SentMessage& sent) const {
        auto parsed = dialoginfo::parseDocument(sent.message.body());
        if (!parsed) qFatal("PUBLISH body does not parse");
        return *parsed;
    }

    base::ManualClock clock;
    FakeTransport transport;
    base::SeededRandom random;
    transaction::TransactionLayer layer;
    server::LocalDomains domains;
    std::unique_ptr<server::DialogPublisher> publisher;
    std::vector<server::PublicationEvent> events;
    int etags = 0;
};

}  // namespace

class TestDialogPublisher : public QObject {
    Q_OBJECT

private slots:
    void callerFromTheInviteCalleeFromItsFirstAnswer() {
        World w;
        w.feed(side(1, Direction::Initiator, DialogState::Trying, QStringLiteral("201")));
        w.feed(side(1, Direction::Recipient, DialogState::Trying, QStringLiteral("202")));
        QCOMPARE(w.publishes().size(), std::size_t(1));
        const test::SentMessage caller = w.publishes().front();
        QCOMPARE(caller.destination, presenceServer());
        QCOMPARE(caller.message.requestUri(), QByteArrayView("sip:201@switchboard.local"));
        QCOMPARE(caller.message.header(HeaderId::Event), QByteArrayView("dialog"));
        const dialoginfo::Document document = w.bodyOf(caller);
        QCOMPARE(document.entity, QStringLiteral("sip:201@switchboard.local"));
        QCOMPARE(document.dialogs.size(), std::size_t(1));
        QCOMPARE(document.dialogs.front().state, DialogState::Trying);
        QCOMPARE(document.dialogs.front().direction, Direction::Initiator);

        w.feed(side(1, Direction::Recipient, DialogState::Early, QStringLiteral("202")));
        QCOMPARE(w.publishes().size(), std::size_t(2));
        const test::SentMessage callee = w.publishes().back();
        QCOMPARE(callee.message.requestUri(), QByteArrayView("sip:202@switchboard.local"));
        QCOMPARE(w.bodyOf(callee).dialogs.front().state, DialogState::Early);
        QCOMPARE(w.publisher->publicationCount(), std::size_t(2));
    }

    void calleeTryingWhenAskedFor() {
        server::DialogPublisherOptions options;
        options.calleeTrying = true;
        World w(options);
        w.feed(side(1, Direction::Recipient, DialogState::Trying, QStringLiteral("202")));
        QCOMPARE(w.publishes().size(), std::size_t(1));
    }

    void onePublishPerChangeOfTheDocumentWithRisingVersions() {
        World w;
        const auto trying =
            side(1, Direction::Initiator, DialogState::Trying, QStringLiteral("201"));
        w.feed(trying);
        w.ok(w.publishes().back(), 3600);
        w.feed(trying);  // nothing the document shows changed
        QCOMPARE(w.publishes().size(), std::size_t(1));
        w.feed(side(1, Direction::Initiator, DialogState::Early, QStringLiteral("201")));
        QCOMPARE(w.publishes().size(), std::size_t(2));
        const test::SentMessage modify = w.publishes().back();
        QCOMPARE(modify.message.header(HeaderId::SipIfMatch), QByteArrayView("e1"));
        QCOMPARE(w.bodyOf(w.publishes().front()).version, std::optional<quint64>(0));
        QCOMPARE(w.bodyOf(modify).version, std::optional<quint64>(1));
    }

    void theEndIsPublishedBrieflyThenForgotten() {
        World w;
        w.feed(side(1, Direction::Initiator, DialogState::Confirmed, QStringLiteral("201")));
        w.ok(w.publishes().back(), 3600);
        auto ended = side(1, Direction::Initiator, DialogState::Terminated, QStringLiteral("201"));
        ended.dialog.stateEvent = QStringLiteral("local-bye");
        w.feed(ended);
        QCOMPARE(w.publishes().size(), std::size_t(2));
        const test::SentMessage end = w.publishes().back();
        QCOMPARE(end.message.expires(), std::optional<quint32>(10));
        const dialoginfo::DialogInfo shown = w.bodyOf(end).dialogs.front();
        QCOMPARE(shown.state, DialogState::Terminated);
        QCOMPARE(shown.stateEvent, QStringLiteral("local-bye"));
        w.ok(end, 10);
        // Later reports of the ended call publish nothing; after the expiry it is gone,
        // without a refresh or a removal.
        w.feed(ended);
        w.clock.advance(10s);
        QCOMPARE(w.publishes().size(), std::size_t(2));
        QCOMPARE(w.publisher->publicationCount(), std::size_t(0));
    }

    void aCallThatEndsBeforeItIsShownPublishesNothing() {
        World w;
        w.feed(side(1, Direction::Recipient, DialogState::Trying, QStringLiteral("202")));
        w.feed(side(1, Direction::Recipient, DialogState::Terminated, QStringLiteral("202")));
        QVERIFY(w.publishes().empty());
        QCOMPARE(w.publisher->publicationCount(), std::size_t(0));
    }

    void remotePartiesOnlyWhenAllCallsArePublished() {
        World local;
        local.feed(side(1, Direction::Initiator, DialogState::Trying, QString()));
        QVERIFY(local.publishes().empty());

        server::DialogPublisherOptions options;
        options.localOnly = false;
        World all(options);
        all.feed(side(1, Direction::Initiator, DialogState::Trying, QString()));
        QCOMPARE(all.publishes().size(), std::size_t(1));
        // A remote party is published for the identity it had in the call.
        QCOMPARE(all.publishes().front().message.requestUri(),
                 QByteArrayView("sip:201@switchboard.local"));
    }

    void dialogIdStyles() {
        server::DialogPublisherOptions counter;
        counter.dialogId = server::DialogPublisherOptions::DialogId::Counter;
        World c(counter);
        c.feed(side(7, Direction::Initiator, DialogState::Trying, QStringLiteral("201")));
        c.feed(side(8, Direction::Initiator, DialogState::Trying, QStringLiteral("201")));
        QCOMPARE(c.bodyOf(c.publishes()[0]).dialogs.front().id, QStringLiteral("1"));
        QCOMPARE(c.bodyOf(c.publishes()[1]).dialogs.front().id, QStringLiteral("2"));

        server::DialogPublisherOptions callId;
        callId.dialogId = server::DialogPublisherOptions::DialogId::CallId;
        World i(callId);
        i.feed(side(7, Direction::Initiator, DialogState::Trying, QStringLiteral("201")));
        QCOMPARE(i.bodyOf(i.publishes()[0]).dialogs.front().id, QStringLiteral("call-7@127.0.0.1"));

        World u;
        u.feed(side(7, Direction::Initiator, DialogState::Trying, QStringLiteral("201")));
        QCOMPARE(u.bodyOf(u.publishes()[0]).dialogs.front().id, QStringLiteral("d7i"));
    }

    void kamailioProfileShapesTheBody() {
        server::DialogPublisherOptions options;
        options.profile.compat = dialoginfo::PublishProfile::Compat::Kamailio;
        World w(options);
        w.feed(side(1, Direction::Initiator, DialogState::Trying, QStringLiteral("201")));
        const QByteArray body = w.publishes().front().message.body().toByteArray();
        QVERIFY2(body.contains(">Trying</state>"), body.constData());
        QVERIFY(body.contains("version=\"0\""));
    }

    void eachAnswerReportsTheStateItAccepted() {
        // "confirmed" is handed over while "early" is still on its way: the answer to the
        // first PUBLISH reports early, the one to the next reports confirmed.
        World w;
        w.feed(side(1, Direction::Recipient, DialogState::Early, QStringLiteral("202")));
        w.feed(side(1, Direction::Recipient, DialogState::Confirmed, QStringLiteral("202")));
        QCOMPARE(w.publishes().size(), std::size_t(1));
        w.ok(w.publishes().back(), 3600);
        QCOMPARE(w.events.back().state, DialogState::Early);
        QCOMPARE(w.publishes().size(), std::size_t(2));
        w.ok(w.publishes().back(), 3600);
        QCOMPARE(w.events.back().state, DialogState::Confirmed);
    }

    void outcomesAreReported() {
        World w;
        w.feed(side(1, Direction::Initiator, DialogState::Early, QStringLiteral("201")));
        w.ok(w.publishes().back(), 3600);
        QCOMPARE(w.events.size(), std::size_t(1));
        QCOMPARE(w.events[0].kind, server::PublicationEvent::Kind::Published);
        QCOMPARE(w.events[0].entity, QStringLiteral("sip:201@switchboard.local"));
        QCOMPARE(w.events[0].state, DialogState::Early);
        w.feed(side(1, Direction::Initiator, DialogState::Confirmed, QStringLiteral("201")));
        sip::Message refused = sip::makeResponse(w.publishes().back().message, 403, {}, "esc");
        QVERIFY(w.transport.answer(w.publishes().back(), refused));
        QCOMPARE(w.events.back().kind, server::PublicationEvent::Kind::Failed);
        QCOMPARE(w.events.back().statusCode, 403);
    }
};

QTEST_GUILESS_MAIN(TestDialogPublisher)
#include "tst_dialog_publisher.moc"
