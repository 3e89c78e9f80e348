#include "base/event_loop_timers.h"

namespace sb::base {

EventLoopTimers::EventLoopTimers(QObject* parent) : QObject(parent) {
    m_timer.setSingleShot(true);
    m_timer.setTimerType(Qt::PreciseTimer);
    connect(&m_timer, &QTimer::timeout, this, &EventLoopTimers::fireDue);
}

TimerId EventLoopTimers::start(Duration after, Callback callback) {
    const TimerId id =
        m_deadlines.add(now() + std::max(after, Duration::zero()), std::move(callback));
    rearm();
    return id;
}

void EventLoopTimers::cancel(TimerId id) {
    m_deadlines.remove(id);
    rearm();
}

void EventLoopTimers::fireDue() {
    // Callbacks may start or cancel timers; take one at a time.
    const TimePoint limit = now();
    while (auto callback = m_deadlines.takeDue(limit))
        (*callback)();
    rearm();
}

void EventLoopTimers::rearm() {
    auto next = m_deadlines.earliest();
    if (!next) {
        m_timer.stop();
        return;
    }
    const auto wait = std::max(Duration::zero(), *next - now());
    m_timer.start(std::chrono::duration_cast<std::chrono::milliseconds>(wait));
}

}  // namespace sb::base
