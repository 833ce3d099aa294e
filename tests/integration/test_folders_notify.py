# SPDX-License-Identifier: MIT
"""Every folder of an account on one connection (NOTIFY, RFC 5465) against a
real Dovecot, which offers it: names and patterns, folders created later
under a pattern, special-use folders a pattern skips, team folders in a
public namespace (by name and by a pattern under its prefix; a bare `*`
leaves them out). The server counts the
connections (`doveadm who`). Every wait is on the daemon's output."""

import collections
import unittest

import imapwatch_harness as h
from imapwatch_harness import is_account_state, is_event

CONNECT_TIMEOUT = 20.0
EVENT_TIMEOUT = 10.0

dovecot = h.Dovecot(special_use={"Junk": "\\Junk", "Trash": "\\Trash", "Sent": "\\Sent"},
                    public_namespace=True)
setUpModule = dovecot.start
tearDownModule = dovecot.stop


def account(user, folders):
    return {"host": "localhost", "port": dovecot.imaps_port, "username": user,
            "password": dovecot.users[user], "folders": folders,
            "tls_ca_file": h.certs().ca}


def deliver(user, folder, subject):
    raw, _ = h.make_message(subject=subject)
    return dovecot.deliver(user, folder, raw)


class NotifyTest(unittest.TestCase):
    def start(self, user, folders):
        d = h.Daemon({"acct": account(user, folders)})
        d.start()
        self.addCleanup(d.kill)
        d.wait_for(is_account_state("acct", "idle"), timeout=CONNECT_TIMEOUT)
        return d

    def test_six_folders_one_connection(self):
        user = "user1"
        for folder in ("Work", "Lists/a", "Lists/b", "Lists/c", "Lists/d"):
            dovecot.create_folder(user, folder)
        d = self.start(user, "INBOX;Work;Lists/*")
        folders = ["INBOX", "Work", "Lists/a", "Lists/b", "Lists/c", "Lists/d"]
        # Every folder is synchronised once at the start: its unseen count.
        unseen = d.wait_for_all(lambda e: e["event"] == "unseen", len(folders),
                                timeout=EVENT_TIMEOUT)
        self.assertEqual(sorted(e["folder"] for e in unseen), sorted(folders))
        self.assertIn("the server offers NOTIFY", d.stderr_text())
        self.assertEqual(dovecot.connections(user), 1)

        since = d.mark()
        sent = {folder: deliver(user, folder, f"to {folder}") for folder in folders}
        for folder, uid in sent.items():
            ev = d.wait_for(is_event("new", folder=folder, uid=uid), timeout=EVENT_TIMEOUT,
                            since=since)
            self.assertEqual(ev["subject"], f"to {folder}")
        self.assertEqual(dovecot.connections(user), 1)

        # A folder made later under the pattern is watched too.
        dovecot.create_folder(user, "Lists/new")
        d.wait_for(lambda e: e["event"] == "unseen" and e["folder"] == "Lists/new",
                   timeout=EVENT_TIMEOUT, since=since)
        late = deliver(user, "Lists/new", "to a new folder")
        d.wait_for(is_event("new", folder="Lists/new", uid=late), timeout=EVENT_TIMEOUT,
                   since=since)
        self.assertEqual(dovecot.connections(user), 1)

        counts = collections.Counter((e["folder"], e["uid"]) for e in d.events_so_far()
                                     if e["event"] == "new")
        self.assertTrue(all(n == 1 for n in counts.values()), counts)
        # A visit to another folder selects INBOX again afterwards; its
        # new message, unchanged since it was reported, is no "changed".
        since = d.mark()
        home = deliver(user, "INBOX", "at home")
        d.wait_for(is_event("new", folder="INBOX", uid=home), timeout=EVENT_TIMEOUT,
                   since=since)
        away = deliver(user, "Work", "a visit")
        d.wait_for(is_event("new", folder="Work", uid=away), timeout=EVENT_TIMEOUT,
                   since=since)
        d.assert_no_event(is_event("changed"), within=1.5, since=since)
        sent["INBOX"], sent["Work"] = (sent["INBOX"], home), (sent["Work"], away)
        for folder in folders:
            uids = sent[folder] if isinstance(sent[folder], tuple) else (sent[folder],)
            self.assertEqual(dovecot.state(user, folder), {u: frozenset() for u in uids})
        d.stop()

    def test_star_skips_junk_trash_and_sent(self):
        user = "user2"
        for folder in ("Junk", "Trash", "Sent", "Archive"):
            dovecot.create_folder(user, folder)
        d = self.start(user, "*")
        unseen = d.wait_for_all(lambda e: e["event"] == "unseen", 2, timeout=EVENT_TIMEOUT)
        self.assertEqual(sorted(e["folder"] for e in unseen), ["Archive", "INBOX"])

        since = d.mark()
        for folder in ("Junk", "Trash", "Sent"):
            deliver(user, folder, f"quiet in {folder}")
        last = deliver(user, "Archive", "heard")
        d.wait_for(is_event("new", folder="Archive", uid=last), timeout=EVENT_TIMEOUT,
                   since=since)
        self.assertEqual({e.get("folder") for e in d.events_so_far()[since:]
                          if e.get("folder")}, {"Archive"})
        self.assertEqual(dovecot.connections(user), 1)
        d.stop()

    def test_team_folders_in_a_public_namespace(self):
        user = "user4"
        for folder in ("Public/Team", "Public/Sales", "Public/Ops"):
            dovecot.create_folder(user, folder, subscribe=False)
        dovecot.create_folder(user, "Own")
        d = self.start(user, "INBOX;Public/Ops;Public/S*;Own")
        folders = ["INBOX", "Public/Ops", "Public/Sales", "Own"]
        unseen = d.wait_for_all(lambda e: e["event"] == "unseen", len(folders),
                                timeout=EVENT_TIMEOUT)
        self.assertEqual(sorted(e["folder"] for e in unseen), sorted(folders))
        since = d.mark()
        sent = {folder: deliver(user, folder, f"team {folder}") for folder in folders}
        for folder, uid in sent.items():
            d.wait_for(is_event("new", folder=folder, uid=uid), timeout=EVENT_TIMEOUT,
                       since=since)
        self.assertEqual(dovecot.connections(user), 1)
        d.stop()

        # Another user's "*": their own folders, not the team's.
        other = "user5"
        dovecot.create_folder(other, "Mine")
        d = self.start(other, "*")
        unseen = d.wait_for_all(lambda e: e["event"] == "unseen", 2, timeout=EVENT_TIMEOUT)
        self.assertEqual(sorted(e["folder"] for e in unseen), ["INBOX", "Mine"])
        since = d.mark()
        deliver(user, "Public/Team", "not for a bare star")
        mine = deliver(other, "Mine", "heard")
        d.wait_for(is_event("new", folder="Mine", uid=mine), timeout=EVENT_TIMEOUT, since=since)
        d.stop()
        self.assertEqual({e.get("folder") for e in d.events_so_far() if e.get("folder")},
                         {"INBOX", "Mine"})

    def test_named_folder_missing(self):
        """A folder the server does not have is an error of its own; the
        account's other folders are watched."""
        user = "user3"
        dovecot.create_folder(user, "Work")
        d = h.Daemon({"acct": account(user, "INBOX;Nope;Work")})
        d.start()
        self.addCleanup(d.kill)
        ev = d.wait_for(is_account_state("acct", "error"), timeout=CONNECT_TIMEOUT)
        self.assertIn("folder 'Nope' does not exist on the server", ev["detail"])
        since = d.mark()
        uid = deliver(user, "Work", "still watched")
        d.wait_for(is_event("new", folder="Work", uid=uid), timeout=EVENT_TIMEOUT, since=since)
        d.stop()


if __name__ == "__main__":
    unittest.main()
