#include "ui/publication_table.h"

#include <QApplication>
#include <QColor>
#include <QIcon>
#include <QStyle>

#include <algorithm>

#include "ui/plain_text.h"
#include "ui/server_tables.h"

namespace sb::ui {

namespace {

const QString kTerminated = QStringLiteral("terminated");

// How much a held state tells a watcher, most first: a ringing dialog must be seen even
// beside a call in progress (DESIGN.md "Lamps": ringing wins over busy).
int stateRank(const QString& state) {
    if (state == u"early") return 0;
    if (state == u"proceeding") return 1;
    if (state == u"trying") return 2;
    if (state == u"confirmed") return 3;
    if (state == u"terminated") return 4;
    return 5;
}

// Sorting the result column: failures first, they are what the table is looked at for.
int resultRank(PublicationUpdate::Result result) {
    switch (result) {
        case PublicationUpdate::Result::Failed:
            return 0;
        case PublicationUpdate::Result::Removed:
            return 1;
        case PublicationUpdate::Result::Published:
            return 2;
    }
    return 3;
}

// A tint that reads on the light and the dark palette alike; the icon and the text say
// the same for those who cannot tell it.
QColor failureTint() {
    return QColor(220, 53, 69, 56);
}

}  // namespace

PublicationTableModel::PublicationTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void PublicationTableModel::setLocalDomain(const QString& domain) {
    m_domain = domain.toLower();
    if (!m_rows.isEmpty())
        emit dataChanged(index(0, EntityColumn), index(int(m_rows.size()) - 1, EntityColumn));
}

void PublicationTableModel::setMaxEntities(int max) {
    m_maxEntities = std::max(max, 1);
    while (m_rows.size() > m_maxEntities)
        makeRoom();
}

int PublicationTableModel::rowOf(const QString& entity) const {
    return m_rowOf.value(entity, -1);
}

void PublicationTableModel::update(const PublicationUpdate& update, const QDateTime& when) {
    int row = rowOf(update.entity);
    if (row < 0) row = addRow(update.entity);
    Entity& entity = m_rows[row];
    const bool wasFailing =
        entity.when.isValid() && entity.last.result == PublicationUpdate::Result::Failed;

    auto dialog = std::find_if(entity.dialogs.begin(), entity.dialogs.end(),
                               [&](const Dialog& d) { return d.id == update.dialog; });
    const bool known = dialog != entity.dialogs.end();
    auto track = [&]() -> Dialog& {
        if (known) return *dialog;
        // Bounded: a dialog whose end never came back (the server was down) makes room.
        if (int(entity.dialogs.size()) >= kMaxDialogsPerEntity)
            entity.dialogs.erase(entity.dialogs.begin());
        entity.dialogs.push_back(Dialog{update.dialog, {}, {}});
        return entity.dialogs.back();
    };
    switch (update.result) {
        case PublicationUpdate::Result::Published:
            if (update.dialogState == kTerminated) {
                // The end is at the server (briefly, then it runs out): the dialog is over.
                if (known) entity.dialogs.erase(dialog);
                entity.lastHeld = kTerminated;
            } else {
                Dialog& d = track();
                d.held = update.dialogState;
                d.attempted.clear();
            }
            break;
        case PublicationUpdate::Result::Failed:
            track().attempted = update.dialogState;
            ++entity.failures;
            break;
        case PublicationUpdate::Result::Removed:
            if (known) entity.dialogs.erase(dialog);
            if (entity.dialogs.empty()) entity.lastHeld.clear();
            break;
    }
    entity.last = update;
    entity.when = when;
    const bool failing = update.result == PublicationUpdate::Result::Failed;
    m_failing += int(failing) - int(wasFailing);
    emit dataChanged(index(row, 0), index(row, kColumnCount - 1));
}

int PublicationTableModel::addRow(const QString& uri) {
    if (m_rows.size() >= m_maxEntities) makeRoom();
    const int row = int(m_rows.size());
    beginInsertRows({}, row, row);
    Entity entity;
    entity.uri = uri;
    m_rows.append(std::move(entity));
    m_rowOf.insert(uri, row);
    endInsertRows();
    return row;
}

void PublicationTableModel::makeRoom() {
    if (m_rows.isEmpty()) return;
    // The least recently updated entity that is not failing; a failure stays in sight.
    int victim = -1;
    for (int row = 0; row < m_rows.size(); ++row) {
        const Entity& entity = m_rows.at(row);
        if (entity.last.result == PublicationUpdate::Result::Failed && entity.when.isValid())
            continue;
        if (victim < 0 || entity.when < m_rows.at(victim).when) victim = row;
    }
    if (victim < 0) victim = 0;  // all failing: the oldest row goes
    if (isFailing(victim)) --m_failing;
    beginRemoveRows({}, victim, victim);
    m_rowOf.remove(m_rows.at(victim).uri);
    m_rows.removeAt(victim);
    for (int row = victim; row < m_rows.size(); ++row)
        m_rowOf[m_rows.at(row).uri] = row;
    endRemoveRows();
}

QStringList PublicationTableModel::heldStates(int row) const {
    if (row < 0 || row >= m_rows.size()) return {};
    const Entity& entity = m_rows.at(row);
    QStringList states;
    for (const Dialog& dialog : entity.dialogs)
        if (!dialog.held.isEmpty() && !states.contains(dialog.held)) states << dialog.held;
    if (states.isEmpty() && !entity.lastHeld.isEmpty()) states << entity.lastHeld;
    std::stable_sort(states.begin(), states.end(), [](const QString& a, const QString& b) {
        return stateRank(a) < stateRank(b);
    });
    return states;
}

bool PublicationTableModel::isFailing(int row) const {
    if (row < 0 || row >= m_rows.size()) return false;
    const Entity& entity = m_rows.at(row);
    return entity.when.isValid() && entity.last.result == PublicationUpdate::Result::Failed;
}

QString PublicationTableModel::resultText(int row) const {
    if (row < 0 || row >= m_rows.size()) return {};
    const PublicationUpdate& last = m_rows.at(row).last;
    switch (last.result) {
        case PublicationUpdate::Result::Published:
            return tr("Published");
        case PublicationUpdate::Result::Removed:
            return tr("Removed");
        case PublicationUpdate::Result::Failed: {
            QString why = last.reason.trimmed();
            if (last.code != 0 && !why.startsWith(QString::number(last.code)))
                why = why.isEmpty() ? QString::number(last.code)
                                    : tr("%1 %2").arg(QString::number(last.code), why);
            return why.isEmpty() ? tr("Failed") : tr("Failed: %1").arg(why);
        }
    }
    return {};
}

QString PublicationTableModel::stateText(const QString& dialogState) {
    if (dialogState == u"trying") return tr("Trying");
    if (dialogState == u"proceeding") return tr("Proceeding");
    if (dialogState == u"early") return tr("Early");
    if (dialogState == u"confirmed") return tr("Confirmed");
    if (dialogState == u"terminated") return tr("Terminated");
    return dialogState;
}

QString PublicationTableModel::shownEntity(const QString& uri) const {
    QStringView view(uri);
    if (view.startsWith(u"sip:", Qt::CaseInsensitive))
        view = view.mid(4);
    else if (view.startsWith(u"sips:", Qt::CaseInsensitive))
        view = view.mid(5);
    const qsizetype semi = view.indexOf(u';');
    if (semi >= 0) view = view.left(semi);
    const qsizetype at = view.indexOf(u'@');
    if (at > 0 && !m_domain.isEmpty() &&
        view.mid(at + 1).compare(m_domain, Qt::CaseInsensitive) == 0)
        return view.left(at).toString();
    return view.toString();
}

QString PublicationTableModel::publishedText(int row) const {
    QStringList shown;
    for (const QString& state : heldStates(row))
        shown << stateText(state);
    return shown.isEmpty() ? tr("None") : shown.join(tr(", "));
}

QString PublicationTableModel::publishedToolTip(const Entity& entity) const {
    QStringList lines;
    for (const Dialog& dialog : entity.dialogs) {
        const QString held =
            dialog.held.isEmpty() ? tr("nothing accepted yet") : stateText(dialog.held);
        lines << (dialog.attempted.isEmpty()
                      ? tr("Dialog %1: %2").arg(dialog.id, held)
                      : tr("Dialog %1: %2 (%3 not accepted yet)")
                            .arg(dialog.id, held, stateText(dialog.attempted)));
    }
    if (lines.isEmpty()) {
        lines << (entity.lastHeld.isEmpty()
                      ? tr("The presence server holds no dialog of %1").arg(entity.uri)
                      : tr("The end of the last call is published (it runs out shortly)"));
    }
    return lines.join(QLatin1Char('\n'));
}

QString PublicationTableModel::resultToolTip(const Entity& entity) const {
    const PublicationUpdate& last = entity.last;
    QString text;
    switch (last.result) {
        case PublicationUpdate::Result::Published:
            text = tr("The presence server accepted %1 for dialog %2")
                       .arg(stateText(last.dialogState), last.dialog);
            break;
        case PublicationUpdate::Result::Removed:
            text = tr("Dialog %1 was removed from the presence server").arg(last.dialog);
            break;
        case PublicationUpdate::Result::Failed:
            text = tr("Publishing %1 for dialog %2 failed: %3\nSwitchboard tries again with "
                      "the newest state.")
                       .arg(stateText(last.dialogState), last.dialog,
                            last.reason.isEmpty() ? QString::number(last.code) : last.reason);
            break;
    }
    if (entity.failures > 0)
        text += QLatin1Char('\n') + tr("%n failure(s) since start", nullptr, entity.failures);
    return text;
}

int PublicationTableModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : int(m_rows.size());
}

int PublicationTableModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : kColumnCount;
}

QVariant PublicationTableModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Entity& entity = m_rows.at(index.row());
    const bool failing = isFailing(index.row());
    switch (role) {
        case Qt::DisplayRole:
            switch (Column(index.column())) {
                case EntityColumn:
                    return shownEntity(entity.uri);
                case PublishedColumn:
                    return publishedText(index.row());
                case ResultColumn:
                    return resultText(index.row());
                case WhenColumn:
                    return entity.when.isValid()
                               ? entity.when.toLocalTime().toString(QStringLiteral("HH:mm:ss"))
                               : QString();
            }
            return {};
        case Qt::ToolTipRole:
            switch (Column(index.column())) {
                case EntityColumn:
                    return plainToolTip(entity.uri);
                case PublishedColumn:
                    return plainToolTip(publishedToolTip(entity));
                case ResultColumn:
                    return plainToolTip(resultToolTip(entity));
                case WhenColumn:
                    return entity.when.toLocalTime().toString(Qt::ISODate);
            }
            return {};
        case Qt::DecorationRole:
            if (failing && index.column() == ResultColumn)
                return QApplication::style()->standardIcon(QStyle::SP_MessageBoxWarning);
            return {};
        case Qt::BackgroundRole:
            if (failing) return failureTint();
            return {};
        case kPublicationFailedRole:
            return failing;
        case kServerSortRole:
            switch (Column(index.column())) {
                case EntityColumn:
                    return shownEntity(entity.uri).toLower();
                case PublishedColumn: {
                    const QStringList held = heldStates(index.row());
                    return held.isEmpty() ? stateRank({}) : stateRank(held.constFirst());
                }
                case ResultColumn:
                    return resultRank(entity.last.result);
                case WhenColumn:
                    return entity.when.toMSecsSinceEpoch();
            }
            return {};
        default:
            return {};
    }
}

QVariant PublicationTableModel::headerData(int section, Qt::Orientation orientation,
                                           int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
    switch (Column(section)) {
        case EntityColumn:
            return tr("Entity");
        case PublishedColumn:
            return tr("Held at server");
        case ResultColumn:
            return tr("Last result");
        case WhenColumn:
            return tr("When");
    }
    return {};
}

}  // namespace sb::ui
