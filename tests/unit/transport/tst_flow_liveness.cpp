#include <QTest>

#include <memory>

#include "base/manual_clock.h"
#include "transport/flow_liveness.h"

using namespace sb;
using namespace sb::transport;
using namespace std::chrono_literals;

namespace {

struct Probe {
    int pings = 0;
    std::vector<Error> expiries;
};

std::unique_ptr<FlowLiveness> makeFlow(base::ManualClock& clock, FlowTimersConfig config,
                                       FlowLiveness::Role role, Probe& probe) {
    FlowLiveness::Handler handler;
    handler.sendPing = [&probe] { ++probe.pings; };
    handler.expired = [&probe](const Error& error) { probe.expiries.push_back(error); };
    return std::make_unique<FlowLiveness>(clock, config, role, std::move(handler));
}

FlowTimersConfig config(base::Duration idle, base::Duration keepAlive, base::Duration pong) {
    FlowTimersConfig c;
    c.idleTimeout = idle;
    c.keepAliveInterval = keepAlive;
    c.pongTimeout = pong;
    return c;
}

}  // namespace

// Idle timeout and RFC 5626 keep-alive timers of a connection, on a ManualClock.
class TstFlowLiveness : public QObject {
    Q_OBJECT
private slots:
    void inboundClosesWhenIdle();
    void trafficPostponesIdle();
    void inboundNeverPings();
    void outboundPingsWhenIdle();
    void answeredPingsKeepTheFlow();
    void missingPongFailsTheFlow();
    void sendingPostponesPing();
    void keepAliveOffMeansIdleClose();
    void destroyedFromExpiryIsSafe();
    void destructionCancelsTimers();
    void tricklingMessageHitsDeadline();
    void completedMessageEndsDeadline();
    void nextMessageGetsItsOwnDeadline();
    void noMessageDeadlineWhenZero();
};

void TstFlowLiveness::inboundClosesWhenIdle() {
    base::ManualClock clock;
    Probe probe;
    auto flow = makeFlow(clock, config(10min, 90s, 10s), FlowLiveness::Role::Inbound, probe);
    clock.advance(10min - 1ms);
    QVERIFY(probe.expiries.empty());
    clock.advance(1ms);
    QCOMPARE(probe.expiries.size(), std::size_t(1));
    QCOMPARE(probe.expiries[0].kind, ErrorKind::Timeout);
}

void TstFlowLiveness::trafficPostponesIdle() {
    base::ManualClock clock;
    Probe probe;
    auto flow = makeFlow(clock, config(60s, 0ms, 10s), FlowLiveness::Role::Inbound, probe);
    clock.advance(50s);
    flow->onReceived();
    clock.advance(50s);
    flow->onSent();
    clock.advance(59s);
    QVERIFY(probe.expiries.empty());
    clock.advance(1s);
    QCOMPARE(probe.expiries.size(), std::size_t(1));
    QCOMPARE(probe.pings, 0);
}

void TstFlowLiveness::inboundNeverPings() {
    base::ManualClock clock;
    Probe probe;
    auto flow = makeFlow(clock, config(10min, 30s, 10s), FlowLiveness::Role::Inbound, probe);
    clock.advance(9min);
    QCOMPARE(probe.pings, 0);
}

void TstFlowLiveness::outboundPingsWhenIdle() {
    base::ManualClock clock;
    Probe probe;
    auto flow = makeFlow(clock, config(10min, 90s, 10s), FlowLiveness::Role::Outbound, probe);
    clock.advance(90s - 1ms);
    QCOMPARE(probe.pings, 0);
    clock.advance(1ms);
    QCOMPARE(probe.pings, 1);
    QVERIFY(flow->awaitingPong());
}

void TstFlowLiveness::answeredPingsKeepTheFlow() {
    base::ManualClock clock;
    Probe probe;
    auto flow = makeFlow(clock, config(10min, 90s, 10s), FlowLiveness::Role::Outbound, probe);
    // An hour of silence but for ping/pong: the peer answers each ping at once.
    for (int i = 0; i < 40; ++i) {
        clock.advance(90s);
        QCOMPARE(probe.pings, i + 1);
        clock.advance(1s);
        flow->onReceived();  // the pong
        QVERIFY(!flow->awaitingPong());
    }
    QVERIFY(probe.expiries.empty());
    // Pings go out one interval after the last pong.
    clock.advance(89s);
    QCOMPARE(probe.pings, 40);
    clock.advance(1s);
    QCOMPARE(probe.pings, 41);
}

void TstFlowLiveness::missingPongFailsTheFlow() {
    base::ManualClock clock;
    Probe probe;
    auto flow = makeFlow(clock, config(10min, 90s, 10s), FlowLiveness::Role::Outbound, probe);
    clock.advance(90s);
    QCOMPARE(probe.pings, 1);
    clock.advance(10s - 1ms);
    QVERIFY(probe.expiries.empty());
    clock.advance(1ms);
    QCOMPARE(probe.expiries.size(), std::size_t(1));
    QCOMPARE(probe.expiries[0].kind, ErrorKind::Transport);
}

void TstFlowLiveness::sendingPostponesPing() {
    base::ManualClock clock;
    Probe probe;
    auto flow = makeFlow(clock, config(10min, 90s, 10s), FlowLiveness::Role::Outbound, probe);
    clock.advance(60s);
    flow->onSent();
    clock.advance(60s);
    QCOMPARE(probe.pings, 0);  // 60 s since the last message
    clock.advance(30s);
    QCOMPARE(probe.pings, 1);
}

void TstFlowLiveness::keepAliveOffMeansIdleClose() {
    base::ManualClock clock;
    Probe probe;
    auto flow = makeFlow(clock, config(2min, 0ms, 10s), FlowLiveness::Role::Outbound, probe);
    clock.advance(2min);
    QCOMPARE(probe.pings, 0);
    QCOMPARE(probe.expiries.size(), std::size_t(1));
    QCOMPARE(probe.expiries[0].kind, ErrorKind::Timeout);
}

void TstFlowLiveness::destroyedFromExpiryIsSafe() {
    base::ManualClock clock;
    std::unique_ptr<FlowLiveness> flow;
    int expired = 0;
    FlowLiveness::Handler handler;
    handler.expired = [&](const Error&) {
        ++expired;
        flow.reset();  // what a connection does when it closes
    };
    flow = std::make_unique<FlowLiveness>(clock, config(1min, 0ms, 10s),
                                          FlowLiveness::Role::Inbound, std::move(handler));
    clock.advance(5min);
    QCOMPARE(expired, 1);
    QVERIFY(!flow);
    QCOMPARE(clock.pendingTimers(), std::size_t(0));
}

void TstFlowLiveness::destructionCancelsTimers() {
    base::ManualClock clock;
    Probe probe;
    auto flow = makeFlow(clock, config(1min, 30s, 10s), FlowLiveness::Role::Outbound, probe);
    QVERIFY(clock.pendingTimers() > 0);
    flow.reset();
    QCOMPARE(clock.pendingTimers(), std::size_t(0));
    clock.advance(10min);
    QCOMPARE(probe.pings, 0);
    QVERIFY(probe.expiries.empty());
}

void TstFlowLiveness::tricklingMessageHitsDeadline() {
    // Slow loris: a byte every 5 s keeps the flow from idling, but the message it never
    // finishes ends it 30 s after its first byte.
    base::ManualClock clock;
    Probe probe;
    FlowTimersConfig c = config(60s, 0ms, 10s);
    c.incompleteMessageTimeout = 30s;
    auto flow = makeFlow(clock, c, FlowLiveness::Role::Inbound, probe);
    QVERIFY(!flow->awaitingMessageEnd());
    for (int i = 0; i < 5; ++i) {
        flow->onReceived();
        flow->onPartialMessage();
        clock.advance(5s);
    }
    QVERIFY(flow->awaitingMessageEnd());
    flow->onReceived();
    flow->onPartialMessage();  // does not restart the deadline
    clock.advance(5s - 1ms);
    QVERIFY(probe.expiries.empty());
    clock.advance(1ms);
    QCOMPARE(probe.expiries.size(), std::size_t(1));
    QCOMPARE(probe.expiries[0].kind, ErrorKind::Limit);
}

void TstFlowLiveness::completedMessageEndsDeadline() {
    base::ManualClock clock;
    Probe probe;
    FlowTimersConfig c = config(10min, 0ms, 10s);
    c.incompleteMessageTimeout = 30s;
    auto flow = makeFlow(clock, c, FlowLiveness::Role::Outbound, probe);
    flow->onPartialMessage();
    clock.advance(29s);
    flow->onMessageComplete();
    QVERIFY(!flow->awaitingMessageEnd());
    clock.advance(5min);
    QVERIFY(probe.expiries.empty());
}

void TstFlowLiveness::nextMessageGetsItsOwnDeadline() {
    base::ManualClock clock;
    Probe probe;
    FlowTimersConfig c = config(10min, 0ms, 10s);
    c.incompleteMessageTimeout = 30s;
    auto flow = makeFlow(clock, c, FlowLiveness::Role::Inbound, probe);
    flow->onPartialMessage();
    clock.advance(20s);
    // One read completes the first message and starts the second.
    flow->onMessageComplete();
    flow->onPartialMessage();
    clock.advance(29s);
    QVERIFY(probe.expiries.empty());
    clock.advance(1s);
    QCOMPARE(probe.expiries.size(), std::size_t(1));
    QCOMPARE(probe.expiries[0].kind, ErrorKind::Limit);
}

void TstFlowLiveness::noMessageDeadlineWhenZero() {
    base::ManualClock clock;
    Probe probe;
    FlowTimersConfig c = config(10min, 0ms, 10s);
    c.incompleteMessageTimeout = 0ms;
    auto flow = makeFlow(clock, c, FlowLiveness::Role::Inbound, probe);
    flow->onPartialMessage();
    QVERIFY(!flow->awaitingMessageEnd());
    clock.advance(9min);
    QVERIFY(probe.expiries.empty());
    clock.advance(1min);
    QCOMPARE(probe.expiries.size(), std::size_t(1));
    QCOMPARE(probe.expiries[0].kind, ErrorKind::Timeout);  // only the idle timer
}

QTEST_GUILESS_MAIN(TstFlowLiveness)
#include "tst_flow_liveness.moc"
