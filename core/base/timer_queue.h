#pragma once

#include <QtGlobal>

#include <functional>
#include <map>
#include <optional>
#include <unordered_map>

#include "base/clock.h"

namespace sb::base {

using TimerId = quint64;
constexpr TimerId kNoTimer = 0;

// One-shot timers on a clock. Protocol state machines take a TimerQueue& so that a
// test can drive every RFC timer with ManualClock::advance() instead of sleeping.
// A callback may start and cancel timers (including its own id, harmlessly).
class TimerQueue : public Clock {
public:
    using Callback = std::function<void()>;

    // Runs `callback` once, `after` from now. Returns an id for cancel(); never kNoTimer.
    virtual TimerId start(Duration after, Callback callback) = 0;
    // Forgets a timer that has not fired; unknown or fired ids are ignored.
    virtual void cancel(TimerId id) = 0;
};

// Deadline bookkeeping shared by the real and the manual timer queue: ordered by
// deadline, ties fire in start order.
class DeadlineSet {
public:
    TimerId add(TimePoint deadline, TimerQueue::Callback callback);
    void remove(TimerId id);
    std::optional<TimePoint> earliest() const;
    // Removes and returns the earliest timer if it is due at `now`.
    std::optional<TimerQueue::Callback> takeDue(TimePoint now);
    std::size_t size() const { return m_byDeadline.size(); }

private:
    using Key = std::pair<TimePoint, TimerId>;
    std::map<Key, TimerQueue::Callback> m_byDeadline;
    std::unordered_map<TimerId, TimePoint> m_deadlineOf;
    TimerId m_nextId = 1;
};

}  // namespace sb::base
