#include "server/dialog_probe.h"

#include "base/log.h"
#include "sip/message.h"

namespace sb::server {

namespace {

QByteArray nameAddr(const QByteArray& uri, const QByteArray& tag) {
    return "<" + uri + ">;tag=" + tag;
}

}  // namespace

DialogProbe::DialogProbe(transaction::TransactionLayer& layer, Resolve resolve, Gone gone)
    : m_layer(layer), m_resolve(std::move(resolve)), m_gone(std::move(gone)) {}

DialogProbe::~DialogProbe() {
    m_layer.forgetUser(this);
}

int DialogProbe::probe(const DialogTracker::AnsweredDialog& dialog) {
    const QByteArray caller = nameAddr(dialog.callerUri, dialog.callerTag);
    const QByteArray callee = nameAddr(dialog.calleeUri, dialog.calleeTag);
    int sent = 0;
    // To the callee as the caller would send it, and to the caller as the callee would.
    sent += ask(dialog.call, dialog.calleeTarget, dialog.callId, caller, callee) ? 1 : 0;
    sent += ask(dialog.call, dialog.callerTarget, dialog.callId, callee, caller) ? 1 : 0;
    return sent;
}

bool DialogProbe::ask(CallId call, const QByteArray& target, const QByteArray& callId,
                      const QByteArray& fromValue, const QByteArray& toValue) {
    if (target.isEmpty()) return false;
    const auto uri = sip::Uri::parse(target);
    if (!uri) return false;
    const std::optional<transport::Endpoint> hop = m_resolve(*uri);
    if (!hop) return false;
    sip::Message request = sip::Message::request(sip::Method::Options, target);
    request.addHeader(sip::HeaderId::MaxForwards, "70");
    request.addHeader(sip::HeaderId::From, fromValue);
    request.addHeader(sip::HeaderId::To, toValue);
    request.addHeader(sip::HeaderId::CallId, callId);
    request.addHeader(sip::HeaderId::CSeq, "0 OPTIONS");
    const auto id = m_layer.sendRequest(std::move(request), *hop, this);
    if (!id) {
        qCInfo(lcServer) << "dialog probe not sent to" << target << ":" << id.error().reason;
        return false;
    }
    m_pending.emplace(*id, call);
    return true;
}

void DialogProbe::onFinal(transaction::TransactionId id, const sip::Message& response) {
    // RFC 3261 §12.2.2: 481 when the party has no such dialog; any other answer shows
    // that it has (a 500 for the low CSeq, a 200, a 405 for OPTIONS, ...).
    settle(id, response.statusCode() == 481 ? std::optional<bool>(false) : std::nullopt);
}

void DialogProbe::onTimeout(transaction::TransactionId id) {
    settle(id, true);
}

void DialogProbe::onTransportError(transaction::TransactionId id, const Error&) {
    settle(id, true);
}

void DialogProbe::settle(transaction::TransactionId id, std::optional<bool> goneNoAnswer) {
    const auto found = m_pending.find(id);
    if (found == m_pending.end()) return;
    const CallId call = found->second;
    m_pending.erase(found);
    if (goneNoAnswer && m_gone) m_gone(call, *goneNoAnswer);
}

}  // namespace sb::server
