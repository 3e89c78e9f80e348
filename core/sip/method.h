#pragma once

#include <QByteArrayView>
#include <QtGlobal>

namespace sb::sip {

enum class Method : quint8 {
    Unknown,  // an extension method; its name is still available on the message
    Invite,
    Ack,
    Bye,
    Cancel,
    Register,
    Options,
    Subscribe,
    Notify,
    Publish,
    Refer,
    Message,
    Info,
    Prack,
    Update,
};

// Methods are case-sensitive (RFC 3261 §7.1): "invite" is an unknown extension method.
Method methodFromName(QByteArrayView name);
QByteArrayView methodName(Method method);

}  // namespace sb::sip
