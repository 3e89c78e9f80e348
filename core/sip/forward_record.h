#pragma once

#include <QByteArray>
#include <QByteArrayList>

#include <optional>

#include "base/result.h"
#include "sip/diversion.h"
#include "sip/message.h"

namespace sb::sip {

// How a forward by the operator is written into what carries the call on (issue 7): a
// Diversion entry (RFC 5806, with every option of Kamailio's add_diversion and beyond),
// History-Info (RFC 7044, mapped as RFC 7544 does), or both. Shared by the built-in
// server's retarget (the new INVITE) and the client's redirect (the 302), so that both
// write the same entries for the same settings.

// [diversion] and [attendant] default_reason: what every forward adds.
struct ForwardOptions {
    QByteArray defaultReason = "deflection";
    QByteArrayList extraReasons;  // reason tokens the administrator adds

    // The Diversion entry a forward adds (add_diversion's suffix, and beyond the seed).
    QByteArray suffix;
    int counter = 0;  // 0: no counter parameter
    int limit = 0;    // 0: no limit parameter
    DiversionPrivacy privacy = DiversionPrivacy::Unset;
    std::optional<bool> screen;
    enum class HistoryInfo { Off, Beside, Instead };  // History-Info beside or instead of Diversion
    HistoryInfo historyInfo = HistoryInfo::Off;

    // The reason tokens offered: RFC 5806's eleven, then the administrator's.
    QByteArrayList reasons() const;
};

// What the operator chose for one forward; unset members take the options' values.
struct ForwardChoices {
    QByteArray reason;        // empty: ForwardOptions::defaultReason
    QByteArray diversionUri;  // empty: the caller's default (the diverted leg's URI)
    std::optional<DiversionPrivacy> privacy;
    std::optional<int> counter;
    std::optional<bool> historyInfo;  // override: add History-Info (beside Diversion)
};

// Adds the forward from `from` (the diverting URI) to `to` (the target) to `onward`:
// the Diversion entry topmost, and History-Info when asked for. With `arrivedWith` (a
// 302 built afresh) the fields of each kind the call arrived with are copied first, and
// only the kinds this forward adds to: a list without our step would tell the next hop
// a story that stops before us. Refused, with `onward` unusable, for a reason that is
// not a token, a Diversion limit reached, or a malformed entry. Returns the reason used.
Result<QByteArray> recordForward(Message& onward, const ForwardOptions& options,
                                 const ForwardChoices& choices, QByteArrayView from,
                                 QByteArrayView to, const Message* arrivedWith = nullptr);

}  // namespace sb::sip
