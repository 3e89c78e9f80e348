#pragma once

#include <QByteArray>
#include <QString>

#include "base/clock.h"
#include "sip/message.h"
#include "transport/transport.h"

namespace sb::server {

// Identifies one INVITE transaction the proxy handles (one "call attempt"): Call-ID,
// From tag and CSeq number of the initial INVITE.
using CallId = quint64;
// One forked branch of a call: a client transaction towards one contact.
using BranchId = quint64;

// What the proxy tells the dialog tracker (Kamailio's dialog module sees the same
// moments through tm callbacks). Every callback comes from the event loop after the
// message was handled; the observer must not call back into the proxy from inside.
class ProxyObserver {
public:
    virtual ~ProxyObserver() = default;

    struct CallStart {
        CallId call = 0;
        const sip::Message* invite = nullptr;  // as received (before our Via/Record-Route)
        transport::Endpoint source;
        // The local users on either side, empty when not local: the caller from the From
        // URI, the callee from the Request-URI as received (the AoR called, never the
        // registered contact).
        QString callerUser;
        QString calleeUser;
        base::TimePoint at{};
    };
    // An initial INVITE (no To tag) was accepted for routing: at least one branch will
    // follow, or a final response if none can be created.
    virtual void onCallStarted(const CallStart& start) = 0;

    // A branch was created towards `contactUri` (the Request-URI of the forwarded INVITE).
    virtual void onBranchStarted(CallId call, BranchId branch, const QByteArray& contactUri) = 0;

    // A response arrived on a branch (1xx with or without To tag, 2xx — also a later 2xx
    // of another early dialog — and 3xx-6xx), before best-response selection.
    virtual void onBranchResponse(CallId call, BranchId branch, const sip::Message& response) = 0;

    // A branch ended without a response of its own: Timer C, Timer B, transport error, or
    // cancelled by the proxy after another branch answered or a 6xx (`status` says what
    // the proxy takes it as: 408, 503, 487).
    virtual void onBranchEnded(CallId call, BranchId branch, int status) = 0;

    // The call attempt got its final answer upstream: a 2xx (then the dialog is
    // confirmed), or the best failure (`cancelled` when the caller CANCELled).
    virtual void onCallAnswered(CallId call, const sip::Message& response) = 0;
    virtual void onCallFailed(CallId call, int status, bool cancelled) = 0;

    // A request within a dialog that the proxy routed (Record-Route brought it back):
    // ACK, BYE, re-INVITE, UPDATE, INFO, PRACK, ... `source` is where it came from.
    virtual void onInDialogRequest(const sip::Message& request,
                                   const transport::Endpoint& source) = 0;
    // The final response to such a request (e.g. the 200 to BYE, 481 to a stale BYE).
    virtual void onInDialogResponse(const sip::Message& response) = 0;
};

}  // namespace sb::server
