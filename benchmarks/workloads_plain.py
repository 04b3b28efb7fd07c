"""The plain side: CPython's own ``socket.socket``, written the same way as the dotnet_sockets side
(same threads, same blocking or non-blocking calls, same buffer sizes and counts).  What CPython
itself reaches on this machine for a row's shape: the ceiling a Python library can hope for
(issue 15: the sync ping-pong's p50 within 1.5x of this).

| row(s) | plain form |
|---|---|
| ``sendto_sync`` | a ``sendto`` loop |
| ``ping_sync`` | ``sendto`` + ``recvfrom_into``, an echo thread |
| ``bulk*``, ``stream*`` | a writer thread ``sendall``-ing the blocks, the main thread ``recv_into`` |
| ``echo_begin``, ``echo_await`` | one ``selectors`` loop thread serving every connection's both ends |
| ``accept_begin`` | a blocking ``accept`` loop on its own thread; the main thread connects |
| ``client_echo`` | a server thread echoing with ``recv_into`` + ``sendall``; a blocking client |

The Begin/End send rows (``sendto_sem``, ``sendto_unthrottled``, ``sendto_chains``) have no plain
form: a plain socket has no completion to run a callback on, so any loop of ``sendto`` is the
``sendto_sync`` row again (their ceiling), and N threads each looping ``sendto`` would be N threads
contending for one GIL, a shape none of the other sides has.
"""

from __future__ import annotations

import selectors
import socket
import struct
import threading

from _common import Params, latency, perf, rate, report


def sendto_sync(p: Params) -> None:
    n, size = p.i("count", 100_000), p.i("size", 32)
    buf = bytearray(size)
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    addr = sink.getsockname()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sendto = s.sendto
    t0 = perf()
    i = 0
    while i < n:
        sendto(buf, addr)
        if not i & 1023 and p.over():
            break
        i += 1
    rate(i, n, perf() - t0, "datagrams/s")


def ping_sync(p: Params) -> None:
    n, warmup, size = p.i("count", 5000), p.i("warmup", 500), p.i("size", 32)
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 0))
    sep = server.getsockname()

    def echo() -> None:
        b = bytearray(2048)
        try:
            while True:
                k, frm = server.recvfrom_into(b)
                server.sendto(memoryview(b)[:k], frm)
        except OSError:  # closed at the end
            pass

    threading.Thread(target=echo, daemon=True).start()
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c.bind(("127.0.0.1", 0))
    c.settimeout(2.0)
    buf = bytearray(size)
    rbuf = bytearray(2048)
    rtts: list[float] = []
    for _ in range(n + warmup):
        if p.over():
            break
        t = perf()
        c.sendto(buf, sep)
        c.recvfrom_into(rbuf)
        rtts.append((perf() - t) * 1e6)
    latency(rtts, warmup, n + warmup)


def _receive_timeout(s: socket.socket, seconds: int) -> None:
    """A bound on every blocking receive that keeps the socket blocking.

    ``settimeout`` would make CPython poll() before each receive (one more system call per
    operation than the blocking call this side stands for); SO_RCVTIMEO bounds the wait in the
    kernel and makes a receive that waited too long raise.
    """
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", seconds, 0))


def _tcp_pair() -> tuple[socket.socket, socket.socket]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    client.connect(listener.getsockname())
    server, _ = listener.accept()
    listener.close()
    return client, server


def stream_rw(p: Params) -> None:
    """The bulk and stream rows: a writer thread ``sendall``s the blocks, the main thread reads."""
    total, block = p.i("total", 64 << 20), p.i("block", 65536)
    c, s = _tcp_pair()
    _receive_timeout(s, 5)  # as the stream side's ReadTimeout: a lost writer cannot hang the reader

    def writer() -> None:
        view = memoryview(bytearray(block))
        sent = 0
        try:
            while sent < total and not p.over():
                k = min(block, total - sent)
                c.sendall(view[:k])
                sent += k
        except OSError:  # the reader gave up
            pass

    rbuf = bytearray(block)
    recv_into = s.recv_into
    got = 0
    t0 = perf()
    threading.Thread(target=writer, daemon=True).start()
    while got < total and not p.over():
        k = recv_into(rbuf, block)
        if k == 0:
            break
        got += k
    report(got / (perf() - t0), "bytes/s", got, got < total)


def echo_selectors(p: Params) -> None:
    """The 100-connection echo rows as one ``selectors`` loop on its own thread.

    Chosen over a thread per connection because it is the Begin/End chain's shape: no thread
    is held by a connection, each readiness runs the connection's next step (the server's
    receive + send back, the client's receive and its next request), and the main thread
    only waits for the count, as on the other sides.
    """
    conns, rounds, size = p.i("conns", 100), p.i("rounds", 50), p.i("size", 128)
    wanted = conns * rounds
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(conns)
    clients = []
    servers = []
    for _ in range(conns):
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.connect(listener.getsockname())
        a, _ = listener.accept()
        c.setblocking(False)
        a.setblocking(False)
        clients.append(c)
        servers.append(a)
    listener.close()
    sel = selectors.DefaultSelector()
    echoed = [0]
    done = threading.Event()
    req = bytes(size)

    def server_step(a: socket.socket, buf: bytearray) -> None:
        k = a.recv_into(buf, size)
        if k:
            a.sendall(memoryview(buf)[:k])  # 128 bytes into an empty socket buffer: never waits

    def client_step(c: socket.socket, view: memoryview, state: list[int]) -> None:
        k = c.recv_into(view[state[0] :])
        if k == 0:
            sel.unregister(c)
            return
        state[0] += k
        if state[0] < size:
            return
        echoed[0] += 1
        state[0] = 0
        state[1] += 1
        if echoed[0] >= wanted:
            done.set()
        elif state[1] < rounds:
            c.send(req)
        else:
            sel.unregister(c)

    for a in servers:
        b = bytearray(size)
        sel.register(a, selectors.EVENT_READ, lambda a=a, b=b: server_step(a, b))
    for c in clients:
        v = memoryview(bytearray(size))
        st = [0, 0]
        sel.register(c, selectors.EVENT_READ, lambda c=c, v=v, st=st: client_step(c, v, st))

    def loop() -> None:
        select = sel.select
        while not done.is_set() and not p.over():
            for key, _ in select(0.1):
                key.data()

    t0 = perf()
    for c in clients:
        c.send(req)
    threading.Thread(target=loop, daemon=True).start()
    done.wait(p.remaining())
    rate(echoed[0], wanted, perf() - t0, "round trips/s")


def accept_loop(p: Params) -> None:
    """A blocking ``accept`` loop on its own thread; the main thread connects, sends 1 B, closes."""
    n = p.i("count", 2000)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(512)
    addr = listener.getsockname()
    accepted = [0]
    done = threading.Event()

    def serve() -> None:
        accept = listener.accept
        try:
            while accepted[0] < n:
                a, _ = accept()
                a.close()
                accepted[0] += 1
        except OSError:  # closed at the end
            pass
        done.set()

    payload = b"x"
    t0 = perf()
    threading.Thread(target=serve, daemon=True).start()
    for _ in range(n):
        if p.over():
            break
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.connect(addr)
        c.send(payload)
        c.close()
    done.wait(p.remaining())
    rate(accepted[0], n, perf() - t0, "connections/s")


def client_echo(p: Params) -> None:
    """A server thread echoing with ``recv_into`` + ``sendall``; the client writes, reads back."""
    n, size = p.i("count", 5000), p.i("size", 128)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def server() -> None:
        try:
            a, _ = listener.accept()
            with a:
                b = bytearray(size)
                view = memoryview(b)
                while (k := a.recv_into(b, size)) > 0:
                    a.sendall(view[:k])
        except OSError:  # closed at the end
            pass

    threading.Thread(target=server, daemon=True).start()
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.connect(listener.getsockname())
    _receive_timeout(c, 5)
    req = bytes(size)
    resp = memoryview(bytearray(size))
    t0 = perf()
    i = 0
    while i < n and not p.over():
        c.sendall(req)
        got = 0
        while got < size:
            k = c.recv_into(resp[got:], size - got)
            if k == 0:
                break
            got += k
        i += 1
    rate(i, n, perf() - t0, "round trips/s")
