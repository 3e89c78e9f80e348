// Settings → Publishing (ui/publish_settings_dialog.*) on the offscreen platform, wired to
// the application's check and save (app/publish_section.h) as the window is: every
// [publish] key has a field whose tooltip names it and the seed parameter it replaces;
// invalid input lists the configuration's own messages, marks the fields and saves
// nothing; valid input is saved atomically and parses back (app/config) to the same
// values, with every other section and comment kept; the window's menu action and its
// shortcut. Screenshots of the dialog with problems and filled in.

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QMenuBar>
#include <QPushButton>
#include <QSet>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include "app/config.h"
#include "app/publish_section.h"
#include "base/manual_clock.h"
#include "board/console.h"
#include "ui/main_window.h"
#include "ui/publish_settings_dialog.h"

using sb::app::PublishConfig;
using sb::app::publishKeys;
using sb::app::publishSectionOf;
using sb::app::PublishValues;
using sb::app::publishValues;
using sb::ui::MainWindow;
using sb::ui::PublishSettingsDialog;

namespace {

const QByteArray kFile =
    "; Switchboard, office configuration\n"
    "[server]\n"
    "domain = office.example\n"
    "; phones on the LAN trust us\n"
    "trust_loopback = true\n"
    "\n"
    "[publish]\n"
    "; presence cluster: ask Dana before changing\n"
    "enabled = false\n"
    "\n"
    "[monitor]\n"
    "; reception first\n"
    "201 = Alice Example, Sales\n"
    "202 = \"Smith, Bob\", Support\n";

QByteArray readFile(const QString& path) {
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

QByteArray withoutPublish(const QByteArray& text) {
    QByteArray out = text;
    out.replace(publishSectionOf(text), QByteArray());
    return out;
}

void saveShot(QWidget& widget, const QString& name) {
    QApplication::processEvents();  // pending layout first
    const QPixmap shot = widget.grab();
    QVERIFY(!shot.isNull());
    const QString dir =
        qEnvironmentVariable("SB_BINARY_DIR", QDir::currentPath()) + QStringLiteral("/screenshots");
    QVERIFY(QDir().mkpath(dir));
    const QString path = dir + u'/' + name;
    QVERIFY2(shot.save(path), qPrintable(path));
}

template <class Widget>
Widget* fieldOf(const PublishSettingsDialog& dialog, const char* key) {
    auto* widget = qobject_cast<Widget*>(dialog.field(QString::fromLatin1(key)));
    if (!widget) qWarning() << "no field for" << key;
    return widget;
}

// Types into a line edit the way a user does: select all, type over it.
void typeInto(QLineEdit* edit, const QString& text) {
    edit->setFocus();
    edit->selectAll();
    QTest::keyClick(edit, Qt::Key_Delete);
    QTest::keyClicks(edit, text);
}

void choose(QComboBox* combo, const QString& value) {
    const int index = combo->findData(value);
    QVERIFY2(index >= 0, qPrintable(value));
    combo->setCurrentIndex(index);
}

// Toggles a check box from the keyboard (Space), as keyboard-first users do.
void setChecked(QCheckBox* check, bool checked) {
    check->setFocus(Qt::TabFocusReason);
    if (check->isChecked() != checked) QTest::keyClick(check, Qt::Key_Space);
    QCOMPARE(check->isChecked(), checked);
}

QPushButton* saveButton(const PublishSettingsDialog& dialog) {
    return dialog.findChild<QPushButton*>(QStringLiteral("publishSave"));
}

void writeFile(const QString& path) {
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(kFile);
}

PublishSettingsDialog::Apply applyTo(const QString& path) {
    return [path](const PublishValues& values) { return sb::app::savePublishValues(path, values); };
}

}  // namespace

class TstPublishSettingsDialog : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { QCOMPARE(QGuiApplication::platformName(), QStringLiteral("offscreen")); }

    void everyKeyHasAFieldNamingWhatItReplaces() {
        QStringList dialogKeys = PublishSettingsDialog::keys();
        QStringList configKeys = publishKeys();
        dialogKeys.sort();
        configKeys.sort();
        QCOMPARE(dialogKeys, configKeys);
        PublishSettingsDialog dialog(publishValues(PublishConfig{}), {});
        const QStringList seeds = {"outbound_proxy",
                                   "use_uuid",
                                   "override_lifetime",
                                   "include_req_uri",
                                   "publish_dialog_req_within",
                                   "send_publish_flag",
                                   "disable_caller_publish_flag",
                                   "disable_callee_publish_flag",
                                   "caller_entity_when_publish_disabled",
                                   "callee_entity_when_publish_disabled",
                                   "attribute_display",
                                   "dlginfo_increase_version",
                                   "default_expires"};
        QString allTips;
        for (const QString& key : publishKeys()) {
            QWidget* field = dialog.field(key);
            QVERIFY2(field, qPrintable(key));
            QCOMPARE(field->objectName(), QStringLiteral("publish_") + key);
            const QString tip = field->toolTip();
            QVERIFY2(
                tip.contains(QStringLiteral("[publish] ") + key + QStringLiteral(" — replaces")),
                qPrintable(tip));
            QVERIFY(!field->accessibleName().isEmpty());
            allTips += tip;
        }
        for (const QString& seed : seeds)
            QVERIFY2(allTips.contains(seed), qPrintable(seed));
    }

    void everyFieldHasItsOwnKey() {
        // Keyboard first: Alt+letter reaches each field, and no two share a letter.
        PublishSettingsDialog dialog(publishValues(PublishConfig{}), {});
        QStringList texts;
        for (const QLabel* label : dialog.findChildren<QLabel*>())
            if (label->buddy()) texts << label->text();
        for (const QCheckBox* check : dialog.findChildren<QCheckBox*>())
            texts << check->text();
        QCOMPARE(texts.size(), publishKeys().size());
        QSet<QChar> used;
        for (const QString& text : texts) {
            const qsizetype amp = text.indexOf(u'&');
            QVERIFY2(amp >= 0 && amp + 1 < text.size(), qPrintable(text));
            const QChar key = text.at(amp + 1).toLower();
            QVERIFY2(!used.contains(key), qPrintable(text));
            used.insert(key);
        }
    }

    void showsTheValuesItIsGiven() {
        PublishConfig config;
        config.enabled = true;
        config.serverHost = QStringLiteral("127.0.0.2");
        config.transport = sb::transport::Protocol::Tcp;
        config.lifetime = 90;
        config.whichCalls = PublishConfig::WhichCalls::All;
        config.skipCaller = {QStringLiteral("201"), QStringLiteral("*@example.com")};
        config.profile.version = sb::dialoginfo::PublishProfile::Version::Zero;
        const PublishValues given = publishValues(config);
        PublishSettingsDialog dialog(given, {});
        QVERIFY(fieldOf<QCheckBox>(dialog, "enabled")->isChecked());
        QCOMPARE(fieldOf<QLineEdit>(dialog, "server")->text(), QStringLiteral("127.0.0.2:5060"));
        QCOMPARE(fieldOf<QComboBox>(dialog, "transport")->currentData().toString(),
                 QStringLiteral("tcp"));
        QCOMPARE(fieldOf<QSpinBox>(dialog, "lifetime")->value(), 90);
        QCOMPARE(fieldOf<QSpinBox>(dialog, "expires")->value(), 3600);
        QCOMPARE(fieldOf<QLineEdit>(dialog, "skip_caller")->text(),
                 QStringLiteral("201, *@example.com"));
        QCOMPARE(fieldOf<QComboBox>(dialog, "version")->currentText(), QStringLiteral("Always 0"));
        QVERIFY(fieldOf<QCheckBox>(dialog, "include_tags")->isChecked());
        // The mark header means nothing unless calls are marked.
        QVERIFY(!fieldOf<QLineEdit>(dialog, "mark_header")->isEnabled());
        choose(fieldOf<QComboBox>(dialog, "which_calls"), QStringLiteral("marked"));
        QVERIFY(fieldOf<QLineEdit>(dialog, "mark_header")->isEnabled());
        choose(fieldOf<QComboBox>(dialog, "which_calls"), QStringLiteral("all"));
        QCOMPARE(dialog.values(), given);
        // Lifetime 0 reads as words.
        fieldOf<QSpinBox>(dialog, "lifetime")->setValue(0);
        QCOMPARE(fieldOf<QSpinBox>(dialog, "lifetime")->text(), QStringLiteral("The call's own"));
    }

    void saysWhereAndWhenItApplies() {
        PublishSettingsDialog dialog(publishValues(PublishConfig{}), {});
        dialog.setFileName(QStringLiteral("/etc/switchboard/switchboard.ini"));
        QVERIFY(dialog.noticeText().contains(
            QStringLiteral("[publish] section of /etc/switchboard/switchboard.ini")));
        QVERIFY(dialog.noticeText().contains(
            QStringLiteral("Changes apply when Switchboard restarts")));
    }

    void invalidInputIsShownAndNotSaved() {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("switchboard.ini"));
        writeFile(path);
        const sb::Result<sb::app::Config> loaded = sb::app::loadConfig(path);
        QVERIFY(loaded.has_value());

        PublishSettingsDialog dialog(publishValues(loaded->publish), applyTo(path));
        dialog.setFileName(path);
        dialog.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dialog));
        dialog.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&dialog));

        setChecked(fieldOf<QCheckBox>(dialog, "enabled"), true);
        typeInto(fieldOf<QLineEdit>(dialog, "server"), QStringLiteral("presence.example.com"));
        choose(fieldOf<QComboBox>(dialog, "which_calls"), QStringLiteral("marked"));
        typeInto(fieldOf<QLineEdit>(dialog, "caller_entity_when_skipped"),
                 QStringLiteral("tel:+442071234567"));
        QTest::mouseClick(saveButton(dialog), Qt::LeftButton);

        // Still open, nothing written, the configuration's messages under the fields' names.
        QVERIFY(dialog.isVisible());
        QVERIFY(dialog.result() != QDialog::Accepted);
        QCOMPARE(readFile(path), kFile);
        const QString problems = dialog.problemsText();
        QVERIFY2(problems.startsWith(QStringLiteral("Not saved.")), qPrintable(problems));
        QVERIFY2(problems.contains(QStringLiteral("Server (server): 'presence.example.com': the "
                                                  "host must be an IP address")),
                 qPrintable(problems));
        QVERIFY2(problems.contains(QStringLiteral("Mark header (mark_header): is needed with "
                                                  "which_calls = marked")),
                 qPrintable(problems));
        QVERIFY2(problems.contains(
                     QStringLiteral("Skipped caller shown as (caller_entity_when_skipped): "
                                    "'tel:+442071234567' is not a SIP URI")),
                 qPrintable(problems));
        QVERIFY(dialog.isMarked(QStringLiteral("server")));
        QVERIFY(dialog.isMarked(QStringLiteral("mark_header")));
        QVERIFY(dialog.isMarked(QStringLiteral("caller_entity_when_skipped")));
        QVERIFY(!dialog.isMarked(QStringLiteral("transport")));
        // The problem is in the field's tooltip too, and the first bad field has the focus.
        QVERIFY(dialog.field(QStringLiteral("server"))
                    ->toolTip()
                    .startsWith(QStringLiteral("Problem: 'presence.example.com'")));
        QCOMPARE(QApplication::focusWidget(), dialog.field(QStringLiteral("server")));
        auto* problemsFrame = dialog.findChild<QWidget*>(QStringLiteral("publishProblems"));
        QVERIFY(problemsFrame && problemsFrame->isVisible());
        saveShot(dialog, QStringLiteral("publish_settings_problems.png"));

        // Fixed: saved, closed, marks gone.
        typeInto(fieldOf<QLineEdit>(dialog, "server"), QStringLiteral("127.0.0.2:5080"));
        typeInto(fieldOf<QLineEdit>(dialog, "mark_header"), QStringLiteral("X-Publish"));
        typeInto(fieldOf<QLineEdit>(dialog, "caller_entity_when_skipped"),
                 QStringLiteral("sip:anonymous@office.example"));
        QTest::mouseClick(saveButton(dialog), Qt::LeftButton);
        QCOMPARE(dialog.result(), int(QDialog::Accepted));
        QVERIFY(!dialog.isVisible());
        QCOMPARE(dialog.problemsText(), QString());
        QVERIFY(!dialog.isMarked(QStringLiteral("server")));
        const sb::Result<sb::app::Config> saved = sb::app::loadConfig(path);
        QVERIFY2(saved.has_value(), qPrintable(saved ? QString() : saved.error().reason));
        QCOMPARE(saved->publish.serverHost, QStringLiteral("127.0.0.2"));
        QCOMPARE(saved->publish.serverPort, quint16(5080));
        QCOMPARE(saved->publish.markHeader, QStringLiteral("X-Publish"));
    }

    void validInputIsSavedAndParsesBack() {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("switchboard.ini"));
        writeFile(path);
        PublishSettingsDialog dialog(publishValues(PublishConfig{}), applyTo(path));
        dialog.setFileName(path);
        dialog.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dialog));
        dialog.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&dialog));

        // Every field away from its default, through the widgets.
        setChecked(fieldOf<QCheckBox>(dialog, "enabled"), true);
        typeInto(fieldOf<QLineEdit>(dialog, "server"), QStringLiteral("[2001:db8::7]:5070"));
        choose(fieldOf<QComboBox>(dialog, "transport"), QStringLiteral("tcp"));
        QSpinBox* expires = fieldOf<QSpinBox>(dialog, "expires");
        expires->setFocus();
        expires->selectAll();
        QTest::keyClicks(expires, QStringLiteral("900"));
        QCOMPARE(expires->value(), 900);
        choose(fieldOf<QComboBox>(dialog, "compat"), QStringLiteral("kamailio"));
        choose(fieldOf<QComboBox>(dialog, "dialog_id"), QStringLiteral("counter"));
        setChecked(fieldOf<QCheckBox>(dialog, "include_callid"), false);
        setChecked(fieldOf<QCheckBox>(dialog, "include_tags"), false);
        setChecked(fieldOf<QCheckBox>(dialog, "include_localremote"), false);
        choose(fieldOf<QComboBox>(dialog, "display_names"), QStringLiteral("off"));
        choose(fieldOf<QComboBox>(dialog, "version"), QStringLiteral("zero"));
        choose(fieldOf<QComboBox>(dialog, "which_calls"), QStringLiteral("marked"));
        typeInto(fieldOf<QLineEdit>(dialog, "mark_header"), QStringLiteral("X-Publish"));
        choose(fieldOf<QComboBox>(dialog, "callee_entity"), QStringLiteral("request-uri"));
        fieldOf<QSpinBox>(dialog, "lifetime")->setValue(7200);
        setChecked(fieldOf<QCheckBox>(dialog, "caller_confirmed"), true);
        setChecked(fieldOf<QCheckBox>(dialog, "callee_trying"), true);
        setChecked(fieldOf<QCheckBox>(dialog, "publish_in_dialog"), true);
        typeInto(fieldOf<QLineEdit>(dialog, "skip_caller"),
                 QStringLiteral("201, *@partner.example, header:X-No-Publish"));
        typeInto(fieldOf<QLineEdit>(dialog, "skip_callee"), QStringLiteral("bob@office.example"));
        typeInto(fieldOf<QLineEdit>(dialog, "caller_entity_when_skipped"),
                 QStringLiteral("sip:anonymous@office.example;user=phone"));
        typeInto(fieldOf<QLineEdit>(dialog, "callee_entity_when_skipped"),
                 QStringLiteral("sip:reception@office.example"));
        saveShot(dialog, QStringLiteral("publish_settings_filled.png"));
        const PublishValues typed = dialog.values();

        QTest::mouseClick(saveButton(dialog), Qt::LeftButton);
        QVERIFY2(dialog.problemsText().isEmpty(), qPrintable(dialog.problemsText()));
        QCOMPARE(dialog.result(), int(QDialog::Accepted));

        // Parsed back by the configuration's own reader: the values typed.
        const QByteArray after = readFile(path);
        const sb::Result<sb::app::Config> loaded = sb::app::loadConfig(path);
        QVERIFY2(loaded.has_value(), qPrintable(loaded ? QString() : loaded.error().reason));
        QCOMPARE(publishValues(loaded->publish), typed);
        const PublishConfig& publish = loaded->publish;
        QVERIFY(publish.enabled);
        QCOMPARE(publish.serverHost, QStringLiteral("2001:db8::7"));
        QCOMPARE(publish.serverPort, quint16(5070));
        QCOMPARE(publish.transport, sb::transport::Protocol::Tcp);
        QCOMPARE(publish.expires, 900u);
        QCOMPARE(publish.lifetime, 7200u);
        QCOMPARE(publish.profile.compat, sb::dialoginfo::PublishProfile::Compat::Kamailio);
        QCOMPARE(publish.dialogId, PublishConfig::DialogIdStyle::Counter);
        QVERIFY(!publish.profile.includeCallId && !publish.profile.includeTags &&
                !publish.profile.includeLocalRemote);
        QVERIFY(publish.profile.callerConfirmed && publish.calleeTrying && publish.publishInDialog);
        QCOMPARE(publish.whichCalls, PublishConfig::WhichCalls::Marked);
        QCOMPARE(publish.calleeEntity, PublishConfig::CalleeEntity::RequestUri);
        QCOMPARE(publish.skipCaller,
                 (QStringList{"201", "*@partner.example", "header:X-No-Publish"}));
        QCOMPARE(publish.skipCallee, QStringList{QStringLiteral("bob@office.example")});
        QCOMPARE(publish.callerEntityWhenSkipped,
                 QStringLiteral("sip:anonymous@office.example;user=phone"));
        QCOMPARE(publish.profile.displayNames, sb::dialoginfo::PublishProfile::DisplayNames::Off);
        QCOMPARE(publish.profile.version, sb::dialoginfo::PublishProfile::Version::Zero);
        // Everything else as it was: the other sections, their comments, the section's own.
        QCOMPARE(withoutPublish(after), withoutPublish(kFile));
        QVERIFY(after.contains("[publish]\n; presence cluster: ask Dana before changing\n"));
        QCOMPARE(loaded->monitor.size(), std::size_t(2));
        QCOMPARE(loaded->monitor[1].name, QStringLiteral("Smith, Bob"));
    }

    void reachableFromTheWindow() {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("switchboard.ini"));
        writeFile(path);
        sb::base::ManualClock clock;
        sb::board::Console console(clock);
        MainWindow window(console);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        window.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&window));

        QAction* action = window.publishSettingsAction();
        QVERIFY(action);
        QCOMPARE(action->shortcut(), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_P));
        QVERIFY(!action->isEnabled());  // nothing to save to yet
        QMenu* settings = nullptr;
        for (QAction* menu : window.menuBar()->actions())
            if (menu->text() == QStringLiteral("&Settings")) settings = menu->menu();
        QVERIFY(settings);
        QVERIFY(settings->actions().contains(action));

        window.setPublishSettings(publishValues(PublishConfig{}), path, applyTo(path));
        QVERIFY(action->isEnabled());

        // The shortcut opens the dialog; Save with a new lifetime closes it and writes.
        bool seen = false;
        QTimer::singleShot(0, this, [&] {
            auto* dialog = qobject_cast<PublishSettingsDialog*>(QApplication::activeModalWidget());
            QVERIFY(dialog);
            seen = true;
            QVERIFY(dialog->noticeText().contains(path));
            fieldOf<QSpinBox>(*dialog, "lifetime")->setValue(60);
            QTest::mouseClick(saveButton(*dialog), Qt::LeftButton);
        });
        QTest::keyClick(&window, Qt::Key_P, Qt::ControlModifier | Qt::ShiftModifier);
        QVERIFY(seen);
        QVERIFY(readFile(path).contains("lifetime = 60\n"));

        // Opened again, it starts from what was saved; Cancel writes nothing.
        const QByteArray before = readFile(path);
        seen = false;
        QTimer::singleShot(0, this, [&] {
            auto* dialog = qobject_cast<PublishSettingsDialog*>(QApplication::activeModalWidget());
            QVERIFY(dialog);
            seen = true;
            QCOMPARE(fieldOf<QSpinBox>(*dialog, "lifetime")->value(), 60);
            fieldOf<QSpinBox>(*dialog, "lifetime")->setValue(5);
            dialog->reject();
        });
        action->trigger();
        QVERIFY(seen);
        QCOMPARE(readFile(path), before);
    }
};

QTEST_MAIN(TstPublishSettingsDialog)
#include "tst_publish_settings_dialog.moc"
