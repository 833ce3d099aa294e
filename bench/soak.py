#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Soak test, run by hand: N deliveries (default 2000) into a folder watched
through a fault proxy that closes, resets, black-holes or garbles the
connection every few seconds. Prints delivered / reported / missed /
duplicated, reconnects, and memory at start and end.

    bench/soak.py [-n 2000] [--fault-every 3.0] [--seed 1]
"""

import argparse
import collections
import json
import os
import queue
import random
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import imapwatch_harness as h  # noqa: E402
from fault_proxy import FaultProxy  # noqa: E402


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-n", type=int, default=2000)
    p.add_argument("--fault-every", type=float, default=3.0)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    rng = random.Random(args.seed)

    with h.Dovecot() as dc, FaultProxy("127.0.0.1", dc.imaps_port) as proxy:
        tmp = tempfile.mkdtemp(prefix="imapwatch-soak-")
        config = os.path.join(tmp, "config")
        with open(config, "w") as f:
            f.write(f"[daemon]\nnotifications = false\nidle_refresh = 1m\n\n"
                    f"[account soak]\nhost = localhost\nport = {proxy.port}\n"
                    f"username = user1\npassword = {dc.users['user1']}\n"
                    f"tls_ca_file = {h.certs().ca}\n")
        binary = os.environ.get("IMAPWATCHD", os.path.join(ROOT, "build", "imapwatchd"))
        env = dict(os.environ, XDG_STATE_HOME=os.path.join(tmp, "state"))
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        proc = subprocess.Popen([binary, "--print-events", "--config", config],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                stdin=subprocess.DEVNULL, env=env)
        events = queue.Queue()
        threading.Thread(target=lambda: [events.put(json.loads(l)) for l in proc.stdout],
                         daemon=True).start()
        while True:
            ev = events.get(timeout=30)
            if ev.get("event") == "state" and ev.get("state") == "idle":
                break
        rss_start = rss_kb(proc.pid)

        delivered = []
        faults = collections.Counter()
        next_fault = time.monotonic() + args.fault_every
        start = time.monotonic()
        for i in range(args.n):
            raw, _ = h.make_message(subject=f"soak {i}")
            dc.doveadm("save", "-u", "user1", "-m", "INBOX", input=raw)
            delivered.append(i)
            if time.monotonic() >= next_fault:
                kind = rng.choice(["close", "reset", "blackhole", "garbage", "kick"])
                faults[kind] += 1
                if kind == "close":
                    proxy.close()
                elif kind == "reset":
                    proxy.reset()
                elif kind == "blackhole":
                    n = proxy.connections_total - 1
                    proxy.blackhole(n)
                elif kind == "garbage":
                    proxy.inject_to_client(b"\x17\x03\x03\x00\x05junk!")
                else:
                    try:
                        dc.kick("user1")
                    except h.HarnessError:
                        # Nobody to kick: the daemon was between connections.
                        faults[kind] -= 1
                        faults["kick (not connected)"] += 1
                next_fault = time.monotonic() + args.fault_every * rng.uniform(0.5, 1.5)

        # Let everything arrive: black-holed connections are found by the
        # IDLE refresh (1 min) plus the 30 s response timeout at worst.
        seen = collections.Counter()
        states = collections.Counter()
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline and len(seen) < args.n:
            try:
                ev = events.get(timeout=1)
            except queue.Empty:
                continue
            if ev["event"] == "new":
                seen[ev["subject"]] += 1
            elif ev["event"] == "state":
                states[ev["state"]] += 1
        # Drain what is left for duplicates.
        while True:
            try:
                ev = events.get(timeout=2)
            except queue.Empty:
                break
            if ev["event"] == "new":
                seen[ev["subject"]] += 1
        rss_end = rss_kb(proc.pid)
        proc.terminate()
        proc.wait(timeout=5)

        expected = {f"soak {i}" for i in delivered}
        missed = expected - set(seen)
        duplicated = {s: n for s, n in seen.items() if n > 1}
        print(f"deliveries: {len(delivered)} in {time.monotonic() - start:.0f} s, "
              f"faults: {dict(faults)}")
        print(f"reported: {len(set(seen) & expected)}, missed: {len(missed)}, "
              f"duplicated: {len(duplicated)}")
        print(f"reconnects (backoff states): {states['backoff']}, idle states: {states['idle']}")
        print(f"memory: VmRSS {rss_start} kB at start, {rss_end} kB at end")


if __name__ == "__main__":
    main()
