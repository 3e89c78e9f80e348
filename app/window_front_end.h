#pragma once

#include <QObject>

#include "app/registration_status.h"
#include "ui/main_window.h"

namespace sb::app {

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

    // The window's view of a registration status.
    static ui::RegistrationIndicator::Status toIndicator(const RegistrationStatus& status);

signals:
    void finished(int exitCode);

private:
    // Server mode: the status bar says so and the server panel follows the bindings and
    // the calls.
    void showServer(ServerSession& server);

    Session* m_session;
    ui::MainWindow& m_window;
    bool m_quitting = false;
};

}  // namespace sb::app
