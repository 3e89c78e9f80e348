#include "transaction/transaction_context.h"

namespace sb::transaction {

void TransactionTimer::start(base::Duration after, std::function<void()> onFire) {
    stop();
    m_interval = after;
    m_onFire = std::move(onFire);
    m_id = m_context.timers.start(after, [this] { fire(); });
}

void TransactionTimer::stop() {
    if (m_id == base::kNoTimer) return;
    m_context.timers.cancel(m_id);
    m_id = base::kNoTimer;
}

void TransactionTimer::fire() {
    EventScope scope(m_context);
    m_id = base::kNoTimer;
    // Taken out first: the callback may start this timer again with a new one.
    const std::function<void()> onFire = std::move(m_onFire);
    m_onFire = nullptr;
    onFire();
}

}  // namespace sb::transaction
