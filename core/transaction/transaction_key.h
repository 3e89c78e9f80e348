#pragma once

#include <QByteArray>
#include <QByteArrayView>

#include <optional>

#include "sip/message.h"

namespace sb::transaction {

// Keys under which the layer finds a transaction for an incoming message.

// RFC 3261 §17.1.3: a response matches a client transaction by the branch of its top
// Via and the method of its CSeq (so a CANCEL, which reuses the INVITE's branch, is a
// transaction of its own).
QByteArray clientKey(QByteArrayView branch, QByteArrayView method);
std::optional<QByteArray> clientKeyOfResponse(const sip::Message& response);

// RFC 3261 §17.2.3: a request matches a server transaction by the top Via's branch and
// sent-by and by method, where ACK matches the INVITE (`matchMethod` says which method
// to look for: "INVITE" for an ACK, or for a CANCEL looking for what it cancels).
//
// When the branch lacks the magic cookie (an RFC 2543 peer), the key is made of the
// Request-URI, To tag, From tag, Call-ID, CSeq number and the whole top Via instead; the
// To tag is `toTag` (an ACK carries the tag of the response it acknowledges).
std::optional<QByteArray> serverKey(const sip::Message& request, QByteArrayView matchMethod);
std::optional<QByteArray> serverKey(const sip::Message& request, QByteArrayView matchMethod,
                                    QByteArrayView toTag);
bool usesRfc2543Matching(const sip::Message& request);

// Finds an INVITE server transaction that sent a 2xx, for the ACK of that 2xx (which
// has a branch of its own, §17.1.1.3): Call-ID, From tag, To tag and CSeq number.
QByteArray dialogAckKey(QByteArrayView callId, QByteArrayView fromTag, QByteArrayView toTag,
                        quint32 cseqNumber);
std::optional<QByteArray> dialogAckKeyOfAck(const sip::Message& ack);

}  // namespace sb::transaction
