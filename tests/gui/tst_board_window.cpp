// The real main window on the offscreen platform, driven by a board::Console fed with
// dialog-info documents built here: tile states and texts (model, proxy and view),
// type-to-filter, Esc, arrow keys, a tab per group, tile size, the trace dock, the
// directory dialog, the tile actions (Pick up and Forward… on ringing tiles only), and
// screenshots of idle and busy boards in both palettes for review.

#include <QAbstractItemModelTester>
#include <QAction>
#include <QApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QLineEdit>
#include <QMenu>
#include <QPlainTextEdit>
#include <QSignalSpy>
#include <QStatusBar>
#include <QTabBar>
#include <QTableWidget>
#include <QTest>
#include <QTimer>

#include <map>

#include "base/manual_clock.h"
#include "board/console.h"
#include "fake_operator_actions.h"
#include "ui/board_filter_proxy.h"
#include "ui/board_model.h"
#include "ui/board_view.h"
#include "ui/directory_dialog.h"
#include "ui/lamp_style.h"
#include "ui/main_window.h"
#include "ui/sip_trace_dock.h"
#include "ui/sip_trace_feed.h"
#include "ui/tile_delegate.h"

using sb::base::ManualClock;
using sb::board::Console;
using sb::board::Extension;
using sb::dialoginfo::DialogInfo;
using sb::dialoginfo::DialogState;
using sb::dialoginfo::Direction;
using sb::dialoginfo::Document;
using sb::dialoginfo::Lamp;
using sb::ua::SubscriptionStatus;
using sb::ui::BoardModel;
using sb::ui::LampStyle;
using sb::ui::MainWindow;

namespace {

struct Person {
    const char* number;
    const char* name;
    const char* group;
};

// An office as a receptionist would see it.
constexpr Person kOffice[] = {
    {"200", "Reception", "Front desk"},
    {"201", "Alice Example", "Sales"},
    {"202", "Bob Martin", "Sales"},
    {"203", "Carol Nguyen", "Support"},
    {"204", "Dave Okafor", "Support"},
    {"205", "Eve Lindqvist", "Sales"},
    {"206", "Frank Moreau", "Support"},
    {"207", "Grace Hopper-Smith", "Sales"},
    {"208", "Heidi Sato", "Front desk"},
    {"209", "Ivan Petrov", "Warehouse"},
    {"210", "Judy Fernández", "Warehouse"},
    {"211", "Karl Schmidt", "Support"},
    {"212", "Laura Bianchi", "Sales"},
    {"213", "Mallory Jones", "Warehouse"},
    {"214", "Niaj Abubakar", "Support"},
    {"215", "Olivia Brown", "Sales"},
    {"216", "Peggy Wu", "Front desk"},
    {"217", "Quentin Blake", "Warehouse"},
    {"218", "Rupert Giles", "Support"},
    {"219", "Sybil Fawlty", "Sales"},
    {"250", "Meeting room", ""},
    {"251", "Fax", ""},
};

DialogInfo dialog(const QString& id, Direction direction, DialogState state, const QString& display,
                  const QString& uri, bool held = false) {
    DialogInfo d;
    d.id = id;
    d.direction = direction;
    d.state = state;
    d.remote.identity = uri;
    d.remote.display = display;
    if (held) {
        sb::dialoginfo::Target target;
        target.uri = QStringLiteral("sip:me@127.0.0.1");
        target.params = {{QStringLiteral("+sip.rendering"), QStringLiteral("no")}};
        d.local.target = target;
    }
    return d;
}

class Board {
public:
    Board() : console(clock) { console.setDomain(QStringLiteral("example.com")); }

    void addOffice() {
        for (const Person& p : kOffice)
            add(QString::fromUtf8(p.number), QString::fromUtf8(p.name), QString::fromUtf8(p.group));
    }
    void add(const QString& number, const QString& name, const QString& group) {
        QVERIFY(console.monitor({number, name, group, {}}).has_value());
        SubscriptionStatus active;
        active.state = SubscriptionStatus::State::Active;
        console.setSubscriptionStatus(number, active);
        show(number, {});
    }
    void show(const QString& number, std::vector<DialogInfo> dialogs) {
        Document doc;
        doc.version = m_version[number]++;
        doc.entity = QStringLiteral("sip:%1@example.com").arg(number);
        doc.dialogs = std::move(dialogs);
        QCOMPARE(console.applyDocument(doc, number), sb::board::ApplyResult::Applied);
    }
    void ringing(const QString& number, const QString& display, const QString& from) {
        show(number, {dialog(QStringLiteral("r") + number, Direction::Recipient, DialogState::Early,
                             display, from)});
    }
    void calling(const QString& number, const QString& display, const QString& to) {
        show(number, {dialog(QStringLiteral("c") + number, Direction::Initiator, DialogState::Early,
                             display, to)});
    }
    void busy(const QString& number, const QString& display, const QString& with) {
        show(number, {dialog(QStringLiteral("b") + number, Direction::Recipient,
                             DialogState::Confirmed, display, with)});
    }
    void held(const QString& number, const QString& display, const QString& with) {
        show(number, {dialog(QStringLiteral("h") + number, Direction::Initiator,
                             DialogState::Confirmed, display, with, true)});
    }
    void offline(const QString& number, const QByteArray& reason) {
        SubscriptionStatus s;
        s.state = SubscriptionStatus::State::Unavailable;
        s.reason = reason;
        console.setSubscriptionStatus(number, s);
    }
    // The afternoon rush: a bit of everything, most of the office idle.
    void busyAfternoon() {
        ringing(QStringLiteral("200"), QStringLiteral("ACME Corp"),
                QStringLiteral("sip:+442071234567@example.com"));
        ringing(QStringLiteral("203"), QStringLiteral("Bob Martin"),
                QStringLiteral("sip:202@example.com"));
        calling(QStringLiteral("202"), QStringLiteral("Carol Nguyen"),
                QStringLiteral("sip:203@example.com"));
        busy(QStringLiteral("205"), {}, QStringLiteral("sip:0301234567@example.com"));
        busy(QStringLiteral("209"), QStringLiteral("DHL Depot"),
             QStringLiteral("sip:+4940123456@example.com"));
        held(QStringLiteral("211"), QStringLiteral("Laura Bianchi"),
             QStringLiteral("sip:212@example.com"));
        busy(QStringLiteral("212"), QStringLiteral("Karl Schmidt"),
             QStringLiteral("sip:211@example.com"));
        offline(QStringLiteral("214"), "noresource");
        offline(QStringLiteral("251"), "408 Request Timeout");
        // Call waiting: busy and ringing at once shows ringing.
        show(QStringLiteral("216"),
             {dialog(QStringLiteral("w1"), Direction::Recipient, DialogState::Confirmed,
                     QStringLiteral("Olivia Brown"), QStringLiteral("sip:215@example.com")),
              dialog(QStringLiteral("w2"), Direction::Recipient, DialogState::Early,
                     QStringLiteral("Front gate"), QStringLiteral("sip:299@example.com"))});
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

QModelIndex tile(const MainWindow& window, const QString& number) {
    const auto* proxy = window.boardProxy();
    for (int row = 0; row < proxy->rowCount(); ++row) {
        const QModelIndex index = proxy->index(row, 0);
        if (index.data(BoardModel::NumberRole).toString() == number) return index;
    }
    return {};
}

QStringList shownNumbers(const MainWindow& window) {
    QStringList out;
    const auto* proxy = window.boardProxy();
    for (int row = 0; row < proxy->rowCount(); ++row)
        out << proxy->index(row, 0).data(BoardModel::NumberRole).toString();
    return out;
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

class TstBoardWindow : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { QCOMPARE(QGuiApplication::platformName(), QStringLiteral("offscreen")); }

    void showsTileStatesAndTexts() {
        Board board;
        MainWindow window(board.console);
        QAbstractItemModelTester tester(window.boardProxy(),
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        board.addOffice();
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        board.busyAfternoon();
        settle(window);
        board.clock.advance(std::chrono::seconds(75));

        QCOMPARE(window.boardProxy()->rowCount(), int(std::size(kOffice)));
        const struct {
            const char* number;
            Lamp lamp;
            const char* word;
            const char* detail;
        } expected[] = {
            {"200", Lamp::Ringing, "Ringing", "from ACME Corp · +442071234567"},
            {"201", Lamp::Idle, "Idle", ""},
            {"202", Lamp::Calling, "Calling", "to Carol Nguyen · 203"},
            {"203", Lamp::Ringing, "Ringing", "from Bob Martin · 202"},
            {"205", Lamp::Busy, "Busy", "with 0301234567"},
            {"211", Lamp::Held, "On hold", "with Laura Bianchi · 212"},
            {"214", Lamp::Offline, "Offline", "Cannot be monitored: noresource"},
            {"216", Lamp::Ringing, "Ringing", "from Front gate · 299"},
        };
        const QRect viewport = window.boardView()->viewport()->rect();
        for (const auto& e : expected) {
            const QModelIndex index = tile(window, QString::fromLatin1(e.number));
            QVERIFY2(index.isValid(), e.number);
            QCOMPARE(Lamp(index.data(BoardModel::LampRole).toInt()), e.lamp);
            QCOMPARE(index.data(BoardModel::LampTextRole).toString(), QString::fromUtf8(e.word));
            QCOMPARE(index.data(BoardModel::DetailRole).toString(), QString::fromUtf8(e.detail));
            const QRect rect = window.boardView()->visualRect(index);
            QVERIFY2(viewport.contains(rect), e.number);
            QCOMPARE(rect.size(), window.boardView()->tileDelegate()->tileSize());
        }
        const QModelIndex ringing = tile(window, QStringLiteral("200"));
        QCOMPARE(ringing.data(BoardModel::DurationTextRole).toString(), QStringLiteral("01:15"));
        QCOMPARE(ringing.data(Qt::AccessibleTextRole).toString(),
                 QStringLiteral("Reception, extension 200: Ringing, from ACME Corp · "
                                "+442071234567, for 01:15"));
        QCOMPARE(window.subscribedText(), QStringLiteral("20 of 22 subscribed"));

        // Tiles of different lamps differ on screen: the lamp bar has the lamp's colour.
        const QImage shot = window.boardView()->viewport()->grab().toImage();
        auto barColour = [&](const QString& number) {
            const QRect rect = window.boardView()->visualRect(tile(window, number));
            return QColor(shot.pixel(rect.left() + 3, rect.center().y()));
        };
        QCOMPARE(barColour(QStringLiteral("200")),
                 LampStyle::look(Lamp::Ringing, LampStyle::Scheme::Light).accent);
        QCOMPARE(barColour(QStringLiteral("205")),
                 LampStyle::look(Lamp::Busy, LampStyle::Scheme::Light).accent);
        QCOMPARE(barColour(QStringLiteral("201")),
                 LampStyle::look(Lamp::Idle, LampStyle::Scheme::Light).accent);

        // A lamp that goes back to idle follows.
        board.show(QStringLiteral("200"), {});
        settle(window);
        QCOMPARE(Lamp(tile(window, QStringLiteral("200")).data(BoardModel::LampRole).toInt()),
                 Lamp::Idle);
        QCOMPARE(tile(window, QStringLiteral("200")).data(BoardModel::DurationTextRole).toString(),
                 QString());
    }

    void everyLampHasItsOwnGlyphAndWord() {
        QSet<QString> words;
        QSet<int> glyphs;
        for (Lamp lamp :
             {Lamp::Offline, Lamp::Idle, Lamp::Ringing, Lamp::Calling, Lamp::Busy, Lamp::Held}) {
            words << LampStyle::text(lamp);
            glyphs << int(LampStyle::look(lamp, LampStyle::Scheme::Light).glyph);
            QCOMPARE(LampStyle::look(lamp, LampStyle::Scheme::Dark).glyph,
                     LampStyle::look(lamp, LampStyle::Scheme::Light).glyph);
            // Greyscale: the glyph's shape alone tells lamps apart.
            const QImage a = LampStyle::glyphPixmap(lamp, LampStyle::Scheme::Light, 24, 1)
                                 .toImage()
                                 .convertToFormat(QImage::Format_Alpha8);
            for (Lamp other : {Lamp::Offline, Lamp::Idle, Lamp::Ringing, Lamp::Calling, Lamp::Busy,
                               Lamp::Held}) {
                if (other == lamp) continue;
                const QImage b = LampStyle::glyphPixmap(other, LampStyle::Scheme::Light, 24, 1)
                                     .toImage()
                                     .convertToFormat(QImage::Format_Alpha8);
                QVERIFY(a != b);
            }
        }
        QCOMPARE(words.size(), 6);
        QCOMPARE(glyphs.size(), 6);
    }

    void typingFiltersAndEscapeClears() {
        Board board;
        board.addOffice();
        MainWindow window(board.console);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        window.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&window));
        settle(window);
        window.boardView()->setFocus();
        QVERIFY(window.boardView()->hasFocus());

        // Typing on the board goes into the filter.
        QTest::keyClicks(window.boardView(), QStringLiteral("ca"));
        QCOMPARE(window.filterEdit()->text(), QStringLiteral("ca"));
        QVERIFY(window.filterEdit()->hasFocus());
        QCOMPARE(shownNumbers(window), QStringList{QStringLiteral("203")});
        QTest::keyClicks(window.filterEdit(), QStringLiteral("x"));
        QCOMPARE(window.boardProxy()->rowCount(), 0);
        QCOMPARE(window.boardPlaceholderText(), QStringLiteral("No extension matches “cax”"));
        QTest::keyClick(window.filterEdit(), Qt::Key_Backspace);
        QTest::keyClick(window.filterEdit(), Qt::Key_Backspace);
        QTest::keyClick(window.filterEdit(), Qt::Key_Backspace);
        QTest::keyClicks(window.filterEdit(), QStringLiteral("21"));
        QCOMPARE(shownNumbers(window), (QStringList{"210", "211", "212", "213", "214", "215", "216",
                                                    "217", "218", "219"}));

        // Esc clears it, a second Esc returns to the board.
        QTest::keyClick(window.filterEdit(), Qt::Key_Escape);
        QCOMPARE(window.filterEdit()->text(), QString());
        QCOMPARE(window.boardProxy()->rowCount(), int(std::size(kOffice)));
        QTest::keyClick(window.filterEdit(), Qt::Key_Escape);
        QVERIFY(window.boardView()->hasFocus());

        // Ctrl+F from anywhere; Esc on the board clears too.
        QTest::keySequence(&window, QKeySequence(Qt::CTRL | Qt::Key_F));
        QVERIFY(window.filterEdit()->hasFocus());
        QTest::keyClicks(window.filterEdit(), QStringLiteral("fax"));
        QCOMPARE(shownNumbers(window), QStringList{QStringLiteral("251")});
        QTest::keyClick(window.filterEdit(), Qt::Key_Down);
        QVERIFY(window.boardView()->hasFocus());
        QTest::keyClick(window.boardView(), Qt::Key_Escape);
        QCOMPARE(window.filterEdit()->text(), QString());
        QCOMPARE(window.boardProxy()->rowCount(), int(std::size(kOffice)));
    }

    void arrowKeysMoveBetweenTiles() {
        Board board;
        board.addOffice();
        MainWindow window(board.console);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        window.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&window));
        settle(window);
        auto* view = window.boardView();
        view->setFocus();
        QCOMPARE(view->currentIndex().row(), 0);

        // Tiles per line, from the layout itself.
        const int top = view->visualRect(window.boardProxy()->index(0, 0)).top();
        int perLine = 0;
        while (view->visualRect(window.boardProxy()->index(perLine, 0)).top() == top)
            ++perLine;
        QVERIFY(perLine > 1);
        QVERIFY(perLine < window.boardProxy()->rowCount());

        QTest::keyClick(view, Qt::Key_Right);
        QCOMPARE(view->currentIndex().row(), 1);
        QTest::keyClick(view, Qt::Key_Down);
        QCOMPARE(view->currentIndex().row(), 1 + perLine);
        QTest::keyClick(view, Qt::Key_Left);
        QCOMPARE(view->currentIndex().row(), perLine);
        QTest::keyClick(view, Qt::Key_Up);
        QCOMPARE(view->currentIndex().row(), 0);
        QTest::keyClick(view, Qt::Key_End);
        QCOMPARE(view->currentIndex().row(), window.boardProxy()->rowCount() - 1);
        QTest::keyClick(view, Qt::Key_Home);
        QCOMPARE(view->currentIndex().row(), 0);
    }

    void aTabPerGroup() {
        Board board;
        board.addOffice();
        MainWindow window(board.console);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QTabBar* tabs = window.groupTabs();
        QStringList names;
        for (int i = 0; i < tabs->count(); ++i)
            names << tabs->tabText(i);
        QCOMPARE(names,
                 (QStringList{"All", "Front desk", "Sales", "Support", "Warehouse", "Ungrouped"}));
        tabs->setCurrentIndex(3);
        QCOMPARE(shownNumbers(window), (QStringList{"203", "204", "206", "211", "214", "218"}));
        tabs->setCurrentIndex(5);
        QCOMPARE(shownNumbers(window), (QStringList{"250", "251"}));
        // Ctrl+PgDown wraps to "All".
        window.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&window));
        QTest::keySequence(&window, QKeySequence(Qt::CTRL | Qt::Key_PageDown));
        QCOMPARE(tabs->currentIndex(), 0);
        QCOMPARE(window.boardProxy()->rowCount(), int(std::size(kOffice)));

        // A new group gets its tab; the selected one stays selected.
        tabs->setCurrentIndex(2);
        board.add(QStringLiteral("300"), QStringLiteral("Zara"), QStringLiteral("Board room"));
        QCOMPARE(tabs->count(), 7);
        QCOMPARE(tabs->tabText(tabs->currentIndex()), QStringLiteral("Sales"));
    }

    void tileSizeFollowsShortcuts() {
        Board board;
        board.addOffice();
        MainWindow window(board.console);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        window.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&window));
        const QModelIndex first = window.boardProxy()->index(0, 0);
        auto* delegate = window.boardView()->tileDelegate();
        const QSize normal = window.boardView()->visualRect(first).size();
        const int normalMinimum = delegate->minimumTileWidth();
        QTest::keySequence(&window, QKeySequence(Qt::CTRL | Qt::Key_Plus));
        QCOMPARE(window.tileScaleStep(), 1);
        // Taller, and wider at least at the minimum (tiles stretch to fill whole columns).
        QVERIFY(window.boardView()->visualRect(first).height() > normal.height());
        QVERIFY(delegate->minimumTileWidth() > normalMinimum);
        QCOMPARE(window.boardView()->visualRect(first).size(), delegate->tileSize());
        QTest::keySequence(&window, QKeySequence(Qt::CTRL | Qt::Key_Minus));
        QTest::keySequence(&window, QKeySequence(Qt::CTRL | Qt::Key_Minus));
        QCOMPARE(window.tileScaleStep(), -1);
        QVERIFY(window.boardView()->visualRect(first).height() < normal.height());
        QVERIFY(delegate->minimumTileWidth() < normalMinimum);
        QTest::keySequence(&window, QKeySequence(Qt::CTRL | Qt::Key_0));
        QCOMPARE(window.boardView()->visualRect(first).size(), normal);
        // Whole columns: the last tile of the first line ends within the viewport.
        const int viewportWidth = window.boardView()->viewport()->width();
        for (int row = 0; row < window.boardProxy()->rowCount(); ++row)
            QVERIFY(window.boardView()->visualRect(window.boardProxy()->index(row, 0)).right() <
                    viewportWidth);
    }

    void traceDockShowsRedactedMessages() {
        Board board;
        MainWindow window(board.console);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QVERIFY(window.sipTraceDock()->isHidden());
        sb::base::SipTrace* trace = window.sipTrace();
        const QByteArray message =
            "REGISTER sip:example.com SIP/2.0\r\nAuthorization: Digest username=\"alice\", "
            "response=\"secret\"\r\nContent-Length: 0\r\n\r\n";
        // Hidden: nothing is recorded.
        trace->record(sb::base::SipTrace::Direction::Sent, "UDP", QStringLiteral("127.0.0.1:5060"),
                      QStringLiteral("127.0.0.9:5060"), message);
        QCoreApplication::processEvents();

        window.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&window));
        QTest::keySequence(&window, QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_T));
        QVERIFY(window.sipTraceDock()->isVisible());
        QPlainTextEdit* text = window.sipTraceDock()->textEdit();
        QCOMPARE(text->toPlainText(), QString());
        trace->record(sb::base::SipTrace::Direction::Sent, "UDP", QStringLiteral("127.0.0.1:5060"),
                      QStringLiteral("127.0.0.9:5060"), message);
        QTRY_VERIFY(text->toPlainText().contains(QStringLiteral("REGISTER sip:example.com")));
        QVERIFY(!text->toPlainText().contains(QStringLiteral("secret")));
        QVERIFY(
            text->toPlainText().contains(QStringLiteral("sent udp 127.0.0.1:5060 → "
                                                        "127.0.0.9:5060")));
        window.sipTraceDock()->setFloating(false);
        window.resize(1000, 700);
        saveShot(window, QStringLiteral("board_trace_dock.png"));

        // From another thread, too (transports may live there).
        QThread* thread = QThread::create([trace, &message] {
            for (int i = 0; i < 50; ++i)
                trace->record(sb::base::SipTrace::Direction::Received, "TCP",
                              QStringLiteral("127.0.0.1:5060"), QStringLiteral("127.0.0.7:5060"),
                              message);
        });
        thread->start();
        QVERIFY(thread->wait(10000));
        delete thread;
        QTRY_COMPARE(text->toPlainText().count(QStringLiteral("received tcp")), 50);
        QTest::keySequence(&window, QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_T));
        QVERIFY(window.sipTraceDock()->isHidden());
        QVERIFY(!window.sipTrace()->isEnabled());
    }

    void directoryDialogEditsAndImports() {
        std::vector<Extension> start = {{"201", "Alice", "Sales", {}}, {"202", "Bob", "Sales", {}}};
        sb::ui::DirectoryDialog dialog(start);
        QCOMPARE(dialog.table()->rowCount(), 2);
        const QStringList errors =
            dialog.importCsv("extension,name,group\n202,Robert,Support\n2 03,Bad,X\n204,Dora,\n");
        QCOMPARE(errors.size(), 1);
        QVERIFY2(errors.first().startsWith(QStringLiteral("line 3")), qPrintable(errors.first()));
        QVERIFY(dialog.errorText().contains(QStringLiteral("line 3")));
        const std::vector<Extension> list = dialog.extensions();
        QCOMPARE(list.size(), std::size_t(3));
        QCOMPARE(list[1].name, QStringLiteral("Robert"));
        QCOMPARE(list[1].group, QStringLiteral("Support"));
        QCOMPARE(list[2].number, QStringLiteral("204"));
        QVERIFY(dialog.problems().isEmpty());
        dialog.table()->item(2, 0)->setText(QStringLiteral("201"));
        QCOMPARE(dialog.problems().size(), 1);
        QVERIFY(dialog.problems().first().contains(QStringLiteral("listed twice")));
    }

    void editedDirectoryIsAppliedAndAnnounced() {
        Board board;
        board.add(QStringLiteral("201"), QStringLiteral("Alice"), QStringLiteral("Sales"));
        MainWindow window(board.console);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QSignalSpy edited(&window, &MainWindow::directoryEdited);
        QTimer::singleShot(0, this, [] {
            auto* dialog =
                qobject_cast<sb::ui::DirectoryDialog*>(QApplication::activeModalWidget());
            QVERIFY(dialog);
            dialog->importCsv("extension,name,group\n207,Grace,Support\n");
            dialog->accept();
        });
        window.editDirectory();
        QCOMPARE(edited.count(), 1);
        const auto list = edited.at(0).at(0).value<std::vector<Extension>>();
        QCOMPARE(list.size(), std::size_t(2));
        QCOMPARE(board.console.monitoredCount(), 2);
        QCOMPARE(shownNumbers(window), (QStringList{"201", "207"}));
    }

    // A ringing tile offers Pick up (Enter, double-click) and Forward… (F); other tiles
    // show both disabled with the reason, in the tooltip and the context menu.
    void tileActionsFollowTheLamp() {
        Board board;
        board.addOffice();
        FakeOperatorActions actions;
        MainWindow window(board.console);
        window.setOperatorActions(&actions);
        window.show();
        window.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&window));
        board.busyAfternoon();
        settle(window);
        auto* view = window.boardView();
        view->setFocus();

        view->setCurrentIndex(tile(window, QStringLiteral("203")));
        QVERIFY(window.pickupAction()->isEnabled());
        QVERIFY(window.forwardAction()->isEnabled());
        QCOMPARE(window.pickupAction()->toolTip(),
                 QStringLiteral("Pick up the call ringing at 203 Carol Nguyen on your phone "
                                "(Enter)"));
        QTest::keyClick(view, Qt::Key_Return);
        QCOMPARE(actions.pickups, QStringList{QStringLiteral("203")});
        QCOMPARE(window.noticeText(), QStringLiteral("Picking up the call ringing at 203"));
        QVERIFY(!window.noticeIsProblem());
        QCOMPARE(window.statusBar()->currentMessage(), window.noticeText());

        const QRect reception = view->visualRect(tile(window, QStringLiteral("200")));
        // A double-click as a user makes it: a click, then the second press.
        QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, reception.center());
        QTest::mouseDClick(view->viewport(), Qt::LeftButton, {}, reception.center());
        QCOMPARE(actions.pickups, (QStringList{"203", "200"}));

        // Idle and busy tiles: disabled, with the reason; Enter does nothing.
        view->setCurrentIndex(tile(window, QStringLiteral("201")));
        QVERIFY(!window.pickupAction()->isEnabled());
        QVERIFY(!window.forwardAction()->isEnabled());
        QCOMPARE(window.pickupAction()->toolTip(),
                 QStringLiteral("201 Alice Example is not ringing (Idle)"));
        QTest::keyClick(view, Qt::Key_Return);
        const QRect idle = view->visualRect(tile(window, QStringLiteral("201")));
        QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, idle.center());
        QTest::mouseDClick(view->viewport(), Qt::LeftButton, {}, idle.center());
        QCOMPARE(actions.pickups.size(), 2);
        view->setCurrentIndex(tile(window, QStringLiteral("205")));
        QCOMPARE(window.forwardAction()->toolTip(),
                 QStringLiteral("205 Eve Lindqvist is not ringing (Busy)"));
        // F on a tile that does not ring is a letter like any other: it finds.
        QTest::keyClick(view, Qt::Key_F);
        QVERIFY(!window.forwardDialog());
        QCOMPARE(window.filterEdit()->text(), QStringLiteral("f"));
        QTest::keyClick(window.filterEdit(), Qt::Key_Escape);
        QTest::keyClick(window.filterEdit(), Qt::Key_Escape);
        QVERIFY(view->hasFocus());

        // The context menu: the same actions, and why they are disabled on top.
        QMenu* menu = window.tileMenu();
        emit view->customContextMenuRequested(idle.center());
        QTRY_VERIFY(menu->isVisible());
        QCOMPARE(view->currentIndex(), tile(window, QStringLiteral("201")));
        QVERIFY(menu->actions().contains(window.pickupAction()));
        QVERIFY(menu->actions().contains(window.forwardAction()));
        QVERIFY(!window.pickupAction()->isEnabled());
        QCOMPARE(menu->actions().constFirst()->text(),
                 QStringLiteral("201 Alice Example is not ringing (Idle)"));
        QVERIFY(menu->actions().constFirst()->isVisible());
        menu->close();
        emit view->customContextMenuRequested(
            view->visualRect(tile(window, QStringLiteral("216"))).center());
        QTRY_VERIFY(menu->isVisible());
        QVERIFY(window.pickupAction()->isEnabled());
        QVERIFY(!menu->actions().constFirst()->isVisible());
        menu->close();

        // A pickup that fails says why, where the operator looks.
        actions.failure = QStringLiteral("your phone (208) is not registered");
        view->setFocus();
        view->setCurrentIndex(tile(window, QStringLiteral("203")));
        QTest::keyClick(view, Qt::Key_Return);
        QCOMPARE(window.noticeText(),
                 QStringLiteral("Not picked up at 203 Carol Nguyen: your phone (208) is not "
                                "registered"));
        QVERIFY(window.noticeIsProblem());
        QCOMPARE(window.statusBar()->currentMessage(), window.noticeText());
        saveShot(window, QStringLiteral("board_pickup_failed.png"));
        // Esc on the board dismisses it.
        QTest::keyClick(view, Qt::Key_Escape);
        QCOMPARE(window.noticeText(), QString());

        // Client mode: a ringing tile can be picked up, but not forwarded: Forward is
        // disabled with the reason, in its tooltip and on top of the menu.
        actions.forwardUnavailable = QStringLiteral(
            "another extension's call cannot be forwarded without the server in its path");
        window.setOperatorActions(&actions);
        QVERIFY(window.pickupAction()->isEnabled());
        QVERIFY(!window.forwardAction()->isEnabled());
        QCOMPARE(window.forwardAction()->toolTip(), actions.forwardUnavailable);
        emit view->customContextMenuRequested(
            view->visualRect(tile(window, QStringLiteral("203"))).center());
        QTRY_VERIFY(menu->isVisible());
        QCOMPARE(menu->actions().constFirst()->text(), actions.forwardUnavailable);
        QVERIFY(menu->actions().constFirst()->isVisible());
        saveShot(window, QStringLiteral("board_client_mode_menu.png"));
        menu->close();
        // F on that tile opens no forward dialog.
        view->setFocus();
        QTest::keyClick(view, Qt::Key_F);
        QVERIFY(!window.forwardDialog());
        QTest::keyClick(window.filterEdit(), Qt::Key_Escape);
        QTest::keyClick(window.filterEdit(), Qt::Key_Escape);
        actions.forwardUnavailable.clear();

        // A session that cannot act on extensions' calls at all: disabled, with its
        // reason, even on a ringing tile.
        actions.unavailable =
            QStringLiteral("no operator's phone is configured ([attendant] phone)");
        window.setOperatorActions(&actions);
        QVERIFY(!window.pickupAction()->isEnabled());
        QCOMPARE(window.forwardAction()->toolTip(), actions.unavailable);
        window.setOperatorActions(nullptr);
        QVERIFY(!window.forwardAction()->isEnabled());
        QCOMPARE(window.forwardAction()->toolTip(),
                 QStringLiteral("Picking up and forwarding need a running session"));
    }

    void screenshots() {
        Board board;
        board.addOffice();
        MainWindow window(board.console);
        window.resize(1100, 640);
        sb::ui::RegistrationIndicator::Status registered;
        registered.state = sb::ui::RegistrationIndicator::State::Registered;
        registered.aor = QStringLiteral("sip:reception@example.com");
        registered.expires = 3600;
        window.showRegistration(registered);
        window.showListenAddresses({QStringLiteral("udp:127.0.0.1:5060")});
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        settle(window);
        saveShot(window, QStringLiteral("board_idle.png"));

        board.busyAfternoon();
        settle(window);
        board.clock.advance(std::chrono::seconds(134));
        window.boardView()->setCurrentIndex(tile(window, QStringLiteral("203")));
        window.boardView()->viewport()->update();
        saveShot(window, QStringLiteral("board_busy_light.png"));
        window.setDarkPalette(true);
        QVERIFY(window.isDarkPalette());
        saveShot(window, QStringLiteral("board_busy_dark.png"));
        window.setDarkPalette(false);
        window.setTileScaleStep(3);
        saveShot(window, QStringLiteral("board_busy_large.png"));
    }

    // Not a benchmark (tests/bench has that): a 2,000-tile board keeps working, lamp
    // changes reach the view in a handful of batches, and the timings are logged.
    void largeBoard() {
        Board board;
        MainWindow window(board.console);
        window.resize(1280, 800);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QElapsedTimer timer;
        timer.start();
        std::vector<Extension> list;
        for (int n = 0; n < 2000; ++n)
            list.push_back({QString::number(10000 + n),
                            QStringLiteral("Person %1").arg(n),
                            QStringLiteral("Group %1").arg(n % 20),
                            {}});
        QVERIFY(board.console.setDirectory(list).has_value());
        for (const Extension& e : list) {
            SubscriptionStatus active;
            active.state = SubscriptionStatus::State::Active;
            board.console.setSubscriptionStatus(e.number, active);
        }
        settle(window);
        QCOMPARE(window.boardProxy()->rowCount(), 2000);
        qInfo("2000 extensions monitored and shown in %lld ms", timer.restart());

        QSignalSpy changed(window.boardModel(), &QAbstractItemModel::dataChanged);
        qint64 worstFeed = 0, worstFlush = 0, worstPaint = 0;
        for (int round = 0; round < 10; ++round) {
            QElapsedTimer step;
            step.start();
            for (int i = 0; i < 100; ++i) {
                const int n = (round * 137 + i * 19) % 2000;
                board.ringing(QString::number(10000 + n), QStringLiteral("Caller"),
                              QStringLiteral("sip:999@example.com"));
            }
            QCoreApplication::processEvents();  // the console's batch
            worstFeed = std::max(worstFeed, step.restart());
            window.boardModel()->flushPendingChanges();
            worstFlush = std::max(worstFlush, step.restart());
            window.boardView()->viewport()->repaint();
            worstPaint = std::max(worstPaint, step.restart());
        }
        qInfo(
            "1000 lamp changes in 10 batches of 100: worst console %lld ms, model+proxy "
            "%lld ms, board repaint %lld ms; %lld dataChanged signals",
            worstFeed, worstFlush, worstPaint, qint64(changed.count()));
        QVERIFY(changed.count() <= 10 * 32);
        timer.restart();
        const int repainted = window.boardView()->repaintLiveDurations();
        qInfo("duration tick: %d visible live tiles in %lld ms", repainted, timer.elapsed());
        timer.restart();
        window.filterEdit()->setText(QStringLiteral("person 19"));
        QCOMPARE(window.boardProxy()->rowCount(), 111);
        qInfo("filter over 2000 tiles: %lld ms", timer.elapsed());
        window.filterEdit()->clear();
        // The view lays out in batches on the event loop; shoot once tiles are placed.
        QTRY_VERIFY(window.boardView()->indexAt(QPoint(20, 20)).isValid());
        saveShot(window, QStringLiteral("board_2000.png"));
    }
};

QTEST_MAIN(TstBoardWindow)
#include "tst_board_window.moc"
