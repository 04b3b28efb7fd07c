"""One set of semantics: every scenario runs once per model, from one body.

The four ways .NET code runs a socket operation -- synchronous calls,
Begin/End (APM), ``SocketAsyncEventArgs`` (event-based) and awaitable
``...Async`` methods (asyncio) -- are wrapped by small adapters with one
shape, and each scenario below is written once against that shape and run
for every model on IPv4 and IPv6 loopback.  The adapters turn the event-based
model's ``e.SocketError`` into a raised ``SocketException`` so that the same
assertion covers all four; where .NET itself names a parameter differently
in one model (``SocketAsyncEventArgs`` checks ``e`` and ``count``) the
adapter says so.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

import pytest

from conftest import HAS_IPV6, WAIT, loopback
from dotnet_sockets import (
    AddressFamily,
    ArgumentException,
    ArgumentNullException,
    ArgumentOutOfRangeException,
    DnsEndPoint,
    EndPoint,
    IAsyncResult,
    InvalidOperationException,
    IPAddress,
    IPEndPoint,
    ObjectDisposedException,
    Socket,
    SocketAsyncEventArgs,
    SocketError,
    SocketException,
    SocketFlags,
    SocketType,
)

MakeSocket = Callable[..., Socket]
T = TypeVar("T")
WAIT_MS = int(WAIT * 1000)
Finish = Callable[[], tuple[int, EndPoint]]


class Model:
    """The shape every model adapter has."""

    name = ""
    # How .NET names the parameter behind each argument error in this model.
    null_remote_ep_param = "remoteEP"
    receive_ep_param = "remoteEP"
    size_param = "size"
    # What a receive cut short by Close reports (.NET: Interrupted for a blocking call).
    aborted = SocketError.OperationAborted

    def send_to(
        self, s: Socket, data: Any, ep: Any, offset: int = 0, size: int | None = None, flags: Any = 0
    ) -> int:
        raise NotImplementedError

    def receive_from(self, s: Socket, buf: Any, ep: Any) -> tuple[int, EndPoint]:
        raise NotImplementedError

    def start_receive_from(self, s: Socket, buf: Any, ep: Any) -> Finish:
        raise NotImplementedError

    def send(self, s: Socket, data: Any) -> int:
        raise NotImplementedError

    def receive(self, s: Socket, buf: Any) -> int:
        raise NotImplementedError

    def connect(self, s: Socket, ep: Any) -> None:
        raise NotImplementedError

    def accept(self, s: Socket) -> Socket:
        raise NotImplementedError

    def close(self) -> None:
        pass


def _size(data: Any, offset: int, size: int | None) -> int:
    return len(data) - offset if size is None else size


class SyncModel(Model):
    name = "sync"
    aborted = SocketError.Interrupted

    def send_to(
        self, s: Socket, data: Any, ep: Any, offset: int = 0, size: int | None = None, flags: Any = 0
    ) -> int:
        return s.SendTo(data, offset, _size(data, offset, size), flags, ep)

    def receive_from(self, s: Socket, buf: Any, ep: Any) -> tuple[int, EndPoint]:
        s.ReceiveTimeout = WAIT_MS
        n, sender = s.ReceiveFrom(buf, 0, len(buf), 0, ep)
        return n, sender

    def start_receive_from(self, s: Socket, buf: Any, ep: Any) -> Finish:
        outcome: list[Any] = []

        def work() -> None:
            try:
                outcome.append(s.ReceiveFrom(buf, 0, len(buf), 0, ep))
            except BaseException as exc:  # noqa: BLE001 - handed to the test
                outcome.append(exc)

        t = threading.Thread(target=work)
        t.start()

        def finish() -> tuple[int, EndPoint]:
            t.join(WAIT)
            assert outcome, "the synchronous receive never returned"
            if isinstance(outcome[0], BaseException):
                raise outcome[0]
            n, sender = outcome[0]
            return n, sender

        return finish

    def send(self, s: Socket, data: Any) -> int:
        return s.Send(data)

    def receive(self, s: Socket, buf: Any) -> int:
        s.ReceiveTimeout = WAIT_MS
        return s.Receive(buf)

    def connect(self, s: Socket, ep: Any) -> None:
        s.Connect(ep)

    def accept(self, s: Socket) -> Socket:
        return s.Accept()


def _completed(ar: IAsyncResult) -> IAsyncResult:
    assert ar.AsyncWaitHandle.WaitOne(WAIT_MS), "the operation never completed"
    return ar


class ApmModel(Model):
    name = "apm"

    def send_to(
        self, s: Socket, data: Any, ep: Any, offset: int = 0, size: int | None = None, flags: Any = 0
    ) -> int:
        ar = s.BeginSendTo(data, offset, _size(data, offset, size), flags, ep, None, None)
        return s.EndSendTo(_completed(ar))

    def receive_from(self, s: Socket, buf: Any, ep: Any) -> tuple[int, EndPoint]:
        return self.start_receive_from(s, buf, ep)()

    def start_receive_from(self, s: Socket, buf: Any, ep: Any) -> Finish:
        ar = s.BeginReceiveFrom(buf, 0, len(buf), 0, ep, None, None)

        def finish() -> tuple[int, EndPoint]:
            n, sender = s.EndReceiveFrom(_completed(ar))
            return n, sender

        return finish

    def send(self, s: Socket, data: Any) -> int:
        return s.EndSend(_completed(s.BeginSend(data, 0, len(data), 0, None, None)))

    def receive(self, s: Socket, buf: Any) -> int:
        return s.EndReceive(_completed(s.BeginReceive(buf, 0, len(buf), 0, None, None)))

    def connect(self, s: Socket, ep: Any) -> None:
        s.EndConnect(_completed(s.BeginConnect(ep, None, None)))

    def accept(self, s: Socket) -> Socket:
        accepted: Socket = s.EndAccept(_completed(s.BeginAccept(None, None)))
        return accepted


class EventModel(Model):
    name = "event"
    null_remote_ep_param = "e"
    receive_ep_param = "e"
    size_param = "count"

    def _start(
        self, method: Callable[[SocketAsyncEventArgs], bool], e: SocketAsyncEventArgs
    ) -> Callable[[], None]:
        done = threading.Event()
        fired: list[bool] = []

        def completed(sender: Any, args: SocketAsyncEventArgs) -> None:
            fired.append(True)
            done.set()

        e.Completed += completed
        pending = method(e)

        def finish() -> None:
            if pending:
                assert done.wait(WAIT), "Completed never fired"
            else:
                assert not fired, "Completed fired for an operation that completed at once"
            if e.SocketError != SocketError.Success:
                raise SocketException(e.SocketError)

        return finish

    def _run(self, method: Callable[[SocketAsyncEventArgs], bool], e: SocketAsyncEventArgs) -> None:
        self._start(method, e)()

    def send_to(
        self, s: Socket, data: Any, ep: Any, offset: int = 0, size: int | None = None, flags: Any = 0
    ) -> int:
        e = SocketAsyncEventArgs()
        if data is not None:
            e.SetBuffer(data, offset, _size(data, offset, size))
        e.RemoteEndPoint = ep
        e.SocketFlags = flags
        self._run(s.SendToAsync, e)
        return e.BytesTransferred

    def receive_from(self, s: Socket, buf: Any, ep: Any) -> tuple[int, EndPoint]:
        return self.start_receive_from(s, buf, ep)()

    def start_receive_from(self, s: Socket, buf: Any, ep: Any) -> Finish:
        e = SocketAsyncEventArgs()
        e.SetBuffer(buf, 0, len(buf))
        e.RemoteEndPoint = ep
        wait = self._start(s.ReceiveFromAsync, e)

        def finish() -> tuple[int, EndPoint]:
            wait()
            assert e.RemoteEndPoint is not None
            return e.BytesTransferred, e.RemoteEndPoint

        return finish

    def send(self, s: Socket, data: Any) -> int:
        e = SocketAsyncEventArgs()
        e.SetBuffer(data, 0, len(data))
        self._run(s.SendAsync, e)
        return e.BytesTransferred

    def receive(self, s: Socket, buf: Any) -> int:
        e = SocketAsyncEventArgs()
        e.SetBuffer(buf, 0, len(buf))
        self._run(s.ReceiveAsync, e)
        return e.BytesTransferred

    def connect(self, s: Socket, ep: Any) -> None:
        e = SocketAsyncEventArgs()
        e.RemoteEndPoint = ep
        self._run(s.ConnectAsync, e)
        assert e.ConnectSocket is s

    def accept(self, s: Socket) -> Socket:
        e = SocketAsyncEventArgs()
        self._run(s.AcceptAsync, e)
        assert e.AcceptSocket is not None
        return e.AcceptSocket


class AsyncioModel(Model):
    name = "asyncio"

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()

    def run(self, coro: Coroutine[Any, Any, T] | asyncio.Future[T]) -> T:
        return self.loop.run_until_complete(asyncio.wait_for(coro, WAIT))

    def send_to(
        self, s: Socket, data: Any, ep: Any, offset: int = 0, size: int | None = None, flags: Any = 0
    ) -> int:
        if offset == 0 and size is None:
            return self.run(s.SendToAsync(data, flags, ep))
        return self.run(s.SendToAsync(data, offset, _size(data, offset, size), flags, ep))

    def receive_from(self, s: Socket, buf: Any, ep: Any) -> tuple[int, EndPoint]:
        n, sender = self.run(s.ReceiveFromAsync(buf, 0, ep))
        return n, sender

    def start_receive_from(self, s: Socket, buf: Any, ep: Any) -> Finish:
        task = self.loop.create_task(s.ReceiveFromAsync(buf, 0, ep))

        async def started() -> None:
            # Bounded: the task's first step queues the receive.
            for _ in range(1000):
                if task.done() or s._io.rq:
                    return
                await asyncio.sleep(0.001)

        self.loop.run_until_complete(started())

        def finish() -> tuple[int, EndPoint]:
            n, sender = self.run(task)
            return n, sender

        return finish

    def send(self, s: Socket, data: Any) -> int:
        return self.run(s.SendAsync(data))

    def receive(self, s: Socket, buf: Any) -> int:
        return self.run(s.ReceiveAsync(buf))

    def connect(self, s: Socket, ep: Any) -> None:
        # By keyword: a lone positional None would be read as a missing SocketAsyncEventArgs.
        self.run(s.ConnectAsync(remote_ep=ep))

    def accept(self, s: Socket) -> Socket:
        return self.run(s.AcceptAsync())

    def close(self) -> None:
        self.loop.close()


MODELS: dict[str, Callable[[], Model]] = {
    "sync": SyncModel,
    "apm": ApmModel,
    "event": EventModel,
    "asyncio": AsyncioModel,
}


@pytest.fixture(params=list(MODELS))
def model(request: pytest.FixtureRequest) -> Iterator[Model]:
    m = MODELS[request.param]()
    yield m
    m.close()


def any_ep(af: AddressFamily) -> IPEndPoint:
    return IPEndPoint(IPAddress.Any if af == AddressFamily.InterNetwork else IPAddress.IPv6Any, 0)


def bound(make_socket: MakeSocket, af: AddressFamily, st: SocketType = SocketType.Dgram) -> Socket:
    s = make_socket(af, st)
    s.Bind(IPEndPoint(loopback(af), 0))
    return s


def closed_port(af: AddressFamily) -> int:
    fam = socket.AF_INET if af == AddressFamily.InterNetwork else socket.AF_INET6
    with socket.socket(fam, socket.SOCK_STREAM) as probe:
        probe.bind((str(loopback(af)), 0))
        port: int = probe.getsockname()[1]
    return port


def other_family(af: AddressFamily) -> tuple[IPEndPoint, SocketError]:
    """An endpoint of the other family, and the error the kernel gives .NET for it."""
    if af == AddressFamily.InterNetwork:
        return IPEndPoint(IPAddress.IPv6Loopback, 9), SocketError.AddressFamilyNotSupported
    return IPEndPoint(IPAddress.Loopback, 9), SocketError.NetworkUnreachable


# -- datagrams ---------------------------------------------------------------------------------------


def test_datagram_round_trip(model: Model, af: AddressFamily, make_socket: MakeSocket) -> None:
    a = make_socket(af)
    b = bound(make_socket, af)
    assert a.LocalEndPoint is None and not a.IsBound
    assert model.send_to(a, b"ping", b.LocalEndPoint) == 4
    # Implicit bind: bound by the send, LocalEndPoint set from then on.
    assert a.IsBound
    local = a.LocalEndPoint
    assert isinstance(local, IPEndPoint) and local.Port != 0
    buf = bytearray(16)
    n, sender = model.receive_from(b, buf, any_ep(af))
    assert (n, bytes(buf[:4])) == (4, b"ping")
    assert isinstance(sender, IPEndPoint) and sender.AddressFamily == af
    assert sender.Port == local.Port and sender.Address == loopback(af)
    # And back, to the endpoint the receive reported.
    assert model.send_to(b, b"pong!", sender) == 5
    n, back = model.receive_from(a, buf, any_ep(af))
    assert (n, bytes(buf[:5])) == (5, b"pong!")
    assert back == b.LocalEndPoint


def test_datagram_segment_of_a_buffer(model: Model, af: AddressFamily, make_socket: MakeSocket) -> None:
    a = make_socket(af)
    b = bound(make_socket, af)
    assert model.send_to(a, bytearray(b"0123456789"), b.LocalEndPoint, offset=2, size=3) == 3
    assert model.send_to(a, b"", b.LocalEndPoint) == 0  # an empty datagram is a datagram
    buf = bytearray(16)
    assert model.receive_from(b, buf, any_ep(af))[0] == 3 and bytes(buf[:3]) == b"234"
    assert model.receive_from(b, buf, any_ep(af))[0] == 0


def test_datagram_argument_checks(model: Model, af: AddressFamily, make_socket: MakeSocket) -> None:
    s = make_socket(af)
    target = IPEndPoint(loopback(af), 9)
    with pytest.raises(ArgumentNullException) as ei:
        model.send_to(s, b"abc", None)
    assert ei.value.ParamName == model.null_remote_ep_param
    with pytest.raises(ArgumentException) as ei:
        model.send_to(s, b"abc", DnsEndPoint("localhost", 9))
    assert ei.value.ParamName == "remoteEP"
    with pytest.raises(ArgumentException) as ei:
        model.send_to(s, b"abc", "127.0.0.1:9")
    assert ei.value.ParamName == "remoteEP"
    with pytest.raises(ArgumentOutOfRangeException) as ei:
        model.send_to(s, b"abc", target, offset=4, size=0)
    assert ei.value.ParamName == "offset"
    with pytest.raises(ArgumentOutOfRangeException) as ei:
        model.send_to(s, b"abc", target, offset=1, size=3)
    assert ei.value.ParamName == model.size_param
    # Nothing was sent, so nothing was bound.
    assert s.LocalEndPoint is None
    with pytest.raises(InvalidOperationException):
        model.receive_from(s, bytearray(4), any_ep(af))  # not bound
    b = bound(make_socket, af)
    if HAS_IPV6:
        wrong = any_ep(
            AddressFamily.InterNetworkV6 if af == AddressFamily.InterNetwork else AddressFamily.InterNetwork
        )
        with pytest.raises(ArgumentException) as ei:
            model.receive_from(b, bytearray(4), wrong)
        assert ei.value.ParamName == model.receive_ep_param
    with pytest.raises(ArgumentException):
        model.receive_from(b, b"read-only", any_ep(af))
    b.Close()
    with pytest.raises(ObjectDisposedException):
        model.send_to(b, b"abc", target)
    with pytest.raises(ObjectDisposedException):
        model.receive_from(b, bytearray(4), any_ep(af))


def test_datagram_operation_errors(model: Model, af: AddressFamily, make_socket: MakeSocket) -> None:
    cases: list[tuple[Any, Any, Any, SocketError]] = [
        (bytearray(70000), IPEndPoint(loopback(af), 9), 0, SocketError.MessageSize),
        (b"abc", IPEndPoint(loopback(af), 9), SocketFlags.Broadcast, SocketError.OperationNotSupported),
    ]
    if HAS_IPV6:
        ep, code = other_family(af)
        cases.append((b"abc", ep, 0, code))
    if af == AddressFamily.InterNetwork:
        cases.append((b"abc", IPEndPoint(IPAddress.Parse("127.255.255.255"), 9), 0, SocketError.AccessDenied))
    for data, ep, flags, code in cases:
        s = make_socket(af)
        with pytest.raises(SocketException) as ei:
            model.send_to(s, data, ep, flags=flags)
        assert ei.value.SocketErrorCode == code, (data[:3], ep, flags)
        assert ei.value.ErrorCode == int(code)
        # A first send that failed at once leaves the socket unbound, as .NET reports it.
        assert s.LocalEndPoint is None and not s.IsBound


def test_pending_receive_cut_short_by_close(model: Model, af: AddressFamily, make_socket: MakeSocket) -> None:
    b = bound(make_socket, af)
    finish = model.start_receive_from(b, bytearray(8), any_ep(af))
    deadline = time.monotonic() + WAIT
    while not b._io.rq and time.monotonic() < deadline:
        time.sleep(0.001)
    assert len(b._io.rq) == 1, "the receive never started waiting"
    b.Close()
    with pytest.raises(SocketException) as ei:
        finish()
    assert ei.value.SocketErrorCode == model.aborted


def test_pending_receive_gets_the_next_datagram(
    model: Model, af: AddressFamily, make_socket: MakeSocket
) -> None:
    a = make_socket(af)
    b = bound(make_socket, af)
    buf = bytearray(8)
    finish = model.start_receive_from(b, buf, any_ep(af))
    a.SendTo(b"later", b.LocalEndPoint)
    n, sender = finish()
    assert (n, bytes(buf[:5])) == (5, b"later")
    assert sender == IPEndPoint(loopback(af), a.LocalEndPoint.Port)  # type: ignore[union-attr]


# -- streams -----------------------------------------------------------------------------------------


def _receive_exactly(model: Model, s: Socket, count: int) -> bytes:
    got = bytearray()
    buf = bytearray(64)
    while len(got) < count:
        n = model.receive(s, buf)
        assert n > 0, "the peer closed early"
        got += buf[:n]
    return bytes(got)


def test_stream_round_trip(model: Model, af: AddressFamily, make_socket: MakeSocket) -> None:
    listener = bound(make_socket, af, SocketType.Stream)
    listener.Listen(4)
    client = make_socket(af, SocketType.Stream)
    assert not client.IsBound and client.LocalEndPoint is None
    model.connect(client, listener.LocalEndPoint)
    assert client.Connected and client.IsBound
    assert client.RemoteEndPoint == listener.LocalEndPoint
    local = client.LocalEndPoint
    assert isinstance(local, IPEndPoint) and local.Port != 0 and local.Address == loopback(af)
    server = model.accept(listener)
    try:
        assert server.Connected and server.RemoteEndPoint == local
        assert server.LocalEndPoint == listener.LocalEndPoint
        assert model.send(client, b"hello") == 5
        assert _receive_exactly(model, server, 5) == b"hello"
        assert model.send(server, bytearray(b"world!")) == 6
        assert _receive_exactly(model, client, 6) == b"world!"
        client.Shutdown(1)
        assert model.receive(server, bytearray(8)) == 0  # the peer's shutdown
    finally:
        server.Dispose()


def test_connect_refused(model: Model, af: AddressFamily, make_socket: MakeSocket) -> None:
    s = make_socket(af, SocketType.Stream)
    with pytest.raises(SocketException) as ei:
        model.connect(s, IPEndPoint(loopback(af), closed_port(af)))
    assert ei.value.SocketErrorCode == SocketError.ConnectionRefused
    assert not s.Connected


def test_connect_checks(model: Model, af: AddressFamily, make_socket: MakeSocket) -> None:
    s = make_socket(af, SocketType.Stream)
    with pytest.raises(ArgumentNullException) as ei:
        model.connect(s, None)
    assert ei.value.ParamName == "remoteEP"
    listener = bound(make_socket, af, SocketType.Stream)
    listener.Listen(1)
    with pytest.raises(InvalidOperationException):
        model.connect(listener, IPEndPoint(loopback(af), 9))  # a listening socket cannot connect
    s.Connect(listener.LocalEndPoint)
    with pytest.raises(SocketException) as ei2:
        model.connect(s, listener.LocalEndPoint)
    assert ei2.value.SocketErrorCode == SocketError.IsConnected
    s.Close()
    with pytest.raises(ObjectDisposedException):
        model.connect(s, listener.LocalEndPoint)


def test_accept_checks(model: Model, af: AddressFamily, make_socket: MakeSocket) -> None:
    s = make_socket(af, SocketType.Stream)
    with pytest.raises(InvalidOperationException):
        model.accept(s)  # not bound
    s.Bind(IPEndPoint(loopback(af), 0))
    with pytest.raises(InvalidOperationException):
        model.accept(s)  # not listening
    s.Close()
    with pytest.raises(ObjectDisposedException):
        model.accept(s)


def test_stream_send_on_an_unconnected_socket(
    model: Model, af: AddressFamily, make_socket: MakeSocket
) -> None:
    s = make_socket(af, SocketType.Stream)
    with pytest.raises(SocketException) as ei:
        model.send(s, b"abc")
    # Linux reports EPIPE for a send on a stream socket that never connected, and .NET on
    # Linux maps it to Shutdown; a connected-but-reset socket is not what this checks.
    assert ei.value.SocketErrorCode in (SocketError.Shutdown, SocketError.NotConnected)
