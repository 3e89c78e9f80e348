#pragma once

#include <QByteArray>
#include <QHash>
#include <QString>

#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "base/random.h"
#include "base/timer_queue.h"
#include "dialoginfo/dialog_info.h"
#include "sip/message.h"
#include "transport/transport.h"

namespace sb::server {

class DialogStateStore;
class LocalDomains;

struct PublicationOptions {
    // RFC 3903 §6 step 5: the interval when the request names none, the shortest one
    // accepted (423 with Min-Expires below it) and the longest one granted (longer
    // requests are cut down to it).
    quint32 defaultExpires = 3600;
    // Low on purpose: Kamailio's pua_dialoginfo publishes a call's end with Expires: 11
    // and never retries after a 423, so a higher minimum would lose every hang-up.
    quint32 minExpires = 5;
    quint32 maxExpires = 3600;
    // Bounds on what publishers can make the server hold: new publications beyond
    // maxPublications get 503 with Retry-After, beyond maxPerEntity for one user 403.
    std::size_t maxPublications = 10000;
    std::size_t maxPerEntity = 32;
    // Dialogs one publication may hold after a partial merge (terminated dialogs are
    // dropped oldest first to make room before a request is refused).
    std::size_t maxDialogsPerPublication = 200;
    dialoginfo::ParseLimits documentLimits = {.maxBytes = 64 * 1024, .maxDialogs = 200};
    // An authenticated publisher may publish only for its own AoR unless this is set.
    bool allowAnyEntity = false;
    // Whether a user of a local domain exists (404 otherwise). Unset: every user of a
    // local domain does — a Kamailio publishes for users only it knows.
    std::function<bool(const QString& user)> userExists;
    // Retry-After of the 503 when the server holds maxPublications.
    quint32 retryAfterSeconds = 60;
};

// The event state compositor of RFC 3903 for the dialog package: accepts PUBLISH
// Event: dialog (e.g. from a Kamailio with pua_dialoginfo whose outbound proxy is the
// built-in server) and keeps each publication's dialogs in the DialogStateStore under
// sourceKey "publish:<n>", where n stays the same for the life of the publication while
// its entity-tag changes on every PUBLISH.
//
// Terminated dialogs stay in a publication as published until it is replaced by a full
// document, expires or is removed, as Kamailio's presence module keeps them.
class PublicationStore {
public:
    PublicationStore(DialogStateStore& store, const LocalDomains& domains, base::TimerQueue& timers,
                     base::Random& random, PublicationOptions options = {});
    // Cancels the expiry timers and takes every publication's dialogs out of the store.
    ~PublicationStore();

    PublicationStore(const PublicationStore&) = delete;
    PublicationStore& operator=(const PublicationStore&) = delete;

    // Processes one PUBLISH (RFC 3903 §6) and returns the final response for the caller
    // to send; final responses carry a To tag. `publisherUser` is the authenticated user
    // that sent it; empty means a trusted source (loopback, a configured peer) that may
    // publish for any local user.
    sip::Message handle(const transport::IncomingMessage& incoming, const QString& publisherUser);

    std::size_t publicationCount() const { return m_byId.size(); }
    std::size_t publicationCount(const QString& user) const;
    // Ends every publication at once (shutdown): their dialogs leave the store.
    void clear();

private:
    struct Publication {
        quint64 id = 0;  // stable across entity-tag changes: the store's slot
        QString user;
        QByteArray etag;
        std::vector<dialoginfo::DialogInfo> dialogs;
        base::TimePoint expiresAt;
        base::TimerId timer = base::kNoTimer;
    };
    struct Reply {
        int status = 200;
        QByteArray reason;
    };

    sip::Message respond(const sip::Message& request, int status, QByteArray reason = {});
    QByteArray newEtag();
    QString sourceKey(const Publication& publication) const;
    // The publication `etag` names for `user`, or null (unknown, another user's, expired).
    Publication* find(const QByteArray& etag, const QString& user);
    void schedule(Publication& publication, quint32 seconds);
    void rekey(Publication& publication);
    void remove(quint64 id);
    void expire(quint64 id);
    // Builds the dialogs a document leaves in a publication (partial merges onto
    // `previous`, null for a new publication); a Reply with an error status when the
    // document cannot be accepted.
    Reply compose(const dialoginfo::Document& document, const QString& user,
                  const std::vector<dialoginfo::DialogInfo>* previous,
                  std::vector<dialoginfo::DialogInfo>& out) const;

    DialogStateStore& m_store;
    const LocalDomains& m_domains;
    base::TimerQueue& m_timers;
    base::Random& m_random;
    PublicationOptions m_options;

    std::map<quint64, std::unique_ptr<Publication>> m_byId;
    QHash<QByteArray, quint64> m_byEtag;
    QHash<QString, std::size_t> m_countByUser;
    quint64 m_nextId = 1;
};

}  // namespace sb::server
