#include "app/publish_section.h"

#include <QFile>
#include <QHostAddress>
#include <QList>
#include <QSet>
#include <QSettings>
#include <QTemporaryFile>

#include <algorithm>

#include "app/ini_section.h"

namespace sb::app {

namespace {

using Profile = dialoginfo::PublishProfile;

const QByteArray kSection = QByteArrayLiteral("publish");

QString boolText(bool value) {
    return value ? QStringLiteral("true") : QStringLiteral("false");
}

// "udp", "tcp", "tls" as the configuration writes them.
QString transportText(transport::Protocol protocol) {
    return QString::fromLatin1(transport::protocolName(protocol)).toLower();
}

QString serverText(const PublishConfig& config) {
    if (config.serverHost.isEmpty()) return {};
    const bool v6 = QHostAddress(config.serverHost).protocol() == QAbstractSocket::IPv6Protocol;
    const QString host =
        v6 ? QLatin1Char('[') + config.serverHost + QLatin1Char(']') : config.serverHost;
    return host + QLatin1Char(':') + QString::number(config.serverPort);
}

QString dialogIdText(PublishConfig::DialogIdStyle style) {
    switch (style) {
        case PublishConfig::DialogIdStyle::Uuid:
            return QStringLiteral("uuid");
        case PublishConfig::DialogIdStyle::Counter:
            return QStringLiteral("counter");
        case PublishConfig::DialogIdStyle::CallId:
            return QStringLiteral("call-id");
    }
    return {};
}

QString calleeEntityText(PublishConfig::CalleeEntity entity) {
    switch (entity) {
        case PublishConfig::CalleeEntity::To:
            return QStringLiteral("to");
        case PublishConfig::CalleeEntity::RequestUri:
            return QStringLiteral("request-uri");
    }
    return {};
}

QString whichCallsText(PublishConfig::WhichCalls which) {
    switch (which) {
        case PublishConfig::WhichCalls::Local:
            return QStringLiteral("local");
        case PublishConfig::WhichCalls::All:
            return QStringLiteral("all");
        case PublishConfig::WhichCalls::Marked:
            return QStringLiteral("marked");
    }
    return {};
}

QString compatText(Profile::Compat compat) {
    switch (compat) {
        case Profile::Compat::Rfc4235:
            return QStringLiteral("rfc4235");
        case Profile::Compat::Kamailio:
            return QStringLiteral("kamailio");
    }
    return {};
}

QString displayNamesText(Profile::DisplayNames display) {
    switch (display) {
        case Profile::DisplayNames::Identity:
            return QStringLiteral("identity");
        case Profile::DisplayNames::Target:
            return QStringLiteral("target");
        case Profile::DisplayNames::Off:
            return QStringLiteral("off");
    }
    return {};
}

QString versionText(Profile::Version version) {
    switch (version) {
        case Profile::Version::Rising:
            return QStringLiteral("rising");
        case Profile::Version::Zero:
            return QStringLiteral("zero");
    }
    return {};
}

// One value as QSettings reads it back unchanged: unquoted it would end at ';' (a
// comment), split at ',' (a list) and lose edge spaces, so such a value goes in double
// quotes with QSettings' backslash escapes.
QString iniValue(const QString& value) {
    static const QString kSpecial = QStringLiteral(";,\"\\#\n\r\t");
    const bool plain =
        value == value.trimmed() &&
        std::none_of(value.cbegin(), value.cend(), [](QChar c) { return kSpecial.contains(c); });
    if (plain) return value;
    QString out = QStringLiteral("\"");
    for (const QChar c : value) {
        switch (c.unicode()) {
            case '"':
                out += QStringLiteral("\\\"");
                break;
            case '\\':
                out += QStringLiteral("\\\\");
                break;
            case '\n':
                out += QStringLiteral("\\n");
                break;
            case '\r':
                out += QStringLiteral("\\r");
                break;
            case '\t':
                out += QStringLiteral("\\t");
                break;
            default:
                out += c;
        }
    }
    return out + QLatin1Char('"');
}

// A list value ("201, *@example.com") as the file holds it: entries separated by ", ",
// each quoted when it needs to be, empty entries dropped.
QString iniListValue(const QString& value) {
    QStringList entries;
    for (const QString& entry : value.split(QLatin1Char(','))) {
        const QString trimmed = entry.trimmed();
        if (!trimmed.isEmpty()) entries << iniValue(trimmed);
    }
    return entries.join(QStringLiteral(", "));
}

QByteArray keyLine(const QString& key, const QString& value) {
    const QString text = isPublishListKey(key) ? iniListValue(value) : iniValue(value);
    return (key + QStringLiteral(" = ") + text).toUtf8() + '\n';
}

// The key of an INI line ("lifetime = 0" → "lifetime"); empty for blank lines and comments.
QString keyOf(const QByteArray& line) {
    const QByteArray trimmed = line.trimmed();
    if (trimmed.isEmpty() || trimmed.startsWith(';') || trimmed.startsWith('#')) return {};
    const qsizetype equals = trimmed.indexOf('=');
    if (equals <= 0) return {};
    return QString::fromUtf8(trimmed.left(equals).trimmed());
}

// The keys to write: the documented ones first, in their order, then any others given.
QStringList orderedKeys(const PublishValues& values) {
    QStringList keys;
    for (const QString& key : publishKeys())
        if (values.contains(key)) keys << key;
    for (auto it = values.cbegin(); it != values.cend(); ++it)
        if (!publishKeys().contains(it.key())) keys << it.key();
    return keys;
}

// The lines of a "[publish] key: what" problem list in a parseConfig error (its first
// line names the file and says "invalid configuration").
QStringList problemLines(const QString& reason) {
    QStringList lines = reason.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QStringList ours;
    for (const QString& line : lines)
        if (line.startsWith(QLatin1String("[publish]"))) ours << line;
    if (!ours.isEmpty()) return ours;
    if (lines.size() > 1) lines.removeFirst();
    return lines;
}

}  // namespace

const QStringList& publishKeys() {
    static const QStringList keys = {QStringLiteral("enabled"),
                                     QStringLiteral("server"),
                                     QStringLiteral("transport"),
                                     QStringLiteral("compat"),
                                     QStringLiteral("dialog_id"),
                                     QStringLiteral("include_callid"),
                                     QStringLiteral("include_tags"),
                                     QStringLiteral("include_localremote"),
                                     QStringLiteral("lifetime"),
                                     QStringLiteral("callee_entity"),
                                     QStringLiteral("caller_confirmed"),
                                     QStringLiteral("callee_trying"),
                                     QStringLiteral("publish_in_dialog"),
                                     QStringLiteral("which_calls"),
                                     QStringLiteral("mark_header"),
                                     QStringLiteral("skip_caller"),
                                     QStringLiteral("skip_callee"),
                                     QStringLiteral("caller_entity_when_skipped"),
                                     QStringLiteral("callee_entity_when_skipped"),
                                     QStringLiteral("display_names"),
                                     QStringLiteral("version"),
                                     QStringLiteral("expires"),
                                     QStringLiteral("hold_when_busy")};
    return keys;
}

bool isPublishListKey(const QString& key) {
    return key == QLatin1String("skip_caller") || key == QLatin1String("skip_callee");
}

PublishValues publishValues(const PublishConfig& config) {
    const Profile& profile = config.profile;
    return {
        {QStringLiteral("enabled"), boolText(config.enabled)},
        {QStringLiteral("server"), serverText(config)},
        {QStringLiteral("transport"), transportText(config.transport)},
        {QStringLiteral("compat"), compatText(profile.compat)},
        {QStringLiteral("dialog_id"), dialogIdText(config.dialogId)},
        {QStringLiteral("include_callid"), boolText(profile.includeCallId)},
        {QStringLiteral("include_tags"), boolText(profile.includeTags)},
        {QStringLiteral("include_localremote"), boolText(profile.includeLocalRemote)},
        {QStringLiteral("lifetime"), QString::number(config.lifetime)},
        {QStringLiteral("callee_entity"), calleeEntityText(config.calleeEntity)},
        {QStringLiteral("caller_confirmed"), boolText(profile.callerConfirmed)},
        {QStringLiteral("callee_trying"), boolText(config.calleeTrying)},
        {QStringLiteral("publish_in_dialog"), boolText(config.publishInDialog)},
        {QStringLiteral("which_calls"), whichCallsText(config.whichCalls)},
        {QStringLiteral("mark_header"), config.markHeader},
        {QStringLiteral("skip_caller"), config.skipCaller.join(QStringLiteral(", "))},
        {QStringLiteral("skip_callee"), config.skipCallee.join(QStringLiteral(", "))},
        {QStringLiteral("caller_entity_when_skipped"), config.callerEntityWhenSkipped},
        {QStringLiteral("callee_entity_when_skipped"), config.calleeEntityWhenSkipped},
        {QStringLiteral("display_names"), displayNamesText(profile.displayNames)},
        {QStringLiteral("version"), versionText(profile.version)},
        {QStringLiteral("expires"), QString::number(config.expires)},
        {QStringLiteral("hold_when_busy"), QString::number(config.holdWhenBusy)},
    };
}

PublishCheck checkPublishValues(const PublishValues& values) {
    PublishCheck check;
    // QSettings reads INI text only from a file: the section alone, in a private one.
    QTemporaryFile file;
    if (!file.open()) {
        check.problems << QStringLiteral("cannot check the settings: %1").arg(file.errorString());
        return check;
    }
    file.write(formatPublishSection(values));
    file.close();
    QSettings settings(file.fileName(), QSettings::IniFormat);
    const Result<Config> config = parseConfig(settings);
    if (!config) {
        check.problems = problemLines(config.error().reason);
        return check;
    }
    check.config = config->publish;
    check.warnings = config->warnings;
    return check;
}

QByteArray publishSectionOf(QByteArrayView iniText) {
    QByteArray out;
    bool inside = false;
    for (const QByteArray& line : iniText.toByteArray().split('\n')) {
        const QByteArray trimmed = line.trimmed();
        if (isSectionHeader(trimmed)) {
            if (inside) break;
            inside = isSectionHeader(trimmed, kSection);
        }
        if (inside) out += line + '\n';
    }
    return out;
}

QByteArray formatPublishSection(const PublishValues& values, QByteArrayView current) {
    QList<QByteArray> lines;
    if (!current.isEmpty()) {
        lines = current.toByteArray().split('\n');
        if (lines.constLast().isEmpty()) lines.removeLast();  // the final newline
    }
    QByteArray header = QByteArrayLiteral("[publish]\n");
    if (!lines.isEmpty() && isSectionHeader(lines.constFirst().trimmed(), kSection)) {
        header = lines.takeFirst() + '\n';
    }
    // Key lines replaced in place; a key given twice keeps its first place only (QSettings
    // would read the last one, which would undo the edit).
    QSet<QString> written;
    QList<QByteArray> body;
    qsizetype afterLastKey = 0;
    for (const QByteArray& line : lines) {
        const QString key = keyOf(line);
        if (!key.isEmpty() && values.contains(key)) {
            if (written.contains(key)) continue;
            written.insert(key);
            body << keyLine(key, values.value(key));
        } else {
            body << line + '\n';
        }
        if (!key.isEmpty()) afterLastKey = body.size();
    }
    QList<QByteArray> added;
    for (const QString& key : orderedKeys(values))
        if (!written.contains(key)) added << keyLine(key, values.value(key));
    for (qsizetype i = 0; i < added.size(); ++i)
        body.insert(afterLastKey + i, added.at(i));

    QByteArray out = header;
    for (const QByteArray& line : body)
        out += line;
    return out;
}

QByteArray formatPublishSection(const PublishConfig& config) {
    return formatPublishSection(publishValues(config));
}

Result<void> savePublishSection(const QString& path, const PublishConfig& config) {
    QByteArray current;
    QFile existing(path);
    if (existing.exists()) {
        if (!existing.open(QIODevice::ReadOnly))
            return fail(ErrorKind::Config,
                        QStringLiteral("cannot read %1: %2").arg(path, existing.errorString()));
        current = publishSectionOf(existing.readAll());
    }
    return replaceIniSection(path, kSection, formatPublishSection(publishValues(config), current));
}

QStringList savePublishValues(const QString& path, const PublishValues& values) {
    const PublishCheck check = checkPublishValues(values);
    if (!check.ok()) return check.problems;
    if (const Result<void> saved = savePublishSection(path, check.config); !saved)
        return {saved.error().reason};
    return {};
}

}  // namespace sb::app
