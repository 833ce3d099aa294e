# SPDX-License-Identifier: MIT
"""The shell completions of data/completions, run in the shells themselves:
commands, options, and account names from the configuration file (a name
with spaces stays one word). bash and fish complete here as they would at a
prompt; zsh's file is checked for syntax and for naming both programs."""

import os
import shutil
import subprocess
import tempfile
import unittest

import imapwatch_harness as h

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COMPLETIONS = os.path.join(ROOT, "data", "completions")
CONFIG = "[account work]  # the office\nhost = h\n\n  [account home mail]  \nhost = x\n"


class CompletionTest(unittest.TestCase):
    def setUp(self):
        self.home = tempfile.mkdtemp(prefix="imapwatch-completion-")
        self.addCleanup(shutil.rmtree, self.home, True)
        os.makedirs(os.path.join(self.home, "imapwatch"))
        with open(os.path.join(self.home, "imapwatch", "config"), "w") as f:
            f.write(CONFIG)
        self.env = dict(os.environ, XDG_CONFIG_HOME=self.home, HOME=self.home)

    def run_shell(self, argv):
        out = subprocess.run(argv, capture_output=True, env=self.env, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr.decode())
        return out.stdout.decode()

    def bash(self, function, *words):
        """COMPREPLY for the words (the last one is being completed)."""
        script = (f'source {COMPLETIONS}/imapwatch.bash; COMP_WORDS=("$@"); '
                  f'COMP_CWORD=$(($# - 1)); {function}; printf "%s\\n" "${{COMPREPLY[@]}}"')
        out = self.run_shell([h.find_tool("bash"), "-c", script, "bash", *words])
        return [line for line in out.split("\n") if line]

    def fish(self, line, file="imapwatch.fish"):
        out = self.run_shell([h.find_tool("fish"), "--no-config", "-c",
                              f"source {COMPLETIONS}/{file}; complete -C {line!r}"])
        return [row.split("\t")[0] for row in out.split("\n") if row]

    def test_bash(self):
        self.assertEqual(self.bash("_imapwatch", "imapwatch", "st"), ["status"])
        self.assertEqual(self.bash("_imapwatch", "imapwatch", "mark"), ["mark-read"])
        self.assertEqual(sorted(self.bash("_imapwatch", "imapwatch", "check", "")),
                         ["home\\ mail", "work"])
        self.assertEqual(self.bash("_imapwatch", "imapwatch", "list", "--a"), ["--all"])
        self.assertEqual(self.bash("_imapwatch", "imapwatch", "status", ""),
                         ["--json", "--format", "--offline", "--help"])
        self.assertEqual(self.bash("_imapwatch", "imapwatch", "monitor", "--"),
                         ["--json", "--waybar", "--i3blocks", "--format", "--offline", "--help"])
        self.assertEqual(self.bash("_imapwatch", "imapwatch", "monitor", "--i"), ["--i3blocks"])
        # A template is free text: no file names, no options.
        self.assertEqual(self.bash("_imapwatch", "imapwatch", "status", "--format", ""), [])
        other = os.path.join(self.home, "other")
        with open(other, "w") as f:
            f.write("[account elsewhere]\n")
        self.assertEqual(self.bash("_imapwatch", "imapwatch", "doctor", "--config", other, ""),
                         ["elsewhere"])
        self.assertEqual(self.bash("_imapwatchd", "imapwatchd", "--check"), ["--check-config"])

    def test_fish(self):
        self.assertIn("status", self.fish("imapwatch st"))
        self.assertEqual(sorted(self.fish("imapwatch check ")), ["home mail", "work"])
        self.assertIn("--json", self.fish("imapwatch monitor --"))
        self.assertTrue({"--waybar", "--i3blocks", "--format", "--offline"} <=
                        set(self.fish("imapwatch monitor --")))
        self.assertTrue({"--format", "--offline"} <= set(self.fish("imapwatch status --")))
        self.assertNotIn("--waybar", self.fish("imapwatch status --"))
        self.assertIn("--print-events", self.fish("imapwatchd --pr", "imapwatchd.fish"))

    def test_zsh(self):
        path = os.path.join(COMPLETIONS, "_imapwatch")
        self.run_shell([h.find_tool("zsh"), "-n", path])
        with open(path) as f:
            self.assertEqual(f.readline().split(), ["#compdef", "imapwatch", "imapwatchd"])


if __name__ == "__main__":
    unittest.main()
