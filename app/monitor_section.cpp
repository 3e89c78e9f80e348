#include "app/monitor_section.h"

#include <QFile>
#include <QSet>

#include "app/ini_section.h"

namespace sb::app {

namespace {

// Fields separated by commas; a field in double quotes may hold commas, and "" inside it
// stands for one quote.
QStringList splitFields(const QString& value) {
    QStringList fields;
    QString current;
    bool quoted = false;
    bool wasQuoted = false;
    for (qsizetype i = 0; i < value.size(); ++i) {
        const QChar c = value.at(i);
        if (quoted) {
            if (c == QLatin1Char('"')) {
                if (i + 1 < value.size() && value.at(i + 1) == QLatin1Char('"')) {
                    current += c;
                    ++i;
                } else {
                    quoted = false;
                }
            } else {
                current += c;
            }
        } else if (c == QLatin1Char('"') && current.trimmed().isEmpty()) {
            quoted = true;
            wasQuoted = true;
            current.clear();
        } else if (c == QLatin1Char(',')) {
            fields << (wasQuoted ? current : current.trimmed());
            current.clear();
            wasQuoted = false;
        } else if (!(wasQuoted && !quoted)) {
            current += c;
        }
    }
    fields << (wasQuoted ? current : current.trimmed());
    return fields;
}

QString quoteIfNeeded(const QString& field) {
    if (!field.contains(QLatin1Char(',')) && !field.contains(QLatin1Char('"')) &&
        !field.contains(QLatin1Char(';')) && field == field.trimmed())
        return field;
    QString escaped = field;
    escaped.replace(QLatin1String("\""), QLatin1String("\"\""));
    return QLatin1Char('"') + escaped + QLatin1Char('"');
}

bool isSipUri(const QString& text) {
    return text.startsWith(QLatin1String("sip:")) || text.startsWith(QLatin1String("sips:"));
}

const QString kIdentity = QStringLiteral("identity");
const QString kPublishTo = QStringLiteral("publish_to");

// The fields after name, group and URI: "identity=URI" and "publish_to=URI URI ...".
// Returns what is wrong, or an empty string.
QString readSettings(const QStringList& fields, board::Extension& extension) {
    for (const QString& field : fields) {
        const qsizetype equals = field.indexOf(QLatin1Char('='));
        const QString key = field.left(equals).trimmed();
        const QString value = equals < 0 ? QString() : field.mid(equals + 1).trimmed();
        if (equals < 0 || (key != kIdentity && key != kPublishTo)) {
            return QStringLiteral(
                       "'%1' is not a setting; after name, group and URI come only "
                       "identity=URI and publish_to=URI ... (quote a name with a comma)")
                .arg(field);
        }
        const QStringList uris = value.split(QLatin1Char(' '), Qt::SkipEmptyParts);
        if (uris.isEmpty()) return QStringLiteral("%1 is empty").arg(key);
        for (const QString& uri : uris) {
            if (!isSipUri(uri))
                return QStringLiteral("%1: '%2' is not a sip: or sips: URI").arg(key, uri);
        }
        if (key == kIdentity) {
            if (uris.size() > 1) return QStringLiteral("identity is one URI");
            extension.identity = uris.front();
        } else {
            extension.publishTo = uris;
        }
    }
    return {};
}

}  // namespace

MonitorSection parseMonitorSection(QByteArrayView iniText) {
    MonitorSection out;
    QSet<QString> seen;
    bool inside = false;
    const QList<QByteArray> lines = iniText.toByteArray().split('\n');
    for (qsizetype n = 0; n < lines.size(); ++n) {
        const QByteArray line = lines.at(n).trimmed();
        if (isSectionHeader(line)) {
            inside = isSectionHeader(line, "monitor");
            continue;
        }
        if (!inside || line.isEmpty() || line.startsWith(';') || line.startsWith('#')) continue;
        const QString text = QString::fromUtf8(line);
        const qsizetype equals = text.indexOf(QLatin1Char('='));
        const QString where = QStringLiteral("[monitor] line %1").arg(n + 1);
        if (equals < 0) {
            out.problems << QStringLiteral(
                                "%1: '%2' is not of the form "
                                "extension = name, group")
                                .arg(where, text);
            continue;
        }
        board::Extension extension;
        extension.number = text.left(equals).trimmed();
        const QStringList fields = splitFields(text.mid(equals + 1));
        if (const Result<void> valid = board::checkExtensionNumber(extension.number); !valid) {
            out.problems << QStringLiteral("%1: %2").arg(where, valid.error().reason);
            continue;
        }
        if (seen.contains(extension.number)) {
            out.problems
                << QStringLiteral("%1: extension %2 is listed twice").arg(where, extension.number);
            continue;
        }
        extension.name = fields.value(0);
        extension.group = fields.value(1);
        extension.uri = fields.value(2);
        if (!extension.uri.isEmpty() && !isSipUri(extension.uri)) {
            out.problems
                << QStringLiteral("%1: '%2' is not a sip: or sips: URI").arg(where, extension.uri);
            continue;
        }
        if (const QString problem = readSettings(fields.mid(3), extension); !problem.isEmpty()) {
            out.problems
                << QStringLiteral("%1: extension %2: %3").arg(where, extension.number, problem);
            continue;
        }
        seen.insert(extension.number);
        out.extensions.push_back(std::move(extension));
    }
    return out;
}

QByteArray formatMonitorSection(const std::vector<board::Extension>& extensions) {
    QString text = QStringLiteral("[monitor]\n");
    for (const board::Extension& extension : extensions) {
        QStringList fields{quoteIfNeeded(extension.name), quoteIfNeeded(extension.group)};
        if (!extension.uri.isEmpty() || !extension.identity.isEmpty() ||
            !extension.publishTo.isEmpty())
            fields << quoteIfNeeded(extension.uri);
        if (!extension.identity.isEmpty())
            fields << quoteIfNeeded(kIdentity + QLatin1Char('=') + extension.identity);
        if (!extension.publishTo.isEmpty()) {
            fields << quoteIfNeeded(kPublishTo + QLatin1Char('=') +
                                    extension.publishTo.join(QLatin1Char(' ')));
        }
        text += extension.number + QStringLiteral(" = ") + fields.join(QStringLiteral(", ")) +
                QLatin1Char('\n');
    }
    return text.toUtf8();
}

Result<void> saveMonitorSection(const QString& path,
                                const std::vector<board::Extension>& extensions) {
    return replaceIniSection(path, "monitor", formatMonitorSection(extensions));
}

}  // namespace sb::app
