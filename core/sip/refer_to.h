#pragma once

#include <QByteArray>
#include <QByteArrayView>

#include "base/result.h"

namespace sb::sip {

// What a pickup by REFER sends (RFC 3515, RFC 3891): the phone that receives the REFER
// calls the Refer-To URI, and the Replaces header embedded in it makes the caller's
// phone hand its early dialog over.

struct ReplacesTarget {
    QByteArray callId;
    // RFC 3891 §3: seen from the UA that receives the INVITE with Replaces (for a pickup,
    // the caller): to-tag is its own tag, from-tag its peer's (the ringing extension's).
    QByteArray toTag;
    QByteArray fromTag;
    bool earlyOnly = true;
};

// The Replaces header value (RFC 3891 §6.1): call-id;to-tag=...;from-tag=...[;early-only].
// Refused when the Call-ID is not a word (RFC 3261 §25.1) or a tag is not a token.
Result<QByteArray> formatReplaces(const ReplacesTarget& target);

// RFC 3261 §19.1.1 hvalue: percent-escapes everything but unreserved and hnv-unreserved.
QByteArray escapeUriHeaderValue(QByteArrayView value);

// `<target?Replaces=...>`: the Refer-To value of a pickup. `target` is a SIP URI without
// headers of its own (the caller's remote target).
Result<QByteArray> referToWithReplaces(QByteArrayView target, const ReplacesTarget& replaces);

}  // namespace sb::sip
