#include "transport/send_queue.h"

namespace sb::transport {

Result<void> SendQueue::checkRoom(qsizetype size, qsizetype inSocket) const {
    const qsizetype waiting = m_bytes + inSocket;
    if (size > m_maxBytes - waiting) {
        return fail(ErrorKind::Limit,
                    QStringLiteral("%1 bytes already waiting to be sent, %2 more would pass "
                                   "the limit of %3")
                        .arg(waiting)
                        .arg(size)
                        .arg(m_maxBytes));
    }
    return {};
}

Result<void> SendQueue::push(Entry entry) {
    if (auto room = checkRoom(entry.bytes.size()); !room) return room;
    m_bytes += entry.bytes.size();
    m_entries.push_back(std::move(entry));
    return {};
}

std::vector<SendQueue::Entry> SendQueue::takeAll() {
    std::vector<Entry> taken;
    taken.swap(m_entries);
    m_bytes = 0;
    return taken;
}

}  // namespace sb::transport
