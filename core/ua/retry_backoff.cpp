#include "ua/retry_backoff.h"

#include <algorithm>

namespace sb::ua {

RetryBackoff::RetryBackoff(base::Random& random, base::Duration initial, base::Duration maximum)
    : m_random(random),
      m_initial(std::max(initial, base::Duration::zero())),
      m_maximum(std::max(maximum, m_initial)) {}

base::Duration RetryBackoff::failed(std::optional<base::Duration> atLeast) {
    ++m_failures;
    // RFC 5626 §4.5: wait a random 50-100 % of the doubled delay.
    const base::Duration full = nominal(m_failures, m_initial, m_maximum);
    const quint64 half = quint64(full.count() / 2);
    base::Duration delay =
        base::Duration(qint64(quint64(full.count()) - half + m_random.bounded(half + 1)));
    if (atLeast) delay = std::max(delay, std::min(*atLeast, m_maximum));
    return delay;
}

base::Duration RetryBackoff::nominal(int failures, base::Duration initial, base::Duration maximum) {
    base::Duration delay = initial;
    for (int i = 1; i < failures && delay < maximum; ++i)
        delay *= 2;
    return std::min(delay, maximum);
}

}  // namespace sb::ua
