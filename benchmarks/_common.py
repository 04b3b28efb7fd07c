"""What every benchmark child shares: its parameters, its time limit and how it reports.

A child is one fresh process running one workload of one implementation
(``python benchmarks/child.py IMPL WORKLOAD key=value ...``).  It prints one JSON line
last: ``{"value", "unit", "done", "partial", ...}``, the same line the C# side
(``dotnet/Bench.cs``) prints.  Every loop is bounded in count and in time: past
``limit`` seconds the child reports what it did, marked partial, and exits at once
(``os._exit``), so a stuck operation or thread can never keep it alive.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

perf = time.perf_counter


class Params:
    """``key=value`` arguments, read as numbers with the workload's defaults."""

    def __init__(self, argv: list[str]) -> None:
        self.values = dict(a.split("=", 1) for a in argv)
        self.limit = float(self.values.get("limit", "30"))
        self.start = perf()

    def i(self, key: str, default: int) -> int:
        return int(float(self.values.get(key, default)))

    def f(self, key: str, default: float) -> float:
        return float(self.values.get(key, default))

    def elapsed(self) -> float:
        return perf() - self.start

    def over(self) -> bool:
        return perf() - self.start > self.limit

    def remaining(self) -> float:
        return max(0.001, self.limit - (perf() - self.start))


def report(value: float, unit: str, done: int, partial: bool, **extra: Any) -> None:
    """Print the result line and end the process now (pending work is abandoned)."""
    line = {"value": value, "unit": unit, "done": done, "partial": partial, **extra}
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def rate(done: int, wanted: int, seconds: float, unit: str, **extra: Any) -> None:
    report(done / seconds if seconds > 0 else 0.0, unit, done, done < wanted, **extra)


def latency(rtts_us: list[float], warmup: int, wanted: int) -> None:
    """p50 (the value) and p99 of the round trips after the warm-up."""
    kept = sorted(rtts_us[min(warmup, len(rtts_us)) :])
    if not kept:
        report(0.0, "us p50", 0, True)
    p50 = kept[len(kept) // 2]
    p99 = kept[min(len(kept) - 1, int(len(kept) * 0.99))]
    report(p50, "us p50", len(kept), len(rtts_us) < wanted, p99=p99)


def announce_port(port: int) -> None:
    """Receive workloads: tell run_all.py where its feeder process should send."""
    sys.stdout.write(f"PORT {port}\n")
    sys.stdout.flush()


class Interlocked:
    """C#'s ``Interlocked.Increment`` on one counter: callbacks may run on several threads."""

    def __init__(self, value: int = 0) -> None:
        import threading

        self.value = value
        self._lock = threading.Lock()

    def increment(self) -> int:
        with self._lock:
            self.value += 1
            return self.value


class Arrivals:
    """Counts datagrams delivered; measured from ``warmup`` to ``warmup + seconds`` after the first."""

    def __init__(self) -> None:
        import threading

        self.count = 0
        self.first = threading.Event()

    def arrived(self) -> None:
        # One receive loop per workload increments this, so no lock is needed.
        self.count += 1
        if self.count == 1:
            self.first.set()

    def measure(self, p: Params) -> None:
        if not self.first.wait(p.remaining()):
            report(0.0, "datagrams/s", 0, True)
        time.sleep(p.f("warmup", 0.3))
        c0, t0 = self.count, perf()
        time.sleep(p.f("seconds", 1.5))
        c1 = self.count
        report((c1 - c0) / (perf() - t0), "datagrams/s", c1 - c0, False)
