#pragma once

#include <QByteArray>
#include <QByteArrayView>

#include "base/result.h"
#include "sip/message.h"

namespace sb::sip {

// Limits that keep hostile input from costing unbounded memory or time.
struct ParseLimits {
    qsizetype maxMessageSize = 64 * 1024;  // whole message; over it → 513 Message Too Large
    int maxHeaders = 200;                  // header fields; over it → 400
    qsizetype maxLineLength = 8 * 1024;    // one start line or header line (with folds)
};

// RFC 3261 §7 message parser: splits the start line and header fields, recognises
// header names (compact forms included) and the body, zero-copy into `bytes`.
// Header values are not validated here; typed accessors and Message::validate() do
// that when asked. Errors say what is wrong and at which offset; sipStatus suggests
// the response (400, 413, 505, 513) when the input is a request.
//
// Datagrams (UDP): a missing Content-Length means "the rest of the datagram" (§18.3);
// a Content-Length larger than what arrived is an error; bytes beyond it are dropped.
class Parser {
public:
    static Result<Message> parse(QByteArray bytes, const ParseLimits& limits = {});

    // For a request that parse() refused: keeps only what a response needs (the request
    // line, Via, From, To, Call-ID, CSeq) from the lines that still read as header
    // fields, so the transport can answer 400 with parse()'s reason (RFC 3261 §8.2 /
    // §16.3). Fails when the input is not a request or one of those is missing.
    static Result<Message> salvageRequest(QByteArray bytes, const ParseLimits& limits = {});
};

// Stream framing (RFC 3261 §18.3): finds the end of the first message in `buffered`.
// Leading CRLFs (keep-alives, RFC 5626 §4.4.1) are reported in `skip` so the caller can
// answer and drop them.
struct StreamFrame {
    enum class Status { NeedMore, Complete, Invalid };
    Status status = Status::NeedMore;
    qsizetype skip = 0;    // leading CRLF bytes before the message
    qsizetype length = 0;  // message length (after `skip`) when Complete
    Error error;           // when Invalid (no or bad Content-Length, over a limit)
};
StreamFrame findStreamFrame(QByteArrayView buffered, const ParseLimits& limits = {});

}  // namespace sb::sip
