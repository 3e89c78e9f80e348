#pragma once

#include <QByteArray>
#include <QString>

#include <vector>

#include "base/clock.h"
#include "transport/transport.h"

namespace sb::server {

// One registered contact of a user (RFC 3261 §10.3): where requests for the AoR go.
struct Binding {
    QString user;             // the AoR's user key (LocalDomains::userOf)
    QByteArray contactUri;    // the Contact URI as registered (what the Request-URI becomes)
    QByteArray contactValue;  // the whole Contact header value as registered, for 200 OK
    // RFC 3261 §10.3 / RFC 3581: where the REGISTER really came from. A phone behind NAT
    // registers a private Contact; requests go to this address instead (Kamailio's
    // fix_nated_register + received), over `source.protocol`, on `connection` while it
    // is open.
    transport::Endpoint source;
    transport::ConnectionId connection = 0;
    bool behindNat = false;  // the Contact's host:port differs from `source`
    int qValue = 1000;       // q × 1000 (q=0.5 → 500); 1000 when absent
    QByteArray callId;
    quint32 cseq = 0;
    base::TimePoint expiresAt{};  // on the server's monotonic clock
    QByteArray userAgent;
    QByteArray instanceId;  // +sip.instance (RFC 5626), empty when absent

    // The next hop for a request to this contact: `source` when behind NAT or over a
    // connection-oriented flow, else the Contact's own host, port and transport.
    transport::Endpoint nextHop() const;
};

// Who is registered where: what the proxy asks to route a request for a local user.
class LocationService {
public:
    virtual ~LocationService() = default;
    // The live (unexpired) bindings of `user`, best q first, then most recent first.
    virtual std::vector<Binding> lookup(const QString& user) const = 0;
};

// Who exists: users the server knows (provisioned), whether or not registered. Lets the
// proxy tell 404 (no such user) from 480 (known, not registered now).
class UserDirectory {
public:
    virtual ~UserDirectory() = default;
    virtual bool hasUser(const QString& user) const = 0;
};

}  // namespace sb::server
