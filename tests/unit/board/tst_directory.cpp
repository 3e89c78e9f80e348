#include <QTest>

#include "board/directory.h"

using namespace sb;
using board::Directory;
using board::Extension;

class TestDirectory : public QObject {
    Q_OBJECT

private slots:
    void validNumbers_data() {
        QTest::addColumn<QString>("number");
        QTest::newRow("digits") << "201";
        QTest::newRow("word") << "reception";
        QTest::newRow("e164") << "+4930123456";
        // RFC 3261 §25.1 mark characters
        QTest::newRow("marks") << "a.b-c_d!~*'()";
        // RFC 3261 §25.1 user-unreserved characters
        QTest::newRow("user-unreserved") << "&=+$,;?/";
        QTest::newRow("escaped") << "%41b%2f";
        QTest::newRow("star codes") << "*97";
    }
    void validNumbers() {
        QFETCH(QString, number);
        const Result<void> result = board::checkExtensionNumber(number);
        QVERIFY2(result.has_value(), qPrintable(result ? QString() : result.error().reason));
    }

    void invalidNumbers_data() {
        QTest::addColumn<QString>("number");
        QTest::addColumn<QString>("message");
        QTest::newRow("empty") << ""
                               << "extension is empty";
        QTest::newRow("space") << "2 01"
                               << "extension \"2 01\" is not a valid SIP user part: a space at "
                                  "position 2 is not allowed";
        QTest::newRow("at") << "201@host"
                            << "extension \"201@host\" is not a valid SIP user part: '@' at "
                               "position 4 is not allowed";
        QTest::newRow("colon") << "a:b"
                               << "extension \"a:b\" is not a valid SIP user part: ':' at "
                                  "position 2 is not allowed";
        QTest::newRow("non-ascii") << QString::fromUtf8("j\xc3\xb6rg")
                                   << QString::fromUtf8(
                                          "extension \"j\xc3\xb6rg\" is not a valid SIP user "
                                          "part: '\xc3\xb6' at position 2 is not allowed");
        QTest::newRow("tab") << "20\t1"
                             << "extension \"20\t1\" is not a valid SIP user part: a tab at "
                                "position 3 is not allowed";
        QTest::newRow("control") << QString("20\x01")
                                 << "extension \"20\x01\" is not a valid SIP user part: control "
                                    "character U+0001 at position 3 is not allowed";
        QTest::newRow("percent at end") << "20%"
                                        << "extension \"20%\" is not a valid SIP user part: '%' "
                                           "at position 3 must be followed by two hex digits";
        QTest::newRow("percent not hex") << "%zz1"
                                         << "extension \"%zz1\" is not a valid SIP user part: "
                                            "'%' at position 1 must be followed by two hex "
                                            "digits";
        QTest::newRow("percent one digit") << "1%4"
                                           << "extension \"1%4\" is not a valid SIP user part: "
                                              "'%' at position 2 must be followed by two hex "
                                              "digits";
    }
    void invalidNumbers() {
        QFETCH(QString, number);
        QFETCH(QString, message);
        const Result<void> result = board::checkExtensionNumber(number);
        QVERIFY(!result.has_value());
        QCOMPARE(result.error().reason, message);
        QCOMPARE(result.error().kind, ErrorKind::Config);
    }

    void addFindAndIndex() {
        Directory directory;
        QVERIFY(directory.add({"201", "Alice", "Sales", {}}));
        QVERIFY(directory.add({"202", "Bob", "Support", "sip:bob@example.com"}));
        QVERIFY(directory.add({"203", "Carol", "Sales", {}}));
        QCOMPARE(directory.size(), 3);
        QCOMPARE(directory.indexOf("201"), 0);
        QCOMPARE(directory.indexOf("203"), 2);
        QCOMPARE(directory.indexOf("299"), -1);
        QVERIFY(directory.find("299") == nullptr);
        QCOMPARE(directory.find("202")->name, QStringLiteral("Bob"));
        QCOMPARE(directory.find("202")->uri, QStringLiteral("sip:bob@example.com"));
        QCOMPARE(directory.extensions().at(1).number, QStringLiteral("202"));
    }

    void numbersAreUnique() {
        Directory directory;
        QVERIFY(directory.add({"201", "Alice", {}, {}}));
        const Result<void> again = directory.add({"201", "Another Alice", {}, {}});
        QVERIFY(!again);
        QCOMPARE(again.error().reason, QStringLiteral("extension 201 is already listed"));
        QCOMPARE(directory.size(), 1);
        QCOMPARE(directory.find("201")->name, QStringLiteral("Alice"));
    }

    void addRejectsBadNumber() {
        Directory directory;
        const Result<void> result = directory.add({"2 01", "Alice", {}, {}});
        QVERIFY(!result);
        QVERIFY(result.error().reason.contains("not a valid SIP user part"));
        QCOMPARE(directory.size(), 0);
    }

    void removeKeepsTheIndexRight() {
        Directory directory;
        for (const char* number : {"201", "202", "203", "204"})
            QVERIFY(directory.add({number, {}, {}, {}}));
        QVERIFY(directory.remove("202"));
        QVERIFY(!directory.remove("202"));
        QCOMPARE(directory.size(), 3);
        QCOMPARE(directory.indexOf("201"), 0);
        QCOMPARE(directory.indexOf("203"), 1);
        QCOMPARE(directory.indexOf("204"), 2);
        QCOMPARE(directory.indexOf("202"), -1);
        QCOMPARE(directory.find("204")->number, QStringLiteral("204"));
        // The number can come back, at the end.
        QVERIFY(directory.add({"202", {}, {}, {}}));
        QCOMPARE(directory.indexOf("202"), 3);
    }

    void update() {
        Directory directory;
        QVERIFY(directory.add({"201", "Alice", "Sales", {}}));
        QVERIFY(directory.update({"201", "Alice Example", "Support", "sip:alice@pbx"}));
        QCOMPARE(directory.find("201")->name, QStringLiteral("Alice Example"));
        QCOMPARE(directory.find("201")->group, QStringLiteral("Support"));
        QCOMPARE(directory.find("201")->uri, QStringLiteral("sip:alice@pbx"));
        const Result<void> missing = directory.update({"299", "Nobody", {}, {}});
        QVERIFY(!missing);
        QCOMPARE(missing.error().reason, QStringLiteral("extension 299 is not in the directory"));
        QCOMPARE(directory.size(), 1);
    }

    void groupsInFirstSeenOrder() {
        Directory directory;
        QVERIFY(directory.groups().isEmpty());
        QVERIFY(directory.add({"201", {}, "Sales", {}}));
        QVERIFY(directory.add({"202", {}, "Support", {}}));
        QVERIFY(directory.add({"203", {}, "Sales", {}}));
        QVERIFY(directory.add({"204", {}, {}, {}}));
        QVERIFY(directory.add({"205", {}, "Accounts", {}}));
        QCOMPARE(directory.groups(), (QStringList{"Sales", "Support", "", "Accounts"}));
        QVERIFY(directory.remove("202"));
        QCOMPARE(directory.groups(), (QStringList{"Sales", "", "Accounts"}));
    }
};

QTEST_GUILESS_MAIN(TestDirectory)
#include "tst_directory.moc"
