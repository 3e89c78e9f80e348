#include "transport/stream_framer.h"

#include <algorithm>

namespace sb::transport {

StreamFramer::StreamFramer(Role role, sip::ParseLimits limits, qsizetype maxBuffered)
    : m_role(role), m_limits(limits), m_maxBuffered(std::max(maxBuffered, limits.maxMessageSize)) {}

StreamFramer::Output StreamFramer::feed(QByteArrayView bytes) {
    Output out;
    if (m_failed) return out;
    m_buffer.append(bytes.data(), bytes.size());

    while (true) {
        takeKeepAlives(out);
        const QByteArrayView rest = QByteArrayView(m_buffer).sliced(m_start);
        if (rest.isEmpty() || rest == QByteArrayView("\r")) break;

        const sip::StreamFrame frame = sip::findStreamFrame(rest, m_limits);
        if (frame.status == sip::StreamFrame::Status::Complete) {
            out.messages.emplace_back(rest.sliced(frame.skip, frame.length).toByteArray());
            m_start += frame.skip + frame.length;
            m_pendingCrlf = 0;
            continue;
        }
        if (frame.status == sip::StreamFrame::Status::Invalid) {
            // §18.3: without a usable Content-Length the next message cannot be found.
            m_failed = true;
            out.error = frame.error;
            out.rejected = rest.sliced(frame.skip).toByteArray();
            m_buffer.clear();
            m_start = 0;
            return out;
        }
        if (rest.size() - frame.skip > m_maxBuffered) {
            m_failed = true;
            out.error = makeError(ErrorKind::Limit,
                                  QStringLiteral("Message larger than %1 bytes").arg(m_maxBuffered),
                                  -1, 513);
            out.rejected = rest.sliced(frame.skip).toByteArray();
            m_buffer.clear();
            m_start = 0;
            return out;
        }
        break;  // NeedMore
    }
    compact();
    return out;
}

void StreamFramer::takeKeepAlives(Output& out) {
    // RFC 5626 §4.4.1: a ping is CRLFCRLF, its pong a single CRLF. RFC 3261 §7.5 also
    // lets CRLFs (and we tolerate bare LFs) precede a start line; they are never framed.
    const QByteArrayView data(m_buffer);
    while (m_start < data.size()) {
        if (data[m_start] == '\n') {
            ++m_start;
            continue;
        }
        if (data[m_start] != '\r' || m_start + 1 >= data.size() || data[m_start + 1] != '\n') break;
        m_start += 2;
        if (m_role == Role::Client) {
            ++out.pongs;
            continue;
        }
        if (++m_pendingCrlf == 2) {
            ++out.pings;
            m_pendingCrlf = 0;
        }
    }
    if (m_start < data.size() && data[m_start] != '\r') m_pendingCrlf = 0;  // a message starts
}

void StreamFramer::compact() {
    if (m_start == m_buffer.size()) {
        m_buffer.clear();
        m_start = 0;
    } else if (m_start > 0) {
        m_buffer.remove(0, m_start);
        m_start = 0;
    }
}

}  // namespace sb::transport
