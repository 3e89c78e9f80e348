#pragma once

#include <QByteArrayView>
#include <QString>
#include <QStringList>

#include <vector>

#include "sip/uri.h"
#include "transport/transport.h"

namespace sb::server {

// Which Request-URIs and AoRs the built-in server is responsible for (RFC 3261 §16.4:
// "the domain of the proxy"): the configured domains (the first is the primary one,
// used in documents and Record-Route when no address fits) and the addresses it
// listens on, with or without the port. Users are one namespace across all local
// domains, as Kamailio's usrloc keeps them without use_domain: 201@switchboard.local
// and 201@127.0.0.1 are the same user.
class LocalDomains {
public:
    LocalDomains() = default;
    explicit LocalDomains(QStringList domains);

    void setDomains(QStringList domains);  // lower-cased; the first is primary
    void addListeningEndpoint(const transport::Endpoint& endpoint);

    const QStringList& domains() const { return m_domains; }
    QString primary() const;  // "switchboard.local" when none is configured
    const std::vector<transport::Endpoint>& listening() const { return m_listening; }

    // Whether `uri`'s host (and port, when it names one of ours) is one of ours.
    bool isLocal(const sip::Uri& uri) const;
    bool isLocalHost(QByteArrayView host, std::optional<quint16> port = {}) const;
    // The user key of a local URI ("201" for sip:201@switchboard.local;user=phone),
    // percent-decoded; empty when `uri` is not local or has no user part.
    QString userOf(const sip::Uri& uri) const;
    // "sip:<user>@<primary>" — the entity of documents and board extensions.
    QString aorUri(const QString& user) const;

private:
    QStringList m_domains;
    std::vector<transport::Endpoint> m_listening;
};

}  // namespace sb::server
