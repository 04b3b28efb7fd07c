"""SocketAsyncEventArgs and the event-based ``...Async(e)`` methods.

Cases follow dotnet/runtime's SocketAsyncEventArgsTest.cs and the
``...Async(e)`` checks in Socket.cs, plus the oracle's measured outcomes
(``SendToAsync(null)``, a missing RemoteEndPoint, a broadcast without
EnableBroadcast).  Pending states are forced (nothing to receive yet, a full
send buffer), never hoped for.
"""

from __future__ import annotations

import array
import contextvars
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from conftest import HAS_IPV6, WAIT, UdpPeer, loopback
from dotnet_sockets import (
    AddressFamily,
    ArgumentException,
    ArgumentNullException,
    ArgumentOutOfRangeException,
    DnsEndPoint,
    ExecutionContext,
    InvalidOperationException,
    IPAddress,
    IPEndPoint,
    NotSupportedException,
    ObjectDisposedException,
    Socket,
    SocketAsyncEventArgs,
    SocketAsyncOperation,
    SocketError,
    SocketFlags,
    SocketType,
)
from dotnet_sockets.eventargs import CompletedEvent

MakeSocket = Callable[..., Socket]


class Completions:
    """A Completed handler that records each call and lets the test wait for them."""

    def __init__(self, action: Callable[[Any, SocketAsyncEventArgs], Any] | None = None) -> None:
        self.calls: list[tuple[Any, SocketAsyncEventArgs, int]] = []
        self.snapshots: list[tuple[SocketError, int, SocketAsyncOperation]] = []
        self.errors: list[BaseException] = []
        self._action = action
        self._cond = threading.Condition()

    def __call__(self, sender: Any, e: SocketAsyncEventArgs) -> None:
        snap = (e.SocketError, e.BytesTransferred, e.LastOperation)
        try:
            if self._action is not None:
                self._action(sender, e)
        except BaseException as exc:  # noqa: BLE001 - recorded for the test
            self.errors.append(exc)
        with self._cond:
            self.calls.append((sender, e, threading.get_ident()))
            self.snapshots.append(snap)
            self._cond.notify_all()

    def wait(self, count: int = 1, timeout: float = WAIT) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: len(self.calls) >= count, timeout)


def udp(
    make_socket: MakeSocket, af: AddressFamily = AddressFamily.InterNetwork, bind: bool = False
) -> Socket:
    s = make_socket(af)
    if bind:
        s.Bind(IPEndPoint(loopback(af), 0))
    return s


def addr_of(s: Socket) -> tuple[str, int]:
    """The plain-socket address of a bound Socket of this library."""
    ep = s.LocalEndPoint
    assert isinstance(ep, IPEndPoint)
    return str(ep.Address), ep.Port


def any_ep(af: AddressFamily) -> IPEndPoint:
    return IPEndPoint(IPAddress.Any if af == AddressFamily.InterNetwork else IPAddress.IPv6Any, 0)


@pytest.fixture
def peer4() -> Iterator[UdpPeer]:
    peer = UdpPeer(AddressFamily.InterNetwork)
    yield peer
    peer.close()


@pytest.fixture
def tcp_pair(make_socket: MakeSocket) -> Iterator[tuple[Socket, Socket]]:
    """A connected (client, server) pair of this library's stream sockets."""
    listener = make_socket(AddressFamily.InterNetwork, SocketType.Stream)
    listener.Bind(IPEndPoint(IPAddress.Loopback, 0))
    listener.Listen(4)
    client = make_socket(AddressFamily.InterNetwork, SocketType.Stream)
    client.Connect(listener.LocalEndPoint)
    server = listener.Accept()
    yield client, server
    server.Dispose()


# -- the object itself -----------------------------------------------------------------------------


def test_defaults() -> None:
    e = SocketAsyncEventArgs()
    assert e.Buffer is None and e.MemoryBuffer is None
    assert (e.Offset, e.Count, e.BytesTransferred) == (0, 0, 0)
    assert e.BufferList is None
    assert e.SocketError == SocketError.Success
    assert e.SocketFlags == SocketFlags.None_
    assert e.LastOperation == SocketAsyncOperation.None_
    assert e.UserToken is None and e.RemoteEndPoint is None
    assert e.AcceptSocket is None and e.ConnectSocket is None
    assert e.DisconnectReuseSocket is False
    assert isinstance(e.Completed, CompletedEvent) and len(e.Completed) == 0


def test_pep8_names_are_the_same_members() -> None:
    assert SocketAsyncEventArgs.SetBuffer is SocketAsyncEventArgs.set_buffer
    assert SocketAsyncEventArgs.BytesTransferred is SocketAsyncEventArgs.bytes_transferred
    assert SocketAsyncEventArgs.SocketError is SocketAsyncEventArgs.socket_error
    assert SocketAsyncEventArgs.Completed is SocketAsyncEventArgs.completed
    assert Socket.SendToAsync is Socket.send_to_async
    assert Socket.ReceiveFromAsync is Socket.receive_from_async
    e = SocketAsyncEventArgs()
    e.user_token = "t"
    e.remote_end_point = IPEndPoint(IPAddress.Loopback, 5)
    assert e.UserToken == "t" and e.RemoteEndPoint == IPEndPoint(IPAddress.Loopback, 5)


def test_plain_properties_round_trip() -> None:
    e = SocketAsyncEventArgs()
    token = object()
    e.UserToken = token
    e.SocketFlags = SocketFlags.DontRoute
    e.DisconnectReuseSocket = True
    e.SocketError = SocketError.TimedOut
    assert e.UserToken is token
    assert e.SocketFlags == SocketFlags.DontRoute
    assert e.DisconnectReuseSocket is True
    assert e.SocketError == SocketError.TimedOut
    e.SocketError = 0
    assert e.SocketError is SocketError.Success


def test_set_buffer_three_arguments() -> None:
    e = SocketAsyncEventArgs()
    buf = bytearray(10)
    e.SetBuffer(buf, 2, 5)
    assert e.Buffer is buf and (e.Offset, e.Count) == (2, 5)
    e.SetBuffer(buf, 10, 0)
    assert (e.Offset, e.Count) == (10, 0)
    e.SetBuffer(None, 0, 0)
    assert e.Buffer is None and (e.Offset, e.Count) == (0, 0)


@pytest.mark.parametrize(
    ("offset", "count", "param"),
    [(-1, 0, "offset"), (11, 0, "offset"), (0, -1, "count"), (0, 11, "count"), (4, 7, "count")],
)
def test_set_buffer_range_checks(offset: int, count: int, param: str) -> None:
    e = SocketAsyncEventArgs()
    with pytest.raises(ArgumentOutOfRangeException) as ei:
        e.SetBuffer(bytearray(10), offset, count)
    assert ei.value.ParamName == param
    assert e.Buffer is None  # a failed SetBuffer changes nothing


def test_set_buffer_window_moves_over_the_same_buffer() -> None:
    e = SocketAsyncEventArgs()
    e.SetBuffer(3, 4)  # no buffer yet: ignored, as in .NET
    assert (e.Offset, e.Count) == (0, 0)
    buf = bytearray(8)
    e.SetBuffer(buf, 0, 8)
    e.SetBuffer(3, 4)
    assert e.Buffer is buf and (e.Offset, e.Count) == (3, 4)
    with pytest.raises(ArgumentOutOfRangeException) as ei:
        e.SetBuffer(3, 6)
    assert ei.value.ParamName == "count"
    with pytest.raises(ArgumentOutOfRangeException) as ei:
        e.SetBuffer(9, 0)
    assert ei.value.ParamName == "offset"
    assert (e.Offset, e.Count) == (3, 4)


def test_set_buffer_one_argument_and_keywords() -> None:
    e = SocketAsyncEventArgs()
    data = array.array("i", [1, 2])
    e.SetBuffer(data)
    assert e.Buffer is data and (e.Offset, e.Count) == (0, 2 * data.itemsize)
    assert e.MemoryBuffer is not None and e.MemoryBuffer.nbytes == 2 * data.itemsize
    e.set_buffer(buffer=b"abcdef", offset=1, count=2)
    assert (e.Offset, e.Count) == (1, 2)
    e.SetBuffer(None)
    assert e.Buffer is None


def test_set_buffer_bad_inputs() -> None:
    e = SocketAsyncEventArgs()
    with pytest.raises(ArgumentException) as ei:
        e.SetBuffer("text", 0, 1)
    assert ei.value.ParamName == "buffer"
    with pytest.raises(ArgumentException):
        e.SetBuffer(bytearray(4), "x", 1)
    with pytest.raises(TypeError):
        e.SetBuffer(bytearray(4), 1)
    with pytest.raises(TypeError):
        e.SetBuffer(1, 2, 3, 4)


def test_buffer_and_buffer_list_are_exclusive() -> None:
    e = SocketAsyncEventArgs()
    e.SetBuffer(bytearray(4), 0, 4)
    with pytest.raises(ArgumentException):
        e.BufferList = [bytearray(2)]
    assert e.BufferList is None
    e.SetBuffer(None, 0, 0)
    items = [bytearray(2), (bytearray(4), 1, 2)]
    e.BufferList = items
    assert e.BufferList is items and (e.Offset, e.Count) == (0, 0)
    with pytest.raises(ArgumentException):
        e.SetBuffer(bytearray(4), 0, 4)
    with pytest.raises(ArgumentException):
        e.SetBuffer(bytearray(4))
    e.SetBuffer(b"")  # an empty buffer does not conflict, as in .NET
    e.BufferList = None
    e.SetBuffer(bytearray(4), 0, 4)


def test_buffer_list_segment_checks() -> None:
    e = SocketAsyncEventArgs()
    with pytest.raises(ArgumentOutOfRangeException):
        e.BufferList = [(bytearray(4), 3, 2)]
    with pytest.raises(ArgumentException):
        e.BufferList = b"not a list"
    with pytest.raises(ArgumentException):
        e.BufferList = ["text"]
    assert e.BufferList is None


def test_completed_event_subscription() -> None:
    e = SocketAsyncEventArgs()
    seen: list[str] = []

    def a(s: Any, ev: SocketAsyncEventArgs) -> None:
        seen.append("a")

    def b(s: Any, ev: SocketAsyncEventArgs) -> None:
        seen.append("b")

    e.Completed += a
    e.Completed += b
    e.Completed += a
    e.Completed(None, e)
    assert seen == ["a", "b", "a"]
    e.Completed -= a  # removes the last subscription, as C# does
    seen.clear()
    e.Completed(None, e)
    assert seen == ["a", "b"]
    e.Completed -= lambda s, ev: None  # unknown: ignored
    e.Completed = b  # plain assignment: one handler
    seen.clear()
    e.Completed(None, e)
    assert seen == ["b"]
    e.completed += a  # the PEP 8 spelling is the same event
    assert list(e.Completed) == [b, a]
    e.Completed = None
    assert not e.Completed
    e.Completed += None  # like a null delegate: ignored
    assert len(e.Completed) == 0
    with pytest.raises(ArgumentException):
        e.Completed += 5  # type: ignore[arg-type]
    with pytest.raises(ArgumentException):
        e.Completed = "nope"


def test_dispose_free_object() -> None:
    e = SocketAsyncEventArgs()
    e.SetBuffer(bytearray(4), 0, 4)
    with e:
        pass
    with pytest.raises(ObjectDisposedException):
        e.SetBuffer(bytearray(4), 0, 4)
    with pytest.raises(ObjectDisposedException):
        e.BufferList = [bytearray(1)]
    e.Dispose()  # twice is fine


def test_operation_on_disposed_args_raises(make_socket: MakeSocket, peer4: UdpPeer) -> None:
    s = udp(make_socket)
    e = SocketAsyncEventArgs()
    e.SetBuffer(b"abc", 0, 3)
    e.RemoteEndPoint = IPEndPoint(IPAddress.Loopback, 9)
    e.Dispose()
    with pytest.raises(ObjectDisposedException):
        s.SendToAsync(e)


# -- argument checks of the methods ------------------------------------------------------------------


def test_send_to_async_null_args(make_socket: MakeSocket) -> None:
    s = udp(make_socket)
    with pytest.raises(ArgumentNullException) as ei:
        s.SendToAsync(None)
    assert ei.value.ParamName == "e"


def test_send_to_async_without_remote_endpoint(make_socket: MakeSocket) -> None:
    # .NET Core 3.1 (oracle): ArgumentNullException; current .NET: ArgumentException, ParamName "e".
    s = udp(make_socket)
    e = SocketAsyncEventArgs()
    e.SetBuffer(bytearray(4), 0, 4)
    with pytest.raises(ArgumentNullException) as ei:
        s.SendToAsync(e)
    assert isinstance(ei.value, ArgumentException)
    assert ei.value.ParamName == "e"
    assert "RemoteEndPoint" in str(ei.value)
    # The args object was never marked in use.
    e.RemoteEndPoint = IPEndPoint(IPAddress.Loopback, 9)
    e.SetBuffer(0, 0)


def test_disposed_socket_is_checked_before_the_args(make_socket: MakeSocket) -> None:
    s = udp(make_socket)
    s.Close()
    for method in (s.SendToAsync, s.ReceiveFromAsync, s.SendAsync, s.ReceiveAsync, s.AcceptAsync):
        with pytest.raises(ObjectDisposedException):
            method(None)
    with pytest.raises(ObjectDisposedException):
        s.ConnectAsync(None)
    with pytest.raises(ObjectDisposedException):
        s.DisconnectAsync(None)


def test_send_to_async_dns_endpoint(make_socket: MakeSocket) -> None:
    s = udp(make_socket)
    e = SocketAsyncEventArgs()
    e.SetBuffer(b"x", 0, 1)
    e.RemoteEndPoint = DnsEndPoint("localhost", 9)
    with pytest.raises(ArgumentException) as ei:
        s.SendToAsync(e)
    assert ei.value.ParamName == "remoteEP"


def test_wrong_argument_type(make_socket: MakeSocket) -> None:
    s = udp(make_socket)
    with pytest.raises(ArgumentException) as ei:
        s.SendToAsync(e=object())
    assert ei.value.ParamName == "e"


def test_receive_from_async_checks(make_socket: MakeSocket) -> None:
    s = udp(make_socket)
    e = SocketAsyncEventArgs()
    e.SetBuffer(bytearray(4), 0, 4)
    with pytest.raises(ArgumentNullException) as ei:
        s.ReceiveFromAsync(e)
    assert ei.value.ParamName == "e"
    if HAS_IPV6:
        e.RemoteEndPoint = IPEndPoint(IPAddress.IPv6Any, 0)
        with pytest.raises(ArgumentException) as ei:
            s.ReceiveFromAsync(e)
        assert ei.value.ParamName == "e"
    e.RemoteEndPoint = IPEndPoint(IPAddress.Any, 0)
    with pytest.raises(InvalidOperationException):
        s.ReceiveFromAsync(e)  # not bound: as ReceiveFrom and BeginReceiveFrom
    s.Bind(IPEndPoint(IPAddress.Loopback, 0))
    e.SetBuffer(b"read-only", 0, 9)
    with pytest.raises(ArgumentException) as ei:
        s.ReceiveFromAsync(e)
    assert ei.value.ParamName == "buffer"
    # After each argument error the object is free again.
    e.SetBuffer(bytearray(4), 0, 4)


# -- datagrams -------------------------------------------------------------------------------------


def test_send_to_async_completes_at_once(
    make_socket: MakeSocket, udp_peer: UdpPeer, af: AddressFamily
) -> None:
    s = udp(make_socket, af)
    done = Completions()
    e = SocketAsyncEventArgs()
    e.Completed += done
    e.SetBuffer(bytearray(b"..hello.."), 2, 5)
    e.RemoteEndPoint = udp_peer.endpoint
    e.SocketFlags = SocketFlags.DontRoute
    assert s.LocalEndPoint is None
    assert s.SendToAsync(e) is False
    assert e.SocketError == SocketError.Success
    assert e.BytesTransferred == 5
    assert e.LastOperation == SocketAsyncOperation.SendTo
    assert e.SocketFlags == SocketFlags.None_  # reset by the completion, as .NET does
    data, sender = udp_peer.recv()
    assert data == b"hello"
    # Implicit bind: the socket is bound from then on, as in every other model.
    local = s.LocalEndPoint
    assert isinstance(local, IPEndPoint) and local.Port == sender[1]
    # Completed does not fire for an operation that completed inside the call:
    # a later pending operation's completion is the only one seen.
    s2 = udp(make_socket, af, bind=True)
    r = SocketAsyncEventArgs()
    r.SetBuffer(bytearray(16), 0, 16)
    r.RemoteEndPoint = any_ep(af)
    r.Completed += done
    assert s2.ReceiveFromAsync(r) is True
    e.RemoteEndPoint = s2.LocalEndPoint
    assert s.SendToAsync(e) is False
    assert done.wait(1)
    assert [c[1] for c in done.calls] == [r]


def test_send_to_async_broadcast_without_option(make_socket: MakeSocket) -> None:
    # Oracle (.NET Core 3.1): returns false, e.SocketError = AccessDenied.
    s = udp(make_socket)
    done = Completions()
    e = SocketAsyncEventArgs()
    e.Completed += done
    e.SetBuffer(bytearray(8), 0, 8)
    e.RemoteEndPoint = IPEndPoint(IPAddress.Parse("127.255.255.255"), 9)
    assert s.SendToAsync(e) is False
    assert e.SocketError == SocketError.AccessDenied
    assert e.BytesTransferred == 0
    # The failed first send leaves the socket unbound, as .NET reports it.
    assert s.LocalEndPoint is None and not s.IsBound
    assert done.calls == []


def test_send_to_async_message_too_big(make_socket: MakeSocket, peer4: UdpPeer) -> None:
    s = udp(make_socket)
    e = SocketAsyncEventArgs()
    e.SetBuffer(bytearray(65508), 0, 65508)
    e.RemoteEndPoint = peer4.endpoint
    assert s.SendToAsync(e) is False
    assert e.SocketError == SocketError.MessageSize


def test_receive_from_async_pending_then_completed(
    make_socket: MakeSocket, udp_peer: UdpPeer, af: AddressFamily
) -> None:
    s = udp(make_socket, af, bind=True)
    done = Completions()
    e = SocketAsyncEventArgs()
    e.Completed += done
    buf = bytearray(20)
    e.SetBuffer(buf, 4, 10)
    e.RemoteEndPoint = any_ep(af)
    e.UserToken = "token"
    assert s.ReceiveFromAsync(e) is True
    assert done.calls == []
    udp_peer.sock.sendto(b"datagram", addr_of(s))
    assert done.wait()
    sender, got, thread = done.calls[0]
    assert sender is s and got is e
    assert thread != threading.get_ident()
    assert done.snapshots[0] == (SocketError.Success, 8, SocketAsyncOperation.ReceiveFrom)
    assert bytes(buf[4:12]) == b"datagram" and buf[:4] == bytes(4)
    assert e.RemoteEndPoint == udp_peer.endpoint
    assert e.UserToken == "token"


def test_reuse_while_pending_raises(make_socket: MakeSocket, peer4: UdpPeer) -> None:
    s = udp(make_socket, bind=True)
    done = Completions()
    e = SocketAsyncEventArgs()
    e.Completed += done
    e.SetBuffer(bytearray(8), 0, 8)
    e.RemoteEndPoint = IPEndPoint(IPAddress.Any, 0)
    assert s.ReceiveFromAsync(e) is True
    with pytest.raises(InvalidOperationException) as ei:
        s.ReceiveFromAsync(e)
    assert "already in progress" in str(ei.value)
    other = udp(make_socket, bind=True)
    with pytest.raises(InvalidOperationException):
        other.SendToAsync(e)
    with pytest.raises(InvalidOperationException):
        e.SetBuffer(bytearray(8), 0, 8)
    with pytest.raises(InvalidOperationException):
        e.BufferList = [bytearray(2)]
    peer4.sock.sendto(b"x", addr_of(s))
    assert done.wait()
    e.SetBuffer(bytearray(8), 0, 8)  # free again


def test_handler_may_start_the_next_operation(make_socket: MakeSocket, peer4: UdpPeer) -> None:
    s = udp(make_socket, bind=True)
    received: list[bytes] = []
    finished = threading.Event()
    buf = bytearray(16)

    def on_completed(sender: Socket, e: SocketAsyncEventArgs) -> None:
        received.append(bytes(buf[: e.BytesTransferred]))
        if len(received) == 3:
            finished.set()
            return
        # Reuse the same object from its own handler; it is free by now.
        while not sender.ReceiveFromAsync(e):
            received.append(bytes(buf[: e.BytesTransferred]))
            if len(received) == 3:
                finished.set()
                return

    e = SocketAsyncEventArgs()
    e.Completed += on_completed
    e.SetBuffer(buf, 0, 16)
    e.RemoteEndPoint = IPEndPoint(IPAddress.Any, 0)
    assert s.ReceiveFromAsync(e) is True
    for i in range(3):
        peer4.sock.sendto(b"m%d" % i, addr_of(s))
    assert finished.wait(WAIT)
    assert received == [b"m0", b"m1", b"m2"]


def test_close_aborts_a_pending_receive(make_socket: MakeSocket) -> None:
    s = udp(make_socket, bind=True)
    done = Completions()
    e = SocketAsyncEventArgs()
    e.Completed += done
    e.SetBuffer(bytearray(8), 0, 8)
    e.RemoteEndPoint = IPEndPoint(IPAddress.Any, 0)
    assert s.ReceiveFromAsync(e) is True
    s.Close()
    assert done.wait()
    assert done.snapshots == [(SocketError.OperationAborted, 0, SocketAsyncOperation.ReceiveFrom)]
    assert len(done.calls) == 1


def test_dispose_while_pending_takes_effect_at_completion(make_socket: MakeSocket, peer4: UdpPeer) -> None:
    s = udp(make_socket, bind=True)
    done = Completions()
    e = SocketAsyncEventArgs()
    e.Completed += done
    e.SetBuffer(bytearray(8), 0, 8)
    e.RemoteEndPoint = IPEndPoint(IPAddress.Any, 0)
    assert s.ReceiveFromAsync(e) is True
    e.Dispose()
    peer4.sock.sendto(b"late", addr_of(s))
    assert done.wait()
    assert done.snapshots[0][:2] == (SocketError.Success, 4)
    with pytest.raises(ObjectDisposedException):
        s.ReceiveFromAsync(e)


def test_receive_from_async_into_a_buffer_list(make_socket: MakeSocket, peer4: UdpPeer) -> None:
    s = udp(make_socket, bind=True)
    done = Completions()
    e = SocketAsyncEventArgs()
    e.Completed += done
    a, b = bytearray(3), bytearray(6)
    e.BufferList = [a, (b, 1, 4)]
    e.RemoteEndPoint = IPEndPoint(IPAddress.Any, 0)
    assert s.ReceiveFromAsync(e) is True
    peer4.sock.sendto(b"abcdef", addr_of(s))
    assert done.wait()
    assert e.BytesTransferred == 6
    assert bytes(a) == b"abc" and bytes(b) == b"\x00def\x00\x00"
    assert e.RemoteEndPoint == peer4.endpoint


def test_send_to_async_gathers_a_buffer_list(make_socket: MakeSocket, peer4: UdpPeer) -> None:
    s = udp(make_socket)
    e = SocketAsyncEventArgs()
    e.BufferList = [b"ab", (b"xcdx", 1, 2), memoryview(b"ef")]
    e.RemoteEndPoint = peer4.endpoint
    assert s.SendToAsync(e) is False
    assert (e.SocketError, e.BytesTransferred) == (SocketError.Success, 6)
    assert peer4.recv()[0] == b"abcdef"


def test_context_flows_to_the_handler(make_socket: MakeSocket, peer4: UdpPeer) -> None:
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")
    seen: list[str] = []
    s = udp(make_socket, bind=True)

    def run(e: SocketAsyncEventArgs) -> None:
        done = Completions(lambda sender, ev: seen.append(var.get()))
        e.Completed += done
        e.SetBuffer(bytearray(8), 0, 8)
        e.RemoteEndPoint = IPEndPoint(IPAddress.Any, 0)
        token = var.set("caller")
        try:
            assert s.ReceiveFromAsync(e) is True
        finally:
            var.reset(token)
        peer4.sock.sendto(b"x", addr_of(s))
        assert done.wait()

    run(SocketAsyncEventArgs())
    run(SocketAsyncEventArgs(unsafe_suppress_execution_context_flow=True))
    with ExecutionContext.SuppressFlow():
        run(SocketAsyncEventArgs())
    assert seen == ["caller", "unset", "unset"]


def test_exception_in_handler_is_reported(
    make_socket: MakeSocket, peer4: UdpPeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    reported: list[BaseException | None] = []
    hook_called = threading.Event()

    def hook(args: Any) -> None:
        reported.append(args.exc_value)
        hook_called.set()

    monkeypatch.setattr(threading, "excepthook", hook)
    s = udp(make_socket, bind=True)

    def boom(sender: Any, e: SocketAsyncEventArgs) -> None:
        raise RuntimeError("handler failed")

    e = SocketAsyncEventArgs()
    e.Completed += boom
    e.SetBuffer(bytearray(8), 0, 8)
    e.RemoteEndPoint = IPEndPoint(IPAddress.Any, 0)
    assert s.ReceiveFromAsync(e) is True
    peer4.sock.sendto(b"x", addr_of(s))
    assert hook_called.wait(WAIT)
    assert isinstance(reported[0], RuntimeError)
    # The object is free and later completions still run.
    done = Completions()
    e.Completed = done
    assert s.ReceiveFromAsync(e) is True
    peer4.sock.sendto(b"y", addr_of(s))
    assert done.wait()


def test_subclass_on_completed_override(make_socket: MakeSocket, peer4: UdpPeer) -> None:
    seen = threading.Event()

    class MyArgs(SocketAsyncEventArgs):
        __slots__ = ()

        def OnCompleted(self, e: SocketAsyncEventArgs) -> None:
            seen.set()

    s = udp(make_socket, bind=True)
    e = MyArgs()
    e.SetBuffer(bytearray(8), 0, 8)
    e.RemoteEndPoint = IPEndPoint(IPAddress.Any, 0)
    assert s.ReceiveFromAsync(e) is True
    peer4.sock.sendto(b"x", addr_of(s))
    assert seen.wait(WAIT)


def test_many_reused_sends_and_one_args_object(make_socket: MakeSocket, peer4: UdpPeer) -> None:
    s = udp(make_socket)
    e = SocketAsyncEventArgs()
    done = Completions()
    e.Completed += done
    e.SetBuffer(b"0123456789", 0, 10)
    e.RemoteEndPoint = peer4.endpoint
    pending = 0
    for i in range(200):
        e.SetBuffer(i % 10, 1)
        if s.SendToAsync(e):
            pending += 1
            assert done.wait(pending)
        assert e.SocketError == SocketError.Success and e.BytesTransferred == 1
    got = b"".join(peer4.recv()[0] for _ in range(200))
    assert got == b"0123456789" * 20


# -- streams ---------------------------------------------------------------------------------------


def test_accept_and_connect_async(make_socket: MakeSocket, af: AddressFamily) -> None:
    listener = make_socket(af, SocketType.Stream)
    listener.Bind(IPEndPoint(loopback(af), 0))
    listener.Listen(4)
    accepted = Completions()
    ea = SocketAsyncEventArgs()
    ea.Completed += accepted
    assert listener.AcceptAsync(ea) is True  # nobody is connecting yet
    client = make_socket(af, SocketType.Stream)
    connected = Completions()
    ec = SocketAsyncEventArgs()
    ec.Completed += connected
    ec.RemoteEndPoint = listener.LocalEndPoint
    if client.ConnectAsync(ec):
        assert connected.wait()
    assert ec.SocketError == SocketError.Success
    assert ec.ConnectSocket is client and client.Connected
    assert ec.LastOperation == SocketAsyncOperation.Connect
    assert accepted.wait()
    server = ea.AcceptSocket
    assert isinstance(server, Socket) and server.Connected
    assert ea.LastOperation == SocketAsyncOperation.Accept
    try:
        assert server.RemoteEndPoint == client.LocalEndPoint
    finally:
        server.Dispose()


def test_accept_async_into_a_given_socket(make_socket: MakeSocket) -> None:
    listener = make_socket(AddressFamily.InterNetwork, SocketType.Stream)
    listener.Bind(IPEndPoint(IPAddress.Loopback, 0))
    listener.Listen(4)
    peer = socket.create_connection(addr_of(listener), timeout=WAIT)
    try:
        target = make_socket(AddressFamily.InterNetwork, SocketType.Stream)
        done = Completions()
        e = SocketAsyncEventArgs()
        e.Completed += done
        e.AcceptSocket = target
        if listener.AcceptAsync(e):
            assert done.wait()
        assert e.SocketError == SocketError.Success
        assert e.AcceptSocket is target and target.Connected
        peer.sendall(b"hi")
        buf = bytearray(2)
        target.ReceiveTimeout = int(WAIT * 1000)
        assert target.Receive(buf) == 2 and buf == b"hi"
    finally:
        peer.close()


def test_accept_async_checks(make_socket: MakeSocket) -> None:
    s = make_socket(AddressFamily.InterNetwork, SocketType.Stream)
    e = SocketAsyncEventArgs()
    with pytest.raises(InvalidOperationException):
        s.AcceptAsync(e)  # not bound
    s.Bind(IPEndPoint(IPAddress.Loopback, 0))
    with pytest.raises(InvalidOperationException):
        s.AcceptAsync(e)  # not listening
    s.Listen(1)
    e.BufferList = [bytearray(4)]
    with pytest.raises(ArgumentException) as ei:
        s.AcceptAsync(e)
    assert ei.value.ParamName == "e"
    e.BufferList = None
    e.SetBuffer(bytearray(64), 0, 64)
    with pytest.raises(NotSupportedException):
        s.AcceptAsync(e)  # accept-and-receive is not supported on Linux, as in .NET
    e.SetBuffer(None, 0, 0)
    bound = make_socket(AddressFamily.InterNetwork, SocketType.Stream)
    bound.Bind(IPEndPoint(IPAddress.Loopback, 0))
    e.AcceptSocket = bound
    with pytest.raises(InvalidOperationException):
        s.AcceptAsync(e)


def test_connect_async_checks(make_socket: MakeSocket) -> None:
    s = make_socket(AddressFamily.InterNetwork, SocketType.Stream)
    e = SocketAsyncEventArgs()
    with pytest.raises(ArgumentNullException) as ei:
        s.ConnectAsync(e)
    assert ei.value.ParamName == "remoteEP"
    e.BufferList = [bytearray(1)]
    e.RemoteEndPoint = IPEndPoint(IPAddress.Loopback, 9)
    with pytest.raises(ArgumentException) as ei:
        s.ConnectAsync(e)
    assert ei.value.ParamName == "BufferList"
    e.BufferList = None
    s.Bind(IPEndPoint(IPAddress.Loopback, 0))
    s.Listen(1)
    with pytest.raises(InvalidOperationException):
        s.ConnectAsync(e)


def test_connect_async_refused(make_socket: MakeSocket) -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    s = make_socket(AddressFamily.InterNetwork, SocketType.Stream)
    done = Completions()
    e = SocketAsyncEventArgs()
    e.Completed += done
    e.RemoteEndPoint = IPEndPoint(IPAddress.Loopback, port)
    if s.ConnectAsync(e):
        assert done.wait()
    assert e.SocketError == SocketError.ConnectionRefused
    assert e.ConnectSocket is None and not s.Connected
    assert e.ConnectByNameError is not None


def test_send_and_receive_async_on_a_stream(tcp_pair: tuple[Socket, Socket]) -> None:
    client, server = tcp_pair
    got = Completions()
    r = SocketAsyncEventArgs()
    r.Completed += got
    rbuf = bytearray(32)
    r.SetBuffer(rbuf, 0, 32)
    assert server.ReceiveAsync(r) is True
    s = SocketAsyncEventArgs()
    s.BufferList = [b"ab", (b"-cd-", 1, 2)]
    assert client.SendAsync(s) is False
    assert (s.SocketError, s.BytesTransferred, s.LastOperation) == (
        SocketError.Success,
        4,
        SocketAsyncOperation.Send,
    )
    assert got.wait()
    assert bytes(rbuf[: r.BytesTransferred]) == b"abcd"[: r.BytesTransferred]
    # The peer's shutdown reads as a 0-byte receive.
    client.Shutdown(1)
    r.SetBuffer(rbuf, 0, 32)
    total = r.BytesTransferred
    for _ in range(10):
        if server.ReceiveAsync(r):
            assert got.wait(len(got.calls) + 1)
        if r.BytesTransferred == 0:
            break
        total += r.BytesTransferred
    assert r.BytesTransferred == 0 and r.SocketError == SocketError.Success
    assert total == 4


def test_send_async_pending_on_a_full_buffer(tcp_pair: tuple[Socket, Socket]) -> None:
    client, server = tcp_pair
    client.SendBufferSize = 4096
    server.ReceiveBufferSize = 4096
    done = Completions()
    e = SocketAsyncEventArgs()
    e.Completed += done
    chunk = bytearray(65536)
    e.SetBuffer(chunk, 0, len(chunk))
    sent = 0
    pending = False
    for _ in range(1000):  # bounded: the buffers hold far less than this
        if client.SendAsync(e):
            pending = True
            break
        sent += e.BytesTransferred
    assert pending, "the send buffer never filled"
    sent += len(chunk)
    got = 0
    buf = bytearray(65536)
    server.ReceiveTimeout = int(WAIT * 1000)
    while got < sent:
        got += server.Receive(buf)
    assert done.wait()
    assert e.SocketError == SocketError.Success and e.BytesTransferred == len(chunk)


def test_receive_async_read_only_buffer_is_an_argument_error(tcp_pair: tuple[Socket, Socket]) -> None:
    client, server = tcp_pair
    e = SocketAsyncEventArgs()
    e.SetBuffer(b"bytes are read-only", 0, 5)
    with pytest.raises(ArgumentException):
        server.ReceiveAsync(e)
    e.SetBuffer(bytearray(5), 0, 5)  # free again


def test_disconnect_async(tcp_pair: tuple[Socket, Socket]) -> None:
    client, server = tcp_pair
    done = Completions()
    e = SocketAsyncEventArgs()
    e.Completed += done
    e.DisconnectReuseSocket = True
    assert client.DisconnectAsync(e) is False
    assert e.SocketError == SocketError.Success
    assert e.LastOperation == SocketAsyncOperation.Disconnect
    assert not client.Connected
    assert done.calls == []


def test_socket_flags_reach_the_operation(make_socket: MakeSocket, peer4: UdpPeer) -> None:
    s = udp(make_socket)
    e = SocketAsyncEventArgs()
    e.SetBuffer(b"abcd", 0, 4)
    e.RemoteEndPoint = peer4.endpoint
    e.SocketFlags = SocketFlags.Broadcast  # makes no sense for a send: an error of the operation
    assert s.SendToAsync(e) is False
    assert e.SocketError == SocketError.OperationNotSupported


def test_socket_type_mismatch_is_an_operation_error(make_socket: MakeSocket) -> None:
    if not HAS_IPV6:
        pytest.skip("no IPv6 loopback")
    s = udp(make_socket)
    e = SocketAsyncEventArgs()
    e.SetBuffer(b"abcd", 0, 4)
    e.RemoteEndPoint = IPEndPoint(IPAddress.IPv6Loopback, 9)
    assert s.SendToAsync(e) is False
    assert e.SocketError == SocketError.AddressFamilyNotSupported


def test_denied_by_policy_raises_security_exception(make_socket: MakeSocket, peer4: UdpPeer) -> None:
    from dotnet_sockets import SecurityException
    from dotnet_sockets.security import SocketPolicy, using_policy

    s = make_socket()
    e = SocketAsyncEventArgs()
    e.SetBuffer(b"denied", 0, 6)
    e.RemoteEndPoint = peer4.endpoint
    with using_policy(SocketPolicy.deny_only(peer4.endpoint)):
        with pytest.raises(SecurityException):
            s.SendToAsync(e)
        s.Bind(IPEndPoint(IPAddress.Loopback, 0))  # bound: the steady-state path is checked too
        with pytest.raises(SecurityException):
            s.SendToAsync(e)
        c = make_socket(AddressFamily.InterNetwork, SocketType.Stream)
        ce = SocketAsyncEventArgs()
        ce.RemoteEndPoint = peer4.endpoint
        with pytest.raises(SecurityException):
            c.ConnectAsync(ce)
        assert not c.Connected
    assert peer4.nothing_pending()
    # Denied before the args object was taken: it is free, and works once allowed.
    assert s.SendToAsync(e) is False and e.SocketError == SocketError.Success
    assert peer4.recv()[0] == b"denied"


def test_close_aborts_a_pending_connect(make_socket: MakeSocket) -> None:
    listener = make_socket(AddressFamily.InterNetwork, SocketType.Stream)
    listener.Bind(IPEndPoint(IPAddress.Loopback, 0))
    listener.Listen(0)
    filler = socket.create_connection(addr_of(listener), timeout=WAIT)  # fills the backlog
    try:
        client = make_socket(AddressFamily.InterNetwork, SocketType.Stream)
        done = Completions()
        e = SocketAsyncEventArgs()
        e.Completed += done
        e.RemoteEndPoint = listener.LocalEndPoint
        if not client.ConnectAsync(e):
            pytest.skip("this kernel completed the connect despite the full backlog")
        client.Close()
        assert done.wait()
        assert done.snapshots == [(SocketError.OperationAborted, 0, SocketAsyncOperation.Connect)]
        assert e.ConnectSocket is None and not client.Connected
    finally:
        filler.close()
