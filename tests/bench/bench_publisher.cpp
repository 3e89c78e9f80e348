// bench_publisher: CPU time per PUBLISH of the built-in server's dialog-info publisher
// (issue 6), on one thread and without sockets, so that machine load does not move it:
// the real server::DialogPublisher, ua::PublicationClient and transaction::TransactionLayer
// with the production random source (SystemRandom), a ManualClock, and a transport that
// does what the UDP transport does to a request (fills the Via's sent-by, serialises it
// into one reused datagram buffer) and hands back the presence server's 200 OK with a
// SIP-ETag as bytes that go through sip::Parser and validate() as a received datagram.
//
// One iteration is one call of the publish benchmark (tests/bench/run_publish_bench.sh):
// the tracker's reports of both sides — INVITE (trying), the branch, 100, 180 (early),
// 200 (confirmed), ACK, BYE (terminated), its 200 — every PUBLISH answered before the
// next report, and 10 ms of simulated time per call (100 calls/s), so ended publications
// run out and client transactions linger as at that rate. Items = PUBLISHes; the counter
// `us_per_publish` is CPU time per PUBLISH. See README.md, "Publisher microbenchmark".

#include <QCoreApplication>

#include <benchmark/benchmark.h>

#include <chrono>
#include <deque>
#include <memory>
#include <optional>

#include "base/manual_clock.h"
#include "base/random.h"
#include "dialoginfo/dialog_info.h"
#include "dialoginfo/dialog_info_writer.h"
#include "server/dialog_publisher.h"
#include "server/dialog_tracker.h"
#include "server/local_domains.h"
#include "sip/parser.h"
#include "transaction/transaction_layer.h"
#include "transport/transport.h"
#include "transport/via_rules.h"

using namespace sb;
using namespace std::chrono_literals;
using dialoginfo::DialogState;
using dialoginfo::Direction;

namespace {

const transport::Endpoint kPresence{transport::Protocol::Udp, QHostAddress(QHostAddress::LocalHost),
                                    5080};
const transport::Endpoint kLocal{transport::Protocol::Udp, QHostAddress(QHostAddress::LocalHost),
                                 5060};

// The UDP transport's work on a request, and a presence server that answers every
// PUBLISH 200 with a new SIP-ETag. Answers are delivered by deliver(), never from inside
// sendRequest (as from the event loop).
class BenchTransport final : public transport::Transport {
public:
    void setUser(transport::TransportUser* user) override { m_user = user; }
    Result<transport::Endpoint> sendRequest(sip::Message& request,
                                            const transport::Endpoint& destination) override {
        if (auto filled =
                transport::setSentBy(request, transport::Protocol::Udp, "127.0.0.1", kLocal.port);
            !filled)
            return fail(filled.error());
        request.serializeInto(m_datagram);
        ++publishes;
        m_pending.push_back(answerTo(request));
        return destination;
    }
    Result<void> sendResponse(const sip::Message&, const transport::Endpoint&,
                              transport::ConnectionId) override {
        return {};
    }
    std::optional<transport::Endpoint> localEndpoint(transport::Protocol) const override {
        return kLocal;
    }

    // The answers sent so far arrive, as datagrams that the transport parses.
    void deliver() {
        while (!m_pending.empty()) {
            QByteArray bytes = std::move(m_pending.front());
            m_pending.pop_front();
            auto parsed = sip::Parser::parse(std::move(bytes));
            if (!parsed || !parsed->validate()) qFatal("bench: the 200 OK does not parse");
            m_user->onMessage(transport::IncomingMessage{std::move(*parsed), kPresence, kLocal, 0});
        }
    }

    quint64 publishes = 0;

private:
    // Kamailio's answer, made from the request's headers (the server's cost, kept small).
    QByteArray answerTo(const sip::Message& request) {
        QByteArray out;
        out.reserve(512);
        out += "SIP/2.0 200 OK\r\nVia: ";
        out += request.header(sip::HeaderId::Via);
        out += ";received=127.0.0.1\r\nFrom: ";
        out += request.header(sip::HeaderId::From);
        out += "\r\nTo: ";
        out += request.header(sip::HeaderId::To);
        out += ";tag=ps\r\nCall-ID: ";
        out += request.header(sip::HeaderId::CallId);
        out += "\r\nCSeq: ";
        out += request.header(sip::HeaderId::CSeq);
        out += "\r\nSIP-ETag: a.1700000000.";
        out += QByteArray::number(++m_etags);
        out += "\r\nExpires: ";
        out += request.header(sip::HeaderId::Expires);
        out += "\r\nServer: kamailio (5.6.3 (x86_64/linux))\r\nContent-Length: 0\r\n\r\n";
        return out;
    }

    transport::TransportUser* m_user = nullptr;
    QByteArray m_datagram;
    std::deque<QByteArray> m_pending;
    quint64 m_etags = 0;
};

// A call as the tracker reports it, from sipp's uac.xml to uas.xml through the server.
class CallFeed {
public:
    explicit CallFeed(server::CallId id) : m_id(id) {
        const QByteArray n = QByteArray::number(id);
        m_callId = QString::fromLatin1("1-" + n + "@127.0.0.1");
        m_caller = QStringLiteral("sip:caller%1@switchboard.local").arg(id % 1000);
        m_callee = QStringLiteral("sip:%1@switchboard.local").arg(1000 + id % 1000);
        m_callerUser = QStringLiteral("caller%1").arg(id % 1000);
        m_calleeUser = QString::number(1000 + id % 1000);
        const QByteArray text = "INVITE " + m_callee.toUtf8() +
                                " SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-" + n +
                                "\r\nMax-Forwards: 70\r\nFrom: sipp <" + m_caller.toUtf8() +
                                ">;tag=" + n + "SIPpTag00" + n + "\r\nTo: <" + m_callee.toUtf8() +
                                ">\r\nCall-ID: " + m_callId.toUtf8() +
                                "\r\nCSeq: 1 INVITE\r\nContact: <sip:sipp@127.0.0.1:5070>\r\n"
                                "Content-Length: 0\r\n\r\n";
        auto parsed = sip::Parser::parse(text);
        if (!parsed) qFatal("bench: the INVITE does not parse");
        m_invite = std::move(*parsed);
    }

    // Both sides' reports for the call in `state` (a To-tag from early on).
    void report(server::DialogPublisher& publisher, DialogState state, bool withInvite,
                const QString& event = {}) {
        for (Direction direction : {Direction::Initiator, Direction::Recipient}) {
            server::DialogTracker::CallSide side;
            side.call = m_id;
            const bool caller = direction == Direction::Initiator;
            side.user = caller ? m_callerUser : m_calleeUser;
            side.invite = withInvite ? &m_invite : nullptr;
            dialoginfo::DialogInfo& d = side.dialog;
            d.id = QStringLiteral("%1-%2").arg(m_id).arg(caller ? 'i' : 'r');
            d.callId = m_callId;
            const QString fromTag = QStringLiteral("%1SIPpTag00%1").arg(m_id);
            const QString toTag =
                state == DialogState::Trying ? QString() : QStringLiteral("%1SIPpTag01").arg(m_id);
            d.localTag = caller ? fromTag : toTag;
            d.remoteTag = caller ? toTag : fromTag;
            d.direction = direction;
            d.state = state;
            if (state == DialogState::Terminated) d.stateEvent = event;
            dialoginfo::Participant callerSide{m_caller, QStringLiteral("sipp"),
                                               dialoginfo::Target{"sip:sipp@127.0.0.1:5070", {}}};
            dialoginfo::Participant calleeSide{m_callee, {}, std::nullopt};
            if (state != DialogState::Trying)
                calleeSide.target = dialoginfo::Target{"sip:sipp@127.0.0.1:5071", {}};
            d.local = caller ? callerSide : calleeSide;
            d.remote = caller ? calleeSide : callerSide;
            publisher.onSide(side);
        }
    }

private:
    server::CallId m_id;
    QString m_callId, m_caller, m_callee, m_callerUser, m_calleeUser;
    sip::Message m_invite;
};

struct World {
    World()
        : layer(transport, clock, random),
          domains(QStringList{QStringLiteral("switchboard.local")}) {
        server::DialogPublisherOptions options;
        options.server = kPresence;
        options.userAgent = "Switchboard";
        publisher =
            std::make_unique<server::DialogPublisher>(layer, clock, random, domains, options);
        // As the server session: an event per answer, and a save asked for (debounced).
        publisher->setEventListener([this](const server::PublicationEvent& event) {
            events += event.entity.size() > 0 ? 1 : 0;
        });
        publisher->setStateChangedListener([this] { ++stateChanges; });
    }

    // The event loop's turn: clients send, answers come back, clients send what waited.
    void settle() {
        for (int round = 0; round < 4; ++round) {
            clock.advance(0ms);
            transport.deliver();
        }
    }

    void oneCall() {
        CallFeed call(++nextCall);
        call.report(*publisher, DialogState::Trying, true);  // INVITE
        settle();
        call.report(*publisher, DialogState::Trying, false);  // the branch, its 100
        call.report(*publisher, DialogState::Trying, false);
        settle();
        call.report(*publisher, DialogState::Early, false);  // 180
        settle();
        call.report(*publisher, DialogState::Confirmed, false);  // 200
        settle();
        call.report(*publisher, DialogState::Confirmed, false);  // ACK
        settle();
        call.report(*publisher, DialogState::Terminated, false, QStringLiteral("local-bye"));
        settle();
        call.report(*publisher, DialogState::Terminated, false, QStringLiteral("local-bye"));
        settle();
        clock.advance(10ms);  // 100 calls/s
    }

    base::ManualClock clock;
    BenchTransport transport;
    base::SystemRandom random;
    transaction::TransactionLayer layer;
    server::LocalDomains domains;
    std::unique_ptr<server::DialogPublisher> publisher;
    quint64 events = 0;
    quint64 stateChanges = 0;
    server::CallId nextCall = 0;
};

void BM_PublishedCalls(benchmark::State& state) {
    World world;
    // Warm up to the steady state of 100 calls/s: 10 s of ends waiting to run out.
    for (int i = 0; i < 1200; ++i)
        world.oneCall();
    const quint64 before = world.transport.publishes;
    for (auto _ : state)
        world.oneCall();
    const double publishes = double(world.transport.publishes - before);
    state.SetItemsProcessed(qint64(publishes));
    state.counters["publishes_per_call"] = publishes / double(state.iterations());
    // CPU seconds per PUBLISH, shown in microseconds.
    state.counters["us_per_publish"] = benchmark::Counter(
        publishes * 1e-6, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
    state.counters["publications"] = double(world.publisher->publicationCount());
}
BENCHMARK(BM_PublishedCalls)->Unit(benchmark::kMicrosecond);

// The document alone, as a PUBLISH of a ringing call carries it.
void BM_WriteDocument(benchmark::State& state) {
    dialoginfo::Document document;
    document.version = 3;
    document.entity = QStringLiteral("sip:1042@switchboard.local");
    dialoginfo::DialogInfo d;
    d.id = QStringLiteral("42-r");
    d.callId = QStringLiteral("1-42@127.0.0.1");
    d.localTag = QStringLiteral("42SIPpTag01");
    d.remoteTag = QStringLiteral("42SIPpTag0042");
    d.direction = Direction::Recipient;
    d.state = DialogState::Early;
    d.local = {QStringLiteral("sip:1042@switchboard.local"),
               {},
               dialoginfo::Target{"sip:sipp@127.0.0.1:5071", {}}};
    d.remote = {QStringLiteral("sip:caller42@switchboard.local"), QStringLiteral("sipp"),
                dialoginfo::Target{"sip:sipp@127.0.0.1:5070", {}}};
    document.dialogs.push_back(d);
    for (auto _ : state)
        benchmark::DoNotOptimize(dialoginfo::writeDocument(document));
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_WriteDocument);

}  // namespace

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
