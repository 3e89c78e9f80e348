#include "server/registrar.h"

#include <QHostAddress>
#include <QLocale>

#include <algorithm>
#include <limits>

#include "base/log.h"
#include "sip/params.h"
#include "sip/uri.h"

namespace sb::server {

namespace {

// Bounded memory per binding (Kamailio's usrloc keeps contact in 512 and call-id in 255
// characters): a REGISTER that needs more is refused rather than stored.
constexpr qsizetype kMaxContactLength = 1024;
constexpr qsizetype kMaxCallIdLength = 255;
constexpr qsizetype kMaxUserAgentLength = 256;
// RFC 3261 §10.3 step 7: 423 only for requests shorter than an hour.
constexpr quint32 kOneHour = 3600;
constexpr int kToTagLength = 10;

// RFC 3261 §25.1 delta-seconds: digits. A value beyond 2^32-1 saturates; it is cut down
// to the maximum Expires anyway.
std::optional<quint32> parseDeltaSeconds(QByteArrayView text) {
    if (text.isEmpty()) return std::nullopt;
    quint64 value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        value =
            std::min<quint64>(value * 10 + quint64(c - '0'), std::numeric_limits<quint32>::max());
    }
    return quint32(value);
}

// Whether the phone sits behind a NAT (Kamailio's nat_uac_test 19 idea): the Contact
// names an address other than the one the REGISTER came from (a private address behind
// the NAT) or, over UDP, another port. A host name cannot be compared without resolving
// it, so it counts as reachable.
bool contactBehindNat(const sip::Uri& contact, const transport::Endpoint& source) {
    const QHostAddress address(QString::fromLatin1(contact.host));
    if (address.isNull()) return false;
    if (transport::normalizedAddress(address) != transport::normalizedAddress(source.address))
        return true;
    // RFC 3261 §18.2.1: a connection's source port is an ephemeral one, never the port
    // the phone listens on; only over UDP does a port mismatch reveal a NAT.
    if (transport::isReliable(source.protocol)) return false;
    return contact.port.value_or(transport::defaultPort(source.protocol)) != source.port;
}

// The Contact as stored and listed in the 200 OK: display name, URI and header
// parameters as the phone wrote them, minus the expires parameter, which the 200 OK
// writes afresh for each binding (RFC 3261 §10.3 step 8).
QByteArray storedContactValue(const sip::NameAddr& contact) {
    QByteArray value;
    if (!contact.display.isEmpty()) value.append(contact.display).append(' ');
    value.append('<').append(contact.uriText).append('>');
    contact.params.forEach([&value](QByteArrayView name, QByteArrayView param, bool hasValue) {
        if (name.compare("expires", Qt::CaseInsensitive) == 0) return true;
        value.append(';').append(name);
        if (hasValue) value.append('=').append(param);
        return true;
    });
    return value;
}

QByteArray joined(const QList<QByteArray>& items) {
    QByteArray out;
    for (const QByteArray& item : items) {
        if (!out.isEmpty()) out.append(", ");
        out.append(item);
    }
    return out;
}

}  // namespace

std::optional<int> parseQValue(QByteArrayView text) {
    // qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
    if (text.isEmpty() || (text[0] != '0' && text[0] != '1')) return std::nullopt;
    const int whole = text[0] - '0';
    if (text.size() == 1) return whole * 1000;
    if (text[1] != '.' || text.size() > 5) return std::nullopt;
    int thousandths = 0;
    int scale = 100;
    for (char c : text.sliced(2)) {
        if (c < '0' || c > '9') return std::nullopt;
        thousandths += (c - '0') * scale;
        scale /= 10;
    }
    if (whole == 1 && thousandths != 0) return std::nullopt;
    return whole * 1000 + thousandths;
}

QByteArray sipDate(const QDateTime& time) {
    return QLocale::c()
        .toString(time.toUTC(), QStringLiteral("ddd, dd MMM yyyy HH:mm:ss 'GMT'"))
        .toLatin1();
}

Registrar::Registrar(BindingStore& store, const LocalDomains& domains, const UserDirectory& users,
                     base::Random& random, RegistrarOptions options)
    : m_store(store), m_domains(domains), m_users(users), m_random(random), m_options(options) {}

sip::Message Registrar::handle(const transport::IncomingMessage& incoming,
                               const QString& authenticatedUser) {
    using sip::HeaderId;
    const sip::Message& request = incoming.message;
    // RFC 3261 §8.2.6.2: every final response carries a To tag.
    const QByteArray toTag = m_random.token(kToTagLength);
    auto reply = [&](int status, const QString& reason) {
        return sip::makeResponse(request, status, reason.toUtf8(), toTag);
    };

    if (request.method() != sip::Method::Register) {
        sip::Message response = reply(405, QStringLiteral("Method Not Allowed"));
        response.addHeader(HeaderId::Allow, "REGISTER");
        return response;
    }
    if (auto valid = request.validate(); !valid) return reply(400, valid.error().reason);

    // Step 1: the Request-URI names the domain the registrar is for.
    const auto requestUri = sip::Uri::parse(request.requestUri());
    if (!requestUri) return reply(400, QStringLiteral("Malformed Request-URI"));
    if (!requestUri->isSip()) return reply(416, QStringLiteral("Unsupported URI Scheme"));
    if (!m_domains.isLocal(*requestUri))
        return reply(404, QStringLiteral("Not a domain of this server"));

    // Step 2: no extension of REGISTER is supported (RFC 3261 §8.2.2.3). Path (RFC 3327)
    // is ignored when merely present, but a request that requires it cannot be served.
    QList<QByteArray> unsupported;
    for (QByteArrayView tag : request.values(HeaderId::Require))
        unsupported.append(tag.trimmed().toByteArray());
    if (!unsupported.isEmpty()) {
        sip::Message response = reply(420, QStringLiteral("Bad Extension"));
        response.addHeader(HeaderId::Unsupported, joined(unsupported));
        return response;
    }

    // Step 3 (authentication) was done by the caller. Step 4: a user registers only its
    // own address of record. Step 5: the address of record exists here.
    const auto to = request.to();
    if (!to) return reply(400, to.error().reason);
    if (!to->uri.isSip() || !m_domains.isLocal(to->uri))
        return reply(404, QStringLiteral("Not a domain of this server"));
    const QString user = m_domains.userOf(to->uri);
    if (user.isEmpty()) return reply(404, QStringLiteral("Unknown user"));
    if (!authenticatedUser.isEmpty() && user != authenticatedUser)
        return reply(403, QStringLiteral("Cannot register another user's address"));
    if (!m_users.hasUser(user)) return reply(404, QStringLiteral("Unknown user"));

    const QByteArray callId = request.callId().toByteArray();
    if (callId.size() > kMaxCallIdLength)
        return reply(400,
                     QStringLiteral("Call-ID too long (at most %1 bytes)").arg(kMaxCallIdLength));
    if (!QByteArrayView(callId).isValidUtf8())
        return reply(400, QStringLiteral("Malformed Call-ID header"));
    const quint32 cseq = request.cseq()->number;
    const auto contacts = request.contacts();
    if (!contacts) return reply(400, contacts.error().reason);

    const base::TimePoint now = m_store.clock().now();
    const std::vector<Binding> current = m_store.lookup(user);
    // RFC 3261 §10.3 steps 6/7: a request with the Call-ID of a binding but a CSeq that is
    // not higher is older than what was stored (reordered or replayed): it fails whole.
    auto outOfOrder = [&](const Binding& existing) {
        return existing.callId == callId && cseq <= existing.cseq;
    };

    if (contacts->star) {
        // Step 6: "Contact: *" only with Expires: 0 and nothing else.
        if (request.values(HeaderId::Contact).size() != 1 || request.expires() != 0u)
            return reply(400, QStringLiteral("Contact: * needs Expires: 0 and no other contact"));
        if (std::any_of(current.begin(), current.end(), outOfOrder))
            return reply(500, QStringLiteral("Out of order"));
        if (const std::size_t removed = m_store.removeUser(user); removed > 0)
            qCDebug(lcServer) << "unregistered" << user << "(all" << removed << "contacts)";
    } else if (!contacts->entries.empty()) {
        const transport::Endpoint source{incoming.source.protocol,
                                         transport::normalizedAddress(incoming.source.address),
                                         incoming.source.port};
        QByteArray userAgent = QString::fromUtf8(request.header(HeaderId::UserAgent))
                                   .left(kMaxUserAgentLength)
                                   .toUtf8();
        struct Change {
            Binding binding;
            bool removal = false;
        };
        std::vector<Change> changes;
        for (const sip::NameAddr& contact : contacts->entries) {
            if (!contact.uri.isSip())
                return reply(400, QStringLiteral("Contact is not a sip: or sips: URI"));
            if (!contact.params.isWellFormed())
                return reply(400, QStringLiteral("Malformed Contact parameters"));
            Binding binding;
            binding.user = user;
            binding.contactUri = contact.uriText.toByteArray();
            binding.contactValue = storedContactValue(contact);
            if (binding.contactValue.size() > kMaxContactLength)
                return reply(
                    400,
                    QStringLiteral("Contact too long (at most %1 bytes)").arg(kMaxContactLength));
            if (!QByteArrayView(binding.contactValue).isValidUtf8())
                return reply(400, QStringLiteral("Contact is not valid UTF-8"));

            // Step 7: the expires parameter, else the Expires header, else the default.
            // A malformed value counts as the default (RFC 3261 §20.19: "as 3600").
            quint32 expires = m_options.defaultExpires;
            if (const auto param = contact.params.value("expires")) {
                expires = parseDeltaSeconds(*param).value_or(m_options.defaultExpires);
            } else if (const auto header = request.expires()) {
                expires = *header;
            }
            if (expires > 0 && expires < m_options.minExpires && expires < kOneHour) {
                sip::Message response = reply(423, QStringLiteral("Interval Too Brief"));
                response.addHeader(HeaderId::MinExpires, QByteArray::number(m_options.minExpires));
                return response;
            }
            expires = std::min(expires, m_options.maxExpires);

            if (const auto q = contact.params.value("q")) {
                const auto value = parseQValue(*q);
                if (!value) return reply(400, QStringLiteral("Malformed q parameter"));
                binding.qValue = *value;
            }
            if (const auto instance = contact.params.value("+sip.instance"))
                binding.instanceId = sip::unquote(*instance);
            // RFC 3581 / RFC 5626: where the REGISTER came from is where the phone can be
            // reached, whatever its Contact says.
            binding.source = source;
            binding.connection = incoming.connection;
            binding.behindNat = contactBehindNat(contact.uri, source);
            binding.callId = callId;
            binding.cseq = cseq;
            binding.expiresAt = now + std::chrono::seconds(expires);
            binding.userAgent = userAgent;

            const auto existing =
                std::find_if(current.begin(), current.end(),
                             [&binding](const Binding& b) { return sameContact(b, binding); });
            if (existing != current.end() && outOfOrder(*existing))
                return reply(500, QStringLiteral("Out of order"));
            // Contacts apply in order: a later one for the same binding wins.
            Change change{std::move(binding), expires == 0};
            const auto earlier = std::find_if(
                changes.begin(), changes.end(),
                [&change](const Change& c) { return sameContact(c.binding, change.binding); });
            if (earlier != changes.end())
                *earlier = std::move(change);
            else
                changes.push_back(std::move(change));
        }
        std::vector<Binding> updates;
        std::vector<Binding> removals;
        for (Change& change : changes)
            (change.removal ? removals : updates).push_back(std::move(change.binding));
        // Step 7: every update is committed, or none.
        if (auto applied = m_store.update(user, updates, removals); !applied) {
            const int status = applied.error().sipStatus ? applied.error().sipStatus : 500;
            return reply(status, applied.error().reason);
        }
        qCDebug(lcServer) << "registered" << user << ":" << updates.size() << "updated,"
                          << removals.size() << "removed, from" << source.toString();
    }

    // Step 8: 200 OK with every current binding and its remaining lifetime.
    sip::Message response = reply(200, QStringLiteral("OK"));
    for (const Binding& binding : m_store.lookup(user)) {
        const auto remainingMs = (binding.expiresAt - now).count();
        const qint64 seconds = (remainingMs + 999) / 1000;
        QByteArray value = binding.contactValue;
        value.append(";expires=").append(QByteArray::number(seconds));
        response.addHeader(HeaderId::Contact, std::move(value));
    }
    response.addHeader(HeaderId::Date, sipDate(m_store.wallClockNow()));
    return response;
}

}  // namespace sb::server
