"""The ``dotnet-sockets`` command line (also ``python -m dotnet_sockets``).

It uses the public API only, so each command doubles as an example.
Exit codes: 0 success, 1 a socket or network error, 2 bad usage, 130 interrupted.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from collections.abc import Sequence

from . import (
    AddressFamily,
    IAsyncResult,
    IPAddress,
    IPEndPoint,
    ManualResetEvent,
    ProtocolType,
    Socket,
    SocketException,
    SocketFlags,
    SocketType,
)

__all__ = ["main"]

EXIT_OK = 0
EXIT_NETWORK = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def _demo(args: argparse.Namespace) -> int:
    """Loopback UDP: a BeginReceiveFrom receiver, a BeginSendTo sender, with the trace."""
    out = sys.stdout
    handler: logging.Handler | None = None
    if not args.no_trace:
        handler = logging.StreamHandler(out)
        handler.setFormatter(logging.Formatter("    trace | %(threadName)s | %(message)s"))
        lg = logging.getLogger("dotnet_sockets")
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG)
    count = args.count
    try:
        with (
            Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) as receiver,
            Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) as sender,
        ):
            receiver.Bind(IPEndPoint(IPAddress.Loopback, 0))
            target = receiver.LocalEndPoint
            assert isinstance(target, IPEndPoint)
            print(f"receiver bound to {target}", file=out)

            received: list[tuple[bytes, str]] = []
            all_received = ManualResetEvent(False)
            buf = bytearray(2048)

            def on_receive(ar: IAsyncResult) -> None:
                n, sender_ep = receiver.EndReceiveFrom(ar)
                received.append((bytes(buf[:n]), str(sender_ep)))
                if len(received) == count:
                    all_received.Set()
                else:
                    receiver.BeginReceiveFrom(
                        buf, 0, len(buf), SocketFlags.None_, IPEndPoint(IPAddress.Any, 0), on_receive, None
                    )

            receiver.BeginReceiveFrom(
                buf, 0, len(buf), SocketFlags.None_, IPEndPoint(IPAddress.Any, 0), on_receive, None
            )

            print(f"sender LocalEndPoint before BeginSendTo: {sender.LocalEndPoint}", file=out)
            main_thread = threading.current_thread().name
            sent = ManualResetEvent(False)
            done: list[str] = []
            lock = threading.Lock()

            def on_sent(ar: IAsyncResult) -> None:
                n = sender.EndSendTo(ar)
                with lock:
                    done.append(
                        f"callback for {ar.AsyncState!r}: EndSendTo -> {n} bytes, "
                        f"on thread {threading.current_thread().name!r} (caller: {main_thread!r}), "
                        f"CompletedSynchronously={ar.CompletedSynchronously}"
                    )
                    if len(done) == count:
                        sent.Set()

            for i in range(count):
                message = f"datagram {i + 1} of {count} from BeginSendTo".encode()
                sender.BeginSendTo(
                    message, 0, len(message), SocketFlags.None_, target, on_sent, f"message {i + 1}"
                )
                if i == 0:
                    print(f"sender LocalEndPoint right after BeginSendTo: {sender.LocalEndPoint}", file=out)
            if not sent.WaitOne(5000) or not all_received.WaitOne(5000):
                print("error: the loopback exchange did not complete within 5 s", file=sys.stderr)
                return EXIT_NETWORK
            for line in done:
                print(line, file=out)
            for data, origin in received:
                print(f"receiver got {data.decode()!r} from {origin}", file=out)
            print(f"sender LocalEndPoint after EndSendTo: {sender.LocalEndPoint}", file=out)
    except SocketException as exc:
        print(
            f"error: {exc} (SocketError.{exc.SocketErrorCode.name}, ErrorCode {exc.ErrorCode})",
            file=sys.stderr,
        )
        return EXIT_NETWORK
    finally:
        if handler is not None:
            logging.getLogger("dotnet_sockets").removeHandler(handler)
    print("demo complete", file=out)
    return EXIT_OK


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dotnet-sockets",
        description=".NET's System.Net.Sockets for Python: try the asynchronous socket calls from a shell.",
        epilog="example: dotnet-sockets demo",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser(
        "demo",
        help="loopback send and receive with BeginSendTo/EndSendTo, showing callbacks and the trace",
        description="Start a loopback UDP receiver, send datagrams to it with BeginSendTo, "
        "and show each callback, the bytes sent, LocalEndPoint and the network trace.",
    )
    demo.add_argument("--count", type=int, default=3, help="datagrams to send (default 3)")
    demo.add_argument("--no-trace", action="store_true", help="do not show the network trace")
    demo.set_defaults(func=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    if getattr(args, "count", 1) is not None and getattr(args, "count", 1) < 1:
        parser.error("--count must be at least 1")
    try:
        result: int = args.func(args)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    return result
