# SPDX-License-Identifier: MIT
"""Docs that cannot drift from the code.

(a) Every `ini` block of the README, every configuration example of the man
    pages and data/config.example passes `imapwatchd --check-config`.
(b) Every option and subcommand `--help` shows is in the program's man page,
    and every option the man page lists is in `--help`.
(c) Every config key the program knows is documented in imapwatch.conf(5)
    and data/config.example.
(d) Every member of an event the code writes is in the README's event
    contract.
(e) Every shell block of the README is marked: `<!-- test: NAME -->` (then a
    test of the suite runs it, found by that marker) or `<!-- not run:
    REASON -->`.
(f) Every command `imapwatch --help` lists has its row in the README's
    table of commands, and every row there is a command.

Checks (a) to (e) also run against a planted mismatch, to show
that they can fail.
"""

import os
import re
import subprocess
import tempfile
import unittest

import imapwatch_harness as h

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
README = os.path.join(ROOT, "README.md")
MAN = os.path.join(ROOT, "docs", "man")
EXAMPLE = os.path.join(ROOT, "data", "config.example")
TESTS = os.path.join(ROOT, "tests", "integration")


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def fenced_blocks(markdown, lang):
    """(line number, preceding marker comment or "", text) of each ```lang
    block, indented ones (in lists) too."""
    blocks = []
    lines = markdown.split("\n")
    i = 0
    while i < len(lines):
        m = re.match(r"^(\s*)```(\w*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        indent, kind = m.group(1), m.group(2)
        start = i
        body = []
        i += 1
        while i < len(lines) and not re.match(r"^\s*```\s*$", lines[i]):
            body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
            i += 1
        i += 1
        if kind != lang:
            continue
        marker = ""
        j = start - 1
        while j >= 0 and not lines[j].strip():
            j -= 1
        if j >= 0 and re.match(r"^\s*<!--.*-->\s*$", lines[j]):
            marker = lines[j].strip()
        blocks.append((start + 1, marker, "\n".join(body) + "\n"))
    return blocks


def readme_commands(markdown):
    """The commands of the rows of the table in the README's section on
    the imapwatch command (`| \`imapwatch COMMAND ...\` | ... |`)."""
    section = markdown.split("## The `imapwatch` command", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"(?m)^\| `imapwatch ([a-z][a-z-]*)\b", section))


def man_examples(roff):
    """The .EX/.EE blocks of a man page that hold a [group], as text."""
    out = []
    for m in re.finditer(r"^\.EX\n(.*?)^\.EE", roff, re.M | re.S):
        text = m.group(1)
        text = (text.replace("\\-", "-").replace("\\(aq", "'").replace("\\(ti", "~")
                .replace("\\e", "\\"))
        text = re.sub(r"\\\(dq", '"', text)
        text = "\n".join(line for line in text.split("\n") if not line.startswith("."))
        if re.search(r"^\[(daemon|account|rule)\b", text, re.M):
            out.append((roff[:m.start()].count("\n") + 1, text))
    return out


# What a fragment leaves out to keep to its point: made up here, so that the
# check is about what the fragment says.
FILLERS = {"host": "imap.example.com", "username": "me@example.com",
           "password": "example"}


def complete(text, home):
    """A fragment made a whole file: accounts get the keys they leave out,
    a file without accounts gets one, and the files it names under ~/ exist
    (in home)."""
    out = []
    groups = re.split(r"(?m)^(?=\[)", text)
    has_account = False
    for g in groups:
        out.append(g.rstrip("\n") + "\n")
        m = re.match(r"\[account [^\]]+\]", g)
        if not m:
            continue
        has_account = True
        keys = set(re.findall(r"(?m)^\s*(\w+)\s*=", g))
        if "goa_account" in keys:
            continue
        for key, value in FILLERS.items():
            if key == "password" and keys & {"password", "password_command",
                                             "password_secret"}:
                continue
            if key not in keys:
                out.append(f"{key} = {value}\n")
    if not has_account:
        out.append("[account filler]\n" + "".join(f"{k} = {v}\n" for k, v in FILLERS.items()))
    for path in re.findall(r"~/([\w./-]+)", text):
        full = os.path.join(home, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        if not os.path.exists(full):
            with open(full, "w") as f:
                f.write("x\n")
    return "\n".join(out)


def undocumented_keys(keys, conf, example):
    """(key, where) for each key missing from imapwatch.conf(5) (its
    roff, fonts removed) or config.example."""
    missing = []
    for key in keys:
        if not re.search(rf"(?m)^\.(B|BR|BI|TP|IP)\b.*\b{key}\b", conf):
            missing.append((key, "imapwatch.conf(5)"))
        if not re.search(rf"(?m)^#?\s*{key}\s*=", example):
            missing.append((key, "data/config.example"))
    return missing


def missing_members(members, readme):
    """Event members the README's "Events" section does not show."""
    section = readme.split("## Events", 1)[1].split("\n## ", 1)[0]
    return sorted(m for m in members if f'"{m}"' not in section)


def unmarked_blocks(readme, tests):
    """What is wrong with the README's shell blocks: unmarked, a test
    marker no test names, a "not run" without a reason."""
    problems = []
    for line, marker, _ in fenced_blocks(readme, "sh"):
        m = re.match(r"<!-- (test|not run): ?(.*?) -->", marker)
        if m is None:
            problems.append(f"README.md:{line}: a shell block without <!-- test: NAME --> "
                            "or <!-- not run: REASON -->")
        elif m.group(1) == "test" and not (f"test: {m.group(2)}" in tests or
                                           f'"{m.group(2)}"' in tests):
            problems.append(f"README.md:{line}: no test runs '{m.group(2)}'")
        elif m.group(1) == "not run" and not m.group(2).strip():
            problems.append(f"README.md:{line}: no reason")
    return problems


class DocsTest(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="imapwatch-docs-")
        self.addCleanup(h._rmtree, self.dir)
        self.home = os.path.join(self.dir, "home")
        os.makedirs(self.home)

    def check_config(self, text):
        path = os.path.join(self.dir, "config")
        with open(path, "w", encoding="utf-8") as f:
            f.write(complete(text, self.home))
        os.chmod(path, 0o600)
        env = dict(os.environ, HOME=self.home)
        proc = subprocess.run([h.program("IMAPWATCHD"), "--check-config", "--config", path],
                              capture_output=True, text=True, env=env, timeout=30)
        return proc.returncode, proc.stderr

    def config_blocks(self):
        for line, marker, text in fenced_blocks(read(README), "ini"):
            yield f"README.md:{line}", text
        for page in sorted(os.listdir(MAN)):
            for line, text in man_examples(read(os.path.join(MAN, page))):
                yield f"docs/man/{page}:{line}", text
        yield "data/config.example", read(EXAMPLE)

    # (a)
    def test_every_config_example_is_valid(self):
        blocks = list(self.config_blocks())
        self.assertGreater(len(blocks), 5)
        for where, text in blocks:
            with self.subTest(where=where):
                code, err = self.check_config(text)
                self.assertEqual(code, 0, f"{where}:\n{text}\n{err}")

    def test_a_broken_example_is_caught(self):
        code, err = self.check_config("[account a]\nhost = h\nusername = u\n"
                                      "password = p\nidle_refresh = 30s\n")
        self.assertNotEqual(code, 0)
        self.assertIn("idle_refresh", err)

    # (b)
    @staticmethod
    def help_text(program, *args):
        proc = subprocess.run([h.program(program), *args, "--help"], capture_output=True,
                              text=True, timeout=30)
        return proc.stdout

    @staticmethod
    def long_options(text):
        return set(re.findall(r"(?<![\w-])--[a-z][a-z-]+", text)) - {"--help"}

    @staticmethod
    def man_text(page):
        text = read(os.path.join(MAN, page))
        return text.replace("\\-", "-").replace("\\f[BIRP]", "")

    @classmethod
    def man_options(cls, page, text=None):
        """The options a man page gives in its SYNOPSIS and OPTIONS (not
        those of other programs in its examples)."""
        text = re.sub(r"\\f.", "", text if text is not None else cls.man_text(page))
        parts = re.split(r"(?m)^\.SH ", text)
        keep = [p for p in parts if p.startswith(("SYNOPSIS", "OPTIONS", "COMMANDS"))]
        return cls.long_options("\n".join(keep))

    def test_daemon_help_and_man_page_agree(self):
        help_text = self.help_text("IMAPWATCHD")
        helped = self.long_options(help_text)
        man = self.man_options("imapwatchd.1")
        self.assertGreater(len(helped), 3)
        self.assertEqual(sorted(helped - man), [], "in --help, not in imapwatchd(1)")
        self.assertEqual(sorted(man - helped), [], "in imapwatchd(1), not in --help")
        # An option --help gains, and one the man page loses: caught.
        planted_help = self.long_options(help_text + "\n  --frobnicate  do it\n")
        self.assertEqual(sorted(planted_help - man), ["--frobnicate"])
        page = self.man_text("imapwatchd.1")
        self.assertIn("--print-events", page)
        planted_man = self.man_options("imapwatchd.1", page.replace("--print-events", ""))
        self.assertEqual(sorted(helped - planted_man), ["--print-events"])

    def cli_commands(self):
        text = self.help_text("IMAPWATCH")
        listing = text.split("Commands:", 1)[1].split("\n\n", 1)[0]
        return set(re.findall(r"(?m)^  ([a-z][a-z-]+)\b", listing))

    def test_cli_help_and_man_page_agree(self):
        man = re.sub(r"\\f.", "", self.man_text("imapwatch.1"))
        commands = self.cli_commands()
        self.assertGreater(len(commands), 5, commands)
        for command in sorted(commands):
            with self.subTest(command=command):
                self.assertTrue(re.search(rf"(?m)^\.(TP|B|BR|BI|SS)\b.*\b{re.escape(command)}\b",
                                          man), f"command '{command}' not in imapwatch(1)")
                helped = self.long_options(self.help_text("IMAPWATCH", command))
                self.assertEqual(sorted(o for o in helped if o not in man), [],
                                 f"options of '{command}' missing in imapwatch(1)")
        documented = self.man_options("imapwatch.1")
        helped_all = set()
        for command in commands:
            helped_all |= self.long_options(self.help_text("IMAPWATCH", command))
        helped_all |= self.long_options(self.help_text("IMAPWATCH"))
        self.assertEqual(sorted(documented - helped_all), [],
                         "in imapwatch(1), not in any --help")

    # (c)
    @staticmethod
    def known_keys():
        """The key names of the config module, from its tables."""
        text = read(os.path.join(ROOT, "src", "core", "config-keys.c"))
        keys = {}
        for table in ("config_daemon_keys", "config_account_keys", "config_rule_keys"):
            m = re.search(rf"{table}\[\] = \{{(.*?)\}};", text, re.S)
            keys[table] = re.findall(r'=\s*"(\w+)"', m.group(1))
        return keys

    def test_every_key_is_documented(self):
        conf = re.sub(r"\\f.", "", self.man_text("imapwatch.conf.5"))
        example = read(EXAMPLE)
        keys = self.known_keys()
        self.assertGreater(sum(len(v) for v in keys.values()), 30)
        every = [k for names in keys.values() for k in names]
        self.assertEqual(undocumented_keys(every, conf, example), [])
        # A key the program would know and the docs do not: caught.
        self.assertEqual(undocumented_keys(every + ["frobnicate"], conf, example),
                         [("frobnicate", "imapwatch.conf(5)"),
                          ("frobnicate", "data/config.example")])

    # (d)
    @staticmethod
    def event_members():
        text = read(os.path.join(ROOT, "src", "core", "event.c"))
        return (set(re.findall(r'\\"(\w+)\\":', text)) |
                set(re.findall(r'json_append_member\(out, "(\w+)"', text)))

    def test_every_event_member_is_in_the_contract(self):
        readme = read(README)
        members = self.event_members()
        self.assertGreater(len(members), 15, members)
        self.assertEqual(missing_members(members, readme), [])
        # The contract without one member the code writes: caught.
        self.assertEqual(missing_members(members, readme.replace('"catchup"', '"catch_up"')),
                         ["catchup"])

    # (e)
    def test_every_shell_block_is_marked(self):
        readme = read(README)
        tests = "".join(read(os.path.join(TESTS, f)) for f in os.listdir(TESTS)
                        if f.startswith("test_") and f.endswith(".py"))
        self.assertGreater(len(fenced_blocks(readme, "sh")), 3)
        self.assertEqual(unmarked_blocks(readme, tests), [])
        # A marker no test names, and an unmarked block: caught.
        # (The name is put together here so that this file does not name it.)
        name = "demo-" + "x" * 3
        planted = (readme.replace("<!-- test: demo -->", f"<!-- test: {name} -->") +
                   "\n```sh\nrm -rf /\n```\n")
        problems = unmarked_blocks(planted, tests)
        self.assertEqual(len(problems), 2, problems)
        self.assertIn(f"no test runs '{name}'", problems[0])
        self.assertIn("a shell block without", problems[1])

    # (f)
    def test_every_cli_command_is_in_the_readme(self):
        commands = self.cli_commands()
        rows = readme_commands(read(README))
        self.assertGreater(len(rows), 5, rows)
        self.assertEqual(sorted(commands - rows), [],
                         "in imapwatch --help, not in the README's table of commands")
        self.assertEqual(sorted(rows - commands), [],
                         "in the README's table of commands, not in imapwatch --help")


class PlantedTest(unittest.TestCase):
    """The helpers that read the docs: markers, man examples, fragments."""

    def test_helpers_see_a_planted_mismatch(self):
        md = "text\n\n<!-- test: nothing-runs-this -->\n```sh\necho hi\n```\n\n```sh\nls\n```\n"
        blocks = fenced_blocks(md, "sh")
        self.assertEqual([b[1] for b in blocks], ["<!-- test: nothing-runs-this -->", ""])
        roff = ".EX\n[account a]\nhost = x\\-y\n.EE\n"
        self.assertEqual(man_examples(roff), [(1, "[account a]\nhost = x-y\n")])
        home = tempfile.mkdtemp(prefix="imapwatch-docs-")
        self.addCleanup(h._rmtree, home)
        self.assertIn("password = example", complete("[account a]\nhost = x\n", home))
        table = ("## The `imapwatch` command\n\n| command | what |\n|---|---|\n"
                 "| `imapwatch status [--json]` | x |\n| `imapwatch check` | y |\n\n"
                 "`imapwatch pause` in prose\n\n## Next\n\n| `imapwatch later` | z |\n")
        self.assertEqual(readme_commands(table), {"status", "check"})


if __name__ == "__main__":
    unittest.main()
