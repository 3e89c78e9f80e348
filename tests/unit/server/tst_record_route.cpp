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

struct Fixture {
    Fixture() : domains(QStringList{QStringLiteral("switchboard.local")}), rr(transport, domains) {
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
        QCOMPARE(f.rr.uriFor(Protocol::Udp, QHostAddress(QStringLiteral("127.0.0.7"))),
                 QByteArray("sip:127.0.0.7:5060;lr"));
        QCOMPARE(f.rr.uriFor(Protocol::Udp), QByteArray("sip:switchboard.local:5060;lr"));
    }

    void configuredHostWins() {
        FakeTransport transport;
        LocalDomains domains(QStringList{QStringLiteral("switchboard.local")});
        RecordRoute rr(transport, domains, "pbx.example.org");
        QCOMPARE(rr.uriFor(Protocol::Tcp), QByteArray("sip:pbx.example.org:5060;transport=tcp;lr"));
        QVERIFY(rr.isOwn(Fixture::uri("sip:pbx.example.org:5060;lr")));
        QVERIFY(rr.isOwn(Fixture::uri("sip:PBX.example.org;lr")));
        QVERIFY(!rr.isOwn(Fixture::uri("sip:pbx.example.org:5099;lr")));
    }

    void singleOrDoubleRecordRoute() {
        Fixture f;
        sip::Message same = Fixture::bye("sip:b@127.0.0.3");
        same.addHeader(sip::HeaderId::RecordRoute, "<sip:127.0.0.9;lr>");
        f.rr.addTo(same, Protocol::Udp, Protocol::Udp);
        QCOMPARE(same.values(sip::HeaderId::RecordRoute).size(), 2);
        QCOMPARE(same.values(sip::HeaderId::RecordRoute)[0],
                 QByteArrayView("<sip:127.0.0.1:5060;lr>"));
        // RFC 5658: the outgoing interface on top, the incoming one below it.
        sip::Message bridged = Fixture::bye("sip:b@127.0.0.3");
        f.rr.addTo(bridged, Protocol::Udp, Protocol::Tcp);
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
