"""Engine benchmarks beyond the send path: receive, TCP echo, latency, many sockets.

Run by hand (no test runs this, no test asserts a time):

    python benchmarks/bench_engine.py              # every row, 5 runs each
    python benchmarks/bench_engine.py --only latency,many

Each row runs in a fresh process; medians with min-max are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "..", "src")

RECV_SECONDS = 2.0
ECHO_BYTES = 64 * 1024 * 1024
BLOCK = 64 * 1024


def _blast(addr: tuple[str, int], seconds: float) -> subprocess.Popen[bytes]:
    """A separate process that sends 32-byte datagrams to ``addr`` as fast as it can."""
    code = (
        "import socket,time,sys\n"
        "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
        f"a=({addr[0]!r},{addr[1]});p=b'x'*32;end=time.monotonic()+{seconds}\n"
        "while time.monotonic()<end:\n"
        "    for _ in range(1000): s.sendto(p,a)\n"
    )
    return subprocess.Popen([sys.executable, "-c", code])


def run_recv_apm() -> dict[str, float]:
    from dotnet_sockets import AddressFamily, IPAddress, IPEndPoint, ProtocolType, Socket, SocketType

    s = Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)
    s.ReceiveBufferSize = 1 << 20
    s.Bind(IPEndPoint(IPAddress.Loopback, 0))
    ep = s.LocalEndPoint
    assert isinstance(ep, IPEndPoint)
    count = [0]
    stop = threading.Event()
    buf = bytearray(2048)
    any_ep = IPEndPoint(IPAddress.Any, 0)

    def on_receive(ar: Any) -> None:
        try:
            s.EndReceiveFrom(ar)
        except Exception:  # noqa: BLE001 - closed at the end of the run
            return
        count[0] += 1
        if not stop.is_set():
            s.BeginReceiveFrom(buf, 0, len(buf), 0, any_ep, on_receive, None)

    s.BeginReceiveFrom(buf, 0, len(buf), 0, any_ep, on_receive, None)
    sender = _blast(("127.0.0.1", ep.Port), RECV_SECONDS + 0.5)
    time.sleep(0.25)  # let the sender reach full speed before counting
    c0, t0 = count[0], time.perf_counter()
    time.sleep(RECV_SECONDS)
    rate = (count[0] - c0) / (time.perf_counter() - t0)
    stop.set()
    sender.wait()
    s.Close()
    return {"rate": rate}


def run_recv_asyncio() -> dict[str, float]:
    import asyncio

    async def main() -> float:
        loop = asyncio.get_running_loop()
        count = [0]

        class Proto(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, addr: Any) -> None:
                count[0] += 1

        transport, _ = await loop.create_datagram_endpoint(Proto, local_addr=("127.0.0.1", 0))
        sock = transport.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        port = transport.get_extra_info("sockname")[1]
        sender = _blast(("127.0.0.1", port), RECV_SECONDS + 0.5)
        await asyncio.sleep(0.25)
        c0, t0 = count[0], time.perf_counter()
        await asyncio.sleep(RECV_SECONDS)
        rate = (count[0] - c0) / (time.perf_counter() - t0)
        await loop.run_in_executor(None, sender.wait)
        transport.close()
        return rate

    return {"rate": asyncio.run(main())}


def run_echo_apm() -> dict[str, float]:
    from dotnet_sockets import AddressFamily, IPAddress, IPEndPoint, ProtocolType, Socket, SocketType

    listener = Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
    listener.Bind(IPEndPoint(IPAddress.Loopback, 0))
    listener.Listen()
    ep = listener.LocalEndPoint
    server_done = threading.Event()

    def serve(ar: Any) -> None:
        conn = listener.EndAccept(ar)
        buf = bytearray(BLOCK)

        def on_recv(rar: Any) -> None:
            n = conn.EndReceive(rar)
            if n == 0:
                conn.Close()
                server_done.set()
                return
            conn.BeginSend(buf, 0, n, 0, on_sent, n)

        def on_sent(sar: Any) -> None:
            conn.EndSend(sar)
            conn.BeginReceive(buf, 0, BLOCK, 0, on_recv, None)

        conn.BeginReceive(buf, 0, BLOCK, 0, on_recv, None)

    listener.BeginAccept(serve, None)
    client = Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
    client.Connect(ep)
    block = bytes(BLOCK)
    rbuf = bytearray(BLOCK)
    done = threading.Event()
    state = {"sent": 0, "received": 0}

    def on_client_recv(ar: Any) -> None:
        n = client.EndReceive(ar)
        state["received"] += n
        if state["received"] >= ECHO_BYTES:
            done.set()
            return
        if state["received"] >= state["sent"] and state["sent"] < ECHO_BYTES:
            send_next()
        client.BeginReceive(rbuf, 0, BLOCK, 0, on_client_recv, None)

    def send_next() -> None:
        state["sent"] += BLOCK
        client.BeginSend(block, 0, BLOCK, 0, lambda ar: client.EndSend(ar), None)

    t0 = time.perf_counter()
    send_next()
    client.BeginReceive(rbuf, 0, BLOCK, 0, on_client_recv, None)
    if not done.wait(120):
        raise SystemExit("echo did not finish")
    rate = state["received"] / (time.perf_counter() - t0)
    client.Shutdown(1)
    server_done.wait(5)
    client.Close()
    listener.Close()
    return {"rate": rate}


def run_echo_asyncio() -> dict[str, float]:
    import asyncio

    async def main() -> float:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while data := await reader.read(BLOCK):
                writer.write(data)
                await writer.drain()
            writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        block = bytes(BLOCK)
        received = 0
        t0 = time.perf_counter()
        while received < ECHO_BYTES:
            writer.write(block)
            await writer.drain()
            got = 0
            while got < BLOCK:
                chunk = await reader.read(BLOCK)
                got += len(chunk)
            received += got
        rate = received / (time.perf_counter() - t0)
        writer.close()
        server.close()
        return rate

    return {"rate": asyncio.run(main())}


def run_latency() -> dict[str, float]:
    from dotnet_sockets import AddressFamily, IPAddress, IPEndPoint, ProtocolType, Socket, SocketType

    r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    r.bind(("127.0.0.1", 0))
    ep = IPEndPoint(IPAddress.Loopback, r.getsockname()[1])
    s = Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)
    samples: list[float] = []
    got = threading.Event()
    perf = time.perf_counter

    def cb(ar: Any) -> None:
        samples.append(perf() - ar.AsyncState)
        s.EndSendTo(ar)
        got.set()

    payload = b"x" * 32
    period = 1 / 1000
    nxt = perf()
    for _ in range(3000):
        got.clear()
        s.BeginSendTo(payload, 0, 32, 0, ep, cb, perf())
        got.wait(1)
        nxt += period
        delay = nxt - perf()
        if delay > 0:
            time.sleep(delay)
    samples = sorted(samples[500:])  # drop the warm-up
    p50 = samples[len(samples) // 2] * 1e6
    p99 = samples[int(len(samples) * 0.99)] * 1e6
    return {"rate": p50, "p50_us": p50, "p99_us": p99}


def run_many() -> dict[str, float]:
    import resource
    import tracemalloc

    from dotnet_sockets import AddressFamily, IPAddress, IPEndPoint, ProtocolType, Socket, SocketType

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    n = min(10_000, hard - 100)
    socks = []
    for _ in range(n):
        s = Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)
        s.Bind(IPEndPoint(IPAddress.Loopback, 0))
        socks.append(s)
    any_ep = IPEndPoint(IPAddress.Any, 0)
    bufs = [bytearray(64) for _ in range(n)]
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for s, b in zip(socks, bufs, strict=True):
        s.BeginReceiveFrom(b, 0, 64, 0, any_ep, lambda ar: None, None)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    threads = threading.active_count()
    for s in socks:
        s.Close()
    return {"rate": float(n), "bytes_per_op": (after - before) / n, "threads": float(threads)}


ROWS = {
    "recv_apm": "BeginReceiveFrom server, callback re-arms (datagrams delivered/s)",
    "recv_asyncio": "asyncio DatagramProtocol.datagram_received (datagrams delivered/s)",
    "echo_apm": "TCP BeginSend/BeginReceive echo, 64 KiB blocks (bytes/s)",
    "echo_asyncio": "asyncio streams echo, 64 KiB blocks (bytes/s)",
    "latency": "BeginSendTo -> callback start at 1,000 sends/s (p50 µs)",
    "many": "10,000 sockets with a pending BeginReceiveFrom",
}


def measure(key: str, runs: int) -> list[dict[str, float]]:
    """Run row ``key`` in ``runs`` fresh processes; one result dict per run."""
    env = dict(os.environ, PYTHONPATH=os.path.abspath(SRC) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    results = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, os.path.abspath(__file__), "--child", key],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        if out.returncode != 0:
            raise SystemExit(out.stderr)
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return results


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--only", help="comma-separated row keys: " + ",".join(ROWS))
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(globals()[f"run_{args.child}"]()))
        return
    keys = args.only.split(",") if args.only else list(ROWS)
    print(f"# {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, {args.runs} runs")
    print("| row | median | min-max | extra |")
    print("|---|---|---|---|")
    for key in keys:
        results = measure(key, args.runs)
        rates = [r["rate"] for r in results]
        extra = {k: statistics.median(r[k] for r in results) for k in results[0] if k != "rate"}
        extra_text = ", ".join(f"{k}={v:,.1f}" for k, v in extra.items())
        print(f"| {ROWS[key]} | {statistics.median(rates):,.0f} | {min(rates):,.0f}-{max(rates):,.0f} | {extra_text} |")


if __name__ == "__main__":
    main()
