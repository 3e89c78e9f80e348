#include "transport/server_locator.h"

#include <algorithm>

#include "base/log.h"

namespace sb::transport {

namespace {

QByteArray srvName(Protocol protocol, QByteArrayView domain) {
    // RFC 3263 §4.2: _sips._tcp for TLS, _sip._tcp, _sip._udp.
    switch (protocol) {
        case Protocol::Tls:
            return "_sips._tcp." + domain.toByteArray();
        case Protocol::Tcp:
            return "_sip._tcp." + domain.toByteArray();
        case Protocol::Udp:
            break;
    }
    return "_sip._udp." + domain.toByteArray();
}

// RFC 3263 §4.1 services; SIPS+D2T serves sips: and sip: URIs, the others sip: only.
std::optional<Protocol> naptrProtocol(QByteArrayView service, bool secure) {
    if (service.compare("SIPS+D2T", Qt::CaseInsensitive) == 0) return Protocol::Tls;
    if (secure) return std::nullopt;
    if (service.compare("SIP+D2T", Qt::CaseInsensitive) == 0) return Protocol::Tcp;
    if (service.compare("SIP+D2U", Qt::CaseInsensitive) == 0) return Protocol::Udp;
    return std::nullopt;
}

QByteArray unbracketed(QByteArrayView host) {
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.sliced(1, host.size() - 2);
    return host.toByteArray();
}

std::optional<QHostAddress> numericAddress(const QByteArray& host) {
    QHostAddress address;
    if (!address.setAddress(QString::fromLatin1(host))) return std::nullopt;
    return normalizedAddress(address);
}

}  // namespace

Result<LocateQuery> LocateQuery::fromUri(const sip::Uri& uri) {
    if (!uri.isSip()) {
        return fail(ErrorKind::Protocol,
                    QStringLiteral("cannot locate a server for \"%1\": not a SIP URI")
                        .arg(QString::fromUtf8(uri.text)));
    }
    LocateQuery query;
    query.secure = uri.scheme == sip::UriScheme::Sips;
    // RFC 3263 §4: maddr, when present, is the TARGET.
    const auto maddr = uri.params.value("maddr");
    query.host = maddr && !maddr->isEmpty() ? unbracketed(*maddr) : unbracketed(uri.host);
    if (query.host.isEmpty())
        return fail(ErrorKind::Protocol, QStringLiteral("the URI has no host"));
    query.port = uri.port;
    const QByteArray transport = uri.transportParam();
    if (!transport.isEmpty()) {
        query.transport = protocolFromName(transport);
        if (!query.transport) {
            return fail(
                ErrorKind::Protocol,
                QStringLiteral("unsupported transport \"%1\"").arg(QString::fromLatin1(transport)));
        }
    }
    if (query.secure && query.transport == Protocol::Udp) {
        return fail(ErrorKind::Protocol, QStringLiteral("a sips URI cannot use UDP"));
    }
    // RFC 3261 §26.2.2: sips with ;transport=tcp means TLS over TCP.
    if (query.secure && query.transport) query.transport = Protocol::Tls;
    return query;
}

const ServerTarget* ServerTargets::current() const {
    return m_position < m_targets.size() ? &m_targets[m_position] : nullptr;
}

bool ServerTargets::failover() {
    if (m_position < m_targets.size()) ++m_position;
    return m_position < m_targets.size();
}

struct ServerLocator::Lookup {
    struct SrvQuestion {
        QByteArray name;
        Protocol protocol;
        std::optional<std::vector<SrvRecord>> answer;
    };
    struct Host {
        QByteArray name;
        quint16 port = 0;
        Protocol protocol = Protocol::Udp;
    };

    LookupId id = 0;
    LocateQuery query;
    Callback done;
    std::vector<SrvQuestion> srv;
    std::size_t srvPending = 0;
    std::vector<Host> hosts;
    QHash<QByteArray, QList<QHostAddress>> addresses;
    std::size_t addressesPending = 0;
    QString lastError;
    bool srvDeclined = false;  // an SRV answer said "." (RFC 2782)
    base::TimerId timer = base::kNoTimer;
};

ServerLocator::ServerLocator(DnsResolver& resolver, base::TimerQueue& timers, base::Random& random,
                             LocatorOptions options)
    : m_resolver(resolver), m_timers(timers), m_random(random), m_options(std::move(options)) {}

ServerLocator::~ServerLocator() {
    for (const auto& [id, lookup] : m_lookups)
        m_timers.cancel(lookup->timer);
}

bool ServerLocator::supports(Protocol protocol) const {
    return std::find(m_options.transports.begin(), m_options.transports.end(), protocol) !=
           m_options.transports.end();
}

Protocol ServerLocator::defaultTransport(bool secure) const {
    // RFC 3263 §4.1: UDP for sip:, TLS for sips:, unless the client cannot do UDP.
    if (secure) return Protocol::Tls;
    if (supports(Protocol::Udp) || m_options.transports.empty()) return Protocol::Udp;
    return m_options.transports.front();
}

ServerLocator::LookupId ServerLocator::locate(const sip::Uri& uri, Callback done) {
    auto query = LocateQuery::fromUri(uri);
    if (query) return locate(*query, std::move(done));
    // Errors are reported the same way as results: later, from the event loop.
    auto lookup = std::make_shared<Lookup>();
    lookup->id = m_nextId++;
    lookup->done = std::move(done);
    m_lookups.emplace(lookup->id, lookup);
    const Error error = query.error();
    std::weak_ptr<Lookup> weak = lookup;
    lookup->timer = m_timers.start(base::Duration::zero(), [this, weak, error] {
        if (auto alive = weak.lock()) finish(alive, fail(error));
    });
    return lookup->id;
}

ServerLocator::LookupId ServerLocator::locate(const LocateQuery& query, Callback done) {
    auto lookup = std::make_shared<Lookup>();
    lookup->id = m_nextId++;
    lookup->query = query;
    lookup->query.host = unbracketed(query.host);
    lookup->done = std::move(done);
    m_lookups.emplace(lookup->id, lookup);
    std::weak_ptr<Lookup> weak = lookup;
    // Start on the next turn as well, so that even a synchronous resolver cannot call
    // back into the caller from inside locate().
    lookup->timer = m_timers.start(base::Duration::zero(), [this, weak] {
        if (auto alive = weak.lock()) {
            alive->timer = base::kNoTimer;
            start(alive);
        }
    });
    return lookup->id;
}

void ServerLocator::cancel(LookupId id) {
    const auto it = m_lookups.find(id);
    if (it == m_lookups.end()) return;
    m_timers.cancel(it->second->timer);
    m_lookups.erase(it);
}

void ServerLocator::start(const std::shared_ptr<Lookup>& lookup) {
    const LocateQuery& query = lookup->query;
    if (query.host.isEmpty()) {
        finish(lookup, fail(ErrorKind::Protocol, QStringLiteral("no host to locate")));
        return;
    }
    if (query.transport && !supports(*query.transport)) {
        finish(lookup, fail(ErrorKind::Transport,
                            QStringLiteral("transport %1 is not available")
                                .arg(QString::fromLatin1(protocolName(*query.transport)))));
        return;
    }
    const Protocol fixedProtocol = query.transport.value_or(defaultTransport(query.secure));

    // §4.1/§4.2: a numeric TARGET is used as it is.
    if (const auto address = numericAddress(query.host)) {
        if (!supports(fixedProtocol)) {
            finish(lookup, fail(ErrorKind::Transport,
                                QStringLiteral("transport %1 is not available")
                                    .arg(QString::fromLatin1(protocolName(fixedProtocol)))));
            return;
        }
        const Endpoint endpoint{fixedProtocol, *address,
                                query.port.value_or(defaultPort(fixedProtocol))};
        finish(lookup, ServerTargets({{endpoint, query.host}}));
        return;
    }
    // §4.2: an explicit port means A/AAAA only.
    if (query.port) {
        lookup->hosts.push_back({query.host, *query.port, fixedProtocol});
        resolveAddresses(lookup);
        return;
    }
    // §4.2: a transport without a port: SRV for that transport.
    if (query.transport) {
        lookup->srv.push_back(
            {srvName(*query.transport, query.host), *query.transport, std::nullopt});
        lookupSrvChain(lookup);
        return;
    }
    // §4.1: NAPTR first.
    std::weak_ptr<Lookup> weak = lookup;
    m_resolver.lookupNaptr(query.host, [this, weak](Result<std::vector<NaptrRecord>> answer) {
        auto lookup = weak.lock();
        if (!lookup) return;
        std::vector<NaptrRecord> records;
        if (answer) {
            records = std::move(*answer);
        } else {
            lookup->lastError = answer.error().reason;
        }
        std::stable_sort(
            records.begin(), records.end(), [](const NaptrRecord& a, const NaptrRecord& b) {
                return a.order != b.order ? a.order < b.order : a.preference < b.preference;
            });
        for (const NaptrRecord& record : records) {
            // Only terminal "s" records lead to SRV (RFC 3263 §4.1); others are skipped.
            if (record.flags.compare("s", Qt::CaseInsensitive) != 0 || record.replacement.isEmpty())
                continue;
            const auto protocol = naptrProtocol(record.service, lookup->query.secure);
            if (!protocol || !supports(*protocol)) continue;
            lookup->srv.push_back({record.replacement, *protocol, std::nullopt});
        }
        if (lookup->srv.empty()) {
            // §4.1: no usable NAPTR: SRV for every transport we support.
            for (Protocol protocol : m_options.transports) {
                if (lookup->query.secure && protocol != Protocol::Tls) continue;
                lookup->srv.push_back(
                    {srvName(protocol, lookup->query.host), protocol, std::nullopt});
            }
        }
        lookupSrvChain(lookup);
    });
}

void ServerLocator::lookupSrvChain(const std::shared_ptr<Lookup>& lookup) {
    if (lookup->srv.empty()) {
        onSrvAnswers(lookup);
        return;
    }
    lookup->srvPending = lookup->srv.size();
    std::weak_ptr<Lookup> weak = lookup;
    // Copy the names first: a resolver that answers at once must not see the vector move.
    std::vector<QByteArray> names;
    for (const auto& question : lookup->srv)
        names.push_back(question.name);
    for (std::size_t i = 0; i < names.size(); ++i) {
        m_resolver.lookupSrv(names[i], [this, weak, i](Result<std::vector<SrvRecord>> answer) {
            auto lookup = weak.lock();
            if (!lookup || i >= lookup->srv.size() || lookup->srv[i].answer) return;
            if (answer) {
                lookup->srv[i].answer = std::move(*answer);
            } else {
                lookup->lastError = answer.error().reason;
                lookup->srv[i].answer = std::vector<SrvRecord>{};
            }
            if (--lookup->srvPending == 0) onSrvAnswers(lookup);
        });
    }
}

void ServerLocator::onSrvAnswers(const std::shared_ptr<Lookup>& lookup) {
    for (auto& question : lookup->srv) {
        if (!question.answer) continue;
        for (const SrvRecord& record : orderSrv(std::move(*question.answer), m_random)) {
            // RFC 2782: a target of "." means the service is decidedly not available here.
            if (record.target.isEmpty() || record.target == ".") {
                lookup->srvDeclined = true;
                continue;
            }
            if (lookup->hosts.size() >= m_options.maxSrvTargets) break;
            QByteArray target = record.target;
            if (target.endsWith('.')) target.chop(1);
            lookup->hosts.push_back({target, record.port, question.protocol});
        }
    }
    if (lookup->hosts.empty() && lookup->srvDeclined) {
        finish(lookup,
               fail(ErrorKind::Transport, QStringLiteral("SIP service is not available at %1")
                                              .arg(QString::fromLatin1(lookup->query.host))));
        return;
    }
    if (lookup->hosts.empty()) {
        // §4.2: no SRV records: A/AAAA of the host, default port.
        const Protocol protocol =
            lookup->query.transport.value_or(defaultTransport(lookup->query.secure));
        if (!supports(protocol)) {
            finish(lookup,
                   fail(ErrorKind::Transport, QStringLiteral("no usable transport for %1")
                                                  .arg(QString::fromLatin1(lookup->query.host))));
            return;
        }
        lookup->hosts.push_back({lookup->query.host, defaultPort(protocol), protocol});
    }
    resolveAddresses(lookup);
}

void ServerLocator::resolveAddresses(const std::shared_ptr<Lookup>& lookup) {
    QList<QByteArray> names;
    for (const auto& host : lookup->hosts) {
        if (!numericAddress(host.name) && !names.contains(host.name)) names.append(host.name);
    }
    if (names.isEmpty()) {
        finishWithAddresses(lookup);  // every host was numeric (an SRV target may be)
        return;
    }
    lookup->addressesPending = static_cast<std::size_t>(names.size());
    std::weak_ptr<Lookup> weak = lookup;
    for (const QByteArray& name : std::as_const(names)) {
        m_resolver.lookupAddresses(name, [this, weak, name](Result<QList<QHostAddress>> answer) {
            auto lookup = weak.lock();
            if (!lookup || lookup->addresses.contains(name)) return;
            if (answer) {
                lookup->addresses.insert(name, *answer);
            } else {
                lookup->lastError = answer.error().reason;
                lookup->addresses.insert(name, {});
            }
            if (--lookup->addressesPending == 0) finishWithAddresses(lookup);
        });
    }
}

void ServerLocator::finishWithAddresses(const std::shared_ptr<Lookup>& lookup) {
    // Flatten in host order, each host's addresses in the resolver's order, no duplicates.
    std::vector<ServerTarget> targets;
    for (const auto& host : lookup->hosts) {
        QList<QHostAddress> addresses;
        if (const auto numeric = numericAddress(host.name)) {
            addresses.append(*numeric);
        } else {
            addresses = lookup->addresses.value(host.name);
        }
        for (const QHostAddress& address : std::as_const(addresses)) {
            ServerTarget target{Endpoint{host.protocol, normalizedAddress(address), host.port},
                                host.name};
            if (std::find(targets.begin(), targets.end(), target) == targets.end()) {
                targets.push_back(std::move(target));
            }
        }
    }
    if (targets.empty()) {
        QString reason =
            QStringLiteral("no address found for %1").arg(QString::fromLatin1(lookup->query.host));
        if (!lookup->lastError.isEmpty()) reason += QStringLiteral(" (%1)").arg(lookup->lastError);
        finish(lookup, fail(ErrorKind::Transport, reason));
        return;
    }
    finish(lookup, ServerTargets(std::move(targets)));
}

void ServerLocator::finish(const std::shared_ptr<Lookup>& lookup, Result<ServerTargets> result) {
    const std::shared_ptr<Lookup> keep = lookup;
    m_timers.cancel(keep->timer);
    m_lookups.erase(keep->id);
    if (result) {
        qCDebug(lcTransport) << "located" << keep->query.host << "→" << result->size() << "targets";
    } else {
        qCDebug(lcTransport) << "cannot locate" << keep->query.host << ":" << result.error().reason;
    }
    if (keep->done) keep->done(std::move(result));
}

std::vector<SrvRecord> ServerLocator::orderSrv(std::vector<SrvRecord> records,
                                               base::Random& random) {
    std::stable_sort(records.begin(), records.end(), [](const SrvRecord& a, const SrvRecord& b) {
        return a.priority < b.priority;
    });
    std::vector<SrvRecord> ordered;
    ordered.reserve(records.size());
    auto group = records.begin();
    while (group != records.end()) {
        auto groupEnd = std::find_if(group, records.end(), [&](const SrvRecord& r) {
            return r.priority != group->priority;
        });
        // RFC 2782: zero weights first, then pick by a running sum against a uniform
        // random number in [0, total].
        std::vector<SrvRecord> pending(group, groupEnd);
        std::stable_partition(pending.begin(), pending.end(),
                              [](const SrvRecord& r) { return r.weight == 0; });
        while (!pending.empty()) {
            quint64 total = 0;
            for (const auto& r : pending)
                total += r.weight;
            const quint64 pick = random.bounded(total + 1);
            quint64 running = 0;
            auto chosen = pending.begin();
            for (auto it = pending.begin(); it != pending.end(); ++it) {
                running += it->weight;
                if (running >= pick) {
                    chosen = it;
                    break;
                }
            }
            ordered.push_back(*chosen);
            pending.erase(chosen);
        }
        group = groupEnd;
    }
    return ordered;
}

}  // namespace sb::transport
