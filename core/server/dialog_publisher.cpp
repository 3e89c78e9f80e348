#include "server/dialog_publisher.h"

#include <deque>

#include "base/log.h"
#include "dialoginfo/dialog_info_writer.h"
#include "server/dialog_state_store.h"

namespace sb::server {

using dialoginfo::DialogInfo;
using dialoginfo::DialogState;
using dialoginfo::Direction;

namespace {
// How long an end may take to reach the server before the publication is dropped
// anyway: Timer F (64*T1) of its PUBLISH.
constexpr base::Duration kEndDelivery = std::chrono::seconds(32);
}  // namespace

struct DialogPublisher::Publication {
    Key key;
    QString entity;
    QString dialogId;
    std::optional<DialogInfo> published;  // the shaped dialog last handed to the client
    // States handed to the client and not yet known to be accepted, by the number of
    // the publish() call (the client coalesces: an answer may skip some).
    std::deque<std::pair<quint64, DialogState>> handed;
    DialogState accepted = DialogState::Trying;  // the state the server holds
    quint64 nextVersion = 0;
    bool ended = false;
    base::TimerId forgetTimer = base::kNoTimer;
    std::unique_ptr<Handler> handler;
    std::unique_ptr<ua::PublicationClient> client;
};

// Routes one client's reports to the publisher with the publication they are about.
class DialogPublisher::Handler final : public ua::PublicationHandler {
public:
    Handler(DialogPublisher& owner, Key key) : m_owner(owner), m_key(key) {}

    void onPublished(const QByteArray&, quint32 expires) override {
        Publication* publication = find();
        if (!publication) return;
        const quint64 accepted = publication->client->acceptedVersion();
        while (!publication->handed.empty() && publication->handed.front().first <= accepted) {
            if (publication->handed.front().first == accepted)
                publication->accepted = publication->handed.front().second;
            publication->handed.pop_front();
        }
        m_owner.report(*publication, PublicationEvent::Kind::Published, 200, {});
        // The end is at the server; it lets it run out, and so do we (never from inside
        // this callback: the client that calls it would be destroyed).
        if (publication->ended) m_owner.forgetLater(*publication, std::chrono::seconds(expires));
    }
    void onPublishFailed(int statusCode, const QString& reason, base::Duration) override {
        if (Publication* publication = find())
            m_owner.report(*publication, PublicationEvent::Kind::Failed, statusCode, reason);
    }
    void onRemoved() override {
        if (Publication* publication = find())
            m_owner.report(*publication, PublicationEvent::Kind::Removed, 0, {});
    }

private:
    Publication* find() const {
        auto found = m_owner.m_publications.find(m_key);
        return found == m_owner.m_publications.end() ? nullptr : found->second.get();
    }

    DialogPublisher& m_owner;
    Key m_key;
};

DialogPublisher::DialogPublisher(transaction::TransactionLayer& transactions,
                                 base::TimerQueue& timers, base::Random& random,
                                 const LocalDomains& domains, DialogPublisherOptions options)
    : m_transactions(transactions),
      m_timers(timers),
      m_random(random),
      m_domains(domains),
      m_options(std::move(options)) {}

DialogPublisher::~DialogPublisher() {
    for (auto& [key, publication] : m_publications)
        m_timers.cancel(publication->forgetTimer);
}

QString DialogPublisher::dialogIdFor(const DialogTracker::CallSide& side, Publication* existing) {
    if (existing) return existing->dialogId;
    switch (m_options.dialogId) {
        case DialogPublisherOptions::DialogId::Counter:
            return QString::number(m_nextCounter++);
        case DialogPublisherOptions::DialogId::CallId:
            // pua_dialoginfo's way; both sides of a call then share the id, which is
            // fine: they are published for different entities.
            if (!side.dialog.callId.isEmpty()) return side.dialog.callId;
            break;
        case DialogPublisherOptions::DialogId::Uuid:
            break;
    }
    return side.dialog.id;  // unique per call and side, stable for the call's life
}

void DialogPublisher::onSide(const DialogTracker::CallSide& side) {
    if (side.user.isEmpty() && m_options.localOnly) return;
    const Key key{side.call, int(side.dialog.direction)};
    auto found = m_publications.find(key);
    Publication* publication = found == m_publications.end() ? nullptr : found->second.get();
    const bool ended = side.dialog.state == DialogState::Terminated;
    if (!publication) {
        if (ended) return;  // never shown: there is no end to show
        if (side.dialog.direction == Direction::Recipient && !m_options.calleeTrying &&
            side.dialog.state == DialogState::Trying)
            return;
        const QString entity =
            side.user.isEmpty() ? side.dialog.local.identity : m_domains.aorUri(side.user);
        if (entity.isEmpty()) return;
        auto created = std::make_unique<Publication>();
        created->key = key;
        created->entity = entity;
        created->dialogId = dialogIdFor(side, nullptr);
        created->handler = std::make_unique<Handler>(*this, key);
        ua::PublicationOptions options;
        options.entityUri = entity.toUtf8();
        options.server = m_options.server;
        options.expires = m_options.expires;
        options.userAgent = m_options.userAgent;
        options.authUser = m_options.authUser;
        options.password = m_options.password;
        created->client = std::make_unique<ua::PublicationClient>(
            m_transactions, m_timers, m_random, std::move(options), *created->handler);
        if (auto started = created->client->start(); !started) {
            qCInfo(lcServer) << "not publishing for" << entity << ":" << started.error().reason;
            return;
        }
        publication = created.get();
        m_publications.emplace(key, std::move(created));
    }
    if (publication->ended) return;  // its end is published already

    DialogInfo dialog = side.dialog;
    dialog.id = publication->dialogId;
    dialoginfo::Document document = dialoginfo::publishedDocument(
        dialog, publication->entity, publication->nextVersion, m_options.profile);
    const DialogInfo& shaped = document.dialogs.front();
    // Only what the document says counts: a change the profile hides is no PUBLISH.
    if (publication->published && sameDialog(*publication->published, shaped)) return;
    publication->published = shaped;
    ++publication->nextVersion;
    publication->handed.emplace_back(publication->nextVersion, shaped.state);
    publication->ended = ended;
    const QByteArray body =
        dialoginfo::writeDocument(document, dialoginfo::writeOptionsFor(m_options.profile));
    if (ended) {
        publication->client->publish(body, m_options.endedExpires, false);
        // Forgotten when its expiry has run out at the server (onPublished sets that
        // time); this bound holds when the end cannot be delivered at all.
        forgetLater(*publication, std::chrono::seconds(m_options.endedExpires) + kEndDelivery);
    } else {
        publication->client->publish(body, m_options.expires, true);
    }
}

void DialogPublisher::report(const Publication& publication, PublicationEvent::Kind kind,
                             int statusCode, QString reason) {
    if (!m_eventListener) return;
    PublicationEvent event;
    event.kind = kind;
    event.entity = publication.entity;
    event.dialogId = publication.dialogId;
    // Published: what the server accepted; otherwise the state that is being tried.
    if (kind == PublicationEvent::Kind::Published) {
        event.state = publication.accepted;
    } else if (publication.published) {
        event.state = publication.published->state;
    }
    event.statusCode = statusCode;
    event.reason = std::move(reason);
    m_eventListener(event);
}

void DialogPublisher::forgetLater(Publication& publication, base::Duration after) {
    m_timers.cancel(publication.forgetTimer);
    publication.forgetTimer = m_timers.start(after, [this, key = publication.key] { forget(key); });
}

void DialogPublisher::forget(const Key& key) {
    auto found = m_publications.find(key);
    if (found == m_publications.end()) return;
    m_timers.cancel(found->second->forgetTimer);
    m_publications.erase(found);
}

}  // namespace sb::server
