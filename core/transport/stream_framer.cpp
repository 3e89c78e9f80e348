#include "transport/stream_framer.h"

#include <algorithm>
#include <cstring>

#include "sip/header_id.h"
#include "sip/typed_headers.h"

namespace sb::transport {

namespace {

bool isWsp(char c) {
    return c == ' ' || c == '\t';
}

bool isLws(char c) {
    return isWsp(c) || c == '\r' || c == '\n';
}

// RFC 3261 §25.1 token characters.
bool isTokenChar(char c) {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
    return c != '\0' && std::strchr("-.!%*_+`'~", c) != nullptr;
}

QByteArrayView trimmed(QByteArrayView text) {
    while (!text.isEmpty() && isLws(text.front()))
        text = text.sliced(1);
    while (!text.isEmpty() && isLws(text.back()))
        text.chop(1);
    return text;
}

qsizetype findLf(QByteArrayView text, qsizetype from) {
    if (from >= text.size()) return -1;
    const void* hit = std::memchr(text.data() + from, '\n', std::size_t(text.size() - from));
    return hit ? static_cast<const char*>(hit) - text.data() : -1;
}

// The Content-Length of a header section (start line up to and with the empty line)
// that sip::findStreamFrame() accepted, read by the same rules: folded lines belong to
// the field above (RFC 3261 §7.3.1), only token names count, compact form "l".
std::optional<quint32> declaredContentLength(QByteArrayView head) {
    const qsizetype end = head.size();
    qsizetype pos = 0;
    while (pos < end) {
        qsizetype nl = findLf(head, pos);
        if (nl < 0) nl = end;
        while (nl + 1 < end && isWsp(head[nl + 1])) {
            const qsizetype more = findLf(head, nl + 1);
            nl = more < 0 ? end : more;
        }
        const QByteArrayView line = head.sliced(pos, nl - pos);
        const void* colonHit = std::memchr(line.data(), ':', std::size_t(line.size()));
        const qsizetype colon = colonHit ? static_cast<const char*>(colonHit) - line.data() : -1;
        if (colon > 0 && pos > 0) {  // pos 0 is the start line
            const QByteArrayView name = trimmed(line.first(colon));
            if (std::all_of(name.begin(), name.end(), isTokenChar) &&
                sip::headerIdFromName(name) == sip::HeaderId::ContentLength) {
                return sip::parseUnsigned(line.sliced(colon + 1));
            }
        }
        pos = nl + 1;
    }
    return std::nullopt;
}

}  // namespace

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

        const bool headersSeen = findHeaderEnd();
        if (!headersSeen) {
            if (m_dataStart < 0) {
                // Only CRs and LFs that make no keep-alive ("\r\r..."): bounded all the same.
                if (rest.size() > m_maxBuffered) {
                    fail(out,
                         makeError(
                             ErrorKind::Limit,
                             QStringLiteral("More than %1 bytes of line breaks").arg(m_maxBuffered),
                             -1, 513),
                         m_start);
                    return out;
                }
                break;
            }
            // Within the limit the headers simply continue; over it findStreamFrame()
            // gives the verdict (513, header section too large).
            if (m_buffer.size() - m_dataStart <= m_limits.maxMessageSize) break;
        } else if (m_buffer.size() < m_frameEnd) {
            break;  // the body is still incomplete
        }

        m_examined += quint64(rest.size());  // at most what findStreamFrame() looks at
        const sip::StreamFrame frame = sip::findStreamFrame(rest, m_limits);
        if (frame.status == sip::StreamFrame::Status::Complete) {
            out.messages.emplace_back(rest.sliced(frame.skip, frame.length).toByteArray());
            m_start += frame.skip + frame.length;
            m_pendingCrlf = 0;
            resetSearch();
            continue;
        }
        if (frame.status == sip::StreamFrame::Status::Invalid) {
            // §18.3: without a usable Content-Length the next message cannot be found.
            fail(out, frame.error, m_start + frame.skip);
            return out;
        }
        if (rest.size() - frame.skip > m_maxBuffered) {
            fail(out,
                 makeError(ErrorKind::Limit,
                           QStringLiteral("Message larger than %1 bytes").arg(m_maxBuffered), -1,
                           513),
                 m_start + frame.skip);
            return out;
        }
        if (headersSeen) {
            // Wait for the whole body before looking again. Should the length not be
            // found (findStreamFrame() did find one), look again at the next byte.
            const QByteArrayView head =
                QByteArrayView(m_buffer).sliced(m_dataStart, m_headerEnd - m_dataStart);
            m_examined += quint64(head.size());
            const auto length = declaredContentLength(head);
            m_frameEnd = std::max(length ? m_headerEnd + qsizetype(*length) : qsizetype(0),
                                  m_buffer.size() + 1);
        }
        break;  // NeedMore
    }
    compact();
    return out;
}

bool StreamFramer::findHeaderEnd() {
    if (m_headerEnd >= 0) return true;
    const QByteArrayView data(m_buffer);
    const qsizetype size = data.size();
    m_scan = std::max(m_scan, m_start);
    if (m_dataStart < 0) {
        // findStreamFrame() skips the CRs and LFs the keep-alive logic leaves in front.
        while (m_scan < size && (data[m_scan] == '\r' || data[m_scan] == '\n')) {
            ++m_scan;
            ++m_examined;
        }
        if (m_scan == size) return false;
        m_dataStart = m_scan;
    }
    // findStreamFrame()'s rule for the empty line: LF, an optional CR, LF. A LF too close
    // to the end to decide is looked at again when more bytes arrive.
    while (true) {
        const qsizetype nl = findLf(data, m_scan);
        m_examined += quint64((nl < 0 ? size : std::min(nl + 3, size)) - m_scan);
        if (nl < 0) {
            m_scan = size;
            return false;
        }
        qsizetype next = nl + 1;
        if (next < size && data[next] == '\r') ++next;
        if (next >= size) {
            m_scan = nl;
            return false;
        }
        if (data[next] == '\n') {
            m_headerEnd = next + 1;
            m_scan = m_headerEnd;
            return true;
        }
        m_scan = nl + 1;
    }
}

void StreamFramer::resetSearch() {
    m_scan = m_start;
    m_dataStart = -1;
    m_headerEnd = -1;
    m_frameEnd = -1;
}

void StreamFramer::fail(Output& out, Error error, qsizetype from) {
    m_failed = true;
    out.error = std::move(error);
    out.rejected = m_buffer.sliced(from);
    m_buffer.clear();
    m_start = 0;
    resetSearch();
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
    if (m_start == 0) return;
    // The search offsets move with the bytes.
    const auto shift = [this](qsizetype& offset) {
        if (offset >= 0) offset = std::max<qsizetype>(offset - m_start, 0);
    };
    shift(m_scan);
    shift(m_dataStart);
    shift(m_headerEnd);
    shift(m_frameEnd);
    if (m_start == m_buffer.size()) {
        m_buffer.clear();
    } else {
        m_buffer.remove(0, m_start);
    }
    m_start = 0;
}

}  // namespace sb::transport
