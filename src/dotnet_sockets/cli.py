"""The ``dotnet-sockets`` command line (also ``python -m dotnet_sockets``).

It uses the public API only, so each command doubles as an example.

Exit codes (scripts may rely on them):

====  ==============================================================
0     success
1     a socket or network error (refused, unreachable, too large...)
2     bad usage: unknown option, bad address, bad port, bad number
3     a host name that does not resolve
4     the local address is unavailable (port in use, no permission)
5     timed out (``--timeout``)
6     refused by the socket policy (``--loopback-only``, ``--no-broadcast``)
130   interrupted (Ctrl-C)
====  ==============================================================
"""

from __future__ import annotations

import argparse
import logging
import queue
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import NoReturn, TextIO

from . import (
    AddressFamily,
    Dns,
    IAsyncResult,
    IPAddress,
    IPEndPoint,
    ManualResetEvent,
    ProtocolType,
    SecurityException,
    Socket,
    SocketError,
    SocketException,
    SocketFlags,
    SocketShutdown,
    SocketType,
    _accel,
    version_string,
)
from .security import SocketPolicy, install_policy
from .telemetry import Telemetry, TelemetrySnapshot
from .tracing import VERBOSE, hexdump, stderr_handler

__all__ = ["main", "EXIT_OK", "EXIT_NETWORK", "EXIT_USAGE", "EXIT_RESOLVE", "EXIT_ADDRESS", "EXIT_TIMEOUT"]

EXIT_OK = 0
EXIT_NETWORK = 1
EXIT_USAGE = 2
EXIT_RESOLVE = 3
EXIT_ADDRESS = 4
EXIT_TIMEOUT = 5
EXIT_DENIED = 6
EXIT_INTERRUPTED = 130

# SocketErrors that mean "this local address cannot be used" when binding.
_ADDRESS_ERRORS = frozenset(
    {SocketError.AddressAlreadyInUse, SocketError.AddressNotAvailable, SocketError.AccessDenied}
)
_RESOLVE_ERRORS = frozenset(
    {SocketError.HostNotFound, SocketError.TryAgain, SocketError.NoData, SocketError.NoRecovery}
)


class _Exit(Exception):
    """Leave a command with an exit code and a message for standard error."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def _describe(exc: SocketException) -> str:
    return f"{exc} (SocketError.{exc.SocketErrorCode.name}, ErrorCode {exc.ErrorCode})"


_send_path = _accel.send_path
_version_text = version_string


def _out(text: str, stream: TextIO | None = None) -> None:
    # Flushed line by line so that a pipe or a test reading the output sees each line at once.
    print(text, file=stream or sys.stdout, flush=True)


# -- arguments -----------------------------------------------------------------------------------


def _port(text: str, *, allow_zero: bool) -> int:
    if not (text.isascii() and text.isdigit()):
        raise _Exit(EXIT_USAGE, f"bad port {text!r}: not a number")
    port = int(text)
    low = 0 if allow_zero else 1
    if not low <= port <= 65535:
        raise _Exit(EXIT_USAGE, f"bad port {port}: must be between {low} and 65535")
    return port


def _split_host_port(text: str) -> tuple[str, str]:
    """``host:port`` or ``[ipv6]:port``."""
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or not rest.startswith(":"):
            raise _Exit(EXIT_USAGE, f"bad address {text!r}: write an IPv6 endpoint as [address]:port")
        return host, rest[1:]
    host, sep, port = text.rpartition(":")
    if not sep or not host:
        raise _Exit(EXIT_USAGE, f"bad address {text!r}: expected HOST:PORT (for example 127.0.0.1:9000)")
    if ":" in host:
        raise _Exit(EXIT_USAGE, f"bad address {text!r}: write an IPv6 endpoint as [address]:port")
    return host, port


def _looks_numeric(host: str) -> bool:
    return all(c.isdigit() or c == "." for c in host) or ":" in host


def _resolve(host: str) -> IPAddress:
    ok, address = IPAddress.TryParse(host)
    if ok and address is not None:
        return address
    if _looks_numeric(host):
        raise _Exit(EXIT_USAGE, f"bad address {host!r}: not an IPv4 or IPv6 address")
    try:
        addresses = Dns.GetHostAddresses(host)
    except SocketException as exc:
        code = EXIT_RESOLVE if exc.SocketErrorCode in _RESOLVE_ERRORS else EXIT_NETWORK
        raise _Exit(code, f"cannot resolve {host!r}: {_describe(exc)}") from None
    except ValueError as exc:  # ArgumentException: not a valid host name
        raise _Exit(EXIT_USAGE, f"bad host name {host!r}: {exc}") from None
    if not addresses:
        raise _Exit(EXIT_RESOLVE, f"cannot resolve {host!r}: no addresses")
    # Prefer IPv4, as most services listen there first.
    addresses.sort(key=lambda a: a.AddressFamily != AddressFamily.InterNetwork)
    return addresses[0]


def _endpoint(text: str) -> IPEndPoint:
    host, port_text = _split_host_port(text)
    port = _port(port_text, allow_zero=False)
    return IPEndPoint(_resolve(host), port)


def _new_socket(family: AddressFamily, tcp: bool) -> Socket:
    if tcp:
        return Socket(family, SocketType.Stream, ProtocolType.Tcp)
    return Socket(family, SocketType.Dgram, ProtocolType.Udp)


# -- send ----------------------------------------------------------------------------------------


def _payloads(args: argparse.Namespace) -> Callable[[int], bytes]:
    message: str | None = args.message
    size: int | None = args.size

    def payload(i: int) -> bytes:
        data = (message if message is not None else f"message {i} from dotnet-sockets").encode()
        if size is not None:
            if not data:
                data = b"\0"
            data = (data * (size // len(data) + 1))[:size]
        return data

    return payload


def _send(args: argparse.Namespace) -> int:
    target = _endpoint(args.target)
    payload = _payloads(args)
    flags = SocketFlags.DontRoute if args.dont_route else SocketFlags.None_
    proto = "tcp" if args.tcp else "udp"
    done: queue.Queue[tuple[int, int, str | None, bool]] = queue.Queue()
    reported = failures = 0
    with _new_socket(target.AddressFamily, args.tcp) as sock:
        if args.broadcast:
            sock.EnableBroadcast = True
        if args.tcp:
            connect = sock.BeginConnect(target, None, None)
            if not connect.AsyncWaitHandle.WaitOne(int(args.timeout * 1000)):
                raise _Exit(EXIT_TIMEOUT, f"timed out connecting to {target} after {args.timeout:g} s")
            try:
                sock.EndConnect(connect)
            except SocketException as exc:
                raise _Exit(EXIT_NETWORK, f"cannot connect to {target}: {_describe(exc)}") from None
            _out(f"connected to {target} from {sock.LocalEndPoint}")

        # A connected TCP socket sends with BeginSend/EndSend; UDP addresses each datagram (BeginSendTo).
        end_name = "EndSend" if args.tcp else "EndSendTo"
        end = sock.EndSend if args.tcp else sock.EndSendTo

        def on_sent(ar: IAsyncResult) -> None:
            # The .NET pattern: End... in the callback, on a completion thread.
            try:
                n = end(ar)
            except SocketException as exc:
                done.put((ar.AsyncState, 0, _describe(exc), ar.CompletedSynchronously))
            else:
                done.put((ar.AsyncState, n, None, ar.CompletedSynchronously))

        def report(timeout: float | None) -> None:
            """Print the completions that arrived; with a timeout, wait that long for the first."""
            nonlocal reported, failures
            while True:
                try:
                    index, n, error, sync = done.get(timeout is not None, timeout)
                except queue.Empty:
                    return
                timeout = None
                reported += 1
                if error is None:
                    _out(
                        f"[{index}/{args.count}] {end_name}: {n} bytes sent over {proto} to {target} "
                        f"from {sock.LocalEndPoint} (CompletedSynchronously={sync})"
                    )
                else:
                    failures += 1
                    _out(f"[{index}/{args.count}] {end_name} failed: {error}", sys.stderr)

        for i in range(1, args.count + 1):
            data = payload(i)
            if args.tcp:
                sock.BeginSend(data, 0, len(data), flags, on_sent, i)
            else:
                sock.BeginSendTo(data, 0, len(data), flags, target, on_sent, i)
            if i < args.count and args.interval > 0:
                time.sleep(args.interval)  # pacing between sends, not a wait for a result
            report(None)
        deadline = time.monotonic() + args.timeout
        while reported < args.count:
            left = deadline - time.monotonic()
            if left <= 0:
                raise _Exit(EXIT_TIMEOUT, f"timed out: {args.count - reported} sends did not complete")
            report(min(left, 0.25))
        if args.tcp:
            try:
                sock.Shutdown(SocketShutdown.Send)
            except SocketException:
                pass
    return EXIT_NETWORK if failures else EXIT_OK


# -- listen --------------------------------------------------------------------------------------


def _is_text(data: bytes) -> str | None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if all(c.isprintable() or c in "\t\r\n" for c in text):
        return text
    return None


def _show_message(index: int, data: bytes, sender: object) -> None:
    text = _is_text(data)
    if text is not None:
        _out(f"[{index}] {len(data)} bytes from {sender}: {text.rstrip(chr(10)).rstrip(chr(13))}")
    else:
        _out(f"[{index}] {len(data)} bytes from {sender} (binary):\n{hexdump(data)}")


def _bind_address(args: argparse.Namespace) -> IPAddress:
    ok, address = IPAddress.TryParse(args.bind)
    if not ok or address is None:
        raise _Exit(EXIT_USAGE, f"bad --bind address {args.bind!r}: not an IPv4 or IPv6 address")
    return address


def _listen(args: argparse.Namespace) -> int:
    port = _port(args.port, allow_zero=True)
    local = IPEndPoint(_bind_address(args), port)
    proto = "tcp" if args.tcp else "udp"
    events: queue.Queue[tuple[str, object, object]] = queue.Queue()
    with _new_socket(local.AddressFamily, args.tcp) as sock:
        try:
            sock.Bind(local)
            if args.tcp:
                sock.Listen(16)
        except SocketException as exc:
            code = EXIT_ADDRESS if exc.SocketErrorCode in _ADDRESS_ERRORS else EXIT_NETWORK
            raise _Exit(code, f"cannot listen on {proto} {local}: {_describe(exc)}") from None
        _out(f"listening on {proto} {sock.LocalEndPoint}")
        peers: list[Socket] = []
        try:
            if args.tcp:
                _accept_loop(sock, events, peers)
            else:
                _receive_from_loop(sock, events)
            return _report_messages(events, args)
        finally:
            for p in peers:
                p.Close()


def _receive_from_loop(sock: Socket, events: queue.Queue[tuple[str, object, object]]) -> None:
    buf = bytearray(65536)
    any_ep = IPEndPoint(
        IPAddress.IPv6Any if sock.AddressFamily == AddressFamily.InterNetworkV6 else IPAddress.Any, 0
    )

    def on_receive(ar: IAsyncResult) -> None:
        try:
            n, sender = sock.EndReceiveFrom(ar)
        except SocketException as exc:
            if exc.SocketErrorCode == SocketError.OperationAborted:
                return  # closed on the way out
            if exc.SocketErrorCode != SocketError.ConnectionReset:  # an ICMP error for an earlier send
                events.put(("error", _describe(exc), None))
                return
        except Exception:  # noqa: BLE001 - disposed on the way out
            return
        else:
            events.put(("message", bytes(buf[:n]), sender))
        try:
            sock.BeginReceiveFrom(buf, 0, len(buf), SocketFlags.None_, any_ep, on_receive, None)
        except Exception:  # noqa: BLE001 - disposed on the way out
            return

    sock.BeginReceiveFrom(buf, 0, len(buf), SocketFlags.None_, any_ep, on_receive, None)


def _accept_loop(
    listener: Socket, events: queue.Queue[tuple[str, object, object]], peers: list[Socket]
) -> None:
    def on_accept(ar: IAsyncResult) -> None:
        try:
            peer: Socket = listener.EndAccept(ar)
        except Exception:  # noqa: BLE001 - closed on the way out
            return
        peers.append(peer)
        sender = peer.RemoteEndPoint
        events.put(("connected", sender, None))
        buf = bytearray(65536)

        def on_receive(rar: IAsyncResult) -> None:
            try:
                n = peer.EndReceive(rar)
            except SocketException as exc:
                if exc.SocketErrorCode != SocketError.OperationAborted:
                    events.put(("closed", sender, _describe(exc)))
                return
            except Exception:  # noqa: BLE001 - closed on the way out
                return
            if n == 0:
                events.put(("closed", sender, None))
                peer.Close()
                return
            events.put(("message", bytes(buf[:n]), sender))
            try:
                peer.BeginReceive(buf, 0, len(buf), SocketFlags.None_, on_receive, None)
            except Exception:  # noqa: BLE001 - closed on the way out
                return

        peer.BeginReceive(buf, 0, len(buf), SocketFlags.None_, on_receive, None)
        try:
            listener.BeginAccept(on_accept, None)
        except Exception:  # noqa: BLE001 - closed on the way out
            return

    listener.BeginAccept(on_accept, None)


def _report_messages(events: queue.Queue[tuple[str, object, object]], args: argparse.Namespace) -> int:
    count = 0
    last = time.monotonic()
    while args.count is None or count < args.count:
        try:
            # Short waits keep Ctrl-C prompt on every platform.
            kind, a, b = events.get(timeout=0.2)
        except queue.Empty:
            if args.timeout is not None and time.monotonic() - last > args.timeout:
                raise _Exit(EXIT_TIMEOUT, f"timed out: nothing arrived for {args.timeout:g} s") from None
            continue
        last = time.monotonic()
        if kind == "message":
            count += 1
            assert isinstance(a, bytes)
            _show_message(count, a, b)
        elif kind == "connected":
            _out(f"connection from {a}")
        elif kind == "closed":
            _out(f"connection from {a} closed" + (f": {b}" if b else ""))
        else:
            _out(f"receive failed: {a}", sys.stderr)
    return EXIT_OK


# -- bench ---------------------------------------------------------------------------------------


def _bench(args: argparse.Namespace) -> int:
    from . import _bench as bench

    ways = list(bench.WAYS) if not args.only else [w.strip() for w in args.only.split(",") if w.strip()]
    unknown = [w for w in ways if w not in bench.WAYS]
    if unknown:
        raise _Exit(EXIT_USAGE, f"unknown way {', '.join(unknown)}; choose from {', '.join(bench.WAYS)}")
    if args.chart:
        import importlib.util

        if importlib.util.find_spec("matplotlib") is None:
            raise _Exit(EXIT_USAGE, "--chart needs matplotlib (pip install matplotlib)")
    live = sys.stdout.isatty()

    def progress(way: str, run: int, runs: int, rate: float | None) -> None:
        if not live:
            return
        state = "running" if rate is None else f"{rate:,.0f} datagrams/s"
        sys.stdout.write(f"\r\x1b[K{bench.WAYS[way]}: run {run}/{runs}: {state}")
        sys.stdout.flush()

    python = sys.version.split()[0]
    _out(
        f"# {args.count:,} datagrams of 32 bytes x {args.runs} runs, each in a fresh process; Python {python};"
        f" send path: {_send_path()}"
    )
    try:
        results = bench.measure(ways, args.count, args.runs, progress)
    except RuntimeError as exc:
        raise _Exit(EXIT_NETWORK, str(exc)) from None
    if live:
        sys.stdout.write("\r\x1b[K")
    _out(bench.format_table(results))
    if args.chart:
        bench.write_chart(results, args.chart, "dotnet-sockets: 32-byte UDP sends to loopback")
        _out(f"chart written to {args.chart}")
    return EXIT_OK


# -- demo ----------------------------------------------------------------------------------------


def _demo(args: argparse.Namespace) -> int:
    """Loopback UDP: a BeginReceiveFrom receiver, a BeginSendTo sender, with the trace and the telemetry.

    The demo's story goes to standard output; the trace goes to standard error, in the format of
    ``--trace``, so the two can be read apart (``2>/dev/null`` hides the trace).
    """
    out = sys.stdout
    handler: logging.Handler | None = None
    lg = logging.getLogger("dotnet_sockets")
    old_level = lg.level
    print(_version_text(), file=out)
    if not args.no_trace and not args.trace and not args.trace_level:
        handler = stderr_handler()
        lg.addHandler(handler)
        lg.setLevel(min(logging.DEBUG, lg.getEffectiveLevel()))
        print("the network trace follows on standard error (--no-trace hides it)", file=out, flush=True)
    count = args.count
    before = Telemetry.snapshot()
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
                raise _Exit(EXIT_TIMEOUT, "the loopback exchange did not complete within 5 s")
            for line in done:
                print(line, file=out)
            for data, origin in received:
                print(f"receiver got {data.decode()!r} from {origin}", file=out)
            print(f"sender LocalEndPoint after EndSendTo: {sender.LocalEndPoint}", file=out)
    finally:
        if handler is not None:
            lg.removeHandler(handler)
            lg.setLevel(old_level)
    _print_telemetry(Telemetry.snapshot() - before, out)
    print("demo complete", file=out, flush=True)
    return EXIT_OK


def _print_telemetry(delta: TelemetrySnapshot, out: TextIO) -> None:
    print("telemetry for this demo (counter: value, .NET's System.Net.Sockets counter names):", file=out)
    for name, value in delta:
        if name in ("operations-pending", "current-outgoing-connect-attempts"):
            continue  # levels, not counts: their difference says nothing here
        print(f"    {name}: {value:,}", file=out)
    print(f"    operations-pending now: {Telemetry.snapshot().operations_pending}", file=out)


# -- the parser ----------------------------------------------------------------------------------

_EPILOG = """\
examples:
  dotnet-sockets demo                          loopback BeginSendTo/EndSendTo with trace and telemetry
  dotnet-sockets listen 9000                   print what arrives on UDP 127.0.0.1:9000 (Ctrl-C stops)
  dotnet-sockets send 127.0.0.1:9000 hello     one datagram, with its completion
  dotnet-sockets send 127.0.0.1:9000 --count 5 --size 100 --interval 0.5
  dotnet-sockets listen 9001 --tcp --count 1 & dotnet-sockets send 127.0.0.1:9001 hi --tcp
  dotnet-sockets send 127.255.255.255:9000 ping --broadcast
  dotnet-sockets --trace-level VERBOSE send [::1]:9000 hi   with the trace and hex dumps on stderr
  dotnet-sockets bench --runs 3                 the BeginSendTo throughput benchmark

exit codes: 0 ok, 1 socket or network error, 2 bad usage (address, port, option),
3 host name does not resolve, 4 local address unavailable (port in use), 5 timed out,
6 refused by the socket policy, 130 interrupted.
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, not {value}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number of seconds >= 0, not {text}")
    return value


def _add_protocol(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--udp", dest="tcp", action="store_false", help="UDP datagrams (the default)")
    g.add_argument("--tcp", dest="tcp", action="store_true", help="a TCP connection")
    p.set_defaults(tcp=False)


def _build_parser() -> argparse.ArgumentParser:
    raw = argparse.RawDescriptionHelpFormatter
    parser = _Parser(
        prog="dotnet-sockets",
        description=".NET's System.Net.Sockets for Python: try the asynchronous socket calls from a shell.",
        epilog=_EPILOG,
        formatter_class=raw,
    )
    parser.add_argument(
        "--version", action="version", version=_version_text(), help="print the version, the Python and the send path"
    )
    parser.add_argument("--trace", action="store_true", help="print the network trace on standard error")
    parser.add_argument(
        "--trace-level",
        metavar="LEVEL",
        help="trace at LEVEL: DEBUG (calls), VERBOSE (calls and hex dumps) or a number; implies --trace",
    )
    parser.add_argument(
        "--loopback-only",
        action="store_true",
        help="install SocketPolicy.loopback_only(): refuse other targets",
    )
    parser.add_argument(
        "--no-broadcast",
        action="store_true",
        help="install SocketPolicy.no_broadcast(): refuse broadcast targets",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    demo = sub.add_parser(
        "demo",
        help="loopback send and receive with BeginSendTo/EndSendTo, showing callbacks, trace and telemetry",
        description="Start a loopback UDP receiver, send datagrams to it with BeginSendTo, and show each "
        "callback, the bytes sent, LocalEndPoint, the network trace and the telemetry counters.",
        epilog="example: dotnet-sockets demo --count 5",
        formatter_class=raw,
    )
    demo.add_argument("--count", type=_positive, default=3, metavar="N", help="datagrams to send (default 3)")
    demo.add_argument("--no-trace", action="store_true", help="do not show the network trace")
    demo.set_defaults(func=_demo)

    send = sub.add_parser(
        "send",
        help="send messages with BeginSendTo and print each completion",
        description="Send MESSAGE (or numbered messages) to HOST:PORT with BeginSendTo, printing each "
        "EndSendTo.  Over TCP the connection is made first (BeginConnect), then each message goes with "
        "BeginSend/EndSend.",
        epilog="examples:\n"
        "  dotnet-sockets send 127.0.0.1:9000 hello\n"
        "  dotnet-sockets send localhost:9000 --count 10 --interval 0.1\n"
        "  dotnet-sockets send [::1]:9000 --size 1200 --tcp\n"
        "  dotnet-sockets send 127.255.255.255:9000 hi --broadcast",
        formatter_class=raw,
    )
    send.add_argument(
        "target", metavar="HOST:PORT", help="where to send: 127.0.0.1:9000, [::1]:9000, name:9000"
    )
    send.add_argument(
        "message", metavar="MESSAGE", nargs="?", help="the text to send (default: numbered messages)"
    )
    _add_protocol(send)
    send.add_argument("--count", type=_positive, default=1, metavar="N", help="how many messages (default 1)")
    send.add_argument(
        "--size", type=_size, metavar="BYTES", help="bytes per message: MESSAGE repeated or cut to this size"
    )
    send.add_argument(
        "--interval", type=_seconds, default=0.0, metavar="SECONDS", help="seconds between sends (default 0)"
    )
    send.add_argument(
        "--broadcast", action="store_true", help="set EnableBroadcast (needed for broadcast targets)"
    )
    send.add_argument("--dont-route", action="store_true", help="send with SocketFlags.DontRoute")
    send.add_argument(
        "--timeout", type=_seconds, default=10.0, metavar="SECONDS", help="give up after SECONDS (default 10)"
    )
    send.set_defaults(func=_send)

    listen = sub.add_parser(
        "listen",
        help="print each message that arrives on a port, with its sender",
        description="Receive on PORT (BeginReceiveFrom, or BeginAccept and BeginReceive over TCP) and print "
        "each message with its sender: its text, or a hex dump when it is not text.  Runs until "
        "interrupted, or until --count messages arrived.  PORT 0 picks a free port (printed first).",
        epilog="examples:\n"
        "  dotnet-sockets listen 9000                  on 127.0.0.1\n"
        "  dotnet-sockets listen 9000 --bind ::1 --count 1\n"
        "  dotnet-sockets listen 0 --tcp",
        formatter_class=raw,
    )
    listen.add_argument("port", metavar="PORT", help="the local port (0: any free port)")
    _add_protocol(listen)
    listen.add_argument(
        "--bind",
        default="127.0.0.1",
        metavar="ADDRESS",
        help="local address (default 127.0.0.1, this machine only; 0.0.0.0 or :: to accept from the network)",
    )
    listen.add_argument("--count", type=_positive, metavar="N", help="stop after N messages")
    listen.add_argument(
        "--timeout",
        type=_seconds,
        metavar="SECONDS",
        help="stop with exit code 5 when nothing arrives for SECONDS",
    )
    listen.set_defaults(func=_listen)

    bench = sub.add_parser(
        "bench",
        help="the BeginSendTo throughput benchmark",
        description="Send 32-byte UDP datagrams to a loopback receiver that never reads, several ways, each "
        "run in a fresh process, and print the medians as a table (live progress on a terminal).",
        epilog="examples:\n"
        "  dotnet-sockets bench\n"
        "  dotnet-sockets bench --count 50000 --runs 3 --only plain,begin_64\n"
        "  dotnet-sockets bench --chart bench.png   (needs matplotlib)",
        formatter_class=raw,
    )
    bench.add_argument(
        "--count", type=_positive, default=200_000, metavar="N", help="datagrams per run (default 200000)"
    )
    bench.add_argument(
        "--runs", type=_positive, default=5, metavar="N", help="fresh processes per way (default 5)"
    )
    bench.add_argument(
        "--only",
        metavar="WAYS",
        help="comma-separated: plain, asyncio_transport, begin_64, begin_64_inline, begin_sem_64, sync_sendto",
    )
    bench.add_argument("--chart", metavar="FILE.png", help="also draw a PNG chart (needs matplotlib)")
    bench.set_defaults(func=_bench)
    return parser


def _setup_trace(level_text: str) -> None:
    text = level_text.strip().upper()
    if text.isdigit():
        level = int(text)
    elif text == "VERBOSE":
        level = VERBOSE
    else:
        named = logging.getLevelName(text)
        if not isinstance(named, int):
            raise _Exit(EXIT_USAGE, f"bad --trace-level {level_text!r}: use DEBUG, VERBOSE or a number")
        level = named
    lg = logging.getLogger("dotnet_sockets")
    lg.addHandler(stderr_handler())
    lg.setLevel(level)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        if args.trace or args.trace_level:
            _setup_trace(args.trace_level or "DEBUG")
        policy: SocketPolicy | None = None
        if args.loopback_only:
            policy = SocketPolicy.loopback_only()
        if args.no_broadcast:
            nb = SocketPolicy.no_broadcast()
            policy = nb if policy is None else policy & nb
        if policy is not None:
            install_policy(policy)
        result: int = args.func(args)
        return result
    except _Exit as exc:
        _out(f"error: {exc}", sys.stderr)
        return exc.code
    except SecurityException as exc:
        _out(f"error: refused by the socket policy: {exc}", sys.stderr)
        return EXIT_DENIED
    except SocketException as exc:
        _out(f"error: {_describe(exc)}", sys.stderr)
        return EXIT_NETWORK
    except KeyboardInterrupt:
        _out("interrupted", sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        if args.loopback_only or args.no_broadcast:
            install_policy(None)
