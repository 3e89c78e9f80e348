// SipServer, the dispatcher of the built-in server, over a FakeTransport, a ManualClock
// and a real TransactionLayer: authentication of REGISTER (trusted loopback or digest),
// calls between registered users Record-Routed with a token, and in-dialog requests
// admitted by that token alone (no open relay, RFC 3261 §16; 481 otherwise, §12.2.2).

#include <QTest>

#include "base/manual_clock.h"
#include "base/random.h"
#include "fake_transport.h"
#include "server/sip_server.h"
#include "server/user_store.h"
#include "transaction/transaction_layer.h"

using namespace sb;
using namespace sb::server;
using sb::test::FakeTransport;
using sb::test::SentMessage;
using transport::Protocol;

namespace {

transport::Endpoint endpoint(Protocol protocol, const char* address, quint16 port) {
    return FakeTransport::endpoint(protocol, address, port);
}

const transport::Endpoint kAlice = endpoint(Protocol::Udp, "127.0.0.2", 5070);  // 201
const transport::Endpoint kBob = endpoint(Protocol::Udp, "127.0.0.3", 5080);    // 202
const QByteArray kAliceContact = "sip:201@127.0.0.2:5070";
const QByteArray kBobContact = "sip:202@127.0.0.3:5080";
const QByteArray kCallId = "call-1@127.0.0.2";
const QByteArray kSecret(32, 'x');

SipServerOptions defaultOptions() {
    SipServerOptions options;
    options.domains = QStringList{QStringLiteral("switchboard.local")};
    options.secret = kSecret;
    return options;
}

// The server listens on 127.0.0.1:5060 (UDP and TCP), or on 0.0.0.0:5060 when
// `wildcard`, with this machine's addresses being 127.0.0.1 and 127.0.0.7.
struct Fixture {
    explicit Fixture(SipServerOptions options = defaultOptions(), bool wildcard = false)
        : layer(transport, clock, random) {
        users.setRealm(QStringLiteral("switchboard.local"));
        for (const char* user : {"201", "202"})
            QVERIFY(users.addUser(QString::fromLatin1(user), "secret"));
        server = std::make_unique<SipServer>(layer, transport, clock, random, users, options);
        const char* listen = wildcard ? "0.0.0.0" : "127.0.0.1";
        if (wildcard) {
            server->domains().setInterfaceAddresses({QHostAddress(QStringLiteral("127.0.0.1")),
                                                     QHostAddress(QStringLiteral("127.0.0.7"))});
        }
        for (Protocol protocol : {Protocol::Udp, Protocol::Tcp}) {
            transport.setLocalEndpoint(endpoint(protocol, listen, 5060));
            server->addListeningEndpoint(endpoint(protocol, listen, 5060));
        }
        layer.setServerUser(server.get());
    }
    ~Fixture() {
        layer.setServerUser(nullptr);
        server.reset();
    }

    static sip::Message request(sip::Method method, QByteArray requestUri, QByteArray branch,
                                quint32 cseq, QByteArray from, QByteArray to,
                                QByteArray callId = kCallId, const char* via = "127.0.0.2:5070") {
        sip::Message m = sip::Message::request(method, std::move(requestUri));
        m.addHeader(sip::HeaderId::Via,
                    QByteArray("SIP/2.0/UDP ") + via + ";branch=" + branch + ";rport");
        m.addHeader(sip::HeaderId::MaxForwards, "70");
        m.addHeader(sip::HeaderId::From, std::move(from));
        m.addHeader(sip::HeaderId::To, std::move(to));
        m.addHeader(sip::HeaderId::CallId, std::move(callId));
        m.addHeader(sip::HeaderId::CSeq,
                    QByteArray::number(cseq) + ' ' + sip::methodName(method).toByteArray());
        return m;
    }

    static sip::Message registerOf(const char* user, QByteArray contact, QByteArray branch,
                                   const char* via) {
        const QByteArray aor = "<sip:" + QByteArray(user) + "@switchboard.local>";
        sip::Message m = request(sip::Method::Register, "sip:switchboard.local", branch, 1,
                                 aor + ";tag=reg-" + user, aor, "reg-" + QByteArray(user), via);
        m.addHeader(sip::HeaderId::Contact, '<' + contact + '>');
        m.addHeader(sip::HeaderId::Expires, "3600");
        return m;
    }

    void registerBoth() {
        QVERIFY(transport.inject(
            registerOf("201", kAliceContact, "z9hG4bK-reg-a", "127.0.0.2:5070"), kAlice));
        QVERIFY(transport.inject(registerOf("202", kBobContact, "z9hG4bK-reg-b", "127.0.0.3:5080"),
                                 kBob));
        QCOMPARE(transport.countResponses(200), 2);
        transport.clearSent();
    }

    // 201 calls 202 through the server; 202 answers 200. Returns the INVITE 202 got.
    SentMessage call() {
        sip::Message invite =
            request(sip::Method::Invite, "sip:202@switchboard.local", "z9hG4bK-inv", 1,
                    "<sip:201@switchboard.local>;tag=alice", "<sip:202@switchboard.local>");
        invite.addHeader(sip::HeaderId::Contact, '<' + kAliceContact + '>');
        if (!transport.inject(invite, kAlice)) qWarning("INVITE not injected");
        const auto forwarded = requestsTo(sip::Method::Invite, kBob);
        if (forwarded.empty()) {
            qWarning("INVITE not forwarded");
            return {};
        }
        sip::Message ok = sip::makeResponse(forwarded.front().message, 200, {}, "bob");
        for (QByteArrayView rr : forwarded.front().message.values(sip::HeaderId::RecordRoute))
            ok.addHeader(sip::HeaderId::RecordRoute, rr.toByteArray());
        ok.addHeader(sip::HeaderId::Contact, '<' + kBobContact + '>');
        if (!transport.answer(forwarded.front(), ok)) qWarning("200 not delivered");
        return forwarded.front();
    }

    // An in-dialog request of the call from 201 to 202's Contact.
    static sip::Message inDialog(sip::Method method, QByteArray branch, quint32 cseq,
                                 QByteArray requestUri = kBobContact) {
        return request(method, std::move(requestUri), std::move(branch), cseq,
                       "<sip:201@switchboard.local>;tag=alice",
                       "<sip:202@switchboard.local>;tag=bob");
    }

    QByteArray ownRoute() const {
        return "<sip:127.0.0.1:5060;sbrr=" + server->proxy().recordRoute().tokenFor(kCallId) +
               ";lr>";
    }

    std::vector<SentMessage> requestsTo(sip::Method method, const transport::Endpoint& to) const {
        std::vector<SentMessage> out;
        for (const SentMessage& s : transport.requests(method))
            if (s.destination == to) out.push_back(s);
        return out;
    }
    // Final responses sent to `to` for requests of `method`.
    std::vector<int> statusesTo(const transport::Endpoint& to, sip::Method method) const {
        std::vector<int> out;
        for (const SentMessage& s : transport.responses()) {
            const auto cseq = s.message.cseq();
            if (s.destination == to && cseq && cseq->method == method && s.statusCode() >= 200)
                out.push_back(s.statusCode());
        }
        return out;
    }

    base::ManualClock clock;
    FakeTransport transport{&clock};
    base::SeededRandom random{7};
    transaction::TransactionLayer layer;
    UserStore users;
    std::unique_ptr<SipServer> server;
};

}  // namespace

class TestSipServer : public QObject {
    Q_OBJECT

private slots:
    void registerFromLoopbackIsTrusted() {
        Fixture f;
        QVERIFY(f.transport.inject(
            Fixture::registerOf("201", kAliceContact, "z9hG4bK-r1", "127.0.0.2:5070"), kAlice));
        QCOMPARE(f.transport.countResponses(200), 1);
        QCOMPARE(f.server->counters().registers, 1u);
        QCOMPARE(f.server->counters().challenges, 0u);
        const auto bindings = f.server->bindings().lookup(QStringLiteral("201"));
        QCOMPARE(bindings.size(), 1u);
        QCOMPARE(bindings.front().contactUri, kAliceContact);
    }

    void registerIsChallengedWithoutTrust() {
        SipServerOptions options = defaultOptions();
        options.trustLoopback = false;
        Fixture f(options);
        QVERIFY(f.transport.inject(
            Fixture::registerOf("201", kAliceContact, "z9hG4bK-r2", "127.0.0.2:5070"), kAlice));
        QCOMPARE(f.transport.countResponses(401), 1);
        QVERIFY(f.transport.lastResponse()->message.has(sip::HeaderId::WwwAuthenticate));
        QCOMPARE(f.server->counters().challenges, 1u);
        QVERIFY(f.server->bindings().lookup(QStringLiteral("201")).empty());
    }

    void optionsToTheServerIsAnswered() {
        Fixture f;
        QVERIFY(f.transport.inject(
            Fixture::request(sip::Method::Options, "sip:127.0.0.1:5060", "z9hG4bK-o1", 1,
                             "<sip:201@switchboard.local>;tag=o", "<sip:127.0.0.1:5060>"),
            kAlice));
        QCOMPARE(f.statusesTo(kAlice, sip::Method::Options), std::vector<int>{200});
        const sip::Message& answer = f.transport.lastResponse()->message;
        QVERIFY(answer.has(sip::HeaderId::Allow));
        QCOMPARE(answer.header(sip::HeaderId::AllowEvents), QByteArrayView("dialog"));
        // Path (RFC 3327) is ignored, not supported: never advertised.
        QVERIFY(!answer.has(sip::HeaderId::Supported));
    }

    void callIsRecordRoutedWithAToken() {
        Fixture f;
        f.registerBoth();
        const SentMessage invite = f.call();
        const QByteArray token = f.server->proxy().recordRoute().tokenFor(kCallId);
        QCOMPARE(token.size(), 16);
        QCOMPARE(invite.message.header(sip::HeaderId::RecordRoute), QByteArrayView(f.ownRoute()));
        QCOMPARE(f.statusesTo(kAlice, sip::Method::Invite), std::vector<int>{200});
        QCOMPARE(f.server->tracker().calls().size(), 1u);
    }

    void ackAndByeWithTheTokenAreForwarded() {
        Fixture f;
        f.registerBoth();
        f.call();
        sip::Message ack = Fixture::inDialog(sip::Method::Ack, "z9hG4bK-ack", 1);
        ack.addHeader(sip::HeaderId::Route, f.ownRoute());
        QVERIFY(f.transport.inject(ack, kAlice));
        QCOMPARE(f.requestsTo(sip::Method::Ack, kBob).size(), 1u);

        sip::Message bye = Fixture::inDialog(sip::Method::Bye, "z9hG4bK-bye", 2);
        bye.addHeader(sip::HeaderId::Route, f.ownRoute());
        QVERIFY(f.transport.inject(bye, kAlice));
        const auto forwarded = f.requestsTo(sip::Method::Bye, kBob);
        QCOMPARE(forwarded.size(), 1u);
        QVERIFY(!forwarded.front().message.has(sip::HeaderId::Route));
        QVERIFY(f.transport.respond(forwarded.front(), 200));
        QCOMPARE(f.statusesTo(kAlice, sip::Method::Bye), std::vector<int>{200});
    }

    void forgedInDialogRequestsGet481() {
        Fixture f;
        f.registerBoth();
        f.call();
        // Forged token, no token, our entry for another call, and no Route at all (aimed
        // at any address: the old open relay).
        const QByteArray routes[] = {
            "<sip:127.0.0.1:5060;sbrr=AAAAAAAAAAAAAAAAAAAAAA;lr>",
            "<sip:127.0.0.1:5060;lr>",
            "<sip:127.0.0.1:5060;sbrr=" + f.server->proxy().recordRoute().tokenFor("other") +
                ";lr>",
            {},
        };
        int n = 0;
        for (const QByteArray& route : routes) {
            sip::Message bye =
                Fixture::inDialog(sip::Method::Bye, "z9hG4bK-forged-" + QByteArray::number(++n), 2,
                                  "sip:anyone@127.0.0.9:5060");
            if (!route.isEmpty()) bye.addHeader(sip::HeaderId::Route, route);
            QVERIFY(f.transport.inject(bye, kAlice));
        }
        QCOMPARE(f.statusesTo(kAlice, sip::Method::Bye), (std::vector<int>{481, 481, 481, 481}));
        QCOMPARE(f.transport.countRequests(sip::Method::Bye), 0);
        // Trusted sources (loopback here) follow the same rule: nobody is let through
        // without the token.
        QVERIFY(f.server->counters().proxiedRequests > 0);
    }

    void ackWithoutTokenIsDropped() {
        Fixture f;
        f.registerBoth();
        f.call();
        f.transport.clearSent();
        QVERIFY(
            f.transport.inject(Fixture::inDialog(sip::Method::Ack, "z9hG4bK-ack-1", 1), kAlice));
        sip::Message forged =
            Fixture::inDialog(sip::Method::Ack, "z9hG4bK-ack-2", 1, "sip:anyone@127.0.0.9:5060");
        forged.addHeader(sip::HeaderId::Route, "<sip:127.0.0.1:5060;lr>");
        QVERIFY(f.transport.inject(forged, kAlice));
        QVERIFY(f.transport.sent().empty());  // neither forwarded nor answered
    }

    void byeWithTheTokenPassesAfterARestart() {
        // The tracker forgot the call (a restart here; its lifetime elsewhere): the token
        // alone admits the BYE, since the secret is the same.
        Fixture before;
        const QByteArray route = before.ownRoute();
        Fixture after;
        QCOMPARE(after.server->tracker().calls().size(), 0u);
        sip::Message bye = Fixture::inDialog(sip::Method::Bye, "z9hG4bK-bye-restart", 2);
        bye.addHeader(sip::HeaderId::Route, route);
        QVERIFY(after.transport.inject(bye, kAlice));
        QCOMPARE(after.requestsTo(sip::Method::Bye, kBob).size(), 1u);

        // Another secret (none kept: random per start) does not know the token.
        SipServerOptions options = defaultOptions();
        options.secret.clear();
        Fixture other(options);
        QVERIFY(other.transport.inject(bye, kAlice));
        QCOMPARE(other.statusesTo(kAlice, sip::Method::Bye), std::vector<int>{481});
    }

    void inDialogRequestReachesANatPhoneByItsContact() {
        // 202 registered a private Contact from elsewhere (behind NAT): the BYE to that
        // Contact goes where the REGISTER came from.
        Fixture f;
        const transport::Endpoint natted = endpoint(Protocol::Udp, "127.0.0.4", 40000);
        QVERIFY(f.transport.inject(
            Fixture::registerOf("202", "sip:127.0.0.77:5060", "z9hG4bK-reg-nat", "127.0.0.4:40000"),
            natted));
        QCOMPARE(f.transport.countResponses(200), 1);
        sip::Message bye =
            Fixture::inDialog(sip::Method::Bye, "z9hG4bK-bye-nat", 2, "sip:127.0.0.77:5060");
        bye.addHeader(sip::HeaderId::Route, f.ownRoute());
        QVERIFY(f.transport.inject(bye, kAlice));
        QCOMPARE(f.requestsTo(sip::Method::Bye, natted).size(), 1u);
        QCOMPARE(f.requestsTo(sip::Method::Bye, endpoint(Protocol::Udp, "127.0.0.77", 5060)).size(),
                 0u);
    }

    void notifyOrRefreshForNoSubscriptionGets481() {
        Fixture f;
        // The notifier's Contact has no user part: sip:127.0.0.1:5060.
        sip::Message notify = Fixture::request(sip::Method::Notify, "sip:127.0.0.1:5060",
                                               "z9hG4bK-n1", 1, "<sip:202@switchboard.local>;tag=n",
                                               "<sip:201@switchboard.local>;tag=w");
        notify.addHeader(sip::HeaderId::Event, "dialog");
        notify.addHeader(sip::HeaderId::SubscriptionState, "active;expires=60");
        QVERIFY(f.transport.inject(notify, kAlice));
        QCOMPARE(f.statusesTo(kAlice, sip::Method::Notify), std::vector<int>{481});

        // A SUBSCRIBE refresh of a subscription the notifier does not have.
        sip::Message refresh = Fixture::request(
            sip::Method::Subscribe, "sip:127.0.0.1:5060", "z9hG4bK-s1", 2,
            "<sip:201@switchboard.local>;tag=w", "<sip:202@switchboard.local>;tag=gone");
        refresh.addHeader(sip::HeaderId::Event, "dialog");
        refresh.addHeader(sip::HeaderId::Expires, "600");
        QVERIFY(f.transport.inject(refresh, kAlice));
        QCOMPARE(f.statusesTo(kAlice, sip::Method::Subscribe), std::vector<int>{481});
        // By a domain name too.
        sip::Message named = Fixture::request(sip::Method::Info, "sip:switchboard.local",
                                              "z9hG4bK-i1", 3, "<sip:201@switchboard.local>;tag=w",
                                              "<sip:202@switchboard.local>;tag=x");
        QVERIFY(f.transport.inject(named, kAlice));
        QCOMPARE(f.statusesTo(kAlice, sip::Method::Info), std::vector<int>{481});
        QCOMPARE(f.transport.countRequests(sip::Method::Notify), 0);
    }

    void wildcardListenerAdvertisesAnAddressThePeerCanReach() {
        // Listening on 0.0.0.0: Record-Route and the notifier's Contact name the address
        // the system routes towards the peer, never the domain (which phones cannot
        // resolve), and only our own addresses are local.
        Fixture f(defaultOptions(), true);
        LocalDomains& domains = f.server->domains();
        domains.setRouteLookup([](const QHostAddress&) -> std::optional<QHostAddress> {
            return QHostAddress(QStringLiteral("127.0.0.7"));
        });
        QVERIFY(domains.isLocalHost("127.0.0.7", 5060));
        QVERIFY(!domains.isLocalHost("127.0.0.9", 5060));
        f.registerBoth();
        const SentMessage invite = f.call();
        const QByteArray token = f.server->proxy().recordRoute().tokenFor(kCallId);
        QCOMPARE(invite.message.header(sip::HeaderId::RecordRoute),
                 QByteArrayView("<sip:127.0.0.7:5060;sbrr=" + token + ";lr>"));

        sip::Message subscribe = Fixture::request(
            sip::Method::Subscribe, "sip:202@switchboard.local", "z9hG4bK-sub", 1,
            "<sip:201@switchboard.local>;tag=w", "<sip:202@switchboard.local>", "sub-1");
        subscribe.addHeader(sip::HeaderId::Event, "dialog");
        subscribe.addHeader(sip::HeaderId::Expires, "600");
        subscribe.addHeader(sip::HeaderId::Contact, '<' + kAliceContact + '>');
        QVERIFY(f.transport.inject(subscribe, kAlice));
        QCOMPARE(f.statusesTo(kAlice, sip::Method::Subscribe), std::vector<int>{200});
        std::optional<SentMessage> ok;
        for (const SentMessage& s : f.transport.responses())
            if (s.message.cseq()->method == sip::Method::Subscribe) ok = s;
        QVERIFY(ok);
        QCOMPARE(ok->message.header(sip::HeaderId::Contact),
                 QByteArrayView("<sip:127.0.0.7:5060>"));
    }

    void configuredRecordRouteHostIsAdvertised() {
        SipServerOptions options = defaultOptions();
        options.proxy.recordRouteHost = "127.0.0.8";
        Fixture f(options, true);
        f.registerBoth();
        const SentMessage invite = f.call();
        const QByteArray token = f.server->proxy().recordRoute().tokenFor(kCallId);
        QCOMPARE(invite.message.header(sip::HeaderId::RecordRoute),
                 QByteArrayView("<sip:127.0.0.8:5060;sbrr=" + token + ";lr>"));
        QCOMPARE(f.server->domains().hostTowards(QHostAddress(QStringLiteral("127.0.0.2"))),
                 QByteArray("127.0.0.8"));
        // The BYE back through that entry is ours.
        sip::Message bye = Fixture::inDialog(sip::Method::Bye, "z9hG4bK-bye-conf", 2);
        bye.addHeader(sip::HeaderId::Route, "<sip:127.0.0.8:5060;sbrr=" + token + ";lr>");
        QVERIFY(f.transport.inject(bye, kAlice));
        QCOMPARE(f.requestsTo(sip::Method::Bye, kBob).size(), 1u);
    }

    void strictRoutedRequestGoesToTheProxy() {
        // §16.4: a strict router put our Record-Route entry into the Request-URI and the
        // real one last in Route: no 481, routed on to the phone.
        Fixture f;
        const QByteArray ours =
            "sip:127.0.0.1:5060;sbrr=" + f.server->proxy().recordRoute().tokenFor(kCallId) + ";lr";
        sip::Message bye = Fixture::inDialog(sip::Method::Bye, "z9hG4bK-strict", 2, ours);
        bye.addHeader(sip::HeaderId::Route, '<' + kBobContact + '>');
        QVERIFY(f.transport.inject(bye, kAlice));
        const auto forwarded = f.requestsTo(sip::Method::Bye, kBob);
        QCOMPARE(forwarded.size(), 1u);
        QCOMPARE(forwarded.front().message.requestUri(), QByteArrayView(kBobContact));
        // The same without the token is refused.
        sip::Message forged =
            Fixture::inDialog(sip::Method::Bye, "z9hG4bK-strict-2", 3, "sip:127.0.0.1:5060;lr");
        forged.addHeader(sip::HeaderId::Route, '<' + kBobContact + '>');
        QVERIFY(f.transport.inject(forged, kAlice));
        QCOMPARE(f.statusesTo(kAlice, sip::Method::Bye), std::vector<int>{481});
        QCOMPARE(f.requestsTo(sip::Method::Bye, kBob).size(), 1u);
    }
};

QTEST_GUILESS_MAIN(TestSipServer)
#include "tst_sip_server.moc"
