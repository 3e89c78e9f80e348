#pragma once

#include <QByteArray>
#include <QByteArrayView>

#include <optional>

#include "base/result.h"
#include "sip/params.h"

namespace sb::sip {

enum class UriScheme : quint8 { Sip, Sips, Tel, Other };

// A SIP, SIPS or tel URI (RFC 3261 §19.1, RFC 3966), viewing the text it was parsed
// from. Other schemes parse as UriScheme::Other with only `text` and `schemeText` set.
struct Uri {
    UriScheme scheme = UriScheme::Other;
    QByteArrayView text;        // the whole URI as written
    QByteArrayView schemeText;  // "sip", "sips", "tel", ...
    QByteArrayView user;        // escaped as written; for tel: the number
    QByteArrayView password;
    QByteArrayView host;  // without the brackets of an IPv6 reference
    bool ipv6Reference = false;
    std::optional<quint16> port;
    ParamList params;        // uri-parameters, from the first ';'
    QByteArrayView headers;  // after '?', without it

    static Result<Uri> parse(QByteArrayView text);

    bool isSip() const { return scheme == UriScheme::Sip || scheme == UriScheme::Sips; }
    // "host" or "[v6]" followed by ":port" when a port is given.
    QByteArray hostPort() const;
    // scheme:user@host, the address-of-record form used for matching (no port, params).
    QByteArray addressOfRecord() const;
    // The transport parameter in lower case, empty when absent.
    QByteArray transportParam() const;
};

// RFC 3261 §19.1.4 comparison: scheme, user and password case-sensitive, host
// case-insensitive, ports must match explicitly, and the listed parameters compared.
bool uriEquivalent(const Uri& a, const Uri& b);

// Percent-decodes `text` (user parts and parameters are compared unescaped).
QByteArray percentDecode(QByteArrayView text);

}  // namespace sb::sip
