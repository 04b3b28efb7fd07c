"""What one operation costs in each model: the profile behind the like-for-like rows.

One thread, one TCP loopback connection, 1 KiB sends and receives that never wait (the data is
there before each receive): the time of a send + receive pair in every model of the package,
beside a non-blocking Python socket (``plain``) and asyncio's ``sock_sendall`` /
``sock_recv_into`` on the same shape.  The difference from ``plain`` is what the package adds to
the system calls; ``--calls`` counts the Python function calls per pair (``cProfile``), the
figure that does not move with the machine's load.

    python benchmarks/per_op.py                  # every model, min of 5 runs of 20,000 pairs
    python benchmarks/per_op.py --calls          # also the Python calls per pair
    DOTNET_SOCKETS_PURE=1 python benchmarks/per_op.py

Each model runs in a fresh process.  A figure, never a test: nothing asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "src"))

SIZE = 1024
MODELS = ("plain", "asyncio", "sync", "stream", "begin", "saea", "await")


def _ds_pair() -> tuple[Any, Any]:
    from dotnet_sockets import AddressFamily, IPAddress, IPEndPoint, ProtocolType, Socket, SocketType

    lst = Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
    lst.Bind(IPEndPoint(IPAddress.Loopback, 0))
    lst.Listen(1)
    c = Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
    ep = lst.LocalEndPoint
    assert ep is not None
    c.Connect(ep)
    s = lst.Accept()
    lst.Close()
    return c, s


def _plain_pair() -> tuple[socket.socket, socket.socket]:
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(1)
    c = socket.create_connection(lst.getsockname())
    s, _ = lst.accept()
    lst.close()
    c.setblocking(False)
    s.setblocking(False)
    return c, s


def make(model: str) -> Callable[[int], None]:
    """A function running ``n`` send + receive pairs of ``model``."""
    out = bytearray(SIZE)
    into = bytearray(SIZE)
    if model == "plain":
        pc, ps = _plain_pair()

        def run(n: int) -> None:
            view = memoryview(out)
            for _ in range(n):
                pc.send(view)
                ps.recv_into(into, SIZE)

        return run
    if model == "asyncio":
        ac, as_ = _plain_pair()

        def run(n: int) -> None:
            async def pairs() -> None:
                loop = asyncio.get_running_loop()
                for _ in range(n):
                    await loop.sock_sendall(ac, out)
                    await loop.sock_recv_into(as_, into)

            asyncio.run(pairs())

        return run
    from dotnet_sockets import NetworkStream, SocketAsyncEventArgs, SocketFlags

    none = SocketFlags.None_
    c, s = _ds_pair()
    if model == "sync":

        def run(n: int) -> None:
            for _ in range(n):
                c.Send(out, 0, SIZE, none)
                s.Receive(into, 0, SIZE, none)

        return run
    if model == "stream":
        ws, rs = NetworkStream(c), NetworkStream(s)

        def run(n: int) -> None:
            for _ in range(n):
                ws.Write(out, 0, SIZE)
                rs.Read(into, 0, SIZE)

        return run
    if model == "begin":

        def run(n: int) -> None:
            for _ in range(n):
                c.EndSend(c.BeginSend(out, 0, SIZE, none, None, None))
                s.EndReceive(s.BeginReceive(into, 0, SIZE, none, None, None))

        return run
    if model == "saea":
        e1 = SocketAsyncEventArgs()
        e1.SetBuffer(out, 0, SIZE)
        e2 = SocketAsyncEventArgs()
        e2.SetBuffer(into, 0, SIZE)

        def run(n: int) -> None:
            for _ in range(n):
                if c.SendAsync(e1) or s.ReceiveAsync(e2):
                    raise SystemExit("an operation did not complete at once")

        return run
    if model == "await":

        def run(n: int) -> None:
            async def pairs() -> None:
                for _ in range(n):
                    await c.SendAsync(out, none)
                    await s.ReceiveAsync(into, none)

            asyncio.run(pairs())

        return run
    raise SystemExit(f"unknown model {model}")


def child(model: str, n: int, runs: int, calls: bool) -> dict[str, Any]:
    run = make(model)
    run(1000)  # warm-up
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        run(n)
        best = min(best, time.perf_counter() - t0)
    result: dict[str, Any] = {"us": best / n * 1e6}
    if calls:
        prof = cProfile.Profile()
        prof.runcall(run, n)
        stats = pstats.Stats(prof)
        result["calls"] = getattr(stats, "total_calls", 0) / n
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--count", type=int, default=20000)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--calls", action="store_true", help="also count Python calls per pair (cProfile)")
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.count, args.runs, args.calls)))
        return
    from dotnet_sockets import _accel

    print(f"# Python {sys.version.split()[0]}, send path: {_accel.send_path()}; {SIZE} B send + receive pairs")
    print("| model | us per pair | over plain | Python calls per pair |")
    print("|---|---|---|---|")
    plain = None
    for model in args.models.split(","):
        cmd = [sys.executable, os.path.abspath(__file__), "--child", model, "--count", str(args.count)]
        cmd += ["--runs", str(args.runs)] + (["--calls"] if args.calls else [])
        got = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=600).stdout)
        if model == "plain":
            plain = got["us"]
        over = f"{got['us'] - plain:+.2f}" if plain is not None and model != "plain" else ""
        calls = f"{got['calls']:.1f}" if "calls" in got else ""
        print(f"| {model} | {got['us']:.2f} | {over} | {calls} |", flush=True)


if __name__ == "__main__":
    main()
