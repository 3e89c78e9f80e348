#pragma once

#include <QObject>
#include <QStringList>

#include <memory>
#include <vector>

#include "app/config.h"
#include "app/contact_endpoint.h"
#include "app/registration_status.h"
#include "app/session.h"
#include "base/random.h"
#include "base/result.h"
#include "base/sip_trace.h"
#include "base/timer_queue.h"
#include "transport/dns_resolver.h"
#include "transport/transport.h"

namespace sb::board {
class Console;
}

namespace sb::app {

// What a test puts in place of the system: DNS answers, the clock with its timers,
// randomness and the routing table. Null members mean the production ones
// (QDnsLookup/QHostInfo, event-loop timers, SystemRandom, routedSourceAddress). What
// is given must outlive the session.
struct AccountSessionSeams {
    transport::DnsResolver* dns = nullptr;
    base::TimerQueue* timers = nullptr;
    base::Random* random = nullptr;
    SourceAddressLookup sourceAddress;
};

// Thin wiring of the SIP core for one account, shared by the window and headless mode:
// transports on the configured listen addresses, the transaction layer, RFC 3263
// server location, and the registration client. The registrar is located afresh for
// every attempt that starts from the first target, and the Contact follows the local
// endpoint that reaches the current target. Reports the registration's protocol
// moments as a Qt signal; it keeps no protocol state of its own.
class AccountSession final : public Session {
    Q_OBJECT
public:
    explicit AccountSession(Config config, QObject* parent = nullptr);
    AccountSession(Config config, AccountSessionSeams seams, QObject* parent = nullptr);
    ~AccountSession() override;

    // Where SIP messages are traced (redacted); not owned, must outlive the session.
    void setSipTrace(base::SipTrace* trace) override;
    // The board whose monitored extensions this account subscribes to (RFC 6665 dialog
    // event package), once registered; not owned, must outlive the session. Without a
    // board the session only registers.
    void setBoard(board::Console* console) override;

    // Where state kept across restarts is written (publications.json with [publish]);
    // empty (the default): nothing is kept.
    void setStateDirectory(const QString& directory) { m_stateDirectory = directory; }

    // Opens the listen addresses. Nothing is sent yet.
    Mode mode() const override { return Mode::Client; }
    Result<void> open() override;
    // Starts registering the account (after open()).
    void startRegistration();
    void start() override { startRegistration(); }
    // Ends every subscription (SUBSCRIBE with Expires: 0), then unregisters (REGISTER with
    // Expires: 0, RFC 3261 §10.2.2) and emits stopped() when the registrar has answered,
    // the request failed, or `bound` has passed.
    void stop(base::Duration bound = base::Duration(5000)) override;

    // The addresses really listened on ("udp:127.0.0.1:40123"), after open().
    QStringList listenAddresses() const override;
    const RegistrationStatus& registration() const override { return m_status; }
    const Config& config() const { return m_config; }

    // Operator actions at a PBX (app/client_attendant.h), once registered.
    Result<QString> pickup(const QString& extension, const QString& dialog) override;
    Result<QString> forward(const ForwardCommand& command) override;
    Result<QString> sendToPhone(quint64 call) override;
    Result<QString> reject(quint64 call, int status) override;
    QList<QueuedCallView> queue() const override;
    QStringList forwardReasons() const override;
    QString extensionActionsUnavailable() const override;
    QString extensionForwardUnavailable() const override;

private:
    struct Core;

    void locateRegistrar();
    void startSubscriptions();
    // [publish] in client mode: the board's extensions published to the presence server.
    void startRepublishing();
    // The reception queue and pickups (issue 7), once the Contact is known.
    void startAttendant();
    void stopRegistration(base::Duration bound);
    void registrationImpossible(const QString& reason);
    void report(RegistrationStatus status);
    void finishStop();
    // Writes the republisher's state atomically into the state directory.
    void savePublicationState();

    Config m_config;
    AccountSessionSeams m_seams;
    base::SipTrace* m_trace = nullptr;
    board::Console* m_board = nullptr;
    std::unique_ptr<Core> m_core;
    RegistrationStatus m_status;
    bool m_stopping = false;
    bool m_stopped = false;
    QString m_stateDirectory;
    bool m_publicationSavePending = false;
};

}  // namespace sb::app
