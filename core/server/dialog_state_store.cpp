#include "server/dialog_state_store.h"

#include <QStringList>

#include <algorithm>

namespace sb::server {

namespace {

bool sameTarget(const std::optional<dialoginfo::Target>& a,
                const std::optional<dialoginfo::Target>& b) {
    if (a.has_value() != b.has_value()) return false;
    return !a || (a->uri == b->uri && a->params == b->params);
}

bool sameParticipant(const dialoginfo::Participant& a, const dialoginfo::Participant& b) {
    return a.identity == b.identity && a.display == b.display && sameTarget(a.target, b.target);
}

bool sameDialogs(const std::vector<dialoginfo::DialogInfo>& a,
                 const std::vector<dialoginfo::DialogInfo>& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), sameDialog);
}

}  // namespace

bool sameDialog(const dialoginfo::DialogInfo& a, const dialoginfo::DialogInfo& b) {
    return a.id == b.id && a.callId == b.callId && a.localTag == b.localTag &&
           a.remoteTag == b.remoteTag && a.direction == b.direction && a.state == b.state &&
           a.stateEvent == b.stateEvent && a.stateCode == b.stateCode &&
           a.durationSeconds == b.durationSeconds && sameParticipant(a.local, b.local) &&
           sameParticipant(a.remote, b.remote);
}

int DialogStateStore::addListener(Listener listener) {
    const int handle = m_nextHandle++;
    m_listeners.emplace_back(handle, std::move(listener));
    return handle;
}

void DialogStateStore::removeListener(int handle) {
    std::erase_if(m_listeners, [handle](const auto& entry) { return entry.first == handle; });
}

void DialogStateStore::setDialogs(const QString& user, const QString& sourceKey,
                                  std::vector<dialoginfo::DialogInfo> dialogs) {
    if (dialogs.empty()) {
        removeSource(user, sourceKey);
        return;
    }
    auto& sources = m_byUser[user];
    auto slot = std::find_if(sources.begin(), sources.end(),
                             [&](const Slot& s) { return s.sourceKey == sourceKey; });
    if (slot == sources.end()) {
        m_dialogCount += dialogs.size();
        sources.push_back(Slot{sourceKey, std::move(dialogs)});
    } else {
        if (sameDialogs(slot->dialogs, dialogs)) return;
        m_dialogCount = m_dialogCount - slot->dialogs.size() + dialogs.size();
        slot->dialogs = std::move(dialogs);
    }
    notify(user);
}

void DialogStateStore::removeSource(const QString& user, const QString& sourceKey) {
    auto found = m_byUser.find(user);
    if (found == m_byUser.end()) return;
    auto& sources = *found;
    auto slot = std::find_if(sources.begin(), sources.end(),
                             [&](const Slot& s) { return s.sourceKey == sourceKey; });
    if (slot == sources.end()) return;
    m_dialogCount -= slot->dialogs.size();
    sources.erase(slot);
    if (sources.empty()) m_byUser.erase(found);
    notify(user);
}

std::vector<dialoginfo::DialogInfo> DialogStateStore::dialogs(const QString& user) const {
    std::vector<dialoginfo::DialogInfo> all;
    auto found = m_byUser.constFind(user);
    if (found == m_byUser.cend()) return all;
    // One dialog id reported by several sources (two publications of one Kamailio whose
    // workers raced: the second PUBLISH went out before the first one's ETag came back)
    // is one dialog: the state furthest along wins, as presence_dialoginfo decides.
    QHash<QString, std::size_t> position;
    for (const Slot& slot : *found) {
        for (const dialoginfo::DialogInfo& dialog : slot.dialogs) {
            const auto known = position.constFind(dialog.id);
            if (known == position.cend() || dialog.id.isEmpty()) {
                position.insert(dialog.id, all.size());
                all.push_back(dialog);
            } else if (dialog.state > all[*known].state) {
                all[*known] = dialog;
            }
        }
    }
    return all;
}

bool DialogStateStore::hasDialogs(const QString& user) const {
    return m_byUser.contains(user);
}

QStringList DialogStateStore::users() const {
    return m_byUser.keys();
}

std::size_t DialogStateStore::dialogCount() const {
    return m_dialogCount;
}

void DialogStateStore::notify(const QString& user) {
    // A copy: a listener may remove itself (never others) while we iterate.
    const auto listeners = m_listeners;
    for (const auto& [handle, listener] : listeners)
        listener(user);
}

}  // namespace sb::server
