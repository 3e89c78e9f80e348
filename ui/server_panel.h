#pragma once

#include <QDateTime>
#include <QDockWidget>
#include <QList>
#include <QStringList>
#include <QTimer>

#include <functional>

#include "ui/publication_table.h"
#include "ui/server_tables.h"

class QLabel;
class QSortFilterProxyModel;
class QTableView;

namespace sb::ui {

// For administrators in built-in server mode: what the server has now — its domain and
// listening addresses, the registrar's bindings, and the calls through the proxy with
// their running durations, and — with [publish] enabled — what the presence server holds
// for each published entity, failures marked. It knows no SIP objects: the application
// pushes plain rows (bindings and calls: full replacement each time; publications: one
// report at a time). Durations and expiries tick once a second, only while the panel can
// be seen.
class ServerPanel final : public QDockWidget {
    Q_OBJECT
public:
    using BindingRow = ui::BindingRow;
    using CallRow = ui::CallRow;
    static constexpr int kTickMs = 1000;

    explicit ServerPanel(QWidget* parent = nullptr);

    void setServerInfo(const QString& domain, const QStringList& listenAddresses);
    void setBindings(const QList<BindingRow>& rows);  // full replacement
    void setCalls(const QList<CallRow>& rows);        // full replacement
    // Publishing dialog-info to `target` ("udp:192.0.2.10:5060"): the Publishing table
    // is shown and the summary names the target; empty: not publishing (table hidden
    // until a report comes anyway).
    void setPublishing(const QString& target);
    // One publication's report, timed by the panel's clock; its entity's row changes in
    // place.
    void updatePublication(const PublicationUpdate& update);

    // The clock durations and expiries are measured on (default: the system's, UTC).
    void setClock(std::function<QDateTime()> now);
    // Measures durations and expiries again now; the timer does it every kTickMs.
    void refreshTimes();
    bool isTicking() const { return m_tick.isActive(); }

    // "switchboard.local — udp:127.0.0.1:5060 — 3 registered, 1 call", and when
    // publishing " — publishing to udp:192.0.2.10:5060, 2 failing"
    QString summaryText() const;
    BindingTableModel* bindingsModel() const { return m_bindings; }
    CallTableModel* callsModel() const { return m_calls; }
    QSortFilterProxyModel* bindingsProxy() const { return m_bindingsProxy; }
    QSortFilterProxyModel* callsProxy() const { return m_callsProxy; }
    QTableView* bindingsView() const { return m_bindingsView; }
    QTableView* callsView() const { return m_callsView; }
    PublicationTableModel* publicationsModel() const { return m_publications; }
    QSortFilterProxyModel* publicationsProxy() const { return m_publicationsProxy; }
    QTableView* publicationsView() const { return m_publicationsView; }
    // The Publishing table with its caption (hidden while not publishing).
    QWidget* publicationsBox() const { return m_publicationsBox; }

private:
    void updateSummary();

    std::function<QDateTime()> m_now;
    QString m_domain;
    QStringList m_listen;
    QString m_publishTarget;
    BindingTableModel* m_bindings;
    CallTableModel* m_calls;
    QSortFilterProxyModel* m_bindingsProxy;
    QSortFilterProxyModel* m_callsProxy;
    PublicationTableModel* m_publications;
    QSortFilterProxyModel* m_publicationsProxy;
    QLabel* m_summary;
    QTableView* m_bindingsView;
    QTableView* m_callsView;
    QTableView* m_publicationsView;
    QWidget* m_publicationsBox;
    QTimer m_tick;
};

}  // namespace sb::ui
