#pragma once

#include <QByteArrayView>
#include <QString>
#include <QStringList>

#include <functional>

#include "sip/message.h"

namespace sb::sip {

// How a call came to where it rings, as the operator reads it in the queue: one line per
// diversion, latest first ("from 203, user-busy"). Shared by the built-in server's
// attendant and the client-mode reception queue, so both tell the same story.

// Turns a diverting URI into what the operator knows it by (an extension of ours: its
// number; anything else: the URI). Empty function: the URI as written.
using UriDisplay = std::function<QString(QByteArrayView uri)>;

// The Diversion entries `message` carries, topmost first; without any (or when they do
// not parse), its History-Info read as RFC 7544 maps it back: each entry with a cause
// was diverted to from its parent entry, latest first. Entries that cannot be read are
// left out: a story with a gap beats none, and the call is not refused for it.
QStringList arrivalHistory(const Message& message, const UriDisplay& display = {});

}  // namespace sb::sip
