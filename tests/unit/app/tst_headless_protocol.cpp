// Tests app/headless_protocol.*: the JSON-lines schema of docs/headless.md.

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

#include "app/headless_protocol.h"

using namespace sb::app;

class TstHeadlessProtocol : public QObject {
    Q_OBJECT

private:
    static QJsonObject parseLine(const QByteArray& line) {
        return QJsonDocument::fromJson(line).object();
    }

private slots:
    void quitWithId() {
        const ParsedCommand command = parseCommand(R"({"cmd":"quit","id":"x1"})");
        QVERIFY(command.kind);
        QCOMPARE(*command.kind, CommandKind::Quit);
        QCOMPARE(command.id.toString(), QStringLiteral("x1"));
        QVERIFY(command.error.isEmpty());
    }

    void numericIdIsKept() {
        const ParsedCommand command = parseCommand(R"({"id":7,"cmd":"quit"})");
        QVERIFY(command.kind);
        QCOMPARE(command.id.toInt(), 7);
        QCOMPARE(parseLine(toLine(ackEvent(command.id))).value("id").toInt(), 7);
    }

    void quitWithoutId() {
        const ParsedCommand command = parseCommand(R"({"cmd":"quit"})");
        QVERIFY(command.kind);
        QVERIFY(command.id.isUndefined());
        QVERIFY(!ackEvent(command.id).contains(QStringLiteral("id")));
    }

    void refusals_data() {
        QTest::addColumn<QByteArray>("line");
        QTest::addColumn<QString>("message");
        QTest::addColumn<QString>("id");
        QTest::newRow("bad json") << QByteArray("{\"cmd\":") << "not valid JSON"
                                  << "";
        QTest::newRow("array") << QByteArray("[1,2]") << "must be a JSON object"
                               << "";
        QTest::newRow("no cmd") << QByteArray(R"({"id":"a"})") << "missing \"cmd\""
                                << "a";
        QTest::newRow("cmd not string")
            << QByteArray(R"({"cmd":5,"id":"b"})") << "\"cmd\" must be a string"
            << "b";
        QTest::newRow("unknown") << QByteArray(R"({"cmd":"dance","id":"c"})")
                                 << "unknown command \"dance\""
                                 << "c";
        QTest::newRow("bad id") << QByteArray(R"({"cmd":"quit","id":{}})")
                                << "\"id\" must be a string or a number"
                                << "";
    }
    void refusals() {
        QFETCH(QByteArray, line);
        QFETCH(QString, message);
        QFETCH(QString, id);
        const ParsedCommand command = parseCommand(line);
        QVERIFY(!command.kind);
        QVERIFY2(command.error.contains(message), qPrintable(command.error));
        const QJsonObject event = parseLine(toLine(errorEvent(command.id, command.error)));
        QCOMPARE(event.value("event").toString(), QStringLiteral("error"));
        QCOMPARE(event.value("message").toString(), command.error);
        if (id.isEmpty()) {
            QVERIFY2(!event.contains("id"), "an error without a known id carries no id");
        } else {
            QCOMPARE(event.value("id").toString(), id);
        }
    }

    void overlongLineRefused() {
        const QByteArray line =
            "{\"cmd\":\"quit\",\"pad\":\"" + QByteArray(kMaxCommandLine, 'x') + "\"}";
        const ParsedCommand command = parseCommand(line);
        QVERIFY(!command.kind);
        QVERIFY(command.error.contains(QStringLiteral("longer than")));
    }

    void startedEventInServerMode() {
        const QJsonObject event = parseLine(
            toLine(startedEvent(QStringLiteral("1.2.3"), {QStringLiteral("udp:127.0.0.1:5060")},
                                QStringLiteral("server"), QStringLiteral("switchboard.local"))));
        QCOMPARE(event.value("event").toString(), QStringLiteral("started"));
        QCOMPARE(event.value("mode").toString(), QStringLiteral("server"));
        QCOMPARE(event.value("domain").toString(), QStringLiteral("switchboard.local"));
        QCOMPARE(event.value("listen").toArray().size(), 1);
    }

    void bindingEvent_() {
        sb::app::BindingView binding;
        binding.contact = QStringLiteral("sip:201@127.0.0.1:5062");
        binding.source = QStringLiteral("udp:127.0.0.1:5062");
        binding.expiresIn = 299;
        binding.userAgent = QStringLiteral("Linphone");
        const QJsonObject event = parseLine(toLine(bindingEvent(QStringLiteral("201"), {binding})));
        QCOMPARE(event.value("event").toString(), QStringLiteral("binding"));
        QCOMPARE(event.value("user").toString(), QStringLiteral("201"));
        QCOMPARE(event.value("registered").toBool(), true);
        const QJsonObject contact = event.value("contacts").toArray().at(0).toObject();
        QCOMPARE(contact.value("contact").toString(), binding.contact);
        QCOMPARE(contact.value("source").toString(), binding.source);
        QCOMPARE(contact.value("expires").toInt(), 299);
        QCOMPARE(contact.value("user_agent").toString(), QStringLiteral("Linphone"));

        const QJsonObject gone = parseLine(toLine(bindingEvent(QStringLiteral("201"), {})));
        QCOMPARE(gone.value("registered").toBool(), false);
        QVERIFY(gone.value("contacts").toArray().isEmpty());
    }

    void startedEvent_() {
        const QByteArray line =
            toLine(startedEvent(QStringLiteral("1.2.3"), {QStringLiteral("udp:127.0.0.1:5000"),
                                                          QStringLiteral("tcp:127.0.0.1:5001")}));
        QVERIFY(line.endsWith('\n'));
        QCOMPARE(line.count('\n'), 1);  // exactly one line
        const QJsonObject event = parseLine(line);
        QCOMPARE(event.value("event").toString(), QStringLiteral("started"));
        QCOMPARE(event.value("version").toString(), QStringLiteral("1.2.3"));
        QCOMPARE(event.value("listen").toArray().size(), 2);
        QCOMPARE(event.value("listen").toArray().at(1).toString(),
                 QStringLiteral("tcp:127.0.0.1:5001"));
    }

    void registeredEvent() {
        RegistrationStatus status;
        status.state = RegistrationStatus::State::Registered;
        status.aor = QStringLiteral("sip:alice@example.com");
        status.expires = 600;
        status.code = 200;
        status.reason = QStringLiteral("OK");
        const QJsonObject event = parseLine(toLine(registrationEvent(status)));
        QCOMPARE(event.value("event").toString(), QStringLiteral("registration"));
        QCOMPARE(event.value("state").toString(), QStringLiteral("registered"));
        QCOMPARE(event.value("aor").toString(), status.aor);
        QCOMPARE(event.value("expires").toInt(), 600);
        QCOMPARE(event.value("code").toInt(), 200);
        QVERIFY(!event.contains("retry_in"));
    }

    void failedEvent() {
        RegistrationStatus status;
        status.state = RegistrationStatus::State::Failed;
        status.aor = QStringLiteral("sip:alice@example.com");
        status.code = 408;
        status.reason = QStringLiteral("Request Timeout");
        status.retryIn = 42;
        const QJsonObject event = parseLine(toLine(registrationEvent(status)));
        QCOMPARE(event.value("state").toString(), QStringLiteral("failed"));
        QCOMPARE(event.value("code").toInt(), 408);
        QCOMPARE(event.value("reason").toString(), QStringLiteral("Request Timeout"));
        QCOMPARE(event.value("retry_in").toInt(), 42);
        QVERIFY(!event.contains("expires"));
    }

    void monitorCommand() {
        const ParsedCommand command = parseCommand(
            R"({"cmd":"monitor","id":"m1","extension":" 203 ","name":"Carol","group":"Support"})");
        QVERIFY2(command.kind == CommandKind::Monitor, qPrintable(command.error));
        QCOMPARE(command.id.toString(), QStringLiteral("m1"));
        QCOMPARE(command.extension.number, QStringLiteral("203"));
        QCOMPARE(command.extension.name, QStringLiteral("Carol"));
        QCOMPARE(command.extension.group, QStringLiteral("Support"));
        QVERIFY(command.extension.uri.isEmpty());
        QVERIFY(command.extension.identity.isEmpty());
        QVERIFY(command.extension.publishTo.isEmpty());

        const ParsedCommand publishing =
            parseCommand(R"({"cmd":"monitor","extension":"205","identity":"sip:dave@example.com",)"
                         R"("publish_to":["sip:205@a.example","sip:desk@b.example"]})");
        QVERIFY2(publishing.kind == CommandKind::Monitor, qPrintable(publishing.error));
        QCOMPARE(publishing.extension.identity, QStringLiteral("sip:dave@example.com"));
        QCOMPARE(publishing.extension.publishTo,
                 (QStringList{QStringLiteral("sip:205@a.example"),
                              QStringLiteral("sip:desk@b.example")}));
    }

    void unmonitorAndSnapshotCommands() {
        const ParsedCommand unmonitor = parseCommand(R"({"cmd":"unmonitor","extension":"203"})");
        QVERIFY(unmonitor.kind == CommandKind::Unmonitor);
        QCOMPARE(unmonitor.extension.number, QStringLiteral("203"));
        const ParsedCommand snapshot = parseCommand(R"({"cmd":"snapshot","id":7})");
        QVERIFY(snapshot.kind == CommandKind::Snapshot);
        QCOMPARE(snapshot.id.toInt(), 7);
    }

    void badMonitorCommands_data() {
        QTest::addColumn<QByteArray>("line");
        QTest::addColumn<QString>("message");
        QTest::newRow("no extension")
            << QByteArray(R"({"cmd":"monitor"})") << "needs \"extension\"";
        QTest::newRow("numeric extension")
            << QByteArray(R"({"cmd":"unmonitor","extension":201})") << "needs \"extension\"";
        QTest::newRow("blank extension")
            << QByteArray(R"({"cmd":"monitor","extension":"  "})") << "needs \"extension\"";
        QTest::newRow("name not a string")
            << QByteArray(R"({"cmd":"monitor","extension":"201","name":5})")
            << "\"name\" must be a string";
        QTest::newRow("identity not a SIP URI")
            << QByteArray(R"({"cmd":"monitor","extension":"201","identity":"tel:+1"})")
            << "\"identity\" must be a sip: or sips: URI";
        QTest::newRow("publish_to not an array")
            << QByteArray(R"({"cmd":"monitor","extension":"201","publish_to":"sip:a@b"})")
            << "\"publish_to\" must be an array";
        QTest::newRow("publish_to with a bad URI")
            << QByteArray(R"({"cmd":"monitor","extension":"201","publish_to":["sip:a@b", 5]})")
            << "\"publish_to\" must be an array";
    }
    void badMonitorCommands() {
        QFETCH(QByteArray, line);
        QFETCH(QString, message);
        const ParsedCommand command = parseCommand(line);
        QVERIFY(!command.kind);
        QVERIFY2(command.error.contains(message), qPrintable(command.error));
    }

    void lampEventOfABusyExtension() {
        sb::board::ExtensionState state;
        state.extension = {
            QStringLiteral("201"), QStringLiteral("Alice"), QStringLiteral("Sales"), {}};
        sb::dialoginfo::Document document;
        document.version = 1;
        document.entity = QStringLiteral("sip:201@example.com");
        sb::dialoginfo::DialogInfo dialog;
        dialog.id = QStringLiteral("d1");
        dialog.callId = QStringLiteral("c1@host");
        dialog.localTag = QStringLiteral("lt");
        dialog.remoteTag = QStringLiteral("rt");
        dialog.direction = sb::dialoginfo::Direction::Initiator;
        dialog.state = sb::dialoginfo::DialogState::Confirmed;
        dialog.remote.identity = QStringLiteral("sip:202@example.com");
        dialog.remote.display = QStringLiteral("Bob");
        dialog.remote.target = sb::dialoginfo::Target{QStringLiteral("sip:202@127.0.0.1:5071"), {}};
        document.dialogs.push_back(dialog);
        QVERIFY(state.merge.apply(document) == sb::dialoginfo::DialogStateMerge::Outcome::Applied);
        state.lamp = sb::dialoginfo::deriveLamp(state.merge.dialogs(), true);
        const sb::base::TimePoint now{std::chrono::seconds(1000)};
        state.since = now - std::chrono::seconds(65);
        state.dialogSince.insert(QStringLiteral("d1"), now - std::chrono::seconds(70));
        const QDateTime wallNow(QDate(2026, 11, 27), QTime(8, 0, 0), Qt::UTC);

        const QJsonObject event = parseLine(toLine(lampEvent(state, now, wallNow)));
        QCOMPARE(event.value("event").toString(), QStringLiteral("lamp"));
        QCOMPARE(event.value("extension").toString(), QStringLiteral("201"));
        QCOMPARE(event.value("name").toString(), QStringLiteral("Alice"));
        QCOMPARE(event.value("group").toString(), QStringLiteral("Sales"));
        QCOMPARE(event.value("lamp").toString(), QStringLiteral("busy"));
        QCOMPARE(event.value("since").toString(), QStringLiteral("2026-11-27T07:58:55.000Z"));
        QCOMPARE(event.value("other").toObject().value("display").toString(),
                 QStringLiteral("Bob"));
        QCOMPARE(event.value("other").toObject().value("uri").toString(),
                 QStringLiteral("sip:202@example.com"));
        const QJsonArray dialogs = event.value("dialogs").toArray();
        QCOMPARE(dialogs.size(), 1);
        const QJsonObject first = dialogs.at(0).toObject();
        QCOMPARE(first.value("id").toString(), QStringLiteral("d1"));
        QCOMPARE(first.value("call_id").toString(), QStringLiteral("c1@host"));
        QCOMPARE(first.value("local_tag").toString(), QStringLiteral("lt"));
        QCOMPARE(first.value("remote_tag").toString(), QStringLiteral("rt"));
        QCOMPARE(first.value("direction").toString(), QStringLiteral("initiator"));
        QCOMPARE(first.value("state").toString(), QStringLiteral("confirmed"));
        QCOMPARE(first.value("since").toString(), QStringLiteral("2026-11-27T07:58:50.000Z"));
        const QJsonObject remote = first.value("remote").toObject();
        QCOMPARE(remote.value("identity").toString(), QStringLiteral("sip:202@example.com"));
        QCOMPARE(remote.value("display").toString(), QStringLiteral("Bob"));
        QCOMPARE(remote.value("target").toString(), QStringLiteral("sip:202@127.0.0.1:5071"));
    }

    void lampLineIsTheLampEventAsText() {
        // The direct writer and the QJsonObject form agree to the byte, also for names
        // that need escaping (quotes, backslashes, control characters, non-ASCII).
        sb::board::ExtensionState state;
        state.extension = {QStringLiteral("201"),
                           QStringLiteral("Al\"ice \\ Ünal\t\u0001"),
                           QStringLiteral("Sales & <Support>"),
                           {}};
        sb::dialoginfo::Document document;
        document.version = 1;
        document.entity = QStringLiteral("sip:201@example.com");
        for (const auto& [id, tags] :
             {std::pair{QStringLiteral("d1"), true}, std::pair{QStringLiteral("d\"2"), false}}) {
            sb::dialoginfo::DialogInfo dialog;
            dialog.id = id;
            if (tags) {
                dialog.callId = QStringLiteral("c1@host");
                dialog.localTag = QStringLiteral("lt");
                dialog.remoteTag = QStringLiteral("rt");
                dialog.remote.display = QStringLiteral("Bob \"B\"");
                dialog.remote.target =
                    sb::dialoginfo::Target{QStringLiteral("sip:202@127.0.0.1:5071"), {}};
            }
            dialog.direction = sb::dialoginfo::Direction::Recipient;
            dialog.state = sb::dialoginfo::DialogState::Early;
            dialog.remote.identity = QStringLiteral("sip:a&b@example.com");
            document.dialogs.push_back(dialog);
        }
        QVERIFY(state.merge.apply(document) == sb::dialoginfo::DialogStateMerge::Outcome::Applied);
        state.lamp = sb::dialoginfo::deriveLamp(state.merge.dialogs(), true);
        const sb::base::TimePoint now{std::chrono::seconds(1000)};
        state.since = now - std::chrono::seconds(5);
        state.dialogSince.insert(QStringLiteral("d1"), now - std::chrono::seconds(7));
        const QDateTime wallNow(QDate(2026, 11, 27), QTime(8, 0, 0), Qt::UTC);

        QCOMPARE(lampLine(state, now, wallNow), toLine(lampEvent(state, now, wallNow)));
        state.lamp = sb::dialoginfo::deriveLamp({}, true);
        QCOMPARE(lampLine(state, now, wallNow), toLine(lampEvent(state, now, wallNow)));
    }

    void idleLampHasNoOtherParty() {
        sb::board::ExtensionState state;
        state.extension.number = QStringLiteral("202");
        state.lamp = sb::dialoginfo::deriveLamp({}, true);
        const QJsonObject event =
            lampEvent(state, sb::base::TimePoint{}, QDateTime::currentDateTimeUtc());
        QCOMPARE(event.value("lamp").toString(), QStringLiteral("idle"));
        QVERIFY(!event.contains("other"));
        QCOMPARE(event.value("dialogs").toArray().size(), 0);
    }

    void publicationEvents() {
        sb::app::PublicationView view;
        view.entity = QStringLiteral("sip:202@switchboard.local");
        view.dialog = QStringLiteral("d1");
        view.state = QStringLiteral("failed");
        view.dialogState = QStringLiteral("confirmed");
        view.code = 503;
        view.reason = QStringLiteral("503 Service Unavailable");
        const QJsonObject event = parseLine(toLine(publicationEvent(view)));
        QCOMPARE(event.value("event").toString(), QStringLiteral("publication"));
        QCOMPARE(event.value("entity").toString(), view.entity);
        QCOMPARE(event.value("dialog").toString(), QStringLiteral("d1"));
        QCOMPARE(event.value("state").toString(), QStringLiteral("failed"));
        QCOMPARE(event.value("dialog_state").toString(), QStringLiteral("confirmed"));
        QCOMPARE(event.value("code").toInt(), 503);
        QCOMPARE(event.value("reason").toString(), view.reason);

        view.state = QStringLiteral("published");
        view.code = 0;
        view.reason.clear();
        const QJsonObject ok = parseLine(toLine(publicationEvent(view)));
        QVERIFY(!ok.contains("code"));
        QVERIFY(!ok.contains("reason"));
    }

    // publicationLine() writes the text itself: it must be what QJsonDocument writes,
    // escaping included.
    void publicationLineIsThePublicationEventAsText() {
        sb::app::PublicationView view;
        view.entity = QStringLiteral("sip:202@switchboard.local");
        view.dialog = QStringLiteral("d5c1e0a2f3b4d5e6f7a8b");
        view.state = QStringLiteral("published");
        view.dialogState = QStringLiteral("early");
        view.code = 200;
        QCOMPARE(publicationLine(view), toLine(publicationEvent(view)));
        view.code = 0;
        QCOMPARE(publicationLine(view), toLine(publicationEvent(view)));
        view.state = QStringLiteral("failed");
        view.code = 503;
        view.reason = QStringLiteral("transport error: cannot send to \"127.0.0.1\"\\x\n\t\r");
        QCOMPARE(publicationLine(view), toLine(publicationEvent(view)));
        view.entity = QStringLiteral("sip:J\u00fcrgen\u4e2d@ex\u0001ample.com\u007f");
        view.dialog = QString();
        view.dialogState = QString();
        view.reason = QStringLiteral("\b\f\u001f \U0001F600 end");
        QCOMPARE(publicationLine(view), toLine(publicationEvent(view)));
        view.state = QStringLiteral("removed");
        view.code = 0;
        view.reason = QStringLiteral("expired");
        QCOMPARE(publicationLine(view), toLine(publicationEvent(view)));
    }

    void subscriptionEvents() {
        sb::ua::SubscriptionStatus status;
        status.state = sb::ua::SubscriptionStatus::State::Unavailable;
        status.reason = "noresource";
        status.retryIn = std::chrono::milliseconds(29001);
        const QJsonObject event =
            parseLine(toLine(subscriptionEvent(QStringLiteral("203"), status)));
        QCOMPARE(event.value("event").toString(), QStringLiteral("subscription"));
        QCOMPARE(event.value("extension").toString(), QStringLiteral("203"));
        QCOMPARE(event.value("state").toString(), QStringLiteral("unavailable"));
        QCOMPARE(event.value("reason").toString(), QStringLiteral("noresource"));
        QCOMPARE(event.value("retry_in").toInt(), 30);  // whole seconds, rounded up
        status.state = sb::ua::SubscriptionStatus::State::Active;
        status.reason.clear();
        status.retryIn.reset();
        const QJsonObject active = subscriptionEvent(QStringLiteral("203"), status);
        QCOMPARE(active.value("state").toString(), QStringLiteral("active"));
        QVERIFY(!active.contains("retry_in"));
    }

    void stateNames() {
        QCOMPARE(stateName(RegistrationStatus::State::Unregistered),
                 QStringLiteral("unregistered"));
        QCOMPARE(stateName(RegistrationStatus::State::Registering), QStringLiteral("registering"));
        QCOMPARE(stateName(RegistrationStatus::State::Registered), QStringLiteral("registered"));
        QCOMPARE(stateName(RegistrationStatus::State::Failed), QStringLiteral("failed"));
    }

    void pickupForms() {
        ParsedCommand byExt = parseCommand(R"({"cmd":"pickup","ext":"202","id":1})");
        QVERIFY2(byExt.kind, qPrintable(byExt.error));
        QCOMPARE(*byExt.kind, CommandKind::Pickup);
        QCOMPARE(byExt.pickupExtension, QStringLiteral("202"));
        ParsedCommand byDialog = parseCommand(R"({"cmd":"pickup","dialog":"d12ab"})");
        QVERIFY(byDialog.kind);
        QCOMPARE(byDialog.pickupDialog, QStringLiteral("d12ab"));
        ParsedCommand byCall = parseCommand(R"({"cmd":"pickup","call":"17"})");
        QVERIFY(byCall.kind);
        QCOMPARE(byCall.call, quint64(17));
    }

    void forwardWithEveryField() {
        const ParsedCommand command = parseCommand(
            R"({"cmd":"forward","call":5,"to":"203","reason":"user-busy","uri":"sip:200@x",)"
            R"("privacy":"full","counter":2,"history_info":true})");
        QVERIFY2(command.kind, qPrintable(command.error));
        QCOMPARE(*command.kind, CommandKind::Forward);
        QCOMPARE(command.forward.call, quint64(5));
        QCOMPARE(command.forward.to, QStringLiteral("203"));
        QCOMPARE(command.forward.reason, QStringLiteral("user-busy"));
        QCOMPARE(command.forward.uri, QStringLiteral("sip:200@x"));
        QCOMPARE(command.forward.privacy, std::optional<QString>(QStringLiteral("full")));
        QCOMPARE(command.forward.counter, std::optional<int>(2));
        QCOMPARE(command.forward.historyInfo, std::optional<bool>(true));
        const ParsedCommand byExt = parseCommand(R"({"cmd":"forward","ext":"202","to":"203"})");
        QVERIFY(byExt.kind);
        QCOMPARE(byExt.forward.extension, QStringLiteral("202"));
        QVERIFY(!byExt.forward.privacy);
    }

    void rejectCode() {
        const ParsedCommand plain = parseCommand(R"({"cmd":"reject","call":3})");
        QVERIFY(plain.kind);
        QCOMPARE(plain.status, 486);
        const ParsedCommand coded = parseCommand(R"({"cmd":"reject","call":3,"code":603})");
        QVERIFY(coded.kind);
        QCOMPARE(coded.status, 603);
    }

    void actionRefusals_data() {
        QTest::addColumn<QByteArray>("line");
        QTest::addColumn<QString>("message");
        QTest::newRow("pickup of nothing") << QByteArray(R"({"cmd":"pickup"})") << "needs one of";
        QTest::newRow("pickup of two")
            << QByteArray(R"({"cmd":"pickup","ext":"202","dialog":"d1"})") << "needs one of";
        QTest::newRow("pickup call id")
            << QByteArray(R"({"cmd":"pickup","call":-4})") << "\"call\" must be a call id";
        QTest::newRow("forward without to")
            << QByteArray(R"({"cmd":"forward","ext":"202"})") << "needs \"to\"";
        QTest::newRow("forward of both")
            << QByteArray(R"({"cmd":"forward","ext":"202","call":4,"to":"203"})") << "needs one of";
        QTest::newRow("forward reason number")
            << QByteArray(R"({"cmd":"forward","ext":"202","to":"203","reason":5})")
            << "\"reason\" must be a string";
        QTest::newRow("forward counter")
            << QByteArray(R"({"cmd":"forward","ext":"202","to":"203","counter":0})")
            << "\"counter\" must be a whole number";
        QTest::newRow("forward history")
            << QByteArray(R"({"cmd":"forward","ext":"202","to":"203","history_info":"yes"})")
            << "\"history_info\" must be true or false";
        QTest::newRow("reject without call")
            << QByteArray(R"({"cmd":"reject"})") << "needs \"call\"";
        QTest::newRow("reject 200")
            << QByteArray(R"({"cmd":"reject","call":1,"code":200})") << "from 400 to 699";
    }

    void actionRefusals() {
        QFETCH(QByteArray, line);
        QFETCH(QString, message);
        const ParsedCommand command = parseCommand(line);
        QVERIFY(!command.kind);
        QVERIFY2(command.error.contains(message), qPrintable(command.error));
    }

    void callEventFields() {
        QueuedCallView call;
        call.call = 9;
        call.state = QStringLiteral("waiting");
        call.queued = true;
        call.callerDisplay = QStringLiteral("Alice");
        call.callerUri = QStringLiteral("sip:201@switchboard.local");
        call.calledUri = QStringLiteral("sip:200@switchboard.local");
        call.since = QDateTime(QDate(2026, 11, 27), QTime(9, 30), Qt::UTC);
        call.history = {QStringLiteral("from 203, user-busy")};
        call.outcome = QStringLiteral("203 busy");
        const QJsonObject event = parseLine(toLine(callEvent(call)));
        QCOMPARE(event.value("event").toString(), QStringLiteral("call"));
        QCOMPARE(event.value("call").toInt(), 9);
        QCOMPARE(event.value("state").toString(), QStringLiteral("waiting"));
        QCOMPARE(event.value("from_display").toString(), QStringLiteral("Alice"));
        QCOMPARE(event.value("to").toString(), QStringLiteral("sip:200@switchboard.local"));
        QCOMPARE(event.value("since").toString(), QStringLiteral("2026-11-27T09:30:00.000Z"));
        QCOMPARE(event.value("history").toArray().first().toString(),
                 QStringLiteral("from 203, user-busy"));
        QCOMPARE(event.value("outcome").toString(), QStringLiteral("203 busy"));
        QVERIFY(!event.contains("status"));
        QCOMPARE(parseLine(toLine(ackEvent(QJsonValue(3), QStringLiteral("done"))))
                     .value("result")
                     .toString(),
                 QStringLiteral("done"));
    }
};

QTEST_GUILESS_MAIN(TstHeadlessProtocol)
#include "tst_headless_protocol.moc"
