#pragma once

#include <QDialog>
#include <QHash>
#include <QMap>
#include <QString>
#include <QStringList>

#include <functional>

class QFrame;
class QLabel;

namespace sb::ui {

// Settings → Publishing: every key of the configuration's [publish] section (dialog-info
// published to a presence server, RFC 3903; the options of Kamailio's pua_dialoginfo
// under Switchboard's names), grouped as an administrator thinks of them: the presence
// server, the document, which calls, skipping. Each field's tooltip names its key and the
// seed parameter it replaces.
//
// The dialog knows the keys, not their rules: Save hands the values to `apply` (the
// application checks them the way start-up does and writes the file); its problems
// ("[publish] server: ...") are listed in the dialog, the fields they name are marked,
// and nothing is saved until there are none. Changes apply when Switchboard restarts.
class PublishSettingsDialog final : public QDialog {
    Q_OBJECT
public:
    // [publish] key → its value as written in the file ("true", "192.0.2.10:5060").
    using Values = QMap<QString, QString>;
    // Checks and saves; returns the problems, one per line, empty when saved.
    using Apply = std::function<QStringList(const Values&)>;

    PublishSettingsDialog(const Values& values, Apply apply, QWidget* parent = nullptr);

    // The file the values are saved in, named in the dialog.
    void setFileName(const QString& path);

    // The values the fields show now (keys the dialog has no field for pass through).
    Values values() const;
    // The keys the dialog edits, in the order it shows them.
    static QStringList keys();
    // The field editing `key` (QCheckBox, QComboBox, QLineEdit or QSpinBox), or null.
    QWidget* field(const QString& key) const;
    // The problems shown, one per line, empty when none; and whether `key` is marked.
    QString problemsText() const;
    bool isMarked(const QString& key) const;
    QString noticeText() const;

    // Save: apply(values()); closes only when there was no problem.
    void accept() override;

private:
    struct Field;
    void build();
    void setValue(const QString& key, const QString& value);
    QString valueOf(const QString& key) const;
    void showProblems(const QStringList& problems);
    void clearMarks();
    void mark(const QString& key, const QString& problem);
    void updateDependentFields();

    Apply m_apply;
    Values m_passThrough;  // keys without a field, kept as they came
    QHash<QString, QWidget*> m_fields;
    QHash<QString, QLabel*> m_labels;  // the form label of a field (none for check boxes)
    QHash<QString, QString> m_toolTips;
    QStringList m_marked;
    QLabel* m_notice;
    QLabel* m_restart;  // "Changes apply when Switchboard restarts."
    QFrame* m_problemsFrame;
    QLabel* m_problemsIcon;
    QLabel* m_problems;
    QString m_fileName;
};

}  // namespace sb::ui
