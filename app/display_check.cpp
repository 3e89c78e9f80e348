#include "app/display_check.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <QStringList>

namespace sb::app {

namespace {

bool platformNeedsNoDisplay(const QString& platform) {
    static const QStringList kStandalone = {
        QStringLiteral("offscreen"),   QStringLiteral("minimal"), QStringLiteral("minimalegl"),
        QStringLiteral("vnc"),         QStringLiteral("linuxfb"), QStringLiteral("eglfs"),
        QStringLiteral("vkkhrdisplay")};
    return kStandalone.contains(platform);
}

// DISPLAY=":N[.S]" is a local X server with a socket in /tmp/.X11-unix; a remote one
// ("host:N", ssh forwarding) cannot be checked here and is trusted.
bool x11Reachable(const QString& display) {
    static const QRegularExpression kLocal(QStringLiteral("^(unix)?:(\\d+)(\\.\\d+)?$"));
    const QRegularExpressionMatch match = kLocal.match(display);
    if (!match.hasMatch()) return true;
    const QString socket = QStringLiteral("/tmp/.X11-unix/X") + match.captured(2);
    if (QFileInfo::exists(socket)) return true;
    // A private /tmp (sandboxes, PrivateTmp=) hides the file, not the abstract socket.
    QFile unixSockets(QStringLiteral("/proc/net/unix"));
    if (!unixSockets.open(QIODevice::ReadOnly)) return false;
    const QByteArray abstractName = '@' + socket.toLatin1();
    while (!unixSockets.atEnd()) {
        if (unixSockets.readLine().trimmed().endsWith(abstractName)) return true;
    }
    return false;
}

bool waylandReachable(const QString& display, const QString& runtimeDir) {
    if (QDir::isAbsolutePath(display)) return QFileInfo::exists(display);
    if (runtimeDir.isEmpty()) return false;
    return QFileInfo::exists(runtimeDir + QLatin1Char('/') + display);
}

}  // namespace

DisplayCheck checkDisplay(const QProcessEnvironment& environment) {
    const QString display = environment.value(QStringLiteral("DISPLAY"));
    const QString wayland = environment.value(QStringLiteral("WAYLAND_DISPLAY"));
    const QString runtimeDir = environment.value(QStringLiteral("XDG_RUNTIME_DIR"));
    const bool haveX11 = !display.isEmpty() && x11Reachable(display);
    const bool haveWayland = !wayland.isEmpty() && waylandReachable(wayland, runtimeDir);

    // QT_QPA_PLATFORM is a ';'-separated list of fallbacks, each "name[:options]".
    const QString requested = environment.value(QStringLiteral("QT_QPA_PLATFORM"));
    if (!requested.isEmpty()) {
        for (const QString& entry : requested.split(QLatin1Char(';'), Qt::SkipEmptyParts)) {
            const QString name = entry.section(QLatin1Char(':'), 0, 0).trimmed();
            if (platformNeedsNoDisplay(name)) return {true, {}};
            if (name == QLatin1String("xcb") && haveX11) return {true, {}};
            if (name.startsWith(QLatin1String("wayland")) && haveWayland) return {true, {}};
        }
        return {
            false,
            QStringLiteral("QT_QPA_PLATFORM=%1 needs a display that is not there").arg(requested)};
    }
    if (haveX11 || haveWayland) return {true, {}};
    if (!display.isEmpty())
        return {false, QStringLiteral("the X display %1 cannot be reached").arg(display)};
    if (!wayland.isEmpty())
        return {false, QStringLiteral("the Wayland display %1 cannot be reached").arg(wayland)};
    return {false, QStringLiteral("neither DISPLAY nor WAYLAND_DISPLAY is set")};
}

}  // namespace sb::app
