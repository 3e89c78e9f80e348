// Tests core/server/dialog_state_store.*: each source's slot of a user's dialogs, change
// notifications, and one dialog id reported by two sources.

#include <QTest>

#include "server/dialog_state_store.h"

using namespace sb;
using dialoginfo::DialogInfo;
using dialoginfo::DialogState;

namespace {

DialogInfo dialog(const QString& id, DialogState state) {
    DialogInfo out;
    out.id = id;
    out.callId = QStringLiteral("call-") + id;
    out.state = state;
    return out;
}

QStringList idsOf(const std::vector<DialogInfo>& dialogs) {
    QStringList out;
    for (const DialogInfo& d : dialogs)
        out << d.id;
    return out;
}

}  // namespace

class TstDialogStateStore : public QObject {
    Q_OBJECT

private slots:
    void sourcesAddUpInTheOrderTheyCame() {
        server::DialogStateStore store;
        QStringList changes;
        store.addListener(
            [&](const QString& user, server::DialogStateStore::Change) { changes << user; });
        store.setDialogs(QStringLiteral("201"), QStringLiteral("call:1"),
                         {dialog(QStringLiteral("a"), DialogState::Early)});
        store.setDialogs(QStringLiteral("201"), QStringLiteral("publish:1"),
                         {dialog(QStringLiteral("b"), DialogState::Confirmed)});
        QCOMPARE(idsOf(store.dialogs(QStringLiteral("201"))),
                 (QStringList{QStringLiteral("a"), QStringLiteral("b")}));
        QCOMPARE(store.dialogCount(), std::size_t(2));
        QCOMPARE(changes, (QStringList{QStringLiteral("201"), QStringLiteral("201")}));
        QVERIFY(store.hasDialogs(QStringLiteral("201")));
        QVERIFY(!store.hasDialogs(QStringLiteral("202")));
    }

    void replacingWithTheSameDialogsNotifiesNobody() {
        server::DialogStateStore store;
        int changes = 0;
        store.addListener([&](const QString&, server::DialogStateStore::Change) { ++changes; });
        store.setDialogs(QStringLiteral("201"), QStringLiteral("call:1"),
                         {dialog(QStringLiteral("a"), DialogState::Early)});
        store.setDialogs(QStringLiteral("201"), QStringLiteral("call:1"),
                         {dialog(QStringLiteral("a"), DialogState::Early)});
        QCOMPARE(changes, 1);
        store.setDialogs(QStringLiteral("201"), QStringLiteral("call:1"),
                         {dialog(QStringLiteral("a"), DialogState::Confirmed)});
        QCOMPARE(changes, 2);
    }

    void anEmptyListOrRemovalEmptiesTheSlot() {
        server::DialogStateStore store;
        store.setDialogs(QStringLiteral("201"), QStringLiteral("call:1"),
                         {dialog(QStringLiteral("a"), DialogState::Early)});
        store.setDialogs(QStringLiteral("201"), QStringLiteral("call:2"),
                         {dialog(QStringLiteral("b"), DialogState::Early)});
        store.setDialogs(QStringLiteral("201"), QStringLiteral("call:1"), {});
        QCOMPARE(idsOf(store.dialogs(QStringLiteral("201"))), QStringList{QStringLiteral("b")});
        store.removeSource(QStringLiteral("201"), QStringLiteral("call:2"));
        QVERIFY(!store.hasDialogs(QStringLiteral("201")));
        QVERIFY(store.users().isEmpty());
        QCOMPARE(store.dialogCount(), std::size_t(0));
    }

    void removingOnlyEndedDialogsSaysSo() {
        server::DialogStateStore store;
        QList<server::DialogStateStore::Change> changes;
        store.addListener(
            [&](const QString&, server::DialogStateStore::Change change) { changes << change; });
        store.setDialogs(QStringLiteral("201"), QStringLiteral("call:1"),
                         {dialog(QStringLiteral("a"), DialogState::Terminated)});
        store.setDialogs(QStringLiteral("201"), QStringLiteral("call:2"),
                         {dialog(QStringLiteral("b"), DialogState::Terminated),
                          dialog(QStringLiteral("c"), DialogState::Confirmed)});
        store.removeSource(QStringLiteral("201"), QStringLiteral("call:1"));
        store.removeSource(QStringLiteral("201"), QStringLiteral("call:2"));
        using Change = server::DialogStateStore::Change;
        QCOMPARE(changes, (QList<Change>{Change::States, Change::States, Change::EndedRemoved,
                                         Change::States}));
    }

    void oldEndsAreLeftOutForAReaderThatShowedThem() {
        server::DialogStateStore store;
        store.setDialogs(QStringLiteral("201"), QStringLiteral("call:1"),
                         {dialog(QStringLiteral("a"), DialogState::Terminated)});
        const quint64 shown = store.sequence();
        QCOMPARE(idsOf(store.dialogs(QStringLiteral("201"), 0)), QStringList{QStringLiteral("a")});
        QVERIFY(store.dialogs(QStringLiteral("201"), shown).empty());

        // A later change elsewhere: the old end stays out, the new dialog is in.
        store.setDialogs(QStringLiteral("201"), QStringLiteral("call:2"),
                         {dialog(QStringLiteral("b"), DialogState::Early)});
        QCOMPARE(idsOf(store.dialogs(QStringLiteral("201"), shown)),
                 QStringList{QStringLiteral("b")});
        // A dialog that ends after the reader's last look is shown (once more) ended.
        store.setDialogs(QStringLiteral("201"), QStringLiteral("call:2"),
                         {dialog(QStringLiteral("b"), DialogState::Terminated)});
        QCOMPARE(idsOf(store.dialogs(QStringLiteral("201"), shown)),
                 QStringList{QStringLiteral("b")});
        // Everything, as before, without a sequence.
        QCOMPARE(idsOf(store.dialogs(QStringLiteral("201"))),
                 (QStringList{QStringLiteral("a"), QStringLiteral("b")}));
    }

    void aStaleCopyNeverStandsInForAnOldEnd() {
        // The furthest state wins first; only then are old ends left out. A "trying"
        // copy of an ended dialog from another source must not reappear.
        server::DialogStateStore store;
        store.setDialogs(QStringLiteral("201"), QStringLiteral("publish:1"),
                         {dialog(QStringLiteral("padi-1"), DialogState::Trying)});
        store.setDialogs(QStringLiteral("201"), QStringLiteral("publish:2"),
                         {dialog(QStringLiteral("padi-1"), DialogState::Terminated)});
        QVERIFY(store.dialogs(QStringLiteral("201"), store.sequence()).empty());
    }

    void aListenerMayRemoveItselfWhileCalled() {
        server::DialogStateStore store;
        int first = 0;
        int second = 0;
        int handle = 0;
        handle = store.addListener([&](const QString&, server::DialogStateStore::Change) {
            ++first;
            store.removeListener(handle);
        });
        store.addListener([&](const QString&, server::DialogStateStore::Change) { ++second; });
        store.setDialogs(QStringLiteral("201"), QStringLiteral("call:1"),
                         {dialog(QStringLiteral("a"), DialogState::Early)});
        store.setDialogs(QStringLiteral("201"), QStringLiteral("call:1"),
                         {dialog(QStringLiteral("a"), DialogState::Confirmed)});
        QCOMPARE(first, 1);
        QCOMPARE(second, 2);
    }

    void oneDialogIdFromTwoSourcesShowsTheStateFurthestAlong() {
        // A Kamailio's racing workers: the "trying" publication and a second publication
        // that went on to confirmed carry the same dialog id.
        server::DialogStateStore store;
        store.setDialogs(QStringLiteral("201"), QStringLiteral("publish:1"),
                         {dialog(QStringLiteral("padi-1"), DialogState::Trying)});
        store.setDialogs(QStringLiteral("201"), QStringLiteral("publish:2"),
                         {dialog(QStringLiteral("padi-1"), DialogState::Confirmed),
                          dialog(QStringLiteral("padi-2"), DialogState::Early)});
        const std::vector<DialogInfo> dialogs = store.dialogs(QStringLiteral("201"));
        QCOMPARE(idsOf(dialogs), (QStringList{QStringLiteral("padi-1"), QStringLiteral("padi-2")}));
        QCOMPARE(dialogs[0].state, DialogState::Confirmed);

        store.setDialogs(QStringLiteral("201"), QStringLiteral("publish:2"),
                         {dialog(QStringLiteral("padi-1"), DialogState::Terminated)});
        QCOMPARE(store.dialogs(QStringLiteral("201"))[0].state, DialogState::Terminated);
    }

    void manyDialogsMergeAsAFewDo() {
        // A user with hundreds of dialogs (the operator's phone collecting calls) is
        // merged through an index rather than a search per dialog: the same result,
        // in the same order, the same id from two sources still one dialog.
        server::DialogStateStore store;
        const QString user = QStringLiteral("204");
        QStringList expected;
        for (int i = 0; i < 100; ++i) {
            const QString id = QStringLiteral("d-%1").arg(i);
            store.setDialogs(user, QStringLiteral("call:%1").arg(i),
                             {dialog(id, i == 7 ? DialogState::Confirmed : DialogState::Early)});
            expected << id;
        }
        store.setDialogs(
            user, QStringLiteral("publish:1"),
            {dialog(QStringLiteral("d-5"), DialogState::Confirmed),
             dialog(QStringLiteral("d-7"), DialogState::Trying),
             dialog(QString(), DialogState::Early), dialog(QString(), DialogState::Early),
             dialog(QStringLiteral("d-100"), DialogState::Early)});
        expected << QString() << QString() << QStringLiteral("d-100");
        const std::vector<DialogInfo> dialogs = store.dialogs(user);
        QCOMPARE(idsOf(dialogs), expected);
        QCOMPARE(dialogs[5].state, DialogState::Confirmed);  // furthest along wins
        QCOMPARE(dialogs[7].state, DialogState::Confirmed);  // a lesser copy does not

        const quint64 before = store.sequence();
        store.setDialogs(user, QStringLiteral("call:3"),
                         {dialog(QStringLiteral("d-3"), DialogState::Terminated)});
        QCOMPARE(store.dialogs(user, before).size(), expected.size());
        QCOMPARE(store.dialogs(user, store.sequence()).size(), expected.size() - 1);
    }

    void aListenerCanLeave() {
        server::DialogStateStore store;
        int changes = 0;
        const int handle =
            store.addListener([&](const QString&, server::DialogStateStore::Change) { ++changes; });
        store.removeListener(handle);
        store.setDialogs(QStringLiteral("201"), QStringLiteral("call:1"),
                         {dialog(QStringLiteral("a"), DialogState::Early)});
        QCOMPARE(changes, 0);
    }
};

QTEST_GUILESS_MAIN(TstDialogStateStore)
#include "tst_dialog_state_store.moc"
