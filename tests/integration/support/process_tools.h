#pragma once

#include <QProcess>
#include <QString>
#include <QStringList>

#include <chrono>

namespace sb::itest {

// Finds a program on PATH or in the sbin directories (kamailio lives in /usr/sbin,
// which is not on every user's PATH). Empty when it is not installed.
QString findProgram(const QString& name);

// Stops a process we started: SIGTERM, then SIGKILL to it and to the children it had
// (by PID, read from /proc) when it has not ended within `grace`.
void stopProcess(QProcess& process, std::chrono::milliseconds grace);

// Runs a short command to completion (bounded by `limit`); returns its stdout, or the
// reason it failed in `error`.
QString runCommand(const QString& program, const QStringList& arguments,
                   std::chrono::milliseconds limit, QString* error = nullptr);

// The last `lines` lines of a text file, for failure messages.
QString tailOfFile(const QString& path, int lines = 40);

}  // namespace sb::itest
