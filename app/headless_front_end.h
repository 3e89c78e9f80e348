#pragma once

#include <QIODevice>
#include <QJsonObject>
#include <QObject>

#include "app/headless_protocol.h"

namespace sb::app {

class AccountSession;

// Headless mode (docs/headless.md): writes the session's events as JSON lines to `out`
// and executes the commands fed to handleLine(). Emits finished() once the session has
// stopped after "quit", end of input or a termination signal.
class HeadlessFrontEnd final : public QObject {
    Q_OBJECT
public:
    HeadlessFrontEnd(AccountSession& session, QIODevice& out, QObject* parent = nullptr);

    // Writes the "started" event; call after the session has started.
    void announceStart(const QString& version);

    void handleLine(const QByteArray& line);
    // Quit without a command: stdin closed, SIGTERM.
    void requestQuit();

signals:
    void finished(int exitCode);

private:
    void write(const QJsonObject& event);
    void quit();

    AccountSession& m_session;
    QIODevice& m_out;
    bool m_quitting = false;
};

}  // namespace sb::app
