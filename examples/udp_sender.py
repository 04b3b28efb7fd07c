"""Send UDP datagrams with BeginSendTo/EndSendTo: the .NET ``BeginSendTo`` page's example, done right.

The page's example sends on a TCP socket it never connects, so every send fails (see
docs/porting.md).  This is the same loop on a UDP socket, with the callback calling
``EndSendTo`` before it signals the waiting thread, and a bounded number of sends.

Run it alone (it starts its own receiver on a free loopback port, sends, checks, exits)::

    python examples/udp_sender.py

or against udp_receiver.py in another terminal::

    python examples/udp_receiver.py --port 11000 --count 3
    python examples/udp_sender.py --port 11000 --count 3
"""

from __future__ import annotations

import argparse
import sys

from dotnet_sockets import (
    AddressFamily,
    Dns,
    IAsyncResult,
    IPEndPoint,
    ManualResetEvent,
    ProtocolType,
    Socket,
    SocketException,
    SocketFlags,
    SocketType,
)


class Sender:
    """One UDP socket; ``send`` starts a ``BeginSendTo`` and waits for its callback, like the page."""

    def __init__(self, family: AddressFamily, timeout_ms: int) -> None:
        self.socket = Socket(family, SocketType.Dgram, ProtocolType.Udp)
        self.timeout_ms = timeout_ms
        self.all_done = ManualResetEvent(False)
        self.error: SocketException | None = None

    def send_to_callback(self, ar: IAsyncResult) -> None:
        # Runs on a completion thread.  End first, signal last: the page's callback
        # signals first, so its loop runs on before it knows whether the send worked.
        s: Socket = ar.AsyncState
        try:
            sent = s.EndSendTo(ar)
            print(f"Sent {sent} bytes from {s.LocalEndPoint}", flush=True)
        except SocketException as ex:
            self.error = ex
        finally:
            self.all_done.Set()

    def send(self, message: bytes, remote_ep: IPEndPoint) -> None:
        self.all_done.Reset()
        print("Sending Message Now..", flush=True)
        self.socket.BeginSendTo(
            message, 0, len(message), SocketFlags.None_, remote_ep, self.send_to_callback, self.socket
        )
        if not self.all_done.WaitOne(self.timeout_ms):
            raise TimeoutError("the send did not complete")
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        self.socket.Close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="receiver's host name or address")
    parser.add_argument(
        "--port", type=int, default=0, help="receiver's port (.NET's samples use 11000); 0, the default, runs alone"
    )
    parser.add_argument("--count", type=int, default=3, help="datagrams to send")
    parser.add_argument("--message", default="This is a test")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for each step")
    args = parser.parse_args(argv)
    timeout_ms = int(args.timeout * 1000)

    # Dns.Resolve(host).AddressList[0] in the page; GetHostAddresses is the current call.
    address = Dns.GetHostAddresses(args.host)[0]
    own_receiver: Socket | None = None
    if args.port == 0:
        own_receiver = Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp)
        own_receiver.Bind(IPEndPoint(address, 0))
        own_receiver.ReceiveTimeout = timeout_ms
        remote_ep = own_receiver.LocalEndPoint
        assert isinstance(remote_ep, IPEndPoint)
    else:
        remote_ep = IPEndPoint(address, args.port)

    sender = Sender(address.AddressFamily, timeout_ms)
    message = args.message.encode("ascii")  # Encoding.ASCII.GetBytes(...)
    try:
        for _ in range(args.count):
            sender.send(message, remote_ep)
        if own_receiver is not None:
            buffer = bytearray(65507)
            for _ in range(args.count):
                n, origin = own_receiver.ReceiveFrom(buffer, IPEndPoint(address, 0))
                print(f"Receiver got {bytes(buffer[:n]).decode('ascii')!r} from {origin}", flush=True)
                if bytes(buffer[:n]) != message:
                    print("datagram changed on the way", file=sys.stderr)
                    return 1
    except (SocketException, TimeoutError) as ex:
        print(f"Failed: {ex!r}", file=sys.stderr)
        return 1
    finally:
        sender.close()
        if own_receiver is not None:
            own_receiver.Close()
    print("Done.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
