#pragma once

#include <QByteArrayView>

#include <optional>

#include "base/result.h"
#include "sip/method.h"
#include "sip/params.h"

namespace sb::sip {

// CSeq: 4711 INVITE (RFC 3261 §20.16).
struct CSeq {
    quint32 number = 0;
    Method method = Method::Unknown;
    QByteArrayView methodName;

    static Result<CSeq> parse(QByteArrayView text);
};

// Event: dialog;id=42 (RFC 6665 §8.2.1).
struct EventHeader {
    QByteArrayView package;  // "dialog", "presence", "reg", "refer" ...
    ParamList params;
    QByteArrayView id() const;

    static Result<EventHeader> parse(QByteArrayView text);
};

// Subscription-State: active;expires=600 / terminated;reason=timeout;retry-after=30
// (RFC 6665 §8.2.3).
struct SubscriptionStateHeader {
    QByteArrayView state;  // "active", "pending", "terminated" or an extension
    ParamList params;
    QByteArrayView reason() const;
    std::optional<quint32> expires() const;
    std::optional<quint32> retryAfter() const;

    static Result<SubscriptionStateHeader> parse(QByteArrayView text);
};

// Replaces: call-id;to-tag=a;from-tag=b;early-only (RFC 3891 §6.1).
struct ReplacesHeader {
    QByteArrayView callId;
    QByteArrayView toTag;
    QByteArrayView fromTag;
    bool earlyOnly = false;

    static Result<ReplacesHeader> parse(QByteArrayView text);
};

// Parses a decimal delta-seconds / count value with overflow check (used for
// Expires, Max-Forwards, Content-Length, Min-Expires, expires params).
std::optional<quint32> parseUnsigned(QByteArrayView text);

}  // namespace sb::sip
