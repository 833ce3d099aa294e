# SPDX-License-Identifier: MIT
"""A fault-injecting TCP proxy for the integration tests (standard library only).

FaultProxy listens on 127.0.0.1:<free port> and forwards bytes both ways
between every accepted client and one upstream (target) address. It never
looks at the bytes: TLS passes through untouched and the client verifies the
certificate of the real server behind it.

One background thread runs a selectors loop that owns every socket. Commands
from the test thread (close, reset, blackhole, delay, inject_to_client,
refuse, ...) are queued to that thread and return once they have been
applied. Counters live under one Condition; the wait_for_* helpers are
bounded waits on it. Nothing sleeps.

Connections are numbered 0, 1, 2, ... in accept order; every command takes
conn=None (all current connections) or one index. A command for a connection
that has closed does nothing; an index never accepted raises IndexError.

The proxy thread's side (the loop, the sockets, the commands as it applies
them) is in fault_proxy_loop.py.
"""

import collections
import concurrent.futures
import selectors
import socket
import threading
import time

from fault_proxy_loop import ProxyLoop
from harness_base import Fixture

# Bound on how long a command waits for the proxy thread to apply it.
COMMAND_TIMEOUT = 5.0
DEFAULT_WAIT = 10.0

REFUSE_MODES = ("close", "down")


class FaultProxy(ProxyLoop, Fixture):
    """Byte-level TCP proxy with faults: `with FaultProxy(host, port) as p:`.

    p.port is the listening port on 127.0.0.1 (valid after start()).
    Stateful conditions given without an index (blackhole(), delay()) also
    apply to connections accepted later, until they are lifted the same way.
    """

    def __init__(self, target_host, target_port, listen_host="127.0.0.1"):
        self.target = (target_host, target_port)
        self.listen_host = listen_host
        self.port = None
        self._listener = None
        self._sel = None
        self._wake_r = self._wake_w = None
        self._thread = None
        self._commands = collections.deque()
        self._cond = threading.Condition()
        self._conns = {}           # index -> _Conn, open ones (proxy thread)
        self._stats = []           # index -> dict (under _cond)
        self._refuse = None        # None, "close" or "down"
        self._default_blackhole = False
        self._default_delay = 0.0
        self._stopping = False
        self._error = None

    # -- lifecycle

    def start(self):
        self._sel = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._sel.register(self._wake_r, selectors.EVENT_READ, None)
        self._listen(0)
        self._thread = threading.Thread(target=self._run, name="fault-proxy",
                                        daemon=True)
        self._thread.start()

    def stop(self):
        """Close every socket and join the proxy thread. Raises the proxy
        thread's exception, if it died of one."""
        if self._thread is None:
            return
        if self._thread.is_alive():
            try:
                self._call(self._stop_in_loop)
            except RuntimeError:
                pass
            self._thread.join(COMMAND_TIMEOUT)
        alive = self._thread.is_alive()
        self._thread = None
        if not alive:
            # Nothing is left running: whatever the loop did not close, close.
            self._close_all("stop")
            self._sel.close()
            self._wake_r.close()
            self._wake_w.close()
        if alive:
            raise RuntimeError("fault proxy thread did not stop")
        if self._error is not None:
            raise RuntimeError("fault proxy thread failed") from self._error

    # -- commands (any thread)

    def close(self, conn=None):
        """Close both sides with FIN; queued, unsent data is dropped."""
        self._call(self._for_each, conn, self._do_close)

    def reset(self, conn=None):
        """RST to the client (SO_LINGER 0), FIN to the upstream."""
        self._call(self._for_each, conn, self._do_reset)

    def blackhole(self, conn=None):
        """Stop forwarding both ways, keep both sockets open: data read from
        either side (and data still queued) is discarded, EOF and errors are
        held back. Without an index, new connections start blackholed too."""
        self._call(self._set_blackhole, conn, True)

    def blackhole_on_client_data(self, conn=None):
        """Arm a blackhole for the next bytes the client sends: they are
        dropped, and from then on the connection is blackholed as by
        blackhole(conn). Under TLS the proxy cannot read the command, but
        on an idling connection the next client bytes are the DONE."""
        self._call(self._for_each, conn, lambda c: setattr(c, "armed", True))

    def unblackhole(self, conn=None):
        """Forward again; what was dropped stays lost. A held-back EOF or
        reset is passed on now."""
        self._call(self._set_blackhole, conn, False)

    def delay(self, seconds, conn=None):
        """Hold every chunk read from now on for `seconds` before writing it
        on (both directions; order is kept). Without an index, new
        connections get the delay too. delay(0) ends it."""
        if seconds < 0:
            raise ValueError("delay must be >= 0")
        self._call(self._set_delay, conn, float(seconds))

    def inject_to_client(self, data, conn=None):
        """Write raw bytes to the client, behind anything already queued to
        it, even while blackholed. When nothing is queued ahead (no delay),
        the bytes are in the kernel by the time this returns."""
        self._call(self._for_each, conn,
                   lambda c: self._do_inject(c, bytes(data)))

    def refuse(self, on=True, mode="close"):
        """on=True: "close" accepts new connections and closes them at once
        (counted, marked refused); "down" closes the listening socket, so
        connecting fails with ECONNREFUSED. on=False listens and forwards
        again on the same port. Current connections are left alone."""
        if mode not in REFUSE_MODES:
            raise ValueError(f"refuse mode must be one of {REFUSE_MODES}")
        self._call(self._set_refuse, mode if on else None)

    def set_target(self, host, port):
        """Forward connections accepted from now on to host:port."""
        self._call(self._set_target, (host, port))

    # -- observability (any thread)

    @property
    def refuse_mode(self):
        return self._refuse

    @property
    def connections_total(self):
        """Connections accepted so far, refused ones ("close" mode) included."""
        with self._cond:
            return len(self._stats)

    @property
    def connections_open(self):
        """Connections with at least one socket still open."""
        with self._cond:
            return sum(1 for s in self._stats if s["open"])

    def info(self, conn):
        """A copy of one connection's counters and state (see _stats)."""
        with self._cond:
            return dict(self._stats[conn])

    def bytes_up(self, conn=None):
        """Bytes written to the upstream (one connection, or all)."""
        return self._sum("bytes_up", conn)

    def bytes_down(self, conn=None):
        """Bytes written to the client (one connection, or all)."""
        return self._sum("bytes_down", conn)

    def wait_until(self, predicate, timeout=DEFAULT_WAIT, what=None):
        """Wait on the counters until predicate(self) is true; returns its
        value, AssertionError after timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = predicate(self)
                if value:
                    return value
                if self._error is not None:
                    raise AssertionError(
                        f"fault proxy failed while waiting for "
                        f"{what or predicate}: {self._error!r}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"fault proxy: no {what or predicate} within "
                        f"{timeout}s\n{self.describe()}")
                self._cond.wait(remaining)

    def wait_for_connections(self, n, timeout=DEFAULT_WAIT):
        """Wait until n connections have been accepted in total."""
        self.wait_until(lambda p: p.connections_total >= n, timeout,
                        f"{n} accepted connections")

    def wait_for_open(self, n, timeout=DEFAULT_WAIT):
        """Wait until exactly n connections are open."""
        self.wait_until(lambda p: p.connections_open == n, timeout,
                        f"{n} open connections")

    def wait_for_closed(self, conn, timeout=DEFAULT_WAIT):
        """Wait until connection conn has both sockets closed."""
        self.wait_until(lambda p: p.connections_total > conn
                        and not p.info(conn)["open"], timeout,
                        f"connection {conn} closed")

    def wait_for_bytes_up(self, conn, n, timeout=DEFAULT_WAIT):
        """Wait until n bytes have been written to conn's upstream."""
        self.wait_until(lambda p: p.connections_total > conn
                        and p.info(conn)["bytes_up"] >= n, timeout,
                        f"{n} bytes up on connection {conn}")

    def wait_for_bytes_down(self, conn, n, timeout=DEFAULT_WAIT):
        """Wait until n bytes have been written to conn's client."""
        self.wait_until(lambda p: p.connections_total > conn
                        and p.info(conn)["bytes_down"] >= n, timeout,
                        f"{n} bytes down on connection {conn}")

    def describe(self):
        with self._cond:
            lines = [f"fault proxy 127.0.0.1:{self.port} -> "
                     f"{self.target[0]}:{self.target[1]}, refuse={self._refuse}"]
            for i, s in enumerate(self._stats):
                lines.append(f"  [{i}] {s}")
            if self._error is not None:
                lines.append(f"  proxy thread failed: {self._error!r}")
            return "\n".join(lines)

    def _sum(self, key, conn):
        with self._cond:
            if conn is None:
                return sum(s[key] for s in self._stats)
            return self._stats[conn][key]

    # -- command plumbing

    def _call(self, fn, *args):
        """Run fn(*args) on the proxy thread; return its result."""
        if self._thread is None or not self._thread.is_alive():
            raise RuntimeError(f"fault proxy is not running ({self._error!r})")
        fut = concurrent.futures.Future()
        self._commands.append((fut, fn, args))
        self._wake()
        try:
            return fut.result(COMMAND_TIMEOUT)
        except concurrent.futures.TimeoutError:
            raise RuntimeError(
                f"fault proxy did not run {fn.__name__} within "
                f"{COMMAND_TIMEOUT}s ({self._error!r})") from None

    def _wake(self):
        try:
            self._wake_w.send(b"\0")
        except BlockingIOError:
            pass  # already full of wake-ups

    def _run_commands(self):
        while self._commands:
            fut, fn, args = self._commands.popleft()
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                fut.set_result(fn(*args))
            except BaseException as e:
                fut.set_exception(e)
