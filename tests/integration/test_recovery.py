# SPDX-License-Identifier: MIT
"""Recovery without restarts: a folder deleted and recreated (UIDVALIDITY
changes) is re-baselined with one "reset" event, not a flood; a folder
with a connection of its own (no NOTIFY) that was missing for a while is
found again by the next listing; an account
whose password was rejected stays in error without retrying, and recovers
after the config is fixed and SIGHUP reloads it; other accounts are not
disturbed by the reload."""

import os
import signal
import unittest

import imapwatch_harness as h
from fault_proxy import FaultProxy
from imapwatch_harness import is_account_state, is_event

CONNECT_TIMEOUT = 20.0
EVENT_TIMEOUT = 10.0
RECOVER_TIMEOUT = 30.0
# A listing every POLL_INTERVAL seconds looks for a missing folder again.
POLL_INTERVAL = 30
RELIST_TIMEOUT = POLL_INTERVAL + 15

# One server for the module's tests, started before the first.
dovecot = h.mail_server()  # Dovecot, or Cyrus (IMAPWATCH_TEST_SERVER)
setUpModule = dovecot.start
tearDownModule = dovecot.stop


def account(user, password=None, folders="INBOX"):
    return {"host": "localhost", "port": dovecot.imaps_port, "username": user,
            "password": password or dovecot.users[user], "folders": folders,
            "tls_ca_file": h.certs().ca}


class RecoveryTest(unittest.TestCase):
    maxDiff = None

    def start(self, accounts):
        d = h.Daemon(accounts)
        d.start()
        self.addCleanup(d.kill)
        return d

    def test_uidvalidity_change_rebaselines_quietly(self):
        user = "user8"
        dovecot.create_folder(user, "Scratch")
        proxy = FaultProxy("127.0.0.1", dovecot.imaps_port)
        proxy.start()
        self.addCleanup(proxy.stop)
        d = self.start({"acct": dict(account(user, folders="Scratch"), port=proxy.port)})
        d.wait_for(is_account_state("acct", "idle"), timeout=CONNECT_TIMEOUT)
        old_validity = dovecot.status(user, "Scratch")["uidvalidity"]
        first = dovecot.deliver(user, "Scratch", h.make_message(subject="old")[0])
        d.wait_for(is_event("new", uid=first), timeout=EVENT_TIMEOUT)

        since = d.mark()
        # Another client deletes and recreates the folder with three messages.
        dovecot.recreate_folder(user, "Scratch", [f"refilled {i}" for i in range(3)], proxy)
        new_validity = dovecot.status(user, "Scratch")["uidvalidity"]
        self.assertNotEqual(old_validity, new_validity)
        # The daemon reconnects, re-baselines, and goes back to idle: one
        # summary of the three, none of them as new.
        reset = d.wait_for(is_event("reset", folder="Scratch"), timeout=RECOVER_TIMEOUT,
                           since=since)
        self.assertEqual(reset, {"event": "reset", "account": "acct", "folder": "Scratch",
                                 "uidvalidity": new_validity,
                                 "previous_uidvalidity": old_validity, "count": 3,
                                 "unseen": 3})
        # The unseen count follows it and agrees with it.
        events = d.events_so_far()
        at = next(i for i in range(since, len(events)) if events[i] is reset)
        d.wait_for(lambda e: e.get("event") == "unseen" and e.get("folder") == "Scratch"
                   and e.get("count") == 3, timeout=RECOVER_TIMEOUT, since=at + 1)
        d.wait_for(is_account_state("acct", "idle"), timeout=RECOVER_TIMEOUT, since=since)
        self.assertEqual(d.find(is_event("new"), since=since), [])
        # Fresh mail in the recreated folder is news, under the new UIDVALIDITY.
        fresh = dovecot.deliver(user, "Scratch", h.make_message(subject="fresh")[0])
        ev = d.wait_for(is_event("new", uid=fresh), timeout=EVENT_TIMEOUT, since=since)
        self.assertEqual(ev["uidvalidity"], new_validity)
        self.assertNotIn("catchup", ev)
        self.assertEqual(len(d.find(is_event("new"), since=since)), 1)
        self.assertEqual(len(d.find(is_event("reset"), since=since)), 1)
        d.stop()

    def test_rejected_password_waits_then_reload_fixes_it(self):
        d = self.start({
            "bad": account("user2", password="wrong-password"),
            "good": account("user1"),
        })
        ev = d.wait_for(is_account_state("bad", "error"), timeout=CONNECT_TIMEOUT)
        self.assertIn("authentication failed", ev["detail"])
        after_error = d.mark()
        d.wait_for(is_account_state("good", "idle"), timeout=CONNECT_TIMEOUT)
        # Permanent: no retries (no new login attempts hammer the server).
        d.assert_no_event(is_account_state("bad", "connecting"), within=2.0,
                          since=after_error)
        logins_before = dovecot.logins("user1")

        # The user fixes the password and reloads.
        since = d.mark()
        d.accounts["bad"]["password"] = dovecot.users["user2"]
        with open(d.config_path, "w", encoding="utf-8") as f:
            f.write(d.config_text())
        d.proc.send_signal(signal.SIGHUP)
        d.wait_for(is_account_state("bad", "idle"), timeout=RECOVER_TIMEOUT, since=since)
        # The unchanged account kept its connection: no new login for it.
        d.assert_no_event(is_account_state("good", "connecting"), within=1.0, since=since)
        self.assertEqual(dovecot.logins("user1"), logins_before)
        uid = dovecot.deliver("user2", "INBOX", h.make_message(subject="after fix")[0])
        d.wait_for(is_event("new", account="bad", uid=uid), timeout=EVENT_TIMEOUT, since=since)
        d.stop()

    def test_reload_retries_an_account_in_error(self):
        # The config is unchanged; what was wrong was on the server (a
        # folder that was missing). A reload tries again, as documented.
        user = "user4"
        d = self.start({"acct": account(user, folders=["INBOX", "Later"])})
        ev = d.wait_for(is_account_state("acct", "error"), timeout=CONNECT_TIMEOUT)
        self.assertIn("Later", ev["detail"])
        dovecot.create_folder(user, "Later")
        since = d.mark()
        d.proc.send_signal(signal.SIGHUP)
        d.wait_for(is_account_state("acct", "idle"), timeout=RECOVER_TIMEOUT, since=since)
        # Watched once its baseline is counted (without NOTIFY, by a
        # connection of its own that comes after the account is idle).
        d.wait_for(is_event("unseen", folder="Later"), timeout=RECOVER_TIMEOUT, since=since)
        uid = dovecot.deliver(user, "Later", h.make_message(subject="now watched")[0])
        d.wait_for(is_event("new", folder="Later", uid=uid), timeout=EVENT_TIMEOUT,
                   since=since)
        d.stop()

    def test_bad_reload_keeps_running(self):
        d = self.start({"acct": account("user3")})
        d.wait_for(is_account_state("acct", "idle"), timeout=CONNECT_TIMEOUT)
        since = d.mark()
        with open(d.config_path, "a", encoding="utf-8") as f:
            f.write("\n[account broken]\nhots = typo\n")
        d.proc.send_signal(signal.SIGHUP)
        d.assert_no_event(is_account_state("acct", "connecting"), within=1.0, since=since)
        self.assertIsNone(d.proc.poll())
        uid = dovecot.deliver("user3", "INBOX", h.make_message(subject="still watching")[0])
        d.wait_for(is_event("new", uid=uid), timeout=EVENT_TIMEOUT, since=since)
        self.assertIn("not reloaded", d.stderr_text())
        self.assertIn("did you mean 'host'", d.stderr_text())
        d.stop()


class MissingHomeFolderTest(unittest.TestCase):
    """Without NOTIFY, Scratch has an IDLE connection of its own: deleted,
    it is the account's error; made again, the next listing finds it."""

    def test_missing_home_folder_is_looked_for_again(self):
        server = h.mail_server(name="recovery-no-notify", notify=False)
        server.start()
        self.addCleanup(server.stop)
        user, folder = "user5", "Scratch"
        server.create_folder(user, folder)
        server.deliver(user, folder, h.make_message(subject="old")[0])
        d = h.Daemon({"acct": dict(account(user, folders=["INBOX", folder]),
                                   port=server.imaps_port, password=server.users[user],
                                   poll_interval=f"{POLL_INTERVAL}s")})
        d.start()
        self.addCleanup(d.kill)
        d.wait_for(is_event("unseen", folder=folder), timeout=CONNECT_TIMEOUT)
        d.wait_for(is_account_state("acct", "idle"), timeout=CONNECT_TIMEOUT)
        old_validity = server.status(user, folder)["uidvalidity"]

        since = d.mark()
        server.delete_folder(user, folder)
        err = d.wait_for(is_account_state("acct", "error"), timeout=RECOVER_TIMEOUT,
                         since=since)
        self.assertIn(f"'{folder}'", err["detail"])
        server.create_folder(user, folder)
        back = server.deliver(user, folder, h.make_message(subject="back")[0])
        new_validity = server.status(user, folder)["uidvalidity"]
        self.assertNotEqual(new_validity, old_validity)

        reset = d.wait_for(is_event("reset", folder=folder), timeout=RELIST_TIMEOUT,
                           since=since)
        self.assertEqual((reset["uidvalidity"], reset["previous_uidvalidity"],
                          reset["count"]), (new_validity, old_validity, 1), reset)
        d.wait_for(is_account_state("acct", "idle"), timeout=EVENT_TIMEOUT, since=since)
        fresh = server.deliver(user, folder, h.make_message(subject="fresh")[0])
        ev = d.wait_for(is_event("new", folder=folder, uid=fresh), timeout=EVENT_TIMEOUT,
                        since=since)
        self.assertEqual(ev["uidvalidity"], new_validity)
        self.assertNotIn(back, [e["uid"] for e in d.find(is_event("new"), since=since)])
        d.stop()


if __name__ == "__main__":
    unittest.main()
