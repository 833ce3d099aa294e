# SPDX-License-Identifier: MIT
"""Suspend and resume: a fake logind on a private system bus sends
PrepareForSleep; after resume every connection is checked at once, a dead
one (black-holed by the fault proxy, as after a network change during
sleep) reconnects within seconds, a healthy one stays."""

import collections
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import imapwatch_harness as h
from fault_proxy import FaultProxy
from imapwatch_harness import is_account_state, is_event

CONNECT_TIMEOUT = 20.0
EVENT_TIMEOUT = 10.0
PROBE_DETECT = 10.0 + 5.0  # the probe's own timeout plus margin

dovecot = None


def setUpModule():
    global dovecot
    dovecot = h.Dovecot()
    dovecot.start()


def tearDownModule():
    if dovecot:
        dovecot.stop()


BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
  </policy>
</busconfig>
"""


class PrivateSystemBus:
    """A dbus-daemon standing in for the system bus; ready when it prints
    its address."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="imapwatch-sysbus-")
        conf = os.path.join(self.dir, "system.conf")
        with open(conf, "w", encoding="utf-8") as f:
            f.write(BUS_CONFIG.format(socket=os.path.join(self.dir, "bus")))
        self.proc = subprocess.Popen(
            [h.find_tool("dbus-daemon"), "--config-file", conf, "--nofork", "--print-address"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True)
        self.address = self.proc.stdout.readline().decode().strip()
        if not self.address:
            raise h.HarnessError("dbus-daemon did not start")

    def close(self):
        self.proc.kill()
        self.proc.wait(timeout=5)
        shutil.rmtree(self.dir, True)


class FakeLogind:
    def __init__(self, address):
        tool = os.environ.get("IMAPWATCH_TEST_FAKE_LOGIND")
        if not tool:
            raise h.HarnessError("IMAPWATCH_TEST_FAKE_LOGIND is not set (ctest sets it)")
        self.proc = subprocess.Popen([tool], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     env=dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=address))
        if self.proc.stdout.readline().strip() != b"ready":
            raise h.HarnessError("fake logind did not start")

    def send(self, what):
        self.proc.stdin.write(what.encode() + b"\n")
        self.proc.stdin.flush()
        assert self.proc.stdout.readline().strip() == b"sent"

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=5)


class SleepTest(unittest.TestCase):
    USER = "user7"

    def setUp(self):
        self.bus = PrivateSystemBus()
        self.addCleanup(self.bus.close)
        self.logind = FakeLogind(self.bus.address)
        self.addCleanup(self.logind.close)
        self.proxy = FaultProxy("127.0.0.1", dovecot.imaps_port)
        self.proxy.start()
        self.addCleanup(self.proxy.stop)
        self.daemon = h.Daemon({"acct": {
            "host": "localhost", "port": self.proxy.port, "username": self.USER,
            "password": dovecot.users[self.USER], "folders": "INBOX",
            "tls_ca_file": h.certs().ca,
        }}, env={"DBUS_SYSTEM_BUS_ADDRESS": self.bus.address})
        self.daemon.start()
        self.addCleanup(self.daemon.kill)
        self.daemon.wait_for(is_account_state("acct", "idle"), timeout=CONNECT_TIMEOUT)

    def wait_stderr(self, text, timeout=EVENT_TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.daemon.stderr_text():
                return
            time.sleep(0.05)  # polling the log for a condition, bounded
        self.fail(f"'{text}' never logged\n{self.daemon.describe()}")

    def deliver(self, subject):
        raw, _ = h.make_message(subject=subject)
        return dovecot.deliver(self.USER, "INBOX", raw)

    def test_resume_keeps_a_healthy_connection(self):
        since = self.daemon.mark()
        self.logind.send("sleep")
        self.logind.send("resume")
        self.wait_stderr("system resumed")
        uid = self.deliver("after resume")
        self.daemon.wait_for(is_event("new", uid=uid), timeout=EVENT_TIMEOUT, since=since)
        self.daemon.assert_no_event(is_account_state("acct", "backoff"), within=1.0,
                                    since=since)
        self.assertEqual(self.proxy.connections_total, 1)
        self.daemon.stop()

    def test_resume_replaces_a_dead_connection(self):
        since = self.daemon.mark()
        self.logind.send("sleep")
        self.proxy.blackhole(0)  # the old path is gone, silently
        during = self.deliver("while asleep")
        start = time.monotonic()
        self.logind.send("resume")
        self.daemon.wait_for(is_account_state("acct", "backoff"), timeout=PROBE_DETECT,
                             since=since)
        detected = time.monotonic() - start
        self.daemon.wait_for(is_account_state("acct", "idle"), timeout=CONNECT_TIMEOUT,
                             since=since)
        self.daemon.wait_for(is_event("new", uid=during), timeout=EVENT_TIMEOUT, since=since)
        after = self.deliver("after resume")
        self.daemon.wait_for(is_event("new", uid=after), timeout=EVENT_TIMEOUT, since=since)
        counts = collections.Counter(e["uid"] for e in self.daemon.events_so_far()
                                     if e["event"] == "new")
        self.assertEqual(counts[during], 1)
        self.assertEqual(counts[after], 1)
        self.assertLess(detected, PROBE_DETECT)
        print(f"dead connection detected {detected:.1f} s after resume")
        self.daemon.stop()


if __name__ == "__main__":
    unittest.main()
