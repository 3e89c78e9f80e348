#include "ui/board_filter_proxy.h"

#include "ui/board_model.h"

namespace sb::ui {

BoardFilterProxy::BoardFilterProxy(QObject* parent) : QSortFilterProxyModel(parent) {
    // Only these roles decide the filter, so lamp changes (other roles) are forwarded
    // without re-filtering: the proxy stays cheap at 1,000 changes a second.
    setFilterRole(BoardModel::FilterKeyRole);
    setDynamicSortFilter(true);
}

void BoardFilterProxy::setFilterText(const QString& text) {
    const QString normalised = text.trimmed().toLower();
    if (normalised == m_text) return;
    m_text = normalised;
    invalidateFilter();
}

void BoardFilterProxy::setGroup(const std::optional<QString>& group) {
    if (group == m_group) return;
    m_group = group;
    invalidateFilter();
}

bool BoardFilterProxy::filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const {
    const QModelIndex index = sourceModel()->index(sourceRow, 0, sourceParent);
    if (m_group && index.data(BoardModel::GroupRole).toString() != *m_group) return false;
    if (m_text.isEmpty()) return true;
    return index.data(BoardModel::NumberRole).toString().contains(m_text, Qt::CaseInsensitive) ||
           index.data(BoardModel::NameRole).toString().contains(m_text, Qt::CaseInsensitive);
}

}  // namespace sb::ui
