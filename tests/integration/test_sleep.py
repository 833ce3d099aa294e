# SPDX-License-Identifier: MIT
"""Suspend and resume: a fake logind on a private system bus sends
PrepareForSleep; after resume every connection is checked at once, a dead
one (black-holed by the fault proxy, as after a network change during
sleep) reconnects within seconds, a healthy one stays."""

import collections
import time
import unittest

import imapwatch_harness as h
from fault_proxy import FaultProxy
from imapwatch_harness import is_account_state, is_event
from system_bus import FakeLogind, PrivateSystemBus

CONNECT_TIMEOUT = 20.0
EVENT_TIMEOUT = 10.0
PROBE_DETECT = 10.0 + 5.0  # the probe's own timeout plus margin

# One server for the module's tests, started before the first.
dovecot = h.mail_server()  # Dovecot, or Cyrus (IMAPWATCH_TEST_SERVER)
setUpModule = dovecot.start
tearDownModule = dovecot.stop


class SleepTest(unittest.TestCase):
    USER = "user7"

    def setUp(self):
        self.bus = PrivateSystemBus()
        self.addCleanup(self.bus.close)
        self.logind = FakeLogind(self.bus.address)
        self.addCleanup(self.logind.close)
        self.proxy = FaultProxy("127.0.0.1", dovecot.imaps_port)
        self.proxy.start()
        self.addCleanup(self.proxy.stop)
        self.daemon = h.Daemon({"acct": {
            "host": "localhost", "port": self.proxy.port, "username": self.USER,
            "password": dovecot.users[self.USER], "folders": "INBOX",
            "tls_ca_file": h.certs().ca,
        }}, env={"DBUS_SYSTEM_BUS_ADDRESS": self.bus.address})
        self.daemon.start()
        self.addCleanup(self.daemon.kill)
        self.daemon.wait_for(is_account_state("acct", "idle"), timeout=CONNECT_TIMEOUT)

    def deliver(self, subject):
        raw, _ = h.make_message(subject=subject)
        return dovecot.deliver(self.USER, "INBOX", raw)

    def test_resume_keeps_a_healthy_connection(self):
        since = self.daemon.mark()
        self.logind.send("sleep")
        self.logind.send("resume")
        self.daemon.wait_log("system resumed", timeout=EVENT_TIMEOUT)
        uid = self.deliver("after resume")
        self.daemon.wait_for(is_event("new", uid=uid), timeout=EVENT_TIMEOUT, since=since)
        self.daemon.assert_no_event(is_account_state("acct", "backoff"), within=1.0,
                                    since=since)
        self.assertEqual(self.proxy.connections_total, 1)
        self.daemon.stop()

    def test_resume_replaces_a_dead_connection(self):
        since = self.daemon.mark()
        self.logind.send("sleep")
        self.proxy.blackhole(0)  # the old path is gone, silently
        during = self.deliver("while asleep")
        start = time.monotonic()
        self.logind.send("resume")
        self.daemon.wait_for(is_account_state("acct", "backoff"), timeout=PROBE_DETECT,
                             since=since)
        detected = time.monotonic() - start
        self.daemon.wait_for(is_account_state("acct", "idle"), timeout=CONNECT_TIMEOUT,
                             since=since)
        self.daemon.wait_for(is_event("new", uid=during), timeout=EVENT_TIMEOUT, since=since)
        after = self.deliver("after resume")
        self.daemon.wait_for(is_event("new", uid=after), timeout=EVENT_TIMEOUT, since=since)
        counts = collections.Counter(e["uid"] for e in self.daemon.events_so_far()
                                     if e["event"] == "new")
        self.assertEqual(counts[during], 1)
        self.assertEqual(counts[after], 1)
        self.assertLess(detected, PROBE_DETECT)
        print(f"dead connection detected {detected:.1f} s after resume")
        self.daemon.stop()


if __name__ == "__main__":
    unittest.main()
