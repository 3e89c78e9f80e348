#pragma once

#include <QString>
#include <QTest>
#include <QtDebug>

#include "base/result.h"

// QVERIFY2 of Qt 6.4 builds its message even when the check passes, and cuts it at
// 1 KiB: this one builds it only on failure and logs all of it (events, SIP traces).
#define SB_VERIFY(condition, explanation)                                                 \
    do {                                                                                  \
        if (!(condition)) {                                                               \
            const QString why = (explanation);                                            \
            qWarning().noquote() << why;                                                  \
            QFAIL(qPrintable(QStringLiteral(#condition " (details in the log above): ") + \
                             why.left(400)));                                             \
        }                                                                                 \
    } while (false)

namespace sb::itest {

// The reason of a failed step, empty when it succeeded (for SB_VERIFY's explanation).
inline QString errorOf(const Result<void>& result) {
    return result ? QString() : result.error().reason;
}

}  // namespace sb::itest
