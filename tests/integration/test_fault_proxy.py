# SPDX-License-Identifier: MIT
"""The fault proxy itself against a real Dovecot, checked with imaplib and
raw (TLS) sockets. Needs no imapwatchd."""

import imaplib
import select
import socket
import ssl
import time
import unittest

import imapwatch_harness as h
from fault_proxy import FaultProxy

IO_TIMEOUT = 10.0
# How long a blackholed command must stay unanswered.
SILENCE = 1.0

# One server for the module's tests, started before the first.
dovecot = h.Dovecot()
setUpModule = dovecot.start
tearDownModule = dovecot.stop


class ProxyIMAP4_SSL(imaplib.IMAP4_SSL):
    """IMAP4_SSL to 127.0.0.1 that checks the certificate for localhost."""

    def _create_socket(self, timeout):
        sock = socket.create_connection(("127.0.0.1", self.port), timeout)
        return self.ssl_context.wrap_socket(sock, server_hostname="localhost")


class Client:
    """A line-level IMAP client on a plain or TLS socket."""

    def __init__(self, port, tls):
        sock = socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT)
        if tls:
            sock = h.certs().client_context().wrap_socket(
                sock, server_hostname="localhost")
        self.sock = sock
        self.buf = b""

    def close(self):
        self.sock.close()

    def readline(self):
        while b"\r\n" not in self.buf:
            data = self.sock.recv(4096)
            if not data:
                raise EOFError(f"EOF after {self.buf!r}")
            self.buf += data
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line + b"\r\n"

    def send(self, text):
        data = text.encode() if isinstance(text, str) else text
        self.sock.sendall(data)
        return len(data)

    def tagged(self, tag):
        """Lines up to and including the tagged reply for tag."""
        lines = []
        while True:
            line = self.readline()
            lines.append(line)
            if line.startswith(tag.encode() + b" "):
                return lines

    def command(self, tag, text):
        self.send(f"{tag} {text}\r\n")
        return self.tagged(tag)

    def login(self, user):
        lines = self.command("L", f"LOGIN {user} {dovecot.users[user]}")
        assert lines[-1].startswith(b"L OK"), lines


def shutdown_quietly(conn):
    try:
        conn.shutdown()
    except OSError:
        pass  # logged out: already closed


def tcp_error(sock):
    """The error pending on the TCP socket under sock (read with MSG_PEEK,
    below any TLS layer), or None at EOF. Waits for it to be readable."""
    raw = socket.socket(fileno=sock.fileno())
    try:
        readable, _, _ = select.select([raw], [], [], IO_TIMEOUT)
        if not readable:
            raise AssertionError("socket did not become readable")
        try:
            data = raw.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except OSError as e:
            return e
        if data:
            raise AssertionError(f"unexpected data {data!r}")
        return None
    finally:
        raw.detach()


class FaultProxyTest(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        self.tls = FaultProxy("127.0.0.1", dovecot.imaps_port)
        self.tls.start()
        self.addCleanup(self.tls.stop)
        self.plain = FaultProxy("127.0.0.1", dovecot.imap_port)
        self.plain.start()
        self.addCleanup(self.plain.stop)

    def client(self, proxy, tls=None, user=None):
        """Connected client through proxy, greeting read, optionally
        logged in."""
        c = Client(proxy.port, proxy is self.tls if tls is None else tls)
        self.addCleanup(c.close)
        self.assertTrue(c.readline().startswith(b"* OK"))
        if user:
            c.login(user)
        return c

    # -- forwarding and counters

    def test_forwards_tls_login_and_large_fetch(self):
        body = "".join(f"line {i:07d} of a large message\r\n"
                       for i in range(60000))
        msg, _ = h.make_message(subject="large", body=body)
        uid = dovecot.deliver("user1", "INBOX", msg)
        conn = ProxyIMAP4_SSL("127.0.0.1", self.tls.port,
                              ssl_context=h.certs().client_context(),
                              timeout=IO_TIMEOUT)
        self.addCleanup(shutdown_quietly, conn)
        conn.login("user1", dovecot.users["user1"])
        conn.select("INBOX", readonly=True)
        typ, data = conn.uid("FETCH", str(uid), "(BODY.PEEK[])")
        self.assertEqual(typ, "OK")
        self.assertEqual(data[0][1], msg)
        conn.logout()
        self.tls.wait_for_open(0)
        info = self.tls.info(0)
        self.assertGreater(info["bytes_down"], len(msg))
        self.assertGreater(info["bytes_up"], 0)
        self.assertEqual(info["dropped_up"] + info["dropped_down"], 0)
        self.assertEqual(self.tls.connections_total, 1)

    def test_counters_are_exact_on_plaintext(self):
        c = Client(self.plain.port, tls=False)
        self.addCleanup(c.close)
        self.plain.wait_for_connections(1)
        greeting = c.readline()
        self.plain.wait_for_bytes_down(0, len(greeting))
        self.assertEqual(self.plain.connections_open, 1)
        sent = c.send("a NOOP\r\n")
        received = sum(map(len, c.tagged("a")))
        self.plain.wait_for_bytes_down(0, len(greeting) + received)
        self.assertEqual(self.plain.bytes_up(0), sent)
        self.assertEqual(self.plain.bytes_down(0), len(greeting) + received)
        self.assertEqual(self.plain.info(0)["read_down"], len(greeting) + received)
        sent += c.send("b LOGOUT\r\n")
        c.tagged("b")
        # Dovecot closes; the proxy passes the FIN on and keeps the other
        # direction open until the client closes too.
        with self.assertRaises(EOFError):
            c.readline()
        self.assertTrue(self.plain.info(0)["open"])
        c.close()
        self.plain.wait_for_closed(0)
        info = self.plain.info(0)
        self.assertEqual(info["bytes_up"], sent)
        self.assertTrue(info["upstream_eof"])
        self.assertEqual(info["closed_by"], "upstream")
        self.assertEqual(self.plain.connections_open, 0)
        self.assertEqual(self.plain.connections_total, 1)

    def test_client_close_closes_upstream(self):
        c = self.client(self.plain, user="user2")
        self.assertEqual(len(dovecot.who("user2")), 1)
        c.sock.shutdown(socket.SHUT_WR)
        self.plain.wait_for_closed(0)
        self.assertEqual(self.plain.info(0)["closed_by"], "client")

    def test_wait_times_out_with_assertion(self):
        with self.assertRaisesRegex(AssertionError, "2 accepted connections"):
            self.plain.wait_for_connections(2, timeout=0.1)

    # -- close and reset

    def test_close_gives_client_eof(self):
        c = self.client(self.tls, user="user1")
        self.tls.close()
        self.assertIsNone(tcp_error(c.sock))  # FIN, not RST
        self.assertEqual(c.sock.recv(100), b"")
        self.tls.wait_for_open(0)
        self.assertEqual(self.tls.info(0)["closed_by"], "proxy")

    def test_close_by_index_leaves_others(self):
        first = self.client(self.plain)
        second = self.client(self.plain)
        self.plain.wait_for_connections(2)
        self.plain.close(1)
        self.assertEqual(second.sock.recv(100), b"")
        self.assertTrue(first.command("a", "NOOP")[-1].startswith(b"a OK"))
        self.assertEqual(self.plain.connections_open, 1)
        with self.assertRaises(IndexError):
            self.plain.close(5)

    def test_reset_gives_connection_reset(self):
        c = self.client(self.plain, user="user1")
        self.plain.reset()
        with self.assertRaises(ConnectionResetError):
            c.sock.recv(100)
        self.plain.wait_for_open(0)

    def test_reset_on_tls(self):
        c = self.client(self.tls, user="user1")
        self.tls.reset()
        # Python's ssl module reports a reset under SSL_read as a ragged
        # EOF, so look at the TCP socket itself.
        self.assertIsInstance(tcp_error(c.sock), ConnectionResetError)
        self.tls.wait_for_open(0)

    # -- blackhole

    def test_blackhole_tls_silent_and_open(self):
        c = self.client(self.tls, user="user3")
        self.tls.blackhole()
        sent = c.send("a NOOP\r\n")
        # A TLS record is longer than the line in it.
        self.tls.wait_until(lambda p: p.info(0)["dropped_up"] >= sent,
                            what="NOOP dropped")
        c.sock.settimeout(SILENCE)
        start = time.monotonic()
        with self.assertRaises(TimeoutError):
            c.sock.recv(100)
        self.assertGreaterEqual(time.monotonic() - start, SILENCE * 0.9)
        # Nothing arrived, not even FIN or RST: the raw socket is not
        # readable, and both ends are still connected.
        raw = socket.socket(fileno=c.sock.fileno())
        try:
            self.assertEqual(select.select([raw], [], [], 0)[0], [])
        finally:
            raw.detach()
        info = self.tls.info(0)
        self.assertTrue(info["open"])
        self.assertEqual(info["read_up"] - info["bytes_up"], info["dropped_up"])
        self.assertEqual(len(dovecot.who("user3")), 1)

    def test_unblackhole_resumes_dropped_data_lost(self):
        c = self.client(self.plain, user="user1")
        self.plain.blackhole()
        sent = c.send("a NOOP\r\n")
        self.plain.wait_until(lambda p: p.info(0)["dropped_up"] >= sent,
                              what="NOOP dropped")
        self.plain.unblackhole()
        lines = c.command("b", "NOOP")
        self.assertTrue(lines[-1].startswith(b"b OK"), lines)
        self.assertFalse(any(l.startswith(b"a ") for l in lines), lines)

    def test_blackhole_on_client_data(self):
        c = self.client(self.plain, user="user1")
        self.plain.blackhole_on_client_data(0)
        # Until the client speaks, the connection works both ways.
        self.assertEqual(self.plain.info(0)["dropped_up"], 0)
        sent = c.send("a NOOP\r\n")
        self.plain.wait_until(lambda p: p.info(0)["dropped_up"] >= sent,
                              what="NOOP dropped")
        self.assertEqual(self.plain.info(0)["bytes_up"], self.plain.info(0)["read_up"] - sent)
        c.sock.settimeout(SILENCE)
        with self.assertRaises(TimeoutError):
            c.sock.recv(100)
        self.assertTrue(self.plain.info(0)["open"])

    def test_blackhole_applies_to_new_connections(self):
        self.plain.blackhole()
        c = Client(self.plain.port, tls=False)
        self.addCleanup(c.close)
        # The greeting reaches the proxy and is dropped there.
        self.plain.wait_until(lambda p: p.connections_total
                              and p.info(0)["dropped_down"] > 0,
                              what="greeting dropped")
        c.sock.setblocking(False)
        with self.assertRaises(BlockingIOError):
            c.sock.recv(100)
        self.plain.unblackhole()
        c.sock.settimeout(IO_TIMEOUT)
        self.assertTrue(c.command("a", "NOOP")[-1].startswith(b"a OK"))

    # -- delay

    def test_delay_adds_latency_both_ways(self):
        c = self.client(self.tls, user="user1")
        self.tls.delay(0.3)
        start = time.monotonic()
        self.assertTrue(c.command("a", "NOOP")[-1].startswith(b"a OK"))
        self.assertGreaterEqual(time.monotonic() - start, 0.6)
        self.tls.delay(0)
        start = time.monotonic()
        c.command("b", "NOOP")
        self.assertLess(time.monotonic() - start, 0.3)

    def test_delay_keeps_order(self):
        c = self.client(self.plain, user="user1")
        self.plain.delay(0.3, conn=0)
        before = self.plain.bytes_up(0)
        first = c.send("a NOOP\r\n")
        self.plain.wait_until(lambda p: p.info(0)["read_up"] >= before + first,
                              what="a read")
        self.plain.delay(0, conn=0)
        # "a" is held for 0.3 s; "b", sent without delay, queues behind it.
        self.assertEqual(self.plain.bytes_up(0), before)
        c.send("b NOOP\r\n")
        lines = c.tagged("b")
        tags = [l[:2] for l in lines if l[:2] in (b"a ", b"b ")]
        self.assertEqual(tags, [b"a ", b"b "], lines)
        self.assertEqual(self.plain.bytes_up(0), before + first + 8)

    # -- inject

    def test_inject_garbage_breaks_tls(self):
        c = self.client(self.tls, user="user1")
        self.tls.inject_to_client(b"this is not a TLS record\r\n")
        self.assertEqual(self.tls.info(0)["injected"], 26)
        with self.assertRaises(ssl.SSLError):
            c.sock.recv(100)

    def test_inject_bye_on_plaintext_then_close(self):
        c = self.client(self.plain)
        self.plain.inject_to_client(b"* BYE proxy going away\r\n")
        self.plain.close()
        self.assertEqual(c.readline(), b"* BYE proxy going away\r\n")
        self.assertEqual(c.sock.recv(100), b"")

    # -- refuse, upstream down

    def test_refuse_close_accepts_and_closes(self):
        self.plain.refuse(True, mode="close")
        self.assertEqual(self.plain.refuse_mode, "close")
        with socket.create_connection(("127.0.0.1", self.plain.port),
                                      timeout=IO_TIMEOUT) as s:
            self.assertEqual(s.recv(100), b"")
        self.plain.wait_for_connections(1)
        info = self.plain.info(0)
        self.assertTrue(info["refused"])
        self.assertFalse(info["open"])
        self.plain.refuse(False)
        self.client(self.plain)
        self.assertEqual(self.plain.connections_total, 2)
        self.assertEqual(self.plain.connections_open, 1)

    def test_refuse_down_closes_port_then_reopens_it(self):
        existing = self.client(self.plain)
        port = self.plain.port
        self.plain.refuse(True, mode="down")
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT)
        self.assertEqual(self.plain.connections_total, 1)
        self.assertTrue(existing.command("a", "NOOP")[-1].startswith(b"a OK"))
        self.plain.refuse(False)
        self.assertEqual(self.plain.port, port)
        self.client(self.plain)
        self.assertEqual(self.plain.connections_total, 2)

    def test_upstream_down_and_set_target(self):
        self.plain.set_target("127.0.0.1", h.free_port())
        with socket.create_connection(("127.0.0.1", self.plain.port),
                                      timeout=IO_TIMEOUT) as s:
            self.assertEqual(s.recv(100), b"")
        self.plain.wait_for_closed(0)
        self.assertIn("refused", self.plain.info(0)["error"])
        self.plain.set_target("127.0.0.1", dovecot.imaps_port)
        self.client(self.plain, tls=True, user="user1")


if __name__ == "__main__":
    unittest.main()
