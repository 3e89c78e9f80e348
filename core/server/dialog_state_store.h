#pragma once

#include <QHash>
#include <QString>

#include <functional>
#include <vector>

#include "dialoginfo/dialog_info.h"

namespace sb::server {

// What the built-in server knows about each user's dialogs, from every source: the
// dialog tracker (calls it proxied) and PUBLISHers (RFC 3903, e.g. a Kamailio with
// pua_dialoginfo). The notifier, the board and the publisher read it (DESIGN.md data
// flow: the tracker's half of board::StateStore).
//
// Keyed by user (LocalDomains::userOf). Within a user, each source owns a slot
// (`sourceKey`: "call:<id>" for a tracked call, "publish:<etag>" for a publication)
// holding that source's dialogs; a user's dialogs are every slot's, in the order the
// slots were first filled. Replacing a slot replaces only that source's dialogs.
class DialogStateStore {
public:
    // What a change did. EndedRemoved: only dialogs that were already terminated left
    // (a call's linger ran out, a publication of its end expired). Watchers have seen
    // the end and need no NOTIFY for it (RFC 4235 §3.7.1: a terminated dialog need not
    // appear again); the board still drops the dialog.
    enum class Change { States, EndedRemoved };

    // Called synchronously after every change of a user's dialogs, with the user key.
    // Listeners must not change the store or add listeners from inside the call; a
    // listener may remove itself (never another) from inside it.
    using Listener = std::function<void(const QString& user, Change change)>;

    // Returns a handle for removeListener.
    int addListener(Listener listener);
    void removeListener(int handle);

    // Sets (replaces) the dialogs of `sourceKey` for `user`; an empty list removes the
    // slot. Notifies only when something changed.
    void setDialogs(const QString& user, const QString& sourceKey,
                    std::vector<dialoginfo::DialogInfo> dialogs);
    void removeSource(const QString& user, const QString& sourceKey);

    // Every dialog of `user`, slot by slot.
    std::vector<dialoginfo::DialogInfo> dialogs(const QString& user) const;
    // The same without the terminated dialogs whose last change is at or before
    // `endedAfter` (a sequence()): a reader that has shown everything up to then has
    // shown their end, and RFC 4235 §3.7.1 lets later full documents leave them out.
    // Terminated calls linger in the store for seconds; without this every document of
    // a busy user would carry each call of the last seconds.
    std::vector<dialoginfo::DialogInfo> dialogs(const QString& user, quint64 endedAfter) const;
    // Rises with every change (notified or not); 0 before the first.
    quint64 sequence() const { return m_sequence; }
    bool hasDialogs(const QString& user) const;
    // Users with at least one dialog.
    QStringList users() const;
    std::size_t dialogCount() const;

private:
    struct Slot {
        QString sourceKey;
        std::vector<dialoginfo::DialogInfo> dialogs;
        quint64 changedAt = 0;  // sequence() of its last change
    };
    void notify(const QString& user, Change change);

    QHash<QString, std::vector<Slot>> m_byUser;
    // A removed listener is emptied while a notification runs and erased after it.
    std::vector<std::pair<int, Listener>> m_listeners;
    int m_notifying = 0;
    int m_nextHandle = 1;
    std::size_t m_dialogCount = 0;
    quint64 m_sequence = 0;
};

// Field-by-field equality of two dialogs (the store skips notifications for no change).
bool sameDialog(const dialoginfo::DialogInfo& a, const dialoginfo::DialogInfo& b);

}  // namespace sb::server
