#include "ui/directory_dialog.h"

#include <QDialogButtonBox>
#include <QFile>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSet>
#include <QTableWidget>
#include <QVBoxLayout>

namespace sb::ui {

namespace {

enum Column { kNumber, kName, kGroup, kColumns };

QString cellText(const QTableWidget* table, int row, int column) {
    const QTableWidgetItem* item = table->item(row, column);
    return item ? item->text().trimmed() : QString();
}

}  // namespace

DirectoryDialog::DirectoryDialog(const std::vector<board::Extension>& extensions, QWidget* parent)
    : QDialog(parent),
      m_table(new QTableWidget(0, kColumns, this)),
      m_errors(new QPlainTextEdit(this)),
      m_errorsLabel(new QLabel(tr("Problems:"), this)) {
    setWindowTitle(tr("Monitored extensions"));
    m_table->setHorizontalHeaderLabels({tr("Extension"), tr("Name"), tr("Group")});
    m_table->horizontalHeader()->setSectionResizeMode(kName, QHeaderView::Stretch);
    m_table->verticalHeader()->setVisible(false);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setAccessibleName(tr("Monitored extensions"));
    for (const board::Extension& extension : extensions) {
        addRow(extension);
        m_hidden.insert(extension.number, extension);
    }

    auto* add = new QPushButton(tr("&Add"), this);
    add->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_N));
    add->setToolTip(tr("Add an extension (Ctrl+N)"));
    auto* remove = new QPushButton(tr("&Remove"), this);
    remove->setShortcut(QKeySequence::Delete);
    remove->setToolTip(tr("Remove the selected extensions (Del)"));
    auto* import = new QPushButton(tr("&Import CSV…"), this);
    import->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_I));
    import->setToolTip(tr("Import extension,name,group rows from a CSV file (Ctrl+I)"));
    connect(add, &QPushButton::clicked, this, &DirectoryDialog::addEmptyRow);
    connect(remove, &QPushButton::clicked, this, &DirectoryDialog::removeSelectedRows);
    connect(import, &QPushButton::clicked, this, &DirectoryDialog::chooseCsvFile);

    auto* tools = new QHBoxLayout;
    tools->addWidget(add);
    tools->addWidget(remove);
    tools->addStretch(1);
    tools->addWidget(import);

    m_errors->setReadOnly(true);
    m_errors->setMaximumHeight(fontMetrics().height() * 6);
    m_errors->setAccessibleName(tr("Problems"));
    m_errorsLabel->setBuddy(m_errors);
    m_errors->hide();
    m_errorsLabel->hide();

    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    connect(buttons, &QDialogButtonBox::accepted, this, &DirectoryDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &DirectoryDialog::reject);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(tools);
    layout->addWidget(m_table, 1);
    layout->addWidget(m_errorsLabel);
    layout->addWidget(m_errors);
    layout->addWidget(buttons);
    resize(560, 480);
}

void DirectoryDialog::addRow(const board::Extension& extension) {
    const int row = m_table->rowCount();
    m_table->insertRow(row);
    m_table->setItem(row, kNumber, new QTableWidgetItem(extension.number));
    m_table->setItem(row, kName, new QTableWidgetItem(extension.name));
    m_table->setItem(row, kGroup, new QTableWidgetItem(extension.group));
}

void DirectoryDialog::addEmptyRow() {
    addRow({});
    const int row = m_table->rowCount() - 1;
    m_table->setCurrentCell(row, kNumber);
    m_table->editItem(m_table->item(row, kNumber));
}

void DirectoryDialog::removeSelectedRows() {
    QList<int> rows;
    for (const QModelIndex& index : m_table->selectionModel()->selectedRows())
        rows << index.row();
    if (rows.isEmpty() && m_table->currentRow() >= 0) rows << m_table->currentRow();
    std::sort(rows.begin(), rows.end(), std::greater<>());
    for (int row : rows)
        m_table->removeRow(row);
}

std::vector<board::Extension> DirectoryDialog::extensions() const {
    std::vector<board::Extension> out;
    for (int row = 0; row < m_table->rowCount(); ++row) {
        board::Extension extension;
        extension.number = cellText(m_table, row, kNumber);
        if (extension.number.isEmpty()) continue;
        extension.name = cellText(m_table, row, kName);
        extension.group = cellText(m_table, row, kGroup);
        const board::Extension hidden = m_hidden.value(extension.number);
        extension.uri = hidden.uri;
        extension.identity = hidden.identity;
        extension.publishTo = hidden.publishTo;
        out.push_back(extension);
    }
    return out;
}

QStringList DirectoryDialog::problems() const {
    QStringList problems;
    QSet<QString> seen;
    for (int row = 0; row < m_table->rowCount(); ++row) {
        const QString number = cellText(m_table, row, kNumber);
        if (number.isEmpty()) {
            if (!cellText(m_table, row, kName).isEmpty() ||
                !cellText(m_table, row, kGroup).isEmpty())
                problems << tr("row %1: the extension is missing").arg(row + 1);
            continue;
        }
        if (Result<void> ok = board::checkExtensionNumber(number); !ok)
            problems << tr("row %1: %2").arg(row + 1).arg(ok.error().reason);
        else if (seen.contains(number))
            problems << tr("row %1: extension %2 is listed twice").arg(row + 1).arg(number);
        seen.insert(number);
    }
    return problems;
}

QStringList DirectoryDialog::importCsv(QByteArrayView bytes) {
    const board::CsvImport imported = board::importCsv(bytes);
    for (const board::Extension& extension : imported.extensions) {
        bool replaced = false;
        for (int row = 0; row < m_table->rowCount() && !replaced; ++row) {
            if (cellText(m_table, row, kNumber) != extension.number) continue;
            m_table->item(row, kName)->setText(extension.name);
            m_table->item(row, kGroup)->setText(extension.group);
            replaced = true;
        }
        if (!replaced) addRow(extension);
        if (!extension.uri.isEmpty()) m_hidden[extension.number].uri = extension.uri;
    }
    showErrors(imported.errors);
    return imported.errors;
}

void DirectoryDialog::chooseCsvFile() {
    const QString path = QFileDialog::getOpenFileName(this, tr("Import extensions"), {},
                                                      tr("CSV files (*.csv);;All files (*)"));
    if (path.isEmpty()) return;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        showErrors({tr("%1: %2").arg(path, file.errorString())});
        return;
    }
    importCsv(file.readAll());
}

void DirectoryDialog::showErrors(const QStringList& errors) {
    m_errors->setPlainText(errors.join(u'\n'));
    m_errors->setVisible(!errors.isEmpty());
    m_errorsLabel->setVisible(!errors.isEmpty());
}

QString DirectoryDialog::errorText() const {
    return m_errors->toPlainText();
}

void DirectoryDialog::accept() {
    const QStringList found = problems();
    if (!found.isEmpty()) {
        showErrors(found);
        return;
    }
    QDialog::accept();
}

}  // namespace sb::ui
