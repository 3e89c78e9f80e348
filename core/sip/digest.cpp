#include "sip/digest.h"

#include <QCryptographicHash>

#include <algorithm>

#include "sip/params.h"

namespace sb::sip {

namespace {

// RFC 7616 §3.3 does not bound stale retries; a server that keeps saying stale with a new
// nonce every time would otherwise loop us forever.
constexpr int kMaxStaleRetries = 3;
constexpr int kCnonceLength = 24;

bool isWhitespace(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// RFC 7230 §3.2.6 tchar (the same set as RFC 3261's token, minus nothing we need).
bool isTokenChar(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    switch (c) {
        case '!':
        case '#':
        case '$':
        case '%':
        case '&':
        case '\'':
        case '*':
        case '+':
        case '-':
        case '.':
        case '^':
        case '_':
        case '`':
        case '|':
        case '~':
            return true;
        default:
            return false;
    }
}

// RFC 7235 §2.1 token68.
bool isToken68Char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

class AuthParser {
public:
    explicit AuthParser(QByteArrayView text) : m_text(text) {}

    Result<std::vector<AuthParams>> run() {
        std::vector<AuthParams> out;
        while (true) {
            skipSeparators();
            if (atEnd()) break;
            const qsizetype start = m_pos;
            const QByteArrayView name = readToken();
            if (name.isEmpty())
                return fail(ErrorKind::Parse,
                            QStringLiteral("expected an auth scheme or parameter"), m_pos);
            skipWhitespace();
            if (!atEnd() && m_text[m_pos] == '=') {
                if (out.empty())
                    return fail(ErrorKind::Parse, QStringLiteral("auth-param before any scheme"),
                                start);
                ++m_pos;
                skipWhitespace();
                auto value = readValue();
                if (!value) return fail(value.error());
                out.back().params.emplace_back(name.toByteArray().toLower(), std::move(*value));
                skipWhitespace();
                if (!atEnd() && m_text[m_pos] != ',')
                    return fail(ErrorKind::Parse,
                                QStringLiteral("expected ',' after an auth-param"), m_pos);
                continue;
            }
            // A token not followed by '=' starts a new challenge (RFC 7235 §4.1 allows
            // several in one field); it may carry a token68 instead of auth-params.
            AuthParams params;
            params.scheme = name.toByteArray();
            if (auto token68 = readToken68()) params.token68 = *token68;
            out.push_back(std::move(params));
        }
        return out;
    }

private:
    bool atEnd() const { return m_pos >= m_text.size(); }

    void skipWhitespace() {
        while (!atEnd() && isWhitespace(m_text[m_pos]))
            ++m_pos;
    }

    void skipSeparators() {
        while (!atEnd() && (isWhitespace(m_text[m_pos]) || m_text[m_pos] == ','))
            ++m_pos;
    }

    QByteArrayView readToken() {
        const qsizetype start = m_pos;
        while (!atEnd() && isTokenChar(m_text[m_pos]))
            ++m_pos;
        return m_text.sliced(start, m_pos - start);
    }

    // token68 right after the scheme: its characters, trailing '='s, then end or ','.
    // Leaves the position untouched when what follows is an auth-param instead.
    std::optional<QByteArray> readToken68() {
        qsizetype p = m_pos;
        while (p < m_text.size() && isWhitespace(m_text[p]))
            ++p;
        const qsizetype start = p;
        while (p < m_text.size() && isToken68Char(m_text[p]))
            ++p;
        if (p == start) return std::nullopt;
        while (p < m_text.size() && m_text[p] == '=')
            ++p;
        qsizetype end = p;
        while (p < m_text.size() && isWhitespace(m_text[p]))
            ++p;
        if (p < m_text.size() && m_text[p] != ',') return std::nullopt;
        // "realm=x" stopped above at the 'x': only padding '='s may end a token68.
        m_pos = p;
        return m_text.sliced(start, end - start).toByteArray();
    }

    Result<QByteArray> readValue() {
        if (atEnd())
            return fail(ErrorKind::Parse, QStringLiteral("missing auth-param value"), m_pos);
        if (m_text[m_pos] == '"') {
            const qsizetype open = m_pos++;
            QByteArray out;
            while (!atEnd()) {
                const char c = m_text[m_pos++];
                if (c == '"') return out;
                if (c == '\\') {
                    // RFC 3261 §25.1 quoted-pair.
                    if (atEnd()) break;
                    out.append(m_text[m_pos++]);
                } else {
                    out.append(c);
                }
            }
            return fail(ErrorKind::Parse, QStringLiteral("unterminated quoted string"), open);
        }
        // Lenient about unquoted values: servers write nonce=abc/def= without quotes.
        const qsizetype start = m_pos;
        while (!atEnd() && !isWhitespace(m_text[m_pos]) && m_text[m_pos] != ',' &&
               m_text[m_pos] != '"')
            ++m_pos;
        if (m_pos == start)
            return fail(ErrorKind::Parse, QStringLiteral("missing auth-param value"), start);
        return m_text.sliced(start, m_pos - start).toByteArray();
    }

    QByteArrayView m_text;
    qsizetype m_pos = 0;
};

QCryptographicHash::Algorithm hashOf(DigestAlgorithm algorithm) {
    switch (algorithm) {
        case DigestAlgorithm::Md5:
        case DigestAlgorithm::Md5Sess:
            return QCryptographicHash::Md5;
        case DigestAlgorithm::Sha256:
        case DigestAlgorithm::Sha256Sess:
            return QCryptographicHash::Sha256;
    }
    return QCryptographicHash::Md5;
}

QByteArray joinColon(std::initializer_list<QByteArrayView> parts) {
    QByteArray out;
    bool first = true;
    for (QByteArrayView part : parts) {
        if (!first) out.append(':');
        out.append(part);
        first = false;
    }
    return out;
}

QByteArrayView qopName(DigestQop qop) {
    switch (qop) {
        case DigestQop::Auth:
            return "auth";
        case DigestQop::AuthInt:
            return "auth-int";
        case DigestQop::None:
            break;
    }
    return {};
}

bool isTrue(QByteArrayView value) {
    return value.compare("true", Qt::CaseInsensitive) == 0;
}

}  // namespace

bool AuthParams::isScheme(QByteArrayView name) const {
    return QByteArrayView(scheme).compare(name, Qt::CaseInsensitive) == 0;
}

std::optional<QByteArray> AuthParams::value(QByteArrayView name) const {
    for (const auto& [key, value] : params) {
        if (QByteArrayView(key).compare(name, Qt::CaseInsensitive) == 0) return value;
    }
    return std::nullopt;
}

Result<std::vector<AuthParams>> parseAuthParams(QByteArrayView fieldValue) {
    return AuthParser(fieldValue).run();
}

std::optional<DigestAlgorithm> digestAlgorithmFromName(QByteArrayView name) {
    static constexpr std::pair<QByteArrayView, DigestAlgorithm> kNames[] = {
        {"MD5", DigestAlgorithm::Md5},
        {"MD5-sess", DigestAlgorithm::Md5Sess},
        {"SHA-256", DigestAlgorithm::Sha256},
        {"SHA-256-sess", DigestAlgorithm::Sha256Sess},
    };
    for (const auto& [text, algorithm] : kNames) {
        if (name.compare(text, Qt::CaseInsensitive) == 0) return algorithm;
    }
    return std::nullopt;
}

QByteArrayView digestAlgorithmName(DigestAlgorithm algorithm) {
    switch (algorithm) {
        case DigestAlgorithm::Md5:
            return "MD5";
        case DigestAlgorithm::Md5Sess:
            return "MD5-sess";
        case DigestAlgorithm::Sha256:
            return "SHA-256";
        case DigestAlgorithm::Sha256Sess:
            return "SHA-256-sess";
    }
    return "MD5";
}

bool isSessionAlgorithm(DigestAlgorithm algorithm) {
    return algorithm == DigestAlgorithm::Md5Sess || algorithm == DigestAlgorithm::Sha256Sess;
}

int digestAlgorithmStrength(DigestAlgorithm algorithm) {
    return hashOf(algorithm) == QCryptographicHash::Sha256 ? 2 : 1;
}

DigestQop DigestChallenge::chosenQop() const {
    // RFC 7616 §3.4: prefer auth; auth-int only when it is all that is offered.
    if (qopAuth) return DigestQop::Auth;
    if (qopAuthInt) return DigestQop::AuthInt;
    return DigestQop::None;
}

Result<DigestChallenge> DigestChallenge::fromParams(const AuthParams& params, bool proxy) {
    if (!params.isScheme("Digest"))
        return fail(
            ErrorKind::Auth,
            QStringLiteral("unsupported auth scheme %1").arg(QString::fromLatin1(params.scheme)));
    DigestChallenge challenge;
    challenge.proxy = proxy;
    auto realm = params.value("realm");
    if (!realm) return fail(ErrorKind::Auth, QStringLiteral("Digest challenge without realm"));
    challenge.realm = *realm;
    auto nonce = params.value("nonce");
    if (!nonce || nonce->isEmpty())
        return fail(ErrorKind::Auth, QStringLiteral("Digest challenge without nonce"));
    challenge.nonce = *nonce;
    challenge.opaque = params.value("opaque");
    if (auto algorithm = params.value("algorithm")) {
        auto known = digestAlgorithmFromName(*algorithm);
        if (!known)
            return fail(ErrorKind::Auth, QStringLiteral("unsupported digest algorithm %1")
                                             .arg(QString::fromLatin1(*algorithm)));
        challenge.algorithm = *known;
        challenge.algorithmGiven = true;
    }
    if (auto qop = params.value("qop")) {
        // RFC 7616 §3.3: qop-options is a quoted list, "auth,auth-int" or "auth, auth-int".
        for (const QByteArray& item : qop->split(',')) {
            const QByteArrayView option = QByteArrayView(item).trimmed();
            if (option.compare("auth", Qt::CaseInsensitive) == 0) challenge.qopAuth = true;
            if (option.compare("auth-int", Qt::CaseInsensitive) == 0) challenge.qopAuthInt = true;
        }
        if (!challenge.qopAuth && !challenge.qopAuthInt)
            return fail(ErrorKind::Auth,
                        QStringLiteral("no supported qop in %1").arg(QString::fromLatin1(*qop)));
    }
    if (auto stale = params.value("stale")) challenge.stale = isTrue(*stale);
    if (auto userhash = params.value("userhash")) challenge.userhash = isTrue(*userhash);
    if (auto domain = params.value("domain")) {
        for (const QByteArray& uri : domain->simplified().split(' ')) {
            if (!uri.isEmpty()) challenge.domain.push_back(uri);
        }
    }
    return challenge;
}

Result<std::vector<DigestChallenge>> digestChallenges(const Message& response) {
    std::vector<DigestChallenge> out;
    std::optional<Error> firstProblem;
    for (const HeaderField& field : response.headers()) {
        const bool proxy = field.id == HeaderId::ProxyAuthenticate;
        if (!proxy && field.id != HeaderId::WwwAuthenticate) continue;
        auto parsed = parseAuthParams(field.value);
        if (!parsed) {
            if (!firstProblem) firstProblem = parsed.error();
            continue;
        }
        for (const AuthParams& params : *parsed) {
            auto challenge = DigestChallenge::fromParams(params, proxy);
            if (challenge) {
                out.push_back(std::move(*challenge));
            } else if (!firstProblem) {
                firstProblem = challenge.error();
            }
        }
    }
    if (out.empty()) {
        if (firstProblem) return fail(ErrorKind::Auth, firstProblem->reason, firstProblem->offset);
        return fail(
            ErrorKind::Auth,
            QStringLiteral("no Digest challenge in the %1 response").arg(response.statusCode()));
    }
    return out;
}

QByteArray digestHash(DigestAlgorithm algorithm, QByteArrayView data) {
    return QCryptographicHash::hash(data, hashOf(algorithm)).toHex();
}

QByteArray digestHa1(const DigestInput& input) {
    QByteArray ha1 =
        digestHash(input.algorithm, joinColon({input.username, input.realm, input.password}));
    // RFC 7616 §3.4.2: the -sess variants bind A1 to this nonce and cnonce.
    if (isSessionAlgorithm(input.algorithm))
        ha1 = digestHash(input.algorithm, joinColon({ha1, input.nonce, input.cnonce}));
    return ha1;
}

QByteArray digestHa2(const DigestInput& input) {
    // RFC 7616 §3.4.3: auth-int adds the hash of the entity body.
    if (input.qop == DigestQop::AuthInt)
        return digestHash(input.algorithm, joinColon({input.method, input.uri,
                                                      digestHash(input.algorithm, input.body)}));
    return digestHash(input.algorithm, joinColon({input.method, input.uri}));
}

QByteArray digestResponse(const DigestInput& input) {
    const QByteArray ha1 = digestHa1(input);
    const QByteArray ha2 = digestHa2(input);
    // RFC 2069 compatibility (RFC 2617 §3.2.2.1): without qop there is no nc/cnonce.
    if (input.qop == DigestQop::None)
        return digestHash(input.algorithm, joinColon({ha1, input.nonce, ha2}));
    return digestHash(input.algorithm,
                      joinColon({ha1, input.nonce, formatNonceCount(input.nonceCount), input.cnonce,
                                 qopName(input.qop), ha2}));
}

QByteArray formatNonceCount(quint32 count) {
    return QByteArray::number(count, 16).rightJustified(8, '0');
}

QByteArray buildDigestCredentials(const DigestChallenge& challenge, const DigestInput& input) {
    QByteArray username = input.username;
    // RFC 7616 §3.4.4: userhash hides the user name behind H(username:realm).
    if (challenge.userhash)
        username = digestHash(input.algorithm, joinColon({input.username, input.realm}));

    QByteArray out = "Digest username=" + quote(username);
    out += ", realm=" + quote(input.realm);
    out += ", nonce=" + quote(input.nonce);
    out += ", uri=" + quote(input.uri);
    out += ", response=" + quote(digestResponse(input));
    if (challenge.algorithmGiven || input.algorithm != DigestAlgorithm::Md5)
        out += ", algorithm=" + digestAlgorithmName(input.algorithm).toByteArray();
    if (input.qop != DigestQop::None || isSessionAlgorithm(input.algorithm))
        out += ", cnonce=" + quote(input.cnonce);
    if (challenge.opaque) out += ", opaque=" + quote(*challenge.opaque);
    if (input.qop != DigestQop::None) {
        out += ", qop=" + qopName(input.qop).toByteArray();
        out += ", nc=" + formatNonceCount(input.nonceCount);
    }
    if (challenge.userhash) out += ", userhash=true";
    return out;
}

DigestClient::DigestClient(base::Random& random) : m_random(random) {}

void DigestClient::setCredentials(QByteArray username, QByteArray password) {
    m_default = Account{std::move(username), std::move(password)};
    m_hasDefault = true;
}

void DigestClient::setRealmCredentials(QByteArray realm, QByteArray username, QByteArray password) {
    m_byRealm.insert(std::move(realm), Account{std::move(username), std::move(password)});
}

const DigestClient::Account* DigestClient::accountFor(const QByteArray& realm) const {
    auto it = m_byRealm.constFind(realm);
    if (it != m_byRealm.cend()) return &it.value();
    return m_hasDefault ? &m_default : nullptr;
}

DigestClient::Entry* DigestClient::find(bool proxy, const QByteArray& realm) {
    for (Entry& entry : m_entries) {
        if (entry.challenge.proxy == proxy && entry.challenge.realm == realm) return &entry;
    }
    return nullptr;
}

Result<void> DigestClient::handleChallenge(const Message& response) {
    auto all = digestChallenges(response);
    if (!all) return fail(all.error());

    // Several challenges for one realm (RFC 7616 §3.7 lets a server offer SHA-256 and
    // MD5 side by side): answer the strongest, the server's first among equals.
    std::vector<DigestChallenge> chosen;
    for (DigestChallenge& challenge : *all) {
        auto same = std::find_if(chosen.begin(), chosen.end(), [&](const DigestChallenge& c) {
            return c.proxy == challenge.proxy && c.realm == challenge.realm;
        });
        if (same == chosen.end()) {
            chosen.push_back(std::move(challenge));
        } else if (digestAlgorithmStrength(challenge.algorithm) >
                   digestAlgorithmStrength(same->algorithm)) {
            *same = std::move(challenge);
        }
    }

    std::optional<Error> refused;
    std::optional<Error> unanswerable;
    int answerable = 0;
    for (DigestChallenge& challenge : chosen) {
        if (!accountFor(challenge.realm)) {
            if (!unanswerable)
                unanswerable =
                    makeError(ErrorKind::Auth, QStringLiteral("no credentials for realm \"%1\"")
                                                   .arg(QString::fromUtf8(challenge.realm)));
            continue;
        }
        Entry* entry = find(challenge.proxy, challenge.realm);
        if (entry && entry->state == EntryState::Answered) {
            // RFC 3261 §22.2: the answer to this realm's challenge was refused. Only a
            // stale nonce (RFC 7616 §3.3 stale=true) with a new nonce earns a retry.
            const bool staleRetry = challenge.stale && challenge.nonce != entry->challenge.nonce &&
                                    entry->staleRetries < kMaxStaleRetries;
            if (!staleRetry) {
                if (!refused)
                    refused = makeError(ErrorKind::Auth,
                                        QStringLiteral("credentials refused for realm \"%1\"")
                                            .arg(QString::fromUtf8(challenge.realm)));
                m_entries.erase(m_entries.begin() + (entry - m_entries.data()));
                continue;
            }
            const int staleRetries = entry->staleRetries + 1;
            *entry = Entry{std::move(challenge), {}, 0, staleRetries, EntryState::Fresh};
        } else if (entry) {
            // Never sent, or sent preemptively from an older challenge: answer this one.
            *entry = Entry{std::move(challenge), {}, 0, 0, EntryState::Fresh};
        } else {
            m_entries.push_back(Entry{std::move(challenge), {}, 0, 0, EntryState::Fresh});
        }
        ++answerable;
    }
    if (refused) return fail(*refused);
    if (answerable == 0) return fail(*unanswerable);
    return {};
}

void DigestClient::authorize(Message& request) {
    request.removeHeaders(HeaderId::Authorization);
    request.removeHeaders(HeaderId::ProxyAuthorization);
    for (Entry& entry : m_entries) {
        const Account* account = accountFor(entry.challenge.realm);
        if (!account) continue;
        // One cnonce per nonce keeps the -sess session key (HA1) stable across requests;
        // nc counts the requests sent with this nonce (RFC 7616 §3.4).
        if (entry.cnonce.isEmpty()) entry.cnonce = m_random.token(kCnonceLength);
        ++entry.nonceCount;
        DigestInput input;
        input.algorithm = entry.challenge.algorithm;
        input.username = account->username;
        input.realm = entry.challenge.realm;
        input.password = account->password;
        input.nonce = entry.challenge.nonce;
        input.cnonce = entry.cnonce;
        input.nonceCount = entry.nonceCount;
        input.qop = entry.challenge.chosenQop();
        input.method = request.methodName().toByteArray();
        input.uri = request.requestUri().toByteArray();
        input.body = request.body().toByteArray();
        request.addHeader(
            entry.challenge.proxy ? HeaderId::ProxyAuthorization : HeaderId::Authorization,
            buildDigestCredentials(entry.challenge, input));
        if (entry.state == EntryState::Fresh) entry.state = EntryState::Answered;
    }
}

void DigestClient::markAccepted() {
    for (Entry& entry : m_entries) {
        if (entry.state == EntryState::Answered) entry.state = EntryState::Accepted;
        entry.staleRetries = 0;
    }
}

void DigestClient::reset() {
    m_entries.clear();
}

}  // namespace sb::sip
