# SPDX-License-Identifier: MIT
"""The desktop for notification tests: Desktop (Xvfb, a private session bus,
dunst) and BusMonitor (dbus-monitor on such a bus, Notify calls parsed by
parse_notify()).
"""

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


class Desktop(Fixture):
    """A private desktop for notification tests: `with Desktop() as d: ...`.

    - Xvfb on a free display (-displayfd: the server says which, when ready)
    - a private dbus-daemon session bus (own config: no service activation,
      so no notification server starts unless a test starts one)
    - dunst with its own config, started by start_dunst() (or at start when
      dunst=True); ready when it owns org.freedesktop.Notifications
      (`gdbus wait`). Popups never time out, so counts are stable.

    env: DISPLAY and DBUS_SESSION_BUS_ADDRESS for programs on this desktop
    (pass to Daemon(env=...)). dunstctl_out(*args), displayed(), history(),
    close_all(), wait_displayed(n), wait_until(pred), screenshot(png). The context menu (dunstctl context /
    `action` on a popup with several actions) is answered by a dmenu stand-in
    that picks the first line containing `menu_choice`.
    """

    def __init__(self, dunst=True, screen="1024x600x24"):
        self.want_dunst = dunst
        self.screen = screen
        self.dir = None
        self.xvfb = None
        self.bus = None
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
            self._write_dmenu()
            if self.want_dunst:
                self.start_dunst()
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

    def start_dunst(self):
        with open(self.path("dunstrc"), "w") as f:
            f.write(DUNSTRC.replace("{dmenu}", self.dmenu))
        self.dunst_log = open(self.path("dunst.log"), "ab")
        self.dunst = subprocess.Popen(
            [find_tool("dunst"), "-config", self.path("dunstrc")],
            stdin=subprocess.DEVNULL, stdout=self.dunst_log, stderr=subprocess.STDOUT,
            env=self.child_env(), start_new_session=True)
        self.wait_name("org.freedesktop.Notifications")

    def stop_dunst(self):
        if self.dunst is not None:
            _killpg(self.dunst)
            self.dunst = None
            self.dunst_log.close()

    def wait_name(self, name, timeout=READY_TIMEOUT):
        """Bounded wait until name has an owner on the private bus."""
        proc = subprocess.run([find_tool("gdbus"), "wait", "--address", self.address,
                               "--timeout", str(int(timeout)), name],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=timeout + 5)
        if proc.returncode != 0:
            raise HarnessError(f"{name} not on the bus within {timeout}s: "
                               f"{proc.stderr.decode(errors='replace')}")

    def dunstctl_out(self, *args):
        proc = subprocess.run([find_tool("dunstctl"), *args], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=self.child_env(),
                              timeout=DOVEADM_TIMEOUT)
        if proc.returncode != 0:
            raise HarnessError(f"dunstctl {' '.join(args)} failed: "
                               f"{proc.stderr.decode(errors='replace')}")
        return proc.stdout.decode("utf-8")

    def displayed(self):
        return int(self.dunstctl_out("count", "displayed"))

    def history(self):
        """Closed notifications, newest first: list of {field: value}."""
        data = json.loads(self.dunstctl_out("history"))
        return [{k: v.get("data") for k, v in n.items()} for n in data["data"][0]]

    def close_all(self):
        self.dunstctl_out("close-all")

    def wait_until(self, predicate, timeout=10.0, what="condition"):
        """Polls predicate (a dunstctl query) with bounded waits on the
        dunst process; raises AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timeout {timeout}s waiting for {what}")
            try:
                (self.dunst or self.bus).wait(timeout=0.05)
            except subprocess.TimeoutExpired:
                pass

    def wait_displayed(self, n, timeout=10.0):
        return self.wait_until(lambda: self.displayed() == n, timeout,
                               f"{n} popups displayed (now {self.displayed()})")

    def screenshot(self, path):
        """PNG of the whole screen (xwd piped into ImageMagick's convert)."""
        xwd = subprocess.run([find_tool("xwd"), "-root", "-silent", "-display", self.display],
                             stdout=subprocess.PIPE, check=True, timeout=30)
        subprocess.run([find_tool("convert"), "xwd:-", path], input=xwd.stdout,
                       check=True, timeout=30)

    def stop(self):
        self.stop_dunst()
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
    seconds when the line was read), `kind` (method call, signal, ...),
    `member`, and `text` (the whole block). notifies() parses Notify calls
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
        m = re.search(r"member=(\w+)", block["lines"][0])
        msg = {"time": block["time"], "kind": block["lines"][0].split(" time=")[0],
               "member": m.group(1) if m else "", "text": text}
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
