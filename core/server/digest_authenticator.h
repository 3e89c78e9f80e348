#pragma once

#include <QByteArray>
#include <QHash>
#include <QString>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "base/random.h"
#include "base/timer_queue.h"
#include "server/auth_throttle.h"
#include "server/user_store.h"
#include "sip/digest.h"
#include "sip/message.h"
#include "sip/uri.h"
#include "transport/transport.h"

namespace sb::server {

// Which header set a request is authenticated with (RFC 3261 §22.1): a registrar (and
// any user agent server) answers 401 with WWW-Authenticate and reads Authorization; a
// proxy answers 407 with Proxy-Authenticate and reads Proxy-Authorization.
enum class AuthHeader { Www, Proxy };

struct AuthOutcome {
    enum class Kind {
        Authenticated,  // `user` proved who it is; `response` is empty
        Challenge,      // send `response` (401/407 with fresh challenges)
        Refused,        // send `response` (403 when throttled, 400 for broken credentials)
    };
    Kind kind = Kind::Challenge;
    QString user;  // the authenticated user key (Authenticated only)
    sip::Message response;
    QByteArray reason;  // why, for logs; never holds credentials
};

// The digest server of RFC 7616 and RFC 3261 §22 for the built-in server's realm.
//
// Nonces are stateless and verifiable: base64url(timestamp | random | HMAC-SHA256(secret,
// timestamp | random | realm) truncated to 128 bits), so any nonce this server issued
// (and no other) checks out without a table of issued nonces, and its age is known. An
// authentic nonce older than the lifetime with a correct answer gets stale=true (RFC 7616
// §3.3) so the phone retries without asking its user. What is remembered per nonce, once
// it has been answered correctly, is the highest nonce-count seen: an answer that does
// not raise it is a replay (RFC 7616 §3.4: the server should check nc) — the
// transaction layer absorbs retransmissions before this class sees them.
//
// Failed answers (wrong password, unknown user) count against the source in an
// AuthThrottle; a blocked source gets 403 with Retry-After, whatever it sends.
class DigestAuthenticator {
public:
    struct Options {
        QByteArray realm;  // empty: the user store's realm
        base::Duration nonceLifetime = std::chrono::seconds(300);
        // Offered in this order, one challenge each: strongest first (RFC 7616 §3.7,
        // RFC 8760 §2.3), since a client answers the first one it supports.
        std::vector<sip::DigestAlgorithm> algorithms{sip::DigestAlgorithm::Sha256,
                                                     sip::DigestAlgorithm::Md5};
        // Also offer qop=auth-int. An answer with auth-int is accepted either way: it
        // protects the body too, and is checked against it.
        bool offerAuthInt = false;
        QByteArray secret;  // empty: 32 random bytes (nonces do not survive a restart)
        qsizetype maxTrackedNonces = 100000;
        AuthThrottle::Options throttle;
        // Whether a URI names this server (LocalDomains::isLocal): a digest-uri that
        // differs from the Request-URI only in how it names us is accepted.
        std::function<bool(const sip::Uri&)> isLocal;
    };

    DigestAuthenticator(const UserStore& users, base::TimerQueue& timers, base::Random& random);
    DigestAuthenticator(const UserStore& users, base::TimerQueue& timers, base::Random& random,
                        Options options);

    AuthOutcome authenticate(const sip::Message& request, const transport::Endpoint& source,
                             AuthHeader kind);

    // A 401/407 for `request` with fresh challenges (stale=true when `stale`), and a To
    // tag derived from Call-ID and From tag when the request had none.
    sip::Message challengeResponse(const sip::Message& request, AuthHeader kind,
                                   bool stale = false);

    // RFC 3261 §22.3: the credentials for this realm were consumed here; those for other
    // realms stay in the request for the proxies further on.
    void removeOwnCredentials(sip::Message& request, AuthHeader kind) const;

    QByteArray realm() const;
    // A nonce issued now (what the challenges carry).
    QByteArray makeNonce();

    AuthThrottle& throttle() { return m_throttle; }
    const AuthThrottle& throttle() const { return m_throttle; }
    qsizetype trackedNonces() const { return m_nonceUse.size(); }

private:
    enum class NonceCheck { Valid, Expired, Forged };
    struct NonceUse {
        quint32 lastCount = 0;
        base::TimePoint issuedAt{};
    };

    bool sameResource(QByteArrayView digestUri, QByteArrayView requestUri) const;
    NonceCheck checkNonce(QByteArrayView nonce, base::TimePoint* issuedAt) const;
    QByteArray mac(QByteArrayView stampAndRandom) const;
    // Records `count` for `nonce`; false when it does not exceed the last count seen.
    bool acceptNonceCount(const QByteArray& nonce, base::TimePoint issuedAt, quint32 count);
    void forgetExpiredNonces(base::TimePoint now);
    // `user`: whose hashes decide the algorithms offered; empty: guessed from To/From.
    sip::Message challengeFor(const sip::Message& request, AuthHeader kind, bool stale,
                              const QString& user);
    AuthOutcome challenge(const sip::Message& request, AuthHeader kind, QByteArray reason,
                          bool stale = false, const QString& user = {});
    AuthOutcome refuse(const sip::Message& request, int status, QByteArray phrase,
                       QByteArray reason);
    // A failed answer from `source`: counted; a challenge, or 403 when it starts a block.
    AuthOutcome failure(const sip::Message& request, const transport::Endpoint& source,
                        AuthHeader kind, QByteArray reason, const QString& user);
    QByteArray toTagFor(const sip::Message& request) const;

    const UserStore& m_users;
    base::TimerQueue& m_timers;
    base::Random& m_random;
    Options m_options;
    AuthThrottle m_throttle;
    QHash<QByteArray, NonceUse> m_nonceUse;
    std::multimap<base::TimePoint, QByteArray> m_nonceByIssue;  // oldest first
    // Nonces issued at or before this time that are not tracked were dropped at the cap:
    // their last count is unknown, so they are treated as stale instead of trusted.
    std::optional<base::TimePoint> m_untrackedBefore;
};

}  // namespace sb::server
