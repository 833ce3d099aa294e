# SPDX-License-Identifier: MIT
"""imapwatchd through a fault-injecting proxy: connections closed, reset,
fed garbage, or refused while mail arrives. After each fault the daemon
reconnects and every message delivered is reported exactly once; the
mailbox holds only what the test put there."""

import collections
import re
import unittest

import imapwatch_harness as h
from fault_proxy import FaultProxy
from imapwatch_harness import is_account_state, is_event

CONNECT_TIMEOUT = 20.0
EVENT_TIMEOUT = 10.0
# Backoff starts at 1 s and doubles; a few retries fit comfortably.
RECOVER_TIMEOUT = 30.0

# One server for the module's tests, started before the first.
dovecot = h.mail_server()  # Dovecot, or Cyrus (IMAPWATCH_TEST_SERVER)
setUpModule = dovecot.start
tearDownModule = dovecot.stop


class FaultTest(unittest.TestCase):
    maxDiff = None
    USER = "user6"

    def setUp(self):
        self.proxy = FaultProxy("127.0.0.1", dovecot.imaps_port)
        self.proxy.start()
        self.addCleanup(self.proxy.stop)
        self.daemon = h.Daemon({"acct": {
            "host": "localhost", "port": self.proxy.port, "username": self.USER,
            "password": dovecot.users[self.USER], "folders": "INBOX",
            "tls_ca_file": h.certs().ca,
        }})
        self.daemon.start()
        self.addCleanup(self.daemon.kill)
        self.daemon.wait_for(is_account_state("acct", "idle"), timeout=CONNECT_TIMEOUT)
        self.delivered = []

    def deliver(self, subject):
        raw, _ = h.make_message(subject=subject)
        uid = dovecot.deliver(self.USER, "INBOX", raw)
        self.delivered.append(uid)
        return uid

    def wait_idle_again(self, since):
        self.daemon.wait_for(is_account_state("acct", "backoff"), timeout=EVENT_TIMEOUT,
                             since=since)
        self.daemon.wait_for(is_account_state("acct", "idle"), timeout=RECOVER_TIMEOUT,
                             since=since)

    def assert_exactly_once(self):
        for uid in self.delivered:
            self.daemon.wait_for(is_event("new", uid=uid), timeout=EVENT_TIMEOUT)
        counts = collections.Counter(e["uid"] for e in self.daemon.events_so_far()
                                     if e["event"] == "new")
        self.assertEqual(sorted(counts), sorted(self.delivered))
        self.assertTrue(all(n == 1 for n in counts.values()), counts)
        # The daemon changed nothing: no flag appeared.
        state = dovecot.state(self.USER, "INBOX")
        for uid in self.delivered:
            self.assertEqual(state[uid], frozenset(), state)

    def fault_then_mail(self, fault):
        self.deliver("before")
        self.daemon.wait_for(is_event("new", uid=self.delivered[-1]), timeout=EVENT_TIMEOUT)
        since = self.daemon.mark()
        self.proxy.refuse(True, mode="down")
        fault()
        self.deliver("during the outage 1")
        self.deliver("during the outage 2")
        self.proxy.refuse(False)
        self.wait_idle_again(since)
        self.deliver("after")
        self.assert_exactly_once()
        self.daemon.stop()

    def test_close_during_idle(self):
        self.fault_then_mail(self.proxy.close)

    def test_reset_during_idle(self):
        self.fault_then_mail(self.proxy.reset)

    def test_garbage_breaks_tls(self):
        self.fault_then_mail(lambda: self.proxy.inject_to_client(b"\x15\x03\x03\x00\x02garbage\r\n"))

    def test_server_restart(self):
        """Dovecot kicks the session (as on a restart) while the port is down."""
        def restart():
            dovecot.kick(self.USER)
        self.fault_then_mail(restart)

    def test_changes_while_away_are_reported(self):
        """L6/N8: flags set and messages expunged during an outage become
        changed / removed events after the resync, exactly once."""
        keep = self.deliver("will be read elsewhere")
        gone = self.deliver("will be deleted elsewhere")
        for uid in (keep, gone):
            self.daemon.wait_for(is_event("new", uid=uid), timeout=EVENT_TIMEOUT)
        since = self.daemon.mark()
        self.proxy.refuse(True, mode="down")
        self.proxy.reset()
        dovecot.flags_add(self.USER, "INBOX", keep, "\\Seen")
        dovecot.expunge(self.USER, "INBOX", gone)
        self.proxy.refuse(False)
        self.wait_idle_again(since)
        ev = self.daemon.wait_for(is_event("changed", uid=keep), timeout=EVENT_TIMEOUT,
                                  since=since)
        self.assertIs(ev["seen"], True)
        self.daemon.wait_for(is_event("removed", uid=gone), timeout=EVENT_TIMEOUT, since=since)
        self.daemon.assert_no_event(is_event("new"), within=1.0, since=since)
        changed = self.daemon.find(is_event("changed", uid=keep), since=since)
        removed = self.daemon.find(is_event("removed", uid=gone), since=since)
        self.assertEqual((len(changed), len(removed)), (1, 1))
        self.assertEqual(dovecot.state(self.USER, "INBOX")[keep], frozenset({"\\Seen"}))
        self.daemon.stop()

    def test_drops_right_after_idle_are_not_hammered(self):
        """A server that drops every session as soon as it idles: each
        connection reaches idle, so only a connection that stayed up for a
        while (BACKOFF_STABLE_MS) may start the backoff afresh; these keep
        doubling it (1 s, 2 s, 4 s, 8 s nominal; the delay lies in [d/2, d])."""
        delays = []
        for conn in range(4):
            since = self.daemon.mark()
            self.proxy.close(conn)
            ev = self.daemon.wait_for(is_account_state("acct", "backoff"),
                                      timeout=EVENT_TIMEOUT, since=since)
            delays.append(int(re.search(r"retrying in (\d+) s", ev["detail"]).group(1)))
            self.daemon.wait_for(is_account_state("acct", "idle"), timeout=RECOVER_TIMEOUT,
                                 since=since)
        self.assertEqual(delays[0], 1, delays)
        self.assertGreaterEqual(delays[2], 2, delays)
        self.assertGreaterEqual(delays[3], 4, delays)
        self.assertEqual(self.proxy.connections_total, 5)
        uid = self.deliver("still watching")
        self.daemon.wait_for(is_event("new", uid=uid), timeout=EVENT_TIMEOUT)
        self.daemon.stop()

    def test_backoff_detail_names_the_failure(self):
        since = self.daemon.mark()
        self.proxy.refuse(True, mode="down")
        self.proxy.reset()
        ev = self.daemon.wait_for(is_account_state("acct", "backoff"), timeout=EVENT_TIMEOUT,
                                  since=since)
        self.assertRegex(ev["detail"], r"retrying in \d+ s")
        self.proxy.refuse(False)
        self.daemon.wait_for(is_account_state("acct", "idle"), timeout=RECOVER_TIMEOUT,
                             since=since)
        self.daemon.stop()


if __name__ == "__main__":
    unittest.main()
