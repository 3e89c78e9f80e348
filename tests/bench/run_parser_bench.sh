#!/bin/sh
# Builds and runs the parser benchmark (Release build in build/bench, preset "bench").
# Installs the peer parsers' -dev packages and Google Benchmark first when missing.
# Extra arguments go to bench_parser (e.g. --benchmark_filter=invite).
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

packages="libbenchmark-dev libosip2-dev libsofia-sip-ua-dev libre-dev pkg-config"
missing=""
for package in $packages; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $package"
done
if [ -n "$missing" ]; then
    echo "Installing:$missing"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update
    # shellcheck disable=SC2086
    $sudo apt-get install -y --no-install-recommends $missing
fi

cmake --preset bench
cmake --build --preset bench --target bench_parser
exec build/bench/tests/bench/bench_parser "$@"
