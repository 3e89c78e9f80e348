#pragma once

#include <QByteArray>
#include <QByteArrayView>

#include <optional>

#include "base/timer_queue.h"
#include "server/proxy_observer.h"
#include "sip/message.h"
#include "transaction/transaction_layer.h"
#include "transport/transport.h"

namespace sb::server {

// One forwarded copy of a request (RFC 3261 §16.6): a client transaction towards one
// target, its Timer C (§16.8) and what it came to.
struct ProxyBranch {
    enum class State {
        Trying,      // forwarded, nothing back yet
        Proceeding,  // a provisional response arrived (a CANCEL may be sent, §9.1)
        Completed,   // a final response arrived, or the proxy took it as one (408, 503)
    };

    BranchId id = 0;
    CallId call = 0;  // the leg it belongs to, as the observer knows it
    transaction::TransactionId transaction = transaction::kNoTransaction;
    QByteArray targetUri;  // the Request-URI of the forwarded copy
    transport::Endpoint destination;
    std::size_t group = 0;  // its q-value group, 1 for the first (§16.6: tried in sequence)
    State state = State::Trying;
    bool cancelled = false;    // the proxy asked for a CANCEL (§16.10)
    bool timerCFired = false;  // §16.8: its answer counts as 408 whatever it is
    bool retired = false;      // of a leg that a retarget replaced: not in the best response
    base::TimerId timerC = base::kNoTimer;
    int status = 0;  // the final status it counts as; 0 while pending

    bool isPending() const { return state != State::Completed; }
};

// The branch parameter of the proxy's Via (RFC 3261 §16.6 step 8): the magic cookie, the
// marker "sb", 16 hex digits of the loop hash, a dot, and a unique part.
//
// §16.3 step 4 / §16.6 step 8: the loop hash reflects everything that decides how the
// request is routed — the Request-URI as received, the From and To tags, Call-ID, the
// CSeq number, every Route, Proxy-Require and Proxy-Authorization value. When a request
// comes back with a Via of ours whose hash equals the request's hash, nothing changed:
// a loop (482). Another hash is a spiral (e.g. the Request-URI became a contact) and is
// routed again. The topmost Via, which §16.6 also lists, is left out: it is another
// hop's Via each time the request comes back, so with it a loop could never match.
QByteArray loopHash(const sip::Message& request);
QByteArray makeBranch(QByteArrayView loopHash, QByteArrayView unique);
// The loop hash inside a branch this proxy made; nullopt for any other branch.
std::optional<QByteArrayView> loopHashOfBranch(QByteArrayView branch);

// A short deterministic token of `text` (hex), for branches that must come out the
// same for a retransmission (stateless forwarding, §16.11).
QByteArray shortHash(QByteArrayView text);

// Removes the topmost Via value (§16.7 step 3: the proxy's own, from a response). A
// comma list in the first field keeps its other values. False when there is none.
bool removeTopVia(sip::Message& message);

}  // namespace sb::server
