#pragma once

#include <QByteArrayView>
#include <QHash>
#include <QString>
#include <QStringList>

#include <vector>

#include "base/result.h"

namespace sb::board {

// One monitored extension as the administrator lists it.
struct Extension {
    QString number;  // the key: "201", "reception"; a SIP user part
    QString name;    // shown on the tile; may be empty
    QString group;   // tab/section on the board; may be empty ("" = ungrouped)
    // The URI subscribed to; "sip:<number>@<domain>" when empty.
    QString uri;
    // Publishing ([publish], issue 6): the URI this extension is shown as in published
    // documents (empty: its own), and the entities its state is published to (empty:
    // its own AoR).
    QString identity{};
    QStringList publishTo{};

    bool operator==(const Extension&) const = default;
};

// The monitored extensions in the order the administrator gave them; numbers unique.
class Directory {
public:
    // Checks the number (non-empty, a valid SIP user part, not yet present).
    Result<void> add(Extension extension);
    bool remove(const QString& number);
    // Changes name, group or uri of an existing extension.
    Result<void> update(const Extension& extension);

    const Extension* find(const QString& number) const;
    int indexOf(const QString& number) const;  // -1 when absent
    const std::vector<Extension>& extensions() const { return m_extensions; }
    int size() const { return int(m_extensions.size()); }
    // Distinct groups in first-seen order; "" (ungrouped) is one of them when some
    // extension has no group.
    QStringList groups() const;

private:
    std::vector<Extension> m_extensions;
    QHash<QString, int> m_index;
};

// Whether `number` can be a SIP user part (RFC 3261 §25.1 unreserved / escaped /
// user-unreserved characters), with a message saying what is wrong if not.
Result<void> checkExtensionNumber(const QString& number);

// CSV import: "extension,name,group" with a header row, UTF-8 (a BOM is skipped),
// RFC 4180 quoting. Every bad row is reported with its line number
// ("line 7: extension \"2 01\" is not a valid SIP user part"); good rows are kept.
// Line numbers are physical lines (a quoted field may span several). Header names are
// case-insensitive, "extension" is required, "name" and "group" may be missing, an
// optional "uri" column fills Extension::uri, other columns are ignored. Unquoted fields
// are trimmed; rows of empty cells are skipped; a header separated by ';' is accepted.
struct CsvImport {
    std::vector<Extension> extensions;
    QStringList errors;
};
CsvImport importCsv(QByteArrayView bytes);
// The same format back, header row included (CRLF, quoted where needed; a "uri"
// column only when some extension has its own uri).
QByteArray exportCsv(const std::vector<Extension>& extensions);

}  // namespace sb::board
