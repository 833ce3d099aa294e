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
import re
import select
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
                 name="dovecot", special_use=None):
        self.dovecot = find_tool("dovecot", "DOVECOT")
        self.doveadm_bin = find_tool("doveadm", "DOVEADM")
        self.certs = certs()
        self.users = dict(users or DEFAULT_USERS)
        self.cert = cert or self.certs.server_cert
        self.key = key or self.certs.server_key
        self.plaintext_auth = plaintext_auth
        # {folder: "\\Junk"}: RFC 6154 special use, advertised by LIST
        # (Dovecot then announces SPECIAL-USE).
        self.special_use = dict(special_use or {})
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
        special_use = "".join(
            f'  mailbox "{folder}" {{\n    special_use = {use}\n  }}\n'
            for folder, use in self.special_use.items())
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
{special_use}}}

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

    def recreate_folder(self, user, folder, subjects, proxy):
        """Another client deletes `folder` and creates it again holding one
        unseen message per subject (a new UIDVALIDITY). The daemon, which
        reaches the server through the FaultProxy `proxy`, hears nothing of
        it meanwhile (black hole: it could otherwise look at the folder
        half made); then its connections close, and the next one finds the
        folder complete. Returns the new UIDs."""
        proxy.blackhole()
        self.doveadm("mailbox", "delete", "-u", user, folder)
        self.create_folder(user, folder)
        uids = [self.deliver(user, folder, make_message(subject=s)[0]) for s in subjects]
        proxy.unblackhole()
        proxy.close()
        return uids

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
    (default notifications = false). args: extra command-line flags after
    --print-events --config PATH (e.g. ["-v", "--trace-imap"]). Use as a
    context manager, or start() and stop(). Events: wait_for(),
    assert_no_event(), events_so_far(), mark(). After stop() or kill(),
    final_stderr holds the whole stderr log (bytes).
    """

    def __init__(self, accounts, daemon=None, raw_config=None, env=None,
                 name="imapwatchd", args=()):
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
        self.args = list(args)
        self.final_stderr = None
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
            [self.binary, "--print-events", "--config", self.config_path, *self.args],
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

    def log_mark(self):
        """Offset to pass as `since` to wait_log() so that only later log
        lines count."""
        try:
            return os.path.getsize(self.stderr_path)
        except (OSError, TypeError):
            return 0

    def wait_log(self, text, timeout=10.0, since=0):
        """Wait until `text` appears in the log (stderr) after offset
        `since`; polls the file, bounded by timeout."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                with open(self.stderr_path, "rb") as f:
                    f.seek(since)
                    if text in f.read().decode(errors="replace"):
                        return
            except (OSError, TypeError):
                pass
            if time.monotonic() >= deadline or self.proc.poll() is not None:
                raise AssertionError(f"'{text}' never logged\n{self.describe()}")
            time.sleep(0.05)  # polling a file for a condition, bounded

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
            with open(self.stderr_path, "rb") as f:
                self.final_stderr = f.read()
        if self.dir:
            _rmtree(self.dir)
            self.dir = None


# --------------------------------------------------------------------------
# Desktop: X server, session bus, notification server


def _start_with_fd(argv, what, env=None, timeout=READY_TIMEOUT):
    """Start argv, which writes one line to the fd given as '{fd}' in argv
    once it is ready (Xvfb -displayfd, dbus-daemon --print-address);
    returns (Popen, line). Bounded by timeout; no sleeps."""
    r, w = os.pipe()
    argv = [a.replace("{fd}", str(w)) for a in argv]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, pass_fds=(w,), env=env,
                            start_new_session=True)
    os.close(w)
    data = b""
    deadline = time.monotonic() + timeout
    try:
        while b"\n" not in data:
            left = deadline - time.monotonic()
            if left <= 0:
                raise HarnessError(f"{what} not ready within {timeout}s")
            ready, _, _ = select.select([r], [], [], left)
            if not ready:
                continue
            chunk = os.read(r, 4096)
            if not chunk:
                err = proc.stderr.read().decode(errors="replace") if proc.poll() is not None else ""
                raise HarnessError(f"{what} exited before it was ready: {err}")
            data += chunk
    except BaseException:
        _killpg(proc)
        raise
    finally:
        os.close(r)
    return proc, data.decode().strip()


def _killpg(proc, sig=signal.SIGTERM):
    if proc is None:
        return
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait(timeout=5)
    if proc.stderr:
        proc.stderr.close()


DUNSTRC = """[global]
    monitor = 0
    follow = none
    width = 420
    height = 300
    origin = top-right
    offset = 16x16
    notification_limit = 0
    indicate_hidden = yes
    show_indicators = no
    idle_threshold = 0
    markup = full
    format = "<b>%s</b>\\n%b"
    font = DejaVu Sans 11
    frame_width = 2
    frame_color = "#5e81ac"
    separator_height = 2
    padding = 10
    horizontal_padding = 12
    icon_position = left
    max_icon_size = 48
    sticky_history = yes
    history_length = 100
    show_age_threshold = -1
    dmenu = {dmenu}
    mouse_left_click = do_action, close_current
    mouse_middle_click = context
    mouse_right_click = close_current
    ignore_dbusclose = false

[urgency_low]
    background = "#2e3440"
    foreground = "#eceff4"
    timeout = 0

[urgency_normal]
    background = "#2e3440"
    foreground = "#eceff4"
    timeout = 0

[urgency_critical]
    background = "#bf616a"
    foreground = "#eceff4"
    timeout = 0
"""


class Desktop:
    """A private desktop for notification tests: `with Desktop() as d: ...`.

    - Xvfb on a free display (-displayfd: the server says which, when ready)
    - a private dbus-daemon session bus (own config: no service activation,
      so no notification server starts unless a test starts one)
    - dunst with its own config, started by start_dunst() (or at start when
      dunst=True); ready when it owns org.freedesktop.Notifications
      (`gdbus wait`). Popups never time out, so counts are stable.

    env: DISPLAY and DBUS_SESSION_BUS_ADDRESS for programs on this desktop
    (pass to Daemon(env=...)). dunstctl_out(*args), displayed(), history(),
    close_all(), wait_displayed(n), wait_until(pred), screenshot(png). The context menu (dunstctl context /
    `action` on a popup with several actions) is answered by a dmenu stand-in
    that picks the first line containing `menu_choice`.
    """

    def __init__(self, dunst=True, screen="1024x600x24"):
        self.want_dunst = dunst
        self.screen = screen
        self.dir = None
        self.xvfb = None
        self.bus = None
        self.dunst = None
        self.env = {}
        self.menu_choice = "Mark"

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def start(self):
        self.dir = _mkdtemp("imapwatch-desktop-")
        try:
            xvfb = find_tool("Xvfb")
            self.xvfb, display = _start_with_fd(
                [xvfb, "-displayfd", "{fd}", "-screen", "0", self.screen,
                 "-nolisten", "tcp", "-noreset"], "Xvfb")
            os.makedirs(self.path("bus"))
            with open(self.path("bus.conf"), "w") as f:
                f.write(f"""<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={self.path("bus")}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
""")
            self.bus, address = _start_with_fd(
                [find_tool("dbus-daemon"), "--config-file", self.path("bus.conf"),
                 "--nofork", "--nopidfile", "--print-address={fd}"], "dbus-daemon")
            self.env = {"DISPLAY": f":{display}", "DBUS_SESSION_BUS_ADDRESS": address}
            self.display = f":{display}"
            self.address = address
            self._write_dmenu()
            if self.want_dunst:
                self.start_dunst()
        except BaseException:
            self.stop()
            raise

    def _write_dmenu(self):
        # dunst pipes the actions as lines to "dmenu" and takes the line it
        # prints; this one prints the first line that contains the text in
        # the file menu_choice (written per use by choose()).
        self.dmenu = self.path("dmenu")
        with open(self.dmenu, "w") as f:
            f.write(f"""#!/bin/sh
choice=$(cat {self.path("menu_choice")} 2>/dev/null)
grep -F -m1 -- "$choice"
""")
        os.chmod(self.dmenu, 0o755)
        self.choose(self.menu_choice)

    def choose(self, text):
        with open(self.path("menu_choice"), "w") as f:
            f.write(text)

    def child_env(self, extra=None):
        env = dict(os.environ)
        env.pop("WAYLAND_DISPLAY", None)
        env.update(self.env)
        env.update(extra or {})
        return env

    def start_dunst(self):
        with open(self.path("dunstrc"), "w") as f:
            f.write(DUNSTRC.replace("{dmenu}", self.dmenu))
        self.dunst_log = open(self.path("dunst.log"), "ab")
        self.dunst = subprocess.Popen(
            [find_tool("dunst"), "-config", self.path("dunstrc")],
            stdin=subprocess.DEVNULL, stdout=self.dunst_log, stderr=subprocess.STDOUT,
            env=self.child_env(), start_new_session=True)
        self.wait_name("org.freedesktop.Notifications")

    def stop_dunst(self):
        if self.dunst is not None:
            _killpg(self.dunst)
            self.dunst = None
            self.dunst_log.close()

    def wait_name(self, name, timeout=READY_TIMEOUT):
        """Bounded wait until name has an owner on the private bus."""
        proc = subprocess.run([find_tool("gdbus"), "wait", "--address", self.address,
                               "--timeout", str(int(timeout)), name],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=timeout + 5)
        if proc.returncode != 0:
            raise HarnessError(f"{name} not on the bus within {timeout}s: "
                               f"{proc.stderr.decode(errors='replace')}")

    def dunstctl_out(self, *args):
        proc = subprocess.run([find_tool("dunstctl"), *args], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=self.child_env(),
                              timeout=DOVEADM_TIMEOUT)
        if proc.returncode != 0:
            raise HarnessError(f"dunstctl {' '.join(args)} failed: "
                               f"{proc.stderr.decode(errors='replace')}")
        return proc.stdout.decode("utf-8")

    def displayed(self):
        return int(self.dunstctl_out("count", "displayed"))

    def history(self):
        """Closed notifications, newest first: list of {field: value}."""
        data = json.loads(self.dunstctl_out("history"))
        return [{k: v.get("data") for k, v in n.items()} for n in data["data"][0]]

    def close_all(self):
        self.dunstctl_out("close-all")

    def wait_until(self, predicate, timeout=10.0, what="condition"):
        """Polls predicate (a dunstctl query) with bounded waits on the
        dunst process; raises AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timeout {timeout}s waiting for {what}")
            try:
                (self.dunst or self.bus).wait(timeout=0.05)
            except subprocess.TimeoutExpired:
                pass

    def wait_displayed(self, n, timeout=10.0):
        return self.wait_until(lambda: self.displayed() == n, timeout,
                               f"{n} popups displayed (now {self.displayed()})")

    def screenshot(self, path):
        """PNG of the whole screen (xwd piped into ImageMagick's convert)."""
        xwd = subprocess.run([find_tool("xwd"), "-root", "-silent", "-display", self.display],
                             stdout=subprocess.PIPE, check=True, timeout=30)
        subprocess.run([find_tool("convert"), "xwd:-", path], input=xwd.stdout,
                       check=True, timeout=30)

    def stop(self):
        self.stop_dunst()
        _killpg(self.bus)
        self.bus = None
        _killpg(self.xvfb)
        self.xvfb = None
        if self.dir:
            _rmtree(self.dir)
            self.dir = None


class BusMonitor:
    """dbus-monitor on a private bus, for calls to the notification server.

    Each message dbus-monitor prints becomes a dict with `time` (monotonic
    seconds when the line was read), `kind` (method call, signal, ...),
    `member`, and `text` (the whole block). notifies() parses Notify calls
    into {app_name, replaces_id, icon, summary, body, actions, hints}.
    """

    def __init__(self, address, rules=("interface='org.freedesktop.Notifications'",)):
        # dbus-monitor writes through stdio: line-buffer it, or messages
        # arrive in 4 KiB lumps.
        self.proc = subprocess.Popen(
            [find_tool("stdbuf"), "-oL", find_tool("dbus-monitor"), "--address", address,
             *rules],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            start_new_session=True)
        self.messages = queue.Queue()
        self._all = []
        self._started = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        # dbus-monitor's own NameAcquired signal says it is listening.
        if not self._started.wait(READY_TIMEOUT):
            self.stop()
            raise HarnessError("dbus-monitor did not start")

    def _read(self):
        # A message ends where the next one starts; when nothing follows
        # for a moment, the one read so far is complete.
        fd = self.proc.stdout.fileno()
        buf, block = b"", None
        while True:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if not ready:
                if block:
                    self._emit(block)
                    block = None
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            while b"\n" in buf:
                raw, buf = buf.split(b"\n", 1)
                line = raw.decode("utf-8", errors="replace") + "\n"
                if re_header.match(line):
                    if block:
                        self._emit(block)
                    block = {"time": time.monotonic(), "lines": [line]}
                    if "member=NameAcquired" in line:
                        self._started.set()
                elif block is not None:
                    block["lines"].append(line)
        if block:
            self._emit(block)

    def _emit(self, block):
        text = "".join(block["lines"])
        m = re.search(r"member=(\w+)", block["lines"][0])
        msg = {"time": block["time"], "kind": block["lines"][0].split(" time=")[0],
               "member": m.group(1) if m else "", "text": text}
        self.messages.put(msg)

    def collect(self):
        while True:
            try:
                self._all.append(self.messages.get_nowait())
            except queue.Empty:
                return list(self._all)

    def wait_for(self, predicate, timeout=10.0):
        deadline = time.monotonic() + timeout
        for msg in self.collect():
            if predicate(msg):
                return msg
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no matching D-Bus message within "
                                     f"{timeout}s; seen: {[m['member'] for m in self._all]}")
            try:
                msg = self.messages.get(timeout=left)
            except queue.Empty:
                continue
            self._all.append(msg)
            if predicate(msg):
                return msg

    def notifies(self):
        return [parse_notify(m["text"]) for m in self.collect()
                if m["kind"] == "method call" and m["member"] == "Notify"]

    def wait_notifies(self, count, timeout=10.0):
        """The Notify calls seen so far, once there are at least count."""
        deadline = time.monotonic() + timeout
        while True:
            calls = self.notifies()
            if len(calls) >= count:
                return calls
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{len(calls)} of {count} Notify calls: {calls}")
            try:
                self._all.append(self.messages.get(timeout=left))
            except queue.Empty:
                pass

    def stop(self):
        _killpg(self.proc)
        self._reader.join(timeout=5)
        if self.proc.stdout:
            self.proc.stdout.close()


re_header = re.compile(r"^(method call|method return|signal|error) time=")
_re_string = re.compile(r'^\s+string "(.*?)"$', re.S)


def parse_notify(text):
    """The arguments of one Notify call as dbus-monitor prints them.

    Strings may span lines (a body with newlines); dbus-monitor does not
    escape quotes, so each argument is cut at the line that starts the next
    one (indentation and a type word)."""
    lines = text.split("\n")[1:]
    args, current = [], None
    for line in lines:
        if re.match(r"^   (string|uint32|int32|array) ", line):
            if current is not None:
                args.append(current)
            current = line
        elif current is not None:
            current += "\n" + line
    if current is not None:
        args.append(current)

    def string(arg):
        m = _re_string.match(arg)
        return m.group(1) if m else None

    hints = dict(re.findall(r'string "([\w-]+)"\s+variant\s+\w+ "?([^"\n]*)"?', args[6]))
    actions = re.findall(r'string "([^"]*)"', args[5])
    return {
        "app_name": string(args[0]),
        "replaces_id": int(args[1].split()[-1]),
        "icon": string(args[2]),
        "summary": string(args[3]),
        "body": string(args[4]),
        "actions": dict(zip(actions[::2], actions[1::2])),
        "hints": hints,
    }


# --------------------------------------------------------------------------
# Secrets

_B64_TOKEN = re.compile(rb"[A-Za-z0-9+/]{8,}={0,2}")


def secret_forms(user, password):
    """The password as it could appear on the wire or in a log: plain,
    quoted for LOGIN, and base64 of the SASL PLAIN message (with and
    without an authorization identity), of the password alone and of
    "user password"."""
    forms = {password.encode(), f'"{password}"'.encode()}
    for raw in (f"\0{user}\0{password}", f"{user}\0{user}\0{password}", password,
                f"{user} {password}"):
        forms.add(base64.b64encode(raw.encode()))
    return forms


def leaks_secret(data, user, password):
    """True if data (bytes) holds the password in one of secret_forms() or
    inside any base64 token, whatever its alignment there."""
    if any(form in data for form in secret_forms(user, password)):
        return True
    for token in _B64_TOKEN.findall(data):
        for cut in range(4):
            chunk = token[cut:]
            chunk = chunk[:len(chunk) - len(chunk) % 4]
            try:
                if password.encode() in base64.b64decode(chunk):
                    return True
            except ValueError:
                pass
    return False


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
