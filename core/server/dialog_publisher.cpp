#include "server/dialog_publisher.h"

#include <QJsonArray>
#include <QJsonObject>

#include <QVarLengthArray>

#include <algorithm>
#include <array>
#include <memory>
#include <utility>

#include "base/log.h"
#include "dialoginfo/dialog_info_writer.h"
#include "server/dialog_state_store.h"
#include "ua/saved_publications.h"

namespace sb::server {

using dialoginfo::DialogInfo;
using dialoginfo::DialogState;
using dialoginfo::Direction;

namespace {
// How long an end may take to reach the server before the publication is dropped
// anyway: Timer F (64*T1) of its PUBLISH.
constexpr base::Duration kEndDelivery = std::chrono::seconds(32);

// Publications taken up after a restart whose call cannot come back (a file of an
// earlier version names none): their call ids have this bit, which the tracker's never
// do (the proxy counts from 1; restored calls have bit 62).
constexpr CallId kUnclaimedCallBit = CallId(1) << 63;

// Sides are indexed as in CallPublishPlan: the caller 0, the callee 1.
constexpr int kCallee = 1;
int sideIndex(Direction direction) {
    return direction == Direction::Initiator ? 0 : kCallee;
}
}  // namespace

// A document handed to a publication's client, written when a PUBLISH first carries it
// (or a save of the state needs it): a state the client coalesces away is never written.
class DialogPublisher::Body {
public:
    Body(dialoginfo::Document document, const dialoginfo::WriteOptions& options)
        : m_document(std::move(document)), m_options(options) {}

    const QByteArray& bytes() const {
        if (!m_written) {
            m_bytes = dialoginfo::writeDocument(m_document, m_options);
            m_written = true;
        }
        return m_bytes;
    }

private:
    dialoginfo::Document m_document;
    dialoginfo::WriteOptions m_options;
    mutable QByteArray m_bytes;
    mutable bool m_written = false;
};

struct DialogPublisher::Publication {
    // One state handed to the client: the number of its publish() call, and what it says.
    struct Handed {
        quint64 version = 0;
        DialogState state = DialogState::Trying;
        std::shared_ptr<const Body> body;
    };

    Key key;
    QString dialogId;
    std::optional<DialogInfo> published;  // the shaped dialog last handed to the client
    // States handed to the client and not yet known to be accepted (the client
    // coalesces: an answer may skip some). Rarely more than two: kept inline.
    QVarLengthArray<Handed, 2> handed;
    DialogState accepted = DialogState::Trying;  // the state the server holds
    quint64 nextVersion = 0;   // of the next document (goes on from the saved one)
    quint64 publishCalls = 0;  // the client's publish() calls so far (Handed::version)
    bool ended = false;
    std::shared_ptr<const Body> acceptedBody;  // the document the server holds (for a restart)
    base::TimePoint expiresAt{};               // when the server lets what it holds run out
    base::TimerId forgetTimer = base::kNoTimer;
    base::TimePoint lastHanded{};  // when the client was last given a state
    // The newest state waiting for the hold (setHold) since the last one, and its timer.
    std::optional<DialogInfo> deferred;
    bool deferredForce = false;
    base::TimerId deferTimer = base::kNoTimer;
    std::unique_ptr<Handler> handler;
    std::unique_ptr<ua::PublicationClient> client;
};

// A call with a side still live: what the rules decided at its start and the last view
// of each side, so that a directory change can republish it.
struct DialogPublisher::Call {
    CallId id = 0;
    CallPublishPlan plan;
    std::array<QString, 2> user;
    std::array<std::optional<DialogInfo>, 2> last;
    std::array<QString, 2> dialogId;  // per side, the same for every entity it goes to
    // Per side, the entities it has been published to (so that a change of publish_to
    // finds them without a walk over every publication).
    std::array<QStringList, 2> publishedTo;
    // Counts changes of the plan and the users, which shape both sides' documents; per
    // side, the count when it was last applied.
    quint64 epoch = 0;
    std::array<quint64, 2> appliedAt{~quint64(0), ~quint64(0)};
    // Taken up by restoreState() and not reported by the tracker yet (settleRestored()).
    bool awaitingTracker = false;
    // Per side, whether its first state waits for the hold (holdFirst), and whether that
    // is past (a publication was made, or the hold ran out): later states never wait so.
    std::array<bool, 2> holding{false, false};
    std::array<bool, 2> firstPast{false, false};
    base::TimerId holdTimer = base::kNoTimer;
};

// Routes one client's reports to the publisher with the publication they are about.
class DialogPublisher::Handler final : public ua::PublicationHandler {
public:
    Handler(DialogPublisher& owner, Key key) : m_owner(owner), m_key(key) {}

    void onPublished(const QByteArray&, quint32 expires) override {
        Publication* publication = find();
        if (!publication) return;
        const quint64 accepted = publication->client->acceptedVersion();
        qsizetype done = 0;
        for (Publication::Handed& handed : publication->handed) {
            if (handed.version > accepted) break;
            if (handed.version == accepted) {
                publication->accepted = handed.state;
                publication->acceptedBody = std::move(handed.body);
            }
            ++done;
        }
        publication->handed.remove(0, done);
        publication->expiresAt = m_owner.m_timers.now() + std::chrono::seconds(expires);
        if (m_owner.m_stateChanged) m_owner.m_stateChanged();
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
      m_options(std::move(options)),
      m_writeOptions(dialoginfo::writeOptionsFor(m_options.profile)) {}

DialogPublisher::~DialogPublisher() {
    for (auto& [key, publication] : m_publications) {
        m_timers.cancel(publication->forgetTimer);
        m_timers.cancel(publication->deferTimer);
    }
    for (auto& [id, call] : m_calls)
        m_timers.cancel(call->holdTimer);
}

void DialogPublisher::onSide(const DialogTracker::CallSide& side) {
    const int index = sideIndex(side.dialog.direction);
    auto found = m_calls.find(side.call);
    if (found == m_calls.end()) {
        // Only a call's start brings its INVITE, which the rules read: a call first seen
        // later (none is) or already done with stays unpublished.
        if (!side.invite || side.dialog.state == DialogState::Terminated) return;
        auto call = std::make_unique<Call>();
        call->id = side.call;
        const QString& callerUser = index == 0 ? side.user : QString();
        const QString& calleeUser = index == 1 ? side.user : QString();
        // Both reports of the start carry the INVITE; the users come one per report.
        call->plan = planCall(m_options.rules, m_domains, *side.invite, callerUser, calleeUser);
        found = m_calls.emplace(side.call, std::move(call)).first;
    }
    Call& call = *found->second;
    call.awaitingTracker = false;
    if (side.invite && call.user[std::size_t(index)].isEmpty() && !side.user.isEmpty()) {
        // The callee's user arrives with the second report of the start: plan again.
        call.user[std::size_t(index)] = side.user;
        call.plan = planCall(m_options.rules, m_domains, *side.invite, call.user[0], call.user[1]);
        ++call.epoch;
    }
    if (call.user[std::size_t(index)] != side.user) {
        call.user[std::size_t(index)] = side.user;
        ++call.epoch;
    }
    const bool force = side.inDialogRequest && m_options.publishInDialog;
    std::optional<DialogInfo>& last = call.last[std::size_t(index)];
    // Most reports repeat what the side showed (the tracker reports both sides of every
    // change): with the same plan and users as when it was last applied, such a report
    // would publish nothing. (Directory changes apply at once, in setDirectoryEntry.)
    const bool unchanged =
        !force && last && call.appliedAt[std::size_t(index)] == call.epoch && *last == side.dialog;
    if (!unchanged) {
        last = side.dialog;
        apply(call, index, force);
    }
    const bool done =
        std::all_of(call.last.begin(), call.last.end(), [](const std::optional<DialogInfo>& d) {
            return d && d->state == DialogState::Terminated;
        });
    // A call the rules publish nothing of is let go after its start.
    const bool nothing =
        index == kCallee && call.plan.entity[0].isEmpty() && call.plan.entity[1].isEmpty();
    if (done || nothing) eraseCall(found);
}

void DialogPublisher::eraseCall(std::unordered_map<CallId, std::unique_ptr<Call>>::iterator call) {
    m_timers.cancel(call->second->holdTimer);
    // A side still waiting for its first PUBLISH ended before anyone saw it.
    for (int side = 0; side < 2; ++side)
        if (call->second->holding[std::size_t(side)])
            m_heldAway += entitiesOf(*call->second, side).size();
    m_calls.erase(call);
}

base::Duration DialogPublisher::currentHold() const {
    return m_hold ? std::max(m_hold(), base::Duration(0)) : base::Duration(0);
}

bool DialogPublisher::holdFirst(Call& call, int side) {
    const auto index = std::size_t(side);
    if (call.firstPast[index]) return false;
    if (call.holding[index]) return true;
    const base::Duration hold = currentHold();
    if (hold.count() == 0) return false;
    call.holding[index] = true;
    if (call.holdTimer == base::kNoTimer) {
        const CallId id = call.id;
        call.holdTimer = m_timers.start(hold, [this, id] { releaseHeld(id); });
    }
    return true;
}

void DialogPublisher::releaseHeld(CallId id) {
    const auto found = m_calls.find(id);
    if (found == m_calls.end()) return;
    Call& call = *found->second;
    call.holdTimer = base::kNoTimer;
    for (int side = 0; side < 2; ++side) {
        const auto index = std::size_t(side);
        if (!call.holding[index]) continue;
        call.holding[index] = false;
        call.firstPast[index] = true;
        // Its newest state, if it is not the end of a side nobody saw (apply skips that).
        if (call.last[index]->state == DialogState::Terminated)
            m_heldAway += entitiesOf(call, side).size();
        apply(call, side, false);
    }
}

bool DialogPublisher::defer(Publication& publication, const DialogInfo& dialog, bool force) {
    if (publication.deferTimer == base::kNoTimer) {
        const base::Duration hold = currentHold();
        if (hold.count() == 0 || publication.publishCalls == 0) return false;
        const base::Duration wait = publication.lastHanded + hold - m_timers.now();
        if (wait.count() <= 0) return false;
        // The publication itself, as in forgetLater(): forget() cancels this timer.
        Publication* const target = &publication;
        publication.deferTimer = m_timers.start(wait, [this, target] {
            target->deferTimer = base::kNoTimer;
            const DialogInfo newest = std::move(*target->deferred);
            target->deferred.reset();
            send(*target, newest, std::exchange(target->deferredForce, false), false);
        });
        publication.deferredForce = false;
    }
    publication.deferred = dialog;  // only the newest waits
    publication.deferredForce = publication.deferredForce || force;
    return true;
}

void DialogPublisher::setDirectoryEntry(const QString& user, PublishDirectoryEntry entry) {
    const auto old = m_directory.constFind(user);
    if (old == m_directory.constEnd() ? entry == PublishDirectoryEntry{} : *old == entry) return;
    if (entry == PublishDirectoryEntry{}) {
        m_directory.remove(user);
    } else {
        m_directory.insert(user, std::move(entry));
    }
    // The user's identity shows on both sides of its calls; its publish_to on its own.
    for (auto& [id, call] : m_calls) {
        if (call->user[0] != user && call->user[1] != user) continue;
        for (int side = 0; side < 2; ++side)
            if (call->last[std::size_t(side)]) apply(*call, side, false);
    }
}

void DialogPublisher::setDirectory(const QHash<QString, PublishDirectoryEntry>& entries) {
    const QStringList before = m_directory.keys();
    for (const QString& user : before)
        if (!entries.contains(user)) setDirectoryEntry(user, {});
    for (auto it = entries.constBegin(); it != entries.constEnd(); ++it)
        setDirectoryEntry(it.key(), it.value());
}

std::span<const QString> DialogPublisher::entitiesOf(const Call& call, int side) const {
    const QString& entity = call.plan.entity[std::size_t(side)];
    if (entity.isEmpty()) return {};  // not published: skipped, remote, unmarked
    const QString& user = call.user[std::size_t(side)];
    if (!user.isEmpty()) {
        const auto found = m_directory.constFind(user);
        if (found != m_directory.constEnd() && !found->publishTo.isEmpty())
            return {found->publishTo.constData(), std::size_t(found->publishTo.size())};
    }
    return {&entity, 1};
}

DialogInfo DialogPublisher::shapedSide(const Call& call, int side) const {
    DialogInfo dialog = *call.last[std::size_t(side)];
    const int other = 1 - side;
    const auto identityOf = [this](const QString& user) -> QString {
        if (user.isEmpty()) return {};
        const auto found = m_directory.constFind(user);
        return found == m_directory.constEnd() ? QString() : found->identity;
    };
    if (const QString own = identityOf(call.user[std::size_t(side)]); !own.isEmpty())
        dialog.local.identity = own;
    if (const auto& shownAs = call.plan.shownAs[std::size_t(other)]) {
        dialog.remote.identity = *shownAs;
        dialog.remote.display.clear();
    } else if (const QString peer = identityOf(call.user[std::size_t(other)]); !peer.isEmpty()) {
        dialog.remote.identity = peer;
    }
    return dialog;
}

void DialogPublisher::apply(Call& call, int side, bool force) {
    call.appliedAt[std::size_t(side)] = call.epoch;
    const DialogInfo dialog = shapedSide(call, side);
    const bool ended = dialog.state == DialogState::Terminated;
    // (A view into the call or the directory, neither of which changes in here.)
    const std::span<const QString> entities = entitiesOf(call, side);
    // Entities the side no longer goes to (publish_to changed): their dialog ends there.
    QStringList& publishedTo = call.publishedTo[std::size_t(side)];
    for (qsizetype i = publishedTo.size() - 1; i >= 0; --i) {
        if (std::find(entities.begin(), entities.end(), publishedTo.at(i)) != entities.end())
            continue;
        const auto found = m_publications.find(Key{call.id, side, publishedTo.at(i)});
        if (found != m_publications.end()) end(*found->second);
        publishedTo.removeAt(i);
    }

    for (const QString& entity : entities) {
        const Key key{call.id, side, entity};
        auto found = m_publications.find(key);
        Publication* publication = found == m_publications.end() ? nullptr : found->second.get();
        if (!publication) {
            if (ended) continue;  // never shown there: there is no end to show
            if (side == kCallee && !m_options.calleeTrying && dialog.state == DialogState::Trying)
                continue;
            if (holdFirst(call, side)) continue;  // the thread is busy: it may be over first
            publication = create(key, dialog);
            if (!publication) continue;
            call.firstPast[std::size_t(side)] = true;
        }
        // (Also an entity that left publish_to and came back while its end was waiting.)
        if (!publishedTo.contains(entity)) publishedTo.append(entity);
        if (!call.dialogId[std::size_t(side)].isEmpty())
            publication->dialogId = call.dialogId[std::size_t(side)];
        call.dialogId[std::size_t(side)] = publication->dialogId;
        send(*publication, dialog, force);
    }
}

DialogPublisher::Publication* DialogPublisher::create(const Key& key, const DialogInfo& dialog) {
    auto created = std::make_unique<Publication>();
    created->key = key;
    switch (m_options.dialogId) {
        case DialogPublisherOptions::DialogId::Counter:
            created->dialogId = QString::number(m_nextCounter++);
            break;
        case DialogPublisherOptions::DialogId::CallId:
            // pua_dialoginfo's way; both sides of a call then share the id, which is
            // fine: they are published for different entities.
            created->dialogId = dialog.callId.isEmpty() ? dialog.id : dialog.callId;
            break;
        case DialogPublisherOptions::DialogId::Uuid:
            created->dialogId = dialog.id;  // unique per call and side, stable for its life
            break;
    }
    created->handler = std::make_unique<Handler>(*this, key);
    ua::PublicationOptions options;
    options.entityUri = key.entity.toUtf8();
    options.server = m_options.server;
    options.expires = m_options.expires;
    options.userAgent = m_options.userAgent;
    options.authUser = m_options.authUser;
    options.password = m_options.password;
    created->client = std::make_unique<ua::PublicationClient>(
        m_transactions, m_timers, m_random, std::move(options), *created->handler);
    if (auto started = created->client->start(); !started) {
        qCInfo(lcServer) << "not publishing for" << key.entity << ":" << started.error().reason;
        return nullptr;
    }
    return m_publications.emplace(key, std::move(created)).first->second.get();
}

void DialogPublisher::send(Publication& publication, const DialogInfo& dialog, bool force,
                           bool paced) {
    if (publication.ended || endIsWaiting(publication)) return;  // its end is final
    if (dialog.state == DialogState::Terminated && publication.client->sentNothing()) {
        // Over before its first PUBLISH left (a busy loop reads a whole short call at
        // once): nobody saw it, so there is no end to show.
        ++m_heldAway;
        forget(publication.key);
        return;
    }
    if (paced && defer(publication, dialog, force)) return;
    const bool ended = dialog.state == DialogState::Terminated;
    dialoginfo::Document document = dialoginfo::publishedDocument(
        dialog, publication.key.entity, publication.nextVersion, m_options.profile);
    // (The profile leaves the id alone: the publication's own goes in here, uncopied.)
    DialogInfo& shaped = document.dialogs.front();
    shaped.id = publication.dialogId;
    // Only what the document says counts: a change the profile hides is no PUBLISH
    // (unless an in-dialog request asks for one again).
    if (publication.published && sameDialog(*publication.published, shaped) && !(force && !ended))
        return;
    publication.published = shaped;
    ++publication.nextVersion;
    publication.ended = ended;
    auto body = std::make_shared<const Body>(std::move(document), m_writeOptions);
    publication.handed.push_back({++publication.publishCalls, publication.published->state, body});
    publication.lastHanded = m_timers.now();
    ua::PublicationClient::BodySource source = [body = std::move(body)] { return body->bytes(); };
    if (ended) {
        publication.client->publish(std::move(source), m_options.endedExpires, false);
        // Forgotten when its expiry has run out at the server (onPublished sets that
        // time); this bound holds when the end cannot be delivered at all.
        forgetLater(publication, std::chrono::seconds(m_options.endedExpires) + kEndDelivery);
    } else {
        publication.client->publish(std::move(source), m_options.expires, true);
    }
}

bool DialogPublisher::endIsWaiting(const Publication& publication) {
    return publication.deferred && publication.deferred->state == DialogState::Terminated;
}

void DialogPublisher::end(Publication& publication) {
    // (An end waiting for the hold stays as it is, with its own event and code.)
    if (publication.ended || !publication.published || endIsWaiting(publication)) return;
    DialogInfo dialog = *publication.published;
    dialog.state = DialogState::Terminated;
    dialog.stateEvent.clear();
    dialog.stateCode = 0;
    send(publication, dialog, false);
}

bool DialogPublisher::holdsLiveState(const Publication& publication) {
    return publication.accepted != DialogState::Terminated && publication.acceptedBody &&
           !publication.client->etag().isEmpty();
}

QByteArray DialogPublisher::saveState(qint64 wallNow) const {
    QJsonArray saved;
    const base::TimePoint now = m_timers.now();
    for (const auto& [key, publication] : m_publications) {
        // Only what a restart has to end: an end the server accepted runs out there by
        // itself and is not written (under load most publications are such ends,
        // waiting to be forgotten).
        if (!holdsLiveState(*publication) || publication->expiresAt <= now) continue;
        const QByteArray& etag = publication->client->etag();
        QJsonObject json = ua::savedPublicationRecord(
            key.entity, etag, publication->expiresAt - now, wallNow, publication->nextVersion);
        json.insert(QStringLiteral("side"), key.side);
        json.insert(QStringLiteral("dialog"), publication->dialogId);
        json.insert(QStringLiteral("document"),
                    QString::fromUtf8(publication->acceptedBody->bytes()));
        // The call it belongs to and what the rules decided for it, so that the call
        // goes on publishing under it when the tracker restores it.
        if (const auto call = m_calls.find(key.call); call != m_calls.end()) {
            const Call& c = *call->second;
            const auto shownAs = [&c](int side) {
                const auto& substitute = c.plan.shownAs[std::size_t(side)];
                return substitute ? QJsonValue(*substitute) : QJsonValue();
            };
            json.insert(QStringLiteral("call"), QString::number(c.id));
            json.insert(QStringLiteral("users"), QJsonArray{c.user[0], c.user[1]});
            json.insert(QStringLiteral("entities"), QJsonArray{c.plan.entity[0], c.plan.entity[1]});
            json.insert(QStringLiteral("shown_as"), QJsonArray{shownAs(0), shownAs(1)});
        }
        saved.append(json);
    }
    return ua::savedPublicationsDocument(saved);
}

int DialogPublisher::restoreState(QByteArrayView saved, qint64 wallNow) {
    int restored = 0;
    for (const ua::SavedPublication& s : ua::readSavedPublications(saved, wallNow)) {
        const QJsonObject& o = s.record;
        const QString& entity = s.entity;
        const qint64 leftMs = s.leftMs;
        const auto document =
            dialoginfo::parseDocument(o.value(QStringLiteral("document")).toString().toUtf8());
        if (!document || document->dialogs.size() != 1) continue;
        const int side = o.value(QStringLiteral("side")).toInt() == kCallee ? kCallee : 0;
        const DialogInfo& dialog = document->dialogs.front();

        // Its call, as the tracker will restore it (files of earlier versions name none).
        bool numeric = false;
        const CallId savedCall = o.value(QStringLiteral("call")).toString().toULongLong(&numeric);
        const QJsonArray users = o.value(QStringLiteral("users")).toArray();
        const QJsonArray entities = o.value(QStringLiteral("entities")).toArray();
        const QJsonArray shownAs = o.value(QStringLiteral("shown_as")).toArray();
        const bool claimable = numeric && users.size() == 2 && entities.size() == 2 &&
                               shownAs.size() == 2 && !o.value(QStringLiteral("ended")).toBool();
        const CallId callId = claimable ? DialogTracker::restoredCallId(savedCall)
                                        : kUnclaimedCallBit | m_nextRestoredCall++;
        const Key key{callId, side, entity};
        if (m_publications.count(key)) continue;
        Publication* publication = create(key, dialog);
        if (!publication) continue;
        publication->dialogId = o.value(QStringLiteral("dialog")).toString();
        publication->nextVersion = s.version;
        publication->published = dialog;
        publication->accepted = dialog.state;
        publication->acceptedBody = std::make_shared<const Body>(*document, m_writeOptions);
        // Kept alive while its call may come back; an end replaces that.
        publication->client->resume(s.etag, quint32(std::min<qint64>(leftMs / 1000, 0xffffffff)),
                                    claimable ? m_options.expires : 0);
        ++restored;
        if (o.value(QStringLiteral("ended")).toBool()) {
            // Its end is at the server already: it runs out there. (Only files of
            // earlier versions name such publications.)
            publication->ended = true;
            forgetLater(*publication, std::chrono::milliseconds(leftMs));
            continue;
        }
        if (!claimable) {
            end(*publication);
            continue;
        }
        std::unique_ptr<Call>& call = m_calls[callId];
        if (!call) {
            call = std::make_unique<Call>();
            call->id = callId;
            call->awaitingTracker = true;
            for (int i = 0; i < 2; ++i) {
                call->user[std::size_t(i)] = users.at(i).toString();
                call->plan.entity[std::size_t(i)] = entities.at(i).toString();
                if (shownAs.at(i).isString())
                    call->plan.shownAs[std::size_t(i)] = shownAs.at(i).toString();
            }
        }
        call->dialogId[std::size_t(side)] = publication->dialogId;
        call->publishedTo[std::size_t(side)].append(entity);
    }
    return restored;
}

int DialogPublisher::settleRestored() {
    int ended = 0;
    for (auto it = m_calls.begin(); it != m_calls.end();) {
        Call& call = *it->second;
        if (!call.awaitingTracker) {
            ++it;
            continue;
        }
        for (int side = 0; side < 2; ++side) {
            for (const QString& entity : call.publishedTo[std::size_t(side)]) {
                const auto found = m_publications.find(Key{call.id, side, entity});
                if (found == m_publications.end()) continue;
                end(*found->second);
                ++ended;
            }
        }
        m_timers.cancel(call.holdTimer);
        it = m_calls.erase(it);
    }
    return ended;
}

void DialogPublisher::report(const Publication& publication, PublicationEvent::Kind kind,
                             int statusCode, QString reason) {
    if (!m_eventListener) return;
    PublicationEvent event;
    event.kind = kind;
    event.entity = publication.key.entity;
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
    // The publication itself, not a copy of its key (no allocation per timer): it is
    // only destroyed in forget() or with the publisher, and both cancel this timer.
    Publication* const target = &publication;
    publication.forgetTimer = m_timers.start(after, [this, target] { forget(target->key); });
}

void DialogPublisher::forget(const Key& key) {
    auto found = m_publications.find(key);
    if (found == m_publications.end()) return;
    m_timers.cancel(found->second->forgetTimer);
    m_timers.cancel(found->second->deferTimer);
    // An end that the server accepted has run out there now: the publication is gone.
    const bool ranOut = found->second->ended && found->second->accepted == DialogState::Terminated;
    const bool saved = holdsLiveState(*found->second);
    std::unique_ptr<Publication> gone = std::move(found->second);
    m_publications.erase(found);
    if (saved && m_stateChanged) m_stateChanged();
    if (ranOut) report(*gone, PublicationEvent::Kind::Removed, 0, QStringLiteral("expired"));
}

}  // namespace sb::server
