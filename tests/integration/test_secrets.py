# SPDX-License-Identifier: MIT
"""Passwords never appear in logs (issue 7, "Secrets and injection").

A full session against Dovecot with `-v --trace-imap`: one account with
`password`, one with `password_command`, through connect, new mail, a
reconnect (doveadm kick) and SIGTERM. The whole stderr log must hold
neither password, in clear or in any base64 form (AUTHENTICATE PLAIN's
"\\0user\\0pass", the password alone), while the trace shows the
authentication with "<redacted>" in its place. The daemon's own command
line and environment hold no password either.
"""

import re
import unittest

import imapwatch_harness as h
from imapwatch_harness import is_account_state, is_event

CONNECT_TIMEOUT = 20.0
EVENT_TIMEOUT = 10.0
RECONNECT_TIMEOUT = 30.0

USERS = {"user1": "S3cr3t-Pa55", "user2": "Pw-From-Command-42"}


class SecretsTest(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        self.dovecot = h.Dovecot(users=USERS)
        self.dovecot.start()
        self.addCleanup(self.dovecot.stop)

    def account(self, user, security, **keys):
        port = self.dovecot.imaps_port if security == "tls" else self.dovecot.imap_port
        base = {"host": "localhost", "port": port, "security": security, "username": user,
                "folders": "INBOX", "tls_ca_file": h.certs().ca}
        base.update(keys)
        return base

    def assert_no_password(self, what, data):
        for user, password in USERS.items():
            self.assertFalse(h.leaks_secret(data, user, password),
                             f"password of {user} in {what}")

    def test_full_session_log_has_no_password(self):
        daemon = h.Daemon({
            "pw": self.account("user1", "tls", password=USERS["user1"]),
            "cmd": self.account("user2", "starttls",
                                password_command=f"printf %s '{USERS['user2']}'"),
        }, args=["-v", "--trace-imap"])
        daemon.start()
        self.addCleanup(daemon.kill)
        for name in ("pw", "cmd"):
            daemon.wait_for(is_account_state(name, "idle"), timeout=CONNECT_TIMEOUT)

        pid = daemon.proc.pid
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            self.assert_no_password("the daemon's command line", f.read())
        with open(f"/proc/{pid}/environ", "rb") as f:
            self.assert_no_password("the daemon's environment", f.read())

        for name, user in (("pw", "user1"), ("cmd", "user2")):
            raw, _ = h.make_message(subject=f"for {name}")
            uid = self.dovecot.deliver(user, "INBOX", raw)
            daemon.wait_for(is_event("new", account=name, uid=uid), timeout=EVENT_TIMEOUT)

        # A reconnect authenticates again (and runs password_command again).
        since = daemon.mark()
        for user in USERS:
            self.dovecot.kick(user)
        for name in ("pw", "cmd"):
            daemon.wait_for(is_account_state(name, "backoff"), timeout=EVENT_TIMEOUT,
                            since=since)
            daemon.wait_for(is_account_state(name, "idle"), timeout=RECONNECT_TIMEOUT,
                            since=since)
        daemon.stop()

        log = daemon.final_stderr
        self.assert_no_password("the log", log)
        # The log is a real protocol trace: two logins per account, each
        # shown with the secret replaced.
        auth = re.findall(rb"C: A\d+ AUTHENTICATE PLAIN (\S+)", log)
        self.assertEqual(len(auth), 4, log.decode(errors="replace")[-5000:])
        self.assertEqual(set(auth), {b"<redacted>"})
        self.assertIn(b"C: A1 STARTTLS", log)
        self.assertRegex(log, rb"C: A\d+ LOGOUT")


if __name__ == "__main__":
    unittest.main()
