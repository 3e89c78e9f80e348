#pragma once

#include <QDialog>
#include <QStringList>

#include <vector>

#include "board/directory.h"

class QLabel;
class QPlainTextEdit;
class QTableWidget;

namespace sb::ui {

// Settings → Directory: the monitored extensions as a table (extension, name, group) to
// add to, remove from and edit in place, and an import from CSV that lists every bad
// row by its line number. Accepting checks every number (RFC 3261 §25.1 user part,
// unique); the caller saves the list it gets from extensions().
class DirectoryDialog final : public QDialog {
    Q_OBJECT
public:
    explicit DirectoryDialog(const std::vector<board::Extension>& extensions,
                             QWidget* parent = nullptr);

    // The list as the table shows it now (rows without a number are skipped). Extensions
    // keep the uri they came in with.
    std::vector<board::Extension> extensions() const;
    // What is wrong with the table: one message per problem; empty when it can be saved.
    QStringList problems() const;

    // Imports CSV bytes (the Import button reads a file and calls this): rows with a known
    // number replace it, new ones are appended. Returns the line-numbered errors (also
    // shown in the dialog).
    QStringList importCsv(QByteArrayView bytes);

    QTableWidget* table() const { return m_table; }
    QString errorText() const;

    void accept() override;

private:
    void addRow(const board::Extension& extension);
    void addEmptyRow();
    void removeSelectedRows();
    void chooseCsvFile();
    void showErrors(const QStringList& errors);

    QTableWidget* m_table;
    QPlainTextEdit* m_errors;
    QLabel* m_errorsLabel;
    // number → the fields the table does not show (uri, identity, publish_to), kept
    // through the edit.
    QHash<QString, board::Extension> m_hidden;
};

}  // namespace sb::ui
