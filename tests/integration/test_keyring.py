# SPDX-License-Identifier: MIT
"""password_secret: the password from the Secret Service, here a real
gnome-keyring-daemon on a private session bus (harness_keyring.Keyring),
against a real Dovecot.

- An item in an unlocked keyring: the daemon logs in with it, reports mail,
  and the password is never in its log (-v --trace-imap) or its events.
- A locked keyring: no prompt, no login attempt, one log line, the state
  `connecting` with the waiting detail and no storm of searches, even when
  the Secret Service signals meanwhile. Unlocked as its prompt unlocks
  (UnlockWithMasterPassword, which emits the collection's signals), the
  daemon connects within seconds. Unlocked through gnome-keyring's control
  socket, as pam_gnome_keyring does at login (no D-Bus signal at all), it
  connects at its recheck, 10 s after it started waiting.
- No such item, or no Secret Service on the bus: state `error` with the
  reason; `imapwatch check` asks again once the item is there.
- `imapwatch doctor` and `imapwatchd --check-config` say where the password
  comes from; password_secret with password (or password_command) is a
  config error.
"""

import json
import os
import subprocess
import tempfile
import time
import unittest

import bus_harness as b
import imapwatch_harness as h
from imapwatch_harness import is_account_state, is_event

CONNECT_TIMEOUT = 15.0
EVENT_TIMEOUT = 10.0
QUIET_WINDOW = 1.5
# The daemon's look again at a locked item when no signal came
# (KEYRING_RECHECK_S in include/imapwatch/io/keyring.h).
RECHECK_S = 10
# From the unlock through the prompt's way to the account idle: the signals
# make it prompt; well under the recheck.
UNLOCK_TO_IDLE_MAX = 5.0
ACCOUNT = "acct"
WAITING = "waiting for the keyring to be unlocked (password_secret)"
LOCKED_LOG = f"account '{ACCOUNT}': the keyring is locked; waiting for it to be unlocked"
NO_ITEM = "the Secret Service holds no item with these attributes"
# Searches of the Secret Service that count as a storm while the keyring
# stays locked (one at the start, one per batch of signals, one recheck).
STORM = 6

# One Dovecot and one unlocked keyring on one private bus for the module;
# the tests that lock a keyring start their own. Each test has a Dovecot
# user of its own: assert_no_login() reads the whole Dovecot log.
dovecot = h.Dovecot()
bus = b.SessionBus()
keyring = None


def setUpModule():
    global keyring
    dovecot.start()
    try:
        bus.start()
        keyring = h.Keyring(bus.address)
        keyring.start()
    except BaseException:
        bus.stop()
        dovecot.stop()
        raise


def tearDownModule():
    try:
        keyring.stop()
        bus.stop()
    finally:
        dovecot.stop()


def attributes(user):
    return {"service": "imap", "user": user}


def secret_line(user):
    return ";".join(f"{k}={v}" for k, v in attributes(user).items())


def account(user, **extra):
    keys = {
        "host": "localhost", "port": dovecot.imaps_port, "username": user,
        "password_secret": secret_line(user), "tls_ca_file": h.certs().ca,
    }
    keys.update(extra)
    return keys


def write_config(directory, keys):
    path = os.path.join(directory, "config")
    lines = ["[daemon]", "password_timeout = 5s", "", f"[account {ACCOUNT}]"]
    lines += [f"{k} = {v}" for k, v in keys.items()]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return path


def run_tool(argv, on_bus=None, timeout=60):
    """(exit code, stdout, stderr) of a command run with the bus on_bus
    (an address) or with no session bus at all."""
    env = dict(os.environ)
    for var in ("DBUS_SESSION_BUS_ADDRESS", "DISPLAY", "WAYLAND_DISPLAY"):
        env.pop(var, None)
    if on_bus:
        env["DBUS_SESSION_BUS_ADDRESS"] = on_bus
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                          timeout=timeout, env=env)
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


class KeyringTestCase(unittest.TestCase):
    maxDiff = None

    def start(self, user, address, **extra):
        d = h.Daemon({ACCOUNT: account(user, **extra)}, args=["-v", "--trace-imap"],
                     env={"DBUS_SESSION_BUS_ADDRESS": address})
        d.start()
        self.addCleanup(d.kill)
        return d

    def assert_reports_mail(self, d, user, subject):
        raw, _ = h.make_message(subject=subject)
        uid = dovecot.deliver(user, "INBOX", raw)
        ev = d.wait_for(is_event("new", account=ACCOUNT, uid=uid), timeout=EVENT_TIMEOUT)
        self.assertEqual(ev["subject"], subject)

    def assert_logged_in(self, user):
        self.assertRegex(dovecot.log_text(), rf"Login: user=<{user}>",
                         f"Dovecot never logged {user} in")

    def assert_no_login(self, user):
        self.assertEqual(dovecot.who(user), [], f"{user} has a session at the server")
        self.assertNotRegex(dovecot.log_text(), rf"(Login|auth failed).*user=<{user}>",
                            f"the daemon tried to log {user} in")

    def finish(self, d, user):
        """Stops the daemon (exit 0); the password is nowhere in its log or
        events, in clear or in base64."""
        d.stop()
        password = dovecot.users[user]
        log = d.final_stderr
        events = "\n".join(d.lines_so_far()).encode()
        self.assertFalse(h.leaks_secret(log, user, password),
                         f"the password is in the daemon's log:\n{log.decode(errors='replace')}")
        self.assertFalse(h.leaks_secret(events, user, password),
                         f"the password is in the daemon's events:\n{events.decode()}")


class UnlockedKeyringTest(KeyringTestCase):
    """The module's keyring, unlocked."""

    def test_password_from_the_keyring(self):
        user = "user1"
        keyring.store(attributes(user), dovecot.users[user])
        # Items that match only some of the attributes are not it.
        keyring.store({"service": "imap", "user": "user2"}, "not-user1s-password")
        keyring.store({"service": "smtp", "user": user}, "not-the-imap-password")
        d = self.start(user, bus.address)
        d.wait_for(is_account_state(ACCOUNT, "idle"), timeout=CONNECT_TIMEOUT)
        self.assert_logged_in(user)
        self.assertEqual(d.find(is_account_state(ACCOUNT, "error")), [], d.describe())
        self.assertNotIn("keyring is locked", d.stderr_text())
        self.assert_reports_mail(d, user, "from the keyring")
        log = d.stderr_text()
        self.assertRegex(log, r"C: \S+ (LOGIN|AUTHENTICATE)\b.*<redacted>",
                         "the trace shows no (redacted) login")
        self.finish(d, user)

    def test_no_such_item(self):
        user = "user3"
        d = self.start(user, bus.address, password_secret="service=imap;user=nobody-here")
        ev = d.wait_for(is_account_state(ACCOUNT, "error"), timeout=CONNECT_TIMEOUT)
        self.assertIn("cannot get the password", ev.get("detail", ""), ev)
        self.assertIn(NO_ITEM, ev.get("detail", ""), ev)
        d.assert_no_event(is_account_state(ACCOUNT, "idle"), within=QUIET_WINDOW)
        self.assert_no_login(user)
        self.finish(d, user)

    def test_item_added_later_then_check(self):
        """No item yet: error. The user stores it and runs `imapwatch
        check`: the daemon looks again and connects."""
        user = "user4"
        d = self.start(user, bus.address)
        ev = d.wait_for(is_account_state(ACCOUNT, "error"), timeout=CONNECT_TIMEOUT)
        self.assertIn(NO_ITEM, ev.get("detail", ""), ev)
        keyring.store(attributes(user), dovecot.users[user])
        wait = subprocess.run([h.find_tool("gdbus"), "wait", "--address", bus.address,
                               "--timeout", "10", b.NAME], capture_output=True, timeout=20)
        self.assertEqual(wait.returncode, 0, wait.stderr)
        mark = d.mark()
        rc, out, err = b.cli(bus, "check", ACCOUNT)
        self.assertEqual(rc, 0, out + err)
        d.wait_for(is_account_state(ACCOUNT, "idle"), timeout=CONNECT_TIMEOUT, since=mark)
        self.assert_reports_mail(d, user, "after the check")
        self.finish(d, user)

    def test_no_secret_service_on_the_bus(self):
        user = "user5"
        with b.SessionBus() as empty:
            d = self.start(user, empty.address)
            ev = d.wait_for(is_account_state(ACCOUNT, "error"), timeout=CONNECT_TIMEOUT)
            self.assertIn("no Secret Service on the session bus", ev.get("detail", ""), ev)
            self.assert_no_login(user)
            self.finish(d, user)


class LockedKeyringTest(KeyringTestCase):
    """A keyring of the test's own on a bus of its own, holding the item,
    locked before the daemon starts."""

    user = None

    def setUp(self):
        self.bus = b.SessionBus()
        self.bus.start()
        self.addCleanup(self.bus.stop)
        self.keyring = h.Keyring(self.bus.address, password="locked-keyring-password")
        self.keyring.start()
        self.addCleanup(self.keyring.stop)
        self.keyring.store(attributes(self.user), dovecot.users[self.user])
        self.keyring.lock()
        self.calls = h.SecretCalls(self.bus.address)
        self.calls.start()
        self.addCleanup(self.calls.stop)

    def start_waiting(self):
        """The daemon, up to its wait for the unlock, checked: the state
        with the detail, the log line, no login. Returns (daemon, the time
        it said it waits)."""
        d = self.start(self.user, self.bus.address)
        ev = d.wait_for(lambda e: is_account_state(ACCOUNT, "connecting")(e)
                        and e.get("detail") == WAITING,
                        timeout=CONNECT_TIMEOUT, what=f"state connecting, detail {WAITING!r}")
        waiting_since = d.read_at(ev)
        d.wait_log(LOCKED_LOG)
        d.assert_no_event(lambda e: is_account_state(ACCOUNT, "idle")(e)
                          or is_account_state(ACCOUNT, "error")(e),
                          within=QUIET_WINDOW, what="idle or error while locked")
        self.assert_no_login(self.user)
        self.assertEqual(d.stderr_text().count("the keyring is locked"), 1, d.describe())
        self.assertLessEqual(self.calls.count(), 2,
                             f"{self.calls.count()} searches while locked and quiet")
        return d, waiting_since

    def assert_status_waiting(self):
        """`imapwatch status --json` on the bus shows the wait."""
        wait = subprocess.run([h.find_tool("gdbus"), "wait", "--address", self.bus.address,
                               "--timeout", "10", b.NAME], capture_output=True, timeout=20)
        self.assertEqual(wait.returncode, 0, wait.stderr)
        rc, out, err = b.cli(self.bus, "status", "--json")
        self.assertEqual(rc, 0, out + err)
        accounts = {a["name"]: a for a in json.loads(out)["accounts"]}
        self.assertEqual((accounts[ACCOUNT]["state"], accounts[ACCOUNT].get("detail")),
                         ("connecting", WAITING), out)

    def assert_no_storm(self, d):
        self.assertEqual(d.stderr_text().count("the keyring is locked"), 1,
                         f"the locked keyring logged more than once\n{d.describe()}")
        self.assertLessEqual(self.calls.count(), STORM,
                             f"{self.calls.count()} searches of the Secret Service while "
                             f"locked: a storm\n{d.describe()}")


class LockedThenUnlockedTest(LockedKeyringTest):
    user = "user2"

    def test_waits_then_connects_on_unlock(self):
        d, _ = self.start_waiting()
        self.assert_status_waiting()

        # Signals while still locked (locking again makes gnome-keyring
        # emit the collection's): a look, no new log line, no storm.
        before = self.calls.mark()
        self.keyring.lock()
        self.calls.wait_count(1, since=before, timeout=EVENT_TIMEOUT)
        d.assert_no_event(lambda e: e.get("event") == "state" and not e.get("folder")
                          and e.get("state") != "connecting",
                          within=QUIET_WINDOW, what="state change while locked")
        self.assert_no_storm(d)
        self.assert_no_login(self.user)

        mark = d.mark()
        t0 = time.monotonic()
        self.keyring.unlock()
        ev = d.wait_for(is_account_state(ACCOUNT, "idle"), timeout=UNLOCK_TO_IDLE_MAX,
                        since=mark, what="account idle after the unlock")
        took = d.read_at(ev) - t0
        self.assertLess(took, UNLOCK_TO_IDLE_MAX)
        print(f"\n  unlock (UnlockWithMasterPassword) to idle: {took:.2f} s; "
              f"searches: {self.calls.count()}", end=" ")
        self.assert_logged_in(self.user)
        self.assert_reports_mail(d, self.user, "after the unlock")
        self.assertEqual(d.find(is_account_state(ACCOUNT, "error")), [], d.describe())
        self.assert_no_storm(d)
        self.finish(d, self.user)


class ControlSocketUnlockTest(LockedKeyringTest):
    """pam_gnome_keyring's way: the control socket. gnome-keyring emits no
    signal then, so the daemon sees the unlock at its recheck."""

    user = "user6"

    def test_connects_at_the_recheck(self):
        d, waiting_since = self.start_waiting()
        self.keyring.unlock_control()
        ev = d.wait_for(is_account_state(ACCOUNT, "idle"), timeout=RECHECK_S + 10,
                        what="account idle by the recheck")
        took = d.read_at(ev) - waiting_since
        print(f"\n  waiting to idle after a control-socket unlock: {took:.1f} s; "
              f"searches: {self.calls.count()}", end=" ")
        self.assertLess(took, RECHECK_S + 5, "the recheck came late")
        self.assert_no_storm(d)
        self.assert_reports_mail(d, self.user, "after the recheck")
        self.finish(d, self.user)


class StopWhileLockedTest(LockedKeyringTest):
    # Nobody logs user7 in: the doctor's test points at a closed port.
    user = "user7"

    def test_sigterm_while_waiting(self):
        """SIGTERM during the wait: exit 0 at once (the request is
        cancelled; G_DEBUG=fatal-criticals catches a bad cleanup)."""
        d, _ = self.start_waiting()
        d.stop()


class DoctorLockedTest(LockedKeyringTest):
    user = "user7"

    def test_doctor_says_locked_and_goes_on(self):
        with tempfile.TemporaryDirectory(prefix="imapwatch-keyring-doctor-") as tmp:
            path = write_config(tmp, account(self.user, port=h.free_port()))
            rc, out, err = run_tool([h.program("IMAPWATCH"), "doctor", "--config", path],
                                    on_bus=self.bus.address)
        self.assertEqual(rc, 1, out + err)
        self.assertRegex(out, r"(?m)^\s*FAIL\s+password: the keyring holding it is locked$")
        # It goes on with the checks that need no password.
        self.assertRegex(out, r"(?m)^\s*FAIL\s+TCP: cannot connect")
        self.assertNotIn(dovecot.users[self.user], out + err)
        self.assertTrue(self.keyring.locked(), "doctor unlocked the keyring")


class ConfigTest(unittest.TestCase):
    maxDiff = None

    def doctor(self, keys, address):
        with tempfile.TemporaryDirectory(prefix="imapwatch-keyring-doctor-") as tmp:
            path = write_config(tmp, keys)
            return run_tool([h.program("IMAPWATCH"), "doctor", "--config", path], on_bus=address)

    def check_config(self, keys):
        with tempfile.TemporaryDirectory(prefix="imapwatch-keyring-check-") as tmp:
            path = write_config(tmp, keys)
            return run_tool([h.program("IMAPWATCHD"), "--check-config", "--config", path])

    def test_doctor_finds_the_password(self):
        user = "user8"
        keyring.store(attributes(user), dovecot.users[user])
        rc, out, err = self.doctor(account(user, port=h.free_port()), bus.address)
        self.assertRegex(out, r"(?m)^\s*ok\s+password: from the Secret Service \(not shown\)$")
        self.assertRegex(out, r"(?m)^\s*FAIL\s+TCP: cannot connect")
        self.assertEqual(rc, 1, out + err)
        self.assertNotIn(dovecot.users[user], out + err)

    def test_doctor_no_such_item(self):
        rc, out, err = self.doctor(
            account("user8", port=h.free_port(), password_secret="service=imap;user=nobody"),
            bus.address)
        self.assertEqual(rc, 1, out + err)
        self.assertRegex(out, rf"(?m)^\s*FAIL\s+password: {NO_ITEM}")
        self.assertIn("secret-tool lookup", out)

    def test_check_config_shows_the_attributes(self):
        rc, out, err = self.check_config(account("user1"))
        self.assertEqual(rc, 0, out + err)
        self.assertIn("  password: from the Secret Service: service=imap; user=user1\n", out)
        # Spaces around the pairs are not part of them.
        rc, out, err = self.check_config(
            account("user1", password_secret=" service = imap ; user = user1 ;"))
        self.assertEqual(rc, 0, out + err)
        self.assertIn("  password: from the Secret Service: service=imap; user=user1\n", out)

    def test_password_secret_with_password(self):
        for other, value in (("password", "hunter2"), ("password_command", "echo hunter2")):
            with self.subTest(other=other):
                keys = account("user1")
                keys[other] = value
                rc, out, err = self.check_config(keys)
                self.assertEqual(rc, 1, out + err)
                self.assertIn(f"key '{other}': password_secret is already set on line", err)
                self.assertIn("keep only one of password, password_command and "
                              "password_secret", err)
                self.assertNotIn("hunter2", out + err)

    def test_bad_attributes(self):
        for value, message in (("service", "entry 1 is not attribute=value"),
                               ("service=imap;user=", "entry 2 is not attribute=value"),
                               ("user=a;user=b", "attribute 'user' is given twice")):
            with self.subTest(value=value):
                rc, out, err = self.check_config(account("user1", password_secret=value))
                self.assertEqual(rc, 1, out + err)
                self.assertIn("key 'password_secret'", err)
                self.assertIn(message, err)


if __name__ == "__main__":
    unittest.main()
