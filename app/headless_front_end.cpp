#include "app/headless_front_end.h"

#include <QDateTime>
#include <QJsonArray>

#include "app/session.h"
#include "base/log.h"
#include "board/console.h"

namespace sb::app {

HeadlessFrontEnd::HeadlessFrontEnd(Session& session, board::Console& console, QIODevice& out,
                                   QObject* parent)
    : QObject(parent), m_session(session), m_console(console), m_out(out) {
    connect(&m_session, &Session::registrationChanged, this,
            [this](const RegistrationStatus& status) { write(registrationEvent(status)); });
    connect(&m_session, &Session::stopped, this, [this] { emit finished(0); });
    connect(&m_session, &Session::bindingsChanged, this,
            [this](const QString& user, const QList<BindingView>& bindings) {
                write(bindingEvent(user, bindings));
            });
    connect(&m_session, &Session::publicationChanged, this,
            [this](const PublicationView& publication) {
                writeLines(publicationLine(publication), 1);
            });
    connect(&m_session, &Session::callChanged, this,
            [this](const QueuedCallView& call) { write(callEvent(call)); });
    connect(&m_console, &board::Console::extensionsChanged, this, &HeadlessFrontEnd::reportChanges);
    connect(&m_console, &board::Console::directoryChanged, this, &HeadlessFrontEnd::syncDirectory);
}

void HeadlessFrontEnd::announceStart(const QString& version) {
    const bool server = m_session.mode() == Session::Mode::Server;
    write(startedEvent(version, m_session.listenAddresses(),
                       server ? QStringLiteral("server") : QStringLiteral("client"),
                       server ? m_console.domain() : QString()));
    QStringList all;
    for (const board::Extension& extension : m_console.directory().extensions())
        all << extension.number;
    reportChanges(all);
}

void HeadlessFrontEnd::handleLine(const QByteArray& line) {
    if (line.trimmed().isEmpty()) return;
    const ParsedCommand command = parseCommand(line);
    if (!command.kind) {
        write(errorEvent(command.id, command.error));
        return;
    }
    switch (*command.kind) {
        case CommandKind::Quit:
            write(ackEvent(command.id));
            quit();
            break;
        case CommandKind::Monitor:
            if (m_quitting) {
                write(errorEvent(command.id, QStringLiteral("quitting")));
            } else if (const Result<void> added = m_console.monitor(command.extension); !added) {
                write(errorEvent(command.id, added.error().reason));
            } else {
                write(ackEvent(command.id));
            }
            break;
        case CommandKind::Unmonitor:
            if (m_console.unmonitor(command.extension.number)) {
                write(ackEvent(command.id));
            } else {
                write(errorEvent(
                    command.id,
                    QStringLiteral("extension %1 is not monitored").arg(command.extension.number)));
            }
            break;
        case CommandKind::Snapshot:
            write(snapshotEvent(command.id));
            break;
        case CommandKind::Pickup: {
            const Result<QString> done =
                command.call != 0 ? m_session.sendToPhone(command.call)
                                  : m_session.pickup(command.pickupExtension, command.pickupDialog);
            write(done ? ackEvent(command.id, *done) : errorEvent(command.id, done.error().reason));
            break;
        }
        case CommandKind::Forward: {
            const Result<QString> done = m_session.forward(command.forward);
            write(done ? ackEvent(command.id, *done) : errorEvent(command.id, done.error().reason));
            break;
        }
        case CommandKind::Reject: {
            const Result<QString> done = m_session.reject(command.call, command.status);
            write(done ? ackEvent(command.id, *done) : errorEvent(command.id, done.error().reason));
            break;
        }
    }
}

QJsonObject HeadlessFrontEnd::snapshotEvent(const QJsonValue& id) const {
    const base::TimePoint now = m_console.clock().now();
    const QDateTime wallNow = QDateTime::currentDateTimeUtc();
    QJsonArray extensions;
    for (int i = 0; i < m_console.monitoredCount(); ++i) {
        if (const board::ExtensionState* state = m_console.stateAt(i)) {
            QJsonObject lamp = lampObject(*state, now, wallNow);
            lamp.insert(QStringLiteral("subscription"),
                        QString::fromLatin1(ua::subscriptionStateName(state->subscription.state)));
            extensions.append(lamp);
        }
    }
    QJsonArray queue;
    for (const QueuedCallView& call : m_session.queue())
        queue.append(callObject(call));
    QJsonObject object{{QStringLiteral("event"), QStringLiteral("snapshot")},
                       {QStringLiteral("extensions"), extensions},
                       {QStringLiteral("queue"), queue}};
    if (!id.isUndefined()) object.insert(QStringLiteral("id"), id);
    return object;
}

namespace {

// Equal when their subscription events would read the same.
bool sameSubscriptionEvent(const ua::SubscriptionStatus& a, const ua::SubscriptionStatus& b) {
    const auto seconds = [](const ua::SubscriptionStatus& s) -> std::optional<qint64> {
        if (!s.retryIn) return std::nullopt;
        return (s.retryIn->count() + 999) / 1000;
    };
    return a.state == b.state && a.reason == b.reason && a.statusCode == b.statusCode &&
           seconds(a) == seconds(b);
}

}  // namespace

void HeadlessFrontEnd::reportChanges(const QStringList& numbers) {
    const base::TimePoint now = m_console.clock().now();
    const QDateTime wallNow = QDateTime::currentDateTimeUtc();
    // One write for the whole batch; what was written is remembered only once it was
    // written: an event lost to a reader that fell behind is written again with the
    // next change.
    QByteArray batch;
    qint64 lines = 0;
    std::vector<std::pair<QString, ua::SubscriptionStatus>> subscriptions;
    std::vector<std::pair<QString, QByteArray>> lamps;
    for (const QString& number : numbers) {
        const board::ExtensionState* state = m_console.state(number);
        if (!state) continue;
        // The subscription first: a lamp that goes offline is explained by it.
        auto last = m_lastSubscription.constFind(number);
        if (last == m_lastSubscription.cend() ||
            !sameSubscriptionEvent(*last, state->subscription)) {
            batch += toLine(subscriptionEvent(number, state->subscription));
            ++lines;
            subscriptions.emplace_back(number, state->subscription);
        }
        // Compared on the steady clock: the wall-clock rendering of the same steady
        // time point may differ by a millisecond from one batch to the next.
        QByteArray key = lampKey(*state);
        auto lastLamp = m_lastLamp.constFind(number);
        if (lastLamp == m_lastLamp.cend() || *lastLamp != key) {
            batch += lampLine(*state, now, wallNow);
            ++lines;
            lamps.emplace_back(number, std::move(key));
        }
    }
    if (lines == 0 || !writeLines(batch, lines)) return;
    for (auto& [number, status] : subscriptions)
        m_lastSubscription.insert(number, std::move(status));
    for (auto& [number, key] : lamps)
        m_lastLamp.insert(number, std::move(key));
}

void HeadlessFrontEnd::syncDirectory() {
    for (auto it = m_lastLamp.begin(); it != m_lastLamp.end();) {
        if (!m_console.state(it.key())) {
            m_lastSubscription.remove(it.key());
            it = m_lastLamp.erase(it);
        } else {
            ++it;
        }
    }
    // A newly monitored extension is announced (offline until subscribed) right after
    // the command that added it has been acknowledged.
    QMetaObject::invokeMethod(
        this,
        [this] {
            QStringList added;
            for (const board::Extension& extension : m_console.directory().extensions())
                if (!m_lastLamp.contains(extension.number)) added << extension.number;
            if (!added.isEmpty()) reportChanges(added);
        },
        Qt::QueuedConnection);
}

void HeadlessFrontEnd::requestQuit() {
    quit();
}

void HeadlessFrontEnd::quit() {
    if (m_quitting) return;
    m_quitting = true;
    m_session.stop();
}

bool HeadlessFrontEnd::write(const QJsonObject& event) {
    return writeLines(toLine(event), 1);
}

bool HeadlessFrontEnd::writeLines(const QByteArray& lines, qint64 count) {
    if (m_out.write(lines) != lines.size()) {
        if (m_lostEvents == 0)
            qCWarning(lcApp) << "cannot write headless event:" << m_out.errorString();
        m_lostEvents += count;
        return false;
    }
    if (m_lostEvents > 0) {
        // The reader caught up after events were lost: say so, and give it the whole
        // board again so it need not guess what it missed.
        const qint64 lost = m_lostEvents;
        m_lostEvents = 0;
        write(errorEvent(QJsonValue(QJsonValue::Undefined),
                         QStringLiteral("%1 event(s) were lost: the reader fell behind by more "
                                        "than the output buffer; a snapshot follows")
                             .arg(lost)));
        write(snapshotEvent(QJsonValue(QJsonValue::Undefined)));
    }
    return true;
}

}  // namespace sb::app
