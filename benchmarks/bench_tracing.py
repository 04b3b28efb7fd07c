"""What tracing costs the BeginSendTo path when it is off (and, for scale, when it is on).

Run by hand (no test runs this, no test asserts a time):

    python benchmarks/bench_tracing.py                # 7 runs per mode, 200,000 datagrams each
    python benchmarks/bench_tracing.py --runs 3 --count 100000

Modes, each run in a fresh process, interleaved round by round:

- ``no-logging baseline``: the library's logging guard (``log.isEnabledFor``) replaced by the
  cheapest possible C callable that answers False, as if the code had no tracing at all;
- ``tracing off``: the library as shipped, logger ``dotnet_sockets`` at its default level;
- ``tracing on, records dropped``: DEBUG with a handler that discards every record (what
  formatting the trace costs, for scale).

The workload is the callback benchmark of ``dotnet_sockets._bench`` (64 chains of BeginSendTo
whose callback calls EndSendTo and starts the next send; 32-byte datagrams to a loopback
receiver that never reads).  A second table measures, per call and in isolation, the three
things every BeginSendTo now does besides sending: the logging guard, the telemetry increment
and the audit event (with no audit hook installed), as a share of one datagram's time.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import subprocess
import sys
import timeit

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", "src"))

MODES = {
    "baseline": "no-logging baseline",
    "off": "tracing off (as shipped)",
    "on": "tracing on, records dropped",
}


def _child(mode: str, n: int) -> None:
    from dotnet_sockets import _bench
    from dotnet_sockets import socket as socket_module

    if mode == "baseline":
        # A C-level callable returning False for any level: no logging machinery at all.
        socket_module._isEnabledFor = frozenset().__contains__  # type: ignore[assignment]
    elif mode == "on":

        class Drop(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                pass

        lg = logging.getLogger("dotnet_sockets")
        lg.addHandler(Drop())
        lg.setLevel(logging.DEBUG)
    rate = _bench.run_begin(n, 64, False)
    print(json.dumps({"rate": rate}))


def _run(mode: str, n: int) -> float:
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("DOTNET_SOCKETS_TRACE", None)
    out = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--child", mode, "--count", str(n)],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        check=True,
    ).stdout
    rate: float = json.loads(out.strip().splitlines()[-1])["rate"]
    return rate


def _per_call_costs() -> dict[str, float]:
    """Nanoseconds per call of what BeginSendTo+EndSendTo add, measured in isolation."""
    sys.path.insert(0, SRC)
    from dotnet_sockets import socket as socket_module
    from dotnet_sockets.telemetry import DATAGRAM, tls

    g = {
        "guard": socket_module._isEnabledFor,
        "DEBUG": logging.DEBUG,
        "tls": tls,
        "D": DATAGRAM,
        "audit": sys.audit,
        "s": object(),
        "ep": object(),
        "size": 32,
    }
    number = 1_000_000

    def ns(stmt: str) -> float:
        return min(timeit.repeat(stmt, globals=g, number=number, repeat=7)) / number * 1e9

    empty = ns("pass")
    return {
        "2 logging guards (BeginSendTo, EndSendTo)": 2 * (ns("guard(DEBUG)") - empty),
        "telemetry increment": ns("tls.c.sent += size + D") - empty,
        "audit event, no hook installed": ns(
            "try:\n    audit('dotnet_sockets.Socket.BeginSendTo', s, ep)\nexcept PermissionError:\n    pass"
        )
        - empty,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--count", type=int, default=200_000, help="datagrams per run")
    p.add_argument("--runs", type=int, default=7, help="fresh processes per mode (median reported)")
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        _child(args.child, args.count)
        return
    rates: dict[str, list[float]] = {m: [] for m in MODES}
    for i in range(args.runs):
        for mode in MODES:
            rates[mode].append(_run(mode, args.count))
            print(f"run {i + 1}/{args.runs} {mode}: {rates[mode][-1]:,.0f}/s", file=sys.stderr)
    base = statistics.median(rates["baseline"])
    print(f"# {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"# {args.count:,} datagrams x {args.runs} runs, BeginSendTo + callback EndSendTo, 64 in flight")
    print("| mode | median datagrams/s | min-max | cost against the baseline |")
    print("|---|---|---|---|")
    for mode, label in MODES.items():
        med = statistics.median(rates[mode])
        cost = f"{(1 - med / base) * 100:+.1f}%" if mode != "baseline" else "-"
        print(f"| {label} | {med:,.0f} | {min(rates[mode]):,.0f}-{max(rates[mode]):,.0f} | {cost} |")
    per_datagram_ns = 1e9 / statistics.median(rates["off"])
    print()
    print(f"# one datagram takes {per_datagram_ns:,.0f} ns (tracing off); per call, in isolation:")
    print("| what | ns per datagram | share of a datagram |")
    print("|---|---|---|")
    for what, cost_ns in _per_call_costs().items():
        print(f"| {what} | {cost_ns:.0f} | {cost_ns / per_datagram_ns * 100:.1f}% |")


if __name__ == "__main__":
    main()
