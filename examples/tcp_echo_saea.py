"""A TCP echo server and client with SocketAsyncEventArgs: AcceptAsync, ReceiveAsync, SendAsync, Completed.

The event-based model of high-throughput .NET servers: one ``SocketAsyncEventArgs`` for the
accepts, one per connection that is reused for every receive and send.  ``…Async(e)`` returns
True when the operation is pending (``Completed`` will fire on a completion thread) and False
when it finished at once (``Completed`` will not fire, so the caller handles the result).

.NET's sample handles a synchronous completion by calling its handler directly, which calls
the next ``…Async``: with a fast peer that recursion can overflow the stack.  Here each
connection runs a loop instead, which goes round as long as operations finish at once.

Run both ends in one process, on a free loopback port (exits by itself)::

    python examples/tcp_echo_saea.py

or in two terminals::

    python examples/tcp_echo_saea.py server --port 11000 --connections 1
    python examples/tcp_echo_saea.py client --port 11000
"""

from __future__ import annotations

import argparse
import sys
import threading
from typing import Any

from dotnet_sockets import (
    AutoResetEvent,
    IPAddress,
    IPEndPoint,
    ManualResetEvent,
    ProtocolType,
    Socket,
    SocketAsyncEventArgs,
    SocketAsyncOperation,
    SocketError,
    SocketException,
    SocketShutdown,
    SocketType,
)

BUFFER_SIZE = 1024


class EchoServer:
    """Accepts ``connections`` clients (0 = no limit), echoes what each sends until it shuts down."""

    def __init__(self, local_ep: IPEndPoint, connections: int) -> None:
        self.listener = Socket(local_ep.AddressFamily, SocketType.Stream, ProtocolType.Tcp)
        self.listener.Bind(local_ep)
        self.listener.Listen(100)
        self.connections = connections
        self.accepted = 0
        self.closed = 0
        self.lock = threading.Lock()
        self.all_served = ManualResetEvent(False)
        self.accept_args = SocketAsyncEventArgs()
        self.accept_args.Completed += self.on_accept_completed

    @property
    def LocalEndPoint(self) -> IPEndPoint:
        ep = self.listener.LocalEndPoint
        assert isinstance(ep, IPEndPoint)
        return ep

    # -- accepting --------------------------------------------------------------------
    def start_accept(self) -> None:
        e = self.accept_args
        while True:
            e.AcceptSocket = None  # the args object is reused: clear the previous connection
            if self.listener.AcceptAsync(e):
                return  # pending: on_accept_completed continues
            if not self.process_accept(e):
                return

    def on_accept_completed(self, sender: Any, e: SocketAsyncEventArgs) -> None:
        if self.process_accept(e):
            self.start_accept()

    def process_accept(self, e: SocketAsyncEventArgs) -> bool:
        """Start serving the accepted connection; True when another accept should follow."""
        if e.SocketError != SocketError.Success:
            if e.SocketError != SocketError.OperationAborted:  # aborted = listener closed
                print(f"Accept failed: {e.SocketError.name}", file=sys.stderr)
            return False
        client = e.AcceptSocket
        assert client is not None
        with self.lock:
            self.accepted += 1
            more = self.connections == 0 or self.accepted < self.connections
        print(f"Accepted {client.RemoteEndPoint}", flush=True)
        io = SocketAsyncEventArgs()
        io.SetBuffer(bytearray(BUFFER_SIZE), 0, BUFFER_SIZE)
        io.UserToken = client
        io.Completed += self.on_io_completed
        self.serve(io)
        return more

    # -- one connection ---------------------------------------------------------------
    def serve(self, e: SocketAsyncEventArgs) -> None:
        """Receive and echo until an operation is pending or the connection is over."""
        client: Socket = e.UserToken
        while True:
            e.SetBuffer(0, BUFFER_SIZE)
            if client.ReceiveAsync(e):
                return  # pending: on_io_completed continues
            if not self.process_receive(e):
                return

    def process_receive(self, e: SocketAsyncEventArgs) -> bool:
        """Echo what arrived; True when the echo is done and the next receive may start."""
        client: Socket = e.UserToken
        if e.SocketError != SocketError.Success or e.BytesTransferred == 0:
            self.close_connection(e)  # an error, or the client shut down its side
            return False
        e.SetBuffer(0, e.BytesTransferred)  # send back exactly what came in
        if client.SendAsync(e):
            return False  # pending: on_io_completed continues
        return self.process_send(e)

    def process_send(self, e: SocketAsyncEventArgs) -> bool:
        if e.SocketError != SocketError.Success:
            self.close_connection(e)
            return False
        return True

    def on_io_completed(self, sender: Any, e: SocketAsyncEventArgs) -> None:
        if e.LastOperation == SocketAsyncOperation.Receive:
            go_on = self.process_receive(e)
        elif e.LastOperation == SocketAsyncOperation.Send:
            go_on = self.process_send(e)
        else:
            raise ValueError(f"unexpected operation {e.LastOperation!r}")
        if go_on:
            self.serve(e)

    def close_connection(self, e: SocketAsyncEventArgs) -> None:
        client: Socket = e.UserToken
        try:
            client.Shutdown(SocketShutdown.Both)
        except SocketException:
            pass  # the peer may be gone already
        client.Close()
        e.Dispose()
        with self.lock:
            self.closed += 1
            if self.connections and self.closed >= self.connections:
                self.all_served.Set()

    def close(self) -> None:
        self.listener.Close()
        self.accept_args.Dispose()


def run_client(remote_ep: IPEndPoint, messages: list[bytes], timeout_ms: int) -> bool:
    """ConnectAsync, then SendAsync/ReceiveAsync per message, all with one SocketAsyncEventArgs.

    Each call either completes at once (returns False) or later (returns True, then Completed
    sets ``done``); both end in the same place.
    """
    done = AutoResetEvent(False)

    def run(start: Any, e: SocketAsyncEventArgs) -> SocketError:
        if start(e) and not done.WaitOne(timeout_ms):
            raise TimeoutError("the operation did not complete")
        return e.SocketError

    with Socket(remote_ep.AddressFamily, SocketType.Stream, ProtocolType.Tcp) as client, SocketAsyncEventArgs() as e:
        e.Completed += lambda sender, args: done.Set()
        e.RemoteEndPoint = remote_ep
        if run(client.ConnectAsync, e) != SocketError.Success:
            print(f"Connect failed: {e.SocketError.name}", file=sys.stderr)
            return False
        print(f"Connected to {client.RemoteEndPoint}", flush=True)

        buffer = bytearray(BUFFER_SIZE)
        for message in messages:
            e.SetBuffer(message, 0, len(message))
            if run(client.SendAsync, e) != SocketError.Success:
                return False
            echoed = b""
            # TCP is a byte stream: the echo may come back in pieces.
            while len(echoed) < len(message):
                e.SetBuffer(buffer, 0, BUFFER_SIZE)
                if run(client.ReceiveAsync, e) != SocketError.Success or e.BytesTransferred == 0:
                    return False
                echoed += buffer[: e.BytesTransferred]
            print(f"Echoed: {echoed.decode('utf-8')!r}", flush=True)
            if echoed != message:
                return False
        client.Shutdown(SocketShutdown.Send)
        # The server closes its side once it has read our shutdown: the next receive gets 0 bytes.
        e.SetBuffer(buffer, 0, BUFFER_SIZE)
        return run(client.ReceiveAsync, e) == SocketError.Success and bool(e.BytesTransferred == 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("role", nargs="?", choices=["demo", "server", "client"], default="demo")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (demo, server)")
    parser.add_argument("--connections", type=int, default=1, help="server: clients to serve before exiting")
    parser.add_argument(
        "--timeout", type=float, default=None, help="seconds to wait for each step (default 10); server: in all"
    )
    args = parser.parse_args(argv)
    timeout_ms = int((args.timeout or 10.0) * 1000)
    endpoint = IPEndPoint(IPAddress.Parse(args.host), args.port)
    messages = [b"hello", b"echo me back", "non-ASCII: \u00e9\u00e8".encode()]

    try:
        if args.role == "client":
            return 0 if run_client(endpoint, messages, timeout_ms) else 1
        server = EchoServer(endpoint, args.connections if args.role == "server" else 1)
        print(f"Listening on {server.LocalEndPoint}", flush=True)
        try:
            server.start_accept()
            if args.role == "server":
                # Stops after --connections clients (or after --timeout seconds, if given).
                return 0 if server.all_served.WaitOne(-1 if args.timeout is None else timeout_ms) else 1
            ok = run_client(server.LocalEndPoint, messages, timeout_ms)
            ok = server.all_served.WaitOne(timeout_ms) and ok
        finally:
            server.close()
    except (SocketException, TimeoutError) as ex:
        print(f"Failed: {ex!r}", file=sys.stderr)
        return 1
    print("Done." if ok else "Failed.", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
