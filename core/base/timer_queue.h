#pragma once

#include <QtGlobal>

#include <functional>
#include <optional>
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
// A binary heap of (deadline, start order, slot) beside the callbacks in reused slots.
// Protocol timers are started and cancelled by the ten thousand a second under load
// (every transaction starts two or three), so a timer costs no allocation of its own
// (a hash node per timer cost more than the heap), cancel only frees the slot, and the
// heap entry is skipped when it comes up; the heap is rebuilt without such entries when
// they outnumber the live ones, so it stays bounded by the timers pending. An id names
// a slot and its generation, so an old id never cancels the slot's next timer.
class DeadlineSet {
public:
    TimerId add(TimePoint deadline, TimerQueue::Callback callback);
    void remove(TimerId id);
    std::optional<TimePoint> earliest() const;
    // Removes and returns the earliest timer if it is due at `now`.
    std::optional<TimerQueue::Callback> takeDue(TimePoint now);
    std::size_t size() const { return m_live; }

private:
    struct Slot {
        TimerQueue::Callback callback;
        quint32 generation = 1;  // bumped when the slot is freed
        bool used = false;
    };
    struct Entry {
        TimePoint deadline;
        quint64 order;  // start order, for ties
        quint32 slot;
        quint32 generation;
        // std::push_heap builds a max-heap: "less" here means "fires later".
        bool operator<(const Entry& other) const {
            return deadline != other.deadline ? deadline > other.deadline : order > other.order;
        }
    };
    bool isLive(const Entry& entry) const {
        const Slot& slot = m_slots[entry.slot];
        return slot.used && slot.generation == entry.generation;
    }
    void release(quint32 index);
    // Drops cancelled entries from the top of the heap (const: they were already gone).
    void skipCancelled() const;
    void compactIfSparse();

    mutable std::vector<Entry> m_heap;
    std::vector<Slot> m_slots;
    std::vector<quint32> m_freeSlots;
    std::size_t m_live = 0;
    quint64 m_nextOrder = 0;
};

}  // namespace sb::base
