#include <QCoreApplication>
#include <QSignalSpy>
#include <QTest>

#include "base/manual_clock.h"
#include "board/console.h"

using namespace sb;
using namespace std::chrono_literals;
using board::ApplyResult;
using board::Console;
using board::Extension;
using dialoginfo::DialogInfo;
using dialoginfo::DialogState;
using dialoginfo::Direction;
using dialoginfo::Document;
using dialoginfo::DocumentState;
using dialoginfo::Lamp;
using State = ua::SubscriptionStatus::State;

namespace {

ua::SubscriptionStatus status(State state, QByteArray reason = {}, int code = 0) {
    ua::SubscriptionStatus s;
    s.state = state;
    s.reason = std::move(reason);
    s.statusCode = code;
    return s;
}

DialogInfo dialog(const QString& id, Direction direction, DialogState state,
                  const QString& remote = QStringLiteral("sip:202@example.com"),
                  const QString& display = QStringLiteral("Bob")) {
    DialogInfo d;
    d.id = id;
    d.callId = id + QStringLiteral("@host");
    d.direction = direction;
    d.state = state;
    d.remote.identity = remote;
    d.remote.display = display;
    return d;
}

Document document(quint64 version, const QString& entity, std::vector<DialogInfo> dialogs = {},
                  DocumentState state = DocumentState::Full) {
    Document doc;
    doc.version = version;
    doc.entity = entity;
    doc.state = state;
    doc.dialogs = std::move(dialogs);
    return doc;
}

QStringList flattenSpy(const QSignalSpy& spy) {
    QStringList out;
    for (const QList<QVariant>& args : spy) {
        QStringList parts;
        for (const QVariant& arg : args)
            parts.append(arg.toString());
        out.append(parts.join('|'));
    }
    return out;
}

// A Kamailio-like body (RFC 4235): one early dialog, 202 ringing from 201.
const QByteArray kRingingBody =
    "<?xml version=\"1.0\"?>\n"
    "<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" version=\"1\" state=\"full\" "
    "entity=\"sip:202@example.com\">\n"
    "  <dialog id=\"a1\" call-id=\"c1\" local-tag=\"lt\" remote-tag=\"rt\" "
    "direction=\"recipient\">\n"
    "    <state>early</state>\n"
    "    <remote><identity display=\"Alice\">sip:201@example.com</identity></remote>\n"
    "    <local><identity>sip:202@example.com</identity></local>\n"
    "  </dialog>\n"
    "</dialog-info>\n";

}  // namespace

class TestConsole : public QObject {
    Q_OBJECT

private:
    // A console with 201..(200+n) monitored in example.com, every subscription active.
    // `n` extensions 201.. with active subscriptions; with `firstNotify` each has had its
    // first NOTIFY, without dialogs (what Kamailio sends for an idle extension), so its
    // state is known: idle.
    void monitorActive(Console& console, int n, bool firstNotify = true) {
        console.setDomain(QStringLiteral("example.com"));
        for (int i = 1; i <= n; ++i) {
            const QString number = QString::number(200 + i);
            QVERIFY(console.monitor({number, QStringLiteral("Ext %1").arg(number), {}, {}}));
            console.setSubscriptionStatus(number, status(State::Active));
            if (firstNotify) QCOMPARE(console.applyDialogInfo({}, number), ApplyResult::Applied);
        }
        QCoreApplication::processEvents();  // drop the batch of the set-up
    }

private slots:
    void initTestCase() { dialoginfo::initialiseXml(); }

    // --- the directory ------------------------------------------------------------------

    void monitorEmitsSignals() {
        base::ManualClock clock;
        Console console(clock);
        console.setDomain(QStringLiteral("example.com"));
        QSignalSpy directorySpy(&console, &Console::directoryChanged);
        QSignalSpy monitoredSpy(&console, &Console::monitored);
        QSignalSpy unmonitoredSpy(&console, &Console::unmonitored);

        QVERIFY(console.monitor({"201", "Alice", "Sales", {}}));
        QVERIFY(console.monitor({"reception", "Front desk", {}, "sip:frontdesk@pbx.example.com"}));
        QCOMPARE(directorySpy.count(), 2);
        QCOMPARE(
            flattenSpy(monitoredSpy),
            (QStringList{"201|sip:201@example.com", "reception|sip:frontdesk@pbx.example.com"}));
        QCOMPARE(console.uriOf("201"), QStringLiteral("sip:201@example.com"));
        QCOMPARE(console.uriOf("999"), QString());
        QCOMPARE(console.monitoredCount(), 2);
        QCOMPARE(console.state("201")->lamp.lamp, Lamp::Offline);
        QCOMPARE(console.state("201")->subscription.state, State::Queued);
        QCOMPARE(console.stateAt(1)->extension.number, QStringLiteral("reception"));
        QVERIFY(console.stateAt(2) == nullptr);

        // The same again: nothing to say.
        QVERIFY(console.monitor({"201", "Alice", "Sales", {}}));
        QCOMPARE(directorySpy.count(), 2);
        // A new name: the directory changed, the subscription did not.
        QVERIFY(console.monitor({"201", "Alice Example", "Sales", {}}));
        QCOMPARE(directorySpy.count(), 3);
        QCOMPARE(console.directory().find("201")->name, QStringLiteral("Alice Example"));
        QCOMPARE(console.state("201")->extension.name, QStringLiteral("Alice Example"));
        QCOMPARE(monitoredSpy.count(), 2);
        // A new uri: the sources move over.
        QVERIFY(console.monitor({"201", "Alice Example", "Sales", "sip:alice@pbx.example.com"}));
        QCOMPARE(flattenSpy(unmonitoredSpy), QStringList{"201|sip:201@example.com"});
        QCOMPARE(monitoredSpy.count(), 3);
        QCOMPARE(flattenSpy(monitoredSpy).last(), QStringLiteral("201|sip:alice@pbx.example.com"));

        // Bad input changes nothing.
        QVERIFY(!console.monitor({"2 02", "Bob", {}, {}}));
        QVERIFY(!console.monitor({"202", "Bob", {}, "not a uri"}));
        QCOMPARE(console.monitoredCount(), 2);
        QCOMPARE(directorySpy.count(), 4);
    }

    void unmonitorEmitsTheUri() {
        base::ManualClock clock;
        Console console(clock);
        monitorActive(console, 3);
        QCOMPARE(console.subscribedCount(), 3);
        QSignalSpy directorySpy(&console, &Console::directoryChanged);
        QSignalSpy unmonitoredSpy(&console, &Console::unmonitored);
        QVERIFY(console.unmonitor("202"));
        QVERIFY(!console.unmonitor("202"));
        QCOMPARE(flattenSpy(unmonitoredSpy), QStringList{"202|sip:202@example.com"});
        QCOMPARE(directorySpy.count(), 1);
        QCOMPARE(console.monitoredCount(), 2);
        QCOMPARE(console.subscribedCount(), 2);
        QCOMPARE(console.stateAt(1)->extension.number, QStringLiteral("203"));
        QVERIFY(console.state("202") == nullptr);
        // Its documents now find no extension.
        QCOMPARE(console.applyDocument(document(1, "sip:202@example.com"), "202"),
                 ApplyResult::UnknownEntity);
    }

    void setDirectoryKeepsStateOfKeptExtensions() {
        base::ManualClock clock;
        Console console(clock);
        monitorActive(console, 3);  // 201 202 203
        QCOMPARE(console.applyDocument(
                     document(1, "sip:202@example.com",
                              {dialog("d1", Direction::Recipient, DialogState::Early)}),
                     "202"),
                 ApplyResult::Applied);
        QCOMPARE(console.state("202")->lamp.lamp, Lamp::Ringing);

        QSignalSpy directorySpy(&console, &Console::directoryChanged);
        QSignalSpy monitoredSpy(&console, &Console::monitored);
        QSignalSpy unmonitoredSpy(&console, &Console::unmonitored);
        QVERIFY(console.setDirectory({{"204", "Dave", "Support", {}},
                                      {"202", "Bob", "Sales", {}},
                                      {"201", "Alice", "Sales", {}}}));
        QCOMPARE(directorySpy.count(), 1);
        QCOMPARE(flattenSpy(unmonitoredSpy), QStringList{"203|sip:203@example.com"});
        QCOMPARE(flattenSpy(monitoredSpy), QStringList{"204|sip:204@example.com"});
        QCOMPARE(console.monitoredCount(), 3);
        QCOMPARE(console.stateAt(0)->extension.number, QStringLiteral("204"));
        QCOMPARE(console.stateAt(1)->extension.name, QStringLiteral("Bob"));
        QCOMPARE(console.state("202")->lamp.lamp, Lamp::Ringing);
        QCOMPARE(console.state("204")->lamp.lamp, Lamp::Offline);
        QCOMPARE(console.subscribedCount(), 2);  // 201, 202; 203 went, 204 is queued
        QCOMPARE(console.directory().groups(), (QStringList{"Support", "Sales"}));
        // Entities still match after the rebuild.
        QCOMPARE(console.applyDocument(document(2, "sip:202@example.com"), {}),
                 ApplyResult::Applied);
        QCOMPARE(console.state("202")->lamp.lamp, Lamp::Idle);

        // The same directory again: nothing happens.
        QVERIFY(console.setDirectory({{"204", "Dave", "Support", {}},
                                      {"202", "Bob", "Sales", {}},
                                      {"201", "Alice", "Sales", {}}}));
        QCOMPARE(directorySpy.count(), 1);
        // Only the order changes: the directory changed shape.
        QVERIFY(console.setDirectory({{"201", "Alice", "Sales", {}},
                                      {"202", "Bob", "Sales", {}},
                                      {"204", "Dave", "Support", {}}}));
        QCOMPARE(directorySpy.count(), 2);
        QCOMPARE(monitoredSpy.count(), 1);
        QCOMPARE(unmonitoredSpy.count(), 1);
    }

    void setDirectoryIsAllOrNothing() {
        base::ManualClock clock;
        Console console(clock);
        monitorActive(console, 2);
        QSignalSpy directorySpy(&console, &Console::directoryChanged);
        const Result<void> duplicate =
            console.setDirectory({{"301", {}, {}, {}}, {"301", {}, {}, {}}});
        QVERIFY(!duplicate);
        QVERIFY(duplicate.error().reason.contains("301"));
        QVERIFY(!console.setDirectory({{"301", {}, {}, {}}, {"30 2", {}, {}, {}}}));
        QCOMPARE(directorySpy.count(), 0);
        QCOMPARE(console.monitoredCount(), 2);
        QCOMPARE(console.subscribedCount(), 2);
    }

    void setDomainMovesDefaultUris() {
        base::ManualClock clock;
        Console console(clock);
        console.setDomain("old.example.com");
        QVERIFY(console.monitor({"201", {}, {}, {}}));
        QVERIFY(console.monitor({"202", {}, {}, "sip:bob@pbx.example.com"}));
        QSignalSpy monitoredSpy(&console, &Console::monitored);
        QSignalSpy unmonitoredSpy(&console, &Console::unmonitored);
        console.setDomain("new.example.com");
        QCOMPARE(console.domain(), QStringLiteral("new.example.com"));
        QCOMPARE(flattenSpy(unmonitoredSpy), QStringList{"201|sip:201@old.example.com"});
        QCOMPARE(flattenSpy(monitoredSpy), QStringList{"201|sip:201@new.example.com"});
        console.setSubscriptionStatus("201", status(State::Active));
        QCOMPARE(console.applyDocument(document(1, "sip:201@new.example.com"), {}),
                 ApplyResult::Applied);
        QCOMPARE(console.applyDocument(document(1, "sip:201@old.example.com"), {}),
                 ApplyResult::UnknownEntity);
    }

    // --- matching documents to extensions ---------------------------------------------

    void matchesEntityIgnoringPortAndParameters_data() {
        QTest::addColumn<QString>("entity");
        QTest::newRow("plain") << "sip:202@example.com";
        QTest::newRow("port") << "sip:202@example.com:5060";
        QTest::newRow("params") << "sip:202@example.com;transport=udp";
        QTest::newRow("port and params") << "sip:202@EXAMPLE.com:5080;user=phone";
        QTest::newRow("sips") << "sips:202@example.com";
    }
    void matchesEntityIgnoringPortAndParameters() {
        QFETCH(QString, entity);
        base::ManualClock clock;
        Console console(clock);
        monitorActive(console, 3);
        // No fallback (a resource list): the entity alone decides.
        QCOMPARE(
            console.applyDocument(
                document(1, entity, {dialog("d1", Direction::Recipient, DialogState::Early)}), {}),
            ApplyResult::Applied);
        QCOMPARE(console.state("202")->lamp.lamp, Lamp::Ringing);
        QCOMPARE(console.state("201")->lamp.lamp, Lamp::Idle);
        QCOMPARE(console.state("203")->lamp.lamp, Lamp::Idle);
    }

    void matchesOwnUri() {
        base::ManualClock clock;
        Console console(clock);
        console.setDomain("example.com");
        QVERIFY(console.monitor({"reception", {}, {}, "sip:frontdesk@pbx.example.com"}));
        console.setSubscriptionStatus("reception", status(State::Active));
        QCOMPARE(console.applyDocument(
                     document(1, "sip:frontdesk@pbx.example.com:5060",
                              {dialog("d1", Direction::Initiator, DialogState::Trying)}),
                     {}),
                 ApplyResult::Applied);
        QCOMPARE(console.state("reception")->lamp.lamp, Lamp::Calling);
    }

    void entityWinsOverTheSubscription() {
        base::ManualClock clock;
        Console console(clock);
        monitorActive(console, 3);
        QCOMPARE(console.applyDocument(
                     document(1, "sip:203@example.com",
                              {dialog("d1", Direction::Recipient, DialogState::Confirmed)}),
                     "201"),
                 ApplyResult::Applied);
        QCOMPARE(console.state("203")->lamp.lamp, Lamp::Busy);
        QCOMPARE(console.state("201")->lamp.lamp, Lamp::Idle);
    }

    void fallsBackToTheSubscription_data() {
        QTest::addColumn<QString>("entity");
        // Asterisk writes its own address; FreeSWITCH may too; some servers write nothing.
        QTest::newRow("other host") << "sip:201@127.0.0.5:5060";
        QTest::newRow("other user") << "sip:alice@example.com";
        QTest::newRow("empty") << "";
        QTest::newRow("garbage") << "not a uri at all";
    }
    void fallsBackToTheSubscription() {
        QFETCH(QString, entity);
        base::ManualClock clock;
        Console console(clock);
        monitorActive(console, 2);
        QCOMPARE(console.applyDocument(
                     document(1, entity, {dialog("d1", Direction::Recipient, DialogState::Early)}),
                     "201"),
                 ApplyResult::Applied);
        QCOMPARE(console.state("201")->lamp.lamp, Lamp::Ringing);
        // Without the fallback it belongs to nobody.
        QCOMPARE(console.applyDocument(document(2, entity), {}), ApplyResult::UnknownEntity);
        // Nor with a fallback that is not monitored.
        QCOMPARE(console.applyDocument(document(2, entity), "299"), ApplyResult::UnknownEntity);
        QCOMPARE(console.state("201")->lamp.lamp, Lamp::Ringing);
    }

    void unknownEntityReason() {
        base::ManualClock clock;
        Console console(clock);
        monitorActive(console, 1);
        QByteArray body = kRingingBody;
        body.replace("sip:202@example.com\">", "sip:999@example.com\">");
        QString reason;
        QCOMPARE(console.applyDialogInfo(body, {}, &reason), ApplyResult::UnknownEntity);
        QVERIFY2(reason.contains("sip:999@example.com"), qPrintable(reason));
    }

    // --- RFC 4235 §4.1 version rules --------------------------------------------------------

    void versionRulesPassThrough() {
        base::ManualClock clock;
        Console console(clock);
        monitorActive(console, 1, false);
        const QString entity = "sip:201@example.com";
        const auto early = dialog("d1", Direction::Recipient, DialogState::Early);
        // A partial document before any full one: fetch full state; meanwhile nothing is
        // known.
        QCOMPARE(console.applyDocument(document(1, entity, {early}, DocumentState::Partial), "201"),
                 ApplyResult::NeedFullState);
        QCOMPARE(console.state("201")->lamp.lamp, Lamp::Offline);
        QCOMPARE(console.applyDocument(document(2, entity, {early}), "201"), ApplyResult::Applied);
        QCOMPARE(console.state("201")->lamp.lamp, Lamp::Ringing);
        // Stale (repeated or reordered): ignored, nothing changes.
        auto confirmed = dialog("d1", Direction::Recipient, DialogState::Confirmed);
        QCOMPARE(console.applyDocument(document(2, entity, {confirmed}), "201"),
                 ApplyResult::Ignored);
        QCOMPARE(console.applyDocument(document(1, entity, {confirmed}), "201"),
                 ApplyResult::Ignored);
        QCOMPARE(console.state("201")->lamp.lamp, Lamp::Ringing);
        // The next partial applies.
        QCOMPARE(
            console.applyDocument(document(3, entity, {confirmed}, DocumentState::Partial), "201"),
            ApplyResult::Applied);
        QCOMPARE(console.state("201")->lamp.lamp, Lamp::Busy);
        // A gap: state was lost.
        auto ended = dialog("d1", Direction::Recipient, DialogState::Terminated);
        QCOMPARE(console.applyDocument(document(5, entity, {ended}, DocumentState::Partial), "201"),
                 ApplyResult::NeedFullState);
        QCOMPARE(console.state("201")->lamp.lamp, Lamp::Busy);
        // Full state repairs it.
        QCOMPARE(console.applyDocument(document(6, entity, {}), "201"), ApplyResult::Applied);
        QCOMPARE(console.state("201")->lamp.lamp, Lamp::Idle);
    }

    void newSubscriptionRestartsVersions() {
        base::ManualClock clock;
        Console console(clock);
        monitorActive(console, 1);
        const QString entity = "sip:201@example.com";
        QCOMPARE(
            console.applyDocument(
                document(40, entity, {dialog("d1", Direction::Recipient, DialogState::Confirmed)}),
                "201"),
            ApplyResult::Applied);
        // Refreshes (Active → Active) keep the versions.
        console.setSubscriptionStatus("201", status(State::Active));
        QCOMPARE(console.applyDocument(document(3, entity), "201"), ApplyResult::Ignored);
        // The subscription ended and a new one starts: versions begin again.
        console.setSubscriptionStatus("201", status(State::Retrying, "timeout"));
        QCOMPARE(console.state("201")->lamp.lamp, Lamp::Offline);
        console.setSubscriptionStatus("201", status(State::Subscribing));
        QVERIFY(console.state("201")->merge.dialogs().empty());
        QVERIFY(!console.state("201")->merge.lastVersion().has_value());
        // A NOTIFY before the 200 (RFC 6665 §4.1.2.4) is taken, and survives the 200.
        QCOMPARE(console.applyDocument(
                     document(0, entity, {dialog("d2", Direction::Initiator, DialogState::Early)}),
                     "201"),
                 ApplyResult::Applied);
        QCOMPARE(console.state("201")->lamp.lamp, Lamp::Offline);
        console.setSubscriptionStatus("201", status(State::Active));
        QCOMPARE(console.state("201")->lamp.lamp, Lamp::Calling);
        QCOMPARE(console.applyDocument(document(1, entity), "201"), ApplyResult::Applied);
        QCOMPARE(console.state("201")->lamp.lamp, Lamp::Idle);
    }

    // --- bodies ---------------------------------------------------------------------------------

    void emptyBodyMeansNoDialogs_data() {
        QTest::addColumn<QByteArray>("body");
        QTest::newRow("empty") << QByteArray();
        QTest::newRow("whitespace") << QByteArray(" \r\n\t\n");
    }
    void emptyBodyMeansNoDialogs() {
        QFETCH(QByteArray, body);
        base::ManualClock clock;
        Console console(clock);
        monitorActive(console, 2);
        QCOMPARE(console.applyDialogInfo(kRingingBody, "202"), ApplyResult::Applied);
        QCOMPARE(console.state("202")->lamp.lamp, Lamp::Ringing);
        QCoreApplication::processEvents();
        QSignalSpy spy(&console, &Console::extensionsChanged);
        // Kamailio's presence_dialoginfo sends no body once no dialog is stored: full
        // state without dialogs.
        QCOMPARE(console.applyDialogInfo(body, "202"), ApplyResult::Applied);
        QCOMPARE(console.state("202")->lamp.lamp, Lamp::Idle);
        QCoreApplication::processEvents();
        QCOMPARE(spy.count(), 1);
        // Without a subscription to name the extension (a resource list) it says nothing.
        QString reason;
        QCOMPARE(console.applyDialogInfo(body, {}, &reason), ApplyResult::Ignored);
        QVERIFY(!reason.isEmpty());
    }

    void malformedBody_data() {
        QTest::addColumn<QByteArray>("body");
        QTest::newRow("not xml") << QByteArray("this is not xml");
        QTest::newRow("truncated") << kRingingBody.left(120);
        QTest::newRow("other document") << QByteArray("<?xml version=\"1.0\"?><presence/>");
    }
    void malformedBody() {
        QFETCH(QByteArray, body);
        base::ManualClock clock;
        Console console(clock);
        monitorActive(console, 2);
        QString reason;
        QCOMPARE(console.applyDialogInfo(body, "202", &reason), ApplyResult::Malformed);
        QVERIFY(!reason.isEmpty());
        QCOMPARE(console.state("202")->lamp.lamp, Lamp::Idle);
    }

    void parsedBodyLights() {
        base::ManualClock clock;
        Console console(clock);
        monitorActive(console, 2);
        QString reason = "stale text";
        QCOMPARE(console.applyDialogInfo(kRingingBody, {}, &reason), ApplyResult::Applied);
        QVERIFY(reason.isEmpty());
        const board::ExtensionState* state = console.state("202");
        QCOMPARE(state->lamp.lamp, Lamp::Ringing);
        QCOMPARE(state->lamp.otherDisplay, QStringLiteral("Alice"));
        QCOMPARE(state->lamp.otherUri, QStringLiteral("sip:201@example.com"));
        QCOMPARE(state->merge.dialogs().size(), std::size_t(1));
        QCOMPARE(state->merge.dialogs().front().callId, QStringLiteral("c1"));
        QCOMPARE(console.applyDialogInfo(kRingingBody, {}, &reason), ApplyResult::Ignored);
        QVERIFY(!reason.isEmpty());
    }

    // --- lamps and times -----------------------------------------------------------------------

    void idleForEmptyDocument() {
        base::ManualClock clock;
        Console console(clock);
        monitorActive(console, 1);
        QCOMPARE(console.state("201")->lamp.lamp, Lamp::Idle);
        QCOMPARE(console.applyDocument(
                     document(1, "sip:201@example.com",
                              {dialog("d1", Direction::Recipient, DialogState::Confirmed)}),
                     "201"),
                 ApplyResult::Applied);
        QCOMPARE(console.state("201")->lamp.lamp, Lamp::Busy);
        // Idle is not offline: a document without dialogs...
        QCOMPARE(console.applyDocument(document(2, "sip:201@example.com"), "201"),
                 ApplyResult::Applied);
        QCOMPARE(console.state("201")->lamp.lamp, Lamp::Idle);
        QVERIFY(console.state("201")->dialogSince.isEmpty());
        // ...or with only terminated ones.
        QCOMPARE(console.applyDocument(
                     document(3, "sip:201@example.com",
                              {dialog("d2", Direction::Initiator, DialogState::Terminated)}),
                     "201"),
                 ApplyResult::Applied);
        QCOMPARE(console.state("201")->lamp.lamp, Lamp::Idle);
        QCOMPARE(console.state("201")->lamp.otherUri, QString());
    }

    void offlineWhenSubscriptionNotUsable_data() {
        QTest::addColumn<int>("state");
        QTest::addColumn<bool>("usable");  // counted as subscribed
        QTest::addColumn<bool>("kept");    // the lamp stays as it was
        // Queued/Subscribing after a working subscription: it is being replaced
        // (deactivated, timeout, 481 on a refresh) and the last state stays meanwhile.
        QTest::newRow("queued") << int(State::Queued) << false << true;
        QTest::newRow("subscribing") << int(State::Subscribing) << false << true;
        QTest::newRow("pending") << int(State::Pending) << true << true;
        QTest::newRow("active") << int(State::Active) << true << true;
        QTest::newRow("retrying") << int(State::Retrying) << false << false;
        QTest::newRow("unavailable") << int(State::Unavailable) << false << false;
        QTest::newRow("terminated") << int(State::Terminated) << false << false;
    }
    void offlineWhenSubscriptionNotUsable() {
        QFETCH(int, state);
        QFETCH(bool, usable);
        QFETCH(bool, kept);
        base::ManualClock clock;
        Console console(clock);
        monitorActive(console, 1);
        QCOMPARE(console.applyDocument(
                     document(1, "sip:201@example.com",
                              {dialog("d1", Direction::Recipient, DialogState::Confirmed)}),
                     "201"),
                 ApplyResult::Applied);
        QCOMPARE(console.state("201")->lamp.lamp, Lamp::Busy);
        console.setSubscriptionStatus("201", status(State(state), "rejected", 403));
        QCOMPARE(console.state("201")->lamp.lamp, kept ? Lamp::Busy : Lamp::Offline);
        QCOMPARE(console.subscribedCount(), usable ? 1 : 0);
        QCOMPARE(console.state("201")->subscription.reason, QByteArray("rejected"));
        QCOMPARE(console.state("201")->subscription.statusCode, 403);
    }

    void aRecoveringSubscriptionKeepsTheBoardUntilItsFullState() {
        base::ManualClock clock;
        Console console(clock);
        monitorActive(console, 2);
        const QString entity = "sip:201@example.com";
        QCOMPARE(console.applyDocument(
                     document(7, entity, {dialog("d1", Direction::Recipient, DialogState::Early)}),
                     "201"),
                 ApplyResult::Applied);
        // RFC 6665: terminated;reason=deactivated → a new subscription at once.
        console.setSubscriptionStatus("201", status(State::Queued, "deactivated"));
        console.setSubscriptionStatus("201", status(State::Subscribing));
        QCOMPARE(console.state("201")->lamp.lamp, Lamp::Ringing);
        console.setSubscriptionStatus("201", status(State::Active));
        QCOMPARE(console.state("201")->lamp.lamp, Lamp::Ringing);
        // The new subscription's versions start again; its full state replaces the old.
        QCOMPARE(console.applyDocument(document(0, entity), "201"), ApplyResult::Applied);
        QCOMPARE(console.state("201")->lamp.lamp, Lamp::Idle);
        // A recovery that fails shows offline.
        console.setSubscriptionStatus("202", status(State::Queued, "481 on refresh"));
        QCOMPARE(console.state("202")->lamp.lamp, Lamp::Idle);
        console.setSubscriptionStatus("202", status(State::Unavailable, "noresource"));
        QCOMPARE(console.state("202")->lamp.lamp, Lamp::Offline);
        QVERIFY(console.state("202")->merge.dialogs().empty());
    }

    void sinceIsWhenTheLampChanged() {
        base::ManualClock clock;
        Console console(clock);
        monitorActive(console, 1);
        const QString entity = "sip:201@example.com";
        clock.advance(10s);
        const base::TimePoint ringingAt = clock.now();
        QCOMPARE(console.applyDocument(
                     document(1, entity, {dialog("d1", Direction::Recipient, DialogState::Early)}),
                     "201"),
                 ApplyResult::Applied);
        QCOMPARE(console.state("201")->since, ringingAt);
        QCOMPARE(console.state("201")->dialogSince.value("d1"), ringingAt);
        // The same state again (Kamailio raises the version anyway): since stays.
        clock.advance(3s);
        QCOMPARE(console.applyDocument(
                     document(2, entity, {dialog("d1", Direction::Recipient, DialogState::Early)}),
                     "201"),
                 ApplyResult::Applied);
        QCOMPARE(console.state("201")->since, ringingAt);
        // Answered: the lamp changes, the dialog keeps its first-seen time.
        clock.advance(4s);
        const base::TimePoint answeredAt = clock.now();
        QCOMPARE(
            console.applyDocument(
                document(3, entity, {dialog("d1", Direction::Recipient, DialogState::Confirmed)}),
                "201"),
            ApplyResult::Applied);
        QCOMPARE(console.state("201")->lamp.lamp, Lamp::Busy);
        QCOMPARE(console.state("201")->since, answeredAt);
        QCOMPARE(console.state("201")->dialogSince.value("d1"), ringingAt);
        // Another party on the same lamp (a transfer) starts a new since.
        clock.advance(5s);
        QCOMPARE(console.applyDocument(
                     document(4, entity,
                              {dialog("d1", Direction::Recipient, DialogState::Confirmed,
                                      "sip:203@example.com", "Carol")}),
                     "201"),
                 ApplyResult::Applied);
        QCOMPARE(console.state("201")->lamp.otherDisplay, QStringLiteral("Carol"));
        QCOMPARE(console.state("201")->since, clock.now());
        // Hung up: idle since now.
        clock.advance(6s);
        QCOMPARE(console.applyDocument(document(5, entity), "201"), ApplyResult::Applied);
        QCOMPARE(console.state("201")->since, clock.now());
        QVERIFY(console.state("201")->dialogSince.isEmpty());
    }

    void sinceFromDuration() {
        base::ManualClock clock;
        Console console(clock);
        monitorActive(console, 1);
        clock.advance(1h);
        // A board started in the middle of a call: <duration> says how long it runs.
        auto call = dialog("d1", Direction::Initiator, DialogState::Confirmed);
        call.durationSeconds = 754;
        QCOMPARE(console.applyDocument(document(1, "sip:201@example.com", {call}), "201"),
                 ApplyResult::Applied);
        QCOMPARE(console.state("201")->lamp.lamp, Lamp::Busy);
        QCOMPARE(console.state("201")->since, clock.now() - 754s);
        QCOMPARE(console.state("201")->dialogSince.value("d1"), clock.now() - 754s);
        // A rising duration is no change.
        clock.advance(10s);
        call.durationSeconds = 764;
        QCoreApplication::processEvents();
        QSignalSpy spy(&console, &Console::extensionsChanged);
        QCOMPARE(console.applyDocument(document(2, "sip:201@example.com", {call}), "201"),
                 ApplyResult::Applied);
        QCoreApplication::processEvents();
        QCOMPARE(spy.count(), 0);
        QCOMPARE(console.state("201")->since, clock.now() - 764s);
    }

    void busyComesBackWithItsOwnSince() {
        base::ManualClock clock;
        Console console(clock);
        monitorActive(console, 1);
        const QString entity = "sip:201@example.com";
        const auto call = dialog("d1", Direction::Initiator, DialogState::Confirmed);
        QCOMPARE(console.applyDocument(document(1, entity, {call}), "201"), ApplyResult::Applied);
        const base::TimePoint busyAt = clock.now();
        clock.advance(60s);
        // Call waiting: ringing wins over busy...
        const auto waiting =
            dialog("d2", Direction::Recipient, DialogState::Early, "sip:204@example.com", "Dave");
        QCOMPARE(console.applyDocument(document(2, entity, {call, waiting}), "201"),
                 ApplyResult::Applied);
        QCOMPARE(console.state("201")->lamp.lamp, Lamp::Ringing);
        QCOMPARE(console.state("201")->lamp.otherDisplay, QStringLiteral("Dave"));
        QCOMPARE(console.state("201")->since, clock.now());
        clock.advance(10s);
        // ...and when it stops, the first call shows its real length again.
        QCOMPARE(console.applyDocument(document(3, entity, {call}), "201"), ApplyResult::Applied);
        QCOMPARE(console.state("201")->lamp.lamp, Lamp::Busy);
        QCOMPARE(console.state("201")->since, busyAt);
    }

    void callKeepsItsTimeAcrossAResubscription() {
        base::ManualClock clock;
        Console console(clock);
        monitorActive(console, 1);
        const QString entity = "sip:201@example.com";
        const auto call = dialog("d1", Direction::Initiator, DialogState::Confirmed);
        QCOMPARE(console.applyDocument(document(7, entity, {call}), "201"), ApplyResult::Applied);
        const base::TimePoint busyAt = clock.now();
        clock.advance(30s);
        // The server restarted: the subscription is lost and set up again (200 first).
        console.setSubscriptionStatus("201", status(State::Retrying, "481 on refresh", 481));
        QCOMPARE(console.state("201")->lamp.lamp, Lamp::Offline);
        console.setSubscriptionStatus("201", status(State::Subscribing));
        console.setSubscriptionStatus("201", status(State::Active));
        clock.advance(1s);
        QCOMPARE(console.applyDocument(document(0, entity, {call}), "201"), ApplyResult::Applied);
        QCOMPARE(console.state("201")->lamp.lamp, Lamp::Busy);
        QCOMPARE(console.state("201")->since, busyAt);
        QCOMPARE(console.state("201")->dialogSince.value("d1"), busyAt);
        // A call that did not survive is forgotten once the full state is in.
        QCOMPARE(console.applyDocument(document(1, entity), "201"), ApplyResult::Applied);
        QVERIFY(console.state("201")->dialogSince.isEmpty());
    }

    void heldFromRendering() {
        base::ManualClock clock;
        Console console(clock);
        monitorActive(console, 1);
        auto call = dialog("d1", Direction::Initiator, DialogState::Confirmed);
        call.local.target = dialoginfo::Target{"sip:201@127.0.0.7", {{"+sip.rendering", "no"}}};
        QCOMPARE(console.applyDocument(document(1, "sip:201@example.com", {call}), "201"),
                 ApplyResult::Applied);
        QCOMPARE(console.state("201")->lamp.lamp, Lamp::Held);
    }

    // --- coalesced signals ---------------------------------------------------------------------

    void oneBatchPerLoopTurn() {
        base::ManualClock clock;
        Console console(clock);
        monitorActive(console, 10);
        QSignalSpy spy(&console, &Console::extensionsChanged);
        // A burst of 100 documents over 10 extensions, lamps flipping every time, in the
        // order 205, 201, 209, 203, ...
        const int order[] = {5, 1, 9, 3, 7, 2, 10, 4, 8, 6};
        for (int i = 0; i < 100; ++i) {
            const int ext = order[i % 10];
            const auto version = quint64(i / 10 + 1);
            std::vector<DialogInfo> dialogs;
            if (version % 2)
                dialogs.push_back(dialog("d", Direction::Recipient, DialogState::Early));
            QCOMPARE(
                console.applyDocument(
                    document(version, QStringLiteral("sip:%1@example.com").arg(200 + ext), dialogs),
                    {}),
                ApplyResult::Applied);
        }
        QCOMPARE(spy.count(), 0);  // nothing inside the call: the batch comes from the loop
        QCoreApplication::processEvents();
        QCOMPARE(spy.count(), 1);
        QCOMPARE(spy.at(0).at(0).toStringList(), (QStringList{"205", "201", "209", "203", "207",
                                                              "202", "210", "204", "208", "206"}));
        QCoreApplication::processEvents();
        QCOMPARE(spy.count(), 1);

        // The next turn gets its own batch.
        QCOMPARE(console.applyDocument(
                     document(11, "sip:203@example.com",
                              {dialog("d", Direction::Recipient, DialogState::Confirmed)}),
                     {}),
                 ApplyResult::Applied);
        console.setSubscriptionStatus("207", status(State::Retrying, "timeout"));
        QCoreApplication::processEvents();
        QCOMPARE(spy.count(), 2);
        QCOMPARE(spy.at(1).at(0).toStringList(), (QStringList{"203", "207"}));
    }

    void noBatchWithoutChange() {
        base::ManualClock clock;
        Console console(clock);
        monitorActive(console, 2);
        QSignalSpy spy(&console, &Console::extensionsChanged);
        const auto early = dialog("d1", Direction::Recipient, DialogState::Early);
        QCOMPARE(console.applyDocument(document(1, "sip:201@example.com", {early}), {}),
                 ApplyResult::Applied);
        QCoreApplication::processEvents();
        QCOMPARE(spy.count(), 1);
        // Kamailio: the version rises on every NOTIFY, even without change.
        for (quint64 version = 2; version < 20; ++version) {
            QCOMPARE(console.applyDocument(document(version, "sip:201@example.com", {early}), {}),
                     ApplyResult::Applied);
        }
        // The same subscription state again, and an idle extension told it is idle.
        console.setSubscriptionStatus("201", status(State::Active));
        QCOMPARE(console.applyDocument(document(1, "sip:202@example.com"), {}),
                 ApplyResult::Applied);
        QCoreApplication::processEvents();
        QCOMPARE(spy.count(), 1);
        // A change in the dialogs that leaves the lamp as it is still counts (the
        // headless lamp event lists the dialogs).
        auto tagged = early;
        tagged.remoteTag = "rt-1";
        QCOMPARE(console.applyDocument(document(20, "sip:201@example.com", {tagged}), {}),
                 ApplyResult::Applied);
        QCoreApplication::processEvents();
        QCOMPARE(spy.count(), 2);
        QCOMPARE(spy.at(1).at(0).toStringList(), QStringList{"201"});
        // So does a new subscription reason.
        console.setSubscriptionStatus("202", status(State::Active, "refreshed"));
        QCoreApplication::processEvents();
        QCOMPARE(spy.count(), 3);
    }

    void batchLeavesOutUnmonitored() {
        base::ManualClock clock;
        Console console(clock);
        monitorActive(console, 3);
        QSignalSpy spy(&console, &Console::extensionsChanged);
        for (const char* number : {"201", "202", "203"})
            console.setSubscriptionStatus(number, status(State::Retrying, "timeout"));
        QVERIFY(console.unmonitor("202"));
        QCoreApplication::processEvents();
        QCOMPARE(spy.count(), 1);
        QCOMPARE(spy.at(0).at(0).toStringList(), (QStringList{"201", "203"}));
        // Only removed ones changed: no batch at all.
        console.setSubscriptionStatus("203", status(State::Subscribing));
        QVERIFY(console.unmonitor("203"));
        QCoreApplication::processEvents();
        QCOMPARE(spy.count(), 1);
    }

    void subscribedCount() {
        base::ManualClock clock;
        Console console(clock);
        console.setDomain("example.com");
        for (int i = 201; i <= 205; ++i)
            QVERIFY(console.monitor({QString::number(i), {}, {}, {}}));
        QCOMPARE(console.subscribedCount(), 0);
        console.setSubscriptionStatus("201", status(State::Subscribing));
        console.setSubscriptionStatus("202", status(State::Pending));
        console.setSubscriptionStatus("203", status(State::Active));
        console.setSubscriptionStatus("204", status(State::Unavailable, "noresource"));
        QCOMPARE(console.subscribedCount(), 2);
        console.setSubscriptionStatus("202", status(State::Active));  // pending → active
        QCOMPARE(console.subscribedCount(), 2);
        console.setSubscriptionStatus("203", status(State::Active));  // again
        QCOMPARE(console.subscribedCount(), 2);
        console.setSubscriptionStatus("201", status(State::Active));
        QCOMPARE(console.subscribedCount(), 3);
        console.setSubscriptionStatus("203", status(State::Retrying, "deactivated"));
        QCOMPARE(console.subscribedCount(), 2);
        console.setSubscriptionStatus("299", status(State::Active));  // not monitored
        QCOMPARE(console.subscribedCount(), 2);
        QVERIFY(console.unmonitor("201"));
        QCOMPARE(console.subscribedCount(), 1);
        QVERIFY(console.setDirectory({{"203", {}, {}, {}}, {"204", {}, {}, {}}}));
        QCOMPARE(console.subscribedCount(), 0);
        QCOMPARE(console.monitoredCount(), 2);
    }

    // 2,000 extensions and a burst of 20,000 documents: one batch, every extension in it.
    // (No timing is asserted; tests/bench measures the rate.)
    void largeBoardBurst() {
        base::ManualClock clock;
        Console console(clock);
        std::vector<Extension> extensions;
        for (int i = 0; i < 2000; ++i)
            extensions.push_back({QString::number(1000 + i), {}, {}, {}});
        console.setDomain("example.com");
        QVERIFY(console.setDirectory(extensions));
        for (const Extension& e : extensions)
            console.setSubscriptionStatus(e.number, status(State::Active));
        QCOMPARE(console.subscribedCount(), 2000);
        QCoreApplication::processEvents();
        QSignalSpy spy(&console, &Console::extensionsChanged);
        for (int i = 0; i < 20000; ++i) {
            const int ext = (i * 7) % 2000;
            std::vector<DialogInfo> dialogs;
            if ((i / 2000) % 2 == 0)  // every extension flips each round
                dialogs.push_back(dialog("d", Direction::Recipient, DialogState::Early));
            QCOMPARE(
                console.applyDocument(
                    document(quint64(i + 1), QStringLiteral("sip:%1@example.com").arg(1000 + ext),
                             std::move(dialogs)),
                    {}),
                ApplyResult::Applied);
        }
        QCoreApplication::processEvents();
        QCOMPARE(spy.count(), 1);
        const QStringList numbers = spy.at(0).at(0).toStringList();
        QCOMPARE(numbers.size(), 2000);
        QCOMPARE(QSet<QString>(numbers.begin(), numbers.end()).size(), 2000);
    }
};

QTEST_GUILESS_MAIN(TestConsole)
#include "tst_console.moc"
