"""The client classes under asyncio: C#'s ``await`` on TcpListener, TcpClient, NetworkStream and UdpClient.

An echo server (``AcceptTcpClientAsync``, ``ReadAsync``/``WriteAsync`` on the stream) and its
client (``ConnectAsync``), then a UdpClient pair (``SendAsync``, ``ReceiveAsync`` returning a
``UdpReceiveResult``).  Every await has a ``CancellationToken`` from a source that cancels
itself after ``--timeout`` seconds, as C# code passes ``cts.Token``.  Run it alone::

    python examples/asyncio_clients.py
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from dotnet_sockets import (
    CancellationToken,
    CancellationTokenSource,
    IPAddress,
    IPEndPoint,
    OperationCanceledException,
    SocketException,
    TcpClient,
    TcpListener,
    UdpClient,
)

MESSAGES = [b"hello", b"echo me back"]


async def echo_once(listener: TcpListener, token: CancellationToken) -> None:
    with await listener.AcceptTcpClientAsync(token) as client:
        stream = client.GetStream()
        buffer = bytearray(4096)
        while (n := await stream.ReadAsync(buffer, 0, len(buffer), token)) > 0:
            await stream.WriteAsync(buffer, 0, n, token)


async def tcp(address: IPAddress, token: CancellationToken) -> None:
    listener = TcpListener(address, 0)
    listener.Start()
    ep = listener.LocalEndpoint
    assert isinstance(ep, IPEndPoint)
    print(f"Listening on {ep}")
    server = asyncio.create_task(echo_once(listener, token))
    with TcpClient(address.AddressFamily) as client:
        await client.ConnectAsync(ep.Address, ep.Port, token)
        stream = client.GetStream()
        for message in MESSAGES:
            await stream.WriteAsync(message, token)
            echoed = bytearray(len(message))
            await stream.ReadExactlyAsync(echoed, token)
            print(f"Echoed: {echoed.decode()!r}")
    await server  # the server's read returns 0 once the client has closed
    listener.Stop()


async def udp(address: IPAddress, token: CancellationToken) -> None:
    with UdpClient(IPEndPoint(address, 0)) as receiver, UdpClient(address.AddressFamily) as sender:
        to = receiver.Client.LocalEndPoint
        assert isinstance(to, IPEndPoint)
        await sender.SendAsync(b"datagram", to, token)
        result = await receiver.ReceiveAsync(token)
        print(f"Received {bytes(result.Buffer)!r} from {result.RemoteEndPoint}")


async def main_async(host: str, timeout: float) -> None:
    with CancellationTokenSource(int(timeout * 1000)) as cts:
        address = IPAddress.Parse(host)
        await tcp(address, cts.Token)
        await udp(address, cts.Token)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds before everything is cancelled")
    args = parser.parse_args()
    try:
        asyncio.run(main_async(args.host, args.timeout))
    except (SocketException, OperationCanceledException, OSError) as exc:
        print(f"Error: {exc!r}", file=sys.stderr)
        return 1
    print("Done.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
