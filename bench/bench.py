#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Benchmarks for imapwatchd against a private Dovecot on loopback.

    bench/bench.py latency [-n 50]   delivery-to-event latency
    bench/bench.py memory            RSS / Pss / Private, 10 accounts x 3 folders
    bench/bench.py wakeups [-s 60]   context switches while idle
    bench/bench.py dbus-latency [-n 50]  delivery to MessagesAdded at an independent listener
    bench/bench.py status-time [-n 20]   wall time of `imapwatch status`, 10 accounts

Run by hand after building (IMAPWATCHD defaults to build/imapwatchd, IMAPWATCH
to build/imapwatch). Prints
figures; asserts nothing about speed.
"""

import argparse
import json
import os
import queue
import select
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import imapwatch_harness as h  # noqa: E402
import bus_harness as b  # noqa: E402


class Watcher:
    """imapwatchd --print-events with arrival timestamps per event."""

    def __init__(self, config_text, bus=None):
        self.dir = tempfile.mkdtemp(prefix="imapwatch-bench-")
        os.makedirs(os.path.join(self.dir, "state"))
        self.config = os.path.join(self.dir, "config")
        with open(self.config, "w", encoding="utf-8") as f:
            f.write(config_text)
        env = dict(os.environ, XDG_STATE_HOME=os.path.join(self.dir, "state"))
        for var in ("DBUS_SESSION_BUS_ADDRESS", "DISPLAY", "WAYLAND_DISPLAY"):
            env.pop(var, None)
        if bus is not None:
            env["DBUS_SESSION_BUS_ADDRESS"] = bus.address
        binary = os.environ.get("IMAPWATCHD", os.path.join(ROOT, "build", "imapwatchd"))
        self.proc = subprocess.Popen([binary, "--print-events", "--config", self.config],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     stdin=subprocess.DEVNULL, env=env)
        self.events = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.events.put((time.monotonic(), json.loads(line)))

    def wait(self, pred, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no matching event")
            t, ev = self.events.get(timeout=left)
            if pred(ev):
                return t, ev

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=5)


def account_block(name, dc, user, folders):
    return (f"[account {name}]\nhost = localhost\nport = {dc.imaps_port}\n"
            f"username = {user}\npassword = {dc.users[user]}\n"
            f"folders = {';'.join(folders)}\ntls_ca_file = {h.certs().ca}\n\n")


class IdleClient:
    """An independent IDLE client: when does Dovecot itself send EXISTS?"""

    def __init__(self, dc, user):
        ctx = h.certs().client_context()
        raw = socket.create_connection(("127.0.0.1", dc.imaps_port))
        self.sock = ctx.wrap_socket(raw, server_hostname="localhost")
        self.buf = b""
        self._line()
        self._cmd(f"a LOGIN {user} {dc.users[user]}", b"a ")
        self._cmd("b EXAMINE INBOX", b"b ")
        self.sock.sendall(b"c IDLE\r\n")
        while not self._line().startswith(b"+"):
            pass
        self.times = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _line(self):
        while b"\r\n" not in self.buf:
            self.buf += self.sock.recv(65536)
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _cmd(self, text, tag):
        self.sock.sendall(text.encode() + b"\r\n")
        while not self._line().startswith(tag):
            pass

    def _read(self):
        while True:
            line = self._line()
            if line.endswith(b"EXISTS"):
                self.times.put(time.monotonic())


def cmd_latency(args):
    with h.Dovecot() as dc:
        w = Watcher(account_block("bench", dc, "user1", ["INBOX"]))
        try:
            w.wait(lambda e: e.get("event") == "state" and e.get("state") == "idle")
            idle = IdleClient(dc, "user1")
            total, server, ours = [], [], []
            for i in range(args.n):
                msg, _ = h.make_message(subject=f"bench {i}")
                t0 = time.monotonic()
                dc.doveadm("save", "-u", "user1", "-m", "INBOX", input=msg)
                t_new, _ = w.wait(lambda e: e.get("event") == "new" and
                                  e.get("subject") == f"bench {i}")
                t_exists = idle.times.get(timeout=30)
                total.append((t_new - t0) * 1000)
                server.append((t_exists - t0) * 1000)
                ours.append((t_new - t_exists) * 1000)
            print(f"deliveries: {args.n}")
            for name, xs in (("doveadm save -> new event", total),
                             ("doveadm save -> EXISTS at an independent IDLE client", server),
                             ("imapwatchd's own share (new event - EXISTS)", ours)):
                print(f"{name}: median {statistics.median(xs):.1f} ms, "
                      f"max {max(xs):.1f} ms, min {min(xs):.1f} ms")
        finally:
            w.stop()


def print_figures(name, xs):
    print(f"{name}: median {statistics.median(xs):.1f} ms, max {max(xs):.1f} ms, "
          f"min {min(xs):.1f} ms")


def cmd_dbus_latency(args):
    """Delivery -> MessagesAdded at an independent listener (gdbus monitor),
    minus the time an independent IDLE client gets EXISTS."""
    with h.Dovecot() as dc, b.SessionBus() as bus:
        monitor = b.Monitor(bus).start()
        w = Watcher(account_block("bench", dc, "user1", ["INBOX"]), bus=bus)
        try:
            w.wait(lambda e: e.get("event") == "state" and e.get("state") == "idle")
            idle = IdleClient(dc, "user1")
            total, server, ours = [], [], []
            for i in range(args.n):
                subject = f"bench {i}"
                since = monitor.mark()
                t0 = time.monotonic()
                dc.doveadm("save", "-u", "user1", "-m", "INBOX",
                           input=h.make_message(subject=subject)[0])

                def added(signals):
                    for j, (m, a) in enumerate(signals):
                        if m == "MessagesAdded" and any(d["subject"] == subject for d in a[0]):
                            return (since + j,)
                    return None
                index = monitor.wait_until(added, timeout=30, since=since)[0]
                t_signal = monitor.arrival(index)
                t_exists = idle.times.get(timeout=30)
                total.append((t_signal - t0) * 1000)
                server.append((t_exists - t0) * 1000)
                ours.append((t_signal - t_exists) * 1000)
            print(f"deliveries: {args.n}")
            print_figures("doveadm save -> MessagesAdded at the listener", total)
            print_figures("doveadm save -> EXISTS at an independent IDLE client", server)
            print_figures("imapwatchd's share (MessagesAdded - EXISTS)", ours)
        finally:
            w.stop()
            monitor.stop()


def cmd_status_time(args):
    n = 10
    users = {f"user{i}": f"pass{i}" for i in range(1, n + 1)}
    cli = os.environ.get("IMAPWATCH", os.path.join(ROOT, "build", "imapwatch"))
    with h.Dovecot(users=users) as dc, b.SessionBus() as bus:
        config = "[daemon]\nnotifications = false\n\n"
        for i in range(1, n + 1):
            dc.create_folder(f"user{i}", "Lists")
            config += account_block(f"acct{i}", dc, f"user{i}", ["INBOX", "Lists"])
        w = Watcher(config, bus=bus)
        try:
            idle = set()
            while len(idle) < n:
                _, ev = w.wait(lambda e: e.get("event") == "state" and e.get("state") == "idle")
                idle.add(ev["account"])
            times = []
            for _ in range(args.n):
                t0 = time.monotonic()
                proc = subprocess.run([cli, "status"], env=bus.env(), stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, check=True)
                times.append((time.monotonic() - t0) * 1000)
            print(proc.stdout.decode())
            print(f"runs: {args.n}, {n} accounts x 2 folders")
            print_figures("imapwatch status wall time", times)
        finally:
            w.stop()


def proc_figures(pid):
    status = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            status[k] = v.strip()
    rollup = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[0].endswith(":"):
                rollup[parts[0][:-1]] = int(parts[1])
    return status, rollup


def cmd_memory(args):
    n = args.accounts
    users = {f"user{i}": f"pass{i}" for i in range(1, n + 1)}
    with h.Dovecot(users=users) as dc:
        config = "[daemon]\nnotifications = false\n\n"
        for i in range(1, n + 1):
            user = f"user{i}"
            for folder in ("Lists", "Work"):
                dc.create_folder(user, folder)
            for j in range(20):
                dc.doveadm("save", "-u", user, "-m", "INBOX",
                           input=h.make_message(subject=f"m{j}")[0])
            config += account_block(f"acct{i}", dc, user, ["INBOX", "Lists", "Work"])
        w = Watcher(config)
        try:
            idle = set()
            while len(idle) < n:
                _, ev = w.wait(lambda e: e.get("event") == "state" and e.get("state") == "idle")
                idle.add(ev["account"])
            status, rollup = proc_figures(w.proc.pid)
            private = rollup.get("Private_Clean", 0) + rollup.get("Private_Dirty", 0)
            print(f"{n} accounts x 3 folders ({3 * n} IMAP connections, 20 messages per INBOX)")
            print(f"VmRSS {status['VmRSS']}, VmHWM {status['VmHWM']}")
            print(f"Pss {rollup.get('Pss', 0)} kB, Private {private} kB "
                  f"(clean {rollup.get('Private_Clean', 0)}, dirty {rollup.get('Private_Dirty', 0)})")
        finally:
            w.stop()


def cmd_wakeups(args):
    with h.Dovecot() as dc:
        w = Watcher(account_block("bench", dc, "user1", ["INBOX"]))
        try:
            w.wait(lambda e: e.get("event") == "state" and e.get("state") == "idle")
            before, _ = proc_figures(w.proc.pid)
            time.sleep(args.s)  # measuring idle behaviour over wall time
            after, _ = proc_figures(w.proc.pid)
            n = sum(int(after[k]) - int(before[k])
                    for k in ("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"))
            print(f"context switches while idle: {n} in {args.s} s "
                  f"({n * 60 / args.s:.1f} per minute; Dovecot sends '* OK Still here' "
                  f"every 2 min)")
        finally:
            w.stop()


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    lat = sub.add_parser("latency")
    lat.add_argument("-n", type=int, default=50)
    mem = sub.add_parser("memory")
    mem.add_argument("--accounts", type=int, default=10)
    wk = sub.add_parser("wakeups")
    wk.add_argument("-s", type=int, default=60)
    dl = sub.add_parser("dbus-latency")
    dl.add_argument("-n", type=int, default=50)
    st = sub.add_parser("status-time")
    st.add_argument("-n", type=int, default=20)
    args = p.parse_args()
    {"latency": cmd_latency, "memory": cmd_memory, "wakeups": cmd_wakeups,
     "dbus-latency": cmd_dbus_latency, "status-time": cmd_status_time}[args.cmd](args)


if __name__ == "__main__":
    main()
