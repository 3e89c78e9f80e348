#pragma once

#include <QObject>

#include "app/registration_status.h"
#include "ui/main_window.h"
#include "ui/operator_actions.h"
#include "ui/publication_table.h"

namespace sb::app {

struct AttendantConfig;
struct PublicationView;
struct PublishConfig;
struct QueuedCallView;
class SessionOperatorActions;
class ServerSession;
class Session;

// GUI mode: feeds the session's events to the main window and turns the window's quit
// request into an orderly stop (unregister first). `session` may be null when no
// account is configured.
class WindowFrontEnd final : public QObject {
    Q_OBJECT
public:
    WindowFrontEnd(Session* session, ui::MainWindow& window, QObject* parent = nullptr);

    void requestQuit();

    // Settings → Publishing… edits [publish] of `configPath` (checked the way start-up
    // checks it, saved atomically; it applies at the next start) — disabled when there is
    // no file to save to. The server panel names where `running` publishes.
    void offerPublishSettings(const PublishConfig& running, const QString& configPath);
    // What the forward dialog starts from: [attendant] default_reason and the
    // [diversion] privacy and History-Info settings (until called: their defaults).
    void offerForwardDefaults(const AttendantConfig& attendant);

    // The window's view of a registration status.
    static ui::RegistrationIndicator::Status toIndicator(const RegistrationStatus& status);
    // The server panel's view of a publication report.
    static ui::PublicationUpdate toUpdate(const PublicationView& publication);
    // The window's view of a queued call.
    static ui::QueuedCall toQueuedCall(const QueuedCallView& call);

signals:
    void finished(int exitCode);

private:
    // Server mode: the status bar says so and the server panel follows the bindings and
    // the calls.
    void showServer(ServerSession& server);

    Session* m_session;
    ui::MainWindow& m_window;
    SessionOperatorActions* m_actions = nullptr;  // the session's actions for the window
    bool m_quitting = false;
};

}  // namespace sb::app
