#pragma once

#include <QDateTime>
#include <QHash>
#include <QString>
#include <QStringList>

#include <chrono>
#include <functional>
#include <optional>
#include <set>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "base/timer_queue.h"
#include "server/location_service.h"
#include "sip/uri.h"

namespace sb::server {

struct BindingStoreOptions {
    // Bounded memory (RFC 3261 §26.1.4 spirit): a user may hold at most this many contacts,
    // the whole store at most `maxBindings`. The registrar answers a REGISTER that would
    // go beyond with 403 / 503.
    std::size_t maxContactsPerUser = 10;
    std::size_t maxBindings = 100'000;
    // A binding restored by load() never lives longer than this from the moment of the
    // load (the registrar's maximum Expires): a wall clock stepped backwards or an edited
    // file cannot pin a binding for years.
    base::Duration maxLifetime = std::chrono::hours(24);
    // Wall-clock UTC time, for the absolute expiry times of the saved file; empty means
    // QDateTime::currentDateTimeUtc. Tests inject one to "restart later".
    std::function<QDateTime()> wallClock;
};

// Whether two bindings of one user are the same registered contact (RFC 3261 §10.3 step
// 7): by +sip.instance when both carry one (RFC 5626 §6), else by URI equivalence (RFC
// 3261 §19.1.4) of the Contact URIs.
bool sameContact(const Binding& a, const Binding& b);

// The registrar's memory (RFC 3261 §10.3): the bindings of every user, expired on the
// injected timer queue, and optionally kept in a file so that phones stay registered
// across a restart. Also the location service the proxy asks.
//
// Expiry runs on one timer armed for the earliest deadline, so a hundred thousand
// bindings cost one timer and each expiry only the work for what is due.
class BindingStore final : public LocationService {
public:
    // Called synchronously after every change of a user's bindings (register, refresh,
    // removal, expiry, load), with the user key. A listener may read the store but must
    // not change it from inside the call.
    using Listener = std::function<void(const QString& user)>;

    // `timers` must outlive the store (the destructor cancels its timers).
    explicit BindingStore(base::TimerQueue& timers, BindingStoreOptions options = {});
    // Writes a pending autosave.
    ~BindingStore() override;

    BindingStore(const BindingStore&) = delete;
    BindingStore& operator=(const BindingStore&) = delete;

    // LocationService: the live bindings of `user`, best q first, then most recently
    // refreshed first.
    std::vector<Binding> lookup(const QString& user) const override;
    // The live binding whose Contact URI is `uri` — same scheme, user (percent-decoded),
    // host (letter case and IPv6 spelling aside) and port as written; URI parameters are
    // not compared — the most recently refreshed one when several users registered it.
    // Indexed: what the proxy asks for every in-dialog request (a remote target that is
    // a registered contact is reached by its registration's flow).
    std::optional<Binding> lookupByContact(const sip::Uri& uri) const;

    // Adds `binding` for `binding.user`, or refreshes the binding it matches
    // (sameContact). Fails with ErrorKind::Limit (sipStatus 403 for the per-user limit,
    // 503 for the store limit) and changes nothing when a limit would be passed.
    Result<void> put(Binding binding);
    // Removes the binding of `like.user` that matches `like`; false when none did.
    bool remove(const Binding& like);
    // Removes every binding of `user`; returns how many there were.
    std::size_t removeUser(const QString& user);
    // One REGISTER's changes to `user` as one step (RFC 3261 §10.3 step 7: all binding
    // updates are committed, or none): first each of `removals` removes the binding it
    // matches, then each of `updates` is put. Limits are checked on the outcome; the
    // listener is called once.
    Result<void> update(const QString& user, const std::vector<Binding>& updates,
                        const std::vector<Binding>& removals = {});

    // Users with at least one live binding, sorted.
    QStringList registeredUsers() const;
    bool isRegistered(const QString& user) const;
    // Stored bindings, including any whose expiry is due but has not run yet.
    std::size_t bindingCount() const { return m_count; }

    int addListener(Listener listener);
    void removeListener(int handle);

    const BindingStoreOptions& options() const { return m_options; }
    // The monotonic clock that `Binding::expiresAt` is measured on.
    const base::Clock& clock() const { return m_timers; }
    // The injected wall clock, UTC.
    QDateTime wallClockNow() const;

    // Writes every live binding as JSON, atomically (QSaveFile): a crash mid-write leaves
    // the previous file. Expiry is stored as wall-clock UTC time; connection ids are not
    // stored (a restart has no connections).
    Result<void> save(const QString& path) const;
    // Replaces the contents with the live bindings of the file at `path`, each with the
    // lifetime it has left by the wall clock (already expired ones are dropped). A file
    // that is unreadable or malformed is an error and leaves the store unchanged.
    // Bindings beyond the limits are dropped (the most recent ones are kept).
    Result<void> load(const QString& path);

    // Saves to `path` after every change, at most once per second (a crash loses at
    // most the last second); an empty path turns it off. Pending changes are written by
    // flush() and on destruction.
    void setAutosavePath(QString path);
    const QString& autosavePath() const { return m_autosavePath; }
    // Writes a pending autosave now.
    Result<void> flush();

private:
    struct Entry {
        Binding binding;
        quint64 serial = 0;  // grows with each put: the higher, the more recently refreshed
    };
    using Entries = std::vector<Entry>;
    using Deadline = std::pair<base::TimePoint, quint64>;

    // Applies the changes to a copy of the user's entries; the caller commits it.
    Result<Entries> planned(const QString& user, const std::vector<Binding>& updates,
                            const std::vector<Binding>& removals);
    void commit(const QString& user, Entries entries);
    std::size_t countOf(const QString& user) const;
    void track(const Entry& entry);
    void untrack(const Entry& entry);
    void unindexContact(const Binding& binding, quint64 serial);
    void armExpiry();
    void expireDue();
    void changed(const QStringList& users);
    void scheduleAutosave();
    std::vector<Binding> sortedLive(const Entries& entries) const;

    base::TimerQueue& m_timers;
    BindingStoreOptions m_options;
    QHash<QString, Entries> m_byUser;
    std::size_t m_count = 0;
    quint64 m_nextSerial = 1;

    // Expiry: every binding's deadline, and which user a serial belongs to.
    std::set<Deadline> m_deadlines;
    std::unordered_map<quint64, QString> m_userOfSerial;
    // lookupByContact(): the serials of the bindings with one contact key, kept in step
    // with m_userOfSerial (track/untrack, expiry, load).
    QHash<QByteArray, std::vector<quint64>> m_byContact;
    base::TimerId m_expiryTimer = base::kNoTimer;
    base::TimePoint m_expiryDeadline{};

    std::vector<std::pair<int, Listener>> m_listeners;
    int m_nextHandle = 1;

    QString m_autosavePath;
    bool m_dirty = false;
    base::TimerId m_autosaveTimer = base::kNoTimer;
};

}  // namespace sb::server
