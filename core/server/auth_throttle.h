#pragma once

#include <QByteArray>
#include <QHash>
#include <QHostAddress>
#include <QString>

#include <chrono>
#include <deque>
#include <optional>
#include <set>
#include <utility>

#include "base/clock.h"

namespace sb::server {

// Slows down password guessing: counts failed authentications per source and blocks a
// source that fails too often, as fail2ban or Kamailio's pike/htable recipes do for SIP.
// A source is an IPv4 address or an IPv6 /64 (one subscriber's LAN; a host picks new
// addresses inside it at will). Failures count in a sliding window; reaching the limit
// blocks the source, and every block that follows within an hour of the previous one
// lasts twice as long (up to a maximum). A success clears the source's count.
//
// Memory is bounded: sources that have been quiet long enough are forgotten, and at
// the cap the source closest to being forgotten makes room. Time comes from the
// injected clock; nothing is scheduled.
class AuthThrottle {
public:
    struct Options {
        int maxFailures = 10;  // failures within `window` that start a block
        base::Duration window = std::chrono::seconds(60);
        base::Duration blockFor = std::chrono::seconds(60);  // the first block
        base::Duration maxBlock = std::chrono::hours(1);     // doubling stops here
        qsizetype maxSources = 10000;
    };

    explicit AuthThrottle(const base::Clock& clock);
    AuthThrottle(const base::Clock& clock, Options options);

    // How much longer `address` stays blocked; nullopt when it is not blocked.
    std::optional<base::Duration> blockedFor(const QHostAddress& address) const;
    bool isBlocked(const QHostAddress& address) const { return blockedFor(address).has_value(); }

    // A failed authentication from `address`. Returns true when this failure started a
    // block (logged once, as a warning naming the source and the count).
    bool recordFailure(const QHostAddress& address);
    // A successful one: the failure count of the source starts again from zero.
    void recordSuccess(const QHostAddress& address);

    qsizetype trackedSources() const { return m_sources.size(); }
    const Options& options() const { return m_options; }

    // "127.0.0.1", or "2001:db8:1:2::/64" for an IPv6 source (the unit that is counted).
    static QString sourceName(const QHostAddress& address);

private:
    using Key = QByteArray;  // 4 bytes of IPv4 or the 8 bytes of an IPv6 /64 prefix
    struct Source {
        std::deque<base::TimePoint> failures;  // within the window, oldest first
        base::TimePoint blockedUntil{};
        base::Duration lastBlock{0};  // 0 until blocked once
        base::TimePoint forgetAt{};   // when the entry carries no information any more
    };

    static Key keyOf(const QHostAddress& address);
    void forgetStale(base::TimePoint now);
    void reindex(const Key& key, Source& source, base::TimePoint forgetAt);
    void erase(const Key& key);

    const base::Clock& m_clock;
    Options m_options;
    QHash<Key, Source> m_sources;
    std::set<std::pair<base::TimePoint, Key>> m_byForgetAt;  // drives forgetting and the cap
};

}  // namespace sb::server
