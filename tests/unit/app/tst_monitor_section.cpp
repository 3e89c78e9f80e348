// Tests app/monitor_section.*: the [monitor] section read in file order, its problems
// with line numbers, and the atomic rewrite that keeps every other line.

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include "app/monitor_section.h"

using sb::app::MonitorSection;
using sb::app::parseMonitorSection;
using sb::app::saveMonitorSection;
using sb::board::Extension;

class TstMonitorSection : public QObject {
    Q_OBJECT

private slots:
    void readsInFileOrder() {
        const MonitorSection section = parseMonitorSection(
            "[account]\naor = sip:200@example.com\n\n[monitor]\n; the sales team\n"
            "301 = Zoe, Sales\n201 = Alice Example, Sales\n1000 = Lobby\n"
            "202 = \"Smith, Bob\", Support\n203 = Carol, , sip:carol@pbx.example.com\n"
            "[sip]\nlisten = udp:127.0.0.1:0\n");
        QVERIFY2(section.problems.isEmpty(), qPrintable(section.problems.join('\n')));
        QCOMPARE(section.extensions.size(), std::size_t(5));
        QCOMPARE(section.extensions[0].number, QStringLiteral("301"));
        QCOMPARE(section.extensions[1].number, QStringLiteral("201"));
        QCOMPARE(section.extensions[1].name, QStringLiteral("Alice Example"));
        QCOMPARE(section.extensions[1].group, QStringLiteral("Sales"));
        QCOMPARE(section.extensions[2].number, QStringLiteral("1000"));
        QCOMPARE(section.extensions[2].group, QString());
        QCOMPARE(section.extensions[3].name, QStringLiteral("Smith, Bob"));
        QCOMPARE(section.extensions[3].group, QStringLiteral("Support"));
        QCOMPARE(section.extensions[4].uri, QStringLiteral("sip:carol@pbx.example.com"));
    }

    void problemsNameTheLine() {
        const MonitorSection section = parseMonitorSection(
            "[monitor]\n201 = Alice\nno equals sign\n2 01 = Bad\n201 = Twice\n"
            "204 = a, b, , d\n205 = Eve, , http://example.com\n206 = Fine\n");
        QCOMPARE(section.extensions.size(), std::size_t(2));
        QCOMPARE(section.extensions[1].number, QStringLiteral("206"));
        QCOMPARE(section.problems.size(), 5);
        QVERIFY2(section.problems[0].startsWith(QStringLiteral("[monitor] line 3:")),
                 qPrintable(section.problems[0]));
        QVERIFY(section.problems[1].startsWith(QStringLiteral("[monitor] line 4:")));
        QVERIFY(section.problems[2].contains(QStringLiteral("listed twice")));
        QVERIFY2(section.problems[3].contains(QStringLiteral("'d' is not a setting")),
                 qPrintable(section.problems[3]));
        QVERIFY(section.problems[4].contains(QStringLiteral("not a sip:")));
    }

    // identity=URI and publish_to=URI ... after name, group and URI ([publish]).
    void publishingSettings() {
        const MonitorSection section = parseMonitorSection(
            "[monitor]\n"
            "201 = Alice, Sales, , identity=sip:alice@example.com\n"
            "202 = Bob, , sip:bob@pbx.example, publish_to=sip:202@a.example sip:desk@b.example, "
            "\"identity=sip:bob@example.com;user=phone\"\n"
            "203 = Carol, , , identity=http://x\n"
            "204 = Dan, , , publish_to=\n"
            "205 = Eve, , , identity=sip:a@x sip:b@x\n"
            "206 = Fay, , , colour=red\n");
        QCOMPARE(section.extensions.size(), std::size_t(2));
        QCOMPARE(section.extensions[0].identity, QStringLiteral("sip:alice@example.com"));
        QVERIFY(section.extensions[0].publishTo.isEmpty());
        QVERIFY(section.extensions[0].uri.isEmpty());
        QCOMPARE(section.extensions[1].uri, QStringLiteral("sip:bob@pbx.example"));
        QCOMPARE(section.extensions[1].publishTo,
                 (QStringList{QStringLiteral("sip:202@a.example"),
                              QStringLiteral("sip:desk@b.example")}));
        QCOMPARE(section.extensions[1].identity, QStringLiteral("sip:bob@example.com;user=phone"));
        QCOMPARE(section.problems.size(), 4);
        QVERIFY(section.problems[0].contains(QStringLiteral("'http://x' is not a sip:")));
        QVERIFY(section.problems[1].contains(QStringLiteral("publish_to is empty")));
        QVERIFY(section.problems[2].contains(QStringLiteral("identity is one URI")));
        QVERIFY(section.problems[3].contains(QStringLiteral("'colour=red' is not a setting")));
        // Written back the same way.
        const MonitorSection back =
            parseMonitorSection(sb::app::formatMonitorSection(section.extensions));
        QVERIFY(back.problems.isEmpty());
        QVERIFY(back.extensions == section.extensions);
    }

    void saveKeepsOtherSectionsAndRoundTrips() {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("switchboard.ini"));
        {
            QFile file(path);
            QVERIFY(file.open(QIODevice::WriteOnly));
            file.write(
                "; my console\n[account]\naor = sip:200@example.com\n\n[monitor]\n"
                "201 = Old\n\n[sip]\nlisten = udp:127.0.0.1:0\n");
        }
        const std::vector<Extension> extensions{
            {QStringLiteral("202"),
             QStringLiteral("Smith, \"Bob\""),
             QStringLiteral("Support"),
             {}},
            {QStringLiteral("201"), QStringLiteral("Alice"), QStringLiteral("Sales"),
             QStringLiteral("sip:alice@example.com")}};
        QVERIFY(saveMonitorSection(path, extensions));
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QByteArray text = file.readAll();
        QVERIFY(text.startsWith("; my console\n[account]\naor = sip:200@example.com\n"));
        QVERIFY(text.contains("[sip]\nlisten = udp:127.0.0.1:0\n"));
        QVERIFY(!text.contains("Old"));
        const MonitorSection back = parseMonitorSection(text);
        QVERIFY(back.problems.isEmpty());
        QCOMPARE(back.extensions.size(), std::size_t(2));
        QCOMPARE(back.extensions[0].number, QStringLiteral("202"));
        QCOMPARE(back.extensions[0].name, QStringLiteral("Smith, \"Bob\""));
        QCOMPARE(back.extensions[1].uri, QStringLiteral("sip:alice@example.com"));
    }

    void saveCreatesAMissingFile() {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("new.ini"));
        QVERIFY(saveMonitorSection(path, {{QStringLiteral("201"), {}, {}, {}}}));
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        QCOMPARE(file.readAll(), QByteArray("[monitor]\n201 = , \n"));
    }
};

QTEST_GUILESS_MAIN(TstMonitorSection)
#include "tst_monitor_section.moc"
