#include "dialoginfo/lamp.h"

namespace sb::dialoginfo {

namespace {

// DESIGN.md "Lamps", from the RFC 4235 §4.1.2 state of one dialog and its direction.
enum class Kind { None, Ringing, Calling, Busy, Held };

Kind kindOf(const DialogInfo& dialog) {
    switch (dialog.state) {
        case DialogState::Terminated:
            return Kind::None;
        case DialogState::Confirmed:
            // RFC 4235 §4.1.6.2 with RFC 3840's +sip.rendering: "no" on our own target means
            // the extension put the call on hold (Asterisk reports hold this way).
            if (dialog.local.target && !dialog.local.target->rendersMedia()) return Kind::Held;
            return Kind::Busy;
        case DialogState::Trying:
            // An incoming INVITE not yet answered with a provisional response is about to
            // ring; an outgoing one (or one of unknown direction) is a call being placed.
            return dialog.direction == Direction::Recipient ? Kind::Ringing : Kind::Calling;
        case DialogState::Proceeding:
        case DialogState::Early:
            // BLF servers that omit the direction mean "ringing" by an early dialog.
            return dialog.direction == Direction::Initiator ? Kind::Calling : Kind::Ringing;
    }
    return Kind::None;
}

}  // namespace

LampView deriveLamp(const std::vector<DialogInfo>& dialogs, bool subscriptionUsable) {
    LampView view;
    if (!subscriptionUsable) return view;  // Offline overrides whatever is known
    view.lamp = Lamp::Idle;

    // Precedence Ringing > Calling > Busy > Held; within one kind the oldest dialog (the
    // first in the list) decides, so the tile does not jump between parties.
    Kind best = Kind::None;
    int deciding = -1;
    for (int i = 0; i < int(dialogs.size()); ++i) {
        const Kind kind = kindOf(dialogs[std::size_t(i)]);
        if (kind == Kind::None) continue;
        if (best == Kind::None || int(kind) < int(best)) {
            best = kind;
            deciding = i;
        }
    }
    switch (best) {
        case Kind::None:
            return view;
        case Kind::Ringing:
            view.lamp = Lamp::Ringing;
            break;
        case Kind::Calling:
            view.lamp = Lamp::Calling;
            break;
        case Kind::Busy:
            view.lamp = Lamp::Busy;
            break;
        case Kind::Held:
            view.lamp = Lamp::Held;
            break;
    }
    view.decidingDialog = deciding;
    const Participant& other = dialogs[std::size_t(deciding)].remote;
    view.otherDisplay = other.display;
    view.otherUri = other.identity;
    if (view.otherUri.isEmpty() && other.target) view.otherUri = other.target->uri;
    return view;
}

QString lampName(Lamp lamp) {
    switch (lamp) {
        case Lamp::Offline:
            return QStringLiteral("offline");
        case Lamp::Idle:
            return QStringLiteral("idle");
        case Lamp::Ringing:
            return QStringLiteral("ringing");
        case Lamp::Calling:
            return QStringLiteral("calling");
        case Lamp::Busy:
            return QStringLiteral("busy");
        case Lamp::Held:
            return QStringLiteral("held");
    }
    return {};
}

}  // namespace sb::dialoginfo
