#pragma once

#include <QByteArrayView>
#include <QString>
#include <QStringList>

#include <vector>

#include "base/result.h"
#include "board/directory.h"

namespace sb::app {

// The [monitor] section of the configuration: one line per monitored extension, in the
// order the board shows them (QSettings would sort the keys, so this reads the text):
//
//   [monitor]
//   201 = Alice Example, Sales
//   202 = "Smith, Bob", Support
//   203 = Carol, , sip:carol@pbx.example.com
//
// The key is the extension number; the value lists name, group and an optional URI to
// subscribe to, separated by commas (double quotes keep a comma inside a field), then
// optional publishing settings ([publish]): identity=URI (how the extension is shown in
// published documents) and publish_to=URI URI ... (where its state is published):
//
//   205 = Dave, Sales, , identity=sip:dave@example.com, publish_to=sip:205@presence.example
struct MonitorSection {
    std::vector<board::Extension> extensions;
    QStringList problems;  // "[monitor] 2 01: ..." — one per bad line
};

MonitorSection parseMonitorSection(QByteArrayView iniText);

// The section's text for `extensions`, header line included.
QByteArray formatMonitorSection(const std::vector<board::Extension>& extensions);

// Rewrites the [monitor] section of the INI file at `path` (created when missing) and
// keeps every other line as it was; written atomically (QSaveFile), so a crash leaves
// either the old file or the new one.
Result<void> saveMonitorSection(const QString& path,
                                const std::vector<board::Extension>& extensions);

}  // namespace sb::app
