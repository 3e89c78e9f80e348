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
    const quint64 ticket = m_nextTicket++;
    if (!m_queued.emplace(key, ticket).second) return;
    m_order.push_back({key, ticket});
    schedule();
}

bool SubscribePacer::remove(const QByteArray& key) {
    if (m_queued.erase(key) == 0) return false;
    // Amortised O(1): a compaction costs O(n) and happens after n/2 removals at least.
    if (m_order.size() > 2 * m_queued.size() + 16) compact();
    return true;
}

bool SubscribePacer::isLive(const Entry& entry) const {
    auto it = m_queued.find(entry.key);
    return it != m_queued.end() && it->second == entry.ticket;
}

void SubscribePacer::compact() {
    std::erase_if(m_order, [this](const Entry& entry) { return !isLive(entry); });
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
        Entry entry = std::move(m_order.front());
        m_order.pop_front();
        if (!isLive(entry)) continue;  // removed (and perhaps queued again) meanwhile
        m_queued.erase(entry.key);
        const QByteArray key = std::move(entry.key);
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
