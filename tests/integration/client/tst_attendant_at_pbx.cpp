// The operator's actions in client mode (issue 7) against a real PBX: Kamailio with
// kamailio_client.cfg (registrar, tm, dialog + pua_dialoginfo publishing to its own
// presence + presence_dialoginfo, REFER relayed), sipp phones, and `switchboard
// --headless` registered as the reception identity sip:200@DOMAIN ([attendant] number =
// 200, the operator's phone 204) and watching 202, 203 and 204 (Event: dialog).
//
// forwardByRedirect: a caller whose INVITE already carries one Diversion entry calls
// 200; the console queues it (180, a `call` event `waiting`) and `forward` answers it
// with 302 Moved Temporarily (Contact: the target; Diversion: the reception's entry with
// the reason on top of the caller's, RFC 5806), which Kamailio relays: the bytes the
// caller receives are compared, then the caller follows the 302 to 203, which answers.
//
// pickupByRefer: A calls 202, which only rings; `pickup` makes the console send an
// out-of-dialog REFER (RFC 3515) through Kamailio to the operator's phone 204, whose
// Refer-To is A's contact with an escaped Replaces naming A's early dialog from A's side
// (RFC 3891: to-tag = A's From tag, from-tag = 202's To tag, early-only). The phone
// answers 202 Accepted, reports `100 Trying` in a NOTIFY, sends A the INVITE with
// Replaces, which A answers; A CANCELs its INVITE to 202; the phone's last NOTIFY says
// `200 OK` with Subscription-State: terminated, and the console reports the call
// answered.
//
// No timing is asserted: every wait is bounded only to end a broken run.

#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QSet>
#include <QTest>

#include "free_port.h"
#include "kamailio_instance.h"
#include "logged_message.h"
#include "sipp_process.h"
#include "switchboard_process.h"
#include "verify.h"

using namespace std::chrono_literals;
using sb::itest::AccountIni;
using sb::itest::errorOf;
using sb::itest::KamailioInstance;
using sb::itest::LoggedMessage;
using sb::itest::SippProcess;
using sb::itest::SwitchboardProcess;

namespace {

const QString kDomain = QStringLiteral("switchboard.test");
const QString kReception = QStringLiteral("200");
const QString kCaller = QStringLiteral("201");
const QString kOperatorPhone = QStringLiteral("204");
const QStringList kPhones = {QStringLiteral("202"), QStringLiteral("203"), kOperatorPhone};
// The Diversion entry the caller's INVITE carries (uac_call_redirected.xml).
const QString kUpstreamDiversion =
    QStringLiteral("<sip:100@pbx.example>;reason=unconditional;counter=1");

QString passwordOf(const QString& user) {
    return QStringLiteral("pw-") + user;
}

QString scenario(const char* file) {
    return QStringLiteral(SB_CLIENT_SCENARIOS "/") + QLatin1String(file);
}

QString str(const QJsonObject& o, const char* key) {
    return o.value(QLatin1String(key)).toString();
}

QString compact(const QJsonObject& o) {
    return QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact));
}

// The value of a tag parameter in a From or To header value.
QString tagOf(const QString& nameAddr) {
    static const QRegularExpression re(QStringLiteral(";\\s*tag=([^;\\s]+)"));
    return re.match(nameAddr).captured(1);
}

// The first message of `messages` received (or sent) whose start line begins with `start`.
std::optional<LoggedMessage> firstMessage(const std::vector<LoggedMessage>& messages, bool received,
                                          const QString& start) {
    for (const LoggedMessage& m : messages)
        if (m.received == received && m.startLine().startsWith(start)) return m;
    return std::nullopt;
}

// Every Diversion entry of a message in order: header lines top to bottom, each
// comma-separated list left to right (our entries hold no quoted commas).
QStringList diversionEntries(const LoggedMessage& message) {
    QStringList entries;
    for (const QString& line : message.head().split(QLatin1Char('\n'))) {
        const qsizetype colon = line.indexOf(QLatin1Char(':'));
        if (colon <= 0 ||
            line.left(colon).trimmed().compare(QLatin1String("Diversion"), Qt::CaseInsensitive))
            continue;
        for (const QString& entry : line.mid(colon + 1).split(QLatin1Char(',')))
            entries << entry.trimmed();
    }
    return entries;
}

// The first header line named `name` exactly as it came (without the CR).
QString headerLine(const LoggedMessage& message, const QString& name) {
    for (const QString& line : message.head().split(QLatin1Char('\n'))) {
        if (line.section(QLatin1Char(':'), 0, 0).trimmed().compare(name, Qt::CaseInsensitive) == 0)
            return line;
    }
    return {};
}

}  // namespace

class TstAttendantAtPbx : public QObject {
    Q_OBJECT

private:
    KamailioInstance m_kamailio;
    SwitchboardProcess m_switchboard;
    QHash<QString, quint16> m_phonePort;
    int m_commandId = 0;

    QString diagnostics() const {
        return m_switchboard.diagnostics() + QStringLiteral("\nKamailio log (end):\n") +
               m_kamailio.logText().right(3000);
    }

    static QString sippFailure(const char* who, const SippProcess& sipp) {
        return QStringLiteral("%1 failed:\n%2\n%3")
            .arg(QLatin1String(who), sipp.output(), sipp.messages().right(6000));
    }

    QString proxy() const { return QStringLiteral("127.0.0.1:%1").arg(m_kamailio.port()); }

    QString ini() const {
        AccountIni account;
        account.aor = QStringLiteral("sip:%1@%2").arg(kReception, kDomain);
        account.password = passwordOf(kReception);
        account.proxy = proxy();
        account.listen = QStringLiteral("udp:127.0.0.1:0");
        account.t1Ms = 100;
        account.t2Ms = 400;
        return account.toIni() + QStringLiteral(
                                     "[subscriptions]\nrate = 20\ndomain = %1\n"
                                     "[attendant]\nnumber = %2\nphone = %3\npickup_code = none\n"
                                     "[monitor]\n202 = Bob, Sales\n203 = Carol, Support\n"
                                     "204 = Reception phone, Reception\n")
                                     .arg(kDomain, kReception, kOperatorPhone);
    }

    // A phone playing `file` on its registered port; `-set domain` for the scenarios
    // that write their own requests.
    SippProcess::Options phoneOptions(const QString& ext, const char* file,
                                      bool withDomain = false) const {
        SippProcess::Options options;
        options.scenario = scenario(file);
        options.localPort = m_phonePort.value(ext);
        options.timeout = 40s;
        options.extraArguments = {QStringLiteral("-set"), QStringLiteral("me"), ext};
        if (withDomain)
            options.extraArguments << QStringLiteral("-set") << QStringLiteral("domain") << kDomain;
        return options;
    }

    // A caller from a free port of its own (not registered: nobody calls it back but the
    // operator's phone, at the contact its INVITE gives).
    SippProcess::Options callerOptions(const QString& callee, const char* file) const {
        SippProcess::Options options;
        options.scenario = scenario(file);
        options.remote = proxy();
        options.timeout = 40s;
        options.extraArguments = {QStringLiteral("-s"),     callee,  QStringLiteral("-set"),
                                  QStringLiteral("me"),     kCaller, QStringLiteral("-set"),
                                  QStringLiteral("domain"), kDomain};
        return options;
    }

    // Registers a phone (digest) with the Contact of its own port.
    bool registerPhone(const QString& ext) {
        SippProcess sipp;
        SippProcess::Options options;
        options.scenario = scenario("phone_register.xml");
        options.localPort = m_phonePort.value(ext);
        options.remote = proxy();
        options.timeout = 10s;
        options.extraArguments = {QStringLiteral("-s"),
                                  ext,
                                  QStringLiteral("-au"),
                                  ext,
                                  QStringLiteral("-ap"),
                                  passwordOf(ext),
                                  QStringLiteral("-set"),
                                  QStringLiteral("domain"),
                                  kDomain};
        if (!sipp.start(options)) return false;
        const int status = sipp.waitForFinished(20s);
        if (status != 0) qWarning("registering %s: %s", qPrintable(ext), qPrintable(sipp.output()));
        return status == 0;
    }

    bool subscriptionsActive() const {
        QSet<QString> active;
        for (const QJsonObject& event : m_switchboard.events()) {
            if (str(event, "event") == QLatin1String("subscription")) {
                if (str(event, "state") == QLatin1String("active"))
                    active.insert(str(event, "extension"));
                else
                    active.remove(str(event, "extension"));
            }
        }
        for (const QString& ext : kPhones)
            if (!active.contains(ext)) return false;
        return true;
    }

    // Sends an operator command with a fresh id and returns its `ack` (empty object on
    // `error` or no answer, with the reason in `why`).
    QJsonObject command(QJsonObject cmd, QString* why) {
        const int id = ++m_commandId;
        cmd.insert(QStringLiteral("id"), id);
        m_switchboard.send(cmd);
        const auto answer = m_switchboard.waitForEvent(
            [id](const QJsonObject& e) {
                const QString event = str(e, "event");
                return (event == QLatin1String("ack") || event == QLatin1String("error")) &&
                       e.value(QStringLiteral("id")).toInt() == id;
            },
            15s);
        if (!answer) {
            *why = QStringLiteral("no ack or error for %1").arg(compact(cmd));
            return {};
        }
        if (str(*answer, "event") != QLatin1String("ack")) {
            *why = QStringLiteral("%1 answered %2").arg(compact(cmd), compact(*answer));
            return {};
        }
        return *answer;
    }

private slots:
    void initTestCase() {
        KamailioInstance::Options options;
        options.config = QStringLiteral(SB_CLIENT_SCENARIOS "/kamailio_client.cfg");
        options.domain = kDomain;
        options.subscribers.push_back({kReception, passwordOf(kReception)});
        for (const QString& ext : kPhones)
            options.subscribers.push_back({ext, passwordOf(ext)});
        const auto started = m_kamailio.start(options);
        SB_VERIFY(started, errorOf(started));

        for (const QString& ext : kPhones) {
            m_phonePort.insert(ext, sb::itest::freePort());
            SB_VERIFY(registerPhone(ext), m_kamailio.logText().right(3000));
        }

        const auto running = m_switchboard.start(ini());
        SB_VERIFY(running, errorOf(running));
        SB_VERIFY(m_switchboard.waitForRegistration(QStringLiteral("registered"), 15s),
                  diagnostics());
        SB_VERIFY(QTest::qWaitFor([this] { return subscriptionsActive(); }, 30000), diagnostics());
        // The reception identity is Switchboard's own registration at Kamailio.
        bool registered = false;
        for (const auto& binding : m_kamailio.bindings())
            registered |= binding.aor == kReception;
        SB_VERIFY(registered, m_kamailio.ulDump());
    }

    void cleanupTestCase() {
        if (m_switchboard.waitForExit(0ms) == std::nullopt) {
            m_switchboard.send(QJsonObject{{QStringLiteral("cmd"), QStringLiteral("quit")}});
            m_switchboard.waitForExit(10s);
        }
        m_switchboard.stop();
        m_kamailio.stop();
    }

    void forwardByRedirect() {
        const QString target = QStringLiteral("203");
        SippProcess callee;
        const auto answering = callee.start(phoneOptions(target, "uas_answer_diverted.xml"));
        SB_VERIFY(answering, errorOf(answering));

        SippProcess caller;
        SippProcess::Options options = callerOptions(kReception, "uac_call_redirected.xml");
        options.extraArguments << QStringLiteral("-d") << QStringLiteral("500");
        const auto calling = caller.start(options);
        SB_VERIFY(calling, errorOf(calling));

        // Queued: 180 to the caller, a `call` event waiting in the queue.
        const auto queued = m_switchboard.waitForEvent(
            [](const QJsonObject& e) {
                return str(e, "event") == QLatin1String("call") &&
                       str(e, "state") == QLatin1String("waiting") &&
                       e.value(QStringLiteral("queued")).toBool() &&
                       e.value(QStringLiteral("call")).isDouble();
            },
            20s);
        SB_VERIFY(queued, QStringLiteral("no queued call\n") + diagnostics() +
                              sippFailure("caller", caller));
        SB_VERIFY(str(*queued, "from").contains(kCaller), compact(*queued));
        SB_VERIFY(str(*queued, "to").contains(kReception), compact(*queued));
        const QJsonArray history = queued->value(QStringLiteral("history")).toArray();
        SB_VERIFY(!history.isEmpty() && history.first().toString().contains(QLatin1String("100")),
                  compact(*queued));
        SB_VERIFY(
            QTest::qWaitFor([&] { return caller.countReceived(QStringLiteral("SIP/2.0 180")) > 0; },
                            10000),
            sippFailure("caller", caller));

        QString why;
        const QJsonObject ack =
            command({{QStringLiteral("cmd"), QStringLiteral("forward")},
                     {QStringLiteral("call"), queued->value(QStringLiteral("call"))},
                     {QStringLiteral("to"), target},
                     {QStringLiteral("reason"), QStringLiteral("user-busy")}},
                    &why);
        SB_VERIFY(!ack.isEmpty(), why + QLatin1Char('\n') + diagnostics());
        SB_VERIFY(!str(ack, "result").isEmpty(), compact(ack));

        SB_VERIFY(caller.waitForFinished(45s) == 0, sippFailure("caller", caller) + diagnostics());
        SB_VERIFY(callee.waitForFinished(15s) == 0, sippFailure("target 203", callee));

        // The 302 as Kamailio relayed it to the caller, byte for byte where it matters.
        const auto messages = sb::itest::loggedMessages(caller);
        const auto redirect = firstMessage(messages, true, QStringLiteral("SIP/2.0 302"));
        SB_VERIFY(redirect, sippFailure("caller", caller));
        qInfo().noquote() << "302 received by the caller:\n" << redirect->text;
        QCOMPARE(redirect->startLine(), QStringLiteral("SIP/2.0 302 Moved Temporarily"));
        QCOMPARE(headerLine(*redirect, QStringLiteral("Contact")),
                 QStringLiteral("Contact: <sip:%1@%2>").arg(target, kDomain));
        QCOMPARE(
            headerLine(*redirect, QStringLiteral("Diversion")).section(QLatin1Char(','), 0, 0),
            QStringLiteral("Diversion: <sip:%1@%2>;reason=user-busy").arg(kReception, kDomain));
        QCOMPARE(
            diversionEntries(*redirect),
            QStringList({QStringLiteral("<sip:%1@%2>;reason=user-busy").arg(kReception, kDomain),
                         kUpstreamDiversion}));
        QCOMPARE(redirect->header(QStringLiteral("CSeq")), QStringLiteral("1 INVITE"));

        // The target got the call with the same entries, the reception's on top.
        const auto invite =
            firstMessage(sb::itest::loggedMessages(callee), true, QStringLiteral("INVITE "));
        SB_VERIFY(invite, sippFailure("target 203", callee));
        QCOMPARE(diversionEntries(*invite), diversionEntries(*redirect));
    }

    void pickupByRefer() {
        const QString ringing = QStringLiteral("202");
        SippProcess phone;
        SippProcess::Options phoneRun = phoneOptions(kOperatorPhone, "operator_refer.xml", true);
        phoneRun.extraArguments << QStringLiteral("-d") << QStringLiteral("500");
        const auto operatorReady = phone.start(phoneRun);
        SB_VERIFY(operatorReady, errorOf(operatorReady));

        SippProcess extension;
        const auto extensionReady =
            extension.start(phoneOptions(ringing, "uas_ring_cancelled.xml"));
        SB_VERIFY(extensionReady, errorOf(extensionReady));

        // The caller's Call-ID holds an '@': the Refer-To must carry it escaped.
        SippProcess caller;
        SippProcess::Options options = callerOptions(ringing, "uac_call_picked_up.xml");
        options.extraArguments << QStringLiteral("-oocsf") << scenario("uas_replaces.xml")
                               << QStringLiteral("-cid_str")
                               << QStringLiteral("pickup-%u-%p@callers.test");
        const auto calling = caller.start(options);
        SB_VERIFY(calling, errorOf(calling));

        // 202 rings on the board, with the call-id and tags of A's early dialog (Kamailio's
        // dialog-info, include_callid and include_tags).
        const auto lamp = m_switchboard.waitForEvent(
            [&](const QJsonObject& e) {
                if (str(e, "event") != QLatin1String("lamp") || str(e, "extension") != ringing ||
                    str(e, "lamp") != QLatin1String("ringing"))
                    return false;
                for (const QJsonValue& d : e.value(QStringLiteral("dialogs")).toArray()) {
                    const QJsonObject dialog = d.toObject();
                    if (str(dialog, "call_id").startsWith(QLatin1String("pickup-")) &&
                        !str(dialog, "local_tag").isEmpty() && !str(dialog, "remote_tag").isEmpty())
                        return true;
                }
                return false;
            },
            20s);
        SB_VERIFY(lamp, QStringLiteral("202 never rang with call-id and tags\n") + diagnostics() +
                            sippFailure("caller", caller));
        qInfo().noquote() << "202 ringing:" << compact(*lamp);

        QString why;
        const QJsonObject ack = command(
            {{QStringLiteral("cmd"), QStringLiteral("pickup")}, {QStringLiteral("ext"), ringing}},
            &why);
        SB_VERIFY(!ack.isEmpty(), why + QLatin1Char('\n') + diagnostics());
        SB_VERIFY(!str(ack, "result").isEmpty(), compact(ack));

        SB_VERIFY(phone.waitForFinished(45s) == 0,
                  sippFailure("operator's phone", phone) + diagnostics());
        SB_VERIFY(caller.waitForFinished(20s) == 0, sippFailure("caller", caller));
        SB_VERIFY(extension.waitForFinished(15s) == 0, sippFailure("extension 202", extension));

        // A's early dialog, from A's side: its Call-ID and From tag, 202's To tag.
        const auto callerLog = sb::itest::loggedMessages(caller);
        const auto invite = firstMessage(callerLog, false, QStringLiteral("INVITE sip:202@"));
        const auto ringback = firstMessage(callerLog, true, QStringLiteral("SIP/2.0 180"));
        SB_VERIFY(invite && ringback, sippFailure("caller", caller));
        const QString callId = invite->header(QStringLiteral("Call-ID"));
        const QString callerTag = tagOf(invite->header(QStringLiteral("From")));
        const QString calleeTag = tagOf(ringback->header(QStringLiteral("To")));
        const QString contact = invite->header(QStringLiteral("Contact"))
                                    .remove(QLatin1Char('<'))
                                    .remove(QLatin1Char('>'));
        SB_VERIFY(!callId.isEmpty() && !callerTag.isEmpty() && !calleeTag.isEmpty(),
                  invite->text + ringback->text);

        // The REFER as Kamailio relayed it to the operator's phone (RFC 3891 §6.1: the
        // Replaces is the one the caller, the UA that receives it, must match).
        const auto phoneLog = sb::itest::loggedMessages(phone);
        const auto refer = firstMessage(phoneLog, true, QStringLiteral("REFER "));
        SB_VERIFY(refer, sippFailure("operator's phone", phone));
        qInfo().noquote() << "REFER received by the operator's phone:\n" << refer->text;
        QString escapedCallId = callId;
        escapedCallId.replace(QLatin1Char('@'), QStringLiteral("%40"));
        // Built by concatenation: QString::arg() would take %3B for a placeholder.
        const QString expectedReferTo = QLatin1Char('<') + contact + QStringLiteral("?Replaces=") +
                                        escapedCallId + QStringLiteral("%3Bto-tag%3D") + callerTag +
                                        QStringLiteral("%3Bfrom-tag%3D") + calleeTag +
                                        QStringLiteral("%3Bearly-only>");
        QCOMPARE(refer->header(QStringLiteral("Refer-To")), expectedReferTo);
        QVERIFY(refer->header(QStringLiteral("To"))
                    .contains(QStringLiteral("sip:%1@%2").arg(kOperatorPhone, kDomain)));
        QVERIFY(tagOf(refer->header(QStringLiteral("To"))).isEmpty());

        // The caller received the INVITE with Replaces naming its own early dialog.
        const auto replacing = firstMessage(callerLog, true, QStringLiteral("INVITE "));
        SB_VERIFY(replacing, sippFailure("caller", caller));
        QCOMPARE(replacing->header(QStringLiteral("Replaces")),
                 QStringLiteral("%1;to-tag=%2;from-tag=%3;early-only")
                     .arg(callId, callerTag, calleeTag));
        QVERIFY(firstMessage(callerLog, false, QStringLiteral("CANCEL ")));
        QVERIFY(
            firstMessage(sb::itest::loggedMessages(extension), true, QStringLiteral("CANCEL ")));

        // Switchboard took both NOTIFYs of the REFER's subscription and answered them.
        const auto trace = sb::itest::sipTraceMessages(m_switchboard.sipTrace());
        QStringList fragments;
        for (const LoggedMessage& m : trace) {
            if (m.received && m.startLine().startsWith(QLatin1String("NOTIFY ")) &&
                m.header(QStringLiteral("Event")).startsWith(QLatin1String("refer")))
                fragments << m.body();
        }
        QCOMPARE(fragments, QStringList({QStringLiteral("SIP/2.0 100 Trying"),
                                         QStringLiteral("SIP/2.0 200 OK")}));

        // The console reports the call answered by the operator's phone.
        const auto answered = m_switchboard.waitForEvent(
            [](const QJsonObject& e) {
                return str(e, "event") == QLatin1String("call") &&
                       str(e, "state") == QLatin1String("answered");
            },
            15s);
        SB_VERIFY(answered, diagnostics());
    }
};

QTEST_GUILESS_MAIN(TstAttendantAtPbx)
#include "tst_attendant_at_pbx.moc"
