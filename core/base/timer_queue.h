#pragma once

#include <QtGlobal>

#include <functional>
#include <optional>
#include <unordered_map>
#include <vector>

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
//
// A binary heap of (deadline, id) beside the callbacks by id. Protocol timers are
// started and cancelled by the ten thousand a second under load (every transaction
// starts two or three), so cancel only forgets the callback and the heap entry is
// skipped when it comes up; the heap is rebuilt without such entries when they
// outnumber the live ones, so it stays bounded by the timers pending.
class DeadlineSet {
public:
    TimerId add(TimePoint deadline, TimerQueue::Callback callback);
    void remove(TimerId id);
    std::optional<TimePoint> earliest() const;
    // Removes and returns the earliest timer if it is due at `now`.
    std::optional<TimerQueue::Callback> takeDue(TimePoint now);
    std::size_t size() const { return m_callbacks.size(); }

private:
    struct Entry {
        TimePoint deadline;
        TimerId id;
        // std::push_heap builds a max-heap: "less" here means "fires later".
        bool operator<(const Entry& other) const {
            return deadline != other.deadline ? deadline > other.deadline : id > other.id;
        }
    };
    // Drops cancelled entries from the top of the heap (const: they were already gone).
    void skipCancelled() const;
    void compactIfSparse();

    mutable std::vector<Entry> m_heap;
    std::unordered_map<TimerId, TimerQueue::Callback> m_callbacks;
    TimerId m_nextId = 1;
};

}  // namespace sb::base
