# SPDX-License-Identifier: MIT
"""The proxy thread of FaultProxy (fault_proxy.py): the selectors loop that
owns every socket, accepting and connecting upstream, forwarding both ways
with delays and backpressure, closing with FIN or RST, and the commands as
the thread applies them. FaultProxy gets these methods from ProxyLoop.
"""

import collections
import errno
import os
import selectors
import socket
import struct
import time

# Per-direction queue limit: above it the proxy stops reading the source
# until the destination has taken some (TCP backpressure).
QUEUE_LIMIT = 1 << 20
READ_SIZE = 1 << 16


class _Flow:
    """One direction: bytes read from the source socket, queued with a due
    time (delay), written to the destination socket in order."""

    def __init__(self):
        self.queue = collections.deque()  # [due, bytes], bytes None = EOF
        self.queued = 0
        self.src_eof = False    # source said EOF or failed; no more reads
        self.pending = None     # "fin"/"rst" seen while blackholed
        self.dst_shut = False   # FIN (or RST) passed on to the destination
        self.blocked = False    # destination returned EAGAIN

    def push(self, due, data):
        if self.queue:
            # Order is kept: a chunk never leaves before the one ahead of it.
            due = max(due, self.queue[-1][0])
        self.queue.append([due, data])
        if data:
            self.queued += len(data)

    def clear(self):
        """Drop queued data; returns the number of bytes dropped."""
        dropped = self.queued
        if any(data is None for _, data in self.queue):
            self.pending = self.pending or "fin"
        self.queue.clear()
        self.queued = 0
        self.blocked = False
        return dropped


class _Conn:
    def __init__(self, index, client, blackholed, delay):
        self.index = index
        self.client = client
        self.upstream = None
        self.connecting = True
        self.blackholed = blackholed
        self.delay = delay
        self.up = _Flow()      # client -> upstream
        self.down = _Flow()    # upstream -> client
        self.masks = {}        # side -> registered selector events
        self.first_eof = None  # side that sent EOF first
        self.armed = False     # blackhole at the next client data


def _stats(refused=False):
    return {
        "open": not refused,
        "refused": refused,
        "upstream_connected": False,
        "read_up": 0,         # read from the client
        "read_down": 0,       # read from the upstream
        "bytes_up": 0,        # written to the upstream
        "bytes_down": 0,      # written to the client, injected bytes included
        "dropped_up": 0,      # read from the client and discarded
        "dropped_down": 0,    # read from the upstream and discarded
        "injected": 0,
        "client_eof": False,
        "upstream_eof": False,
        "closed_by": None,    # "client", "upstream", "proxy", "stop"
        "error": None,
    }


class ProxyLoop:
    """The proxy thread's methods of FaultProxy; they use the state that
    FaultProxy.__init__ sets up and run on the proxy thread only."""

    # -- counters, updated from the proxy thread

    def _update(self, conn, **fields):
        with self._cond:
            self._stats[conn.index].update(fields)
            self._cond.notify_all()

    def _add(self, conn, key, n):
        with self._cond:
            self._stats[conn.index][key] += n
            self._cond.notify_all()

    # -- proxy thread

    def _run(self):
        try:
            while not self._stopping:
                timeout = self._next_timeout()
                for key, mask in self._sel.select(timeout):
                    self._dispatch(key, mask)
                self._run_commands()
                now = time.monotonic()
                for conn in list(self._conns.values()):
                    self._flush(conn, now)
                for conn in list(self._conns.values()):
                    self._register(conn)
        except BaseException as e:
            with self._cond:
                self._error = e
                self._cond.notify_all()
        finally:
            while self._commands:
                fut, _, _ = self._commands.popleft()
                if fut.set_running_or_notify_cancel():
                    fut.set_exception(RuntimeError("fault proxy stopped"))

    def _next_timeout(self):
        """Seconds until the first queued chunk is due, or None."""
        due = None
        for conn in self._conns.values():
            for flow, ready in ((conn.up, not conn.connecting), (conn.down, True)):
                if flow.queue and ready and not flow.blocked:
                    if due is None or flow.queue[0][0] < due:
                        due = flow.queue[0][0]
        if due is None:
            return None
        return max(0.0, due - time.monotonic())

    def _dispatch(self, key, mask):
        if key.data is None:
            while True:
                try:
                    if not self._wake_r.recv(4096):
                        break
                except BlockingIOError:
                    break
            return
        if key.data == "listen":
            self._accept()
            return
        conn, side = key.data
        if conn.index not in self._conns or self._socket(conn, side) is None:
            return  # closed earlier in this round
        if side == "upstream" and conn.connecting:
            self._connected(conn)
            return
        if mask & selectors.EVENT_WRITE:
            flow = conn.up if side == "upstream" else conn.down
            flow.blocked = False
        if mask & selectors.EVENT_READ:
            self._read(conn, side)

    def _listen(self, port):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.listen_host, port))
            sock.listen(64)
            sock.setblocking(False)
        except BaseException:
            sock.close()
            raise
        self.port = sock.getsockname()[1]
        self._listener = sock
        self._sel.register(sock, selectors.EVENT_READ, "listen")

    def _unlisten(self):
        if self._listener is not None:
            self._sel.unregister(self._listener)
            self._listener.close()
            self._listener = None

    def _accept(self):
        while self._listener is not None:
            try:
                client, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return  # e.g. ECONNABORTED: the client gave up already
            client.setblocking(False)
            with self._cond:
                index = len(self._stats)
                self._stats.append(_stats(refused=self._refuse == "close"))
                self._cond.notify_all()
            if self._refuse == "close":
                _fin_close(client)
                continue
            conn = _Conn(index, client, self._default_blackhole,
                         self._default_delay)
            self._conns[index] = conn
            self._connect_upstream(conn)

    def _connect_upstream(self, conn):
        try:
            family, type_, proto, _, addr = socket.getaddrinfo(
                self.target[0], self.target[1], type=socket.SOCK_STREAM)[0]
            sock = socket.socket(family, type_, proto)
        except OSError as e:
            self._update(conn, error=f"upstream: {e}")
            self._finish(conn, "proxy")
            return
        sock.setblocking(False)
        conn.upstream = sock
        err = sock.connect_ex(addr)
        if err not in (0, errno.EINPROGRESS):
            self._upstream_failed(conn, OSError(err, os.strerror(err)))

    def _connected(self, conn):
        err = conn.upstream.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            self._upstream_failed(conn, OSError(err, os.strerror(err)))
            return
        conn.connecting = False
        self._update(conn, upstream_connected=True)

    def _upstream_failed(self, conn, err):
        """The server is not there: the client gets FIN, as from a server
        that accepted and went away."""
        self._update(conn, error=f"upstream connect: {err}")
        self._finish(conn, "upstream")

    def _read(self, conn, side):
        src = conn.client if side == "client" else conn.upstream
        flow = conn.up if side == "client" else conn.down
        try:
            data = src.recv(READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            self._side_failed(conn, side, e)
            return
        if not data:
            flow.src_eof = True
            conn.first_eof = conn.first_eof or side
            self._update(conn, **{f"{side}_eof": True})
            if conn.blackholed:
                flow.pending = flow.pending or "fin"
            else:
                flow.push(time.monotonic() + conn.delay, None)
            return
        up = side == "client"
        if up and conn.armed:
            conn.armed = False
            self._blackhole_conn(conn, True)
        with self._cond:
            stats = self._stats[conn.index]
            stats["read_up" if up else "read_down"] += len(data)
            if conn.blackholed:
                stats["dropped_up" if up else "dropped_down"] += len(data)
            self._cond.notify_all()
        if not conn.blackholed:
            flow.push(time.monotonic() + conn.delay, data)

    def _side_failed(self, conn, side, err):
        """A socket error (reset, broken pipe) on one side. The other side
        gets a reset too, unless the connection is blackholed: then it sees
        nothing until unblackhole()."""
        self._update(conn, error=f"{side}: {err}")
        self._drop_socket(conn, side)
        flow = conn.up if side == "client" else conn.down
        other = "upstream" if side == "client" else "client"
        flow.src_eof = True
        if conn.blackholed:
            flow.pending = "rst"
            if self._socket(conn, other) is None:
                self._finish(conn, side)
            return
        self._reset_side(conn, other)
        self._finish(conn, side)

    def _flush(self, conn, now):
        """Write what is due, in order, until EAGAIN."""
        for flow, side in ((conn.up, "upstream"), (conn.down, "client")):
            if conn.index not in self._conns:
                return
            if side == "upstream" and conn.connecting:
                continue
            dst = self._socket(conn, side)
            while flow.queue and flow.queue[0][0] <= now and not flow.blocked:
                data = flow.queue[0][1]
                if dst is None or flow.dst_shut:
                    flow.clear()
                    break
                if data is None:
                    flow.queue.popleft()
                    flow.dst_shut = True
                    try:
                        dst.shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
                    continue
                try:
                    n = dst.send(data)
                except (BlockingIOError, InterruptedError):
                    flow.blocked = True
                    break
                except OSError as e:
                    self._side_failed(conn, side, e)
                    return
                flow.queued -= n
                if n < len(data):
                    flow.queue[0][1] = data[n:]
                else:
                    flow.queue.popleft()
                self._add(conn, "bytes_up" if side == "upstream" else "bytes_down", n)
        if conn.up.dst_shut and conn.down.dst_shut:
            # Both directions ended with FIN: the connection is over.
            self._finish(conn, conn.first_eof)

    def _register(self, conn):
        if conn.index not in self._conns:
            return
        for side, src_flow, dst_flow in (("client", conn.up, conn.down),
                                         ("upstream", conn.down, conn.up)):
            sock = self._socket(conn, side)
            if sock is None:
                continue
            if side == "upstream" and conn.connecting:
                mask = selectors.EVENT_WRITE
            else:
                mask = 0
                if not src_flow.src_eof and src_flow.queued < QUEUE_LIMIT:
                    mask |= selectors.EVENT_READ
                if dst_flow.blocked:
                    mask |= selectors.EVENT_WRITE
            old = conn.masks.get(side, 0)
            if mask == old:
                continue
            if old == 0:
                self._sel.register(sock, mask, (conn, side))
            elif mask == 0:
                self._sel.unregister(sock)
            else:
                self._sel.modify(sock, mask, (conn, side))
            conn.masks[side] = mask

    def _socket(self, conn, side):
        return conn.client if side == "client" else conn.upstream

    def _drop_socket(self, conn, side, how=None):
        """Unregister and close one side: how = None (plain close), "fin"
        (FIN, unread data discarded) or "rst" (SO_LINGER 0)."""
        sock = self._socket(conn, side)
        if sock is None:
            return
        if conn.masks.pop(side, 0):
            self._sel.unregister(sock)
        if side == "client":
            conn.client = None
        else:
            conn.upstream = None
        if how == "fin":
            _fin_close(sock)
        elif how == "rst":
            _rst_close(sock)
        else:
            sock.close()

    def _reset_side(self, conn, side):
        self._drop_socket(conn, side, "rst")

    def _finish(self, conn, closed_by):
        """Close what is left of conn and mark it closed."""
        self._drop_socket(conn, "client", "fin")
        self._drop_socket(conn, "upstream", "fin")
        self._conns.pop(conn.index, None)
        with self._cond:
            s = self._stats[conn.index]
            if s["open"]:
                s["open"] = False
                s["closed_by"] = closed_by
            self._cond.notify_all()

    def _close_all(self, closed_by):
        for conn in list(self._conns.values()):
            self._finish(conn, closed_by)
        self._unlisten()

    # -- commands, run on the proxy thread

    def _for_each(self, index, action):
        if index is None:
            targets = list(self._conns.values())
        else:
            with self._cond:
                if not 0 <= index < len(self._stats):
                    raise IndexError(f"no connection {index}")
            conn = self._conns.get(index)
            targets = [conn] if conn else []
        for conn in targets:
            if conn.index in self._conns:
                action(conn)

    def _do_close(self, conn):
        self._finish(conn, "proxy")

    def _do_reset(self, conn):
        self._reset_side(conn, "client")
        self._finish(conn, "proxy")

    def _do_inject(self, conn, data):
        if conn.client is None or conn.down.dst_shut:
            return
        conn.down.push(time.monotonic(), data)
        self._add(conn, "injected", len(data))
        self._flush(conn, time.monotonic())

    def _set_blackhole(self, index, on):
        if index is None:
            self._default_blackhole = on
        self._for_each(index, lambda c: self._blackhole_conn(c, on))

    def _blackhole_conn(self, conn, on):
        conn.blackholed = on
        if on:
            self._add(conn, "dropped_up", conn.up.clear())
            self._add(conn, "dropped_down", conn.down.clear())
            return
        now = time.monotonic()
        for flow, dst_side in ((conn.up, "upstream"), (conn.down, "client")):
            pending, flow.pending = flow.pending, None
            if pending == "fin":
                flow.push(now + conn.delay, None)
            elif pending == "rst":
                self._reset_side(conn, dst_side)
                self._finish(conn, "upstream" if dst_side == "client" else "client")
                return

    def _set_delay(self, index, seconds):
        if index is None:
            self._default_delay = seconds
        self._for_each(index, lambda c: setattr(c, "delay", seconds))

    def _set_refuse(self, mode):
        if mode == "down":
            self._unlisten()
        elif self._listener is None:
            self._listen(self.port)
        self._refuse = mode

    def _set_target(self, target):
        self.target = target

    def _stop_in_loop(self):
        self._stopping = True
        self._close_all("stop")


def _fin_close(sock):
    """Close with FIN: data the peer sent and we did not read would make
    the kernel send RST instead, so discard it first."""
    try:
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    try:
        while sock.recv(READ_SIZE):
            pass
    except OSError:
        pass
    sock.close()


def _rst_close(sock):
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                        struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()
