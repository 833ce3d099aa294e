# SPDX-License-Identifier: MIT
"""A scripted hostile IMAP server for the integration tests (standard
library only), modelled on the client test classes of EAST (the STARTTLS
analysis toolkit, see docs/PROTOCOL.md section 2).

HostileServer listens on 127.0.0.1:<free port> and plays a Scenario to
every connection it accepts, one connection at a time, on one background
thread (concurrent=True: each connection on a thread of its own, for
servers that hold several connections of one client at once). It speaks
plaintext and switches to TLS with the harness's server certificate when
the scenario says so (implicit TLS, or after answering STARTTLS).
Everything the client sends is recorded per connection, split into the
bytes that arrived before TLS (`plain`) and after it (`tls`), so that a
test can prove no credential ever crossed the wire in clear.

A Scenario is data:

  greeting     bytes sent on connect (after the handshake for implicit TLS)
  replies      {key: reply} where key is a command name ("CAPABILITY"),
               optionally qualified by the phase: "CAPABILITY@plain" or
               "CAPABILITY@tls" win over the bare name. "AUTHENTICATE+" and
               "IDLE+" answer a continuation line (the SASL response, DONE).
               A reply is bytes with "{tag}" replaced by the command's tag,
               or a callable(conn, tag, line) returning bytes.
  starttls     True: after sending the reply to STARTTLS, do the TLS
               handshake (whatever the reply said).
  implicit_tls True: TLS handshake right after accept.
  close_after  command names after whose reply the connection is closed.

A reply whose last line is a continuation ("+ idling", after untagged data
or alone) leaves the command open: the next line is its continuation.

push(data) sends bytes unsolicited on the current connection, for instance
while the client idles; push(data, conn=i) on connection i, and close=True
closes that connection once the bytes are out (FIN, as after a BYE, or
with no bytes at all: a server that drops the session without a word).

Each reply is written with one sendall(), so bytes appended to a reply (for
instance after "OK Begin TLS") reach the client in the same TCP segment.
Commands without a reply in the scenario get the defaults of a minimal
server that lets the daemon log in, EXAMINE an empty INBOX and IDLE.
"""

import socket
import ssl
import threading
import time

import imapwatch_harness as h

DEFAULT_WAIT = 10.0
# recv() timeout: how often the server thread checks for stop().
POLL_INTERVAL = 0.1
# Bound on one reply's sendall() (floods are several MB).
SEND_TIMEOUT = 10.0
MAX_LINE = 1 << 20

CAPS_PLAIN = b"IMAP4rev1 STARTTLS LOGINDISABLED"
CAPS_TLS = b"IMAP4rev1 SASL-IR AUTH=PLAIN IDLE"

DEFAULT_REPLIES = {
    "CAPABILITY@plain": b"* CAPABILITY " + CAPS_PLAIN + b"\r\n{tag} OK done\r\n",
    "CAPABILITY": b"* CAPABILITY " + CAPS_TLS + b"\r\n{tag} OK done\r\n",
    "STARTTLS": b"{tag} OK Begin TLS negotiation now\r\n",
    "LOGIN": b"{tag} OK [CAPABILITY " + CAPS_TLS + b"] Logged in\r\n",
    "AUTHENTICATE": b"{tag} OK [CAPABILITY " + CAPS_TLS + b"] Logged in\r\n",
    "AUTHENTICATE+": b"{tag} OK [CAPABILITY " + CAPS_TLS + b"] Logged in\r\n",
    "ID": b"* ID NIL\r\n{tag} OK ID done\r\n",
    "ENABLE": b"{tag} OK\r\n",
    "EXAMINE": (b"* FLAGS (\\Seen)\r\n* 0 EXISTS\r\n* OK [UIDVALIDITY 42] v\r\n"
                b"* OK [UIDNEXT 1] n\r\n{tag} OK [READ-ONLY] Examined\r\n"),
    "UID": b"{tag} OK done\r\n",
    "NOOP": b"{tag} OK done\r\n",
    "IDLE": b"+ idling\r\n",
    "IDLE+": b"{tag} OK IDLE done\r\n",
    "LOGOUT": b"* BYE bye\r\n{tag} OK done\r\n",
}


class Scenario:
    def __init__(self, greeting=b"* OK [CAPABILITY " + CAPS_PLAIN + b"] hostile ready\r\n",
                 replies=None, starttls=True, implicit_tls=False, close_after=()):
        self.greeting = greeting
        replies = dict(replies or {})
        # A bare key given here replaces the default for both phases.
        self.replies = {k: v for k, v in DEFAULT_REPLIES.items()
                        if k.split("@")[0] not in replies or k in replies}
        self.replies.update(replies)
        self.starttls = starttls
        self.implicit_tls = implicit_tls
        self.close_after = frozenset(close_after)

    def reply_for(self, key, tls):
        phase = "tls" if tls else "plain"
        for k in (f"{key}@{phase}", key):
            if k in self.replies:
                return self.replies[k]
        return None


class Conn:
    """One accepted connection: what the client sent, and in which phase."""

    def __init__(self, index):
        self.index = index
        self.outbox = []          # (bytes, close) for push(conn=index)
        self.plain = bytearray()  # received before TLS
        self.tls = bytearray()    # received after the handshake
        self.commands = []        # (tls, tag, NAME, line)
        self.tls_active = False
        self.handshake_error = None
        self.closed = False

    def names(self, tls=None):
        return [c[2] for c in self.commands if tls is None or c[0] == tls]


class HostileServer(h.Fixture):
    """`with HostileServer(scenario) as srv:`; srv.port; srv.conns."""

    def __init__(self, scenario, concurrent=False):
        self.scenario = scenario
        self.concurrent = concurrent
        self.conns = []
        self.errors = []
        self._outbox = []  # (bytes, close) for push(), sent by the server thread
        self._workers = []  # the connections' threads (concurrent)
        self._cond = threading.Condition()
        self._stop = False
        self._listener = None
        self._thread = None
        self.port = None
        c = h.certs()
        self._ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._ctx.load_cert_chain(c.server_cert, c.server_key)

    def start(self):
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(8)
        self._listener.settimeout(POLL_INTERVAL)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._run, name="hostile-imap", daemon=True)
        self._thread.start()

    def stop(self):
        with self._cond:
            self._stop = True
        # The accepting thread first: no worker starts after it ends.
        self._join(self._thread)
        for t in self._workers:
            self._join(t)
        self._thread = None
        self._workers = []
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    @staticmethod
    def _join(thread):
        if thread is not None:
            thread.join(timeout=10)
            if thread.is_alive():
                raise AssertionError("hostile server thread did not stop")

    def push(self, data, conn=None, close=False):
        """Sends data unsolicited on the current connection (for instance
        during IDLE), or on connection number conn, with one sendall(),
        from the thread serving it; close=True then closes the connection.
        Returns at once; synchronise on the client's reaction."""
        with self._cond:
            if conn is None:
                self._outbox.append((data, close))
            else:
                self.conns[conn].outbox.append((data, close))

    # -- observation

    def plaintext_received(self):
        with self._cond:
            return b"".join(bytes(c.plain) for c in self.conns)

    def tls_received(self):
        with self._cond:
            return b"".join(bytes(c.tls) for c in self.conns)

    def wait_until(self, predicate, timeout=DEFAULT_WAIT, what="condition"):
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"hostile server: timeout waiting for {what}\n"
                                         f"{self.describe()}")
                self._cond.wait(remaining)

    def wait_for_command(self, name, timeout=DEFAULT_WAIT):
        self.wait_until(lambda s: any(name in c.names() for c in s.conns), timeout,
                        f"command {name}")

    def describe(self):
        lines = [f"hostile server on port {self.port}: {len(self.conns)} connection(s)"]
        for c in self.conns:
            lines.append(f"  [{c.index}] tls={c.tls_active} closed={c.closed} "
                         f"handshake_error={c.handshake_error}")
            lines += [f"      {'TLS' if t else 'PLAIN'} {line!r}"
                      for t, _, _, line in c.commands]
        lines += [f"  error: {e}" for e in self.errors]
        return "\n".join(lines)

    # -- server thread

    def _stopping(self):
        with self._cond:
            return self._stop

    def _run(self):
        while not self._stopping():
            try:
                sock, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError as e:
                self.errors.append(f"accept: {e}")
                return
            with self._cond:
                conn = Conn(len(self.conns))
                self.conns.append(conn)
                self._cond.notify_all()
            if self.concurrent:
                worker = threading.Thread(target=self._serve_conn, args=(conn, sock),
                                          name=f"hostile-imap-{conn.index}", daemon=True)
                self._workers.append(worker)
                worker.start()
            else:
                self._serve_conn(conn, sock)

    def _serve_conn(self, conn, sock):
        socks = [sock]
        try:
            self._serve(conn, socks)
        except (OSError, ssl.SSLError, ValueError) as e:
            # The client hanging up mid-script is an expected outcome.
            with self._cond:
                self.errors.append(f"conn {conn.index}: {e!r}")
        finally:
            for s in reversed(socks):
                try:
                    s.close()
                except OSError:
                    pass
            with self._cond:
                conn.closed = True
                self._cond.notify_all()

    def _handshake(self, conn, sock):
        sock.settimeout(SEND_TIMEOUT)
        try:
            tls = self._ctx.wrap_socket(sock, server_side=True)
        except (OSError, ssl.SSLError) as e:
            with self._cond:
                conn.handshake_error = repr(e)
                self._cond.notify_all()
            return None
        with self._cond:
            conn.tls_active = True
            self._cond.notify_all()
        return tls

    def _send(self, sock, data):
        sock.settimeout(SEND_TIMEOUT)
        sock.sendall(data)

    def _recv(self, conn, sock):
        """Bytes from the client, b"" on EOF, None when stopping. Sends what
        push() queued meanwhile."""
        while True:
            with self._cond:
                if self._stop:
                    return None
                if self.concurrent:
                    outbox = conn.outbox
                else:
                    outbox = self._outbox + conn.outbox
                    self._outbox = []
                conn.outbox = []
            for data, close in outbox:
                self._send(sock, data)
                if close:
                    # The next recv() sees the end: the scenario ends and
                    # the connection is closed.
                    sock.shutdown(socket.SHUT_RDWR)
            sock.settimeout(POLL_INTERVAL)
            try:
                data = sock.recv(65536)
            except socket.timeout:
                continue
            with self._cond:
                (conn.tls if conn.tls_active else conn.plain).extend(data)
                self._cond.notify_all()
            return data

    def _serve(self, conn, socks):
        """Plays the scenario; socks[-1] is the socket in use (the TLS one
        is appended after a handshake), all closed by the caller."""
        sc = self.scenario
        sock = socks[0]
        if sc.implicit_tls:
            sock = self._handshake(conn, sock)
            if sock is None:
                return
            socks.append(sock)
        self._send(sock, sc.greeting)
        buf = b""
        pending = None  # (NAME, tag) of a command that got a continuation
        while True:
            while b"\n" not in buf:
                if len(buf) > MAX_LINE:
                    return
                data = self._recv(conn, sock)
                if not data:
                    return
                buf += data
            line, buf = buf.split(b"\n", 1)
            line = line.rstrip(b"\r")
            parts = line.split(b" ", 2)
            if len(parts) >= 2 and pending is None:
                tag = parts[0]
                name = parts[1].decode("ascii", "replace").upper()
                key = name
            elif pending is not None:
                # A continuation line: SASL response, DONE, "*" (cancel).
                name, tag = pending
                key = name + "+"
            else:
                return
            with self._cond:
                conn.commands.append((conn.tls_active, tag.decode("ascii", "replace"),
                                      key, line.decode("utf-8", "replace")))
                self._cond.notify_all()
            reply = sc.reply_for(key, conn.tls_active)
            if reply is None:
                reply = b"{tag} BAD unknown command\r\n"
            if callable(reply):
                reply = reply(conn, tag, line)
            reply = reply.replace(b"{tag}", tag)
            self._send(sock, reply)
            # A reply that starts with "+", or ends with a "+" line, leaves
            # the command open.
            last = reply.rstrip(b"\r\n").rsplit(b"\n", 1)[-1]
            pending = (name, tag) if reply.startswith(b"+") or last.startswith(b"+") else None
            if key == "STARTTLS" and sc.starttls and not conn.tls_active:
                # Bytes the client sent after STARTTLS and before its
                # ClientHello stay in conn.plain (the test checks them).
                tls = self._handshake(conn, sock)
                if tls is None:
                    return
                socks.append(tls)
                sock = tls
                buf = b""
            if key in sc.close_after:
                return
