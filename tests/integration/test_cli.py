# SPDX-License-Identifier: MIT
"""The imapwatch command against imapwatchd on a private session bus, with a
real Dovecot: the output of status, list, check, monitor, --help and
--version, colour only on a terminal, rows of list and status fitted to
the terminal's width (whole rows for programs), INBOX in any case in
ACCOUNT/FOLDER, and the exit codes for bad usage, an unknown account,
without a daemon, without a bus and with an account in error.

What the command prints is compared with the daemon's D-Bus replies
(`gdbus call`) and with its --print-events output. Waits are bounded waits
on signals or on the output of the daemon or the command. Tests of a D-Bus
method that also drive it through the command (mark-read, reload) are in
test_dbus.
"""

import fcntl
import functools
import json
import os
import pty
import re
import struct
import subprocess
import tempfile
import termios
import unicodedata
import unittest

import bus_harness as b
import imapwatch_harness as h
from bus_harness import CONNECT_TIMEOUT, EVENT_TIMEOUT, cli, cli_binary, read_line, \
    read_stderr_line
from imapwatch_harness import is_account_state, is_event

# One server for the module's tests, started before the first.
dovecot = h.Dovecot()
setUpModule = dovecot.start
tearDownModule = dovecot.stop
account = functools.partial(b.account, dovecot)
deliver = functools.partial(b.deliver, dovecot)


def cli_on_tty(bus, *args, env=None, columns=None):
    """imapwatch with stdout on a pseudo-terminal (of `columns` columns,
    as TIOCSWINSZ sets them); returns its output."""
    master, slave = pty.openpty()
    try:
        if columns is not None:
            fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
        environ = bus.env(TERM="xterm", **(env or {}))
        environ.pop("COLUMNS", None)
        proc = subprocess.Popen([cli_binary(), *args], stdin=subprocess.DEVNULL,
                                stdout=slave, stderr=subprocess.PIPE, env=environ)
        os.close(slave)
        slave = None
        out = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
        proc.wait(timeout=30)
        proc.stderr.close()
        return out.decode()
    finally:
        if slave is not None:
            os.close(slave)
        os.close(master)


def display_width(text):
    """Terminal columns of text, as imapwatch counts them: East Asian wide
    characters 2, combining marks 0."""
    return sum(0 if unicodedata.combining(c) else
               2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


class CliTest(b.ThreeAccountsTestCase):
    """imapwatch against one daemon with three accounts on its own bus."""

    server = dovecot

    def test_cli_status(self):
        code, out, err = cli(self.bus, "status")
        self.assertEqual((code, err), (0, ""))
        self.assertNotIn("\x1b", out)
        lines = out.splitlines()
        self.assertTrue(lines[0].startswith("imapwatchd "), out)
        header = next(i for i, line in enumerate(lines) if line.startswith("ACCOUNT"))
        columns = [lines[header].index(c) for c in ("STATE", "UNSEEN", "LAST EVENT")]
        rows = lines[header + 1:]
        self.assertEqual([r.split()[0] for r in rows], self.ACCOUNTS)
        for row in rows:
            self.assertEqual(row[columns[0]:].split()[0], "idle", out)
            self.assertTrue(row[columns[1]:].startswith("INBOX "), out)
            self.assertRegex(row[columns[2]:], r"^(never|just now|\d+ (s|min|h|days) ago)")
        self.assertIn("INBOX", rows[0])
        self.assertIn("Lists", rows[0])

        code, out, err = cli(self.bus, "status", "--json")
        self.assertEqual((code, err), (0, ""))
        self.assertEqual(len(out.splitlines()), 1)
        status = json.loads(out)
        reference = self.call("GetStatus")[0]
        status.pop("uptime")
        reference.pop("uptime")
        for a, r in zip(status["accounts"], reference["accounts"]):
            # Events may land between the two calls.
            a.pop("last_event")
            r.pop("last_event")
        self.assertEqual(status, reference)

        code, out, err = cli(self.bus, "status", "extra")
        self.assertEqual(code, 2)
        self.assertIn("imapwatch status --help", err)

    def test_cli_colour_only_on_a_terminal(self):
        out = cli_on_tty(self.bus, "status")
        self.assertIn("\x1b[", out)
        self.assertIn("ACCOUNT", out)
        out = cli_on_tty(self.bus, "status", env={"NO_COLOR": "1"})
        self.assertNotIn("\x1b", out)
        self.assertIn("ACCOUNT", out)
        code, out, _ = cli(self.bus, "list", "--all")
        self.assertEqual(code, 0)
        self.assertNotIn("\x1b", out)

    def test_cli_list_and_check(self):
        since = self.monitor.mark()
        uid, _ = deliver("user1", "Lists", "for the list command")
        self.message_for("MessagesAdded", "alpha", "Lists", uid, since)
        reference = self.call("ListMessages", "alpha", "Lists", True)[0]
        code, out, err = cli(self.bus, "list", "--json", "alpha/Lists")
        self.assertEqual((code, err), (0, ""))
        self.assertEqual(json.loads(out), reference)
        code, out, err = cli(self.bus, "list", "alpha/Lists")
        self.assertEqual((code, err), (0, ""))
        self.assertTrue(out.startswith("ID"), out)
        for m in reference:
            self.assertIn(m["id"], out)
        self.assertIn("for the list command", out)
        code, out, err = cli(self.bus, "list", "--json")
        self.assertEqual(json.loads(out), self.call("ListMessages", "", "", True)[0])
        code, out, err = cli(self.bus, "list", "nope")
        self.assertEqual(code, 1)
        self.assertIn("no account named 'nope'", err)
        self.assertNotIn("org.", err)
        self.assertEqual(cli(self.bus, "list", "a", "b")[0], 2)
        self.assertEqual(cli(self.bus, "list", "--bogus")[0], 2)
        self.assertEqual(cli(self.bus, "check")[:3], (0, "", ""))
        self.assertEqual(cli(self.bus, "check", "alpha")[0], 0)
        code, _, err = cli(self.bus, "check", "nope")
        self.assertEqual(code, 1)
        self.assertIn("no account named 'nope'", err)

    def test_cli_list_fits_the_terminal(self):
        since = self.monitor.mark()
        subject = "Grüße aus Köln — 日本語の件名です, " + "a long subject line " * 20
        sender = "Someone With A Really Long Display Name " * 3
        uid, _ = deliver("user1", "Lists", subject.strip(), from_name=sender.strip(),
                         subject_encoding="B", from_encoding="B")
        message = self.message_for("MessagesAdded", "alpha", "Lists", uid, since)
        msg_id = self.find_message(message, "alpha", "Lists", uid)["id"]

        # Programs get whole rows.
        code, out, err = cli(self.bus, "list", "alpha/Lists")
        self.assertEqual((code, err), (0, ""))
        self.assertIn(subject.strip(), out)
        self.assertIn(sender.strip(), out)
        self.assertGreater(max(display_width(line) for line in out.splitlines()), 200)

        for columns in (80, 72, 132):
            out = cli_on_tty(self.bus, "list", "alpha/Lists", columns=columns,
                             env={"NO_COLOR": "1"})
            lines = out.replace("\r\n", "\n").splitlines()
            self.assertTrue(lines[0].startswith("ID"), out)
            for line in lines:
                self.assertLessEqual(display_width(line), columns, (columns, line))
            row = next(line for line in lines if msg_id in line)
            # The id stays whole (mark-read takes it); sender and subject
            # are cut, each with an ellipsis.
            self.assertTrue(row.startswith(msg_id + " "), row)
            self.assertEqual(row.count("\u2026"), 2, row)
            self.assertIn("Someone", row)
            self.assertIn("Grüße", row)

        # Colour does not count towards the width.
        out = cli_on_tty(self.bus, "list", "alpha/Lists", columns=80)
        self.assertIn("\x1b[", out)
        plain = re.sub(r"\x1b\[[0-9;]*m", "", out).replace("\r\n", "\n")
        for line in plain.splitlines():
            self.assertLessEqual(display_width(line), 80, line)

    def test_cli_status_fits_the_terminal(self):
        """status cuts the folder list (and a long detail) to the terminal's
        width; account, state and the rest stay whole; programs get whole
        rows."""
        code, whole, _ = cli(self.bus, "status")
        self.assertEqual(code, 0)
        wide = max(display_width(line) for line in whole.splitlines())
        columns = wide - 6
        self.assertGreaterEqual(columns, 58, whole)  # the narrowest it can get
        out = cli_on_tty(self.bus, "status", columns=columns, env={"NO_COLOR": "1"})
        lines = out.replace("\r\n", "\n").splitlines()
        for line in lines:
            self.assertLessEqual(display_width(line), columns, (columns, line))
        rows = lines[next(i for i, line in enumerate(lines) if line.startswith("ACCOUNT")) + 1:]
        self.assertEqual([r.split()[0] for r in rows], self.ACCOUNTS, out)
        self.assertTrue(any("\u2026" in r for r in rows), out)
        self.assertTrue(all(r.split()[1] == "idle" for r in rows), out)
        self.assertNotIn("\u2026", whole)

    def test_cli_inbox_in_any_case(self):
        """INBOX is case-insensitive (RFC 3501 §5.1), other folders are not."""
        since = self.monitor.mark()
        uid, _ = deliver("user1", "INBOX", "inbox in any case")
        self.message_for("MessagesAdded", "alpha", "INBOX", uid, since)
        code, exact, err = cli(self.bus, "list", "--json", "alpha/INBOX")
        self.assertEqual((code, err), (0, ""))
        self.assertIn("inbox in any case", exact)
        for spelling in ("inbox", "Inbox", "iNbOx"):
            self.assertEqual(cli(self.bus, "list", "--json", f"alpha/{spelling}"),
                             (0, exact, ""))
        code, out, err = cli(self.bus, "list", "alpha/lists")
        self.assertEqual((code, out), (1, ""))
        self.assertIn("no watched folder named 'lists'", err)
        code, out, err = cli(self.bus, "status", "--format",
                             "{unseen:alpha/INBOX} {unseen:alpha/inbox} {unseen:alpha/Inbox}")
        self.assertEqual((code, err), (0, ""))
        counts = out.split()
        self.assertEqual(len(set(counts)), 1, out)
        code, out, err = cli(self.bus, "status", "--format", "{unseen:alpha/lists}")
        self.assertEqual((code, out), (2, ""))
        self.assertIn("does not watch", err)

    def test_cli_unknown_account(self):
        """An account the daemon does not have: status 1 where it is an
        argument (the daemon refuses), 2 where it is in a FORMAT (a bad
        command line), as imapwatch(1) says."""
        for args in (("list", "nope"), ("list", "nope/INBOX"), ("check", "nope"),
                     ("mark-read", "--all", "nope"), ("mark-read", "--all", "nope/INBOX"),
                     ("mark-read", "nope/INBOX/1/1")):
            code, out, err = cli(self.bus, *args)
            self.assertEqual((code, out), (1, ""), (args, err))
            self.assertIn("nope", err, args)
            self.assertNotIn("org.", err)
        for args in (("status", "--format", "{unseen:nope}"),
                     ("monitor", "--i3blocks", "--format", "{state:nope}")):
            code, out, err = cli(self.bus, *args)
            self.assertEqual((code, out), (2, ""), (args, err))
            self.assertIn("names no account", err, args)

    def test_cli_help_and_version(self):
        code, out, _ = cli(self.bus, "--help")
        self.assertEqual(code, 0)
        for command in ("status", "list", "check", "mark-read", "reload", "monitor"):
            self.assertIn(command, out)
            code, out2, _ = cli(self.bus, command, "--help")
            self.assertEqual(code, 0)
            self.assertIn(f"imapwatch {command}", out2)
        code, out, _ = cli(self.bus, "--version")
        self.assertEqual(code, 0)
        self.assertRegex(out, r"^imapwatch \d+\.\d+\.\d+\n$")
        self.assertEqual(cli(self.bus)[0], 2)
        self.assertEqual(cli(self.bus, "frobnicate")[0], 2)
        self.assertEqual(cli(self.bus, "mark-read")[0], 2)

    def test_cli_monitor_json_is_print_events(self):
        proc = subprocess.Popen([cli_binary(), "monitor", "--json"], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=self.bus.env(), bufsize=0)
        self.addCleanup(lambda: (proc.poll() is None and proc.kill(), proc.wait(),
                                 proc.stdout.close(), proc.stderr.close()))
        # Subscribed once it says so.
        self.assertIn("monitoring", read_stderr_line(proc, EVENT_TIMEOUT))
        mark = self.daemon.mark()
        uid, _ = deliver("user1", "INBOX", "monitored \"quoted\" \u00e9", subject_encoding="B")
        self.daemon.wait_for(is_event("new", account="alpha", uid=uid), since=mark)
        self.daemon.wait_for(is_event("unseen", account="alpha", folder="INBOX"), since=mark)
        dovecot.flags_add("user1", "INBOX", uid, "\\Seen", "\\Flagged")
        self.daemon.wait_for(is_event("changed", account="alpha", uid=uid), since=mark)
        dovecot.expunge("user1", "INBOX", uid)
        self.daemon.wait_for(is_event("removed", account="alpha", uid=uid), since=mark)
        printed = self.daemon.lines_so_far()[mark:]
        kinds = ("new", "changed", "removed")
        want = [line for line in printed if json.loads(line)["event"] in kinds]
        last_unseen = [line for line in printed if json.loads(line)["event"] == "unseen"][-1]
        lines = []
        while len([x for x in lines if json.loads(x)["event"] in kinds]) < len(want) or \
                last_unseen not in lines:
            lines.append(read_line(proc, EVENT_TIMEOUT))
        self.assertEqual([x for x in lines if json.loads(x)["event"] in kinds], want)
        unseen = [x for x in lines if json.loads(x)["event"] == "unseen"]
        self.assertTrue(set(unseen) <= {x for x in printed if json.loads(x)["event"] == "unseen"})

    def test_cli_monitor_text(self):
        proc = subprocess.Popen([cli_binary(), "monitor"], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=self.bus.env(), bufsize=0)
        self.addCleanup(lambda: (proc.poll() is None and proc.kill(), proc.wait(),
                                 proc.stdout.close(), proc.stderr.close()))
        self.assertIn("monitoring", read_stderr_line(proc, EVENT_TIMEOUT))
        deliver("user2", "INBOX", "readable line", from_name="Reader")
        line = ""
        while "readable line" not in line:
            line = read_line(proc, EVENT_TIMEOUT)
        self.assertRegex(line, r"^\d\d:\d\d:\d\d new\s+beta/INBOX  Reader: readable line")
        self.assertNotIn("\x1b", line)


class ExitCodeTest(b.BusTestCase):
    """Exit code 3 without a daemon (and no activation), 1 with an account
    in error."""

    @classmethod
    def setUpClass(cls):
        cls.marker = tempfile.mktemp(prefix="imapwatch-activated-")
        cls.bus = b.SessionBus(services={b.NAME: f"/bin/sh -c 'touch {cls.marker}'"})
        cls.bus.start()

    @classmethod
    def tearDownClass(cls):
        cls.bus.stop()
        if os.path.exists(cls.marker):
            os.unlink(cls.marker)

    def test_no_daemon(self):
        # monitor waits for the daemon instead (test_statusbar).
        for args in (("status",), ("status", "--json"), ("list",), ("check",), ("reload",),
                     ("mark-read", "--all")):
            code, out, err = cli(self.bus, *args)
            self.assertEqual(code, 3, (args, out, err))
            self.assertEqual(out, "")
            self.assertIn("imapwatchd is not running", err)
            self.assertIn("systemctl --user start imapwatchd", err)
            self.assertIn("imapwatchd &", err)
            self.assertNotIn("org.freedesktop", err)
        # Activation would have run the .service file's command.
        self.assertFalse(os.path.exists(self.marker), "imapwatch started a service")

    def test_no_bus(self):
        code, out, err = cli(self.bus, "status",
                             env={"DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent/bus"})
        self.assertEqual(code, 3)
        self.assertIn("imapwatchd is not running", err)

    def test_account_in_error(self):
        daemon = h.Daemon({"good": account("user6"),
                           "bad": account("user7", password="wrong")},
                          env={"DBUS_SESSION_BUS_ADDRESS": self.bus.address})
        daemon.start()
        self.addCleanup(daemon.kill)
        daemon.wait_for(is_account_state("good", "idle"), timeout=CONNECT_TIMEOUT)
        daemon.wait_for(is_account_state("bad", "error"), timeout=CONNECT_TIMEOUT)
        code, out, err = cli(self.bus, "status")
        self.assertEqual((code, err), (1, ""), out)
        row = next(line for line in out.splitlines() if line.startswith("bad "))
        self.assertIn("error", row)
        detail = b.call(self.bus, "GetStatus")[0]["accounts"][1]["detail"]
        self.assertTrue(detail)
        self.assertIn(detail, row)
        code, out, _ = cli(self.bus, "status", "--json")
        self.assertEqual(code, 1)
        self.assertEqual(json.loads(out)["accounts"][1]["state"], "error")
        daemon.stop()
        self.assertFalse(os.path.exists(self.marker))


if __name__ == "__main__":
    unittest.main()
