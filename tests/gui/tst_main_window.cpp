// The main window on the offscreen platform: the registration state in the status bar
// (text and icon, never colour alone), the empty board, and a screenshot for review.

#include <QApplication>
#include <QDir>
#include <QLabel>
#include <QStatusBar>
#include <QTest>

#include "base/manual_clock.h"
#include "board/console.h"
#include "ui/main_window.h"

using sb::ui::MainWindow;
using sb::ui::RegistrationIndicator;
using State = sb::ui::RegistrationIndicator::State;

class TstMainWindow : public QObject {
    Q_OBJECT

private:
    sb::base::ManualClock m_clock;
    sb::board::Console m_console{m_clock};

    static RegistrationIndicator::Status status(State state) {
        RegistrationIndicator::Status s;
        s.state = state;
        s.aor = QStringLiteral("sip:reception@example.com");
        return s;
    }

    // The pixmap the indicator shows next to its text.
    static QImage iconOf(const MainWindow& window) {
        const auto labels = window.registrationIndicator()->findChildren<QLabel*>();
        for (const QLabel* label : labels)
            if (!label->pixmap().isNull()) return label->pixmap().toImage();
        return {};
    }

private slots:
    void initTestCase() { QCOMPARE(QGuiApplication::platformName(), QStringLiteral("offscreen")); }

    void startsEmptyAndUnconfigured() {
        MainWindow window(m_console);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QCOMPARE(window.boardPlaceholderText(), QStringLiteral("No extensions monitored yet"));
        QCOMPARE(window.registrationIndicator()->text(),
                 QStringLiteral("No account configured (start with --config FILE)"));
        QVERIFY(window.statusBar()->isAncestorOf(window.registrationIndicator()));
    }

    void showsEachRegistrationState() {
        MainWindow window(m_console);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));

        window.showRegistration(status(State::Registering));
        QCOMPARE(window.registrationIndicator()->text(),
                 QStringLiteral("Registering sip:reception@example.com…"));
        const QImage registeringIcon = iconOf(window);

        RegistrationIndicator::Status registered = status(State::Registered);
        registered.expires = 600;
        window.showRegistration(registered);
        QCOMPARE(window.registrationIndicator()->text(),
                 QStringLiteral("Registered: sip:reception@example.com (for 600 s)"));
        const QImage registeredIcon = iconOf(window);

        RegistrationIndicator::Status failed = status(State::Failed);
        failed.code = 403;
        failed.reason = QStringLiteral("Forbidden");
        failed.retryIn = 30;
        window.showRegistration(failed);
        QCOMPARE(window.registrationIndicator()->text(),
                 QStringLiteral("Registration failed: sip:reception@example.com: 403 Forbidden; "
                                "retrying in 30 s"));
        const QImage failedIcon = iconOf(window);
        QCOMPARE(window.registrationIndicator()->accessibleDescription(),
                 window.registrationIndicator()->text());

        RegistrationIndicator::Status timedOut = status(State::Failed);
        timedOut.reason = QStringLiteral("no answer");
        window.showRegistration(timedOut);
        QCOMPARE(window.registrationIndicator()->text(),
                 QStringLiteral("Registration failed: sip:reception@example.com: no answer"));

        window.showRegistration(status(State::Unregistered));
        QCOMPARE(window.registrationIndicator()->text(),
                 QStringLiteral("Not registered: sip:reception@example.com"));

        // Each state has an icon of its own, beside the words.
        QVERIFY(!registeredIcon.isNull() && !failedIcon.isNull() && !registeringIcon.isNull());
        QVERIFY(registeredIcon != failedIcon);
        QVERIFY(registeredIcon != registeringIcon);
        QVERIFY(failedIcon != registeringIcon);
    }

    void showsListenAddresses() {
        MainWindow window(m_console);
        window.showListenAddresses(
            {QStringLiteral("udp:127.0.0.1:5060"), QStringLiteral("tcp:127.0.0.1:5060")});
        bool found = false;
        for (const QLabel* label : window.statusBar()->findChildren<QLabel*>())
            found |= label->text() ==
                     QStringLiteral("Listening on udp:127.0.0.1:5060, tcp:127.0.0.1:5060");
        QVERIFY(found);
    }

    void closingAsksToQuitOnce() {
        MainWindow window(m_console);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        int requests = 0;
        connect(&window, &MainWindow::quitRequested, this, [&requests] { ++requests; });
        window.close();
        window.close();
        QCOMPARE(requests, 1);
    }

    void quitShortcut() {
        MainWindow window(m_console);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        window.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&window));
        int requests = 0;
        connect(&window, &MainWindow::quitRequested, this, [&requests] { ++requests; });
        QTest::keySequence(&window, QKeySequence(Qt::CTRL | Qt::Key_Q));
        QCOMPARE(requests, 1);
    }

    void screenshot() {
        MainWindow window(m_console);
        RegistrationIndicator::Status registered = status(State::Registered);
        registered.expires = 3600;
        window.showRegistration(registered);
        window.showListenAddresses({QStringLiteral("udp:127.0.0.1:5060")});
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        const QPixmap shot = window.grab();
        QVERIFY(!shot.isNull());
        QCOMPARE(shot.size(), window.size() * shot.devicePixelRatio());
        const QString dir = qEnvironmentVariable("SB_BINARY_DIR", QDir::currentPath()) +
                            QStringLiteral("/screenshots");
        QVERIFY(QDir().mkpath(dir));
        const QString path = dir + QStringLiteral("/main_window.png");
        QVERIFY2(shot.save(path), qPrintable(path));
        QVERIFY(QFileInfo(path).size() > 0);
    }
};

QTEST_MAIN(TstMainWindow)
#include "tst_main_window.moc"
