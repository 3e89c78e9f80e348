#pragma once

#include <QByteArray>
#include <QString>

#include <functional>
#include <memory>
#include <unordered_map>

#include "base/random.h"
#include "base/timer_queue.h"
#include "dialoginfo/publish_profile.h"
#include "server/dialog_tracker.h"
#include "server/local_domains.h"
#include "transaction/transaction_layer.h"
#include "transport/transport.h"
#include "ua/publication_client.h"

namespace sb::server {

struct DialogPublisherOptions {
    transport::Endpoint server;  // the presence server every PUBLISH goes to
    dialoginfo::PublishProfile profile;
    // Seconds asked for a live dialog's publication (refreshed while it lives).
    quint32 expires = 3600;
    // Seconds a terminated dialog stays published, so that watchers see the end; it is
    // then left to run out rather than removed.
    quint32 endedExpires = 10;
    // pua_dialoginfo's callee_trying: the callee's side is published from the INVITE on,
    // not only from its first provisional response.
    bool calleeTrying = false;
    // Only sides that are users of this server (pua_dialoginfo's default: local URIs).
    bool localOnly = true;
    enum class DialogId { Uuid, Counter, CallId };
    DialogId dialogId = DialogId::Uuid;
    QByteArray userAgent;
    // Credentials for a presence server that challenges (digest).
    QByteArray authUser;
    QByteArray password;
};

// What happened to one publication, for headless mode and the GUI.
struct PublicationEvent {
    enum class Kind { Published, Failed, Removed };
    Kind kind = Kind::Published;
    QString entity;
    QString dialogId;
    // Published: the state the server now holds; Failed: the state being tried.
    dialoginfo::DialogState state = dialoginfo::DialogState::Trying;
    int statusCode = 0;
    QString reason;
};

// Kamailio's pua_dialoginfo for the built-in server (issue 6): every side of every call
// the tracker follows becomes its own publication (RFC 3903) at the presence server —
// one per (call, side), entity = that side's AoR — carrying an RFC 4235 document with
// one dialog (publishedDocument). A side is published from its first state on (the
// callee's from its first provisional response unless calleeTrying), republished on
// every change of what its document says, and published once more when it ends, with
// a short expiry, then forgotten. Every publication runs on a ua::PublicationClient, so
// a stale state never overtakes a newer one.
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

    void setEventListener(std::function<void(const PublicationEvent&)> listener) {
        m_eventListener = std::move(listener);
    }
    std::size_t publicationCount() const { return m_publications.size(); }

private:
    struct Publication;
    class Handler;
    using Key = std::pair<CallId, int>;  // (call, direction)
    struct KeyHash {
        std::size_t operator()(const Key& key) const noexcept {
            return std::hash<quint64>()(key.first * 4 + quint64(key.second));
        }
    };

    QString dialogIdFor(const DialogTracker::CallSide& side, Publication* existing);
    void report(const Publication& publication, PublicationEvent::Kind kind, int statusCode,
                QString reason);
    void forgetLater(Publication& publication, base::Duration after);
    void forget(const Key& key);

    transaction::TransactionLayer& m_transactions;
    base::TimerQueue& m_timers;
    base::Random& m_random;
    const LocalDomains& m_domains;
    DialogPublisherOptions m_options;
    std::unordered_map<Key, std::unique_ptr<Publication>, KeyHash> m_publications;
    quint64 m_nextCounter = 1;
    std::function<void(const PublicationEvent&)> m_eventListener;
};

}  // namespace sb::server
