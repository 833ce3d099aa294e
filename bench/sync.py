#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""What synchronising a big folder costs imapwatchd, against a private
Dovecot on loopback, through a byte-counting proxy.

    bench/sync.py bigstart [--messages 100000] [--unseen 0.2]
        a folder of that many messages (that share unseen, spread over the
        folder): bytes from the server, time to idle and memory at the first
        start, at a restart with saved state, and with an empty folder
    bench/sync.py burst [--messages 10000]
        that many messages arrive at once in a watched folder: time until
        every one was reported, duplicates, and the daemon's CPU time

Run by hand after building (IMAPWATCHD defaults to build/imapwatchd).
Prints figures; asserts nothing about speed.
"""

import argparse
import os
import random
import socket
import sys
import time

import bench
from bench import h

from fault_proxy import FaultProxy  # noqa: E402


def fill_maildir(dc, user, n, unseen_share, seed=1):
    """n messages written straight into user's INBOX maildir (doveadm save
    would take minutes), then indexed by Dovecot; returns how many are
    unseen."""
    dc.doveadm("mailbox", "status", "-u", user, "messages", "INBOX")
    cur = dc.path("mail", user, "Maildir", "cur")
    rng = random.Random(seed)
    host = socket.gethostname().replace("/", "_")
    now = int(time.time()) - n
    unseen = 0
    for i in range(n):
        seen = rng.random() >= unseen_share
        unseen += not seen
        raw, _ = h.make_message(subject=f"message {i}", date=now + i,
                                from_name="Bulk Sender", from_addr="bulk@example.org")
        name = os.path.join(cur, f"{now + i}.M{i}P1.{host}:2,{'S' if seen else ''}")
        with open(name, "wb") as f:
            f.write(raw)
        if os.getuid() == 0:
            os.chown(name, dc.mail_uid, dc.mail_gid)
    os.utime(cur)
    dc.doveadm("mailbox", "status", "-u", user, "messages", "INBOX")
    return unseen


def server_examine_ms(dc, user, tries=5):
    """EXAMINE of INBOX by an independent client, until the server answers
    it from a warm index (a big maildir is rescanned after changes): the
    server's own share of a start, in ms."""
    ms = None
    for _ in range(tries):
        ctx = h.certs().client_context()
        sock = ctx.wrap_socket(socket.create_connection(("127.0.0.1", dc.imaps_port)),
                               server_hostname="localhost")
        f = sock.makefile("rwb")
        f.readline()
        for tag, command in (("a", f"LOGIN {user} {dc.users[user]}"), ("b", "ENABLE QRESYNC"),
                             ("c", "EXAMINE INBOX")):
            t0 = time.monotonic()
            f.write(f"{tag} {command}\r\n".encode())
            f.flush()
            while not f.readline().startswith(tag.encode()):
                pass
            ms = (time.monotonic() - t0) * 1000
        sock.close()
        if ms < 50:
            break
    return ms


class Run:
    """imapwatchd through a proxy; bytes and time from start to idle."""

    def __init__(self, dc, proxy, state_dir):
        self.server_ms = server_examine_ms(dc, "user1")
        config = ("[daemon]\nnotifications = false\n\n" +
                  bench.account_block("bench", dc, "user1", ["INBOX"]).replace(
                      f"port = {dc.imaps_port}", f"port = {proxy.port}"))
        self.proxy = proxy
        self.down0 = proxy.bytes_down()
        self.up0 = proxy.bytes_up()
        self.t0 = time.monotonic()
        self.w = bench.Watcher(config, env={"XDG_STATE_HOME": state_dir})
        t_idle, _ = self.w.wait(lambda e: e.get("event") == "state" and
                                e.get("state") == "idle", timeout=300)
        self.seconds = t_idle - self.t0
        self.down = proxy.bytes_down() - self.down0
        self.up = proxy.bytes_up() - self.up0
        _, self.rollup = bench.proc_figures(self.w.proc.pid)
        self.kinds = bench.pss_by_kind(self.w.proc.pid)

    def line(self, what):
        return (f"{what}: {self.down / 1024:.1f} kB from the server, "
                f"{self.up / 1024:.1f} kB to it, idle after {self.seconds:.2f} s (the "
                f"server's EXAMINE alone: {self.server_ms:.0f} ms); "
                f"Pss {self.rollup.get('Pss', 0)} kB, heap {self.kinds['heap']} kB")

    def stop(self):
        self.w.stop()


def cmd_bigstart(args):
    with h.Dovecot() as dc, FaultProxy("127.0.0.1", dc.imaps_port) as proxy:
        state = os.path.join(dc.dir, "imapwatch-state")
        os.makedirs(state)
        empty = Run(dc, proxy, os.path.join(dc.dir, "empty-state"))
        empty.stop()
        t0 = time.monotonic()
        unseen = fill_maildir(dc, "user1", args.messages, args.unseen)
        print(f"INBOX: {args.messages} messages, {unseen} unseen "
              f"(made and indexed in {time.monotonic() - t0:.0f} s)")
        print(empty.line("empty INBOX, first start"))
        first = Run(dc, proxy, state)
        print(first.line("first start"))
        first.stop()
        again = Run(dc, proxy, state)
        print(again.line("restart with saved state"))
        # Pss of shared libraries moves with whatever else maps them (the
        # server's processes too): the daemon's own memory is its private
        # dirty pages, the heap and the other anonymous memory.
        for what, run in (("first start", first), ("restart", again)):
            print(f"{what}, the big folder - an empty one: private dirty "
                  f"{run.rollup.get('Private_Dirty', 0) - empty.rollup.get('Private_Dirty', 0)}"
                  f" kB, heap {run.kinds['heap'] - empty.kinds['heap']} kB, anonymous "
                  f"{run.kinds['anonymous'] - empty.kinds['anonymous']} kB (Pss "
                  f"{run.rollup.get('Pss', 0) - empty.rollup.get('Pss', 0)} kB, of it "
                  f"libraries {run.kinds['libraries'] - empty.kinds['libraries']} kB)")
        again.stop()


def cmd_burst(args):
    with h.Dovecot() as dc:
        w = bench.Watcher("[daemon]\nnotifications = false\n\n" +
                          bench.account_block("bench", dc, "user1", ["INBOX"]))
        try:
            w.wait(lambda e: e.get("event") == "state" and e.get("state") == "idle")
            cpu0 = cpu_seconds(w.proc.pid)
            # Written aside, then moved into the maildir's new/ in one quick
            # loop: the server finds them all at once, as after a migration
            # or a filter run.
            maildir = dc.path("mail", "user1", "Maildir")
            staged = []
            for i in range(args.messages):
                raw, _ = h.make_message(subject=f"burst {i}")
                name = f"{int(time.time())}.B{i}P1.bench"
                with open(os.path.join(maildir, "tmp", name), "wb") as f:
                    f.write(raw)
                if os.getuid() == 0:
                    os.chown(os.path.join(maildir, "tmp", name), dc.mail_uid, dc.mail_gid)
                staged.append(name)
            t0 = time.monotonic()
            for name in staged:
                os.rename(os.path.join(maildir, "tmp", name), os.path.join(maildir, "new", name))
            t_imported = time.monotonic()
            seen = {}
            last = t0
            while len(seen) < args.messages:
                last, ev = w.wait(lambda e: e.get("event") == "new", timeout=120)
                seen[ev["uid"]] = seen.get(ev["uid"], 0) + 1
            cpu = cpu_seconds(w.proc.pid) - cpu0
            twice = sum(1 for n in seen.values() if n > 1)
            print(f"burst of {args.messages}: all reported {last - t_imported:.2f} s after "
                  f"they were in place ({t_imported - t0:.2f} s to move them there); "
                  f"{twice} reported twice; daemon CPU {cpu:.2f} s")
        finally:
            w.stop()


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    big = sub.add_parser("bigstart")
    big.add_argument("--messages", type=int, default=100000)
    big.add_argument("--unseen", type=float, default=0.2)
    burst = sub.add_parser("burst")
    burst.add_argument("--messages", type=int, default=10000)
    args = p.parse_args()
    {"bigstart": cmd_bigstart, "burst": cmd_burst}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
