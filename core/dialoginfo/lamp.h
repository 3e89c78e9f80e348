#pragma once

#include <QString>

#include <vector>

#include "dialoginfo/dialog_info.h"

namespace sb::dialoginfo {

// DESIGN.md "Lamps": what one extension's tile shows.
enum class Lamp { Offline, Idle, Ringing, Calling, Busy, Held };

// The lamp of one extension and the dialog that decided it.
struct LampView {
    Lamp lamp = Lamp::Offline;
    // Index into the dialogs passed to deriveLamp(), of the dialog that decided the
    // lamp; -1 for Offline and Idle.
    int decidingDialog = -1;
    // The other party of that dialog: its display name and its identity (or target when
    // no identity was given), as the document wrote them.
    QString otherDisplay;
    QString otherUri;
};

// Derives the lamp from an extension's current (non-terminated) dialogs:
// - not `subscriptionUsable` → Offline, whatever the dialogs say;
// - no dialog, or only terminated ones → Idle (idle is not offline);
// - Ringing: a recipient dialog in proceeding or early (an early dialog of unknown
//   direction counts as ringing: that is what BLF servers mean by it); also a recipient
//   dialog in trying (Kamailio's callee_trying) and an unknown-direction proceeding one;
// - Calling: an initiator (or unknown-direction trying) dialog in trying/proceeding/early;
// - Busy: a confirmed dialog whose local target renders media;
// - Held: confirmed dialogs that all have +sip.rendering=no on the local target.
// Precedence when several dialogs exist: Ringing > Calling > Busy > Held (ringing wins
// over busy: call waiting must be seen).
LampView deriveLamp(const std::vector<DialogInfo>& dialogs, bool subscriptionUsable);

// "offline", "idle", "ringing", "calling", "busy", "held" (headless JSON, logs).
QString lampName(Lamp lamp);

}  // namespace sb::dialoginfo
