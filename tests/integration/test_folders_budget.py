# SPDX-License-Identifier: MIT
"""Without NOTIFY: a connection budget. Against a real Dovecot with NOTIFY
taken out of its capabilities: max_connections IDLE connections (INBOX
first, then config order), the other folders polled every poll_interval;
and a server limit (mail_max_userip_connections) below the budget, which
lowers it with no error and no storm of logins. The server counts the
connections."""

import collections
import time
import re
import unittest

import imapwatch_harness as h
from imapwatch_harness import is_account_state, is_event

CONNECT_TIMEOUT = 20.0
EVENT_TIMEOUT = 10.0
POLL_INTERVAL = 30  # the least poll_interval allows
POLL_MARGIN = 8.0

FOLDERS = ["INBOX", "A", "B", "C", "D"]


class BudgetTestCase(unittest.TestCase):
    dovecot = None  # one server per test class

    @classmethod
    def setUpClass(cls):
        cls.dovecot.start()

    @classmethod
    def tearDownClass(cls):
        cls.dovecot.stop()

    def account(self, user, **extra):
        keys = {"host": "localhost", "port": self.dovecot.imaps_port, "username": user,
                "password": self.dovecot.users[user], "folders": ";".join(FOLDERS),
                "tls_ca_file": h.certs().ca, "poll_interval": f"{POLL_INTERVAL}s"}
        keys.update(extra)
        return keys

    def deliver_everywhere(self, d, user, since):
        """One message to every folder; all reported once, IDLE folders at
        once, polled ones within poll_interval; returns when."""
        sent = {}
        for folder in FOLDERS:
            raw, _ = h.make_message(subject=f"to {folder}")
            sent[folder] = self.dovecot.deliver(user, folder, raw)
        start = time.monotonic()
        for folder, uid in sent.items():
            d.wait_for(is_event("new", folder=folder, uid=uid),
                       timeout=POLL_INTERVAL + POLL_MARGIN, since=since)
        counts = collections.Counter((e["folder"], e["uid"]) for e in d.events_so_far()
                                     if e["event"] == "new")
        self.assertTrue(all(n == 1 for n in counts.values()), counts)
        return time.monotonic() - start


class BudgetTest(BudgetTestCase):
    dovecot = h.Dovecot(notify=False)

    def test_two_connections_at_most(self):
        user = "user1"
        for folder in FOLDERS[1:]:
            self.dovecot.create_folder(user, folder)
        d = h.Daemon({"acct": self.account(user, max_connections=2)})
        d.start()
        self.addCleanup(d.kill)
        d.wait_for(is_account_state("acct", "idle"), timeout=CONNECT_TIMEOUT)
        d.wait_for_all(lambda e: e["event"] == "unseen", len(FOLDERS), timeout=EVENT_TIMEOUT)
        self.assertEqual(self.dovecot.connections(user), 2)
        elapsed = self.deliver_everywhere(d, user, d.mark())
        print(f"five folders, two connections: all reported within {elapsed:.1f} s")
        self.assertLessEqual(self.dovecot.connections(user), 2)
        self.assertNotIn("error", [e.get("state") for e in d.events_so_far()])
        d.stop()


class LimitTest(BudgetTestCase):
    dovecot = h.Dovecot(notify=False, max_userip_connections=2, name="dovecot-limit")

    def test_server_limit_lowers_the_budget(self):
        user = "user2"
        for folder in FOLDERS[1:]:
            self.dovecot.create_folder(user, folder)
        d = h.Daemon({"acct": self.account(user, max_connections=4)})
        d.start()
        self.addCleanup(d.kill)
        d.wait_for(is_account_state("acct", "idle"), timeout=CONNECT_TIMEOUT)
        d.wait_log("the server refused another connection", timeout=CONNECT_TIMEOUT)
        # The budget becomes what the server let in: exactly its limit,
        # since the connections log in one after another (logins that
        # arrive together can each pass Dovecot's per-user+IP check).
        m = re.search(r"watching with (\d+) connections?", d.stderr_text())
        budget = int(m.group(1))
        self.assertEqual(budget, 2, d.stderr_text())
        d.wait_for_all(lambda e: e["event"] == "unseen", len(FOLDERS), timeout=EVENT_TIMEOUT)
        elapsed = self.deliver_everywhere(d, user, d.mark())
        print(f"server limit 2, max_connections 4: all reported within {elapsed:.1f} s")
        self.assertLessEqual(self.dovecot.connections(user), budget)
        states = [e.get("state") for e in d.events_so_far() if e["event"] == "state"]
        self.assertNotIn("error", states)
        self.assertNotIn("backoff", states)
        # Logins: the two that stay, and the one refused.
        logins = self.dovecot.log_text().count(f"Login: user=<{user}>")
        self.assertLessEqual(logins, 3, self.dovecot.log_text())
        d.stop()


if __name__ == "__main__":
    unittest.main()
