#include "app/users_section.h"

#include <QFile>
#include <QSet>

#include "app/ini_section.h"
#include "server/user_store.h"
#include "sip/digest.h"

namespace sb::app {

namespace {

// '=' would end the key and a leading ';' would make the line a comment: both are
// written as RFC 3261 escapes, which normalizeUserName() decodes again.
QString encodeKey(const QString& user) {
    QString out = user;
    out.replace(QLatin1Char('='), QLatin1String("%3D"));
    out.replace(QLatin1Char(';'), QLatin1String("%3B"));
    return out;
}

}  // namespace

UsersSection parseUsersSection(QByteArrayView iniText) {
    UsersSection out;
    QSet<QString> seen;
    bool inside = false;
    const QList<QByteArray> lines = iniText.toByteArray().split('\n');
    for (qsizetype n = 0; n < lines.size(); ++n) {
        const QByteArray line = lines.at(n).trimmed();
        if (isSectionHeader(line)) {
            inside = isSectionHeader(line, "users");
            continue;
        }
        if (!inside || line.isEmpty() || line.startsWith(';') || line.startsWith('#')) continue;
        const QString where = QStringLiteral("[users] line %1").arg(n + 1);
        const qsizetype equals = line.indexOf('=');
        if (equals < 0) {
            out.problems
                << QStringLiteral("%1: not of the form user = md5:<hex> sha-256:<hex>").arg(where);
            continue;
        }
        auto key = server::normalizeUserName(QString::fromUtf8(line.left(equals).trimmed()));
        if (!key) {
            out.problems << QStringLiteral("%1: %2").arg(where, key.error().reason);
            continue;
        }
        if (seen.contains(*key)) {
            out.problems << QStringLiteral("%1: user %2 is listed twice").arg(where, *key);
            continue;
        }

        UserEntry entry;
        entry.user = *key;
        QStringList lineProblems;
        const QList<QByteArray> items = line.mid(equals + 1).simplified().split(' ');
        for (qsizetype i = 0; i < items.size(); ++i) {
            const QByteArray& item = items.at(i);
            if (item.isEmpty()) continue;
            const qsizetype colon = item.indexOf(':');
            const auto algorithm = colon > 0 ? sip::digestAlgorithmFromName(item.left(colon))
                                             : std::optional<sip::DigestAlgorithm>{};
            // The item itself is never quoted: it may be a password written here by mistake.
            if (!algorithm || sip::isSessionAlgorithm(*algorithm)) {
                lineProblems << QStringLiteral(
                                    "item %1 of user %2 is neither md5:<32 hex digits> nor "
                                    "sha-256:<64 hex digits> (only HA1 hashes belong here; "
                                    "add users with switchboard --config FILE --add-user NAME)")
                                    .arg(i + 1)
                                    .arg(*key);
                continue;
            }
            QByteArray& target =
                *algorithm == sip::DigestAlgorithm::Md5 ? entry.ha1Md5 : entry.ha1Sha256;
            if (!target.isEmpty()) {
                lineProblems << QStringLiteral("user %1 has two %2 hashes")
                                    .arg(*key,
                                         QString::fromLatin1(sip::digestAlgorithmName(*algorithm)));
                continue;
            }
            const QByteArray hash = item.mid(colon + 1).toLower();
            if (auto valid = server::checkHa1(hash, *algorithm); !valid) {
                lineProblems << QStringLiteral("user %1: %2").arg(*key, valid.error().reason);
                continue;
            }
            target = hash;
        }
        if (lineProblems.isEmpty() && entry.ha1Md5.isEmpty() && entry.ha1Sha256.isEmpty())
            lineProblems
                << QStringLiteral("user %1 has no HA1 hash (md5:<hex> or sha-256:<hex>)").arg(*key);
        if (!lineProblems.isEmpty()) {
            for (const QString& problem : lineProblems)
                out.problems << QStringLiteral("%1: %2").arg(where, problem);
            continue;
        }
        seen.insert(*key);
        out.users.push_back(std::move(entry));
    }
    return out;
}

QByteArray formatUsersSection(const std::vector<UserEntry>& users) {
    QByteArray text = "[users]\n";
    for (const UserEntry& entry : users) {
        text += encodeKey(entry.user).toUtf8() + " =";
        if (!entry.ha1Md5.isEmpty()) text += " md5:" + entry.ha1Md5;
        if (!entry.ha1Sha256.isEmpty()) text += " sha-256:" + entry.ha1Sha256;
        text += '\n';
    }
    return text;
}

Result<void> saveUsersSection(const QString& path, const std::vector<UserEntry>& users) {
    // HA1 hashes answer challenges of this realm as well as the password would: a new
    // file is for its owner only (an existing one keeps the permissions it was given).
    return replaceIniSection(path, "users", formatUsersSection(users), NewFileAccess::OwnerOnly);
}

}  // namespace sb::app
