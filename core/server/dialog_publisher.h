#pragma once

#include <QByteArray>
#include <QHash>
#include <QString>
#include <QStringList>

#include <functional>
#include <memory>
#include <span>
#include <unordered_map>

#include "base/random.h"
#include "base/timer_queue.h"
#include "dialoginfo/publish_profile.h"
#include "server/dialog_tracker.h"
#include "server/local_domains.h"
#include "server/publish_rules.h"
#include "transaction/transaction_layer.h"
#include "transport/transport.h"
#include "ua/publication_client.h"

namespace sb::server {

struct DialogPublisherOptions {
    transport::Endpoint server;  // the presence server every PUBLISH goes to
    dialoginfo::PublishProfile profile;
    // Seconds asked for a live dialog's publication (refreshed while it lives): the
    // [publish] lifetime, or the call's own lifetime (pua_dialoginfo's override_lifetime).
    quint32 expires = 3600;
    // Seconds a terminated dialog stays published, so that watchers see the end; it is
    // then left to run out rather than removed.
    quint32 endedExpires = 10;
    // pua_dialoginfo's callee_trying: the callee's side is published from the INVITE on,
    // not only from its first provisional response.
    bool calleeTrying = false;
    // Which calls and sides are published, under which entity (planCall).
    PublishRules rules;
    // pua_dialoginfo's publish_dialog_req_within: an in-dialog request on the confirmed
    // dialog (re-INVITE, UPDATE, INFO, ...) publishes its side again, as a keep-alive.
    bool publishInDialog = false;
    enum class DialogId { Uuid, Counter, CallId };
    DialogId dialogId = DialogId::Uuid;
    QByteArray userAgent;
    // Credentials for a presence server that challenges (digest).
    QByteArray authUser;
    QByteArray password;
};

// What the directory says about one extension for publishing ([monitor] identity and
// publish_to; pua_dialoginfo's local_identity_dlg_var and pubruri AVPs).
struct PublishDirectoryEntry {
    QString identity;       // the URI it is shown as, in its own documents and its peers'
    QStringList publishTo;  // the entities its state goes to; empty: its own AoR

    bool operator==(const PublishDirectoryEntry&) const = default;
};

// What happened to one publication, for headless mode and the GUI.
struct PublicationEvent {
    enum class Kind { Published, Failed, Removed };
    Kind kind = Kind::Published;
    QString entity;
    QString dialogId;
    // Published: the state the server now holds; Failed: the state being tried;
    // Removed: the state it held (an end that ran out there has reason "expired").
    dialoginfo::DialogState state = dialoginfo::DialogState::Trying;
    int statusCode = 0;
    QString reason;
};

// Kamailio's pua_dialoginfo for the built-in server (issue 6): every side of every call
// the tracker follows that the rules select (planCall) becomes a publication (RFC 3903)
// at the presence server — one per (call, side, entity): the side's entity, or each URI
// of its user's publish_to — carrying an RFC 4235 document with one dialog
// (publishedDocument). A side is published from its first state on (the callee's from
// its first provisional response unless calleeTrying), republished on every change of
// what its document says, and published once more when it ends, with a short expiry,
// then forgotten. Every publication runs on a ua::PublicationClient, so a stale state
// never overtakes a newer one.
class DialogPublisher {
public:
    DialogPublisher(transaction::TransactionLayer& transactions, base::TimerQueue& timers,
                    base::Random& random, const LocalDomains& domains,
                    DialogPublisherOptions options);
    ~DialogPublisher();
    DialogPublisher(const DialogPublisher&) = delete;
    DialogPublisher& operator=(const DialogPublisher&) = delete;

    // Feed from DialogTracker::setSideListener.
    void onSide(const DialogTracker::CallSide& side);

    // The directory's publishing settings for `user` (an empty entry: none). Applies to
    // calls in progress too: an entity that leaves publish_to gets its dialog published
    // terminated, one that joins gets the current state, a new identity is republished.
    void setDirectoryEntry(const QString& user, PublishDirectoryEntry entry);
    // The whole directory at once: users missing from `entries` lose theirs.
    void setDirectory(const QHash<QString, PublishDirectoryEntry>& entries);

    // Publishing state across a restart (replacing pua_dialoginfo's pubruri_*_dlg_var):
    // what every publication whose live state (not its end) the server holds needs to be
    // taken up again — its call and what the rules decided for it, entity, dialog id,
    // SIP-ETag, when it runs out, its last document — as JSON, for an atomic file write.
    // Ends the server accepted are left out: they run out there whether or not we
    // restart. `wallNow` (UTC, ms since the epoch) dates the expiries.
    QByteArray saveState(qint64 wallNow) const;
    // After a restart, before the tracker restores its calls: every saved publication
    // still held by the server is taken up under its ETag and dialog id, for the call
    // DialogTracker::restoredCallId() names. A call the tracker then reports again goes
    // on publishing under them (no new dialog id, no new publication at the server);
    // settleRestored() ends the rest. Returns how many were taken up; a damaged state
    // restores none.
    int restoreState(QByteArrayView saved, qint64 wallNow);
    // After the tracker restored its calls: the publications restoreState() took up
    // whose call did not come back (it ended while Switchboard was down, or the tracker
    // kept no record of it) are published terminated, so that no watcher keeps a stuck
    // lamp, then let run out. Returns how many.
    int settleRestored();
    // Called after every change of what saveState() would write (debounce it); not for
    // an end forgotten after it ran out, which saveState() no longer writes.
    void setStateChangedListener(std::function<void()> listener) {
        m_stateChanged = std::move(listener);
    }

    void setEventListener(std::function<void(const PublicationEvent&)> listener) {
        m_eventListener = std::move(listener);
    }
    std::size_t publicationCount() const { return m_publications.size(); }

    // Calls before presence: how long states may wait now (base::LoadPacer::hold, zero
    // while the server's thread has time to spare; unset: never). While it is not zero
    // a side's first state waits that long, and a side that ends meanwhile is never
    // published (nobody saw it, so it has no end to show); a publication's later
    // states go out at most once per hold, the newest one. So short calls cost the
    // busy thread nothing to publish, and every call that lasts shows its newest state.
    void setHold(std::function<base::Duration()> hold) { m_hold = std::move(hold); }
    // Publications (one per side and entity) never sent because their side ended before
    // their first PUBLISH left (while it waited for the hold, or for its turn).
    quint64 heldAwayCount() const { return m_heldAway; }

private:
    class Body;
    struct Publication;
    struct Call;
    class Handler;
    struct Key {
        CallId call = 0;
        int side = 0;  // 0: the caller's side, 1: the callee's (as in CallPublishPlan)
        QString entity;
        bool operator==(const Key&) const = default;
    };
    struct KeyHash {
        std::size_t operator()(const Key& key) const noexcept {
            return std::hash<quint64>()(key.call * 4 + quint64(key.side)) ^ qHash(key.entity);
        }
    };

    // Brings the publications of one side of `call` in line with what it shows now and
    // where it goes; `force` republishes an unchanged document (publishInDialog).
    void apply(Call& call, int side, bool force);
    // The entities one side goes to: its user's publish_to, else the rules' entity;
    // none when the side is not published.
    std::span<const QString> entitiesOf(const Call& call, int side) const;
    dialoginfo::DialogInfo shapedSide(const Call& call, int side) const;
    Publication* create(const Key& key, const dialoginfo::DialogInfo& dialog);
    // `paced`: subject to the hold (a state whose hold ran out is not).
    void send(Publication& publication, const dialoginfo::DialogInfo& dialog, bool force,
              bool paced = true);
    base::Duration currentHold() const;
    // Whether the first state of `side` waits (setHold); arms the call's hold timer.
    bool holdFirst(Call& call, int side);
    // The hold of `call`'s first states ran out: what they show now is published.
    void releaseHeld(CallId id);
    // Whether `dialog` waits for the hold since the publication's last state.
    bool defer(Publication& publication, const dialoginfo::DialogInfo& dialog, bool force);
    void eraseCall(std::unordered_map<CallId, std::unique_ptr<Call>>::iterator call);
    void end(Publication& publication);
    // Whether the publication's end waits for the hold: it is final, as a sent one.
    static bool endIsWaiting(const Publication& publication);
    void report(const Publication& publication, PublicationEvent::Kind kind, int statusCode,
                QString reason);
    void forgetLater(Publication& publication, base::Duration after);
    // Whether the server holds a state of `publication` other than its end: what
    // saveState() writes (and a restart publishes terminated).
    static bool holdsLiveState(const Publication& publication);
    void forget(const Key& key);

    transaction::TransactionLayer& m_transactions;
    base::TimerQueue& m_timers;
    base::Random& m_random;
    const LocalDomains& m_domains;
    DialogPublisherOptions m_options;
    dialoginfo::WriteOptions m_writeOptions;  // writeOptionsFor(m_options.profile)
    std::unordered_map<Key, std::unique_ptr<Publication>, KeyHash> m_publications;
    std::unordered_map<CallId, std::unique_ptr<Call>> m_calls;  // calls with a live side
    QHash<QString, PublishDirectoryEntry> m_directory;
    quint64 m_nextCounter = 1;
    std::function<void(const PublicationEvent&)> m_eventListener;
    std::function<void()> m_stateChanged;
    quint64 m_nextRestoredCall = 1;  // restored publications get call ids of their own
    std::function<base::Duration()> m_hold;
    quint64 m_heldAway = 0;
};

}  // namespace sb::server
