// The bound on server transactions: what unsolicited requests can make the layer hold.

#include <QTest>

#include <malloc.h>

#include "base/manual_clock.h"
#include "base/random.h"
#include "fake_transport.h"
#include "transaction/transaction_layer.h"
#include "transaction_test_support.h"

using namespace sb;
using namespace sb::test;
using namespace std::chrono_literals;

namespace {

struct Fixture {
    explicit Fixture(std::size_t maxServers = 3) : layer(transport, clock, random) {
        layer.setServerUser(&server);
        layer.setServerLimits({maxServers, 7s});
    }

    void inject(const sip::Message& m) { QVERIFY(transport.inject(m, peerEndpoint()).has_value()); }
    // A new request of its own (branch and Call-ID differ from every other).
    void injectNew(int n, sip::Method method = sip::Method::Options) { inject(request(n, method)); }
    static sip::Message request(int n, sip::Method method = sip::Method::Options) {
        sip::Message m = incomingRequest(method, "z9hG4bK-flood-" + QByteArray::number(n));
        m.setHeader(sip::HeaderId::CallId, "flood-" + QByteArray::number(n) + "@test");
        return m;
    }

    base::ManualClock clock;
    FakeTransport transport{&clock};
    base::SeededRandom random{11};
    transaction::TransactionLayer layer;
    RecordingServerUser server;
};

// Answers every request 200 from inside onRequest, as the console answers NOTIFYs,
// and keeps nothing of it.
struct AnsweringUser : transaction::ServerTransactionUser {
    transaction::TransactionLayer* layer = nullptr;
    void onRequest(transaction::TransactionId id,
                   const transport::IncomingMessage& incoming) override {
        (void)layer->sendResponse(id, sip::makeResponse(incoming.message, 200, {}, "console-1"));
    }
};

// A NOTIFY about the size of a Kamailio pua_dialoginfo one (~1.1 KB on the wire).
sip::Message notifyRequest(int n) {
    sip::Message m = Fixture::request(n, sip::Method::Notify);
    m.addHeader(sip::HeaderId::Event, "dialog");
    m.addHeader(sip::HeaderId::SubscriptionState, "active;expires=3600");
    m.setBody("application/dialog-info+xml", QByteArray(750, 'x'));
    return m;
}

QByteArray toTagOf(const SentMessage& sent) {
    return sent.message.to()->tag().toByteArray();
}

}  // namespace

class TestServerTransactionLimits : public QObject {
    Q_OBJECT

private slots:
    void defaultLimitAbsorbsSustainedNotifies() {
        // 200,000 light Completed transactions over Timer J's 32 s: ~6,000 NOTIFY/s.
        QCOMPARE(transaction::ServerTransactionLimits{}.maxServerTransactions, std::size_t(200000));
    }

    void completedTransactionsAreLight() {
        // What a UDP NOTIFY costs while its transaction waits for Timer J (§17.2.2): the
        // request (~1.1 KB and a >1 KB header index) is gone, the response is kept as
        // bytes. Heap measured with mallinfo2(); prints the figure (docs use it). The
        // bound is loose: it only catches the request being kept again (~4.5 KB).
        Fixture f(1'000'000);
        AnsweringUser user;
        user.layer = &f.layer;
        f.layer.setServerUser(&user);
        constexpr int kCount = 5000;
        const std::size_t before = mallinfo2().uordblks;
        for (int i = 0; i < kCount; ++i) {
            f.inject(notifyRequest(i));
            f.transport.clearSent();
        }
        const std::size_t after = mallinfo2().uordblks;
        QCOMPARE(f.layer.serverTransactionCount(), std::size_t(kCount));
        const double perTransaction = (double(after) - double(before)) / kCount;
        qInfo("heap per Completed non-INVITE server transaction: %.0f bytes", perTransaction);
        QVERIFY2(perTransaction < 1500, qPrintable(QString::number(perTransaction)));
        f.clock.advance(base::Duration(32'000));  // Timer J
        QCOMPARE(f.layer.serverTransactionCount(), 0u);
    }

    void beyondTheLimitGets503WithRetryAfter() {
        Fixture f(3);
        for (int i = 0; i < 3; ++i)
            f.injectNew(i);
        QCOMPARE(f.server.requests.size(), 3u);
        QCOMPARE(f.layer.serverTransactionCount(), 3u);
        QCOMPARE(f.transport.sent().size(), 0u);

        f.injectNew(3);
        QCOMPARE(f.server.requests.size(), 3u);  // the TU never hears of it
        QCOMPARE(f.layer.serverTransactionCount(), 3u);
        QCOMPARE(f.transport.countResponses(503), 1);
        const SentMessage& refusal = *f.transport.lastResponse();
        QCOMPARE(refusal.message.header(sip::HeaderId::RetryAfter), QByteArrayView("7"));
        QCOMPARE(refusal.message.callId(), QByteArrayView("flood-3@test"));
        QVERIFY(!toTagOf(refusal).isEmpty());  // §8.2.6.2
        QCOMPARE(refusal.destination, peerEndpoint());
    }

    void retransmissionsStillMatchAtTheLimit() {
        Fixture f(2);
        f.injectNew(0);
        f.injectNew(1);
        f.injectNew(2);
        QCOMPARE(f.transport.countResponses(503), 1);
        const QByteArray tag = toTagOf(*f.transport.lastResponse());
        // A retransmission of an admitted request is absorbed by its transaction...
        f.injectNew(0);
        QCOMPARE(f.transport.countResponses(503), 1);
        QCOMPARE(f.server.requests.size(), 2u);
        // ...and one of the refused request is refused alike, with the same To tag.
        f.injectNew(2);
        QCOMPARE(f.transport.countResponses(503), 2);
        QCOMPARE(toTagOf(*f.transport.lastResponse()), tag);
        QCOMPARE(f.layer.serverTransactionCount(), 2u);
    }

    void roomComesBackWhenTransactionsEnd() {
        Fixture f(2);
        f.injectNew(0);
        f.injectNew(1);
        for (const auto& received : f.server.requests) {
            QVERIFY(f.layer
                        .sendResponse(received.id,
                                      sip::makeResponse(received.message, 200, {}, "alice-1"))
                        .has_value());
        }
        f.injectNew(2);
        QCOMPARE(f.transport.countResponses(503), 1);
        // §17.2.2: Timer J (64*T1 over UDP) ends both transactions.
        f.clock.advance(32s);
        QCOMPARE(f.layer.serverTransactionCount(), 0u);
        f.injectNew(3);
        QCOMPARE(f.server.requests.size(), 3u);
        QCOMPARE(f.transport.countResponses(503), 1);
    }

    void floodStaysBounded() {
        Fixture f(100);
        for (int i = 0; i < 1000; ++i)
            f.injectNew(i, i % 2 ? sip::Method::Invite : sip::Method::Options);
        QCOMPARE(f.layer.serverTransactionCount(), 100u);
        QCOMPARE(f.server.requests.size(), 100u);
        QCOMPARE(f.transport.countResponses(503), 900);
    }

    void cancelBeyondTheLimitGets503() {
        Fixture f(1);
        f.inject(incomingRequest(sip::Method::Invite, "z9hG4bK-inv"));
        QCOMPARE(f.server.requests.size(), 1u);
        f.inject(incomingRequest(sip::Method::Cancel, "z9hG4bK-inv"));
        QCOMPARE(f.transport.countResponses(503), 1);
        QCOMPARE(f.transport.lastResponse()->message.cseq()->method, sip::Method::Cancel);
        QVERIFY(f.server.cancels.empty());
        QCOMPARE(f.layer.serverTransactionCount(), 1u);
    }

    void withoutAServerUserNothingIsKept() {
        // Before, every unsolicited request kept a 503 server transaction for 32 s.
        Fixture f(10);
        f.layer.setServerUser(nullptr);
        for (int i = 0; i < 50; ++i)
            f.injectNew(i, i % 2 ? sip::Method::Invite : sip::Method::Options);
        QCOMPARE(f.transport.countResponses(503), 50);
        QCOMPARE(f.layer.serverTransactionCount(), 0u);
        // Not overload: no Retry-After.
        QVERIFY(!f.transport.lastResponse()->message.has(sip::HeaderId::RetryAfter));
        QVERIFY(!toTagOf(*f.transport.lastResponse()).isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestServerTransactionLimits)
#include "tst_server_transaction_limits.moc"
