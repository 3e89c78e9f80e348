#include "app/ini_section.h"

#include <QFile>
#include <QList>
#include <QSaveFile>

namespace sb::app {

bool isSectionHeader(QByteArrayView line) {
    return line.startsWith('[') && line.endsWith(']');
}

bool isSectionHeader(QByteArrayView line, QByteArrayView name) {
    return isSectionHeader(line) &&
           line.sliced(1, line.size() - 2).trimmed().compare(name, Qt::CaseInsensitive) == 0;
}

Result<void> replaceIniSection(const QString& path, QByteArrayView name,
                               const QByteArray& sectionText, NewFileAccess access) {
    QByteArray before;
    QFile existing(path);
    const bool exists = existing.exists();
    if (exists) {
        if (!existing.open(QIODevice::ReadOnly))
            return fail(ErrorKind::Config,
                        QStringLiteral("cannot read %1: %2").arg(path, existing.errorString()));
        before = existing.readAll();
        existing.close();
    }
    QByteArray after;
    bool inside = false;
    bool written = false;
    const QList<QByteArray> lines = before.split('\n');
    for (qsizetype n = 0; n < lines.size(); ++n) {
        const QByteArray& line = lines.at(n);
        const QByteArray trimmed = line.trimmed();
        if (isSectionHeader(trimmed)) {
            inside = isSectionHeader(trimmed, name);
            if (inside && !written) {
                after += sectionText;
                written = true;
            }
        }
        if (inside) continue;
        if (n == lines.size() - 1 && line.isEmpty()) break;  // the final newline
        after += line;
        after += '\n';
    }
    if (!written) {
        if (!after.isEmpty() && !after.endsWith("\n\n")) after += '\n';
        after += sectionText;
    }
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return fail(ErrorKind::Config,
                    QStringLiteral("cannot write %1: %2").arg(path, file.errorString()));
    if (!exists && access == NewFileAccess::OwnerOnly)
        file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    file.write(after);
    if (!file.commit())
        return fail(ErrorKind::Config,
                    QStringLiteral("cannot write %1: %2").arg(path, file.errorString()));
    return {};
}

}  // namespace sb::app
