#include "app/headless_front_end.h"

#include "app/account_session.h"
#include "base/log.h"

namespace sb::app {

HeadlessFrontEnd::HeadlessFrontEnd(AccountSession& session, QIODevice& out, QObject* parent)
    : QObject(parent), m_session(session), m_out(out) {
    connect(&m_session, &AccountSession::registrationChanged, this,
            [this](const RegistrationStatus& status) { write(registrationEvent(status)); });
    connect(&m_session, &AccountSession::stopped, this, [this] { emit finished(0); });
}

void HeadlessFrontEnd::announceStart(const QString& version) {
    write(startedEvent(version, m_session.listenAddresses()));
}

void HeadlessFrontEnd::handleLine(const QByteArray& line) {
    if (line.trimmed().isEmpty()) return;
    const ParsedCommand command = parseCommand(line);
    if (!command.kind) {
        write(errorEvent(command.id, command.error));
        return;
    }
    switch (*command.kind) {
        case CommandKind::Quit:
            write(ackEvent(command.id));
            quit();
            break;
    }
}

void HeadlessFrontEnd::requestQuit() {
    quit();
}

void HeadlessFrontEnd::quit() {
    if (m_quitting) return;
    m_quitting = true;
    m_session.stop();
}

void HeadlessFrontEnd::write(const QJsonObject& event) {
    const QByteArray line = toLine(event);
    if (m_out.write(line) != line.size())
        qCWarning(lcApp) << "cannot write headless event:" << m_out.errorString();
}

}  // namespace sb::app
