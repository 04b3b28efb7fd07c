"""What the benchmark scripts share: run one way in a fresh process, several times."""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Callable

SRC = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))


def measure_in_children(script: str, way: str, n: int, runs: int) -> list[float]:
    """Datagrams/s of ``script --child way --count n``, one fresh process per run."""
    env = dict(os.environ)
    env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
    rates = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, os.path.abspath(script), "--child", way, "--count", str(n)],
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
            check=True,
        ).stdout
        rates.append(json.loads(out.strip().splitlines()[-1])["rate"])
    return rates


def run_table(
    doc: str,
    ways: dict[str, str],
    child: Callable[[str, int], None],
    measure: Callable[[str, int, int], list[float]],
) -> dict[str, list[float]]:
    """The command line both send benchmarks share: run the ways, print the table, return the rates."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--count", type=int, default=200_000, help="datagrams per run")
    p.add_argument("--runs", type=int, default=5, help="fresh processes per way (median reported)")
    p.add_argument("--only", help="comma-separated way keys to run")
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args.child, args.count)
        return {}
    if args.only:
        keep = set(args.only.split(","))
        ways = {k: v for k, v in ways.items() if v in keep}
    results = {label: measure(way, args.count, args.runs) for label, way in ways.items()}
    base = statistics.median(results.get("plain socket.sendto loop") or [0.0]) or None
    print(f"# {platform.node()} {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"# {args.count} datagrams x {args.runs} runs, 32-byte payload, loopback receiver that never reads")
    print("| way | median datagrams/s | min-max | ratio to plain loop |")
    print("|---|---|---|---|")
    for label, rates in results.items():
        if not rates:
            print(f"| {label} | skipped: runtime or mcs not installed | - | - |")
            continue
        med = statistics.median(rates)
        ratio = f"{med / base:.2f}" if base else "-"
        print(f"| {label} | {med:,.0f} | {min(rates):,.0f}-{max(rates):,.0f} | {ratio} |")
    return results
