#include "base/random.h"

#include <QRandomGenerator>

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

QByteArray Random::token(int length) {
    static constexpr char kAlphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    QByteArray out(length, Qt::Uninitialized);
    for (int i = 0; i < length; ++i)
        out[i] = kAlphabet[bounded(36)];
    return out;
}

quint64 SystemRandom::next() {
    return QRandomGenerator::system()->generate64();
}

}  // namespace sb::base
