#pragma once

#include <QByteArrayView>

#include <optional>

#include "base/result.h"
#include "sip/params.h"

namespace sb::sip {

// One Via value (RFC 3261 §20.42, §18.2.1, RFC 3581).
struct Via {
    QByteArrayView protocolName;     // "SIP"
    QByteArrayView protocolVersion;  // "2.0"
    QByteArrayView transport;        // "UDP", "TCP", "TLS", ... as written
    QByteArrayView host;             // sent-by host, without IPv6 brackets
    bool ipv6Reference = false;
    std::optional<quint16> port;
    ParamList params;

    static Result<Via> parse(QByteArrayView text);

    QByteArrayView branch() const;
    // RFC 3261 §8.1.1.7: branches from RFC 3261 elements start with the magic cookie.
    bool hasMagicCookie() const;
    std::optional<QByteArrayView> received() const;
    std::optional<QByteArrayView> maddr() const;
    bool hasRport() const;                 // ";rport" present, with or without value
    std::optional<quint16> rport() const;  // the value, when filled in
};

inline constexpr QByteArrayView kMagicCookie = "z9hG4bK";

}  // namespace sb::sip
