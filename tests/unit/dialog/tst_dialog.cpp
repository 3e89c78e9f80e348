// RFC 3261 §12 dialogs: creation, route sets, in-dialog requests, sequence numbers.

#include <QTest>

#include "dialog/dialog.h"
#include "dialog_test_messages.h"

using namespace sb;
using namespace sb::test;
using dialog::Dialog;

namespace {

// A request Bob's side sends within the dialog (UAS receives it from the UAC's view
// reversed: From is Bob with his tag, To is Alice with hers).
sip::Message inDialogRequestFromRemote(const Dialog& d, sip::Method method, quint32 cseq,
                                       QByteArray contact = {}) {
    sip::Message m = sip::Message::request(method, "sip:alice@pc33.atlanta.example.com");
    m.addHeader(sip::HeaderId::Via, "SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKnashds8");
    m.addHeader(sip::HeaderId::From, d.remoteParty());
    m.addHeader(sip::HeaderId::To, d.localParty());
    m.addHeader(sip::HeaderId::CallId, d.id().callId);
    m.addHeader(sip::HeaderId::CSeq,
                QByteArray::number(cseq) + ' ' + sip::methodName(method).toByteArray());
    if (!contact.isEmpty()) m.addHeader(sip::HeaderId::Contact, contact);
    return wire(m);
}

}  // namespace

class TestDialog : public QObject {
    Q_OBJECT

private slots:
    void uacEarlyDialogFrom180() {
        const sip::Message request = invite();
        const sip::Message ringing =
            response(request, 180, "314159", "<sip:bob@192.0.2.4;transport=udp>",
                     {"<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"});
        auto d = Dialog::createUac(request, ringing);
        QVERIFY(d.has_value());
        QCOMPARE(d->role(), Dialog::Role::Uac);
        QCOMPARE(d->state(), Dialog::State::Early);
        QCOMPARE(d->id().callId, QByteArray("a84b4c76e66710@pc33.atlanta.example.com"));
        QCOMPARE(d->id().localTag, QByteArray("1928301774"));
        QCOMPARE(d->id().remoteTag, QByteArray("314159"));
        QCOMPARE(d->remoteTarget(), QByteArray("sip:bob@192.0.2.4;transport=udp"));
        // §12.1.2: Record-Route reversed for the UAC.
        QCOMPARE(toList(d->routeSet()),
                 (QByteArrayList{"<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>"}));
        QCOMPARE(d->localSequence(), std::optional<quint32>(1));
        QCOMPARE(d->remoteSequence(), std::nullopt);
        QCOMPARE(d->localUri(), QByteArray("sip:alice@atlanta.example.com"));
        QCOMPARE(d->remoteUri(), QByteArray("sip:bob@biloxi.example.com"));
        QCOMPARE(d->localContact(), QByteArray("<sip:alice@pc33.atlanta.example.com>"));
        QVERIFY(!d->isSecure());
    }

    void uacConfirmedDialogFrom200() {
        const sip::Message request = invite();
        auto d = Dialog::createUac(request, response(request, 200, "314159"));
        QVERIFY(d.has_value());
        QCOMPARE(d->state(), Dialog::State::Confirmed);
        QVERIFY(d->routeSet().empty());
    }

    void responsesThatCreateNoDialog() {
        const sip::Message request = invite();
        QVERIFY(!Dialog::createUac(request, response(request, 100, {})).has_value());
        QVERIFY(!Dialog::createUac(request, response(request, 180, {})).has_value());  // no To tag
        QVERIFY(!Dialog::createUac(request, response(request, 486, "x")).has_value());
        // §12.1.2: a 2xx without tag (RFC 2543 peer) has a null remote tag.
        auto d = Dialog::createUac(request, response(request, 200, {}));
        QVERIFY(d.has_value());
        QVERIFY(d->id().remoteTag.isEmpty());
    }

    void twoXxConfirmsEarlyDialogAndRecomputesRouteSet() {
        const sip::Message request = invite();
        auto d = Dialog::createUac(
            request, response(request, 180, "t1", "<sip:bob@192.0.2.4>", {"<sip:p1;lr>"}));
        QVERIFY(d.has_value());
        d->onResponse(response(request, 183, "t1", "<sip:bob@192.0.2.5>"));
        QCOMPARE(d->remoteTarget(), QByteArray("sip:bob@192.0.2.5"));
        QCOMPARE(d->state(), Dialog::State::Early);
        d->onResponse(
            response(request, 200, "t1", "<sip:bob@192.0.2.6>", {"<sip:p1;lr>", "<sip:p2;lr>"}));
        QCOMPARE(d->state(), Dialog::State::Confirmed);
        QCOMPARE(d->remoteTarget(), QByteArray("sip:bob@192.0.2.6"));
        QCOMPARE(toList(d->routeSet()), (QByteArrayList{"<sip:p2;lr>", "<sip:p1;lr>"}));
    }

    void failureEndsEarlyDialog() {
        const sip::Message request = invite();
        auto d = Dialog::createUac(request, response(request, 180, "t1"));
        d->onResponse(response(request, 486, "t1"));
        QCOMPARE(d->state(), Dialog::State::Terminated);
    }

    void uasDialogFromInvite() {
        const sip::Message request =
            invite({"<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"}, 7);
        const sip::Message ringing = response(request, 180, "uas-tag", "<sip:bob@192.0.2.4>");
        auto d = Dialog::createUas(request, ringing);
        QVERIFY(d.has_value());
        QCOMPARE(d->role(), Dialog::Role::Uas);
        QCOMPARE(d->state(), Dialog::State::Early);
        QCOMPARE(d->id().localTag, QByteArray("uas-tag"));
        QCOMPARE(d->id().remoteTag, QByteArray("1928301774"));
        // §12.1.1: Record-Route in order for the UAS; remote target from the request.
        QCOMPARE(toList(d->routeSet()),
                 (QByteArrayList{"<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"}));
        QCOMPARE(d->remoteTarget(), QByteArray("sip:alice@pc33.atlanta.example.com"));
        QCOMPARE(d->remoteSequence(), std::optional<quint32>(7));
        QCOMPARE(d->localSequence(), std::nullopt);
        QCOMPARE(d->localContact(), QByteArray("<sip:bob@192.0.2.4>"));
        QVERIFY(d->localParty().contains("tag=uas-tag"));
        d->onResponse(response(request, 200, "uas-tag"));
        QCOMPARE(d->state(), Dialog::State::Confirmed);
        QVERIFY(!Dialog::createUas(request, response(request, 180, {})).has_value());
    }

    void uasEarlyDialogEndsWithFailure() {
        const sip::Message request = invite();
        auto d = Dialog::createUas(request, response(request, 180, "uas-tag"));
        d->onResponse(response(request, 487, "uas-tag"));
        QCOMPARE(d->state(), Dialog::State::Terminated);
    }

    void remoteSequenceRules() {
        const sip::Message request = invite({}, 5);
        auto d = Dialog::createUas(request, response(request, 200, "uas-tag"));
        QCOMPARE(d->remoteSequence(), std::optional<quint32>(5));
        // §12.2.2: lower CSeq → 500, and nothing changes.
        auto lower = d->onRequest(inDialogRequestFromRemote(*d, sip::Method::Info, 4));
        QVERIFY(!lower.has_value());
        QCOMPARE(lower.error().sipStatus, 500);
        QCOMPARE(d->remoteSequence(), std::optional<quint32>(5));
        // ACK and CANCEL reuse the INVITE's number.
        QVERIFY(d->onRequest(inDialogRequestFromRemote(*d, sip::Method::Ack, 5)).has_value());
        QVERIFY(d->onRequest(inDialogRequestFromRemote(*d, sip::Method::Info, 6)).has_value());
        QCOMPARE(d->remoteSequence(), std::optional<quint32>(6));
        QVERIFY(d->onRequest(inDialogRequestFromRemote(*d, sip::Method::Bye, 100)).has_value());
        QCOMPARE(d->remoteSequence(), std::optional<quint32>(100));
    }

    void emptyRemoteSequenceTakesTheFirstRequest() {
        const sip::Message request = invite();
        auto d = Dialog::createUac(request, response(request, 200, "t1"));
        QVERIFY(d->onRequest(inDialogRequestFromRemote(*d, sip::Method::Info, 9000)).has_value());
        QCOMPARE(d->remoteSequence(), std::optional<quint32>(9000));
    }

    void localSequenceIncreases() {
        const sip::Message request = invite({}, 41);
        auto d = Dialog::createUac(request, response(request, 200, "t1"));
        const sip::Message first = d->createRequest(sip::Method::Info);
        const sip::Message second = d->createRequest(sip::Method::Bye);
        QCOMPARE(first.cseq()->number, 42u);
        QCOMPARE(second.cseq()->number, 43u);
        QCOMPARE(second.cseq()->method, sip::Method::Bye);
        QCOMPARE(d->localSequence(), std::optional<quint32>(43));

        // A UAS dialog has no local number until it sends a request.
        const sip::Message incoming = invite();
        auto uas = Dialog::createUas(incoming, response(incoming, 200, "u1"));
        QCOMPARE(uas->createRequest(sip::Method::Bye).cseq()->number, 1u);
    }

    void inDialogRequestWithLooseRouting() {
        const sip::Message request = invite();
        auto d = Dialog::createUac(
            request, response(request, 200, "t1", "<sip:bob@192.0.2.4>",
                              {"<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>"}));
        const sip::Message bye = wire(d->createRequest(sip::Method::Bye));
        // §12.2.1.1: Request-URI = remote target, Route = the route set in order.
        QCOMPARE(bye.requestUri(), QByteArrayView("sip:bob@192.0.2.4"));
        QCOMPARE(routesOf(bye),
                 (QByteArrayList{"<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"}));
        QCOMPARE(bye.from()->tag(), QByteArrayView("1928301774"));
        QCOMPARE(bye.from()->uriText, QByteArrayView("sip:alice@atlanta.example.com"));
        QCOMPARE(bye.to()->tag(), QByteArrayView("t1"));
        QCOMPARE(bye.to()->uriText, QByteArrayView("sip:bob@biloxi.example.com"));
        QCOMPARE(bye.callId(), QByteArrayView("a84b4c76e66710@pc33.atlanta.example.com"));
        QVERIFY(!bye.has(sip::HeaderId::Contact));
        QCOMPARE(d->nextHopUri(), QByteArray("sip:p1.example.com;lr"));

        const sip::Message reinvite = wire(d->createRequest(sip::Method::Invite));
        QCOMPARE(reinvite.header(sip::HeaderId::Contact),
                 QByteArrayView("<sip:alice@pc33.atlanta.example.com>"));
    }

    void inDialogRequestWithStrictRouting() {
        // RFC 3261 §12.2.1.1, the example: route set <sip:proxy1>, <sip:proxy2>,
        // <sip:proxy3;lr>, <sip:proxy4> and remote target <sip:user@remoteua>.
        const sip::Message request = invite();
        auto d = Dialog::createUac(
            request, response(request, 200, "t1", "<sip:user@remoteua>",
                              {"<sip:proxy4>", "<sip:proxy3;lr>", "<sip:proxy2>", "<sip:proxy1>"}));
        QCOMPARE(toList(d->routeSet()), (QByteArrayList{"<sip:proxy1>", "<sip:proxy2>",
                                                        "<sip:proxy3;lr>", "<sip:proxy4>"}));
        const sip::Message info = wire(d->createRequest(sip::Method::Info));
        QCOMPARE(info.requestUri(), QByteArrayView("sip:proxy1"));
        QCOMPARE(routesOf(info), (QByteArrayList{"<sip:proxy2>", "<sip:proxy3;lr>", "<sip:proxy4>",
                                                 "<sip:user@remoteua>"}));
        QCOMPARE(d->nextHopUri(), QByteArray("sip:proxy1"));
    }

    void strictRouteLosesParametersNotAllowedInRequestUri() {
        const sip::Message request = invite();
        auto d = Dialog::createUac(
            request, response(request, 200, "t1", "<sip:user@remoteua>",
                              {"<sip:proxy1.example.com:5070;method=INVITE;transport=tcp?x=y>"}));
        const sip::Message info = wire(d->createRequest(sip::Method::Info));
        QCOMPARE(info.requestUri(), QByteArrayView("sip:proxy1.example.com:5070;transport=tcp"));
        QCOMPARE(routesOf(info), QByteArrayList{"<sip:user@remoteua>"});
    }

    void noRouteSetGoesToTheRemoteTarget() {
        const sip::Message request = invite();
        auto d =
            Dialog::createUac(request, response(request, 200, "t1", "<sip:bob@192.0.2.4:5062>"));
        const sip::Message bye = d->createRequest(sip::Method::Bye);
        QCOMPARE(bye.requestUri(), QByteArrayView("sip:bob@192.0.2.4:5062"));
        QVERIFY(!bye.has(sip::HeaderId::Route));
        QCOMPARE(d->nextHopUri(), QByteArray("sip:bob@192.0.2.4:5062"));
    }

    void uasBuildsRequestsTowardsTheCaller() {
        const sip::Message request = invite({"<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"});
        auto d = Dialog::createUas(request, response(request, 200, "uas-tag"));
        const sip::Message bye = wire(d->createRequest(sip::Method::Bye));
        QCOMPARE(bye.requestUri(), QByteArrayView("sip:alice@pc33.atlanta.example.com"));
        QCOMPARE(routesOf(bye),
                 (QByteArrayList{"<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"}));
        QCOMPARE(bye.from()->tag(), QByteArrayView("uas-tag"));
        QCOMPARE(bye.from()->uriText, QByteArrayView("sip:bob@biloxi.example.com"));
        QCOMPARE(bye.to()->tag(), QByteArrayView("1928301774"));
    }

    void targetRefreshByRequests() {
        const sip::Message request = invite();
        auto d = Dialog::createUas(request, response(request, 200, "uas-tag"));
        QVERIFY(d->onRequest(
                     inDialogRequestFromRemote(*d, sip::Method::Info, 2, "<sip:alice@10.0.0.9>"))
                    .has_value());
        QCOMPARE(d->remoteTarget(),
                 QByteArray("sip:alice@pc33.atlanta.example.com"));  // INFO refreshes nothing
        QVERIFY(d->onRequest(
                     inDialogRequestFromRemote(*d, sip::Method::Invite, 3, "<sip:alice@10.0.0.9>"))
                    .has_value());
        QCOMPARE(d->remoteTarget(), QByteArray("sip:alice@10.0.0.9"));
        QVERIFY(d->onRequest(
                     inDialogRequestFromRemote(*d, sip::Method::Update, 4, "<sip:alice@10.0.0.10>"))
                    .has_value());
        QCOMPARE(d->remoteTarget(), QByteArray("sip:alice@10.0.0.10"));
        QVERIFY(d->onRequest(inDialogRequestFromRemote(*d, sip::Method::Invite, 5)).has_value());
        QCOMPARE(d->remoteTarget(), QByteArray("sip:alice@10.0.0.10"));  // no Contact, no change
    }

    void targetRefreshByResponses() {
        const sip::Message request = invite();
        auto d = Dialog::createUac(request, response(request, 200, "t1", "<sip:bob@192.0.2.4>"));
        const sip::Message reinvite = wire(d->createRequest(sip::Method::Invite));
        // Route set stays as it was; only the target moves.
        d->onResponse(
            response(reinvite, 200, "t1", "<sip:bob@192.0.2.99>", {"<sip:new-proxy;lr>"}));
        QCOMPARE(d->remoteTarget(), QByteArray("sip:bob@192.0.2.99"));
        QVERIFY(d->routeSet().empty());
        const sip::Message info = wire(d->createRequest(sip::Method::Info));
        d->onResponse(response(info, 200, "t1", "<sip:bob@192.0.2.100>"));
        QCOMPARE(d->remoteTarget(), QByteArray("sip:bob@192.0.2.99"));
        QCOMPARE(d->state(), Dialog::State::Confirmed);
        d->onResponse(response(info, 481, "t1"));  // §12.2.1.2
        QCOMPARE(d->state(), Dialog::State::Terminated);
    }

    void timeoutEndsTheDialog() {
        const sip::Message request = invite();
        auto d = Dialog::createUac(request, response(request, 200, "t1"));
        const sip::Message bye = wire(d->createRequest(sip::Method::Options));
        d->onResponse(response(bye, 408, "t1"));
        QVERIFY(d->isTerminated());
    }

    void ackForTwoXx() {
        sip::Message request = invite({}, 12);
        sip::Message withCredentials = request;
        withCredentials.addHeader(sip::HeaderId::ProxyAuthorization,
                                  "Digest username=\"alice\", response=\"x\"");
        withCredentials = wire(withCredentials);
        auto d = Dialog::createUac(withCredentials,
                                   response(withCredentials, 200, "t1", "<sip:bob@192.0.2.4>",
                                            {"<sip:p2;lr>", "<sip:p1;lr>"}));
        const sip::Message ack = wire(d->createAck(12, &withCredentials));
        // §13.2.2.4: built like an in-dialog request, CSeq number of the INVITE, method ACK.
        QCOMPARE(ack.method(), sip::Method::Ack);
        QCOMPARE(ack.requestUri(), QByteArrayView("sip:bob@192.0.2.4"));
        QCOMPARE(routesOf(ack), (QByteArrayList{"<sip:p1;lr>", "<sip:p2;lr>"}));
        QCOMPARE(ack.cseq()->number, 12u);
        QCOMPARE(ack.cseq()->method, sip::Method::Ack);
        QCOMPARE(ack.to()->tag(), QByteArrayView("t1"));
        QCOMPARE(ack.header(sip::HeaderId::ProxyAuthorization),
                 QByteArrayView("Digest username=\"alice\", response=\"x\""));
        QVERIFY(!ack.has(sip::HeaderId::Contact));
        QCOMPARE(d->localSequence(), std::optional<quint32>(12));  // the ACK takes no new number
        QVERIFY(d->ackFor(12) != nullptr);
        QCOMPARE(d->ackFor(12)->serialize(), d->createAck(12, &withCredentials).serialize());
        QVERIFY(d->ackFor(13) == nullptr);
    }

    void sipsRequestMakesASecureDialog() {
        const sip::Message request = invite({}, 1, "sips:bob@biloxi.example.com");
        auto d = Dialog::createUac(request, response(request, 200, "t1"));
        QVERIFY(d->isSecure());
    }
};

QTEST_GUILESS_MAIN(TestDialog)
#include "tst_dialog.moc"
