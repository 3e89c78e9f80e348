#pragma once

#include <QHash>
#include <QIODevice>
#include <QJsonObject>
#include <QObject>

#include "app/headless_protocol.h"

namespace sb::board {
class Console;
}

namespace sb::app {

class Session;

// Headless mode (docs/headless.md): writes the session's and the board's events as JSON
// lines to `out` and executes the commands fed to handleLine(). Emits finished() once the
// session has stopped after "quit", end of input or a termination signal.
class HeadlessFrontEnd final : public QObject {
    Q_OBJECT
public:
    HeadlessFrontEnd(Session& session, board::Console& console, QIODevice& out,
                     QObject* parent = nullptr);

    // Writes the "started" event and one "lamp" event per monitored extension; call
    // after the session has started.
    void announceStart(const QString& version);

    void handleLine(const QByteArray& line);
    // Quit without a command: stdin closed, SIGTERM.
    void requestQuit();

signals:
    void finished(int exitCode);

private:
    // False when the event could not be written (the reader fell too far behind).
    bool write(const QJsonObject& event);
    // `count` JSON lines in one write.
    bool writeLines(const QByteArray& lines, qint64 count);
    void quit();
    void reportChanges(const QStringList& numbers);
    // Forgets removed extensions and announces new ones.
    void syncDirectory();
    QJsonObject snapshotEvent(const QJsonValue& id) const;

    Session& m_session;
    board::Console& m_console;
    QIODevice& m_out;
    bool m_quitting = false;
    qint64 m_lostEvents = 0;  // since the last event that could be written
    // What was written last per extension, so that only real changes are written.
    // Lamps as lampKey() (their lamp line with steady-clock times).
    QHash<QString, QByteArray> m_lastLamp;
    QHash<QString, ua::SubscriptionStatus> m_lastSubscription;
};

}  // namespace sb::app
