# SPDX-License-Identifier: MIT
"""Certificates through the real daemon against a real Dovecot: a server
that leaves out its intermediate CA is refused with a specific message (and
accepted once it sends the chain); tls_fingerprint pinning accepts exactly
the pinned certificate, without a CA, and refuses any other without
offering to trust it (RFC 8314 §5.4)."""

import os
import shutil
import subprocess
import tempfile
import unittest

import imapwatch_harness as h
from imapwatch_harness import is_account_state

CONNECT_TIMEOUT = 20.0


def openssl(*args):
    subprocess.run([h.find_tool("openssl", "OPENSSL"), *args], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class ChainPKI:
    """root CA → intermediate CA → leaf for localhost."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="imapwatch-chain-")
        os.chmod(self.dir, 0o755)
        p = lambda n: os.path.join(self.dir, n)  # noqa: E731
        for name in ("root", "inter", "leaf"):
            openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-out", p(name + ".key"))
        openssl("req", "-x509", "-new", "-key", p("root.key"), "-out", p("root.pem"),
                "-days", "7", "-subj", "/CN=chain test root",
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        with open(p("ca.ext"), "w") as f:
            f.write("basicConstraints=critical,CA:TRUE,pathlen:0\n"
                    "keyUsage=critical,keyCertSign,cRLSign\n")
        openssl("req", "-new", "-key", p("inter.key"), "-out", p("inter.csr"),
                "-subj", "/CN=chain test intermediate")
        openssl("x509", "-req", "-in", p("inter.csr"), "-CA", p("root.pem"),
                "-CAkey", p("root.key"), "-set_serial", "2", "-days", "7",
                "-extfile", p("ca.ext"), "-out", p("inter.pem"))
        with open(p("leaf.ext"), "w") as f:
            f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                    "basicConstraints=critical,CA:FALSE\n"
                    "extendedKeyUsage=serverAuth\n")
        openssl("req", "-new", "-key", p("leaf.key"), "-out", p("leaf.csr"),
                "-subj", "/CN=localhost")
        openssl("x509", "-req", "-in", p("leaf.csr"), "-CA", p("inter.pem"),
                "-CAkey", p("inter.key"), "-set_serial", "3", "-days", "7",
                "-extfile", p("leaf.ext"), "-out", p("leaf.pem"))
        with open(p("fullchain.pem"), "w") as out:
            for name in ("leaf.pem", "inter.pem"):
                with open(p(name)) as f:
                    out.write(f.read())
        for n in os.listdir(self.dir):
            os.chmod(p(n), 0o644)
        self.root, self.leaf, self.fullchain, self.key = (
            p("root.pem"), p("leaf.pem"), p("fullchain.pem"), p("leaf.key"))

    def close(self):
        shutil.rmtree(self.dir, True)


def fingerprint(cert):
    out = subprocess.run([h.find_tool("openssl", "OPENSSL"), "x509", "-noout", "-fingerprint",
                          "-sha256", "-in", cert], check=True, capture_output=True, text=True)
    return "sha256:" + out.stdout.strip().split("=", 1)[1]


class TlsTest(unittest.TestCase):
    def daemon_for(self, server, **keys):
        acct = {"host": "localhost", "port": server.imaps_port, "username": "user1",
                "password": server.users["user1"], "folders": "INBOX"}
        acct.update(keys)
        d = h.Daemon({"acct": acct})
        d.start()
        self.addCleanup(d.kill)
        return d

    def test_missing_intermediate_is_refused(self):
        pki = ChainPKI()
        self.addCleanup(pki.close)
        with h.Dovecot(cert=pki.leaf, key=pki.key, name="leaf-only") as server:
            d = self.daemon_for(server, tls_ca_file=pki.root)
            ev = d.wait_for(is_account_state("acct", "error"), timeout=CONNECT_TIMEOUT)
            self.assertIn("certificate verify failed", ev["detail"])
            self.assertIn("chain test intermediate", ev["detail"])
            d.stop()
        # The same leaf with its intermediate is fine: the chain was the issue.
        with h.Dovecot(cert=pki.fullchain, key=pki.key, name="full-chain") as server:
            d = self.daemon_for(server, tls_ca_file=pki.root)
            d.wait_for(is_account_state("acct", "idle"), timeout=CONNECT_TIMEOUT)
            d.stop()

    def test_pinned_certificate_is_accepted_without_a_ca(self):
        with h.Dovecot(name="pinned") as server:
            d = self.daemon_for(server, tls_fingerprint=fingerprint(h.certs().server_cert))
            d.wait_for(is_account_state("acct", "idle"), timeout=CONNECT_TIMEOUT)
            d.stop()

    def test_other_certificate_than_the_pin_is_refused(self):
        wrong = fingerprint(h.certs().wronghost_cert)
        with h.Dovecot(name="mispinned") as server:
            # Even with a CA that would verify the chain: the pin decides.
            d = self.daemon_for(server, tls_fingerprint=wrong, tls_ca_file=h.certs().ca)
            ev = d.wait_for(is_account_state("acct", "error"), timeout=CONNECT_TIMEOUT)
            self.assertIn("does not match tls_fingerprint", ev["detail"])
            # No fingerprint of the presented certificate is offered.
            self.assertNotIn(fingerprint(h.certs().server_cert)[7:20], d.stderr_text())
            d.stop()

    def test_bad_fingerprint_syntax_names_file_line_key(self):
        d = h.Daemon({"acct": {"host": "localhost", "username": "u", "password": "p",
                               "tls_fingerprint": "md5:00"}})
        d.start()
        self.addCleanup(d.kill)
        code = d.wait_exit(10)
        self.assertNotEqual(code, 0)
        err = d.stderr_text()
        self.assertIn(d.config_path, err)
        self.assertIn("[account acct] key 'tls_fingerprint'", err)


class ConfigPermissionTest(unittest.TestCase):
    def test_readable_config_with_password_warns(self):
        tmp = tempfile.mkdtemp(prefix="imapwatch-perm-")
        self.addCleanup(shutil.rmtree, tmp, True)
        path = os.path.join(tmp, "config")
        with open(path, "w") as f:
            f.write("[account a]\nhost = localhost\nusername = u\npassword = p\n")
        binary = os.environ["IMAPWATCHD"]
        for mode, warned in ((0o644, True), (0o600, False)):
            os.chmod(path, mode)
            out = subprocess.run([binary, "--check-config", "--config", path],
                                 capture_output=True, text=True, check=True)
            self.assertEqual("chmod 600 " + path in out.stderr, warned, out.stderr)
            self.assertNotIn("= p", out.stdout)


if __name__ == "__main__":
    unittest.main()
