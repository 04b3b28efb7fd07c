"""Throughput of 32-byte UDP datagrams to a loopback receiver that never reads.

Each way of sending runs in a fresh Python process, several times, and the
median datagrams/s is reported beside the min-max, all ways in one run so the
ratios compare like with like.  Run by hand:

    python benchmarks/bench_sendto.py                 # table on stdout
    python benchmarks/bench_sendto.py --write-results # also benchmarks/RESULTS.md section

No test runs this; no test asserts a time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

PAYLOAD = b"x" * 32

WAYS = {
    "plain socket.sendto loop": "plain",
    ".NET Core 3.1 BeginSendTo + callback, 64 in flight": "dotnet:core:begin_64",
    ".NET Core 3.1 synchronous SendTo": "dotnet:core:sync",
    "Mono BeginSendTo + callback, 64 in flight": "dotnet:mono:begin_64",
    "asyncio DatagramTransport.sendto": "asyncio_transport",
    "BeginSendTo + callback EndSendTo, 64 in flight": "begin_64",
    "BeginSendTo, 64 in flight, inline completions": "begin_64_inline",
    "BeginSendTo, SemaphoreSlim(64) throttle as the .NET program": "begin_sem_64",
    "synchronous Socket.SendTo": "sync_sendto",
}


# The Python ways live in the package (dotnet_sockets/_bench.py), so that the installed
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _harness import measure_in_children, run_table  # noqa: E402

# `dotnet-sockets bench` runs the same code; imported late, in the child that runs them.


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


HERE = os.path.dirname(os.path.abspath(__file__))
DOTNET_DIR = os.path.join(HERE, "dotnet")


def _dotnet_host() -> str | None:
    """The .NET Core host: $DOTNET_HOST, or the one the PyPI package dotnetcore2 ships."""
    if os.environ.get("DOTNET_HOST"):
        return os.environ["DOTNET_HOST"]
    try:
        import dotnetcore2  # type: ignore[import-not-found]
    except ImportError:
        return None
    host = os.path.join(os.path.dirname(dotnetcore2.__file__), "bin", "dotnet")
    return host if os.path.exists(host) else None


def _dotnet_command(runtime: str, way: str, n: int) -> list[str] | None:
    """Compile SendToBench.cs with mcs (once) and return the command for ``runtime``, or None."""
    import shutil

    mcs = shutil.which("mcs")
    if mcs is None:
        return None
    build = os.path.join(DOTNET_DIR, "build")
    exe = os.path.join(build, "SendToBench.exe")
    if not os.path.exists(exe):
        os.makedirs(build, exist_ok=True)
        subprocess.run([mcs, "-optimize+", "-out:" + exe, os.path.join(DOTNET_DIR, "SendToBench.cs")], check=True)
        shutil.copy(os.path.join(DOTNET_DIR, "SendToBench.runtimeconfig.json"), build)
    if runtime == "mono":
        mono = shutil.which("mono")
        return [mono, exe, way, str(n)] if mono else None
    host = _dotnet_host()
    return [host, exe, way, str(n)] if host else None


def measure(way: str, n: int, runs: int) -> list[float]:
    rates = []
    if way.startswith("dotnet:"):
        _, runtime, dway = way.split(":")
        cmd = _dotnet_command(runtime, dway, n)
        if cmd is None:
            return []
        denv = dict(os.environ, DOTNET_SYSTEM_GLOBALIZATION_INVARIANT="1")
        for _ in range(runs):
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=denv, check=True).stdout
            rates.append(json.loads(out.strip().splitlines()[-1])["rate"])
        return rates
    return measure_in_children(__file__, way, n, runs)


def main() -> None:
    run_table(__doc__ or "", WAYS, _child, measure)


if __name__ == "__main__":
    main()
