# SPDX-License-Identifier: MIT
"""Black holes: packets silently dropped, no FIN, no RST. One daemon
watches three accounts, each through its own fault proxy, on a Dovecot that
sends "* OK Still here" every 31 s while idling:

- "idle" (`idle_refresh = 1m`, the shortest allowed) is black-holed while it
  idles, and mail arrives that it cannot hear of: the IDLE refresh's DONE
  goes unanswered, and the dead connection is found within idle_refresh +
  30 s;
- "done" (`idle_refresh = 1m`) is black-holed from the DONE it sends when
  new mail arrives: the DONE is never answered, and the connection is found
  dead within 30 s;
- "keepalive" (`idle_refresh` at its default, 9 min) is black-holed after it
  has heard two keepalives: a silence of 2.5 keepalive gaps (77 s) makes it
  probe, so it is found within 77 + 30 s, long before the refresh.

All reconnect, report their mail exactly once, and the mailboxes hold only
what the test put there. The three run side by side to keep the wait
short."""

import collections
import time
import unittest

import imapwatch_harness as h
from fault_proxy import FaultProxy
from imapwatch_harness import is_account_state, is_event

CONNECT_TIMEOUT = 20.0
EVENT_TIMEOUT = 10.0
IDLE_REFRESH = 60
RESPONSE_TIMEOUT = 30
KEEPALIVE = 31  # Dovecot's imap_idle_notify_interval here
LIVENESS = KEEPALIVE * 5 // 2  # silence allowed after keepalives were seen
MARGIN = 5.0

# One server for the module's tests, started before the first. Dovecot only:
# Cyrus sends no keepalives during IDLE.
dovecot = h.Dovecot(idle_notify_interval=KEEPALIVE)
setUpModule = dovecot.start
tearDownModule = dovecot.stop


class BlackholeTest(unittest.TestCase):
    USERS = {"idle": "user1", "done": "user2", "keepalive": "user3"}

    def setUp(self):
        self.proxies = {}
        accounts = {}
        for name, user in self.USERS.items():
            proxy = FaultProxy("127.0.0.1", dovecot.imaps_port)
            proxy.start()
            self.addCleanup(proxy.stop)
            self.proxies[name] = proxy
            accounts[name] = {
                "host": "localhost", "port": proxy.port, "username": user,
                "password": dovecot.users[user], "folders": "INBOX",
                "tls_ca_file": h.certs().ca,
            }
            if name != "keepalive":
                accounts[name]["idle_refresh"] = f"{IDLE_REFRESH}s"
        self.daemon = h.Daemon(accounts)
        self.daemon.start()
        self.addCleanup(self.daemon.kill)
        for name in self.USERS:
            self.daemon.wait_for(is_account_state(name, "idle"), timeout=CONNECT_TIMEOUT)

    def deliver(self, name, subject):
        raw, _ = h.make_message(subject=subject)
        return dovecot.deliver(self.USERS[name], "INBOX", raw)

    def detected(self, name, since, since_time, limit):
        """Seconds from since_time until the account went to backoff,
        which must happen within limit (plus a margin)."""
        left = since_time + limit + MARGIN - time.monotonic()
        ev = self.daemon.wait_for(is_account_state(name, "backoff"), timeout=max(left, 0.1),
                                  since=since)
        self.assertIn(f"no response from the server within {RESPONSE_TIMEOUT} s", ev["detail"])
        return self.daemon.read_at(ev) - since_time

    def wait_keepalives(self, name, n):
        """Until n more keepalives reached the client (TLS records)."""
        proxy = self.proxies[name]
        for _ in range(n):
            proxy.wait_for_bytes_down(0, proxy.bytes_down(0) + 1, timeout=KEEPALIVE + MARGIN)

    def assert_recovered(self, name, uid, since):
        self.daemon.wait_for(is_account_state(name, "idle"), timeout=CONNECT_TIMEOUT,
                             since=since)
        self.daemon.wait_for(is_event("new", account=name, uid=uid), timeout=EVENT_TIMEOUT,
                             since=since)
        after = self.deliver(name, "after the reconnect")
        self.daemon.wait_for(is_event("new", account=name, uid=after), timeout=EVENT_TIMEOUT,
                             since=since)
        counts = collections.Counter(e["uid"] for e in self.daemon.events_so_far()
                                     if e["event"] == "new" and e["account"] == name)
        self.assertEqual(counts, {uid: 1, after: 1})
        self.assertEqual(self.proxies[name].connections_total, 2)
        state = dovecot.state(self.USERS[name], "INBOX")
        self.assertEqual(state, {uid: frozenset(), after: frozenset()})

    def test_dead_connections_are_found_in_time(self):
        since = self.daemon.mark()
        start = time.monotonic()
        self.proxies["idle"].blackhole(0)
        self.proxies["done"].blackhole_on_client_data(0)
        mail = {"idle": self.deliver("idle", "never announced by the dead connection"),
                "done": self.deliver("done", "its DONE is lost")}
        # The keepalive gap is learnt from two keepalives in a row.
        self.wait_keepalives("keepalive", 2)
        silent_from = time.monotonic()
        self.proxies["keepalive"].blackhole(0)
        mail["keepalive"] = self.deliver("keepalive", "after the last keepalive")

        done_after = self.detected("done", since, start, RESPONSE_TIMEOUT)
        idle_after = self.detected("idle", since, start, IDLE_REFRESH + RESPONSE_TIMEOUT)
        keepalive_after = self.detected("keepalive", since, silent_from,
                                        LIVENESS + RESPONSE_TIMEOUT)
        print(f"black hole at DONE detected after {done_after:.1f} s; during IDLE after "
              f"{idle_after:.1f} s (idle_refresh {IDLE_REFRESH} s); with keepalives every "
              f"{KEEPALIVE} s after {keepalive_after:.1f} s (idle_refresh 9 min)")
        self.assertGreaterEqual(done_after, RESPONSE_TIMEOUT - 1)
        # The keepalive rule, not the 9-minute refresh, found it.
        self.assertGreaterEqual(keepalive_after, LIVENESS - KEEPALIVE)

        for name, uid in mail.items():
            self.assert_recovered(name, uid, since)
        self.daemon.stop()

if __name__ == "__main__":
    unittest.main()
