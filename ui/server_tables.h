#pragma once

#include <QAbstractTableModel>
#include <QDateTime>
#include <QList>
#include <QString>

#include <algorithm>
#include <optional>

namespace sb::ui {

// One registered contact of a user (RFC 3261 §10.3), as the built-in server's panel shows
// it. Plain values: the application fills them from the registrar; the UI knows no SIP.
struct BindingRow {
    QString user;          // "201"
    QString contact;       // the Contact URI as bound, "sip:201@127.0.0.1:5062"
    QString source;        // where the REGISTER came from, "udp:127.0.0.1:5062"
    QString userAgent;     // its User-Agent, may be empty
    qint64 expiresIn = 0;  // seconds left when the row was given
};

// One call the built-in proxy carries (its dialog as the tracker sees it).
struct CallRow {
    QString caller;         // URI or user, "sip:201@switchboard.local"
    QString callerDisplay;  // display name, may be empty
    QString callee;         // the AoR the call was for, not the contact
    QString calleeDisplay;
    QString state;  // "trying", "ringing" (early), "connected" (confirmed), "ended"
    QDateTime started;
    std::optional<QDateTime> answered;
};

// The role that the server tables sort by: numbers as numbers (seconds), states in the
// order a call goes through them, names case-insensitively by their shown text.
inline constexpr int kServerSortRole = Qt::UserRole;

// Common to the panel's tables: rows are replaced whole, but with row-level signals
// instead of a reset, so that the views keep their selection and scroll position across
// the pushes that come with every change.
class ServerTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    using QAbstractTableModel::QAbstractTableModel;

protected:
    template <typename Row>
    void replaceRows(QList<Row>& rows, const QList<Row>& fresh) {
        const int before = int(rows.size());
        const int after = int(fresh.size());
        if (after < before) {
            beginRemoveRows({}, after, before - 1);
            rows.remove(after, before - after);
            endRemoveRows();
        }
        const int kept = std::min(before, after);
        for (int row = 0; row < kept; ++row)
            rows[row] = fresh.at(row);
        if (kept > 0) emit dataChanged(index(0, 0), index(kept - 1, columnCount() - 1));
        if (after > before) {
            beginInsertRows({}, before, after - 1);
            rows.append(fresh.mid(before));
            endInsertRows();
        }
    }
};

// The registrar's bindings as a table. Rows are replaced whole (setRows); the seconds
// left count down against the time given to setNow(), so the panel stays live between
// two pushes from the application.
class BindingTableModel final : public ServerTableModel {
    Q_OBJECT
public:
    enum Column { UserColumn, ContactColumn, SourceColumn, ExpiresColumn, UserAgentColumn };
    static constexpr int kColumnCount = 5;

    explicit BindingTableModel(QObject* parent = nullptr);

    // Replaces every row; `now` is when their expiresIn was measured.
    void setRows(const QList<BindingRow>& rows, const QDateTime& now);
    const QList<BindingRow>& rows() const { return m_rows; }
    // Moves the clock the expiry counts down against; only the expiry column changes.
    void setNow(const QDateTime& now);
    // Seconds left for a row at the current time, never below zero.
    qint64 expiresIn(int row) const;
    // How many distinct users have at least one binding.
    int registeredUsers() const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

private:
    QList<BindingRow> m_rows;
    QDateTime m_given;  // when the rows' expiresIn were measured
    QDateTime m_now;
};

// The calls through the proxy as a table: caller, callee, state, and for how long (since
// the answer once connected, since the start before). Rows are replaced whole.
class CallTableModel final : public ServerTableModel {
    Q_OBJECT
public:
    enum Column { CallerColumn, CalleeColumn, StateColumn, SinceColumn };
    static constexpr int kColumnCount = 4;

    explicit CallTableModel(QObject* parent = nullptr);

    // Replaces every row; durations are measured against `now`.
    void setRows(const QList<CallRow>& rows, const QDateTime& now);
    const QList<CallRow>& rows() const { return m_rows; }
    // Moves the clock durations are measured against; only the duration column changes.
    void setNow(const QDateTime& now);
    // Calls that have not ended.
    int liveCalls() const;
    // Seconds the call has been in its state (see the class comment); nullopt when ended.
    std::optional<qint64> secondsOf(int row) const;

    // "Ringing" for "ringing"; an unknown state is shown as it came.
    static QString stateText(const QString& state);

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

private:
    QList<CallRow> m_rows;
    QDateTime m_now;
};

}  // namespace sb::ui
