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
// An entry is `<sip:HOST:PORT;sbrr=TOKEN;lr>` for UDP and
// `<sip:HOST:PORT;transport=tcp;sbrr=TOKEN;lr>` for TCP, naming the listening endpoint of
// that transport. HOST is the configured host when there is one, else the transport's
// listening address, else (listening on any address) the address the request arrived
// at, else the address of ours that the peer on that side can reach
// (LocalDomains::hostTowards).
//
// TOKEN binds the entry to the dialog's Call-ID: base64url of the first 12 bytes of
// HMAC-SHA256(secret, Call-ID). Only a request that carries it back — in a Route value
// it consumes, or in the Request-URI after a strict router (§16.4) — follows a dialog
// this proxy Record-Routed; anything else "within a dialog" is forged or stale and must
// not be relayed (the proxy would be an open relay otherwise). The Call-ID alone is
// bound because From and To swap with the direction of a request inside a dialog.
class RecordRoute {
public:
    // The URI parameter that carries the token.
    static constexpr QByteArrayView kTokenParam = "sbrr";

    // `secret`: the HMAC key of the tokens; empty writes no token and accepts none.
    RecordRoute(const transport::Transport& transport, const LocalDomains& domains,
                QByteArray configuredHost = {}, QByteArray secret = {});

    // One side of the proxy in a request's path.
    struct Leg {
        transport::Protocol protocol = transport::Protocol::Udp;
        // The local address a request on this side arrived at; null when not known (a
        // socket bound to a wildcard address, or the outgoing side).
        QHostAddress arrivedAt;
        // The peer on this side (the previous or the next hop).
        QHostAddress peer;
    };

    // The URI for `leg`, with the token of `callId` (none when `callId` is empty).
    QByteArray uriFor(const Leg& leg, QByteArrayView callId = {}) const;
    QByteArray uriFor(transport::Protocol protocol, const QHostAddress& arrivedAt = {}) const {
        return uriFor(Leg{protocol, arrivedAt, {}});
    }

    // §16.6 step 4: adds our entry on top of the request's Record-Route, with the token of
    // the request's Call-ID. When the request arrived on one interface and leaves over
    // another — another transport (UDP↔TCP bridging) or, listening on a wildcard address,
    // another of our addresses — it adds two (RFC 5658): the top one names the outgoing
    // interface (the UAS's first route), the one below it the incoming interface (the
    // UAC's first route, the set reversed).
    void addTo(sip::Message& request, const Leg& incoming, const Leg& outgoing) const;

    // The token of a dialog with this Call-ID; empty without a secret.
    QByteArray tokenFor(QByteArrayView callId) const;
    // Whether `uri` carries the token of `callId`.
    bool hasValidToken(const sip::Uri& uri, QByteArrayView callId) const;

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
        // One of our entries it consumed (a popped Route, or the Request-URI from a strict
        // router) carried the token of the request's Call-ID: it follows a dialog we
        // Record-Routed.
        bool validToken = false;
        // The request followed a route set that names us (our Record-Route came back).
        bool cameThroughUs() const { return fromStrictRouter || poppedRoutes > 0; }
    };
    // RFC 3261 §16.4 route information preprocessing, in place: the Request-URI back
    // from a strict router, a maddr that names us, then every Route value on top that
    // names us (two after double record-routing, RFC 5658).
    Preprocessing preprocess(sip::Message& request) const;

private:
    QByteArray hostFor(const Leg& leg) const;

    const transport::Transport& m_transport;
    const LocalDomains& m_domains;
    QByteArray m_configuredHost;
    QByteArray m_secret;
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
