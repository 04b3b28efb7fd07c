"""The dotnet_sockets side of every row: the same program, step for step, as ``dotnet/Bench.cs``.

Same threads, same throttling primitive, same buffer sizes, same counts (run_all.py
passes the counts to both).  Each function is one workload; it ends the process
through :func:`_common.report`.  Run through ``child.py``, with ``DOTNET_SOCKETS_PURE=1``
for the pure-Python send path.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from _common import Arrivals, Interlocked, Params, announce_port, latency, perf, rate, report

import dotnet_sockets as ds
from dotnet_sockets import (
    AddressFamily,
    IPAddress,
    IPEndPoint,
    ProtocolType,
    Socket,
    SocketAsyncEventArgs,
    SocketFlags,
    SocketType,
)

NONE = SocketFlags.None_


def _udp() -> Socket:
    return Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)


def _tcp() -> Socket:
    return Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)


def _sink() -> Socket:
    r = _udp()
    r.Bind(IPEndPoint(IPAddress.Loopback, 0))
    return r


def _any() -> IPEndPoint:
    return IPEndPoint(IPAddress.Any, 0)


def semaphore(slots: int) -> tuple[Any, str]:
    """The package's ``SemaphoreSlim`` once it exists; ``threading.BoundedSemaphore`` until then.

    Returns ``(wait(timeout_seconds) -> bool, release(), name)`` adapters so the loop is
    written once for both.
    """
    slim = getattr(ds, "SemaphoreSlim", None)
    if slim is not None:
        sem = slim(slots, slots)
        return (lambda t: sem.Wait(int(t * 1000)), sem.Release), "dotnet_sockets.SemaphoreSlim"
    bsem = threading.BoundedSemaphore(slots)
    return (lambda t: bsem.acquire(timeout=t), bsem.release), "threading.BoundedSemaphore"


# -- datagram sends: 'size'-byte datagrams to a loopback socket that never reads ----------------


def sendto_sync(p: Params) -> None:
    n, size = p.i("count", 100_000), p.i("size", 32)
    buf = bytearray(size)
    sink = _sink()
    ep = sink.LocalEndPoint
    s = _udp()
    send_to = s.SendTo
    t0 = perf()
    i = 0
    while i < n:
        send_to(buf, 0, size, NONE, ep)
        if not i & 1023 and p.over():
            break
        i += 1
    rate(i, n, perf() - t0, "datagrams/s")


def sendto_sem(p: Params) -> None:
    n, size, slots = p.i("count", 100_000), p.i("size", 32), p.i("slots", 64)
    buf = bytearray(size)
    sink = _sink()
    ep = sink.LocalEndPoint
    s = _udp()
    (wait, release), name = semaphore(slots)
    done = threading.Event()
    completed = Interlocked()

    def cb(ar: Any) -> None:
        s.EndSendTo(ar)
        release()
        if completed.increment() == n:
            done.set()

    begin = s.BeginSendTo
    t0 = perf()
    for _ in range(n):
        if not wait(p.remaining()):
            break
        begin(buf, 0, size, NONE, ep, cb, None)
    done.wait(p.remaining())
    rate(completed.value, n, perf() - t0, "datagrams/s", semaphore=name)


def sendto_unthrottled(p: Params) -> None:
    n, size = p.i("count", 100_000), p.i("size", 32)
    buf = bytearray(size)
    sink = _sink()
    ep = sink.LocalEndPoint
    s = _udp()
    done = threading.Event()
    completed = Interlocked()

    def cb(ar: Any) -> None:
        s.EndSendTo(ar)
        if completed.increment() == n:
            done.set()

    begin = s.BeginSendTo
    t0 = perf()
    for i in range(n):
        begin(buf, 0, size, NONE, ep, cb, None)
        if not i & 1023 and p.over():
            break
    done.wait(p.remaining())
    rate(completed.value, n, perf() - t0, "datagrams/s")


def sendto_chains(p: Params) -> None:
    n, size = p.i("count", 100_000), p.i("size", 32)
    chains = min(p.i("chains", 64), n)
    buf = bytearray(size)
    sink = _sink()
    ep = sink.LocalEndPoint
    s = _udp()
    done = threading.Event()
    issued, completed = Interlocked(chains), Interlocked()
    begin = s.BeginSendTo

    def cb(ar: Any) -> None:
        s.EndSendTo(ar)
        if completed.increment() == n:
            done.set()
        elif issued.increment() <= n and not p.over():
            begin(buf, 0, size, NONE, ep, cb, None)

    t0 = perf()
    for _ in range(chains):
        begin(buf, 0, size, NONE, ep, cb, None)
    done.wait(p.remaining())
    rate(completed.value, n, perf() - t0, "datagrams/s")


# -- UDP receive server fed by run_all.py's feeder process ---------------------------------------


def _receive_server(p: Params) -> Socket:
    s = _udp()
    s.ReceiveBufferSize = p.i("rcvbuf", 1 << 20)
    s.Bind(IPEndPoint(IPAddress.Loopback, 0))
    ep = s.LocalEndPoint
    assert isinstance(ep, IPEndPoint)
    announce_port(ep.Port)
    return s


def recv_begin(p: Params) -> None:
    s = _receive_server(p)
    buf = bytearray(p.i("bufsize", 2048))
    any_ep = _any()
    arrivals = Arrivals()

    def cb(ar: Any) -> None:
        s.EndReceiveFrom(ar)
        arrivals.arrived()
        s.BeginReceiveFrom(buf, 0, len(buf), NONE, any_ep, cb, None)

    s.BeginReceiveFrom(buf, 0, len(buf), NONE, any_ep, cb, None)
    arrivals.measure(p)


def recv_saea(p: Params) -> None:
    s = _receive_server(p)
    size = p.i("bufsize", 2048)
    e = SocketAsyncEventArgs()
    e.SetBuffer(bytearray(size), 0, size)
    e.RemoteEndPoint = _any()
    arrivals = Arrivals()
    receive_from = s.ReceiveFromAsync

    def loop() -> None:
        # The usual SocketAsyncEventArgs loop: go on inline while the call completes at once.
        while not receive_from(e):
            arrivals.arrived()

    def completed(sender: Any, args: Any) -> None:
        arrivals.arrived()
        loop()

    e.Completed += completed
    loop()
    arrivals.measure(p)


def recv_await(p: Params) -> None:
    s = _receive_server(p)
    buf = bytearray(p.i("bufsize", 2048))
    any_ep = _any()
    arrivals = Arrivals()

    async def loop() -> None:
        receive_from = s.ReceiveFromAsync
        while True:
            await receive_from(buf, NONE, any_ep)
            arrivals.arrived()

    # C#'s Task.Run(loop): the loop runs on its own thread; the main thread measures.
    threading.Thread(target=asyncio.run, args=(loop(),), daemon=True).start()
    arrivals.measure(p)


# -- UDP ping-pong: one request outstanding, echo server in the same process --------------------


def ping_sync(p: Params) -> None:
    n, warmup, size = p.i("count", 5000), p.i("warmup", 500), p.i("size", 32)
    server = _udp()
    server.Bind(IPEndPoint(IPAddress.Loopback, 0))
    sep = server.LocalEndPoint

    def echo() -> None:
        b = bytearray(2048)
        try:
            while True:
                k, frm = server.ReceiveFrom(b, 0, len(b), NONE, _any())
                server.SendTo(b, 0, k, NONE, frm)
        except Exception:  # noqa: BLE001 - closed at the end
            pass

    threading.Thread(target=echo, daemon=True).start()
    c = _udp()
    c.Bind(IPEndPoint(IPAddress.Loopback, 0))
    c.ReceiveTimeout = 2000
    buf = bytearray(size)
    rbuf = bytearray(2048)
    rtts: list[float] = []
    for _ in range(n + warmup):
        if p.over():
            break
        t = perf()
        c.SendTo(buf, 0, size, NONE, sep)
        c.ReceiveFrom(rbuf, 0, len(rbuf), NONE, _any())
        rtts.append((perf() - t) * 1e6)
    latency(rtts, warmup, n + warmup)


def ping_begin(p: Params) -> None:
    n, warmup, size = p.i("count", 5000), p.i("warmup", 500), p.i("size", 32)
    server = _udp()
    server.Bind(IPEndPoint(IPAddress.Loopback, 0))
    sep = server.LocalEndPoint
    sbuf = bytearray(2048)
    any_ep = _any()

    def on_server_sent(ar: Any) -> None:
        server.EndSendTo(ar)

    def on_server_recv(ar: Any) -> None:
        k, frm = server.EndReceiveFrom(ar)
        server.BeginSendTo(sbuf, 0, k, NONE, frm, on_server_sent, None)
        server.BeginReceiveFrom(sbuf, 0, len(sbuf), NONE, any_ep, on_server_recv, None)

    server.BeginReceiveFrom(sbuf, 0, len(sbuf), NONE, any_ep, on_server_recv, None)
    c = _udp()
    c.Bind(IPEndPoint(IPAddress.Loopback, 0))
    buf = bytearray(size)
    rbuf = bytearray(2048)
    rtts: list[float] = []
    done = threading.Event()
    started = [0.0]

    def on_sent(ar: Any) -> None:
        c.EndSendTo(ar)

    def next_round() -> None:
        started[0] = perf()
        c.BeginReceiveFrom(rbuf, 0, len(rbuf), NONE, any_ep, on_recv, None)
        c.BeginSendTo(buf, 0, size, NONE, sep, on_sent, None)

    def on_recv(ar: Any) -> None:
        c.EndReceiveFrom(ar)
        rtts.append((perf() - started[0]) * 1e6)
        if len(rtts) >= n + warmup or p.over():
            done.set()
        else:
            next_round()

    next_round()
    done.wait(p.remaining())
    latency(list(rtts), warmup, n + warmup)


def wake_begin(p: Params) -> None:
    """One report at a time, each finding every completion worker idle (the engine's wake-up path)."""
    server = _sink()  # a bound socket, which here does read
    sbuf, any_ep, got = bytearray(2048), _any(), threading.Event()

    def on_recv(ar: Any) -> None:
        server.EndReceiveFrom(ar)
        server.BeginReceiveFrom(sbuf, 0, len(sbuf), NONE, any_ep, on_recv, None)
        got.set()

    server.BeginReceiveFrom(sbuf, 0, len(sbuf), NONE, any_ep, on_recv, None)
    n, warmup, size = p.i("count", 5000), p.i("warmup", 500), p.i("size", 32)
    sep = server.LocalEndPoint
    c = _udp()
    buf = bytearray(size)
    rtts: list[float] = []
    while len(rtts) < n + warmup and not p.over():
        t = perf()
        c.SendTo(buf, 0, size, NONE, sep)
        if not got.wait(p.remaining()):
            break
        got.clear()
        rtts.append((perf() - t) * 1e6)
    latency(rtts, warmup, n + warmup)


# -- TCP bulk: one connection, 'total' bytes in 'block'-byte blocks, both ends in this process -----


def _pair() -> tuple[Socket, Socket]:
    listener = _tcp()
    listener.Bind(IPEndPoint(IPAddress.Loopback, 0))
    listener.Listen(16)
    client = _tcp()
    client.Connect(listener.LocalEndPoint)
    server = listener.Accept()
    listener.Close()
    return client, server


def bulk_begin(p: Params) -> None:
    total, block = p.i("total", 64 << 20), p.i("block", 65536)
    c, s = _pair()
    sbuf = bytearray(block)
    rbuf = bytearray(block)
    counts = {"sent": 0, "got": 0}
    done = threading.Event()

    def on_sent(ar: Any) -> None:
        counts["sent"] += c.EndSend(ar)
        if counts["sent"] < total and not p.over():
            c.BeginSend(sbuf, 0, min(block, total - counts["sent"]), NONE, on_sent, None)

    def on_recv(ar: Any) -> None:
        k = s.EndReceive(ar)
        counts["got"] += k
        if counts["got"] >= total or k == 0 or p.over():
            done.set()
        else:
            s.BeginReceive(rbuf, 0, block, NONE, on_recv, None)

    t0 = perf()
    s.BeginReceive(rbuf, 0, block, NONE, on_recv, None)
    c.BeginSend(sbuf, 0, block, NONE, on_sent, None)
    done.wait(p.remaining())
    got = counts["got"]
    report(got / (perf() - t0), "bytes/s", got, got < total)


def bulk_await(p: Params) -> None:
    total, block = p.i("total", 64 << 20), p.i("block", 65536)
    c, s = _pair()
    got = [0]

    async def writer() -> None:
        b = bytearray(block)
        view = memoryview(b)
        sent = 0
        while sent < total and not p.over():
            sent += await c.SendAsync(view[: min(block, total - sent)], NONE)

    async def reader() -> None:
        b = bytearray(block)
        while got[0] < total and not p.over():
            k = await s.ReceiveAsync(b, NONE)
            if k == 0:
                break
            got[0] += k

    async def both() -> None:
        # C#'s Task.Run(reader), Task.Run(writer): two tasks; in Python, on one event loop.
        r = asyncio.ensure_future(reader())
        w = asyncio.ensure_future(writer())
        try:
            await asyncio.wait_for(r, p.remaining())
        except TimeoutError:
            pass
        report(got[0] / (perf() - t0), "bytes/s", got[0], got[0] < total)
        w.cancel()

    t0 = perf()
    asyncio.run(both())


# -- TCP echo: 'conns' connections, each 'rounds' 'size'-byte request/response round trips ---------


def echo_begin(p: Params) -> None:
    conns, rounds, size = p.i("conns", 100), p.i("rounds", 50), p.i("size", 128)
    wanted = conns * rounds
    listener = _tcp()
    listener.Bind(IPEndPoint(IPAddress.Loopback, 0))
    listener.Listen(conns)
    echoed = Interlocked()
    all_done = threading.Event()

    def serve(a: Socket) -> None:
        buf = bytearray(size)

        def on_recv(ar: Any) -> None:
            try:
                k = a.EndReceive(ar)
            except Exception:  # noqa: BLE001 - closed at the end
                return
            if k == 0:
                a.Close()
                return
            a.BeginSend(buf, 0, k, NONE, on_sent, None)

        def on_sent(ar: Any) -> None:
            try:
                a.EndSend(ar)
            except Exception:  # noqa: BLE001
                return
            a.BeginReceive(buf, 0, size, NONE, on_recv, None)

        a.BeginReceive(buf, 0, size, NONE, on_recv, None)

    def on_accept(ar: Any) -> None:
        try:
            a = listener.EndAccept(ar)
        except ds.ObjectDisposedException:
            return
        serve(a)
        listener.BeginAccept(on_accept, None)

    listener.BeginAccept(on_accept, None)

    def client(c: Socket) -> Any:
        req = bytearray(size)
        resp = bytearray(size)
        state = {"done": 0, "got": 0}

        def on_sent(ar: Any) -> None:
            c.EndSend(ar)

        def on_recv(ar: Any) -> None:
            k = c.EndReceive(ar)
            if k == 0:
                return
            state["got"] += k
            if state["got"] < size:
                c.BeginReceive(resp, state["got"], size - state["got"], NONE, on_recv, None)
                return
            if echoed.increment() == wanted:
                all_done.set()
            state["done"] += 1
            if state["done"] < rounds and not p.over():
                next_round()

        def next_round() -> None:
            state["got"] = 0
            c.BeginReceive(resp, 0, size, NONE, on_recv, None)
            c.BeginSend(req, 0, size, NONE, on_sent, None)

        return next_round

    starts = []
    for _ in range(conns):
        c = _tcp()
        c.Connect(listener.LocalEndPoint)
        starts.append(client(c))
    t0 = perf()
    for start in starts:
        start()
    all_done.wait(p.remaining())
    rate(echoed.value, wanted, perf() - t0, "round trips/s")


def echo_await(p: Params) -> None:
    conns, rounds, size = p.i("conns", 100), p.i("rounds", 50), p.i("size", 128)
    wanted = conns * rounds
    listener = _tcp()
    listener.Bind(IPEndPoint(IPAddress.Loopback, 0))
    listener.Listen(conns)
    echoed = [0]

    async def serve(a: Socket) -> None:
        b = bytearray(size)
        view = memoryview(b)
        while True:
            k = await a.ReceiveAsync(b, NONE)
            if k == 0:
                break
            await a.SendAsync(view[:k], NONE)
        a.Close()

    async def accept() -> None:
        for _ in range(conns):
            a = await listener.AcceptAsync()
            asyncio.ensure_future(serve(a))

    async def client(c: Socket) -> None:
        req = bytearray(size)
        resp = bytearray(size)
        view = memoryview(resp)
        for _ in range(rounds):
            if p.over():
                return
            await c.SendAsync(req, NONE)
            got = 0
            while got < size:
                k = await c.ReceiveAsync(view[got:], NONE)
                if k == 0:
                    return
                got += k
            echoed[0] += 1

    t0 = [0.0]

    async def main() -> None:
        # C# runs the acceptor, the servers and the clients as tasks; here, on one event loop.
        acceptor = asyncio.ensure_future(accept())
        clients = []
        for _ in range(conns):
            c = _tcp()
            c.Connect(listener.LocalEndPoint)  # the listen backlog holds them until AcceptAsync
            clients.append(c)
        t0[0] = perf()
        try:
            await asyncio.wait_for(asyncio.gather(*(client(c) for c in clients)), p.remaining())
        except TimeoutError:
            pass
        rate(echoed[0], wanted, perf() - t0[0], "round trips/s")
        acceptor.cancel()

    asyncio.run(main())


# -- connections accepted per second: BeginAccept server; the client connects, sends, closes -----


def accept_begin(p: Params) -> None:
    n = p.i("count", 2000)
    listener = _tcp()
    listener.Bind(IPEndPoint(IPAddress.Loopback, 0))
    listener.Listen(512)
    ep = listener.LocalEndPoint
    accepted = [0]
    done = threading.Event()

    def on_accept(ar: Any) -> None:
        try:
            a = listener.EndAccept(ar)
        except ds.ObjectDisposedException:
            return
        a.Close()
        accepted[0] += 1
        if accepted[0] == n:
            done.set()
        else:
            listener.BeginAccept(on_accept, None)

    payload = bytearray(1)
    t0 = perf()
    listener.BeginAccept(on_accept, None)
    for _ in range(n):
        if p.over():
            break
        c = _tcp()
        c.Connect(ep)
        c.Send(payload, 0, 1, NONE)
        c.Close()
    done.wait(p.remaining())
    rate(accepted[0], n, perf() - t0, "connections/s")


# -- the client layer: TcpListener, TcpClient, NetworkStream (api-contract "Clients and streams") -


def _clients_missing() -> bool:
    if getattr(ds, "TcpClient", None) is None or getattr(ds, "TcpListener", None) is None:
        report(0.0, "n/a", 0, True, na="dotnet_sockets.TcpClient is not in this build")
        return True
    return False


def stream_rw(p: Params) -> None:
    if _clients_missing():
        return
    total, block = p.i("total", 64 << 20), p.i("block", 65536)
    listener = ds.TcpListener(IPAddress.Loopback, 0)
    listener.Start()
    client = ds.TcpClient()
    client.Connect(listener.LocalEndpoint)
    accepted = listener.AcceptTcpClient()
    listener.Stop()
    ws = client.GetStream()
    rs = accepted.GetStream()
    rs.ReadTimeout = 5000

    def writer() -> None:
        b = bytearray(block)
        sent = 0
        try:
            while sent < total and not p.over():
                k = min(block, total - sent)
                ws.Write(b, 0, k)
                sent += k
        except Exception:  # noqa: BLE001 - the reader gave up
            pass

    rbuf = bytearray(block)
    got = 0
    t0 = perf()
    threading.Thread(target=writer, daemon=True).start()
    while got < total and not p.over():
        k = rs.Read(rbuf, 0, block)
        if k == 0:
            break
        got += k
    report(got / (perf() - t0), "bytes/s", got, got < total)


def client_echo(p: Params) -> None:
    if _clients_missing():
        return
    n, size = p.i("count", 5000), p.i("size", 128)
    listener = ds.TcpListener(IPAddress.Loopback, 0)
    listener.Start()

    def server() -> None:
        try:
            with listener.AcceptTcpClient() as a:
                st = a.GetStream()
                b = bytearray(size)
                while (k := st.Read(b, 0, size)) > 0:
                    st.Write(b, 0, k)
        except Exception:  # noqa: BLE001 - closed at the end
            pass

    threading.Thread(target=server, daemon=True).start()
    c = ds.TcpClient()
    c.Connect(listener.LocalEndpoint)
    s = c.GetStream()
    s.ReadTimeout = 5000
    req = bytearray(size)
    resp = bytearray(size)
    t0 = perf()
    i = 0
    while i < n and not p.over():
        s.Write(req, 0, size)
        got = 0
        while got < size:
            k = s.Read(resp, got, size - got)
            if k == 0:
                break
            got += k
        i += 1
    rate(i, n, perf() - t0, "round trips/s")
