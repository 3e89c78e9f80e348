#include "server/auth_throttle.h"

#include <algorithm>

#include "base/log.h"
#include "transport/transport.h"

namespace sb::server {

namespace {

constexpr int kIpv6PrefixBytes = 8;  // a /64

qint64 seconds(base::Duration duration) {
    return std::chrono::duration_cast<std::chrono::seconds>(duration).count();
}

}  // namespace

AuthThrottle::AuthThrottle(const base::Clock& clock) : AuthThrottle(clock, Options{}) {}

AuthThrottle::AuthThrottle(const base::Clock& clock, Options options)
    : m_clock(clock), m_options(options) {
    m_options.maxFailures = std::max(1, m_options.maxFailures);
    m_options.maxSources = std::max<qsizetype>(1, m_options.maxSources);
    m_options.maxBlock = std::max(m_options.maxBlock, m_options.blockFor);
}

AuthThrottle::Key AuthThrottle::keyOf(const QHostAddress& address) {
    const QHostAddress normal = transport::normalizedAddress(address);
    if (normal.protocol() == QAbstractSocket::IPv4Protocol) {
        const quint32 v4 = normal.toIPv4Address();
        Key key(4, '\0');
        for (int i = 0; i < 4; ++i)
            key[i] = char((v4 >> (24 - 8 * i)) & 0xff);
        return key;
    }
    const Q_IPV6ADDR v6 = normal.toIPv6Address();
    return Key(reinterpret_cast<const char*>(v6.c), kIpv6PrefixBytes);
}

QString AuthThrottle::sourceName(const QHostAddress& address) {
    const QHostAddress normal = transport::normalizedAddress(address);
    if (normal.protocol() == QAbstractSocket::IPv4Protocol) return normal.toString();
    Q_IPV6ADDR prefix = normal.toIPv6Address();
    std::fill(prefix.c + kIpv6PrefixBytes, prefix.c + 16, quint8(0));
    return QHostAddress(prefix).toString() + QStringLiteral("/64");
}

std::optional<base::Duration> AuthThrottle::blockedFor(const QHostAddress& address) const {
    auto it = m_sources.constFind(keyOf(address));
    if (it == m_sources.cend()) return std::nullopt;
    const base::TimePoint now = m_clock.now();
    if (it->blockedUntil <= now) return std::nullopt;
    return it->blockedUntil - now;
}

bool AuthThrottle::recordFailure(const QHostAddress& address) {
    const base::TimePoint now = m_clock.now();
    forgetStale(now);
    const Key key = keyOf(address);
    auto it = m_sources.find(key);
    if (it == m_sources.end()) {
        // At the cap, the source closest to being forgotten anyway makes room.
        if (m_sources.size() >= m_options.maxSources && !m_byForgetAt.empty()) {
            const Key victim = m_byForgetAt.begin()->second;
            erase(victim);
        }
        it = m_sources.insert(key, Source{});
    }
    Source& source = *it;
    if (source.blockedUntil > now) return false;  // refused before any check: not counted

    source.failures.push_back(now);
    // Sliding window: only failures younger than `window` count.
    while (!source.failures.empty() && source.failures.front() <= now - m_options.window)
        source.failures.pop_front();

    bool started = false;
    if (qsizetype(source.failures.size()) >= m_options.maxFailures) {
        const qsizetype count = qsizetype(source.failures.size());
        // A source blocked again soon after its last block waits twice as long.
        const base::Duration length = source.lastBlock.count() == 0
                                          ? m_options.blockFor
                                          : std::min(source.lastBlock * 2, m_options.maxBlock);
        source.blockedUntil = now + length;
        source.lastBlock = length;
        source.failures.clear();
        started = true;
        qCWarning(lcServer).noquote()
            << QStringLiteral(
                   "authentication: blocking %1 for %2 s after %3 failed attempts in %4 s")
                   .arg(sourceName(address))
                   .arg(seconds(length))
                   .arg(count)
                   .arg(seconds(m_options.window));
    }

    base::TimePoint forgetAt = now + m_options.window;
    // The length of the last block is remembered for `maxBlock` after it ends, so a
    // source that comes back soon is blocked for longer.
    if (source.lastBlock.count() > 0)
        forgetAt = std::max(forgetAt, source.blockedUntil + m_options.maxBlock);
    reindex(key, source, forgetAt);
    return started;
}

void AuthThrottle::recordSuccess(const QHostAddress& address) {
    const Key key = keyOf(address);
    auto it = m_sources.find(key);
    if (it == m_sources.end()) return;
    it->failures.clear();
    if (it->lastBlock.count() == 0) erase(key);  // nothing left worth remembering
}

void AuthThrottle::forgetStale(base::TimePoint now) {
    while (!m_byForgetAt.empty() && m_byForgetAt.begin()->first <= now) {
        const Key key = m_byForgetAt.begin()->second;
        erase(key);
    }
}

void AuthThrottle::reindex(const Key& key, Source& source, base::TimePoint forgetAt) {
    m_byForgetAt.erase({source.forgetAt, key});
    source.forgetAt = forgetAt;
    m_byForgetAt.emplace(forgetAt, key);
}

void AuthThrottle::erase(const Key& key) {
    auto it = m_sources.find(key);
    if (it == m_sources.end()) return;
    m_byForgetAt.erase({it->forgetAt, key});
    m_sources.erase(it);
}

}  // namespace sb::server
