# SPDX-License-Identifier: MIT
"""The desktop for notification tests: Desktop (Xvfb, a private session bus,
a notification server: dunst, xfce4-notifyd or notification-daemon) and
BusMonitor (dbus-monitor on such a bus, Notify calls parsed by
parse_notify()).
"""

import ast
import glob
import json
import os
import queue
import re
import select
import signal
import subprocess
import threading
import time

from harness_base import (DOVEADM_TIMEOUT, READY_TIMEOUT, Fixture, HarnessError, _mkdtemp,
                          _rmtree, find_tool)


def _start_with_fd(argv, what, env=None, timeout=READY_TIMEOUT):
    """Start argv, which writes one line to the fd given as '{fd}' in argv
    once it is ready (Xvfb -displayfd, dbus-daemon --print-address);
    returns (Popen, line). Bounded by timeout; no sleeps."""
    r, w = os.pipe()
    argv = [a.replace("{fd}", str(w)) for a in argv]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, pass_fds=(w,), env=env,
                            start_new_session=True)
    os.close(w)
    data = b""
    deadline = time.monotonic() + timeout
    try:
        while b"\n" not in data:
            left = deadline - time.monotonic()
            if left <= 0:
                raise HarnessError(f"{what} not ready within {timeout}s")
            ready, _, _ = select.select([r], [], [], left)
            if not ready:
                continue
            chunk = os.read(r, 4096)
            if not chunk:
                err = proc.stderr.read().decode(errors="replace") if proc.poll() is not None else ""
                raise HarnessError(f"{what} exited before it was ready: {err}")
            data += chunk
    except BaseException:
        _killpg(proc)
        raise
    finally:
        os.close(r)
    return proc, data.decode().strip()


def _killpg(proc, sig=signal.SIGTERM):
    if proc is None:
        return
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait(timeout=5)
    if proc.stderr:
        proc.stderr.close()


DUNSTRC = """[global]
    monitor = 0
    follow = none
    width = 420
    height = 300
    origin = top-right
    offset = 16x16
    notification_limit = 0
    indicate_hidden = yes
    show_indicators = no
    idle_threshold = 0
    markup = full
    format = "<b>%s</b>\\n%b"
    font = DejaVu Sans 11
    frame_width = 2
    frame_color = "#5e81ac"
    separator_height = 2
    padding = 10
    horizontal_padding = 12
    icon_position = left
    max_icon_size = 48
    sticky_history = yes
    history_length = 100
    show_age_threshold = -1
    dmenu = {dmenu}
    mouse_left_click = do_action, close_current
    mouse_middle_click = context
    mouse_right_click = close_current
    ignore_dbusclose = false

[urgency_low]
    background = "#2e3440"
    foreground = "#eceff4"
    timeout = 0

[urgency_normal]
    background = "#2e3440"
    foreground = "#eceff4"
    timeout = 0

[urgency_critical]
    background = "#bf616a"
    foreground = "#eceff4"
    timeout = 0
"""


# The notification servers the tests run against. IMAPWATCH_TEST_NOTIFY_SERVER
# picks the one Desktop() starts when a test does not name one.
NOTIFY_SERVERS = ("dunst", "xfce4-notifyd", "notification-daemon")
NOTIFY_SERVER = os.environ.get("IMAPWATCH_TEST_NOTIFY_SERVER", "") or "dunst"

# What each server answers to GetCapabilities as the harness runs it (dunst:
# with DUNSTRC, whose `markup = full` makes it render body markup).
SERVER_CAPABILITIES = {
    "dunst": frozenset({
        "actions", "body", "body-hyperlinks", "body-markup", "icon-static", "synchronous",
        "private-synchronous", "x-canonical-private-synchronous", "x-dunst-stack-tag"}),
    "xfce4-notifyd": frozenset({
        "action-icons", "actions", "body", "body-hyperlinks", "body-markup", "icon-static",
        "x-canonical-private-icon-only"}),
    # "sound" without any code that plays one (3.x has none).
    "notification-daemon": frozenset({
        "action-icons", "actions", "body", "body-hyperlinks", "body-markup", "icon-static",
        "persistence", "sound"}),
}

# Where the servers that are not in PATH live (Debian's multiarch paths
# first); the environment variable overrides.
_PROGRAMS = {
    "xfce4-notifyd": ("XFCE4_NOTIFYD", ("/usr/lib/*/xfce4/notifyd/xfce4-notifyd",
                                        "/usr/libexec/xfce4/notifyd/xfce4-notifyd",
                                        "/usr/lib/xfce4/notifyd/xfce4-notifyd")),
    "xfconfd": ("XFCONFD", ("/usr/lib/*/xfce4/xfconf/xfconfd",
                            "/usr/libexec/xfce4/xfconf/xfconfd",
                            "/usr/lib/xfce4/xfconf/xfconfd")),
    "notification-daemon": ("NOTIFICATION_DAEMON", (
        "/usr/lib/notification-daemon/notification-daemon",
        "/usr/libexec/notification-daemon")),
}


def find_server_program(name):
    """Absolute path of xfce4-notifyd, xfconfd or notification-daemon (not
    in PATH: below /usr/lib or /usr/libexec); raises HarnessError if
    missing."""
    env_var, patterns = _PROGRAMS[name]
    if os.environ.get(env_var):
        return find_tool(name, env_var)
    for pattern in patterns:
        for path in sorted(glob.glob(pattern)):
            if os.access(path, os.X_OK):
                return path
    raise HarnessError(f"required program '{name}' not found in {', '.join(patterns)} "
                       f"(or set {env_var}); run scripts/install-deps")


# xfce4-notifyd's settings, read from xfconfd: popups never expire (so that
# counts are stable, as with dunst), and appear and go at once.
XFCE4_NOTIFYD_CHANNEL = """<?xml version="1.0" encoding="UTF-8"?>
<channel name="xfce4-notifyd" version="1.0">
  <property name="expire-timeout" type="int" value="0"/>
  <property name="do-fadeout" type="bool" value="false"/>
  <property name="do-slideout" type="bool" value="false"/>
  <property name="initial-opacity" type="double" value="1.0"/>
</channel>
"""

# Where a click lands on a popup, measured on the Debian 12 packages with
# GTK's default theme and DejaVu fonts (window-relative pixels).
# xfce4-notifyd: every action is a button, equally wide, in one row along
# the bottom, `XFCE_BUTTON_PAD` from either side, centred 30 px above the
# bottom edge; a click elsewhere dismisses the popup without an action.
XFCE_BUTTON_PAD = 13
XFCE_BUTTON_FROM_BOTTOM = 30
# notification-daemon: "default" is a click on the bubble itself; other
# actions are buttons right-aligned along the bottom (one fits: its
# centre line 39 px above the bottom edge, ending 57 px left of the right
# edge, the shortest label "Try again" at least 60 px wide).
ND_BUTTON_FROM_RIGHT = 77
ND_BUTTON_FROM_BOTTOM = 39


class Desktop(Fixture):
    """A private desktop for notification tests: `with Desktop() as d: ...`.

    - Xvfb on a free display (-displayfd: the server says which, when ready)
    - a private dbus-daemon session bus (own config: no service activation,
      so no notification server starts unless a test starts one)
    - a notification server, `server` (default: IMAPWATCH_TEST_NOTIFY_SERVER,
      else dunst): dunst with its own config, xfce4-notifyd with its own
      xfconfd, or notification-daemon, each with HOME and the XDG
      directories in the temp dir; started by start_server() (or at start
      when start_server=True, whose older name is dunst=); ready when it
      owns org.freedesktop.Notifications (`gdbus wait`). Popups never time
      out (notification-daemon's bubbles do, after 5 s, but it keeps the
      notification until it is closed: "persistence"), so counts are stable.
      markup=False: dunst with `markup = no`, a server without
      "body-markup".
    - `calls`: a BusMonitor of the notification interface, its replies and
      errors, from before the server starts: held() reads the server's own
      answers.

    env: DISPLAY and DBUS_SESSION_BUS_ADDRESS for programs on this desktop
    (pass to Daemon(env=...)). Any server: displayed(), held(),
    invoke(action), close_all(), notify(summary) (as another application),
    wait_displayed(n), wait_until(pred), capabilities(), server_info(),
    screenshot(png). xfce4-notifyd only: xfconf_set(prop, kind, value).
    dunst only:
    dunstctl_out(*args), history(), choose(text): its context menu
    (dunstctl context / `action` on a popup with several actions) is
    answered by a dmenu stand-in that picks the first line containing that
    text.
    """

    def __init__(self, dunst=None, screen="1024x600x24", server=None, start_server=True,
                 markup=True):
        self.server = server or NOTIFY_SERVER
        if self.server not in NOTIFY_SERVERS:
            raise HarnessError(f"notification server {self.server!r}: use one of "
                               f"{', '.join(NOTIFY_SERVERS)} (IMAPWATCH_TEST_NOTIFY_SERVER)")
        self.want_server = start_server if dunst is None else dunst
        self.screen = screen
        if not markup and self.server != "dunst":
            raise HarnessError(f"markup=False is dunst's (markup = no); {self.server} "
                               "always renders body markup")
        self.markup = markup
        self.dir = None
        self.xvfb = None
        self.bus = None
        self.calls = None
        # The server's processes, helpers (xfconfd) first; server_proc owns
        # the name. dunst: the same as server_proc while dunst runs.
        self.server_procs = []
        self.server_proc = None
        self.server_owner = None
        self.server_log = None
        self.dunst = None
        self.env = {}
        self.menu_choice = "Mark"

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def start(self):
        self.dir = _mkdtemp("imapwatch-desktop-")
        try:
            xvfb = find_tool("Xvfb")
            self.xvfb, display = _start_with_fd(
                [xvfb, "-displayfd", "{fd}", "-screen", "0", self.screen,
                 "-nolisten", "tcp", "-noreset"], "Xvfb")
            os.makedirs(self.path("bus"))
            with open(self.path("bus.conf"), "w") as f:
                f.write(f"""<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={self.path("bus")}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
""")
            self.bus, address = _start_with_fd(
                [find_tool("dbus-daemon"), "--config-file", self.path("bus.conf"),
                 "--nofork", "--nopidfile", "--print-address={fd}"], "dbus-daemon")
            self.env = {"DISPLAY": f":{display}", "DBUS_SESSION_BUS_ADDRESS": address}
            self.display = f":{display}"
            self.address = address
            self.calls = BusMonitor(address, rules=(
                "interface='org.freedesktop.Notifications'", "type='method_return'",
                "type='error'"))
            self._write_dmenu()
            if self.want_server:
                self.start_server()
        except BaseException:
            self.stop()
            raise

    def _write_dmenu(self):
        # dunst pipes the actions as lines to "dmenu" and takes the line it
        # prints; this one prints the first line that contains the text in
        # the file menu_choice (written per use by choose()).
        self.dmenu = self.path("dmenu")
        with open(self.dmenu, "w") as f:
            f.write(f"""#!/bin/sh
choice=$(cat {self.path("menu_choice")} 2>/dev/null)
grep -F -m1 -- "$choice"
""")
        os.chmod(self.dmenu, 0o755)
        self.choose(self.menu_choice)

    def choose(self, text):
        with open(self.path("menu_choice"), "w") as f:
            f.write(text)

    def child_env(self, extra=None):
        env = dict(os.environ)
        env.pop("WAYLAND_DISPLAY", None)
        env.update(self.env)
        env.update(extra or {})
        return env

    def _server_env(self):
        """A home of its own for a GTK server: nothing of the user's
        settings, caches or accessibility bus."""
        home = self.path("home")
        dirs = {"HOME": home, "XDG_CONFIG_HOME": os.path.join(home, "config"),
                "XDG_CONFIG_DIRS": os.path.join(home, "config-dirs"),
                "XDG_CACHE_HOME": os.path.join(home, "cache"),
                "XDG_DATA_HOME": os.path.join(home, "data"),
                "XDG_RUNTIME_DIR": os.path.join(home, "runtime")}
        for d in dirs.values():
            os.makedirs(d, mode=0o700, exist_ok=True)
        return self.child_env(dict(dirs, NO_AT_BRIDGE="1", GDK_BACKEND="x11"))

    def _spawn(self, argv, env):
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.server_log,
                                stderr=subprocess.STDOUT, env=env, start_new_session=True)
        self.server_procs.append(proc)
        return proc

    def start_server(self):
        """Starts the notification server; returns once it owns
        org.freedesktop.Notifications."""
        self.server_log = open(self.path("server.log"), "ab")
        try:
            if self.server == "dunst":
                with open(self.path("dunstrc"), "w") as f:
                    rc = DUNSTRC.replace("{dmenu}", self.dmenu)
                    if not self.markup:
                        # dunst then does not advertise "body-markup".
                        rc = rc.replace("markup = full", "markup = no")
                    f.write(rc)
                self.server_proc = self._spawn(
                    [find_tool("dunst"), "-config", self.path("dunstrc")], self.child_env())
                self.dunst = self.server_proc
            elif self.server == "xfce4-notifyd":
                env = self._server_env()
                channels = os.path.join(env["XDG_CONFIG_HOME"], "xfce4", "xfconf",
                                        "xfce-perchannel-xml")
                os.makedirs(channels, exist_ok=True)
                with open(os.path.join(channels, "xfce4-notifyd.xml"), "w") as f:
                    f.write(XFCE4_NOTIFYD_CHANNEL)
                # Settings come from xfconfd over the bus (D-Bus activation
                # would start it; this bus activates nothing).
                self._spawn([find_server_program("xfconfd")], env)
                self.wait_name("org.xfce.Xfconf")
                self.server_proc = self._spawn([find_server_program("xfce4-notifyd")], env)
            else:
                self.server_proc = self._spawn([find_server_program("notification-daemon")],
                                               self._server_env())
            self.wait_name("org.freedesktop.Notifications")
            self.server_owner = self._name_owner("org.freedesktop.Notifications")
        except BaseException:
            self.stop_server()
            raise

    def stop_server(self):
        for proc in reversed(self.server_procs):
            _killpg(proc)
        self.server_procs = []
        self.server_proc = None
        self.server_owner = None
        self.dunst = None
        if self.server_log is not None:
            self.server_log.close()
            self.server_log = None

    # The older names, from when dunst was the only server.
    start_dunst = start_server
    stop_dunst = stop_server

    def xfconf_set(self, prop, kind, value):
        """Sets an xfce4-notifyd setting as its settings dialog does
        (xfconf-query; kind: bool, int, string): it follows at once."""
        self._only("xfce4-notifyd", "xfconf")
        proc = subprocess.run([find_tool("xfconf-query"), "-c", "xfce4-notifyd", "-p", prop,
                               "-n", "-t", kind, "-s", str(value)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env=self._server_env(), timeout=DOVEADM_TIMEOUT)
        if proc.returncode != 0:
            raise HarnessError(f"xfconf-query {prop} failed: "
                               f"{proc.stderr.decode(errors='replace')}")

    def server_log_text(self):
        with open(self.path("server.log"), "rb") as f:
            return f.read().decode(errors="replace")

    def wait_name(self, name, timeout=READY_TIMEOUT):
        """Bounded wait until name has an owner on the private bus."""
        proc = subprocess.run([find_tool("gdbus"), "wait", "--address", self.address,
                               "--timeout", str(int(timeout)), name],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=timeout + 5)
        if proc.returncode != 0:
            raise HarnessError(f"{name} not on the bus within {timeout}s: "
                               f"{proc.stderr.decode(errors='replace')}")

    def _gdbus_call(self, dest, path, method, *args):
        proc = subprocess.run([find_tool("gdbus"), "call", "--address", self.address,
                               "--dest", dest, "--object-path", path, "--method", method,
                               *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=DOVEADM_TIMEOUT)
        if proc.returncode != 0:
            raise HarnessError(f"{method} failed: {proc.stderr.decode(errors='replace')}")
        # GVariant text of strings, string arrays and integers reads as Python.
        return ast.literal_eval(re.sub(r"\buint32 ", "", proc.stdout.decode()))

    def _name_owner(self, name):
        return self._gdbus_call("org.freedesktop.DBus", "/org/freedesktop/DBus",
                                "org.freedesktop.DBus.GetNameOwner", name)[0]

    def _notifications(self, method, *args):
        return self._gdbus_call("org.freedesktop.Notifications",
                                "/org/freedesktop/Notifications",
                                f"org.freedesktop.Notifications.{method}", *args)

    def notify(self, summary, body="", app_name="other", replaces_id=0):
        """A notification from another application (a gdbus call; never
        expires): returns its id."""
        return self._notifications("Notify", app_name, str(replaces_id), "", summary, body,
                                   "[]", "{}", "--", "-1")[0]

    def capabilities(self):
        """The server's GetCapabilities, as a frozenset."""
        return frozenset(self._notifications("GetCapabilities")[0])

    def server_info(self):
        """The server's GetServerInformation: (name, vendor, version, spec)."""
        return self._notifications("GetServerInformation")

    def held(self):
        """{id: Notify arguments (parse_notify())} of the notifications the
        running server holds, from its own answers on the bus: the ids its
        Notify replies returned, less those its NotificationClosed signals
        closed."""
        calls, held = {}, {}
        owner = self.server_owner
        for m in self.calls.collect():
            if m["kind"] == "method call" and m["member"] == "Notify":
                calls[(m["sender"], m["serial"])] = parse_notify(m["text"])
            elif m["kind"] == "method return" and m["sender"] == owner:
                call = calls.pop((m["destination"], m["reply_serial"]), None)
                if call is not None:
                    held[int(m["text"].split("uint32 ")[1].split()[0])] = call
            elif (m["kind"] == "signal" and m["member"] == "NotificationClosed"
                  and m["sender"] == owner):
                held.pop(int(m["text"].split("uint32 ")[1].split()[0]), None)
        return held

    def _windows(self):
        """The server's popup windows now on the screen (X window ids)."""
        query = {"xfce4-notifyd": ["--class", "^xfce4-notifyd$"],
                 "notification-daemon": ["--name", "^Notification$"]}[self.server]
        proc = subprocess.run([find_tool("xdotool"), "search", "--onlyvisible", *query],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env=self.child_env(), timeout=DOVEADM_TIMEOUT)
        # xdotool exits 1 when it finds none.
        if proc.returncode not in (0, 1):
            raise HarnessError(f"xdotool search failed: {proc.stderr.decode(errors='replace')}")
        return proc.stdout.decode().split()

    def _xdotool(self, *args):
        proc = subprocess.run([find_tool("xdotool"), *args], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=self.child_env(),
                              timeout=DOVEADM_TIMEOUT)
        if proc.returncode != 0:
            raise HarnessError(f"xdotool {' '.join(args)} failed: "
                               f"{proc.stderr.decode(errors='replace')}")
        return proc.stdout.decode()

    def displayed(self):
        """How many notifications the server shows: dunst's count; the
        popup windows of xfce4-notifyd on the screen; the notifications
        notification-daemon holds (it shows one bubble at a time, for 5 s,
        and keeps every notification until it is closed)."""
        if self.server == "dunst":
            return int(self.dunstctl_out("count", "displayed"))
        if self.server == "xfce4-notifyd":
            return len(self._windows())
        return len(self.held())

    def invoke(self, action, timeout=10.0):
        """Picks `action` (its key: "default", "mark-read", ...) on the one
        notification the server holds, as a user does: dunst through
        `dunstctl action` ("default") or its context menu (the dmenu
        stand-in picks the action's label); the other two by a click
        (xdotool) on the popup's button for it, or for notification-daemon's
        "default" on its bubble. Returns the notification's id."""
        # The server's reply may reach the monitor after the popup shows.
        try:
            held = self.wait_until(lambda: len(self.held()) == 1 and self.held(), timeout,
                                   "one notification held")
        except AssertionError:
            raise HarnessError(f"invoke({action!r}) needs one notification, the server "
                               f"holds {len(self.held())}: {self.held()}") from None
        [(nid, call)] = held.items()
        keys = list(call["actions"])
        if action not in keys:
            raise HarnessError(f"notification {nid} has no action {action!r}: {keys}")
        if self.server == "dunst":
            if action == "default":
                self.dunstctl_out("action", "0")
            else:
                self.choose(call["actions"][action])
                self.dunstctl_out("context")
            return nid
        window = self.wait_until(lambda: self._windows(), timeout,
                                 f"a popup window of {self.server}")
        if len(window) != 1:
            raise HarnessError(f"invoke({action!r}): {len(window)} popup windows")
        geometry = dict(line.split("=", 1) for line in
                        self._xdotool("getwindowgeometry", "--shell", window[0]).split())
        width, height = int(geometry["WIDTH"]), int(geometry["HEIGHT"])
        if self.server == "xfce4-notifyd":
            row = width - 2 * XFCE_BUTTON_PAD
            x = XFCE_BUTTON_PAD + (2 * keys.index(action) + 1) * row // (2 * len(keys))
            y = height - XFCE_BUTTON_FROM_BOTTOM
        elif action == "default":
            x, y = width // 4, height // 3
        else:
            buttons = [k for k in keys if k != "default"]
            if len(buttons) != 1:
                raise HarnessError(f"invoke({action!r}): notification-daemon's buttons "
                                   f"{buttons} have no known places")
            x, y = width - ND_BUTTON_FROM_RIGHT, height - ND_BUTTON_FROM_BOTTOM
        # Moving in stops notification-daemon's 5 s timer for the bubble.
        self._xdotool("mousemove", "--window", window[0], str(x), str(y), "click", "1")
        # The pointer out of the way of the next popup.
        self._xdotool("mousemove", "0", str(int(self.screen.split("x")[1]) - 1))
        return nid

    def dunstctl_out(self, *args):
        self._only("dunst", "dunstctl")
        proc = subprocess.run([find_tool("dunstctl"), *args], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=self.child_env(),
                              timeout=DOVEADM_TIMEOUT)
        if proc.returncode != 0:
            raise HarnessError(f"dunstctl {' '.join(args)} failed: "
                               f"{proc.stderr.decode(errors='replace')}")
        return proc.stdout.decode("utf-8")

    def _only(self, server, what):
        if self.server != server:
            raise HarnessError(f"{what} is {server}'s; this desktop runs {self.server}")

    def history(self):
        """Closed notifications, newest first: list of {field: value}
        (dunst's history: what it rendered)."""
        data = json.loads(self.dunstctl_out("history"))
        return [{k: v.get("data") for k, v in n.items()} for n in data["data"][0]]

    def close_all(self):
        """Closes every notification: dunst's close-all, as its user does;
        the others have no such command, and get CloseNotification for each
        one they hold, as from the application."""
        if self.server == "dunst":
            self.dunstctl_out("close-all")
            return
        closed = set()

        def close_held():
            # A reply may reach the monitor after its popup shows.
            for nid in self.held().keys() - closed:
                self._notifications("CloseNotification", str(nid))
                closed.add(nid)
            return self.displayed() == 0

        self.wait_until(close_held, what="every notification closed")

    def wait_until(self, predicate, timeout=10.0, what="condition"):
        """Polls predicate (a query of the server) with bounded waits on
        the server process; raises AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timeout {timeout}s waiting for {what}")
            try:
                (self.server_proc or self.bus).wait(timeout=0.05)
            except subprocess.TimeoutExpired:
                pass

    def wait_displayed(self, n, timeout=10.0):
        return self.wait_until(lambda: self.displayed() == n, timeout,
                               f"{n} popups displayed by {self.server} "
                               f"(now {self.displayed()})")

    def screenshot(self, path):
        """PNG of the whole screen (xwd piped into ImageMagick's convert)."""
        xwd = subprocess.run([find_tool("xwd"), "-root", "-silent", "-display", self.display],
                             stdout=subprocess.PIPE, check=True, timeout=30)
        subprocess.run([find_tool("convert"), "xwd:-", path], input=xwd.stdout,
                       check=True, timeout=30)

    def stop(self):
        self.stop_server()
        if self.calls is not None:
            self.calls.stop()
            self.calls = None
        _killpg(self.bus)
        self.bus = None
        _killpg(self.xvfb)
        self.xvfb = None
        if self.dir:
            _rmtree(self.dir)
            self.dir = None


class BusMonitor:
    """dbus-monitor on a private bus, for calls to the notification server.

    Each message dbus-monitor prints becomes a dict with `time` (monotonic
    seconds when the line was read), `kind` (method call, method return,
    signal, error), `member`, `sender`, `destination`, `serial`,
    `reply_serial` (None where the header has none), and `text` (the whole
    block). notifies() parses Notify calls
    into {app_name, replaces_id, icon, summary, body, actions, hints}.
    """

    def __init__(self, address, rules=("interface='org.freedesktop.Notifications'",)):
        # dbus-monitor writes through stdio: line-buffer it, or messages
        # arrive in 4 KiB lumps.
        self.proc = subprocess.Popen(
            [find_tool("stdbuf"), "-oL", find_tool("dbus-monitor"), "--address", address,
             *rules],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            start_new_session=True)
        self.messages = queue.Queue()
        self._all = []
        self._started = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        # dbus-monitor's own NameAcquired signal says it is listening.
        if not self._started.wait(READY_TIMEOUT):
            self.stop()
            raise HarnessError("dbus-monitor did not start")

    def _read(self):
        # A message ends where the next one starts; when nothing follows
        # for a moment, the one read so far is complete.
        fd = self.proc.stdout.fileno()
        buf, block = b"", None
        while True:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if not ready:
                if block:
                    self._emit(block)
                    block = None
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            while b"\n" in buf:
                raw, buf = buf.split(b"\n", 1)
                line = raw.decode("utf-8", errors="replace") + "\n"
                if re_header.match(line):
                    if block:
                        self._emit(block)
                    block = {"time": time.monotonic(), "lines": [line]}
                    if "member=NameAcquired" in line:
                        self._started.set()
                elif block is not None:
                    block["lines"].append(line)
        if block:
            self._emit(block)

    def _emit(self, block):
        text = "".join(block["lines"])
        header = block["lines"][0]
        fields = dict(re.findall(r"\b(sender|destination|serial|reply_serial|member)=([^\s;]+)",
                                 header))
        msg = {"time": block["time"], "kind": header.split(" time=")[0],
               "member": fields.get("member", ""), "sender": fields.get("sender"),
               "destination": fields.get("destination"), "serial": fields.get("serial"),
               "reply_serial": fields.get("reply_serial"), "text": text}
        self.messages.put(msg)

    def collect(self):
        while True:
            try:
                self._all.append(self.messages.get_nowait())
            except queue.Empty:
                return list(self._all)

    def wait_for(self, predicate, timeout=10.0):
        deadline = time.monotonic() + timeout
        for msg in self.collect():
            if predicate(msg):
                return msg
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no matching D-Bus message within "
                                     f"{timeout}s; seen: {[m['member'] for m in self._all]}")
            try:
                msg = self.messages.get(timeout=left)
            except queue.Empty:
                continue
            self._all.append(msg)
            if predicate(msg):
                return msg

    def notifies(self):
        return [parse_notify(m["text"]) for m in self.collect()
                if m["kind"] == "method call" and m["member"] == "Notify"]

    def wait_notifies(self, count, timeout=10.0):
        """The Notify calls seen so far, once there are at least count."""
        deadline = time.monotonic() + timeout
        while True:
            calls = self.notifies()
            if len(calls) >= count:
                return calls
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{len(calls)} of {count} Notify calls: {calls}")
            try:
                self._all.append(self.messages.get(timeout=left))
            except queue.Empty:
                pass

    def stop(self):
        _killpg(self.proc)
        self._reader.join(timeout=5)
        if self.proc.stdout:
            self.proc.stdout.close()


re_header = re.compile(r"^(method call|method return|signal|error) time=")
_re_string = re.compile(r'^\s+string "(.*?)"$', re.S)


def parse_notify(text):
    """The arguments of one Notify call as dbus-monitor prints them.

    Strings may span lines (a body with newlines); dbus-monitor does not
    escape quotes, so each argument is cut at the line that starts the next
    one (indentation and a type word)."""
    lines = text.split("\n")[1:]
    args, current = [], None
    for line in lines:
        if re.match(r"^   (string|uint32|int32|array) ", line):
            if current is not None:
                args.append(current)
            current = line
        elif current is not None:
            current += "\n" + line
    if current is not None:
        args.append(current)

    def string(arg):
        m = _re_string.match(arg)
        return m.group(1) if m else None

    hints = dict(re.findall(r'string "([\w-]+)"\s+variant\s+\w+ "?([^"\n]*)"?', args[6]))
    actions = re.findall(r'string "([^"]*)"', args[5])
    return {
        "app_name": string(args[0]),
        "replaces_id": int(args[1].split()[-1]),
        "icon": string(args[2]),
        "summary": string(args[3]),
        "body": string(args[4]),
        "actions": dict(zip(actions[::2], actions[1::2])),
        "hints": hints,
    }
