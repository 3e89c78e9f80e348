#pragma once

#include <QAbstractListModel>
#include <QDateTime>
#include <QList>

#include <functional>

#include "ui/operator_actions.h"

namespace sb::ui {

// The attendant's queue as a list model: one row per queued call, longest waiting first.
// The application pushes calls (a full list, then one change at a time); calls that end
// or leave the queue leave the model. Owns no widgets; the waiting time is measured on
// an injectable clock and refreshed by refreshTimes().
class QueueModel final : public QAbstractListModel {
    Q_OBJECT
public:
    enum Role {
        CallRole = Qt::UserRole + 1,  // quint64, what the actions name the call by
        StateRole,                    // QString "waiting", "forwarding", ...
        CallerRole,                   // QString "ACME Corp · +442071234567"
        CallerNameRole,               // QString "ACME Corp"; the number when no name
        CallerNumberRole,             // QString "+442071234567"; empty when it is the name
        CalledRole,                   // QString "200", the number it called
        WaitingSecondsRole,           // qint64, now − since
        WaitingTextRole,              // QString "01:15"
        StateTextRole,                // QString "Waiting", "Forwarding to 203", ...
        HistoryTextRole,              // QString "from 203, no-answer", topmost first
        HistoryRole,                  // QStringList, one entry per diversion
        OutcomeRole,                  // QString "203 busy": what the last action came to
        SinceRole,                    // QDateTime
    };
    Q_ENUM(Role)

    explicit QueueModel(QObject* parent = nullptr);

    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

    // Full replacement (the session's queue when the window starts).
    void setCalls(const QList<QueuedCall>& calls);
    // One call changed: it is added, changed in place, or — once it has ended or is no
    // longer queued — removed.
    void update(const QueuedCall& call);

    // The clock waiting times are measured on (default: the system's, UTC).
    void setClock(std::function<QDateTime()> now);
    QDateTime now() const { return m_now(); }
    // Measures waiting times again now (dataChanged of the waiting roles only).
    void refreshTimes();

    int rowOf(quint64 call) const;
    const QueuedCall* callAt(int row) const;

    // "ACME Corp · +442071234567"; the number alone when there is no display name.
    static QString callerText(const QueuedCall& call);
    // The user part of a SIP URI ("sip:202@pbx;x=y" → "202"), or the text as it is.
    static QString userPartOf(const QString& uri);
    // What the call is doing now, in words: "Waiting", "Forwarding to 203", ...
    static QString stateText(const QueuedCall& call);

private:
    bool belongs(const QueuedCall& call) const { return call.queued && !call.hasEnded(); }
    qint64 waitingSeconds(const QueuedCall& call) const;
    QString accessibleText(const QueuedCall& call) const;

    QList<QueuedCall> m_calls;
    std::function<QDateTime()> m_now;
};

}  // namespace sb::ui
