#!/bin/bash
# How fast the operator's actions reach the wire (issue 7, README.md "Attendant
# benchmark"): with CALLS calls ringing at once in the built-in server, the time from a
# headless `forward` or `pickup` command to the new branch's INVITE arriving at the
# phone it rings, p50 and p99 (target: p99 < 5 ms), and in the same run the plain proxy
# path (an INVITE in, the forwarded INVITE out) as the reference. The work is done by
# attendant_latency.py; this script builds Switchboard (release) and runs it.
#
# Usage: tests/bench/run_attendant_bench.sh [--skip-build] [--calls 1000]
#            [--extensions 100] [--callers N] [--actions 600] [--plain 300] [--rate 200]
#            [--gap-ms 20]
# Environment: SB_BENCH_BUILD_DIR (default build/bench), SWITCHBOARD (the binary).
# Needs: sip-tester (sipp), python3, timeout. Everything listens on 127.0.0.1 at free
# ports and is stopped by PID.
# Last lines: forward_p50_ms=, forward_p99_ms=, pickup_p50_ms=, pickup_p99_ms=,
#   plain_proxy_p50_ms=, plain_proxy_p99_ms=, action_p99_ms=, ratio_to_plain_p99=,
#   calls_ringing=, failed_actions=, target_met=.
set -u -o pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${SB_BENCH_BUILD_DIR:-$root/build/bench}
switchboard=${SWITCHBOARD:-$build/app/switchboard}
skip_build=0
passed=()
while [ $# -gt 0 ]; do
    case $1 in
        --skip-build) skip_build=1 ;;
        --calls | --extensions | --callers | --actions | --plain | --rate | --gap-ms) passed+=("$1" "$2"); shift ;;
        *) echo "unknown option: $1 (see the head of $0)" >&2; exit 2 ;;
    esac
    shift
done
if [ "$skip_build" = 0 ]; then
    cmake --preset bench -B "$build" >/dev/null || exit 1
    cmake --build "$build" --target switchboard || exit 1
fi
for tool in "$switchboard" sipp python3 timeout; do
    command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 2; }
done
echo "machine: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
exec python3 "$root/tests/bench/attendant_latency.py" --switchboard "$switchboard" \
    --scenarios "$root/tests/integration/server" "${passed[@]}"
