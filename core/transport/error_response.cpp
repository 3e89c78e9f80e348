#include "transport/error_response.h"

#include <QCryptographicHash>

#include "sip/header_id.h"
#include "sip/parser.h"

namespace sb::transport {

namespace {

constexpr qsizetype kMaxReasonBytes = 120;

}  // namespace

int refusalStatus(const Error& error) {
    return error.sipStatus >= 400 && error.sipStatus <= 699 ? error.sipStatus : 400;
}

QByteArray refusalReason(const Error& error, int status) {
    QByteArray reason = error.reason.toUtf8();
    for (char& c : reason) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
    }
    if (reason.size() > kMaxReasonBytes) {
        qsizetype cut = kMaxReasonBytes;
        // Do not split a UTF-8 sequence: back up over continuation bytes.
        while (cut > 0 && (static_cast<unsigned char>(reason[cut]) & 0xc0) == 0x80)
            --cut;
        reason.truncate(cut);
    }
    reason = reason.trimmed();
    if (reason.isEmpty()) reason = sip::defaultReasonPhrase(status).toByteArray();
    return reason;
}

QByteArray statelessToTag(QByteArrayView callId, QByteArrayView from, QByteArrayView topVia) {
    QCryptographicHash hash(QCryptographicHash::Sha1);
    hash.addData(callId);
    hash.addData("\n");
    hash.addData(from);
    hash.addData("\n");
    hash.addData(topVia);
    return hash.result().toHex().left(16);
}

std::optional<sip::Message> refusalFor(const sip::Message& request, const Error& error) {
    if (!request.isRequest() || request.methodName() == "ACK") return std::nullopt;
    for (sip::HeaderId id : {sip::HeaderId::Via, sip::HeaderId::From, sip::HeaderId::To,
                             sip::HeaderId::CallId, sip::HeaderId::CSeq}) {
        if (request.header(id).trimmed().isEmpty()) return std::nullopt;
    }
    const int status = refusalStatus(error);
    const QByteArray tag = statelessToTag(request.callId(), request.header(sip::HeaderId::From),
                                          request.header(sip::HeaderId::Via));
    return sip::makeResponse(request, status, refusalReason(error, status), tag);
}

std::optional<sip::Message> refusalFor(QByteArray bytes, const Error& error,
                                       const sip::ParseLimits& limits) {
    auto salvaged = sip::Parser::salvageRequest(std::move(bytes), limits);
    if (!salvaged) return std::nullopt;
    return refusalFor(*salvaged, error);
}

}  // namespace sb::transport
