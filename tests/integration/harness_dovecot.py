# SPDX-License-Identifier: MIT
"""Dovecot: a private Dovecot on free loopback ports in a temp dir, plus
doveadm helpers that act as the user's other devices.
"""

import grp
import json
import os
import pwd
import socket
import ssl
import subprocess
import time

from harness_base import (DEBUG, READY_TIMEOUT, Fixture, HarnessError, _mkdtemp, _rmtree,
                          _run, find_tool, free_port, stop_group)
from harness_message import make_message
from harness_pki import certs


DEFAULT_USERS = {f"user{i}": f"secret-{i}" for i in range(1, 9)}


class Dovecot(Fixture):
    """A private Dovecot: `with Dovecot() as dc: ...`.

    Listeners on 127.0.0.1: dc.imaps_port (implicit TLS) and dc.imap_port
    (plain, STARTTLS offered). Users: dc.users {name: password}; mail in
    maildirs under the temp dir; hierarchy separator "/".

    cert/key default to the Certs server certificate (localhost).
    plaintext_auth=True allows LOGIN without TLS on the plain port (Dovecot
    already treats loopback as secured, so this only matters if that changes).

    oauth2_introspection_url="http://127.0.0.1:PORT/introspect" adds the
    XOAUTH2 and OAUTHBEARER mechanisms, checked by Dovecot's oauth2 passdb,
    which POSTs "token=..." to that URL (RFC 7662) and accepts the token if
    the JSON answer says {"active": true, "username": USER}. The password
    users log in as before (PLAIN/LOGIN against the passwd file).
    auth_penalty=False turns off Dovecot's authentication penalty (after a
    failed login from an address, its next logins wait 2, 4, 8... up to 15
    seconds), for tests that fail logins on purpose and go on using the
    server.
    """

    # Dovecot 2.3's capabilities after login, without NOTIFY: a server that
    # does not offer it (imap_capability replaces the whole list).
    CAPABILITIES_WITHOUT_NOTIFY = (
        "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY "
        "THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL "
        "CATENATE UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE "
        "QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS BINARY MOVE "
        "SNIPPET=FUZZY PREVIEW=FUZZY PREVIEW STATUS=SIZE SAVEDATE LITERAL+")

    def __init__(self, users=None, cert=None, key=None, plaintext_auth=True,
                 name="dovecot", special_use=None, idle_notify_interval=None,
                 notify=True, max_userip_connections=100, public_namespace=False,
                 capabilities=None, oauth2_introspection_url=None, auth_penalty=True):
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
        # Seconds between "* OK Still here" during IDLE (Dovecot: 2 min).
        self.idle_notify_interval = idle_notify_interval
        # False: NOTIFY is not offered (the connection-budget mode).
        self.notify = notify
        # The whole capability list after login (imap_capability), e.g.
        # without QRESYNC to stand for servers that offer CONDSTORE only.
        self.capabilities = capabilities
        # Connections a user may have from one address (Dovecot's
        # mail_max_userip_connections; more get "NO [LIMIT]").
        self.max_userip_connections = max_userip_connections
        # True: a public namespace "Public/" every user shares (team
        # folders; no ACLs, so everyone may read and write it).
        self.public_namespace = public_namespace
        # Token introspection endpoint for the oauth2 passdb; None: no
        # OAuth mechanisms at all.
        self.oauth2_introspection_url = oauth2_introspection_url
        self.auth_penalty = auth_penalty
        self.name = name
        self.dir = None
        self.proc = None
        self.imap_port = None
        self.imaps_port = None

    # -- lifecycle

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
        if self.proc is not None:
            stop_group(self.proc)
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
        for d in ("run", "state", "mail", "public"):
            os.makedirs(self.path(d), exist_ok=True)
        for d in ("mail", "public"):
            os.chmod(self.path(d), 0o755)
            if os.getuid() == 0:
                os.chown(self.path(d), uid, gid)
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
        idle_notify = (f"  imap_idle_notify_interval = {self.idle_notify_interval} secs\n"
                       if self.idle_notify_interval else "")
        public = (f"""namespace public {{
  type = public
  separator = /
  prefix = Public/
  location = maildir:{self.path("public")}:INDEXPVT=~/public-index
  subscriptions = no
  list = yes
}}
""" if self.public_namespace else "")
        capabilities = self.capabilities or (None if self.notify
                                             else self.CAPABILITIES_WITHOUT_NOTIFY)
        capability = f"  imap_capability = {capabilities}\n" if capabilities else ""
        auth_mechanisms = "plain login"
        password_mechanisms = ""
        oauth2_passdb = ""
        if self.oauth2_introspection_url:
            auth_mechanisms = "plain login xoauth2 oauthbearer"
            # Tokens never go to the passwd file, passwords never to the
            # introspection endpoint.
            password_mechanisms = "  mechanisms = plain login none\n"
            oauth2_conf = self.path("oauth2.conf.ext")
            with open(oauth2_conf, "w") as f:
                f.write(f"""introspection_mode = post
introspection_url = {self.oauth2_introspection_url}
force_introspection = yes
username_attribute = username
active_attribute = active
active_value = true
""")
            os.chmod(oauth2_conf, 0o644)
            oauth2_passdb = f"""passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {oauth2_conf}
}}
"""
        # The auth process cannot reach anvil's penalty socket: no penalty.
        no_penalty = ("" if self.auth_penalty else """service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
""")
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

auth_mechanisms = {auth_mechanisms}
# Failed logins answer at once; tests of wrong passwords stay fast.
auth_failure_delay = 0 secs
disable_plaintext_auth = {"no" if self.plaintext_auth else "yes"}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.path("passwd")}
{password_mechanisms}}}
{oauth2_passdb}userdb {{
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
{public}
mail_max_userip_connections = {self.max_userip_connections}
protocol imap {{
  mail_max_userip_connections = {self.max_userip_connections}
{idle_notify}{capability}}}
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
{no_penalty}{debug}
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

    def delete_folder(self, user, folder):
        self.doveadm("mailbox", "delete", "-u", user, folder)

    def recreate_folder(self, user, folder, subjects, proxy):
        """Another client deletes `folder` and creates it again holding one
        unseen message per subject (a new UIDVALIDITY). The daemon, which
        reaches the server through the FaultProxy `proxy`, hears nothing of
        it meanwhile (black hole: it could otherwise look at the folder
        half made); then its connections close, and the next one finds the
        folder complete. Returns the new UIDs."""
        proxy.blackhole()
        self.delete_folder(user, folder)
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

    def logins(self, user):
        """How many times user logged in so far (the log's "Login:" lines)."""
        with open(self.path("dovecot.log"), errors="replace") as f:
            return f.read().count(f"Login: user=<{user}>")

    def connections(self, user):
        """How many IMAP sessions user has now (`doveadm who -1`: one line
        each)."""
        return len(self.who(user))

    def who(self, user=None):
        """Connected sessions (`doveadm who`), one line per user/connection."""
        args = ["who", "-1"]
        if user:
            args.append(user)
        out = self.doveadm(*args)
        return [line for line in out.splitlines()[1:] if line.strip()]
