// BoardModel and BoardFilterProxy over a real board::Console fed with documents built
// here: rows follow the directory, each role says what the tile shows, lamp changes
// reach the views in batches of adjacent rows, and the filter/group proxy keeps up.

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>

#include <map>

#include "base/manual_clock.h"
#include "board/console.h"
#include "shown_text.h"
#include "ui/board_filter_proxy.h"
#include "ui/board_model.h"

using sb::base::ManualClock;
using sb::board::Console;
using sb::board::Extension;
using sb::dialoginfo::DialogInfo;
using sb::dialoginfo::DialogState;
using sb::dialoginfo::Direction;
using sb::dialoginfo::Document;
using sb::dialoginfo::Lamp;
using sb::ua::SubscriptionStatus;
using sb::ui::BoardFilterProxy;
using sb::ui::BoardModel;

namespace {

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

// A console of a few extensions whose subscriptions are active and whose documents
// this fixture writes (full state, rising versions).
class Board {
public:
    Board() : console(clock) { console.setDomain(QStringLiteral("example.com")); }

    void add(const QString& number, const QString& name, const QString& group) {
        QVERIFY(console.monitor({number, name, group, {}}).has_value());
        SubscriptionStatus active;
        active.state = SubscriptionStatus::State::Active;
        console.setSubscriptionStatus(number, active);
    }
    void show(const QString& number, std::vector<DialogInfo> dialogs) {
        Document doc;
        doc.version = m_version[number]++;
        doc.entity = QStringLiteral("sip:%1@example.com").arg(number);
        doc.dialogs = std::move(dialogs);
        QCOMPARE(console.applyDocument(doc, number), sb::board::ApplyResult::Applied);
    }
    void ringing(const QString& number) {
        show(number, {dialog(QStringLiteral("d1"), Direction::Recipient, DialogState::Early,
                             QStringLiteral("Bob"), QStringLiteral("sip:202@example.com"))});
    }
    void idle(const QString& number) { show(number, {}); }

    ManualClock clock;
    Console console;

private:
    std::map<QString, quint64> m_version;
};

// Lets the console's coalesced signal and the model's frame timer run.
void settle(BoardModel& model) {
    QCoreApplication::processEvents();
    QTRY_VERIFY(!model.hasPendingChanges());
}

QStringList numbersOf(const QAbstractItemModel& model) {
    QStringList out;
    for (int row = 0; row < model.rowCount(); ++row)
        out << model.index(row, 0).data(BoardModel::NumberRole).toString();
    return out;
}

}  // namespace

class TstBoardModel : public QObject {
    Q_OBJECT

private slots:
    void passesTheModelTester() {
        Board board;
        BoardModel model(board.console);
        BoardFilterProxy proxy;
        proxy.setSourceModel(&model);
        QAbstractItemModelTester modelTester(
            &model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QAbstractItemModelTester proxyTester(
            &proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
        board.add(QStringLiteral("201"), QStringLiteral("Alice"), QStringLiteral("Sales"));
        board.add(QStringLiteral("202"), QStringLiteral("Bob"), QStringLiteral("Sales"));
        board.add(QStringLiteral("203"), QStringLiteral("Carol"), QStringLiteral("Support"));
        board.ringing(QStringLiteral("201"));
        settle(model);
        proxy.setFilterText(QStringLiteral("b"));
        board.console.unmonitor(QStringLiteral("202"));
        proxy.setGroup(QStringLiteral("Support"));
        QVERIFY(board.console
                    .setDirectory({{QStringLiteral("203"),
                                    QStringLiteral("Carol"),
                                    QStringLiteral("Support"),
                                    {}},
                                   {QStringLiteral("201"), QStringLiteral("Alice"), {}, {}}})
                    .has_value());
        settle(model);
        QCOMPARE(numbersOf(model), (QStringList{QStringLiteral("203"), QStringLiteral("201")}));
    }

    void rowsFollowTheDirectory() {
        Board board;
        BoardModel model(board.console);
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
        QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
        for (const char* n : {"201", "202", "203", "204"})
            board.add(QString::fromLatin1(n), QStringLiteral("Name %1").arg(n), {});
        QCOMPARE(numbersOf(model), (QStringList{"201", "202", "203", "204"}));
        QCOMPARE(model.rowOf(QStringLiteral("203")), 2);
        QCOMPARE(inserted.count(), 4);

        board.console.unmonitor(QStringLiteral("202"));
        QCOMPARE(numbersOf(model), (QStringList{"201", "203", "204"}));
        QCOMPARE(removed.count(), 1);
        QCOMPARE(model.rowOf(QStringLiteral("204")), 2);
        QCOMPARE(model.rowOf(QStringLiteral("202")), -1);

        // New extensions between kept ones are inserted, not reset.
        std::vector<Extension> list = {{"200", "Zed", {}, {}},      {"201", "Name 201", {}, {}},
                                       {"210", "New", {}, {}},      {"211", "New 2", {}, {}},
                                       {"203", "Name 203", {}, {}}, {"204", "Renamed", {}, {}}};
        QVERIFY(board.console.setDirectory(list).has_value());
        QCOMPARE(numbersOf(model), (QStringList{"200", "201", "210", "211", "203", "204"}));
        QCOMPARE(reset.count(), 0);
        QCOMPARE(model.index(5, 0).data(BoardModel::NameRole).toString(),
                 QStringLiteral("Renamed"));

        // A reordered directory resets.
        std::reverse(list.begin(), list.end());
        QVERIFY(board.console.setDirectory(list).has_value());
        QCOMPARE(numbersOf(model), (QStringList{"204", "203", "211", "210", "201", "200"}));
        QCOMPARE(reset.count(), 1);
        QCOMPARE(model.rowOf(QStringLiteral("200")), 5);
    }

    void dataForEachRole() {
        Board board;
        BoardModel model(board.console);
        board.add(QStringLiteral("201"), QStringLiteral("Alice"), QStringLiteral("Sales"));
        board.add(QStringLiteral("205"), {}, {});
        board.add(QStringLiteral("206"), QStringLiteral("Dora"), {});
        board.ringing(QStringLiteral("201"));
        board.idle(QStringLiteral("205"));
        SubscriptionStatus refused;
        refused.state = SubscriptionStatus::State::Unavailable;
        refused.reason = "noresource";
        board.console.setSubscriptionStatus(QStringLiteral("206"), refused);
        settle(model);
        board.clock.advance(std::chrono::seconds(83));

        const QModelIndex alice = model.index(0, 0);
        QCOMPARE(alice.data(Qt::DisplayRole).toString(), QStringLiteral("Alice"));
        QCOMPARE(alice.data(BoardModel::NumberRole).toString(), QStringLiteral("201"));
        QCOMPARE(alice.data(BoardModel::NameRole).toString(), QStringLiteral("Alice"));
        QCOMPARE(alice.data(BoardModel::GroupRole).toString(), QStringLiteral("Sales"));
        QCOMPARE(Lamp(alice.data(BoardModel::LampRole).toInt()), Lamp::Ringing);
        QCOMPARE(alice.data(BoardModel::LampTextRole).toString(), QStringLiteral("Ringing"));
        QCOMPARE(alice.data(BoardModel::OtherDisplayRole).toString(), QStringLiteral("Bob"));
        QCOMPARE(alice.data(BoardModel::OtherUriRole).toString(),
                 QStringLiteral("sip:202@example.com"));
        QCOMPARE(alice.data(BoardModel::OtherPartyRole).toString(), QStringLiteral("Bob · 202"));
        QCOMPARE(alice.data(BoardModel::DetailRole).toString(), QStringLiteral("from Bob · 202"));
        QCOMPARE(alice.data(BoardModel::ElapsedSecondsRole).toLongLong(), 83);
        QCOMPARE(alice.data(BoardModel::DurationTextRole).toString(), QStringLiteral("01:23"));
        QCOMPARE(alice.data(BoardModel::SubscriptionStateRole).toString(),
                 QStringLiteral("active"));
        QCOMPARE(alice.data(Qt::AccessibleTextRole).toString(),
                 QStringLiteral("Alice, extension 201: Ringing, from Bob · 202, for 01:23"));
        QCOMPARE(sb::test::shownToolTip(alice.data(Qt::ToolTipRole).toString()),
                 alice.data(Qt::AccessibleTextRole).toString());
        QVERIFY(alice.data(BoardModel::SinceRole).isValid());

        const QModelIndex unnamed = model.index(1, 0);
        QCOMPARE(unnamed.data(Qt::DisplayRole).toString(), QStringLiteral("205"));
        QCOMPARE(Lamp(unnamed.data(BoardModel::LampRole).toInt()), Lamp::Idle);
        QCOMPARE(unnamed.data(BoardModel::DurationTextRole).toString(), QString());
        QVERIFY(!unnamed.data(BoardModel::ElapsedSecondsRole).isValid());
        QCOMPARE(unnamed.data(BoardModel::DetailRole).toString(), QString());
        QCOMPARE(unnamed.data(Qt::AccessibleTextRole).toString(),
                 QStringLiteral("Extension 205: Idle"));

        const QModelIndex offline = model.index(2, 0);
        QCOMPARE(Lamp(offline.data(BoardModel::LampRole).toInt()), Lamp::Offline);
        QCOMPARE(offline.data(BoardModel::DetailRole).toString(),
                 QStringLiteral("Cannot be monitored: noresource"));
        QCOMPARE(offline.data(Qt::AccessibleTextRole).toString(),
                 QStringLiteral("Dora, extension 206: Offline, Cannot be monitored: noresource"));
    }

    // A caller's display name is text wherever it is shown: the tooltip (which Qt would
    // read as HTML when it looks like HTML) shows it letter for letter.
    void markupInANameIsShownAsText() {
        Board board;
        BoardModel model(board.console);
        board.add(QStringLiteral("201"), QStringLiteral("Alice"), QStringLiteral("Sales"));
        const QString hostile = QStringLiteral("<b>Boss</b> & <img src=\"x\"> \"co\"");
        board.show(QStringLiteral("201"),
                   {dialog(QStringLiteral("d1"), Direction::Recipient, DialogState::Early, hostile,
                           QStringLiteral("sip:boss@example.com"))});
        settle(model);
        const QModelIndex alice = model.index(0, 0);
        const QString accessible = alice.data(Qt::AccessibleTextRole).toString();
        QVERIFY2(accessible.contains(hostile), qPrintable(accessible));
        const QString toolTip = alice.data(Qt::ToolTipRole).toString();
        QVERIFY2(!toolTip.contains(QStringLiteral("<b>")), qPrintable(toolTip));
        QCOMPARE(sb::test::shownToolTip(toolTip), accessible);
    }

    void otherLampsAndDurations() {
        Board board;
        BoardModel model(board.console);
        board.add(QStringLiteral("201"), QStringLiteral("Alice"), {});
        board.add(QStringLiteral("202"), QStringLiteral("Bob"), {});
        board.add(QStringLiteral("203"), QStringLiteral("Carol"), {});
        board.show(QStringLiteral("201"),
                   {dialog(QStringLiteral("a"), Direction::Initiator, DialogState::Trying, {},
                           QStringLiteral("sip:0301234567@example.com"))});
        board.show(QStringLiteral("202"),
                   {dialog(QStringLiteral("b"), Direction::Recipient, DialogState::Confirmed,
                           QStringLiteral("Zoe"), QStringLiteral("sip:zoe@example.org"))});
        board.show(QStringLiteral("203"),
                   {dialog(QStringLiteral("c"), Direction::Recipient, DialogState::Confirmed,
                           QStringLiteral("Yan"), QStringLiteral("sip:208@example.com"), true)});
        settle(model);
        board.clock.advance(std::chrono::seconds(3723));
        QCOMPARE(Lamp(model.index(0, 0).data(BoardModel::LampRole).toInt()), Lamp::Calling);
        QCOMPARE(model.index(0, 0).data(BoardModel::DetailRole).toString(),
                 QStringLiteral("to 0301234567"));
        QCOMPARE(Lamp(model.index(1, 0).data(BoardModel::LampRole).toInt()), Lamp::Busy);
        QCOMPARE(model.index(1, 0).data(BoardModel::DetailRole).toString(),
                 QStringLiteral("with Zoe · zoe"));
        QCOMPARE(Lamp(model.index(2, 0).data(BoardModel::LampRole).toInt()), Lamp::Held);
        QCOMPARE(model.index(2, 0).data(BoardModel::LampTextRole).toString(),
                 QStringLiteral("On hold"));
        QCOMPARE(model.index(2, 0).data(BoardModel::DurationTextRole).toString(),
                 QStringLiteral("1:02:03"));
        QCOMPARE(BoardModel::durationText(0), QStringLiteral("00:00"));
        QCOMPARE(BoardModel::durationText(59), QStringLiteral("00:59"));
        QCOMPARE(BoardModel::durationText(3599), QStringLiteral("59:59"));
        QCOMPARE(BoardModel::durationText(36000), QStringLiteral("10:00:00"));
    }

    void batchesAdjacentRows() {
        Board board;
        BoardModel model(board.console);
        for (int n = 201; n <= 206; ++n)
            board.add(QString::number(n), {}, {});
        settle(model);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        QSignalSpy flushed(&model, &BoardModel::changesFlushed);
        // Rows 0, 1 and 3 change in one event-loop turn, 201 twice.
        board.ringing(QStringLiteral("201"));
        board.ringing(QStringLiteral("202"));
        board.ringing(QStringLiteral("204"));
        board.idle(QStringLiteral("201"));
        QCOMPARE(changed.count(), 0);  // nothing before the console's batch and the frame
        QTRY_COMPARE(flushed.count(), 1);
        QCOMPARE(changed.count(), 2);
        QCOMPARE(changed.at(0).at(0).toModelIndex().row(), 0);
        QCOMPARE(changed.at(0).at(1).toModelIndex().row(), 1);
        QCOMPARE(changed.at(1).at(0).toModelIndex().row(), 3);
        QCOMPARE(changed.at(1).at(1).toModelIndex().row(), 3);
        // Lamp changes never name the roles the filter reads.
        const auto roles = changed.at(0).at(2).value<QList<int>>();
        QVERIFY(roles.contains(BoardModel::LampRole));
        QVERIFY(!roles.contains(BoardModel::NameRole));
        QVERIFY(!roles.contains(BoardModel::FilterKeyRole));
        QCOMPARE(Lamp(model.index(0, 0).data(BoardModel::LampRole).toInt()), Lamp::Idle);
    }

    void scatteredChangesBecomeOneSpan() {
        Board board;
        BoardModel model(board.console);
        for (int n = 0; n < 200; ++n)
            board.add(QString::number(1000 + n), {}, {});
        settle(model);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        for (int n = 10; n < 190; n += 2)
            board.ringing(QString::number(1000 + n));
        QCoreApplication::processEvents();  // the console's batch
        model.flushPendingChanges();
        QCOMPARE(changed.count(), 1);
        QCOMPARE(changed.at(0).at(0).toModelIndex().row(), 10);
        QCOMPARE(changed.at(0).at(1).toModelIndex().row(), 188);
    }

    void proxyFiltersByTextAndGroup() {
        Board board;
        BoardModel model(board.console);
        BoardFilterProxy proxy;
        proxy.setSourceModel(&model);
        board.add(QStringLiteral("201"), QStringLiteral("Alice Example"), QStringLiteral("Sales"));
        board.add(QStringLiteral("202"), QStringLiteral("Bob"), QStringLiteral("Sales"));
        board.add(QStringLiteral("310"), QStringLiteral("Carol"), QStringLiteral("Support"));
        board.add(QStringLiteral("320"), QStringLiteral("Dave"), {});
        QCOMPARE(proxy.rowCount(), 4);

        proxy.setFilterText(QStringLiteral("  EXAM "));
        QCOMPARE(numbersOf(proxy), QStringList{QStringLiteral("201")});
        proxy.setFilterText(QStringLiteral("20"));
        QCOMPARE(numbersOf(proxy), (QStringList{"201", "202", "320"}));
        proxy.setFilterText(QStringLiteral("0"));
        QCOMPARE(proxy.rowCount(), 4);
        proxy.setGroup(QStringLiteral("Support"));
        QCOMPARE(numbersOf(proxy), QStringList{QStringLiteral("310")});
        proxy.setGroup(QString());
        QCOMPARE(numbersOf(proxy), QStringList{QStringLiteral("320")});
        proxy.setGroup(std::nullopt);
        proxy.setFilterText({});
        QCOMPARE(proxy.rowCount(), 4);

        // Lamp changes keep the rows where they are.
        proxy.setFilterText(QStringLiteral("b"));
        QSignalSpy removed(&proxy, &QAbstractItemModel::rowsRemoved);
        board.ringing(QStringLiteral("202"));
        settle(model);
        QCOMPARE(removed.count(), 0);
        QCOMPARE(Lamp(proxy.index(0, 0).data(BoardModel::LampRole).toInt()), Lamp::Ringing);
        // A renamed extension is filtered again.
        QVERIFY(board.console.monitor({"202", "Robert", "Sales", {}}).has_value());
        QCOMPARE(numbersOf(proxy), QStringList{QStringLiteral("202")});
        QVERIFY(board.console.monitor({"202", "Carl", "Sales", {}}).has_value());
        QCOMPARE(proxy.rowCount(), 0);
    }
};

QTEST_MAIN(TstBoardModel)
#include "tst_board_model.moc"
