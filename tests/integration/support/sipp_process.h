#pragma once

#include <QProcess>
#include <QString>
#include <QStringList>
#include <QTemporaryDir>

#include <chrono>
#include <memory>

#include "base/result.h"

namespace sb::itest {

// One sipp run (Debian sip-tester), bounded three ways: -m (calls), -timeout with
// -timeout_error (sipp ignores -timeout while a call is open without it), and coreutils
// `timeout` around the process. Every message is logged (-trace_msg) for assertions.
class SippProcess {
public:
    enum class Transport { Udp, Tcp };
    struct Options {
        QString scenario;  // file name under tests/integration/sipp/, or a path
        Transport transport = Transport::Udp;
        quint16 localPort = 0;  // 0: a free port
        QString remote;         // "127.0.0.1:5060" for a UAC; empty for a UAS
        int calls = 1;          // -m
        std::chrono::seconds timeout{20};
        QStringList extraArguments;  // -s, -au, -ap, -set ...
        // -trace_msg: every message logged (messages(), countReceived(), ...). A phone
        // under load that must answer at once can go without: sipp writes and flushes
        // the log between two sends.
        bool traceMessages = true;
    };

    SippProcess();
    ~SippProcess();
    SippProcess(const SippProcess&) = delete;
    SippProcess& operator=(const SippProcess&) = delete;

    // Starts sipp; waits (bounded) until its socket is bound when it is a UAS.
    Result<void> start(const Options& options);
    // Waits for the end; returns the exit status (0: every call passed), -1 on timeout.
    int waitForFinished(std::chrono::milliseconds limit);
    void stop();

    quint16 port() const { return m_port; }
    bool isRunning() const;
    // Every message sipp sent and received, and its screen/error output.
    QString messages() const;
    QString output() const;
    // How many times a message starting with `startLine` ("REGISTER", "SIP/2.0 200")
    // was received (or sent).
    int countReceived(const QString& startLine) const;
    int countSent(const QString& startLine) const;

private:
    int count(const QString& direction, const QString& startLine) const;

    std::unique_ptr<QTemporaryDir> m_dir;
    QProcess m_process;
    quint16 m_port = 0;
};

}  // namespace sb::itest
