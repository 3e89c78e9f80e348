// The built-in SIP server (issue 4) as phones meet it: `switchboard --headless` in
// server mode (no [account]) with users 201-204 provisioned by `--add-user` (HA1 only)
// and `trust_loopback = false`, so that every request from these 127.0.0.1 phones goes
// through digest authentication (RFC 3261 §22, RFC 7616; sipp answers MD5, the first
// challenge). sipp plays the phones (scenarios in this folder): they register, call each
// other through the proxy, cancel, are busy, fork to two contacts, watch a user's
// dialogs (RFC 4235 NOTIFY bodies validated against the schema) and PUBLISH dialog state
// (RFC 3903). Raw UDP and TCP sockets send bad input; then Switchboard restarts on the
// same files and must still know the bindings.
//
// One Switchboard serves every test function, in declaration order: each one leaves
// 201 and 202 registered with one contact and every lamp idle (or offline for users
// without a binding). Lamp events may repeat with the same lamp (the dialogs changed),
// so sequences are compared with repeats folded. No timing is asserted: every wait is
// bounded only to end a broken run.

#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QSet>
#include <QTcpSocket>
#include <QTest>
#include <QUdpSocket>

#include "dialog_info_schema.h"
#include "free_port.h"
#include "kamailio_instance.h"
#include "logged_message.h"
#include "sipp_process.h"
#include "switchboard_process.h"
#include "verify.h"

using namespace std::chrono_literals;
using sb::Result;
using sb::itest::countResponses;
using sb::itest::errorOf;
using sb::itest::LoggedMessage;
using sb::itest::loggedMessages;
using sb::itest::SippProcess;
using sb::itest::SwitchboardProcess;

namespace {

const QString kDomain = QStringLiteral("switchboard.local");
const QStringList kUsers = {QStringLiteral("201"), QStringLiteral("202"), QStringLiteral("203"),
                            QStringLiteral("204")};

QString passwordOf(const QString& user) {
    return QStringLiteral("pw-") + user;
}

QString scenario(const char* file) {
    return QStringLiteral(SB_SERVER_SCENARIOS "/") + QLatin1String(file);
}

QString str(const QJsonObject& o, const char* key) {
    return o.value(QLatin1String(key)).toString();
}

QString compact(const QJsonObject& o) {
    return QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact));
}

// sipp's arguments that answer a challenge as `user` (its digest uri: the domain).
QStringList credentials(const QString& user, const QString& password) {
    return {QStringLiteral("-au"),       user,   QStringLiteral("-ap"), password,
            QStringLiteral("-auth_uri"), kDomain};
}

// A request written by hand, as a broken or hostile client sends it: the lines of the
// header section as given, then Content-Length (the body's size unless `declaredLength`
// says otherwise) and the body.
QByteArray handMade(const QList<QByteArray>& lines, const QByteArray& body = {},
                    std::optional<qsizetype> declaredLength = std::nullopt) {
    QByteArray out = lines.join("\r\n");
    out += "\r\nContent-Length: " + QByteArray::number(declaredLength.value_or(body.size()));
    out += "\r\n\r\n" + body;
    return out;
}

QByteArray token() {
    return QByteArray::number(QRandomGenerator::global()->generate64(), 36);
}

// The status code of a response's start line ("SIP/2.0 481 ..."), 0 when it is none.
int statusOf(const QByteArray& response) {
    static const QRegularExpression re(QStringLiteral("^SIP/2\\.0 (\\d{3}) "));
    const QRegularExpressionMatch match = re.match(QString::fromUtf8(response.left(64)));
    return match.hasMatch() ? match.captured(1).toInt() : 0;
}

QString reasonOf(const QByteArray& response) {
    const QString line = QString::fromUtf8(response.left(response.indexOf('\r')));
    return line.section(QLatin1Char(' '), 2);
}

// A client socket on 127.0.0.1 that sends hand-made requests over UDP.
class UdpClient {
public:
    UdpClient() { m_socket.bind(QHostAddress::LocalHost, 0); }
    quint16 port() const { return m_socket.localPort(); }
    void send(const QByteArray& datagram, quint16 serverPort) {
        m_socket.writeDatagram(datagram, QHostAddress::LocalHost, serverPort);
    }
    // The next datagram, or nullopt when none came within `limit`.
    std::optional<QByteArray> receive(std::chrono::milliseconds limit) {
        const QDeadlineTimer deadline(limit);
        while (!m_socket.hasPendingDatagrams()) {
            if (deadline.hasExpired()) return std::nullopt;
            m_socket.waitForReadyRead(int(std::max<qint64>(1, deadline.remainingTime())));
        }
        QByteArray datagram(qsizetype(m_socket.pendingDatagramSize()), '\0');
        m_socket.readDatagram(datagram.data(), datagram.size());
        return datagram;
    }

private:
    QUdpSocket m_socket;
};

// Reads one SIP message (header section and Content-Length body) from a stream, or
// nullopt when the connection closed or nothing complete came within `limit`.
std::optional<QByteArray> readStreamMessage(QTcpSocket& socket, QByteArray& buffer,
                                            std::chrono::milliseconds limit) {
    const QDeadlineTimer deadline(limit);
    for (;;) {
        const qsizetype headEnd = buffer.indexOf("\r\n\r\n");
        if (headEnd >= 0) {
            static const QRegularExpression length(
                QStringLiteral("^(Content-Length|l)[ \\t]*:[ \\t]*(\\d+)"),
                QRegularExpression::CaseInsensitiveOption | QRegularExpression::MultilineOption);
            const QRegularExpressionMatch match =
                length.match(QString::fromUtf8(buffer.left(headEnd)));
            const qsizetype total =
                headEnd + 4 + (match.hasMatch() ? match.captured(2).toInt() : 0);
            if (buffer.size() >= total) {
                const QByteArray message = buffer.left(total);
                buffer.remove(0, total);
                return message;
            }
        }
        if (deadline.hasExpired() || socket.state() != QAbstractSocket::ConnectedState)
            return std::nullopt;
        socket.waitForReadyRead(int(std::max<qint64>(1, deadline.remainingTime())));
        buffer += socket.readAll();
    }
}

// Waits until the peer closed `socket` (bounded); reads away whatever came before.
bool waitForClose(QTcpSocket& socket, QByteArray& received, std::chrono::milliseconds limit) {
    const QDeadlineTimer deadline(limit);
    while (socket.state() == QAbstractSocket::ConnectedState && !deadline.hasExpired()) {
        socket.waitForReadyRead(int(std::min<qint64>(200, deadline.remainingTime() + 1)));
        received += socket.readAll();
    }
    received += socket.readAll();
    return socket.state() != QAbstractSocket::ConnectedState;
}

}  // namespace

class TstBuiltinServer : public QObject {
    Q_OBJECT

private:
    SwitchboardProcess m_switchboard;
    // The presence server Switchboard publishes every call's dialog-info to ([publish],
    // issue 6): a Kamailio with presence + presence_dialoginfo, no authentication.
    sb::itest::KamailioInstance m_presence;
    quint16 m_port = 0;
    // Each phone's own port: its Contact. "202b" is 202's second phone (forking).
    QHash<QString, quint16> m_phonePort;
    // Index into m_switchboard.events() where the current test began.
    std::size_t m_mark = 0;
    int m_snapshots = 0;
    // A TCP connection left with an incomplete message (Content-Length larger than the
    // body) from the start, so that the server's incomplete-message timeout runs while
    // the other tests do; badInputKeepsServing() checks that it was closed.
    QTcpSocket m_stalled;
    QByteArray m_stalledReceived;
    QElapsedTimer m_stalledSince;

    QString proxy() const { return QStringLiteral("127.0.0.1:%1").arg(m_port); }
    QString diagnostics() const { return m_switchboard.diagnostics(); }

    QString ini() const {
        return QStringLiteral(
                   "[sip]\nlisten = udp:127.0.0.1:%1, tcp:127.0.0.1:%1\n"
                   "[server]\ndomain = %2\n"
                   "trust_loopback = false\n"
                   "[publish]\nenabled = true\nserver = 127.0.0.1:%3\n"
                   "[monitor]\n201 = Alice\n202 = Bob\n203 = Carol\n")
            .arg(m_port)
            .arg(kDomain)
            .arg(m_presence.port());
    }

    void mark() { m_mark = m_switchboard.events().size(); }

    bool waitFor(const std::function<bool()>& condition, std::chrono::milliseconds limit) {
        return QTest::qWaitFor(condition, static_cast<int>(limit.count()));
    }

    // Events of one kind since the mark, with a field equal to a value.
    std::vector<QJsonObject> eventsSince(std::size_t from, const QString& event, const char* key,
                                         const QString& value) const {
        std::vector<QJsonObject> out;
        const auto& events = m_switchboard.events();
        for (std::size_t i = from; i < events.size(); ++i) {
            if (str(events[i], "event") == event && str(events[i], key) == value)
                out.push_back(events[i]);
        }
        return out;
    }

    std::vector<QJsonObject> lampEvents(const QString& ext) const {
        return eventsSince(m_mark, QStringLiteral("lamp"), "extension", ext);
    }
    std::vector<QJsonObject> bindingEvents(const QString& user) const {
        return eventsSince(m_mark, QStringLiteral("binding"), "user", user);
    }

    // Lamps of `ext` since the mark, repeats folded, leading `idle`s dropped (a lamp
    // event may come for a dialog that does not change the lamp yet, e.g. trying).
    QStringList lampSequence(const QString& ext) const {
        QStringList out;
        for (const QJsonObject& event : lampEvents(ext)) {
            const QString lamp = str(event, "lamp");
            if (out.isEmpty() && lamp == QLatin1String("idle")) continue;
            if (out.isEmpty() || out.last() != lamp) out << lamp;
        }
        return out;
    }

    // The latest event of a kind for `ext` among all events so far.
    QJsonObject latest(const QString& event, const char* key, const QString& value) const {
        const auto& events = m_switchboard.events();
        for (auto it = events.rbegin(); it != events.rend(); ++it) {
            if (str(*it, "event") == event && str(*it, key) == value) return *it;
        }
        return {};
    }
    QString currentLamp(const QString& ext) const {
        return str(latest(QStringLiteral("lamp"), "extension", ext), "lamp");
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
        SB_VERIFY(lampSequence(ext) == expected,
                  QStringLiteral("%1: lamps %2, expected %3\n%4")
                      .arg(ext, lampSequence(ext).join(QStringLiteral("→")),
                           expected.join(QStringLiteral("→")), diagnostics()));
    }

    // The first lamp event of `ext` since the mark with lamp `lamp`: its other party and
    // the direction of its dialogs.
    void expectParty(const QString& ext, const QString& lamp, const QString& otherExt,
                     const QString& direction) {
        std::optional<QJsonObject> event;
        for (const QJsonObject& e : lampEvents(ext)) {
            if (str(e, "lamp") == lamp) {
                event = e;
                break;
            }
        }
        SB_VERIFY(event, QStringLiteral("no %1 lamp for %2").arg(lamp, ext));
        const QJsonObject other = event->value(QStringLiteral("other")).toObject();
        SB_VERIFY(str(other, "uri").contains(otherExt + QLatin1Char('@')),
                  QStringLiteral("%1 %2: other party in %3, expected %4")
                      .arg(ext, lamp, compact(*event), otherExt));
        bool found = false;
        for (const QJsonValue& dialog : event->value(QStringLiteral("dialogs")).toArray())
            found |= str(dialog.toObject(), "direction") == direction;
        SB_VERIFY(
            found,
            QStringLiteral("%1 %2: no %3 dialog in %4").arg(ext, lamp, direction, compact(*event)));
    }

    // Every event Switchboard wrote before this call is in: the answer to a snapshot
    // command comes after them (one output stream, in order). Returns the snapshot.
    QJsonObject snapshot() {
        const QString id = QStringLiteral("snap-%1").arg(++m_snapshots);
        m_switchboard.send(QJsonObject{{QStringLiteral("cmd"), QStringLiteral("snapshot")},
                                       {QStringLiteral("id"), id}});
        const auto answer = m_switchboard.waitForEvent(
            [&id](const QJsonObject& o) {
                return str(o, "event") == QLatin1String("snapshot") && str(o, "id") == id;
            },
            10s);
        return answer.value_or(QJsonObject{});
    }

    // How many requests of `method` with Call-ID `callId` Switchboard sent (its SIP
    // trace: "<time> SENT|RECV <transport> <from> -> <to>", the message, "----").
    int sentRequests(const QString& method, const QString& callId) const {
        int found = 0;
        for (const LoggedMessage& m : sb::itest::sipTraceMessages(m_switchboard.sipTrace())) {
            if (!m.received && m.startLine().startsWith(method + QLatin1Char(' ')) &&
                m.text.contains(callId))
                ++found;
        }
        return found;
    }

    static QJsonObject extensionIn(const QJsonObject& snapshot, const QString& ext) {
        for (const QJsonValue& value : snapshot.value(QStringLiteral("extensions")).toArray())
            if (str(value.toObject(), "extension") == ext) return value.toObject();
        return {};
    }

    QString contactOf(const QString& user, const QString& phone) const {
        return QStringLiteral("sip:%1@127.0.0.1:%2").arg(user).arg(m_phonePort.value(phone));
    }

    // The contacts of `user` in a binding event.
    static QStringList contactsIn(const QJsonObject& binding) {
        QStringList out;
        for (const QJsonValue& value : binding.value(QStringLiteral("contacts")).toArray())
            out << str(value.toObject(), "contact");
        return out;
    }

    // Waits for a binding event of `user` since the mark whose contacts are exactly
    // `contacts` (in any order).
    bool waitForBindings(const QString& user, QStringList contacts) {
        contacts.sort();
        return waitFor(
            [&] {
                for (const QJsonObject& event : bindingEvents(user)) {
                    QStringList listed = contactsIn(event);
                    listed.sort();
                    if (listed == contacts &&
                        event.value(QStringLiteral("registered")).toBool() == !contacts.isEmpty())
                        return true;
                }
                return false;
            },
            15s);
    }

    QString sippFailure(const char* who, const SippProcess& sipp) const {
        return QStringLiteral("sipp (%1) output:\n%2\nsipp messages (end):\n%3\n%4")
            .arg(QLatin1String(who), sipp.output(), sipp.messages().right(12000), diagnostics());
    }

    // A phone (`phone`: "201", "202b") of `user` that registers its Contact with digest.
    Result<void> startRegister(SippProcess& sipp, const QString& user, const QString& phone,
                               const char* file = "phone_register_auth.xml") {
        SippProcess::Options options;
        options.scenario = scenario(file);
        options.localPort = m_phonePort.value(phone);
        options.remote = proxy();
        options.timeout = 10s;
        options.extraArguments = QStringList{QStringLiteral("-s"), user, QStringLiteral("-set"),
                                             QStringLiteral("domain"), kDomain} +
                                 credentials(user, passwordOf(user));
        return sipp.start(options);
    }

    // A phone answering calls (uas_*.xml) on its registered port.
    Result<void> startCallee(SippProcess& sipp, const QString& user, const QString& phone,
                             const char* file) {
        SippProcess::Options options;
        options.scenario = scenario(file);
        options.localPort = m_phonePort.value(phone);
        options.timeout = 30s;
        options.extraArguments = {QStringLiteral("-set"), QStringLiteral("me"), user};
        return sipp.start(options);
    }

    // A phone calling another (uac_*.xml) from its registered port, talking `talkMs`
    // when answered.
    Result<void> startCaller(SippProcess& sipp, const QString& caller, const QString& callee,
                             const char* file, int talkMs = 1000) {
        SippProcess::Options options;
        options.scenario = scenario(file);
        options.localPort = m_phonePort.value(caller);
        options.remote = proxy();
        options.timeout = 30s;
        options.extraArguments =
            QStringList{QStringLiteral("-s"),     callee,  QStringLiteral("-set"),
                        QStringLiteral("me"),     caller,  QStringLiteral("-set"),
                        QStringLiteral("domain"), kDomain, QStringLiteral("-d"),
                        QString::number(talkMs)} +
            credentials(caller, passwordOf(caller));
        return sipp.start(options);
    }

    // 203 watches 202's dialogs at `server` (watcher_dialog.xml): counts the first NOTIFY,
    // stays 8 s (answering every NOTIFY), then unsubscribes.
    Result<void> startWatcher(SippProcess& sipp, const QString& server, const QStringList& auth) {
        SippProcess::Options options;
        options.scenario = scenario("watcher_dialog.xml");
        options.remote = server;
        options.timeout = 30s;
        options.extraArguments = QStringList{QStringLiteral("-s"),     QStringLiteral("202"),
                                             QStringLiteral("-set"),   QStringLiteral("me"),
                                             QStringLiteral("203"),    QStringLiteral("-set"),
                                             QStringLiteral("domain"), kDomain,
                                             QStringLiteral("-set"),   QStringLiteral("notifies"),
                                             QStringLiteral("1"),      QStringLiteral("-aa"),
                                             QStringLiteral("-d"),     QStringLiteral("8000")} +
                                 auth;
        return sipp.start(options);
    }

    // 201 calls 202 (uas_answer on 202's one phone): rings, answered, 201 hangs up; the
    // lamp sequence of both.
    void answeredCall() {
        SippProcess uas;
        SippProcess uac;
        const auto started =
            startCallee(uas, QStringLiteral("202"), QStringLiteral("202"), "uas_answer.xml");
        SB_VERIFY(started, errorOf(started));
        const auto calling =
            startCaller(uac, QStringLiteral("201"), QStringLiteral("202"), "uac_call.xml");
        SB_VERIFY(calling, errorOf(calling));
        SB_VERIFY(uac.waitForFinished(40s) == 0, sippFailure("caller", uac));
        SB_VERIFY(uas.waitForFinished(10s) == 0, sippFailure("callee", uas));
        // RFC 3261 §22.3: the INVITE was challenged (407) and the answer admitted; the
        // callee rang (180 relayed), answered (200 relayed) and got the BYE.
        SB_VERIFY(countResponses(uac, 407, QStringLiteral("INVITE")) >= 1,
                  sippFailure("caller", uac));
        SB_VERIFY(countResponses(uac, 180, QStringLiteral("INVITE")) >= 1,
                  sippFailure("caller", uac));
        SB_VERIFY(countResponses(uac, 200, QStringLiteral("INVITE")) >= 1,
                  sippFailure("caller", uac));
        SB_VERIFY(countResponses(uac, 200, QStringLiteral("BYE")) == 1, sippFailure("caller", uac));
        QVERIFY(uas.countReceived(QStringLiteral("BYE")) >= 1);
        // The BYE went through Switchboard (Record-Route), as its trace shows.
        QString callId;
        for (const LoggedMessage& m : loggedMessages(uac))
            if (!m.received && callId.isEmpty()) callId = m.header(QStringLiteral("Call-ID"));
        SB_VERIFY(!callId.isEmpty() && sentRequests(QStringLiteral("BYE"), callId) >= 1,
                  diagnostics());

        expectLamps(QStringLiteral("201"),
                    {QStringLiteral("calling"), QStringLiteral("busy"), QStringLiteral("idle")});
        if (QTest::currentTestFailed()) return;
        expectLamps(QStringLiteral("202"),
                    {QStringLiteral("ringing"), QStringLiteral("busy"), QStringLiteral("idle")});
        if (QTest::currentTestFailed()) return;
        expectParty(QStringLiteral("201"), QStringLiteral("calling"), QStringLiteral("202"),
                    QStringLiteral("initiator"));
        expectParty(QStringLiteral("201"), QStringLiteral("busy"), QStringLiteral("202"),
                    QStringLiteral("initiator"));
        expectParty(QStringLiteral("202"), QStringLiteral("ringing"), QStringLiteral("201"),
                    QStringLiteral("recipient"));
        expectParty(QStringLiteral("202"), QStringLiteral("busy"), QStringLiteral("201"),
                    QStringLiteral("recipient"));
    }

    // Before each scenario: every lamp of a registered user idle, then a new mark.
    void settle() {
        SB_VERIFY(waitFor(
                      [this] {
                          return currentLamp(QStringLiteral("201")) == QLatin1String("idle") &&
                                 currentLamp(QStringLiteral("202")) == QLatin1String("idle");
                      },
                      20s),
                  diagnostics());
        mark();
    }

private slots:
    void initTestCase() {
        sb::itest::KamailioInstance::Options presence;
        presence.config = QStringLiteral("presence.cfg");
        presence.auth = false;
        presence.domain = kDomain;
        const auto presenceUp = m_presence.start(presence);
        SB_VERIFY(presenceUp, errorOf(presenceUp));
        m_port = sb::itest::freePort();
        for (const QString& phone :
             {QStringLiteral("201"), QStringLiteral("202"), QStringLiteral("202b")})
            m_phonePort.insert(phone, sb::itest::freePort());

        auto done = m_switchboard.writeConfig(ini());
        SB_VERIFY(done, errorOf(done));
        for (const QString& user : kUsers) {
            done = m_switchboard.addUser(user, passwordOf(user).toUtf8());
            SB_VERIFY(done, errorOf(done));
        }
        done = m_switchboard.launch();
        SB_VERIFY(done, errorOf(done));

        // Server mode (no [account]), on the primary domain, on the listen addresses.
        const QJsonObject started = m_switchboard.events().front();
        QCOMPARE(str(started, "event"), QStringLiteral("started"));
        QCOMPARE(str(started, "mode"), QStringLiteral("server"));
        QCOMPARE(str(started, "domain"), kDomain);
        const QJsonArray listen = started.value(QStringLiteral("listen")).toArray();
        SB_VERIFY(listen.contains(QStringLiteral("udp:127.0.0.1:%1").arg(m_port)) &&
                      listen.contains(QStringLiteral("tcp:127.0.0.1:%1").arg(m_port)),
                  compact(started));

        // The board shows every user, 204 too (in [users], not in [monitor]); nobody is
        // registered yet: unavailable, lamp offline.
        const QJsonObject board = snapshot();
        for (const QString& user : kUsers) {
            const QJsonObject ext = extensionIn(board, user);
            SB_VERIFY(!ext.isEmpty(), compact(board));
            QCOMPARE(str(ext, "lamp"), QStringLiteral("offline"));
            QCOMPARE(str(ext, "subscription"), QStringLiteral("unavailable"));
        }
        QCOMPARE(str(extensionIn(board, QStringLiteral("201")), "name"), QStringLiteral("Alice"));
        const QJsonObject why =
            latest(QStringLiteral("subscription"), "extension", QStringLiteral("203"));
        QCOMPARE(str(why, "reason"), QStringLiteral("not registered"));

        // The stalled connection: a request that announces 100 bytes of body and sends 10.
        m_stalled.connectToHost(QHostAddress::LocalHost, m_port);
        SB_VERIFY(m_stalled.waitForConnected(5000), m_stalled.errorString());
        m_stalled.write(
            handMade({"OPTIONS sip:" + kDomain.toUtf8() + " SIP/2.0",
                      "Via: SIP/2.0/TCP 127.0.0.1:" + QByteArray::number(m_stalled.localPort()) +
                          ";branch=z9hG4bK-stalled-" + token(),
                      "From: <sip:stalled@" + kDomain.toUtf8() + ">;tag=" + token(),
                      "To: <sip:" + kDomain.toUtf8() + ">", "Call-ID: stalled-" + token(),
                      "CSeq: 1 OPTIONS", "Max-Forwards: 70", "Content-Type: text/plain"},
                     "0123456789", 100));
        QVERIFY(m_stalled.waitForBytesWritten(5000));
        m_stalledSince.start();
    }

    void cleanupTestCase() {
        m_stalled.abort();
        if (m_switchboard.waitForExit(0ms) == std::nullopt) {
            m_switchboard.send(QJsonObject{{QStringLiteral("cmd"), QStringLiteral("quit")}});
            m_switchboard.waitForExit(10s);
        }
        m_switchboard.stop();
    }

    // RFC 3261 §10.3, §22.4: 201 and 202 register their phones; REGISTER is challenged
    // (401), the answer admitted, the binding reported and the lamp turns idle.
    void registerWithDigest() {
        mark();
        for (const QString& user : {QStringLiteral("201"), QStringLiteral("202")}) {
            SippProcess sipp;
            const auto started = startRegister(sipp, user, user);
            SB_VERIFY(started, errorOf(started));
            SB_VERIFY(sipp.waitForFinished(20s) == 0, sippFailure("register", sipp));
            SB_VERIFY(countResponses(sipp, 401, QStringLiteral("REGISTER")) == 1,
                      sippFailure("register", sipp));
            SB_VERIFY(countResponses(sipp, 200, QStringLiteral("REGISTER")) == 1,
                      sippFailure("register", sipp));
            // Only MD5 and SHA-256 challenges, MD5 first (sipp answers the first).
            for (const LoggedMessage& m : loggedMessages(sipp)) {
                if (m.received && m.startLine().startsWith(QStringLiteral("SIP/2.0 401")))
                    SB_VERIFY(m.header(QStringLiteral("WWW-Authenticate"))
                                  .contains(QStringLiteral("algorithm=MD5")),
                              m.text);
            }

            SB_VERIFY(waitForBindings(user, {contactOf(user, user)}), diagnostics());
            const QJsonObject binding = bindingEvents(user).back();
            const QJsonObject contact =
                binding.value(QStringLiteral("contacts")).toArray().first().toObject();
            QCOMPARE(str(contact, "user_agent"), QStringLiteral("sipp-phone"));
            SB_VERIFY(str(contact, "source").contains(QString::number(m_phonePort.value(user))),
                      compact(binding));
            const int expires = contact.value(QStringLiteral("expires")).toInt();
            SB_VERIFY(expires > 3500 && expires <= 3600, compact(binding));

            // Registered: the "subscription" is active and the lamp idle, not offline.
            SB_VERIFY(waitFor([&] { return currentLamp(user) == QLatin1String("idle"); }, 10s),
                      diagnostics());
            const QJsonObject state = latest(QStringLiteral("subscription"), "extension", user);
            QCOMPARE(str(state, "state"), QStringLiteral("active"));
            QCOMPARE(str(state, "reason"), QStringLiteral("registered"));
        }
    }

    // A wrong password: challenged, the answer refused, no binding.
    void wrongPasswordRefused() {
        mark();
        SippProcess sipp;
        SippProcess::Options options;
        options.scenario = scenario("register_wrong.xml");
        options.remote = proxy();
        options.timeout = 10s;
        options.extraArguments =
            QStringList{QStringLiteral("-s"), QStringLiteral("203"), QStringLiteral("-set"),
                        QStringLiteral("domain"), kDomain} +
            credentials(QStringLiteral("203"), QStringLiteral("not-it"));
        const auto started = sipp.start(options);
        SB_VERIFY(started, errorOf(started));
        SB_VERIFY(sipp.waitForFinished(20s) == 0, sippFailure("register", sipp));
        // The challenge, then the refusal of the answer: a fresh 401 (RFC 3261 §22.4) or
        // 403; never a 200.
        SB_VERIFY(countResponses(sipp, 401, QStringLiteral("REGISTER")) +
                          countResponses(sipp, 403, QStringLiteral("REGISTER")) ==
                      2,
                  sippFailure("register", sipp));
        QCOMPARE(countResponses(sipp, 200, QStringLiteral("REGISTER")), 0);
        for (const LoggedMessage& m : loggedMessages(sipp))
            if (m.received) qInfo("%s", qPrintable(m.startLine()));

        const QJsonObject board = snapshot();
        SB_VERIFY(bindingEvents(QStringLiteral("203")).empty(), diagnostics());
        QCOMPARE(str(extensionIn(board, QStringLiteral("203")), "lamp"), QStringLiteral("offline"));
    }

    // RFC 3261 §10.3 step 3: 201's valid credentials do not register 202's AoR.
    void otherUsersAorRefused() {
        mark();
        SippProcess sipp;
        SippProcess::Options options;
        options.scenario = scenario("register_wrong.xml");
        options.remote = proxy();
        options.timeout = 10s;
        options.extraArguments =
            QStringList{QStringLiteral("-s"), QStringLiteral("202"), QStringLiteral("-set"),
                        QStringLiteral("domain"), kDomain} +
            credentials(QStringLiteral("201"), passwordOf("201"));
        const auto started = sipp.start(options);
        SB_VERIFY(started, errorOf(started));
        SB_VERIFY(sipp.waitForFinished(20s) == 0, sippFailure("register", sipp));
        SB_VERIFY(countResponses(sipp, 403, QStringLiteral("REGISTER")) == 1,
                  sippFailure("register", sipp));
        QCOMPARE(countResponses(sipp, 200, QStringLiteral("REGISTER")), 0);
        for (const LoggedMessage& m : loggedMessages(sipp))
            if (m.received) qInfo("%s", qPrintable(m.startLine()));

        // 202 keeps its one binding; nothing changed.
        const QJsonObject board = snapshot();
        SB_VERIFY(bindingEvents(QStringLiteral("202")).empty(), diagnostics());
        QCOMPARE(str(extensionIn(board, QStringLiteral("202")), "lamp"), QStringLiteral("idle"));
    }

    void callAnsweredAndHungUp() {
        settle();
        answeredCall();
    }

    // 201 gives up while 202 rings: CANCEL forwarded, 487 back to 201 (RFC 3261 §16.10).
    void callCancelledByCaller() {
        settle();
        SippProcess uas;
        SippProcess uac;
        const auto started = startCallee(uas, QStringLiteral("202"), QStringLiteral("202"),
                                         "uas_ring_cancelled.xml");
        SB_VERIFY(started, errorOf(started));
        const auto calling =
            startCaller(uac, QStringLiteral("201"), QStringLiteral("202"), "uac_cancel.xml");
        SB_VERIFY(calling, errorOf(calling));
        SB_VERIFY(uac.waitForFinished(40s) == 0, sippFailure("caller", uac));
        SB_VERIFY(uas.waitForFinished(10s) == 0, sippFailure("callee", uas));
        SB_VERIFY(countResponses(uac, 487, QStringLiteral("INVITE")) >= 1,
                  sippFailure("caller", uac));
        SB_VERIFY(countResponses(uac, 200, QStringLiteral("CANCEL")) >= 1,
                  sippFailure("caller", uac));
        QVERIFY(uas.countReceived(QStringLiteral("CANCEL")) >= 1);

        expectLamps(QStringLiteral("201"), {QStringLiteral("calling"), QStringLiteral("idle")});
        expectLamps(QStringLiteral("202"), {QStringLiteral("ringing"), QStringLiteral("idle")});
        expectParty(QStringLiteral("202"), QStringLiteral("ringing"), QStringLiteral("201"),
                    QStringLiteral("recipient"));
    }

    // 202 refuses: 486 relayed to 201 (RFC 3261 §16.7 step 6), both lamps idle again.
    void callRefusedBusy() {
        settle();
        SippProcess uas;
        SippProcess uac;
        const auto started =
            startCallee(uas, QStringLiteral("202"), QStringLiteral("202"), "uas_busy.xml");
        SB_VERIFY(started, errorOf(started));
        const auto calling =
            startCaller(uac, QStringLiteral("201"), QStringLiteral("202"), "uac_call.xml");
        SB_VERIFY(calling, errorOf(calling));
        SB_VERIFY(uac.waitForFinished(40s) == 0, sippFailure("caller", uac));
        SB_VERIFY(uas.waitForFinished(10s) == 0, sippFailure("callee", uas));
        SB_VERIFY(countResponses(uac, 486, QStringLiteral("INVITE")) == 1,
                  sippFailure("caller", uac));
        QCOMPARE(countResponses(uac, 200, QStringLiteral("INVITE")), 0);

        expectLamps(QStringLiteral("201"), {QStringLiteral("calling"), QStringLiteral("idle")});
        expectLamps(QStringLiteral("202"), {QStringLiteral("ringing"), QStringLiteral("idle")});
        expectParty(QStringLiteral("201"), QStringLiteral("calling"), QStringLiteral("202"),
                    QStringLiteral("initiator"));
    }

    // 202 has two phones: the INVITE forks to both (RFC 3261 §16.6), both ring, the
    // first answers and the other branch is cancelled (§16.7 step 10).
    void forkedToTwoContacts() {
        settle();
        {
            SippProcess second;
            const auto started =
                startRegister(second, QStringLiteral("202"), QStringLiteral("202b"));
            SB_VERIFY(started, errorOf(started));
            SB_VERIFY(second.waitForFinished(20s) == 0, sippFailure("register", second));
        }
        SB_VERIFY(waitForBindings(QStringLiteral("202"),
                                  {contactOf(QStringLiteral("202"), QStringLiteral("202")),
                                   contactOf(QStringLiteral("202"), QStringLiteral("202b"))}),
                  diagnostics());
        mark();

        SippProcess answering;
        SippProcess ringing;
        SippProcess uac;
        auto started =
            startCallee(answering, QStringLiteral("202"), QStringLiteral("202"), "uas_answer.xml");
        SB_VERIFY(started, errorOf(started));
        started = startCallee(ringing, QStringLiteral("202"), QStringLiteral("202b"),
                              "uas_ring_cancelled.xml");
        SB_VERIFY(started, errorOf(started));
        started = startCaller(uac, QStringLiteral("201"), QStringLiteral("202"), "uac_call.xml");
        SB_VERIFY(started, errorOf(started));
        SB_VERIFY(uac.waitForFinished(40s) == 0, sippFailure("caller", uac));
        SB_VERIFY(answering.waitForFinished(10s) == 0, sippFailure("answering phone", answering));
        SB_VERIFY(ringing.waitForFinished(10s) == 0, sippFailure("cancelled phone", ringing));
        QVERIFY(answering.countReceived(QStringLiteral("INVITE")) >= 1);
        QVERIFY(ringing.countReceived(QStringLiteral("INVITE")) >= 1);
        QVERIFY(ringing.countReceived(QStringLiteral("CANCEL")) >= 1);
        QVERIFY(ringing.countReceived(QStringLiteral("BYE")) == 0);
        // The caller saw one answer, and no 487 from the cancelled branch (§16.7 step 10:
        // it is absorbed by the proxy).
        QCOMPARE(countResponses(uac, 200, QStringLiteral("INVITE")), 1);
        QCOMPARE(countResponses(uac, 487, QStringLiteral("INVITE")), 0);

        expectLamps(QStringLiteral("202"),
                    {QStringLiteral("ringing"), QStringLiteral("busy"), QStringLiteral("idle")});
        expectLamps(QStringLiteral("201"),
                    {QStringLiteral("calling"), QStringLiteral("busy"), QStringLiteral("idle")});
        // Both phones rang at once: the caller got 180 from two early dialogs (two To
        // tags, RFC 3261 §12.1.2, §16.7 step 5 forwards every provisional response). The
        // board shows one dialog per call and side, the most advanced branch (as
        // pua_dialoginfo does; core/server/dialog_tracker.h), so the lamp cannot tell.
        QSet<QString> ringingTags;
        for (const LoggedMessage& m : loggedMessages(uac)) {
            if (m.received && m.startLine().startsWith(QStringLiteral("SIP/2.0 180 ")))
                ringingTags.insert(
                    m.header(QStringLiteral("To")).section(QStringLiteral("tag="), 1));
        }
        SB_VERIFY(ringingTags.size() == 2, sippFailure("caller", uac));

        // The second phone goes; 202 keeps its first (later tests call it there).
        mark();
        {
            SippProcess second;
            const auto gone = startRegister(second, QStringLiteral("202"), QStringLiteral("202b"),
                                            "phone_unregister.xml");
            SB_VERIFY(gone, errorOf(gone));
            SB_VERIFY(second.waitForFinished(20s) == 0, sippFailure("unregister", second));
        }
        SB_VERIFY(waitForBindings(QStringLiteral("202"),
                                  {contactOf(QStringLiteral("202"), QStringLiteral("202"))}),
                  diagnostics());
    }

    // A watcher (203) subscribed to 202's dialogs (RFC 6665, RFC 4235) during a call to
    // 202: every NOTIFY body is valid against the RFC 4235 schema, versions increase, and
    // the documents follow the call.
    void watcherGetsValidNotifies() {
        settle();
        SippProcess watcher;
        const auto started =
            startWatcher(watcher, proxy(), credentials(QStringLiteral("203"), passwordOf("203")));
        SB_VERIFY(started, errorOf(started));
        // The immediate NOTIFY with the full (idle) state first (RFC 6665 §4.2.1.2).
        SB_VERIFY(
            waitFor([&] { return watcher.countReceived(QStringLiteral("NOTIFY")) >= 1; }, 10s),
            sippFailure("watcher", watcher));

        answeredCall();
        if (QTest::currentTestFailed()) return;
        SB_VERIFY(watcher.waitForFinished(30s) == 0, sippFailure("watcher", watcher));
        SB_VERIFY(countResponses(watcher, 407, QStringLiteral("SUBSCRIBE")) >= 1,
                  sippFailure("watcher", watcher));

        std::vector<LoggedMessage> notifies;
        for (const LoggedMessage& m : loggedMessages(watcher))
            if (m.received && m.startLine().startsWith(QStringLiteral("NOTIFY ")))
                notifies.push_back(m);
        // The first, at least one while it rang or was answered, one when it ended, and
        // the terminated one after the un-SUBSCRIBE.
        SB_VERIFY(notifies.size() >= 4, sippFailure("watcher", watcher));
        qint64 lastVersion = -1;
        QStringList statesSeen;
        for (const LoggedMessage& notify : notifies) {
            QCOMPARE(notify.header(QStringLiteral("Event")), QStringLiteral("dialog"));
            const QString body = notify.body();
            if (body.isEmpty()) {
                // Only the final NOTIFY may come without a document (RFC 6665 §4.2.2).
                SB_VERIFY(&notify == &notifies.back(), notify.text);
                continue;
            }
            QCOMPARE(notify.header(QStringLiteral("Content-Type")),
                     QStringLiteral("application/dialog-info+xml"));
            QString why;
            SB_VERIFY(sb::dialoginfo::test::validatesAgainstDialogInfoSchema(body.toUtf8(), &why),
                      why + QStringLiteral("\n") + body);
            const QRegularExpressionMatch version =
                QRegularExpression(QStringLiteral("<dialog-info[^>]*\\sversion=\"(\\d+)\""))
                    .match(body);
            SB_VERIFY(version.hasMatch(), body);
            const qint64 value = version.captured(1).toLongLong();
            SB_VERIFY(
                value > lastVersion,
                QStringLiteral("version %1 after %2:\n%3").arg(value).arg(lastVersion).arg(body));
            lastVersion = value;
            SB_VERIFY(body.contains(QStringLiteral("entity=\"sip:202@%1\"").arg(kDomain)), body);
            QRegularExpressionMatchIterator it =
                QRegularExpression(QStringLiteral("<state[^>]*>([^<]*)</state>")).globalMatch(body);
            QString states;
            while (it.hasNext())
                states += it.next().captured(1).trimmed().toLower() + QLatin1Char(' ');
            statesSeen << (states.isEmpty() ? QStringLiteral("none") : states.trimmed());
        }
        qInfo("NOTIFY states: %s", qPrintable(statesSeen.join(QStringLiteral(" | "))));
        // The first document: 202 idle (no dialog, or only the previous test's call, which
        // stays terminated for a few seconds as presence's clean_period keeps it).
        static const QRegularExpression idle(QStringLiteral("none|(terminated ?)+"));
        SB_VERIFY(idle.match(statesSeen.first()).capturedLength() == statesSeen.first().size(),
                  notifies.front().text);
        const qsizetype early = statesSeen.indexOf(QRegularExpression(QStringLiteral(".*early.*")));
        const qsizetype confirmed =
            statesSeen.indexOf(QRegularExpression(QStringLiteral(".*confirmed.*")));
        // Then the call ended: a document whose dialogs are all terminated (or none).
        const qsizetype ended = statesSeen.indexOf(idle, confirmed + 1);
        SB_VERIFY(early > 0 && confirmed > early && ended > confirmed,
                  statesSeen.join(QStringLiteral(" | ")));
        // The un-SUBSCRIBE ended it (RFC 6665 §4.1.2.3).
        SB_VERIFY(notifies.back()
                      .header(QStringLiteral("Subscription-State"))
                      .startsWith(QStringLiteral("terminated")),
                  notifies.back().text);
        for (std::size_t i = 0; i + 1 < notifies.size(); ++i)
            SB_VERIFY(notifies[i]
                          .header(QStringLiteral("Subscription-State"))
                          .startsWith(QStringLiteral("active")),
                      notifies[i].text);
    }

    // Issue 6: every side of every call is PUBLISHed to the presence server (Kamailio
    // with presence + presence_dialoginfo, no pua), so that a watcher subscribed THERE
    // sees 202's call ring, be answered and end; Switchboard reports each accepted
    // publication as a "publication" event.
    void publishesToKamailioPresence() {
        settle();
        SippProcess watcher;
        const auto started =
            startWatcher(watcher, QStringLiteral("127.0.0.1:%1").arg(m_presence.port()), {});
        SB_VERIFY(started, errorOf(started));
        SB_VERIFY(
            waitFor([&] { return watcher.countReceived(QStringLiteral("NOTIFY")) >= 1; }, 10s),
            sippFailure("watcher at Kamailio", watcher) + m_presence.logText());

        answeredCall();
        if (QTest::currentTestFailed()) return;
        SB_VERIFY(watcher.waitForFinished(30s) == 0,
                  sippFailure("watcher at Kamailio", watcher) + m_presence.logText());

        QStringList statesSeen;
        for (const LoggedMessage& m : loggedMessages(watcher)) {
            if (!m.received || !m.startLine().startsWith(QStringLiteral("NOTIFY "))) continue;
            QRegularExpressionMatchIterator it =
                QRegularExpression(QStringLiteral("<state[^>]*>([^<]*)</state>"))
                    .globalMatch(m.body());
            QString states;
            while (it.hasNext())
                states += it.next().captured(1).trimmed().toLower() + QLatin1Char(' ');
            statesSeen << (states.isEmpty() ? QStringLiteral("none") : states.trimmed());
        }
        qInfo("NOTIFY states from Kamailio: %s",
              qPrintable(statesSeen.join(QStringLiteral(" | "))));
        // Rang, answered, ended — in that order, as Kamailio aggregated Switchboard's
        // publications for 202.
        const qsizetype early = statesSeen.indexOf(QRegularExpression(QStringLiteral(".*early.*")));
        const qsizetype confirmed =
            statesSeen.indexOf(QRegularExpression(QStringLiteral(".*confirmed.*")), early + 1);
        const qsizetype ended =
            statesSeen.indexOf(QRegularExpression(QStringLiteral(".*terminated.*")), confirmed + 1);
        SB_VERIFY(early > 0 && confirmed > early && ended > confirmed,
                  statesSeen.join(QStringLiteral(" | ")) + QStringLiteral("\n") + diagnostics());

        // Switchboard saw Kamailio accept them: both parties' publications. The caller's
        // "trying" may be overtaken by its "early" before it goes out (one PUBLISH in
        // flight, only the newest state waits), so its first state is not asserted.
        QStringList published;
        for (const QJsonObject& event : eventsSince(m_mark, QStringLiteral("publication"), "state",
                                                    QStringLiteral("published")))
            published << str(event, "entity") + QLatin1Char(' ') + str(event, "dialog_state");
        for (const QString& expected :
             {QStringLiteral("sip:202@%1 early"), QStringLiteral("sip:202@%1 confirmed"),
              QStringLiteral("sip:202@%1 terminated"), QStringLiteral("sip:201@%1 confirmed"),
              QStringLiteral("sip:201@%1 terminated")}) {
            SB_VERIFY(published.contains(expected.arg(kDomain)),
                      published.join(QLatin1Char('\n')) + QStringLiteral("\n") + diagnostics());
        }
        SB_VERIFY(
            eventsSince(m_mark, QStringLiteral("publication"), "state", QStringLiteral("failed"))
                .empty(),
            diagnostics());
    }

    // RFC 3903: another source PUBLISHes 204's dialog state (204 has no phone). The
    // published dialog lights 204's lamp; its removal (Expires: 0) puts it back.
    void publishLightsLamp() {
        struct Case {
            const char* state;
            const char* lamp;
        };
        for (const Case& c : {Case{"confirmed", "busy"}, Case{"early", "calling"}}) {
            mark();
            QCOMPARE(currentLamp(QStringLiteral("204")), QStringLiteral("offline"));
            SippProcess publisher;
            SippProcess::Options options;
            options.scenario = scenario("publish_dialog.xml");
            options.remote = proxy();
            options.timeout = 20s;
            options.extraArguments = QStringList{QStringLiteral("-s"),
                                                 QStringLiteral("204"),
                                                 QStringLiteral("-set"),
                                                 QStringLiteral("domain"),
                                                 kDomain,
                                                 QStringLiteral("-set"),
                                                 QStringLiteral("state"),
                                                 QLatin1String(c.state),
                                                 QStringLiteral("-set"),
                                                 QStringLiteral("peer"),
                                                 QStringLiteral("201"),
                                                 QStringLiteral("-d"),
                                                 QStringLiteral("1500")} +
                                     credentials(QStringLiteral("204"), passwordOf("204"));
            const auto started = publisher.start(options);
            SB_VERIFY(started, errorOf(started));
            SB_VERIFY(publisher.waitForFinished(30s) == 0, sippFailure("publisher", publisher));
            SB_VERIFY(countResponses(publisher, 407, QStringLiteral("PUBLISH")) >= 1,
                      sippFailure("publisher", publisher));
            SB_VERIFY(countResponses(publisher, 200, QStringLiteral("PUBLISH")) == 2,
                      sippFailure("publisher", publisher));

            expectLamps(QStringLiteral("204"), {QLatin1String(c.lamp), QStringLiteral("offline")});
            if (QTest::currentTestFailed()) return;
            expectParty(QStringLiteral("204"), QLatin1String(c.lamp), QStringLiteral("201"),
                        QStringLiteral("initiator"));
            // While published, the board knows why: a published state, not a binding.
            const auto states = eventsSince(m_mark, QStringLiteral("subscription"), "extension",
                                            QStringLiteral("204"));
            SB_VERIFY(!states.empty() && str(states.front(), "state") == QLatin1String("active") &&
                          str(states.front(), "reason") == QLatin1String("published"),
                      diagnostics());
        }
    }

    // Bad input against the running server: each gets its answer or is dropped, the
    // server keeps serving, and the bindings stay.
    void badInputKeepsServing() {
        settle();
        const QByteArray domain = kDomain.toUtf8();
        UdpClient udp;
        const QByteArray udpVia = "Via: SIP/2.0/UDP 127.0.0.1:" + QByteArray::number(udp.port()) +
                                  ";rport;branch=z9hG4bK-";
        auto options = [&](const QByteArray& callId) {
            return handMade({"OPTIONS sip:" + domain + " SIP/2.0", udpVia + token(),
                             "From: <sip:itest@" + domain + ">;tag=" + token(),
                             "To: <sip:" + domain + ">", "Call-ID: " + callId, "CSeq: 1 OPTIONS",
                             "Max-Forwards: 70"});
        };
        // Whether the server answers an OPTIONS now with 200: it still serves, and it is
        // the next datagram (nothing else was sent to us before it).
        auto stillServing = [&](const char* after) {
            const QByteArray callId = "alive-" + token();
            udp.send(options(callId), m_port);
            const auto answer = udp.receive(5s);
            SB_VERIFY(answer && statusOf(*answer) == 200 && answer->contains(callId),
                      QStringLiteral("after %1: %2")
                          .arg(QLatin1String(after),
                               answer ? QString::fromUtf8(*answer) : QStringLiteral("no answer")));
        };

        // 1. UDP, malformed: a CSeq whose method is not the request's, a Max-Forwards that
        // is no number: 400 whose reason phrase names the problem (RFC 3261 §8.1.1,
        // §21.4.1). Without a Call-ID no response can be built (§8.2.6.2 copies it): the
        // request is dropped, as the transport documents (core/transport/error_response.h).
        const std::pair<QByteArray, const char*> malformed[] = {
            {"CSeq: 1 INVITE\r\nCall-ID: badcseq-" + token() + "\r\nMax-Forwards: 70", "CSeq"},
            {"CSeq: 1 OPTIONS\r\nCall-ID: badmf-" + token() + "\r\nMax-Forwards: many",
             "Max-Forwards"},
        };
        for (const auto& [lines, named] : malformed) {
            udp.send(handMade({"OPTIONS sip:" + domain + " SIP/2.0", udpVia + token(),
                               "From: <sip:itest@" + domain + ">;tag=" + token(),
                               "To: <sip:" + domain + ">", lines}),
                     m_port);
            const auto refused = udp.receive(5s);
            SB_VERIFY(refused && statusOf(*refused) == 400,
                      refused ? QString::fromUtf8(*refused) : QStringLiteral("no answer"));
            SB_VERIFY(reasonOf(*refused).contains(QLatin1String(named), Qt::CaseInsensitive),
                      QString::fromUtf8(*refused));
            qInfo("%s", qPrintable(QString::fromUtf8(refused->left(refused->indexOf('\r')))));
        }
        udp.send(handMade({"OPTIONS sip:" + domain + " SIP/2.0", udpVia + token(),
                           "From: <sip:itest@" + domain + ">;tag=" + token(),
                           "To: <sip:" + domain + ">", "CSeq: 1 OPTIONS", "Max-Forwards: 70"}),
                 m_port);
        stillServing("no Call-ID");
        if (QTest::currentTestFailed()) return;

        // 2. UDP garbage: dropped without an answer (the next datagram is the OPTIONS').
        static const char kGarbage[] = "\x16\x03\x01\x02\x00garbage\r\n\r\n\xff\xfe";
        udp.send(QByteArray(kGarbage, sizeof kGarbage - 1), m_port);
        udp.send("NOT SIP AT ALL\r\n\r\n", m_port);
        stillServing("garbage");
        if (QTest::currentTestFailed()) return;

        // 3. TCP, Content-Length smaller than the body: the message ends where its
        // Content-Length says (RFC 3261 §18.3) and is answered; the bytes after it are no
        // SIP message: 400 or the connection closed, never a hang.
        {
            QTcpSocket tcp;
            tcp.connectToHost(QHostAddress::LocalHost, m_port);
            QVERIFY(tcp.waitForConnected(5000));
            const QByteArray callId = "short-" + token();
            tcp.write(
                handMade({"OPTIONS sip:" + domain + " SIP/2.0",
                          "Via: SIP/2.0/TCP 127.0.0.1:" + QByteArray::number(tcp.localPort()) +
                              ";branch=z9hG4bK-" + token(),
                          "From: <sip:itest@" + domain + ">;tag=" + token(),
                          "To: <sip:" + domain + ">", "Call-ID: " + callId, "CSeq: 1 OPTIONS",
                          "Max-Forwards: 70", "Content-Type: text/plain"},
                         "0123456789 and these bytes follow the message\r\n\r\n", 10));
            QByteArray buffer;
            const auto answer = readStreamMessage(tcp, buffer, 5s);
            SB_VERIFY(answer && statusOf(*answer) == 200 && answer->contains(callId),
                      answer ? QString::fromUtf8(*answer) : QStringLiteral("none"));
            const auto rest = readStreamMessage(tcp, buffer, 5s);
            QByteArray after = rest.value_or(QByteArray());
            const bool refused = rest && statusOf(*rest) == 400;
            const bool closed = !refused && waitForClose(tcp, after, 2s);
            qInfo("after the short message: %s",
                  refused  ? qPrintable(QString::fromUtf8(rest->left(rest->indexOf('\r'))))
                  : closed ? "connection closed"
                           : "connection still open");
            SB_VERIFY(refused || closed,
                      QStringLiteral("after the message: %1, connection %2")
                          .arg(QString::fromUtf8(after),
                               closed ? QStringLiteral("closed") : QStringLiteral("open")));
        }
        stillServing("a short Content-Length");
        if (QTest::currentTestFailed()) return;

        // 4. A 1 MB message over TCP: 513 Message Too Large (RFC 3261 §21.5.14) or
        // dropped with the connection; the server's memory stays bounded.
        {
            QTcpSocket tcp;
            tcp.connectToHost(QHostAddress::LocalHost, m_port);
            QVERIFY(tcp.waitForConnected(5000));
            const QByteArray body(1024 * 1024, 'x');
            tcp.write(
                handMade({"MESSAGE sip:202@" + domain + " SIP/2.0",
                          "Via: SIP/2.0/TCP 127.0.0.1:" + QByteArray::number(tcp.localPort()) +
                              ";branch=z9hG4bK-" + token(),
                          "From: <sip:201@" + domain + ">;tag=" + token(),
                          "To: <sip:202@" + domain + ">", "Call-ID: big-" + token(),
                          "CSeq: 1 MESSAGE", "Max-Forwards: 70", "Content-Type: text/plain"},
                         body));
            const QDeadlineTimer deadline(10s);
            while (tcp.bytesToWrite() > 0 && tcp.state() == QAbstractSocket::ConnectedState &&
                   !deadline.hasExpired())
                tcp.waitForBytesWritten(200);
            QByteArray received;
            SB_VERIFY(waitForClose(tcp, received, 10s) || !received.isEmpty(),
                      "neither an answer nor a closed connection");
            const int status = statusOf(received);
            SB_VERIFY(status == 513 || status == 413 || status == 0,
                      QString::fromUtf8(received.left(300)));
            qInfo("1 MB message: %s", status ? qPrintable(reasonOf(received).prepend(
                                                   QString::number(status) + QLatin1Char(' ')))
                                             : "connection closed without an answer");
        }
        stillServing("a 1 MB message");
        if (QTest::currentTestFailed()) return;

        // 5. An in-dialog NOTIFY for no subscription, without Route: 481 (RFC 6665
        // §4.1.3: no matching subscription).
        udp.send(handMade({"NOTIFY sip:201@" + domain + " SIP/2.0", udpVia + token(),
                           "From: <sip:202@" + domain + ">;tag=" + token(),
                           "To: <sip:201@" + domain + ">;tag=" + token(),
                           "Call-ID: nosub-" + token(), "CSeq: 7 NOTIFY", "Max-Forwards: 70",
                           "Event: dialog", "Subscription-State: active;expires=600",
                           "Contact: <sip:202@127.0.0.1:" + QByteArray::number(udp.port()) + ">"}),
                 m_port);
        const auto notify = udp.receive(5s);
        SB_VERIFY(notify && statusOf(*notify) == 481,
                  notify ? QString::fromUtf8(*notify) : QStringLiteral("none"));

        // 6. A forged in-dialog BYE that routes through the server (as a Record-Routed
        // dialog would) with tags nobody knows: 481 (RFC 3261 §12.2.2), nothing forwarded
        // to 202's phone.
        const QByteArray forgedCallId = "forged-" + token();
        udp.send(
            handMade({"BYE " + contactOf(QStringLiteral("202"), QStringLiteral("202")).toUtf8() +
                          " SIP/2.0",
                      udpVia + token(),
                      "Route: <sip:127.0.0.1:" + QByteArray::number(m_port) + ";lr>",
                      "From: <sip:201@" + domain + ">;tag=" + token(),
                      "To: <sip:202@" + domain + ">;tag=" + token(), "Call-ID: " + forgedCallId,
                      "CSeq: 99 BYE", "Max-Forwards: 70"}),
            m_port);
        const auto bye = udp.receive(5s);
        SB_VERIFY(bye && statusOf(*bye) == 481,
                  bye ? QString::fromUtf8(*bye) : QStringLiteral("none"));
        SB_VERIFY(sentRequests(QStringLiteral("BYE"), QString::fromUtf8(forgedCallId)) == 0,
                  diagnostics());
        stillServing("a forged BYE");
        if (QTest::currentTestFailed()) return;

        // 7. The connection left with 90 bytes missing since initTestCase(): closed
        // after the incomplete-message timeout (slow-loris protection) or refused 400.
        const bool stalledClosed = waitForClose(m_stalled, m_stalledReceived, 45s);
        qInfo("stalled connection: %s %lld ms after its first byte",
              stalledClosed ? "closed" : "still open", qint64(m_stalledSince.elapsed()));
        SB_VERIFY(stalledClosed || statusOf(m_stalledReceived) == 400,
                  QString::fromUtf8(m_stalledReceived));
        SB_VERIFY(statusOf(m_stalledReceived) != 200, QString::fromUtf8(m_stalledReceived));
        stillServing("a stalled TCP message");
        if (QTest::currentTestFailed()) return;

        // The bindings are intact: no binding event, 201 and 202 still registered.
        const QJsonObject board = snapshot();
        SB_VERIFY(bindingEvents(QStringLiteral("201")).empty() &&
                      bindingEvents(QStringLiteral("202")).empty(),
                  diagnostics());
        for (const QString& user : {QStringLiteral("201"), QStringLiteral("202")}) {
            const QJsonObject ext = extensionIn(board, user);
            QCOMPARE(str(ext, "lamp"), QStringLiteral("idle"));
            QCOMPARE(str(ext, "subscription"), QStringLiteral("active"));
        }
    }

    // Switchboard restarts on the same files: the bindings come back from bindings.json
    // (a binding event each, lamps idle without any REGISTER), and calls still route.
    void restartKeepsBindings() {
        settle();
        m_switchboard.send(QJsonObject{{QStringLiteral("cmd"), QStringLiteral("quit")}});
        const std::optional<int> status = m_switchboard.waitForExit(10s);
        SB_VERIFY(status == 0, diagnostics());

        const qsizetype traceBefore = m_switchboard.sipTrace().size();
        const auto launched = m_switchboard.launch();
        SB_VERIFY(launched, errorOf(launched));
        m_mark = 0;  // a new process: its events start again
        SB_VERIFY(waitForBindings(QStringLiteral("201"),
                                  {contactOf(QStringLiteral("201"), QStringLiteral("201"))}),
                  diagnostics());
        SB_VERIFY(waitForBindings(QStringLiteral("202"),
                                  {contactOf(QStringLiteral("202"), QStringLiteral("202"))}),
                  diagnostics());
        const QJsonObject board = snapshot();
        for (const QString& user : {QStringLiteral("201"), QStringLiteral("202")})
            QCOMPARE(str(extensionIn(board, user), "lamp"), QStringLiteral("idle"));
        QCOMPARE(str(extensionIn(board, QStringLiteral("203")), "lamp"), QStringLiteral("offline"));
        // Nobody registered again: no REGISTER reached the new process.
        SB_VERIFY(
            !m_switchboard.sipTrace().mid(traceBefore).contains(QStringLiteral("REGISTER sip:")),
            diagnostics());

        settle();
        answeredCall();
    }
};

QTEST_GUILESS_MAIN(TstBuiltinServer)
#include "tst_builtin_server.moc"
