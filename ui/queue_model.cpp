#include "ui/queue_model.h"

#include <algorithm>

#include "ui/board_model.h"
#include "ui/plain_text.h"

namespace sb::ui {

namespace {

// Longest waiting first; the call id breaks ties so the order never flickers.
bool waitsLonger(const QueuedCall& a, const QueuedCall& b) {
    if (a.since != b.since) return a.since < b.since;
    return a.call < b.call;
}

}  // namespace

QueueModel::QueueModel(QObject* parent)
    : QAbstractListModel(parent), m_now([] { return QDateTime::currentDateTimeUtc(); }) {}

int QueueModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : int(m_calls.size());
}

const QueuedCall* QueueModel::callAt(int row) const {
    return row >= 0 && row < m_calls.size() ? &m_calls.at(row) : nullptr;
}

int QueueModel::rowOf(quint64 call) const {
    for (int row = 0; row < m_calls.size(); ++row)
        if (m_calls.at(row).call == call) return row;
    return -1;
}

QVariant QueueModel::data(const QModelIndex& index, int role) const {
    const QueuedCall* call = index.isValid() ? callAt(index.row()) : nullptr;
    if (!call) return {};
    switch (role) {
        case Qt::DisplayRole:
        case Qt::AccessibleTextRole:
            return accessibleText(*call);
        case Qt::ToolTipRole:
            return plainToolTip(accessibleText(*call));
        case CallRole:
            return call->call;
        case StateRole:
            return call->state;
        case CallerRole:
            return callerText(*call);
        case CallerNameRole: {
            const QString display = call->callerDisplay.trimmed();
            if (!display.isEmpty()) return display;
            const QString user = userPartOf(call->callerUri);
            return user.isEmpty() ? tr("Unknown caller") : user;
        }
        case CallerNumberRole: {
            const QString user = userPartOf(call->callerUri);
            const QString display = call->callerDisplay.trimmed();
            return display.isEmpty() || display == user ? QString() : user;
        }
        case CalledRole:
            return userPartOf(call->calledUri);
        case WaitingSecondsRole:
            return waitingSeconds(*call);
        case WaitingTextRole:
            return BoardModel::durationText(waitingSeconds(*call));
        case StateTextRole:
            return stateText(*call);
        case HistoryTextRole:
            return call->history.join(tr("; "));
        case HistoryRole:
            return call->history;
        case OutcomeRole:
            return call->outcome;
        case SinceRole:
            return call->since;
        default:
            return {};
    }
}

QHash<int, QByteArray> QueueModel::roleNames() const {
    QHash<int, QByteArray> names = QAbstractListModel::roleNames();
    names.insert(CallRole, "call");
    names.insert(StateRole, "state");
    names.insert(CallerRole, "caller");
    names.insert(CallerNameRole, "callerName");
    names.insert(CallerNumberRole, "callerNumber");
    names.insert(CalledRole, "called");
    names.insert(WaitingSecondsRole, "waitingSeconds");
    names.insert(WaitingTextRole, "waitingText");
    names.insert(StateTextRole, "stateText");
    names.insert(HistoryTextRole, "history");
    names.insert(HistoryRole, "historyList");
    names.insert(OutcomeRole, "outcome");
    names.insert(SinceRole, "since");
    return names;
}

void QueueModel::setCalls(const QList<QueuedCall>& calls) {
    beginResetModel();
    m_calls.clear();
    for (const QueuedCall& call : calls)
        if (belongs(call)) m_calls << call;
    std::stable_sort(m_calls.begin(), m_calls.end(), waitsLonger);
    endResetModel();
}

void QueueModel::update(const QueuedCall& call) {
    const int row = rowOf(call.call);
    if (!belongs(call)) {
        if (row < 0) return;
        beginRemoveRows({}, row, row);
        m_calls.removeAt(row);
        endRemoveRows();
        return;
    }
    if (row >= 0 && m_calls.at(row).since == call.since) {
        m_calls[row] = call;
        emit dataChanged(index(row), index(row));
        return;
    }
    // New, or waiting since another moment (a recall): take its place in the order.
    if (row >= 0) {
        beginRemoveRows({}, row, row);
        m_calls.removeAt(row);
        endRemoveRows();
    }
    const auto at = std::upper_bound(m_calls.begin(), m_calls.end(), call, waitsLonger);
    const int insert = int(at - m_calls.begin());
    beginInsertRows({}, insert, insert);
    m_calls.insert(insert, call);
    endInsertRows();
}

void QueueModel::setClock(std::function<QDateTime()> now) {
    m_now = std::move(now);
    refreshTimes();
}

void QueueModel::refreshTimes() {
    if (m_calls.isEmpty()) return;
    emit dataChanged(index(0), index(int(m_calls.size()) - 1),
                     {WaitingSecondsRole, WaitingTextRole, Qt::DisplayRole, Qt::AccessibleTextRole,
                      Qt::ToolTipRole});
}

qint64 QueueModel::waitingSeconds(const QueuedCall& call) const {
    if (!call.since.isValid()) return 0;
    return std::max<qint64>(0, call.since.secsTo(m_now()));
}

QString QueueModel::userPartOf(const QString& uri) {
    QStringView view(uri);
    const qsizetype colon = view.indexOf(u':');
    if (colon > 0 && colon < 6) view = view.mid(colon + 1);
    const qsizetype at = view.indexOf(u'@');
    if (at > 0) view = view.left(at);
    const qsizetype semi = view.indexOf(u';');
    if (semi > 0) view = view.left(semi);
    return view.toString();
}

QString QueueModel::callerText(const QueuedCall& call) {
    const QString user = userPartOf(call.callerUri);
    const QString display = call.callerDisplay.trimmed();
    if (display.isEmpty() || display == user) return user.isEmpty() ? tr("Unknown caller") : user;
    if (user.isEmpty()) return display;
    return tr("%1 · %2").arg(display, user);
}

QString QueueModel::stateText(const QueuedCall& call) {
    if (call.state == u"forwarding")
        return call.target.isEmpty() ? tr("Forwarding") : tr("Forwarding to %1").arg(call.target);
    if (call.state == u"to-phone" || call.state == u"picking-up")
        return call.target.isEmpty() ? tr("Ringing your phone")
                                     : tr("Ringing your phone (%1)").arg(call.target);
    if (call.state == u"answered") return tr("Answered");
    if (call.state == u"gone") return tr("Gone");
    if (call.state == u"returned") return tr("Ringing its extension again");
    if (call.state == u"forwarded") return call.outcome.isEmpty() ? tr("Forwarded") : call.outcome;
    if (call.state == u"failed") return tr("Not picked up");
    // Waiting: the operator's phone may ring in parallel ([attendant] ring_phone).
    return call.target.isEmpty() ? tr("Waiting") : tr("Waiting, ringing %1").arg(call.target);
}

QString QueueModel::accessibleText(const QueuedCall& call) const {
    QString text = tr("%1, called %2: %3, for %4")
                       .arg(callerText(call), userPartOf(call.calledUri), stateText(call),
                            BoardModel::durationText(waitingSeconds(call)));
    if (!call.history.isEmpty()) text += tr("; came %1").arg(call.history.join(tr("; ")));
    if (!call.outcome.isEmpty()) text += tr("; back: %1").arg(call.outcome);
    return text;
}

}  // namespace sb::ui
