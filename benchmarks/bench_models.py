"""The event-based and asyncio models beside what asyncio and the APM offer for the same work.

32-byte UDP datagrams to a loopback receiver that never reads:

* ``await sock.SendToAsync(buf, flags, ep)`` beside asyncio's own ``await loop.sock_sendto``
  and ``DatagramTransport.sendto``;
* ``sock.SendToAsync(e)`` with one reused ``SocketAsyncEventArgs`` (the next send is issued at
  once when the call returns False, from the ``Completed`` handler when it returns True) beside
  ``BeginSendTo`` with a callback that calls ``EndSendTo`` and begins the next, 64 in flight.

Each way runs in a fresh Python process, several times; the median datagrams/s is reported
beside the min-max, all ways in one run so the ratios compare like with like::

    python benchmarks/bench_models.py                 # table on stdout
    python benchmarks/bench_models.py --only await_sendto,sock_sendto --runs 3

``benchmarks/run_all.py`` uses :func:`measure` for its rows.  No test runs this; no test
asserts a time.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _harness import measure_in_children, run_table  # noqa: E402

PAYLOAD = b"x" * 32

WAYS = {
    "plain socket.sendto loop": "plain",
    "asyncio DatagramTransport.sendto": "asyncio_transport",
    "asyncio await loop.sock_sendto": "sock_sendto",
    "await Socket.SendToAsync(buf, flags, ep)": "await_sendto",
    "SendToAsync(e), one reused SocketAsyncEventArgs": "saea_sendto",
    "BeginSendTo + callback EndSendTo, 64 in flight": "begin_64",
}


def _receiver() -> tuple[Any, tuple[str, int]]:
    import socket

    r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    r.bind(("127.0.0.1", 0))
    return r, r.getsockname()


def _dotnet_socket() -> Any:
    from dotnet_sockets import AddressFamily, ProtocolType, Socket, SocketType

    return Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)


def _endpoint(addr: tuple[str, int]) -> Any:
    from dotnet_sockets import IPAddress, IPEndPoint

    return IPEndPoint(IPAddress.Parse(addr[0]), addr[1])


def run_plain(n: int) -> float:
    from dotnet_sockets import _bench  # the same code as bench_sendto.py and the CLI's bench

    return _bench.run_plain(n)


def run_asyncio_transport(n: int) -> float:
    from dotnet_sockets import _bench  # the same code as bench_sendto.py and the CLI's bench

    return _bench.run_asyncio_transport(n)


def run_sock_sendto(n: int) -> float:
    import asyncio
    import socket

    r, addr = _receiver()

    async def main() -> float:
        loop = asyncio.get_running_loop()
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setblocking(False)
        sock_sendto = loop.sock_sendto
        t0 = time.perf_counter()
        for _ in range(n):
            await sock_sendto(s, PAYLOAD, addr)
        return n / (time.perf_counter() - t0)

    return asyncio.run(main())


def run_await_sendto(n: int) -> float:
    import asyncio

    r, addr = _receiver()
    ep = _endpoint(addr)

    async def main() -> float:
        s = _dotnet_socket()
        send_to = s.SendToAsync
        t0 = time.perf_counter()
        for _ in range(n):
            await send_to(PAYLOAD, 0, ep)
        rate = n / (time.perf_counter() - t0)
        s.Close()
        return rate

    return asyncio.run(main())


def run_saea_sendto(n: int) -> float:
    import threading

    from dotnet_sockets import SocketAsyncEventArgs, SocketError

    r, addr = _receiver()
    s = _dotnet_socket()
    e = SocketAsyncEventArgs()
    e.SetBuffer(PAYLOAD, 0, len(PAYLOAD))
    e.RemoteEndPoint = _endpoint(addr)
    done = threading.Event()
    sent = [0]
    send_to = s.SendToAsync
    success = SocketError.Success

    def pump() -> None:
        # Issue sends while they complete at once; a pending one resumes from Completed.
        i = sent[0]
        while i < n:
            i += 1
            if send_to(e):
                sent[0] = i
                return
            if e.SocketError != success:
                raise SystemExit(f"send failed: {e.SocketError!r}")
        sent[0] = i
        done.set()

    def completed(sender: Any, args: Any) -> None:
        pump()

    e.Completed += completed
    t0 = time.perf_counter()
    pump()
    if not done.wait(120):
        raise SystemExit("benchmark did not finish")
    rate = n / (time.perf_counter() - t0)
    s.Close()
    return rate


def run_begin_64(n: int) -> float:
    from dotnet_sockets import _bench  # the same code as bench_sendto.py and the CLI's bench

    return _bench.run_begin(n, 64, False)


def _child(way: str, n: int) -> None:
    rate = globals()[f"run_{way}"](n)
    print(json.dumps({"rate": rate}))


def measure(way: str, n: int, runs: int) -> list[float]:
    """Datagrams/s of ``way`` (a key of :data:`WAYS`' values), one fresh process per run."""
    return measure_in_children(__file__, way, n, runs)


def main() -> None:
    results = run_table(__doc__ or "", WAYS, _child, measure)
    pairs = [
        ("await Socket.SendToAsync(buf, flags, ep)", "asyncio await loop.sock_sendto"),
        ("await Socket.SendToAsync(buf, flags, ep)", "asyncio DatagramTransport.sendto"),
        ("SendToAsync(e), one reused SocketAsyncEventArgs", "BeginSendTo + callback EndSendTo, 64 in flight"),
        ("SendToAsync(e), one reused SocketAsyncEventArgs", "asyncio DatagramTransport.sendto"),
    ]
    for a, b in pairs:
        if a in results and b in results:
            print(f"# {a} / {b}: {statistics.median(results[a]) / statistics.median(results[b]):.2f}")


if __name__ == "__main__":
    main()
