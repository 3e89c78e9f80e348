#include "app/client_attendant.h"

#include <QDateTime>

#include "board/console.h"
#include "dialoginfo/dialog_info.h"
#include "sip/diversion.h"

namespace sb::app {

namespace {

// Pickups and queued calls share the front ends' call ids: pickups get theirs above
// every id the queue can reach.
constexpr quint64 kPickupIds = quint64(1) << 40;

ua::ReceptionOptions receptionOptions(const Config& config, QByteArray contactUri) {
    const server::AttendantOptions& attendant = config.attendant.options;
    ua::ReceptionOptions options;
    options.domain = config.subscriptions.domain;
    options.contactUri = std::move(contactUri);
    options.ownUri = config.account.aor.toUtf8();
    // The same forward settings as the built-in server's attendant.
    static_cast<sip::ForwardOptions&>(options) = attendant;
    return options;
}

// The dialog a pickup of `extension` means: the call ringing there (RFC 4235: the
// extension is the recipient of an early dialog), the one ringing longest when several.
const dialoginfo::DialogInfo* ringingDialog(const board::ExtensionState& state) {
    for (const dialoginfo::DialogInfo& dialog : state.merge.dialogs()) {
        if (dialog.state == dialoginfo::DialogState::Early &&
            dialog.direction != dialoginfo::Direction::Initiator)
            return &dialog;
    }
    return nullptr;
}

}  // namespace

ClientAttendant::ClientAttendant(const Config& config, transaction::TransactionLayer& transactions,
                                 base::TimerQueue& timers, base::Random& random,
                                 const board::Console* board, Wiring wiring)
    : m_config(config), m_timers(timers), m_board(board) {
    if (!config.attendant.options.number.isEmpty()) {
        m_queue = std::make_unique<ua::ReceptionQueue>(transactions, timers, random,
                                                       receptionOptions(config, wiring.contactUri));
        m_queue->setListener(
            [this](const ua::ReceptionQueue::Event& event) { onQueueEvent(event); });
    }
    ua::PickupReferrerOptions options;
    options.aor = config.account.aor.toUtf8();
    options.authUser = config.account.authUser.toUtf8();
    options.password = config.account.password.toUtf8();
    options.contactUri = wiring.contactUri;
    options.nextHop = std::move(wiring.nextHop);
    options.localEndpointFor = std::move(wiring.localEndpointFor);
    options.domain = config.subscriptions.domain.toUtf8();
    options.pickupCode = config.attendant.pickupCode.toUtf8();
    options.userAgent = QByteArrayLiteral("Switchboard/" SB_VERSION);
    m_referrer =
        std::make_unique<ua::PickupReferrer>(transactions, timers, random, std::move(options));
    m_referrer->setListener([this](const ua::PickupReport& report) { onPickupReport(report); });
}

ClientAttendant::~ClientAttendant() = default;

bool ClientAttendant::onRequest(transaction::TransactionId id, const sip::Message& request) {
    if (request.method() == sip::Method::Invite) return m_queue && m_queue->onInvite(id, request);
    if (request.method() == sip::Method::Notify) return m_referrer->onRequest(id, request);
    return false;
}

bool ClientAttendant::onCancel(transaction::TransactionId inviteId, const sip::Message& cancel) {
    return m_queue && m_queue->onCancel(inviteId, cancel);
}

QString ClientAttendant::phoneAor() const {
    const QString& phone = m_config.attendant.options.phoneUser;
    return phone.isEmpty() ? QString()
                           : QStringLiteral("sip:%1@%2").arg(phone, m_config.subscriptions.domain);
}

QString ClientAttendant::pickupUnavailable() const {
    if (m_config.attendant.options.phoneUser.isEmpty())
        return QStringLiteral("no phone of the operator is configured ([attendant] phone)");
    return {};
}

QString ClientAttendant::forwardUnavailable() {
    return QStringLiteral(
        "a call ringing at another extension cannot be forwarded at a PBX (no standard request "
        "moves it without the server in its path); pick it up instead");
}

Result<QString> ClientAttendant::pickup(const QString& extension, const QString& dialogId) {
    if (const QString why = pickupUnavailable(); !why.isEmpty())
        return fail(ErrorKind::Config, why);
    if (!m_board) return fail(ErrorKind::Protocol, QStringLiteral("no board to pick up from"));
    // The extension and its ringing dialog: by number, or by a lamp event's dialog id.
    const board::ExtensionState* state = nullptr;
    const dialoginfo::DialogInfo* dialog = nullptr;
    if (!dialogId.isEmpty()) {
        for (int i = 0; i < m_board->monitoredCount() && !dialog; ++i) {
            const board::ExtensionState* candidate = m_board->stateAt(i);
            for (const dialoginfo::DialogInfo& d : candidate->merge.dialogs()) {
                if (d.id == dialogId) {
                    state = candidate;
                    dialog = &d;
                    break;
                }
            }
        }
        if (!dialog)
            return fail(ErrorKind::Protocol,
                        QStringLiteral("no call with dialog id %1 on the board").arg(dialogId));
        if (dialog->state != dialoginfo::DialogState::Early ||
            dialog->direction == dialoginfo::Direction::Initiator)
            return fail(ErrorKind::Protocol,
                        QStringLiteral("the call of dialog %1 is not ringing at %2")
                            .arg(dialogId, state->extension.number));
    } else {
        state = m_board->state(extension);
        if (!state)
            return fail(ErrorKind::Protocol,
                        QStringLiteral("%1 is not an extension on the board").arg(extension));
        dialog = ringingDialog(*state);
        if (!dialog)
            return fail(ErrorKind::Protocol,
                        QStringLiteral("nothing rings at %1 (%2)")
                            .arg(extension, dialoginfo::lampName(state->lamp.lamp)));
    }
    const QString number = state->extension.number;
    if (number == m_config.attendant.options.phoneUser)
        return fail(ErrorKind::Protocol,
                    QStringLiteral("%1 is the operator's own phone: answer it there").arg(number));

    ua::PickupTarget target;
    target.extension = number.toUtf8();
    target.phoneAor = phoneAor().toUtf8();
    target.callId = dialog->callId.toUtf8();
    target.localTag = dialog->localTag.toUtf8();
    target.remoteTag = dialog->remoteTag.toUtf8();
    target.remoteTarget = dialog->remote.target ? dialog->remote.target->uri.toUtf8()
                                                : dialog->remote.identity.toUtf8();
    target.outgoing = dialog->direction == dialoginfo::Direction::Initiator;
    Result<quint64> started = m_referrer->pickup(target);
    if (!started) return fail(started.error());

    QueuedCallView view;
    view.call = kPickupIds + *started;
    view.state = QStringLiteral("picking-up");
    view.callerDisplay = dialog->remote.display;
    view.callerUri = dialog->remote.identity;
    view.calledUri = m_board->uriOf(number);
    view.since = QDateTime::currentDateTimeUtc();
    view.target = m_config.attendant.options.phoneUser;
    m_pickups[view.call] = view;
    if (m_listener) m_listener(view);
    return QStringLiteral("Asking %1 (your phone) to take over the call ringing at %2")
        .arg(m_config.attendant.options.phoneUser, number);
}

void ClientAttendant::onPickupReport(const ua::PickupReport& report) {
    const auto found = m_pickups.find(kPickupIds + report.id);
    if (found == m_pickups.end()) return;
    QueuedCallView& view = found->second;
    view.outcome = report.text;
    switch (report.state) {
        case ua::PickupReport::State::Trying:
            view.state = QStringLiteral("picking-up");
            break;
        case ua::PickupReport::State::Done:
            view.state = QStringLiteral("answered");
            view.status = report.statusCode;
            break;
        case ua::PickupReport::State::Failed:
            view.state = QStringLiteral("failed");
            view.status = report.statusCode;
            break;
    }
    const QueuedCallView copy = view;
    if (report.state != ua::PickupReport::State::Trying) m_pickups.erase(found);
    if (m_listener) m_listener(copy);
}

Result<QString> ClientAttendant::forward(const ForwardCommand& command) {
    if (command.call == 0) return fail(ErrorKind::Protocol, forwardUnavailable());
    if (!m_queue)
        return fail(ErrorKind::Config,
                    QStringLiteral("no reception queue ([attendant] number is not set)"));
    Result<sip::ForwardChoices> choices = forwardChoicesOf(command);
    if (!choices) return fail(choices.error());
    ua::ReceptionQueue::ForwardRequest request;
    static_cast<sip::ForwardChoices&>(request) = *choices;
    request.call = command.call;
    request.to = command.to;
    return m_queue->forward(request);
}

Result<QString> ClientAttendant::sendToPhone(quint64 call) {
    if (const QString why = pickupUnavailable(); !why.isEmpty())
        return fail(ErrorKind::Config, why);
    // At a PBX the caller is sent there by a 302 like any forward (a deflection).
    ForwardCommand command;
    command.call = call;
    command.to = m_config.attendant.options.phoneUser;
    return forward(command);
}

Result<QString> ClientAttendant::reject(quint64 call, int status) {
    if (!m_queue)
        return fail(ErrorKind::Config,
                    QStringLiteral("no reception queue ([attendant] number is not set)"));
    return m_queue->reject(call, status);
}

QList<QueuedCallView> ClientAttendant::queue() const {
    QList<QueuedCallView> out;
    if (!m_queue) return out;
    for (const ua::ReceptionQueue::Call& call : m_queue->queue())
        out << viewOf(call);
    return out;
}

QStringList ClientAttendant::extraReasons() const {
    QStringList out;
    for (const QByteArray& reason : m_config.attendant.options.extraReasons)
        out << QString::fromUtf8(reason);
    return out;
}

QDateTime ClientAttendant::wallTime(base::TimePoint time) const {
    const auto age = m_timers.now() - time;
    return QDateTime::currentDateTimeUtc().addMSecs(
        -std::chrono::duration_cast<std::chrono::milliseconds>(age).count());
}

QueuedCallView ClientAttendant::viewOf(const ua::ReceptionQueue::Call& call) const {
    QueuedCallView view;
    view.call = call.call;
    view.state = QStringLiteral("waiting");
    view.queued = true;
    view.callerDisplay = call.callerDisplay;
    view.callerUri = call.callerUri;
    view.calledUri = call.calledUri;
    view.since = wallTime(call.since);
    view.history = call.history;
    return view;
}

void ClientAttendant::onQueueEvent(const ua::ReceptionQueue::Event& event) {
    QueuedCallView view = viewOf(event.call);
    if (event.kind == ua::ReceptionQueue::EventKind::Left) {
        view.status = event.status;
        // A 3xx sent the caller on (the PBX or the caller follows it); anything else
        // ended the call here (rejected, or the caller hung up).
        view.state = event.status >= 300 && event.status < 400 ? QStringLiteral("forwarded")
                                                               : QStringLiteral("gone");
    }
    if (m_listener) m_listener(view);
}

}  // namespace sb::app
