#pragma once

#include <QByteArrayView>
#include <QObject>

#include "transport/dns_resolver.h"

namespace sb::transport {

// The production DnsResolver. SRV through QDnsLookup; A/AAAA through QHostInfo, so the
// system's host table ("localhost", /etc/hosts) is honoured; NAPTR, which QDnsLookup
// does not offer, through the system resolver (res_nquery) on a worker thread. Lookups
// still pending when this object is destroyed never call back.
class SystemDnsResolver final : public QObject, public DnsResolver {
    Q_OBJECT
public:
    explicit SystemDnsResolver(QObject* parent = nullptr);
    ~SystemDnsResolver() override;

    void lookupNaptr(const QByteArray& domain, NaptrCallback done) override;
    void lookupSrv(const QByteArray& name, SrvCallback done) override;
    void lookupAddresses(const QByteArray& host, AddressCallback done) override;

    // The NAPTR records of a DNS response message (RFC 1035 §4.1, RFC 3403 §4.1); the
    // other records are skipped. Public for tests.
    static Result<std::vector<NaptrRecord>> parseNaptrResponse(QByteArrayView message);

private:
    QList<int> m_hostLookups;
};

}  // namespace sb::transport
