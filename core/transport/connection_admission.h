#pragma once

#include <QHash>
#include <QHostAddress>

#include <cstddef>

#include "base/result.h"

namespace sb::transport {

// Bounds on the inbound connections a listener keeps, in all and per remote host, so
// that neither one host nor many can make us hold unbounded sockets and buffers. Pure
// bookkeeping: the transport asks before it keeps an accepted connection and reports
// when that connection closes.
//
// IPv6 addresses count per /64 prefix: one host usually holds a whole /64 and could
// otherwise open every connection from an address of its own.
class ConnectionAdmission {
public:
    struct Limits {
        std::size_t total = 1024;
        std::size_t perAddress = 64;
    };

    explicit ConnectionAdmission(Limits limits) : m_limits(limits) {}

    // Counts a connection from `address`, or refuses it (counting nothing) with the
    // limit it would break (ErrorKind::Limit).
    Result<void> admit(const QHostAddress& address);
    // A connection admitted from `address` closed.
    void release(const QHostAddress& address);

    std::size_t total() const { return m_total; }
    std::size_t from(const QHostAddress& address) const;
    const Limits& limits() const { return m_limits; }

    // What `address` counts as: itself, or its /64 prefix for IPv6.
    static QHostAddress sourceKey(const QHostAddress& address);

private:
    Limits m_limits;
    std::size_t m_total = 0;
    QHash<QHostAddress, std::size_t> m_perSource;
};

}  // namespace sb::transport
