// History-Info (RFC 7044) entries of a retarget, mapped from a Diversion reason as RFC
// 7544 §5 does: indices, mp=, cause=, privacy, entries received kept as they are.

#include <QTest>

#include "sip/history_info.h"
#include "sip/parser.h"
#include "sip_test_util.h"

using namespace sb;
using namespace sb::sip;
using namespace sb::sip::test;

namespace {

Message inviteWith(QByteArrayView extraHeaders) {
    QByteArray text =
        "INVITE sip:202@switchboard.local SIP/2.0\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5071;branch=z9hG4bK1\n"
        "From: <sip:201@switchboard.local>;tag=a\n"
        "To: <sip:202@switchboard.local>\n"
        "Call-ID: c1\n"
        "CSeq: 1 INVITE\n";
    text += extraHeaders;
    text += "Content-Length: 0\n\n";
    Result<Message> message = Parser::parse(crlf(text));
    if (!message) qFatal("fixture does not parse: %s", qPrintable(message.error().toString()));
    return *message;
}

QByteArrayList historyValues(const Message& message) {
    QByteArrayList values;
    for (QByteArrayView value : message.values(HeaderId::HistoryInfo))
        values.append(value.toByteArray());
    return values;
}

HistoryRetarget busy202To203() {
    HistoryRetarget retarget;
    retarget.from = "sip:202@switchboard.local";
    retarget.to = "sip:203@switchboard.local";
    retarget.cause = historyCauseFor("user-busy");
    return retarget;
}

}  // namespace

class TestHistoryInfo : public QObject {
    Q_OBJECT

private slots:
    void causeMapping_data();
    void causeMapping();
    void reasonOfCause();
    void firstRetargetRecordsBothTargets();
    void privacyOfTheDivertingUser();
    void continuesFromTheLastEntry();
    void siblingGetsTheNextIndex();
    void unrecordedLegBecomesAChild();
    void causeGoesBeforeUriHeaders();
    void receivedEntriesAreRead();
    void malformedEntriesAreRefused_data();
    void malformedEntriesAreRefused();
    void badUrisAreRefused();
};

void TestHistoryInfo::causeMapping_data() {
    QTest::addColumn<QByteArray>("reason");
    QTest::addColumn<int>("cause");
    QTest::newRow("unconditional") << QByteArray("unconditional") << 302;
    QTest::newRow("user-busy") << QByteArray("user-busy") << 486;
    QTest::newRow("no-answer") << QByteArray("no-answer") << 408;
    QTest::newRow("deflection") << QByteArray("deflection") << 480;
    QTest::newRow("unavailable (erratum 3071)") << QByteArray("unavailable") << 503;
    QTest::newRow("unknown") << QByteArray("unknown") << 404;
    QTest::newRow("away") << QByteArray("away") << 404;
    QTest::newRow("administrator's own") << QByteArray("x-lunch") << 404;
}

void TestHistoryInfo::causeMapping() {
    QFETCH(QByteArray, reason);
    QFETCH(int, cause);
    QCOMPARE(historyCauseFor(reason), cause);
}

void TestHistoryInfo::reasonOfCause() {
    // Each mapped reason comes back from its cause (deflection and 480 both ways).
    for (QByteArrayView reason :
         {"unconditional", "user-busy", "no-answer", "deflection", "unavailable", "unknown"})
        QCOMPARE(diversionReasonForCause(historyCauseFor(reason)), reason);
    QCOMPARE(diversionReasonForCause(487), QByteArrayView("deflection"));
    QCOMPARE(diversionReasonForCause(500), QByteArrayView("unknown"));
}

void TestHistoryInfo::firstRetargetRecordsBothTargets() {
    Message invite = inviteWith({});
    Result<void> added = addRetargetHistory(invite, busy202To203());
    QVERIFY2(added, qPrintable(describe(added)));
    QCOMPARE(historyValues(invite), (QByteArrayList{
                                        "<sip:202@switchboard.local>;index=1",
                                        "<sip:203@switchboard.local;cause=486>;index=1.1;mp=1",
                                    }));
}

void TestHistoryInfo::privacyOfTheDivertingUser() {
    Message invite = inviteWith({});
    HistoryRetarget retarget = busy202To203();
    retarget.privateFrom = true;
    QVERIFY(addRetargetHistory(invite, retarget));
    QCOMPARE(historyValues(invite).front(),
             QByteArray("<sip:202@switchboard.local?Privacy=history>;index=1"));
}

void TestHistoryInfo::continuesFromTheLastEntry() {
    Message invite = inviteWith(
        "History-Info: <sip:200@pbx.example>;index=1,"
        " <sip:202@switchboard.local;cause=302>;index=1.1;mp=1\n");
    QVERIFY(addRetargetHistory(invite, busy202To203()));
    QCOMPARE(historyValues(invite), (QByteArrayList{
                                        "<sip:200@pbx.example>;index=1",
                                        "<sip:202@switchboard.local;cause=302>;index=1.1;mp=1",
                                        "<sip:203@switchboard.local;cause=486>;index=1.1.1;mp=1.1",
                                    }));
}

void TestHistoryInfo::siblingGetsTheNextIndex() {
    // 202 was forwarded to 203 once (recalled since), now to 204: a second child of 202.
    Message invite = inviteWith({});
    QVERIFY(addRetargetHistory(invite, busy202To203()));
    HistoryRetarget again;
    again.from = "sip:203@switchboard.local";
    again.to = "sip:204@switchboard.local";
    again.cause = historyCauseFor("no-answer");
    QVERIFY(addRetargetHistory(invite, again));
    HistoryRetarget sibling = busy202To203();
    sibling.from = "sip:204@switchboard.local";
    sibling.to = "sip:205@switchboard.local";
    QVERIFY(addRetargetHistory(invite, sibling));
    QCOMPARE(historyValues(invite),
             (QByteArrayList{
                 "<sip:202@switchboard.local>;index=1",
                 "<sip:203@switchboard.local;cause=486>;index=1.1;mp=1",
                 "<sip:204@switchboard.local;cause=408>;index=1.1.1;mp=1.1",
                 "<sip:205@switchboard.local;cause=486>;index=1.1.1.1;mp=1.1.1",
             }));
    // The child index counts only what lies below the parent: 1.1 is not below 1.2.
    Message fork = inviteWith(
        "History-Info: <sip:202@switchboard.local>;index=1\n"
        "History-Info: <sip:203@switchboard.local;cause=486>;index=1.1;mp=1,"
        " <sip:202@switchboard.local>;index=1.2\n");
    QVERIFY(addRetargetHistory(fork, busy202To203()));
    QCOMPARE(historyValues(fork).back(),
             QByteArray("<sip:203@switchboard.local;cause=486>;index=1.2.1;mp=1.2"));
}

void TestHistoryInfo::unrecordedLegBecomesAChild() {
    // The caller's PBX recorded 200; our routing to 202 came after it.
    Message invite = inviteWith("History-Info: <sip:200@pbx.example>;index=1\n");
    QVERIFY(addRetargetHistory(invite, busy202To203()));
    QCOMPARE(historyValues(invite), (QByteArrayList{
                                        "<sip:200@pbx.example>;index=1",
                                        "<sip:202@switchboard.local>;index=1.1",
                                        "<sip:203@switchboard.local;cause=486>;index=1.1.1;mp=1.1",
                                    }));
}

void TestHistoryInfo::causeGoesBeforeUriHeaders() {
    Message invite = inviteWith({});
    HistoryRetarget retarget = busy202To203();
    retarget.to = "sip:203@switchboard.local;user=phone?Subject=hi";
    QVERIFY(addRetargetHistory(invite, retarget));
    QCOMPARE(
        historyValues(invite).back(),
        QByteArray("<sip:203@switchboard.local;user=phone;cause=486?Subject=hi>;index=1.1;mp=1"));
}

void TestHistoryInfo::receivedEntriesAreRead() {
    Message invite = inviteWith(
        "History-Info: <sip:200@pbx.example?Reason=SIP%3Bcause%3D408>;"
        "index=1, <sip:202@x>;index=1.1;rc=1\n");
    Result<std::vector<HistoryEntry>> entries = receivedHistory(invite);
    QVERIFY(entries);
    QCOMPARE(entries->size(), std::size_t(2));
    QCOMPARE((*entries)[0].uri, QByteArray("sip:200@pbx.example?Reason=SIP%3Bcause%3D408"));
    QCOMPARE((*entries)[1].index, QByteArray("1.1"));
}

void TestHistoryInfo::malformedEntriesAreRefused_data() {
    QTest::addColumn<QByteArray>("header");
    QTest::newRow("no index") << QByteArray("History-Info: <sip:200@x>\n");
    QTest::newRow("empty index") << QByteArray("History-Info: <sip:200@x>;index=\n");
    QTest::newRow("trailing dot") << QByteArray("History-Info: <sip:200@x>;index=1.\n");
    QTest::newRow("letters") << QByteArray("History-Info: <sip:200@x>;index=1.a\n");
    QTest::newRow("double dot") << QByteArray("History-Info: <sip:200@x>;index=1..1\n");
}

void TestHistoryInfo::malformedEntriesAreRefused() {
    QFETCH(QByteArray, header);
    Message invite = inviteWith(header);
    QVERIFY(!receivedHistory(invite));
    QVERIFY(!addRetargetHistory(invite, busy202To203()));
    QCOMPARE(invite.count(HeaderId::HistoryInfo), 1);
}

void TestHistoryInfo::badUrisAreRefused() {
    Message invite = inviteWith({});
    HistoryRetarget retarget = busy202To203();
    retarget.to = "sip:203@x>;index=9";
    QVERIFY(!addRetargetHistory(invite, retarget));
    retarget = busy202To203();
    retarget.cause = 99;
    QVERIFY(!addRetargetHistory(invite, retarget));
    QCOMPARE(invite.count(HeaderId::HistoryInfo), 0);
}

QTEST_APPLESS_MAIN(TestHistoryInfo)
#include "tst_history_info.moc"
