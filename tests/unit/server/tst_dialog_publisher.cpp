// Tests core/server/dialog_publisher.*: call sides as the tracker reports them become
// one publication each at the presence server (FakeTransport, ManualClock): which sides
// are published and when, one PUBLISH per change of what the document says, the end
// with a short expiry and then nothing more, dialog id styles, and the events reported.

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <map>
#include <memory>
#include <optional>
#include <set>

#include "base/manual_clock.h"
#include "base/random.h"
#include "dialoginfo/dialog_info.h"
#include "fake_transport.h"
#include "server/dialog_publisher.h"
#include "server/local_domains.h"
#include "sip/parser.h"
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
    // The first report of each side of a call carries the call's INVITE, as the
    // tracker's reports of a call's start do (the rules read it).
    void feed(server::DialogTracker::CallSide s, QByteArray extraHeaders = {}) {
        std::optional<sip::Message> start;
        if (reported.insert({s.call, int(s.dialog.direction)}).second) {
            start = inviteFor(s, extraHeaders);
            s.invite = &*start;
        }
        publisher->onSide(s);
        clock.advance(0ms);  // the clients send from the event loop
    }
    static sip::Message inviteFor(const server::DialogTracker::CallSide& s,
                                  const QByteArray& extraHeaders) {
        const bool caller = s.dialog.direction == Direction::Initiator;
        const QByteArray from = (caller ? s.dialog.local : s.dialog.remote).identity.toUtf8();
        const QByteArray to = (caller ? s.dialog.remote : s.dialog.local).identity.toUtf8();
        QByteArray text = "INVITE " + to +
                          " SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-" +
                          QByteArray::number(s.call) + "\r\nMax-Forwards: 70\r\nFrom: <" + from +
                          ">;tag=from\r\nTo: <" + to + ">\r\nCall-ID: " + s.dialog.callId.toUtf8() +
                          "\r\nCSeq: 1 INVITE\r\n" + extraHeaders + "Content-Length: 0\r\n\r\n";
        auto parsed = sip::Parser::parse(text);
        if (!parsed) qFatal("test INVITE does not parse: %s", qPrintable(parsed.error().reason));
        return *parsed;
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
    std::set<std::pair<server::CallId, int>> reported;
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
        // Said once it is gone, so that a status view does not keep showing the end.
        QCOMPARE(w.events.back().kind, server::PublicationEvent::Kind::Removed);
        QCOMPARE(w.events.back().state, DialogState::Terminated);
        QCOMPARE(w.events.back().reason, QStringLiteral("expired"));
    }

    void aCallThatEndsBeforeItIsShownPublishesNothing() {
        World w;
        w.feed(side(1, Direction::Recipient, DialogState::Trying, QStringLiteral("202")));
        w.feed(side(1, Direction::Recipient, DialogState::Terminated, QStringLiteral("202")));
        QVERIFY(w.publishes().empty());
        QCOMPARE(w.publisher->publicationCount(), std::size_t(0));
    }

    void remotePartiesOnlyWhenAllCallsArePublished() {
        auto remoteCaller = side(1, Direction::Initiator, DialogState::Trying, QString());
        remoteCaller.dialog.local.identity = QStringLiteral("sip:carol@remote.example");
        World local;
        local.feed(remoteCaller);
        QVERIFY(local.publishes().empty());

        server::DialogPublisherOptions options;
        options.rules.whichCalls = server::PublishRules::WhichCalls::All;
        World all(options);
        all.feed(remoteCaller);
        QCOMPARE(all.publishes().size(), std::size_t(1));
        // A remote party is published for the identity it had in the call.
        QCOMPARE(all.publishes().front().message.requestUri(),
                 QByteArrayView("sip:carol@remote.example"));
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

    // skip_caller: the caller's side is not published; the callee's documents show the
    // substitute instead of the caller's identity (caller_entity_when_skipped).
    void aSkippedSideShowsItsSubstituteToThePeer() {
        server::DialogPublisherOptions options;
        options.rules.skipCaller = {QStringLiteral("201")};
        options.rules.callerEntityWhenSkipped = QStringLiteral("sip:reception@switchboard.local");
        World w(options);
        w.feed(side(1, Direction::Initiator, DialogState::Early, QStringLiteral("201")));
        w.feed(side(1, Direction::Recipient, DialogState::Early, QStringLiteral("202")));
        QCOMPARE(w.publishes().size(), std::size_t(1));
        const test::SentMessage callee = w.publishes().front();
        QCOMPARE(callee.message.requestUri(), QByteArrayView("sip:202@switchboard.local"));
        const dialoginfo::DialogInfo shown = w.bodyOf(callee).dialogs.front();
        QCOMPARE(shown.remote.identity, QStringLiteral("sip:reception@switchboard.local"));
        QCOMPARE(shown.local.identity, QStringLiteral("sip:202@switchboard.local"));
    }

    // which_calls = marked: only calls whose INVITE carries the mark header.
    void onlyMarkedCallsWhenAskedFor() {
        server::DialogPublisherOptions options;
        options.rules.whichCalls = server::PublishRules::WhichCalls::Marked;
        options.rules.markHeader = QStringLiteral("X-Publish");
        World w(options);
        w.feed(side(1, Direction::Initiator, DialogState::Trying, QStringLiteral("201")));
        w.feed(side(1, Direction::Recipient, DialogState::Trying, QStringLiteral("202")));
        w.feed(side(1, Direction::Initiator, DialogState::Early, QStringLiteral("201")));
        QVERIFY(w.publishes().empty());
        QCOMPARE(w.publisher->publicationCount(), std::size_t(0));
        w.feed(side(2, Direction::Initiator, DialogState::Trying, QStringLiteral("201")),
               "X-Publish: yes\r\n");
        QCOMPARE(w.publishes().size(), std::size_t(1));
    }

    // publish_in_dialog: an in-dialog request on the confirmed dialog publishes it
    // again (a new version); without the option it publishes nothing.
    void inDialogRequestsRepublishWhenAskedFor() {
        for (const bool enabled : {false, true}) {
            server::DialogPublisherOptions options;
            options.publishInDialog = enabled;
            World w(options);
            auto confirmed =
                side(1, Direction::Initiator, DialogState::Confirmed, QStringLiteral("201"));
            w.feed(confirmed);
            w.ok(w.publishes().back(), 3600);
            confirmed.inDialogRequest = true;
            w.feed(confirmed);
            QCOMPARE(w.publishes().size(), std::size_t(enabled ? 2 : 1));
            if (!enabled) continue;
            const dialoginfo::Document again = w.bodyOf(w.publishes().back());
            QCOMPARE(again.dialogs.front().state, DialogState::Confirmed);
            QCOMPARE(again.version, std::optional<quint64>(1));
        }
    }

    // The directory's identity: how the extension is shown in its own documents and in
    // its peers'.
    void directoryIdentityShowsOnBothSides() {
        World w;
        w.publisher->setDirectoryEntry(QStringLiteral("201"),
                                       {QStringLiteral("sip:alice@example.com"), {}});
        w.feed(side(1, Direction::Initiator, DialogState::Early, QStringLiteral("201")));
        w.feed(side(1, Direction::Recipient, DialogState::Early, QStringLiteral("202")));
        QCOMPARE(w.publishes().size(), std::size_t(2));
        const test::SentMessage caller = w.publishes()[0];
        const test::SentMessage callee = w.publishes()[1];
        // Published for its AoR (publish_to is empty), shown as its identity.
        QCOMPARE(caller.message.requestUri(), QByteArrayView("sip:201@switchboard.local"));
        QCOMPARE(w.bodyOf(caller).dialogs.front().local.identity,
                 QStringLiteral("sip:alice@example.com"));
        QCOMPARE(w.bodyOf(callee).dialogs.front().remote.identity,
                 QStringLiteral("sip:alice@example.com"));
    }

    // publish_to: the extension's state goes to each listed URI; a change during a call
    // ends the dialog at a removed URI and brings the current state to an added one.
    void publishToListFollowsChangesDuringACall() {
        World w;
        const QString first = QStringLiteral("sip:201@presence-a.example");
        const QString second = QStringLiteral("sip:desk@presence-a.example");
        const QString third = QStringLiteral("sip:201@presence-b.example");
        w.publisher->setDirectoryEntry(QStringLiteral("201"), {{}, {first, second}});
        w.feed(side(1, Direction::Initiator, DialogState::Early, QStringLiteral("201")));
        QCOMPARE(w.publishes().size(), std::size_t(2));
        QCOMPARE(w.publishes()[0].message.requestUri(), QByteArrayView(first.toUtf8()));
        QCOMPARE(w.publishes()[1].message.requestUri(), QByteArrayView(second.toUtf8()));
        // One dialog id for the side, whichever entity it goes to.
        QCOMPARE(w.bodyOf(w.publishes()[0]).dialogs.front().id,
                 w.bodyOf(w.publishes()[1]).dialogs.front().id);
        w.ok(w.publishes()[0], 3600);
        w.ok(w.publishes()[1], 3600);

        w.publisher->setDirectoryEntry(QStringLiteral("201"), {{}, {first, third}});
        w.clock.advance(0ms);
        QCOMPARE(w.publishes().size(), std::size_t(4));
        std::map<QByteArray, DialogState> latest;
        for (std::size_t i = 2; i < 4; ++i)
            latest[w.publishes()[i].message.requestUri().toByteArray()] =
                w.bodyOf(w.publishes()[i]).dialogs.front().state;
        QCOMPARE(latest.at(second.toUtf8()), DialogState::Terminated);
        QCOMPARE(latest.at(third.toUtf8()), DialogState::Early);
        QCOMPARE(latest.count(first.toUtf8()), std::size_t(0));  // unchanged there

        w.ok(w.publishes()[2], 10);
        w.ok(w.publishes()[3], 3600);

        // Back to the default: the own AoR.
        w.publisher->setDirectoryEntry(QStringLiteral("201"), {});
        w.clock.advance(0ms);
        QStringList uris;
        for (std::size_t i = 4; i < w.publishes().size(); ++i)
            uris << QString::fromUtf8(w.publishes()[i].message.requestUri());
        uris.sort();
        QCOMPARE(uris, (QStringList{first, third, QStringLiteral("sip:201@switchboard.local")}));
    }

    // A restart: what the server holds is taken up under its ETag and dialog id and
    // published terminated (the calls of before are not tracked any more); a saved
    // publication that ran out meanwhile, or a damaged file, restores nothing.
    void aRestartEndsWhatTheServerStillHolds() {
        World before;
        before.feed(side(1, Direction::Recipient, DialogState::Confirmed, QStringLiteral("202")));
        before.ok(before.publishes().back(), 600);
        const QString dialogId = before.bodyOf(before.publishes().back()).dialogs.front().id;
        const qint64 wall = 1'800'000'000'000;
        const QByteArray saved = before.publisher->saveState(wall);

        World after;
        QCOMPARE(after.publisher->restoreState(saved, wall + 60'000), 1);
        after.clock.advance(0ms);
        QVERIFY(after.publishes().empty());  // its call may still come back
        QCOMPARE(after.publisher->settleRestored(), 1);
        after.clock.advance(0ms);
        QCOMPARE(after.publishes().size(), std::size_t(1));
        const test::SentMessage end = after.publishes().front();
        QCOMPARE(end.message.requestUri(), QByteArrayView("sip:202@switchboard.local"));
        QCOMPARE(end.message.header(HeaderId::SipIfMatch), QByteArrayView("e1"));
        QCOMPARE(end.message.expires(), std::optional<quint32>(10));
        const dialoginfo::Document document = after.bodyOf(end);
        QCOMPARE(document.dialogs.front().id, dialogId);
        QCOMPARE(document.dialogs.front().state, DialogState::Terminated);
        QCOMPARE(document.version, std::optional<quint64>(1));  // after the saved one

        World late;
        QCOMPARE(late.publisher->restoreState(saved, wall + 600'000), 0);
        QCOMPARE(late.publisher->restoreState("{not json", wall), 0);
        QCOMPARE(late.publisher->restoreState(QByteArray(), wall), 0);
        late.clock.advance(0ms);
        QVERIFY(late.publishes().empty());
    }

    // A call that goes on across a restart (the tracker restores it and reports it
    // again) keeps its publications: the same dialog id and ETag, no new PUBLISH for an
    // unchanged state, refreshes under the saved ETag, and its end with the next
    // version. A call the tracker does not bring back is published terminated.
    void anOngoingCallKeepsItsPublicationAcrossARestart() {
        World before;
        before.feed(side(7, Direction::Initiator, DialogState::Confirmed, QStringLiteral("201")));
        before.feed(side(7, Direction::Recipient, DialogState::Confirmed, QStringLiteral("202")));
        before.feed(side(8, Direction::Initiator, DialogState::Confirmed, QStringLiteral("201")));
        QCOMPARE(before.publishes().size(), std::size_t(3));
        for (const test::SentMessage& sent : before.publishes())
            before.ok(sent, 600);
        const auto idOf = [&before](std::size_t i) {
            return before.bodyOf(before.publishes()[i]).dialogs.front().id;
        };
        const QString callerId = idOf(0), calleeId = idOf(1);
        const qint64 wall = 1'800'000'000'000;
        const QByteArray saved = before.publisher->saveState(wall);

        World after;
        QCOMPARE(after.publisher->restoreState(saved, wall + 60'000), 3);
        QCOMPARE(after.publisher->publicationCount(), std::size_t(3));
        // The tracker restores call 7 (not 8) and reports both its sides as they were.
        const server::CallId restored = server::DialogTracker::restoredCallId(7);
        for (Direction direction : {Direction::Initiator, Direction::Recipient}) {
            auto report = side(
                7, direction, DialogState::Confirmed,
                direction == Direction::Initiator ? QStringLiteral("201") : QStringLiteral("202"));
            report.call = restored;
            after.publisher->onSide(report);
        }
        QCOMPARE(after.publisher->settleRestored(), 1);
        after.clock.advance(0ms);
        // Only call 8's end: call 7's state is what the server holds.
        QCOMPARE(after.publishes().size(), std::size_t(1));
        QCOMPARE(after.publishes()[0].message.header(HeaderId::SipIfMatch), QByteArrayView("e3"));
        QCOMPARE(after.bodyOf(after.publishes()[0]).dialogs.front().state, DialogState::Terminated);
        after.ok(after.publishes()[0], 10);

        // Refreshed under the saved ETags before they run out (540 s left), without body.
        after.clock.advance(540s);
        std::map<QByteArray, std::size_t> refreshes;
        for (const test::SentMessage& sent : after.publishes()) {
            if (!sent.message.body().isEmpty()) continue;
            ++refreshes[sent.message.header(HeaderId::SipIfMatch).toByteArray()];
            after.ok(sent, 600);
        }
        QCOMPARE(refreshes.size(), std::size_t(2));
        QVERIFY(refreshes.count("e1") && refreshes.count("e2"));

        // The BYE: each side's end under its dialog id, with the version after the saved one.
        const std::size_t sent = after.publishes().size();
        for (Direction direction : {Direction::Initiator, Direction::Recipient}) {
            auto report = side(
                7, direction, DialogState::Terminated,
                direction == Direction::Initiator ? QStringLiteral("201") : QStringLiteral("202"));
            report.call = restored;
            after.publisher->onSide(report);
        }
        after.clock.advance(0ms);
        QCOMPARE(after.publishes().size(), sent + 2);
        for (std::size_t i = sent; i < sent + 2; ++i) {
            const dialoginfo::Document document = after.bodyOf(after.publishes()[i]);
            QCOMPARE(document.dialogs.front().state, DialogState::Terminated);
            QCOMPARE(document.version, std::optional<quint64>(1));
            QVERIFY(document.dialogs.front().id == callerId ||
                    document.dialogs.front().id == calleeId);
        }
        QVERIFY(after.bodyOf(after.publishes()[sent]).dialogs.front().id !=
                after.bodyOf(after.publishes()[sent + 1]).dialogs.front().id);
        // The ends' answers report the state they carried.
        after.events.clear();
        after.ok(after.publishes()[sent], 10);
        after.ok(after.publishes()[sent + 1], 10);
        QCOMPARE(after.events.size(), std::size_t(2));
        for (const server::PublicationEvent& event : after.events) {
            QCOMPARE(event.kind, server::PublicationEvent::Kind::Published);
            QCOMPARE(event.state, DialogState::Terminated);
        }
    }

    // The saved state names only what a restart has to end: an end the server accepted
    // runs out there by itself and is left out; an end still in flight is kept, and a
    // restart publishes it terminated again. A file of an earlier version that names an
    // accepted end ("ended": true) restores it without sending anything.
    void savedStateLeavesOutAcceptedEnds() {
        World w;
        int changes = 0;
        w.publisher->setStateChangedListener([&changes] { ++changes; });
        w.feed(side(1, Direction::Initiator, DialogState::Confirmed, QStringLiteral("201")));
        w.feed(side(2, Direction::Initiator, DialogState::Confirmed, QStringLiteral("203")));
        w.ok(w.publishes()[0], 600);
        w.ok(w.publishes()[1], 600);
        QCOMPARE(changes, 2);
        const qint64 wall = 1'800'000'000'000;
        auto entitiesIn = [](const QByteArray& saved) {
            QStringList entities;
            const auto json = QJsonDocument::fromJson(saved).object();
            for (const QJsonValue& value : json.value(QStringLiteral("publications")).toArray())
                entities << value.toObject().value(QStringLiteral("entity")).toString();
            entities.sort();
            return entities;
        };
        QCOMPARE(entitiesIn(w.publisher->saveState(wall)),
                 (QStringList{QStringLiteral("sip:201@switchboard.local"),
                              QStringLiteral("sip:203@switchboard.local")}));

        // Call 1 ends and the server accepts its end; call 2's end is still in flight.
        w.feed(side(1, Direction::Initiator, DialogState::Terminated, QStringLiteral("201")));
        w.feed(side(2, Direction::Initiator, DialogState::Terminated, QStringLiteral("203")));
        QCOMPARE(w.publishes().size(), std::size_t(4));
        w.ok(w.publishes()[2], 10);
        QCOMPARE(changes, 3);
        const QByteArray saved = w.publisher->saveState(wall);
        QCOMPARE(entitiesIn(saved), (QStringList{QStringLiteral("sip:203@switchboard.local")}));

        World after;
        QCOMPARE(after.publisher->restoreState(saved, wall + 1000), 1);
        QCOMPARE(after.publisher->settleRestored(), 1);
        after.clock.advance(0ms);
        QCOMPARE(after.publishes().size(), std::size_t(1));
        QCOMPARE(after.publishes().front().message.requestUri(),
                 QByteArrayView("sip:203@switchboard.local"));
        QCOMPARE(after.bodyOf(after.publishes().front()).dialogs.front().state,
                 DialogState::Terminated);

        // The accepted end runs out and is forgotten: nothing saved changed.
        w.clock.advance(10s);
        QCOMPARE(w.publisher->publicationCount(), std::size_t(1));
        QCOMPARE(changes, 3);

        // An earlier version's file: the accepted end is taken up and left to run out.
        QJsonObject old = QJsonDocument::fromJson(saved)
                              .object()
                              .value(QStringLiteral("publications"))
                              .toArray()
                              .first()
                              .toObject();
        old.insert(QStringLiteral("ended"), true);
        const QByteArray oldFile =
            QJsonDocument(QJsonObject{{QStringLiteral("publications"), QJsonArray{old}}}).toJson();
        World older;
        QCOMPARE(older.publisher->restoreState(oldFile, wall + 1000), 1);
        older.clock.advance(0ms);
        QVERIFY(older.publishes().empty());
        older.clock.advance(600s);
        QCOMPARE(older.publisher->publicationCount(), std::size_t(0));
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
    // Calls before presence (setHold): while the server's thread is busy, short calls
    // cost it no PUBLISH, and calls that last still show their newest state.
    void underLoadACallOverWithinTheHoldIsNeverPublished() {
        World w;
        base::Duration hold = 500ms;
        w.publisher->setHold([&hold] { return hold; });
        for (const DialogState state :
             {DialogState::Trying, DialogState::Early, DialogState::Confirmed}) {
            w.feed(side(1, Direction::Initiator, state, QStringLiteral("201")));
            w.feed(side(1, Direction::Recipient, state, QStringLiteral("202")));
            w.clock.advance(100ms);
        }
        w.feed(side(1, Direction::Initiator, DialogState::Terminated, QStringLiteral("201")));
        w.feed(side(1, Direction::Recipient, DialogState::Terminated, QStringLiteral("202")));
        w.clock.advance(10s);
        QVERIFY(w.publishes().empty());
        QCOMPARE(w.publisher->publicationCount(), std::size_t(0));
        QCOMPARE(w.publisher->heldAwayCount(), quint64(2));
        QCOMPARE(w.clock.pendingTimers(), std::size_t(0));  // nothing left behind
    }

    void underLoadACallThatLastsShowsItsNewestStateAfterTheHold() {
        World w;
        base::Duration hold = 500ms;
        w.publisher->setHold([&hold] { return hold; });
        w.feed(side(1, Direction::Initiator, DialogState::Trying, QStringLiteral("201")));
        w.feed(side(1, Direction::Recipient, DialogState::Trying, QStringLiteral("202")));
        w.clock.advance(200ms);
        w.feed(side(1, Direction::Initiator, DialogState::Early, QStringLiteral("201")));
        w.feed(side(1, Direction::Recipient, DialogState::Early, QStringLiteral("202")));
        w.clock.advance(299ms);
        QVERIFY(w.publishes().empty());
        w.clock.advance(1ms);
        // Both sides at once, each with the state it shows now: "trying" was never seen.
        const std::vector<test::SentMessage> sent = w.publishes();
        QCOMPARE(sent.size(), std::size_t(2));
        QCOMPARE(sent[0].message.requestUri(), QByteArrayView("sip:201@switchboard.local"));
        QCOMPARE(sent[1].message.requestUri(), QByteArrayView("sip:202@switchboard.local"));
        for (const test::SentMessage& publish : sent) {
            QCOMPARE(w.bodyOf(publish).dialogs.front().state, DialogState::Early);
            QVERIFY(publish.message.header(HeaderId::SipIfMatch).isEmpty());
        }
        QCOMPARE(w.publisher->heldAwayCount(), quint64(0));
        // The load has passed: the next call is published at once.
        hold = 0ms;
        w.feed(side(2, Direction::Initiator, DialogState::Trying, QStringLiteral("203")));
        QCOMPARE(w.publishes().size(), std::size_t(3));
    }

    void underLoadLaterStatesGoOutOncePerHoldNewestOnly() {
        World w;
        base::Duration hold = 0ms;
        w.publisher->setHold([&hold] { return hold; });
        w.feed(side(1, Direction::Initiator, DialogState::Trying, QStringLiteral("201")));
        QCOMPARE(w.publishes().size(), std::size_t(1));
        w.ok(w.publishes().back(), 3600);
        hold = 1s;
        w.clock.advance(400ms);
        w.feed(side(1, Direction::Initiator, DialogState::Early, QStringLiteral("201")));
        w.clock.advance(100ms);
        w.feed(side(1, Direction::Initiator, DialogState::Confirmed, QStringLiteral("201")));
        w.clock.advance(499ms);
        QCOMPARE(w.publishes().size(), std::size_t(1));
        w.clock.advance(1ms);  // a hold after the last state went out
        QCOMPARE(w.publishes().size(), std::size_t(2));
        const test::SentMessage confirmed = w.publishes().back();
        QCOMPARE(w.bodyOf(confirmed).dialogs.front().state, DialogState::Confirmed);
        QCOMPARE(confirmed.message.header(HeaderId::SipIfMatch), QByteArrayView("e1"));
        w.ok(confirmed, 3600);
        // The end waits its turn too, and still goes out with its short expiry.
        w.feed(side(1, Direction::Initiator, DialogState::Terminated, QStringLiteral("201")));
        QCOMPARE(w.publishes().size(), std::size_t(2));
        w.clock.advance(1s);
        QCOMPARE(w.publishes().size(), std::size_t(3));
        const test::SentMessage end = w.publishes().back();
        QCOMPARE(w.bodyOf(end).dialogs.front().state, DialogState::Terminated);
        QCOMPARE(end.message.expires(), std::optional<quint32>(10));
        w.ok(end, 10);
        w.clock.advance(10s);
        QCOMPARE(w.publisher->publicationCount(), std::size_t(0));
        QCOMPARE(w.clock.pendingTimers(), std::size_t(0));
    }
    void aCallOverBeforeItsFirstPublishLeftPublishesNothing() {
        // A busy loop reads a whole short call at once: its states reach the publisher in
        // one turn, before the first PUBLISH has left.
        World w;
        auto start = side(1, Direction::Initiator, DialogState::Trying, QStringLiteral("201"));
        const sip::Message invite = World::inviteFor(start, {});
        start.invite = &invite;
        w.publisher->onSide(start);
        QCOMPARE(w.publisher->publicationCount(), std::size_t(1));
        w.publisher->onSide(
            side(1, Direction::Initiator, DialogState::Confirmed, QStringLiteral("201")));
        w.publisher->onSide(
            side(1, Direction::Initiator, DialogState::Terminated, QStringLiteral("201")));
        w.clock.advance(40s);
        QVERIFY(w.publishes().empty());
        QCOMPARE(w.publisher->publicationCount(), std::size_t(0));
        QCOMPARE(w.publisher->heldAwayCount(), quint64(1));
        QVERIFY(w.events.empty());
        // Once a PUBLISH has left, the end is published as ever.
        w.feed(side(2, Direction::Initiator, DialogState::Trying, QStringLiteral("201")));
        w.feed(side(2, Direction::Initiator, DialogState::Terminated, QStringLiteral("201")));
        w.ok(w.publishes().front(), 3600);
        QCOMPARE(w.publishes().size(), std::size_t(2));
        QCOMPARE(w.bodyOf(w.publishes().back()).dialogs.front().state, DialogState::Terminated);
    }
    void anEndWaitingForTheHoldIsFinal() {
        World w;
        base::Duration hold = 0ms;
        w.publisher->setHold([&hold] { return hold; });
        const QString a = QStringLiteral("sip:201@presence-a.example");
        const QString b = QStringLiteral("sip:desk@presence-a.example");
        w.publisher->setDirectoryEntry(QStringLiteral("201"), {{}, {a, b}});
        w.feed(side(1, Direction::Initiator, DialogState::Early, QStringLiteral("201")));
        QCOMPARE(w.publishes().size(), std::size_t(2));
        w.ok(w.publishes()[0], 3600);
        w.ok(w.publishes()[1], 3600);
        hold = 1s;
        // b leaves publish_to (its end waits for the hold), then comes back meanwhile.
        w.publisher->setDirectoryEntry(QStringLiteral("201"), {{}, {a}});
        w.publisher->setDirectoryEntry(QStringLiteral("201"), {{}, {a, b}});
        w.feed(side(1, Direction::Initiator, DialogState::Confirmed, QStringLiteral("201")));
        w.clock.advance(1s);
        std::map<QByteArray, DialogState> latest;
        for (std::size_t i = 2; i < w.publishes().size(); ++i)
            latest[w.publishes()[i].message.requestUri().toByteArray()] =
                w.bodyOf(w.publishes()[i]).dialogs.front().state;
        QCOMPARE(latest.at(a.toUtf8()), DialogState::Confirmed);
        QCOMPARE(latest.at(b.toUtf8()), DialogState::Terminated);  // not overtaken
        QCOMPARE(w.publishes().size(), std::size_t(4));
    }

    void anEndAfterAFailedFirstPublishIsStillSent() {
        World w;
        w.feed(side(1, Direction::Initiator, DialogState::Trying, QStringLiteral("201")));
        const test::SentMessage first = w.publishes().front();
        w.feed(side(1, Direction::Initiator, DialogState::Terminated, QStringLiteral("201")));
        QVERIFY(w.transport.answer(first, sip::makeResponse(first.message, 503, {}, "esc")));
        // The server may hold something of a PUBLISH that left: the end goes out with the
        // retry.
        w.clock.advance(10min);
        const std::vector<test::SentMessage> sent = w.publishes();
        QVERIFY(sent.size() >= 2);  // unanswered retries, until the end's bound
        for (std::size_t i = 1; i < sent.size(); ++i)
            QCOMPARE(w.bodyOf(sent[i]).dialogs.front().state, DialogState::Terminated);
        QCOMPARE(w.publisher->heldAwayCount(), quint64(0));
    }

    void heldAwayCountsEachEntityOfASideOnce() {
        World w;
        base::Duration hold = 500ms;
        w.publisher->setHold([&hold] { return hold; });
        w.publisher->setDirectoryEntry(
            QStringLiteral("201"),
            {{},
             {QStringLiteral("sip:201@presence-a.example"), QStringLiteral("sip:201@b.example")}});
        w.feed(side(1, Direction::Initiator, DialogState::Trying, QStringLiteral("201")));
        w.feed(side(1, Direction::Initiator, DialogState::Terminated, QStringLiteral("201")));
        w.feed(side(1, Direction::Recipient, DialogState::Terminated, QStringLiteral("202")));
        w.clock.advance(1s);
        QVERIFY(w.publishes().empty());
        QCOMPARE(w.publisher->heldAwayCount(), quint64(2));
        // A side still live when its hold runs out goes to each of its entities once.
        w.feed(side(2, Direction::Initiator, DialogState::Early, QStringLiteral("201")));
        w.clock.advance(500ms);
        QCOMPARE(w.publishes().size(), std::size_t(2));
        QCOMPARE(w.publisher->heldAwayCount(), quint64(2));
    }

    void destroyingThePublisherLeavesNoTimer() {
        World w;
        base::Duration hold = 0ms;
        w.publisher->setHold([&hold] { return hold; });
        w.feed(side(1, Direction::Initiator, DialogState::Trying, QStringLiteral("201")));
        w.ok(w.publishes().back(), 3600);
        hold = 20s;
        w.feed(
            side(1, Direction::Initiator, DialogState::Early, QStringLiteral("201")));  // deferred
        w.feed(side(2, Direction::Initiator, DialogState::Early, QStringLiteral("203")));  // held
        w.clock.advance(6s);  // the first PUBLISH's transaction is done
        QCOMPARE(w.publishes().size(), std::size_t(1));
        QVERIFY(w.clock.pendingTimers() > 0);
        w.publisher.reset();
        QCOMPARE(w.clock.pendingTimers(), std::size_t(0));
    }
};

QTEST_GUILESS_MAIN(TestDialogPublisher)
#include "tst_dialog_publisher.moc"
