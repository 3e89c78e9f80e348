#include "app/window_front_end.h"

#include <QTimer>

#include "app/account_session.h"

namespace sb::app {

WindowFrontEnd::WindowFrontEnd(AccountSession* session, ui::MainWindow& window, QObject* parent)
    : QObject(parent), m_session(session), m_window(window) {
    connect(&m_window, &ui::MainWindow::quitRequested, this, &WindowFrontEnd::requestQuit);
    if (!m_session) return;
    m_window.showListenAddresses(m_session->listenAddresses());
    m_window.showRegistration(toIndicator(m_session->registration()));
    connect(m_session, &AccountSession::registrationChanged, &m_window,
            [this](const RegistrationStatus& status) {
                m_window.showRegistration(toIndicator(status));
            });
    connect(m_session, &AccountSession::stopped, this, [this] { emit finished(0); });
}

void WindowFrontEnd::requestQuit() {
    if (m_quitting) return;
    m_quitting = true;
    m_window.close();
    if (m_session) {
        m_session->stop();
    } else {
        QTimer::singleShot(0, this, [this] { emit finished(0); });
    }
}

ui::RegistrationIndicator::Status WindowFrontEnd::toIndicator(const RegistrationStatus& status) {
    using State = ui::RegistrationIndicator::State;
    ui::RegistrationIndicator::Status out;
    switch (status.state) {
        case RegistrationStatus::State::Unregistered:
            out.state = State::Unregistered;
            break;
        case RegistrationStatus::State::Registering:
            out.state = State::Registering;
            break;
        case RegistrationStatus::State::Registered:
            out.state = State::Registered;
            break;
        case RegistrationStatus::State::Failed:
            out.state = State::Failed;
            break;
    }
    out.aor = status.aor;
    out.expires = status.expires;
    out.code = status.code;
    out.reason = status.reason;
    out.retryIn = status.retryIn;
    return out;
}

}  // namespace sb::app
