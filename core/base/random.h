#pragma once

#include <QByteArray>
#include <QtGlobal>

#include <array>
#include <random>

namespace sb::base {

// Randomness as a seam: tags, branches, cnonces and back-off jitter come from here,
// so tests can fix them.
class Random {
public:
    virtual ~Random() = default;
    virtual quint64 next() = 0;

    // Uniform in [0, bound); bound 0 gives 0.
    quint64 bounded(quint64 bound);
    // `length` characters of [0-9a-z], fit for tags, branches and cnonces. Each draw
    // gives 12 of them (36^12 < 2^64), so a 32-character branch costs 3 draws, not 32.
    QByteArray token(int length);
};

// The kernel's CSPRNG, read a block at a time: one getrandom() per 64 draws. (Qt's
// system generator uses RDRAND per draw, which costs microseconds on some CPUs and in
// virtual machines: a tenth of the proxy's CPU went there.) One instance per thread.
class SystemRandom final : public Random {
public:
    quint64 next() override;

private:
    void refill();

    std::array<quint64, 64> m_block{};
    std::size_t m_used = m_block.size();
};

class SeededRandom final : public Random {
public:
    explicit SeededRandom(quint64 seed) : m_engine(seed) {}
    quint64 next() override { return m_engine(); }

private:
    std::mt19937_64 m_engine;
};

}  // namespace sb::base
