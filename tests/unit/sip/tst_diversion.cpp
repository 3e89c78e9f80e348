// The Diversion builder (RFC 5806, Kamailio's add_diversion and its documented limits
// fixed): topmost insertion above single and comma-list entries, explicit URI, suffix,
// counter/limit arithmetic, privacy, screen, token validation.

#include <QTest>

#include "sip/diversion.h"
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
        "CSeq: 1 INVITE\n"
        "Max-Forwards: 70\n";
    text += extraHeaders;
    text += "Content-Length: 0\n\n";
    Result<Message> message = Parser::parse(crlf(text));
    if (!message) qFatal("fixture does not parse: %s", qPrintable(message.error().toString()));
    return *message;
}

QByteArrayList diversionFields(const Message& message) {
    QByteArrayList fields;
    for (const HeaderField& field : message.headers()) {
        if (field.id == HeaderId::Diversion) fields.append(field.value.toByteArray());
    }
    return fields;
}

DiversionEntry busyFrom202() {
    DiversionEntry entry;
    entry.uri = "sip:202@switchboard.local";
    entry.reason = "user-busy";
    return entry;
}

}  // namespace

class TestDiversion : public QObject {
    Q_OBJECT

private slots:
    void formatsWhatAddDiversionWrites();
    void everyOptionInOrder();
    void suffixIsAppended();
    void suffixIsChecked_data();
    void suffixIsChecked();
    void reasonMustBeAToken_data();
    void reasonMustBeAToken();
    void registeredReasonsAreTokens();
    void uriMustParse();
    void firstEntryGoesBelowTheOtherHeaders();
    void topmostAboveSingleEntries();
    void topmostAboveACommaList();
    void receivedEntriesAreRead();
    void malformedReceivedEntryIsAnError();
    void counterArithmetic();
    void limitRefusesAForward();
    void limitOfTheNewEntryCounts();
    void privacyTokens();
};

void TestDiversion::formatsWhatAddDiversionWrites() {
    Result<QByteArray> text = formatDiversion(busyFrom202());
    QVERIFY2(text, qPrintable(describe(text)));
    QCOMPARE(*text, QByteArray("<sip:202@switchboard.local>;reason=user-busy"));
}

void TestDiversion::everyOptionInOrder() {
    DiversionEntry entry = busyFrom202();
    entry.counter = 2;
    entry.limit = 5;
    entry.privacy = DiversionPrivacy::Full;
    entry.screen = false;
    entry.suffix = ";x-office=berlin";
    Result<QByteArray> text = formatDiversion(entry);
    QVERIFY2(text, qPrintable(describe(text)));
    QCOMPARE(*text, QByteArray("<sip:202@switchboard.local>;reason=user-busy;counter=2;limit=5;"
                               "privacy=full;screen=no;x-office=berlin"));
}

void TestDiversion::suffixIsAppended() {
    // The seed's own example: modparam("diversion", "suffix", ";privacy=full").
    DiversionEntry entry = busyFrom202();
    entry.suffix = ";privacy=full";
    Message invite = inviteWith({});
    QVERIFY(addDiversion(invite, entry));
    QCOMPARE(diversionFields(invite),
             QByteArrayList{"<sip:202@switchboard.local>;reason=user-busy;privacy=full"});
}

void TestDiversion::suffixIsChecked_data() {
    QTest::addColumn<QByteArray>("suffix");
    QTest::addColumn<int>("privacyOption");  // DiversionPrivacy
    QTest::addColumn<QString>("complaint");
    QTest::newRow("no leading semicolon") << QByteArray("privacy=full") << 0 << "start with ';'";
    QTest::newRow("empty element") << QByteArray(";;a=b") << 0 << "not a list of parameters";
    QTest::newRow("comma splits the entry")
        << QByteArray(";a=b, <sip:x@y>") << 0 << "not a list of parameters";
    QTest::newRow("line break") << QByteArray(";a=b\r\nVia: x") << 0 << "not a list of parameters";
    QTest::newRow("repeats an option")
        << QByteArray(";privacy=full") << int(DiversionPrivacy::Off) << "repeats the privacy";
    QTest::newRow("repeats the reason") << QByteArray(";Reason=x") << 0 << "repeats the reason";
}

void TestDiversion::suffixIsChecked() {
    QFETCH(QByteArray, suffix);
    QFETCH(int, privacyOption);
    QFETCH(QString, complaint);
    DiversionEntry entry = busyFrom202();
    entry.suffix = suffix;
    entry.privacy = DiversionPrivacy(privacyOption);
    Result<QByteArray> text = formatDiversion(entry);
    QVERIFY(!text);
    QVERIFY2(text.error().reason.contains(complaint), qPrintable(text.error().reason));
}

void TestDiversion::reasonMustBeAToken_data() {
    QTest::addColumn<QByteArray>("reason");
    QTest::addColumn<bool>("accepted");
    QTest::newRow("registered") << QByteArray("no-answer") << true;
    QTest::newRow("administrator's own") << QByteArray("x-lunch.break") << true;
    QTest::newRow("empty") << QByteArray() << false;
    QTest::newRow("space") << QByteArray("user busy") << false;
    QTest::newRow("semicolon injects a parameter") << QByteArray("busy;privacy=off") << false;
    QTest::newRow("quote") << QByteArray("\"busy\"") << false;
    QTest::newRow("non-ASCII") << QByteArray("besch\xc3\xa4\x66tigt") << false;
}

void TestDiversion::reasonMustBeAToken() {
    QFETCH(QByteArray, reason);
    QFETCH(bool, accepted);
    DiversionEntry entry = busyFrom202();
    entry.reason = reason;
    Result<QByteArray> text = formatDiversion(entry);
    QCOMPARE(bool(text), accepted);
    if (!accepted)
        QVERIFY2(text.error().reason.contains("not a token"), qPrintable(text.error().reason));
}

void TestDiversion::registeredReasonsAreTokens() {
    QCOMPARE(registeredDiversionReasons().size(), std::size_t(11));
    for (QByteArrayView reason : registeredDiversionReasons())
        QVERIFY(isSipToken(reason));
}

void TestDiversion::uriMustParse() {
    DiversionEntry entry = busyFrom202();
    for (QByteArray bad : {QByteArray(), QByteArray("no scheme"), QByteArray("sip:a@b>;x=<y"),
                           QByteArray("sip:a@b c")}) {
        entry.uri = bad;
        Result<QByteArray> text = formatDiversion(entry);
        QVERIFY2(!text, bad.constData());
        QVERIFY(text.error().reason.contains("not a URI"));
    }
    // The seed's two-argument form: any explicit URI, tel: included.
    entry.uri = "tel:+4930123456";
    QVERIFY(formatDiversion(entry));
}

void TestDiversion::firstEntryGoesBelowTheOtherHeaders() {
    Message invite = inviteWith({});
    QVERIFY(addDiversion(invite, busyFrom202()));
    // Not above the Via: the proxy's own Via goes on top of the message later.
    QCOMPARE(invite.headers().front().id, HeaderId::Via);
    QCOMPARE(invite.values(HeaderId::Diversion).size(), 1);
}

void TestDiversion::topmostAboveSingleEntries() {
    Message invite = inviteWith(
        "Diversion: <sip:301@pbx.example>;reason=no-answer\n"
        "Subject: hello\n"
        "Diversion: <sip:302@pbx.example>;reason=unconditional\n");
    QVERIFY(addDiversion(invite, busyFrom202()));
    QCOMPARE(diversionFields(invite), (QByteArrayList{
                                          "<sip:202@switchboard.local>;reason=user-busy",
                                          "<sip:301@pbx.example>;reason=no-answer",
                                          "<sip:302@pbx.example>;reason=unconditional",
                                      }));
    // Added twice, each new one is the topmost (the seed's anchor trick, per message).
    DiversionEntry second = busyFrom202();
    second.uri = "sip:203@switchboard.local";
    second.reason = "no-answer";
    QVERIFY(addDiversion(invite, second));
    QCOMPARE(diversionFields(invite).front(),
             QByteArray("<sip:203@switchboard.local>;reason=no-answer"));
    QCOMPARE(diversionFields(invite).size(), 4);
    // The wire form keeps them in that order.
    const QByteArray wire = invite.serialize();
    QVERIFY(wire.indexOf("sip:203@") < wire.indexOf("sip:202@switchboard.local>;reason"));
    QVERIFY(wire.indexOf("sip:202@switchboard.local>;reason") < wire.indexOf("sip:301@"));
}

void TestDiversion::topmostAboveACommaList() {
    Message invite = inviteWith(
        "Diversion: <sip:301@pbx.example>;reason=no-answer;counter=1, "
        "\"Front, Desk\" <sip:302@pbx.example>;reason=unconditional\n");
    QVERIFY(addDiversion(invite, busyFrom202()));
    // The list stays one field, untouched, below the new one.
    QCOMPARE(diversionFields(invite),
             (QByteArrayList{"<sip:202@switchboard.local>;reason=user-busy",
                             "<sip:301@pbx.example>;reason=no-answer;counter=1, \"Front, Desk\" "
                             "<sip:302@pbx.example>;reason=unconditional"}));
    Result<std::vector<ReceivedDiversion>> entries = receivedDiversions(invite);
    QVERIFY(entries);
    QCOMPARE(entries->size(), std::size_t(3));
    QCOMPARE((*entries)[0].uri, QByteArray("sip:202@switchboard.local"));
    QCOMPARE((*entries)[2].display, QStringLiteral("Front, Desk"));
}

void TestDiversion::receivedEntriesAreRead() {
    Message invite = inviteWith(
        "Diversion: \"Anna\" <sip:203@x>;reason=\"user-busy\";counter=2;"
        "limit=4;privacy=name\n");
    Result<std::vector<ReceivedDiversion>> entries = receivedDiversions(invite);
    QVERIFY(entries);
    QCOMPARE(entries->size(), std::size_t(1));
    const ReceivedDiversion& entry = entries->front();
    QCOMPARE(entry.display, QStringLiteral("Anna"));
    QCOMPARE(entry.uri, QByteArray("sip:203@x"));
    QCOMPARE(entry.reason, QByteArray("user-busy"));
    QCOMPARE(entry.counter, 2);
    QCOMPARE(entry.limit, std::optional<int>(4));
    QCOMPARE(entry.privacy, QByteArray("name"));
}

void TestDiversion::malformedReceivedEntryIsAnError() {
    for (QByteArray bad : {QByteArray("Diversion: <sip:301@pbx.example;reason=x\n"),
                           QByteArray("Diversion: <sip:301@x>;counter=many\n")}) {
        Message invite = inviteWith(bad);
        QVERIFY(!receivedDiversions(invite));
        // Nothing is added to a request whose entries cannot be counted.
        QVERIFY(!addDiversion(invite, busyFrom202()));
        QCOMPARE(invite.count(HeaderId::Diversion), 1);
    }
}

void TestDiversion::counterArithmetic() {
    Message invite = inviteWith(
        "Diversion: <sip:301@x>;reason=no-answer;counter=2, <sip:302@x>\n"
        "Diversion: <sip:303@x>;reason=user-busy;limit=6\n");
    Result<std::vector<ReceivedDiversion>> entries = receivedDiversions(invite);
    QVERIFY(entries);
    const DiversionCount count = countDiversions(*entries);
    QCOMPARE(count.diversions, 4);  // 2 + 1 (absent means 1) + 1
    QCOMPARE(count.limit, std::optional<int>(6));
}

void TestDiversion::limitRefusesAForward() {
    Message invite = inviteWith("Diversion: <sip:301@x>;reason=no-answer;counter=2;limit=3\n");
    DiversionEntry entry = busyFrom202();
    QVERIFY(addDiversion(invite, entry));  // 3 of 3
    Result<void> refused = addDiversion(invite, entry);
    QVERIFY(!refused);
    QVERIFY2(refused.error().reason.contains("diverted 3 times already and allows at most 3"),
             qPrintable(refused.error().reason));
    QCOMPARE(invite.values(HeaderId::Diversion).size(), 2);  // untouched
}

void TestDiversion::limitOfTheNewEntryCounts() {
    Message invite = inviteWith("Diversion: <sip:301@x>;reason=no-answer;counter=2\n");
    DiversionEntry entry = busyFrom202();
    entry.counter = 1;
    entry.limit = 2;
    QVERIFY(!addDiversion(invite, entry));
    entry.limit = 3;
    QVERIFY(addDiversion(invite, entry));
    QCOMPARE(diversionFields(invite).front(),
             QByteArray("<sip:202@switchboard.local>;reason=user-busy;counter=1;limit=3"));
}

void TestDiversion::privacyTokens() {
    QCOMPARE(parseDiversionPrivacy("FULL"), std::optional(DiversionPrivacy::Full));
    QCOMPARE(parseDiversionPrivacy("uri"), std::optional(DiversionPrivacy::Uri));
    QCOMPARE(parseDiversionPrivacy("name"), std::optional(DiversionPrivacy::Name));
    QCOMPARE(parseDiversionPrivacy("off"), std::optional(DiversionPrivacy::Off));
    QVERIFY(!parseDiversionPrivacy("partial"));
    DiversionEntry entry = busyFrom202();
    entry.privacy = DiversionPrivacy::Uri;
    QCOMPARE(*formatDiversion(entry),
             QByteArray("<sip:202@switchboard.local>;reason=user-busy;privacy=uri"));
}

QTEST_APPLESS_MAIN(TestDiversion)
#include "tst_diversion.moc"
