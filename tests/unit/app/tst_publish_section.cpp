// Tests app/publish_section.*: the [publish] values of a configuration, their check
// through the configuration's own reader (the same problems start-up reports), the
// section's text merged into what the file holds (comments and unknown keys kept, values
// that QSettings would cut quoted), and the atomic save that keeps every other line.

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include "app/config.h"
#include "app/publish_section.h"

using sb::app::checkPublishValues;
using sb::app::formatPublishSection;
using sb::app::loadConfig;
using sb::app::PublishCheck;
using sb::app::PublishConfig;
using sb::app::publishKeys;
using sb::app::publishSectionOf;
using sb::app::PublishValues;
using sb::app::publishValues;
using sb::app::savePublishSection;
using sb::app::savePublishValues;
using Profile = sb::dialoginfo::PublishProfile;

namespace {

// Every key away from its default, and values that need quoting in an INI file.
PublishConfig everythingChanged() {
    PublishConfig config;
    config.enabled = true;
    config.serverHost = QStringLiteral("::1");
    config.serverPort = 5080;
    config.transport = sb::transport::Protocol::Tcp;
    config.profile.compat = Profile::Compat::Kamailio;
    config.profile.includeCallId = false;
    config.profile.includeTags = false;
    config.profile.includeLocalRemote = false;
    config.profile.callerConfirmed = true;
    config.profile.displayNames = Profile::DisplayNames::Target;
    config.profile.version = Profile::Version::Zero;
    config.dialogId = PublishConfig::DialogIdStyle::CallId;
    config.lifetime = 7200;
    config.calleeEntity = PublishConfig::CalleeEntity::RequestUri;
    config.calleeTrying = true;
    config.publishInDialog = true;
    config.whichCalls = PublishConfig::WhichCalls::Marked;
    config.markHeader = QStringLiteral("X-Publish");
    config.skipCaller = {QStringLiteral("201"), QStringLiteral("*@example.com"),
                         QStringLiteral("header:X-No-Publish")};
    config.skipCallee = {QStringLiteral("bob@example.com")};
    // ';' would start a comment, unquoted.
    config.callerEntityWhenSkipped = QStringLiteral("sip:anonymous@example.com;transport=tcp");
    // ',' would split it into a list, unquoted.
    config.calleeEntityWhenSkipped = QStringLiteral("sip:odd,user@example.com");
    config.expires = 120;
    config.holdWhenBusy = 9;
    return config;
}

QByteArray readFile(const QString& path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) return {};
    return file.readAll();
}

void writeFile(const QString& path, const QByteArray& bytes) {
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(bytes);
}

// The file's text without its [publish] section.
QByteArray withoutPublish(const QByteArray& text) {
    QByteArray out = text;
    const QByteArray section = publishSectionOf(text);
    if (!section.isEmpty()) out.replace(section, QByteArray());
    return out;
}

}  // namespace

class TstPublishSection : public QObject {
    Q_OBJECT

private slots:
    void keysAreTheConfigurationsKeys() {
        // Every key written is one the configuration knows: no "unknown key" warning.
        const PublishCheck check = checkPublishValues(publishValues(PublishConfig{}));
        QVERIFY2(check.ok(), qPrintable(check.problems.join('\n')));
        for (const QString& warning : check.warnings)
            QVERIFY2(!warning.contains(QStringLiteral("unknown key")), qPrintable(warning));
        QCOMPARE(publishKeys().size(), 23);  // the 22 and hold_when_busy
        QCOMPARE(publishValues(PublishConfig{}).keys().size(), publishKeys().size());
        for (const QString& key : publishKeys())
            QVERIFY2(publishValues(PublishConfig{}).contains(key), qPrintable(key));
    }

    void defaultsAsTheSampleDocumentsThem() {
        const PublishValues values = publishValues(PublishConfig{});
        QCOMPARE(values.value("enabled"), QStringLiteral("false"));
        QCOMPARE(values.value("server"), QString());
        QCOMPARE(values.value("transport"), QStringLiteral("udp"));
        QCOMPARE(values.value("compat"), QStringLiteral("rfc4235"));
        QCOMPARE(values.value("dialog_id"), QStringLiteral("uuid"));
        QCOMPARE(values.value("include_tags"), QStringLiteral("true"));
        QCOMPARE(values.value("lifetime"), QStringLiteral("0"));
        QCOMPARE(values.value("callee_entity"), QStringLiteral("to"));
        QCOMPARE(values.value("which_calls"), QStringLiteral("local"));
        QCOMPARE(values.value("display_names"), QStringLiteral("identity"));
        QCOMPARE(values.value("version"), QStringLiteral("rising"));
        QCOMPARE(values.value("expires"), QStringLiteral("3600"));
        QCOMPARE(values.value("hold_when_busy"), QStringLiteral("4"));
    }

    void everyKeyRoundTripsThroughTheConfiguration() {
        const PublishValues written = publishValues(everythingChanged());
        QCOMPARE(written.value("server"), QStringLiteral("[::1]:5080"));
        QCOMPARE(written.value("skip_caller"),
                 QStringLiteral("201, *@example.com, header:X-No-Publish"));
        const PublishCheck check = checkPublishValues(written);
        QVERIFY2(check.ok(), qPrintable(check.problems.join('\n')));
        QCOMPARE(publishValues(check.config), written);
        QCOMPARE(check.config.serverHost, QStringLiteral("::1"));
        QCOMPARE(check.config.serverPort, quint16(5080));
        QCOMPARE(check.config.callerEntityWhenSkipped,
                 QStringLiteral("sip:anonymous@example.com;transport=tcp"));
        for (const QString& warning : check.warnings)
            QVERIFY2(!warning.contains(QStringLiteral("unknown key")), qPrintable(warning));
    }

    void valuesAreNormalised() {
        PublishValues values = publishValues(PublishConfig{});
        values["enabled"] = QStringLiteral("yes");
        values["server"] = QStringLiteral("127.0.0.2");  // the port defaults to 5060
        values["compat"] = QStringLiteral("Kamailio");
        values["skip_caller"] = QStringLiteral(" 201 ,, 202 ,");
        const PublishCheck check = checkPublishValues(values);
        QVERIFY2(check.ok(), qPrintable(check.problems.join('\n')));
        const PublishValues back = publishValues(check.config);
        QCOMPARE(back.value("enabled"), QStringLiteral("true"));
        QCOMPARE(back.value("server"), QStringLiteral("127.0.0.2:5060"));
        QCOMPARE(back.value("compat"), QStringLiteral("kamailio"));
        QCOMPARE(back.value("skip_caller"), QStringLiteral("201, 202"));
    }

    void problemsAreTheConfigurationsMessages_data() {
        QTest::addColumn<QString>("key");
        QTest::addColumn<QString>("value");
        QTest::addColumn<QString>("problem");
        QTest::newRow("server not an address")
            << "server"
            << "pbx.example.com"
            << "[publish] server: 'pbx.example.com': the host must be an IP address";
        QTest::newRow("server port") << "server"
                                     << "127.0.0.2:70000"
                                     << "[publish] server: '127.0.0.2:70000': port '70000'";
        QTest::newRow("server v6 without brackets")
            << "server"
            << "2001:db8::1:5060"
            << "[publish] server: '2001:db8::1:5060': an IPv6";
        QTest::newRow("transport") << "transport"
                                   << "sctp"
                                   << "[publish] transport: 'sctp' is not one of: udp, tcp";
        QTest::newRow("caller entity") << "caller_entity_when_skipped"
                                       << "tel:+4420"
                                       << "[publish] caller_entity_when_skipped: 'tel:+4420' "
                                          "is not a SIP URI";
        QTest::newRow("callee entity") << "callee_entity_when_skipped"
                                       << "anonymous"
                                       << "[publish] callee_entity_when_skipped: 'anonymous' "
                                          "is not a SIP URI";
        QTest::newRow("lifetime") << "lifetime"
                                  << "-5"
                                  << "[publish] lifetime: '-5' is not";
        QTest::newRow("expires zero") << "expires"
                                      << "0"
                                      << "[publish] expires: '0' is not";
        QTest::newRow("boolean") << "include_tags"
                                 << "maybe"
                                 << "[publish] include_tags: 'maybe' is not true or false";
        QTest::newRow("choice") << "dialog_id"
                                << "random"
                                << "[publish] dialog_id: 'random' is not one of: uuid, counter";
    }

    void problemsAreTheConfigurationsMessages() {
        QFETCH(QString, key);
        QFETCH(QString, value);
        QFETCH(QString, problem);
        PublishValues values = publishValues(PublishConfig{});
        values[key] = value;
        const PublishCheck check = checkPublishValues(values);
        QCOMPARE(check.problems.size(), 1);
        QVERIFY2(check.problems.constFirst().startsWith(problem),
                 qPrintable(check.problems.constFirst()));
    }

    void rulesAcrossKeys() {
        PublishValues values = publishValues(PublishConfig{});
        values["enabled"] = QStringLiteral("true");        // and no server
        values["which_calls"] = QStringLiteral("marked");  // and no header
        const PublishCheck check = checkPublishValues(values);
        QCOMPARE(check.problems.size(), 2);
        QVERIFY2(check.problems.at(0).startsWith(
                     QStringLiteral("[publish] server: is needed with enabled = true")),
                 qPrintable(check.problems.at(0)));
        QVERIFY2(check.problems.at(1).startsWith(
                     QStringLiteral("[publish] mark_header: is needed with which_calls = marked")),
                 qPrintable(check.problems.at(1)));
    }

    void formatQuotesWhatQSettingsWouldCut() {
        PublishValues values;
        values["mark_header"] = QStringLiteral("X-Plain");
        values["caller_entity_when_skipped"] = QStringLiteral("sip:a@b;transport=tcp");
        values["callee_entity_when_skipped"] = QStringLiteral("sip:\"q\"\\x@b, c");
        values["skip_caller"] = QStringLiteral("201, header:X-A;b");
        const QByteArray text = formatPublishSection(values);
        QVERIFY(text.startsWith("[publish]\n"));
        QVERIFY(text.contains("mark_header = X-Plain\n"));
        QVERIFY(text.contains("caller_entity_when_skipped = \"sip:a@b;transport=tcp\"\n"));
        QVERIFY(text.contains("callee_entity_when_skipped = \"sip:\\\"q\\\"\\\\x@b, c\"\n"));
        QVERIFY(text.contains("skip_caller = 201, \"header:X-A;b\"\n"));
        // The documented order, whatever the map's.
        QVERIFY(text.indexOf("mark_header") < text.indexOf("skip_caller"));
        QVERIFY(text.indexOf("skip_caller") < text.indexOf("caller_entity_when_skipped"));
    }

    void formatMergesIntoTheSectionAsItIs() {
        const QByteArray current =
            "[publish]\n"
            "; our presence cluster\n"
            "server = 127.0.0.4:5060   \n"
            "future_key = kept\n"
            "\n"
            "# lifetime stays documented here\n"
            "lifetime = 10\n"
            "lifetime = 20\n"
            "\n"
            "; a comment about the next section\n";
        PublishValues values;
        values["server"] = QStringLiteral("127.0.0.5:5070");
        values["lifetime"] = QStringLiteral("30");
        values["enabled"] = QStringLiteral("true");
        values["expires"] = QStringLiteral("600");
        const QByteArray merged = formatPublishSection(values, current);
        QCOMPARE(merged, QByteArray("[publish]\n"
                                    "; our presence cluster\n"
                                    "server = 127.0.0.5:5070\n"
                                    "future_key = kept\n"
                                    "\n"
                                    "# lifetime stays documented here\n"
                                    "lifetime = 30\n"
                                    "enabled = true\n"
                                    "expires = 600\n"
                                    "\n"
                                    "; a comment about the next section\n"));
    }

    void sectionOfTheFile() {
        const QByteArray text =
            "[server]\ndomain = a\n[ Publish ]\nenabled = true\n\n[monitor]\n201 = A\n";
        QCOMPARE(publishSectionOf(text), QByteArray("[ Publish ]\nenabled = true\n\n"));
        QCOMPARE(publishSectionOf("[server]\ndomain = a\n"), QByteArray());
        // The header is kept as the file spells it.
        QVERIFY(formatPublishSection(PublishValues{{"enabled", "false"}}, publishSectionOf(text))
                    .startsWith("[ Publish ]\nenabled = false\n"));
    }

    void saveKeepsEverythingElseAndParsesBack() {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("switchboard.ini"));
        const QByteArray before =
            "; Switchboard for the office\n"
            "[server]\n"
            "domain = office.example\n"
            "; phones trust us\n"
            "trust_loopback = true\n"
            "\n"
            "[publish]\n"
            "; the presence cluster, ask Dana before changing\n"
            "enabled = false\n"
            "\n"
            "[monitor]\n"
            "; reception first\n"
            "201 = Alice Example, Sales\n";
        writeFile(path, before);
        const PublishConfig config = everythingChanged();
        const sb::Result<void> saved = savePublishSection(path, config);
        QVERIFY2(saved.has_value(), qPrintable(saved ? QString() : saved.error().reason));

        const QByteArray after = readFile(path);
        QCOMPARE(withoutPublish(after), withoutPublish(before));
        QVERIFY(
            after.contains("; the presence cluster, ask Dana before changing\nenabled = true\n"));
        const sb::Result<sb::app::Config> loaded = loadConfig(path);
        QVERIFY2(loaded.has_value(), qPrintable(loaded ? QString() : loaded.error().reason));
        QCOMPARE(publishValues(loaded->publish), publishValues(config));
        QCOMPARE(loaded->server.domains, QStringList{QStringLiteral("office.example")});
        QCOMPARE(loaded->monitor.size(), std::size_t(1));
    }

    void saveCreatesAMissingFile() {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("new.ini"));
        PublishConfig config;
        config.enabled = true;
        config.serverHost = QStringLiteral("127.0.0.1");
        config.serverPort = 5080;
        QVERIFY(savePublishSection(path, config).has_value());
        const sb::Result<sb::app::Config> loaded = loadConfig(path);
        QVERIFY2(loaded.has_value(), qPrintable(loaded ? QString() : loaded.error().reason));
        QCOMPARE(publishValues(loaded->publish), publishValues(config));
    }

    void saveValuesRefusesInvalidOnesAndWritesNothing() {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("switchboard.ini"));
        const QByteArray before = "[publish]\nenabled = false\n";
        writeFile(path, before);
        PublishValues values = publishValues(PublishConfig{});
        values["server"] = QStringLiteral("presence.example.com:5060");
        const QStringList problems = savePublishValues(path, values);
        QCOMPARE(problems.size(), 1);
        QVERIFY(problems.constFirst().startsWith(QStringLiteral("[publish] server:")));
        QCOMPARE(readFile(path), before);

        values["server"] = QStringLiteral("127.0.0.2:5060");
        QCOMPARE(savePublishValues(path, values), QStringList());
        QVERIFY(readFile(path).contains("server = 127.0.0.2:5060\n"));
    }
};

QTEST_GUILESS_MAIN(TstPublishSection)
#include "tst_publish_section.moc"
