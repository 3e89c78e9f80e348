// Parser::parse (RFC 3261 §7, §18.3): start lines, header fields, compact names,
// folding, comma lists, Content-Length and bodies, limits, line endings, zero copy.

#include <QDir>
#include <QTest>

#include "base/random.h"
#include "sip/message.h"
#include "sip/parser.h"
#include "sip_test_util.h"

using namespace sb;
using namespace sb::sip;
using namespace sb::sip::test;

Q_DECLARE_METATYPE(sb::sip::HeaderId)

namespace {

const char kHead[] =
    "OPTIONS sip:desk@example.com SIP/2.0\n"
    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds\n"
    "Max-Forwards: 70\n"
    "To: <sip:desk@example.com>\n"
    "From: \"Operator\" <sip:operator@example.com>;tag=1928301774\n"
    "Call-ID: a84b4c76e66710@pc33.example.com\n"
    "CSeq: 63104 OPTIONS\n";

// A valid OPTIONS with `extra` header lines (LF-separated), a Content-Length matching
// `body` unless `length` is given ("" leaves it out), then the body.
QByteArray options(QByteArrayView extra = {}, QByteArrayView body = {},
                   std::optional<QByteArray> length = std::nullopt) {
    QByteArray text = kHead;
    text += extra.toByteArray();
    if (!text.endsWith('\n')) text += '\n';
    const QByteArray cl = length.value_or(QByteArray::number(body.size()));
    if (!cl.isEmpty()) text += "Content-Length: " + cl + "\n";
    text += "\n";
    return crlf(text) + body.toByteArray();
}

// Every fixture under messages/, byte-exact.
QList<QByteArray> allFixtures() {
    QList<QByteArray> out;
    const QDir dir(QFINDTESTDATA("messages"));
    for (const QString& name : dir.entryList({QStringLiteral("*.sip")}, QDir::Files)) {
        out << fixture(name);
    }
    return out;
}

// Calls every accessor of a parsed message; none may crash or read outside the buffer
// (the asan preset runs this), whatever the input was.
void exerciseAccessors(const Message& msg) {
    (void)msg.validate();
    (void)msg.topVia();
    (void)msg.vias();
    (void)msg.from();
    (void)msg.to();
    (void)msg.cseq();
    (void)msg.contacts();
    (void)msg.nameAddrs(HeaderId::Route);
    (void)msg.nameAddrs(HeaderId::RecordRoute);
    (void)msg.maxForwards();
    (void)msg.expires();
    (void)msg.minExpires();
    (void)msg.event();
    (void)msg.subscriptionState();
    (void)msg.replaces();
    for (const HeaderField& f : msg.headers())
        (void)splitCommaList(f.value);
    (void)Uri::parse(msg.requestUri());
    const QByteArray out = msg.serialize();
    Result<Message> again = Parser::parse(out);
    QVERIFY2(again, qPrintable(describe(again)));
    QCOMPARE(bytes(again->body()), bytes(msg.body()));
    (void)makeResponse(msg, 400, "Bad Request", "t").serialize();
}

bool pointsInto(QByteArrayView view, const QByteArray& buffer) {
    return view.data() >= buffer.constData() &&
           view.data() + view.size() <= buffer.constData() + buffer.size();
}

}  // namespace

class TestParser : public QObject {
    Q_OBJECT

private slots:
    void requestLine();
    void statusLine_data();
    void statusLine();
    void badStatusLine_data();
    void badStatusLine();
    void versionCaseInsensitive();
    void badRequestLine_data();
    void badRequestLine();
    void methodsAreCaseSensitive();
    void leadingCrlfIgnored();
    void incompleteInput_data();
    void incompleteInput();
    void headerNamesAnyCase();
    void whitespaceAroundColon();
    void emptyValue();
    void folding();
    void continuationAfterStartLine();
    void malformedHeaderLine_data();
    void malformedHeaderLine();
    void compactFormsInMessages_data();
    void compactFormsInMessages();
    void lookupByName();
    void unknownHeadersKeptInOrder();
    void commaListsAcrossFields();
    void commaListsRespectQuotesAndAngles();
    void nonListsNotSplit();
    void contentLengthExact();
    void contentLengthShorterThanDatagram();
    void contentLengthLongerThanDatagram();
    void contentLengthMissingOverUdp();
    void contentLengthMalformed_data();
    void contentLengthMalformed();
    void contentLengthWithLws();
    void compactContentLength();
    void duplicateContentLength();
    void binaryBody();
    void bodyContainingBlankLines();
    void messageSizeLimit();
    void messageSizeLimitCustom();
    void headerCountLimit();
    void lineLengthLimit();
    void startLineLengthLimit();
    void manyTinyHeadersRefused();
    void bareLfConsistent();
    void mixedLineEndings();
    void zeroCopyViews();
    void callerBufferChangesDoNotLeak();
    void copiesOutliveTheOriginal();
    void everyTruncationOfEveryFixture();
    void mutationsOfEveryFixture();
};

void TestParser::requestLine() {
    Result<Message> msg = Parser::parse(options());
    QVERIFY2(msg, qPrintable(describe(msg)));
    QVERIFY(msg->isRequest());
    QVERIFY(!msg->isResponse());
    QCOMPARE(msg->method(), Method::Options);
    QCOMPARE(bytes(msg->methodName()), QByteArray("OPTIONS"));
    QCOMPARE(bytes(msg->requestUri()), QByteArray("sip:desk@example.com"));
    QCOMPARE(bytes(msg->sipVersion()), QByteArray("SIP/2.0"));
    QCOMPARE(msg->statusCode(), 0);
    QVERIFY2(msg->validate(), qPrintable(describe(msg->validate())));
}

void TestParser::statusLine_data() {
    QTest::addColumn<QByteArray>("line");
    QTest::addColumn<int>("code");
    QTest::addColumn<QByteArray>("reason");
    QTest::newRow("100") << QByteArray("SIP/2.0 100 Trying") << 100 << QByteArray("Trying");
    QTest::newRow("180") << QByteArray("SIP/2.0 180 Ringing") << 180 << QByteArray("Ringing");
    QTest::newRow("200") << QByteArray("SIP/2.0 200 OK") << 200 << QByteArray("OK");
    QTest::newRow("486 spaces") << QByteArray("SIP/2.0 486 Busy Here") << 486
                                << QByteArray("Busy Here");
    QTest::newRow("699") << QByteArray("SIP/2.0 699 Whatever it is") << 699
                         << QByteArray("Whatever it is");
    QTest::newRow("reason with digits")
        << QByteArray("SIP/2.0 503 Retry in 30 s") << 503 << QByteArray("Retry in 30 s");
    QTest::newRow("empty reason") << QByteArray("SIP/2.0 183 ") << 183 << QByteArray();
}

void TestParser::statusLine() {
    QFETCH(QByteArray, line);
    QFETCH(int, code);
    QFETCH(QByteArray, reason);
    const QByteArray wire = crlf(line +
                                 "\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\n"
                                 "To: <sip:a@example.com>;tag=x\nFrom: <sip:b@example.com>;tag=y\n"
                                 "Call-ID: c1\nCSeq: 1 INVITE\nContent-Length: 0\n\n");
    Result<Message> msg = Parser::parse(wire);
    QVERIFY2(msg, qPrintable(describe(msg)));
    QVERIFY(msg->isResponse());
    QCOMPARE(msg->statusCode(), code);
    QCOMPARE(bytes(msg->reasonPhrase()), reason);
    QCOMPARE(msg->method(), Method::Unknown);
    QVERIFY(msg->requestUri().isEmpty());
    QVERIFY2(msg->validate(), qPrintable(describe(msg->validate())));
}

void TestParser::badStatusLine_data() {
    QTest::addColumn<QByteArray>("line");
    QTest::newRow("two digits") << QByteArray("SIP/2.0 20 OK");
    QTest::newRow("four digits") << QByteArray("SIP/2.0 2000 OK");
    QTest::newRow("099") << QByteArray("SIP/2.0 099 Low");
    QTest::newRow("700") << QByteArray("SIP/2.0 700 High");
    QTest::newRow("letters") << QByteArray("SIP/2.0 2x0 OK");
    QTest::newRow("negative") << QByteArray("SIP/2.0 -20 OK");
    QTest::newRow("huge") << QByteArray("SIP/2.0 4294967496 OK");
    QTest::newRow("no code") << QByteArray("SIP/2.0");
    QTest::newRow("version 3") << QByteArray("SIP/3.0 200 OK");
    QTest::newRow("version 2.00") << QByteArray("SIP/2.00 200 OK");
}

// Responses that cannot be read are dropped (RFC 3261 §18.1.2); the error still says why.
void TestParser::badStatusLine() {
    QFETCH(QByteArray, line);
    const QByteArray wire = crlf(line +
                                 "\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\n"
                                 "Call-ID: c1\nCSeq: 1 INVITE\nContent-Length: 0\n\n");
    Result<Message> msg = Parser::parse(wire);
    QVERIFY2(!msg, "accepted");
    QVERIFY(!msg.error().reason.isEmpty());
    QVERIFY2(msg.error().offset >= 0 && msg.error().offset <= line.size(),
             qPrintable(describe(msg)));
}

// RFC 3261 §7.1: "The SIP-Version string is case-insensitive, but implementations MUST
// send upper-case."
void TestParser::versionCaseInsensitive() {
    QByteArray request = options();
    request.replace("SIP/2.0\r\n", "sip/2.0\r\n");
    Result<Message> req = Parser::parse(request);
    QVERIFY2(req, qPrintable(describe(req)));
    QCOMPARE(req->method(), Method::Options);

    const QByteArray response = crlf(
        "sip/2.0 200 OK\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\n"
        "To: <sip:a@example.com>;tag=x\nFrom: <sip:b@example.com>;tag=y\n"
        "Call-ID: c1\nCSeq: 1 OPTIONS\nContent-Length: 0\n\n");
    Result<Message> resp = Parser::parse(response);
    QVERIFY2(resp, qPrintable(describe(resp)));
    QVERIFY(resp->isResponse());
    QCOMPARE(resp->statusCode(), 200);
}

void TestParser::badRequestLine_data() {
    QTest::addColumn<QByteArray>("line");
    QTest::addColumn<int>("status");
    QTest::newRow("no version") << QByteArray("OPTIONS sip:desk@example.com") << 400;
    QTest::newRow("no uri") << QByteArray("OPTIONS SIP/2.0") << 400;
    QTest::newRow("method only") << QByteArray("OPTIONS") << 400;
    QTest::newRow("HTTP") << QByteArray("GET / HTTP/1.1") << 400;
    QTest::newRow("SIP/1.0") << QByteArray("OPTIONS sip:desk@example.com SIP/1.0") << 505;
    QTest::newRow("SIP/2.1") << QByteArray("OPTIONS sip:desk@example.com SIP/2.1") << 505;
    QTest::newRow("method with slash")
        << QByteArray("OPT/IONS sip:desk@example.com SIP/2.0") << 400;
    QTest::newRow("method with colon")
        << QByteArray("OPT:IONS sip:desk@example.com SIP/2.0") << 400;
    QTest::newRow("tab separators") << QByteArray("OPTIONS\tsip:desk@example.com\tSIP/2.0") << 400;
}

void TestParser::badRequestLine() {
    QFETCH(QByteArray, line);
    QFETCH(int, status);
    QByteArray wire = options();
    wire.replace(0, wire.indexOf("\r\n"), line);
    const std::optional<Rejection> rej = rejectionOf(wire);
    QVERIFY2(rej.has_value(), "accepted");
    QCOMPARE(rej->error.sipStatus, status);
    QVERIFY(!rej->error.reason.isEmpty());
    QVERIFY2(rej->error.offset >= 0 && rej->error.offset <= line.size(),
             qPrintable(QString::number(rej->error.offset)));
}

// RFC 3261 §7.1: method names are case-sensitive; "options" is an extension method.
void TestParser::methodsAreCaseSensitive() {
    QByteArray wire = options();
    wire.replace("OPTIONS sip:", "options sip:");
    Result<Message> msg = Parser::parse(wire);
    QVERIFY2(msg, qPrintable(describe(msg)));
    QCOMPARE(msg->method(), Method::Unknown);
    QCOMPARE(bytes(msg->methodName()), QByteArray("options"));
    // Its CSeq says OPTIONS, which is not the same method.
    QVERIFY(!msg->validate());
}

// RFC 3261 §7.5: CRLFs before the start line are ignored.
void TestParser::leadingCrlfIgnored() {
    Result<Message> msg = Parser::parse("\r\n\r\n" + options());
    QVERIFY2(msg, qPrintable(describe(msg)));
    QCOMPARE(msg->method(), Method::Options);
    QCOMPARE(bytes(msg->callId()), QByteArray("a84b4c76e66710@pc33.example.com"));
}

void TestParser::incompleteInput_data() {
    QTest::addColumn<QByteArray>("wire");
    QTest::newRow("empty") << QByteArray();
    QTest::newRow("only CRLF") << QByteArray("\r\n\r\n");
    QTest::newRow("start line without CRLF") << QByteArray("OPTIONS sip:a@b SIP/2.0");
    QTest::newRow("headers without blank line")
        << crlf("OPTIONS sip:a@b SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nCall-ID: x\n");
    QTest::newRow("last header unterminated")
        << QByteArray("OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x");
    QTest::newRow("text") << QByteArray("hello world");
    QTest::newRow("binary") << QByteArray("\x00\x01\x02\xff\xfe\r\n\r\n", 9);
}

void TestParser::incompleteInput() {
    QFETCH(QByteArray, wire);
    Result<Message> msg = Parser::parse(wire);
    QVERIFY2(!msg, "accepted");
    QVERIFY(!msg.error().reason.isEmpty());
    QVERIFY(msg.error().offset >= 0 && msg.error().offset <= wire.size());
}

void TestParser::headerNamesAnyCase() {
    Result<Message> msg = Parser::parse(options("cOnTaCt: <sip:op@192.0.2.9>\nUSER-AGENT: x/1"));
    QVERIFY2(msg, qPrintable(describe(msg)));
    QVERIFY(msg->has(HeaderId::Contact));
    QCOMPARE(bytes(msg->header(HeaderId::Contact)), QByteArray("<sip:op@192.0.2.9>"));
    QCOMPARE(bytes(msg->header(HeaderId::UserAgent)), QByteArray("x/1"));
    // The name is kept as written.
    bool seen = false;
    for (const HeaderField& f : msg->headers()) {
        if (f.id == HeaderId::Contact) {
            QCOMPARE(bytes(f.name), QByteArray("cOnTaCt"));
            seen = true;
        }
    }
    QVERIFY(seen);
}

void TestParser::whitespaceAroundColon() {
    Result<Message> msg = Parser::parse(options("Subject  :   lunch at noon   \nX-Tab\t:\tvalue"));
    QVERIFY2(msg, qPrintable(describe(msg)));
    QCOMPARE(bytes(msg->header(HeaderId::Subject)), QByteArray("lunch at noon"));
    QCOMPARE(bytes(msg->header(QByteArrayView("X-Tab"))), QByteArray("value"));
}

void TestParser::emptyValue() {
    Result<Message> msg = Parser::parse(options("Subject:\nX-Empty:   "));
    QVERIFY2(msg, qPrintable(describe(msg)));
    QVERIFY(msg->has(HeaderId::Subject));
    QVERIFY(msg->header(HeaderId::Subject).isEmpty());
    QVERIFY(msg->header(QByteArrayView("X-Empty")).isEmpty());
    QVERIFY(!msg->has(HeaderId::Organization));
}

// RFC 3261 §7.3.1: a line starting with SP or HTAB continues the previous field.
void TestParser::folding() {
    Result<Message> msg =
        Parser::parse(options("Subject: first\n second\n\tthird\nSupported: timer,\n  100rel"));
    QVERIFY2(msg, qPrintable(describe(msg)));
    const QByteArrayView subject = msg->header(HeaderId::Subject);
    QVERIFY(subject.startsWith("first"));
    QVERIFY(subject.endsWith("third"));
    QVERIFY(subject.contains("second"));
    const ValueList supported = msg->values(HeaderId::Supported);
    QCOMPARE(supported.size(), qsizetype(2));
    QCOMPARE(bytes(supported[0]), QByteArray("timer"));
    QCOMPARE(bytes(supported[1]), QByteArray("100rel"));
    // The folded field is one field, and the next header is still recognised.
    int subjects = 0;
    for (const HeaderField& f : msg->headers())
        subjects += f.id == HeaderId::Subject;
    QCOMPARE(subjects, 1);
    QCOMPARE(bytes(msg->callId()), QByteArray("a84b4c76e66710@pc33.example.com"));
}

void TestParser::continuationAfterStartLine() {
    QByteArray wire = options();
    wire.replace("SIP/2.0\r\nVia:", "SIP/2.0\r\n folded\r\nVia:");
    Result<Message> msg = Parser::parse(wire);
    QVERIFY2(!msg, "a continuation line without a field above was accepted");
    QCOMPARE(msg.error().sipStatus, 400);
}

void TestParser::malformedHeaderLine_data() {
    QTest::addColumn<QByteArray>("line");
    QTest::newRow("no colon") << QByteArray("This line has no colon");
    QTest::newRow("space in name") << QByteArray("Bad Name: value");
    QTest::newRow("at in name") << QByteArray("Bad@Name: value");
    QTest::newRow("empty name") << QByteArray(": value");
    QTest::newRow("bracket in name") << QByteArray("X<y>: value");
}

void TestParser::malformedHeaderLine() {
    QFETCH(QByteArray, line);
    const QByteArray wire = options(line);
    Result<Message> msg = Parser::parse(wire);
    QVERIFY2(!msg, "accepted");
    QCOMPARE(msg.error().sipStatus, 400);
    const qsizetype lineStart = wire.indexOf(line);
    QVERIFY2(
        msg.error().offset >= lineStart && msg.error().offset <= lineStart + line.size(),
        qPrintable(QStringLiteral("offset %1, line at %2").arg(msg.error().offset).arg(lineStart)));
}

void TestParser::compactFormsInMessages_data() {
    QTest::addColumn<QByteArray>("line");
    QTest::addColumn<HeaderId>("id");
    QTest::addColumn<QByteArray>("value");
    QTest::newRow("c") << QByteArray("c: text/plain") << HeaderId::ContentType
                       << QByteArray("text/plain");
    QTest::newRow("e") << QByteArray("e: gzip") << HeaderId::ContentEncoding << QByteArray("gzip");
    QTest::newRow("k") << QByteArray("k: timer") << HeaderId::Supported << QByteArray("timer");
    QTest::newRow("m") << QByteArray("m: <sip:op@192.0.2.9>") << HeaderId::Contact
                       << QByteArray("<sip:op@192.0.2.9>");
    QTest::newRow("s") << QByteArray("s: hello") << HeaderId::Subject << QByteArray("hello");
    QTest::newRow("o") << QByteArray("o: dialog") << HeaderId::Event << QByteArray("dialog");
    QTest::newRow("u") << QByteArray("u: dialog, presence") << HeaderId::AllowEvents
                       << QByteArray("dialog, presence");
    QTest::newRow("r") << QByteArray("r: <sip:desk@example.com>") << HeaderId::ReferTo
                       << QByteArray("<sip:desk@example.com>");
    QTest::newRow("b") << QByteArray("b: <sip:op@example.com>") << HeaderId::ReferredBy
                       << QByteArray("<sip:op@example.com>");
    QTest::newRow("x (Other)") << QByteArray("x: 1800;refresher=uas") << HeaderId::Other
                               << QByteArray("1800;refresher=uas");
    QTest::newRow("y (Other)") << QByteArray("y: c2lnbmF0dXJl") << HeaderId::Other
                               << QByteArray("c2lnbmF0dXJl");
    QTest::newRow("a (Other)") << QByteArray("a: *;audio") << HeaderId::Other
                               << QByteArray("*;audio");
}

// Compact names inside a message: recognised, kept as written, found by either name.
void TestParser::compactFormsInMessages() {
    QFETCH(QByteArray, line);
    QFETCH(HeaderId, id);
    QFETCH(QByteArray, value);
    Result<Message> msg = Parser::parse(options(line));
    QVERIFY2(msg, qPrintable(describe(msg)));
    const QByteArray compact = line.left(1);
    const HeaderField* field = nullptr;
    for (const HeaderField& f : msg->headers()) {
        if (f.name == QByteArrayView(compact)) field = &f;
    }
    QVERIFY(field);
    QCOMPARE(field->id, id);
    QCOMPARE(bytes(field->value), value);
    QCOMPARE(bytes(msg->header(QByteArrayView(compact))), value);
    QCOMPARE(bytes(msg->header(QByteArrayView(compact.toUpper()))), value);
    if (id != HeaderId::Other) {
        QVERIFY(msg->has(id));
        QCOMPARE(bytes(msg->header(id)), value);
        QCOMPARE(bytes(msg->header(canonicalHeaderName(id))), value);
    }
}

void TestParser::lookupByName() {
    QByteArray wire = options();
    wire.replace("Call-ID: ", "i: ");
    wire.replace("Via: ", "v: ");
    Result<Message> msg = Parser::parse(wire);
    QVERIFY2(msg, qPrintable(describe(msg)));
    const QByteArray callId("a84b4c76e66710@pc33.example.com");
    QCOMPARE(bytes(msg->callId()), callId);
    QCOMPARE(bytes(msg->header(HeaderId::CallId)), callId);
    QCOMPARE(bytes(msg->header(QByteArrayView("Call-ID"))), callId);
    QCOMPARE(bytes(msg->header(QByteArrayView("call-id"))), callId);
    QCOMPARE(bytes(msg->header(QByteArrayView("i"))), callId);
    QCOMPARE(bytes(msg->header(QByteArrayView("I"))), callId);
    QVERIFY(msg->header(QByteArrayView("Via")).startsWith("SIP/2.0/UDP"));
    QVERIFY(msg->header(QByteArrayView("X-Absent")).isEmpty());
    QVERIFY2(msg->validate(), qPrintable(describe(msg->validate())));
}

void TestParser::unknownHeadersKeptInOrder() {
    Result<Message> msg =
        Parser::parse(options("X-First: 1\nP-Asserted-Identity: <sip:op@example.com>\nX-First: 2"));
    QVERIFY2(msg, qPrintable(describe(msg)));
    QList<QByteArray> others;
    for (const HeaderField& f : msg->headers()) {
        if (f.id == HeaderId::Other) others << f.name.toByteArray() + "=" + f.value.toByteArray();
    }
    QCOMPARE(others, (QList<QByteArray>{"X-First=1", "P-Asserted-Identity=<sip:op@example.com>",
                                        "X-First=2"}));
    QCOMPARE(bytes(msg->header(QByteArrayView("X-First"))), QByteArray("1"));  // the first one
    // Every field of the message is there: 6 of the head, 3 extra, Content-Length.
    QCOMPARE(msg->headers().size(), qsizetype(10));
}

// RFC 3261 §7.3.1: "Route: a, b" and "Route: a" + "Route: b" are the same.
void TestParser::commaListsAcrossFields() {
    Result<Message> msg =
        Parser::parse(options("Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\n"
                              "Route: <sip:p3.example.com;lr>\n"
                              "Allow: INVITE,ACK , BYE,CANCEL\nAllow: OPTIONS"));
    QVERIFY2(msg, qPrintable(describe(msg)));
    const ValueList routes = msg->values(HeaderId::Route);
    QCOMPARE(routes.size(), qsizetype(3));
    QCOMPARE(bytes(routes[0]), QByteArray("<sip:p1.example.com;lr>"));
    QCOMPARE(bytes(routes[1]), QByteArray("<sip:p2.example.com;lr>"));
    QCOMPARE(bytes(routes[2]), QByteArray("<sip:p3.example.com;lr>"));
    const ValueList allow = msg->values(HeaderId::Allow);
    QCOMPARE(allow.size(), qsizetype(5));
    QCOMPARE(bytes(allow[1]), QByteArray("ACK"));
    QCOMPARE(bytes(allow[4]), QByteArray("OPTIONS"));
    QVERIFY(msg->values(HeaderId::Unsupported).isEmpty());
}

void TestParser::commaListsRespectQuotesAndAngles() {
    Result<Message> msg = Parser::parse(options(
        "Contact: \"Smith, John\" <sip:js@192.0.2.4;x=a,b>;q=0.5, <sip:js@[2001:db8::9]:5060>,\n"
        " \"quote \\\" and, comma\" <sip:q@example.com>\n"
        "Contact: sip:plain@example.com;expires=60"));
    QVERIFY2(msg, qPrintable(describe(msg)));
    const ValueList contacts = msg->values(HeaderId::Contact);
    QCOMPARE(contacts.size(), qsizetype(4));
    QCOMPARE(bytes(contacts[0]), QByteArray("\"Smith, John\" <sip:js@192.0.2.4;x=a,b>;q=0.5"));
    QCOMPARE(bytes(contacts[1]), QByteArray("<sip:js@[2001:db8::9]:5060>"));
    QCOMPARE(bytes(contacts[2]), QByteArray("\"quote \\\" and, comma\" <sip:q@example.com>"));
    QCOMPARE(bytes(contacts[3]), QByteArray("sip:plain@example.com;expires=60"));
}

// Credentials, challenges, dates, free text and unknown headers are never split.
void TestParser::nonListsNotSplit() {
    Result<Message> msg = Parser::parse(
        options("Authorization: Digest username=\"op\", realm=\"example.com\", nonce=\"n1\", "
                "uri=\"sip:example.com\", response=\"0123456789abcdef0123456789abcdef\"\n"
                "Authorization: Digest username=\"op\", realm=\"other.example.com\", nonce=\"n2\"\n"
                "Date: Sat, 13 Nov 2010 23:29:00 GMT\n"
                "Subject: one, two, three\n"
                "User-Agent: Switchboard/0.1 (Linux, x86_64)\n"
                "X-List: a, b, c"));
    QVERIFY2(msg, qPrintable(describe(msg)));
    const ValueList auth = msg->values(HeaderId::Authorization);
    QCOMPARE(auth.size(), qsizetype(2));
    QVERIFY(auth[0].startsWith("Digest username=\"op\", realm=\"example.com\""));
    QVERIFY(auth[0].endsWith("response=\"0123456789abcdef0123456789abcdef\""));
    QVERIFY(auth[1].contains("other.example.com"));
    QCOMPARE(msg->values(HeaderId::Date).size(), qsizetype(1));
    QCOMPARE(msg->values(HeaderId::Subject).size(), qsizetype(1));
    QCOMPARE(msg->values(HeaderId::UserAgent).size(), qsizetype(1));
    QCOMPARE(bytes(msg->header(QByteArrayView("X-List"))), QByteArray("a, b, c"));
}

void TestParser::contentLengthExact() {
    const QByteArray body("hello\r\nworld");
    Result<Message> msg = Parser::parse(options("Content-Type: text/plain", body));
    QVERIFY2(msg, qPrintable(describe(msg)));
    QCOMPARE(bytes(msg->body()), body);
}

// RFC 3261 §18.3: bytes after Content-Length in a datagram are discarded.
void TestParser::contentLengthShorterThanDatagram() {
    const QByteArray wire =
        options("Content-Type: text/plain", "hello", QByteArray("5")) + "garbage that follows";
    Result<Message> msg = Parser::parse(wire);
    QVERIFY2(msg, qPrintable(describe(msg)));
    QCOMPARE(bytes(msg->body()), QByteArray("hello"));
    QVERIFY(!msg->serialize().contains("garbage"));
}

// RFC 3261 §18.3 / RFC 4475 §3.1.2.2: a datagram shorter than its Content-Length → 400.
void TestParser::contentLengthLongerThanDatagram() {
    const QByteArray wire = options("Content-Type: text/plain", "hello", QByteArray("6"));
    Result<Message> msg = Parser::parse(wire);
    QVERIFY2(!msg, "accepted");
    QCOMPARE(msg.error().sipStatus, 400);
    QVERIFY(!msg.error().reason.isEmpty());
    const qsizetype line = wire.indexOf("Content-Length:");
    const qsizetype bodyStart = wire.indexOf("\r\n\r\n") + 4;
    QVERIFY2((msg.error().offset >= line && msg.error().offset < line + 20) ||
                 msg.error().offset >= bodyStart,
             qPrintable(describe(msg)));
}

// RFC 3261 §18.3: over UDP a missing Content-Length means "to the end of the datagram".
void TestParser::contentLengthMissingOverUdp() {
    const QByteArray body("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n");
    Result<Message> msg =
        Parser::parse(options("Content-Type: application/sdp", body, QByteArray()));
    QVERIFY2(msg, qPrintable(describe(msg)));
    QVERIFY(!msg->has(HeaderId::ContentLength));
    QCOMPARE(bytes(msg->body()), body);
    QVERIFY2(msg->validate(), qPrintable(describe(msg->validate())));
    // Without a body at all, the body is empty.
    Result<Message> empty = Parser::parse(options({}, {}, QByteArray()));
    QVERIFY2(empty, qPrintable(describe(empty)));
    QVERIFY(empty->body().isEmpty());
}

void TestParser::contentLengthMalformed_data() {
    QTest::addColumn<QByteArray>("value");
    QTest::newRow("negative") << QByteArray("-5");
    QTest::newRow("plus") << QByteArray("+5");
    QTest::newRow("word") << QByteArray("five");
    QTest::newRow("two numbers") << QByteArray("5 5");
    QTest::newRow("trailing letter") << QByteArray("5x");
    QTest::newRow("hex") << QByteArray("0x5");
    QTest::newRow("decimal") << QByteArray("5.0");
    QTest::newRow("empty") << QByteArray(" ");
    QTest::newRow("over 32 bits") << QByteArray("4294967301");
    QTest::newRow("huge") << QByteArray("99999999999999999999999999");
}

// RFC 4475 §3.1.2.3: a bad Content-Length is refused and never used as a length.
void TestParser::contentLengthMalformed() {
    QFETCH(QByteArray, value);
    const QByteArray wire = options("Content-Type: text/plain", "hello", value);
    Result<Message> msg = Parser::parse(wire);
    QVERIFY2(!msg, "accepted");
    QCOMPARE(msg.error().sipStatus, 400);
    const qsizetype line = wire.indexOf("Content-Length:");
    QVERIFY2(msg.error().offset >= line && msg.error().offset <= wire.indexOf("\r\n", line),
             qPrintable(describe(msg)));
}

void TestParser::contentLengthWithLws() {
    Result<Message> msg = Parser::parse(options("Content-Type: text/plain", "hello", "  5  "));
    QVERIFY2(msg, qPrintable(describe(msg)));
    QCOMPARE(bytes(msg->body()), QByteArray("hello"));
    Result<Message> leadingZeros =
        Parser::parse(options("Content-Type: text/plain", "hello", "0005"));
    QVERIFY2(leadingZeros, qPrintable(describe(leadingZeros)));
    QCOMPARE(bytes(leadingZeros->body()), QByteArray("hello"));
}

void TestParser::compactContentLength() {
    QByteArray wire = options("Content-Type: text/plain", "hello", QByteArray("5"));
    wire.replace("Content-Length: 5", "l: 5");
    wire += "trailing";
    Result<Message> msg = Parser::parse(wire);
    QVERIFY2(msg, qPrintable(describe(msg)));
    QCOMPARE(bytes(msg->body()), QByteArray("hello"));
}

// RFC 4475 §3.3.9: two Content-Length fields make the framing unknowable.
void TestParser::duplicateContentLength() {
    QByteArray wire = options("Content-Type: text/plain\nContent-Length: 3", "hello");
    Result<Message> msg = Parser::parse(wire);
    QVERIFY2(!msg, "two different Content-Length values were accepted");
    QCOMPARE(msg.error().sipStatus, 400);
}

void TestParser::binaryBody() {
    QByteArray body;
    for (int i = 0; i < 512; ++i)
        body.append(char(i % 256));
    body.append("\r\n\r\n\0\0", 6);
    Result<Message> msg = Parser::parse(options("Content-Type: application/octet-stream", body));
    QVERIFY2(msg, qPrintable(describe(msg)));
    QCOMPARE(msg->body().size(), body.size());
    QCOMPARE(bytes(msg->body()), body);
    QVERIFY(msg->serialize().endsWith(body));
}

void TestParser::bodyContainingBlankLines() {
    const QByteArray body("line one\r\n\r\nFake-Header: x\r\n\r\n");
    Result<Message> msg = Parser::parse(options("Content-Type: text/plain", body));
    QVERIFY2(msg, qPrintable(describe(msg)));
    QCOMPARE(bytes(msg->body()), body);
    QVERIFY(msg->header(QByteArrayView("Fake-Header")).isEmpty());
}

// Over the 64 KiB default: 513 Message Too Large, a Limit error.
void TestParser::messageSizeLimit() {
    const ParseLimits defaults;
    QCOMPARE(defaults.maxMessageSize, qsizetype(64 * 1024));
    // A message of exactly `total` bytes (a 5-digit Content-Length).
    auto ofSize = [](qsizetype total) {
        QByteArray wire = options("Content-Type: text/plain", {}, QByteArray("00000"));
        const qsizetype bodySize = total - wire.size();
        wire.replace("Content-Length: 00000", "Content-Length: " + QByteArray::number(bodySize));
        wire += QByteArray(bodySize, 'a');
        return wire;
    };
    // Exactly at the limit: accepted.
    {
        const QByteArray at = ofSize(defaults.maxMessageSize);
        QCOMPARE(at.size(), defaults.maxMessageSize);
        Result<Message> msg = Parser::parse(at);
        QVERIFY2(msg, qPrintable(describe(msg)));
        QCOMPARE(msg->body().size(), defaults.maxMessageSize - (at.indexOf("\r\n\r\n") + 4));
    }
    // One byte over: refused.
    {
        const QByteArray over = ofSize(defaults.maxMessageSize + 1);
        QCOMPARE(over.size(), defaults.maxMessageSize + 1);
        Result<Message> msg = Parser::parse(over);
        QVERIFY2(!msg, "accepted");
        QCOMPARE(msg.error().sipStatus, 513);
        QCOMPARE(msg.error().kind, ErrorKind::Limit);
        QVERIFY(!msg.error().reason.isEmpty());
    }
    // Far over: refused the same way (no attempt to read it all).
    {
        const QByteArray huge = options({}, QByteArray(1024 * 1024, 'z'));
        Result<Message> msg = Parser::parse(huge);
        QVERIFY(!msg);
        QCOMPARE(msg.error().sipStatus, 513);
    }
}

void TestParser::messageSizeLimitCustom() {
    ParseLimits limits;
    limits.maxMessageSize = 400;
    const QByteArray small = options();
    QVERIFY(small.size() < 400);
    QVERIFY(Parser::parse(small, limits));
    const QByteArray big = options("Content-Type: text/plain", QByteArray(400, 'b'));
    Result<Message> msg = Parser::parse(big, limits);
    QVERIFY(!msg);
    QCOMPARE(msg.error().sipStatus, 513);
    QCOMPARE(msg.error().kind, ErrorKind::Limit);
    QVERIFY(Parser::parse(big));  // the default limit takes it
}

// More header fields than allowed → 513 Message Too Large, a Limit error pointing at the
// first one too many.
void TestParser::headerCountLimit() {
    ParseLimits limits;
    limits.maxHeaders = 20;
    // kHead has 6 fields and options() adds Content-Length: 7 + extra.
    auto withExtra = [](int n) {
        QByteArray extra;
        for (int i = 0; i < n; ++i)
            extra += "X-H" + QByteArray::number(i) + ": v\n";
        return options(extra);
    };
    Result<Message> atLimit = Parser::parse(withExtra(13), limits);
    QVERIFY2(atLimit, qPrintable(describe(atLimit)));
    QCOMPARE(atLimit->headers().size(), qsizetype(20));

    const QByteArray wire = withExtra(14);
    Result<Message> over = Parser::parse(wire, limits);
    QVERIFY2(!over, "accepted");
    QCOMPARE(over.error().sipStatus, 513);
    QCOMPARE(over.error().kind, ErrorKind::Limit);
    QVERIFY(!over.error().reason.isEmpty());
    QVERIFY2(over.error().offset > wire.indexOf("X-H12:"), qPrintable(describe(over)));

    // The default allows 200.
    QCOMPARE(ParseLimits().maxHeaders, 200);
    Result<Message> atDefault = Parser::parse(withExtra(193));
    QVERIFY2(atDefault, qPrintable(describe(atDefault)));
    QCOMPARE(atDefault->headers().size(), qsizetype(200));
    Result<Message> overDefault = Parser::parse(withExtra(194));
    QVERIFY(!overDefault);
    QCOMPARE(overDefault.error().sipStatus, 513);
}

// A header line (folds included) longer than maxLineLength is refused.
void TestParser::lineLengthLimit() {
    ParseLimits limits;
    limits.maxLineLength = 100;
    // "Subject: " is 9 bytes: a value of 91 makes a 100-byte line.
    Result<Message> atLimit = Parser::parse(options("Subject: " + QByteArray(91, 's')), limits);
    QVERIFY2(atLimit, qPrintable(describe(atLimit)));
    QCOMPARE(atLimit->header(HeaderId::Subject).size(), qsizetype(91));

    const QByteArray wire = options("Subject: " + QByteArray(92, 's'));
    Result<Message> over = Parser::parse(wire, limits);
    QVERIFY2(!over, "accepted");
    QCOMPARE(over.error().kind, ErrorKind::Limit);
    QCOMPARE(over.error().sipStatus, 513);
    QVERIFY(over.error().offset >= wire.indexOf("Subject:"));

    // Folding does not get around the limit.
    QByteArray folded = "Subject: " + QByteArray(60, 'a') + "\n " + QByteArray(60, 'b');
    Result<Message> foldedOver = Parser::parse(options(folded), limits);
    QVERIFY2(!foldedOver, "a folded 130-byte field passed a 100-byte line limit");
}

void TestParser::startLineLengthLimit() {
    ParseLimits limits;
    limits.maxLineLength = 100;
    QByteArray wire = options();
    wire.replace("sip:desk@example.com SIP", "sip:" + QByteArray(120, 'd') + "@example.com SIP");
    Result<Message> msg = Parser::parse(wire, limits);
    QVERIFY2(!msg, "accepted");
    QCOMPARE(msg.error().kind, ErrorKind::Limit);
    QCOMPARE(msg.error().sipStatus, 513);
    QVERIFY(msg.error().offset >= 0 && msg.error().offset <= wire.indexOf("\r\n"));
}

// 64 KiB of "a:b" lines must be refused by the header count, not processed.
void TestParser::manyTinyHeadersRefused() {
    QByteArray wire = crlf(kHead);
    while (wire.size() < 60 * 1024)
        wire += "a:b\r\n";
    wire += "Content-Length: 0\r\n\r\n";
    Result<Message> msg = Parser::parse(wire);
    QVERIFY(!msg);
    QCOMPARE(msg.error().sipStatus, 513);
    QCOMPARE(msg.error().kind, ErrorKind::Limit);
}

// RFC 3261 says CRLF; the parser also reads bare LF. Whatever it accepts, it must read
// the same message from both forms (header values, folding, body).
void TestParser::bareLfConsistent() {
    const QByteArray text =
        "INVITE sip:desk@example.com SIP/2.0\n"
        "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1,\n"
        " SIP/2.0/TCP 192.0.2.2;branch=z9hG4bK2\n"
        "Max-Forwards: 70\n"
        "To: <sip:desk@example.com>\n"
        "From: <sip:op@example.com>;tag=a\n"
        "Call-ID: lf-1\n"
        "CSeq: 1 INVITE\n"
        "Content-Type: text/plain\n"
        "Content-Length: 6\n"
        "\n"
        "a\nb\r\nc";
    const QByteArray body("a\nb\r\nc");
    Result<Message> withCrlf = Parser::parse(crlf(text.left(text.indexOf("\n\n") + 2)) + body);
    QVERIFY2(withCrlf, qPrintable(describe(withCrlf)));
    Result<Message> withLf = Parser::parse(text);
    if (!withLf) {
        // Refusing bare LF is allowed, but then with a reason.
        QVERIFY(!withLf.error().reason.isEmpty());
        return;
    }
    QCOMPARE(withLf->headers().size(), withCrlf->headers().size());
    QCOMPARE(bytes(withLf->callId()), QByteArray("lf-1"));
    Result<std::vector<Via>> vias = withLf->vias();
    QVERIFY2(vias, qPrintable(describe(vias)));
    QCOMPARE(vias->size(), std::size_t(2));
    QCOMPARE(bytes((*vias)[1].host), QByteArray("192.0.2.2"));
    QCOMPARE(bytes(withLf->body()), body);  // the body is never rewritten
    QCOMPARE(bytes(withCrlf->body()), body);
    for (qsizetype i = 0; i < withLf->headers().size(); ++i) {
        QCOMPARE(withLf->headers()[i].id, withCrlf->headers()[i].id);
        QCOMPARE(bytes(withLf->headers()[i].name), bytes(withCrlf->headers()[i].name));
    }
    QVERIFY2(withLf->validate(), qPrintable(describe(withLf->validate())));
    QVERIFY(!withLf->header(HeaderId::CallId).contains('\r'));
}

void TestParser::mixedLineEndings() {
    QByteArray wire = options("Subject: x", "body", QByteArray("4"));
    wire.replace("Max-Forwards: 70\r\n", "Max-Forwards: 70\n");
    Result<Message> msg = Parser::parse(wire);
    if (!msg) {
        QVERIFY(!msg.error().reason.isEmpty());
        return;
    }
    QCOMPARE(msg->maxForwards(), std::optional<quint32>(70));
    QCOMPARE(bytes(msg->header(HeaderId::To)), QByteArray("<sip:desk@example.com>"));
    QCOMPARE(bytes(msg->body()), QByteArray("body"));
}

// Parsed views refer into the one received buffer (DESIGN.md: zero-copy parser).
void TestParser::zeroCopyViews() {
    const QByteArray wire = options("Content-Type: text/plain\nX-Odd: value", "hello");
    Result<Message> msg = Parser::parse(wire);
    QVERIFY2(msg, qPrintable(describe(msg)));
    const QByteArray& raw = msg->raw();
    QCOMPARE(raw, wire);
    QVERIFY(pointsInto(msg->methodName(), raw));
    QVERIFY(pointsInto(msg->requestUri(), raw));
    QVERIFY(pointsInto(msg->sipVersion(), raw));
    QVERIFY(pointsInto(msg->body(), raw));
    for (const HeaderField& f : msg->headers()) {
        QVERIFY(pointsInto(f.name, raw));
        QVERIFY(pointsInto(f.value, raw));
    }
    Result<NameAddr> from = msg->from();
    QVERIFY(from);
    QVERIFY(pointsInto(from->uri.host, raw));
    QVERIFY(pointsInto(from->tag(), raw));
    Result<Via> via = msg->topVia();
    QVERIFY(via);
    QVERIFY(pointsInto(via->branch(), raw));
}

// The parser takes the bytes by value: changing the caller's array afterwards (which
// detaches it) leaves the message untouched.
void TestParser::callerBufferChangesDoNotLeak() {
    QByteArray wire = options();
    Result<Message> msg = Parser::parse(wire);
    QVERIFY2(msg, qPrintable(describe(msg)));
    wire.replace("a84b4c76e66710", "XXXXXXXXXXXXXX");
    wire.fill('#');
    wire.clear();
    QCOMPARE(bytes(msg->callId()), QByteArray("a84b4c76e66710@pc33.example.com"));
    QCOMPARE(msg->method(), Method::Options);
}

void TestParser::copiesOutliveTheOriginal() {
    std::optional<Message> copy;
    {
        Result<Message> msg = Parser::parse(options("Content-Type: text/plain", "hello"));
        QVERIFY2(msg, qPrintable(describe(msg)));
        copy = *msg;
        Message moved = std::move(*msg);
        QCOMPARE(bytes(moved.callId()), QByteArray("a84b4c76e66710@pc33.example.com"));
    }
    QCOMPARE(bytes(copy->callId()), QByteArray("a84b4c76e66710@pc33.example.com"));
    QCOMPARE(bytes(copy->body()), QByteArray("hello"));
    QCOMPARE(bytes(copy->from()->tag()), QByteArray("1928301774"));
    QVERIFY(copy->validate());
}

// A datagram can be cut anywhere: every prefix either parses or fails with an offset
// inside the input.
void TestParser::everyTruncationOfEveryFixture() {
    const QList<QByteArray> fixtures = allFixtures();
    QVERIFY(fixtures.size() > 40);
    for (const QByteArray& wire : fixtures) {
        for (qsizetype n = 0; n <= wire.size(); ++n) {
            const QByteArray cut = wire.left(n);
            Result<Message> msg = Parser::parse(cut);
            if (!msg) {
                QVERIFY(!msg.error().reason.isEmpty());
                QVERIFY2(msg.error().offset >= -1 && msg.error().offset <= n,
                         qPrintable(describe(msg)));
                continue;
            }
            exerciseAccessors(*msg);
            if (QTest::currentTestFailed()) {
                QFAIL(qPrintable(QStringLiteral("after %1 bytes of %2")
                                     .arg(n)
                                     .arg(QString::fromLatin1(wire.left(wire.indexOf('\r'))))));
            }
        }
    }
}

// Deterministic damage with the characters that steer SIP parsing.
void TestParser::mutationsOfEveryFixture() {
    static constexpr char kSpecial[] =
        "\r\n \t:;,\"<>\\%@[]=?/\x00\x7f\xff"
        "0";
    base::SeededRandom random(20240611);
    for (const QByteArray& wire : allFixtures()) {
        for (int round = 0; round < 200; ++round) {
            QByteArray mutant = wire;
            const int edits = 1 + int(random.bounded(4));
            for (int e = 0; e < edits; ++e) {
                const qsizetype at = qsizetype(random.bounded(quint64(mutant.size())));
                mutant[at] = kSpecial[random.bounded(sizeof(kSpecial) - 1)];
            }
            Result<Message> msg = Parser::parse(mutant);
            if (!msg) {
                QVERIFY(!msg.error().reason.isEmpty());
                QVERIFY(msg.error().offset >= -1 && msg.error().offset <= mutant.size());
                continue;
            }
            exerciseAccessors(*msg);
            if (QTest::currentTestFailed()) QFAIL(mutant.toPercentEncoding().constData());
        }
    }
}

QTEST_GUILESS_MAIN(TestParser)
#include "tst_parser.moc"
