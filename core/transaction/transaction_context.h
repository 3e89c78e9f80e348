#pragma once

#include <functional>
#include <vector>

#include "base/timer_queue.h"
#include "transaction/transaction_layer.h"
#include "transport/transport.h"

namespace sb::transaction {

// What every state machine shares with the layer that owns it: the transport, the
// timers, the timer values, the TU for server transactions, and the re-entrancy depth.
//
// Transactions are owned by the layer and only erased when no event is being handled
// (depth 0), so a TU may call back into the layer from any callback and nothing is
// deleted inside its own callback.
struct TransactionContext {
    TransactionContext(transport::Transport& transport, base::TimerQueue& timers,
                       base::Random& random, TimerValues values)
        : transport(transport), timers(timers), random(random), values(values) {}

    transport::Transport& transport;
    base::TimerQueue& timers;
    base::Random& random;
    TimerValues values;
    ServerTransactionUser* serverUser = nullptr;
    int depth = 0;
    // Transactions that reached Terminated, erased by `reap` when depth returns to 0.
    std::vector<TransactionId> terminatedClients;
    std::vector<TransactionId> terminatedServers;
    // Server transactions whose request is no longer needed (final response sent),
    // compacted by `reap` too: the TU may still read the request until its event ends.
    std::vector<TransactionId> completedServers;
    std::function<void()> reap;  // erases terminated transactions; run when depth returns to 0

    base::Duration timeout64() const { return 64 * values.t1; }  // Timers B, F, H, J, L, M
};

// Marks the handling of one event (a message, a timer, an API call). When the outermost
// scope ends, terminated transactions are reaped.
class EventScope {
public:
    explicit EventScope(TransactionContext& context) : m_context(context) { ++m_context.depth; }
    ~EventScope() {
        if (--m_context.depth == 0 && m_context.reap) m_context.reap();
    }
    EventScope(const EventScope&) = delete;
    EventScope& operator=(const EventScope&) = delete;

private:
    TransactionContext& m_context;
};

// One named RFC timer of a transaction: restartable, cancelled when its owner dies,
// and its callback runs inside an EventScope.
class TransactionTimer {
public:
    explicit TransactionTimer(TransactionContext& context) : m_context(context) {}
    ~TransactionTimer() { stop(); }
    TransactionTimer(const TransactionTimer&) = delete;
    TransactionTimer& operator=(const TransactionTimer&) = delete;

    void start(base::Duration after, std::function<void()> onFire);
    void stop();
    bool isRunning() const { return m_id != base::kNoTimer; }
    // The interval it was last started with (timers A, E and G double it).
    base::Duration interval() const { return m_interval; }

private:
    void fire();

    TransactionContext& m_context;
    base::TimerId m_id = base::kNoTimer;
    base::Duration m_interval{0};
    // Kept here rather than in the queue's callback, which then captures only `this`
    // and needs no allocation of its own.
    std::function<void()> m_onFire;
};

}  // namespace sb::transaction
