#include "switchboard_process.h"

#include <QDeadlineTimer>
#include <QFile>
#include <QJsonDocument>
#include <QTest>

#include "process_tools.h"

namespace sb::itest {

namespace {

using namespace std::chrono_literals;

}  // namespace

SwitchboardProcess::SwitchboardProcess() {
    QObject::connect(&m_process, &QProcess::readyReadStandardOutput, [this] { readOutput(); });
    QObject::connect(&m_process, &QProcess::readyReadStandardError,
                     [this] { m_stderr += QString::fromUtf8(m_process.readAllStandardError()); });
}

SwitchboardProcess::~SwitchboardProcess() {
    stop();
}

QString SwitchboardProcess::binary() {
    const QString fromEnvironment = qEnvironmentVariable("SB_SWITCHBOARD");
    return fromEnvironment.isEmpty() ? QStringLiteral(SB_SWITCHBOARD_BINARY) : fromEnvironment;
}

Result<void> SwitchboardProcess::start(const QString& ini, const QStringList& extraArguments) {
    if (auto written = writeConfig(ini); !written) return written;
    return launch(extraArguments);
}

Result<void> SwitchboardProcess::writeConfig(const QString& ini) {
    stop();
    m_dir = std::make_unique<QTemporaryDir>();
    if (!m_dir->isValid()) return fail(ErrorKind::Io, QStringLiteral("no temporary directory"));
    const QString path = configPath();
    QFile config(path);
    if (!config.open(QIODevice::WriteOnly))
        return fail(ErrorKind::Io, QStringLiteral("cannot write %1").arg(path));
    config.write(ini.toUtf8());
    config.close();
    return {};
}

Result<void> SwitchboardProcess::addUser(const QString& user, const QByteArray& password) {
    if (!m_dir) return fail(ErrorKind::Io, QStringLiteral("addUser before writeConfig"));
    QProcess admin;
    admin.setProcessChannelMode(QProcess::MergedChannels);
    admin.start(binary(),
                {QStringLiteral("--config"), configPath(), QStringLiteral("--add-user"), user});
    if (!admin.waitForStarted(5000)) {
        return fail(ErrorKind::Io,
                    QStringLiteral("%1 did not start: %2").arg(binary(), admin.errorString()));
    }
    admin.write(password + '\n');
    admin.closeWriteChannel();
    if (!admin.waitForFinished(10000)) {
        stopProcess(admin, 1s);
        return fail(ErrorKind::Timeout, QStringLiteral("--add-user %1 did not end").arg(user));
    }
    const QString output = QString::fromUtf8(admin.readAll());
    if (admin.exitStatus() != QProcess::NormalExit || admin.exitCode() != 0) {
        return fail(ErrorKind::Io, QStringLiteral("--add-user %1 failed (exit %2): %3")
                                       .arg(user)
                                       .arg(admin.exitCode())
                                       .arg(output));
    }
    return {};
}

Result<void> SwitchboardProcess::launch(const QStringList& extraArguments) {
    if (!m_dir) return fail(ErrorKind::Io, QStringLiteral("launch before writeConfig"));
    stop();
    m_events.clear();
    m_consumed = 0;
    m_pending.clear();
    m_stderr.clear();
    m_process.start(binary(), QStringList{QStringLiteral("--headless"), QStringLiteral("--config"),
                                          configPath(), QStringLiteral("--sip-trace"), traceFile(),
                                          QStringLiteral("--verbose")} +
                                  extraArguments);
    if (!m_process.waitForStarted(5000)) {
        return fail(ErrorKind::Io,
                    QStringLiteral("%1 did not start: %2").arg(binary(), m_process.errorString()));
    }
    if (!waitForEvent(QStringLiteral("started"), 10s)) {
        return fail(ErrorKind::Timeout,
                    QStringLiteral("no \"started\" event within 10 s\n%1").arg(diagnostics()));
    }
    return {};
}

QString SwitchboardProcess::configPath() const {
    return m_dir ? m_dir->filePath(QStringLiteral("switchboard.ini")) : QString();
}

void SwitchboardProcess::readOutput() {
    m_pending += m_process.readAllStandardOutput();
    qsizetype newline;
    while ((newline = m_pending.indexOf('\n')) >= 0) {
        const QByteArray line = m_pending.left(newline);
        m_pending.remove(0, newline + 1);
        QJsonParseError error;
        const QJsonDocument document = QJsonDocument::fromJson(line, &error);
        if (error.error != QJsonParseError::NoError || !document.isObject()) {
            // Not one JSON object per line: record it so that the test fails visibly.
            m_events.push_back(QJsonObject{{QStringLiteral("event"), QStringLiteral("<not json>")},
                                           {QStringLiteral("line"), QString::fromUtf8(line)}});
            continue;
        }
        m_events.push_back(document.object());
    }
}

std::optional<QJsonObject> SwitchboardProcess::waitForEvent(const Predicate& match,
                                                            std::chrono::milliseconds limit) {
    const QDeadlineTimer deadline(limit);
    for (;;) {
        for (std::size_t i = m_consumed; i < m_events.size(); ++i) {
            if (match(m_events[i])) {
                m_consumed = i + 1;
                return m_events[i];
            }
        }
        if (deadline.hasExpired()) return std::nullopt;
        if (m_process.state() == QProcess::NotRunning) {
            readOutput();
            // Nothing more will come once it has ended and everything is read.
            bool found = false;
            for (std::size_t i = m_consumed; i < m_events.size(); ++i)
                found |= match(m_events[i]);
            if (!found) return std::nullopt;
            continue;
        }
        QTest::qWait(10);
    }
}

std::optional<QJsonObject> SwitchboardProcess::waitForEvent(const QString& event,
                                                            std::chrono::milliseconds limit) {
    return waitForEvent(
        [event](const QJsonObject& o) {
            return o.value(QStringLiteral("event")).toString() == event;
        },
        limit);
}

std::optional<QJsonObject> SwitchboardProcess::waitForRegistration(
    const QString& state, std::chrono::milliseconds limit) {
    return waitForEvent(
        [state](const QJsonObject& o) {
            return o.value(QStringLiteral("event")).toString() == QLatin1String("registration") &&
                   o.value(QStringLiteral("state")).toString() == state;
        },
        limit);
}

void SwitchboardProcess::send(const QJsonObject& command) {
    sendRaw(QJsonDocument(command).toJson(QJsonDocument::Compact));
}

void SwitchboardProcess::sendRaw(const QByteArray& line) {
    m_process.write(line + '\n');
    m_process.waitForBytesWritten(1000);
}

void SwitchboardProcess::closeInput() {
    m_process.closeWriteChannel();
}

void SwitchboardProcess::terminate() {
    m_process.terminate();
}

std::optional<int> SwitchboardProcess::waitForExit(std::chrono::milliseconds limit) {
    const QDeadlineTimer deadline(limit);
    while (m_process.state() != QProcess::NotRunning && !deadline.hasExpired())
        QTest::qWait(10);
    if (m_process.state() != QProcess::NotRunning) return std::nullopt;
    readOutput();
    m_stderr += QString::fromUtf8(m_process.readAllStandardError());
    if (m_process.exitStatus() != QProcess::NormalExit) return -1;
    return m_process.exitCode();
}

void SwitchboardProcess::stop() {
    stopProcess(m_process, 6s);
}

QString SwitchboardProcess::traceFile() const {
    return m_dir ? m_dir->filePath(QStringLiteral("sip-trace.log")) : QString();
}

QString SwitchboardProcess::sipTrace() const {
    QFile file(traceFile());
    return file.open(QIODevice::ReadOnly) ? QString::fromUtf8(file.readAll()) : QString();
}

QString SwitchboardProcess::diagnostics() const {
    QStringList events;
    for (const QJsonObject& event : m_events)
        events << QString::fromUtf8(QJsonDocument(event).toJson(QJsonDocument::Compact));
    return QStringLiteral("events:\n%1\nstderr (end):\n%2\nSIP trace (end):\n%3")
        .arg(events.join(QLatin1Char('\n')), m_stderr.right(4000), tailOfFile(traceFile(), 60));
}

QString AccountIni::toIni() const {
    QString ini = QStringLiteral("[account]\naor = %1\n").arg(aor);
    if (!password.isEmpty()) ini += QStringLiteral("password = \"%1\"\n").arg(password);
    if (!authUser.isEmpty()) ini += QStringLiteral("auth_user = %1\n").arg(authUser);
    if (!proxy.isEmpty()) ini += QStringLiteral("proxy = %1\n").arg(proxy);
    ini += QStringLiteral("transport = %1\nexpires = %2\n").arg(transport).arg(expires);
    ini += QStringLiteral("[sip]\nlisten = %1\n").arg(listen);
    if (t1Ms > 0) ini += QStringLiteral("t1_ms = %1\n").arg(t1Ms);
    if (t2Ms > 0) ini += QStringLiteral("t2_ms = %1\n").arg(t2Ms);
    return ini;
}

}  // namespace sb::itest
