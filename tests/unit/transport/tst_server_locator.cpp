#include <QTest>

#include <deque>
#include <map>

#include "base/manual_clock.h"
#include "base/random.h"
#include "sip/uri.h"
#include "transport/server_locator.h"

using namespace sb;
using namespace sb::transport;
using namespace std::chrono_literals;

namespace {

// Answers RFC 3263's questions from tables, later (deliver()), and records what was asked.
class FakeDnsResolver final : public DnsResolver {
public:
    std::map<QByteArray, Result<std::vector<NaptrRecord>>> naptr;
    std::map<QByteArray, Result<std::vector<SrvRecord>>> srv;
    std::map<QByteArray, Result<QList<QHostAddress>>> addresses;
    QList<QByteArray> asked;  // "NAPTR name", "SRV name", "A name"

    void lookupNaptr(const QByteArray& domain, NaptrCallback done) override {
        asked.append("NAPTR " + domain);
        const auto it = naptr.find(domain);
        auto answer = it == naptr.end() ? Result<std::vector<NaptrRecord>>{} : it->second;
        m_pending.push_back([done = std::move(done), answer] { done(answer); });
    }
    void lookupSrv(const QByteArray& name, SrvCallback done) override {
        asked.append("SRV " + name);
        const auto it = srv.find(name);
        auto answer = it == srv.end() ? Result<std::vector<SrvRecord>>{} : it->second;
        m_pending.push_back([done = std::move(done), answer] { done(answer); });
    }
    void lookupAddresses(const QByteArray& host, AddressCallback done) override {
        asked.append("A " + host);
        const auto it = addresses.find(host);
        auto answer = it == addresses.end() ? Result<QList<QHostAddress>>{} : it->second;
        m_pending.push_back([done = std::move(done), answer] { done(answer); });
    }

    // Answers every question asked so far, and those asked while answering.
    int deliver() {
        int count = 0;
        while (!m_pending.empty()) {
            auto next = std::move(m_pending.front());
            m_pending.pop_front();
            next();
            ++count;
        }
        return count;
    }
    std::size_t pending() const { return m_pending.size(); }

private:
    std::deque<std::function<void()>> m_pending;
};

NaptrRecord naptr(quint16 order, quint16 preference, QByteArray flags, QByteArray service,
                  QByteArray replacement) {
    return NaptrRecord{
        order, preference, std::move(flags), std::move(service), {}, std::move(replacement)};
}

Endpoint ep(Protocol protocol, const char* address, quint16 port) {
    return {protocol, QHostAddress(address), port};
}

struct Fixture {
    FakeDnsResolver dns;
    base::ManualClock clock;
    base::SeededRandom random{42};
    std::unique_ptr<ServerLocator> locator;
    std::optional<Result<ServerTargets>> result;
    int calls = 0;

    explicit Fixture(LocatorOptions options = {}) {
        locator = std::make_unique<ServerLocator>(dns, clock, random, std::move(options));
    }
    ServerLocator::LookupId locate(const char* uriText) {
        const auto uri = sip::Uri::parse(uriText);
        if (!uri) qFatal("bad test URI %s", uriText);
        return locator->locate(*uri, [this](Result<ServerTargets> r) {
            ++calls;
            result = std::move(r);
        });
    }
    // Runs the zero-delay start and every DNS answer.
    void run() {
        clock.advance(0ms);
        while (dns.deliver() > 0)
            clock.advance(0ms);
        clock.advance(0ms);
    }
    std::vector<Endpoint> endpoints() const {
        std::vector<Endpoint> out;
        if (result && *result) {
            for (const auto& target : (*result)->all())
                out.push_back(target.endpoint);
        }
        return out;
    }
};

}  // namespace

// RFC 3263 §4 server location with a fake resolver: no network.
class TstServerLocator : public QObject {
    Q_OBJECT
private slots:
    void numericAddressNeedsNoDns();
    void numericWithTransportAndPort();
    void ipv6Reference();
    void sipsNeedsTls();
    void nameWithPortAsksOnlyAddresses();
    void transportWithoutPortAsksSrv();
    void transportWithoutSrvFallsBackToAddresses();
    void naptrOrdersTransports();
    void naptrPreferenceWithinOrder();
    void naptrSkipsUnusableRecords();
    void withoutNaptrSrvPerTransport();
    void withoutSrvAddressesWithUdp();
    void srvPriorityOrder();
    void srvWeightsAreHonoured();
    void srvZeroWeightsStillListed();
    void srvDotMeansUnavailable();
    void everyAddressOfEveryTargetIsListed();
    void dnsErrorsAreReported();
    void maddrIsTheTarget();
    void badUrisAreRejected();
    void cancelMeansNoCallback();
    void destroyedLocatorNeverCallsBack();
    void srvTargetsAreBounded();
    void failoverCursor();
};

void TstServerLocator::numericAddressNeedsNoDns() {
    Fixture f;
    f.locate("sip:bob@192.0.2.10");
    QCOMPARE(f.calls, 0);  // never from inside locate()
    f.run();
    QCOMPARE(f.calls, 1);
    QVERIFY(f.dns.asked.isEmpty());
    QCOMPARE(f.endpoints(), (std::vector<Endpoint>{ep(Protocol::Udp, "192.0.2.10", 5060)}));
}

void TstServerLocator::numericWithTransportAndPort() {
    Fixture f;
    f.locate("sip:192.0.2.10:5080;transport=tcp");
    f.run();
    QCOMPARE(f.endpoints(), (std::vector<Endpoint>{ep(Protocol::Tcp, "192.0.2.10", 5080)}));
    QVERIFY(f.dns.asked.isEmpty());
}

void TstServerLocator::ipv6Reference() {
    Fixture f;
    f.locate("sip:[2001:db8::7]:5070");
    f.run();
    QCOMPARE(f.endpoints(), (std::vector<Endpoint>{ep(Protocol::Udp, "2001:db8::7", 5070)}));
}

void TstServerLocator::sipsNeedsTls() {
    Fixture f;  // UDP and TCP only
    f.locate("sips:192.0.2.10");
    f.run();
    QVERIFY(f.result && !f.result->has_value());

    Fixture tls(LocatorOptions{{Protocol::Udp, Protocol::Tcp, Protocol::Tls}});
    tls.locate("sips:192.0.2.10");
    tls.run();
    QCOMPARE(tls.endpoints(), (std::vector<Endpoint>{ep(Protocol::Tls, "192.0.2.10", 5061)}));
}

void TstServerLocator::nameWithPortAsksOnlyAddresses() {
    Fixture f;
    f.dns.addresses["pbx.example.com"] =
        QList<QHostAddress>{QHostAddress("192.0.2.1"), QHostAddress("2001:db8::1")};
    f.locate("sip:alice@pbx.example.com:5070");
    f.run();
    QCOMPARE(f.dns.asked, QList<QByteArray>{"A pbx.example.com"});
    QCOMPARE(f.endpoints(), (std::vector<Endpoint>{ep(Protocol::Udp, "192.0.2.1", 5070),
                                                   ep(Protocol::Udp, "2001:db8::1", 5070)}));
    QCOMPARE((*f.result)->all().front().domain, QByteArray("pbx.example.com"));
}

void TstServerLocator::transportWithoutPortAsksSrv() {
    Fixture f;
    f.dns.srv["_sip._tcp.example.com"] = std::vector<SrvRecord>{{10, 0, 5090, "sip1.example.com."}};
    f.dns.addresses["sip1.example.com"] = QList<QHostAddress>{QHostAddress("192.0.2.21")};
    f.locate("sip:example.com;transport=tcp");
    f.run();
    QCOMPARE(f.dns.asked, (QList<QByteArray>{"SRV _sip._tcp.example.com", "A sip1.example.com"}));
    QCOMPARE(f.endpoints(), (std::vector<Endpoint>{ep(Protocol::Tcp, "192.0.2.21", 5090)}));
}

void TstServerLocator::transportWithoutSrvFallsBackToAddresses() {
    Fixture f;
    f.dns.addresses["example.com"] = QList<QHostAddress>{QHostAddress("192.0.2.30")};
    f.locate("sip:example.com;transport=tcp");
    f.run();
    QCOMPARE(f.endpoints(), (std::vector<Endpoint>{ep(Protocol::Tcp, "192.0.2.30", 5060)}));
}

void TstServerLocator::naptrOrdersTransports() {
    Fixture f;
    f.dns.naptr["example.com"] = std::vector<NaptrRecord>{
        naptr(20, 10, "s", "SIP+D2U", "_sip._udp.example.com"),
        naptr(10, 10, "S", "SIP+D2T", "_sip._tcp.example.com"),
    };
    f.dns.srv["_sip._tcp.example.com"] = std::vector<SrvRecord>{{10, 0, 5060, "tcp.example.com"}};
    f.dns.srv["_sip._udp.example.com"] = std::vector<SrvRecord>{{10, 0, 5062, "udp.example.com"}};
    f.dns.addresses["tcp.example.com"] = QList<QHostAddress>{QHostAddress("192.0.2.1")};
    f.dns.addresses["udp.example.com"] = QList<QHostAddress>{QHostAddress("192.0.2.2")};
    f.locate("sip:bob@example.com");
    f.run();
    QCOMPARE(f.dns.asked.front(), QByteArray("NAPTR example.com"));
    // Order 10 (TCP) before order 20 (UDP); both kept for failover.
    QCOMPARE(f.endpoints(), (std::vector<Endpoint>{ep(Protocol::Tcp, "192.0.2.1", 5060),
                                                   ep(Protocol::Udp, "192.0.2.2", 5062)}));
}

void TstServerLocator::naptrPreferenceWithinOrder() {
    Fixture f;
    f.dns.naptr["example.com"] = std::vector<NaptrRecord>{
        naptr(10, 50, "s", "SIP+D2T", "_sip._tcp.example.com"),
        naptr(10, 20, "s", "SIP+D2U", "_sip._udp.example.com"),
    };
    f.dns.srv["_sip._tcp.example.com"] = std::vector<SrvRecord>{{10, 0, 5060, "tcp.example.com"}};
    f.dns.srv["_sip._udp.example.com"] = std::vector<SrvRecord>{{10, 0, 5060, "udp.example.com"}};
    f.dns.addresses["tcp.example.com"] = QList<QHostAddress>{QHostAddress("192.0.2.1")};
    f.dns.addresses["udp.example.com"] = QList<QHostAddress>{QHostAddress("192.0.2.2")};
    f.locate("sip:example.com");
    f.run();
    QCOMPARE(f.endpoints(), (std::vector<Endpoint>{ep(Protocol::Udp, "192.0.2.2", 5060),
                                                   ep(Protocol::Tcp, "192.0.2.1", 5060)}));
}

void TstServerLocator::naptrSkipsUnusableRecords() {
    Fixture f;  // no TLS
    f.dns.naptr["example.com"] = std::vector<NaptrRecord>{
        naptr(5, 10, "s", "SIPS+D2T", "_sips._tcp.example.com"),      // TLS: not supported
        naptr(6, 10, "u", "E2U+sip", "!^.*$!sip:info@example.com!"),  // not a SIP service
        naptr(7, 10, "a", "SIP+D2T", "tcp.example.com"),              // not terminal "s"
        naptr(8, 10, "s", "SIP+D2U", "_sip._udp.example.com"),
    };
    f.dns.srv["_sip._udp.example.com"] = std::vector<SrvRecord>{{10, 0, 5060, "udp.example.com"}};
    f.dns.addresses["udp.example.com"] = QList<QHostAddress>{QHostAddress("192.0.2.2")};
    f.locate("sip:example.com");
    f.run();
    QVERIFY(!f.dns.asked.contains("SRV _sips._tcp.example.com"));
    QCOMPARE(f.endpoints(), (std::vector<Endpoint>{ep(Protocol::Udp, "192.0.2.2", 5060)}));
}

void TstServerLocator::withoutNaptrSrvPerTransport() {
    Fixture f(LocatorOptions{{Protocol::Tcp, Protocol::Udp}});  // TCP preferred
    f.dns.srv["_sip._tcp.example.com"] = std::vector<SrvRecord>{{10, 0, 5060, "tcp.example.com"}};
    f.dns.srv["_sip._udp.example.com"] = std::vector<SrvRecord>{{10, 0, 5060, "udp.example.com"}};
    f.dns.addresses["tcp.example.com"] = QList<QHostAddress>{QHostAddress("192.0.2.1")};
    f.dns.addresses["udp.example.com"] = QList<QHostAddress>{QHostAddress("192.0.2.2")};
    f.locate("sip:example.com");
    f.run();
    QVERIFY(f.dns.asked.contains("SRV _sip._tcp.example.com"));
    QVERIFY(f.dns.asked.contains("SRV _sip._udp.example.com"));
    QCOMPARE(f.endpoints(), (std::vector<Endpoint>{ep(Protocol::Tcp, "192.0.2.1", 5060),
                                                   ep(Protocol::Udp, "192.0.2.2", 5060)}));
}

void TstServerLocator::withoutSrvAddressesWithUdp() {
    Fixture f;
    f.dns.addresses["example.com"] = QList<QHostAddress>{QHostAddress("192.0.2.9")};
    f.locate("sip:example.com");
    f.run();
    QCOMPARE(f.endpoints(), (std::vector<Endpoint>{ep(Protocol::Udp, "192.0.2.9", 5060)}));
}

void TstServerLocator::srvPriorityOrder() {
    Fixture f;
    f.dns.srv["_sip._udp.example.com"] =
        std::vector<SrvRecord>{{20, 100, 5060, "backup.example.com"},
                               {10, 1, 5060, "main.example.com"},
                               {30, 0, 5060, "last.example.com"}};
    f.dns.addresses["backup.example.com"] = QList<QHostAddress>{QHostAddress("192.0.2.2")};
    f.dns.addresses["main.example.com"] = QList<QHostAddress>{QHostAddress("192.0.2.1")};
    f.dns.addresses["last.example.com"] = QList<QHostAddress>{QHostAddress("192.0.2.3")};
    f.locate("sip:example.com;transport=udp");
    f.run();
    QCOMPARE(f.endpoints(), (std::vector<Endpoint>{ep(Protocol::Udp, "192.0.2.1", 5060),
                                                   ep(Protocol::Udp, "192.0.2.2", 5060),
                                                   ep(Protocol::Udp, "192.0.2.3", 5060)}));
}

void TstServerLocator::srvWeightsAreHonoured() {
    // RFC 2782: within one priority, a record is first with probability weight / total.
    base::SeededRandom random(7);
    const std::vector<SrvRecord> records{
        {10, 90, 5060, "heavy"}, {10, 10, 5060, "light"}, {5, 0, 5060, "first"}};
    int heavyFirst = 0;
    const int runs = 4000;
    for (int i = 0; i < runs; ++i) {
        const auto ordered = ServerLocator::orderSrv(records, random);
        QCOMPARE(ordered.size(), std::size_t(3));
        QCOMPARE(ordered[0].target, QByteArray("first"));  // lower priority value always first
        if (ordered[1].target == "heavy") ++heavyFirst;
    }
    const double share = double(heavyFirst) / runs;
    QVERIFY2(share > 0.85 && share < 0.95, qPrintable(QString::number(share)));
}

void TstServerLocator::srvZeroWeightsStillListed() {
    base::SeededRandom random(3);
    const std::vector<SrvRecord> records{{10, 0, 5060, "zero"}, {10, 100, 5060, "hundred"}};
    int zeroFirst = 0;
    for (int i = 0; i < 1000; ++i) {
        const auto ordered = ServerLocator::orderSrv(records, random);
        QCOMPARE(ordered.size(), std::size_t(2));
        if (ordered[0].target == "zero") ++zeroFirst;
    }
    QVERIFY(zeroFirst < 50);  // only when the draw is exactly 0: about 1 in 101
    const auto allZero = ServerLocator::orderSrv({{1, 0, 1, "a"}, {1, 0, 2, "b"}}, random);
    QCOMPARE(allZero.size(), std::size_t(2));
}

void TstServerLocator::srvDotMeansUnavailable() {
    Fixture f;
    f.dns.srv["_sip._tcp.example.com"] = std::vector<SrvRecord>{{0, 0, 0, "."}};
    f.dns.addresses["example.com"] = QList<QHostAddress>{QHostAddress("192.0.2.9")};
    f.locate("sip:example.com;transport=tcp");
    f.run();
    QVERIFY(f.result && !f.result->has_value());
    QVERIFY(!f.dns.asked.contains("A example.com"));
}

void TstServerLocator::everyAddressOfEveryTargetIsListed() {
    Fixture f;
    f.dns.srv["_sip._udp.example.com"] =
        std::vector<SrvRecord>{{10, 0, 5060, "a.example.com"}, {20, 0, 5070, "b.example.com"}};
    f.dns.addresses["a.example.com"] = QList<QHostAddress>{
        QHostAddress("192.0.2.1"), QHostAddress("2001:db8::1"), QHostAddress("192.0.2.1")};
    f.dns.addresses["b.example.com"] = QList<QHostAddress>{QHostAddress("::ffff:192.0.2.2")};
    f.locate("sip:example.com;transport=udp");
    f.run();
    QCOMPARE(f.endpoints(), (std::vector<Endpoint>{ep(Protocol::Udp, "192.0.2.1", 5060),
                                                   ep(Protocol::Udp, "2001:db8::1", 5060),
                                                   ep(Protocol::Udp, "192.0.2.2", 5070)}));
}

void TstServerLocator::dnsErrorsAreReported() {
    Fixture f;
    f.dns.naptr["example.com"] = fail(ErrorKind::Transport, QStringLiteral("SERVFAIL"));
    f.dns.addresses["example.com"] =
        fail(ErrorKind::Transport, QStringLiteral("resolver timed out"));
    f.locate("sip:example.com");
    f.run();
    QCOMPARE(f.calls, 1);
    QVERIFY(f.result && !f.result->has_value());
    QVERIFY(f.result->error().reason.contains(QLatin1String("example.com")));
    QVERIFY(f.result->error().reason.contains(QLatin1String("resolver timed out")));
    // A NAPTR failure alone still lets SRV and A answer.
    Fixture g;
    g.dns.naptr["example.com"] = fail(ErrorKind::Transport, QStringLiteral("SERVFAIL"));
    g.dns.addresses["example.com"] = QList<QHostAddress>{QHostAddress("192.0.2.9")};
    g.locate("sip:example.com");
    g.run();
    QCOMPARE(g.endpoints(), (std::vector<Endpoint>{ep(Protocol::Udp, "192.0.2.9", 5060)}));
}

void TstServerLocator::maddrIsTheTarget() {
    Fixture f;
    f.locate("sip:bob@example.com;maddr=192.0.2.77;transport=tcp");
    f.run();
    QCOMPARE(f.endpoints(), (std::vector<Endpoint>{ep(Protocol::Tcp, "192.0.2.77", 5060)}));
    QVERIFY(f.dns.asked.isEmpty());
}

void TstServerLocator::badUrisAreRejected() {
    for (const char* text : {"tel:+15551234", "sips:bob@example.com;transport=udp",
                             "sip:bob@example.com;transport=sctp"}) {
        Fixture f;
        f.locate(text);
        QCOMPARE(f.calls, 0);
        f.run();
        QCOMPARE(f.calls, 1);
        QVERIFY2(f.result && !f.result->has_value(), text);
        QVERIFY(f.dns.asked.isEmpty());
    }
    const auto uri = sip::Uri::parse("sips:bob@example.com;transport=tcp");
    QVERIFY(uri.has_value());
    const auto query = LocateQuery::fromUri(*uri);
    QVERIFY(query.has_value());
    QCOMPARE(query->transport, std::optional(Protocol::Tls));
    QVERIFY(query->secure);
}

void TstServerLocator::cancelMeansNoCallback() {
    Fixture f;
    f.dns.addresses["example.com"] = QList<QHostAddress>{QHostAddress("192.0.2.9")};
    const auto id = f.locate("sip:example.com:5060");
    f.clock.advance(0ms);
    QCOMPARE(f.dns.pending(), std::size_t(1));
    f.locator->cancel(id);
    f.run();
    QCOMPARE(f.calls, 0);
    QCOMPARE(f.locator->pendingLookups(), std::size_t(0));

    const auto numeric = f.locate("sip:192.0.2.1");
    f.locator->cancel(numeric);
    f.run();
    QCOMPARE(f.calls, 0);
}

void TstServerLocator::destroyedLocatorNeverCallsBack() {
    Fixture f;
    f.dns.addresses["example.com"] = QList<QHostAddress>{QHostAddress("192.0.2.9")};
    f.locate("sip:example.com:5060");
    f.clock.advance(0ms);  // asks DNS
    QCOMPARE(f.dns.pending(), std::size_t(1));
    f.locate("sip:192.0.2.1");  // answered on the next turn, which never comes for it
    f.locator.reset();
    f.dns.deliver();
    f.clock.advance(1s);
    QCOMPARE(f.calls, 0);
}

void TstServerLocator::srvTargetsAreBounded() {
    LocatorOptions options;
    options.maxSrvTargets = 3;
    Fixture f(options);
    std::vector<SrvRecord> records;
    for (int i = 0; i < 50; ++i) {
        const QByteArray name = "h" + QByteArray::number(i) + ".example.com";
        records.push_back({quint16(i), 0, 5060, name});
        f.dns.addresses[name] =
            QList<QHostAddress>{QHostAddress(QStringLiteral("192.0.2.%1").arg(i + 1))};
    }
    f.dns.srv["_sip._udp.example.com"] = records;
    f.locate("sip:example.com;transport=udp");
    f.run();
    QCOMPARE(f.endpoints().size(), std::size_t(3));
    QCOMPARE(f.dns.asked.count(), 4);  // one SRV, three A
}

void TstServerLocator::failoverCursor() {
    ServerTargets targets(
        {{ep(Protocol::Tcp, "192.0.2.1", 5060), "a"}, {ep(Protocol::Udp, "192.0.2.2", 5060), "b"}});
    QCOMPARE(targets.current()->domain, QByteArray("a"));
    QVERIFY(targets.failover());  // e.g. connection refused, or 503
    QCOMPARE(targets.current()->endpoint, ep(Protocol::Udp, "192.0.2.2", 5060));
    QCOMPARE(targets.position(), std::size_t(1));
    QVERIFY(!targets.failover());  // timeout on the last one
    QVERIFY(targets.exhausted());
    QCOMPARE(targets.current(), nullptr);
    QVERIFY(!targets.failover());
    QVERIFY(ServerTargets().exhausted());
}

QTEST_GUILESS_MAIN(TstServerLocator)
#include "tst_server_locator.moc"
