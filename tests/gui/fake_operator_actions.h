#pragma once

// An OperatorActions that records what the window asks for and answers as told, for the
// GUI tests of the board's tile actions, the queue panel and the forward dialog.

#include <QList>
#include <QPair>
#include <QStringList>

#include <optional>

#include "ui/operator_actions.h"

class FakeOperatorActions final : public sb::ui::OperatorActions {
public:
    using OperatorActions::OperatorActions;

    // What was asked, in order.
    QStringList pickups;
    QList<sb::ui::ForwardRequest> forwards;
    QList<quint64> toPhone;
    QList<QPair<quint64, int>> rejects;

    // What it answers.
    QList<sb::ui::QueuedCall> calls;
    QStringList reasons = {"unknown",        "user-busy",     "no-answer",
                           "unavailable",    "unconditional", "time-of-day",
                           "do-not-disturb", "deflection",    "follow-me",
                           "out-of-service", "away"};
    sb::ui::ForwardDefaults defaults;
    QString unavailable;             // extensionActionsUnavailable()
    QString forwardUnavailable;      // extensionForwardUnavailable(), when the above is empty
    std::optional<QString> failure;  // every action fails with this reason

    sb::Result<QString> pickup(const QString& extension) override {
        pickups << extension;
        if (failure) return sb::fail(sb::ErrorKind::Protocol, *failure);
        return QStringLiteral("Picking up the call ringing at %1").arg(extension);
    }
    sb::Result<QString> forward(const sb::ui::ForwardRequest& request) override {
        forwards << request;
        if (failure) return sb::fail(sb::ErrorKind::Protocol, *failure);
        return QStringLiteral("Forwarding to %1 (%2)").arg(request.to, request.reason);
    }
    sb::Result<QString> sendToPhone(quint64 call) override {
        toPhone << call;
        if (failure) return sb::fail(sb::ErrorKind::Protocol, *failure);
        return QStringLiteral("Sending the call to your phone (201)");
    }
    sb::Result<QString> reject(quint64 call, int status) override {
        rejects << qMakePair(call, status);
        if (failure) return sb::fail(sb::ErrorKind::Protocol, *failure);
        return QStringLiteral("Rejected with %1").arg(status);
    }
    QList<sb::ui::QueuedCall> queue() const override { return calls; }
    QStringList forwardReasons() const override { return reasons; }
    sb::ui::ForwardDefaults forwardDefaults() const override { return defaults; }
    QString extensionActionsUnavailable() const override { return unavailable; }
    QString extensionForwardUnavailable() const override {
        return unavailable.isEmpty() ? forwardUnavailable : unavailable;
    }

    // The session reports a change of a call.
    void change(const sb::ui::QueuedCall& call) { emit callChanged(call); }
};

// A call waiting in the queue since `since`.
inline sb::ui::QueuedCall waitingCall(quint64 id, const QString& display, const QString& number,
                                      const QDateTime& since, QStringList history = {},
                                      QString outcome = {}) {
    sb::ui::QueuedCall call;
    call.call = id;
    call.state = QStringLiteral("waiting");
    call.queued = true;
    call.callerDisplay = display;
    call.callerUri = QStringLiteral("sip:%1@example.com").arg(number);
    call.calledUri = QStringLiteral("sip:200@example.com");
    call.since = since;
    call.history = std::move(history);
    call.outcome = std::move(outcome);
    return call;
}
