#!/usr/bin/env python3
"""How fast the operator's actions reach the wire (issue 7, README.md "Attendant benchmark").

The built-in server holds CALLS calls ringing at once, spread over EXTENSIONS extensions
(3000, 3001, ...; a sipp caller making each call from a caller of its own, one sipp
phone registered for all of them that rings until cancelled). This script plays the
operator and the phones that the actions ring: one UDP socket registered as 203 (the
forward target) and 204 (the operator's phone). For each action it writes a headless
command (`forward` to 203, or `pickup`, alternately) and waits for the new branch's
INVITE on its socket: the time from the command written to the INVITE received, on one
monotonic clock. Commands go one at a time (the next after the previous one's ack), so
INVITE i belongs to command i.

In the same run, the same measurement for the plain proxy path: an INVITE for 203 sent
by this script to the server, until it arrives forwarded on the phone socket. That is
the reference an action is compared with (the ratio action p99 / plain p99), beside the
target of the issue: p99 < 5 ms.

Figures only; the exit status says whether every part ran. Last lines: key=value.
"""

import argparse
import hashlib
import json
import os
import queue
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

DOMAIN = "switchboard.local"
CALLER_BASE = 5000  # callers 5000, 5001, ...: outside [users], like the public calling in


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values, fraction):
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(fraction * (len(ordered) - 1)))))
    return ordered[index]


def header(message, name):
    for line in message.split("\r\n")[1:]:
        if not line:
            break
        key, _, value = line.partition(":")
        if key.strip().lower() == name.lower():
            return value.strip()
    return ""


def headers(message, name):
    out = []
    for line in message.split("\r\n")[1:]:
        if not line:
            break
        key, _, value = line.partition(":")
        if key.strip().lower() == name.lower():
            out.append(value.strip())
    return out


def response_to(request, status, reason, to_tag=None):
    """A response built from a request's Via, From, To, Call-ID and CSeq."""
    lines = [f"SIP/2.0 {status} {reason}"]
    lines += [f"Via: {via}" for via in headers(request, "Via")]
    lines.append(f"From: {header(request, 'From')}")
    to = header(request, "To")
    if to_tag and ";tag=" not in to:
        to += f";tag={to_tag}"
    lines.append(f"To: {to}")
    lines.append(f"Call-ID: {header(request, 'Call-ID')}")
    lines.append(f"CSeq: {header(request, 'CSeq')}")
    lines += [f"Record-Route: {rr}" for rr in headers(request, "Record-Route")]
    lines.append("Content-Length: 0")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class Switchboard:
    """`switchboard --headless` with its events read by a thread."""

    def __init__(self, binary, config):
        self.process = subprocess.Popen(
            [binary, "--headless", "--config", config],
            # Buffered: an unbuffered pipe is read a byte per system call, and a lamp
            # line of a busy extension is hundreds of kB (the reader then fell seconds
            # behind, Switchboard blocked writing to the full pipe and every command
            # waited behind it). send() flushes each command.
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.answers = {}
        self.answered = threading.Condition()
        self.started = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            # Only the answers are parsed: the lamp lines of a busy extension are large,
            # and parsing them would hold the interpreter while the main thread times.
            # (Switchboard writes keys sorted: an answer starts with its "event".)
            if self.started.is_set() and not line.startswith(b'{"event":'):
                continue
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if event.get("event") == "started":
                self.started.set()
            if "id" in event and event.get("event") in ("ack", "error", "snapshot"):
                with self.answered:
                    self.answers[event["id"]] = event
                    self.answered.notify_all()

    def send(self, command):
        self.process.stdin.write((json.dumps(command) + "\n").encode())
        self.process.stdin.flush()

    def wait_answer(self, command_id, limit=10.0):
        deadline = time.monotonic() + limit
        with self.answered:
            while command_id not in self.answers:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.answered.wait(left)
            return self.answers.pop(command_id)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()


class Phones:
    """One UDP socket that is the phones of 203 and 204: it registers both and answers
    every INVITE with 180 (the call then rings there), every CANCEL with 200 and 487."""

    def __init__(self, server_port):
        self.server = ("127.0.0.1", server_port)
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]

    def register(self, user):
        call_id = f"reg-{user}-{random.getrandbits(48):x}"
        request = (
            f"REGISTER sip:{DOMAIN} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{self.port};branch=z9hG4bK-{call_id};rport\r\n"
            f"From: <sip:{user}@{DOMAIN}>;tag={user}\r\n"
            f"To: <sip:{user}@{DOMAIN}>\r\n"
            f"Call-ID: {call_id}\r\nCSeq: 1 REGISTER\r\n"
            f"Contact: <sip:{user}@127.0.0.1:{self.port}>\r\nExpires: 3600\r\n"
            f"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
        self.socket.sendto(request.encode(), self.server)
        self.socket.settimeout(5)
        while True:
            data, _ = self.socket.recvfrom(65535)
            text = data.decode(errors="replace")
            if text.startswith("SIP/2.0 200") and call_id in text:
                return

    def next_invite(self, limit=5.0):
        """Answers what comes until an INVITE arrives; returns (its receive time, text)."""
        deadline = time.monotonic() + limit
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None, None
            self.socket.settimeout(left)
            try:
                data, source = self.socket.recvfrom(65535)
            except socket.timeout:
                return None, None
            received = time.perf_counter()
            text = data.decode(errors="replace")
            if text.startswith("INVITE "):
                self.socket.sendto(response_to(text, 180, "Ringing", "ph"), source)
                return received, text
            if text.startswith("CANCEL "):
                self.socket.sendto(response_to(text, 200, "OK", "ph"), source)

    def drain(self):
        """Answers what is still arriving (CANCELs of calls moved away, retransmissions)."""
        self.socket.settimeout(0.05)
        try:
            while True:
                data, source = self.socket.recvfrom(65535)
                text = data.decode(errors="replace")
                if text.startswith("CANCEL "):
                    self.socket.sendto(response_to(text, 200, "OK", "ph"), source)
                elif text.startswith("INVITE "):
                    self.socket.sendto(response_to(text, 180, "Ringing", "ph"), source)
        except socket.timeout:
            pass


def register_port(server_port, port, user):
    """REGISTERs `user` with a Contact on `port` (then the port is free for sipp)."""
    phones = Phones.__new__(Phones)
    phones.server = ("127.0.0.1", server_port)
    phones.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    phones.socket.bind(("127.0.0.1", port))
    phones.port = port
    phones.register(user)
    phones.socket.close()


def plain_invite(server_port, source, index):
    call_id = f"plain-{index}-{random.getrandbits(48):x}"
    port = source.getsockname()[1]
    return (
        f"INVITE sip:203@{DOMAIN} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-{call_id};rport\r\n"
        f"From: <sip:201@{DOMAIN}>;tag=p{index}\r\nTo: <sip:203@{DOMAIN}>\r\n"
        f"Call-ID: {call_id}\r\nCSeq: 1 INVITE\r\n"
        f"Contact: <sip:201@127.0.0.1:{port}>\r\nMax-Forwards: 70\r\n"
        f"Content-Length: 0\r\n\r\n").encode()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--switchboard", required=True)
    parser.add_argument("--scenarios", required=True, help="tests/integration/server")
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--extensions", type=int, default=100)
    parser.add_argument("--rate", type=int, default=200, help="calls/s while filling up")
    parser.add_argument("--callers", type=int, default=0,
                        help="distinct callers (default: one per call)")
    parser.add_argument("--actions", type=int, default=600, help="forwards + pickups")
    parser.add_argument("--plain", type=int, default=300, help="plain INVITEs measured")
    parser.add_argument("--gap-ms", type=float, default=20.0,
                        help="pause after each action's answer before the next command")
    args = parser.parse_args()
    args.scenarios = os.path.abspath(args.scenarios)
    args.switchboard = os.path.abspath(args.switchboard)

    work = tempfile.mkdtemp(prefix="sb-attendant-bench-")
    server_port = free_port()
    callee_port = free_port()
    caller_port = free_port()
    config = os.path.join(work, "switchboard.ini")
    extensions = [str(3000 + i) for i in range(args.extensions)]
    with open(config, "w") as f:
        f.write(f"[sip]\nlisten = udp:127.0.0.1:{server_port}\n"
                f"[server]\ndomain = {DOMAIN}\n"
                # The sipp phone sends one 180 and no more: at the default Timer C (181 s)
                # every call would end mid-run on a slow machine, and the actions after
                # that find nothing ringing.
                "timer_c = 900\n"
                # Nothing comes back by itself while the actions are measured.
                "[attendant]\nnumber = 200\nphone = 204\nring_phone = false\n"
                "recall_after = 600\n[users]\n")
        # HA1 = MD5(user:realm:password), as `--add-user` stores it (realm = domain).
        for user in ["201", "203", "204"] + extensions:
            ha1 = hashlib.md5(f"{user}:{DOMAIN}:pw-{user}".encode()).hexdigest()
            f.write(f"{user} = md5:{ha1}\n")
    calls_file = os.path.join(work, "calls.csv")
    with open(calls_file, "w") as f:
        f.write("SEQUENTIAL\n")
        for i in range(args.calls):
            # Each call from a caller of its own, as calls to a reception come (--callers
            # 1: all from one, whose dialogs then all change with every action).
            caller = CALLER_BASE + i % (args.callers or args.calls)
            f.write(f"{caller};{extensions[i % len(extensions)]};\n")

    switchboard = Switchboard(args.switchboard, config)
    processes = []
    try:
        if not switchboard.started.wait(20):
            print("switchboard did not start", file=sys.stderr)
            return 1
        phones = Phones(server_port)
        phones.register("203")
        phones.register("204")
        for extension in extensions:
            register_port(server_port, callee_port, extension)
        sipp_limit = ["timeout", "600"]
        processes.append(subprocess.Popen(
            sipp_limit + ["sipp", "-sf", f"{args.scenarios}/uas_ring_cancelled.xml",
                          "-i", "127.0.0.1", "-p", str(callee_port), "-set", "me", "202",
                          "-m", str(args.calls), "-nostdin"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=work))
        time.sleep(0.5)
        processes.append(subprocess.Popen(
            sipp_limit + ["sipp", "-sf", f"{args.scenarios}/uac_call_from_list.xml",
                          f"127.0.0.1:{server_port}", "-i", "127.0.0.1",
                          "-p", str(caller_port), "-inf", calls_file,
                          "-set", "domain", DOMAIN, "-m", str(args.calls),
                          "-r", str(args.rate), "-l", str(args.calls), "-nostdin"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=work))

        # Until every call rings (the snapshot's early dialogs of the extensions).
        ringing = 0
        deadline = time.monotonic() + args.calls / args.rate + 60
        snapshot_index = 0
        while time.monotonic() < deadline:
            snapshot_index += 1
            switchboard.send({"cmd": "snapshot", "id": f"s{snapshot_index}"})
            snapshot = switchboard.wait_answer(f"s{snapshot_index}") or {}
            ringing = 0
            for extension in snapshot.get("extensions", []):
                if extension.get("extension") in extensions:
                    ringing += sum(1 for d in extension.get("dialogs", [])
                                   if d.get("state") in ("early", "proceeding"))
            if ringing >= args.calls:
                break
            time.sleep(0.5)
        print(f"calls ringing: {ringing} at {len(extensions)} extensions")
        if ringing < args.calls:
            print("not every call rings; figures would not be of the load asked for",
                  file=sys.stderr)
            return 1

        latencies = {"forward": [], "pickup": []}
        failures = 0
        started = time.monotonic()
        for i in range(args.actions):
            kind = "forward" if i % 2 == 0 else "pickup"
            extension = extensions[i % len(extensions)]
            command = ({"cmd": "forward", "ext": extension, "to": "203", "reason": "user-busy"}
                       if kind == "forward" else {"cmd": "pickup", "ext": extension})
            command["id"] = f"a{i}"
            sent = time.perf_counter()
            switchboard.send(command)
            received, _ = phones.next_invite()
            answer = switchboard.wait_answer(f"a{i}")
            if received is None or not answer or answer.get("event") != "ack":
                failures += 1
                what = (answer or {}).get("message", "none")
                print(f"action a{i} ({kind} {extension}) at {time.monotonic() - started:.1f} s: "
                      f"{'no INVITE within 5 s' if received is None else 'INVITE seen'}, "
                      f"answer {what}", file=sys.stderr, flush=True)
                if failures >= 10:
                    print("10 actions failed: stopped (the calls no longer ring as set up)",
                          file=sys.stderr)
                    return 1
                continue
            latencies[kind].append((received - sent) * 1000.0)
            # An operator's actions are seconds apart: the next command should not queue
            # behind what the previous one set off (its CANCEL's 487, the lamps written).
            time.sleep(args.gap_ms / 1000.0)
        phones.drain()

        plain = []
        source = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        source.bind(("127.0.0.1", 0))
        for i in range(args.plain):
            sent = time.perf_counter()
            source.sendto(plain_invite(server_port, source, i), ("127.0.0.1", server_port))
            received, _ = phones.next_invite()
            if received is None:
                failures += 1
                continue
            plain.append((received - sent) * 1000.0)
        source.close()

        def line(name, values):
            return (f"{name}: n={len(values)} p50={statistics.median(values):.3f} ms "
                    f"p99={percentile(values, 0.99):.3f} ms max={max(values):.3f} ms")

        print(line("forward (command -> INVITE at 203)", latencies["forward"]))
        print(line("pickup  (command -> INVITE at 204)", latencies["pickup"]))
        print(line("plain proxy path (INVITE -> INVITE at 203)", plain))
        actions = latencies["forward"] + latencies["pickup"]
        p99 = percentile(actions, 0.99)
        print(f"forward_p50_ms={statistics.median(latencies['forward']):.3f}")
        print(f"forward_p99_ms={percentile(latencies['forward'], 0.99):.3f}")
        print(f"pickup_p50_ms={statistics.median(latencies['pickup']):.3f}")
        print(f"pickup_p99_ms={percentile(latencies['pickup'], 0.99):.3f}")
        print(f"plain_proxy_p50_ms={statistics.median(plain):.3f}")
        print(f"plain_proxy_p99_ms={percentile(plain, 0.99):.3f}")
        print(f"action_p99_ms={p99:.3f}")
        print(f"ratio_to_plain_p99={p99 / percentile(plain, 0.99):.2f}")
        print(f"calls_ringing={ringing}")
        print(f"failed_actions={failures}")
        print(f"target_met={'yes' if p99 < 5.0 and failures == 0 else 'no'}")
        return 0
    finally:
        switchboard.stop()
        for process in processes:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(5)
                except subprocess.TimeoutExpired:
                    process.kill()


if __name__ == "__main__":
    sys.exit(main())
