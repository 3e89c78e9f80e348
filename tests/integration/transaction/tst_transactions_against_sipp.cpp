// The RFC 3261 §17 transaction layer of the real core (SipTransport on 127.0.0.1,
// EventLoopTimers, T1 = 50 ms so that Timers B and F fire after 64*T1 = 3.2 s) against
// sipp peers (Debian sip-tester, scenarios in this folder) that never answer, answer 100
// and fall silent, refuse, repeat their refusal, get cancelled, or retransmit their own
// request. Each case is checked from both ends: the transaction users' callbacks here,
// and sipp's exit status and message trace (-trace_msg) there.

#include <QRegularExpression>
#include <QTest>

#include <algorithm>
#include <functional>
#include <memory>
#include <vector>

#include "base/event_loop_timers.h"
#include "base/random.h"
#include "base/sip_trace.h"
#include "sip/message.h"
#include "sip/method.h"
#include "sipp_process.h"
#include "transaction/transaction_layer.h"
#include "transport/sip_transport.h"

using namespace sb;
using namespace std::chrono_literals;
using sb::itest::SippProcess;
using transaction::TransactionId;
using transport::Protocol;

namespace {

constexpr int kWaitMs = 20000;  // generous: the machine is shared

// RFC 3261 §17.1.1.1 values scaled down: Timers B and F (64*T1) fire after 3.2 s.
transaction::TimerValues fastTimers() {
    transaction::TimerValues values;
    values.t1 = base::Duration(50);
    values.t2 = base::Duration(400);
    values.t4 = base::Duration(500);
    return values;
}

QString scenario(const char* name) {
    return QStringLiteral(SB_TRANSACTION_SCENARIO_DIR "/") + QLatin1String(name);
}

// One message as a trace (ours or sipp's) shows it.
struct TracedMessage {
    bool sent = false;
    QString text;  // the whole message, LF line ends

    QString startLine() const { return text.section(QLatin1Char('\n'), 0, 0); }
    bool isRequest(const QString& method) const {
        return startLine().startsWith(method + QLatin1Char(' '));
    }
    bool isResponse(int status) const {
        return startLine().startsWith(QStringLiteral("SIP/2.0 %1 ").arg(status));
    }
    QString requestUri() const { return startLine().section(QLatin1Char(' '), 1, 1); }
    // The value of the first header field `name` (case-insensitive), trimmed.
    QString header(const QString& name) const {
        const QStringList lines = text.split(QLatin1Char('\n'));
        for (qsizetype i = 1; i < lines.size() && !lines[i].isEmpty(); ++i) {
            if (lines[i]
                    .section(QLatin1Char(':'), 0, 0)
                    .trimmed()
                    .compare(name, Qt::CaseInsensitive) == 0)
                return lines[i].section(QLatin1Char(':'), 1).trimmed();
        }
        return {};
    }
    QString topBranch() const { return param(header(QStringLiteral("Via")), "branch"); }
    QString toTag() const { return param(header(QStringLiteral("To")), "tag"); }

    static QString param(const QString& value, const char* name) {
        const QRegularExpression re(QStringLiteral(";\\s*%1=([^;,>\\s]+)").arg(QLatin1String(name)),
                                    QRegularExpression::CaseInsensitiveOption);
        return re.match(value).captured(1);
    }
};

using Trace = std::vector<TracedMessage>;

Trace requests(const Trace& trace, bool sent, const QString& method) {
    Trace out;
    for (const TracedMessage& m : trace)
        if (m.sent == sent && m.isRequest(method)) out.push_back(m);
    return out;
}

Trace responses(const Trace& trace, bool sent, int status) {
    Trace out;
    for (const TracedMessage& m : trace)
        if (m.sent == sent && m.isResponse(status)) out.push_back(m);
    return out;
}

// sipp's -trace_msg file: each message follows a line of dashes and a line saying
// "UDP message received [N] bytes :" or "UDP message sent (N bytes):", and a blank line.
Trace sippTrace(const SippProcess& sipp) {
    static const QString kSeparator =
        QStringLiteral("-----------------------------------------------");
    const QStringList lines = sipp.messages().remove(QLatin1Char('\r')).split(QLatin1Char('\n'));
    Trace out;
    for (qsizetype i = 0; i + 2 < lines.size(); ++i) {
        if (!lines[i].startsWith(kSeparator)) continue;
        TracedMessage message;
        message.sent = lines[i + 1].contains(QStringLiteral(" message sent"));
        QStringList text;
        qsizetype j = i + 3;
        for (; j < lines.size() && !lines[j].startsWith(kSeparator); ++j)
            text << lines[j];
        while (!text.isEmpty() && text.last().isEmpty())
            text.removeLast();
        message.text = text.join(QLatin1Char('\n'));
        out.push_back(message);
        i = j - 1;
    }
    return out;
}

QString summary(const Trace& trace) {
    QString out;
    for (const TracedMessage& m : trace)
        out += (m.sent ? QStringLiteral("  -> ") : QStringLiteral("  <- ")) + m.startLine() +
               QLatin1Char('\n');
    return out;
}

// Our side of the wire: every message the SipTransport sent or received, in order.
class RecordingTrace final : public base::SipTrace {
public:
    void record(Direction direction, QByteArrayView transport, const QString& local,
                const QString& remote, QByteArrayView message) override {
        (void)transport, (void)local, (void)remote;
        messages.push_back(
            {direction == Direction::Sent,
             QString::fromUtf8(message.data(), message.size()).remove(QLatin1Char('\r'))});
    }
    Trace messages;
};

// What a client transaction reports to its user.
class RecordingClient final : public transaction::ClientTransactionUser {
public:
    void onProvisional(TransactionId id, const sip::Message& response) override {
        ids.push_back(id);
        provisionals.push_back(response);
    }
    void onFinal(TransactionId id, const sip::Message& response) override {
        ids.push_back(id);
        finals.push_back(response);
    }
    void onTimeout(TransactionId id) override {
        ids.push_back(id);
        ++timeouts;
        if (timeoutHook) timeoutHook();
    }
    void onTransportError(TransactionId id, const Error& error) override {
        ids.push_back(id);
        transportErrors.push_back(error.reason);
    }

    std::vector<TransactionId> ids;  // of every callback
    std::vector<sip::Message> provisionals;
    std::vector<sip::Message> finals;
    int timeouts = 0;
    QStringList transportErrors;
    std::function<void()> timeoutHook;
};

// The TU for requests that arrive: records them, answers when told to.
class RecordingServer final : public transaction::ServerTransactionUser {
public:
    struct Request {
        TransactionId id;
        sip::Message message;
    };
    void onRequest(TransactionId id, const transport::IncomingMessage& request) override {
        requests.push_back({id, request.message});
        if (answer) answer(id, request.message);
    }
    void onStrayResponse(const transport::IncomingMessage& response) override {
        strays.push_back(response.message);
    }

    std::vector<Request> requests;
    std::vector<sip::Message> strays;
    std::function<void(TransactionId, const sip::Message&)> answer;
};

// The real core, bottom to top. Members are destroyed bottom-up: the layer leaves the
// transport before the transport goes.
struct Stack {
    explicit Stack(transaction::TimerValues values) : layer(transport, timers, random, values) {
        transport.setTrace(&trace);
        layer.setServerUser(&server);
    }

    base::EventLoopTimers timers;
    RecordingTrace trace;
    transport::SipTransport transport{timers};
    base::SystemRandom random;
    transaction::TransactionLayer layer;
    RecordingServer server;
    transport::Endpoint udp;
    transport::Endpoint tcp;
};

}  // namespace

class TstTransactionsAgainstSipp : public QObject {
    Q_OBJECT

private:
    std::unique_ptr<Stack> m_stack;
    SippProcess m_sipp;

    void startStack(transaction::TimerValues values) {
        m_stack = std::make_unique<Stack>(values);
        auto udp = m_stack->transport.listen(QStringLiteral("udp:127.0.0.1:0"));
        QVERIFY2(udp, qPrintable(udp ? QString() : udp.error().reason));
        auto tcp = m_stack->transport.listen(QStringLiteral("tcp:127.0.0.1:0"));
        QVERIFY2(tcp, qPrintable(tcp ? QString() : tcp.error().reason));
        m_stack->udp = *udp;
        m_stack->tcp = *tcp;
    }

    // A UAS when `remote` is empty (ready once it listens), else a UAC towards it.
    void startSipp(const QString& scenarioPath, SippProcess::Transport transport,
                   const QStringList& extra = {}, const QString& remote = {}) {
        SippProcess::Options options;
        options.scenario = scenarioPath;
        options.transport = transport;
        options.remote = remote;
        options.calls = 1;
        options.timeout = 20s;
        options.extraArguments = extra;
        const auto started = m_sipp.start(options);
        QVERIFY2(started, qPrintable(started ? QString() : started.error().reason));
    }

    transport::Endpoint sippEndpoint(Protocol protocol) const {
        transport::Endpoint endpoint;
        endpoint.protocol = protocol;
        endpoint.address = QHostAddress(QHostAddress::LocalHost);
        endpoint.port = m_sipp.port();
        return endpoint;
    }

    // A request as a UAC core hands it to the transaction layer (which adds the Via).
    sip::Message makeRequest(sip::Method method, Protocol protocol) const {
        const QByteArray target = "sip:sipp@127.0.0.1:" + QByteArray::number(m_sipp.port());
        const transport::Endpoint& local = protocol == Protocol::Tcp ? m_stack->tcp : m_stack->udp;
        sip::Message request = sip::Message::request(method, target);
        request.addHeader(sip::HeaderId::From,
                          "<sip:txsipp@127.0.0.1>;tag=" + m_stack->random.token(10));
        request.addHeader(sip::HeaderId::To, "<" + target + ">");
        request.addHeader(sip::HeaderId::CallId, m_stack->random.token(16) + "@txsipp.test");
        request.addHeader(sip::HeaderId::CSeq, "1 " + sip::methodName(method).toByteArray());
        request.addHeader(sip::HeaderId::Contact,
                          "<sip:txsipp@127.0.0.1:" + QByteArray::number(local.port) +
                              (protocol == Protocol::Tcp ? ";transport=tcp>" : ">"));
        return request;
    }

    TransactionId sendRequest(sip::Method method, Protocol protocol, RecordingClient& user) {
        auto id = m_stack->layer.sendRequest(makeRequest(method, protocol), sippEndpoint(protocol),
                                             &user);
        if (!id) {
            QTest::qFail(qPrintable(id.error().reason), __FILE__, __LINE__);
            return transaction::kNoTransaction;
        }
        return *id;
    }

    // Runs the event loop (our side must keep answering) until sipp has ended.
    void waitForSipp(int* exitCode) {
        QTRY_VERIFY2_WITH_TIMEOUT(!m_sipp.isRunning(), qPrintable(diagnostics()), kWaitMs);
        *exitCode = m_sipp.waitForFinished(1s);
    }

    Trace ourTrace() const { return m_stack->trace.messages; }

    QString diagnostics() const {
        return QStringLiteral("\nour side:\n") + (m_stack ? summary(ourTrace()) : QString()) +
               QStringLiteral("sipp's side:\n") + summary(sippTrace(m_sipp)) +
               QStringLiteral("sipp output (end):\n") + m_sipp.output().right(3000);
    }

    // All copies of a retransmitted request are the same request: one branch, one CSeq.
    static void verifySameTransaction(const Trace& copies) {
        QVERIFY(!copies.empty());
        QVERIFY(!copies.front().topBranch().isEmpty());
        for (const TracedMessage& copy : copies) {
            QCOMPARE(copy.topBranch(), copies.front().topBranch());
            QCOMPARE(copy.header(QStringLiteral("CSeq")),
                     copies.front().header(QStringLiteral("CSeq")));
        }
    }

    // A UAS that never answers an INVITE: Timer B ends the transaction.
    void inviteToSilentUas(Protocol protocol, Trace* copiesAtSipp) {
        startStack(fastTimers());
        if (QTest::currentTestFailed()) return;
        startSipp(scenario("uas_invite_silent.xml"), protocol == Protocol::Tcp
                                                         ? SippProcess::Transport::Tcp
                                                         : SippProcess::Transport::Udp);
        if (QTest::currentTestFailed()) return;

        RecordingClient user;
        qsizetype sentAtTimeout = -1;
        user.timeoutHook = [&] {
            sentAtTimeout = requests(ourTrace(), true, QStringLiteral("INVITE")).size();
        };
        const TransactionId id = sendRequest(sip::Method::Invite, protocol, user);
        if (QTest::currentTestFailed()) return;

        QTRY_VERIFY2_WITH_TIMEOUT(user.timeouts > 0, qPrintable(diagnostics()), kWaitMs);
        QCOMPARE(user.timeouts, 1);
        QVERIFY(user.provisionals.empty() && user.finals.empty());
        QVERIFY2(user.transportErrors.isEmpty(), qPrintable(user.transportErrors.join(u'\n')));
        QCOMPARE(user.ids, std::vector<TransactionId>{id});
        QCOMPARE(m_stack->layer.clientTransactionCount(), std::size_t(0));

        int exitCode = -1;
        waitForSipp(&exitCode);
        if (QTest::currentTestFailed()) return;
        QVERIFY2(exitCode == 0, qPrintable(diagnostics()));

        // Every copy we sent reached sipp, and none left after Timer B.
        const Trace sent = requests(ourTrace(), true, QStringLiteral("INVITE"));
        QCOMPARE(sent.size(), std::size_t(sentAtTimeout));
        *copiesAtSipp = requests(sippTrace(m_sipp), false, QStringLiteral("INVITE"));
        QVERIFY2(copiesAtSipp->size() == sent.size(), qPrintable(diagnostics()));
        verifySameTransaction(*copiesAtSipp);
    }

private slots:
    void cleanup() {
        m_sipp.stop();
        m_stack.reset();
    }

    // Case 1 over UDP: Timer A retransmits the INVITE, doubling from T1 without a cap
    // (§17.1.1.2: sends at 0, 1, 3, 7, 15, 31, 63 T1), until Timer B.
    void inviteTimerBOverUdp() {
        Trace copies;
        inviteToSilentUas(Protocol::Udp, &copies);
        if (QTest::currentTestFailed()) return;
        // At most 7 copies fit in 64*T1; a busy machine fires the retransmissions late,
        // never early, so at least a few of them must have been sent.
        QVERIFY2(copies.size() >= 4 && copies.size() <= 7, qPrintable(diagnostics()));
        QVERIFY(
            copies.front().header(QStringLiteral("Via")).startsWith(QStringLiteral("SIP/2.0/UDP")));
    }

    // Case 1 over TCP: no retransmission on a reliable transport, Timer B all the same
    // (§17.1.1.2).
    void inviteTimerBOverTcp() {
        Trace copies;
        inviteToSilentUas(Protocol::Tcp, &copies);
        if (QTest::currentTestFailed()) return;
        QCOMPARE(copies.size(), std::size_t(1));
        QVERIFY(
            copies.front().header(QStringLiteral("Via")).startsWith(QStringLiteral("SIP/2.0/TCP")));
    }

    // Case 2: a non-INVITE to a UAS that never answers. Timer E doubles only up to T2
    // (§17.1.2.2), so copies go out at 0, 1, 3, 7, 15, 23, 31, ... 63 T1 (11 in 64*T1),
    // more than the 7 that an uncapped doubling could fit; then Timer F.
    void optionsTimerFOverUdp() {
        startStack(fastTimers());
        if (QTest::currentTestFailed()) return;
        startSipp(scenario("uas_options_silent.xml"), SippProcess::Transport::Udp);
        if (QTest::currentTestFailed()) return;

        RecordingClient user;
        qsizetype sentAtTimeout = -1;
        user.timeoutHook = [&] {
            sentAtTimeout = requests(ourTrace(), true, QStringLiteral("OPTIONS")).size();
        };
        const TransactionId id = sendRequest(sip::Method::Options, Protocol::Udp, user);
        if (QTest::currentTestFailed()) return;

        QTRY_VERIFY2_WITH_TIMEOUT(user.timeouts > 0, qPrintable(diagnostics()), kWaitMs);
        QCOMPARE(user.timeouts, 1);
        QVERIFY(user.provisionals.empty() && user.finals.empty());
        QCOMPARE(user.ids, std::vector<TransactionId>{id});
        QCOMPARE(m_stack->layer.clientTransactionCount(), std::size_t(0));

        int exitCode = -1;
        waitForSipp(&exitCode);
        if (QTest::currentTestFailed()) return;
        QVERIFY2(exitCode == 0, qPrintable(diagnostics()));

        const Trace sent = requests(ourTrace(), true, QStringLiteral("OPTIONS"));
        QCOMPARE(sent.size(), std::size_t(sentAtTimeout));
        const Trace copies = requests(sippTrace(m_sipp), false, QStringLiteral("OPTIONS"));
        QVERIFY2(copies.size() == sent.size(), qPrintable(diagnostics()));
        QVERIFY2(copies.size() > 7 && copies.size() <= 11, qPrintable(diagnostics()));
        verifySameTransaction(copies);
    }

    // Case 5: 100 Trying, then nothing. The provisional moves the transaction to
    // Proceeding, where it keeps retransmitting every T2, and Timer F still ends it
    // (§17.1.2.2) — unlike INVITE, where a provisional stops Timer B.
    void optionsTimerFAfterTrying() {
        startStack(fastTimers());
        if (QTest::currentTestFailed()) return;
        startSipp(scenario("uas_options_trying_then_silent.xml"), SippProcess::Transport::Udp);
        if (QTest::currentTestFailed()) return;

        RecordingClient user;
        sendRequest(sip::Method::Options, Protocol::Udp, user);
        if (QTest::currentTestFailed()) return;

        QTRY_VERIFY2_WITH_TIMEOUT(user.timeouts > 0, qPrintable(diagnostics()), kWaitMs);
        QCOMPARE(user.timeouts, 1);
        QVERIFY(user.finals.empty());
        QVERIFY2(!user.provisionals.empty(), qPrintable(diagnostics()));
        for (const sip::Message& provisional : user.provisionals)
            QCOMPARE(provisional.statusCode(), 100);

        int exitCode = -1;
        waitForSipp(&exitCode);
        if (QTest::currentTestFailed()) return;
        QVERIFY2(exitCode == 0, qPrintable(diagnostics()));

        // At sipp: copies of the OPTIONS kept coming after its first 100 went out.
        const Trace atSipp = sippTrace(m_sipp);
        const auto firstTrying = std::find_if(atSipp.begin(), atSipp.end(), [](const auto& m) {
            return m.sent && m.isResponse(100);
        });
        QVERIFY2(firstTrying != atSipp.end(), qPrintable(diagnostics()));
        const Trace afterTrying =
            requests(Trace(firstTrying, atSipp.end()), false, QStringLiteral("OPTIONS"));
        QVERIFY2(afterTrying.size() >= 2, qPrintable(diagnostics()));
        const Trace copies = requests(atSipp, false, QStringLiteral("OPTIONS"));
        QCOMPARE(copies.size(), requests(ourTrace(), true, QStringLiteral("OPTIONS")).size());
        verifySameTransaction(copies);
    }

    // Case 3: 180 then 486. The user hears both; the transaction acknowledges the 486
    // itself (§17.1.1.3): same Request-URI and top Via (branch) as the INVITE, To of
    // the response, CSeq number of the INVITE with method ACK. sipp passes only when
    // the ACK arrives.
    void refusalIsAcknowledged_data() {
        QTest::addColumn<bool>("tcp");
        QTest::newRow("udp") << false;
        QTest::newRow("tcp") << true;
    }
    void refusalIsAcknowledged() {
        QFETCH(bool, tcp);
        const Protocol protocol = tcp ? Protocol::Tcp : Protocol::Udp;
        startStack(fastTimers());
        if (QTest::currentTestFailed()) return;
        startSipp(scenario("uas_invite_busy.xml"),
                  tcp ? SippProcess::Transport::Tcp : SippProcess::Transport::Udp);
        if (QTest::currentTestFailed()) return;

        RecordingClient user;
        const TransactionId id = sendRequest(sip::Method::Invite, protocol, user);
        if (QTest::currentTestFailed()) return;

        QTRY_VERIFY2_WITH_TIMEOUT(!user.finals.empty(), qPrintable(diagnostics()), kWaitMs);
        QVERIFY2(!user.provisionals.empty(), qPrintable(diagnostics()));
        QCOMPARE(user.provisionals.front().statusCode(), 180);
        QCOMPARE(user.finals.front().statusCode(), 486);

        int exitCode = -1;
        waitForSipp(&exitCode);
        if (QTest::currentTestFailed()) return;
        QVERIFY2(exitCode == 0, qPrintable(diagnostics()));
        QCOMPARE(user.finals.size(), std::size_t(1));
        QCOMPARE(user.timeouts, 0);
        for (const TransactionId reported : user.ids)
            QCOMPARE(reported, id);

        const Trace atSipp = sippTrace(m_sipp);
        const Trace invites = requests(atSipp, false, QStringLiteral("INVITE"));
        const Trace acks = requests(atSipp, false, QStringLiteral("ACK"));
        const Trace busy = responses(atSipp, true, 486);
        QVERIFY(!invites.empty());
        QCOMPARE(acks.size(), std::size_t(1));
        QCOMPARE(busy.size(), std::size_t(1));
        const TracedMessage& ack = acks.front();
        const TracedMessage& invite = invites.front();
        QCOMPARE(ack.requestUri(), invite.requestUri());
        QCOMPARE(ack.topBranch(), invite.topBranch());
        QCOMPARE(ack.header(QStringLiteral("Via")), invite.header(QStringLiteral("Via")));
        QCOMPARE(ack.header(QStringLiteral("Call-ID")), invite.header(QStringLiteral("Call-ID")));
        QCOMPARE(ack.header(QStringLiteral("From")), invite.header(QStringLiteral("From")));
        QCOMPARE(
            ack.header(QStringLiteral("CSeq")),
            invite.header(QStringLiteral("CSeq")).section(u' ', 0, 0) + QStringLiteral(" ACK"));
        QVERIFY(!busy.front().toTag().isEmpty());
        QCOMPARE(ack.toTag(), busy.front().toTag());
        QVERIFY(m_stack->server.strays.empty());

        // Timer D is zero over a reliable transport: the transaction is gone at once.
        if (tcp)
            QTRY_COMPARE_WITH_TIMEOUT(m_stack->layer.clientTransactionCount(), std::size_t(0),
                                      kWaitMs);
    }

    // Case 4: the UAS sends the same 486 again after our ACK (as if the ACK were lost).
    // The Completed transaction sends the ACK again, unchanged, and its user hears of
    // the 486 once (§17.1.1.2).
    void repeatedRefusalIsAcknowledgedAgain() {
        // sipp runs with -nr here (see the scenario), so it cannot absorb a retransmitted
        // INVITE: keep T1 at the RFC's 500 ms, far beyond sipp's answer time.
        startStack({});
        if (QTest::currentTestFailed()) return;
        startSipp(scenario("uas_invite_busy_repeated.xml"), SippProcess::Transport::Udp,
                  {QStringLiteral("-nr")});
        if (QTest::currentTestFailed()) return;

        RecordingClient user;
        sendRequest(sip::Method::Invite, Protocol::Udp, user);
        if (QTest::currentTestFailed()) return;

        // sipp ends well only when both ACKs arrived.
        int exitCode = -1;
        waitForSipp(&exitCode);
        if (QTest::currentTestFailed()) return;
        QVERIFY2(exitCode == 0, qPrintable(diagnostics()));

        QCOMPARE(user.finals.size(), std::size_t(1));
        QCOMPARE(user.finals.front().statusCode(), 486);
        QCOMPARE(user.timeouts, 0);

        const Trace atSipp = sippTrace(m_sipp);
        const Trace busy = responses(atSipp, true, 486);
        const Trace acks = requests(atSipp, false, QStringLiteral("ACK"));
        QCOMPARE(busy.size(), std::size_t(2));
        QCOMPARE(busy[1].text, busy[0].text);  // a true retransmission
        QCOMPARE(acks.size(), std::size_t(2));
        QCOMPARE(acks[1].text, acks[0].text);  // the same ACK again
        const Trace invites = requests(atSipp, false, QStringLiteral("INVITE"));
        QCOMPARE(invites.size(), std::size_t(1));
        QCOMPARE(acks[0].topBranch(), invites[0].topBranch());

        // Our side: each 486 that came in was answered by an ACK right away.
        const Trace ours = ourTrace();
        QCOMPARE(responses(ours, false, 486).size(), std::size_t(2));
        QCOMPARE(requests(ours, true, QStringLiteral("ACK")).size(), std::size_t(2));
    }

    // Case 6: CANCEL after 180 (§9.1). sipp expects the CANCEL, answers it 200 and the
    // INVITE 487, and expects the ACK for the 487.
    void cancelAfterRinging() {
        startStack(fastTimers());
        if (QTest::currentTestFailed()) return;
        startSipp(scenario("uas_invite_cancelled.xml"), SippProcess::Transport::Udp);
        if (QTest::currentTestFailed()) return;

        RecordingClient user;
        const TransactionId id = sendRequest(sip::Method::Invite, Protocol::Udp, user);
        if (QTest::currentTestFailed()) return;

        QTRY_VERIFY2_WITH_TIMEOUT(!user.provisionals.empty(), qPrintable(diagnostics()), kWaitMs);
        QCOMPARE(user.provisionals.front().statusCode(), 180);
        m_stack->layer.cancelInvite(id);

        QTRY_VERIFY2_WITH_TIMEOUT(!user.finals.empty(), qPrintable(diagnostics()), kWaitMs);
        QCOMPARE(user.finals.front().statusCode(), 487);

        int exitCode = -1;
        waitForSipp(&exitCode);
        if (QTest::currentTestFailed()) return;
        QVERIFY2(exitCode == 0, qPrintable(diagnostics()));
        QCOMPARE(user.finals.size(), std::size_t(1));
        QCOMPARE(user.timeouts, 0);
        QVERIFY(user.transportErrors.isEmpty());

        const Trace atSipp = sippTrace(m_sipp);
        const Trace invites = requests(atSipp, false, QStringLiteral("INVITE"));
        const Trace cancels = requests(atSipp, false, QStringLiteral("CANCEL"));
        const Trace acks = requests(atSipp, false, QStringLiteral("ACK"));
        QVERIFY(!invites.empty());
        QVERIFY2(!cancels.empty(), qPrintable(diagnostics()));
        QCOMPARE(acks.size(), std::size_t(1));
        const QString inviteCSeq = invites[0].header(QStringLiteral("CSeq")).section(u' ', 0, 0);
        for (const TracedMessage& cancel : cancels) {
            // §9.1: same Request-URI, Call-ID, From, To, CSeq number and top Via branch.
            QCOMPARE(cancel.requestUri(), invites[0].requestUri());
            QCOMPARE(cancel.topBranch(), invites[0].topBranch());
            QCOMPARE(cancel.header(QStringLiteral("Via")),
                     invites[0].header(QStringLiteral("Via")));
            QCOMPARE(cancel.header(QStringLiteral("Call-ID")),
                     invites[0].header(QStringLiteral("Call-ID")));
            QCOMPARE(cancel.header(QStringLiteral("From")),
                     invites[0].header(QStringLiteral("From")));
            QCOMPARE(cancel.header(QStringLiteral("To")), invites[0].header(QStringLiteral("To")));
            QCOMPARE(cancel.header(QStringLiteral("CSeq")), inviteCSeq + QStringLiteral(" CANCEL"));
        }
        QCOMPARE(acks[0].topBranch(), invites[0].topBranch());
        QCOMPARE(acks[0].header(QStringLiteral("CSeq")), inviteCSeq + QStringLiteral(" ACK"));
        QVERIFY(!acks[0].toTag().isEmpty());
        QCOMPARE(acks[0].toTag(), responses(atSipp, true, 487).front().toTag());
        QVERIFY(m_stack->server.strays.empty());
        // The CANCEL came only after the 180 was sent (§9.1).
        const auto firstRinging = std::find_if(atSipp.begin(), atSipp.end(), [](const auto& m) {
            return m.sent && m.isResponse(180);
        });
        const auto firstCancel = std::find_if(atSipp.begin(), atSipp.end(), [](const auto& m) {
            return !m.sent && m.isRequest(QStringLiteral("CANCEL"));
        });
        QVERIFY(firstRinging < firstCancel);
        // Our side received the 200 for the CANCEL.
        QVERIFY(!responses(ourTrace(), false, 200).empty());
    }

    // Case 7: a server transaction. sipp sends OPTIONS and retransmits it until answered;
    // the retransmissions that arrive before our user answers are absorbed (Trying,
    // §17.2.2), the user hears of the request once, and sipp gets the 200. Any copy that
    // arrives after the answer gets that same 200 again.
    void serverAbsorbsRetransmissions() {
        startStack(fastTimers());
        if (QTest::currentTestFailed()) return;
        startSipp(scenario("uac_options_retransmitted.xml"), SippProcess::Transport::Udp,
                  {QStringLiteral("-s"), QStringLiteral("txsipp")},
                  QStringLiteral("127.0.0.1:%1").arg(m_stack->udp.port));
        if (QTest::currentTestFailed()) return;

        // Answer only once sipp has retransmitted.
        QTRY_VERIFY2_WITH_TIMEOUT(
            requests(ourTrace(), false, QStringLiteral("OPTIONS")).size() >= 2,
            qPrintable(diagnostics()), kWaitMs);
        QCOMPARE(m_stack->server.requests.size(), std::size_t(1));
        const RecordingServer::Request request = m_stack->server.requests.front();
        QCOMPARE(request.message.method(), sip::Method::Options);
        auto answered = m_stack->layer.sendResponse(
            request.id, sip::makeResponse(request.message, 200, {}, "txsipp-server"));
        QVERIFY2(answered, qPrintable(answered ? QString() : answered.error().reason));

        int exitCode = -1;
        waitForSipp(&exitCode);
        if (QTest::currentTestFailed()) return;
        QVERIFY2(exitCode == 0, qPrintable(diagnostics()));
        QCOMPARE(m_stack->server.requests.size(), std::size_t(1));

        const Trace atSipp = sippTrace(m_sipp);
        const Trace sentBySipp = requests(atSipp, true, QStringLiteral("OPTIONS"));
        QVERIFY2(sentBySipp.size() >= 2, qPrintable(diagnostics()));
        verifySameTransaction(sentBySipp);
        const Trace oks = responses(atSipp, false, 200);
        QVERIFY(!oks.empty());
        for (const TracedMessage& ok : oks)
            QCOMPARE(ok.text, oks.front().text);
        QCOMPARE(oks.front().toTag(), QStringLiteral("txsipp-server"));

        // Our side: one 200 for the answer, one more for every copy that came after it.
        const Trace ours = ourTrace();
        const auto firstOk = std::find_if(
            ours.begin(), ours.end(), [](const auto& m) { return m.sent && m.isResponse(200); });
        QVERIFY(firstOk != ours.end());
        const Trace lateCopies =
            requests(Trace(firstOk, ours.end()), false, QStringLiteral("OPTIONS"));
        QCOMPARE(responses(ours, true, 200).size(), 1 + lateCopies.size());
    }

    // Case 7, the other half made certain: a copy of the request that arrives after the
    // answer (Completed, §17.2.2) gets the same 200 again and is no new request.
    void serverAnswersLateCopyAgain() {
        startStack(fastTimers());
        if (QTest::currentTestFailed()) return;
        m_stack->server.answer = [this](TransactionId id, const sip::Message& request) {
            (void)m_stack->layer.sendResponse(id,
                                              sip::makeResponse(request, 200, {}, "txsipp-server"));
        };
        startSipp(scenario("uac_options_late_duplicate.xml"), SippProcess::Transport::Udp,
                  {QStringLiteral("-s"), QStringLiteral("txsipp"), QStringLiteral("-nr")},
                  QStringLiteral("127.0.0.1:%1").arg(m_stack->udp.port));
        if (QTest::currentTestFailed()) return;

        // sipp ends well only when both copies were answered.
        int exitCode = -1;
        waitForSipp(&exitCode);
        if (QTest::currentTestFailed()) return;
        QVERIFY2(exitCode == 0, qPrintable(diagnostics()));
        QCOMPARE(m_stack->server.requests.size(), std::size_t(1));

        const Trace atSipp = sippTrace(m_sipp);
        const Trace sentBySipp = requests(atSipp, true, QStringLiteral("OPTIONS"));
        QCOMPARE(sentBySipp.size(), std::size_t(2));
        QCOMPARE(sentBySipp[1].text, sentBySipp[0].text);
        const Trace oks = responses(atSipp, false, 200);
        QCOMPARE(oks.size(), std::size_t(2));
        QCOMPARE(oks[1].text, oks[0].text);

        const Trace ours = ourTrace();
        QCOMPARE(requests(ours, false, QStringLiteral("OPTIONS")).size(), std::size_t(2));
        QCOMPARE(responses(ours, true, 200).size(), std::size_t(2));
    }
};

QTEST_GUILESS_MAIN(TstTransactionsAgainstSipp)
#include "tst_transactions_against_sipp.moc"
