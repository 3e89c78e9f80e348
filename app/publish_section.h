#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QMap>
#include <QString>
#include <QStringList>

#include "app/config.h"
#include "base/result.h"

namespace sb::app {

// The [publish] section of the configuration (issue 6) as the Publishing settings dialog
// edits it: each key with its value as written in the file. Checking goes through the
// configuration's own reader (parseConfig), so the dialog refuses exactly what start-up
// would refuse, with the same messages.
//
// Saving rewrites only the key lines of [publish], in place: comments, blank lines and
// keys this version does not know stay where they are, keys not written yet are added at
// the end of the section, and every other section is kept as it was (app/ini_section.h).

// Key → its value as written in the file: "true", "192.0.2.10:5060", "201, *@example.com".
using PublishValues = QMap<QString, QString>;

// Every key of [publish], in the order the sample configuration documents them.
const QStringList& publishKeys();
// Keys whose value is a comma-separated list (skip_caller, skip_callee).
bool isPublishListKey(const QString& key);

// The values of `config`, one per key of publishKeys(); lists joined by ", ".
PublishValues publishValues(const PublishConfig& config);

// What the configuration makes of `values` (keys missing from it keep their defaults).
struct PublishCheck {
    PublishConfig config;  // what start-up would use; meaningful when problems is empty
    // "[publish] server: 'pbx': the host must be an IP address", one per problem.
    QStringList problems;
    // What start-up would warn about for these values (Config::warnings).
    QStringList warnings;

    bool ok() const { return problems.isEmpty(); }
};
PublishCheck checkPublishValues(const PublishValues& values);

// The [publish] section's text in `iniText`, header line included; empty when absent.
QByteArray publishSectionOf(QByteArrayView iniText);

// The section's text (header included) with `values` merged into `current` (the section
// as the file has it, may be empty): each key's line replaced where it is, the keys
// `current` lacks appended in publishKeys() order, everything else kept. A value that
// QSettings would cut or split (';', ',', quotes, backslashes, edge spaces) is quoted.
QByteArray formatPublishSection(const PublishValues& values, QByteArrayView current = {});
// The same for a whole configuration, into an empty section.
QByteArray formatPublishSection(const PublishConfig& config);

// Rewrites [publish] of the INI file at `path` (created when missing) with the values of
// `config`, merged as formatPublishSection() does; every other line stays as it was.
// Written atomically (QSaveFile): a crash leaves either the old file or the new one.
Result<void> savePublishSection(const QString& path, const PublishConfig& config);

// What the Publishing settings dialog's Save does: checks `values` (checkPublishValues)
// and, when they are valid, saves what they mean (savePublishSection). Returns the
// problems, or why the file could not be written; empty when saved.
QStringList savePublishValues(const QString& path, const PublishValues& values);

}  // namespace sb::app
