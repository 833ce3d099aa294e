# SPDX-License-Identifier: MIT
"""Cyrus: a private Cyrus IMAP (3.x) on free loopback ports in a temp dir,
with IMAP helpers that act as the user's other devices; and mail_server(),
which starts Dovecot or Cyrus as IMAPWATCH_TEST_SERVER says.
"""

import base64
import glob
import imaplib
import os
import pwd
import re
import secrets
import signal
import socket
import ssl
import subprocess
import tempfile
import time

from harness_base import (READY_TIMEOUT, Fixture, HarnessError, _mkdtemp, _rmtree, _run,
                          find_tool, free_port, stop_group)
from harness_dovecot import DEFAULT_USERS, Dovecot
from harness_message import make_message
from harness_pki import certs


# Which server the integration tests start: "dovecot" (the default) or
# "cyrus" (ctest's integration-cyrus/* entries).
SERVER = os.environ.get("IMAPWATCH_TEST_SERVER", "") or "dovecot"


def mail_server(**kwargs):
    """The test server IMAPWATCH_TEST_SERVER names, not started: Dovecot
    (the default) or Cyrus, given the same keyword arguments."""
    if SERVER == "dovecot":
        return Dovecot(**kwargs)
    if SERVER == "cyrus":
        return Cyrus(**kwargs)
    raise HarnessError(f"IMAPWATCH_TEST_SERVER={SERVER}: use dovecot or cyrus")


# cyrus-common installs master and the tools; imapd and idled come with
# cyrus-imapd, which conflicts with dovecot-imapd, so scripts/install-deps
# unpacks them beside each other here instead (with the version in VERSION).
CYRUS_BIN = "/usr/lib/cyrus/bin"
UNPACKED_BIN = "/usr/local/lib/imapwatch-tests/cyrus"
HARDWIRED_CONFIG = "/usr/lib/cyrus/cyrus-hardwired-config.txt"
SHM = "/dev/shm"

# The helpers (the other devices) connect to a listener of their own, the
# service "helper": who() and logins() leave its sessions out.
HELPER_SERVICE = "helper"

# expunge() moves the message into this user's INBOX, where everyone may
# insert and nobody else may look (Cyrus shows no flag change to the other
# sessions, as an expunge by doveadm; STORE \Deleted and EXPUNGE would).
BIN_USER = "harness-bin"

# Optional extensions a test may take away with capabilities=... (Cyrus's
# suppress_capabilities); the rest of Cyrus's list always stays.
OPTIONAL_CAPABILITIES = (
    "QRESYNC", "CONDSTORE", "ESEARCH", "IDLE", "LIST-STATUS", "LIST-EXTENDED",
    "SPECIAL-USE", "MOVE", "UIDPLUS", "CHILDREN", "NAMESPACE", "STATUS=SIZE")


def _cyrus_tool(name, env_var):
    """master and ctl_cyrusdb come from cyrus-common, imapd and idled from
    cyrus-imapd (installed, or unpacked by scripts/install-deps)."""
    if os.environ.get(env_var):
        return find_tool(name, env_var)
    for d in (CYRUS_BIN, UNPACKED_BIN):
        path = os.path.join(d, name)
        if os.access(path, os.X_OK):
            if d == UNPACKED_BIN:
                _check_unpacked_version()
            return path
    raise HarnessError(f"Cyrus's {name} not found in {CYRUS_BIN} or {UNPACKED_BIN}; "
                       "run scripts/install-deps")


def _check_unpacked_version():
    """The unpacked imapd links the libraries of the installed cyrus-common:
    the versions must be the same."""
    try:
        with open(os.path.join(UNPACKED_BIN, "VERSION")) as f:
            unpacked = f.read().strip()
        with open(HARDWIRED_CONFIG) as f:
            m = re.search(r"^PACKAGE_VERSION (\S+)", f.read(), re.M)
    except OSError as e:
        raise HarnessError(f"Cyrus version check: {e}; run scripts/install-deps") from None
    if not m or m.group(1) != unpacked:
        raise HarnessError(
            f"{UNPACKED_BIN} holds cyrus-imapd {unpacked}, cyrus-common is "
            f"{m.group(1) if m else '?'}; run scripts/install-deps")


def mutf7_encode(name):
    """RFC 3501 §5.1.3 modified UTF-7 of a folder name."""
    out, pending = [], []

    def flush():
        if pending:
            raw = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(raw).decode().rstrip("=").replace("/", ",")
                       + "-")
            pending.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7e:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            pending.append(ch)
    flush()
    return "".join(out)


def mutf7_decode(name):
    def shift(m):
        if not m.group(1):
            return "&"
        b64 = m.group(1).replace(",", "/")
        return base64.b64decode(b64 + "=" * (-len(b64) % 4)).decode("utf-16-be")
    return re.sub(r"&([^-]*)-", shift, name)


def _quote(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class _Helper(imaplib.IMAP4_SSL):
    """imaplib over implicit TLS, without Nagle's 40 ms waits: Cyrus writes
    its greeting right behind the TLS handshake, and the second write waits
    for an ACK that the client delays unless told to send it at once."""

    def _create_socket(self, timeout):
        sock = socket.create_connection((self.host, self.port), timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock = self.ssl_context.wrap_socket(sock, server_hostname=self.host)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        return sock


class Cyrus(Fixture):
    """A private Cyrus IMAP: `with Cyrus() as cy: ...`, the same face as
    Dovecot where the tests use it.

    Listeners on 127.0.0.1: imaps_port (implicit TLS) and imap_port (plain,
    STARTTLS offered, LOGIN allowed). Users: users {name: password} in a
    sasldb of the temp dir; their INBOX is made at their first login.
    Hierarchy separator "/", other folders beside INBOX (Cyrus 3's
    altnamespace). idled runs, so IDLE hears of changes at once.

    idle_timeout=SECONDS sets Cyrus's imapidletimeout (default: its 32
    minutes), after which Cyrus closes an idling connection without a word;
    then imapidlepoll is 1 s so that the timeout is kept to the second.
    capabilities="IMAP4rev1 ...": the extensions of OPTIONAL_CAPABILITIES
    missing from it are suppressed (e.g. QRESYNC, for a CONDSTORE-only
    server). Cyrus 3.6 has no NOTIFY: notify=True is an error.

    Runs as the current user; as root, as the cyrus user of the
    cyrus-common package (the temp dir is given to it). Every Cyrus
    program gets -C with this instance's imapd.conf: nothing of a system
    Cyrus (/etc/imapd.conf, /var/lib/cyrus) is read or touched.

    Other devices are IMAP sessions as the user on a third listener,
    helper_port (who() and logins() leave them out): deliver(), create_folder(),
    delete_folder(), rename_folder(), recreate_folder(), folders(),
    flags_add(), flags_remove(), expunge(), fetch(), uids(), state(),
    status(); kick() ends the user's server processes (SIGTERM: the
    connection closes without BYE); who()/connections() read Cyrus's proc
    files. Cyrus logs to syslog, which the tests do not see: log_text()
    is master's output and the IMAP telemetry of every session (Cyrus
    writes each user's sessions to <tmp>/conf/log/USER/ after login).
    """

    def __init__(self, users=None, cert=None, key=None, plaintext_auth=True,
                 name="cyrus", idle_timeout=None, capabilities=None, notify=False):
        if notify:
            raise HarnessError("Cyrus 3.6 offers no NOTIFY (RFC 5465)")
        self.master = _cyrus_tool("master", "CYRUS_MASTER")
        self.ctl_cyrusdb = os.path.join(os.path.dirname(self.master), "ctl_cyrusdb")
        self.imapd = _cyrus_tool("imapd", "CYRUS_IMAPD")
        self.idled = os.path.join(os.path.dirname(self.imapd), "idled")
        self.saslpasswd2 = find_tool("saslpasswd2", "SASLPASSWD2")
        self.certs = certs()
        self.users = dict(users or DEFAULT_USERS)
        self.cert = cert or self.certs.server_cert
        self.key = key or self.certs.server_key
        self.plaintext_auth = plaintext_auth
        self.idle_timeout = idle_timeout
        self.capabilities = capabilities
        self.name = name
        self.dir = None
        self.proc = None
        self.imap_port = None
        self.imaps_port = None
        self.helper_port = None
        self._context = None

    # -- lifecycle

    def start(self):
        self.dir = self._mkdtemp()
        try:
            self._prepare()
            for attempt in range(5):
                ports = {free_port() for _ in range(3)}
                if len(ports) != 3:
                    continue
                self.imap_port, self.imaps_port, self.helper_port = ports
                self._write_config()
                if self._start_once():
                    self._imap(BIN_USER, lambda c: self._ok(c.setacl("INBOX", "anyone", "i"),
                                                            "SETACL"))
                    return
                # A port was taken between picking and binding; try new ones.
                self._kill()
            raise HarnessError(f"cyrus did not start (last greeting not Cyrus's: "
                               f"{self._other_greeting!r}):\n{self.log_text()}")
        except BaseException:
            self.stop()
            raise

    def stop(self):
        self._kill()
        if self.dir:
            _rmtree(self.dir)
            self.dir = None

    def _kill(self):
        if self.proc is not None:
            stop_group(self.proc)
            self.proc = None
        if self._master_out:
            self._master_out.close()
            self._master_out = None

    _master_out = None
    _other_greeting = None

    def _start_once(self):
        """Start master; True when idled listens and both listeners greet,
        False when a port could not be bound."""
        self._master_out = open(self.path("master.out"), "ab")
        self.proc = subprocess.Popen(
            [self.master, "-C", self.conf, "-M", self.path("cyrus.conf"),
             "-p", self.path("run", "master.pid"), "-L", self.path("master.log")],
            stdin=subprocess.DEVNULL, stdout=self._master_out,
            stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + READY_TIMEOUT
        pending = {self.imap_port: False, self.imaps_port: True, self.helper_port: True}
        while pending:
            if self.proc.poll() is not None:
                raise HarnessError(
                    f"cyrus master exited with {self.proc.returncode}:\n{self.log_text()}")
            # master binds every listener before it starts idled: once the
            # idle socket is there, a refused connection is a lost port (and
            # another server's greeting one that somebody else bound first).
            bound = os.path.exists(self.path("conf", "socket", "idle"))
            for port, tls in list(pending.items()):
                greeted = self._greets(port, tls)
                if greeted == "cyrus":
                    del pending[port]
                elif greeted == "other" or (greeted == "refused" and bound):
                    return False
            if not pending:
                break
            if time.monotonic() > deadline:
                raise HarnessError(
                    f"cyrus not ready within {READY_TIMEOUT}s:\n{self.log_text()}")
            # Bounded wait between attempts; returns at once if master exits.
            try:
                self.proc.wait(timeout=0.05)
            except subprocess.TimeoutExpired:
                pass
        while not os.path.exists(self.path("conf", "socket", "idle")):
            if time.monotonic() > deadline:
                raise HarnessError(f"cyrus idled not listening:\n{self.log_text()}")
            try:
                self.proc.wait(timeout=0.05)
            except subprocess.TimeoutExpired:
                pass
        return True

    def _greets(self, port, tls):
        """One attempt: "cyrus" on Cyrus's '* OK', "other" on another
        server's greeting, "refused", or None (try again)."""
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=1.0)
        except ConnectionRefusedError:
            return "refused"
        except OSError:
            return None
        try:
            if tls:
                ctx = ssl.create_default_context()
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
                sock = ctx.wrap_socket(sock)
            data = b""
            while b"\n" not in data:
                chunk = sock.recv(1024)
                if not chunk:
                    return None
                data += chunk
            if data.startswith(b"* OK") and b" Cyrus IMAP " in data:
                return "cyrus"
            self._other_greeting = data.decode(errors="replace").strip()
            return "other"
        except (OSError, ssl.SSLError):
            return None
        finally:
            sock.close()

    def _mkdtemp(self):
        """The instance's temp dir; on a tmpfs where there is one: Cyrus
        syncs each change to disk, some thirty times per APPEND."""
        if os.path.isdir(SHM) and os.access(SHM, os.W_OK | os.X_OK):
            path = tempfile.mkdtemp(prefix=f"imapwatch-{self.name}-", dir=SHM)
            os.chmod(path, 0o755)
            return path
        return _mkdtemp(f"imapwatch-{self.name}-")

    # -- configuration

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    @property
    def conf(self):
        return self.path("imapd.conf")

    def _run_as(self):
        """(user name, uid, gid) the Cyrus processes run as."""
        if os.getuid() == 0:
            try:
                pw = pwd.getpwnam("cyrus")
            except KeyError:
                raise HarnessError("no 'cyrus' user (cyrus-common makes it); "
                                   "run scripts/install-deps") from None
        else:
            pw = pwd.getpwuid(os.getuid())
        return pw.pw_name, pw.pw_uid, pw.pw_gid

    def _prepare(self):
        """The directories, the sasldb with the users and the telemetry
        directories; all of it belongs to the user Cyrus runs as."""
        for d in ("conf/db", "conf/socket", "conf/proc", "conf/lock", "conf/log",
                  "conf/quota", "conf/user", "conf/msg", "conf/sieve", "spool", "run"):
            os.makedirs(self.path(d), exist_ok=True)
        # Cyrus writes the protocol of each session of USER after its
        # login to conf/log/USER/<session id> (telemetry).
        for user in self.users:
            os.makedirs(self.path("conf", "log", user), exist_ok=True)
        self._bin_password = secrets.token_hex(16)
        for user, password in dict(self.users, **{BIN_USER: self._bin_password}).items():
            _run([self.saslpasswd2, "-p", "-c", "-f", self.path("sasldb2"),
                  "-u", "localhost", user], input=password.encode())
        user, uid, gid = self._run_as()
        self.run_user = user
        if os.getuid() == 0:
            for root, dirs, files in os.walk(self.dir):
                for n in dirs + files:
                    os.chown(os.path.join(root, n), uid, gid)
            os.chown(self.dir, uid, gid)

    def _write_config(self):
        suppress = []
        if self.capabilities is not None:
            keep = set(self.capabilities.upper().split())
            suppress = [c for c in OPTIONAL_CAPABILITIES if c not in keep]
        idle = ""
        if self.idle_timeout is not None:
            # imapd checks the IDLE deadline when idle_wait() wakes up,
            # at least every imapidlepoll.
            idle = f"imapidletimeout: {int(self.idle_timeout)}s\nimapidlepoll: 1\n"
        conf = f"""# imapwatch test instance
configdirectory: {self.path("conf")}
defaultpartition: default
partition-default: {self.path("spool")}
sievedir: {self.path("conf", "sieve")}
cyrus_user: {self.run_user}
servername: localhost
syslog_prefix: {os.path.basename(self.dir)}
altnamespace: yes
unixhierarchysep: yes
allowplaintext: {"yes" if self.plaintext_auth else "no"}
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: {self.path("sasldb2")}
sasl_mech_list: PLAIN LOGIN
autocreate_quota: 0
tls_server_cert: {self.cert}
tls_server_key: {self.key}
tls_versions: tls1_2 tls1_3
telemetry_bysessionid: yes
{idle}{"suppress_capabilities: " + " ".join(suppress) if suppress else ""}
"""
        with open(self.conf, "w") as f:
            f.write(conf)
        # Cyrus's programs read /etc/imapd.conf unless told otherwise, and
        # master passes -C to none of them: every command line says it.
        c = f"-C {self.conf}"
        services = f"""START {{
  recover cmd="{self.ctl_cyrusdb} {c} -r"
}}
SERVICES {{
  imap cmd="{self.imapd} {c}" listen="127.0.0.1:{self.imap_port}" prefork=0
  imaps cmd="{self.imapd} -s {c}" listen="127.0.0.1:{self.imaps_port}" prefork=0
  {HELPER_SERVICE} cmd="{self.imapd} -s {c}" listen="127.0.0.1:{self.helper_port}" prefork=0
}}
EVENTS {{
}}
DAEMON {{
  idled cmd="{self.idled} {c}"
}}
"""
        with open(self.path("cyrus.conf"), "w") as f:
            f.write(services)
        for name in ("imapd.conf", "cyrus.conf"):
            os.chmod(self.path(name), 0o644)
        try:
            os.unlink(self.path("conf", "socket", "idle"))
        except FileNotFoundError:
            pass

    def log_text(self):
        out = []
        for name in ("master.out", "master.log"):
            try:
                with open(self.path(name), errors="replace") as f:
                    text = f.read()
            except OSError:
                continue
            if text:
                out.append(f"--- {name} ---\n{text[-5000:]}")
        sessions = sorted(glob.glob(self.path("conf", "log", "*", "*")), key=os.path.getmtime)
        for path in sessions[-6:]:
            with open(path, errors="replace") as f:
                text = f.read()
            out.append(f"--- telemetry {os.path.relpath(path, self.path('conf', 'log'))} "
                       f"---\n{text[-4000:]}")
        return "\n".join(out) or "(no cyrus log)"

    # -- the user's other devices, over IMAP

    def _session(self, user):
        if self._context is None:
            # The instance's own certificate may be for another host name.
            self._context = self.certs.client_context()
            self._context.check_hostname = False
        c = _Helper("127.0.0.1", self.helper_port, ssl_context=self._context,
                    timeout=READY_TIMEOUT)
        try:
            c.login(user, self._bin_password if user == BIN_USER else self.users[user])
        except BaseException:
            c.shutdown()
            raise
        return c

    def _imap(self, user, action):
        """Runs action(connection) in a session of user's; its value."""
        c = self._session(user)
        try:
            return action(c)
        finally:
            try:
                c.logout()
            except (OSError, imaplib.IMAP4.error):
                c.shutdown()

    @staticmethod
    def _ok(result, what):
        typ, data = result
        if typ != "OK":
            raise HarnessError(f"{what}: {typ} {data}")
        return data

    def _select(self, c, folder, readonly=False):
        self._ok(c.select(_quote(mutf7_encode(folder)), readonly=readonly),
                 f"SELECT {folder}")

    def deliver(self, user, folder, message):
        """APPEND raw message bytes to folder; returns the new message's UID."""
        def act(c):
            data = self._ok(c.append(_quote(mutf7_encode(folder)), None, None, message),
                            f"APPEND {folder}")
            m = re.search(rb"\[APPENDUID \d+ (\d+)\]", data[0] or b"")
            if not m:
                raise HarnessError(f"APPEND {folder}: no APPENDUID in {data}")
            return int(m.group(1))
        return self._imap(user, act)

    def create_folder(self, user, folder, subscribe=True):
        """Create a folder (UTF-8 name, '/' separator); parents as needed."""
        def act(c):
            name = _quote(mutf7_encode(folder))
            self._ok(c.create(name), f"CREATE {folder}")
            if subscribe:
                self._ok(c.subscribe(name), f"SUBSCRIBE {folder}")
        self._imap(user, act)

    def delete_folder(self, user, folder):
        self._imap(user, lambda c: self._ok(c.delete(_quote(mutf7_encode(folder))),
                                            f"DELETE {folder}"))

    def rename_folder(self, user, old, new):
        self._imap(user, lambda c: self._ok(
            c.rename(_quote(mutf7_encode(old)), _quote(mutf7_encode(new))),
            f"RENAME {old} {new}"))

    def recreate_folder(self, user, folder, subjects, proxy):
        """Another client deletes `folder` and creates it again holding one
        unseen message per subject (a new UIDVALIDITY), while the daemon
        behind the FaultProxy `proxy` hears nothing; then its connections
        close. Returns the new UIDs. (As Dovecot.recreate_folder.)"""
        proxy.blackhole()
        self.delete_folder(user, folder)
        self.create_folder(user, folder)
        uids = [self.deliver(user, folder, make_message(subject=s)[0]) for s in subjects]
        proxy.unblackhole()
        proxy.close()
        return uids

    def folders(self, user):
        """Folder names (UTF-8)."""
        def act(c):
            names = []
            for item in self._ok(c.list('""', '"*"'), "LIST"):
                if isinstance(item, tuple):  # the name as a literal
                    names.append(item[1].decode())
                    continue
                if item is None:
                    continue
                m = re.match(rb'\((.*?)\) (?:"(?:[^"\\]|\\.)*"|NIL) (.*)$', item)
                if not m:
                    raise HarnessError(f"LIST: cannot read {item!r}")
                name = m.group(2).decode()
                if name.startswith('"'):
                    name = re.sub(r'\\(.)', r'\1', name[1:-1])
                names.append(name)
            return [mutf7_decode(n) for n in names]
        return self._imap(user, act)

    def _store(self, user, folder, uid, op, flags):
        def act(c):
            self._select(c, folder)
            self._ok(c.uid("STORE", str(uid), op, f"({' '.join(flags)})"),
                     f"STORE {folder} {uid}")
        self._imap(user, act)

    def flags_add(self, user, folder, uid, *flags):
        self._store(user, folder, uid, "+FLAGS.SILENT", flags)

    def flags_remove(self, user, folder, uid, *flags):
        self._store(user, folder, uid, "-FLAGS.SILENT", flags)

    def expunge(self, user, folder, uid):
        """Takes that one message out of folder, with no flag change on the
        way (UID MOVE to BIN_USER's INBOX)."""
        def act(c):
            self._select(c, folder)
            self._ok(c.uid("MOVE", str(uid), _quote(f"Other Users/{BIN_USER}")),
                     f"MOVE {folder} {uid}")
        self._imap(user, act)

    def fetch(self, user, folder, fields=("uid", "flags")):
        """List of dicts (strings) for every message in folder, by UID;
        fields: uid, flags."""
        unknown = set(fields) - {"uid", "flags"}
        if unknown:
            raise HarnessError(f"Cyrus.fetch: fields {sorted(unknown)} not implemented")

        def act(c):
            self._select(c, folder, readonly=True)
            rows = []
            for item in self._ok(c.uid("FETCH", "1:*", "(UID FLAGS)"), "FETCH"):
                if not item:
                    continue
                uid = re.search(rb"UID (\d+)", item)
                flags = re.search(rb"FLAGS \(([^)]*)\)", item)
                row = {"uid": uid.group(1).decode(),
                       "flags": flags.group(1).decode() if flags else ""}
                rows.append({k: row[k] for k in fields})
            return rows
        rows = self._imap(user, act)
        if "uid" in fields:
            rows.sort(key=lambda r: int(r["uid"]))
        return rows

    def uids(self, user, folder):
        return [int(r["uid"]) for r in self.fetch(user, folder, ("uid",))]

    def state(self, user, folder):
        """{uid: frozenset(flags)} without \\Recent (a session artefact)."""
        return {int(r["uid"]): frozenset(f for f in r["flags"].split() if f != "\\Recent")
                for r in self.fetch(user, folder)}

    def status(self, user, folder, fields=("messages", "unseen", "uidvalidity", "uidnext")):
        """Mailbox status as {field: int}."""
        def act(c):
            data = self._ok(c.status(_quote(mutf7_encode(folder)),
                                     f"({' '.join(f.upper() for f in fields)})"),
                            f"STATUS {folder}")
            text = data[0].decode() if isinstance(data[0], bytes) else data[0][1].decode()
            text = text[text.rfind("("):]  # after the folder's name
            got = {k.lower(): int(v) for k, v in re.findall(r"([A-Z]+) (\d+)", text)}
            return {k: got[k] for k in fields}
        return self._imap(user, act)

    # -- sessions

    def _sessions(self):
        """[(pid, service, client, user)] from Cyrus's proc files, one per
        server process in a session, the helpers' left out."""
        out = []
        for path in glob.glob(self.path("conf", "proc", "*")):
            try:
                with open(path, errors="replace") as f:
                    fields = f.read().split("\t")
            except FileNotFoundError:
                continue
            if len(fields) < 3 or not fields[2] or fields[0] == HELPER_SERVICE:
                continue
            out.append((int(os.path.basename(path)), fields[0], fields[1], fields[2]))
        return out

    def who(self, user=None):
        """The user's sessions now (or everyone's): one line each."""
        return [f"{u} {service} {client} pid {pid}"
                for pid, service, client, u in sorted(self._sessions())
                if user is None or u == user]

    def connections(self, user):
        return len(self.who(user))

    def kick(self, user):
        """Ends every session of user: SIGTERM to its imapd processes, which
        close the connection without a BYE; returns once they are gone."""
        pids = [pid for pid, _, _, u in self._sessions() if u == user]
        for pid in pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + READY_TIMEOUT
        while any(os.path.exists(self.path("conf", "proc", str(p))) for p in pids):
            if time.monotonic() > deadline:
                raise HarnessError(f"kick {user}: processes {pids} still there")
            try:
                self.proc.wait(timeout=0.02)
            except subprocess.TimeoutExpired:
                pass

    def logins(self, user):
        """How many times user logged in so far, the helpers' sessions not
        counted (one telemetry file per session, named SERVICE-SESSIONID)."""
        return len([name for name in os.listdir(self.path("conf", "log", user))
                    if not name.startswith(HELPER_SERVICE + "-")])
