#include "app/registration_status.h"

namespace sb::app {

QString stateName(RegistrationStatus::State state) {
    switch (state) {
        case RegistrationStatus::State::Unregistered:
            return QStringLiteral("unregistered");
        case RegistrationStatus::State::Registering:
            return QStringLiteral("registering");
        case RegistrationStatus::State::Registered:
            return QStringLiteral("registered");
        case RegistrationStatus::State::Failed:
            return QStringLiteral("failed");
    }
    return {};
}

}  // namespace sb::app
