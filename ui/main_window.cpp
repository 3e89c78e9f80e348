#include "ui/main_window.h"

#include <QAction>
#include <QCloseEvent>
#include <QCoreApplication>
#include <QMenuBar>
#include <QMessageBox>
#include <QStatusBar>

namespace sb::ui {

namespace {

// Some platforms (the offscreen one, minimal window managers) bind no key to a
// standard action; keyboard-first means there is one anyway.
QList<QKeySequence> standardOr(QKeySequence::StandardKey key, const QKeySequence& fallback) {
    QList<QKeySequence> keys = QKeySequence::keyBindings(key);
    if (keys.isEmpty()) keys << fallback;
    return keys;
}

}  // namespace

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent),
      m_placeholder(new QLabel(this)),
      m_listen(new QLabel(this)),
      m_registration(new RegistrationIndicator(this)) {
    setWindowTitle(tr("Switchboard"));
    m_placeholder->setText(tr("No extensions monitored yet"));
    m_placeholder->setAlignment(Qt::AlignCenter);
    m_placeholder->setObjectName(QStringLiteral("boardPlaceholder"));
    setCentralWidget(m_placeholder);

    m_registration->setObjectName(QStringLiteral("registrationIndicator"));
    statusBar()->addWidget(m_registration, 1);
    statusBar()->addPermanentWidget(m_listen);
    createMenus();
    resize(800, 500);
}

void MainWindow::createMenus() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* quit = file->addAction(tr("&Quit"));
    quit->setShortcuts(standardOr(QKeySequence::Quit, QKeySequence(Qt::CTRL | Qt::Key_Q)));
    quit->setMenuRole(QAction::QuitRole);
    connect(quit, &QAction::triggered, this, &MainWindow::close);

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    QAction* about = help->addAction(tr("&About Switchboard"));
    about->setShortcuts(standardOr(QKeySequence::HelpContents, QKeySequence(Qt::Key_F1)));
    about->setMenuRole(QAction::AboutRole);
    connect(about, &QAction::triggered, this, &MainWindow::showAbout);
}

void MainWindow::showRegistration(const RegistrationIndicator::Status& status) {
    m_registration->setStatus(status);
}

void MainWindow::showListenAddresses(const QStringList& addresses) {
    m_listen->setText(addresses.isEmpty() ? QString()
                                          : tr("Listening on %1").arg(addresses.join(tr(", "))));
}

void MainWindow::closeEvent(QCloseEvent* event) {
    // The first close asks the application to unregister; it closes us again when done.
    if (!m_quitting) {
        m_quitting = true;
        emit quitRequested();
    }
    event->accept();
}

void MainWindow::showAbout() {
    QMessageBox::about(this, tr("About Switchboard"),
                       tr("<p><b>Switchboard</b> %1</p><p>An attendant console for SIP "
                          "telephony.</p>")
                           .arg(QCoreApplication::applicationVersion().toHtmlEscaped()));
}

}  // namespace sb::ui
