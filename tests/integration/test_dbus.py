# SPDX-License-Identifier: MIT
"""imapwatchd's D-Bus service on a private session bus, with a real Dovecot:
signals, methods, properties, introspection, single instance, FolderReset
and Reload.

Each test class starts its own dbus-daemon; an independent listener
(`gdbus monitor`) sees the signals; methods are called with `gdbus call`
and `dbus-send`. Other devices are simulated with doveadm. Waits are
bounded waits on signals or on the daemon's --print-events output. The
imapwatch command itself is tested in test_cli.
"""

import functools
import json
import os
import subprocess
import tempfile
import unittest
import xml.etree.ElementTree as ET

import bus_harness as b
import imapwatch_harness as h
from bus_harness import CONNECT_TIMEOUT, EVENT_TIMEOUT, cli, cli_binary, read_line, \
    read_stderr_line
from fault_proxy import FaultProxy
from imapwatch_harness import is_event

BURST = 1000
SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
XML_PATH = os.path.join(SOURCE_DIR, "data", "org.imapwatch.Daemon1.xml")
MESSAGE_KEYS = {"id", "account", "folder", "uid", "uidvalidity", "message_id",
                "from_name", "from_addr", "subject", "date", "flags", "seen"}

# One server for the module's tests, started before the first.
dovecot = h.Dovecot()
setUpModule = dovecot.start
tearDownModule = dovecot.stop
account = functools.partial(b.account, dovecot)
deliver = functools.partial(b.deliver, dovecot)


def logins(user):
    """Dovecot's log lines of successful logins of user."""
    return [line for line in dovecot.log_text().splitlines()
            if "Login: user=<" + user + ">" in line]


class ServiceTest(b.ThreeAccountsTestCase):
    """One daemon with three accounts on its own bus."""

    server = dovecot

    # -- signals

    def test_account_states_as_print_events(self):
        for name in self.ACCOUNTS:
            self.monitor.wait_for("AccountStateChanged",
                                  lambda a, n=name: a[0] == n and a[1] == "idle")
        for name in self.ACCOUNTS:
            printed = [(e["account"], e["state"], e["detail"]) for e in
                       self.daemon.events_so_far() if e["event"] == "state"
                       and e["account"] == name]
            signalled = [tuple(args) for _, args in
                         self.monitor.signals(member="AccountStateChanged")
                         if args[0] == name]
            # gdbus monitor learns who owns the name asynchronously, so it
            # may miss the very first signals after the daemon took the
            # name; everything from then on must match, in order.
            self.assertGreaterEqual(len(signalled), 1)
            self.assertEqual(signalled, printed[len(printed) - len(signalled):])
            self.assertEqual(signalled[-1], (name, "idle", ""))

    def test_delivery_flags_expunge(self):
        since = self.monitor.mark()
        mark = self.daemon.mark()
        uid, message_id = deliver("user1", "INBOX", "Signals", from_name="Sig Nal",
                                  from_addr="sig@example.com")
        uidvalidity = dovecot.status("user1", "INBOX")["uidvalidity"]
        args = self.message_for("MessagesAdded", "alpha", "INBOX", uid, since)
        d = self.find_message(args, "alpha", "INBOX", uid)
        self.assertEqual(set(d), MESSAGE_KEYS)
        self.assertEqual(d["id"], f"alpha/INBOX/{uidvalidity}/{uid}")
        self.assertEqual((d["message_id"], d["from_name"], d["from_addr"], d["subject"]),
                         (message_id, "Sig Nal", "sig@example.com", "Signals"))
        self.assertEqual((d["flags"], d["seen"]), ([], False))
        ev = self.daemon.wait_for(is_event("new", account="alpha", uid=uid), since=mark)
        self.assert_dict_matches_event(d, ev)
        unseen = dovecot.status("user1", "INBOX")["unseen"]
        self.monitor.wait_for("UnseenCountChanged",
                              lambda a: a == ("alpha", "INBOX", unseen), since=since)
        total = self.call("GetStatus")[0]["total_unseen"]
        self.monitor.wait_for("PropertiesChanged",
                              lambda a: a[1].get("TotalUnseen") == total, since=since)

        since = self.monitor.mark()
        dovecot.flags_add("user1", "INBOX", uid, "\\Seen")
        args = self.message_for("MessagesChanged", "alpha", "INBOX", uid, since)
        d = self.find_message(args, "alpha", "INBOX", uid)
        self.assertEqual((d["seen"], d["flags"], d["id"]),
                         (True, ["\\Seen"], f"alpha/INBOX/{uidvalidity}/{uid}"))
        self.assertTrue({"id", "account", "folder", "uid", "uidvalidity", "flags",
                         "seen"} <= set(d))
        self.monitor.wait_for("UnseenCountChanged",
                              lambda a: a == ("alpha", "INBOX", unseen - 1), since=since)

        since = self.monitor.mark()
        dovecot.expunge("user1", "INBOX", uid)
        args = self.message_for("MessagesRemoved", "alpha", "INBOX", uid, since)
        d = self.find_message(args, "alpha", "INBOX", uid)
        self.assertEqual(d, {"id": f"alpha/INBOX/{uidvalidity}/{uid}", "account": "alpha",
                             "folder": "INBOX", "uid": uid, "uidvalidity": uidvalidity})

    def test_delivery_to_second_folder(self):
        since = self.monitor.mark()
        uid, _ = deliver("user1", "Lists", "In Lists")
        args = self.message_for("MessagesAdded", "alpha", "Lists", uid, since)
        self.assertEqual(self.find_message(args, "alpha", "Lists", uid)["subject"], "In Lists")
        unseen = dovecot.status("user1", "Lists")["unseen"]
        self.monitor.wait_for("UnseenCountChanged",
                              lambda a: a == ("alpha", "Lists", unseen), since=since)

    def test_burst_is_batched(self):
        src = tempfile.mkdtemp(prefix="imapwatch-burst-")
        self.addCleanup(h._rmtree, src)
        for d in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(src, d))
        for i in range(BURST):
            msg, _ = h.make_message(subject=f"burst {i}")
            with open(os.path.join(src, "cur", f"{1700000000 + i}.M{i}P1.test:2,"), "wb") as f:
                f.write(msg)
        # doveadm runs as Dovecot's mail user and locks the source maildir.
        for d in ("", "cur", "new", "tmp"):
            os.chmod(os.path.join(src, d), 0o777)
        since = self.monitor.mark()
        before = set(dovecot.uids("user3", "INBOX"))
        dovecot.doveadm("import", "-u", "user3", f"maildir:{src}", "", "mailbox", "INBOX",
                        "all")
        uids = set(dovecot.uids("user3", "INBOX")) - before
        self.assertEqual(len(uids), BURST)

        def all_added(signals):
            got = [d["uid"] for m, a in signals if m == "MessagesAdded"
                   for d in a[0] if d["account"] == "burst"]
            return got if len(got) >= BURST else None
        got = self.monitor.wait_until(all_added, timeout=60, since=since,
                                      what=f"{BURST} messages in MessagesAdded")
        self.assertEqual(sorted(got), sorted(uids))  # each exactly once
        batches = [a[0] for m, a in self.monitor.signals(since, "MessagesAdded")
                   if a[0] and a[0][0]["account"] == "burst"]
        self.assertLessEqual(max(len(x) for x in batches), 200)
        self.assertLessEqual(len(batches), 10, [len(x) for x in batches])
        self.monitor.wait_for("UnseenCountChanged",
                              lambda a: a == ("burst", "INBOX", len(before) + BURST),
                              since=since, timeout=30)
        counts = [a for _, a in self.monitor.signals(since, "UnseenCountChanged")
                  if a[0] == "burst"]
        self.assertLessEqual(len(counts), len(batches) + 1)

    # -- methods

    def test_get_status(self):
        status = self.call("GetStatus")[0]
        self.assertEqual(set(status), {"version", "uptime", "total_unseen", "accounts",
                                       "paused_until", "quiet"})
        self.assertEqual((status["paused_until"], status["quiet"]), (0, []))
        self.assertEqual(status["version"], self.call("Get", b.IFACE, "Version",
                                                      iface="org.freedesktop.DBus.Properties")[0])
        self.assertIsInstance(status["uptime"], int)
        self.assertEqual([a["name"] for a in status["accounts"]], self.ACCOUNTS)
        users = {"alpha": "user1", "beta": "user2", "burst": "user3"}
        total = 0
        for a in status["accounts"]:
            self.assertEqual(set(a), {"name", "state", "detail", "connected_since",
                                      "last_event", "connections", "folders"})
            self.assertEqual((a["state"], a["detail"]), ("idle", ""))
            self.assertGreater(a["connected_since"], 0)
            # Dovecot offers NOTIFY: one connection an account.
            self.assertEqual(a["connections"], 1)
            for i, f in enumerate(a["folders"]):
                self.assertEqual(set(f), {"name", "unseen", "watch", "detail"})
                self.assertEqual((f["watch"], f["detail"]), ("idle" if i == 0 else "notify", ""))
                self.assertEqual(f["unseen"], dovecot.status(users[a["name"]], f["name"])["unseen"])
                total += f["unseen"]
        self.assertEqual([f["name"] for f in status["accounts"][0]["folders"]], ["INBOX", "Lists"])
        self.assertEqual(status["total_unseen"], total)

    def test_list_messages(self):
        since = self.monitor.mark()
        delivered = [("alpha", "Lists", "user1", deliver("user1", "Lists", "list 1")[0]),
                     ("alpha", "INBOX", "user1", deliver("user1", "INBOX", "list 2")[0]),
                     ("beta", "INBOX", "user2", deliver("user2", "INBOX", "list 3")[0])]
        for acc, folder, _, uid in delivered:
            self.message_for("MessagesAdded", acc, folder, uid, since)
        everything = self.call("ListMessages", "", "", True)[0]
        order = [(m["account"], m["folder"]) for m in everything]
        rank = {("alpha", "INBOX"): 0, ("alpha", "Lists"): 1, ("beta", "INBOX"): 2,
                ("burst", "INBOX"): 3}
        self.assertEqual(order, sorted(order, key=rank.get))
        for (acc, folder), group in ((k, [m for m in everything if (m["account"], m["folder"]) == k])
                                     for k in rank):
            self.assertEqual([m["uid"] for m in group], sorted(m["uid"] for m in group))
        for m in everything:
            self.assertEqual(set(m), MESSAGE_KEYS)
            self.assertFalse(m["seen"])
        ids = {m["id"] for m in everything}
        for acc, folder, user, uid in delivered:
            v = dovecot.status(user, folder)["uidvalidity"]
            self.assertIn(f"{acc}/{folder}/{v}/{uid}", ids)

        lists = self.call("ListMessages", "alpha", "Lists", True)[0]
        self.assertTrue(lists)
        self.assertTrue(all(m["folder"] == "Lists" for m in lists))
        self.assertEqual(lists, [m for m in everything if m["folder"] == "Lists"])

        acc, folder, user, uid = delivered[2]
        since = self.monitor.mark()
        dovecot.flags_add(user, folder, uid, "\\Seen")
        self.message_for("MessagesChanged", acc, folder, uid, since)
        unseen = self.call("ListMessages", "beta", "", True)[0]
        self.assertNotIn(uid, [m["uid"] for m in unseen])
        every = self.call("ListMessages", "beta", "", False)[0]
        seen = [m for m in every if m["uid"] == uid]
        self.assertEqual(len(seen), 1)
        self.assertTrue(seen[0]["seen"])

        text = self.assert_bus_error("org.imapwatch.Error.NoSuchAccount", "ListMessages",
                                     "nope", "", True)
        self.assertIn("nope", text)
        text = self.assert_bus_error("org.imapwatch.Error.NoSuchAccount", "ListMessages",
                                     "alpha", "Nope", True)
        self.assertIn("Nope", text)
        self.assert_bus_error("org.freedesktop.DBus.Error.InvalidArgs", "ListMessages",
                              "string:alpha", "string:INBOX", raw=True)
        self.assert_bus_error("org.freedesktop.DBus.Error.InvalidArgs", "ListMessages",
                              "string:alpha", "string:INBOX", "int32:1", raw=True)

    def test_check(self):
        self.assertEqual(self.call("Check", ""), ())
        self.assertEqual(self.call("Check", "beta"), ())
        text = self.assert_bus_error("org.imapwatch.Error.NoSuchAccount", "Check", "nope")
        self.assertIn("nope", text)
        self.assert_bus_error("org.freedesktop.DBus.Error.InvalidArgs", "Check", raw=True)
        # Still watching afterwards.
        since = self.monitor.mark()
        uid, _ = deliver("user2", "INBOX", "after check")
        self.message_for("MessagesAdded", "beta", "INBOX", uid, since)

    def test_mark_read_errors(self):
        v = dovecot.status("user2", "INBOX")["uidvalidity"]
        for bad in ("nope/INBOX/1/1", "garbage", f"beta/INBOX/{v}/999999",
                    f"beta/INBOX/{v + 1}/1", "beta/Nope/1/1"):
            text = self.assert_bus_error("org.imapwatch.Error.NoSuchMessage", "MarkRead", [bad])
            self.assertIn(bad, text)
        self.assert_bus_error("org.imapwatch.Error.NoSuchAccount", "MarkAllRead", "nope", "")
        self.assert_bus_error("org.imapwatch.Error.NoSuchAccount", "MarkAllRead", "beta", "Nope")
        self.assert_bus_error("org.freedesktop.DBus.Error.InvalidArgs", "MarkRead",
                              "string:x", raw=True)
        self.assert_bus_error("org.freedesktop.DBus.Error.InvalidArgs", "MarkAllRead",
                              "string:beta", raw=True)
        code, _, err = cli(self.bus, "mark-read", "nope/INBOX/1/1")
        self.assertEqual(code, 1)
        self.assertIn("no message with id 'nope/INBOX/1/1'", err)

    def test_mark_read_sets_seen_only(self):
        """Needs the real mark-read connection (src/io/mark-read.c)."""
        since = self.monitor.mark()
        uids = [deliver("user2", "INBOX", f"mark {i}")[0] for i in range(3)]
        for uid in uids:
            self.message_for("MessagesAdded", "beta", "INBOX", uid, since)
        dovecot.flags_add("user2", "INBOX", uids[2], "\\Flagged")
        self.message_for("MessagesChanged", "beta", "INBOX", uids[2], since)
        v = dovecot.status("user2", "INBOX")["uidvalidity"]
        before = dovecot.state("user2", "INBOX")

        since = self.monitor.mark()
        self.assertEqual(self.call("MarkRead", [f"beta/INBOX/{v}/{uids[0]}"]), ())
        after = dovecot.state("user2", "INBOX")
        expected = dict(before)
        expected[uids[0]] = before[uids[0]] | {"\\Seen"}
        self.assertEqual(after, expected)
        self.message_for("MessagesChanged", "beta", "INBOX", uids[0], since)

        code, out, err = cli(self.bus, "mark-read", "--all", "beta/INBOX")
        self.assertEqual((code, err), (0, ""))
        after = dovecot.state("user2", "INBOX")
        self.assertEqual(after, {uid: flags | {"\\Seen"} for uid, flags in before.items()})
        self.assertEqual(dovecot.status("user2", "INBOX")["unseen"], 0)

    def test_introspect(self):
        xml = self.call("Introspect", iface="org.freedesktop.DBus.Introspectable")[0]
        got = ET.fromstring(xml)
        want = ET.parse(XML_PATH).getroot()

        def members(node, iface):
            found = [i for i in node.findall("interface") if i.get("name") == iface]
            self.assertEqual(len(found), 1, iface)
            out = set()
            for el in found[0]:
                args = tuple((a.get("name"), a.get("type"), a.get("direction"))
                             for a in el.findall("arg"))
                out.add((el.tag, el.get("name"), args, el.get("type"), el.get("access")))
            return out

        self.assertEqual(members(got, b.IFACE), members(want, b.IFACE))
        names = {i.get("name") for i in got.findall("interface")}
        self.assertEqual(names, {b.IFACE, "org.freedesktop.DBus.Introspectable",
                                 "org.freedesktop.DBus.Properties",
                                 "org.freedesktop.DBus.Peer"})
        props = {m[1] for m in members(got, "org.freedesktop.DBus.Properties")}
        self.assertEqual(props, {"Get", "GetAll", "Set", "PropertiesChanged"})
        self.assertEqual(got.get("name"), b.PATH)

    def test_properties(self):
        props = "org.freedesktop.DBus.Properties"
        version = subprocess.run([self.daemon.binary, "--version"], stdout=subprocess.PIPE,
                                 check=True).stdout.decode().split()[-1]
        status = self.call("GetStatus")[0]
        self.assertEqual(self.call("Get", b.IFACE, "Version", iface=props), (version,))
        self.assertEqual(self.call("Get", b.IFACE, "Accounts", iface=props), (self.ACCOUNTS,))
        self.assertEqual(self.call("Get", b.IFACE, "TotalUnseen", iface=props),
                         (status["total_unseen"],))
        every = {"Version": version, "Accounts": self.ACCOUNTS,
                 "TotalUnseen": status["total_unseen"], "PausedUntil": 0, "Quiet": []}
        self.assertEqual(self.call("GetAll", b.IFACE, iface=props), (every,))
        self.assertEqual(self.call("GetAll", "", iface=props), (every,))
        self.assert_bus_error("org.freedesktop.DBus.Error.UnknownProperty", "Get",
                              b.IFACE, "Nope", iface=props)
        self.assert_bus_error("org.freedesktop.DBus.Error.UnknownInterface", "GetAll",
                              "org.example.Nope", iface=props)
        self.assert_bus_error("org.freedesktop.DBus.Error.PropertyReadOnly", "Set",
                              f"string:{b.IFACE}", "string:Version", "variant:string:9",
                              iface=props, raw=True)
        self.assertEqual(self.call("Ping", iface="org.freedesktop.DBus.Peer"), ())
        self.assert_bus_error("org.freedesktop.DBus.Error.UnknownMethod", "Nope", raw=True)

    def test_reload_with_broken_config_changes_nothing(self):
        with open(self.daemon.config_path, encoding="utf-8") as f:
            good = f.read()
        self.addCleanup(self._write_config, good)
        self._write_config(good + "\n[account broken]\nhost = \n")
        text = self.assert_bus_error("org.imapwatch.Error.Failed", "Reload")
        self.assertIn("line", text)
        code, _, err = cli(self.bus, "reload")
        self.assertEqual(code, 1)
        self.assertIn("line", err)
        self.assertEqual(self.call("Get", b.IFACE, "Accounts",
                                   iface="org.freedesktop.DBus.Properties"), (self.ACCOUNTS,))

    def _write_config(self, text):
        with open(self.daemon.config_path, "w", encoding="utf-8") as f:
            f.write(text)

    def test_single_instance(self):
        logins_before = len(logins("user1"))
        second = h.Daemon({"alpha": account("user1")}, name="second",
                          env={"DBUS_SESSION_BUS_ADDRESS": self.bus.address})
        second.start()
        self.addCleanup(second.kill)
        self.assertEqual(second.wait_exit(20), 0, second.describe())
        self.assertIn("imapwatchd is already running", second.stderr_text())
        self.assertEqual(second.events_so_far(), [])
        self.assertEqual(len(logins("user1")), logins_before)
        # The first one keeps serving and watching.
        self.assertEqual(self.call("Get", b.IFACE, "Accounts",
                                   iface="org.freedesktop.DBus.Properties"), (self.ACCOUNTS,))
        since = self.monitor.mark()
        uid, _ = deliver("user1", "INBOX", "still here")
        self.message_for("MessagesAdded", "alpha", "INBOX", uid, since)


class FolderResetTest(b.BusTestCase):
    """A folder recreated by another client: one FolderReset, after which
    the old ids are void, and imapwatch monitor shows it both ways."""

    @classmethod
    def setUpClass(cls):
        dovecot.create_folder("user8", "Scratch")
        cls.proxy = FaultProxy("127.0.0.1", dovecot.imaps_port)
        cls.proxy.start()
        try:
            cls.start_bus({"again": dict(account("user8", ["Scratch"]), port=cls.proxy.port)})
        except BaseException:
            cls.proxy.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.stop_bus()
        finally:
            cls.proxy.stop()

    def monitor_cli(self, *args):
        proc = subprocess.Popen([cli_binary(), "monitor", *args], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=self.bus.env(), bufsize=0)
        self.addCleanup(lambda: (proc.poll() is None and proc.kill(), proc.wait(),
                                 proc.stdout.close(), proc.stderr.close()))
        self.assertIn("monitoring", read_stderr_line(proc, EVENT_TIMEOUT))
        return proc

    def test_folder_reset(self):
        old_uid, _ = deliver("user8", "Scratch", "before the reset")
        self.daemon.wait_for(is_event("new", uid=old_uid), timeout=EVENT_TIMEOUT)
        old = dovecot.status("user8", "Scratch")["uidvalidity"]
        old_id = f"again/Scratch/{old}/{old_uid}"
        as_json = self.monitor_cli("--json")
        as_text = self.monitor_cli()
        since = self.monitor.mark()
        mark = self.daemon.mark()

        dovecot.recreate_folder("user8", "Scratch", [f"refilled {i}" for i in range(3)],
                                self.proxy)
        new = dovecot.status("user8", "Scratch")["uidvalidity"]
        args = self.monitor.wait_for("FolderReset", timeout=30, since=since)
        self.assertEqual(args, ("again", "Scratch", new, old, 3, 3))
        self.monitor.wait_for("UnseenCountChanged", lambda a: a == ("again", "Scratch", 3),
                              since=since)
        signals = self.monitor.signals(since)
        members = [m for m, _ in signals]
        # Once, before the new unseen count, and no message by message.
        self.assertEqual(members.count("FolderReset"), 1)
        self.assertLess(members.index("FolderReset"),
                        signals.index(("UnseenCountChanged", ("again", "Scratch", 3))))
        self.assertEqual(self.monitor.messages("MessagesAdded", since), [])

        # The old id is void; the listing has the new ones.
        self.assert_bus_error("org.imapwatch.Error.NoSuchMessage", "MarkRead", [old_id])
        listed = self.call("ListMessages", "again", "Scratch", False)[0]
        self.assertTrue(listed)
        self.assertEqual({d["uidvalidity"] for d in listed}, {new})

        # imapwatch monitor --json prints what --print-events printed.
        printed = self.daemon.wait_for(is_event("reset"), since=mark)
        want = next(line for line in self.daemon.lines_so_far()[mark:]
                    if json.loads(line) == printed)
        line = "{}"
        while json.loads(line).get("event") != "reset":
            line = read_line(as_json, EVENT_TIMEOUT)
        self.assertEqual(line, want)
        line = ""
        while " reset " not in line:
            line = read_line(as_text, EVENT_TIMEOUT)
        self.assertRegex(line, r"^\d\d:\d\d:\d\d reset\s+again/Scratch was reset by the "
                               r"server: 3 messages, 3 unread$")


class ReloadTest(b.BusTestCase):
    """Reload adds and removes accounts; the kept one keeps its connection."""

    @classmethod
    def setUpClass(cls):
        cls.start_bus({"keep": account("user4"), "gone": account("user5")})

    @classmethod
    def tearDownClass(cls):
        cls.stop_bus()

    def test_reload_adds_and_removes(self):
        props = "org.freedesktop.DBus.Properties"
        self.assertEqual(self.call("Get", b.IFACE, "Accounts", iface=props), (["keep", "gone"],))
        who_keep = dovecot.who("user4")
        logins_keep = len(logins("user4"))
        self.assertTrue(who_keep)
        self.assertTrue(dovecot.who("user5"))
        since = self.monitor.mark()
        mark = self.daemon.mark()
        self.daemon.accounts = {"keep": account("user4"), "new": account("user6")}
        with open(self.daemon.config_path, "w", encoding="utf-8") as f:
            f.write(self.daemon.config_text())

        code, out, err = cli(self.bus, "reload")
        self.assertEqual((code, out, err), (0, "", ""))
        self.monitor.wait_for("PropertiesChanged",
                              lambda a: a[1].get("Accounts") == ["keep", "new"], since=since)
        self.monitor.wait_for("AccountStateChanged", lambda a: a[:2] == ("new", "idle"),
                              since=since, timeout=CONNECT_TIMEOUT)
        self.assertEqual(self.call("Get", b.IFACE, "Accounts", iface=props), (["keep", "new"],))
        self.assertEqual([a["name"] for a in self.call("GetStatus")[0]["accounts"]],
                         ["keep", "new"])
        b.wait_condition(lambda: not dovecot.who("user5"), 10, "user5 logged out")
        self.assertTrue(dovecot.who("user6"))
        # The kept account: same sessions, no new login, no state change.
        self.assertEqual(dovecot.who("user4"), who_keep)
        self.assertEqual(len(logins("user4")), logins_keep)
        self.assertEqual([s for s in self.monitor.signals(since, "AccountStateChanged")
                          if s[1][0] == "keep"], [])
        self.assertEqual(self.daemon.find(lambda e: e["account"] == "keep", since=mark), [])
        # It still watches.
        since = self.monitor.mark()
        uid, _ = deliver("user4", "INBOX", "after reload")
        self.message_for("MessagesAdded", "keep", "INBOX", uid, since)


if __name__ == "__main__":
    unittest.main()
