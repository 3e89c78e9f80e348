#pragma once

#include <QDockWidget>
#include <QList>
#include <QPointer>
#include <QTimer>

#include <optional>

#include "ui/lamp_style.h"
#include "ui/operator_actions.h"

class QAction;
class QLabel;
class QListView;
class QMenu;

namespace sb::ui {

class QueueDelegate;
class QueueModel;

// The attendant's queue (DESIGN.md "Operator actions"): the calls waiting for the
// operator, longest waiting first, each with who calls, the number called, how long it
// waits (live), how it came here and what the last action came to. On the current call:
// Forward… (F; the window opens the forward dialog), Send to my phone (Enter, or a
// double-click) and Reject… (Delete: a choice of status, each with its key). Follows the
// actions' callChanged; what an action did, or why not, and what became of a call that
// left is told through notice().
class QueuePanel final : public QDockWidget {
    Q_OBJECT
public:
    static constexpr int kTickMs = 1000;

    // A status a queued call can be rejected with, and the key that chooses it.
    struct RejectChoice {
        int status;
        QString text;  // "486 &Busy Here": the mnemonic is the key
    };
    static QList<RejectChoice> rejectChoices();

    explicit QueuePanel(QWidget* parent = nullptr);

    // The actions the panel drives and whose calls it lists; not owned (null: none).
    void setActions(OperatorActions* actions);
    OperatorActions* actions() const { return m_actions; }
    void setScheme(LampStyle::Scheme scheme);

    QueueModel* model() const { return m_model; }
    QListView* view() const { return m_view; }
    QAction* forwardAction() const { return m_forward; }
    QAction* sendToPhoneAction() const { return m_toPhone; }
    QAction* rejectAction() const { return m_reject; }
    // The status choice Delete opens (a menu; its letters choose).
    QMenu* rejectMenu() const { return m_rejectMenu; }
    // "2 calls waiting", "No calls waiting …"
    QString headerText() const;
    bool isTicking() const { return m_tick.isActive(); }

    // The current call, if any.
    std::optional<QueuedCall> currentCall() const;
    // How long `call` has waited now, if it is in the queue.
    std::optional<qint64> waitingSeconds(quint64 call) const;

    // Sends the current call to the operator's phone; rejects it with `status`; opens the
    // status choice under it.
    void sendCurrentToPhone();
    void rejectCurrent(int status);
    void chooseRejectStatus();

signals:
    // F on a call: the window opens the forward dialog for it.
    void forwardRequested(const sb::ui::QueuedCall& call);
    // What an action did or why not, and what became of a call that left or came back;
    // `problem` when the operator should act on it.
    void notice(const QString& text, bool problem);

private:
    void onCallChanged(const QueuedCall& call);
    void updateActions();
    void updateHeader();
    void updateTicking();
    void report(const QueuedCall& call, const Result<QString>& result);

    QPointer<OperatorActions> m_actions;
    QueueModel* m_model;
    QueueDelegate* m_delegate;
    QLabel* m_header;
    QListView* m_view;
    QAction* m_forward;
    QAction* m_toPhone;
    QAction* m_reject;
    QMenu* m_rejectMenu;
    QTimer m_tick;
};

}  // namespace sb::ui
