#!/bin/sh
# Builds the libFuzzer targets with clang in its own build directory (build/fuzz) and
# runs them for a bounded time through CTest (label "fuzz": the SIP parser 60 s, the
# dialog-info parser 30 s, 2 GiB RSS limit each).
# Crash reproducers land in build/fuzz/tests/fuzz/work/artifacts/; copy them to
# tests/fuzz/crashes/ so every later run replays them first.
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
build=${SB_FUZZ_BUILD_DIR:-"$root/build/fuzz"}
cxx=${SB_FUZZ_CXX:-$(command -v clang++ || command -v clang++-14 || true)}
if [ -z "$cxx" ]; then
    echo "run_fuzz.sh: clang++ not found (Debian: apt-get install clang)" >&2
    exit 1
fi

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_COMPILER="$cxx" -DSB_BUILD_FUZZ=ON -DSB_BUILD_TESTS=ON -DSB_WERROR=ON
cmake --build "$build" --target fuzz_parser fuzz_dialog_info
# Both fuzzers at once: each is one process on one core, bounded by its own time.
ctest --test-dir "$build" -L fuzz --output-on-failure -j 2
