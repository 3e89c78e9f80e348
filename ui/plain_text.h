#pragma once

#include <QString>

namespace sb::ui {

// Text that came over the network (display names, URIs, reason phrases) put where Qt
// reads markup. A tooltip whose text looks like HTML is shown as HTML, so a caller
// named "<b>Boss</b>" would be shown in bold, or an <img> loaded: this escapes it and
// keeps its line breaks. An empty text stays empty (no tooltip).
QString plainToolTip(const QString& text);

}  // namespace sb::ui
