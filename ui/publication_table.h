#pragma once

#include <QAbstractTableModel>
#include <QDateTime>
#include <QHash>
#include <QList>
#include <QString>

#include <vector>

namespace sb::ui {

// What happened to one publication of dialog-info at the presence server ([publish],
// RFC 3903): plain values, filled by the application from the publisher's reports.
struct PublicationUpdate {
    enum class Result { Published, Failed, Removed };
    QString entity;  // the published URI, "sip:201@switchboard.local"
    QString dialog;  // the dialog id in the document
    Result result = Result::Published;
    // Published: the RFC 4235 state the server now holds ("early", "confirmed", ...);
    // Failed: the state being tried.
    QString dialogState;
    int code = 0;    // the SIP status of the answer, 0 when none came
    QString reason;  // why it failed
};

// True for the rows whose last result is a failure (Qt::UserRole is the sort role).
inline constexpr int kPublicationFailedRole = Qt::UserRole + 1;

// The publisher's work per entity (one row per published URI, the way an administrator
// checks "does 201 light up at the presence server?"): the dialog states the presence
// server holds for it, the last result (published, failed with code and reason,
// removed) and when. A failure is marked by an icon, a tint and its text.
//
// It keeps entities, not events: each entity holds only the dialogs published for it
// that have not ended (at most kMaxDialogsPerEntity), and the table at most
// maxEntities() rows (the least recently updated entity that is not failing makes room).
// An update changes its row in place (dataChanged), so thousands of extensions and bursts
// of updates keep the views' selection, scroll position and speed.
class PublicationTableModel final : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { EntityColumn, PublishedColumn, ResultColumn, WhenColumn };
    static constexpr int kColumnCount = 4;
    static constexpr int kMaxDialogsPerEntity = 8;
    static constexpr int kDefaultMaxEntities = 20000;

    explicit PublicationTableModel(QObject* parent = nullptr);

    // Applies one report, received at `when`.
    void update(const PublicationUpdate& update, const QDateTime& when);
    // Entities in this domain are shown by their user part alone ("201").
    void setLocalDomain(const QString& domain);
    void setMaxEntities(int max);
    int maxEntities() const { return m_maxEntities; }

    // The row of `entity`, -1 when it has none.
    int rowOf(const QString& entity) const;
    // Entities whose last result is a failure.
    int failingEntities() const { return m_failing; }
    // The states the presence server holds for the row's entity, most telling first
    // ("early", "confirmed"); empty when it holds none.
    QStringList heldStates(int row) const;
    bool isFailing(int row) const;
    // "Failed: 503 Service Unavailable", "Published", "Removed".
    QString resultText(int row) const;

    static QString stateText(const QString& dialogState);

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

private:
    struct Dialog {
        QString id;
        QString held;       // the state the server holds; empty until one was accepted
        QString attempted;  // the state of a failing publication, empty otherwise
    };
    struct Entity {
        QString uri;
        std::vector<Dialog> dialogs;  // not ended, oldest first
        QString lastHeld;             // held after its last dialog ended ("terminated")
        PublicationUpdate last;
        QDateTime when;
        int failures = 0;  // failed answers since start
    };

    int addRow(const QString& uri);
    void makeRoom();
    QString shownEntity(const QString& uri) const;
    QString publishedText(int row) const;
    QString publishedToolTip(const Entity& entity) const;
    QString resultToolTip(const Entity& entity) const;

    QList<Entity> m_rows;
    QHash<QString, int> m_rowOf;  // entity URI → row
    QString m_domain;
    int m_maxEntities = kDefaultMaxEntities;
    int m_failing = 0;
};

}  // namespace sb::ui
