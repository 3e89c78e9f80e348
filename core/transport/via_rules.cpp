#include "transport/via_rules.h"

#include "sip/params.h"
#include "sip/uri.h"

namespace sb::transport {

namespace {

// The first Via field, split into the top value and what follows its comma.
struct TopViaText {
    QByteArrayView top;
    QByteArrayView rest;  // the remaining values of the same field, may be empty
};

std::optional<TopViaText> topViaText(const sip::Message& message) {
    if (!message.has(sip::HeaderId::Via)) return std::nullopt;
    const QByteArrayView field = message.header(sip::HeaderId::Via);
    const qsizetype comma = sip::findTopLevel(field, ',', false);
    if (comma < 0) return TopViaText{field.trimmed(), {}};
    return TopViaText{field.first(comma).trimmed(), field.sliced(comma + 1).trimmed()};
}

bool sameAddress(QByteArrayView host, const QHostAddress& address) {
    QHostAddress parsed;
    if (!parsed.setAddress(QString::fromLatin1(host))) return false;  // a domain name
    return normalizedAddress(parsed) == normalizedAddress(address);
}

QByteArray unbracketed(QByteArrayView host) {
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        return host.sliced(1, host.size() - 2).toByteArray();
    }
    return host.toByteArray();
}

}  // namespace

QByteArray hostText(const QHostAddress& address) {
    QHostAddress plain = normalizedAddress(address);
    plain.setScopeId(QString());
    const QByteArray text = plain.toString().toLatin1();
    return plain.protocol() == QAbstractSocket::IPv6Protocol ? '[' + text + ']' : text;
}

QByteArray formatVia(QByteArrayView transport, QByteArrayView host, std::optional<quint16> port,
                     QByteArrayView params) {
    QByteArray value;
    value.reserve(16 + host.size() + params.size());
    value += "SIP/2.0/";
    value += transport.toByteArray().toUpper();
    value += ' ';
    const bool bareIpv6 = host.contains(':') && !host.startsWith('[');
    if (bareIpv6) value += '[';
    value += host;
    if (bareIpv6) value += ']';
    if (port) {
        value += ':';
        value += QByteArray::number(*port);
    }
    value += params;
    return value;
}

bool replaceTopVia(sip::Message& message, const QByteArray& value) {
    const auto text = topViaText(message);
    if (!text) return false;
    QByteArray field = value;
    if (!text->rest.isEmpty()) {
        field += ", ";
        field += text->rest;
    }
    return message.replaceFirstHeader(sip::HeaderId::Via, std::move(field));
}

Result<void> stampReceived(sip::Message& request, const Endpoint& source) {
    const auto text = topViaText(request);
    if (!text) return fail(ErrorKind::Parse, QStringLiteral("no Via header field"), -1, 400);
    auto via = sip::Via::parse(text->top);
    if (!via) return fail(via.error());

    // RFC 3581 §4: an empty ;rport asks for the source port, and then ;received is
    // added whatever the sent-by says.
    const bool fillRport = via->hasRport() && !via->rport().has_value();
    const bool addReceived = fillRport || !sameAddress(via->host, source.address);
    if (!addReceived) return {};

    QByteArray params;
    params.reserve(via->params.raw().size() + 48);
    via->params.forEach([&](QByteArrayView name, QByteArrayView value, bool hasValue) {
        if (name.compare("received", Qt::CaseInsensitive) == 0) return true;  // ours replaces it
        params += ';';
        params += name;
        if (name.compare("rport", Qt::CaseInsensitive) == 0 && fillRport) {
            params += '=';
            params += QByteArray::number(source.port);
        } else if (hasValue) {
            params += '=';
            params += value;
        }
        return true;
    });
    QHostAddress received = normalizedAddress(source.address);
    received.setScopeId(QString());
    params += ";received=";
    params += received.toString().toLatin1();  // RFC 3261 §25.1: IPv6 without brackets

    const QByteArray value = formatVia(via->transport, via->host, via->port, params);
    replaceTopVia(request, value);
    return {};
}

Result<void> setSentBy(sip::Message& request, Protocol protocol, QByteArrayView host,
                       quint16 port) {
    const auto text = topViaText(request);
    if (!text)
        return fail(ErrorKind::Protocol, QStringLiteral("the request has no Via header field"));
    auto via = sip::Via::parse(text->top);
    if (!via) return fail(via.error());
    replaceTopVia(request, formatVia(protocolName(protocol), host, port, via->params.raw()));
    return {};
}

std::optional<QHostAddress> ResponseRoute::address() const {
    QHostAddress parsed;
    if (!parsed.setAddress(QString::fromLatin1(host))) return std::nullopt;
    return normalizedAddress(parsed);
}

Result<ResponseRoute> routeResponse(const sip::Via& topVia) {
    const auto protocol = protocolFromName(topVia.transport);
    if (!protocol) {
        return fail(ErrorKind::Protocol, QStringLiteral("unsupported transport \"%1\" in Via")
                                             .arg(QString::fromLatin1(topVia.transport)));
    }
    ResponseRoute route;
    route.protocol = *protocol;
    const quint16 sentByPort = topVia.port.value_or(defaultPort(*protocol));
    const auto received = topVia.received();

    if (isReliable(*protocol)) {
        // §18.2.2: the request's connection; when it is closed, connect to received (or
        // sent-by) at the sent-by port.
        route.reuseConnection = true;
        route.host = received ? unbracketed(*received) : topVia.host.toByteArray();
        route.port = sentByPort;
        return route;
    }
    if (const auto maddr = topVia.maddr()) {
        // §18.2.2: maddr wins, at the sent-by port (5060 when none).
        route.host = unbracketed(*maddr);
        route.port = sentByPort;
        return route;
    }
    if (received) {
        // RFC 3581 §4: received + rport give the address and port the request came from.
        route.host = unbracketed(*received);
        route.port = topVia.rport().value_or(sentByPort);
        return route;
    }
    route.host = topVia.host.toByteArray();
    route.port = sentByPort;
    return route;
}

bool pinsUdp(const sip::Message& request) {
    if (request.has(sip::HeaderId::Route)) {
        if (auto routes = request.nameAddrs(sip::HeaderId::Route); routes && !routes->empty()) {
            const sip::Uri& next = routes->front().uri;
            // §16.12: a loose route is the next hop; a strict route sits in the Request-URI.
            if (next.params.has("lr")) return next.transportParam() == "udp";
        }
    }
    const auto uri = sip::Uri::parse(request.requestUri());
    return uri && uri->transportParam() == "udp";
}

}  // namespace sb::transport
