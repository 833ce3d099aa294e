# SPDX-License-Identifier: MIT
"""A server that ends every IDLE after a fixed time (docs/PROTOCOL.md I9),
played by the scripted HostileServer: it answers each IDLE and, LIFETIME
seconds later, unless the client has ended that IDLE with DONE, sends
"* BYE Autologout" and closes the connection, as Cyrus does with a short
imapidletimeout, or (complete=True) completes the IDLE with its tagged OK.

The daemon reconnects after the first drops; after three of about the
same length it logs the lifetime and refreshes IDLE (DONE, then IDLE) at
80 % of it on the same connection: no more reconnects, and no state event
at all while it refreshes (the INBOX here is empty, so each refresh also
selects it again, H8). The learnt refresh is in the state file, and a
restarted daemon refreshes in time from its first IDLE on. An IDLE the
server completes is issued again at once on the same connection, without
a state event, and teaches the same.

The real rule never refreshes more often than once a minute, so learning
takes minutes; IMAPWATCH_TEST_IDLE_FLOOR (read by the daemon for tests
only) lowers that floor to FLOOR seconds, so the module takes about a
minute. A lifetime too short even for that floor is logged and not
learnt: the connections go on as before.
"""

import os
import shutil
import tempfile
import threading
import unittest

import imapwatch_harness as h
from hostile_server import HostileServer, Scenario
from imapwatch_harness import is_account_state

ACCOUNT = "acct"
FLOOR = 2  # seconds: IMAPWATCH_TEST_IDLE_FLOOR
LIFETIME = 4.0  # seconds the server lets an IDLE live
LEARNT = 3  # 80 % of it, in whole seconds
CONNECT_TIMEOUT = 15.0
# Three lifetimes and the backoff between the drops (up to 1, 2 and 4 s).
LEARN_TIMEOUT = 3 * LIFETIME + 7 + 10
REFRESHES = 3  # IDLEs on one connection that show the refresh works


class IdleTimeoutServer(HostileServer):
    """The hostile server's minimal IMAP server, whose IDLE lives
    `lifetime` seconds: a timer per IDLE sends BYE and closes, or with
    complete=True completes the IDLE (its tagged OK without DONE), unless
    DONE came first."""

    def __init__(self, lifetime, complete=False):
        self.lifetime = lifetime
        self.complete = complete
        self._idle_lock = threading.Lock()
        self._idles = {}  # connection index -> (token, tag) of the IDLE under way
        self._timers = []
        super().__init__(Scenario(replies={"IDLE": self._idle, "IDLE+": self._next}))

    def _idle(self, conn, tag, line):
        with self._idle_lock:
            token = object()
            self._idles[conn.index] = (token, tag)
            timer = threading.Timer(self.lifetime, self._expire, args=(conn.index, token))
            timer.daemon = True
            self._timers.append(timer)
            timer.start()
        return b"+ idling\r\n"

    def _next(self, conn, tag, line):
        """The line after "+ idling": DONE, or once the server completed
        the IDLE the client's next command (the hostile server still takes
        it for the continuation)."""
        words = line.split(b" ")
        if line == b"DONE":
            with self._idle_lock:
                _, tag = self._idles.pop(conn.index, (None, tag))
            return tag + b" OK IDLE done\r\n"
        if len(words) == 2 and words[1].upper() == b"IDLE":
            return self._idle(conn, words[0], line)
        # Another command (an empty folder selected again, LOGOUT): its
        # usual reply.
        reply = (self.scenario.reply_for(words[1].upper().decode(errors="replace"), True)
                 if len(words) >= 2 else None)
        if isinstance(reply, bytes) and not reply.endswith(b"+ idling\r\n"):
            return reply.replace(b"{tag}", words[0])
        return words[0] + b" BAD unexpected\r\n"

    def _expire(self, index, token):
        with self._idle_lock:
            if self._idles.get(index, (None,))[0] is not token:
                return  # ended by the client's DONE meanwhile
            _, tag = self._idles.pop(index)
        if self.complete:
            self.push(tag + b" OK IDLE terminated (timeout)\r\n", conn=index)
        else:
            self.push(b"* BYE Autologout; idle for too long\r\n", conn=index, close=True)

    def stop(self):
        with self._idle_lock:
            for timer in self._timers:
                timer.cancel()
        super().stop()

    def sent(self, index, what):
        """How many IDLE commands (what="IDLE") or DONE lines connection
        `index` sent."""
        with self._cond:
            if index >= len(self.conns):
                return 0
            lines = [c[3] for c in self.conns[index].commands]
        if what == "DONE":
            return lines.count("DONE")
        return sum(1 for line in lines if line.split(" ")[1:] == ["IDLE"])

    def idles(self, index):
        return self.sent(index, "IDLE")

    def wait_idles(self, index, n, timeout):
        self.wait_until(lambda s: s.idles(index) >= n, timeout,
                        f"{n} IDLE commands on connection {index}")


class IdleLifetimeTest(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        self.state_home = tempfile.mkdtemp(prefix="imapwatch-idle-state-")
        self.addCleanup(shutil.rmtree, self.state_home, True)

    def serve(self, lifetime, complete=False):
        server = IdleTimeoutServer(lifetime, complete)
        server.start()
        self.addCleanup(server.stop)
        return server

    def start(self, server):
        d = h.Daemon({ACCOUNT: {
            "host": "localhost", "port": server.port, "security": "starttls",
            "username": "me", "password": "secret", "folders": "INBOX",
            "tls_ca_file": h.certs().ca, "idle_refresh": "1m",
        }}, env={"XDG_STATE_HOME": self.state_home,
                 "IMAPWATCH_TEST_IDLE_FLOOR": str(FLOOR)})
        d.start()
        self.addCleanup(d.kill)
        d.wait_for(is_account_state(ACCOUNT, "idle"), timeout=CONNECT_TIMEOUT)
        return d

    def state_text(self):
        path = os.path.join(self.state_home, "imapwatch", f"{ACCOUNT}.state")
        with open(path, encoding="utf-8") as f:
            return f.read()

    def assert_refreshes_in_time(self, server, d, index, since, refreshes=REFRESHES):
        """Connection `index` idles `refreshes` times, each IDLE refreshed
        before the server's limit: no drop, no other connection, and not
        one state event after the account reached idle (an event at or
        after `since`)."""
        server.wait_until(lambda s: len(s.conns) > index, CONNECT_TIMEOUT,
                          f"connection {index}")
        server.wait_idles(index, 1, CONNECT_TIMEOUT)
        idle = d.wait_for(is_account_state(ACCOUNT, "idle"), timeout=CONNECT_TIMEOUT,
                          since=since)
        quiet = next(i for i, e in enumerate(d.events_so_far()) if e is idle) + 1
        server.wait_idles(index, refreshes, timeout=refreshes * (LEARNT + 1) + 2)
        self.assertEqual(len(server.conns), index + 1, server.describe())
        self.assertFalse(server.conns[index].closed, server.describe())
        self.assertEqual(server.sent(index, "DONE"), refreshes - 1, server.describe())
        self.assertEqual(d.find(lambda e: e.get("event") == "state", since=quiet), [],
                         d.describe(quiet))

    def test_learnt_kept_and_restored(self):
        server = self.serve(LIFETIME)
        d = self.start(server)
        d.wait_log(f"account '{ACCOUNT}': the server ends IDLE after about 4s; refreshing "
                   f"every {LEARNT}s", timeout=LEARN_TIMEOUT)
        # Taken seconds before the next connection's idle (the backoff).
        learnt = d.mark()
        # Three drops taught it; the fourth connection keeps its IDLE alive.
        server.wait_until(lambda s: sum(c.closed for c in s.conns) == 3, CONNECT_TIMEOUT,
                          "three connections dropped")
        for i in range(3):
            self.assertEqual(server.idles(i), 1, server.describe())
        self.assert_refreshes_in_time(server, d, 3, since=learnt)
        d.stop()
        self.assertRegex(self.state_text(), r"^imapwatch-state 3\naccount acct\n"
                                            rf"idle 4 {LEARNT}\n")

        # A restart knows it from its first IDLE on.
        again = self.start(server)
        again.wait_log(f"account '{ACCOUNT}': the server ended IDLE after about 4s (learnt "
                       f"before); refreshing every {LEARNT}s", timeout=1)
        self.assert_refreshes_in_time(server, again, 4, since=0, refreshes=2)
        again.stop()
        self.assertIn(f"\nidle 4 {LEARNT}\n", self.state_text())

    def test_completed_by_the_server(self):
        # The server completes each IDLE itself: IDLE again at once on the
        # same connection, without a state event; learnt all the same.
        server = self.serve(LIFETIME, complete=True)
        d = self.start(server)
        quiet = d.mark()
        d.wait_log(f"account '{ACCOUNT}': the server ends IDLE after about 4s; refreshing "
                   f"every {LEARNT}s", timeout=3 * LIFETIME + 5)
        # Three completed, then two refreshed in time, and the next one.
        server.wait_idles(0, 6, timeout=2 * (LEARNT + 1) + 2)
        self.assertEqual(server.sent(0, "DONE"), 2, server.describe())
        self.assertEqual(len(server.conns), 1, server.describe())
        self.assertEqual(d.find(lambda e: e.get("event") == "state", since=quiet), [],
                         d.describe(quiet))
        d.stop()

    def test_too_short_is_not_learnt(self):
        # 80 % of 2 s is under the floor: said once, the drops go on.
        server = self.serve(FLOOR)
        d = self.start(server)
        d.wait_log(f"account '{ACCOUNT}': the server ends IDLE after about {FLOOR}s, too soon "
                   f"to refresh it before (not more often than every {FLOOR}s)",
                   timeout=3 * FLOOR + 7 + 10)
        # Reconnecting as before: never a refresh.
        server.wait_until(lambda s: len(s.conns) >= 4, CONNECT_TIMEOUT, "a fourth connection")
        for c in server.conns[:3]:
            self.assertEqual(c.names(), ["STARTTLS", "CAPABILITY", "AUTHENTICATE", "EXAMINE",
                                         "IDLE"], server.describe())
        d.stop()
        self.assertEqual(d.final_stderr.decode(errors="replace").count("too soon to refresh"),
                         1)
        self.assertNotIn("\nidle ", self.state_text())


if __name__ == "__main__":
    unittest.main()
