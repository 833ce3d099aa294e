# SPDX-License-Identifier: MIT
"""mark_read_start() against a real Dovecot (W4, W5, M6).

The helper program imapwatch-test-mark-read (IMAPWATCH_TEST_MARK_READ, set
by CMake) runs one request and exits 0 on success or 1 with the error on
stderr. doveadm checks what changed: exactly the chosen messages gain
\\Seen; other flags, other messages, the message count, UIDVALIDITY and
UIDNEXT stay as they were, and a message already flagged \\Deleted is not
expunged (no CLOSE, no EXPUNGE).
"""

import os
import subprocess
import unittest

import imapwatch_harness as h

TOOL_TIMEOUT = 90.0  # the request's own deadline is 60 s

# One server for the module's tests, started before the first.
dovecot = h.mail_server()  # Dovecot, or Cyrus (IMAPWATCH_TEST_SERVER)
setUpModule = dovecot.start
tearDownModule = dovecot.stop


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


if __name__ == "__main__":
    unittest.main()
