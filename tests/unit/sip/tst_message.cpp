// Message: typed accessors, validate() (RFC 3261 §8.2), building, editing, serialize()
// round trips, copies of edited messages, and makeResponse (RFC 3261 §8.2.6).

#include <QTest>

#include "sip/message.h"
#include "sip/parser.h"
#include "sip_test_util.h"

using namespace sb;
using namespace sb::sip;
using namespace sb::sip::test;

namespace {

// An INVITE as a proxy forwards it: three Vias in two fields, Record-Route, Route.
const char kInvite[] =
    "INVITE sip:desk@192.0.2.50:5060;transport=udp SIP/2.0\n"
    "Via: SIP/2.0/UDP proxy.example.com:5060;branch=z9hG4bK2d4790.1;received=192.0.2.10\n"
    "Via: SIP/2.0/TCP edge.example.com;branch=z9hG4bKedge7,"
    " SIP/2.0/UDP [2001:db8::7]:5062;branch=z9hG4bKcaller1;rport=5062\n"
    "Max-Forwards: 68\n"
    "Record-Route: <sip:proxy.example.com;lr>\n"
    "Route: <sip:r1.example.com;lr>\n"
    "Route: <sip:r2.example.com;lr>\n"
    "To: \"Front Desk\" <sip:desk@example.com>\n"
    "From: \"Caller, Jane\" <sip:jane@example.org>;tag=9fxced76sl\n"
    "Call-ID: 3848276298220188511@client.example.org\n"
    "CSeq: 314159 INVITE\n"
    "Contact: <sip:jane@[2001:db8::7]:5062;transport=udp>;expires=120;q=0.9\n"
    "Diversion: <sip:operator@example.com>;reason=unconditional;counter=1,"
    " <sip:100@example.com>;reason=no-answer\n"
    "Supported: replaces, timer\n"
    "Content-Type: application/sdp\n"
    "Content-Length: 5\n"
    "\n"
    "v=0\n";

Message parse(QByteArrayView text) {
    Result<Message> msg = Parser::parse(crlf(text));
    if (!msg) qWarning("fixture does not parse: %s", qPrintable(msg.error().toString()));
    return msg ? *msg : Message();
}

QList<QByteArray> viaHosts(const Message& msg) {
    QList<QByteArray> hosts;
    Result<std::vector<Via>> vias = msg.vias();
    if (!vias) return {"<error: " + vias.error().reason.toUtf8() + ">"};
    for (const Via& via : *vias)
        hosts << via.host.toByteArray();
    return hosts;
}

QList<QByteArray> fieldNames(const Message& msg) {
    QList<QByteArray> names;
    for (const HeaderField& f : msg.headers())
        names << f.name.toByteArray();
    return names;
}

// Serialises and parses again: what a peer would receive.
Result<Message> reparse(const Message& msg) {
    return Parser::parse(msg.serialize());
}

}  // namespace

class TestMessage : public QObject {
    Q_OBJECT

private slots:
    // accessors
    void vias();
    void fromToCallIdCSeq();
    void contactsAndRoutes();
    void contactStar();
    void contactsAbsent();
    void numericHeaders();
    void eventHeaders();
    void replacesHeader();
    void accessorsOnMissingHeaders();
    void countAndValues();
    // validate
    void validateAcceptsMinimalRequest();
    void validateAcceptsResponses();
    void validateMissingHeader_data();
    void validateMissingHeader();
    void validateMalformedHeader_data();
    void validateMalformedHeader();
    void validateDuplicateSingleValueHeaders_data();
    void validateDuplicateSingleValueHeaders();
    void validateCSeqMethod();
    // building and editing
    void buildRequest();
    void buildExtensionRequest();
    void buildResponse();
    void defaultReasonPhrases();
    void prependVia();
    void replaceFirstVia();
    void removeRoute();
    void removeFirstRoute();
    void removeByName();
    void setHeaderReplacesAll();
    void setBodyUpdatesLengthAndType();
    void setBodyOnParsedMessage();
    void setRequestUriAndReason();
    void manyEditsKeepValues();
    void copiesOfEditedMessages();
    // serialize
    void serializeKeepsOrderAndCompactNames();
    void serializeIsByteExactForCanonicalInput();
    void serializeFixesContentLength();
    void serializeIntoReusesTheBuffer();
    // makeResponse
    void makeResponseCopiesDialogHeaders();
    void makeResponseAddsToTagOnlyWhenMissing();
    void makeResponseWithoutTag();
    void makeResponseToCompactRequest();
    void makeResponseToInvalidRequest();
};

void TestMessage::vias() {
    const Message msg = parse(kInvite);
    QCOMPARE(viaHosts(msg),
             (QList<QByteArray>{"proxy.example.com", "edge.example.com", "2001:db8::7"}));
    Result<std::vector<Via>> vias = msg.vias();
    QVERIFY(vias);
    QCOMPARE(bytes((*vias)[0].received().value_or("")), QByteArray("192.0.2.10"));
    QCOMPARE(bytes((*vias)[1].transport), QByteArray("TCP"));
    QVERIFY((*vias)[2].ipv6Reference);
    QCOMPARE((*vias)[2].port, std::optional<quint16>(5062));
    QCOMPARE((*vias)[2].rport(), std::optional<quint16>(5062));
    Result<Via> top = msg.topVia();
    QVERIFY(top);
    QCOMPARE(bytes(top->branch()), QByteArray("z9hG4bK2d4790.1"));
}

void TestMessage::fromToCallIdCSeq() {
    const Message msg = parse(kInvite);
    Result<NameAddr> from = msg.from();
    QVERIFY2(from, qPrintable(describe(from)));
    QCOMPARE(from->displayName(), QStringLiteral("Caller, Jane"));
    QCOMPARE(bytes(from->tag()), QByteArray("9fxced76sl"));
    Result<NameAddr> to = msg.to();
    QVERIFY2(to, qPrintable(describe(to)));
    QCOMPARE(to->displayName(), QStringLiteral("Front Desk"));
    QVERIFY(to->tag().isEmpty());
    QCOMPARE(bytes(msg.callId()), QByteArray("3848276298220188511@client.example.org"));
    Result<CSeq> cseq = msg.cseq();
    QVERIFY(cseq);
    QCOMPARE(cseq->number, 314159u);
    QCOMPARE(cseq->method, Method::Invite);
}

void TestMessage::contactsAndRoutes() {
    const Message msg = parse(kInvite);
    Result<Message::Contacts> contacts = msg.contacts();
    QVERIFY2(contacts, qPrintable(describe(contacts)));
    QVERIFY(!contacts->star);
    QCOMPARE(contacts->entries.size(), std::size_t(1));
    const NameAddr& contact = contacts->entries.front();
    QCOMPARE(bytes(contact.uri.host), QByteArray("2001:db8::7"));
    QCOMPARE(bytes(contact.params.value("expires").value_or("")), QByteArray("120"));
    QCOMPARE(bytes(contact.params.value("q").value_or("")), QByteArray("0.9"));

    Result<std::vector<NameAddr>> routes = msg.nameAddrs(HeaderId::Route);
    QVERIFY2(routes, qPrintable(describe(routes)));
    QCOMPARE(routes->size(), std::size_t(2));
    QCOMPARE(bytes((*routes)[0].uri.host), QByteArray("r1.example.com"));
    QCOMPARE(bytes((*routes)[1].uri.host), QByteArray("r2.example.com"));
    Result<std::vector<NameAddr>> rr = msg.nameAddrs(HeaderId::RecordRoute);
    QVERIFY(rr);
    QCOMPARE(rr->size(), std::size_t(1));
    QVERIFY(rr->front().uri.params.has("lr"));

    Result<std::vector<NameAddr>> diversion = msg.nameAddrs(HeaderId::Diversion);
    QVERIFY2(diversion, qPrintable(describe(diversion)));
    QCOMPARE(diversion->size(), std::size_t(2));
    QCOMPARE(bytes((*diversion)[0].params.value("reason").value_or("")),
             QByteArray("unconditional"));
    QCOMPARE(bytes((*diversion)[1].uri.user), QByteArray("100"));
    QVERIFY(msg.nameAddrs(HeaderId::Path)->empty());
}

// RFC 3261 §10.2.2: "Contact: *" removes all bindings.
void TestMessage::contactStar() {
    const Message msg = parse(
        "REGISTER sip:example.com SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKr\n"
        "To: <sip:desk@example.com>\nFrom: <sip:desk@example.com>;tag=1\nCall-ID: reg1\n"
        "CSeq: 9 REGISTER\nContact: *\nExpires: 0\nContent-Length: 0\n\n");
    Result<Message::Contacts> contacts = msg.contacts();
    QVERIFY2(contacts, qPrintable(describe(contacts)));
    QVERIFY(contacts->star);
    QVERIFY(contacts->entries.empty());
    QCOMPARE(msg.expires(), std::optional<quint32>(0));
    QVERIFY(msg.validate());
}

void TestMessage::contactsAbsent() {
    const Message msg = parse(
        "OPTIONS sip:example.com SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKo\n"
        "To: <sip:example.com>\nFrom: <sip:desk@example.com>;tag=1\nCall-ID: o1\n"
        "CSeq: 1 OPTIONS\nContent-Length: 0\n\n");
    Result<Message::Contacts> contacts = msg.contacts();
    QVERIFY2(contacts, qPrintable(describe(contacts)));
    QVERIFY(!contacts->star);
    QVERIFY(contacts->entries.empty());
}

void TestMessage::numericHeaders() {
    const Message msg = parse(
        "SIP/2.0 423 Interval Too Brief\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKr\n"
        "To: <sip:desk@example.com>;tag=2\nFrom: <sip:desk@example.com>;tag=1\nCall-ID: reg1\n"
        "CSeq: 9 REGISTER\nMin-Expires: 0600\nExpires: 3600\nMax-Forwards: 0068\n"
        "Retry-After: 120 (lunch);duration=60\nContent-Length: 0\n\n");
    QCOMPARE(msg.minExpires(), std::optional<quint32>(600));
    QCOMPARE(msg.retryAfter(), std::optional<quint32>(120));
    QCOMPARE(msg.expires(), std::optional<quint32>(3600));
    QCOMPARE(msg.maxForwards(), std::optional<quint32>(68));

    const Message bad = parse(
        "OPTIONS sip:example.com SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKo\n"
        "To: <sip:example.com>\nFrom: <sip:desk@example.com>;tag=1\nCall-ID: o1\n"
        "CSeq: 1 OPTIONS\nExpires: 99999999999999999999\nMax-Forwards: seventy\n"
        "Min-Expires: -5\nRetry-After: soon\nContent-Length: 0\n\n");
    QVERIFY(!bad.expires().has_value());
    QVERIFY(!bad.retryAfter().has_value());
    QVERIFY(!bad.maxForwards().has_value());
    QVERIFY(!bad.minExpires().has_value());
}

void TestMessage::eventHeaders() {
    const Message msg = parse(
        "NOTIFY sip:op@192.0.2.9:5070 SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKn\n"
        "To: <sip:op@example.com>;tag=s1\nFrom: <sip:100@example.com>;tag=n1\nCall-ID: sub1\n"
        "CSeq: 3 NOTIFY\nEvent: dialog;id=7\n"
        "Subscription-State: terminated;reason=timeout;retry-after=60\n"
        "SIP-ETag: dx200xyz\nSIP-If-Match: kwj449x\nContent-Length: 0\n\n");
    Result<EventHeader> event = msg.event();
    QVERIFY2(event, qPrintable(describe(event)));
    QCOMPARE(bytes(event->package), QByteArray("dialog"));
    QCOMPARE(bytes(event->id()), QByteArray("7"));
    Result<SubscriptionStateHeader> state = msg.subscriptionState();
    QVERIFY2(state, qPrintable(describe(state)));
    QCOMPARE(bytes(state->state), QByteArray("terminated"));
    QCOMPARE(bytes(state->reason()), QByteArray("timeout"));
    QCOMPARE(state->retryAfter(), std::optional<quint32>(60));
    QCOMPARE(bytes(msg.sipETag()), QByteArray("dx200xyz"));
    QCOMPARE(bytes(msg.sipIfMatch()), QByteArray("kwj449x"));
    // Compact "o:" is Event too.
    const Message compact = parse(
        "SUBSCRIBE sip:100@example.com SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKs\n"
        "To: <sip:100@example.com>\nFrom: <sip:op@example.com>;tag=1\nCall-ID: sub2\n"
        "CSeq: 1 SUBSCRIBE\no: presence\nContent-Length: 0\n\n");
    QCOMPARE(bytes(compact.event()->package), QByteArray("presence"));
}

void TestMessage::replacesHeader() {
    const Message msg = parse(
        "INVITE sip:desk@example.com SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKi\n"
        "To: <sip:desk@example.com>\nFrom: <sip:op@example.com>;tag=1\nCall-ID: i1\n"
        "CSeq: 1 INVITE\nReplaces: 425928@bobster.example.org;to-tag=7743;from-tag=6472;"
        "early-only\nContent-Length: 0\n\n");
    Result<ReplacesHeader> replaces = msg.replaces();
    QVERIFY2(replaces, qPrintable(describe(replaces)));
    QCOMPARE(bytes(replaces->callId), QByteArray("425928@bobster.example.org"));
    QCOMPARE(bytes(replaces->toTag), QByteArray("7743"));
    QCOMPARE(bytes(replaces->fromTag), QByteArray("6472"));
    QVERIFY(replaces->earlyOnly);
}

void TestMessage::accessorsOnMissingHeaders() {
    const Message msg = parse("OPTIONS sip:example.com SIP/2.0\nContent-Length: 0\n\n");
    QVERIFY(!msg.topVia());
    QVERIFY(!msg.topVia().error().reason.isEmpty());
    QVERIFY(!msg.from());
    QVERIFY(!msg.to());
    QVERIFY(!msg.cseq());
    QVERIFY(msg.callId().isEmpty());
    QVERIFY(!msg.maxForwards().has_value());
    QVERIFY(!msg.expires().has_value());
    QVERIFY(!msg.event());
    QVERIFY(!msg.subscriptionState());
    QVERIFY(!msg.replaces());
    QVERIFY(msg.sipETag().isEmpty());
    QVERIFY(msg.values(HeaderId::Via).isEmpty());
    QCOMPARE(msg.count(HeaderId::Via), 0);
}

void TestMessage::countAndValues() {
    const Message msg = parse(kInvite);
    QCOMPARE(msg.count(HeaderId::Route), 2);  // two fields, one value each
    QCOMPARE(msg.count(HeaderId::Contact), 1);
    QCOMPARE(msg.count(HeaderId::Organization), 0);
    QCOMPARE(msg.values(HeaderId::Via).size(), qsizetype(3));
    QCOMPARE(msg.values(HeaderId::Supported).size(), qsizetype(2));
    QCOMPARE(bytes(msg.values(HeaderId::Supported)[1]), QByteArray("timer"));
}

void TestMessage::validateAcceptsMinimalRequest() {
    Message msg = parse(kInvite);
    QVERIFY2(msg.validate(), qPrintable(describe(msg.validate())));
    // RFC 3261 §8.2: Max-Forwards is tolerated missing (RFC 2543 peers).
    QVERIFY(msg.removeHeaders(HeaderId::MaxForwards) == 1);
    QVERIFY2(msg.validate(), qPrintable(describe(msg.validate())));
}

void TestMessage::validateAcceptsResponses() {
    const Message msg = parse(
        "SIP/2.0 486 Busy Here\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKb\n"
        "To: <sip:desk@example.com>;tag=2\nFrom: <sip:op@example.com>;tag=1\nCall-ID: b1\n"
        "CSeq: 5 INVITE\nContent-Length: 0\n\n");
    QVERIFY2(msg.validate(), qPrintable(describe(msg.validate())));
}

void TestMessage::validateMissingHeader_data() {
    QTest::addColumn<QByteArray>("line");
    QTest::addColumn<QString>("name");
    QTest::newRow("Via") << QByteArray("Via: ") << QStringLiteral("Via");
    QTest::newRow("From") << QByteArray("From: ") << QStringLiteral("From");
    QTest::newRow("To") << QByteArray("To: ") << QStringLiteral("To");
    QTest::newRow("Call-ID") << QByteArray("Call-ID: ") << QStringLiteral("Call-ID");
    QTest::newRow("CSeq") << QByteArray("CSeq: ") << QStringLiteral("CSeq");
}

// RFC 3261 §8.1.1: Via, From, To, Call-ID and CSeq are mandatory; a request without one
// gets 400 with a reason that names it.
void TestMessage::validateMissingHeader() {
    QFETCH(QByteArray, line);
    QFETCH(QString, name);
    Message msg = parse(kInvite);
    QVERIFY(msg.removeHeaders(headerIdFromName(line.chopped(2))) > 0);
    Result<void> valid = msg.validate();
    QVERIFY2(!valid, "accepted");
    QCOMPARE(valid.error().sipStatus, 400);
    QVERIFY2(valid.error().reason.contains(name, Qt::CaseInsensitive),
             qPrintable(valid.error().reason));
    // The same message received from the wire is refused the same way.
    QByteArray wire = crlf(kInvite);
    for (qsizetype at = wire.indexOf("\r\n" + line); at >= 0; at = wire.indexOf("\r\n" + line)) {
        wire.remove(at + 2, wire.indexOf("\r\n", at + 2) - at);
    }
    QVERIFY(!wire.contains("\r\n" + line));
    const std::optional<Rejection> rej = rejectionOf(wire);
    QVERIFY(rej.has_value());
    QCOMPARE(rej->error.sipStatus, 400);
}

void TestMessage::validateMalformedHeader_data() {
    QTest::addColumn<QByteArray>("from");
    QTest::addColumn<QByteArray>("to");
    QTest::newRow("CSeq no method")
        << QByteArray("CSeq: 314159 INVITE") << QByteArray("CSeq: 314159");
    QTest::newRow("CSeq overflow")
        << QByteArray("CSeq: 314159 INVITE") << QByteArray("CSeq: 4294967296 INVITE");
    QTest::newRow("From no uri") << QByteArray("From: \"Caller, Jane\" <sip:jane@example.org>")
                                 << QByteArray("From: \"Caller, Jane\"");
    QTest::newRow("To unterminated quote")
        << QByteArray("To: \"Front Desk\" <") << QByteArray("To: \"Front Desk <");
    QTest::newRow("Via garbage") << QByteArray("Via: SIP/2.0/UDP proxy.example.com:5060;")
                                 << QByteArray("Via: garbage proxy.example.com:5060;");
    QTest::newRow("second Via bad") << QByteArray("SIP/2.0/UDP [2001:db8::7]:5062")
                                    << QByteArray("SIP/2.0/UDP [2001:db8::7:5062");
    QTest::newRow("empty Call-ID")
        << QByteArray("Call-ID: 3848276298220188511@client.example.org") << QByteArray("Call-ID: ");
}

void TestMessage::validateMalformedHeader() {
    QFETCH(QByteArray, from);
    QFETCH(QByteArray, to);
    QByteArray wire = crlf(kInvite);
    QVERIFY(wire.contains(from));
    wire.replace(from, to);
    Result<Message> msg = Parser::parse(wire);
    QVERIFY2(msg, qPrintable(describe(msg)));
    Result<void> valid = msg->validate();
    QVERIFY2(!valid, "accepted");
    QCOMPARE(valid.error().sipStatus, 400);
    QVERIFY(!valid.error().reason.isEmpty());
    // The offset points at the offending line.
    const qsizetype line = wire.lastIndexOf("\r\n", wire.indexOf(to)) + 2;
    const qsizetype end = wire.indexOf("\r\n", wire.indexOf(to));
    QVERIFY2(
        valid.error().offset >= line && valid.error().offset <= end,
        qPrintable(
            QStringLiteral("offset %1, line %2..%3").arg(valid.error().offset).arg(line).arg(end)));
}

void TestMessage::validateDuplicateSingleValueHeaders_data() {
    QTest::addColumn<QByteArray>("extra");
    QTest::newRow("two From") << QByteArray("From: <sip:other@example.org>;tag=2\n");
    QTest::newRow("two To") << QByteArray("To: <sip:other@example.com>\n");
    QTest::newRow("two Call-ID") << QByteArray("Call-ID: another@client.example.org\n");
    QTest::newRow("two CSeq") << QByteArray("CSeq: 2 INVITE\n");
    QTest::newRow("compact duplicate") << QByteArray("i: another@client.example.org\n");
}

// RFC 4475 §3.3.8: several values in a single-value field → 400.
void TestMessage::validateDuplicateSingleValueHeaders() {
    QFETCH(QByteArray, extra);
    QByteArray text = kInvite;
    text.replace("Supported:", extra + "Supported:");
    const Message msg = parse(text);
    Result<void> valid = msg.validate();
    QVERIFY2(!valid, "accepted");
    QCOMPARE(valid.error().sipStatus, 400);
}

void TestMessage::validateCSeqMethod() {
    QByteArray text = kInvite;
    text.replace("CSeq: 314159 INVITE", "CSeq: 314159 BYE");
    Result<void> mismatch = parse(text).validate();
    QVERIFY(!mismatch);
    QCOMPARE(mismatch.error().sipStatus, 400);
    // ACK and CANCEL carry their own method in CSeq (RFC 3261 §17.1.1.3, §9.1).
    for (const char* method : {"ACK", "CANCEL", "BYE"}) {
        QByteArray same = kInvite;
        same.replace("INVITE sip:", QByteArray(method) + " sip:");
        same.replace("CSeq: 314159 INVITE", QByteArray("CSeq: 314159 ") + method);
        QVERIFY2(parse(same).validate(), method);
    }
}

void TestMessage::buildRequest() {
    Message msg = Message::request(Method::Invite, "sip:desk@example.com");
    QVERIFY(msg.isRequest());
    QCOMPARE(msg.method(), Method::Invite);
    QCOMPARE(bytes(msg.methodName()), QByteArray("INVITE"));
    QCOMPARE(bytes(msg.requestUri()), QByteArray("sip:desk@example.com"));
    QVERIFY(msg.raw().isEmpty());
    msg.addHeader(HeaderId::Via, "SIP/2.0/UDP 192.0.2.9:5070;branch=z9hG4bKbuilt1;rport");
    msg.addHeader(HeaderId::MaxForwards, "70");
    msg.addHeader(HeaderId::To, "<sip:desk@example.com>");
    msg.addHeader(HeaderId::From, "\"Operator\" <sip:op@example.com>;tag=b1");
    msg.addHeader(HeaderId::CallId, "built-1@192.0.2.9");
    msg.addHeader(HeaderId::CSeq, "1 INVITE");
    msg.addHeader("X-Console", "switchboard");
    msg.setBody("application/sdp", "v=0\r\n");
    QVERIFY2(msg.validate(), qPrintable(describe(msg.validate())));
    QCOMPARE(bytes(msg.callId()), QByteArray("built-1@192.0.2.9"));
    QCOMPARE(bytes(msg.header(QByteArrayView("X-Console"))), QByteArray("switchboard"));

    const QByteArray wire = msg.serialize();
    QVERIFY2(wire.startsWith("INVITE sip:desk@example.com SIP/2.0\r\n"), wire.constData());
    QVERIFY(wire.contains("\r\nCall-ID: built-1@192.0.2.9\r\n"));  // canonical names
    QVERIFY(wire.contains("\r\nMax-Forwards: 70\r\n"));
    QVERIFY(wire.contains("\r\nCSeq: 1 INVITE\r\n"));
    QVERIFY(wire.contains("\r\nContent-Type: application/sdp\r\n"));
    QVERIFY(wire.contains("\r\nContent-Length: 5\r\n"));
    QVERIFY(wire.endsWith("\r\n\r\nv=0\r\n"));
    Result<Message> back = Parser::parse(wire);
    QVERIFY2(back, qPrintable(describe(back)));
    QVERIFY(back->validate());
    QCOMPARE(fieldNames(*back).mid(0, 7), (QList<QByteArray>{"Via", "Max-Forwards", "To", "From",
                                                             "Call-ID", "CSeq", "X-Console"}));
    QCOMPARE(bytes(back->body()), QByteArray("v=0\r\n"));
    QVERIFY(back->topVia()->hasRport());
}

void TestMessage::buildExtensionRequest() {
    Message msg = Message::request("NEWMETHOD", "sip:desk@example.com");
    QCOMPARE(msg.method(), Method::Unknown);
    QCOMPARE(bytes(msg.methodName()), QByteArray("NEWMETHOD"));
    QVERIFY(msg.serialize().startsWith("NEWMETHOD sip:desk@example.com SIP/2.0\r\n"));
    Message known = Message::request("NOTIFY", "sip:op@192.0.2.9");
    QCOMPARE(known.method(), Method::Notify);
}

void TestMessage::buildResponse() {
    Message ringing = Message::response(180);
    QVERIFY(ringing.isResponse());
    QCOMPARE(ringing.statusCode(), 180);
    QVERIFY2(ringing.serialize().startsWith("SIP/2.0 180 Ringing\r\n"),
             ringing.serialize().constData());
    Message custom = Message::response(480, "Operator on a break");
    QCOMPARE(bytes(custom.reasonPhrase()), QByteArray("Operator on a break"));
    QVERIFY(custom.serialize().startsWith("SIP/2.0 480 Operator on a break\r\n"));
    QVERIFY(custom.serialize().endsWith("Content-Length: 0\r\n\r\n"));
}

void TestMessage::defaultReasonPhrases() {
    const QList<QPair<int, QByteArray>> phrases = {
        {100, "Trying"},
        {180, "Ringing"},
        {181, "Call Is Being Forwarded"},
        {182, "Queued"},
        {183, "Session Progress"},
        {200, "OK"},
        {202, "Accepted"},
        {302, "Moved Temporarily"},
        {400, "Bad Request"},
        {401, "Unauthorized"},
        {403, "Forbidden"},
        {404, "Not Found"},
        {405, "Method Not Allowed"},
        {407, "Proxy Authentication Required"},
        {408, "Request Timeout"},
        {412, "Conditional Request Failed"},
        {413, "Request Entity Too Large"},
        {415, "Unsupported Media Type"},
        {416, "Unsupported URI Scheme"},
        {420, "Bad Extension"},
        {423, "Interval Too Brief"},
        {480, "Temporarily Unavailable"},
        {481, "Call/Transaction Does Not Exist"},
        {482, "Loop Detected"},
        {483, "Too Many Hops"},
        {486, "Busy Here"},
        {487, "Request Terminated"},
        {489, "Bad Event"},
        {491, "Request Pending"},
        {500, "Server Internal Error"},
        {501, "Not Implemented"},
        {503, "Service Unavailable"},
        {504, "Server Time-out"},
        {505, "Version Not Supported"},
        {513, "Message Too Large"},
        {603, "Decline"},
    };
    for (const auto& [code, phrase] : phrases) {
        QCOMPARE(bytes(defaultReasonPhrase(code)), phrase);
    }
    // Unknown codes still get something usable (or nothing), never garbage.
    const QByteArrayView unknown = defaultReasonPhrase(299);
    QVERIFY(!unknown.contains('\r') && !unknown.contains('\n'));
}

// A proxy adds its Via on top (RFC 3261 §16.6 step 8).
void TestMessage::prependVia() {
    Message msg = parse(kInvite);
    msg.prependHeader(HeaderId::Via, "SIP/2.0/UDP 192.0.2.99:5060;branch=z9hG4bKnewtop");
    QCOMPARE(viaHosts(msg), (QList<QByteArray>{"192.0.2.99", "proxy.example.com",
                                               "edge.example.com", "2001:db8::7"}));
    QCOMPARE(msg.headers().front().id, HeaderId::Via);  // topmost of the message too
    QCOMPARE(bytes(msg.topVia()->branch()), QByteArray("z9hG4bKnewtop"));
    Result<Message> back = reparse(msg);
    QVERIFY2(back, qPrintable(describe(back)));
    QCOMPARE(viaHosts(*back), viaHosts(msg));
    QVERIFY(
        back->serialize().startsWith("INVITE sip:desk@192.0.2.50:5060;transport=udp SIP/2.0\r\n"
                                     "Via: SIP/2.0/UDP 192.0.2.99:5060;branch=z9hG4bKnewtop\r\n"));
    // The untouched fields keep their values.
    QCOMPARE(bytes(back->callId()), QByteArray("3848276298220188511@client.example.org"));
    QCOMPARE(bytes(back->body()), QByteArray("v=0\r\n"));
}

// A UAS/proxy adds ;received to the top Via (RFC 3261 §18.2.1).
void TestMessage::replaceFirstVia() {
    Message msg = parse(kInvite);
    const QByteArray newTop =
        "SIP/2.0/UDP proxy.example.com:5060;branch=z9hG4bK2d4790.1;rport=5060;"
        "received=198.51.100.1";
    QVERIFY(msg.replaceFirstHeader(HeaderId::Via, newTop));
    Result<Via> top = msg.topVia();
    QVERIFY(top);
    QCOMPARE(bytes(top->received().value_or("")), QByteArray("198.51.100.1"));
    QCOMPARE(top->rport(), std::optional<quint16>(5060));
    QCOMPARE(viaHosts(msg),
             (QList<QByteArray>{"proxy.example.com", "edge.example.com", "2001:db8::7"}));
    Result<Message> back = reparse(msg);
    QVERIFY(back);
    QCOMPARE(bytes(back->header(HeaderId::Via)), newTop);
    QVERIFY(!msg.replaceFirstHeader(HeaderId::Organization, "none"));
    QVERIFY(!msg.has(HeaderId::Organization));
}

// Removing Route must leave Record-Route alone.
void TestMessage::removeRoute() {
    Message msg = parse(kInvite);
    QCOMPARE(msg.removeHeaders(HeaderId::Route), 2);
    QVERIFY(!msg.has(HeaderId::Route));
    QVERIFY(msg.has(HeaderId::RecordRoute));
    QCOMPARE(msg.removeHeaders(HeaderId::Route), 0);
    const QByteArray wire = msg.serialize();
    QVERIFY(!wire.contains("\r\nRoute:"));
    QVERIFY(wire.contains("\r\nRecord-Route: <sip:proxy.example.com;lr>\r\n"));
    Result<Message> back = Parser::parse(wire);
    QVERIFY(back);
    QVERIFY(back->validate());
    QCOMPARE(back->headers().size(), msg.headers().size());
}

// Loose routing: the first Route entry is popped (RFC 3261 §16.4).
void TestMessage::removeFirstRoute() {
    Message msg = parse(kInvite);
    QVERIFY(msg.removeFirstHeader(HeaderId::Route));
    Result<std::vector<NameAddr>> routes = msg.nameAddrs(HeaderId::Route);
    QVERIFY(routes);
    QCOMPARE(routes->size(), std::size_t(1));
    QCOMPARE(bytes(routes->front().uri.host), QByteArray("r2.example.com"));
    QVERIFY(msg.removeFirstHeader(HeaderId::Route));
    QVERIFY(!msg.removeFirstHeader(HeaderId::Route));
    QVERIFY(msg.has(HeaderId::RecordRoute));
}

void TestMessage::removeByName() {
    Message msg =
        parse(QByteArray(kInvite).replace("Supported:", "X-Trace: 1\nx-trace: 2\nSupported:"));
    QCOMPARE(msg.removeHeaders(QByteArrayView("X-TRACE")), 2);
    QVERIFY(msg.header(QByteArrayView("X-Trace")).isEmpty());
    QCOMPARE(msg.removeHeaders(QByteArrayView("Record-Route")), 1);
    QVERIFY(!msg.has(HeaderId::RecordRoute));
    QVERIFY(msg.has(HeaderId::Route));
    QVERIFY(msg.validate());
}

void TestMessage::setHeaderReplacesAll() {
    Message msg = parse(kInvite);
    msg.setHeader(HeaderId::Route, "<sip:only.example.com;lr>");
    QCOMPARE(msg.count(HeaderId::Route), 1);
    QCOMPARE(bytes(msg.nameAddrs(HeaderId::Route)->front().uri.host),
             QByteArray("only.example.com"));
    msg.setHeader(HeaderId::MaxForwards, "67");
    QCOMPARE(msg.maxForwards(), std::optional<quint32>(67));
    msg.setHeader(HeaderId::Organization, "Example Hotel");  // absent before: added
    QCOMPARE(bytes(msg.header(HeaderId::Organization)), QByteArray("Example Hotel"));
    Result<Message> back = reparse(msg);
    QVERIFY(back);
    QCOMPARE(back->count(HeaderId::Route), 1);
    QCOMPARE(back->maxForwards(), std::optional<quint32>(67));
    QCOMPARE(bytes(back->header(HeaderId::Organization)), QByteArray("Example Hotel"));
}

void TestMessage::setBodyUpdatesLengthAndType() {
    Message msg = Message::request(Method::Message, "sip:desk@example.com");
    msg.setBody("text/plain;charset=UTF-8", "Guest in lobby");
    QCOMPARE(bytes(msg.header(HeaderId::ContentType)), QByteArray("text/plain;charset=UTF-8"));
    QCOMPARE(bytes(msg.body()), QByteArray("Guest in lobby"));
    QVERIFY(msg.serialize().contains("\r\nContent-Length: 14\r\n"));
    msg.setBody("text/plain", "Hi");
    QCOMPARE(msg.count(HeaderId::ContentType), 1);
    QVERIFY(msg.serialize().contains("\r\nContent-Length: 2\r\n"));
    QVERIFY(msg.serialize().endsWith("\r\n\r\nHi"));
    msg.setBody({}, {});
    QVERIFY(!msg.has(HeaderId::ContentType));
    QVERIFY(msg.body().isEmpty());
    QVERIFY(msg.serialize().contains("\r\nContent-Length: 0\r\n"));
    QVERIFY(msg.serialize().endsWith("\r\n\r\n"));
    // Binary bodies survive.
    const QByteArray binary("\0\r\n\r\n\xff", 6);
    msg.setBody("application/octet-stream", binary);
    Result<Message> back = reparse(msg);
    QVERIFY(back);
    QCOMPARE(bytes(back->body()), binary);
}

void TestMessage::setBodyOnParsedMessage() {
    Message msg = parse(kInvite);
    msg.setBody("application/sdp", "v=0\r\no=- 2 2 IN IP4 192.0.2.50\r\n");
    const QByteArray wire = msg.serialize();
    QCOMPARE(wire.count("Content-Length:"), 1);
    QCOMPARE(wire.count("Content-Type:"), 1);
    Result<Message> back = Parser::parse(wire);
    QVERIFY2(back, qPrintable(describe(back)));
    QCOMPARE(bytes(back->body()), QByteArray("v=0\r\no=- 2 2 IN IP4 192.0.2.50\r\n"));
    QCOMPARE(bytes(back->header(HeaderId::ContentLength)), QByteArray("32"));
}

void TestMessage::setRequestUriAndReason() {
    Message msg = parse(kInvite);
    msg.setRequestUri("sip:desk@192.0.2.77:5070");
    QCOMPARE(bytes(msg.requestUri()), QByteArray("sip:desk@192.0.2.77:5070"));
    QVERIFY(msg.serialize().startsWith("INVITE sip:desk@192.0.2.77:5070 SIP/2.0\r\n"));
    Message resp = Message::response(486);
    resp.setReasonPhrase("Busy at the desk");
    QVERIFY(resp.serialize().startsWith("SIP/2.0 486 Busy at the desk\r\n"));
}

// Owned strings must stay valid while more are added (views into moved storage).
void TestMessage::manyEditsKeepValues() {
    Message msg = parse(kInvite);
    for (int i = 0; i < 300; ++i) {
        msg.addHeader("X-N" + QByteArray::number(i), "value-" + QByteArray::number(i));
    }
    for (int i = 0; i < 300; i += 37) {
        QCOMPARE(bytes(msg.header(QByteArrayView("X-N" + QByteArray::number(i)))),
                 "value-" + QByteArray::number(i));
    }
    QCOMPARE(bytes(msg.callId()), QByteArray("3848276298220188511@client.example.org"));
    Result<Message> back = Parser::parse(msg.serialize(), ParseLimits{64 * 1024, 400, 8192});
    QVERIFY2(back, qPrintable(describe(back)));
    QCOMPARE(bytes(back->header(QByteArrayView("X-N299"))), QByteArray("value-299"));
}

void TestMessage::copiesOfEditedMessages() {
    std::optional<Message> copy;
    Message assigned;
    {
        Message msg = parse(kInvite);
        msg.prependHeader(HeaderId::Via, "SIP/2.0/UDP 192.0.2.99;branch=z9hG4bKcopy");
        msg.setHeader(HeaderId::MaxForwards, "10");
        msg.setBody("text/plain", "copied body");
        copy = msg;
        assigned = msg;
        // Editing the original afterwards does not touch the copies.
        msg.setHeader(HeaderId::MaxForwards, "1");
        msg.removeHeaders(HeaderId::Via);
        QCOMPARE(copy->maxForwards(), std::optional<quint32>(10));
    }
    for (const Message* m : {&*copy, &assigned}) {
        QCOMPARE(bytes(m->topVia()->branch()), QByteArray("z9hG4bKcopy"));
        QCOMPARE(m->maxForwards(), std::optional<quint32>(10));
        QCOMPARE(bytes(m->body()), QByteArray("copied body"));
        QCOMPARE(viaHosts(*m).size(), qsizetype(4));
        Result<Message> back = reparse(*m);
        QVERIFY(back);
        QVERIFY(back->validate());
    }
    // Editing a copy does not touch its source.
    Message second = assigned;
    second.setHeader(HeaderId::MaxForwards, "5");
    QCOMPARE(assigned.maxForwards(), std::optional<quint32>(10));
    QCOMPARE(second.maxForwards(), std::optional<quint32>(5));
}

void TestMessage::serializeKeepsOrderAndCompactNames() {
    const QByteArray text =
        "MESSAGE sip:desk@example.com SIP/2.0\n"
        "v: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKc1\n"
        "Max-Forwards: 70\n"
        "t: <sip:desk@example.com>\n"
        "f: <sip:op@example.com>;tag=77\n"
        "i: compact-1\n"
        "CSeq: 1 MESSAGE\n"
        "X-Unknown: kept, as, is\n"
        "c: text/plain\n"
        "l: 2\n"
        "\n"
        "hi";
    const Message msg = parse(text);
    QVERIFY(msg.validate());
    const QByteArray wire = msg.serialize();
    Result<Message> back = Parser::parse(wire);
    QVERIFY2(back, qPrintable(describe(back)));
    QCOMPARE(fieldNames(*back), (QList<QByteArray>{"v", "Max-Forwards", "t", "f", "i", "CSeq",
                                                   "X-Unknown", "c", "l"}));
    QCOMPARE(bytes(back->header(QByteArrayView("X-Unknown"))), QByteArray("kept, as, is"));
    QCOMPARE(wire, crlf(text.chopped(2)) + "hi");
}

// A message written the usual way ("Name: value", CRLF) comes out byte for byte.
void TestMessage::serializeIsByteExactForCanonicalInput() {
    const QByteArray wire = crlf(kInvite);
    const Message msg = parse(kInvite);
    QCOMPARE(msg.serialize(), wire);
    Message edited = msg;
    edited.replaceFirstHeader(HeaderId::MaxForwards, "67");
    QByteArray expected = wire;
    expected.replace("Max-Forwards: 68", "Max-Forwards: 67");
    QCOMPARE(edited.serialize(), expected);
}

void TestMessage::serializeFixesContentLength() {
    // Missing Content-Length (UDP, RFC 3261 §18.3): serialize() adds the right one.
    Message msg = parse(
        "MESSAGE sip:desk@example.com SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKm\n"
        "To: <sip:desk@example.com>\nFrom: <sip:op@example.com>;tag=1\nCall-ID: m1\n"
        "CSeq: 1 MESSAGE\nContent-Type: text/plain\n\nno length here");
    QCOMPARE(bytes(msg.body()), QByteArray("no length here"));
    const QByteArray wire = msg.serialize();
    QCOMPARE(wire.count("Content-Length:"), 1);
    QVERIFY(wire.contains("Content-Length: 14\r\n"));
    Result<Message> back = Parser::parse(wire + "trailing noise");
    QVERIFY(back);
    QCOMPARE(bytes(back->body()), QByteArray("no length here"));
}

// serializeInto() writes what serialize() returns, replacing the buffer's content and
// keeping its memory when no one else shares it; a buffer that is shared stays intact.
void TestMessage::serializeIntoReusesTheBuffer() {
    const Message large = parse(kInvite);
    Message small = Message::request(Method::Options, "sip:desk@example.com");
    small.addHeader(HeaderId::CallId, "o1");
    QByteArray buffer;
    large.serializeInto(buffer);
    QCOMPARE(buffer, large.serialize());
    const char* memory = buffer.constData();
    const qsizetype capacity = buffer.capacity();
    small.serializeInto(buffer);
    QCOMPARE(buffer, small.serialize());
    QCOMPARE(buffer.constData(), memory);
    QCOMPARE(buffer.capacity(), capacity);
    const QByteArray kept = buffer;  // shares the buffer's memory
    large.serializeInto(buffer);
    QCOMPARE(buffer, large.serialize());
    QCOMPARE(kept, small.serialize());
}

// RFC 3261 §8.2.6.2: Via (all, in order), From, To (+tag), Call-ID, CSeq; no body.
void TestMessage::makeResponseCopiesDialogHeaders() {
    const Message request = parse(kInvite);
    const Message response = makeResponse(request, 180, {}, "totag-1");
    QVERIFY(response.isResponse());
    QCOMPARE(response.statusCode(), 180);
    QCOMPARE(bytes(response.reasonPhrase()), QByteArray("Ringing"));
    QCOMPARE(viaHosts(response), viaHosts(request));
    QCOMPARE(bytes(response.header(HeaderId::From)), bytes(request.header(HeaderId::From)));
    QCOMPARE(bytes(response.callId()), bytes(request.callId()));
    QCOMPARE(bytes(response.header(HeaderId::CSeq)), bytes(request.header(HeaderId::CSeq)));
    Result<NameAddr> to = response.to();
    QVERIFY2(to, qPrintable(describe(to)));
    QCOMPARE(bytes(to->tag()), QByteArray("totag-1"));
    QCOMPARE(to->displayName(), QStringLiteral("Front Desk"));
    QCOMPARE(bytes(to->uri.user), QByteArray("desk"));
    QVERIFY(response.body().isEmpty());
    QVERIFY(!response.has(HeaderId::ContentType));

    const QByteArray wire = response.serialize();
    QVERIFY2(wire.startsWith("SIP/2.0 180 Ringing\r\n"), wire.constData());
    QVERIFY(wire.contains("\r\nContent-Length: 0\r\n"));
    QVERIFY(wire.endsWith("\r\n\r\n"));
    Result<Message> back = Parser::parse(wire);
    QVERIFY2(back, qPrintable(describe(back)));
    QVERIFY2(back->validate(), qPrintable(describe(back->validate())));
    QCOMPARE(viaHosts(*back), viaHosts(request));
    // Each Via value is copied verbatim, received/rport included.
    QCOMPARE(back->values(HeaderId::Via).size(), qsizetype(3));
    for (qsizetype i = 0; i < 3; ++i) {
        QCOMPARE(bytes(back->values(HeaderId::Via)[i]), bytes(request.values(HeaderId::Via)[i]));
    }
    QCOMPARE(bytes(back->topVia()->received().value_or("")), QByteArray("192.0.2.10"));
}

void TestMessage::makeResponseAddsToTagOnlyWhenMissing() {
    QByteArray text = kInvite;
    text.replace("To: \"Front Desk\" <sip:desk@example.com>",
                 "To: \"Front Desk\" <sip:desk@example.com>;tag=existing");
    const Message inDialog = parse(text);
    const Message response = makeResponse(inDialog, 200, "OK", "ignored");
    QCOMPARE(bytes(response.to()->tag()), QByteArray("existing"));
    QCOMPARE(bytes(response.header(HeaderId::To)), bytes(inDialog.header(HeaderId::To)));
    QVERIFY(!response.header(HeaderId::To).contains("ignored"));
}

void TestMessage::makeResponseWithoutTag() {
    const Message request = parse(kInvite);
    const Message trying = makeResponse(request, 100);
    QCOMPARE(bytes(trying.reasonPhrase()), QByteArray("Trying"));
    QVERIFY(trying.to()->tag().isEmpty());
    QCOMPARE(bytes(trying.header(HeaderId::To)), bytes(request.header(HeaderId::To)));
    const Message custom = makeResponse(request, 486, "Desk busy");
    QCOMPARE(bytes(custom.reasonPhrase()), QByteArray("Desk busy"));
    QVERIFY(custom.serialize().startsWith("SIP/2.0 486 Desk busy\r\n"));
}

void TestMessage::makeResponseToCompactRequest() {
    const Message request = parse(
        "OPTIONS sip:desk@example.com SIP/2.0\nv: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKc2\n"
        "v: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bKc3\nt: <sip:desk@example.com>\n"
        "f: <sip:op@example.com>;tag=5\ni: compact-2\nCSeq: 4 OPTIONS\nl: 0\n\n");
    const Message response = makeResponse(request, 200, "OK", "t9");
    Result<Message> back = Parser::parse(response.serialize());
    QVERIFY2(back, qPrintable(describe(back)));
    QVERIFY(back->validate());
    QCOMPARE(viaHosts(*back), (QList<QByteArray>{"192.0.2.1", "192.0.2.2"}));
    QCOMPARE(bytes(back->callId()), QByteArray("compact-2"));
    QCOMPARE(bytes(back->from()->tag()), QByteArray("5"));
    QCOMPARE(bytes(back->to()->tag()), QByteArray("t9"));
    QCOMPARE(back->cseq()->number, 4u);
}

// A request that fails validate() can still be answered with 400 and its reason.
void TestMessage::makeResponseToInvalidRequest() {
    QByteArray text = kInvite;
    text.replace("CSeq: 314159 INVITE", "CSeq: 314159 BYE");
    const Message request = parse(text);
    Result<void> valid = request.validate();
    QVERIFY(!valid);
    const Message response =
        makeResponse(request, valid.error().sipStatus, valid.error().reason.toUtf8(), "err1");
    Result<Message> back = Parser::parse(response.serialize());
    QVERIFY2(back, qPrintable(describe(back)));
    QCOMPARE(back->statusCode(), 400);
    QCOMPARE(QString::fromUtf8(back->reasonPhrase()), valid.error().reason);
    QCOMPARE(viaHosts(*back), viaHosts(request));
    QCOMPARE(bytes(back->callId()), bytes(request.callId()));
}

QTEST_GUILESS_MAIN(TestMessage)
#include "tst_message.moc"
