#!/bin/bash
# Builds (preset "bench", Release, in build/bench or $SB_BENCH_BUILD_DIR) and runs every
# benchmark of issue 3 (the live BLF board), one after the other, printing each figure
# and its target; see README.md "Board benchmarks". Figures only: nothing here fails on
# a slow machine (the exit status says only whether every benchmark ran).
#
#   1. bench_notify_throughput   NOTIFY/s through the production wiring, one thread
#   2. kamailio_notify_rate.sh   NOTIFY/s Kamailio's presence server emits (same run)
#      → ratio console/kamailio
#   3. bench_board_scale         ui::MainWindow, 2,000 extensions, 1,000 changes/s
#   4. subscribe_2000.sh         2,000 subscriptions against Kamailio at 50/s
#
# Usage: tests/bench/run_board_bench.sh [--skip-build]
# Needs: libbenchmark-dev (the bench preset builds bench_parser's peers too, see
# run_parser_bench.sh), kamailio, kamailio-presence-modules, sip-tester, time.
set -u -o pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 1
build=${SB_BENCH_BUILD_DIR:-$root/build/bench}
export SB_BENCH_BUILD_DIR=$build

if [ "${1:-}" != "--skip-build" ]; then
    cmake --preset bench -B "$build" >/dev/null || exit 1
    cmake --build "$build" --target bench_notify_throughput bench_board_scale switchboard || exit 1
fi

failed=0
load() { echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs)"; }
figure() { sed -n "s/^$1=//p" "$2" | tail -1; }
out=$(mktemp -d /tmp/sb-board-bench-XXXXXX)
trap 'rm -rf "$out"' EXIT

echo "=== 1. NOTIFY throughput (console side, one thread) ==="
load
# shellcheck disable=SC2086  # SB_NOTIFY_ARGS: extra arguments, split on blanks
"$build/tests/bench/bench_notify_throughput" ${SB_NOTIFY_ARGS:-} | tee "$out/notify.txt" ||
    failed=1
console_rate=$(figure console_notify_per_s "$out/notify.txt")

echo
echo "=== 2. Kamailio presence NOTIFY emission rate (same run) ==="
load
"$root/tests/bench/kamailio_notify_rate.sh" | tee "$out/kamailio.txt" || failed=1
kamailio_rate=$(figure kamailio_notify_emit_per_s "$out/kamailio.txt")

echo
echo "=== 3. Board scale, offscreen ==="
load
QT_QPA_PLATFORM=offscreen /usr/bin/time -v -o "$out/time.txt" \
    "$build/tests/bench/bench_board_scale" | tee "$out/board.txt" || failed=1
maxrss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$out/time.txt")
echo "/usr/bin/time -v maxresident: ${maxrss:-?} kB"

echo
echo "=== 4. Subscribing 2,000 extensions against Kamailio (default pacing) ==="
load
"$root/tests/bench/subscribe_2000.sh" | tee "$out/subscribe.txt" || failed=1

echo
echo "=== Summary (issue 3 targets) ==="
load
echo "console NOTIFY/s:           ${console_rate:-?}   (target >= 20000 and above Kamailio)"
echo "console CPU us per NOTIFY:  $(figure console_cpu_us_per_notify "$out/notify.txt")"
echo "kamailio NOTIFY/s emitted:  ${kamailio_rate:-?}"
if [ -n "${console_rate:-}" ] && [ -n "${kamailio_rate:-}" ] && [ "$kamailio_rate" != 0 ]; then
    echo "ratio console/kamailio:     $(python3 -c "print(f'{$console_rate / $kamailio_rate:.2f}')")"
fi
echo "board p99 blocked per frame: $(figure board_blocked_p99_ms "$out/board.txt") ms (target < 16)"
echo "board VmHWM:                $(figure board_vmhwm_kb "$out/board.txt") kB;" \
    "time -v maxresident ${maxrss:-?} kB (target < 150 MB)"
echo "2,000 subscriptions active: $(figure subscribe_all_active_s "$out/subscribe.txt") s" \
    "(target < 60); switchboard VmHWM $(figure switchboard_vmhwm_kb "$out/subscribe.txt") kB"
exit $failed
