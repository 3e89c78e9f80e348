#pragma once

// Small helpers shared by the core/dialoginfo unit tests (header-only: each test is its
// own executable).

#include <QByteArray>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QString>
#include <QTest>

#include "base/result.h"

namespace sb::dialoginfo::test {

// tests/unit/dialoginfo/ in the source tree: from SB_SOURCE_DIR (set by sb_add_test),
// else found next to this test's source by QFINDTESTDATA.
inline QString sourceFolder() {
    const QString root = qEnvironmentVariable("SB_SOURCE_DIR");
    if (!root.isEmpty()) return root + QStringLiteral("/tests/unit/dialoginfo");
    return QFileInfo(QFINDTESTDATA("fixtures")).absolutePath();
}

// Reads a fixture from tests/unit/dialoginfo/fixtures/. Empty when missing.
inline QByteArray fixture(const QString& name) {
    QFile file(sourceFolder() + QStringLiteral("/fixtures/") + name);
    if (!file.open(QIODevice::ReadOnly)) return {};
    return file.readAll();
}

// "ok" or the error, for QVERIFY2 messages.
template <class T>
QString describe(const Result<T>& result) {
    if (result) return QStringLiteral("ok");
    return result.error().toString();
}

}  // namespace sb::dialoginfo::test
