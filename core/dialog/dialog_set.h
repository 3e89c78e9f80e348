#pragma once

#include <QByteArrayView>

#include <memory>
#include <unordered_map>
#include <vector>

#include "dialog/dialog.h"
#include "dialog/dialog_id.h"
#include "sip/message.h"

namespace sb::dialog {

// The dialogs of a UA, owned and keyed by dialog id. It also does the one job that
// needs several dialogs at once: a forked INVITE (§13.2.2.4, §12.1.2) gets one early
// dialog per To tag in its 1xx responses and may get several confirmed ones.
class DialogSet {
public:
    // A response to `request`, a dialog-creating request we sent: a 101-199 with a To
    // tag or a 2xx creates the dialog of that To tag, or updates it when it exists;
    // other responses go to the existing dialog. A 3xx-6xx to the request ends every
    // early dialog it created (§12.3). Returns the dialog the response belongs to, or
    // nullptr (a 100, or a response that creates nothing).
    Dialog* onUacResponse(const sip::Message& request, const sip::Message& response);

    // A dialog-creating response we send to `request` (UAS): creates the dialog, or
    // passes the response to it when it exists (a 2xx after an early 1xx confirms it).
    Dialog* onUasResponse(const sip::Message& request, const sip::Message& response);

    Dialog* find(const DialogId& id);
    // The dialog of an incoming in-dialog request (local tag = To tag).
    Dialog* findForRequest(const sip::Message& request);
    // The dialog of a response to a request we sent (local tag = From tag).
    Dialog* findForResponse(const sip::Message& response);
    // Every dialog of one call leg of ours: the forks of one INVITE.
    std::vector<Dialog*> dialogsOf(QByteArrayView callId, QByteArrayView localTag);

    Dialog& add(Dialog dialog);
    bool remove(const DialogId& id);
    // §13.2.2.4: when the INVITE transaction is over, early dialogs that were never
    // confirmed end.
    void terminateEarly(QByteArrayView callId, QByteArrayView localTag);
    // Drops the dialogs in state Terminated.
    void removeTerminated();
    std::size_t size() const { return m_dialogs.size(); }

private:
    std::unordered_map<DialogId, std::unique_ptr<Dialog>, DialogIdHash> m_dialogs;
};

}  // namespace sb::dialog
