#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QDateTime>
#include <QJsonObject>
#include <QJsonValue>
#include <QString>
#include <QStringList>

#include <optional>

#include "app/registration_status.h"
#include "app/session.h"
#include "base/clock.h"
#include "board/console.h"
#include "board/directory.h"

namespace sb::app {

// The JSON-lines machine interface (docs/headless.md): one compact JSON object per line,
// "event" objects out on stdout, "cmd" objects in on stdin.

enum class CommandKind { Quit, Monitor, Unmonitor, Snapshot, Pickup, Forward, Reject };

struct ParsedCommand {
    QJsonValue id{QJsonValue::Undefined};  // echoed in "ack"/"error"; undefined when absent
    std::optional<CommandKind> kind;       // empty: the line is not an acceptable command
    QString error;                         // why not, for the "error" event
    // monitor: extension, name, group, uri; unmonitor: extension.
    board::Extension extension;
    // pickup: ext, dialog or call (a queued call: to the operator's phone).
    QString pickupExtension;
    QString pickupDialog;
    quint64 call = 0;  // pickup, reject
    int status = 0;    // reject
    ForwardCommand forward;
};

// Longest command line accepted; longer lines are refused without being parsed.
constexpr qsizetype kMaxCommandLine = 64 * 1024;

ParsedCommand parseCommand(QByteArrayView line);

QJsonObject startedEvent(const QString& version, const QStringList& listen);
// The same with the way Switchboard runs: "server" (the built-in server, with its
// domain) or "client" (registered at a PBX).
QJsonObject startedEvent(const QString& version, const QStringList& listen, const QString& mode,
                         const QString& domain);
// Server mode: a user's registered contacts after a change ("binding" event); an empty
// list means the user is not registered any more.
QJsonObject bindingEvent(const QString& user, const QList<BindingView>& bindings);
QJsonObject registrationEvent(const RegistrationStatus& status);
// [publish]: one publication accepted, failed or removed ("publication" event).
QJsonObject publicationEvent(const PublicationView& publication);
// publicationEvent() as a JSON line, written directly (the same text as
// toLine(publicationEvent())): one is written per PUBLISH answered.
QByteArray publicationLine(const PublicationView& publication);
QJsonObject ackEvent(const QJsonValue& id);
// The ack of an operator action, with what it did in words ("result").
QJsonObject ackEvent(const QJsonValue& id, const QString& result);
// A queued call (or one the operator acts on) changed or left ("call" event).
QJsonObject callEvent(const QueuedCallView& call);
QJsonObject callObject(const QueuedCallView& call);
// One extension's lamp and dialogs ("lamp" event without "event"; also the elements of
// "snapshot"). Times on the console's steady clock become UTC wall-clock times via
// `now`/`wallNow`.
QJsonObject lampObject(const board::ExtensionState& state, base::TimePoint now,
                       const QDateTime& wallNow);
QJsonObject lampEvent(const board::ExtensionState& state, base::TimePoint now,
                      const QDateTime& wallNow);
// lampEvent() as a JSON line, written directly (the same text as toLine(lampEvent())):
// lamp events are written by the thousand a second on a busy server.
QByteArray lampLine(const board::ExtensionState& state, base::TimePoint now,
                    const QDateTime& wallNow);
// What lampLine() shows, with times as steady-clock milliseconds: equal keys, equal
// events (compared to write only real changes; no wall-clock rendering needed).
QByteArray lampKey(const board::ExtensionState& state);
QJsonObject subscriptionEvent(const QString& number, const ua::SubscriptionStatus& status);
QJsonObject errorEvent(const QJsonValue& id, const QString& message);

// One line of output: compact JSON and '\n'.
QByteArray toLine(const QJsonObject& object);

}  // namespace sb::app
