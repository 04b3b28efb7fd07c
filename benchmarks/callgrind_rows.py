"""Instructions per operation of a row's workload, under callgrind: a figure load does not move.

Wall-clock figures swing 2x on a shared machine; the instructions a run executes do not (to
about 0.1%).  Each row's dotnet_sockets workload (``workloads_dotnet_sockets.py``, through
``child.py``) runs twice under ``valgrind --tool=callgrind``, at a small and at a larger count;
the difference of the two totals over the difference of the counts is the steady state's cost
per operation, without the start-up both runs share (imports, the first connections).

    python benchmarks/callgrind_rows.py echo_begin bulk1k_begin
    DOTNET_SOCKETS_PURE=1 python benchmarks/callgrind_rows.py echo_begin

Each count runs ``--repeat`` times (the median is kept): the threads' interleaving moves
the echo shape's figure by a few per cent from run to run.  ``PYTHONPATH=other/src`` measures
another checkout (a "before").  Slow (valgrind runs the interpreter some 50x slower): the counts are a few thousand
operations.  A figure, never a test.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

# row: (workload, fixed arguments, the count's key, small count, large count, operations per count)
SHAPES: dict[str, tuple[str, list[str], str, int, int, int]] = {
    # 20 connections: 'rounds' round trips each, so an operation is a round trip.
    "echo_begin": ("echo_begin", ["conns=20", "size=128"], "rounds", 25, 125, 20),
    # 1 KiB blocks: 'total' bytes, an operation is a block.
    "bulk1k_begin": ("bulk_begin", ["block=1024"], "total", 1000 * 1024, 5000 * 1024, 1),
    "sendto_chains": ("sendto_chains", ["size=32", "chains=64"], "count", 1000, 5000, 1),
    "wake_begin": ("wake_begin", ["size=32", "warmup=0"], "count", 200, 1000, 1),
    # A round trip: the client's SendTo + ReceiveFrom, the echo thread's ReceiveFrom + SendTo.
    "ping_sync": ("ping_sync", ["size=32", "warmup=0"], "count", 200, 1000, 1),
    # The awaitables: one event loop does both ends.
    "echo_await": ("echo_await", ["conns=20", "size=128"], "rounds", 25, 125, 20),
    "bulk1k_await": ("bulk_await", ["block=1024"], "total", 1000 * 1024, 5000 * 1024, 1),
    # An operation is a connection: Socket(), Connect, Send 1 B, Close; the server's EndAccept, Close, BeginAccept.
    "accept_begin": ("accept_begin", [], "count", 200, 1000, 1),
    # An operation is a round trip of 128 bytes (TcpClient, NetworkStream Write then Read).
    "client_echo": ("client_echo", ["size=128"], "count", 500, 2500, 1),
    # 1 KiB blocks through NetworkStream.Write (writer thread) and Read (main): an operation is a block.
    "stream1k": ("stream_rw", ["block=1024"], "total", 1000 * 1024, 5000 * 1024, 1),
    # An operation is a datagram: Wait on a 64-slot SemaphoreSlim, BeginSendTo; the callback EndSendTo, Release.
    "sendto_sem": ("sendto_sem", ["size=32", "slots=64"], "count", 1000, 5000, 1),
}


def instructions(row: str, count: int) -> int:
    workload, fixed, key, *_ = SHAPES[row]
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "callgrind.out")
        cmd = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={out}",
            sys.executable,
            os.path.join(HERE, "child.py"),
            "dotnet_sockets",
            workload,
            *fixed,
            f"{key}={count}",
            "limit=600",
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
        if '"partial": false' not in proc.stdout:
            raise SystemExit(f"{row} {key}={count}: the workload did not finish: {proc.stdout}{proc.stderr[-2000:]}")
        with open(out) as f:
            m = re.search(r"^totals:\s+(\d+)", f.read(), re.M)
        if m is None:
            raise SystemExit(f"{row}: no totals in the callgrind output")
        return int(m.group(1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("rows", nargs="+", choices=sorted(SHAPES))
    ap.add_argument("--repeat", type=int, default=3, help="runs per count; the median is taken (default 3)")
    args = ap.parse_args()
    path = "pure" if os.environ.get("DOTNET_SOCKETS_PURE", "") not in ("", "0") else "compiled"
    for row in args.rows:
        _, _, key, small, large, per = SHAPES[row]
        a = statistics.median(instructions(row, small) for _ in range(args.repeat))
        b = statistics.median(instructions(row, large) for _ in range(args.repeat))
        ops = (large - small) // (1024 if key == "total" else 1) * per
        print(
            f"{row} ({path}): {(b - a) / ops:,.0f} instructions per operation"
            f" (medians of {args.repeat}: {a:,.0f} at {key}={small}, {b:,.0f} at {large})"
        )


if __name__ == "__main__":
    main()
