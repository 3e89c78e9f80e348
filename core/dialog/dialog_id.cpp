#include "dialog/dialog_id.h"

namespace sb::dialog {

namespace {

QByteArray tagOf(const Result<sip::NameAddr>& nameAddr) {
    return nameAddr ? nameAddr->tag().toByteArray() : QByteArray();
}

}  // namespace

DialogId DialogId::ofIncomingRequest(const sip::Message& request) {
    return {request.callId().toByteArray(), tagOf(request.to()), tagOf(request.from())};
}

DialogId DialogId::ofResponseToUac(const sip::Message& response) {
    return {response.callId().toByteArray(), tagOf(response.from()), tagOf(response.to())};
}

size_t qHash(const DialogId& id, size_t seed) noexcept {
    return qHashMulti(seed, id.callId, id.localTag, id.remoteTag);
}

}  // namespace sb::dialog
