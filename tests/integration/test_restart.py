# SPDX-License-Identifier: MIT
"""Restarts: mail that arrived while imapwatchd was not running is reported
once (as catch-up), mail reported before is never reported again — after a
clean SIGTERM and after SIGKILL (once the state was saved); a folder
recreated meanwhile is one "reset", not a catch-up flood."""

import os
import re
import shutil
import tempfile
import time
import unittest

import imapwatch_harness as h
from imapwatch_harness import is_account_state, is_event

CONNECT_TIMEOUT = 20.0
EVENT_TIMEOUT = 10.0
QUIET_WINDOW = 1.5

# One server for the module's tests, started before the first, and one
# that offers CONDSTORE and ESEARCH but not QRESYNC (as Gmail does).
dovecot = h.mail_server()  # Dovecot, or Cyrus (IMAPWATCH_TEST_SERVER)
condstore_only = h.mail_server(name="condstore", capabilities=" ".join(
    c for c in h.Dovecot.CAPABILITIES_WITHOUT_NOTIFY.split() if c != "QRESYNC"))


def setUpModule():
    dovecot.start()
    condstore_only.start()


def tearDownModule():
    condstore_only.stop()
    dovecot.stop()


class RestartTest(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        self.state_home = tempfile.mkdtemp(prefix="imapwatch-state-")
        self.addCleanup(shutil.rmtree, self.state_home, True)

    def start(self, user, folder="INBOX", server=dovecot):
        d = h.Daemon({"acct": {
            "host": "localhost", "port": server.imaps_port, "username": user,
            "password": server.users[user], "folders": folder,
            "tls_ca_file": h.certs().ca,
        }}, env={"XDG_STATE_HOME": self.state_home})
        d.start()
        self.addCleanup(d.kill)
        d.wait_for(is_account_state("acct", "idle"), timeout=CONNECT_TIMEOUT)
        return d

    def deliver(self, user, subject, folder="INBOX", server=dovecot):
        raw, _ = h.make_message(subject=subject)
        return server.deliver(user, folder, raw)

    def state_text(self):
        path = os.path.join(self.state_home, "imapwatch", "acct.state")
        try:
            with open(path, encoding="utf-8") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def saved_value(self, key):
        text = self.state_text()
        m = re.search(rf"^{key} (\d+)$", text, re.M)
        return int(m.group(1)) if m else None

    def saved_watermark(self):
        return self.saved_value("watermark")

    def wait_saved(self, uid, timeout=10.0, uidvalidity=None):
        """Synchronise on the state file, not on time."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            w = self.saved_watermark()
            if w is not None and w >= uid and \
                    uidvalidity in (None, self.saved_value("uidvalidity")):
                return
            time.sleep(0.05)  # polling a file for a condition, bounded
        self.fail(f"state never recorded watermark {uid} and uidvalidity {uidvalidity} "
                  f"(now {self.saved_watermark()}, {self.saved_value('uidvalidity')})")

    def test_clean_restart_catches_up_once(self):
        user = "user3"
        d = self.start(user)
        a = self.deliver(user, "before")
        ev = d.wait_for(is_event("new", uid=a), timeout=EVENT_TIMEOUT)
        self.assertNotIn("catchup", ev)
        d.stop()
        self.assertEqual(self.saved_watermark(), a)

        # While nobody watches.
        b = self.deliver(user, "while away 1")
        c = self.deliver(user, "while away 2")

        d2 = self.start(user)
        for uid, subject in ((b, "while away 1"), (c, "while away 2")):
            ev = d2.wait_for(is_event("new", uid=uid), timeout=EVENT_TIMEOUT)
            self.assertEqual(ev["subject"], subject)
            self.assertIs(ev.get("catchup"), True)
        d2.assert_no_event(is_event("new", uid=a), within=QUIET_WINDOW)
        news = [e["uid"] for e in d2.events_so_far() if e["event"] == "new"]
        self.assertEqual(news, [b, c])

        # Live mail after the catch-up is plain news again.
        e = self.deliver(user, "live")
        ev = d2.wait_for(is_event("new", uid=e), timeout=EVENT_TIMEOUT)
        self.assertNotIn("catchup", ev)
        d2.stop()

    def flags_and_removals_while_stopped(self, server, user):
        d = self.start(user, server=server)
        a = self.deliver(user, "to be read elsewhere", server=server)
        b = self.deliver(user, "to be deleted elsewhere", server=server)
        d.wait_for_all(lambda e: e["event"] == "new" and e["uid"] in (a, b), 2,
                       timeout=EVENT_TIMEOUT)
        d.stop()
        self.assertGreater(self.saved_value("highestmodseq"), 0)
        # The folder's two messages, both unseen, saved as sets.
        self.assertRegex(self.state_text(), r"(?m)^sets 2 2\nuids 1:2\nunseen 1:2$")

        server.flags_add(user, "INBOX", a, "\\Seen")
        server.expunge(user, "INBOX", b)
        d2 = self.start(user, server=server)
        ev = d2.wait_for(is_event("changed", uid=a), timeout=EVENT_TIMEOUT)
        self.assertIs(ev["seen"], True)
        d2.wait_for(is_event("removed", uid=b), timeout=EVENT_TIMEOUT)
        d2.wait_for(is_event("unseen", count=0), timeout=EVENT_TIMEOUT)
        d2.assert_no_event(lambda e: e["event"] in ("new", "reset"), within=QUIET_WINDOW)
        d2.stop()

        d3 = self.start(user, server=server)  # told once: nothing to say now
        d3.assert_no_event(lambda e: e["event"] in ("new", "changed", "removed", "reset"),
                           within=QUIET_WINDOW)
        d3.stop()

    def test_flags_and_removals_while_stopped_are_reported(self):
        """The state file keeps the mod-sequence and the folder's UID sets:
        a restart asks for what changed since (QRESYNC) and reports it."""
        self.flags_and_removals_while_stopped(dovecot, "user7")

    def test_flags_and_removals_while_stopped_without_qresync(self):
        """Without QRESYNC the saved sets become the map a CHANGEDSINCE
        resync compares with: the same events."""
        self.flags_and_removals_while_stopped(condstore_only, "user7")

    def test_kill_9_does_not_repeat_saved_news(self):
        user = "user4"
        d = self.start(user)
        a = self.deliver(user, "reported")
        d.wait_for(is_event("new", uid=a), timeout=EVENT_TIMEOUT)
        self.wait_saved(a)
        d.kill()  # SIGKILL: no LOGOUT, no final flush

        b = self.deliver(user, "after the crash")
        d2 = self.start(user)
        ev = d2.wait_for(is_event("new", uid=b), timeout=EVENT_TIMEOUT)
        self.assertIs(ev.get("catchup"), True)
        d2.assert_no_event(is_event("new", uid=a), within=QUIET_WINDOW)
        d2.stop()

    def test_folder_recreated_while_stopped_is_one_reset(self):
        """The stored UIDVALIDITY is stale: the folder's messages are the new
        baseline, summed up once, and the state file takes the new
        UIDVALIDITY and watermark, so the next start says nothing."""
        user = "user6"
        dovecot.create_folder(user, "Scratch")
        d = self.start(user, "Scratch")
        a = self.deliver(user, "before", "Scratch")
        d.wait_for(is_event("new", uid=a), timeout=EVENT_TIMEOUT)
        d.stop()
        old = dovecot.status(user, "Scratch")["uidvalidity"]
        self.assertEqual((self.saved_value("uidvalidity"), self.saved_watermark()), (old, a))

        # While nobody watches, another client recreates the folder.
        dovecot.delete_folder(user, "Scratch")
        dovecot.create_folder(user, "Scratch")
        refilled = [self.deliver(user, f"refilled {i}", "Scratch") for i in range(3)]
        new = dovecot.status(user, "Scratch")["uidvalidity"]
        self.assertNotEqual(old, new)

        d2 = self.start(user, "Scratch")
        ev = d2.wait_for(is_event("reset"), timeout=EVENT_TIMEOUT)
        self.assertEqual(ev, {"event": "reset", "account": "acct", "folder": "Scratch",
                              "uidvalidity": new, "previous_uidvalidity": old, "count": 3,
                              "unseen": 3})
        d2.wait_for(is_event("unseen", folder="Scratch", count=3), timeout=EVENT_TIMEOUT)
        d2.assert_no_event(is_event("new"), within=QUIET_WINDOW)
        self.assertEqual(len(d2.find(is_event("reset"))), 1)
        self.wait_saved(max(refilled), uidvalidity=new)
        d2.stop()

        d3 = self.start(user, "Scratch")
        d3.assert_no_event(lambda e: e["event"] in ("reset", "new"), within=QUIET_WINDOW)
        live = self.deliver(user, "live", "Scratch")
        ev = d3.wait_for(is_event("new", uid=live), timeout=EVENT_TIMEOUT)
        self.assertEqual(ev["uidvalidity"], new)
        self.assertNotIn("catchup", ev)
        d3.stop()

    def test_corrupt_state_is_set_aside(self):
        user = "user5"
        os.makedirs(os.path.join(self.state_home, "imapwatch"), mode=0o700)
        path = os.path.join(self.state_home, "imapwatch", "acct.state")
        with open(path, "w", encoding="utf-8") as f:
            f.write("imapwatch-state 1\ngarbage\n")
        d = self.start(user)
        self.assertIn("acct.state", d.stderr_text())
        aside = [n for n in os.listdir(os.path.dirname(path)) if ".corrupt-" in n]
        self.assertEqual(len(aside), 1, aside)
        # Rebuilt: the baseline is taken again and new mail still works.
        a = self.deliver(user, "after corruption")
        d.wait_for(is_event("new", uid=a), timeout=EVENT_TIMEOUT)
        d.stop()
        self.assertEqual(self.saved_watermark(), a)


if __name__ == "__main__":
    unittest.main()
