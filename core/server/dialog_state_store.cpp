#include "server/dialog_state_store.h"

#include <QHash>
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
    for (auto& [h, listener] : m_listeners) {
        if (h != handle) continue;
        if (m_notifying > 0) {
            h = 0;  // erased when the notification is over; the function may be running
        } else {
            std::erase_if(m_listeners,
                          [handle](const auto& entry) { return entry.first == handle; });
        }
        return;
    }
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
        sources.push_back(Slot{sourceKey, std::move(dialogs), ++m_sequence});
    } else {
        if (sameDialogs(slot->dialogs, dialogs)) return;
        m_dialogCount = m_dialogCount - slot->dialogs.size() + dialogs.size();
        slot->dialogs = std::move(dialogs);
        slot->changedAt = ++m_sequence;
    }
    notify(user, Change::States);
}

void DialogStateStore::removeSource(const QString& user, const QString& sourceKey) {
    auto found = m_byUser.find(user);
    if (found == m_byUser.end()) return;
    auto& sources = *found;
    auto slot = std::find_if(sources.begin(), sources.end(),
                             [&](const Slot& s) { return s.sourceKey == sourceKey; });
    if (slot == sources.end()) return;
    m_dialogCount -= slot->dialogs.size();
    const bool allEnded = std::all_of(slot->dialogs.begin(), slot->dialogs.end(),
                                      [](const dialoginfo::DialogInfo& d) {
                                          return d.state == dialoginfo::DialogState::Terminated;
                                      });
    sources.erase(slot);
    if (sources.empty()) m_byUser.erase(found);
    ++m_sequence;
    notify(user, allEnded ? Change::EndedRemoved : Change::States);
}

std::vector<dialoginfo::DialogInfo> DialogStateStore::dialogs(const QString& user) const {
    return dialogs(user, 0);
}

std::vector<dialoginfo::DialogInfo> DialogStateStore::dialogs(const QString& user,
                                                              quint64 endedAfter) const {
    std::vector<dialoginfo::DialogInfo> all;
    auto found = m_byUser.constFind(user);
    if (found == m_byUser.cend()) return all;
    // One dialog id reported by several sources (two publications of one Kamailio whose
    // workers raced: the second PUBLISH went out before the first one's ETag came back)
    // is one dialog: the state furthest along wins, as presence_dialoginfo decides. Old
    // ends are dropped only after that, so a stale copy never stands in for them.
    // A user has a handful of dialogs, and a linear search beats a hash there; one with
    // hundreds (the phone an operator sends calls to, a trunk) gets an index, or every
    // change of its dialogs costs their square (1,000 calls ringing: milliseconds each).
    constexpr std::size_t kLinearSearchLimit = 32;
    std::size_t total = 0;
    for (const Slot& slot : *found)
        total += slot.dialogs.size();
    QHash<QString, std::size_t> positionOf;
    if (total > kLinearSearchLimit) positionOf.reserve(qsizetype(total));
    const auto lookUp = [&](const QString& id) -> std::size_t {
        if (total > kLinearSearchLimit) return positionOf.value(id, all.size());
        return std::size_t(
            std::find_if(all.begin(), all.end(), [&](const auto& seen) { return seen.id == id; }) -
            all.begin());
    };
    std::vector<quint64> changedAt;
    all.reserve(total);
    for (const Slot& slot : *found) {
        for (const dialoginfo::DialogInfo& dialog : slot.dialogs) {
            const std::size_t known = dialog.id.isEmpty() ? all.size() : lookUp(dialog.id);
            if (known == all.size()) {
                if (total > kLinearSearchLimit && !dialog.id.isEmpty())
                    positionOf.insert(dialog.id, all.size());
                all.push_back(dialog);
                changedAt.push_back(slot.changedAt);
            } else if (dialog.state > all[known].state) {
                all[known] = dialog;
                changedAt[known] = slot.changedAt;
            }
        }
    }
    if (endedAfter == 0) return all;
    std::size_t kept = 0;
    for (std::size_t i = 0; i < all.size(); ++i) {
        if (all[i].state == dialoginfo::DialogState::Terminated && changedAt[i] <= endedAfter)
            continue;
        if (kept != i) all[kept] = std::move(all[i]);
        ++kept;
    }
    all.resize(kept);
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

void DialogStateStore::notify(const QString& user, Change change) {
    // By index, without a copy of the list (listeners never add listeners).
    ++m_notifying;
    const std::size_t count = m_listeners.size();
    for (std::size_t i = 0; i < count; ++i) {
        if (m_listeners[i].first != 0) m_listeners[i].second(user, change);
    }
    if (--m_notifying == 0)
        std::erase_if(m_listeners, [](const auto& entry) { return entry.first == 0; });
}

}  // namespace sb::server
