// RFC 4475 (SIP torture test messages), every case of §3.1 (valid and invalid syntax),
// §3.2 (transaction layer) and §3.3/§3.4 (application layer, RFC 2543 compatibility).
// The messages are our own variants of the RFC's, kept byte-exact in messages/*.sip: each
// one exercises the same tricky construct as its RFC namesake and carries its name.

#include <QTest>

#include "sip/message.h"
#include "sip/name_addr.h"
#include "sip/parser.h"
#include "sip/uri.h"
#include "sip_test_util.h"

using namespace sb;
using namespace sb::sip;
using namespace sb::sip::test;

// A message RFC 4475 calls well-formed: it must parse and pass validate().
#define SB_LOAD_VALID(msg, name)                                \
    const QByteArray msg##Wire = fixture(QStringLiteral(name)); \
    QVERIFY2(!msg##Wire.isEmpty(), "missing fixture " name);    \
    Result<Message> msg##Parsed = Parser::parse(msg##Wire);     \
    QVERIFY2(msg##Parsed, qPrintable(describe(msg##Parsed)));   \
    const Message& msg = *msg##Parsed;                          \
    {                                                           \
        const Result<void> sbValid = msg.validate();            \
        QVERIFY2(sbValid, qPrintable(describe(sbValid)));       \
    }

// A message RFC 4475 wants refused: `rej` holds where and why.
#define SB_LOAD_REJECTED(rej, wire, name)                                            \
    const QByteArray wire = fixture(QStringLiteral(name));                           \
    QVERIFY2(!wire.isEmpty(), "missing fixture " name);                              \
    const std::optional<Rejection> rej##Opt = rejectionOf(wire);                     \
    QVERIFY2(rej##Opt.has_value(), name " was accepted; RFC 4475 wants it refused"); \
    const Rejection& rej = *rej##Opt;                                                \
    QVERIFY2(!rej.error.reason.trimmed().isEmpty(), "the error has no reason text");

namespace {

// [start, end) of the header line of `wire` that begins with `lineStart`, folded
// continuation lines included (end is before the final CRLF).
std::pair<qsizetype, qsizetype> lineSpan(const QByteArray& wire, QByteArrayView lineStart) {
    qsizetype start = 0;
    if (!wire.startsWith(lineStart)) {
        start = wire.indexOf("\r\n" + lineStart.toByteArray());
        if (start < 0) return {-1, -1};
        start += 2;
    }
    qsizetype end = wire.indexOf("\r\n", start);
    while (end >= 0 && end + 2 < wire.size() && (wire[end + 2] == ' ' || wire[end + 2] == '\t')) {
        end = wire.indexOf("\r\n", end + 2);
    }
    return {start, end < 0 ? wire.size() : end};
}

bool offsetOnLine(const QByteArray& wire, QByteArrayView lineStart, qsizetype offset) {
    const auto [start, end] = lineSpan(wire, lineStart);
    return start >= 0 && offset >= start && offset <= end;
}

QString offsetInfo(const QByteArray& wire, const Error& error) {
    if (error.offset < 0 || error.offset > wire.size()) {
        return QStringLiteral("offset %1 (outside the input)").arg(error.offset);
    }
    return QStringLiteral("offset %1, near \"%2\"")
        .arg(error.offset)
        .arg(QString::fromLatin1(wire.mid(error.offset, 24)));
}

Uri parseUri(QByteArrayView text) {
    Result<Uri> uri = Uri::parse(text);
    return uri ? *uri : Uri{};
}

}  // namespace

class TestTorture : public QObject {
    Q_OBJECT

private slots:
    // §3.1.1 valid messages
    void wsinv();
    void intmeth();
    void esc01();
    void escnull();
    void esc02();
    void lwsdisp();
    void longreq();
    void dblreq();
    void semiuri();
    void transports();
    void mpart01();
    void unreason();
    void noreason();
    void noreasonWithoutSpace();
    // §3.1.2 invalid messages
    void badinv01();
    void clerr();
    void ncl();
    void nclNotNumeric();
    void scalar02();
    void scalarlg();
    void quotbal();
    void ltgtruri();
    void lwsruri();
    void lwsstart();
    void trws();
    void escruri();
    void baddate();
    void regbadct();
    void badaspec();
    void baddn();
    void badvers();
    void mismatch01();
    void mismatch02();
    void bigcode();
    // §3.2 transaction layer
    void badbranch();
    // §3.3 application layer
    void insuf();
    void unkscm();
    void novelsc();
    void unksm2();
    void bext01();
    void invut();
    void regaut01();
    void multi01();
    void mcl01();
    void bcast();
    void zeromf();
    void cparam01();
    void cparam02();
    void regescrt();
    void sdp01();
    // §3.4 backward compatibility
    void inv2543();
    // Every valid case survives serialize() -> parse() with its meaning intact.
    void validRoundTrip_data();
    void validRoundTrip();
};

// §3.1.1.1: folding everywhere, LWS around colons/semicolons/slashes, escaped quotes,
// an empty Subject, compact and long names mixed, odd case, leading zeros, unknown
// headers with values that are not generic-params.
void TestTorture::wsinv() {
    SB_LOAD_VALID(msg, "wsinv.sip");
    QVERIFY(msg.isRequest());
    QCOMPARE(msg.method(), Method::Invite);
    QCOMPARE(bytes(msg.methodName()), QByteArray("INVITE"));
    QCOMPARE(bytes(msg.sipVersion()), QByteArray("SIP/2.0"));
    QCOMPARE(bytes(msg.requestUri()), QByteArray("sip:alice.w@frontdesk.example.com;unknownparam"));
    const Uri ruri = parseUri(msg.requestUri());
    QCOMPARE(ruri.scheme, UriScheme::Sip);
    QCOMPARE(bytes(ruri.user), QByteArray("alice.w"));
    QCOMPARE(bytes(ruri.host), QByteArray("frontdesk.example.com"));
    QVERIFY(ruri.params.has("unknownparam"));
    QVERIFY(ruri.params.value("unknownparam").has_value());
    QVERIFY(ruri.params.value("unknownparam")->isEmpty());

    // "TO :" then a folded value.
    Result<NameAddr> to = msg.to();
    QVERIFY2(to, qPrintable(describe(to)));
    QVERIFY(to->display.isEmpty());
    QVERIFY(!to->angleBrackets);
    QCOMPARE(bytes(to->uri.user), QByteArray("alice.w"));
    QCOMPARE(bytes(to->uri.host), QByteArray("frontdesk.example.com"));
    QVERIFY(to->uri.params.isEmpty());
    QCOMPARE(bytes(to->tag()), QByteArray("7781662ab"));

    // Quoted display name ending in an escaped backslash and an escaped quote; the
    // tag parameter is folded onto its own lines.
    Result<NameAddr> from = msg.from();
    QVERIFY2(from, qPrintable(describe(from)));
    QCOMPARE(from->displayName(), QStringLiteral("J. Operator \\\""));
    QCOMPARE(bytes(from->display), QByteArray("\"J. Operator \\\\\\\"\""));
    QVERIFY(from->angleBrackets);
    QCOMPARE(bytes(from->uri.user), QByteArray("operator"));
    QCOMPARE(bytes(from->uri.host), QByteArray("example.com"));
    QCOMPARE(bytes(from->tag()), QByteArray("55qwerty1"));

    QCOMPARE(msg.maxForwards(), std::optional<quint32>(42));  // "0042"
    QCOMPARE(bytes(msg.callId()), QByteArray("wsinv.q8w7e6r5@192.0.2.10"));

    Result<CSeq> cseq = msg.cseq();  // "0017" CRLF "  INVITE"
    QVERIFY2(cseq, qPrintable(describe(cseq)));
    QCOMPARE(cseq->number, 17u);
    QCOMPARE(cseq->method, Method::Invite);
    QCOMPARE(bytes(cseq->methodName), QByteArray("INVITE"));

    // One "Via" field and one compact "v" field holding two values, all folded.
    Result<std::vector<Via>> vias = msg.vias();
    QVERIFY2(vias, qPrintable(describe(vias)));
    QCOMPARE(vias->size(), std::size_t(3));
    const Via& v0 = (*vias)[0];
    QCOMPARE(bytes(v0.protocolName), QByteArray("SIP"));
    QCOMPARE(bytes(v0.protocolVersion), QByteArray("2.0"));
    QCOMPARE(bytes(v0.transport), QByteArray("UDP"));
    QCOMPARE(bytes(v0.host), QByteArray("192.0.2.20"));
    QVERIFY(!v0.port.has_value());
    QCOMPARE(bytes(v0.branch()), QByteArray("390abcdef"));
    QVERIFY(!v0.hasMagicCookie());
    const Via& v1 = (*vias)[1];
    QCOMPARE(bytes(v1.transport), QByteArray("TCP"));
    QCOMPARE(bytes(v1.host), QByteArray("spindle.example.com"));
    QCOMPARE(bytes(v1.branch()), QByteArray("z9hG4bK1ab2c"));
    QVERIFY(v1.hasMagicCookie());
    const Via& v2 = (*vias)[2];
    QCOMPARE(bytes(v2.transport), QByteArray("UDP"));
    QCOMPARE(bytes(v2.host), QByteArray("192.168.255.111"));
    QCOMPARE(bytes(v2.branch()), QByteArray("z9hG4bK30239"));
    Result<Via> top = msg.topVia();
    QVERIFY2(top, qPrintable(describe(top)));
    QCOMPARE(bytes(top->host), QByteArray("192.0.2.20"));

    // "s :" is an empty Subject; it is present, not absent.
    QVERIFY(msg.has(HeaderId::Subject));
    QVERIFY(msg.header(HeaderId::Subject).isEmpty());

    // Unknown headers keep their value, continuation line included (message.h).
    QCOMPARE(bytes(msg.header(QByteArrayView("NewFangledHeader"))),
             QByteArray("first part of a value\r\n continued on a second line"));
    QCOMPARE(bytes(msg.header(QByteArrayView("newfangledheader"))),
             QByteArray("first part of a value\r\n continued on a second line"));
    QCOMPARE(bytes(msg.header(QByteArrayView("UnknownHeaderWithUnusualValue"))),
             QByteArray(";;,,;;,;"));

    QCOMPARE(bytes(msg.header(HeaderId::ContentType)), QByteArray("application/sdp"));
    QCOMPARE(bytes(msg.header(HeaderId::ContentLength)), QByteArray("140"));
    QCOMPARE(msg.body().size(), qsizetype(140));
    QVERIFY(msg.body().startsWith("v=0\r\n"));
    QVERIFY(msg.body().endsWith("a=rtpmap:0 PCMU/8000\r\n"));

    Result<std::vector<NameAddr>> routes = msg.nameAddrs(HeaderId::Route);
    QVERIFY2(routes, qPrintable(describe(routes)));
    QCOMPARE(routes->size(), std::size_t(1));
    const Uri& routeUri = routes->front().uri;
    QCOMPARE(bytes(routeUri.host), QByteArray("services.example.com"));
    QVERIFY(routeUri.params.has("lr"));
    QCOMPARE(bytes(routeUri.params.value("unknownwith").value_or("<absent>")), QByteArray("value"));
    QVERIFY(routeUri.params.has("unknown-no-value"));

    // "m:" with a quoted display name of escaped quotes and folded parameters.
    Result<Message::Contacts> contacts = msg.contacts();
    QVERIFY2(contacts, qPrintable(describe(contacts)));
    QVERIFY(!contacts->star);
    QCOMPARE(contacts->entries.size(), std::size_t(1));
    const NameAddr& contact = contacts->entries.front();
    QCOMPARE(contact.displayName(), QStringLiteral("Quoted string \"\""));
    QCOMPARE(bytes(contact.uri.user), QByteArray("operator"));
    QCOMPARE(bytes(contact.params.value("newparam").value_or("<absent>")), QByteArray("newvalue"));
    QVERIFY(contact.params.has("secondparam"));
    QVERIFY(contact.params.value("secondparam")->isEmpty());
    QCOMPARE(bytes(contact.params.value("q").value_or("<absent>")), QByteArray("0.33"));

    // Fields in message order, names as written, compact ones recognised.
    const Message::Headers& fields = msg.headers();
    QCOMPARE(fields.size(), qsizetype(14));
    QCOMPARE(fields[0].id, HeaderId::To);
    QCOMPARE(bytes(fields[0].name), QByteArray("TO"));
    QCOMPARE(fields[1].id, HeaderId::From);
    QCOMPARE(fields[2].id, HeaderId::MaxForwards);
    QCOMPARE(fields[4].id, HeaderId::ContentLength);
    QCOMPARE(fields[5].id, HeaderId::CSeq);
    QCOMPARE(fields[7].id, HeaderId::Subject);
    QCOMPARE(bytes(fields[7].name), QByteArray("s"));
    QCOMPARE(fields[8].id, HeaderId::Other);
    QCOMPARE(fields[12].id, HeaderId::Via);
    QCOMPARE(bytes(fields[12].name), QByteArray("v"));
    QCOMPARE(fields[13].id, HeaderId::Contact);
    QVERIFY(msg.count(HeaderId::Via) >= 2);
}

// §3.1.1.2: unusual but legal characters in the method, Request-URI user and password,
// branch, quoted-pairs of control characters (NUL included), token display names,
// odd parameter names with UTF-8 values, a Call-ID with unbalanced brackets and quotes.
void TestTorture::intmeth() {
    SB_LOAD_VALID(msg, "intmeth.sip");
    const QByteArray method("!odd-Method0123456789_*+`.%indeed'~");
    const QByteArray user("1_odd.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
    QCOMPARE(msg.method(), Method::Unknown);
    QCOMPARE(bytes(msg.methodName()), method);

    Result<Uri> ruri = Uri::parse(msg.requestUri());
    QVERIFY2(ruri, qPrintable(describe(ruri)));
    QCOMPARE(bytes(ruri->user), user);
    QCOMPARE(bytes(ruri->password), QByteArray("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"));
    QCOMPARE(bytes(ruri->host), QByteArray("example.com"));
    QVERIFY(!ruri->port.has_value());
    QVERIFY(ruri->params.isEmpty());
    QVERIFY(ruri->headers.isEmpty());

    Result<Via> via = msg.topVia();
    QVERIFY2(via, qPrintable(describe(via)));
    QCOMPARE(bytes(via->branch()), QByteArray("z9hG4bK-.!%66*_+`'~"));
    QVERIFY(via->hasMagicCookie());

    Result<NameAddr> to = msg.to();
    QVERIFY2(to, qPrintable(describe(to)));
    const QByteArray controls("BEL:\x07 NUL:\x00 DEL:\x7f", 17);
    QCOMPARE(to->displayName(), QString::fromUtf8(controls));
    QCOMPARE(bytes(to->uri.user), user);

    Result<NameAddr> from = msg.from();
    QVERIFY2(from, qPrintable(describe(from)));
    QCOMPARE(from->displayName(), QStringLiteral("token1~` token2'+_ token3*%!.-"));
    QCOMPARE(bytes(from->uri.user), QByteArray("mundane"));
    QCOMPARE(bytes(from->tag()), QByteArray("_token~1'+`*%!-."));
    const auto odd = from->params.value("fromParam''~+*_!.-%");
    QVERIFY(odd.has_value());
    QCOMPARE(QString::fromUtf8(unquote(*odd)), QString::fromUtf8("работающий"));

    QCOMPARE(bytes(msg.callId()), QByteArray("intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{"));
    Result<CSeq> cseq = msg.cseq();
    QVERIFY2(cseq, qPrintable(describe(cseq)));
    QCOMPARE(cseq->number, 139122385u);
    QCOMPARE(cseq->method, Method::Unknown);
    QCOMPARE(bytes(cseq->methodName), method);
    QCOMPARE(msg.maxForwards(), std::optional<quint32>(255));
    QCOMPARE(bytes(msg.header(QByteArrayView("extensionHeader-!.%*+_`'~"))),
             QByteArray("\xEF\xBB\xBF\xE5\xA4\xA7\xE5\x81\x9C\xE9\x9B\xBB"));
    QVERIFY(msg.body().isEmpty());
}

// §3.1.1.3: % HEX HEX in user parts and URI parameters; views keep the escapes, and
// decoding is never recursive ("v%61lue%25%34%31" is "value%41", not "valueA").
void TestTorture::esc01() {
    SB_LOAD_VALID(msg, "esc01.sip");
    Result<Uri> ruri = Uri::parse(msg.requestUri());
    QVERIFY2(ruri, qPrintable(describe(ruri)));
    QCOMPARE(bytes(ruri->user), QByteArray("sips%3Aoperator%40example.com"));
    QCOMPARE(percentDecode(ruri->user), QByteArray("sips:operator@example.com"));
    QCOMPARE(bytes(ruri->host), QByteArray("example.net"));

    Result<NameAddr> to = msg.to();
    QVERIFY2(to, qPrintable(describe(to)));
    QCOMPARE(bytes(to->uri.user), QByteArray("%6Fp%65rator"));
    QCOMPARE(percentDecode(to->uri.user), QByteArray("operator"));
    // RFC 3261 §19.1.4: escaped and unescaped user parts are equivalent.
    QVERIFY(uriEquivalent(to->uri, parseUri("sip:operator@example.com")));

    Result<NameAddr> from = msg.from();
    QVERIFY2(from, qPrintable(describe(from)));
    QCOMPARE(percentDecode(from->uri.user), QByteArray("I have spaces"));
    QCOMPARE(bytes(from->tag()), QByteArray("5512"));

    QCOMPARE(bytes(msg.callId()), QByteArray("esc01.5512aa-b0c-3234"));                 // "i:"
    QCOMPARE(bytes(msg.header(HeaderId::ContentType)), QByteArray("application/sdp"));  // "C:"

    Result<Message::Contacts> contacts = msg.contacts();
    QVERIFY2(contacts, qPrintable(describe(contacts)));
    QCOMPARE(contacts->entries.size(), std::size_t(1));
    const Uri& curi = contacts->entries.front().uri;
    QCOMPARE(percentDecode(curi.user), QByteArray("caller"));
    QCOMPARE(bytes(curi.host), QByteArray("host5.example.net"));
    QList<QByteArray> names;
    QList<QByteArray> values;
    curi.params.forEach([&](QByteArrayView name, QByteArrayView value, bool) {
        names << percentDecode(name);
        values << percentDecode(value);
        return true;
    });
    QCOMPARE(names, (QList<QByteArray>{"lr", "name"}));
    QCOMPARE(values, (QList<QByteArray>{"", "value%41"}));
    QCOMPARE(msg.body().size(), qsizetype(140));
}

// §3.1.1.4: %00 in user parts must not shorten the user when decoded; the two Contacts
// are distinct.
void TestTorture::escnull() {
    SB_LOAD_VALID(msg, "escnull.sip");
    Result<NameAddr> to = msg.to();
    QVERIFY2(to, qPrintable(describe(to)));
    QCOMPARE(bytes(to->uri.user), QByteArray("null-%00-null"));
    QCOMPARE(percentDecode(to->uri.user), QByteArray("null-\0-null", 11));
    Result<NameAddr> from = msg.from();
    QVERIFY2(from, qPrintable(describe(from)));
    QCOMPARE(bytes(from->tag()), QByteArray("4711null"));

    Result<Message::Contacts> contacts = msg.contacts();
    QVERIFY2(contacts, qPrintable(describe(contacts)));
    QCOMPARE(contacts->entries.size(), std::size_t(2));
    const Uri& first = contacts->entries[0].uri;
    const Uri& second = contacts->entries[1].uri;
    QCOMPARE(percentDecode(first.user), QByteArray("\0", 1));
    QCOMPARE(percentDecode(second.user), QByteArray("\0\0", 2));
    QVERIFY(!uriEquivalent(first, second));
    QCOMPARE(msg.count(HeaderId::Contact), 2);
    QCOMPARE(bytes(msg.header(HeaderId::ContentLength)), QByteArray("0"));  // "L:0"
}

// §3.1.1.5: % is not an escape in methods, display names, branch or header names.
void TestTorture::esc02() {
    SB_LOAD_VALID(msg, "esc02.sip");
    QCOMPARE(msg.method(), Method::Unknown);  // not REGISTER
    QCOMPARE(bytes(msg.methodName()), QByteArray("RE%47IST%45R"));
    Result<NameAddr> to = msg.to();
    QVERIFY2(to, qPrintable(describe(to)));
    QCOMPARE(to->displayName(), QStringLiteral("%Z%45"));
    Result<NameAddr> from = msg.from();
    QVERIFY2(from, qPrintable(describe(from)));
    QCOMPARE(from->displayName(), QStringLiteral("%Z%45"));
    Result<Via> via = msg.topVia();
    QVERIFY2(via, qPrintable(describe(via)));
    QCOMPARE(bytes(via->branch()), QByteArray("z9hG4bK209%fzsnel99"));
    Result<CSeq> cseq = msg.cseq();
    QVERIFY2(cseq, qPrintable(describe(cseq)));
    QCOMPARE(cseq->method, Method::Unknown);
    QCOMPARE(bytes(cseq->methodName), QByteArray("RE%47IST%45R"));

    // Two Contact values, not three: "C%6Fntact" is an unknown header.
    Result<Message::Contacts> contacts = msg.contacts();
    QVERIFY2(contacts, qPrintable(describe(contacts)));
    QCOMPARE(contacts->entries.size(), std::size_t(2));
    QCOMPARE(bytes(contacts->entries[0].uri.user), QByteArray("alias1"));
    QCOMPARE(bytes(contacts->entries[1].uri.user), QByteArray("alias3"));
    QCOMPARE(headerIdFromName("C%6Fntact"), HeaderId::Other);
    QCOMPARE(bytes(msg.header(QByteArrayView("C%6Fntact"))),
             QByteArray("<sip:alias2@host2.example.com>"));
}

// §3.1.1.6: no LWS between a token display name and '<'; RFC 4475 says accept it.
void TestTorture::lwsdisp() {
    SB_LOAD_VALID(msg, "lwsdisp.sip");
    Result<NameAddr> from = msg.from();
    QVERIFY2(from, qPrintable(describe(from)));
    QCOMPARE(from->displayName(), QStringLiteral("caller"));
    QVERIFY(from->angleBrackets);
    QCOMPARE(bytes(from->uri.user), QByteArray("caller"));
    QCOMPARE(bytes(from->uri.host), QByteArray("example.com"));
    QCOMPARE(bytes(from->tag()), QByteArray("9911"));
}

// §3.1.1.7: long values everywhere and 34 Vias with every spelling of the name.
// About 3.5 KB: well inside the 64 KiB and 8 KiB-per-line limits.
void TestTorture::longreq() {
    SB_LOAD_VALID(msg, "longreq.sip");
    const QByteArray longUser = QByteArray("amazinglylongcallername").repeated(5);

    Result<NameAddr> to = msg.to();
    QVERIFY2(to, qPrintable(describe(to)));
    QCOMPARE(to->displayName(), QStringLiteral("Reception desk of an ") +
                                    QStringLiteral("extreme").repeated(12) +
                                    QStringLiteral(" size"));
    QCOMPARE(to->uri.port, std::optional<quint16>(6000));
    QCOMPARE(bytes(to->uri.params.value("unknownparam1").value_or("<absent>")),
             "very" + QByteArray("long").repeated(22) + "value");
    QCOMPARE(bytes(to->uri.params.value("longparam" + QByteArray("name").repeated(24))
                       .value_or("<absent>")),
             QByteArray("shortvalue"));
    QVERIFY(
        to->uri.params.has("very" + QByteArray("long").repeated(24) + "ParameterNameWithNoValue"));
    QVERIFY(to->params.isEmpty());

    Result<NameAddr> from = msg.from();  // "F:" without angle brackets
    QVERIFY2(from, qPrintable(describe(from)));
    QCOMPARE(bytes(from->uri.user), longUser);
    QCOMPARE(bytes(from->tag()), QByteArray("1298").repeated(40) + "424");
    QCOMPARE(bytes(from->params.value("unknownheaderparam" + QByteArray("name").repeated(20))
                       .value_or("<absent>")),
             "unknownheaderparam" + QByteArray("value").repeated(15));
    QVERIFY(from->params.has("unknownValueless" + QByteArray("paramname").repeated(10)));

    QCOMPARE(bytes(msg.callId()), "longreq.one" + QByteArray("really").repeated(20) + "longcallid");
    const QByteArray longName = "Unknown-" + QByteArray("Long").repeated(20) + "-Name";
    QVERIFY(msg.header(QByteArrayView(longName)).startsWith("unknown-longlong"));
    QVERIFY(msg.header(QByteArrayView(longName)).endsWith("-parameter-value"));

    Result<std::vector<Via>> vias = msg.vias();
    QVERIFY2(vias, qPrintable(describe(vias)));
    QCOMPARE(vias->size(), std::size_t(34));
    for (int i = 0; i < 33; ++i) {
        const QByteArray host = "relay" + QByteArray::number(33 - i) + ".example.com";
        QCOMPARE(bytes((*vias)[i].host), host);
        QCOMPARE(bytes((*vias)[i].transport), QByteArray("TCP"));
    }
    const Via& last = vias->back();
    QCOMPARE(bytes(last.host), QByteArray("host.example.com"));
    QCOMPARE(bytes(last.received().value_or("<absent>")), QByteArray("192.0.2.5"));
    QCOMPARE(bytes(last.branch()), "very" + QByteArray("long").repeated(48) + "branchvalue");
    QVERIFY(!last.hasMagicCookie());
    QCOMPARE(msg.maxForwards(), std::optional<quint32>(70));

    Result<Message::Contacts> contacts = msg.contacts();
    QVERIFY2(contacts, qPrintable(describe(contacts)));
    QCOMPARE(bytes(contacts->entries.front().uri.user), longUser);
    QCOMPARE(msg.body().size(), qsizetype(140));
}

// §3.1.1.8: a datagram with a REGISTER (Content-Length 0) followed by bytes that look
// like an INVITE: those bytes are noise (RFC 3261 §18.3) and must not survive.
void TestTorture::dblreq() {
    SB_LOAD_VALID(msg, "dblreq.sip");
    QCOMPARE(msg.method(), Method::Register);
    QCOMPARE(bytes(msg.callId()), QByteArray("dblreq.0ha0isndaksdj99sdfafnl3lk233412"));
    QVERIFY(msg.body().isEmpty());
    QCOMPARE(msg.count(HeaderId::CSeq), 1);
    QVERIFY(!msg.header(HeaderId::CallId).contains("second"));
    Result<Message::Contacts> contacts = msg.contacts();
    QVERIFY2(contacts, qPrintable(describe(contacts)));
    QCOMPARE(contacts->entries.size(), std::size_t(1));
    QCOMPARE(bytes(contacts->entries.front().uri.host), QByteArray("host.example.com"));
    const QByteArray forwarded = msg.serialize();
    QVERIFY2(!forwarded.contains("INVITE sip:joe@example.com"), forwarded.constData());
    QVERIFY(!forwarded.contains("dblreq.second"));
    QVERIFY(forwarded.endsWith("\r\n\r\n"));
}

// §3.1.1.9: a ';' inside the user part; the user is "desk;par=u%40example.net".
void TestTorture::semiuri() {
    SB_LOAD_VALID(msg, "semiuri.sip");
    Result<Uri> ruri = Uri::parse(msg.requestUri());
    QVERIFY2(ruri, qPrintable(describe(ruri)));
    QCOMPARE(bytes(ruri->user), QByteArray("desk;par=u%40example.net"));
    QCOMPARE(percentDecode(ruri->user), QByteArray("desk;par=u@example.net"));
    QCOMPARE(bytes(ruri->host), QByteArray("example.com"));
    QVERIFY(ruri->params.isEmpty());
    QVERIFY(!ruri->params.has("par"));

    // Accept: a folded list of six values.
    const ValueList accepts = msg.values(HeaderId::Accept);
    QCOMPARE(accepts.size(), qsizetype(6));
    QCOMPARE(bytes(accepts[0]), QByteArray("application/sdp"));
    QCOMPARE(bytes(accepts[2]), QByteArray("multipart/mixed"));
    QCOMPARE(bytes(accepts[5]), QByteArray("message/sipfrag"));
}

// §3.1.1.10: every transport token, including one nobody knows.
void TestTorture::transports() {
    SB_LOAD_VALID(msg, "transports.sip");
    Result<std::vector<Via>> vias = msg.vias();
    QVERIFY2(vias, qPrintable(describe(vias)));
    QCOMPARE(vias->size(), std::size_t(5));
    const QByteArray expected[] = {"UDP", "SCTP", "TLS", "UNKNOWN", "TCP"};
    for (int i = 0; i < 5; ++i) {
        QCOMPARE(bytes((*vias)[i].transport), expected[i]);
        QCOMPARE(bytes((*vias)[i].host), "t" + QByteArray::number(i + 1) + ".example.com");
        QCOMPARE(bytes((*vias)[i].branch()), "z9hG4bKt" + QByteArray::number(i + 1));
    }
    QCOMPARE(bytes(msg.callId()), QByteArray("transports.kijh4akdnaqjkwendsasfdj"));
}

// §3.1.1.11: a multipart body whose second part is binary with NUL bytes; framing goes
// by Content-Length only.
void TestTorture::mpart01() {
    SB_LOAD_VALID(msg, "mpart01.sip");
    QCOMPARE(msg.method(), Method::Message);
    const std::optional<quint32> length = parseUnsigned(msg.header(HeaderId::ContentLength));
    QVERIFY(length.has_value());
    QCOMPARE(msg.body().size(), qsizetype(*length));
    QVERIFY(msg.body().contains('\0'));
    QVERIFY(msg.body().startsWith("--5b7a0c1e2f3d4a59\r\n"));
    QVERIFY(msg.body().endsWith("--5b7a0c1e2f3d4a59--\r\n"));
    QCOMPARE(msg.body().size(), msgWire.size() - (msgWire.indexOf("\r\n\r\n") + 4));

    QVERIFY(msg.header(HeaderId::ContentType).startsWith("multipart/mixed"));
    QCOMPARE(bytes(msg.header(HeaderId::Date)), QByteArray("Sat, 15 Oct 2005 04:44:56 GMT"));
    QCOMPARE(msg.values(HeaderId::Date).size(), qsizetype(1));  // not a list despite its comma
    QVERIFY(msg.header(QByteArrayView("Identity")).startsWith("c2lnbmF0dXJl"));

    Result<Via> via = msg.topVia();
    QVERIFY2(via, qPrintable(describe(via)));
    QCOMPARE(via->port, std::optional<quint16>(5070));
    QVERIFY(via->hasRport());
    QVERIFY(!via->rport().has_value());
    QCOMPARE(bytes(via->branch()), QByteArray("z9hG4bK-d87543-4dade06d0bdb11ee-1--d87543-"));

    Result<std::vector<NameAddr>> routes = msg.nameAddrs(HeaderId::Route);
    QVERIFY2(routes, qPrintable(describe(routes)));
    QCOMPARE(bytes(routes->front().uri.host), QByteArray("127.0.0.1"));
    QCOMPARE(routes->front().uri.port, std::optional<quint16>(5080));
}

// §3.1.1.12: a reason phrase with UTF-8 and reserved characters.
void TestTorture::unreason() {
    SB_LOAD_VALID(msg, "unreason.sip");
    QVERIFY(msg.isResponse());
    QCOMPARE(msg.statusCode(), 200);
    QCOMPARE(QString::fromUtf8(msg.reasonPhrase()),
             QString::fromUtf8("= 2**3 * 5**2 но сто девяносто девять - простое"));
    QCOMPARE(msg.body().size(), qsizetype(140));
    Result<NameAddr> to = msg.to();
    QVERIFY2(to, qPrintable(describe(to)));
    QCOMPARE(bytes(to->tag()), QByteArray("2229"));
}

// §3.1.1.13: "SIP/2.0 100 " - an empty reason phrase after the required SP.
void TestTorture::noreason() {
    SB_LOAD_VALID(msg, "noreason.sip");
    QCOMPARE(msg.statusCode(), 100);
    QVERIFY(msg.reasonPhrase().isEmpty());
    QCOMPARE(bytes(msg.sipVersion()), QByteArray("SIP/2.0"));
}

// §3.1.1.13 continued: without the SP the message "could be rejected as invalid (a
// liberal receiver would accept it anyway)". Either way, no garbage reason.
void TestTorture::noreasonWithoutSpace() {
    QByteArray wire = fixture(QStringLiteral("noreason.sip"));
    QVERIFY(!wire.isEmpty());
    wire.replace("SIP/2.0 100 \r\n", "SIP/2.0 100\r\n");
    Result<Message> parsed = Parser::parse(wire);
    if (!parsed) {
        QVERIFY(!parsed.error().reason.isEmpty());
        return;
    }
    QCOMPARE(parsed->statusCode(), 100);
    QVERIFY(parsed->reasonPhrase().isEmpty());
}

// §3.1.2.1: empty Via and Contact parameters and empty Via list elements → 400.
void TestTorture::badinv01() {
    SB_LOAD_REJECTED(rej, wire, "badinv01.sip");
    QVERIFY2(rej.stage == Rejection::Stage::Validate, stageName(rej.stage));
    QCOMPARE(rej.error.sipStatus, 400);
    QVERIFY2(offsetOnLine(wire, "Via:", rej.error.offset), qPrintable(offsetInfo(wire, rej.error)));
    // The Contact's ";;;;" is refused by its accessor too.
    Result<Message> msg = Parser::parse(wire);
    QVERIFY(msg);
    QVERIFY(!msg->vias());
    QVERIFY(!msg->contacts());
}

// §3.1.2.2: Content-Length larger than the datagram → 400 (UDP).
void TestTorture::clerr() {
    SB_LOAD_REJECTED(rej, wire, "clerr.sip");
    QVERIFY2(rej.stage == Rejection::Stage::Parser, stageName(rej.stage));
    QCOMPARE(rej.error.sipStatus, 400);
    const qsizetype bodyStart = wire.indexOf("\r\n\r\n") + 4;
    QVERIFY2(
        offsetOnLine(wire, "Content-Length:", rej.error.offset) || rej.error.offset >= bodyStart,
        qPrintable(offsetInfo(wire, rej.error)));
}

// §3.1.2.3: a negative Content-Length is refused and never used as a length.
void TestTorture::ncl() {
    SB_LOAD_REJECTED(rej, wire, "ncl.sip");
    QVERIFY2(rej.stage == Rejection::Stage::Parser, stageName(rej.stage));
    QCOMPARE(rej.error.sipStatus, 400);
    QVERIFY2(offsetOnLine(wire, "Content-Length:", rej.error.offset),
             qPrintable(offsetInfo(wire, rej.error)));
}

// §3.1.2.3 continued: "Content-Length: five" is refused the same way.
void TestTorture::nclNotNumeric() {
    QByteArray wire = fixture(QStringLiteral("ncl.sip"));
    QVERIFY(!wire.isEmpty());
    wire.replace("Content-Length: -999", "Content-Length: five");
    Result<Message> parsed = Parser::parse(wire);
    QVERIFY2(!parsed, "Content-Length: five was accepted");
    QCOMPARE(parsed.error().sipStatus, 400);
    QVERIFY(offsetOnLine(wire, "Content-Length:", parsed.error().offset));
}

// §3.1.2.4: CSeq > 2**32-1 → 400; out-of-range Expires values read as absent/invalid.
void TestTorture::scalar02() {
    SB_LOAD_REJECTED(rej, wire, "scalar02.sip");
    QVERIFY2(rej.stage == Rejection::Stage::Validate, stageName(rej.stage));
    QCOMPARE(rej.error.sipStatus, 400);
    QVERIFY2(rej.error.reason.contains(QLatin1String("CSeq"), Qt::CaseInsensitive),
             qPrintable(rej.error.reason));
    QVERIFY2(offsetOnLine(wire, "CSeq:", rej.error.offset),
             qPrintable(offsetInfo(wire, rej.error)));
    Result<Message> msg = Parser::parse(wire);
    QVERIFY(msg);
    QVERIFY(!msg->cseq());
    QVERIFY(!msg->expires().has_value());  // 1 followed by 100 zeros
    Result<Message::Contacts> contacts = msg->contacts();
    QVERIFY2(contacts, qPrintable(describe(contacts)));
    const auto expires = contacts->entries.front().params.value("expires");
    QCOMPARE(bytes(expires.value_or("<absent>")), QByteArray("280297596632815"));
    QVERIFY(!parseUnsigned(*expires).has_value());
}

// §3.1.2.5: a response with CSeq > 2**32-1: the receiver discards it.
void TestTorture::scalarlg() {
    SB_LOAD_REJECTED(rej, wire, "scalarlg.sip");
    QVERIFY2(rej.error.reason.contains(QLatin1String("CSeq"), Qt::CaseInsensitive),
             qPrintable(rej.error.reason));
    Result<Message> msg = Parser::parse(wire);
    if (msg) {
        QVERIFY(msg->isResponse());
        QVERIFY(!msg->cseq());
        QVERIFY(!parseUnsigned(msg->header(HeaderId::RetryAfter)).has_value());
    }
}

// §3.1.2.6: unterminated quote in the To display name → 400.
void TestTorture::quotbal() {
    SB_LOAD_REJECTED(rej, wire, "quotbal.sip");
    QVERIFY2(rej.stage == Rejection::Stage::Validate, stageName(rej.stage));
    QCOMPARE(rej.error.sipStatus, 400);
    QVERIFY2(offsetOnLine(wire, "To:", rej.error.offset), qPrintable(offsetInfo(wire, rej.error)));
    Result<Message> msg = Parser::parse(wire);
    QVERIFY(msg);
    QVERIFY(!msg->to());
}

// §3.1.2.7: Request-URI in angle brackets: "reasonable always to reject ... with a 400".
// A liberal element may drop the brackets, but must not keep them in what it sends.
void TestTorture::ltgtruri() {
    const QByteArray wire = fixture(QStringLiteral("ltgtruri.sip"));
    QVERIFY(!wire.isEmpty());
    const std::optional<Rejection> rej = rejectionOf(wire);
    if (rej) {
        QCOMPARE(rej->error.sipStatus, 400);
        QVERIFY(!rej->error.reason.isEmpty());
        QVERIFY2(rej->error.offset < wire.indexOf("\r\n"),
                 qPrintable(offsetInfo(wire, rej->error)));
        return;
    }
    Result<Message> msg = Parser::parse(wire);
    QCOMPARE(bytes(msg->requestUri()), QByteArray("sip:desk@example.com"));
    QVERIFY(!msg->serialize().startsWith("INVITE <"));
}

// §3.1.2.8: LWS inside the Request-URI → 400.
void TestTorture::lwsruri() {
    SB_LOAD_REJECTED(rej, wire, "lwsruri.sip");
    QCOMPARE(rej.error.sipStatus, 400);
    QVERIFY2(rej.error.offset >= 0 && rej.error.offset < wire.indexOf("\r\n"),
             qPrintable(offsetInfo(wire, rej.error)));
}

// §3.1.2.9: several SPs between the start-line elements: reject, or accept and never
// forward the extra spaces.
void TestTorture::lwsstart() {
    const QByteArray wire = fixture(QStringLiteral("lwsstart.sip"));
    QVERIFY(!wire.isEmpty());
    const std::optional<Rejection> rej = rejectionOf(wire);
    if (rej) {
        QCOMPARE(rej->error.sipStatus, 400);
        QVERIFY(!rej->error.reason.isEmpty());
        return;
    }
    Result<Message> msg = Parser::parse(wire);
    QCOMPARE(msg->method(), Method::Invite);
    QCOMPARE(bytes(msg->requestUri()), QByteArray("sip:desk@example.com"));
    QCOMPARE(bytes(msg->sipVersion()), QByteArray("SIP/2.0"));
    QVERIFY(msg->serialize().startsWith("INVITE sip:desk@example.com SIP/2.0\r\n"));
}

// §3.1.2.10: trailing SP after the version: reject, or accept and drop it.
void TestTorture::trws() {
    const QByteArray wire = fixture(QStringLiteral("trws.sip"));
    QVERIFY(!wire.isEmpty());
    const std::optional<Rejection> rej = rejectionOf(wire);
    if (rej) {
        QCOMPARE(rej->error.sipStatus, 400);
        QVERIFY(!rej->error.reason.isEmpty());
        return;
    }
    Result<Message> msg = Parser::parse(wire);
    QCOMPARE(bytes(msg->sipVersion()), QByteArray("SIP/2.0"));
    QCOMPARE(bytes(msg->requestUri()), QByteArray("sip:remote-target@example.com"));
    QVERIFY(msg->serialize().startsWith("OPTIONS sip:remote-target@example.com SIP/2.0\r\n"));
}

// §3.1.2.11: escaped headers in the Request-URI: reject with 400, or accept; the URI
// parser sees them as headers either way, never as real header fields.
void TestTorture::escruri() {
    const QByteArray wire = fixture(QStringLiteral("escruri.sip"));
    QVERIFY(!wire.isEmpty());
    const std::optional<Rejection> rej = rejectionOf(wire);
    if (rej) {
        QCOMPARE(rej->error.sipStatus, 400);
        QVERIFY(!rej->error.reason.isEmpty());
        return;
    }
    Result<Message> msg = Parser::parse(wire);
    Result<Uri> ruri = Uri::parse(msg->requestUri());
    QVERIFY2(ruri, qPrintable(describe(ruri)));
    QCOMPARE(bytes(ruri->host), QByteArray("example.com"));
    QCOMPARE(bytes(ruri->headers), QByteArray("Route=%3Csip:example.com%3E"));
    QVERIFY(!msg->has(HeaderId::Route));
}

// §3.1.2.12: a non-GMT Date. We do not use Date, so we are liberal and ignore it.
void TestTorture::baddate() {
    SB_LOAD_VALID(msg, "baddate.sip");
    QCOMPARE(bytes(msg.header(HeaderId::Date)), QByteArray("Fri, 01 Jan 2010 16:00:00 EST"));
}

// §3.1.2.13: a Contact addr-spec with escaped headers but no angle brackets: 400 is
// reasonable; a liberal element may infer the brackets.
void TestTorture::regbadct() {
    const QByteArray wire = fixture(QStringLiteral("regbadct.sip"));
    QVERIFY(!wire.isEmpty());
    Result<Message> msg = Parser::parse(wire);
    QVERIFY2(msg, qPrintable(describe(msg)));
    Result<Message::Contacts> contacts = msg->contacts();
    if (!contacts) {
        QVERIFY(!contacts.error().reason.isEmpty());
        return;
    }
    QCOMPARE(contacts->entries.size(), std::size_t(1));
    QCOMPARE(bytes(contacts->entries.front().uri.host), QByteArray("example.com"));
    QCOMPARE(bytes(contacts->entries.front().uri.headers),
             QByteArray("Route=%3Csip:sip.example.com%3E"));
}

// §3.1.2.14: spaces inside <...> around the addr-spec: the parser must not break; 400
// is reasonable, liberal elements ignore the spaces.
void TestTorture::badaspec() {
    const QByteArray wire = fixture(QStringLiteral("badaspec.sip"));
    QVERIFY(!wire.isEmpty());
    const std::optional<Rejection> rej = rejectionOf(wire);
    if (rej) {
        QCOMPARE(rej->error.sipStatus, 400);
        QVERIFY(offsetOnLine(wire, "To:", rej->error.offset));
        return;
    }
    Result<Message> msg = Parser::parse(wire);
    Result<NameAddr> to = msg->to();
    QVERIFY2(to, qPrintable(describe(to)));
    QCOMPARE(to->displayName(), QStringLiteral("Watson, Thomas"));
    QCOMPARE(bytes(to->uri.user), QByteArray("t.watson"));
    QCOMPARE(bytes(to->uri.host), QByteArray("example.org"));
}

// §3.1.2.15: unquoted display names with non-token characters (a comma): "reasonable
// always to reject" with 400; a liberal element infers the quotes.
void TestTorture::baddn() {
    const QByteArray wire = fixture(QStringLiteral("baddn.sip"));
    QVERIFY(!wire.isEmpty());
    const std::optional<Rejection> rej = rejectionOf(wire);
    if (rej) {
        QCOMPARE(rej->error.sipStatus, 400);
        QVERIFY2(offsetOnLine(wire, "From:", rej->error.offset) ||
                     offsetOnLine(wire, "To:", rej->error.offset),
                 qPrintable(offsetInfo(wire, rej->error)));
        return;
    }
    Result<Message> msg = Parser::parse(wire);
    QCOMPARE(msg->from()->displayName(), QStringLiteral("Bell, Alexander"));
    QCOMPARE(bytes(msg->from()->tag()), QByteArray("43"));
    QCOMPARE(msg->to()->displayName(), QStringLiteral("Watson, Thomas"));
}

// §3.1.2.16: SIP/7.0 → 505 Version Not Supported.
void TestTorture::badvers() {
    SB_LOAD_REJECTED(rej, wire, "badvers.sip");
    QCOMPARE(rej.error.sipStatus, 505);
    QVERIFY2(rej.error.offset >= 0 && rej.error.offset <= wire.indexOf("\r\n"),
             qPrintable(offsetInfo(wire, rej.error)));
}

// §3.1.2.17: CSeq method differs from the request method → 400.
void TestTorture::mismatch01() {
    SB_LOAD_REJECTED(rej, wire, "mismatch01.sip");
    QVERIFY2(rej.stage == Rejection::Stage::Validate, stageName(rej.stage));
    QCOMPARE(rej.error.sipStatus, 400);
    QVERIFY2(rej.error.reason.contains(QLatin1String("CSeq"), Qt::CaseInsensitive),
             qPrintable(rej.error.reason));
    QVERIFY2(offsetOnLine(wire, "CSeq:", rej.error.offset),
             qPrintable(offsetInfo(wire, rej.error)));
}

// §3.1.2.18: unknown method with a mismatching CSeq: 501 preferred, 400 acceptable.
void TestTorture::mismatch02() {
    SB_LOAD_REJECTED(rej, wire, "mismatch02.sip");
    QVERIFY2(rej.error.sipStatus == 400 || rej.error.sipStatus == 501,
             qPrintable(QString::number(rej.error.sipStatus)));
    Result<Message> msg = Parser::parse(wire);
    QVERIFY(msg);
    QCOMPARE(msg->method(), Method::Unknown);
    QCOMPARE(bytes(msg->methodName()), QByteArray("NEWMETHOD"));
}

// §3.1.2.19: status code 4294967301: drop the response.
void TestTorture::bigcode() {
    SB_LOAD_REJECTED(rej, wire, "bigcode.sip");
    QVERIFY2(rej.stage == Rejection::Stage::Parser, stageName(rej.stage));
    QVERIFY2(rej.error.offset >= 0 && rej.error.offset <= wire.indexOf("\r\n"),
             qPrintable(offsetInfo(wire, rej.error)));
}

// §3.2.1: "z9hG4bK" and nothing else: syntactically valid; the parser must not break.
void TestTorture::badbranch() {
    SB_LOAD_VALID(msg, "badbranch.sip");
    Result<Via> via = msg.topVia();
    QVERIFY2(via, qPrintable(describe(via)));
    QCOMPARE(bytes(via->branch()), QByteArray("z9hG4bK"));
    QVERIFY(via->hasMagicCookie());
}

// §3.3.1: To, From, Call-ID (and Max-Forwards) missing → 400.
void TestTorture::insuf() {
    SB_LOAD_REJECTED(rej, wire, "insuf.sip");
    QVERIFY2(rej.stage == Rejection::Stage::Validate, stageName(rej.stage));
    QCOMPARE(rej.error.sipStatus, 400);
    const QString& reason = rej.error.reason;
    QVERIFY2(reason.contains(QLatin1String("To"), Qt::CaseInsensitive) ||
                 reason.contains(QLatin1String("From"), Qt::CaseInsensitive) ||
                 reason.contains(QLatin1String("Call-ID"), Qt::CaseInsensitive),
             qPrintable(reason));
}

// §3.3.2: an unknown Request-URI scheme is well-formed SIP (the application answers 416).
void TestTorture::unkscm() {
    SB_LOAD_VALID(msg, "unkscm.sip");
    Result<Uri> ruri = Uri::parse(msg.requestUri());
    QVERIFY2(ruri, qPrintable(describe(ruri)));
    QCOMPARE(ruri->scheme, UriScheme::Other);
    QCOMPARE(bytes(ruri->schemeText), QByteArray("nobodyKnowsThisScheme"));
    QCOMPARE(bytes(ruri->text), QByteArray("nobodyKnowsThisScheme:totallyopaquecontent"));
}

// §3.3.3: a novel scheme with '.' in its name.
void TestTorture::novelsc() {
    SB_LOAD_VALID(msg, "novelsc.sip");
    Result<Uri> ruri = Uri::parse(msg.requestUri());
    QVERIFY2(ruri, qPrintable(describe(ruri)));
    QCOMPARE(ruri->scheme, UriScheme::Other);
    QCOMPARE(bytes(ruri->schemeText), QByteArray("soap.beep"));
}

// §3.3.4: unknown schemes in To, From and Contact: well-formed (a registrar says 416).
void TestTorture::unksm2() {
    SB_LOAD_VALID(msg, "unksm2.sip");
    Result<NameAddr> to = msg.to();
    QVERIFY2(to, qPrintable(describe(to)));
    QCOMPARE(to->uri.scheme, UriScheme::Other);
    QCOMPARE(bytes(to->uri.schemeText), QByteArray("isbn"));
    QCOMPARE(bytes(to->uriText), QByteArray("isbn:2983792873"));
    Result<NameAddr> from = msg.from();
    QVERIFY2(from, qPrintable(describe(from)));
    QCOMPARE(bytes(from->uri.schemeText), QByteArray("http"));
    QCOMPARE(bytes(from->uriText), QByteArray("http://www.example.com"));
    QCOMPARE(bytes(from->tag()), QByteArray("3234233"));
    Result<Message::Contacts> contacts = msg.contacts();
    QVERIFY2(contacts, qPrintable(describe(contacts)));
    QCOMPARE(bytes(contacts->entries.front().uri.schemeText), QByteArray("name"));
}

// §3.3.5: unknown Require / Proxy-Require options: well-formed, the lists are visible.
void TestTorture::bext01() {
    SB_LOAD_VALID(msg, "bext01.sip");
    const ValueList require = msg.values(HeaderId::Require);
    QCOMPARE(require.size(), qsizetype(2));
    QCOMPARE(bytes(require[0]), QByteArray("nothingSupportsThis"));
    QCOMPARE(bytes(require[1]), QByteArray("nothingSupportsThisEither"));
    const ValueList proxyRequire = msg.values(HeaderId::ProxyRequire);
    QCOMPARE(proxyRequire.size(), qsizetype(2));
    QCOMPARE(bytes(proxyRequire[1]), QByteArray("norDoAnyProxiesSupportThis"));
    QCOMPARE(bytes(msg.topVia()->transport), QByteArray("TLS"));
}

// §3.3.6: an unknown body type: framing is fine (the application answers 415).
void TestTorture::invut() {
    SB_LOAD_VALID(msg, "invut.sip");
    QCOMPARE(bytes(msg.header(HeaderId::ContentType)), QByteArray("application/unknownformat"));
    QCOMPARE(bytes(msg.body()), QByteArray("<audio>\r\n <pcmu port=\"443\"/>\r\n</audio>\r\n"));
}

// §3.3.7: an Authorization with an unknown scheme: well-formed, one value (the
// authentication headers are not comma lists).
void TestTorture::regaut01() {
    SB_LOAD_VALID(msg, "regaut01.sip");
    QCOMPARE(bytes(msg.header(HeaderId::Authorization)),
             QByteArray("NoOneKnowsThisScheme opaque-data=here"));
    QCOMPARE(msg.values(HeaderId::Authorization).size(), qsizetype(1));
    QVERIFY(msg.body().isEmpty());  // "Content-Length:0"
}

// §3.3.8: several values in single-value fields (To, From, Call-ID, CSeq, Max-Forwards)
// → 400.
void TestTorture::multi01() {
    SB_LOAD_REJECTED(rej, wire, "multi01.sip");
    QVERIFY2(rej.stage == Rejection::Stage::Validate, stageName(rej.stage));
    QCOMPARE(rej.error.sipStatus, 400);
}

// §3.3.9: two different Content-Length values: the framing is unknowable → error.
void TestTorture::mcl01() {
    SB_LOAD_REJECTED(rej, wire, "mcl01.sip");
    QVERIFY2(rej.stage == Rejection::Stage::Parser, stageName(rej.stage));
    QCOMPARE(rej.error.sipStatus, 400);
    QVERIFY(findStreamFrame(wire).status == StreamFrame::Status::Invalid);
}

// §3.3.10: a 200 with a broadcast address in the second Via parses normally (where to
// send it is the transport's decision).
void TestTorture::bcast() {
    SB_LOAD_VALID(msg, "bcast.sip");
    Result<std::vector<Via>> vias = msg.vias();
    QVERIFY2(vias, qPrintable(describe(vias)));
    QCOMPARE(vias->size(), std::size_t(2));
    QCOMPARE(bytes((*vias)[1].host), QByteArray("255.255.255.255"));
}

// §3.3.11: Max-Forwards 0 is a value, not an absence.
void TestTorture::zeromf() {
    SB_LOAD_VALID(msg, "zeromf.sip");
    QCOMPARE(msg.maxForwards(), std::optional<quint32>(0));
}

// §3.3.12: without <>, ";unknownparam" is a Contact header parameter.
void TestTorture::cparam01() {
    SB_LOAD_VALID(msg, "cparam01.sip");
    Result<Message::Contacts> contacts = msg.contacts();
    QVERIFY2(contacts, qPrintable(describe(contacts)));
    const NameAddr& contact = contacts->entries.front();
    QVERIFY(!contact.angleBrackets);
    QCOMPARE(bytes(contact.uri.user), QByteArray("+19725552222"));
    QVERIFY(contact.uri.params.isEmpty());
    QVERIFY(contact.params.has("unknownparam"));
}

// §3.3.13: inside <>, ";unknownparam" belongs to the URI.
void TestTorture::cparam02() {
    SB_LOAD_VALID(msg, "cparam02.sip");
    Result<Message::Contacts> contacts = msg.contacts();
    QVERIFY2(contacts, qPrintable(describe(contacts)));
    const NameAddr& contact = contacts->entries.front();
    QVERIFY(contact.angleBrackets);
    QVERIFY(contact.uri.params.has("unknownparam"));
    QVERIFY(contact.params.isEmpty());
}

// §3.3.14: escaped headers in a bracketed Contact URI are legal.
void TestTorture::regescrt() {
    SB_LOAD_VALID(msg, "regescrt.sip");
    Result<Message::Contacts> contacts = msg.contacts();  // "M:"
    QVERIFY2(contacts, qPrintable(describe(contacts)));
    const Uri& uri = contacts->entries.front().uri;
    QCOMPARE(bytes(uri.host), QByteArray("example.com"));
    QCOMPARE(bytes(uri.headers), QByteArray("Route=%3Csip:sip.example.com%3E"));
    QCOMPARE(percentDecode(uri.headers), QByteArray("Route=<sip:sip.example.com>"));
}

// §3.3.15: Accept lists only an unknown type; the SDP body is still framed correctly.
void TestTorture::sdp01() {
    SB_LOAD_VALID(msg, "sdp01.sip");
    QCOMPARE(bytes(msg.header(HeaderId::Accept)), QByteArray("text/nobodyKnowsThis"));
    QCOMPARE(msg.body().size(), qsizetype(140));
}

// §3.4.1: an RFC 2543 INVITE: no branch, no From tag, no Max-Forwards, no
// Content-Length (over UDP the body is the rest of the datagram).
void TestTorture::inv2543() {
    SB_LOAD_VALID(msg, "inv2543.sip");
    QVERIFY(!msg.has(HeaderId::ContentLength));
    QVERIFY(!msg.maxForwards().has_value());
    QVERIFY(msg.body().startsWith("v=0\r\n"));
    QVERIFY(msg.body().endsWith("m=audio 49217 RTP/AVP 0\r\n"));
    Result<Via> via = msg.topVia();
    QVERIFY2(via, qPrintable(describe(via)));
    QVERIFY(via->branch().isEmpty());
    QVERIFY(!via->hasMagicCookie());
    Result<NameAddr> from = msg.from();
    QVERIFY2(from, qPrintable(describe(from)));
    QVERIFY(from->tag().isEmpty());
    QCOMPARE(bytes(from->uri.params.value("user").value_or("<absent>")), QByteArray("phone"));
    Result<NameAddr> to = msg.to();
    QVERIFY2(to, qPrintable(describe(to)));
    // Without <>, ";user=phone" is a header parameter of To (RFC 3261 §20.10).
    QCOMPARE(bytes(to->uri.user), QByteArray("+16505552222"));
    QVERIFY(to->params.has("user"));
    Result<std::vector<NameAddr>> rr = msg.nameAddrs(HeaderId::RecordRoute);
    QVERIFY2(rr, qPrintable(describe(rr)));
    QCOMPARE(bytes(rr->front().uri.params.value("maddr").value_or("<absent>")),
             QByteArray("ss1.example.com"));
}

void TestTorture::validRoundTrip_data() {
    QTest::addColumn<QString>("name");
    for (const char* name :
         {"wsinv.sip",   "intmeth.sip",  "esc01.sip",    "escnull.sip",   "esc02.sip",
          "lwsdisp.sip", "longreq.sip",  "dblreq.sip",   "semiuri.sip",   "transports.sip",
          "mpart01.sip", "unreason.sip", "noreason.sip", "badbranch.sip", "unkscm.sip",
          "novelsc.sip", "unksm2.sip",   "bext01.sip",   "invut.sip",     "regaut01.sip",
          "bcast.sip",   "zeromf.sip",   "cparam01.sip", "cparam02.sip",  "regescrt.sip",
          "sdp01.sip",   "inv2543.sip",  "baddate.sip"}) {
        QTest::newRow(name) << QString::fromLatin1(name);
    }
}

// serialize() of a parsed message parses again to the same start line, the same fields
// in the same order with the same names, the same values and the same body.
void TestTorture::validRoundTrip() {
    QFETCH(QString, name);
    const QByteArray wire = fixture(name);
    QVERIFY(!wire.isEmpty());
    Result<Message> first = Parser::parse(wire);
    QVERIFY2(first, qPrintable(describe(first)));
    const QByteArray out = first->serialize();
    Result<Message> second = Parser::parse(out);
    QVERIFY2(second, qPrintable(describe(second) + QLatin1String("\n") + QString::fromUtf8(out)));
    QVERIFY2(second->validate(), qPrintable(describe(second->validate())));

    QCOMPARE(second->isRequest(), first->isRequest());
    QCOMPARE(bytes(second->methodName()), bytes(first->methodName()));
    QCOMPARE(bytes(second->requestUri()), bytes(first->requestUri()));
    QCOMPARE(second->statusCode(), first->statusCode());
    QCOMPARE(bytes(second->reasonPhrase()), bytes(first->reasonPhrase()));
    QCOMPARE(bytes(second->body()), bytes(first->body()));

    // Content-Length is always written (it may be added where it was missing).
    auto withoutLength = [](const Message& m) {
        QList<QPair<QByteArray, QByteArray>> fields;
        for (const HeaderField& f : m.headers()) {
            if (f.id == HeaderId::ContentLength) continue;
            fields.append({f.name.toByteArray(), f.value.toByteArray()});
        }
        return fields;
    };
    QCOMPARE(withoutLength(*second), withoutLength(*first));
    const std::optional<quint32> length = parseUnsigned(second->header(HeaderId::ContentLength));
    QVERIFY(length.has_value());
    QCOMPARE(qsizetype(*length), first->body().size());
    // And a second round changes nothing more.
    QCOMPARE(second->serialize(), out);
}

QTEST_GUILESS_MAIN(TestTorture)
#include "tst_torture.moc"
