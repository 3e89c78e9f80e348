// The server panel's Publishing table (ui/publication_table.*) on the offscreen platform:
// per entity, the dialog states the presence server holds, the last result and when;
// failures marked by icon, tint and text; rows changed in place (no reset, one insert per
// entity) and memory bounded; the panel's part (hidden until publishing, the summary's
// failure count, failures sorted first). Screenshots of the panel and of the window.

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QIcon>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QTest>

#include "base/manual_clock.h"
#include "board/console.h"
#include "shown_text.h"
#include "ui/main_window.h"
#include "ui/publication_table.h"
#include "ui/server_panel.h"

using sb::ui::MainWindow;
using sb::ui::PublicationTableModel;
using sb::ui::PublicationUpdate;
using sb::ui::ServerPanel;
using Result = sb::ui::PublicationUpdate::Result;

namespace {

const QString kDomain = QStringLiteral("switchboard.local");
const QDateTime kNow = QDateTime(QDate(2024, 5, 6), QTime(10, 0), Qt::UTC);

PublicationUpdate report(const QString& user, const QString& dialog, Result result,
                         const QString& state, int code = 200, const QString& reason = {}) {
    PublicationUpdate update;
    update.entity = user.contains(u'@') ? QStringLiteral("sip:") + user
                                        : QStringLiteral("sip:%1@%2").arg(user, kDomain);
    update.dialog = dialog;
    update.result = result;
    update.dialogState = state;
    update.code = result == Result::Removed ? 0 : code;
    update.reason = reason;
    return update;
}

// A cell's text; a tooltip as a person reads it.
QString cell(const QAbstractItemModel* model, int row, int column, int role = Qt::DisplayRole) {
    const QString text = model->index(row, column).data(role).toString();
    return role == Qt::ToolTipRole ? sb::test::shownToolTip(text) : text;
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

// An office where publishing runs: 201 talks to 202 while a call from outside rings 202
// (call waiting), 203's calls fail at the presence server (503), 204's last call ended.
void feedOffice(ServerPanel& panel) {
    panel.updatePublication(report("201", "a1", Result::Published, "early"));
    panel.updatePublication(report("202", "b1", Result::Published, "early"));
    panel.updatePublication(report("201", "a1", Result::Published, "confirmed"));
    panel.updatePublication(report("202", "b1", Result::Published, "confirmed"));
    panel.updatePublication(report("202", "b2", Result::Published, "early"));
    panel.updatePublication(report("204", "d1", Result::Published, "confirmed"));
    panel.updatePublication(report("204", "d1", Result::Published, "terminated"));
    panel.updatePublication(report("203", "c1", Result::Failed, "early", 503,
                                   QStringLiteral("503 Service Unavailable")));
    panel.updatePublication(report("alice@partner.example", "e1", Result::Published, "early"));
}

}  // namespace

class TstPublicationTable : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { QCOMPARE(QGuiApplication::platformName(), QStringLiteral("offscreen")); }

    void statesAndResultsPerEntity() {
        PublicationTableModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setLocalDomain(kDomain);
        model.update(report("201", "a1", Result::Published, "early"), kNow);
        QCOMPARE(model.rowCount(), 1);
        QCOMPARE(model.heldStates(0), QStringList{QStringLiteral("early")});
        QCOMPARE(cell(&model, 0, PublicationTableModel::EntityColumn), QStringLiteral("201"));
        QCOMPARE(cell(&model, 0, PublicationTableModel::EntityColumn, Qt::ToolTipRole),
                 QStringLiteral("sip:201@switchboard.local"));
        QCOMPARE(cell(&model, 0, PublicationTableModel::PublishedColumn), QStringLiteral("Early"));
        QCOMPARE(cell(&model, 0, PublicationTableModel::ResultColumn), QStringLiteral("Published"));
        QCOMPARE(model.index(0, PublicationTableModel::WhenColumn).data(sb::ui::kServerSortRole),
                 QVariant(kNow.toMSecsSinceEpoch()));

        // The same dialog answered: its state changes, the row stays.
        model.update(report("201", "a1", Result::Published, "confirmed"), kNow.addSecs(3));
        QCOMPARE(model.rowCount(), 1);
        QCOMPARE(model.heldStates(0), QStringList{QStringLiteral("confirmed")});
        // Call waiting: a second dialog rings; the ringing one is named first.
        model.update(report("201", "a2", Result::Published, "early"), kNow.addSecs(5));
        QCOMPARE(model.heldStates(0), (QStringList{"early", "confirmed"}));
        QCOMPARE(cell(&model, 0, PublicationTableModel::PublishedColumn),
                 QStringLiteral("Early, Confirmed"));
        QVERIFY(cell(&model, 0, PublicationTableModel::PublishedColumn, Qt::ToolTipRole)
                    .contains(QStringLiteral("Dialog a2: Early")));

        // Both end: the end is what the server holds (until it runs out).
        model.update(report("201", "a2", Result::Published, "terminated"), kNow.addSecs(6));
        QCOMPARE(model.heldStates(0), QStringList{QStringLiteral("confirmed")});
        model.update(report("201", "a1", Result::Published, "terminated"), kNow.addSecs(7));
        QCOMPARE(model.heldStates(0), QStringList{QStringLiteral("terminated")});
        QCOMPARE(cell(&model, 0, PublicationTableModel::PublishedColumn),
                 QStringLiteral("Terminated"));
        // Removed: the server holds nothing.
        model.update(report("201", "a1", Result::Removed, "terminated"), kNow.addSecs(8));
        QCOMPARE(model.heldStates(0), QStringList());
        QCOMPARE(cell(&model, 0, PublicationTableModel::PublishedColumn), QStringLiteral("None"));
        QCOMPARE(cell(&model, 0, PublicationTableModel::ResultColumn), QStringLiteral("Removed"));

        // Another domain's entity is shown with its domain.
        model.update(report("alice@partner.example", "x", Result::Published, "early"), kNow);
        QCOMPARE(cell(&model, model.rowOf("sip:alice@partner.example"),
                      PublicationTableModel::EntityColumn),
                 QStringLiteral("alice@partner.example"));
    }

    void failuresAreMarkedNotByColourAlone() {
        PublicationTableModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.update(report("202", "b1", Result::Published, "early"), kNow);
        model.update(report("202", "b1", Result::Failed, "confirmed", 503,
                            QStringLiteral("503 Service Unavailable")),
                     kNow.addSecs(1));
        QCOMPARE(model.failingEntities(), 1);
        QVERIFY(model.isFailing(0));
        // Text, icon and tint say it; the held state is still the accepted one.
        QCOMPARE(cell(&model, 0, PublicationTableModel::ResultColumn),
                 QStringLiteral("Failed: 503 Service Unavailable"));
        const QIcon icon = model.index(0, PublicationTableModel::ResultColumn)
                               .data(Qt::DecorationRole)
                               .value<QIcon>();
        QVERIFY(!icon.isNull());
        QVERIFY(
            model.index(0, PublicationTableModel::EntityColumn).data(Qt::BackgroundRole).isValid());
        QCOMPARE(model.index(0, 0).data(sb::ui::kPublicationFailedRole), QVariant(true));
        QCOMPARE(model.heldStates(0), QStringList{QStringLiteral("early")});
        const QString why = cell(&model, 0, PublicationTableModel::ResultColumn, Qt::ToolTipRole);
        QVERIFY2(why.contains(QStringLiteral("Confirmed")) && why.contains(QStringLiteral("b1")) &&
                     why.contains(QStringLiteral("1 failure")),
                 qPrintable(why));
        QCOMPARE(cell(&model, 0, PublicationTableModel::PublishedColumn, Qt::ToolTipRole),
                 QStringLiteral("Dialog b1: Early (Confirmed not accepted yet)"));

        // A code without a reason; a timeout is a failure like another.
        model.update(report("203", "c1", Result::Failed, "early", 408), kNow);
        QCOMPARE(cell(&model, 1, PublicationTableModel::ResultColumn),
                 QStringLiteral("Failed: 408"));
        QCOMPARE(model.failingEntities(), 2);

        // The retry goes through: the mark goes, the count of failures stays in the tooltip.
        model.update(report("202", "b1", Result::Published, "confirmed"), kNow.addSecs(9));
        QVERIFY(!model.isFailing(0));
        QCOMPARE(model.failingEntities(), 1);
        QVERIFY(!model.index(0, PublicationTableModel::ResultColumn)
                     .data(Qt::DecorationRole)
                     .isValid());
        QVERIFY(!model.index(0, 0).data(Qt::BackgroundRole).isValid());
        QCOMPARE(model.heldStates(0), QStringList{QStringLiteral("confirmed")});
        QVERIFY(cell(&model, 0, PublicationTableModel::ResultColumn, Qt::ToolTipRole)
                    .contains(QStringLiteral("1 failure")));
    }

    void rowsChangeInPlace() {
        PublicationTableModel model;
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        constexpr int kEntities = 3000;
        const QStringList states = {"trying", "early", "confirmed", "terminated"};
        QElapsedTimer timer;
        timer.start();
        for (const QString& state : states)
            for (int n = 0; n < kEntities; ++n)
                model.update(report(QString::number(1000 + n), QStringLiteral("d%1").arg(n),
                                    Result::Published, state),
                             kNow);
        qInfo() << "12000 updates over 3000 entities in" << timer.elapsed() << "ms";
        QCOMPARE(model.rowCount(), kEntities);
        QCOMPARE(inserted.size(), kEntities);
        QCOMPARE(reset.size(), 0);
        QCOMPARE(changed.size(), kEntities * int(states.size()));
        // Each change is one row, every column.
        const QList<QVariant> last = changed.constLast();
        QCOMPARE(last.at(0).toModelIndex().row(), last.at(1).toModelIndex().row());
        QCOMPARE(last.at(1).toModelIndex().column(), PublicationTableModel::kColumnCount - 1);
        QCOMPARE(model.heldStates(kEntities - 1), QStringList{QStringLiteral("terminated")});
        QVERIFY2(timer.elapsed() < 5000, "updates must stay cheap");
    }

    void memoryIsBounded() {
        PublicationTableModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        // Dialogs whose end never came back (the server was down) do not pile up.
        for (int n = 0; n < 50; ++n)
            model.update(report("201", QStringLiteral("lost%1").arg(n), Result::Published, "early"),
                         kNow.addSecs(n));
        const QString dialogs =
            cell(&model, 0, PublicationTableModel::PublishedColumn, Qt::ToolTipRole);
        QCOMPARE(dialogs.count(QStringLiteral("Dialog ")),
                 PublicationTableModel::kMaxDialogsPerEntity);
        QVERIFY(dialogs.contains(QStringLiteral("lost49")));
        QVERIFY(!dialogs.contains(QStringLiteral("lost0:")));

        // Entities: the least recently updated one that is not failing makes room.
        model.setMaxEntities(3);
        model.update(report("202", "b", Result::Failed, "early", 503), kNow.addSecs(-100));
        model.update(report("203", "c", Result::Published, "early"), kNow.addSecs(100));
        QCOMPARE(model.rowCount(), 3);
        model.update(report("204", "d", Result::Published, "early"), kNow.addSecs(200));
        QCOMPARE(model.rowCount(), 3);
        QCOMPARE(model.rowOf("sip:201@switchboard.local"), -1);
        QVERIFY(model.rowOf("sip:202@switchboard.local") >= 0);  // failing: kept in sight
        QVERIFY(model.rowOf("sip:203@switchboard.local") >= 0);
        QVERIFY(model.rowOf("sip:204@switchboard.local") >= 0);
        QCOMPARE(model.failingEntities(), 1);
        for (int row = 0; row < model.rowCount(); ++row)
            QCOMPARE(model.rowOf(cell(&model, row, 0, Qt::ToolTipRole)), row);
    }

    void panelShowsPublishing() {
        ServerPanel panel;
        panel.setClock([] { return kNow; });
        panel.setServerInfo(kDomain, {QStringLiteral("udp:127.0.0.1:5060")});
        panel.resize(1100, 300);
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        // Not publishing: nothing to show, nothing said.
        QVERIFY(!panel.publicationsBox()->isVisible());
        QVERIFY(!panel.summaryText().contains(QStringLiteral("publishing")));

        panel.setPublishing(QStringLiteral("udp:127.0.0.2:5060"));
        QVERIFY(panel.publicationsBox()->isVisible());
        QVERIFY2(panel.summaryText().endsWith(QStringLiteral("publishing to udp:127.0.0.2:5060")),
                 qPrintable(panel.summaryText()));
        feedOffice(panel);
        QVERIFY2(panel.summaryText().endsWith(
                     QStringLiteral("publishing to udp:127.0.0.2:5060, 1 failing")),
                 qPrintable(panel.summaryText()));

        // Failures first in the view, whatever order they came in.
        const QAbstractItemModel* shown = panel.publicationsProxy();
        QCOMPARE(shown->rowCount(), 5);
        QCOMPARE(cell(shown, 0, PublicationTableModel::EntityColumn), QStringLiteral("203"));
        QCOMPARE(cell(shown, 0, PublicationTableModel::ResultColumn),
                 QStringLiteral("Failed: 503 Service Unavailable"));
        QCOMPARE(shown->index(0, 0).data(sb::ui::kPublicationFailedRole), QVariant(true));
        for (int row = 1; row < shown->rowCount(); ++row)
            QCOMPARE(shown->index(row, 0).data(sb::ui::kPublicationFailedRole), QVariant(false));
        QCOMPARE(panel.publicationsView()->model(), panel.publicationsProxy());
        QCOMPARE(panel.publicationsView()->accessibleName(), QStringLiteral("Publishing"));
        QApplication::processEvents();
        // The splitter gives the table room of its own beside the other two.
        QVERIFY2(panel.publicationsView()->width() > panel.width() / 4,
                 qPrintable(QString::number(panel.publicationsView()->width())));
        saveShot(panel, QStringLiteral("server_panel_publishing.png"));

        // The failure clears: so does the summary's count.
        panel.updatePublication(report("203", "c1", Result::Published, "early"));
        QVERIFY2(panel.summaryText().endsWith(QStringLiteral("publishing to udp:127.0.0.2:5060")),
                 qPrintable(panel.summaryText()));
    }

    void reportsShowTheTableEvenWithoutATarget() {
        ServerPanel panel;
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        QVERIFY(!panel.publicationsBox()->isVisible());
        panel.updatePublication(report("201", "a1", Result::Published, "early"));
        QVERIFY(panel.publicationsBox()->isVisible());
        QVERIFY(panel.summaryText().endsWith(QStringLiteral("publishing")));
    }

    void windowWithPublishing() {
        sb::base::ManualClock clock;
        sb::board::Console console(clock);
        console.setDomain(kDomain);
        for (const char* number : {"201", "202", "203", "204"})
            QVERIFY(console
                        .monitor({QString::fromLatin1(number),
                                  QStringLiteral("User ") + QString::fromLatin1(number),
                                  {},
                                  {}})
                        .has_value());
        MainWindow window(console);
        window.resize(1280, 760);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        window.showServerMode(kDomain, {QStringLiteral("udp:127.0.0.1:5060")});
        ServerPanel* panel = window.serverPanel();
        panel->setClock([] { return kNow; });
        panel->setPublishing(QStringLiteral("udp:127.0.0.2:5060"));
        feedOffice(*panel);
        QVERIFY(panel->isVisible());
        QVERIFY(panel->publicationsView()->isVisible());
        QCOMPARE(panel->publicationsModel()->failingEntities(), 1);
        QApplication::processEvents();
        saveShot(window, QStringLiteral("main_window_publishing.png"));
    }
};

QTEST_MAIN(TstPublicationTable)
#include "tst_publication_table.moc"
