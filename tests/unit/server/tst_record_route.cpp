// RecordRoute: the proxy's own Record-Route/Route entries (RFC 3261 §16.4, §16.6 steps 4,
// 6 and 7, RFC 5658) and the Route editing around them.

#include <QTest>

#include "fake_transport.h"
#include "server/record_route.h"

using namespace sb;
using namespace sb::server;
using sb::test::FakeTransport;
using transport::Protocol;

namespace {

const QByteArray kSecret(32, 's');

QHostAddress address(const char* text) {
    return QHostAddress(QString::fromLatin1(text));
}

struct Fixture {
    explicit Fixture(QByteArray secret = {})
        : domains(QStringList{QStringLiteral("switchboard.local")}),
          rr(transport, domains, {}, std::move(secret)) {
        domains.addListeningEndpoint(FakeTransport::endpoint(Protocol::Udp, "127.0.0.1", 5060));
        domains.addListeningEndpoint(FakeTransport::endpoint(Protocol::Tcp, "127.0.0.1", 5060));
    }
    static sip::Uri uri(const QByteArray& text) {
        auto parsed = sip::Uri::parse(text);
        if (!parsed) qFatal("bad test URI");
        return *parsed;
    }
    static sip::Message bye(QByteArray requestUri) {
        sip::Message m = sip::Message::request(sip::Method::Bye, std::move(requestUri));
        m.addHeader(sip::HeaderId::Via, "SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bK-1");
        m.addHeader(sip::HeaderId::From, "<sip:a@x>;tag=1");
        m.addHeader(sip::HeaderId::To, "<sip:b@x>;tag=2");
        m.addHeader(sip::HeaderId::CallId, "c");
        m.addHeader(sip::HeaderId::CSeq, "2 BYE");
        return m;
    }

    FakeTransport transport;
    LocalDomains domains;
    RecordRoute rr;
};

}  // namespace

class TestRecordRoute : public QObject {
    Q_OBJECT

private slots:
    void entriesNameTheListeningEndpoint() {
        Fixture f;
        QCOMPARE(f.rr.uriFor(Protocol::Udp), QByteArray("sip:127.0.0.1:5060;lr"));
        QCOMPARE(f.rr.uriFor(Protocol::Tcp), QByteArray("sip:127.0.0.1:5060;transport=tcp;lr"));
        f.transport.setLocalEndpoint(FakeTransport::endpoint(Protocol::Udp, "::1", 5080));
        QCOMPARE(f.rr.uriFor(Protocol::Udp), QByteArray("sip:[::1]:5080;lr"));
    }

    void wildcardListenerUsesWhereTheRequestArrived() {
        Fixture f;
        f.transport.setLocalEndpoint(FakeTransport::endpoint(Protocol::Udp, "0.0.0.0", 5060));
        QCOMPARE(f.rr.uriFor(Protocol::Udp, address("127.0.0.7")),
                 QByteArray("sip:127.0.0.7:5060;lr"));
    }

    void wildcardListenerUsesTheAddressThePeerCanReach() {
        // A UDP socket on 0.0.0.0 does not say where a request arrived: the entry names
        // the address the system routes towards the peer, never a domain name that the
        // phones cannot resolve.
        Fixture f;
        f.transport.setLocalEndpoint(FakeTransport::endpoint(Protocol::Udp, "0.0.0.0", 5060));
        f.domains.setInterfaceAddresses({address("127.0.0.1"), address("127.0.0.7")});
        std::vector<QHostAddress> asked;
        f.domains.setRouteLookup([&](const QHostAddress& peer) -> std::optional<QHostAddress> {
            asked.push_back(peer);
            return peer == address("127.0.0.20") ? address("127.0.0.7") : address("127.0.0.1");
        });
        QCOMPARE(f.rr.uriFor(RecordRoute::Leg{Protocol::Udp, {}, address("127.0.0.20")}),
                 QByteArray("sip:127.0.0.7:5060;lr"));
        QCOMPARE(f.rr.uriFor(RecordRoute::Leg{Protocol::Udp, {}, address("127.0.0.2")}),
                 QByteArray("sip:127.0.0.1:5060;lr"));
        // Asked once per peer: the answer is cached.
        QCOMPARE(f.rr.uriFor(RecordRoute::Leg{Protocol::Udp, {}, address("127.0.0.20")}),
                 QByteArray("sip:127.0.0.7:5060;lr"));
        QCOMPARE(asked.size(), 2u);
        // Without a route: loopback for a loopback peer.
        f.domains.setRouteLookup([](const QHostAddress&) { return std::optional<QHostAddress>(); });
        QCOMPARE(f.rr.uriFor(RecordRoute::Leg{Protocol::Udp, {}, address("127.0.0.30")}),
                 QByteArray("sip:127.0.0.1:5060;lr"));
        // The configured host ([server] record_route_host) wins over any guess.
        f.domains.setAdvertisedHost("127.0.0.9");
        QCOMPARE(f.rr.uriFor(RecordRoute::Leg{Protocol::Udp, {}, address("127.0.0.20")}),
                 QByteArray("sip:127.0.0.9:5060;lr"));
    }

    void wildcardListenerBetweenTwoNetworksRecordRoutesTwice() {
        // RFC 5658: in on one of our addresses, out on another: each side gets the entry
        // it can reach, the callee's on top.
        Fixture f;
        f.transport.setLocalEndpoint(FakeTransport::endpoint(Protocol::Udp, "0.0.0.0", 5060));
        f.domains.setInterfaceAddresses({address("127.0.0.1"), address("127.0.0.7")});
        f.domains.setRouteLookup([](const QHostAddress& peer) -> std::optional<QHostAddress> {
            return peer == address("127.0.0.20") ? address("127.0.0.7") : address("127.0.0.1");
        });
        sip::Message invite = Fixture::bye("sip:b@127.0.0.20");
        f.rr.addTo(invite, {Protocol::Udp, {}, address("127.0.0.2")},
                   {Protocol::Udp, {}, address("127.0.0.20")});
        const sip::ValueList values = invite.values(sip::HeaderId::RecordRoute);
        QCOMPARE(values.size(), 2);
        QCOMPARE(values[0], QByteArrayView("<sip:127.0.0.7:5060;lr>"));
        QCOMPARE(values[1], QByteArrayView("<sip:127.0.0.1:5060;lr>"));
        // Both sides on one network: one entry.
        sip::Message local = Fixture::bye("sip:b@127.0.0.3");
        f.rr.addTo(local, {Protocol::Udp, {}, address("127.0.0.2")},
                   {Protocol::Udp, {}, address("127.0.0.3")});
        QCOMPARE(local.values(sip::HeaderId::RecordRoute).size(), 1);
    }

    void wildcardListenerIsOwnOnlyAtOurAddresses() {
        Fixture f;
        f.transport.setLocalEndpoint(FakeTransport::endpoint(Protocol::Udp, "0.0.0.0", 5070));
        f.domains.setInterfaceAddresses({address("127.0.0.1"), address("::1")});
        QVERIFY(f.rr.isOwnHost("127.0.0.1", 5070));
        QVERIFY(f.rr.isOwnHost("::1", 5070));
        QVERIFY(!f.rr.isOwnHost("127.0.0.9", 5070));  // somebody else on that port
        QVERIFY(!f.rr.isOwn(Fixture::uri("sip:127.0.0.9:5070;lr")));
    }

    void entriesCarryTheTokenOfTheCallId() {
        Fixture f(kSecret);
        sip::Message invite = Fixture::bye("sip:b@127.0.0.3");
        f.rr.addTo(invite, {Protocol::Udp, {}, {}}, {Protocol::Udp, {}, {}});
        const QByteArray token = f.rr.tokenFor("c");
        QCOMPARE(token.size(), 16);  // 12 bytes, base64url
        QCOMPARE(invite.header(sip::HeaderId::RecordRoute),
                 QByteArrayView("<sip:127.0.0.1:5060;sbrr=" + token + ";lr>"));
        // Deterministic per Call-ID and secret, different for another Call-ID or secret.
        QCOMPARE(f.rr.tokenFor("c"), token);
        QVERIFY(f.rr.tokenFor("d") != token);
        Fixture other(QByteArray(32, 't'));
        QVERIFY(other.rr.tokenFor("c") != token);
        // The token is checked against the request's Call-ID.
        QVERIFY(f.rr.hasValidToken(Fixture::uri("sip:127.0.0.1;sbrr=" + token + ";lr"), "c"));
        QVERIFY(!f.rr.hasValidToken(Fixture::uri("sip:127.0.0.1;sbrr=" + token + ";lr"), "d"));
        QVERIFY(!f.rr.hasValidToken(Fixture::uri("sip:127.0.0.1;sbrr=x;lr"), "c"));
        QVERIFY(!f.rr.hasValidToken(Fixture::uri("sip:127.0.0.1;lr"), "c"));
        // Without a secret no token is written, and none is accepted.
        Fixture plain;
        QVERIFY(plain.rr.tokenFor("c").isEmpty());
        QVERIFY(!plain.rr.hasValidToken(Fixture::uri("sip:127.0.0.1;sbrr;lr"), "c"));
    }

    void preprocessReportsAValidToken() {
        Fixture f(kSecret);
        const QByteArray own = "<sip:127.0.0.1:5060;sbrr=" + f.rr.tokenFor("c") + ";lr>";
        sip::Message bye = Fixture::bye("sip:b@127.0.0.3:5080");
        bye.addHeader(sip::HeaderId::Route, own);
        const auto done = f.rr.preprocess(bye);
        QCOMPARE(done.poppedRoutes, 1);
        QVERIFY(done.validToken);
        QVERIFY(!bye.has(sip::HeaderId::Route));

        // Our entry without the token, or with the token of another dialog: popped as ours
        // (it names us) but not valid.
        for (const QByteArray& route :
             {QByteArray("<sip:127.0.0.1:5060;lr>"),
              "<sip:127.0.0.1:5060;sbrr=" + f.rr.tokenFor("other") + ";lr>",
              QByteArray("<sip:127.0.0.1:5060;sbrr=AAAAAAAAAAAAAAAA;lr>")}) {
            sip::Message forged = Fixture::bye("sip:b@127.0.0.3:5080");
            forged.addHeader(sip::HeaderId::Route, route);
            const auto result = f.rr.preprocess(forged);
            QCOMPARE(result.poppedRoutes, 1);
            QVERIFY2(!result.validToken, route.constData());
        }
        // Someone else's route with our token (copied) is not ours to pop.
        sip::Message foreign = Fixture::bye("sip:b@127.0.0.3:5080");
        foreign.addHeader(sip::HeaderId::Route,
                          "<sip:127.0.0.9:5060;sbrr=" + f.rr.tokenFor("c") + ";lr>");
        QVERIFY(!f.rr.preprocess(foreign).validToken);
    }

    void strictRouterBringsTheTokenInTheRequestUri() {
        Fixture f(kSecret);
        sip::Message bye = Fixture::bye("sip:127.0.0.1:5060;sbrr=" + f.rr.tokenFor("c") + ";lr");
        bye.addHeader(sip::HeaderId::Route, "<sip:b@127.0.0.3:5080>");
        const auto done = f.rr.preprocess(bye);
        QVERIFY(done.fromStrictRouter);
        QVERIFY(done.validToken);
        QCOMPARE(bye.requestUri(), QByteArrayView("sip:b@127.0.0.3:5080"));

        sip::Message forged = Fixture::bye("sip:127.0.0.1:5060;lr");
        forged.addHeader(sip::HeaderId::Route, "<sip:b@127.0.0.3:5080>");
        const auto result = f.rr.preprocess(forged);
        QVERIFY(result.fromStrictRouter);
        QVERIFY(!result.validToken);
    }

    void configuredHostWins() {
        FakeTransport transport;
        LocalDomains domains(QStringList{QStringLiteral("switchboard.local")});
        RecordRoute rr(transport, domains, "pbx.example.org");
        QCOMPARE(rr.uriFor(Protocol::Tcp), QByteArray("sip:pbx.example.org:5060;transport=tcp;lr"));
        QVERIFY(rr.isOwn(Fixture::uri("sip:pbx.example.org:5060;lr")));
        QVERIFY(rr.isOwn(Fixture::uri("sip:PBX.example.org;lr")));
        QVERIFY(!rr.isOwn(Fixture::uri("sip:pbx.example.org:5099;lr")));
        // An IPv6 host ([server] record_route_host) is written in brackets and recognised
        // without them.
        RecordRoute v6(transport, domains, "[::1]");
        QCOMPARE(v6.uriFor(Protocol::Udp), QByteArray("sip:[::1]:5060;lr"));
        QVERIFY(v6.isOwn(Fixture::uri("sip:[::1]:5060;lr")));
    }

    void singleOrDoubleRecordRoute() {
        Fixture f;
        sip::Message same = Fixture::bye("sip:b@127.0.0.3");
        same.addHeader(sip::HeaderId::RecordRoute, "<sip:127.0.0.9;lr>");
        f.rr.addTo(same, {Protocol::Udp, {}, {}}, {Protocol::Udp, {}, {}});
        QCOMPARE(same.values(sip::HeaderId::RecordRoute).size(), 2);
        QCOMPARE(same.values(sip::HeaderId::RecordRoute)[0],
                 QByteArrayView("<sip:127.0.0.1:5060;lr>"));
        // RFC 5658: the outgoing interface on top, the incoming one below it.
        sip::Message bridged = Fixture::bye("sip:b@127.0.0.3");
        f.rr.addTo(bridged, {Protocol::Udp, {}, {}}, {Protocol::Tcp, {}, {}});
        const sip::ValueList values = bridged.values(sip::HeaderId::RecordRoute);
        QCOMPARE(values.size(), 2);
        QCOMPARE(values[0], QByteArrayView("<sip:127.0.0.1:5060;transport=tcp;lr>"));
        QCOMPARE(values[1], QByteArrayView("<sip:127.0.0.1:5060;lr>"));
    }

    void recognisesItsOwnUris() {
        Fixture f;
        QVERIFY(f.rr.isOwn(Fixture::uri("sip:127.0.0.1:5060;lr")));
        QVERIFY(f.rr.isOwn(Fixture::uri("sip:127.0.0.1;lr")));  // default port
        QVERIFY(f.rr.isOwn(Fixture::uri("sip:switchboard.local;lr")));
        QVERIFY(f.rr.isOwn(Fixture::uri("sip:127.0.0.9;maddr=127.0.0.1;lr")));
        QVERIFY(!f.rr.isOwn(Fixture::uri("sip:127.0.0.1:5070;lr")));  // another server
        QVERIFY(!f.rr.isOwn(Fixture::uri("sip:127.0.0.9:5060;lr")));
        QVERIFY(!f.rr.isOwn(Fixture::uri("tel:+1555")));
        QVERIFY(f.rr.isOwnRecordRouteUri(Fixture::uri("sip:127.0.0.1:5060;lr")));
        QVERIFY(!f.rr.isOwnRecordRouteUri(Fixture::uri("sip:127.0.0.1:5060")));
        QVERIFY(!f.rr.isOwnRecordRouteUri(Fixture::uri("sip:201@127.0.0.1:5060;lr")));
    }

    void preprocessPopsOurRoutes() {
        Fixture f;
        sip::Message bye = Fixture::bye("sip:b@127.0.0.3:5080");
        bye.addHeader(sip::HeaderId::Route,
                      "<sip:127.0.0.1:5060;transport=tcp;lr>, <sip:127.0.0.1:5060;lr>");
        bye.addHeader(sip::HeaderId::Route, "<sip:127.0.0.9;lr>");
        const auto done = f.rr.preprocess(bye);
        QCOMPARE(done.poppedRoutes, 2);
        QVERIFY(done.cameThroughUs());
        QCOMPARE(routeValues(bye), std::vector<QByteArray>{"<sip:127.0.0.9;lr>"});
        QCOMPARE(bye.requestUri(), QByteArrayView("sip:b@127.0.0.3:5080"));

        sip::Message foreign = Fixture::bye("sip:b@127.0.0.3:5080");
        foreign.addHeader(sip::HeaderId::Route, "<sip:127.0.0.9;lr>");
        QVERIFY(!f.rr.preprocess(foreign).cameThroughUs());
        QCOMPARE(foreign.count(sip::HeaderId::Route), 1);
    }

    void preprocessUndoesAStrictRouter() {
        Fixture f;
        sip::Message bye = Fixture::bye("sip:127.0.0.1:5060;lr");
        bye.addHeader(sip::HeaderId::Route, "<sip:127.0.0.9;lr>");
        bye.addHeader(sip::HeaderId::Route, "<sip:b@127.0.0.3:5080>");
        const auto done = f.rr.preprocess(bye);
        QVERIFY(done.fromStrictRouter);
        QVERIFY(done.cameThroughUs());
        QCOMPARE(bye.requestUri(), QByteArrayView("sip:b@127.0.0.3:5080"));
        QCOMPARE(routeValues(bye), std::vector<QByteArray>{"<sip:127.0.0.9;lr>"});
    }

    void preprocessStripsAMaddrNamingUs() {
        Fixture f;
        sip::Message bye =
            Fixture::bye("sip:b@switchboard.local:5060;maddr=127.0.0.1;transport=udp;x=1");
        QVERIFY(f.rr.preprocess(bye).strippedMaddr);
        QCOMPARE(bye.requestUri(), QByteArrayView("sip:b@switchboard.local;x=1"));
        sip::Message other = Fixture::bye("sip:b@example.org;maddr=127.0.0.9");
        QVERIFY(!f.rr.preprocess(other).strippedMaddr);
        QCOMPARE(other.requestUri(), QByteArrayView("sip:b@example.org;maddr=127.0.0.9"));
    }

    void routeEditing() {
        sip::Message m = Fixture::bye("sip:b@x");
        QVERIFY(!removeTopRoute(m));
        m.addHeader(sip::HeaderId::Route, "<sip:one;lr>, <sip:two;lr>");
        m.addHeader(sip::HeaderId::Route, "<sip:three;lr>");
        QVERIFY(removeTopRoute(m));
        QCOMPARE(routeValues(m), (std::vector<QByteArray>{"<sip:two;lr>", "<sip:three;lr>"}));
        QCOMPARE(m.count(sip::HeaderId::Route), 2);  // only the value went, the field stays
        QVERIFY(removeTopRoute(m));
        QVERIFY(removeTopRoute(m));
        QVERIFY(!m.has(sip::HeaderId::Route));
    }

    void strictRouteNextHop() {
        sip::Message loose = Fixture::bye("sip:b@127.0.0.3");
        loose.addHeader(sip::HeaderId::Route, "<sip:127.0.0.9;lr>");
        QVERIFY(!applyStrictRoute(loose));
        QCOMPARE(nextHopUri(loose), QByteArray("sip:127.0.0.9;lr"));

        sip::Message strict = Fixture::bye("sip:b@127.0.0.3");
        strict.addHeader(sip::HeaderId::Route, "<sip:127.0.0.9>, <sip:127.0.0.8;lr>");
        QVERIFY(applyStrictRoute(strict));
        QCOMPARE(strict.requestUri(), QByteArrayView("sip:127.0.0.9"));
        QCOMPARE(routeValues(strict),
                 (std::vector<QByteArray>{"<sip:127.0.0.8;lr>", "<sip:b@127.0.0.3>"}));
        QCOMPARE(nextHopUri(Fixture::bye("sip:b@127.0.0.3")), QByteArray("sip:b@127.0.0.3"));
    }

    void numericTargets() {
        auto udp = numericTarget(Fixture::uri("sip:b@127.0.0.3"));
        QVERIFY(udp.has_value());
        QCOMPARE(*udp, FakeTransport::endpoint(Protocol::Udp, "127.0.0.3", 5060));
        auto tcp = numericTarget(Fixture::uri("sip:b@127.0.0.3:5070;transport=TCP"));
        QCOMPARE(*tcp, FakeTransport::endpoint(Protocol::Tcp, "127.0.0.3", 5070));
        auto maddr = numericTarget(Fixture::uri("sip:b@example.org;maddr=127.0.0.4"));
        QCOMPARE(*maddr, FakeTransport::endpoint(Protocol::Udp, "127.0.0.4", 5060));
        auto v6 = numericTarget(Fixture::uri("sip:b@[::1]:5070"));
        QCOMPARE(*v6, FakeTransport::endpoint(Protocol::Udp, "::1", 5070));
        QVERIFY(!numericTarget(Fixture::uri("sip:b@example.org")).has_value());
        QVERIFY(!numericTarget(Fixture::uri("tel:+1555")).has_value());
        QVERIFY(!numericTarget(Fixture::uri("sip:b@127.0.0.3;transport=sctp")).has_value());
    }

    void uriWithoutParameters() {
        QCOMPARE(uriWithout(Fixture::uri("sip:u:pw@[::1]:5070;a=1;maddr=x;B;c=3?h=v"),
                            {"maddr", "b"}, false),
                 QByteArray("sip:u:pw@[::1]:5070;a=1;c=3?h=v"));
        QCOMPARE(uriWithout(Fixture::uri("sips:host:5061;transport=tcp"), {"transport"}, true),
                 QByteArray("sips:host"));
    }
};

QTEST_GUILESS_MAIN(TestRecordRoute)
#include "tst_record_route.moc"
