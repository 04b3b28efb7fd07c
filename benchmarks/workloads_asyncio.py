"""The asyncio peers (and, with ``child.py uvloop ...``, the uvloop peers) of the rows that
have a natural asyncio form, written the same way as the dotnet_sockets side: same sizes,
same counts, same connections, both ends in the process.

| row(s) | asyncio form |
|---|---|
| unthrottled ``BeginSendTo`` loop | ``DatagramTransport.sendto`` loop |
| receive server, callback / ``SocketAsyncEventArgs`` | ``DatagramProtocol.datagram_received`` |
| receive server, ``await ReceiveFromAsync`` | ``await loop.sock_recvfrom_into`` |
| UDP ping-pong | a ``DatagramProtocol`` client and echo server |
| TCP bulk | ``await loop.sock_sendall`` / ``await loop.sock_recv_into``, two tasks |
| TCP echo, 100 connections | ``sock_accept`` + ``sock_recv_into``/``sock_sendall`` tasks |
| connections accepted/s | ``await loop.sock_accept`` server; blocking ``socket`` clients on the main thread |
| ``NetworkStream`` Read/Write, TcpListener+TcpClient echo | asyncio streams |
"""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Any

from _common import Arrivals, Params, announce_port, latency, perf, rate, report


def _tcp_pair() -> tuple[socket.socket, socket.socket]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    client = socket.create_connection(listener.getsockname())
    server, _ = listener.accept()
    listener.close()
    client.setblocking(False)
    server.setblocking(False)
    return client, server


def sendto_transport(p: Params) -> None:
    n, size = p.i("count", 100_000), p.i("size", 32)
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    addr = sink.getsockname()
    buf = bytes(size)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        transport: Any
        transport, _ = await loop.create_datagram_endpoint(asyncio.DatagramProtocol, family=socket.AF_INET)
        sendto = transport.sendto
        t0 = perf()
        i = 0
        while i < n:
            sendto(buf, addr)
            if not i & 1023 and p.over():
                break
            i += 1
        while transport.get_write_buffer_size() and not p.over():
            await asyncio.sleep(0)
        rate(i, n, perf() - t0, "datagrams/s")

    asyncio.run(main())


def recv_protocol(p: Params) -> None:
    arrivals = Arrivals()

    class Proto(asyncio.DatagramProtocol):
        def datagram_received(self, data: bytes, addr: Any) -> None:
            arrivals.arrived()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, p.i("rcvbuf", 1 << 20))
        s.bind(("127.0.0.1", 0))
        await loop.create_datagram_endpoint(Proto, sock=s)
        announce_port(s.getsockname()[1])
        await _measure(arrivals, p)

    asyncio.run(main())


async def _measure(arrivals: Arrivals, p: Params) -> None:
    """Arrivals.measure, without blocking the loop that receives."""
    t_end = perf() + p.remaining()
    while not arrivals.first.is_set():
        if perf() > t_end:
            report(0.0, "datagrams/s", 0, True)
        await asyncio.sleep(0.01)
    await asyncio.sleep(p.f("warmup", 0.3))
    c0, t0 = arrivals.count, perf()
    await asyncio.sleep(p.f("seconds", 1.5))
    c1 = arrivals.count
    report((c1 - c0) / (perf() - t0), "datagrams/s", c1 - c0, False)


def recv_sock(p: Params) -> None:
    arrivals = Arrivals()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, p.i("rcvbuf", 1 << 20))
    s.bind(("127.0.0.1", 0))
    s.setblocking(False)
    buf = bytearray(p.i("bufsize", 2048))

    async def loop_() -> None:
        loop = asyncio.get_running_loop()
        try:
            receive = loop.sock_recvfrom_into
            await asyncio.wait_for(receive(s, buf), 0.001)
        except (NotImplementedError, AttributeError):
            report(0.0, "n/a", 0, True, na="this loop has no sock_recvfrom_into")
        except TimeoutError:
            pass
        announce_port(s.getsockname()[1])
        while True:
            await receive(s, buf)
            arrivals.arrived()

    # As on the dotnet_sockets side: the receive loop on its own thread, the main thread measures.
    threading.Thread(target=_run, args=(loop_(),), daemon=True).start()
    arrivals.measure(p)


def _run(coro: Any) -> None:
    # child.py installs uvloop's policy first for the uvloop peers, so this is their loop too.
    asyncio.run(coro)


def ping_protocol(p: Params) -> None:
    n, warmup, size = p.i("count", 5000), p.i("warmup", 500), p.i("size", 32)

    class Echo(asyncio.DatagramProtocol):
        def connection_made(self, transport: Any) -> None:
            self.transport = transport

        def datagram_received(self, data: bytes, addr: Any) -> None:
            self.transport.sendto(data, addr)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        _, server = await loop.create_datagram_endpoint(Echo, local_addr=("127.0.0.1", 0))
        sep = server.transport.get_extra_info("sockname")
        rtts: list[float] = []
        done = loop.create_future()
        buf = bytes(size)
        started = [0.0]

        class Client(asyncio.DatagramProtocol):
            def connection_made(self, transport: Any) -> None:
                self.transport = transport

            def datagram_received(self, data: bytes, addr: Any) -> None:
                rtts.append((perf() - started[0]) * 1e6)
                if len(rtts) >= n + warmup or p.over():
                    if not done.done():
                        done.set_result(None)
                else:
                    self.next()

            def next(self) -> None:
                started[0] = perf()
                self.transport.sendto(buf, sep)

        _, client = await loop.create_datagram_endpoint(Client, local_addr=("127.0.0.1", 0))
        client.next()
        try:
            await asyncio.wait_for(done, p.remaining())
        except TimeoutError:
            pass
        latency(rtts, warmup, n + warmup)

    asyncio.run(main())


def bulk_sock(p: Params) -> None:
    total, block = p.i("total", 64 << 20), p.i("block", 65536)
    c, s = _tcp_pair()
    got = [0]

    async def both() -> None:
        loop = asyncio.get_running_loop()

        async def writer() -> None:
            view = memoryview(bytearray(block))
            sent = 0
            while sent < total and not p.over():
                k = min(block, total - sent)
                await loop.sock_sendall(c, view[:k])
                sent += k

        async def reader() -> None:
            b = bytearray(block)
            while got[0] < total and not p.over():
                k = await loop.sock_recv_into(s, b)
                if k == 0:
                    break
                got[0] += k

        t0 = perf()
        r = asyncio.ensure_future(reader())
        w = asyncio.ensure_future(writer())
        try:
            await asyncio.wait_for(r, p.remaining())
        except TimeoutError:
            pass
        report(got[0] / (perf() - t0), "bytes/s", got[0], got[0] < total)
        w.cancel()

    asyncio.run(both())


def echo_sock(p: Params) -> None:
    conns, rounds, size = p.i("conns", 100), p.i("rounds", 50), p.i("size", 128)
    wanted = conns * rounds
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(conns)
    listener.setblocking(False)
    echoed = [0]

    async def main() -> None:
        loop = asyncio.get_running_loop()

        async def serve(a: socket.socket) -> None:
            b = bytearray(size)
            view = memoryview(b)
            while True:
                k = await loop.sock_recv_into(a, b)
                if k == 0:
                    break
                await loop.sock_sendall(a, view[:k])
            a.close()

        async def accept() -> None:
            for _ in range(conns):
                a, _ = await loop.sock_accept(listener)
                asyncio.ensure_future(serve(a))

        async def client(c: socket.socket) -> None:
            req = bytes(size)
            view = memoryview(bytearray(size))
            for _ in range(rounds):
                if p.over():
                    return
                await loop.sock_sendall(c, req)
                got = 0
                while got < size:
                    k = await loop.sock_recv_into(c, view[got:])
                    if k == 0:
                        return
                    got += k
                echoed[0] += 1

        acceptor = asyncio.ensure_future(accept())
        clients = []
        for _ in range(conns):
            c = socket.create_connection(listener.getsockname())  # held by the backlog until accepted
            c.setblocking(False)
            clients.append(c)
        t0 = perf()
        try:
            await asyncio.wait_for(asyncio.gather(*(client(c) for c in clients)), p.remaining())
        except TimeoutError:
            pass
        rate(echoed[0], wanted, perf() - t0, "round trips/s")
        acceptor.cancel()

    asyncio.run(main())


def accept_sock(p: Params) -> None:
    n = p.i("count", 2000)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(512)
    listener.setblocking(False)
    addr = listener.getsockname()
    accepted = [0]
    done = threading.Event()

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        while accepted[0] < n:
            a, _ = await loop.sock_accept(listener)
            a.close()
            accepted[0] += 1
        done.set()

    payload = b"x"
    t0 = perf()
    threading.Thread(target=_run, args=(serve(),), daemon=True).start()
    for _ in range(n):
        if p.over():
            break
        c = socket.create_connection(addr)
        c.sendall(payload)
        c.close()
    done.wait(p.remaining())
    rate(accepted[0], n, perf() - t0, "connections/s")


def stream_rw(p: Params) -> None:
    total, block = p.i("total", 64 << 20), p.i("block", 65536)

    async def main() -> None:
        accepted: asyncio.Future[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = (
            asyncio.get_running_loop().create_future()
        )

        async def on_client(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            accepted.set_result((r, w))

        server = await asyncio.start_server(on_client, "127.0.0.1", 0)
        _, ws = await asyncio.open_connection(*server.sockets[0].getsockname())
        rs, _ = await accepted
        got = [0]

        async def writer() -> None:
            b = bytes(block)
            sent = 0
            while sent < total and not p.over():
                k = min(block, total - sent)
                ws.write(b if k == block else b[:k])
                await ws.drain()
                sent += k

        async def reader() -> None:
            while got[0] < total and not p.over():
                data = await rs.read(block)
                if not data:
                    break
                got[0] += len(data)

        t0 = perf()
        w = asyncio.ensure_future(writer())
        try:
            await asyncio.wait_for(reader(), p.remaining())
        except TimeoutError:
            pass
        report(got[0] / (perf() - t0), "bytes/s", got[0], got[0] < total)
        w.cancel()

    asyncio.run(main())


def client_echo(p: Params) -> None:
    n, size = p.i("count", 5000), p.i("size", 128)

    async def main() -> None:
        async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            while data := await r.read(size):
                w.write(data)
                await w.drain()
            w.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        reader, writer = await asyncio.open_connection(*server.sockets[0].getsockname())
        req = bytes(size)

        done = [0]

        async def rounds() -> None:
            while done[0] < n and not p.over():
                writer.write(req)
                await writer.drain()
                await reader.readexactly(size)
                done[0] += 1

        t0 = perf()
        try:
            await asyncio.wait_for(rounds(), p.remaining())
        except TimeoutError:
            pass
        rate(done[0], n, perf() - t0, "round trips/s")

    asyncio.run(main())
