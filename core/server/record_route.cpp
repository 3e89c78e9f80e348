#include "server/record_route.h"

#include <QCryptographicHash>
#include <QMessageAuthenticationCode>

#include "sip/name_addr.h"
#include "transport/server_locator.h"
#include "transport/via_rules.h"

namespace sb::server {

namespace {

constexpr transport::Protocol kProtocols[] = {transport::Protocol::Udp, transport::Protocol::Tcp,
                                              transport::Protocol::Tls};
// 96 bits of HMAC: guessing one is hopeless, and the entry stays short (16 characters).
constexpr qsizetype kTokenBytes = 12;

bool isWildcard(const QHostAddress& address) {
    return isWildcardAddress(address);
}

// Compares in time independent of where the first difference is, so that the answer
// time tells a forger nothing about how much of a token was right.
bool equalTokens(QByteArrayView a, QByteArrayView b) {
    if (a.size() != b.size()) return false;
    unsigned char difference = 0;
    for (qsizetype i = 0; i < a.size(); ++i)
        difference |= static_cast<unsigned char>(a[i] ^ b[i]);
    return difference == 0;
}

// The URI of one Route/Record-Route value ("<sip:...;lr>" or a bare addr-spec).
std::optional<sip::Uri> uriOfRoute(QByteArrayView value) {
    auto route = sip::NameAddr::parse(value);
    if (!route) return std::nullopt;
    return route->uri;
}

}  // namespace

RecordRoute::RecordRoute(const transport::Transport& transport, const LocalDomains& domains,
                         QByteArray configuredHost, QByteArray secret)
    : m_transport(transport),
      m_domains(domains),
      m_configuredHost(std::move(configuredHost)),
      m_secret(std::move(secret)) {}

QByteArray RecordRoute::hostFor(const Leg& leg) const {
    if (!m_configuredHost.isEmpty()) return m_configuredHost;
    if (auto local = m_transport.localEndpoint(leg.protocol); local && !isWildcard(local->address))
        return transport::hostText(transport::normalizedAddress(local->address));
    if (!isWildcard(leg.arrivedAt))
        return transport::hostText(transport::normalizedAddress(leg.arrivedAt));
    // A wildcard socket does not say which of our addresses the peer used: the one the
    // system routes towards it is one the peer can reach (a domain name would have to be
    // resolvable by every phone, which switchboard.local is not).
    return m_domains.hostTowards(leg.peer);
}

QByteArray RecordRoute::tokenFor(QByteArrayView callId) const {
    if (m_secret.isEmpty()) return {};
    QMessageAuthenticationCode mac(QCryptographicHash::Sha256, m_secret);
    mac.addData(callId.data(), callId.size());
    return mac.result()
        .left(kTokenBytes)
        .toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

bool RecordRoute::hasValidToken(const sip::Uri& uri, QByteArrayView callId) const {
    if (m_secret.isEmpty() || callId.isEmpty()) return false;
    const std::optional<QByteArrayView> token = uri.params.value(kTokenParam);
    if (!token || token->isEmpty()) return false;
    return equalTokens(*token, tokenFor(callId));
}

QByteArray RecordRoute::uriFor(const Leg& leg, QByteArrayView callId) const {
    const auto local = m_transport.localEndpoint(leg.protocol);
    const quint16 port =
        local && local->port != 0 ? local->port : transport::defaultPort(leg.protocol);
    QByteArray uri = "sip:" + hostFor(leg) + ':' + QByteArray::number(port);
    // §19.1.2: UDP is the default transport of a sip URI; anything else is named, so
    // that the in-dialog request comes back over the transport of this interface.
    if (leg.protocol != transport::Protocol::Udp)
        uri += ";transport=" + transport::protocolName(leg.protocol).toByteArray().toLower();
    if (const QByteArray token = callId.isEmpty() ? QByteArray() : tokenFor(callId);
        !token.isEmpty())
        uri += ';' + kTokenParam.toByteArray() + '=' + token;
    return uri + ";lr";
}

void RecordRoute::addTo(sip::Message& request, const Leg& incoming, const Leg& outgoing) const {
    const QByteArrayView callId = request.header(sip::HeaderId::CallId);
    // With one transport, the entry for the outgoing side is worked out with what the
    // request told about the incoming side (the address it arrived at).
    Leg out = outgoing;
    if (out.protocol == incoming.protocol && out.arrivedAt.isNull())
        out.arrivedAt = incoming.arrivedAt;
    const QByteArray outUri = uriFor(out, callId);
    const QByteArray inUri = uriFor(incoming, callId);
    if (inUri != outUri) request.prependHeader(sip::HeaderId::RecordRoute, '<' + inUri + '>');
    request.prependHeader(sip::HeaderId::RecordRoute, '<' + outUri + '>');
}

bool RecordRoute::isOwnHost(QByteArrayView host, std::optional<quint16> port) const {
    if (host.isEmpty()) return false;
    if (m_domains.isLocalHost(host, port)) return true;
    // The configured host is written as a URI host ("[::1]" for IPv6); `host` comes
    // without the brackets.
    QByteArrayView configured = m_configuredHost;
    if (configured.startsWith('[') && configured.endsWith(']'))
        configured = configured.sliced(1, configured.size() - 2);
    if (!configured.isEmpty() && configured.compare(host, Qt::CaseInsensitive) == 0) {
        if (!port) return true;
        for (transport::Protocol protocol : kProtocols) {
            if (auto local = m_transport.localEndpoint(protocol); local && local->port == *port)
                return true;
        }
        return false;
    }
    const QHostAddress address(QString::fromLatin1(host));
    if (address.isNull()) return false;
    for (transport::Protocol protocol : kProtocols) {
        const auto local = m_transport.localEndpoint(protocol);
        if (!local) continue;
        // A wildcard socket is ours only at the addresses of this machine (the
        // interfaces), not at every address.
        const bool sameAddress = isWildcard(local->address)
                                     ? m_domains.isInterfaceAddress(address)
                                     : transport::normalizedAddress(local->address) ==
                                           transport::normalizedAddress(address);
        if (sameAddress && port.value_or(transport::defaultPort(protocol)) == local->port)
            return true;
    }
    return false;
}

bool RecordRoute::isOwn(const sip::Uri& uri) const {
    if (!uri.isSip()) return false;
    // RFC 3263 §4: maddr, when present, is where the URI leads.
    if (auto maddr = uri.params.value("maddr"); maddr && !maddr->isEmpty()) {
        QByteArrayView host = *maddr;
        if (host.startsWith('[') && host.endsWith(']')) host = host.sliced(1, host.size() - 2);
        return isOwnHost(host, uri.port);
    }
    return isOwnHost(uri.host, uri.port);
}

bool RecordRoute::isOwnRecordRouteUri(const sip::Uri& uri) const {
    return uri.user.isEmpty() && uri.params.has("lr") && isOwn(uri);
}

RecordRoute::Preprocessing RecordRoute::preprocess(sip::Message& request) const {
    Preprocessing done;
    const QByteArray callId = request.header(sip::HeaderId::CallId).toByteArray();
    auto requestUri = sip::Uri::parse(request.requestUri());
    // §16.4: "If the Request-URI contains a value this proxy previously placed into a
    // Record-Route header field", the previous hop was a strict router: the real
    // Request-URI is the last Route value.
    if (requestUri && isOwnRecordRouteUri(*requestUri)) {
        std::vector<QByteArray> routes = routeValues(request);
        if (!routes.empty()) {
            if (hasValidToken(*requestUri, callId)) done.validToken = true;
            if (auto last = uriOfRoute(routes.back())) {
                request.setRequestUri(last->text.toByteArray());
                routes.pop_back();
                setRouteValues(request, routes);
                done.fromStrictRouter = true;
                requestUri = sip::Uri::parse(request.requestUri());
            }
        }
    }
    // §16.4: a maddr naming us is stripped, with any non-default port and transport, as
    // if they had not been there.
    if (requestUri && requestUri->isSip()) {
        if (auto maddr = requestUri->params.value("maddr"); maddr && !maddr->isEmpty()) {
            QByteArrayView host = *maddr;
            if (host.startsWith('[') && host.endsWith(']')) host = host.sliced(1, host.size() - 2);
            if (isOwnHost(host, requestUri->port)) {
                request.setRequestUri(uriWithout(*requestUri, {"maddr", "transport"}, true));
                done.strippedMaddr = true;
            }
        }
    }
    // §16.4: "If the first value in the Route header field indicates this proxy, the
    // proxy MUST remove that value". After double record-routing (RFC 5658) the next
    // one is ours too; a spiral back to us would only be routed here again anyway.
    while (true) {
        const sip::ValueList values = request.values(sip::HeaderId::Route);
        if (values.isEmpty()) break;
        auto top = uriOfRoute(values.front());
        if (!top || !isOwn(*top)) break;
        if (hasValidToken(*top, callId)) done.validToken = true;
        if (!removeTopRoute(request)) break;
        ++done.poppedRoutes;
    }
    return done;
}

std::vector<QByteArray> routeValues(const sip::Message& request) {
    std::vector<QByteArray> out;
    for (QByteArrayView value : request.values(sip::HeaderId::Route))
        out.push_back(value.toByteArray());
    return out;
}

void setRouteValues(sip::Message& request, const std::vector<QByteArray>& values) {
    request.removeHeaders(sip::HeaderId::Route);
    for (const QByteArray& value : values)
        request.addHeader(sip::HeaderId::Route, value);
}

bool removeTopRoute(sip::Message& request) {
    if (!request.has(sip::HeaderId::Route)) return false;
    const QByteArrayView first = request.header(sip::HeaderId::Route);
    const sip::ValueList values = sip::splitCommaList(first);
    if (values.size() <= 1) return request.removeFirstHeader(sip::HeaderId::Route);
    QByteArray rest;
    for (qsizetype i = 1; i < values.size(); ++i) {
        if (!rest.isEmpty()) rest += ", ";
        rest += values[i].toByteArray();
    }
    return request.replaceFirstHeader(sip::HeaderId::Route, rest);
}

bool applyStrictRoute(sip::Message& request) {
    std::vector<QByteArray> routes = routeValues(request);
    if (routes.empty()) return false;
    auto top = sip::NameAddr::parse(routes.front());
    if (!top || top->uri.params.has("lr")) return false;
    // §16.6 step 6 (§12.2.1.1 has the same shape): the Request-URI goes last, as a
    // name-addr, and the strict router's URI becomes the Request-URI.
    const QByteArray nextRequestUri = top->uri.text.toByteArray();
    routes.erase(routes.begin());
    routes.push_back('<' + request.requestUri().toByteArray() + '>');
    request.setRequestUri(nextRequestUri);
    setRouteValues(request, routes);
    return true;
}

QByteArray nextHopUri(const sip::Message& request) {
    const sip::ValueList routes = request.values(sip::HeaderId::Route);
    if (!routes.isEmpty()) {
        if (auto top = sip::NameAddr::parse(routes.front())) return top->uriText.toByteArray();
    }
    return request.requestUri().toByteArray();
}

std::optional<transport::Endpoint> numericTarget(const sip::Uri& uri) {
    auto query = transport::LocateQuery::fromUri(uri);
    if (!query) return std::nullopt;
    const QHostAddress address(QString::fromLatin1(query->host));
    if (address.isNull()) return std::nullopt;
    transport::Endpoint target;
    target.protocol = query->transport.value_or(query->secure ? transport::Protocol::Tls
                                                              : transport::Protocol::Udp);
    target.address = transport::normalizedAddress(address);
    target.port = query->port.value_or(transport::defaultPort(target.protocol));
    if (target.port == 0) return std::nullopt;
    return target;
}

QByteArray uriWithout(const sip::Uri& uri, std::initializer_list<QByteArrayView> params,
                      bool dropPort) {
    QByteArray out = uri.schemeText.toByteArray() + ':';
    if (!uri.user.isEmpty()) {
        out += uri.user.toByteArray();
        if (!uri.password.isEmpty()) out += ':' + uri.password.toByteArray();
        out += '@';
    }
    if (uri.ipv6Reference) {
        out += '[' + uri.host.toByteArray() + ']';
    } else {
        out += uri.host.toByteArray();
    }
    if (uri.port && !dropPort) out += ':' + QByteArray::number(*uri.port);
    uri.params.forEach([&](QByteArrayView name, QByteArrayView value, bool hasValue) {
        for (QByteArrayView dropped : params) {
            if (name.compare(dropped, Qt::CaseInsensitive) == 0) return true;
        }
        out += ';' + name.toByteArray();
        if (hasValue) out += '=' + value.toByteArray();
        return true;
    });
    if (!uri.headers.isEmpty()) out += '?' + uri.headers.toByteArray();
    return out;
}

}  // namespace sb::server
