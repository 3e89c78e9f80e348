#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QString>
#include <QStringList>

#include <vector>

#include "base/result.h"

namespace sb::app {

// The [users] section of the configuration: the users of the built-in server, one per
// line, in file order (QSettings would sort the keys, so this reads the text):
//
//   [users]
//   201 = md5:<32 hex digits> sha-256:<64 hex digits>
//   202 = md5:<32 hex digits>
//
// The key is the user name (an RFC 3261 user part; '=' and ';' are written %3D and %3B
// here). The value holds only HA1 hashes (RFC 7616 §3.4.2: H(user ":" realm ":"
// password)), never a password: `switchboard --config FILE --add-user NAME` computes them
// from a password read on standard input. Either hash may be left out (that algorithm is
// then not offered to the user), not both.
//
// An HA1 hashes the realm in: the realm is [server] realm (default switchboard.local),
// and when it changes every user must be provisioned again with its password.
struct UserEntry {
    QString user;          // the user key, as server::normalizeUserName gives it
    QByteArray ha1Md5;     // lower-case hex, empty when absent
    QByteArray ha1Sha256;  // lower-case hex, empty when absent

    bool operator==(const UserEntry& other) const = default;
};

struct UsersSection {
    std::vector<UserEntry> users;
    // "[users] line 4: ..." — one per bad line. Never quotes a value: a line that holds
    // a password by mistake must not spread it into logs.
    QStringList problems;
};

UsersSection parseUsersSection(QByteArrayView iniText);

// The section's text for `users`, header line included.
QByteArray formatUsersSection(const std::vector<UserEntry>& users);

// Rewrites the [users] section of the INI file at `path` (created, readable by its owner
// only, when missing) and keeps every other line as it was; written atomically
// (QSaveFile), so a crash leaves either the old file or the new one.
Result<void> saveUsersSection(const QString& path, const std::vector<UserEntry>& users);

}  // namespace sb::app
