# SPDX-License-Identifier: MIT
"""`imapwatch doctor` against a real Dovecot: a good account is reported
good (TLS details, capabilities, folders), and a wrong password, an
untrusted CA, a missing folder, a failing password_command and a closed port
each fail with the right advice. The password never appears in the output.

The doctor is the real command-line tool (IMAPWATCH, set by ctest).
"""

import os
import subprocess
import tempfile
import unittest

import imapwatch_harness as h

TIMEOUT = 90


def doctor_binary():
    return h.program("IMAPWATCH")


class DoctorTest(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.dovecot = h.Dovecot()
        cls.dovecot.start()
        cls.dovecot.create_folder("user1", "Lists/dev")
        msg, _ = h.make_message(subject="hello")
        cls.dovecot.deliver("user1", "INBOX", msg)
        cls.certs = h.certs()

    @classmethod
    def tearDownClass(cls):
        cls.dovecot.stop()

    def account(self, **overrides):
        keys = {
            "host": "localhost",
            "port": self.dovecot.imaps_port,
            "username": "user1",
            "password": self.dovecot.users["user1"],
            "tls_ca_file": self.certs.ca,
            "folders": "INBOX;Lists/dev",
        }
        keys.update(overrides)
        return {k: v for k, v in keys.items() if v is not None}

    def run_doctor(self, accounts, *args):
        with tempfile.TemporaryDirectory(prefix="imapwatch-doctor-") as tmp:
            path = os.path.join(tmp, "config")
            lines = ["[daemon]", "password_timeout = 5s"]
            for name, keys in accounts.items():
                lines += ["", f"[account {name}]"]
                lines += [f"{k} = {v}" for k, v in keys.items()]
            with open(path, "w", encoding="utf-8") as f:
                f.write("\n".join(lines) + "\n")
            env = dict(os.environ)
            env.update({"XDG_CONFIG_HOME": tmp, "XDG_STATE_HOME": tmp})
            proc = subprocess.run([doctor_binary(), "doctor", "--config", path, *args],
                                  stdin=subprocess.DEVNULL,
                                  capture_output=True, timeout=TIMEOUT, env=env)
        out = proc.stdout.decode("utf-8")
        err = proc.stderr.decode("utf-8")
        for secret in self.dovecot.users.values():
            self.assertNotIn(secret, out + err, "a password was printed")
        return proc.returncode, out, err

    def assertLine(self, out, mark, *parts):
        """Some line has the mark and every part."""
        for line in out.splitlines():
            if line.strip().startswith(mark) and all(p in line for p in parts):
                return line
        self.fail(f"no '{mark}' line with {parts!r} in:\n{out}")

    def assertAdvice(self, out, *parts):
        for line in out.splitlines():
            if line.strip().startswith("fix:") and all(p in line for p in parts):
                return line
        self.fail(f"no advice with {parts!r} in:\n{out}")

    def test_good_account(self):
        rc, out, err = self.run_doctor({"good": self.account()})
        self.assertEqual(rc, 0, out + err)
        self.assertLine(out, "ok", "DNS: localhost is", "127.0.0.1")
        self.assertLine(out, "ok", "TCP: connected to",
                        f"port {self.dovecot.imaps_port}")
        self.assertLine(out, "ok", "TLS: TLSv1.")
        self.assertIn("certificate: CN=localhost", out)
        self.assertIn("issued by: CN=imapwatch test CA", out)
        self.assertIn("valid for: localhost, 127.0.0.1", out)
        self.assertIn("valid until: ", out)
        self.assertIn("verification: ok (chain and host name verified)", out)
        self.assertLine(out, "ok", "capabilities:", "IDLE yes", "NOTIFY",
                        "QRESYNC yes", "CONDSTORE yes")
        self.assertIn("authentication mechanisms: PLAIN", out)
        self.assertLine(out, "ok", "login: accepted for user 'user1'")
        self.assertLine(out, "ok", "folder 'INBOX': exists, 1 message")
        self.assertLine(out, "ok", "folder 'Lists/dev': exists, 0 messages")
        self.assertIn("account 'good': all checks passed", out)
        self.assertNotIn("FAIL", out)
        self.assertEqual(err, "")

    def test_starttls_account(self):
        rc, out, err = self.run_doctor({"plain": self.account(
            security="starttls", port=self.dovecot.imap_port, folders="INBOX")})
        self.assertEqual(rc, 0, out + err)
        self.assertLine(out, "ok", "TLS: TLSv1.", "(after STARTTLS)")
        self.assertLine(out, "ok", "login: accepted")

    def test_wrong_password(self):
        rc, out, _ = self.run_doctor(
            {"work": self.account(password="not-the-password")})
        self.assertEqual(rc, 1, out)
        self.assertLine(out, "ok", "TLS: TLSv1.")
        self.assertLine(out, "FAIL", "login: the server rejected the password "
                        "for user 'user1'")
        self.assertAdvice(out, "check password and username in [account work]")
        self.assertIn("account 'work': 1 problem", out)
        self.assertNotIn("not-the-password", out)

    def test_wrong_password_from_command(self):
        rc, out, _ = self.run_doctor({"work": self.account(
            password=None, password_command="echo wrong-secret-42")})
        self.assertEqual(rc, 1, out)
        self.assertLine(out, "ok", "password: from password_command (not shown)")
        self.assertLine(out, "FAIL", "rejected the password for user 'user1'")
        self.assertAdvice(out, "check password_command and username in "
                          "[account work]")
        self.assertNotIn("wrong-secret-42", out)

    def test_password_command_fails(self):
        rc, out, _ = self.run_doctor({"work": self.account(
            password=None, password_command="echo locked >&2; exit 3")})
        self.assertEqual(rc, 1, out)
        self.assertLine(out, "FAIL", "password:", "status 3", "locked")
        self.assertAdvice(out, "run password_command of [account work] in a "
                          "terminal")
        # TLS is still checked; the login is not tried.
        self.assertLine(out, "ok", "TLS: TLSv1.")
        self.assertLine(out, "skip", "login: not tried without a password")

    def test_untrusted_ca(self):
        rc, out, _ = self.run_doctor(
            {"work": self.account(tls_ca_file=self.certs.untrusted_ca)})
        self.assertEqual(rc, 1, out)
        self.assertLine(out, "ok", "TCP: connected to")
        self.assertLine(out, "FAIL", "TLS:", "imapwatch test CA")
        self.assertIn("certificate: CN=localhost", out)
        self.assertIn("issued by: CN=imapwatch test CA", out)
        self.assertAdvice(out, "not signed by a CA this computer trusts",
                          "set tls_ca_file in [account work]")
        self.assertNotIn("login: accepted", out)

    def test_no_ca_file(self):
        rc, out, _ = self.run_doctor({"work": self.account(tls_ca_file=None)})
        self.assertEqual(rc, 1, out)
        self.assertLine(out, "FAIL", "TLS:")
        self.assertAdvice(out, "set tls_ca_file = /path/to/that-ca.pem in "
                          "[account work]")

    def test_wrong_host_name(self):
        with h.Dovecot(cert=self.certs.wronghost_cert,
                       key=self.certs.wronghost_key, name="wronghost") as dc:
            rc, out, _ = self.run_doctor({"work": self.account(
                port=dc.imaps_port)})
        self.assertEqual(rc, 1, out)
        self.assertLine(out, "FAIL", "TLS: host name mismatch")
        self.assertIn("certificate: CN=wrong.example", out)
        self.assertAdvice(out, "set host in [account work] to a name the "
                          "certificate is valid for (wrong.example)")

    def test_missing_folder(self):
        rc, out, _ = self.run_doctor({"work": self.account(
            folders="INBOX;Archive/2024")})
        self.assertEqual(rc, 1, out)
        self.assertLine(out, "ok", "login: accepted")
        self.assertLine(out, "ok", "folder 'INBOX': exists")
        line = self.assertLine(out, "FAIL", "folder 'Archive/2024' does not "
                               "exist; the server has:")
        self.assertIn("INBOX", line)
        self.assertIn("Lists/dev", line)
        self.assertAdvice(out, "fix folders in [account work]")

    def test_folder_patterns(self):
        """A pattern is counted, not examined; one that matches nothing yet
        is a warning, not a failure (folders may come later)."""
        rc, out, _ = self.run_doctor({"work": self.account(folders="INBOX;Lists/*;Old/%")})
        self.assertEqual(rc, 0, out)
        self.assertLine(out, "ok", "folders 'Lists/*': 1 match")
        self.assertLine(out, "warn", "folders 'Old/%': none matches yet; the server has:")
        self.assertAdvice(out, "created later under the pattern are watched")
        self.assertNotIn("FAIL", out)

    def test_closed_port(self):
        port = h.free_port()
        rc, out, _ = self.run_doctor({"work": self.account(port=port)})
        self.assertEqual(rc, 1, out)
        self.assertLine(out, "FAIL", "TCP:", f"port {port}")
        self.assertAdvice(out, "check host and port in [account work]")

    def test_tls_to_plaintext_port(self):
        rc, out, _ = self.run_doctor({"work": self.account(
            port=self.dovecot.imap_port)})
        self.assertEqual(rc, 1, out)
        self.assertLine(out, "FAIL", "TLS:")
        self.assertAdvice(out, "port 143 needs security = starttls")

    def test_one_account_of_several(self):
        accounts = {"good": self.account(),
                    "bad": self.account(password="nope")}
        rc, out, _ = self.run_doctor(accounts, "good")
        self.assertEqual(rc, 0, out)
        self.assertNotIn("[account bad]", out)
        rc, out, _ = self.run_doctor(accounts)
        self.assertEqual(rc, 1, out)
        self.assertIn("account 'good': all checks passed", out)
        self.assertIn("account 'bad': 1 problem", out)
        self.assertIn("1 of 2 accounts needs attention", out)
        rc, out, _ = self.run_doctor(accounts, "nosuch")
        self.assertEqual(rc, 1, out)
        self.assertIn("there is no [account nosuch]", out)
        self.assertIn("its accounts are: good, bad", out)

    def test_invalid_config(self):
        rc, out, _ = self.run_doctor({"work": self.account(security="ssl")})
        self.assertEqual(rc, 1, out)
        self.assertIn("the configuration is not valid", out)
        self.assertIn("'ssl' is not one of", out)


if __name__ == "__main__":
    unittest.main()
