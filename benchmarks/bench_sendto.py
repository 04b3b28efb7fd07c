"""Throughput of 32-byte UDP datagrams to a loopback receiver that never reads.

Each way of sending runs in a fresh Python process, several times, and the
median datagrams/s is reported beside the min-max, all ways in one run so the
ratios compare like with like.  Run by hand:

    python benchmarks/bench_sendto.py                 # table on stdout
    python benchmarks/bench_sendto.py --write-results # also benchmarks/RESULTS.md section

Python only: the comparisons with .NET Core and Mono, each written the same way on both
sides, are in ``run_all.py`` (rows ``sendto_*``).  No test runs this; no test asserts a time.
"""

from __future__ import annotations

import json
import os
import sys

PAYLOAD = b"x" * 32

WAYS = {
    "plain socket.sendto loop": "plain",
    "asyncio DatagramTransport.sendto": "asyncio_transport",
    "BeginSendTo + callback EndSendTo, 64 in flight": "begin_64",
    "BeginSendTo, 64 in flight, inline completions": "begin_64_inline",
    "BeginSendTo, SemaphoreSlim(64) throttle as the .NET program": "begin_sem_64",
    "synchronous Socket.SendTo": "sync_sendto",
}


# The Python ways live in the package (dotnet_sockets/_bench.py), so that the installed
# `dotnet-sockets bench` runs the same code; imported late, in the child that runs them.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _harness import measure_in_children, run_table  # noqa: E402


def run_plain(n: int) -> float:
    from dotnet_sockets import _bench

    return _bench.run_plain(n)


def run_asyncio_transport(n: int) -> float:
    from dotnet_sockets import _bench

    return _bench.run_asyncio_transport(n)


def run_begin_64(n: int) -> float:
    from dotnet_sockets import _bench

    return _bench.run_begin(n, 64, False)


def run_begin_64_inline(n: int) -> float:
    from dotnet_sockets import _bench

    return _bench.run_begin(n, 64, True)


def run_begin_sem_64(n: int) -> float:
    from dotnet_sockets import _bench

    return _bench.run_begin_sem_64(n)


def run_sync_sendto(n: int) -> float:
    from dotnet_sockets import _bench

    return _bench.run_sync_sendto(n)


def _child(way: str, n: int) -> None:
    rate = globals()[f"run_{way}"](n)
    print(json.dumps({"rate": rate}))


def measure(way: str, n: int, runs: int) -> list[float]:
    return measure_in_children(__file__, way, n, runs)


def main() -> None:
    run_table(__doc__ or "", WAYS, _child, measure)


if __name__ == "__main__":
    main()
