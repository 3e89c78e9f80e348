#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QHostAddress>

#include <optional>
#include <vector>

#include "server/local_domains.h"
#include "sip/message.h"
#include "sip/uri.h"
#include "transport/transport.h"

namespace sb::server {

// The proxy's own entries in Record-Route and Route: what it writes so that in-dialog
// requests come back through it (RFC 3261 §16.6 step 4, RFC 5658 double
// record-routing), and how it recognises them when they do (§16.4).
//
// An entry is `<sip:HOST:PORT;lr>` for UDP and `<sip:HOST:PORT;transport=tcp;lr>` for
// TCP, naming the listening endpoint of that transport. HOST is the configured host
// when there is one, else the transport's listening address, else (listening on any
// address) the address the request arrived at, else the primary domain.
class RecordRoute {
public:
    RecordRoute(const transport::Transport& transport, const LocalDomains& domains,
                QByteArray configuredHost = {});

    // The URI for the interface of `protocol`. `arrivedAt` is the local address the
    // request came in on (used when the transport listens on a wildcard address).
    QByteArray uriFor(transport::Protocol protocol, const QHostAddress& arrivedAt = {}) const;

    // §16.6 step 4: adds our entry on top of the request's Record-Route. When the request
    // arrived over one transport and leaves over another (UDP↔TCP bridging) it adds two
    // (RFC 5658): the top one names the outgoing interface (the UAS's first route),
    // the one below it the incoming interface (the UAC's first route, the set reversed).
    void addTo(sip::Message& request, transport::Protocol incoming, transport::Protocol outgoing,
               const QHostAddress& arrivedAt = {}) const;

    // Whether `uri` names this proxy: a SIP URI whose target (maddr, else host) and port
    // are ours — an entry we wrote, or a preloaded route to our domain.
    bool isOwn(const sip::Uri& uri) const;
    // Whether `uri` is an entry we wrote into Record-Route (no user part, ;lr, ours): a
    // strict router puts it into the Request-URI (§16.4).
    bool isOwnRecordRouteUri(const sip::Uri& uri) const;
    // Whether host:port (port as written, absent for the default) is one of ours.
    bool isOwnHost(QByteArrayView host, std::optional<quint16> port) const;

    // What §16.4 did to a request.
    struct Preprocessing {
        bool fromStrictRouter = false;  // the Request-URI was ours; the last Route replaced it
        bool strippedMaddr = false;     // a maddr naming us was removed from the Request-URI
        int poppedRoutes = 0;           // our own entries removed from the top of Route
        // The request followed a route set that names us (our Record-Route came back).
        bool cameThroughUs() const { return fromStrictRouter || poppedRoutes > 0; }
    };
    // RFC 3261 §16.4 route information preprocessing, in place: the Request-URI back
    // from a strict router, a maddr that names us, then every Route value on top that
    // names us (two after double record-routing, RFC 5658).
    Preprocessing preprocess(sip::Message& request) const;

private:
    QByteArray hostFor(transport::Protocol protocol, const QHostAddress& arrivedAt) const;

    const transport::Transport& m_transport;
    const LocalDomains& m_domains;
    QByteArray m_configuredHost;
};

// Route header editing: the values across every Route field, in order.

// Every Route value (name-addr text), in order.
std::vector<QByteArray> routeValues(const sip::Message& request);
// Replaces every Route field with one field per value, in order.
void setRouteValues(sip::Message& request, const std::vector<QByteArray>& values);
// Removes the topmost Route value (only it: a comma list in the first field keeps the rest).
bool removeTopRoute(sip::Message& request);

// RFC 3261 §16.6 step 6: when the next hop is a strict router (the top Route has no ;lr)
// the Request-URI goes to the end of Route and the top Route value becomes the
// Request-URI. Returns whether it did so.
bool applyStrictRoute(sip::Message& request);

// The URI the request goes to next (§16.6 step 7): the top Route when there is one,
// else the Request-URI. Text copied out of the message.
QByteArray nextHopUri(const sip::Message& request);

// An RFC 3263 §4 target for a URI whose target (maddr or host) is a numeric address:
// transport from ;transport= (TLS for sips), port as written or the transport's default.
// nullopt for a host name (no DNS here) or a URI that cannot name a SIP server.
std::optional<transport::Endpoint> numericTarget(const sip::Uri& uri);

// `uri` written again without the listed parameters and, when `dropPort`, without its
// port (e.g. §16.4: a maddr naming us is stripped with its port and transport).
QByteArray uriWithout(const sip::Uri& uri, std::initializer_list<QByteArrayView> params,
                      bool dropPort);

}  // namespace sb::server
