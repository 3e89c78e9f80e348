#pragma once

#include <QObject>
#include <QTimer>

#include <optional>

#include "base/timer_queue.h"

namespace sb::base {

// The production TimerQueue: steady time, one QTimer armed for the earliest deadline,
// so thousands of protocol timers cost one Qt timer. The QTimer is re-armed only when a
// new deadline comes before the armed one: a cancelled timer may leave it armed early,
// and the wake-up then finds nothing due and arms for the next deadline.
class EventLoopTimers final : public QObject, public TimerQueue {
    Q_OBJECT
public:
    explicit EventLoopTimers(QObject* parent = nullptr);

    TimePoint now() const override { return m_clock.now(); }
    TimerId start(Duration after, Callback callback) override;
    void cancel(TimerId id) override;

private:
    void fireDue();
    void rearm();

    SteadyClock m_clock;
    DeadlineSet m_deadlines;
    QTimer m_timer;
    std::optional<TimePoint> m_armedFor;
};

}  // namespace sb::base
