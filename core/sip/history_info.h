#pragma once

#include <QByteArray>
#include <QByteArrayView>

#include <vector>

#include "base/result.h"
#include "sip/message.h"

namespace sb::sip {

// History-Info (RFC 7044): the targets a request went through, each with a hierarchical
// index. A retarget by the attendant is recorded as RFC 7544 maps a Diversion into it.

// An entry a request arrived with.
struct HistoryEntry {
    QByteArray uri;    // hi-targeted-to-uri, without the angle brackets
    QByteArray index;  // "1", "1.1", ...
};

// Every History-Info entry of `message` in order. A malformed entry or index is an error.
Result<std::vector<HistoryEntry>> receivedHistory(const Message& message);

// RFC 7544 §5: the cause URI parameter (RFC 4458) that stands for a Diversion reason;
// 404 for a reason it does not list.
int historyCauseFor(QByteArrayView diversionReason);

// The other way (RFC 7544 §6): the Diversion reason a cause stands for; "unknown" for a
// cause it does not list.
QByteArrayView diversionReasonForCause(int cause);

// A retarget from `from` (the Request-URI of the diverted leg as received) to `to`.
struct HistoryRetarget {
    QByteArray from;
    QByteArray to;
    int cause = 404;
    // The diverting user asked for privacy: the entry for `from` that this adds carries an
    // escaped Privacy: history (RFC 7044 §10.1.2).
    bool privateFrom = false;
};

// Adds the entries of a retarget below the ones the request carries, which stay as they
// are: an entry for `from` unless the last entry already is that URI, then the new
// target as its child (next free index below it), with ;cause= in its URI and mp= naming
// the parent (RFC 7044 §10.1: a new AoR, not a contact of the same one).
Result<void> addRetargetHistory(Message& request, const HistoryRetarget& retarget);

}  // namespace sb::sip
