"""Every performance target of the project in one run, each ratio beside its target.

    python benchmarks/run_all.py                     # 5 runs per row, table on stdout
    python benchmarks/run_all.py --write-results     # also rewrites the generated part of RESULTS.md

.NET rows need ``mcs``/``mono`` (Debian ``mono-mcs``, ``mono-runtime``) and the .NET Core 3.1
host (PyPI ``dotnetcore2``, or ``DOTNET_HOST=/path/to/dotnet``); without them those rows are
skipped with a note.  Run by hand: no test runs this and no test asserts a time.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import os
import platform
import statistics
import sys
from collections.abc import Callable
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

bench_sendto: Any = importlib.import_module("bench_sendto")
bench_engine: Any = importlib.import_module("bench_engine")
try:
    bench_models: Any = importlib.import_module("bench_models")
except ImportError:  # the asyncio / SocketAsyncEventArgs rows live there
    bench_models = None

MARK_BEGIN = "<!-- run_all.py: generated from here -->"
MARK_END = "<!-- run_all.py: generated up to here -->"


def _median(rates: list[float]) -> float | None:
    return statistics.median(rates) if rates else None


class Runner:
    def __init__(self, count: int, runs: int) -> None:
        self.count = count
        self.runs = runs
        self.cache: dict[str, list[float]] = {}
        self.extra: dict[str, dict[str, float]] = {}

    def sendto(self, way: str) -> float | None:
        key = "sendto:" + way
        if key not in self.cache:
            self.cache[key] = bench_sendto.measure(way, self.count, self.runs)
        return _median(self.cache[key])

    def engine(self, row: str, field: str = "rate") -> float | None:
        key = "engine:" + row
        if key not in self.cache:
            results = bench_engine.measure(row, self.runs)
            self.cache[key] = [r["rate"] for r in results]
            self.extra[key] = {k: statistics.median(r[k] for r in results) for k in results[0]}
        return self.extra[key].get(field)

    def models(self, way: str) -> float | None:
        if bench_models is None or not hasattr(bench_models, "measure"):
            return None
        key = "models:" + way
        if key not in self.cache:
            self.cache[key] = bench_models.measure(way, self.count, self.runs)
        return _median(self.cache[key])


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a and b else "n/a"


def rows(r: Runner) -> list[tuple[str, str, str, Callable[[], tuple[str, bool | None]]]]:
    """(workload, compared with, target, measure -> (figure text, met?))."""

    def ratio_row(a: Callable[[], float | None], b: Callable[[], float | None], target: float):
        def run() -> tuple[str, bool | None]:
            x, y = a(), b()
            if not x or not y:
                return ("skipped (not measured here)", None)
            return (f"{x / y:.2f}x ({x:,.0f} vs {y:,.0f})", x / y >= target)

        return run

    return [
        (
            "BeginSendTo, callback calls EndSendTo, 64 in flight, callback on a completion thread",
            ".NET Core 3.1 BeginSendTo",
            ">= 1.0x",
            ratio_row(lambda: r.sendto("begin_64"), lambda: r.sendto("dotnet:core:begin_64"), 1.0),
        ),
        (
            "the same (stretch)",
            "asyncio DatagramTransport.sendto",
            ">= 1.0x",
            ratio_row(lambda: r.sendto("begin_64"), lambda: r.sendto("asyncio_transport"), 1.0),
        ),
        (
            "the same with inline completions opted in",
            ".NET Core 3.1 BeginSendTo",
            ">= 1.3x",
            ratio_row(lambda: r.sendto("begin_64_inline"), lambda: r.sendto("dotnet:core:begin_64"), 1.3),
        ),
        (
            "inline completions (stretch)",
            "plain socket.sendto loop",
            ">= 1.0x",
            ratio_row(lambda: r.sendto("begin_64_inline"), lambda: r.sendto("plain"), 1.0),
        ),
        (
            "SendToAsync(e) with one reused SocketAsyncEventArgs",
            "asyncio DatagramTransport.sendto",
            ">= 1.0x",
            ratio_row(lambda: r.models("saea_sendto"), lambda: r.sendto("asyncio_transport"), 1.0),
        ),
        (
            "await SendToAsync(...) in asyncio",
            "asyncio loop.sock_sendto awaited",
            ">= 1.0x",
            ratio_row(lambda: r.models("await_sendto"), lambda: r.models("sock_sendto"), 1.0),
        ),
        (
            "synchronous SendTo",
            "plain socket.sendto",
            ">= 0.9x",
            ratio_row(lambda: r.sendto("sync_sendto"), lambda: r.sendto("plain"), 0.9),
        ),
        (
            "BeginReceiveFrom server, callback re-arms",
            "asyncio DatagramProtocol.datagram_received",
            ">= 1.0x delivered",
            ratio_row(lambda: r.engine("recv_apm"), lambda: r.engine("recv_asyncio"), 1.0),
        ),
        (
            "TCP BeginSend/BeginReceive echo, 64 KiB blocks",
            "asyncio streams echo",
            ">= 1.0x bytes/s",
            ratio_row(lambda: r.engine("echo_apm"), lambda: r.engine("echo_asyncio"), 1.0),
        ),
        (
            "latency BeginSendTo -> callback start at 1,000 sends/s",
            "",
            "p50 < 50 µs, p99 < 300 µs",
            lambda: (lambda p50, p99: (f"p50 {p50:.0f} µs, p99 {p99:.0f} µs", p50 < 50 and p99 < 300))(
                r.engine("latency", "p50_us") or 0.0, r.engine("latency", "p99_us") or 0.0
            ),
        ),
        (
            "10,000 sockets each with a pending BeginReceiveFrom",
            "",
            "<= 4 threads, < 2 KiB per pending operation",
            lambda: (lambda th, b: (f"{th:.0f} threads, {b:,.0f} bytes per operation", th <= 4 and b < 2048))(
                r.engine("many", "threads") or 0.0, r.engine("many", "bytes_per_op") or 0.0
            ),
        ),
    ]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--count", type=int, default=200_000, help="datagrams per send run")
    p.add_argument("--runs", type=int, default=5, help="fresh processes per row (medians reported)")
    p.add_argument("--write-results", action="store_true", help="rewrite the generated part of RESULTS.md")
    args = p.parse_args()
    r = Runner(args.count, args.runs)
    from dotnet_sockets import _accel  # the children inherit the same environment, so the same path

    send_path = "compiled send path" if _accel.ACCELERATED else "pure-Python path"
    env = "" if _accel.ACCELERATED else "DOTNET_SOCKETS_PURE=1 "
    lines = [
        f"Generated {datetime.date.today()} by `{env}python benchmarks/run_all.py --runs {args.runs}` on "
        f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, {send_path}; medians of {args.runs} fresh processes each.",
        "",
        "| workload | compared with | target | measured | met |",
        "|---|---|---|---|---|",
    ]
    for workload, against, target, run in rows(r):
        figure, met = run()
        verdict = "n/a" if met is None else ("yes" if met else "no")
        lines.append(f"| {workload} | {against} | {target} | {figure} | {verdict} |")
        print(lines[-1], flush=True)
    lines += ["", "Raw medians (datagrams/s, bytes/s or as named):", ""]
    for key, rates in r.cache.items():
        med = _median(rates)
        lines.append(
            f"- `{key}`: " + (f"{med:,.0f} (min {min(rates):,.0f}, max {max(rates):,.0f})" if med else "skipped")
        )
    text = "\n".join(lines)
    print()
    print(text)
    if args.write_results:
        path = os.path.join(HERE, "RESULTS.md")
        old = open(path, encoding="utf-8").read() if os.path.exists(path) else "# Benchmark results\n"
        tag = f"## All targets (Python {platform.python_version()}, {send_path})"
        section = f"{MARK_BEGIN}\n{tag}\n\n{text}\n{MARK_END}\n"
        start = old.find(MARK_BEGIN + "\n" + tag)
        if start >= 0:
            end = old.index(MARK_END, start) + len(MARK_END) + 1
            new = old[:start] + section + old[end:]
        else:
            new = old.rstrip("\n") + "\n\n" + section
        with open(path, "w", encoding="utf-8") as f:
            f.write(new)


if __name__ == "__main__":
    main()
