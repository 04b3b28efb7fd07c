"""An asyncio echo server and client written with the awaitable methods (AcceptAsync, ReceiveAsync, ...).

The task model of .NET (``await socket.ReceiveAsync(...)``) is the natural one in asyncio: each
``…Async`` method called with ordinary arguments returns an awaitable for the running loop, and
raises the same exceptions as the synchronous call.  The server serves each connection in its
own task; the client also checks a UDP round trip with ``SendToAsync``/``ReceiveFromAsync``.
Every wait is bounded with ``asyncio.timeout``; cancelling a receive takes no data off the socket.

Run both ends in one process, on a free loopback port (exits by itself)::

    python examples/asyncio_echo.py

or in two terminals::

    python examples/asyncio_echo.py server --port 11000 --connections 1
    python examples/asyncio_echo.py client --port 11000
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from dotnet_sockets import (
    AddressFamily,
    IPAddress,
    IPEndPoint,
    ProtocolType,
    Socket,
    SocketException,
    SocketFlags,
    SocketShutdown,
    SocketType,
)

BUFFER_SIZE = 1024


def stream_socket(ep: IPEndPoint) -> Socket:
    return Socket(ep.AddressFamily, SocketType.Stream, ProtocolType.Tcp)


async def echo(conn: Socket) -> None:
    """Send back everything the peer sends, until it shuts down its side."""
    buffer = bytearray(BUFFER_SIZE)
    with conn:
        while True:
            n = await conn.ReceiveAsync(buffer, SocketFlags.None_)
            if n == 0:
                conn.Shutdown(SocketShutdown.Send)
                return
            await conn.SendAsync(memoryview(buffer)[:n], SocketFlags.None_)


async def serve(listener: Socket, connections: int) -> None:
    """Accept ``connections`` clients (0 = no limit) and echo for each in its own task."""
    async with asyncio.TaskGroup() as tasks:
        served = 0
        while connections == 0 or served < connections:
            conn = await listener.AcceptAsync()
            print(f"Accepted {conn.RemoteEndPoint}", flush=True)
            tasks.create_task(echo(conn))
            served += 1


async def receive_exactly(sock: Socket, count: int) -> bytes:
    data = bytearray()
    buffer = bytearray(BUFFER_SIZE)
    while len(data) < count:
        n = await sock.ReceiveAsync(buffer, SocketFlags.None_)
        if n == 0:
            raise ConnectionError("the server closed the connection early")
        data += buffer[:n]
    return bytes(data)


async def run_client(endpoint: IPEndPoint, messages: list[bytes]) -> bool:
    with stream_socket(endpoint) as client:
        await client.ConnectAsync(endpoint)
        print(f"Connected to {client.RemoteEndPoint}", flush=True)
        ok = True
        for message in messages:
            await client.SendAsync(message, SocketFlags.None_)
            echoed = await receive_exactly(client, len(message))
            print(f"Echoed: {echoed.decode('utf-8')!r}", flush=True)
            ok = ok and echoed == message
        client.Shutdown(SocketShutdown.Send)
        ok = await client.ReceiveAsync(bytearray(1)) == 0 and ok  # the server's shutdown
    return ok


async def udp_round_trip(host: IPAddress) -> bool:
    """One datagram there and back, with SendToAsync and ReceiveFromAsync."""
    family = host.AddressFamily
    any_ep = IPEndPoint(IPAddress.Any if family == AddressFamily.InterNetwork else IPAddress.IPv6Any, 0)
    with (
        Socket(family, SocketType.Dgram, ProtocolType.Udp) as a,
        Socket(family, SocketType.Dgram, ProtocolType.Udp) as b,
    ):
        b.Bind(IPEndPoint(host, 0))
        b_ep = b.LocalEndPoint
        assert b_ep is not None
        buffer = bytearray(BUFFER_SIZE)
        await a.SendToAsync(b"datagram", SocketFlags.None_, b_ep)
        got = await b.ReceiveFromAsync(buffer, SocketFlags.None_, any_ep)
        await b.SendToAsync(memoryview(buffer)[: got.ReceivedBytes], SocketFlags.None_, got.RemoteEndPoint)
        back = await a.ReceiveFromAsync(buffer, SocketFlags.None_, any_ep)
        print(
            f"UDP echo: {bytes(buffer[: back.ReceivedBytes]).decode()!r} via {got.RemoteEndPoint}", flush=True
        )
        return bytes(buffer[: back.ReceivedBytes]) == b"datagram"


async def amain(role: str, endpoint: IPEndPoint, connections: int, timeout: float | None) -> bool:
    messages = [b"hello", b"echo me back", "non-ASCII: \u00e9\u00e8".encode()]
    if role == "client":
        async with asyncio.timeout(timeout or 10.0):
            return await run_client(endpoint, messages)
    with stream_socket(endpoint) as listener:
        listener.Bind(endpoint)
        listener.Listen(16)
        print(f"Listening on {listener.LocalEndPoint}", flush=True)
        if role == "server":
            # Stops after --connections clients (or after --timeout seconds, if given).
            async with asyncio.timeout(timeout):
                await serve(listener, connections)
            return True
        async with asyncio.timeout(timeout or 10.0):
            server = asyncio.create_task(serve(listener, 1))
            local = listener.LocalEndPoint
            assert isinstance(local, IPEndPoint)
            ok = await run_client(local, messages)
            await server
            ok = await udp_round_trip(endpoint.Address) and ok
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("role", nargs="?", choices=["demo", "server", "client"], default="demo")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (demo, server)")
    parser.add_argument("--connections", type=int, default=1, help="server: clients to serve before exiting")
    parser.add_argument(
        "--timeout", type=float, default=None, help="seconds to wait in all (default 10); server: no limit"
    )
    args = parser.parse_args(argv)
    endpoint = IPEndPoint(IPAddress.Parse(args.host), args.port)
    try:
        ok = asyncio.run(amain(args.role, endpoint, args.connections, args.timeout))
    except (SocketException, TimeoutError, ConnectionError) as ex:
        print(f"Failed: {ex!r}", file=sys.stderr)
        return 1
    print("Done." if ok else "Failed.", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
