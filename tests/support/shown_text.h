#pragma once

#include <QString>
#include <QTextDocument>

namespace sb::test {

// The text a person reads in a tooltip: rich text rendered, plain text as it is.
inline QString shownToolTip(const QString& toolTip) {
    QTextDocument document;
    document.setHtml(toolTip);
    return document.toPlainText();
}

}  // namespace sb::test
