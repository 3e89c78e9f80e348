#include "app/headless_protocol.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonParseError>

namespace sb::app {

namespace {

const QString kCmd = QStringLiteral("cmd");
const QString kId = QStringLiteral("id");
const QString kEvent = QStringLiteral("event");

}  // namespace

ParsedCommand parseCommand(QByteArrayView line) {
    ParsedCommand out;
    if (line.size() > kMaxCommandLine) {
        out.error = QStringLiteral("command line longer than %1 bytes").arg(kMaxCommandLine);
        return out;
    }
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(line.toByteArray(), &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        out.error = QStringLiteral("not valid JSON: %1 at offset %2")
                        .arg(parseError.errorString())
                        .arg(parseError.offset);
        return out;
    }
    if (!document.isObject()) {
        out.error = QStringLiteral("a command must be a JSON object like {\"cmd\":\"quit\"}");
        return out;
    }
    const QJsonObject object = document.object();
    out.id = object.value(kId);
    if (!out.id.isUndefined() && !out.id.isString() && !out.id.isDouble()) {
        out.id = QJsonValue(QJsonValue::Undefined);
        out.error = QStringLiteral("\"id\" must be a string or a number");
        return out;
    }
    const QJsonValue cmd = object.value(kCmd);
    if (cmd.isUndefined()) {
        out.error = QStringLiteral("missing \"cmd\"");
        return out;
    }
    if (!cmd.isString()) {
        out.error = QStringLiteral("\"cmd\" must be a string");
        return out;
    }
    const QString name = cmd.toString();
    if (name == QLatin1String("quit")) {
        out.kind = CommandKind::Quit;
        return out;
    }
    out.error = QStringLiteral("unknown command \"%1\" (known: quit)").arg(name);
    return out;
}

QJsonObject startedEvent(const QString& version, const QStringList& listen) {
    return QJsonObject{{kEvent, QStringLiteral("started")},
                       {QStringLiteral("version"), version},
                       {QStringLiteral("listen"), QJsonArray::fromStringList(listen)}};
}

QJsonObject registrationEvent(const RegistrationStatus& status) {
    QJsonObject object{{kEvent, QStringLiteral("registration")},
                       {QStringLiteral("state"), stateName(status.state)},
                       {QStringLiteral("aor"), status.aor}};
    if (status.state == RegistrationStatus::State::Registered)
        object.insert(QStringLiteral("expires"), static_cast<qint64>(status.expires));
    if (status.code != 0) object.insert(QStringLiteral("code"), status.code);
    if (!status.reason.isEmpty()) object.insert(QStringLiteral("reason"), status.reason);
    if (status.retryIn)
        object.insert(QStringLiteral("retry_in"), static_cast<qint64>(*status.retryIn));
    return object;
}

QJsonObject ackEvent(const QJsonValue& id) {
    QJsonObject object{{kEvent, QStringLiteral("ack")}};
    if (!id.isUndefined()) object.insert(kId, id);
    return object;
}

QJsonObject errorEvent(const QJsonValue& id, const QString& message) {
    QJsonObject object{{kEvent, QStringLiteral("error")}, {QStringLiteral("message"), message}};
    if (!id.isUndefined()) object.insert(kId, id);
    return object;
}

QByteArray toLine(const QJsonObject& object) {
    QByteArray line = QJsonDocument(object).toJson(QJsonDocument::Compact);
    line += '\n';
    return line;
}

}  // namespace sb::app
