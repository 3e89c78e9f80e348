#include "server/digest_authenticator.h"

#include <QCryptographicHash>
#include <QMessageAuthenticationCode>
#include <QtEndian>

#include <algorithm>
#include <optional>

#include "base/log.h"
#include "sip/params.h"
#include "sip/uri.h"

namespace sb::server {

namespace {

constexpr int kSecretLength = 32;
constexpr int kStampLength = 8;   // milliseconds on the server's monotonic clock, big-endian
constexpr int kRandomLength = 8;  // makes two nonces of one millisecond differ
constexpr int kMacLength = 16;    // HMAC-SHA256 truncated to 128 bits (RFC 2104 §5)
constexpr int kNonceBytes = kStampLength + kRandomLength + kMacLength;
constexpr int kToTagLength = 16;

constexpr auto kBase64Url = QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals;

// Comparison whose time does not depend on where the inputs differ, so an attacker
// cannot learn a MAC or a response byte by byte from response times.
bool equalConstantTime(QByteArrayView a, QByteArrayView b) {
    if (a.size() != b.size()) return false;
    unsigned char diff = 0;
    for (qsizetype i = 0; i < a.size(); ++i)
        diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0;
}

bool isHexDigits(QByteArrayView text) {
    return std::all_of(text.begin(), text.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    });
}

QByteArray colonJoined(std::initializer_list<QByteArrayView> parts) {
    QByteArray out;
    bool first = true;
    for (QByteArrayView part : parts) {
        if (!first) out.append(':');
        out.append(part);
        first = false;
    }
    return out;
}

// The Digest credentials of one Authorization / Proxy-Authorization value.
struct Credentials {
    QByteArray username;
    QByteArray nonce;
    QByteArray uri;
    QByteArray response;
    QByteArray cnonce;
    QByteArray qop;
    QByteArray nc;
    std::optional<QByteArray> algorithm;
    bool userhash = false;
};

// The first Digest credentials for `realm` in the request's header fields of `id`.
// Values for other realms (meant for other proxies or servers) are passed over.
std::optional<sip::AuthParams> credentialsFor(const sip::Message& request, sip::HeaderId id,
                                              QByteArrayView realm) {
    for (const sip::HeaderField& field : request.headers()) {
        if (field.id != id) continue;
        auto parsed = sip::parseAuthParams(field.value);
        if (!parsed) continue;
        for (sip::AuthParams& params : *parsed) {
            if (!params.isScheme("Digest")) continue;
            if (params.value("realm") == realm.toByteArray()) return std::move(params);
        }
    }
    return std::nullopt;
}

// The user name a request without credentials most likely authenticates as: the AoR
// being registered (To) for a registrar, the caller (From) for a proxy. Only used to
// offer the algorithms that user has hashes for.
QString likelyUser(const sip::Message& request, AuthHeader kind) {
    auto address = kind == AuthHeader::Www ? request.to() : request.from();
    if (!address || address->uri.user.isEmpty()) return {};
    return QString::fromUtf8(sip::percentDecode(address->uri.user));
}

}  // namespace

DigestAuthenticator::DigestAuthenticator(const UserStore& users, base::TimerQueue& timers,
                                         base::Random& random)
    : DigestAuthenticator(users, timers, random, Options{}) {}

DigestAuthenticator::DigestAuthenticator(const UserStore& users, base::TimerQueue& timers,
                                         base::Random& random, Options options)
    : m_users(users),
      m_timers(timers),
      m_random(random),
      m_options(std::move(options)),
      m_throttle(timers, m_options.throttle) {
    if (m_options.algorithms.empty())
        m_options.algorithms = {sip::DigestAlgorithm::Sha256, sip::DigestAlgorithm::Md5};
    m_options.maxTrackedNonces = std::max<qsizetype>(1, m_options.maxTrackedNonces);
    if (m_options.secret.isEmpty()) {
        m_options.secret.reserve(kSecretLength);
        while (m_options.secret.size() < kSecretLength) {
            const quint64 word = m_random.next();
            m_options.secret.append(reinterpret_cast<const char*>(&word), sizeof word);
        }
    }
}

QByteArray DigestAuthenticator::realm() const {
    return m_options.realm.isEmpty() ? m_users.realm().toUtf8() : m_options.realm;
}

QByteArray DigestAuthenticator::mac(QByteArrayView stampAndRandom) const {
    QMessageAuthenticationCode code(QCryptographicHash::Sha256, m_options.secret);
    code.addData(stampAndRandom.data(), stampAndRandom.size());
    code.addData(realm());
    return code.result().left(kMacLength);
}

QByteArray DigestAuthenticator::makeNonce() {
    const auto stamp = quint64(m_timers.now().time_since_epoch().count());
    QByteArray raw(kStampLength + kRandomLength, '\0');
    qToBigEndian(stamp, raw.data());
    qToBigEndian(m_random.next(), raw.data() + kStampLength);
    raw += mac(raw);
    return raw.toBase64(kBase64Url);
}

DigestAuthenticator::NonceCheck DigestAuthenticator::checkNonce(QByteArrayView nonce,
                                                                base::TimePoint* issuedAt) const {
    auto decoded = QByteArray::fromBase64Encoding(
        nonce.toByteArray(), kBase64Url | QByteArray::AbortOnBase64DecodingErrors);
    if (!decoded || decoded.decoded.size() != kNonceBytes) return NonceCheck::Forged;
    const QByteArray& raw = decoded.decoded;
    const QByteArrayView signedPart = QByteArrayView(raw).first(kStampLength + kRandomLength);
    if (!equalConstantTime(mac(signedPart), QByteArrayView(raw).sliced(signedPart.size())))
        return NonceCheck::Forged;
    const auto stamp = qFromBigEndian<quint64>(raw.constData());
    const base::TimePoint issued{base::Duration(qint64(stamp))};
    *issuedAt = issued;
    const base::TimePoint now = m_timers.now();
    // Only this server signs nonces, on a monotonic clock: one from the future is not ours.
    if (issued > now) return NonceCheck::Forged;
    if (now - issued > m_options.nonceLifetime) return NonceCheck::Expired;
    return NonceCheck::Valid;
}

void DigestAuthenticator::forgetExpiredNonces(base::TimePoint now) {
    while (!m_nonceByIssue.empty() &&
           now - m_nonceByIssue.begin()->first > m_options.nonceLifetime) {
        m_nonceUse.remove(m_nonceByIssue.begin()->second);
        m_nonceByIssue.erase(m_nonceByIssue.begin());
    }
}

bool DigestAuthenticator::acceptNonceCount(const QByteArray& nonce, base::TimePoint issuedAt,
                                           quint32 count) {
    forgetExpiredNonces(m_timers.now());
    auto it = m_nonceUse.find(nonce);
    if (it != m_nonceUse.end()) {
        // RFC 7616 §3.4: nc counts the requests sent with this nonce; a count that does
        // not grow is a request seen before.
        if (count <= it->lastCount) return false;
        it->lastCount = count;
        return true;
    }
    if (m_untrackedBefore && issuedAt <= *m_untrackedBefore) return false;
    if (m_nonceUse.size() >= m_options.maxTrackedNonces) {
        auto oldest = m_nonceByIssue.begin();
        m_untrackedBefore = std::max(m_untrackedBefore.value_or(oldest->first), oldest->first);
        m_nonceUse.remove(oldest->second);
        m_nonceByIssue.erase(oldest);
    }
    m_nonceUse.insert(nonce, NonceUse{count, issuedAt});
    m_nonceByIssue.emplace(issuedAt, nonce);
    return true;
}

QByteArray DigestAuthenticator::toTagFor(const sip::Message& request) const {
    // The same request (a retransmission that got past the transaction layer) gets the
    // same To tag: a hash of what identifies it.
    QByteArray fromTag;
    if (auto from = request.from()) fromTag = from->tag().toByteArray();
    QCryptographicHash hash(QCryptographicHash::Sha256);
    hash.addData(request.callId());
    hash.addData("\n");
    hash.addData(fromTag);
    return hash.result().toHex().left(kToTagLength);
}

sip::Message DigestAuthenticator::challengeResponse(const sip::Message& request, AuthHeader kind,
                                                    bool stale) {
    return challengeFor(request, kind, stale, likelyUser(request, kind));
}

sip::Message DigestAuthenticator::challengeFor(const sip::Message& request, AuthHeader kind,
                                               bool stale, const QString& user) {
    const bool proxy = kind == AuthHeader::Proxy;
    sip::Message response = sip::makeResponse(request, proxy ? 407 : 401, {}, toTagFor(request));
    const QByteArray nonce = makeNonce();
    const QByteArray quotedRealm = sip::quote(realm());
    // Offer only what the user can answer: someone provisioned with an MD5 HA1 alone
    // could never answer the SHA-256 challenge their phone prefers.
    std::vector<sip::DigestAlgorithm> offered;
    for (sip::DigestAlgorithm algorithm : m_options.algorithms) {
        if (!m_users.hasUser(user) || m_users.ha1(user, algorithm)) offered.push_back(algorithm);
    }
    if (offered.empty()) offered = m_options.algorithms;
    for (sip::DigestAlgorithm algorithm : offered) {
        QByteArray value = "Digest realm=" + quotedRealm + ", nonce=\"" + nonce +
                           "\", algorithm=" + sip::digestAlgorithmName(algorithm).toByteArray() +
                           (m_options.offerAuthInt ? ", qop=\"auth,auth-int\"" : ", qop=\"auth\"");
        if (stale) value += ", stale=true";
        response.addHeader(
            proxy ? sip::HeaderId::ProxyAuthenticate : sip::HeaderId::WwwAuthenticate,
            std::move(value));
    }
    return response;
}

AuthOutcome DigestAuthenticator::challenge(const sip::Message& request, AuthHeader kind,
                                           QByteArray reason, bool stale, const QString& user) {
    AuthOutcome outcome;
    outcome.kind = AuthOutcome::Kind::Challenge;
    outcome.response =
        challengeFor(request, kind, stale, user.isEmpty() ? likelyUser(request, kind) : user);
    outcome.reason = std::move(reason);
    return outcome;
}

AuthOutcome DigestAuthenticator::refuse(const sip::Message& request, int status, QByteArray phrase,
                                        QByteArray reason) {
    AuthOutcome outcome;
    outcome.kind = AuthOutcome::Kind::Refused;
    outcome.response = sip::makeResponse(request, status, std::move(phrase), toTagFor(request));
    outcome.reason = std::move(reason);
    return outcome;
}

AuthOutcome DigestAuthenticator::failure(const sip::Message& request,
                                         const transport::Endpoint& source, AuthHeader kind,
                                         QByteArray reason, const QString& user) {
    if (m_throttle.recordFailure(source.address)) {
        AuthOutcome outcome =
            refuse(request, 403, "Too many authentication failures", reason + "; source blocked");
        const auto wait = std::chrono::ceil<std::chrono::seconds>(
            m_throttle.blockedFor(source.address).value_or(base::Duration(0)));
        outcome.response.addHeader(sip::HeaderId::RetryAfter, QByteArray::number(wait.count()));
        return outcome;
    }
    return challenge(request, kind, std::move(reason), false, user);
}

bool DigestAuthenticator::sameResource(QByteArrayView digestUri, QByteArrayView requestUri) const {
    digestUri = digestUri.trimmed();
    requestUri = requestUri.trimmed();
    if (digestUri == requestUri) return true;
    // Phones write the resource differently: the server's address where the Request-URI
    // has its domain, a port or ;transport added, or only the server (sipp writes
    // sip:<server address> for every request). RFC 2617 §3.2.2.5 makes the check a SHOULD;
    // a digest-uri that names this server for a request to this server is accepted. The
    // nonce count still refuses a replayed answer.
    const Result<sip::Uri> a = sip::Uri::parse(digestUri);
    const Result<sip::Uri> b = sip::Uri::parse(requestUri);
    if (!a || !b || !a->isSip() || !b->isSip()) return false;
    if (sip::uriEquivalent(*a, *b)) return true;
    return a->scheme == b->scheme && m_options.isLocal && m_options.isLocal(*a) &&
           m_options.isLocal(*b);
}

AuthOutcome DigestAuthenticator::authenticate(const sip::Message& request,
                                              const transport::Endpoint& source, AuthHeader kind) {
    AuthOutcome outcome = [&] {
        if (auto blocked = m_throttle.blockedFor(source.address)) {
            AuthOutcome refused = refuse(request, 403, "Too many authentication failures",
                                         "source blocked after repeated failures");
            const auto wait = std::chrono::ceil<std::chrono::seconds>(*blocked);
            refused.response.addHeader(sip::HeaderId::RetryAfter, QByteArray::number(wait.count()));
            return refused;
        }

        const QByteArray ourRealm = realm();
        const auto params =
            credentialsFor(request,
                           kind == AuthHeader::Proxy ? sip::HeaderId::ProxyAuthorization
                                                     : sip::HeaderId::Authorization,
                           ourRealm);
        if (!params) return challenge(request, kind, "no credentials for this realm");

        // RFC 7616 §3.4: these are required in an answer to a challenge with qop.
        Credentials credentials;
        for (auto [name, target] :
             {std::pair{"username", &credentials.username}, std::pair{"nonce", &credentials.nonce},
              std::pair{"uri", &credentials.uri}, std::pair{"response", &credentials.response},
              std::pair{"qop", &credentials.qop}, std::pair{"nc", &credentials.nc},
              std::pair{"cnonce", &credentials.cnonce}}) {
            auto value = params->value(name);
            if (!value || value->isEmpty())
                return refuse(request, 400, "Digest credentials without " + QByteArray(name),
                              "incomplete credentials: no " + QByteArray(name));
            *target = *value;
        }
        credentials.algorithm = params->value("algorithm");
        if (auto userhash = params->value("userhash"))
            credentials.userhash = userhash->compare("true", Qt::CaseInsensitive) == 0;

        const bool authInt = credentials.qop.compare("auth-int", Qt::CaseInsensitive) == 0;
        if (!authInt && credentials.qop.compare("auth", Qt::CaseInsensitive) != 0)
            return refuse(request, 400, "Digest qop must be auth or auth-int",
                          "unsupported qop in credentials");
        if (credentials.nc.size() > 8 || !isHexDigits(credentials.nc))
            return refuse(request, 400, "Digest nc must be at most 8 hex digits", "malformed nc");
        const quint32 nonceCount = credentials.nc.toUInt(nullptr, 16);
        if (nonceCount == 0) return refuse(request, 400, "Digest nc must start at 1", "nc of zero");

        // Only what was offered: an algorithm the client made up (or a -sess variant we
        // did not offer) would let it choose the weakest computation.
        const auto algorithm =
            sip::digestAlgorithmFromName(credentials.algorithm.value_or(QByteArray("MD5")));
        if (!algorithm || std::find(m_options.algorithms.begin(), m_options.algorithms.end(),
                                    *algorithm) == m_options.algorithms.end())
            return challenge(request, kind, "algorithm not offered");
        // RFC 7616 §3.4.4: userhash only when the server offered it, which it does not.
        if (credentials.userhash) return challenge(request, kind, "userhash not offered");

        // RFC 7616 §3.4.6: the digest-uri must name the resource of the request, or the
        // answer could be one captured for another request.
        if (!sameResource(credentials.uri, request.requestUri()))
            return refuse(request, 400, "Digest uri does not match the Request-URI",
                          "digest uri differs from the Request-URI");

        base::TimePoint issuedAt{};
        const NonceCheck nonce = checkNonce(credentials.nonce, &issuedAt);
        // Not ours (or from before a restart, which changed the secret): a new challenge,
        // not a failure — every phone would otherwise count one after each restart.
        if (nonce == NonceCheck::Forged) return challenge(request, kind, "nonce not issued here");

        const QString user = QString::fromUtf8(credentials.username);
        if (!m_users.hasUser(user)) return failure(request, source, kind, "unknown user", user);
        const std::optional<QByteArray> baseHa1 = m_users.ha1(user, *algorithm);
        if (!baseHa1)
            return challenge(request, kind, "user has no HA1 for the algorithm answered", false,
                             user);

        // RFC 7616 §3.4.1-§3.4.3, computed from the stored HA1 instead of a password.
        QByteArray ha1 = *baseHa1;
        if (sip::isSessionAlgorithm(*algorithm))
            ha1 = sip::digestHash(*algorithm,
                                  colonJoined({ha1, credentials.nonce, credentials.cnonce}));
        sip::DigestInput a2;
        a2.algorithm = *algorithm;
        a2.qop = authInt ? sip::DigestQop::AuthInt : sip::DigestQop::Auth;
        a2.method = request.methodName().toByteArray();
        a2.uri = credentials.uri;
        a2.body = request.body().toByteArray();
        const QByteArray expected = sip::digestHash(
            *algorithm, colonJoined({ha1, credentials.nonce, credentials.nc, credentials.cnonce,
                                     credentials.qop, sip::digestHa2(a2)}));
        if (!equalConstantTime(expected, credentials.response.toLower()))
            return failure(request, source, kind, "wrong response (password)", user);

        // The answer is right: now whether the nonce may still be used.
        if (nonce == NonceCheck::Expired)
            return challenge(request, kind, "nonce expired", /*stale=*/true, user);
        if (!acceptNonceCount(credentials.nonce, issuedAt, nonceCount))
            // The digest is valid but the nonce is not for this request (RFC 7616 §3.3:
            // stale=true): a legitimate client retries at once; a replayer cannot.
            return challenge(request, kind, "nonce count replayed", /*stale=*/true, user);

        m_throttle.recordSuccess(source.address);
        AuthOutcome accepted;
        accepted.kind = AuthOutcome::Kind::Authenticated;
        accepted.user = user;
        accepted.reason = "authenticated";
        return accepted;
    }();
    if (outcome.kind != AuthOutcome::Kind::Authenticated)
        qCDebug(lcServer).noquote() << "digest: request" << request.methodName() << "from"
                                    << source.toString() << "not authenticated:" << outcome.reason;
    return outcome;
}

void DigestAuthenticator::removeOwnCredentials(sip::Message& request, AuthHeader kind) const {
    const sip::HeaderId id = kind == AuthHeader::Proxy ? sip::HeaderId::ProxyAuthorization
                                                       : sip::HeaderId::Authorization;
    const QByteArray ourRealm = realm();
    std::vector<QByteArray> others;
    bool ours = false;
    for (const sip::HeaderField& field : request.headers()) {
        if (field.id != id) continue;
        auto parsed = sip::parseAuthParams(field.value);
        const bool mine = parsed && std::any_of(parsed->begin(), parsed->end(), [&](const auto& p) {
                              return p.isScheme("Digest") && p.value("realm") == ourRealm;
                          });
        if (mine)
            ours = true;
        else
            others.push_back(field.value.toByteArray());
    }
    if (!ours) return;
    request.removeHeaders(id);
    for (QByteArray& value : others)
        request.addHeader(id, std::move(value));
}

}  // namespace sb::server
