#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

#include <optional>
#include <span>
#include <vector>

#include "base/result.h"
#include "sip/message.h"

namespace sb::sip {

// The Diversion header (RFC 5806): who diverted a call, why, and how often. What
// Kamailio's add_diversion writes, with its documented limits fixed: the configured
// suffix is really appended, and counter, limit, privacy and screen are options of their
// own rather than text in the suffix.

// The reason values registered by RFC 5806 §4.
std::span<const QByteArrayView> registeredDiversionReasons();
// RFC 3261 §25.1 token: what a reason (and every parameter name) must be.
bool isSipToken(QByteArrayView text);

enum class DiversionPrivacy { Unset, Full, Name, Uri, Off };
QByteArrayView privacyToken(DiversionPrivacy privacy);  // empty for Unset
std::optional<DiversionPrivacy> parseDiversionPrivacy(QByteArrayView text);

// One entry to add: `<uri>;reason=...;counter=...;limit=...;privacy=...;screen=...` and
// the suffix, in that order.
struct DiversionEntry {
    QByteArray uri;     // the diverting URI (the Request-URI of the diverted leg as received)
    QByteArray reason;  // a token: one of the registered reasons or an administrator's own
    int counter = 0;    // 0: no counter parameter (RFC 5806 then means 1)
    int limit = 0;      // 0: no limit parameter
    DiversionPrivacy privacy = DiversionPrivacy::Unset;
    std::optional<bool> screen;  // screen=yes/no; unset: none
    QByteArray suffix;           // ";name=value..." appended verbatim (the seed's `suffix`)
};

// An entry a request arrived with, as far as the console shows and checks it.
struct ReceivedDiversion {
    QString display;
    QByteArray uri;
    QByteArray reason;  // empty when absent
    int counter = 1;    // RFC 5806 §4: absent means 1
    std::optional<int> limit;
    QByteArray privacy;
};

// Every Diversion entry of `message`, topmost first (several fields and comma lists
// alike). A malformed entry is an error naming it: the request is not ours to fix.
Result<std::vector<ReceivedDiversion>> receivedDiversions(const Message& message);

// The entry's wire text. Errors: a reason that is not a token, a URI that does not
// parse, a malformed suffix, or a suffix that repeats a parameter an option writes.
Result<QByteArray> formatDiversion(const DiversionEntry& entry);

// How many diversions the request has been through (the sum of the counters) and the
// smallest limit any entry sets.
struct DiversionCount {
    int diversions = 0;
    std::optional<int> limit;
};
DiversionCount countDiversions(const std::vector<ReceivedDiversion>& entries);

// Adds `entry` as the topmost Diversion of `request`, above every entry it carries,
// which stay as they are and in order. Refused (the request untouched) when the entry is
// malformed or the diversions would exceed a limit that the request or the entry sets.
Result<void> addDiversion(Message& request, const DiversionEntry& entry);

}  // namespace sb::sip
