#pragma once

#include <QByteArray>
#include <QHash>

#include <deque>
#include <functional>
#include <optional>
#include <vector>

#include "base/result.h"
#include "base/timer_queue.h"
#include "sip/message.h"
#include "transport/transport.h"

namespace sb::test {

// One message the stack handed to the transport.
struct SentMessage {
    sip::Message message;  // requests carry the top Via as the transport filled it in
    // Requests: the endpoint actually used (what sendRequest returned).
    // Responses: the request source the stack passed to sendResponse.
    transport::Endpoint destination;
    transport::ConnectionId connection = 0;  // responses only
    base::TimePoint at{};                    // clock time of the send (epoch without a clock)

    bool isRequest() const { return message.isRequest(); }
    bool isResponse() const { return message.isResponse(); }
    sip::Method method() const { return message.method(); }
    int statusCode() const { return message.statusCode(); }
};

// A transport::Transport for unit tests: no sockets. It records everything the stack
// sends, lets a test inject messages "from the network", and can misbehave like a real
// network in either direction: drop, delay, duplicate, hold back and reorder.
//
// Outgoing messages are always recorded in sent() (that is what the stack put on the
// wire); the faults decide what reaches the peer callback. Incoming messages go through
// the incoming faults before TransportUser::onMessage.
//
// Delays need the TimerQueue given to the constructor (a ManualClock in tests); without
// one, delayed messages are delivered at once. Delivery with zero delay is synchronous:
// a peer callback that wants to answer should inject with a delay (injectAfter), so the
// answer does not re-enter the stack from inside its own send.
class FakeTransport final : public transport::Transport {
public:
    enum class Direction { ToNetwork, FromNetwork };
    enum class ReleaseOrder { AsSent, Reversed };

    // What happens to the next messages in one direction. Counters count down per
    // message; the predicate stays until reset. Checked in this order: dropIf, dropNext,
    // holdNext, then duplicateNext and delay for what is delivered.
    struct Faults {
        int dropNext = 0;
        std::function<bool(const sip::Message&)> dropIf;
        int holdNext = 0;       // kept back until releaseHeld()
        int duplicateNext = 0;  // delivered twice
        base::Duration delay{0};
    };

    explicit FakeTransport(base::TimerQueue* timers = nullptr);
    ~FakeTransport() override;

    // transport::Transport
    void setUser(transport::TransportUser* user) override { m_user = user; }
    Result<transport::Endpoint> sendRequest(sip::Message& request,
                                            const transport::Endpoint& destination) override;
    Result<void> sendResponse(const sip::Message& response,
                              const transport::Endpoint& requestSource,
                              transport::ConnectionId connection) override;
    std::optional<transport::Endpoint> localEndpoint(transport::Protocol protocol) const override;

    transport::TransportUser* user() const { return m_user; }

    // Local addresses: UDP and TCP on 127.0.0.1:5060, TLS on 127.0.0.1:5061 by default.
    void setLocalEndpoint(const transport::Endpoint& endpoint);
    void removeLocalEndpoint(transport::Protocol protocol);

    // Makes sendRequest report a different protocol than asked (as the real transport
    // does when a large UDP request moves to TCP, RFC 3261 §18.1.1).
    void setProtocolOverride(std::optional<transport::Protocol> protocol) {
        m_protocolOverride = protocol;
    }

    // Send failures: the next `count` sends (requests or responses) fail with `error`,
    // or every send while failAllSends holds an error. Failed sends are not recorded.
    void failNextSends(int count, Error error = defaultSendError());
    void failAllSends(std::optional<Error> error);
    int failedSendCount() const { return m_failedSends; }
    static Error defaultSendError();

    // Tells the user that the flow towards `remote` failed (RFC 3263 §4.3 failover).
    void flowFailed(const transport::Endpoint& remote, const Error& error);

    // Network behaviour.
    Faults& faults(Direction direction) {
        return direction == Direction::ToNetwork ? m_outFaults : m_inFaults;
    }
    void resetFaults();
    int heldCount(Direction direction) const;
    // Delivers the held messages of one direction now, in the given order.
    void releaseHeld(Direction direction, ReleaseOrder order = ReleaseOrder::Reversed);

    // The far side: called for every outgoing message that the network delivers.
    void setPeer(std::function<void(const SentMessage&)> peer) { m_peer = std::move(peer); }

    // What was sent, in order.
    const std::vector<SentMessage>& sent() const { return m_sent; }
    void clearSent() { m_sent.clear(); }
    std::vector<SentMessage> takeSent();
    int countRequests(sip::Method method) const;
    int countResponses(int statusCode) const;
    int countResponsesInRange(int lowest, int highest) const;
    std::vector<SentMessage> requests(sip::Method method) const;
    std::vector<SentMessage> responses() const;
    // The last request (of `method`, or of any method for Method::Unknown) / response;
    // nullptr when there is none. Valid until the next send or clearSent().
    const SentMessage* lastRequest(sip::Method method = sip::Method::Unknown) const;
    const SentMessage* lastResponse() const;

    // Injects a message as if it arrived from `source`: serialised and parsed again, as
    // a real network would, then through the incoming faults to the user. `local`
    // defaults to localEndpoint(source.protocol).
    Result<void> inject(const sip::Message& message, const transport::Endpoint& source,
                        transport::ConnectionId connection = 0);
    Result<void> injectRaw(QByteArray bytes, const transport::Endpoint& source,
                           transport::ConnectionId connection = 0);
    // Same, after `after` on the timer queue (needs one).
    Result<void> injectAfter(base::Duration after, const sip::Message& message,
                             const transport::Endpoint& source,
                             transport::ConnectionId connection = 0);
    // Injects an already built IncomingMessage untouched (still through the faults).
    void injectIncoming(transport::IncomingMessage incoming);

    // Answers a recorded request: `response` arrives from where the request went.
    Result<void> answer(const SentMessage& request, const sip::Message& response);
    // Builds a response with sip::makeResponse (adding `toTag` when the To has none) and
    // answers with it.
    Result<void> respond(const SentMessage& request, int statusCode, QByteArrayView toTag = {});

    static transport::Endpoint endpoint(transport::Protocol protocol, const char* address,
                                        quint16 port);

private:
    struct Held {
        std::function<void()> deliver;
    };

    Result<void> checkSendFailure();
    void route(Direction direction, const sip::Message& message, std::function<void()> deliver);
    void deliverIncoming(const transport::IncomingMessage& incoming);
    Result<transport::IncomingMessage> toIncoming(QByteArray bytes,
                                                  const transport::Endpoint& source,
                                                  transport::ConnectionId connection) const;

    base::TimerQueue* m_timers = nullptr;
    transport::TransportUser* m_user = nullptr;
    QHash<int, transport::Endpoint> m_local;
    std::optional<transport::Protocol> m_protocolOverride;
    int m_failNext = 0;
    Error m_failNextError;
    std::optional<Error> m_failAll;
    int m_failedSends = 0;
    Faults m_outFaults;
    Faults m_inFaults;
    std::deque<Held> m_heldOut;
    std::deque<Held> m_heldIn;
    std::vector<base::TimerId> m_pendingTimers;
    std::function<void(const SentMessage&)> m_peer;
    std::vector<SentMessage> m_sent;
};

}  // namespace sb::test
