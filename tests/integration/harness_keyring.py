# SPDX-License-Identifier: MIT
"""The Secret Service for the integration tests: gnome-keyring-daemon on a
test's private session bus (standard library only).

    with SessionBus() as bus, Keyring(bus.address) as keyring:
        keyring.store({"service": "imap", "user": "user1"}, password)
        keyring.lock()              # the login collection, as a lock screen does
        keyring.unlock()            # as the unlock prompt does: signals follow
        keyring.unlock_control()    # as pam_gnome_keyring does at login: no signal

The keyring lives in a temp home of its own (its login keyring is made there
with `password` on the first start, and unlocked). Locking is the Secret
Service's own Lock method (`gdbus call`). Unlocking without a prompt takes
one of gnome-keyring's two ways in:

- unlock(): the method org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface.
  UnlockWithMasterPassword, with the password sent as a Secret Service
  secret in a "plain" session. The session belongs to the connection that
  opened it, so both calls go over one connection: a minimal D-Bus client
  here (SASL EXTERNAL, Hello, two method calls). gnome-keyring then emits
  what an unlock through its prompt emits (Collection.ItemChanged,
  Service.CollectionChanged, PropertiesChanged).
- unlock_control(): the control socket (`<control dir>/control`), the
  operation UNLOCK that pam_gnome_keyring sends at login to a running
  daemon. gnome-keyring 42 unlocks the login keyring and emits no D-Bus
  signal at all.

SecretCalls(address) counts the method calls on the bus that search the
Secret Service (dbus-monitor), to tell a patient client from a storm:
`mark()`, `count(since=mark)`, `wait_count(n, since=mark)`.
"""

import os
import socket
import struct
import subprocess
import threading
import time

from harness_base import (READY_TIMEOUT, Fixture, HarnessError, _mkdtemp, _rmtree, find_tool,
                          stop_process)

SECRETS = "org.freedesktop.secrets"
SERVICE_PATH = "/org/freedesktop/secrets"
LOGIN = "/org/freedesktop/secrets/collection/login"
CALL_TIMEOUT = 10.0


class Keyring(Fixture):
    """gnome-keyring-daemon --components=secrets on the bus at address,
    with a login keyring made (or opened) with password and unlocked."""

    def __init__(self, address, password="keyring-password"):
        self.address = address
        self.password = password
        self.home = self.proc = None
        self.control_dir = None
        self._dirs = {}

    def start(self):
        self.home = _mkdtemp("imapwatch-keyring-")
        self._dirs = {"HOME": self.home}
        for var, sub in (("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data"),
                         ("XDG_CACHE_HOME", "cache"), ("XDG_RUNTIME_DIR", "run")):
            self._dirs[var] = os.path.join(self.home, sub)
            os.makedirs(self._dirs[var], mode=0o700)
        self.control_dir = os.path.join(self._dirs["XDG_RUNTIME_DIR"], "keyring")
        self.proc = subprocess.Popen(
            [find_tool("gnome-keyring-daemon"), "--foreground", "--unlock",
             "--components=secrets", f"--control-directory={self.control_dir}"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env=self.env(), start_new_session=True)
        # --unlock reads the login keyring's password from stdin (and makes
        # that keyring, the default collection, when there is none).
        self.proc.stdin.write(self.password.encode())
        self.proc.stdin.close()
        wait = subprocess.run(
            [find_tool("gdbus"), "wait", "--address", self.address,
             "--timeout", str(int(READY_TIMEOUT)), SECRETS],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            env=self.env(), timeout=READY_TIMEOUT + 5)
        if wait.returncode != 0 or self.proc.poll() is not None:
            self.stop()
            raise HarnessError("gnome-keyring-daemon did not take org.freedesktop.secrets: "
                               + wait.stderr.decode(errors="replace"))

    def stop(self):
        if self.proc is not None:
            stop_process(self.proc)
            self.proc = None
        if self.home:
            _rmtree(self.home)
            self.home = None

    def env(self, **extra):
        """The environment of a client of this keyring (its bus, its home)."""
        env = dict(os.environ)
        for var in ("DISPLAY", "WAYLAND_DISPLAY"):
            env.pop(var, None)
        env.update(self._dirs)
        env["DBUS_SESSION_BUS_ADDRESS"] = self.address
        env.update(extra)
        return env

    def _run(self, argv, input=None):
        proc = subprocess.run(argv, input=input, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=self.env(), timeout=CALL_TIMEOUT)
        if proc.returncode != 0:
            raise HarnessError(f"{' '.join(argv)} failed ({proc.returncode}): "
                               + proc.stderr.decode(errors="replace"))
        return proc.stdout.decode()

    def store(self, attributes, secret, label="imapwatch test"):
        """secret-tool store: an item in the default (login) collection."""
        argv = [find_tool("secret-tool"), "store", f"--label={label}"]
        for k, v in attributes.items():
            argv += [k, v]
        self._run(argv, input=secret.encode())

    def _gdbus(self, path, method, *args):
        return self._run([find_tool("gdbus"), "call", "--address", self.address,
                          "--dest", SECRETS, "--object-path", path, "--method", method,
                          *args])

    def locked(self, collection=LOGIN):
        out = self._gdbus(collection, "org.freedesktop.DBus.Properties.Get",
                          "org.freedesktop.Secret.Collection", "Locked")
        return "true" in out

    def lock(self, collection=LOGIN):
        """Service.Lock (gnome-keyring locks without a prompt)."""
        self._gdbus(SERVICE_PATH, "org.freedesktop.Secret.Service.Lock", f"['{collection}']")
        if not self.locked(collection):
            raise HarnessError(f"{collection} still unlocked after Lock")

    def unlock(self, collection=LOGIN, password=None):
        """UnlockWithMasterPassword over one connection (see the module)."""
        with _Connection(self.address) as conn:
            reply = conn.call(SECRETS, SERVICE_PATH, "org.freedesktop.Secret.Service",
                              "OpenSession", "sv", [("s", "plain"), ("v", ("s", ""))])
            session = reply[1]
            secret = (password or self.password).encode()
            conn.call(SECRETS, SERVICE_PATH,
                      "org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface",
                      "UnlockWithMasterPassword", "o(oayays)",
                      [("o", collection),
                       ("(", [("o", session), ("ay", b""), ("ay", secret),
                              ("s", "text/plain")])])
        if self.locked(collection):
            raise HarnessError(f"{collection} still locked after UnlockWithMasterPassword")

    def unlock_control(self, password=None):
        """The control socket's UNLOCK (the login keyring); raises unless
        gnome-keyring answers OK."""
        secret = (password or self.password).encode()
        body = struct.pack(">II", 1, len(secret)) + secret  # UNLOCK, string
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(CALL_TIMEOUT)
            s.connect(os.path.join(self.control_dir, "control"))
            s.sendall(b"\0")  # the credentials byte (the server asks SO_PEERCRED)
            s.sendall(struct.pack(">I", len(body) + 4) + body)
            head = _recv_exactly(s, 4)
            rest = _recv_exactly(s, struct.unpack(">I", head)[0] - 4)
        result = struct.unpack(">I", rest[:4])[0]
        if result != 0:
            raise HarnessError(f"gnome-keyring's control socket refused the unlock "
                               f"(result {result}: 1 denied, 2 failed)")
        if self.locked():
            raise HarnessError("the login keyring is still locked after the control unlock")


class SecretCalls(Fixture):
    """dbus-monitor on the bus at address for the Secret Service's search
    calls (Service.SearchItems); count() since start() or a mark()."""

    def __init__(self, address):
        self.address = address
        self.proc = None
        self._lines = []
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._reader = None

    def start(self):
        self.proc = subprocess.Popen(
            [find_tool("dbus-monitor"), "--address", self.address,
             "type='method_call',interface='org.freedesktop.Secret.Service'"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            start_new_session=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        # It reports its own NameAcquired first: then it is monitoring.
        if not self._ready.wait(READY_TIMEOUT):
            self.stop()
            raise HarnessError("dbus-monitor printed nothing")

    def _read(self):
        for raw in self.proc.stdout:
            self._ready.set()
            line = raw.decode(errors="replace")
            if line.startswith("method call"):
                with self._lock:
                    self._lines.append(line)
        self._ready.set()

    def mark(self):
        with self._lock:
            return len(self._lines)

    def count(self, member="SearchItems", since=0):
        with self._lock:
            return sum(1 for line in self._lines[since:] if f"member={member}" in line)

    def wait_count(self, n, since=0, member="SearchItems", timeout=10.0):
        """Until n calls of member came after mark since (a bounded poll of
        what dbus-monitor printed); AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        while self.count(member, since) < n:
            if time.monotonic() >= deadline:
                raise AssertionError(f"{self.count(member, since)} of {n} {member} calls "
                                     f"within {timeout}s")
            time.sleep(0.05)  # polling a condition, bounded

    def stop(self):
        if self.proc is not None:
            stop_process(self.proc)
            self._reader.join(timeout=5)
            self.proc.stdout.close()
            self.proc = None


# --------------------------------------------------------------------------
# A minimal D-Bus client: one connection, method calls with the few types
# the unlock needs (s o g u y ay v and structs), little-endian.


def _recv_exactly(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise HarnessError(f"connection closed after {len(data)} of {n} bytes")
        data += chunk
    return data


def _unix_address(address):
    for entry in address.split(";"):
        if not entry.startswith("unix:"):
            continue
        keys = dict(kv.split("=", 1) for kv in entry[5:].split(",") if "=" in kv)
        if "path" in keys:
            return keys["path"]
        if "abstract" in keys:
            return "\0" + keys["abstract"]
    raise HarnessError(f"no unix path in the bus address {address!r}")


class _Writer:
    def __init__(self):
        self.buf = bytearray()

    def pad(self, n):
        self.buf += b"\0" * (-len(self.buf) % n)

    def value(self, sig, v):
        if sig == "y":
            self.buf += struct.pack("<B", v)
        elif sig == "u":
            self.pad(4)
            self.buf += struct.pack("<I", v)
        elif sig in ("s", "o"):
            data = v.encode()
            self.pad(4)
            self.buf += struct.pack("<I", len(data)) + data + b"\0"
        elif sig == "g":
            data = v.encode()
            self.buf += struct.pack("<B", len(data)) + data + b"\0"
        elif sig == "ay":
            self.pad(4)
            self.buf += struct.pack("<I", len(v)) + v
        elif sig == "v":
            inner, value = v
            self.value("g", inner)
            self.value(inner, value)
        elif sig == "(":
            self.pad(8)
            for s, x in v:
                self.value(s, x)
        else:
            raise ValueError(f"type {sig!r} not supported")


class _Reader:
    def __init__(self, data, endian):
        self.data = data
        self.pos = 0
        self.e = endian

    def align(self, n):
        self.pos += -self.pos % n

    def value(self, sig):
        """One value of a single complete type sig (s o g u y v; others
        stop the reading: returns None)."""
        if sig == "y":
            self.pos += 1
            return self.data[self.pos - 1]
        if sig == "u":
            self.align(4)
            self.pos += 4
            return struct.unpack(self.e + "I", self.data[self.pos - 4:self.pos])[0]
        if sig in ("s", "o"):
            n = self.value("u")
            self.pos += n + 1
            return self.data[self.pos - n - 1:self.pos - 1].decode()
        if sig == "g":
            n = self.value("y")
            self.pos += n + 1
            return self.data[self.pos - n - 1:self.pos - 1].decode()
        if sig == "v":
            return self.value(self.value("g"))
        return None


class _Connection:
    """A D-Bus connection to the bus at address (SASL EXTERNAL, Hello)."""

    def __init__(self, address):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(CALL_TIMEOUT)
        self.serial = 0
        try:
            self.sock.connect(_unix_address(address))
            uid = str(os.geteuid()).encode().hex()
            self.sock.sendall(b"\0AUTH EXTERNAL " + uid.encode() + b"\r\n")
            line = b""
            while not line.endswith(b"\r\n"):
                line += _recv_exactly(self.sock, 1)
            if not line.startswith(b"OK "):
                raise HarnessError(f"the bus refused EXTERNAL: {line!r}")
            self.sock.sendall(b"BEGIN\r\n")
            self.call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                      "Hello", "", [])
        except BaseException:
            self.sock.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.sock.close()

    def call(self, dest, path, iface, member, signature, args):
        """A method call; the reply's first values (s o g u y v), or
        HarnessError with the error name and text."""
        body = _Writer()
        for sig, v in args:
            body.value(sig, v)
        self.serial += 1
        fields = [(1, "o", path), (2, "s", iface), (3, "s", member), (6, "s", dest)]
        if signature:
            fields.append((8, "g", signature))
        head = _Writer()
        head.buf += struct.pack("<BBBBII", ord("l"), 1, 0, 1, len(body.buf), self.serial)
        array = _Writer()
        array.buf = bytearray(16)  # aligned as in the message
        for code, sig, v in fields:
            array.value("(", [("y", code), ("v", (sig, v))])
        head.buf += struct.pack("<I", len(array.buf) - 16) + array.buf[16:]
        head.pad(8)
        self.sock.sendall(bytes(head.buf) + bytes(body.buf))
        while True:
            kind, fields, body_sig, data, endian = self._receive()
            if fields.get(5) != self.serial or kind not in (2, 3):
                continue  # a signal (NameAcquired) or another message
            r = _Reader(data, endian)
            values = []
            for sig in _split_signature(body_sig):
                v = r.value(sig)
                if v is None:
                    break
                values.append(v)
            if kind == 3:
                raise HarnessError(f"{member}: {fields.get(4)}: {values[0] if values else ''}")
            return values

    def _receive(self):
        fixed = _recv_exactly(self.sock, 16)
        endian = "<" if fixed[0:1] == b"l" else ">"
        kind = fixed[1]
        body_len, _, fields_len = struct.unpack(endian + "III", fixed[4:16])
        rest = _recv_exactly(self.sock, fields_len + (-(16 + fields_len) % 8) + body_len)
        r = _Reader(fixed + rest[:fields_len], endian)
        r.pos = 16
        fields = {}
        while r.pos < 16 + fields_len:
            r.align(8)
            code = r.value("y")
            fields[code] = r.value("v")
        body = rest[len(rest) - body_len:] if body_len else b""
        return kind, fields, fields.get(8, ""), body, endian


def _split_signature(sig):
    """Single complete types of a signature (containers as one item)."""
    out, i = [], 0
    while i < len(sig):
        j = i
        depth = 0
        while True:
            c = sig[j]
            if c in "({":
                depth += 1
            elif c in ")}":
                depth -= 1
            j += 1
            if depth == 0 and c != "a":
                break
        out.append(sig[i:j])
        i = j
    return out

