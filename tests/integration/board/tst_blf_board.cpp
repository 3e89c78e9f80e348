// The live BLF board (issue 3) against a real PBX: Kamailio with presence.cfg (registrar,
// dialog + pua_dialoginfo publishing to its own presence server), sipp phones 201-203
// that register and call each other, and `switchboard --headless` as operator 200
// monitoring 201-203 (RFC 6665 subscriptions to Event: dialog, RFC 4235 documents).
// Each scenario asserts the lamp sequence the console prints for each extension, with
// direction and other party; then Kamailio is restarted (SIGTERM by PID, same port,
// fresh tables, so it forgets every subscription) and every subscription must recover.
//
// Lamp events can repeat with the same lamp (the dialogs changed, or Kamailio sent the
// same document again with a higher version), so sequences are compared with repeats
// folded. No timing is asserted: every wait is bounded only to end a broken run.

#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QSet>
#include <QTest>

#include "free_port.h"
#include "kamailio_instance.h"
#include "sipp_process.h"
#include "switchboard_process.h"

using namespace std::chrono_literals;
using sb::Result;
using sb::itest::AccountIni;
using sb::itest::KamailioInstance;
using sb::itest::SippProcess;
using sb::itest::SwitchboardProcess;

namespace {

const QString kDomain = QStringLiteral("switchboard.test");
const QString kOperator = QStringLiteral("200");
const QStringList kPhones = {QStringLiteral("201"), QStringLiteral("202"), QStringLiteral("203")};

QString passwordOf(const QString& user) {
    return QStringLiteral("pw-") + user;
}

QString scenario(const char* file) {
    return QStringLiteral(SB_BOARD_SCENARIOS "/") + QLatin1String(file);
}

QString str(const QJsonObject& o, const char* key) {
    return o.value(QLatin1String(key)).toString();
}

QString compact(const QJsonObject& o) {
    return QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact));
}

}  // namespace

class TstBlfBoard : public QObject {
    Q_OBJECT

private:
    KamailioInstance m_kamailio;
    SwitchboardProcess m_switchboard;
    QHash<QString, quint16> m_phonePort;
    // Index into m_switchboard.events() where the current scenario began.
    std::size_t m_mark = 0;

    QString diagnostics() const {
        return m_switchboard.diagnostics() + QStringLiteral("\nKamailio log (end):\n") +
               m_kamailio.logText().right(3000);
    }

    QString proxy() const { return QStringLiteral("127.0.0.1:%1").arg(m_kamailio.port()); }

    QString ini() const {
        AccountIni account;
        account.aor = QStringLiteral("sip:%1@%2").arg(kOperator, kDomain);
        account.password = passwordOf(kOperator);
        account.proxy = proxy();
        account.listen = QStringLiteral("udp:127.0.0.1:0");
        account.t1Ms = 100;  // quick retransmissions while Kamailio restarts
        account.t2Ms = 400;
        // expires=10 (the lowest allowed): refreshes come within seconds, so the
        // restart scenario sees the 481 to a refresh (RFC 6665 §4.1.2.2) soon.
        return account.toIni() + QStringLiteral(
                                     "[subscriptions]\nrate = 20\nexpires = 10\ndomain = %1\n"
                                     "[monitor]\n201 = Alice Example, Sales\n"
                                     "202 = \"Smith, Bob\", Sales\n203 = Carol, Support\n")
                                     .arg(kDomain);
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

    // A phone answering calls (uas_*.xml) on its registered port.
    Result<void> startCallee(SippProcess& sipp, const QString& ext, const char* file, int calls = 1,
                             int talkMs = 1500) {
        SippProcess::Options options;
        options.scenario = scenario(file);
        options.localPort = m_phonePort.value(ext);
        options.calls = calls;
        options.timeout = 30s;
        options.extraArguments = {QStringLiteral("-set"), QStringLiteral("me"), ext,
                                  QStringLiteral("-d"), QString::number(talkMs)};
        return sipp.start(options);
    }

    // A phone calling another (uac_*.xml) from its registered port.
    Result<void> startCaller(SippProcess& sipp, const QString& ext, const QString& callee,
                             const char* file) {
        SippProcess::Options options;
        options.scenario = scenario(file);
        options.localPort = m_phonePort.value(ext);
        options.remote = proxy();
        options.timeout = 30s;
        options.extraArguments = {QStringLiteral("-s"),     callee, QStringLiteral("-set"),
                                  QStringLiteral("me"),     ext,    QStringLiteral("-set"),
                                  QStringLiteral("domain"), kDomain};
        return sipp.start(options);
    }

    static QString sippFailure(const char* who, SippProcess& sipp) {
        return QStringLiteral("%1 failed:\n%2\n%3")
            .arg(QLatin1String(who), sipp.output(), sipp.messages().right(4000));
    }

    // The lamp events of `ext` since the scenario began.
    std::vector<QJsonObject> lampEvents(const QString& ext) const {
        std::vector<QJsonObject> out;
        const auto& events = m_switchboard.events();
        for (std::size_t i = m_mark; i < events.size(); ++i) {
            if (str(events[i], "event") == QLatin1String("lamp") &&
                str(events[i], "extension") == ext)
                out.push_back(events[i]);
        }
        return out;
    }

    // Lamps of `ext` since the mark, repeats folded, leading `idle`s dropped (a lamp
    // event may come for a dialog that does not change the lamp yet, e.g. Trying).
    QStringList lampSequence(const QString& ext) const {
        QStringList out;
        for (const QJsonObject& event : lampEvents(ext)) {
            const QString lamp = str(event, "lamp");
            if (out.isEmpty() && lamp == QLatin1String("idle")) continue;
            if (out.isEmpty() || out.last() != lamp) out << lamp;
        }
        return out;
    }

    // The latest lamp of `ext` among all events so far.
    QString currentLamp(const QString& ext) const {
        const auto& events = m_switchboard.events();
        for (auto it = events.rbegin(); it != events.rend(); ++it) {
            if (str(*it, "event") == QLatin1String("lamp") && str(*it, "extension") == ext)
                return str(*it, "lamp");
        }
        return {};
    }

    bool waitFor(const std::function<bool()>& condition, std::chrono::milliseconds limit) {
        return QTest::qWaitFor(condition, static_cast<int>(limit.count()));
    }

    // Waits until `ext`'s folded lamp sequence since the mark is `expected` (or has gone
    // past it), then compares.
    void expectLamps(const QString& ext, const QStringList& expected) {
        waitFor(
            [&] {
                return lampSequence(ext).size() >= expected.size() &&
                       currentLamp(ext) == expected.last();
            },
            20s);
        qInfo("%s: %s", qPrintable(ext), qPrintable(lampSequence(ext).join(QStringLiteral("→"))));
        QVERIFY2(lampSequence(ext) == expected,
                 qPrintable(QStringLiteral("%1: lamps %2, expected %3\n%4")
                                .arg(ext, lampSequence(ext).join(QStringLiteral("→")),
                                     expected.join(QStringLiteral("→")), diagnostics())));
    }

    // The first lamp event of `ext` since the mark with lamp `lamp`.
    std::optional<QJsonObject> firstLamp(const QString& ext, const QString& lamp) const {
        for (const QJsonObject& event : lampEvents(ext))
            if (str(event, "lamp") == lamp) return event;
        return std::nullopt;
    }

    // While ringing/calling/busy: the other party (schema: other.uri) and the direction
    // of a dialog in `state`.
    void expectParty(const QString& ext, const QString& lamp, const QString& otherExt,
                     const QString& direction) {
        const std::optional<QJsonObject> event = firstLamp(ext, lamp);
        QVERIFY2(event, qPrintable(QStringLiteral("no %1 lamp for %2").arg(lamp, ext)));
        const QJsonObject other = event->value(QStringLiteral("other")).toObject();
        QVERIFY2(str(other, "uri").contains(otherExt),
                 qPrintable(QStringLiteral("%1 %2: other party %3, expected %4")
                                .arg(ext, lamp, compact(*event), otherExt)));
        bool found = false;
        for (const QJsonValue& dialog : event->value(QStringLiteral("dialogs")).toArray())
            found |= str(dialog.toObject(), "direction") == direction;
        QVERIFY2(found, qPrintable(QStringLiteral("%1 %2: no %3 dialog in %4")
                                       .arg(ext, lamp, direction, compact(*event))));
        QVERIFY2(!str(*event, "since").isEmpty(), qPrintable(compact(*event)));
    }

    bool allIdle() const {
        for (const QString& ext : kPhones)
            if (currentLamp(ext) != QLatin1String("idle")) return false;
        return true;
    }

    // Before each scenario: every lamp idle (the previous calls' terminated dialogs are
    // gone or ignored), then a new mark.
    void settle() {
        QVERIFY2(waitFor([this] { return allIdle(); }, 30s), qPrintable(diagnostics()));
        m_mark = m_switchboard.events().size();
    }

    // Whether a subscription event with `state` came for every phone since `from`.
    bool subscriptionsAre(const QString& state, std::size_t from) const {
        const auto& events = m_switchboard.events();
        QSet<QString> seen;
        for (std::size_t i = from; i < events.size(); ++i) {
            if (str(events[i], "event") == QLatin1String("subscription") &&
                str(events[i], "state") == state)
                seen.insert(str(events[i], "extension"));
        }
        for (const QString& ext : kPhones)
            if (!seen.contains(ext)) return false;
        return true;
    }

    // Whether every phone's subscription left `active` and came back to it since `from`.
    bool subscriptionsRecovered(std::size_t from) const {
        const auto& events = m_switchboard.events();
        QSet<QString> left;
        QSet<QString> back;
        for (std::size_t i = from; i < events.size(); ++i) {
            if (str(events[i], "event") != QLatin1String("subscription")) continue;
            const QString ext = str(events[i], "extension");
            if (str(events[i], "state") != QLatin1String("active"))
                left.insert(ext);
            else if (left.contains(ext))
                back.insert(ext);
        }
        for (const QString& ext : kPhones)
            if (!back.contains(ext)) return false;
        return true;
    }

    // One answered call: `caller` calls `callee`, which rings, answers and hangs up.
    void answeredCall(const QString& caller, const QString& callee) {
        SippProcess uas;
        SippProcess uac;
        const auto started = startCallee(uas, callee, "uas_answer.xml");
        QVERIFY2(started, qPrintable(started ? QString() : started.error().reason));
        const auto calling = startCaller(uac, caller, callee, "uac_call.xml");
        QVERIFY2(calling, qPrintable(calling ? QString() : calling.error().reason));
        QVERIFY2(uac.waitForFinished(40s) == 0, qPrintable(sippFailure("caller", uac)));
        QVERIFY2(uas.waitForFinished(10s) == 0, qPrintable(sippFailure("callee", uas)));

        expectLamps(caller,
                    {QStringLiteral("calling"), QStringLiteral("busy"), QStringLiteral("idle")});
        expectLamps(callee,
                    {QStringLiteral("ringing"), QStringLiteral("busy"), QStringLiteral("idle")});
        expectParty(caller, QStringLiteral("calling"), callee, QStringLiteral("initiator"));
        expectParty(caller, QStringLiteral("busy"), callee, QStringLiteral("initiator"));
        expectParty(callee, QStringLiteral("ringing"), caller, QStringLiteral("recipient"));
        expectParty(callee, QStringLiteral("busy"), caller, QStringLiteral("recipient"));
        // The third phone saw nothing of it.
        for (const QString& ext : kPhones) {
            if (ext != caller && ext != callee)
                QVERIFY2(lampSequence(ext).isEmpty(), qPrintable(diagnostics()));
        }
    }

private slots:
    void initTestCase() {
        KamailioInstance::Options options;
        options.config = QStringLiteral("presence.cfg");
        options.subscribers.push_back({kOperator, passwordOf(kOperator)});
        for (const QString& ext : kPhones)
            options.subscribers.push_back({ext, passwordOf(ext)});
        const auto started = m_kamailio.start(options);
        QVERIFY2(started, qPrintable(started ? QString() : started.error().reason));

        for (const QString& ext : kPhones) {
            m_phonePort.insert(ext, sb::itest::freePort());
            QVERIFY2(registerPhone(ext), qPrintable(m_kamailio.logText().right(3000)));
        }

        const auto running = m_switchboard.start(ini());
        QVERIFY2(running, qPrintable(running ? QString() : running.error().reason));
        QVERIFY2(m_switchboard.waitForRegistration(QStringLiteral("registered"), 15s),
                 qPrintable(diagnostics()));
        QVERIFY2(waitFor([this] { return subscriptionsAre(QStringLiteral("active"), 0); }, 30s),
                 qPrintable(diagnostics()));
        // Kamailio's first NOTIFY has no body: no dialogs, so idle (not offline).
        QVERIFY2(waitFor([this] { return allIdle(); }, 15s), qPrintable(diagnostics()));
        // The subscriptions went through digest authentication: presence.cfg challenges
        // SUBSCRIBE with 407 (REGISTER gets 401), RFC 3261 §22.3.
        QVERIFY2(m_switchboard.sipTrace().contains(
                     QStringLiteral("SIP/2.0 407 Proxy Authentication Required")),
                 qPrintable(diagnostics()));
    }

    void cleanupTestCase() {
        if (m_switchboard.waitForExit(0ms) == std::nullopt) {
            m_switchboard.send(QJsonObject{{QStringLiteral("cmd"), QStringLiteral("quit")}});
            m_switchboard.waitForExit(10s);
        }
        m_switchboard.stop();
        m_kamailio.stop();
    }

    void callAnsweredAndHungUp() {
        settle();
        answeredCall(QStringLiteral("201"), QStringLiteral("202"));
    }

    void callCancelledByCaller() {
        settle();
        SippProcess uas;
        SippProcess uac;
        const auto started = startCallee(uas, QStringLiteral("202"), "uas_ring_cancelled.xml");
        QVERIFY2(started, qPrintable(started ? QString() : started.error().reason));
        const auto calling =
            startCaller(uac, QStringLiteral("201"), QStringLiteral("202"), "uac_cancel.xml");
        QVERIFY2(calling, qPrintable(calling ? QString() : calling.error().reason));
        QVERIFY2(uac.waitForFinished(40s) == 0, qPrintable(sippFailure("caller", uac)));
        QVERIFY2(uas.waitForFinished(10s) == 0, qPrintable(sippFailure("callee", uas)));

        expectLamps(QStringLiteral("201"), {QStringLiteral("calling"), QStringLiteral("idle")});
        expectLamps(QStringLiteral("202"), {QStringLiteral("ringing"), QStringLiteral("idle")});
        expectParty(QStringLiteral("202"), QStringLiteral("ringing"), QStringLiteral("201"),
                    QStringLiteral("recipient"));
    }

    void callRefusedBusy() {
        settle();
        SippProcess uas;
        SippProcess uac;
        const auto started = startCallee(uas, QStringLiteral("202"), "uas_busy.xml");
        QVERIFY2(started, qPrintable(started ? QString() : started.error().reason));
        const auto calling =
            startCaller(uac, QStringLiteral("201"), QStringLiteral("202"), "uac_call.xml");
        QVERIFY2(calling, qPrintable(calling ? QString() : calling.error().reason));
        QVERIFY2(uac.waitForFinished(40s) == 0, qPrintable(sippFailure("caller", uac)));
        QVERIFY2(uas.waitForFinished(10s) == 0, qPrintable(sippFailure("callee", uas)));
        QVERIFY(uac.countReceived(QStringLiteral("SIP/2.0 486")) >= 1);

        expectLamps(QStringLiteral("201"), {QStringLiteral("calling"), QStringLiteral("idle")});
        expectLamps(QStringLiteral("202"), {QStringLiteral("ringing"), QStringLiteral("idle")});
        expectParty(QStringLiteral("201"), QStringLiteral("calling"), QStringLiteral("202"),
                    QStringLiteral("initiator"));
    }

    void twoCallsAtOnceOnOneExtension() {
        settle();
        // 203 answers both calls and talks 6 s in each: 202's call rings and is answered
        // while 203 is still in 201's call.
        SippProcess uas;
        SippProcess first;
        SippProcess second;
        const auto started = startCallee(uas, QStringLiteral("203"), "uas_answer.xml", 2, 6000);
        QVERIFY2(started, qPrintable(started ? QString() : started.error().reason));
        auto calling =
            startCaller(first, QStringLiteral("201"), QStringLiteral("203"), "uac_call.xml");
        QVERIFY2(calling, qPrintable(calling ? QString() : calling.error().reason));
        QVERIFY2(
            waitFor([this] { return currentLamp(QStringLiteral("203")) == QLatin1String("busy"); },
                    20s),
            qPrintable(diagnostics()));
        calling = startCaller(second, QStringLiteral("202"), QStringLiteral("203"), "uac_call.xml");
        QVERIFY2(calling, qPrintable(calling ? QString() : calling.error().reason));
        QVERIFY2(first.waitForFinished(40s) == 0, qPrintable(sippFailure("first caller", first)));
        QVERIFY2(second.waitForFinished(40s) == 0,
                 qPrintable(sippFailure("second caller", second)));
        QVERIFY2(uas.waitForFinished(10s) == 0, qPrintable(sippFailure("callee", uas)));
        QVERIFY2(waitFor([this] { return allIdle(); }, 30s), qPrintable(diagnostics()));

        // Ringing wins over busy (DESIGN.md "Lamps"): the second call rang while the
        // first was confirmed, and the lamp event lists both dialogs.
        expectLamps(QStringLiteral("203"),
                    {QStringLiteral("ringing"), QStringLiteral("busy"), QStringLiteral("ringing"),
                     QStringLiteral("busy"), QStringLiteral("idle")});
        bool ringingOverBusy = false;
        bool busyWithTwo = false;
        for (const QJsonObject& event : lampEvents(QStringLiteral("203"))) {
            QStringList states;
            for (const QJsonValue& d : event.value(QStringLiteral("dialogs")).toArray())
                if (str(d.toObject(), "state") != QLatin1String("terminated"))
                    states << str(d.toObject(), "state");
            if (str(event, "lamp") == QLatin1String("ringing") &&
                states.contains(QStringLiteral("confirmed")) && states.size() >= 2) {
                ringingOverBusy = true;
                QVERIFY2(str(event.value(QStringLiteral("other")).toObject(), "uri")
                             .contains(QStringLiteral("202")),
                         qPrintable(compact(event)));
            }
            if (str(event, "lamp") == QLatin1String("busy") &&
                states.count(QStringLiteral("confirmed")) == 2)
                busyWithTwo = true;
        }
        QVERIFY2(ringingOverBusy, qPrintable(diagnostics()));
        QVERIFY2(busyWithTwo, qPrintable(diagnostics()));
        // Both callers: calling → busy → idle.
        expectLamps(QStringLiteral("201"),
                    {QStringLiteral("calling"), QStringLiteral("busy"), QStringLiteral("idle")});
        expectLamps(QStringLiteral("202"),
                    {QStringLiteral("calling"), QStringLiteral("busy"), QStringLiteral("idle")});
    }

    void kamailioRestartRecovers() {
        settle();
        const qint64 oldPid = m_kamailio.pid();
        const qsizetype traceBefore = m_switchboard.sipTrace().size();
        const auto restarted = m_kamailio.restart();
        QVERIFY2(restarted, qPrintable(restarted ? QString() : restarted.error().reason));
        QVERIFY(m_kamailio.pid() != oldPid);
        // It forgot the phones' registrations too (usrloc in memory only).
        for (const QString& ext : kPhones)
            QVERIFY2(registerPhone(ext), qPrintable(m_kamailio.logText().right(3000)));

        // Each subscription's next refresh gets 481 (the notifier forgot it): a new
        // subscription (RFC 6665 §4.1.2.2), so each extension's subscription leaves
        // `active` and comes back to it.
        QVERIFY2(waitFor([this] { return subscriptionsRecovered(m_mark); }, 60s),
                 qPrintable(diagnostics()));
        // ... because the restarted Kamailio answered a refresh SUBSCRIBE with 481: a
        // response Switchboard received after the restart, not one it sent.
        bool refused = false;
        const QStringList entries =
            m_switchboard.sipTrace().mid(traceBefore).split(QStringLiteral("\n----\n"));
        for (const QString& entry : entries) {
            const qsizetype firstLineEnd = entry.indexOf(QLatin1Char('\n'));
            const QString headline = entry.left(firstLineEnd);
            const QString message = entry.mid(firstLineEnd + 1).trimmed();
            if (headline.contains(QStringLiteral(" RECV ")) &&
                message.startsWith(QStringLiteral("SIP/2.0 481")) &&
                QRegularExpression(QStringLiteral("\\nCSeq:\\s*\\d+\\s+SUBSCRIBE"),
                                   QRegularExpression::CaseInsensitiveOption)
                    .match(message)
                    .hasMatch())
                refused = true;
        }
        QVERIFY2(refused, qPrintable(diagnostics()));
        for (std::size_t i = m_mark; i < m_switchboard.events().size(); ++i) {
            const QJsonObject& event = m_switchboard.events()[i];
            if (str(event, "event") == QLatin1String("subscription"))
                qInfo("%s", qPrintable(compact(event)));
        }
        QVERIFY2(waitFor([this] { return allIdle(); }, 15s), qPrintable(diagnostics()));

        // And the lamps follow a new call.
        m_mark = m_switchboard.events().size();
        answeredCall(QStringLiteral("202"), QStringLiteral("203"));
    }
};

QTEST_GUILESS_MAIN(TstBlfBoard)
#include "tst_blf_board.moc"
