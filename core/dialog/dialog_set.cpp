#include "dialog/dialog_set.h"

#include <iterator>

#include "base/log.h"

namespace sb::dialog {

Dialog* DialogSet::onUacResponse(const sip::Message& request, const sip::Message& response) {
    const int status = response.statusCode();
    const DialogId id = DialogId::ofResponseToUac(response);
    if (status >= 300) {
        Dialog* existing = find(id);
        if (existing) existing->onResponse(response);
        // §12.3: the request failed, so none of its early dialogs lives on.
        for (Dialog* dialog : dialogsOf(id.callId, id.localTag)) {
            if (dialog->isEarly() &&
                dialog->initialSequence() == request.cseq().map(&sip::CSeq::number).value_or(0))
                dialog->terminate();
        }
        return existing;
    }
    if (Dialog* existing = find(id)) {
        existing->onResponse(response);
        return existing;
    }
    auto created = Dialog::createUac(request, response);
    if (!created) {
        qCDebug(lcDialog) << "no dialog from" << status << ':' << created.error().reason;
        return nullptr;
    }
    return &add(std::move(*created));
}

Dialog* DialogSet::onUasResponse(const sip::Message& request, const sip::Message& response) {
    auto to = response.to();
    auto from = request.from();
    if (!to || !from) return nullptr;
    const DialogId id{request.callId().toByteArray(), to->tag().toByteArray(),
                      from->tag().toByteArray()};
    if (Dialog* existing = find(id)) {
        existing->onResponse(response);
        return existing;
    }
    auto created = Dialog::createUas(request, response);
    if (!created) return nullptr;
    return &add(std::move(*created));
}

Dialog* DialogSet::find(const DialogId& id) {
    auto it = m_dialogs.find(id);
    return it == m_dialogs.end() ? nullptr : it->second.get();
}

Dialog* DialogSet::findForRequest(const sip::Message& request) {
    return find(DialogId::ofIncomingRequest(request));
}

Dialog* DialogSet::findForResponse(const sip::Message& response) {
    return find(DialogId::ofResponseToUac(response));
}

std::vector<Dialog*> DialogSet::dialogsOf(QByteArrayView callId, QByteArrayView localTag) {
    std::vector<Dialog*> result;
    for (auto& [id, dialog] : m_dialogs) {
        if (id.callId == callId && id.localTag == localTag) result.push_back(dialog.get());
    }
    return result;
}

Dialog& DialogSet::add(Dialog dialog) {
    const DialogId id = dialog.id();
    auto& slot = m_dialogs[id];
    slot = std::make_unique<Dialog>(std::move(dialog));
    return *slot;
}

bool DialogSet::remove(const DialogId& id) {
    return m_dialogs.erase(id) > 0;
}

void DialogSet::terminateEarly(QByteArrayView callId, QByteArrayView localTag) {
    for (Dialog* dialog : dialogsOf(callId, localTag)) {
        if (dialog->isEarly()) dialog->terminate();
    }
}

void DialogSet::removeTerminated() {
    std::erase_if(m_dialogs, [](const auto& entry) { return entry.second->isTerminated(); });
}

}  // namespace sb::dialog
