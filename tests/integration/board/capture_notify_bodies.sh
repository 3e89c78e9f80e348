#!/bin/bash
# Captures the dialog-info documents this machine's Kamailio (presence.cfg) really
# sends, for the parser tests in tests/unit/dialoginfo/captures/ (see the README there).
#
# A private Kamailio on 127.0.0.1 (free port, fresh db_text tables, digest auth), sipp
# phones 201-203 that register, and sipp watchers (watcher_dialog.xml, as user 200)
# subscribed to Event: dialog of 201, 202 and 203 while the phones play: a call answered
# and hung up, a call cancelled, a call refused busy, two calls at once on 203. Every
# NOTIFY body is written to OUT/<watched>-<nn>-<state summary>.xml (an empty file for a
# NOTIFY without body), with OUT/index.txt listing Subscription-State and version.
# Every process is stopped by PID.
#
# Usage: capture_notify_bodies.sh OUTDIR [WAIT_AFTER_CALLS_S]
set -u
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: $0 OUTDIR [WAIT_AFTER_CALLS_S]}
linger=${2:-20}
mkdir -p "$out"
work=$(mktemp -d /tmp/sb-capture-XXXXXX)
domain=switchboard.test
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
    [ -f "$work/kamailio.pid.own" ] && kill "$(cat "$work/kamailio.pid.own")" 2>/dev/null
    wait 2>/dev/null
    [ -n "${SB_KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
# A signal (Ctrl-C, a closed pipe, a harness timeout) ends it through the EXIT trap too.
trap "exit 130" INT TERM HUP PIPE

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
md5() { printf %s "$1" | md5sum | cut -d' ' -f1; }

mkdir -p "$work/db"
for t in version subscriber location presentity active_watchers watchers pua; do
    cp /usr/share/kamailio/dbtext/kamailio/$t "$work/db/" && chmod 600 "$work/db/$t"
done
id=1
for u in 200 201 202 203; do
    echo "$id:$u:$domain:pw$u:$(md5 "$u:$domain:pw$u"):$(md5 "$u@$domain:$domain:pw$u")" >>"$work/db/subscriber"
    id=$((id + 1))
done

port=$(free_port)
/usr/sbin/kamailio -DD -E -f "$here/../kamailio/presence.cfg" -Y "$work" -P "$work/kamailio.pid" \
    -w "$work" -m 64 -M 8 -A WITH_AUTH \
    --substdef="!SBPORT!$port!" --substdef="!SBRUNDIR!$work!" \
    --substdef="!SBDBURL!text://$work/db!" --substdef="!SBDOMAIN!$domain!" \
    --substdef='!SBMINEXP!1!' --substdef='!SBMAXEXP!3600!' >"$work/kamailio.log" 2>&1 &
echo $! >"$work/kamailio.pid.own"
for _ in $(seq 100); do
    ss -Hlun "sport = :$port" | grep -q . && break
    sleep 0.05
done

sipp_run() {  # name, then sipp arguments; waits for it
    local name=$1; shift
    timeout --kill-after=5 30 sipp "$@" -i 127.0.0.1 -nostdin -timeout 20s -timeout_error \
        -trace_msg -message_file "$work/$name.msg" -trace_err -error_file "$work/$name.err" \
        >/dev/null 2>&1
    local rc=$?
    [ $rc -eq 0 ] || echo "sipp $name failed ($rc): $(head -c 600 "$work/$name.err")" >&2
}
sipp_bg() {  # name, then sipp arguments; in the background, PID kept
    local name=$1; shift
    timeout --kill-after=5 120 sipp "$@" -i 127.0.0.1 -nostdin -timeout 110s -timeout_error \
        -trace_msg -message_file "$work/$name.msg" -trace_err -error_file "$work/$name.err" \
        >/dev/null 2>&1 &
    pids+=($!)
}
declare -A ports
for e in 201 202 203; do ports[$e]=$(free_port); done

for e in 201 202 203; do
    sipp_run "register-$e" "127.0.0.1:$port" -sf "$here/phone_register.xml" -p "${ports[$e]}" \
        -m 1 -s "$e" -au "$e" -ap "pw$e" -set domain "$domain"
done
total_ms=$(( (linger + 30) * 1000 ))
for e in 201 202 203; do
    sipp_bg "watch-$e" "127.0.0.1:$port" -sf "$here/watcher_dialog.xml" -p "$(free_port)" -m 1 \
        -s "$e" -set me 200 -set domain "$domain" -au 200 -ap pw200 -aa -d "$total_ms"
done
watchers=("${pids[@]}")
sleep 1

call() {  # label caller callee uas-scenario uac-scenario [uas args...]
    local label=$1 caller=$2 callee=$3 uas=$4 uac=$5; shift 5
    sipp_bg "$label-uas" -sf "$here/$uas" -p "${ports[$callee]}" -m 1 -set me "$callee" "$@"
    local uas_pid=$!
    for _ in $(seq 100); do ss -Hlun "sport = :${ports[$callee]}" | grep -q . && break; sleep 0.05; done
    sipp_run "$label-uac" "127.0.0.1:$port" -sf "$here/$uac" -p "${ports[$caller]}" -m 1 \
        -s "$callee" -set me "$caller" -set domain "$domain"
    wait "$uas_pid"
}
call answered 201 202 uas_answer.xml uac_call.xml -d 1500
sleep 1
call cancelled 201 202 uas_ring_cancelled.xml uac_cancel.xml
sleep 1
call busy 201 202 uas_busy.xml uac_call.xml
sleep 1
# Two calls at once on 203: 201 calls, 203 answers and talks 6 s; 202 calls meanwhile.
sipp_bg two-uas -sf "$here/uas_answer.xml" -p "${ports[203]}" -m 2 -set me 203 -d 6000
two_uas=$!
for _ in $(seq 100); do ss -Hlun "sport = :${ports[203]}" | grep -q . && break; sleep 0.05; done
sipp_bg two-uac1 "127.0.0.1:$port" -sf "$here/uac_call.xml" -p "${ports[201]}" -m 1 -s 203 \
    -set me 201 -set domain "$domain"
sleep 2.5
sipp_run two-uac2 "127.0.0.1:$port" -sf "$here/uac_call.xml" -p "${ports[202]}" -m 1 -s 203 \
    -set me 202 -set domain "$domain"
wait "$two_uas"
# Let publications expire (does a body-less document follow?), then the watchers
# unsubscribe on their own (the last NOTIFY: Subscription-State terminated).
for pid in "${watchers[@]}"; do wait "$pid"; done

python3 - "$work" "$out" <<'PY'
import os, re, sys
work, out = sys.argv[1], sys.argv[2]
index = []
for e in ("201", "202", "203"):
    text = open(os.path.join(work, f"watch-{e}.msg"), errors="replace").read()
    n = 0
    for block in text.split("-----------------------------------------------"):
        lines = block.split("\n", 2)
        if len(lines) < 3 or "message received" not in lines[1] or "\nNOTIFY " not in block:
            continue
        msg = block[block.index("NOTIFY "):]
        head, _, body = msg.partition("\n\n")
        cl = int(re.search(r"(?im)^Content-Length:\s*(\d+)", head).group(1))
        body = body[:cl] if cl else ""
        state = re.search(r"(?im)^Subscription-State:\s*(.*)$", head).group(1).strip()
        states = re.findall(r"<state[^>]*>([^<]*)</state>", body)
        version = re.search(r'version="(\d+)"', body)
        n += 1
        summary = "-".join(s.lower() for s in states) if states else "nobody"
        name = f"{e}-{n:02d}-{summary}.xml"
        with open(os.path.join(out, name), "w") as f:
            f.write(body)
        index.append(f"{name}\tSubscription-State: {state}\tversion={version.group(1) if version else '-'}"
                     f"\tdialogs={len(states)}")
with open(os.path.join(out, "index.txt"), "w") as f:
    f.write("\n".join(index) + "\n")
print("\n".join(index))
PY
