# SPDX-License-Identifier: MIT
"""Daemon: imapwatchd --print-events under test, its JSON events read into
a queue; and the predicates tests wait for events with.
"""

import json
import os
import queue
import re
import signal
import subprocess
import threading
import time

from harness_base import Fixture, _mkdtemp, _rmtree, program


class Daemon(Fixture):
    """imapwatchd --print-events under test.

    accounts: {name: {key: value}} written as [account NAME] groups; list
    values are joined with ';', bools as true/false. daemon: [daemon] keys
    (default notifications = false). args: extra command-line flags after
    --print-events --config PATH (e.g. ["-v", "--trace-imap"]). Use as a
    context manager, or start() and stop(). Events: wait_for(),
    assert_no_event(), events_so_far(), mark(). After stop() or kill(),
    final_stderr holds the whole stderr log (bytes).
    """

    def __init__(self, accounts, daemon=None, raw_config=None, env=None,
                 name="imapwatchd", args=()):
        self.binary = program("IMAPWATCHD")
        self.accounts = accounts
        self.daemon_keys = {"notifications": False}
        self.daemon_keys.update(daemon or {})
        self.raw_config = raw_config
        self.extra_env = env or {}
        self.args = list(args)
        self.final_stderr = None
        self.name = name
        self.dir = None
        self.proc = None
        self.config_path = None
        self.stderr_path = None
        self._queue = queue.Queue()
        self._events = []
        self._read_at = []  # time.monotonic() each line was read
        self._lines = []  # raw stdout line of each event, same order
        self._unparsed = []
        self._reader = None
        self._stderr_file = None

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.stop()
        else:
            self.kill()

    @staticmethod
    def _value(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (list, tuple)):
            return ";".join(str(x) for x in v)
        return str(v)

    def config_text(self):
        if self.raw_config is not None:
            return self.raw_config
        lines = ["[daemon]"]
        lines += [f"{k} = {self._value(v)}" for k, v in self.daemon_keys.items()]
        for name, keys in self.accounts.items():
            lines += ["", f"[account {name}]"]
            lines += [f"{k} = {self._value(v)}" for k, v in keys.items()]
        return "\n".join(lines) + "\n"

    def start(self):
        self.dir = _mkdtemp(f"imapwatch-{self.name}-")
        for d in ("config/imapwatch", "state", "runtime"):
            os.makedirs(os.path.join(self.dir, d), exist_ok=True)
        os.chmod(os.path.join(self.dir, "runtime"), 0o700)
        self.config_path = os.path.join(self.dir, "config", "imapwatch", "config")
        with open(self.config_path, "w", encoding="utf-8") as f:
            f.write(self.config_text())
        env = dict(os.environ)
        # Keep the daemon away from the developer's desktop session.
        for var in ("DBUS_SESSION_BUS_ADDRESS", "DISPLAY", "WAYLAND_DISPLAY"):
            env.pop(var, None)
        env.update({
            "XDG_CONFIG_HOME": os.path.join(self.dir, "config"),
            "XDG_STATE_HOME": os.path.join(self.dir, "state"),
            "XDG_RUNTIME_DIR": os.path.join(self.dir, "runtime"),
            "G_DEBUG": "fatal-criticals",
        })
        env.update(self.extra_env)
        self.stderr_path = os.path.join(self.dir, "stderr.log")
        self._stderr_file = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            [self.binary, "--print-events", "--config", self.config_path, *self.args],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=self._stderr_file, env=env, start_new_session=True)
        self._reader = threading.Thread(target=self._read_stdout, daemon=True)
        self._reader.start()

    def _read_stdout(self):
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            if not line.strip():
                continue
            try:
                event = json.loads(line)
                if not isinstance(event, dict):
                    raise ValueError("not an object")
            except ValueError:
                self._unparsed.append(line)
                continue
            self._lines.append(line)
            self._read_at.append(time.monotonic())
            self._queue.put(event)
        self._queue.put(None)  # end of output

    # -- events

    def _drain(self, timeout):
        """Move queued events into the list; wait up to timeout for one."""
        try:
            item = self._queue.get(timeout=timeout) if timeout > 0 else self._queue.get_nowait()
        except queue.Empty:
            return False
        while True:
            if item is None:
                self._eof = True
            else:
                self._events.append(item)
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return True

    _eof = False

    def events_so_far(self):
        self._drain(0)
        return list(self._events)

    def lines_so_far(self):
        """The raw JSON lines of events_so_far(), byte for byte (decoded)."""
        self._drain(0)
        return list(self._lines[:len(self._events)])

    def read_at(self, event):
        """time.monotonic() when this event (one of events_so_far()) was
        read from the daemon's output."""
        self._drain(0)
        index = next(i for i, e in enumerate(self._events) if e is event)
        return self._read_at[index]

    def mark(self):
        """Index to pass as `since` so that only later events count."""
        self._drain(0)
        return len(self._events)

    def describe(self, since=0):
        evs = self.events_so_far()
        lines = [f"events seen ({len(evs)}, since={since}):"]
        lines += [f"  [{i}] {json.dumps(e, ensure_ascii=False)}"
                  for i, e in enumerate(evs)]
        if self._unparsed:
            lines.append("stdout lines that are not JSON objects:")
            lines += [f"  {l}" for l in self._unparsed]
        lines.append(f"imapwatchd exit code: {self.proc.poll() if self.proc else None}")
        lines.append("imapwatchd stderr:")
        lines.append(self.stderr_text() or "  (empty)")
        return "\n".join(lines)

    def stderr_text(self):
        try:
            with open(self.stderr_path, errors="replace") as f:
                return f.read()[-20000:]
        except (OSError, TypeError):
            return ""

    def log_mark(self):
        """Offset to pass as `since` to wait_log() so that only later log
        lines count."""
        try:
            return os.path.getsize(self.stderr_path)
        except (OSError, TypeError):
            return 0

    def wait_log(self, text, timeout=10.0, since=0):
        """Wait until `text` (a string, or a compiled bytes regex) appears
        in the log (stderr) after offset `since`; polls the file, bounded
        by timeout. Returns the offset just after it, a `since` for the
        next one."""
        deadline = time.monotonic() + timeout
        pattern = text if isinstance(text, re.Pattern) else re.compile(re.escape(text.encode()))
        while True:
            try:
                with open(self.stderr_path, "rb") as f:
                    f.seek(since)
                    m = pattern.search(f.read())
                    if m:
                        return since + m.end()
            except (OSError, TypeError):
                pass
            if time.monotonic() >= deadline or self.proc.poll() is not None:
                shown = text.pattern if isinstance(text, re.Pattern) else text
                raise AssertionError(f"'{shown}' never logged\n{self.describe()}")
            time.sleep(0.05)  # polling a file for a condition, bounded

    def wait_for(self, predicate, timeout=10.0, since=0, what=None):
        """First event at index >= since matching predicate; fails on timeout."""
        deadline = time.monotonic() + timeout
        checked = since
        while True:
            while checked < len(self._events):
                ev = self._events[checked]
                checked += 1
                if predicate(ev):
                    return ev
            remaining = deadline - time.monotonic()
            if remaining <= 0 or (self._eof and self._queue.empty()):
                break
            self._drain(remaining)
        why = "imapwatchd closed stdout" if self._eof else f"timeout {timeout}s"
        raise AssertionError(
            f"no event matching {what or _name(predicate)} ({why})\n{self.describe(since)}")

    def wait_for_all(self, predicate, count, timeout=10.0, since=0, what=None):
        """Wait until `count` events at index >= since match; returns them."""
        deadline = time.monotonic() + timeout
        while True:
            found = [e for e in self.events_so_far()[since:] if predicate(e)]
            if len(found) >= count:
                return found
            remaining = deadline - time.monotonic()
            if remaining <= 0 or (self._eof and self._queue.empty()):
                raise AssertionError(
                    f"{len(found)} of {count} events matching {what or _name(predicate)}\n"
                    f"{self.describe(since)}")
            self._drain(remaining)

    def assert_no_event(self, predicate, within=1.0, since=0, what=None):
        """Fail if an event matching predicate (index >= since) shows up
        within `within` seconds (bounded wait on the output queue)."""
        deadline = time.monotonic() + within
        while True:
            for ev in self.events_so_far()[since:]:
                if predicate(ev):
                    raise AssertionError(
                        f"unexpected event {json.dumps(ev, ensure_ascii=False)} "
                        f"({what or _name(predicate)})\n{self.describe(since)}")
            remaining = deadline - time.monotonic()
            if remaining <= 0 or (self._eof and self._queue.empty()):
                return
            self._drain(remaining)

    def find(self, predicate, since=0):
        return [e for e in self.events_so_far()[since:] if predicate(e)]

    # -- process

    def wait_exit(self, timeout):
        """Exit code, or AssertionError if still running after timeout."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"imapwatchd still running after {timeout}s\n{self.describe()}")

    def stop(self, timeout=2.0):
        """SIGTERM; assert exit code 0 within timeout and clean stdout."""
        if self.proc is None:
            return
        try:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
            try:
                code = self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                raise AssertionError(
                    f"imapwatchd did not exit within {timeout}s of SIGTERM\n"
                    f"{self.describe()}")
            self._reader.join(timeout=5)
            if code != 0:
                raise AssertionError(
                    f"imapwatchd exited with {code}\n{self.describe()}")
            if self._unparsed:
                raise AssertionError(
                    f"imapwatchd printed non-JSON lines on stdout\n{self.describe()}")
        finally:
            self.kill()

    def kill(self):
        """Make sure nothing is left: SIGKILL the process group, remove dir."""
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self.proc.wait(timeout=5)
            if self._reader:
                self._reader.join(timeout=5)
            self.proc.stdout.close()
            self.proc = None
        if self._stderr_file:
            self._stderr_file.close()
            self._stderr_file = None
            with open(self.stderr_path, "rb") as f:
                self.final_stderr = f.read()
        if self.dir:
            _rmtree(self.dir)
            self.dir = None


def _name(predicate):
    return getattr(predicate, "__name__", None) or repr(predicate)


def is_event(kind, **fields):
    """Predicate: event == kind and every given field equals its value."""
    def pred(ev):
        if ev.get("event") != kind:
            return False
        return all(ev.get(k) == v for k, v in fields.items())
    pred.__name__ = pred.__qualname__ = (
        f"{kind}({', '.join(f'{k}={v!r}' for k, v in fields.items())})")
    return pred


def is_account_state(account, state):
    """Predicate: the account-level state event (no folder, or empty)."""
    def pred(ev):
        return (ev.get("event") == "state" and ev.get("account") == account
                and ev.get("state") == state and not ev.get("folder"))
    pred.__name__ = pred.__qualname__ = f"state(account={account!r}, state={state!r})"
    return pred
