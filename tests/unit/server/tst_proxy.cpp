// RFC 3261 §16 stateful proxy: validation, routing, forking, best response, Timer C,
// CANCEL, Record-Route (with RFC 5658 double record-routing), loose routing within
// dialogs, stateless forwarding of the 2xx ACK and of late 2xx responses.

#include <QTest>

#include <map>

#include "base/manual_clock.h"
#include "base/random.h"
#include "fake_transport.h"
#include "proxy_fixture.h"
#include "server/binding_store.h"
#include "server/proxy.h"
#include "transaction/transaction_layer.h"

using namespace sb;
using namespace sb::server;
using sb::test::Dispatcher;
using sb::test::FakeLocation;
using sb::test::FakeTransport;
using sb::test::SentMessage;
using transport::Protocol;

namespace {

transport::Endpoint endpoint(Protocol protocol, const char* address, quint16 port) {
    return FakeTransport::endpoint(protocol, address, port);
}

const transport::Endpoint kCaller = endpoint(Protocol::Udp, "127.0.0.2", 5070);
const transport::Endpoint kBob1 = endpoint(Protocol::Udp, "127.0.0.3", 5080);
const transport::Endpoint kBob2 = endpoint(Protocol::Udp, "127.0.0.4", 5090);
const transport::Endpoint kBobTcp = endpoint(Protocol::Tcp, "127.0.0.5", 5062);
const transport::Endpoint kUpstream = endpoint(Protocol::Udp, "127.0.0.9", 5060);
const QByteArray kBob1Contact = "sip:202@127.0.0.3:5080";
const QByteArray kBob2Contact = "sip:202@127.0.0.4:5090";
const QByteArray kBobTcpContact = "sip:202@127.0.0.5:5062;transport=tcp";
const QByteArray kCallId = "call-1@127.0.0.2";
const QByteArray kSecret(32, 'k');

class RecordingObserver final : public ProxyObserver {
public:
    void onCallStarted(const CallStart& start) override {
        calls.push_back(start.call);
        QVERIFY(start.invite != nullptr);
        events << QStringLiteral("started %1->%2").arg(start.callerUser, start.calleeUser);
    }
    void onBranchStarted(CallId call, BranchId branch, const QByteArray& contactUri) override {
        branches.push_back(branch);
        events << QStringLiteral("branch %1 %2").arg(call).arg(QString::fromUtf8(contactUri));
    }
    void onBranchResponse(CallId call, BranchId branch, const sip::Message& response) override {
        events << QStringLiteral("response %1 b%2 %3")
                      .arg(call)
                      .arg(indexOf(branch))
                      .arg(response.statusCode());
    }
    void onBranchEnded(CallId call, BranchId branch, int status) override {
        events << QStringLiteral("ended %1 b%2 %3").arg(call).arg(indexOf(branch)).arg(status);
    }
    void onCallAnswered(CallId call, const sip::Message& response) override {
        events << QStringLiteral("answered %1 %2").arg(call).arg(response.statusCode());
    }
    void onCallFailed(CallId call, int status, bool cancelled) override {
        events << QStringLiteral("failed %1 %2%3")
                      .arg(call)
                      .arg(status)
                      .arg(cancelled ? QStringLiteral(" cancelled") : QString());
    }
    void onInDialogRequest(const sip::Message& request,
                           const transport::Endpoint& source) override {
        events << QStringLiteral("request %1 from %2")
                      .arg(QString::fromUtf8(request.methodName()), source.toString());
    }
    void onInDialogResponse(const sip::Message& response) override {
        events << QStringLiteral("in-dialog response %1 %2")
                      .arg(response.statusCode())
                      .arg(QString::fromUtf8(response.cseq()->methodName));
    }

    // Branches are numbered b0, b1... in the order they started.
    int indexOf(BranchId branch) const {
        for (std::size_t i = 0; i < branches.size(); ++i)
            if (branches[i] == branch) return int(i);
        return -1;
    }

    QStringList events;
    std::vector<CallId> calls;
    std::vector<BranchId> branches;
};

ProxyOptions withTestSecret(ProxyOptions options) {
    if (options.secret.isEmpty()) options.secret = kSecret;
    return options;
}

struct Fixture {
    explicit Fixture(ProxyOptions options = {})
        : layer(transport, clock, random),
          domains(QStringList{QStringLiteral("switchboard.local")}),
          proxy(layer, transport, clock, random, domains, location, location,
                withTestSecret(std::move(options))) {
        domains.addListeningEndpoint(endpoint(Protocol::Udp, "127.0.0.1", 5060));
        domains.addListeningEndpoint(endpoint(Protocol::Tcp, "127.0.0.1", 5060));
        dispatcher.proxy = &proxy;
        layer.setServerUser(&dispatcher);
        proxy.setObserver(&observer);
        proxy.setContactLookup([this](const sip::Uri& uri) { return location.byContact(uri); });
        location.users.insert(QStringLiteral("201"));
        token = proxy.recordRoute().tokenFor(kCallId);
        // What we Record-Route with for call-1 (and what its in-dialog requests carry).
        ownRoute = "<sip:127.0.0.1:5060;sbrr=" + token + ";lr>";
        ownTcpRoute = "<sip:127.0.0.1:5060;transport=tcp;sbrr=" + token + ";lr>";
    }
    ~Fixture() { layer.setServerUser(nullptr); }

    // A request from the caller (201 at 127.0.0.2:5070).
    static sip::Message request(sip::Method method,
                                QByteArray requestUri = "sip:202@switchboard.local",
                                QByteArray branch = "z9hG4bK-caller-1", quint32 cseq = 1,
                                QByteArray toTag = {}) {
        sip::Message m = sip::Message::request(method, std::move(requestUri));
        m.addHeader(sip::HeaderId::Via, "SIP/2.0/UDP 127.0.0.2:5070;branch=" + branch + ";rport");
        m.addHeader(sip::HeaderId::MaxForwards, "70");
        m.addHeader(sip::HeaderId::From, "\"Alice\" <sip:201@switchboard.local>;tag=caller-tag");
        m.addHeader(sip::HeaderId::To, toTag.isEmpty()
                                           ? QByteArray("<sip:202@switchboard.local>")
                                           : "<sip:202@switchboard.local>;tag=" + toTag);
        m.addHeader(sip::HeaderId::CallId, kCallId);
        m.addHeader(sip::HeaderId::CSeq,
                    QByteArray::number(cseq) + ' ' + sip::methodName(method).toByteArray());
        m.addHeader(sip::HeaderId::Contact, "<sip:201@127.0.0.2:5070>");
        return m;
    }
    static sip::Message invite(QByteArray requestUri = "sip:202@switchboard.local") {
        return request(sip::Method::Invite, std::move(requestUri));
    }

    void inject(const sip::Message& m, const transport::Endpoint& from = kCaller) {
        QVERIFY(transport.inject(m, from).has_value());
    }

    std::vector<SentMessage> requestsTo(sip::Method method, const transport::Endpoint& to) const {
        std::vector<SentMessage> out;
        for (const SentMessage& s : transport.requests(method))
            if (s.destination == to) out.push_back(s);
        return out;
    }
    // The last `method` request sent to `to`; an empty one (that fails every check
    // made on it) when there is none.
    SentMessage lastRequestTo(sip::Method method, const transport::Endpoint& to) const {
        auto sent = requestsTo(method, to);
        if (sent.empty()) {
            qWarning("no %s sent to %s", sip::methodName(method).toByteArray().constData(),
                     qPrintable(to.toString()));
            return SentMessage{};
        }
        return sent.back();
    }
    // Responses that went upstream (to the caller), by status.
    std::vector<int> upstreamStatuses() const {
        std::vector<int> out;
        for (const SentMessage& s : transport.responses())
            if (s.destination == kCaller && s.message.cseq()->method != sip::Method::Cancel)
                out.push_back(s.statusCode());
        return out;
    }
    const SentMessage* lastUpstream(int status) const {
        const SentMessage* found = nullptr;
        for (const SentMessage& s : transport.sent())
            if (s.isResponse() && s.statusCode() == status && s.destination == kCaller) found = &s;
        return found;
    }

    // A downstream UAS answers the INVITE it got: the 2xx carries its Contact and the
    // Record-Route of the request (§12.1.1).
    void answer(const SentMessage& sent, int status, QByteArray toTag,
                QByteArray contact = kBob1Contact) {
        sip::Message response = sip::makeResponse(sent.message, status, {}, toTag);
        if (status > 100 && status < 300) {
            for (QByteArrayView rr : sent.message.values(sip::HeaderId::RecordRoute))
                response.addHeader(sip::HeaderId::RecordRoute, rr.toByteArray());
            response.addHeader(sip::HeaderId::Contact, '<' + contact + '>');
        }
        QVERIFY(transport.answer(sent, response).has_value());
    }

    base::ManualClock clock;
    FakeTransport transport{&clock};
    base::SeededRandom random{11};
    transaction::TransactionLayer layer;
    LocalDomains domains;
    FakeLocation location;
    Proxy proxy;
    Dispatcher dispatcher;
    RecordingObserver observer;
    QByteArray token;
    QByteArray ownRoute;
    QByteArray ownTcpRoute;
};

QByteArrayView topViaBranch(const sip::Message& m) {
    auto via = m.topVia();
    return via ? via->branch() : QByteArrayView();
}

}  // namespace

class TestProxy : public QObject {
    Q_OBJECT

private slots:
    void inviteToARegisteredUser() {
        Fixture f;
        f.location.add("202", kBob1Contact, kBob1);
        f.inject(Fixture::invite());

        // §16.2: 100 Trying at once, not after the layer's 200 ms.
        QCOMPARE(f.upstreamStatuses(), std::vector<int>{100});
        const SentMessage forwarded = f.lastRequestTo(sip::Method::Invite, kBob1);
        const sip::Message& invite = forwarded.message;
        QCOMPARE(invite.requestUri(), QByteArrayView(kBob1Contact));  // §16.6 step 2
        QCOMPARE(invite.maxForwards(), std::optional<quint32>(69));   // step 3
        QCOMPARE(invite.header(sip::HeaderId::RecordRoute), QByteArrayView(f.ownRoute));  // 4
        QCOMPARE(invite.count(sip::HeaderId::RecordRoute), 1);
        auto vias = invite.vias();
        QCOMPARE(vias->size(), 2u);  // step 8: ours on top of the caller's
        QCOMPARE(vias->at(0).host, QByteArrayView("127.0.0.1"));
        QVERIFY(loopHashOfBranch(vias->at(0).branch()).has_value());
        QCOMPARE(vias->at(1).branch(), QByteArrayView("z9hG4bK-caller-1"));
        QCOMPARE(invite.header(sip::HeaderId::To), QByteArrayView("<sip:202@switchboard.local>"));
        QCOMPARE(f.proxy.callsInProgress(), 1u);
        QCOMPARE(f.proxy.pendingBranches(), 1u);

        // §16.7: 180 and 200 go upstream with our Via removed.
        f.answer(forwarded, 180, "bob-tag");
        const SentMessage* ringing = f.lastUpstream(180);
        QVERIFY(ringing);
        QCOMPARE(ringing->message.count(sip::HeaderId::Via), 1);
        QCOMPARE(topViaBranch(ringing->message), QByteArrayView("z9hG4bK-caller-1"));
        f.answer(forwarded, 200, "bob-tag");
        const SentMessage* ok = f.lastUpstream(200);
        QVERIFY(ok);
        QCOMPARE(topViaBranch(ok->message), QByteArrayView("z9hG4bK-caller-1"));
        QCOMPARE(ok->message.header(sip::HeaderId::RecordRoute), QByteArrayView(f.ownRoute));
        QCOMPARE(ok->message.header(sip::HeaderId::Contact),
                 QByteArrayView("<" + kBob1Contact + ">"));
        QCOMPARE(f.proxy.callsInProgress(), 0u);

        // The proxy does not retransmit the 2xx itself (a UAS would have by now, at T1,
        // 2*T1, 4*T1): the UAS does, end to end.
        f.clock.advance(base::Duration(3'000));
        QCOMPARE(f.upstreamStatuses(), (std::vector<int>{100, 180, 200}));
        // A retransmission from the UAS is forwarded again.
        f.answer(forwarded, 200, "bob-tag");
        QCOMPARE(f.upstreamStatuses(), (std::vector<int>{100, 180, 200, 200}));

        // The ACK for the 2xx (a new branch, to the Contact, our Record-Route as Route) is
        // forwarded statelessly with the Route popped (§16.4) and our Via pushed (§16.11).
        sip::Message ack =
            Fixture::request(sip::Method::Ack, kBob1Contact, "z9hG4bK-caller-ack", 1, "bob-tag");
        ack.addHeader(sip::HeaderId::Route, f.ownRoute);
        f.inject(ack);
        const SentMessage forwardedAck = f.lastRequestTo(sip::Method::Ack, kBob1);
        QVERIFY(!forwardedAck.message.has(sip::HeaderId::Route));
        QCOMPARE(forwardedAck.message.requestUri(), QByteArrayView(kBob1Contact));
        QCOMPARE(forwardedAck.message.maxForwards(), std::optional<quint32>(69));
        QCOMPARE(forwardedAck.message.count(sip::HeaderId::Via), 2);
        QVERIFY(loopHashOfBranch(topViaBranch(forwardedAck.message)).has_value());
        // §16.11: the retransmitted ACK carries the same branch.
        f.inject(ack);
        QCOMPARE(f.requestsTo(sip::Method::Ack, kBob1).size(), 2u);
        QCOMPARE(topViaBranch(f.requestsTo(sip::Method::Ack, kBob1)[1].message),
                 topViaBranch(forwardedAck.message));

        // The observer saw every moment, in order.
        const QStringList expected{
            QStringLiteral("started 201->202"),
            QStringLiteral("branch 1 ") + QString::fromUtf8(kBob1Contact),
            QStringLiteral("response 1 b0 180"),
            QStringLiteral("response 1 b0 200"),
            QStringLiteral("answered 1 200"),
            QStringLiteral("response 1 b0 200"),
            QStringLiteral("request ACK from udp:127.0.0.2:5070"),
            QStringLiteral("request ACK from udp:127.0.0.2:5070"),
        };
        QCOMPARE(f.observer.events, expected);

        // The answered call lingers a few seconds for further 2xx, then nothing is left.
        QCOMPARE(f.proxy.responseContexts(), 1u);
        f.clock.advance(base::Duration(40'000));
        QCOMPARE(f.proxy.responseContexts(), 0u);
        QCOMPARE(f.proxy.pendingBranches(), 0u);
    }

    void unknownUserGets404() {
        Fixture f;
        f.inject(Fixture::invite("sip:299@switchboard.local"));
        QCOMPARE(f.upstreamStatuses(), std::vector<int>{404});
        QVERIFY(!f.lastUpstream(404)->message.to()->tag().isEmpty());
        QCOMPARE(f.transport.countRequests(sip::Method::Invite), 0);
        QCOMPARE(f.observer.events,
                 (QStringList{QStringLiteral("started 201->299"), QStringLiteral("failed 1 404")}));
        QCOMPARE(f.proxy.responseContexts(), 0u);
    }

    void knownUserWithoutBindingGets480() {
        Fixture f;
        f.location.users.insert(QStringLiteral("202"));
        f.inject(Fixture::invite());
        QCOMPARE(f.upstreamStatuses(), std::vector<int>{480});
        QCOMPARE(f.lastUpstream(480)->message.reasonPhrase(),
                 QByteArrayView("Temporarily Unavailable"));
        QCOMPARE(f.proxy.responseContexts(), 0u);
    }

    void parallelForkAnsweredByOneCancelsTheOther() {
        Fixture f;
        f.location.add("202", kBob1Contact, kBob1);
        f.location.add("202", kBob2Contact, kBob2);
        f.inject(Fixture::invite());
        const SentMessage first = f.lastRequestTo(sip::Method::Invite, kBob1);
        const SentMessage second = f.lastRequestTo(sip::Method::Invite, kBob2);
        QVERIFY(topViaBranch(first.message) != topViaBranch(second.message));
        f.answer(first, 180, "bob1");
        f.answer(second, 180, "bob2");
        QCOMPARE(f.upstreamStatuses(), (std::vector<int>{100, 180, 180}));
        f.answer(second, 200, "bob2", kBob2Contact);
        QCOMPARE(f.upstreamStatuses(), (std::vector<int>{100, 180, 180, 200}));

        // §16.7 step 10: the ringing branch is CANCELled, with RFC 3326's Reason.
        const SentMessage cancel = f.lastRequestTo(sip::Method::Cancel, kBob1);
        QCOMPARE(topViaBranch(cancel.message), topViaBranch(first.message));
        QCOMPARE(cancel.message.header(sip::HeaderId::Reason),
                 QByteArrayView(R"(SIP;cause=200;text="Call completed elsewhere")"));
        QCOMPARE(f.requestsTo(sip::Method::Cancel, kBob2).size(), 0u);
        // Its 487 stays here (a final already went upstream).
        f.answer(first, 487, "bob1");
        QCOMPARE(f.upstreamStatuses(), (std::vector<int>{100, 180, 180, 200}));
        QCOMPARE(f.proxy.pendingBranches(), 0u);
        const QStringList expected{
            QStringLiteral("started 201->202"),
            QStringLiteral("branch 1 ") + QString::fromUtf8(kBob1Contact),
            QStringLiteral("branch 1 ") + QString::fromUtf8(kBob2Contact),
            QStringLiteral("response 1 b0 180"),
            QStringLiteral("response 1 b1 180"),
            QStringLiteral("response 1 b1 200"),
            QStringLiteral("answered 1 200"),
            QStringLiteral("response 1 b0 487"),
        };
        QCOMPARE(f.observer.events, expected);
    }

    void twoXxRacingASixHundredWins() {
        Fixture f;
        f.location.add("202", kBob1Contact, kBob1);
        f.location.add("202", kBob2Contact, kBob2);
        f.inject(Fixture::invite());
        const SentMessage ringing = f.lastRequestTo(sip::Method::Invite, kBob1);
        f.answer(ringing, 180, "bob1");
        f.answer(f.lastRequestTo(sip::Method::Invite, kBob2), 603, "bob2");
        QCOMPARE(f.requestsTo(sip::Method::Cancel, kBob1).size(), 1u);
        // The CANCEL crossed the callee's answer: the 2xx still goes upstream.
        f.answer(ringing, 200, "bob1");
        QCOMPARE(f.upstreamStatuses(), (std::vector<int>{100, 180, 200}));
        QCOMPARE(f.observer.events.last(), QStringLiteral("answered 1 200"));
    }

    void busyAndAnsweredForksGiveTheAnswer() {
        Fixture f;
        f.location.add("202", kBob1Contact, kBob1);
        f.location.add("202", kBob2Contact, kBob2);
        f.inject(Fixture::invite());
        f.answer(f.lastRequestTo(sip::Method::Invite, kBob1), 486, "bob1");
        QCOMPARE(f.transport.countRequests(sip::Method::Ack), 1);  // hop by hop, by the layer
        QCOMPARE(f.upstreamStatuses(), std::vector<int>{100});     // not forwarded yet
        f.answer(f.lastRequestTo(sip::Method::Invite, kBob2), 200, "bob2", kBob2Contact);
        QCOMPARE(f.upstreamStatuses(), (std::vector<int>{100, 200}));
        QCOMPARE(f.transport.countRequests(sip::Method::Cancel), 0);
    }

    void twoAnswersFromAForkAreBothForwarded() {
        // §16.7 step 5: every 2xx to INVITE goes upstream, the UAC ACKs/BYEs each.
        Fixture f;
        f.location.add("202", kBob1Contact, kBob1);
        f.location.add("202", kBob2Contact, kBob2);
        f.inject(Fixture::invite());
        f.answer(f.lastRequestTo(sip::Method::Invite, kBob1), 200, "bob1");
        f.answer(f.lastRequestTo(sip::Method::Invite, kBob2), 200, "bob2", kBob2Contact);
        QCOMPARE(f.upstreamStatuses(), (std::vector<int>{100, 200, 200}));
        QCOMPARE(f.observer.events.count(QStringLiteral("answered 1 200")), 1);
    }

    void allFailBestResponseIsChosen() {
        // 486 from one branch, the other never answers (Timer B: 408): 486 wins.
        Fixture f;
        f.location.add("202", kBob1Contact, kBob1);
        f.location.add("202", kBob2Contact, kBob2);
        f.inject(Fixture::invite());
        f.answer(f.lastRequestTo(sip::Method::Invite, kBob1), 486, "bob1");
        f.clock.advance(base::Duration(32'000));
        QCOMPARE(f.upstreamStatuses(), (std::vector<int>{100, 486}));
        QCOMPARE(f.lastUpstream(486)->message.to()->tag(), QByteArrayView("bob1"));
        QCOMPARE(f.observer.events.last(), QStringLiteral("failed 1 486"));
        QVERIFY(f.observer.events.contains(QStringLiteral("ended 1 b1 408")));
        QCOMPARE(f.proxy.responseContexts(), 0u);
    }

    void sixHundredCancelsTheOthersAndWins() {
        Fixture f;
        f.location.add("202", kBob1Contact, kBob1);
        f.location.add("202", kBob2Contact, kBob2);
        f.inject(Fixture::invite());
        const SentMessage ringing = f.lastRequestTo(sip::Method::Invite, kBob1);
        f.answer(ringing, 180, "bob1");
        f.answer(f.lastRequestTo(sip::Method::Invite, kBob2), 603, "bob2");
        // §16.7 step 5: not forwarded at once; the other branch is CANCELled.
        QCOMPARE(f.upstreamStatuses(), (std::vector<int>{100, 180}));
        const SentMessage cancel = f.lastRequestTo(sip::Method::Cancel, kBob1);
        QCOMPARE(cancel.message.header(sip::HeaderId::Reason),
                 QByteArrayView(R"(SIP;cause=603;text="Decline")"));
        f.answer(ringing, 487, "bob1");
        QCOMPARE(f.upstreamStatuses(), (std::vector<int>{100, 180, 603}));
        QCOMPARE(f.lastUpstream(603)->message.to()->tag(), QByteArrayView("bob2"));
    }

    void qValueGroupsAreTriedInSequence() {
        Fixture f;
        f.location.add("202", kBob2Contact, kBob2, 500);
        f.location.add("202", kBob1Contact, kBob1, 1000);
        f.location.add("202", kBobTcpContact, kBobTcp, 1000);
        f.inject(Fixture::invite());
        // The q=1.0 group in parallel, the q=0.5 one not yet.
        QCOMPARE(f.requestsTo(sip::Method::Invite, kBob1).size(), 1u);
        QCOMPARE(f.requestsTo(sip::Method::Invite, kBobTcp).size(), 1u);
        QCOMPARE(f.requestsTo(sip::Method::Invite, kBob2).size(), 0u);
        f.answer(f.lastRequestTo(sip::Method::Invite, kBob1), 486, "bob1");
        QCOMPARE(f.requestsTo(sip::Method::Invite, kBob2).size(), 0u);
        f.answer(f.lastRequestTo(sip::Method::Invite, kBobTcp), 480, "bobtcp");
        // The first group failed: the next one.
        QCOMPARE(f.requestsTo(sip::Method::Invite, kBob2).size(), 1u);
        QCOMPARE(f.upstreamStatuses(), std::vector<int>{100});
        f.answer(f.lastRequestTo(sip::Method::Invite, kBob2), 200, "bob2", kBob2Contact);
        QCOMPARE(f.upstreamStatuses(), (std::vector<int>{100, 200}));
    }

    void sixHundredStopsTheNextGroup() {
        Fixture f;
        f.location.add("202", kBob1Contact, kBob1, 1000);
        f.location.add("202", kBob2Contact, kBob2, 500);
        f.inject(Fixture::invite());
        f.answer(f.lastRequestTo(sip::Method::Invite, kBob1), 600, "bob1");
        QCOMPARE(f.requestsTo(sip::Method::Invite, kBob2).size(), 0u);
        QCOMPARE(f.upstreamStatuses(), (std::vector<int>{100, 600}));
    }

    void cancelFromUpstreamCancelsEveryBranch() {
        Fixture f;
        f.location.add("202", kBob1Contact, kBob1);
        f.location.add("202", kBob2Contact, kBob2, 500);  // a later group: never tried
        f.inject(Fixture::invite());
        const SentMessage ringing = f.lastRequestTo(sip::Method::Invite, kBob1);
        f.answer(ringing, 180, "bob1");
        sip::Message cancel = Fixture::request(sip::Method::Cancel);
        cancel.addHeader(sip::HeaderId::Reason, R"(SIP;cause=480;text="Operator forwarded")");
        f.inject(cancel);
        // The layer answered the CANCEL; the proxy CANCELled the branch with the Reason.
        QCOMPARE(f.transport.countResponses(200), 1);
        const SentMessage forwardedCancel = f.lastRequestTo(sip::Method::Cancel, kBob1);
        QCOMPARE(forwardedCancel.message.header(sip::HeaderId::Reason),
                 QByteArrayView(R"(SIP;cause=480;text="Operator forwarded")"));
        QCOMPARE(f.upstreamStatuses(), (std::vector<int>{100, 180}));
        f.answer(ringing, 487, "bob1");
        QCOMPARE(f.upstreamStatuses(), (std::vector<int>{100, 180, 487}));
        QCOMPARE(f.requestsTo(sip::Method::Invite, kBob2).size(), 0u);
        QCOMPARE(f.observer.events.last(), QStringLiteral("failed 1 487 cancelled"));
        QCOMPARE(f.proxy.responseContexts(), 0u);
    }

    void cancelBeforeAnyProvisionalWaitsForOne() {
        // §9.1: a branch that sent nothing yet gets its CANCEL once a provisional comes.
        Fixture f;
        f.location.add("202", kBob1Contact, kBob1);
        f.inject(Fixture::invite());
        const SentMessage invite = f.lastRequestTo(sip::Method::Invite, kBob1);
        f.inject(Fixture::request(sip::Method::Cancel));
        QCOMPARE(f.requestsTo(sip::Method::Cancel, kBob1).size(), 0u);
        f.answer(invite, 100, {});
        QCOMPARE(f.requestsTo(sip::Method::Cancel, kBob1).size(), 1u);
        f.answer(invite, 487, "bob1");
        QCOMPARE(f.upstreamStatuses(), (std::vector<int>{100, 487}));
    }

    void timerCCancelsARingingBranch() {
        ProxyOptions options;
        options.timerC = std::chrono::seconds(200);
        Fixture f(options);
        f.location.add("202", kBob1Contact, kBob1);
        f.inject(Fixture::invite());
        const SentMessage invite = f.lastRequestTo(sip::Method::Invite, kBob1);
        f.answer(invite, 180, "bob1");
        f.clock.advance(base::Duration(150'000));
        f.answer(invite, 183, "bob1");  // §16.7 step 2: restarts Timer C
        f.clock.advance(base::Duration(199'000));
        QCOMPARE(f.requestsTo(sip::Method::Cancel, kBob1).size(), 0u);
        f.clock.advance(base::Duration(1'000));
        QCOMPARE(f.requestsTo(sip::Method::Cancel, kBob1).size(), 1u);
        // §16.8: its 487 counts as 408.
        f.answer(invite, 487, "bob1");
        QCOMPARE(f.upstreamStatuses(), (std::vector<int>{100, 180, 183, 408}));
        QCOMPARE(f.observer.events.last(), QStringLiteral("failed 1 408"));
    }

    void timerCWithoutProvisionalIsA408() {
        // Timer C shorter than Timer B, so that it is what fires.
        ProxyOptions options;
        options.timerC = std::chrono::seconds(10);
        Fixture f(options);
        f.location.add("202", kBob1Contact, kBob1);
        f.inject(Fixture::invite());
        const SentMessage invite = f.lastRequestTo(sip::Method::Invite, kBob1);
        f.clock.advance(base::Duration(10'000));
        QCOMPARE(f.upstreamStatuses(), (std::vector<int>{100, 408}));
        QVERIFY(f.observer.events.contains(QStringLiteral("ended 1 b0 408")));
        QCOMPARE(f.requestsTo(sip::Method::Cancel, kBob1).size(), 0u);
        // A late provisional gets the branch CANCELled (§9.1) and is not forwarded.
        f.answer(invite, 180, "bob1");
        QCOMPARE(f.requestsTo(sip::Method::Cancel, kBob1).size(), 1u);
        QCOMPARE(f.upstreamStatuses(), (std::vector<int>{100, 408}));
        // A 2xx crossing that CANCEL is still forwarded (§16.7 step 5), outside the
        // server transaction that already answered 408.
        f.answer(invite, 200, "bob1");
        QCOMPARE(f.upstreamStatuses(), (std::vector<int>{100, 408, 200}));
        QCOMPARE(f.lastUpstream(200)->message.count(sip::HeaderId::Via), 1);
    }

    void maxForwardsZeroGets483() {
        Fixture f;
        f.location.add("202", kBob1Contact, kBob1);
        sip::Message invite = Fixture::invite();
        invite.setHeader(sip::HeaderId::MaxForwards, "0");
        f.inject(invite);
        QCOMPARE(f.upstreamStatuses(), std::vector<int>{483});
        QCOMPARE(f.transport.countRequests(sip::Method::Invite), 0);
        QVERIFY(f.observer.events.isEmpty());
    }

    void missingMaxForwardsIsAdded() {
        Fixture f;
        f.location.add("202", kBob1Contact, kBob1);
        sip::Message invite = Fixture::invite();
        invite.removeHeaders(sip::HeaderId::MaxForwards);
        f.inject(invite);
        QCOMPARE(f.lastRequestTo(sip::Method::Invite, kBob1).message.maxForwards(),
                 std::optional<quint32>(70));
    }

    void loopIsDetected() {
        // The upstream sends the request straight back, unchanged but for its own Via.
        ProxyOptions options;
        options.upstream = kUpstream;
        Fixture f(options);
        f.inject(Fixture::invite("sip:bob@example.com"));
        SentMessage out = f.lastRequestTo(sip::Method::Invite, kUpstream);
        QCOMPARE(out.message.requestUri(), QByteArrayView("sip:bob@example.com"));
        sip::Message back = out.message;
        back.prependHeader(sip::HeaderId::Via,
                           "SIP/2.0/UDP 127.0.0.9:5060;branch=z9hG4bK-upstream-1;rport");
        f.transport.clearSent();
        f.inject(back, kUpstream);
        QCOMPARE(f.transport.countResponses(482), 1);
        QCOMPARE(f.transport.countRequests(sip::Method::Invite), 0);
    }

    void spiralIsNotALoop() {
        // Back through us with another Request-URI (§16.3 step 4: a spiral) is routed.
        ProxyOptions options;
        options.upstream = kUpstream;
        Fixture f(options);
        f.location.add("202", kBob1Contact, kBob1);
        f.inject(Fixture::invite("sip:bob@example.com"));
        sip::Message back = f.lastRequestTo(sip::Method::Invite, kUpstream).message;
        back.setRequestUri("sip:202@switchboard.local");
        back.prependHeader(sip::HeaderId::Via,
                           "SIP/2.0/UDP 127.0.0.9:5060;branch=z9hG4bK-upstream-2;rport");
        f.inject(back, kUpstream);
        QCOMPARE(f.transport.countResponses(482), 0);
        const SentMessage spiralled = f.lastRequestTo(sip::Method::Invite, kBob1);
        QCOMPARE(spiralled.message.count(sip::HeaderId::Via), 4);
    }

    void proxyRequireGets420() {
        Fixture f;
        f.location.add("202", kBob1Contact, kBob1);
        sip::Message invite = Fixture::invite();
        invite.addHeader(sip::HeaderId::ProxyRequire, "foo");
        f.inject(invite);
        QCOMPARE(f.upstreamStatuses(), std::vector<int>{420});
        QCOMPARE(f.lastUpstream(420)->message.header(sip::HeaderId::Unsupported),
                 QByteArrayView("foo"));
    }

    void unsupportedSchemeGets416() {
        Fixture f;
        f.inject(Fixture::invite("tel:+15551234"));
        QCOMPARE(f.upstreamStatuses(), std::vector<int>{416});
    }

    void inDialogByeIsLooseRouted() {
        Fixture f;
        sip::Message bye =
            Fixture::request(sip::Method::Bye, kBob1Contact, "z9hG4bK-bye-1", 2, "bob-tag");
        bye.addHeader(sip::HeaderId::Route, f.ownRoute);
        f.inject(bye);
        const SentMessage forwarded = f.lastRequestTo(sip::Method::Bye, kBob1);
        QVERIFY(!forwarded.message.has(sip::HeaderId::Route));
        QVERIFY(!forwarded.message.has(sip::HeaderId::RecordRoute));
        QCOMPARE(forwarded.message.requestUri(), QByteArrayView(kBob1Contact));
        QCOMPARE(f.upstreamStatuses(), std::vector<int>{});  // no 100 for a non-INVITE
        f.answer(forwarded, 200, {});
        QCOMPARE(f.upstreamStatuses(), std::vector<int>{200});
        QCOMPARE(f.observer.events,
                 (QStringList{QStringLiteral("request BYE from udp:127.0.0.2:5070"),
                              QStringLiteral("in-dialog response 200 BYE")}));
        QCOMPARE(f.proxy.responseContexts(), 0u);
    }

    void inDialogRequestGoesToTheNextRoute() {
        // A route set beyond ours: the next Route is the next hop, Request-URI untouched.
        Fixture f;
        sip::Message bye =
            Fixture::request(sip::Method::Bye, "sip:bob@example.com", "z9hG4bK-bye-2", 2, "t");
        bye.addHeader(sip::HeaderId::Route, f.ownRoute + ", <sip:127.0.0.9:5060;lr>");
        f.inject(bye);
        const SentMessage forwarded = f.lastRequestTo(sip::Method::Bye, kUpstream);
        QCOMPARE(forwarded.message.header(sip::HeaderId::Route),
                 QByteArrayView("<sip:127.0.0.9:5060;lr>"));
        QCOMPARE(forwarded.message.requestUri(), QByteArrayView("sip:bob@example.com"));
    }

    void strictRouterNextHop() {
        // §16.6 step 6: the next hop has no ;lr: it becomes the Request-URI.
        Fixture f;
        sip::Message bye =
            Fixture::request(sip::Method::Bye, "sip:bob@example.com", "z9hG4bK-bye-3", 2, "t");
        bye.addHeader(sip::HeaderId::Route, f.ownRoute);
        bye.addHeader(sip::HeaderId::Route, "<sip:127.0.0.9:5060>");
        f.inject(bye);
        const SentMessage forwarded = f.lastRequestTo(sip::Method::Bye, kUpstream);
        QCOMPARE(forwarded.message.requestUri(), QByteArrayView("sip:127.0.0.9:5060"));
        QCOMPARE(forwarded.message.header(sip::HeaderId::Route),
                 QByteArrayView("<sip:bob@example.com>"));
    }

    void requestFromAStrictRouter() {
        // §16.4: our Record-Route URI in the Request-URI, the real one last in Route.
        Fixture f;
        sip::Message bye =
            Fixture::request(sip::Method::Bye, "sip:127.0.0.1:5060;sbrr=" + f.token + ";lr",
                             "z9hG4bK-bye-4", 2, "bob-tag");
        bye.addHeader(sip::HeaderId::Route, '<' + kBob1Contact + '>');
        f.inject(bye);
        const SentMessage forwarded = f.lastRequestTo(sip::Method::Bye, kBob1);
        QCOMPARE(forwarded.message.requestUri(), QByteArrayView(kBob1Contact));
        QVERIFY(!forwarded.message.has(sip::HeaderId::Route));
    }

    void inDialogWithoutOurRouteIsNotRelayed() {
        // No open relay: a request "within a dialog" that did not come through our
        // Record-Route is refused, whatever it names (a phone, any address).
        Fixture f;
        f.location.add("202", kBob1Contact, kBob1);
        f.inject(Fixture::request(sip::Method::Bye, kBob1Contact, "z9hG4bK-bye-5", 2, "bob-tag"));
        f.inject(Fixture::request(sip::Method::Invite, "sip:anyone@127.0.0.9:5060",
                                  "z9hG4bK-relay-1", 2, "x"));
        f.inject(Fixture::request(sip::Method::Message, "sip:202@switchboard.local",
                                  "z9hG4bK-relay-2", 2, "x"));
        QCOMPARE(f.upstreamStatuses(), (std::vector<int>{481, 481, 481}));
        QCOMPARE(f.lastUpstream(481)->message.reasonPhrase(),
                 QByteArrayView("Call/Transaction Does Not Exist"));
        QCOMPARE(f.transport.countRequests(sip::Method::Bye), 0);
        QCOMPARE(f.transport.countRequests(sip::Method::Invite), 0);
        QCOMPARE(f.transport.countRequests(sip::Method::Message), 0);
        QVERIFY(f.observer.events.isEmpty());
    }

    void forgedTokensAreRefused() {
        Fixture f;
        const QByteArray forgedRoutes[] = {
            "<sip:127.0.0.1:5060;lr>",                              // none
            "<sip:127.0.0.1:5060;sbrr=AAAAAAAAAAAAAAAAAAAAAA;lr>",  // made up
            "<sip:127.0.0.1:5060;sbrr=" + f.proxy.recordRoute().tokenFor("another-call") +
                ";lr>",  // another dialog's
        };
        int n = 0;
        for (const QByteArray& route : forgedRoutes) {
            sip::Message bye =
                Fixture::request(sip::Method::Bye, kBob1Contact,
                                 "z9hG4bK-forged-" + QByteArray::number(++n), 2, "bob-tag");
            bye.addHeader(sip::HeaderId::Route, route);
            f.inject(bye);
            // The ACK of a 2xx is never answered: dropped.
            sip::Message ack =
                Fixture::request(sip::Method::Ack, "sip:anyone@127.0.0.9:5060",
                                 "z9hG4bK-forged-ack-" + QByteArray::number(n), 1, "bob-tag");
            ack.addHeader(sip::HeaderId::Route, route);
            f.inject(ack);
        }
        QCOMPARE(f.upstreamStatuses(), (std::vector<int>{481, 481, 481}));
        QCOMPARE(f.transport.countRequests(sip::Method::Bye), 0);
        QCOMPARE(f.transport.countRequests(sip::Method::Ack), 0);
        // An ACK without any Route to a numeric host is not relayed either.
        f.inject(Fixture::request(sip::Method::Ack, "sip:anyone@127.0.0.9:5060", "z9hG4bK-bare-ack",
                                  1, "bob-tag"));
        QCOMPARE(f.transport.countRequests(sip::Method::Ack), 0);
        QVERIFY(f.observer.events.isEmpty());
        // The real token passes: the same BYE is relayed.
        sip::Message bye =
            Fixture::request(sip::Method::Bye, kBob1Contact, "z9hG4bK-real", 2, "bob-tag");
        bye.addHeader(sip::HeaderId::Route, f.ownRoute);
        f.inject(bye);
        QCOMPARE(f.requestsTo(sip::Method::Bye, kBob1).size(), 1u);
    }

    void withoutRecordRouteEveryInDialogRequestIs481() {
        // record_route = false: the proxy is on no dialog's path, so no in-dialog request
        // is legitimately its to route.
        ProxyOptions options;
        options.recordRoute = false;
        Fixture f(options);
        f.location.add("202", kBob1Contact, kBob1);
        f.inject(Fixture::invite());
        QVERIFY(
            !f.lastRequestTo(sip::Method::Invite, kBob1).message.has(sip::HeaderId::RecordRoute));
        sip::Message bye =
            Fixture::request(sip::Method::Bye, kBob1Contact, "z9hG4bK-bye-norr", 2, "bob-tag");
        bye.addHeader(sip::HeaderId::Route, "<sip:127.0.0.1:5060;lr>");
        f.inject(bye);
        QCOMPARE(f.upstreamStatuses(), (std::vector<int>{100, 481}));
        QCOMPARE(f.transport.countRequests(sip::Method::Bye), 0);
    }

    void tokenIsBoundToTheCallIdOnly() {
        // From and To swap with the direction: the callee's BYE (tags swapped) carries
        // the same token as the caller's.
        Fixture f;
        sip::Message bye = sip::Message::request(sip::Method::Bye, "sip:201@127.0.0.2:5070");
        bye.addHeader(sip::HeaderId::Via, "SIP/2.0/UDP 127.0.0.3:5080;branch=z9hG4bK-cb;rport");
        bye.addHeader(sip::HeaderId::MaxForwards, "70");
        bye.addHeader(sip::HeaderId::Route, f.ownRoute);
        bye.addHeader(sip::HeaderId::From, "<sip:202@switchboard.local>;tag=bob-tag");
        bye.addHeader(sip::HeaderId::To, "<sip:201@switchboard.local>;tag=caller-tag");
        bye.addHeader(sip::HeaderId::CallId, kCallId);
        bye.addHeader(sip::HeaderId::CSeq, "1 BYE");
        f.inject(bye, kBob1);
        QCOMPARE(f.requestsTo(sip::Method::Bye, kCaller).size(), 1u);
    }

    void otherDomainIsRefused() {
        Fixture f;
        f.inject(Fixture::invite("sip:bob@example.com"));
        QCOMPARE(f.upstreamStatuses(), std::vector<int>{403});
        QCOMPARE(f.lastUpstream(403)->message.reasonPhrase(), QByteArrayView("Relaying denied"));
        // Also a request that names another proxy first in its Route.
        sip::Message routed =
            Fixture::request(sip::Method::Invite, "sip:202@switchboard.local", "z9hG4bK-caller-2");
        routed.addHeader(sip::HeaderId::Route, "<sip:127.0.0.9:5060;lr>");
        f.inject(routed);
        QCOMPARE(f.upstreamStatuses(), (std::vector<int>{403, 403}));
        QCOMPARE(f.transport.countRequests(sip::Method::Invite), 0);
    }

    void otherDomainGoesUpstreamWhenConfigured() {
        ProxyOptions options;
        options.upstream = kUpstream;
        Fixture f(options);
        f.inject(Fixture::invite("sip:bob@example.com"));
        const SentMessage out = f.lastRequestTo(sip::Method::Invite, kUpstream);
        QCOMPARE(out.message.requestUri(), QByteArrayView("sip:bob@example.com"));
        QCOMPARE(out.message.header(sip::HeaderId::RecordRoute), QByteArrayView(f.ownRoute));
        f.answer(out, 200, "far", "sip:bob@127.0.0.9:5070");
        QCOMPARE(f.upstreamStatuses(), (std::vector<int>{100, 200}));
        QCOMPARE(f.observer.events.first(), QStringLiteral("started 201->"));
    }

    void udpToTcpIsDoubleRecordRouted() {
        Fixture f;
        f.location.add("202", kBobTcpContact, kBobTcp);
        f.inject(Fixture::invite());
        const SentMessage out = f.lastRequestTo(sip::Method::Invite, kBobTcp);
        QCOMPARE(out.destination.protocol, Protocol::Tcp);
        QCOMPARE(out.message.topVia()->transport, QByteArrayView("TCP"));
        // RFC 5658: the top entry faces the callee (TCP), the next one the caller (UDP).
        const sip::ValueList rr = out.message.values(sip::HeaderId::RecordRoute);
        QCOMPARE(rr.size(), 2);
        QCOMPARE(rr[0], QByteArrayView(f.ownTcpRoute));
        QCOMPARE(rr[1], QByteArrayView(f.ownRoute));

        // The callee's BYE comes over TCP with its route set (the Record-Route as is):
        // both entries are ours and popped; it leaves over UDP towards the caller.
        sip::Message bye = sip::Message::request(sip::Method::Bye, "sip:201@127.0.0.2:5070");
        bye.addHeader(sip::HeaderId::Via,
                      "SIP/2.0/TCP 127.0.0.5:5062;branch=z9hG4bK-callee-bye;rport");
        bye.addHeader(sip::HeaderId::MaxForwards, "70");
        bye.addHeader(sip::HeaderId::Route, f.ownTcpRoute);
        bye.addHeader(sip::HeaderId::Route, f.ownRoute);
        bye.addHeader(sip::HeaderId::From, "<sip:202@switchboard.local>;tag=bob-tag");
        bye.addHeader(sip::HeaderId::To, "<sip:201@switchboard.local>;tag=caller-tag");
        bye.addHeader(sip::HeaderId::CallId, "call-1@127.0.0.2");
        bye.addHeader(sip::HeaderId::CSeq, "1 BYE");
        QVERIFY(f.transport.inject(bye, kBobTcp, 7).has_value());
        const SentMessage forwarded = f.lastRequestTo(sip::Method::Bye, kCaller);
        QVERIFY(!forwarded.message.has(sip::HeaderId::Route));
        QCOMPARE(forwarded.message.topVia()->transport, QByteArrayView("UDP"));
        QVERIFY(f.transport.respond(forwarded, 200).has_value());
        // The 200 goes back on the callee's connection.
        const SentMessage* ok = f.transport.lastResponse();
        QCOMPARE(ok->statusCode(), 200);
        QCOMPARE(ok->connection, transport::ConnectionId(7));
        QCOMPARE(ok->message.count(sip::HeaderId::Via), 1);
    }

    void sameTransportIsRecordRoutedOnce() {
        Fixture f;
        f.location.add("202", kBobTcpContact, kBobTcp);
        sip::Message invite = Fixture::invite();
        invite.replaceFirstHeader(sip::HeaderId::Via,
                                  "SIP/2.0/TCP 127.0.0.2:5070;branch=z9hG4bK-tcp-1;rport");
        QVERIFY(
            f.transport.inject(invite, endpoint(Protocol::Tcp, "127.0.0.2", 5070), 3).has_value());
        const SentMessage out = f.lastRequestTo(sip::Method::Invite, kBobTcp);
        QCOMPARE(out.message.values(sip::HeaderId::RecordRoute).size(), 1);
        QCOMPARE(out.message.header(sip::HeaderId::RecordRoute), QByteArrayView(f.ownTcpRoute));
    }

    void transportErrorCountsAs503AndBecomes500() {
        Fixture f;
        f.location.add("202", kBob1Contact, kBob1);
        f.inject(Fixture::invite());
        f.transport.flowFailed(kBob1, FakeTransport::defaultSendError());
        // §16.9 / §16.7 step 6: the only answer is a 503, sent upstream as 500.
        QCOMPARE(f.upstreamStatuses(), (std::vector<int>{100, 500}));
        QVERIFY(f.observer.events.contains(QStringLiteral("ended 1 b0 503")));
    }

    void failedSendTriesTheNextGroup() {
        Fixture f;
        f.location.add("202", kBob1Contact, kBob1, 1000);
        f.location.add("202", kBob2Contact, kBob2, 500);
        // The 100 Trying goes out first; the INVITE to Bob1 right after it fails to send.
        f.transport.setPeer([&](const SentMessage& sent) {
            if (sent.isResponse() && sent.statusCode() == 100) f.transport.failNextSends(1);
        });
        f.inject(Fixture::invite());
        QCOMPARE(f.transport.failedSendCount(), 1);
        QCOMPARE(f.requestsTo(sip::Method::Invite, kBob1).size(), 0u);
        QCOMPARE(f.requestsTo(sip::Method::Invite, kBob2).size(), 1u);
        QVERIFY(f.observer.events.contains(QStringLiteral("ended 1 b0 503")));
        QVERIFY(f.observer.events.contains(QStringLiteral("branch 1 ") +
                                           QString::fromUtf8(kBob2Contact)));
    }

    void authenticationChallengesAreAggregated() {
        Fixture f;
        f.location.add("202", kBob1Contact, kBob1);
        f.location.add("202", kBob2Contact, kBob2);
        f.inject(Fixture::invite());
        auto challenge = [&](const transport::Endpoint& to, QByteArray realm) {
            const SentMessage sent = f.lastRequestTo(sip::Method::Invite, to);
            sip::Message response = sip::makeResponse(sent.message, 407, {}, "t-" + realm);
            response.addHeader(sip::HeaderId::ProxyAuthenticate,
                               "Digest realm=\"" + realm + "\", nonce=\"n\"");
            QVERIFY(f.transport.answer(sent, response).has_value());
        };
        challenge(kBob1, "one");
        challenge(kBob2, "two");
        const SentMessage* answer = f.lastUpstream(407);
        QVERIFY(answer);
        QCOMPARE(answer->message.count(sip::HeaderId::ProxyAuthenticate), 2);
    }

    void nonInviteIsForwardedStatefully() {
        Fixture f;
        f.location.add("202", kBob1Contact, kBob1);
        f.inject(Fixture::request(sip::Method::Message));
        const SentMessage out = f.lastRequestTo(sip::Method::Message, kBob1);
        QVERIFY(!out.message.has(sip::HeaderId::RecordRoute));  // creates no dialog
        QCOMPARE(f.upstreamStatuses(), std::vector<int>{});
        QVERIFY(f.transport.respond(out, 200, "bob").has_value());
        QCOMPARE(f.upstreamStatuses(), std::vector<int>{200});
        QVERIFY(f.observer.events.isEmpty());  // neither a call nor in a dialog
        QCOMPARE(f.proxy.responseContexts(), 0u);
    }

    void subscribeIsRecordRouted() {
        Fixture f;
        f.location.add("202", kBob1Contact, kBob1);
        f.inject(Fixture::request(sip::Method::Subscribe));
        QCOMPARE(f.lastRequestTo(sip::Method::Subscribe, kBob1)
                     .message.header(sip::HeaderId::RecordRoute),
                 QByteArrayView(f.ownRoute));
    }

    void nonInviteTimeoutSendsNo408() {
        // RFC 4320 §4.2: the proxy lets the client time out rather than send 408.
        Fixture f;
        f.location.add("202", kBob1Contact, kBob1);
        sip::Message bye =
            Fixture::request(sip::Method::Bye, "sip:202@switchboard.local", "z9hG4bK-b7", 2, "t");
        bye.addHeader(sip::HeaderId::Route, f.ownRoute);
        f.inject(bye);
        QCOMPARE(f.requestsTo(sip::Method::Bye, kBob1).size(), 1u);
        f.clock.advance(base::Duration(32'000));  // Timer F (after Timer E's retransmissions)
        QCOMPARE(f.upstreamStatuses(), std::vector<int>{});
        QCOMPARE(f.proxy.responseContexts(), 0u);
        // The tracker still hears that the BYE got nowhere.
        QCOMPARE(f.observer.events.last(), QStringLiteral("in-dialog response 408 BYE"));
        const std::size_t sent = f.requestsTo(sip::Method::Bye, kBob1).size();
        f.inject(bye);  // a retransmission is absorbed, not routed again
        QCOMPARE(f.requestsTo(sip::Method::Bye, kBob1).size(), sent);
        QCOMPARE(f.upstreamStatuses(), std::vector<int>{});
    }

    void twoXxAfterTheLingerButWithinTimerMIsForwarded() {
        // The context is gone after acceptedLinger, the client transaction lives on
        // (Timer M): a retransmitted 2xx still reaches the caller, statelessly.
        Fixture f;
        f.location.add("202", kBob1Contact, kBob1);
        f.inject(Fixture::invite());
        const SentMessage out = f.lastRequestTo(sip::Method::Invite, kBob1);
        f.answer(out, 200, "bob-tag");
        f.clock.advance(base::Duration(10'000));
        QCOMPARE(f.proxy.responseContexts(), 0u);
        QVERIFY(f.layer.clientTransactionCount() > 0);
        f.transport.clearSent();
        f.answer(out, 200, "bob-tag");
        QCOMPARE(f.transport.sent().size(), 1u);
        QCOMPARE(f.transport.sent().front().statusCode(), 200);
    }

    void strayTwoXxIsForwardedStatelessly() {
        Fixture f;
        f.location.add("202", kBob1Contact, kBob1);
        f.inject(Fixture::invite());
        const SentMessage out = f.lastRequestTo(sip::Method::Invite, kBob1);
        f.answer(out, 200, "bob-tag");
        // Long after: the context lingered and is gone, Timer M ended the transaction.
        f.clock.advance(base::Duration(60'000));
        QCOMPARE(f.proxy.responseContexts(), 0u);
        QCOMPARE(f.layer.clientTransactionCount(), 0u);
        f.transport.clearSent();
        f.answer(out, 200, "bob-tag");
        QCOMPARE(f.transport.sent().size(), 1u);
        const SentMessage& forwarded = f.transport.sent().front();
        QCOMPARE(forwarded.statusCode(), 200);
        QCOMPARE(forwarded.destination, kCaller);  // by the caller's Via (rport)
        QCOMPARE(topViaBranch(forwarded.message), QByteArrayView("z9hG4bK-caller-1"));
        // A stray response under somebody else's Via, or not a 2xx, is dropped.
        f.transport.clearSent();
        QVERIFY(f.transport.inject(sip::makeResponse(Fixture::invite(), 200, {}, "x"), kBob1)
                    .has_value());
        QVERIFY(f.transport.respond(out, 486, "bob-tag").has_value());
        QCOMPARE(f.transport.sent().size(), 0u);
    }

    void ackForAFailureIsNotForwarded() {
        // An ACK to our AoR acknowledges a failure hop by hop; outside its transaction
        // it goes nowhere.
        Fixture f;
        f.location.add("202", kBob1Contact, kBob1);
        f.inject(Fixture::request(sip::Method::Ack, "sip:202@switchboard.local",
                                  "z9hG4bK-old-invite", 1, "proxy-tag"));
        QCOMPARE(f.transport.sent().size(), 0u);
    }

    void forksAreBounded() {
        ProxyOptions options;
        options.maxForks = 2;
        Fixture f(options);
        f.location.add("202", kBob1Contact, kBob1);
        f.location.add("202", kBob2Contact, kBob2);
        f.location.add("202", kBobTcpContact, kBobTcp);
        f.location.add("202", kBob1Contact, kBob1);  // a duplicate is no extra target
        f.inject(Fixture::invite());
        QCOMPARE(f.transport.countRequests(sip::Method::Invite), 2);
        QCOMPARE(f.proxy.pendingBranches(), 2u);
    }

    void responseContextsAreBounded() {
        ProxyOptions options;
        options.maxResponseContexts = 1;
        Fixture f(options);
        f.location.add("202", kBob1Contact, kBob1);
        f.inject(Fixture::invite());
        f.inject(Fixture::request(sip::Method::Invite, "sip:202@switchboard.local",
                                  "z9hG4bK-caller-2", 2));
        QCOMPARE(f.transport.countResponses(503), 1);
        QVERIFY(f.transport.lastResponse()->message.has(sip::HeaderId::RetryAfter));
        QCOMPARE(f.transport.countRequests(sip::Method::Invite), 1);
    }

    void aByeStillPassesWhenNewCallsAreRefused() {
        // Under load new calls get 503; the BYE of a call that is up still goes through
        // (it has twice the room), so no answered call is left hanging.
        ProxyOptions options;
        options.maxResponseContexts = 1;
        Fixture f(options);
        f.location.add("202", kBob1Contact, kBob1);
        f.inject(Fixture::invite());
        sip::Message bye =
            Fixture::request(sip::Method::Bye, kBob1Contact, "z9hG4bK-bye-1", 2, "bob-tag");
        bye.addHeader(sip::HeaderId::Route, f.ownRoute);
        f.inject(bye);
        QCOMPARE(f.transport.countResponses(503), 0);
        QCOMPARE(f.transport.countRequests(sip::Method::Bye), 1);
        // The room is bounded too: a second BYE while both are pending is refused.
        sip::Message another =
            Fixture::request(sip::Method::Bye, kBob1Contact, "z9hG4bK-bye-2", 3, "bob-tag");
        another.addHeader(sip::HeaderId::Route, f.ownRoute);
        f.inject(another);
        QCOMPARE(f.transport.countResponses(503), 1);
    }

    void reInviteIsAnInDialogRequest() {
        Fixture f;
        sip::Message reinvite =
            Fixture::request(sip::Method::Invite, kBob1Contact, "z9hG4bK-reinvite", 2, "bob-tag");
        reinvite.addHeader(sip::HeaderId::Route, f.ownRoute);
        f.inject(reinvite);
        const SentMessage out = f.lastRequestTo(sip::Method::Invite, kBob1);
        QVERIFY(!out.message.has(sip::HeaderId::RecordRoute));
        QCOMPARE(f.upstreamStatuses(), std::vector<int>{100});
        f.answer(out, 200, {});
        QCOMPARE(f.upstreamStatuses(), (std::vector<int>{100, 200}));
        QCOMPARE(f.observer.events,
                 (QStringList{QStringLiteral("request INVITE from udp:127.0.0.2:5070"),
                              QStringLiteral("in-dialog response 200 INVITE")}));
    }

    void natBindingIsReachedByItsFlow() {
        // A phone behind NAT registered a private Contact: requests go where the REGISTER
        // came from, in-dialog ones too.
        Fixture f;
        Binding behindNat;
        behindNat.user = QStringLiteral("202");
        behindNat.contactUri = "sip:202@127.0.0.77:5060";
        behindNat.source = kBob2;
        behindNat.behindNat = true;
        f.location.bindings[QStringLiteral("202")].push_back(behindNat);
        f.inject(Fixture::invite());
        QCOMPARE(f.lastRequestTo(sip::Method::Invite, kBob2).message.requestUri(),
                 QByteArrayView("sip:202@127.0.0.77:5060"));
        sip::Message bye = Fixture::request(sip::Method::Bye, "sip:202@127.0.0.77:5060",
                                            "z9hG4bK-bye-nat", 2, "bob-tag");
        bye.addHeader(sip::HeaderId::Route, f.ownRoute);
        f.inject(bye);
        QCOMPARE(f.requestsTo(sip::Method::Bye, kBob2).size(), 1u);
    }

    void registeredContactIsFoundByItsUri() {
        // The remote target of a dialog is a registered Contact without a user part (as
        // some phones register): found by the URI itself, reached by its flow.
        Fixture f;
        base::ManualClock storeClock;
        BindingStore store(storeClock);
        Binding behindNat;
        behindNat.user = QStringLiteral("202");
        behindNat.contactUri = "sip:127.0.0.77:5060";
        behindNat.contactValue = "<sip:127.0.0.77:5060>";
        behindNat.source = kBob2;
        behindNat.behindNat = true;
        behindNat.expiresAt = storeClock.now() + std::chrono::seconds(3600);
        QVERIFY(store.put(behindNat));
        f.proxy.setContactLookup([&](const sip::Uri& uri) { return store.lookupByContact(uri); });
        sip::Message bye = Fixture::request(sip::Method::Bye, "sip:127.0.0.77:5060",
                                            "z9hG4bK-bye-contact", 2, "bob-tag");
        bye.addHeader(sip::HeaderId::Route, f.ownRoute);
        f.inject(bye);
        QCOMPARE(f.requestsTo(sip::Method::Bye, kBob2).size(), 1u);
        QCOMPARE(f.requestsTo(sip::Method::Bye, endpoint(Protocol::Udp, "127.0.0.77", 5060)).size(),
                 0u);
    }

    void destroyingTheProxySilencesItsTransactions() {
        base::ManualClock clock;
        FakeTransport transport{&clock};
        base::SeededRandom random{3};
        transaction::TransactionLayer layer(transport, clock, random);
        LocalDomains domains(QStringList{QStringLiteral("switchboard.local")});
        domains.addListeningEndpoint(endpoint(Protocol::Udp, "127.0.0.1", 5060));
        FakeLocation location;
        location.add("202", kBob1Contact, kBob1);
        Dispatcher dispatcher;
        layer.setServerUser(&dispatcher);
        {
            Proxy proxy(layer, transport, clock, random, domains, location, location);
            dispatcher.proxy = &proxy;
            QVERIFY(transport.inject(Fixture::invite(), kCaller).has_value());
            QCOMPARE(layer.clientTransactionCount(), 1u);
        }
        layer.setServerUser(nullptr);
        // The client transaction runs on without its user (which would crash here if it
        // still called the destroyed proxy).
        const SentMessage out = *transport.lastRequest(sip::Method::Invite);
        QVERIFY(transport.respond(out, 180, "bob").has_value());
        QVERIFY(transport.respond(out, 486, "bob").has_value());
        QCOMPARE(transport.countRequests(sip::Method::Ack), 1);
        clock.advance(base::Duration(40'000));
        QCOMPARE(layer.clientTransactionCount(), 0u);
    }
};

QTEST_GUILESS_MAIN(TestProxy)
#include "tst_proxy.moc"
