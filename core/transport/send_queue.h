#pragma once

#include <QByteArray>

#include <optional>
#include <vector>

#include "base/result.h"
#include "sip/message.h"
#include "transport/transport.h"

namespace sb::transport {

// What one connection has accepted to send but not yet handed to the kernel: the
// messages queued while it connects, and what its socket still buffers because the
// peer does not read. Bounded, so that a peer that never accepts or never reads cannot
// make us hold unbounded memory; beyond the bound a send fails (ErrorKind::Limit) and
// nothing is queued.
class SendQueue {
public:
    struct Entry {
        QByteArray bytes;
        // RFC 3261 §18.1.1: a request moved from UDP for its size goes back to UDP when
        // the connection cannot be made; this is its UDP form.
        std::optional<sip::Message> udpFallback;
        Endpoint udpDestination;
    };

    explicit SendQueue(qsizetype maxBytes) : m_maxBytes(maxBytes) {}

    // Whether `size` more bytes fit while the socket still holds `inSocket` unsent ones
    // (besides what is queued here).
    Result<void> checkRoom(qsizetype size, qsizetype inSocket = 0) const;
    // Queues `entry` (while connecting), or refuses it when it does not fit.
    Result<void> push(Entry entry);
    // Everything queued, in order; the queue is empty afterwards.
    std::vector<Entry> takeAll();

    qsizetype bytes() const { return m_bytes; }
    bool empty() const { return m_entries.empty(); }
    std::size_t size() const { return m_entries.size(); }
    qsizetype maxBytes() const { return m_maxBytes; }

private:
    qsizetype m_maxBytes;
    qsizetype m_bytes = 0;
    std::vector<Entry> m_entries;
};

}  // namespace sb::transport
