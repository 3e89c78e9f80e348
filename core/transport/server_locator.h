#pragma once

#include <QByteArray>

#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "base/random.h"
#include "base/result.h"
#include "base/timer_queue.h"
#include "sip/uri.h"
#include "transport/dns_resolver.h"
#include "transport/transport.h"

namespace sb::transport {

// RFC 3263 §4 input: the TARGET and what the URI pins down.
struct LocateQuery {
    QByteArray host;                    // maddr when given, else the URI host (no brackets)
    std::optional<quint16> port;        // explicit port
    std::optional<Protocol> transport;  // ;transport=
    bool secure = false;                // sips: (TLS only)

    // From a SIP/SIPS URI (the Request-URI or the first Route of a request).
    static Result<LocateQuery> fromUri(const sip::Uri& uri);
};

// One place to try: an address with its transport, and the domain it came from (kept
// for TLS certificate checks and for logs).
struct ServerTarget {
    Endpoint endpoint;
    QByteArray domain;
    bool operator==(const ServerTarget& other) const = default;
};

// The ordered targets of one resolution and a failover cursor over them (RFC 3263
// §4.3): start with current(); after a transport error, a 503 or a timeout, failover()
// moves to the next target.
class ServerTargets {
public:
    ServerTargets() = default;
    explicit ServerTargets(std::vector<ServerTarget> targets) : m_targets(std::move(targets)) {}

    const std::vector<ServerTarget>& all() const { return m_targets; }
    std::size_t size() const { return m_targets.size(); }
    // nullptr once every target failed.
    const ServerTarget* current() const;
    // Moves past the current target; false when no target is left.
    bool failover();
    std::size_t position() const { return m_position; }
    bool exhausted() const { return m_position >= m_targets.size(); }

private:
    std::vector<ServerTarget> m_targets;
    std::size_t m_position = 0;
};

struct LocatorOptions {
    // Transports this client can use, in order of preference (RFC 3263 §4.1 leaves the
    // order among SRV-found transports to the client).
    std::vector<Protocol> transports{Protocol::Udp, Protocol::Tcp};
    // Bound on SRV targets resolved per lookup, against hostile or huge zones.
    std::size_t maxSrvTargets = 16;
};

// RFC 3263 §4 client side: turns a URI into an ordered list of endpoints.
//   numeric host            → that address (transport from ;transport=, else UDP / TLS
//                              for sips), port as given or the default;
//   name with a port        → A/AAAA only;
//   name with ;transport=   → SRV for that transport, else A/AAAA;
//   name alone              → NAPTR (SIP+D2U, SIP+D2T, SIPS+D2T, by order and
//                              preference) → SRV → A/AAAA; without usable NAPTR, SRV for
//                              each supported transport in preference order; without SRV,
//                              A/AAAA with UDP (TLS for sips).
// SRV records are ordered by priority and, within one priority, by RFC 2782's weighted
// random selection (randomness injected). Every SRV target's addresses are looked up,
// so the list is complete for failover.
//
// The callback always comes later from the event loop (numeric targets through a
// zero-delay timer), never from inside locate(); cancel() or destroying the locator
// means it never comes.
class ServerLocator {
public:
    using LookupId = quint64;
    using Callback = std::function<void(Result<ServerTargets>)>;

    ServerLocator(DnsResolver& resolver, base::TimerQueue& timers, base::Random& random,
                  LocatorOptions options = {});
    ~ServerLocator();
    ServerLocator(const ServerLocator&) = delete;
    ServerLocator& operator=(const ServerLocator&) = delete;

    LookupId locate(const LocateQuery& query, Callback done);
    LookupId locate(const sip::Uri& uri, Callback done);
    void cancel(LookupId id);
    std::size_t pendingLookups() const { return m_lookups.size(); }

    // RFC 2782: orders records by priority, and within a priority by weighted random
    // selection (zero weights have a small chance of coming first). Public for tests.
    static std::vector<SrvRecord> orderSrv(std::vector<SrvRecord> records, base::Random& random);

private:
    struct Lookup;
    void start(const std::shared_ptr<Lookup>& lookup);
    void lookupSrvChain(const std::shared_ptr<Lookup>& lookup);
    void onSrvAnswers(const std::shared_ptr<Lookup>& lookup);
    void resolveAddresses(const std::shared_ptr<Lookup>& lookup);
    void finishWithAddresses(const std::shared_ptr<Lookup>& lookup);
    void finish(const std::shared_ptr<Lookup>& lookup, Result<ServerTargets> result);
    bool supports(Protocol protocol) const;
    Protocol defaultTransport(bool secure) const;

    DnsResolver& m_resolver;
    base::TimerQueue& m_timers;
    base::Random& m_random;
    LocatorOptions m_options;
    LookupId m_nextId = 1;
    std::unordered_map<LookupId, std::shared_ptr<Lookup>> m_lookups;
};

}  // namespace sb::transport
