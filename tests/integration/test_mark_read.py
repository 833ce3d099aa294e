# SPDX-License-Identifier: MIT
"""mark_read_start() against a real Dovecot (W4, W5, M6), and marking as
read through the daemon.

The helper program imapwatch-test-mark-read (IMAPWATCH_TEST_MARK_READ, set
by CMake) runs one request and exits 0 on success or 1 with the error on
stderr. doveadm checks what changed: exactly the chosen messages gain
\\Seen; other flags, other messages, the message count, UIDVALIDITY and
UIDNEXT stay as they were, and a message already flagged \\Deleted is not
expunged (no CLOSE, no EXPUNGE).

Through the daemon (`imapwatch mark-read` on a private bus): the change
shows in `imapwatch status` the moment the command returns, with exactly
one `changed` event per message, also once the watching connection's
FETCH of the same flags came in — in compact mode (QRESYNC and ESEARCH:
UID sets) and in map mode (a server without QRESYNC).
"""

import json
import os
import re
import subprocess
import unittest

import bus_harness as b
import imapwatch_harness as h
from imapwatch_harness import is_event

TOOL_TIMEOUT = 90.0  # the request's own deadline is 60 s

# One server for the module's tests, started before the first, and one
# without QRESYNC, on which the daemon keeps a sequence map of the folder.
dovecot = h.mail_server()  # Dovecot, or Cyrus (IMAPWATCH_TEST_SERVER)
no_qresync = h.mail_server(name="noqresync", capabilities=" ".join(
    c for c in h.Dovecot.CAPABILITIES_WITHOUT_NOTIFY.split() if c != "QRESYNC"))


def setUpModule():
    dovecot.start()
    no_qresync.start()


def tearDownModule():
    no_qresync.stop()
    dovecot.stop()


def tool_path():
    path = os.environ.get("IMAPWATCH_TEST_MARK_READ")
    if not path:
        raise h.HarnessError("IMAPWATCH_TEST_MARK_READ is not set (ctest sets it)")
    if not os.access(path, os.X_OK):
        raise h.HarnessError(f"IMAPWATCH_TEST_MARK_READ={path} is not executable")
    return path


class MarkReadTest(unittest.TestCase):
    maxDiff = None

    def run_tool(self, user, folder, uidvalidity, uids, security="tls",
                 password=None, trace=False):
        port = dovecot.imaps_port if security == "tls" else dovecot.imap_port
        argv = [tool_path(), "--host", "localhost", "--port", str(port),
                "--security", security, "--ca", h.certs().ca,
                "--username", user, "--folder", folder,
                "--uidvalidity", str(uidvalidity)]
        if trace:
            argv.append("--trace")
        argv += [str(u) for u in uids]
        env = dict(os.environ)
        env["IMAPWATCH_TEST_PASSWORD"] = (password if password is not None
                                          else dovecot.users[user])
        env["G_MESSAGES_DEBUG"] = ""
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=env, timeout=TOOL_TIMEOUT)
        return proc.returncode, proc.stderr.decode("utf-8", errors="replace")

    def deliver(self, user, folder, count):
        return [dovecot.deliver(user, folder, h.make_message(subject=f"m{i}")[0])
                for i in range(count)]

    def assert_only_seen_added(self, user, folder, before, marked):
        after = dovecot.state(user, folder)
        expected = {uid: (flags | {"\\Seen"}) if uid in marked else flags
                    for uid, flags in before.items()}
        self.assertEqual(after, expected)

    def test_marks_exactly_the_chosen_messages(self):
        user, folder = "user1", "INBOX"
        uids = self.deliver(user, folder, 4)
        dovecot.flags_add(user, folder, uids[1], "\\Flagged")
        # A message the user deleted elsewhere: CLOSE or EXPUNGE would
        # remove it; UNSELECT and LOGOUT must not (M6).
        dovecot.flags_add(user, folder, uids[3], "\\Deleted")
        status = dovecot.status(user, folder)
        before = dovecot.state(user, folder)

        code, err = self.run_tool(user, folder, status["uidvalidity"], [uids[0], uids[1]])
        self.assertEqual(code, 0, err)

        self.assert_only_seen_added(user, folder, before, {uids[0], uids[1]})
        after_status = dovecot.status(user, folder)
        self.assertEqual(after_status["messages"], 4)
        self.assertEqual(after_status["uidvalidity"], status["uidvalidity"])
        self.assertEqual(after_status["uidnext"], status["uidnext"])
        self.assertEqual(after_status["unseen"], status["unseen"] - 2)

    def test_wrong_uidvalidity_changes_nothing(self):
        user, folder = "user2", "INBOX"
        uids = self.deliver(user, folder, 3)
        status = dovecot.status(user, folder)
        before = dovecot.state(user, folder)

        code, err = self.run_tool(user, folder, status["uidvalidity"] + 1, uids)
        self.assertEqual(code, 1)
        self.assertIn("folder changed since the message was seen", err)
        self.assertIn("nothing was changed", err)
        self.assertEqual(dovecot.state(user, folder), before)
        self.assertEqual(dovecot.status(user, folder), status)

    def test_starttls(self):
        user, folder = "user3", "INBOX"
        uids = self.deliver(user, folder, 3)
        status = dovecot.status(user, folder)
        before = dovecot.state(user, folder)

        code, err = self.run_tool(user, folder, status["uidvalidity"], [uids[2]],
                                  security="starttls")
        self.assertEqual(code, 0, err)
        self.assert_only_seen_added(user, folder, before, {uids[2]})

    def test_unicode_folder_and_trace_without_secrets(self):
        user, folder = "user4", "Entwürfe/Alte Sachen"
        dovecot.create_folder(user, folder)
        uids = self.deliver(user, folder, 3)
        inbox_uids = self.deliver(user, "INBOX", 1)
        status = dovecot.status(user, folder)
        before = dovecot.state(user, folder)
        inbox_before = dovecot.state(user, "INBOX")

        code, err = self.run_tool(user, folder, status["uidvalidity"], [uids[0], uids[2]],
                                  trace=True)
        self.assertEqual(code, 0, err)
        self.assert_only_seen_added(user, folder, before, {uids[0], uids[2]})
        self.assertEqual(dovecot.state(user, "INBOX"), inbox_before)
        self.assertTrue(inbox_uids)
        # The trace shows the protocol but never the credentials.
        self.assertIn('SELECT "Entw&APw-rfe/Alte Sachen"', err)
        self.assertIn("+FLAGS.SILENT (\\Seen)", err)
        self.assertIn("<redacted>", err)
        self.assertNotIn(dovecot.users[user], err)
        for word in ("CLOSE", "EXPUNGE"):
            self.assertNotIn(f" {word}", err)

    def test_wrong_password_changes_nothing(self):
        user, folder = "user5", "INBOX"
        uids = self.deliver(user, folder, 2)
        status = dovecot.status(user, folder)
        before = dovecot.state(user, folder)

        code, err = self.run_tool(user, folder, status["uidvalidity"], uids,
                                  password="wrong password")
        self.assertEqual(code, 1)
        self.assertIn("authentication failed", err)
        self.assertIn("nothing was changed", err)
        self.assertEqual(dovecot.state(user, folder), before)

    def test_missing_folder(self):
        code, err = self.run_tool("user6", "No Such Folder", 1, [1])
        self.assertEqual(code, 1)
        self.assertIn("cannot open folder 'No Such Folder'", err)


class DaemonMarkReadTest(unittest.TestCase):
    """imapwatch mark-read through the daemon: its effect is visible when
    the command returns, and reported once."""

    maxDiff = None
    # The server's own FETCH of a flag change, on a watching connection:
    # "S: * 3 FETCH (UID 7 FLAGS (\\Seen) MODSEQ (9))", or without UID.
    SERVER_FETCH = re.compile(r"\] S: \* \d+ FETCH \((?:UID (\d+) )?.*FLAGS \(([^)]*)\)")

    def start(self, server, user):
        bus = b.SessionBus()
        bus.start()
        self.addCleanup(bus.stop)
        daemon = h.Daemon({"acct": b.account(server, user)}, args=["-v", "--trace-imap"],
                          env={"DBUS_SESSION_BUS_ADDRESS": bus.address})
        daemon.start()
        self.addCleanup(daemon.kill)
        daemon.wait_for(h.is_account_state("acct", "idle"), timeout=b.CONNECT_TIMEOUT)
        return bus, daemon

    def deliver(self, server, daemon, user, subject):
        mark = daemon.mark()
        uid, _ = b.deliver(server, user, "INBOX", subject)
        return daemon.wait_for(is_event("new", account="acct", uid=uid), since=mark,
                               timeout=b.EVENT_TIMEOUT)

    def status_unseen(self, bus):
        code, out, err = b.cli(bus, "status", "--json")
        self.assertEqual((code, err), (0, ""), out)
        status = json.loads(out)
        folder = status["accounts"][0]["folders"][0]
        self.assertEqual(folder["name"], "INBOX")
        self.assertEqual(status["total_unseen"], folder["unseen"])
        return folder["unseen"]

    def server_fetches(self, daemon, since):
        """UIDs (or None without one) and flags of the FETCHes of flags the
        server sent the watching connection after log offset since."""
        with open(daemon.stderr_path, "rb") as f:
            f.seek(since)
            text = f.read().decode(errors="replace")
        return [(m.group(1), m.group(2)) for m in self.SERVER_FETCH.finditer(text)
                if "mark-read]" not in m.group(0)]

    def check_mark_read(self, server, user):
        bus, daemon = self.start(server, user)
        first = self.deliver(server, daemon, user, "read me")
        second = self.deliver(server, daemon, user, "read me too")
        third = self.deliver(server, daemon, user, "and me")
        self.assertEqual(self.status_unseen(bus), 3)

        # One message by id: counted read the moment the command returns.
        mark, log = daemon.mark(), daemon.log_mark()
        code, out, err = b.cli(bus, "mark-read", first["id"])
        self.assertEqual((code, out, err), (0, "", ""))
        self.assertEqual(self.status_unseen(bus), 2)
        self.assertEqual(server.status(user, "INBOX")["unseen"], 2)
        # The server's FETCH of the change comes before that of a message
        # delivered after it: once that is reported, the FETCH was read.
        self.deliver(server, daemon, user, "later")
        changed = daemon.find(is_event("changed", account="acct"), since=mark)
        self.assertEqual([(e["uid"], e["seen"], e["flags"]) for e in changed],
                         [(first["uid"], True, ["\\Seen"])], daemon.describe(mark))
        # The unseen count of the later message follows its "new" event.
        daemon.wait_for(is_event("unseen", account="acct", count=3), since=mark,
                        timeout=b.EVENT_TIMEOUT)
        unseen = [e["count"] for e in daemon.find(is_event("unseen", account="acct"), mark)]
        self.assertEqual(unseen, [2, 3])
        fetched = self.server_fetches(daemon, log)
        self.assertTrue(any("\\Seen" in flags for _, flags in fetched),
                        f"the server sent no FETCH of \\Seen: {fetched}")

        # --all, in INBOX written in another case: every unseen one at once.
        mark = daemon.mark()
        code, out, err = b.cli(bus, "mark-read", "--all", "acct/inbox")
        self.assertEqual((code, out, err), (0, "", ""))
        self.assertEqual(self.status_unseen(bus), 0)
        self.deliver(server, daemon, user, "last")
        changed = daemon.find(is_event("changed", account="acct"), since=mark)
        self.assertEqual(sorted(e["uid"] for e in changed),
                         sorted([second["uid"], third["uid"],
                                 daemon.find(is_event("new", subject="later"))[0]["uid"]]),
                         daemon.describe(mark))
        self.assertTrue(all(e["seen"] for e in changed))
        self.assertEqual(self.status_unseen(bus), 1)

    def test_compact_mode(self):
        self.check_mark_read(dovecot, "user7")

    def test_map_mode(self):
        self.check_mark_read(no_qresync, "user8")


if __name__ == "__main__":
    unittest.main()
