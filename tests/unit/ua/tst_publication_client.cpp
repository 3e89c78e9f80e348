// Tests core/ua/publication_client.*: the RFC 3903 publication agent against a
// FakeTransport and a ManualClock — initial, modify, refresh and remove; one PUBLISH in
// flight with the newest state waiting; 412 with a newer state pending; 423; back-off;
// digest; resuming a persisted publication.

#include <QTest>

#include <memory>
#include <set>

#include "base/manual_clock.h"
#include "base/random.h"
#include "fake_transport.h"
#include "sip/message.h"
#include "transaction/transaction_layer.h"
#include "ua/publication_client.h"

using namespace sb;
using namespace std::chrono_literals;
using sip::HeaderId;
using test::FakeTransport;
using transport::Protocol;
using State = ua::PublicationClient::State;

namespace {

struct Event {
    enum class Kind { Published, Failed, Removed };
    Kind kind;
    QByteArray etag;
    quint32 expires = 0;
    int statusCode = 0;
    base::Duration retryIn{0};
};

class RecordingHandler final : public ua::PublicationHandler {
public:
    void onPublished(const QByteArray& etag, quint32 expires) override {
        events.push_back({Event::Kind::Published, etag, expires, 0, {}});
    }
    void onPublishFailed(int statusCode, const QString&, base::Duration retryIn) override {
        events.push_back({Event::Kind::Failed, {}, 0, statusCode, retryIn});
    }
    void onRemoved() override { events.push_back({Event::Kind::Removed, {}, 0, 0, {}}); }

    std::vector<Event> events;
};

const QByteArray kEntity = "sip:201@switchboard.local";

transport::Endpoint presenceServer() {
    return FakeTransport::endpoint(Protocol::Udp, "127.0.0.1", 5080);
}

ua::PublicationOptions defaultOptions() {
    ua::PublicationOptions options;
    options.entityUri = kEntity;
    options.server = presenceServer();
    options.password = "s3cret";
    return options;
}

struct World {
    explicit World(ua::PublicationOptions options = defaultOptions())
        : transport(&clock), random(7), layer(transport, clock, random) {
        client = std::make_unique<ua::PublicationClient>(layer, clock, random, std::move(options),
                                                         handler);
        if (!client->start()) qFatal("start failed");
    }

    // Distinct PUBLISH requests (a retransmission repeats the CSeq).
    std::vector<test::SentMessage> publishes() const {
        std::vector<test::SentMessage> out;
        std::set<quint32> seen;
        for (const test::SentMessage& sent : transport.requests(sip::Method::Publish)) {
            if (seen.insert(sent.message.cseq()->number).second) out.push_back(sent);
        }
        return out;
    }
    test::SentMessage last() const { return publishes().back(); }
    // Lets the deferred send of publish()/remove() run.
    void pass() { clock.advance(0ms); }

    void answer(const test::SentMessage& request, int code,
                std::vector<std::pair<HeaderId, QByteArray>> headers = {}) {
        sip::Message response = sip::makeResponse(request.message, code, {}, "esc-tag");
        for (auto& [id, value] : headers)
            response.addHeader(id, value);
        QVERIFY(transport.answer(request, response));
    }
    void ok(const test::SentMessage& request, const QByteArray& etag, quint32 expires = 3600) {
        answer(request, 200,
               {{HeaderId::SipETag, etag}, {HeaderId::Expires, QByteArray::number(expires)}});
    }

    base::ManualClock clock;
    FakeTransport transport;
    base::SeededRandom random;
    transaction::TransactionLayer layer;
    RecordingHandler handler;
    std::unique_ptr<ua::PublicationClient> client;
};

}  // namespace

class TestPublicationClient : public QObject {
    Q_OBJECT

private slots:
    void initialPublishCarriesTheStateWithoutIfMatch() {
        World w;
        w.client->publish("<dialog-info/>");
        QVERIFY(w.publishes().empty());  // sent from the event loop, not from publish()
        w.pass();
        QCOMPARE(w.publishes().size(), std::size_t(1));
        const test::SentMessage sent = w.last();
        const sip::Message& m = sent.message;
        QCOMPARE(sent.destination, presenceServer());
        QCOMPARE(m.requestUri(), QByteArrayView(kEntity));
        QCOMPARE(m.to()->uri.addressOfRecord(), kEntity);
        QCOMPARE(m.from()->uri.addressOfRecord(), kEntity);
        QVERIFY(!m.from()->tag().isEmpty());
        QCOMPARE(m.header(HeaderId::Event), QByteArrayView("dialog"));
        QCOMPARE(m.header(HeaderId::ContentType), QByteArrayView("application/dialog-info+xml"));
        QCOMPARE(m.body(), QByteArray("<dialog-info/>"));
        QCOMPARE(m.expires(), std::optional<quint32>(3600));
        QVERIFY(!m.has(HeaderId::SipIfMatch));
        QVERIFY(m.validate());
        QCOMPARE(w.client->state(), State::Publishing);

        w.ok(sent, "e1", 1800);
        QCOMPARE(w.client->state(), State::Published);
        QCOMPARE(w.client->etag(), QByteArray("e1"));
        QCOMPARE(w.handler.events.size(), std::size_t(1));
        QCOMPARE(w.handler.events[0].kind, Event::Kind::Published);
        QCOMPARE(w.handler.events[0].expires, 1800u);
        QVERIFY(!w.client->hasPendingState());
    }

    void modifyNamesThePublicationAndCarriesTheState() {
        World w;
        w.client->publish("v1");
        w.pass();
        w.ok(w.last(), "e1");
        w.client->publish("v2");
        w.pass();
        const sip::Message& m = w.last().message;
        QCOMPARE(m.header(HeaderId::SipIfMatch), QByteArrayView("e1"));
        QCOMPARE(m.body(), QByteArray("v2"));
        QCOMPARE(m.callId(), w.publishes().front().message.callId());
        QVERIFY(m.cseq()->number > w.publishes().front().message.cseq()->number);
    }

    void onePublishInFlightAndOnlyTheNewestWaits() {
        World w;
        w.client->publish("trying");
        w.pass();
        w.client->publish("early");
        w.pass();
        w.client->publish("confirmed");
        w.pass();
        QCOMPARE(w.publishes().size(), std::size_t(1));  // the first is still unanswered
        w.ok(w.last(), "e1");
        QCOMPARE(w.client->acceptedVersion(), quint64(1));  // "trying", the first call
        QCOMPARE(w.publishes().size(), std::size_t(2));
        QCOMPARE(w.last().message.body(), QByteArray("confirmed"));
        QCOMPARE(w.last().message.header(HeaderId::SipIfMatch), QByteArrayView("e1"));
        w.ok(w.last(), "e2");
        QCOMPARE(w.client->acceptedVersion(), quint64(3));
        QCOMPARE(w.publishes().size(), std::size_t(2));
        QVERIFY(!w.client->hasPendingState());
    }

    // A body handed over as a BodySource is made once, when a PUBLISH first carries it;
    // one that a newer state replaced before its turn is never made.
    void aBodySourceIsMadeOnlyWhenAPublishCarriesIt() {
        World w;
        std::vector<QByteArray> made;
        auto source = [&made](QByteArray body) {
            return ua::PublicationClient::BodySource([&made, body] {
                made.push_back(body);
                return body;
            });
        };
        w.client->publish(source("trying"));
        QVERIFY(made.empty());
        w.pass();
        QCOMPARE(made, (std::vector<QByteArray>{"trying"}));
        w.client->publish(source("early"));
        w.pass();
        w.client->publish(source("confirmed"));
        w.pass();
        QCOMPARE(made.size(), std::size_t(1));  // nothing made while the first is in flight
        w.ok(w.last(), "e1");
        QCOMPARE(made, (std::vector<QByteArray>{"trying", "confirmed"}));
        QCOMPARE(w.last().message.body(), QByteArray("confirmed"));
        // Sent again (a challenge) with the body already made.
        w.answer(w.last(), 401,
                 {{HeaderId::WwwAuthenticate,
                   "Digest realm=\"switchboard.local\", nonce=\"n1\", algorithm=MD5"}});
        QCOMPARE(w.last().message.body(), QByteArray("confirmed"));
        QVERIFY(w.last().message.has(HeaderId::Authorization));
        QCOMPARE(made.size(), std::size_t(2));
        w.ok(w.last(), "e2");
        QCOMPARE(w.client->acceptedVersion(), quint64(3));
        // A plain body after a source replaces it.
        w.client->publish(source("never"));
        w.client->publish(QByteArray("plain"));
        w.pass();
        QCOMPARE(w.last().message.body(), QByteArray("plain"));
        QCOMPARE(made.size(), std::size_t(2));
    }

    void status412StartsAgainWithTheCurrentStateNotTheOneThatFailed() {
        World w;
        w.client->publish("early");
        w.pass();
        w.ok(w.last(), "e1");
        w.client->publish("confirmed");
        w.pass();
        w.client->publish("terminated");
        w.pass();
        w.answer(w.last(), 412);  // the server lost e1 while "confirmed" was on its way
        const sip::Message& retry = w.last().message;
        QVERIFY(!retry.has(HeaderId::SipIfMatch));
        QCOMPARE(retry.body(), QByteArray("terminated"));
        w.ok(w.last(), "e2");
        QCOMPARE(w.client->etag(), QByteArray("e2"));
        QVERIFY(!w.client->hasPendingState());
        for (const Event& event : w.handler.events)
            QVERIFY(event.kind != Event::Kind::Failed);
    }

    void status423AsksAgainWithMinExpires() {
        World w;
        w.client->publish("v1", 5);
        w.pass();
        w.answer(w.last(), 423, {{HeaderId::MinExpires, "60"}});
        QCOMPARE(w.publishes().size(), std::size_t(2));
        QCOMPARE(w.last().message.expires(), std::optional<quint32>(60));
        QCOMPARE(w.last().message.body(), QByteArray("v1"));
        w.ok(w.last(), "e1", 60);
        QCOMPARE(w.client->state(), State::Published);
    }

    void refreshBeforeExpiryWithoutBody() {
        World w;
        w.client->publish("v1", 120);
        w.pass();
        w.ok(w.last(), "e1", 120);
        w.clock.advance(59s);
        QCOMPARE(w.publishes().size(), std::size_t(1));
        w.clock.advance(1s);  // half of a short lifetime
        QCOMPARE(w.publishes().size(), std::size_t(2));
        const sip::Message& refresh = w.last().message;
        QCOMPARE(refresh.header(HeaderId::SipIfMatch), QByteArrayView("e1"));
        QVERIFY(refresh.body().isEmpty());
        QVERIFY(!refresh.has(HeaderId::ContentType));
        QCOMPARE(refresh.expires(), std::optional<quint32>(120));
        w.ok(w.last(), "e2", 120);
        QCOMPARE(w.client->etag(), QByteArray("e2"));
    }

    void aShortLivedStateIsLeftToRunOut() {
        World w;
        w.client->publish("terminated", 10, false);
        w.pass();
        w.ok(w.last(), "e1", 10);
        w.clock.advance(30s);
        QCOMPARE(w.publishes().size(), std::size_t(1));
        QCOMPARE(w.client->state(), State::Idle);
        QVERIFY(w.client->etag().isEmpty());
        // The next state starts a new publication.
        w.client->publish("trying");
        w.pass();
        QVERIFY(!w.last().message.has(HeaderId::SipIfMatch));
    }

    void failuresBackOffAndRetryWithTheNewestState() {
        World w;
        w.client->publish("early");
        w.pass();
        w.answer(w.last(), 503);
        QCOMPARE(w.client->state(), State::RetryWait);
        QCOMPARE(w.handler.events.back().kind, Event::Kind::Failed);
        QCOMPARE(w.handler.events.back().statusCode, 503);
        const base::Duration wait = w.handler.events.back().retryIn;
        QVERIFY(wait >= 2500ms && wait <= 5s);
        w.client->publish("confirmed");
        w.pass();
        QCOMPARE(w.publishes().size(), std::size_t(1));  // waits for the back-off
        w.clock.advance(wait);
        QCOMPARE(w.publishes().size(), std::size_t(2));
        QCOMPARE(w.last().message.body(), QByteArray("confirmed"));
        w.ok(w.last(), "e1");
        QCOMPARE(w.client->consecutiveFailures(), 0);
    }

    void noAnswerIs408() {
        World w;
        w.client->publish("early");
        w.pass();
        w.clock.advance(32s);  // Timer F
        QCOMPARE(w.handler.events.size(), std::size_t(1));
        QCOMPARE(w.handler.events[0].statusCode, 408);
    }

    void transportErrorIs503() {
        World w;
        w.transport.failNextSends(1);
        w.client->publish("early");
        w.pass();
        QCOMPARE(w.handler.events.size(), std::size_t(1));
        QCOMPARE(w.handler.events[0].kind, Event::Kind::Failed);
        QCOMPARE(w.handler.events[0].statusCode, 503);
        QCOMPARE(w.client->state(), State::RetryWait);
    }

    void digestChallengeIsAnswered() {
        World w;
        w.client->publish("early");
        w.pass();
        w.answer(w.last(), 407,
                 {{HeaderId::ProxyAuthenticate,
                   "Digest realm=\"switchboard.local\", nonce=\"n1\", qop=\"auth\""}});
        QCOMPARE(w.publishes().size(), std::size_t(2));
        const sip::Message& again = w.last().message;
        QVERIFY(again.has(HeaderId::ProxyAuthorization));
        QVERIFY(again.header(HeaderId::ProxyAuthorization).contains("username=\"201\""));
        QCOMPARE(again.body(), QByteArray("early"));
        w.ok(w.last(), "e1");
        QCOMPARE(w.client->state(), State::Published);
    }

    void removeSendsExpiresZeroAfterWhatIsInFlight() {
        World w;
        w.client->publish("v1");
        w.pass();
        w.client->remove();
        w.pass();
        QCOMPARE(w.publishes().size(), std::size_t(1));
        w.ok(w.last(), "e1");
        QCOMPARE(w.publishes().size(), std::size_t(2));
        const sip::Message& removal = w.last().message;
        QCOMPARE(removal.expires(), std::optional<quint32>(0));
        QCOMPARE(removal.header(HeaderId::SipIfMatch), QByteArrayView("e1"));
        QVERIFY(removal.body().isEmpty());
        w.ok(w.last(), "e1", 0);
        QCOMPARE(w.client->state(), State::Removed);
        QCOMPARE(w.handler.events.back().kind, Event::Kind::Removed);
        // Nothing goes out any more.
        w.client->publish("v2");
        w.pass();
        QCOMPARE(w.publishes().size(), std::size_t(2));
    }

    void removingNothingIsDoneAtOnce() {
        World w;
        w.client->remove();
        QVERIFY(w.handler.events.empty());  // never from inside remove()
        w.pass();
        QVERIFY(w.publishes().empty());
        QCOMPARE(w.client->state(), State::Removed);
        QCOMPARE(w.handler.events.back().kind, Event::Kind::Removed);
    }

    void resumeModifiesAPersistedPublication() {
        World w;
        w.client->resume("e9", 100);
        QCOMPARE(w.client->state(), State::Published);
        w.client->publish("confirmed");
        w.pass();
        QCOMPARE(w.last().message.header(HeaderId::SipIfMatch), QByteArrayView("e9"));
        w.answer(w.last(), 412);  // gone while we were down: a new one
        QVERIFY(!w.last().message.has(HeaderId::SipIfMatch));
        QCOMPARE(w.last().message.body(), QByteArray("confirmed"));
    }

    // A resumed publication whose state is still current is refreshed before it runs
    // out (no body, SIP-If-Match, the lifetime asked for); without that it runs out.
    void resumeWithRefreshKeepsThePublicationAlive() {
        World w;
        w.client->resume("e9", 600, 3600);
        w.pass();
        const std::size_t before = w.transport.sent().size();
        w.clock.advance(539s);
        QCOMPARE(w.transport.sent().size(), before);
        w.clock.advance(1s);  // a minute before it runs out
        QCOMPARE(w.transport.sent().size(), before + 1);
        QCOMPARE(w.last().message.header(HeaderId::SipIfMatch), QByteArrayView("e9"));
        QVERIFY(w.last().message.body().isEmpty());
        QCOMPARE(w.last().message.expires(), std::optional<quint32>(3600));

        World idle;
        idle.client->resume("e9", 600);
        idle.clock.advance(700s);
        QCOMPARE(idle.transport.sent().size(), std::size_t(0));
        QCOMPARE(idle.client->state(), State::Idle);
    }

    void badEntityIsAConfigError() {
        base::ManualClock clock;
        FakeTransport transport(&clock);
        base::SeededRandom random(1);
        transaction::TransactionLayer layer(transport, clock, random);
        RecordingHandler handler;
        ua::PublicationOptions options = defaultOptions();
        options.entityUri = "not a uri";
        ua::PublicationClient client(layer, clock, random, options, handler);
        const Result<void> started = client.start();
        QVERIFY(!started);
        QVERIFY(started.error().reason.contains("not a SIP URI"));
    }
};

QTEST_GUILESS_MAIN(TestPublicationClient)
#include "tst_publication_client.moc"
