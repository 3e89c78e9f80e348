#include "base/error.h"

namespace sb {

QString Error::toString() const {
    QString text = reason;
    if (offset >= 0) text += QStringLiteral(" (at byte %1)").arg(offset);
    return text;
}

Error makeError(ErrorKind kind, QString reason, qsizetype offset, int sipStatus) {
    return Error{kind, std::move(reason), offset, sipStatus};
}

}  // namespace sb
