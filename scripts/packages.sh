# shellcheck shell=bash
# Shared by run.sh and test.sh (sourced): install the Debian packages that are missing.
# Needs root or sudo only when something is missing.

# The build: compiler, CMake, Ninja, Qt 6, libxml2, tl::expected.
# shellcheck disable=SC2034 # used by the scripts that source this file
SB_BUILD_PACKAGES=(build-essential cmake ninja-build qt6-base-dev libxml2-dev libexpected-dev)
# The tests: real SIP peers (Kamailio, sipp), clang with libFuzzer, Google Benchmark.
# shellcheck disable=SC2034
SB_TEST_PACKAGES=(kamailio kamailio-presence-modules sip-tester clang libclang-rt-14-dev
                  libbenchmark-dev)

sb_missing_packages() {
    local missing="" package
    for package in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
            missing="$missing $package"
        fi
    done
    echo "$missing"
}

sb_install_packages() {
    local missing
    missing=$(sb_missing_packages "$@")
    if [ -z "$missing" ]; then
        return 0
    fi
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo="sudo"
        else
            echo "Missing Debian packages:$missing" >&2
            echo "Run as root, or install sudo, or install them yourself:" >&2
            echo "  apt-get install$missing" >&2
            return 1
        fi
    fi
    echo "Installing:$missing"
    # shellcheck disable=SC2086
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
    # shellcheck disable=SC2086 # $sudo may be empty; $missing is a word list
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -q -y --no-install-recommends $missing
}
