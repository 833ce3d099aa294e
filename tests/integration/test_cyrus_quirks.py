# SPDX-License-Identifier: MIT
"""What Cyrus IMAP does differently from Dovecot, against a real Cyrus:

- a folder deleted and recreated by another client while the daemon has
  it selected: Cyrus says only `* VANISHED 1:<n>` during IDLE and then
  answers OK to DONE, IDLE and NOOP on the dead selection, telling nothing
  of the new folder. The daemon still ends with one "reset" and then
  reports new mail in the recreated folder.
- that VANISHED names every UID up to the last one, also those expunged
  before (1:5 for a folder holding 1, 2, 5): the UIDs it does not know are
  simply not there, no error and no new connection.
- (a folder deleted while selected, then made again a little later, is
  test_recovery's MissingHomeFolderTest, which runs against Cyrus too as
  integration-cyrus/recovery.)
- an empty folder deleted and made again: Cyrus says nothing at all; the
  daemon selects an empty home again at each IDLE refresh and finds it
  (one reset, then new mail), on the same connection.
- Cyrus's imapidletimeout closes an idling connection, without a BYE,
  sooner than the daemon's idle_refresh (at least a minute): once the
  daemon has seen that happen a few times (I9), it re-issues IDLE before
  the server's limit and the account stays idle on one connection.

In the first two, the other client acts while the daemon is stopped
(SIGSTOP), so that it finds the new folder complete when it reads the
VANISHED that Cyrus sent.
"""

import re
import signal
import time
import unittest

import imapwatch_harness as h
from fault_proxy import FaultProxy
from imapwatch_harness import is_account_state, is_event

CONNECT_TIMEOUT = 20.0
EVENT_TIMEOUT = 10.0
RECOVER_TIMEOUT = 20.0
# Cyrus's idle timeout for the last test: well below the shortest
# idle_refresh the daemon accepts (1 minute), and below the floor of the
# refresh it learns (I9: 1 minute), which IMAPWATCH_TEST_IDLE_FLOOR lowers
# for tests to IDLE_FLOOR seconds.
IDLE_TIMEOUT = 6
IDLE_FLOOR = 3
LEARN_CLOSES = 3  # IDLEs the server may end before the daemon knows (I9)
# One connection that lives through this is one the server no longer ends.
QUIET = 2 * IDLE_TIMEOUT + 2

# One Cyrus for the module's tests with its defaults (IDLE lasts 32
# minutes), one that ends IDLE after IDLE_TIMEOUT seconds.
cyrus = h.Cyrus()
short_idle = h.Cyrus(name="cyrus-short-idle", idle_timeout=IDLE_TIMEOUT)


def setUpModule():
    cyrus.start()
    short_idle.start()


def tearDownModule():
    short_idle.stop()
    cyrus.stop()


class QuirkTestCase(unittest.TestCase):
    maxDiff = None

    def start(self, server, user, folder, env=None, args=(), **keys):
        """The daemon on user's folder, through a proxy that counts its
        connections; ready when idle with the folder counted."""
        self.proxy = FaultProxy("127.0.0.1", server.imaps_port)
        self.proxy.start()
        self.addCleanup(self.proxy.stop)
        account = {"host": "localhost", "port": self.proxy.port, "username": user,
                   "password": server.users[user], "folders": folder,
                   "tls_ca_file": h.certs().ca}
        account.update(keys)
        d = h.Daemon({"acct": account}, env=env, args=args)
        d.start()
        self.addCleanup(d.kill)
        d.wait_for(is_account_state("acct", "idle"), timeout=CONNECT_TIMEOUT)
        d.wait_for(is_event("unseen", folder=folder), timeout=CONNECT_TIMEOUT)
        return d

    def deliver(self, server, user, folder, subject):
        return server.deliver(user, folder, h.make_message(subject=subject)[0])

    def recreate_while_stopped(self, d, user, folder, subjects):
        """Another client deletes folder and makes it again with one message
        per subject while the daemon is stopped; returns the new UIDs."""
        d.proc.send_signal(signal.SIGSTOP)
        self.addCleanup(d.proc.send_signal, signal.SIGCONT)
        try:
            cyrus.delete_folder(user, folder)
            cyrus.create_folder(user, folder)
            return [self.deliver(cyrus, user, folder, s) for s in subjects]
        finally:
            d.proc.send_signal(signal.SIGCONT)

    def assert_one_reset_then_news(self, d, user, folder, since, old_validity, count,
                                   server=cyrus):
        """One reset to the folder's new UIDVALIDITY (within timeout), with
        its count messages in it; then mail to it is news, and only that."""
        new_validity = server.status(user, folder)["uidvalidity"]
        self.assertNotEqual(new_validity, old_validity)
        reset = d.wait_for(is_event("reset", folder=folder), timeout=RECOVER_TIMEOUT,
                           since=since)
        self.assertEqual(reset, {"event": "reset", "account": "acct", "folder": folder,
                                 "uidvalidity": new_validity,
                                 "previous_uidvalidity": old_validity, "count": count,
                                 "unseen": count})
        fresh = self.deliver(server, user, folder, "fresh")
        ev = d.wait_for(is_event("new", folder=folder, uid=fresh), timeout=EVENT_TIMEOUT,
                        since=since)
        self.assertEqual(ev["uidvalidity"], new_validity)
        self.assertEqual(len(d.find(is_event("reset"), since=since)), 1, d.describe(since))
        # The refilled messages are in the reset's summary, not news.
        self.assertEqual([e["uid"] for e in d.find(is_event("new"), since=since)], [fresh],
                         d.describe(since))


class DeletedWhileSelectedTest(QuirkTestCase):
    def test_folder_recreated_while_selected_is_one_reset(self):
        user, folder = "user1", "Scratch"
        cyrus.create_folder(user, folder)
        for i in range(3):  # UIDs 1:3, all of which the VANISHED names
            self.deliver(cyrus, user, folder, f"old {i}")
        d = self.start(cyrus, user, folder)
        old_validity = cyrus.status(user, folder)["uidvalidity"]

        since = d.mark()
        self.recreate_while_stopped(d, user, folder, ["refilled 0", "refilled 1"])
        self.assert_one_reset_then_news(d, user, folder, since, old_validity, 2)
        d.stop()


class WideVanishedTest(QuirkTestCase):
    def test_vanished_naming_unknown_uids_is_no_error(self):
        user, folder = "user2", "Scratch"
        cyrus.create_folder(user, folder)
        uids = [self.deliver(cyrus, user, folder, f"old {i}") for i in range(5)]
        d = self.start(cyrus, user, folder)
        old_validity = cyrus.status(user, folder)["uidvalidity"]
        since = d.mark()
        for uid in uids[2:4]:
            cyrus.expunge(user, folder, uid)
            d.wait_for(is_event("removed", folder=folder, uid=uid), timeout=EVENT_TIMEOUT,
                       since=since)

        # Cyrus now says VANISHED 1:5 for a folder that held 1, 2 and 5.
        self.recreate_while_stopped(d, user, folder, ["refilled 0"])
        self.assert_one_reset_then_news(d, user, folder, since, old_validity, 1)
        self.assertEqual(d.find(lambda e: e["event"] == "state", since=since), [],
                         d.describe(since))
        self.assertEqual(self.proxy.connections_total, 1, self.proxy.describe())
        d.stop()


class IdleTimeoutTest(QuirkTestCase):
    def test_idle_outlives_the_servers_idle_timeout(self):
        user = "user3"
        d = self.start(short_idle, user, "INBOX", idle_refresh="1m",
                       env={"IMAPWATCH_TEST_IDLE_FLOOR": str(IDLE_FLOOR)})
        # Cyrus closes each idling connection after IDLE_TIMEOUT seconds,
        # without a BYE; from up to LEARN_CLOSES of them the daemon learns
        # to refresh IDLE sooner, and then one connection lives on.
        for closes in range(LEARN_CLOSES + 1):
            n = self.proxy.connections_total
            quiet_since = d.mark()
            try:
                self.proxy.wait_until(lambda p: p.connections_total > n, timeout=QUIET,
                                      what="a new connection")
            except AssertionError:
                break  # one connection outlived two of Cyrus's idle timeouts
            self.assertEqual(self.proxy.info(n - 1)["closed_by"], "upstream",
                             self.proxy.describe())
            # Back and caught up: mail that came meanwhile is news.
            since = d.mark()
            uid = self.deliver(short_idle, user, "INBOX", f"after close {closes + 1}")
            d.wait_for(is_event("new", uid=uid), timeout=RECOVER_TIMEOUT, since=since)
            if d.find(lambda e: e["event"] == "state", since=since):
                d.wait_for(is_account_state("acct", "idle"), timeout=RECOVER_TIMEOUT,
                           since=since)
        else:
            self.fail(f"Cyrus still ends IDLE after {LEARN_CLOSES} closes\n{d.describe()}")
        # The refreshes themselves are no state change (I9).
        self.assertEqual(d.find(lambda e: e["event"] == "state", since=quiet_since), [],
                         d.describe(quiet_since))
        self.assertEqual(self.proxy.connections_total, closes + 1, self.proxy.describe())
        started = time.monotonic()
        uid = self.deliver(short_idle, user, "INBOX", "still watched")
        d.wait_for(is_event("new", uid=uid), timeout=EVENT_TIMEOUT)
        self.assertLess(time.monotonic() - started, 2.0)
        d.stop()

class EmptyFolderRecreatedTest(QuirkTestCase):
    def test_empty_home_deleted_and_recreated_is_noticed_at_a_refresh(self):
        """An empty folder deleted by another client: no message vanishes,
        so Cyrus says nothing at all and goes on answering OK on the dead
        selection. Each IDLE refresh selects an empty home again (H8):
        the recreated folder is one reset, on the same connection, and its
        mail is news after it."""
        user, folder = "user5", "Empty"
        short_idle.create_folder(user, folder)
        d = self.start(short_idle, user, folder, idle_refresh="1m", args=["--trace-imap"],
                       env={"IMAPWATCH_TEST_IDLE_FLOOR": str(IDLE_FLOOR)})
        # Refreshes every few seconds once the daemon has learnt Cyrus's
        # idle timeout (I9); the connection after the lesson selects the
        # folder, and its first refresh selects it again.
        examine = re.compile(rb"C: \S+ EXAMINE")
        at = d.wait_log("the server ends IDLE after about",
                        timeout=(LEARN_CLOSES + 1) * (IDLE_TIMEOUT + RECOVER_TIMEOUT))
        at = d.wait_log(examine, timeout=RECOVER_TIMEOUT, since=at)
        d.wait_log(examine, timeout=RECOVER_TIMEOUT, since=at)
        old_validity = short_idle.status(user, folder)["uidvalidity"]
        connections = self.proxy.connections_total

        since = d.mark()
        short_idle.delete_folder(user, folder)
        short_idle.create_folder(user, folder)
        self.deliver(short_idle, user, folder, "back")
        self.assert_one_reset_then_news(d, user, folder, since, old_validity, 1,
                                        server=short_idle)
        # Found by a refresh, not by a new connection.
        self.assertEqual(self.proxy.connections_total, connections, self.proxy.describe())
        d.stop()


if __name__ == "__main__":
    unittest.main()
