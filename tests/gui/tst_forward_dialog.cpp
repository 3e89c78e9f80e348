// The forward dialog (ui/forward_dialog.*) on the offscreen platform, opened the way the
// operator opens it — F on a queued call or on a ringing tile of the real main window —
// and driven by keys only: type-ahead over the directory, Down into the matches, Enter
// picks, the reason's key, Enter forwards. Also: every reason has its own key, the
// administrator's reasons get digits, a malformed URI is explained as it is typed, a call
// that stops ringing disables Forward and says so, a failed forward keeps the dialog open
// with the reason. Screenshots of the dialog for review.

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QLineEdit>
#include <QListView>
#include <QListWidget>
#include <QPushButton>
#include <QRadioButton>
#include <QSet>
#include <QTest>

#include <map>

#include "base/manual_clock.h"
#include "board/console.h"
#include "fake_operator_actions.h"
#include "ui/board_filter_proxy.h"
#include "ui/board_model.h"
#include "ui/board_view.h"
#include "ui/forward_dialog.h"
#include "ui/main_window.h"
#include "ui/queue_model.h"
#include "ui/queue_panel.h"

using sb::base::ManualClock;
using sb::board::Console;
using sb::board::Extension;
using sb::dialoginfo::DialogInfo;
using sb::dialoginfo::DialogState;
using sb::dialoginfo::Direction;
using sb::dialoginfo::Document;
using sb::ui::BoardModel;
using sb::ui::ForwardCall;
using sb::ui::ForwardDialog;
using sb::ui::MainWindow;
using sb::ui::QueuedCall;

namespace {

const QDateTime kNow = QDateTime(QDate(2024, 5, 6), QTime(10, 30, 0), Qt::UTC);

const std::vector<Extension> kDirectory = {
    {"201", "Alice Example", "Sales", {}},  {"202", "Bob Martin", "Sales", {}},
    {"203", "Anna Schmidt", "Support", {}}, {"204", "Dan Okafor", "Support", {}},
    {"205", "Joan Anders", "Sales", {}},    {"206", "Frank Moreau", "Support", {}},
    {"250", "Meeting room", "", {}},
};

// The office's board, lit from dialog-info documents as the console gets them.
class Board {
public:
    Board() : console(clock) {
        console.setDomain(QStringLiteral("example.com"));
        for (const Extension& extension : kDirectory) {
            QVERIFY(console.monitor(extension).has_value());
            sb::ua::SubscriptionStatus active;
            active.state = sb::ua::SubscriptionStatus::State::Active;
            console.setSubscriptionStatus(extension.number, active);
            show(extension.number, {});
        }
    }
    void show(const QString& number, std::vector<DialogInfo> dialogs) {
        Document doc;
        doc.version = m_version[number]++;
        doc.entity = QStringLiteral("sip:%1@example.com").arg(number);
        doc.dialogs = std::move(dialogs);
        QCOMPARE(console.applyDocument(doc, number), sb::board::ApplyResult::Applied);
    }
    void ringing(const QString& number, const QString& display, const QString& from) {
        DialogInfo d;
        d.id = QStringLiteral("r") + number;
        d.direction = Direction::Recipient;
        d.state = DialogState::Early;
        d.remote.identity = from;
        d.remote.display = display;
        show(number, {d});
    }

    ManualClock clock;
    Console console;

private:
    std::map<QString, quint64> m_version;
};

void settle(MainWindow& window) {
    QCoreApplication::processEvents();
    QTRY_VERIFY(!window.boardModel()->hasPendingChanges());
    QCoreApplication::processEvents();
}

// Keys go where the focus is in that window, as a user's do.
void press(QWidget* window, Qt::Key key) {
    QWidget* target = window->focusWidget() ? window->focusWidget() : window;
    QTest::keyClick(target, key);
}

void type(QWidget* window, const QString& text) {
    QWidget* target = window->focusWidget() ? window->focusWidget() : window;
    QTest::keyClicks(target, text);
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

QModelIndex tile(const MainWindow& window, const QString& number) {
    const auto* proxy = window.boardProxy();
    for (int row = 0; row < proxy->rowCount(); ++row) {
        const QModelIndex index = proxy->index(row, 0);
        if (index.data(BoardModel::NumberRole).toString() == number) return index;
    }
    return {};
}

// A dialog on its own, for a call waiting in the queue for 1:15.
struct Standalone {
    Standalone() {
        ForwardCall call;
        call.call = 7;
        call.caller = QStringLiteral("ACME Corp · +442071234567");
        call.where = QStringLiteral("Waiting in the queue (called 200)");
        call.ringingSeconds = [] { return qint64(75); };
        dialog = std::make_unique<ForwardDialog>(call, actions, kDirectory);
    }
    FakeOperatorActions actions;
    std::unique_ptr<ForwardDialog> dialog;
};

}  // namespace

class TstForwardDialog : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { QCOMPARE(QGuiApplication::platformName(), QStringLiteral("offscreen")); }

    // The issue's test: F on a queued call, "An", Down, Enter, B, Enter.
    void keysOnlyForwardAQueuedCall() {
        Board board;
        FakeOperatorActions actions;
        actions.calls = {waitingCall(7, QStringLiteral("ACME Corp"),
                                     QStringLiteral("+442071234567"), kNow.addSecs(-75))};
        MainWindow window(board.console);
        window.queuePanel()->model()->setClock([] { return kNow; });
        window.setOperatorActions(&actions);
        window.showServerMode(QStringLiteral("example.com"), {});
        window.show();
        window.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&window));
        settle(window);
        QListView* queue = window.queuePanel()->view();
        queue->setFocus();
        QCOMPARE(queue->currentIndex().row(), 0);

        QTest::keyClick(queue, Qt::Key_F);
        ForwardDialog* dialog = window.forwardDialog();
        QVERIFY(dialog);
        QVERIFY(QTest::qWaitForWindowExposed(dialog));
        QCOMPARE(dialog->call().call, quint64(7));
        QCOMPARE(dialog->ringingText(),
                 QStringLiteral("Waiting in the queue (called 200) for 01:15"));
        QVERIFY(dialog->focusWidget() == dialog->targetEdit());

        type(dialog, QStringLiteral("An"));
        // Word starts of names: Anna Schmidt and Joan Anders, in directory order; not Dan.
        QCOMPARE(dialog->matchesList()->count(), 2);
        QCOMPARE(dialog->targetState(), ForwardDialog::Target::Choose);
        QVERIFY(!dialog->forwardButton()->isEnabled());
        press(dialog, Qt::Key_Down);
        QVERIFY(dialog->focusWidget() == dialog->matchesList());
        QCOMPARE(dialog->matchesList()->currentRow(), 0);
        press(dialog, Qt::Key_Return);
        QCOMPARE(dialog->targetEdit()->text(), QStringLiteral("203"));
        QCOMPARE(dialog->targetState(), ForwardDialog::Target::Extension);
        QCOMPARE(dialog->targetMessage(), QStringLiteral("Extension 203 Anna Schmidt"));
        press(dialog, Qt::Key_B);
        QCOMPARE(dialog->reason(), QStringLiteral("user-busy"));
        QVERIFY(dialog->forwardButton()->isEnabled());
        press(dialog, Qt::Key_Return);

        QCOMPARE(actions.forwards.size(), 1);
        const sb::ui::ForwardRequest& sent = actions.forwards.constFirst();
        QCOMPARE(sent.call, quint64(7));
        QCOMPARE(sent.extension, QString());
        QCOMPARE(sent.to, QStringLiteral("203"));
        QCOMPARE(sent.reason, QStringLiteral("user-busy"));
        QVERIFY(!sent.privacy.has_value());
        QCOMPARE(sent.historyInfo, false);
        QTRY_VERIFY(!window.forwardDialog());
        QCOMPARE(window.noticeText(), QStringLiteral("Forwarded to 203 Anna Schmidt, user-busy"));
        QVERIFY(!window.noticeIsProblem());
    }

    // The same from the board: F on the ringing tile, Enter on a match, N, Enter.
    void keysOnlyForwardARingingTile() {
        Board board;
        FakeOperatorActions actions;
        MainWindow window(board.console);
        window.setOperatorActions(&actions);
        window.show();
        window.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&window));
        board.ringing(QStringLiteral("202"), QStringLiteral("ACME Corp"),
                      QStringLiteral("sip:+442071234567@example.com"));
        settle(window);
        board.clock.advance(std::chrono::seconds(42));
        window.boardView()->setFocus();
        window.boardView()->setCurrentIndex(tile(window, QStringLiteral("202")));
        QVERIFY(window.forwardAction()->isEnabled());

        QTest::keyClick(window.boardView(), Qt::Key_F);
        ForwardDialog* dialog = window.forwardDialog();
        QVERIFY(dialog);
        QVERIFY(QTest::qWaitForWindowExposed(dialog));
        QCOMPARE(dialog->call().extension, QStringLiteral("202"));
        QCOMPARE(dialog->ringingText(), QStringLiteral("Ringing at 202 Bob Martin for 00:42"));
        type(dialog, QStringLiteral("An"));
        press(dialog, Qt::Key_Down);
        press(dialog, Qt::Key_Return);
        press(dialog, Qt::Key_N);
        press(dialog, Qt::Key_Return);

        QCOMPARE(actions.forwards.size(), 1);
        QCOMPARE(actions.forwards.constFirst().extension, QStringLiteral("202"));
        QCOMPARE(actions.forwards.constFirst().call, quint64(0));
        QCOMPARE(actions.forwards.constFirst().to, QStringLiteral("203"));
        QCOMPARE(actions.forwards.constFirst().reason, QStringLiteral("no-answer"));
        QTRY_VERIFY(!window.forwardDialog());
        QCOMPARE(window.noticeText(), QStringLiteral("Forwarded to 203 Anna Schmidt, no-answer"));
    }

    // Enter in the field takes the first match; Down, Down the second; a number typed
    // in full is taken as it is.
    void typeAheadByNameAndNumber() {
        Standalone s;
        ForwardDialog& dialog = *s.dialog;
        dialog.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dialog));
        QTest::keyClicks(dialog.targetEdit(), QStringLiteral("an"));
        press(&dialog, Qt::Key_Down);
        press(&dialog, Qt::Key_Down);
        QCOMPARE(dialog.matchesList()->currentRow(), 1);
        press(&dialog, Qt::Key_Return);
        QCOMPARE(dialog.targetEdit()->text(), QStringLiteral("205"));

        dialog.targetEdit()->clear();
        QTest::keyClicks(dialog.targetEdit(), QStringLiteral("mee"));
        QTest::keyClick(dialog.targetEdit(), Qt::Key_Return);
        QCOMPARE(dialog.targetEdit()->text(), QStringLiteral("250"));
        QCOMPARE(dialog.targetMessage(), QStringLiteral("Extension 250 Meeting room"));

        dialog.targetEdit()->clear();
        QTest::keyClicks(dialog.targetEdit(), QStringLiteral("20"));
        QCOMPARE(dialog.matchesList()->count(), 6);
        QTest::keyClicks(dialog.targetEdit(), QStringLiteral("4"));
        QCOMPARE(dialog.targetState(), ForwardDialog::Target::Extension);
        QCOMPARE(dialog.targetMessage(), QStringLiteral("Extension 204 Dan Okafor"));

        // Not in the directory but a valid number: allowed, the server checks it.
        dialog.targetEdit()->clear();
        QTest::keyClicks(dialog.targetEdit(), QStringLiteral("0301234567"));
        QCOMPARE(dialog.targetState(), ForwardDialog::Target::Outside);
        QVERIFY(dialog.targetMessage().contains(QStringLiteral("not in the directory")));
        QVERIFY(dialog.forwardButton()->isEnabled());

        // Typing in the matches goes on in the field.
        dialog.targetEdit()->clear();
        dialog.targetEdit()->setFocus();
        QTest::keyClicks(dialog.targetEdit(), QStringLiteral("a"));
        press(&dialog, Qt::Key_Down);
        QVERIFY(dialog.focusWidget() == dialog.matchesList());
        press(&dialog, Qt::Key_L);
        QCOMPARE(dialog.targetEdit()->text(), QStringLiteral("al"));
        QVERIFY(dialog.focusWidget() == dialog.targetEdit());
        QCOMPARE(dialog.matchesList()->count(), 1);
    }

    void everyReasonHasItsOwnKey() {
        Standalone s;
        s.actions.reasons << QStringLiteral("holiday") << QStringLiteral("training");
        s.actions.defaults.reason = QStringLiteral("deflection");
        // A fresh dialog reads the reasons when it opens.
        ForwardCall call = s.dialog->call();
        ForwardDialog dialog(call, s.actions, kDirectory);
        dialog.show();
        dialog.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&dialog));
        QCOMPARE(dialog.reason(), QStringLiteral("deflection"));

        const QStringList reasons = s.actions.reasons;
        QSet<QChar> keys;
        for (const QString& reason : reasons) {
            const QChar key = ForwardDialog::keyOf(reason, reasons);
            QVERIFY2(!key.isNull(), qPrintable(reason));
            keys << key;
            QRadioButton* button = dialog.reasonButton(reason);
            QVERIFY2(button, qPrintable(reason));
            // Each reason shows its key.
            QCOMPARE(button->text(), QStringLiteral("[%1] %2").arg(key).arg(reason));
            // The key chooses it where the focus is on the reasons ...
            dialog.reasonButton(QStringLiteral("unknown"))->setFocus();
            QTest::keyClick(dialog.focusWidget(), key.toLower().toLatin1());
            QCOMPARE(dialog.reason(), reason);
        }
        QCOMPARE(keys.size(), reasons.size());
        QCOMPARE(ForwardDialog::keyOf(QStringLiteral("user-busy"), reasons), QChar(u'B'));
        QCOMPARE(ForwardDialog::keyOf(QStringLiteral("no-answer"), reasons), QChar(u'N'));
        QCOMPARE(ForwardDialog::keyOf(QStringLiteral("holiday"), reasons), QChar(u'1'));
        QCOMPARE(ForwardDialog::keyOf(QStringLiteral("training"), reasons), QChar(u'2'));

        // ... and Alt+key from anywhere, also while typing the target.
        dialog.targetEdit()->setFocus();
        QTest::keyClicks(dialog.targetEdit(), QStringLiteral("20"));
        QTest::keyClick(dialog.targetEdit(), Qt::Key_U, Qt::AltModifier);
        QCOMPARE(dialog.reason(), QStringLiteral("unconditional"));
        QTest::keyClick(dialog.focusWidget(), Qt::Key_2, Qt::AltModifier);
        QCOMPARE(dialog.reason(), QStringLiteral("training"));
        QCOMPARE(dialog.targetEdit()->text(), QStringLiteral("20"));
    }

    void privacyAndHistoryInfoGoIntoTheRequest() {
        Standalone s;
        s.actions.defaults.historyInfo = true;
        s.actions.defaults.privacy = QStringLiteral("full");
        ForwardDialog dialog(s.dialog->call(), s.actions, kDirectory);
        QVERIFY(dialog.historyInfoBox()->isChecked());
        QCOMPARE(dialog.privacyBox()->currentText(), QStringLiteral("As configured (full)"));
        dialog.targetEdit()->setText(QStringLiteral("sip:anna@partner.example"));
        QCOMPARE(dialog.targetState(), ForwardDialog::Target::Uri);
        QVERIFY(!dialog.request().privacy.has_value());
        dialog.privacyBox()->setCurrentIndex(dialog.privacyBox()->findData(QStringLiteral("name")));
        dialog.historyInfoBox()->setChecked(false);
        const sb::ui::ForwardRequest request = dialog.request();
        QCOMPARE(request.to, QStringLiteral("sip:anna@partner.example"));
        QCOMPARE(request.privacy.value_or(QString()), QStringLiteral("name"));
        QCOMPARE(request.historyInfo, false);
        QCOMPARE(request.call, quint64(7));
    }

    void malformedUriIsExplainedWhileTyping() {
        Standalone s;
        ForwardDialog& dialog = *s.dialog;
        dialog.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dialog));
        QTest::keyClicks(dialog.targetEdit(), QStringLiteral("sip:anna@"));
        QCOMPARE(dialog.targetState(), ForwardDialog::Target::Invalid);
        QVERIFY2(dialog.targetMessage().startsWith(
                     QStringLiteral("“sip:anna@” is not a valid SIP URI: ")),
                 qPrintable(dialog.targetMessage()));
        QVERIFY(!dialog.forwardButton()->isEnabled());
        QCOMPARE(dialog.matchesList()->count(), 0);
        saveShot(dialog, QStringLiteral("forward_dialog_bad_uri.png"));
        QTest::keyClick(dialog.targetEdit(), Qt::Key_Return);
        QVERIFY(s.actions.forwards.isEmpty());

        QTest::keyClicks(dialog.targetEdit(), QStringLiteral("partner.example"));
        QCOMPARE(dialog.targetState(), ForwardDialog::Target::Uri);
        QCOMPARE(dialog.targetMessage(), QStringLiteral("SIP address sip:anna@partner.example"));
        QVERIFY(dialog.forwardButton()->isEnabled());

        for (const char* bad : {"anna smith@example.com", "sip:anna@exa mple.com",
                                "sip:anna@example.com?Subject=x", "sip:anna@host:99999"}) {
            dialog.targetEdit()->setText(QString::fromUtf8(bad));
            QVERIFY2(dialog.targetState() == ForwardDialog::Target::Invalid, bad);
            QVERIFY2(dialog.targetMessage().contains(QStringLiteral("is not a valid SIP URI")),
                     bad);
            QVERIFY(!dialog.forwardButton()->isEnabled());
        }
        dialog.targetEdit()->setText(QStringLiteral("a b"));
        QCOMPARE(dialog.targetState(), ForwardDialog::Target::Invalid);
        QVERIFY(dialog.targetMessage().startsWith(QStringLiteral("Nothing matches “a b”")));
    }

    // A queued call answered elsewhere while the dialog is open.
    void queuedCallStopsRinging() {
        Board board;
        FakeOperatorActions actions;
        QueuedCall call = waitingCall(9, QStringLiteral("ACME Corp"),
                                      QStringLiteral("+442071234567"), kNow.addSecs(-20));
        actions.calls = {call};
        MainWindow window(board.console);
        window.queuePanel()->model()->setClock([] { return kNow; });
        window.setOperatorActions(&actions);
        window.showServerMode(QStringLiteral("example.com"), {});
        window.show();
        window.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&window));
        window.forwardQueued(call);
        ForwardDialog* dialog = window.forwardDialog();
        QVERIFY(dialog);
        dialog->targetEdit()->setText(QStringLiteral("203"));
        QVERIFY(dialog->forwardButton()->isEnabled());

        call.state = QStringLiteral("answered");
        call.outcome = QStringLiteral("answered by 201");
        call.status = 200;
        actions.change(call);
        QVERIFY(dialog->hasStopped());
        QVERIFY(!dialog->forwardButton()->isEnabled());
        QCOMPARE(dialog->messageText(),
                 QStringLiteral("The call stopped ringing (answered by 201): there is nothing "
                                "to forward."));
        QVERIFY(dialog->ringingText().endsWith(QStringLiteral("no longer ringing")));
        saveShot(*dialog, QStringLiteral("forward_dialog_stopped.png"));
        // Enter does nothing now; Esc closes.
        press(dialog, Qt::Key_Return);
        QVERIFY(actions.forwards.isEmpty());
        QVERIFY(dialog->isVisible());
        press(dialog, Qt::Key_Escape);
        QTRY_VERIFY(!window.forwardDialog());
    }

    // A tile's call answered at the extension while the dialog is open.
    void tileStopsRinging() {
        Board board;
        FakeOperatorActions actions;
        MainWindow window(board.console);
        window.setOperatorActions(&actions);
        window.show();
        window.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&window));
        board.ringing(QStringLiteral("202"), QStringLiteral("ACME Corp"),
                      QStringLiteral("sip:+442071234567@example.com"));
        settle(window);
        window.boardView()->setCurrentIndex(tile(window, QStringLiteral("202")));
        window.forwardCurrent();
        ForwardDialog* dialog = window.forwardDialog();
        QVERIFY(dialog);
        QVERIFY(!dialog->hasStopped());
        DialogInfo answered;
        answered.id = QStringLiteral("r202");
        answered.direction = Direction::Recipient;
        answered.state = DialogState::Confirmed;
        answered.remote.identity = QStringLiteral("sip:+442071234567@example.com");
        board.show(QStringLiteral("202"), {answered});
        settle(window);
        QVERIFY(dialog->hasStopped());
        QVERIFY(!dialog->forwardButton()->isEnabled());
        QCOMPARE(dialog->messageText(),
                 QStringLiteral("The call stopped ringing (202 Bob Martin is Busy now): there is "
                                "nothing to forward."));
        dialog->reject();
    }

    // The server refuses: the dialog stays open with why, the operator fixes the target.
    void failureKeepsTheDialogOpen() {
        Board board;
        FakeOperatorActions actions;
        actions.calls = {waitingCall(7, QStringLiteral("ACME Corp"),
                                     QStringLiteral("+442071234567"), kNow.addSecs(-75))};
        MainWindow window(board.console);
        window.setOperatorActions(&actions);
        window.show();
        window.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&window));
        window.forwardQueued(actions.calls.constFirst());
        ForwardDialog* dialog = window.forwardDialog();
        QVERIFY(dialog);
        actions.failure = QStringLiteral("204 is not registered");
        QTest::keyClicks(dialog->targetEdit(), QStringLiteral("204"));
        press(dialog, Qt::Key_Return);
        QCOMPARE(actions.forwards.size(), 1);
        QVERIFY(dialog->isVisible());
        QCOMPARE(dialog->messageText(), QStringLiteral("Not forwarded: 204 is not registered"));
        QVERIFY(dialog->focusWidget() == dialog->targetEdit());
        QCOMPARE(dialog->targetEdit()->selectedText(), QStringLiteral("204"));
        QCOMPARE(window.noticeText(), QString());

        actions.failure.reset();
        QTest::keyClicks(dialog->targetEdit(), QStringLiteral("203"));
        QCOMPARE(dialog->messageText(), QString());  // the old failure no longer applies
        press(dialog, Qt::Key_Return);
        QCOMPARE(actions.forwards.size(), 2);
        QTRY_VERIFY(!window.forwardDialog());
        QCOMPARE(window.noticeText(), QStringLiteral("Forwarded to 203 Anna Schmidt, deflection"));
    }

    void screenshots() {
        Standalone s;
        ForwardDialog& dialog = *s.dialog;
        dialog.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dialog));
        QTest::keyClicks(dialog.targetEdit(), QStringLiteral("An"));
        press(&dialog, Qt::Key_Down);
        saveShot(dialog, QStringLiteral("forward_dialog.png"));
        press(&dialog, Qt::Key_Return);
        press(&dialog, Qt::Key_B);
        saveShot(dialog, QStringLiteral("forward_dialog_ready.png"));
    }
};

QTEST_MAIN(TstForwardDialog)
#include "tst_forward_dialog.moc"
