#pragma once

#include <QByteArray>
#include <QHashFunctions>

#include <deque>
#include <functional>
#include <unordered_map>

#include "base/timer_queue.h"

namespace sb::ua {

// Lets keys out at most `ratePerSecond` per second, in the order they came, from the
// event loop (a timer), never from inside enqueue(). It paces new SUBSCRIBEs so that a
// board of 2,000 extensions, or a server restart that ends them all at once, does not
// flood the server (issue 3; RFC 6665 §4.1.2.1 leaves the rate to the subscriber).
// Releases keep a fixed grid of 1/rate, so a burst never runs ahead of it.
class SubscribePacer {
public:
    using Release = std::function<void(const QByteArray& key)>;

    // `ratePerSecond` <= 0: no pacing (every queued key leaves on the next loop turn).
    SubscribePacer(base::TimerQueue& timers, double ratePerSecond, Release release);
    ~SubscribePacer();

    SubscribePacer(const SubscribePacer&) = delete;
    SubscribePacer& operator=(const SubscribePacer&) = delete;

    // Queues `key` at the back; a key already queued keeps its place.
    void enqueue(const QByteArray& key);
    // Drops a queued key; false when it was not queued.
    bool remove(const QByteArray& key);
    bool contains(const QByteArray& key) const;
    std::size_t size() const { return m_queued.size(); }
    // Entries held in the order queue, removed ones included (bounded: at most about
    // twice size(); for tests).
    std::size_t backlog() const { return m_order.size(); }
    void clear();

private:
    struct KeyHash {
        size_t operator()(const QByteArray& key) const noexcept { return qHash(key); }
    };

    // One place in the order; live while m_queued maps its key to the same ticket (a
    // key removed and queued again gets a new ticket, so its old place is dead).
    struct Entry {
        QByteArray key;
        quint64 ticket = 0;
    };

    void schedule();
    void fire();
    void compact();
    bool isLive(const Entry& entry) const;
    double nowMs() const;

    base::TimerQueue& m_timers;
    double m_intervalMs = 0;
    Release m_release;
    // Removal is lazy: an entry popped from the deque leaves only if it is still live.
    // Dead entries are compacted away once they outnumber the live ones, so monitor /
    // unmonitor churn cannot grow the deque without bound.
    std::deque<Entry> m_order;
    std::unordered_map<QByteArray, quint64, KeyHash> m_queued;  // key → ticket
    quint64 m_nextTicket = 0;
    double m_nextSlotMs = -1e18;
    base::TimerId m_timer = base::kNoTimer;
};

}  // namespace sb::ua
