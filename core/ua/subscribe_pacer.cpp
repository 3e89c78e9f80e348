#include "ua/subscribe_pacer.h"

#include <algorithm>
#include <cmath>

namespace sb::ua {

SubscribePacer::SubscribePacer(base::TimerQueue& timers, double ratePerSecond, Release release)
    : m_timers(timers),
      m_intervalMs(ratePerSecond > 0 ? 1000.0 / ratePerSecond : 0.0),
      m_release(std::move(release)) {}

SubscribePacer::~SubscribePacer() {
    if (m_timer != base::kNoTimer) m_timers.cancel(m_timer);
}

double SubscribePacer::nowMs() const {
    return double(m_timers.now().time_since_epoch().count());
}

void SubscribePacer::enqueue(const QByteArray& key) {
    if (!m_queued.insert(key).second) return;
    m_order.push_back(key);
    schedule();
}

bool SubscribePacer::remove(const QByteArray& key) {
    return m_queued.erase(key) > 0;
}

bool SubscribePacer::contains(const QByteArray& key) const {
    return m_queued.count(key) > 0;
}

void SubscribePacer::clear() {
    m_queued.clear();
    m_order.clear();
    if (m_timer != base::kNoTimer) m_timers.cancel(m_timer);
    m_timer = base::kNoTimer;
}

void SubscribePacer::schedule() {
    if (m_timer != base::kNoTimer || m_queued.empty()) return;
    const double wait = std::max(0.0, m_nextSlotMs - nowMs());
    m_timer = m_timers.start(base::Duration(qint64(std::ceil(wait))), [this] {
        m_timer = base::kNoTimer;
        fire();
    });
}

void SubscribePacer::fire() {
    // Half a millisecond of tolerance: the timer queue counts whole milliseconds.
    while (!m_order.empty() && nowMs() + 0.5 >= m_nextSlotMs) {
        QByteArray key = std::move(m_order.front());
        m_order.pop_front();
        if (m_queued.erase(key) == 0) continue;  // removed while queued
        const double now = nowMs();
        // Stay on the grid when at most one slot late; after an idle spell start afresh.
        m_nextSlotMs =
            now - m_nextSlotMs < m_intervalMs ? m_nextSlotMs + m_intervalMs : now + m_intervalMs;
        // The release may enqueue or remove keys (a failure re-queues): the loop and
        // schedule() below see the queue as it is then.
        m_release(key);
    }
    // Keys removed lazily may still sit in the deque with nothing queued behind them.
    if (m_queued.empty()) m_order.clear();
    schedule();
}

}  // namespace sb::ua
