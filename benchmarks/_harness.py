"""What the benchmark scripts share: run one way in a fresh process, several times."""

from __future__ import annotations

import json
import os
import subprocess
import sys

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
