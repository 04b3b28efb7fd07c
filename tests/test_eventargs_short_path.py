"""The short path of a reused ``SocketAsyncEventArgs`` (issue 15).

``SendAsync(e)``, ``ReceiveAsync(e)`` and ``ReceiveFromAsync(e)`` make the
system call themselves in the steady state (no operation object, no result
object) and hand a call that would block to ``Begin...``'s operation.  These
tests pin what that must not change: nothing built per operation, ``Completed``
exactly once for what pends, a stream send that the kernel takes in parts,
errors in ``e``, one audit event per call, the buffer exported while pending,
and the same results whichever path ran (tracing on takes the general one).
"""

from __future__ import annotations

import gc
import logging
import socket
import struct
import sys
import threading
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from conftest import HAS_IPV6, WAIT
from dotnet_sockets import (
    AddressFamily,
    ArgumentException,
    InvalidOperationException,
    IPAddress,
    IPEndPoint,
    SecurityException,
    Socket,
    SocketAsyncEventArgs,
    SocketAsyncOperation,
    SocketError,
    SocketFlags,
)
from dotnet_sockets.asyncresult import AsyncOperation
from dotnet_sockets.telemetry import Telemetry
from socket_helpers import Made, fill

N = 1000  # synchronous-completing operations per measured run


class _Audit:
    """One hook for the module (hooks cannot be removed): it records while ``events`` is a
    list, refuses the members in ``deny`` and runs ``action`` (a program's hook doing things)."""

    events: list[tuple[str, Any, Any]] | None = None
    deny: frozenset[str] = frozenset()
    action: Callable[[str], None] | None = None


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if not event.startswith("dotnet_sockets.Socket."):
        return
    member = event[len("dotnet_sockets.Socket.") :]
    recorded = _Audit.events
    if recorded is not None:
        recorded.append((member, args[0], args[1]))
    if member in _Audit.deny:
        raise PermissionError(f"test hook refuses {member}")
    action = _Audit.action
    if action is not None:
        action(member)


sys.addaudithook(_hook)


class Completions:
    """A ``Completed`` handler that records each call (thread, outcome) and lets the test wait."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, SocketError, int, SocketAsyncOperation]] = []
        self._cond = threading.Condition()

    def __call__(self, sender: Any, e: SocketAsyncEventArgs) -> None:
        with self._cond:
            self.calls.append((threading.get_ident(), e.SocketError, e.BytesTransferred, e.LastOperation))
            self._cond.notify_all()

    def wait(self, count: int = 1, timeout: float = WAIT) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: len(self.calls) >= count, timeout)



@pytest.fixture
def operations_built(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many engine operations (``AsyncOperation``s, ``IAsyncResult``s) were built from now on."""
    built = [0]
    original: Callable[..., None] = AsyncOperation.__init__

    def counting(self: AsyncOperation, *args: Any) -> None:
        built[0] += 1
        original(self, *args)

    monkeypatch.setattr(AsyncOperation, "__init__", counting)
    return built


def _stream_round_trips(client: Socket, server: Socket, send: SocketAsyncEventArgs, recv: SocketAsyncEventArgs) -> None:
    for _ in range(N):
        assert not client.SendAsync(send)
        assert not server.ReceiveAsync(recv)
        assert recv.BytesTransferred == send.Count


def test_reused_args_build_no_operation_and_allocate_nothing_per_stream_operation(
    made: Made, operations_built: list[int]
) -> None:
    # 100 bytes: a small int, so the byte count itself is no allocation either.
    client, server = made.pair()
    send, recv = SocketAsyncEventArgs(), SocketAsyncEventArgs()
    data = bytearray(range(100)) * 2
    send.SetBuffer(data, 50, 100)  # a window: the args object holds a view
    recv.SetBuffer(bytearray(300), 0, 100)
    _stream_round_trips(client, server, send, recv)  # warm: caches, telemetry records
    operations_built[0] = 0
    gc.collect()
    gc.disable()
    try:
        blocks = sys.getallocatedblocks()
        _stream_round_trips(client, server, send, recv)
        grown = sys.getallocatedblocks() - blocks
        tracemalloc.start()
        try:
            _stream_round_trips(client, server, send, recv)
            kept, live = [], []
            for _ in range(3):  # the least of three: another thread's allocation counts too
                tracemalloc.reset_peak()
                start = tracemalloc.get_traced_memory()[0]
                _stream_round_trips(client, server, send, recv)
                now, peak = tracemalloc.get_traced_memory()
                kept.append(now - start)
                live.append(peak - start)
        finally:
            tracemalloc.stop()
    finally:
        gc.enable()
    assert operations_built[0] == 0
    assert recv.Buffer[:100] == data[50:150]
    assert grown < 50, f"{grown} blocks kept over {N} round trips"
    assert min(kept) < 256, f"{kept} bytes kept over {N} round trips"
    # What lives at once during one operation: the call's own argument tuple and dict, no
    # operation object (about 140 bytes) nor exported view (about 180 bytes), as the
    # Begin/End path had (some 650 bytes in all).
    assert min(live) < 400, f"{live} bytes live at once during a round trip"


def test_reused_args_build_no_operation_for_datagrams(made: Made, operations_built: list[int]) -> None:
    a, b = made.udp(), made.udp()
    send, recv = SocketAsyncEventArgs(), SocketAsyncEventArgs()
    send.SetBuffer(bytearray(b"x" * 64), 0, 64)
    send.RemoteEndPoint = b.LocalEndPoint
    recv.SetBuffer(bytearray(128), 0, 128)
    recv.RemoteEndPoint = IPEndPoint(IPAddress.Any, 0)

    def run() -> None:
        for _ in range(N):
            assert not a.SendToAsync(send)
            assert not b.ReceiveFromAsync(recv)
            assert recv.BytesTransferred == 64

    run()
    sender = recv.RemoteEndPoint
    operations_built[0] = 0
    gc.collect()
    blocks = sys.getallocatedblocks()
    run()
    grown = sys.getallocatedblocks() - blocks
    assert operations_built[0] == 0
    assert grown < 50, f"{grown} blocks kept over {N} datagrams"
    assert recv.RemoteEndPoint is sender  # one sender: no endpoint per datagram
    assert recv.RemoteEndPoint == a.LocalEndPoint
    assert recv.LastOperation == SocketAsyncOperation.ReceiveFrom


def test_a_receive_that_would_block_pends_and_completes_once_with_the_buffer_exported(made: Made, path: str) -> None:
    client, server = made.pair()
    done = Completions()
    target = bytearray(16)
    e = SocketAsyncEventArgs()
    e.SetBuffer(target, 0, 16)
    e.Completed += done
    assert server.ReceiveAsync(e)  # nothing to read: pending
    with pytest.raises(BufferError):
        target.extend(b"more")  # held while the receive waits
    with pytest.raises(InvalidOperationException):
        server.ReceiveAsync(e)  # in use
    client.Send(b"hello")
    assert done.wait()
    thread, error, n, kind = done.calls[0]
    assert thread != threading.get_ident()
    assert (error, n, kind) == (SocketError.Success, 5, SocketAsyncOperation.Receive)
    assert target[:5] == b"hello"
    # The next one completes inside the call: no Completed for it.
    client.Send(b"again")
    assert wait_readable(server)
    assert not server.ReceiveAsync(e)
    assert e.BytesTransferred == 5
    assert not done.wait(2, timeout=0.2)
    assert len(done.calls) == 1


def wait_readable(s: Socket) -> bool:
    return s.Poll(int(WAIT * 1_000_000), 0)  # SelectMode.SelectRead


def test_a_stream_send_the_kernel_takes_in_parts_continues_and_reports_every_byte(made: Made, path: str) -> None:
    client, server = made.pair()
    client.SendBufferSize = 65536
    payload = bytes(range(256)) * 16384  # 4 MiB: far more than the socket buffers hold
    done = Completions()
    e = SocketAsyncEventArgs()
    e.SetBuffer(bytearray(payload), 0, len(payload))
    e.Completed += done
    before = Telemetry.snapshot()
    assert client.SendAsync(e)  # the kernel took a part; the rest waits for room
    received = receive_stream(server, len(payload))
    assert done.wait()
    assert (Telemetry.snapshot() - before).bytes_sent == len(payload)  # every byte counted once
    assert done.calls[0][1:] == (SocketError.Success, len(payload), SocketAsyncOperation.Send)
    assert received == payload
    assert len(done.calls) == 1


def receive_stream(s: Socket, n: int) -> bytes:
    s.ReceiveTimeout = int(WAIT * 1000)
    out = bytearray()
    buf = bytearray(65536)
    for _ in range(100_000):  # bounded: each round takes at least one byte
        if len(out) >= n:
            break
        got = s.Receive(buf, 0, min(len(buf), n - len(out)), SocketFlags.None_)
        assert got > 0, "connection closed early"
        out += buf[:got]
    return bytes(out)


def test_a_send_behind_a_full_buffer_waits_and_a_close_aborts_it_once(made: Made, path: str) -> None:
    client, server = made.pair()
    fill(client)
    done = Completions()
    e = SocketAsyncEventArgs()
    e.SetBuffer(b"tail", 0, 4)
    e.Completed += done
    assert client.SendAsync(e)
    client.Close()
    assert done.wait()
    assert done.calls[0][1:] == (SocketError.OperationAborted, 0, SocketAsyncOperation.Send)
    assert not done.wait(2, timeout=0.2)


def test_an_error_of_the_call_goes_into_e_and_completed_does_not_fire(made: Made, path: str) -> None:
    with socket.socket() as lst:
        lst.bind(("127.0.0.1", 0))
        lst.listen(1)
        client = made.tcp()
        client.Connect(IPEndPoint(IPAddress.Loopback, lst.getsockname()[1]))
        peer, _ = lst.accept()
    peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    peer.close()  # a reset
    assert wait_readable(client)
    done = Completions()
    e = SocketAsyncEventArgs()
    e.SetBuffer(bytearray(8), 0, 8)
    e.Completed += done
    assert not client.ReceiveAsync(e)
    assert (e.SocketError, e.BytesTransferred) == (SocketError.ConnectionReset, 0)
    assert e.LastOperation == SocketAsyncOperation.Receive
    assert not client.Connected  # as EndReceive leaves it
    assert not done.wait(timeout=0.2)


def test_each_call_raises_one_audit_event_with_the_peer(made: Made) -> None:
    client, server = made.pair()
    a, b = made.udp(), made.udp()
    send, recv, dgram = SocketAsyncEventArgs(), SocketAsyncEventArgs(), SocketAsyncEventArgs()
    send.SetBuffer(b"abc", 0, 3)
    recv.SetBuffer(bytearray(8), 0, 8)
    any_ep = IPEndPoint(IPAddress.Any, 0)
    dgram.SetBuffer(bytearray(8), 0, 8)
    dgram.RemoteEndPoint = any_ep
    a.SendTo(b"d", b.LocalEndPoint)
    assert wait_readable(b)
    _Audit.events = events = []
    try:
        assert not client.SendAsync(send)
        assert not server.ReceiveAsync(recv)
        assert not b.ReceiveFromAsync(dgram)
    finally:
        _Audit.events = None
    assert events == [
        ("SendAsync", client, client.RemoteEndPoint),
        ("ReceiveAsync", server, server.RemoteEndPoint),
        ("ReceiveFromAsync", b, any_ep),
    ]


def _outcomes(made: Made) -> list[tuple[Any, ...]]:
    """The same script of short-path-shaped calls; what ``e`` says after each."""
    client, server = made.pair()
    a, b = made.udp(), made.udp()
    e = SocketAsyncEventArgs()
    out: list[tuple[Any, ...]] = []

    def note(pended: bool) -> None:
        # The endpoint by name: the ports differ from run to run.
        names = {str(a.LocalEndPoint): "a", str(b.LocalEndPoint): "b", "0.0.0.0:0": "any", "None": None}
        where = names.get(str(e.RemoteEndPoint), "other")
        out.append((pended, e.SocketError, e.BytesTransferred, e.LastOperation, e.SocketFlags, where))

    e.SetBuffer(bytearray(b"0123456789"), 2, 5)
    note(client.SendAsync(e))
    e.SetBuffer(bytearray(10), 0, 10)
    assert wait_readable(server)
    note(server.ReceiveAsync(e))
    e.SetBuffer(b"dgram", 0, 5)
    e.RemoteEndPoint = b.LocalEndPoint
    note(a.SendToAsync(e))
    e.SetBuffer(bytearray(10), 0, 10)
    e.RemoteEndPoint = IPEndPoint(IPAddress.Any, 0)
    assert wait_readable(b)
    note(b.ReceiveFromAsync(e))
    client.Shutdown(1)  # SocketShutdown.Send: the server reads the end of the stream
    assert wait_readable(server)
    note(server.ReceiveAsync(e))
    return out


def test_the_short_path_and_the_general_path_leave_the_same_results(made: Made) -> None:
    # Telemetry counts per thread; this thread made every call of the script.
    before = Telemetry.snapshot()
    short = _outcomes(made)
    short_counts = Telemetry.snapshot() - before
    log = logging.getLogger("dotnet_sockets.socket")
    old = log.level
    log.setLevel(logging.DEBUG)  # tracing on: every call takes the general path
    try:
        before = Telemetry.snapshot()
        general = _outcomes(made)
        general_counts = Telemetry.snapshot() - before
    finally:
        log.setLevel(old)
    assert short == general
    assert short_counts.counters() == general_counts.counters()
    assert (short_counts.bytes_sent, short_counts.datagrams_sent) == (10, 1)
    assert (short_counts.bytes_received, short_counts.datagrams_received) == (10, 1)
    assert short[0][:3] == (False, SocketError.Success, 5)
    assert short[3][5] == "a"  # the sender
    assert short[-1][:3] == (False, SocketError.Success, 0)


def test_receive_from_checks_the_endpoint_before_the_args_object_is_found_in_use(made: Made) -> None:
    # .NET's order, kept by the general path: the endpoint (ParamName "e"), then "in use".
    client, server = made.pair()
    b = made.udp()
    e = SocketAsyncEventArgs()
    e.SetBuffer(bytearray(8), 0, 8)
    assert server.ReceiveAsync(e)  # pending: e is in use
    e.RemoteEndPoint = IPEndPoint(IPAddress.IPv6Any, 0)
    with pytest.raises(ArgumentException) as info:
        b.ReceiveFromAsync(e)
    assert info.value.ParamName == "e"
    e.RemoteEndPoint = IPEndPoint(IPAddress.Any, 0)
    with pytest.raises(InvalidOperationException):
        b.ReceiveFromAsync(e)
    assert e.LastOperation == SocketAsyncOperation.Receive
    assert b.AddressFamily == AddressFamily.InterNetwork
    server.Close()  # the pending receive ends, aborted


@pytest.fixture(params=["short", "general"])
def path(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run a test on the short path, and again on the general one (tracing on takes it)."""
    log = logging.getLogger("dotnet_sockets.socket")
    old = log.level
    if request.param == "general":
        log.setLevel(logging.DEBUG)
    yield str(request.param)
    log.setLevel(old)


def test_a_denied_call_raises_security_exception_with_nothing_done_and_e_free(made: Made, path: str) -> None:
    client, server = made.pair()
    a, b = made.udp(), made.udp()
    send, recv, dgram = SocketAsyncEventArgs(), SocketAsyncEventArgs(), SocketAsyncEventArgs()
    send.SetBuffer(b"abc", 0, 3)
    recv.SetBuffer(bytearray(8), 0, 8)
    dgram.SetBuffer(bytearray(8), 0, 8)
    dgram.RemoteEndPoint = IPEndPoint(IPAddress.Any, 0)
    a.SendTo(b"d", b.LocalEndPoint)
    client.Send(b"s")
    assert wait_readable(b) and wait_readable(server)
    _Audit.deny = frozenset({"SendAsync", "ReceiveAsync", "ReceiveFromAsync"})
    try:
        for call, e, kind in (
            (client.SendAsync, send, SocketAsyncOperation.Send),
            (server.ReceiveAsync, recv, SocketAsyncOperation.Receive),
            (b.ReceiveFromAsync, dgram, SocketAsyncOperation.ReceiveFrom),
        ):
            with pytest.raises(SecurityException):
                call(e)
            assert e.LastOperation == kind  # taken, then let go, as .NET's StartOperationCommon
            assert (e.SocketError, e.BytesTransferred) == (SocketError.Success, 0)
    finally:
        _Audit.deny = frozenset()
    assert server.Available == 1 and b.Available == 1  # nothing was taken off either socket
    assert not server.ReceiveAsync(recv) and not b.ReceiveFromAsync(dgram) and not client.SendAsync(send)
    assert (recv.BytesTransferred, dgram.BytesTransferred, send.BytesTransferred) == (1, 1, 3)


def test_a_hook_that_closes_the_socket_aborts_the_operation_as_on_the_general_path(made: Made, path: str) -> None:
    client, server = made.pair()
    client.Send(b"x")
    assert wait_readable(server)
    done = Completions()
    e = SocketAsyncEventArgs()
    e.SetBuffer(bytearray(8), 0, 8)
    e.Completed += done
    _Audit.action = lambda member: server.Close() if member == "ReceiveAsync" else None
    try:
        assert server.ReceiveAsync(e)  # queued on a closed socket: aborted, reported through Completed
    finally:
        _Audit.action = None
    assert done.wait()
    assert done.calls[0][1:] == (SocketError.OperationAborted, 0, SocketAsyncOperation.Receive)


def test_a_hook_cannot_resize_the_buffer_of_the_operation_it_is_told_of(made: Made, path: str) -> None:
    client, server = made.pair()
    data = bytearray(b"abcd")
    e = SocketAsyncEventArgs()
    e.SetBuffer(data, 0, 4)  # the whole bytearray: e holds no export of it between operations

    def grow(member: str) -> None:
        if member == "SendAsync":
            data.extend(b"more")

    _Audit.action = grow
    try:
        with pytest.raises(BufferError):
            client.SendAsync(e)
    finally:
        _Audit.action = None
    data.extend(b"!")  # free again once the call is over
    assert e.LastOperation == SocketAsyncOperation.Send
    assert not client.SendAsync(e) and e.SocketError == SocketError.Success


def test_accept_loop_on_both_paths(made: Made, path: str) -> None:
    lst = made.listener()
    e = SocketAsyncEventArgs()
    done = Completions()
    e.Completed += done
    with socket.create_connection(addr_of(lst), timeout=WAIT) as first:
        assert wait_readable(lst)
        before = Telemetry.snapshot()
        _Audit.events = events = []
        try:
            assert not lst.AcceptAsync(e)  # a connection is waiting: done in the call
        finally:
            _Audit.events = None
        accepted = e.AcceptSocket
        assert accepted is not None and made.track(accepted).Connected
        host, port = first.getsockname()
        assert str(accepted.RemoteEndPoint) == f"{host}:{port}"
        assert (e.SocketError, e.BytesTransferred) == (SocketError.Success, 0)
        assert e.LastOperation == SocketAsyncOperation.Accept
        assert events == [("AcceptAsync", lst, None)]
        assert (Telemetry.snapshot() - before).incoming_connections_established == 1
        accepted.Send(b"hi")
        assert first.recv(2) == b"hi"
    e.AcceptSocket = None  # .NET's loops clear it: a connected AcceptSocket is refused
    assert lst.AcceptAsync(e)  # nothing waiting: pending
    with pytest.raises(InvalidOperationException):
        lst.AcceptAsync(e)  # in use
    with socket.create_connection(addr_of(lst), timeout=WAIT):
        assert done.wait()
        assert done.calls[0][1:] == (SocketError.Success, 0, SocketAsyncOperation.Accept)
        assert e.AcceptSocket is not None and made.track(e.AcceptSocket).Connected
    e.AcceptSocket = None
    assert lst.AcceptAsync(e)
    lst.Close()
    assert done.wait(2)
    assert done.calls[1][1:] == (SocketError.OperationAborted, 0, SocketAsyncOperation.Accept)


def addr_of(s: Socket) -> tuple[str, int]:
    ep = s.LocalEndPoint
    assert isinstance(ep, IPEndPoint)
    return str(ep.Address), ep.Port


def test_receive_from_keeps_the_remote_endpoint_object_while_the_sender_stays_the_same(made: Made, path: str) -> None:
    # .NET compares the received address with e.RemoteEndPoint's serialized form and keeps the
    # object when they are equal; a new sender gets a new endpoint.
    a, c, b = made.udp(), made.udp(), made.udp()
    e = SocketAsyncEventArgs()
    e.SetBuffer(bytearray(16), 0, 16)
    any_ep = IPEndPoint(IPAddress.Any, 0)
    e.RemoteEndPoint = any_ep
    senders = []
    for sender in (a, a, c, c):
        sender.SendTo(b"x", b.LocalEndPoint)
        assert wait_readable(b)
        assert not b.ReceiveFromAsync(e)
        senders.append(e.RemoteEndPoint)
    assert senders[0] is not any_ep and senders[0] == a.LocalEndPoint
    assert senders[1] is senders[0]
    assert senders[2] is not senders[1] and senders[2] == c.LocalEndPoint
    assert senders[3] is senders[2]
    done = Completions()
    e.Completed += done
    assert b.ReceiveFromAsync(e)  # pending: the general path's completion keeps it too
    c.SendTo(b"y", b.LocalEndPoint)
    assert done.wait()
    assert e.RemoteEndPoint is senders[3]


@pytest.mark.skipif(not HAS_IPV6, reason="no IPv6 loopback on this machine")
def test_on_a_dual_mode_socket_an_ipv4_remote_endpoint_becomes_the_mapped_sender(made: Made, path: str) -> None:
    a = made.udp()
    b = made(AddressFamily.InterNetworkV6)
    b.DualMode = True
    b.Bind(IPEndPoint(IPAddress.IPv6Any, 0))
    target = IPEndPoint(IPAddress.Loopback, b.LocalEndPoint.Port)
    e = SocketAsyncEventArgs()
    e.SetBuffer(bytearray(16), 0, 16)
    v4 = a.LocalEndPoint
    e.RemoteEndPoint = v4  # the sender's own address, in IPv4 form
    a.SendTo(b"x", target)
    assert wait_readable(b)
    assert not b.ReceiveFromAsync(e)
    got = e.RemoteEndPoint
    assert got is not v4 and isinstance(got, IPEndPoint)
    assert got.AddressFamily == AddressFamily.InterNetworkV6 and got.Address.IsIPv4MappedToIPv6
    assert got.Address.MapToIPv4() == v4.Address and got.Port == v4.Port


def test_receive_message_from_keeps_the_remote_endpoint_object_too(made: Made) -> None:
    a, b = made.udp(), made.udp()
    e = SocketAsyncEventArgs()
    e.SetBuffer(bytearray(16), 0, 16)
    e.RemoteEndPoint = IPEndPoint(IPAddress.Any, 0)
    done = Completions()
    e.Completed += done
    seen = []
    for i in range(2):
        a.SendTo(b"x", b.LocalEndPoint)
        assert wait_readable(b)
        if b.ReceiveMessageFromAsync(e):
            assert done.wait(i + 1)
        assert e.SocketError == SocketError.Success
        seen.append(e.RemoteEndPoint)
    assert seen[0] == a.LocalEndPoint and seen[1] is seen[0]
