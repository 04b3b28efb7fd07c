"""The send-throughput benchmark behind ``dotnet-sockets bench``.

32-byte UDP datagrams to a loopback receiver that never reads, several ways.
Each run of each way happens in a fresh Python process (``python -m
dotnet_sockets._bench --child WAY --count N`` prints one JSON line), so one
way's threads and caches never flatter or burden the next; the median of the
runs is reported with the min-max.  Compare ratios within one run, not
absolute figures across machines.

``benchmarks/run_all.py`` measures like-for-like rows beside .NET Core, Mono, asyncio and uvloop.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["WAYS", "BASELINE", "Result", "run_way", "measure", "format_table", "write_chart"]

PAYLOAD = b"x" * 32

WAYS: dict[str, str] = {
    "plain": "plain socket.sendto loop",
    "asyncio_transport": "asyncio DatagramTransport.sendto",
    "begin_64": "BeginSendTo + callback EndSendTo, 64 in flight",
    "begin_64_inline": "BeginSendTo, 64 in flight, inline completions",
    "begin_sem_64": "BeginSendTo, SemaphoreSlim(64) throttle as the .NET program",
    "sync_sendto": "synchronous Socket.SendTo",
}
BASELINE = "plain"


def _receiver() -> tuple[Any, tuple[str, int]]:
    import socket

    r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    r.bind(("127.0.0.1", 0))
    host, port = r.getsockname()
    return r, (host, port)


def run_plain(n: int) -> float:
    import socket

    r, addr = _receiver()
    with r, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        sendto = s.sendto
        t0 = time.perf_counter()
        for _ in range(n):
            sendto(PAYLOAD, addr)
        return n / (time.perf_counter() - t0)


def run_asyncio_transport(n: int) -> float:
    import asyncio
    import socket

    r, addr = _receiver()

    async def main() -> float:
        loop = asyncio.get_running_loop()
        transport: Any
        transport, _ = await loop.create_datagram_endpoint(asyncio.DatagramProtocol, family=socket.AF_INET)
        sendto = transport.sendto
        t0 = time.perf_counter()
        for _ in range(n):
            sendto(PAYLOAD, addr)
        while transport.get_write_buffer_size():
            await asyncio.sleep(0)
        rate = n / (time.perf_counter() - t0)
        transport.close()
        return rate

    with r:
        return asyncio.run(main())


def _rate_when_done(done: Any, n: int, t0: float, sock: Any, receiver: Any) -> float:
    """Datagrams per second once every callback ran (``done`` set), then close both sockets."""
    if not done.wait(300):
        raise SystemExit("the benchmark did not finish within 300 s")
    rate = n / (time.perf_counter() - t0)
    sock.Close()
    receiver.close()
    return rate


def run_begin(n: int, inflight: int = 64, inline: bool = False) -> float:
    """``inflight`` chains of BeginSendTo whose callback calls EndSendTo and starts the next send."""
    import itertools
    import threading

    from . import AddressFamily, IAsyncResult, IPAddress, IPEndPoint, ProtocolType, Socket, SocketType

    r, (host, port) = _receiver()
    ep = IPEndPoint(IPAddress.Parse(host), port)
    s = Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)
    s.InlineCompletions = inline
    inflight = min(inflight, n)
    issued = itertools.count(inflight)
    finished = itertools.count(1)
    done = threading.Event()
    begin = s.BeginSendTo
    end = s.EndSendTo
    size = len(PAYLOAD)

    def callback(ar: IAsyncResult) -> None:
        end(ar)
        if next(issued) < n:
            begin(PAYLOAD, 0, size, 0, ep, callback, None)
        elif next(finished) == inflight:
            done.set()

    t0 = time.perf_counter()
    for _ in range(inflight):
        begin(PAYLOAD, 0, size, 0, ep, callback, None)
    return _rate_when_done(done, n, t0, s, r)


def run_begin_64(n: int) -> float:
    return run_begin(n, 64, False)


def run_begin_64_inline(n: int) -> float:
    return run_begin(n, 64, True)


def run_begin_throttled(n: int, inflight: int = 64) -> float:
    """The .NET benchmark's shape (benchmarks/dotnet/SendToBench.cs): ``SemaphoreSlim(inflight)``,
    ``Wait()`` before each ``BeginSendTo``, ``Release()`` in the callback after ``EndSendTo``."""
    import itertools
    import threading

    from . import AddressFamily, IAsyncResult, IPAddress, IPEndPoint, ProtocolType, SemaphoreSlim, Socket, SocketType

    r, (host, port) = _receiver()
    ep = IPEndPoint(IPAddress.Parse(host), port)
    s = Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)
    slots = SemaphoreSlim(inflight)
    finished = itertools.count(1)
    done = threading.Event()
    begin = s.BeginSendTo
    end = s.EndSendTo
    release = slots.Release
    wait = slots.Wait
    size = len(PAYLOAD)

    def callback(ar: IAsyncResult) -> None:
        end(ar)
        release()
        if next(finished) == n:
            done.set()

    t0 = time.perf_counter()
    for _ in range(n):
        wait()
        begin(PAYLOAD, 0, size, 0, ep, callback, None)
    return _rate_when_done(done, n, t0, s, r)


def run_begin_sem_64(n: int) -> float:
    return run_begin_throttled(n, 64)


def run_sync_sendto(n: int) -> float:
    from . import AddressFamily, IPAddress, IPEndPoint, ProtocolType, Socket, SocketType

    r, (host, port) = _receiver()
    ep = IPEndPoint(IPAddress.Parse(host), port)
    with Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) as s:
        sendto = s.SendTo
        t0 = time.perf_counter()
        for _ in range(n):
            sendto(PAYLOAD, ep)
        rate = n / (time.perf_counter() - t0)
    r.close()
    return rate


_RUNNERS: dict[str, Callable[[int], float]] = {
    "plain": run_plain,
    "asyncio_transport": run_asyncio_transport,
    "begin_64": run_begin_64,
    "begin_64_inline": run_begin_64_inline,
    "begin_sem_64": run_begin_sem_64,
    "sync_sendto": run_sync_sendto,
}


def run_way(way: str, n: int, timeout: float = 300.0) -> float:
    """One run of ``way`` in a fresh process; datagrams per second."""
    env = dict(os.environ)
    # The child must import this very package, wherever it was imported from.
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = pkg_parent + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("DOTNET_SOCKETS_TRACE", None)
    out = subprocess.run(
        [sys.executable, "-m", "dotnet_sockets._bench", "--child", way, "--count", str(n)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"benchmark {way!r} failed: {out.stderr.strip()[-500:]}")
    rate: float = json.loads(out.stdout.strip().splitlines()[-1])["rate"]
    return rate


@dataclass
class Result:
    way: str
    label: str
    rates: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.rates) if self.rates else 0.0


def measure(
    ways: Sequence[str],
    n: int,
    runs: int,
    progress: Callable[[str, int, int, float | None], None] | None = None,
) -> list[Result]:
    """Run every way ``runs`` times (interleaved per round, so drift hits all ways alike)."""
    results = [Result(w, WAYS[w]) for w in ways]
    for i in range(runs):
        for res in results:
            if progress is not None:
                progress(res.way, i + 1, runs, None)
            rate = run_way(res.way, n)
            res.rates.append(rate)
            if progress is not None:
                progress(res.way, i + 1, runs, rate)
    return results


def format_table(results: Sequence[Result]) -> str:
    base = next((r.median for r in results if r.way == BASELINE and r.rates), 0.0)
    lines = ["| way | median datagrams/s | min-max | ratio to plain loop |", "|---|---|---|---|"]
    for r in results:
        if not r.rates:
            lines.append(f"| {r.label} | - | - | - |")
            continue
        ratio = f"{r.median / base:.2f}" if base else "-"
        lines.append(f"| {r.label} | {r.median:,.0f} | {min(r.rates):,.0f}-{max(r.rates):,.0f} | {ratio} |")
    return "\n".join(lines)


def write_chart(results: Sequence[Result], path: str, title: str) -> None:
    """A horizontal bar chart of the medians with min-max whiskers (needs matplotlib)."""
    import importlib

    # Imported by name: matplotlib is optional and has no type information here.
    matplotlib: Any = importlib.import_module("matplotlib")
    matplotlib.use("Agg")
    plt: Any = importlib.import_module("matplotlib.pyplot")

    shown = [r for r in results if r.rates]
    labels = [r.label for r in shown]
    med = [r.median for r in shown]
    lo = [r.median - min(r.rates) for r in shown]
    hi = [max(r.rates) - r.median for r in shown]
    fig, ax = plt.subplots(figsize=(9, 0.6 * len(shown) + 1.5))
    ax.barh(labels, med, xerr=[lo, hi], color="#4b7bb5", capsize=3)
    ax.invert_yaxis()
    ax.set_xlabel("datagrams per second (median, min-max)")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m dotnet_sockets._bench")
    p.add_argument("--child", required=True, choices=sorted(_RUNNERS))
    p.add_argument("--count", type=int, default=200_000)
    args = p.parse_args(argv)
    rate = _RUNNERS[args.child](args.count)
    print(json.dumps({"rate": rate}))
    return 0


if __name__ == "__main__":
    sys.exit(_main())
