#!/bin/bash
# Calls per second through Switchboard's built-in proxy with dialog tracking and one
# watcher per callee, and in the same run the same calls through Kamailio (tm + rr +
# dialog), then memory per registered user and per active dialog (issue 4, README.md
# "Proxy benchmark"). Figures only: nothing here fails because the machine is slow (the
# exit status says only whether every part ran).
#
# Each call: sipp caller -> server -> sipp callee, INVITE / 100 / 180 / 200 / ACK, a short
# hold, BYE / 200, over UDP on 127.0.0.1 (free ports). The callees are CALLEES registered
# extensions (their Contact is the callee sipp), called in turn (caller i calls callee
# i, so at 1,000 calls/s each callee gets one call a second); each has one watcher, a
# subscription to Event: dialog (RFC 4235) from a third sipp that answers every NOTIFY
# 200. Fewer callees mean more calls per callee and so more dialogs in each document.
#
# Servers, each started fresh by this script and stopped by PID:
#   switchboard          `switchboard --headless` with the default profile (board fed,
#                        loopback trusted), its users provisioned in [users] (HA1 only)
#   kamailio             tests/bench/proxy/kamailio_proxy.cfg: registrar, tm, rr, dialog
#                        (the issue's peer; no presence, so no watchers to serve)
#   kamailio-presence    the same with -A WITH_PRESENCE: pua_dialoginfo publishing to the
#                        instance's own presence + presence_dialoginfo, which NOTIFYs the
#                        same watchers Switchboard serves
#
# Rate: the caller's rate (sipp -r) steps up through RATES, each step max(MIN_CALLS,
# rate x STEP_SECONDS) calls. A step fails with 0.1 % failed calls or more (failed =
# calls not completed successfully: sipp's failed calls, refusals, calls left open),
# with any 5xx, when sipp could not offer 90 % of the rate, or when the watchers got
# fewer than one NOTIFY per two calls. The first failed step ends the ramp and a
# bisection between the last good rate (or 0) and that rate follows. A step lasts 35 s
# by default, longer than the 64*T1 = 32 s that Switchboard keeps transactions and
# answered calls (RFC 3261 §17, RFC 6026; Kamailio's tm keeps them 5 s): a rate that
# passes is one the server holds in its steady state, not a burst it absorbs. The steps
# run back to back on one server instance, as a ramp; after a failed step the bench
# waits RECOVER seconds so that the next one does not measure the overload's leftovers.
#
# CPUs: the server under test runs alone on the last CPU (taskset), every sipp on the
# others, the same for each server (Switchboard is one thread; Kamailio's processes share
# their one CPU). --no-pin lets the scheduler place everything. On a small machine the
# sipps may run out of CPU before the server does (the table shows both); the summary
# therefore also compares the servers' CPU time per call at their highest good rate,
# which the load generator does not bound.
#
# Memory (each server on a fresh instance): USERS extensions provisioned; two waves of
# USERS/2 registrations, then two waves of DIALOGS calls held open (each user in one call
# at most), SETTLE seconds after each wave so that its transactions have ended. Per user
# and per dialog = the growth over the SECOND wave divided by its size: the first wave's
# transactions freed memory that the second wave's reuse, so the figure is the state
# kept, not the allocator's peak. Switchboard: VmRSS (/proc/PID/status). Kamailio:
# shared memory in use (kamcmd core.shmmem real_used), where usrloc, dialog and tm keep
# their state (its RSS shows only the touched part of its preallocated -m pool).
#
# Usage: tests/bench/run_proxy_bench.sh [--skip-build] [options]
#   --servers "switchboard kamailio kamailio-presence"
#   --rates "100 200 400 800 1200 1600 2400 3200 4800"   --bisect 3
#   --step-seconds 35 --min-calls 2000 --callees 1000 --hold-ms 10
#   --users 2000 --dialogs 500 --settle 33 --recover 35   --no-memory --no-rate --no-pin
# Environment: SB_BENCH_BUILD_DIR (default build/bench), SWITCHBOARD (the binary),
#   SB_KEEP=1 keeps the work directory (sipp logs, statistics, server logs).
# Needs: sip-tester (sipp), kamailio, kamailio-presence-modules, kamcmd, python3, ss,
#   taskset, timeout.
# Last lines: switchboard_cps=, kamailio_cps=, ratio=, kamailio_presence_cps=,
#   ratio_vs_presence=, the *_cpu_us_per_call= figures with cpu_ratio= and
#   cpu_ratio_vs_presence=, bytes_per_registered_user=, bytes_per_active_dialog= (and
#   the kamailio_ ones).
# shellcheck disable=SC2154  # c_*, reg_*, w_*: set by read_figures (printf -v)
set -u -o pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
scen=$root/tests/bench/proxy
build=${SB_BENCH_BUILD_DIR:-$root/build/bench}
switchboard=${SWITCHBOARD:-$build/app/switchboard}
domain=switchboard.local

skip_build=0
servers="switchboard kamailio kamailio-presence"
rates="100 200 400 800 1200 1600 2400 3200 4800"
bisect=3
step_seconds=35
min_calls=2000
callees=1000
hold_ms=10
users=2000
dialogs=500
settle=33
recover=35
do_memory=1
do_rate=1
pin=1
while [ $# -gt 0 ]; do
    case $1 in
        --skip-build) skip_build=1 ;;
        --servers) servers=$2; shift ;;
        --rates) rates=$2; shift ;;
        --bisect) bisect=$2; shift ;;
        --step-seconds) step_seconds=$2; shift ;;
        --min-calls) min_calls=$2; shift ;;
        --callees) callees=$2; shift ;;
        --hold-ms) hold_ms=$2; shift ;;
        --users) users=$2; shift ;;
        --dialogs) dialogs=$2; shift ;;
        --settle) settle=$2; shift ;;
        --recover) recover=$2; shift ;;
        --no-memory) do_memory=0 ;;
        --no-rate) do_rate=0 ;;
        --no-pin) pin=0 ;;
        *) echo "unknown option: $1 (see the head of $0)" >&2; exit 2 ;;
    esac
    shift
done
if [ $((dialogs * 4)) -gt "$users" ]; then
    echo "--dialogs $dialogs needs --users >= $((dialogs * 4)) (two waves, each user in one call)" >&2
    exit 2
fi

if [ "$skip_build" = 0 ]; then
    cmake --preset bench -B "$build" >/dev/null || exit 1
    cmake --build "$build" --target switchboard || exit 1
fi
for tool in "$switchboard" /usr/sbin/kamailio kamcmd sipp python3 ss taskset timeout; do
    command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 2; }
done

work=$(mktemp -d /tmp/sb-proxy-bench-XXXXXX)
# Every process this script starts, by PID (timeout forwards the signal to its sipp).
pids=()
server_pid=
server_kind=
# shellcheck disable=SC2317  # called through the trap
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
    stop_server
    wait 2>/dev/null
    if [ -n "${SB_KEEP:-}" ]; then echo "kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap "exit 130" INT TERM HUP PIPE

ncpu=$(nproc)
if [ "$pin" = 1 ] && [ "$ncpu" -ge 2 ]; then
    server_cpu=$((ncpu - 1))
    server_run=(taskset -c "$server_cpu")
    gen_run=(taskset -c "0-$((ncpu - 2))")
    placement="server alone on CPU $server_cpu, every sipp on CPU 0-$((ncpu - 2)) (taskset)"
else
    server_run=()
    gen_run=()
    placement="no pinning: the server and the sipps share the $ncpu CPUs"
fi
clk_tck=$(getconf CLK_TCK)
gen_cpus=$(seq -s ' ' 0 $((ncpu - 2)))
[ "$ncpu" -ge 2 ] && [ "$pin" = 1 ] || gen_cpus=$(seq -s ' ' 0 $((ncpu - 1)))
# Busy and total jiffies of the load generators' CPUs (/proc/stat), whoever used them.
gen_jiffies() {
    local cpu
    for cpu in $gen_cpus; do
        awk -v name="cpu$cpu" '$1 == name { busy = $2 + $3 + $4 + $7 + $8; print busy, busy + $5 + $6 }' /proc/stat
    done | awk '{ b += $1; t += $2 } END { print b, t }'
}

load() { echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) ($ncpu CPUs)"; }
free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
udp_bound() { ss -Hlun "sport = :$1" | grep -q .; }
wait_bound() {  # port [tries of 50 ms]
    for _ in $(seq "${2:-200}"); do udp_bound "$1" && return 0; sleep 0.05; done
    return 1
}
wait_gone() {  # pid seconds
    for _ in $(seq $(($2 * 20))); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.05; done
    return 1
}

# The last line of a sipp -trace_stat / -trace_counts file as NAME=VALUE lines, and sums
# of the counts columns that matter here.
sipp_figures() {  # stat_file [counts_file [calls]]
    python3 - "$1" "${2:-}" "${3:-0}" <<'EOF'
import sys

def last(path):
    try:
        lines = [l.rstrip("\n") for l in open(path) if l.strip()]
    except OSError:
        return {}
    if len(lines) < 2:
        return {}
    head = lines[0].split(";")
    return dict(zip(head, lines[-1].split(";")))

def ms(text):  # hh:mm:ss:usec
    try:
        h, m, s, us = (int(x) for x in text.split(":"))
    except ValueError:
        return 0.0
    return ((h * 60 + m) * 60 + s) * 1000 + us / 1000

def epoch(field):  # "date<TAB>time<TAB>epoch"
    try:
        return float(field.split("\t")[-1])
    except (ValueError, AttributeError):
        return 0.0

def offered(path, calls):
    """Calls/s sipp created while it was still creating: the last periodic line (-fd 1)
    before it had created them all, or the first one after."""
    try:
        lines = [l.rstrip("\n") for l in open(path) if l.strip()]
    except OSError:
        return 0.0
    if len(lines) < 2:
        return 0.0
    head = lines[0].split(";")
    best = 0.0
    for line in lines[1:]:
        row = dict(zip(head, line.split(";")))
        span = epoch(row.get("CurrentTime")) - epoch(row.get("StartTime"))
        created = int(row.get("TotalCallCreated", "0") or 0)
        if span >= 1.0:
            best = created / span
            if created >= calls:
                break
    return best

stat, counts = last(sys.argv[1]), last(sys.argv[2]) if sys.argv[2] else {}
num = lambda d, k: int(float(d.get(k, "0") or 0))
print("created=%d" % num(stat, "TotalCallCreated"))
print("offered=%.0f" % offered(sys.argv[1], int(sys.argv[3]) if len(sys.argv) > 3 else 0))
print("ok=%d" % num(stat, "SuccessfulCall(C)"))
print("sippfailed=%d" % num(stat, "FailedCall(C)"))
print("retrans=%d" % num(stat, "Retransmissions(C)"))
print("setup_ms=%.1f" % ms(stat.get("ResponseTimesetup(C)", "")))
refused = {}
for key, value in counts.items():
    parts = key.split("_")
    if len(parts) == 3 and parts[2] == "Recv" and parts[1][:1] in "3456" and parts[1].isdigit():
        refused[parts[1]] = refused.get(parts[1], 0) + int(value or 0)
print("refused=%d" % sum(refused.values()))
print("refused_codes=%s" % (",".join("%sx%d" % (c, n) for c, n in sorted(refused.items()) if n) or "-"))
print("fivexx=%d" % sum(n for c, n in refused.items() if c.startswith("5")))
print("notifies=%d" % sum(int(v or 0) for k, v in counts.items() if k.endswith("_NOTIFY_Recv")))
EOF
}
# NAME=VALUE lines into shell variables prefixed by $2.
read_figures() {  # text prefix
    local name value
    while IFS='=' read -r name value; do
        [ -n "$name" ] && printf -v "$2$name" '%s' "$value"
    done <<<"$1"
}

# --- servers ---------------------------------------------------------------------------
kamailio_ctl() { kamcmd -s "unix:$server_dir/kamailio_ctl" "$@"; }
server_pids() {
    echo "$server_pid"
    [ "$server_kind" != switchboard ] && ps -o pid= --ppid "$server_pid" 2>/dev/null
}
server_ticks() {  # user + system CPU ticks of the server's processes
    local total=0 pid fields
    for pid in $(server_pids); do
        fields=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null) || continue
        # shellcheck disable=SC2086
        set -- $fields
        total=$((total + ${12} + ${13}))
    done
    echo "$total"
}
# Bytes of state the server holds: VmRSS for Switchboard, shm real_used for Kamailio.
server_memory() {
    if [ "$server_kind" = switchboard ]; then
        awk '/^VmRSS:/ { print $2 * 1024 }' "/proc/$server_pid/status"
    else
        kamailio_ctl core.shmmem | awk '$1 == "real_used:" { print $2 }'
    fi
}

# users.csv-style list of extensions: first last
write_users_ini() {  # ini port first last
    python3 - "$@" <<'EOF'
import hashlib, sys
ini, port, first, last = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
with open(ini, "w") as f:
    f.write("[sip]\nlisten = udp:127.0.0.1:%s\n\n[users]\n" % port)
    for n in range(first, last + 1):
        ha1 = hashlib.md5(("%d:switchboard.local:pw%d" % (n, n)).encode()).hexdigest()
        f.write("%d = md5:%s\n" % (n, ha1))
EOF
}

start_server() {  # kind first_user last_user
    server_kind=$1
    server_dir=$work/$1-$(date +%s%N)
    mkdir -p "$server_dir"
    server_port=$(free_port)
    if [ "$1" = switchboard ]; then
        write_users_ini "$server_dir/switchboard.ini" "$server_port" "$2" "$3"
        # One user the documented way too: the admin command that reads the password
        # from stdin, next to the generated HA1 lines (same realm, same format).
        printf 'pw%s\n' "$2" | "$switchboard" --config "$server_dir/switchboard.ini" \
            --add-user "$2" >"$server_dir/add-user.log" 2>&1 ||
            { echo "switchboard --add-user failed:" >&2; cat "$server_dir/add-user.log" >&2; return 1; }
        # Standard input stays open (a FIFO this script holds) until quit; JSON events go
        # to /dev/null through the headless front end's writer.
        mkfifo "$server_dir/stdin"
        exec {server_stdin}<>"$server_dir/stdin"
        "${server_run[@]}" "$switchboard" --headless --config "$server_dir/switchboard.ini" \
            <"$server_dir/stdin" >/dev/null 2>"$server_dir/switchboard.stderr" &
        server_pid=$!
    else
        local defines=()
        local children=${SB_KAMAILIO_CHILDREN:-2}
        if [ "$1" = kamailio-presence ]; then
            defines=(-A WITH_PRESENCE)
            mkdir -p "$server_dir/db"
            for t in version presentity active_watchers watchers pua; do
                cp "/usr/share/kamailio/dbtext/kamailio/$t" "$server_dir/db/" &&
                    chmod 600 "$server_dir/db/$t"
            done
        fi
        "${server_run[@]}" /usr/sbin/kamailio -DD -E -f "$scen/kamailio_proxy.cfg" \
            -Y "$server_dir" -P "$server_dir/kamailio.pid" -w "$server_dir" \
            -m 2048 -M 32 "${defines[@]}" \
            --substdef="!SBPORT!$server_port!" --substdef="!SBRUNDIR!$server_dir!" \
            --substdef="!SBDOMAIN!$domain!" --substdef="!SBCHILD!$children!" \
            --substdef="!SBDBURL!text://$server_dir/db!" >"$server_dir/kamailio.log" 2>&1 &
        server_pid=$!
    fi
    if ! wait_bound "$server_port"; then
        echo "$1 did not start:" >&2
        tail -20 "$server_dir"/*.stderr "$server_dir"/*.log >&2 2>/dev/null
        return 1
    fi
    if [ "$1" != switchboard ]; then
        for _ in $(seq 100); do [ -S "$server_dir/kamailio_ctl" ] && break; sleep 0.05; done
    fi
    sleep 0.5
}

stop_server() {
    [ -n "$server_pid" ] || return 0
    if [ "$server_kind" = switchboard ]; then
        echo '{"cmd":"quit"}' >&"$server_stdin"
        wait_gone "$server_pid" 10 || kill "$server_pid" 2>/dev/null
        exec {server_stdin}>&-
    else
        kill "$server_pid" 2>/dev/null
    fi
    wait_gone "$server_pid" 10 || kill -9 "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
    server_pid=
}

server_problems() {  # what the server said that a bench reader must see
    if [ "$server_kind" = switchboard ]; then
        local log=$server_dir/switchboard.stderr
        local n
        n=$(grep -ci "warn\|error\|crit" "$log")
        echo "switchboard stderr: $(wc -l <"$log") lines, $n warnings/errors"
        [ "$n" -gt 0 ] && grep -i -m 5 "warn\|error\|crit" "$log" | cut -c1-200
    else
        local n
        n=$(grep -c "ERROR\|CRITICAL" "$server_dir/kamailio.log")
        echo "kamailio log: $n errors"
        [ "$n" -gt 0 ] && grep -m 5 "ERROR\|CRITICAL" "$server_dir/kamailio.log" | cut -c1-200
    fi
    return 0
}

# --- phones ----------------------------------------------------------------------------
sipp_base=(-i 127.0.0.1 -nostdin -buff_size 4194304)
sipp_common=("${sipp_base[@]}" -set domain "$domain")

write_list() {  # file first last  (one extension a line)
    { echo SEQUENTIAL; seq "$2" "$3"; } >"$1"
}
write_pairs() {  # file callee_first caller_first count  ("callee;caller" lines)
    {
        echo SEQUENTIAL
        for i in $(seq 0 $(($4 - 1))); do echo "$(($2 + i));$(($3 + i))"; done
    } >"$1"
}

# Registers the extensions of `list` with Contact 127.0.0.1:uas_port, from that port.
register() {  # list count rate dir
    local dir=$4
    mkdir -p "$dir"
    (cd "$dir" && exec "${gen_run[@]}" timeout --kill-after=5 $(($2 / $3 + 60)) \
        sipp "127.0.0.1:$server_port" -sf "$scen/register.xml" "${sipp_common[@]}" \
        -inf "$1" -set uas "$uas_port" -p "$uas_port" -m "$2" -r "$3" -l "$2" \
        -recv_timeout 5000 -trace_stat -stf stat.csv -fd 1 -trace_err -error_file err.log) \
        >/dev/null 2>&1
    local figures
    figures=$(sipp_figures "$dir/stat.csv")
    read_figures "$figures" reg_
    if [ "${reg_ok:-0}" -ne "$2" ]; then
        echo "registration: only ${reg_ok:-0} of $2 registered ($server_kind)" >&2
        head -5 "$dir/err.log" >&2 2>/dev/null
        return 1
    fi
}

# One watcher per callee, held by one sipp until the server stops.
start_watchers() {  # list count
    local dir=$server_dir/watchers
    mkdir -p "$dir"
    local wport
    wport=$(free_port)
    (cd "$dir" && exec "${gen_run[@]}" timeout --kill-after=5 7200 \
        sipp "127.0.0.1:$server_port" -sf "$scen/watcher.xml" "${sipp_common[@]}" \
        -inf "$1" -p "$wport" -m "$2" -l "$2" -r 200 \
        -trace_counts -fd 1 -trace_err -error_file err.log) >/dev/null 2>&1 &
    watcher_pid=$!
    pids+=("$watcher_pid")
    watcher_counts=
    # Subscribed once every subscription has had its first NOTIFY (RFC 6665 §4.1.2.2).
    for _ in $(seq 300); do
        sleep 0.1
        [ -n "$watcher_counts" ] || watcher_counts=$(ls "$dir"/*_counts.csv 2>/dev/null | head -1)
        [ -n "$watcher_counts" ] || continue
        read_figures "$(sipp_figures /dev/null "$watcher_counts")" w_
        [ "${w_notifies:-0}" -ge "$2" ] && return 0
    done
    echo "watchers: only ${w_notifies:-0} first NOTIFYs for $2 subscriptions" >&2
    return 1
}
watcher_notifies() {
    [ -n "${watcher_counts:-}" ] || { echo 0; return; }
    read_figures "$(sipp_figures /dev/null "$watcher_counts")" w_
    echo "${w_notifies:-0}"
}

# --- one step of the ramp --------------------------------------------------------------
rows=()
step() {  # rate  → sets step_pass (1/0)
    local rate=$1
    local calls=$((rate * step_seconds))
    [ "$calls" -lt "$min_calls" ] && calls=$min_calls
    local dir
    dir=$server_dir/step-$rate-$(date +%s%N)
    mkdir -p "$dir"
    local run_limit=$((calls / rate + 60))
    (cd "$dir" && exec "${gen_run[@]}" timeout --kill-after=5 $((run_limit + 30)) \
        sipp -sf "$scen/uas.xml" "${sipp_base[@]}" -p "$uas_port" \
        -recv_timeout 10000 -trace_stat -stf uas_stat.csv -fd 1 -trace_err -error_file uas.err) \
        >/dev/null 2>&1 &
    local uas_pid=$!
    pids+=("$uas_pid")
    wait_bound "$uas_port" || { echo "callee sipp did not start" >&2; kill "$uas_pid"; return 1; }
    local uac_port
    uac_port=$(free_port)
    local notifies0 ticks0 t0 ticks1 t1
    notifies0=$(watcher_notifies)
    ticks0=$(server_ticks)
    local gen0
    gen0=$(gen_jiffies)
    t0=$(date +%s%N)
    (cd "$dir" && exec "${gen_run[@]}" timeout --kill-after=5 $((run_limit + 30)) \
        sipp "127.0.0.1:$server_port" -sf "$scen/uac.xml" "${sipp_common[@]}" \
        -inf "$calls_csv" -p "$uac_port" -d "$hold_ms" -r "$rate" -m "$calls" -l 1000000 \
        -recv_timeout 5000 -timeout "$run_limit" -timeout_error \
        -trace_stat -stf uac_stat.csv -fd 1 -trace_counts -trace_err -error_file uac.err \
        -trace_screen -screen_file uac.screen) >"$dir/uac.out" 2>&1
    local uac_status=$?
    t1=$(date +%s%N)
    ticks1=$(server_ticks)
    local gen1
    gen1=$(gen_jiffies)
    # The callee has answered everything it will: its retransmission and BYE windows
    # are over once the caller is done (a count -m would end it early: sipp counts a
    # stray ACK as a call).
    sleep 0.5
    kill "$uas_pid" 2>/dev/null
    wait "$uas_pid" 2>/dev/null
    sleep 1.2  # the watcher's counts are written every second
    local notifies1
    notifies1=$(watcher_notifies)

    read_figures "$(sipp_figures "$dir/uac_stat.csv" \
        "$(ls "$dir"/uac_*_counts.csv 2>/dev/null | head -1)" "$calls")" c_
    local failed=$((calls - c_ok))
    local cpu per_call_cpu gen per_call_notifies verdict
    cpu=$(python3 -c "print(f'{($ticks1 - $ticks0) / $clk_tck * 1e11 / max($t1 - $t0, 1):.0f}')")
    per_call_cpu=$(python3 -c "print(f'{($ticks1 - $ticks0) / $clk_tck * 1e6 / max($c_ok, 1):.0f}')")
    gen=$(python3 -c "b0, t0, b1, t1 = map(int, '$gen0 $gen1'.split()); print(f'{(b1 - b0) * 100 / max(t1 - t0, 1):.0f}')")
    per_call_notifies=$(python3 -c "print(f'{($notifies1 - $notifies0) / max($calls, 1):.2f}')")
    step_pass=1
    verdict=ok
    # sipp: 0 every call good, 1 some failed; anything else it did not finish normally.
    [ "$uac_status" -le 1 ] || verdict="ok (caller sipp exit status $uac_status)"
    if [ $((failed * 1000)) -ge "$calls" ]; then
        step_pass=0
        verdict="FAIL (>= 0.1 %)"
    elif [ "$c_fivexx" -gt 0 ]; then
        step_pass=0
        verdict="FAIL (5xx)"
    elif [ $((c_offered * 10)) -lt $((rate * 9)) ]; then
        step_pass=0
        verdict="FAIL (offered < 90 %)"
    elif [ -n "${watcher_counts:-}" ] && [ $(((notifies1 - notifies0) * 2)) -lt "$calls" ]; then
        # The scenario has one watcher per callee: calls whose callee's watcher hears
        # nothing are not the scenario measured (fewer than one NOTIFY per two calls).
        step_pass=0
        verdict="FAIL (watchers not notified)"
    fi
    local row
    row=$(printf '%-17s %5d %7d %6d %6d %6.2f %8s %7d %8s %6s%% %7s %6s%% %8s  %s' \
        "$server_kind" "$rate" "$c_offered" "$calls" "$failed" \
        "$(python3 -c "print($failed * 100 / $calls)")" "$c_refused_codes" "$c_retrans" \
        "$c_setup_ms" "$cpu" "$per_call_cpu" "$gen" "$per_call_notifies" "$verdict")
    echo "$row"
    rows+=("$row")
    last_cpu=$cpu
    last_gen=$gen
    if [ "$step_pass" = 1 ]; then best_us_per_call=$per_call_cpu; fi
    # After a failed step the server sheds what the overload left (transactions and
    # answered calls linger 64*T1 = 32 s) before the next step, the same for every server.
    if [ "$step_pass" = 1 ]; then sleep 2; else sleep "$recover"; fi
}
header() {
    printf '%-17s %5s %7s %6s %6s %6s %8s %7s %8s %7s %7s %7s %8s  %s\n' server rate offered \
        calls failed 'fail%' refusals retrans setup_ms srv_cpu us/call gen_cpu notify/c result
}

# The ramp and bisection on a server already started; prints the highest rate passed.
ramp() {
    local good=0 bad=0 rate
    for rate in $rates; do
        step "$rate" || return 1
        if [ "$step_pass" = 1 ]; then good=$rate; else bad=$rate; bad_cpu=$last_cpu; bad_gen=$last_gen; break; fi
    done
    if [ "$bad" -gt 0 ]; then
        local i mid
        for i in $(seq "$bisect"); do
            mid=$(((good + bad) / 2 / 25 * 25))
            { [ "$mid" -le "$good" ] || [ "$mid" -ge "$bad" ]; } && break
            step "$mid" || return 1
            if [ "$step_pass" = 1 ]; then good=$mid; else bad=$mid; bad_cpu=$last_cpu; bad_gen=$last_gen; fi
            : "$i"
        done
    fi
    best_rate=$good
    if [ "$bad" = 0 ]; then
        best_note="(every step passed: the ramp's end, not the server's)"
    else
        best_note="(fails at $bad, where the server used ${bad_cpu:-?} % of its CPU and the"
        best_note="$best_note sipp CPUs were ${bad_gen:-?} % busy)"
    fi
}

rate_run() {  # kind → sets <kind>_cps
    local kind=$1
    echo
    echo "=== $kind: calls per second ==="
    load
    # Callees 20001.., callers right after them: one [users] range for both.
    local callee0=20001 caller0=$((20001 + callees))
    start_server "$kind" "$callee0" $((caller0 + callees - 1)) || return 1
    uas_port=$(free_port)
    local lists=$server_dir/lists
    mkdir -p "$lists"
    write_list "$lists/callees.csv" "$callee0" $((callee0 + callees - 1))
    calls_csv=$lists/calls.csv
    write_pairs "$calls_csv" "$callee0" "$caller0" "$callees"
    register "$lists/callees.csv" "$callees" 200 "$server_dir/register" || { stop_server; return 1; }
    watcher_counts=
    watcher_pid=
    local watched="no watchers (no presence module to serve them)"
    if [ "$kind" != kamailio ]; then
        start_watchers "$lists/callees.csv" "$callees" || { stop_server; return 1; }
        watched="$callees watchers subscribed (one per callee)"
    fi
    echo "$kind on udp:127.0.0.1:$server_port (pid $server_pid); $callees callees registered;" \
        "$watched; callers $caller0-$((caller0 + callees - 1)) (caller i calls callee i);" \
        "hold ${hold_ms} ms"
    header
    best_rate=0
    best_note=
    best_us_per_call=
    bad_cpu=
    bad_gen=
    ramp
    local status=$?
    server_problems
    [ -n "${watcher_pid:-}" ] && kill "$watcher_pid" 2>/dev/null
    stop_server
    echo "$kind: highest rate with < 0.1 % failed calls: $best_rate calls/s $best_note"
    printf -v "result_${kind//-/_}" '%s' "$best_rate"
    printf -v "us_${kind//-/_}" '%s' "$best_us_per_call"
    [ -n "$best_us_per_call" ] &&
        echo "$kind: server CPU per call at $best_rate calls/s: $best_us_per_call us" \
            "(one CPU at 100 %: about $((1000000 / best_us_per_call)) calls/s)"
    return $status
}

# --- memory ------------------------------------------------------------------------------
mem_run() {  # kind
    local kind=$1
    local half=$((users / 2))
    local first=10001
    local last=$((10000 + users))
    echo
    echo "=== $kind: memory per registered user and per active dialog ==="
    load
    start_server "$kind" "$first" "$last" || return 1
    uas_port=$(free_port)
    local dir=$server_dir/memory
    mkdir -p "$dir"
    write_list "$dir/wave1.csv" "$first" $((first + half - 1))
    write_list "$dir/wave2.csv" $((first + half)) "$last"
    sleep 1
    local m0 m1 m2 m3 m4
    m0=$(server_memory)
    register "$dir/wave1.csv" "$half" 200 "$dir/reg1" || { stop_server; return 1; }
    sleep "$settle"
    m1=$(server_memory)
    register "$dir/wave2.csv" "$half" 200 "$dir/reg2" || { stop_server; return 1; }
    sleep "$settle"
    m2=$(server_memory)

    # Calls held open: wave 1 callers first..+D call first+2D..; wave 2 the next ones.
    (cd "$dir" && exec "${gen_run[@]}" timeout --kill-after=5 7200 \
        sipp -sf "$scen/uas.xml" "${sipp_base[@]}" -p "$uas_port" -m $((2 * dialogs)) \
        -trace_err -error_file uas_err.log) >/dev/null 2>&1 &
    local phones=("$!")
    pids+=("$!")
    wait_bound "$uas_port" || { echo "callee sipp did not start" >&2; stop_server; return 1; }
    local wave
    for wave in 1 2; do
        local base=$((first + (wave - 1) * 2 * dialogs))
        write_pairs "$dir/calls$wave.csv" $((base + dialogs)) "$base" "$dialogs"
        mkdir -p "$dir/calls$wave"
        (cd "$dir/calls$wave" && exec "${gen_run[@]}" timeout --kill-after=5 7200 \
            sipp "127.0.0.1:$server_port" -sf "$scen/uac.xml" "${sipp_common[@]}" \
            -inf "$dir/calls$wave.csv" -p "$(free_port)" -d 3600000 -r 100 -m "$dialogs" \
            -l "$dialogs" -trace_counts -fd 1 -trace_err -error_file err.log) \
            >/dev/null 2>&1 &
        phones+=("$!")
        pids+=("$!")
        # Every call answered and ACKed (the ACK column of the caller's counts).
        local acked=0 counts=
        for _ in $(seq $((dialogs / 10 + 300))); do
            sleep 0.2
            [ -n "$counts" ] || counts=$(ls "$dir/calls$wave"/*_counts.csv 2>/dev/null | head -1)
            [ -n "$counts" ] || continue
            acked=$(python3 - "$counts" <<'EOF'
import sys
lines = [l.rstrip("\n") for l in open(sys.argv[1]) if l.strip()]
row = dict(zip(lines[0].split(";"), lines[-1].split(";"))) if len(lines) > 1 else {}
print(sum(int(v or 0) for k, v in row.items() if k.endswith("_ACK_Sent")))
EOF
)
            [ "$acked" -ge "$dialogs" ] && break
        done
        if [ "$acked" -lt "$dialogs" ]; then
            echo "memory: only $acked of $dialogs calls of wave $wave answered" >&2
            kill "${phones[@]}" 2>/dev/null
            stop_server
            return 1
        fi
        sleep "$settle"
        if [ "$wave" = 1 ]; then m3=$(server_memory); else m4=$(server_memory); fi
    done
    server_problems
    kill "${phones[@]}" 2>/dev/null
    wait "${phones[@]}" 2>/dev/null
    stop_server
    local what="VmRSS"
    [ "$kind" = switchboard ] || what="shm real_used"
    echo "$what: ${m0} B with $users users provisioned, none registered;" \
        "${m1} B after $half registered; ${m2} B after $users registered;" \
        "${m3} B with $dialogs calls held; ${m4} B with $((2 * dialogs)) calls held"
    python3 - "$kind" "$m0" "$m1" "$m2" "$m3" "$m4" "$half" "$dialogs" <<'EOF'
import sys
kind = sys.argv[1]
m0, m1, m2, m3, m4, half, dialogs = (int(x) for x in sys.argv[2:])
prefix = "" if kind == "switchboard" else "kamailio_"
print(f"{kind}: first wave {(m1 - m0) / half:.0f} B/user, {(m3 - m2) / dialogs:.0f} B/dialog "
      f"(with the allocator's growth for the waves' transactions)")
print(f"{prefix}bytes_per_registered_user={(m2 - m1) / half:.0f}")
print(f"{prefix}bytes_per_active_dialog={(m4 - m3) / dialogs:.0f}")
EOF
}

# --- the run -----------------------------------------------------------------------------
out=$work/out
mkdir -p "$out"
echo "Proxy benchmark: sipp $(sipp -v 2>/dev/null | grep -o 'v[0-9][0-9.]*' | head -1)," \
    "$(/usr/sbin/kamailio -v 2>/dev/null | head -1 | cut -d' ' -f1-3), switchboard $switchboard"
echo "machine: $ncpu CPUs, $(awk '/MemTotal/ { print int($2 / 1024) " MB" }' /proc/meminfo);" \
    "$placement"
echo "UDP on 127.0.0.1; INVITE/100/180/200/ACK, hold ${hold_ms} ms, BYE/200;" \
    "steps of max($min_calls, rate x $step_seconds s) calls"
echo "columns: rate = sipp -r; offered = calls/s sipp created; failed = calls not completed" \
    "successfully; refusals = final answers to the INVITE other than 200 (code x count);" \
    "retrans = the caller's retransmissions; setup_ms = mean INVITE-to-200 time;" \
    "srv_cpu = the server's CPU time (user+system) over the step, % of one CPU;" \
    "us/call = server CPU microseconds per completed call; gen_cpu = busy % of the sipp CPU(s)," \
    "whoever used them; notify/c = NOTIFYs the watchers answered per call" | fold -s -w 92
load
status=0
if [ "$do_rate" = 1 ]; then
    for kind in $servers; do
        rate_run "$kind" || status=1
    done
fi
if [ "$do_memory" = 1 ]; then
    for kind in $servers; do
        [ "$kind" = kamailio-presence ] && continue
        mem_run "$kind" > >(tee "$out/mem-$kind.txt") || status=1
    done
fi

echo
echo "=== Summary (issue 4 target: ratio >= 1.0) ==="
load
echo "$placement; the sipps' share of the CPUs limits what any server can be offered."
if [ "$do_rate" = 1 ]; then
    header
    for row in "${rows[@]}"; do echo "$row"; done
    sb=${result_switchboard:-}
    k=${result_kamailio:-}
    kp=${result_kamailio_presence:-}
    ratio() { python3 -c "print(f'{$1 / $2:.2f}' if $2 else 'NA')"; }
    [ -n "$sb" ] && echo "switchboard_cps=$sb"
    [ -n "$k" ] && echo "kamailio_cps=$k"
    [ -n "$sb" ] && [ -n "$k" ] && echo "ratio=$(ratio "$sb" "$k")"
    [ -n "$kp" ] && echo "kamailio_presence_cps=$kp"
    [ -n "$sb" ] && [ -n "$kp" ] && echo "ratio_vs_presence=$(ratio "$sb" "$kp")"
    # The same comparison by CPU cost, which the load generator does not bound: server
    # CPU microseconds per call at each server's highest good rate.
    usb=${us_switchboard:-}
    uk=${us_kamailio:-}
    ukp=${us_kamailio_presence:-}
    [ -n "$usb" ] && echo "switchboard_cpu_us_per_call=$usb"
    [ -n "$uk" ] && echo "kamailio_cpu_us_per_call=$uk"
    [ -n "$ukp" ] && echo "kamailio_presence_cpu_us_per_call=$ukp"
    [ -n "$usb" ] && [ -n "$uk" ] && echo "cpu_ratio=$(ratio "$uk" "$usb")  (kamailio/switchboard CPU per call)"
    [ -n "$usb" ] && [ -n "$ukp" ] &&
        echo "cpu_ratio_vs_presence=$(ratio "$ukp" "$usb")  (kamailio-presence/switchboard)"
fi
if [ "$do_memory" = 1 ]; then
    cat "$out"/mem-*.txt 2>/dev/null | grep '^[a-z_]*bytes_per_[a-z_]*='
fi
exit $status
