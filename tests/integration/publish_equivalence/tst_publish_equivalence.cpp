// Publish equivalence (issue 6): `compat = kamailio` must reproduce what Kamailio's
// pua_dialoginfo publishes. The same three call flows — answered then BYE, cancelled
// while ringing, busy (486) — run once through a real Kamailio 5.6 (tm, rr, registrar,
// usrloc, dialog with dlg_manage(), pua + pua_dialoginfo at their DEFAULT parameters:
// kamailio_pua_defaults.cfg) and once through Switchboard's built-in server with
// `[publish] compat = kamailio` and nothing else set. Each server PUBLISHes to its own
// sipp capture (capture_publish.xml: 200 OK with a SIP-ETag to every PUBLISH, every
// message logged). The same two sipp phones (same ports, so the same Contact URIs)
// register at both servers and play the calls.
//
// Compared, per published entity (the caller's and the callee's AoR), the sequence of
// PUBLISH requests that belong to the call (their document names its Call-ID):
// - the document byte for byte (XML declaration, indentation, attribute order, element
//   order, state names, targets, display names, version), after replacing only the
//   values each run generates: the <dialog id> (pua_dialoginfo makes its own, Switchboard
//   its dialog_id = uuid), the call's Call-ID in call-id="...", and the caller's and
//   callee's tags in local-tag / remote-tag (each replaced only where it is exactly the
//   tag that phone put in its From / To, so swapped tags still show). Nothing else is
//   rewritten: the phones keep their ports between the runs, so Contact URIs (targets)
//   need no normalising, and no port of either server appears in a document;
// - the header fields a presence server files the publication under: Request-URI, To
//   and From URIs (the entity), Event, Content-Type, and whether SIP-If-Match is there
//   (a conditional PUBLISH modifies the publication; an initial one would make a second
//   one at the server, which its watchers see as a second dialog).
// - Expires, by meaning rather than by bytes: pua adds one second to every non-zero
//   Expires it sends (pua/send_publish.c publ_build_hdr, `t++`), so Kamailio's value
//   minus one is what pua_dialoginfo asked for and is compared with Switchboard's: the
//   end (`terminated`, pua_dialoginfo's fixed 10 s) and the live states (the dialog's
//   lifetime when override_lifetime is 0, which [publish] lifetime = 0 reproduces with
//   the call's own lifetime, [server] dialog_lifetime; both default to 12 hours).
// Each side's <dialog id> must stay the same through an entity's sequence.
//
// Both sequences are printed on failure. No timing is asserted: waits are bounded only
// to end a broken run; the phones' own ring and talk times are part of the call flows.

#include <QRegularExpression>
#include <QSet>
#include <QTest>

#include <algorithm>
#include <functional>
#include <map>
#include <optional>

#include "free_port.h"
#include "kamailio_instance.h"
#include "sipp_process.h"
#include "switchboard_process.h"
#include "verify.h"

using namespace std::chrono_literals;
using sb::Result;
using sb::itest::errorOf;
using sb::itest::KamailioInstance;
using sb::itest::SippProcess;
using sb::itest::SwitchboardProcess;

namespace {

// One domain for both servers, so that the entities (sip:201@equiv.test) are the same.
const QString kDomain = QStringLiteral("equiv.test");
const QString kCaller = QStringLiteral("201");
const QString kCallee = QStringLiteral("202");

QString file(const char* name) {
    return QStringLiteral(SB_EQUIVALENCE_DIR "/") + QLatin1String(name);
}

QString entityOf(const QString& ext) {
    return QStringLiteral("sip:%1@%2").arg(ext, kDomain);
}

// One message of a sipp -trace_msg log, byte for byte: the log says how many bytes
// follow ("UDP message received [N] bytes :" / "UDP message sent (N bytes):", then an
// empty line and the message).
struct LoggedMessage {
    bool received = false;
    QByteArray bytes;
};

std::vector<LoggedMessage> loggedMessages(const QByteArray& log) {
    static const QRegularExpression kHeadline(QStringLiteral(
        "^(?:UDP|TCP) message (?:received \\[(\\d+)\\] bytes :|sent \\((\\d+) bytes\\):)$"));
    std::vector<LoggedMessage> out;
    qsizetype pos = 0;
    while (pos < log.size()) {
        const qsizetype end = log.indexOf('\n', pos);
        if (end < 0) break;
        const QRegularExpressionMatch m =
            kHeadline.match(QString::fromLatin1(log.mid(pos, end - pos)));
        if (m.hasMatch() && log.mid(end + 1, 1) == "\n") {
            const bool received = m.capturedLength(1) > 0;
            const qsizetype length = (received ? m.captured(1) : m.captured(2)).toLongLong();
            out.push_back({received, log.mid(end + 2, length)});
            pos = end + 2 + length;
            continue;
        }
        pos = end + 1;
    }
    return out;
}

// The parts of a SIP message the test reads. Header names are matched without case, with
// the compact forms of RFC 3261 §7.3.3 that these header fields have.
struct SipMessage {
    QByteArray startLine;
    std::vector<std::pair<QByteArray, QByteArray>> headers;
    QByteArray body;

    QByteArray header(const QByteArray& name) const {
        static const std::map<QByteArray, QByteArray> kCompact = {
            {"to", "t"}, {"from", "f"}, {"call-id", "i"}, {"event", "o"}, {"content-type", "c"}};
        const QByteArray lower = name.toLower();
        const auto compact = kCompact.find(lower);
        for (const auto& [field, value] : headers) {
            const QByteArray got = field.toLower();
            if (got == lower || (compact != kCompact.end() && got == compact->second)) return value;
        }
        return {};
    }
    bool has(const QByteArray& name) const {
        const QByteArray lower = name.toLower();
        for (const auto& [field, value] : headers)
            if (field.toLower() == lower) return true;
        return false;
    }
    bool isRequest(const QByteArray& method) const { return startLine.startsWith(method + ' '); }
    int status() const {
        return startLine.startsWith("SIP/2.0 ") ? startLine.mid(8, 3).toInt() : 0;
    }
    QByteArray cseqMethod() const {
        const QList<QByteArray> parts = header("CSeq").simplified().split(' ');
        return parts.size() == 2 ? parts[1] : QByteArray();
    }
};

SipMessage parseSip(const QByteArray& bytes) {
    SipMessage message;
    qsizetype headEnd = bytes.indexOf("\r\n\r\n");
    qsizetype bodyStart = headEnd + 4;
    if (headEnd < 0) {
        headEnd = bytes.size();
        bodyStart = bytes.size();
    }
    const QList<QByteArray> lines = bytes.left(headEnd).split('\n');
    for (qsizetype i = 0; i < lines.size(); ++i) {
        QByteArray line = lines[i];
        if (line.endsWith('\r')) line.chop(1);
        if (i == 0) {
            message.startLine = line;
            continue;
        }
        const qsizetype colon = line.indexOf(':');
        if (colon > 0)
            message.headers.emplace_back(line.left(colon).trimmed(), line.mid(colon + 1).trimmed());
    }
    message.body = bytes.mid(bodyStart);
    bool ok = false;
    const qsizetype length = message.header("Content-Length").toLongLong(&ok);
    if (ok && length <= message.body.size()) message.body.truncate(length);
    return message;
}

// The URI of a name-addr or addr-spec header value (without its parameters).
QString uriOf(const QByteArray& value) {
    const qsizetype open = value.indexOf('<');
    if (open >= 0) {
        const qsizetype close = value.indexOf('>', open);
        return QString::fromUtf8(value.mid(open + 1, close - open - 1));
    }
    return QString::fromUtf8(value.left(value.indexOf(';')).trimmed());
}

QByteArray tagOf(const QByteArray& value) {
    static const QRegularExpression kTag(QStringLiteral(";\\s*tag=([^;>\\s]+)"));
    const QByteArray params = value.mid(value.indexOf('>') + 1);
    return kTag.match(QString::fromUtf8(params)).captured(1).toUtf8();
}

// What one call's phones generated: the values the documents may carry and that differ
// between the runs.
struct CallIds {
    QByteArray callId;
    QByteArray callerTag;  // From tag of the INVITE
    QByteArray calleeTag;  // To tag of the 180
};

// One PUBLISH a capture received.
struct Publish {
    SipMessage message;
    QString entity;  // Request-URI
    int expires = -1;
};

std::vector<Publish> publishesIn(const SippProcess& capture) {
    std::vector<Publish> out;
    for (const LoggedMessage& logged : loggedMessages(capture.messages().toUtf8())) {
        if (!logged.received) continue;
        SipMessage message = parseSip(logged.bytes);
        if (!message.isRequest("PUBLISH")) continue;
        Publish publish;
        publish.entity = QString::fromUtf8(message.startLine.split(' ').value(1));
        bool ok = false;
        const int expires = message.header("Expires").trimmed().toInt(&ok);
        publish.expires = ok ? expires : -1;
        publish.message = std::move(message);
        out.push_back(std::move(publish));
    }
    return out;
}

bool isEnd(const Publish& publish) {
    return publish.message.body.contains("<state>terminated</state>");
}

// The document with what the run generated replaced by names (see the top of the file),
// and the <dialog id> it had.
QByteArray normalisedBody(const QByteArray& body, const CallIds& ids, QByteArray* dialogId) {
    QByteArray out = body;
    static const QRegularExpression kDialogId(QStringLiteral("<dialog id=\"([^\"]*)\""));
    const QRegularExpressionMatch id = kDialogId.match(QString::fromUtf8(out));
    if (id.hasMatch()) {
        *dialogId = id.captured(1).toUtf8();
        out.replace("<dialog id=\"" + *dialogId + '"', "<dialog id=\"@DIALOG-ID@\"");
    }
    out.replace(" call-id=\"" + ids.callId + '"', " call-id=\"@CALL-ID@\"");
    for (const char* attribute : {" local-tag=\"", " remote-tag=\""}) {
        const QByteArray name(attribute);
        out.replace(name + ids.callerTag + '"', name + "@CALLER-TAG@\"");
        out.replace(name + ids.calleeTag + '"', name + "@CALLEE-TAG@\"");
    }
    return out;
}

// One PUBLISH as compared: the header fields a presence server files it under, then the
// normalised document.
QString described(const Publish& publish, const QByteArray& body) {
    const SipMessage& m = publish.message;
    return QStringLiteral("PUBLISH %1 | To %2 | From %3 | Event: %4 | Content-Type: %5 | %6\n%7")
        .arg(publish.entity, uriOf(m.header("To")), uriOf(m.header("From")),
             QString::fromUtf8(m.header("Event")), QString::fromUtf8(m.header("Content-Type")),
             m.has("SIP-If-Match") ? QStringLiteral("conditional (SIP-If-Match)")
                                   : QStringLiteral("initial (no SIP-If-Match)"),
             QString::fromUtf8(body));
}

}  // namespace

class TstPublishEquivalence : public QObject {
    Q_OBJECT

private:
    // One server under test with its capture.
    struct Side {
        QString name;
        QString address;  // where the phones send their requests
        SippProcess* capture = nullptr;
        std::function<QString()> diagnostics;
        // Why the server no longer runs; nothing while it runs (a crash shows first as
        // phones that get no answer).
        std::function<std::optional<QString>()> death;

        QString health() const { return death().value_or(name + QStringLiteral(" runs")); }
    };
    // The PUBLISHes of one call, per entity, in the order the capture received them.
    struct Run {
        CallIds ids;
        std::map<QString, std::vector<Publish>> byEntity;
    };
    struct Flow {
        const char* uac;
        const char* uas;
        int inviteFinal;  // the final response the caller must get to its INVITE
    };

    KamailioInstance m_kamailio;
    SwitchboardProcess m_switchboard;
    SippProcess m_kamailioCapture;
    SippProcess m_switchboardCapture;
    quint16 m_switchboardPort = 0;
    QHash<QString, quint16> m_phonePort;
    Side m_kamailioSide;
    Side m_switchboardSide;

    bool waitFor(const std::function<bool()>& condition, std::chrono::milliseconds limit) {
        return QTest::qWaitFor(condition, static_cast<int>(limit.count()));
    }

    static QString sippFailure(const char* who, const SippProcess& sipp) {
        return QStringLiteral("sipp (%1) output:\n%2\nmessages (end):\n%3")
            .arg(QLatin1String(who), sipp.output(), sipp.messages().right(8000));
    }

    static QString ini(quint16 port, quint16 capturePort) {
        return QStringLiteral(
                   "[sip]\nlisten = udp:127.0.0.1:%1, tcp:127.0.0.1:%1\n"
                   "[server]\ndomain = %2\n"
                   "[publish]\nenabled = true\nserver = 127.0.0.1:%3\ncompat = kamailio\n")
            .arg(port)
            .arg(kDomain)
            .arg(capturePort);
    }

    Result<void> startCapture(SippProcess& capture) {
        SippProcess::Options options;
        options.scenario = file("capture_publish.xml");
        options.calls = 1000;
        // Never ends by itself within the test: stopped by PID in cleanupTestCase().
        options.timeout = 600s;
        return capture.start(options);
    }

    // A phone registers its port (its Contact) at `server`.
    void registerPhone(const QString& ext, const QString& server) {
        SippProcess sipp;
        SippProcess::Options options;
        options.scenario = file("phone_register.xml");
        options.localPort = m_phonePort.value(ext);
        options.remote = server;
        options.timeout = 10s;
        options.extraArguments = {QStringLiteral("-s"), ext, QStringLiteral("-set"),
                                  QStringLiteral("domain"), kDomain};
        const auto started = sipp.start(options);
        SB_VERIFY(started, errorOf(started));
        SB_VERIFY(sipp.waitForFinished(20s) == 0, sippFailure("register", sipp));
    }

    // The status codes of the responses `sipp` received to requests of `method`.
    static QList<int> statusesReceived(const SippProcess& sipp, const QByteArray& method) {
        QList<int> out;
        for (const LoggedMessage& logged : loggedMessages(sipp.messages().toUtf8())) {
            const SipMessage m = parseSip(logged.bytes);
            if (logged.received && m.status() > 0 && m.cseqMethod() == method) out << m.status();
        }
        return out;
    }

    static CallIds callIdsOf(const SippProcess& caller) {
        CallIds ids;
        for (const LoggedMessage& logged : loggedMessages(caller.messages().toUtf8())) {
            const SipMessage m = parseSip(logged.bytes);
            if (!logged.received && m.isRequest("INVITE") && ids.callId.isEmpty()) {
                ids.callId = m.header("Call-ID");
                ids.callerTag = tagOf(m.header("From"));
            }
            if (logged.received && m.status() == 180 && ids.calleeTag.isEmpty())
                ids.calleeTag = tagOf(m.header("To"));
        }
        return ids;
    }

    // The PUBLISHes of the call `ids` at `capture`, per entity: those whose document
    // names its Call-ID (the capture of one server sees all its calls).
    static std::map<QString, std::vector<Publish>> publishesOfCall(const SippProcess& capture,
                                                                   const CallIds& ids) {
        std::map<QString, std::vector<Publish>> out;
        for (Publish& publish : publishesIn(capture)) {
            if (publish.message.body.contains(" call-id=\"" + ids.callId + '"'))
                out[publish.entity].push_back(std::move(publish));
        }
        return out;
    }

    // Plays `flow` through `side`: the callee's phone answers as the flow says, the
    // caller's phone calls; then waits until both parties' end (`terminated`) has been
    // published to the side's capture.
    Run runFlow(const Flow& flow, const Side& side) {
        Run run;
        if (const std::optional<QString> dead = side.death()) {
            qWarning().noquote() << side.diagnostics();
            QTest::qFail(qPrintable(*dead + QStringLiteral(" (details in the log above)")),
                         __FILE__, __LINE__);
            return run;
        }
        SippProcess uas;
        SippProcess uac;
        SippProcess::Options callee;
        callee.scenario = file(flow.uas);
        callee.localPort = m_phonePort.value(kCallee);
        callee.timeout = 30s;
        callee.extraArguments = {QStringLiteral("-set"), QStringLiteral("me"), kCallee};
        const auto answering = uas.start(callee);
        if (!answering) {
            QTest::qFail(qPrintable(errorOf(answering)), __FILE__, __LINE__);
            return run;
        }
        SippProcess::Options caller;
        caller.scenario = file(flow.uac);
        caller.localPort = m_phonePort.value(kCaller);
        caller.remote = side.address;
        caller.timeout = 30s;
        caller.extraArguments = {QStringLiteral("-s"),     kCallee, QStringLiteral("-set"),
                                 QStringLiteral("me"),     kCaller, QStringLiteral("-set"),
                                 QStringLiteral("domain"), kDomain, QStringLiteral("-d"),
                                 QStringLiteral("1000")};
        const auto calling = uac.start(caller);
        if (!calling) {
            QTest::qFail(qPrintable(errorOf(calling)), __FILE__, __LINE__);
            return run;
        }
        const int callerStatus = uac.waitForFinished(40s);
        const int calleeStatus = uas.waitForFinished(10s);
        const QString failure = QStringLiteral("%1:\n%2\n%3\n%4")
                                    .arg(side.name, sippFailure("caller", uac),
                                         sippFailure("callee", uas), side.diagnostics());
        if (callerStatus != 0 || calleeStatus != 0) {
            qWarning().noquote() << failure;
            QTest::qFail(qPrintable(QStringLiteral("%1: a phone's scenario failed; %2 (details in "
                                                   "the log above)")
                                        .arg(side.name, side.health())),
                         __FILE__, __LINE__);
            return run;
        }
        // The call went as the flow says: it rang, and ended with the flow's response.
        const QList<int> invite = statusesReceived(uac, "INVITE");
        if (!invite.contains(180) || !invite.contains(flow.inviteFinal)) {
            qWarning().noquote() << failure;
            QTest::qFail(qPrintable(QStringLiteral("%1: INVITE answered %2, expected 180 and %3")
                                        .arg(side.name, numbers(invite))
                                        .arg(flow.inviteFinal)),
                         __FILE__, __LINE__);
            return run;
        }
        if (flow.inviteFinal == 200 && !statusesReceived(uac, "BYE").contains(200)) {
            qWarning().noquote() << failure;
            QTest::qFail("the BYE was not answered 200", __FILE__, __LINE__);
            return run;
        }
        run.ids = callIdsOf(uac);
        if (run.ids.callId.isEmpty() || run.ids.callerTag.isEmpty() ||
            run.ids.calleeTag.isEmpty()) {
            QTest::qFail("no Call-ID or tags in the caller's trace", __FILE__, __LINE__);
            return run;
        }

        const auto ended = [&](const QString& ext) {
            const auto found = run.byEntity.find(entityOf(ext));
            return found != run.byEntity.end() &&
                   std::any_of(found->second.begin(), found->second.end(), isEnd);
        };
        const bool complete = waitFor(
            [&] {
                run.byEntity = publishesOfCall(*side.capture, run.ids);
                return ended(kCaller) && ended(kCallee);
            },
            20s);
        if (!complete) {
            qWarning().noquote() << QStringLiteral("%1 capture:\n%2\n%3")
                                        .arg(side.name, side.capture->messages().right(12000),
                                             side.diagnostics());
            QTest::qFail(qPrintable(side.name +
                                    QStringLiteral(": no terminated document for both parties; ") +
                                    side.health()),
                         __FILE__, __LINE__);
        }
        return run;
    }

    // One entity's PUBLISHes as compared, and its dialog ids.
    static QStringList describedSequence(const std::vector<Publish>& publishes, const CallIds& ids,
                                         QSet<QByteArray>* dialogIds) {
        QStringList out;
        for (const Publish& publish : publishes) {
            QByteArray id;
            out << described(publish, normalisedBody(publish.message.body, ids, &id));
            dialogIds->insert(id);
        }
        return out;
    }

    static QString sideBySide(const QString& entity, const QStringList& kamailio,
                              const QStringList& switchboard) {
        QString text = QStringLiteral(
                           "%1: Kamailio pua_dialoginfo sent %2 PUBLISHes, "
                           "Switchboard (compat = kamailio) %3\n")
                           .arg(entity)
                           .arg(kamailio.size())
                           .arg(switchboard.size());
        for (qsizetype i = 0; i < std::max(kamailio.size(), switchboard.size()); ++i) {
            const QString k = kamailio.value(i, QStringLiteral("(none)"));
            const QString s = switchboard.value(i, QStringLiteral("(none)"));
            text += QStringLiteral("=== #%1 %2\n--- Kamailio:\n%3\n")
                        .arg(i + 1)
                        .arg(k == s ? QStringLiteral("same") : QStringLiteral("DIFFERENT"), k);
            if (k != s) text += QStringLiteral("--- Switchboard:\n%1\n").arg(s);
        }
        return text;
    }

    void compareFlow(const Flow& flow) {
        const Run kamailio = runFlow(flow, m_kamailioSide);
        if (QTest::currentTestFailed()) return;
        const Run switchboard = runFlow(flow, m_switchboardSide);
        if (QTest::currentTestFailed()) return;

        for (const QString& ext : {kCaller, kCallee}) {
            const QString entity = entityOf(ext);
            const std::vector<Publish>& k = kamailio.byEntity.at(entity);
            const std::vector<Publish>& s = switchboard.byEntity.at(entity);
            QSet<QByteArray> kamailioIds;
            QSet<QByteArray> switchboardIds;
            const QStringList kSequence = describedSequence(k, kamailio.ids, &kamailioIds);
            const QStringList sSequence = describedSequence(s, switchboard.ids, &switchboardIds);
            const QString both = sideBySide(entity, kSequence, sSequence);
            qInfo().noquote() << both;
            SB_VERIFY(kSequence == sSequence, both);

            // One publication per (call, entity): its dialog id never changes.
            SB_VERIFY(kamailioIds.size() == 1 && !kamailioIds.begin()->isEmpty(), both);
            SB_VERIFY(switchboardIds.size() == 1 && !switchboardIds.begin()->isEmpty(), both);

            // Expires as asked for (Kamailio's minus pua's extra second), the end and the
            // live states apart.
            QList<int> kEnd, sEnd, kLive, sLive;
            for (const Publish& p : k)
                (isEnd(p) ? kEnd : kLive) << (p.expires > 0 ? p.expires - 1 : p.expires);
            for (const Publish& p : s)
                (isEnd(p) ? sEnd : sLive) << p.expires;
            qInfo(
                "%s Expires asked for, live: Kamailio %s, Switchboard %s; end: Kamailio %s, "
                "Switchboard %s",
                qPrintable(entity), qPrintable(numbers(kLive)), qPrintable(numbers(sLive)),
                qPrintable(numbers(kEnd)), qPrintable(numbers(sEnd)));
            QCOMPARE(sEnd, kEnd);
            QVERIFY(!kLive.isEmpty());
            // [publish] lifetime = 0: the call's own lifetime ([server] dialog_lifetime,
            // 43200 s by default), as pua_dialoginfo asks the dialog's with
            // override_lifetime = 0 (dialog default_timeout, 43200 s).
            QCOMPARE(sLive, kLive);
        }
    }

    static QString numbers(const QList<int>& values) {
        QStringList out;
        for (int value : values)
            out << QString::number(value);
        return out.join(QLatin1Char(','));
    }

private slots:
    void initTestCase() {
        for (const QString& ext : {kCaller, kCallee})
            m_phonePort.insert(ext, sb::itest::freePort());

        // Kamailio and its capture.
        auto started = startCapture(m_kamailioCapture);
        SB_VERIFY(started, errorOf(started));
        KamailioInstance::Options options;
        options.config = file("kamailio_pua_defaults.cfg");
        options.auth = false;
        options.domain = kDomain;
        options.substitutions.emplace_back(
            QStringLiteral("SBPUAPROXY"),
            QStringLiteral("sip:127.0.0.1:%1").arg(m_kamailioCapture.port()));
        started = m_kamailio.start(options);
        SB_VERIFY(started, errorOf(started));
        m_kamailioSide = Side{
            QStringLiteral("Kamailio"), QStringLiteral("127.0.0.1:%1").arg(m_kamailio.port()),
            &m_kamailioCapture,
            [this] {
                return QStringLiteral("Kamailio log (end):\n") + m_kamailio.logText().right(4000);
            },
            [this]() -> std::optional<QString> {
                if (m_kamailio.isRunning()) return std::nullopt;
                return QStringLiteral("Kamailio has EXITED");
            }};

        // Switchboard's built-in server and its capture; its users 201 and 202 (requests
        // from loopback are trusted: no challenge, as at this Kamailio).
        started = startCapture(m_switchboardCapture);
        SB_VERIFY(started, errorOf(started));
        bool running = false;
        QString failure;
        for (int attempt = 0; attempt < 3 && !running; ++attempt) {
            m_switchboardPort = sb::itest::freePort();
            started =
                m_switchboard.writeConfig(ini(m_switchboardPort, m_switchboardCapture.port()));
            for (const QString& ext : {kCaller, kCallee}) {
                if (started) started = m_switchboard.addUser(ext, "pw-" + ext.toUtf8());
            }
            if (started) started = m_switchboard.launch();
            running = bool(started);
            if (!started) failure = started.error().reason;
        }
        SB_VERIFY(running, failure);
        m_switchboardSide = Side{
            QStringLiteral("Switchboard"), QStringLiteral("127.0.0.1:%1").arg(m_switchboardPort),
            &m_switchboardCapture, [this] { return m_switchboard.diagnostics(); },
            [this]() -> std::optional<QString> {
                const std::optional<int> exited = m_switchboard.waitForExit(0ms);
                if (!exited) return std::nullopt;
                if (*exited < 0) return QStringLiteral("Switchboard CRASHED");
                return QStringLiteral("Switchboard has EXITED (status %1)").arg(*exited);
            }};

        // The same two phones (ports) registered at both.
        for (const Side* side : {&m_kamailioSide, &m_switchboardSide}) {
            for (const QString& ext : {kCaller, kCallee}) {
                registerPhone(ext, side->address);
                if (QTest::currentTestFailed()) return;
            }
        }
    }

    void cleanupTestCase() {
        m_kamailio.stop();
        if (m_switchboard.waitForExit(0ms) == std::nullopt) {
            m_switchboard.send(QJsonObject{{QStringLiteral("cmd"), QStringLiteral("quit")}});
            m_switchboard.waitForExit(10s);
        }
        m_switchboard.stop();
        m_kamailioCapture.stop();
        m_switchboardCapture.stop();
    }

    // Rings, answered, the caller hangs up: caller Trying, early, confirmed, terminated;
    // callee early, confirmed, terminated.
    void answeredThenBye() { compareFlow(Flow{"uac_call.xml", "uas_answer.xml", 200}); }

    // Rings, the caller cancels (487): caller Trying, early, terminated; callee early,
    // terminated.
    void cancelledWhileRinging() {
        compareFlow(Flow{"uac_cancel.xml", "uas_ring_cancelled.xml", 487});
    }

    // Rings, the callee is busy (486): as cancelled.
    void busy() { compareFlow(Flow{"uac_call.xml", "uas_busy.xml", 486}); }
};

QTEST_GUILESS_MAIN(TstPublishEquivalence)
#include "tst_publish_equivalence.moc"
