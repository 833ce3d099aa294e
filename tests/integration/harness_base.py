# SPDX-License-Identifier: MIT
"""What every part of the integration-test harness shares: the environment
switches, the bounds for waits, HarnessError, finding tools, temp dirs,
running a command and picking a free port.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile


DEBUG = os.environ.get("IMAPWATCH_TEST_DEBUG", "") not in ("", "0")
KEEP = os.environ.get("IMAPWATCH_TEST_KEEP", "") not in ("", "0")

# Bounds for waits on readiness and output; none of them is a sleep.
READY_TIMEOUT = 20.0
DOVEADM_TIMEOUT = 30.0


class HarnessError(RuntimeError):
    """The test environment itself is broken (missing tool, server won't start)."""


class Fixture:
    """Something a test starts and stops: `with X(...) as x:` calls
    start() and, on the way out, stop()."""

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()


def find_tool(name, env_var=None):
    """Absolute path of a required program; raises HarnessError if missing."""
    if env_var and os.environ.get(env_var):
        path = os.environ[env_var]
        if os.access(path, os.X_OK):
            return path
        raise HarnessError(f"{env_var}={path} is not an executable file")
    search = os.environ.get("PATH", "") + os.pathsep + "/usr/sbin:/usr/bin:/sbin:/bin"
    path = shutil.which(name, path=search)
    if path is None:
        raise HarnessError(
            f"required program '{name}' not found; run scripts/install-deps")
    return path


def _mkdtemp(prefix):
    path = tempfile.mkdtemp(prefix=prefix)
    # Dovecot's auth and login processes run as other users when we are root
    # and must reach files in here.
    os.chmod(path, 0o755)
    return path


def _rmtree(path):
    if path and not KEEP:
        shutil.rmtree(path, ignore_errors=True)


def _run(argv, *, input=None, timeout=DOVEADM_TIMEOUT, check=True):
    proc = subprocess.run(argv, input=input, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout)
    if check and proc.returncode != 0:
        raise HarnessError(
            f"command failed ({proc.returncode}): {' '.join(map(str, argv))}\n"
            f"stdout: {proc.stdout.decode(errors='replace')}\n"
            f"stderr: {proc.stderr.decode(errors='replace')}")
    return proc


def program(env_var):
    """The built program that ctest names in env_var (IMAPWATCHD, IMAPWATCH,
    IMAPWATCH_TEST_...); a HarnessError when it is not there."""
    path = os.environ.get(env_var)
    if not path:
        raise HarnessError(f"{env_var} is not set (ctest sets it to the built program)")
    if not os.access(path, os.X_OK):
        raise HarnessError(f"{env_var}={path} is not executable")
    return path


def stop_process(proc, timeout=5):
    """Ends proc (SIGTERM, SIGKILL if it is still there after timeout
    seconds) and reaps it; nothing if it is gone already."""
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


def stop_group(proc, timeout=5):
    """Ends a server started in a process group of its own (SIGTERM to the
    group, then SIGKILL to whatever of it is left) and reaps it: its
    children never outlive the test."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if proc.poll() is None:
        proc.wait(timeout=timeout)


def readme_snippet(name):
    """The fenced block that follows <!-- test: NAME --> in the README (an
    indented one in a list too, without its indentation): what a user
    copies, run by the tests as it is written."""
    readme = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))), "README.md")
    with open(readme, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"<!-- test: " + re.escape(name) + r" -->\n([ \t]*)```\w*\n(.*?)\n\1```",
                  text, re.S)
    if not m:
        raise AssertionError(f"README.md has no fenced block marked 'test: {name}'")
    indent = m.group(1)
    return "\n".join(line[len(indent):] if line.startswith(indent) else line
                     for line in m.group(2).split("\n"))


def free_port():
    """A loopback TCP port that was free a moment ago (bind 0, release)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
