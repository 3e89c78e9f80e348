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

    void stateNames() {
        QCOMPARE(stateName(RegistrationStatus::State::Unregistered),
                 QStringLiteral("unregistered"));
        QCOMPARE(stateName(RegistrationStatus::State::Registering), QStringLiteral("registering"));
        QCOMPARE(stateName(RegistrationStatus::State::Registered), QStringLiteral("registered"));
        QCOMPARE(stateName(RegistrationStatus::State::Failed), QStringLiteral("failed"));
    }
};

QTEST_GUILESS_MAIN(TstHeadlessProtocol)
#include "tst_headless_protocol.moc"
