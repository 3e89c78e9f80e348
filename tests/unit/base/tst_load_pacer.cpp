// LoadPacer: "calls before presence". How busy the thread is comes from an injected CPU
// clock and the manual clock, so every load is exact and nothing sleeps.

#include <QTest>

#include <vector>

#include "base/load_pacer.h"
#include "base/manual_clock.h"

using namespace sb::base;
using namespace std::chrono_literals;

namespace {
// A thread whose CPU time the test sets: each period it spends `busy` of the wall time.
struct FakeThread {
    ManualClock clock;
    std::chrono::microseconds cpu{5'000'000};
    LoadPacer::CpuClock cpuClock() {
        return [this] { return cpu; };
    }
    // One sampling period (250 ms) at `busy`.
    void period(double busy) {
        cpu += std::chrono::microseconds(qint64(busy * 250'000));
        clock.advance(250ms);
    }
    // The pacer's hold after each of the periods at `loads`.
    std::vector<Duration> holdsAfter(const LoadPacer& pacer, std::initializer_list<double> loads) {
        std::vector<Duration> holds;
        for (const double busy : loads) {
            period(busy);
            holds.push_back(pacer.hold());
        }
        return holds;
    }
};
using Holds = std::vector<Duration>;
}  // namespace

class TestLoadPacer : public QObject {
    Q_OBJECT

private slots:
    void idleThreadNeverHolds();
    void oneBusySampleIsABurst();
    void holdDoublesUpToItsMaximum();
    void betweenTheMarksTheHoldStays();
    void idleHalvesTheHoldThenEndsIt();
    void listenerHearsStartAndEnd();
    void destructionStopsSampling();
    void threadCpuTimeCountsThisThreadsWork();
};

void TestLoadPacer::idleThreadNeverHolds() {
    FakeThread thread;
    LoadPacer pacer(thread.clock, thread.cpuClock());
    for (int i = 0; i < 20; ++i) {
        thread.period(0.5);
        QCOMPARE(pacer.hold(), 0ms);
    }
    QCOMPARE(pacer.busy(), 0.5);
}

void TestLoadPacer::oneBusySampleIsABurst() {
    FakeThread thread;
    LoadPacer pacer(thread.clock, thread.cpuClock());
    // Start-up, say; then busy again but not twice in a row; then twice.
    QCOMPARE(thread.holdsAfter(pacer, {1.0, 0.2, 0.95, 0.9}), (Holds{0ms, 0ms, 0ms, 250ms}));
}

void TestLoadPacer::holdDoublesUpToItsMaximum() {
    FakeThread thread;
    LoadPacer pacer(thread.clock, thread.cpuClock());
    QCOMPARE(thread.holdsAfter(pacer, {1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0}),
             (Holds{0ms, 250ms, 500ms, 1s, 2s, 4s, 4s, 4s}));
    // A thread that spends more CPU than wall time (a late sample) counts as fully busy.
    thread.cpu += 10s;
    thread.clock.advance(250ms);
    QCOMPARE(pacer.busy(), 1.0);
}

void TestLoadPacer::betweenTheMarksTheHoldStays() {
    FakeThread thread;
    LoadPacer pacer(thread.clock, thread.cpuClock());
    QCOMPARE(thread.holdsAfter(pacer, {0.9, 0.9, 0.9}), (Holds{0ms, 250ms, 500ms}));
    // Holding sheds load: the thread lands between the marks, and the hold keeps. Busy
    // again, a single sample is not enough: the count starts over.
    QCOMPARE(thread.holdsAfter(pacer, {0.7, 0.7, 0.7, 0.7, 0.85, 0.85}),
             (Holds{500ms, 500ms, 500ms, 500ms, 500ms, 1s}));
}

void TestLoadPacer::idleHalvesTheHoldThenEndsIt() {
    FakeThread thread;
    LoadPacer pacer(thread.clock, thread.cpuClock());
    QCOMPARE(thread.holdsAfter(pacer, {1.0, 1.0, 1.0, 1.0, 0.3, 0.3, 0.3, 0.3}),
             (Holds{0ms, 250ms, 500ms, 1s, 500ms, 250ms, 0ms, 0ms}));
}

void TestLoadPacer::listenerHearsStartAndEnd() {
    FakeThread thread;
    LoadPacer pacer(thread.clock, thread.cpuClock());
    std::vector<Duration> heard;
    pacer.setListener([&](Duration hold, double) { heard.push_back(hold); });
    for (int i = 0; i < 5; ++i)
        thread.period(1.0);  // starts, then only grows
    for (int i = 0; i < 6; ++i)
        thread.period(0.1);  // shrinks, then ends
    QCOMPARE(heard, (std::vector<Duration>{250ms, 0ms}));
}

void TestLoadPacer::destructionStopsSampling() {
    FakeThread thread;
    {
        LoadPacer pacer(thread.clock, thread.cpuClock());
        QCOMPARE(thread.clock.pendingTimers(), std::size_t(1));
        thread.period(1.0);
        QCOMPARE(thread.clock.pendingTimers(), std::size_t(1));  // one sample timer at a time
    }
    QCOMPARE(thread.clock.pendingTimers(), std::size_t(0));
}

void TestLoadPacer::threadCpuTimeCountsThisThreadsWork() {
    const std::chrono::microseconds before = threadCpuTime();
    QVERIFY(before.count() > 0);
    volatile quint64 sum = 0;
    for (quint64 i = 0; i < 50'000'000; ++i)
        sum = sum + i;
    QVERIFY(threadCpuTime() > before);
}

QTEST_APPLESS_MAIN(TestLoadPacer)
#include "tst_load_pacer.moc"
