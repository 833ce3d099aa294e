# SPDX-License-Identifier: MIT
"""Certs: a test CA, a server certificate for localhost/127.0.0.1 signed by
it, a second CA nobody trusts, and a certificate for another host name.
certs() is the process-wide one.
"""

import atexit
import os
import ssl

from harness_base import _mkdtemp, _rmtree, _run, find_tool


class Certs:
    """Test PKI made with the openssl CLI in a temp dir.

    Attributes (paths to PEM files):
      ca            trusted test CA (give this to the client as tls_ca_file)
      server_cert, server_key     CN/SAN localhost + IP 127.0.0.1, signed by ca
      wronghost_cert, wronghost_key  SAN wrong.example only, signed by ca
      untrusted_ca  a second CA that signed nothing the servers use
    """

    def __init__(self):
        self.openssl = find_tool("openssl", "OPENSSL")
        self.dir = _mkdtemp("imapwatch-certs-")
        try:
            self.ca, self.ca_key = self._make_ca("ca", "imapwatch test CA")
            self.untrusted_ca, _ = self._make_ca("untrusted-ca",
                                                 "imapwatch untrusted CA")
            self.server_cert, self.server_key = self._make_leaf(
                "server", "localhost", "DNS:localhost,IP:127.0.0.1")
            self.wronghost_cert, self.wronghost_key = self._make_leaf(
                "wronghost", "wrong.example", "DNS:wrong.example")
            for path in os.listdir(self.dir):
                os.chmod(os.path.join(self.dir, path), 0o644)
        except BaseException:
            self.close()
            raise

    def _path(self, name):
        return os.path.join(self.dir, name)

    def _keygen(self, name):
        key = self._path(name + ".key")
        _run([self.openssl, "genpkey", "-algorithm", "EC", "-pkeyopt",
              "ec_paramgen_curve:prime256v1", "-out", key])
        return key

    def _make_ca(self, name, cn):
        key = self._keygen(name)
        cert = self._path(name + ".pem")
        _run([self.openssl, "req", "-x509", "-new", "-key", key, "-out", cert,
              "-days", "7", "-subj", f"/CN={cn}",
              "-addext", "basicConstraints=critical,CA:TRUE",
              "-addext", "keyUsage=critical,keyCertSign,cRLSign",
              "-addext", "subjectKeyIdentifier=hash"])
        return cert, key

    def _make_leaf(self, name, cn, san):
        key = self._keygen(name)
        csr = self._path(name + ".csr")
        cert = self._path(name + ".pem")
        ext = self._path(name + ".ext")
        with open(ext, "w") as f:
            f.write(f"subjectAltName={san}\n"
                    "basicConstraints=critical,CA:FALSE\n"
                    "keyUsage=critical,digitalSignature,keyEncipherment\n"
                    "extendedKeyUsage=serverAuth\n"
                    "subjectKeyIdentifier=hash\n"
                    "authorityKeyIdentifier=keyid\n")
        _run([self.openssl, "req", "-new", "-key", key, "-out", csr,
              "-subj", f"/CN={cn}"])
        _run([self.openssl, "x509", "-req", "-in", csr, "-CA", self.ca,
              "-CAkey", self.ca_key, "-set_serial",
              str(int.from_bytes(os.urandom(8), "big")), "-days", "7",
              "-extfile", ext, "-out", cert])
        return cert, key

    def client_context(self, ca=None):
        """An ssl.SSLContext trusting only `ca` (default: the test CA)."""
        ctx = ssl.create_default_context(cafile=ca or self.ca)
        return ctx

    def close(self):
        _rmtree(self.dir)


_certs = None


def certs():
    """The process-wide Certs, made on first use and removed at exit."""
    global _certs
    if _certs is None:
        _certs = Certs()
        atexit.register(_certs.close)
    return _certs
