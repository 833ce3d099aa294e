# SPDX-License-Identifier: MIT
"""Rules and quiet time against real notification servers under Xvfb on a
private session bus, read back with dbus-monitor and the server (dunstctl,
xfce4-notifyd's windows, notification-daemon's answers on the bus).

- [rule] groups: a muted folder gets no popup while INBOX does, a sender's
  rule sets the urgency and the sound (a theme name or a file), content =
  count hides the subject, a burst's summary takes the strongest urgency;
  the sound is played by libcanberra (the servers play none) into a real ALSA
  sink: the `file` plugin writing what it is given to a file;
- pause (the command, D-Bus Pause and Resume, a timed pause ending by
  itself), quiet_hours covering now, and dunst paused (its do-not-disturb):
  no popup and no sound meanwhile, events and D-Bus signals unchanged, one
  summary popup afterwards of what is still unread.

"No popup meanwhile" is checked without waiting for nothing to happen: the
notifier hands popups to the server in order, so a popup from the quiet
time would reach the server before the summary that ends it; the Notify
calls it received are compared whole once the summary is there.

The rules run against every tested server (urgency and sound hints; none
plays sounds, so imapwatch plays them everywhere), in the pass
IMAPWATCH_TEST_NOTIFY_SERVER selects (load_tests; ctest:
integration-SERVER/quiet); the rest against dunst: what the daemon holds
back and sums up is the same popup for every server, and the other two
servers offer no do-not-disturb the daemon can see.
"""

import math
import os
import struct
import time
import types
import unittest
import wave

import bus_harness as b
import imapwatch_harness as h
from imapwatch_harness import is_account_state, is_event

CONNECT_TIMEOUT = 20.0
EVENT_TIMEOUT = 10.0

dovecot = h.Dovecot()
setUpModule = dovecot.start
tearDownModule = dovecot.stop

# ALSA's file plugin: the PCM "default" writes every frame it is given to
# a file (raw) and passes it on to the null PCM, which needs no hardware.
ASOUND_CONF = """pcm.!default {{
    type file
    slave.pcm "discard"
    file "{path}"
    format "raw"
}}
pcm.discard {{
    type null
}}
"""


def account(user, folders=("INBOX",)):
    return {
        "host": "localhost",
        "port": dovecot.imaps_port,
        "username": user,
        "password": dovecot.users[user],
        "folders": list(folders),
        "tls_ca_file": h.certs().ca,
    }


def config_text(accounts, daemon=None, rules=""):
    lines = ["[daemon]", "notifications = true"]
    lines += [f"{k} = {v}" for k, v in (daemon or {}).items()]
    for name, keys in accounts.items():
        lines += ["", f"[account {name}]"]
        lines += [f"{k} = {h.Daemon._value(v)}" for k, v in keys.items()]
    return "\n".join(lines) + "\n" + rules


def log_since(daemon, mark):
    """The daemon's log after offset mark (Daemon.log_mark())."""
    with open(daemon.stderr_path, "rb") as f:
        f.seek(mark)
        return f.read().decode(errors="replace")


def clock(minutes):
    """HH:MM of minutes after midnight (any integer, taken mod a day)."""
    minutes %= 24 * 60
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


class QuietTestCase(unittest.TestCase):
    maxDiff = None
    # The notification servers the class runs against (load_tests); the
    # first is its server when run by name in another server's pass.
    servers = ("dunst",)

    def setUp(self):
        server = h.NOTIFY_SERVER if h.NOTIFY_SERVER in self.servers else self.servers[0]
        self.desk = h.Desktop(server=server)
        self.desk.start()
        self.addCleanup(self.desk.stop)
        self.notify = h.BusMonitor(self.desk.address)
        self.addCleanup(self.notify.stop)
        # What bus_harness's Monitor, call() and cli() need of a bus.
        self.bus = types.SimpleNamespace(address=self.desk.address,
                                         env=lambda **extra: self.desk.child_env(extra))
        self.signals = b.Monitor(self.bus).start()
        self.addCleanup(self.signals.stop)

    def daemon(self, accounts, daemon=None, rules="", env=None, args=()):
        d = h.Daemon(accounts, raw_config=config_text(accounts, daemon, rules),
                     env=dict(self.desk.env, **(env or {})), args=args)
        d.start()
        self.addCleanup(d.kill)
        for name in accounts:
            d.wait_for(is_account_state(name, "idle"), timeout=CONNECT_TIMEOUT)
        return d

    def deliver(self, user, subject, folder="INBOX", **kwargs):
        raw, _ = h.make_message(subject=subject, **kwargs)
        return dovecot.deliver(user, folder, raw)

    def cli(self, *args):
        code, out, err = b.cli(self.bus, *args)
        self.assertEqual((code, err), (0, ""), out)
        return out

    def prop(self, name):
        return b.call(self.bus, "Get", b.IFACE, name, iface="org.freedesktop.DBus.Properties")[0]

    def wait_quiet(self, want, since=0):
        """The PropertiesChanged that makes Quiet exactly `want`."""
        self.signals.wait_for("PropertiesChanged",
                              lambda a: a[0] == b.IFACE and a[1].get("Quiet") == want,
                              since=since)

    def assert_only_summary(self, summary):
        """The server got exactly one Notify call since the daemon started,
        the summary; returns it."""
        self.desk.wait_until(lambda: any(c["summary"] == summary for c in self.notify.notifies()),
                             what=f"the popup {summary!r}")
        calls = self.notify.notifies()
        self.assertEqual([c["summary"] for c in calls], [summary], calls)
        self.desk.wait_displayed(1)
        return calls[0]


class RulesTest(QuietTestCase):
    servers = h.NOTIFY_SERVERS

    def test_rules_mute_urgency_content_sound(self):
        sink = os.path.join(self.desk.dir, "sound.raw")
        asound = os.path.join(self.desk.dir, "asound.conf")
        with open(asound, "w") as f:
            f.write(ASOUND_CONF.format(path=sink))
        # A sound file of our own: 800 frames of 16-bit mono, 1600 bytes.
        alarm = os.path.join(self.desk.dir, "alarm.wav")
        with wave.open(alarm, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(8000)
            w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(i / 5)))
                                   for i in range(800)))
        dovecot.create_folder("user1", "Lists/dev")
        rules = """
[rule lists]
folder = Lists/*
notify = false

[rule boss]
from = boss@example.com
urgency = critical
sound = bell

[rule bank]
from = *@bank.example
content = count

[rule alarm]
from = alarm@example.com
sound = {alarm}
"""
        d = self.daemon({"work": account("user1", ["INBOX", "Lists/*"])},
                        rules=rules.format(alarm=alarm),
                        env={"ALSA_CONFIG_PATH": asound, "CANBERRA_DRIVER": "alsa"},
                        args=["-v"])

        # The muted folder: the event and the signal, no popup.
        since = self.signals.mark()
        uid = self.deliver("user1", "list chatter", folder="Lists/dev")
        d.wait_for(is_event("new", uid=uid, folder="Lists/dev"), timeout=EVENT_TIMEOUT)
        self.signals.wait_for("MessagesAdded",
                              lambda a: a[0][0]["folder"] == "Lists/dev", since=since)

        # INBOX, no rule: the default sound, played by us (no tested server
        # plays one).
        mark = d.log_mark()
        uid = self.deliver("user1", "Lunch?", from_name="Alice", from_addr="alice@example.com")
        d.wait_for(is_event("new", uid=uid, folder="INBOX"), timeout=EVENT_TIMEOUT)
        [call] = self.notify.wait_notifies(1)
        self.assertEqual(call["summary"], "Alice")
        self.assertEqual(call["body"], "Lunch?\nwork/INBOX")
        self.assertEqual(call["hints"]["urgency"], "1")
        self.assertEqual(call["hints"]["sound-name"], "message-new-email")
        d.wait_log("sound message-new-email played", timeout=EVENT_TIMEOUT, since=mark)
        self.assertGreater(os.path.getsize(sink), 0)

        # The boss: critical, with the rule's sound; the default one is
        # not played for it.
        os.unlink(sink)
        mark = d.log_mark()
        uid = self.deliver("user1", "See me", from_name="The Boss", from_addr="boss@example.com")
        d.wait_for(is_event("new", uid=uid), timeout=EVENT_TIMEOUT)
        call = self.notify.wait_notifies(2)[1]
        self.assertEqual(call["summary"], "The Boss")
        self.assertEqual(call["hints"]["urgency"], "2")
        self.assertEqual(call["hints"]["sound-name"], "bell")
        d.wait_log("sound bell played", timeout=EVENT_TIMEOUT, since=mark)
        self.assertGreater(os.path.getsize(sink), 0)
        log = log_since(d, mark)
        self.assertIn("rule 'boss', urgency critical, sound bell", log)
        self.assertNotIn("sound message-new-email", log)

        # The bank: how many, and where, but not the subject.
        uid = self.deliver("user1", "Your PIN is 1234", from_name="Bank",
                           from_addr="alerts@bank.example")
        d.wait_for(is_event("new", uid=uid), timeout=EVENT_TIMEOUT)
        call = self.notify.wait_notifies(3)[2]
        self.assertEqual(call["summary"], "New message")
        self.assertEqual(call["body"], "work/INBOX")
        self.assertEqual(call["hints"]["urgency"], "1")

        # The fourth in a row sums the burst up (notify_max = 3): the
        # strongest urgency in it (the boss), the sound of the news (a
        # file: the sound-file hint, and exactly its frames in the sink),
        # a line per message but the bank's.
        os.unlink(sink)
        mark = d.log_mark()
        uid = self.deliver("user1", "Fire drill", from_name="Alarm", from_addr="alarm@example.com")
        d.wait_for(is_event("new", uid=uid), timeout=EVENT_TIMEOUT)
        call = self.notify.wait_notifies(4)[3]
        self.assertEqual(call["summary"], "4 new messages in work/INBOX")
        self.assertEqual(call["body"], "Fire drill\nSee me\nLunch?")
        self.assertEqual(call["hints"]["urgency"], "2")
        self.assertEqual(call["hints"]["sound-file"], alarm)
        self.assertNotIn("sound-name", call["hints"])
        d.wait_log(f"sound {alarm} played", timeout=EVENT_TIMEOUT, since=mark)
        self.assertEqual(os.path.getsize(sink), 1600)

        # Nothing ever came of the muted folder.
        self.assertEqual([c["summary"] for c in self.notify.notifies()],
                         ["Alice", "The Boss", "New message", "4 new messages in work/INBOX"])
        self.desk.wait_displayed(1)
        d.stop()


class PauseTest(QuietTestCase):
    def test_pause_and_resume(self):
        d = self.daemon({"work": account("user2"), "home": account("user3")})
        since = self.signals.mark()
        out = self.cli("pause")
        self.assertEqual(out, "Notifications paused until 'imapwatch resume': no popups and no "
                              "sounds; mail is still watched.\n")
        # The reply came after the properties changed.
        self.assertEqual(self.prop("PausedUntil"), -1)
        self.assertEqual(self.prop("Quiet"), ["paused"])
        self.signals.wait_for("PropertiesChanged",
                              lambda a: a[1].get("PausedUntil") == -1
                              and a[1].get("Quiet") == ["paused"], since=since)
        status = self.cli("status")
        self.assertIn("Notifications held back: paused until 'imapwatch resume'\n", status)

        # Events and D-Bus signals go on.
        since = self.signals.mark()
        uids = [self.deliver("user2", f"work {i}", from_addr="a@example.com") for i in range(3)]
        home = self.deliver("user3", "home 1", from_addr="b@example.com")
        for uid in uids:
            d.wait_for(is_event("new", account="work", uid=uid), timeout=EVENT_TIMEOUT)
        d.wait_for(is_event("new", account="home", uid=home), timeout=EVENT_TIMEOUT)
        self.signals.wait_until(
            lambda s: len([m for m in self.signals.messages("MessagesAdded", since)]) == 4,
            what="four messages in MessagesAdded")
        # One is read on another device meanwhile: it is not summed up.
        dovecot.flags_add("user2", "INBOX", uids[0], "\\Seen")
        d.wait_for(is_event("changed", uid=uids[0], seen=True), timeout=EVENT_TIMEOUT)

        since = self.signals.mark()
        self.assertEqual(self.cli("resume"), "Notifications resumed.\n")
        self.signals.wait_for("PropertiesChanged",
                              lambda a: a[1].get("PausedUntil") == 0 and a[1].get("Quiet") == [],
                              since=since)
        call = self.assert_only_summary("3 new messages while notifications were paused")
        self.assertEqual(call["body"], "work: 2\nhome: 1\nhome 1\nwork 2\nwork 1")
        self.assertEqual(call["actions"]["mark-read"], "Mark all as read")
        self.assertNotIn("Notifications held back", self.cli("status"))

        # Popups as usual again.
        uid = self.deliver("user3", "after", from_name="Carol")
        d.wait_for(is_event("new", uid=uid, account="home"), timeout=EVENT_TIMEOUT)
        self.assertEqual(self.notify.wait_notifies(2)[1]["summary"], "Carol")
        d.stop()

    def test_timed_pause_ends_by_itself(self):
        d = self.daemon({"work": account("user4")})
        before = time.time()
        self.cli("pause", "3s")
        until = self.prop("PausedUntil")
        self.assertTrue(before + 2 <= until <= time.time() + 4, (before, until))
        uid = self.deliver("user4", "while paused", from_name="Dora")
        d.wait_for(is_event("new", uid=uid), timeout=EVENT_TIMEOUT)
        call = self.assert_only_summary("1 new message while notifications were paused")
        self.assertGreaterEqual(time.time(), until)
        self.assertEqual(call["body"], "while paused")
        self.assertEqual(self.prop("PausedUntil"), 0)
        d.stop()

    def test_read_meanwhile_no_summary(self):
        d = self.daemon({"work": account("user5")})
        b.call(self.bus, "Pause", 0)
        uid = self.deliver("user5", "read on the phone")
        d.wait_for(is_event("new", uid=uid), timeout=EVENT_TIMEOUT)
        dovecot.expunge("user5", "INBOX", uid)
        d.wait_for(is_event("removed", uid=uid), timeout=EVENT_TIMEOUT)
        b.call(self.bus, "Resume")
        # Nothing held: the next message is the first popup.
        uid = self.deliver("user5", "fresh", from_name="Eve")
        d.wait_for(is_event("new", uid=uid), timeout=EVENT_TIMEOUT)
        self.assert_only_summary("Eve")
        d.stop()


class QuietHoursTest(QuietTestCase):
    def test_quiet_hours_cover_now(self):
        # Local time, as the daemon reads it: an hour either side of now.
        now = time.localtime()
        minute = now.tm_hour * 60 + now.tm_min
        span = f"{clock(minute - 60)}-{clock(minute + 60)}"
        accounts = {"work": account("user6")}
        d = self.daemon(accounts, daemon={"quiet_hours": span})
        self.assertEqual(self.prop("Quiet"), ["quiet-hours"])
        self.assertEqual(self.prop("PausedUntil"), 0)
        self.assertIn("Notifications held back: quiet hours\n", self.cli("status"))

        since = self.signals.mark()
        uid = self.deliver("user6", "at night", from_name="Night Owl")
        d.wait_for(is_event("new", uid=uid), timeout=EVENT_TIMEOUT)
        self.signals.wait_for("MessagesAdded", lambda a: a[0][0]["uid"] == uid, since=since)

        # Quiet hours end (here: taken out of the config and reloaded).
        with open(d.config_path, "w") as f:
            f.write(config_text(accounts))
        since = self.signals.mark()
        self.cli("reload")
        self.wait_quiet([], since)
        call = self.assert_only_summary("1 new message during quiet hours")
        self.assertEqual(call["body"], "at night")
        d.stop()


class DoNotDisturbTest(QuietTestCase):
    def test_dunst_paused(self):
        d = self.daemon({"work": account("user7")})
        since = self.signals.mark()
        self.desk.dunstctl_out("set-paused", "true")
        self.wait_quiet(["do-not-disturb"], since)
        self.assertIn("Notifications held back: the desktop's Do Not Disturb\n",
                      self.cli("status"))

        since = self.signals.mark()
        uids = [self.deliver("user7", f"dnd {i}", from_addr="f@example.com") for i in range(2)]
        for uid in uids:
            d.wait_for(is_event("new", uid=uid), timeout=EVENT_TIMEOUT)
        self.signals.wait_until(lambda s: len(self.signals.messages("MessagesAdded", since)) == 2,
                                what="two messages in MessagesAdded")

        # Our own pause ends meanwhile: still quiet.
        self.cli("pause")
        self.assertEqual(self.cli("resume"),
                         "Notifications resumed; still held back: the desktop's Do Not "
                         "Disturb.\n")

        since = self.signals.mark()
        self.desk.dunstctl_out("set-paused", "false")
        self.wait_quiet([], since)
        call = self.assert_only_summary("2 new messages while Do Not Disturb was on")
        self.assertEqual(call["body"], "dnd 1\ndnd 0")
        d.stop()

    def test_dunst_paused_before_start(self):
        # The state is read when the server is found, not only followed.
        self.desk.dunstctl_out("set-paused", "true")
        d = self.daemon({"work": account("user8")})
        # Seen before the bus service started, or announced after.
        if self.prop("Quiet") != ["do-not-disturb"]:
            self.wait_quiet(["do-not-disturb"])
        uid = self.deliver("user8", "queued", from_name="Gus")
        d.wait_for(is_event("new", uid=uid), timeout=EVENT_TIMEOUT)
        self.desk.dunstctl_out("set-paused", "false")
        self.assert_only_summary("1 new message while Do Not Disturb was on")
        d.stop()


def load_tests(loader, tests, pattern):
    """The classes whose `servers` name this pass's server."""
    suite = unittest.TestSuite()
    for name, cls in sorted(globals().items()):
        if (isinstance(cls, type) and issubclass(cls, QuietTestCase)
                and h.NOTIFY_SERVER in cls.servers):
            suite.addTests(loader.loadTestsFromTestCase(cls))
    return suite


if __name__ == "__main__":
    unittest.main()
