#include "dialoginfo/dialog_state_merge.h"

#include <algorithm>

namespace sb::dialoginfo {

namespace {

// Kamailio sends call-id and tags only while a dialog is early; the board keeps the ones
// it learned, because pickup and attended transfer (Replaces, RFC 3891) need them once
// the dialog is confirmed too. Tokens the server does send always win.
void carryIdentifiers(DialogInfo& next, const DialogInfo& before) {
    if (next.callId.isEmpty()) next.callId = before.callId;
    if (next.localTag.isEmpty()) next.localTag = before.localTag;
    if (next.remoteTag.isEmpty()) next.remoteTag = before.remoteTag;
}

const DialogInfo* findById(const std::vector<DialogInfo>& dialogs, const QString& id) {
    for (const DialogInfo& dialog : dialogs)
        if (dialog.id == id) return &dialog;
    return nullptr;
}

}  // namespace

DialogStateMerge::Outcome DialogStateMerge::apply(const Document& document) {
    const bool partial = document.state == DocumentState::Partial;
    // RFC 4235 §4.1: a partial document only makes sense on top of full state.
    if (partial && !m_haveFull) return Outcome::NeedFullState;

    if (document.version && m_version) {
        // RFC 4235 §4.1: "If the version number is less than or equal to the previously
        // received one, the document is discarded" (a reordered or repeated NOTIFY).
        if (*document.version <= *m_version) return Outcome::Stale;
        // A partial document must be exactly the next version; a gap means a NOTIFY was
        // lost and the merged state is wrong: fetch full state (a SUBSCRIBE refresh).
        if (partial && *document.version != *m_version + 1) {
            m_haveFull = false;
            return Outcome::NeedFullState;
        }
    }
    // Without a version no ordering is possible: the document is applied as it comes.
    // Kamailio starts at 0 for each watcher, so 0 is a valid first version.
    if (document.version) m_version = document.version;

    m_terminated.clear();
    if (!partial) {
        // Full state replaces everything; dialogs that vanished end without a word.
        std::vector<DialogInfo> next;
        next.reserve(document.dialogs.size());
        for (const DialogInfo& dialog : document.dialogs) {
            if (dialog.state == DialogState::Terminated) {
                m_terminated.push_back(dialog);
            } else {
                next.push_back(dialog);
                if (const DialogInfo* before = findById(m_dialogs, dialog.id))
                    carryIdentifiers(next.back(), *before);
            }
        }
        m_dialogs = std::move(next);
        m_haveFull = true;
        return Outcome::Applied;
    }

    // RFC 4235 §4.1: partial state merges by dialog id; a dialog element replaces what was
    // known about that dialog, a terminated one removes it.
    for (const DialogInfo& dialog : document.dialogs) {
        auto known = std::find_if(m_dialogs.begin(), m_dialogs.end(),
                                  [&](const DialogInfo& d) { return d.id == dialog.id; });
        if (dialog.state == DialogState::Terminated) {
            m_terminated.push_back(dialog);
            if (known != m_dialogs.end()) m_dialogs.erase(known);
        } else if (known != m_dialogs.end()) {
            DialogInfo next = dialog;
            carryIdentifiers(next, *known);
            *known = std::move(next);
        } else {
            m_dialogs.push_back(dialog);
        }
    }
    return Outcome::Applied;
}

void DialogStateMerge::restartVersions() {
    m_terminated.clear();
    m_version.reset();
    m_haveFull = false;
}

void DialogStateMerge::reset() {
    m_dialogs.clear();
    m_terminated.clear();
    m_version.reset();
    m_haveFull = false;
}

}  // namespace sb::dialoginfo
