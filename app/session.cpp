#include "app/session.h"

#include "sip/diversion.h"

namespace sb::app {

namespace {

Unexpected notHere() {
    return fail(ErrorKind::Protocol,
                QStringLiteral("operator actions are not available in this mode yet"));
}

}  // namespace

Result<QString> Session::pickup(const QString&, const QString&) {
    return notHere();
}

Result<QString> Session::forward(const ForwardCommand&) {
    return notHere();
}

Result<QString> Session::sendToPhone(quint64) {
    return notHere();
}

Result<QString> Session::reject(quint64, int) {
    return notHere();
}

Result<sip::ForwardChoices> forwardChoicesOf(const ForwardCommand& command) {
    sip::ForwardChoices choices;
    choices.reason = command.reason.toUtf8();
    choices.diversionUri = command.uri.toUtf8();
    if (command.privacy) {
        const auto privacy = sip::parseDiversionPrivacy(command.privacy->toUtf8());
        if (!privacy)
            return fail(ErrorKind::Protocol,
                        QStringLiteral("privacy '%1' is not one of: full, name, uri, off")
                            .arg(*command.privacy));
        choices.privacy = *privacy;
    }
    choices.counter = command.counter;
    choices.historyInfo = command.historyInfo;
    return choices;
}

QStringList Session::forwardReasons() const {
    QStringList reasons;
    for (QByteArrayView reason : sip::registeredDiversionReasons())
        reasons << QString::fromLatin1(reason);
    return reasons;
}

QString Session::extensionActionsUnavailable() const {
    return QStringLiteral("operator actions are not available in this mode yet");
}

}  // namespace sb::app
