// Tests core/server/publish_rules.*: which sides of a call the [publish] rules publish,
// under which entity, and what a skipped side shows in the other side's documents — a
// table over which_calls, callee_entity, skip_caller / skip_callee patterns and the
// *_entity_when_skipped substitutes.

#include <QTest>

#include "server/local_domains.h"
#include "server/publish_rules.h"
#include "sip/parser.h"

using namespace sb;
using server::PublishRules;

namespace {

struct Invite {
    QByteArray requestUri = "sip:202@switchboard.local";
    QByteArray from = "\"Alice\" <sip:201@switchboard.local>";
    QByteArray to = "<sip:202@switchboard.local>";
    QByteArray extraHeaders;  // "Name: value\n" lines
};

sip::Message invite(const Invite& i) {
    QByteArray text = "INVITE " + i.requestUri +
                      " SIP/2.0\n"
                      "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1\n"
                      "Max-Forwards: 70\n"
                      "From: " +
                      i.from +
                      ";tag=f1\n"
                      "To: " +
                      i.to + "\nCall-ID: c1@127.0.0.1\nCSeq: 1 INVITE\n" + i.extraHeaders +
                      "Content-Length: 0\n\n";
    text.replace("\n", "\r\n");
    auto parsed = sip::Parser::parse(text);
    if (!parsed) qFatal("test INVITE does not parse: %s", qPrintable(parsed.error().reason));
    return *parsed;
}

server::LocalDomains domains() {
    server::LocalDomains out(
        QStringList{QStringLiteral("switchboard.local"), QStringLiteral("branch.example")});
    out.addListeningEndpoint(transport::Endpoint{transport::Protocol::Udp,
                                                 QHostAddress(QStringLiteral("127.0.0.1")), 5060});
    return out;
}

// The users the proxy gives: local From user and local Request-URI user.
QString userOf(const QByteArray& uriText, const server::LocalDomains& d) {
    const auto uri = sip::Uri::parse(uriText);
    return uri ? d.userOf(*uri) : QString();
}

}  // namespace

class TestPublishRules : public QObject {
    Q_OBJECT

private slots:
    void plan_data() {
        QTest::addColumn<PublishRules>("rules");
        QTest::addColumn<Invite>("call");
        QTest::addColumn<QString>("caller");  // expected entity; empty: not published
        QTest::addColumn<QString>("callee");
        QTest::addColumn<QString>("callerShownAs");  // "-": none
        QTest::addColumn<QString>("calleeShownAs");

        const QString alice = QStringLiteral("sip:201@switchboard.local");
        const QString bob = QStringLiteral("sip:202@switchboard.local");
        const QString none;
        const QString no = QStringLiteral("-");
        PublishRules local;
        Invite plain;
        QTest::newRow("local call, defaults") << local << plain << alice << bob << no << no;

        Invite outside = plain;
        outside.from = "<sip:carol@remote.example>";
        QTest::newRow("remote caller: local only") << local << outside << none << bob << no << no;
        PublishRules all;
        all.whichCalls = PublishRules::WhichCalls::All;
        QTest::newRow("remote caller: all")
            << all << outside << QStringLiteral("sip:carol@remote.example") << bob << no << no;

        // Another local domain and a listening address name the same users.
        Invite aliases = plain;
        aliases.from = "<sip:201@127.0.0.1:5060>";
        aliases.to = "<sip:202@branch.example>";
        QTest::newRow("local aliases normalised") << local << aliases << alice << bob << no << no;

        // callee_entity: the To URI says one thing, the Request-URI (routed AoR) another.
        Invite forwarded = plain;
        forwarded.to = "<sip:sales@remote.example>";
        QTest::newRow("callee = To, foreign To") << local << forwarded << alice << none << no << no;
        PublishRules byRequestUri;
        byRequestUri.calleeEntityFromRequestUri = true;
        QTest::newRow("callee = Request-URI")
            << byRequestUri << forwarded << alice << bob << no << no;

        PublishRules marked;
        marked.whichCalls = PublishRules::WhichCalls::Marked;
        marked.markHeader = QStringLiteral("X-Publish");
        QTest::newRow("marked: unmarked call") << marked << outside << none << none << no << no;
        Invite markedCall = outside;
        markedCall.extraHeaders = "x-publish: yes\n";
        QTest::newRow("marked: marked call, any domain")
            << marked << markedCall << QStringLiteral("sip:carol@remote.example") << bob << no
            << no;
        Invite emptyMark = plain;
        emptyMark.extraHeaders = "X-Publish:\n";
        QTest::newRow("marked: header with empty value")
            << marked << emptyMark << alice << bob << no << no;

        PublishRules skipUser;
        skipUser.skipCaller = {QStringLiteral("201")};
        QTest::newRow("skip caller by user") << skipUser << plain << none << bob << no << no;
        PublishRules skipOther = skipUser;
        skipOther.skipCaller = {QStringLiteral("203")};
        QTest::newRow("skip pattern not matching")
            << skipOther << plain << alice << bob << no << no;
        PublishRules skipAtAlias;
        skipAtAlias.skipCallee = {QStringLiteral("202@127.0.0.1")};
        QTest::newRow("skip callee user@alias domain")
            << skipAtAlias << plain << alice << none << no << no;
        PublishRules skipDomain;
        skipDomain.whichCalls = PublishRules::WhichCalls::All;
        skipDomain.skipCaller = {QStringLiteral("*@remote.example")};
        skipDomain.callerEntityWhenSkipped = QStringLiteral("sip:outside@switchboard.local");
        QTest::newRow("skip caller by domain, shown as")
            << skipDomain << outside << none << bob
            << QStringLiteral("sip:outside@switchboard.local") << no;
        QTest::newRow("domain pattern misses a local caller")
            << skipDomain << plain << alice << bob << no << no;
        PublishRules skipHeader;
        skipHeader.skipCallee = {QStringLiteral("header:X-No-Blf")};
        skipHeader.calleeEntityWhenSkipped = QStringLiteral("sip:hidden@switchboard.local");
        Invite private_ = plain;
        private_.extraHeaders = "X-No-Blf: 1\n";
        QTest::newRow("skip callee by header, shown as")
            << skipHeader << private_ << alice << none << no
            << QStringLiteral("sip:hidden@switchboard.local");
        QTest::newRow("header pattern, header absent")
            << skipHeader << plain << alice << bob << no << no;
        // A side that is not published for another reason (remote) is not "skipped".
        PublishRules skipRemote;
        skipRemote.skipCaller = {QStringLiteral("*@remote.example")};
        skipRemote.callerEntityWhenSkipped = QStringLiteral("sip:outside@switchboard.local");
        QTest::newRow("remote caller is not skipped, only not local")
            << skipRemote << outside << none << bob << no << no;
    }

    void plan() {
        QFETCH(PublishRules, rules);
        QFETCH(Invite, call);
        QFETCH(QString, caller);
        QFETCH(QString, callee);
        QFETCH(QString, callerShownAs);
        QFETCH(QString, calleeShownAs);
        const server::LocalDomains d = domains();
        const sip::Message message = invite(call);
        const auto from = message.from();
        QVERIFY(from);
        const server::CallPublishPlan plan = server::planCall(
            rules, d, message, userOf(from->uriText.toByteArray(), d), userOf(call.requestUri, d));
        QCOMPARE(plan.entity[0], caller);
        QCOMPARE(plan.entity[1], callee);
        QCOMPARE(plan.shownAs[0].value_or(QStringLiteral("-")), callerShownAs);
        QCOMPARE(plan.shownAs[1].value_or(QStringLiteral("-")), calleeShownAs);
    }

    void patterns() {
        const server::LocalDomains d = domains();
        const sip::Message message = invite(Invite{});
        const QString local = QStringLiteral("sip:201@switchboard.local");
        const QString remote = QStringLiteral("sip:201@remote.example");
        QVERIFY(server::matchesSidePattern(QStringLiteral("201"), local, message, d));
        // A bare user is a user of this server, not of any domain.
        QVERIFY(!server::matchesSidePattern(QStringLiteral("201"), remote, message, d));
        QVERIFY(
            server::matchesSidePattern(QStringLiteral("201@remote.example"), remote, message, d));
        QVERIFY(
            server::matchesSidePattern(QStringLiteral("201@REMOTE.example"), remote, message, d));
        QVERIFY(!server::matchesSidePattern(QStringLiteral("2011"), local, message, d));
        QVERIFY(server::matchesSidePattern(QStringLiteral("*@branch.example"), local, message, d));
        QVERIFY(!server::matchesSidePattern(QStringLiteral("*@other.example"), local, message, d));
        QVERIFY(!server::matchesSidePattern(QStringLiteral("header:"), local, message, d));
        QVERIFY(
            server::matchesSidePattern(QStringLiteral("header:max-forwards"), local, message, d));
        QVERIFY(!server::matchesSidePattern(QStringLiteral("header:X-None"), local, message, d));
    }
};

Q_DECLARE_METATYPE(PublishRules)
Q_DECLARE_METATYPE(Invite)

QTEST_GUILESS_MAIN(TestPublishRules)
#include "tst_publish_rules.moc"
