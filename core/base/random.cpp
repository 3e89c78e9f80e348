#include "base/random.h"

#include <QRandomGenerator>

#ifdef Q_OS_LINUX
#include <sys/random.h>

#include <cerrno>
#endif

namespace sb::base {

quint64 Random::bounded(quint64 bound) {
    if (bound == 0) return 0;
    // Rejection sampling keeps the distribution uniform.
    const quint64 limit =
        std::numeric_limits<quint64>::max() - std::numeric_limits<quint64>::max() % bound;
    quint64 value = next();
    while (value >= limit)
        value = next();
    return value % bound;
}

namespace {

constexpr int kTokenDigitsPerDraw = 12;
constexpr quint64 kTokenBlock = [] {
    quint64 p = 1;
    for (int i = 0; i < kTokenDigitsPerDraw; ++i)
        p *= 36;
    return p;
}();

}  // namespace

QByteArray Random::token(int length) {
    static constexpr char kAlphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    QByteArray out(length, Qt::Uninitialized);
    int i = 0;
    while (i < length) {
        // Uniform in [0, 36^12), then read as 12 base-36 digits.
        quint64 value = bounded(kTokenBlock);
        for (int d = 0; d < kTokenDigitsPerDraw && i < length; ++d, ++i) {
            out[i] = kAlphabet[value % 36];
            value /= 36;
        }
    }
    return out;
}

quint64 SystemRandom::next() {
    if (m_used == m_block.size()) refill();
    return m_block[m_used++];
}

void SystemRandom::refill() {
    m_used = 0;
#ifdef Q_OS_LINUX
    auto* bytes = reinterpret_cast<char*>(m_block.data());
    std::size_t filled = 0;
    while (filled < sizeof(m_block)) {
        const ssize_t got = getrandom(bytes + filled, sizeof(m_block) - filled, 0);
        if (got < 0) {
            if (errno == EINTR) continue;
            break;  // no getrandom (a very old kernel): Qt's generator below
        }
        filled += std::size_t(got);
    }
    if (filled == sizeof(m_block)) return;
#endif
    QRandomGenerator::system()->fillRange(m_block.data(), qsizetype(m_block.size()));
}

}  // namespace sb::base
