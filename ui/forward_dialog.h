#pragma once

#include <QDialog>
#include <QList>
#include <QTimer>

#include <functional>
#include <vector>

#include "board/directory.h"
#include "ui/operator_actions.h"

class QButtonGroup;
class QCheckBox;
class QComboBox;
class QFrame;
class QLabel;
class QLineEdit;
class QListWidget;
class QPushButton;
class QRadioButton;

namespace sb::ui {

// What the forward dialog says about the call it forwards.
struct ForwardCall {
    quint64 call = 0;                        // a queued call ...
    QString extension;                       // ... or the call ringing at this extension
    QString caller;                          // "ACME Corp · +442071234567"
    QString where;                           // "Waiting in the queue", "Ringing at 202 Bob Martin"
    std::function<qint64()> ringingSeconds;  // how long it has rung now
};

// Forward with reason (DESIGN.md "Operator actions"), keyboard first: the caller and how
// long the call rings; the target, typed ahead over the directory (name or number; Down
// into the matches, Enter picks) or a number or SIP URI typed in full, checked as it is
// typed; the reasons, each with its key (a letter for RFC 5806's, a digit for the
// administrator's; Alt+key from anywhere in the dialog); privacy; History-Info.
// Forward asks the actions; on success the dialog closes and forwarded() says what was
// done, on failure it stays open with the reason so the target can be fixed. When the
// call stops ringing (callStopped()) the dialog says so and cannot forward any more.
class ForwardDialog final : public QDialog {
    Q_OBJECT
public:
    // What the target field holds, as checked while typing.
    enum class Target {
        Empty,
        Extension,  // a number of the directory
        Outside,    // a number not in the directory: the server decides
        Uri,        // a well-formed SIP URI
        Choose,     // part of a name or number: pick one of the matches
        Invalid,    // nothing it could be, or a malformed URI
    };

    ForwardDialog(ForwardCall call, OperatorActions& actions,
                  std::vector<board::Extension> directory, QWidget* parent = nullptr);

    // The key of each reason: RFC 5806's have a letter of their own, the others the
    // digits 1-9 in order (none after the ninth).
    static QChar keyOf(const QString& reason, const QStringList& reasons);

    const ForwardCall& call() const { return m_call; }
    QLineEdit* targetEdit() const { return m_target; }
    QListWidget* matchesList() const { return m_matches; }
    QComboBox* privacyBox() const { return m_privacy; }
    QCheckBox* historyInfoBox() const { return m_historyInfo; }
    QPushButton* forwardButton() const { return m_forwardButton; }
    QRadioButton* reasonButton(const QString& reason) const;

    Target targetState() const { return m_targetState; }
    QString targetMessage() const;
    QString reason() const;  // the chosen reason, empty when none
    QString ringingText() const;
    // The failure of the last Forward, or why the call cannot be forwarded any more;
    // empty when none.
    QString messageText() const;
    bool hasStopped() const { return m_stopped; }
    // The request Forward sends now.
    ForwardRequest request() const;

public slots:
    // The call stopped ringing (`why`: "answered by 203", "202 is Busy now").
    void callStopped(const QString& why);
    // Forward: asks the actions; closes only when it was done.
    void accept() override;

signals:
    // Done; `message` says so for the operator ("Forwarded to 203 Anna, user-busy").
    void forwarded(const QString& message);

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;

private:
    void buildReasons(QWidget* box);
    void checkTarget();
    void fillMatches(const QString& text);
    void pick(int row);
    void chooseReason(const QString& reason);
    bool chooseReasonByKey(const QString& key);
    void showMessage(const QString& text);
    void updateRinging();
    void updateForwardButton();
    // "203 Anna Schmidt" for a number of the directory, the text as it is otherwise.
    QString targetLabel(const QString& to) const;

    ForwardCall m_call;
    OperatorActions& m_actions;
    std::vector<board::Extension> m_directory;
    QStringList m_reasons;
    QLabel* m_caller;
    QLabel* m_ringing;
    QLineEdit* m_target;
    QListWidget* m_matches;
    QLabel* m_targetIcon;
    QLabel* m_targetNote;
    QButtonGroup* m_reasonGroup;
    QList<QRadioButton*> m_reasonButtons;
    QComboBox* m_privacy;
    QCheckBox* m_historyInfo;
    QFrame* m_messageFrame;
    QLabel* m_message;
    QPushButton* m_forwardButton;
    QPushButton* m_cancelButton;
    Target m_targetState = Target::Empty;
    QString m_targetText;
    bool m_stopped = false;
    QTimer m_tick;
};

}  // namespace sb::ui
