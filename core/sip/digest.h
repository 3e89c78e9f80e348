#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QHash>

#include <optional>
#include <utility>
#include <vector>

#include "base/random.h"
#include "base/result.h"
#include "sip/message.h"

namespace sb::sip {

// One challenge or credentials value of an HTTP-style auth header field (RFC 7235 §2.1,
// RFC 3261 §25.1 challenge/credentials): a scheme and its auth-params. Parameter names
// are lower-cased, values unquoted and unescaped. `token68` holds a bare token after the
// scheme (other schemes than Digest use it).
struct AuthParams {
    QByteArray scheme;
    QByteArray token68;
    std::vector<std::pair<QByteArray, QByteArray>> params;

    bool isScheme(QByteArrayView name) const;
    std::optional<QByteArray> value(QByteArrayView name) const;
};

// Splits one WWW-Authenticate / Proxy-Authenticate / Authorization field value into its
// challenges: several may share a field ("Basic realm=x, Digest realm=y, nonce=z"),
// quoted strings may contain commas and escaped quotes. Syntax errors carry the offset.
Result<std::vector<AuthParams>> parseAuthParams(QByteArrayView fieldValue);

enum class DigestAlgorithm : quint8 { Md5, Md5Sess, Sha256, Sha256Sess };

std::optional<DigestAlgorithm> digestAlgorithmFromName(QByteArrayView name);  // case-insensitive
QByteArrayView digestAlgorithmName(DigestAlgorithm algorithm);  // "MD5", "SHA-256-sess"
bool isSessionAlgorithm(DigestAlgorithm algorithm);
// Larger is stronger: SHA-256 variants rank above MD5 variants.
int digestAlgorithmStrength(DigestAlgorithm algorithm);

enum class DigestQop : quint8 { None, Auth, AuthInt };

// A Digest challenge (RFC 7616 §3.3, RFC 3261 §22.4).
struct DigestChallenge {
    bool proxy = false;  // from Proxy-Authenticate (407), answered with Proxy-Authorization
    QByteArray realm;
    QByteArray nonce;
    std::optional<QByteArray> opaque;  // echoed verbatim when present, even empty
    std::vector<QByteArray> domain;
    DigestAlgorithm algorithm = DigestAlgorithm::Md5;
    bool algorithmGiven = false;  // echoed in the answer only when the challenge named it
    bool stale = false;
    bool qopAuth = false;
    bool qopAuthInt = false;
    bool userhash = false;

    // The qop the answer uses: auth when offered, else auth-int, else none (RFC 2069).
    DigestQop chosenQop() const;

    // Fails for another scheme, a missing realm or nonce, or an unknown algorithm.
    static Result<DigestChallenge> fromParams(const AuthParams& params, bool proxy);
};

// Every usable Digest challenge in the WWW-Authenticate (and, for proxies,
// Proxy-Authenticate) fields of a 401/407, in header order. Unparsable fields and
// challenges we cannot answer are skipped; the error names the first problem when none
// is usable.
Result<std::vector<DigestChallenge>> digestChallenges(const Message& response);

// Lower-case hex hash of `data` with the algorithm's hash function.
QByteArray digestHash(DigestAlgorithm algorithm, QByteArrayView data);

// Everything the response computation needs (RFC 7616 §3.4.1-3.4.3, RFC 2617 §3.2.2).
struct DigestInput {
    DigestAlgorithm algorithm = DigestAlgorithm::Md5;
    QByteArray username;
    QByteArray realm;
    QByteArray password;
    QByteArray nonce;
    QByteArray cnonce;
    quint32 nonceCount = 1;
    DigestQop qop = DigestQop::Auth;
    QByteArray method;
    QByteArray uri;
    QByteArray body;  // auth-int only
};

QByteArray digestHa1(const DigestInput& input);
QByteArray digestHa2(const DigestInput& input);
QByteArray digestResponse(const DigestInput& input);
// nc as 8 lower-case hex digits (RFC 7616 §3.4).
QByteArray formatNonceCount(quint32 count);

// The Authorization / Proxy-Authorization value answering `challenge` for `input`:
// Digest username, realm, nonce, uri, response, algorithm, cnonce, opaque, qop, nc.
QByteArray buildDigestCredentials(const DigestChallenge& challenge, const DigestInput& input);

// The client side of digest authentication for one account: caches the latest challenge
// per realm (and per header kind) to answer it, to re-use it preemptively on later
// requests with an increasing nonce count, and to refuse loops.
//
// Rule (RFC 3261 §22.2/§22.3, RFC 7616 §3.3): a challenge is answered once. If the
// request that answered it is challenged again for the same realm, the credentials were
// refused — unless the new challenge says stale=true with a new nonce, which is retried
// (a few times at most). Credentials sent preemptively with a cached nonce that the
// server no longer likes are answered once more, as a fresh challenge.
class DigestClient {
public:
    explicit DigestClient(base::Random& random);

    // Credentials for every realm, and optionally for a named realm (wins over the default).
    void setCredentials(QByteArray username, QByteArray password);
    void setRealmCredentials(QByteArray realm, QByteArray username, QByteArray password);

    // A 401 or 407: stores the challenges it can answer (the strongest algorithm per
    // realm). Returns an Auth error when the request must not be retried: no usable
    // challenge, no credentials for the realm, or the credentials were refused.
    Result<void> handleChallenge(const Message& response);

    // Puts an Authorization / Proxy-Authorization header for every cached realm into
    // `request` (replacing any present), with the next nc of each nonce. Uses the
    // request's method, Request-URI and body.
    void authorize(Message& request);

    // The request answered with cached credentials got a response other than 401/407:
    // the credentials hold; later refusals are answered as fresh challenges again.
    void markAccepted();

    // Forgets every cached challenge (credentials stay).
    void reset();

    bool hasChallenge() const { return !m_entries.empty(); }

private:
    enum class EntryState { Fresh, Answered, Accepted };
    struct Entry {
        DigestChallenge challenge;
        QByteArray cnonce;
        quint32 nonceCount = 0;
        int staleRetries = 0;
        EntryState state = EntryState::Fresh;
    };
    struct Account {
        QByteArray username;
        QByteArray password;
    };

    const Account* accountFor(const QByteArray& realm) const;
    Entry* find(bool proxy, const QByteArray& realm);

    base::Random& m_random;
    Account m_default;
    bool m_hasDefault = false;
    QHash<QByteArray, Account> m_byRealm;
    std::vector<Entry> m_entries;  // a handful at most: one per realm and header kind
};

}  // namespace sb::sip
