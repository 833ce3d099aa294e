#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Benchmarks for imapwatchd against a private Dovecot on loopback.

    bench/bench.py latency [-n 50]   delivery-to-event latency
    bench/bench.py memory [--no-server-notify] [--desktop]
                                     RSS / Pss / Private and connections at
                                     the server, 10 accounts x 3 folders
    bench/bench.py folder-latency [-n 50] [--no-server-notify]
                                     delivery-to-event latency for a folder
                                     that is not the selected one
    bench/bench.py wakeups [-s 60]   context switches while idle
    bench/bench.py notify-latency [-n 50]
                                     delivery to the Notify call on the bus
                                     (dunst under Xvfb, dbus-monitor)
    bench/bench.py hang-latency [-n 50]
                                     delivery-to-event latency while the
                                     notification server hangs
    bench/bench.py dbus-latency [-n 50]  delivery to MessagesAdded at an independent listener
    bench/bench.py status-time [-n 20]   wall time of `imapwatch status`, 10 accounts
    bench/bench.py hooks [-n 40]     delivery-to-event latency without a hook, then
                                     with an on_new hook that sleeps 10 s
    bench/bench.py startup [-n 10] [--rtt 0,50]
                                     start to every folder watched, five folders
                                     on five connections (server without NOTIFY),
                                     behind a proxy that adds the round-trip time

Run by hand after building (IMAPWATCHD defaults to build/imapwatchd, IMAPWATCH
to build/imapwatch). Prints
figures; asserts nothing about speed.
"""

import argparse
import contextlib
import json
import os
import queue
import select
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The daemon restarts its backoff after a connection served this long (30 s).
STABLE_S = 31
# How long the "drops every session" server is watched.
FLAP_S = 60
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import imapwatch_harness as h  # noqa: E402
import bus_harness as b  # noqa: E402


class Watcher:
    """imapwatchd --print-events with arrival timestamps per event."""

    def __init__(self, config_text, env=None, bus=None):
        self.dir = tempfile.mkdtemp(prefix="imapwatch-bench-")
        os.makedirs(os.path.join(self.dir, "state"))
        self.config = os.path.join(self.dir, "config")
        with open(self.config, "w", encoding="utf-8") as f:
            f.write(config_text)
        env_extra = env
        env = dict(os.environ, XDG_STATE_HOME=os.path.join(self.dir, "state"))
        # A desktop session names no display, bus or CA bundle of ours.
        for var in ("DBUS_SESSION_BUS_ADDRESS", "DISPLAY", "WAYLAND_DISPLAY",
                    "SSL_CERT_FILE", "SSL_CERT_DIR"):
            env.pop(var, None)
        env.update(env_extra or {})
        if bus is not None:
            env["DBUS_SESSION_BUS_ADDRESS"] = bus.address
        binary = os.environ.get("IMAPWATCHD", os.path.join(ROOT, "build", "imapwatchd"))
        # BENCH_LOG=path keeps the daemon's log (for a figure that looks wrong).
        log = os.environ.get("BENCH_LOG")
        self.proc = subprocess.Popen([binary, "--print-events", "--config", self.config],
                                     stdout=subprocess.PIPE,
                                     stderr=open(log, "ab") if log else subprocess.DEVNULL,
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

    def __init__(self, dc, user, folder="INBOX"):
        ctx = h.certs().client_context()
        raw = socket.create_connection(("127.0.0.1", dc.imaps_port))
        self.sock = ctx.wrap_socket(raw, server_hostname="localhost")
        self.buf = b""
        self._line()
        self._cmd(f"a LOGIN {user} {dc.users[user]}", b"a ")
        self._cmd(f"b EXAMINE {folder}", b"b ")
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


def figures(name, xs):
    print(f"{name}: median {statistics.median(xs):.1f} ms, max {max(xs):.1f} ms, "
          f"min {min(xs):.1f} ms")


@contextlib.contextmanager
def notifying_watcher():
    """Dovecot, dunst under Xvfb, a bus monitor, imapwatchd with
    notifications on (idle), and an independent IDLE client."""
    with h.Dovecot() as dc, h.Desktop() as desk:
        mon = h.BusMonitor(desk.address)
        w = Watcher("[daemon]\nnotifications = true\n\n" +
                    account_block("bench", dc, "user1", ["INBOX"]), env=desk.env)
        try:
            w.wait(lambda e: e.get("event") == "state" and e.get("state") == "idle")
            yield dc, desk, mon, w, IdleClient(dc, "user1")
        finally:
            w.stop()
            mon.stop()


def cmd_notify_latency(args):
    with notifying_watcher() as (dc, desk, mon, w, idle):
        total, ours = [], []
        for i in range(args.n):
            subject = f"bench {i}"
            msg, _ = h.make_message(subject=subject)
            t0 = time.monotonic()
            dc.doveadm("save", "-u", "user1", "-m", "INBOX", input=msg)
            t_exists = idle.times.get(timeout=30)
            # After notify_max messages the folder's summary is updated in
            # place; its body starts with the newest subject.
            call = mon.wait_for(lambda m: m["member"] == "Notify" and
                                h.parse_notify(m["text"])["body"].split("\n")[0] == subject,
                                timeout=30)
            total.append((call["time"] - t0) * 1000)
            ours.append((call["time"] - t_exists) * 1000)
        print(f"deliveries: {args.n}")
        figures("doveadm save -> Notify call on the bus", total)
        figures("imapwatchd's own share (Notify call - EXISTS at an independent "
                "IDLE client)", ours)


def cmd_hang_latency(args):
    with notifying_watcher() as (dc, desk, mon, w, idle):
        def run(label):
            total, ours = [], []
            for i in range(args.n):
                subject = f"{label} {i}"
                msg, _ = h.make_message(subject=subject)
                t0 = time.monotonic()
                dc.doveadm("save", "-u", "user1", "-m", "INBOX", input=msg)
                t_new, _ = w.wait(lambda e: e.get("event") == "new" and
                                  e.get("subject") == subject)
                t_exists = idle.times.get(timeout=30)
                total.append((t_new - t0) * 1000)
                ours.append((t_new - t_exists) * 1000)
            return total, ours

        def notifies():
            return sum(1 for m in mon.collect() if m["member"] == "Notify")

        normal = run("normal")
        before = notifies()
        # A server that takes every call and never answers: dunst stopped.
        os.kill(desk.dunst.pid, signal.SIGSTOP)
        try:
            hung = run("hung")
            stuck = notifies() - before
        finally:
            os.kill(desk.dunst.pid, signal.SIGCONT)
        print(f"deliveries: {args.n} with dunst answering, then {args.n} with dunst "
              f"stopped ({stuck} Notify calls sent meanwhile, each left unanswered "
              f"until the 25 s D-Bus timeout; the rest merged in the queue)")
        figures("server answering: doveadm save -> new event", normal[0])
        figures("server answering: new event - EXISTS at an independent IDLE client",
                normal[1])
        figures("server hung: doveadm save -> new event", hung[0])
        figures("server hung: new event - EXISTS at an independent IDLE client", hung[1])
def cmd_hooks(args):
    """The same deliveries to two accounts in turn: one without hooks, one
    whose on_new sleeps 10 s (hook_delay 0s: it runs at the first message
    and is busy for the rest, its next batch queued)."""
    with h.Dovecot() as dc:
        plain = account_block("plain", dc, "user1", ["INBOX"])
        hooked = (account_block("hooked", dc, "user2", ["INBOX"]).rstrip("\n") +
                  "\non_new = sleep 10\nhook_delay = 0s\n")
        w = Watcher(plain + hooked)
        try:
            for name in ("plain", "hooked"):
                w.wait(lambda e: e.get("event") == "state" and e.get("account") == name
                       and e.get("state") == "idle")
            idles = {"user1": IdleClient(dc, "user1"), "user2": IdleClient(dc, "user2")}
            ours = {"plain": [], "hooked": []}
            for i in range(args.n):
                for name, user in (("plain", "user1"), ("hooked", "user2")):
                    subject = f"{name} {i}"
                    msg, _ = h.make_message(subject=subject)
                    dc.doveadm("save", "-u", user, "-m", "INBOX", input=msg)
                    t_new, _ = w.wait(lambda e: e.get("event") == "new" and
                                      e.get("subject") == subject)
                    t_exists = idles[user].times.get(timeout=30)
                    ours[name].append((t_new - t_exists) * 1000)
            print(f"deliveries: {args.n} to each account, alternating; the hook "
                  f"(sleep 10) was running for all but the first of its account's")
            figures("no hook: new event - EXISTS at an independent IDLE client",
                    ours["plain"])
            figures("on_new sleeping 10 s: new event - EXISTS at an independent IDLE "
                    "client", ours["hooked"])
            diff = statistics.median(ours["hooked"]) - statistics.median(ours["plain"])
            print(f"difference of the medians: {diff:+.2f} ms")
        finally:
            w.stop()


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
            figures("doveadm save -> MessagesAdded at the listener", total)
            figures("doveadm save -> EXISTS at an independent IDLE client", server)
            figures("imapwatchd's share (MessagesAdded - EXISTS)", ours)
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
            figures("imapwatch status wall time", times)
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


def wait_idle(w, accounts):
    idle = set()
    while len(idle) < accounts:
        _, ev = w.wait(lambda e: e.get("event") == "state" and e.get("state") == "idle")
        idle.add(ev["account"])


def server_connections(dc, users, expected, timeout=30):
    """Connections the server holds for users, once it reaches expected
    (folders beyond the first connect after the account is idle)."""
    deadline = time.monotonic() + timeout
    while True:
        n = sum(dc.connections(u) for u in users)
        if n >= expected or time.monotonic() > deadline:
            return n
        time.sleep(0.2)  # polling doveadm who; a figure, not a test


def cmd_memory(args):
    n = args.accounts
    users = {f"user{i}": f"pass{i}" for i in range(1, n + 1)}
    desktop = h.Desktop() if args.desktop else contextlib.nullcontext()
    with h.Dovecot(users=users, notify=args.server_notify) as dc, desktop as desk:
        config = f"[daemon]\nnotifications = {'true' if args.desktop else 'false'}\n\n"
        for i in range(1, n + 1):
            user = f"user{i}"
            for folder in ("Lists", "Work"):
                dc.create_folder(user, folder)
            for j in range(20):
                dc.doveadm("save", "-u", user, "-m", "INBOX",
                           input=h.make_message(subject=f"m{j}")[0])
            config += account_block(f"acct{i}", dc, user, ["INBOX", "Lists", "Work"])
        w = Watcher(config, env=desk.env if desk else None)
        try:
            wait_idle(w, n)
            # One connection per account with NOTIFY; without, one per folder
            # up to max_connections (3); before accounts watched whole, one
            # per folder always.
            held = server_connections(dc, users, args.expect or (n if args.server_notify else 3 * n))
            status, rollup = proc_figures(w.proc.pid)
            private = rollup.get("Private_Clean", 0) + rollup.get("Private_Dirty", 0)
            print(f"{n} accounts x 3 folders, server {'with' if args.server_notify else 'without'}"
                  f" NOTIFY{', on a desktop (Xvfb, dunst, notifications on)' if desk else ''}:"
                  f" {held} IMAP connections at the server, 20 messages per INBOX")
            print(f"VmRSS {status['VmRSS']}, VmHWM {status['VmHWM']}")
            print(f"Pss {rollup.get('Pss', 0)} kB, Private {private} kB "
                  f"(clean {rollup.get('Private_Clean', 0)}, dirty {rollup.get('Private_Dirty', 0)})")
            parts = pss_by_kind(w.proc.pid)
            print("Pss by kind: " + ", ".join(f"{k} {v} kB" for k, v in parts.items()) +
                  ("" if desk else " (a library no other process maps counts whole)"))
        finally:
            w.stop()


def pss_by_kind(pid):
    """Pss in kB of the heap, other anonymous memory, imapwatchd's own
    file and the shared libraries."""
    kinds = {"heap": 0, "anonymous": 0, "imapwatchd": 0, "libraries": 0}
    kind = None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            parts = line.split()
            if "-" in parts[0] and not parts[0].endswith(":"):
                name = parts[5] if len(parts) > 5 else ""
                kind = ("heap" if name == "[heap]" else
                        "libraries" if ".so" in os.path.basename(name) else
                        "imapwatchd" if os.path.basename(name) == "imapwatchd" else
                        "anonymous")
            elif parts[0] == "Pss:":
                kinds[kind] += int(parts[1])
    return kinds


def cmd_folder_latency(args):
    """Delivery to a folder that is not the selected one -> new event, minus
    the time an independent client with that folder selected gets EXISTS."""
    with h.Dovecot(notify=args.server_notify) as dc:
        dc.create_folder("user1", "Lists")
        w = Watcher("[daemon]\nnotifications = false\n\n" +
                    account_block("bench", dc, "user1", ["INBOX", "Lists"]))
        try:
            wait_idle(w, 1)
            server_connections(dc, ["user1"], 1 if args.server_notify else 2)
            idle = IdleClient(dc, "user1", "Lists")
            total, server, ours = [], [], []
            for i in range(args.n):
                subject = f"lists {i}"
                t0 = time.monotonic()
                dc.doveadm("save", "-u", "user1", "-m", "Lists",
                           input=h.make_message(subject=subject)[0])
                t_new, ev = w.wait(lambda e: e.get("event") == "new" and
                                   e.get("subject") == subject)
                assert ev["folder"] == "Lists"
                t_exists = idle.times.get(timeout=30)
                total.append((t_new - t0) * 1000)
                server.append((t_exists - t0) * 1000)
                ours.append((t_new - t_exists) * 1000)
            held = dc.connections("user1")
            print(f"deliveries: {args.n} to Lists (INBOX selected), server "
                  f"{'with' if args.server_notify else 'without'} NOTIFY, "
                  f"{held} connections of imapwatchd and the independent client")
            figures("doveadm save -> new event", total)
            figures("doveadm save -> EXISTS at an independent client on Lists", server)
            figures("imapwatchd's own share (new event - EXISTS)", ours)
            if args.server_notify:
                print("(Dovecot tells a NOTIFY session of another folder's mail on a timer "
                      "of its own, often before it tells an IDLE client; a negative share "
                      "is that, not imapwatchd)")
        finally:
            w.stop()


def cmd_wakeups(args):
    with h.Dovecot() as dc:
        w = Watcher("[daemon]\nnotifications = false\n\n" +
                    account_block("bench", dc, "user1", ["INBOX"]))
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


def cmd_recovery(args):
    """Server restart (connections dropped after a stable period) -> idle
    again; a server that drops every session right after IDLE -> how often
    it is reconnected to; a black-holed connection (packets silently
    dropped) -> detected, with idle_refresh = 1m."""
    from fault_proxy import FaultProxy
    with h.Dovecot() as dc, FaultProxy("127.0.0.1", dc.imaps_port) as proxy:
        config = ("[daemon]\nnotifications = false\nidle_refresh = 1m\n\n" +
                  account_block("bench", dc, "user1", ["INBOX"]).replace(
                      f"port = {dc.imaps_port}", f"port = {proxy.port}"))
        w = Watcher(config)
        try:
            state = lambda s: (lambda e: e.get("event") == "state" and e.get("state") == s)  # noqa
            w.wait(state("idle"))
            times = []
            for _ in range(args.n):
                # A connection in service for 30 s starts the backoff afresh,
                # as after any real period of calm.
                time.sleep(STABLE_S)
                t0 = time.monotonic()
                dc.kick("user1")
                w.wait(state("backoff"))
                t1, _ = w.wait(state("idle"))
                times.append((t1 - t0) * 1000)
            print(f"server drops the connection -> idle again ({args.n} times): "
                  f"median {statistics.median(times):.0f} ms, max {max(times):.0f} ms")

            time.sleep(STABLE_S)
            first = proxy.connections_total
            t0 = time.monotonic()
            while time.monotonic() - t0 < FLAP_S:
                proxy.close(proxy.connections_total - 1)
                w.wait(state("backoff"))
                w.wait(state("idle"), timeout=STABLE_S * 12)
            n = proxy.connections_total - first
            print(f"server dropping every session at IDLE: {n} reconnects in "
                  f"{time.monotonic() - t0:.0f} s (backoff doubling, not reset by a "
                  f"short-lived connection)")

            time.sleep(STABLE_S)
            t0 = time.monotonic()
            proxy.blackhole(proxy.connections_total - 1)
            t1, ev = w.wait(state("backoff"), timeout=200)
            print(f"black-holed connection detected after {t1 - t0:.1f} s "
                  f"(idle_refresh 60 s + 30 s response timeout at most): {ev['detail']}")
        finally:
            w.stop()


class DelayProxy:
    """A TCP relay on loopback that holds every chunk for half the
    round-trip time in each direction: a distant server's latency, for
    figures only."""

    def __init__(self, port, rtt_ms):
        self.port_up = port
        self.delay = rtt_ms / 2000.0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                down, _ = self.listener.accept()
            except OSError:
                return
            up = socket.create_connection(("127.0.0.1", self.port_up))
            for a, b in ((down, up), (up, down)):
                pending = queue.Queue()
                threading.Thread(target=self._read, args=(a, pending), daemon=True).start()
                threading.Thread(target=self._send, args=(b, pending), daemon=True).start()

    def _read(self, sock, pending):
        while True:
            try:
                data = sock.recv(65536)
            except OSError:
                data = b""
            pending.put((time.monotonic() + self.delay, data))
            if not data:
                return

    @staticmethod
    def _send(sock, pending):
        while True:
            due, data = pending.get()
            time.sleep(max(0.0, due - time.monotonic()))
            try:
                if not data:
                    sock.shutdown(socket.SHUT_WR)
                    return
                sock.sendall(data)
            except OSError:
                return

    def close(self):
        self.listener.close()


def cmd_startup(args):
    """From the daemon's start to every folder's first count: one account,
    five folders, max_connections = 5 on a server without NOTIFY, so five
    connections log in."""
    folders = ["INBOX", "A", "B", "C", "D"]
    with h.Dovecot(notify=False) as dc:
        for folder in folders[1:]:
            dc.create_folder("user1", folder)
        for rtt in [int(x) for x in args.rtt.split(",")]:
            proxy = DelayProxy(dc.imaps_port, rtt)
            block = account_block("bench", dc, "user1", folders).replace(
                f"port = {dc.imaps_port}\n", f"port = {proxy.port}\n")
            first, watched = [], []
            try:
                for _ in range(args.n):
                    t0 = time.monotonic()
                    w = Watcher("[daemon]\nnotifications = false\n\n" + block +
                                "max_connections = 5\n")
                    try:
                        t_idle, seen = None, set()
                        while t_idle is None or len(seen) < len(folders):
                            t, ev = w.wait(lambda e: e.get("event") in ("state", "unseen"))
                            if ev["event"] == "unseen":
                                seen.add(ev["folder"])
                                t_all = t
                            elif ev["state"] == "idle" and t_idle is None:
                                t_idle = t
                    finally:
                        w.stop()
                    first.append((t_idle - t0) * 1000)
                    watched.append((t_all - t0) * 1000)
            finally:
                proxy.close()
            print(f"round trip {rtt} ms, {args.n} starts, five folders, five connections:")
            figures("  start -> account idle", first)
            figures("  start -> every folder counted", watched)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    lat = sub.add_parser("latency")
    lat.add_argument("-n", type=int, default=50)
    mem = sub.add_parser("memory")
    mem.add_argument("--accounts", type=int, default=10)
    mem.add_argument("--desktop", action="store_true",
                     help="run beside a desktop's GLib processes (Xvfb, dunst)")
    mem.add_argument("--expect", type=int, default=0,
                     help="connections to wait for (an older imapwatchd: 30)")
    fl = sub.add_parser("folder-latency")
    fl.add_argument("-n", type=int, default=50)
    for cmd in (mem, fl):
        cmd.add_argument("--no-server-notify", dest="server_notify", action="store_false",
                         help="remove NOTIFY from the server's capabilities")
    rec = sub.add_parser("recovery")
    rec.add_argument("-n", type=int, default=5)
    wk = sub.add_parser("wakeups")
    wk.add_argument("-s", type=int, default=60)
    nl = sub.add_parser("notify-latency")
    nl.add_argument("-n", type=int, default=50)
    hl = sub.add_parser("hang-latency")
    hl.add_argument("-n", type=int, default=50)
    dl = sub.add_parser("dbus-latency")
    dl.add_argument("-n", type=int, default=50)
    st = sub.add_parser("status-time")
    st.add_argument("-n", type=int, default=20)
    hk = sub.add_parser("hooks")
    hk.add_argument("-n", type=int, default=40)
    su = sub.add_parser("startup")
    su.add_argument("-n", type=int, default=10)
    su.add_argument("--rtt", default="0,50", help="round-trip times in ms, comma-separated")
    args = p.parse_args()
    {"latency": cmd_latency, "memory": cmd_memory, "wakeups": cmd_wakeups,
     "notify-latency": cmd_notify_latency, "hang-latency": cmd_hang_latency,
     "recovery": cmd_recovery, "dbus-latency": cmd_dbus_latency,
     "status-time": cmd_status_time, "folder-latency": cmd_folder_latency,
     "hooks": cmd_hooks, "startup": cmd_startup}[args.cmd](args)


if __name__ == "__main__":
    main()
