#pragma once

#include <functional>

#include "base/error.h"
#include "base/timer_queue.h"

namespace sb::transport {

struct FlowTimersConfig {
    // A flow with no traffic for this long is closed.
    base::Duration idleTimeout = std::chrono::minutes(10);
    // RFC 5626 §4.4.1: a flow we opened gets a CRLFCRLF ping after this much silence;
    // zero sends none. Kamailio closes idle TCP connections after 120 s by default.
    base::Duration keepAliveInterval = std::chrono::seconds(90);
    // RFC 5626 §4.4.1: no pong (or any other traffic) this long after a ping → the flow failed.
    base::Duration pongTimeout = std::chrono::seconds(10);
    // A message must be complete this long after its first byte arrived; otherwise a peer
    // trickling bytes (slow loris) would hold the flow for ever, since every byte counts
    // as traffic. Zero sets no deadline.
    base::Duration incompleteMessageTimeout = std::chrono::seconds(30);
};

// Idle timeout and keep-alive timers of one connection-oriented flow, on an injected
// TimerQueue so that tests drive them with ManualClock.
//
// Traffic means bytes received (messages, pings, pongs) and messages sent; our own
// pings do not count. So a flow we opened stays up as long as the peer answers its
// pings, and a flow the peer opened closes after idleTimeout unless the peer keeps it
// alive. Timers are lazy: traffic only records a time stamp. Independently, a message
// that has begun must end within incompleteMessageTimeout.
class FlowLiveness {
public:
    enum class Role { Inbound, Outbound };
    struct Handler {
        // Writes "\r\n\r\n"; must not destroy this object (report write errors later).
        std::function<void()> sendPing;
        // The flow must close: idle (ErrorKind::Timeout), no pong (ErrorKind::Transport) or
        // a message left incomplete too long (ErrorKind::Limit). Called at most once; the
        // object may be destroyed inside this call.
        std::function<void(const Error&)> expired;
    };

    FlowLiveness(base::TimerQueue& timers, const FlowTimersConfig& config, Role role,
                 Handler handler);
    ~FlowLiveness();
    FlowLiveness(const FlowLiveness&) = delete;
    FlowLiveness& operator=(const FlowLiveness&) = delete;

    void onReceived();
    void onSent();
    // Part of a message is buffered: starts its deadline unless one runs already.
    void onPartialMessage();
    // A message is complete: its deadline ends (the next message gets a new one).
    void onMessageComplete();

    bool awaitingMessageEnd() const { return m_messageTimer != base::kNoTimer; }
    bool awaitingPong() const { return m_pongTimer != base::kNoTimer; }
    base::TimePoint lastTraffic() const { return m_lastTraffic; }

private:
    bool keepsAlive() const;
    void armIdle(base::Duration after);
    void armKeepAlive(base::Duration after);
    void onIdleTimer();
    void onKeepAliveTimer();
    void onPongTimer();
    void onMessageTimer();
    void expire(const Error& error);

    base::TimerQueue& m_timers;
    FlowTimersConfig m_config;
    Role m_role;
    Handler m_handler;
    base::TimePoint m_lastTraffic;
    base::TimerId m_idleTimer = base::kNoTimer;
    base::TimerId m_keepAliveTimer = base::kNoTimer;
    base::TimerId m_pongTimer = base::kNoTimer;
    base::TimerId m_messageTimer = base::kNoTimer;
};

}  // namespace sb::transport
