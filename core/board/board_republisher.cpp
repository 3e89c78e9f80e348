#include "board/board_republisher.h"

#include <chrono>

#include "base/log.h"
#include "board/console.h"
#include "dialoginfo/dialog_info_writer.h"

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
    base::TimerId dropTimer = base::kNoTimer;
    std::unique_ptr<Handler> handler;
    std::unique_ptr<ua::PublicationClient> client;
};

class BoardRepublisher::Handler final : public ua::PublicationHandler {
public:
    Handler(BoardRepublisher& owner, QString entity)
        : m_owner(owner), m_entity(std::move(entity)) {}

    void onPublished(const QByteArray&, quint32) override {
        if (Publication* publication = find())
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
        publication->dropTimer = m_owner.m_timers.start(
            base::Duration::zero(), [this] { m_owner.m_publications.erase(m_entity); });
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

void BoardRepublisher::refresh(const QString& number) {
    const ExtensionState* state = m_console.state(number);
    if (!state) return;
    // Nothing known yet (no usable subscription): nothing to say about the extension.
    if (!state->merge.hasFullState()) return;
    for (const QString& entity : entitiesOf(number)) {
        auto found = m_publications.find(entity);
        if (found != m_publications.end() && found->second->leaving) continue;
        if (found == m_publications.end()) {
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
                continue;
            }
            found = m_publications.emplace(entity, std::move(created)).first;
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
