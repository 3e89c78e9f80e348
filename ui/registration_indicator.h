#pragma once

#include <QLabel>
#include <QString>
#include <QWidget>

#include <optional>

namespace sb::ui {

// The status bar's registration lamp: an icon and a sentence, so the state never
// depends on colour alone (DESIGN.md, Lamps).
class RegistrationIndicator final : public QWidget {
    Q_OBJECT
public:
    // Server: the console runs its own SIP server and registers nowhere; the phones
    // register to it (issue 4), so "not registered" would be wrong.
    enum class State { NotConfigured, Unregistered, Registering, Registered, Failed, Server };

    // What to show; filled by the application from the registration's events.
    struct Status {
        State state = State::NotConfigured;
        QString aor;
        quint32 expires = 0;             // Registered: granted lifetime in seconds
        int code = 0;                    // Failed: SIP status, 0 when none arrived
        QString reason;                  // Failed: reason phrase or what happened instead
        std::optional<quint32> retryIn;  // Failed: seconds to the next attempt
        QString domain;                  // Server: the SIP domain it serves
    };

    explicit RegistrationIndicator(QWidget* parent = nullptr);

    void setStatus(const Status& status);
    const Status& status() const { return m_status; }
    QString text() const;

private:
    QString describe(const Status& status) const;
    QIcon iconFor(State state) const;

    Status m_status;
    QLabel* m_icon;
    QLabel* m_text;
};

}  // namespace sb::ui
