#pragma once

#include <QDateTime>
#include <QList>
#include <QPair>
#include <QString>

#include <optional>

#include <memory>

#include "app/config.h"
#include "app/session.h"
#include "base/random.h"
#include "base/timer_queue.h"

#include "server/attendant.h"

namespace sb::server {
class SipServer;
}

namespace sb::app {

// One call the server routes, as the front ends show it (the server panel).
struct CallSummary {
    QString caller;  // user or URI
    QString callerDisplay;
    QString callee;
    QString calleeDisplay;
    QString state;  // "trying", "ringing", "connected", "ended"
    QDateTime started;
    std::optional<QDateTime> answered;
};

// What a test puts in place of the system clock and randomness (null: the real ones).
struct ServerSessionSeams {
    base::TimerQueue* timers = nullptr;
    base::Random* random = nullptr;
};

// Thin wiring of the built-in SIP server (issue 4) for the front ends: transports on
// the [sip] listen addresses, the transaction layer, the users of [users], the server
// roles (core/server/sip_server.h), the bindings file, and the bridge that lights the
// board from the server's dialogs and registrations.
class ServerSession final : public Session {
    Q_OBJECT
public:
    // `configPath` is where [users] is read from and beside which bindings.json is kept
    // (empty: a first run without a file; bindings go to the user's data directory).
    ServerSession(Config config, QString configPath, ServerSessionSeams seams = {},
                  QObject* parent = nullptr);
    ~ServerSession() override;

    Mode mode() const override { return Mode::Server; }
    void setSipTrace(base::SipTrace* trace) override;
    void setBoard(board::Console* console) override;
    Result<void> open() override;
    void start() override;
    void stop(base::Duration bound = base::Duration(5000)) override;
    QStringList listenAddresses() const override;
    const RegistrationStatus& registration() const override { return m_status; }
    Result<QString> pickup(const QString& extension, const QString& dialog) override;
    Result<QString> forward(const ForwardCommand& command) override;
    Result<QString> sendToPhone(quint64 call) override;
    Result<QString> reject(quint64 call, int status) override;
    QList<QueuedCallView> queue() const override;
    QStringList forwardReasons() const override;
    QString extensionActionsUnavailable() const override;

    // The users served (their numbers), in [users] order; valid after open().
    QStringList users() const;
    // Where bindings are kept.
    QString bindingsPath() const;
    // The roles, after open() (null before).
    server::SipServer* server();
    // The server's domain (the primary one).
    QString domain() const;
    // Every registered user's bindings, by user, and the calls being routed now.
    QList<QPair<QString, BindingView>> allBindings() const;
    QList<CallSummary> calls() const;

signals:
    // The calls being routed changed (coalesced: once per event-loop turn at most).
    void callsChanged();

private:
    struct Core;
    void reportBindings(const QString& user);
    // Hands the board directory's publishing settings to the publisher.
    void syncPublishDirectory();
    // Writes the publisher's state atomically beside the bindings file.
    void savePublicationState();
    // Writes the tracker's answered calls atomically beside the bindings file.
    void saveCallState();
    QDateTime wallTime(base::TimePoint time) const;
    QueuedCallView queuedCallView(const server::Attendant::Call& call) const;
    QueuedCallView queuedCallView(const server::Attendant::Event& event) const;

    Config m_config;
    QString m_configPath;
    ServerSessionSeams m_seams;
    base::SipTrace* m_trace = nullptr;
    board::Console* m_board = nullptr;
    std::unique_ptr<Core> m_core;
    RegistrationStatus m_status;
    bool m_stopping = false;
    bool m_callsChangePending = false;
    QString m_publicationStatePath;
    bool m_publicationSavePending = false;
    QString m_callStatePath;
    bool m_callSavePending = false;
};

}  // namespace sb::app
