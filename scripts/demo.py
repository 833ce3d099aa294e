#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""See imapwatch work without a mail account of your own.

Starts a throwaway Dovecot on loopback with a demo account (the test
harness's), a private session bus with a notification server (dunst under
Xvfb) unless your desktop has one, and imapwatchd --print-events against
it; delivers a few sample messages (one to a second folder, watched on the
same connection), marks one as read as another device would, shows `imapwatch status` when the CLI is built, and cleans up
everything on exit (Ctrl-C, or the end with --once).

Run through scripts/demo, which installs what is missing and builds first.
"""

import argparse
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(SOURCE, "tests", "integration"))

import imapwatch_harness as h  # noqa: E402

BUS_NAME = "org.imapwatch.Daemon1"
WAIT = 30  # seconds for any one step; the demo never hangs for longer

SAMPLES = [
    ("Ada Lovelace", "ada@example.org", "Welcome to imapwatch", None),
    ("Jürgen Müller", "juergen@example.de", "Grüße aus Köln — 日本語", "B"),
    ("Grace Hopper", "grace@example.com", "Lunch on Friday?", None),
]


_say_lock = threading.Lock()


def say(text=""):
    """One whole line; the event reader prints from another thread."""
    with _say_lock:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()


class Step(Exception):
    pass


class Demo:
    def __init__(self, args):
        self.args = args
        self.build = os.path.abspath(args.build_dir)
        self.daemon_bin = os.path.join(self.build, "imapwatchd")
        self.cli_bin = os.path.join(self.build, "imapwatch")
        self.tmp = tempfile.mkdtemp(prefix="imapwatch-demo-")
        self.procs = []  # (name, Popen) to stop, last first
        self.dovecot = None
        self.desktop = None
        self.env = {}
        self.events = queue.Queue()

    # -- processes

    def start(self, name, argv, env=None, **kwargs):
        proc = subprocess.Popen(argv, env=env or self.env, stdin=subprocess.DEVNULL,
                                start_new_session=True, **kwargs)
        self.procs.append((name, proc))
        return proc

    def cleanup(self):
        for name, proc in reversed(self.procs):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                    proc.wait(timeout=5)
                except ProcessLookupError:
                    pass
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
        if self.desktop is not None:
            self.desktop.stop()
        if self.dovecot is not None:
            self.dovecot.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- the desktop side

    def desktop_usable(self):
        """Your own session, when it has a display and a bus without an
        imapwatchd already on it."""
        if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
            return False
        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            return False
        proc = subprocess.run(
            ["gdbus", "call", "--session", "--dest", "org.freedesktop.DBus",
             "--object-path", "/org/freedesktop/DBus",
             "--method", "org.freedesktop.DBus.NameHasOwner", BUS_NAME],
            capture_output=True, text=True, timeout=WAIT)
        if proc.returncode != 0:
            return False
        if "true" in proc.stdout:
            say("(an imapwatchd already runs on your session bus; the demo uses "
                "a private one)")
            return False
        return True

    def start_private_desktop(self):
        """Xvfb, a private session bus and dunst (the harness's Desktop),
        each waited for."""
        self.desktop = h.Desktop(dunst=True)
        self.desktop.start()
        self.env.update(self.desktop.env)
        say(f"private desktop: Xvfb on {self.desktop.display}, session bus "
            f"{self.desktop.address}, dunst")
        say(f"  (see the notifications: DISPLAY={self.desktop.display} "
            f"DBUS_SESSION_BUS_ADDRESS={self.desktop.address} dunstctl history)")

    # -- the daemon

    def read_events(self, stdout):
        for raw in stdout:
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            say(f"  event: {line}")
            try:
                self.events.put(json.loads(line))
            except ValueError:
                pass
        self.events.put(None)

    def wait_for(self, what, predicate):
        while True:
            try:
                event = self.events.get(timeout=WAIT)
            except queue.Empty:
                raise Step(f"no {what} within {WAIT} s") from None
            if event is None:
                raise Step(f"imapwatchd stopped before {what}")
            if predicate(event):
                return event

    def run(self):
        if not os.access(self.daemon_bin, os.X_OK):
            raise Step(f"{self.daemon_bin} is missing: run scripts/demo (it builds it)")
        say("== starting a throwaway Dovecot on 127.0.0.1 with the account 'demo'")
        self.dovecot = h.Dovecot(users={"demo": "demo-password"}, name="demo")
        self.dovecot.start()
        self.dovecot.create_folder("demo", "Lists/imapwatch")
        say(f"dovecot: IMAPS on 127.0.0.1:{self.dovecot.imaps_port}, folders INBOX and "
            f"Lists/imapwatch")

        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS")}
        for d in ("config/imapwatch", "state", "runtime"):
            os.makedirs(os.path.join(self.tmp, d), exist_ok=True)
        os.chmod(os.path.join(self.tmp, "runtime"), 0o700)
        self.env.update({
            "XDG_CONFIG_HOME": os.path.join(self.tmp, "config"),
            "XDG_STATE_HOME": os.path.join(self.tmp, "state"),
            "XDG_RUNTIME_DIR": os.path.join(self.tmp, "runtime"),
        })
        say("== desktop")
        if self.desktop_usable():
            for var in ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS"):
                if var in os.environ:
                    self.env[var] = os.environ[var]
            say("using your desktop session: notifications appear on your screen")
        else:
            self.start_private_desktop()

        config = os.path.join(self.tmp, "config", "imapwatch", "config")
        # Nobody hears the private desktop: without a sound, the sound
        # library has nothing to complain about on a machine without a
        # sound card.
        sound = "false" if self.desktop is not None else "true"
        with open(config, "w", encoding="utf-8") as f:
            f.write(f"""[daemon]
notifications = true
notification_sound = {sound}
startup = summary

[account demo]
host = localhost
port = {self.dovecot.imaps_port}
username = demo
password = demo-password
tls_ca_file = {self.dovecot.certs.ca}
folders = INBOX;Lists/*
""")
        os.chmod(config, 0o600)
        say(f"config: {config}")
        say("== imapwatchd --print-events")
        daemon = self.start("imapwatchd", [self.daemon_bin, "--print-events", "--config",
                                           config], stdout=subprocess.PIPE)
        threading.Thread(target=self.read_events, args=(daemon.stdout,),
                         daemon=True).start()
        self.wait_for("account state idle",
                      lambda e: e.get("event") == "state" and e.get("state") == "idle")

        say("== delivering sample messages")
        uids = []
        for name, addr, subject, encoding in SAMPLES:
            message, _ = h.make_message(subject=subject, from_name=name, from_addr=addr,
                                        subject_encoding=encoding, from_encoding=encoding)
            uids.append(self.dovecot.deliver("demo", "INBOX", message))
            event = self.wait_for(f"the event for '{subject}'",
                                  lambda e, s=subject: e.get("event") == "new"
                                  and e.get("subject") == s)
            say(f"new mail from {event['from_name']} <{event['from_addr']}>: "
                f"{event['subject']}")

        say("== a message to Lists/imapwatch (watched on the same connection)")
        message, _ = h.make_message(subject="[imapwatch] release notes",
                                    from_name="imapwatch list", from_addr="list@example.org")
        self.dovecot.deliver("demo", "Lists/imapwatch", message)
        event = self.wait_for("the event in Lists/imapwatch",
                              lambda e: e.get("event") == "new"
                              and e.get("folder") == "Lists/imapwatch")
        say(f"new mail in {event['folder']}: {event['subject']}")

        say("== reading the first message on another device (doveadm)")
        self.dovecot.flags_add("demo", "INBOX", uids[0], "\\Seen")
        self.wait_for("the change to seen",
                      lambda e: e.get("event") == "changed" and e.get("uid") == uids[0]
                      and e.get("seen"))
        say("the first message is now read everywhere")

        self.show_status()
        if self.args.once:
            say("== done")
            return
        say("")
        say("imapwatchd keeps watching. Deliver more mail from another terminal:")
        say(f"  printf 'From: me@example.org\\nSubject: Hello\\n\\nHi!\\n' | "
            f"{self.dovecot.doveadm_bin} -c {self.dovecot.conf} save -u demo -m INBOX")
        say("Press Ctrl-C to stop and clean up.")
        while self.events.get() is not None:
            pass
        raise Step("imapwatchd stopped")

    def show_status(self):
        if not os.access(self.cli_bin, os.X_OK):
            say("(imapwatch status: the command-line tool is not built in this tree)")
            return
        say("== imapwatch status")
        proc = subprocess.run([self.cli_bin, "status"], env=self.env, capture_output=True,
                              text=True, timeout=WAIT)
        say((proc.stdout + proc.stderr).rstrip("\n"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--once", action="store_true",
                        help="run the sample sequence and exit (for scripts and tests)")
    parser.add_argument("--build-dir", default=os.environ.get(
        "IMAPWATCH_BUILD_DIR", os.path.join(SOURCE, "build")))
    args = parser.parse_args()

    # SIGTERM cleans up like Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    demo = Demo(args)
    try:
        demo.run()
        return 0
    except KeyboardInterrupt:
        say("\nstopping")
        return 0
    except (Step, h.HarnessError) as e:
        say(f"demo: {e}")
        return 1
    finally:
        demo.cleanup()
        say("cleaned up")


if __name__ == "__main__":
    sys.exit(main())
