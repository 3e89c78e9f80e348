#pragma once

#include <QString>
#include <QtGlobal>

#include <optional>

namespace sb::app {

// What the front ends show of the account's registration (RFC 3261 §10); filled from
// the registration client's callbacks, read by the window and the headless events.
struct RegistrationStatus {
    enum class State { Unregistered, Registering, Registered, Failed };

    State state = State::Unregistered;
    QString aor;
    quint32 expires = 0;             // lifetime the registrar granted (Registered)
    int code = 0;                    // status code of the final answer, 0 if none
    QString reason;                  // its reason phrase, or why no answer came
    std::optional<quint32> retryIn;  // seconds to the next attempt after a failure

    bool operator==(const RegistrationStatus&) const = default;
};

// "registered", "failed", "unregistered", "registering": the headless schema's names.
QString stateName(RegistrationStatus::State state);

}  // namespace sb::app
