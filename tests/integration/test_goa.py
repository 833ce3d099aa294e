# SPDX-License-Identifier: MIT
"""GNOME Online Accounts: an account with `goa_account = IDENTITY` takes its
server, port, security, user name and password or token from the GOA
account of that identity on the session bus. A fake goa-daemon (the C
helper imapwatch-test-fake-goa, with goa-daemon's real D-Bus names) serves
one account on a private session bus; Dovecot checks the tokens with a
token authority on loopback (harness_oauth), as in test_oauth.

- An OAuth2 account (OAuth2Based, like Google) gets a fresh token with
  GetAccessToken for each connection: it reaches idle, reports mail, and
  after the server drops it logs in again with a new token. No token
  ever shows in the daemon's log or events.
- A password account (PasswordBased, like "IMAP and SMTP") gets its
  password with GetPassword("imap-password"), over STARTTLS.
- An identity GOA does not know, or no GOA on the bus at all, stops the
  account in `error` with a detail that says what is wrong.

The daemon trusts the test CA through tls_ca_file, which GOA does not
provide: goa_account must allow it.
"""

import os
import select
import shutil
import subprocess
import tempfile
import threading
import unittest

import imapwatch_harness as h
from bus_harness import SessionBus
from imapwatch_harness import is_account_state, is_event

CONNECT_TIMEOUT = 15.0
EVENT_TIMEOUT = 10.0
ACCOUNT = "acct"
TOKEN_TTL = 30  # seconds: within the daemon's one-minute reuse margin

# The OAuth user's password serves doveadm only; the password user logs in
# with it (PLAIN against Dovecot's passwd file).
USERS = {"goa1": "unused-goa-1", "goa2": "secret-goa-2"}
authority = h.TokenAuthority()
dovecot = None


def setUpModule():
    global dovecot
    dovecot = h.start_oauth_dovecot(authority, users=USERS)


def tearDownModule():
    h.stop_oauth_dovecot(dovecot, authority)


class FakeGoa:
    """imapwatch-test-fake-goa on a session bus (args: its options). Ready
    once it owns org.gnome.OnlineAccounts; calls(prefix) counts the calls
    it logged ("GetAccessToken", "GetPassword imap-password", ...). It
    exits when close() ends its input."""

    def __init__(self, address, *args):
        tool = h.program("IMAPWATCH_TEST_FAKE_GOA")
        self.proc = subprocess.Popen(
            [tool, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0,
            env=dict(os.environ, DBUS_SESSION_BUS_ADDRESS=address), start_new_session=True)
        self._lines = []
        self._lock = threading.Lock()
        ready, _, _ = select.select([self.proc.stdout], [], [], h.READY_TIMEOUT)
        first = self.proc.stdout.readline().strip() if ready else b""
        if first != b"ready":
            self.close()
            raise h.HarnessError(f"fake-goa did not start (said {first!r})")
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for raw in self.proc.stdout:
            with self._lock:
                self._lines.append(raw.decode(errors="replace").strip())

    def lines(self):
        with self._lock:
            return list(self._lines)

    def calls(self, prefix):
        return sum(1 for line in self.lines() if line.startswith(prefix))

    def close(self):
        if self.proc.stdin:
            self.proc.stdin.close()
        h.stop_process(self.proc)
        self.proc.stdout.close()


def leaves_idle(e):
    return e.get("event") == "state" and not e.get("folder") and e.get("state") != "idle"


class GoaTestCase(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="imapwatch-goa-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.bus = SessionBus()
        self.bus.start()
        self.addCleanup(self.bus.stop)

    def fake_goa(self, identity, *args):
        goa = FakeGoa(self.bus.address, "--identity", identity, *args)
        self.addCleanup(goa.close)
        return goa

    def start(self, identity, **extra):
        keys = {"goa_account": identity, "folders": "INBOX", "tls_ca_file": h.certs().ca}
        keys.update(extra)
        d = h.Daemon({ACCOUNT: keys}, env={"DBUS_SESSION_BUS_ADDRESS": self.bus.address},
                     args=["-v", "--trace-imap"])
        d.start()
        self.addCleanup(d.kill)
        return d

    def wait_idle(self, d, since=0):
        """The account's first idle (index >= since); an `error` before it
        fails at once with what the daemon said."""
        ev = d.wait_for(lambda e: is_account_state(ACCOUNT, "idle")(e)
                        or is_account_state(ACCOUNT, "error")(e),
                        timeout=CONNECT_TIMEOUT, since=since, what="account idle")
        if ev["state"] == "error":
            self.fail(f"account in error: {ev.get('detail')} (goa_account with "
                      f"tls_ca_file must be accepted)\n{d.describe(since)}")
        return ev

    def assert_reports_mail(self, d, user, subject):
        since = d.mark()
        raw, _ = h.make_message(subject=subject)
        uid = dovecot.deliver(user, "INBOX", raw)
        d.wait_for(is_event("new", uid=uid), timeout=EVENT_TIMEOUT, since=since)

    def assert_no_leak(self, d, user, secrets):
        """After d stopped: no secret in its log or its events."""
        log = d.final_stderr
        events = "\n".join(d.lines_so_far()).encode()
        self.assertTrue(secrets)
        for secret in secrets:
            self.assertFalse(h.leaks_secret(log, user, secret),
                             f"{secret} in the daemon's log:\n{log.decode(errors='replace')}")
            self.assertFalse(h.leaks_secret(events, user, secret),
                             f"{secret} in the daemon's events:\n{events.decode()}")

    def wait_error(self, d):
        ev = d.wait_for(lambda e: is_account_state(ACCOUNT, "error")(e)
                        or is_account_state(ACCOUNT, "idle")(e),
                        timeout=CONNECT_TIMEOUT, what="account error")
        self.assertEqual(ev["state"], "error", d.describe())
        return ev


class GoaAccountTest(GoaTestCase):

    def test_oauth2_account(self):
        """GetAccessToken for each login: idle, mail, and after the server
        drops the connection a new login with a new token."""
        user, identity = "goa1", "goa1@example.com"
        # Connections that start within 10 s of a token's fetch share it
        # unless it expires within a minute (A5): GOA says 30 s, so the
        # login after the kick needs a new one.
        cmd = h.TokenCommand(authority, self.tmp, user, ttl=TOKEN_TTL, output="bare")
        goa = self.fake_goa(identity, "--host", f"127.0.0.1:{dovecot.imaps_port}", "--ssl",
                            "--user", user, "--token-command", cmd.command,
                            "--expires-in", str(TOKEN_TTL))
        d = self.start(identity)
        self.wait_idle(d)
        self.assertGreaterEqual(goa.calls("GetAccessToken"), 1, goa.lines())
        mine = set(cmd.tokens())
        logins = [(t, a) for t, _, a in authority.introspections() if t in mine]
        self.assertEqual(logins[-1], (cmd.tokens()[-1], True), logins)
        self.assert_reports_mail(d, user, "first")

        calls = goa.calls("GetAccessToken")
        first = cmd.tokens()[-1]
        mark = d.mark()
        dovecot.kick(user)
        d.wait_for(leaves_idle, timeout=EVENT_TIMEOUT, since=mark, what="account leaves idle")
        self.wait_idle(d, since=mark)
        self.assertGreater(goa.calls("GetAccessToken"), calls,
                           "no GetAccessToken for the new connection")
        self.assertGreaterEqual(goa.calls("GetAccessToken"), 2)
        mine = set(cmd.tokens())
        logins = [(t, a) for t, _, a in authority.introspections() if t in mine]
        self.assertEqual(logins[-1], (cmd.tokens()[-1], True), logins)
        self.assertNotEqual(cmd.tokens()[-1], first)
        self.assert_reports_mail(d, user, "after the kick")
        self.assertEqual(goa.calls("GetPassword"), 0, goa.lines())

        d.stop()
        self.assert_no_leak(d, user, cmd.tokens())
        self.assertRegex(d.final_stderr.decode(errors="replace"),
                         r"C: \S+ AUTHENTICATE (XOAUTH2|OAUTHBEARER) <redacted>",
                         "the trace shows no (redacted) AUTHENTICATE")

    def test_password_account(self):
        """GetPassword("imap-password"), STARTTLS from ImapUseTls, the port
        from ImapHost."""
        user, identity = "goa2", "goa2@example.com"
        password = USERS[user]
        goa = self.fake_goa(identity, "--host", f"127.0.0.1:{dovecot.imap_port}", "--starttls",
                            "--user", user, "--password", password)
        d = self.start(identity)
        self.wait_idle(d)
        self.assertGreaterEqual(goa.calls("GetPassword imap-password"), 1, goa.lines())
        self.assertEqual([line for line in goa.lines() if line.startswith("GetPassword")
                          and line != "GetPassword imap-password"], [], goa.lines())
        self.assert_reports_mail(d, user, "by password")
        d.stop()
        self.assert_no_leak(d, user, [password])


class GoaErrorTest(GoaTestCase):

    def test_unknown_identity(self):
        """GOA has accounts, none of this identity: error naming it."""
        cmd = h.TokenCommand(authority, self.tmp, "goa1", output="bare")
        goa = self.fake_goa("someone@example.com", "--host",
                            f"127.0.0.1:{dovecot.imaps_port}", "--ssl", "--user", "goa1",
                            "--token-command", cmd.command)
        d = self.start("nobody@example.com")
        ev = self.wait_error(d)
        self.assertIn("nobody@example.com", ev.get("detail", ""), ev)
        self.assertEqual(goa.calls("GetAccessToken"), 0, goa.lines())
        self.assertEqual(cmd.runs(), 0)
        d.stop()

    def test_no_goa_on_the_bus(self):
        """Nobody owns org.gnome.OnlineAccounts: error saying so."""
        d = self.start("goa1@example.com")
        ev = self.wait_error(d)
        self.assertRegex(ev.get("detail", ""), r"(?i)online accounts|\bgoa\b", ev)
        d.stop()


if __name__ == "__main__":
    unittest.main()
