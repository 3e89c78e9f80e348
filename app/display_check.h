#pragma once

#include <QProcessEnvironment>
#include <QString>

namespace sb::app {

// Whether a window can be shown: a Qt platform plugin that needs no display server
// (offscreen, vnc, linuxfb, eglfs…) is chosen, or an X11 / Wayland display is there.
// Checked before QApplication exists, because QApplication aborts when the display
// it is told about cannot be reached.
struct DisplayCheck {
    bool available = false;
    QString reason;  // when not available: what is missing
};

DisplayCheck checkDisplay(const QProcessEnvironment& environment);

}  // namespace sb::app
