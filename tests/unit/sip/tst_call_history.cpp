// Tests core/sip/call_history.*: the text the queue shows for how a call arrived — from
// its Diversion entries (topmost first, single and comma-list fields), else from its
// History-Info (RFC 7544 mapping), and nothing invented from what does not parse.

#include <QTest>

#include "sip/call_history.h"
#include "sip/parser.h"
#include "sip_test_util.h"

using namespace sb;
using namespace sb::sip;
using namespace sb::sip::test;

namespace {

Message inviteWith(QByteArrayView extraHeaders) {
    QByteArray text =
        "INVITE sip:200@switchboard.local SIP/2.0\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5071;branch=z9hG4bK1\n"
        "From: <sip:201@switchboard.local>;tag=a\n"
        "To: <sip:200@switchboard.local>\n"
        "Call-ID: c1\n"
        "CSeq: 1 INVITE\n"
        "Max-Forwards: 70\n";
    text += extraHeaders;
    text += "Content-Length: 0\n\n";
    Result<Message> message = Parser::parse(crlf(text));
    if (!message) qFatal("fixture does not parse: %s", qPrintable(message.error().toString()));
    return *message;
}

// Extensions of switchboard.local by number, the rest as written.
QString localUser(QByteArrayView uri) {
    Result<Uri> parsed = Uri::parse(uri);
    if (parsed && parsed->host == QByteArrayView("switchboard.local") && !parsed->user.isEmpty())
        return QString::fromUtf8(parsed->user);
    return QString::fromUtf8(uri);
}

}  // namespace

class TestCallHistory : public QObject {
    Q_OBJECT

private slots:
    void noHistoryGivesNothing() { QVERIFY(arrivalHistory(inviteWith("")).isEmpty()); }

    void diversionEntriesTopmostFirst() {
        const Message invite = inviteWith(
            "Diversion: <sip:203@switchboard.local>;reason=user-busy\n"
            "Diversion: <sip:204@switchboard.local>;reason=no-answer, "
            "<sip:+4930123@carrier.example>;reason=unconditional;counter=2\n");
        QCOMPARE(arrivalHistory(invite, localUser),
                 QStringList({"from 203, user-busy", "from 204, no-answer",
                              "from sip:+4930123@carrier.example, unconditional"}));
    }

    void withoutDisplayTheUriIsShown() {
        const Message invite = inviteWith("Diversion: <sip:203@switchboard.local>;reason=away\n");
        QCOMPARE(arrivalHistory(invite), QStringList({"from sip:203@switchboard.local, away"}));
    }

    void diversionWithoutReasonNamesOnlyTheUri() {
        const Message invite = inviteWith("Diversion: <sip:203@switchboard.local>\n");
        QCOMPARE(arrivalHistory(invite, localUser), QStringList({"from 203"}));
    }

    void historyInfoWhenNoDiversion() {
        // 201 called 202 (1), 202 was busy and the call went to 203 (1.1, cause 486), 203
        // did not answer and it came to reception (1.1.1, cause 408).
        const Message invite = inviteWith(
            "History-Info: <sip:202@switchboard.local>;index=1\n"
            "History-Info: <sip:203@switchboard.local;cause=486>;index=1.1;mp=1, "
            "<sip:200@switchboard.local;cause=408>;index=1.1.1;mp=1.1\n");
        QCOMPARE(arrivalHistory(invite, localUser),
                 QStringList({"from 203, no-answer", "from 202, user-busy"}));
    }

    void historyInfoEntryWithoutParentIsLeftOut() {
        const Message invite = inviteWith(
            "History-Info: <sip:202@switchboard.local>;index=1\n"
            "History-Info: <sip:200@switchboard.local;cause=302>;index=1.5.1;mp=1.5\n");
        QVERIFY(arrivalHistory(invite, localUser).isEmpty());
    }

    void diversionWinsOverHistoryInfo() {
        const Message invite = inviteWith(
            "Diversion: <sip:203@switchboard.local>;reason=deflection\n"
            "History-Info: <sip:202@switchboard.local>;index=1\n"
            "History-Info: <sip:200@switchboard.local;cause=486>;index=1.1;mp=1\n");
        QCOMPARE(arrivalHistory(invite, localUser), QStringList({"from 203, deflection"}));
    }

    void malformedDiversionFallsBackToHistoryInfo() {
        const Message invite = inviteWith(
            "Diversion: <sip:203@switchboard.local;reason=user-busy\n"
            "History-Info: <sip:202@switchboard.local>;index=1\n"
            "History-Info: <sip:200@switchboard.local;cause=480>;index=1.1;mp=1\n");
        QCOMPARE(arrivalHistory(invite, localUser), QStringList({"from 202, deflection"}));
    }

    void malformedHistoryInfoGivesNothing() {
        const Message invite = inviteWith("History-Info: <sip:202@switchboard.local>;index=x.y\n");
        QVERIFY(arrivalHistory(invite, localUser).isEmpty());
    }
};

QTEST_APPLESS_MAIN(TestCallHistory)
#include "tst_call_history.moc"
