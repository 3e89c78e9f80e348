#include "process_tools.h"

#include <QDeadlineTimer>
#include <QFile>
#include <QPair>
#include <QStandardPaths>
#include <QThread>

#include <sys/types.h>
#include <csignal>

namespace sb::itest {

namespace {

QByteArray commandLineOf(qint64 pid) {
    QFile file(QStringLiteral("/proc/%1/cmdline").arg(pid));
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

QList<qint64> childrenOf(qint64 pid) {
    QList<qint64> out;
    QFile file(QStringLiteral("/proc/%1/task/%1/children").arg(pid));
    if (!file.open(QIODevice::ReadOnly)) return out;
    for (const QByteArray& field : file.readAll().simplified().split(' ')) {
        bool ok = false;
        const qint64 child = field.toLongLong(&ok);
        if (ok) out << child << childrenOf(child);
    }
    return out;
}

}  // namespace

QString findProgram(const QString& name) {
    QString path = QStandardPaths::findExecutable(name);
    if (path.isEmpty()) {
        path = QStandardPaths::findExecutable(
            name, {QStringLiteral("/usr/sbin"), QStringLiteral("/usr/local/sbin"),
                   QStringLiteral("/sbin")});
    }
    return path;
}

void stopProcess(QProcess& process, std::chrono::milliseconds grace) {
    if (process.state() == QProcess::NotRunning) return;
    const qint64 pid = process.processId();
    // The children as they are now (PID and command line, so that a PID reused by
    // someone else later is never hit).
    QList<QPair<qint64, QByteArray>> children;
    for (const qint64 child : childrenOf(pid))
        children.append({child, commandLineOf(child)});
    process.terminate();  // SIGTERM
    if (!process.waitForFinished(static_cast<int>(grace.count()))) {
        process.kill();  // SIGKILL
        process.waitForFinished(5000);
    }
    // A child that outlived its parent (orphaned, still holding ports) goes too.
    const QDeadlineTimer deadline(std::chrono::milliseconds(2000));
    for (const auto& [child, commandLine] : children) {
        while (commandLineOf(child) == commandLine && !deadline.hasExpired())
            QThread::msleep(10);
        if (!commandLine.isEmpty() && commandLineOf(child) == commandLine)
            ::kill(static_cast<pid_t>(child), SIGKILL);
    }
}

QString runCommand(const QString& program, const QStringList& arguments,
                   std::chrono::milliseconds limit, QString* error) {
    QProcess process;
    process.start(program, arguments);
    if (!process.waitForStarted(5000)) {
        if (error)
            *error = QStringLiteral("%1 did not start: %2").arg(program, process.errorString());
        return {};
    }
    if (!process.waitForFinished(static_cast<int>(limit.count()))) {
        stopProcess(process, std::chrono::milliseconds(1000));
        if (error)
            *error = QStringLiteral("%1 did not finish in %2 ms").arg(program).arg(limit.count());
        return {};
    }
    const QString out = QString::fromUtf8(process.readAllStandardOutput());
    if (process.exitStatus() != QProcess::NormalExit || process.exitCode() != 0) {
        if (error) {
            *error = QStringLiteral("%1 %2 failed (exit %3): %4")
                         .arg(program, arguments.join(QLatin1Char(' ')))
                         .arg(process.exitCode())
                         .arg(QString::fromUtf8(process.readAllStandardError()) + out);
        }
        return out;
    }
    if (error) error->clear();
    return out;
}

QString tailOfFile(const QString& path, int lines) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) return QStringLiteral("(no %1)").arg(path);
    const QStringList all = QString::fromUtf8(file.readAll()).split(QLatin1Char('\n'));
    return all.mid(std::max<qsizetype>(0, all.size() - lines)).join(QLatin1Char('\n'));
}

}  // namespace sb::itest
