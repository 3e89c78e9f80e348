#include <QCryptographicHash>
#include <QTest>

#include "base/random.h"
#include "sip/digest.h"
#include "sip/message.h"
#include "sip/parser.h"

using namespace sb;
using namespace sb::sip;

namespace {

// RFC 7616 §3.9.1 inputs.
constexpr char kRfcRealm[] = "http-auth@example.org";
constexpr char kRfcNonce[] = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
constexpr char kRfcCnonce[] = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
constexpr char kRfcOpaque[] = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS";

QByteArray hex(QCryptographicHash::Algorithm algorithm, const QByteArray& data) {
    return QCryptographicHash::hash(data, algorithm).toHex();
}

DigestInput rfc7616Input(DigestAlgorithm algorithm) {
    DigestInput input;
    input.algorithm = algorithm;
    input.username = "Mufasa";
    input.realm = kRfcRealm;
    input.password = "Circle of Life";
    input.nonce = kRfcNonce;
    input.cnonce = kRfcCnonce;
    input.nonceCount = 1;
    input.qop = DigestQop::Auth;
    input.method = "GET";
    input.uri = "/dir/index.html";
    return input;
}

Message challenge(int status, std::initializer_list<QByteArray> fields) {
    Message response = Message::response(status);
    for (const QByteArray& field : fields)
        response.addHeader(status == 407 ? HeaderId::ProxyAuthenticate : HeaderId::WwwAuthenticate,
                           field);
    return response;
}

Message registerRequest() {
    return Message::request(Method::Register, "sip:example.com");
}

// The auth-params of the only credentials in `value`.
AuthParams credentials(QByteArrayView value) {
    auto parsed = parseAuthParams(value);
    if (!parsed || parsed->size() != 1) return {};
    return parsed->front();
}

QByteArray param(QByteArrayView value, QByteArrayView name) {
    return credentials(value).value(name).value_or(QByteArray("<absent>"));
}

// The MD5/qop=auth response recomputed from the credentials' own fields.
QByteArray expectedMd5Response(const AuthParams& c, const QByteArray& password,
                               const QByteArray& method) {
    const QByteArray ha1 = hex(QCryptographicHash::Md5,
                               *c.value("username") + ':' + *c.value("realm") + ':' + password);
    const QByteArray ha2 = hex(QCryptographicHash::Md5, method + ':' + *c.value("uri"));
    return hex(QCryptographicHash::Md5, ha1 + ':' + *c.value("nonce") + ':' + *c.value("nc") + ':' +
                                            *c.value("cnonce") + ':' + *c.value("qop") + ':' + ha2);
}

}  // namespace

class TestDigest : public QObject {
    Q_OBJECT

private slots:
    // --- Known-answer vectors -----------------------------------------------------------
    void rfc7616Md5() {
        QCOMPARE(digestResponse(rfc7616Input(DigestAlgorithm::Md5)),
                 QByteArray("8ca523f5e9506fed4657c9700eebdbec"));
    }

    void rfc7616Sha256() {
        QCOMPARE(digestResponse(rfc7616Input(DigestAlgorithm::Sha256)),
                 QByteArray("753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"));
    }

    void rfc7616ChallengeToCredentials() {
        // The challenge of RFC 7616 §3.9.1, SHA-256 offered first, MD5 second.
        const QByteArray sha =
            QByteArray(
                "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", "
                "algorithm=SHA-256, nonce=\"") +
            kRfcNonce + "\", opaque=\"" + kRfcOpaque + "\"";
        auto parsed = parseAuthParams(sha);
        QVERIFY(parsed);
        QCOMPARE(parsed->size(), std::size_t(1));
        auto c = DigestChallenge::fromParams(parsed->front(), false);
        QVERIFY(c);
        QCOMPARE(c->algorithm, DigestAlgorithm::Sha256);
        QVERIFY(c->qopAuth && c->qopAuthInt);
        QCOMPARE(c->chosenQop(), DigestQop::Auth);
        QCOMPARE(c->opaque.value_or(""), QByteArray(kRfcOpaque));

        const QByteArray value = buildDigestCredentials(*c, rfc7616Input(DigestAlgorithm::Sha256));
        QVERIFY(value.startsWith("Digest "));
        const AuthParams back = credentials(value);
        QCOMPARE(back.value("username").value_or(""), QByteArray("Mufasa"));
        QCOMPARE(back.value("realm").value_or(""), QByteArray(kRfcRealm));
        QCOMPARE(back.value("uri").value_or(""), QByteArray("/dir/index.html"));
        QCOMPARE(back.value("algorithm").value_or(""), QByteArray("SHA-256"));
        QCOMPARE(back.value("nonce").value_or(""), QByteArray(kRfcNonce));
        QCOMPARE(back.value("nc").value_or(""), QByteArray("00000001"));
        QCOMPARE(back.value("cnonce").value_or(""), QByteArray(kRfcCnonce));
        QCOMPARE(back.value("qop").value_or(""), QByteArray("auth"));
        QCOMPARE(back.value("opaque").value_or(""), QByteArray(kRfcOpaque));
        QCOMPARE(back.value("response").value_or(""),
                 QByteArray("753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"));
        // RFC 7616 §3.4: algorithm, qop and nc are tokens, never quoted.
        QVERIFY(value.contains(", qop=auth"));
        QVERIFY(value.contains(", nc=00000001"));
        QVERIFY(value.contains(", algorithm=SHA-256"));
    }

    void rfc2617Md5() {
        // RFC 2617 §3.5.
        auto parsed = parseAuthParams(
            "Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", "
            "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
            "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"");
        QVERIFY(parsed);
        auto c = DigestChallenge::fromParams(parsed->front(), false);
        QVERIFY(c);
        QVERIFY(!c->algorithmGiven);
        DigestInput input;
        input.username = "Mufasa";
        input.realm = c->realm;
        input.password = "Circle Of Life";
        input.nonce = c->nonce;
        input.cnonce = "0a4f113b";
        input.qop = c->chosenQop();
        input.method = "GET";
        input.uri = "/dir/index.html";
        QCOMPARE(digestResponse(input), QByteArray("6629fae49393a05397450978507c4ef1"));
        const QByteArray value = buildDigestCredentials(*c, input);
        QCOMPARE(param(value, "response"), QByteArray("6629fae49393a05397450978507c4ef1"));
        QCOMPARE(param(value, "opaque"), QByteArray("5ccc069c403ebaf9f0171e9517f40e41"));
        // Not named by the challenge, so not echoed (RFC 2617 servers assume MD5).
        QCOMPARE(param(value, "algorithm"), QByteArray("<absent>"));
    }

    void md5Sess() {
        DigestInput input = rfc7616Input(DigestAlgorithm::Md5Sess);
        // RFC 7616 §3.4.2: HA1 = H(H(user:realm:password):nonce:cnonce).
        const QByteArray inner =
            hex(QCryptographicHash::Md5, "Mufasa:http-auth@example.org:Circle of Life");
        const QByteArray ha1 =
            hex(QCryptographicHash::Md5, inner + ':' + kRfcNonce + ':' + kRfcCnonce);
        QCOMPARE(digestHa1(input), ha1);
        const QByteArray ha2 = hex(QCryptographicHash::Md5, "GET:/dir/index.html");
        const QByteArray expected =
            hex(QCryptographicHash::Md5,
                ha1 + ':' + kRfcNonce + ":00000001:" + kRfcCnonce + ":auth:" + ha2);
        QCOMPARE(digestResponse(input), expected);
        QCOMPARE(digestResponse(input), QByteArray("e783283f46242139c486a698fec7211d"));
    }

    void sha256Sess() {
        QCOMPARE(digestResponse(rfc7616Input(DigestAlgorithm::Sha256Sess)),
                 QByteArray("2fd51b3a77ad75bad6afad6003e818d767133c46d9e2749e7f5232ae1ea3efd7"));
    }

    void authIntHashesTheBody() {
        DigestInput input = rfc7616Input(DigestAlgorithm::Md5);
        input.qop = DigestQop::AuthInt;
        input.method = "POST";
        input.body = "hello";
        const QByteArray ha2 = hex(QCryptographicHash::Md5,
                                   "POST:/dir/index.html:" + hex(QCryptographicHash::Md5, "hello"));
        QCOMPARE(digestHa2(input), ha2);
        QCOMPARE(digestResponse(input), QByteArray("23fef4d928a3e9fa6e0b0de51288c997"));
    }

    void rfc2069WithoutQop() {
        auto parsed = parseAuthParams(
            "Digest realm=\"testrealm@host.com\", nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\"");
        QVERIFY(parsed);
        auto c = DigestChallenge::fromParams(parsed->front(), false);
        QVERIFY(c);
        QCOMPARE(c->chosenQop(), DigestQop::None);
        DigestInput input;
        input.username = "Mufasa";
        input.realm = c->realm;
        input.password = "Circle Of Life";
        input.nonce = c->nonce;
        input.cnonce = "unused";
        input.qop = DigestQop::None;
        input.method = "GET";
        input.uri = "/dir/index.html";
        const QByteArray ha1 =
            hex(QCryptographicHash::Md5, "Mufasa:testrealm@host.com:Circle Of Life");
        const QByteArray ha2 = hex(QCryptographicHash::Md5, "GET:/dir/index.html");
        QCOMPARE(digestResponse(input),
                 hex(QCryptographicHash::Md5, ha1 + ":dcd98b7102dd2f0e8b11d0f600bfb0c093:" + ha2));
        const QByteArray value = buildDigestCredentials(*c, input);
        QCOMPARE(param(value, "qop"), QByteArray("<absent>"));
        QCOMPARE(param(value, "nc"), QByteArray("<absent>"));
        QCOMPARE(param(value, "cnonce"), QByteArray("<absent>"));
    }

    void userhash() {
        auto parsed = parseAuthParams(
            "Digest realm=\"http-auth@example.org\", nonce=\"n\", qop=\"auth\", "
            "algorithm=SHA-256, userhash=true");
        QVERIFY(parsed);
        auto c = DigestChallenge::fromParams(parsed->front(), false);
        QVERIFY(c);
        QVERIFY(c->userhash);
        DigestInput input = rfc7616Input(DigestAlgorithm::Sha256);
        input.nonce = "n";
        const QByteArray value = buildDigestCredentials(*c, input);
        // RFC 7616 §3.4.4: username = H(username ":" realm).
        QCOMPARE(param(value, "username"),
                 hex(QCryptographicHash::Sha256, "Mufasa:http-auth@example.org"));
        QCOMPARE(param(value, "userhash"), QByteArray("true"));
    }

    void nonceCountFormat() {
        QCOMPARE(formatNonceCount(1), QByteArray("00000001"));
        QCOMPARE(formatNonceCount(255), QByteArray("000000ff"));
        QCOMPARE(formatNonceCount(0x12345678), QByteArray("12345678"));
    }

    void credentialsQuoteEscapes() {
        auto parsed = parseAuthParams("Digest realm=\"a\\\"b\", nonce=\"n\"");
        QVERIFY(parsed);
        auto c = DigestChallenge::fromParams(parsed->front(), false);
        QVERIFY(c);
        QCOMPARE(c->realm, QByteArray("a\"b"));
        DigestInput input;
        input.username = "us\\er\"x";
        input.realm = c->realm;
        input.nonce = c->nonce;
        input.qop = DigestQop::None;
        input.method = "REGISTER";
        input.uri = "sip:example.com";
        const QByteArray value = buildDigestCredentials(*c, input);
        QVERIFY(value.contains("username=\"us\\\\er\\\"x\""));
        QVERIFY(value.contains("realm=\"a\\\"b\""));
        QCOMPARE(param(value, "username"), QByteArray("us\\er\"x"));
        QCOMPARE(param(value, "realm"), QByteArray("a\"b"));
    }

    // --- Challenge parsing ---------------------------------------------------------------
    void quotedCommas() {
        auto parsed = parseAuthParams("Digest realm=\"a, b\", nonce=\"x,y\", opaque=\"\"");
        QVERIFY(parsed);
        QCOMPARE(parsed->size(), std::size_t(1));
        QCOMPARE(parsed->front().value("realm").value_or(""), QByteArray("a, b"));
        QCOMPARE(parsed->front().value("nonce").value_or(""), QByteArray("x,y"));
        auto c = DigestChallenge::fromParams(parsed->front(), false);
        QVERIFY(c);
        QVERIFY(c->opaque.has_value());
        QVERIFY(c->opaque->isEmpty());
    }

    void severalChallengesInOneField() {
        auto parsed = parseAuthParams(
            "Basic realm=\"simple\", Digest realm=\"r\", nonce=\"n1\", algorithm=MD5, "
            "Digest realm=\"r\", nonce=\"n2\", algorithm=SHA-256, Negotiate abc+/d==");
        QVERIFY(parsed);
        QCOMPARE(parsed->size(), std::size_t(4));
        QVERIFY((*parsed)[0].isScheme("basic"));
        QCOMPARE((*parsed)[1].value("nonce").value_or(""), QByteArray("n1"));
        QCOMPARE((*parsed)[2].value("algorithm").value_or(""), QByteArray("SHA-256"));
        QVERIFY((*parsed)[3].isScheme("Negotiate"));
        QCOMPARE((*parsed)[3].token68, QByteArray("abc+/d=="));
    }

    void caseAndUnknownParams() {
        auto parsed = parseAuthParams(
            "dIgEsT REALM=\"r\",NONCE=abc/def=, Stale=TRUE, qop=\"auth-int, foo\", "
            "charset=UTF-8, x-vendor=\"whatever, really\"");
        QVERIFY(parsed);
        auto c = DigestChallenge::fromParams(parsed->front(), true);
        QVERIFY(c);
        QVERIFY(c->proxy);
        QCOMPARE(c->realm, QByteArray("r"));
        QCOMPARE(c->nonce, QByteArray("abc/def="));
        QVERIFY(c->stale);
        QVERIFY(!c->qopAuth);
        QCOMPARE(c->chosenQop(), DigestQop::AuthInt);
    }

    void domainList() {
        auto parsed = parseAuthParams(
            "Digest realm=\"r\", nonce=\"n\", domain=\"sip:a.example  sip:b.example\"");
        QVERIFY(parsed);
        auto c = DigestChallenge::fromParams(parsed->front(), false);
        QVERIFY(c);
        QCOMPARE(c->domain.size(), std::size_t(2));
        QCOMPARE(c->domain[1], QByteArray("sip:b.example"));
    }

    void foldedField() {
        auto parsed = parseAuthParams("Digest realm=\"r\",\r\n nonce=\"n\",\r\n\tqop=auth");
        QVERIFY(parsed);
        auto c = DigestChallenge::fromParams(parsed->front(), false);
        QVERIFY(c);
        QCOMPARE(c->nonce, QByteArray("n"));
        QVERIFY(c->qopAuth);
    }

    void malformed_data() {
        QTest::addColumn<QByteArray>("field");
        QTest::addColumn<qsizetype>("offset");
        QTest::newRow("unterminated quote")
            << QByteArray("Digest realm=\"r, nonce=n") << qsizetype(13);
        QTest::newRow("param before scheme") << QByteArray("realm=\"r\"") << qsizetype(0);
        QTest::newRow("missing value") << QByteArray("Digest realm=\"r\", nonce=") << qsizetype(24);
        QTest::newRow("junk after value")
            << QByteArray("Digest realm=\"r\"x, nonce=n") << qsizetype(16);
        QTest::newRow("stray character") << QByteArray("Digest realm=\"r\", @") << qsizetype(18);
    }
    void malformed() {
        QFETCH(QByteArray, field);
        QFETCH(qsizetype, offset);
        auto parsed = parseAuthParams(field);
        QVERIFY(!parsed);
        QCOMPARE(parsed.error().kind, ErrorKind::Parse);
        QCOMPARE(parsed.error().offset, offset);
    }

    void unusableChallenges_data() {
        QTest::addColumn<QByteArray>("field");
        QTest::newRow("missing nonce") << QByteArray("Digest realm=\"r\", qop=\"auth\"");
        QTest::newRow("empty nonce") << QByteArray("Digest realm=\"r\", nonce=\"\"");
        QTest::newRow("missing realm") << QByteArray("Digest nonce=\"n\"");
        QTest::newRow("unknown algorithm")
            << QByteArray("Digest realm=\"r\", nonce=\"n\", algorithm=SHA-512-256");
        QTest::newRow("unknown qop only")
            << QByteArray("Digest realm=\"r\", nonce=\"n\", qop=\"auth-conf\"");
        QTest::newRow("other scheme") << QByteArray("Basic realm=\"r\"");
    }
    void unusableChallenges() {
        QFETCH(QByteArray, field);
        auto parsed = parseAuthParams(field);
        QVERIFY(parsed);
        QVERIFY(!DigestChallenge::fromParams(parsed->front(), false));
        auto all = digestChallenges(challenge(401, {field}));
        QVERIFY(!all);
        QCOMPARE(all.error().kind, ErrorKind::Auth);
    }

    void challengesFromAParsedResponse() {
        const QByteArray raw =
            "SIP/2.0 401 Unauthorized\r\n"
            "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\n"
            "From: <sip:alice@example.com>;tag=1\r\n"
            "To: <sip:alice@example.com>;tag=2\r\n"
            "Call-ID: c1\r\n"
            "CSeq: 1 REGISTER\r\n"
            "WWW-Authenticate: Digest realm=\"example.com\", nonce=\"a\", algorithm=SHA-512-256\r\n"
            "www-authenticate: Digest realm=\"example.com\", nonce=\"b\", algorithm=MD5, "
            "qop=\"auth\"\r\n"
            "Proxy-Authenticate: Digest realm=\"proxy\", nonce=\"c\", stale=true\r\n"
            "Content-Length: 0\r\n\r\n";
        auto message = Parser::parse(raw);
        QVERIFY2(message, qPrintable(message ? QString() : message.error().toString()));
        auto all = digestChallenges(*message);
        QVERIFY(all);
        // The SHA-512-256 challenge is not ours to answer; the other two are.
        QCOMPARE(all->size(), std::size_t(2));
        QCOMPARE((*all)[0].nonce, QByteArray("b"));
        QVERIFY(!(*all)[0].proxy);
        QCOMPARE((*all)[1].realm, QByteArray("proxy"));
        QVERIFY((*all)[1].proxy);
        QVERIFY((*all)[1].stale);
    }

    // --- DigestClient ------------------------------------------------------------------------
    void answersA401Once() {
        base::SeededRandom random(7);
        DigestClient client(random);
        client.setCredentials("alice", "secret");
        QVERIFY(client.handleChallenge(
            challenge(401, {"Digest realm=\"example.com\", nonce=\"n1\", qop=\"auth\""})));

        Message request = registerRequest();
        client.authorize(request);
        QVERIFY(!request.has(HeaderId::ProxyAuthorization));
        const QByteArray value = request.header(HeaderId::Authorization).toByteArray();
        const AuthParams c = credentials(value);
        QCOMPARE(c.value("username").value_or(""), QByteArray("alice"));
        QCOMPARE(c.value("uri").value_or(""), QByteArray("sip:example.com"));
        QCOMPARE(c.value("nc").value_or(""), QByteArray("00000001"));
        QVERIFY(!c.value("cnonce").value_or("").isEmpty());
        QCOMPARE(c.value("response").value_or(""), expectedMd5Response(c, "secret", "REGISTER"));

        // Refused: the server challenges the answer again with a fresh nonce, no stale.
        auto again = client.handleChallenge(
            challenge(401, {"Digest realm=\"example.com\", nonce=\"n2\", qop=\"auth\""}));
        QVERIFY(!again);
        QCOMPARE(again.error().kind, ErrorKind::Auth);
        QVERIFY(again.error().reason.contains("refused"));
    }

    void sameNonceAgainGivesUp() {
        base::SeededRandom random(1);
        DigestClient client(random);
        client.setCredentials("alice", "secret");
        const Message first = challenge(401, {"Digest realm=\"r\", nonce=\"n1\""});
        QVERIFY(client.handleChallenge(first));
        Message request = registerRequest();
        client.authorize(request);
        QVERIFY(!client.handleChallenge(first));
        // Even stale=true does not excuse the same nonce (that would loop).
        QVERIFY(client.handleChallenge(first));  // entry dropped: a new round answers once...
        client.authorize(request);
        QVERIFY(!client.handleChallenge(
            challenge(401, {"Digest realm=\"r\", nonce=\"n1\", stale=true"})));
    }

    void staleRetriesWithTheNewNonce() {
        base::SeededRandom random(2);
        DigestClient client(random);
        client.setCredentials("alice", "secret");
        QVERIFY(client.handleChallenge(
            challenge(401, {"Digest realm=\"r\", nonce=\"n1\", qop=\"auth\""})));
        Message request = registerRequest();
        client.authorize(request);
        QCOMPARE(param(request.header(HeaderId::Authorization), "nonce"), QByteArray("n1"));

        QVERIFY(client.handleChallenge(
            challenge(401, {"Digest realm=\"r\", nonce=\"n2\", qop=\"auth\", stale=TRUE"})));
        client.authorize(request);
        const QByteArray value = request.header(HeaderId::Authorization).toByteArray();
        QCOMPARE(request.count(HeaderId::Authorization), 1);
        QCOMPARE(param(value, "nonce"), QByteArray("n2"));
        QCOMPARE(param(value, "nc"), QByteArray("00000001"));
        QCOMPARE(param(value, "response"),
                 expectedMd5Response(credentials(value), "secret", "REGISTER"));
    }

    void staleRetriesAreBounded() {
        base::SeededRandom random(3);
        DigestClient client(random);
        client.setCredentials("alice", "secret");
        QVERIFY(client.handleChallenge(challenge(401, {"Digest realm=\"r\", nonce=\"n0\""})));
        int retries = 0;
        for (int i = 1; i < 20; ++i) {
            Message request = registerRequest();
            client.authorize(request);
            const QByteArray field =
                "Digest realm=\"r\", stale=true, nonce=\"n" + QByteArray::number(i) + "\"";
            if (!client.handleChallenge(challenge(401, {field}))) break;
            ++retries;
        }
        QVERIFY(retries >= 1);
        QVERIFY(retries < 19);
    }

    void proxyChallengeUsesProxyAuthorization() {
        base::SeededRandom random(4);
        DigestClient client(random);
        client.setCredentials("alice", "secret");
        QVERIFY(client.handleChallenge(
            challenge(407, {"Digest realm=\"proxy\", nonce=\"p1\", qop=\"auth\""})));
        Message request = registerRequest();
        client.authorize(request);
        QVERIFY(!request.has(HeaderId::Authorization));
        QCOMPARE(param(request.header(HeaderId::ProxyAuthorization), "realm"), QByteArray("proxy"));

        // Then the registrar behind it asks too: both credentials go in the next request.
        QVERIFY(client.handleChallenge(
            challenge(401, {"Digest realm=\"registrar\", nonce=\"r1\", qop=\"auth\""})));
        Message next = registerRequest();
        client.authorize(next);
        QCOMPARE(param(next.header(HeaderId::ProxyAuthorization), "nc"), QByteArray("00000002"));
        QCOMPARE(param(next.header(HeaderId::Authorization), "realm"), QByteArray("registrar"));
        QCOMPARE(param(next.header(HeaderId::Authorization), "nc"), QByteArray("00000001"));
    }

    void prefersTheStrongestAlgorithm() {
        base::SeededRandom random(5);
        DigestClient client(random);
        client.setCredentials("Mufasa", "Circle of Life");
        QVERIFY(client.handleChallenge(challenge(
            401, {"Digest realm=\"r\", nonce=\"md5\", algorithm=MD5, qop=\"auth\"",
                  "Digest realm=\"r\", nonce=\"sha\", algorithm=SHA-256, qop=\"auth\""})));
        Message request = registerRequest();
        client.authorize(request);
        QCOMPARE(request.count(HeaderId::Authorization), 1);
        const QByteArray value = request.header(HeaderId::Authorization).toByteArray();
        QCOMPARE(param(value, "algorithm"), QByteArray("SHA-256"));
        QCOMPARE(param(value, "nonce"), QByteArray("sha"));
        const AuthParams c = credentials(value);
        const QByteArray ha1 = hex(QCryptographicHash::Sha256, "Mufasa:r:Circle of Life");
        const QByteArray ha2 = hex(QCryptographicHash::Sha256, "REGISTER:sip:example.com");
        QCOMPARE(*c.value("response"),
                 hex(QCryptographicHash::Sha256,
                     ha1 + ":sha:00000001:" + *c.value("cnonce") + ":auth:" + ha2));
    }

    void preemptiveReuseCountsNonces() {
        base::SeededRandom random(6);
        DigestClient client(random);
        client.setCredentials("alice", "secret");
        QVERIFY(client.handleChallenge(
            challenge(401, {"Digest realm=\"r\", nonce=\"n1\", qop=\"auth\""})));
        Message request = registerRequest();
        client.authorize(request);
        const QByteArray cnonce = param(request.header(HeaderId::Authorization), "cnonce");
        client.markAccepted();

        Message refresh = registerRequest();
        client.authorize(refresh);
        const QByteArray value = refresh.header(HeaderId::Authorization).toByteArray();
        QCOMPARE(param(value, "nonce"), QByteArray("n1"));
        QCOMPARE(param(value, "nc"), QByteArray("00000002"));
        QCOMPARE(param(value, "cnonce"), cnonce);
        QCOMPARE(param(value, "response"),
                 expectedMd5Response(credentials(value), "secret", "REGISTER"));

        // The server has forgotten that nonce and challenges without stale: a preemptive
        // answer was not an answer to this challenge, so it is answered once.
        QVERIFY(client.handleChallenge(
            challenge(401, {"Digest realm=\"r\", nonce=\"n2\", qop=\"auth\""})));
        client.authorize(refresh);
        QCOMPARE(param(refresh.header(HeaderId::Authorization), "nonce"), QByteArray("n2"));
        QCOMPARE(param(refresh.header(HeaderId::Authorization), "nc"), QByteArray("00000001"));
        QVERIFY(!client.handleChallenge(
            challenge(401, {"Digest realm=\"r\", nonce=\"n3\", qop=\"auth\""})));
    }

    void realmCredentialsAndMissingOnes() {
        base::SeededRandom random(8);
        DigestClient client(random);
        client.setRealmCredentials("r1", "bob", "pw1");
        auto unknown =
            client.handleChallenge(challenge(401, {"Digest realm=\"other\", nonce=\"n\""}));
        QVERIFY(!unknown);
        QVERIFY(unknown.error().reason.contains("no credentials"));
        QVERIFY(client.handleChallenge(challenge(401, {"Digest realm=\"r1\", nonce=\"n\""})));
        Message request = registerRequest();
        client.authorize(request);
        QCOMPARE(param(request.header(HeaderId::Authorization), "username"), QByteArray("bob"));
    }

    void resetForgetsChallenges() {
        base::SeededRandom random(9);
        DigestClient client(random);
        client.setCredentials("alice", "secret");
        QVERIFY(client.handleChallenge(challenge(401, {"Digest realm=\"r\", nonce=\"n\""})));
        QVERIFY(client.hasChallenge());
        client.reset();
        QVERIFY(!client.hasChallenge());
        Message request = registerRequest();
        client.authorize(request);
        QVERIFY(!request.has(HeaderId::Authorization));
    }
};

QTEST_GUILESS_MAIN(TestDigest)
#include "tst_digest.moc"
