# SPDX-License-Identifier: MIT
"""A private system bus and the system services the daemon follows on it:
a fake logind (PrepareForSleep) and a fake NetworkManager (network state),
both C helpers that ctest names in the environment."""

import os
import shutil
import subprocess
import tempfile

import imapwatch_harness as h

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


class FakeService:
    """A helper that owns a system bus name, prints "ready" once it does,
    and answers each command line on stdin with "sent" once the signal it
    asked for is on the bus."""

    def __init__(self, variable, address):
        tool = os.environ.get(variable)
        if not tool:
            raise h.HarnessError(f"{variable} is not set (ctest sets it)")
        self.proc = subprocess.Popen([tool], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     env=dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=address))
        if self.proc.stdout.readline().strip() != b"ready":
            raise h.HarnessError(f"{os.path.basename(tool)} did not start")

    def send(self, what):
        self.proc.stdin.write(what.encode() + b"\n")
        self.proc.stdin.flush()
        if self.proc.stdout.readline().strip() != b"sent":
            raise h.HarnessError(f"'{what}' was not sent")

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=5)


class FakeLogind(FakeService):
    """send("sleep") / send("resume"): PrepareForSleep(true/false)."""

    def __init__(self, address):
        super().__init__("IMAPWATCH_TEST_FAKE_LOGIND", address)


# NMState values (NetworkManager's D-Bus API)
NM_DISCONNECTED = 20
NM_CONNECTING = 40
NM_CONNECTED_GLOBAL = 70


class FakeNetworkManager(FakeService):
    """Starts connected; set_state(NM_*) changes State and Connectivity."""

    def __init__(self, address):
        super().__init__("IMAPWATCH_TEST_FAKE_NM", address)

    def set_state(self, state):
        self.send(f"state {state}")
