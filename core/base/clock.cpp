#include "base/clock.h"

namespace sb::base {

TimePoint SteadyClock::now() const {
    return std::chrono::time_point_cast<Duration>(std::chrono::steady_clock::now());
}

}  // namespace sb::base
