#pragma once

#include <optional>
#include <vector>

#include "dialoginfo/dialog_info.h"

namespace sb::dialoginfo {

// The dialogs of one observed resource as the documents of one subscription build them
// up, under the version rules of RFC 4235 §4.1: a full document replaces everything, a
// partial one merges by dialog id, a stale version is ignored, and a gap (or a partial
// document before any full one) means state was lost and must be fetched again.
// Terminated dialogs are applied (the caller sees the change) and then dropped.
class DialogStateMerge {
public:
    enum class Outcome {
        Applied,        // the state changed (or was confirmed by a full document)
        Stale,          // version not newer than the last one: ignored
        NeedFullState,  // version gap or partial without full: re-SUBSCRIBE, nothing applied
    };

    Outcome apply(const Document& document);
    // A new subscription: versions start again and a full document must come first.
    // The dialogs are forgotten too (the new subscription's first NOTIFY brings them).
    void reset();
    // A new subscription that replaces one that worked (deactivated, timeout, 481 on a
    // refresh): versions start again and a full document must come first, but the
    // dialogs stay until it arrives, so the board does not flicker while it recovers.
    void restartVersions();

    // Non-terminated dialogs, in the order they were first seen.
    const std::vector<DialogInfo>& dialogs() const { return m_dialogs; }
    std::optional<quint64> lastVersion() const { return m_version; }
    bool hasFullState() const { return m_haveFull; }
    // The terminated dialogs of the last Applied document (with their <state event>,
    // e.g. cancelled or rejected), for callers that report how a call ended.
    const std::vector<DialogInfo>& terminatedByLastApply() const { return m_terminated; }

private:
    std::vector<DialogInfo> m_dialogs;
    std::vector<DialogInfo> m_terminated;
    std::optional<quint64> m_version;
    bool m_haveFull = false;
};

}  // namespace sb::dialoginfo
