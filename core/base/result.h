#pragma once

#include <tl/expected.hpp>

#include "base/error.h"

namespace sb {

// One alias so that the project can move to std::expected later in one place.
template <class T>
using Result = tl::expected<T, Error>;

using Unexpected = tl::unexpected<Error>;

inline Unexpected fail(ErrorKind kind, QString reason, qsizetype offset = -1, int sipStatus = 0) {
    return Unexpected(makeError(kind, std::move(reason), offset, sipStatus));
}

inline Unexpected fail(Error error) {
    return Unexpected(std::move(error));
}

}  // namespace sb
