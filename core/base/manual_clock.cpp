#include "base/manual_clock.h"

namespace sb::base {

ManualClock::ManualClock(TimePoint start) : m_now(start) {}

TimerId ManualClock::start(Duration after, Callback callback) {
    return m_deadlines.add(m_now + std::max(after, Duration::zero()), std::move(callback));
}

void ManualClock::cancel(TimerId id) {
    m_deadlines.remove(id);
}

void ManualClock::advance(Duration by) {
    const TimePoint target = m_now + by;
    while (auto next = m_deadlines.earliest()) {
        if (*next > target) break;
        m_now = std::max(m_now, *next);
        if (auto callback = m_deadlines.takeDue(m_now)) (*callback)();
    }
    m_now = target;
}

bool ManualClock::advanceToNextTimer() {
    auto next = m_deadlines.earliest();
    if (!next) return false;
    advance(std::max(Duration::zero(), *next - m_now));
    return true;
}

std::optional<Duration> ManualClock::untilNextTimer() const {
    auto next = m_deadlines.earliest();
    if (!next) return std::nullopt;
    return std::max(Duration::zero(), *next - m_now);
}

}  // namespace sb::base
