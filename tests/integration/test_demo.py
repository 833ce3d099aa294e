# SPDX-License-Identifier: MIT
"""scripts/demo --once, the README's first command: it must run the whole
sequence against its throwaway Dovecot and show the sample messages as new
events (the non-ASCII subject intact), the read-elsewhere change, and clean
up after itself.

Runs with IMAPWATCH_BUILD_DIR (set by CMake) so that it uses this build and
does not configure another one.
"""

import json
import os
import subprocess
import unittest

import imapwatch_harness as h

SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TIMEOUT = 240


class DemoTest(unittest.TestCase):
    def test_demo_once(self):
        build = os.environ.get("IMAPWATCH_BUILD_DIR")
        if not build:
            raise h.HarnessError("IMAPWATCH_BUILD_DIR is not set (ctest sets it)")
        env = {k: v for k, v in os.environ.items()
               if k not in ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS")}
        # The README's command, with --once (which its text explains).
        command = h.readme_snippet("demo").strip()
        self.assertEqual(command, "scripts/demo")
        proc = subprocess.run([os.path.join(SOURCE, command), "--once"],
                              stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=TIMEOUT, env=env)
        out = proc.stdout.decode("utf-8")
        err = proc.stderr.decode("utf-8", errors="replace")
        self.assertEqual(proc.returncode, 0, out + err)
        # The build steps before the demo say nothing alarming (make
        # writing into a pipe its reader closed early said "Broken pipe").
        self.assertNotIn("Broken pipe", err)
        self.assertNotRegex(err, r"g?make(\[\d+\])?: \*\*\*", err)
        # The private desktop plays no sounds: nothing from the sound
        # library on a machine without a sound card.
        self.assertNotIn("ALSA lib", err)
        self.assertNotIn("cannot play", err)

        events = []
        for line in out.splitlines():
            if line.strip().startswith("event: "):
                events.append(json.loads(line.strip()[len("event: "):]))
        new = [e for e in events if e["event"] == "new"]
        self.assertEqual([e["subject"] for e in new],
                         ["Welcome to imapwatch", "Grüße aus Köln — 日本語",
                          "Lunch on Friday?", "[imapwatch] release notes"], out)
        self.assertEqual(new[3]["folder"], "Lists/imapwatch")
        self.assertEqual(new[1]["from_name"], "Jürgen Müller")
        self.assertTrue(all(not e["seen"] for e in new))
        self.assertTrue(any(e["event"] == "changed" and e["uid"] == new[0]["uid"]
                            and e["seen"] for e in events), out)
        self.assertIn("new mail from Jürgen Müller <juergen@example.de>: "
                      "Grüße aus Köln — 日本語", out)
        self.assertIn("private desktop: Xvfb", out)
        # One connection for both folders (NOTIFY), said in the status.
        self.assertRegex(out, r"demo +idle +1 +INBOX 2, Lists/imapwatch 1 \(notify\)")
        self.assertIn("cleaned up", out)
        # Nothing of the demo is left behind.
        tmp_dirs = [line.split("config: ", 1)[1] for line in out.splitlines()
                    if line.startswith("config: ")]
        self.assertEqual(len(tmp_dirs), 1)
        self.assertFalse(os.path.exists(tmp_dirs[0]))


if __name__ == "__main__":
    unittest.main()
