"""Receive UDP datagrams with BeginReceiveFrom/EndReceiveFrom, each callback starting the next receive.

Run it alone (it binds a free loopback port and sends itself the datagrams)::

    python examples/udp_receiver.py

or wait for udp_sender.py in another terminal::

    python examples/udp_receiver.py --port 11000 --count 3
    python examples/udp_sender.py --port 11000 --count 3

``--port 0 --wait`` binds a free port, prints it, and waits for another process.
"""

from __future__ import annotations

import argparse
import sys

from dotnet_sockets import (
    AddressFamily,
    IAsyncResult,
    IPAddress,
    IPEndPoint,
    ManualResetEvent,
    ProtocolType,
    Socket,
    SocketError,
    SocketException,
    SocketFlags,
    SocketType,
)


class Receiver:
    """Receives ``count`` datagrams, then signals ``finished``."""

    def __init__(self, local_ep: IPEndPoint, count: int) -> None:
        self.socket = Socket(local_ep.AddressFamily, SocketType.Dgram, ProtocolType.Udp)
        self.socket.Bind(local_ep)
        self.count = count
        self.received: list[tuple[bytes, IPEndPoint]] = []
        # One buffer is enough: only one receive is pending at a time.
        self.buffer = bytearray(65507)
        # The "any sender" endpoint: C# passes it by ref and reads the sender back from it.
        any_address = IPAddress.IPv6Any if local_ep.AddressFamily == AddressFamily.InterNetworkV6 else IPAddress.Any
        self.any_ep = IPEndPoint(any_address, 0)
        self.finished = ManualResetEvent(False)
        self.error: SocketException | None = None

    def start(self) -> None:
        self.socket.BeginReceiveFrom(
            self.buffer, 0, len(self.buffer), SocketFlags.None_, self.any_ep, self.receive_callback, None
        )

    def receive_callback(self, ar: IAsyncResult) -> None:
        try:
            # EndReceiveFrom(ar, ref remoteEP) returns the byte count and fills remoteEP;
            # in Python both come back together.
            n, sender = self.socket.EndReceiveFrom(ar)
        except SocketException as ex:
            if ex.SocketErrorCode != SocketError.OperationAborted:  # aborted = we closed the socket
                self.error = ex
            self.finished.Set()
            return
        data = bytes(self.buffer[:n])
        assert isinstance(sender, IPEndPoint)
        self.received.append((data, sender))
        print(f"Received {n} bytes from {sender}: {data.decode('ascii', 'replace')!r}", flush=True)
        if len(self.received) < self.count:
            self.start()
        else:
            self.finished.Set()

    def close(self) -> None:
        self.socket.Close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="local address to bind")
    parser.add_argument(
        "--port",
        type=int,
        default=0,
        help="local port (.NET's samples use 11000); 0, the default, picks a free one and runs alone",
    )
    parser.add_argument("--count", type=int, default=3, help="datagrams to receive before exiting")
    parser.add_argument("--wait", action="store_true", help="with --port 0: wait for another process to send")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for all datagrams")
    args = parser.parse_args(argv)

    receiver = Receiver(IPEndPoint(IPAddress.Parse(args.host), args.port), args.count)
    local_ep = receiver.socket.LocalEndPoint
    assert local_ep is not None  # bound by Receiver
    print(f"Listening on {local_ep}", flush=True)
    try:
        receiver.start()
        if args.port == 0 and not args.wait:
            # Alone: be our own sender.
            with Socket(receiver.socket.AddressFamily, SocketType.Dgram, ProtocolType.Udp) as sender:
                for i in range(args.count):
                    sender.SendTo(f"datagram {i}".encode("ascii"), SocketFlags.None_, local_ep)
        if not receiver.finished.WaitOne(int(args.timeout * 1000)):
            print(f"Timed out after {len(receiver.received)} of {args.count} datagrams", file=sys.stderr)
            return 1
    finally:
        receiver.close()
    if receiver.error is not None:
        print(f"Failed: {receiver.error!r}", file=sys.stderr)
        return 1
    print("Done.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
