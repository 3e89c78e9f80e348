#include "app/headless_protocol.h"

#include "app/json_line.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonParseError>

namespace sb::app {

namespace {

const QString kCmd = QStringLiteral("cmd");
const QString kId = QStringLiteral("id");

bool isSipUriText(const QString& text) {
    return text.startsWith(QLatin1String("sip:")) || text.startsWith(QLatin1String("sips:"));
}
const QString kEvent = QStringLiteral("event");

// A call id: a positive integer, as a JSON number or a string of digits.
std::optional<quint64> callIdOf(const QJsonValue& value) {
    if (value.isDouble()) {
        const double number = value.toDouble();
        if (number >= 1 && number <= 9007199254740991.0 && number == double(qint64(number)))
            return quint64(number);
        return std::nullopt;
    }
    if (value.isString()) {
        bool ok = false;
        const quint64 number = value.toString().toULongLong(&ok);
        if (ok && number > 0) return number;
    }
    return std::nullopt;
}

// An optional string field; false (with out.error set) when present but not a string.
bool optionalString(const QJsonObject& object, const QString& key, QString& field,
                    ParsedCommand& out) {
    const QJsonValue value = object.value(key);
    if (value.isUndefined() || value.isNull()) return true;
    if (!value.isString()) {
        out.error = QStringLiteral("\"%1\" must be a string").arg(key);
        return false;
    }
    field = value.toString().trimmed();
    return true;
}

// "ext" (or "extension") as a string.
bool extensionField(const QJsonObject& object, QString& field, ParsedCommand& out) {
    for (const QString& key : {QStringLiteral("ext"), QStringLiteral("extension")}) {
        if (!optionalString(object, key, field, out)) return false;
        if (!field.isEmpty()) return true;
    }
    return true;
}

ParsedCommand parsePickup(const QJsonObject& object, ParsedCommand out) {
    if (!extensionField(object, out.pickupExtension, out)) return out;
    if (!optionalString(object, QStringLiteral("dialog"), out.pickupDialog, out)) return out;
    const QJsonValue call = object.value(QStringLiteral("call"));
    if (!call.isUndefined()) {
        const std::optional<quint64> id = callIdOf(call);
        if (!id) {
            out.error = QStringLiteral("\"call\" must be a call id from a \"call\" event");
            return out;
        }
        out.call = *id;
    }
    const int given =
        int(!out.pickupExtension.isEmpty()) + int(!out.pickupDialog.isEmpty()) + int(out.call != 0);
    if (given != 1) {
        out.error = QStringLiteral(
            "\"pickup\" needs one of \"ext\" (a ringing extension), "
            "\"dialog\" (a dialog id of a lamp event) or \"call\" (a queued "
            "call)");
        return out;
    }
    out.kind = CommandKind::Pickup;
    return out;
}

ParsedCommand parseForward(const QJsonObject& object, ParsedCommand out) {
    ForwardCommand& forward = out.forward;
    if (!extensionField(object, forward.extension, out)) return out;
    const QJsonValue call = object.value(QStringLiteral("call"));
    if (!call.isUndefined()) {
        const std::optional<quint64> id = callIdOf(call);
        if (!id) {
            out.error = QStringLiteral("\"call\" must be a call id from a \"call\" event");
            return out;
        }
        forward.call = *id;
    }
    if ((forward.call != 0) == !forward.extension.isEmpty()) {
        out.error = QStringLiteral(
            "\"forward\" needs one of \"call\" (a queued call) or \"ext\" "
            "(a ringing extension)");
        return out;
    }
    if (!optionalString(object, QStringLiteral("to"), forward.to, out)) return out;
    if (forward.to.isEmpty()) {
        out.error = QStringLiteral("\"forward\" needs \"to\": an extension or a SIP URI");
        return out;
    }
    if (!optionalString(object, QStringLiteral("reason"), forward.reason, out)) return out;
    if (!optionalString(object, QStringLiteral("uri"), forward.uri, out)) return out;
    QString privacy;
    if (!optionalString(object, QStringLiteral("privacy"), privacy, out)) return out;
    if (!privacy.isEmpty()) forward.privacy = privacy;
    const QJsonValue counter = object.value(QStringLiteral("counter"));
    if (!counter.isUndefined() && !counter.isNull()) {
        const std::optional<quint64> number = callIdOf(counter);
        if (!counter.isDouble() || !number || *number > 100) {
            out.error = QStringLiteral("\"counter\" must be a whole number from 1 to 100");
            return out;
        }
        forward.counter = int(*number);
    }
    const QJsonValue history = object.value(QStringLiteral("history_info"));
    if (!history.isUndefined() && !history.isNull()) {
        if (!history.isBool()) {
            out.error = QStringLiteral("\"history_info\" must be true or false");
            return out;
        }
        forward.historyInfo = history.toBool();
    }
    out.kind = CommandKind::Forward;
    return out;
}

ParsedCommand parseReject(const QJsonObject& object, ParsedCommand out) {
    const std::optional<quint64> id = callIdOf(object.value(QStringLiteral("call")));
    if (!id) {
        out.error = QStringLiteral("\"reject\" needs \"call\", a call id from a \"call\" event");
        return out;
    }
    out.call = *id;
    out.status = 486;  // Busy Here unless told otherwise
    const QJsonValue code = object.value(QStringLiteral("code"));
    if (!code.isUndefined() && !code.isNull()) {
        const double number = code.toDouble(-1);
        if (!code.isDouble() || number < 400 || number > 699 || number != double(int(number))) {
            out.error = QStringLiteral("\"code\" must be a SIP failure status from 400 to 699");
            return out;
        }
        out.status = int(number);
    }
    out.kind = CommandKind::Reject;
    return out;
}

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
    if (name == QLatin1String("snapshot")) {
        out.kind = CommandKind::Snapshot;
        return out;
    }
    if (name == QLatin1String("monitor") || name == QLatin1String("unmonitor")) {
        const QJsonValue extension = object.value(QStringLiteral("extension"));
        if (!extension.isString() || extension.toString().trimmed().isEmpty()) {
            out.error =
                QStringLiteral("\"%1\" needs \"extension\", a string like \"201\"").arg(name);
            return out;
        }
        out.extension.number = extension.toString().trimmed();
        if (name == QLatin1String("monitor")) {
            for (const auto& [key, field] :
                 {std::pair{QStringLiteral("name"), &out.extension.name},
                  std::pair{QStringLiteral("group"), &out.extension.group},
                  std::pair{QStringLiteral("uri"), &out.extension.uri}}) {
                const QJsonValue value = object.value(key);
                if (value.isUndefined() || value.isNull()) continue;
                if (!value.isString()) {
                    out.error = QStringLiteral("\"%1\" must be a string").arg(key);
                    return out;
                }
                *field = value.toString().trimmed();
            }
            // [publish] settings of the extension, as [monitor] writes them.
            const QJsonValue identity = object.value(QStringLiteral("identity"));
            if (!identity.isUndefined() && !identity.isNull()) {
                if (!identity.isString() || !isSipUriText(identity.toString().trimmed())) {
                    out.error = QStringLiteral("\"identity\" must be a sip: or sips: URI");
                    return out;
                }
                out.extension.identity = identity.toString().trimmed();
            }
            const QJsonValue publishTo = object.value(QStringLiteral("publish_to"));
            if (!publishTo.isUndefined() && !publishTo.isNull()) {
                const QString wrong =
                    QStringLiteral("\"publish_to\" must be an array of sip: or sips: URIs");
                if (!publishTo.isArray()) {
                    out.error = wrong;
                    return out;
                }
                for (const QJsonValue& uri : publishTo.toArray()) {
                    if (!uri.isString() || !isSipUriText(uri.toString().trimmed())) {
                        out.error = wrong;
                        return out;
                    }
                    out.extension.publishTo << uri.toString().trimmed();
                }
            }
            out.kind = CommandKind::Monitor;
        } else {
            out.kind = CommandKind::Unmonitor;
        }
        return out;
    }
    if (name == QLatin1String("pickup")) return parsePickup(object, std::move(out));
    if (name == QLatin1String("forward")) return parseForward(object, std::move(out));
    if (name == QLatin1String("reject")) return parseReject(object, std::move(out));
    out.error = QStringLiteral(
                    "unknown command \"%1\" (known: monitor, unmonitor, snapshot, "
                    "pickup, forward, reject, quit)")
                    .arg(name);
    return out;
}

QJsonObject startedEvent(const QString& version, const QStringList& listen) {
    return QJsonObject{{kEvent, QStringLiteral("started")},
                       {QStringLiteral("version"), version},
                       {QStringLiteral("listen"), QJsonArray::fromStringList(listen)}};
}

QJsonObject startedEvent(const QString& version, const QStringList& listen, const QString& mode,
                         const QString& domain) {
    QJsonObject object = startedEvent(version, listen);
    object.insert(QStringLiteral("mode"), mode);
    if (!domain.isEmpty()) object.insert(QStringLiteral("domain"), domain);
    return object;
}

QJsonObject bindingEvent(const QString& user, const QList<BindingView>& bindings) {
    QJsonArray contacts;
    for (const BindingView& binding : bindings) {
        QJsonObject contact{{QStringLiteral("contact"), binding.contact},
                            {QStringLiteral("source"), binding.source},
                            {QStringLiteral("expires"), binding.expiresIn}};
        if (!binding.userAgent.isEmpty())
            contact.insert(QStringLiteral("user_agent"), binding.userAgent);
        contacts.append(contact);
    }
    return QJsonObject{{kEvent, QStringLiteral("binding")},
                       {QStringLiteral("user"), user},
                       {QStringLiteral("registered"), !bindings.isEmpty()},
                       {QStringLiteral("contacts"), contacts}};
}

QJsonObject publicationEvent(const PublicationView& publication) {
    QJsonObject object{{kEvent, QStringLiteral("publication")},
                       {QStringLiteral("entity"), publication.entity},
                       {QStringLiteral("dialog"), publication.dialog},
                       {QStringLiteral("state"), publication.state},
                       {QStringLiteral("dialog_state"), publication.dialogState}};
    if (publication.code != 0) object.insert(QStringLiteral("code"), publication.code);
    if (!publication.reason.isEmpty()) object.insert(QStringLiteral("reason"), publication.reason);
    return object;
}

QByteArray publicationLine(const PublicationView& publication) {
    // Keys in the order QJsonDocument sorts them.
    QByteArray line;
    line.reserve(128 + 3 * (publication.entity.size() + publication.dialog.size() +
                            publication.reason.size()));
    line += '{';
    if (publication.code != 0) {
        line += "\"code\":";
        line += QByteArray::number(publication.code);
        line += ',';
    }
    line += "\"dialog\":";
    appendJsonString(line, publication.dialog);
    line += ",\"dialog_state\":";
    appendJsonString(line, publication.dialogState);
    line += ",\"entity\":";
    appendJsonString(line, publication.entity);
    line += ",\"event\":\"publication\"";
    if (!publication.reason.isEmpty()) {
        line += ",\"reason\":";
        appendJsonString(line, publication.reason);
    }
    line += ",\"state\":";
    appendJsonString(line, publication.state);
    line += "}\n";
    return line;
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

namespace {

QString wallTime(base::TimePoint at, base::TimePoint now, const QDateTime& wallNow) {
    const qint64 ago = std::chrono::duration_cast<std::chrono::milliseconds>(now - at).count();
    return wallNow.addMSecs(-ago).toUTC().toString(Qt::ISODateWithMs);
}

QJsonObject participantObject(const dialoginfo::Participant& participant) {
    QJsonObject object{{QStringLiteral("identity"), participant.identity}};
    if (!participant.display.isEmpty())
        object.insert(QStringLiteral("display"), participant.display);
    if (participant.target) object.insert(QStringLiteral("target"), participant.target->uri);
    return object;
}

}  // namespace

QJsonObject lampObject(const board::ExtensionState& state, base::TimePoint now,
                       const QDateTime& wallNow) {
    const board::Extension& extension = state.extension;
    QJsonObject object{{QStringLiteral("extension"), extension.number},
                       {QStringLiteral("name"), extension.name},
                       {QStringLiteral("group"), extension.group},
                       {QStringLiteral("lamp"), dialoginfo::lampName(state.lamp.lamp)},
                       {QStringLiteral("since"), wallTime(state.since, now, wallNow)}};
    if (state.lamp.lamp != dialoginfo::Lamp::Idle && state.lamp.lamp != dialoginfo::Lamp::Offline) {
        QJsonObject other{{QStringLiteral("uri"), state.lamp.otherUri}};
        if (!state.lamp.otherDisplay.isEmpty())
            other.insert(QStringLiteral("display"), state.lamp.otherDisplay);
        object.insert(QStringLiteral("other"), other);
    }
    QJsonArray dialogs;
    for (const dialoginfo::DialogInfo& dialog : state.merge.dialogs()) {
        QJsonObject entry{
            {QStringLiteral("id"), dialog.id},
            {QStringLiteral("direction"), dialoginfo::directionName(dialog.direction)},
            {QStringLiteral("state"), dialoginfo::stateName(dialog.state)},
            {QStringLiteral("remote"), participantObject(dialog.remote)}};
        if (!dialog.callId.isEmpty()) entry.insert(QStringLiteral("call_id"), dialog.callId);
        if (!dialog.localTag.isEmpty()) entry.insert(QStringLiteral("local_tag"), dialog.localTag);
        if (!dialog.remoteTag.isEmpty())
            entry.insert(QStringLiteral("remote_tag"), dialog.remoteTag);
        if (const auto it = state.dialogSince.constFind(dialog.id); it != state.dialogSince.cend())
            entry.insert(QStringLiteral("since"), wallTime(*it, now, wallNow));
        dialogs.append(entry);
    }
    object.insert(QStringLiteral("dialogs"), dialogs);
    return object;
}

QJsonObject lampEvent(const board::ExtensionState& state, base::TimePoint now,
                      const QDateTime& wallNow) {
    QJsonObject object = lampObject(state, now, wallNow);
    object.insert(kEvent, QStringLiteral("lamp"));
    return object;
}

namespace {

// lampLine(), or with `wallNow` null the times as steady milliseconds (lampKey()).
QByteArray lampText(const board::ExtensionState& state, base::TimePoint now,
                    const QDateTime* wallNow) {
    // The keys of lampEvent() in sorted order, as QJsonDocument writes them.
    const board::Extension& extension = state.extension;
    JsonLine line;
    const auto time = [&](base::TimePoint at) {
        if (wallNow) {
            line.string(wallTime(at, now, *wallNow));
        } else {
            line.number(at.time_since_epoch().count());
        }
    };
    line.beginObject().key(QLatin1StringView("dialogs")).beginArray();
    for (const dialoginfo::DialogInfo& dialog : state.merge.dialogs()) {
        line.beginObject();
        if (!dialog.callId.isEmpty()) line.key(QLatin1StringView("call_id")).string(dialog.callId);
        line.key(QLatin1StringView("direction"))
            .string(dialoginfo::directionName(dialog.direction));
        line.key(QLatin1StringView("id")).string(dialog.id);
        if (!dialog.localTag.isEmpty())
            line.key(QLatin1StringView("local_tag")).string(dialog.localTag);
        line.key(QLatin1StringView("remote")).beginObject();
        if (!dialog.remote.display.isEmpty())
            line.key(QLatin1StringView("display")).string(dialog.remote.display);
        line.key(QLatin1StringView("identity")).string(dialog.remote.identity);
        if (dialog.remote.target)
            line.key(QLatin1StringView("target")).string(dialog.remote.target->uri);
        line.endObject();
        if (!dialog.remoteTag.isEmpty())
            line.key(QLatin1StringView("remote_tag")).string(dialog.remoteTag);
        if (const auto it = state.dialogSince.constFind(dialog.id);
            it != state.dialogSince.cend()) {
            line.key(QLatin1StringView("since"));
            time(*it);
        }
        line.key(QLatin1StringView("state")).string(dialoginfo::stateName(dialog.state));
        line.endObject();
    }
    line.endArray();
    line.key(QLatin1StringView("event")).string(QLatin1StringView("lamp"));
    line.key(QLatin1StringView("extension")).string(extension.number);
    line.key(QLatin1StringView("group")).string(extension.group);
    line.key(QLatin1StringView("lamp")).string(dialoginfo::lampName(state.lamp.lamp));
    line.key(QLatin1StringView("name")).string(extension.name);
    if (state.lamp.lamp != dialoginfo::Lamp::Idle && state.lamp.lamp != dialoginfo::Lamp::Offline) {
        line.key(QLatin1StringView("other")).beginObject();
        if (!state.lamp.otherDisplay.isEmpty())
            line.key(QLatin1StringView("display")).string(state.lamp.otherDisplay);
        line.key(QLatin1StringView("uri")).string(state.lamp.otherUri);
        line.endObject();
    }
    line.key(QLatin1StringView("since"));
    time(state.since);
    line.endObject();
    return line.takeLine();
}

}  // namespace

QByteArray lampLine(const board::ExtensionState& state, base::TimePoint now,
                    const QDateTime& wallNow) {
    return lampText(state, now, &wallNow);
}

QByteArray lampKey(const board::ExtensionState& state) {
    return lampText(state, {}, nullptr);
}

QJsonObject subscriptionEvent(const QString& number, const ua::SubscriptionStatus& status) {
    QJsonObject object{
        {kEvent, QStringLiteral("subscription")},
        {QStringLiteral("extension"), number},
        {QStringLiteral("state"), QString::fromLatin1(ua::subscriptionStateName(status.state))},
        {QStringLiteral("reason"), QString::fromUtf8(status.reason)},
        {QStringLiteral("code"), status.statusCode}};
    if (status.retryIn) {
        const qint64 ms = status.retryIn->count();
        object.insert(QStringLiteral("retry_in"), (ms + 999) / 1000);
    }
    return object;
}

QJsonObject ackEvent(const QJsonValue& id) {
    QJsonObject object{{kEvent, QStringLiteral("ack")}};
    if (!id.isUndefined()) object.insert(kId, id);
    return object;
}

QJsonObject ackEvent(const QJsonValue& id, const QString& result) {
    QJsonObject object = ackEvent(id);
    object.insert(QStringLiteral("result"), result);
    return object;
}

QJsonObject callObject(const QueuedCallView& call) {
    QJsonObject object{{QStringLiteral("call"), qint64(call.call)},
                       {QStringLiteral("state"), call.state},
                       {QStringLiteral("queued"), call.queued},
                       {QStringLiteral("from"), call.callerUri},
                       {QStringLiteral("to"), call.calledUri},
                       {QStringLiteral("since"), call.since.toString(Qt::ISODateWithMs)},
                       {QStringLiteral("history"), QJsonArray::fromStringList(call.history)}};
    if (!call.callerDisplay.isEmpty())
        object.insert(QStringLiteral("from_display"), call.callerDisplay);
    if (!call.target.isEmpty()) object.insert(QStringLiteral("target"), call.target);
    if (!call.outcome.isEmpty()) object.insert(QStringLiteral("outcome"), call.outcome);
    if (call.status != 0) object.insert(QStringLiteral("status"), call.status);
    return object;
}

QJsonObject callEvent(const QueuedCallView& call) {
    QJsonObject object = callObject(call);
    object.insert(kEvent, QStringLiteral("call"));
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
