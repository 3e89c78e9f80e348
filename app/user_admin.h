#pragma once

#include <QByteArrayView>
#include <QIODevice>
#include <QString>
#include <QTextStream>

#include "base/result.h"

namespace sb::app {

// The administrator's commands that provision users of the built-in server without
// editing the file by hand:
//
//   echo 'secret' | switchboard --config FILE --add-user 201
//   switchboard --config FILE --remove-user 201
//
// The password is read from standard input (so it is neither in the process list nor
// in the shell history) and only its HA1 hashes for the configured realm are written
// to the [users] section (see app/users_section.h). Every other line stays as it was.

constexpr int kMaxPasswordLength = 1024;  // bytes of the one line read

// [server] realm of the configuration at `configPath`, "switchboard.local" when it is
// missing or empty (or the file does not exist).
QString configuredRealm(const QString& configPath);

// Adds `user` with HA1 hashes of `password` in `realm`, or replaces the user's line
// (keeping its place). Fails for an empty password, an invalid user name, a [users]
// section with problems (rewriting it would drop the bad lines unseen) or a file that
// cannot be written.
Result<void> addUser(const QString& configPath, const QString& user, QByteArrayView password,
                     const QString& realm);

// Removes `user`'s line; fails when the user is not there.
Result<void> removeUser(const QString& configPath, const QString& user);

// --add-user: reads ONE line from `passwordInput` as the password (the line break is not
// part of it), takes the realm from the configuration, writes, and reports on `out`
// ("user 201 added to FILE (HA1 only)") or `err`. Returns the process exit code: 0 on
// success, 1 on any error.
int runAddUser(const QString& configPath, const QString& user, QIODevice& passwordInput,
               QTextStream& out, QTextStream& err);

// --remove-user: the same for removing; 0 on success, 1 on any error.
int runRemoveUser(const QString& configPath, const QString& user, QTextStream& out,
                  QTextStream& err);

}  // namespace sb::app
