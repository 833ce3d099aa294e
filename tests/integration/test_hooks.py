# SPDX-License-Identifier: MIT
"""Hooks (on_new, on_changed, on_removed, on_state) against a real Dovecot.

Each hook is a small script that records its argv, environment, standard
input and start and end times in a directory of the test; the test waits for
the daemon's log line that says the run ended, never on a sleep.
"""

import json
import os
import sys
import time
import unittest

import imapwatch_harness as h
from imapwatch_harness import is_event

EVENT_TIMEOUT = 10.0
CONNECT_TIMEOUT = 20.0

dovecot = h.Dovecot()
setUpModule = dovecot.start
tearDownModule = dovecot.stop

# Records one run: argv, the IMAPWATCH_* environment, stdin, times; then
# optionally waits for a release file, prints, and exits with a status.
RECORDER = r'''
import json, os, sys, time
out = sys.argv[1]
start = time.time()
data = sys.stdin.read()
n = len([f for f in os.listdir(out) if f.startswith("run-")])
run = {"argv": sys.argv, "start": start, "stdin": data,
       "env": {k: os.environ.get(k) for k in ("IMAPWATCH_ACCOUNT", "IMAPWATCH_FOLDER",
                                             "IMAPWATCH_COUNT", "IMAPWATCH_HOOK")},
       "cwd": os.getcwd()}
with open(os.path.join(out, f"started-{n}"), "w") as f:
    f.write("")
release = os.environ.get("HOOK_RELEASE")
while release and not os.path.exists(release):
    time.sleep(0.02)
run["end"] = time.time()
with open(os.path.join(out, f"run-{n}.json.tmp"), "w") as f:
    json.dump(run, f)
os.rename(os.path.join(out, f"run-{n}.json.tmp"), os.path.join(out, f"run-{n}.json"))
print(os.environ.get("HOOK_SAY", ""))
print(os.environ.get("HOOK_COMPLAIN", ""), file=sys.stderr)
sys.exit(int(os.environ.get("HOOK_EXIT", "0")))
'''


def as_list(j):
    return j if isinstance(j, list) else [j]


def account(user, **extra):
    keys = {
        "host": "localhost",
        "port": dovecot.imaps_port,
        "username": user,
        "password": dovecot.users[user],
        "tls_ca_file": h.certs().ca,
    }
    keys.update(extra)
    return keys


class HookTestCase(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        self.dir = h._mkdtemp("imapwatch-hooks-")
        self.addCleanup(h._rmtree, self.dir)
        self.script = os.path.join(self.dir, "recorder.py")
        with open(self.script, "w") as f:
            f.write(RECORDER)

    def out_dir(self, name):
        path = os.path.join(self.dir, name)
        os.makedirs(path)
        return path

    def hook(self, name, *extra_words):
        """A hook command line recording into out_dir(name)."""
        words = [sys.executable, self.script, self.out_dir(name), *extra_words]
        return " ".join(f"'{w}'" for w in words)

    def start_daemon(self, accounts, rules="", **kwargs):
        d = h.Daemon(accounts, **kwargs)
        if rules:
            d.raw_config = d.config_text() + rules
        d.start()
        self.addCleanup(d.kill)
        return d

    def runs(self, name):
        path = os.path.join(self.dir, name)
        runs = []
        for n in range(len(os.listdir(path))):
            p = os.path.join(path, f"run-{n}.json")
            if os.path.exists(p):
                with open(p) as f:
                    runs.append(json.load(f))
        return runs

    def wait_file(self, path, timeout=EVENT_TIMEOUT):
        deadline = time.monotonic() + timeout
        while not os.path.exists(path):
            if time.monotonic() > deadline:
                raise AssertionError(f"{path} never appeared")
            time.sleep(0.02)  # polling a file for a condition, bounded

    def test_on_new_batch_json_env_argv(self):
        user = "user1"
        hook = self.hook("new", "two words", "$IMAPWATCH_ACCOUNT")
        d = self.start_daemon({"a": account(user, on_new=hook, hook_delay="1s")})
        d.wait_for(h.is_account_state("a", "idle"), timeout=CONNECT_TIMEOUT)
        mark = d.log_mark()
        # A hostile subject and sender: they reach the hook as data only.
        uids = [dovecot.deliver(user, "INBOX", h.make_message(
            subject=f"$(touch {self.dir}/pwned) `id` ; rm -rf ~ {i}",
            from_name="'; touch pwned #")[0]) for i in range(3)]
        events = [d.wait_for(is_event("new", account="a", uid=u), timeout=EVENT_TIMEOUT)
                  for u in uids]
        d.wait_log("hook on_new of account 'a' exited with status 0", since=mark)
        runs = self.runs("new")
        self.assertEqual(len(runs), 1, runs)
        run = runs[0]
        # argv exactly as written, split like a shell would, never expanded.
        self.assertEqual(run["argv"][1:], [os.path.join(self.dir, "new"), "two words",
                                           "$IMAPWATCH_ACCOUNT"])
        self.assertEqual(run["env"], {"IMAPWATCH_ACCOUNT": "a", "IMAPWATCH_FOLDER": "INBOX",
                                      "IMAPWATCH_COUNT": "3", "IMAPWATCH_HOOK": "on_new"})
        self.assertEqual(json.loads(run["stdin"]), events)
        self.assertEqual(run["cwd"], os.path.expanduser("~"))
        self.assertFalse(os.path.exists(os.path.join(self.dir, "pwned")))
        d.stop()

    def test_single_event_is_an_object_and_output_is_logged(self):
        user = "user2"
        d = self.start_daemon(
            {"a": account(user, on_new=self.hook("new"), hook_delay="0s")},
            env={"HOOK_SAY": "hello from the hook\nsecond line", "HOOK_EXIT": "3",
                 "HOOK_COMPLAIN": "error: mailbox locked"})
        d.wait_for(h.is_account_state("a", "idle"), timeout=CONNECT_TIMEOUT)
        mark = d.log_mark()
        uid = dovecot.deliver(user, "INBOX", h.make_message(subject="one")[0])
        ev = d.wait_for(is_event("new", account="a", uid=uid), timeout=EVENT_TIMEOUT)
        d.wait_log("exited with status 3", since=mark)
        d.wait_log("hook on_new of account 'a': hello from the hook", since=mark)
        d.wait_log("hook on_new of account 'a': second line", since=mark)
        # Standard error too: where mbsync and notmuch say what went wrong.
        d.wait_log("hook on_new of account 'a': error: mailbox locked", since=mark)
        [run] = self.runs("new")
        self.assertEqual(json.loads(run["stdin"]), ev)
        d.stop()

    def test_runs_never_overlap_and_events_queue(self):
        user = "user3"
        release = os.path.join(self.dir, "release")
        d = self.start_daemon(
            {"a": account(user, on_new=self.hook("new"), hook_delay="0s")},
            env={"HOOK_RELEASE": release})
        d.wait_for(h.is_account_state("a", "idle"), timeout=CONNECT_TIMEOUT)
        first = dovecot.deliver(user, "INBOX", h.make_message(subject="first")[0])
        d.wait_for(is_event("new", account="a", uid=first), timeout=EVENT_TIMEOUT)
        self.wait_file(os.path.join(self.dir, "new", "started-0"))
        # While the hook hangs, events keep coming at once.
        later = [dovecot.deliver(user, "INBOX", h.make_message(subject=f"later {i}")[0])
                 for i in range(2)]
        for u in later:
            d.wait_for(is_event("new", account="a", uid=u), timeout=EVENT_TIMEOUT)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "new", "started-1")))
        mark = d.log_mark()
        with open(release, "w"):
            pass
        d.wait_log("exited with status 0", since=mark)
        self.wait_file(os.path.join(self.dir, "new", "run-1.json"))
        runs = self.runs("new")
        self.assertEqual(len(runs), 2, runs)
        self.assertEqual(json.loads(runs[0]["stdin"])["uid"], first)
        self.assertEqual([e["uid"] for e in json.loads(runs[1]["stdin"])], later)
        self.assertGreaterEqual(runs[1]["start"], runs[0]["end"])
        d.stop()

    def test_timeout_kills_the_whole_group(self):
        user = "user4"
        pidfile = os.path.join(self.dir, "bg.pid")
        hook = f"sh -c 'sleep 60 & echo $! > {pidfile}; wait'"
        d = self.start_daemon({"a": account(user, on_new=hook, hook_delay="0s",
                                            hook_timeout="1s")})
        d.wait_for(h.is_account_state("a", "idle"), timeout=CONNECT_TIMEOUT)
        mark = d.log_mark()
        uid = dovecot.deliver(user, "INBOX", h.make_message(subject="slow")[0])
        d.wait_for(is_event("new", account="a", uid=uid), timeout=EVENT_TIMEOUT)
        # The log names the program, not the whole command line (which
        # may carry a secret).
        d.wait_log("hook on_new of account 'a' (sh) did not finish within 1 s", since=mark)
        self.assertNotIn(pidfile, d.stderr_text())
        with open(pidfile) as f:
            pid = int(f.read())
        # The background sleep went with its group: gone, or a zombie
        # nobody reaped yet, once the kill has taken effect (a process
        # killed a moment ago may still be on its way out, under load).
        deadline = time.monotonic() + EVENT_TIMEOUT
        state = None
        while state != "Z":
            try:
                with open(f"/proc/{pid}/stat") as f:
                    state = f.read().rsplit(")", 1)[1].split()[0]
            except FileNotFoundError:
                break
            if state != "Z" and time.monotonic() > deadline:
                self.fail(f"the hook's background process {pid} lives on (state {state})")
            time.sleep(0.02)  # polling /proc for a condition, bounded
        d.stop()

    def test_max_delay_caps_the_debounce(self):
        user = "user5"
        d = self.start_daemon({"a": account(user, on_new=self.hook("new"),
                                            hook_delay="10m", hook_max_delay="1s")})
        d.wait_for(h.is_account_state("a", "idle"), timeout=CONNECT_TIMEOUT)
        mark = d.log_mark()
        uid = dovecot.deliver(user, "INBOX", h.make_message(subject="soon")[0])
        d.wait_for(is_event("new", account="a", uid=uid), timeout=EVENT_TIMEOUT)
        d.wait_log("hook on_new of account 'a' exited with status 0", since=mark)
        d.stop()

    def test_one_command_never_runs_twice_at_once(self):
        # on_new and on_changed name the same command (the README's
        # mbsync recipe): a change during the new-mail run waits for it.
        user = "user7"
        release = os.path.join(self.dir, "release")
        hook = self.hook("shared")
        d = self.start_daemon(
            {"a": account(user, on_new=hook, on_changed=hook, hook_delay="0s")},
            env={"HOOK_RELEASE": release})
        d.wait_for(h.is_account_state("a", "idle"), timeout=CONNECT_TIMEOUT)
        uid = dovecot.deliver(user, "INBOX", h.make_message(subject="new")[0])
        d.wait_for(is_event("new", account="a", uid=uid), timeout=EVENT_TIMEOUT)
        self.wait_file(os.path.join(self.dir, "shared", "started-0"))
        dovecot.flags_add(user, "INBOX", uid, "\\Seen")
        d.wait_for(is_event("changed", account="a", uid=uid), timeout=EVENT_TIMEOUT)
        # The on_changed run is due now but must not start.
        self.assertFalse(os.path.exists(os.path.join(self.dir, "shared", "started-1")))
        mark = d.log_mark()
        with open(release, "w"):
            pass
        d.wait_log("hook on_changed of account 'a' exited with status 0", since=mark)
        runs = self.runs("shared")
        self.assertEqual(len(runs), 2, runs)
        self.assertEqual([r["env"]["IMAPWATCH_HOOK"] for r in runs], ["on_new", "on_changed"])
        self.assertGreaterEqual(runs[1]["start"], runs[0]["end"])
        d.stop()

    def test_changed_removed_state_and_rules(self):
        user = "user6"
        dovecot.create_folder(user, "Lists/dev")
        hooks = {k: self.hook(k) for k in ("new", "changed", "removed", "state", "lists")}
        rules = (f"\n[rule lists]\nfolder = Lists/*\non_new = {hooks['lists']}\n")
        d = self.start_daemon(
            {"a": account(user, folders=["INBOX", "Lists/*"], hook_delay="0s",
                          on_new=hooks["new"], on_changed=hooks["changed"],
                          on_removed=hooks["removed"], on_state=hooks["state"])},
            rules=rules)
        d.wait_for(h.is_account_state("a", "idle"), timeout=CONNECT_TIMEOUT)
        # The first state runs the hook at once, the rest come in the
        # next batch: every state once, in order, ending with idle.
        deadline = time.monotonic() + EVENT_TIMEOUT
        while True:
            state_runs = self.runs("state")
            states = [e["state"] for r in state_runs for e in
                      as_list(json.loads(r["stdin"]))]
            if states and states[-1] == "idle" or time.monotonic() > deadline:
                break
            time.sleep(0.02)  # polling files for a condition, bounded
        self.assertEqual(states, ["connecting", "authenticating", "syncing", "idle"])
        self.assertEqual(state_runs[0]["env"]["IMAPWATCH_FOLDER"], "")

        mark = d.log_mark()
        inbox = dovecot.deliver(user, "INBOX", h.make_message(subject="inbox")[0])
        listed = dovecot.deliver(user, "Lists/dev", h.make_message(subject="list")[0])
        d.wait_for(is_event("new", account="a", folder="INBOX", uid=inbox))
        d.wait_for(is_event("new", account="a", folder="Lists/dev", uid=listed),
                   timeout=EVENT_TIMEOUT)
        self.wait_file(os.path.join(self.dir, "lists", "run-0.json"))
        self.wait_file(os.path.join(self.dir, "new", "run-0.json"))
        self.assertEqual(json.loads(self.runs("lists")[0]["stdin"])["folder"], "Lists/dev")
        self.assertEqual(json.loads(self.runs("new")[0]["stdin"])["folder"], "INBOX")

        dovecot.flags_add(user, "INBOX", inbox, "\\Seen")
        d.wait_for(is_event("changed", account="a", uid=inbox), timeout=EVENT_TIMEOUT)
        self.wait_file(os.path.join(self.dir, "changed", "run-0.json"))
        self.assertTrue(json.loads(self.runs("changed")[0]["stdin"])["seen"])
        dovecot.expunge(user, "INBOX", inbox)
        d.wait_for(is_event("removed", account="a", uid=inbox), timeout=EVENT_TIMEOUT)
        self.wait_file(os.path.join(self.dir, "removed", "run-0.json"))
        self.assertEqual(json.loads(self.runs("removed")[0]["stdin"])["uid"], inbox)
        d.wait_log("hook on_removed of account 'a' exited with status 0", since=mark)
        d.stop()


if __name__ == "__main__":
    unittest.main()
