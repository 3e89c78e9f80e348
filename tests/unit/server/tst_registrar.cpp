// Tests server/registrar.*: RFC 3261 §10.3 step by step — domain and user checks,
// authorization, expiry rules (default, parameter vs header, 423, cut down), several
// contacts with q, refresh and the Call-ID/CSeq ordering, "*" removal, Path and Require,
// NAT detection from the packet's source, expiry by the clock, and the limits.

#include <QSet>
#include <QTest>

#include "base/manual_clock.h"
#include "base/random.h"
#include "server/binding_store.h"
#include "server/registrar.h"
#include "sip/parser.h"

using namespace std::chrono_literals;
using sb::base::ManualClock;
using sb::server::Binding;
using sb::server::BindingStore;
using sb::server::BindingStoreOptions;
using sb::server::LocalDomains;
using sb::server::Registrar;
using sb::server::RegistrarOptions;
using sb::sip::HeaderId;
using sb::sip::Message;
using sb::transport::Endpoint;
using sb::transport::IncomingMessage;

// Stops the test function at the first wrong response (later steps would index bindings
// that are not there).
#define EXPECT_STATUS(...)                      \
    do {                                        \
        expectStatus(__VA_ARGS__);              \
        if (QTest::currentTestFailed()) return; \
    } while (false)

namespace {

class FakeUsers final : public sb::server::UserDirectory {
public:
    bool hasUser(const QString& user) const override { return users.contains(user); }
    QSet<QString> users{"201", "202"};
};

Endpoint endpoint(const char* text) {
    auto parsed = sb::transport::parseEndpoint(QString::fromLatin1(text));
    Q_ASSERT(parsed);
    return *parsed;
}

// A REGISTER as a phone writes it. `headers` go after CSeq (Contact, Expires, ...).
struct Register {
    QByteArray requestUri = "sip:switchboard.local";
    QByteArray to = "<sip:201@switchboard.local>";
    QByteArray callId = "reg-1@127.0.0.1";
    quint32 cseq = 1;
    QByteArray headers;
    const char* source = "udp:127.0.0.1:5062";
    sb::transport::ConnectionId connection = 0;

    IncomingMessage incoming() const {
        QByteArray text = "REGISTER " + requestUri +
                          " SIP/2.0\r\n"
                          "Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-" +
                          QByteArray::number(cseq) +
                          ";rport\r\n"
                          "Max-Forwards: 70\r\n"
                          "From: <sip:201@switchboard.local>;tag=from1\r\n"
                          "To: " +
                          to + "\r\nCall-ID: " + callId + "\r\nCSeq: " + QByteArray::number(cseq) +
                          " REGISTER\r\n" + headers + "Content-Length: 0\r\n\r\n";
        auto parsed = sb::sip::Parser::parse(text);
        Q_ASSERT(parsed);
        IncomingMessage in;
        in.message = *parsed;
        in.source = endpoint(source);
        in.local = endpoint("udp:127.0.0.1:5060");
        in.connection = connection;
        return in;
    }
};

QList<QByteArray> contactsOf(const Message& response) {
    QList<QByteArray> out;
    for (QByteArrayView value : response.values(HeaderId::Contact))
        out.append(value.toByteArray());
    return out;
}

}  // namespace

class TstRegistrar : public QObject {
    Q_OBJECT

private:
    struct Server {
        explicit Server(BindingStoreOptions storeOptions = {}, RegistrarOptions options = {})
            : store(clock, withWallClock(std::move(storeOptions))),
              domains(QStringList{"switchboard.local"}),
              random(42),
              registrar(store, domains, users, random, options) {
            domains.addListeningEndpoint(endpoint("udp:127.0.0.1:5060"));
        }
        static BindingStoreOptions withWallClock(BindingStoreOptions options) {
            options.wallClock = [] {
                return QDateTime(QDate(2024, 3, 1), QTime(12, 30, 5), Qt::UTC);
            };
            return options;
        }
        Message handle(const Register& request, const QString& user = {}) {
            return registrar.handle(request.incoming(), user);
        }

        ManualClock clock;
        BindingStore store;
        LocalDomains domains;
        FakeUsers users;
        sb::base::SeededRandom random;
        Registrar registrar;
    };

    static void expectStatus(const Message& response, int status, QByteArrayView reason = {}) {
        QVERIFY2(response.statusCode() == status,
                 qPrintable(QStringLiteral("%1 %2")
                                .arg(response.statusCode())
                                .arg(QString::fromUtf8(response.reasonPhrase()))));
        if (!reason.isEmpty()) QCOMPARE(response.reasonPhrase(), reason);
        // RFC 3261 §8.2.6.2: every final response has a To tag.
        auto to = response.to();
        QVERIFY(to);
        QVERIFY(!to->tag().isEmpty());
    }

private slots:
    void registersAndAnswersWithBindings() {
        Server server;
        Register request;
        request.headers =
            "Contact: \"Alice\" <sip:201@127.0.0.1:5062>;expires=1800\r\n"
            "User-Agent: TestPhone/1.0\r\n";
        const Message response = server.handle(request);
        EXPECT_STATUS(response, 200, "OK");
        QCOMPARE(contactsOf(response),
                 QList<QByteArray>{"\"Alice\" <sip:201@127.0.0.1:5062>;expires=1800"});
        // RFC 3261 §10.3 step 8: a Date header.
        QCOMPARE(response.header(HeaderId::Date), QByteArrayView("Fri, 01 Mar 2024 12:30:05 GMT"));
        QVERIFY(!response.has(HeaderId::Path));

        const auto bindings = server.store.lookup("201");
        QCOMPARE(bindings.size(), std::size_t(1));
        const Binding& b = bindings[0];
        QCOMPARE(b.contactUri, QByteArray("sip:201@127.0.0.1:5062"));
        QCOMPARE(b.callId, QByteArray("reg-1@127.0.0.1"));
        QCOMPARE(b.cseq, 1u);
        QCOMPARE(b.userAgent, QByteArray("TestPhone/1.0"));
        QCOMPARE(b.expiresAt, server.clock.now() + 1800s);
        QCOMPARE(b.source, endpoint("udp:127.0.0.1:5062"));
        QVERIFY(!b.behindNat);

        // No Contact: a query, the remaining time counts down.
        server.clock.advance(100s);
        request.cseq = 2;
        request.headers.clear();
        const Message query = server.handle(request);
        EXPECT_STATUS(query, 200);
        QCOMPARE(contactsOf(query),
                 QList<QByteArray>{"\"Alice\" <sip:201@127.0.0.1:5062>;expires=1700"});
    }

    void defaultExpiresWhenNoneIsGiven() {
        Server server;
        Register request;
        request.headers = "Contact: <sip:201@127.0.0.1:5062>\r\n";
        EXPECT_STATUS(server.handle(request), 200);
        QCOMPARE(server.store.lookup("201")[0].expiresAt, server.clock.now() + 3600s);
    }

    void refreshWithHigherCSeq() {
        Server server;
        Register request;
        request.headers = "Contact: <sip:201@127.0.0.1:5062>\r\nExpires: 600\r\n";
        EXPECT_STATUS(server.handle(request), 200);
        server.clock.advance(300s);
        request.cseq = 2;
        const Message response = server.handle(request);
        EXPECT_STATUS(response, 200);
        QCOMPARE(contactsOf(response), QList<QByteArray>{"<sip:201@127.0.0.1:5062>;expires=600"});
        QCOMPARE(server.store.bindingCount(), std::size_t(1));
        QCOMPARE(server.store.lookup("201")[0].cseq, 2u);
        QCOMPARE(server.store.lookup("201")[0].expiresAt, server.clock.now() + 600s);
    }

    void twoContactsOrderedByQ() {
        Server server;
        Register request;
        request.headers =
            "Contact: <sip:201@127.0.0.1:5062>;q=0.3, <sip:201@127.0.0.1:5064>;q=0.8\r\n";
        const Message response = server.handle(request);
        EXPECT_STATUS(response, 200);
        QCOMPARE(contactsOf(response),
                 (QList<QByteArray>{"<sip:201@127.0.0.1:5064>;q=0.8;expires=3600",
                                    "<sip:201@127.0.0.1:5062>;q=0.3;expires=3600"}));
        const auto bindings = server.store.lookup("201");
        QCOMPARE(bindings.size(), std::size_t(2));
        QCOMPARE(bindings[0].qValue, 800);
        QCOMPARE(bindings[1].qValue, 300);

        // A second phone with another Call-ID adds a third binding.
        Register other;
        other.callId = "reg-2@127.0.0.1";
        other.headers = "Contact: <sip:201@127.0.0.1:5066>\r\n";
        other.source = "udp:127.0.0.1:5066";
        EXPECT_STATUS(server.handle(other), 200);
        QCOMPARE(server.store.lookup("201").size(), std::size_t(3));
        QCOMPARE(server.store.lookup("201")[0].contactUri, QByteArray("sip:201@127.0.0.1:5066"));
    }

    void invalidQIsRefused() {
        for (const QByteArray q : {"1.5", "0.1234", "abc", "1.001", "-0.5", "00.5", "1.0000"}) {
            Server server;
            Register request;
            request.headers = "Contact: <sip:201@127.0.0.1:5062>;q=" + q + "\r\n";
            const Message response = server.handle(request);
            EXPECT_STATUS(response, 400, "Malformed q parameter");
            QCOMPARE(server.store.bindingCount(), std::size_t(0));
        }
        QCOMPARE(sb::server::parseQValue("0"), 0);
        QCOMPARE(sb::server::parseQValue("1"), 1000);
        QCOMPARE(sb::server::parseQValue("1.000"), 1000);
        QCOMPARE(sb::server::parseQValue("0.5"), 500);
        QCOMPARE(sb::server::parseQValue("0.05"), 50);
        QCOMPARE(sb::server::parseQValue("0.123"), 123);
        QCOMPARE(sb::server::parseQValue("0."), 0);  // 0*3DIGIT: no digit is fine
    }

    void expiresParameterWinsOverHeader() {
        Server server;
        Register request;
        request.headers =
            "Contact: <sip:201@127.0.0.1:5062>;expires=600, <sip:201@127.0.0.1:5064>\r\n"
            "Expires: 1800\r\n";
        const Message response = server.handle(request);
        EXPECT_STATUS(response, 200);
        QCOMPARE(contactsOf(response), (QList<QByteArray>{"<sip:201@127.0.0.1:5064>;expires=1800",
                                                          "<sip:201@127.0.0.1:5062>;expires=600"}));
    }

    void tooBriefIsRefusedWithMinExpires() {
        Server server;
        Register request;
        request.headers = "Contact: <sip:201@127.0.0.1:5062>;expires=30\r\n";
        Message response = server.handle(request);
        EXPECT_STATUS(response, 423, "Interval Too Brief");
        QCOMPARE(response.minExpires(), 60u);
        QCOMPARE(server.store.bindingCount(), std::size_t(0));

        // All or nothing: one brief contact fails the request for both.
        request.headers =
            "Contact: <sip:201@127.0.0.1:5064>, <sip:201@127.0.0.1:5062>\r\nExpires: 59\r\n";
        response = server.handle(request);
        EXPECT_STATUS(response, 423);
        QCOMPARE(server.store.bindingCount(), std::size_t(0));

        request.headers = "Contact: <sip:201@127.0.0.1:5062>;expires=60\r\n";
        EXPECT_STATUS(server.handle(request), 200);
    }

    void tooLongIsCutDown() {
        RegistrarOptions options;
        options.maxExpires = 7200;
        Server server({}, options);
        Register request;
        request.headers = "Contact: <sip:201@127.0.0.1:5062>\r\nExpires: 100000\r\n";
        const Message response = server.handle(request);
        EXPECT_STATUS(response, 200);
        QCOMPARE(contactsOf(response), QList<QByteArray>{"<sip:201@127.0.0.1:5062>;expires=7200"});
        QCOMPARE(server.store.lookup("201")[0].expiresAt, server.clock.now() + 7200s);

        request.cseq = 2;
        request.headers = "Contact: <sip:201@127.0.0.1:5062>;expires=99999999999\r\n";
        EXPECT_STATUS(server.handle(request), 200);
        QCOMPARE(server.store.lookup("201")[0].expiresAt, server.clock.now() + 7200s);
    }

    void unregisterOneContact() {
        Server server;
        Register request;
        request.headers = "Contact: <sip:201@127.0.0.1:5062>, <sip:201@127.0.0.1:5064>\r\n";
        EXPECT_STATUS(server.handle(request), 200);
        request.cseq = 2;
        request.headers = "Contact: <sip:201@127.0.0.1:5062>;expires=0\r\n";
        const Message response = server.handle(request);
        EXPECT_STATUS(response, 200);
        QCOMPARE(contactsOf(response), QList<QByteArray>{"<sip:201@127.0.0.1:5064>;expires=3600"});
    }

    void starRemovesEverything() {
        Server server;
        QStringList changes;
        server.store.addListener([&](const QString& user) { changes.append(user); });
        Register request;
        request.headers = "Contact: <sip:201@127.0.0.1:5062>, <sip:201@127.0.0.1:5064>\r\n";
        EXPECT_STATUS(server.handle(request), 200);
        Register other;
        other.callId = "other@127.0.0.1";
        other.cseq = 7;
        other.headers = "Contact: <sip:201@127.0.0.1:5066>\r\n";
        EXPECT_STATUS(server.handle(other), 200);
        QCOMPARE(server.store.bindingCount(), std::size_t(3));

        request.cseq = 2;
        request.headers = "Contact: *\r\n";
        EXPECT_STATUS(server.handle(request), 400,
                      "Contact: * needs Expires: 0 and no other contact");
        request.headers = "Contact: *\r\nExpires: 10\r\n";
        EXPECT_STATUS(server.handle(request), 400);
        request.headers = "Contact: *, <sip:201@127.0.0.1:5062>\r\nExpires: 0\r\n";
        EXPECT_STATUS(server.handle(request), 400);
        QCOMPARE(server.store.bindingCount(), std::size_t(3));

        changes.clear();
        request.headers = "Contact: *\r\nExpires: 0\r\n";
        const Message response = server.handle(request);
        EXPECT_STATUS(response, 200);
        QVERIFY(!response.has(HeaderId::Contact));
        QCOMPARE(server.store.bindingCount(), std::size_t(0));
        QCOMPARE(changes, QStringList{"201"});
    }

    void starWithAnOldCSeqIsOutOfOrder() {
        Server server;
        Register request;
        request.cseq = 5;
        request.headers = "Contact: <sip:201@127.0.0.1:5062>\r\n";
        EXPECT_STATUS(server.handle(request), 200);
        request.cseq = 5;
        request.headers = "Contact: *\r\nExpires: 0\r\n";
        EXPECT_STATUS(server.handle(request), 500, "Out of order");
        QCOMPARE(server.store.bindingCount(), std::size_t(1));
    }

    void sameCallIdWithoutHigherCSeqIsOutOfOrder() {
        Server server;
        Register request;
        request.cseq = 5;
        request.headers = "Contact: <sip:201@127.0.0.1:5062>\r\nExpires: 600\r\n";
        EXPECT_STATUS(server.handle(request), 200);
        for (quint32 cseq : {5u, 4u}) {
            request.cseq = cseq;
            request.headers = "Contact: <sip:201@127.0.0.1:5062>\r\nExpires: 1200\r\n";
            EXPECT_STATUS(server.handle(request), 500, "Out of order");
            request.headers = "Contact: <sip:201@127.0.0.1:5062>\r\nExpires: 0\r\n";
            EXPECT_STATUS(server.handle(request), 500, "Out of order");
        }
        const auto bindings = server.store.lookup("201");
        QCOMPARE(bindings.size(), std::size_t(1));
        QCOMPARE(bindings[0].cseq, 5u);
        QCOMPARE(bindings[0].expiresAt, server.clock.now() + 600s);
    }

    void differentCallIdReplaces() {
        Server server;
        Register request;
        request.cseq = 50;
        request.headers = "Contact: <sip:201@127.0.0.1:5062>\r\n";
        EXPECT_STATUS(server.handle(request), 200);
        // The phone rebooted: new Call-ID, CSeq starts again.
        request.callId = "after-reboot@127.0.0.1";
        request.cseq = 1;
        request.headers = "Contact: <sip:201@127.0.0.1:5062>;expires=900\r\n";
        EXPECT_STATUS(server.handle(request), 200);
        const auto bindings = server.store.lookup("201");
        QCOMPARE(bindings.size(), std::size_t(1));
        QCOMPARE(bindings[0].callId, QByteArray("after-reboot@127.0.0.1"));
        QCOMPARE(bindings[0].cseq, 1u);
        QCOMPARE(bindings[0].expiresAt, server.clock.now() + 900s);
    }

    void instanceIdMatchesAcrossContacts() {
        Server server;
        Register request;
        request.headers =
            "Contact: <sip:201@127.0.0.1:5062>;+sip.instance=\"<urn:uuid:00000000-0000-0000-"
            "0000-000000000001>\";reg-id=1\r\n";
        EXPECT_STATUS(server.handle(request), 200);
        QCOMPARE(server.store.lookup("201")[0].instanceId,
                 QByteArray("<urn:uuid:00000000-0000-0000-0000-000000000001>"));
        // The same device from another port (a NAT rebinding): the binding moves.
        request.callId = "reg-new@127.0.0.1";
        request.headers =
            "Contact: <sip:201@127.0.0.1:5070>;+sip.instance=\"<urn:uuid:00000000-0000-0000-"
            "0000-000000000001>\";reg-id=1\r\n";
        request.source = "udp:127.0.0.1:5070";
        const Message response = server.handle(request);
        EXPECT_STATUS(response, 200);
        QCOMPARE(contactsOf(response).size(), 1);
        QCOMPARE(server.store.lookup("201")[0].contactUri, QByteArray("sip:201@127.0.0.1:5070"));
    }

    void anotherUsersAddressIsForbidden() {
        Server server;
        Register request;
        request.headers = "Contact: <sip:201@127.0.0.1:5062>\r\n";
        EXPECT_STATUS(server.handle(request, "202"), 403, "Cannot register another user's address");
        QCOMPARE(server.store.bindingCount(), std::size_t(0));
        EXPECT_STATUS(server.handle(request, "201"), 200);
        QCOMPARE(server.store.bindingCount(), std::size_t(1));
    }

    void unknownUserOrDomainIsNotFound() {
        Server server;
        Register request;
        request.headers = "Contact: <sip:999@127.0.0.1:5062>\r\n";
        request.to = "<sip:999@switchboard.local>";
        EXPECT_STATUS(server.handle(request), 404, "Unknown user");
        // An authenticated user is told 403 for someone else's address, existing or not.
        EXPECT_STATUS(server.handle(request, "201"), 403);

        Register foreign;
        foreign.requestUri = "sip:example.com";
        foreign.headers = "Contact: <sip:201@127.0.0.1:5062>\r\n";
        EXPECT_STATUS(server.handle(foreign), 404, "Not a domain of this server");
        Register foreignTo;
        foreignTo.to = "<sip:201@example.com>";
        foreignTo.headers = "Contact: <sip:201@127.0.0.1:5062>\r\n";
        EXPECT_STATUS(server.handle(foreignTo), 404, "Not a domain of this server");
        // The listening address is a local domain too.
        Register byAddress;
        byAddress.requestUri = "sip:127.0.0.1";
        byAddress.to = "<sip:201@127.0.0.1>";
        byAddress.headers = "Contact: <sip:201@127.0.0.1:5062>\r\n";
        EXPECT_STATUS(server.handle(byAddress), 200);
        QCOMPARE(server.store.bindingCount(), std::size_t(1));
    }

    void pathIsToleratedButRequireIsNot() {
        Server server;
        Register request;
        request.headers =
            "Path: <sip:edge.example.com;lr>\r\nSupported: path\r\n"
            "Contact: <sip:201@127.0.0.1:5062>\r\n";
        const Message response = server.handle(request);
        EXPECT_STATUS(response, 200);
        QVERIFY(!response.has(HeaderId::Path));
        QCOMPARE(server.store.bindingCount(), std::size_t(1));

        request.cseq = 2;
        request.headers =
            "Path: <sip:edge.example.com;lr>\r\nRequire: path\r\n"
            "Contact: <sip:201@127.0.0.1:5064>\r\n";
        const Message refused = server.handle(request);
        EXPECT_STATUS(refused, 420, "Bad Extension");
        QCOMPARE(refused.header(HeaderId::Unsupported), QByteArrayView("path"));
        QCOMPARE(server.store.bindingCount(), std::size_t(1));
    }

    void natIsDetectedFromTheSource() {
        Server server;
        // The Contact names a (private) address the packet did not come from.
        Register natted;
        natted.headers = "Contact: <sip:201@127.0.0.99:5062>\r\n";
        natted.source = "udp:127.0.0.1:40001";
        EXPECT_STATUS(server.handle(natted), 200);
        Binding b = server.store.lookup("201")[0];
        QVERIFY(b.behindNat);
        QCOMPARE(b.source, endpoint("udp:127.0.0.1:40001"));
        QCOMPARE(b.nextHop(), endpoint("udp:127.0.0.1:40001"));

        // Same address, other port over UDP: a port-mapping NAT.
        Register mapped;
        mapped.to = "<sip:202@switchboard.local>";
        mapped.headers = "Contact: <sip:202@127.0.0.1:5062>\r\n";
        mapped.source = "udp:127.0.0.1:40002";
        EXPECT_STATUS(server.handle(mapped), 200);
        QVERIFY(server.store.lookup("202")[0].behindNat);
        QCOMPARE(server.store.lookup("202")[0].nextHop(), endpoint("udp:127.0.0.1:40002"));

        // Contact and source agree: reachable directly at its Contact.
        Register direct;
        direct.callId = "direct@127.0.0.1";
        direct.headers = "Contact: <sip:201@127.0.0.1:5062>\r\n";
        EXPECT_STATUS(server.handle(direct), 200);
        b = server.store.lookup("201")[0];
        QCOMPARE(b.contactUri, QByteArray("sip:201@127.0.0.1:5062"));
        QVERIFY(!b.behindNat);
        QCOMPARE(b.nextHop(), endpoint("udp:127.0.0.1:5062"));

        // A host name cannot be compared: not behind NAT, but the source is the next hop.
        Register named;
        named.callId = "named@127.0.0.1";
        named.headers = "Contact: <sip:201@phone.invalid:5062>\r\n";
        EXPECT_STATUS(server.handle(named), 200);
        b = server.store.lookup("201")[0];
        QCOMPARE(b.contactUri, QByteArray("sip:201@phone.invalid:5062"));
        QVERIFY(!b.behindNat);
        QCOMPARE(b.nextHop(), endpoint("udp:127.0.0.1:5062"));

        // Over TCP the source port is ephemeral: only the address counts, and the
        // connection is recorded.
        Register tcp;
        tcp.callId = "tcp@127.0.0.1";
        tcp.headers = "Contact: <sip:201@127.0.0.1:5070;transport=tcp>\r\n";
        tcp.source = "tcp:127.0.0.1:41000";
        tcp.connection = 9;
        EXPECT_STATUS(server.handle(tcp), 200);
        b = server.store.lookup("201")[0];
        QCOMPARE(b.contactUri, QByteArray("sip:201@127.0.0.1:5070;transport=tcp"));
        QVERIFY(!b.behindNat);
        QCOMPARE(b.connection, sb::transport::ConnectionId(9));
        QCOMPARE(b.nextHop(), endpoint("tcp:127.0.0.1:41000"));
    }

    void bindingsExpireOnTheClock() {
        Server server;
        QStringList changes;
        server.store.addListener([&](const QString& user) { changes.append(user); });
        Register request;
        request.headers = "Contact: <sip:201@127.0.0.1:5062>;expires=60\r\n";
        EXPECT_STATUS(server.handle(request), 200);
        QCOMPARE(server.store.registeredUsers(), QStringList{"201"});
        server.clock.advance(59s);
        QCOMPARE(server.store.lookup("201").size(), std::size_t(1));
        server.clock.advance(1s);
        QVERIFY(server.store.lookup("201").empty());
        QVERIFY(server.store.registeredUsers().isEmpty());
        QCOMPARE(changes, (QStringList{"201", "201"}));
        request.cseq = 2;
        request.headers.clear();
        const Message query = server.handle(request);
        EXPECT_STATUS(query, 200);
        QVERIFY(!query.has(HeaderId::Contact));
    }

    void limitsRefuseNewBindings() {
        BindingStoreOptions limits;
        limits.maxContactsPerUser = 2;
        limits.maxBindings = 3;
        Server server(limits);
        Register request;
        request.headers = "Contact: <sip:201@127.0.0.1:5062>, <sip:201@127.0.0.1:5064>\r\n";
        EXPECT_STATUS(server.handle(request), 200);
        request.cseq = 2;
        request.headers = "Contact: <sip:201@127.0.0.1:5066>\r\n";
        EXPECT_STATUS(server.handle(request), 403,
                      "Too many contacts for this address (at most 2)");
        QCOMPARE(server.store.lookup("201").size(), std::size_t(2));
        // Refreshing what is there still works.
        request.headers = "Contact: <sip:201@127.0.0.1:5064>;expires=120\r\n";
        EXPECT_STATUS(server.handle(request), 200);

        Register other;
        other.to = "<sip:202@switchboard.local>";
        other.headers = "Contact: <sip:202@127.0.0.1:5062>, <sip:202@127.0.0.1:5064>\r\n";
        const Message full = server.handle(other);
        EXPECT_STATUS(full, 503, "Registrar full (3 bindings)");
        QVERIFY(server.store.lookup("202").empty());
        other.headers = "Contact: <sip:202@127.0.0.1:5062>\r\n";
        EXPECT_STATUS(server.handle(other), 200);
        QCOMPARE(server.store.bindingCount(), std::size_t(3));
    }

    void malformedRequestsAreRefused() {
        Server server;
        Register request;
        request.headers = "Contact: <mailto:201@example.com>\r\n";
        EXPECT_STATUS(server.handle(request), 400, "Contact is not a sip: or sips: URI");
        request.headers = "Contact: <sip:201@127.0.0.1:5062>;;expires=60\r\n";
        EXPECT_STATUS(server.handle(request), 400);
        request.headers = "Contact: <sip:201@127.0.0.1:5062>\r\nExpires: soon\r\n";
        EXPECT_STATUS(server.handle(request), 400);
        request.headers = "Contact: <sip:201@127.0.0.1:5062;" + QByteArray(1100, 'a') + ">\r\n";
        EXPECT_STATUS(server.handle(request), 400, "Contact too long (at most 1024 bytes)");
        Register tel;
        tel.requestUri = "tel:+12125551212";
        EXPECT_STATUS(server.handle(tel), 416);
        QCOMPARE(server.store.bindingCount(), std::size_t(0));

        // A malformed expires parameter counts as the default (RFC 3261 §20.19).
        request.headers = "Contact: <sip:201@127.0.0.1:5062>;expires=soon\r\n";
        EXPECT_STATUS(server.handle(request), 200);
        QCOMPARE(server.store.lookup("201")[0].expiresAt, server.clock.now() + 3600s);

        // Not a REGISTER at all.
        IncomingMessage options = request.incoming();
        auto parsed = sb::sip::Parser::parse(
            "OPTIONS sip:switchboard.local SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch="
            "z9hG4bK-o\r\nFrom: <sip:201@switchboard.local>;tag=a\r\nTo: "
            "<sip:switchboard.local>\r\nCall-ID: o@127.0.0.1\r\nCSeq: 1 OPTIONS\r\n"
            "Content-Length: 0\r\n\r\n");
        QVERIFY(parsed);
        options.message = *parsed;
        const Message refused = server.registrar.handle(options, {});
        EXPECT_STATUS(refused, 405);
        QCOMPARE(refused.header(HeaderId::Allow), QByteArrayView("REGISTER"));
    }
};

QTEST_GUILESS_MAIN(TstRegistrar)
#include "tst_registrar.moc"
