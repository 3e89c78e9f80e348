#pragma once

#include <QByteArray>

#include "base/random.h"
#include "sip/message.h"
#include "transport/transport.h"

namespace sb::transaction {

// Requests the transaction layer builds itself.

// A fresh RFC 3261 branch: the magic cookie and enough randomness to be unique in
// space and time (§8.1.1.7).
QByteArray newBranch(base::Random& random);

// A top Via value for a request leaving through `local` (the transport rewrites the
// transport and sent-by for the socket it really uses), with ;rport (RFC 3581 §3).
QByteArray viaValue(const std::optional<transport::Endpoint>& local, transport::Protocol protocol,
                    QByteArrayView branch);

// RFC 3261 §17.1.1.3: the ACK for a 3xx–6xx answer to `invite`, sent by the INVITE
// client transaction: Request-URI, Call-ID, From and the single top Via of the INVITE,
// To of the response (with its tag), CSeq number of the INVITE with method ACK, and
// the INVITE's Route header fields.
sip::Message makeAckForFailure(const sip::Message& invite, const sip::Message& response);

// RFC 3261 §9.1: the CANCEL for `invite`: same Request-URI, Call-ID, To, From, CSeq
// number and single top Via (branch included), Route copied, CSeq method CANCEL, and
// `reasonHeader` as a Reason header field (RFC 3326) when not empty.
sip::Message makeCancel(const sip::Message& invite, const QByteArray& reasonHeader);

}  // namespace sb::transaction
