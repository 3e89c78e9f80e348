#pragma once

#include <QByteArray>
#include <QHashFunctions>

#include "sip/message.h"

namespace sb::dialog {

// RFC 3261 §12: a dialog is identified by the Call-ID, the local tag and the remote tag.
struct DialogId {
    QByteArray callId;
    QByteArray localTag;
    QByteArray remoteTag;

    bool operator==(const DialogId& other) const = default;

    // The dialog an incoming request belongs to (§12.2.2): local tag from To, remote
    // tag from From.
    static DialogId ofIncomingRequest(const sip::Message& request);
    // The dialog of a response to a request we sent (§12.2.1.2): local tag from From,
    // remote tag from To.
    static DialogId ofResponseToUac(const sip::Message& response);
};

size_t qHash(const DialogId& id, size_t seed = 0) noexcept;

struct DialogIdHash {
    size_t operator()(const DialogId& id) const noexcept { return qHash(id); }
};

}  // namespace sb::dialog
