#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QJsonObject>
#include <QJsonValue>
#include <QString>
#include <QStringList>

#include <optional>

#include "app/registration_status.h"

namespace sb::app {

// The JSON-lines machine interface (docs/headless.md): one compact JSON object per line,
// "event" objects out on stdout, "cmd" objects in on stdin.

enum class CommandKind { Quit };

struct ParsedCommand {
    QJsonValue id{QJsonValue::Undefined};  // echoed in "ack"/"error"; undefined when absent
    std::optional<CommandKind> kind;       // empty: the line is not an acceptable command
    QString error;                         // why not, for the "error" event
};

// Longest command line accepted; longer lines are refused without being parsed.
constexpr qsizetype kMaxCommandLine = 64 * 1024;

ParsedCommand parseCommand(QByteArrayView line);

QJsonObject startedEvent(const QString& version, const QStringList& listen);
QJsonObject registrationEvent(const RegistrationStatus& status);
QJsonObject ackEvent(const QJsonValue& id);
QJsonObject errorEvent(const QJsonValue& id, const QString& message);

// One line of output: compact JSON and '\n'.
QByteArray toLine(const QJsonObject& object);

}  // namespace sb::app
