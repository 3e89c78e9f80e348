#pragma once

#include <QString>

#include <functional>
#include <memory>
#include <unordered_map>

#include "app/config.h"
#include "app/session.h"
#include "base/random.h"
#include "base/result.h"
#include "base/timer_queue.h"
#include "transaction/transaction_layer.h"
#include "transport/transport.h"
#include "ua/pickup_referrer.h"
#include "ua/reception_queue.h"

namespace sb::board {
class Console;
}

namespace sb::app {

// The operator's actions in client mode (issue 7), over the PBX's standard SIP: calls to
// the account (the reception identity) ring in a queue (ua::ReceptionQueue) and leave it
// by 302 with a Diversion or by a rejection; a ringing extension is picked up by a REFER
// to the operator's phone (ua::PickupReferrer) with the call's identifiers from the
// extension's dialog-info on the board. Speaks the session's words (QueuedCallView) so
// that the front ends cannot tell it from the built-in server's attendant.
class ClientAttendant final {
public:
    // What the account session knows once registered.
    struct Wiring {
        QByteArray contactUri;  // our registered Contact
        std::function<std::optional<transport::Endpoint>()> nextHop;
        std::function<std::optional<transport::Endpoint>(const transport::Endpoint&)>
            localEndpointFor;
    };

    ClientAttendant(const Config& config, transaction::TransactionLayer& transactions,
                    base::TimerQueue& timers, base::Random& random, const board::Console* board,
                    Wiring wiring);
    ~ClientAttendant();
    ClientAttendant(const ClientAttendant&) = delete;
    ClientAttendant& operator=(const ClientAttendant&) = delete;

    // Requests for the attendant: a new INVITE (queued), a NOTIFY of a pickup's REFER.
    // False: not ours, the session answers it.
    bool onRequest(transaction::TransactionId id, const sip::Message& request);
    bool onCancel(transaction::TransactionId inviteId, const sip::Message& cancel);

    Result<QString> pickup(const QString& extension, const QString& dialog);
    Result<QString> forward(const ForwardCommand& command);
    Result<QString> sendToPhone(quint64 call);
    Result<QString> reject(quint64 call, int status);
    QList<QueuedCallView> queue() const;
    QStringList extraReasons() const;
    // Why a ringing extension cannot be picked up here (empty: it can).
    QString pickupUnavailable() const;
    static QString forwardUnavailable();

    void setListener(std::function<void(const QueuedCallView&)> listener) {
        m_listener = std::move(listener);
    }

private:
    QueuedCallView viewOf(const ua::ReceptionQueue::Call& call) const;
    void onQueueEvent(const ua::ReceptionQueue::Event& event);
    void onPickupReport(const ua::PickupReport& report);
    QDateTime wallTime(base::TimePoint time) const;
    QString phoneAor() const;

    const Config& m_config;
    base::TimerQueue& m_timers;
    const board::Console* m_board;
    std::unique_ptr<ua::ReceptionQueue> m_queue;
    std::unique_ptr<ua::PickupReferrer> m_referrer;
    std::unordered_map<quint64, QueuedCallView> m_pickups;  // by the id pickup() returned
    std::function<void(const QueuedCallView&)> m_listener;
};

}  // namespace sb::app
