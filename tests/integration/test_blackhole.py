# SPDX-License-Identifier: MIT
"""Black holes: packets silently dropped, no FIN, no RST. One daemon
watches two accounts, each through its own fault proxy, with
`idle_refresh = 1m` (the shortest allowed):

- "idle" is black-holed while it idles, and mail arrives that it cannot
  hear of: the IDLE refresh's DONE goes unanswered, and the dead connection
  is found within idle_refresh + 30 s;
- "done" is black-holed from the DONE it sends when new mail arrives: the
  DONE is never answered, and the connection is found dead within 30 s.

Both reconnect, report their mail exactly once, and the mailboxes hold only
what the test put there. The two run side by side to keep the wait short."""

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
MARGIN = 5.0

# One server for the module's tests, started before the first.
dovecot = h.Dovecot()
setUpModule = dovecot.start
tearDownModule = dovecot.stop


class BlackholeTest(unittest.TestCase):
    USERS = {"idle": "user1", "done": "user2"}

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
                "tls_ca_file": h.certs().ca, "idle_refresh": f"{IDLE_REFRESH}s",
            }
        self.daemon = h.Daemon(accounts)
        self.daemon.start()
        self.addCleanup(self.daemon.kill)
        for name in self.USERS:
            self.daemon.wait_for(is_account_state(name, "idle"), timeout=CONNECT_TIMEOUT)

    def deliver(self, name, subject):
        raw, _ = h.make_message(subject=subject)
        return dovecot.deliver(self.USERS[name], "INBOX", raw)

    def detected(self, name, since, start, limit):
        ev = self.daemon.wait_for(is_account_state(name, "backoff"), timeout=limit + MARGIN,
                                  since=since)
        return ev, time.monotonic() - start

    def test_dead_connections_are_found_in_time(self):
        since = self.daemon.mark()
        start = time.monotonic()
        self.proxies["idle"].blackhole(0)
        self.proxies["done"].blackhole_on_client_data(0)
        unheard = self.deliver("idle", "never announced by the dead connection")
        pending = self.deliver("done", "its DONE is lost")

        ev, done_after = self.detected("done", since, start, RESPONSE_TIMEOUT)
        self.assertIn(f"no response from the server within {RESPONSE_TIMEOUT} s", ev["detail"])
        ev, idle_after = self.detected("idle", since, start, IDLE_REFRESH + RESPONSE_TIMEOUT)
        self.assertIn(f"no response from the server within {RESPONSE_TIMEOUT} s", ev["detail"])
        print(f"black hole at DONE detected after {done_after:.1f} s, "
              f"during IDLE after {idle_after:.1f} s (idle_refresh {IDLE_REFRESH} s)")
        self.assertGreaterEqual(done_after, RESPONSE_TIMEOUT - 1)
        self.assertLess(done_after, RESPONSE_TIMEOUT + MARGIN)
        self.assertLess(idle_after, IDLE_REFRESH + RESPONSE_TIMEOUT + MARGIN)

        for name, uid in (("idle", unheard), ("done", pending)):
            self.daemon.wait_for(is_account_state(name, "idle"), timeout=CONNECT_TIMEOUT,
                                 since=since)
            self.daemon.wait_for(is_event("new", account=name, uid=uid),
                                 timeout=EVENT_TIMEOUT, since=since)
            after = self.deliver(name, "after the reconnect")
            self.daemon.wait_for(is_event("new", account=name, uid=after),
                                 timeout=EVENT_TIMEOUT, since=since)
            counts = collections.Counter(e["uid"] for e in self.daemon.events_so_far()
                                         if e["event"] == "new" and e["account"] == name)
            self.assertEqual(counts, {uid: 1, after: 1})
            self.assertEqual(self.proxies[name].connections_total, 2)
            state = dovecot.state(self.USERS[name], "INBOX")
            self.assertEqual(state, {uid: frozenset(), after: frozenset()})
        self.daemon.stop()


if __name__ == "__main__":
    unittest.main()
