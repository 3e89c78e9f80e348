#include "sip/method.h"

#include <array>

namespace sb::sip {

namespace {
constexpr std::array<QByteArrayView, 15> kMethodNames = {
    "",       "INVITE",  "ACK",   "BYE",     "CANCEL", "REGISTER", "OPTIONS", "SUBSCRIBE",
    "NOTIFY", "PUBLISH", "REFER", "MESSAGE", "INFO",   "PRACK",    "UPDATE",
};
}  // namespace

Method methodFromName(QByteArrayView name) {
    // Dispatch on length and first letter; methods are case-sensitive.
    if (name.size() < 3) return Method::Unknown;
    for (std::size_t i = 1; i < kMethodNames.size(); ++i) {
        const QByteArrayView candidate = kMethodNames[i];
        if (candidate.size() == name.size() && candidate[0] == name[0] && candidate == name)
            return static_cast<Method>(i);
    }
    return Method::Unknown;
}

QByteArrayView methodName(Method method) {
    const auto index = static_cast<std::size_t>(method);
    return index < kMethodNames.size() ? kMethodNames[index] : QByteArrayView();
}

}  // namespace sb::sip
