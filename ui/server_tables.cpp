#include "ui/server_tables.h"

#include <algorithm>

#include "ui/board_model.h"
#include "ui/plain_text.h"

namespace sb::ui {

namespace {

// The user part of a SIP URI ("sip:202@host;x=y" → "202"), or the text as it is when it
// has none: the panel names parties the way the board does.
QString userPartOf(const QString& uri) {
    QStringView view(uri);
    const qsizetype colon = view.indexOf(u':');
    if (colon > 0 && colon < 6) view = view.mid(colon + 1);
    const qsizetype at = view.indexOf(u'@');
    if (at > 0) view = view.left(at);
    const qsizetype semi = view.indexOf(u';');
    if (semi > 0) view = view.left(semi);
    return view.toString();
}

QString partyText(const QString& uri, const QString& display) {
    const QString user = userPartOf(uri);
    const QString name = display.trimmed();
    if (name.isEmpty() || name == user) return user;
    if (user.isEmpty()) return name;
    return CallTableModel::tr("%1 · %2").arg(name, user);
}

// Where a call is in its life, for sorting: the order RFC 4235 §3.7.1 states follow.
int stateOrder(const QString& state) {
    if (state == u"trying") return 0;
    if (state == u"ringing") return 1;
    if (state == u"connected") return 2;
    if (state == u"ended") return 3;
    return 4;
}

}  // namespace

// --- bindings ------------------------------------------------------------------------

BindingTableModel::BindingTableModel(QObject* parent) : ServerTableModel(parent) {}

void BindingTableModel::setRows(const QList<BindingRow>& rows, const QDateTime& now) {
    m_given = now;
    m_now = now;
    replaceRows(m_rows, rows);
}

void BindingTableModel::setNow(const QDateTime& now) {
    m_now = now;
    if (!m_rows.isEmpty())
        emit dataChanged(index(0, ExpiresColumn), index(int(m_rows.size()) - 1, ExpiresColumn));
}

qint64 BindingTableModel::expiresIn(int row) const {
    if (row < 0 || row >= m_rows.size()) return 0;
    const qint64 passed = m_given.isValid() && m_now.isValid() ? m_given.secsTo(m_now) : 0;
    return std::max<qint64>(m_rows.at(row).expiresIn - std::max<qint64>(passed, 0), 0);
}

int BindingTableModel::registeredUsers() const {
    QStringList users;
    for (const BindingRow& row : m_rows)
        if (!users.contains(row.user)) users << row.user;
    return int(users.size());
}

int BindingTableModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : int(m_rows.size());
}

int BindingTableModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : kColumnCount;
}

QVariant BindingTableModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const BindingRow& row = m_rows.at(index.row());
    switch (role) {
        case Qt::ToolTipRole:
            return plainToolTip(data(index, Qt::DisplayRole).toString());
        case Qt::DisplayRole:
            switch (Column(index.column())) {
                case UserColumn:
                    return row.user;
                case ContactColumn:
                    return row.contact;
                case SourceColumn:
                    return row.source;
                case ExpiresColumn:
                    return QString::number(expiresIn(index.row()));
                case UserAgentColumn:
                    return row.userAgent;
            }
            return {};
        case kServerSortRole:
            if (index.column() == ExpiresColumn) return expiresIn(index.row());
            return data(index, Qt::DisplayRole).toString().toLower();
        case Qt::TextAlignmentRole:
            if (index.column() == ExpiresColumn)
                return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
            return {};
        default:
            return {};
    }
}

QVariant BindingTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal) return {};
    if (role == Qt::TextAlignmentRole && section == ExpiresColumn)
        return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
    if (role != Qt::DisplayRole) return {};
    switch (Column(section)) {
        case UserColumn:
            return tr("User");
        case ContactColumn:
            return tr("Contact");
        case SourceColumn:
            return tr("From");
        case ExpiresColumn:
            return tr("Expires in (s)");
        case UserAgentColumn:
            return tr("User agent");
    }
    return {};
}

// --- calls ---------------------------------------------------------------------------

CallTableModel::CallTableModel(QObject* parent) : ServerTableModel(parent) {}

void CallTableModel::setRows(const QList<CallRow>& rows, const QDateTime& now) {
    m_now = now;
    replaceRows(m_rows, rows);
}

void CallTableModel::setNow(const QDateTime& now) {
    m_now = now;
    if (!m_rows.isEmpty())
        emit dataChanged(index(0, SinceColumn), index(int(m_rows.size()) - 1, SinceColumn));
}

int CallTableModel::liveCalls() const {
    return int(std::count_if(m_rows.cbegin(), m_rows.cend(),
                             [](const CallRow& row) { return row.state != u"ended"; }));
}

std::optional<qint64> CallTableModel::secondsOf(int row) const {
    if (row < 0 || row >= m_rows.size()) return std::nullopt;
    const CallRow& call = m_rows.at(row);
    if (call.state == u"ended") return std::nullopt;
    const QDateTime from =
        call.state == u"connected" && call.answered ? *call.answered : call.started;
    if (!from.isValid() || !m_now.isValid()) return std::nullopt;
    return std::max<qint64>(from.secsTo(m_now), 0);
}

QString CallTableModel::stateText(const QString& state) {
    if (state == u"trying") return tr("Trying");
    if (state == u"ringing") return tr("Ringing");
    if (state == u"connected") return tr("Connected");
    if (state == u"ended") return tr("Ended");
    return state;
}

int CallTableModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : int(m_rows.size());
}

int CallTableModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : kColumnCount;
}

QVariant CallTableModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const CallRow& row = m_rows.at(index.row());
    switch (role) {
        case Qt::DisplayRole:
            switch (Column(index.column())) {
                case CallerColumn:
                    return partyText(row.caller, row.callerDisplay);
                case CalleeColumn:
                    return partyText(row.callee, row.calleeDisplay);
                case StateColumn:
                    return stateText(row.state);
                case SinceColumn: {
                    const std::optional<qint64> seconds = secondsOf(index.row());
                    return seconds ? BoardModel::durationText(*seconds) : QString();
                }
            }
            return {};
        case Qt::ToolTipRole:
            // The full identities, for callers from other domains.
            switch (Column(index.column())) {
                case CallerColumn:
                    return plainToolTip(row.callerDisplay.isEmpty()
                                            ? row.caller
                                            : tr("%1 <%2>").arg(row.callerDisplay, row.caller));
                case CalleeColumn:
                    return plainToolTip(row.calleeDisplay.isEmpty()
                                            ? row.callee
                                            : tr("%1 <%2>").arg(row.calleeDisplay, row.callee));
                case StateColumn:
                case SinceColumn:
                    return plainToolTip(data(index, Qt::DisplayRole).toString());
            }
            return {};
        case kServerSortRole:
            switch (Column(index.column())) {
                case StateColumn:
                    return stateOrder(row.state);
                case SinceColumn:
                    return secondsOf(index.row()).value_or(-1);
                case CallerColumn:
                case CalleeColumn:
                    return data(index, Qt::DisplayRole).toString().toLower();
            }
            return {};
        case Qt::TextAlignmentRole:
            if (index.column() == SinceColumn)
                return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
            return {};
        default:
            return {};
    }
}

QVariant CallTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal) return {};
    if (role == Qt::TextAlignmentRole && section == SinceColumn)
        return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
    if (role != Qt::DisplayRole) return {};
    switch (Column(section)) {
        case CallerColumn:
            return tr("Caller");
        case CalleeColumn:
            return tr("Callee");
        case StateColumn:
            return tr("State");
        case SinceColumn:
            return tr("Since");
    }
    return {};
}

}  // namespace sb::ui
