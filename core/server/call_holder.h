#pragma once

#include <QString>

#include "server/proxy_observer.h"
#include "sip/message.h"

namespace sb::server {

// Whoever may keep a call ringing with nobody answering it (issue 7: the attendant). The
// proxy asks it about every new INVITE; a call it holds is never answered upstream by
// the proxy when its branches end: the holder decides (Proxy::retarget, Proxy::reject),
// so a forward that fails comes back to the queue instead of failing for the caller.
//
// The CallId here is the call's stable id: Proxy::retarget reports each new leg to the
// dialog tracker as a call of its own, under a new id (Proxy::stableCallOf maps back).
class CallHolder {
public:
    virtual ~CallHolder() = default;

    struct Admission {
        bool hold = false;
        QString ringUser;  // a local user whose phones ring meanwhile (empty: none)
    };
    // An initial INVITE accepted for routing; `calleeUser` as in ProxyObserver::CallStart.
    virtual Admission admit(CallId call, const sip::Message& invite, const QString& calleeUser) = 0;

    // A held call's current leg is over without an answer: `status` is its best final
    // status (0 when no branch could start). The caller keeps hearing ringing. The holder
    // may call retarget() or reject() from inside, but must not retarget again from the
    // end of a leg that rings nobody it needs (that could go round forever).
    virtual void onLegEnded(CallId call, int status) = 0;

    // A call that was ever held got its final response upstream: a 2xx (answered by a
    // branch), or a failure (487 when the caller cancelled, or what reject() sent).
    virtual void onCallFinished(CallId call, int status) = 0;
};

}  // namespace sb::server
