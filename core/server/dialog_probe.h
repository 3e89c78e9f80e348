#pragma once

#include <functional>
#include <optional>
#include <unordered_map>

#include "server/dialog_tracker.h"
#include "sip/uri.h"
#include "transaction/transaction_layer.h"
#include "transport/transport.h"

namespace sb::server {

// Whether the answered calls taken up after a restart still exist at the phones. A call
// that ended while the server was down (its BYE could not pass) would otherwise keep
// both lamps busy until its lifetime runs out. Each party with a known remote target is
// sent an OPTIONS inside the dialog (RFC 3261 §12.2.1.1, From and To as the other party
// would write them) with CSeq 0: a party that has the dialog answers something (a 500
// for a CSeq below the one it saw, RFC 3261 §12.2.2, or a 200), and since the request
// is rejected or is the lowest possible, the parties' own CSeq spaces are never
// disturbed; a party without it answers 481. A 481, or no answer at all (Timer F, a
// transport error), means the call is gone, as for Kamailio's dialog keep-alive.
class DialogProbe final : public transaction::ClientTransactionUser {
public:
    // Where a request to a remote target goes (Proxy::nextHopOf).
    using Resolve = std::function<std::optional<transport::Endpoint>(const sip::Uri& uri)>;
    // A party of `call` no longer has the dialog; `noAnswer`: it did not answer at all.
    using Gone = std::function<void(CallId call, bool noAnswer)>;

    DialogProbe(transaction::TransactionLayer& layer, Resolve resolve, Gone gone);
    ~DialogProbe() override;
    DialogProbe(const DialogProbe&) = delete;
    DialogProbe& operator=(const DialogProbe&) = delete;

    // Asks both parties of `dialog`; returns how many OPTIONS were sent (a party whose
    // target is unknown or cannot be resolved is not asked).
    int probe(const DialogTracker::AnsweredDialog& dialog);
    std::size_t pending() const { return m_pending.size(); }

    // transaction::ClientTransactionUser
    void onFinal(transaction::TransactionId id, const sip::Message& response) override;
    void onTimeout(transaction::TransactionId id) override;
    void onTransportError(transaction::TransactionId id, const Error& error) override;

private:
    bool ask(CallId call, const QByteArray& target, const QByteArray& callId,
             const QByteArray& fromValue, const QByteArray& toValue);
    void settle(transaction::TransactionId id, std::optional<bool> goneNoAnswer);

    transaction::TransactionLayer& m_layer;
    Resolve m_resolve;
    Gone m_gone;
    std::unordered_map<transaction::TransactionId, CallId> m_pending;
};

}  // namespace sb::server
