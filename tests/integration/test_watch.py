# SPDX-License-Identifier: MIT
"""imapwatchd against a real Dovecot: the watch events of the README ("Events").

Other devices are simulated with doveadm. Every wait is synchronised on the
daemon's output (bounded by a timeout), never on a sleep.
"""

import collections
import re
import socket
import time
import unittest

import imapwatch_harness as h
from imapwatch_harness import is_account_state, is_event

# Generous bounds; a healthy run takes a fraction of each.
CONNECT_TIMEOUT = 20.0
EVENT_TIMEOUT = 10.0
RECONNECT_TIMEOUT = 45.0
QUIET_WINDOW = 1.0

UNICODE_FOLDER = "Ünïcødé/Sub"

# One server for the module's tests, started before the first.
dovecot = h.mail_server()  # Dovecot, or Cyrus (IMAPWATCH_TEST_SERVER)
setUpModule = dovecot.start
tearDownModule = dovecot.stop


def account(user, security="tls", folders=("INBOX",), server=None, **extra):
    """Config keys of one [account NAME] group for a Dovecot user."""
    server = server or dovecot
    keys = {
        "host": "localhost",
        "port": server.imaps_port if security == "tls" else server.imap_port,
        "security": security,
        "username": user,
        "password": server.users[user],
        "folders": list(folders),
        "tls_ca_file": h.certs().ca,
    }
    keys.update(extra)
    return keys


class DaemonTestCase(unittest.TestCase):
    maxDiff = None

    def start_daemon(self, accounts, **kwargs):
        d = h.Daemon(accounts, **kwargs)
        d.start()
        # After a failure nothing is left running; a passing test calls
        # d.stop() itself, which checks the SIGTERM contract.
        self.addCleanup(d.kill)
        return d

    def assert_new_event(self, ev, *, account, user, folder, uid, message_id,
                         from_name, from_addr, subject, sent):
        uidvalidity = dovecot.status(user, folder)["uidvalidity"]
        self.assertEqual(ev["account"], account)
        self.assertEqual(ev["folder"], folder)
        self.assertEqual(ev["uid"], uid)
        self.assertEqual(ev["uidvalidity"], uidvalidity)
        self.assertEqual(ev["message_id"], message_id)
        self.assertEqual(ev["from_name"], from_name)
        self.assertEqual(ev["from_addr"], from_addr)
        self.assertEqual(ev["subject"], subject)
        self.assertIs(ev["seen"], False)
        self.assertEqual(ev["flags"], [])
        self.assertIsInstance(ev["id"], str)
        if folder == "INBOX":
            self.assertEqual(ev["id"], f"{account}/INBOX/{uidvalidity}/{uid}")
        # Date header and INTERNALDATE are both "now" here.
        self.assertIsInstance(ev["date"], int)
        self.assertLess(abs(ev["date"] - sent), 300, ev)


def new_for(account, folder, uid):
    return is_event("new", account=account, folder=folder, uid=uid)


class WatchTest(DaemonTestCase):
    """Two accounts (implicit TLS and STARTTLS), two folders each."""

    TLS = "implicit"
    STARTTLS = "starttls"

    @classmethod
    def setUpClass(cls):
        dovecot.create_folder("user1", UNICODE_FOLDER)
        dovecot.create_folder("user2", "Lists")
        cls.users = {cls.TLS: "user1", cls.STARTTLS: "user2"}
        # What the mailboxes must hold at the end: {(user, folder): {uid: flags}}.
        cls.expected = collections.defaultdict(dict)
        cls.daemon = h.Daemon({
            cls.TLS: account("user1", "tls", ["INBOX", UNICODE_FOLDER]),
            cls.STARTTLS: account("user2", "starttls", ["INBOX", "Lists"]),
        })
        cls.daemon.start()
        try:
            for name in cls.users:
                cls.daemon.wait_for(is_account_state(name, "idle"),
                                    timeout=CONNECT_TIMEOUT)
        except BaseException:
            cls.daemon.kill()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()

    def deliver(self, account, folder, **msg):
        """Deliver one message and check its single "new" event."""
        user = self.users[account]
        msg.setdefault("subject", "Hello")
        decoded = {
            "from_name": msg.get("from_name", "Alice Example"),
            "from_addr": msg.get("from_addr", "alice@example.com"),
            "subject": msg["subject"],
        }
        sent = int(time.time())
        raw, mid = h.make_message(date=sent, **msg)
        since = self.daemon.mark()
        uid = dovecot.deliver(user, folder, raw)
        self.expected[(user, folder)][uid] = frozenset()
        ev = self.daemon.wait_for(new_for(account, folder, uid),
                                  timeout=EVENT_TIMEOUT, since=since)
        self.assert_new_event(ev, account=account, user=user, folder=folder,
                              uid=uid, message_id=mid, sent=sent, **decoded)
        self.assertEqual(len(self.daemon.find(new_for(account, folder, uid))), 1)
        return uid, ev

    def wait_unseen(self, account, folder, since):
        count = dovecot.status(self.users[account], folder)["unseen"]
        return self.daemon.wait_for(
            is_event("unseen", account=account, folder=folder, count=count),
            timeout=EVENT_TIMEOUT, since=since)

    def test_new_implicit_tls_inbox(self):
        since = self.daemon.mark()
        self.deliver(self.TLS, "INBOX", subject="Lunch?",
                     from_name="Alice Example", from_addr="alice@example.com")
        self.wait_unseen(self.TLS, "INBOX", since)

    def test_new_japanese_subject_in_non_ascii_folder(self):
        since = self.daemon.mark()
        self.deliver(self.TLS, UNICODE_FOLDER, subject="会議の件について",
                     subject_encoding="B", from_name="山田 太郎",
                     from_encoding="B", from_addr="taro@example.jp")
        self.wait_unseen(self.TLS, UNICODE_FOLDER, since)

    def test_new_german_subject_starttls_lists(self):
        since = self.daemon.mark()
        self.deliver(self.STARTTLS, "Lists", subject="Grüße aus München",
                     subject_encoding="Q", charset="iso-8859-1",
                     from_name="Jürgen Groß", from_encoding="Q",
                     from_addr="juergen@example.de")
        self.wait_unseen(self.STARTTLS, "Lists", since)

    def test_new_starttls_inbox(self):
        self.deliver(self.STARTTLS, "INBOX", subject="Build #42 passed",
                     from_name="CI Robot", from_addr="ci@example.org")

    def test_burst_of_twenty(self):
        user, folder = self.users[self.TLS], "INBOX"
        since = self.daemon.mark()
        uids = []
        for i in range(20):
            raw, _ = h.make_message(subject=f"burst {i}")
            uid = dovecot.deliver(user, folder, raw)
            self.expected[(user, folder)][uid] = frozenset()
            uids.append(uid)
        pred = is_event("new", account=self.TLS, folder=folder)
        events = self.daemon.wait_for_all(
            lambda e: pred(e) and e["uid"] in uids, 20,
            timeout=EVENT_TIMEOUT * 2, since=since, what="new for the burst")
        self.assertEqual(sorted(e["uid"] for e in events), uids)
        self.assertEqual(sorted(e["subject"] for e in events),
                         sorted(f"burst {i}" for i in range(20)))
        self.wait_unseen(self.TLS, folder, since)
        self.daemon.assert_no_event(lambda e: pred(e) and e["uid"] in uids,
                                    within=QUIET_WINDOW,
                                    since=self.daemon.mark(),
                                    what="a second new event for the burst")

    def test_seen_elsewhere_changes_and_unseen(self):
        user, folder = self.users[self.STARTTLS], "INBOX"
        uid, _ = self.deliver(self.STARTTLS, folder, subject="read me elsewhere")
        since = self.daemon.mark()
        dovecot.flags_add(user, folder, uid, "\\Seen")
        self.expected[(user, folder)][uid] = frozenset({"\\Seen"})
        ev = self.daemon.wait_for(
            is_event("changed", account=self.STARTTLS, folder=folder, uid=uid),
            timeout=EVENT_TIMEOUT, since=since)
        self.assertIs(ev["seen"], True)
        self.assertIn("\\Seen", ev["flags"])
        self.assertEqual(ev["uidvalidity"], dovecot.status(user, folder)["uidvalidity"])
        self.wait_unseen(self.STARTTLS, folder, since)

        since = self.daemon.mark()
        dovecot.flags_remove(user, folder, uid, "\\Seen")
        self.expected[(user, folder)][uid] = frozenset()
        ev = self.daemon.wait_for(
            is_event("changed", account=self.STARTTLS, folder=folder, uid=uid),
            timeout=EVENT_TIMEOUT, since=since)
        self.assertIs(ev["seen"], False)
        self.assertNotIn("\\Seen", ev["flags"])
        self.wait_unseen(self.STARTTLS, folder, since)
        self.assertFalse(self.daemon.find(is_event("new", uid=uid, folder=folder,
                                                   account=self.STARTTLS), since))

    def test_expunge_elsewhere_removes(self):
        user, folder = self.users[self.TLS], UNICODE_FOLDER
        uid, _ = self.deliver(self.TLS, folder, subject="to be deleted")
        since = self.daemon.mark()
        dovecot.expunge(user, folder, uid)
        del self.expected[(user, folder)][uid]
        ev = self.daemon.wait_for(
            is_event("removed", account=self.TLS, folder=folder, uid=uid),
            timeout=EVENT_TIMEOUT, since=since)
        self.assertEqual(ev["uidvalidity"], dovecot.status(user, folder)["uidvalidity"])
        self.wait_unseen(self.TLS, folder, since)

    def test_zz_no_duplicates_and_mailboxes_untouched(self):
        # Runs last (unittest sorts by name). Give late duplicates a chance.
        since = self.daemon.mark()
        self.daemon.assert_no_event(is_event("new"), within=QUIET_WINDOW,
                                    since=since, what="new with nothing delivered")
        counts = collections.Counter(
            (e["account"], e["folder"], e["uidvalidity"], e["uid"])
            for e in self.daemon.find(is_event("new")))
        dups = {k: n for k, n in counts.items() if n != 1}
        self.assertEqual(dups, {}, self.daemon.describe())
        ids = [e["id"] for e in self.daemon.find(is_event("new"))]
        self.assertEqual(len(ids), len(set(ids)))
        self.assertTrue(self.expected, "no test delivered anything")
        for (user, folder), want in self.expected.items():
            self.assertEqual(dovecot.state(user, folder), want, (user, folder))
        # Folders the tests never touched stay empty.
        for user, folder in (("user1", UNICODE_FOLDER), ("user2", "Lists")):
            if (user, folder) not in self.expected:
                self.assertEqual(dovecot.state(user, folder), {})


class ReconnectTest(DaemonTestCase):
    def test_kick_reconnects_and_reports_once(self):
        user, name = "user3", "kicked"
        d = self.start_daemon({name: account(user)})
        d.wait_for(is_account_state(name, "idle"), timeout=CONNECT_TIMEOUT)
        self.assertTrue(dovecot.who(user))

        since = d.mark()
        dovecot.kick(user)
        raw, mid = h.make_message(subject="while you were away")
        uid = dovecot.deliver(user, "INBOX", raw)
        d.wait_for(lambda e: (e.get("event") == "state" and e.get("account") == name
                              and e.get("state") != "idle"),
                   timeout=EVENT_TIMEOUT, since=since, what="leaving idle after kick")
        ev = d.wait_for(new_for(name, "INBOX", uid), timeout=RECONNECT_TIMEOUT,
                        since=since)
        self.assertEqual(ev["message_id"], mid)
        d.wait_for(is_account_state(name, "idle"), timeout=RECONNECT_TIMEOUT,
                   since=since)
        d.assert_no_event(lambda e: e.get("event") == "new" and e.get("uid") == uid,
                          within=QUIET_WINDOW, since=d.mark(),
                          what="a second new event")
        self.assertEqual(len(d.find(new_for(name, "INBOX", uid))), 1, d.describe())
        self.assertEqual(dovecot.state(user, "INBOX"), {uid: frozenset()})
        d.stop()


def is_error_state(account):
    def pred(ev):
        return (ev.get("event") == "state" and ev.get("account") == account
                and ev.get("state") == "error")
    pred.__name__ = pred.__qualname__ = f"state(account={account!r}, state='error')"
    return pred


class SecurityTest(DaemonTestCase):
    def test_untrusted_ca_is_an_error(self):
        name = "untrusted"
        d = self.start_daemon({name: account(
            "user4", "tls", tls_ca_file=h.certs().untrusted_ca)})
        ev = d.wait_for(is_error_state(name), timeout=CONNECT_TIMEOUT)
        self.assertRegex(ev.get("detail", ""), re.compile("certificate", re.I))
        self.assertFalse(d.find(is_event("state", account=name, state="idle")))
        d.stop()

    def test_wrong_host_name_is_an_error(self):
        c = h.certs()
        with h.mail_server(cert=c.wronghost_cert, key=c.wronghost_key,
                       name="wronghost") as other:
            name = "wronghost"
            d = self.start_daemon({name: account("user1", "tls", server=other)})
            ev = d.wait_for(is_error_state(name), timeout=CONNECT_TIMEOUT)
            detail = ev.get("detail", "")
            self.assertRegex(detail, re.compile(
                r"host ?name|localhost|wrong\.example", re.I))
            self.assertFalse(d.find(is_event("state", account=name, state="idle")))
            d.stop()

    def test_plaintext_without_allow_is_refused_before_connecting(self):
        # A listener of our own: the daemon must never connect to it.
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen(8)
            port = listener.getsockname()[1]
            name = "cleartext"
            d = self.start_daemon({name: {
                "host": "127.0.0.1", "port": port, "security": "none",
                "username": "user1", "password": dovecot.users["user1"],
            }})
            code = d.wait_exit(10)
            self.assertNotEqual(code, 0, d.describe())
            err = d.stderr_text()
            self.assertIn(d.config_path, err)
            self.assertIn(f"account {name}", err)
            self.assertRegex(err, r"security|allow_plaintext")
            listener.setblocking(False)
            with self.assertRaises(BlockingIOError, msg="imapwatchd connected"):
                listener.accept()
            self.assertFalse(d.find(lambda e: True))

    def test_plaintext_allowed_explicitly(self):
        name = "cleartext-ok"
        d = self.start_daemon({name: account("user6", "none",
                                             allow_plaintext=True)})
        d.wait_for(is_account_state(name, "idle"), timeout=CONNECT_TIMEOUT)
        raw, mid = h.make_message(subject="plain")
        uid = dovecot.deliver("user6", "INBOX", raw)
        ev = d.wait_for(new_for(name, "INBOX", uid), timeout=EVENT_TIMEOUT)
        self.assertEqual(ev["message_id"], mid)
        d.stop()

    def test_starttls_works_and_sigterm_exits_zero(self):
        name = "upgrade"
        d = self.start_daemon({name: account("user5", "starttls")})
        d.wait_for(is_account_state(name, "idle"), timeout=CONNECT_TIMEOUT)
        raw, mid = h.make_message(subject="over starttls")
        uid = dovecot.deliver("user5", "INBOX", raw)
        ev = d.wait_for(new_for(name, "INBOX", uid), timeout=EVENT_TIMEOUT)
        self.assertEqual(ev["subject"], "over starttls")
        started = time.monotonic()
        d.stop(timeout=2.0)  # SIGTERM: exit code 0 within 2 s
        self.assertLess(time.monotonic() - started, 2.0)
        self.assertEqual(dovecot.state("user5", "INBOX"), {uid: frozenset()})


if __name__ == "__main__":
    unittest.main()
