#include <QTest>

#include <set>

#include "base/random.h"
#include "ua/retry_backoff.h"

using namespace sb;
using namespace std::chrono_literals;

namespace {

// A Random that always returns the same value: bounded(n) is value % n.
class FixedRandom final : public base::Random {
public:
    explicit FixedRandom(quint64 value) : m_value(value) {}
    quint64 next() override { return m_value; }

private:
    quint64 m_value;
};

}  // namespace

class TestRetryBackoff : public QObject {
    Q_OBJECT

private slots:
    void nominalDoublesUpToTheCap() {
        QCOMPARE(ua::RetryBackoff::nominal(1, 30s, 30min), base::Duration(30s));
        QCOMPARE(ua::RetryBackoff::nominal(2, 30s, 30min), base::Duration(60s));
        QCOMPARE(ua::RetryBackoff::nominal(3, 30s, 30min), base::Duration(120s));
        QCOMPARE(ua::RetryBackoff::nominal(6, 30s, 30min), base::Duration(960s));
        // 30 s · 2^6 = 32 min is over the cap.
        QCOMPARE(ua::RetryBackoff::nominal(7, 30s, 30min), base::Duration(30min));
        QCOMPARE(ua::RetryBackoff::nominal(1000, 30s, 30min), base::Duration(30min));
        QCOMPARE(ua::RetryBackoff::nominal(1, 10s, 5s), base::Duration(5s));
    }

    void waitsBetweenHalfAndFullNominal() {
        base::SeededRandom random(3);
        ua::RetryBackoff backoff(random);
        QCOMPARE(backoff.failures(), 0);
        for (int failure = 1; failure <= 12; ++failure) {
            const base::Duration wait = backoff.failed();
            QCOMPARE(backoff.failures(), failure);
            const base::Duration nominal = ua::RetryBackoff::nominal(failure, 30s, 30min);
            QVERIFY2(
                wait >= nominal / 2 && wait <= nominal,
                qPrintable(QStringLiteral("failure %1: %2 ms").arg(failure).arg(wait.count())));
        }
    }

    void jitterEnds() {
        // The random draw decides where in [50 %, 100 %] the wait lands.
        FixedRandom low(0);
        ua::RetryBackoff shortest(low, 30s, 30min);
        QCOMPARE(shortest.failed(), base::Duration(15s));
        QCOMPARE(shortest.failed(), base::Duration(30s));

        FixedRandom high(15000);  // bounded(15001) = 15000 ms
        ua::RetryBackoff longest(high, 30s, 30min);
        QCOMPARE(longest.failed(), base::Duration(30s));
    }

    void jitterSpreadsClients() {
        std::set<qint64> waits;
        for (quint64 seed = 1; seed <= 16; ++seed) {
            base::SeededRandom random(seed);
            ua::RetryBackoff backoff(random);
            waits.insert(backoff.failed().count());
        }
        QVERIFY(waits.size() > 8);
    }

    void atLeastLengthensButNotBeyondTheCap() {
        FixedRandom low(0);
        ua::RetryBackoff backoff(low, 30s, 30min);
        QCOMPARE(backoff.failed(300s), base::Duration(300s));
        // Shorter than the jittered wait: no effect (failure 2: 30-60 s, here 30 s).
        QCOMPARE(backoff.failed(1s), base::Duration(30s));
        QCOMPARE(backoff.failed(24h), base::Duration(30min));
    }

    void resetStartsOver() {
        base::SeededRandom random(9);
        ua::RetryBackoff backoff(random, 30s, 30min);
        for (int i = 0; i < 5; ++i)
            backoff.failed();
        QCOMPARE(backoff.failures(), 5);
        backoff.reset();
        QCOMPARE(backoff.failures(), 0);
        const base::Duration wait = backoff.failed();
        QVERIFY(wait >= 15s && wait <= 30s);
    }

    void customSteps() {
        base::SeededRandom random(5);
        ua::RetryBackoff backoff(random, 1s, 4s);
        QCOMPARE(backoff.initial(), base::Duration(1s));
        QCOMPARE(backoff.maximum(), base::Duration(4s));
        const base::Duration expected[] = {1s, 2s, 4s, 4s};
        for (const base::Duration nominal : expected) {
            const base::Duration wait = backoff.failed();
            QVERIFY(wait >= nominal / 2 && wait <= nominal);
        }
    }
};

QTEST_GUILESS_MAIN(TestRetryBackoff)
#include "tst_retry_backoff.moc"
