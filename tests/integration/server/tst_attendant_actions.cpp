// The operator's actions in the built-in server (issue 7), headless, with sipp phones:
// forward with a reason (202's INVITE CANCELled with a Reason, 203's INVITE with the new
// Diversion on top of the caller's), recall when the target never answers (back to the
// queue, ringing the operator's phone 204), pickup of a ringing extension to the
// operator's phone, and a call to the reception number queued and forwarded from there.
//
// One Switchboard serves every test function; the phones 201-204 register once, and
// each test starts the sipp phones it needs on their registered ports. No timing is
// asserted: every wait is bounded only to end a broken run.

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

#include "free_port.h"
#include "logged_message.h"
#include "sipp_process.h"
#include "switchboard_process.h"
#include "verify.h"

using namespace std::chrono_literals;
using sb::Result;
using sb::itest::errorOf;
using sb::itest::LoggedMessage;
using sb::itest::loggedMessages;
using sb::itest::SippProcess;
using sb::itest::SwitchboardProcess;

namespace {

const QString kDomain = QStringLiteral("switchboard.local");
const QStringList kPhones = {QStringLiteral("201"), QStringLiteral("202"), QStringLiteral("203"),
                             QStringLiteral("204")};

QString scenario(const char* file) {
    return QStringLiteral(SB_SERVER_SCENARIOS "/") + QLatin1String(file);
}

QString str(const QJsonObject& o, const char* key) {
    return o.value(QLatin1String(key)).toString();
}

QString compact(const QJsonObject& o) {
    return QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact));
}

// The values of header `name` in a logged message, in order.
QStringList headerValues(const LoggedMessage& message, const QString& name) {
    QStringList values;
    const QString prefix = name.toLower() + QLatin1Char(':');
    for (const QString& line : message.head().split(QLatin1Char('\n'))) {
        if (line.toLower().startsWith(prefix)) values << line.mid(prefix.size()).trimmed();
    }
    return values;
}

// The first message sipp received whose start line begins with `start`.
std::optional<LoggedMessage> firstReceived(const SippProcess& sipp, const QString& start) {
    for (const LoggedMessage& message : loggedMessages(sipp))
        if (message.received && message.startLine().startsWith(start)) return message;
    return std::nullopt;
}

}  // namespace

class TstAttendantActions : public QObject {
    Q_OBJECT

private:
    SwitchboardProcess m_switchboard;
    quint16 m_port = 0;
    QHash<QString, quint16> m_phonePort;
    std::size_t m_mark = 0;
    int m_commands = 0;

    QString proxy() const { return QStringLiteral("127.0.0.1:%1").arg(m_port); }
    QString diagnostics() const { return m_switchboard.diagnostics(); }

    QString sippFailure(const char* who, const SippProcess& sipp) const {
        return QStringLiteral("sipp (%1) output:\n%2\nsipp messages (end):\n%3\n%4")
            .arg(QLatin1String(who), sipp.output(), sipp.messages().right(8000), diagnostics());
    }

    // A phone answering (or ringing until cancelled) on its registered port.
    Result<void> startPhone(SippProcess& sipp, const QString& user, const char* file) {
        SippProcess::Options options;
        options.scenario = scenario(file);
        options.localPort = m_phonePort.value(user);
        options.timeout = 40s;
        options.extraArguments = {QStringLiteral("-set"), QStringLiteral("me"), user};
        return sipp.start(options);
    }

    // 201 calls `callee` with a Diversion of its own and talks `talkMs` once answered.
    Result<void> startCaller(SippProcess& sipp, const QString& callee, int talkMs = 500) {
        SippProcess::Options options;
        options.scenario = scenario("uac_call_diverted.xml");
        options.localPort = m_phonePort.value(QStringLiteral("201"));
        options.remote = proxy();
        options.timeout = 40s;
        options.extraArguments = {QStringLiteral("-s"),     callee,
                                  QStringLiteral("-set"),   QStringLiteral("me"),
                                  QStringLiteral("201"),    QStringLiteral("-set"),
                                  QStringLiteral("domain"), kDomain,
                                  QStringLiteral("-d"),     QString::number(talkMs)};
        return sipp.start(options);
    }

    // Waits for a sipp run to end while Switchboard's events keep being read; its status.
    int finish(SippProcess& sipp) {
        if (!QTest::qWaitFor([&] { return !sipp.isRunning(); }, 45000)) return -1;
        return sipp.waitForFinished(1s);
    }

    void mark() { m_mark = m_switchboard.events().size(); }

    // Waits until the latest lamp event of `ext` says `lamp`.
    bool waitForLamp(const QString& ext, const QString& lamp) {
        return QTest::qWaitFor(
            [&] {
                const auto& events = m_switchboard.events();
                for (std::size_t i = events.size(); i > 0; --i) {
                    const QJsonObject& e = events[i - 1];
                    if (str(e, "event") == QLatin1String("lamp") && str(e, "extension") == ext)
                        return str(e, "lamp") == lamp;
                }
                return false;
            },
            20000);
    }

    // A "call" event since the mark matching `match`.
    std::optional<QJsonObject> waitForCall(const std::function<bool(const QJsonObject&)>& match) {
        std::optional<QJsonObject> found;
        (void)QTest::qWaitFor(
            [&] {
                const auto& events = m_switchboard.events();
                for (std::size_t i = m_mark; i < events.size(); ++i) {
                    if (str(events[i], "event") == QLatin1String("call") && match(events[i])) {
                        found = events[i];
                        return true;
                    }
                }
                return false;
            },
            20000);
        return found;
    }

    // Sends a command and returns its ack or error event.
    QJsonObject command(QJsonObject command) {
        const QString id = QStringLiteral("c%1").arg(++m_commands);
        command.insert(QStringLiteral("id"), id);
        m_switchboard.send(command);
        const auto answer = m_switchboard.waitForEvent(
            [&id](const QJsonObject& o) {
                return (str(o, "event") == QLatin1String("ack") ||
                        str(o, "event") == QLatin1String("error")) &&
                       str(o, "id") == id;
            },
            10s);
        return answer.value_or(QJsonObject{});
    }

    // 201 calls 202, whose phone rings until it is cancelled; true once 202's lamp rings.
    Result<void> ringAt202(SippProcess& bob, SippProcess& alice) {
        if (auto done = startPhone(bob, QStringLiteral("202"), "uas_ring_cancelled.xml"); !done)
            return done;
        if (auto done = startCaller(alice, QStringLiteral("202")); !done) return done;
        if (!waitForLamp(QStringLiteral("202"), QStringLiteral("ringing")))
            return sb::fail(sb::ErrorKind::Timeout, QStringLiteral("202 does not ring"));
        return {};
    }

    QJsonObject forward202To203() {
        return command({{QStringLiteral("cmd"), QStringLiteral("forward")},
                        {QStringLiteral("ext"), QStringLiteral("202")},
                        {QStringLiteral("to"), QStringLiteral("203")},
                        {QStringLiteral("reason"), QStringLiteral("user-busy")}});
    }

    // Every registered phone is idle again before the next test.
    void expectIdle(const QStringList& phones) {
        for (const QString& phone : phones)
            SB_VERIFY(waitForLamp(phone, QStringLiteral("idle")),
                      QStringLiteral("%1 not idle\n%2").arg(phone, diagnostics()));
    }

private slots:
    void initTestCase() {
        m_port = sb::itest::freePort();
        for (const QString& phone : kPhones)
            m_phonePort.insert(phone, sb::itest::freePort());
        const QString ini = QStringLiteral(
                                "[sip]\nlisten = udp:127.0.0.1:%1\n"
                                "[server]\ndomain = %2\n"
                                "[attendant]\nnumber = 200\nphone = 204\nring_phone = false\n"
                                "recall_after = 5\n"
                                "[monitor]\n201 = Alice\n202 = Bob\n203 = Anna\n204 = Desk\n")
                                .arg(m_port)
                                .arg(kDomain);
        auto done = m_switchboard.writeConfig(ini);
        SB_VERIFY(done, errorOf(done));
        for (const QString& user : kPhones) {
            done = m_switchboard.addUser(user, "pw-" + user.toUtf8());
            SB_VERIFY(done, errorOf(done));
        }
        done = m_switchboard.launch();
        SB_VERIFY(done, errorOf(done));
        // Every phone registers its port (loopback is trusted: no challenge).
        for (const QString& user : kPhones) {
            SippProcess reg;
            SippProcess::Options options;
            options.scenario = scenario("phone_register_auth.xml");
            options.localPort = m_phonePort.value(user);
            options.remote = proxy();
            options.timeout = 10s;
            options.extraArguments = {QStringLiteral("-s"),
                                      user,
                                      QStringLiteral("-set"),
                                      QStringLiteral("domain"),
                                      kDomain,
                                      QStringLiteral("-au"),
                                      user,
                                      QStringLiteral("-ap"),
                                      QStringLiteral("pw-") + user};
            done = reg.start(options);
            SB_VERIFY(done, errorOf(done));
            SB_VERIFY(finish(reg) == 0, sippFailure("register", reg));
        }
        expectIdle(kPhones);
    }

    // A calls 202, 202 rings; forward to 203 with user-busy: 202's INVITE is CANCELled
    // with a Reason, 203's INVITE has exactly the new Diversion on top of the one A sent;
    // 203 answers and A is connected.
    void forwardWithReason() {
        mark();
        SippProcess bob, anna, alice;
        auto done = startPhone(anna, QStringLiteral("203"), "uas_answer.xml");
        SB_VERIFY(done, errorOf(done));
        done = ringAt202(bob, alice);
        SB_VERIFY(done, errorOf(done) + diagnostics());

        const QJsonObject ack = forward202To203();
        SB_VERIFY(str(ack, "event") == QLatin1String("ack"), compact(ack) + diagnostics());
        QCOMPARE(str(ack, "result"), QStringLiteral("Forwarding to 203 (user-busy)"));

        SB_VERIFY(finish(alice) == 0, sippFailure("201", alice));
        SB_VERIFY(finish(anna) == 0, sippFailure("203", anna));
        SB_VERIFY(finish(bob) == 0, sippFailure("202", bob));
        const auto cancel = firstReceived(bob, QStringLiteral("CANCEL "));
        SB_VERIFY(cancel, sippFailure("202", bob));
        QCOMPARE(headerValues(*cancel, QStringLiteral("Reason")),
                 QStringList{QStringLiteral("SIP;cause=181;text=\"Call is being forwarded\"")});
        const auto invite = firstReceived(anna, QStringLiteral("INVITE "));
        SB_VERIFY(invite, sippFailure("203", anna));
        QCOMPARE(
            headerValues(*invite, QStringLiteral("Diversion")),
            (QStringList{QStringLiteral("<sip:202@switchboard.local>;reason=user-busy"),
                         QStringLiteral("<sip:100@pbx.example>;reason=unconditional;counter=1")}));
        SB_VERIFY(sb::itest::countResponses(alice, 200, QStringLiteral("INVITE")) >= 1,
                  sippFailure("201", alice));
        expectIdle({QStringLiteral("201"), QStringLiteral("202"), QStringLiteral("203")});
    }

    // 203 never answers the forward: after recall_after the call is back in the queue,
    // marked, and rings the operator's phone (204), which answers.
    void recallToTheQueue() {
        mark();
        SippProcess bob, anna, desk, alice;
        auto done = startPhone(anna, QStringLiteral("203"), "uas_ring_cancelled.xml");
        SB_VERIFY(done, errorOf(done));
        done = startPhone(desk, QStringLiteral("204"), "uas_answer.xml");
        SB_VERIFY(done, errorOf(done));
        done = ringAt202(bob, alice);
        SB_VERIFY(done, errorOf(done) + diagnostics());
        const QJsonObject ack = forward202To203();
        SB_VERIFY(str(ack, "event") == QLatin1String("ack"), compact(ack) + diagnostics());

        const auto back = waitForCall([](const QJsonObject& e) {
            return str(e, "state") == QLatin1String("waiting") &&
                   str(e, "outcome") == QLatin1String("203 did not answer");
        });
        SB_VERIFY(back, diagnostics());
        QVERIFY(back->value(QStringLiteral("queued")).toBool());
        QCOMPARE(back->value(QStringLiteral("history")).toArray().first().toString(),
                 QStringLiteral("from 203, no-answer"));

        SB_VERIFY(finish(alice) == 0, sippFailure("201", alice));
        SB_VERIFY(finish(desk) == 0, sippFailure("204", desk));
        SB_VERIFY(finish(anna) == 0, sippFailure("203", anna));
        SB_VERIFY(finish(bob) == 0, sippFailure("202", bob));
        const auto cancel = firstReceived(anna, QStringLiteral("CANCEL "));
        SB_VERIFY(cancel, sippFailure("203", anna));
        QCOMPARE(headerValues(*cancel, QStringLiteral("Reason")).value(0),
                 QStringLiteral("SIP;cause=480;text=\"Not answered, back to the attendant\""));
        const auto invite = firstReceived(desk, QStringLiteral("INVITE "));
        SB_VERIFY(invite, sippFailure("204", desk));
        QCOMPARE(headerValues(*invite, QStringLiteral("Diversion")).value(0),
                 QStringLiteral("<sip:203@switchboard.local>;reason=no-answer"));
        const auto answered = waitForCall(
            [](const QJsonObject& e) { return str(e, "state") == QLatin1String("answered"); });
        SB_VERIFY(answered, diagnostics());
        expectIdle(kPhones);
    }

    // A calls 202; pickup 202: the operator's phone gets the INVITE (auto-answer asked),
    // answers, A is connected to it; 202's CANCEL said the call was completed elsewhere
    // and its lamp is idle again.
    void pickupToTheOperator() {
        mark();
        SippProcess bob, desk, alice;
        auto done = startPhone(desk, QStringLiteral("204"), "uas_answer.xml");
        SB_VERIFY(done, errorOf(done));
        done = ringAt202(bob, alice);
        SB_VERIFY(done, errorOf(done) + diagnostics());
        const QJsonObject ack = command({{QStringLiteral("cmd"), QStringLiteral("pickup")},
                                         {QStringLiteral("ext"), QStringLiteral("202")}});
        SB_VERIFY(str(ack, "event") == QLatin1String("ack"), compact(ack) + diagnostics());
        SB_VERIFY(waitForLamp(QStringLiteral("202"), QStringLiteral("idle")), diagnostics());
        SB_VERIFY(waitForLamp(QStringLiteral("204"), QStringLiteral("busy")), diagnostics());

        SB_VERIFY(finish(alice) == 0, sippFailure("201", alice));
        SB_VERIFY(finish(desk) == 0, sippFailure("204", desk));
        SB_VERIFY(finish(bob) == 0, sippFailure("202", bob));
        const auto cancel = firstReceived(bob, QStringLiteral("CANCEL "));
        SB_VERIFY(cancel, sippFailure("202", bob));
        QCOMPARE(headerValues(*cancel, QStringLiteral("Reason")),
                 QStringList{QStringLiteral("SIP;cause=200;text=\"Call completed elsewhere\"")});
        const auto invite = firstReceived(desk, QStringLiteral("INVITE "));
        SB_VERIFY(invite, sippFailure("204", desk));
        QCOMPARE(headerValues(*invite, QStringLiteral("Call-Info")),
                 QStringList{QStringLiteral("<sip:switchboard.local>;answer-after=0")});
        expectIdle(kPhones);
    }

    // A call to the reception number waits in the queue ("call" event) and is forwarded
    // from there: the Diversion names the reception identity.
    void queuedCallForwarded() {
        mark();
        SippProcess anna, alice;
        auto done = startPhone(anna, QStringLiteral("203"), "uas_answer.xml");
        SB_VERIFY(done, errorOf(done));
        done = startCaller(alice, QStringLiteral("200"));
        SB_VERIFY(done, errorOf(done));
        const auto queued = waitForCall([](const QJsonObject& e) {
            return str(e, "state") == QLatin1String("waiting") &&
                   e.value(QStringLiteral("queued")).toBool();
        });
        SB_VERIFY(queued, diagnostics());
        QCOMPARE(str(*queued, "to"), QStringLiteral("sip:200@switchboard.local"));
        QCOMPARE(str(*queued, "from_display"), QStringLiteral("Phone 201"));
        QCOMPARE(queued->value(QStringLiteral("history")).toArray().first().toString(),
                 QStringLiteral("from sip:100@pbx.example, unconditional"));
        // The snapshot lists the queue too.
        m_switchboard.send({{QStringLiteral("cmd"), QStringLiteral("snapshot")},
                            {QStringLiteral("id"), QStringLiteral("s1")}});
        const auto snapshot = m_switchboard.waitForEvent(QStringLiteral("snapshot"), 10s);
        SB_VERIFY(snapshot && snapshot->value(QStringLiteral("queue")).toArray().size() == 1,
                  snapshot ? compact(*snapshot) : diagnostics());

        const QJsonObject ack =
            command({{QStringLiteral("cmd"), QStringLiteral("forward")},
                     {QStringLiteral("call"), queued->value(QStringLiteral("call"))},
                     {QStringLiteral("to"), QStringLiteral("203")},
                     {QStringLiteral("reason"), QStringLiteral("unconditional")}});
        SB_VERIFY(str(ack, "event") == QLatin1String("ack"), compact(ack) + diagnostics());
        SB_VERIFY(finish(alice) == 0, sippFailure("201", alice));
        SB_VERIFY(finish(anna) == 0, sippFailure("203", anna));
        const auto invite = firstReceived(anna, QStringLiteral("INVITE "));
        SB_VERIFY(invite, sippFailure("203", anna));
        QCOMPARE(headerValues(*invite, QStringLiteral("Diversion")).value(0),
                 QStringLiteral("<sip:200@switchboard.local>;reason=unconditional"));
        const auto answered = waitForCall(
            [](const QJsonObject& e) { return str(e, "state") == QLatin1String("answered"); });
        SB_VERIFY(answered, diagnostics());
        expectIdle({QStringLiteral("201"), QStringLiteral("203")});
    }

    // Bad input gets a clear error: an unknown extension, a malformed URI, a reason that
    // is not a token, a pickup of an idle extension, a call that does not exist.
    void badCommands() {
        const auto refused = [this](QJsonObject cmd, const QString& message) {
            const QJsonObject answer = command(std::move(cmd));
            SB_VERIFY(str(answer, "event") == QLatin1String("error") &&
                          str(answer, "message").contains(message),
                      compact(answer));
        };
        refused({{QStringLiteral("cmd"), QStringLiteral("pickup")},
                 {QStringLiteral("ext"), QStringLiteral("202")}},
                QStringLiteral("202 has no ringing call"));
        refused({{QStringLiteral("cmd"), QStringLiteral("forward")},
                 {QStringLiteral("call"), 4242},
                 {QStringLiteral("to"), QStringLiteral("203")}},
                QStringLiteral("call 4242 is not ringing"));
        refused({{QStringLiteral("cmd"), QStringLiteral("reject")}, {QStringLiteral("call"), 4242}},
                QStringLiteral("call 4242 is not ringing"));
        refused({{QStringLiteral("cmd"), QStringLiteral("forward")},
                 {QStringLiteral("ext"), QStringLiteral("202")},
                 {QStringLiteral("to"), QStringLiteral("203")}},
                QStringLiteral("202 has no ringing call"));
    }

    void cleanupTestCase() { m_switchboard.stop(); }
};

QTEST_GUILESS_MAIN(TstAttendantActions)
#include "tst_attendant_actions.moc"
