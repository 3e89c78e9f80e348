// Tests core/ua/pickup_referrer.*: client-mode pickup by REFER against a FakeTransport
// and a ManualClock — the REFER's bytes (Refer-To with the escaped early-only Replaces,
// Referred-By, Route), the Replaces tags seen from the caller (RFC 3891 §3), the
// implicit subscription's sipfrag NOTIFYs (RFC 3515 §2.4.5), the fallback to the
// directed-pickup code, the failure texts, malformed NOTIFYs and the timeouts.

#include <QTest>

#include <memory>
#include <set>

#include "base/manual_clock.h"
#include "base/random.h"
#include "fake_transport.h"
#include "sip/message.h"
#include "sip/typed_headers.h"
#include "sip/uri.h"
#include "transaction/transaction_layer.h"
#include "ua/pickup_referrer.h"

using namespace sb;
using namespace std::chrono_literals;
using sip::HeaderId;
using test::FakeTransport;
using transport::Protocol;
using Step = ua::PickupReport::Step;
using ReportState = ua::PickupReport::State;

namespace {

transport::Endpoint proxy() {
    return FakeTransport::endpoint(Protocol::Udp, "127.0.0.1", 5062);
}

ua::PickupReferrerOptions defaultOptions() {
    ua::PickupReferrerOptions options;
    options.aor = "sip:console@example.com";
    options.password = "s3cret";
    options.nextHop = [] { return std::optional<transport::Endpoint>(proxy()); };
    options.localEndpointFor = [](const transport::Endpoint&) {
        return std::optional<transport::Endpoint>(
            FakeTransport::endpoint(Protocol::Udp, "127.0.0.1", 5060));
    };
    options.outboundProxyUri = "sip:127.0.0.1:5062";
    options.domain = "example.com";
    options.pickupCode = "**ext";
    return options;
}

// 202's dialog-info: local = 202, remote = the caller (alice).
ua::PickupTarget ringingAt202() {
    ua::PickupTarget target;
    target.extension = "202";
    target.phoneAor = "sip:204@example.com";
    target.callId = "a84b4c76e66710@pc33.example.com";
    target.localTag = "tag202";
    target.remoteTag = "tagalice";
    target.remoteTarget = "sip:alice@127.0.0.1:5070";
    return target;
}

// Answers every request the referrer does not take, so a test sees what fell through.
class Router final : public transaction::ServerTransactionUser {
public:
    void onRequest(transaction::TransactionId id,
                   const transport::IncomingMessage& incoming) override {
        if (referrer->onRequest(id, incoming.message)) return;
        ++notOurs;
        (void)layer->sendResponse(id, sip::makeResponse(incoming.message, 489));
    }

    ua::PickupReferrer* referrer = nullptr;
    transaction::TransactionLayer* layer = nullptr;
    int notOurs = 0;
};

struct World {
    explicit World(ua::PickupReferrerOptions options = defaultOptions())
        : transport(&clock), random(7), layer(transport, clock, random) {
        referrer = std::make_unique<ua::PickupReferrer>(layer, clock, random, std::move(options));
        referrer->setListener([this](const ua::PickupReport& r) { reports.push_back(r); });
        router.referrer = referrer.get();
        router.layer = &layer;
        layer.setServerUser(&router);
    }
    ~World() { layer.setServerUser(nullptr); }

    // Lets the deferred first step of pickup() run.
    void pass() { clock.advance(0ms); }

    quint64 start(const ua::PickupTarget& target = ringingAt202()) {
        Result<quint64> id = referrer->pickup(target);
        if (!id) qFatal("pickup refused: %s", qPrintable(id.error().reason));
        pass();
        return *id;
    }

    // Distinct REFERs (a retransmission repeats Call-ID and CSeq).
    std::vector<test::SentMessage> refers() const {
        std::vector<test::SentMessage> out;
        std::set<std::pair<QByteArray, quint32>> seen;
        for (const test::SentMessage& sent : transport.requests(sip::Method::Refer)) {
            if (seen.insert({sent.message.callId().toByteArray(), sent.message.cseq()->number})
                    .second)
                out.push_back(sent);
        }
        return out;
    }

    // A NOTIFY of `refer`'s implicit subscription, as the phone sends it (RFC 3515
    // §2.4.4): its Call-ID, To = the REFER's From (our tag).
    sip::Message notifyFor(const test::SentMessage& refer, const QByteArray& body,
                           const QByteArray& state = "active;expires=60") {
        sip::Message n = sip::Message::request(sip::Method::Notify, "sip:127.0.0.1:5060");
        n.addHeader(HeaderId::Via,
                    "SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bKn" + QByteArray::number(++branch));
        n.addHeader(HeaderId::MaxForwards, "70");
        n.addHeader(HeaderId::From, "<sip:204@example.com>;tag=phone204");
        n.addHeader(HeaderId::To, refer.message.header(HeaderId::From).toByteArray());
        n.addHeader(HeaderId::CallId, refer.message.callId().toByteArray());
        n.addHeader(HeaderId::CSeq, QByteArray::number(branch) + " NOTIFY");
        n.addHeader(HeaderId::Contact, "<sip:204@127.0.0.1:5080>");
        n.addHeader(HeaderId::Event,
                    "refer;id=" + QByteArray::number(refer.message.cseq()->number));
        if (!state.isEmpty()) n.addHeader(HeaderId::SubscriptionState, state);
        n.setBody("message/sipfrag", body);
        return n;
    }
    // Injects `notify` and returns the answer it got.
    sip::Message deliver(const sip::Message& notify) {
        const std::size_t before = transport.responses().size();
        if (!transport.inject(notify, proxy())) qFatal("inject failed");
        const std::vector<test::SentMessage> responses = transport.responses();
        if (responses.size() != before + 1) qFatal("the NOTIFY got no single answer");
        return responses.back().message;
    }
    int notify(const test::SentMessage& refer, const QByteArray& body,
               const QByteArray& state = "active;expires=60") {
        return deliver(notifyFor(refer, body, state)).statusCode();
    }

    base::ManualClock clock;
    FakeTransport transport;
    base::SeededRandom random;
    transaction::TransactionLayer layer;
    Router router;
    std::unique_ptr<ua::PickupReferrer> referrer;
    std::vector<ua::PickupReport> reports;
    int branch = 0;
};

// The value of the Replaces header embedded in a Refer-To name-addr, unescaped.
QByteArray embeddedReplaces(QByteArrayView referTo) {
    if (!referTo.startsWith('<') || !referTo.endsWith('>')) return {};
    auto uri = sip::Uri::parse(referTo.sliced(1, referTo.size() - 2));
    if (!uri || !uri->headers.startsWith("Replaces=")) return {};
    return sip::percentDecode(uri->headers.sliced(9));
}

}  // namespace

class TestPickupReferrer : public QObject {
    Q_OBJECT

private slots:
    void referCarriesEarlyOnlyReplacesTowardsTheCaller() {
        World w;
        Result<quint64> id = w.referrer->pickup(ringingAt202());
        QVERIFY(id);
        QVERIFY(w.refers().empty());  // from the event loop, not from pickup()
        QVERIFY(w.reports.empty());
        w.pass();
        QCOMPARE(w.refers().size(), std::size_t(1));
        const test::SentMessage sent = w.refers().front();
        const sip::Message& m = sent.message;
        QCOMPARE(sent.destination, proxy());
        QCOMPARE(m.requestUri(), QByteArrayView("sip:204@example.com"));
        QCOMPARE(m.header(HeaderId::Route), QByteArrayView("<sip:127.0.0.1:5062;lr>"));
        QCOMPARE(m.header(HeaderId::To), QByteArrayView("<sip:204@example.com>"));
        QCOMPARE(m.from()->uri.addressOfRecord(), QByteArray("sip:console@example.com"));
        QVERIFY(!m.from()->tag().isEmpty());
        QCOMPARE(m.header(HeaderId::CSeq), QByteArrayView("1 REFER"));
        QCOMPARE(m.header(HeaderId::Contact), QByteArrayView("<sip:127.0.0.1:5060>"));
        QCOMPARE(m.header(HeaderId::ReferTo),
                 QByteArrayView("<sip:alice@127.0.0.1:5070?Replaces=a84b4c76e66710%40pc33.example."
                                "com%3Bto-tag%3Dtagalice%3Bfrom-tag%3Dtag202%3Bearly-only>"));
        QCOMPARE(m.header(HeaderId::ReferredBy), QByteArrayView("<sip:console@example.com>"));
        QCOMPARE(m.maxForwards(), std::optional<quint32>(70));
        QVERIFY(m.validate());

        QCOMPARE(w.reports.size(), std::size_t(1));
        QCOMPARE(w.reports[0].id, *id);
        QCOMPARE(w.reports[0].step, Step::Replaces);
        QCOMPARE(w.reports[0].state, ReportState::Trying);
        QVERIFY(w.reports[0].text.contains("202"));
    }

    // RFC 3891 §3: the UA receiving the INVITE with Replaces (the caller) matches the
    // to-tag against its local tag and the from-tag against its remote tag. The caller's
    // local tag is its From tag, which 202's document calls the remote-tag.
    void replacesTagsAreSeenFromTheCaller() {
        World w;
        w.start();
        const QByteArray replaces =
            embeddedReplaces(w.refers().front().message.header(HeaderId::ReferTo));
        Result<sip::ReplacesHeader> parsed = sip::ReplacesHeader::parse(replaces);
        QVERIFY2(parsed, qPrintable(QString::fromUtf8(replaces)));
        QCOMPARE(parsed->callId, QByteArrayView("a84b4c76e66710@pc33.example.com"));
        QCOMPARE(parsed->toTag, QByteArrayView(ringingAt202().remoteTag));   // the caller's tag
        QCOMPARE(parsed->fromTag, QByteArrayView(ringingAt202().localTag));  // 202's tag
        QVERIFY(parsed->earlyOnly);

        // The same from the static helper, without a send.
        Result<QByteArray> referTo = ua::PickupReferrer::replacesReferTo(ringingAt202());
        QVERIFY(referTo);
        QCOMPARE(*referTo, w.refers().front().message.header(HeaderId::ReferTo).toByteArray());
    }

    void trying100ThenOk200IsDone() {
        World w;
        const quint64 id = w.start();
        const test::SentMessage refer = w.refers().front();
        QVERIFY(w.transport.respond(refer, 202, "phone204"));
        QCOMPARE(w.reports.size(), std::size_t(2));
        QCOMPARE(w.reports[1].state, ReportState::Trying);
        QCOMPARE(w.reports[1].statusCode, 202);

        QCOMPARE(w.notify(refer, "SIP/2.0 100 Trying\r\n"), 200);
        QCOMPARE(w.reports.size(), std::size_t(3));
        QCOMPARE(w.reports[2].state, ReportState::Trying);
        QCOMPARE(w.reports[2].statusCode, 100);
        QCOMPARE(w.referrer->activeCount(), std::size_t(1));

        QCOMPARE(w.notify(refer, "SIP/2.0 200 OK\r\n", "terminated;reason=noresource"), 200);
        QCOMPARE(w.reports.size(), std::size_t(4));
        QCOMPARE(w.reports[3].id, id);
        QCOMPARE(w.reports[3].state, ReportState::Done);
        QCOMPARE(w.reports[3].step, Step::Replaces);
        QCOMPARE(w.reports[3].statusCode, 200);
        QCOMPARE(w.referrer->activeCount(), std::size_t(0));
        QCOMPARE(w.refers().size(), std::size_t(1));
        QCOMPARE(w.router.notOurs, 0);

        // Nothing more happens later: no timeout report.
        w.clock.advance(60s);
        QCOMPARE(w.reports.size(), std::size_t(4));
    }

    void busy486IsAlreadyAnsweredAndNeverFallsBack() {
        World w;
        w.start();
        const test::SentMessage refer = w.refers().front();
        QVERIFY(w.transport.respond(refer, 202, "phone204"));
        QCOMPARE(w.notify(refer, "SIP/2.0 486 Busy Here\r\n", "terminated"), 200);
        QCOMPARE(w.reports.back().state, ReportState::Failed);
        QCOMPARE(w.reports.back().text, QString("already answered"));
        QCOMPARE(w.reports.back().statusCode, 486);
        w.clock.advance(60s);
        QCOMPARE(w.refers().size(), std::size_t(1));  // no pickup-code REFER: never steal
        QCOMPARE(w.reports.back().text, QString("already answered"));
    }

    void refused403FallsBackToThePickupCode() {
        World w;
        const quint64 id = w.start();
        const test::SentMessage first = w.refers().front();
        QVERIFY(w.transport.respond(first, 403, "phone204"));
        QCOMPARE(w.refers().size(), std::size_t(2));
        const test::SentMessage second = w.refers().back();
        QCOMPARE(second.message.header(HeaderId::ReferTo),
                 QByteArrayView("<sip:**202@example.com>"));
        QCOMPARE(second.message.requestUri(), QByteArrayView("sip:204@example.com"));
        QVERIFY(second.message.callId() != first.message.callId());
        QCOMPARE(second.message.header(HeaderId::ReferredBy),
                 QByteArrayView("<sip:console@example.com>"));

        const ua::PickupReport step = w.reports.back();
        QCOMPARE(step.id, id);
        QCOMPARE(step.step, Step::PickupCode);
        QCOMPARE(step.state, ReportState::Trying);
        QCOMPARE(step.statusCode, 403);
        QVERIFY2(step.text.contains("phone refused (403 Forbidden)"), qPrintable(step.text));
        QVERIFY2(step.text.contains("**202"), qPrintable(step.text));

        QVERIFY(w.transport.respond(second, 202, "phone204"));
        QCOMPARE(w.notify(second, "SIP/2.0 200 OK", "terminated"), 200);
        QCOMPARE(w.reports.back().state, ReportState::Done);
        QCOMPARE(w.reports.back().step, Step::PickupCode);
        QVERIFY(w.reports.back().text.contains("**202"));
    }

    void refused403WithoutCodeFails_data() {
        QTest::addColumn<QByteArray>("code");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("text");
        QTest::newRow("none, 403") << QByteArray("none") << 403 << "phone refused (403 Forbidden)";
        QTest::newRow("empty, 405")
            << QByteArray("") << 405 << "phone refused (405 Method Not Allowed)";
        QTest::newRow("none, 501")
            << QByteArray("none") << 501 << "phone refused (501 Not Implemented)";
        QTest::newRow("none, 480") << QByteArray("none") << 480 << "480 Temporarily Unavailable";
    }
    void refused403WithoutCodeFails() {
        QFETCH(QByteArray, code);
        QFETCH(int, status);
        QFETCH(QString, text);
        ua::PickupReferrerOptions options = defaultOptions();
        options.pickupCode = code;
        World w(options);
        w.start();
        QVERIFY(w.transport.respond(w.refers().front(), status, "phone204"));
        QCOMPARE(w.refers().size(), std::size_t(1));
        QCOMPARE(w.reports.back().state, ReportState::Failed);
        QCOMPARE(w.reports.back().text, text);
        QCOMPARE(w.reports.back().statusCode, status);
        QCOMPARE(w.referrer->activeCount(), std::size_t(0));
    }

    void callGone481FallsBackOrFails() {
        {
            World w;
            w.start();
            const test::SentMessage refer = w.refers().front();
            QVERIFY(w.transport.respond(refer, 202, "phone204"));
            QCOMPARE(w.notify(refer, "SIP/2.0 481 Call/Transaction Does Not Exist\r\n"), 200);
            QCOMPARE(w.refers().size(), std::size_t(2));
            QCOMPARE(w.reports.back().step, Step::PickupCode);
            QVERIFY(w.reports.back().text.contains("call gone"));
            // The first REFER's final NOTIFY after the move on: acknowledged, ignored.
            QCOMPARE(
                w.notify(refer, "SIP/2.0 481 Call/Transaction Does Not Exist\r\n", "terminated"),
                200);
            QCOMPARE(w.reports.back().state, ReportState::Trying);
        }
        {
            ua::PickupReferrerOptions options = defaultOptions();
            options.pickupCode = "none";
            World w(options);
            w.start();
            const test::SentMessage refer = w.refers().front();
            QCOMPARE(w.notify(refer, "SIP/2.0 481 Call Leg/Transaction Does Not Exist\r\n"), 200);
            QCOMPARE(w.reports.back().state, ReportState::Failed);
            QCOMPARE(w.reports.back().text, QString("call gone"));
            QCOMPARE(w.reports.back().statusCode, 481);
        }
    }

    void otherSipfragFailureFallsBackThenReportsTheCodeStep() {
        World w;
        w.start();
        QCOMPARE(w.notify(w.refers().front(), "SIP/2.0 488 Not Acceptable Here\r\n"), 200);
        QCOMPARE(w.refers().size(), std::size_t(2));
        QVERIFY(w.reports.back().text.contains("488 Not Acceptable Here"));
        QCOMPARE(w.notify(w.refers().back(), "SIP/2.0 404 Not Found\r\n", "terminated"), 200);
        QCOMPARE(w.reports.back().state, ReportState::Failed);
        QCOMPARE(w.reports.back().step, Step::PickupCode);
        QCOMPARE(w.reports.back().statusCode, 404);
        QVERIFY2(w.reports.back().text.contains("**202") &&
                     w.reports.back().text.contains("404 Not Found"),
                 qPrintable(w.reports.back().text));
        QCOMPARE(w.refers().size(), std::size_t(2));
    }

    void notifyBeforeTheAcceptedCounts() {
        World w;
        w.start();
        const test::SentMessage refer = w.refers().front();
        // RFC 6665 §4.1.2.4: the NOTIFY may overtake the 202.
        QCOMPARE(w.notify(refer, "SIP/2.0 100 Trying\r\n"), 200);
        QCOMPARE(w.reports.back().statusCode, 100);
        QCOMPARE(w.notify(refer, "SIP/2.0 200 OK\r\n"), 200);
        QCOMPARE(w.reports.back().state, ReportState::Done);
        const std::size_t reported = w.reports.size();
        QVERIFY(w.transport.respond(refer, 202, "phone204"));
        QCOMPARE(w.reports.size(), reported);  // done stays done
        // The subscription's last NOTIFY, after the pickup ended: acknowledged.
        QCOMPARE(w.notify(refer, "SIP/2.0 200 OK\r\n", "terminated;reason=noresource"), 200);
        QCOMPARE(w.reports.size(), reported);
        // ...and then the dialog is gone.
        QCOMPARE(w.notify(refer, "SIP/2.0 200 OK\r\n", "terminated"), 481);
    }

    void notifyOfNoReferOfOursIs481() {
        World w;
        w.start();
        const test::SentMessage refer = w.refers().front();

        sip::Message stranger = w.notifyFor(refer, "SIP/2.0 200 OK\r\n");
        stranger.setHeader(HeaderId::CallId, "unknown-call-id");
        QCOMPARE(w.deliver(stranger).statusCode(), 481);

        sip::Message wrongTag = w.notifyFor(refer, "SIP/2.0 200 OK\r\n");
        wrongTag.setHeader(HeaderId::To, "<sip:console@example.com>;tag=not-ours");
        QCOMPARE(w.deliver(wrongTag).statusCode(), 481);
        QCOMPARE(w.router.notOurs, 0);

        // Another event package is not ours to answer: the owner's other handlers get it.
        sip::Message dialogEvent = w.notifyFor(refer, "<dialog-info/>");
        dialogEvent.setHeader(HeaderId::Event, "dialog");
        QCOMPARE(w.deliver(dialogEvent).statusCode(), 489);
        QCOMPARE(w.router.notOurs, 1);

        // Nothing of it touched the pickup.
        QCOMPARE(w.reports.size(), std::size_t(1));
        QCOMPARE(w.referrer->activeCount(), std::size_t(1));
    }

    void malformedNotifiesAreRefusedWithAReason() {
        World w;
        w.start();
        const test::SentMessage refer = w.refers().front();

        const sip::Message garbage = w.deliver(w.notifyFor(refer, "garbage\r\n"));
        QCOMPARE(garbage.statusCode(), 400);
        QVERIFY2(garbage.reasonPhrase().contains("sipfrag"),
                 garbage.reasonPhrase().toByteArray().constData());

        QCOMPARE(w.notify(refer, QByteArray("SIP/2.0 2\0 OK", 13)), 400);
        QCOMPARE(w.notify(refer, ""), 400);
        QCOMPARE(w.notify(refer, "SIP/2.0 200 OK\r\n", ";;;"), 400);

        sip::Message plain = w.notifyFor(refer, "SIP/2.0 200 OK\r\n");
        plain.setBody("text/plain", "SIP/2.0 200 OK\r\n");
        const sip::Message unsupported = w.deliver(plain);
        QCOMPARE(unsupported.statusCode(), 415);
        QCOMPARE(unsupported.header(HeaderId::Accept), QByteArrayView("message/sipfrag"));

        // None of it counted; the pickup goes on and a good NOTIFY still ends it.
        QCOMPARE(w.reports.size(), std::size_t(1));
        QCOMPARE(w.notify(refer, "SIP/2.0 200 OK\r\n"), 200);
        QCOMPARE(w.reports.back().state, ReportState::Done);
    }

    void noFinalNotifyWithinTheBoundFails() {
        World w;
        w.start();
        QVERIFY(w.transport.respond(w.refers().front(), 202, "phone204"));
        QCOMPARE(w.notify(w.refers().front(), "SIP/2.0 100 Trying\r\n"), 200);
        w.clock.advance(31s);
        QCOMPARE(w.reports.back().state, ReportState::Trying);
        w.clock.advance(1s);
        QCOMPARE(w.reports.back().state, ReportState::Failed);
        QCOMPARE(w.reports.back().text, QString("no answer from the phone"));
        QCOMPARE(w.reports.back().statusCode, 408);
        QCOMPARE(w.refers().size(), std::size_t(1));  // the phone may still act: no fallback
        QCOMPARE(w.referrer->activeCount(), std::size_t(0));
    }

    void referTimeoutFails() {
        ua::PickupReferrerOptions options = defaultOptions();
        options.stepTimeout = 120s;  // so that the REFER's own Timer F (64*T1) decides
        World w(options);
        w.start();
        w.clock.advance(33s);
        QCOMPARE(w.reports.back().state, ReportState::Failed);
        QCOMPARE(w.reports.back().text, QString("no answer from the phone"));
        QCOMPARE(w.reports.back().statusCode, 408);
        QCOMPARE(w.refers().size(), std::size_t(1));
    }

    void missingDialogIdentifiersGoStraightToTheCode() {
        World w;
        ua::PickupTarget asterisk = ringingAt202();
        asterisk.callId.clear();
        asterisk.localTag.clear();
        asterisk.remoteTag.clear();
        w.start(asterisk);
        QCOMPARE(w.refers().size(), std::size_t(1));
        QCOMPARE(w.refers().front().message.header(HeaderId::ReferTo),
                 QByteArrayView("<sip:**202@example.com>"));
        QCOMPARE(w.reports.front().step, Step::PickupCode);
        QVERIFY2(w.reports.front().text.contains("no call-id"), qPrintable(w.reports.front().text));
    }

    void nothingToTryIsAnErrorAtOnce() {
        ua::PickupReferrerOptions options = defaultOptions();
        options.pickupCode = "none";
        World w(options);
        ua::PickupTarget freeswitch = ringingAt202();
        freeswitch.remoteTag.clear();
        Result<quint64> id = w.referrer->pickup(freeswitch);
        QVERIFY(!id);
        QVERIFY2(id.error().reason.contains("no pickup code"), qPrintable(id.error().reason));

        ua::PickupTarget badPhone = ringingAt202();
        badPhone.phoneAor = "not a uri";
        QVERIFY(!w.referrer->pickup(badPhone));

        ua::PickupTarget outgoing = ringingAt202();
        outgoing.outgoing = true;
        QVERIFY(!w.referrer->pickup(outgoing));

        ua::PickupTarget badTarget = ringingAt202();
        badTarget.remoteTarget = "sip:alice@host?Replaces=x";
        QVERIFY(!w.referrer->pickup(badTarget));

        w.clock.advance(60s);
        QVERIFY(w.refers().empty());
        QVERIFY(w.reports.empty());
        QCOMPARE(w.referrer->activeCount(), std::size_t(0));
    }

    void pickupCodeTemplates() {
        using ua::PickupReferrer;
        QCOMPARE(PickupReferrer::pickupCodeFor("**ext", "202"), QByteArray("**202"));
        QCOMPARE(PickupReferrer::pickupCodeFor("*8", "202"), QByteArray("*8"));
        QCOMPARE(PickupReferrer::pickupCodeFor("*97", "202"), QByteArray("*97"));
        QCOMPARE(PickupReferrer::pickupCodeFor("none", "202"), QByteArray());
        QCOMPARE(PickupReferrer::pickupCodeFor("", "202"), QByteArray());
        QCOMPARE(PickupReferrer::pickupCodeFor("**ext", ""), QByteArray());

        // A code dialled as is ends up in the Refer-To unchanged; '#' is escaped.
        ua::PickupReferrerOptions options = defaultOptions();
        options.pickupCode = "*8#";
        World w(options);
        QVERIFY(w.transport.respond((w.start(), w.refers().front()), 501, "phone204"));
        QCOMPARE(w.refers().back().message.header(HeaderId::ReferTo),
                 QByteArrayView("<sip:*8%23@example.com>"));
    }

    void digestChallengeIsAnswered() {
        World w;
        w.start();
        sip::Message challenge = sip::makeResponse(w.refers().front().message, 407, {}, "px");
        challenge.addHeader(HeaderId::ProxyAuthenticate,
                            "Digest realm=\"example.com\", nonce=\"n1\", qop=\"auth\"");
        QVERIFY(w.transport.answer(w.refers().front(), challenge));
        QCOMPARE(w.refers().size(), std::size_t(2));
        const sip::Message again = w.refers().back().message;
        QCOMPARE(again.callId(), w.refers().front().message.callId());
        QCOMPARE(again.header(HeaderId::CSeq), QByteArrayView("2 REFER"));
        QVERIFY(again.header(HeaderId::ProxyAuthorization).contains("username=\"console\""));
        QCOMPARE(again.header(HeaderId::ReferTo),
                 w.refers().front().message.header(HeaderId::ReferTo));
        QCOMPARE(w.reports.size(), std::size_t(1));  // a challenge is no step
    }

    void listenerMayStartAnotherPickup() {
        World w;
        std::optional<Result<quint64>> second;
        w.referrer->setListener([&](const ua::PickupReport& r) {
            w.reports.push_back(r);
            if (r.state == ReportState::Failed && !second)
                second = w.referrer->pickup(ringingAt202());
        });
        w.start();
        QVERIFY(w.transport.respond(w.refers().front(), 486, "phone204"));  // REFER refused
        // With the code fallback the first pickup is still running: make it fail.
        QCOMPARE(w.notify(w.refers().back(), "SIP/2.0 404 Not Found\r\n", "terminated"), 200);
        QVERIFY(second && *second);
        w.pass();
        QCOMPARE(w.refers().size(), std::size_t(3));
        QCOMPARE(w.referrer->activeCount(), std::size_t(1));
    }
};

QTEST_GUILESS_MAIN(TestPickupReferrer)
#include "tst_pickup_referrer.moc"
