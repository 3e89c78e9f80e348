#include "app/window_front_end.h"

#include <QTimer>

#include "app/config.h"
#include "app/publish_section.h"
#include "app/server_session.h"
#include "app/session.h"
#include "ui/server_panel.h"

namespace sb::app {

// The session's operator actions as the window drives them (ui/ knows no app/ types).
class SessionOperatorActions final : public ui::OperatorActions {
public:
    SessionOperatorActions(Session& session, QObject* parent)
        : ui::OperatorActions(parent), m_session(session) {
        connect(&m_session, &Session::callChanged, this, [this](const QueuedCallView& call) {
            emit callChanged(WindowFrontEnd::toQueuedCall(call));
        });
    }

    void setDefaults(const ui::ForwardDefaults& defaults) { m_defaults = defaults; }

    Result<QString> pickup(const QString& extension) override {
        return m_session.pickup(extension, {});
    }
    Result<QString> forward(const ui::ForwardRequest& request) override {
        ForwardCommand command;
        command.call = request.call;
        command.extension = request.extension;
        command.to = request.to;
        command.reason = request.reason;
        command.privacy = request.privacy;
        command.historyInfo = request.historyInfo;
        return m_session.forward(command);
    }
    Result<QString> sendToPhone(quint64 call) override { return m_session.sendToPhone(call); }
    Result<QString> reject(quint64 call, int status) override {
        return m_session.reject(call, status);
    }
    QList<ui::QueuedCall> queue() const override {
        QList<ui::QueuedCall> out;
        for (const QueuedCallView& call : m_session.queue())
            out << WindowFrontEnd::toQueuedCall(call);
        return out;
    }
    QStringList forwardReasons() const override { return m_session.forwardReasons(); }
    ui::ForwardDefaults forwardDefaults() const override { return m_defaults; }
    QString extensionActionsUnavailable() const override {
        return m_session.extensionActionsUnavailable();
    }
    QString extensionForwardUnavailable() const override {
        return m_session.extensionForwardUnavailable();
    }

private:
    Session& m_session;
    // [attendant] and [diversion] as shipped until offerForwardDefaults() says otherwise.
    ui::ForwardDefaults m_defaults;
};

WindowFrontEnd::WindowFrontEnd(Session* session, ui::MainWindow& window, QObject* parent)
    : QObject(parent), m_session(session), m_window(window) {
    connect(&m_window, &ui::MainWindow::quitRequested, this, &WindowFrontEnd::requestQuit);
    if (!m_session) return;
    m_window.showListenAddresses(m_session->listenAddresses());
    m_actions = new SessionOperatorActions(*m_session, this);
    m_window.setOperatorActions(m_actions);
    if (auto* server = qobject_cast<ServerSession*>(m_session)) {
        showServer(*server);
        connect(m_session, &Session::stopped, this, [this] { emit finished(0); });
        return;
    }
    m_window.showRegistration(toIndicator(m_session->registration()));
    connect(m_session, &Session::registrationChanged, &m_window,
            [this](const RegistrationStatus& status) {
                m_window.showRegistration(toIndicator(status));
            });
    connect(m_session, &Session::stopped, this, [this] { emit finished(0); });
}

void WindowFrontEnd::showServer(ServerSession& server) {
    m_window.showServerMode(server.domain(), server.listenAddresses());
    ui::ServerPanel* panel = m_window.serverPanel();
    panel->setServerInfo(server.domain(), server.listenAddresses());
    auto pushBindings = [panel, &server] {
        QList<ui::BindingRow> rows;
        for (const auto& [user, binding] : server.allBindings())
            rows << ui::BindingRow{user, binding.contact, binding.source, binding.userAgent,
                                   binding.expiresIn};
        panel->setBindings(rows);
    };
    auto pushCalls = [panel, &server] {
        QList<ui::CallRow> rows;
        for (const CallSummary& call : server.calls())
            rows << ui::CallRow{call.caller, call.callerDisplay, call.callee,  call.calleeDisplay,
                                call.state,  call.started,       call.answered};
        panel->setCalls(rows);
    };
    connect(&server, &Session::bindingsChanged, panel, pushBindings);
    connect(&server, &ServerSession::callsChanged, panel, pushCalls);
    connect(&server, &Session::publicationChanged, panel,
            [panel](const PublicationView& publication) {
                panel->updatePublication(toUpdate(publication));
            });
    pushBindings();
    pushCalls();
}

void WindowFrontEnd::offerPublishSettings(const PublishConfig& running, const QString& configPath) {
    const PublishValues values = publishValues(running);
    if (running.enabled)
        m_window.serverPanel()->setPublishing(values.value(QStringLiteral("transport")) +
                                              QLatin1Char(':') +
                                              values.value(QStringLiteral("server")));
    if (configPath.isEmpty()) {
        const QString why = tr("Needs a configuration file to save to (start with --config FILE)");
        m_window.publishSettingsAction()->setToolTip(why);
        m_window.publishSettingsAction()->setStatusTip(why);
        return;
    }
    m_window.setPublishSettings(values, configPath, [configPath](const PublishValues& edited) {
        return savePublishValues(configPath, edited);
    });
}

void WindowFrontEnd::offerForwardDefaults(const AttendantConfig& attendant) {
    if (!m_actions) return;
    const server::AttendantOptions& options = attendant.options;
    ui::ForwardDefaults defaults;
    defaults.reason = QString::fromUtf8(options.defaultReason);
    defaults.privacy = QString::fromLatin1(sip::privacyToken(options.privacy));
    defaults.historyInfo = options.historyInfo != server::AttendantOptions::HistoryInfo::Off;
    m_actions->setDefaults(defaults);
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

ui::PublicationUpdate WindowFrontEnd::toUpdate(const PublicationView& publication) {
    ui::PublicationUpdate out;
    out.entity = publication.entity;
    out.dialog = publication.dialog;
    if (publication.state == u"failed")
        out.result = ui::PublicationUpdate::Result::Failed;
    else if (publication.state == u"removed")
        out.result = ui::PublicationUpdate::Result::Removed;
    else
        out.result = ui::PublicationUpdate::Result::Published;
    out.dialogState = publication.dialogState;
    out.code = publication.code;
    out.reason = publication.reason;
    return out;
}

ui::QueuedCall WindowFrontEnd::toQueuedCall(const QueuedCallView& call) {
    ui::QueuedCall out;
    out.call = call.call;
    out.state = call.state;
    out.queued = call.queued;
    out.callerDisplay = call.callerDisplay;
    out.callerUri = call.callerUri;
    out.calledUri = call.calledUri;
    out.since = call.since;
    out.history = call.history;
    out.target = call.target;
    out.outcome = call.outcome;
    out.status = call.status;
    return out;
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
