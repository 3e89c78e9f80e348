#pragma once

#include "base/timer_queue.h"

namespace sb::base {

// Test clock: time moves only when advance() is called, and every timer that falls due
// on the way fires in deadline order with now() set to its own deadline.
class ManualClock final : public TimerQueue {
public:
    explicit ManualClock(TimePoint start = TimePoint(Duration(1'000'000)));

    TimePoint now() const override { return m_now; }
    TimerId start(Duration after, Callback callback) override;
    void cancel(TimerId id) override;

    void advance(Duration by);
    // Advances to the next pending deadline (if any) and fires what is due there.
    bool advanceToNextTimer();
    std::size_t pendingTimers() const { return m_deadlines.size(); }
    std::optional<Duration> untilNextTimer() const;

private:
    TimePoint m_now;
    DeadlineSet m_deadlines;
};

}  // namespace sb::base
