#!/bin/bash
# How many NOTIFYs per second this machine's Kamailio presence server EMITS for a
# one-dialog dialog-info body: the rate a console must keep up with (issue 3).
#
# A private Kamailio (tests/integration/kamailio/presence.cfg, no auth) on 127.0.0.1 at a
# free port; ENTITIES dialog-info entities, each watched by WATCHERS subscriptions
# (RFC 6665, Event: dialog) held by one sipp process that answers every NOTIFY 200; one
# sipp publisher per entity that PUBLISHes (RFC 3903) a one-dialog document, then
# modifies it (SIP-If-Match) as fast as the answers come back, for SECONDS. Every
# modification makes presence NOTIFY the entity's watchers with the whole (one-dialog)
# document. Counted: the 2xx answers Kamailio received during the publishing window
# (core:rcv_replies_2xx through kamcmd): here only NOTIFYs get answered to Kamailio, so
# that is the number of NOTIFYs it emitted and that reached a watcher.
# Kamailio logs at --debug=1 (presence logs every NOTIFY at INFO, which would measure
# its logging) and gets 2 GB of shared memory (transactions and publications pile up
# faster than its timers free them at this rate).
#
# Usage: tests/bench/kamailio_notify_rate.sh [SECONDS=10] [ENTITIES=4] [WATCHERS=25]
# Needs: kamailio, kamcmd (package kamailio), kamailio-presence-modules, sipp (sip-tester).
# Last line: kamailio_notify_emit_per_s=<N>. Everything it starts is stopped by PID.
set -u
seconds=${1:-10}
entities=${2:-4}
watchers=${3:-25}
domain=switchboard.test
here=$(cd "$(dirname "$0")" && pwd)
config=$here/../integration/kamailio/presence.cfg

for tool in /usr/sbin/kamailio kamcmd sipp python3 ss timeout; do
    command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 2; }
done

work=$(mktemp -d /tmp/sb-notify-rate-XXXXXX)
pids=()
kamailio_pid=
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
    [ -n "$kamailio_pid" ] && kill "$kamailio_pid" 2>/dev/null
    wait 2>/dev/null
    [ -n "${SB_KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
# A signal (Ctrl-C, a closed pipe, a harness timeout) ends it through the EXIT trap too.
trap "exit 130" INT TERM HUP PIPE

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
udp_bound() { ss -Hlun "sport = :$1" | grep -q .; }
stat_of() {  # a core statistic by its bare name (kamcmd wants no "core:" prefix)
    kamcmd -s "unix:$work/kamailio_ctl" stats.get_statistics "$1" |
        awk -F' = ' -v name="core:$1" '$1 == name { print $2 }'
}

# --- Kamailio --------------------------------------------------------------------------
mkdir -p "$work/db"
for t in version subscriber location presentity active_watchers watchers pua; do
    cp "/usr/share/kamailio/dbtext/kamailio/$t" "$work/db/" && chmod 600 "$work/db/$t"
done
port=$(free_port)
/usr/sbin/kamailio -DD -E -f "$config" -Y "$work" -P "$work/kamailio.pid" -w "$work" \
    -m 2048 -M 16 --debug=1 \
    --substdef="!SBPORT!$port!" --substdef="!SBRUNDIR!$work!" \
    --substdef="!SBDBURL!text://$work/db!" --substdef="!SBDOMAIN!$domain!" \
    --substdef='!SBMINEXP!1!' --substdef='!SBMAXEXP!3600!' >"$work/kamailio.log" 2>&1 &
kamailio_pid=$!
for _ in $(seq 200); do
    udp_bound "$port" && [ -S "$work/kamailio_ctl" ] && break
    sleep 0.05
done
udp_bound "$port" || { echo "kamailio did not start:" >&2; tail -20 "$work/kamailio.log" >&2; exit 1; }

# --- scenarios (bench only) ------------------------------------------------------------
# Entity k of the run is sip:bench<k>@domain; both sipp runs read it from one CSV.
{
    echo SEQUENTIAL
    for k in $(seq 1 "$entities"); do echo "bench$k"; done
} >"$work/entities.csv"

# A watcher: SUBSCRIBE, then answer NOTIFYs forever (the 200 to the SUBSCRIBE may come
# after the first NOTIFY: both are accepted at the loop head).
cat >"$work/watcher.xml" <<'EOF'
<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="bench watcher">
  <Global variables="domain" />
  <send retrans="500">
    <![CDATA[
      SUBSCRIBE sip:[field0]@[$domain] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: <sip:watcher[call_number]@[$domain]>;tag=[pid]W[call_number]
      To: <sip:[field0]@[$domain]>
      Call-ID: [call_id]
      CSeq: 1 SUBSCRIBE
      Contact: <sip:watcher[call_number]@[local_ip]:[local_port]>
      Event: dialog
      Accept: application/dialog-info+xml
      Expires: 3600
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <label id="loop"/>
  <recv response="200" optional="true" next="loop"/>
  <recv request="NOTIFY"/>
  <send next="loop">
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
</scenario>
EOF

# A publisher: the initial PUBLISH, then modifications with SIP-If-Match (RFC 3903 §4.4)
# one after the other, each one the same one-dialog document (Kamailio NOTIFYs anyway).
# Each PUBLISH is a new transaction: its own Via branch ([branch] would repeat in a
# loop, and Kamailio would take the next PUBLISH for a retransmission). Should a
# modification get 412 (the publication is gone), the publisher starts a new one.
body='<?xml version="1.0"?>
<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="1" state="full" entity="sip:[field0]@[$domain]">
  <dialog id="d1" call-id="c1@127.0.0.1" local-tag="lt1" remote-tag="rt1" direction="recipient">
    <state>confirmed</state>
    <remote><identity display="Bob">sip:202@[$domain]</identity><target uri="sip:202@127.0.0.1:5072"/></remote>
    <local><identity>sip:[field0]@[$domain]</identity><target uri="sip:[field0]@127.0.0.1:5071"/></local>
  </dialog>
</dialog-info>'
publish() {  # CSeq, extra header line, optional recv before the 200
    cat <<EOF
  <send retrans="500">
    <![CDATA[
      PUBLISH sip:[field0]@[\$domain] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=z9hG4bK-[pid]-[call_number]-p[cseq];rport
      From: <sip:[field0]@[\$domain]>;tag=[pid]P[call_number]
      To: <sip:[field0]@[\$domain]>
      Call-ID: [call_id]
      CSeq: $1 PUBLISH
      Event: dialog
      Expires: 3600
      $2
      Max-Forwards: 70
      Content-Type: application/dialog-info+xml
      Content-Length: [len]

$body
    ]]>
  </send>
  ${3:-}
  <recv response="200">
    <action>
      <ereg regexp="[^ ]+" search_in="hdr" header="SIP-ETag:" assign_to="etag" />
    </action>
  </recv>
EOF
}
{
    cat <<'EOF'
<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="bench publisher">
  <Global variables="domain" />
EOF
    echo '  <label id="initial"/>'
    publish '[cseq]' "User-Agent: sb-bench"
    echo '  <label id="again"/>'
    publish '[cseq]' 'SIP-If-Match: [$etag]' '<recv response="412" optional="true" next="initial"/>'
    echo '  <nop next="again"/>'
    echo '</scenario>'
} >"$work/publisher.xml"

sipp_common=(-i 127.0.0.1 -nostdin -set domain "$domain" -inf "$work/entities.csv")

# --- watchers: ENTITIES x WATCHERS subscriptions from one sipp ---------------------------
subs=$((entities * watchers))
wport=$(free_port)
timeout --kill-after=5 $((seconds + 120)) sipp "127.0.0.1:$port" -sf "$work/watcher.xml" \
    "${sipp_common[@]}" -p "$wport" -m "$subs" -l "$subs" -r 200 \
    -trace_err -error_file "$work/watcher.err" -trace_screen -screen_file "$work/watcher.screen" \
    >/dev/null 2>&1 &
watcher_pid=$!
pids+=("$watcher_pid")
# All subscribed once Kamailio has had every SUBSCRIBE answered and NOTIFYed (each
# subscription's first NOTIFY is answered: rcv_replies_2xx reaches the count).
for _ in $(seq 600); do
    n=$(stat_of rcv_replies_2xx)
    [ "${n:-0}" -ge "$subs" ] && break
    sleep 0.05
done
echo "subscriptions: $subs ($entities entities x $watchers watchers); answered first NOTIFYs: ${n:-0}"

# --- publishing window -----------------------------------------------------------------
pport=$(free_port)
before=$(stat_of rcv_replies_2xx)
start_ns=$(date +%s%N)
timeout --kill-after=5 $((seconds + 30)) sipp "127.0.0.1:$port" -sf "$work/publisher.xml" \
    "${sipp_common[@]}" -p "$pport" -m "$entities" -l "$entities" -r 1000 \
    -trace_err -error_file "$work/publisher.err" >/dev/null 2>&1 &
publisher_pid=$!
pids+=("$publisher_pid")
sleep "$seconds"
after=$(stat_of rcv_replies_2xx)
end_ns=$(date +%s%N)
shm_used=$(kamcmd -s "unix:$work/kamailio_ctl" core.shmmem m | awk '$1 == "used:" { print $2 }')
kill "$publisher_pid" 2>/dev/null
wait "$publisher_pid" 2>/dev/null
publishes=$(stat_of rcv_requests_publish)

elapsed_ms=$(( (end_ns - start_ns) / 1000000 ))
notifies=$((after - before))
rate=$((notifies * 1000 / elapsed_ms))
echo "window: ${elapsed_ms} ms; NOTIFYs answered 200 to Kamailio: $notifies;" \
    "PUBLISHes received in total: ${publishes:-?}"
echo "per PUBLISH: up to $watchers NOTIFYs (one per watcher of its entity);" \
    "Kamailio shared memory used at the end: ${shm_used:-?} MB of 2048"
if grep -q "ERROR" "$work/kamailio.log"; then
    echo "Kamailio reported errors (first lines):"
    grep -m 5 "ERROR" "$work/kamailio.log"
fi
kill "$watcher_pid" 2>/dev/null
wait "$watcher_pid" 2>/dev/null
if [ -s "$work/publisher.err" ] && grep -q "Aborting\|unexpected" "$work/publisher.err"; then
    echo "publisher errors (first lines):"
    head -5 "$work/publisher.err"
fi
echo "kamailio_notify_emit_per_s=$rate"
