# SPDX-License-Identifier: MIT
"""mailnag's D-Bus service (mailnag_compat = true) on a private session bus
with a real Dovecot: the interface as mailnag 2.2 declares it, the mail
list and its signals, MarkMailAsRead (\\Seen on the server), CheckForMails,
Shutdown, the name left alone when another program owns it, and the key
followed across reloads."""

import collections
import functools
import queue
import re
import subprocess
import threading
import time
import unittest
import xml.etree.ElementTree as ET

import bus_harness as b
from fault_proxy import FaultProxy
import harness_keyring
import imapwatch_harness as h

MAILNAG_NAME = "mailnag.MailnagService"
MAILNAG_PATH = "/mailnag/MailnagService"
MAILNAG_IFACE = "mailnag.MailnagService"

# mailnag 2.2.0 (Debian's package mailnag 2.2.0-1), Mailnag/daemon/dbus.py:
# its methods (in, out signatures) and signals, on the interface named like
# the bus name, object /mailnag/MailnagService.
MAILNAG_METHODS = {
    "GetMails": ("", "aa{sv}"),
    "GetMailCount": ("", "u"),
    "Shutdown": ("", ""),
    "CheckForMails": ("", ""),
    "MarkMailAsRead": ("s", ""),
}
MAILNAG_SIGNALS = {
    "MailsAdded": "aa{sv}aa{sv}",  # new_mails, all_mails
    "MailsRemoved": "aa{sv}",  # remaining_mails
}
# The keys of a mail dictionary and their types (its _convert_mails;
# datetime is an int32, the applets read it with get_int32()).
MAIL_KEYS = {"datetime": "int32", "subject": "string", "sender_name": "string",
             "sender_addr": "string", "account_name": "string", "id": "string"}

dovecot = h.Dovecot(notify=False)
account = functools.partial(b.account, dovecot)
deliver = functools.partial(b.deliver, dovecot)

EVENT_TIMEOUT = b.EVENT_TIMEOUT


def setUpModule():
    dovecot.start()


def tearDownModule():
    dovecot.stop()


class Variant(collections.namedtuple("Variant", "type value")):
    """A variant as dbus-monitor and dbus-send print it: the D-Bus type
    name of what it holds ("int32", "string", …) and the value."""


def parse_values(lines):
    """The values dbus-monitor or dbus-send --print-reply printed, one per
    line (the message's header line excluded), as Python values: arrays as
    lists, arrays of dict entries as dicts, variants as Variant. Strings
    must not span lines (mailnag's never do: the daemon sends them on one
    line)."""
    lines = [x.strip() for x in lines]
    values, i = [], 0
    while i < len(lines):
        v, i = _parse_value(lines, i + 1, lines[i])
        values.append(v)
    return values


def _parse_value(lines, i, text):
    """One value whose text starts with `text`, its continuation at
    lines[i]; returns (value, index after it)."""
    if text.startswith("variant "):
        inner = text[len("variant "):].strip()
        v, i = _parse_value(lines, i, inner)
        return Variant(inner.split(" ", 1)[0], v), i
    if text == "array [":
        items = []
        while lines[i] != "]":
            v, i = _parse_value(lines, i + 1, lines[i])
            items.append(v)
        if items and all(isinstance(x, tuple) and getattr(x, "entry", False) for x in items):
            return dict(items), i + 1
        return items, i + 1
    if text == "dict entry(":
        k, i = _parse_value(lines, i + 1, lines[i])
        v, i = _parse_value(lines, i + 1, lines[i])
        if lines[i] != ")":
            raise ValueError(f"dict entry not closed: {lines[i]!r}")
        return _Entry((k, v)), i + 1
    word, _, rest = text.partition(" ")
    if word == "string":
        return rest.strip()[1:-1], i
    if word in ("byte", "int16", "uint16", "int32", "uint32", "int64", "uint64"):
        return int(rest), i
    if word == "boolean":
        return rest.strip() == "true", i
    raise ValueError(f"cannot parse {text!r}")


class _Entry(tuple):
    entry = True


def _opens(line):
    return line.endswith(" [") or line.endswith("entry(") or line.endswith("struct {")


class MailnagMonitor(b.Monitor):
    """dbus-monitor for mailnag's signals on a bus, from whoever sends them
    (gdbus monitor follows a well-known name, and loses signals sent right
    after it was given up and taken again). signals(): ("MailsAdded" |
    "MailsRemoved", [values]), mails as dicts of Variant; the waits of
    bus_harness.Monitor."""

    ARITY = {name: sig.count("aa{sv}") for name, sig in MAILNAG_SIGNALS.items()}

    def start(self):
        self.proc = subprocess.Popen(
            [h.find_tool("dbus-monitor"), "--address", self.bus.address,
             f"type='signal',interface='{MAILNAG_IFACE}'"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, env=self.bus.env(), start_new_session=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        # It becomes a monitor by giving up its own name: ready then.
        try:
            self._owner_lines.get(timeout=h.READY_TIMEOUT)
        except queue.Empty:
            self.stop()
            raise h.HarnessError(f"dbus-monitor is not ready: {self._other}")
        return self

    def _read(self):
        header = re.compile(r"^signal .* interface=([\w.]+); member=(\w+)$")
        member, body, depth, done = None, [], 0, 0
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            if not line.startswith(" "):
                m = header.match(line)
                member = m.group(2) if m and m.group(1) == MAILNAG_IFACE else None
                body, depth, done = [], 0, 0
                if m and m.group(2) == "NameLost":
                    self._owner_lines.put(line)
                elif member is None:
                    self._other.append(line)
                continue
            if member is None:
                continue
            body.append(line)
            text = line.strip()
            depth += 1 if _opens(text) else -1 if text in ("]", ")", "}") else 0
            done += depth == 0
            if done == self.ARITY.get(member, 0):
                try:
                    self._queue.put((time.monotonic(), member, parse_values(body)))
                except (ValueError, IndexError) as e:
                    self._other.append(f"unparsed ({e}): {body!r}")
                member = None
        self._queue.put(None)


def mailnag_call(bus, method, *args, iface=MAILNAG_IFACE, path=MAILNAG_PATH):
    """Calls a method of the mailnag object with gdbus; returns the reply
    tuple, or raises BusError."""
    argv = [h.find_tool("gdbus"), "call", "--address", bus.address, "--dest", MAILNAG_NAME,
            "--object-path", path, "--timeout", "30", "--method", f"{iface}.{method}", "--"]
    argv += [b.gvariant_arg(a) for a in args]
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                          env=bus.env(), timeout=60)
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace")
        m = re.search(r"GDBus\.Error:([\w.]+): (.*)", err, re.S)
        if m:
            raise b.BusError(m.group(1), m.group(2).strip())
        raise AssertionError(f"gdbus call {method} failed: {err}")
    return b.parse_gvariant(proc.stdout.decode().strip())


def mailnag_typed(bus, method, *typed_args):
    """Calls a method of the mailnag object with dbus-send, which prints
    the types of the reply: returns (values as parse_values() reads them,
    the printed lines)."""
    argv = [h.find_tool("dbus-send"), f"--bus={bus.address}", "--print-reply",
            "--reply-timeout=30000", f"--dest={MAILNAG_NAME}", MAILNAG_PATH,
            f"{MAILNAG_IFACE}.{method}", *typed_args]
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                          env=bus.env(), timeout=60)
    if proc.returncode != 0:
        raise AssertionError(f"dbus-send {method}: {proc.stderr.decode(errors='replace')}")
    lines = proc.stdout.decode().splitlines()[1:]  # after "method return ..."
    return parse_values(lines), lines


def get_mails(bus):
    """GetMails, each mail as {key: value} (types checked separately)."""
    return [plain(m) for m in mailnag_typed(bus, "GetMails")[0][0]]


def plain(mail):
    return {k: v.value for k, v in mail.items()}


def bus_call(bus, method, *args):
    """A method of the bus itself (org.freedesktop.DBus)."""
    argv = [h.find_tool("gdbus"), "call", "--address", bus.address,
            "--dest", "org.freedesktop.DBus", "--object-path", "/org/freedesktop/DBus",
            "--method", f"org.freedesktop.DBus.{method}", "--"]
    argv += [b.gvariant_arg(a) for a in args]
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                          env=bus.env(), timeout=60)
    if proc.returncode != 0:
        raise AssertionError(f"{method} failed: {proc.stderr.decode(errors='replace')}")
    return b.parse_gvariant(proc.stdout.decode().strip())


def name_has_owner(bus, name=MAILNAG_NAME):
    return bus_call(bus, "NameHasOwner", name)[0]


def ids(mails):
    """The ids of mails (plain or as signals carry them), in order."""
    return [m["id"].value if isinstance(m["id"], Variant) else m["id"] for m in mails]


class MailnagCase(unittest.TestCase):
    """Bus, both listeners and a daemon for the class."""

    maxDiff = None

    @classmethod
    def start_bus(cls):
        cls.bus = b.SessionBus()
        cls.bus.start()
        cls.monitor = cls.mailnag = cls.daemon = None

    @classmethod
    def start_daemon(cls, accounts, daemon_keys):
        """Both listeners, then the daemon; ready when every account is
        idle."""
        try:
            cls.monitor = b.Monitor(cls.bus).start()
            cls.mailnag = MailnagMonitor(cls.bus).start()
            cls.daemon = h.Daemon(accounts, daemon=daemon_keys,
                                  env={"DBUS_SESSION_BUS_ADDRESS": cls.bus.address})
            cls.daemon.start()
            for name in accounts:
                cls.daemon.wait_for(h.is_account_state(name, "idle"),
                                    timeout=b.CONNECT_TIMEOUT)
        except BaseException:
            cls.stop(failed=True)
            raise

    @classmethod
    def start(cls, accounts, daemon_keys):
        cls.start_bus()
        cls.start_daemon(accounts, daemon_keys)

    @classmethod
    def stop(cls, failed=False):
        try:
            if cls.daemon is not None:
                if failed:
                    cls.daemon.kill()
                else:
                    cls.daemon.stop()
        finally:
            for monitor in (cls.monitor, cls.mailnag):
                if monitor is not None:
                    monitor.stop()
            cls.bus.stop()

    def imapwatch_call(self, method, *args, iface=b.IFACE):
        return b.call(self.bus, method, *args, iface=iface)

    def write_config(self, **daemon_keys):
        self.daemon.daemon_keys.update(daemon_keys)
        with open(self.daemon.config_path, "w", encoding="utf-8") as f:
            f.write(self.daemon.config_text())

    def reload(self, **daemon_keys):
        """Rewrites [daemon] and reloads through imapwatch's own Reload."""
        self.write_config(**daemon_keys)
        self.assertEqual(self.imapwatch_call("Reload"), ())

    def wait_mails(self, member, pred, since, timeout=EVENT_TIMEOUT):
        """The values of the first signal `member` since `since` for which
        pred(values) holds."""
        return self.mailnag.wait_for(member, pred, timeout=timeout, since=since)

    def typed(self, mails):
        """Mails as a signal or dbus-send carries them, checked to have
        exactly mailnag's keys with mailnag's types; as plain dicts."""
        for m in mails:
            self.assertEqual({k: v.type for k, v in m.items()}, MAIL_KEYS, m)
        return [plain(m) for m in mails]

    def get_mails(self):
        """GetMails, its types checked."""
        values, _ = mailnag_typed(self.bus, "GetMails")
        return self.typed(values[0])


class MailnagServiceTest(MailnagCase):
    """mailnag_compat = true from the start; two accounts, one of them with
    a folder checked only on a timer (one connection, no NOTIFY)."""

    @classmethod
    def setUpClass(cls):
        dovecot.create_folder("user1", "Later")
        cls.before = {
            "INBOX": deliver("user1", "INBOX", "there before, inbox",
                             from_name="Old Sender", from_addr="old@example.com",
                             date=1700000000)[0],
            "Later": deliver("user1", "Later", "there before, later",
                             date=1700000100)[0],
        }
        cls.start({
            "work": dict(account("user1", ["INBOX", "Later"]), max_connections=1,
                         poll_interval="1h"),
            "home": account("user2"),
        }, {"mailnag_compat": True})
        # Both folders visited: the mail there before is announced.
        wanted = {cls.work_id("INBOX", cls.before["INBOX"]),
                  cls.work_id("Later", cls.before["Later"])}
        try:
            cls.mailnag.wait_until(
                lambda signals: wanted <= {i for m, a in signals if m == "MailsAdded"
                                           for i in ids(a[0])},
                timeout=EVENT_TIMEOUT, what="MailsAdded with the mail there before")
        except BaseException:
            cls.stop(failed=True)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.stop()

    @staticmethod
    def work_id(folder, uid):
        v = dovecot.status("user1", folder)["uidvalidity"]
        return f"work/{folder}/{v}/{uid}"

    def deliver_home(self, subject, **kwargs):
        """Delivers to home's INBOX; returns imapwatch's new event."""
        since = self.daemon.mark()
        uid, _ = deliver("user2", "INBOX", subject, **kwargs)
        return self.daemon.wait_for(h.is_event("new", account="home", uid=uid),
                                    timeout=EVENT_TIMEOUT, since=since)

    def test_interface_is_mailnags(self):
        xml = mailnag_call(self.bus, "Introspect",
                           iface="org.freedesktop.DBus.Introspectable")[0]
        root = ET.fromstring(xml)
        ifaces = {i.get("name"): i for i in root.findall("interface")}
        self.assertIn("org.freedesktop.DBus.Introspectable", ifaces)
        iface = ifaces[MAILNAG_IFACE]
        methods = {}
        for m in iface.findall("method"):
            args = m.findall("arg")
            methods[m.get("name")] = (
                "".join(a.get("type") for a in args if a.get("direction", "in") == "in"),
                "".join(a.get("type") for a in args if a.get("direction") == "out"))
        signals = {s.get("name"): "".join(a.get("type") for a in s.findall("arg"))
                   for s in iface.findall("signal")}
        self.assertEqual(methods, MAILNAG_METHODS)
        self.assertEqual(signals, MAILNAG_SIGNALS)
        self.assertEqual(iface.findall("property"), [])
        # What the object answers is what it declares.
        self.assertEqual(mailnag_call(self.bus, "Ping", iface="org.freedesktop.DBus.Peer"), ())
        for method, (sig_in, _) in MAILNAG_METHODS.items():
            with self.assertRaises(b.BusError) as cm:
                mailnag_call(self.bus, method, *(["x", "y"] if sig_in else ["x"]))
            self.assertEqual(cm.exception.name, "org.freedesktop.DBus.Error.InvalidArgs")
        with self.assertRaises(b.BusError) as cm:
            mailnag_call(self.bus, "GetMails", iface="mailnag.Nope")
        self.assertEqual(cm.exception.name, "org.freedesktop.DBus.Error.UnknownInterface")
        with self.assertRaises(b.BusError) as cm:
            mailnag_call(self.bus, "Nope")
        self.assertEqual(cm.exception.name, "org.freedesktop.DBus.Error.UnknownMethod")

    def test_mail_there_before_is_announced_once(self):
        wanted = {self.work_id("INBOX", self.before["INBOX"]),
                  self.work_id("Later", self.before["Later"])}
        added = self.mailnag.signals(member="MailsAdded")
        new = [i for _, a in added for i in ids(a[0])]
        self.assertTrue(wanted <= set(new))
        self.assertEqual(len(new), len(set(new)), "a mail announced twice")
        first = added[0][1]
        self.assertEqual(first[0], first[1], "the first announcement: every mail is new")
        self.typed(first[0])
        mails = self.get_mails()
        self.assertTrue(wanted <= set(ids(mails)))
        old = next(m for m in mails if m["id"] == self.work_id("INBOX", self.before["INBOX"]))
        self.assertEqual(old, {"datetime": 1700000000, "subject": "there before, inbox",
                               "sender_name": "Old Sender", "sender_addr": "old@example.com",
                               "account_name": "work",
                               "id": self.work_id("INBOX", self.before["INBOX"])})

    def test_new_mail(self):
        since = self.mailnag.mark()
        ev = self.deliver_home("Grüße — new mail", subject_encoding="B",
                               from_name="Zoë Example", from_encoding="Q",
                               from_addr="zoe@example.com", date=1800000000)
        args = self.wait_mails("MailsAdded", lambda a: ev["id"] in ids(a[0]), since)
        self.assertEqual(len(args), 2)
        new, all_mails = self.typed(args[0]), self.typed(args[1])
        self.assertEqual(new, [{"datetime": 1800000000, "subject": "Grüße — new mail",
                                "sender_name": "Zoë Example",
                                "sender_addr": "zoe@example.com",
                                "account_name": "home", "id": ev["id"]}])
        self.assertEqual(ev["date"], 1800000000)
        # all_mails: every unseen mail, newest first (as mailnag sorts).
        self.assertEqual(all_mails[0], new[0])
        dates = [m["datetime"] for m in all_mails]
        self.assertEqual(dates, sorted(dates, reverse=True))
        self.assertIn(self.work_id("INBOX", self.before["INBOX"]), ids(all_mails))
        # The methods answer with that list.
        self.assertEqual(self.get_mails(), all_mails)
        values, lines = mailnag_typed(self.bus, "GetMailCount")
        self.assertEqual(values, [len(all_mails)])
        self.assertTrue(lines[0].strip().startswith("uint32 "), lines)

    def test_mail_seen_on_arrival_is_not_listed(self):
        since = self.daemon.mark()
        msg, _ = h.make_message(subject="read already")
        uid = dovecot.deliver("user2", "INBOX", msg)
        dovecot.flags_add("user2", "INBOX", uid, "\\Seen")
        self.daemon.wait_for(lambda e: e.get("account") == "home" and e.get("uid") == uid
                             and e.get("seen") is True and e["event"] in ("new", "changed"),
                             timeout=EVENT_TIMEOUT, since=since)
        v = dovecot.status("user2", "INBOX")["uidvalidity"]
        self.assertNotIn(f"home/INBOX/{v}/{uid}", ids(self.get_mails()))

    def test_mark_mail_as_read(self):
        since = self.mailnag.mark()
        first = self.deliver_home("mark me")
        second = self.deliver_home("leave me")
        self.wait_mails("MailsAdded", lambda a: {first["id"], second["id"]} <= set(ids(a[1])),
                        since)
        since = self.mailnag.mark()
        daemon_since = self.daemon.mark()
        self.assertEqual(mailnag_call(self.bus, "MarkMailAsRead", first["id"]), ())
        # Gone from the list at once, as mailnag does.
        self.assertNotIn(first["id"], ids(self.get_mails()))
        args = self.wait_mails("MailsRemoved", lambda a: first["id"] not in ids(a[0]), since)
        self.assertIn(second["id"], ids(self.typed(args[0])))
        # \Seen on the server, for that message only.
        b.wait_condition(lambda: "\\Seen" in dovecot.state("user2", "INBOX")[first["uid"]],
                         EVENT_TIMEOUT, "\\Seen on the server")
        self.assertNotIn("\\Seen", dovecot.state("user2", "INBOX")[second["uid"]])
        self.daemon.wait_for(h.is_event("changed", id=first["id"], seen=True),
                             timeout=EVENT_TIMEOUT, since=daemon_since)
        # The change coming back from the server is no news: the mail is
        # not listed again.
        mails = ids(self.get_mails())
        self.assertNotIn(first["id"], mails)
        self.assertIn(second["id"], mails)
        for member, a in self.mailnag.signals(since):
            self.assertNotIn(first["id"], ids(a[-1]), f"listed again by {member}")

    def test_mark_unknown_mail(self):
        # mailnag answers every MarkMailAsRead; so does the daemon.
        before = self.get_mails()
        self.assertEqual(mailnag_call(self.bus, "MarkMailAsRead", "nope/INBOX/1/1"), ())
        self.assertEqual(mailnag_call(self.bus, "MarkMailAsRead", "garbage"), ())
        self.assertEqual(self.get_mails(), before)

    def test_read_elsewhere(self):
        since = self.mailnag.mark()
        ev = self.deliver_home("read on the phone")
        self.wait_mails("MailsAdded", lambda a: ev["id"] in ids(a[0]), since)
        since = self.mailnag.mark()
        dovecot.flags_add("user2", "INBOX", ev["uid"], "\\Seen")
        args = self.wait_mails("MailsRemoved", lambda a: ev["id"] not in ids(a[0]), since)
        self.typed(args[0])
        self.assertNotIn(ev["id"], ids(self.get_mails()))
        # Unread again elsewhere: listed again, but not as new mail.
        since = self.mailnag.mark()
        dovecot.flags_remove("user2", "INBOX", ev["uid"], "\\Seen")
        self.wait_mails("MailsRemoved", lambda a: ev["id"] in ids(a[0]), since)
        for _, a in self.mailnag.signals(since, "MailsAdded"):
            self.assertNotIn(ev["id"], ids(a[0]), "announced as new mail")
        self.assertIn(ev["id"], ids(self.get_mails()))

    def test_check_for_mails(self):
        """Later is checked every hour only; CheckForMails checks it now,
        and what one check finds is announced together."""
        since = self.mailnag.mark()
        daemon_since = self.daemon.mark()
        uids = [deliver("user1", "Later", f"later {i}")[0] for i in range(6)]
        self.daemon.assert_no_event(h.is_event("new", folder="Later"), within=1.0,
                                    since=daemon_since)
        self.assertEqual(mailnag_call(self.bus, "CheckForMails"), ())
        wanted = {self.work_id("Later", uid) for uid in uids}

        def announced(signals):
            added = [a for m, a in signals if m == "MailsAdded" and wanted & set(ids(a[0]))]
            return added if wanted <= {i for a in added for i in ids(a[0])} else None

        added = self.mailnag.wait_until(announced, timeout=EVENT_TIMEOUT,
                                        what="MailsAdded with the mail found", since=since)
        self.assertLess(len(added), len(uids), self.mailnag.describe(since))
        self.assertTrue(wanted <= set(ids(added[-1][1])))


class MailnagResetTest(MailnagCase):
    """A folder recreated elsewhere (a new UIDVALIDITY): its mail gets new
    ids but is not new mail."""

    @classmethod
    def setUpClass(cls):
        dovecot.create_folder("user5", "Scratch")
        cls.proxy = FaultProxy("127.0.0.1", dovecot.imaps_port)
        cls.proxy.start()
        try:
            cls.start({"again": dict(account("user5", ["Scratch"]), port=cls.proxy.port)},
                      {"mailnag_compat": True})
        except BaseException:
            cls.proxy.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.stop()
        finally:
            cls.proxy.stop()

    def test_folder_reset(self):
        since = self.mailnag.mark()
        old_uid, _ = deliver("user5", "Scratch", "before the reset")
        old = f"again/Scratch/{dovecot.status('user5', 'Scratch')['uidvalidity']}/{old_uid}"
        self.wait_mails("MailsAdded", lambda a: old in ids(a[0]), since)

        since = self.mailnag.mark()
        monitor_since = self.monitor.mark()
        uids = dovecot.recreate_folder("user5", "Scratch", [f"refilled {i}" for i in range(3)],
                                       self.proxy)
        v = dovecot.status("user5", "Scratch")["uidvalidity"]
        refilled = {f"again/Scratch/{v}/{uid}" for uid in uids}
        self.monitor.wait_for("FolderReset", timeout=30, since=monitor_since)
        args = self.wait_mails("MailsRemoved", lambda a: set(ids(a[0])) == refilled, since,
                               timeout=30)
        self.typed(args[0])
        self.assertEqual(self.mailnag.signals(since, "MailsAdded"), [])
        self.assertEqual(set(ids(self.get_mails())), refilled)

        # Mail that arrives afterwards is new mail again.
        since = self.mailnag.mark()
        uid, _ = deliver("user5", "Scratch", "after the reset")
        args = self.wait_mails("MailsAdded", lambda a: True, since)
        self.assertEqual(ids(args[0]), [f"again/Scratch/{v}/{uid}"])


class MailnagSwitchTest(MailnagCase):
    """mailnag_compat off, then on and off again by reloads; Shutdown."""

    @classmethod
    def setUpClass(cls):
        cls.start({"solo": account("user3")}, {})

    @classmethod
    def tearDownClass(cls):
        cls.stop()

    def test_followed_across_reloads(self):
        # Off: imapwatch's own name only.
        self.assertTrue(name_has_owner(self.bus, b.NAME))
        self.assertFalse(name_has_owner(self.bus))
        v = dovecot.status("user3", "INBOX")["uidvalidity"]
        uid, _ = deliver("user3", "INBOX", "before the switch")
        first = f"solo/INBOX/{v}/{uid}"

        log = self.daemon.log_mark()
        since = self.mailnag.mark()
        self.reload(mailnag_compat=True)
        self.daemon.wait_log(f"serving {MAILNAG_NAME}", since=log)
        self.assertTrue(name_has_owner(self.bus))
        args = self.wait_mails("MailsAdded", lambda a: first in ids(a[0]), since)
        self.assertEqual(args[0], args[1])
        self.assertIn(first, ids(self.get_mails()))

        # Shutdown gives the name up (before it answers); the daemon
        # watches on.
        log = self.daemon.log_mark()
        self.assertEqual(mailnag_call(self.bus, "Shutdown"), ())
        self.assertFalse(name_has_owner(self.bus))
        self.daemon.wait_log("asked to shut down", since=log)
        since = self.daemon.mark()
        uid2, _ = deliver("user3", "INBOX", "after shutdown")
        self.daemon.wait_for(h.is_event("new", account="solo", uid=uid2),
                             timeout=EVENT_TIMEOUT, since=since)
        # A reload offers it again, and announces the list afresh.
        log = self.daemon.log_mark()
        since = self.mailnag.mark()
        self.reload()
        self.daemon.wait_log(f"serving {MAILNAG_NAME}", since=log)
        both = {first, f"solo/INBOX/{v}/{uid2}"}
        args = self.wait_mails("MailsAdded", lambda a: both <= set(ids(a[0])), since)
        self.assertEqual(args[0], args[1])
        self.assertEqual(mailnag_typed(self.bus, "GetMailCount")[0], [len(args[1])])

        # Off again: released before the reload returns.
        log = self.daemon.log_mark()
        self.reload(mailnag_compat=False)
        self.assertFalse(name_has_owner(self.bus))
        self.daemon.wait_log(f"mailnag_compat is off: {MAILNAG_NAME} released", since=log)
        self.assertEqual(self.imapwatch_call("Get", b.IFACE, "Accounts",
                                             iface="org.freedesktop.DBus.Properties"),
                         (["solo"],))


class MailnagTakenTest(MailnagCase):
    """Another program (mailnag itself) owns the name: imapwatchd says so
    once, runs on without it, and takes it on a reload once it is free."""

    @classmethod
    def setUpClass(cls):
        cls.start_bus()
        cls.other = harness_keyring._Connection(cls.bus.address)
        try:
            reply = cls.other.call("org.freedesktop.DBus", "/org/freedesktop/DBus",
                                   "org.freedesktop.DBus", "RequestName", "su",
                                   [("s", MAILNAG_NAME), ("u", 4)])  # DO_NOT_QUEUE
            if reply != [1]:  # PRIMARY_OWNER
                raise h.HarnessError(f"RequestName {MAILNAG_NAME}: {reply}")
            cls.other_name = bus_call(cls.bus, "GetNameOwner", MAILNAG_NAME)[0]
        except BaseException:
            cls.other.sock.close()
            cls.bus.stop()
            raise
        cls.start_daemon({"taken": account("user4")}, {"mailnag_compat": True})

    @classmethod
    def tearDownClass(cls):
        cls.other.sock.close()
        cls.stop()

    def test_name_taken(self):
        self.daemon.wait_log(f"{MAILNAG_NAME} is owned by another program")
        self.assertEqual(self.daemon.stderr_text().count(MAILNAG_NAME), 1,
                         self.daemon.stderr_text())
        self.assertEqual(bus_call(self.bus, "GetNameOwner", MAILNAG_NAME)[0], self.other_name)
        # imapwatchd runs on: its service answers, mail is watched.
        self.assertEqual(self.imapwatch_call("Get", b.IFACE, "Accounts",
                                             iface="org.freedesktop.DBus.Properties"),
                         (["taken"],))
        since = self.daemon.mark()
        uid, _ = deliver("user4", "INBOX", "still watched")
        self.daemon.wait_for(h.is_event("new", account="taken", uid=uid),
                             timeout=EVENT_TIMEOUT, since=since)
        self.assertEqual(self.mailnag.signals(), [])

        # The other program leaves; a reload takes the name.
        self.other.sock.close()
        b.wait_condition(lambda: not name_has_owner(self.bus), EVENT_TIMEOUT,
                         "the name freed")
        log = self.daemon.log_mark()
        self.reload()
        self.daemon.wait_log(f"serving {MAILNAG_NAME}", since=log)
        self.assertNotEqual(bus_call(self.bus, "GetNameOwner", MAILNAG_NAME)[0],
                            self.other_name)
        v = dovecot.status("user4", "INBOX")["uidvalidity"]
        self.assertIn(f"taken/INBOX/{v}/{uid}", ids(self.get_mails()))


if __name__ == "__main__":
    unittest.main()
