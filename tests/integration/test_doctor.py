# SPDX-License-Identifier: MIT
"""`imapwatch doctor` against a real Dovecot: a good account is reported
good (TLS details, capabilities, folders), and a wrong password, an
untrusted CA, a missing folder, a failing password_command, a closed port
and a pinned certificate (tls_fingerprint) the server no longer has each
fail with the right advice; a password in a file others can read is
warned about. The password never appears in the output.

The doctor is the real command-line tool (IMAPWATCH, set by ctest).
"""

import os
import shutil
import subprocess
import tempfile
import unittest

import imapwatch_harness as h

TIMEOUT = 90


def doctor_binary():
    return h.program("IMAPWATCH")


def fingerprint(cert):
    """sha256:AB:CD:… as openssl prints it, the form tls_fingerprint takes."""
    out = subprocess.run([h.find_tool("openssl", "OPENSSL"), "x509", "-noout", "-fingerprint",
                          "-sha256", "-in", cert], check=True, capture_output=True, text=True)
    return "sha256:" + out.stdout.strip().split("=", 1)[1]


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

    def run_doctor(self, accounts, *args, mode=0o600):
        with tempfile.TemporaryDirectory(prefix="imapwatch-doctor-") as tmp:
            path = os.path.join(tmp, "config")
            lines = ["[daemon]", "password_timeout = 5s"]
            for name, keys in accounts.items():
                lines += ["", f"[account {name}]"]
                lines += [f"{k} = {v}" for k, v in keys.items()]
            with open(path, "w", encoding="utf-8") as f:
                f.write("\n".join(lines) + "\n")
            os.chmod(path, mode)
            self.config_path = path
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

    def test_readable_config_with_password(self):
        """The daemon's warning (one shared check): a password in a file
        other users can read."""
        rc, out, _ = self.run_doctor({"good": self.account()}, mode=0o644)
        self.assertEqual(rc, 0, out)
        self.assertLine(out, "warn", "it holds a password and other users can read it",
                        "(mode 0644)")
        self.assertAdvice(out, f"chmod 600 {self.config_path}")
        self.assertIn("everything looks good", out)
        for mode, keys in ((0o600, self.account()), (0o640, self.account()),
                           (0o644, self.account(password=None, password_command="cat "
                                                + self.password_file()))):
            rc, out, _ = self.run_doctor({"good": keys}, mode=mode)
            self.assertEqual(rc, 0, out)
            self.assertEqual("other users can read" in out, mode == 0o640, (oct(mode), out))

    def password_file(self):
        tmp = tempfile.mkdtemp(prefix="imapwatch-doctor-pw-")
        self.addCleanup(shutil.rmtree, tmp, True)
        path = os.path.join(tmp, "pw")
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.dovecot.users["user1"] + "\n")
        return path

    def test_pinned_certificate(self):
        pin = fingerprint(self.certs.server_cert)
        rc, out, _ = self.run_doctor({"work": self.account(tls_ca_file=None,
                                                           tls_fingerprint=pin)})
        self.assertEqual(rc, 0, out)
        self.assertLine(out, "ok", "TLS: TLSv1.")
        self.assertIn(f"fingerprint: {pin}", out)
        self.assertIn("verification: ok (the certificate tls_fingerprint pins; chain and "
                      "host name not checked)", out)
        self.assertLine(out, "ok", "login: accepted")

    def test_pinned_certificate_changed(self):
        """The server presents another certificate than the pinned one: the
        advice names the one it has now and says to check it out of band
        before pinning it (T7: never trusted on the spot)."""
        now = fingerprint(self.certs.server_cert)
        old = fingerprint(self.certs.wronghost_cert)
        rc, out, _ = self.run_doctor({"work": self.account(tls_fingerprint=old)})
        self.assertEqual(rc, 1, out)
        self.assertLine(out, "FAIL", "TLS:", "does not match tls_fingerprint")
        self.assertIn(f"fingerprint: {now}", out)
        self.assertIn("verification: not the certificate tls_fingerprint pins", out)
        self.assertAdvice(out, "not the one tls_fingerprint in [account work] pins",
                          "check its fingerprint (above)", "by another way than this connection",
                          f"set tls_fingerprint = {now} in [account work]",
                          "someone may be intercepting")
        self.assertNotIn("login: accepted", out)

    def test_fingerprint_without_tls(self):
        """A fingerprint without TLS means nothing: an error with file, line
        and key, in doctor as in imapwatchd --check-config, which shows a
        valid one."""
        pin = fingerprint(self.certs.server_cert)
        keys = self.account(security="none", allow_plaintext="true",
                            port=self.dovecot.imap_port, tls_ca_file=None, tls_fingerprint=pin)
        rc, out, _ = self.run_doctor({"work": keys})
        self.assertEqual(rc, 1, out)
        self.assertIn("the configuration is not valid", out)
        line = 3 + list(keys).index("tls_fingerprint") + 1 + 1
        self.assertIn(f"{self.config_path}:{line}: [account work] key 'tls_fingerprint': "
                      "pins the server's TLS certificate, but security = none uses no TLS",
                      out)
        self.assertIn("set security = tls (or starttls)", out)

        with tempfile.TemporaryDirectory(prefix="imapwatch-doctor-") as tmp:
            path = os.path.join(tmp, "config")
            with open(path, "w", encoding="utf-8") as f:
                f.write("[account work]\n" + "".join(
                    f"{k} = {v}\n" for k, v in self.account(tls_fingerprint=pin).items()))
            os.chmod(path, 0o600)
            proc = subprocess.run([h.program("IMAPWATCHD"), "--check-config", "--config", path],
                                  stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                  timeout=TIMEOUT)
        self.assertEqual((proc.returncode, proc.stderr), (0, ""), proc.stdout)
        self.assertIn(f"  tls_fingerprint: {pin} (only this certificate; chain and host "
                      "name not checked)\n", proc.stdout)

    def test_invalid_config(self):
        rc, out, _ = self.run_doctor({"work": self.account(security="ssl")})
        self.assertEqual(rc, 1, out)
        self.assertIn("the configuration is not valid", out)
        self.assertIn("'ssl' is not one of", out)


if __name__ == "__main__":
    unittest.main()
