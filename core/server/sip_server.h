#pragma once

#include <QHostAddress>
#include <QString>

#include <memory>
#include <vector>

#include "base/random.h"
#include "base/timer_queue.h"
#include "server/attendant.h"
#include "server/binding_store.h"
#include "server/dialog_notifier.h"
#include "server/dialog_probe.h"
#include "server/dialog_tracker.h"
#include "server/digest_authenticator.h"
#include "server/local_domains.h"
#include "server/proxy.h"
#include "server/publication_store.h"
#include "server/registrar.h"
#include "transaction/transaction_layer.h"
#include "transport/transport.h"

namespace sb::server {

class DialogStateStore;
class UserStore;

// Everything the built-in server can be told, one options struct per role.
struct SipServerOptions {
    QStringList domains;  // the first is primary; "switchboard.local" when empty
    // 32 bytes kept across restarts (app: server.secret beside the bindings file): the key
    // of the Record-Route tokens that admit in-dialog requests (so that calls up before a
    // restart can still end) and of the digest nonces, unless proxy.secret or auth.secret
    // name their own. Empty: random per start.
    QByteArray secret;
    bool trustLoopback = true;
    std::vector<QHostAddress> trustedPeers;
    DigestAuthenticator::Options auth;
    BindingStoreOptions bindings;
    RegistrarOptions registrar;
    ProxyOptions proxy;
    DialogTrackerOptions tracker;
    NotifierOptions notifier;
    PublicationOptions publication;
    AttendantOptions attendant;
};

// Counters for diagnostics, the server panel and the benchmarks.
struct SipServerCounters {
    quint64 challenges = 0;       // 401/407 sent
    quint64 authRefusals = 0;     // 403 after authentication (wrong AoR, throttled, From)
    quint64 registers = 0;        // REGISTERs answered
    quint64 subscribes = 0;       // SUBSCRIBEs handed to the notifier
    quint64 publishes = 0;        // PUBLISHes answered
    quint64 proxiedRequests = 0;  // requests handed to the proxy
};

// The built-in SIP server (DESIGN.md "Built-in server"): the transaction user that sends
// each request to the role that owns it, after authentication — REGISTER to the
// registrar, SUBSCRIBE for the dialog package to the notifier, PUBLISH to the
// publication store, OPTIONS for the server itself answered here, everything else to the
// proxy. It owns the roles and wires the proxy to the dialog tracker and the tracker to
// the dialog state store, which the notifier and the board read.
//
// Authentication (issue 4): requests from loopback are trusted when
// `trustLoopback` is on (and from `trustedPeers`), everything else is challenged with
// digest: 401 for REGISTER, 407 for the rest. In-dialog requests are not challenged:
// they follow a dialog the server already admitted, which the token in its Record-Route
// proves (RecordRoute); without it they get 481, from any source, trusted or not. An
// in-dialog request without Route for one of our addresses or domains is a dialog of the
// server itself: a watcher's SUBSCRIBE refresh goes to the notifier, anything else (a
// NOTIFY for no subscription, a stale refresh) gets 481.
class SipServer final : public transaction::ServerTransactionUser {
public:
    SipServer(transaction::TransactionLayer& layer, transport::Transport& transport,
              base::TimerQueue& timers, base::Random& random, UserStore& users,
              const SipServerOptions& options);
    ~SipServer() override;
    SipServer(const SipServer&) = delete;
    SipServer& operator=(const SipServer&) = delete;

    // The listening endpoints become local addresses of the server (after the transport
    // has opened them).
    void addListeningEndpoint(const transport::Endpoint& endpoint);

    LocalDomains& domains() { return m_domains; }
    const LocalDomains& domains() const { return m_domains; }
    BindingStore& bindings() { return *m_bindings; }
    DialogStateStore& dialogState() { return *m_dialogState; }
    DialogTracker& tracker() { return *m_tracker; }
    DialogNotifier& notifier() { return *m_notifier; }
    PublicationStore& publications() { return *m_publications; }
    Proxy& proxy() { return *m_proxy; }
    Attendant& attendant() { return *m_attendant; }
    const SipServerCounters& counters() const { return m_counters; }

    // Ends the watchers' subscriptions (terminated NOTIFY) and saves the bindings.
    void shutdown();
    // After the tracker took up the answered calls of before a restart: asks their
    // parties whether the calls still exist (DialogProbe), ending those that do not.
    // Returns how many OPTIONS were sent.
    int probeRestoredCalls();

    // transaction::ServerTransactionUser
    void onRequest(transaction::TransactionId id,
                   const transport::IncomingMessage& request) override;
    void onCancel(transaction::TransactionId inviteId,
                  const transport::IncomingMessage& cancel) override;
    void onAck(const transport::IncomingMessage& ack) override;
    void onStrayResponse(const transport::IncomingMessage& response) override;
    void onAckTimeout(transaction::TransactionId inviteId) override;

private:
    bool isTrusted(const transport::Endpoint& source) const;
    // Authenticates `request` unless trusted: true with `user` set (empty when trusted),
    // false when a challenge or refusal was sent on `id`.
    bool admit(transaction::TransactionId id, const transport::IncomingMessage& incoming,
               bool registerRequest, QString& user);
    bool isForServer(const sip::Message& request) const;
    // §16.4: `requestUri` is our Record-Route entry with the token of the request's dialog
    // (the previous hop was a strict router).
    bool isStrictRouted(const sip::Uri& requestUri, const sip::Message& request) const;
    void answerOptions(transaction::TransactionId id, const sip::Message& request);
    void respond(transaction::TransactionId id, sip::Message response);

    transaction::TransactionLayer& m_layer;
    bool m_trustLoopback = true;
    std::vector<QHostAddress> m_trustedPeers;
    LocalDomains m_domains;
    UserStore& m_users;
    std::unique_ptr<DigestAuthenticator> m_authenticator;
    std::unique_ptr<BindingStore> m_bindings;
    std::unique_ptr<Registrar> m_registrar;
    std::unique_ptr<DialogStateStore> m_dialogState;
    std::unique_ptr<DialogTracker> m_tracker;
    std::unique_ptr<Proxy> m_proxy;
    std::unique_ptr<Attendant> m_attendant;  // after the proxy: gone before it
    std::unique_ptr<DialogNotifier> m_notifier;
    std::unique_ptr<PublicationStore> m_publications;
    std::unique_ptr<DialogProbe> m_probe;  // made by probeRestoredCalls()
    SipServerCounters m_counters;
};

}  // namespace sb::server
