// Tests app/users_section.*: the [users] section of HA1 hashes read in file order, its
// problems (named by line, never quoting a value), and the atomic rewrite that keeps
// every other line and section.

#include <QCryptographicHash>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include "app/users_section.h"
#include "server/user_store.h"

using sb::app::formatUsersSection;
using sb::app::parseUsersSection;
using sb::app::saveUsersSection;
using sb::app::UserEntry;
using sb::app::UsersSection;

namespace {

const QByteArray kMd5 =
    QCryptographicHash::hash("201:switchboard.local:pw", QCryptographicHash::Md5).toHex();
const QByteArray kSha =
    QCryptographicHash::hash("201:switchboard.local:pw", QCryptographicHash::Sha256).toHex();

QByteArray readAll(const QString& path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) return {};
    return file.readAll();
}

bool writeAll(const QString& path, const QByteArray& text) {
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly)) return false;
    return file.write(text) == text.size();
}

}  // namespace

class TstUsersSection : public QObject {
    Q_OBJECT

private slots:
    void readsInFileOrder() {
        const UsersSection section = parseUsersSection(
            "[server]\nrealm = switchboard.local\n\n[users]\n; the office\n"
            "202 = md5:" +
            kMd5 + "\n201 = md5:" + kMd5 + " sha-256:" + kSha +
            "\n  203   =   SHA-256:" + kSha.toUpper() +
            "  \n"
            "a%3Db = md5:" +
            kMd5 + "\n[monitor]\n201 = Alice\n");
        QVERIFY2(section.problems.isEmpty(), qPrintable(section.problems.join('\n')));
        QCOMPARE(section.users.size(), std::size_t(4));
        QCOMPARE(section.users[0], (UserEntry{QStringLiteral("202"), kMd5, {}}));
        QCOMPARE(section.users[1], (UserEntry{QStringLiteral("201"), kMd5, kSha}));
        // Names of algorithms are case-insensitive; hex is normalised to lower case.
        QCOMPARE(section.users[2], (UserEntry{QStringLiteral("203"), {}, kSha}));
        QCOMPARE(section.users[3].user, QStringLiteral("a=b"));
    }

    void problemsNameTheLineAndNeverTheValue() {
        const UsersSection section = parseUsersSection("[users]\n201 = md5:" + kMd5 +
                                                       "\nno equals sign\n"
                                                       "a b = md5:" +
                                                       kMd5 +
                                                       "\n"
                                                       "201 = md5:" +
                                                       kMd5 +
                                                       "\n"
                                                       "204 = hunter2\n"
                                                       "205 = md5:" +
                                                       kMd5.left(31) +
                                                       "\n"
                                                       "206 = md5:" +
                                                       kMd5 + " md5:" + kMd5 +
                                                       "\n"
                                                       "207 =\n"
                                                       "208 = md5-sess:" +
                                                       kMd5 +
                                                       "\n"
                                                       "209 = sha-256:" +
                                                       kSha + "\n");
        QCOMPARE(section.users.size(), std::size_t(2));
        QCOMPARE(section.users[1].user, QStringLiteral("209"));
        QCOMPARE(section.problems.size(), 8);
        QVERIFY2(section.problems[0].startsWith(QStringLiteral("[users] line 3:")),
                 qPrintable(section.problems[0]));
        QVERIFY(section.problems[1].startsWith(QStringLiteral("[users] line 4:")));
        QVERIFY(section.problems[1].contains(QStringLiteral("a space")));
        QVERIFY(section.problems[2].contains(QStringLiteral("listed twice")));
        QVERIFY(section.problems[3].startsWith(QStringLiteral("[users] line 6:")));
        QVERIFY(section.problems[3].contains(QStringLiteral("only HA1 hashes")));
        QVERIFY(section.problems[4].contains(QStringLiteral("32 hex digits")));
        QVERIFY(section.problems[5].contains(QStringLiteral("two MD5 hashes")));
        QVERIFY(section.problems[6].contains(QStringLiteral("no HA1 hash")));
        QVERIFY(section.problems[7].startsWith(QStringLiteral("[users] line 10:")));
        // A password written here by mistake is not echoed into logs.
        for (const QString& problem : section.problems)
            QVERIFY2(!problem.contains(QStringLiteral("hunter2")), qPrintable(problem));
    }

    void formatRoundTrips() {
        const std::vector<UserEntry> users{{QStringLiteral("201"), kMd5, kSha},
                                           {QStringLiteral("202"), {}, kSha},
                                           {QStringLiteral("x=y;z"), kMd5, {}}};
        const QByteArray text = formatUsersSection(users);
        QVERIFY(text.startsWith("[users]\n201 = md5:" + kMd5 + " sha-256:" + kSha + "\n"));
        QVERIFY(text.contains("\n202 = sha-256:" + kSha + "\n"));
        QVERIFY(text.contains("\nx%3Dy%3Bz = md5:"));
        const UsersSection back = parseUsersSection(text);
        QVERIFY2(back.problems.isEmpty(), qPrintable(back.problems.join('\n')));
        QCOMPARE(back.users, users);
    }

    void saveKeepsOtherSectionsAndLines() {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("switchboard.ini"));
        QVERIFY(writeAll(path,
                         "; my console\n[server]\nrealm = switchboard.local\n\n[users]\n"
                         "201 = md5:" +
                             kMd5 +
                             "\n; old comment\n\n[monitor]\n"
                             "202 = Bob, Support\n201 = Alice\n"));
        const std::vector<UserEntry> users{{QStringLiteral("203"), kMd5, kSha},
                                           {QStringLiteral("201"), {}, kSha}};
        QVERIFY(saveUsersSection(path, users));
        const QByteArray text = readAll(path);
        QVERIFY2(text.startsWith("; my console\n[server]\nrealm = switchboard.local\n\n[users]\n"
                                 "203 = "),
                 text.constData());
        QVERIFY(text.contains("[monitor]\n202 = Bob, Support\n201 = Alice\n"));
        QVERIFY(!text.contains("old comment"));
        const UsersSection back = parseUsersSection(text);
        QVERIFY(back.problems.isEmpty());
        QCOMPARE(back.users, users);

        // Saving again changes nothing else; no temporary file is left behind.
        QVERIFY(saveUsersSection(path, users));
        QCOMPARE(readAll(path), text);
        QCOMPARE(QDir(dir.path()).entryList(QDir::Files), QStringList{"switchboard.ini"});
    }

    void saveAppendsWhenThereIsNoSection() {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("switchboard.ini"));
        QVERIFY(writeAll(path, "[sip]\nlisten = udp:127.0.0.1:0\n"));
        QVERIFY(saveUsersSection(path, {{QStringLiteral("201"), kMd5, {}}}));
        QCOMPARE(readAll(path),
                 "[sip]\nlisten = udp:127.0.0.1:0\n\n[users]\n201 = md5:" + kMd5 + "\n");
    }

    // A new file holds password equivalents: its owner alone may read it.
    void newFileIsPrivate() {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("new.ini"));
        QVERIFY(saveUsersSection(path, {{QStringLiteral("201"), kMd5, {}}}));
        QCOMPARE(readAll(path), "[users]\n201 = md5:" + kMd5 + "\n");
        const QFileDevice::Permissions permissions = QFile(path).permissions();
        QVERIFY(permissions.testFlag(QFileDevice::ReadOwner));
        QVERIFY(!permissions.testFlag(QFileDevice::ReadGroup));
        QVERIFY(!permissions.testFlag(QFileDevice::ReadOther));
    }

    void unwritablePathIsAnError() {
        QTemporaryDir dir;
        const auto saved = saveUsersSection(dir.filePath(QStringLiteral("missing/dir/x.ini")),
                                            {{QStringLiteral("201"), kMd5, {}}});
        QVERIFY(!saved);
        QVERIFY(saved.error().reason.contains(QStringLiteral("cannot write")));
    }
};

QTEST_APPLESS_MAIN(TstUsersSection)
#include "tst_users_section.moc"
