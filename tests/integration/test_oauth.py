# SPDX-License-Identifier: MIT
"""OAuth 2.0 (docs/PROTOCOL.md A3-A5) against a real Dovecot whose oauth2
passdb asks a token authority on loopback (harness_oauth.TokenAuthority)
whether a bearer token is live, with XOAUTH2 and OAUTHBEARER.

The account's password_command is a token command (harness_oauth.
TokenCommand) that fetches a new token from the authority on every run,
prints it as JSON or bare, and counts its runs in a file. The tests check
what the daemon promises for tokens:

- the command runs for a new connection when the last token is not fresh,
  and tokens that ran out (or were revoked) lead to a reconnection with a
  fresh one, never to `error`, with a bounded number of runs;
- a refused token gets exactly one fresh token and one more try; a token
  that is always refused ends in `error` after two runs, without a retry
  storm; a successful IDLE re-arms the one retry;
- `* BYE ... AccessTokenExpired` under an open session (a scripted server)
  reconnects at once with a fresh token;
- connections that start together share one run of the command;
- no token ever appears in the daemon's log (run with -v --trace-imap)
  or its events.
"""

import base64
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

import bus_harness as b
import imapwatch_harness as h
from hostile_server import HostileServer, Scenario
from imapwatch_harness import is_account_state, is_event

CONNECT_TIMEOUT = 15.0
EVENT_TIMEOUT = 10.0
QUIET_WINDOW = 1.5
ACCOUNT = "acct"
TTL = 3  # seconds a short-lived token lives
# Runs of the token command that count as a storm while waiting for one
# login (the daemon promises one run per login, plus one retry).
STORM = 6

# One token authority and one Dovecot for the module, each test with its
# own user. The Dovecot offers no NOTIFY, so an account with several
# folders uses one connection per folder (the token-sharing tests); tests
# that fail logins on purpose must not slow the others down with Dovecot's
# auth penalty. The users' passwords serve doveadm only.
USERS = {f"oauth{i}": f"unused-{i}" for i in range(1, 16)}
authority = h.TokenAuthority()
dovecot = None


def setUpModule():
    global dovecot
    dovecot = h.start_oauth_dovecot(authority, users=USERS, notify=False)


def tearDownModule():
    h.stop_oauth_dovecot(dovecot, authority)


def index_of(d, event, since=0):
    """Index of this very event (not an equal one) in d's events."""
    return next(i for i, e in enumerate(d.events_so_far()) if i >= since and e is event)


def leaks_token(data, user, token):
    return h.leaks_secret(data, user, token)


class OAuthTestCase(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="imapwatch-oauth-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    # -- parts

    def command(self, user, **kw):
        return h.TokenCommand(authority, self.tmp, user, **kw)

    def account(self, user, cmd, auth, port=None, security="tls", folders="INBOX", **extra):
        keys = {
            "host": "localhost", "port": port or dovecot.imaps_port, "security": security,
            "username": user, "auth": auth, "password_command": cmd.command,
            "folders": folders, "tls_ca_file": h.certs().ca,
        }
        keys.update(extra)
        return keys

    def start(self, user, cmd, auth, **kw):
        d = h.Daemon({ACCOUNT: self.account(user, cmd, auth, **kw)},
                     args=["-v", "--trace-imap"])
        d.start()
        self.addCleanup(d.kill)
        return d

    def introspected(self, cmd):
        """[(token, active)] for the tokens this command handed out, in the
        order Dovecot asked about them (one per login attempt)."""
        mine = set(cmd.tokens())
        return [(t, a) for t, _, a in authority.introspections() if t in mine]

    def wait_idle(self, d, cmd, since=0, max_runs=None, hint=""):
        """Waits for the account to be idle (after event index since) while
        the token command runs at most max_runs times in all: a storm of
        runs fails at once, with what the daemon did."""
        max_runs = max_runs or STORM
        deadline = time.monotonic() + CONNECT_TIMEOUT
        while True:
            if cmd.runs() > max_runs:
                self.fail(f"token command ran {cmd.runs()} times (at most {max_runs} "
                          f"expected) and the account is still not idle: a run storm; "
                          f"logins Dovecot saw: {len(self.introspected(cmd))}\n{hint}"
                          f"{d.describe(since)}")
            found = d.find(is_account_state(ACCOUNT, "idle"), since=since)
            if found:
                return found[0]
            if time.monotonic() > deadline or d.proc.poll() is not None:
                self.fail(f"account never idle (token command ran {cmd.runs()} times)\n"
                          f"{d.describe(since)}")
            time.sleep(0.05)  # polling a condition, bounded

    def deliver(self, user, subject):
        raw, _ = h.make_message(subject=subject)
        return dovecot.deliver(user, "INBOX", raw)

    def assert_reports_mail(self, d, user):
        uid = self.deliver(user, f"mail for {user}")
        ev = d.wait_for(is_event("new", uid=uid), timeout=EVENT_TIMEOUT)
        self.assertEqual(ev["subject"], f"mail for {user}")

    def assert_never_error(self, d):
        self.assertEqual(d.find(is_account_state(ACCOUNT, "error")), [], d.describe())

    def assert_dovecot_login(self, user, auth):
        """Dovecot logged the user in with that mechanism (its log)."""
        pattern = rf"Login: user=<{user}>, method={auth.upper()},"
        self.assertRegex(dovecot.log_text(), pattern)

    def finish(self, d, user, traced=True):
        """Stops the daemon (exit 0) and checks that no token the authority
        ever issued is in its stderr log or events, while the trace shows
        the authentication redacted."""
        d.stop()
        log = d.final_stderr
        events = "\n".join(d.lines_so_far()).encode()
        tokens = authority.issued()
        self.assertTrue(tokens)
        for token in tokens:
            self.assertFalse(leaks_token(log, user, token),
                             f"token {token} in the daemon's log:\n{log.decode(errors='replace')}")
            self.assertFalse(leaks_token(events, user, token),
                             f"token {token} in the daemon's events:\n{events.decode()}")
        if traced:
            self.assertRegex(log.decode(errors="replace"),
                             r"C: \S+ AUTHENTICATE (XOAUTH2|OAUTHBEARER) <redacted>",
                             "the trace shows no (redacted) AUTHENTICATE")


class ExpiryTest(OAuthTestCase):
    """Tokens run out under an open session; the server then drops the
    connection (doveadm kick): the daemon logs in again with a live token."""

    def expired_then_kicked(self, user, auth, output, expires_in=None, hint=""):
        cmd = self.command(user, ttl=TTL, output=output, expires_in=expires_in)
        d = self.start(user, cmd, auth)
        self.wait_idle(d, cmd, max_runs=2, hint=hint)
        first = cmd.tokens()[0]
        self.assertEqual(self.introspected(cmd)[0], (first, True))
        self.assert_dovecot_login(user, auth)

        authority.wait_expired(first)
        mark = d.mark()
        dovecot.kick(user)
        # Away from idle, and back.
        left = d.wait_for(lambda e: e.get("event") == "state" and not e.get("folder")
                          and e.get("state") != "idle",
                          timeout=EVENT_TIMEOUT, since=mark, what="account leaves idle")
        self.wait_idle(d, cmd, since=index_of(d, left, mark), max_runs=4)
        self.assert_reports_mail(d, user)

        logins = self.introspected(cmd)
        self.assertEqual(logins[-1], (cmd.tokens()[-1], True), logins)
        self.assertNotEqual(cmd.tokens()[-1], first)
        self.assertGreaterEqual(cmd.runs(), 2)
        self.assertLessEqual(cmd.runs(), len(logins) + 2, logins)
        self.assert_never_error(d)
        # Settled: no more runs.
        runs = cmd.runs()
        d.assert_no_event(lambda e: e.get("event") == "state" and e.get("state") != "idle",
                          within=QUIET_WINDOW, since=d.mark())
        self.assertEqual(cmd.runs(), runs)
        self.finish(d, user)
        return cmd, logins

    def test_short_lived_json_token_xoauth2(self):
        """The JSON says the token expires in 3 s (what it does): the first
        login uses it, the expired one is never offered again."""
        cmd, logins = self.expired_then_kicked("oauth1", "xoauth2", "json", hint=(
            "a token whose expiry is within the 60 s reuse margin must still serve "
            "the connections that asked for it: no login was tried.\n"))
        # The daemon knew when the first token ran out: it never tried it
        # after the kick, and ran the command once per login.
        self.assertEqual([a for _, a in logins], [True, True], logins)
        self.assertEqual(cmd.runs(), 2)

    def test_expired_bare_token_oauthbearer(self):
        """A bare token says nothing of its expiry: after the kick the
        daemon may offer the old one (within 10 s of its run), then gets
        one fresh token; either way it watches again."""
        self.expired_then_kicked("oauth2", "oauthbearer", "bare")

    def test_token_expired_before_its_time_xoauth2(self):
        """The JSON claims an hour, the authority honours 3 s (revoked
        early, clocks apart): the refusal gets one fresh token."""
        cmd, logins = self.expired_then_kicked("oauth3", "xoauth2", "json", expires_in=3600)
        self.assertEqual([a for _, a in logins], [True, False, True], logins)
        self.assertEqual(cmd.runs(), 2)


class RefusalTest(OAuthTestCase):
    """A refused token: one fresh token, one more try."""

    def stale_once(self, user, auth, output):
        cmd = self.command(user, mode="stale-once", output=output)
        d = self.start(user, cmd, auth)
        mark = d.log_mark()
        self.wait_idle(d, cmd, max_runs=2)
        d.wait_log("trying once more with a fresh one", since=mark)
        self.assertEqual(cmd.runs(), 2)
        tokens = cmd.tokens()
        self.assertEqual(self.introspected(cmd), [(tokens[0], False), (tokens[1], True)])
        self.assertEqual(len(re.findall("trying once more", d.stderr_text())), 1)
        self.assert_reports_mail(d, user)
        self.assert_never_error(d)
        self.assertEqual(cmd.runs(), 2)
        self.assert_dovecot_login(user, auth)
        self.finish(d, user)

    def test_stale_once_xoauth2_json(self):
        self.stale_once("oauth4", "xoauth2", "json")

    def test_stale_once_oauthbearer_bare(self):
        self.stale_once("oauth5", "oauthbearer", "bare")

    def always_invalid(self, user, auth, output, answer):
        cmd = self.command(user, mode="invalid", output=output)
        d = self.start(user, cmd, auth)
        ev = d.wait_for(is_account_state(ACCOUNT, "error"), timeout=CONNECT_TIMEOUT)
        self.assertIn("authentication failed", ev["detail"].lower(), ev)
        self.assertEqual(cmd.runs(), 2, d.describe())
        # No retry storm: nothing more happens.
        d.assert_no_event(lambda e: e.get("event") == "state" and e.get("state") != "error",
                          within=QUIET_WINDOW, since=index_of(d, ev) + 1)
        self.assertEqual(cmd.runs(), 2, d.describe())
        self.assertEqual([a for _, a in self.introspected(cmd)], [False, False])
        self.assertEqual(d.find(is_account_state(ACCOUNT, "idle")), [])
        log = d.stderr_text()
        self.assertEqual(len(re.findall("trying once more", log)), 1)
        # Each error challenge (the server's JSON refusal) got its answer,
        # after which Dovecot said NO (A3, A4).
        answers = re.findall(r"(?m)S: \+ (ey\S*)\n.*C: (.*)$", log)
        self.assertEqual(len(answers), 2, log)
        for challenge, reply in answers:
            self.assertEqual(reply, answer, log)
        self.finish(d, user)
        return ev

    def test_always_invalid_xoauth2(self):
        # Dovecot's XOAUTH2 error challenge, answered with an empty line.
        ev = self.always_invalid("oauth6", "xoauth2", "json", answer="")
        self.assertIn("status 401", ev["detail"], ev)

    def test_always_invalid_oauthbearer(self):
        # OAUTHBEARER's is answered with ^A (RFC 7628 §3.2.3).
        ev = self.always_invalid("oauth7", "oauthbearer", "bare", answer="AQ==")
        self.assertIn("invalid_token", ev["detail"], ev)

    def test_idle_rearms_the_retry(self):
        """Revoked twice, each time under an open session: each refusal
        (after a kick) gets its one fresh token, because the IDLE between
        them re-armed the retry."""
        user = "oauth8"
        cmd = self.command(user, output="json")
        d = self.start(user, cmd, "oauthbearer")
        self.wait_idle(d, cmd, max_runs=1)
        for round in (1, 2):
            authority.revoke(cmd.tokens()[-1])
            mark, log = d.mark(), d.log_mark()
            dovecot.kick(user)
            d.wait_log("trying once more with a fresh one", since=log)
            self.wait_idle(d, cmd, since=mark, max_runs=1 + round)
            self.assertEqual(cmd.runs(), 1 + round)
        self.assertEqual([a for _, a in self.introspected(cmd)],
                         [True, False, True, False, True])
        self.assert_reports_mail(d, user)
        self.assert_never_error(d)
        self.finish(d, user)


class TokenCommandTest(OAuthTestCase):

    def test_connections_share_one_run(self):
        """Three folders, three connections (no NOTIFY) starting together:
        one run of the command serves them all."""
        user = "oauth9"
        for folder in ("Work", "Lists"):
            dovecot.create_folder(user, folder)
        cmd = self.command(user, output="json-at")
        d = self.start(user, cmd, "xoauth2", folders="INBOX;Work;Lists")
        self.wait_idle(d, cmd, max_runs=1)
        deadline = time.monotonic() + EVENT_TIMEOUT
        while len(self.introspected(cmd)) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)  # polling a condition, bounded
        token = cmd.tokens()[0]
        self.assertEqual(self.introspected(cmd), [(token, True)] * 3)
        self.assertEqual(dovecot.connections(user), 3)
        self.assertEqual(cmd.runs(), 1)
        self.finish(d, user)

    def test_revoked_token_under_several_connections(self):
        """Three connections share a token, which the authority then
        revokes; the server drops all three (kick). They come back with
        the one fresh token the first refusal fetched, and the account
        never stops in `error`."""
        user = "oauth10"
        folders = ("INBOX", "Work", "Lists")
        for folder in folders[1:]:
            dovecot.create_folder(user, folder)
        cmd = self.command(user, output="json")
        d = self.start(user, cmd, "oauthbearer", folders=";".join(folders))
        self.wait_all_connected(d, cmd, user, 3, max_runs=1)
        authority.revoke(cmd.tokens()[0])
        mark = d.mark()
        dovecot.kick(user)
        d.wait_for(lambda e: e.get("event") == "state" and not e.get("folder")
                   and e.get("state") != "idle",
                   timeout=EVENT_TIMEOUT, since=mark, what="account leaves idle")
        self.wait_all_connected(d, cmd, user, 3, max_runs=3, since=mark, hint=(
            "every connection that offered the revoked token must try the fresh "
            "one, whichever refusal spent the account's one retry. "))
        self.assertEqual(cmd.runs(), 2, self.introspected(cmd))
        self.assert_reports_mail(d, user)
        self.finish(d, user)

    def wait_all_connected(self, d, cmd, user, count, max_runs, since=0, hint=""):
        """Waits until Dovecot has count sessions of user and the account's
        latest state is idle, with at most max_runs runs of the command."""
        deadline = time.monotonic() + CONNECT_TIMEOUT
        while True:
            states = d.find(lambda e: e.get("event") == "state" and not e.get("folder"),
                            since=since)
            if cmd.runs() > max_runs:
                self.fail(f"token command ran {cmd.runs()} times, at most {max_runs} "
                          f"expected\n{d.describe(since)}")
            if states and states[-1]["state"] == "error":
                self.fail(f"{hint}account in error: {states[-1]['detail']} "
                          f"(logins: {self.introspected(cmd)})\n{d.describe(since)}")
            if states and states[-1]["state"] == "idle" and dovecot.connections(user) == count:
                return
            if time.monotonic() > deadline:
                self.fail(f"not {count} connections in idle within {CONNECT_TIMEOUT}s "
                          f"(sessions: {dovecot.who(user)})\n{d.describe(since)}")
            time.sleep(0.1)  # polling a condition, bounded

    def test_output_that_is_no_token(self):
        """A first line with spaces is no bearer token: the account says
        so (and retries with backoff), without quoting what the command
        printed, and never logs in with it."""
        user = "oauth11"
        cmd = self.command(user, mode="garbage", output="bare")
        d = self.start(user, cmd, "xoauth2")
        ev = d.wait_for(lambda e: e.get("event") == "state" and not e.get("folder")
                        and "cannot get the token" in e.get("detail", ""),
                        timeout=CONNECT_TIMEOUT, what="a state saying 'cannot get the token'")
        self.assertIn(ev["state"], ("error", "backoff"), ev)
        self.assertEqual(self.introspected(cmd), [], "the daemon logged in with it")
        self.finish(d, user, traced=False)


class MarkReadTest(OAuthTestCase):
    def test_mark_read_gets_a_fresh_token(self):
        """MarkRead opens a connection of its own, which asks for a fresh
        token like any new connection: a token that ran out since the
        account logged in does not fail it."""
        user = "oauth13"
        cmd = self.command(user, ttl=3, output="bare")
        with b.SessionBus() as bus:
            d = h.Daemon({ACCOUNT: self.account(user, cmd, "xoauth2")},
                         args=["-v", "--trace-imap"],
                         env={"DBUS_SESSION_BUS_ADDRESS": bus.address})
            d.start()
            self.addCleanup(d.kill)
            self.wait_idle(d, cmd, max_runs=1)
            uid = self.deliver(user, "read me from the bus")
            ev = d.wait_for(is_event("new", uid=uid), timeout=EVENT_TIMEOUT)
            authority.wait_expired(cmd.tokens()[0])
            self.assertEqual(b.call(bus, "MarkRead", [ev["id"]]), ())
            self.assertIn("\\Seen", dovecot.state(user, "INBOX")[uid])
            self.assertEqual(cmd.runs(), 2, self.introspected(cmd))
            self.assertEqual(self.introspected(cmd)[-1], (cmd.tokens()[1], True))
            # Nowhere else either: not on the bus, not in the process's
            # arguments or environment, not in --check-config.
            seen = [repr(b.call(bus, "GetStatus")),
                    repr(b.call(bus, "ListMessages", "", "", False))]
            for what in ("cmdline", "environ"):
                with open(f"/proc/{d.proc.pid}/{what}", "rb") as f:
                    seen.append(f.read().decode(errors="replace"))
            check = subprocess.run([d.binary, "--check-config", "--config", d.config_path],
                                   capture_output=True, timeout=30)
            seen.append(check.stdout.decode() + check.stderr.decode())
            for token in cmd.tokens():
                for text in seen:
                    self.assertNotIn(token, text)
            self.finish(d, user)


class DoctorTest(OAuthTestCase):
    def doctor(self, user, cmd, auth):
        path = os.path.join(self.tmp, "config")
        with open(path, "w", encoding="utf-8") as f:
            f.write(f"[account {ACCOUNT}]\n")
            for k, v in self.account(user, cmd, auth).items():
                f.write(f"{k} = {v}\n")
        os.chmod(path, 0o600)
        out = subprocess.run([h.program("IMAPWATCH"), "doctor", "--config", path], capture_output=True,
                             timeout=60)
        return out.stdout.decode() + out.stderr.decode()

    def test_doctor_tells_the_token_and_the_mechanism(self):
        user = "oauth14"
        cmd = self.command(user, ttl=600)
        text = self.doctor(user, cmd, "oauthbearer")
        self.assertRegex(text, r"ok +token: from password_command \(not shown\), valid for "
                               r"(9|10) min more")
        self.assertRegex(text, rf"ok +login: accepted for user '{user}' \(auth = oauthbearer\)")
        for token in cmd.tokens():
            self.assertNotIn(token, text)

    def test_doctor_tells_what_the_server_said(self):
        user = "oauth15"
        cmd = self.command(user, mode="invalid")
        text = self.doctor(user, cmd, "xoauth2")
        self.assertRegex(text, rf"FAIL +login: the server rejected the access token for "
                               rf"user '{user}'")
        self.assertIn("the server says of the token: status", text)
        for token in cmd.tokens():
            self.assertNotIn(token, text)


class _Closing(bytes):
    """Pushed bytes after which the server closes the connection."""


class ClosingServer(HostileServer):
    """A HostileServer that can also end a session: push_and_close(data)
    sends data and then closes the connection (as a server does after its
    BYE), on the server thread."""

    def push_and_close(self, data):
        self.push(_Closing(data))

    def _send(self, sock, data):
        super()._send(sock, data)
        if isinstance(data, _Closing):
            # The next recv() sees the end: the scenario ends, the
            # connection is closed and the next one accepted.
            sock.shutdown(socket.SHUT_RDWR)


class ReauthTest(OAuthTestCase):
    """`* BYE ... AccessTokenExpired` under an open session (Gmail's way):
    log in again at once, with a fresh token."""

    def test_bye_access_token_expired_xoauth2(self):
        self.bye_access_token_expired("xoauth2")

    def test_bye_access_token_expired_oauthbearer(self):
        self.bye_access_token_expired("oauthbearer")

    def bye_access_token_expired(self, auth):
        user = "someone@example.com"
        caps = b"IMAP4rev1 SASL-IR AUTH=XOAUTH2 AUTH=OAUTHBEARER IDLE"
        server = ClosingServer(Scenario(
            greeting=b"* OK [CAPABILITY " + caps + b"] ready\r\n",
            replies={"CAPABILITY": b"* CAPABILITY " + caps + b"\r\n{tag} OK done\r\n"},
            starttls=False, implicit_tls=True))
        server.start()
        self.addCleanup(server.stop)
        # An hour-long token: only the BYE says it is no good any more.
        cmd = self.command(user, output="json")
        d = self.start(user, cmd, auth, port=server.port)
        self.wait_idle(d, cmd, max_runs=1)
        server.wait_for_command("IDLE")
        self.assertEqual(cmd.runs(), 1)

        mark = d.mark()
        server.push_and_close(b"* BYE Session invalidated - AccessTokenExpired\r\n")
        server.wait_until(lambda s: len(s.conns) >= 2 and "IDLE" in s.conns[1].names(),
                          timeout=CONNECT_TIMEOUT, what="a second connection in IDLE")
        self.wait_idle(d, cmd, since=mark, max_runs=2)
        self.assertEqual(cmd.runs(), 2)

        # At once: a backoff in between waits 0 s.
        for ev in d.find(is_account_state(ACCOUNT, "backoff"), since=mark):
            self.assertIn("retrying in 0 s", ev["detail"], d.describe(mark))
        # The second login carries the second token.
        offered = []
        for conn in server.conns[:2]:
            line = next(l for t, _, n, l in conn.commands if n == "AUTHENTICATE")
            self.assertEqual(line.split()[2], auth.upper(), line)
            sasl = base64.b64decode(line.split()[3]).decode()
            offered.append(re.search(r"auth=Bearer (\S+?)\x01", sasl).group(1))
        self.assertEqual(offered, cmd.tokens())
        self.assertEqual(len(server.conns), 2, server.describe())
        self.assert_never_error(d)
        self.finish(d, user)


if __name__ == "__main__":
    unittest.main()
