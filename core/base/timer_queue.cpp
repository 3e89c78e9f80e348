#include "base/timer_queue.h"

#include <algorithm>

namespace sb::base {

namespace {
// Below this many heap entries a rebuild is not worth its pass.
constexpr std::size_t kCompactFloor = 1024;
}  // namespace

TimerId DeadlineSet::add(TimePoint deadline, TimerQueue::Callback callback) {
    const TimerId id = m_nextId++;
    m_callbacks.emplace(id, std::move(callback));
    m_heap.push_back(Entry{deadline, id});
    std::push_heap(m_heap.begin(), m_heap.end());
    compactIfSparse();
    return id;
}

void DeadlineSet::remove(TimerId id) {
    m_callbacks.erase(id);
}

void DeadlineSet::skipCancelled() const {
    while (!m_heap.empty() && !m_callbacks.contains(m_heap.front().id)) {
        std::pop_heap(m_heap.begin(), m_heap.end());
        m_heap.pop_back();
    }
}

void DeadlineSet::compactIfSparse() {
    if (m_heap.size() < kCompactFloor || m_heap.size() <= 2 * m_callbacks.size()) return;
    std::erase_if(m_heap, [this](const Entry& entry) { return !m_callbacks.contains(entry.id); });
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
    const TimerId id = m_heap.front().id;
    std::pop_heap(m_heap.begin(), m_heap.end());
    m_heap.pop_back();
    auto found = m_callbacks.find(id);
    TimerQueue::Callback callback = std::move(found->second);
    m_callbacks.erase(found);
    return callback;
}

}  // namespace sb::base
