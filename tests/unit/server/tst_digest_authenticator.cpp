// Tests core/server/digest_authenticator.*: the digest server answered by the project's
// own digest client (both sides must agree), 401 vs 407, MD5/SHA-256/auth-int, wrong
// password, unknown user, wrong realm, uri mismatch, stale and forged nonces, nc replay,
// the throttle, and that logs never carry credentials.

#include <QRegularExpression>
#include <QTest>

#include "base/log.h"
#include "base/manual_clock.h"
#include "base/random.h"
#include "server/digest_authenticator.h"
#include "server/user_store.h"
#include "sip/digest.h"
#include "sip/parser.h"

using namespace std::chrono_literals;
using namespace sb;
using sb::server::AuthHeader;
using sb::server::AuthOutcome;
using sb::server::DigestAuthenticator;
using sb::server::UserStore;
using sb::sip::DigestAlgorithm;
using sb::sip::HeaderId;
using sb::sip::Message;

namespace {

constexpr char kRealm[] = "switchboard.local";
constexpr char kPassword201[] = "s3cret-201";
constexpr char kPassword202[] = "pass-202";

const transport::Endpoint kPhone{transport::Protocol::Udp,
                                 QHostAddress(QStringLiteral("127.0.0.2")), 5062};
const transport::Endpoint kOtherPhone{transport::Protocol::Udp,
                                      QHostAddress(QStringLiteral("127.0.0.3")), 5064};

// A request as it arrives from the network.
Message parsed(const QByteArray& text) {
    auto message = sip::Parser::parse(text);
    if (!message) qFatal("test request does not parse: %s", qPrintable(message.error().reason));
    return *message;
}

// What the server receives after `request` went over the wire.
Message wire(const Message& request) {
    return parsed(request.serialize());
}

Message registerRequest(const QByteArray& user = "201", const QByteArray& callId = "reg-1") {
    return parsed(
        "REGISTER sip:switchboard.local SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bK-reg;rport\r\n"
        "Max-Forwards: 70\r\n"
        "From: <sip:" +
        user + "@switchboard.local>;tag=from-" + user +
        "\r\n"
        "To: <sip:" +
        user +
        "@switchboard.local>\r\n"
        "Call-ID: " +
        callId +
        "\r\n"
        "CSeq: 1 REGISTER\r\n"
        "Contact: <sip:" +
        user +
        "@127.0.0.2:5062>\r\n"
        "Content-Length: 0\r\n\r\n");
}

Message inviteRequest(const QByteArray& body = {}) {
    return parsed(
        "INVITE sip:202@switchboard.local SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 127.0.0.2:5062;branch=z9hG4bK-inv;rport\r\n"
        "Max-Forwards: 70\r\n"
        "From: \"Alice\" <sip:201@switchboard.local>;tag=caller\r\n"
        "To: <sip:202@switchboard.local>\r\n"
        "Call-ID: call-1\r\n"
        "CSeq: 1 INVITE\r\n"
        "Contact: <sip:201@127.0.0.2:5062>\r\n"
        "Content-Type: application/sdp\r\n"
        "Content-Length: " +
        QByteArray::number(body.size()) + "\r\n\r\n" + body);
}

QList<QByteArray> fieldValues(const Message& message, HeaderId id) {
    QList<QByteArray> out;
    for (const sip::HeaderField& field : message.headers()) {
        if (field.id == id) out << field.value.toByteArray();
    }
    return out;
}

QByteArray paramOf(QByteArrayView fieldValue, QByteArrayView name) {
    auto parsedParams = sip::parseAuthParams(fieldValue);
    if (!parsedParams || parsedParams->empty()) return "<unparsable>";
    return parsedParams->front().value(name).value_or(QByteArray("<absent>"));
}

// Credentials for `request` built by hand (for what DigestClient would never send).
QByteArray handCredentials(const Message& challengeResponse, const Message& request,
                           const QByteArray& user, const QByteArray& password,
                           DigestAlgorithm algorithm, sip::DigestQop qop = sip::DigestQop::Auth,
                           quint32 nc = 1, const QByteArray& realm = kRealm) {
    auto challenges = sip::digestChallenges(challengeResponse);
    if (!challenges) qFatal("no challenge");
    sip::DigestChallenge challenge = challenges->front();
    challenge.algorithmGiven = true;
    sip::DigestInput input;
    input.algorithm = algorithm;
    input.username = user;
    input.realm = realm;
    input.password = password;
    input.nonce = challenge.nonce;
    input.cnonce = "0a4f113b";
    input.nonceCount = nc;
    input.qop = qop;
    input.method = request.methodName().toByteArray();
    input.uri = request.requestUri().toByteArray();
    input.body = request.body().toByteArray();
    return sip::buildDigestCredentials(challenge, input);
}

}  // namespace

class TstDigestAuthenticator : public QObject {
    Q_OBJECT

private:
    struct Fixture {
        base::ManualClock clock;
        base::SeededRandom random{42};
        UserStore users;
        std::unique_ptr<DigestAuthenticator> server;

        explicit Fixture(DigestAuthenticator::Options options = {}) {
            if (options.secret.isEmpty()) options.secret = QByteArray(32, 'k');
            QVERIFY(users.addUser(QStringLiteral("201"), kPassword201));
            // 202 was provisioned from a config line with only an MD5 HA1.
            UserStore md5Only;
            QVERIFY(md5Only.addUser(QStringLiteral("202"), kPassword202));
            QVERIFY(users.addUserWithHa1(QStringLiteral("202"),
                                         *md5Only.ha1(QStringLiteral("202"), DigestAlgorithm::Md5),
                                         {}));
            server = std::make_unique<DigestAuthenticator>(users, clock, random, options);
        }
    };

    // Challenge, answer with a DigestClient for `user`, and authenticate the answer.
    static AuthOutcome roundTrip(Fixture& f, Message request, AuthHeader kind,
                                 const QByteArray& user, const QByteArray& password,
                                 sip::DigestClient* keep = nullptr) {
        const AuthOutcome first = f.server->authenticate(wire(request), kPhone, kind);
        if (first.kind != AuthOutcome::Kind::Challenge) return first;
        base::SeededRandom clientRandom(7);
        sip::DigestClient local(clientRandom);
        sip::DigestClient& client = keep ? *keep : local;
        client.setCredentials(user, password);
        if (!client.handleChallenge(wire(first.response))) return first;
        client.authorize(request);
        return f.server->authenticate(wire(request), kPhone, kind);
    }

private slots:
    void registerIsChallengedWith401() {
        Fixture f;
        const Message request = registerRequest();
        const AuthOutcome outcome = f.server->authenticate(request, kPhone, AuthHeader::Www);
        QCOMPARE(outcome.kind, AuthOutcome::Kind::Challenge);
        QCOMPARE(outcome.response.statusCode(), 401);
        QVERIFY(!outcome.response.has(HeaderId::ProxyAuthenticate));
        const QList<QByteArray> challenges =
            fieldValues(outcome.response, HeaderId::WwwAuthenticate);
        // RFC 8760 §2.3: one challenge per algorithm, strongest first.
        QCOMPARE(challenges.size(), 2);
        QCOMPARE(paramOf(challenges[0], "algorithm"), QByteArray("SHA-256"));
        QCOMPARE(paramOf(challenges[1], "algorithm"), QByteArray("MD5"));
        for (const QByteArray& challenge : challenges) {
            QVERIFY(challenge.startsWith("Digest "));
            QCOMPARE(paramOf(challenge, "realm"), QByteArray(kRealm));
            QCOMPARE(paramOf(challenge, "qop"), QByteArray("auth"));
            QCOMPARE(paramOf(challenge, "stale"), QByteArray("<absent>"));
        }
        QCOMPARE(paramOf(challenges[0], "nonce"), paramOf(challenges[1], "nonce"));
        QVERIFY(outcome.response.callId() == request.callId());

        // The To tag is stable for the same request: a retransmission gets the same one.
        const QByteArray tag = outcome.response.to()->tag().toByteArray();
        QVERIFY(!tag.isEmpty());
        const AuthOutcome again = f.server->authenticate(request, kPhone, AuthHeader::Www);
        QCOMPARE(again.response.to()->tag().toByteArray(), tag);
        const AuthOutcome otherCall =
            f.server->authenticate(registerRequest("201", "reg-2"), kPhone, AuthHeader::Www);
        QVERIFY(otherCall.response.to()->tag().toByteArray() != tag);
        // Every challenge carries a fresh nonce.
        QVERIFY(paramOf(fieldValues(again.response, HeaderId::WwwAuthenticate)[0], "nonce") !=
                paramOf(challenges[0], "nonce"));
    }

    void otherRequestsAreChallengedWith407() {
        Fixture f;
        const AuthOutcome outcome =
            f.server->authenticate(inviteRequest(), kPhone, AuthHeader::Proxy);
        QCOMPARE(outcome.kind, AuthOutcome::Kind::Challenge);
        QCOMPARE(outcome.response.statusCode(), 407);
        QVERIFY(!outcome.response.has(HeaderId::WwwAuthenticate));
        QCOMPARE(fieldValues(outcome.response, HeaderId::ProxyAuthenticate).size(), 2);
    }

    void sha256Success() {
        Fixture f;
        base::SeededRandom clientRandom(7);
        sip::DigestClient client(clientRandom);
        Message request = registerRequest();
        const AuthOutcome outcome =
            roundTrip(f, request, AuthHeader::Www, "201", kPassword201, &client);
        QCOMPARE(outcome.kind, AuthOutcome::Kind::Authenticated);
        QCOMPARE(outcome.user, QStringLiteral("201"));
        QVERIFY(outcome.response.statusCode() == 0);
        // The client answered the strongest challenge.
        client.authorize(request);
        QCOMPARE(paramOf(request.header(HeaderId::Authorization), "algorithm"),
                 QByteArray("SHA-256"));
        // Later requests with the cached nonce and a higher nc pass too.
        QCOMPARE(f.server->authenticate(wire(request), kPhone, AuthHeader::Www).kind,
                 AuthOutcome::Kind::Authenticated);
    }

    void md5Success() {
        DigestAuthenticator::Options options;
        options.algorithms = {DigestAlgorithm::Md5};
        Fixture f(options);
        base::SeededRandom clientRandom(7);
        sip::DigestClient client(clientRandom);
        Message request = inviteRequest("v=0\r\n");
        const AuthOutcome first = f.server->authenticate(request, kPhone, AuthHeader::Proxy);
        QCOMPARE(fieldValues(first.response, HeaderId::ProxyAuthenticate).size(), 1);
        const AuthOutcome outcome =
            roundTrip(f, request, AuthHeader::Proxy, "201", kPassword201, &client);
        QCOMPARE(outcome.kind, AuthOutcome::Kind::Authenticated);
        QCOMPARE(outcome.user, QStringLiteral("201"));
        client.authorize(request);
        QCOMPARE(paramOf(request.header(HeaderId::ProxyAuthorization), "algorithm"),
                 QByteArray("MD5"));
    }

    // A user with only an MD5 HA1 is offered only MD5, so a SHA-256-capable phone can
    // still authenticate.
    void md5OnlyUserIsOfferedMd5() {
        Fixture f;
        const Message request = registerRequest("202");
        const AuthOutcome first = f.server->authenticate(request, kPhone, AuthHeader::Www);
        const QList<QByteArray> challenges = fieldValues(first.response, HeaderId::WwwAuthenticate);
        QCOMPARE(challenges.size(), 1);
        QCOMPARE(paramOf(challenges[0], "algorithm"), QByteArray("MD5"));
        const AuthOutcome outcome =
            roundTrip(f, registerRequest("202"), AuthHeader::Www, "202", kPassword202);
        QCOMPARE(outcome.kind, AuthOutcome::Kind::Authenticated);
        QCOMPARE(outcome.user, QStringLiteral("202"));

        // Answering SHA-256 anyway (no hash for it) earns an MD5-only challenge.
        const AuthOutcome sha = f.server->authenticate(
            request, kPhone, AuthHeader::Www);  // any challenge carries a valid nonce
        Message answer = registerRequest("202");
        answer.addHeader(
            HeaderId::Authorization,
            handCredentials(sha.response, answer, "202", kPassword202, DigestAlgorithm::Sha256));
        const AuthOutcome refused = f.server->authenticate(wire(answer), kPhone, AuthHeader::Www);
        QCOMPARE(refused.kind, AuthOutcome::Kind::Challenge);
        QCOMPARE(fieldValues(refused.response, HeaderId::WwwAuthenticate).size(), 1);
    }

    // RFC 7616 §3.4.3: auth-int hashes the body into A2; a changed body fails.
    void authIntChecksTheBody() {
        DigestAuthenticator::Options options;
        options.offerAuthInt = true;
        Fixture f(options);
        const QByteArray body = "v=0\r\no=- 1 1 IN IP4 127.0.0.2\r\n";
        const Message request = inviteRequest(body);
        const AuthOutcome first = f.server->authenticate(request, kPhone, AuthHeader::Proxy);
        QCOMPARE(paramOf(fieldValues(first.response, HeaderId::ProxyAuthenticate)[0], "qop"),
                 QByteArray("auth,auth-int"));
        const QByteArray credentials =
            handCredentials(first.response, request, "201", kPassword201, DigestAlgorithm::Sha256,
                            sip::DigestQop::AuthInt);
        QVERIFY(credentials.contains("qop=auth-int"));

        Message tampered = inviteRequest("v=0\r\no=- 1 1 IN IP4 127.0.0.9\r\n");
        tampered.addHeader(HeaderId::ProxyAuthorization, credentials);
        QCOMPARE(f.server->authenticate(wire(tampered), kPhone, AuthHeader::Proxy).kind,
                 AuthOutcome::Kind::Challenge);

        Message answer = request;
        answer.addHeader(HeaderId::ProxyAuthorization, credentials);
        const AuthOutcome outcome = f.server->authenticate(wire(answer), kPhone, AuthHeader::Proxy);
        QCOMPARE(outcome.kind, AuthOutcome::Kind::Authenticated);
    }

    void wrongPasswordIsChallengedAgain() {
        Fixture f;
        const Message request = registerRequest();
        const AuthOutcome first = f.server->authenticate(request, kPhone, AuthHeader::Www);
        const AuthOutcome outcome =
            roundTrip(f, request, AuthHeader::Www, "201", "not-the-password");
        QCOMPARE(outcome.kind, AuthOutcome::Kind::Challenge);
        QCOMPARE(outcome.response.statusCode(), 401);
        const QList<QByteArray> challenges =
            fieldValues(outcome.response, HeaderId::WwwAuthenticate);
        QCOMPARE(challenges.size(), 2);
        QCOMPARE(paramOf(challenges[0], "stale"), QByteArray("<absent>"));
        QVERIFY(paramOf(challenges[0], "nonce") !=
                paramOf(fieldValues(first.response, HeaderId::WwwAuthenticate)[0], "nonce"));
        QVERIFY(outcome.reason.contains("wrong response"));
        QVERIFY(!f.server->throttle().isBlocked(kPhone.address));
        QCOMPARE(f.server->throttle().trackedSources(), 1);  // the failure was counted
    }

    void unknownUserIsChallenged() {
        Fixture f;
        const AuthOutcome outcome =
            roundTrip(f, registerRequest("299"), AuthHeader::Www, "299", "whatever");
        QCOMPARE(outcome.kind, AuthOutcome::Kind::Challenge);
        QVERIFY(outcome.reason.contains("unknown user"));
        QCOMPARE(f.server->throttle().trackedSources(), 1);
    }

    // Credentials for another realm are not ours: a challenge for ours, no failure.
    void wrongRealmIsChallenged() {
        Fixture f;
        Message request = registerRequest();
        const AuthOutcome first = f.server->authenticate(request, kPhone, AuthHeader::Www);
        request.addHeader(
            HeaderId::Authorization,
            handCredentials(first.response, request, "201", kPassword201, DigestAlgorithm::Sha256,
                            sip::DigestQop::Auth, 1, "other.example"));
        const AuthOutcome outcome = f.server->authenticate(wire(request), kPhone, AuthHeader::Www);
        QCOMPARE(outcome.kind, AuthOutcome::Kind::Challenge);
        QVERIFY(outcome.reason.contains("no credentials"));
        QCOMPARE(f.server->throttle().trackedSources(), 0);
    }

    // Proxy credentials in an Authorization header (or the other way round) do not count.
    void wrongHeaderKindIsIgnored() {
        Fixture f;
        Message request = inviteRequest();
        const AuthOutcome first = f.server->authenticate(request, kPhone, AuthHeader::Proxy);
        request.addHeader(
            HeaderId::Authorization,
            handCredentials(first.response, request, "201", kPassword201, DigestAlgorithm::Sha256));
        QCOMPARE(f.server->authenticate(wire(request), kPhone, AuthHeader::Proxy).kind,
                 AuthOutcome::Kind::Challenge);
        QCOMPARE(f.server->authenticate(wire(request), kPhone, AuthHeader::Www).kind,
                 AuthOutcome::Kind::Authenticated);
    }

    // RFC 7616 §3.4.6: the digest-uri must be the Request-URI.
    void uriMismatchIsRefused() {
        Fixture f;
        base::SeededRandom clientRandom(7);
        sip::DigestClient client(clientRandom);
        client.setCredentials("201", kPassword201);
        Message request = inviteRequest();
        QVERIFY(client.handleChallenge(
            wire(f.server->authenticate(request, kPhone, AuthHeader::Proxy).response)));
        client.authorize(request);
        request.setRequestUri("sip:203@switchboard.local");
        const AuthOutcome outcome =
            f.server->authenticate(wire(request), kPhone, AuthHeader::Proxy);
        QCOMPARE(outcome.kind, AuthOutcome::Kind::Refused);
        QCOMPARE(outcome.response.statusCode(), 400);
        QVERIFY(outcome.response.reasonPhrase().contains("uri"));
    }

    // RFC 7616 §3.3: an expired nonce with a correct answer gets stale=true, and the
    // client retries with the new nonce without asking for the password.
    void expiredNonceIsStale() {
        Fixture f;
        base::SeededRandom clientRandom(7);
        sip::DigestClient client(clientRandom);
        client.setCredentials("201", kPassword201);
        Message request = registerRequest();
        QVERIFY(client.handleChallenge(
            wire(f.server->authenticate(request, kPhone, AuthHeader::Www).response)));
        f.clock.advance(300s);  // still inside the lifetime
        client.authorize(request);
        QCOMPARE(f.server->authenticate(wire(request), kPhone, AuthHeader::Www).kind,
                 AuthOutcome::Kind::Authenticated);

        f.clock.advance(1s);
        client.authorize(request);
        const AuthOutcome stale = f.server->authenticate(wire(request), kPhone, AuthHeader::Www);
        QCOMPARE(stale.kind, AuthOutcome::Kind::Challenge);
        const QList<QByteArray> challenges = fieldValues(stale.response, HeaderId::WwwAuthenticate);
        QCOMPARE(challenges.size(), 2);
        QCOMPARE(paramOf(challenges[0], "stale"), QByteArray("true"));
        QCOMPARE(paramOf(challenges[1], "stale"), QByteArray("true"));
        QCOMPARE(f.server->throttle().trackedSources(), 0);  // not a failure

        QVERIFY(client.handleChallenge(wire(stale.response)));  // stale: retried
        client.authorize(request);
        QCOMPARE(f.server->authenticate(wire(request), kPhone, AuthHeader::Www).kind,
                 AuthOutcome::Kind::Authenticated);
    }

    // An expired nonce with a wrong answer says nothing about staleness.
    void expiredNonceWithWrongPasswordIsNotStale() {
        Fixture f;
        base::SeededRandom clientRandom(7);
        sip::DigestClient client(clientRandom);
        client.setCredentials("201", "wrong");
        Message request = registerRequest();
        QVERIFY(client.handleChallenge(
            wire(f.server->authenticate(request, kPhone, AuthHeader::Www).response)));
        f.clock.advance(301s);
        client.authorize(request);
        const AuthOutcome outcome = f.server->authenticate(wire(request), kPhone, AuthHeader::Www);
        QCOMPARE(outcome.kind, AuthOutcome::Kind::Challenge);
        QCOMPARE(paramOf(fieldValues(outcome.response, HeaderId::WwwAuthenticate)[0], "stale"),
                 QByteArray("<absent>"));
    }

    void forgedNonceIsChallenged() {
        Fixture f;
        const Message request = registerRequest();
        const AuthOutcome first = f.server->authenticate(request, kPhone, AuthHeader::Www);
        const QByteArray credentials =
            handCredentials(first.response, request, "201", kPassword201, DigestAlgorithm::Sha256);
        const QByteArray nonce = paramOf(credentials, "nonce");

        // One character of the nonce changed (the client computed over the forged nonce).
        QByteArray forgedNonce = nonce;
        forgedNonce[5] = forgedNonce[5] == 'A' ? 'B' : 'A';
        Message forgedChallenge = first.response;
        forgedChallenge.setHeader(HeaderId::WwwAuthenticate,
                                  "Digest realm=\"switchboard.local\", nonce=\"" + forgedNonce +
                                      "\", algorithm=SHA-256, qop=\"auth\"");
        Message answer = request;
        answer.addHeader(
            HeaderId::Authorization,
            handCredentials(forgedChallenge, answer, "201", kPassword201, DigestAlgorithm::Sha256));
        AuthOutcome outcome = f.server->authenticate(wire(answer), kPhone, AuthHeader::Www);
        QCOMPARE(outcome.kind, AuthOutcome::Kind::Challenge);
        QVERIFY(outcome.reason.contains("nonce not issued here"));
        QCOMPARE(paramOf(fieldValues(outcome.response, HeaderId::WwwAuthenticate)[0], "stale"),
                 QByteArray("<absent>"));

        // A nonce of another server (another secret) is just as foreign.
        DigestAuthenticator::Options options;
        options.secret = QByteArray(32, 'z');
        DigestAuthenticator other(f.users, f.clock, f.random, options);
        Message answer2 = request;
        answer2.addHeader(HeaderId::Authorization,
                          handCredentials(other.challengeResponse(request, AuthHeader::Www),
                                          answer2, "201", kPassword201, DigestAlgorithm::Sha256));
        outcome = f.server->authenticate(wire(answer2), kPhone, AuthHeader::Www);
        QCOMPARE(outcome.kind, AuthOutcome::Kind::Challenge);
        QVERIFY(outcome.reason.contains("nonce not issued here"));
        QCOMPARE(f.server->throttle().trackedSources(), 0);

        // Garbage that is not even base64.
        Message answer3 = request;
        forgedChallenge.setHeader(HeaderId::WwwAuthenticate,
                                  "Digest realm=\"switchboard.local\", nonce=\"!!\", "
                                  "algorithm=SHA-256, qop=\"auth\"");
        answer3.addHeader(HeaderId::Authorization,
                          handCredentials(forgedChallenge, answer3, "201", kPassword201,
                                          DigestAlgorithm::Sha256));
        QCOMPARE(f.server->authenticate(wire(answer3), kPhone, AuthHeader::Www).kind,
                 AuthOutcome::Kind::Challenge);
    }

    // RFC 7616 §3.4: the same nc again is a replay — never authenticated.
    void nonceCountReplayIsRefused() {
        Fixture f;
        base::SeededRandom clientRandom(7);
        sip::DigestClient client(clientRandom);
        client.setCredentials("201", kPassword201);
        Message request = registerRequest();
        QVERIFY(client.handleChallenge(
            wire(f.server->authenticate(request, kPhone, AuthHeader::Www).response)));
        client.authorize(request);  // nc=00000001
        const Message captured = wire(request);
        QCOMPARE(f.server->authenticate(captured, kPhone, AuthHeader::Www).kind,
                 AuthOutcome::Kind::Authenticated);
        const AuthOutcome replay = f.server->authenticate(captured, kOtherPhone, AuthHeader::Www);
        QCOMPARE(replay.kind, AuthOutcome::Kind::Challenge);
        QVERIFY(replay.reason.contains("replay"));

        client.authorize(request);  // nc=00000002
        const Message second = wire(request);
        client.authorize(request);  // nc=00000003
        const Message third = wire(request);
        QCOMPARE(f.server->authenticate(third, kPhone, AuthHeader::Www).kind,
                 AuthOutcome::Kind::Authenticated);
        // A lower count after a higher one is a replay too.
        QCOMPARE(f.server->authenticate(second, kPhone, AuthHeader::Www).kind,
                 AuthOutcome::Kind::Challenge);
        QCOMPARE(f.server->trackedNonces(), 1);
    }

    // At the cap the oldest nonce is dropped; its count is unknown afterwards, so it is
    // treated as stale instead of trusted (no replay window opens).
    void trackedNoncesAreBounded() {
        DigestAuthenticator::Options options;
        options.maxTrackedNonces = 2;
        Fixture f(options);
        std::vector<Message> firstUses;
        std::vector<std::unique_ptr<base::SeededRandom>> randoms;
        std::vector<std::unique_ptr<sip::DigestClient>> clients;
        for (int i = 0; i < 3; ++i) {
            randoms.push_back(std::make_unique<base::SeededRandom>(100 + i));
            clients.push_back(std::make_unique<sip::DigestClient>(*randoms.back()));
            clients.back()->setCredentials("201", kPassword201);
            Message request = registerRequest("201", "reg-" + QByteArray::number(i));
            QVERIFY(clients.back()->handleChallenge(
                wire(f.server->authenticate(request, kPhone, AuthHeader::Www).response)));
            f.clock.advance(1s);
            clients.back()->authorize(request);
            QCOMPARE(f.server->authenticate(wire(request), kPhone, AuthHeader::Www).kind,
                     AuthOutcome::Kind::Authenticated);
            QVERIFY(f.server->trackedNonces() <= 2);
            firstUses.push_back(request);
        }
        Message request = firstUses[0];
        clients[0]->authorize(request);  // nc=2 on the evicted nonce
        const AuthOutcome outcome = f.server->authenticate(wire(request), kPhone, AuthHeader::Www);
        QCOMPARE(outcome.kind, AuthOutcome::Kind::Challenge);
        QCOMPARE(paramOf(fieldValues(outcome.response, HeaderId::WwwAuthenticate)[0], "stale"),
                 QByteArray("true"));
        // Nonces still tracked go on working.
        Message latest = firstUses[2];
        clients[2]->authorize(latest);
        QCOMPARE(f.server->authenticate(wire(latest), kPhone, AuthHeader::Www).kind,
                 AuthOutcome::Kind::Authenticated);

        // Expired nonces leave the table.
        f.clock.advance(301s);
        Message fresh = registerRequest("201", "reg-9");
        QCOMPARE(roundTrip(f, fresh, AuthHeader::Www, "201", kPassword201).kind,
                 AuthOutcome::Kind::Authenticated);
        QCOMPARE(f.server->trackedNonces(), 1);
    }

    // We offer MD5 and SHA-256 only: -sess variants and unknown algorithms are not taken.
    void unofferedAlgorithmIsChallenged() {
        DigestAuthenticator::Options options;
        options.algorithms = {DigestAlgorithm::Sha256};
        Fixture f(options);
        const Message request = registerRequest();
        const AuthOutcome first = f.server->authenticate(request, kPhone, AuthHeader::Www);
        for (DigestAlgorithm algorithm :
             {DigestAlgorithm::Md5, DigestAlgorithm::Sha256Sess, DigestAlgorithm::Md5Sess}) {
            Message answer = request;
            answer.addHeader(HeaderId::Authorization, handCredentials(first.response, answer, "201",
                                                                      kPassword201, algorithm));
            const AuthOutcome outcome =
                f.server->authenticate(wire(answer), kPhone, AuthHeader::Www);
            QCOMPARE(outcome.kind, AuthOutcome::Kind::Challenge);
            QVERIFY(outcome.reason.contains("algorithm not offered"));
        }
        Message unknown = request;
        unknown.addHeader(
            HeaderId::Authorization,
            handCredentials(first.response, unknown, "201", kPassword201, DigestAlgorithm::Sha256)
                .replace("algorithm=SHA-256", "algorithm=SHA-512-256"));
        QCOMPARE(f.server->authenticate(wire(unknown), kPhone, AuthHeader::Www).kind,
                 AuthOutcome::Kind::Challenge);
        // The -sess variant is computed right when it is offered.
        DigestAuthenticator::Options sess;
        sess.algorithms = {DigestAlgorithm::Sha256Sess};
        Fixture g(sess);
        const AuthOutcome outcome =
            roundTrip(g, registerRequest(), AuthHeader::Www, "201", kPassword201);
        QCOMPARE(outcome.kind, AuthOutcome::Kind::Authenticated);
    }

    void incompleteCredentialsAreBadRequests_data() {
        QTest::addColumn<QByteArray>("drop");
        QTest::addColumn<QByteArray>("phrase");
        QTest::newRow("nc") << QByteArray(", nc=00000001") << QByteArray("without nc");
        QTest::newRow("cnonce") << QByteArray(", cnonce=\"0a4f113b\"")
                                << QByteArray("without cnonce");
        QTest::newRow("qop") << QByteArray(", qop=auth") << QByteArray("without qop");
    }

    void incompleteCredentialsAreBadRequests() {
        QFETCH(QByteArray, drop);
        QFETCH(QByteArray, phrase);
        Fixture f;
        Message request = registerRequest();
        const AuthOutcome first = f.server->authenticate(request, kPhone, AuthHeader::Www);
        QByteArray credentials =
            handCredentials(first.response, request, "201", kPassword201, DigestAlgorithm::Sha256);
        QVERIFY(credentials.contains(drop));
        credentials.replace(drop, "");
        request.addHeader(HeaderId::Authorization, credentials);
        const AuthOutcome outcome = f.server->authenticate(wire(request), kPhone, AuthHeader::Www);
        QCOMPARE(outcome.kind, AuthOutcome::Kind::Refused);
        QCOMPARE(outcome.response.statusCode(), 400);
        QVERIFY2(outcome.response.reasonPhrase().contains(phrase),
                 outcome.response.reasonPhrase().toByteArray().constData());
    }

    void throttledSourceIsRefused() {
        Fixture f;
        for (int i = 0; i < 9; ++i) {
            const AuthOutcome outcome =
                roundTrip(f, registerRequest(), AuthHeader::Www, "201", "guess");
            QCOMPARE(outcome.kind, AuthOutcome::Kind::Challenge);
        }
        QTest::ignoreMessage(QtWarningMsg,
                             QRegularExpression(QStringLiteral("blocking 127.0.0.2 for 60 s")));
        AuthOutcome outcome = roundTrip(f, registerRequest(), AuthHeader::Www, "201", "guess");
        QCOMPARE(outcome.kind, AuthOutcome::Kind::Refused);
        QCOMPARE(outcome.response.statusCode(), 403);
        QCOMPARE(outcome.response.reasonPhrase().toByteArray(),
                 QByteArray("Too many authentication failures"));
        QCOMPARE(outcome.response.header(HeaderId::RetryAfter).toByteArray(), QByteArray("60"));

        // Blocked: even the right password is refused, and so is a bare request.
        f.clock.advance(10s);
        QCOMPARE(f.server->authenticate(registerRequest(), kPhone, AuthHeader::Www).kind,
                 AuthOutcome::Kind::Refused);
        outcome = f.server->authenticate(registerRequest(), kPhone, AuthHeader::Www);
        QCOMPARE(outcome.response.header(HeaderId::RetryAfter).toByteArray(), QByteArray("50"));
        // Another source is not affected.
        const AuthOutcome other =
            f.server->authenticate(registerRequest(), kOtherPhone, AuthHeader::Www);
        QCOMPARE(other.kind, AuthOutcome::Kind::Challenge);

        f.clock.advance(50s);
        QCOMPARE(roundTrip(f, registerRequest(), AuthHeader::Www, "201", kPassword201).kind,
                 AuthOutcome::Kind::Authenticated);
    }

    // RFC 3261 §22.3: our own credentials are consumed, others stay for the next proxy.
    void removeOwnCredentialsKeepsOtherRealms() {
        Fixture f;
        Message request = inviteRequest();
        const AuthOutcome first = f.server->authenticate(request, kPhone, AuthHeader::Proxy);
        const QByteArray foreign =
            "Digest username=\"x\", realm=\"upstream.example\", nonce=\"n\", uri=\"sip:202@"
            "switchboard.local\", response=\"00\"";
        request.addHeader(HeaderId::ProxyAuthorization, foreign);
        request.addHeader(
            HeaderId::ProxyAuthorization,
            handCredentials(first.response, request, "201", kPassword201, DigestAlgorithm::Sha256));
        Message received = wire(request);
        QCOMPARE(f.server->authenticate(received, kPhone, AuthHeader::Proxy).kind,
                 AuthOutcome::Kind::Authenticated);
        f.server->removeOwnCredentials(received, AuthHeader::Proxy);
        QCOMPARE(fieldValues(received, HeaderId::ProxyAuthorization), QList<QByteArray>{foreign});
    }

    // No Authorization value, response or password ever reaches the log.
    void logsCarryNoCredentials() {
        QLoggingCategory& category = const_cast<QLoggingCategory&>(lcServer());
        category.setEnabled(QtDebugMsg, true);
        static QStringList logged;
        logged.clear();
        const QtMessageHandler previous = qInstallMessageHandler(
            [](QtMsgType, const QMessageLogContext&, const QString& text) { logged << text; });
        {
            Fixture f;
            for (int i = 0; i < 11; ++i)
                roundTrip(f, registerRequest(), AuthHeader::Www, "201", "guess-password");
            roundTrip(f, registerRequest(), AuthHeader::Www, "201", kPassword201);
        }
        qInstallMessageHandler(previous);
        category.setEnabled(QtDebugMsg, false);
        QVERIFY(!logged.isEmpty());
        const QString all = logged.join(QLatin1Char('\n'));
        QVERIFY2(!all.contains(QStringLiteral("guess-password")), qPrintable(all));
        QVERIFY(!all.contains(QLatin1String(kPassword201)));
        QVERIFY(!all.contains(QStringLiteral("response=")));
        QVERIFY(!all.contains(QStringLiteral("nonce=")));
        QVERIFY(!all.contains(QStringLiteral("Digest ")));
        QVERIFY(all.contains(QStringLiteral("blocking 127.0.0.2")));
    }
};

QTEST_APPLESS_MAIN(TstDigestAuthenticator)
#include "tst_digest_authenticator.moc"
