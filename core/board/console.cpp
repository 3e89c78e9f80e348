#include "board/console.h"

#include <QMetaObject>

#include <algorithm>
#include <chrono>
#include <unordered_map>
#include <utility>

namespace sb::board {

namespace {

using dialoginfo::DialogInfo;
using dialoginfo::DialogState;

// A <duration> beyond a year is nonsense; clamping it keeps the arithmetic in range.
constexpr qint64 kMaxDurationSeconds = 366LL * 24 * 3600;

base::Duration durationOf(const DialogInfo& dialog) {
    return std::chrono::seconds(
        std::clamp<qint64>(*dialog.durationSeconds, 0, kMaxDurationSeconds));
}

// When a dialog seen for the first time began: RFC 4235 §4.1.1 <duration> says how long it
// has existed, so a board started in the middle of a call shows the real call length.
base::TimePoint firstSeen(const DialogInfo& dialog, base::TimePoint now) {
    return dialog.durationSeconds ? now - durationOf(dialog) : now;
}

bool rendersMedia(const DialogInfo& dialog) {
    return !dialog.local.target || dialog.local.target->rendersMedia();
}

bool sameTarget(const std::optional<dialoginfo::Target>& a,
                const std::optional<dialoginfo::Target>& b) {
    if (a.has_value() != b.has_value()) return false;
    return !a || (a->uri == b->uri && a->params == b->params);
}

bool sameParticipant(const dialoginfo::Participant& a, const dialoginfo::Participant& b) {
    return a.identity == b.identity && a.display == b.display && sameTarget(a.target, b.target);
}

// What the board shows of a dialog. <duration> is left out: servers that send it raise it
// on every NOTIFY, and the board computes durations itself.
bool sameDialog(const DialogInfo& a, const DialogInfo& b) {
    return a.id == b.id && a.state == b.state && a.direction == b.direction &&
           a.callId == b.callId && a.localTag == b.localTag && a.remoteTag == b.remoteTag &&
           a.stateEvent == b.stateEvent && a.stateCode == b.stateCode &&
           sameParticipant(a.remote, b.remote) && sameParticipant(a.local, b.local);
}

bool sameDialogs(const std::vector<DialogInfo>& a, const std::vector<DialogInfo>& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), sameDialog);
}

bool containsDialog(const std::vector<DialogInfo>& dialogs, const QString& id) {
    return std::any_of(dialogs.begin(), dialogs.end(),
                       [&](const DialogInfo& dialog) { return dialog.id == id; });
}

// A new subscription is being set up (RFC 6665 §4.1.2.1): its documents start a new
// version sequence.
bool isStarting(ua::SubscriptionStatus::State state) {
    using State = ua::SubscriptionStatus::State;
    return state == State::Queued || state == State::Subscribing;
}

bool sameStatus(const ua::SubscriptionStatus& a, const ua::SubscriptionStatus& b) {
    return a.state == b.state && a.reason == b.reason && a.statusCode == b.statusCode &&
           a.retryIn == b.retryIn;
}

bool isBlank(QByteArrayView body) {
    return std::all_of(body.begin(), body.end(),
                       [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; });
}

}  // namespace

struct Console::Entry {
    // The phase of one dialog as the lamp sees it: its state, whether it is on hold, and
    // the other party (a transfer starts a new phase).
    struct Phase {
        DialogState state;
        bool rendering;
        QString remote;
        base::TimePoint since;
    };

    ExtensionState state;
    // A subscription that worked is being replaced (RFC 6665: deactivated, timeout, 481
    // on a refresh): the last known dialogs and lamp stay until the new one reports,
    // instead of flashing offline. Only a failure without recovery shows offline.
    bool recovering = false;
    QString uri;        // what the source subscribes to
    QString entityKey;  // dialoginfo::normalisedEntity(uri)
    // Per dialog id, since when it is in its current phase, so that a lamp that comes
    // back to a dialog (busy after a waiting call stopped ringing) shows how long that
    // dialog has really been in that state.
    QHash<QString, Phase> phases;
};

Console::Console(const base::Clock& clock, QObject* parent) : QObject(parent), m_clock(clock) {}

Console::~Console() = default;

void Console::setDomain(const QString& domain) {
    if (domain == m_domain) return;
    m_domain = domain;
    std::vector<std::pair<QString, QString>> moved;  // number, old uri
    for (const auto& entry : m_states) {
        const QString uri = effectiveUri(entry->state.extension);
        if (uri == entry->uri) continue;
        moved.emplace_back(entry->state.extension.number, entry->uri);
        entry->uri = uri;
        entry->entityKey = dialoginfo::normalisedEntity(uri);
    }
    if (moved.empty()) return;
    m_entityIndex.clear();
    for (const auto& entry : m_states)
        indexEntity(*entry);
    for (const auto& [number, oldUri] : moved) {
        emit unmonitored(number, oldUri);
        emit monitored(number, uriOf(number));
    }
}

QString Console::effectiveUri(const Extension& extension) const {
    if (!extension.uri.isEmpty()) return extension.uri;
    return QStringLiteral("sip:%1@%2").arg(extension.number, m_domain);
}

Console::Entry* Console::entryFor(const QString& number) {
    const int index = m_directory.indexOf(number);
    return index < 0 ? nullptr : m_states[index].get();
}

const Console::Entry* Console::entryFor(const QString& number) const {
    const int index = m_directory.indexOf(number);
    return index < 0 ? nullptr : m_states[index].get();
}

void Console::indexEntity(const Entry& entry) {
    // Two extensions may name the same resource; the first one keeps the entity, the
    // other is still reached through the subscription fallback.
    if (!entry.entityKey.isEmpty() && !m_entityIndex.contains(entry.entityKey))
        m_entityIndex.insert(entry.entityKey, entry.state.extension.number);
}

void Console::unindexEntity(const Entry& entry) {
    const auto it = m_entityIndex.find(entry.entityKey);
    if (it == m_entityIndex.end() || it.value() != entry.state.extension.number) return;
    m_entityIndex.erase(it);
    for (const auto& other : m_states) {
        if (other.get() != &entry && other->entityKey == entry.entityKey) {
            m_entityIndex.insert(other->entityKey, other->state.extension.number);
            break;
        }
    }
}

// --- the directory ----------------------------------------------------------------------

namespace {

Result<void> checkUri(const Extension& extension, const QString& key) {
    if (!extension.uri.isEmpty() && key.isEmpty()) {
        return fail(ErrorKind::Config, QStringLiteral("extension %1: \"%2\" is not a SIP URI")
                                           .arg(extension.number, extension.uri));
    }
    return {};
}

}  // namespace

Result<void> Console::monitor(const Extension& extension) {
    if (auto valid = checkExtensionNumber(extension.number); !valid) return valid;
    const QString uri = effectiveUri(extension);
    const QString key = dialoginfo::normalisedEntity(uri);
    if (auto valid = checkUri(extension, key); !valid) return valid;

    if (Entry* entry = entryFor(extension.number)) {
        const Extension& old = entry->state.extension;
        if (old == extension) return {};
        const QString oldUri = entry->uri;
        if (auto updated = m_directory.update(extension); !updated) return updated;
        if (oldUri != uri) unindexEntity(*entry);
        entry->state.extension = extension;
        entry->uri = uri;
        entry->entityKey = key;
        if (oldUri != uri) indexEntity(*entry);
        emit directoryChanged();
        if (oldUri != uri) {
            emit unmonitored(extension.number, oldUri);
            emit monitored(extension.number, uri);
        }
        return {};
    }

    if (auto added = m_directory.add(extension); !added) return added;
    auto entry = std::make_unique<Entry>();
    entry->state.extension = extension;
    entry->state.since = m_clock.now();
    entry->uri = uri;
    entry->entityKey = key;
    indexEntity(*entry);
    m_states.push_back(std::move(entry));
    emit directoryChanged();
    emit monitored(extension.number, uri);
    return {};
}

bool Console::unmonitor(const QString& number) {
    const int index = m_directory.indexOf(number);
    if (index < 0) return false;
    std::unique_ptr<Entry> entry = std::move(m_states[index]);
    m_states.erase(m_states.begin() + index);
    m_directory.remove(number);
    if (entry->state.subscription.usable()) --m_subscribedCount;
    unindexEntity(*entry);
    // A pending change mark for it is dropped when the batch is flushed.
    emit directoryChanged();
    emit unmonitored(number, entry->uri);
    return true;
}

Result<void> Console::setDirectory(const std::vector<Extension>& extensions) {
    // All or nothing: check everything before touching anything.
    Directory next;
    std::vector<QString> uris;
    std::vector<QString> keys;
    uris.reserve(extensions.size());
    keys.reserve(extensions.size());
    for (const Extension& extension : extensions) {
        if (auto added = next.add(extension); !added) return added;
        uris.push_back(effectiveUri(extension));
        keys.push_back(dialoginfo::normalisedEntity(uris.back()));
        if (auto valid = checkUri(extension, keys.back()); !valid) return valid;
    }

    std::unordered_map<QString, std::unique_ptr<Entry>> previous;
    previous.reserve(m_states.size());
    QStringList previousOrder;
    for (auto& entry : m_states) {
        previousOrder.append(entry->state.extension.number);
        QString number = entry->state.extension.number;
        previous.emplace(std::move(number), std::move(entry));
    }

    std::vector<std::pair<QString, QString>> stopped;  // number, uri
    std::vector<std::pair<QString, QString>> started;
    bool shapeChanged = false;
    std::vector<std::unique_ptr<Entry>> states;
    states.reserve(extensions.size());
    for (std::size_t i = 0; i < extensions.size(); ++i) {
        const Extension& extension = extensions[i];
        std::unique_ptr<Entry> entry;
        if (auto it = previous.find(extension.number); it != previous.end()) {
            entry = std::move(it->second);
            previous.erase(it);
            const Extension& old = entry->state.extension;
            if (old.name != extension.name || old.group != extension.group ||
                old.uri != extension.uri)
                shapeChanged = true;
            if (entry->uri != uris[i]) {
                stopped.emplace_back(extension.number, entry->uri);
                started.emplace_back(extension.number, uris[i]);
            }
        } else {
            entry = std::make_unique<Entry>();
            entry->state.since = m_clock.now();
            started.emplace_back(extension.number, uris[i]);
            shapeChanged = true;
        }
        entry->state.extension = extension;
        entry->uri = uris[i];
        entry->entityKey = keys[i];
        states.push_back(std::move(entry));
    }
    for (const QString& number : std::as_const(previousOrder)) {
        const auto it = previous.find(number);
        if (it == previous.end()) continue;
        if (it->second->state.subscription.usable()) --m_subscribedCount;
        stopped.emplace_back(number, it->second->uri);
        shapeChanged = true;
    }
    if (!shapeChanged) {
        for (std::size_t i = 0; i < states.size(); ++i) {
            if (i >= std::size_t(previousOrder.size()) ||
                previousOrder.at(qsizetype(i)) != states[i]->state.extension.number) {
                shapeChanged = true;
                break;
            }
        }
    }

    m_directory = std::move(next);
    m_states = std::move(states);
    m_entityIndex.clear();
    for (const auto& entry : m_states)
        indexEntity(*entry);

    if (shapeChanged) emit directoryChanged();
    for (const auto& [number, uri] : stopped)
        emit unmonitored(number, uri);
    for (const auto& [number, uri] : started)
        emit monitored(number, uri);
    return {};
}

QString Console::uriOf(const QString& number) const {
    const Entry* entry = entryFor(number);
    return entry ? entry->uri : QString();
}

// --- feeding state ----------------------------------------------------------------------

QString Console::matchEntity(const QString& entity, const QString& fallback) const {
    const QString key = dialoginfo::normalisedEntity(entity);
    if (!key.isEmpty()) {
        // The subscription's own extension wins when it names the same resource.
        if (!fallback.isEmpty()) {
            const Entry* own = entryFor(fallback);
            if (own && own->entityKey == key) return fallback;
        }
        const auto it = m_entityIndex.constFind(key);
        if (it != m_entityIndex.cend()) return it.value();
    }
    // Servers write the entity in their own way (an IP address for the domain, a port):
    // the subscription the document came on still says whose it is.
    if (!fallback.isEmpty() && entryFor(fallback)) return fallback;
    return {};
}

ApplyResult Console::applyDialogInfo(QByteArrayView body, const QString& subscribedNumber,
                                     QString* reason) {
    if (isBlank(body)) {
        // RFC 6665 §4.1.3 lets a NOTIFY carry no body. Kamailio's presence_dialoginfo
        // sends exactly that when the extension has no dialog at all (no publication
        // stored): the only way it says "idle". Taken as full state without dialogs, so
        // an idle extension lights up as idle instead of staying unknown.
        if (subscribedNumber.isEmpty() || !entryFor(subscribedNumber)) {
            if (reason) *reason = QStringLiteral("empty body: no state change");
            return ApplyResult::Ignored;
        }
        dialoginfo::Document empty;
        empty.state = dialoginfo::DocumentState::Full;
        return applyDocument(empty, subscribedNumber);
    }
    Result<dialoginfo::Document> document = dialoginfo::parseDocument(body);
    if (!document) {
        if (reason) *reason = document.error().toString();
        return ApplyResult::Malformed;
    }
    const ApplyResult result = applyDocument(*document, subscribedNumber);
    if (reason) {
        switch (result) {
            case ApplyResult::UnknownEntity:
                *reason =
                    QStringLiteral("entity \"%1\" is no monitored extension").arg(document->entity);
                break;
            case ApplyResult::Ignored:
                *reason = QStringLiteral("stale version (RFC 4235 §4.1)");
                break;
            case ApplyResult::NeedFullState:
                *reason = QStringLiteral(
                    "version gap or partial state without full state (RFC 4235 §4.1)");
                break;
            case ApplyResult::Applied:
            case ApplyResult::Malformed:
                reason->clear();
                break;
        }
    }
    return result;
}

ApplyResult Console::applyDocument(const dialoginfo::Document& document,
                                   const QString& subscribedNumber) {
    const QString number = matchEntity(document.entity, subscribedNumber);
    if (number.isEmpty()) return ApplyResult::UnknownEntity;
    Entry* entry = entryFor(number);
    ExtensionState& state = entry->state;

    // Cheap: the strings are implicitly shared.
    const std::vector<DialogInfo> before = state.merge.dialogs();
    switch (state.merge.apply(document)) {
        case dialoginfo::DialogStateMerge::Outcome::Stale:
            return ApplyResult::Ignored;
        case dialoginfo::DialogStateMerge::Outcome::NeedFullState:
            return ApplyResult::NeedFullState;
        case dialoginfo::DialogStateMerge::Outcome::Applied:
            break;
    }
    // Kamailio raises the version on every NOTIFY even without change: only a real
    // change makes a batch.
    const bool dialogsChanged = !sameDialogs(before, state.merge.dialogs());
    const bool lampChanged = relight(*entry);
    if (dialogsChanged || lampChanged) markChanged(number);
    return ApplyResult::Applied;
}

void Console::setSubscriptionStatus(const QString& number, const ua::SubscriptionStatus& status) {
    Entry* entry = entryFor(number);
    if (!entry) return;
    ExtensionState& state = entry->state;
    const bool statusChanged = !sameStatus(state.subscription, status);
    const bool fresh = isStarting(status.state) && !isStarting(state.subscription.state);
    if (state.subscription.usable() != status.usable())
        m_subscribedCount += status.usable() ? 1 : -1;
    state.subscription = status;
    using State = ua::SubscriptionStatus::State;
    const bool wasKnown = entry->recovering || state.merge.hasFullState();
    bool dialogsChanged = false;
    if (fresh && wasKnown) {
        // RFC 4235 §4.1: versions are per subscription; the new one starts with full
        // state, which then replaces what the old one said.
        entry->recovering = true;
        state.merge.restartVersions();
    } else if (fresh || status.state == State::Retrying || status.state == State::Unavailable ||
               status.state == State::Terminated) {
        entry->recovering = false;
        dialogsChanged = !state.merge.dialogs().empty();
        state.merge.reset();
    }
    const bool lampChanged = relight(*entry);
    if (statusChanged || dialogsChanged || lampChanged) markChanged(number);
}

bool Console::relight(Entry& entry) {
    ExtensionState& state = entry.state;
    const std::vector<DialogInfo>& dialogs = state.merge.dialogs();
    // The lamp shows what is known: a subscription whose full state has arrived, or one
    // being replaced after it worked. Pending without a document, or active before its
    // first NOTIFY, is not known yet.
    if (state.merge.hasFullState()) entry.recovering = false;
    const bool usable =
        entry.recovering || (state.subscription.usable() && state.merge.hasFullState());
    const base::TimePoint now = m_clock.now();

    bool idsChanged = false;
    for (const DialogInfo& dialog : dialogs) {
        if (!state.dialogSince.contains(dialog.id)) {
            state.dialogSince.insert(dialog.id, firstSeen(dialog, now));
            idsChanged = true;
        }
        const bool rendering = rendersMedia(dialog);
        auto phase = entry.phases.find(dialog.id);
        if (phase == entry.phases.end()) {
            entry.phases.insert(dialog.id, {dialog.state, rendering, dialog.remote.identity,
                                            firstSeen(dialog, now)});
        } else if (phase->state != dialog.state || phase->rendering != rendering ||
                   phase->remote != dialog.remote.identity) {
            *phase = {dialog.state, rendering, dialog.remote.identity, now};
        }
    }
    // Forget dialogs that ended. Until a new subscription has delivered its full state
    // (RFC 4235 §4.1) the old ids are kept, so a call that survives it keeps its start time.
    const qsizetype count = qsizetype(dialogs.size());
    const bool known = usable && state.merge.hasFullState();
    if (state.dialogSince.size() > count && (known || state.dialogSince.size() > count + 64)) {
        for (auto it = state.dialogSince.begin(); it != state.dialogSince.end();) {
            if (containsDialog(dialogs, it.key())) {
                ++it;
            } else {
                entry.phases.remove(it.key());
                it = state.dialogSince.erase(it);
                idsChanged = true;
            }
        }
    }

    dialoginfo::LampView lamp = dialoginfo::deriveLamp(dialogs, usable);
    const bool lampChanged = lamp.lamp != state.lamp.lamp || lamp.otherUri != state.lamp.otherUri ||
                             lamp.otherDisplay != state.lamp.otherDisplay;
    base::TimePoint since = state.since;
    if (lampChanged) {
        since = now;
        if (lamp.decidingDialog >= 0 && lamp.decidingDialog < int(dialogs.size())) {
            const DialogInfo& deciding = dialogs[std::size_t(lamp.decidingDialog)];
            if (deciding.durationSeconds) {
                since = now - durationOf(deciding);
            } else if (const auto phase = entry.phases.constFind(deciding.id);
                       phase != entry.phases.cend()) {
                since = phase->since;
            }
        }
    }
    const bool changed =
        lampChanged || lamp.decidingDialog != state.lamp.decidingDialog || since != state.since;
    state.lamp = std::move(lamp);
    state.since = since;
    return changed || idsChanged;
}

// --- coalesced signals ------------------------------------------------------------------

void Console::markChanged(const QString& number) {
    if (m_changed.contains(number)) return;
    m_changed.insert(number);
    m_changedOrder.append(number);
    if (m_flushQueued) return;
    m_flushQueued = true;
    // One batch per event-loop turn, however many documents arrive in it.
    QMetaObject::invokeMethod(
        this, [this] { flushChanges(); }, Qt::QueuedConnection);
}

void Console::flushChanges() {
    m_flushQueued = false;
    m_changed.clear();
    QStringList order = std::exchange(m_changedOrder, {});
    // Extensions unmonitored since they were marked are gone (directoryChanged said so).
    order.removeIf([this](const QString& number) { return m_directory.indexOf(number) < 0; });
    if (!order.isEmpty()) emit extensionsChanged(order);
}

// --- reading ------------------------------------------------------------------------------

const ExtensionState* Console::state(const QString& number) const {
    const Entry* entry = entryFor(number);
    return entry ? &entry->state : nullptr;
}

const ExtensionState* Console::stateAt(int index) const {
    if (index < 0 || index >= int(m_states.size())) return nullptr;
    return &m_states[std::size_t(index)]->state;
}

}  // namespace sb::board
