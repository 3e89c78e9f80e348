#include "ui/plain_text.h"

#include <QTextDocument>

namespace sb::ui {

QString plainToolTip(const QString& text) {
    if (text.isEmpty()) return text;
    return Qt::convertFromPlainText(text, Qt::WhiteSpaceNormal);
}

}  // namespace sb::ui
