#include "base/timer_queue.h"

namespace sb::base {

TimerId DeadlineSet::add(TimePoint deadline, TimerQueue::Callback callback) {
    const TimerId id = m_nextId++;
    m_byDeadline.emplace(Key{deadline, id}, std::move(callback));
    m_deadlineOf.emplace(id, deadline);
    return id;
}

void DeadlineSet::remove(TimerId id) {
    auto it = m_deadlineOf.find(id);
    if (it == m_deadlineOf.end()) return;
    m_byDeadline.erase(Key{it->second, id});
    m_deadlineOf.erase(it);
}

std::optional<TimePoint> DeadlineSet::earliest() const {
    if (m_byDeadline.empty()) return std::nullopt;
    return m_byDeadline.begin()->first.first;
}

std::optional<TimerQueue::Callback> DeadlineSet::takeDue(TimePoint now) {
    if (m_byDeadline.empty()) return std::nullopt;
    auto first = m_byDeadline.begin();
    if (first->first.first > now) return std::nullopt;
    TimerQueue::Callback callback = std::move(first->second);
    m_deadlineOf.erase(first->first.second);
    m_byDeadline.erase(first);
    return callback;
}

}  // namespace sb::base
