// Kamailio as a peer of the built-in server (issue 4): a Kamailio (kamailio_pua.cfg:
// registrar, tm, rr, dialog, pua, pua_dialoginfo) serves the sipp phones 201 and 202 and
// publishes the dialog state of their calls (RFC 4235 documents in PUBLISH, RFC 3903)
// to `switchboard --headless`, its pua outbound proxy. Switchboard runs as the built-in
// server (no [account]) with Kamailio's domain among its own, so the PUBLISHes are for
// its users; the phones never register at Switchboard: the published state alone puts
// them on the board.
//
// Asserted: the lamps of both parties through one answered call (from Switchboard's
// `lamp` events, repeats folded), the other party and the call's own Call-ID and tags on
// the board's dialogs, and from Switchboard's SIP trace that every PUBLISH Kamailio sent
// was answered 200 with a SIP-ETag, and that Kamailio's conditional PUBLISHes named
// those entity-tags in SIP-If-Match (RFC 3903 §4.4). No timing is asserted: every wait
// is bounded only to end a broken run.

#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QSet>
#include <QTest>

#include <functional>
#include <map>

#include "free_port.h"
#include "kamailio_instance.h"
#include "sipp_process.h"
#include "switchboard_process.h"

using namespace std::chrono_literals;
using sb::Result;
using sb::itest::KamailioInstance;
using sb::itest::SippProcess;
using sb::itest::SwitchboardProcess;

namespace {

// Kamailio's domain (its alias), listed among Switchboard's own: the PUBLISH
// Request-URIs (sip:201@kamailio.test) are then for Switchboard's users.
const QString kDomain = QStringLiteral("kamailio.test");
const QString kCaller = QStringLiteral("201");
const QString kCallee = QStringLiteral("202");

QString passwordOf(const QString& user) {
    return QStringLiteral("pw-") + user;
}

QString peerFile(const char* file) {
    return QStringLiteral(SB_KAMAILIO_PEER_DIR "/") + QLatin1String(file);
}

QString str(const QJsonObject& o, const char* key) {
    return o.value(QLatin1String(key)).toString();
}

QString compact(const QJsonObject& o) {
    return QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact));
}

// One message of Switchboard's SIP trace (docs/headless.md "SIP trace"): the line
// "<time> SENT|RECV <transport> <from> -> <to>", then the message.
struct TraceEntry {
    bool received = false;
    QString from;
    QString message;

    QString startLine() const { return message.left(message.indexOf(QLatin1Char('\n'))).trimmed(); }
    QString header(const QString& name) const {
        const QRegularExpression re(
            QStringLiteral("^%1[ \\t]*:[ \\t]*(.*?)\\r?$").arg(QRegularExpression::escape(name)),
            QRegularExpression::CaseInsensitiveOption | QRegularExpression::MultilineOption);
        // Only the header section: a body line must not count as a header.
        const qsizetype end = message.indexOf(QStringLiteral("\n\n"));
        return re.match(end < 0 ? message : message.left(end)).captured(1).trimmed();
    }
};

std::vector<TraceEntry> parseTrace(const QString& trace) {
    static const QRegularExpression kHeadline(
        QStringLiteral("^\\S+ (SENT|RECV) \\S+ (\\S+) -> (\\S+)$"));
    std::vector<TraceEntry> out;
    for (const QString& chunk : trace.split(QStringLiteral("\n----\n"), Qt::SkipEmptyParts)) {
        const QString text = chunk.trimmed();
        const qsizetype lineEnd = text.indexOf(QLatin1Char('\n'));
        if (lineEnd < 0) continue;
        const QRegularExpressionMatch headline = kHeadline.match(text.left(lineEnd));
        if (!headline.hasMatch()) continue;
        QString message = text.mid(lineEnd + 1);
        message.replace(QStringLiteral("\r\n"), QStringLiteral("\n"));
        out.push_back(
            {headline.captured(1) == QLatin1String("RECV"), headline.captured(2), message});
    }
    return out;
}

}  // namespace

class TstKamailioPublishes : public QObject {
    Q_OBJECT

private:
    SwitchboardProcess m_switchboard;
    KamailioInstance m_kamailio;
    quint16 m_switchboardPort = 0;
    QHash<QString, quint16> m_phonePort;
    // Index into m_switchboard.events() where the current scenario began.
    std::size_t m_mark = 0;

    QString diagnostics() const {
        return m_switchboard.diagnostics() + QStringLiteral("\nPUBLISH exchange:\n") +
               publishExchange() + QStringLiteral("\nKamailio log (end):\n") +
               m_kamailio.logText().right(3000);
    }

    // Each PUBLISH and each answer to one, a line each: who sent it, the start line, the
    // entity-tags and the dialog states of the body.
    QString publishExchange() const {
        static const QRegularExpression kState(QStringLiteral("<state[^>]*>([A-Za-z]+)</state>"));
        QStringList lines;
        for (const TraceEntry& entry : parseTrace(m_switchboard.sipTrace())) {
            if (!entry.header(QStringLiteral("CSeq")).endsWith(QStringLiteral("PUBLISH"))) continue;
            QStringList states;
            for (const QRegularExpressionMatch& m : kState.globalMatch(entry.message))
                states << m.captured(1);
            lines << QStringLiteral("%1 %2 | %3 | Expires %4 | If-Match %5 | ETag %6 | %7")
                         .arg(entry.received ? QStringLiteral("RECV") : QStringLiteral("SENT"),
                              entry.from, entry.startLine(),
                              entry.header(QStringLiteral("Expires")),
                              entry.header(QStringLiteral("SIP-If-Match")),
                              entry.header(QStringLiteral("SIP-ETag")),
                              states.join(QLatin1Char(',')));
        }
        return lines.join(QLatin1Char('\n'));
    }

    QString kamailioAddress() const {
        return QStringLiteral("127.0.0.1:%1").arg(m_kamailio.port());
    }

    // The built-in server on its own port, both transports; Kamailio's domain is one of
    // its domains and requests from loopback are trusted (the default), so Kamailio's
    // PUBLISHes need no credentials.
    static QString ini(quint16 port) {
        return QStringLiteral(
                   "[sip]\nlisten = udp:127.0.0.1:%1, tcp:127.0.0.1:%1\n"
                   "[server]\ndomain = switchboard.local, %2\n"
                   "[monitor]\n%3 = Alice, Sales\n%4 = Bob, Sales\n")
            .arg(port)
            .arg(kDomain, kCaller, kCallee);
    }

    bool waitFor(const std::function<bool()>& condition, std::chrono::milliseconds limit) {
        return QTest::qWaitFor(condition, static_cast<int>(limit.count()));
    }

    // Registers a phone at Kamailio (digest) with the Contact of its own port.
    bool registerPhone(const QString& ext) {
        SippProcess sipp;
        SippProcess::Options options;
        options.scenario = peerFile("phone_register.xml");
        options.localPort = m_phonePort.value(ext);
        options.remote = kamailioAddress();
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

    static QString sippFailure(const char* who, SippProcess& sipp) {
        return QStringLiteral("%1 failed:\n%2\n%3")
            .arg(QLatin1String(who), sipp.output(), sipp.messages().right(4000));
    }

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

    QString currentLamp(const QString& ext) const {
        const std::vector<QJsonObject> events = lampEvents(ext);
        return events.empty() ? QString() : str(events.back(), "lamp");
    }

    // Lamps of `ext` since the mark, repeats folded (a lamp event also comes when only the
    // dialogs change, e.g. trying → early while calling), leading `offline`/`idle`
    // dropped (before the first PUBLISH the phone is unknown to Switchboard), and an
    // `offline` after `idle` dropped: once the terminated publication expires, nothing
    // keeps a phone that never registered at Switchboard usable.
    QStringList lampSequence(const QString& ext) const {
        QStringList out;
        for (const QJsonObject& event : lampEvents(ext)) {
            const QString lamp = str(event, "lamp");
            if (out.isEmpty() &&
                (lamp == QLatin1String("offline") || lamp == QLatin1String("idle")))
                continue;
            if (lamp == QLatin1String("offline") && !out.isEmpty() &&
                out.last() == QLatin1String("idle"))
                continue;
            if (out.isEmpty() || out.last() != lamp) out << lamp;
        }
        return out;
    }

    void expectLamps(const QString& ext, const QStringList& expected) {
        waitFor([&] { return lampSequence(ext).size() >= expected.size(); }, 20s);
        const QStringList seen = lampSequence(ext);
        qInfo("%s: %s", qPrintable(ext), qPrintable(seen.join(QStringLiteral("→"))));
        // Qt Test cuts long failure messages: the whole story goes to the log first.
        if (seen != expected) qWarning("%s", qPrintable(diagnostics()));
        QVERIFY2(seen == expected, qPrintable(QStringLiteral("%1: lamps %2, expected %3")
                                                  .arg(ext, seen.join(QStringLiteral("→")),
                                                       expected.join(QStringLiteral("→")))));
    }

    std::optional<QJsonObject> firstLamp(const QString& ext, const QString& lamp) const {
        for (const QJsonObject& event : lampEvents(ext))
            if (str(event, "lamp") == lamp) return event;
        return std::nullopt;
    }

    // The first `lamp` event of `ext` shows `otherExt` of Kamailio's domain as the other
    // party and one dialog: the call that went through Kamailio (its Call-ID), in
    // `direction`, with the other party's identity.
    void expectDialog(const QString& ext, const QString& lamp, const QString& otherExt,
                      const QString& direction, const QString& callId) {
        const std::optional<QJsonObject> event = firstLamp(ext, lamp);
        QVERIFY2(event,
                 qPrintable(QStringLiteral("no %1 lamp for %2\n%3").arg(lamp, ext, diagnostics())));
        const QString otherUri = QStringLiteral("sip:%1@%2").arg(otherExt, kDomain);
        QVERIFY2(str(event->value(QStringLiteral("other")).toObject(), "uri") == otherUri,
                 qPrintable(QStringLiteral("%1 %2: expected other party %3 in %4")
                                .arg(ext, lamp, otherUri, compact(*event))));
        const QJsonArray dialogs = event->value(QStringLiteral("dialogs")).toArray();
        QVERIFY2(dialogs.size() == 1, qPrintable(compact(*event)));
        const QJsonObject dialog = dialogs.first().toObject();
        QCOMPARE(str(dialog, "direction"), direction);
        QCOMPARE(str(dialog, "call_id"), callId);
        QCOMPARE(str(dialog.value(QStringLiteral("remote")).toObject(), "identity"), otherUri);
        QVERIFY2(!str(*event, "since").isEmpty(), qPrintable(compact(*event)));
    }

private slots:
    void initTestCase() {
        // Switchboard first, on a free port (retried if another process takes it between
        // the probe and the bind: it then exits with status 1 before "started").
        bool running = false;
        QString failure;
        for (int attempt = 0; attempt < 3 && !running; ++attempt) {
            m_switchboardPort = sb::itest::freePort();
            const auto started = m_switchboard.start(ini(m_switchboardPort));
            running = bool(started);
            if (!started) failure = started.error().reason;
        }
        QVERIFY2(running, qPrintable(failure));
        // Nobody registered at Switchboard: both extensions offline until published.
        for (const QString& ext : {kCaller, kCallee}) {
            QVERIFY2(waitFor([&] { return currentLamp(ext) == QLatin1String("offline"); }, 10s),
                     qPrintable(diagnostics()));
        }

        // Then Kamailio, its pua pointed at Switchboard.
        KamailioInstance::Options options;
        options.config = peerFile("kamailio_pua.cfg");
        options.domain = kDomain;
        options.substitutions.emplace_back(
            QStringLiteral("SBPUAPROXY"),
            QStringLiteral("sip:127.0.0.1:%1").arg(m_switchboardPort));
        for (const QString& ext : {kCaller, kCallee})
            options.subscribers.push_back({ext, passwordOf(ext)});
        const auto started = m_kamailio.start(options);
        QVERIFY2(started, qPrintable(started ? QString() : started.error().reason));

        for (const QString& ext : {kCaller, kCallee}) {
            m_phonePort.insert(ext, sb::itest::freePort());
            QVERIFY2(registerPhone(ext), qPrintable(m_kamailio.logText().right(3000)));
        }
        // Registering at Kamailio publishes nothing (no pua_usrloc): still offline.
        for (const QString& ext : {kCaller, kCallee})
            QCOMPARE(currentLamp(ext), QStringLiteral("offline"));
    }

    void cleanupTestCase() {
        m_kamailio.stop();
        if (m_switchboard.waitForExit(0ms) == std::nullopt) {
            m_switchboard.send(QJsonObject{{QStringLiteral("cmd"), QStringLiteral("quit")}});
            m_switchboard.waitForExit(10s);
        }
        m_switchboard.stop();
    }

    void answeredCallLightsTheBoard() {
        m_mark = m_switchboard.events().size();
        const qsizetype traceBefore = m_switchboard.sipTrace().size();

        SippProcess uas;
        SippProcess uac;
        SippProcess::Options callee;
        callee.scenario = peerFile("uas_answer.xml");
        callee.localPort = m_phonePort.value(kCallee);
        callee.timeout = 30s;
        callee.extraArguments = {QStringLiteral("-set"), QStringLiteral("me"), kCallee,
                                 QStringLiteral("-d"), QStringLiteral("1500")};
        const auto answering = uas.start(callee);
        QVERIFY2(answering, qPrintable(answering ? QString() : answering.error().reason));
        SippProcess::Options caller;
        caller.scenario = peerFile("uac_call.xml");
        caller.localPort = m_phonePort.value(kCaller);
        caller.remote = kamailioAddress();
        caller.timeout = 30s;
        caller.extraArguments = {QStringLiteral("-s"),     kCallee, QStringLiteral("-set"),
                                 QStringLiteral("me"),     kCaller, QStringLiteral("-set"),
                                 QStringLiteral("domain"), kDomain};
        const auto calling = uac.start(caller);
        QVERIFY2(calling, qPrintable(calling ? QString() : calling.error().reason));
        QVERIFY2(uac.waitForFinished(40s) == 0, qPrintable(sippFailure("caller", uac)));
        QVERIFY2(uas.waitForFinished(10s) == 0, qPrintable(sippFailure("callee", uas)));

        // The call's Call-ID as the caller sent it: the board's dialogs must be this call.
        const QString callId = QRegularExpression(QStringLiteral("\\nCall-ID:\\s*(\\S+)"))
                                   .match(uac.messages())
                                   .captured(1);
        QVERIFY2(!callId.isEmpty(), qPrintable(uac.messages().left(2000)));

        // RFC 4235 §3.7.1 states as pua_dialoginfo publishes them: the caller's dialog
        // trying/early (calling), then confirmed (busy), then terminated (idle); the
        // callee's trying/early (ringing), confirmed (busy), terminated (idle).
        expectLamps(kCaller,
                    {QStringLiteral("calling"), QStringLiteral("busy"), QStringLiteral("idle")});
        if (QTest::currentTestFailed()) return;
        expectLamps(kCallee,
                    {QStringLiteral("ringing"), QStringLiteral("busy"), QStringLiteral("idle")});
        if (QTest::currentTestFailed()) return;
        expectDialog(kCaller, QStringLiteral("calling"), kCallee, QStringLiteral("initiator"),
                     callId);
        expectDialog(kCaller, QStringLiteral("busy"), kCallee, QStringLiteral("initiator"), callId);
        expectDialog(kCallee, QStringLiteral("ringing"), kCaller, QStringLiteral("recipient"),
                     callId);
        expectDialog(kCallee, QStringLiteral("busy"), kCaller, QStringLiteral("recipient"), callId);
        if (QTest::currentTestFailed()) return;

        // Both sides describe one dialog: the caller's local tag is the callee's remote
        // tag and the other way round (pua_dialoginfo include_tags).
        const QJsonObject callerDialog = firstLamp(kCaller, QStringLiteral("busy"))
                                             ->value(QStringLiteral("dialogs"))
                                             .toArray()
                                             .first()
                                             .toObject();
        const QJsonObject calleeDialog = firstLamp(kCallee, QStringLiteral("busy"))
                                             ->value(QStringLiteral("dialogs"))
                                             .toArray()
                                             .first()
                                             .toObject();
        QVERIFY2(
            !str(callerDialog, "local_tag").isEmpty() && !str(callerDialog, "remote_tag").isEmpty(),
            qPrintable(compact(callerDialog)));
        QCOMPARE(str(callerDialog, "local_tag"), str(calleeDialog, "remote_tag"));
        QCOMPARE(str(callerDialog, "remote_tag"), str(calleeDialog, "local_tag"));

        // The published state made both extensions usable (no registration at Switchboard).
        for (const QString& ext : {kCaller, kCallee}) {
            bool active = false;
            for (std::size_t i = m_mark; i < m_switchboard.events().size(); ++i) {
                const QJsonObject& event = m_switchboard.events()[i];
                active |= str(event, "event") == QLatin1String("subscription") &&
                          str(event, "extension") == ext &&
                          str(event, "state") == QLatin1String("active");
            }
            QVERIFY2(active, qPrintable(ext + QLatin1Char('\n') + diagnostics()));
        }

        checkPublications(m_switchboard.sipTrace().mid(traceBefore));
        if (QTest::currentTestFailed()) qWarning("%s", qPrintable(publishExchange()));
    }

private:
    // Every PUBLISH Switchboard received from Kamailio got 200 with a SIP-ETag; every
    // conditional PUBLISH (SIP-If-Match, RFC 3903 §4.4: modify the publication, do not
    // start a new one) named an entity-tag Switchboard had given for that entity, and
    // each entity had some. Kamailio's pua may send an initial PUBLISH where a
    // conditional one was due (its next state left before the 200 to the first was
    // processed), so not every PUBLISH after the first must be conditional. Both
    // parties published, among them a `terminated` document for each.
    void checkPublications(const QString& trace) {
        const QString kamailio = QStringLiteral("udp:127.0.0.1:%1").arg(m_kamailio.port());
        const std::vector<TraceEntry> entries = parseTrace(trace);
        // Responses Switchboard sent, by "Call-ID CSeq".
        std::map<QString, const TraceEntry*> answers;
        for (const TraceEntry& entry : entries) {
            if (!entry.received && entry.startLine().startsWith(QStringLiteral("SIP/2.0 ")) &&
                entry.header(QStringLiteral("CSeq")).endsWith(QStringLiteral("PUBLISH")))
                answers[entry.header(QStringLiteral("Call-ID")) + QLatin1Char(' ') +
                        entry.header(QStringLiteral("CSeq"))] = &entry;
        }
        QHash<QString, QSet<QString>> issued;  // entity-tags given, per entity
        QHash<QString, int> published;
        QHash<QString, int> conditional;
        QHash<QString, bool> terminated;
        for (const TraceEntry& entry : entries) {
            if (!entry.received || !entry.startLine().startsWith(QStringLiteral("PUBLISH ")))
                continue;
            const QString what = entry.message.left(1500);
            QVERIFY2(entry.from == kamailio,
                     qPrintable(QStringLiteral("PUBLISH from %1, not Kamailio (%2):\n%3")
                                    .arg(entry.from, kamailio, what)));
            QCOMPARE(entry.header(QStringLiteral("Event")), QStringLiteral("dialog"));
            const QString entity = entry.startLine().section(QLatin1Char(' '), 1, 1);
            const QString key = entry.header(QStringLiteral("Call-ID")) + QLatin1Char(' ') +
                                entry.header(QStringLiteral("CSeq"));
            const auto answer = answers.find(key);
            QVERIFY2(answer != answers.end(), qPrintable(QStringLiteral("unanswered:\n") + what));
            const TraceEntry& response = *answer->second;
            QVERIFY2(response.startLine().startsWith(QStringLiteral("SIP/2.0 200")),
                     qPrintable(QStringLiteral("PUBLISH answered %1:\n%2\n%3")
                                    .arg(response.startLine(), what, response.message)));
            const QString etag = response.header(QStringLiteral("SIP-ETag"));
            QVERIFY2(!etag.isEmpty(), qPrintable(response.message));
            const QString ifMatch = entry.header(QStringLiteral("SIP-If-Match"));
            if (!ifMatch.isEmpty()) {
                QVERIFY2(issued.value(entity).contains(ifMatch),
                         qPrintable(QStringLiteral("SIP-If-Match '%1' is no entity-tag given "
                                                   "for %2:\n%3")
                                        .arg(ifMatch, entity, what)));
                conditional[entity] += 1;
            }
            issued[entity].insert(etag);
            published[entity] += 1;
            if (entry.message.contains(QStringLiteral("<state>terminated</state>")))
                terminated.insert(entity, true);
        }
        for (const QString& ext : {kCaller, kCallee}) {
            const QString entity = QStringLiteral("sip:%1@%2").arg(ext, kDomain);
            qInfo("%s: %d PUBLISHes, %d of them conditional", qPrintable(entity),
                  published.value(entity), conditional.value(entity));
            // At least the first state, confirmed and terminated.
            QVERIFY2(published.value(entity) >= 3, qPrintable(QStringLiteral("%1 PUBLISHes for %2")
                                                                  .arg(published.value(entity))
                                                                  .arg(entity)));
            QVERIFY2(conditional.value(entity) >= 1,
                     qPrintable(QStringLiteral("no conditional PUBLISH for %1").arg(entity)));
            QVERIFY2(terminated.value(entity),
                     qPrintable(QStringLiteral("no terminated document for %1").arg(entity)));
        }
    }
};

QTEST_GUILESS_MAIN(TstKamailioPublishes)
#include "tst_kamailio_publishes.moc"
