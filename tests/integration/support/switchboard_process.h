#pragma once

#include <QJsonObject>
#include <QProcess>
#include <QString>
#include <QStringList>
#include <QTemporaryDir>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "base/result.h"

namespace sb::itest {

// `switchboard --headless` under test: writes its configuration, starts it with a SIP
// trace, collects the JSON events it prints and sends it commands (docs/headless.md).
class SwitchboardProcess {
public:
    using Predicate = std::function<bool(const QJsonObject&)>;

    SwitchboardProcess();
    ~SwitchboardProcess();
    SwitchboardProcess(const SwitchboardProcess&) = delete;
    SwitchboardProcess& operator=(const SwitchboardProcess&) = delete;

    // The binary: $SB_SWITCHBOARD if set, else the one this build made.
    static QString binary();

    // Starts `switchboard --headless --config <ini> --sip-trace <file> --verbose` and waits
    // for its "started" event (bounded).
    Result<void> start(const QString& ini, const QStringList& extraArguments = {});

    // In steps, for the built-in server: writeConfig() writes the configuration into a
    // fresh temporary directory (bindings.json is kept beside it), addUser() provisions
    // a user in it (`switchboard --config FILE --add-user USER`, password on stdin, only
    // the HA1 is stored), launch() starts it on that file. A second launch() after the
    // process ended (or stop()) is a restart on the same files: the events start again
    // from empty, the SIP trace goes on.
    Result<void> writeConfig(const QString& ini);
    Result<void> addUser(const QString& user, const QByteArray& password);
    Result<void> launch(const QStringList& extraArguments = {});
    QString configPath() const;

    // Waits (bounded, running the event loop) for an event, looking at events not yet
    // consumed by an earlier wait; returns it and consumes it and those before it.
    std::optional<QJsonObject> waitForEvent(const Predicate& match,
                                            std::chrono::milliseconds limit);
    std::optional<QJsonObject> waitForEvent(const QString& event, std::chrono::milliseconds limit);
    // A "registration" event with the given state.
    std::optional<QJsonObject> waitForRegistration(const QString& state,
                                                   std::chrono::milliseconds limit);

    void send(const QJsonObject& command);
    void sendRaw(const QByteArray& line);
    void closeInput();
    // SIGTERM, as a service manager stops it.
    void terminate();
    // Exit status after a bounded wait; nullopt when it is still running.
    std::optional<int> waitForExit(std::chrono::milliseconds limit);
    void stop();

    const std::vector<QJsonObject>& events() const { return m_events; }
    QString standardError() const { return m_stderr; }
    QString sipTrace() const;
    QString traceFile() const;
    // For failure messages: events, stderr and the end of the trace.
    QString diagnostics() const;

private:
    void readOutput();

    std::unique_ptr<QTemporaryDir> m_dir;
    QProcess m_process;
    QByteArray m_pending;
    std::vector<QJsonObject> m_events;
    std::size_t m_consumed = 0;
    QString m_stderr;
};

// Headless configuration text for an account (the INI keys of docs/configuration).
struct AccountIni {
    QString aor;
    QString password;
    QString authUser;
    QString proxy;
    QString transport = QStringLiteral("udp");
    int expires = 3600;
    QString listen = QStringLiteral("udp:127.0.0.1:0, tcp:127.0.0.1:0");
    int t1Ms = 0;  // 0: default
    int t2Ms = 0;

    QString toIni() const;
};

}  // namespace sb::itest
