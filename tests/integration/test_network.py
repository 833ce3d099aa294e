# SPDX-License-Identifier: MIT
"""Network changes: a fake NetworkManager on a private system bus drives
GIO's network monitor in the daemon. While there is no network nothing
retries in a loop and a working connection is kept; when the network comes
back (or changes) every connection is checked at once, a dead one is
replaced within seconds, a healthy one stays, and an account stopped in
error tries again. Nothing is missed or reported twice."""

import collections
import unittest

import imapwatch_harness as h
from fault_proxy import FaultProxy
from imapwatch_harness import is_account_state, is_event
from system_bus import (NM_CONNECTED_GLOBAL, NM_CONNECTING, NM_DISCONNECTED,
                        FakeNetworkManager, PrivateSystemBus)

CONNECT_TIMEOUT = 20.0
EVENT_TIMEOUT = 10.0
# The daemon lets a burst of network changes settle for 0.5 s, then acts.
# Without the network's return it would wait its offline backoff (5 min).
RETURN_TIMEOUT = 10.0
PROBE_DETECT = 10.0 + 5.0  # the probe's own timeout plus margin
QUIET = 3.0  # how long "nothing happens" is watched

# One server for the module's tests, started before the first.
dovecot = h.mail_server()  # Dovecot, or Cyrus (IMAPWATCH_TEST_SERVER)
setUpModule = dovecot.start
tearDownModule = dovecot.stop


class NetworkTest(unittest.TestCase):
    USER = "user5"

    def setUp(self):
        self.bus = PrivateSystemBus()
        self.addCleanup(self.bus.close)
        self.nm = FakeNetworkManager(self.bus.address)
        self.addCleanup(self.nm.close)
        self.proxy = FaultProxy("127.0.0.1", dovecot.imaps_port)
        self.proxy.start()
        self.addCleanup(self.proxy.stop)

    def start(self, password=None):
        self.daemon = h.Daemon({"acct": {
            "host": "localhost", "port": self.proxy.port, "username": self.USER,
            "password": password or dovecot.users[self.USER], "folders": "INBOX",
            "tls_ca_file": h.certs().ca,
        }}, env={"DBUS_SYSTEM_BUS_ADDRESS": self.bus.address})
        self.daemon.start()
        self.addCleanup(self.daemon.kill)

    def deliver(self, subject):
        raw, _ = h.make_message(subject=subject)
        return dovecot.deliver(self.USER, "INBOX", raw)

    def set_network(self, *states, logged):
        """Sends the NetworkManager states in a row, waits until the daemon
        says it acted on them."""
        log = self.daemon.log_mark()
        for state in states:
            self.nm.set_state(state)
        self.daemon.wait_log(logged, timeout=EVENT_TIMEOUT, since=log)

    def assert_once(self, *uids):
        counts = collections.Counter(e["uid"] for e in self.daemon.events_so_far()
                                     if e["event"] == "new")
        self.assertEqual({u: counts[u] for u in uids}, {u: 1 for u in uids})

    def test_offline_keeps_quiet_then_returns_at_once(self):
        self.start()
        self.daemon.wait_for(is_account_state("acct", "idle"), timeout=CONNECT_TIMEOUT)
        self.set_network(NM_DISCONNECTED, logged="network unavailable")

        # No network by the monitor's word, but this connection still
        # works: it is kept, and mail still arrives over it.
        since = self.daemon.mark()
        kept = self.deliver("offline but connected")
        self.daemon.wait_for(is_event("new", uid=kept), timeout=EVENT_TIMEOUT, since=since)

        # The connection dies while offline: one failure, then no retries.
        self.proxy.reset(0)
        ev = self.daemon.wait_for(is_account_state("acct", "backoff"), timeout=EVENT_TIMEOUT,
                                  since=since)
        self.assertIn("when the network returns", ev["detail"])
        during = self.deliver("while offline")
        quiet = self.daemon.mark()
        self.daemon.assert_no_event(is_account_state("acct", "connecting"), within=QUIET,
                                    since=quiet)
        self.assertEqual(self.proxy.connections_total, 1)

        # The network returns: reconnect now, not after the backoff.
        self.set_network(NM_CONNECTED_GLOBAL, logged="network changed")
        self.daemon.wait_for(is_account_state("acct", "idle"), timeout=RETURN_TIMEOUT,
                             since=quiet)
        self.daemon.wait_for(is_event("new", uid=during), timeout=EVENT_TIMEOUT, since=quiet)
        after = self.deliver("network back")
        self.daemon.wait_for(is_event("new", uid=after), timeout=EVENT_TIMEOUT, since=quiet)
        self.assert_once(kept, during, after)
        self.assertEqual(self.proxy.connections_total, 2)
        self.daemon.stop()

    def test_network_change_replaces_a_dead_connection(self):
        self.start()
        self.daemon.wait_for(is_account_state("acct", "idle"), timeout=CONNECT_TIMEOUT)
        since = self.daemon.mark()
        self.proxy.blackhole(0)  # the old route is gone, silently
        during = self.deliver("during the switch")
        # Roaming: NetworkManager goes connecting, then connected again.
        self.set_network(NM_CONNECTING, NM_CONNECTED_GLOBAL, logged="network changed")
        self.daemon.wait_for(is_account_state("acct", "backoff"), timeout=PROBE_DETECT,
                             since=since)
        self.daemon.wait_for(is_account_state("acct", "idle"), timeout=CONNECT_TIMEOUT,
                             since=since)
        self.daemon.wait_for(is_event("new", uid=during), timeout=EVENT_TIMEOUT, since=since)
        after = self.deliver("after the switch")
        self.daemon.wait_for(is_event("new", uid=after), timeout=EVENT_TIMEOUT, since=since)
        self.assert_once(during, after)
        self.assertEqual(self.proxy.connections_total, 2)
        self.daemon.stop()

    def test_network_change_checks_a_healthy_connection_and_keeps_it(self):
        self.start()
        self.daemon.wait_for(is_account_state("acct", "idle"), timeout=CONNECT_TIMEOUT)
        since = self.daemon.mark()
        sent = self.proxy.bytes_up(0)
        self.set_network(NM_CONNECTING, NM_CONNECTED_GLOBAL, logged="network changed")
        # The check is a round trip on the connection (DONE, then IDLE).
        self.proxy.wait_for_bytes_up(0, sent + 1, timeout=EVENT_TIMEOUT)
        uid = self.deliver("after the check")
        self.daemon.wait_for(is_event("new", uid=uid), timeout=EVENT_TIMEOUT, since=since)
        self.daemon.assert_no_event(is_account_state("acct", "backoff"), within=1.0,
                                    since=since)
        self.assertEqual(self.proxy.connections_total, 1)
        self.assert_once(uid)
        self.daemon.stop()

    def test_error_waits_for_the_user_or_a_network_change(self):
        self.start(password="not-the-password")
        self.daemon.wait_for(is_account_state("acct", "error"), timeout=CONNECT_TIMEOUT)
        quiet = self.daemon.mark()
        self.daemon.assert_no_event(is_account_state("acct", "connecting"), within=QUIET,
                                    since=quiet)
        self.assertEqual(self.proxy.connections_total, 1)
        # Going offline is no reason to try; coming back is.
        self.set_network(NM_DISCONNECTED, logged="network unavailable")
        self.assertEqual(self.proxy.connections_total, 1)
        self.set_network(NM_CONNECTED_GLOBAL, logged="network changed")
        self.daemon.wait_for(is_account_state("acct", "connecting"), timeout=RETURN_TIMEOUT,
                             since=quiet)
        self.daemon.wait_for(is_account_state("acct", "error"), timeout=CONNECT_TIMEOUT,
                             since=quiet)
        self.assertEqual(self.proxy.connections_total, 2)
        self.daemon.stop()


if __name__ == "__main__":
    unittest.main()
