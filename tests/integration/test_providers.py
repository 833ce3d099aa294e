# SPDX-License-Identifier: MIT
"""The big providers' habits, met by the whole daemon.

A ProviderServer (provider_server.py) keeps a mailbox across connections
and talks like Gmail, Microsoft 365, Yahoo, iCloud or Fastmail; each test
plays one habit, as the provider documents it or as its users reported
it (the source is named in each test), at once instead of after the
minutes a real server waits. Every test then checks the two things a
watcher owes its user: each message is announced exactly once (nothing
twice, nothing missed, across reconnects too), and the account goes on
watching: new mail after the habit is still reported, and the account
never ends in "error".

Protocol-level transcripts of the same habits, byte by byte:
tests/unit/core/test-session-providers.c. Servers that end IDLE early on
their own: test_idle_lifetime.
"""

import collections
import re
import unittest

import imapwatch_harness as h
from imapwatch_harness import is_account_state, is_event
from provider_server import ProviderServer
from system_bus import FakeLogind, PrivateSystemBus

ACCOUNT = "acct"
CONNECT_TIMEOUT = 20.0
EVENT_TIMEOUT = 10.0
# A transient failure is retried after 0.5-1 s at first (L5).
RECONNECT_TIMEOUT = 15.0
# A resource failure waits 15-30 s first (L5, A6).
RESOURCE_DELAY = 15
QUIET = 1.0

# What a watching connection never sends (W1-W3).
MODIFYING = re.compile(r"^\S+ (UID )?(SELECT|STORE|EXPUNGE|CLOSE|COPY|MOVE|APPEND|CREATE|"
                       r"DELETE|RENAME)\b", re.I)


def new_event(folder, uid):
    return is_event("new", account=ACCOUNT, folder=folder, uid=uid)


class ProviderTestCase(unittest.TestCase):
    maxDiff = None

    def server(self, personality, folders=("INBOX",), other_clients=0):
        srv = ProviderServer(personality, folders, other_clients=other_clients)
        srv.start()
        self.addCleanup(srv.stop)
        return srv

    def daemon(self, srv, env=None, **keys):
        d = h.Daemon({ACCOUNT: srv.account(**keys)}, env=env)
        d.start()
        self.addCleanup(d.kill)
        return d

    def logind(self):
        """A private system bus with a fake logind: its resume makes every
        connection prove itself at once (L6), a probe that would otherwise
        wait for idle_refresh (at least a minute)."""
        bus = PrivateSystemBus()
        self.addCleanup(bus.close)
        logind = FakeLogind(bus.address)
        self.addCleanup(logind.close)
        return logind, {"DBUS_SYSTEM_BUS_ADDRESS": bus.address}

    @staticmethod
    def resume(logind):
        logind.send("sleep")
        logind.send("resume")

    def wait_watching(self, d, state="idle", since=0):
        return d.wait_for(is_account_state(ACCOUNT, state), timeout=CONNECT_TIMEOUT,
                          since=since)

    def wait_new(self, d, folder, uid, since=0):
        return d.wait_for(new_event(folder, uid), timeout=EVENT_TIMEOUT, since=since)

    def assert_once(self, d, kind, expected):
        """Each (folder, uid) of expected announced exactly once as kind,
        and nothing else."""
        got = collections.Counter((e["folder"], e["uid"]) for e in d.events_so_far()
                                  if e.get("event") == kind and e.get("account") == ACCOUNT)
        self.assertEqual(dict(got), {k: 1 for k in expected},
                         f"'{kind}' events\n{d.describe()}")

    def finish(self, d, srv, new=(), changed=(), removed=()):
        """Checks that the account is watching, stops the daemon (exit 0)
        and checks what it announced over the whole run, that it never
        stopped watching for good, and that it changed nothing on the
        server."""
        states = [e["state"] for e in d.events_so_far()
                  if e.get("event") == "state" and e.get("account") == ACCOUNT
                  and not e.get("folder")]
        self.assertIn(states[-1], ("idle", "polling"), d.describe())
        d.stop()
        self.assert_once(d, "new", new)
        self.assert_once(d, "changed", changed)
        self.assert_once(d, "removed", removed)
        self.assertEqual(d.find(is_account_state(ACCOUNT, "error")), [], d.describe())
        self.assertEqual(srv.server_errors(), [])
        self.assertEqual([l for l in srv.sent() if MODIFYING.match(l)], [], srv.describe())


class GmailTest(ProviderTestCase):

    def test_labels_bye_and_condstore_resync(self):
        """A message under two labels is in two folders with one X-GM-MSGID
        (Google, "IMAP Extensions"): one event per folder, the same id.
        Then Gmail ends the INBOX session long before 29 minutes with "*
        BYE System Error" (FlowCrypt/flowcrypt-android#183): what happened
        meanwhile (read elsewhere, new mail) is found by the CONDSTORE
        resync — Gmail has no QRESYNC, and sends [HIGHESTMODSEQ n] without
        text — and reported once."""
        srv = self.server("gmail", folders=("INBOX", "Work"))
        old = srv.deliver("INBOX", "before")
        d = self.daemon(srv, max_connections=2)
        self.wait_watching(d)
        inbox = srv.wait_idling("INBOX")
        srv.wait_idling("Work")

        first = srv.deliver(["INBOX", "Work"], "labelled")
        a = self.wait_new(d, "INBOX", first["INBOX"])
        b = self.wait_new(d, "Work", first["Work"])
        self.assertEqual(a["gm_msgid"], b["gm_msgid"])
        self.assertEqual(a["message_id"], b["message_id"])

        # Changes the session will not hear of before its end.
        srv.wait_until(lambda s: inbox in s.idling("INBOX"), what="INBOX idling again")
        mark = d.mark()
        srv.withhold(inbox)
        srv.set_flags("INBOX", first["INBOX"], "\\Seen")
        during = srv.deliver("INBOX", "during")["INBOX"]
        log = d.log_mark()
        srv.bye(inbox, "System Error")
        d.wait_log("System Error", timeout=EVENT_TIMEOUT, since=log)
        again = srv.wait_idling("INBOX", since_conn=inbox + 1, timeout=RECONNECT_TIMEOUT)
        self.wait_new(d, "INBOX", during, since=mark)
        d.wait_for(is_event("changed", folder="INBOX", uid=first["INBOX"], seen=True),
                   timeout=EVENT_TIMEOUT, since=mark)
        resync = srv.sent(again)
        self.assertIn("EXAMINE INBOX", [l.split(" ", 1)[1] for l in resync])
        self.assertTrue(any("UID SEARCH RETURN (ALL) ALL" in l for l in resync), resync)
        self.assertTrue(any("(CHANGEDSINCE " in l for l in resync), resync)

        after = srv.deliver("INBOX", "after")["INBOX"]
        self.wait_new(d, "INBOX", after, since=mark)
        self.finish(d, srv,
                    new={("INBOX", first["INBOX"]), ("Work", first["Work"]),
                         ("INBOX", during), ("INBOX", after)},
                    changed={("INBOX", first["INBOX"])})
        self.assertNotIn(("INBOX", old["INBOX"]),
                         [(e["folder"], e["uid"]) for e in d.find(is_event("new"))])

    def test_connection_limit_lowers_the_budget(self):
        """Gmail allows 15 connections per account (Google help answer
        97150; imapsync/imapsync#61), shared with the user's other
        clients; the one over it is refused with "NO [ALERT] Too many
        simultaneous connections. (Failure)" (zone-eu/wildduck#35,
        jstedfast/MailKit#377). With 13 taken elsewhere, the third of
        three connections is refused: the account watches with two and
        polls the third folder (F7), no error, no backoff."""
        srv = self.server("gmail", folders=("INBOX", "Work", "Lists"), other_clients=13)
        d = self.daemon(srv, max_connections=3)
        d.wait_log("the server refused another connection", timeout=CONNECT_TIMEOUT)
        self.wait_watching(d)
        inbox = srv.wait_idling("INBOX")
        self.assertEqual(srv.refused, 1, srv.describe())
        self.assertIn("Too many simultaneous connections", d.stderr_text())

        new = srv.deliver("INBOX", "still watched")["INBOX"]
        self.wait_new(d, "INBOX", new)
        # Two connections idle, one of them on INBOX; Lists is a guest.
        srv.wait_until(lambda s: len(s.idling()) == 2 and inbox in s.idling("INBOX"),
                       what="two connections idling")
        self.assertEqual(srv.idling("Lists"), [])
        self.assertEqual(d.find(is_account_state(ACCOUNT, "backoff")), [], d.describe())
        self.finish(d, srv, new={("INBOX", new)})

    def test_connection_limit_on_the_first_connection(self):
        """All 15 taken by other clients: even the first login is refused.
        That is "not now" (A6): a backoff that starts long (L5), never the
        error state of rejected credentials; the account is back as soon
        as it may connect again (here: after a resume, which retries at
        once, L6)."""
        logind, env = self.logind()
        srv = self.server("gmail", other_clients=15)
        d = self.daemon(srv, env=env)
        ev = d.wait_for(is_account_state(ACCOUNT, "backoff"), timeout=CONNECT_TIMEOUT)
        self.assertIn("Too many simultaneous connections", ev["detail"])
        delay = int(re.search(r"retrying in (\d+) s", ev["detail"]).group(1))
        self.assertGreaterEqual(delay, RESOURCE_DELAY, ev)
        d.assert_no_event(is_account_state(ACCOUNT, "connecting"), within=QUIET,
                          since=d.events_so_far().index(ev))
        self.assertEqual(len(srv.conns), 1, srv.describe())

        srv.other_clients = 0  # the other clients logged out
        mark = d.mark()
        self.resume(logind)
        self.wait_watching(d, since=mark)
        new = srv.deliver("INBOX", "back")["INBOX"]
        self.wait_new(d, "INBOX", new)
        self.finish(d, srv, new={("INBOX", new)})


class Microsoft365Test(ProviderTestCase):

    def test_exists_before_the_continuation(self):
        """Microsoft 365 announces mail between IDLE and its "+ IDLE
        accepted, awaiting DONE command." (Webklex/php-imap#258): acted on
        when the "+" comes (I1), reported once."""
        srv = self.server("m365")
        srv.deliver_at_next_idle("INBOX", "early")
        d = self.daemon(srv)
        early = self.wait_new(d, "INBOX", 1)
        self.wait_watching(d)
        conn = srv.wait_idling("INBOX")
        names = srv.conns[conn].names()
        first_idle = names.index("IDLE")
        self.assertEqual(names[first_idle + 1], "IDLE+", srv.describe())  # DONE at once
        self.assertEqual(srv.delivered_at_idle(), [{"INBOX": early["uid"]}])

        after = srv.deliver("INBOX", "after")["INBOX"]
        self.wait_new(d, "INBOX", after)
        self.finish(d, srv, new={("INBOX", early["uid"]), ("INBOX", after)})

    def test_session_dropped_without_bye(self):
        """Microsoft 365 drops IDLE sessions without a BYE (the connection
        just ends; angus-mail/angus-mail#176 reports IDLE going silent).
        The reconnect lists every flag (no CONDSTORE here, N6): read
        elsewhere, removed and new while away, each reported once."""
        srv = self.server("m365")
        one = srv.deliver("INBOX", "one")["INBOX"]
        two = srv.deliver("INBOX", "two")["INBOX"]
        d = self.daemon(srv)
        self.wait_watching(d)
        conn = srv.wait_idling("INBOX")

        mark = d.mark()
        srv.withhold(conn)
        srv.set_flags("INBOX", one, "\\Seen")
        srv.expunge("INBOX", two)
        during = srv.deliver("INBOX", "during")["INBOX"]
        srv.drop(conn)
        self.wait_new(d, "INBOX", during, since=mark)
        d.wait_for(is_event("removed", folder="INBOX", uid=two), timeout=EVENT_TIMEOUT,
                   since=mark)
        d.wait_for(is_event("changed", folder="INBOX", uid=one, seen=True),
                   timeout=EVENT_TIMEOUT, since=mark)
        again = srv.wait_idling("INBOX", since_conn=conn + 1)
        self.assertIn("UID FETCH 1:* (UID FLAGS)", [l.split(" ", 1)[1] for l in srv.sent(again)])

        after = srv.deliver("INBOX", "after")["INBOX"]
        self.wait_new(d, "INBOX", after, since=mark)
        self.finish(d, srv, new={("INBOX", during), ("INBOX", after)},
                    changed={("INBOX", one)}, removed={("INBOX", two)})

    def test_idle_that_went_quiet(self):
        """Microsoft 365's IDLE can stop reporting mail while the
        connection stays up (angus-mail/angus-mail#176: re-issuing IDLE
        every 10 minutes helps; docs/PROTOCOL.md I6). Every probe is DONE
        and IDLE again, which brings the news: here the probe after a
        resume (L6) instead of the 9-minute refresh. The healthy
        connection is kept."""
        logind, env = self.logind()
        srv = self.server("m365")
        d = self.daemon(srv, env=env)
        self.wait_watching(d)
        conn = srv.wait_idling("INBOX")

        srv.withhold(conn)
        stale = srv.deliver("INBOX", "unheard")["INBOX"]
        d.assert_no_event(is_event("new"), within=QUIET)
        self.resume(logind)
        self.wait_new(d, "INBOX", stale)
        srv.wait_idling("INBOX")
        after = srv.deliver("INBOX", "after")["INBOX"]
        self.wait_new(d, "INBOX", after)
        self.assertEqual(len(srv.conns), 1, srv.describe())
        self.finish(d, srv, new={("INBOX", stale), ("INBOX", after)})

    def test_authenticated_but_not_connected(self):
        """Microsoft 365 breaks sessions on its side and tells only by
        refusing what follows the login: "BAD User is authenticated but
        not connected." (mscdex/node-imap#523, getmail6/getmail6#214 on
        EXAMINE), often passing by itself (atc0005/check-mail#183). A
        reconnect with backoff, not an account stopped for good."""
        srv = self.server("m365")
        srv.script("EXAMINE", b"{tag} BAD User is authenticated but not connected.\r\n",
                   conn=0)
        d = self.daemon(srv)
        ev = d.wait_for(lambda e: is_account_state(ACCOUNT, "backoff")(e)
                        or is_account_state(ACCOUNT, "error")(e), timeout=CONNECT_TIMEOUT)
        self.assertEqual(ev["state"], "backoff", ev)
        self.assertIn("User is authenticated but not connected", ev["detail"])
        self.wait_watching(d, since=d.events_so_far().index(ev))
        new = srv.deliver("INBOX", "after")["INBOX"]
        self.wait_new(d, "INBOX", new)
        self.finish(d, srv, new={("INBOX", new)})

    def test_throttled(self):
        """Microsoft 365 throttles a busy mailbox: "NO Request is
        throttled. Suggested Backoff Time: 299961 milliseconds"
        (imapsync/imapsync#198, ikvk/imap_tools#135). That is "not now":
        a long backoff (A6, L5), not a folder in error; after it (here a
        resume, which retries at once) the account watches again."""
        logind, env = self.logind()
        srv = self.server("m365")
        srv.script("EXAMINE", b"{tag} NO Request is throttled. Suggested Backoff Time: "
                              b"299961 milliseconds\r\n", conn=0)
        d = self.daemon(srv, env=env)
        ev = d.wait_for(lambda e: is_account_state(ACCOUNT, "backoff")(e)
                        or is_account_state(ACCOUNT, "error")(e), timeout=CONNECT_TIMEOUT)
        self.assertEqual(ev["state"], "backoff", ev)
        self.assertIn("Request is throttled", ev["detail"])
        delay = int(re.search(r"retrying in (\d+) s", ev["detail"]).group(1))
        self.assertGreaterEqual(delay, RESOURCE_DELAY, ev)

        mark = d.mark()
        self.resume(logind)
        self.wait_watching(d, since=mark)
        new = srv.deliver("INBOX", "after")["INBOX"]
        self.wait_new(d, "INBOX", new)
        self.finish(d, srv, new={("INBOX", new)})


class YahooTest(ProviderTestCase):

    def test_polling_without_idle(self):
        """Yahoo offers no IDLE (jakartaee/mail-api#419, M66B/FairEmail#86):
        the folder is polled with NOOP (C2, L7), the account shows
        "polling". Yahoo sends [HIGHESTMODSEQ n] without CONDSTORE and
        refuses CHANGEDSINCE (whiteout-io/imap-client#40), which the
        daemon never sends here. A poll that finds nothing reports
        nothing; each message once. (The probe after a resume is a NOOP
        now, instead of one every poll_interval.)"""
        logind, env = self.logind()
        srv = self.server("yahoo")
        srv.deliver("INBOX", "old")
        d = self.daemon(srv, env=env)
        self.wait_watching(d, "polling")

        first = srv.deliver("INBOX", "first")["INBOX"]
        self.resume(logind)
        self.wait_new(d, "INBOX", first)
        self.resume(logind)  # a poll that finds nothing new
        srv.wait_until(lambda s: sum(1 for l in s.sent() if l.endswith(" NOOP")) >= 2,
                       what="a second NOOP")
        second = srv.deliver("INBOX", "second")["INBOX"]
        self.resume(logind)
        self.wait_new(d, "INBOX", second)
        self.assertFalse(any("CHANGEDSINCE" in l or " IDLE" in l for l in srv.sent()),
                         srv.describe())
        self.assertEqual(d.find(is_account_state(ACCOUNT, "idle")), [])
        self.finish(d, srv, new={("INBOX", first), ("INBOX", second)})


class ICloudTest(ProviderTestCase):

    def test_qresync_offered_but_not_enabled(self):
        """iCloud offers CONDSTORE and QRESYNC but answers "ENABLE QRESYNC"
        without "* ENABLED" (nextcloud/mail#3401, jstedfast/MailKit#1871),
        and its QRESYNC misbehaves (Foundry376/Mailspring-Sync#91). Only
        what ENABLED names is used (C3): after a lost connection the
        folder is listed in full, never with QRESYNC or CHANGEDSINCE
        (which this server refuses, as iCloud refuses extra arguments:
        jstedfast/MailKit#970), and mail from the outage comes once."""
        srv = self.server("icloud")
        srv.deliver("INBOX", "old")
        d = self.daemon(srv)
        self.wait_watching(d)
        conn = srv.wait_idling("INBOX")

        mark = d.mark()
        srv.withhold(conn)
        during = srv.deliver("INBOX", "during")["INBOX"]
        srv.drop(conn)
        self.wait_new(d, "INBOX", during, since=mark)
        srv.wait_idling("INBOX", since_conn=conn + 1)
        after = srv.deliver("INBOX", "after")["INBOX"]
        self.wait_new(d, "INBOX", after, since=mark)
        self.assertTrue(any(l.endswith("ENABLE QRESYNC") for l in srv.sent()))
        self.assertFalse(any("QRESYNC (" in l or "CHANGEDSINCE" in l for l in srv.sent()),
                         srv.describe())
        self.finish(d, srv, new={("INBOX", during), ("INBOX", after)})


class FastmailTest(ProviderTestCase):

    def test_vanished_wider_than_the_folder(self):
        """Fastmail runs Cyrus (Fastmail's blog, "IMAP upgrade - new
        features"), whose VANISHED may name UIDs the folder never held
        (N9): removing 3, 6 and 9 of 1, 2, 3, 6, 9 comes as "* VANISHED
        3:9". Each removed message is reported once, none invented; after
        a lost connection QRESYNC's VANISHED (EARLIER) reports what went
        meanwhile, once, and new mail stays new once."""
        srv = self.server("fastmail")
        for i in range(1, 10):
            srv.deliver("INBOX", f"m{i}")
        srv.expunge("INBOX", 4, 5, 7, 8)
        d = self.daemon(srv)
        self.wait_watching(d)
        conn = srv.wait_idling("INBOX")

        srv.expunge("INBOX", 3, 6, 9)
        for uid in (3, 6, 9):
            d.wait_for(is_event("removed", folder="INBOX", uid=uid), timeout=EVENT_TIMEOUT)
        first = srv.deliver("INBOX", "first")["INBOX"]
        self.wait_new(d, "INBOX", first)

        srv.wait_until(lambda s: conn in s.idling("INBOX"), what="INBOX idling again")
        mark = d.mark()
        srv.withhold(conn)
        srv.expunge("INBOX", 2)
        during = srv.deliver("INBOX", "during")["INBOX"]
        srv.drop(conn)
        self.wait_new(d, "INBOX", during, since=mark)
        d.wait_for(is_event("removed", folder="INBOX", uid=2), timeout=EVENT_TIMEOUT,
                   since=mark)
        again = srv.wait_idling("INBOX", since_conn=conn + 1)
        self.assertTrue(any(re.search(r"EXAMINE INBOX \(QRESYNC \(\d+ \d+\)\)", l)
                            for l in srv.sent(again)), srv.describe())
        after = srv.deliver("INBOX", "after")["INBOX"]
        self.wait_new(d, "INBOX", after, since=mark)
        self.finish(d, srv, new={("INBOX", first), ("INBOX", during), ("INBOX", after)},
                    removed={("INBOX", 2), ("INBOX", 3), ("INBOX", 6), ("INBOX", 9)})


if __name__ == "__main__":
    unittest.main()
