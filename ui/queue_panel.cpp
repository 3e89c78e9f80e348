#include "ui/queue_panel.h"

#include <QAction>
#include <QHBoxLayout>
#include <QLabel>
#include <QListView>
#include <QMenu>
#include <QToolButton>
#include <QVBoxLayout>

#include "ui/queue_delegate.h"
#include "ui/queue_model.h"

namespace sb::ui {

namespace {

// A button that shows its action's words and key ("Forward… [F]"), keyboard first.
QToolButton* buttonFor(QAction* action, const QString& text, QWidget* parent) {
    auto* button = new QToolButton(parent);
    // The button shows the action's icon text: the words and the key.
    action->setIconText(text);
    button->setDefaultAction(action);
    button->setToolButtonStyle(Qt::ToolButtonTextOnly);
    button->setFocusPolicy(Qt::NoFocus);  // the list keeps the focus and the keys
    button->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
    return button;
}

}  // namespace

QList<QueuePanel::RejectChoice> QueuePanel::rejectChoices() {
    return {{486, tr("486 &Busy Here")},
            {603, tr("603 &Decline")},
            {480, tr("480 Temporarily &Unavailable")},
            {404, tr("404 &Not Found")}};
}

QueuePanel::QueuePanel(QWidget* parent)
    : QDockWidget(tr("Call queue"), parent),
      m_model(new QueueModel(this)),
      m_delegate(new QueueDelegate(this)),
      m_header(new QLabel),
      m_view(new QListView),
      m_forward(new QAction(tr("Forward…"), this)),
      m_toPhone(new QAction(tr("Send to my phone"), this)),
      m_reject(new QAction(tr("Reject…"), this)),
      m_rejectMenu(new QMenu(this)) {
    setObjectName(QStringLiteral("queuePanel"));
    setFeatures(QDockWidget::DockWidgetClosable | QDockWidget::DockWidgetMovable |
                QDockWidget::DockWidgetFloatable);

    m_header->setObjectName(QStringLiteral("queueHeader"));
    m_header->setWordWrap(true);
    m_view->setObjectName(QStringLiteral("queueView"));
    m_view->setModel(m_model);
    m_view->setItemDelegate(m_delegate);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_view->setVerticalScrollMode(QAbstractItemView::ScrollPerPixel);
    m_view->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_view->setSpacing(2);
    m_view->setAccessibleName(tr("Calls waiting"));
    m_view->setMinimumWidth(m_view->fontMetrics().averageCharWidth() * 40);

    // Keys act on the list's current call only, so Enter on the board still picks up.
    m_forward->setObjectName(QStringLiteral("queueForwardAction"));
    m_forward->setShortcut(QKeySequence(Qt::Key_F));
    m_toPhone->setObjectName(QStringLiteral("queueToPhoneAction"));
    m_toPhone->setShortcuts({QKeySequence(Qt::Key_Enter), QKeySequence(Qt::Key_Return)});
    m_reject->setObjectName(QStringLiteral("queueRejectAction"));
    m_reject->setShortcut(QKeySequence(Qt::Key_Delete));
    for (QAction* action : {m_forward, m_toPhone, m_reject}) {
        action->setShortcutContext(Qt::WidgetShortcut);
        m_view->addAction(action);
    }
    connect(m_forward, &QAction::triggered, this, [this] {
        if (const auto call = currentCall()) emit forwardRequested(*call);
    });
    connect(m_toPhone, &QAction::triggered, this, &QueuePanel::sendCurrentToPhone);
    connect(m_reject, &QAction::triggered, this, &QueuePanel::chooseRejectStatus);
    connect(m_view, &QListView::doubleClicked, this, [this] {
        if (m_toPhone->isEnabled()) sendCurrentToPhone();
    });

    m_rejectMenu->setObjectName(QStringLiteral("queueRejectMenu"));
    m_rejectMenu->setTitle(tr("Reject with"));
    for (const RejectChoice& choice : rejectChoices()) {
        QAction* action = m_rejectMenu->addAction(choice.text);
        action->setData(choice.status);
        connect(action, &QAction::triggered, this,
                [this, status = choice.status] { rejectCurrent(status); });
    }

    auto* body = new QWidget(this);
    auto* layout = new QVBoxLayout(body);
    layout->setContentsMargins(6, 4, 6, 6);
    layout->setSpacing(4);
    layout->addWidget(m_header);
    layout->addWidget(m_view, 1);
    auto* buttons = new QHBoxLayout;
    buttons->setSpacing(4);
    buttons->addWidget(buttonFor(m_forward, tr("Forward… [F]"), body));
    buttons->addWidget(buttonFor(m_toPhone, tr("To my phone [Enter]"), body));
    buttons->addWidget(buttonFor(m_reject, tr("Reject… [Del]"), body));
    layout->addLayout(buttons);
    setWidget(body);
    setFocusProxy(m_view);

    connect(m_view->selectionModel(), &QItemSelectionModel::currentChanged, this,
            &QueuePanel::updateActions);
    connect(m_model, &QAbstractItemModel::dataChanged, this, &QueuePanel::updateActions);
    for (auto signal : {&QAbstractItemModel::rowsInserted, &QAbstractItemModel::rowsRemoved}) {
        connect(m_model, signal, this, [this] {
            // Keep a current call for the keyboard whenever the queue has any.
            if (!m_view->currentIndex().isValid() && m_model->rowCount() > 0)
                m_view->setCurrentIndex(m_model->index(0));
            updateHeader();
            updateActions();
            updateTicking();
        });
    }
    connect(m_model, &QAbstractItemModel::modelReset, this, [this] {
        if (m_model->rowCount() > 0) m_view->setCurrentIndex(m_model->index(0));
        updateHeader();
        updateActions();
        updateTicking();
    });

    m_tick.setInterval(kTickMs);
    connect(&m_tick, &QTimer::timeout, m_model, &QueueModel::refreshTimes);
    connect(this, &QDockWidget::visibilityChanged, this, &QueuePanel::updateTicking);

    updateHeader();
    updateActions();
}

void QueuePanel::setActions(OperatorActions* actions) {
    if (m_actions) disconnect(m_actions, nullptr, this, nullptr);
    m_actions = actions;
    if (m_actions) {
        connect(m_actions, &OperatorActions::callChanged, this, &QueuePanel::onCallChanged);
        m_model->setCalls(m_actions->queue());
    } else {
        m_model->setCalls({});
    }
    updateActions();
}

void QueuePanel::setScheme(LampStyle::Scheme scheme) {
    m_delegate->setScheme(scheme);
    m_view->viewport()->update();
}

std::optional<QueuedCall> QueuePanel::currentCall() const {
    if (const QueuedCall* call = m_model->callAt(m_view->currentIndex().row())) return *call;
    return std::nullopt;
}

std::optional<qint64> QueuePanel::waitingSeconds(quint64 call) const {
    const int row = m_model->rowOf(call);
    if (row < 0) return std::nullopt;
    return m_model->index(row).data(QueueModel::WaitingSecondsRole).toLongLong();
}

QString QueuePanel::headerText() const {
    return m_header->text();
}

void QueuePanel::sendCurrentToPhone() {
    const auto call = currentCall();
    if (!call || !m_actions) return;
    report(*call, m_actions->sendToPhone(call->call));
}

void QueuePanel::rejectCurrent(int status) {
    const auto call = currentCall();
    if (!call || !m_actions) return;
    report(*call, m_actions->reject(call->call, status));
}

void QueuePanel::chooseRejectStatus() {
    if (!m_reject->isEnabled()) return;
    // Under the current call, so the choice is seen next to what it applies to.
    const QRect row = m_view->visualRect(m_view->currentIndex());
    const QPoint at = row.isValid() ? row.bottomLeft() + QPoint(12, 0) : QPoint(0, 0);
    m_rejectMenu->popup(m_view->viewport()->mapToGlobal(at));
    if (!m_rejectMenu->actions().isEmpty())
        m_rejectMenu->setActiveAction(m_rejectMenu->actions().constFirst());
}

void QueuePanel::report(const QueuedCall& call, const Result<QString>& result) {
    const QString who = QueueModel::callerText(call);
    if (result)
        emit notice(tr("%1: %2").arg(who, *result), false);
    else
        emit notice(tr("%1: %2").arg(who, result.error().reason), true);
}

void QueuePanel::onCallChanged(const QueuedCall& call) {
    const int row = m_model->rowOf(call.call);
    const QString before = row >= 0 ? m_model->callAt(row)->outcome : QString();
    m_model->update(call);
    const QString who = QueueModel::callerText(call);
    if (call.hasEnded()) {
        // What became of a call she sent on: answered, the caller gave up, or back at its
        // extension because her phone did not take it.
        if (!call.outcome.isEmpty())
            emit notice(tr("%1: %2").arg(who, call.outcome),
                        call.state == u"returned" || call.state == u"failed");
    } else if (call.queued && !call.outcome.isEmpty() && call.outcome != before) {
        emit notice(tr("%1 is back in the queue: %2").arg(who, call.outcome), true);
    }
}

void QueuePanel::updateHeader() {
    const int count = m_model->rowCount();
    m_header->setText(count == 0 ? tr("No calls waiting. Calls to the reception number wait here.")
                      : count == 1 ? tr("1 call waiting")
                                   : tr("%n calls waiting", nullptr, count));
}

void QueuePanel::updateActions() {
    const auto call = currentCall();
    QString why;
    if (!m_actions)
        why = tr("Operator actions need a running session");
    else if (!call)
        why = tr("No call chosen in the queue");
    const bool can = why.isEmpty();
    const bool toPhone = can && call->state != u"to-phone" && call->state != u"picking-up";
    m_forward->setEnabled(can);
    m_toPhone->setEnabled(toPhone);
    m_reject->setEnabled(can);
    m_forward->setToolTip(can ? tr("Forward the call with a reason (F)") : why);
    m_toPhone->setToolTip(toPhone ? tr("Ring your own phone with the call (Enter)")
                          : can   ? tr("The call already rings your phone")
                                  : why);
    m_reject->setToolTip(can ? tr("End the call with a status you choose (Delete)") : why);
}

void QueuePanel::updateTicking() {
    // Waiting times move only while someone can see them.
    const bool tick = m_model->rowCount() > 0 && isVisible();
    if (tick && !m_tick.isActive()) {
        m_model->refreshTimes();
        m_tick.start();
    } else if (!tick) {
        m_tick.stop();
    }
}

}  // namespace sb::ui
