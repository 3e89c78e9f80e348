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

private:
    void takeKeepAlives(Output& out);
    void compact();

    Role m_role;
    sip::ParseLimits m_limits;
    qsizetype m_maxBuffered;
    QByteArray m_buffer;
    qsizetype m_start = 0;  // consumed prefix of m_buffer
    int m_pendingCrlf = 0;  // CRLFs seen since the last message or completed ping
    bool m_failed = false;
};

}  // namespace sb::transport
