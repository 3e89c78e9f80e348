// LocalDomains: which hosts are ours (domains, listening addresses and ports, wildcard
// listeners limited to this machine's addresses) and which of our addresses a peer can
// reach (RFC 3261 §16.4 "the domain of the proxy"; Record-Route and Contact hosts).

#include <QTest>

#include "fake_transport.h"
#include "server/local_domains.h"

using namespace sb;
using namespace sb::server;
using sb::test::FakeTransport;
using transport::Protocol;

namespace {

QHostAddress address(const char* text) {
    return QHostAddress(QString::fromLatin1(text));
}

sip::Uri uri(const QByteArray& text) {
    auto parsed = sip::Uri::parse(text);
    if (!parsed) qFatal("bad test URI");
    return *parsed;
}

// A route lookup that counts its calls and answers from a table (nullopt otherwise).
struct FakeRoutes {
    LocalDomains::RouteLookup lookup() {
        return [this](const QHostAddress& peer) -> std::optional<QHostAddress> {
            ++calls;
            for (const auto& [from, to] : table)
                if (from == peer) return to;
            return fallback;
        };
    }
    std::vector<std::pair<QHostAddress, QHostAddress>> table;
    std::optional<QHostAddress> fallback;
    int calls = 0;
};

}  // namespace

class TestLocalDomains : public QObject {
    Q_OBJECT

private slots:
    void domainNamesAreOursOnAnyPort() {
        LocalDomains domains(QStringList{QStringLiteral(" Office.Example "),
                                         QStringLiteral("switchboard.local"),
                                         QStringLiteral("office.example")});
        QCOMPARE(domains.domains(), (QStringList{QStringLiteral("office.example"),
                                                 QStringLiteral("switchboard.local")}));
        QCOMPARE(domains.primary(), QStringLiteral("office.example"));
        QVERIFY(domains.isLocalHost("OFFICE.example"));
        QVERIFY(domains.isLocalHost("office.example", 5099));
        QVERIFY(domains.isLocal(uri("sip:201@switchboard.local:5070")));
        QVERIFY(domains.isLocal(uri("sips:201@office.example")));
        QVERIFY(!domains.isLocal(uri("tel:+15551234")));
        QVERIFY(!domains.isLocalHost("example.org"));
        QVERIFY(!domains.isLocalHost(""));
        // Without configured domains the default one is ours.
        LocalDomains none;
        QCOMPARE(none.primary(), QStringLiteral("switchboard.local"));
        QVERIFY(none.isLocalHost("switchboard.local"));
    }

    void listeningAddressIsOursWithItsPort() {
        LocalDomains domains;
        domains.addListeningEndpoint(FakeTransport::endpoint(Protocol::Udp, "127.0.0.1", 5060));
        domains.addListeningEndpoint(FakeTransport::endpoint(Protocol::Tcp, "127.0.0.1", 5070));
        domains.addListeningEndpoint(FakeTransport::endpoint(Protocol::Udp, "127.0.0.1", 5060));
        QCOMPARE(domains.listening().size(), 2u);  // no duplicates
        QVERIFY(domains.isLocalHost("127.0.0.1", 5060));
        QVERIFY(domains.isLocalHost("127.0.0.1", 5070));
        // No port: the transport's default port (5060 for UDP and TCP).
        QVERIFY(domains.isLocalHost("127.0.0.1"));
        QVERIFY(domains.isLocal(uri("sip:201@127.0.0.1")));
        // Another server on this machine, or another machine.
        QVERIFY(!domains.isLocalHost("127.0.0.1", 5080));
        QVERIFY(!domains.isLocalHost("127.0.0.2", 5060));

        LocalDomains tls;
        tls.addListeningEndpoint(FakeTransport::endpoint(Protocol::Tls, "127.0.0.1", 5061));
        QVERIFY(tls.isLocalHost("127.0.0.1"));  // 5061 is the default of TLS
        QVERIFY(!tls.isLocalHost("127.0.0.1", 5060));
    }

    void ipv6Addresses() {
        LocalDomains domains;
        domains.addListeningEndpoint(FakeTransport::endpoint(Protocol::Udp, "::1", 5060));
        QVERIFY(domains.isLocalHost("::1", 5060));
        QVERIFY(domains.isLocalHost("[::1]", 5060));
        QVERIFY(domains.isLocalHost("0:0::1"));  // the address, not its spelling
        QVERIFY(domains.isLocal(uri("sip:201@[::1]:5060")));
        QVERIFY(!domains.isLocal(uri("sip:201@[::1]:5062")));
        QVERIFY(!domains.isLocalHost("127.0.0.1", 5060));
        // An IPv4-mapped address is the IPv4 address.
        LocalDomains v4;
        v4.addListeningEndpoint(FakeTransport::endpoint(Protocol::Udp, "127.0.0.1", 5060));
        QVERIFY(v4.isLocalHost("::ffff:127.0.0.1", 5060));
    }

    void wildcardListenerIsOursOnlyAtOurAddresses() {
        // 0.0.0.0 takes packets for this machine's IPv4 addresses, not for every address:
        // a request for 127.0.0.9:5060 is somebody else's.
        LocalDomains domains;
        domains.setInterfaceAddresses({address("127.0.0.1"), address("127.0.0.5"), address("::1")});
        domains.addListeningEndpoint(FakeTransport::endpoint(Protocol::Udp, "0.0.0.0", 5060));
        QVERIFY(domains.isLocalHost("127.0.0.1", 5060));
        QVERIFY(domains.isLocalHost("127.0.0.5"));
        QVERIFY(!domains.isLocalHost("127.0.0.9", 5060));
        QVERIFY(!domains.isLocalHost("127.0.0.1", 5070));
        QVERIFY(!domains.isLocal(uri("sip:201@127.0.0.9")));
        // AnyIPv4 binds IPv4 only.
        QVERIFY(!domains.isLocalHost("::1", 5060));
        QVERIFY(domains.isInterfaceAddress(address("::1")));
        QVERIFY(!domains.isInterfaceAddress(address("127.0.0.9")));

        LocalDomains v6;
        v6.setInterfaceAddresses({address("127.0.0.1"), address("::1")});
        v6.addListeningEndpoint(FakeTransport::endpoint(Protocol::Udp, "::", 5060));
        QVERIFY(v6.isLocalHost("::1"));
        QVERIFY(!v6.isLocalHost("127.0.0.1"));  // AnyIPv6 binds IPv6 only

        LocalDomains both;
        both.setInterfaceAddresses({address("127.0.0.1"), address("::1")});
        transport::Endpoint any{Protocol::Tcp, QHostAddress(QHostAddress::Any), 5060};
        both.addListeningEndpoint(any);
        QVERIFY(both.isLocalHost("::1"));
        QVERIFY(both.isLocalHost("127.0.0.1"));
        QVERIFY(!both.isLocalHost("127.0.0.2"));
    }

    void wildcardListenerReadsTheMachinesAddresses() {
        // Without addresses set, the first wildcard listener reads the interfaces; the
        // loopback address is always among them.
        LocalDomains domains;
        domains.addListeningEndpoint(FakeTransport::endpoint(Protocol::Udp, "0.0.0.0", 5060));
        QVERIFY(!domains.interfaceAddresses().empty());
        QVERIFY(domains.isLocalHost("127.0.0.1", 5060));
    }

    void userOfAndAor() {
        LocalDomains domains(QStringList{QStringLiteral("switchboard.local")});
        domains.addListeningEndpoint(FakeTransport::endpoint(Protocol::Udp, "127.0.0.1", 5060));
        QCOMPARE(domains.userOf(uri("sip:201@switchboard.local;user=phone")),
                 QStringLiteral("201"));
        QCOMPARE(domains.userOf(uri("sip:%32%30%31@127.0.0.1")), QStringLiteral("201"));
        QVERIFY(domains.userOf(uri("sip:201@example.org")).isEmpty());
        QVERIFY(domains.userOf(uri("sip:switchboard.local")).isEmpty());
        QCOMPARE(domains.aorUri(QStringLiteral("201")),
                 QStringLiteral("sip:201@switchboard.local"));
    }

    void addressTowardsAPeerFollowsTheRoute() {
        LocalDomains domains;
        domains.setInterfaceAddresses({address("127.0.0.1"), address("127.0.0.7")});
        FakeRoutes routes;
        routes.table = {{address("127.0.0.20"), address("127.0.0.7")},
                        {address("::1"), address("::1")}};
        domains.setRouteLookup(routes.lookup());
        QCOMPARE(domains.addressTowards(address("127.0.0.20")), address("127.0.0.7"));
        QCOMPARE(domains.hostTowards(address("::1")), QByteArray("[::1]"));
        // IPv4-mapped peers are IPv4 peers.
        QCOMPARE(domains.addressTowards(address("::ffff:127.0.0.20")), address("127.0.0.7"));
        QCOMPARE(routes.calls, 2);  // the third answer came from the cache

        // No route: a loopback peer reaches our loopback address of its family.
        QCOMPARE(domains.addressTowards(address("127.0.0.30")), address("127.0.0.1"));
        routes.table.clear();
        domains.setRouteLookup(routes.lookup());
        QCOMPARE(domains.addressTowards(address("::1")), address("::1"));

        // The configured host wins.
        domains.setAdvertisedHost("127.0.0.9");
        QCOMPARE(domains.hostTowards(address("127.0.0.20")), QByteArray("127.0.0.9"));
    }

    void unknownPeerGetsAnAddressOrTheDomain() {
        LocalDomains domains(QStringList{QStringLiteral("office.example")});
        domains.setInterfaceAddresses({address("127.0.0.1")});
        FakeRoutes routes;
        domains.setRouteLookup(routes.lookup());
        // Nobody to route towards: an address of ours (loopback being all there is).
        QCOMPARE(domains.hostTowards(QHostAddress()), QByteArray("127.0.0.1"));
        QCOMPARE(routes.calls, 0);
        // A machine without addresses: the primary domain is the last resort.
        domains.setInterfaceAddresses({});
        QCOMPARE(domains.hostTowards(QHostAddress()), QByteArray("office.example"));
    }

    void routeCacheIsBounded() {
        LocalDomains domains;
        domains.setInterfaceAddresses({address("127.0.0.1")});
        FakeRoutes routes;
        routes.fallback = address("127.0.0.1");
        domains.setRouteLookup(routes.lookup());
        const QHostAddress first = address("::1");
        domains.addressTowards(first);
        domains.addressTowards(first);
        QCOMPARE(routes.calls, 1);
        // A flood of distinct sources cannot grow the cache beyond its bound: when it is
        // full it starts over, and earlier answers are asked for again.
        static_assert(LocalDomains::kMaxCachedRoutes == 256);
        const quint32 base = address("127.0.0.0").toIPv4Address();
        for (quint32 i = 0; i < 256; ++i)
            domains.addressTowards(QHostAddress(base + i));
        QCOMPARE(routes.calls, 257);
        domains.addressTowards(first);
        QCOMPARE(routes.calls, 258);
        domains.addressTowards(address("127.0.0.255"));  // the newest answer stayed
        QCOMPARE(routes.calls, 258);
    }
};

QTEST_GUILESS_MAIN(TestLocalDomains)
#include "tst_local_domains.moc"
