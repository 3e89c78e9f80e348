#pragma once

#include <QByteArray>
#include <QByteArrayView>

#include <optional>

#include "base/error.h"
#include "sip/message.h"
#include "sip/parser.h"

// Answers for requests the transport refuses itself because they did not parse, did not
// validate, or were over a limit (RFC 3261 §18.3 / §21.4.1 400, §21.5.14 513). The
// answer is only possible when the fields a response copies (§8.2.6.2: Via, From, To,
// Call-ID, CSeq) are readable; otherwise the request is dropped. ACK is never answered.
namespace sb::transport {

// The status for a refused request: the error's own suggestion when it is 4xx-6xx,
// else 400.
int refusalStatus(const Error& error);

// The error's reason fit for a reason phrase: control characters become spaces, cut to
// 120 bytes at a character boundary; the default phrase of `status` when empty.
QByteArray refusalReason(const Error& error, int status);

// A To tag that stays the same for retransmissions of one request (a stateless answer
// must not invent a new dialog on every retransmission): a hash of Call-ID, From and
// the top Via.
QByteArray statelessToTag(QByteArrayView callId, QByteArrayView from, QByteArrayView topVia);

// The answer to a request that parsed but failed Message::validate().
std::optional<sip::Message> refusalFor(const sip::Message& request, const Error& error);

// The answer to bytes that did not parse, from what sip::Parser::salvageRequest() can
// still read of them (the request line, Via, From, To, Call-ID, CSeq).
std::optional<sip::Message> refusalFor(QByteArray bytes, const Error& error,
                                       const sip::ParseLimits& limits);

}  // namespace sb::transport
