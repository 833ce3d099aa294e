# SPDX-License-Identifier: MIT
"""Desktop notifications against real notification servers under Xvfb on a
private session bus: dunst (read back with dunstctl), xfce4-notifyd (its
popup windows) and notification-daemon (the notifications it holds, from
its own answers on the bus); calls watched with dbus-monitor, actions
picked as a user does (dunst's commands, a click on the popup).

A class runs against the servers its `servers` names, once per server, in
the pass that IMAPWATCH_TEST_NOTIFY_SERVER selects (load_tests; ctest:
integration/notify for dunst, integration-xfce4-notifyd/notify and
integration-notification-daemon/notify): the classes about popups,
actions, replacing and withdrawing run against all three; those about the
daemon's own decisions (which folders notify, a hung server, catch-up) run
against dunst alone; a server's own ways run against that server.

Other devices are simulated with doveadm. Waits are bounded waits on the
daemon's output, on the server's answers or on bus traffic, never sleeps.
"""

import json
import os
import queue
import subprocess
import threading
import shutil
import signal
import statistics
import tempfile
import time
import unittest

import imapwatch_harness as h
from fault_proxy import FaultProxy
from imapwatch_harness import is_account_state, is_event

CONNECT_TIMEOUT = 20.0
EVENT_TIMEOUT = 10.0
POPUP_TIMEOUT = 10.0

# One server for the module's tests, started before the first.
dovecot = h.Dovecot()
setUpModule = dovecot.start
tearDownModule = dovecot.stop


def account(user, folders=("INBOX",), **extra):
    keys = {
        "host": "localhost",
        "port": dovecot.imaps_port,
        "username": user,
        "password": dovecot.users[user],
        "folders": list(folders),
        "tls_ca_file": h.certs().ca,
    }
    keys.update(extra)
    return keys


def thread_names(pid):
    names = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                names.append(f.read().strip())
        except OSError:
            pass
    return names


class NotifyTestCase(unittest.TestCase):
    maxDiff = None
    # The notification servers the class runs against (load_tests); the
    # first is its server when run by name in another server's pass.
    servers = ("dunst",)

    @classmethod
    def server(cls):
        return h.NOTIFY_SERVER if h.NOTIFY_SERVER in cls.servers else cls.servers[0]

    def desktop(self, start_server=True, **kwargs):
        d = h.Desktop(server=self.server(), start_server=start_server, **kwargs)
        d.start()
        self.addCleanup(d.stop)
        return d

    def monitor(self, desktop):
        m = h.BusMonitor(desktop.address)
        self.addCleanup(m.stop)
        return m

    def daemon(self, desktop, accounts, env=None, args=(), **daemon_keys):
        keys = {"notifications": True}
        keys.update(daemon_keys)
        d = h.Daemon(accounts, daemon=keys, env=dict(desktop.env, **(env or {})), args=args)
        d.start()
        self.addCleanup(d.kill)
        for name in accounts:
            d.wait_for(is_account_state(name, "idle"), timeout=CONNECT_TIMEOUT)
        return d

    def deliver(self, user, subject="Hello", folder="INBOX", **kwargs):
        raw, message_id = h.make_message(subject=subject, **kwargs)
        return dovecot.deliver(user, folder, raw), message_id


class SingleMessageTest(NotifyTestCase):
    servers = h.NOTIFY_SERVERS

    def test_one_message_one_notification(self):
        desk = self.desktop()
        # What the README's table of tested servers says of it.
        self.assertEqual(desk.capabilities(), h.SERVER_CAPABILITIES[desk.server])
        mon = self.monitor(desk)
        dovecot.create_folder("user1", "Lists")
        d = self.daemon(desk, {"work": account("user1", ["INBOX", "Lists"])}, args=["-v"])
        self.assertIn("notifier", thread_names(d.proc.pid))

        uid, _ = self.deliver("user1", "Lunch today?", from_name="Alice Example",
                              from_addr="alice@example.com")
        d.wait_for(is_event("new", uid=uid, folder="INBOX"), timeout=EVENT_TIMEOUT)
        desk.wait_displayed(1)
        [call] = mon.wait_notifies(1)
        self.assertEqual(call["app_name"], "imapwatch")
        self.assertEqual(call["icon"], "mail-unread")
        self.assertEqual(call["summary"], "Alice Example")
        # Two folders are watched: the body says where.
        self.assertEqual(call["body"], "Lunch today?\nwork/INBOX")
        self.assertEqual(call["hints"]["category"], "email.arrived")
        self.assertEqual(call["hints"]["desktop-entry"], "imapwatchd")
        self.assertEqual(call["hints"]["sound-name"], "message-new-email")
        # Every tested server advertises "actions".
        self.assertEqual(call["actions"], {"default": "Open", "mark-read": "Mark as read"})
        # None of them plays the sound (notification-daemon says it does,
        # and has no code for it): imapwatch plays it.
        d.wait_log("notification server: actions yes, body markup yes, sound no",
                   timeout=EVENT_TIMEOUT)
        d.wait_log("playing sound message-new-email (the notification server plays none)",
                   timeout=EVENT_TIMEOUT)
        if desk.server != "dunst":
            # No do-not-disturb the daemon can follow: neither dunst's pause
            # nor the Inhibited property (spec 1.3).
            d.wait_log("no org.dunstproject.cmd0 paused from the notification server",
                       timeout=EVENT_TIMEOUT)
            d.wait_log("no org.freedesktop.Notifications Inhibited from the notification "
                       "server", timeout=EVENT_TIMEOUT)

        if desk.server == "dunst":
            # What dunst shows: its history.
            desk.close_all()
            [entry] = desk.history()
            self.assertEqual(entry["appname"], "imapwatch")
            self.assertEqual(entry["summary"], "Alice Example")
            self.assertEqual(entry["body"], "Lunch today?\nwork/INBOX")
            self.assertEqual(entry["category"], "email.arrived")
        d.stop()

    def test_sender_only_without_sound(self):
        desk = self.desktop()
        mon = self.monitor(desk)
        d = self.daemon(desk, {"work": account("user2")}, notification_content="sender",
                        notification_sound=False)
        uid, _ = self.deliver("user2", "Salary review", from_name="Boss")
        d.wait_for(is_event("new", uid=uid), timeout=EVENT_TIMEOUT)
        desk.wait_displayed(1)
        [call] = mon.wait_notifies(1)
        self.assertEqual(call["summary"], "Boss")
        self.assertEqual(call["body"], "New message")
        self.assertNotIn("Salary", call["body"])
        self.assertNotIn("sound-name", call["hints"])
        d.stop()


class BurstTest(NotifyTestCase):
    servers = h.NOTIFY_SERVERS

    def test_burst_of_ten_updates_one_popup(self):
        desk = self.desktop()
        mon = self.monitor(desk)
        d = self.daemon(desk, {"work": account("user3")}, notify_max=3)
        most = 0
        uids = []
        for i in range(10):
            uid, _ = self.deliver("user3", f"burst {i}")
            uids.append(uid)
            most = max(most, desk.displayed())
        for uid in uids:
            d.wait_for(is_event("new", uid=uid), timeout=EVENT_TIMEOUT)
        desk.wait_until(
            lambda: any(c["summary"] == "10 new messages in work/INBOX"
                        for c in mon.notifies()),
            what="the summary of ten messages")
        desk.wait_displayed(1)
        most = max(most, desk.displayed())
        self.assertLessEqual(most, 4)
        calls = mon.notifies()
        # Each of the first three got its own popup, the rest one in place.
        fresh = [c for c in calls if c["replaces_id"] == 0]
        self.assertLessEqual(len(fresh), 4, calls)
        last = calls[-1]
        self.assertEqual(last["summary"], "10 new messages in work/INBOX")
        self.assertEqual(last["body"], "burst 9\nburst 8\nburst 7")
        self.assertEqual(last["actions"]["mark-read"], "Mark all as read")
        d.stop()


class WithdrawTest(NotifyTestCase):
    servers = h.NOTIFY_SERVERS

    def test_seen_elsewhere_closes_popup(self):
        desk = self.desktop()
        mon = self.monitor(desk)
        d = self.daemon(desk, {"work": account("user4")}, notify_max=2)
        uid, _ = self.deliver("user4", "read me on the phone")
        d.wait_for(is_event("new", uid=uid), timeout=EVENT_TIMEOUT)
        desk.wait_displayed(1)
        dovecot.flags_add("user4", "INBOX", uid, "\\Seen")
        d.wait_for(is_event("changed", uid=uid, seen=True), timeout=EVENT_TIMEOUT)
        desk.wait_displayed(0)

        # A removed message withdraws too.
        uid, _ = self.deliver("user4", "deleted on the phone")
        d.wait_for(is_event("new", uid=uid), timeout=EVENT_TIMEOUT)
        desk.wait_displayed(1)
        dovecot.expunge("user4", "INBOX", uid)
        d.wait_for(is_event("removed", uid=uid), timeout=EVENT_TIMEOUT)
        desk.wait_displayed(0)
        d.stop()

    def test_summary_shrinks_then_closes(self):
        desk = self.desktop()
        mon = self.monitor(desk)
        d = self.daemon(desk, {"work": account("user5")}, notify_max=2)
        uids = [self.deliver("user5", f"m{i}")[0] for i in range(4)]
        for uid in uids:
            d.wait_for(is_event("new", uid=uid), timeout=EVENT_TIMEOUT)
        desk.wait_until(lambda: mon.notifies() and
                        mon.notifies()[-1]["summary"] == "4 new messages in work/INBOX",
                        what="summary of four")
        desk.wait_displayed(1)

        dovecot.flags_add("user5", "INBOX", uids[0], "\\Seen")
        desk.wait_until(lambda: mon.notifies()[-1]["summary"] ==
                        "3 new messages in work/INBOX", what="summary of three")
        update = mon.notifies()[-1]
        self.assertNotEqual(update["replaces_id"], 0)
        # A withdrawal is not news: no sound.
        self.assertNotIn("sound-name", update["hints"])
        self.assertEqual(desk.displayed(), 1)

        for uid in uids[1:]:
            dovecot.flags_add("user5", "INBOX", uid, "\\Seen")
        desk.wait_displayed(0)
        d.stop()


class TextSafetyTest(NotifyTestCase):
    servers = h.NOTIFY_SERVERS

    def test_markup_escaped_bidi_stripped_long_subject_cut(self):
        desk = self.desktop()
        mon = self.monitor(desk)
        d = self.daemon(desk, {"work": account("user6")})
        subject = "<b>Bold</b> & <a href='x'>link</a> \u202egnp.exe\u202c"
        uid, _ = self.deliver("user6", subject, subject_encoding="B",
                              from_name="<i>Eve</i> \u2066Mallory\u2069", from_encoding="B")
        d.wait_for(is_event("new", uid=uid), timeout=EVENT_TIMEOUT)
        desk.wait_displayed(1)
        [call] = mon.wait_notifies(1)
        # Every tested server renders body markup: our body arrives escaped.
        self.assertEqual(call["body"],
                         "&lt;b&gt;Bold&lt;/b&gt; &amp; &lt;a href=&apos;x&apos;&gt;link&lt;/a&gt; "
                         "gnp.exe")
        # The summary is plain text by the specification.
        self.assertEqual(call["summary"], "<i>Eve</i> Mallory")
        for text in (call["body"], call["summary"]):
            for ch in "\u202e\u202c\u2066\u2069":
                self.assertNotIn(ch, text)
        desk.close_all()
        if desk.server == "dunst":
            [entry] = desk.history()
            # What dunst shows: the tags as text, no link, no reversed text.
            self.assertIn("&lt;b&gt;Bold", entry["message"])
            self.assertNotIn("\u202e", entry["message"])

        long_subject = "Quarterly report " + "é" * 300
        uid, _ = self.deliver("user6", long_subject, subject_encoding="B")
        d.wait_for(is_event("new", uid=uid), timeout=EVENT_TIMEOUT)
        desk.wait_displayed(1)
        body = mon.wait_notifies(2)[-1]["body"]
        self.assertEqual(len(body), 100)
        self.assertTrue(body.endswith("…"))
        d.stop()


class ActionTest(NotifyTestCase):
    """A user picks an action: the server says ActionInvoked, the daemon
    acts. dunst: its commands; xfce4-notifyd: a click on the action's
    button (a click elsewhere dismisses the popup); notification-daemon: a
    click on the bubble ("default") or on its button."""

    servers = h.NOTIFY_SERVERS

    def test_default_action_runs_open_command(self):
        desk = self.desktop()
        out = desk.path("opened")
        script = desk.path("open-mail")
        with open(script, "w") as f:
            f.write(f"#!/bin/sh\nprintf '%s\\n' \"$@\" > {out}.tmp && mv {out}.tmp {out}\n")
        os.chmod(script, 0o755)
        dovecot.create_folder("user7", "Team Talk")
        d = self.daemon(desk, {"my work": account(
            "user7", ["Team Talk"], open_command=f"{script} %a '%f' %u %m")})
        uid, message_id = self.deliver("user7", "click me", folder="Team Talk")
        d.wait_for(is_event("new", uid=uid), timeout=EVENT_TIMEOUT)
        desk.wait_displayed(1)
        desk.invoke("default")
        desk.wait_until(lambda: os.path.exists(out), what="open_command to run")
        with open(out) as f:
            args = f.read().split("\n")[:-1]
        # Each value one argument, spaces and all, no shell in between.
        self.assertEqual(args, ["my work", "Team Talk", str(uid), message_id])
        d.stop()

    def test_mark_as_read_reaches_the_server(self):
        desk = self.desktop()
        d = self.daemon(desk, {"work": account("user8")})
        uid, _ = self.deliver("user8", "mark me")
        d.wait_for(is_event("new", uid=uid), timeout=EVENT_TIMEOUT)
        desk.wait_displayed(1)
        desk.invoke("mark-read")
        desk.wait_until(
            lambda: "\\Seen" in dovecot.state("user8", "INBOX").get(uid, ()) or None,
            timeout=EVENT_TIMEOUT, what="\\Seen set on the server")
        d.wait_for(is_event("changed", uid=uid, seen=True), timeout=EVENT_TIMEOUT)
        desk.wait_displayed(0)
        d.stop()


class ServerStartTest(NotifyTestCase):
    servers = h.NOTIFY_SERVERS

    def test_server_appears_later_and_restarts(self):
        desk = self.desktop(start_server=False)
        d = self.daemon(desk, {"work": account("user1")})
        uid, _ = self.deliver("user1", "before the server")
        d.wait_for(is_event("new", uid=uid), timeout=EVENT_TIMEOUT)
        # Autostart order: the server comes after us. The waiting popup
        # shows as soon as the name has an owner.
        desk.start_server()
        desk.wait_displayed(1)

        # The server restarts: its popups are gone; new mail shows again.
        desk.stop_server()
        desk.start_server()
        uid, _ = self.deliver("user1", "after the restart")
        d.wait_for(is_event("new", uid=uid), timeout=EVENT_TIMEOUT)
        desk.wait_displayed(1)
        d.stop()


class ServerTest(NotifyTestCase):
    def test_hung_server_does_not_delay_events(self):
        desk = self.desktop()
        d = self.daemon(desk, {"work": account("user2")})

        def latencies(n):
            out = []
            for i in range(n):
                raw, _ = h.make_message(subject=f"latency {i}")
                t0 = time.monotonic()
                uid = dovecot.deliver("user2", "INBOX", raw)
                d.wait_for(is_event("new", uid=uid), timeout=EVENT_TIMEOUT)
                out.append(time.monotonic() - t0)
            return out

        normal = latencies(5)
        desk.close_all()
        # D-Bus listeners and the CLI must not wait for the notifier either.
        cli = os.environ["IMAPWATCH"]
        cli_env = dict(os.environ, **desk.env)
        monitor = subprocess.Popen([cli, "monitor", "--json"], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, env=cli_env, text=True)
        self.addCleanup(monitor.wait, 5)
        self.addCleanup(monitor.terminate)
        monitor.stderr.readline()  # "monitoring ...": subscribed
        signalled = queue.Queue()
        threading.Thread(target=lambda: [signalled.put(json.loads(line))
                                         for line in monitor.stdout], daemon=True).start()
        # A server that takes the calls and never answers: dunst, stopped.
        # The bus still accepts every call for it.
        os.kill(desk.server_proc.pid, signal.SIGSTOP)
        try:
            hung = latencies(10)
            t0 = time.monotonic()
            status = subprocess.run([cli, "status", "--json"], capture_output=True, text=True,
                                    env=cli_env, timeout=10)
            status_time = time.monotonic() - t0
            # Every delivery during the hang reached the D-Bus listener.
            seen = set()
            deadline = time.monotonic() + EVENT_TIMEOUT
            while len(seen) < 10 and time.monotonic() < deadline:
                try:
                    ev = signalled.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if ev["event"] == "new" and ev["subject"].startswith("latency "):
                    seen.add(ev["subject"])
        finally:
            os.kill(desk.server_proc.pid, signal.SIGCONT)
        self.assertEqual(status.returncode, 0, status.stderr)
        self.assertEqual(json.loads(status.stdout)["accounts"][0]["state"], "idle")
        self.assertLess(status_time, 2.0)
        self.assertGreaterEqual(len(seen), 10, seen)
        print(f"\ndelivery -> event: normal median {statistics.median(normal) * 1000:.0f} ms, "
              f"server hung median {statistics.median(hung) * 1000:.0f} ms, "
              f"max {max(hung) * 1000:.0f} ms")
        self.assertLess(statistics.median(hung), statistics.median(normal) + 0.5)
        self.assertLess(max(hung), 3.0)
        # The server wakes up: what waited is shown, merged.
        desk.wait_until(lambda: desk.displayed() >= 1, timeout=40,
                        what="popups after the server resumed")
        self.assertLessEqual(desk.displayed(), 4)
        d.stop()

    def test_hung_server_shutdown_within_two_seconds(self):
        desk = self.desktop()
        d = self.daemon(desk, {"work": account("user3")})
        uid, _ = self.deliver("user3", "stuck")
        d.wait_for(is_event("new", uid=uid), timeout=EVENT_TIMEOUT)
        desk.wait_displayed(1)
        os.kill(desk.server_proc.pid, signal.SIGSTOP)
        self.addCleanup(os.kill, desk.server_proc.pid, signal.SIGCONT)
        uid, _ = self.deliver("user3", "stuck too")
        d.wait_for(is_event("new", uid=uid), timeout=EVENT_TIMEOUT)
        d.stop(timeout=2.0)


class ControlsTest(NotifyTestCase):
    def test_notify_false_and_notify_folders(self):
        desk = self.desktop()
        mon = self.monitor(desk)
        dovecot.create_folder("user4", "Lists")
        d = self.daemon(desk, {
            "quiet": account("user5", notify=False),
            "loud": account("user4", ["INBOX", "Lists"], notify_folders="INBOX"),
        })
        a, _ = self.deliver("user5", "from the quiet account")
        d.wait_for(is_event("new", account="quiet", uid=a), timeout=EVENT_TIMEOUT)
        b, _ = self.deliver("user4", "from a muted folder", folder="Lists")
        d.wait_for(is_event("new", account="loud", folder="Lists", uid=b),
                   timeout=EVENT_TIMEOUT)
        c, _ = self.deliver("user4", "this one shows")
        d.wait_for(is_event("new", account="loud", folder="INBOX", uid=c),
                   timeout=EVENT_TIMEOUT)
        desk.wait_displayed(1)
        # Operations run in order: the earlier ones would be shown by now.
        [call] = mon.wait_notifies(1)
        self.assertEqual(call["body"], "this one shows\nloud/INBOX")
        d.stop()

    def test_special_use_folders_are_quiet_unless_listed(self):
        """RFC 6154: a folder the server marks \\Junk (or \\Trash, \\Sent,
        \\Drafts) never notifies unless notify_folders names it."""
        with h.Dovecot(special_use={"Junk": "\\Junk"}, name="special-use") as server:
            server.create_folder("user1", "Junk")

            def acct(**extra):
                keys = {"host": "localhost", "port": server.imaps_port, "username": "user1",
                        "password": server.users["user1"], "folders": ["INBOX", "Junk"],
                        "tls_ca_file": h.certs().ca}
                keys.update(extra)
                return keys

            desk = self.desktop()
            mon = self.monitor(desk)
            d = self.daemon(desk, {"work": acct()})
            junk = server.deliver("user1", "Junk", h.make_message(subject="spam offer")[0])
            d.wait_for(is_event("new", folder="Junk", uid=junk), timeout=EVENT_TIMEOUT)
            inbox = server.deliver("user1", "INBOX", h.make_message(subject="real mail")[0])
            d.wait_for(is_event("new", folder="INBOX", uid=inbox), timeout=EVENT_TIMEOUT)
            desk.wait_displayed(1)
            [call] = mon.wait_notifies(1)
            self.assertEqual(call["body"], "real mail\nwork/INBOX")
            d.stop()

            # Listed explicitly: it notifies.
            d = self.daemon(desk, {"work": acct(notify_folders=["INBOX", "Junk"])})
            since = len(mon.notifies())
            junk = server.deliver("user1", "Junk", h.make_message(subject="wanted junk")[0])
            d.wait_for(is_event("new", folder="Junk", uid=junk), timeout=EVENT_TIMEOUT)
            calls = mon.wait_notifies(since + 1)
            self.assertEqual(calls[since]["body"], "wanted junk\nwork/Junk")
            d.stop()

    def test_notifications_false_starts_no_thread(self):
        desk = self.desktop()
        mon = self.monitor(desk)
        d = self.daemon(desk, {"work": account("user6")}, notifications=False)
        self.assertNotIn("notifier", thread_names(d.proc.pid))
        uid, _ = self.deliver("user6", "nobody shows this")
        d.wait_for(is_event("new", uid=uid), timeout=EVENT_TIMEOUT)
        d.stop()
        self.assertEqual(mon.notifies(), [])
        self.assertEqual(desk.displayed(), 0)


class ResetTest(NotifyTestCase):
    def test_reset_withdraws_and_says_so_once(self):
        """A folder recreated by another client: the popup of its old
        message goes, one popup gives the counts, none per message."""
        desk = self.desktop()
        mon = self.monitor(desk)
        dovecot.create_folder("user2", "Scratch")
        proxy = FaultProxy("127.0.0.1", dovecot.imaps_port)
        proxy.start()
        self.addCleanup(proxy.stop)
        d = self.daemon(desk, {"work": account("user2", ["Scratch"], port=proxy.port)})
        uid, _ = self.deliver("user2", "soon void", folder="Scratch")
        d.wait_for(is_event("new", uid=uid), timeout=EVENT_TIMEOUT)
        desk.wait_displayed(1)
        before = len(mon.wait_notifies(1))
        since = d.mark()

        dovecot.recreate_folder("user2", "Scratch", [f"refilled {i}" for i in range(3)], proxy)
        d.wait_for(is_event("reset"), timeout=30, since=since)
        [call] = mon.wait_notifies(before + 1)[before:]
        self.assertEqual(call["summary"], "work/Scratch was reset by the server")
        self.assertEqual(call["body"], "It now holds 3 messages, 3 unread")
        self.assertEqual(call["hints"]["category"], "email")
        self.assertNotIn("sound-name", call["hints"])
        self.assertEqual(call["actions"], {})
        closes = [m for m in mon.collect() if m["member"] == "CloseNotification"]
        self.assertEqual(len(closes), 1)
        desk.wait_displayed(1)
        d.assert_no_event(is_event("new"), within=1.0, since=since)
        self.assertEqual(len(mon.notifies()), before + 1)
        desk.close_all()
        self.assertEqual(desk.history()[0]["summary"], "work/Scratch was reset by the server")
        d.stop()


class StartupTest(NotifyTestCase):
    def test_catchup_summary(self):
        state = tempfile.mkdtemp(prefix="imapwatch-state-")
        self.addCleanup(shutil.rmtree, state, True)
        desk = self.desktop()
        mon = self.monitor(desk)
        first = self.daemon(desk, {"work": account("user7")}, env={"XDG_STATE_HOME": state},
                            notifications=False)
        first.stop()
        uids = [self.deliver("user7", f"while away {i}")[0] for i in range(3)]

        d = self.daemon(desk, {"work": account("user7")}, env={"XDG_STATE_HOME": state})
        for uid in uids:
            ev = d.wait_for(is_event("new", uid=uid), timeout=EVENT_TIMEOUT)
            self.assertIs(ev.get("catchup"), True)
        desk.wait_until(lambda: mon.notifies() and mon.notifies()[-1]["summary"] ==
                        "3 new messages since imapwatch last ran", what="catch-up summary")
        desk.wait_displayed(1)
        fresh = [c for c in mon.notifies() if c["replaces_id"] == 0]
        self.assertEqual(len(fresh), 1)
        d.stop()


class WordingTest(NotifyTestCase):
    """What popups about no single message say: an account's error in
    plain words with a way to try again, and the catch-up of a folder a
    reload adds, named."""

    def test_account_error_reads_plainly_and_tries_again(self):
        desk = self.desktop()
        mon = self.monitor(desk)
        # Dovecot refuses the name, with its timing after the reason: the
        # timing is gone from the state's detail (D-Bus, events, status)
        # as from the popup.
        d = h.Daemon({"work": account("user3", ["Foo/"])},
                     daemon={"notifications": True}, env=desk.env)
        d.start()
        self.addCleanup(d.kill)
        ev = d.wait_for(is_account_state("work", "error"), timeout=CONNECT_TIMEOUT)
        self.assertTrue(ev["detail"].endswith("Ends with hierarchy separator."), ev)
        self.assertNotIn("secs", ev["detail"])
        [call] = mon.wait_notifies(1)
        self.assertEqual(call["summary"], "Mail account work needs attention")
        # dunst renders body markup: the quotes come escaped.
        self.assertEqual(call["body"], "Cannot open folder &apos;Foo/&apos;: Invalid mailbox "
                                       "name: Ends with hierarchy separator.")
        self.assertEqual(call["icon"], "dialog-error")
        self.assertEqual(call["hints"]["category"], "network.error")
        self.assertEqual(call["actions"], {"retry": "Try again"})
        desk.wait_displayed(1)

        # "Try again" from dunst's context menu: the account tries at once
        # and, failing again, says so again.
        since = d.mark()
        desk.choose("Try again")
        desk.dunstctl_out("context")
        d.wait_for(is_account_state("work", "connecting"), timeout=EVENT_TIMEOUT, since=since)
        d.wait_for(is_account_state("work", "error"), timeout=CONNECT_TIMEOUT, since=since)
        again = mon.wait_notifies(2)[1]
        self.assertEqual(again["summary"], call["summary"])
        self.assertEqual(again["body"], call["body"])
        self.assertEqual(again["actions"], {"retry": "Try again"})
        desk.wait_displayed(1)
        # Asked once, answered once: no more popups without asking.
        since = d.mark()
        proc = subprocess.run([h.program("IMAPWATCH"), "check", "work"],
                              env=desk.child_env(), capture_output=True, timeout=10)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        d.wait_for(is_account_state("work", "error"), timeout=CONNECT_TIMEOUT, since=since)
        self.assertEqual(len(mon.notifies()), 2)
        d.stop()

    def test_catchup_after_reload_names_the_folder(self):
        state = tempfile.mkdtemp(prefix="imapwatch-state-")
        self.addCleanup(shutil.rmtree, state, True)
        desk = self.desktop()
        mon = self.monitor(desk)
        dovecot.create_folder("user5", "Digest")
        d = self.daemon(desk, {"work": account("user5", ["INBOX", "Digest"])},
                        env={"XDG_STATE_HOME": state})
        # Digest's place is kept in the state file once mail moved it.
        uid, _ = self.deliver("user5", "watched", folder="Digest")
        d.wait_for(is_event("new", uid=uid, folder="Digest"), timeout=EVENT_TIMEOUT)

        def reload(folders):
            since = d.mark()
            d.accounts["work"]["folders"] = folders
            with open(d.config_path, "w", encoding="utf-8") as f:
                f.write(d.config_text())
            d.proc.send_signal(signal.SIGHUP)
            return since

        since = reload(["INBOX"])
        d.wait_for(is_account_state("work", "idle"), timeout=CONNECT_TIMEOUT, since=since)
        uids = [self.deliver("user5", f"while unwatched {i}", folder="Digest")[0]
                for i in range(2)]
        before = len(mon.notifies())
        since = reload(["INBOX", "Digest"])
        for uid in uids:
            ev = d.wait_for(is_event("new", uid=uid, folder="Digest"), timeout=EVENT_TIMEOUT,
                            since=since)
            self.assertIs(ev.get("catchup"), True)
        desk.wait_until(lambda: mon.notifies()[-1]["summary"] ==
                        "2 new messages in work/Digest (newly watched)",
                        what="the newly watched folder's summary")
        calls = mon.notifies()[before:]
        self.assertEqual(calls[-1]["body"], "while unwatched 1\nwhile unwatched 0")
        self.assertEqual(calls[-1]["icon"], "mail-unread")
        self.assertFalse([c for c in calls if "last ran" in c["summary"]], calls)
        d.stop()

    def test_pattern_popups_say_where(self):
        """One pattern may watch many folders: the popup names its folder
        as with two folders named."""
        desk = self.desktop()
        mon = self.monitor(desk)
        d = self.daemon(desk, {"work": account("user6", ["*"])})
        uid, _ = self.deliver("user6", "somewhere")
        d.wait_for(is_event("new", uid=uid), timeout=EVENT_TIMEOUT)
        [call] = mon.wait_notifies(1)
        self.assertEqual(call["body"], "somewhere\nwork/INBOX")
        d.stop()


class PlainTextTest(NotifyTestCase):
    """A server without "body-markup" (dunst with `markup = no`) gets the
    body as plain text, as written: nothing escaped."""

    def test_body_is_plain_text_without_markup(self):
        desk = self.desktop(markup=False)
        self.assertNotIn("body-markup", desk.capabilities())
        mon = self.monitor(desk)
        d = self.daemon(desk, {"work": account("user3")}, args=["-v"])
        uid, _ = self.deliver("user3", "<b>Tom</b> & Jerry's", subject_encoding="B")
        d.wait_for(is_event("new", uid=uid), timeout=EVENT_TIMEOUT)
        [call] = mon.wait_notifies(1)
        self.assertEqual(call["body"], "<b>Tom</b> & Jerry's")
        d.wait_log("notification server: actions yes, body markup no", timeout=EVENT_TIMEOUT)
        desk.close_all()
        [entry] = desk.history()
        self.assertEqual(entry["body"], "<b>Tom</b> & Jerry's")
        d.stop()


class XfceDoNotDisturbTest(NotifyTestCase):
    """xfce4-notifyd's do-not-disturb is its own setting, which imapwatch
    cannot see: the popup is sent as usual and xfce4-notifyd does not show
    it; when it ends, nothing is summed up."""

    servers = ("xfce4-notifyd",)

    def test_popups_go_to_a_server_that_hides_them(self):
        desk = self.desktop()
        mon = self.monitor(desk)
        d = self.daemon(desk, {"work": account("user5")})
        desk.xfconf_set("/do-not-disturb", "bool", "true")
        uid, _ = self.deliver("user5", "while xfce is quiet")
        d.wait_for(is_event("new", uid=uid), timeout=EVENT_TIMEOUT)
        [call] = mon.wait_notifies(1)
        self.assertEqual(call["body"], "while xfce is quiet")
        # Held, not shown: xfce4-notifyd maps a popup before its reply
        # reaches the monitor.
        desk.wait_until(lambda: len(desk.held()) == 1, what="the popup held")
        self.assertEqual(desk.displayed(), 0)
        desk.xfconf_set("/do-not-disturb", "bool", "false")
        uid, _ = self.deliver("user5", "after")
        d.wait_for(is_event("new", uid=uid), timeout=EVENT_TIMEOUT)
        desk.wait_until(lambda: len(desk.held()) == 2, what="both popups held")
        # One window: the second's; the first never shows.
        self.assertEqual(desk.displayed(), 1)
        self.assertEqual([c["body"] for c in mon.notifies()], ["while xfce is quiet", "after"])
        d.stop()


class FullServerTest(NotifyTestCase):
    """notification-daemon holds at most 20 notifications — of every
    application, each until it is closed — and answers the next Notify
    with MaxNotificationsExceeded. The refused popup is dropped and said
    once in the log; what comes after it (closing, updating, new popups)
    is not held up behind it."""

    servers = ("notification-daemon",)

    def test_refused_popup_does_not_hold_up_the_rest(self):
        desk = self.desktop()
        mon = self.monitor(desk)
        d = self.daemon(desk, {"work": account("user4")})
        first, _ = self.deliver("user4", "first")
        d.wait_for(is_event("new", uid=first), timeout=EVENT_TIMEOUT)
        desk.wait_displayed(1)
        # Another application's notifications fill the server up.
        for i in range(20):
            desk.notify(f"Chat message {i}", app_name="chat")
        desk.wait_displayed(21)

        mark = d.log_mark()
        second, _ = self.deliver("user4", "second")
        d.wait_for(is_event("new", uid=second), timeout=EVENT_TIMEOUT)
        desk.calls.wait_for(lambda m: m["kind"] == "error"
                            and "MaxNotificationsExceeded" in m["text"])
        d.wait_log("the notification server refused a notification: Exceeded maximum number "
                   "of notifications", timeout=EVENT_TIMEOUT, since=mark)
        # The first, read elsewhere, is withdrawn at once.
        dovecot.flags_add("user4", "INBOX", first, "\\Seen")
        d.wait_for(is_event("changed", uid=first, seen=True), timeout=EVENT_TIMEOUT)
        desk.wait_displayed(20)
        # With room again, the next message shows.
        third, _ = self.deliver("user4", "third")
        d.wait_for(is_event("new", uid=third), timeout=EVENT_TIMEOUT)
        desk.wait_displayed(21)
        self.assertEqual([c["body"] for c in mon.notifies() if c["app_name"] == "imapwatch"],
                         ["first", "second", "third"])
        # Refused once: not asked again.
        self.assertEqual(len([m for m in desk.calls.collect() if m["kind"] == "error"
                              and "MaxNotificationsExceeded" in m["text"]]), 1)
        d.stop()


def load_tests(loader, tests, pattern):
    """The classes whose `servers` name this pass's server."""
    suite = unittest.TestSuite()
    for name, cls in sorted(globals().items()):
        if (isinstance(cls, type) and issubclass(cls, NotifyTestCase)
                and h.NOTIFY_SERVER in cls.servers):
            suite.addTests(loader.loadTestsFromTestCase(cls))
    return suite


if __name__ == "__main__":
    unittest.main()
