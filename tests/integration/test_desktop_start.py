# SPDX-License-Identifier: MIT
"""Starting imapwatchd where neither the enabled unit nor XDG autostart
does — sway, i3, Hyprland — with the lines README.md gives, run exactly as
written there and as the compositor runs them, and the desktop entry that
notifications name.

The lines are the fenced blocks after `<!-- test: start-NAME -->` in
README.md. A compositor runs a line of its configuration by handing what
follows `exec` (sway), `exec --no-startup-id` (i3) or `exec-once =`
(Hyprland) to `/bin/sh -c`, with the variables it sets (its display, its
IPC socket, XDG_CURRENT_DESKTOP); the tests do the same.

- StartWithoutSystemd: `exec imapwatchd` and its i3 and Hyprland forms on a
  private desktop (Xvfb, session bus, dunst) with a Dovecot account: the
  installed daemon starts, has the compositor's environment, and its popups
  name the installed desktop entry (share/applications/NAME.desktop) in
  their desktop-entry hint.
- StartThroughUserManager: the systemd lines against a real, private
  `systemd --user` with the installed unit and its own session bus
  (dbus-user-session's dbus.socket), a session that never reaches
  graphical-session.target, as sway's usually is: the line starts the unit,
  the daemon has the display the line imported, and a second start of the
  compositor hands the daemon its new display — also to one started before
  by D-Bus activation, which `start` instead of `restart` would keep.

The private user manager runs as an unprivileged user (nobody), as a
desktop's does, in a cgroup of its own (a child of this process's cgroup v2,
handed to that user) that a cgroup namespace shows as the root, and in a
mount namespace with what the system manager and logind provide on a
desktop (/run/systemd/system, without which systemd --user refuses to run;
/run/user/UID). Nothing outside the test is changed, but setting this up
needs root: run as another user, these tests fail and say so.

IMAPWATCH_BUILD_DIR (set by CMake) is the build to install. A missing tool
or privilege is a failure, never a skip. Waits are bounded waits on
readiness (the manager's READY=1, a name on the bus, the daemon's signals,
systemctl's jobs); there are no sleeps.
"""

import os
import re
import select
import signal
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

import imapwatch_harness as h
from test_install import BUS_NAME, BUS_PATH, Installed, unit_file_keys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
README = os.path.join(ROOT, "README.md")
MAN_PAGE = os.path.join(ROOT, "docs", "man", "imapwatchd.1")

CONNECT_TIMEOUT = 20.0
POPUP_TIMEOUT = 10.0

# How each compositor takes a command from its configuration.
KEYWORDS = {"sway": "exec ", "i3": "exec --no-startup-id ", "hyprland": "exec-once = "}
# The README's marker of each compositor's line.
MARKERS = {"sway": "start-sway", "i3": "start-i3", "hyprland": "start-hyprland"}
# The variable that names the compositor's display, which the line must
# hand on (open_command, the mail client, a notification server started on
# demand need it).
DISPLAY_VARIABLE = {"sway": "WAYLAND_DISPLAY", "i3": "DISPLAY", "hyprland": "WAYLAND_DISPLAY"}

# The unprivileged user the private user manager runs as.
NOBODY = 65534


snippet = h.readme_snippet


def config_command(line, compositor):
    """The shell command a compositor runs for one line of its config."""
    keyword = KEYWORDS[compositor]
    if not line.startswith(keyword):
        raise AssertionError(f"{compositor} line does not start with {keyword!r}: {line!r}")
    return line[len(keyword):]


def plain_lines():
    """{compositor: line} of the block for sessions without systemd: each
    line follows a comment naming its compositor."""
    lines, name = {}, None
    for text in snippet("start-without-systemd").splitlines():
        if text.startswith("# "):
            name = text[2:].strip().lower()
        elif text.strip():
            lines[name] = text
    return lines


def imported_variables(command):
    """The variables dbus-update-activation-environment --systemd is given."""
    m = re.match(r"dbus-update-activation-environment --systemd ((?:[A-Z][A-Z0-9_]* )+)&& ", command)
    if not m:
        raise AssertionError(f"no environment import at the start of {command!r}")
    return m.group(1).split()


def compositor_env(name, generation, runtime, home):
    """What the compositor sets for the commands it starts; generation
    tells one start of the compositor from the next (a new display)."""
    env = {
        "sway": {"WAYLAND_DISPLAY": f"wayland-{generation}",
                 "DISPLAY": f":{generation}",
                 "SWAYSOCK": os.path.join(runtime, f"sway-ipc.{generation}.sock"),
                 "XDG_CURRENT_DESKTOP": "sway"},
        "i3": {"DISPLAY": f":{generation}",
               "XAUTHORITY": os.path.join(home, ".Xauthority"),
               "I3SOCK": os.path.join(runtime, "i3", f"ipc-socket.{generation}"),
               "XDG_CURRENT_DESKTOP": "i3"},
        "hyprland": {"WAYLAND_DISPLAY": f"wayland-{generation}",
                     "DISPLAY": f":{generation}",
                     "HYPRLAND_INSTANCE_SIGNATURE": f"test_{generation}",
                     "XDG_CURRENT_DESKTOP": "Hyprland"},
    }
    return env[name]


def process_env(pid):
    with open(f"/proc/{pid}/environ", "rb") as f:
        data = f.read().decode("utf-8", errors="replace")
    return dict(item.split("=", 1) for item in data.split("\0") if "=" in item)


def bus_owner_pid(address, run_as=None):
    """The pid of the connection that owns BUS_NAME on the bus."""
    proc = subprocess.run(
        [h.find_tool("dbus-send"), f"--bus={address}", "--print-reply",
         "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
         "org.freedesktop.DBus.GetConnectionUnixProcessID", f"string:{BUS_NAME}"],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=30, **(run_as or {}))
    if proc.returncode != 0:
        raise AssertionError(f"{BUS_NAME} has no owner: {proc.stderr}")
    return int(proc.stdout.split()[-1])


class ReadmeLinesTest(unittest.TestCase):
    """The lines say what the tests below rely on, and the man page says
    the same."""

    def test_one_line_per_compositor(self):
        for name in KEYWORDS:
            with self.subTest(compositor=name):
                text = snippet(MARKERS[name])
                # One line: a compositor starts its exec lines side by
                # side, so two would race.
                self.assertEqual(len(text.splitlines()), 1, text)
                command = config_command(text, name)
                variables = imported_variables(command)
                self.assertIn(DISPLAY_VARIABLE[name], variables)
                # The default mail client is chosen per desktop.
                self.assertIn("XDG_CURRENT_DESKTOP", variables)
                self.assertTrue(command.endswith("&& systemctl --user restart imapwatchd"),
                                command)
        self.assertEqual(plain_lines(), {name: KEYWORDS[name] + "imapwatchd"
                                         for name in KEYWORDS})

    def test_man_page_gives_the_same_lines(self):
        with open(MAN_PAGE, encoding="utf-8") as f:
            man = f.read().replace("\\-", "-").replace("\\ ", " ")
        for name in KEYWORDS:
            with self.subTest(compositor=name):
                self.assertIn(snippet(MARKERS[name]) + "\n", man)
        for line in plain_lines().values():
            self.assertIn(line, man)

    def test_check_asks_for_the_target_the_unit_is_wanted_by(self):
        check = snippet("start-session-check")
        m = re.fullmatch(r"systemctl --user is-active (\S+)", check)
        self.assertIsNotNone(m, check)
        keys = unit_file_keys(os.path.join(ROOT, "systemd", "imapwatchd.service.in"))
        self.assertEqual(keys.get(("Install", "WantedBy")), [m.group(1)])


class StartWithoutSystemd(Installed):
    """`exec imapwatchd` and its forms: the compositor starts the installed
    daemon itself, with its own environment."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dovecot = h.Dovecot()
        cls.dovecot.start()
        cls.addClassCleanup(cls.dovecot.stop)

    def start_plain(self, name, user):
        desk = h.Desktop()
        desk.start()
        self.addCleanup(desk.stop)
        mon = h.BusMonitor(desk.address, rules=("interface='org.freedesktop.Notifications'",
                                                f"interface='{BUS_NAME}'"))
        self.addCleanup(mon.stop)
        home = h._mkdtemp("imapwatch-plain-")
        self.addCleanup(h._rmtree, home)
        runtime = os.path.join(home, "runtime")
        os.makedirs(os.path.join(home, ".config", "imapwatch"))
        os.mkdir(runtime, 0o700)
        config = os.path.join(home, ".config", "imapwatch", "config")
        with open(config, "w", encoding="utf-8") as f:
            f.write(f"""[daemon]
notifications = true

[account work]
host = localhost
port = {self.dovecot.imaps_port}
username = {user}
password = {self.dovecot.users[user]}
tls_ca_file = {h.certs().ca}
""")
        os.chmod(config, 0o600)
        env = {k: v for k, v in os.environ.items()
               if k not in ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS")
               and not k.startswith("XDG_")}
        env.update({
            "PATH": self.staged(self.bindir()) + os.pathsep + os.environ.get("PATH", ""),
            "HOME": home,
            "XDG_RUNTIME_DIR": runtime,
            "DBUS_SESSION_BUS_ADDRESS": desk.address,
        })
        compositor = compositor_env(name, 1, runtime, home)
        if name == "i3":
            compositor["DISPLAY"] = desk.display
        env.update(compositor)
        command = config_command(plain_lines()[name], name)
        log = open(os.path.join(home, "daemon.log"), "wb")
        self.addCleanup(log.close)
        proc = subprocess.Popen(["/bin/sh", "-c", command], env=env, stdin=subprocess.DEVNULL,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.addCleanup(self.end, proc)
        try:
            mon.wait_for(lambda m: m["member"] == "AccountStateChanged"
                         and 'string "idle"' in m["text"], timeout=CONNECT_TIMEOUT)
        except AssertionError:
            with open(os.path.join(home, "daemon.log"), encoding="utf-8",
                      errors="replace") as f:
                raise AssertionError(f"{name}: the account never became idle:\n{f.read()}")
        return desk, mon, proc, compositor

    def end(self, proc):
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)

    def check_plain(self, name, user):
        desk, mon, proc, compositor = self.start_plain(name, user)
        pid = bus_owner_pid(desk.address)
        self.assertEqual(os.readlink(f"/proc/{pid}/exe"),
                         self.staged(os.path.join(self.bindir(), "imapwatchd")))
        env = process_env(pid)
        for key, value in compositor.items():
            self.assertEqual(env.get(key), value, key)

        # The popup names the installed desktop entry, by which desktops
        # find imapwatch in their notification settings.
        subject = f"Started by {name}"
        raw, _ = h.make_message(subject=subject)
        self.dovecot.deliver(user, "INBOX", raw)
        [call] = mon.wait_notifies(1, timeout=POPUP_TIMEOUT)
        self.assertEqual(call["body"], subject)
        application = self.expected_files()["application"]
        self.assertTrue(os.path.isfile(self.staged(application)))
        entry = os.path.basename(application)
        self.assertTrue(entry.endswith(".desktop"), entry)
        self.assertEqual(call["hints"].get("desktop-entry"), entry[:-len(".desktop")])
        desk.wait_displayed(1)

        # It ends as usual on SIGTERM; the shell the compositor started
        # reports its status.
        os.kill(pid, signal.SIGTERM)
        self.assertEqual(proc.wait(timeout=10), 0)

    def test_sway(self):
        self.check_plain("sway", "user1")

    def test_i3(self):
        self.check_plain("i3", "user2")

    def test_hyprland(self):
        self.check_plain("hyprland", "user3")


def cgroup2_dir():
    """This process's cgroup in the cgroup v2 hierarchy, as a directory."""
    mount = None
    with open("/proc/self/mountinfo", encoding="utf-8") as f:
        for line in f:
            fields, _, fs = line.partition(" - ")
            if fs.split()[0] == "cgroup2":
                mount = fields.split()[4]
    path = None
    with open("/proc/self/cgroup", encoding="utf-8") as f:
        for line in f:
            if line.startswith("0::"):
                path = line[3:].strip()
    if mount is None or path is None:
        raise h.HarnessError("no cgroup v2 hierarchy: a private systemd --user needs one")
    return os.path.join(mount, path.lstrip("/"))


# Run as root: puts itself into the delegated cgroup ($1), then in new mount
# and cgroup namespaces mounts the cgroup v2 hierarchy (its root now that
# cgroup), gives itself what the system manager and logind provide on a
# desktop — /run/systemd/system, /run/systemd/unit-root (where a unit's
# file system namespace is put together), the runtime directory ($4) as
# /run/user/UID — and becomes the user manager ($2) as the user ($3).
# unshare and setpriv exec: the pid stays the manager's.
MANAGER_SCRIPT = r"""
set -e
echo $$ > "$1/cgroup.procs"
exec unshare --mount --cgroup --propagation private sh -c '
set -e
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t tmpfs -o mode=0755 tmpfs /run/systemd
mkdir /run/systemd/system
mkdir -m 0700 /run/systemd/unit-root
mount -t tmpfs -o mode=0755 tmpfs /run/user
mkdir -m 0700 "/run/user/$2"
mount --bind "$3" "/run/user/$2"
exec setpriv --reuid="$2" --regid="$2" --clear-groups -- "$1" --user
' sh "$2" "$3" "$4"
"""


class UserManager(h.Fixture):
    """A private `systemd --user` for NOBODY, with unit_text as
    imapwatchd.service, activation_text as the D-Bus activation file and
    config_text as imapwatchd's configuration; binary, the daemon they
    name in bindir, is copied to `daemon` and they name that copy. run()
    runs a command as that user in the session (XDG_RUNTIME_DIR, the
    session bus).

    Its files are below /run, not /tmp: the unit's PrivateTmp= hides /tmp
    from the daemon where systemd applies it."""

    def __init__(self, unit_text, activation_text, config_text, binary, bindir):
        self.unit_text = unit_text
        self.activation_text = activation_text
        self.config_text = config_text
        self.binary = binary
        self.bindir = bindir
        self.dir = None
        self.proc = None
        self.cgroup = None
        self.notify = None

    def start(self):
        if os.geteuid() != 0:
            raise h.HarnessError(
                "a private systemd --user needs root to set up its cgroup and namespaces; "
                "run the integration tests as root")
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self):
        self.dir = tempfile.mkdtemp(prefix="imapwatch-usermanager-", dir="/run")
        os.chmod(self.dir, 0o755)
        self.home = os.path.join(self.dir, "home")
        self.runtime = os.path.join(self.dir, "runtime")
        os.mkdir(os.path.join(self.dir, "bin"))
        self.daemon = os.path.join(self.dir, "bin", "imapwatchd")
        shutil.copy2(self.binary, self.daemon)
        new_bindir = os.path.dirname(self.daemon)
        files = {
            os.path.join(".config", "systemd", "user", "imapwatchd.service"):
                self.unit_text.replace(f"ExecStart={self.bindir}/", f"ExecStart={new_bindir}/"),
            os.path.join(".local", "share", "dbus-1", "services", f"{BUS_NAME}.service"):
                self.activation_text.replace(f"Exec={self.bindir}/", f"Exec={new_bindir}/"),
            os.path.join(".config", "imapwatch", "config"): self.config_text,
        }
        for path, text in files.items():
            path = os.path.join(self.home, path)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        os.chmod(os.path.join(self.home, ".config", "imapwatch", "config"), 0o600)
        os.mkdir(self.runtime, 0o700)
        for top in (self.home, self.runtime):
            os.chown(top, NOBODY, NOBODY)
            for root, dirs, names in os.walk(top):
                for entry in dirs + names:
                    os.chown(os.path.join(root, entry), NOBODY, NOBODY)
        os.chmod(self.home, 0o700)

        # The manager's cgroup, delegated to the user as systemd delegates
        # a user@.service: the directory and the files that move processes.
        self.cgroup = os.path.join(cgroup2_dir(), f"imapwatch-test-{os.getpid()}")
        os.mkdir(self.cgroup)
        for entry in ("", "cgroup.procs", "cgroup.threads", "cgroup.subtree_control"):
            os.chown(os.path.join(self.cgroup, entry), NOBODY, NOBODY)

        # READY=1 on NOTIFY_SOCKET: the manager has started up.
        notify_path = os.path.join(self.dir, "notify")
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(notify_path)
        os.chmod(notify_path, 0o666)

        systemd = next((p for p in ("/usr/lib/systemd/systemd", "/lib/systemd/systemd")
                        if os.access(p, os.X_OK)), None)
        if systemd is None:
            raise h.HarnessError("systemd not found: run scripts/install-deps")
        for name in ("unshare", "setpriv", "mount", "systemctl"):
            h.find_tool(name)
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin",
            "HOME": self.home, "USER": "nobody", "LOGNAME": "nobody", "SHELL": "/bin/sh",
            "LANG": "C.UTF-8", "XDG_RUNTIME_DIR": f"/run/user/{NOBODY}",
            "NOTIFY_SOCKET": notify_path,
            # dbus-daemon takes the user's home from the password database
            # (nobody's does not exist), not from HOME.
            "XDG_CONFIG_HOME": os.path.join(self.home, ".config"),
            "XDG_DATA_HOME": os.path.join(self.home, ".local", "share"),
        }
        self.log = open(os.path.join(self.dir, "manager.log"), "wb")
        self.proc = subprocess.Popen(
            ["sh", "-c", MANAGER_SCRIPT, "sh", self.cgroup, systemd, str(NOBODY), self.runtime],
            env=env, cwd=self.dir, stdin=subprocess.DEVNULL, stdout=self.log,
            stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_ready(h.READY_TIMEOUT)
        # Its session bus: systemd --user is on it (as it is long before a
        # compositor starts), so dbus-update-activation-environment reaches it.
        proc = self.run([h.find_tool("gdbus"), "wait", "--session", "--timeout",
                         str(int(h.READY_TIMEOUT)), "org.freedesktop.systemd1"],
                        timeout=h.READY_TIMEOUT + 10)
        if proc.returncode != 0:
            raise h.HarnessError(f"systemd --user is not on its session bus: {proc.stderr}")

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                self.log.flush()
                with open(self.log.name, encoding="utf-8", errors="replace") as f:
                    raise h.HarnessError(f"systemd --user did not start up:\n{f.read()}")
            ready, _, _ = select.select([self.notify], [], [], min(left, 0.5))
            if ready and b"READY=1" in self.notify.recv(4096).split(b"\n"):
                return

    def session_env(self, extra=None):
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": self.home, "USER": "nobody", "LOGNAME": "nobody", "LANG": "C.UTF-8",
            "XDG_RUNTIME_DIR": self.runtime,
            "DBUS_SESSION_BUS_ADDRESS": "unix:path=" + os.path.join(self.runtime, "bus"),
        }
        env.update(extra or {})
        return env

    def as_user(self):
        return {"user": NOBODY, "group": NOBODY, "extra_groups": [], "cwd": self.home}

    def run(self, argv, env=None, timeout=60):
        return subprocess.run(argv, env=self.session_env(env), stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout, **self.as_user())

    def systemctl(self, *args):
        return self.run([h.find_tool("systemctl"), "--user", *args])

    def stop(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                # SIGTERM: a user manager starts exit.target and exits.
                self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
            self.proc = None
            self.log.close()
        if self.cgroup is not None:
            self._remove_cgroup()
            self.cgroup = None
        if self.notify is not None:
            self.notify.close()
            self.notify = None
        if self.dir is not None:
            # Below /run: removed also with IMAPWATCH_TEST_KEEP.
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def _remove_cgroup(self):
        # Whatever the manager left behind (its bus, a unit's process) ends
        # with the cgroup; then the empty directories go, deepest first.
        kill = os.path.join(self.cgroup, "cgroup.kill")
        if os.path.exists(kill):
            with open(kill, "w", encoding="ascii") as f:
                f.write("1")
        else:
            for root, _, _ in os.walk(self.cgroup):
                with open(os.path.join(root, "cgroup.procs"), encoding="ascii") as f:
                    for pid in f.read().split():
                        try:
                            os.kill(int(pid), signal.SIGKILL)
                        except ProcessLookupError:
                            pass
        events = os.path.join(self.cgroup, "cgroup.events")
        with open(events, encoding="ascii") as f:
            poller = select.poll()
            poller.register(f, select.POLLPRI | select.POLLERR)
            deadline = time.monotonic() + 10
            while "populated 0" not in f.read():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise h.HarnessError(f"processes left in {self.cgroup}")
                poller.poll(left * 1000)
                f.seek(0)
        for root, dirs, _ in os.walk(self.cgroup, topdown=False):
            for d in dirs:
                os.rmdir(os.path.join(root, d))
        os.rmdir(self.cgroup)


class StartThroughUserManager(Installed):
    """The systemd lines against a real systemd --user whose session never
    reaches graphical-session.target."""

    manager = None

    def setUp(self):
        # One user manager for the class, started by the first test (the
        # installed files' paths come from the instance).
        cls = type(self)
        if cls.manager is not None:
            return
        files = self.expected_files()
        with open(self.staged(files["unit"]), encoding="utf-8") as f:
            unit = f.read()
        with open(self.staged(files["activation"]), encoding="utf-8") as f:
            activation = f.read()
        # A server that is not there: the daemon runs and retries.
        config = ("[daemon]\nnotifications = false\n\n[account test]\n"
                  f"host = 127.0.0.1\nport = {h.free_port()}\nusername = u\npassword = p\n")
        manager = UserManager(unit, activation, config, self.staged(files["daemon"]),
                              self.bindir())
        cls.addClassCleanup(manager.stop)
        manager.start()
        cls.manager = manager
        cls.daemon = manager.daemon
        cls.all_variables = sorted({key for name in KEYWORDS
                                    for key in compositor_env(name, 1, "", "")})

    def tearDown(self):
        # The next test starts from a session without the daemon and
        # without a compositor's variables.
        self.manager.systemctl("stop", "imapwatchd")
        self.manager.systemctl("reset-failed", "imapwatchd")
        self.manager.systemctl("unset-environment", *self.all_variables)

    def status(self):
        return self.manager.systemctl("status", "--no-pager", "imapwatchd").stdout

    def main_pid(self):
        proc = self.manager.systemctl("show", "-p", "ActiveState", "-p", "SubState",
                                      "-p", "MainPID", "imapwatchd")
        props = dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)
        self.assertEqual((props.get("ActiveState"), props.get("SubState")),
                         ("active", "running"), self.status())
        pid = int(props["MainPID"])
        self.assertEqual(os.readlink(f"/proc/{pid}/exe"), self.daemon)
        # The unit's daemon is the one on the session bus, and it answers.
        self.assertEqual(bus_owner_pid(self.manager.session_env()["DBUS_SESSION_BUS_ADDRESS"],
                                       self.manager.as_user()), pid)
        proc = self.manager.run([h.find_tool("dbus-send"), "--session", "--print-reply",
                                 f"--dest={BUS_NAME}", BUS_PATH, f"{BUS_NAME}.GetStatus"])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn('"version"', proc.stdout)
        return pid

    def run_line(self, name, generation, line=None):
        """The compositor's line, as that compositor runs it; the daemon's
        pid afterwards."""
        env = compositor_env(name, generation, self.manager.runtime, self.manager.home)
        command = config_command(line or snippet(MARKERS[name]), name)
        proc = self.manager.run(["/bin/sh", "-c", command], env=env)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr + self.status())
        self.assertEqual(proc.stderr, "")
        return self.main_pid(), env, imported_variables(command)

    def assert_display(self, pid, env, variables):
        daemon_env = process_env(pid)
        for key in variables:
            self.assertEqual(daemon_env.get(key), env.get(key), key)

    def check_line(self, name):
        pid, env, variables = self.run_line(name, 1)
        self.assert_display(pid, env, variables)
        # The compositor starts again in the same login (after a crash, or
        # logged out and in while the user manager stayed): its new display
        # reaches the daemon.
        pid2, env2, _ = self.run_line(name, 2)
        self.assertNotEqual(pid2, pid)
        self.assertFalse(os.path.exists(f"/proc/{pid}"), "the old daemon still runs")
        self.assert_display(pid2, env2, variables)

    def test_session_check_says_inactive(self):
        """This session is one for the compositor lines: the check the
        README gives says inactive, and an enabled unit does not start."""
        proc = self.manager.run(snippet("start-session-check").split())
        self.assertEqual((proc.returncode, proc.stdout.strip()), (3, "inactive"))
        proc = self.manager.systemctl("enable", "imapwatchd")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.addCleanup(self.manager.systemctl, "disable", "imapwatchd")
        self.assertEqual(self.manager.systemctl("is-enabled", "imapwatchd").stdout.strip(),
                         "enabled")
        self.assertEqual(self.manager.systemctl("is-active", "imapwatchd").stdout.strip(),
                         "inactive")

    def test_sway(self):
        self.check_line("sway")

    def test_i3(self):
        self.check_line("i3")

    def test_hyprland(self):
        self.check_line("hyprland")

    def test_restart_gives_an_activated_daemon_the_display(self):
        """A daemon D-Bus activation started before the compositor's line
        (through the unit) has no display; the line hands it one, which
        `start` would not."""
        proc = self.manager.run([h.find_tool("dbus-send"), "--session", "--print-reply",
                                 f"--dest={BUS_NAME}", BUS_PATH, f"{BUS_NAME}.GetStatus"])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        activated = self.main_pid()
        self.assertNotIn("WAYLAND_DISPLAY", process_env(activated))

        line = snippet("start-sway")
        with_start = line.replace("systemctl --user restart ", "systemctl --user start ")
        self.assertNotEqual(with_start, line)
        pid, _, _ = self.run_line("sway", 1, with_start)
        self.assertEqual(pid, activated)
        self.assertNotIn("WAYLAND_DISPLAY", process_env(pid))

        pid, env, variables = self.run_line("sway", 1)
        self.assertNotEqual(pid, activated)
        self.assert_display(pid, env, variables)


if __name__ == "__main__":
    unittest.main()
