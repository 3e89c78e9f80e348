#pragma once

#include <QAbstractListModel>
#include <QHash>
#include <QSet>
#include <QStringList>
#include <QTimer>

#include <vector>

#include "board/console.h"

namespace sb::ui {

// The board as a list model: one row per monitored extension, in directory order.
// Reads everything from board::Console (the one truth) and owns no widgets. Lamp
// changes arrive coalesced per event-loop turn from the console; the model coalesces
// them once more to at most one batch of dataChanged() per frame (~16 ms), with one
// signal per run of adjacent rows, so 1,000 changes a second cost ~60 small batches.
class BoardModel final : public QAbstractListModel {
    Q_OBJECT
public:
    enum Role {
        NumberRole = Qt::UserRole + 1,  // QString "201"
        NameRole,                       // QString, may be empty
        GroupRole,                      // QString, may be empty
        LampRole,                       // int(dialoginfo::Lamp)
        LampTextRole,                   // QString "Ringing"
        OtherDisplayRole,               // QString, the other party's display name
        OtherUriRole,                   // QString, the other party's URI
        OtherPartyRole,                 // QString "Bob · 202", empty when none
        DetailRole,                     // QString: "from Bob · 202", or why it is offline
        SinceRole,                      // qint64 ms on the console's clock, lamp start
        ElapsedSecondsRole,             // qint64, now − since; invalid without a live lamp
        DurationTextRole,               // QString "01:23" / "1:02:03"; empty when not live
        SubscriptionStateRole,          // QString "active", "retrying", ...
        FilterKeyRole,                  // QString, "name number" lower case, for filters
    };
    Q_ENUM(Role)

    // How long lamp changes are gathered before the views hear of them: one frame.
    static constexpr int kBatchIntervalMs = 16;

    explicit BoardModel(board::Console& console, QObject* parent = nullptr);

    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

    // The row of an extension, -1 when it is not on the board.
    int rowOf(const QString& number) const { return m_rowOf.value(number, -1); }
    QString numberAt(int row) const;
    board::Console& console() const { return m_console; }

    // Whether a lamp shows a running duration (ringing, calling, busy, held).
    static bool isLive(dialoginfo::Lamp lamp);
    // "mm:ss" below an hour, "h:mm:ss" from then on.
    static QString durationText(qint64 seconds);

    // Emits what is gathered now instead of at the end of the frame (tests, shutdown).
    void flushPendingChanges();
    bool hasPendingChanges() const { return !m_pendingRows.isEmpty(); }

signals:
    // After each batch of dataChanged() (the status bar recounts then).
    void changesFlushed();

private:
    void onExtensionsChanged(const QStringList& numbers);
    void onDirectoryChanged();
    void rebuildIndex();
    const board::ExtensionState* stateAt(int row) const;
    QString accessibleText(const board::ExtensionState& state) const;
    QString offlineDetail(const board::ExtensionState& state) const;

    board::Console& m_console;
    QStringList m_numbers;        // rows, in directory order
    QHash<QString, int> m_rowOf;  // number → row
    QSet<int> m_pendingRows;      // changed since the last batch
    QTimer m_batchTimer;
};

}  // namespace sb::ui
