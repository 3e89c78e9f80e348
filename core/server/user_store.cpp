#include "server/user_store.h"

namespace sb::server {

namespace {

constexpr auto kDefaultRealm = "switchboard.local";

// RFC 3261 §25.1: unreserved (alphanum / mark) and user-unreserved.
bool isUserChar(QChar c) {
    const char16_t u = c.unicode();
    if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9')) return true;
    switch (u) {
        case '-':
        case '_':
        case '.':
        case '!':
        case '~':
        case '*':
        case '\'':
        case '(':
        case ')':
        case '&':
        case '=':
        case '+':
        case '$':
        case ',':
        case ';':
        case '?':
        case '/':
            return true;
        default:
            return false;
    }
}

int hexValue(QChar c) {
    const char16_t u = c.unicode();
    if (u >= '0' && u <= '9') return u - '0';
    if (u >= 'a' && u <= 'f') return u - 'a' + 10;
    if (u >= 'A' && u <= 'F') return u - 'A' + 10;
    return -1;
}

QString describe(QChar c) {
    if (c.unicode() < 0x20 || c.unicode() == 0x7f)
        return QStringLiteral("control character 0x%1").arg(c.unicode(), 2, 16, QLatin1Char('0'));
    if (c == QLatin1Char(' ')) return QStringLiteral("a space");
    return QStringLiteral("'%1'").arg(c);
}

qsizetype hashLength(sip::DigestAlgorithm algorithm) {
    return sip::digestAlgorithmStrength(algorithm) > 1 ? 64 : 32;
}

sip::DigestAlgorithm baseAlgorithm(sip::DigestAlgorithm algorithm) {
    return sip::digestAlgorithmStrength(algorithm) > 1 ? sip::DigestAlgorithm::Sha256
                                                       : sip::DigestAlgorithm::Md5;
}

}  // namespace

Result<QString> normalizeUserName(QStringView name) {
    if (name.isEmpty()) return fail(ErrorKind::Config, QStringLiteral("the user name is empty"));
    QString key;
    key.reserve(name.size());
    for (qsizetype i = 0; i < name.size(); ++i) {
        QChar c = name.at(i);
        if (c == QLatin1Char('%')) {
            // RFC 3261 §25.1 escaped = "%" HEXDIG HEXDIG.
            const int high = i + 2 < name.size() ? hexValue(name.at(i + 1)) : -1;
            const int low = i + 2 < name.size() ? hexValue(name.at(i + 2)) : -1;
            if (high < 0 || low < 0)
                return fail(ErrorKind::Config,
                            QStringLiteral("user name \"%1\": '%' must be followed by two hex "
                                           "digits (an RFC 3261 escape)")
                                .arg(name));
            c = QChar(char16_t(high * 16 + low));
            i += 2;
            if (!isUserChar(c))
                return fail(ErrorKind::Config,
                            QStringLiteral("user name \"%1\": an escape decodes to %2, which a "
                                           "SIP user name may not hold")
                                .arg(name, describe(c)));
        } else if (!isUserChar(c)) {
            return fail(ErrorKind::Config,
                        QStringLiteral("user name \"%1\": %2 is not allowed (RFC 3261 user: "
                                       "letters, digits and -_.!~*'()&=+$,;?/ only)")
                            .arg(name, describe(c)));
        }
        key.append(c);
    }
    if (key.size() > UserStore::kMaxUserNameLength)
        return fail(ErrorKind::Config,
                    QStringLiteral("user name \"%1\" is longer than %2 characters")
                        .arg(name)
                        .arg(UserStore::kMaxUserNameLength));
    return key;
}

Result<void> checkHa1(QByteArrayView ha1, sip::DigestAlgorithm algorithm) {
    const qsizetype expected = hashLength(algorithm);
    const QString name = QString::fromLatin1(sip::digestAlgorithmName(baseAlgorithm(algorithm)));
    if (ha1.size() != expected)
        return fail(ErrorKind::Config, QStringLiteral("%1 HA1 must be %2 hex digits, not %3")
                                           .arg(name)
                                           .arg(expected)
                                           .arg(ha1.size()));
    for (char c : ha1) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return fail(
                ErrorKind::Config,
                QStringLiteral("%1 HA1 must be lower-case hex digits (0-9, a-f)").arg(name));
    }
    return {};
}

UserStore::UserStore() : m_realm(QString::fromLatin1(kDefaultRealm)) {}

void UserStore::setRealm(QString realm) {
    if (realm == m_realm) return;
    m_realm = std::move(realm);
    // Every HA1 hashes the old realm in: none can verify an answer for the new one.
    clear();
}

Result<void> UserStore::addUser(const QString& user, QByteArrayView password) {
    auto key = normalizeUserName(user);
    if (!key) return fail(key.error());
    if (password.isEmpty())
        return fail(ErrorKind::Config,
                    QStringLiteral("the password of user \"%1\" is empty").arg(*key));
    sip::DigestInput input;
    input.username = key->toUtf8();
    input.realm = m_realm.toUtf8();
    input.password = password.toByteArray();
    Hashes hashes;
    input.algorithm = sip::DigestAlgorithm::Md5;
    hashes.md5 = sip::digestHa1(input);
    input.algorithm = sip::DigestAlgorithm::Sha256;
    hashes.sha256 = sip::digestHa1(input);
    // The copy of the password in `input` goes with it; nothing else keeps it.
    input.password.fill('\0');
    insert(*key, std::move(hashes));
    return {};
}

Result<void> UserStore::addUserWithHa1(const QString& user, QByteArray ha1Md5,
                                       QByteArray ha1Sha256) {
    auto key = normalizeUserName(user);
    if (!key) return fail(key.error());
    if (ha1Md5.isEmpty() && ha1Sha256.isEmpty())
        return fail(ErrorKind::Config,
                    QStringLiteral("user \"%1\" has neither an MD5 nor a SHA-256 HA1").arg(*key));
    if (!ha1Md5.isEmpty()) {
        if (auto valid = checkHa1(ha1Md5, sip::DigestAlgorithm::Md5); !valid)
            return fail(ErrorKind::Config,
                        QStringLiteral("user \"%1\": %2").arg(*key, valid.error().reason));
    }
    if (!ha1Sha256.isEmpty()) {
        if (auto valid = checkHa1(ha1Sha256, sip::DigestAlgorithm::Sha256); !valid)
            return fail(ErrorKind::Config,
                        QStringLiteral("user \"%1\": %2").arg(*key, valid.error().reason));
    }
    insert(*key, Hashes{std::move(ha1Md5), std::move(ha1Sha256)});
    return {};
}

void UserStore::insert(const QString& key, Hashes hashes) {
    if (!m_users.contains(key)) m_order.append(key);
    m_users.insert(key, std::move(hashes));
}

bool UserStore::removeUser(const QString& user) {
    auto key = normalizeUserName(user);
    if (!key || !m_users.remove(*key)) return false;
    m_order.removeOne(*key);
    return true;
}

void UserStore::clear() {
    m_users.clear();
    m_order.clear();
}

std::optional<QByteArray> UserStore::ha1(const QString& user,
                                         sip::DigestAlgorithm algorithm) const {
    auto it = m_users.constFind(user);
    if (it == m_users.cend()) return std::nullopt;
    const QByteArray& hash =
        baseAlgorithm(algorithm) == sip::DigestAlgorithm::Sha256 ? it->sha256 : it->md5;
    if (hash.isEmpty()) return std::nullopt;
    return hash;
}

bool UserStore::hasUser(const QString& user) const {
    return m_users.contains(user);
}

}  // namespace sb::server
