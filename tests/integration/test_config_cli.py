# SPDX-License-Identifier: MIT
"""The config file as imapwatchd reads it, through the programs themselves:
`imapwatchd --check-config` on a file with several mistakes (every one
printed, in line order, each naming file, line and key), on a FIFO (an
error at once, never a hang), on a missing file (the message says where
the example is and names the man page), on the syntax people bring from
other formats (comments after values, quoted values); and an account with
`enabled = false` in a running daemon: `imapwatch status` shows it
disabled, no connection is made and no password command runs, and a
reload that flips it starts and stops it.

Waits are bounded waits on the daemon's events, on the command's exit or
on a listening socket; no sleeps.
"""

import functools
import json
import os
import re
import select
import socket
import subprocess
import tempfile
import unittest

import bus_harness as b
import imapwatch_harness as h
from bus_harness import CONNECT_TIMEOUT, EVENT_TIMEOUT, cli
from imapwatch_harness import is_account_state

# How long a --check-config run may take; a FIFO that blocked the open
# would hit it.
RUN_TIMEOUT = 30


def check_config(path, env=None):
    """imapwatchd --check-config [--config path]; (exit code, stdout, stderr)."""
    args = [h.program("IMAPWATCHD"), "--check-config"]
    if path is not None:
        args += ["--config", path]
    proc = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          env=env, timeout=RUN_TIMEOUT)
    return proc.returncode, proc.stdout, proc.stderr


class CheckConfigTest(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="imapwatch-config-cli-")
        self.addCleanup(h._rmtree, self.tmp)

    def write(self, text, name="config"):
        path = os.path.join(self.tmp, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(path, 0o600)
        return path

    def test_every_error_at_once(self):
        path = self.write(
            "[daemon]\n"                                   # 1
            "idle_refresh = 540   # seconds, I thought\n"  # 2
            "notify_max = 0\n"                             # 3
            "\n"                                           # 4
            "[account work]\n"                             # 5
            "host = \"imap.example.com\"\n"                # 6
            "hots = x\n"                                   # 7
            "username = me\n"                              # 8
            "password = \"s3cret-pw\n"                     # 9
            "folders = [\"INBOX\", \"Work\"]\n"            # 10
            "security = ssl\n"                             # 11
            "[acount home]\n"                              # 12
            "host = h\n")                                  # 13
        code, out, err = check_config(path)
        self.assertEqual(code, 1, out + err)
        self.assertEqual(out, "")
        lines = err.splitlines()
        self.assertEqual(lines, [
            f"imapwatchd: {path}:2: [daemon] key 'idle_refresh': '540' has no unit; write 9m, "
            "not 540 (units: s, m, h)",
            f"imapwatchd: {path}:3: [daemon] key 'notify_max': '0' is not a number from 1 to 20",
            f"imapwatchd: {path}:7: [account work] key 'hots': unknown key; did you mean 'host'?",
            f"imapwatchd: {path}:9: [account work] key 'password': the quote at column 12 is not "
            "closed; end the value with \" (and write \\\" for a quote inside it, or at the "
            "start of a value that begins with one)",
            f"imapwatchd: {path}:10: [account work] key 'folders': '[\"INBOX\", \"Work\"]' looks "
            "like a list of another format (TOML, YAML); separate folders with ';', without "
            "brackets (folders = INBOX;Work)",
            f"imapwatchd: {path}:11: [account work] key 'security': 'ssl' is not one of tls, "
            "starttls, none",
            f"imapwatchd: {path}:12: unknown group [acount home]; did you mean "
            "'[account home]'?",
        ])
        self.assertNotIn("s3cret-pw", err)

    def test_more_errors_than_shown(self):
        text = "[account a]\nhost = h\nusername = u\npassword_command = true\n"
        text += "".join(f"port{i} = 1\n" for i in range(30))
        code, out, err = check_config(self.write(text))
        self.assertEqual(code, 1, out + err)
        lines = err.splitlines()
        self.assertEqual(len(lines), 21, err)
        for n, line in enumerate(lines[:20]):
            self.assertTrue(line.startswith(f"imapwatchd: {self.tmp}/config:{n + 5}: "
                                            f"[account a] key 'port{n}': "), line)
        self.assertEqual(lines[20], "imapwatchd: … and 10 more errors")

    def test_forgiving_syntax_passes(self):
        path = self.write(
            "[daemon]\n"
            "idle_refresh = 9m   # re-issue IDLE\n"
            "startup = \"each\"\n"
            "\n"
            "[account work]   # the office\n"
            "host = \"imap.example.com\"\n"
            "username = me@example.com  # me\n"
            "password = \"pass #word\"\n"
            "folders = INBOX; \"Work; Stuff\" ;Lists/*  # mine\n"
            "notify_folders = 'Work; Stuff'\n"
            "open_command = thunderbird -mail 'mid:%m'   # on a click\n")
        code, out, err = check_config(path)
        self.assertEqual(code, 0, out + err)
        self.assertIn("  idle_refresh: 9m\n", out)
        self.assertIn("  startup: each\n", out)
        self.assertIn("[account work]\n  enabled: true\n  host: imap.example.com\n", out)
        self.assertIn("  username: me@example.com\n", out)
        self.assertIn("  folders: INBOX; Work\\; Stuff; Lists/*\n", out)
        self.assertIn("  notify_folders: Work\\; Stuff\n", out)
        self.assertIn("  open_command: thunderbird -mail 'mid:%m'\n", out)
        self.assertNotIn("pass #word", out + err)

    def test_fifo_is_refused_at_once(self):
        fifo = os.path.join(self.tmp, "config")
        os.mkfifo(fifo)
        # No writer ever opens it: an open that waited would hang until
        # RUN_TIMEOUT and fail the test with TimeoutExpired.
        code, out, err = check_config(fifo)
        self.assertEqual(code, 1, out + err)
        self.assertEqual(err, f"imapwatchd: {fifo}: is a FIFO (named pipe); give the config "
                              "file itself (a regular file)\n")
        # The daemon proper reads it the same way.
        proc = subprocess.run([h.program("IMAPWATCHD"), "--config", fifo],
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=RUN_TIMEOUT)
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        self.assertIn("is a FIFO (named pipe)", proc.stderr)

    def test_missing_file_points_to_the_example(self):
        missing = os.path.join(self.tmp, "nothing-here")
        code, out, err = check_config(missing)
        self.assertEqual(code, 1, out + err)
        self.assertRegex(
            err,
            r"^imapwatchd: " + re.escape(missing) + r": cannot open: No such file or "
            r"directory; to start one, copy the example /\S+/share/doc/imapwatch/"
            r"config\.example to this path and edit it \(man 5 imapwatch\.conf\)\n$")
        # Without --config: the default path under XDG_CONFIG_HOME.
        env = dict(os.environ, XDG_CONFIG_HOME=self.tmp)
        code, out, err = check_config(None, env=env)
        self.assertEqual(code, 1, out + err)
        self.assertTrue(err.startswith(f"imapwatchd: {self.tmp}/imapwatch/config: cannot open: "
                                       "No such file or directory; to start one, copy the "
                                       "example "), err)
        self.assertIn("man 5 imapwatch.conf", err)

    def test_check_config_shows_disabled(self):
        path = self.write("[account a]\nhost = h\nusername = u\npassword_command = true\n"
                          "enabled = false  # on holiday\n")
        code, out, err = check_config(path)
        self.assertEqual(code, 0, out + err)
        self.assertIn("[account a]\n  enabled: false (not watched: no connection, no password "
                      "looked up)\n", out)

    def test_help_describes_check_config(self):
        proc = subprocess.run([h.program("IMAPWATCHD"), "--help"], capture_output=True,
                              text=True, timeout=RUN_TIMEOUT)
        self.assertEqual(proc.returncode, 0)
        self.assertRegex(proc.stdout, r"--check-config\s+Validate the configuration, print "
                                      r"the resolved accounts and exit")


dovecot = h.Dovecot()


def setUpModule():
    dovecot.start()


def tearDownModule():
    dovecot.stop()


class DisabledAccountTest(unittest.TestCase):
    """Two accounts: `on` watches user1 on Dovecot; `off` has enabled =
    false and points at a socket of the test's own, with a password
    command that leaves a mark when it runs."""

    maxDiff = None

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="imapwatch-disabled-")
        self.addCleanup(h._rmtree, self.tmp)
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.addCleanup(self.listener.close)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.marker = os.path.join(self.tmp, "password-command-ran")
        self.bus = b.SessionBus()
        self.bus.start()
        self.addCleanup(self.bus.stop)
        self.accounts = {
            "on": b.account(dovecot, "user1"),
            "off": {
                "host": "127.0.0.1",
                "port": self.listener.getsockname()[1],
                "security": "none",
                "allow_plaintext": True,
                "username": "nobody",
                "password_command": f"sh -c 'touch {self.marker}; echo pw'",
                "enabled": False,
            },
        }
        self.daemon = h.Daemon(self.accounts, env={"DBUS_SESSION_BUS_ADDRESS": self.bus.address})
        self.daemon.start()
        self.addCleanup(self.stop_daemon)

    def stop_daemon(self):
        if self.daemon.proc is not None and self.daemon.proc.poll() is None:
            self.daemon.stop()

    def connection_waiting(self, timeout):
        ready, _, _ = select.select([self.listener], [], [], timeout)
        return bool(ready)

    def reload_with(self, enabled):
        self.accounts["off"]["enabled"] = enabled
        with open(self.daemon.config_path, "w", encoding="utf-8") as f:
            f.write(self.daemon.config_text())
        code, out, err = cli(self.bus, "reload")
        self.assertEqual(code, 0, out + err)

    def status(self):
        code, out, err = cli(self.bus, "status", "--json")
        self.assertIn(code, (0, 1), err)
        return {a["name"]: a for a in json.loads(out)["accounts"]}

    def test_disabled_account(self):
        d = self.daemon
        d.wait_for(is_account_state("off", "disabled"), timeout=EVENT_TIMEOUT)
        d.wait_for(is_account_state("on", "idle"), timeout=CONNECT_TIMEOUT)

        accounts = self.status()
        self.assertEqual(accounts["off"]["state"], "disabled")
        self.assertEqual(accounts["off"]["connections"], 0)
        self.assertEqual(accounts["off"]["folders"], [])
        self.assertEqual(accounts["on"]["state"], "idle")
        code, out, err = cli(self.bus, "status")
        self.assertEqual(code, 0, out + err)
        row = next(line for line in out.splitlines() if line.startswith("off "))
        self.assertIn("disabled", row)
        # Both accounts started together: by the time `on` is idle, a
        # connection of `off` would be waiting, and its password command
        # would have run.
        self.assertFalse(self.connection_waiting(0), "the disabled account connected")
        self.assertFalse(os.path.exists(self.marker), "the password command ran")
        # No state of its own but disabled.
        states = [e["state"] for e in d.events_so_far()
                  if e.get("event") == "state" and e.get("account") == "off"]
        self.assertEqual(states, ["disabled"])
        # `imapwatch check` leaves it alone too.
        self.assertEqual(cli(self.bus, "check", "off")[0], 0)
        self.assertFalse(self.connection_waiting(0), "check connected the disabled account")

        # Enabled by a reload: it looks its password up and connects.
        mark = d.mark()
        self.reload_with(True)
        d.wait_for(is_account_state("off", "connecting"), timeout=EVENT_TIMEOUT, since=mark)
        self.assertTrue(self.connection_waiting(CONNECT_TIMEOUT), "no connection after enabling")
        conn, _ = self.listener.accept()
        conn.close()
        self.assertTrue(os.path.exists(self.marker))
        self.assertNotEqual(self.status()["off"]["state"], "disabled")

        # Disabled again: it stops, and `on` keeps its connection.
        mark = d.mark()
        self.reload_with(False)
        d.wait_for(is_account_state("off", "disabled"), timeout=EVENT_TIMEOUT, since=mark)
        self.assertEqual(self.status()["off"]["state"], "disabled")
        self.assertEqual(self.status()["on"]["state"], "idle")
        self.assertEqual(d.find(is_account_state("on", "connecting"), since=mark), [])


if __name__ == "__main__":
    unittest.main()
