#include "board/directory.h"

#include "sip/char_class.h"

#include <QSet>
#include <QStringDecoder>

#include <algorithm>
#include <optional>

namespace sb::board {

namespace {

// RFC 3261 §25.1: user = 1*( unreserved / escaped / user-unreserved )
//   unreserved      = alphanum / mark
//   mark            = "-" / "_" / "." / "!" / "~" / "*" / "'" / "(" / ")"
//   user-unreserved = "&" / "=" / "+" / "$" / "," / ";" / "?" / "/"
//   escaped         = "%" HEXDIG HEXDIG
// The character classes of the SIP parser (core/sip/char_class.h), for one UTF-16 unit.
bool isUserChar(QChar c) {
    const char16_t u = c.unicode();
    return u < 0x80 && sip::chars::is(char(u), sip::chars::kUser);
}

bool isHexDigit(QChar c) {
    const char16_t u = c.unicode();
    return (u >= '0' && u <= '9') || (u >= 'a' && u <= 'f') || (u >= 'A' && u <= 'F');
}

QString describeChar(QChar c) {
    if (c == QLatin1Char(' ')) return QStringLiteral("a space");
    if (c == QLatin1Char('\t')) return QStringLiteral("a tab");
    if (c.unicode() < 0x20 || c.unicode() == 0x7f) {
        return QStringLiteral("control character U+%1")
            .arg(QString::number(c.unicode(), 16).toUpper().rightJustified(4, QLatin1Char('0')));
    }
    return QStringLiteral("'%1'").arg(c);
}

}  // namespace

Result<void> checkExtensionNumber(const QString& number) {
    if (number.isEmpty()) return fail(ErrorKind::Config, QStringLiteral("extension is empty"));
    for (qsizetype i = 0; i < number.size(); ++i) {
        const QChar c = number.at(i);
        if (c == QLatin1Char('%')) {
            // RFC 3261 §25.1 escaped = "%" HEXDIG HEXDIG
            if (i + 2 < number.size() && isHexDigit(number.at(i + 1)) &&
                isHexDigit(number.at(i + 2))) {
                i += 2;
                continue;
            }
            return fail(ErrorKind::Config,
                        QStringLiteral("extension \"%1\" is not a valid SIP user part: '%' at "
                                       "position %2 must be followed by two hex digits")
                            .arg(number)
                            .arg(i + 1));
        }
        if (!isUserChar(c)) {
            return fail(ErrorKind::Config,
                        QStringLiteral("extension \"%1\" is not a valid SIP user part: %2 at "
                                       "position %3 is not allowed")
                            .arg(number, describeChar(c))
                            .arg(i + 1));
        }
    }
    return {};
}

// --- Directory ------------------------------------------------------------------------

Result<void> Directory::add(Extension extension) {
    if (auto valid = checkExtensionNumber(extension.number); !valid) return valid;
    if (m_index.contains(extension.number)) {
        return fail(ErrorKind::Config,
                    QStringLiteral("extension %1 is already listed").arg(extension.number));
    }
    m_index.insert(extension.number, int(m_extensions.size()));
    m_extensions.push_back(std::move(extension));
    return {};
}

bool Directory::remove(const QString& number) {
    const auto it = m_index.constFind(number);
    if (it == m_index.constEnd()) return false;
    const int index = it.value();
    m_index.erase(it);
    m_extensions.erase(m_extensions.begin() + index);
    for (int i = index; i < int(m_extensions.size()); ++i)
        m_index[m_extensions[i].number] = i;
    return true;
}

Result<void> Directory::update(const Extension& extension) {
    const int index = indexOf(extension.number);
    if (index < 0) {
        return fail(ErrorKind::Config,
                    QStringLiteral("extension %1 is not in the directory").arg(extension.number));
    }
    m_extensions[index] = extension;
    return {};
}

const Extension* Directory::find(const QString& number) const {
    const int index = indexOf(number);
    return index < 0 ? nullptr : &m_extensions[index];
}

int Directory::indexOf(const QString& number) const {
    return m_index.value(number, -1);
}

QStringList Directory::groups() const {
    QStringList groups;
    QSet<QString> seen;
    for (const Extension& extension : m_extensions) {
        if (seen.contains(extension.group)) continue;
        seen.insert(extension.group);
        groups.append(extension.group);
    }
    return groups;
}

// --- CSV --------------------------------------------------------------------------------

namespace {

// One CSV record as bytes (RFC 4180), with the physical line it starts on.
struct Field {
    QByteArray bytes;
    bool quoted = false;
};
struct Record {
    int line = 0;
    std::vector<Field> fields;
    QString error;  // a syntax error in this record (the record is then skipped)
};

// Splits UTF-8 bytes into records. Works on bytes: the delimiter, quotes, CR and LF are
// ASCII and never occur inside a UTF-8 multi-byte sequence. Line ends may be CRLF, LF or
// CR alone; quoted fields may hold delimiters, doubled quotes and line ends.
std::vector<Record> splitRecords(QByteArrayView bytes, char delimiter) {
    std::vector<Record> records;
    qsizetype pos = 0;
    int line = 1;
    const qsizetype size = bytes.size();
    auto atLineEnd = [&](qsizetype p) { return bytes[p] == '\n' || bytes[p] == '\r'; };
    auto skipLineEnd = [&](qsizetype& p) {
        if (bytes[p] == '\r' && p + 1 < size && bytes[p + 1] == '\n') ++p;
        ++p;
        ++line;
    };
    while (pos < size) {
        Record record;
        record.line = line;
        Field field;
        bool recordDone = false;
        while (!recordDone) {
            if (pos < size && bytes[pos] == '"') {
                // RFC 4180 §2.5-2.7: a quoted field; "" stands for one quote.
                field.quoted = true;
                ++pos;
                bool closed = false;
                while (pos < size) {
                    const char c = bytes[pos];
                    if (c == '"') {
                        if (pos + 1 < size && bytes[pos + 1] == '"') {
                            field.bytes.append('"');
                            pos += 2;
                            continue;
                        }
                        ++pos;
                        closed = true;
                        break;
                    }
                    if (c == '\r' || c == '\n') {
                        // Line ends inside a field are kept as LF.
                        skipLineEnd(pos);
                        field.bytes.append('\n');
                        continue;
                    }
                    field.bytes.append(c);
                    ++pos;
                }
                if (!closed) {
                    record.error = QStringLiteral("a quoted field is not closed");
                    record.fields.push_back(std::move(field));
                    records.push_back(std::move(record));
                    return records;
                }
                // Liberal: spaces between the closing quote and the delimiter are dropped.
                while (pos < size && (bytes[pos] == ' ' || bytes[pos] == '\t'))
                    ++pos;
                if (pos < size && bytes[pos] != delimiter && !atLineEnd(pos)) {
                    if (record.error.isEmpty()) {
                        record.error =
                            QStringLiteral(
                                "text after the closing quote of column %1 (a quote inside a "
                                "quoted field must be doubled)")
                                .arg(record.fields.size() + 1);
                    }
                    // Resynchronise at the next delimiter or line end.
                    while (pos < size && bytes[pos] != delimiter && !atLineEnd(pos))
                        ++pos;
                }
            } else {
                while (pos < size && bytes[pos] != delimiter && !atLineEnd(pos)) {
                    field.bytes.append(bytes[pos]);
                    ++pos;
                }
            }
            record.fields.push_back(std::move(field));
            field = Field{};
            if (pos >= size) {
                recordDone = true;
            } else if (bytes[pos] == delimiter) {
                ++pos;
                // A delimiter right at the end of the input still opens an empty field.
                if (pos >= size) {
                    record.fields.push_back(Field{});
                    recordDone = true;
                }
            } else {
                skipLineEnd(pos);
                recordDone = true;
            }
        }
        records.push_back(std::move(record));
    }
    return records;
}

// Decodes one field; nullopt when it is not valid UTF-8. Unquoted fields are trimmed
// (hand-written files put spaces after the commas); quoted ones are kept as written.
std::optional<QString> decodeField(const Field& field) {
    QStringDecoder decoder(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
    QString text = decoder.decode(field.bytes);
    if (decoder.hasError()) return std::nullopt;
    return field.quoted ? text : text.trimmed();
}

bool isBlank(const Record& record) {
    if (!record.error.isEmpty()) return false;
    // A row of empty cells (",,") is what spreadsheets write for an empty row.
    return std::all_of(record.fields.begin(), record.fields.end(),
                       [](const Field& field) { return field.bytes.trimmed().isEmpty(); });
}

struct Columns {
    int extension = -1;
    int name = -1;
    int group = -1;
    int uri = -1;
    int needed() const { return std::max({extension, name, group, uri}) + 1; }
};

Columns findColumns(const Record& header) {
    Columns columns;
    for (int i = 0; i < int(header.fields.size()); ++i) {
        const QString name = QString::fromUtf8(header.fields[i].bytes).trimmed().toLower();
        int* column = nullptr;
        if (name == QLatin1String("extension"))
            column = &columns.extension;
        else if (name == QLatin1String("name"))
            column = &columns.name;
        else if (name == QLatin1String("group"))
            column = &columns.group;
        else if (name == QLatin1String("uri"))
            column = &columns.uri;
        // Other columns (an export from a PBX carries many) are ignored.
        if (column && *column < 0) *column = i;
    }
    return columns;
}

bool needsQuotes(const QString& field) {
    if (field.isEmpty()) return false;
    if (field.front().isSpace() || field.back().isSpace()) return true;  // import trims
    for (QChar c : field) {
        if (c == QLatin1Char(',') || c == QLatin1Char('"') || c == QLatin1Char('\n') ||
            c == QLatin1Char('\r') || c == QLatin1Char(';'))
            return true;
    }
    return false;
}

void appendField(QByteArray& out, const QString& field) {
    if (!needsQuotes(field)) {
        out += field.toUtf8();
        return;
    }
    QByteArray bytes = field.toUtf8();
    bytes.replace("\"", "\"\"");
    out += '"';
    out += bytes;
    out += '"';
}

}  // namespace

CsvImport importCsv(QByteArrayView bytes) {
    CsvImport result;
    auto error = [&](int line, const QString& what) {
        result.errors.append(QStringLiteral("line %1: %2").arg(line).arg(what));
    };

    if (bytes.startsWith("\xEF\xBB\xBF")) bytes = bytes.sliced(3);  // UTF-8 BOM
    if (bytes.startsWith("\xFF\xFE") || bytes.startsWith("\xFE\xFF")) {
        error(1, QStringLiteral("the file is UTF-16; save it as CSV in UTF-8"));
        return result;
    }

    std::vector<Record> records = splitRecords(bytes, ',');
    auto header =
        std::find_if(records.begin(), records.end(), [](const Record& r) { return !isBlank(r); });
    if (header == records.end()) {
        error(1, QStringLiteral("no header row \"extension,name,group\" (the file is empty)"));
        return result;
    }
    Columns columns = findColumns(*header);
    if (columns.extension < 0) {
        // Spreadsheets in many locales separate with ';': accept that when the header
        // then makes sense.
        std::vector<Record> semicolonRecords = splitRecords(bytes, ';');
        auto semicolonHeader = std::find_if(semicolonRecords.begin(), semicolonRecords.end(),
                                            [](const Record& r) { return !isBlank(r); });
        const Columns semicolonColumns = findColumns(*semicolonHeader);
        if (semicolonColumns.extension >= 0) {
            records = std::move(semicolonRecords);
            header = semicolonHeader;
            columns = semicolonColumns;
        }
    }
    if (!header->error.isEmpty()) {
        error(header->line, header->error);
        return result;
    }
    if (columns.extension < 0) {
        QStringList names;
        for (const Field& field : header->fields)
            names.append(QString::fromUtf8(field.bytes));
        QString found = names.join(QLatin1Char(','));
        if (found.size() > 80) found = found.left(77) + QStringLiteral("...");
        error(header->line,
              QStringLiteral("the header row must name the columns \"extension,name,group\" "
                             "(found \"%1\")")
                  .arg(found));
        return result;
    }

    const int needed = columns.needed();
    QHash<QString, int> firstLine;  // number → line it was first listed on
    for (auto it = header + 1; it != records.end(); ++it) {
        const Record& record = *it;
        if (isBlank(record)) continue;
        if (!record.error.isEmpty()) {
            error(record.line, record.error);
            continue;
        }
        if (int(record.fields.size()) < needed) {
            error(
                record.line,
                QStringLiteral("%1 column(s), expected %2").arg(record.fields.size()).arg(needed));
            continue;
        }
        Extension extension;
        bool valid = true;
        auto take = [&](int column, QString& into) {
            if (column < 0 || !valid) return;
            std::optional<QString> text = decodeField(record.fields[column]);
            if (!text) {
                error(record.line,
                      QStringLiteral("column %1 is not valid UTF-8 (save the file as CSV in "
                                     "UTF-8)")
                          .arg(column + 1));
                valid = false;
                return;
            }
            into = std::move(*text);
        };
        take(columns.extension, extension.number);
        take(columns.name, extension.name);
        take(columns.group, extension.group);
        take(columns.uri, extension.uri);
        if (!valid) continue;

        if (auto ok = checkExtensionNumber(extension.number); !ok) {
            error(record.line, ok.error().reason);
            continue;
        }
        if (!extension.uri.isEmpty() &&
            !extension.uri.startsWith(QLatin1String("sip:"), Qt::CaseInsensitive) &&
            !extension.uri.startsWith(QLatin1String("sips:"), Qt::CaseInsensitive)) {
            error(record.line,
                  QStringLiteral("uri \"%1\" is not a sip: or sips: URI").arg(extension.uri));
            continue;
        }
        if (const auto seen = firstLine.constFind(extension.number); seen != firstLine.cend()) {
            error(record.line, QStringLiteral("extension %1 already listed on line %2")
                                   .arg(extension.number)
                                   .arg(seen.value()));
            continue;
        }
        firstLine.insert(extension.number, record.line);
        result.extensions.push_back(std::move(extension));
    }
    return result;
}

QByteArray exportCsv(const std::vector<Extension>& extensions) {
    // The uri column only when some extension has its own URI, so the common file stays
    // the plain three columns that the import documents.
    const bool withUri = std::any_of(extensions.begin(), extensions.end(),
                                     [](const Extension& e) { return !e.uri.isEmpty(); });
    QByteArray out = withUri ? "extension,name,group,uri\r\n" : "extension,name,group\r\n";
    for (const Extension& extension : extensions) {
        appendField(out, extension.number);
        out += ',';
        appendField(out, extension.name);
        out += ',';
        appendField(out, extension.group);
        if (withUri) {
            out += ',';
            appendField(out, extension.uri);
        }
        out += "\r\n";  // RFC 4180 §2.1: CRLF
    }
    return out;
}

}  // namespace sb::board
