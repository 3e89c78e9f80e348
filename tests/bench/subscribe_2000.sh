#!/bin/bash
# How long `switchboard --headless` takes to subscribe a board of EXTENSIONS (2,000)
# against Kamailio's presence server at the default pacing ([subscriptions] rate, 50/s):
# seconds from the `started` event until every `subscription` event of the board is
# `active` (issue 3 target: < 60 s), and switchboard's peak resident memory (VmHWM).
#
# A private Kamailio (tests/integration/kamailio/presence.cfg, no auth, as
# kamailio_notify_rate.sh starts it) on 127.0.0.1 at a free port with its own runtime
# dir; Switchboard registers sip:operator@switchboard.test there, then SUBSCRIBEs
# (Event: dialog) to sip:<n>@switchboard.test for n in 3000.. — presence accepts a
# subscription to any URI of its domain (no phone needs to exist: it NOTIFYs an empty
# body, RFC 6665 §4.1.3). Everything it starts is stopped by PID.
#
# Usage: tests/bench/subscribe_2000.sh [EXTENSIONS=2000] [RATE=default]
#   SWITCHBOARD=path/to/switchboard (default: $SB_BENCH_BUILD_DIR or build/bench, app/)
# Last lines: subscribe_all_active_s=<S> and switchboard_vmhwm_kb=<KB>.
set -u
extensions=${1:-2000}
rate=${2:-}
domain=switchboard.test
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
config=$root/tests/integration/kamailio/presence.cfg
build=${SB_BENCH_BUILD_DIR:-$root/build/bench}
switchboard=${SWITCHBOARD:-$build/app/switchboard}

for tool in /usr/sbin/kamailio kamcmd python3 ss "$switchboard"; do
    command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 2; }
done

work=$(mktemp -d /tmp/sb-subscribe-XXXXXX)
kamailio_pid=
# shellcheck disable=SC2317  # called through the trap
cleanup() {
    [ -n "$kamailio_pid" ] && kill "$kamailio_pid" 2>/dev/null
    wait 2>/dev/null
    [ -n "${SB_KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
udp_bound() { ss -Hlun "sport = :$1" | grep -q .; }

mkdir -p "$work/db"
for t in version subscriber location presentity active_watchers watchers pua; do
    cp "/usr/share/kamailio/dbtext/kamailio/$t" "$work/db/" && chmod 600 "$work/db/$t"
done
port=$(free_port)
/usr/sbin/kamailio -DD -E -f "$config" -Y "$work" -P "$work/kamailio.pid" -w "$work" \
    -m 512 -M 16 --debug=1 \
    --substdef="!SBPORT!$port!" --substdef="!SBRUNDIR!$work!" \
    --substdef="!SBDBURL!text://$work/db!" --substdef="!SBDOMAIN!$domain!" \
    --substdef='!SBMINEXP!1!' --substdef='!SBMAXEXP!3600!' >"$work/kamailio.log" 2>&1 &
kamailio_pid=$!
for _ in $(seq 200); do
    udp_bound "$port" && [ -S "$work/kamailio_ctl" ] && break
    sleep 0.05
done
udp_bound "$port" || { echo "kamailio did not start:" >&2; tail -20 "$work/kamailio.log" >&2; exit 1; }

{
    echo "[account]"
    echo "aor = sip:operator@$domain"
    echo "proxy = 127.0.0.1:$port"
    echo "transport = udp"
    echo "[sip]"
    echo "listen = udp:127.0.0.1:0"
    echo "[subscriptions]"
    [ -n "$rate" ] && echo "rate = $rate"
    echo "[monitor]"
    for i in $(seq 0 $((extensions - 1))); do
        echo "$((3000 + i)) = Person $((3000 + i)), Team $((i / 50 + 1))"
    done
} >"$work/switchboard.ini"

echo "kamailio presence on udp:127.0.0.1:$port (pid $kamailio_pid); $extensions extensions," \
    "rate ${rate:-default (50/s)}"
python3 - "$switchboard" "$work/switchboard.ini" "$extensions" <<'EOF'
import json, os, subprocess, sys, time, select

binary, ini, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
proc = subprocess.Popen([binary, "--headless", "--config", ini],
                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                        stderr=open(ini + ".stderr", "w"), bufsize=0)
state = {}
started = registered = None
active_at = None
first_active = None
hwm = 0
counts = {}
deadline = time.monotonic() + 180

def vmhwm(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0

def handle(line, now):
    global started, registered, first_active, active_at
    event = json.loads(line)
    kind = event.get("event")
    if kind == "started":
        started = now
    elif kind == "registration":
        if event.get("state") == "registered" and registered is None:
            registered = now
        elif event.get("state") == "failed":
            print("registration failed:", line.strip())
    elif kind == "subscription":
        state[event["extension"]] = event["state"]
        counts[event["state"]] = counts.get(event["state"], 0) + 1
        if event["state"] == "active" and first_active is None:
            first_active = now
        if event["state"] in ("unavailable", "retrying") and counts[event["state"]] <= 3:
            print("subscription problem:", line.strip())
        if event["state"] == "active" and active_at is None:
            if sum(1 for s in state.values() if s == "active") == count:
                active_at = now

fd = proc.stdout.fileno()
pending = b""
try:
    while time.monotonic() < deadline and active_at is None:
        ready, _, _ = select.select([fd], [], [], 0.5)
        hwm = max(hwm, vmhwm(proc.pid))
        if not ready:
            if proc.poll() is not None:
                break
            continue
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        now = time.monotonic()
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            if line.strip():
                handle(line.decode(), now)
    hwm = max(hwm, vmhwm(proc.pid))
finally:
    if proc.poll() is None:
        try:
            proc.stdin.write(b'{"cmd":"quit"}\n')
            proc.stdin.flush()
            proc.wait(timeout=20)
        except Exception:
            proc.kill()
            proc.wait()

active = sum(1 for s in state.values() if s == "active")
if started is None:
    print("switchboard did not start; stderr:", open(ini + ".stderr").read()[-2000:])
    sys.exit(1)
print(f"registered {registered - started:.2f} s after started" if registered else "never registered")
print(f"first active {first_active - started:.2f} s after started" if first_active else "none active")
print("subscription events by state:", json.dumps(counts, sort_keys=True))
if active_at is None:
    print(f"NOT all active: {active} of {count} after {time.monotonic() - started:.1f} s")
    print("subscribe_all_active_s=NA")
else:
    print(f"all {count} subscriptions active {active_at - started:.2f} s after started "
          f"({count / (active_at - started):.1f}/s overall)")
    print(f"subscribe_all_active_s={active_at - started:.2f}")
print(f"switchboard exit status {proc.returncode}")
print(f"switchboard_vmhwm_kb={hwm}")
EOF
status=$?
if grep -q "ERROR" "$work/kamailio.log"; then
    echo "Kamailio reported errors (first lines):"
    grep -m 5 "ERROR" "$work/kamailio.log"
fi
exit $status
