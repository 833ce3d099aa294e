# SPDX-License-Identifier: MIT
"""Every size a server decides has a limit (issue 7, "Limits").

A scripted server (HostileServer over implicit TLS) lets the daemon log in,
EXAMINE an empty INBOX and IDLE, then sends one oversized or endless thing.
Each must close that connection with a logged reason (the account goes to
"backoff" with the reason), the daemon's memory must stay bounded (peak
resident size from /proc), and the next connection watches normally again.
"""

import unittest

import imapwatch_harness as h
from hostile_server import HostileServer, Scenario
from imapwatch_harness import is_account_state

ACCOUNT = "acct"
CONNECT_TIMEOUT = 15.0
FAIL_TIMEOUT = 20.0
# Backoff after a first failure is 1-2 s.
RECOVER_TIMEOUT = 15.0
# Peak resident memory allowed for the daemon (VmHWM), whatever the server
# sends. A healthy daemon with one account stays around 10 MB.
MEMORY_BOUND_KB = 100 * 1024
FLOOD = 200000

GREETING = b"* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN IDLE] hostile ready\r\n"


def proc_status_kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"{field} not in /proc/{pid}/status")


class LimitsTest(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        self.server = HostileServer(Scenario(greeting=GREETING, implicit_tls=True))
        self.server.start()
        self.addCleanup(self.server.stop)
        self.daemon = h.Daemon({ACCOUNT: {
            "host": "localhost", "port": self.server.port, "security": "tls",
            "username": "victim", "password": "S3cr3t-Pa55", "folders": "INBOX",
            "tls_ca_file": h.certs().ca,
        }})
        self.daemon.start()
        self.addCleanup(self.daemon.kill)
        self.daemon.wait_for(is_account_state(ACCOUNT, "idle"), timeout=CONNECT_TIMEOUT)
        self.server.wait_for_command("IDLE")

    def expect_closed(self, payload, *words):
        """Pushes payload while the daemon idles; the connection must close
        with every word in the backoff detail and memory stay bounded."""
        pid = self.daemon.proc.pid
        since = self.daemon.mark()
        self.server.push(payload)
        ev = self.daemon.wait_for(is_account_state(ACCOUNT, "backoff"), timeout=FAIL_TIMEOUT,
                                  since=since)
        for word in words:
            self.assertIn(word.lower(), ev["detail"].lower(), ev)
        self.assertIn("retrying in", ev["detail"])
        peak = proc_status_kb(pid, "VmHWM")
        self.assertLess(peak, MEMORY_BOUND_KB, f"peak resident memory {peak} kB")
        # The reason is in the log too, not only in the event.
        self.assertIn(words[0], self.daemon.stderr_text())
        self.server.wait_until(lambda s: s.conns[0].closed, what="first connection closed")
        # The next connection watches again (the server plays nice now).
        self.daemon.wait_for(is_account_state(ACCOUNT, "idle"), timeout=RECOVER_TIMEOUT,
                             since=self.daemon.events_so_far().index(ev))
        self.daemon.stop()

    def test_line_too_long(self):
        self.expect_closed(b"* OK " + b"x" * (200 * 1024) + b"\r\n",
                           "line longer than", "cannot parse")

    def test_literal_over_1_mib(self):
        # Refused at the announcement, before a byte of it is sent.
        self.expect_closed(b"* 1 FETCH (UID 1 BODY[] {2000000}\r\n", "literal longer than")

    def test_deeply_nested_lists(self):
        depth = 1000
        self.expect_closed(b"* 1 FETCH (FLAGS " + b"(" * depth + b")" * depth + b")\r\n",
                           "nested deeper than")

    def test_huge_vanished_set(self):
        # N9, liberal: a set naming every UID counts for the messages the
        # folder held (none here). It is never expanded: no time, no
        # memory, and the connection stays.
        pid = self.daemon.proc.pid
        since = self.daemon.mark()
        self.server.push(b"* VANISHED 1:4294967295,7,9:4000000000\r\n")
        self.daemon.assert_no_event(lambda e: e.get("event") in ("state", "removed"),
                                    within=1.0, since=since)
        peak = proc_status_kb(pid, "VmHWM")
        self.assertLess(peak, MEMORY_BOUND_KB, f"peak resident memory {peak} kB")
        self.assertFalse(self.server.conns[0].closed)
        self.daemon.stop()

    def test_malformed_vanished_set(self):
        self.expect_closed(b"* VANISHED 1:*\r\n", "invalid VANISHED")

    def test_keepalive_flood(self):
        self.expect_closed(b"* OK still here\r\n" * FLOOD,
                           "responses without completing a command")

    def test_exists_storm(self):
        self.expect_closed(b"* 1 EXISTS\r\n" * FLOOD, "responses without completing a command")

    def test_exists_beyond_limit(self):
        # The sequence map would need 48 GB.
        self.expect_closed(b"* 4000000000 EXISTS\r\n", "4000000000 messages")

    def test_many_arguments(self):
        # Empty literals keep every line short: only the argument count trips.
        args = b" ".join([b"{0}\r\n"] * 120000)
        self.expect_closed(b"* 1 FETCH (FLAGS (" + args + b"))\r\n", "more than 100000 arguments")


if __name__ == "__main__":
    unittest.main()
