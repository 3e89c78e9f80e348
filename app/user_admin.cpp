#include "app/user_admin.h"

#include <QFile>
#include <QSettings>

#include <algorithm>

#include "app/users_section.h"
#include "server/user_store.h"
#include "sip/digest.h"

namespace sb::app {

namespace {

constexpr auto kDefaultRealm = "switchboard.local";

// The [users] entries of the file at `path` (none when it does not exist yet). Refuses a
// section with problems: rewriting it would silently drop the lines that are wrong.
Result<std::vector<UserEntry>> readUsers(const QString& path) {
    QFile file(path);
    if (!file.exists()) return std::vector<UserEntry>{};
    if (!file.open(QIODevice::ReadOnly))
        return fail(ErrorKind::Config,
                    QStringLiteral("cannot read %1: %2").arg(path, file.errorString()));
    UsersSection section = parseUsersSection(file.readAll());
    if (!section.problems.isEmpty())
        return fail(ErrorKind::Config, QStringLiteral("%1 has problems to fix first:\n%2")
                                           .arg(path, section.problems.join(QLatin1Char('\n'))));
    return std::move(section.users);
}

void wipe(QByteArray& secret) {
    secret.fill('\0');
    secret.clear();
}

}  // namespace

QString configuredRealm(const QString& configPath) {
    if (QFile::exists(configPath)) {
        const QSettings settings(configPath, QSettings::IniFormat);
        const QString realm = settings.value(QStringLiteral("server/realm")).toString().trimmed();
        if (!realm.isEmpty()) return realm;
        // As the server resolves it (app/config.cpp): the primary domain by default.
        const QStringList domains = settings.value(QStringLiteral("server/domain")).toStringList();
        if (!domains.isEmpty() && !domains.constFirst().trimmed().isEmpty())
            return domains.constFirst().trimmed().toLower();
    }
    return QString::fromLatin1(kDefaultRealm);
}

Result<void> addUser(const QString& configPath, const QString& user, QByteArrayView password,
                     const QString& realm) {
    // The store computes the hashes and validates the name and the password.
    server::UserStore store;
    store.setRealm(realm);
    if (auto added = store.addUser(user, password); !added) return fail(added.error());
    const QString key = store.users().constFirst();

    auto users = readUsers(configPath);
    if (!users) return fail(users.error());
    UserEntry entry{key, *store.ha1(key, sip::DigestAlgorithm::Md5),
                    *store.ha1(key, sip::DigestAlgorithm::Sha256)};
    auto same = std::find_if(users->begin(), users->end(),
                             [&](const UserEntry& e) { return e.user == key; });
    if (same != users->end())
        *same = std::move(entry);
    else
        users->push_back(std::move(entry));
    return saveUsersSection(configPath, *users);
}

Result<void> removeUser(const QString& configPath, const QString& user) {
    auto key = server::normalizeUserName(user);
    if (!key) return fail(key.error());
    auto users = readUsers(configPath);
    if (!users) return fail(users.error());
    auto same = std::find_if(users->begin(), users->end(),
                             [&](const UserEntry& e) { return e.user == *key; });
    if (same == users->end())
        return fail(ErrorKind::Config,
                    QStringLiteral("user %1 is not in %2").arg(*key, configPath));
    users->erase(same);
    return saveUsersSection(configPath, *users);
}

int runAddUser(const QString& configPath, const QString& user, QIODevice& passwordInput,
               QTextStream& out, QTextStream& err) {
    auto report = [&](const QString& why) {
        err << QStringLiteral("switchboard: cannot add user %1: %2\n").arg(user, why);
        err.flush();
        return 1;
    };
    if (configPath.isEmpty())
        return report(QStringLiteral("--add-user needs --config FILE to write to"));
    if (!passwordInput.isReadable())
        return report(QStringLiteral("cannot read the password from standard input"));

    // One line, and at most this much of it: the rest of the input is not ours.
    QByteArray password = passwordInput.readLine(kMaxPasswordLength + 3);
    if (password.endsWith('\n')) password.chop(1);
    if (password.endsWith('\r')) password.chop(1);
    if (password.isEmpty()) {
        return report(
            QStringLiteral("no password on standard input (give it as one line, e.g. "
                           "echo 'secret' | switchboard --config FILE --add-user NAME)"));
    }
    if (password.size() > kMaxPasswordLength) {
        wipe(password);
        return report(
            QStringLiteral("the password is longer than %1 bytes").arg(kMaxPasswordLength));
    }

    bool existed = false;
    if (auto key = server::normalizeUserName(user)) {
        if (auto users = readUsers(configPath)) {
            existed = std::any_of(users->begin(), users->end(),
                                  [&](const UserEntry& e) { return e.user == *key; });
        }
    }
    const Result<void> added = addUser(configPath, user, password, configuredRealm(configPath));
    wipe(password);
    if (!added) return report(added.error().reason);
    const QString name = server::normalizeUserName(user).value_or(user);
    out << (existed ? QStringLiteral("user %1 updated in %2 (HA1 only)\n")
                    : QStringLiteral("user %1 added to %2 (HA1 only)\n"))
               .arg(name, configPath);
    out.flush();
    return 0;
}

int runRemoveUser(const QString& configPath, const QString& user, QTextStream& out,
                  QTextStream& err) {
    if (configPath.isEmpty()) {
        err << QStringLiteral(
                   "switchboard: cannot remove user %1: --remove-user needs "
                   "--config FILE\n")
                   .arg(user);
        err.flush();
        return 1;
    }
    if (const Result<void> removed = removeUser(configPath, user); !removed) {
        err << QStringLiteral("switchboard: cannot remove user %1: %2\n")
                   .arg(user, removed.error().reason);
        err.flush();
        return 1;
    }
    out << QStringLiteral("user %1 removed from %2\n")
               .arg(server::normalizeUserName(user).value_or(user), configPath);
    out.flush();
    return 0;
}

}  // namespace sb::app
