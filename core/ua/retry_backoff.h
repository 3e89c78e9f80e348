#pragma once

#include <chrono>
#include <optional>

#include "base/random.h"
#include "base/timer_queue.h"

namespace sb::ua {

// The wait after consecutive failures, shaped as RFC 5626 §4.5 describes: the nominal
// delay doubles from `initial` (initial·2^(n-1)) up to `maximum`, and the real wait is
// a random 50-100 % of it, so that many clients failing together (a registrar that
// restarted, a DNS outage) do not all come back in the same second. One series per
// retrying role: the registration client keeps one for REGISTER and for server
// location alike.
class RetryBackoff {
public:
    explicit RetryBackoff(base::Random& random, base::Duration initial = std::chrono::seconds(30),
                          base::Duration maximum = std::chrono::minutes(30));

    // Counts one more failure in a row and returns the wait before the next attempt.
    // `atLeast` (a server's Retry-After, RFC 3261 §20.33) lengthens the wait, but never
    // beyond `maximum`.
    base::Duration failed(std::optional<base::Duration> atLeast = std::nullopt);
    // A success: the next failure starts the series from `initial` again.
    void reset() { m_failures = 0; }

    int failures() const { return m_failures; }
    base::Duration initial() const { return m_initial; }
    base::Duration maximum() const { return m_maximum; }

    // The delay after the `failures`-th failure in a row, before jitter:
    // initial·2^(failures-1), at most `maximum`.
    static base::Duration nominal(int failures, base::Duration initial, base::Duration maximum);

private:
    base::Random& m_random;
    base::Duration m_initial;
    base::Duration m_maximum;
    int m_failures = 0;
};

}  // namespace sb::ua
