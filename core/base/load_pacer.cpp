#include "base/load_pacer.h"

#include <algorithm>

#include <time.h>

namespace sb::base {

std::chrono::microseconds threadCpuTime() {
    timespec now{};
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now) != 0) return std::chrono::microseconds(0);
    return std::chrono::seconds(now.tv_sec) + std::chrono::duration_cast<std::chrono::microseconds>(
                                                  std::chrono::nanoseconds(now.tv_nsec));
}

LoadPacer::LoadPacer(TimerQueue& timers, CpuClock cpu, Options options)
    : m_timers(timers),
      m_cpu(std::move(cpu)),
      m_options(options),
      m_lastWall(timers.now()),
      m_lastCpu(m_cpu()) {
    m_timer = m_timers.start(m_options.period, [this] { sample(); });
}

LoadPacer::~LoadPacer() {
    m_timers.cancel(m_timer);
}

void LoadPacer::sample() {
    const TimePoint wall = m_timers.now();
    const std::chrono::microseconds cpu = m_cpu();
    const auto wallSpent = std::chrono::duration_cast<std::chrono::microseconds>(wall - m_lastWall);
    if (wallSpent.count() > 0)
        m_busy =
            std::clamp(double((cpu - m_lastCpu).count()) / double(wallSpent.count()), 0.0, 1.0);
    m_lastWall = wall;
    m_lastCpu = cpu;

    const Duration before = m_hold;
    if (m_busy >= m_options.busyAbove) {
        // One busy sample may be a burst (start-up, a directory reload): two in a row
        // are load.
        if (++m_busySamples >= 2)
            m_hold =
                m_hold.count() == 0 ? m_options.firstHold : std::min(m_hold * 2, m_options.maxHold);
    } else {
        m_busySamples = 0;
        if (m_busy < m_options.idleBelow && m_hold.count() != 0) {
            m_hold /= 2;
            if (m_hold < m_options.firstHold) m_hold = Duration(0);
        }
    }
    if (m_listener && (before.count() == 0) != (m_hold.count() == 0)) m_listener(m_hold, m_busy);
    m_timer = m_timers.start(m_options.period, [this] { sample(); });
}

}  // namespace sb::base
