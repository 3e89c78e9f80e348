#include "transport/flow_liveness.h"

namespace sb::transport {

FlowLiveness::FlowLiveness(base::TimerQueue& timers, const FlowTimersConfig& config, Role role,
                           Handler handler)
    : m_timers(timers),
      m_config(config),
      m_role(role),
      m_handler(std::move(handler)),
      m_lastTraffic(timers.now()) {
    if (m_config.idleTimeout > base::Duration::zero()) armIdle(m_config.idleTimeout);
    if (keepsAlive()) armKeepAlive(m_config.keepAliveInterval);
}

FlowLiveness::~FlowLiveness() {
    m_timers.cancel(m_idleTimer);
    m_timers.cancel(m_keepAliveTimer);
    m_timers.cancel(m_pongTimer);
    m_timers.cancel(m_messageTimer);
}

bool FlowLiveness::keepsAlive() const {
    return m_role == Role::Outbound && m_config.keepAliveInterval > base::Duration::zero();
}

void FlowLiveness::onReceived() {
    m_lastTraffic = m_timers.now();
    if (m_pongTimer != base::kNoTimer) {
        m_timers.cancel(m_pongTimer);
        m_pongTimer = base::kNoTimer;
        // The next ping is due an interval after this answer.
        if (keepsAlive() && m_keepAliveTimer == base::kNoTimer)
            armKeepAlive(m_config.keepAliveInterval);
    }
}

void FlowLiveness::onSent() {
    m_lastTraffic = m_timers.now();
}

void FlowLiveness::onPartialMessage() {
    if (m_messageTimer != base::kNoTimer ||
        m_config.incompleteMessageTimeout <= base::Duration::zero())
        return;
    m_messageTimer =
        m_timers.start(m_config.incompleteMessageTimeout, [this] { onMessageTimer(); });
}

void FlowLiveness::onMessageComplete() {
    m_timers.cancel(m_messageTimer);
    m_messageTimer = base::kNoTimer;
}

void FlowLiveness::armIdle(base::Duration after) {
    m_idleTimer = m_timers.start(after, [this] { onIdleTimer(); });
}

void FlowLiveness::armKeepAlive(base::Duration after) {
    m_keepAliveTimer = m_timers.start(after, [this] { onKeepAliveTimer(); });
}

void FlowLiveness::onIdleTimer() {
    m_idleTimer = base::kNoTimer;
    const base::TimePoint deadline = m_lastTraffic + m_config.idleTimeout;
    const base::TimePoint now = m_timers.now();
    if (now < deadline) {
        armIdle(deadline - now);
        return;
    }
    expire(
        makeError(ErrorKind::Timeout,
                  QStringLiteral("no traffic for %1 s").arg(m_config.idleTimeout.count() / 1000)));
}

void FlowLiveness::onKeepAliveTimer() {
    m_keepAliveTimer = base::kNoTimer;
    const base::TimePoint due = m_lastTraffic + m_config.keepAliveInterval;
    const base::TimePoint now = m_timers.now();
    if (now < due) {
        armKeepAlive(due - now);
        return;
    }
    if (m_handler.sendPing) m_handler.sendPing();
    if (m_config.pongTimeout > base::Duration::zero()) {
        // The keep-alive timer is re-armed when the pong (or anything else) arrives.
        m_pongTimer = m_timers.start(m_config.pongTimeout, [this] { onPongTimer(); });
    } else {
        armKeepAlive(m_config.keepAliveInterval);
    }
}

void FlowLiveness::expire(const Error& error) {
    // The handler may destroy this object: call a copy that lives on the stack.
    const auto expired = m_handler.expired;
    if (expired) expired(error);
}

void FlowLiveness::onMessageTimer() {
    m_messageTimer = base::kNoTimer;
    expire(makeError(ErrorKind::Limit, QStringLiteral("message still incomplete after %1 ms")
                                           .arg(m_config.incompleteMessageTimeout.count())));
}

void FlowLiveness::onPongTimer() {
    m_pongTimer = base::kNoTimer;
    expire(makeError(ErrorKind::Transport,
                     QStringLiteral("no answer to a keep-alive ping within %1 ms")
                         .arg(m_config.pongTimeout.count())));
}

}  // namespace sb::transport
