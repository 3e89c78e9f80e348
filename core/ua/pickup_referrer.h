#pragma once

#include <QByteArray>
#include <QString>

#include <functional>
#include <memory>
#include <optional>

#include "base/random.h"
#include "base/result.h"
#include "base/timer_queue.h"
#include "sip/message.h"
#include "transaction/transaction_layer.h"
#include "transport/transport.h"

namespace sb::ua {

struct PickupReferrerOptions {
    QByteArray aor;  // the console (From, Referred-By), "sip:console@example.com"
    QString displayName;
    QByteArray authUser;  // digest user name; the AoR's user part when empty
    QByteArray password;
    // Our Contact URI (a REFER creates a dialog, RFC 3515 §2.4.1, whose NOTIFYs come
    // back here). When empty it is built from localEndpointFor(next hop).
    QByteArray contactUri;
    // Where the REFERs go first (the account's proxy); asked for every REFER.
    std::function<std::optional<transport::Endpoint>()> nextHop;
    std::function<std::optional<transport::Endpoint>(const transport::Endpoint& target)>
        localEndpointFor;
    QByteArray outboundProxyUri;  // preloaded Route: <uri;lr>, when set
    // Host of the directed-pickup URI (sip:**202@domain); the phone AoR's host when empty.
    QByteArray domain;
    // The server's directed-pickup code: "ext" stands for the extension ("**ext" →
    // "**202"); without "ext" it is dialled as is ("*8"). Empty or "none": no fallback.
    QByteArray pickupCode;
    QByteArray userAgent;
    // How long a step may wait for its result (the REFER's answer and the final
    // NOTIFY) before the pickup fails with "no answer from the phone".
    base::Duration stepTimeout = std::chrono::seconds(32);
};

// The ringing call to take over, from the extension's dialog-info document (RFC 4235):
// local = the extension, remote = the caller.
struct PickupTarget {
    QByteArray extension;  // the ringing extension's user part, "202"
    QByteArray phoneAor;   // the operator's phone, "sip:204@example.com"
    QByteArray callId;
    QByteArray localTag;   // the extension's tag
    QByteArray remoteTag;  // the caller's tag
    // Where the phone sends the INVITE with Replaces: the caller's remote target, or
    // its identity when the document has no target.
    QByteArray remoteTarget;
    bool outgoing = false;  // direction="initiator": the extension placed the call
};

// One step of a pickup, as the operator should see it.
struct PickupReport {
    enum class Step {
        Replaces,    // REFER with Refer-To: <caller?Replaces=...;early-only> (RFC 3891)
        PickupCode,  // REFER with Refer-To: <sip:**202@domain> (the server's pickup)
    };
    enum class State { Trying, Done, Failed };

    quint64 id = 0;  // what pickup() returned
    Step step = Step::Replaces;
    State state = State::Trying;
    // For the operator: "already answered", "call gone", "phone refused (403
    // Forbidden)", "no answer from the phone", "picked up", ...
    QString text;
    int statusCode = 0;  // the SIP status behind it, 0 when none
};

// Client-mode call pickup by REFER (RFC 3515), a fallback chain (DESIGN.md "Operator
// actions"): (1) an out-of-dialog REFER asks the operator's phone to call the caller
// with Replaces of the ringing early dialog, early-only so an answered call is never
// stolen; (2) when the dialog's identifiers are missing or step 1 fails (except "already
// answered"), a REFER to the server's directed-pickup code. Each REFER's implicit
// subscription (NOTIFY with message/sipfrag) says how the referred INVITE went.
//
// Reports come from the event loop (timers, transaction callbacks, onRequest), never
// from inside pickup(); a listener may call pickup() again but must not destroy us.
class PickupReferrer final : private transaction::ClientTransactionUser {
public:
    using Listener = std::function<void(const PickupReport&)>;

    PickupReferrer(transaction::TransactionLayer& transactions, base::TimerQueue& timers,
                   base::Random& random, PickupReferrerOptions options);
    ~PickupReferrer() override;

    PickupReferrer(const PickupReferrer&) = delete;
    PickupReferrer& operator=(const PickupReferrer&) = delete;

    void setListener(Listener listener) { m_listener = std::move(listener); }

    // Starts a pickup; the first REFER leaves from the event loop. An error at once when
    // no step can be tried (no usable dialog identifiers and no pickup code, a bad phone
    // AoR, an outgoing call).
    Result<quint64> pickup(const PickupTarget& target);

    // A request from the owner's server user. True when it was a NOTIFY of the refer
    // event package, now answered: 200, 400/415 for a body that says nothing usable,
    // 481 when it belongs to no REFER of ours. False otherwise (not ours to answer).
    bool onRequest(transaction::TransactionId id, const sip::Message& request);

    // Pickups not yet done or failed.
    std::size_t activeCount() const;

    // The Refer-To value of step 1 for `target` (RFC 3891 §3: the tags as the caller,
    // who receives the INVITE with Replaces, sees its dialog).
    static Result<QByteArray> replacesReferTo(const PickupTarget& target);
    // The directed-pickup user part for `extension` from `code` ("**ext" → "**202");
    // empty when `code` is empty or "none".
    static QByteArray pickupCodeFor(QByteArrayView code, QByteArrayView extension);

private:
    struct Pickup;
    struct Refer;

    // ClientTransactionUser
    void onFinal(transaction::TransactionId id, const sip::Message& response) override;
    void onTimeout(transaction::TransactionId id) override;
    void onTransportError(transaction::TransactionId id, const Error& error) override;

    void startStep(Pickup& pickup, PickupReport::Step step);
    void sendRefer(Refer& refer);
    void referUnanswered(Refer& refer, int statusCode, const QString& text);
    void referRefused(Refer& refer, int statusCode, const QString& text);
    void sipfragStatus(Refer& refer, int statusCode, const QByteArray& reasonPhrase);
    void subscriptionEnded(Refer& refer);
    // Step 1 failed with `text`: the pickup code next, or the pickup fails.
    void stepFailed(Pickup& pickup, int statusCode, const QString& text, bool mayFallBack);
    void finish(Pickup& pickup, PickupReport::State state, int statusCode, const QString& text);
    void report(const Pickup& pickup, PickupReport::State state, int statusCode,
                const QString& text);
    void retire(Refer& refer);
    void respond(transaction::TransactionId id, const sip::Message& request, int code,
                 QByteArray reason = {});
    Pickup* pickupOf(const Refer& refer);

    transaction::TransactionLayer& m_transactions;
    base::TimerQueue& m_timers;
    base::Random& m_random;
    PickupReferrerOptions m_options;
    Listener m_listener;
    struct State;
    std::unique_ptr<State> d;
};

QByteArrayView pickupStepName(PickupReport::Step step);
QByteArrayView pickupStateName(PickupReport::State state);

}  // namespace sb::ua
