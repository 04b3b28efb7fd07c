"""BeginSendTo / EndSendTo: every statement of the .NET page, and every bad input.

Cases follow dotnet/runtime's SendTo.cs, ArgumentValidationTests.cs and
DisposedSocketTests.cs, with the decisions of the contract where .NET
versions disagree (errors of the send surface from End; the callback runs on
a completion thread).
"""

from __future__ import annotations

import array
import contextvars
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from conftest import WAIT, CallbackRecorder, UdpPeer, loopback
from dotnet_sockets import (
    AddressFamily,
    ArgumentException,
    ArgumentNullException,
    ArgumentOutOfRangeException,
    DnsEndPoint,
    ExecutionContext,
    IAsyncResult,
    InvalidOperationException,
    IPAddress,
    IPEndPoint,
    ManualResetEvent,
    ObjectDisposedException,
    ProtocolType,
    Socket,
    SocketError,
    SocketException,
    SocketFlags,
    SocketType,
)

MakeSocket = Callable[..., Socket]


def begin(s: Socket, data: Any, ep: Any, cb: Any = None, state: Any = None, flags: Any = 0) -> IAsyncResult:
    return s.BeginSendTo(data, 0, len(data), flags, ep, cb, state)


# -- argument checks, in .NET's order, all from BeginSendTo itself ---------------------------------


def test_disposed_socket_is_checked_first(make_socket: MakeSocket) -> None:
    s = make_socket()
    s.Close()
    with pytest.raises(ObjectDisposedException):
        s.BeginSendTo(None, -1, -1, 0, None, None, None)
    with pytest.raises(ObjectDisposedException):
        s.BeginSendTo(b"abc", 0, 3, 0, IPEndPoint(IPAddress.Loopback, 1), None, None)


def test_null_buffer(make_socket: MakeSocket) -> None:
    with pytest.raises(ArgumentNullException) as ei:
        make_socket().BeginSendTo(None, 0, 0, 0, None, None, None)
    assert ei.value.ParamName == "buffer"


@pytest.mark.parametrize("offset", [-1, 4, 100])
def test_offset_out_of_range(make_socket: MakeSocket, offset: int) -> None:
    ep = IPEndPoint(IPAddress.Loopback, 1)
    with pytest.raises(ArgumentOutOfRangeException) as ei:
        make_socket().BeginSendTo(b"abc", offset, 0, 0, ep, None, None)
    assert ei.value.ParamName == "offset"


@pytest.mark.parametrize(("offset", "size"), [(0, -1), (0, 4), (1, 3), (3, 1)])
def test_size_out_of_range(make_socket: MakeSocket, offset: int, size: int) -> None:
    ep = IPEndPoint(IPAddress.Loopback, 1)
    with pytest.raises(ArgumentOutOfRangeException) as ei:
        make_socket().BeginSendTo(b"abc", offset, size, 0, ep, None, None)
    assert ei.value.ParamName == "size"


def test_null_remote_ep(make_socket: MakeSocket) -> None:
    with pytest.raises(ArgumentNullException) as ei:
        make_socket().BeginSendTo(b"abc", 0, 3, 0, None, None, None)
    assert ei.value.ParamName == "remoteEP"


def test_bad_offset_is_reported_before_null_remote_ep(make_socket: MakeSocket) -> None:
    # Current .NET's order (3.1 checked remoteEP first): the contract follows current .NET.
    with pytest.raises(ArgumentOutOfRangeException) as ei:
        make_socket().BeginSendTo(b"abc", 9, 0, 0, None, None, None)
    assert ei.value.ParamName == "offset"


def test_dns_endpoint_is_rejected_at_begin(make_socket: MakeSocket) -> None:
    with pytest.raises(ArgumentException) as ei:
        make_socket().BeginSendTo(b"abc", 0, 3, 0, DnsEndPoint("localhost", 9), None, None)
    assert ei.value.ParamName == "remoteEP"


def test_wrong_types_are_argument_errors(make_socket: MakeSocket) -> None:
    s = make_socket()
    ep = IPEndPoint(IPAddress.Loopback, 1)
    with pytest.raises(ArgumentException) as ei:
        s.BeginSendTo("text", 0, 4, 0, ep, None, None)
    assert ei.value.ParamName == "buffer"
    with pytest.raises(ArgumentException) as ei:
        s.BeginSendTo(b"abc", "0", 3, 0, ep, None, None)
    assert ei.value.ParamName == "offset"
    with pytest.raises(ArgumentException) as ei:
        s.BeginSendTo(b"abc", 0, 3, 0, ("127.0.0.1", 1), None, None)
    assert ei.value.ParamName == "remoteEP"


# -- the callback ---------------------------------------------------------------------------------


def test_callback_runs_once_on_another_thread_after_completion(
    make_socket: MakeSocket, udp_peer: UdpPeer, af: AddressFamily
) -> None:
    s = make_socket(af)
    seen: dict[str, Any] = {}

    def cb(ar: IAsyncResult) -> int:
        seen["completed"] = ar.IsCompleted
        seen["state"] = ar.AsyncState
        return s.EndSendTo(ar)

    rec = CallbackRecorder(cb)
    ar = begin(s, b"hello world", udp_peer.endpoint, rec, "my state")
    assert rec.wait(1)
    assert rec.calls == [ar]
    assert rec.threads[0] != threading.get_ident()
    assert rec.results == [11]
    assert seen == {"completed": True, "state": "my state"}
    assert ar.AsyncState == "my state"
    assert ar.CompletedSynchronously  # the datagram left inside BeginSendTo
    assert udp_peer.recv()[0] == b"hello world"
    # Bounded check that no second call happens: a later operation's callback
    # runs on the same workers, so once it has run, any duplicate would have too.
    rec2 = CallbackRecorder()
    begin(s, b"x", udp_peer.endpoint, rec2)
    assert rec2.wait(1)
    assert len(rec.calls) == 1


def test_end_send_to_without_callback_and_wait_handle(make_socket: MakeSocket, udp_peer: UdpPeer) -> None:
    s = make_socket(udp_peer.endpoint.AddressFamily)
    ar = begin(s, b"abc", udp_peer.endpoint)
    assert ar.AsyncWaitHandle.WaitOne(int(WAIT * 1000))
    assert ar.IsCompleted
    assert s.EndSendTo(ar) == 3
    assert udp_peer.recv()[0] == b"abc"


def test_manual_reset_event_set_by_callback(make_socket: MakeSocket, udp_peer: UdpPeer) -> None:
    s = make_socket(udp_peer.endpoint.AddressFamily)
    done = ManualResetEvent(False)
    sent: list[int] = []

    def cb(ar: IAsyncResult) -> None:
        sent.append(ar.AsyncState.EndSendTo(ar))
        done.Set()

    begin(s, b"12345", udp_peer.endpoint, cb, s)
    assert done.WaitOne(int(WAIT * 1000))
    assert sent == [5]


def test_end_send_to_blocks_until_a_pending_stream_send_completes(make_socket: MakeSocket) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # the accepted peer's too
    s = make_socket(AddressFamily.InterNetwork, SocketType.Stream)
    s.Connect(IPEndPoint(IPAddress.Loopback, listener.getsockname()[1]))
    peer, _ = listener.accept()
    s.SendBufferSize = 4096
    # 512 KiB: with both buffers held small, many times what the kernel holds (so the send is
    # pending), and a fraction of the 4 MiB it took with the peer's buffer left to grow.
    data = bytes(range(256)) * 2048
    ar = s.BeginSendTo(data, 0, len(data), 0, IPEndPoint(IPAddress.Loopback, 1), None, None)
    assert not ar.IsCompleted
    assert not ar.CompletedSynchronously
    result: list[Any] = []
    ender = threading.Thread(target=lambda: result.append(s.EndSendTo(ar)))
    ender.start()
    got = bytearray()
    peer.settimeout(WAIT)
    while len(got) < len(data):
        chunk = peer.recv(1 << 20)
        assert chunk
        got += chunk
    ender.join(WAIT)
    assert result == [len(data)]
    assert bytes(got) == data
    peer.close()
    listener.close()


# -- End misuse ---------------------------------------------------------------------------------


def test_end_null(make_socket: MakeSocket) -> None:
    with pytest.raises(ArgumentNullException) as ei:
        make_socket().EndSendTo(None)
    assert ei.value.ParamName == "asyncResult"


def test_end_with_another_sockets_result(make_socket: MakeSocket, udp_peer: UdpPeer) -> None:
    a, b = make_socket(udp_peer.endpoint.AddressFamily), make_socket(udp_peer.endpoint.AddressFamily)
    ar = begin(a, b"x", udp_peer.endpoint)
    with pytest.raises(ArgumentException) as ei:
        b.EndSendTo(ar)
    assert ei.value.ParamName == "asyncResult"
    assert a.EndSendTo(ar) == 1  # the owner can still end it


def test_end_with_another_operations_result(make_socket: MakeSocket) -> None:
    s = make_socket()
    s.Bind(IPEndPoint(IPAddress.Loopback, 0))
    buf = bytearray(10)
    ar = s.BeginReceiveFrom(buf, 0, 10, 0, IPEndPoint(IPAddress.Any, 0), None, None)
    with pytest.raises(ArgumentException) as ei:
        s.EndSendTo(ar)
    assert ei.value.ParamName == "asyncResult"


def test_end_with_a_foreign_iasyncresult(make_socket: MakeSocket) -> None:
    class Foreign(IAsyncResult):
        AsyncState = None
        AsyncWaitHandle = ManualResetEvent(True)
        IsCompleted = True
        CompletedSynchronously = True

    with pytest.raises(ArgumentException) as ei:
        make_socket().EndSendTo(Foreign())
    assert ei.value.ParamName == "asyncResult"
    with pytest.raises(ArgumentException):
        make_socket().EndSendTo(object())


def test_end_twice(make_socket: MakeSocket, udp_peer: UdpPeer) -> None:
    s = make_socket(udp_peer.endpoint.AddressFamily)
    ar = begin(s, b"x", udp_peer.endpoint)
    assert s.EndSendTo(ar) == 1
    with pytest.raises(InvalidOperationException):
        s.EndSendTo(ar)


def test_end_after_close_returns_a_completed_result(make_socket: MakeSocket, udp_peer: UdpPeer) -> None:
    s = make_socket(udp_peer.endpoint.AddressFamily)
    ar = begin(s, b"abc", udp_peer.endpoint)
    assert ar.AsyncWaitHandle.WaitOne(int(WAIT * 1000))
    s.Close()
    assert s.EndSendTo(ar) == 3


# -- connectionless: implicit bind and LocalEndPoint ---------------------------------------------


def test_implicit_bind_sets_local_endpoint_at_once(
    make_socket: MakeSocket, udp_peer: UdpPeer, af: AddressFamily
) -> None:
    s = make_socket(af)
    assert s.LocalEndPoint is None
    assert not s.IsBound
    ar = begin(s, b"abc", udp_peer.endpoint)
    local = s.LocalEndPoint
    assert isinstance(local, IPEndPoint)
    assert local.Port != 0
    assert local.AddressFamily == af
    assert s.EndSendTo(ar) == 3
    assert s.LocalEndPoint == local
    _, sender = udp_peer.recv()
    assert sender[1] == local.Port


def test_bind_to_port_zero_picks_a_free_port(
    make_socket: MakeSocket, udp_peer: UdpPeer, af: AddressFamily
) -> None:
    s = make_socket(af)
    s.Bind(IPEndPoint(loopback(af), 0))
    local = s.LocalEndPoint
    assert isinstance(local, IPEndPoint) and local.Port != 0
    assert s.EndSendTo(begin(s, b"abc", udp_peer.endpoint)) == 3
    assert udp_peer.recv()[1][1] == local.Port


def test_connected_udp_remote_ep_overrides_for_that_send_only(
    make_socket: MakeSocket, af: AddressFamily
) -> None:
    connected, other = UdpPeer(af), UdpPeer(af)
    try:
        s = make_socket(af)
        s.Connect(connected.endpoint)
        assert s.EndSendTo(begin(s, b"to other", other.endpoint)) == 8
        assert other.recv()[0] == b"to other"
        s.Send(b"default")
        assert connected.recv()[0] == b"default"
        assert connected.nothing_pending()
    finally:
        connected.close()
        other.close()


def test_zero_length_datagram_and_offset_at_end(make_socket: MakeSocket, udp_peer: UdpPeer) -> None:
    s = make_socket(udp_peer.endpoint.AddressFamily)
    ar = s.BeginSendTo(b"abc", 3, 0, 0, udp_peer.endpoint, None, None)
    assert s.EndSendTo(ar) == 0
    assert udp_peer.recv()[0] == b""


@pytest.mark.parametrize(
    "buffer",
    [bytearray(b"0123456789"), memoryview(b"0123456789"), array.array("B", b"0123456789")],
    ids=["bytearray", "memoryview", "array"],
)
def test_bytes_like_buffers_and_offsets(make_socket: MakeSocket, udp_peer: UdpPeer, buffer: Any) -> None:
    s = make_socket(udp_peer.endpoint.AddressFamily)
    assert s.EndSendTo(s.BeginSendTo(buffer, 2, 5, 0, udp_peer.endpoint, None, None)) == 5
    assert udp_peer.recv()[0] == b"23456"


def test_wide_array_counts_bytes(make_socket: MakeSocket, udp_peer: UdpPeer) -> None:
    s = make_socket(udp_peer.endpoint.AddressFamily)
    data = array.array("i", [1, 2])  # 8 bytes
    assert s.EndSendTo(s.BeginSendTo(data, 0, 8, 0, udp_peer.endpoint, None, None)) == 8
    assert udp_peer.recv()[0] == data.tobytes()
    with pytest.raises(ArgumentOutOfRangeException):
        s.BeginSendTo(data, 0, 9, 0, udp_peer.endpoint, None, None)


# -- connection-oriented ---------------------------------------------------------------------------


def test_unconnected_stream_fails_with_shutdown_from_end(make_socket: MakeSocket) -> None:
    s = make_socket(AddressFamily.InterNetwork, SocketType.Stream)
    rec = CallbackRecorder()
    ar = s.BeginSendTo(b"abc", 0, 3, 0, IPEndPoint(IPAddress.Loopback, 9), rec, None)
    assert rec.wait(1)
    with pytest.raises(SocketException) as ei:
        s.EndSendTo(ar)
    assert ei.value.SocketErrorCode == SocketError.Shutdown
    assert ei.value.ErrorCode == 10058
    assert ei.value.NativeErrorCode == 32


def test_connected_stream_ignores_remote_ep(make_socket: MakeSocket, af: AddressFamily) -> None:
    fam = socket.AF_INET if af == AddressFamily.InterNetwork else socket.AF_INET6
    listener = socket.create_server(("127.0.0.1" if fam == socket.AF_INET else "::1", 0), family=fam)
    try:
        s = make_socket(af, SocketType.Stream)
        s.Connect(IPEndPoint(loopback(af), listener.getsockname()[1]))
        peer, _ = listener.accept()
        unrelated = UdpPeer(af)
        assert s.EndSendTo(begin(s, b"stream!", unrelated.endpoint)) == 7
        peer.settimeout(WAIT)
        assert peer.recv(100) == b"stream!"
        assert unrelated.nothing_pending()
        unrelated.close()
        peer.close()
    finally:
        listener.close()


# -- broadcast, size, flags ---------------------------------------------------------------------------


BROADCAST = IPEndPoint(IPAddress.Parse("127.255.255.255"), 9)


def test_broadcast_without_option_is_access_denied_and_leaves_socket_unbound(make_socket: MakeSocket) -> None:
    s = make_socket()
    assert not s.EnableBroadcast
    rec = CallbackRecorder()
    ar = s.BeginSendTo(b"abc", 0, 3, 0, BROADCAST, rec, None)
    assert s.LocalEndPoint is None
    with pytest.raises(SocketException) as ei:
        s.EndSendTo(ar)
    assert ei.value.SocketErrorCode == SocketError.AccessDenied
    assert ei.value.ErrorCode == 10013
    assert ei.value.NativeErrorCode == ei.value.errno == 13
    assert rec.wait(1)
    assert s.LocalEndPoint is None


def test_broadcast_with_option_is_delivered_on_loopback(make_socket: MakeSocket) -> None:
    r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    r.bind(("0.0.0.0", 0))
    r.settimeout(WAIT)
    try:
        s = make_socket()
        s.EnableBroadcast = True
        assert s.EnableBroadcast
        target = IPEndPoint(IPAddress.Parse("127.255.255.255"), r.getsockname()[1])
        assert s.EndSendTo(begin(s, b"bcast", target)) == 5
        assert r.recv(100) == b"bcast"
    finally:
        r.close()


def test_largest_datagram_is_sent(make_socket: MakeSocket) -> None:
    peer = UdpPeer(AddressFamily.InterNetwork)
    try:
        peer.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        s = make_socket()
        data = b"z" * 65507
        assert s.EndSendTo(begin(s, data, peer.endpoint)) == 65507
        assert peer.recv()[0] == data
    finally:
        peer.close()


@pytest.mark.parametrize("size", [65508, 70000])
def test_oversized_datagram_is_message_size_from_end(
    make_socket: MakeSocket, udp_peer: UdpPeer, size: int
) -> None:
    if udp_peer.endpoint.AddressFamily != AddressFamily.InterNetwork:
        pytest.skip("the 65507-byte limit is IPv4's")
    s = make_socket()
    rec = CallbackRecorder()
    ar = s.BeginSendTo(b"y" * size, 0, size, 0, udp_peer.endpoint, rec, None)  # no exception here
    assert rec.wait(1)
    with pytest.raises(SocketException) as ei:
        s.EndSendTo(ar)
    assert ei.value.SocketErrorCode == SocketError.MessageSize
    assert ei.value.ErrorCode == 10040
    assert ei.value.NativeErrorCode == 90
    assert udp_peer.nothing_pending()


def test_dont_route_is_honoured(make_socket: MakeSocket, udp_peer: UdpPeer) -> None:
    s = make_socket(udp_peer.endpoint.AddressFamily)
    ar = begin(s, b"local", udp_peer.endpoint, flags=SocketFlags.DontRoute)
    assert s.EndSendTo(ar) == 5
    assert udp_peer.recv()[0] == b"local"


@pytest.mark.parametrize(
    "flags",
    [
        SocketFlags.Partial,
        SocketFlags.Broadcast,
        SocketFlags.Multicast,
        SocketFlags.MaxIOVectorLength,
        SocketFlags.OutOfBand,
        0x40000,
    ],
    ids=lambda f: f"0x{int(f):x}",
)
def test_flags_that_make_no_sense_for_a_send(make_socket: MakeSocket, udp_peer: UdpPeer, flags: Any) -> None:
    if flags == SocketFlags.OutOfBand and udp_peer.endpoint.AddressFamily != AddressFamily.InterNetwork:
        pytest.skip(
            "MSG_OOB is passed to the kernel, as .NET does; only IPv4 UDP is known to refuse it everywhere"
        )
    s = make_socket(udp_peer.endpoint.AddressFamily)
    ar = begin(s, b"abc", udp_peer.endpoint, flags=flags)
    with pytest.raises(SocketException) as ei:
        s.EndSendTo(ar)
    assert ei.value.SocketErrorCode == SocketError.OperationNotSupported
    assert ei.value.ErrorCode == 10045
    assert udp_peer.nothing_pending()


# -- address families --------------------------------------------------------------------------------


@pytest.mark.skipif(not socket.has_ipv6, reason="no IPv6")
def test_ipv4_socket_to_ipv6_endpoint(make_socket: MakeSocket) -> None:
    s = make_socket(AddressFamily.InterNetwork)
    ar = begin(s, b"x", IPEndPoint(IPAddress.IPv6Loopback, 9))
    with pytest.raises(SocketException) as ei:
        s.EndSendTo(ar)
    assert ei.value.SocketErrorCode == SocketError.AddressFamilyNotSupported


@pytest.mark.skipif(not socket.has_ipv6, reason="no IPv6")
def test_ipv6_socket_dual_mode(make_socket: MakeSocket) -> None:
    peer = UdpPeer(AddressFamily.InterNetwork)
    try:
        plain_v6 = make_socket(AddressFamily.InterNetworkV6)
        assert not plain_v6.DualMode
        with pytest.raises(SocketException) as ei:
            plain_v6.EndSendTo(begin(plain_v6, b"x", peer.endpoint))
        assert ei.value.SocketErrorCode == SocketError.NetworkUnreachable
        dual = Socket(SocketType.Dgram, ProtocolType.Udp)
        try:
            assert dual.AddressFamily == AddressFamily.InterNetworkV6
            assert dual.DualMode
            assert dual.EndSendTo(begin(dual, b"dual", peer.endpoint)) == 4
            assert peer.recv()[0] == b"dual"
        finally:
            dual.Close()
    finally:
        peer.close()


# -- execution context, exceptions, tracing ------------------------------------------------------------

_var: contextvars.ContextVar[int] = contextvars.ContextVar("_var", default=0)


def test_callback_runs_in_the_callers_context(make_socket: MakeSocket, udp_peer: UdpPeer) -> None:
    s = make_socket(udp_peer.endpoint.AddressFamily)
    token = _var.set(42)
    try:
        rec = CallbackRecorder(lambda ar: _var.get())
        begin(s, b"x", udp_peer.endpoint, rec)
    finally:
        _var.reset(token)
    assert rec.wait(1)
    assert rec.results == [42]


def test_suppressed_flow_runs_the_callback_in_an_empty_context(
    make_socket: MakeSocket, udp_peer: UdpPeer
) -> None:
    s = make_socket(udp_peer.endpoint.AddressFamily)
    token = _var.set(42)
    try:
        rec = CallbackRecorder(lambda ar: _var.get())
        with ExecutionContext.SuppressFlow():
            begin(s, b"x", udp_peer.endpoint, rec)
    finally:
        _var.reset(token)
    assert rec.wait(1)
    assert rec.results == [0]


def test_exception_in_callback_is_reported_and_the_engine_goes_on(
    make_socket: MakeSocket, udp_peer: UdpPeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    reported: list[BaseException | None] = []
    hooked = threading.Event()

    def hook(args: Any) -> None:
        reported.append(args.exc_value)
        hooked.set()

    monkeypatch.setattr(threading, "excepthook", hook)
    s = make_socket(udp_peer.endpoint.AddressFamily)

    def bad(ar: IAsyncResult) -> None:
        raise RuntimeError("boom")

    begin(s, b"x", udp_peer.endpoint, bad)
    assert hooked.wait(WAIT)
    assert isinstance(reported[0], RuntimeError)
    rec = CallbackRecorder(s.EndSendTo)
    begin(s, b"y", udp_peer.endpoint, rec)
    assert rec.wait(1)
    assert rec.results == [1]


def test_inline_completions_opt_in(make_socket: MakeSocket, udp_peer: UdpPeer) -> None:
    s = make_socket(udp_peer.endpoint.AddressFamily)
    s.InlineCompletions = True
    rec = CallbackRecorder()
    ar = begin(s, b"x", udp_peer.endpoint, rec)
    assert rec.calls == [ar]  # already called when BeginSendTo returned
    assert rec.threads == [threading.get_ident()]
    assert ar.CompletedSynchronously


@pytest.fixture
def trace() -> Iterator[list[logging.LogRecord]]:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    lg = logging.getLogger("dotnet_sockets")
    h = Keep(level=1)
    old = lg.level
    lg.addHandler(h)
    lg.setLevel(1)
    yield records
    lg.removeHandler(h)
    lg.setLevel(old)


def test_trace_shows_entry_arguments_bytes_and_outcome(
    make_socket: MakeSocket, udp_peer: UdpPeer, trace: list[logging.LogRecord]
) -> None:
    s = make_socket(udp_peer.endpoint.AddressFamily)
    ar = begin(s, b"traced!", udp_peer.endpoint, None, None)
    assert s.EndSendTo(ar) == 7
    text = "\n".join(r.getMessage() for r in trace)
    assert "BeginSendTo enter" in text
    assert f"remote_ep={udp_peer.endpoint})" in text  # as .NET prints an endpoint: 127.0.0.1:port, [::1]:port
    assert "size=7" in text
    assert "74 72 61 63 65 64 21" in text  # the hex dump of b"traced!"
    assert "EndSendTo exit -> 7" in text
    assert all(r.name.startswith("dotnet_sockets") for r in trace)


def test_trace_shows_the_error_outcome(make_socket: MakeSocket, trace: list[logging.LogRecord]) -> None:
    s = make_socket()
    ar = s.BeginSendTo(b"abc", 0, 3, 0, BROADCAST, None, None)
    with pytest.raises(SocketException):
        s.EndSendTo(ar)
    text = "\n".join(r.getMessage() for r in trace)
    assert "EndSendTo error -> SocketException" in text


def test_no_trace_records_when_tracing_is_off(make_socket: MakeSocket, udp_peer: UdpPeer) -> None:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    lg = logging.getLogger("dotnet_sockets")
    h = Keep()
    lg.addHandler(h)
    old = lg.level
    lg.setLevel(logging.WARNING)
    try:
        s = make_socket(udp_peer.endpoint.AddressFamily)
        s.EndSendTo(begin(s, b"quiet", udp_peer.endpoint))
    finally:
        lg.removeHandler(h)
        lg.setLevel(old)
    assert records == []


def test_pep8_spellings_are_the_same_objects(make_socket: MakeSocket, udp_peer: UdpPeer) -> None:
    assert Socket.BeginSendTo is Socket.begin_send_to
    assert Socket.EndSendTo is Socket.end_send_to
    s = make_socket(udp_peer.endpoint.AddressFamily)
    ar = s.begin_send_to(
        buffer=b"kw",
        offset=0,
        size=2,
        socket_flags=SocketFlags.None_,
        remote_ep=udp_peer.endpoint,
        callback=None,
        state="st",
    )
    assert ar.async_state == ar.AsyncState == "st"
    assert s.end_send_to(async_result=ar) == 2
    assert s.local_end_point == s.LocalEndPoint


def test_a_callback_that_is_not_callable_is_an_argument_error(make_socket: MakeSocket, udp_peer: UdpPeer) -> None:
    s = make_socket(udp_peer.endpoint.AddressFamily)
    with pytest.raises(ArgumentException) as ei:
        s.BeginSendTo(b"x", 0, 1, 0, udp_peer.endpoint, "not a function", None)
    assert ei.value.ParamName == "callback"
    assert udp_peer.nothing_pending()
