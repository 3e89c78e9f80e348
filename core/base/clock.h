#pragma once

#include <chrono>

namespace sb::base {

using Duration = std::chrono::milliseconds;
using TimePoint = std::chrono::time_point<std::chrono::steady_clock, Duration>;

// Monotonic time, injectable so protocol timers can be tested without sleeping.
class Clock {
public:
    virtual ~Clock() = default;
    virtual TimePoint now() const = 0;
};

// Wall-clock-free monotonic time of the process.
class SteadyClock final : public Clock {
public:
    TimePoint now() const override;
};

}  // namespace sb::base
