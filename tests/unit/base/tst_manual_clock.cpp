// ManualClock: the test clock every protocol timer test stands on. Timers fire only on
// advance(), in deadline order (ties in start order), each with now() at its deadline.

#include <QTest>

#include <vector>

#include "base/manual_clock.h"

using namespace sb::base;
using namespace std::chrono_literals;

class TestManualClock : public QObject {
    Q_OBJECT

private slots:
    void timeMovesOnlyOnAdvance();
    void firesInDeadlineOrder();
    void tiesFireInStartOrder();
    void nowIsTheDeadlineInsideCallbacks();
    void notDueNotFired();
    void cancelForgetsTimer();
    void cancelUnknownOrFiredIsHarmless();
    void callbackStartsTimerDueInSameAdvance();
    void callbackStartsZeroDelayTimer();
    void callbackCancelsLaterTimer();
    void callbackCancelsItself();
    void negativeDelayFiresOnNextAdvance();
    void advanceToNextTimer();
    void untilNextTimer();
    void idsAreUniqueAndNeverNoTimer();
    void staleIdNeverCancelsALaterTimer();
    void retransmissionScheduleWithoutSleeping();
};

void TestManualClock::timeMovesOnlyOnAdvance() {
    ManualClock clock;
    const TimePoint start = clock.now();
    QCOMPARE(clock.now(), start);
    clock.advance(1500ms);
    QCOMPARE(clock.now() - start, Duration(1500));
    clock.advance(0ms);
    QCOMPARE(clock.now() - start, Duration(1500));
    ManualClock custom(TimePoint(Duration(42)));
    QCOMPARE(custom.now().time_since_epoch(), Duration(42));
}

void TestManualClock::firesInDeadlineOrder() {
    ManualClock clock;
    std::vector<int> fired;
    clock.start(300ms, [&] { fired.push_back(3); });
    clock.start(100ms, [&] { fired.push_back(1); });
    clock.start(200ms, [&] { fired.push_back(2); });
    QCOMPARE(clock.pendingTimers(), std::size_t(3));
    clock.advance(1s);
    QCOMPARE(fired, (std::vector<int>{1, 2, 3}));
    QCOMPARE(clock.pendingTimers(), std::size_t(0));
}

void TestManualClock::tiesFireInStartOrder() {
    ManualClock clock;
    std::vector<int> fired;
    for (int i = 0; i < 5; ++i)
        clock.start(500ms, [&fired, i] { fired.push_back(i); });
    clock.advance(500ms);
    QCOMPARE(fired, (std::vector<int>{0, 1, 2, 3, 4}));
}

void TestManualClock::nowIsTheDeadlineInsideCallbacks() {
    ManualClock clock;
    const TimePoint start = clock.now();
    std::vector<Duration> seen;
    clock.start(500ms, [&] { seen.push_back(clock.now() - start); });
    clock.start(4s, [&] { seen.push_back(clock.now() - start); });
    clock.advance(32s);
    QCOMPARE(seen, (std::vector<Duration>{500ms, 4s}));
    QCOMPARE(clock.now() - start, Duration(32s));
}

void TestManualClock::notDueNotFired() {
    ManualClock clock;
    int fired = 0;
    clock.start(1000ms, [&] { ++fired; });
    clock.advance(999ms);
    QCOMPARE(fired, 0);
    clock.advance(1ms);  // exactly at the deadline
    QCOMPARE(fired, 1);
    clock.advance(10s);
    QCOMPARE(fired, 1);  // one-shot
}

void TestManualClock::cancelForgetsTimer() {
    ManualClock clock;
    int fired = 0;
    const TimerId id = clock.start(100ms, [&] { ++fired; });
    clock.start(200ms, [&] { fired += 10; });
    clock.cancel(id);
    QCOMPARE(clock.pendingTimers(), std::size_t(1));
    clock.advance(1s);
    QCOMPARE(fired, 10);
}

void TestManualClock::cancelUnknownOrFiredIsHarmless() {
    ManualClock clock;
    int fired = 0;
    const TimerId id = clock.start(10ms, [&] { ++fired; });
    clock.advance(10ms);
    clock.cancel(id);
    clock.cancel(id);
    clock.cancel(kNoTimer);
    clock.cancel(987654);
    QCOMPARE(fired, 1);
    QCOMPARE(clock.pendingTimers(), std::size_t(0));
}

// RFC 3261 timers restart themselves (timer A doubling): a timer started from a callback
// and due before the end of the advance fires within the same advance.
void TestManualClock::callbackStartsTimerDueInSameAdvance() {
    ManualClock clock;
    const TimePoint start = clock.now();
    std::vector<Duration> fired;
    std::function<void(Duration)> arm = [&](Duration interval) {
        clock.start(interval, [&, interval] {
            fired.push_back(clock.now() - start);
            if (interval < 4s) arm(interval * 2);
        });
    };
    arm(500ms);
    clock.advance(10s);
    QCOMPARE(fired, (std::vector<Duration>{500ms, 1500ms, 3500ms, 7500ms}));
    QCOMPARE(clock.pendingTimers(), std::size_t(0));
}

void TestManualClock::callbackStartsZeroDelayTimer() {
    ManualClock clock;
    std::vector<int> fired;
    clock.start(100ms, [&] {
        fired.push_back(1);
        clock.start(0ms, [&] { fired.push_back(2); });
    });
    clock.start(100ms, [&] { fired.push_back(3); });
    clock.advance(100ms);
    // The zero-delay timer is due at the same instant, after those already queued.
    QCOMPARE(fired, (std::vector<int>{1, 3, 2}));
}

void TestManualClock::callbackCancelsLaterTimer() {
    ManualClock clock;
    int late = 0;
    TimerId lateId = kNoTimer;
    clock.start(100ms, [&] { clock.cancel(lateId); });
    lateId = clock.start(200ms, [&] { ++late; });
    clock.advance(1s);
    QCOMPARE(late, 0);
}

void TestManualClock::callbackCancelsItself() {
    ManualClock clock;
    int fired = 0;
    TimerId self = kNoTimer;
    self = clock.start(100ms, [&] {
        ++fired;
        clock.cancel(self);
    });
    clock.advance(1s);
    QCOMPARE(fired, 1);
}

void TestManualClock::negativeDelayFiresOnNextAdvance() {
    ManualClock clock;
    int fired = 0;
    clock.start(Duration(-50), [&] { ++fired; });
    QCOMPARE(fired, 0);  // never synchronously inside start()
    clock.advance(0ms);
    QCOMPARE(fired, 1);
}

void TestManualClock::advanceToNextTimer() {
    ManualClock clock;
    const TimePoint start = clock.now();
    std::vector<int> fired;
    clock.start(2s, [&] { fired.push_back(2); });
    clock.start(5s, [&] { fired.push_back(5); });
    QVERIFY(clock.advanceToNextTimer());
    QCOMPARE(fired, (std::vector<int>{2}));
    QCOMPARE(clock.now() - start, Duration(2s));
    QVERIFY(clock.advanceToNextTimer());
    QCOMPARE(clock.now() - start, Duration(5s));
    QVERIFY(!clock.advanceToNextTimer());
    QCOMPARE(clock.now() - start, Duration(5s));
}

void TestManualClock::untilNextTimer() {
    ManualClock clock;
    QVERIFY(!clock.untilNextTimer().has_value());
    clock.start(3s, [] {});
    clock.start(1s, [] {});
    QCOMPARE(clock.untilNextTimer(), std::optional<Duration>(1s));
    clock.advance(400ms);
    QCOMPARE(clock.untilNextTimer(), std::optional<Duration>(600ms));
    clock.advance(600ms);
    QCOMPARE(clock.untilNextTimer(), std::optional<Duration>(2s));
}

void TestManualClock::idsAreUniqueAndNeverNoTimer() {
    ManualClock clock;
    std::vector<TimerId> ids;
    for (int i = 0; i < 100; ++i) {
        const TimerId id = clock.start(Duration(i), [] {});
        QVERIFY(id != kNoTimer);
        for (TimerId seen : ids)
            QVERIFY(seen != id);
        ids.push_back(id);
    }
}

// Ids of fired or cancelled timers stay harmless when their storage is reused.
void TestManualClock::staleIdNeverCancelsALaterTimer() {
    ManualClock clock;
    int fired = 0;
    const TimerId first = clock.start(1ms, [&] { ++fired; });
    clock.advance(1ms);
    const TimerId second = clock.start(1ms, [&] { fired += 10; });
    QVERIFY(second != first);
    clock.cancel(first);
    const TimerId third = clock.start(1ms, [&] { fired += 100; });
    clock.cancel(third);
    const TimerId fourth = clock.start(1ms, [&] { fired += 1000; });
    QVERIFY(fourth != third);
    clock.cancel(third);
    QCOMPARE(clock.pendingTimers(), std::size_t(2));
    clock.advance(1ms);
    QCOMPARE(fired, 1011);
    QCOMPARE(clock.pendingTimers(), std::size_t(0));
}

// RFC 3261 §17.1.2.2 with T1 = 500 ms, T2 = 4 s: timer E retransmits at 0.5, 1.5, 3.5,
// 7.5, 11.5, ... s and timer F ends it at 64*T1 = 32 s - all in one advance().
void TestManualClock::retransmissionScheduleWithoutSleeping() {
    ManualClock clock;
    const TimePoint start = clock.now();
    std::vector<Duration> sends;
    bool timedOut = false;
    TimerId timerE = kNoTimer;
    Duration interval = 500ms;
    std::function<void()> onE = [&] {
        sends.push_back(clock.now() - start);
        interval = std::min<Duration>(interval * 2, 4s);
        timerE = clock.start(interval, onE);
    };
    timerE = clock.start(interval, onE);
    clock.start(32s, [&] {
        timedOut = true;
        clock.cancel(timerE);
    });
    clock.advance(40s);
    QVERIFY(timedOut);
    QCOMPARE(sends, (std::vector<Duration>{500ms, 1500ms, 3500ms, 7500ms, 11500ms, 15500ms, 19500ms,
                                           23500ms, 27500ms, 31500ms}));
    QCOMPARE(clock.pendingTimers(), std::size_t(0));
}

QTEST_GUILESS_MAIN(TestManualClock)
#include "tst_manual_clock.moc"
