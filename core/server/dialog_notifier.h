#pragma once

#include <QByteArray>
#include <QHash>
#include <QString>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "base/random.h"
#include "base/timer_queue.h"
#include "dialog/dialog.h"
#include "dialog/dialog_id.h"
#include "dialoginfo/dialog_info.h"
#include "dialoginfo/dialog_info_writer.h"
#include "server/dialog_state_store.h"
#include "server/local_domains.h"
#include "transaction/transaction_layer.h"
#include "transport/transport.h"

namespace sb::server {

// Workarounds for phones that mishandle standard documents, as Kamailio's
// presence_dialoginfo offers them (force_single_dialog, force_dummy_dialog).
struct WatcherCompat {
    // Only the most interesting dialog in each document (early > confirmed > proceeding >
    // trying > terminated; among equals the newest): some phones crash on several.
    bool singleDialog = false;
    // When the user has no dialog, one <dialog id="..."><state>terminated</state></dialog>
    // with an id that stays the same: some phones need at least one <dialog> element.
    bool dummyDialogWhenIdle = false;
};

// Chooses a WatcherCompat for a new subscription. A rule applies when every criterion it
// sets holds (a rule that sets none never applies); the first that applies wins.
struct WatcherCompatRule {
    QString watcherUser;           // equal to the subscribing user
    QByteArray userAgentContains;  // found in the SUBSCRIBE's User-Agent, any letter case
    WatcherCompat compat;
};

struct NotifierOptions {
    // Whether a local user exists (provisioned). Unset: every local user does.
    std::function<bool(const QString& user)> userExists;

    // RFC 6665 §4.2.1.1 / §4.4.2 (RFC 4235 §3.4 suggests 3600 s): the duration when the
    // SUBSCRIBE names none, the shortest accepted (shorter → 423 with Min-Expires) and
    // the longest granted (longer is cut down in the 200).
    quint32 defaultExpires = 3600;
    quint32 minExpires = 60;
    quint32 maxExpires = 3600;

    // Bounds (bad input never wins): subscriptions in all, and per subscribing user
    // (by source address for requests trusted without authentication). Beyond them a
    // new SUBSCRIBE gets 503 with Retry-After.
    std::size_t maxWatchers = 10000;
    std::size_t maxWatchersPerSubscriber = 1000;
    std::chrono::seconds retryAfter{30};

    std::vector<WatcherCompatRule> compatRules;
    WatcherCompat defaultCompat;

    // How NOTIFY bodies are written (RFC 4235 schema order by default).
    dialoginfo::WriteOptions document;

    // Where NOTIFYs go when the subscriber reached us directly (no Record-Route): true
    // sends them to the address and transport the last SUBSCRIBE came from (what
    // Kamailio does with the received info of a phone behind NAT); false to the Contact
    // when it names an IP address. Over TCP/TLS they always go back on the subscriber's
    // flow, and through a proxy (Record-Route) to the first route when it is an address.
    bool notifyToSourceAddress = true;
};

// The notifier side of RFC 6665 for Event: dialog (RFC 4235), as Kamailio's presence
// with presence_dialoginfo does it: phones' BLF keys and other consoles subscribe to a
// local user and receive that user's dialogs from the DialogStateStore, all of them
// aggregated in one document (RFC 4235 §4.1), on every change.
//
// Each subscription (a "watcher") is keyed by its dialog. It is answered 200 and sent a
// NOTIFY with the full state at once (RFC 6665 §4.2.1.1); every later store change sends
// another, with a `version` counting up per subscription from 0. One NOTIFY is in flight
// per subscription (RFC 6665 §4.2.2): changes meanwhile are coalesced into one NOTIFY
// with the newest state once the previous one is answered. A NOTIFY refused (481, any
// other 3xx-6xx but 401/407/491), timed out or undeliverable ends the subscription
// (RFC 6665 §4.2.2); a 491 is retried after a short random wait (RFC 3261 §14.1).
//
// Every callback comes from the event loop; nothing is deleted inside a callback of its
// own. The owner routes SUBSCRIBEs here (onSubscribe); the TransactionLayer, the timer
// queue, the store and the domains outlive the notifier.
class DialogNotifier final : public transaction::ClientTransactionUser {
public:
    DialogNotifier(transaction::TransactionLayer& transactions, base::TimerQueue& timers,
                   base::Random& random, DialogStateStore& store, const LocalDomains& domains,
                   NotifierOptions options = {});
    ~DialogNotifier() override;
    DialogNotifier(const DialogNotifier&) = delete;
    DialogNotifier& operator=(const DialogNotifier&) = delete;

    // A SUBSCRIBE for this notifier: an initial one (no To tag) whose Request-URI is a
    // local user, or one within a dialog it owns (refresh or un-SUBSCRIBE). Always
    // answered, through transaction `id`. `watcherUser` is the subscriber as
    // authentication established it (empty when the request was trusted without it);
    // it selects compat rules and bounds subscriptions per subscriber.
    void onSubscribe(transaction::TransactionId id, const transport::IncomingMessage& request,
                     const QString& watcherUser);

    // Whether `request` is within a subscription dialog of this notifier (Call-ID, To
    // tag and From tag match): where the dispatcher sends in-dialog SUBSCRIBEs.
    bool ownsDialog(const sip::Message& request) const;

    // Ends every subscription with a NOTIFY `Subscription-State: terminated;
    // reason=deactivated` carrying the current state, and refuses new SUBSCRIBEs (503).
    // RFC 6665 §4.1.3: "deactivated" asks the subscriber to subscribe again right away,
    // and the user's state does not go away with the server; "noresource" would tell
    // phones never to subscribe again, leaving their BLF keys dark after a restart.
    // A subscription whose NOTIFY is in flight gets its terminated NOTIFY once that one is
    // answered (RFC 6665 §4.2.2); watcherCount() drops to 0 when every final NOTIFY is
    // answered or has failed.
    void shutdown();

    // Subscriptions alive, including those whose final NOTIFY is still under way.
    std::size_t watcherCount() const { return m_watchers.size(); }
    // Subscriptions to one local user.
    std::size_t watcherCount(const QString& user) const;

    // transaction::ClientTransactionUser (NOTIFY transactions)
    void onFinal(transaction::TransactionId id, const sip::Message& response) override;
    void onTimeout(transaction::TransactionId id) override;
    void onTransportError(transaction::TransactionId id, const Error& error) override;

private:
    struct Watcher;
    using WatcherMap =
        std::unordered_map<dialog::DialogId, std::unique_ptr<Watcher>, dialog::DialogIdHash>;

    void subscribeInitial(transaction::TransactionId id, const transport::IncomingMessage& request,
                          const QString& watcherUser);
    void subscribeRefresh(transaction::TransactionId id, const transport::IncomingMessage& request,
                          Watcher& watcher);
    void reject(transaction::TransactionId id, const sip::Message& request, int status,
                QByteArray reason, std::vector<std::pair<sip::HeaderId, QByteArray>> headers = {});
    // The Expires the 200 grants, or a rejection already sent (nullopt).
    std::optional<quint32> grantedExpires(transaction::TransactionId id,
                                          const sip::Message& request);
    QByteArray contactFor(const transport::IncomingMessage& request) const;
    transport::Endpoint destinationFor(const Watcher& watcher) const;
    WatcherCompat compatFor(const QString& watcherUser, const sip::Message& request) const;
    QString subscriberKey(const QString& watcherUser,
                          const transport::IncomingMessage& request) const;

    void onStoreChanged(const QString& user);
    // Sends the next NOTIFY of `watcher` (now, or when the one in flight is answered).
    void notify(Watcher& watcher);
    void sendNotify(Watcher& watcher);
    // Ends the subscription with a terminated NOTIFY (reason per RFC 6665 §4.1.3).
    void terminate(Watcher& watcher, QByteArray reason);
    void startExpiry(Watcher& watcher, quint32 seconds);
    dialoginfo::Document documentFor(const Watcher& watcher) const;
    void remove(dialog::DialogId key);
    Watcher* watcherForTransaction(transaction::TransactionId id);
    void onNotifyFailed(transaction::TransactionId id, const QString& why);

    transaction::TransactionLayer& m_transactions;
    base::TimerQueue& m_timers;
    base::Random& m_random;
    DialogStateStore& m_store;
    const LocalDomains& m_domains;
    NotifierOptions m_options;
    int m_listener = 0;
    bool m_shutDown = false;

    WatcherMap m_watchers;
    QHash<QString, std::vector<dialog::DialogId>> m_byUser;  // watched user → watchers
    QHash<QString, std::size_t> m_bySubscriber;              // subscriber → count
    std::unordered_map<transaction::TransactionId, dialog::DialogId> m_inFlight;
};

}  // namespace sb::server
