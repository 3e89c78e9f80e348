#pragma once

#include <QDateTime>
#include <QObject>
#include <QString>
#include <QStringList>

#include <optional>

#include "app/registration_status.h"
#include "base/clock.h"
#include "base/result.h"
#include "base/sip_trace.h"
#include "sip/forward_record.h"

namespace sb::board {
class Console;
}

namespace sb::app {

// One registered contact as the front ends show it (server mode).
struct BindingView {
    QString contact;  // the Contact URI
    QString source;   // where the REGISTER came from, "udp:127.0.0.1:5062"
    qint64 expiresIn = 0;
    QString userAgent;
};

// What happened to one publication of dialog-info at the presence server ([publish]).
struct PublicationView {
    QString entity;       // the published URI
    QString dialog;       // the dialog id in the document
    QString state;        // "published", "failed" or "removed"
    QString dialogState;  // the RFC 4235 state the publication carries ("early", ...)
    int code = 0;         // the SIP status of the answer, 0 when none
    QString reason;       // why it failed, empty otherwise
};

// A call waiting for the operator, or one she acts on (issue 7), as the front ends show
// it: the queue panel, headless "call" events.
struct QueuedCallView {
    quint64 call = 0;  // what forward/pickup/reject name it by
    // "waiting", "forwarding", "picking-up", "to-phone" while it rings; "answered",
    // "gone" (caller hung up, rejected) or "returned" (rings its extension again) at the end;
    // client mode also "forwarded" (sent on by a 302) and "failed" (a pickup that did not
    // happen: the call rings where it was).
    QString state;
    bool queued = false;  // listed in the queue (not only an action on an extension's call)
    QString callerDisplay;
    QString callerUri;
    QString calledUri;
    QDateTime since;
    QStringList history;  // how it came here: "from 203, no-answer", topmost first
    QString target;       // what it rings now
    QString outcome;      // what the last action came to ("203 busy")
    int status = 0;       // at the end: the final status the caller got
};

// A forward as the operator asks for it (the forward dialog, the headless command).
struct ForwardCommand {
    quint64 call = 0;   // a queued call ...
    QString extension;  // ... or the call ringing at this extension
    QString to;         // an extension or a SIP URI
    QString reason;     // empty: [attendant] default_reason
    QString uri;        // the diversion URI; empty: the Request-URI of the diverted leg
    std::optional<QString> privacy;
    std::optional<int> counter;
    std::optional<bool> historyInfo;
};

// The reason, diverting URI, privacy, counter and History-Info of `command`, checked
// (a privacy that is none of full, name, uri, off is refused).
Result<sip::ForwardChoices> forwardChoicesOf(const ForwardCommand& command);

// What the front ends drive, whichever way Switchboard runs (DESIGN.md "Two ways to
// run, one core"): a client session (AccountSession: registers an operator account and
// subscribes at a PBX) or a server session (ServerSession: the built-in SIP server).
// Both feed the same board::Console; the front ends cannot tell where lamps come from.
class Session : public QObject {
    Q_OBJECT
public:
    enum class Mode { Client, Server };

    using QObject::QObject;

    virtual Mode mode() const = 0;
    // Where SIP messages are traced (redacted); not owned, must outlive the session.
    virtual void setSipTrace(base::SipTrace* trace) = 0;
    // The board this session lights; not owned, must outlive the session.
    virtual void setBoard(board::Console* console) = 0;
    // Opens the listen addresses. Nothing is sent yet. The error names the address and
    // the setting when one cannot be opened.
    virtual Result<void> open() = 0;
    // Starts the protocol work: registering (client) or serving (server).
    virtual void start() = 0;
    // Ends orderly (unregister / terminate subscriptions, save state) and emits stopped(),
    // at the latest after `bound`.
    virtual void stop(base::Duration bound = base::Duration(5000)) = 0;
    // The addresses really listened on ("udp:127.0.0.1:40123"), after open().
    virtual QStringList listenAddresses() const = 0;
    // Client mode: the account's registration. Server mode: Unregistered, never changes.
    virtual const RegistrationStatus& registration() const = 0;

    // Operator actions (issue 7). Each returns what it did in words for the operator, or
    // why not (the call then goes on ringing where it was). The defaults refuse with the
    // reason: a session that cannot act says so rather than doing nothing.
    // Pick up the call ringing at `extension` (or the call of dialog id `dialog`).
    virtual Result<QString> pickup(const QString& extension, const QString& dialog);
    virtual Result<QString> forward(const ForwardCommand& command);
    // A queued call to the operator's own phone.
    virtual Result<QString> sendToPhone(quint64 call);
    virtual Result<QString> reject(quint64 call, int status);
    // The calls waiting in the queue, longest waiting first.
    virtual QList<QueuedCallView> queue() const { return {}; }
    // The reasons a forward offers: RFC 5806's and the administrator's.
    virtual QStringList forwardReasons() const;
    // Empty when a call ringing at any extension can be picked up; else why not (the UI
    // shows the action disabled with this reason).
    virtual QString extensionActionsUnavailable() const;
    // The same for forwarding such a call (client mode: only queued calls can be, since
    // no standard request moves another extension's ringing call without the server).
    virtual QString extensionForwardUnavailable() const { return extensionActionsUnavailable(); }

signals:
    void registrationChanged(const sb::app::RegistrationStatus& status);
    // Server mode: a user's bindings changed (registered, refreshed, expired, removed).
    void bindingsChanged(const QString& user, const QList<sb::app::BindingView>& bindings);
    // A publication of dialog-info ([publish]) was accepted, failed or removed.
    void publicationChanged(const sb::app::PublicationView& publication);
    // A queued call (or one the operator acts on) changed or left.
    void callChanged(const sb::app::QueuedCallView& call);
    void stopped();
};

}  // namespace sb::app
