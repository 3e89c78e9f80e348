#include "sipp_process.h"

#include <QDeadlineTimer>
#include <QDir>
#include <QFile>

#include "free_port.h"
#include "process_tools.h"

namespace sb::itest {

namespace {

using namespace std::chrono_literals;

QString readAll(const QString& path) {
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? QString::fromUtf8(file.readAll()) : QString();
}

}  // namespace

SippProcess::SippProcess() = default;

SippProcess::~SippProcess() {
    stop();
}

bool SippProcess::isRunning() const {
    return m_process.state() != QProcess::NotRunning;
}

Result<void> SippProcess::start(const Options& options) {
    stop();
    const QString sipp = findProgram(QStringLiteral("sipp"));
    const QString timeout = findProgram(QStringLiteral("timeout"));
    if (sipp.isEmpty()) {
        return fail(ErrorKind::Io, QStringLiteral("sipp not found: install the Debian package "
                                                  "sip-tester (scripts/test.sh does)"));
    }
    if (timeout.isEmpty())
        return fail(ErrorKind::Io, QStringLiteral("coreutils timeout not found"));
    m_dir = std::make_unique<QTemporaryDir>();
    if (!m_dir->isValid()) return fail(ErrorKind::Io, QStringLiteral("no temporary directory"));

    const QString scenario =
        QDir::isAbsolutePath(options.scenario)
            ? options.scenario
            : QStringLiteral(SB_INTEGRATION_SOURCE_DIR "/sipp/") + options.scenario;
    m_port = options.localPort != 0 ? options.localPort : freePort();
    const bool tcp = options.transport == Transport::Tcp;
    const qint64 limit = options.timeout.count();

    QStringList args = {QStringLiteral("--kill-after=5"), QString::number(limit + 5), sipp};
    if (!options.remote.isEmpty()) args << options.remote;
    args << QStringLiteral("-sf") << scenario                    //
         << QStringLiteral("-i") << QStringLiteral("127.0.0.1")  //
         << QStringLiteral("-p") << QString::number(m_port)      //
         << QStringLiteral("-t") << (tcp ? QStringLiteral("t1") : QStringLiteral("u1"))
         << QStringLiteral("-m") << QString::number(options.calls)          //
         << QStringLiteral("-timeout") << QStringLiteral("%1s").arg(limit)  //
         << QStringLiteral("-timeout_error") << QStringLiteral("-nostdin");
    if (options.traceMessages) {
        args << QStringLiteral("-trace_msg") << QStringLiteral("-message_file")
             << m_dir->filePath(QStringLiteral("messages.log"));
    }
    args << QStringLiteral("-trace_err") << QStringLiteral("-error_file")
         << m_dir->filePath(QStringLiteral("errors.log"))  //
         << options.extraArguments;

    m_process.setProcessChannelMode(QProcess::MergedChannels);
    m_process.setStandardOutputFile(m_dir->filePath(QStringLiteral("screen.log")));
    m_process.setStandardInputFile(QProcess::nullDevice());
    m_process.setWorkingDirectory(m_dir->path());
    m_process.start(timeout, args);
    if (!m_process.waitForStarted(5000))
        return fail(ErrorKind::Io,
                    QStringLiteral("sipp did not start: %1").arg(m_process.errorString()));

    if (options.remote.isEmpty()) {
        // A UAS is ready once its socket is bound.
        const QDeadlineTimer deadline(10s);
        while (!deadline.hasExpired() && isRunning()) {
            if (tcp ? tcpListening(m_port) : udpListening(m_port)) return {};
            m_process.waitForFinished(20);
        }
        const QString why = output();
        stop();
        return fail(ErrorKind::Io,
                    QStringLiteral("sipp did not listen on port %1:\n%2").arg(m_port).arg(why));
    }
    return {};
}

int SippProcess::waitForFinished(std::chrono::milliseconds limit) {
    if (isRunning() && !m_process.waitForFinished(static_cast<int>(limit.count()))) return -1;
    return m_process.exitStatus() == QProcess::NormalExit ? m_process.exitCode() : -1;
}

void SippProcess::stop() {
    stopProcess(m_process, 3s);
}

QString SippProcess::messages() const {
    return m_dir ? readAll(m_dir->filePath(QStringLiteral("messages.log"))) : QString();
}

QString SippProcess::output() const {
    if (!m_dir) return {};
    return readAll(m_dir->filePath(QStringLiteral("screen.log"))) +
           readAll(m_dir->filePath(QStringLiteral("errors.log")));
}

int SippProcess::count(const QString& direction, const QString& startLine) const {
    // -trace_msg writes "UDP message received [N] bytes :" / "UDP message sent (N bytes):",
    // a blank line, then the message.
    const QStringList lines = messages().split(QLatin1Char('\n'));
    int found = 0;
    for (qsizetype i = 0; i + 2 < lines.size(); ++i) {
        if (lines[i].contains(QStringLiteral(" message ") + direction) &&
            lines[i + 2].startsWith(startLine)) {
            ++found;
        }
    }
    return found;
}

int SippProcess::countReceived(const QString& startLine) const {
    return count(QStringLiteral("received"), startLine);
}

int SippProcess::countSent(const QString& startLine) const {
    return count(QStringLiteral("sent"), startLine);
}

}  // namespace sb::itest
