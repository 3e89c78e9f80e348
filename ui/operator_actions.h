#pragma once

#include <QDateTime>
#include <QObject>
#include <QString>
#include <QStringList>

#include <optional>

#include "base/result.h"

namespace sb::ui {

// A call in the attendant's queue (or one she acts on), as the window shows it. The
// application fills it from its session; the widgets know no SIP objects.
struct QueuedCall {
    quint64 call = 0;  // what the actions name it by
    // "waiting", "forwarding", "picking-up", "to-phone" while it rings; "answered",
    // "gone", "returned" (rings its extension again), "forwarded" (client mode: sent on
    // by a 302) or "failed" (client mode: a pickup that did not happen; the call rings
    // where it was) when it has left.
    QString state;
    bool queued = false;  // in the queue, not only an action on an extension's call
    QString callerDisplay;
    QString callerUri;
    QString calledUri;
    QDateTime since;      // when it started waiting
    QStringList history;  // how it came here, topmost first: "from 203, no-answer"
    QString target;       // what it rings now ("203", the operator's phone)
    QString outcome;      // what the last action came to: "203 busy"
    int status = 0;       // at the end: the final status the caller got

    // Whether the call has left (answered, gone, or ringing its extension again).
    bool hasEnded() const {
        return state == u"answered" || state == u"gone" || state == u"returned" ||
               state == u"forwarded" || state == u"failed";
    }
};

// A forward as the operator asks for it in the forward dialog.
struct ForwardRequest {
    quint64 call = 0;                // a queued call ...
    QString extension;               // ... or the call ringing at this extension
    QString to;                      // an extension number or a SIP URI
    QString reason;                  // a Diversion reason token (RFC 5806 or the administrator's)
    std::optional<QString> privacy;  // "full", "name", "uri", "off"; none: as configured
    bool historyInfo = false;        // add History-Info (RFC 7044)
};

// What the forward dialog starts from ([attendant] default_reason, [diversion] privacy
// and history_info).
struct ForwardDefaults {
    QString reason = QStringLiteral("deflection");
    QString privacy;  // empty: none configured
    bool historyInfo = false;
};

// The operator's actions as the window drives them (DESIGN.md "Operator actions"),
// implemented by the application over its session. Each action returns what it did in
// words for the operator, or why not; the call then goes on ringing where it was.
class OperatorActions : public QObject {
    Q_OBJECT
public:
    using QObject::QObject;

    // Picks up the call ringing at `extension` (it rings the operator's phone).
    virtual Result<QString> pickup(const QString& extension) = 0;
    virtual Result<QString> forward(const ForwardRequest& request) = 0;
    // A queued call to the operator's own phone.
    virtual Result<QString> sendToPhone(quint64 call) = 0;
    // Ends a queued call with a failure status (486, 603, ...).
    virtual Result<QString> reject(quint64 call, int status) = 0;
    // The calls waiting in the queue, longest waiting first.
    virtual QList<QueuedCall> queue() const = 0;
    // The reasons a forward offers: RFC 5806's and the administrator's.
    virtual QStringList forwardReasons() const = 0;
    virtual ForwardDefaults forwardDefaults() const = 0;
    // Empty when a call ringing at any extension can be picked up and forwarded; else
    // why not (the board shows those actions disabled with this as the reason).
    virtual QString extensionActionsUnavailable() const = 0;
    // Empty when such a call can also be forwarded; else why not (client mode: only a
    // queued call can, without the server in the call's path).
    virtual QString extensionForwardUnavailable() const { return extensionActionsUnavailable(); }

signals:
    // A queued call (or one the operator acts on) changed or left.
    void callChanged(const sb::ui::QueuedCall& call);
};

}  // namespace sb::ui
