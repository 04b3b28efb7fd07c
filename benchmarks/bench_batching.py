"""Batched (recvmmsg/sendmmsg) against per-operation system calls for queued datagram operations.

The same code runs both ways in fresh processes, interleaved; ``--way off`` sets
``_engine.batch``'s primitives to None in the child (the accelerator stays on
for everything else), so the difference is the batching alone.

* ``recv``: a receive server with ``--outstanding`` BeginReceiveFrom (each its
  own buffer, re-posted from its callback), fed by ``feeder.py`` at
  ``--rate`` 32-byte datagrams/s; reports datagrams delivered per second.
* ``send``: rounds of ``--outstanding`` BeginSendTo queued behind a parked
  placeholder, then let go in one readiness round (a UDP send on loopback
  never finds its buffer full, so nothing else queues sends here); reports
  datagrams/s over whole rounds (BeginSendTo included) and the drain alone.

* ``--engine``: the engine's drain alone, in one process, on this thread's CPU
  clock (steady under a loaded machine): runs of 2 to 64 queued sends or
  receives with as many datagrams ready, and the light-load case (many
  receives pending, one or two datagrams per wake-up).  This is what picks
  ``batch.MIN_RUN`` and the receive batch's growth.

    python benchmarks/bench_batching.py                  # both shapes, 16 and 64, 3 runs each
    python benchmarks/bench_batching.py --runs 5 --only recv
    python benchmarks/bench_batching.py --engine

No test runs this; no test asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", "src"))


def _cpu() -> float:
    """CPU seconds of this process, every thread, user and system (not the feeder's)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _child_recv(outstanding: int, rate: float, seconds: float) -> dict[str, Any]:
    from dotnet_sockets import AddressFamily, IPAddress, IPEndPoint, ProtocolType, Socket, SocketFlags, SocketType

    s = Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)
    s.ReceiveBufferSize = 1 << 22
    s.Bind(IPEndPoint(IPAddress.Loopback, 0))
    ep = s.LocalEndPoint
    assert isinstance(ep, IPEndPoint)
    count = [0]
    lock = threading.Lock()
    any_ep = IPEndPoint(IPAddress.Any, 0)

    def post(buf: bytearray) -> None:
        s.BeginReceiveFrom(buf, 0, len(buf), SocketFlags.None_, any_ep, cb, buf)

    def cb(ar: Any) -> None:
        try:
            s.EndReceiveFrom(ar)
            with lock:
                count[0] += 1
            post(ar.AsyncState)
        except Exception:  # noqa: BLE001 - closed at the end of the run
            pass

    for _ in range(outstanding):
        post(bytearray(2048))
    warmup = 0.5
    feeder = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "feeder.py"), str(ep.Port), str(rate), str(seconds + warmup + 2), "32"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(warmup)
        c0, t0, u0 = count[0], time.perf_counter(), _cpu()
        time.sleep(seconds)
        c1, t1, u1 = count[0], time.perf_counter(), _cpu()
    finally:
        feeder.terminate()
        fed = feeder.communicate(timeout=10)[0]
    s.Close()
    fed_rate = json.loads(fed.strip() or "{}").get("rate", 0)
    return {"rate": (c1 - c0) / (t1 - t0), "fed": fed_rate, "cpu_us": (u1 - u0) / max(1, c1 - c0) * 1e6}


def _child_send(outstanding: int, rounds: int) -> dict[str, Any]:
    import socket

    from dotnet_sockets import AddressFamily, IPAddress, IPEndPoint, ProtocolType, Socket, SocketFlags, SocketType
    from dotnet_sockets._engine.opqueue import Waiter
    from dotnet_sockets.asyncresult import AsyncOperation

    class Hold(Waiter):
        def wake(self) -> None:
            pass

    class Placeholder(AsyncOperation):
        def attempt(self) -> bool:
            return True

    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    s = Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)
    s.Bind(IPEndPoint(IPAddress.Loopback, 0))
    dest = IPEndPoint(IPAddress.Loopback, rx.getsockname()[1])
    payload = b"x" * 32
    left = [0]
    lock = threading.Lock()
    done = threading.Event()

    def cb(ar: Any) -> None:
        s.EndSendTo(ar)
        with lock:
            left[0] -= 1
            if left[0] == 0:
                done.set()

    drain = 0.0
    t0, u0 = time.perf_counter(), _cpu()
    for _ in range(rounds):
        hold = Placeholder(s._io, None, None)
        hold._ctx = Hold()
        s._io.enqueue_write(hold)
        left[0] = outstanding
        done.clear()
        for _ in range(outstanding):
            s.BeginSendTo(payload, 0, len(payload), SocketFlags.None_, dest, cb, None)
        d0 = time.perf_counter()
        s._io.retry_parked(hold, True)
        if not done.wait(30):
            raise RuntimeError("sends did not complete")
        drain += time.perf_counter() - d0
    elapsed, cpu = time.perf_counter() - t0, _cpu() - u0
    s.Close()
    rx.close()
    n = rounds * outstanding
    return {"rate": n / elapsed, "drain_us": drain / n * 1e6, "cpu_us": cpu / n * 1e6}


def engine() -> None:
    """Print the engine-side cost per operation (or per wake-up), batched and not (see the docstring)."""
    import socket
    from collections import deque

    sys.path.insert(0, SRC)
    from dotnet_sockets import AddressFamily, IPAddress, IPEndPoint, ProtocolType, Socket, SocketType
    from dotnet_sockets._engine import batch, opqueue, ops

    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s = Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)
    s.Bind(IPEndPoint(IPAddress.Loopback, 0))
    io = s._io
    here = io.sock.getsockname()
    there = rx.getsockname()
    primitives = (batch.recv_batch, batch.send_batch)

    def sends(n: int) -> deque[Any]:
        q: deque[Any] = deque()
        for _ in range(n):
            op = ops.SendToOp(io, None, None)
            op.buf, op.flags, op.addr = memoryview(b"x" * 32), 0, there
            q.append(op)
        return q

    def receives(n: int, ready: int) -> deque[Any]:
        for _ in range(ready):
            tx.sendto(b"y" * 32, here)
        q: deque[Any] = deque()
        for _ in range(n):
            op = ops.ReceiveFromOp(io, None, None)
            op.buf, op.flags = memoryview(bytearray(2048)), 0
            q.append(op)
        return q

    def clear() -> None:
        try:
            while True:
                rx.recv(64, socket.MSG_DONTWAIT)
        except BlockingIOError:
            pass

    def cost(make: Any, per: int, after: Any) -> dict[str, float]:
        best: dict[str, float] = {}
        for way in ("on", "off") * 4:
            batch.recv_batch, batch.send_batch = primitives if way == "on" else (None, None)
            total = 0.0
            rounds = max(50, 4000 // per)
            for _ in range(rounds):
                q, done = make(), []
                t0 = time.thread_time()
                opqueue._drain(q, done, io)
                total += time.thread_time() - t0
                after()
            best[way] = min(best.get(way, 1e9), total / rounds / per * 1e6)
        return best

    print("| engine drain | batched | one call per operation |")
    print("|---|---|---|")
    for n in (2, 3, 4, 8, 16, 64):
        c = cost(lambda n=n: sends(n), n, clear)
        print(f"| {n} queued sends (us/op) | {c['on']:.2f} | {c['off']:.2f} |")
    for n in (2, 3, 4, 8, 16, 64):
        c = cost(lambda n=n: receives(n, n), n, lambda: None)
        print(f"| {n} queued receives, {n} datagrams (us/op) | {c['on']:.2f} | {c['off']:.2f} |")
    for ready in (1, 2):
        c = cost(lambda ready=ready: receives(64, ready), 1, lambda: None)
        print(f"| 64 queued receives, {ready} datagram(s) per wake-up (us/wake-up) | {c['on']:.2f} | {c['off']:.2f} |")
    s.Close()


def child(args: argparse.Namespace) -> None:
    sys.path.insert(0, SRC)
    if args.way == "off":
        from dotnet_sockets._engine import batch

        batch.recv_batch = None
        batch.send_batch = None
    from dotnet_sockets import _accel

    if args.shape == "recv":
        out = _child_recv(args.outstanding, args.rate, args.seconds)
    else:
        out = _child_send(args.outstanding, args.rounds)
    out["accelerated"] = _accel.ACCELERATED
    print(json.dumps(out))


def run(shape: str, way: str, outstanding: int, args: argparse.Namespace) -> dict[str, Any]:
    env = dict(os.environ)
    env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, os.path.abspath(__file__), "--child", "--shape", shape, "--way", way]
    cmd += ["--outstanding", str(outstanding), "--rate", str(args.rate), "--seconds", str(args.seconds)]
    cmd += ["--rounds", str(args.rounds)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env, check=True).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--only", choices=["recv", "send"])
    p.add_argument("--rate", type=float, default=300_000, help="feeder datagrams/s (recv)")
    p.add_argument("--seconds", type=float, default=2.0, help="measuring window (recv)")
    p.add_argument("--rounds", type=int, default=2000, help="rounds of queued sends (send)")
    p.add_argument("--engine", action="store_true", help="the engine's drain alone (see above)")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--shape", default="recv", help=argparse.SUPPRESS)
    p.add_argument("--way", default="on", help=argparse.SUPPRESS)
    p.add_argument("--outstanding", type=int, default=16, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args)
        return
    if args.engine:
        engine()
        return
    shapes = [args.only] if args.only else ["recv", "send"]
    print("| shape | outstanding | way | datagrams/s min | median | max | CPU us/datagram (median) | other |")
    print("|---|---|---|---|---|---|---|---|")
    for shape in shapes:
        for outstanding in (16, 64):
            results: dict[str, list[dict[str, Any]]] = {"on": [], "off": []}
            for _ in range(args.runs):
                for way in ("on", "off"):  # interleaved: drift on a shared machine hits both
                    results[way].append(run(shape, way, outstanding, args))
            for way in ("on", "off"):
                rates = [r["rate"] for r in results[way]]
                if shape == "recv":
                    other = f"fed {statistics.median(r['fed'] for r in results[way]):,.0f}/s"
                else:
                    other = f"drain {statistics.median(r['drain_us'] for r in results[way]):.2f} us/datagram"
                label = "batched" if way == "on" else "one call per operation"
                cpu = statistics.median(r["cpu_us"] for r in results[way])
                print(
                    f"| {shape} | {outstanding} | {label} | {min(rates):,.0f} | {statistics.median(rates):,.0f} "
                    f"| {max(rates):,.0f} | {cpu:.2f} | {other} |"
                )
            sys.stdout.flush()


if __name__ == "__main__":
    main()
