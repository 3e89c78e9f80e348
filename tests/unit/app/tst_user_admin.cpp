// Tests app/user_admin.*: the --add-user / --remove-user logic with the password read
// from a QBuffer, the realm taken from [server] realm, only HA1 hashes written, and the
// error messages for what can go wrong.

#include <QBuffer>
#include <QCryptographicHash>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>
#include <QTextStream>

#include "app/user_admin.h"
#include "app/users_section.h"

using sb::app::configuredRealm;
using sb::app::parseUsersSection;
using sb::app::runAddUser;
using sb::app::runRemoveUser;
using sb::app::UsersSection;

namespace {

QByteArray md5Hex(const QByteArray& data) {
    return QCryptographicHash::hash(data, QCryptographicHash::Md5).toHex();
}

QByteArray sha256Hex(const QByteArray& data) {
    return QCryptographicHash::hash(data, QCryptographicHash::Sha256).toHex();
}

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

// Runs --add-user with `input` on a buffer as standard input.
struct Run {
    int code = -1;
    QString out;
    QString err;
};

Run addUser(const QString& path, const QString& user, const QByteArray& input) {
    QByteArray bytes = input;
    QBuffer buffer(&bytes);
    buffer.open(QIODevice::ReadOnly);
    Run run;
    QTextStream out(&run.out);
    QTextStream err(&run.err);
    run.code = runAddUser(path, user, buffer, out, err);
    return run;
}

Run removeUser(const QString& path, const QString& user) {
    Run run;
    QTextStream out(&run.out);
    QTextStream err(&run.err);
    run.code = runRemoveUser(path, user, out, err);
    return run;
}

}  // namespace

class TstUserAdmin : public QObject {
    Q_OBJECT

private slots:
    void addsHa1OnlyWithTheConfiguredRealm() {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("switchboard.ini"));
        QVERIFY(writeAll(path, "[server]\nrealm = office.example\n\n[monitor]\n201 = Alice\n"));
        const Run run = addUser(path, QStringLiteral("201"), "correct horse\nnext line\n");
        QCOMPARE(run.code, 0);
        QCOMPARE(run.out, QStringLiteral("user 201 added to %1 (HA1 only)\n").arg(path));
        QVERIFY(run.err.isEmpty());

        const QByteArray text = readAll(path);
        QVERIFY(!text.contains("correct horse"));  // never the password
        QVERIFY(!text.contains("next line"));      // one line only
        QVERIFY(text.startsWith("[server]\nrealm = office.example\n\n[monitor]\n201 = Alice\n"));
        const UsersSection section = parseUsersSection(text);
        QVERIFY(section.problems.isEmpty());
        QCOMPARE(section.users.size(), std::size_t(1));
        QCOMPARE(section.users[0].user, QStringLiteral("201"));
        QCOMPARE(section.users[0].ha1Md5, md5Hex("201:office.example:correct horse"));
        QCOMPARE(section.users[0].ha1Sha256, sha256Hex("201:office.example:correct horse"));
    }

    void defaultRealmAndNewFile() {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("fresh.ini"));
        QCOMPARE(configuredRealm(path), QStringLiteral("switchboard.local"));
        const Run run = addUser(path, QStringLiteral("202"), "pw202\r\n");  // CRLF stripped
        QCOMPARE(run.code, 0);
        const UsersSection section = parseUsersSection(readAll(path));
        QCOMPARE(section.users.size(), std::size_t(1));
        QCOMPARE(section.users[0].ha1Md5, md5Hex("202:switchboard.local:pw202"));
    }

    void realmDefaultsToThePrimaryDomain() {
        // The server's realm is [server] realm, else its first domain: the hashes must be
        // made for that realm, or no login could ever succeed.
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("office.ini"));
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("[server]\ndomain = Office.Example, 127.0.0.1\n");
        file.close();
        QCOMPARE(configuredRealm(path), QStringLiteral("office.example"));
        QCOMPARE(addUser(path, QStringLiteral("204"), "pw204\n").code, 0);
        const UsersSection section = parseUsersSection(readAll(path));
        QCOMPARE(section.users.size(), std::size_t(1));
        QCOMPARE(section.users[0].ha1Md5, md5Hex("204:office.example:pw204"));
    }

    void lastLineWithoutNewline() {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("switchboard.ini"));
        QCOMPARE(addUser(path, QStringLiteral("203"), "no-newline").code, 0);
        QCOMPARE(parseUsersSection(readAll(path)).users[0].ha1Md5,
                 md5Hex("203:switchboard.local:no-newline"));
    }

    void replacingKeepsThePlace() {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("switchboard.ini"));
        QCOMPARE(addUser(path, QStringLiteral("201"), "one\n").code, 0);
        QCOMPARE(addUser(path, QStringLiteral("202"), "two\n").code, 0);
        const Run run = addUser(path, QStringLiteral("201"), "three\n");
        QCOMPARE(run.code, 0);
        QCOMPARE(run.out, QStringLiteral("user 201 updated in %1 (HA1 only)\n").arg(path));
        const UsersSection section = parseUsersSection(readAll(path));
        QCOMPARE(section.users.size(), std::size_t(2));
        QCOMPARE(section.users[0].user, QStringLiteral("201"));
        QCOMPARE(section.users[0].ha1Md5, md5Hex("201:switchboard.local:three"));
        QCOMPARE(section.users[1].user, QStringLiteral("202"));
    }

    void errors_data() {
        QTest::addColumn<QString>("user");
        QTest::addColumn<QByteArray>("input");
        QTest::addColumn<QString>("errorPart");
        QTest::newRow("empty input") << "201" << QByteArray() << "no password";
        QTest::newRow("empty line") << "201" << QByteArray("\nsecond\n") << "no password";
        QTest::newRow("bad user") << "2 01" << QByteArray("pw\n") << "a space";
        QTest::newRow("too long") << "201" << QByteArray(2000, 'x') << "longer than 1024";
    }

    void errors() {
        QFETCH(QString, user);
        QFETCH(QByteArray, input);
        QFETCH(QString, errorPart);
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("switchboard.ini"));
        QVERIFY(writeAll(path, "[sip]\nlisten = udp:127.0.0.1:0\n"));
        const Run run = addUser(path, user, input);
        QCOMPARE(run.code, 1);
        QVERIFY(run.out.isEmpty());
        QVERIFY2(run.err.startsWith(QStringLiteral("switchboard: cannot add user %1: ").arg(user)),
                 qPrintable(run.err));
        QVERIFY2(run.err.contains(errorPart), qPrintable(run.err));
        QCOMPARE(readAll(path), QByteArray("[sip]\nlisten = udp:127.0.0.1:0\n"));  // untouched
    }

    void noConfigPath() {
        const Run run = addUser(QString(), QStringLiteral("201"), "pw\n");
        QCOMPARE(run.code, 1);
        QVERIFY(run.err.contains(QStringLiteral("--config")));
    }

    // A broken [users] line would be lost by a rewrite: the command refuses instead.
    void brokenSectionIsNotRewritten() {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("switchboard.ini"));
        const QByteArray before = "[users]\n201 = md5:abc\n";
        QVERIFY(writeAll(path, before));
        const Run run = addUser(path, QStringLiteral("202"), "pw\n");
        QCOMPARE(run.code, 1);
        QVERIFY2(run.err.contains(QStringLiteral("[users] line 2")), qPrintable(run.err));
        QCOMPARE(readAll(path), before);
    }

    void removesUsers() {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("switchboard.ini"));
        QCOMPARE(addUser(path, QStringLiteral("201"), "one\n").code, 0);
        QCOMPARE(addUser(path, QStringLiteral("202"), "two\n").code, 0);
        Run run = removeUser(path, QStringLiteral("201"));
        QCOMPARE(run.code, 0);
        QCOMPARE(run.out, QStringLiteral("user 201 removed from %1\n").arg(path));
        const UsersSection section = parseUsersSection(readAll(path));
        QCOMPARE(section.users.size(), std::size_t(1));
        QCOMPARE(section.users[0].user, QStringLiteral("202"));

        run = removeUser(path, QStringLiteral("201"));
        QCOMPARE(run.code, 1);
        QVERIFY2(run.err.contains(QStringLiteral("user 201 is not in")), qPrintable(run.err));
    }
};

QTEST_APPLESS_MAIN(TstUserAdmin)
#include "tst_user_admin.moc"
