# SPDX-License-Identifier: MIT
"""`cmake --install` into a temporary DESTDIR, and what a desktop and a
packager do with the result: every file in its place, the systemd unit
checked by systemd-analyze, the autostart file and the application's
desktop entry by desktop-file-validate, the man pages rendered by man
without warnings, the example config valid, and the D-Bus activation file
really starting the daemon on a private bus.

IMAPWATCH_BUILD_DIR (set by CMake) is the build to install; CMAKE_COMMAND
is the cmake that configured it. A missing tool is a failure, never a skip.
"""

import configparser
import os
import shutil
import select
import signal
import subprocess
import tempfile
import unittest
import xml.dom.minidom

import imapwatch_harness as h

BUS_NAME = "org.imapwatch.Daemon1"
BUS_PATH = "/org/imapwatch/Daemon1"
# The longest the private bus waits for an activated daemon to take its
# name (dbus-daemon's default is 25 s).
ACTIVATION_TIMEOUT_MS = 10000


def tool(name):
    path = shutil.which(name, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
    if path is None:
        raise h.HarnessError(f"{name} not found: run scripts/install-deps")
    return path


def cache_value(build_dir, key):
    with open(os.path.join(build_dir, "CMakeCache.txt"), encoding="utf-8") as f:
        for line in f:
            name, _, value = line.rstrip("\n").partition("=")
            if name.split(":")[0] == key:
                return value
    raise h.HarnessError(f"{key} not in {build_dir}/CMakeCache.txt")


def run(argv, **kwargs):
    kwargs.setdefault("timeout", 120)
    return subprocess.run(argv, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, **kwargs)


def unit_file_keys(path):
    """{(section, key): [values]} of a systemd unit or desktop file."""
    keys = {}
    section = None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith(("#", ";")):
                continue
            if line.startswith("["):
                section = line.strip("[]")
                continue
            key, _, value = line.partition("=")
            keys.setdefault((section, key.strip()), []).append(value.strip())
    return keys


class Installed(unittest.TestCase):
    """The build installed into a fresh DESTDIR, and where things are."""
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.build = os.environ.get("IMAPWATCH_BUILD_DIR")
        if not cls.build or not os.path.isfile(
                os.path.join(cls.build, "CMakeCache.txt")):
            raise h.HarnessError("IMAPWATCH_BUILD_DIR is not set to a configured "
                                 "build (ctest sets it)")
        cls.cmake = os.environ.get("CMAKE_COMMAND") or tool("cmake")
        cls.prefix = cache_value(cls.build, "CMAKE_INSTALL_PREFIX")
        cls.source = cache_value(cls.build, "imapwatch_SOURCE_DIR")
        cls.tmp = tempfile.mkdtemp(prefix="imapwatch-install-")
        cls.destdir = os.path.join(cls.tmp, "dest")
        env = dict(os.environ, DESTDIR=cls.destdir)
        proc = run([cls.cmake, "--install", cls.build], env=env)
        if proc.returncode != 0:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise h.HarnessError(f"cmake --install failed:\n{proc.stdout}{proc.stderr}")

    @classmethod
    def tearDownClass(cls):
        if not h.KEEP:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    # -- where things are

    def staged(self, path):
        """An absolute install path inside DESTDIR."""
        return os.path.join(self.destdir, path.lstrip("/"))

    def under_prefix(self, *parts):
        return os.path.join(self.prefix, *parts)

    def unit_dir(self):
        if self.prefix == "/usr":
            proc = run(["pkg-config", "--variable=systemduserunitdir", "systemd"])
            if proc.returncode == 0 and proc.stdout.strip():
                return proc.stdout.strip()
        return self.under_prefix("lib", "systemd", "user")

    def sysconf_dir(self):
        return "/etc" if self.prefix == "/usr" else self.under_prefix("etc")

    def bindir(self):
        return self.under_prefix("bin")

    def expected_files(self):
        files = {
            "daemon": os.path.join(self.bindir(), "imapwatchd"),
            "unit": os.path.join(self.unit_dir(), "imapwatchd.service"),
            "activation": self.under_prefix("share", "dbus-1", "services",
                                            f"{BUS_NAME}.service"),
            "interface": self.under_prefix("share", "dbus-1", "interfaces",
                                           f"{BUS_NAME}.xml"),
            "autostart": os.path.join(self.sysconf_dir(), "xdg", "autostart",
                                      "imapwatchd.desktop"),
            "application": self.under_prefix("share", "applications", "imapwatchd.desktop"),
            "icon": self.under_prefix("share", "icons", "hicolor", "scalable",
                                      "apps", "imapwatch.svg"),
            "man-imapwatchd": self.under_prefix("share", "man", "man1", "imapwatchd.1"),
            "man-imapwatch": self.under_prefix("share", "man", "man1", "imapwatch.1"),
            "man-conf": self.under_prefix("share", "man", "man5", "imapwatch.conf.5"),
            "example": self.under_prefix("share", "doc", "imapwatch", "config.example"),
            "readme": self.under_prefix("share", "doc", "imapwatch", "README.md"),
            "license": self.under_prefix("share", "doc", "imapwatch", "LICENSE"),
            "bash-imapwatch": self.under_prefix("share", "bash-completion", "completions",
                                                "imapwatch"),
            "bash-imapwatchd": self.under_prefix("share", "bash-completion", "completions",
                                                 "imapwatchd"),
            "zsh": self.under_prefix("share", "zsh", "site-functions", "_imapwatch"),
            "fish-imapwatch": self.under_prefix("share", "fish", "vendor_completions.d",
                                                "imapwatch.fish"),
            "fish-imapwatchd": self.under_prefix("share", "fish", "vendor_completions.d",
                                                 "imapwatchd.fish"),
        }
        # The command-line tool, once this tree builds it.
        if os.path.isfile(os.path.join(self.build, "imapwatch")):
            files["cli"] = os.path.join(self.bindir(), "imapwatch")
        return files


class InstallTest(Installed):
    # -- files

    def test_every_file_installed(self):
        for what, path in self.expected_files().items():
            with self.subTest(what=what):
                self.assertTrue(os.path.isfile(self.staged(path)),
                                f"{what}: {path} not installed")
        for binary in ("daemon", "cli"):
            path = self.expected_files().get(binary)
            if path:
                self.assertTrue(os.access(self.staged(path), os.X_OK), path)

    def test_nothing_outside_the_prefix_and_sysconfdir(self):
        allowed = (self.prefix.rstrip("/") + "/", self.sysconf_dir() + "/")
        for root, _, names in os.walk(self.destdir):
            for name in names:
                path = "/" + os.path.relpath(os.path.join(root, name), self.destdir)
                self.assertTrue(path.startswith(allowed), path)

    def test_interface_xml_is_the_shipped_one(self):
        with open(os.path.join(self.source, "data", f"{BUS_NAME}.xml"), "rb") as f:
            source = f.read()
        with open(self.staged(self.expected_files()["interface"]), "rb") as f:
            self.assertEqual(f.read(), source)

    def test_icon_is_svg(self):
        doc = xml.dom.minidom.parse(self.staged(self.expected_files()["icon"]))
        self.assertEqual(doc.documentElement.tagName, "svg")

    def test_example_config_is_valid(self):
        path = self.staged(self.expected_files()["example"])
        proc = run([self.staged(self.expected_files()["daemon"]), "--check-config",
                    "--config", path])
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("[account work]", proc.stdout)

    # -- systemd

    def test_unit_settings(self):
        keys = unit_file_keys(self.staged(self.expected_files()["unit"]))
        daemon = os.path.join(self.bindir(), "imapwatchd")
        expected = {
            ("Service", "Type"): ["dbus"],
            ("Service", "BusName"): [BUS_NAME],
            ("Service", "ExecStart"): [daemon],
            ("Service", "ExecReload"): ["kill -HUP $MAINPID"],
            ("Service", "Restart"): ["on-failure"],
            ("Service", "NoNewPrivileges"): ["yes"],
            ("Service", "ProtectSystem"): ["strict"],
            ("Service", "PrivateTmp"): ["yes"],
            ("Service", "RestrictAddressFamilies"): ["AF_UNIX AF_INET AF_INET6 AF_NETLINK"],
            ("Service", "LockPersonality"): ["yes"],
            ("Service", "MemoryDenyWriteExecute"): ["yes"],
            ("Service", "SystemCallFilter"): ["@system-service"],
            ("Service", "SystemCallArchitectures"): ["native"],
            ("Service", "RestrictRealtime"): ["yes"],
            ("Service", "RestrictSUIDSGID"): ["yes"],
            ("Unit", "PartOf"): ["graphical-session.target"],
            ("Install", "WantedBy"): ["graphical-session.target"],
        }
        for key, value in expected.items():
            with self.subTest(key=key):
                self.assertEqual(keys.get(key), value)
        # The state directory stays writable under ProtectSystem=strict.
        self.assertIn("%h/.local/state/imapwatch",
                      " ".join(keys.get(("Service", "ReadWritePaths"), [])))

    def systemd_analyze(self, unit_text, name="imapwatchd.service"):
        """systemd-analyze --user verify on unit_text, with absolute paths
        pointing into DESTDIR so the binaries it checks exist."""
        analyze = tool("systemd-analyze")
        work = tempfile.mkdtemp(prefix="verify-", dir=self.tmp)
        runtime = os.path.join(work, "runtime")
        os.mkdir(runtime, 0o700)
        path = os.path.join(work, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(unit_text.replace(self.bindir() + "/",
                                      self.staged(self.bindir()) + "/"))
        # The user manager's paths need a runtime directory; no running
        # manager is needed.
        env = dict(os.environ, XDG_RUNTIME_DIR=runtime, SYSTEMD_LOG_COLOR="0")
        return run([analyze, "--user", "verify", "--man=no", path], env=env)

    def test_unit_verifies(self):
        with open(self.staged(self.expected_files()["unit"]), encoding="utf-8") as f:
            text = f.read()
        proc = self.systemd_analyze(text)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        # Warnings (an unknown key, say) do not change the exit status.
        self.assertEqual(proc.stdout + proc.stderr, "")

    def test_verification_catches_mistakes(self):
        """The check above is real: a broken unit fails it here."""
        with open(self.staged(self.expected_files()["unit"]), encoding="utf-8") as f:
            text = f.read()
        broken = {
            "bad type": text.replace("Type=dbus", "Type=dbsu"),
            "unknown key": text.replace("[Service]", "[Service]\nProtectSytem=strict"),
            "missing binary": text.replace("ExecStart=" + self.bindir() + "/imapwatchd",
                                           "ExecStart=/nonexistent/imapwatchd"),
        }
        for what, unit in broken.items():
            with self.subTest(what=what):
                self.assertNotEqual(unit, text)
                proc = self.systemd_analyze(unit)
                self.assertTrue(proc.returncode != 0 or proc.stderr.strip(),
                                f"systemd-analyze accepted a unit with a {what}")

    # -- autostart

    def test_desktop_file_validates(self):
        path = self.staged(self.expected_files()["autostart"])
        proc = run([tool("desktop-file-validate"), path])
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertEqual(proc.stdout + proc.stderr, "")
        entry = configparser.ConfigParser(interpolation=None)
        entry.optionxform = str
        entry.read(path, encoding="utf-8")
        section = entry["Desktop Entry"]
        self.assertEqual(section["Exec"], "imapwatchd")
        self.assertEqual(section["NoDisplay"], "true")
        # systemd's autostart generator leaves it to the unit.
        self.assertEqual(section["X-systemd-skip"], "true")

    def test_application_entry(self):
        """What desktops need to list imapwatch in their notification
        settings; that notifications name this file is checked with a real
        notification in test_desktop_start."""
        path = self.staged(self.expected_files()["application"])
        proc = run([tool("desktop-file-validate"), path])
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertEqual(proc.stdout + proc.stderr, "")
        entry = configparser.ConfigParser(interpolation=None)
        entry.optionxform = str
        entry.read(path, encoding="utf-8")
        section = entry["Desktop Entry"]
        self.assertEqual(section["Type"], "Application")
        self.assertEqual(section["Name"], "imapwatch")
        # GNOME Settings and Plasma's System Settings list the entries that
        # say so; Plasma only those with an Exec.
        self.assertEqual(section["X-GNOME-UsesNotifications"], "true")
        self.assertEqual(section["Exec"], "imapwatchd")
        # The installed icon, by its name.
        self.assertEqual(section["Icon"] + ".svg",
                         os.path.basename(self.expected_files()["icon"]))
        # Not in menus, and on every desktop.
        self.assertEqual(section["NoDisplay"], "true")
        self.assertNotIn("OnlyShowIn", section)
        self.assertNotIn("NotShowIn", section)
        # GNOME Settings leaves system services out of the list.
        categories = section["Categories"].rstrip(";").split(";")
        for hidden in ("System", "Settings", "X-GNOME-Settings-Panel"):
            self.assertNotIn(hidden, categories)

    # -- man pages

    def test_man_pages_render_without_warnings(self):
        for what in ("man-imapwatchd", "man-imapwatch", "man-conf"):
            path = self.staged(self.expected_files()[what])
            with self.subTest(page=what):
                proc = run([tool("man"), "--warnings", "-l", path],
                           env=dict(os.environ, MANWIDTH="80", MANPAGER="cat",
                                    PAGER="cat", LC_ALL="C.UTF-8"))
                self.assertEqual(proc.returncode, 0, proc.stderr)
                self.assertEqual(proc.stderr, "")
                self.assertIn("NAME", proc.stdout)
                self.assertIn("SEE ALSO", proc.stdout)
                proc = run([tool("groff"), "-man", "-wall", "-z", path])
                self.assertEqual(proc.returncode, 0, proc.stderr)
                self.assertEqual(proc.stderr, "")

    def test_cli_page_documents_every_command(self):
        path = self.staged(self.expected_files()["man-imapwatch"])
        proc = run([tool("man"), "-l", path],
                   env=dict(os.environ, MANWIDTH="200", MANPAGER="cat", LC_ALL="C.UTF-8"))
        for text in ("status [--json]", "list [--all] [--json] [ACCOUNT[/FOLDER]]",
                     "check [ACCOUNT]", "mark-read ID", "mark-read --all", "reload",
                     "monitor [--json]", "doctor", "EXIT STATUS"):
            self.assertIn(text, proc.stdout)

    # -- D-Bus activation

    def test_activation_file(self):
        keys = unit_file_keys(self.staged(self.expected_files()["activation"]))
        exec_path = os.path.join(self.bindir(), "imapwatchd")
        self.assertEqual(keys.get(("D-BUS Service", "Name")), [BUS_NAME])
        self.assertEqual(keys.get(("D-BUS Service", "Exec")), [exec_path])
        self.assertEqual(keys.get(("D-BUS Service", "SystemdService")),
                         ["imapwatchd.service"])
        self.assertTrue(os.access(self.staged(exec_path), os.X_OK))


class PrivateBus:
    """A dbus-daemon of type session whose service directory holds the
    installed activation file, with its Exec pointing into DESTDIR."""

    def __init__(self, test, activation_file, bindir, destdir):
        self.dir = tempfile.mkdtemp(prefix="imapwatch-activation-")
        self.binary = os.path.join(destdir, bindir.lstrip("/"), "imapwatchd")
        services = os.path.join(self.dir, "services")
        os.makedirs(services)
        with open(activation_file, encoding="utf-8") as f:
            text = f.read()
        with open(os.path.join(services, os.path.basename(activation_file)), "w",
                  encoding="utf-8") as f:
            f.write(text.replace(f"Exec={bindir}/", f"Exec={os.path.dirname(self.binary)}/"))
        for d in ("config/imapwatch", "state", "runtime"):
            os.makedirs(os.path.join(self.dir, d))
        os.chmod(os.path.join(self.dir, "runtime"), 0o700)
        # An account whose server is not there: the daemon runs and retries.
        with open(os.path.join(self.dir, "config", "imapwatch", "config"), "w",
                  encoding="utf-8") as f:
            f.write("[daemon]\nnotifications = false\n\n[account test]\n"
                    f"host = 127.0.0.1\nport = {h.free_port()}\nusername = u\n"
                    "password = p\n")
        self.address = "unix:path=" + os.path.join(self.dir, "bus")
        conf = os.path.join(self.dir, "bus.conf")
        with open(conf, "w", encoding="utf-8") as f:
            f.write(f"""<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>{self.address}</listen>
  <auth>EXTERNAL</auth>
  <servicedir>{services}</servicedir>
  <limit name="service_start_timeout">{ACTIVATION_TIMEOUT_MS}</limit>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
""")
        # What the activated daemon inherits: its own config, state and
        # runtime dirs, this bus as its session bus, no display.
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS")}
        self.env.update({
            "XDG_CONFIG_HOME": os.path.join(self.dir, "config"),
            "XDG_STATE_HOME": os.path.join(self.dir, "state"),
            "XDG_RUNTIME_DIR": os.path.join(self.dir, "runtime"),
            "DBUS_SESSION_BUS_ADDRESS": self.address,
        })
        self.proc = subprocess.Popen(
            [tool("dbus-daemon"), "--config-file", conf, "--nofork", "--print-address=1"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=self.env, start_new_session=True)
        # Ready once it prints its address.
        line = self.proc.stdout.readline().decode().strip()
        if not line.startswith("unix:"):
            self.stop()
            test.fail(f"dbus-daemon did not start: {line!r}")

    def send(self, *args, timeout=ACTIVATION_TIMEOUT_MS + 5000):
        return run([tool("dbus-send"), f"--bus={self.address}", "--print-reply",
                    f"--reply-timeout={timeout}", *args],
                   timeout=timeout / 1000 + 10)

    def name_owner(self):
        proc = self.send("--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
                         "org.freedesktop.DBus.GetNameOwner", f"string:{BUS_NAME}")
        if proc.returncode != 0:
            return None
        return proc.stdout.split('"')[1]

    def daemons(self):
        """Processes running the DESTDIR's imapwatchd (unique to this test)."""
        pids = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    if os.readlink(f"/proc/{entry}/exe") == self.binary:
                        pids.append(int(entry))
                except OSError:
                    pass
        return pids

    def stop(self):
        # Activated daemons are children of dbus-daemon, not ours: wait for
        # each through a pidfd.
        for pid in self.daemons():
            try:
                fd = os.pidfd_open(pid)
            except ProcessLookupError:
                continue
            try:
                os.kill(pid, signal.SIGTERM)
                if not select.select([fd], [], [], 5)[0]:
                    os.kill(pid, signal.SIGKILL)
                    select.select([fd], [], [], 5)
            except ProcessLookupError:
                pass
            finally:
                os.close(fd)
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=5)
        self.proc.stdout.close()
        self.proc.stderr.close()
        if not h.KEEP:
            shutil.rmtree(self.dir, ignore_errors=True)


class ActivationTest(Installed):
    """Needs the D-Bus service of imapwatchd (org.imapwatch.Daemon1 owned on
    the session bus, a second instance exiting 0)."""

    def setUp(self):
        files = self.expected_files()
        self.bus = PrivateBus(self, self.staged(files["activation"]), self.bindir(),
                              self.destdir)
        self.addCleanup(self.bus.stop)

    def activate(self):
        self.assertEqual(self.bus.daemons(), [], "a daemon runs before activation")
        proc = self.bus.send(f"--dest={BUS_NAME}", BUS_PATH, f"{BUS_NAME}.GetStatus")
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn('"version"', proc.stdout)
        self.assertEqual(len(self.bus.daemons()), 1, "activation started no daemon")

    def test_method_call_starts_the_daemon(self):
        self.activate()

    def test_cli_never_starts_the_daemon(self):
        # The decision the docs state: the activation file serves other
        # programs; imapwatch itself only asks, and says the daemon is not
        # running (exit status 3).
        cli = os.path.join(os.path.dirname(self.bus.binary), "imapwatch")
        for args in (["status"], ["status", "--json"], ["list"], ["check"]):
            with self.subTest(args=args):
                proc = run([cli, *args], env=self.bus.env, timeout=15)
                self.assertEqual(proc.returncode, 3, proc.stdout + proc.stderr)
                self.assertIn("not running", proc.stderr)
                self.assertEqual(self.bus.daemons(), [], "the CLI activated the daemon")
        self.activate()

    def test_second_start_exits_quietly(self):
        self.activate()
        owner = self.bus.name_owner()
        self.assertIsNotNone(owner)
        proc = run([self.bus.binary], env=self.bus.env, timeout=15)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, "")
        self.assertEqual(self.bus.name_owner(), owner)
        self.assertEqual(len(self.bus.daemons()), 1)


if __name__ == "__main__":
    unittest.main()
