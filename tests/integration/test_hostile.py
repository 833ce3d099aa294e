# SPDX-License-Identifier: MIT
"""STARTTLS and pre-authentication attacks (docs/PROTOCOL.md S1-S7, T8, T11)
against imapwatchd, played by the scripted HostileServer.

For a `security = starttls` account every attack must end in the account
state "error" with a detail that says what happened, no credential may ever
cross the wire before TLS (neither the password nor any base64 form of it),
and the daemon keeps running and exits 0 on SIGTERM. Where the attack is
harmless (data injected before login, capabilities that change), the login
goes on over TLS only.
"""

import re
import socket
import time
import unittest

import imapwatch_harness as h
from hostile_server import CAPS_TLS, HostileServer, Scenario
from imapwatch_harness import is_account_state, is_event

USER = "mallory-victim"
PASSWORD = "S3cr3t-Pa55"
CONNECT_TIMEOUT = 15.0
QUIET_WINDOW = 0.5
ACCOUNT = "acct"

MESSAGE_EVENTS = ("new", "changed", "removed")


def leaks_secret(data):
    """The password in clear or in any base64 form."""
    return h.leaks_secret(data, USER, PASSWORD)


def sends_credentials(data):
    """True if data holds a LOGIN or AUTHENTICATE command."""
    return re.search(rb"(?im)^\S+ (LOGIN|AUTHENTICATE)\b", data) is not None


def account(port, security="starttls", **extra):
    keys = {
        "host": "localhost",
        "port": port,
        "security": security,
        "username": USER,
        "password": PASSWORD,
        "folders": "INBOX",
        "tls_ca_file": h.certs().ca,
    }
    keys.update(extra)
    return keys


def caps_reply(caps, extra=b""):
    return extra + b"* CAPABILITY " + caps + b"\r\n{tag} OK done\r\n"


class HostileTestCase(unittest.TestCase):
    maxDiff = None

    def run_scenario(self, scenario, security="starttls"):
        server = HostileServer(scenario)
        server.start()
        self.addCleanup(server.stop)
        daemon = h.Daemon({ACCOUNT: account(server.port, security)})
        daemon.start()
        self.addCleanup(daemon.kill)
        return server, daemon

    def expect_error(self, scenario, *words, security="starttls"):
        """Runs scenario to the account's "error" state; its detail must
        contain every word (case-insensitive). Stops the daemon (exit 0)
        and returns the server."""
        server, daemon = self.run_scenario(scenario, security)
        ev = daemon.wait_for(is_account_state(ACCOUNT, "error"), timeout=CONNECT_TIMEOUT)
        for word in words:
            self.assertIn(word.lower(), ev["detail"].lower(), ev)
        # Permanent: no retry, no connection after the first.
        daemon.assert_no_event(is_account_state(ACCOUNT, "connecting"), within=QUIET_WINDOW,
                               since=daemon.events_so_far().index(ev))
        self.assertEqual(daemon.find(lambda e: e.get("event") in MESSAGE_EVENTS), [])
        daemon.stop()
        self.assertEqual(len(server.conns), 1, server.describe())
        self.assert_no_secret_in_clear(server)
        return server

    def expect_backoff(self, scenario, *words, security="starttls"):
        """Like expect_error for a failure worth retrying: the account goes
        to "backoff" with every word in its detail."""
        server, daemon = self.run_scenario(scenario, security)
        ev = daemon.wait_for(is_account_state(ACCOUNT, "backoff"), timeout=CONNECT_TIMEOUT)
        for word in words:
            self.assertIn(word.lower(), ev["detail"].lower(), ev)
        daemon.stop()
        self.assert_no_secret_in_clear(server)
        return server

    def expect_idle(self, scenario, security="starttls"):
        """Runs scenario until the account watches; returns (server, daemon)."""
        server, daemon = self.run_scenario(scenario, security)
        daemon.wait_for(is_account_state(ACCOUNT, "idle"), timeout=CONNECT_TIMEOUT)
        server.wait_for_command("IDLE")
        return server, daemon

    def assert_no_secret_in_clear(self, server, pre_tls_failure=True):
        plain = server.plaintext_received()
        self.assertFalse(leaks_secret(plain), f"password sent in clear:\n{server.describe()}")
        if pre_tls_failure:
            self.assertFalse(sends_credentials(plain), server.describe())

    def assert_logged_in_over_tls(self, server):
        conn = server.conns[0]
        self.assertTrue(conn.tls_active, server.describe())
        self.assertFalse(leaks_secret(bytes(conn.plain)), server.describe())
        self.assertFalse(sends_credentials(bytes(conn.plain)), server.describe())
        self.assertTrue(sends_credentials(bytes(conn.tls)), server.describe())


class StartTlsStrippingTest(HostileTestCase):
    """S1: STARTTLS hidden or refused never leads to a plaintext login."""

    def test_not_advertised_in_greeting(self):
        server = self.expect_error(
            Scenario(greeting=b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN LOGIN] ready\r\n"),
            "does not offer STARTTLS")
        self.assertEqual(server.conns[0].names(), [])

    def test_not_advertised_in_capability(self):
        server = self.expect_error(
            Scenario(greeting=b"* OK ready\r\n",
                     replies={"CAPABILITY": caps_reply(b"IMAP4rev1 AUTH=PLAIN LOGIN")}),
            "does not offer STARTTLS")
        self.assertEqual(server.conns[0].names(), ["CAPABILITY"])

    def test_starttls_no(self):
        self.expect_error(
            Scenario(replies={"STARTTLS": b"{tag} NO TLS not available\r\n"}, starttls=False),
            "refused STARTTLS", "TLS not available")

    def test_starttls_bad(self):
        self.expect_error(
            Scenario(replies={"STARTTLS": b"{tag} BAD unknown command\r\n"}, starttls=False),
            "refused STARTTLS")

    def test_starttls_continuation(self):
        server = self.expect_error(
            Scenario(replies={"STARTTLS": b"+ go ahead\r\n"}, starttls=False),
            "STARTTLS", "continuation", "without TLS")
        # Nothing after STARTTLS: no guess at what "+" wanted.
        self.assertEqual(server.conns[0].names(), ["STARTTLS"])


class PreauthTest(HostileTestCase):
    """S2/T11: PREAUTH before TLS would skip STARTTLS."""

    def test_preauth_on_plaintext(self):
        server = self.expect_error(
            Scenario(greeting=b"* PREAUTH [CAPABILITY IMAP4rev1 IDLE] welcome\r\n"),
            "PREAUTH", "without TLS")
        self.assertEqual(server.conns[0].names(), [])

    def test_preauth_over_implicit_tls_is_accepted(self):
        server, daemon = self.expect_idle(
            Scenario(greeting=b"* PREAUTH [CAPABILITY IMAP4rev1 IDLE] welcome\r\n",
                     implicit_tls=True),
            security="tls")
        daemon.stop()
        conn = server.conns[0]
        self.assertEqual(conn.plain, b"")
        self.assertFalse(sends_credentials(bytes(conn.tls)), server.describe())
        self.assertFalse(leaks_secret(bytes(conn.tls)), server.describe())
        self.assertEqual(conn.names()[:2], ["EXAMINE", "IDLE"])


class ResponseInjectionTest(HostileTestCase):
    """S3: plaintext that follows "OK Begin TLS" in the same segment."""

    def test_capability_injected_after_begin_tls(self):
        server = self.expect_error(
            Scenario(replies={"STARTTLS": b"{tag} OK Begin TLS\r\n"
                                          b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n"}),
            "after accepting STARTTLS", "injection")
        self.assertIsNotNone(server.conns[0].handshake_error)
        self.assertFalse(server.conns[0].tls_active)

    def test_tagged_ok_injected_after_begin_tls(self):
        # libEtPan #386: an injected "A2 OK" taken as the answer to LOGIN.
        self.expect_error(
            Scenario(replies={"STARTTLS": b"{tag} OK Begin TLS\r\n"
                                          b"A2 OK [CAPABILITY IMAP4rev1] Logged in\r\n"
                                          b"A3 OK done\r\n"}),
            "injection")

    def test_partial_line_injected_after_begin_tls(self):
        self.expect_error(
            Scenario(replies={"STARTTLS": b"{tag} OK Begin TLS\r\n* 1 EXI"}), "injection")


class CapabilityTamperingTest(HostileTestCase):
    """S4: only the capabilities read after TLS count."""

    def test_post_tls_capabilities_leave_nothing_usable(self):
        server = self.expect_error(
            Scenario(greeting=b"* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN LOGIN] hi\r\n",
                     replies={"CAPABILITY@tls": caps_reply(b"IMAP4rev1 LOGINDISABLED IDLE")}),
            "LOGINDISABLED", "no usable authentication")
        conn = server.conns[0]
        self.assertTrue(conn.tls_active)
        # The capabilities were asked again over TLS, and nothing was sent
        # on the strength of the plaintext AUTH=PLAIN.
        self.assertEqual(conn.names(), ["STARTTLS", "CAPABILITY"])
        self.assertFalse(sends_credentials(bytes(conn.tls)), server.describe())

    def test_post_tls_capabilities_allow_login(self):
        server, daemon = self.expect_idle(
            Scenario(greeting=b"* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] hi\r\n",
                     replies={"CAPABILITY@tls": caps_reply(CAPS_TLS)}))
        daemon.stop()
        self.assert_logged_in_over_tls(server)
        self.assertEqual(server.conns[0].names()[:3], ["STARTTLS", "CAPABILITY", "AUTHENTICATE"])

    def test_starttls_not_pipelined(self):
        # S3/S8: nothing follows STARTTLS before the handshake.
        server, daemon = self.expect_idle(Scenario())
        daemon.stop()
        plain = bytes(server.conns[0].plain)
        self.assertTrue(plain.endswith(b"STARTTLS\r\n"), plain)
        self.assertEqual(plain.count(b"\n"), 2 if plain.startswith(b"A1 CAPABILITY") else 1)


class PreLoginDataTest(HostileTestCase):
    """S5: message and mailbox data before login is ignored."""

    JUNK = (b"* 5 EXISTS\r\n* 3 RECENT\r\n* 1 FETCH (UID 1 FLAGS ())\r\n"
            b"* LIST () \"/\" INBOX\r\n* STATUS INBOX (MESSAGES 9 UNSEEN 9)\r\n"
            b"* 2 EXPUNGE\r\n* FLAGS (\\Seen)\r\n* SEARCH 1 2 3\r\n")

    def test_untagged_data_before_login_is_ignored(self):
        body = b"Subject: fake\r\n\r\nInjected\r\n"
        fake_fetch = b"* 1 FETCH (UID 4 BODY[] {%d}\r\n%s)\r\n" % (len(body), body)
        server, daemon = self.expect_idle(Scenario(
            greeting=b"* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] hi\r\n" + self.JUNK,
            replies={
                "STARTTLS": self.JUNK + fake_fetch + b"{tag} OK Begin TLS\r\n",
                "CAPABILITY@tls": caps_reply(CAPS_TLS, self.JUNK + fake_fetch),
                "AUTHENTICATE": self.JUNK + b"{tag} OK Logged in\r\n",
            }))
        # Logged in over TLS, EXAMINE found an empty INBOX: no message
        # event, and the junk counted for nothing.
        daemon.assert_no_event(lambda e: e.get("event") in MESSAGE_EVENTS,
                               within=QUIET_WINDOW)
        unseen = daemon.find(is_event("unseen", account=ACCOUNT))
        self.assertTrue(all(e["count"] == 0 for e in unseen), unseen)
        daemon.stop()
        self.assert_logged_in_over_tls(server)


class ReferralTest(HostileTestCase):
    """S6: REFERRAL codes are never followed."""

    def setUp(self):
        self.trap = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.addCleanup(self.trap.close)
        self.trap.bind(("127.0.0.1", 0))
        self.trap.listen(4)
        self.trap.setblocking(False)
        self.url = f"imap://{USER}@127.0.0.1:{self.trap.getsockname()[1]}/".encode()

    def assert_trap_untouched(self):
        try:
            conn, _ = self.trap.accept()
        except BlockingIOError:
            return
        conn.close()
        self.fail("the daemon connected to the referred server")

    def test_referral_in_starttls_refusal(self):
        self.expect_error(
            Scenario(replies={"STARTTLS": b"{tag} NO [REFERRAL " + self.url + b"] go there\r\n"},
                     starttls=False),
            "refused STARTTLS")
        self.assert_trap_untouched()

    def test_referral_in_greeting(self):
        # A BYE greeting is a busy server: retried later, never redirected.
        self.expect_backoff(
            Scenario(greeting=b"* BYE [REFERRAL " + self.url + b"] moved\r\n"),
            "refused the connection", "moved")
        self.assert_trap_untouched()

    def test_referral_in_login_refusal(self):
        server = self.expect_error(
            Scenario(replies={"AUTHENTICATE": b"{tag} NO [REFERRAL " + self.url +
                                              b"] go there\r\n"}),
            "authentication failed", "go there")
        self.assert_logged_in_over_tls(server)
        self.assert_trap_untouched()


class AlertTest(HostileTestCase):
    """S7: [ALERT] before TLS is never shown; after TLS it is logged."""

    def test_alert_only_after_tls(self):
        server, daemon = self.expect_idle(Scenario(
            greeting=b"* OK [ALERT] PRE-TLS-ALERT call 555-EVIL now\r\n",
            replies={
                "CAPABILITY@plain": caps_reply(b"IMAP4rev1 STARTTLS LOGINDISABLED",
                                               b"* NO [ALERT] PRE-TLS-NO-ALERT\r\n"),
                "STARTTLS": b"* OK [ALERT] PRE-TLS-STARTTLS-ALERT\r\n{tag} OK Begin TLS\r\n",
                "CAPABILITY@tls": caps_reply(CAPS_TLS,
                                             b"* OK [ALERT] POST-TLS-ALERT maintenance\r\n"),
            }))
        # Read before stop(), which removes the daemon's directory.
        log = daemon.stderr_text()
        daemon.stop()
        self.assertNotIn("PRE-TLS", log)
        alerts = [line for line in log.splitlines() if "POST-TLS-ALERT" in line]
        self.assertEqual(len(alerts), 1, log)
        self.assertIn("warning", alerts[0])
        self.assertIn(ACCOUNT, alerts[0])
        self.assert_logged_in_over_tls(server)


    def test_repeated_alert_logged_once(self):
        # The same alert on every login (a server in maintenance, retried
        # after each failure) is logged once; the retries are no state
        # changes ("backoff -> backoff").
        server, daemon = self.run_scenario(Scenario(replies={
            "EXAMINE": b"* OK [ALERT] MAINTENANCE-ALERT until 18:00\r\n"
                       b"{tag} NO [SERVERBUG] Internal error occurred\r\n"}))
        deadline = time.monotonic() + 3 * CONNECT_TIMEOUT
        while len([c for c in server.conns if "EXAMINE" in c.names()]) < 3:
            self.assertLess(time.monotonic(), deadline, "fewer than 3 logins")
            time.sleep(0.05)  # polling the server's record, bounded
        log = daemon.stderr_text()
        daemon.stop()
        alerts = [line for line in log.splitlines() if "MAINTENANCE-ALERT" in line]
        self.assertEqual(len(alerts), 1, log)
        self.assertNotIn("backoff -> backoff", log)


class FailureClassTest(HostileTestCase):
    """A6/L5: what a refusal means decides the retry. A server that is busy
    ([UNAVAILABLE], [LIMIT]) is left alone for 15-30 s, not 0.5-1 s; one
    that hit a bug of its own ([SERVERBUG]) is retried like a dropped
    connection; a rejected password stops the account."""

    def retry_seconds(self, scenario):
        server, daemon = self.run_scenario(scenario)
        ev = daemon.wait_for(is_account_state(ACCOUNT, "backoff"), timeout=CONNECT_TIMEOUT)
        daemon.stop()
        self.assert_no_secret_in_clear(server, pre_tls_failure=False)
        return ev["detail"], int(re.search(r"retrying in (\d+) s", ev["detail"]).group(1))

    def test_busy_server_waits_longer(self):
        for code in (b"UNAVAILABLE", b"LIMIT"):
            detail, seconds = self.retry_seconds(Scenario(
                replies={"AUTHENTICATE": b"{tag} NO [" + code + b"] try later\r\n"}))
            self.assertIn("temporarily refused", detail)
            self.assertGreaterEqual(seconds, 15, detail)
            self.assertLessEqual(seconds, 30, detail)

    def test_server_bug_is_retried_soon(self):
        detail, seconds = self.retry_seconds(Scenario(
            replies={"EXAMINE": b"{tag} NO [SERVERBUG] Internal error occurred\r\n"}))
        self.assertIn("cannot open folder", detail)
        self.assertEqual(seconds, 1, detail)

    def test_rejected_password_stops(self):
        self.expect_error(Scenario(
            replies={"AUTHENTICATE": b"{tag} NO [AUTHENTICATIONFAILED] wrong\r\n"}),
            "authentication failed")


if __name__ == "__main__":
    unittest.main()
