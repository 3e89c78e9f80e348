#!/usr/bin/env bash
# Installs what is missing, builds and runs every test group, the way CI does:
#   dev preset (-Werror): ctest -L unit, -L integration, -L gui
#   asan preset (AddressSanitizer + UBSan): ctest -L unit
#   the parser's libFuzzer target for 60 s (tests/fuzz/run_fuzz.sh)
# Stops at the first failure with a non-zero status. Two build jobs (CI has 2 cores);
# SB_BUILD_ROOT moves the build directories (default: build/).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=scripts/packages.sh
. scripts/packages.sh

sb_install_packages "${SB_BUILD_PACKAGES[@]}" "${SB_TEST_PACKAGES[@]}"

builds=${SB_BUILD_ROOT:-build}
export CMAKE_BUILD_PARALLEL_LEVEL=2
export CTEST_OUTPUT_ON_FAILURE=1
started=$(date +%s)

step() {
    echo
    echo "=== $* ($(($(date +%s) - started)) s)"
}

# CI builds keep line tables only (-g1): sanitizer traces still show file:line, and the
# ~90 test executables compile and link faster. Elsewhere the presets' full -g stays.
ci_flags=()
if [ "${CI:-}" = true ]; then
    ci_flags=(-DCMAKE_CXX_FLAGS_DEBUG=-g1)
fi

step "dev: configure and build (warnings are errors)"
cmake --preset dev -B "$builds/dev" "${ci_flags[@]}"
cmake --build "$builds/dev"

step "dev: unit tests"
ctest --test-dir "$builds/dev" -L unit -j 2
step "dev: integration tests (Kamailio, sipp)"
ctest --test-dir "$builds/dev" -L integration
step "dev: GUI tests (offscreen)"
ctest --test-dir "$builds/dev" -L gui

step "asan: configure and build the unit tests"
cmake --preset asan -B "$builds/asan" "${ci_flags[@]}"
# Only what `ctest -L unit` runs: the test name is its executable's target name.
mapfile -t unit_targets < <(ctest --test-dir "$builds/asan" -N -L unit | sed -n 's/^ *Test *#[0-9]*: *//p')
if [ ${#unit_targets[@]} -eq 0 ]; then
    echo "test.sh: no unit tests found in $builds/asan" >&2
    exit 1
fi
cmake --build "$builds/asan" --target "${unit_targets[@]}"
step "asan: unit tests"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir "$builds/asan" -L unit -j 2

if [ -x tests/fuzz/run_fuzz.sh ]; then
    step "fuzz: the parser for 60 s"
    SB_FUZZ_BUILD_DIR="$builds/fuzz" tests/fuzz/run_fuzz.sh
else
    step "fuzz: tests/fuzz/run_fuzz.sh not present, skipped"
fi
# The last lines are ctest's own summary; `set -e` has stopped us before any failure.
