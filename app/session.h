#pragma once

#include <QObject>
#include <QString>
#include <QStringList>

#include "app/registration_status.h"
#include "base/clock.h"
#include "base/result.h"
#include "base/sip_trace.h"

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

signals:
    void registrationChanged(const sb::app::RegistrationStatus& status);
    // Server mode: a user's bindings changed (registered, refreshed, expired, removed).
    void bindingsChanged(const QString& user, const QList<sb::app::BindingView>& bindings);
    // A publication of dialog-info ([publish]) was accepted, failed or removed.
    void publicationChanged(const sb::app::PublicationView& publication);
    void stopped();
};

}  // namespace sb::app
