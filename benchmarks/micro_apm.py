"""Per-operation micro benchmarks of the Begin/End model (issue 15, item 5).

``python benchmarks/micro_apm.py MODEL [N] [p]``: MODEL is one of

- ``plain_tcp``: a non-blocking Python socket, 1 KiB send + recv_into (the floor);
- ``begin``: ``BeginSend``/``EndSend`` then ``BeginReceive``/``EndReceive`` of 1 KiB, one thread;
- ``echo``: one connection, a callback chain each side: the client sends 128 bytes, the
  server's receive callback echoes them, the client's receive callback sends the next;
- ``bulk``: ``BeginSend`` chain of 1 KiB blocks against a ``BeginReceive`` chain (the
  ``bulk1k_begin`` shape, one connection);
- ``accept``: a ``BeginAccept`` chain while this thread connects, sends a byte and closes;
- ``ping``: a UDP ping-pong of 32 bytes, ``BeginSendTo``/``BeginReceiveFrom`` chains;
- ``idle``: a report that finds every completion worker idle: this thread sends a datagram
  and waits for the ``BeginReceiveFrom`` callback (which re-arms the receive) to set an event.
  Per step the ideal is two thread wake-ups: the callback's and this thread's.

Prints microseconds per step and, for the callback models, the context switches of the
process per completion (``/proc/self/status`` voluntary + involuntary, all threads; on a
loaded machine the involuntary ones are mostly other processes' doing, so the voluntary ones,
the threads' own waits, are printed apart).  With
``p`` it prints a cProfile of the run instead (count the calls per operation).
"""

from __future__ import annotations

import os
import socket as pysock
import sys
import threading
import time
from typing import Any

from dotnet_sockets import (
    AddressFamily,
    IPAddress,
    IPEndPoint,
    ProtocolType,
    Socket,
    SocketFlags,
    SocketType,
)

NONE = SocketFlags.None_
BUF = bytearray(1024)
RB = bytearray(4096)


def pair() -> tuple[Socket, Socket]:
    lst = Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
    lst.Bind(IPEndPoint(IPAddress.Loopback, 0))
    lst.Listen(4)
    c = Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
    c.Connect(lst.LocalEndPoint)
    s = lst.Accept()
    lst.Close()
    return c, s


def switches(voluntary_only: bool = False) -> int:
    """Context switches of every thread of this process so far."""
    kinds: tuple[str, ...] = ("voluntary_ctxt_switches",)
    if not voluntary_only:
        kinds += ("nonvoluntary_ctxt_switches",)
    total = 0
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/status") as f:
                for line in f:
                    if line.startswith(kinds):
                        total += int(line.split()[1])
        except FileNotFoundError:
            pass  # a thread that ended meanwhile
    return total


_VOLUNTARY = [0]


def t_plain_tcp(n: int) -> tuple[float, int]:
    a = pysock.socket()
    a.bind(("127.0.0.1", 0))
    a.listen(4)
    c = pysock.create_connection(a.getsockname())
    s, _ = a.accept()
    c.setblocking(False)
    s.setblocking(False)
    mv = memoryview(BUF)
    t0 = time.perf_counter()
    for _ in range(n):
        c.send(mv[0:1024])
        s.recv_into(RB, 1024)
    return time.perf_counter() - t0, 0


def t_begin(n: int) -> tuple[float, int]:
    c, s = pair()
    t0 = time.perf_counter()
    for _ in range(n):
        ar = c.BeginSend(BUF, 0, 1024, NONE, None, None)
        c.EndSend(ar)
        ar = s.BeginReceive(RB, 0, 1024, NONE, None, None)
        s.EndReceive(ar)
    return time.perf_counter() - t0, 0


def _chains(n: int, start: Any) -> tuple[float, int]:
    """Run callback chains until ``n`` completions of the counted kind; bounded by 120 s."""
    done = threading.Event()
    count = [0]

    def counted() -> None:
        count[0] += 1
        if count[0] == n:
            done.set()

    sw0, v0 = switches(), switches(True)
    t0 = time.perf_counter()
    start(counted, done)
    if not done.wait(120):
        raise SystemExit(f"stalled after {count[0]} of {n}")
    dt = time.perf_counter() - t0
    _VOLUNTARY[0] = switches(True) - v0
    return dt, switches() - sw0


def t_echo(n: int) -> tuple[float, int]:
    c, s = pair()
    req = bytearray(128)
    sbuf = bytearray(128)
    cbuf = bytearray(128)

    def start(counted: Any, done: threading.Event) -> None:
        def s_recv(ar: Any) -> None:
            k = s.EndReceive(ar)
            if k:
                s.BeginSend(sbuf, 0, k, NONE, s_sent, None)

        def s_sent(ar: Any) -> None:
            s.EndSend(ar)
            s.BeginReceive(sbuf, 0, 128, NONE, s_recv, None)

        def c_sent(ar: Any) -> None:
            c.EndSend(ar)

        def c_recv(ar: Any) -> None:
            c.EndReceive(ar)  # 128 bytes on loopback arrive in one piece
            counted()
            if not done.is_set():
                c.BeginReceive(cbuf, 0, 128, NONE, c_recv, None)
                c.BeginSend(req, 0, 128, NONE, c_sent, None)

        s.BeginReceive(sbuf, 0, 128, NONE, s_recv, None)
        c.BeginReceive(cbuf, 0, 128, NONE, c_recv, None)
        c.BeginSend(req, 0, 128, NONE, c_sent, None)

    return _chains(n, start)


def t_bulk(n: int) -> tuple[float, int]:
    c, s = pair()

    def start(counted: Any, done: threading.Event) -> None:
        def sent(ar: Any) -> None:
            c.EndSend(ar)
            if not done.is_set():
                c.BeginSend(BUF, 0, 1024, NONE, sent, None)

        def received(ar: Any) -> None:
            k = s.EndReceive(ar)
            for _ in range(k // 1024):
                counted()
            if k and not done.is_set():
                s.BeginReceive(RB, 0, 1024, NONE, received, None)

        s.BeginReceive(RB, 0, 1024, NONE, received, None)
        c.BeginSend(BUF, 0, 1024, NONE, sent, None)

    return _chains(n, start)


def t_ping(n: int) -> tuple[float, int]:
    def udp() -> Socket:
        u = Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)
        u.Bind(IPEndPoint(IPAddress.Loopback, 0))
        return u

    a, b = udp(), udp()
    aep, bep = a.LocalEndPoint, b.LocalEndPoint
    abuf, bbuf = bytearray(64), bytearray(64)
    msg = bytes(32)
    any_ep = IPEndPoint(IPAddress.Any, 0)

    def start(counted: Any, done: threading.Event) -> None:
        def b_recv(ar: Any) -> None:
            k, _ = b.EndReceiveFrom(ar)
            b.BeginReceiveFrom(bbuf, 0, 64, NONE, any_ep, b_recv, None)
            b.EndSendTo(b.BeginSendTo(bbuf, 0, k, NONE, aep, None, None))

        def a_recv(ar: Any) -> None:
            a.EndReceiveFrom(ar)
            counted()
            if not done.is_set():
                a.BeginReceiveFrom(abuf, 0, 64, NONE, any_ep, a_recv, None)
                a.EndSendTo(a.BeginSendTo(msg, 0, 32, NONE, bep, None, None))

        b.BeginReceiveFrom(bbuf, 0, 64, NONE, any_ep, b_recv, None)
        a.BeginReceiveFrom(abuf, 0, 64, NONE, any_ep, a_recv, None)
        a.EndSendTo(a.BeginSendTo(msg, 0, 32, NONE, bep, None, None))

    return _chains(n, start)


def t_accept(n: int) -> tuple[float, int]:
    """The accept_begin shape: a BeginAccept chain; this thread connects, sends 1 byte, closes."""
    lst = Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
    lst.Bind(IPEndPoint(IPAddress.Loopback, 0))
    lst.Listen(512)
    ep = lst.LocalEndPoint
    one = bytearray(1)
    done = threading.Event()
    count = [0]

    def accepted(ar: Any) -> None:
        lst.EndAccept(ar).Close()
        count[0] += 1
        if count[0] == n:
            done.set()
        else:
            lst.BeginAccept(accepted, None)

    sw0, v0 = switches(), switches(True)
    t0 = time.perf_counter()
    lst.BeginAccept(accepted, None)
    for _ in range(n):
        c = Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
        c.Connect(ep)
        c.Send(one, 0, 1, NONE)
        c.Close()
    if not done.wait(120):
        raise SystemExit(f"stalled after {count[0]} of {n}")
    dt = time.perf_counter() - t0
    _VOLUNTARY[0] = switches(True) - v0
    lst.Close()
    return dt, switches() - sw0


def t_idle(n: int) -> tuple[float, int]:
    """One report at a time, each finding every completion worker idle (the engine's wake-up path)."""
    server = Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)
    server.Bind(IPEndPoint(IPAddress.Loopback, 0))
    sep = server.LocalEndPoint
    client = Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)
    any_ep = IPEndPoint(IPAddress.Any, 0)
    sbuf = bytearray(64)
    msg = bytearray(32)
    got = threading.Event()

    def on_recv(ar: Any) -> None:
        server.EndReceiveFrom(ar)
        server.BeginReceiveFrom(sbuf, 0, 64, NONE, any_ep, on_recv, None)
        got.set()

    server.BeginReceiveFrom(sbuf, 0, 64, NONE, any_ep, on_recv, None)
    for _ in range(20):  # warm-up: the threads exist and have settled
        got.clear()
        client.SendTo(msg, 0, 32, NONE, sep)
        got.wait(10)
    time.sleep(0.05)
    sw0, v0 = switches(), switches(True)
    t0 = time.perf_counter()
    for i in range(n):
        got.clear()
        client.SendTo(msg, 0, 32, NONE, sep)
        if not got.wait(10):
            raise SystemExit(f"stalled after {i} of {n}")
    dt = time.perf_counter() - t0
    _VOLUNTARY[0] = switches(True) - v0
    return dt, switches() - sw0


def main() -> None:
    name = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    f = globals()["t_" + name]
    if len(sys.argv) > 3:
        import cProfile
        import pstats

        out = "/tmp/micro_apm.prof"
        cProfile.runctx("f(n)", globals(), {"f": f, "n": n}, out)
        pstats.Stats(out).sort_stats("tottime").print_stats(22)
        return
    dt, sw = f(n)
    line = f"{name}: {dt / n * 1e6:.2f} us per step"
    if sw:
        line += f", {sw / n:.3f} context switches per step ({_VOLUNTARY[0] / n:.3f} voluntary)"
    print(line)


if __name__ == "__main__":
    main()
