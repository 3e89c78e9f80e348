// RFC 4235 §4.1 version rules in DialogStateMerge (core/dialoginfo/dialog_state_merge.*):
// full replaces, partial merges by id, stale ignored, a gap or a partial without a full
// document first asks for full state, terminated dialogs leave after being applied.

#include <QTest>

#include "dialoginfo/dialog_state_merge.h"
#include "dialoginfo_test_util.h"

using namespace sb;
using namespace sb::dialoginfo;
using namespace sb::dialoginfo::test;

using Outcome = DialogStateMerge::Outcome;
Q_DECLARE_METATYPE(sb::dialoginfo::DialogStateMerge::Outcome)

namespace {

DialogInfo dialog(const QString& id, DialogState state,
                  Direction direction = Direction::Recipient) {
    DialogInfo d;
    d.id = id;
    d.state = state;
    d.direction = direction;
    return d;
}

Document document(std::optional<quint64> version, DocumentState state,
                  std::vector<DialogInfo> dialogs = {}) {
    Document doc;
    doc.version = version;
    doc.state = state;
    doc.entity = QStringLiteral("sip:202@example.com");
    doc.dialogs = std::move(dialogs);
    return doc;
}

Document full(std::optional<quint64> version, std::vector<DialogInfo> dialogs = {}) {
    return document(version, DocumentState::Full, std::move(dialogs));
}

Document partial(std::optional<quint64> version, std::vector<DialogInfo> dialogs = {}) {
    return document(version, DocumentState::Partial, std::move(dialogs));
}

QStringList ids(const std::vector<DialogInfo>& dialogs) {
    QStringList out;
    for (const auto& d : dialogs)
        out << d.id;
    return out;
}

}  // namespace

class TestDialogStateMerge : public QObject {
    Q_OBJECT

private slots:
    void startsEmpty();
    void fullReplacesEverything();
    void fullMayStartAtZero();
    void fullDropsTerminated();
    void staleFullIgnored_data();
    void staleFullIgnored();
    void fullAfterGapIsFine();
    void partialBeforeFullNeedsFullState();
    void partialMergesById();
    void partialGapNeedsFullState();
    void partialStaleIgnored();
    void afterGapPartialsWaitForFull();
    void missingVersionApplied();
    void resetStartsAgain();
    void identifiersSurviveConfirmation();
    void kamailioSequence();
    void asteriskSequence();
    void freeswitchSequence();
};

void TestDialogStateMerge::startsEmpty() {
    DialogStateMerge merge;
    QVERIFY(merge.dialogs().empty());
    QVERIFY(!merge.lastVersion());
    QVERIFY(!merge.hasFullState());
}

void TestDialogStateMerge::fullReplacesEverything() {
    DialogStateMerge merge;
    QCOMPARE(merge.apply(
                 full(1, {dialog("a", DialogState::Early), dialog("b", DialogState::Confirmed)})),
             Outcome::Applied);
    QCOMPARE(ids(merge.dialogs()), QStringList({"a", "b"}));
    QVERIFY(merge.hasFullState());
    QCOMPARE(merge.lastVersion(), std::optional<quint64>(1));

    // A dialog missing from a full document is gone (RFC 4235 §4.1).
    QCOMPARE(merge.apply(full(2, {dialog("c", DialogState::Trying)})), Outcome::Applied);
    QCOMPARE(ids(merge.dialogs()), QStringList({"c"}));
    QCOMPARE(merge.apply(full(3)), Outcome::Applied);
    QVERIFY(merge.dialogs().empty());
}

void TestDialogStateMerge::fullMayStartAtZero() {
    // Kamailio numbers each watcher's NOTIFYs from 0.
    DialogStateMerge merge;
    QCOMPARE(merge.apply(full(0, {dialog("a", DialogState::Trying)})), Outcome::Applied);
    QCOMPARE(merge.lastVersion(), std::optional<quint64>(0));
    QCOMPARE(merge.apply(full(0)), Outcome::Stale);
    QCOMPARE(merge.apply(full(1)), Outcome::Applied);
}

void TestDialogStateMerge::fullDropsTerminated() {
    DialogStateMerge merge;
    QCOMPARE(merge.apply(full(1, {dialog("a", DialogState::Confirmed)})), Outcome::Applied);
    DialogInfo ended = dialog("a", DialogState::Terminated);
    ended.stateEvent = QStringLiteral("rejected");
    QCOMPARE(merge.apply(full(2, {ended, dialog("b", DialogState::Early)})), Outcome::Applied);
    QCOMPARE(ids(merge.dialogs()), QStringList({"b"}));
    QCOMPARE(ids(merge.terminatedByLastApply()), QStringList({"a"}));
    QCOMPARE(merge.terminatedByLastApply().front().stateEvent, QStringLiteral("rejected"));
    QCOMPARE(merge.apply(full(3, {dialog("b", DialogState::Early)})), Outcome::Applied);
    QVERIFY(merge.terminatedByLastApply().empty());
}

void TestDialogStateMerge::staleFullIgnored_data() {
    QTest::addColumn<quint64>("version");
    QTest::newRow("same") << quint64(5);
    QTest::newRow("older") << quint64(4);
    QTest::newRow("much older") << quint64(0);
}

void TestDialogStateMerge::staleFullIgnored() {
    QFETCH(quint64, version);
    DialogStateMerge merge;
    QCOMPARE(merge.apply(full(5, {dialog("a", DialogState::Confirmed)})), Outcome::Applied);
    QCOMPARE(merge.apply(full(version)), Outcome::Stale);
    QCOMPARE(ids(merge.dialogs()), QStringList({"a"}));  // untouched
    QCOMPARE(merge.lastVersion(), std::optional<quint64>(5));
}

void TestDialogStateMerge::fullAfterGapIsFine() {
    // A full document carries everything: a jump in version loses nothing.
    DialogStateMerge merge;
    QCOMPARE(merge.apply(full(1)), Outcome::Applied);
    QCOMPARE(merge.apply(full(9, {dialog("a", DialogState::Early)})), Outcome::Applied);
    QCOMPARE(merge.lastVersion(), std::optional<quint64>(9));
}

void TestDialogStateMerge::partialBeforeFullNeedsFullState() {
    DialogStateMerge merge;
    QCOMPARE(merge.apply(partial(1, {dialog("a", DialogState::Early)})), Outcome::NeedFullState);
    QVERIFY(merge.dialogs().empty());
    QVERIFY(!merge.lastVersion());
    QCOMPARE(merge.apply(partial(std::nullopt, {dialog("a", DialogState::Early)})),
             Outcome::NeedFullState);
}

void TestDialogStateMerge::partialMergesById() {
    DialogStateMerge merge;
    QCOMPARE(merge.apply(
                 full(1, {dialog("a", DialogState::Confirmed), dialog("b", DialogState::Early)})),
             Outcome::Applied);
    // b is updated in place, c is new, a stays as it was.
    DialogInfo b = dialog("b", DialogState::Confirmed);
    b.remote.identity = QStringLiteral("sip:203@example.com");
    QCOMPARE(merge.apply(partial(2, {b, dialog("c", DialogState::Trying, Direction::Initiator)})),
             Outcome::Applied);
    QCOMPARE(ids(merge.dialogs()), QStringList({"a", "b", "c"}));
    QCOMPARE(merge.dialogs().at(1).state, DialogState::Confirmed);
    QCOMPARE(merge.dialogs().at(1).remote.identity, QStringLiteral("sip:203@example.com"));
    QCOMPARE(merge.dialogs().at(0).state, DialogState::Confirmed);

    // A terminated dialog is applied, then dropped; an unknown terminated one is harmless.
    QCOMPARE(merge.apply(partial(
                 3, {dialog("a", DialogState::Terminated), dialog("zz", DialogState::Terminated)})),
             Outcome::Applied);
    QCOMPARE(ids(merge.dialogs()), QStringList({"b", "c"}));
    QCOMPARE(ids(merge.terminatedByLastApply()), QStringList({"a", "zz"}));
    QCOMPARE(merge.lastVersion(), std::optional<quint64>(3));
}

void TestDialogStateMerge::partialGapNeedsFullState() {
    DialogStateMerge merge;
    QCOMPARE(merge.apply(full(1, {dialog("a", DialogState::Early)})), Outcome::Applied);
    // Version 2 was lost.
    QCOMPARE(merge.apply(partial(3, {dialog("a", DialogState::Confirmed)})),
             Outcome::NeedFullState);
    QCOMPARE(merge.dialogs().at(0).state, DialogState::Early);  // nothing applied
    QCOMPARE(merge.lastVersion(), std::optional<quint64>(1));
    QVERIFY(!merge.hasFullState());
    // The refresh brings full state; versions carry on within the subscription.
    QCOMPARE(merge.apply(full(4, {dialog("a", DialogState::Confirmed)})), Outcome::Applied);
    QVERIFY(merge.hasFullState());
    QCOMPARE(merge.apply(partial(5, {dialog("a", DialogState::Terminated)})), Outcome::Applied);
    QVERIFY(merge.dialogs().empty());
}

void TestDialogStateMerge::partialStaleIgnored() {
    DialogStateMerge merge;
    QCOMPARE(merge.apply(full(4, {dialog("a", DialogState::Early)})), Outcome::Applied);
    QCOMPARE(merge.apply(partial(4, {dialog("a", DialogState::Terminated)})), Outcome::Stale);
    QCOMPARE(merge.apply(partial(2, {dialog("a", DialogState::Terminated)})), Outcome::Stale);
    QCOMPARE(ids(merge.dialogs()), QStringList({"a"}));
    QVERIFY(merge.hasFullState());
}

void TestDialogStateMerge::afterGapPartialsWaitForFull() {
    DialogStateMerge merge;
    QCOMPARE(merge.apply(full(1)), Outcome::Applied);
    QCOMPARE(merge.apply(partial(3)), Outcome::NeedFullState);
    // Even the "next" version after the gap cannot be trusted until full state comes.
    QCOMPARE(merge.apply(partial(2)), Outcome::NeedFullState);
    QCOMPARE(merge.apply(full(4)), Outcome::Applied);
    QCOMPARE(merge.apply(partial(5)), Outcome::Applied);
}

void TestDialogStateMerge::missingVersionApplied() {
    DialogStateMerge merge;
    QCOMPARE(merge.apply(full(std::nullopt, {dialog("a", DialogState::Early)})), Outcome::Applied);
    QVERIFY(!merge.lastVersion());
    QCOMPARE(merge.apply(full(std::nullopt, {dialog("a", DialogState::Confirmed)})),
             Outcome::Applied);
    QCOMPARE(merge.dialogs().at(0).state, DialogState::Confirmed);
    QCOMPARE(merge.apply(partial(std::nullopt, {dialog("b", DialogState::Early)})),
             Outcome::Applied);
    QCOMPARE(ids(merge.dialogs()), QStringList({"a", "b"}));
    // A versioned document then sets the baseline; a later unversioned one still applies.
    QCOMPARE(merge.apply(full(7)), Outcome::Applied);
    QCOMPARE(merge.apply(full(std::nullopt, {dialog("c", DialogState::Early)})), Outcome::Applied);
    QCOMPARE(merge.lastVersion(), std::optional<quint64>(7));
    QCOMPARE(merge.apply(partial(8, {dialog("d", DialogState::Early)})), Outcome::Applied);
    QCOMPARE(ids(merge.dialogs()), QStringList({"c", "d"}));
}

void TestDialogStateMerge::resetStartsAgain() {
    DialogStateMerge merge;
    QCOMPARE(merge.apply(full(40, {dialog("a", DialogState::Confirmed)})), Outcome::Applied);
    merge.reset();
    QVERIFY(!merge.hasFullState());
    QVERIFY(!merge.lastVersion());
    QVERIFY(merge.dialogs().empty());
    // A new subscription numbers from the start again: version 0 is not stale now.
    QCOMPARE(merge.apply(partial(41)), Outcome::NeedFullState);
    QCOMPARE(merge.apply(full(0, {dialog("b", DialogState::Early)})), Outcome::Applied);
    QCOMPARE(ids(merge.dialogs()), QStringList({"b"}));
}

void TestDialogStateMerge::identifiersSurviveConfirmation() {
    // Kamailio sends call-id and tags only while early; pickup and transfer need them
    // later, so the merge keeps what it learned unless the server sends new ones.
    DialogStateMerge merge;
    DialogInfo early = dialog(QStringLiteral("d1"), DialogState::Early);
    early.callId = QStringLiteral("c1");
    early.localTag = QStringLiteral("l1");
    early.remoteTag = QStringLiteral("r1");
    QCOMPARE(merge.apply(full(1, {early})), Outcome::Applied);
    QCOMPARE(merge.apply(full(2, {dialog(QStringLiteral("d1"), DialogState::Confirmed)})),
             Outcome::Applied);
    QCOMPARE(merge.dialogs().at(0).state, DialogState::Confirmed);
    QCOMPARE(merge.dialogs().at(0).callId, QStringLiteral("c1"));
    QCOMPARE(merge.dialogs().at(0).localTag, QStringLiteral("l1"));
    QCOMPARE(merge.dialogs().at(0).remoteTag, QStringLiteral("r1"));
    DialogInfo retagged = dialog(QStringLiteral("d1"), DialogState::Confirmed);
    retagged.remoteTag = QStringLiteral("r2");
    QCOMPARE(merge.apply(partial(3, {retagged})), Outcome::Applied);
    QCOMPARE(merge.dialogs().at(0).remoteTag, QStringLiteral("r2"));
    QCOMPARE(merge.dialogs().at(0).callId, QStringLiteral("c1"));
    // Another dialog never inherits them.
    QCOMPARE(merge.apply(full(4, {dialog(QStringLiteral("d2"), DialogState::Early)})),
             Outcome::Applied);
    QVERIFY(merge.dialogs().at(0).callId.isEmpty());
}

void TestDialogStateMerge::kamailioSequence() {
    // 202 is called by 201, answers, then hangs up; Kamailio sends full documents with a
    // version that rises on every NOTIFY, even a repeated one without change.
    DialogStateMerge merge;
    for (const char* file : {"kamailio-early.xml", "kamailio-confirmed.xml"}) {
        const auto doc = parseDocument(fixture(QString::fromLatin1(file)));
        QVERIFY2(doc, qPrintable(describe(doc)));
        QCOMPARE(merge.apply(*doc), Outcome::Applied);
        QCOMPARE(merge.dialogs().size(), std::size_t(1));
    }
    QCOMPARE(merge.dialogs().at(0).state, DialogState::Confirmed);
    // A reordered early NOTIFY arriving late is stale.
    const auto early = parseDocument(fixture(QStringLiteral("kamailio-early.xml")));
    QCOMPARE(merge.apply(*early), Outcome::Stale);
    // Call waiting: a second dialog rings while the first is confirmed.
    const auto aggregated = parseDocument(fixture(QStringLiteral("kamailio-aggregated.xml")));
    QCOMPARE(merge.apply(*aggregated), Outcome::Applied);
    QCOMPARE(merge.dialogs().size(), std::size_t(2));
    // Version 10 is a partial that cancels the waiting call.
    const auto cancelled = parseDocument(fixture(QStringLiteral("kamailio-partial.xml")));
    QCOMPARE(merge.apply(*cancelled), Outcome::Applied);
    QCOMPARE(ids(merge.dialogs()), QStringList({"a9b8c7d6e5f4"}));
    QCOMPARE(merge.terminatedByLastApply().at(0).stateEvent, QStringLiteral("cancelled"));
}

void TestDialogStateMerge::asteriskSequence() {
    // Asterisk: always full, one dialog keyed by the extension, idle as terminated.
    DialogStateMerge merge;
    const auto idle = parseDocument(fixture(QStringLiteral("asterisk-idle.xml")));
    QCOMPARE(merge.apply(*idle), Outcome::Applied);
    QVERIFY(merge.dialogs().empty());
    for (const char* file : {"asterisk-ringing.xml", "asterisk-busy.xml", "asterisk-hold.xml"}) {
        const auto doc = parseDocument(fixture(QString::fromLatin1(file)));
        QVERIFY2(doc, qPrintable(describe(doc)));
        QCOMPARE(merge.apply(*doc), Outcome::Applied);
        QCOMPARE(ids(merge.dialogs()), QStringList({"201"}));
    }
}

void TestDialogStateMerge::freeswitchSequence() {
    DialogStateMerge merge;
    for (const char* file :
         {"freeswitch-idle.xml", "freeswitch-early.xml", "freeswitch-confirmed.xml"}) {
        const auto doc = parseDocument(fixture(QString::fromLatin1(file)));
        QVERIFY2(doc, qPrintable(describe(doc)));
        QCOMPARE(merge.apply(*doc), Outcome::Applied);
    }
    QCOMPARE(merge.dialogs().size(), std::size_t(1));
    QCOMPARE(merge.dialogs().at(0).state, DialogState::Confirmed);
}

QTEST_GUILESS_MAIN(TestDialogStateMerge)
#include "tst_dialog_state_merge.moc"
