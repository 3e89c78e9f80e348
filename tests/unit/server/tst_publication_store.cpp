// RFC 3903 event state compositor for the dialog package (core/server/publication_store.*):
// initial PUBLISH, refresh with a new entity-tag, modify, remove, the error responses of
// §6, partial documents, limits and expiry, and what the DialogStateStore receives.

#include <QRegularExpression>
#include <QSet>
#include <QTest>

#include <cctype>
#include <memory>
#include <optional>

#include "base/manual_clock.h"
#include "base/random.h"
#include "dialoginfo/dialog_info.h"
#include "server/dialog_state_store.h"
#include "server/local_domains.h"
#include "server/publication_store.h"
#include "sip/message.h"
#include "sip/parser.h"
#include "transport/transport.h"

using namespace sb;
using namespace std::chrono_literals;
using sip::HeaderId;

namespace {

const QString kUser = QStringLiteral("201");

// A PUBLISH as a test writes it; build() gives the parsed message as the transport
// hands it over.
struct Publish {
    QByteArray uri = "sip:201@switchboard.local";
    std::optional<QByteArray> event = QByteArray("dialog");
    std::optional<QByteArray> ifMatch;
    std::optional<QByteArray> expires;
    QByteArray contentType = "application/dialog-info+xml";
    QByteArray body;
};

int g_sequence = 0;

transport::IncomingMessage build(const Publish& p) {
    const int n = ++g_sequence;
    QByteArray text = "PUBLISH " + p.uri + " SIP/2.0\r\n";
    text += "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-pub" + QByteArray::number(n) + "\r\n";
    text += "Max-Forwards: 70\r\n";
    text += "From: <" + p.uri + ">;tag=from" + QByteArray::number(n) + "\r\n";
    text += "To: <" + p.uri + ">\r\n";
    text += "Call-ID: publish-" + QByteArray::number(n) + "@127.0.0.1\r\n";
    text += "CSeq: 1 PUBLISH\r\n";
    if (p.event) text += "Event: " + *p.event + "\r\n";
    if (p.ifMatch) text += "SIP-If-Match: " + *p.ifMatch + "\r\n";
    if (p.expires) text += "Expires: " + *p.expires + "\r\n";
    if (!p.body.isEmpty()) text += "Content-Type: " + p.contentType + "\r\n";
    text += "Content-Length: " + QByteArray::number(p.body.size()) + "\r\n\r\n";
    text += p.body;
    auto parsed = sip::Parser::parse(text);
    if (!parsed) qFatal("test PUBLISH does not parse: %s", qPrintable(parsed.error().reason));
    transport::IncomingMessage incoming;
    incoming.message = *parsed;
    incoming.source = {transport::Protocol::Udp, QHostAddress(QStringLiteral("127.0.0.1")), 5070};
    incoming.local = {transport::Protocol::Udp, QHostAddress(QStringLiteral("127.0.0.1")), 5060};
    return incoming;
}

struct DialogSpec {
    QByteArray id;
    QByteArray state;
};

// A dialog-info document in the shape Kamailio's pua_dialoginfo writes.
QByteArray document(const QList<DialogSpec>& dialogs, QByteArray state = "full",
                    QByteArray entity = "sip:201@switchboard.local") {
    QByteArray xml =
        "<?xml version=\"1.0\"?>\n"
        "<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" version=\"1\" "
        "state=\"" +
        state + "\" entity=\"" + entity + "\">\n";
    for (const DialogSpec& d : dialogs) {
        xml += "  <dialog id=\"" + d.id + "\" call-id=\"call-" + d.id +
               "@127.0.0.1\" local-tag=\"lt\" remote-tag=\"rt\" direction=\"initiator\">\n";
        xml += "    <state>" + d.state + "</state>\n";
        xml += "    <local><identity>" + entity + "</identity></local>\n";
        xml += "    <remote><identity>sip:202@switchboard.local</identity></remote>\n";
        xml += "  </dialog>\n";
    }
    xml += "</dialog-info>\n";
    return xml;
}

QStringList ids(const std::vector<dialoginfo::DialogInfo>& dialogs) {
    QStringList out;
    for (const auto& d : dialogs)
        out << d.id;
    return out;
}

QByteArray headerOf(const sip::Message& message, HeaderId id) {
    return message.header(id).toByteArray();
}

// One compositor with its store, clock and domains.
struct World {
    explicit World(server::PublicationOptions options = {})
        : domains(QStringList{QStringLiteral("switchboard.local")}) {
        domains.addListeningEndpoint(
            {transport::Protocol::Udp, QHostAddress(QStringLiteral("127.0.0.1")), 5060});
        store.addListener(
            [this](const QString& user, server::DialogStateStore::Change) { notified << user; });
        publications = std::make_unique<server::PublicationStore>(store, domains, clock, random,
                                                                  std::move(options));
    }

    sip::Message send(const Publish& p, const QString& publisher = {}) {
        return publications->handle(build(p), publisher);
    }

    // An initial publication of `dialogs` for 201; its entity-tag.
    QByteArray publish(const QList<DialogSpec>& dialogs) {
        Publish p;
        p.body = document(dialogs);
        const sip::Message response = send(p);
        if (response.statusCode() != 200) return {};
        return headerOf(response, HeaderId::SipETag);
    }

    base::ManualClock clock;
    base::SeededRandom random{42};
    server::LocalDomains domains;
    server::DialogStateStore store;
    QStringList notified;
    std::unique_ptr<server::PublicationStore> publications;
};

}  // namespace

class TestPublicationStore : public QObject {
    Q_OBJECT

private slots:
    void initialPublishStoresDialogs();
    void refreshWithoutBodyGivesNewEtagAndKeepsDialogs();
    void refreshExtendsTheExpiry();
    void modifyReplacesTheDocument();
    void expiresZeroRemovesThePublication();
    void initialPublishWithExpiresZeroStoresNothing();
    void unknownEtagIs412();
    void expiredEtagIs412();
    void etagIsScopedToItsUser();
    void expiryByTimerRemovesTheDialogs();
    void kamailiosShortTerminatedPublicationIsAccepted();
    void tooBriefIs423WithMinExpires();
    void longIntervalIsCutToMax();
    void malformedExpiresIs400();
    void wrongEventIs489();
    void missingEventIs489();
    void wrongContentTypeIs415();
    void contentTypeParametersAreAccepted();
    void badXmlIs400WithParserReason();
    void noBodyNoIfMatchIs400();
    void nonLocalUserIs404();
    void unknownUserIs404();
    void publishingForAnotherUserIs403();
    void allowAnyEntityLetsAUserPublishForOthers();
    void entityOfAnotherUserIs400();
    void entityAtAnotherHostIsAcceptedAsAlias();
    void twoPublishersAggregate();
    void partialDocumentMergesById();
    void terminatedDialogsStayUntilReplaced();
    void partialMergeIsBounded();
    void perEntityLimitIs403();
    void totalLimitIs503WithRetryAfter();
    void etagsAreLongAndUnique();
    void nonPublishIs405();
    void destructionTakesDialogsOutOfTheStore();
};

void TestPublicationStore::initialPublishStoresDialogs() {
    World w;
    Publish p;
    p.body = document({{"d1", "early"}});
    const sip::Message response = w.send(p);
    QCOMPARE(response.statusCode(), 200);
    const QByteArray etag = headerOf(response, HeaderId::SipETag);
    QVERIFY(!etag.isEmpty());
    QCOMPARE(headerOf(response, HeaderId::Expires), QByteArray("3600"));
    auto to = response.to();
    QVERIFY(to.has_value());
    QVERIFY(!to->tag().isEmpty());

    QCOMPARE(w.publications->publicationCount(), std::size_t(1));
    QCOMPARE(w.publications->publicationCount(kUser), std::size_t(1));
    const auto dialogs = w.store.dialogs(kUser);
    QCOMPARE(ids(dialogs), QStringList{QStringLiteral("d1")});
    QCOMPARE(dialogs.front().state, dialoginfo::DialogState::Early);
    QCOMPARE(dialogs.front().callId, QStringLiteral("call-d1@127.0.0.1"));
    QCOMPARE(w.notified, QStringList{kUser});
}

void TestPublicationStore::refreshWithoutBodyGivesNewEtagAndKeepsDialogs() {
    World w;
    const QByteArray first = w.publish({{"d1", "confirmed"}});
    QVERIFY(!first.isEmpty());
    w.notified.clear();

    Publish refresh;
    refresh.ifMatch = first;
    refresh.expires = "1800";
    const sip::Message response = w.send(refresh);
    QCOMPARE(response.statusCode(), 200);
    const QByteArray second = headerOf(response, HeaderId::SipETag);
    QVERIFY(!second.isEmpty());
    QVERIFY(second != first);  // RFC 3903 §6 step 7: a new entity-tag every time
    QCOMPARE(headerOf(response, HeaderId::Expires), QByteArray("1800"));
    QCOMPARE(ids(w.store.dialogs(kUser)), QStringList{QStringLiteral("d1")});
    QCOMPARE(w.publications->publicationCount(), std::size_t(1));
    QVERIFY(w.notified.isEmpty());  // the same slot, nothing changed

    // The old tag is spent; the new one works.
    Publish stale;
    stale.ifMatch = first;
    QCOMPARE(w.send(stale).statusCode(), 412);
    Publish again;
    again.ifMatch = second;
    QCOMPARE(w.send(again).statusCode(), 200);
}

void TestPublicationStore::refreshExtendsTheExpiry() {
    World w;
    QByteArray etag = w.publish({{"d1", "confirmed"}});
    w.clock.advance(3000s);
    Publish refresh;
    refresh.ifMatch = etag;
    const sip::Message response = w.send(refresh);
    QCOMPARE(response.statusCode(), 200);
    etag = headerOf(response, HeaderId::SipETag);
    w.clock.advance(3000s);  // 6000 s after the first PUBLISH, 3000 s after the refresh
    QCOMPARE(w.publications->publicationCount(), std::size_t(1));
    QVERIFY(w.store.hasDialogs(kUser));
    w.clock.advance(601s);
    QCOMPARE(w.publications->publicationCount(), std::size_t(0));
    QVERIFY(!w.store.hasDialogs(kUser));
}

void TestPublicationStore::modifyReplacesTheDocument() {
    World w;
    const QByteArray first = w.publish({{"d1", "early"}, {"d2", "trying"}});
    QCOMPARE(w.store.dialogs(kUser).size(), std::size_t(2));

    Publish modify;
    modify.ifMatch = first;
    modify.body = document({{"d3", "confirmed"}});
    const sip::Message response = w.send(modify);
    QCOMPARE(response.statusCode(), 200);
    QVERIFY(headerOf(response, HeaderId::SipETag) != first);
    const auto dialogs = w.store.dialogs(kUser);
    QCOMPARE(ids(dialogs), QStringList{QStringLiteral("d3")});
    QCOMPARE(dialogs.front().state, dialoginfo::DialogState::Confirmed);
    QCOMPARE(w.publications->publicationCount(), std::size_t(1));
}

void TestPublicationStore::expiresZeroRemovesThePublication() {
    World w;
    const QByteArray etag = w.publish({{"d1", "confirmed"}});
    w.notified.clear();

    Publish remove;
    remove.ifMatch = etag;
    remove.expires = "0";
    const sip::Message response = w.send(remove);
    QCOMPARE(response.statusCode(), 200);
    QCOMPARE(headerOf(response, HeaderId::Expires), QByteArray("0"));
    QCOMPARE(w.publications->publicationCount(), std::size_t(0));
    QCOMPARE(w.publications->publicationCount(kUser), std::size_t(0));
    QVERIFY(!w.store.hasDialogs(kUser));
    QCOMPARE(w.notified, QStringList{kUser});
    QCOMPARE(w.clock.pendingTimers(), std::size_t(0));

    Publish after;
    after.ifMatch = etag;
    QCOMPARE(w.send(after).statusCode(), 412);
}

void TestPublicationStore::initialPublishWithExpiresZeroStoresNothing() {
    World w;
    Publish p;
    p.expires = "0";
    p.body = document({{"d1", "confirmed"}});
    const sip::Message response = w.send(p);
    // RFC 3903 §6 step 6: created and removed at once.
    QCOMPARE(response.statusCode(), 200);
    QCOMPARE(headerOf(response, HeaderId::Expires), QByteArray("0"));
    QCOMPARE(w.publications->publicationCount(), std::size_t(0));
    QVERIFY(!w.store.hasDialogs(kUser));
    QVERIFY(w.notified.isEmpty());
}

void TestPublicationStore::unknownEtagIs412() {
    World w;
    w.publish({{"d1", "confirmed"}});
    Publish p;
    p.ifMatch = "00112233445566778899aabbccddeeff";
    p.body = document({{"d9", "early"}});
    const sip::Message response = w.send(p);
    QCOMPARE(response.statusCode(), 412);
    QVERIFY(!response.has(HeaderId::SipETag));
    QCOMPARE(ids(w.store.dialogs(kUser)), QStringList{QStringLiteral("d1")});
}

void TestPublicationStore::expiredEtagIs412() {
    World w;
    Publish p;
    p.expires = "120";
    p.body = document({{"d1", "confirmed"}});
    const QByteArray etag = headerOf(w.send(p), HeaderId::SipETag);
    QVERIFY(!etag.isEmpty());
    w.clock.advance(121s);
    Publish refresh;
    refresh.ifMatch = etag;
    QCOMPARE(w.send(refresh).statusCode(), 412);
}

void TestPublicationStore::etagIsScopedToItsUser() {
    World w;
    const QByteArray etag = w.publish({{"d1", "confirmed"}});
    Publish other;
    other.uri = "sip:202@switchboard.local";
    other.ifMatch = etag;
    other.expires = "0";
    QCOMPARE(w.send(other).statusCode(), 412);
    QCOMPARE(w.publications->publicationCount(kUser), std::size_t(1));
}

void TestPublicationStore::expiryByTimerRemovesTheDialogs() {
    World w;
    w.publish({{"d1", "early"}});
    w.notified.clear();
    w.clock.advance(3599s);
    QVERIFY(w.store.hasDialogs(kUser));
    QVERIFY(w.notified.isEmpty());
    w.clock.advance(1s);
    QVERIFY(!w.store.hasDialogs(kUser));
    QCOMPARE(w.publications->publicationCount(), std::size_t(0));
    QCOMPARE(w.notified, QStringList{kUser});
}

void TestPublicationStore::kamailiosShortTerminatedPublicationIsAccepted() {
    // pua_dialoginfo sends a call's end with Expires: 11 and drops it after any 423.
    World w;
    Publish p;
    p.expires = "11";
    p.body = document({{"d1", "terminated"}});
    QCOMPARE(w.send(p).statusCode(), 200);
}

void TestPublicationStore::tooBriefIs423WithMinExpires() {
    World w;
    Publish p;
    p.expires = "4";
    p.body = document({{"d1", "early"}});
    const sip::Message response = w.send(p);
    QCOMPARE(response.statusCode(), 423);
    QCOMPARE(headerOf(response, HeaderId::MinExpires), QByteArray("5"));
    auto to = response.to();
    QVERIFY(to.has_value());
    QVERIFY(!to->tag().isEmpty());
    QCOMPARE(w.publications->publicationCount(), std::size_t(0));

    p.expires = "60";  // the minimum itself is fine
    QCOMPARE(w.send(p).statusCode(), 200);
}

void TestPublicationStore::longIntervalIsCutToMax() {
    World w;
    Publish p;
    p.expires = "86400";
    p.body = document({{"d1", "early"}});
    const sip::Message response = w.send(p);
    QCOMPARE(response.statusCode(), 200);
    QCOMPARE(headerOf(response, HeaderId::Expires), QByteArray("3600"));
    w.clock.advance(3600s);
    QVERIFY(!w.store.hasDialogs(kUser));
}

void TestPublicationStore::malformedExpiresIs400() {
    World w;
    Publish p;
    p.expires = "soon";
    p.body = document({{"d1", "early"}});
    const sip::Message response = w.send(p);
    QCOMPARE(response.statusCode(), 400);
    QCOMPARE(response.reasonPhrase(), QByteArrayView("Malformed Expires header"));
}

void TestPublicationStore::wrongEventIs489() {
    World w;
    Publish p;
    p.event = "presence";
    p.body = document({{"d1", "early"}});
    const sip::Message response = w.send(p);
    QCOMPARE(response.statusCode(), 489);
    QCOMPARE(headerOf(response, HeaderId::AllowEvents), QByteArray("dialog"));
    QVERIFY(!w.store.hasDialogs(kUser));
}

void TestPublicationStore::missingEventIs489() {
    World w;
    Publish p;
    p.event.reset();
    p.body = document({{"d1", "early"}});
    const sip::Message response = w.send(p);
    QCOMPARE(response.statusCode(), 489);
    QCOMPARE(headerOf(response, HeaderId::AllowEvents), QByteArray("dialog"));
}

void TestPublicationStore::wrongContentTypeIs415() {
    World w;
    Publish p;
    p.contentType = "application/pidf+xml";
    p.body =
        "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" entity=\"sip:201@switchboard.local\"/>";
    const sip::Message response = w.send(p);
    QCOMPARE(response.statusCode(), 415);
    QCOMPARE(headerOf(response, HeaderId::Accept), QByteArray("application/dialog-info+xml"));
    QCOMPARE(w.publications->publicationCount(), std::size_t(0));
}

void TestPublicationStore::contentTypeParametersAreAccepted() {
    World w;
    Publish p;
    p.contentType = "Application/Dialog-Info+XML; charset=UTF-8";
    p.body = document({{"d1", "early"}});
    QCOMPARE(w.send(p).statusCode(), 200);
    QVERIFY(w.store.hasDialogs(kUser));
}

void TestPublicationStore::badXmlIs400WithParserReason() {
    World w;
    // Not well-formed: the <dialog> element is never closed.
    const QByteArray body =
        "<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" version=\"1\" "
        "state=\"full\" entity=\"sip:201@switchboard.local\"><dialog id=\"a\">"
        "<state>early</state></dialog-info>";
    const auto parsed = dialoginfo::parseDocument(body);
    QVERIFY(!parsed.has_value());

    Publish p;
    p.body = body;
    const sip::Message response = w.send(p);
    QCOMPARE(response.statusCode(), 400);
    const QString reason = QString::fromUtf8(response.reasonPhrase());
    QVERIFY2(reason.contains(parsed.error().reason.simplified().left(40)), qPrintable(reason));
    QVERIFY(!reason.contains(QLatin1Char('\n')));
    QCOMPARE(w.publications->publicationCount(), std::size_t(0));
}

void TestPublicationStore::noBodyNoIfMatchIs400() {
    World w;
    const sip::Message response = w.send(Publish{});
    QCOMPARE(response.statusCode(), 400);
    QCOMPARE(response.reasonPhrase(), QByteArrayView("PUBLISH without a body or SIP-If-Match"));
}

void TestPublicationStore::nonLocalUserIs404() {
    World w;
    Publish p;
    p.uri = "sip:201@example.org";
    p.body = document({{"d1", "early"}}, "full", "sip:201@example.org");
    const sip::Message response = w.send(p);
    QCOMPARE(response.statusCode(), 404);
    QCOMPARE(response.reasonPhrase(), QByteArrayView("Unknown entity"));

    Publish noUser;
    noUser.uri = "sip:switchboard.local";
    noUser.body = document({{"d1", "early"}});
    QCOMPARE(w.send(noUser).statusCode(), 404);
    QCOMPARE(w.publications->publicationCount(), std::size_t(0));
}

void TestPublicationStore::unknownUserIs404() {
    server::PublicationOptions options;
    options.userExists = [](const QString& user) { return user == QStringLiteral("201"); };
    World w(options);
    Publish p;
    p.uri = "sip:299@switchboard.local";
    p.body = document({{"d1", "early"}}, "full", "sip:299@switchboard.local");
    QCOMPARE(w.send(p).statusCode(), 404);

    Publish known;
    known.body = document({{"d1", "early"}});
    QCOMPARE(w.send(known).statusCode(), 200);
}

void TestPublicationStore::publishingForAnotherUserIs403() {
    World w;
    Publish p;
    p.body = document({{"d1", "early"}});
    const sip::Message refused = w.send(p, QStringLiteral("202"));
    QCOMPARE(refused.statusCode(), 403);
    QVERIFY(!w.store.hasDialogs(kUser));

    QCOMPARE(w.send(p, QStringLiteral("201")).statusCode(), 200);  // its own AoR
    QCOMPARE(w.send(p).statusCode(), 200);                         // a trusted source
    QCOMPARE(w.publications->publicationCount(kUser), std::size_t(2));
}

void TestPublicationStore::allowAnyEntityLetsAUserPublishForOthers() {
    server::PublicationOptions options;
    options.allowAnyEntity = true;
    World w(options);
    Publish p;
    p.body = document({{"d1", "early"}});
    QCOMPARE(w.send(p, QStringLiteral("202")).statusCode(), 200);
    QVERIFY(w.store.hasDialogs(kUser));
}

void TestPublicationStore::entityOfAnotherUserIs400() {
    World w;
    Publish p;
    p.body = document({{"d1", "early"}}, "full", "sip:202@switchboard.local");
    const sip::Message response = w.send(p);
    QCOMPARE(response.statusCode(), 400);
    QCOMPARE(response.reasonPhrase(), QByteArrayView("Document entity names another user"));
    QVERIFY(!w.store.hasDialogs(QStringLiteral("202")));
    QVERIFY(!w.store.hasDialogs(kUser));
}

void TestPublicationStore::entityAtAnotherHostIsAcceptedAsAlias() {
    World w;
    Publish p;
    // A Kamailio writes its own domain; 201 at 127.0.0.1:5060 is the same user too.
    p.body = document({{"d1", "early"}}, "full", "sip:201@kamailio.test");
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("kamailio\\.test")));
    QCOMPARE(w.send(p).statusCode(), 200);
    p.body = document({{"d2", "early"}}, "full", "sip:201@127.0.0.1:5060");
    QCOMPARE(w.send(p).statusCode(), 200);
    QCOMPARE(ids(w.store.dialogs(kUser)),
             (QStringList{QStringLiteral("d1"), QStringLiteral("d2")}));
}

void TestPublicationStore::twoPublishersAggregate() {
    World w;
    const QByteArray a = w.publish({{"a1", "confirmed"}});
    const QByteArray b = w.publish({{"b1", "early"}, {"b2", "trying"}});
    QVERIFY(!a.isEmpty() && !b.isEmpty() && a != b);
    QCOMPARE(w.publications->publicationCount(kUser), std::size_t(2));
    QCOMPARE(ids(w.store.dialogs(kUser)),
             (QStringList{QStringLiteral("a1"), QStringLiteral("b1"), QStringLiteral("b2")}));

    Publish remove;
    remove.ifMatch = a;
    remove.expires = "0";
    QCOMPARE(w.send(remove).statusCode(), 200);
    QCOMPARE(ids(w.store.dialogs(kUser)),
             (QStringList{QStringLiteral("b1"), QStringLiteral("b2")}));
}

void TestPublicationStore::partialDocumentMergesById() {
    World w;
    const QByteArray first = w.publish({{"a", "early"}, {"b", "confirmed"}});

    Publish partial;
    partial.ifMatch = first;
    partial.body = document({{"a", "terminated"}, {"c", "trying"}}, "partial");
    const sip::Message response = w.send(partial);
    QCOMPARE(response.statusCode(), 200);
    auto dialogs = w.store.dialogs(kUser);
    QCOMPARE(ids(dialogs),
             (QStringList{QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c")}));
    QCOMPARE(dialogs[0].state, dialoginfo::DialogState::Terminated);
    QCOMPARE(dialogs[1].state, dialoginfo::DialogState::Confirmed);
    QCOMPARE(dialogs[2].state, dialoginfo::DialogState::Trying);

    // A full document replaces the merged state.
    Publish full;
    full.ifMatch = headerOf(response, HeaderId::SipETag);
    full.body = document({{"d", "confirmed"}});
    QCOMPARE(w.send(full).statusCode(), 200);
    QCOMPARE(ids(w.store.dialogs(kUser)), QStringList{QStringLiteral("d")});
}

void TestPublicationStore::terminatedDialogsStayUntilReplaced() {
    World w;
    const QByteArray etag = w.publish({{"t", "terminated"}});
    auto dialogs = w.store.dialogs(kUser);
    QCOMPARE(ids(dialogs), QStringList{QStringLiteral("t")});
    QCOMPARE(dialogs.front().state, dialoginfo::DialogState::Terminated);

    Publish idle;
    idle.ifMatch = etag;
    idle.body = document({});
    QCOMPARE(w.send(idle).statusCode(), 200);
    QVERIFY(!w.store.hasDialogs(kUser));
    QCOMPARE(w.publications->publicationCount(), std::size_t(1));  // still published, idle
}

void TestPublicationStore::partialMergeIsBounded() {
    server::PublicationOptions options;
    options.maxDialogsPerPublication = 3;
    World w(options);
    QByteArray etag = w.publish({{"t1", "terminated"}, {"c1", "confirmed"}, {"c2", "early"}});

    // One more fits only if an old terminated dialog makes room.
    Publish partial;
    partial.ifMatch = etag;
    partial.body = document({{"c3", "trying"}}, "partial");
    sip::Message response = w.send(partial);
    QCOMPARE(response.statusCode(), 200);
    QCOMPARE(ids(w.store.dialogs(kUser)),
             (QStringList{QStringLiteral("c1"), QStringLiteral("c2"), QStringLiteral("c3")}));

    // No terminated dialog left to drop: refused, the state as it was.
    etag = headerOf(response, HeaderId::SipETag);
    partial.ifMatch = etag;
    partial.body = document({{"c4", "trying"}}, "partial");
    response = w.send(partial);
    QCOMPARE(response.statusCode(), 413);
    QVERIFY(response.reasonPhrase().contains("3 dialogs"));
    QCOMPARE(ids(w.store.dialogs(kUser)),
             (QStringList{QStringLiteral("c1"), QStringLiteral("c2"), QStringLiteral("c3")}));
    // The refused request did not spend the entity-tag.
    Publish refresh;
    refresh.ifMatch = etag;
    QCOMPARE(w.send(refresh).statusCode(), 200);
}

void TestPublicationStore::perEntityLimitIs403() {
    server::PublicationOptions options;
    options.maxPerEntity = 2;
    World w(options);
    QVERIFY(!w.publish({{"a", "early"}}).isEmpty());
    QVERIFY(!w.publish({{"b", "early"}}).isEmpty());
    Publish third;
    third.body = document({{"c", "early"}});
    const sip::Message response = w.send(third);
    QCOMPARE(response.statusCode(), 403);
    QCOMPARE(response.reasonPhrase(), QByteArrayView("Too many publications for this entity"));
    QCOMPARE(w.publications->publicationCount(kUser), std::size_t(2));
    QCOMPARE(ids(w.store.dialogs(kUser)), (QStringList{QStringLiteral("a"), QStringLiteral("b")}));

    // Another user still has room.
    Publish other;
    other.uri = "sip:202@switchboard.local";
    other.body = document({{"x", "early"}}, "full", "sip:202@switchboard.local");
    QCOMPARE(w.send(other).statusCode(), 200);
}

void TestPublicationStore::totalLimitIs503WithRetryAfter() {
    server::PublicationOptions options;
    options.maxPublications = 2;
    World w(options);
    const QByteArray first = w.publish({{"a", "early"}});
    QVERIFY(!first.isEmpty());
    Publish other;
    other.uri = "sip:202@switchboard.local";
    other.body = document({{"x", "early"}}, "full", "sip:202@switchboard.local");
    QCOMPARE(w.send(other).statusCode(), 200);

    Publish third;
    third.body = document({{"b", "early"}});
    const sip::Message response = w.send(third);
    QCOMPARE(response.statusCode(), 503);
    QCOMPARE(headerOf(response, HeaderId::RetryAfter), QByteArray("60"));
    QCOMPARE(w.publications->publicationCount(), std::size_t(2));

    // Existing publications can still be modified at the limit.
    Publish modify;
    modify.ifMatch = first;
    modify.body = document({{"a", "confirmed"}});
    QCOMPARE(w.send(modify).statusCode(), 200);
}

void TestPublicationStore::etagsAreLongAndUnique() {
    World w;
    QSet<QByteArray> seen;
    for (int i = 0; i < 20; ++i) {
        const QByteArray etag = w.publish({{"d" + QByteArray::number(i), "early"}});
        QVERIFY(etag.size() >= 32);  // 16 random bytes, hex
        for (char ch : etag)
            QVERIFY(std::isxdigit(static_cast<unsigned char>(ch)));
        seen.insert(etag);
    }
    QCOMPARE(seen.size(), 20);
}

void TestPublicationStore::nonPublishIs405() {
    World w;
    const QByteArray text =
        "SUBSCRIBE sip:201@switchboard.local SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-sub1\r\n"
        "From: <sip:202@switchboard.local>;tag=f1\r\n"
        "To: <sip:201@switchboard.local>\r\n"
        "Call-ID: sub-1@127.0.0.1\r\n"
        "CSeq: 1 SUBSCRIBE\r\n"
        "Event: dialog\r\n"
        "Content-Length: 0\r\n\r\n";
    auto parsed = sip::Parser::parse(text);
    QVERIFY(parsed.has_value());
    transport::IncomingMessage incoming;
    incoming.message = *parsed;
    const sip::Message response = w.publications->handle(incoming, {});
    QCOMPARE(response.statusCode(), 405);
    QCOMPARE(headerOf(response, HeaderId::Allow), QByteArray("PUBLISH"));
}

void TestPublicationStore::destructionTakesDialogsOutOfTheStore() {
    World w;
    w.publish({{"a", "early"}});
    QVERIFY(w.store.hasDialogs(kUser));
    w.publications.reset();
    QVERIFY(!w.store.hasDialogs(kUser));
    QCOMPARE(w.clock.pendingTimers(), std::size_t(0));
}

QTEST_GUILESS_MAIN(TestPublicationStore)
#include "tst_publication_store.moc"
