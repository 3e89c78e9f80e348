#pragma once

#include <QObject>
#include <QTimer>

#include "base/timer_queue.h"

namespace sb::base {

// The production TimerQueue: steady time, one QTimer armed for the earliest deadline,
// so thousands of protocol timers cost one Qt timer.
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
};

}  // namespace sb::base
