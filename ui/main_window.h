#pragma once

#include <QLabel>
#include <QMainWindow>
#include <QStringList>

#include "ui/registration_indicator.h"

namespace sb::ui {

// The console's window. For now: the registration state in the status bar and an
// empty board area; the BLF board fills the centre in the next step.
class MainWindow final : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);

    RegistrationIndicator* registrationIndicator() const { return m_registration; }
    QString boardPlaceholderText() const { return m_placeholder->text(); }

public slots:
    void showRegistration(const sb::ui::RegistrationIndicator::Status& status);
    void showListenAddresses(const QStringList& addresses);

signals:
    // The user asked to quit (menu, shortcut, or closing the window); the application
    // unregisters before it exits.
    void quitRequested();

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    void createMenus();
    void showAbout();

    QLabel* m_placeholder;
    QLabel* m_listen;
    RegistrationIndicator* m_registration;
    bool m_quitting = false;
};

}  // namespace sb::ui
