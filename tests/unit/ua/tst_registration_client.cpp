#include <QCryptographicHash>
#include <QTest>

#include <algorithm>
#include <memory>
#include <set>

#include "base/manual_clock.h"
#include "base/random.h"
#include "fake_transport.h"
#include "sip/digest.h"
#include "sip/message.h"
#include "transaction/transaction_layer.h"
#include "ua/registration_client.h"

using namespace sb;
using namespace std::chrono_literals;
using sip::HeaderId;
using test::FakeTransport;
using transport::Protocol;

namespace {

struct Event {
    enum class Kind { Registered, Failed, Unregistered };
    Kind kind;
    quint32 expires = 0;
    std::vector<QByteArray> contacts;
    int statusCode = 0;
    QString reason;
    base::Duration retryIn{0};
};

class RecordingHandler final : public ua::RegistrationHandler {
public:
    void onRegistered(quint32 expires, const std::vector<QByteArray>& contacts) override {
        events.push_back({Event::Kind::Registered, expires, contacts, 0, {}, {}});
    }
    void onRegistrationFailed(int statusCode, const QString& reason,
                              base::Duration retryIn) override {
        events.push_back({Event::Kind::Failed, 0, {}, statusCode, reason, retryIn});
    }
    void onUnregistered() override {
        events.push_back({Event::Kind::Unregistered, 0, {}, 0, {}, {}});
    }
    void onTargetsNeeded() override { ++targetsNeeded; }

    int count(Event::Kind kind) const {
        return int(std::count_if(events.begin(), events.end(),
                                 [kind](const Event& e) { return e.kind == kind; }));
    }
    const Event* last() const { return events.empty() ? nullptr : &events.back(); }

    std::vector<Event> events;
    int targetsNeeded = 0;
};

constexpr char kPassword[] = "s3cret";
const QByteArray kContact = "sip:alice@127.0.0.1:5060";

QByteArray md5(const QByteArray& data) {
    return QCryptographicHash::hash(data, QCryptographicHash::Md5).toHex();
}

sip::AuthParams credentialsOf(QByteArrayView value) {
    auto parsed = sip::parseAuthParams(value);
    if (!parsed || parsed->size() != 1) return {};
    return parsed->front();
}

// The MD5 qop=auth response a registrar expects for `c`, recomputed from scratch.
QByteArray expectedResponse(const sip::AuthParams& c, const QByteArray& password) {
    const QByteArray ha1 = md5(*c.value("username") + ':' + *c.value("realm") + ':' + password);
    const QByteArray ha2 = md5("REGISTER:" + *c.value("uri"));
    return md5(ha1 + ':' + *c.value("nonce") + ':' + *c.value("nc") + ':' + *c.value("cnonce") +
               ":auth:" + ha2);
}

// One test world: clock, fake network, transaction layer, client, and the registrar's
// side driven by the test.
struct World {
    explicit World(ua::RegistrationOptions options, quint64 seed = 42)
        : transport(&clock), random(seed), layer(transport, clock, random) {
        client = std::make_unique<ua::RegistrationClient>(layer, clock, random, std::move(options),
                                                          handler);
    }

    // Distinct REGISTER requests (a retransmission repeats the CSeq, §17.1.2.2).
    std::vector<test::SentMessage> registers() const {
        std::vector<test::SentMessage> out;
        std::set<quint32> seen;
        for (const test::SentMessage& sent : transport.requests(sip::Method::Register)) {
            if (seen.insert(sent.message.cseq()->number).second) out.push_back(sent);
        }
        return out;
    }
    test::SentMessage lastRegister() const { return registers().back(); }

    sip::Message reply(const test::SentMessage& request, int code) const {
        return sip::makeResponse(request.message, code, {}, "reg-tag");
    }
    void answer(const test::SentMessage& request, const sip::Message& response) {
        QVERIFY(transport.answer(request, response));
    }
    void ok(const test::SentMessage& request, QByteArray contactParams = ";expires=3600") {
        sip::Message response = reply(request, 200);
        response.addHeader(HeaderId::Contact, "<" + kContact + ">" + contactParams);
        answer(request, response);
    }
    void challenge(const test::SentMessage& request, int code, const QByteArray& field) {
        sip::Message response = reply(request, code);
        response.addHeader(code == 407 ? HeaderId::ProxyAuthenticate : HeaderId::WwwAuthenticate,
                           field);
        answer(request, response);
    }

    base::ManualClock clock;
    FakeTransport transport;
    base::SeededRandom random;
    transaction::TransactionLayer layer;
    RecordingHandler handler;
    std::unique_ptr<ua::RegistrationClient> client;
};

transport::Endpoint proxyA() {
    return FakeTransport::endpoint(Protocol::Udp, "127.0.0.1", 5070);
}
transport::Endpoint proxyB() {
    return FakeTransport::endpoint(Protocol::Udp, "127.0.0.2", 5070);
}
transport::Endpoint proxyC() {
    return FakeTransport::endpoint(Protocol::Udp, "127.0.0.3", 5070);
}

ua::RegistrationOptions defaultOptions() {
    ua::RegistrationOptions options;
    options.aor = "sip:alice@example.com";
    options.password = kPassword;
    options.contactUri = kContact;
    options.expires = 3600;
    options.proxies = {proxyA()};
    return options;
}

// Next hops come from the handler (server location) at the start of every attempt.
ua::RegistrationOptions locatingOptions() {
    ua::RegistrationOptions options = defaultOptions();
    options.proxies.clear();
    options.locateEachAttempt = true;
    return options;
}

}  // namespace

class TestRegistrationClient : public QObject {
    Q_OBJECT

private slots:
    void registerContents() {
        ua::RegistrationOptions options = defaultOptions();
        options.displayName = QStringLiteral("Alice \"A\" Smith");
        options.outboundProxyUri = "sip:127.0.0.1:5070";
        options.userAgent = "Switchboard/test";
        World w(options);
        QVERIFY(w.client->start());
        QCOMPARE(w.client->state(), ua::RegistrationClient::State::Registering);
        QCOMPARE(w.registers().size(), std::size_t(1));
        const test::SentMessage sent = w.lastRegister();
        const sip::Message& m = sent.message;
        QCOMPARE(sent.destination, proxyA());
        QCOMPARE(m.requestUri(), QByteArrayView("sip:example.com"));
        QCOMPARE(m.header(HeaderId::Route), QByteArrayView("<sip:127.0.0.1:5070;lr>"));
        QCOMPARE(m.maxForwards(), std::optional<quint32>(70));
        auto to = m.to();
        auto from = m.from();
        QVERIFY(to && from);
        QCOMPARE(to->uri.addressOfRecord(), QByteArray("sip:alice@example.com"));
        QCOMPARE(from->uri.addressOfRecord(), QByteArray("sip:alice@example.com"));
        QVERIFY(to->tag().isEmpty());
        QVERIFY(!from->tag().isEmpty());
        QCOMPARE(from->displayName(), QStringLiteral("Alice \"A\" Smith"));
        QVERIFY(!m.callId().isEmpty());
        QCOMPARE(m.cseq()->number, quint32(1));
        QCOMPARE(m.cseq()->method, sip::Method::Register);
        auto contacts = m.contacts();
        QVERIFY(contacts);
        QCOMPARE(contacts->entries.size(), std::size_t(1));
        QCOMPARE(contacts->entries[0].uriText, QByteArrayView(kContact));
        QCOMPARE(contacts->entries[0].params.value("expires"),
                 std::optional<QByteArrayView>("3600"));
        QCOMPARE(m.expires(), std::optional<quint32>(3600));
        QCOMPARE(m.header(HeaderId::UserAgent), QByteArrayView("Switchboard/test"));
        QVERIFY(!m.has(HeaderId::Authorization));
        QVERIFY(m.topVia()->hasMagicCookie());
        QVERIFY(m.validate());
    }

    void contactFromLocalEndpoint() {
        ua::RegistrationOptions options = defaultOptions();
        options.contactUri.clear();
        options.localEndpoint = FakeTransport::endpoint(Protocol::Tcp, "::1", 5080);
        options.proxies = {FakeTransport::endpoint(Protocol::Tcp, "::1", 5070)};
        World w(options);
        QVERIFY(w.client->start());
        QCOMPARE(w.client->contactUri(), QByteArray("sip:alice@[::1]:5080;transport=tcp"));
        QCOMPARE(w.lastRegister().message.contacts()->entries[0].uriText,
                 QByteArrayView("sip:alice@[::1]:5080;transport=tcp"));
    }

    void numericAorWithoutProxy() {
        ua::RegistrationOptions options = defaultOptions();
        options.aor = "sip:alice@127.0.0.9:5099";
        options.proxies.clear();
        options.transport = Protocol::Tcp;
        World w(options);
        QVERIFY(w.client->start());
        QCOMPARE(w.lastRegister().destination,
                 FakeTransport::endpoint(Protocol::Tcp, "127.0.0.9", 5099));
        QCOMPARE(w.lastRegister().message.requestUri(), QByteArrayView("sip:127.0.0.9:5099"));
    }

    void badConfiguration_data() {
        QTest::addColumn<QByteArray>("aor");
        QTest::addColumn<QByteArray>("contact");
        QTest::addColumn<bool>("withProxy");
        QTest::newRow("not a SIP URI")
            << QByteArray("mailto:alice@example.com") << kContact << true;
        QTest::newRow("host name without proxy")
            << QByteArray("sip:alice@example.com") << kContact << false;
        QTest::newRow("no contact") << QByteArray("sip:alice@example.com") << QByteArray() << true;
    }
    void badConfiguration() {
        QFETCH(QByteArray, aor);
        QFETCH(QByteArray, contact);
        QFETCH(bool, withProxy);
        ua::RegistrationOptions options = defaultOptions();
        options.aor = aor;
        options.contactUri = contact;
        if (!withProxy) options.proxies.clear();
        World w(options);
        auto started = w.client->start();
        QVERIFY(!started);
        QCOMPARE(started.error().kind, ErrorKind::Config);
        QVERIFY(w.transport.sent().empty());
    }

    void challenge401Then200() {
        ua::RegistrationOptions options = defaultOptions();
        options.authUser = "alice-auth";
        World w(options);
        QVERIFY(w.client->start());
        const test::SentMessage first = w.lastRegister();
        w.challenge(first, 401,
                    "Digest realm=\"example.com\", nonce=\"abc123\", qop=\"auth\", algorithm=MD5");

        QCOMPARE(w.registers().size(), std::size_t(2));
        const test::SentMessage second = w.lastRegister();
        QCOMPARE(second.message.callId(), first.message.callId());
        QCOMPARE(second.message.cseq()->number, first.message.cseq()->number + 1);
        QCOMPARE(second.message.from()->tag(), first.message.from()->tag());
        QCOMPARE(second.destination, proxyA());
        QVERIFY(!second.message.has(HeaderId::ProxyAuthorization));
        const sip::AuthParams c = credentialsOf(second.message.header(HeaderId::Authorization));
        QVERIFY(c.isScheme("Digest"));
        QCOMPARE(c.value("username").value_or(""), QByteArray("alice-auth"));
        QCOMPARE(c.value("realm").value_or(""), QByteArray("example.com"));
        QCOMPARE(c.value("nonce").value_or(""), QByteArray("abc123"));
        QCOMPARE(c.value("uri").value_or(""), QByteArray("sip:example.com"));
        QCOMPARE(c.value("nc").value_or(""), QByteArray("00000001"));
        QCOMPARE(c.value("algorithm").value_or(""), QByteArray("MD5"));
        QCOMPARE(c.value("response").value_or(""), expectedResponse(c, kPassword));
        QVERIFY(w.handler.events.empty());

        w.ok(second);
        QCOMPARE(w.client->state(), ua::RegistrationClient::State::Registered);
        QCOMPARE(w.handler.count(Event::Kind::Registered), 1);
        QCOMPARE(w.handler.last()->expires, quint32(3600));
        QCOMPARE(w.handler.last()->contacts, std::vector<QByteArray>{kContact});
    }

    void challenge407Path() {
        World w(defaultOptions());
        QVERIFY(w.client->start());
        w.challenge(w.lastRegister(), 407,
                    "Digest realm=\"proxy.example.com\", nonce=\"p1\", qop=\"auth\"");
        const test::SentMessage second = w.lastRegister();
        QVERIFY(!second.message.has(HeaderId::Authorization));
        const sip::AuthParams proxyAuth =
            credentialsOf(second.message.header(HeaderId::ProxyAuthorization));
        QCOMPARE(proxyAuth.value("realm").value_or(""), QByteArray("proxy.example.com"));
        QCOMPARE(proxyAuth.value("username").value_or(""), QByteArray("alice"));
        QCOMPARE(proxyAuth.value("response").value_or(""), expectedResponse(proxyAuth, kPassword));

        // Then the registrar behind the proxy challenges too: both answers go along.
        w.challenge(second, 401, "Digest realm=\"example.com\", nonce=\"r1\", qop=\"auth\"");
        const test::SentMessage third = w.lastRegister();
        QCOMPARE(third.message.cseq()->number, quint32(3));
        QVERIFY(third.message.has(HeaderId::ProxyAuthorization));
        QCOMPARE(credentialsOf(third.message.header(HeaderId::Authorization))
                     .value("realm")
                     .value_or(""),
                 QByteArray("example.com"));
        w.ok(third);
        QCOMPARE(w.handler.count(Event::Kind::Registered), 1);
    }

    void failedAuthDoesNotLoop() {
        World w(defaultOptions());
        QVERIFY(w.client->start());
        w.challenge(w.lastRegister(), 401,
                    "Digest realm=\"example.com\", nonce=\"n1\", qop=\"auth\"");
        QCOMPARE(w.registers().size(), std::size_t(2));
        // Wrong password: the registrar challenges the answer again with a new nonce.
        w.challenge(w.lastRegister(), 401,
                    "Digest realm=\"example.com\", nonce=\"n2\", qop=\"auth\"");
        QCOMPARE(w.registers().size(), std::size_t(2));
        QCOMPARE(w.client->state(), ua::RegistrationClient::State::RetryWait);
        QCOMPARE(w.handler.count(Event::Kind::Failed), 1);
        QCOMPARE(w.handler.last()->statusCode, 401);
        const base::Duration retryIn = w.handler.last()->retryIn;
        QVERIFY(retryIn >= 15s && retryIn <= 30s);

        // Nothing more until the back-off ends; then one fresh attempt without credentials.
        w.clock.advance(retryIn - 1ms);
        QCOMPARE(w.registers().size(), std::size_t(2));
        w.clock.advance(1ms);
        QCOMPARE(w.registers().size(), std::size_t(3));
        QVERIFY(!w.lastRegister().message.has(HeaderId::Authorization));
        QCOMPARE(w.lastRegister().message.callId(), w.registers().front().message.callId());
    }

    void sameNonceChallengeGivesUp() {
        World w(defaultOptions());
        QVERIFY(w.client->start());
        const QByteArray field = "Digest realm=\"example.com\", nonce=\"same\", qop=\"auth\"";
        w.challenge(w.lastRegister(), 401, field);
        w.challenge(w.lastRegister(), 401, field);
        QCOMPARE(w.registers().size(), std::size_t(2));
        QCOMPARE(w.handler.count(Event::Kind::Failed), 1);
    }

    void staleNonceIsRetried() {
        World w(defaultOptions());
        QVERIFY(w.client->start());
        w.challenge(w.lastRegister(), 401,
                    "Digest realm=\"example.com\", nonce=\"old\", qop=\"auth\"");
        w.challenge(w.lastRegister(), 401,
                    "Digest realm=\"example.com\", nonce=\"new\", qop=\"auth\", stale=true");
        QCOMPARE(w.registers().size(), std::size_t(3));
        const sip::AuthParams c =
            credentialsOf(w.lastRegister().message.header(HeaderId::Authorization));
        QCOMPARE(c.value("nonce").value_or(""), QByteArray("new"));
        QCOMPARE(c.value("nc").value_or(""), QByteArray("00000001"));
        QCOMPARE(c.value("response").value_or(""), expectedResponse(c, kPassword));
        w.ok(w.lastRegister());
        QCOMPARE(w.handler.count(Event::Kind::Registered), 1);
        QCOMPARE(w.handler.count(Event::Kind::Failed), 0);
    }

    void refreshBeforeExpiry() {
        World w(defaultOptions());
        QVERIFY(w.client->start());
        w.challenge(w.lastRegister(), 401,
                    "Digest realm=\"example.com\", nonce=\"n1\", qop=\"auth\"");
        const test::SentMessage authorized = w.lastRegister();
        w.ok(authorized);
        const base::TimePoint registeredAt = w.clock.now();
        QCOMPARE(w.registers().size(), std::size_t(2));

        // Find when the refresh goes out: before the binding expires, not long before.
        while (w.registers().size() == 2 && w.clock.now() - registeredAt < 3600s)
            w.clock.advance(1s);
        QCOMPARE(w.registers().size(), std::size_t(3));
        const base::Duration refreshedAfter = w.clock.now() - registeredAt;
        QVERIFY(refreshedAfter < 3600s);
        QVERIFY(refreshedAfter >= 1800s);

        const sip::Message& refresh = w.lastRegister().message;
        QCOMPARE(refresh.callId(), authorized.message.callId());
        QCOMPARE(refresh.cseq()->number, authorized.message.cseq()->number + 1);
        QCOMPARE(refresh.from()->tag(), authorized.message.from()->tag());
        QCOMPARE(refresh.expires(), std::optional<quint32>(3600));
        // The cached challenge is reused preemptively with the next nonce count.
        const sip::AuthParams c = credentialsOf(refresh.header(HeaderId::Authorization));
        QCOMPARE(c.value("nonce").value_or(""), QByteArray("n1"));
        QCOMPARE(c.value("nc").value_or(""), QByteArray("00000002"));
        QCOMPARE(c.value("response").value_or(""), expectedResponse(c, kPassword));

        w.ok(w.lastRegister());
        QCOMPARE(w.handler.count(Event::Kind::Registered), 2);
        QCOMPARE(w.client->state(), ua::RegistrationClient::State::Registered);
    }

    void preemptiveNonceExpiredIsAnsweredOnce() {
        World w(defaultOptions());
        QVERIFY(w.client->start());
        w.challenge(w.lastRegister(), 401,
                    "Digest realm=\"example.com\", nonce=\"n1\", qop=\"auth\"");
        w.ok(w.lastRegister(), ";expires=60");
        w.clock.advance(30s);
        QCOMPARE(w.registers().size(), std::size_t(3));
        // The registrar forgot n1 and does not say stale: a fresh challenge, answered.
        w.challenge(w.lastRegister(), 401,
                    "Digest realm=\"example.com\", nonce=\"n2\", qop=\"auth\"");
        QCOMPARE(w.registers().size(), std::size_t(4));
        const sip::AuthParams c =
            credentialsOf(w.lastRegister().message.header(HeaderId::Authorization));
        QCOMPARE(c.value("nonce").value_or(""), QByteArray("n2"));
        w.ok(w.lastRegister(), ";expires=60");
        QCOMPARE(w.handler.count(Event::Kind::Registered), 2);
    }

    void shorterGrantedExpires() {
        World w(defaultOptions());
        QVERIFY(w.client->start());
        sip::Message response = w.reply(w.lastRegister(), 200);
        // Another device's binding first, then ours with a shorter lifetime than asked.
        response.addHeader(HeaderId::Contact, "<sip:alice@192.0.2.7:5060>;expires=3000");
        response.addHeader(HeaderId::Contact, "<" + kContact + ">;expires=120");
        w.answer(w.lastRegister(), response);
        QCOMPARE(w.handler.last()->expires, quint32(120));
        QCOMPARE(w.client->grantedExpires(), quint32(120));
        QCOMPARE(w.handler.last()->contacts.size(), std::size_t(2));
        w.clock.advance(59s);
        QCOMPARE(w.registers().size(), std::size_t(1));
        w.clock.advance(1s);
        QCOMPARE(w.registers().size(), std::size_t(2));
        // We keep asking for what we want; the registrar decides.
        QCOMPARE(w.lastRegister().message.expires(), std::optional<quint32>(3600));
    }

    void expiresHeaderWhenContactNotListed() {
        World w(defaultOptions());
        QVERIFY(w.client->start());
        sip::Message response = w.reply(w.lastRegister(), 200);
        response.addHeader(HeaderId::Expires, "600");
        w.answer(w.lastRegister(), response);
        QCOMPARE(w.handler.last()->expires, quint32(600));
        w.clock.advance(539s);
        QCOMPARE(w.registers().size(), std::size_t(1));
        w.clock.advance(1s);
        QCOMPARE(w.registers().size(), std::size_t(2));
    }

    void intervalTooBrief() {
        ua::RegistrationOptions options = defaultOptions();
        options.expires = 60;
        World w(options);
        QVERIFY(w.client->start());
        sip::Message tooBrief = w.reply(w.lastRegister(), 423);
        tooBrief.addHeader(HeaderId::MinExpires, "1800");
        w.answer(w.lastRegister(), tooBrief);
        QCOMPARE(w.registers().size(), std::size_t(2));
        const sip::Message& retry = w.lastRegister().message;
        QCOMPARE(retry.expires(), std::optional<quint32>(1800));
        QCOMPARE(retry.contacts()->entries[0].params.value("expires"),
                 std::optional<QByteArrayView>("1800"));
        QCOMPARE(retry.cseq()->number, quint32(2));
        QCOMPARE(w.client->requestedExpires(), quint32(1800));
        w.ok(w.lastRegister(), ";expires=1800");
        QCOMPARE(w.handler.last()->expires, quint32(1800));
        QCOMPARE(w.handler.count(Event::Kind::Failed), 0);
    }

    void intervalTooBriefWithoutUsableMinimum() {
        World w(defaultOptions());
        QVERIFY(w.client->start());
        sip::Message tooBrief = w.reply(w.lastRegister(), 423);
        tooBrief.addHeader(HeaderId::MinExpires, "60");  // not more than we asked: nothing to fix
        w.answer(w.lastRegister(), tooBrief);
        QCOMPARE(w.registers().size(), std::size_t(1));
        QCOMPARE(w.handler.last()->kind, Event::Kind::Failed);
        QCOMPARE(w.handler.last()->statusCode, 423);
    }

    void backoffGrowsWithJitterAndCap() {
        World w(defaultOptions(), 7);
        QVERIFY(w.client->start());
        base::Duration previousNominal{0};
        for (int failure = 1; failure <= 10; ++failure) {
            const std::size_t before = w.registers().size();
            w.answer(w.lastRegister(), w.reply(w.lastRegister(), 403));
            QCOMPARE(w.handler.count(Event::Kind::Failed), failure);
            const Event& event = *w.handler.last();
            QCOMPARE(event.statusCode, 403);
            QVERIFY(event.reason.contains(QStringLiteral("Forbidden")));
            QCOMPARE(w.client->state(), ua::RegistrationClient::State::RetryWait);

            // 30 s doubling, capped at 30 min; the wait is a random 50-100 % of that.
            const base::Duration nominal =
                std::min<base::Duration>(30s * (1 << (failure - 1)), 30min);
            QCOMPARE(ua::RetryBackoff::nominal(failure, 30s, 30min), nominal);
            QVERIFY2(
                event.retryIn >= nominal / 2 && event.retryIn <= nominal,
                qPrintable(
                    QStringLiteral("failure %1: %2 ms").arg(failure).arg(event.retryIn.count())));
            QVERIFY(nominal >= previousNominal);
            previousNominal = nominal;

            w.clock.advance(event.retryIn - 1ms);
            QCOMPARE(w.registers().size(), before);
            w.clock.advance(1ms);
            QCOMPARE(w.registers().size(), before + 1);
        }
        QCOMPARE(previousNominal, base::Duration(30min));
        QCOMPARE(w.client->consecutiveFailures(), 10);

        // Success resets the series.
        w.ok(w.lastRegister());
        QCOMPARE(w.client->consecutiveFailures(), 0);
    }

    void jitterVaries() {
        // Different seeds, different waits: many clients failing together spread out.
        std::set<qint64> waits;
        for (quint64 seed = 1; seed <= 8; ++seed) {
            World w(defaultOptions(), seed);
            QVERIFY(w.client->start());
            w.answer(w.lastRegister(), w.reply(w.lastRegister(), 500));
            waits.insert(w.handler.last()->retryIn.count());
        }
        QVERIFY(waits.size() > 1);
    }

    void retryAfterIsHonoured() {
        World w(defaultOptions());
        QVERIFY(w.client->start());
        sip::Message unavailable = w.reply(w.lastRegister(), 500);
        unavailable.addHeader(HeaderId::RetryAfter, "300 (maintenance)");
        w.answer(w.lastRegister(), unavailable);
        QCOMPARE(w.handler.last()->retryIn, base::Duration(300s));
    }

    void timeoutBacksOff() {
        World w(defaultOptions());
        QVERIFY(w.client->start());
        // Nobody answers: Timer F (64·T1 = 32 s, §17.1.2.2) ends the transaction.
        w.clock.advance(32s);
        QCOMPARE(w.handler.count(Event::Kind::Failed), 1);
        QCOMPARE(w.handler.last()->statusCode, 408);
        QCOMPARE(w.client->state(), ua::RegistrationClient::State::RetryWait);
        QCOMPARE(w.registers().size(), std::size_t(1));
    }

    void failoverOn503() {
        ua::RegistrationOptions options = defaultOptions();
        options.proxies = {proxyA(), proxyB()};
        World w(options);
        QVERIFY(w.client->start());
        QCOMPARE(w.lastRegister().destination, proxyA());
        w.answer(w.lastRegister(), w.reply(w.lastRegister(), 503));
        QCOMPARE(w.registers().size(), std::size_t(2));
        QCOMPARE(w.lastRegister().destination, proxyB());
        QCOMPARE(w.lastRegister().message.callId(), w.registers().front().message.callId());
        QCOMPARE(w.handler.count(Event::Kind::Failed), 0);
        w.ok(w.lastRegister());
        QCOMPARE(w.handler.count(Event::Kind::Registered), 1);
        QCOMPARE(w.client->currentDestination(), std::optional<transport::Endpoint>(proxyB()));
        // Refreshes stay with the proxy that works.
        w.clock.advance(3540s);
        QCOMPARE(w.lastRegister().destination, proxyB());
    }

    void failoverOnTimeout() {
        ua::RegistrationOptions options = defaultOptions();
        options.proxies = {proxyA(), proxyB()};
        World w(options);
        QVERIFY(w.client->start());
        w.clock.advance(32s);
        QCOMPARE(w.lastRegister().destination, proxyB());
        QCOMPARE(w.handler.count(Event::Kind::Failed), 0);
        // Both silent: now it is a failure, and the next round starts at the top again.
        w.clock.advance(32s);
        QCOMPARE(w.handler.count(Event::Kind::Failed), 1);
        QCOMPARE(w.handler.last()->statusCode, 408);
        w.clock.advance(w.handler.last()->retryIn);
        QCOMPARE(w.lastRegister().destination, proxyA());
    }

    void failoverOnTransportError() {
        ua::RegistrationOptions options = defaultOptions();
        options.proxies = {proxyA(), proxyB()};
        World w(options);
        w.transport.failNextSends(1);
        QVERIFY(w.client->start());
        QCOMPARE(w.registers().size(), std::size_t(1));
        QCOMPARE(w.lastRegister().destination, proxyB());
        w.ok(w.lastRegister());
        QCOMPARE(w.handler.count(Event::Kind::Registered), 1);
    }

    void allSendsFailingReportsLater() {
        World w(defaultOptions());
        w.transport.failAllSends(FakeTransport::defaultSendError());
        QVERIFY(w.client->start());
        // Not from inside start(): the report waits for the event loop.
        QCOMPARE(w.handler.events.size(), std::size_t(0));
        w.clock.advance(0ms);
        QCOMPARE(w.handler.count(Event::Kind::Failed), 1);
        QCOMPARE(w.handler.last()->statusCode, 503);
    }

    void flowFailureReregisters() {
        ua::RegistrationOptions options = defaultOptions();
        options.proxies = {FakeTransport::endpoint(Protocol::Tcp, "127.0.0.1", 5070)};
        World w(options);
        QVERIFY(w.client->start());
        w.ok(w.lastRegister());
        QCOMPARE(w.registers().size(), std::size_t(1));
        // A flow to somewhere else is none of our business.
        w.client->handleFlowFailure(FakeTransport::endpoint(Protocol::Tcp, "127.0.0.3", 5070));
        QCOMPARE(w.registers().size(), std::size_t(1));
        w.client->handleFlowFailure(options.proxies.front());
        QCOMPARE(w.registers().size(), std::size_t(2));
        QCOMPARE(w.lastRegister().message.cseq()->number, quint32(2));
        w.ok(w.lastRegister());
        QCOMPARE(w.handler.count(Event::Kind::Registered), 2);
    }

    void unregisterSendsExpiresZero() {
        World w(defaultOptions());
        QVERIFY(w.client->start());
        w.ok(w.lastRegister());
        const test::SentMessage registered = w.lastRegister();
        w.client->stop();
        QCOMPARE(w.client->state(), ua::RegistrationClient::State::Unregistering);
        QCOMPARE(w.registers().size(), std::size_t(2));
        const sip::Message& bye = w.lastRegister().message;
        QCOMPARE(bye.expires(), std::optional<quint32>(0));
        QCOMPARE(bye.contacts()->entries.size(), std::size_t(1));
        QCOMPARE(bye.contacts()->entries[0].uriText,
                 QByteArrayView(kContact));  // ours only, never '*'
        QCOMPARE(bye.contacts()->entries[0].params.value("expires"),
                 std::optional<QByteArrayView>("0"));
        QCOMPARE(bye.callId(), registered.message.callId());
        QCOMPARE(bye.cseq()->number, registered.message.cseq()->number + 1);
        QCOMPARE(w.handler.count(Event::Kind::Unregistered), 0);

        sip::Message response = w.reply(w.lastRegister(), 200);
        w.answer(w.lastRegister(), response);
        QCOMPARE(w.handler.count(Event::Kind::Unregistered), 1);
        QCOMPARE(w.client->state(), ua::RegistrationClient::State::Unregistered);
        // No refresh comes back to life.
        w.clock.advance(7200s);
        QCOMPARE(w.registers().size(), std::size_t(2));
    }

    void unregisterAnswersAChallenge() {
        World w(defaultOptions());
        QVERIFY(w.client->start());
        w.ok(w.lastRegister());
        w.client->stop();
        w.challenge(w.lastRegister(), 401,
                    "Digest realm=\"example.com\", nonce=\"u1\", qop=\"auth\"");
        QCOMPARE(w.registers().size(), std::size_t(3));
        const sip::Message& retry = w.lastRegister().message;
        QCOMPARE(retry.expires(), std::optional<quint32>(0));
        QVERIFY(retry.has(HeaderId::Authorization));
        w.answer(w.lastRegister(), w.reply(w.lastRegister(), 200));
        QCOMPARE(w.handler.count(Event::Kind::Unregistered), 1);
    }

    void unregisterTimesOut() {
        World w(defaultOptions());
        QVERIFY(w.client->start());
        w.ok(w.lastRegister());
        w.client->stop();
        w.clock.advance(32s);
        QCOMPARE(w.handler.count(Event::Kind::Unregistered), 1);
    }

    void stopWhileRegistering() {
        World w(defaultOptions());
        QVERIFY(w.client->start());
        w.client->stop();
        // The first REGISTER may still create a binding: it is removed too.
        QCOMPARE(w.registers().size(), std::size_t(2));
        QCOMPARE(w.lastRegister().message.expires(), std::optional<quint32>(0));
        // A late answer to the abandoned REGISTER changes nothing.
        w.ok(w.registers().front());
        QCOMPARE(w.handler.count(Event::Kind::Registered), 0);
        w.answer(w.lastRegister(), w.reply(w.lastRegister(), 200));
        QCOMPARE(w.handler.count(Event::Kind::Unregistered), 1);
    }

    void stopWhenIdleReportsFromTheLoop() {
        World w(defaultOptions());
        w.client->stop();
        QCOMPARE(w.handler.events.size(), std::size_t(0));
        w.clock.advance(0ms);
        QCOMPARE(w.handler.count(Event::Kind::Unregistered), 1);
        QVERIFY(w.transport.sent().empty());
    }

    void stopDuringBackoff() {
        World w(defaultOptions());
        QVERIFY(w.client->start());
        w.answer(w.lastRegister(), w.reply(w.lastRegister(), 403));
        w.client->stop();
        w.clock.advance(0ms);
        QCOMPARE(w.handler.count(Event::Kind::Unregistered), 1);
        w.clock.advance(3600s);
        QCOMPARE(w.registers().size(), std::size_t(1));
    }

    void locatesBeforeTheFirstAttempt() {
        World w(locatingOptions());
        QVERIFY(w.client->start());
        QCOMPARE(w.client->state(), ua::RegistrationClient::State::Locating);
        QVERIFY(!w.client->currentDestination());
        // Asked from the event loop, not from inside start(); nothing sent meanwhile.
        QCOMPARE(w.handler.targetsNeeded, 0);
        w.clock.advance(0ms);
        QCOMPARE(w.handler.targetsNeeded, 1);
        QVERIFY(w.transport.sent().empty());

        w.client->setProxies({proxyB()});
        QCOMPARE(w.client->state(), ua::RegistrationClient::State::Registering);
        QCOMPARE(w.registers().size(), std::size_t(1));
        QCOMPARE(w.lastRegister().destination, proxyB());
        w.ok(w.lastRegister());
        QCOMPARE(w.handler.count(Event::Kind::Registered), 1);
        // A refresh is no new attempt: same target, no new location.
        w.clock.advance(3540s);
        QCOMPARE(w.registers().size(), std::size_t(2));
        QCOMPARE(w.lastRegister().destination, proxyB());
        QCOMPARE(w.handler.targetsNeeded, 1);
    }

    void relocatesAfterExhaustedTargets() {
        // Both targets of the first answer fail: after the back-off the client asks
        // again instead of starting over the stale list, and uses the new answer.
        World w(locatingOptions());
        QVERIFY(w.client->start());
        w.clock.advance(0ms);
        w.client->setProxies({proxyA(), proxyB()});
        w.answer(w.lastRegister(), w.reply(w.lastRegister(), 503));
        QCOMPARE(w.lastRegister().destination, proxyB());
        w.answer(w.lastRegister(), w.reply(w.lastRegister(), 503));
        QCOMPARE(w.handler.count(Event::Kind::Failed), 1);
        QCOMPARE(w.handler.last()->statusCode, 503);
        const base::Duration retryIn = w.handler.last()->retryIn;
        QVERIFY(retryIn >= 15s && retryIn <= 30s);
        QCOMPARE(w.handler.targetsNeeded, 1);

        w.clock.advance(retryIn - 1ms);
        QCOMPARE(w.handler.targetsNeeded, 1);
        w.clock.advance(1ms);
        QCOMPARE(w.handler.targetsNeeded, 2);
        QCOMPARE(w.client->state(), ua::RegistrationClient::State::Locating);
        QCOMPARE(w.registers().size(), std::size_t(2));  // nothing to the old targets

        w.client->setProxies({proxyC()});
        QCOMPARE(w.registers().size(), std::size_t(3));
        QCOMPARE(w.lastRegister().destination, proxyC());
        // Same registration: Call-ID kept, CSeq goes on (RFC 3261 §10.2).
        QCOMPARE(w.lastRegister().message.callId(), w.registers().front().message.callId());
        QCOMPARE(w.lastRegister().message.cseq()->number, quint32(3));
        w.ok(w.lastRegister());
        QCOMPARE(w.client->currentDestination(), std::optional<transport::Endpoint>(proxyC()));
        QCOMPARE(w.client->consecutiveFailures(), 0);
    }

    void locateFailureBacksOff() {
        World w(locatingOptions(), 11);
        QVERIFY(w.client->start());
        const QString reason = QStringLiteral("DNS lookup of example.com failed: timeout");
        for (int failure = 1; failure <= 8; ++failure) {
            w.clock.advance(0ms);
            QCOMPARE(w.handler.targetsNeeded, failure);
            w.client->locateFailed(reason);
            // Reported from the event loop, like every other failure.
            w.clock.advance(0ms);
            QCOMPARE(w.handler.count(Event::Kind::Failed), failure);
            const Event& event = *w.handler.last();
            QCOMPARE(event.statusCode, 0);
            QCOMPARE(event.reason, reason);
            const base::Duration nominal =
                std::min<base::Duration>(30s * (1 << (failure - 1)), 30min);
            QVERIFY2(
                event.retryIn >= nominal / 2 && event.retryIn <= nominal,
                qPrintable(
                    QStringLiteral("failure %1: %2 ms").arg(failure).arg(event.retryIn.count())));
            QCOMPARE(w.client->state(), ua::RegistrationClient::State::RetryWait);
            w.clock.advance(event.retryIn - 1ms);
            QCOMPARE(w.handler.targetsNeeded, failure);
            w.clock.advance(1ms);
        }
        QCOMPARE(w.client->consecutiveFailures(), 8);
        QVERIFY(w.transport.sent().empty());

        // DNS is back: the attempt goes out, and success ends the series.
        w.client->setProxies({proxyA()});
        w.ok(w.lastRegister());
        QCOMPARE(w.client->consecutiveFailures(), 0);
        // A failed REGISTER after that counts from the first step again.
        w.client->refreshNow();
        w.answer(w.lastRegister(), w.reply(w.lastRegister(), 403));
        QVERIFY(w.handler.last()->retryIn <= 30s);
    }

    void emptyTargetListIsAFailure() {
        World w(locatingOptions());
        QVERIFY(w.client->start());
        w.clock.advance(0ms);
        w.client->setProxies({});
        w.clock.advance(0ms);
        QCOMPARE(w.handler.count(Event::Kind::Failed), 1);
        QCOMPARE(w.handler.last()->statusCode, 0);
        QVERIFY(w.transport.sent().empty());
    }

    void refreshNowDuringBackoffRelocates() {
        World w(locatingOptions());
        QVERIFY(w.client->start());
        w.clock.advance(0ms);
        w.client->locateFailed(QStringLiteral("no DNS"));
        w.clock.advance(0ms);
        QCOMPARE(w.client->state(), ua::RegistrationClient::State::RetryWait);
        w.client->refreshNow();
        w.clock.advance(0ms);
        QCOMPARE(w.handler.targetsNeeded, 2);
        QCOMPARE(w.client->state(), ua::RegistrationClient::State::Locating);
        // The answer starts the attempt; a second, late answer changes nothing.
        w.client->setProxies({proxyA()});
        w.client->locateFailed(QStringLiteral("late"));
        w.clock.advance(0ms);
        QCOMPARE(w.handler.count(Event::Kind::Failed), 1);
        QCOMPARE(w.registers().size(), std::size_t(1));
    }

    void stopWhileLocating() {
        World w(locatingOptions());
        QVERIFY(w.client->start());
        w.client->stop();
        w.clock.advance(0ms);
        // Nothing was registered, so nothing to remove; the queued question is dropped.
        QCOMPARE(w.handler.count(Event::Kind::Unregistered), 1);
        QCOMPARE(w.handler.targetsNeeded, 0);
        w.client->setProxies({proxyA()});
        w.clock.advance(3600s);
        QVERIFY(w.transport.sent().empty());
    }

    void newProxiesApplyToTheNextAttempt() {
        // Without per-attempt location, setProxies() replaces the list for the next
        // attempt from the first target; the attempt in progress keeps its target.
        World w(defaultOptions());
        QVERIFY(w.client->start());
        w.client->setProxies({proxyB()});
        w.clock.advance(0ms);
        QCOMPARE(w.registers().size(), std::size_t(1));
        QCOMPARE(w.lastRegister().destination, proxyA());
        w.answer(w.lastRegister(), w.reply(w.lastRegister(), 403));
        w.clock.advance(w.handler.last()->retryIn);
        QCOMPARE(w.registers().size(), std::size_t(2));
        QCOMPARE(w.lastRegister().destination, proxyB());
    }

    void contactFollowsTheTarget() {
        // Target A is reached over UDP on 127.0.0.1, target B over TCP on ::1: after
        // failover the REGISTER names the address B can reach (RFC 3261 §10.2.1).
        const transport::Endpoint a = proxyA();
        const transport::Endpoint b = FakeTransport::endpoint(Protocol::Tcp, "::1", 5070);
        ua::RegistrationOptions options = defaultOptions();
        options.contactUri.clear();
        options.proxies = {a, b};
        std::vector<transport::Endpoint> asked;
        options.localEndpointFor = [&asked](const transport::Endpoint& target) {
            asked.push_back(target);
            return target.protocol == Protocol::Tcp
                       ? FakeTransport::endpoint(Protocol::Tcp, "::1", 5080)
                       : FakeTransport::endpoint(Protocol::Udp, "127.0.0.1", 5060);
        };
        World w(options);
        QVERIFY(w.client->start());
        QCOMPARE(w.lastRegister().message.contacts()->entries[0].uriText,
                 QByteArrayView("sip:alice@127.0.0.1:5060"));
        QCOMPARE(w.client->contactUri(), QByteArray("sip:alice@127.0.0.1:5060"));
        w.clock.advance(32s);  // A is silent: Timer F, failover to B
        QCOMPARE(w.lastRegister().destination, b);
        QCOMPARE(asked.back(), b);
        const QByteArray contactB = "sip:alice@[::1]:5080;transport=tcp";
        QCOMPARE(w.lastRegister().message.contacts()->entries[0].uriText, QByteArrayView(contactB));
        // Same registration, new binding: Call-ID and From tag stay.
        QCOMPARE(w.lastRegister().message.callId(), w.registers().front().message.callId());
        QCOMPARE(w.lastRegister().message.from()->tag(),
                 w.registers().front().message.from()->tag());

        // The registrar's 200 lists the new Contact with its lifetime.
        sip::Message response = w.reply(w.lastRegister(), 200);
        response.addHeader(HeaderId::Contact, "<" + contactB + ">;expires=300");
        w.answer(w.lastRegister(), response);
        QCOMPARE(w.handler.last()->kind, Event::Kind::Registered);
        QCOMPARE(w.handler.last()->expires, quint32(300));
        QCOMPARE(w.client->contactUri(), contactB);
        // Refresh and un-REGISTER name the Contact registered at B.
        w.clock.advance(240s);
        QCOMPARE(w.lastRegister().message.contacts()->entries[0].uriText, QByteArrayView(contactB));
        w.ok(w.lastRegister());
        w.client->stop();
        QCOMPARE(w.lastRegister().message.expires(), std::optional<quint32>(0));
        QCOMPARE(w.lastRegister().destination, b);
        QCOMPARE(w.lastRegister().message.contacts()->entries[0].uriText, QByteArrayView(contactB));
    }

    void targetWithoutLocalEndpointIsSkipped() {
        ua::RegistrationOptions options = defaultOptions();
        options.contactUri.clear();
        const transport::Endpoint tcpOnly =
            FakeTransport::endpoint(Protocol::Tcp, "127.0.0.2", 5070);
        options.proxies = {tcpOnly, proxyA()};
        // Only UDP is listened on: a TCP target has no Contact to offer.
        options.localEndpointFor =
            [](const transport::Endpoint& target) -> std::optional<transport::Endpoint> {
            if (target.protocol != Protocol::Udp) return std::nullopt;
            return FakeTransport::endpoint(Protocol::Udp, "127.0.0.1", 5062);
        };
        World w(options);
        QVERIFY(w.client->start());
        QCOMPARE(w.registers().size(), std::size_t(1));
        QCOMPARE(w.lastRegister().destination, proxyA());
        QCOMPARE(w.lastRegister().message.contacts()->entries[0].uriText,
                 QByteArrayView("sip:alice@127.0.0.1:5062"));

        // No target at all can be used: a failure with a reason, and the back-off.
        ua::RegistrationOptions none = options;
        none.proxies = {tcpOnly};
        World w2(none);
        QVERIFY(w2.client->start());
        w2.clock.advance(0ms);
        QVERIFY(w2.transport.sent().empty());
        QCOMPARE(w2.handler.count(Event::Kind::Failed), 1);
        QCOMPARE(w2.handler.last()->statusCode, 503);
        QVERIFY2(w2.handler.last()->reason.contains(QStringLiteral("no local address reaches")),
                 qPrintable(w2.handler.last()->reason));
        QVERIFY(w2.handler.last()->retryIn > 0s);
    }

    void refreshDelays() {
        QCOMPARE(ua::RegistrationClient::refreshDelay(3600), base::Duration(3540s));
        QCOMPARE(ua::RegistrationClient::refreshDelay(600), base::Duration(540s));
        QCOMPARE(ua::RegistrationClient::refreshDelay(60), base::Duration(30s));
        QCOMPARE(ua::RegistrationClient::refreshDelay(1), base::Duration(500ms));
        for (quint32 e : {1u, 30u, 119u, 120u, 121u, 3600u, 86400u}) {
            QVERIFY(ua::RegistrationClient::refreshDelay(e) < std::chrono::seconds(e));
            QVERIFY(ua::RegistrationClient::refreshDelay(e) >= std::chrono::seconds(e) / 2);
        }
    }
};

QTEST_GUILESS_MAIN(TestRegistrationClient)
#include "tst_registration_client.moc"
