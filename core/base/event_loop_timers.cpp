#include "base/event_loop_timers.h"

namespace sb::base {

EventLoopTimers::EventLoopTimers(QObject* parent) : QObject(parent) {
    m_timer.setSingleShot(true);
    m_timer.setTimerType(Qt::PreciseTimer);
    connect(&m_timer, &QTimer::timeout, this, &EventLoopTimers::fireDue);
}

TimerId EventLoopTimers::start(Duration after, Callback callback) {
    const TimePoint deadline = now() + std::max(after, Duration::zero());
    const TimerId id = m_deadlines.add(deadline, std::move(callback));
    if (!m_armedFor || deadline < *m_armedFor) rearm();
    return id;
}

void EventLoopTimers::cancel(TimerId id) {
    m_deadlines.remove(id);
}

void EventLoopTimers::fireDue() {
    // Callbacks may start or cancel timers; take one at a time.
    const TimePoint limit = now();
    while (auto callback = m_deadlines.takeDue(limit))
        (*callback)();
    rearm();
}

void EventLoopTimers::rearm() {
    m_armedFor = m_deadlines.earliest();
    if (!m_armedFor) {
        m_timer.stop();
        return;
    }
    // Rounded up: a wake-up before the deadline would find nothing due and spin.
    const auto wait = std::max(Duration::zero(), *m_armedFor - now());
    m_timer.start(std::chrono::ceil<std::chrono::milliseconds>(wait));
}

}  // namespace sb::base
