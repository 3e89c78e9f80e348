// Random: the seam that makes tags, branches, cnonces and back-off jitter reproducible.

#include <QSet>
#include <QTest>

#include "base/random.h"

using namespace sb::base;

namespace {

// A Random that replays a fixed sequence, to pin down bounded()'s rejection sampling.
class ScriptedRandom final : public Random {
public:
    explicit ScriptedRandom(std::vector<quint64> values) : m_values(std::move(values)) {}
    quint64 next() override {
        ++calls;
        const quint64 v = m_values[m_pos % m_values.size()];
        ++m_pos;
        return v;
    }
    int calls = 0;

private:
    std::vector<quint64> m_values;
    std::size_t m_pos = 0;
};

}  // namespace

class TestRandom : public QObject {
    Q_OBJECT

private slots:
    void seededIsReproducible();
    void differentSeedsDiffer();
    void boundedStaysInRange();
    void boundedZeroAndOne();
    void boundedCoversTheRange();
    void boundedRejectsTheBiasedTail();
    void tokenAlphabetAndLength();
    void tokensAreReproducibleAndDistinct();
    void tokenTakesTwelveCharactersPerDraw();
    void tokenRejectsTheBiasedTail();
    void systemRandomVaries();
    void systemRandomGoesOnPastItsBlock();
};

void TestRandom::seededIsReproducible() {
    SeededRandom a(12345);
    SeededRandom b(12345);
    for (int i = 0; i < 100; ++i)
        QCOMPARE(a.next(), b.next());
}

void TestRandom::differentSeedsDiffer() {
    SeededRandom a(1);
    SeededRandom b(2);
    int same = 0;
    for (int i = 0; i < 20; ++i)
        same += a.next() == b.next();
    QVERIFY(same < 20);
}

void TestRandom::boundedStaysInRange() {
    SeededRandom random(7);
    for (quint64 bound : {quint64(2), quint64(3), quint64(36), quint64(1000),
                          quint64(30 * 60 * 1000), std::numeric_limits<quint64>::max()}) {
        for (int i = 0; i < 500; ++i)
            QVERIFY(random.bounded(bound) < bound);
    }
}

void TestRandom::boundedZeroAndOne() {
    SeededRandom random(9);
    QCOMPARE(random.bounded(0), quint64(0));
    for (int i = 0; i < 50; ++i)
        QCOMPARE(random.bounded(1), quint64(0));
}

void TestRandom::boundedCoversTheRange() {
    SeededRandom random(11);
    QSet<quint64> seen;
    for (int i = 0; i < 2000; ++i)
        seen.insert(random.bounded(10));
    QCOMPARE(seen.size(), qsizetype(10));
}

// Values in the last incomplete block of 2^64 would bias the result: they are redrawn.
void TestRandom::boundedRejectsTheBiasedTail() {
    const quint64 max = std::numeric_limits<quint64>::max();
    const quint64 bound = 3;  // 2^64 - 1 is divisible by 3: limit = max, so max is redrawn
    ScriptedRandom random({max, 7});
    QCOMPARE(random.bounded(bound), quint64(7 % 3));
    QCOMPARE(random.calls, 2);
    ScriptedRandom plain({10});
    QCOMPARE(plain.bounded(4), quint64(2));
    QCOMPARE(plain.calls, 1);
}

void TestRandom::tokenAlphabetAndLength() {
    SeededRandom random(3);
    for (int length : {0, 1, 8, 10, 32}) {
        const QByteArray token = random.token(length);
        QCOMPARE(token.size(), qsizetype(length));
        for (char c : token)
            QVERIFY2((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'), token.constData());
    }
}

void TestRandom::tokensAreReproducibleAndDistinct() {
    SeededRandom a(99);
    SeededRandom b(99);
    QSet<QByteArray> seen;
    for (int i = 0; i < 200; ++i) {
        const QByteArray t = a.token(10);
        QCOMPARE(t, b.token(10));
        seen.insert(t);
    }
    QCOMPARE(seen.size(), qsizetype(200));
}

// Each draw is read as 12 base-36 digits, lowest first: 3 draws for 32 characters.
void TestRandom::tokenTakesTwelveCharactersPerDraw() {
    ScriptedRandom zeros({0});
    QCOMPARE(zeros.token(32), QByteArray(32, '0'));
    QCOMPARE(zeros.calls, 3);
    ScriptedRandom digits({35 + 10 * 36 + 1 * 36 * 36});
    QCOMPARE(digits.token(4), QByteArrayLiteral("za10"));
    QCOMPARE(digits.calls, 1);
    ScriptedRandom none({1});
    QCOMPARE(none.token(0), QByteArray());
    QCOMPARE(none.calls, 0);
}

// A draw at or above the last whole multiple of 36^12 below 2^64 would favour the low
// digits: it is drawn again.
void TestRandom::tokenRejectsTheBiasedTail() {
    quint64 block = 1;
    for (int i = 0; i < 12; ++i)
        block *= 36;
    const quint64 limit = std::numeric_limits<quint64>::max() / block * block;
    ScriptedRandom random({limit, limit - 1});
    // limit - 1 = (k * 36^12) - 1: its 12 digits are all 35.
    QCOMPARE(random.token(12), QByteArray(12, 'z'));
    QCOMPARE(random.calls, 2);
}

void TestRandom::systemRandomVaries() {
    SystemRandom random;
    QSet<quint64> seen;
    for (int i = 0; i < 8; ++i)
        seen.insert(random.next());
    QVERIFY(seen.size() > 1);
    QCOMPARE(random.token(16).size(), qsizetype(16));
}

// The source is read a block at a time; the draws after the first block differ too.
void TestRandom::systemRandomGoesOnPastItsBlock() {
    SystemRandom random;
    QSet<quint64> seen;
    for (int i = 0; i < 300; ++i)
        seen.insert(random.next());
    QVERIFY2(seen.size() > 290, qPrintable(QString::number(seen.size())));
}

QTEST_GUILESS_MAIN(TestRandom)
#include "tst_random.moc"
