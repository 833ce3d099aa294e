# SPDX-License-Identifier: MIT
"""Real parts for imapwatch integration tests (standard library only).

- Certs: a test CA, a server certificate for localhost/127.0.0.1 signed by
  it, a second CA nobody trusts, and a certificate for another host name.
- Dovecot: a private Dovecot on free loopback ports in a temp dir, plus
  doveadm helpers that act as the user's other devices.
- Daemon: imapwatchd --print-events with its JSON events read into a queue.
- make_message(): RFC 5322 messages with encoded headers.

Binaries come from the environment: IMAPWATCHD (set by CMake), and
optionally DOVECOT, DOVEADM, OPENSSL. Nothing is skipped: a missing tool is
an error. Set IMAPWATCH_TEST_DEBUG=1 for Dovecot debug logs and rawlogs,
IMAPWATCH_TEST_KEEP=1 to keep temp dirs.
"""

import atexit
import base64
import email.utils
import json
import grp
import os
import pwd
import queue
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest
import uuid

DEBUG = os.environ.get("IMAPWATCH_TEST_DEBUG", "") not in ("", "0")
KEEP = os.environ.get("IMAPWATCH_TEST_KEEP", "") not in ("", "0")

# Bounds for waits on readiness and output; none of them is a sleep.
READY_TIMEOUT = 20.0
DOVEADM_TIMEOUT = 30.0


class HarnessError(RuntimeError):
    """The test environment itself is broken (missing tool, server won't start)."""


def find_tool(name, env_var=None):
    """Absolute path of a required program; raises HarnessError if missing."""
    if env_var and os.environ.get(env_var):
        path = os.environ[env_var]
        if os.access(path, os.X_OK):
            return path
        raise HarnessError(f"{env_var}={path} is not an executable file")
    search = os.environ.get("PATH", "") + os.pathsep + "/usr/sbin:/usr/bin:/sbin:/bin"
    path = shutil.which(name, path=search)
    if path is None:
        raise HarnessError(
            f"required program '{name}' not found; run scripts/install-deps")
    return path


def _mkdtemp(prefix):
    path = tempfile.mkdtemp(prefix=prefix)
    # Dovecot's auth and login processes run as other users when we are root
    # and must reach files in here.
    os.chmod(path, 0o755)
    return path


def _rmtree(path):
    if path and not KEEP:
        shutil.rmtree(path, ignore_errors=True)


def _run(argv, *, input=None, timeout=DOVEADM_TIMEOUT, check=True):
    proc = subprocess.run(argv, input=input, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout)
    if check and proc.returncode != 0:
        raise HarnessError(
            f"command failed ({proc.returncode}): {' '.join(map(str, argv))}\n"
            f"stdout: {proc.stdout.decode(errors='replace')}\n"
            f"stderr: {proc.stderr.decode(errors='replace')}")
    return proc


def free_port():
    """A loopback TCP port that was free a moment ago (bind 0, release)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------
# Certificates


class Certs:
    """Test PKI made with the openssl CLI in a temp dir.

    Attributes (paths to PEM files):
      ca            trusted test CA (give this to the client as tls_ca_file)
      server_cert, server_key     CN/SAN localhost + IP 127.0.0.1, signed by ca
      wronghost_cert, wronghost_key  SAN wrong.example only, signed by ca
      untrusted_ca  a second CA that signed nothing the servers use
    """

    def __init__(self):
        self.openssl = find_tool("openssl", "OPENSSL")
        self.dir = _mkdtemp("imapwatch-certs-")
        try:
            self.ca, self.ca_key = self._make_ca("ca", "imapwatch test CA")
            self.untrusted_ca, _ = self._make_ca("untrusted-ca",
                                                 "imapwatch untrusted CA")
            self.server_cert, self.server_key = self._make_leaf(
                "server", "localhost", "DNS:localhost,IP:127.0.0.1")
            self.wronghost_cert, self.wronghost_key = self._make_leaf(
                "wronghost", "wrong.example", "DNS:wrong.example")
            for path in os.listdir(self.dir):
                os.chmod(os.path.join(self.dir, path), 0o644)
        except BaseException:
            self.close()
            raise

    def _path(self, name):
        return os.path.join(self.dir, name)

    def _keygen(self, name):
        key = self._path(name + ".key")
        _run([self.openssl, "genpkey", "-algorithm", "EC", "-pkeyopt",
              "ec_paramgen_curve:prime256v1", "-out", key])
        return key

    def _make_ca(self, name, cn):
        key = self._keygen(name)
        cert = self._path(name + ".pem")
        _run([self.openssl, "req", "-x509", "-new", "-key", key, "-out", cert,
              "-days", "7", "-subj", f"/CN={cn}",
              "-addext", "basicConstraints=critical,CA:TRUE",
              "-addext", "keyUsage=critical,keyCertSign,cRLSign",
              "-addext", "subjectKeyIdentifier=hash"])
        return cert, key

    def _make_leaf(self, name, cn, san):
        key = self._keygen(name)
        csr = self._path(name + ".csr")
        cert = self._path(name + ".pem")
        ext = self._path(name + ".ext")
        with open(ext, "w") as f:
            f.write(f"subjectAltName={san}\n"
                    "basicConstraints=critical,CA:FALSE\n"
                    "keyUsage=critical,digitalSignature,keyEncipherment\n"
                    "extendedKeyUsage=serverAuth\n"
                    "subjectKeyIdentifier=hash\n"
                    "authorityKeyIdentifier=keyid\n")
        _run([self.openssl, "req", "-new", "-key", key, "-out", csr,
              "-subj", f"/CN={cn}"])
        _run([self.openssl, "x509", "-req", "-in", csr, "-CA", self.ca,
              "-CAkey", self.ca_key, "-set_serial",
              str(int.from_bytes(os.urandom(8), "big")), "-days", "7",
              "-extfile", ext, "-out", cert])
        return cert, key

    def client_context(self, ca=None):
        """An ssl.SSLContext trusting only `ca` (default: the test CA)."""
        ctx = ssl.create_default_context(cafile=ca or self.ca)
        return ctx

    def close(self):
        _rmtree(self.dir)


_certs = None


def certs():
    """The process-wide Certs, made on first use and removed at exit."""
    global _certs
    if _certs is None:
        _certs = Certs()
        atexit.register(_certs.close)
    return _certs


# --------------------------------------------------------------------------
# Dovecot

DEFAULT_USERS = {f"user{i}": f"secret-{i}" for i in range(1, 9)}


class Dovecot:
    """A private Dovecot: `with Dovecot() as dc: ...`.

    Listeners on 127.0.0.1: dc.imaps_port (implicit TLS) and dc.imap_port
    (plain, STARTTLS offered). Users: dc.users {name: password}; mail in
    maildirs under the temp dir; hierarchy separator "/".

    cert/key default to the Certs server certificate (localhost).
    plaintext_auth=True allows LOGIN without TLS on the plain port (Dovecot
    already treats loopback as secured, so this only matters if that changes).
    """

    def __init__(self, users=None, cert=None, key=None, plaintext_auth=True,
                 name="dovecot"):
        self.dovecot = find_tool("dovecot", "DOVECOT")
        self.doveadm_bin = find_tool("doveadm", "DOVEADM")
        self.certs = certs()
        self.users = dict(users or DEFAULT_USERS)
        self.cert = cert or self.certs.server_cert
        self.key = key or self.certs.server_key
        self.plaintext_auth = plaintext_auth
        self.name = name
        self.dir = None
        self.proc = None
        self.imap_port = None
        self.imaps_port = None

    # -- lifecycle

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        self.dir = _mkdtemp(f"imapwatch-{self.name}-")
        try:
            for attempt in range(5):
                self.imap_port, self.imaps_port = free_port(), free_port()
                if self.imap_port == self.imaps_port:
                    continue
                self._write_config()
                if self._start_once():
                    return
                # A port was taken between picking and binding; try new ones.
                self._kill()
            raise HarnessError(f"dovecot did not start:\n{self.log_text()}")
        except BaseException:
            self.stop()
            raise

    def stop(self):
        self._kill()
        if self.dir:
            _rmtree(self.dir)
            self.dir = None

    def _kill(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        # Leftover children (same process group) never outlive the test.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self.proc.poll() is None:
            self.proc.wait(timeout=5)
        self.proc = None
        if self._master_out:
            self._master_out.close()
            self._master_out = None

    _master_out = None

    def _start_once(self):
        """Start the master; True when both listeners greet, False on EADDRINUSE."""
        self._master_out = open(self.path("master.out"), "ab")
        self.proc = subprocess.Popen(
            [self.dovecot, "-F", "-c", self.conf],
            stdin=subprocess.DEVNULL, stdout=self._master_out,
            stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + READY_TIMEOUT
        pending = {self.imap_port: False, self.imaps_port: True}
        while pending:
            if self.proc.poll() is not None:
                if "Address already in use" in self.log_text():
                    return False
                raise HarnessError(
                    f"dovecot exited with {self.proc.returncode}:\n{self.log_text()}")
            for port, tls in list(pending.items()):
                if self._greets(port, tls):
                    del pending[port]
            if not pending:
                break
            if time.monotonic() > deadline:
                raise HarnessError(
                    f"dovecot not ready within {READY_TIMEOUT}s:\n{self.log_text()}")
            # Bounded wait between connection attempts; returns at once if
            # the master exits.
            try:
                self.proc.wait(timeout=0.05)
            except subprocess.TimeoutExpired:
                pass
        return True

    def _greets(self, port, tls):
        """One attempt: connect, (TLS handshake,) read '* OK'."""
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=1.0)
        except OSError:
            return False
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
                    return False
                data += chunk
            return data.startswith(b"* OK")
        except (OSError, ssl.SSLError):
            return False
        finally:
            sock.close()

    # -- configuration

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    @property
    def conf(self):
        return self.path("dovecot.conf")

    def log_text(self):
        out = []
        for name in ("master.out", "dovecot.log"):
            try:
                with open(self.path(name), errors="replace") as f:
                    text = f.read()
            except OSError:
                continue
            if text:
                out.append(f"--- {name} ---\n{text[-20000:]}")
        return "\n".join(out) or "(no dovecot log)"

    def _write_config(self):
        uid, gid = os.getuid(), os.getgid()
        if uid == 0:
            # Dovecot never accesses mail as root ("userdb returned 0 as
            # uid"), so as root the mail belongs to nobody; the login and
            # internal users are the ones the dovecot-core package made.
            login_user, internal_user = "dovenull", "dovecot"
            internal_group = "dovecot"
            pw = pwd.getpwnam("nobody")
            uid, gid = pw.pw_uid, pw.pw_gid
        else:
            # Unprivileged: every service runs as us, sockets in our group.
            login_user = internal_user = pwd.getpwuid(uid).pw_name
            internal_group = grp.getgrgid(gid).gr_name
        for d in ("run", "state", "mail"):
            os.makedirs(self.path(d), exist_ok=True)
        os.chmod(self.path("mail"), 0o755)
        if os.getuid() == 0:
            os.chown(self.path("mail"), uid, gid)
        self.mail_uid, self.mail_gid = uid, gid
        with open(self.path("passwd"), "w") as f:
            for user, password in self.users.items():
                f.write(f"{user}:{{PLAIN}}{password}::::::\n")
        os.chmod(self.path("passwd"), 0o644)

        debug = ""
        if DEBUG:
            debug = """
mail_debug = yes
auth_verbose = yes
auth_debug = yes
verbose_ssl = yes
service imap {
  executable = imap postlogin
}
service postlogin {
  executable = script-login -d rawlog
  unix_listener postlogin {
  }
}
"""
            # script-login -d rawlog writes to ~/dovecot.rawlog if it exists.
            for user in self.users:
                home = self.path("mail", user)
                for d in (home, os.path.join(home, "dovecot.rawlog")):
                    os.makedirs(d, exist_ok=True)
                    if os.getuid() == 0:
                        os.chown(d, uid, gid)
        conf = f"""# imapwatch test instance
instance_name = {os.path.basename(self.dir)}
protocols = imap
listen = 127.0.0.1
base_dir = {self.path("run")}
state_dir = {self.path("state")}
log_path = {self.path("dovecot.log")}
info_log_path = {self.path("dovecot.log")}
debug_log_path = {self.path("dovecot.log")}
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {internal_group}

ssl = yes
ssl_cert = <{self.cert}
ssl_key = <{self.key}
ssl_min_protocol = TLSv1.2

auth_mechanisms = plain login
# Failed logins answer at once; tests of wrong passwords stay fast.
auth_failure_delay = 0 secs
disable_plaintext_auth = {"no" if self.plaintext_auth else "yes"}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.path("passwd")}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={self.path("mail")}/%u
}}

mail_location = maildir:~/Maildir
mail_uid = {uid}
mail_gid = {gid}
first_valid_uid = {uid}
last_valid_uid = {uid}
first_valid_gid = {gid}
last_valid_gid = {gid}
mail_privileged_group =
mail_access_groups =
namespace inbox {{
  inbox = yes
  separator = /
  prefix =
}}

mail_max_userip_connections = 100
protocol imap {{
  mail_max_userip_connections = 100
}}
# Take notice of changes by other processes at once (inotify) and also
# poll often, so that IDLE clients hear of doveadm changes quickly.
mailbox_idle_check_interval = 1 secs

service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.imaps_port}
    ssl = yes
  }}
}}
# No chroots: they only work as root and buy nothing in a test.
service imap-login {{
  chroot =
}}
service anvil {{
  chroot =
}}
{debug}
"""
        with open(self.conf, "w") as f:
            f.write(conf)
        os.chmod(self.conf, 0o644)

    # -- doveadm: the user's other devices

    def doveadm(self, *args, input=None, fmt=None):
        """Run `doveadm -c CONF [-f fmt] args...`; returns stdout (str)."""
        argv = [self.doveadm_bin, "-c", self.conf]
        if fmt:
            argv += ["-f", fmt]
        argv += list(args)
        return _run(argv, input=input).stdout.decode("utf-8")

    def deliver(self, user, folder, message):
        """Save raw message bytes into folder; returns the new message's UID."""
        before = set(self.uids(user, folder))
        self.doveadm("save", "-u", user, "-m", folder, input=message)
        new = sorted(set(self.uids(user, folder)) - before)
        if len(new) != 1:
            raise HarnessError(f"deliver: expected one new uid, got {new}")
        return new[0]

    def create_folder(self, user, folder, subscribe=True):
        """Create a folder (UTF-8 name, '/' separator); parents as needed."""
        args = ["mailbox", "create", "-u", user]
        if subscribe:
            args.append("-s")
        self.doveadm(*args, folder)

    def folders(self, user):
        """Folder names (UTF-8) as doveadm lists them."""
        out = self.doveadm("mailbox", "list", "-u", user)
        return [line for line in out.splitlines() if line]

    def flags_add(self, user, folder, uid, *flags):
        self.doveadm("flags", "add", "-u", user, " ".join(flags),
                     "mailbox", folder, "uid", str(uid))

    def flags_remove(self, user, folder, uid, *flags):
        self.doveadm("flags", "remove", "-u", user, " ".join(flags),
                     "mailbox", folder, "uid", str(uid))

    def expunge(self, user, folder, uid):
        self.doveadm("expunge", "-u", user, "mailbox", folder, "uid", str(uid))

    def fetch(self, user, folder, fields=("uid", "flags")):
        """List of dicts (strings) for every message in folder, by UID."""
        out = self.doveadm("fetch", "-u", user, " ".join(fields),
                           "mailbox", folder, "all", fmt="json")
        rows = json.loads(out) if out.strip() else []
        rows.sort(key=lambda r: int(r.get("uid", 0)))
        return rows

    def uids(self, user, folder):
        return [int(r["uid"]) for r in self.fetch(user, folder, ("uid",))]

    def state(self, user, folder):
        """{uid: frozenset(flags)} without \\Recent (a session artefact)."""
        result = {}
        for row in self.fetch(user, folder, ("uid", "flags")):
            flags = frozenset(f for f in row.get("flags", "").split()
                              if f != "\\Recent")
            result[int(row["uid"])] = flags
        return result

    def status(self, user, folder, fields=("messages", "unseen", "uidvalidity", "uidnext")):
        """Mailbox status as {field: int}."""
        out = self.doveadm("mailbox", "status", "-u", user, " ".join(fields),
                           folder, fmt="json")
        row = json.loads(out)[0]
        return {k: int(row[k]) for k in fields}

    def kick(self, user):
        """Disconnect every session of user (`doveadm kick`)."""
        self.doveadm("kick", user)

    def who(self, user=None):
        """Connected sessions (`doveadm who`), one line per user/connection."""
        args = ["who", "-1"]
        if user:
            args.append(user)
        out = self.doveadm(*args)
        return [line for line in out.splitlines()[1:] if line.strip()]


# --------------------------------------------------------------------------
# Messages


def encode_word(text, charset="utf-8", encoding="B"):
    """RFC 2047 encoded-word(s) for text."""
    raw = text.encode(charset)
    if encoding.upper() == "B":
        # Keep each encoded word within 75 characters (RFC 2047 section 2).
        words, chunk = [], b""
        for ch in text:
            b = ch.encode(charset)
            if len(base64.b64encode(chunk + b)) > 75 - len(charset) - 7:
                words.append(chunk)
                chunk = b""
            chunk += b
        words.append(chunk)
        return " ".join(f"=?{charset}?B?{base64.b64encode(w).decode()}?="
                        for w in words)
    out = []
    for byte in raw:
        c = chr(byte)
        if c == " ":
            out.append("_")
        elif c.isalnum() and byte < 128:
            out.append(c)
        else:
            out.append(f"={byte:02X}")
    return f"=?{charset}?Q?{''.join(out)}?="


def make_message(subject="Test", from_name="Alice Example",
                 from_addr="alice@example.com", to="user@localhost",
                 date=None, message_id=None, body="Hello.\r\n",
                 subject_encoding=None, from_encoding=None, charset="utf-8",
                 extra_headers=()):
    """RFC 5322 message as bytes (CRLF line ends).

    subject_encoding / from_encoding: None (raw ASCII), "B" or "Q" to write
    the subject / display name as RFC 2047 encoded words in `charset`.
    date: epoch seconds (default now). message_id default: a fresh one.
    Returns (bytes, message_id).
    """
    if date is None:
        date = int(time.time())
    if message_id is None:
        message_id = f"<{uuid.uuid4().hex}@imapwatch.test>"
    if subject_encoding:
        subj = encode_word(subject, charset, subject_encoding)
    else:
        subject.encode("ascii")
        subj = subject
    if from_encoding:
        name = encode_word(from_name, charset, from_encoding)
    elif from_name:
        from_name.encode("ascii")
        name = '"' + from_name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    else:
        name = ""
    from_hdr = f"{name} <{from_addr}>" if name else from_addr
    headers = [
        f"From: {from_hdr}",
        f"To: {to}",
        f"Subject: {subj}",
        f"Date: {email.utils.formatdate(date, localtime=False)}",
        f"Message-ID: {message_id}",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: 8bit",
    ]
    headers += list(extra_headers)
    text = "\r\n".join(headers) + "\r\n\r\n" + body.replace("\r\n", "\n").replace("\n", "\r\n")
    return text.encode("utf-8"), message_id


# --------------------------------------------------------------------------
# imapwatchd


class Daemon:
    """imapwatchd --print-events under test.

    accounts: {name: {key: value}} written as [account NAME] groups; list
    values are joined with ';', bools as true/false. daemon: [daemon] keys
    (default notifications = false). Use as a context manager, or start()
    and stop(). Events: wait_for(), assert_no_event(), events_so_far(),
    mark().
    """

    def __init__(self, accounts, daemon=None, raw_config=None, env=None,
                 name="imapwatchd"):
        path = os.environ.get("IMAPWATCHD")
        if not path:
            raise HarnessError("IMAPWATCHD is not set (ctest sets it to the "
                               "built imapwatchd)")
        if not os.access(path, os.X_OK):
            raise HarnessError(f"IMAPWATCHD={path} is not executable")
        self.binary = path
        self.accounts = accounts
        self.daemon_keys = {"notifications": False}
        self.daemon_keys.update(daemon or {})
        self.raw_config = raw_config
        self.extra_env = env or {}
        self.name = name
        self.dir = None
        self.proc = None
        self.config_path = None
        self.stderr_path = None
        self._queue = queue.Queue()
        self._events = []
        self._lines = []  # raw stdout line of each event, same order
        self._unparsed = []
        self._reader = None
        self._stderr_file = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.stop()
        else:
            self.kill()

    @staticmethod
    def _value(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (list, tuple)):
            return ";".join(str(x) for x in v)
        return str(v)

    def config_text(self):
        if self.raw_config is not None:
            return self.raw_config
        lines = ["[daemon]"]
        lines += [f"{k} = {self._value(v)}" for k, v in self.daemon_keys.items()]
        for name, keys in self.accounts.items():
            lines += ["", f"[account {name}]"]
            lines += [f"{k} = {self._value(v)}" for k, v in keys.items()]
        return "\n".join(lines) + "\n"

    def start(self):
        self.dir = _mkdtemp(f"imapwatch-{self.name}-")
        for d in ("config/imapwatch", "state", "runtime"):
            os.makedirs(os.path.join(self.dir, d), exist_ok=True)
        os.chmod(os.path.join(self.dir, "runtime"), 0o700)
        self.config_path = os.path.join(self.dir, "config", "imapwatch", "config")
        with open(self.config_path, "w", encoding="utf-8") as f:
            f.write(self.config_text())
        env = dict(os.environ)
        # Keep the daemon away from the developer's desktop session.
        for var in ("DBUS_SESSION_BUS_ADDRESS", "DISPLAY", "WAYLAND_DISPLAY"):
            env.pop(var, None)
        env.update({
            "XDG_CONFIG_HOME": os.path.join(self.dir, "config"),
            "XDG_STATE_HOME": os.path.join(self.dir, "state"),
            "XDG_RUNTIME_DIR": os.path.join(self.dir, "runtime"),
            "G_DEBUG": "fatal-criticals",
        })
        env.update(self.extra_env)
        self.stderr_path = os.path.join(self.dir, "stderr.log")
        self._stderr_file = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            [self.binary, "--print-events", "--config", self.config_path],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=self._stderr_file, env=env, start_new_session=True)
        self._reader = threading.Thread(target=self._read_stdout, daemon=True)
        self._reader.start()

    def _read_stdout(self):
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            if not line.strip():
                continue
            try:
                event = json.loads(line)
                if not isinstance(event, dict):
                    raise ValueError("not an object")
            except ValueError:
                self._unparsed.append(line)
                continue
            self._lines.append(line)
            self._queue.put(event)
        self._queue.put(None)  # end of output

    # -- events

    def _drain(self, timeout):
        """Move queued events into the list; wait up to timeout for one."""
        try:
            item = self._queue.get(timeout=timeout) if timeout > 0 else self._queue.get_nowait()
        except queue.Empty:
            return False
        while True:
            if item is None:
                self._eof = True
            else:
                self._events.append(item)
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return True

    _eof = False

    def events_so_far(self):
        self._drain(0)
        return list(self._events)

    def lines_so_far(self):
        """The raw JSON lines of events_so_far(), byte for byte (decoded)."""
        self._drain(0)
        return list(self._lines[:len(self._events)])

    def mark(self):
        """Index to pass as `since` so that only later events count."""
        self._drain(0)
        return len(self._events)

    def describe(self, since=0):
        evs = self.events_so_far()
        lines = [f"events seen ({len(evs)}, since={since}):"]
        lines += [f"  [{i}] {json.dumps(e, ensure_ascii=False)}"
                  for i, e in enumerate(evs)]
        if self._unparsed:
            lines.append("stdout lines that are not JSON objects:")
            lines += [f"  {l}" for l in self._unparsed]
        lines.append(f"imapwatchd exit code: {self.proc.poll() if self.proc else None}")
        lines.append("imapwatchd stderr:")
        lines.append(self.stderr_text() or "  (empty)")
        return "\n".join(lines)

    def stderr_text(self):
        try:
            with open(self.stderr_path, errors="replace") as f:
                return f.read()[-20000:]
        except (OSError, TypeError):
            return ""

    def wait_for(self, predicate, timeout=10.0, since=0, what=None):
        """First event at index >= since matching predicate; fails on timeout."""
        deadline = time.monotonic() + timeout
        checked = since
        while True:
            while checked < len(self._events):
                ev = self._events[checked]
                checked += 1
                if predicate(ev):
                    return ev
            remaining = deadline - time.monotonic()
            if remaining <= 0 or (self._eof and self._queue.empty()):
                break
            self._drain(remaining)
        why = "imapwatchd closed stdout" if self._eof else f"timeout {timeout}s"
        raise AssertionError(
            f"no event matching {what or _name(predicate)} ({why})\n{self.describe(since)}")

    def wait_for_all(self, predicate, count, timeout=10.0, since=0, what=None):
        """Wait until `count` events at index >= since match; returns them."""
        deadline = time.monotonic() + timeout
        while True:
            found = [e for e in self.events_so_far()[since:] if predicate(e)]
            if len(found) >= count:
                return found
            remaining = deadline - time.monotonic()
            if remaining <= 0 or (self._eof and self._queue.empty()):
                raise AssertionError(
                    f"{len(found)} of {count} events matching {what or _name(predicate)}\n"
                    f"{self.describe(since)}")
            self._drain(remaining)

    def assert_no_event(self, predicate, within=1.0, since=0, what=None):
        """Fail if an event matching predicate (index >= since) shows up
        within `within` seconds (bounded wait on the output queue)."""
        deadline = time.monotonic() + within
        while True:
            for ev in self.events_so_far()[since:]:
                if predicate(ev):
                    raise AssertionError(
                        f"unexpected event {json.dumps(ev, ensure_ascii=False)} "
                        f"({what or _name(predicate)})\n{self.describe(since)}")
            remaining = deadline - time.monotonic()
            if remaining <= 0 or (self._eof and self._queue.empty()):
                return
            self._drain(remaining)

    def find(self, predicate, since=0):
        return [e for e in self.events_so_far()[since:] if predicate(e)]

    # -- process

    def wait_exit(self, timeout):
        """Exit code, or AssertionError if still running after timeout."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"imapwatchd still running after {timeout}s\n{self.describe()}")

    def stop(self, timeout=2.0):
        """SIGTERM; assert exit code 0 within timeout and clean stdout."""
        if self.proc is None:
            return
        try:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
            try:
                code = self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                raise AssertionError(
                    f"imapwatchd did not exit within {timeout}s of SIGTERM\n"
                    f"{self.describe()}")
            self._reader.join(timeout=5)
            if code != 0:
                raise AssertionError(
                    f"imapwatchd exited with {code}\n{self.describe()}")
            if self._unparsed:
                raise AssertionError(
                    f"imapwatchd printed non-JSON lines on stdout\n{self.describe()}")
        finally:
            self.kill()

    def kill(self):
        """Make sure nothing is left: SIGKILL the process group, remove dir."""
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self.proc.wait(timeout=5)
            if self._reader:
                self._reader.join(timeout=5)
            self.proc.stdout.close()
            self.proc = None
        if self._stderr_file:
            self._stderr_file.close()
            self._stderr_file = None
        if self.dir:
            _rmtree(self.dir)
            self.dir = None


# --------------------------------------------------------------------------
# Predicates


def _name(predicate):
    return getattr(predicate, "__name__", None) or repr(predicate)


def is_event(kind, **fields):
    """Predicate: event == kind and every given field equals its value."""
    def pred(ev):
        if ev.get("event") != kind:
            return False
        return all(ev.get(k) == v for k, v in fields.items())
    pred.__name__ = pred.__qualname__ = (
        f"{kind}({', '.join(f'{k}={v!r}' for k, v in fields.items())})")
    return pred


def is_account_state(account, state):
    """Predicate: the account-level state event (no folder, or empty)."""
    def pred(ev):
        return (ev.get("event") == "state" and ev.get("account") == account
                and ev.get("state") == state and not ev.get("folder"))
    pred.__name__ = pred.__qualname__ = f"state(account={account!r}, state={state!r})"
    return pred


class HarnessTestCase(unittest.TestCase):
    maxDiff = None
