#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

#include "base/result.h"

namespace sb::app {

// Sections of the configuration that Switchboard rewrites itself ([monitor], [users])
// are read from the text and replaced line by line, because QSettings would sort keys
// and drop comments.

// "[ name ]" — a section header line (already trimmed).
bool isSectionHeader(QByteArrayView line);
// The header of section `name`, letter case ignored.
bool isSectionHeader(QByteArrayView line, QByteArrayView name);

enum class NewFileAccess { Default, OwnerOnly };

// Rewrites the INI file at `path` (created when missing) with `sectionText` (header
// line included) in place of section `name` — where the old one was, or at the end —
// and every other line as it was. Written atomically (QSaveFile): a crash leaves
// either the old file or the new one. A file created here gets `access`; an existing
// one keeps its permissions.
Result<void> replaceIniSection(const QString& path, QByteArrayView name,
                               const QByteArray& sectionText,
                               NewFileAccess access = NewFileAccess::Default);

}  // namespace sb::app
