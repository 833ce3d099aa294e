# SPDX-License-Identifier: MIT
"""Real D-Bus parts for imapwatch integration tests (standard library only).

- SessionBus: a private dbus-daemon in a temp dir (its own config; optional
  activatable .service files), ready once it prints its address.
- Monitor: `gdbus monitor` on that bus for org.imapwatch.Daemon1, an
  independent listener; every signal is parsed into (member, args).
- call(): one method call with `gdbus call`; raises BusError(name, text).
- send_raw(): one call with `dbus-send`, which does not check arguments
  against introspection data (for calls with wrong arguments).
- parse_gvariant(): GVariant text format (what gdbus prints) to Python.
- What test_dbus and test_cli share: BusTestCase (bus, listener and daemon
  for a test class), ThreeAccountsTestCase, account(), deliver(), cli(),
  cli_binary(), read_line(), read_stderr_line().
"""

import os
import queue
import re
import select
import subprocess
import threading
import time
import unittest

import imapwatch_harness as h

NAME = "org.imapwatch.Daemon1"
PATH = "/org/imapwatch/Daemon1"
IFACE = "org.imapwatch.Daemon1"
CALL_TIMEOUT = 30.0


class BusError(Exception):
    def __init__(self, name, text):
        super().__init__(f"{name}: {text}")
        self.name = name
        self.text = text


# --------------------------------------------------------------------------
# GVariant text format


_TYPE_WORDS = ("boolean", "byte", "int16", "uint16", "int32", "uint32",
               "int64", "uint64", "double", "handle", "objectpath",
               "signature", "string")


class _Parser:
    def __init__(self, text):
        self.s = text
        self.i = 0

    def ws(self):
        while self.i < len(self.s) and self.s[self.i].isspace():
            self.i += 1

    def peek(self):
        self.ws()
        return self.s[self.i] if self.i < len(self.s) else ""

    def expect(self, ch):
        if self.peek() != ch:
            raise ValueError(f"expected {ch!r} at {self.i}: {self.s[self.i:self.i + 40]!r}")
        self.i += 1

    def value(self):
        c = self.peek()
        if c == "(":
            return tuple(self.items("(", ")"))
        if c == "[":
            return list(self.items("[", "]"))
        if c == "{":
            return self.dict()
        if c == "<":
            self.i += 1
            v = self.value()
            self.expect(">")
            return v
        if c in "'\"":
            return self.string()
        if c == "@":
            # A type annotation: "@aa{sv} []".
            while self.i < len(self.s) and not self.s[self.i].isspace():
                self.i += 1
            return self.value()
        m = re.compile(r"[A-Za-z_][A-Za-z0-9_]*").match(self.s, self.i)
        if m:
            word = m.group(0)
            if word in ("true", "false"):
                self.i = m.end()
                return word == "true"
            if word in _TYPE_WORDS:
                self.i = m.end()
                return self.value()
            if word == "nothing":
                self.i = m.end()
                return None
        m = re.compile(r"-?(0x[0-9a-fA-F]+|[0-9.eE+-]+|inf|nan)").match(self.s, self.i)
        if not m:
            raise ValueError(f"cannot parse at {self.i}: {self.s[self.i:self.i + 40]!r}")
        self.i = m.end()
        text = m.group(0)
        if text.lower().startswith(("0x", "-0x")):
            return int(text, 16)
        try:
            return int(text)
        except ValueError:
            return float(text)

    def items(self, open_, close):
        self.expect(open_)
        out = []
        while self.peek() != close:
            out.append(self.value())
            if self.peek() == ",":
                self.i += 1
        self.i += 1
        return out

    def dict(self):
        self.expect("{")
        out = {}
        while self.peek() != "}":
            k = self.value()
            self.expect(":")
            out[k] = self.value()
            if self.peek() == ",":
                self.i += 1
        self.i += 1
        return out

    def string(self):
        quote = self.s[self.i]
        self.i += 1
        out = []
        escapes = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f",
                   "v": "\v", "a": "\a", "\\": "\\", "'": "'", '"': '"'}
        while True:
            c = self.s[self.i]
            self.i += 1
            if c == quote:
                return "".join(out)
            if c != "\\":
                out.append(c)
                continue
            e = self.s[self.i]
            self.i += 1
            if e == "u":
                out.append(chr(int(self.s[self.i:self.i + 4], 16)))
                self.i += 4
            elif e == "U":
                out.append(chr(int(self.s[self.i:self.i + 8], 16)))
                self.i += 8
            else:
                out.append(escapes.get(e, e))


def parse_gvariant(text):
    p = _Parser(text)
    v = p.value()
    if p.peek():
        raise ValueError(f"trailing text: {text[p.i:]!r}")
    return v


def gvariant_string(s):
    """A Python str as a GVariant text string literal."""
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def gvariant_arg(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return gvariant_string(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(gvariant_arg(x) for x in v) + "]"
    return str(v)


# --------------------------------------------------------------------------
# dbus-daemon


class SessionBus(h.Fixture):
    """A private session bus: `with SessionBus() as bus: bus.address`.

    services: {bus_name: exec_line} become activatable .service files (to
    prove that something is *not* activated).
    """

    def __init__(self, services=None):
        self.binary = h.find_tool("dbus-daemon")
        self.services = services or {}
        self.dir = None
        self.proc = None
        self.address = None

    def start(self):
        self.dir = h._mkdtemp("imapwatch-bus-")
        services = os.path.join(self.dir, "services")
        os.makedirs(services)
        for name, exec_line in self.services.items():
            with open(os.path.join(services, name + ".service"), "w") as f:
                f.write(f"[D-BUS Service]\nName={name}\nExec={exec_line}\n")
        conf = os.path.join(self.dir, "bus.conf")
        with open(conf, "w") as f:
            f.write(f"""<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={self.dir}</listen>
  <auth>EXTERNAL</auth>
  <servicedir>{services}</servicedir>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
""")
        self.proc = subprocess.Popen(
            [self.binary, "--config-file", conf, "--nofork", "--nopidfile",
             "--print-address=1"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, start_new_session=True)
        # Ready once it prints the address it listens on.
        ready, _, _ = select.select([self.proc.stdout], [], [], h.READY_TIMEOUT)
        if not ready:
            self.stop()
            raise h.HarnessError("dbus-daemon did not print its address")
        self.address = self.proc.stdout.readline().decode().strip()
        if not self.address:
            self.stop()
            raise h.HarnessError("dbus-daemon exited without an address")

    def stop(self):
        if self.proc is not None:
            h.stop_process(self.proc)
            self.proc.stdout.close()
            self.proc = None
        if self.dir:
            h._rmtree(self.dir)
            self.dir = None

    def env(self, **extra):
        """Environment for a client of this bus (and of nothing else)."""
        env = dict(os.environ)
        for var in ("DISPLAY", "WAYLAND_DISPLAY"):
            env.pop(var, None)
        env["DBUS_SESSION_BUS_ADDRESS"] = self.address
        env.update(extra)
        return env


def _run(argv, env, timeout=CALL_TIMEOUT):
    return subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=env, timeout=timeout)


def _raise_gdbus_error(proc, what):
    err = proc.stderr.decode(errors="replace")
    m = re.search(r"GDBus\.Error:([\w.]+): (.*)", err, re.S)
    if m:
        raise BusError(m.group(1), m.group(2).split("\n(According")[0].strip())
    raise AssertionError(f"{what} failed ({proc.returncode}): {err}")


def call(bus, method, *args, iface=IFACE):
    """Calls IFACE.method on the daemon; returns the reply tuple."""
    argv = [h.find_tool("gdbus"), "call", "--address", bus.address,
            "--dest", NAME, "--object-path", PATH, "--timeout", "60",
            "--method", f"{iface}.{method}", "--"]
    argv += [gvariant_arg(a) for a in args]
    proc = _run(argv, bus.env(), timeout=90)
    if proc.returncode != 0:
        _raise_gdbus_error(proc, f"gdbus call {method}")
    return parse_gvariant(proc.stdout.decode().strip())


def send_raw(bus, method, *typed_args, iface=IFACE):
    """dbus-send with typed args ("string:x", "int32:5"); raises BusError
    for an error reply, returns stdout otherwise."""
    argv = [h.find_tool("dbus-send"), f"--bus={bus.address}", "--print-reply",
            "--reply-timeout=30000", f"--dest={NAME}", PATH, f"{iface}.{method}"]
    argv += list(typed_args)
    proc = _run(argv, bus.env())
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip()
        m = re.match(r"Error ([\w.]+): (.*)", err, re.S)
        if m:
            raise BusError(m.group(1), m.group(2))
        raise AssertionError(f"dbus-send {method} failed: {err}")
    return proc.stdout.decode()


# --------------------------------------------------------------------------
# gdbus monitor


class Monitor:
    """`gdbus monitor --dest org.imapwatch.Daemon1` on a bus.

    signals: list of (member, args) in arrival order (arrival(i): when), member as
    "Interface.Member" shortened to "Member" for our interface and
    "PropertiesChanged" for properties. Ready after start() returns: the
    bus has processed its subscription.
    """

    def __init__(self, bus):
        self.bus = bus
        self.proc = None
        self._signals = []
        self._times = []  # time.monotonic() at arrival, per signal
        self._queue = queue.Queue()
        self._other = []
        self._owner_lines = queue.Queue()
        self._reader = None
        self._eof = False

    def start(self):
        self.proc = subprocess.Popen(
            [h.find_tool("gdbus"), "monitor", "--address", self.bus.address,
             "--dest", NAME],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, env=self.bus.env(), start_new_session=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        # gdbus subscribes, then asks who owns the name and says so; the
        # answer comes after the bus has processed the subscription.
        try:
            self._owner_lines.get(timeout=h.READY_TIMEOUT)
        except queue.Empty:
            self.stop()
            raise h.HarnessError(f"gdbus monitor is not ready: {self._other}")
        return self

    def _read(self):
        pattern = re.compile(r"^(/\S*): ([\w.]+)\.(\w+) (\(.*\))$")
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            m = pattern.match(line)
            if not m:
                self._other.append(line)
                if line.startswith("The name "):
                    self._owner_lines.put(line)
                continue
            iface, member, args = m.group(2), m.group(3), m.group(4)
            try:
                parsed = parse_gvariant(args)
            except (ValueError, IndexError) as e:
                self._other.append(f"unparsed ({e}): {line}")
                continue
            name = member if iface in (IFACE, "org.freedesktop.DBus.Properties") \
                else f"{iface}.{member}"
            self._queue.put((time.monotonic(), name, parsed))
        self._queue.put(None)

    def _drain(self, timeout):
        try:
            item = self._queue.get(timeout=timeout) if timeout > 0 else self._queue.get_nowait()
        except queue.Empty:
            return
        while True:
            if item is None:
                self._eof = True
            else:
                self._times.append(item[0])
                self._signals.append(item[1:])
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return

    def signals(self, since=0, member=None):
        self._drain(0)
        return [s for s in self._signals[since:] if member is None or s[0] == member]

    def mark(self):
        self._drain(0)
        return len(self._signals)

    def arrival(self, index):
        """time.monotonic() when signal number `index` was read."""
        self._drain(0)
        return self._times[index]

    def describe(self, since=0):
        lines = [f"signals seen since {since}:"]
        lines += [f"  [{i}] {m} {a!r}"[:600] for i, (m, a) in enumerate(self.signals(), 0)
                  if i >= since]
        lines += ["other gdbus output:"] + [f"  {x}" for x in self._other[-20:]]
        return "\n".join(lines)

    def wait_until(self, predicate, timeout=10.0, since=0, what="condition"):
        """Waits until predicate(signals since `since`) is true; returns
        its value."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate(self.signals(since))
            if result:
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._eof:
                raise AssertionError(f"no {what} within {timeout}s\n{self.describe(since)}")
            self._drain(remaining)

    def wait_for(self, member, pred=lambda args: True, timeout=10.0, since=0):
        """The args of the first signal `member` (at index >= since) with
        pred(args) true."""
        def find(signals):
            for m, args in signals:
                if m == member and pred(args):
                    return (args,)
            return None
        return self.wait_until(find, timeout, since, what=member)[0]

    def messages(self, member, since=0):
        """Every message dictionary of the Messages* signals `member`."""
        return [d for _, args in self.signals(since, member) for d in args[0]]

    def stop(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
                self.proc.wait(timeout=5)
            if self._reader:
                self._reader.join(timeout=5)
            self.proc.stdout.close()
            self.proc = None


def wait_condition(predicate, timeout, what):
    """Bounded wait for a condition that has no event to wait on (server
    state seen through doveadm): checks it every 50 ms until it holds."""
    deadline = time.monotonic() + timeout
    stop = threading.Event()
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not true within {timeout}s")
        stop.wait(0.05)


# --------------------------------------------------------------------------
# What test_dbus and test_cli share. Each of them starts its own Dovecot,
# which the helpers below are given; they hold no server of their own.


CONNECT_TIMEOUT = 20.0
EVENT_TIMEOUT = 10.0


def account(dovecot, user, folders=("INBOX",), password=None):
    """An account dict for h.Daemon: user on dovecot's implicit-TLS port."""
    return {
        "host": "localhost",
        "port": dovecot.imaps_port,
        "username": user,
        "password": password or dovecot.users[user],
        "folders": list(folders),
        "tls_ca_file": h.certs().ca,
    }


def deliver(dovecot, user, folder, subject, **kwargs):
    """Delivers a new message; returns (uid, Message-ID)."""
    msg, message_id = h.make_message(subject=subject, **kwargs)
    return dovecot.deliver(user, folder, msg), message_id


def cli_binary():
    return h.program("IMAPWATCH")


def cli(bus, *args, env=None, timeout=90):
    """Runs imapwatch on the bus; returns (exit code, stdout, stderr)."""
    proc = subprocess.run([cli_binary(), *args], stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=bus.env(**(env or {})), timeout=timeout)
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


def read_line(proc, timeout):
    """The next stdout line of proc (without newline); fails after timeout.
    proc must be unbuffered (bufsize=0), or select() misses buffered lines."""
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    if not ready:
        raise AssertionError(f"no output within {timeout}s")
    line = proc.stdout.readline().decode()
    if not line:
        raise AssertionError(f"output ended; stderr: {proc.stderr.read().decode()}")
    return line.rstrip("\n")


def read_stderr_line(proc, timeout):
    ready, _, _ = select.select([proc.stderr], [], [], timeout)
    if not ready:
        raise AssertionError(f"nothing on stderr within {timeout}s")
    return proc.stderr.readline().decode()


class BusTestCase(unittest.TestCase):
    maxDiff = None

    @classmethod
    def start_bus(cls, accounts, **bus_kwargs):
        """Bus, listener and daemon for the class; waits until every
        account is idle."""
        cls.bus = SessionBus(**bus_kwargs)
        cls.bus.start()
        cls.monitor = None
        cls.daemon = None
        try:
            cls.monitor = Monitor(cls.bus).start()
            cls.daemon = h.Daemon(accounts, env={"DBUS_SESSION_BUS_ADDRESS": cls.bus.address})
            cls.daemon.start()
            for name in accounts:
                cls.daemon.wait_for(h.is_account_state(name, "idle"), timeout=CONNECT_TIMEOUT)
        except BaseException:
            cls.stop_bus(failed=True)
            raise

    @classmethod
    def stop_bus(cls, failed=False):
        try:
            if cls.daemon is not None:
                if failed:
                    cls.daemon.kill()
                else:
                    cls.daemon.stop()
        finally:
            if cls.monitor is not None:
                cls.monitor.stop()
            cls.bus.stop()

    def call(self, method, *args, iface=IFACE):
        return call(self.bus, method, *args, iface=iface)

    def assert_bus_error(self, name, method, *args, iface=IFACE, raw=False):
        with self.assertRaises(BusError) as cm:
            if raw:
                send_raw(self.bus, method, *args, iface=iface)
            else:
                self.call(method, *args, iface=iface)
        self.assertEqual(cm.exception.name, name, cm.exception)
        # Readable text, not a bare error name.
        self.assertRegex(cm.exception.text, r"[a-z]+ [a-z]+")
        return cm.exception.text

    def message_for(self, member, account, folder, uid, since):
        return self.monitor.wait_for(
            member, lambda args: any(d["account"] == account and d["folder"] == folder
                                     and d["uid"] == uid for d in args[0]),
            timeout=EVENT_TIMEOUT, since=since)

    def find_message(self, args, account, folder, uid):
        return next(d for d in args[0] if d["account"] == account and d["folder"] == folder
                    and d["uid"] == uid)

    def assert_dict_matches_event(self, d, ev):
        """A signal's message dictionary carries the fields of the JSON event."""
        for key, value in ev.items():
            if key != "event":
                self.assertEqual(d[key], value, f"key {key}: {d!r} vs {ev!r}")


class ThreeAccountsTestCase(BusTestCase):
    """One daemon with three accounts on its own bus, for the class:
    alpha (user1: INBOX and Lists), beta (user2), burst (user3). A subclass
    sets `server` to its module's Dovecot."""

    ACCOUNTS = ["alpha", "beta", "burst"]
    server = None

    @classmethod
    def setUpClass(cls):
        cls.server.create_folder("user1", "Lists")
        cls.start_bus({
            "alpha": account(cls.server, "user1", ["INBOX", "Lists"]),
            "beta": account(cls.server, "user2"),
            "burst": account(cls.server, "user3"),
        })

    @classmethod
    def tearDownClass(cls):
        cls.stop_bus()
