// Tests core/server/user_store.*: HA1-only users, user name and HA1 validation, the
// realm binding, insertion order and the UserDirectory view.

#include <QCryptographicHash>
#include <QTest>

#include "server/user_store.h"

using sb::server::checkHa1;
using sb::server::normalizeUserName;
using sb::server::UserDirectory;
using sb::server::UserStore;
using sb::sip::DigestAlgorithm;

namespace {

QByteArray hex(QCryptographicHash::Algorithm algorithm, const QByteArray& data) {
    return QCryptographicHash::hash(data, algorithm).toHex();
}

}  // namespace

class TstUserStore : public QObject {
    Q_OBJECT

private slots:
    void defaultRealm() {
        UserStore store;
        QCOMPARE(store.realm(), QStringLiteral("switchboard.local"));
    }

    // RFC 7616 §3.4.2: HA1 = H(username ":" realm ":" passwd), for both hashes.
    void addUserStoresBothHa1() {
        UserStore store;
        store.setRealm(QStringLiteral("http-auth@example.org"));
        QVERIFY(store.addUser(QStringLiteral("Mufasa"), "Circle of Life"));
        QCOMPARE(store.ha1(QStringLiteral("Mufasa"), DigestAlgorithm::Md5),
                 hex(QCryptographicHash::Md5, "Mufasa:http-auth@example.org:Circle of Life"));
        QCOMPARE(store.ha1(QStringLiteral("Mufasa"), DigestAlgorithm::Sha256),
                 hex(QCryptographicHash::Sha256, "Mufasa:http-auth@example.org:Circle of Life"));
        // The -sess variants start from the same base hash.
        QCOMPARE(store.ha1(QStringLiteral("Mufasa"), DigestAlgorithm::Md5Sess),
                 store.ha1(QStringLiteral("Mufasa"), DigestAlgorithm::Md5));
        QCOMPARE(store.ha1(QStringLiteral("Mufasa"), DigestAlgorithm::Sha256Sess),
                 store.ha1(QStringLiteral("Mufasa"), DigestAlgorithm::Sha256));
        QVERIFY(!store.ha1(QStringLiteral("mufasa"), DigestAlgorithm::Md5));  // case-sensitive
    }

    void emptyPasswordRefused() {
        UserStore store;
        const auto added = store.addUser(QStringLiteral("201"), "");
        QVERIFY(!added);
        QVERIFY2(added.error().reason.contains(QStringLiteral("password")),
                 qPrintable(added.error().reason));
        QVERIFY(!store.hasUser(QStringLiteral("201")));
    }

    void userNameRules_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("key");  // empty: refused
        QTest::addColumn<QString>("errorPart");
        QTest::newRow("digits") << "201"
                                << "201"
                                << "";
        QTest::newRow("marks") << "alice.smith-2_(x)!~*'"
                               << "alice.smith-2_(x)!~*'"
                               << "";
        QTest::newRow("user-unreserved") << "a&=+$,;?/b"
                                         << "a&=+$,;?/b"
                                         << "";
        QTest::newRow("escape decoded") << "alice%2Esmith"
                                        << "alice.smith"
                                        << "";
        QTest::newRow("empty") << ""
                               << ""
                               << "empty";
        QTest::newRow("space") << "a b"
                               << ""
                               << "a space";
        QTest::newRow("at") << "a@b"
                            << ""
                            << "'@'";
        QTest::newRow("colon") << "a:b"
                               << ""
                               << "':'";
        QTest::newRow("non-ascii") << QStringLiteral("j\u00fcrgen") << ""
                                   << "not allowed";
        QTest::newRow("bad escape") << "a%2"
                                    << ""
                                    << "two hex digits";
        QTest::newRow("escape to space") << "a%20b"
                                         << ""
                                         << "a space";
        QTest::newRow("escape to control") << "a%0ab"
                                           << ""
                                           << "control character";
        QTest::newRow("64 chars") << QString(64, QLatin1Char('x')) << QString(64, QLatin1Char('x'))
                                  << "";
        QTest::newRow("65 chars") << QString(65, QLatin1Char('x')) << ""
                                  << "longer than 64";
    }

    void userNameRules() {
        QFETCH(QString, name);
        QFETCH(QString, key);
        QFETCH(QString, errorPart);
        const auto normal = normalizeUserName(name);
        if (key.isEmpty()) {
            QVERIFY(!normal);
            QVERIFY2(normal.error().reason.contains(errorPart), qPrintable(normal.error().reason));
            UserStore store;
            QVERIFY(!store.addUser(name, "pw"));
            QCOMPARE(store.size(), 0);
        } else {
            QVERIFY2(normal, qPrintable(normal ? QString() : normal.error().reason));
            QCOMPARE(*normal, key);
            UserStore store;
            QVERIFY(store.addUser(name, "pw"));
            QVERIFY(store.hasUser(key));
            QCOMPARE(store.users(), QStringList{key});
        }
    }

    void ha1FromConfig() {
        UserStore store;
        const QByteArray md5 = hex(QCryptographicHash::Md5, "201:switchboard.local:pw");
        const QByteArray sha = hex(QCryptographicHash::Sha256, "201:switchboard.local:pw");
        QVERIFY(store.addUserWithHa1(QStringLiteral("201"), md5, sha));
        QCOMPARE(store.ha1(QStringLiteral("201"), DigestAlgorithm::Md5), md5);
        QCOMPARE(store.ha1(QStringLiteral("201"), DigestAlgorithm::Sha256), sha);

        // One hash alone is enough; the other algorithm is then unavailable.
        QVERIFY(store.addUserWithHa1(QStringLiteral("202"), md5, {}));
        QVERIFY(store.ha1(QStringLiteral("202"), DigestAlgorithm::Md5));
        QVERIFY(!store.ha1(QStringLiteral("202"), DigestAlgorithm::Sha256));
        QVERIFY(store.addUserWithHa1(QStringLiteral("203"), {}, sha));
        QVERIFY(!store.ha1(QStringLiteral("203"), DigestAlgorithm::Md5));
    }

    void badHa1Refused_data() {
        QTest::addColumn<QByteArray>("md5");
        QTest::addColumn<QByteArray>("sha");
        QTest::addColumn<QString>("errorPart");
        const QByteArray md5 = hex(QCryptographicHash::Md5, "x");
        const QByteArray sha = hex(QCryptographicHash::Sha256, "x");
        QTest::newRow("both empty") << QByteArray() << QByteArray() << "neither";
        QTest::newRow("md5 short") << md5.left(31) << sha << "MD5 HA1 must be 32 hex digits";
        QTest::newRow("md5 as sha") << sha << QByteArray() << "MD5 HA1 must be 32";
        QTest::newRow("sha short") << md5 << md5 << "SHA-256 HA1 must be 64";
        QTest::newRow("upper case") << md5.toUpper() << QByteArray() << "lower-case";
        QTest::newRow("not hex") << QByteArray(32, 'g') << QByteArray() << "lower-case hex";
    }

    void badHa1Refused() {
        QFETCH(QByteArray, md5);
        QFETCH(QByteArray, sha);
        QFETCH(QString, errorPart);
        UserStore store;
        const auto added = store.addUserWithHa1(QStringLiteral("201"), md5, sha);
        QVERIFY(!added);
        QVERIFY2(added.error().reason.contains(errorPart), qPrintable(added.error().reason));
        QVERIFY(added.error().reason.contains(QStringLiteral("201")));
        QVERIFY(!store.hasUser(QStringLiteral("201")));
    }

    void checkHa1Lengths() {
        QVERIFY(checkHa1(QByteArray(32, 'a'), DigestAlgorithm::Md5));
        QVERIFY(checkHa1(QByteArray(32, 'a'), DigestAlgorithm::Md5Sess));
        QVERIFY(checkHa1(QByteArray(64, '0'), DigestAlgorithm::Sha256));
        QVERIFY(!checkHa1(QByteArray(64, '0'), DigestAlgorithm::Md5));
    }

    void insertionOrderAndReplace() {
        UserStore store;
        QVERIFY(store.addUser(QStringLiteral("203"), "a"));
        QVERIFY(store.addUser(QStringLiteral("201"), "b"));
        QVERIFY(store.addUser(QStringLiteral("202"), "c"));
        const auto before = store.ha1(QStringLiteral("201"), DigestAlgorithm::Md5);
        QVERIFY(store.addUser(QStringLiteral("201"), "new"));  // replaced in place
        QCOMPARE(store.users(), (QStringList{"203", "201", "202"}));
        QVERIFY(store.ha1(QStringLiteral("201"), DigestAlgorithm::Md5) != before);

        QVERIFY(store.removeUser(QStringLiteral("201")));
        QVERIFY(!store.removeUser(QStringLiteral("201")));
        QVERIFY(!store.removeUser(QStringLiteral("nobody")));
        QCOMPARE(store.users(), (QStringList{"203", "202"}));
        QVERIFY(!store.hasUser(QStringLiteral("201")));
    }

    // A changed realm makes every HA1 useless: the store forgets them.
    void realmChangeDropsUsers() {
        UserStore store;
        QVERIFY(store.addUser(QStringLiteral("201"), "pw"));
        store.setRealm(QStringLiteral("switchboard.local"));  // same realm: kept
        QVERIFY(store.hasUser(QStringLiteral("201")));
        store.setRealm(QStringLiteral("office.example"));
        QCOMPARE(store.realm(), QStringLiteral("office.example"));
        QVERIFY(!store.hasUser(QStringLiteral("201")));
        QVERIFY(store.users().isEmpty());
        QVERIFY(store.addUser(QStringLiteral("201"), "pw"));
        QCOMPARE(store.ha1(QStringLiteral("201"), DigestAlgorithm::Md5),
                 hex(QCryptographicHash::Md5, "201:office.example:pw"));
    }

    void isAUserDirectory() {
        UserStore store;
        QVERIFY(store.addUser(QStringLiteral("201"), "pw"));
        const UserDirectory& directory = store;
        QVERIFY(directory.hasUser(QStringLiteral("201")));
        QVERIFY(!directory.hasUser(QStringLiteral("202")));
    }
};

QTEST_APPLESS_MAIN(TstUserStore)
#include "tst_user_store.moc"
