#include "board/board_republisher.h"

#include <algorithm>
#include <chrono>

#include "base/log.h"
#include "board/console.h"
#include "dialoginfo/dialog_info_writer.h"
#include "ua/saved_publications.h"

namespace sb::board {

using dialoginfo::DialogInfo;

namespace {
// How long a removal may take before the publication is dropped anyway: Timer F.
constexpr base::Duration kRemoveBound = std::chrono::seconds(32);
}  // namespace

struct BoardRepublisher::Publication {
    QString number;
    QString entity;
    std::optional<std::vector<DialogInfo>> shown;  // the shaped dialogs last handed over
    int handedDialogs = 0;
    QString handedState;  // the first handed dialog's state name
    quint64 nextVersion = 0;
    bool leaving = false;
    base::TimePoint expiresAt{};  // when the server lets what it holds run out
    base::TimerId dropTimer = base::kNoTimer;
    std::unique_ptr<Handler> handler;
    std::unique_ptr<ua::PublicationClient> client;
};

class BoardRepublisher::Handler final : public ua::PublicationHandler {
public:
    Handler(BoardRepublisher& owner, QString entity)
        : m_owner(owner), m_entity(std::move(entity)) {}

    void onPublished(const QByteArray&, quint32 expires) override {
        Publication* publication = find();
        if (!publication) return;
        publication->expiresAt = m_owner.m_timers.now() + std::chrono::seconds(expires);
        if (m_owner.m_stateChanged) m_owner.m_stateChanged();
        m_owner.report(*publication, RepublishEvent::Kind::Published, 200, {});
    }
    void onPublishFailed(int statusCode, const QString& reason, base::Duration) override {
        if (Publication* publication = find())
            m_owner.report(*publication, RepublishEvent::Kind::Failed, statusCode, reason);
    }
    void onRemoved() override {
        // Never destroyed from inside its own client's callback: on the next loop turn.
        Publication* publication = find();
        if (!publication) return;
        m_owner.m_timers.cancel(publication->dropTimer);
        publication->dropTimer = m_owner.m_timers.start(base::Duration::zero(), [this] {
            BoardRepublisher& owner = m_owner;
            const QString entity = m_entity;
            owner.m_publications.erase(entity);  // destroys this handler
            if (owner.m_stateChanged) owner.m_stateChanged();
        });
    }

private:
    Publication* find() const {
        const auto found = m_owner.m_publications.find(m_entity);
        return found == m_owner.m_publications.end() ? nullptr : found->second.get();
    }

    BoardRepublisher& m_owner;
    QString m_entity;
};

BoardRepublisher::BoardRepublisher(Console& console, transaction::TransactionLayer& transactions,
                                   base::TimerQueue& timers, base::Random& random,
                                   RepublisherOptions options, QObject* parent)
    : QObject(parent),
      m_console(console),
      m_transactions(transactions),
      m_timers(timers),
      m_random(random),
      m_options(std::move(options)) {}

BoardRepublisher::~BoardRepublisher() {
    for (auto& [entity, publication] : m_publications)
        m_timers.cancel(publication->dropTimer);
}

void BoardRepublisher::start() {
    if (m_started) return;
    m_started = true;
    connect(&m_console, &Console::extensionsChanged, this, [this](const QStringList& numbers) {
        for (const QString& number : numbers)
            refresh(number);
    });
    connect(&m_console, &Console::directoryChanged, this, &BoardRepublisher::refreshAll);
    refreshAll();
}

void BoardRepublisher::stop() {
    m_started = false;
    disconnect(&m_console, nullptr, this, nullptr);
    for (auto& [entity, publication] : m_publications) {
        if (publication->leaving) continue;
        publication->leaving = true;
        publication->client->remove();
    }
}

QStringList BoardRepublisher::entitiesOf(const QString& number) const {
    const ExtensionState* state = m_console.state(number);
    if (!state) return {};
    if (!state->extension.publishTo.isEmpty()) return state->extension.publishTo;
    const QString uri = m_console.uriOf(number);
    return uri.isEmpty() ? QStringList{} : QStringList{uri};
}

void BoardRepublisher::refreshAll() {
    // Extensions that left the board, or entities no longer listed, are removed.
    for (auto& [entity, publication] : m_publications) {
        if (publication->leaving || entitiesOf(publication->number).contains(entity)) continue;
        publication->leaving = true;
        publication->client->remove();
        publication->dropTimer =
            m_timers.start(kRemoveBound, [this, entity = entity] { m_publications.erase(entity); });
    }
    for (int i = 0; i < m_console.monitoredCount(); ++i)
        refresh(m_console.stateAt(i)->extension.number);
}

BoardRepublisher::Publication* BoardRepublisher::create(const QString& number,
                                                        const QString& entity) {
    auto created = std::make_unique<Publication>();
    created->number = number;
    created->entity = entity;
    created->handler = std::make_unique<Handler>(*this, entity);
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
        qCInfo(lcUa) << "not publishing" << number << "for" << entity << ":"
                     << started.error().reason;
        return nullptr;
    }
    return m_publications.emplace(entity, std::move(created)).first->second.get();
}

QByteArray BoardRepublisher::saveState(qint64 wallNow) const {
    QJsonArray saved;
    const base::TimePoint now = m_timers.now();
    for (const auto& [entity, publication] : m_publications) {
        const QByteArray& etag = publication->client->etag();
        if (publication->leaving || etag.isEmpty() || publication->expiresAt <= now) continue;
        QJsonObject record = ua::savedPublicationRecord(entity, etag, publication->expiresAt - now,
                                                        wallNow, publication->nextVersion);
        record.insert(QStringLiteral("extension"), publication->number);
        saved.append(record);
    }
    return ua::savedPublicationsDocument(saved);
}

int BoardRepublisher::restoreState(QByteArrayView saved, qint64 wallNow) {
    int restored = 0;
    for (const ua::SavedPublication& s : ua::readSavedPublications(saved, wallNow)) {
        const QString number = s.record.value(QStringLiteral("extension")).toString();
        if (number.isEmpty() || m_publications.count(s.entity)) continue;
        Publication* publication = create(number, s.entity);
        if (!publication) continue;
        publication->nextVersion = s.version;
        publication->expiresAt = m_timers.now() + std::chrono::milliseconds(s.leftMs);
        // Not refreshed: what it holds is of before the restart, and the extension's
        // state (its subscription's first NOTIFY) replaces it, or it runs out.
        publication->client->resume(s.etag, quint32(std::min<qint64>(s.leftMs / 1000, 0xffffffff)));
        ++restored;
    }
    return restored;
}

void BoardRepublisher::refresh(const QString& number) {
    const ExtensionState* state = m_console.state(number);
    if (!state) return;
    // Nothing known yet (no usable subscription): nothing to say about the extension.
    if (!state->merge.hasFullState()) return;
    for (const QString& entity : entitiesOf(number)) {
        auto found = m_publications.find(entity);
        if (found != m_publications.end() && found->second->leaving) continue;
        if (found == m_publications.end()) {
            if (!create(number, entity)) continue;
            found = m_publications.find(entity);
        }
        Publication& publication = *found->second;
        // Each dialog shaped as the built-in server shapes one, then one document.
        dialoginfo::Document document;
        std::vector<DialogInfo> shaped;
        for (const DialogInfo& dialog : state->merge.dialogs()) {
            dialoginfo::Document one = dialoginfo::publishedDocument(
                dialog, entity, publication.nextVersion, m_options.profile);
            if (document.entity.isEmpty()) document = one;
            // The duration read from the source ages; the watchers count from the
            // published state's arrival themselves.
            one.dialogs.front().durationSeconds.reset();
            shaped.push_back(std::move(one.dialogs.front()));
        }
        if (publication.shown && *publication.shown == shaped) continue;
        if (document.entity.isEmpty()) {
            document = dialoginfo::publishedDocument(DialogInfo{}, entity, publication.nextVersion,
                                                     m_options.profile);
        }
        document.dialogs = shaped;
        publication.shown = std::move(shaped);
        publication.handedDialogs = int(document.dialogs.size());
        publication.handedState = document.dialogs.empty()
                                      ? QString()
                                      : dialoginfo::stateName(document.dialogs.front().state);
        ++publication.nextVersion;
        publication.client->publish(
            dialoginfo::writeDocument(document, dialoginfo::writeOptionsFor(m_options.profile)),
            m_options.expires, true);
    }
}

void BoardRepublisher::report(const Publication& publication, RepublishEvent::Kind kind,
                              int statusCode, QString reason) {
    if (!m_eventListener) return;
    RepublishEvent event;
    event.kind = kind;
    event.number = publication.number;
    event.entity = publication.entity;
    event.statusCode = statusCode;
    event.reason = std::move(reason);
    event.dialogs = publication.handedDialogs;
    event.dialogState = publication.handedState;
    m_eventListener(event);
}

}  // namespace sb::board
