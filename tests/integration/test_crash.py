# SPDX-License-Identifier: MIT
"""Exactly once across a crash: imapwatchd killed (SIGKILL) within
milliseconds of announcing events never announces them again after a
restart, and misses nothing that happened while it was down — new mail,
flags changed, messages removed. Also the very first start: the baseline is
on disk before the account reports "idle", so mail that comes after a kill
right then is announced as catch-up, not swallowed by a second baseline."""

import shutil
import tempfile
import unittest
from collections import Counter

import imapwatch_harness as h
from imapwatch_harness import is_account_state, is_event

CONNECT_TIMEOUT = 20.0
EVENT_TIMEOUT = 10.0
QUIET_WINDOW = 1.5
ROUNDS = 20

dovecot = h.mail_server()  # Dovecot, or Cyrus (IMAPWATCH_TEST_SERVER)
setUpModule = dovecot.start
tearDownModule = dovecot.stop


class CrashTest(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        self.state_home = tempfile.mkdtemp(prefix="imapwatch-state-")
        self.addCleanup(shutil.rmtree, self.state_home, True)
        self.daemons = []

    def start(self, user):
        d = h.Daemon({"acct": {
            "host": "localhost", "port": dovecot.imaps_port, "username": user,
            "password": dovecot.users[user], "folders": "INBOX",
            "tls_ca_file": h.certs().ca,
        }}, env={"XDG_STATE_HOME": self.state_home})
        d.start()
        self.addCleanup(d.kill)
        self.daemons.append(d)
        return d

    def deliver(self, user, subject):
        raw, _ = h.make_message(subject=subject)
        return dovecot.deliver(user, "INBOX", raw)

    def all_events(self, kind):
        return [e for d in self.daemons for e in d.events_so_far() if e["event"] == kind]

    def test_kill_before_any_event_keeps_the_first_baseline(self):
        user = "user1"
        old = self.deliver(user, "there before the first start")
        d = self.start(user)
        d.wait_for(is_account_state("acct", "idle"), timeout=CONNECT_TIMEOUT)
        d.kill()  # no event announced, no durable save waited for

        away = self.deliver(user, "while the daemon was down")
        d2 = self.start(user)
        ev = d2.wait_for(is_event("new", uid=away), timeout=CONNECT_TIMEOUT)
        self.assertIs(ev.get("catchup"), True)
        d2.wait_for(is_account_state("acct", "idle"), timeout=CONNECT_TIMEOUT)
        d2.assert_no_event(is_event("new", uid=old), within=QUIET_WINDOW)
        d2.stop()

    def test_kill_right_after_events_repeats_and_misses_nothing(self):
        """ROUNDS times: live events (new, changed, removed), SIGKILL as
        soon as they are read, more of each while the daemon is down; the
        next start reports exactly what happened while down."""
        user = "user2"
        d = self.start(user)
        d.wait_for(is_account_state("acct", "idle"), timeout=CONNECT_TIMEOUT)
        delivered, removed, seen = [], [], []
        for n in range(ROUNDS):
            # Live: two new messages, one read elsewhere, one deleted.
            since = d.mark()
            fresh = [self.deliver(user, f"round {n} live {i}") for i in range(2)]
            delivered += fresh
            d.wait_for_all(lambda e: e["event"] == "new" and e["uid"] in fresh, 2,
                           timeout=EVENT_TIMEOUT, since=since)
            since = d.mark()
            dovecot.flags_add(user, "INBOX", fresh[0], "\\Seen")
            seen.append(fresh[0])
            d.wait_for(is_event("changed", uid=fresh[0], seen=True),
                       timeout=EVENT_TIMEOUT, since=since)
            since = d.mark()
            dovecot.expunge(user, "INBOX", fresh[1])
            removed.append(fresh[1])
            d.wait_for(is_event("removed", uid=fresh[1]), timeout=EVENT_TIMEOUT, since=since)
            d.kill()  # within milliseconds of the last event read

            # While down: one new, the previous round's away message read
            # and this round's read one deleted.
            away = self.deliver(user, f"round {n} away")
            delivered.append(away)
            read_away = delivered[-4] if n > 0 else None  # the last round's
            if read_away is not None:
                dovecot.flags_add(user, "INBOX", read_away, "\\Seen")
                seen.append(read_away)
            dovecot.expunge(user, "INBOX", fresh[0])
            removed.append(fresh[0])

            d = self.start(user)
            ev = d.wait_for(is_event("new", uid=away), timeout=CONNECT_TIMEOUT)
            self.assertIs(ev.get("catchup"), True, ev)
            d.wait_for(is_event("removed", uid=fresh[0]), timeout=EVENT_TIMEOUT)
            if read_away is not None:
                d.wait_for(is_event("changed", uid=read_away, seen=True),
                           timeout=EVENT_TIMEOUT)
            d.wait_for(is_account_state("acct", "idle"), timeout=CONNECT_TIMEOUT)
        d.assert_no_event(lambda e: e["event"] in ("new", "changed", "removed", "reset"),
                          within=QUIET_WINDOW, since=d.mark())
        d.stop()

        news = Counter(e["uid"] for e in self.all_events("new"))
        self.assertEqual(sorted(news), sorted(delivered), "a message missed or unknown")
        self.assertEqual([u for u, c in news.items() if c > 1], [], "announced twice")
        gone = Counter(e["uid"] for e in self.all_events("removed"))
        self.assertEqual(gone, Counter(removed))
        changes = Counter(e["uid"] for e in self.all_events("changed"))
        self.assertEqual(changes, Counter(seen))
        self.assertEqual(self.all_events("reset"), [])


if __name__ == "__main__":
    unittest.main()
