#pragma once

#include <QSortFilterProxyModel>
#include <QString>

#include <optional>

namespace sb::ui {

// What the board shows of the model: type-to-filter on name or number (case-insensitive,
// anywhere in either) and the group of the selected tab. Keeps directory order.
class BoardFilterProxy final : public QSortFilterProxyModel {
    Q_OBJECT
public:
    explicit BoardFilterProxy(QObject* parent = nullptr);

    void setFilterText(const QString& text);
    QString filterText() const { return m_text; }
    // nullopt: every group ("All"); "": the extensions without a group.
    void setGroup(const std::optional<QString>& group);
    std::optional<QString> group() const { return m_group; }

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const override;

private:
    QString m_text;  // lower case, trimmed
    std::optional<QString> m_group;
};

}  // namespace sb::ui
