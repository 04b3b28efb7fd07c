"""A UdpClient receiver and sender: C#'s ``Receive(ref remoteEP)`` returns ``(data, remote_ep)`` here.

Run it alone (the receiver binds a free loopback port and the sender sends to it)::

    python examples/udpclient_pair.py

or as two processes::

    python examples/udpclient_pair.py receiver --port 11000 --count 3
    python examples/udpclient_pair.py sender --port 11000 --count 3
"""

from __future__ import annotations

import argparse
import sys
import threading

from dotnet_sockets import IPAddress, IPEndPoint, SocketException, UdpClient


def receive(receiver: UdpClient, count: int) -> None:
    remote_ep = IPEndPoint(IPAddress.Any, 0)
    for _ in range(count):
        # C#: byte[] data = receiver.Receive(ref remoteEP);
        data, remote_ep = receiver.Receive(remote_ep)
        print(f"Received {len(data)} bytes from {remote_ep}: {data.decode()!r}\n", end="", flush=True)
    receiver.Close()


def send(host: str, port: int, count: int, message: str) -> None:
    with UdpClient(host, port) as sender:  # connects: Send needs no endpoint
        for i in range(count):
            data = f"{message} {i}".encode()
            sent = sender.Send(data, len(data))
            print(f"Sent {sent} bytes\n", end="", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", nargs="?", choices=["both", "receiver", "sender"], default="both")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--count", type=int, default=3)
    parser.add_argument("--message", default="datagram")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds a receive may wait")
    args = parser.parse_args()
    try:
        if args.mode == "sender":
            send(args.host, args.port, args.count, args.message)
            return 0
        receiver = UdpClient(IPEndPoint(IPAddress.Parse(args.host), args.port))
        receiver.Client.ReceiveTimeout = int(args.timeout * 1000)
        ep = receiver.Client.LocalEndPoint
        assert isinstance(ep, IPEndPoint)
        shown = f"[{ep.Address}]" if ":" in str(ep.Address) else str(ep.Address)
        print(f"Listening on {shown}:{ep.Port}\n", end="", flush=True)
        if args.mode == "receiver":
            receive(receiver, args.count)
        else:
            done = threading.Thread(target=receive, args=(receiver, args.count))
            done.start()
            send(args.host, ep.Port, args.count, args.message)
            done.join(args.timeout)
    except (SocketException, OSError) as exc:
        print(f"Error: {exc!r}", file=sys.stderr)
        return 1
    print("Done.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
