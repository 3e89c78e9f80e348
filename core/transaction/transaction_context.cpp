#include "transaction/transaction_context.h"

namespace sb::transaction {

void TransactionTimer::start(base::Duration after, std::function<void()> onFire) {
    stop();
    m_interval = after;
    m_id = m_context.timers.start(after, [this, onFire = std::move(onFire)] {
        EventScope scope(m_context);
        m_id = base::kNoTimer;
        onFire();
    });
}

void TransactionTimer::stop() {
    if (m_id == base::kNoTimer) return;
    m_context.timers.cancel(m_id);
    m_id = base::kNoTimer;
}

}  // namespace sb::transaction
