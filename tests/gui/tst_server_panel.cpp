// The main window in built-in server mode on the offscreen platform: the status bar names
// the server instead of a registration, the board tells registered extensions from
// unregistered ones (offline, "Not registered"), and the server panel shows the bindings
// and live calls the application pushes — models (rows, cells, sorting, ticking
// durations) and widgets (visibility, the View-menu action and its shortcut, keyboard
// reach). Screenshots of the panel and of the whole window are saved for review.

#include <QAbstractItemModelTester>
#include <QAction>
#include <QApplication>
#include <QDir>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QTest>

#include <map>

#include "base/manual_clock.h"
#include "board/console.h"
#include "shown_text.h"
#include "ui/board_filter_proxy.h"
#include "ui/board_model.h"
#include "ui/board_view.h"
#include "ui/main_window.h"
#include "ui/registration_indicator.h"
#include "ui/server_panel.h"

using sb::base::ManualClock;
using sb::board::Console;
using sb::dialoginfo::DialogInfo;
using sb::dialoginfo::DialogState;
using sb::dialoginfo::Direction;
using sb::dialoginfo::Document;
using sb::dialoginfo::Lamp;
using sb::ua::SubscriptionStatus;
using sb::ui::BindingRow;
using sb::ui::BindingTableModel;
using sb::ui::BoardModel;
using sb::ui::CallRow;
using sb::ui::CallTableModel;
using sb::ui::MainWindow;
using sb::ui::RegistrationIndicator;
using sb::ui::ServerPanel;

namespace {

const QString kDomain = QStringLiteral("switchboard.local");
const QStringList kListen = {QStringLiteral("udp:127.0.0.1:5060"),
                             QStringLiteral("tcp:127.0.0.1:5060")};
// The panel's clock at the moment rows are pushed.
const QDateTime kNow = QDateTime(QDate(2024, 5, 6), QTime(10, 0), Qt::UTC);

DialogInfo dialog(const QString& id, Direction direction, DialogState state, const QString& display,
                  const QString& uri) {
    DialogInfo d;
    d.id = id;
    d.direction = direction;
    d.state = state;
    d.remote.identity = uri;
    d.remote.display = display;
    return d;
}

// The board as the application feeds it in server mode (app/server_board_bridge): an
// extension with a binding is "Active, registered" with full dialog state, one without is
// "Unavailable, not registered".
class ServerBoard {
public:
    ServerBoard() : console(clock) {
        console.setDomain(kDomain);
        add(QStringLiteral("201"), QStringLiteral("Alice Example"));
        add(QStringLiteral("202"), QStringLiteral("Bob Martin"));
        add(QStringLiteral("203"), QStringLiteral("Carol Nguyen"));
        add(QStringLiteral("204"), QStringLiteral("Dave Okafor"));
    }
    void add(const QString& number, const QString& name) {
        QVERIFY(console.monitor({number, name, {}, {}}).has_value());
    }
    void registered(const QString& number, std::vector<DialogInfo> dialogs) {
        SubscriptionStatus status;
        status.state = SubscriptionStatus::State::Active;
        status.reason = "registered";
        console.setSubscriptionStatus(number, status);
        Document doc;
        doc.version = ++m_version[number];
        doc.entity = QStringLiteral("sip:%1@%2").arg(number, kDomain);
        doc.dialogs = std::move(dialogs);
        QCOMPARE(console.applyDocument(doc, number), sb::board::ApplyResult::Applied);
    }
    void notRegistered(const QString& number) {
        SubscriptionStatus status;
        status.state = SubscriptionStatus::State::Unavailable;
        status.reason = "not registered";
        console.setSubscriptionStatus(number, status);
    }
    // Alice talks to Bob; a caller from outside rings Bob meanwhile (call waiting); Carol
    // and Dave have no phone registered.
    void officeInServerMode() {
        registered(QStringLiteral("201"),
                   {dialog(QStringLiteral("c1"), Direction::Initiator, DialogState::Confirmed,
                           QStringLiteral("Bob Martin"), QStringLiteral("sip:202@") + kDomain)});
        registered(
            QStringLiteral("202"),
            {dialog(QStringLiteral("c1b"), Direction::Recipient, DialogState::Confirmed,
                    QStringLiteral("Alice Example"), QStringLiteral("sip:201@") + kDomain),
             dialog(QStringLiteral("c2"), Direction::Recipient, DialogState::Early,
                    QStringLiteral("ACME Corp"), QStringLiteral("sip:+442071234567@") + kDomain)});
        notRegistered(QStringLiteral("203"));
        notRegistered(QStringLiteral("204"));
    }

    ManualClock clock;
    Console console;

private:
    std::map<QString, quint64> m_version;
};

QList<BindingRow> twoBindings() {
    return {
        {QStringLiteral("202"), QStringLiteral("sip:202@127.0.0.1:5064;transport=tcp"),
         QStringLiteral("tcp:127.0.0.1:40712"), QStringLiteral("baresip v2.9.0 (x86_64/linux)"),
         600},
        {QStringLiteral("201"), QStringLiteral("sip:201@127.0.0.1:5062"),
         QStringLiteral("udp:127.0.0.1:5062"), QStringLiteral("Linphone/5.0.5 (belle-sip/4.5.3)"),
         3600},
    };
}

QList<CallRow> ringingAndConnected() {
    CallRow connected;
    connected.caller = QStringLiteral("sip:201@") + kDomain;
    connected.callerDisplay = QStringLiteral("Alice Example");
    connected.callee = QStringLiteral("sip:202@") + kDomain;
    connected.calleeDisplay = QStringLiteral("Bob Martin");
    connected.state = QStringLiteral("connected");
    connected.started = kNow.addSecs(-150);
    connected.answered = kNow.addSecs(-95);
    CallRow ringing;
    ringing.caller = QStringLiteral("sip:+442071234567@") + kDomain;
    ringing.callerDisplay = QStringLiteral("ACME Corp");
    ringing.callee = QStringLiteral("sip:202@") + kDomain;
    ringing.calleeDisplay = QStringLiteral("Bob Martin");
    ringing.state = QStringLiteral("ringing");
    ringing.started = kNow.addSecs(-12);
    return {ringing, connected};
}

void settle(MainWindow& window) {
    QCoreApplication::processEvents();
    QTRY_VERIFY(!window.boardModel()->hasPendingChanges());
    QCoreApplication::processEvents();
}

QModelIndex tile(const MainWindow& window, const QString& number) {
    const auto* proxy = window.boardProxy();
    for (int row = 0; row < proxy->rowCount(); ++row) {
        const QModelIndex index = proxy->index(row, 0);
        if (index.data(BoardModel::NumberRole).toString() == number) return index;
    }
    return {};
}

// One row of a table as shown (through the sorting proxy).
QStringList shownRow(const QAbstractItemModel* model, int row) {
    QStringList cells;
    for (int column = 0; column < model->columnCount(); ++column)
        cells << model->index(row, column).data().toString();
    return cells;
}

QString header(const QAbstractItemModel* model, int column) {
    return model->headerData(column, Qt::Horizontal).toString();
}

void saveShot(QWidget& widget, const QString& name) {
    const QPixmap shot = widget.grab();
    QVERIFY(!shot.isNull());
    const QString dir =
        qEnvironmentVariable("SB_BINARY_DIR", QDir::currentPath()) + QStringLiteral("/screenshots");
    QVERIFY(QDir().mkpath(dir));
    const QString path = dir + u'/' + name;
    QVERIFY2(shot.save(path), qPrintable(path));
}

}  // namespace

class TstServerPanel : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { QCOMPARE(QGuiApplication::platformName(), QStringLiteral("offscreen")); }

    void clientModeHasNoPanel() {
        ServerBoard board;
        MainWindow window(board.console);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        window.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&window));
        QVERIFY(!window.isServerMode());
        QCOMPARE(window.serverPanel()->objectName(), QStringLiteral("serverPanel"));
        QCOMPARE(window.serverPanel()->windowTitle(), QStringLiteral("Server"));
        QVERIFY(!window.serverPanel()->isVisible());
        QVERIFY(!window.serverPanelAction()->isEnabled());
        QCOMPARE(window.serverPanelAction()->shortcut(),
                 QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_S));
        // The shortcut of a disabled action does nothing.
        QTest::keySequence(&window, QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_S));
        QVERIFY(!window.serverPanel()->isVisible());
        QVERIFY(!window.serverPanel()->isTicking());
        // Client mode keeps saying what the registration does.
        RegistrationIndicator::Status unregistered;
        unregistered.state = RegistrationIndicator::State::Unregistered;
        unregistered.aor = QStringLiteral("sip:reception@127.0.0.1");
        window.showRegistration(unregistered);
        QCOMPARE(window.registrationIndicator()->text(),
                 QStringLiteral("Not registered: sip:reception@127.0.0.1"));
    }

    void serverModeWindow() {
        ServerBoard board;
        MainWindow window(board.console);
        QAbstractItemModelTester tester(window.boardProxy(),
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        window.resize(1100, 720);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        window.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&window));
        board.officeInServerMode();
        settle(window);

        window.showServerMode(kDomain, kListen);
        QVERIFY(window.isServerMode());
        QCOMPARE(window.registrationIndicator()->status().state,
                 RegistrationIndicator::State::Server);
        QCOMPARE(window.registrationIndicator()->text(),
                 QStringLiteral("Built-in server · switchboard.local"));
        QCOMPARE(sb::test::shownToolTip(window.registrationIndicator()->toolTip()),
                 QStringLiteral("Built-in server · switchboard.local"));
        // What the session says about an operator account it does not have is not news.
        RegistrationIndicator::Status unregistered;
        unregistered.state = RegistrationIndicator::State::Unregistered;
        window.showRegistration(unregistered);
        window.showRegistration(RegistrationIndicator::Status{});
        QCOMPARE(window.registrationIndicator()->text(),
                 QStringLiteral("Built-in server · switchboard.local"));
        QVERIFY(!window.registrationIndicator()->text().contains(QStringLiteral("registered"),
                                                                 Qt::CaseInsensitive));
        QCOMPARE(window.subscribedText(), QStringLiteral("2 of 4 registered"));

        // The board: registered extensions show their calls, the others read "Not
        // registered" — on the tile, in its tooltip and in its accessible text.
        const struct {
            const char* number;
            Lamp lamp;
            const char* detail;
            const char* accessible;
        } expected[] = {
            {"201", Lamp::Busy, "with Bob Martin · 202",
             "Alice Example, extension 201: Busy, with Bob Martin · 202, for 00:00"},
            {"202", Lamp::Ringing, "from ACME Corp · +442071234567",
             "Bob Martin, extension 202: Ringing, from ACME Corp · +442071234567, for 00:00"},
            {"203", Lamp::Offline, "Not registered",
             "Carol Nguyen, extension 203: Offline, Not registered"},
            {"204", Lamp::Offline, "Not registered",
             "Dave Okafor, extension 204: Offline, Not registered"},
        };
        for (const auto& e : expected) {
            const QModelIndex index = tile(window, QString::fromLatin1(e.number));
            QVERIFY2(index.isValid(), e.number);
            QCOMPARE(Lamp(index.data(BoardModel::LampRole).toInt()), e.lamp);
            QCOMPARE(index.data(BoardModel::DetailRole).toString(), QString::fromUtf8(e.detail));
            QCOMPARE(index.data(Qt::AccessibleTextRole).toString(),
                     QString::fromUtf8(e.accessible));
            QCOMPARE(sb::test::shownToolTip(index.data(Qt::ToolTipRole).toString()),
                     QString::fromUtf8(e.accessible));
        }
        // A refused subscription in client mode still reads as one.
        SubscriptionStatus refused;
        refused.state = SubscriptionStatus::State::Unavailable;
        refused.reason = "noresource";
        board.console.setSubscriptionStatus(QStringLiteral("204"), refused);
        settle(window);
        QCOMPARE(tile(window, QStringLiteral("204")).data(BoardModel::DetailRole).toString(),
                 QStringLiteral("Cannot be monitored: noresource"));
        board.notRegistered(QStringLiteral("204"));
        settle(window);

        // The panel: shown, its action enabled and checked, ticking while visible.
        ServerPanel* panel = window.serverPanel();
        QVERIFY(panel->isVisible());
        QVERIFY(window.serverPanelAction()->isEnabled());
        QVERIFY(window.serverPanelAction()->isChecked());
        QVERIFY(panel->isTicking());
        QDateTime now = kNow;
        panel->setClock([&now] { return now; });
        panel->setBindings(twoBindings());
        panel->setCalls(ringingAndConnected());
        QCOMPARE(panel->summaryText(),
                 QStringLiteral("switchboard.local — udp:127.0.0.1:5060, tcp:127.0.0.1:5060 — "
                                "2 registered, 2 calls"));

        // Ctrl+Shift+S hides it (and its clock), and brings it back.
        QTest::keySequence(&window, QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_S));
        QVERIFY(!panel->isVisible());
        QVERIFY(!window.serverPanelAction()->isChecked());
        QVERIFY(!panel->isTicking());
        QTest::keySequence(&window, QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_S));
        QVERIFY(panel->isVisible());
        QVERIFY(window.serverPanelAction()->isChecked());
        QVERIFY(panel->isTicking());
        window.serverPanelAction()->trigger();
        QVERIFY(!panel->isVisible());
        window.serverPanelAction()->trigger();
        QVERIFY(panel->isVisible());

        // Keyboard: the caption's mnemonic enters a table; Tab goes from the bindings to the
        // calls instead of walking the cells.
        QVERIFY(panel->bindingsView()->focusPolicy() & Qt::TabFocus);
        QVERIFY(panel->callsView()->focusPolicy() & Qt::TabFocus);
        QTest::keyClick(&window, Qt::Key_B, Qt::AltModifier);
        QTRY_VERIFY(panel->bindingsView()->hasFocus());
        QTest::keyClick(QApplication::focusWidget(), Qt::Key_Tab);
        QTRY_VERIFY(panel->callsView()->hasFocus());
        QTest::keyClick(QApplication::focusWidget(), Qt::Key_Backtab);
        QTRY_VERIFY(panel->bindingsView()->hasFocus());
        QTest::keyClick(&window, Qt::Key_C, Qt::AltModifier);
        QTRY_VERIFY(panel->callsView()->hasFocus());

        window.resizeDocks({panel}, {230}, Qt::Vertical);
        window.boardView()->setCurrentIndex(tile(window, QStringLiteral("202")));
        QCoreApplication::processEvents();
        saveShot(*panel, QStringLiteral("server_panel.png"));
        saveShot(window, QStringLiteral("board_server_mode.png"));
        // The panel follows the dark palette with the rest of the window.
        window.setDarkPalette(true);
        QCOMPARE(panel->bindingsView()->palette().color(QPalette::Base),
                 window.palette().color(QPalette::Base));
        saveShot(window, QStringLiteral("board_server_mode_dark.png"));
    }

    void bindingsTable() {
        ServerPanel panel;
        QAbstractItemModelTester source(panel.bindingsModel(),
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QAbstractItemModelTester sorted(panel.bindingsProxy(),
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QDateTime now = kNow;
        panel.setClock([&now] { return now; });
        panel.setServerInfo(kDomain, kListen);
        QCOMPARE(panel.summaryText(),
                 QStringLiteral("switchboard.local — udp:127.0.0.1:5060, tcp:127.0.0.1:5060 — "
                                "0 registered, 0 calls"));
        panel.setBindings(twoBindings());

        const QAbstractItemModel* shown = panel.bindingsView()->model();
        QCOMPARE(shown, panel.bindingsProxy());
        QCOMPARE(shown->rowCount(), 2);
        QCOMPARE(shown->columnCount(), 5);
        QCOMPARE((QStringList{header(shown, 0), header(shown, 1), header(shown, 2),
                              header(shown, 3), header(shown, 4)}),
                 (QStringList{"User", "Contact", "From", "Expires in (s)", "User agent"}));
        // Sorted by user, although pushed 202 first.
        QCOMPARE(shownRow(shown, 0),
                 (QStringList{"201", "sip:201@127.0.0.1:5062", "udp:127.0.0.1:5062", "3600",
                              "Linphone/5.0.5 (belle-sip/4.5.3)"}));
        QCOMPARE(shownRow(shown, 1),
                 (QStringList{"202", "sip:202@127.0.0.1:5064;transport=tcp", "tcp:127.0.0.1:40712",
                              "600", "baresip v2.9.0 (x86_64/linux)"}));
        QCOMPARE(panel.summaryText().endsWith(QStringLiteral("2 registered, 0 calls")), true);

        // The expiry counts down between pushes, never below zero.
        now = kNow.addSecs(5);
        panel.refreshTimes();
        QCOMPARE(shown->index(0, BindingTableModel::ExpiresColumn).data().toString(),
                 QStringLiteral("3595"));
        QCOMPARE(shown->index(1, BindingTableModel::ExpiresColumn).data().toString(),
                 QStringLiteral("595"));
        // Sorting by expiry compares numbers (595 before 3595), both ways.
        panel.bindingsView()->sortByColumn(BindingTableModel::ExpiresColumn, Qt::AscendingOrder);
        QCOMPARE(shown->index(0, BindingTableModel::UserColumn).data().toString(),
                 QStringLiteral("202"));
        panel.bindingsView()->sortByColumn(BindingTableModel::ExpiresColumn, Qt::DescendingOrder);
        QCOMPARE(shown->index(0, BindingTableModel::UserColumn).data().toString(),
                 QStringLiteral("201"));
        now = kNow.addSecs(4000);
        panel.refreshTimes();
        QCOMPARE(shown->index(0, BindingTableModel::ExpiresColumn).data().toString(),
                 QStringLiteral("0"));

        // Full replacement: a user with two contacts counts once; fewer rows shrink it.
        QList<BindingRow> three = twoBindings();
        three.append({QStringLiteral("202"), QStringLiteral("sip:202@[::1]:5070"),
                      QStringLiteral("udp:[::1]:5070"), QString(), 120});
        panel.setBindings(three);
        QCOMPARE(shown->rowCount(), 3);
        QCOMPARE(panel.bindingsModel()->registeredUsers(), 2);
        QVERIFY(panel.summaryText().endsWith(QStringLiteral("2 registered, 0 calls")));
        panel.setBindings({three.at(1)});
        QCOMPARE(shown->rowCount(), 1);
        QCOMPARE(shownRow(shown, 0).at(0), QStringLiteral("201"));
        QVERIFY(panel.summaryText().endsWith(QStringLiteral("1 registered, 0 calls")));
        panel.setBindings({});
        QCOMPARE(shown->rowCount(), 0);
    }

    void callsTable() {
        ServerPanel panel;
        QAbstractItemModelTester source(panel.callsModel(),
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QAbstractItemModelTester sorted(panel.callsProxy(),
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QDateTime now = kNow;
        panel.setClock([&now] { return now; });
        panel.setServerInfo(kDomain, {});
        panel.setCalls(ringingAndConnected());

        const QAbstractItemModel* shown = panel.callsView()->model();
        QCOMPARE(shown, panel.callsProxy());
        QCOMPARE(shown->rowCount(), 2);
        QCOMPARE(shown->columnCount(), 4);
        QCOMPARE(
            (QStringList{header(shown, 0), header(shown, 1), header(shown, 2), header(shown, 3)}),
            (QStringList{"Caller", "Callee", "State", "Since"}));
        // Longest first; a connected call counts from its answer, a ringing one from its
        // start.
        QCOMPARE(shownRow(shown, 0),
                 (QStringList{"Alice Example · 201", "Bob Martin · 202", "Connected", "01:35"}));
        QCOMPARE(shownRow(shown, 1), (QStringList{"ACME Corp · +442071234567", "Bob Martin · 202",
                                                  "Ringing", "00:12"}));
        QCOMPARE(
            sb::test::shownToolTip(
                shown->index(1, CallTableModel::CallerColumn).data(Qt::ToolTipRole).toString()),
            QStringLiteral("ACME Corp <sip:+442071234567@switchboard.local>"));
        QCOMPARE(panel.summaryText(), QStringLiteral("switchboard.local — 0 registered, 2 calls"));

        now = kNow.addSecs(5);
        panel.refreshTimes();
        QCOMPARE(shown->index(0, CallTableModel::SinceColumn).data().toString(),
                 QStringLiteral("01:40"));
        QCOMPARE(shown->index(1, CallTableModel::SinceColumn).data().toString(),
                 QStringLiteral("00:17"));

        // Sorting: names alphabetically, states in the order a call goes through them.
        panel.callsView()->sortByColumn(CallTableModel::CallerColumn, Qt::AscendingOrder);
        QCOMPARE(shown->index(0, CallTableModel::CallerColumn).data().toString(),
                 QStringLiteral("ACME Corp · +442071234567"));
        panel.callsView()->sortByColumn(CallTableModel::StateColumn, Qt::AscendingOrder);
        QCOMPARE(shown->index(0, CallTableModel::StateColumn).data().toString(),
                 QStringLiteral("Ringing"));
        panel.callsView()->sortByColumn(CallTableModel::StateColumn, Qt::DescendingOrder);
        QCOMPARE(shown->index(0, CallTableModel::StateColumn).data().toString(),
                 QStringLiteral("Connected"));

        // The ringing call is answered, the other ends: one live call left.
        QList<CallRow> later = ringingAndConnected();
        later[0].state = QStringLiteral("connected");
        later[0].answered = kNow.addSecs(2);
        later[1].state = QStringLiteral("ended");
        panel.setCalls(later);
        panel.callsView()->sortByColumn(CallTableModel::SinceColumn, Qt::DescendingOrder);
        QCOMPARE(shownRow(shown, 0), (QStringList{"ACME Corp · +442071234567", "Bob Martin · 202",
                                                  "Connected", "00:03"}));
        QCOMPARE(shownRow(shown, 1),
                 (QStringList{"Alice Example · 201", "Bob Martin · 202", "Ended", ""}));
        QCOMPARE(panel.summaryText(), QStringLiteral("switchboard.local — 0 registered, 1 call"));
        panel.setCalls({});
        QCOMPARE(shown->rowCount(), 0);
        QCOMPARE(panel.summaryText(), QStringLiteral("switchboard.local — 0 registered, 0 calls"));
    }
};

QTEST_MAIN(TstServerPanel)
#include "tst_server_panel.moc"
