// Real messages, captured byte-exact with `sipp -trace_msg` on 127.0.0.1: sipp 3.6.1's
// built-in uac/uas scenarios (INVITE, 180, 200, ACK, BYE, 200) and a sipp client against
// Kamailio 5.6.3 (registrar + auth_db, presence + presence_dialoginfo): REGISTER, the
// 401 challenge, REGISTER with credentials, 200, PUBLISH dialog-info, SUBSCRIBE, 200 and
// the NOTIFY with the dialog-info document.

#include <QTest>

#include "sip/message.h"
#include "sip/parser.h"
#include "sip_test_util.h"

using namespace sb;
using namespace sb::sip;
using namespace sb::sip::test;

namespace {

const char* const kCaptured[] = {
    "captured-sipp-uac-invite.sip",        "captured-sipp-uas-180.sip",
    "captured-sipp-uas-200-invite.sip",    "captured-sipp-uac-ack.sip",
    "captured-sipp-uac-bye.sip",           "captured-sipp-uas-200-bye.sip",
    "captured-sipp-register.sip",          "captured-kamailio-401-register.sip",
    "captured-sipp-register-auth.sip",     "captured-kamailio-200-register.sip",
    "captured-sipp-publish.sip",           "captured-kamailio-200-publish.sip",
    "captured-sipp-subscribe.sip",         "captured-kamailio-200-subscribe.sip",
    "captured-kamailio-notify-dialog.sip", "captured-sipp-200-notify.sip",
};

}  // namespace

// Loads a captured message that must parse and validate.
#define SB_LOAD_CAPTURED(msg, name)                             \
    const QByteArray msg##Wire = fixture(QStringLiteral(name)); \
    QVERIFY2(!msg##Wire.isEmpty(), "missing fixture " name);    \
    Result<Message> msg##Parsed = Parser::parse(msg##Wire);     \
    QVERIFY2(msg##Parsed, qPrintable(describe(msg##Parsed)));   \
    const Message& msg = *msg##Parsed;                          \
    QVERIFY2(msg.validate(), qPrintable(describe(msg.validate())));

class TestCapturedMessages : public QObject {
    Q_OBJECT

private slots:
    void parseAndValidate_data();
    void parseAndValidate();
    void roundTrip_data();
    void roundTrip();
    void sippInvite();
    void sippRinging();
    void sippOkWithSdp();
    void sippAckAndBye();
    void kamailioChallenge();
    void sippRegisterWithCredentials();
    void kamailioRegisterOk();
    void sippPublish();
    void kamailioPublishOk();
    void sippSubscribe();
    void kamailioNotify();
    void responseMatchesSippAnswer();
};

void TestCapturedMessages::parseAndValidate_data() {
    QTest::addColumn<QString>("name");
    for (const char* name : kCaptured)
        QTest::newRow(name) << QString::fromLatin1(name);
}

void TestCapturedMessages::parseAndValidate() {
    QFETCH(QString, name);
    const QByteArray wire = fixture(name);
    QVERIFY(!wire.isEmpty());
    Result<Message> msg = Parser::parse(wire);
    QVERIFY2(msg, qPrintable(describe(msg)));
    QVERIFY2(msg->validate(), qPrintable(describe(msg->validate())));
    QVERIFY(msg->topVia());
    QVERIFY(msg->from());
    QVERIFY(msg->to());
    QVERIFY(msg->cseq());
    QVERIFY(!msg->callId().isEmpty());
    QVERIFY(msg->contacts());
    // Every captured message carries Content-Length and is exactly one message.
    const std::optional<quint32> length = parseUnsigned(msg->header(HeaderId::ContentLength));
    QVERIFY(length.has_value());
    QCOMPARE(msg->body().size(), qsizetype(*length));
    QCOMPARE(wire.indexOf("\r\n\r\n") + 4 + qsizetype(*length), wire.size());
}

void TestCapturedMessages::roundTrip_data() {
    parseAndValidate_data();
}

// serialize() keeps every field, name and value as captured; only the spacing of a
// Content-Length value ("Content-Length:   129" from sipp) may be normalised.
void TestCapturedMessages::roundTrip() {
    QFETCH(QString, name);
    const QByteArray wire = fixture(name);
    Result<Message> msg = Parser::parse(wire);
    QVERIFY2(msg, qPrintable(describe(msg)));
    const QByteArray out = msg->serialize();
    QByteArray normalised = wire;
    normalised.replace("Content-Length:   ", "Content-Length: ");
    QCOMPARE(out, normalised);
}

// sipp's uac INVITE: addr-spec Contact, SDP body, Subject.
void TestCapturedMessages::sippInvite() {
    SB_LOAD_CAPTURED(msg, "captured-sipp-uac-invite.sip");
    QCOMPARE(msg.method(), Method::Invite);
    QCOMPARE(bytes(msg.requestUri()), QByteArray("sip:service@127.0.0.1:25060"));
    Result<Via> via = msg.topVia();
    QVERIFY(via);
    QCOMPARE(bytes(via->host), QByteArray("127.0.0.1"));
    QCOMPARE(via->port, std::optional<quint16>(25061));
    QCOMPARE(bytes(via->branch()), QByteArray("z9hG4bK-15266-1-0"));
    QVERIFY(via->hasMagicCookie());
    Result<NameAddr> from = msg.from();
    QVERIFY(from);
    QCOMPARE(from->displayName(), QStringLiteral("sipp"));
    QCOMPARE(bytes(from->tag()), QByteArray("15266SIPpTag001"));
    QCOMPARE(from->uri.port, std::optional<quint16>(25061));
    Result<NameAddr> to = msg.to();
    QVERIFY(to);
    QCOMPARE(to->displayName(), QStringLiteral("service"));
    QVERIFY(to->tag().isEmpty());
    Result<Message::Contacts> contacts = msg.contacts();
    QVERIFY(contacts);
    QCOMPARE(contacts->entries.size(), std::size_t(1));
    QVERIFY(!contacts->entries.front().angleBrackets);
    QCOMPARE(bytes(contacts->entries.front().uri.hostPort()), QByteArray("127.0.0.1:25061"));
    QCOMPARE(msg.maxForwards(), std::optional<quint32>(70));
    QCOMPARE(bytes(msg.header(HeaderId::Subject)), QByteArray("Performance Test"));
    QCOMPARE(msg.cseq()->number, 1u);
    QCOMPARE(msg.body().size(), qsizetype(129));
    QVERIFY(msg.body().startsWith("v=0\r\no=user1 "));
}

// sipp's uas 180: a Contact with no user part and ;transport=UDP.
void TestCapturedMessages::sippRinging() {
    SB_LOAD_CAPTURED(msg, "captured-sipp-uas-180.sip");
    QCOMPARE(msg.statusCode(), 180);
    QCOMPARE(bytes(msg.reasonPhrase()), QByteArray("Ringing"));
    QCOMPARE(bytes(msg.to()->tag()), QByteArray("15252SIPpTag011"));
    Result<Message::Contacts> contacts = msg.contacts();
    QVERIFY(contacts);
    const Uri& uri = contacts->entries.front().uri;
    QVERIFY(uri.user.isEmpty());
    QCOMPARE(bytes(uri.host), QByteArray("127.0.0.1"));
    QCOMPARE(uri.port, std::optional<quint16>(25060));
    QCOMPARE(uri.transportParam(), QByteArray("udp"));
    QCOMPARE(msg.cseq()->method, Method::Invite);
    QVERIFY(msg.body().isEmpty());
}

void TestCapturedMessages::sippOkWithSdp() {
    SB_LOAD_CAPTURED(msg, "captured-sipp-uas-200-invite.sip");
    QCOMPARE(msg.statusCode(), 200);
    QCOMPARE(bytes(msg.header(HeaderId::ContentType)), QByteArray("application/sdp"));
    QCOMPARE(msg.body().size(), qsizetype(129));
    QVERIFY(msg.body().contains("m=audio 6000 RTP/AVP 0"));
}

void TestCapturedMessages::sippAckAndBye() {
    SB_LOAD_CAPTURED(ack, "captured-sipp-uac-ack.sip");
    QCOMPARE(ack.method(), Method::Ack);
    QCOMPARE(ack.cseq()->number, 1u);
    QCOMPARE(ack.cseq()->method, Method::Ack);
    QCOMPARE(bytes(ack.to()->tag()), QByteArray("15252SIPpTag011"));
    SB_LOAD_CAPTURED(bye, "captured-sipp-uac-bye.sip");
    QCOMPARE(bye.method(), Method::Bye);
    QCOMPARE(bye.cseq()->number, 2u);
    QCOMPARE(bytes(bye.callId()), bytes(ack.callId()));
    QVERIFY(bye.topVia()->branch() != ack.topVia()->branch());
    SB_LOAD_CAPTURED(ok, "captured-sipp-uas-200-bye.sip");
    QCOMPARE(ok.cseq()->method, Method::Bye);
}

// Kamailio's 401: the challenge is one value despite its commas; the Via comes back with
// received and a filled-in rport (RFC 3581).
void TestCapturedMessages::kamailioChallenge() {
    SB_LOAD_CAPTURED(msg, "captured-kamailio-401-register.sip");
    QCOMPARE(msg.statusCode(), 401);
    QCOMPARE(bytes(msg.reasonPhrase()), QByteArray("Unauthorized"));
    const ValueList challenges = msg.values(HeaderId::WwwAuthenticate);
    QCOMPARE(challenges.size(), qsizetype(1));
    QVERIFY(challenges[0].startsWith("Digest realm=\"example.com\", nonce=\""));
    Result<Via> via = msg.topVia();
    QVERIFY(via);
    QVERIFY(via->hasRport());
    QCOMPARE(via->rport(), std::optional<quint16>(25071));
    QCOMPARE(bytes(via->received().value_or("<absent>")), QByteArray("127.0.0.1"));
    QVERIFY(msg.to()->tag().startsWith("ad272b1d42da65d1eef78413d7f1874b."));
    QCOMPARE(msg.cseq()->method, Method::Register);
    QCOMPARE(bytes(msg.header(HeaderId::Server)), QByteArray("kamailio (5.6.3 (x86_64/linux))"));
}

void TestCapturedMessages::sippRegisterWithCredentials() {
    SB_LOAD_CAPTURED(msg, "captured-sipp-register-auth.sip");
    QCOMPARE(msg.method(), Method::Register);
    const ValueList credentials = msg.values(HeaderId::Authorization);
    QCOMPARE(credentials.size(), qsizetype(1));
    QVERIFY(credentials[0].startsWith("Digest username=\"desk\",realm=\"example.com\""));
    QVERIFY(credentials[0].endsWith("algorithm=MD5"));
    Result<Message::Contacts> contacts = msg.contacts();
    QVERIFY(contacts);
    QCOMPARE(bytes(contacts->entries.front().params.value("expires").value_or("<absent>")),
             QByteArray("3600"));
    QCOMPARE(msg.from()->displayName(), QStringLiteral("Front Desk"));
}

void TestCapturedMessages::kamailioRegisterOk() {
    SB_LOAD_CAPTURED(msg, "captured-kamailio-200-register.sip");
    QCOMPARE(msg.statusCode(), 200);
    Result<Message::Contacts> contacts = msg.contacts();
    QVERIFY(contacts);
    QCOMPARE(contacts->entries.size(), std::size_t(1));
    const NameAddr& binding = contacts->entries.front();
    QCOMPARE(bytes(binding.uri.user), QByteArray("desk"));
    QCOMPARE(binding.uri.port, std::optional<quint16>(25071));
    QCOMPARE(parseUnsigned(binding.params.value("expires").value_or("")),
             std::optional<quint32>(3600));
}

void TestCapturedMessages::sippPublish() {
    SB_LOAD_CAPTURED(msg, "captured-sipp-publish.sip");
    QCOMPARE(msg.method(), Method::Publish);
    Result<EventHeader> event = msg.event();
    QVERIFY(event);
    QCOMPARE(bytes(event->package), QByteArray("dialog"));
    QCOMPARE(msg.expires(), std::optional<quint32>(600));
    QCOMPARE(bytes(msg.header(HeaderId::ContentType)), QByteArray("application/dialog-info+xml"));
    QCOMPARE(msg.body().size(), qsizetype(478));
    QVERIFY(msg.body().startsWith("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<dialog-info"));
    QVERIFY(msg.sipIfMatch().isEmpty());
}

void TestCapturedMessages::kamailioPublishOk() {
    SB_LOAD_CAPTURED(msg, "captured-kamailio-200-publish.sip");
    QCOMPARE(msg.statusCode(), 200);
    QCOMPARE(bytes(msg.sipETag()), QByteArray("a.1795754514.15688.6.0"));
    QCOMPARE(msg.expires(), std::optional<quint32>(600));
    QCOMPARE(msg.cseq()->method, Method::Publish);
}

void TestCapturedMessages::sippSubscribe() {
    SB_LOAD_CAPTURED(msg, "captured-sipp-subscribe.sip");
    QCOMPARE(msg.method(), Method::Subscribe);
    QCOMPARE(bytes(msg.event()->package), QByteArray("dialog"));
    QVERIFY(msg.event()->id().isEmpty());
    QCOMPARE(msg.expires(), std::optional<quint32>(300));
    QCOMPARE(bytes(msg.header(HeaderId::Accept)), QByteArray("application/dialog-info+xml"));
    SB_LOAD_CAPTURED(ok, "captured-kamailio-200-subscribe.sip");
    QCOMPARE(ok.expires(), std::optional<quint32>(300));
    QCOMPARE(bytes(ok.contacts()->entries.front().uri.user), QByteArray("presence"));
}

// Kamailio's NOTIFY: Subscription-State, Event, and a body with bare LF line endings that
// must reach the application unchanged.
void TestCapturedMessages::kamailioNotify() {
    SB_LOAD_CAPTURED(msg, "captured-kamailio-notify-dialog.sip");
    QCOMPARE(msg.method(), Method::Notify);
    QCOMPARE(bytes(msg.requestUri()), QByteArray("sip:watcher@127.0.0.1:25071"));
    Result<SubscriptionStateHeader> state = msg.subscriptionState();
    QVERIFY2(state, qPrintable(describe(state)));
    QCOMPARE(bytes(state->state), QByteArray("active"));
    QCOMPARE(state->expires(), std::optional<quint32>(300));
    QVERIFY(state->reason().isEmpty());
    QCOMPARE(bytes(msg.event()->package), QByteArray("dialog"));
    QCOMPARE(msg.maxForwards(), std::optional<quint32>(70));
    Result<Via> via = msg.topVia();
    QVERIFY(via);
    QCOMPARE(bytes(via->branch()), QByteArray("z9hG4bK1efb.8381b265000000000000000000000000.0"));
    QCOMPARE(msg.cseq()->number, 2u);
    QCOMPARE(msg.body().size(), qsizetype(455));
    QVERIFY(!msg.body().contains('\r'));
    QVERIFY(msg.body().startsWith("<?xml version=\"1.0\"?>\n<dialog-info"));
    QVERIFY(msg.body().contains("<state>early</state>"));
    QVERIFY(msg.body().endsWith("</dialog-info>\n"));
    // The From tag here is the notifier's; the To tag is the subscriber's.
    QCOMPARE(bytes(msg.to()->tag()), QByteArray("15804sub1"));
}

// makeResponse builds the same answer sipp sent: Via, From, To, Call-ID, CSeq copied.
void TestCapturedMessages::responseMatchesSippAnswer() {
    SB_LOAD_CAPTURED(notify, "captured-kamailio-notify-dialog.sip");
    SB_LOAD_CAPTURED(sippOk, "captured-sipp-200-notify.sip");
    const Message built = makeResponse(notify, 200, "OK");
    Result<Message> ours = Parser::parse(built.serialize());
    QVERIFY2(ours, qPrintable(describe(ours)));
    QVERIFY2(ours->validate(), qPrintable(describe(ours->validate())));
    QCOMPARE(ours->statusCode(), 200);
    for (HeaderId id :
         {HeaderId::Via, HeaderId::From, HeaderId::To, HeaderId::CallId, HeaderId::CSeq}) {
        QCOMPARE(bytes(ours->header(id)), bytes(sippOk.header(id)));
    }
    QVERIFY(ours->body().isEmpty());
    QCOMPARE(bytes(ours->header(HeaderId::ContentLength)), QByteArray("0"));
}

QTEST_GUILESS_MAIN(TestCapturedMessages)
#include "tst_captured_messages.moc"
