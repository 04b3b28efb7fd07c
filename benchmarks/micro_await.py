"""Per-operation cost of the awaitables against their asyncio peers (issue 15), beside
``per_op.py`` (which measures a TCP send + receive pair that never waits, in every model).

``python benchmarks/micro_await.py MODEL [N] [p]``: N operations on loopback, one loop, one
thread; ``p`` prints a cProfile of the run instead (calls per operation are the robust signal
on a shared machine).  Models:

- ``await_udp``: ``await ReceiveFromAsync`` of a datagram that is there (sent by a plain
  socket); ``sock_udp``: the same with ``loop.sock_recvfrom_into``.
- ``await_wait``: a TCP ping-pong whose every receive waits (the would-block path);
  ``sock_wait``: the same with ``sock_recv_into``/``sock_sendall``.
"""

from __future__ import annotations

import asyncio
import cProfile
import pstats
import socket as pysock
import sys
import time
from collections.abc import Callable, Coroutine
from typing import Any

from workloads_asyncio import _tcp_pair as plain_pair  # the rows' own socket shapes
from workloads_dotnet_sockets import _pair as tcp_pair

from dotnet_sockets import AddressFamily, IPAddress, IPEndPoint, ProtocolType, Socket, SocketFlags, SocketType

NONE = SocketFlags.None_
N = int(sys.argv[2]) if len(sys.argv) > 2 else 30000
SIZE = 1024


def udp_pair() -> tuple[pysock.socket, Socket]:
    r = Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)
    r.Bind(IPEndPoint(IPAddress.Loopback, 0))
    r.ReceiveBufferSize = 1 << 21
    w = pysock.socket(pysock.AF_INET, pysock.SOCK_DGRAM)
    w.connect(r._sock.getsockname())
    return w, r


def _udp_batches(w: pysock.socket) -> Callable[[], None]:
    data = bytes(64)

    def feed() -> None:
        for _ in range(100):
            w.send(data)

    return feed


async def m_await_udp() -> float:
    w, r = udp_pair()
    feed, rb, ep = _udp_batches(w), bytearray(2048), IPEndPoint(IPAddress.Any, 0)
    receive_from = r.ReceiveFromAsync
    spent = 0.0
    for _ in range(N // 100):
        feed()
        t0 = time.perf_counter()
        for _ in range(100):
            await receive_from(rb, NONE, ep)
        spent += time.perf_counter() - t0
    return spent * N / (N // 100 * 100)


async def m_sock_udp() -> float:
    w, r = udp_pair()
    feed, rb = _udp_batches(w), bytearray(2048)
    loop, raw = asyncio.get_running_loop(), r._sock
    spent = 0.0
    for _ in range(N // 100):
        feed()
        t0 = time.perf_counter()
        for _ in range(100):
            await loop.sock_recvfrom_into(raw, rb)
        spent += time.perf_counter() - t0
    return spent * N / (N // 100 * 100)


async def m_await_wait() -> float:
    c, s = tcp_pair()
    buf, rb = bytearray(SIZE), bytearray(SIZE)

    async def echo() -> None:
        for _ in range(N):
            k = await s.ReceiveAsync(rb, NONE)
            await s.SendAsync(memoryview(rb)[:k], NONE)

    task = asyncio.ensure_future(echo())
    back = bytearray(SIZE)
    t0 = time.perf_counter()
    for _ in range(N):
        await c.SendAsync(buf, NONE)
        got = 0
        while got < SIZE:
            got += await c.ReceiveAsync(memoryview(back)[got:], NONE)
    await task
    return time.perf_counter() - t0


async def m_sock_wait() -> float:
    c, s = plain_pair()
    buf, rb = bytearray(SIZE), bytearray(SIZE)
    loop = asyncio.get_running_loop()

    async def echo() -> None:
        for _ in range(N):
            k = await loop.sock_recv_into(s, rb)
            await loop.sock_sendall(s, memoryview(rb)[:k])

    task = asyncio.ensure_future(echo())
    back = bytearray(SIZE)
    t0 = time.perf_counter()
    for _ in range(N):
        await loop.sock_sendall(c, buf)
        got = 0
        while got < SIZE:
            got += await loop.sock_recv_into(c, memoryview(back)[got:])
    await task
    return time.perf_counter() - t0


def main() -> None:
    name = sys.argv[1]
    model: Callable[[], Coroutine[Any, Any, float]] = globals()["m_" + name]
    if len(sys.argv) > 3:
        prof = cProfile.Profile()
        prof.enable()
        asyncio.run(model())
        prof.disable()
        stats = pstats.Stats(prof)
        calls = getattr(stats, "total_calls", 0)
        print(f"{name}: {calls / N:.1f} Python-visible calls per iteration")
        stats.sort_stats("tottime").print_stats(14)
        return
    dt = asyncio.run(model())
    print(f"{name}: {dt / N * 1e6:.2f} us per iteration")


if __name__ == "__main__":
    main()
