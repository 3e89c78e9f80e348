// Tests core/server/auth_throttle.*: the sliding window of failures per source, the
// block and its doubling, success resetting the count, IPv6 /64 grouping, the one
// warning per block, and the bounded memory.

#include <QHostAddress>
#include <QRegularExpression>
#include <QTest>

#include "base/manual_clock.h"
#include "server/auth_throttle.h"

using namespace std::chrono_literals;
using sb::base::Duration;
using sb::base::ManualClock;
using sb::server::AuthThrottle;

namespace {

const QHostAddress kHostA(QStringLiteral("127.0.0.2"));
const QHostAddress kHostB(QStringLiteral("127.0.0.3"));

// Records `count` failures without letting time pass; true when the last one blocked.
bool fail(AuthThrottle& throttle, const QHostAddress& address, int count) {
    bool started = false;
    for (int i = 0; i < count; ++i)
        started = throttle.recordFailure(address);
    return started;
}

void expectBlockWarning(const QString& source, int seconds) {
    QTest::ignoreMessage(QtWarningMsg,
                         QRegularExpression(QStringLiteral("blocking %1 for %2 s after 10 failed")
                                                .arg(QRegularExpression::escape(source))
                                                .arg(seconds)));
}

}  // namespace

class TstAuthThrottle : public QObject {
    Q_OBJECT

private slots:
    void blocksAtTheLimit() {
        ManualClock clock;
        AuthThrottle throttle(clock);
        QVERIFY(!fail(throttle, kHostA, 9));
        QVERIFY(!throttle.isBlocked(kHostA));
        expectBlockWarning(QStringLiteral("127.0.0.2"), 60);
        QVERIFY(throttle.recordFailure(kHostA));  // the tenth
        QVERIFY(throttle.isBlocked(kHostA));
        QCOMPARE(throttle.blockedFor(kHostA), std::optional<Duration>(60s));
        QVERIFY(!throttle.isBlocked(kHostB));  // others are not affected

        // Failures during the block are not counted and start nothing.
        QVERIFY(!throttle.recordFailure(kHostA));
        clock.advance(59s);
        QCOMPARE(throttle.blockedFor(kHostA), std::optional<Duration>(1s));
        clock.advance(1s);
        QVERIFY(!throttle.isBlocked(kHostA));
    }

    // Only failures inside the window count: 10 failures spread over more than 60 s
    // never block.
    void slidingWindow() {
        ManualClock clock;
        AuthThrottle throttle(clock);
        for (int i = 0; i < 30; ++i) {
            QVERIFY(!throttle.recordFailure(kHostA));
            clock.advance(7s);  // 9 failures per 63 s at most
        }
        QVERIFY(!throttle.isBlocked(kHostA));

        ManualClock clock2;
        AuthThrottle burst(clock2);
        QVERIFY(!fail(burst, kHostA, 5));
        clock2.advance(59s);
        expectBlockWarning(QStringLiteral("127.0.0.2"), 60);
        QVERIFY(fail(burst, kHostA, 5));
    }

    void successResetsTheCount() {
        ManualClock clock;
        AuthThrottle throttle(clock);
        QVERIFY(!fail(throttle, kHostA, 9));
        throttle.recordSuccess(kHostA);
        QVERIFY(!fail(throttle, kHostA, 9));
        QVERIFY(!throttle.isBlocked(kHostA));
        QCOMPARE(throttle.trackedSources(), 1);
        throttle.recordSuccess(kHostA);
        QCOMPARE(throttle.trackedSources(), 0);  // nothing left to remember
    }

    void repeatedBlocksDoubleUpToTheMaximum() {
        ManualClock clock;
        AuthThrottle throttle(clock);
        const int expected[] = {60, 120, 240, 480, 960, 1920, 3600, 3600};
        for (int seconds : expected) {
            expectBlockWarning(QStringLiteral("127.0.0.2"), seconds);
            QVERIFY(fail(throttle, kHostA, 10));
            QCOMPARE(throttle.blockedFor(kHostA),
                     std::optional<Duration>(std::chrono::seconds(seconds)));
            clock.advance(std::chrono::seconds(seconds));
            QVERIFY(!throttle.isBlocked(kHostA));
        }
        // After a quiet hour the source starts over with the first block length.
        clock.advance(1h);
        expectBlockWarning(QStringLiteral("127.0.0.2"), 60);
        QVERIFY(fail(throttle, kHostA, 10));
        QCOMPARE(throttle.blockedFor(kHostA), std::optional<Duration>(60s));
    }

    // An IPv6 host picks any address in its /64: the prefix is what is counted.
    void ipv6CountsPerPrefix() {
        ManualClock clock;
        AuthThrottle throttle(clock);
        QCOMPARE(AuthThrottle::sourceName(QHostAddress(QStringLiteral("::1"))),
                 QStringLiteral("::/64"));
        for (int i = 1; i <= 9; ++i)
            QVERIFY(!throttle.recordFailure(QHostAddress(QStringLiteral("::%1").arg(i))));
        expectBlockWarning(QStringLiteral("::/64"), 60);
        QVERIFY(throttle.recordFailure(QHostAddress(QStringLiteral("::1"))));
        QVERIFY(throttle.isBlocked(QHostAddress(QStringLiteral("::ffff"))));
        QCOMPARE(throttle.trackedSources(), 1);
        // IPv4 as a dual-stack socket reports it is the same IPv4 source.
        QCOMPARE(AuthThrottle::sourceName(QHostAddress(QStringLiteral("::ffff:127.0.0.2"))),
                 QStringLiteral("127.0.0.2"));
        QVERIFY(!throttle.isBlocked(kHostA));
    }

    void memoryIsBounded() {
        ManualClock clock;
        AuthThrottle::Options options;
        options.maxSources = 4;
        AuthThrottle throttle(clock, options);
        for (int i = 1; i <= 20; ++i) {
            throttle.recordFailure(QHostAddress(QStringLiteral("127.0.1.%1").arg(i)));
            QVERIFY(throttle.trackedSources() <= 4);
        }
        QCOMPARE(throttle.trackedSources(), 4);
        // Quiet sources are forgotten once their failures left the window.
        clock.advance(61s);
        throttle.recordFailure(kHostA);
        QCOMPARE(throttle.trackedSources(), 1);
    }

    void blockedSourcesAreRememberedAfterTheBlock() {
        ManualClock clock;
        AuthThrottle throttle(clock);
        expectBlockWarning(QStringLiteral("127.0.0.2"), 60);
        QVERIFY(fail(throttle, kHostA, 10));
        clock.advance(60s + 59min);
        throttle.recordFailure(kHostB);  // drives forgetting
        QCOMPARE(throttle.trackedSources(), 2);
        clock.advance(2min);
        throttle.recordFailure(kHostB);
        QCOMPARE(throttle.trackedSources(), 1);
    }

    void customOptions() {
        ManualClock clock;
        AuthThrottle::Options options;
        options.maxFailures = 3;
        options.window = 10s;
        options.blockFor = 5s;
        AuthThrottle throttle(clock, options);
        QVERIFY(!fail(throttle, kHostA, 2));
        QTest::ignoreMessage(QtWarningMsg,
                             QRegularExpression(QStringLiteral("blocking 127.0.0.2 for 5 s after 3 "
                                                               "failed attempts in 10 s")));
        QVERIFY(throttle.recordFailure(kHostA));
        QCOMPARE(throttle.blockedFor(kHostA), std::optional<Duration>(5s));
    }
};

QTEST_APPLESS_MAIN(TstAuthThrottle)
#include "tst_auth_throttle.moc"
