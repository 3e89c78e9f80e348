#include "ui/registration_indicator.h"

#include <QHBoxLayout>
#include <QStyle>

#include "ui/plain_text.h"

namespace sb::ui {

namespace {

constexpr int kIconSize = 16;

}  // namespace

RegistrationIndicator::RegistrationIndicator(QWidget* parent)
    : QWidget(parent), m_icon(new QLabel(this)), m_text(new QLabel(this)) {
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_icon);
    layout->addWidget(m_text);
    layout->addStretch(1);
    m_text->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_text->setTextFormat(Qt::PlainText);  // a server's reason phrase is not markup
    setStatus(Status{});
}

void RegistrationIndicator::setStatus(const Status& status) {
    m_status = status;
    const QString sentence = describe(status);
    m_text->setText(sentence);
    m_icon->setPixmap(iconFor(status.state).pixmap(kIconSize, kIconSize));
    setAccessibleName(status.state == State::Server ? tr("Server") : tr("Registration"));
    setAccessibleDescription(sentence);
    setToolTip(plainToolTip(sentence));
}

QString RegistrationIndicator::text() const {
    return m_text->text();
}

QString RegistrationIndicator::describe(const Status& status) const {
    switch (status.state) {
        case State::NotConfigured:
            return tr("No account configured (start with --config FILE)");
        case State::Unregistered:
            return tr("Not registered: %1").arg(status.aor);
        case State::Registering:
            return tr("Registering %1…").arg(status.aor);
        case State::Registered:
            return tr("Registered: %1 (for %n s)", nullptr, static_cast<int>(status.expires))
                .arg(status.aor);
        case State::Failed: {
            QString why =
                status.code != 0 ? tr("%1 %2").arg(status.code).arg(status.reason) : status.reason;
            if (why.trimmed().isEmpty()) why = tr("no answer");
            if (status.retryIn) {
                return tr("Registration failed: %1: %2; retrying in %n s", nullptr,
                          static_cast<int>(*status.retryIn))
                    .arg(status.aor, why);
            }
            return tr("Registration failed: %1: %2").arg(status.aor, why);
        }
        case State::Server:
            return tr("Built-in server · %1").arg(status.domain);
    }
    return {};
}

QIcon RegistrationIndicator::iconFor(State state) const {
    // Each state has its own shape (tick, cross, arrows, stop, info, computer), not only
    // a colour.
    switch (state) {
        case State::NotConfigured:
            return style()->standardIcon(QStyle::SP_MessageBoxInformation);
        case State::Unregistered:
            return style()->standardIcon(QStyle::SP_MediaStop);
        case State::Registering:
            return style()->standardIcon(QStyle::SP_BrowserReload);
        case State::Registered:
            return style()->standardIcon(QStyle::SP_DialogApplyButton);
        case State::Failed:
            return style()->standardIcon(QStyle::SP_MessageBoxCritical);
        case State::Server:
            return style()->standardIcon(QStyle::SP_ComputerIcon);
    }
    return {};
}

}  // namespace sb::ui
