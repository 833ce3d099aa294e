#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""imapwatchd and mailnag side by side, in one run, against one private
Dovecot on loopback.

    bench/peers.py [-n 30] [--idle-seconds 20] [--plot FILE] [--skip-big]

mailnag is Debian's package (2.2.0); bench/install-deps installs it, with
gnome-keyring (mailnag reads its password from the Secret Service) and
python3-matplotlib. Both run at once, each watching the INBOX of a user
of its own (set up alike), over implicit TLS, both on one private session
bus with notifications off; mailnag runs with no plugins, in a HOME of its
own.

- delivery -> report, over -n deliveries by doveadm save to each INBOX in
  turn (one program at work at a time): imapwatchd's `new` event on its
  --print-events output; mailnag's MailsAdded signal
  (mailnag.MailnagService) at a dbus-monitor on that bus. Also each one's
  own share (the report minus the moment an independent IDLE client on the
  same INBOX gets EXISTS), and imapwatchd's MessagesAdded at the same
  dbus-monitor.
- Pss and RSS of each program's process tree, and its context switches per
  minute (every thread), while both stay idle for --idle-seconds.
- the big start: a folder of 100,000 messages (20% unseen; --messages
  changes the number), each program started alone on it through a
  byte-counting proxy: time from the start of the process to watching and
  bytes from the server meanwhile. Watching is imapwatchd's account state
  `idle`, and for mailnag, which says nothing then, the moment the server
  shows its session in IDLE (Dovecot's verbose_proctitle). --skip-big
  leaves this out.

Run by hand after building (IMAPWATCHD defaults to build/imapwatchd).
Prints a table and writes a PNG of the two latency distributions to --plot
(default peers-latency.png). Asserts nothing about speed. matplotlib is
Debian's python3-matplotlib: under another python3 without it, the bench
runs itself again under the interpreter mailnag runs on.
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time

import bench
import sync
from bench import b, h

from fault_proxy import FaultProxy  # noqa: E402

# Latency, memory, wakeups: imapwatchd watches W_USER's INBOX and mailnag
# MN_USER's, set up alike; each delivery goes to one of them at a time.
W_USER, MN_USER = "user2", "user3"
BIG_USER = "user1"  # the big folder (sync.Run watches user1)
SERVER = "localhost"
IDLE_TIMEOUT = 60.0
BIG_TIMEOUT = 1800.0
POLL_S = 0.01
SESSION_TITLE = re.compile(rb"/imap \[([^\]]*)\]")
DAEMON_HEAD = "[daemon]\nnotifications = false\n\n"

# mailnag 2.2's configuration (~/.config/mailnag/mailnag.cfg): one IMAP
# account with IDLE on INBOX over implicit TLS, no plugins (its D-Bus
# service is part of the daemon, not a plugin), autostart off. Its
# password is kept in the Secret Service, not here.
MAILNAG_CFG = """[core]
poll_interval = 10
imap_idle_timeout = 10
mailbox_seen_flags = 1
autostart = 0
connectivity_test = networkmonitor
enabled_plugins =

[account1]
enabled = 1
type = imap
name = peers
user = {user}
password =
server = {server}
port = {port}
ssl = 1
imap = 1
idle = 1
folder = ["INBOX"]
"""

# Run by mailnag's interpreter in mailnag's environment: stores the
# password where mailnag's AccountManager looks it up (its SecretStore,
# under the id it derives from user and server), then prints the
# connectivity GLib reports. Anything but "full" would send mailnag to
# probe a host on the internet before it checks mail.
STORE_SECRET = """
import sys
import gi
gi.require_version("Gio", "2.0")
from gi.repository import Gio
from Mailnag.common.accounts import AccountManager
from Mailnag.common.secretstore import SecretStore
user, server, password = sys.argv[1:]
key = AccountManager()._get_account_id(user, server, True)
SecretStore.get_default().set(key, password, "imapwatch peers bench")
if SecretStore.get_default().get(key) != password:
    sys.exit("the password did not go into the Secret Service")
print(Gio.NetworkMonitor.get_default().get_connectivity().value_nick)
"""


def mailnag_script():
    path = shutil.which("mailnag")
    if path is None:
        sys.exit("peers: mailnag is not installed: run bench/install-deps "
                 "(or apt-get install --no-install-recommends mailnag gnome-keyring "
                 "python3-matplotlib)")
    return path


def mailnag_python():
    """The interpreter mailnag runs on: its script's #! line."""
    with open(mailnag_script(), "rb") as f:
        line = f.readline().decode().strip()
    if not line.startswith("#!"):
        sys.exit(f"peers: {mailnag_script()} is not a script with a #! line")
    return line[2:].split()[0]


def ensure_matplotlib():
    """Imports matplotlib, or runs the bench again under mailnag's
    interpreter, where Debian's python3-matplotlib is."""
    try:
        import matplotlib  # noqa: F401
        return
    except ImportError:
        pass
    python = mailnag_python()
    if os.path.realpath(python) == os.path.realpath(sys.executable):
        sys.exit("peers: matplotlib is missing: run bench/install-deps "
                 "(or apt-get install python3-matplotlib)")
    os.execv(python, [python, os.path.abspath(__file__), *sys.argv[1:]])


class Dovecot(h.Dovecot):
    """The harness's Dovecot with verbose_proctitle: each IMAP session's
    process title names the command it is in, and so shows when a client
    starts to IDLE."""

    def _write_config(self):
        super()._write_config()
        with open(self.conf, "a") as f:
            f.write("verbose_proctitle = yes\n")


def children(pid):
    kids = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return kids
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                kids += [int(x) for x in f.read().split()]
        except FileNotFoundError:
            pass
    return kids


def process_tree(pid):
    pids, i = [pid], 0
    while i < len(pids):
        pids += children(pids[i])
        i += 1
    return pids


def sessions(dc):
    """The server's IMAP sessions: (pid, user, command in progress or "")."""
    out = []
    for pid in children(dc.proc.pid):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                m = SESSION_TITLE.search(f.read())
        except FileNotFoundError:
            continue
        if m:
            words = m.group(1).decode(errors="replace").split()
            if words:
                out.append((pid, words[0], " ".join(words[2:])))
    return out


def poll(condition, timeout, what):
    """Checks condition every POLL_S until it returns something true."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:.0f} s")
        time.sleep(POLL_S)  # polling /proc, bounded by the deadline


def tree_memory(pid):
    """Pss and Rss in kB of pid and every process under it."""
    pss = rss = 0
    for p in process_tree(pid):
        _, rollup = bench.proc_figures(p)
        pss += rollup.get("Pss", 0)
        rss += rollup.get("Rss", 0)
    return pss, rss


def tree_switches(pid):
    """Context switches so far of every thread of pid and its descendants,
    by thread."""
    counts = {}
    for p in process_tree(pid):
        try:
            tasks = os.listdir(f"/proc/{p}/task")
        except FileNotFoundError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{p}/task/{task}/status") as f:
                    counts[p, task] = sum(
                        int(line.split()[1]) for line in f
                        if line.startswith(("voluntary_ctxt", "nonvoluntary_ctxt")))
            except FileNotFoundError:
                pass
    return counts


def switches_since(pid, before):
    """Context switches of pid's tree since `before` (tree_switches());
    a thread that has ended meanwhile takes its count with it."""
    return sum(n - before.get(key, 0) for key, n in tree_switches(pid).items())


def wait_quiet(pids, quiet_s=2.0, timeout=30.0):
    """Until no thread of any of pids' trees has been switched to for
    quiet_s (the trail of a start, such as state written a moment after it,
    is over), or timeout; returns the seconds waited."""
    t0 = time.monotonic()
    marks = [tree_switches(p) for p in pids]
    since = t0
    while time.monotonic() - since < quiet_s and time.monotonic() - t0 < timeout:
        time.sleep(0.25)  # polling /proc, bounded by the timeout
        if any(switches_since(p, m) for p, m in zip(pids, marks)):
            marks = [tree_switches(p) for p in pids]
            since = time.monotonic()
    return time.monotonic() - t0


def temp_home(prefix):
    home = tempfile.mkdtemp(prefix=prefix)
    dirs = {var: os.path.join(home, sub) for var, sub in (
        ("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data"),
        ("XDG_CACHE_HOME", "cache"), ("XDG_RUNTIME_DIR", "run"))}
    for d in dirs.values():
        os.makedirs(d, mode=0o700)
    return home, dict(dirs, HOME=home)


class Mailnag:
    """mailnag as a user runs it (`mailnag`, logging to stdout), in a HOME
    of its own, on the bench's bus, with one account: user on port."""

    def __init__(self, bus, dc, user, port):
        self.dc = dc
        self.user = user
        self.proc = self.t0 = None
        self.home, dirs = temp_home("imapwatch-peers-mailnag-")
        try:
            self._set_up(bus, dirs, port)
        except BaseException:
            self.stop()
            raise

    def _set_up(self, bus, dirs, port):
        # Its own environment: the private bus and nothing of the desktop's
        # or the machine's CA settings (mailnag 2.2 does not verify the
        # server's certificate at all: imaplib2 wraps the socket with
        # CERT_NONE). GLib's plain network monitor says "full
        # connectivity" without asking NetworkManager or the routing table.
        self.env = bus.env(**dirs, GIO_USE_NETWORK_MONITOR="base")
        for var in ("SSL_CERT_FILE", "SSL_CERT_DIR"):
            self.env.pop(var, None)
        os.makedirs(os.path.join(dirs["XDG_CONFIG_HOME"], "mailnag"))
        with open(os.path.join(dirs["XDG_CONFIG_HOME"], "mailnag", "mailnag.cfg"), "w") as f:
            f.write(MAILNAG_CFG.format(user=self.user, server=SERVER, port=port))
        store = subprocess.run([mailnag_python(), "-c", STORE_SECRET, self.user, SERVER,
                                self.dc.users[self.user]], stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.env)
        connectivity = store.stdout.decode().strip()
        if store.returncode != 0 or connectivity != "full":
            raise h.HarnessError(f"setting up mailnag: connectivity {connectivity!r}, "
                                 + store.stderr.decode(errors="replace"))
        self.log_path = os.path.join(self.home, "mailnag.log")

    def start(self):
        with open(self.log_path, "wb") as log:
            self.t0 = time.monotonic()
            self.proc = subprocess.Popen([mailnag_script()], stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT, env=self.env)

    def log_tail(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()[-3000:]

    def idling_session(self):
        """The pid of the server's session of user that is in IDLE, or None;
        raises if mailnag has exited."""
        if self.proc.poll() is not None:
            raise h.HarnessError(f"mailnag exited with {self.proc.returncode}:\n"
                                 f"{self.log_tail()}")
        return next((pid for pid, user, command in sessions(self.dc)
                     if user == self.user and command == "IDLE"), None)

    def wait_watching(self, timeout):
        """Until the server shows mailnag's session in IDLE (the caller sees
        to it that mailnag's is the user's only session): (time, its pid)."""
        try:
            pid = poll(self.idling_session, timeout, "mailnag's session in IDLE")
        except TimeoutError as e:
            raise h.HarnessError(f"{e}; mailnag's log:\n{self.log_tail()}") from None
        return time.monotonic(), pid

    def wait_session_idle(self, pid, timeout=IDLE_TIMEOUT):
        def idle():
            if self.proc.poll() is not None:
                raise h.HarnessError(f"mailnag exited:\n{self.log_tail()}")
            found = [command for p, _, command in sessions(self.dc) if p == pid]
            if not found:
                raise h.HarnessError("mailnag's session ended:\n" + self.log_tail())
            return found[0] == "IDLE"
        poll(idle, timeout, "mailnag's session back in IDLE")

    def stop(self):
        if self.proc is not None:
            # On SIGTERM mailnag closes its connections and plugins; it
            # gives that up to 10 s itself.
            h.stop_process(self.proc, 15)
            self.proc = None
        if self.home:
            h._rmtree(self.home)
            self.home = None


def is_idle(ev):
    return ev.get("event") == "state" and ev.get("state") == "idle"


def wait_no_sessions(dc, user):
    poll(lambda: not any(u == user for _, u, _ in sessions(dc)), h.READY_TIMEOUT,
         f"{user}'s sessions gone")


def signal_with(mon, member, subject, timeout=IDLE_TIMEOUT):
    """The first signal `member` seen by mon whose text names subject."""
    needle = f'string "{subject}"'
    return mon.wait_for(lambda m: m["member"] == member and needle in m["text"], timeout)


def deliver(dc, user, subject):
    t0 = time.monotonic()
    dc.doveadm("save", "-u", user, "-m", "INBOX", input=h.make_message(subject=subject)[0])
    return t0


def side_by_side(args, dc, bus, keyring):
    """Both programs at once: start, idle, deliveries."""
    res = {}
    mon = h.BusMonitor(bus.address, rules=(
        "type='signal',interface='mailnag.MailnagService'",
        f"type='signal',interface='{b.IFACE}',member='MessagesAdded'"))
    mn = w = None
    try:
        mn = Mailnag(bus, dc, MN_USER, dc.imaps_port)
        mn.start()
        t_mn, session = mn.wait_watching(IDLE_TIMEOUT)
        t0 = time.monotonic()
        w = bench.Watcher(DAEMON_HEAD + bench.account_block("peers", dc, W_USER, ["INBOX"]),
                          bus=bus)
        t_w, _ = w.wait(is_idle, timeout=IDLE_TIMEOUT)
        res["start"] = (t_w - t0, t_mn - mn.t0)

        pids = (w.proc.pid, mn.proc.pid)
        res["settle_s"] = wait_quiet(pids)
        before = [tree_switches(p) for p in pids]
        t0 = time.monotonic()
        time.sleep(args.idle_seconds)  # measuring idle behaviour over wall time
        counts = [switches_since(p, m) for p, m in zip(pids, before)]
        minutes = (time.monotonic() - t0) / 60
        res["wakeups"] = tuple(n / minutes for n in counts)
        res["memory"] = tuple(tree_memory(p) for p in pids)
        res["keyring"] = tree_memory(keyring.proc.pid)

        # Independent IDLE clients: when the server itself sends EXISTS. They
        # stay connected until the server stops: closed, their readers would
        # spin on the closed sockets.
        idle_w, idle_mn = bench.IdleClient(dc, W_USER), bench.IdleClient(dc, MN_USER)
        lat = {k: [] for k in ("imapwatchd", "mailnag", "imapwatchd_bus",
                               "exists_imapwatchd", "exists_mailnag")}

        def took(key, t, t0):
            lat[key].append((t - t0) * 1000)

        for i in range(args.n):
            subject = f"peers {i}"
            t0 = deliver(dc, W_USER, subject)
            t, _ = w.wait(lambda e: e.get("event") == "new" and e.get("subject") == subject,
                          timeout=IDLE_TIMEOUT)
            took("imapwatchd", t, t0)
            took("imapwatchd_bus", signal_with(mon, "MessagesAdded", subject)["time"], t0)
            took("exists_imapwatchd", idle_w.times.get(timeout=IDLE_TIMEOUT), t0)
            mn.wait_session_idle(session)
            t0 = deliver(dc, MN_USER, subject)
            took("mailnag", signal_with(mon, "MailsAdded", subject)["time"], t0)
            took("exists_mailnag", idle_mn.times.get(timeout=IDLE_TIMEOUT), t0)
        res["latency"] = lat
    finally:
        if w is not None:
            w.stop()
        if mn is not None:
            mn.stop()
        mon.stop()
    return res


def big_start(args, dc, bus):
    """Each program started alone on a folder of args.messages messages,
    through a byte-counting proxy."""
    res = {}
    with FaultProxy("127.0.0.1", dc.imaps_port) as proxy:
        t0 = time.monotonic()
        res["unseen"] = sync.fill_maildir(dc, BIG_USER, args.messages, args.unseen)
        res["fill_s"] = time.monotonic() - t0
        state = os.path.join(dc.dir, "imapwatch-state")
        os.makedirs(state)
        # sync.Run: warms the server's index (an independent EXAMINE until
        # it is quick), then imapwatchd from its start to account state idle.
        run = sync.Run(dc, proxy, state)
        try:
            res["imapwatchd"] = {"seconds": run.seconds, "down": run.down, "up": run.up,
                                 "memory": tree_memory(run.w.proc.pid),
                                 "server_ms": run.server_ms}
        finally:
            run.stop()
        wait_no_sessions(dc, BIG_USER)
        server_ms = sync.server_examine_ms(dc, BIG_USER)
        wait_no_sessions(dc, BIG_USER)
        mn = Mailnag(bus, dc, BIG_USER, proxy.port)
        try:
            down0, up0 = proxy.bytes_down(), proxy.bytes_up()
            mn.start()
            t_watching, _ = mn.wait_watching(BIG_TIMEOUT)
            res["mailnag"] = {"seconds": t_watching - mn.t0,
                              "down": proxy.bytes_down() - down0,
                              "up": proxy.bytes_up() - up0,
                              "memory": tree_memory(mn.proc.pid), "server_ms": server_ms}
        finally:
            mn.stop()
    return res


def p90(xs):
    return statistics.quantiles(xs, n=10, method="inclusive")[8]


def fmt(value, unit):
    if value is None:
        return "-"
    if unit == "kB":
        return f"{value:,.0f} kB"
    if unit == "s":
        return f"{value:.2f} s"
    return f"{value:.1f} {unit}"


def print_table(rows):
    head = ("figure", "imapwatchd", "mailnag", "ratio (mailnag / imapwatchd)")
    cells = []
    for label, a, c, unit in rows:
        ratio = f"{c / a:.2f}" if a is not None and c is not None and a > 0 else "n/a"
        cells.append((label, fmt(a, unit), fmt(c, unit), ratio))
    widths = [max(len(r[i]) for r in [head] + cells) for i in range(4)]
    for r in [head] + cells:
        print(f"{r[0]:<{widths[0]}}  {r[1]:>{widths[1]}}  {r[2]:>{widths[2]}}  {r[3]}")


def rows_for(args, small, big):
    lat = small["latency"]
    own = {k: [x - e for x, e in zip(lat[k], lat["exists_" + k])]
           for k in ("imapwatchd", "mailnag")}
    rows = []
    for what, f in (("median", statistics.median), ("p90", p90), ("max", max)):
        rows.append((f"delivery -> report, {what}", f(lat["imapwatchd"]), f(lat["mailnag"]),
                     "ms"))
    for what, f in (("median", statistics.median), ("p90", p90)):
        rows.append((f"own share (report - server's EXISTS), {what}", f(own["imapwatchd"]),
                     f(own["mailnag"]), "ms"))
    rows.append(("delivery -> D-Bus signal at one listener, median",
                 statistics.median(lat["imapwatchd_bus"]), statistics.median(lat["mailnag"]),
                 "ms"))
    (w_pss, w_rss), (m_pss, m_rss) = small["memory"]
    rows += [("Pss, idle, whole process tree", w_pss, m_pss, "kB"),
             ("RSS, idle, whole process tree", w_rss, m_rss, "kB"),
             ("wakeups while idle (context switches)", *small["wakeups"], "/min"),
             ("start -> watching, empty INBOX", *small["start"], "s")]
    size = f"{args.messages // 1000}k" if args.messages % 1000 == 0 else str(args.messages)
    if big:
        w, m = big["imapwatchd"], big["mailnag"]
        rows += [(f"{size} start: start -> watching", w["seconds"], m["seconds"], "s"),
                 (f"{size} start: read from the server", w["down"] / 1024, m["down"] / 1024,
                  "kB"),
                 (f"{size} start: Pss once watching", w["memory"][0], m["memory"][0], "kB")]
    else:
        rows += [(f"{size} start: skipped (--skip-big)", None, None, "")]
    return rows, own


def plot(path, lat, own, head):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    n = len(lat["imapwatchd"])
    for label, xs, style in (
            ("imapwatchd: `new` event", lat["imapwatchd"], "-"),
            ("mailnag: MailsAdded", lat["mailnag"], "-"),
            ("server: EXISTS at an IDLE client", lat["exists_imapwatchd"] +
             lat["exists_mailnag"], ":")):
        xs = sorted(xs)
        left.step([xs[0]] + xs, [i / len(xs) for i in range(len(xs) + 1)], style,
                  where="post", label=label)
    left.set_xlabel("doveadm save -> report (ms)")
    left.set_ylabel("share of deliveries")
    left.set_title("delivery -> report")
    left.grid(alpha=0.3)
    left.legend(loc="lower right", fontsize="small")

    data = [own["imapwatchd"], own["mailnag"]]
    right.boxplot(data, labels=["imapwatchd", "mailnag"], showfliers=False)
    for i, xs in enumerate(data, 1):
        right.plot([i + (j % 7 - 3) * 0.03 for j in range(len(xs))], xs, ".", alpha=0.6)
    right.set_yscale("symlog", linthresh=1)
    right.set_ylabel("report - EXISTS at an IDLE client (ms, symlog)")
    right.set_title("each program's own share")
    right.grid(alpha=0.3, axis="y")
    fig.suptitle(f"{head[0]} and {head[1]}: {n} deliveries each, {head[2]} on loopback")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def versions(dc):
    def first_line(argv):
        out = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        return out.stdout.decode(errors="replace").strip().splitlines()[0]
    binary = os.environ.get("IMAPWATCHD", os.path.join(bench.ROOT, "build", "imapwatchd"))
    return (first_line([binary, "--version"]), first_line([mailnag_script(), "--version"]),
            "Dovecot " + first_line([dc.dovecot, "--version"]).split()[0])


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-n", type=int, default=30, help="deliveries (at least 2)")
    p.add_argument("--idle-seconds", type=float, default=20.0)
    p.add_argument("--plot", default="peers-latency.png")
    p.add_argument("--skip-big", action="store_true")
    p.add_argument("--messages", type=int, default=100000, help=argparse.SUPPRESS)
    p.add_argument("--unseen", type=float, default=0.2, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.n < 2:
        p.error("-n must be at least 2")
    mailnag_script()
    h.find_tool("gnome-keyring-daemon")
    ensure_matplotlib()

    with Dovecot() as dc, b.SessionBus() as bus, h.Keyring(bus.address, "peers-bench") as keyring:
        small = side_by_side(args, dc, bus, keyring)
        big = None if args.skip_big else big_start(args, dc, bus)
        # Reported before the server stops: then the IDLE clients' readers spin.
        report(args, small, big, versions(dc))


def report(args, small, big, head):
    rows, own = rows_for(args, small, big)
    plot(args.plot, small["latency"], own, head)

    lat = small["latency"]
    exists = lat["exists_imapwatchd"] + lat["exists_mailnag"]
    notes = [
        f"{head[0]} and {head[1]}, one {head[2]} on loopback (implicit TLS), one private "
        f"session bus, notifications off.",
        f"Latency: imapwatchd watches {W_USER}'s INBOX, mailnag {MN_USER}'s (set up alike), "
        f"both running; {args.n} deliveries (doveadm save) to each, one INBOX at a time. "
        f"Reports: imapwatchd's `new` event on stdout, mailnag's MailsAdded at a "
        f"dbus-monitor. The server's EXISTS reached an independent IDLE client on the same "
        f"INBOX after a median {statistics.median(exists):.1f} ms (Dovecot tells each "
        f"session on its own: a share near or below 0 is the server's order).",
        f"Memory and wakeups: every process and thread of each program, idle for "
        f"{args.idle_seconds:.0f} s once both had been quiet for 2 s (after "
        f"{small['settle_s']:.1f} s; --idle-seconds 130 sees Dovecot's '* OK Still here', "
        f"sent every 2 min). Not counted: gnome-keyring-daemon, mailnag's Secret Service, "
        f"Pss {small['keyring'][0]:,} kB."]
    if big:
        notes.append(
            f"Big start: {BIG_USER}'s INBOX, {args.messages:,} messages, {big['unseen']:,} "
            f"unseen (made in {big['fill_s']:.0f} s); each program alone, first start, "
            f"through a byte-counting proxy, after an EXAMINE of its own warmed the server's "
            f"index ({big['imapwatchd']['server_ms']:.0f} / {big['mailnag']['server_ms']:.0f}"
            f" ms). Watching: imapwatchd's state idle; mailnag's session in IDLE at the "
            f"server.")
    for note in notes:
        print(textwrap.fill(note, 100))
    print()
    print_table(rows)
    print()
    print(f"plot: {os.path.abspath(args.plot)}")


if __name__ == "__main__":
    main()
