#pragma once

#include <QByteArray>
#include <QtGlobal>

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
    // `length` characters of [0-9a-z], fit for tags, branches and cnonces.
    QByteArray token(int length);
};

class SystemRandom final : public Random {
public:
    quint64 next() override;
};

class SeededRandom final : public Random {
public:
    explicit SeededRandom(quint64 seed) : m_engine(seed) {}
    quint64 next() override { return m_engine(); }

private:
    std::mt19937_64 m_engine;
};

}  // namespace sb::base
