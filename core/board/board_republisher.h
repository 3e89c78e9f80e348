#pragma once

#include <QObject>
#include <QString>
#include <QStringList>

#include <functional>
#include <map>
#include <memory>

#include "base/random.h"
#include "base/timer_queue.h"
#include "dialoginfo/publish_profile.h"
#include "transaction/transaction_layer.h"
#include "transport/transport.h"
#include "ua/publication_client.h"

namespace sb::board {

class Console;

struct RepublisherOptions {
    transport::Endpoint server;  // the presence server every PUBLISH goes to
    dialoginfo::PublishProfile profile;
    quint32 expires = 3600;  // asked for ([publish] expires); refreshed while published
    QByteArray userAgent;
    QByteArray authUser;  // digest credentials for a presence server that challenges
    QByteArray password;
};

// What happened to one extension's publication (headless mode and the GUI).
struct RepublishEvent {
    enum class Kind { Published, Failed };
    Kind kind = Kind::Published;
    QString number;
    QString entity;
    int statusCode = 0;
    QString reason;
    int dialogs = 0;      // dialogs in the document the event is about
    QString dialogState;  // the first one's RFC 4235 state; empty when idle
};

// Client mode's publishing (issue 6): every monitored extension's dialog-info, merged by
// the board from its subscription (RFC 4235 §4.1), is published again to another
// presence server — e.g. an Asterisk's or FreeSWITCH's BLF into a Kamailio presence
// server. One publication (ua::PublicationClient: one PUBLISH in flight, the newest
// state waiting) per extension and entity: the extension's URI, or each URI of its
// publish_to. A document goes out when what it says changes (the profile shapes every
// dialog, as the built-in server's documents); an idle extension is a document without
// dialogs. The rules that need the INVITE itself (which_calls, callee_entity, skip_*,
// callee_trying, publish_in_dialog) cannot apply here: the board sees documents, not
// calls. An extension that leaves the board has its publication removed (Expires: 0).
class BoardRepublisher final : public QObject {
    Q_OBJECT
public:
    BoardRepublisher(Console& console, transaction::TransactionLayer& transactions,
                     base::TimerQueue& timers, base::Random& random, RepublisherOptions options,
                     QObject* parent = nullptr);
    ~BoardRepublisher() override;

    // Publishes every monitored extension's state now, then follows the board.
    void start();
    // Removes every publication (Expires: 0), e.g. on shutdown.
    void stop();

    void setEventListener(std::function<void(const RepublishEvent&)> listener) {
        m_eventListener = std::move(listener);
    }
    std::size_t publicationCount() const { return m_publications.size(); }

    // Across a restart, a crash included: each publication the server holds (entity,
    // extension, SIP-ETag, when it runs out, document version) as JSON for an atomic
    // file write. `wallNow` (UTC, ms since the epoch) dates the expiries.
    QByteArray saveState(qint64 wallNow) const;
    // Before start(): takes the saved publications up, so that an extension's first
    // state after the restart replaces what the server still holds (SIP-If-Match)
    // instead of standing beside it until it runs out; one no longer on the board is
    // removed. Returns how many were taken up; a damaged state restores none.
    int restoreState(QByteArrayView saved, qint64 wallNow);
    // Called after every change of what saveState() would write (debounce it).
    void setStateChangedListener(std::function<void()> listener) {
        m_stateChanged = std::move(listener);
    }

private:
    struct Publication;
    class Handler;

    Publication* create(const QString& number, const QString& entity);
    void refresh(const QString& number);
    void refreshAll();
    QStringList entitiesOf(const QString& number) const;
    void report(const Publication& publication, RepublishEvent::Kind kind, int statusCode,
                QString reason);

    Console& m_console;
    transaction::TransactionLayer& m_transactions;
    base::TimerQueue& m_timers;
    base::Random& m_random;
    RepublisherOptions m_options;
    // By entity; each knows the extension it publishes.
    std::map<QString, std::unique_ptr<Publication>> m_publications;
    std::function<void(const RepublishEvent&)> m_eventListener;
    std::function<void()> m_stateChanged;
    bool m_started = false;
};

}  // namespace sb::board
