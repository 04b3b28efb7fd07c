"""A plain blocking Python ``socket``, written the same way as the dotnet_sockets side: the floor
of what CPython can do for the sync rows (issue 15: ping-pong p50 within 1.5x of this)."""

from __future__ import annotations

import socket
import threading

from _common import Params, latency, perf, rate


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
