#pragma once

#include <chrono>
#include <functional>

#include "base/timer_queue.h"

namespace sb::base {

// CPU time the calling thread has used so far (CLOCK_THREAD_CPUTIME_ID).
std::chrono::microseconds threadCpuTime();

// How long work that can wait (presence publishing) should wait so that the work that
// cannot (routing calls) keeps the thread: "calls before presence".
//
// Every `period` it measures how busy the thread that created it was — its CPU time
// over the wall time since the last sample. While the thread stays busy (two samples in
// a row at `busyAbove` or more) the hold starts at `firstHold` and doubles with every
// busy sample up to `maxHold`; once it is idle again (below `idleBelow`) the hold halves
// with every sample until it is under `firstHold`, then ends. Between the two marks it
// stays as it is, so that the load the held work would add does not switch it on and off
// at every sample.
class LoadPacer {
public:
    struct Options {
        Duration period = std::chrono::milliseconds(250);
        double busyAbove = 0.85;
        double idleBelow = 0.60;
        Duration firstHold = std::chrono::milliseconds(250);
        Duration maxHold = std::chrono::seconds(4);
    };
    using CpuClock = std::function<std::chrono::microseconds()>;

    // `cpu` reads the measured thread's CPU time (threadCpuTime in production).
    LoadPacer(TimerQueue& timers, CpuClock cpu, Options options);
    LoadPacer(TimerQueue& timers, CpuClock cpu) : LoadPacer(timers, std::move(cpu), Options{}) {}
    ~LoadPacer();
    LoadPacer(const LoadPacer&) = delete;
    LoadPacer& operator=(const LoadPacer&) = delete;

    // How long deferrable work should wait now; zero while the thread is not busy.
    Duration hold() const { return m_hold; }
    // The busy fraction of the last sample (0 to 1).
    double busy() const { return m_busy; }

    // Called when the hold starts (from zero) and when it ends (back to zero).
    void setListener(std::function<void(Duration hold, double busy)> listener) {
        m_listener = std::move(listener);
    }

private:
    void sample();

    TimerQueue& m_timers;
    CpuClock m_cpu;
    Options m_options;
    TimerId m_timer = kNoTimer;
    TimePoint m_lastWall;
    std::chrono::microseconds m_lastCpu{0};
    double m_busy = 0;
    int m_busySamples = 0;  // busy samples in a row
    Duration m_hold{0};
    std::function<void(Duration, double)> m_listener;
};

}  // namespace sb::base
