// Tests app/display_check.*: when the window cannot be shown, and why.

#include <QTemporaryDir>
#include <QTest>

#include "app/display_check.h"

using sb::app::checkDisplay;

class TstDisplayCheck : public QObject {
    Q_OBJECT

private:
    static QProcessEnvironment env(std::initializer_list<std::pair<const char*, QString>> vars) {
        QProcessEnvironment environment;
        for (const auto& [name, value] : vars)
            environment.insert(QLatin1String(name), value);
        return environment;
    }

private slots:
    void nothingSet() {
        const auto check = checkDisplay(QProcessEnvironment());
        QVERIFY(!check.available);
        QVERIFY(check.reason.contains(QStringLiteral("neither DISPLAY nor WAYLAND_DISPLAY")));
    }

    void offscreenNeedsNoDisplay() {
        QVERIFY(checkDisplay(env({{"QT_QPA_PLATFORM", QStringLiteral("offscreen")}})).available);
        QVERIFY(
            checkDisplay(env({{"QT_QPA_PLATFORM", QStringLiteral("vnc:size=800x600")}})).available);
        QVERIFY(
            checkDisplay(env({{"QT_QPA_PLATFORM", QStringLiteral("xcb;offscreen")}})).available);
    }

    void xcbWithoutDisplay() {
        const auto check = checkDisplay(env({{"QT_QPA_PLATFORM", QStringLiteral("xcb")}}));
        QVERIFY(!check.available);
        QVERIFY(check.reason.contains(QStringLiteral("QT_QPA_PLATFORM=xcb")));
    }

    void localX11WithoutSocket() {
        // Display numbers this high have no server socket in /tmp/.X11-unix.
        const auto check = checkDisplay(env({{"DISPLAY", QStringLiteral(":98765")}}));
        QVERIFY(!check.available);
        QVERIFY(check.reason.contains(QStringLiteral(":98765")));
    }

    void remoteX11IsTrusted() {
        QVERIFY(checkDisplay(env({{"DISPLAY", QStringLiteral("localhost:10.0")}})).available);
    }

    void waylandSocket() {
        QTemporaryDir runtime;
        QVERIFY(runtime.isValid());
        const auto missing = checkDisplay(env({{"WAYLAND_DISPLAY", QStringLiteral("wayland-0")},
                                               {"XDG_RUNTIME_DIR", runtime.path()}}));
        QVERIFY(!missing.available);
        QFile socket(runtime.filePath(QStringLiteral("wayland-0")));
        QVERIFY(socket.open(QIODevice::WriteOnly));
        socket.close();
        QVERIFY(checkDisplay(env({{"WAYLAND_DISPLAY", QStringLiteral("wayland-0")},
                                  {"XDG_RUNTIME_DIR", runtime.path()}}))
                    .available);
    }
};

QTEST_GUILESS_MAIN(TstDisplayCheck)
#include "tst_display_check.moc"
