#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QHash>
#include <QString>
#include <QStringList>

#include <optional>

#include "base/result.h"
#include "server/location_service.h"
#include "sip/digest.h"

namespace sb::server {

// The user key of a provisioned user from how an administrator writes it: an RFC 3261
// §25.1 `user` (unreserved / user-unreserved characters and %HH escapes), at most 64
// characters. Escapes are decoded, so the key is what LocalDomains::userOf() gives for a
// Request-URI and what a phone sends as its digest username; an escape must decode to a
// character that may also stand unescaped (no space, '@', ':' or control hidden in a key).
// The error says which character is wrong.
Result<QString> normalizeUserName(QStringView name);

// Whether `ha1` is lower-case hex of the length of `algorithm`'s hash (32 for MD5, 64 for
// SHA-256). The error names the algorithm and what is wrong.
Result<void> checkHa1(QByteArrayView ha1, sip::DigestAlgorithm algorithm);

// Provisioned users of the built-in server for one realm. Only HA1 hashes are kept
// (RFC 7616 §3.4.2: H(username ":" realm ":" passwd), once with MD5 and once with
// SHA-256), never a password: whoever reads the configuration or the memory learns no
// password, only what is needed to check answers in this realm.
class UserStore final : public UserDirectory {
public:
    static constexpr int kMaxUserNameLength = 64;

    UserStore();

    // HA1 hashes are bound to the realm, so changing it to a different value forgets
    // every user: they must be provisioned again (with their passwords) for the new realm.
    void setRealm(QString realm);
    QString realm() const { return m_realm; }

    // Adds or replaces `user` with the HA1 hashes of `password` in this realm. Fails for
    // an invalid user name (normalizeUserName) or an empty password.
    Result<void> addUser(const QString& user, QByteArrayView password);
    // Adds or replaces `user` with hashes from the configuration. Each must be lower-case
    // hex of the right length, or empty (that algorithm is then not offered to the user);
    // not both empty.
    Result<void> addUserWithHa1(const QString& user, QByteArray ha1Md5, QByteArray ha1Sha256);
    bool removeUser(const QString& user);
    void clear();

    // The base HA1 of `user` for the algorithm's hash; the -sess variants share it (their
    // session key is derived per nonce by the authenticator, RFC 7616 §3.4.2). nullopt
    // for an unknown user or one provisioned without that hash.
    std::optional<QByteArray> ha1(const QString& user, sip::DigestAlgorithm algorithm) const;

    bool hasUser(const QString& user) const override;
    QStringList users() const { return m_order; }  // in the order they were added
    qsizetype size() const { return m_order.size(); }

private:
    struct Hashes {
        QByteArray md5;
        QByteArray sha256;
    };

    void insert(const QString& key, Hashes hashes);

    QString m_realm;
    QHash<QString, Hashes> m_users;
    QStringList m_order;
};

}  // namespace sb::server
