"""A TCP echo server with BeginAccept/BeginReceive/BeginSend, and a client with BeginConnect.

This is the shape of .NET's "asynchronous server socket" sample: the accept callback starts
the next accept, each connection has a state object with its buffer, the receive callback
starts a send, and the send callback starts the next receive.

Run both ends in one process, on a free loopback port (exits by itself)::

    python examples/tcp_echo_apm.py

or in two terminals::

    python examples/tcp_echo_apm.py server --port 11000 --connections 1
    python examples/tcp_echo_apm.py client --port 11000
"""

from __future__ import annotations

import argparse
import sys
import threading

from dotnet_sockets import (
    IAsyncResult,
    IPAddress,
    IPEndPoint,
    ManualResetEvent,
    ObjectDisposedException,
    ProtocolType,
    Socket,
    SocketError,
    SocketException,
    SocketFlags,
    SocketShutdown,
    SocketType,
)

BUFFER_SIZE = 1024


class StateObject:
    """What C# keeps in its StateObject: the connection's socket and its buffer."""

    def __init__(self, work_socket: Socket) -> None:
        self.work_socket = work_socket
        self.buffer = bytearray(BUFFER_SIZE)


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

    @property
    def LocalEndPoint(self) -> IPEndPoint:
        ep = self.listener.LocalEndPoint
        assert isinstance(ep, IPEndPoint)
        return ep

    def start(self) -> None:
        self.listener.BeginAccept(self.accept_callback, self.listener)

    def accept_callback(self, ar: IAsyncResult) -> None:
        listener: Socket = ar.AsyncState
        try:
            handler = listener.EndAccept(ar)
        except SocketException as ex:
            if ex.SocketErrorCode != SocketError.OperationAborted:  # aborted = listener closed
                print(f"Accept failed: {ex!r}", file=sys.stderr)
            return
        with self.lock:
            self.accepted += 1
            more = self.connections == 0 or self.accepted < self.connections
        print(f"Accepted {handler.RemoteEndPoint}", flush=True)
        if more:
            listener.BeginAccept(self.accept_callback, listener)
        state = StateObject(handler)
        handler.BeginReceive(state.buffer, 0, BUFFER_SIZE, SocketFlags.None_, self.read_callback, state)

    def read_callback(self, ar: IAsyncResult) -> None:
        state: StateObject = ar.AsyncState
        handler = state.work_socket
        try:
            n = handler.EndReceive(ar)
            if n > 0:
                handler.BeginSend(state.buffer, 0, n, SocketFlags.None_, self.send_callback, state)
                return
        except SocketException as ex:
            print(f"Receive failed: {ex!r}", file=sys.stderr)
        # 0 bytes: the client shut down its side.
        self.close_connection(handler)

    def send_callback(self, ar: IAsyncResult) -> None:
        state: StateObject = ar.AsyncState
        handler = state.work_socket
        try:
            handler.EndSend(ar)
            handler.BeginReceive(state.buffer, 0, BUFFER_SIZE, SocketFlags.None_, self.read_callback, state)
        except SocketException as ex:
            print(f"Send failed: {ex!r}", file=sys.stderr)
            self.close_connection(handler)

    def close_connection(self, handler: Socket) -> None:
        try:
            handler.Shutdown(SocketShutdown.Both)
        except SocketException:
            pass  # the peer may be gone already
        handler.Close()
        with self.lock:
            self.closed += 1
            if self.connections and self.closed >= self.connections:
                self.all_served.Set()

    def close(self) -> None:
        self.listener.Close()


def run_client(remote_ep: IPEndPoint, messages: list[bytes], timeout_ms: int) -> bool:
    """Connect with BeginConnect, then send each message and read its echo back.

    The waits use ``IAsyncResult.AsyncWaitHandle.WaitOne``, the other way to wait for a Begin.
    """
    with Socket(remote_ep.AddressFamily, SocketType.Stream, ProtocolType.Tcp) as client:
        connected = ManualResetEvent(False)

        def connect_callback(ar: IAsyncResult) -> None:
            try:
                client.EndConnect(ar)
                print(f"Connected to {client.RemoteEndPoint}", flush=True)
            except SocketException as ex:
                print(f"Connect failed: {ex!r}", file=sys.stderr)
            finally:
                connected.Set()

        client.BeginConnect(remote_ep, connect_callback, None)
        if not connected.WaitOne(timeout_ms) or not client.Connected:
            return False

        buffer = bytearray(BUFFER_SIZE)
        for message in messages:
            ar = client.BeginSend(message, 0, len(message), SocketFlags.None_, None, None)
            if not ar.AsyncWaitHandle.WaitOne(timeout_ms):
                return False
            client.EndSend(ar)
            echoed = b""
            # TCP is a byte stream: the echo may come back in pieces.
            while len(echoed) < len(message):
                ar = client.BeginReceive(buffer, 0, BUFFER_SIZE, SocketFlags.None_, None, None)
                if not ar.AsyncWaitHandle.WaitOne(timeout_ms):
                    return False
                n = client.EndReceive(ar)
                if n == 0:
                    return False
                echoed += buffer[:n]
            print(f"Echoed: {echoed.decode('utf-8')!r}", flush=True)
            if echoed != message:
                return False
        client.Shutdown(SocketShutdown.Send)
        # The server closes its side once it has read our shutdown.
        client.ReceiveTimeout = timeout_ms
        return bool(client.Receive(buffer) == 0)


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

    if args.role == "client":
        return 0 if run_client(endpoint, messages, timeout_ms) else 1

    server = EchoServer(endpoint, args.connections if args.role == "server" else 1)
    print(f"Listening on {server.LocalEndPoint}", flush=True)
    try:
        server.start()
        if args.role == "server":
            # .NET samples block forever here; this one stops after --connections clients
            # (or after --timeout seconds, if given).
            served = server.all_served.WaitOne(-1 if args.timeout is None else timeout_ms)
            return 0 if served else 1
        ok = run_client(server.LocalEndPoint, messages, timeout_ms)
        ok = server.all_served.WaitOne(timeout_ms) and ok
    except (SocketException, ObjectDisposedException) as ex:
        print(f"Failed: {ex!r}", file=sys.stderr)
        return 1
    finally:
        server.close()
    print("Done." if ok else "Failed.", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
