#pragma once

#include <QByteArrayView>
#include <QDateTime>
#include <QHash>
#include <QObject>
#include <QSet>
#include <QString>
#include <QStringList>

#include <memory>
#include <vector>

#include "base/clock.h"
#include "board/directory.h"
#include "dialoginfo/dialog_info.h"
#include "dialoginfo/dialog_state_merge.h"
#include "dialoginfo/lamp.h"
#include "ua/subscription_set.h"

namespace sb::board {

// Everything the board knows about one extension: the one truth for UI and headless.
struct ExtensionState {
    Extension extension;
    ua::SubscriptionStatus subscription;  // Queued until a source reports
    dialoginfo::DialogStateMerge merge;   // its dialogs under RFC 4235 §4.1
    dialoginfo::LampView lamp;            // derived from the two above
    // When the lamp (or, for the same lamp, the other party) last changed, on the
    // console's clock, corrected by the deciding dialog's <duration> when it has one.
    // When the lamp goes back to a dialog that kept its state meanwhile (busy again after
    // a waiting call stopped ringing), since is when that dialog entered its state.
    base::TimePoint since{};
    // Per dialog id: when it was first seen (for durations without <duration>; with one,
    // now - duration at first sight). Kept while the dialog lives, and across a
    // re-subscription until the new subscription is usable.
    QHash<QString, base::TimePoint> dialogSince;
};

// What a source should do after a document was applied.
enum class ApplyResult {
    Applied,
    Ignored,        // stale version, or an empty body (no state change)
    NeedFullState,  // fetch full state (re-SUBSCRIBE)
    Malformed,      // not a dialog-info document; see the reason
    UnknownEntity,  // the entity matches no monitored extension and there was no fallback
};

// The facade the front ends talk to (DESIGN.md core/board): the directory, each
// extension's dialogs and lamp, and coalesced change signals — at most one batch per
// event-loop turn, however many documents arrived in it. Sources of dialog state
// (client-mode subscriptions now, the built-in server's tracker later) feed it through
// the apply/set calls; they learn what to watch from the monitor signals.
class Console final : public QObject {
    Q_OBJECT
public:
    explicit Console(const base::Clock& clock, QObject* parent = nullptr);
    ~Console() override;

    // The SIP domain of extensions without their own uri ("sip:<number>@<domain>").
    void setDomain(const QString& domain);
    QString domain() const { return m_domain; }

    // --- the directory --------------------------------------------------------------
    // Adds (or, for a known number, updates name/group/uri of) a monitored extension;
    // emits monitored() for a new one.
    Result<void> monitor(const Extension& extension);
    // Emits unmonitored(number, uri) when it was monitored.
    bool unmonitor(const QString& number);
    // Replaces the whole directory (settings dialog, CSV import): removed extensions are
    // unmonitored, new ones monitored, kept ones keep their state.
    Result<void> setDirectory(const std::vector<Extension>& extensions);
    const Directory& directory() const { return m_directory; }
    // The URI a source subscribes to for `number` (empty when not monitored).
    QString uriOf(const QString& number) const;

    // --- feeding state ----------------------------------------------------------------
    // A dialog-info body that arrived on the subscription of `subscribedNumber`. Matched
    // to an extension by normalised entity (user and host), falling back to
    // `subscribedNumber` (empty: no fallback, e.g. in a resource list).
    ApplyResult applyDialogInfo(QByteArrayView body, const QString& subscribedNumber,
                                QString* reason = nullptr);
    // The same for an already parsed document (the built-in server's tracker).
    ApplyResult applyDocument(const dialoginfo::Document& document,
                              const QString& subscribedNumber);
    // The subscription (or, in server mode, registration) state of an extension. A new
    // subscription resets the version rules (RFC 4235 §4.1: versions are per
    // subscription).
    void setSubscriptionStatus(const QString& number, const ua::SubscriptionStatus& status);

    // --- reading -----------------------------------------------------------------------
    const ExtensionState* state(const QString& number) const;
    const ExtensionState* stateAt(int index) const;  // in directory order
    int monitoredCount() const { return m_directory.size(); }
    int subscribedCount() const { return m_subscribedCount; }  // usable subscriptions; O(1)
    const base::Clock& clock() const { return m_clock; }

signals:
    // The directory changed shape (extension added or removed, name or group edited).
    void directoryChanged();
    // Coalesced: these extensions' lamp, dialogs or subscription changed since the last
    // batch. Emitted from the event loop, once per turn at most.
    void extensionsChanged(const QStringList& numbers);
    // For the sources: start/stop watching.
    void monitored(const QString& number, const QString& uri);
    void unmonitored(const QString& number, const QString& uri);

private:
    struct Entry;  // an ExtensionState and the console's bookkeeping for it

    Entry* entryFor(const QString& number);
    const Entry* entryFor(const QString& number) const;
    QString effectiveUri(const Extension& extension) const;
    QString matchEntity(const QString& entity, const QString& fallback) const;
    void indexEntity(const Entry& entry);
    void unindexEntity(const Entry& entry);
    // Derives the lamp again; true when lamp, other party, since or dialog ids changed.
    bool relight(Entry& entry);
    void markChanged(const QString& number);
    void flushChanges();

    const base::Clock& m_clock;
    QString m_domain;
    Directory m_directory;
    std::vector<std::unique_ptr<Entry>> m_states;  // parallel to the directory
    QHash<QString, QString> m_entityIndex;         // normalised entity → number
    QSet<QString> m_changed;
    QStringList m_changedOrder;
    bool m_flushQueued = false;
    int m_subscribedCount = 0;  // kept up to date: the status bar reads it on every batch
};

}  // namespace sb::board
