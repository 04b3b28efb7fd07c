"""Context switches per unit of work (round trip, accept, datagram) of run_all.py's rows, per side.

    python benchmarks/switches.py --rows ping_begin,echo_begin,accept_begin --sides compiled,pure,core
    python benchmarks/switches.py --src ../other-branch/src --rows accept_begin --rounds 5

Each run is the row's own workload in a fresh process (``run_all.command``), measured by the
kernel: the voluntary context switches (a thread's own waits: the hand-offs) and all of them
(with preemptions, mostly other processes' doing on a loaded machine) of every thread of the
child, from ``wait4``'s resource usage.  Start-up and tear-down are taken out by running each workload
twice, at the row's counts and at its ``--quick`` counts, and dividing the difference in
switches by the difference in units done.  Wall-clock figures on a shared machine move with
the load; the switch count mostly does not, which is why the engine's hand-offs are judged
on it.  Prints the minimum and the range over ``--rounds`` pairs of runs.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading

import run_all


def _one(side: str, workload: str, params: dict[str, float]) -> tuple[int, int, int] | None:
    """(units done, voluntary switches, all switches) of one fresh run, or None when the side cannot run."""
    cmd = run_all.command(side, workload, params)
    if isinstance(cmd, str):
        return None
    argv, env = cmd
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, start_new_session=True)
    limit = float(params.get("limit", 20)) + 30
    timer = threading.Timer(limit, lambda: os.killpg(proc.pid, signal.SIGKILL))
    timer.start()
    try:
        assert proc.stdout is not None
        out = proc.stdout.read().decode(errors="replace")
        _, _, usage = os.wait4(proc.pid, 0)
    finally:
        timer.cancel()
    proc.returncode = 0  # reaped above
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if not lines:
        return None
    done = int(json.loads(lines[-1]).get("done", 0))
    return done, usage.ru_nvcsw, usage.ru_nvcsw + usage.ru_nivcsw


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", default="ping_begin,echo_begin,accept_begin")
    ap.add_argument("--sides", default="compiled,pure,core")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--src", help="the src/ directory whose dotnet_sockets the dotnet_sockets sides run")
    args = ap.parse_args()
    if args.src:
        run_all.SRC = os.path.abspath(args.src)
    rows = {r.key: r for r in run_all.ROWS}
    for key in args.rows.split(","):
        row = rows[key]
        for side in args.sides.split(","):
            vol: list[float] = []
            per: list[float] = []
            for _ in range(args.rounds):
                full = _one(side, row.workload, row.params)
                small = _one(side, row.workload, row.quick)
                if full is None or small is None or full[0] <= small[0]:
                    continue
                units = full[0] - small[0]
                vol.append((full[1] - small[1]) / units)
                per.append((full[2] - small[2]) / units)
            if per:
                print(
                    f"{key:14} {side:9} voluntary {min(vol):6.2f} ({min(vol):.2f}-{max(vol):.2f}),"
                    f" all {min(per):6.2f} ({min(per):.2f}-{max(per):.2f}) switches per unit"
                )
            else:
                print(f"{key:14} {side:9} n/a")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
