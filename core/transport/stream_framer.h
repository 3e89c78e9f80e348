#pragma once

#include <QByteArray>
#include <QByteArrayView>

#include <optional>
#include <vector>

#include "base/error.h"
#include "sip/parser.h"

namespace sb::transport {

// Cuts a TCP/TLS byte stream into SIP messages (RFC 3261 §18.3, by Content-Length via
// sip::findStreamFrame) and recognises RFC 5626 §4.4.1 keep-alives between them, with a
// bound on what one connection may keep buffered. No sockets: the connection feeds it
// and acts on the result.
//
// Incremental: a peer that trickles a message a byte at a time must not cost a rescan of
// everything buffered per byte. The search for the end of the headers resumes where the
// last one stopped, findStreamFrame() runs only once that end is seen, and once the
// Content-Length is known nothing runs until the body is complete. So each byte is
// examined a bounded number of times, whatever the chunking.
class StreamFramer {
public:
    enum class Role {
        Server,  // the peer opened the flow: "\r\n\r\n" is a ping that wants a "\r\n" pong
        Client,  // we opened it: a "\r\n" is the pong to our ping, never answered
    };

    struct Output {
        std::vector<QByteArray> messages;  // complete messages, in order
        int pings = 0;                     // pings to answer with one "\r\n" each (Role::Server)
        int pongs = 0;                     // CRLFs seen in Role::Client
        // Set when the stream cannot be framed any more (no or bad Content-Length, over a
        // limit): the connection must close. `rejected` holds the unframable bytes so the
        // caller can still answer the request 400/513 when its headers are readable.
        std::optional<Error> error;
        QByteArray rejected;
    };

    // `maxBuffered` bounds the bytes kept while a message is incomplete; at least
    // limits.maxMessageSize is used.
    explicit StreamFramer(Role role, sip::ParseLimits limits = {}, qsizetype maxBuffered = 0);

    Output feed(QByteArrayView bytes);

    Role role() const { return m_role; }
    qsizetype buffered() const { return m_buffer.size() - m_start; }
    qsizetype maxBuffered() const { return m_maxBuffered; }
    bool failed() const { return m_failed; }
    // Bytes the framing looked at so far, a findStreamFrame() call counted as all it was
    // given: grows linearly with what was fed, however it was chunked.
    quint64 examinedBytes() const { return m_examined; }

private:
    void takeKeepAlives(Output& out);
    bool findHeaderEnd();
    void resetSearch();
    void fail(Output& out, Error error, qsizetype from);
    void compact();

    Role m_role;
    sip::ParseLimits m_limits;
    qsizetype m_maxBuffered;
    QByteArray m_buffer;
    qsizetype m_start = 0;  // consumed prefix of m_buffer
    int m_pendingCrlf = 0;  // CRLFs seen since the last message or completed ping
    bool m_failed = false;
    // Search state of the message that starts at m_start, as offsets into m_buffer.
    qsizetype m_scan = 0;        // the next byte to examine
    qsizetype m_dataStart = -1;  // first byte after the leading CR/LFs, once seen
    qsizetype m_headerEnd = -1;  // one past the empty line that ends the headers, once seen
    qsizetype m_frameEnd = -1;   // one past the body, once the Content-Length is known
    quint64 m_examined = 0;
};

}  // namespace sb::transport
