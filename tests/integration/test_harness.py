# SPDX-License-Identifier: MIT
"""The harness itself against a real Dovecot (or Cyrus), checked with imaplib
and a raw IDLE client. Needs no imapwatchd."""

import imaplib
import socket
import ssl
import time
import unittest

import imapwatch_harness as h

# One server for the module's tests, started before the first.
dovecot = h.mail_server()  # Dovecot, or Cyrus (IMAPWATCH_TEST_SERVER)
setUpModule = dovecot.start
tearDownModule = dovecot.stop


def utf7_encode(name):
    """Modified UTF-7 (RFC 3501 section 5.1.3), written here independently of
    Dovecot so that the test checks the server's encoding."""
    out, run = [], []

    def flush():
        if run:
            raw = "".join(run).encode("utf-16-be")
            import base64
            b64 = base64.b64encode(raw).decode().rstrip("=").replace("/", ",")
            out.append("&" + b64 + "-")
            run.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7e:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            run.append(ch)
    flush()
    return "".join(out)


class HarnessTest(unittest.TestCase):
    maxDiff = None

    def imaps(self, user):
        ctx = h.certs().client_context()
        conn = imaplib.IMAP4_SSL("localhost", dovecot.imaps_port, ssl_context=ctx,
                                 timeout=10)
        self.addCleanup(self._logout, conn)
        conn.login(user, dovecot.users[user])
        return conn

    @staticmethod
    def _logout(conn):
        try:
            conn.logout()
        except (imaplib.IMAP4.error, OSError):
            conn.shutdown()

    def test_login_imaps(self):
        conn = self.imaps("user1")
        typ, _ = conn.select("INBOX", readonly=True)
        self.assertEqual(typ, "OK")

    def test_imaps_verifies_against_test_ca(self):
        ctx = h.certs().client_context()
        with socket.create_connection(("127.0.0.1", dovecot.imaps_port), timeout=10) as s:
            with ctx.wrap_socket(s, server_hostname="localhost") as t:
                self.assertTrue(t.recv(100).startswith(b"* OK"))

    def test_untrusted_ca_refused(self):
        ctx = h.certs().client_context(h.certs().untrusted_ca)
        with socket.create_connection(("127.0.0.1", dovecot.imaps_port), timeout=10) as s:
            with self.assertRaises(ssl.SSLCertVerificationError):
                ctx.wrap_socket(s, server_hostname="localhost")

    def test_starttls_on_plain_port(self):
        conn = imaplib.IMAP4("127.0.0.1", dovecot.imap_port, timeout=10)
        self.addCleanup(self._logout, conn)
        self.assertIn("STARTTLS", conn.capabilities)
        conn.starttls(ssl_context=h.certs().client_context())
        conn.login("user2", dovecot.users["user2"])
        typ, data = conn.list()
        self.assertEqual(typ, "OK")

    def test_wrong_password_rejected(self):
        conn = imaplib.IMAP4_SSL("localhost", dovecot.imaps_port,
                                 ssl_context=h.certs().client_context(), timeout=10)
        self.addCleanup(self._logout, conn)
        with self.assertRaises(imaplib.IMAP4.error):
            conn.login("user1", "wrong")

    def test_deliver_seen_over_imap(self):
        user = "user3"
        msg, mid = h.make_message(subject="Grüße aus München",
                                  subject_encoding="Q", charset="iso-8859-1",
                                  from_name="Jürgen Groß", from_encoding="B")
        uid = dovecot.deliver(user, "INBOX", msg)
        conn = self.imaps(user)
        conn.select("INBOX", readonly=True)
        typ, data = conn.uid("FETCH", str(uid),
                             "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT MESSAGE-ID)])")
        self.assertEqual(typ, "OK")
        header = data[0][1].decode()
        self.assertIn("Subject: =?iso-8859-1?Q?Gr=FC=DFe_aus_M=FCnchen?=", header)
        self.assertIn(mid, header)
        import email.header
        decoded = str(email.header.make_header(email.header.decode_header(
            header.split("Subject: ")[1].split("\r\n")[0])))
        self.assertEqual(decoded, "Grüße aus München")
        self.assertEqual(dovecot.state(user, "INBOX"), {uid: frozenset()})

    def test_flags_add_remove_and_expunge(self):
        user = "user4"
        uids = [dovecot.deliver(user, "INBOX", h.make_message(subject=f"m{i}")[0])
                for i in range(3)]
        dovecot.flags_add(user, "INBOX", uids[0], "\\Seen")
        dovecot.flags_add(user, "INBOX", uids[1], "\\Flagged", "$Label1")
        self.assertEqual(dovecot.state(user, "INBOX"), {
            uids[0]: frozenset({"\\Seen"}),
            uids[1]: frozenset({"\\Flagged", "$Label1"}),
            uids[2]: frozenset()})
        conn = self.imaps(user)
        conn.select("INBOX", readonly=True)
        typ, data = conn.uid("FETCH", f"{uids[0]}", "(FLAGS)")
        self.assertIn(b"\\Seen", data[0])
        dovecot.flags_remove(user, "INBOX", uids[1], "\\Flagged")
        dovecot.expunge(user, "INBOX", uids[2])
        self.assertEqual(dovecot.state(user, "INBOX"), {
            uids[0]: frozenset({"\\Seen"}),
            uids[1]: frozenset({"$Label1"})})
        status = dovecot.status(user, "INBOX")
        self.assertEqual(status["messages"], 2)
        self.assertEqual(status["unseen"], 1)
        self.assertEqual(status["uidnext"], uids[2] + 1)

    def test_non_ascii_folder(self):
        user = "user5"
        folder = "Ünïcødé/Sub & Co"
        dovecot.create_folder(user, folder)
        self.assertIn(folder, dovecot.folders(user))
        uid = dovecot.deliver(user, folder, h.make_message(subject="deep")[0])
        self.assertEqual(dovecot.state(user, folder), {uid: frozenset()})
        conn = self.imaps(user)
        typ, data = conn.list()
        self.assertEqual(typ, "OK")
        wire = utf7_encode(folder)
        self.assertEqual(wire, "&ANw-n&AO8-c&APg-d&AOk-/Sub &- Co")
        self.assertTrue(any(wire.encode() in line for line in data), data)
        typ, data = conn.select('"' + wire + '"', readonly=True)
        self.assertEqual((typ, data), ("OK", [b"1"]))

    def test_idle_sees_exists_after_deliver(self):
        user = "user6"
        dovecot.deliver(user, "INBOX", h.make_message(subject="first")[0])
        ctx = h.certs().client_context()
        sock = ctx.wrap_socket(
            socket.create_connection(("127.0.0.1", dovecot.imaps_port), timeout=10),
            server_hostname="localhost")
        self.addCleanup(sock.close)
        f = sock.makefile("rb")

        def command(tag, text):
            sock.sendall(f"{tag} {text}\r\n".encode())
            lines = []
            while True:
                line = f.readline()
                self.assertTrue(line, "connection closed")
                lines.append(line)
                if line.startswith(tag.encode() + b" "):
                    self.assertTrue(line.startswith(tag.encode() + b" OK"), lines)
                    return lines

        self.assertTrue(f.readline().startswith(b"* OK"))
        command("a1", f"LOGIN {user} {dovecot.users[user]}")
        lines = command("a2", "EXAMINE INBOX")
        self.assertIn(b"* 1 EXISTS\r\n", lines)
        sock.sendall(b"a3 IDLE\r\n")
        self.assertTrue(f.readline().startswith(b"+ "))
        dovecot.deliver(user, "INBOX", h.make_message(subject="second")[0])
        # Server push, bounded by the socket timeout.
        sock.settimeout(10)
        seen = []
        while True:
            line = f.readline()
            self.assertTrue(line, f"connection closed; got {seen}")
            seen.append(line)
            if line == b"* 2 EXISTS\r\n":
                break
        sock.sendall(b"DONE\r\n")
        while not f.readline().startswith(b"a3 OK"):
            pass
        command("a4", "LOGOUT")

    def test_kick_disconnects(self):
        user = "user7"
        conn = self.imaps(user)
        conn.select("INBOX", readonly=True)
        self.assertTrue(dovecot.who(user))
        dovecot.kick(user)
        with self.assertRaises((imaplib.IMAP4.abort, OSError)):
            conn.noop()
            conn.noop()

    def test_message_builder(self):
        msg, mid = h.make_message(subject="会議の件について", subject_encoding="B",
                                  from_name="山田 太郎", from_encoding="B",
                                  from_addr="taro@example.jp", date=1764000000)
        import email
        import email.policy
        parsed = email.message_from_bytes(msg, policy=email.policy.default)
        self.assertEqual(parsed["Subject"], "会議の件について")
        self.assertEqual(parsed["From"].addresses[0].display_name, "山田 太郎")
        self.assertEqual(parsed["From"].addresses[0].addr_spec, "taro@example.jp")
        self.assertEqual(parsed["Message-ID"], mid)
        self.assertEqual(int(parsed["Date"].datetime.timestamp()), 1764000000)
        self.assertTrue(all(len(line) <= 998 for line in msg.split(b"\r\n")))
        self.assertNotIn(b"\n", msg.replace(b"\r\n", b""))

    def test_second_instance_wrong_host(self):
        c = h.certs()
        with h.mail_server(cert=c.wronghost_cert, key=c.wronghost_key,
                       name="wronghost") as other:
            self.assertNotIn(other.imaps_port, (dovecot.imaps_port, dovecot.imap_port))
            ctx = c.client_context()
            with socket.create_connection(("127.0.0.1", other.imaps_port), timeout=10) as s:
                with self.assertRaises(ssl.SSLCertVerificationError) as cm:
                    ctx.wrap_socket(s, server_hostname="localhost")
                self.assertIn("Hostname mismatch", str(cm.exception))
            with socket.create_connection(("127.0.0.1", other.imaps_port), timeout=10) as s:
                with ctx.wrap_socket(s, server_hostname="wrong.example") as t:
                    self.assertTrue(t.recv(100).startswith(b"* OK"))


if __name__ == "__main__":
    unittest.main()
