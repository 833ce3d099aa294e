# SPDX-License-Identifier: MIT
"""Status bars: the recipes of the README's "Status bars" section, run
exactly as written there and as the bars run them (`sh -c` with
`imapwatch` on PATH), against imapwatchd on a private session bus with a
real Dovecot: the first line is the state at once, a delivery changes it,
the daemon stopping shows the offline text, its return brings the counts
back — the command never exits meanwhile. Also `imapwatch status --format`
(fields, errors, no daemon), `monitor --waybar`'s objects (tooltip, class,
markup escaping), the event modes waiting for the daemon, and how monitor
ends: SIGTERM, SIGINT, its reader gone, the bus gone.

The snippets are the fenced blocks after `<!-- test: statusbar-NAME -->`
in README.md. Waits are bounded waits on the output of the command or of
the daemon; there are no sleeps.
"""

import functools
import html
import json
import os
import re
import select
import shlex
import signal
import subprocess
import time
import unittest

import bus_harness as b
import imapwatch_harness as h
from bus_harness import CONNECT_TIMEOUT, EVENT_TIMEOUT, cli, cli_binary, read_stderr_line
from imapwatch_harness import is_account_state, is_event

# One server for the module's tests, started before the first.
dovecot = h.Dovecot()
setUpModule = dovecot.start
tearDownModule = dovecot.stop
account = functools.partial(b.account, dovecot)
deliver = functools.partial(b.deliver, dovecot)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
README = os.path.join(ROOT, "README.md")


snippet = h.readme_snippet


def ini_keys(text):
    """key=value or key = value lines of an INI snippet, as a dict."""
    keys = {}
    for line in text.splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            key, value = line.split("=", 1)
            keys[key.strip()] = value.strip()
    return keys


def option(command, name, default):
    """The value of an imapwatch option in a shell command line."""
    words = shlex.split(command)
    for i, word in enumerate(words):
        if word == name:
            return words[i + 1]
        if word.startswith(name + "="):
            return word[len(name) + 1:]
    return default


class Bar:
    """A status-bar command run as the bars run it: `sh -c COMMAND`, its
    own process group, stdin a pipe (i3blocks writes clicks there),
    stdout read line by line."""

    def __init__(self, test, command, env):
        self.command = command
        self.lines = []
        self.proc = subprocess.Popen(["/bin/sh", "-c", command], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=env, bufsize=0, start_new_session=True)
        test.addCleanup(self.kill)

    def describe(self):
        return (f"command: {self.command}\nlines so far:\n" +
                "\n".join(f"  {line}" for line in self.lines))

    def next_line(self, timeout):
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            raise AssertionError(f"no line within {timeout}s\n{self.describe()}")
        line = self.proc.stdout.readline().decode()
        if not line:
            self.proc.wait(timeout=5)
            raise AssertionError(f"the command ended ({self.proc.returncode}): "
                                 f"{self.proc.stderr.read().decode()}\n{self.describe()}")
        self.lines.append(line.rstrip("\n"))
        return self.lines[-1]

    def wait_line(self, pred, what, timeout=CONNECT_TIMEOUT, last=False):
        """Reads lines until pred(line); returns that line. last: the
        line read last may be it."""
        if last and self.lines and pred(self.lines[-1]):
            return self.lines[-1]
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no line with {what} within {timeout}s\n{self.describe()}")
            try:
                line = self.next_line(remaining)
            except AssertionError as e:
                raise AssertionError(f"waiting for {what}: {e}") from None
            if pred(line):
                return line

    def signal(self, sig):
        """Sends sig to the command's process group; its exit status."""
        os.killpg(self.proc.pid, sig)
        try:
            return self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"still running 5 s after signal {sig}\n{self.describe()}")

    def stderr_text(self):
        """stderr, once the command has ended."""
        return self.proc.stderr.read().decode()

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            stream.close()


class StatusBarCase(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        self.bus = b.SessionBus()
        self.bus.start()
        self.addCleanup(self.bus.stop)
        # `imapwatch` as the bars find it: on PATH.
        self.bindir = h._mkdtemp("imapwatch-statusbar-bin-")
        self.addCleanup(h._rmtree, self.bindir)
        os.symlink(cli_binary(), os.path.join(self.bindir, "imapwatch"))
        self.env = self.bus.env(PATH=self.bindir + os.pathsep + os.environ.get("PATH", ""))

    def start_daemon(self, accounts, wait=True):
        daemon = h.Daemon(accounts, env={"DBUS_SESSION_BUS_ADDRESS": self.bus.address})
        daemon.start()
        self.addCleanup(daemon.kill)
        if wait:
            for name in accounts:
                daemon.wait_for(is_account_state(name, "idle"), timeout=CONNECT_TIMEOUT)
        return daemon

    def run_shell(self, command):
        """A click: the bar runs the command with sh -c; exit status 0."""
        proc = subprocess.run(["/bin/sh", "-c", command], stdin=subprocess.DEVNULL,
                              capture_output=True, env=self.env, timeout=60)
        self.assertEqual(proc.returncode, 0, (command, proc.stderr.decode()))

    def assert_ends_on_sigterm(self, bar):
        code = bar.signal(signal.SIGTERM)
        # sh may exec the command or wait for it: killed by the signal
        # either way, with nothing said on stderr.
        self.assertIn(code, (-signal.SIGTERM, 128 + signal.SIGTERM), bar.describe())
        self.assertEqual(bar.stderr_text(), "")


class RecipeTest(StatusBarCase):
    """The README's recipes, started before the daemon: offline, then the
    count, a delivery, the daemon gone and back."""

    def run_recipe(self, command, user, text_of):
        """text_of(line) -> (text, offline?) for the bar's lines."""
        fmt = option(command, "--format", "{unseen}")
        offline = option(command, "--offline", "offline")
        # The test computes the expected text from these two fields only.
        self.assertEqual(set(re.findall(r"\{[^}]*\}", fmt)), {"{unseen}"}, fmt)
        self.assertNotIn("{", offline.replace("{state}", ""))
        expect = lambda n: fmt.replace("{unseen}", str(n))  # noqa: E731
        offline_text = offline.replace("{state}", "offline")

        deliver(user, "INBOX", "before the bar")
        bar = Bar(self, command, self.env)
        # The state at once: nobody owns the daemon's name yet.
        first = bar.next_line(EVENT_TIMEOUT)
        self.assertEqual(text_of(first), (offline_text, True))

        accounts = {"mail": account(user)}
        daemon = self.start_daemon(accounts, wait=False)
        bar.wait_line(lambda line: text_of(line) == (expect(1), False), "1 unseen")
        daemon.wait_for(is_account_state("mail", "idle"), timeout=CONNECT_TIMEOUT)

        mark = daemon.mark()
        deliver(user, "INBOX", "while the bar watches")
        bar.wait_line(lambda line: text_of(line) == (expect(2), False), "2 unseen",
                      timeout=EVENT_TIMEOUT)
        daemon.wait_for(is_event("unseen", account="mail", count=2), since=mark)

        daemon.stop()
        bar.wait_line(lambda line: text_of(line) == (offline_text, True), "the offline text",
                      timeout=EVENT_TIMEOUT)

        daemon = self.start_daemon(accounts, wait=False)
        bar.wait_line(lambda line: text_of(line) == (expect(2), False), "2 unseen again")
        daemon.wait_for(is_account_state("mail", "idle"), timeout=CONNECT_TIMEOUT)
        self.assertIsNone(bar.proc.poll())
        return bar, daemon

    def test_waybar(self):
        module = json.loads("{" + snippet("statusbar-waybar") + "}")["custom/mail"]
        self.assertEqual(module["return-type"], "json")
        objects = []

        def text_of(line):
            obj = json.loads(line)
            objects.append(obj)
            self.assertEqual(set(obj), {"text", "alt", "tooltip", "class"}, line)
            return obj["text"], obj["class"] == ["offline"]

        bar, _ = self.run_recipe(module["exec"], "user1", text_of)
        # The daemon is idle: so is the bar, at once or with its next line.
        last = json.loads(bar.wait_line(
            lambda line: json.loads(line)["class"] == ["unread", "idle"], "idle",
            timeout=EVENT_TIMEOUT, last=True))
        offline = objects[0]
        self.assertEqual((offline["alt"], offline["tooltip"]),
                         ("offline", "imapwatchd is not running"))
        self.assertEqual(last["alt"], "unread")
        self.assertEqual(last["class"], ["unread", "idle"])
        self.assertEqual(last["tooltip"], "mail: 2 unseen, idle\n  INBOX: 2")
        self.assertEqual(module["format-icons"].keys(), {"unread", "read", "error", "offline"})
        # One line per change: never the same object twice in a row.
        self.assertTrue(all(a != b for a, b in zip(bar.lines, bar.lines[1:])), bar.describe())
        self.run_shell(module["on-click"])
        self.assert_ends_on_sigterm(bar)

    def test_i3blocks(self):
        block = ini_keys(snippet("statusbar-i3blocks"))
        self.assertEqual(block["interval"], "persist")
        bar, _ = self.run_recipe(block["command"], "user2",
                                 lambda line: (line, line == "offline"))
        self.assertEqual(bar.lines[0], "offline")
        self.assert_ends_on_sigterm(bar)

    def test_polybar(self):
        module = ini_keys(snippet("statusbar-polybar"))
        self.assertEqual((module["type"], module["tail"]), ("custom/script", "true"))
        bar, _ = self.run_recipe(module["exec"], "user3", lambda line: (line, line == "-"))
        self.run_shell(module["click-left"])
        self.assert_ends_on_sigterm(bar)


class DaemonLeavingTest(StatusBarCase):
    """A daemon that stops between taking a call and answering it (the bus
    answers NoReply at once): the command says it is not running, as it
    would a moment later, not that it did not answer in time."""

    def test_status_while_the_daemon_leaves(self):
        from harness_keyring import _Connection
        owner = _Connection(self.bus.address)
        owner.call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                   "RequestName", "su", [("s", "org.imapwatch.Daemon1"), ("u", 4)])
        proc = subprocess.Popen([cli_binary(), "status"], env=self.env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(proc.kill)
        # Wait for the call to reach the "daemon", then leave unanswered.
        seen = b""
        while b"GetStatus" not in seen:
            chunk = owner.sock.recv(4096)
            self.assertTrue(chunk, "the bus closed our connection")
            seen += chunk
        owner.sock.close()
        out, err = proc.communicate(timeout=20)
        self.assertEqual(proc.returncode, 3, err)
        self.assertIn("not running", err)
        self.assertNotIn("did not answer", err)


class FormatTest(StatusBarCase):
    """status --format and monitor --waybar against two accounts, one of
    them in error, and a folder whose name is markup."""

    def test_status_format_and_waybar(self):
        dovecot.create_folder("user4", "R&D")
        deliver("user4", "R&D", "research")
        deliver("user4", "INBOX", "inbox")
        deliver("user4", "INBOX", "inbox too")
        daemon = self.start_daemon({"alpha": account("user4", ["INBOX", "R&D"]),
                                    "beta": account("user5", password="wrong")}, wait=False)
        daemon.wait_for(is_account_state("alpha", "idle"), timeout=CONNECT_TIMEOUT)
        daemon.wait_for(is_account_state("beta", "error"), timeout=CONNECT_TIMEOUT)

        def status(*args):
            return cli(self.bus, "status", *args)

        fmt = ("{unseen} {state} {accounts} {unseen:alpha} {state:alpha} {state:beta} "
               "{unseen:alpha/R&D} {unseen:beta/INBOX} {{x}}")
        # An account in error is in {state}, not in the exit status.
        self.assertEqual(status("--format", fmt), (0, "3 error 2 3 idle error 1 0 {x}\n", ""))
        self.assertEqual(status("--format=plain text")[:2], (0, "plain text\n"))
        self.assertEqual(status("--format", "")[:2], (0, "\n"))

        for bad, named in (("{unseen} {frob}", "'{frob}'"), ("{accounts:alpha}", "'{accounts:alpha}'"),
                           ("{state:alpha/INBOX}", "'{state:alpha/INBOX}'")):
            code, out, err = status("--format", bad)
            self.assertEqual((code, out), (2, ""), err)
            self.assertIn(named, err)
            for field in ("{unseen}", "{state}", "{accounts}", "{unseen:ACCOUNT}",
                          "{state:ACCOUNT}", "{unseen:ACCOUNT/FOLDER}"):
                self.assertIn(field, err)
        code, out, err = status("--format", "{unseen:gamma}")
        self.assertEqual((code, out), (2, ""))
        self.assertIn("'{unseen:gamma}'", err)
        self.assertIn("alpha, beta", err)
        code, out, err = status("--format", "{unseen:alpha/Nope}")
        self.assertEqual((code, out), (2, ""))
        self.assertIn("'{unseen:alpha/Nope}'", err)
        self.assertIn("INBOX, R&D", err)
        for bad, where in (("{unseen", "character 1"), ("a}", "character 2"),
                           ("é{x{unseen}", "character 2")):
            code, out, err = status("--format", bad)
            self.assertEqual((code, out), (2, ""), bad)
            self.assertIn(where, err)
        self.assertEqual(status("--format", "{unseen}", "--json")[0], 2)
        self.assertEqual(status("--offline", "-")[0], 2)
        code, _, err = status("--format", "{unseen}", "--offline", "{unseen}")
        self.assertEqual(code, 2)
        self.assertIn("{unseen}", err)

        # The same fields in waybar's text; the tooltip escaped for Pango.
        bar = Bar(self, f"imapwatch monitor --waybar --format {shlex.quote(fmt)}", self.env)
        obj = json.loads(bar.next_line(EVENT_TIMEOUT))
        self.assertEqual(obj["text"], "3 error 2 3 idle error 1 0 {x}")
        self.assertEqual((obj["alt"], obj["class"]), ("error", ["unread", "error"]))
        detail = b.call(self.bus, "GetStatus")[0]["accounts"][1]["detail"]
        self.assertTrue(detail)
        # Pango markup: entities for what would be markup, nothing else.
        self.assertIsNone(re.search(r"[<>]|&(?!amp;|lt;|gt;|quot;|apos;|#39;|#34;)",
                                    obj["tooltip"]), obj["tooltip"])
        self.assertIn("R&amp;D", obj["tooltip"])
        self.assertEqual(html.unescape(obj["tooltip"]).split("\n"),
                         ["alpha: 3 unseen, idle", "  INBOX: 2", "  R&D: 1",
                          "beta: 0 unseen, error: " + detail, "  INBOX: 0"])
        dovecot.flags_add("user4", "R&D", 1, "\\Seen")
        obj = json.loads(bar.wait_line(lambda line: json.loads(line)["text"].startswith("2 "),
                                       "2 unseen", timeout=EVENT_TIMEOUT))
        self.assertEqual(obj["text"], "2 error 2 2 idle error 0 0 {x}")
        self.assert_ends_on_sigterm(bar)

        # A name the running daemon does not have: an error at start.
        code, out, err = cli(self.bus, "monitor", "--i3blocks", "--format", "{unseen:gamma}")
        self.assertEqual((code, out), (2, ""))
        self.assertIn("alpha, beta", err)
        code, _, err = cli(self.bus, "monitor", "--waybar", "--json")
        self.assertEqual(code, 2)
        code, _, err = cli(self.bus, "monitor", "--json", "--format", "{unseen}")
        self.assertEqual(code, 2)
        code, _, err = cli(self.bus, "monitor", "--waybar", "--format", "{bogus}")
        self.assertEqual(code, 2)
        self.assertIn("'{bogus}'", err)
        daemon.stop()

    def test_status_without_daemon(self):
        for args in (("status",), ("status", "--json"), ("status", "--format", "{unseen}")):
            code, out, err = cli(self.bus, *args)
            self.assertEqual((code, out), (3, ""), args)
            self.assertIn("imapwatchd is not running", err)
        self.assertEqual(cli(self.bus, "status", "--format", "{unseen}", "--offline",
                             "mail {state} {state:work}"), (0, "mail offline offline\n", ""))
        self.assertEqual(cli(self.bus, "status", "--format", "{unseen}", "--offline", ""),
                         (0, "\n", ""))
        # No session bus at all: the same.
        self.assertEqual(cli(self.bus, "status", "--format", "{unseen}", "--offline", "-",
                             env={"DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent/bus"}),
                         (0, "-\n", ""))


class MonitorLifeTest(StatusBarCase):
    """The event modes wait for the daemon too; how monitor ends."""

    def start_monitor(self, *args):
        proc = subprocess.Popen([cli_binary(), "monitor", *args], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=self.bus.env(), bufsize=0)
        self.addCleanup(lambda: (proc.poll() is None and proc.kill(), proc.wait(),
                                 proc.stdout.close(), proc.stderr.close()))
        return proc

    def test_event_modes_wait_for_the_daemon(self):
        text = self.start_monitor()
        js = self.start_monitor("--json")
        for proc in (text, js):
            self.assertIn("monitoring", read_stderr_line(proc, EVENT_TIMEOUT))
            self.assertIn("not running; waiting for it to start",
                          read_stderr_line(proc, EVENT_TIMEOUT))
        daemon = self.start_daemon({"mail": account("user6")})
        for proc in (text, js):
            self.assertIn("imapwatchd is running", read_stderr_line(proc, EVENT_TIMEOUT))
        mark = daemon.mark()
        uid, _ = deliver("user6", "INBOX", "seen by both")
        daemon.wait_for(is_event("new", account="mail", uid=uid), since=mark)
        line = ""
        while "seen by both" not in line:
            line = b.read_line(text, EVENT_TIMEOUT)
        event = {}
        while event.get("event") != "new":
            event = json.loads(b.read_line(js, EVENT_TIMEOUT))
        self.assertEqual((event["uid"], event["subject"]), (uid, "seen by both"))
        daemon.stop()
        for proc in (text, js):
            self.assertIn("stopped; waiting", read_stderr_line(proc, EVENT_TIMEOUT))
            self.assertIsNone(proc.poll())
        daemon = self.start_daemon({"mail": account("user6")})
        for proc in (text, js):
            self.assertIn("imapwatchd is running", read_stderr_line(proc, EVENT_TIMEOUT))
        daemon.stop()

    def test_ends_when_its_reader_goes(self):
        for args in (("--waybar",), ("--i3blocks",), ("--json",), ()):
            r, w = os.pipe()
            proc = subprocess.Popen([cli_binary(), "monitor", *args], stdin=subprocess.DEVNULL,
                                    stdout=w, stderr=subprocess.PIPE, env=self.bus.env())
            os.close(w)
            self.addCleanup(lambda p=proc: (p.poll() is None and p.kill(), p.wait(),
                                            p.stderr.close()))
            if args in (("--waybar",), ("--i3blocks",)):
                ready, _, _ = select.select([r], [], [], EVENT_TIMEOUT)
                self.assertTrue(ready, args)
                self.assertIn(b"offline", os.read(r, 4096))
            else:
                self.assertIn("monitoring", read_stderr_line(proc, EVENT_TIMEOUT))
            # Nothing changes from here on: only the closed pipe ends it.
            os.close(r)
            self.assertEqual(proc.wait(timeout=EVENT_TIMEOUT), 0, args)
            self.assertEqual(proc.stderr.read().decode().count("cannot write"), 0)

    def test_signals_and_bus_gone(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            proc = self.start_monitor("--waybar")
            b.read_line(proc, EVENT_TIMEOUT)
            proc.send_signal(sig)
            self.assertEqual(proc.wait(timeout=EVENT_TIMEOUT), -sig)
        proc = self.start_monitor("--i3blocks")
        self.assertEqual(b.read_line(proc, EVENT_TIMEOUT), "offline")
        self.bus.stop()
        self.assertEqual(proc.wait(timeout=EVENT_TIMEOUT), 1)
        self.assertIn("lost the connection to the session bus", proc.stderr.read().decode())


if __name__ == "__main__":
    unittest.main()
