#include "fake_transport.h"

#include <algorithm>
#include <memory>

#include "sip/parser.h"

namespace sb::test {

namespace {

QByteArray protocolText(transport::Protocol protocol) {
    switch (protocol) {
        case transport::Protocol::Udp:
            return "UDP";
        case transport::Protocol::Tcp:
            return "TCP";
        case transport::Protocol::Tls:
            return "TLS";
    }
    return "UDP";
}

QByteArray hostPortText(const transport::Endpoint& endpoint) {
    QByteArray host = endpoint.address.toString().toLatin1();
    if (endpoint.address.protocol() == QAbstractSocket::IPv6Protocol) host = '[' + host + ']';
    return host + ':' + QByteArray::number(endpoint.port);
}

// Like the real transport (RFC 3261 §18.1.1): the top Via gets the transport and the
// sent-by of the socket used; its parameters (branch, rport) stay as the caller wrote them.
void fillTopVia(sip::Message& request, const transport::Endpoint& local) {
    const QByteArrayView field = request.header(sip::HeaderId::Via);
    if (field.isEmpty()) return;
    const sip::ValueList values = sip::splitCommaList(field);
    if (values.isEmpty()) return;
    auto via = sip::Via::parse(values.front());
    if (!via) return;
    QByteArray filled = "SIP/2.0/" + protocolText(local.protocol) + ' ' + hostPortText(local) +
                        via->params.raw().toByteArray();
    for (qsizetype i = 1; i < values.size(); ++i)
        filled += ", " + values[i].toByteArray();
    request.replaceFirstHeader(sip::HeaderId::Via, filled);
}

}  // namespace

FakeTransport::FakeTransport(base::TimerQueue* timers) : m_timers(timers) {
    setLocalEndpoint(endpoint(transport::Protocol::Udp, "127.0.0.1", 5060));
    setLocalEndpoint(endpoint(transport::Protocol::Tcp, "127.0.0.1", 5060));
    setLocalEndpoint(endpoint(transport::Protocol::Tls, "127.0.0.1", 5061));
}

FakeTransport::~FakeTransport() {
    // Pending deliveries capture `this`; the clock may outlive us.
    if (m_timers) {
        for (base::TimerId id : m_pendingTimers)
            m_timers->cancel(id);
    }
}

transport::Endpoint FakeTransport::endpoint(transport::Protocol protocol, const char* address,
                                            quint16 port) {
    transport::Endpoint result;
    result.protocol = protocol;
    result.address = QHostAddress(QString::fromLatin1(address));
    result.port = port;
    return result;
}

Error FakeTransport::defaultSendError() {
    return makeError(ErrorKind::Transport, QStringLiteral("network unreachable (fake)"));
}

void FakeTransport::setLocalEndpoint(const transport::Endpoint& endpoint) {
    m_local.insert(static_cast<int>(endpoint.protocol), endpoint);
}

void FakeTransport::removeLocalEndpoint(transport::Protocol protocol) {
    m_local.remove(static_cast<int>(protocol));
}

std::optional<transport::Endpoint> FakeTransport::localEndpoint(
    transport::Protocol protocol) const {
    auto it = m_local.constFind(static_cast<int>(protocol));
    if (it == m_local.constEnd()) return std::nullopt;
    return *it;
}

void FakeTransport::failNextSends(int count, Error error) {
    m_failNext = count;
    m_failNextError = std::move(error);
}

void FakeTransport::failAllSends(std::optional<Error> error) {
    m_failAll = std::move(error);
}

Result<void> FakeTransport::checkSendFailure() {
    if (m_failAll) {
        ++m_failedSends;
        return fail(*m_failAll);
    }
    if (m_failNext > 0) {
        --m_failNext;
        ++m_failedSends;
        return fail(m_failNextError);
    }
    return {};
}

Result<transport::Endpoint> FakeTransport::sendRequest(sip::Message& request,
                                                       const transport::Endpoint& destination) {
    if (auto failed = checkSendFailure(); !failed) return fail(failed.error());
    transport::Endpoint used = destination;
    if (m_protocolOverride) used.protocol = *m_protocolOverride;
    const auto local = localEndpoint(used.protocol);
    if (!local) {
        ++m_failedSends;
        return fail(ErrorKind::Transport,
                    QStringLiteral("no local %1 transport (fake)")
                        .arg(QString::fromLatin1(protocolText(used.protocol))));
    }
    fillTopVia(request, *local);

    SentMessage sent;
    sent.message = request;
    sent.destination = used;
    if (m_timers) sent.at = m_timers->now();
    m_sent.push_back(sent);
    route(Direction::ToNetwork, request, [this, sent] {
        if (m_peer) m_peer(sent);
    });
    return used;
}

Result<void> FakeTransport::sendResponse(const sip::Message& response,
                                         const transport::Endpoint& requestSource,
                                         transport::ConnectionId connection) {
    if (auto failed = checkSendFailure(); !failed) return failed;
    SentMessage sent;
    sent.message = response;
    sent.destination = requestSource;
    sent.connection = connection;
    if (m_timers) sent.at = m_timers->now();
    m_sent.push_back(sent);
    route(Direction::ToNetwork, response, [this, sent] {
        if (m_peer) m_peer(sent);
    });
    return {};
}

void FakeTransport::flowFailed(const transport::Endpoint& remote, const Error& error) {
    if (m_user) m_user->onFlowFailed(remote, error);
}

void FakeTransport::resetFaults() {
    m_outFaults = Faults{};
    m_inFaults = Faults{};
}

int FakeTransport::heldCount(Direction direction) const {
    return static_cast<int>(direction == Direction::ToNetwork ? m_heldOut.size() : m_heldIn.size());
}

void FakeTransport::releaseHeld(Direction direction, ReleaseOrder order) {
    std::deque<Held> held;
    held.swap(direction == Direction::ToNetwork ? m_heldOut : m_heldIn);
    if (order == ReleaseOrder::Reversed) std::reverse(held.begin(), held.end());
    for (Held& item : held)
        item.deliver();
}

void FakeTransport::route(Direction direction, const sip::Message& message,
                          std::function<void()> deliver) {
    Faults& f = faults(direction);
    if (f.dropIf && f.dropIf(message)) return;
    if (f.dropNext > 0) {
        --f.dropNext;
        return;
    }
    if (f.holdNext > 0) {
        --f.holdNext;
        (direction == Direction::ToNetwork ? m_heldOut : m_heldIn)
            .push_back(Held{std::move(deliver)});
        return;
    }
    int copies = 1;
    if (f.duplicateNext > 0) {
        --f.duplicateNext;
        copies = 2;
    }
    for (int i = 0; i < copies; ++i) {
        if (f.delay > base::Duration::zero() && m_timers) {
            // The id is only known after start(); the callback finds itself by a shared slot.
            auto slot = std::make_shared<base::TimerId>(base::kNoTimer);
            *slot = m_timers->start(f.delay, [this, slot, deliver] {
                std::erase(m_pendingTimers, *slot);
                deliver();
            });
            m_pendingTimers.push_back(*slot);
        } else {
            deliver();
        }
    }
}

std::vector<SentMessage> FakeTransport::takeSent() {
    std::vector<SentMessage> result;
    result.swap(m_sent);
    return result;
}

int FakeTransport::countRequests(sip::Method method) const {
    return static_cast<int>(std::count_if(
        m_sent.begin(), m_sent.end(),
        [method](const SentMessage& s) { return s.isRequest() && s.method() == method; }));
}

int FakeTransport::countResponses(int statusCode) const {
    return countResponsesInRange(statusCode, statusCode);
}

int FakeTransport::countResponsesInRange(int lowest, int highest) const {
    return static_cast<int>(std::count_if(m_sent.begin(), m_sent.end(), [=](const SentMessage& s) {
        return s.isResponse() && s.statusCode() >= lowest && s.statusCode() <= highest;
    }));
}

std::vector<SentMessage> FakeTransport::requests(sip::Method method) const {
    std::vector<SentMessage> result;
    for (const SentMessage& s : m_sent) {
        if (s.isRequest() && s.method() == method) result.push_back(s);
    }
    return result;
}

std::vector<SentMessage> FakeTransport::responses() const {
    std::vector<SentMessage> result;
    for (const SentMessage& s : m_sent) {
        if (s.isResponse()) result.push_back(s);
    }
    return result;
}

const SentMessage* FakeTransport::lastRequest(sip::Method method) const {
    for (auto it = m_sent.rbegin(); it != m_sent.rend(); ++it) {
        if (it->isRequest() && (method == sip::Method::Unknown || it->method() == method))
            return &*it;
    }
    return nullptr;
}

const SentMessage* FakeTransport::lastResponse() const {
    for (auto it = m_sent.rbegin(); it != m_sent.rend(); ++it) {
        if (it->isResponse()) return &*it;
    }
    return nullptr;
}

Result<transport::IncomingMessage> FakeTransport::toIncoming(
    QByteArray bytes, const transport::Endpoint& source, transport::ConnectionId connection) const {
    auto parsed = sip::Parser::parse(std::move(bytes));
    if (!parsed) return fail(parsed.error());
    transport::IncomingMessage incoming;
    incoming.message = std::move(*parsed);
    incoming.source = source;
    incoming.local =
        localEndpoint(source.protocol).value_or(transport::Endpoint{source.protocol, {}, 0});
    incoming.connection = connection;
    return incoming;
}

Result<void> FakeTransport::inject(const sip::Message& message, const transport::Endpoint& source,
                                   transport::ConnectionId connection) {
    return injectRaw(message.serialize(), source, connection);
}

Result<void> FakeTransport::injectRaw(QByteArray bytes, const transport::Endpoint& source,
                                      transport::ConnectionId connection) {
    auto incoming = toIncoming(std::move(bytes), source, connection);
    if (!incoming) return fail(incoming.error());
    injectIncoming(std::move(*incoming));
    return {};
}

Result<void> FakeTransport::injectAfter(base::Duration after, const sip::Message& message,
                                        const transport::Endpoint& source,
                                        transport::ConnectionId connection) {
    auto incoming = toIncoming(message.serialize(), source, connection);
    if (!incoming) return fail(incoming.error());
    if (!m_timers) {
        injectIncoming(std::move(*incoming));
        return {};
    }
    auto slot = std::make_shared<base::TimerId>(base::kNoTimer);
    auto shared = std::make_shared<transport::IncomingMessage>(std::move(*incoming));
    *slot = m_timers->start(after, [this, slot, shared] {
        std::erase(m_pendingTimers, *slot);
        injectIncoming(std::move(*shared));
    });
    m_pendingTimers.push_back(*slot);
    return {};
}

void FakeTransport::injectIncoming(transport::IncomingMessage incoming) {
    auto shared = std::make_shared<const transport::IncomingMessage>(std::move(incoming));
    route(Direction::FromNetwork, shared->message, [this, shared] { deliverIncoming(*shared); });
}

void FakeTransport::deliverIncoming(const transport::IncomingMessage& incoming) {
    if (!m_user) return;
    transport::IncomingMessage copy =
        incoming;  // onMessage takes ownership; duplicates need their own
    m_user->onMessage(std::move(copy));
}

Result<void> FakeTransport::answer(const SentMessage& request, const sip::Message& response) {
    return inject(response, request.destination);
}

Result<void> FakeTransport::respond(const SentMessage& request, int statusCode,
                                    QByteArrayView toTag) {
    return answer(request, sip::makeResponse(request.message, statusCode, {}, toTag));
}

}  // namespace sb::test
