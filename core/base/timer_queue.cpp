#include "base/timer_queue.h"

#include <algorithm>

namespace sb::base {

namespace {
// Below this many heap entries a rebuild is not worth its pass.
constexpr std::size_t kCompactFloor = 1024;
}  // namespace

TimerId DeadlineSet::add(TimePoint deadline, TimerQueue::Callback callback) {
    quint32 index;
    if (!m_freeSlots.empty()) {
        index = m_freeSlots.back();
        m_freeSlots.pop_back();
    } else {
        index = quint32(m_slots.size());
        m_slots.emplace_back();
    }
    Slot& slot = m_slots[index];
    slot.callback = std::move(callback);
    slot.used = true;
    ++m_live;
    m_heap.push_back(Entry{deadline, m_nextOrder++, index, slot.generation});
    std::push_heap(m_heap.begin(), m_heap.end());
    compactIfSparse();
    return (TimerId(slot.generation) << 32) | index;
}

void DeadlineSet::release(quint32 index) {
    Slot& slot = m_slots[index];
    slot.used = false;
    // Never 0: an id is never kNoTimer.
    if (++slot.generation == 0) slot.generation = 1;
    --m_live;
    m_freeSlots.push_back(index);
}

void DeadlineSet::remove(TimerId id) {
    const auto index = quint32(id & 0xffffffffu);
    if (index >= m_slots.size()) return;
    Slot& slot = m_slots[index];
    if (!slot.used || slot.generation != quint32(id >> 32)) return;  // fired or cancelled
    slot.callback = nullptr;
    release(index);
}

void DeadlineSet::skipCancelled() const {
    while (!m_heap.empty() && !isLive(m_heap.front())) {
        std::pop_heap(m_heap.begin(), m_heap.end());
        m_heap.pop_back();
    }
}

void DeadlineSet::compactIfSparse() {
    if (m_heap.size() < kCompactFloor || m_heap.size() <= 2 * m_live) return;
    std::erase_if(m_heap, [this](const Entry& entry) { return !isLive(entry); });
    std::make_heap(m_heap.begin(), m_heap.end());
}

std::optional<TimePoint> DeadlineSet::earliest() const {
    skipCancelled();
    if (m_heap.empty()) return std::nullopt;
    return m_heap.front().deadline;
}

std::optional<TimerQueue::Callback> DeadlineSet::takeDue(TimePoint now) {
    skipCancelled();
    if (m_heap.empty() || m_heap.front().deadline > now) return std::nullopt;
    const quint32 index = m_heap.front().slot;
    std::pop_heap(m_heap.begin(), m_heap.end());
    m_heap.pop_back();
    std::optional<TimerQueue::Callback> callback(std::move(m_slots[index].callback));
    m_slots[index].callback = nullptr;
    release(index);
    return callback;
}

}  // namespace sb::base
