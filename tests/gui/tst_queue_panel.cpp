// The call queue (ui/queue_panel.*, ui/queue_model.*, ui/queue_delegate.*) on the offscreen
// platform, fed by a fake OperatorActions: waiting calls listed longest first with caller,
// number called, live waiting time, how they came and what the last action came to; the
// keys (Enter to my phone, Delete and a status key to reject, F asks for the forward
// dialog); calls that change, come back or leave; what actions did told as notices.
// Screenshots of a queue with waiting calls, alone and beside the board, for review.

#include <QAbstractItemModelTester>
#include <QAction>
#include <QApplication>
#include <QDir>
#include <QLabel>
#include <QListView>
#include <QMenu>
#include <QSignalSpy>
#include <QTest>

#include "base/manual_clock.h"
#include "board/console.h"
#include "fake_operator_actions.h"
#include "ui/board_model.h"
#include "ui/main_window.h"
#include "ui/queue_model.h"
#include "ui/queue_panel.h"
#include "ui/server_panel.h"

using sb::ui::QueuedCall;
using sb::ui::QueueModel;
using sb::ui::QueuePanel;

namespace {

const QDateTime kNow = QDateTime(QDate(2024, 5, 6), QTime(10, 30, 0), Qt::UTC);

// Three calls as a Monday morning brings them: one back from 203, one sent on by 204's
// phone, one new.
QList<QueuedCall> morningCalls() {
    return {
        waitingCall(11, QStringLiteral("Meyer Logistics"), QStringLiteral("+4930123456"),
                    kNow.addSecs(-42)),
        waitingCall(7, QStringLiteral("ACME Corp"), QStringLiteral("+442071234567"),
                    kNow.addSecs(-135), {QStringLiteral("from 203, no-answer")},
                    QStringLiteral("203 busy")),
        waitingCall(
            9, QString(), QStringLiteral("0301234567"), kNow.addSecs(-75),
            {QStringLiteral("from 204, user-busy"), QStringLiteral("from 250, unconditional")}),
    };
}

void saveShot(QWidget& widget, const QString& name) {
    QApplication::processEvents();
    const QPixmap shot = widget.grab();
    QVERIFY(!shot.isNull());
    const QString dir =
        qEnvironmentVariable("SB_BINARY_DIR", QDir::currentPath()) + QStringLiteral("/screenshots");
    QVERIFY(QDir().mkpath(dir));
    const QString path = dir + u'/' + name;
    QVERIFY2(shot.save(path), qPrintable(path));
}

struct Panel {
    Panel() {
        actions.calls = morningCalls();
        panel.model()->setClock([this] { return now; });
        panel.setActions(&actions);
        panel.resize(380, 460);
    }
    QDateTime now = kNow;
    FakeOperatorActions actions;
    QueuePanel panel;
};

QStringList callers(const QueueModel& model) {
    QStringList out;
    for (int row = 0; row < model.rowCount(); ++row)
        out << model.index(row).data(QueueModel::CallerRole).toString();
    return out;
}

}  // namespace

class TstQueuePanel : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { QCOMPARE(QGuiApplication::platformName(), QStringLiteral("offscreen")); }

    void listsWaitingCallsLongestFirst() {
        Panel p;
        QAbstractItemModelTester tester(p.panel.model(),
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        const QueueModel& model = *p.panel.model();
        QCOMPARE(callers(model), (QStringList{"ACME Corp · +442071234567", "0301234567",
                                              "Meyer Logistics · +4930123456"}));
        const QModelIndex first = model.index(0);
        QCOMPARE(first.data(QueueModel::CallRole).toULongLong(), quint64(7));
        QCOMPARE(first.data(QueueModel::CalledRole).toString(), QStringLiteral("200"));
        QCOMPARE(first.data(QueueModel::WaitingTextRole).toString(), QStringLiteral("02:15"));
        QCOMPARE(first.data(QueueModel::StateTextRole).toString(), QStringLiteral("Waiting"));
        QCOMPARE(first.data(QueueModel::HistoryTextRole).toString(),
                 QStringLiteral("from 203, no-answer"));
        QCOMPARE(first.data(QueueModel::OutcomeRole).toString(), QStringLiteral("203 busy"));
        QCOMPARE(first.data(Qt::AccessibleTextRole).toString(),
                 QStringLiteral("ACME Corp · +442071234567, called 200: Waiting, for 02:15; came "
                                "from 203, no-answer; back: 203 busy"));
        QCOMPARE(model.index(1).data(QueueModel::HistoryTextRole).toString(),
                 QStringLiteral("from 204, user-busy; from 250, unconditional"));
        QCOMPARE(p.panel.headerText(), QStringLiteral("3 calls waiting"));
        QCOMPARE(p.panel.view()->currentIndex().row(), 0);

        // Waiting times are live.
        p.now = kNow.addSecs(60);
        p.panel.model()->refreshTimes();
        QCOMPARE(model.index(0).data(QueueModel::WaitingTextRole).toString(),
                 QStringLiteral("03:15"));
        QVERIFY(!p.panel.isTicking());  // hidden: nothing to tick for
        p.panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&p.panel));
        QVERIFY(p.panel.isTicking());
    }

    void keysActOnTheCurrentCall() {
        Panel p;
        QSignalSpy notices(&p.panel, &QueuePanel::notice);
        QSignalSpy forwards(&p.panel, &QueuePanel::forwardRequested);
        p.panel.show();
        p.panel.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&p.panel));
        QListView* view = p.panel.view();
        view->setFocus();

        // Enter: to my phone.
        QTest::keyClick(view, Qt::Key_Return);
        QCOMPARE(p.actions.toPhone, QList<quint64>{7});
        QCOMPARE(notices.count(), 1);
        QCOMPARE(notices.at(0).at(0).toString(),
                 QStringLiteral("ACME Corp · +442071234567: Sending the call to your phone (201)"));
        QCOMPARE(notices.at(0).at(1).toBool(), false);

        // Delete: the status choice, each with its key; D is 603 Decline.
        QTest::keyClick(view, Qt::Key_Down);
        QCOMPARE(p.panel.currentCall()->call, quint64(9));
        QTest::keyClick(view, Qt::Key_Delete);
        QMenu* menu = p.panel.rejectMenu();
        QTRY_VERIFY(menu->isVisible());
        QStringList choices;
        for (QAction* action : menu->actions())
            choices << action->text();
        QCOMPARE(choices, (QStringList{"486 &Busy Here", "603 &Decline",
                                       "480 Temporarily &Unavailable", "404 &Not Found"}));
        QTest::keyClick(menu, Qt::Key_D);
        QTRY_VERIFY(!menu->isVisible());
        QCOMPARE(p.actions.rejects, (QList<QPair<quint64, int>>{{9, 603}}));
        QCOMPARE(notices.last().at(0).toString(), QStringLiteral("0301234567: Rejected with 603"));

        // Delete, then Esc: nothing is rejected.
        QTest::keyClick(view, Qt::Key_Delete);
        QTRY_VERIFY(menu->isVisible());
        QTest::keyClick(menu, Qt::Key_Escape);
        QTRY_VERIFY(!menu->isVisible());
        QCOMPARE(p.actions.rejects.size(), 1);

        // F: the window is asked for the forward dialog of this call.
        view->setFocus();
        QTest::keyClick(view, Qt::Key_F);
        QCOMPARE(forwards.count(), 1);
        QCOMPARE(forwards.at(0).at(0).value<QueuedCall>().call, quint64(9));

        // A failed action is a problem notice with the session's reason; the call stays.
        p.actions.failure = QStringLiteral("no operator phone is configured ([attendant] phone)");
        QTest::keyClick(view, Qt::Key_Return);
        QCOMPARE(notices.last().at(0).toString(),
                 QStringLiteral("0301234567: no operator phone is configured ([attendant] phone)"));
        QCOMPARE(notices.last().at(1).toBool(), true);
        QCOMPARE(p.panel.model()->rowCount(), 3);
    }

    void followsTheSessionsCalls() {
        Panel p;
        QSignalSpy notices(&p.panel, &QueuePanel::notice);
        QueueModel& model = *p.panel.model();
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);

        // A new call goes where its waiting time puts it.
        p.actions.change(waitingCall(12, QStringLiteral("New caller"), QStringLiteral("555"),
                                     kNow.addSecs(-100)));
        QCOMPARE(model.rowCount(), 4);
        QCOMPARE(model.index(1).data(QueueModel::CallRole).toULongLong(), quint64(12));
        QCOMPARE(p.panel.headerText(), QStringLiteral("4 calls waiting"));

        // Sent to the phone: the state shows, Enter is no longer offered.
        QueuedCall acme = p.actions.calls.at(1);
        acme.state = QStringLiteral("to-phone");
        acme.target = QStringLiteral("201");
        acme.outcome.clear();
        p.actions.change(acme);
        QCOMPARE(model.index(0).data(QueueModel::StateTextRole).toString(),
                 QStringLiteral("Ringing your phone (201)"));
        p.panel.view()->setCurrentIndex(model.index(0));
        QVERIFY(!p.panel.sendToPhoneAction()->isEnabled());
        QVERIFY(p.panel.forwardAction()->isEnabled());

        // Forwarded and back: the outcome shows, and the operator hears of it.
        acme.state = QStringLiteral("forwarding");
        acme.target = QStringLiteral("204");
        p.actions.change(acme);
        QCOMPARE(model.index(0).data(QueueModel::StateTextRole).toString(),
                 QStringLiteral("Forwarding to 204"));
        acme.state = QStringLiteral("waiting");
        acme.target.clear();
        acme.outcome = QStringLiteral("204 did not answer");
        p.actions.change(acme);
        QCOMPARE(model.index(0).data(QueueModel::OutcomeRole).toString(),
                 QStringLiteral("204 did not answer"));
        QCOMPARE(notices.last().at(0).toString(),
                 QStringLiteral("ACME Corp · +442071234567 is back in the queue: 204 did not "
                                "answer"));
        QCOMPARE(notices.last().at(1).toBool(), true);

        // Answered: it leaves, and the operator hears by whom.
        acme.state = QStringLiteral("answered");
        acme.outcome = QStringLiteral("answered by 203");
        acme.status = 200;
        p.actions.change(acme);
        QCOMPARE(model.rowCount(), 3);
        QCOMPARE(model.rowOf(7), -1);
        QCOMPARE(notices.last().at(0).toString(),
                 QStringLiteral("ACME Corp · +442071234567: answered by 203"));
        QCOMPARE(notices.last().at(1).toBool(), false);
        QVERIFY(p.panel.currentCall().has_value());

        // A pickup that failed (not a queued call) is told as a problem, and never listed.
        QueuedCall pickup = waitingCall(30, QStringLiteral("Bob"), QStringLiteral("299"), kNow);
        pickup.queued = false;
        pickup.state = QStringLiteral("picking-up");
        p.actions.change(pickup);
        QCOMPARE(model.rowOf(30), -1);
        pickup.state = QStringLiteral("returned");
        pickup.outcome = QStringLiteral("pickup failed: your phone busy; ringing 202 again");
        p.actions.change(pickup);
        QCOMPARE(notices.last().at(0).toString(),
                 QStringLiteral("Bob · 299: pickup failed: your phone busy; ringing 202 again"));
        QCOMPARE(notices.last().at(1).toBool(), true);

        // The caller gave up on the others.
        for (quint64 id : {quint64(9), quint64(11), quint64(12)}) {
            QueuedCall gone = *model.callAt(model.rowOf(id));
            gone.state = QStringLiteral("gone");
            gone.status = 487;
            p.actions.change(gone);
        }
        QCOMPARE(model.rowCount(), 0);
        QCOMPARE(p.panel.headerText(),
                 QStringLiteral("No calls waiting. Calls to the reception number wait here."));
        QVERIFY(!p.panel.forwardAction()->isEnabled());
        QVERIFY(!p.panel.sendToPhoneAction()->isEnabled());
        QVERIFY(!p.panel.rejectAction()->isEnabled());
    }

    void withoutActionsEverythingIsDisabled() {
        QueuePanel panel;
        QVERIFY(!panel.forwardAction()->isEnabled());
        QCOMPARE(panel.forwardAction()->toolTip(),
                 QStringLiteral("Operator actions need a running session"));
    }

    void screenshots() {
        Panel p;
        p.panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&p.panel));
        saveShot(p.panel, QStringLiteral("queue_panel.png"));
        p.panel.setScheme(sb::ui::LampStyle::Scheme::Dark);

        // Beside the board, as the operator sees it.
        sb::base::ManualClock clock;
        sb::board::Console console(clock);
        console.setDomain(QStringLiteral("example.com"));
        for (const auto& [number, name] : {std::pair{"201", "Alice Example"},
                                           {"202", "Bob Martin"},
                                           {"203", "Anna Schmidt"},
                                           {"204", "Dan Okafor"},
                                           {"205", "Joan Anders"},
                                           {"206", "Frank Moreau"},
                                           {"207", "Grace Hopper-Smith"},
                                           {"208", "Heidi Sato"},
                                           {"209", "Ivan Petrov"},
                                           {"250", "Meeting room"}}) {
            QVERIFY(console.monitor({number, name, {}, {}}).has_value());
            sb::ua::SubscriptionStatus active;
            active.state = sb::ua::SubscriptionStatus::State::Active;
            console.setSubscriptionStatus(QString::fromLatin1(number), active);
            sb::dialoginfo::Document doc;
            doc.entity = QStringLiteral("sip:%1@example.com").arg(QString::fromLatin1(number));
            if (QByteArrayView(number) == "202") {
                sb::dialoginfo::DialogInfo ringing;
                ringing.id = QStringLiteral("r202");
                ringing.direction = sb::dialoginfo::Direction::Recipient;
                ringing.state = sb::dialoginfo::DialogState::Early;
                ringing.remote.display = QStringLiteral("Harbour Hotel");
                ringing.remote.identity = QStringLiteral("sip:+4940555123@example.com");
                doc.dialogs = {ringing};
            }
            QCOMPARE(console.applyDocument(doc, QString::fromLatin1(number)),
                     sb::board::ApplyResult::Applied);
        }
        sb::ui::MainWindow window(console);
        window.queuePanel()->model()->setClock([] { return kNow; });
        window.setOperatorActions(&p.actions);
        window.showServerMode(QStringLiteral("example.com"),
                              {QStringLiteral("udp:127.0.0.1:5060")});
        window.serverPanel()->hide();
        window.resize(1100, 640);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        window.showNotice(QStringLiteral("Forwarded to 203 Anna Schmidt, user-busy"), false);
        saveShot(window, QStringLiteral("board_with_queue.png"));
        window.setDarkPalette(true);
        window.showNotice(
            QStringLiteral("ACME Corp · +442071234567 is back in the queue: 203 busy"), true);
        saveShot(window, QStringLiteral("board_with_queue_dark.png"));
    }

    // Client mode shows no queue until a call waits in it; a waiting call then brings it
    // into view, even after the operator closed it.
    void aWaitingCallBringsTheQueueIntoView() {
        sb::base::ManualClock clock;
        sb::board::Console console(clock);
        sb::ui::MainWindow window(console);
        FakeOperatorActions actions;
        window.setOperatorActions(&actions);
        window.resize(900, 500);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QVERIFY(window.queuePanel()->isHidden());

        sb::ui::QueuedCall gone = morningCalls().front();
        gone.state = QStringLiteral("forwarded");
        actions.change(gone);  // a call that left shows nothing new
        QVERIFY(window.queuePanel()->isHidden());

        const sb::ui::QueuedCall waiting = morningCalls().front();
        actions.calls = {waiting};
        actions.change(waiting);
        QVERIFY(window.queuePanel()->isVisible());
        QCOMPARE(window.queuePanel()->model()->rowCount(), 1);

        window.queuePanel()->close();
        QVERIFY(window.queuePanel()->isHidden());
        actions.change(morningCalls().at(1));
        QVERIFY(window.queuePanel()->isVisible());
    }
};

QTEST_MAIN(TstQueuePanel)
#include "tst_queue_panel.moc"
