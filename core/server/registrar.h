#pragma once

#include <QString>

#include "base/random.h"
#include "server/binding_store.h"
#include "server/local_domains.h"
#include "server/location_service.h"
#include "sip/message.h"
#include "transport/transport.h"

namespace sb::server {

struct RegistrarOptions {
    // RFC 3261 §10.3 step 7: the lifetime of a binding when the REGISTER names none, the
    // shortest one accepted (below it: 423 Interval Too Brief with Min-Expires) and the
    // longest one granted (a longer request is cut down to it). The count limits live in
    // BindingStoreOptions.
    quint32 defaultExpires = 3600;
    quint32 minExpires = 60;
    quint32 maxExpires = 86400;
};

// The registrar of the built-in server (RFC 3261 §10.3): checks a REGISTER step by step,
// updates the binding store all at once, and answers with every current binding.
// Authentication (§10.3 step 3) happens before, in the caller; the registrar is told who
// was authenticated and does the authorization (step 4).
class Registrar {
public:
    Registrar(BindingStore& store, const LocalDomains& domains, const UserDirectory& users,
              base::Random& random, RegistrarOptions options = {});

    // The final response to the REGISTER in `incoming` (the caller sends it on the server
    // transaction). `authenticatedUser` is the user whose credentials the request
    // carried; empty means a trusted source (e.g. loopback), which may register any
    // local user. Every response carries a To tag.
    sip::Message handle(const transport::IncomingMessage& incoming,
                        const QString& authenticatedUser);

    const RegistrarOptions& options() const { return m_options; }
    void setOptions(RegistrarOptions options) { m_options = options; }

private:
    BindingStore& m_store;
    const LocalDomains& m_domains;
    const UserDirectory& m_users;
    base::Random& m_random;
    RegistrarOptions m_options;
};

// RFC 3261 §10.3 step 7 / §20.10: a q-value ("0", "0.5", "1.000") as thousandths;
// nullopt when it is not one.
std::optional<int> parseQValue(QByteArrayView text);

// RFC 3261 §20.17: an RFC 1123 date in GMT ("Sat, 13 Nov 2010 23:29:00 GMT").
QByteArray sipDate(const QDateTime& time);

}  // namespace sb::server
