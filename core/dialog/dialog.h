#pragma once

#include <QByteArray>

#include <optional>
#include <vector>

#include "base/result.h"
#include "dialog/dialog_id.h"
#include "sip/message.h"

namespace sb::dialog {

// One SIP dialog (RFC 3261 §12), UAC or UAS side: its id, state, route set, remote
// target and sequence numbers. A plain value driven by events: the messages the TU sends
// and receives. It builds in-dialog requests (§12.2.1.1) and the ACK for a 2xx
// (§13.2.2.4) but sends nothing itself.
class Dialog {
public:
    enum class Role { Uac, Uas };
    enum class State { Early, Confirmed, Terminated };

    // §12.1.2: the UAC side, from the request we sent (INVITE, SUBSCRIBE, ...) and a
    // response to it that creates a dialog: a 1xx with a To tag (early) or a 2xx
    // (confirmed). The route set is the response's Record-Route in reverse order, the
    // remote target its Contact.
    static Result<Dialog> createUac(const sip::Message& request, const sip::Message& response);
    // §12.1.1: the UAS side, from the request received and the response we send that
    // creates the dialog (it carries our To tag and Contact). The route set is the
    // request's Record-Route in order, the remote target its Contact.
    static Result<Dialog> createUas(const sip::Message& request, const sip::Message& response);

    const DialogId& id() const { return m_id; }
    Role role() const { return m_role; }
    State state() const { return m_state; }
    bool isEarly() const { return m_state == State::Early; }
    bool isConfirmed() const { return m_state == State::Confirmed; }
    bool isTerminated() const { return m_state == State::Terminated; }
    bool isSecure() const { return m_secure; }

    // From/To of in-dialog requests: the header values with the tags (§12.2.1.1).
    const QByteArray& localParty() const { return m_localParty; }
    const QByteArray& remoteParty() const { return m_remoteParty; }
    const QByteArray& localUri() const { return m_localUri; }
    const QByteArray& remoteUri() const { return m_remoteUri; }
    const QByteArray& remoteTarget() const { return m_remoteTarget; }
    // Our Contact value (as in the request or response that created the dialog).
    const QByteArray& localContact() const { return m_localContact; }
    void setLocalContact(QByteArray contact) { m_localContact = std::move(contact); }
    // Route header values in the order they go into requests, e.g. "<sip:p1;lr>".
    const std::vector<QByteArray>& routeSet() const { return m_routeSet; }
    std::optional<quint32> localSequence() const { return m_localSeq; }
    std::optional<quint32> remoteSequence() const { return m_remoteSeq; }
    // The CSeq number of the request that created the dialog.
    quint32 initialSequence() const { return m_initialSeq; }

    // A response within this dialog.
    // UAC (a response we received): a 2xx to the creating INVITE confirms an early
    // dialog and recomputes route set and remote target (§13.2.2.4); a 1xx updates the
    // remote target of an early dialog; a 2xx to a target refresh request (re-INVITE,
    // UPDATE, SUBSCRIBE, NOTIFY, REFER) replaces the remote target (§12.2.1.2); a 3xx-6xx
    // to the creating request ends an early dialog (§12.3), a 481 or 408 ends any.
    // UAS (a response we sent): a 2xx to the creating INVITE confirms, a 3xx-6xx to it
    // ends an early dialog.
    void onResponse(const sip::Message& response);

    // §12.2.2: a request received within this dialog (ACK and CANCEL included, which
    // reuse the INVITE's CSeq number). A CSeq lower than the remote sequence number is
    // out of order: an error with sipStatus 500 comes back and nothing changes.
    // Otherwise the remote sequence number is updated, and a target refresh request
    // with a Contact replaces the remote target.
    Result<void> onRequest(const sip::Message& request);

    // Ends the dialog (BYE sent or received, or the TU gave up on it).
    void terminate() { m_state = State::Terminated; }

    // §12.2.1.1: a new request within the dialog: Request-URI and Route from the remote
    // target and route set (loose routing, or the strict-routing form when the first
    // route lacks ;lr), From/To with the tags, Call-ID, and CSeq with the next local
    // sequence number (1 when none was used yet). Contact is added for target refresh
    // methods when the dialog knows its local contact. Via and Max-Forwards come from
    // the transaction layer.
    sip::Message createRequest(sip::Method method);
    // §13.2.2.4: the ACK for a 2xx to the INVITE with CSeq number `inviteSequence`:
    // built like an in-dialog request but with the INVITE's CSeq number, method ACK,
    // and no new local sequence number. `invite` (when given) lends its Authorization
    // and Proxy-Authorization (the ACK carries the INVITE's credentials). The ACK is
    // remembered so the same one can be sent again for a retransmitted 2xx.
    sip::Message createAck(quint32 inviteSequence, const sip::Message* invite = nullptr);
    // The ACK built for the INVITE with that CSeq number, if any.
    const sip::Message* ackFor(quint32 inviteSequence) const;

    // Where in-dialog requests go first (§12.2.1.1, §8.1.2): the first route when the
    // route set is not empty, else the remote target. A URI; the transport's server
    // location (RFC 3263) turns it into addresses.
    QByteArray nextHopUri() const;

    // Whether the method refreshes the remote target (RFC 3261 §12.2, RFC 3311, RFC 6665).
    static bool isTargetRefresh(sip::Method method);

private:
    Dialog() = default;
    sip::Message buildRequest(sip::Method method, quint32 sequence) const;
    void takeRemoteTarget(const sip::Message& message);

    DialogId m_id;
    Role m_role = Role::Uac;
    State m_state = State::Early;
    bool m_secure = false;
    QByteArray m_localParty;
    QByteArray m_remoteParty;
    QByteArray m_localUri;
    QByteArray m_remoteUri;
    QByteArray m_remoteTarget;
    QByteArray m_localContact;
    std::vector<QByteArray> m_routeSet;
    std::optional<quint32> m_localSeq;
    std::optional<quint32> m_remoteSeq;
    quint32 m_initialSeq = 0;
    sip::Method m_initialMethod = sip::Method::Invite;
    std::optional<sip::Message> m_ack;
    quint32 m_ackSeq = 0;
};

}  // namespace sb::dialog
