#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <QList>

#include <functional>
#include <vector>

#include "base/result.h"

namespace sb::transport {

// RFC 3403 NAPTR record (RFC 3263 §4.1 reads flags, service and replacement).
struct NaptrRecord {
    quint16 order = 0;
    quint16 preference = 0;
    QByteArray flags;
    QByteArray service;
    QByteArray regexp;
    QByteArray replacement;
};

// RFC 2782 SRV record.
struct SrvRecord {
    quint16 priority = 0;
    quint16 weight = 0;
    quint16 port = 0;
    QByteArray target;
};

// The DNS questions RFC 3263 asks, as a seam: the production resolver asks the system,
// tests answer from a table. A name that does not exist or has no records of the type
// is an empty list, not an error; errors are for failures (timeouts, server failure).
// Callbacks come from the event loop, never from inside the lookup call.
class DnsResolver {
public:
    using NaptrCallback = std::function<void(Result<std::vector<NaptrRecord>>)>;
    using SrvCallback = std::function<void(Result<std::vector<SrvRecord>>)>;
    using AddressCallback = std::function<void(Result<QList<QHostAddress>>)>;

    virtual ~DnsResolver() = default;
    virtual void lookupNaptr(const QByteArray& domain, NaptrCallback done) = 0;
    virtual void lookupSrv(const QByteArray& name, SrvCallback done) = 0;
    // A and AAAA (and whatever the system's host table says).
    virtual void lookupAddresses(const QByteArray& host, AddressCallback done) = 0;
};

}  // namespace sb::transport
