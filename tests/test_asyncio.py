"""The asyncio task model: awaitable ``...Async`` methods and ``from_async``.

Every wait is bounded by ``asyncio.wait_for``/``asyncio.timeout``; pending
states are forced (nothing sent yet), and the cancellation races are built
step by step, not hoped for.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import warnings
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

import pytest

from conftest import WAIT, UdpPeer, loopback
from dotnet_sockets import (
    AddressFamily,
    ArgumentException,
    ArgumentNullException,
    ArgumentOutOfRangeException,
    DnsEndPoint,
    InvalidOperationException,
    IPAddress,
    IPEndPoint,
    ObjectDisposedException,
    Socket,
    SocketError,
    SocketException,
    SocketFlags,
    SocketReceiveFromResult,
    SocketType,
    TaskFactory,
    from_async,
)
from socket_helpers import wait_until

MakeSocket = Callable[..., Socket]
T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run one test coroutine in a fresh loop, bounded."""

    async def bounded() -> T:
        async with asyncio.timeout(WAIT * 2):
            return await coro

    return asyncio.run(bounded())


def addr_of(s: Socket) -> tuple[str, int]:
    ep = s.LocalEndPoint
    assert isinstance(ep, IPEndPoint)
    return str(ep.Address), ep.Port


def any_ep(af: AddressFamily) -> IPEndPoint:
    return IPEndPoint(IPAddress.Any if af == AddressFamily.InterNetwork else IPAddress.IPv6Any, 0)


def bound_udp(make_socket: MakeSocket, af: AddressFamily = AddressFamily.InterNetwork) -> Socket:
    s = make_socket(af)
    s.Bind(IPEndPoint(loopback(af), 0))
    return s


@pytest.fixture
def peer4() -> Iterator[UdpPeer]:
    peer = UdpPeer(AddressFamily.InterNetwork)
    yield peer
    peer.close()


async def until(predicate: Callable[[], bool], what: str) -> None:
    """Let the loop run until ``predicate()`` holds (bounded)."""
    deadline = time.monotonic() + WAIT
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.001)


def queued_reads(s: Socket) -> int:
    return len(s._io.rq)


# -- datagrams ---------------------------------------------------------------------------------------


def test_send_to_and_receive_from(make_socket: MakeSocket, af: AddressFamily) -> None:
    a = make_socket(af)
    b = bound_udp(make_socket, af)

    async def main() -> None:
        assert a.LocalEndPoint is None
        n = await a.SendToAsync(b"hello", SocketFlags.None_, b.LocalEndPoint)
        assert n == 5
        assert a.LocalEndPoint is not None  # implicit bind, as in every model
        buf = bytearray(16)
        result = await b.ReceiveFromAsync(buf, SocketFlags.None_, any_ep(af))
        assert isinstance(result, SocketReceiveFromResult)
        assert result.ReceivedBytes == 5 and bytes(buf[:5]) == b"hello"
        assert result.RemoteEndPoint.Port == a.LocalEndPoint.Port  # type: ignore[union-attr]
        assert result.RemoteEndPoint.Address == loopback(af)  # type: ignore[union-attr]
        count, sender = result  # unpacks like (bytes_received, remote_end_point)
        assert (count, sender) == (5, result.RemoteEndPoint)
        # The short overloads, the PEP 8 spelling, and memoryview segments.
        assert await a.send_to_async(memoryview(b"xabcx")[1:4], b.LocalEndPoint) == 3
        view = memoryview(buf)[2:10]
        got = await b.receive_from_async(view, any_ep(af))
        assert got.ReceivedBytes == 3 and bytes(buf[2:5]) == b"abc"
        assert await a.SendToAsync(b"0123456789", 2, 3, 0, b.LocalEndPoint) == 3
        assert (await b.ReceiveFromAsync(buf, 0, any_ep(af))).ReceivedBytes == 3
        assert bytes(buf[:3]) == b"234"

    run(main())


def test_receive_pends_and_completes_on_the_loop_thread(make_socket: MakeSocket, peer4: UdpPeer) -> None:
    b = bound_udp(make_socket)

    async def main() -> None:
        loop_thread = threading.get_ident()
        buf = bytearray(8)
        task = asyncio.create_task(b.ReceiveFromAsync(buf, 0, any_ep(AddressFamily.InterNetwork)))
        await until(lambda: queued_reads(b) == 1, "the receive to queue")
        assert not task.done()
        # Sent from another thread, as a real peer would.
        threading.Thread(target=peer4.sock.sendto, args=(b"late", addr_of(b))).start()
        result = await asyncio.wait_for(task, WAIT)
        assert threading.get_ident() == loop_thread
        assert result.ReceivedBytes == 4 and result.RemoteEndPoint == peer4.endpoint

    run(main())


def test_cancelled_receive_loses_nothing(make_socket: MakeSocket, peer4: UdpPeer) -> None:
    b = bound_udp(make_socket)

    async def main() -> None:
        buf = bytearray(8)
        task = asyncio.create_task(b.ReceiveFromAsync(buf, 0, any_ep(AddressFamily.InterNetwork)))
        await until(lambda: queued_reads(b) == 1, "the receive to queue")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert queued_reads(b) == 0  # withdrawn from the socket's queue
        peer4.sock.sendto(b"first", addr_of(b))
        peer4.sock.sendto(b"second", addr_of(b))
        r1 = await b.ReceiveFromAsync(buf, 0, any_ep(AddressFamily.InterNetwork))
        assert bytes(buf[: r1.ReceivedBytes]) == b"first"
        r2 = await b.ReceiveFromAsync(buf, 0, any_ep(AddressFamily.InterNetwork))
        assert bytes(buf[: r2.ReceivedBytes]) == b"second"

    run(main())


def test_cancel_after_the_loop_saw_data_loses_nothing(make_socket: MakeSocket, peer4: UdpPeer) -> None:
    """The race: data arrived and the loop's selector reported the socket readable (the awaiter's
    future is resolved), then the awaiter is cancelled before its step runs.  The datagram must
    still be there for the next receive."""
    b = bound_udp(make_socket)

    async def main() -> None:
        buf = bytearray(8)
        task = asyncio.create_task(b.ReceiveFromAsync(buf, 0, any_ep(AddressFamily.InterNetwork)))
        await until(lambda: queued_reads(b) == 1, "the receive to queue")
        op = b._io.rpark
        assert op is not None and op._ctx.watching in (1, 3), "it waits on the loop's selector, parked"
        peer4.sock.sendto(b"kept", addr_of(b))
        assert wait_until(lambda: b.Available == 4)
        # What the loop's reader callback does when the selector reports the data; the task's
        # step that would make the call has not run yet.
        op._ctx._fire()
        assert op._ctx.fut.done()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert queued_reads(b) == 0
        assert buf == bytearray(8)  # nothing was read for the cancelled awaiter
        assert b.Available == 4
        r = await b.ReceiveFromAsync(buf, 0, any_ep(AddressFamily.InterNetwork))
        assert bytes(buf[: r.ReceivedBytes]) == b"kept"

    run(main())


def test_timeout_on_a_receive(make_socket: MakeSocket, peer4: UdpPeer) -> None:
    b = bound_udp(make_socket)

    async def main() -> None:
        buf = bytearray(8)
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05):
                await b.ReceiveFromAsync(buf, 0, any_ep(AddressFamily.InterNetwork))
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(b.ReceiveAsync(buf), 0.05)
        assert queued_reads(b) == 0
        peer4.sock.sendto(b"ok", addr_of(b))
        assert await b.ReceiveAsync(buf) == 2

    run(main())


def test_concurrent_receives_complete_in_order(make_socket: MakeSocket, peer4: UdpPeer) -> None:
    b = bound_udp(make_socket)

    async def main() -> None:
        bufs = [bytearray(4) for _ in range(3)]
        tasks = [asyncio.create_task(b.ReceiveAsync(buf)) for buf in bufs]
        await until(lambda: queued_reads(b) == 3, "three queued receives")
        for i in range(3):
            peer4.sock.sendto(b"d%d" % i, addr_of(b))
        counts = await asyncio.wait_for(asyncio.gather(*tasks), WAIT)
        assert counts == [2, 2, 2]
        assert [bytes(buf[:2]) for buf in bufs] == [b"d0", b"d1", b"d2"]

    run(main())


def test_operation_errors_are_raised_by_the_await(make_socket: MakeSocket) -> None:
    s = make_socket()

    async def main() -> None:
        with pytest.raises(SocketException) as ei:
            await s.SendToAsync(b"x" * 8, 0, IPEndPoint(IPAddress.Parse("127.255.255.255"), 9))
        assert ei.value.SocketErrorCode == SocketError.AccessDenied
        assert s.LocalEndPoint is None and not s.IsBound  # as BeginSendTo after a failed first send
        with pytest.raises(SocketException) as ei:
            await s.SendToAsync(bytearray(65508), IPEndPoint(IPAddress.Loopback, 9))
        assert ei.value.SocketErrorCode == SocketError.MessageSize
        with pytest.raises(SocketException) as ei:
            await s.SendToAsync(b"abc", SocketFlags.Broadcast, IPEndPoint(IPAddress.Loopback, 9))
        assert ei.value.SocketErrorCode == SocketError.OperationNotSupported

    run(main())


def test_argument_errors_raise_from_the_call(make_socket: MakeSocket) -> None:
    s = make_socket()
    ep = IPEndPoint(IPAddress.Loopback, 9)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no coroutine is made, so none is left un-awaited
        with pytest.raises(ArgumentNullException) as ei:
            s.SendToAsync(None, 0, ep)
        assert ei.value.ParamName == "buffer"
        with pytest.raises(ArgumentNullException) as ei:
            s.SendToAsync(b"abc", 0, None)
        assert ei.value.ParamName == "remoteEP"
        with pytest.raises(ArgumentOutOfRangeException) as ei:
            s.SendToAsync(b"abc", 4, 0, 0, ep)
        assert ei.value.ParamName == "offset"
        with pytest.raises(ArgumentException) as ei:
            s.SendToAsync(b"abc", 0, DnsEndPoint("localhost", 9))
        assert ei.value.ParamName == "remoteEP"
        with pytest.raises(InvalidOperationException):
            s.ReceiveFromAsync(bytearray(4), 0, IPEndPoint(IPAddress.Any, 0))  # not bound
        with pytest.raises(ArgumentException):
            s.ReceiveAsync(b"read-only")
        with pytest.raises(TypeError):
            s.SendToAsync()
        s.Close()
        with pytest.raises(ObjectDisposedException):
            s.SendToAsync(b"abc", 0, ep)
        with pytest.raises(ObjectDisposedException):
            s.ReceiveAsync(bytearray(4))


def test_close_aborts_an_awaited_receive(make_socket: MakeSocket) -> None:
    b = bound_udp(make_socket)

    async def main() -> None:
        task = asyncio.create_task(b.ReceiveFromAsync(bytearray(4), 0, any_ep(AddressFamily.InterNetwork)))
        await until(lambda: queued_reads(b) == 1, "the receive to queue")
        b.Close()
        with pytest.raises(SocketException) as ei:
            await asyncio.wait_for(task, WAIT)
        assert ei.value.SocketErrorCode == SocketError.OperationAborted

    run(main())


def test_close_from_another_thread(make_socket: MakeSocket) -> None:
    b = bound_udp(make_socket)

    async def main() -> None:
        task = asyncio.create_task(b.ReceiveAsync(bytearray(4)))
        await until(lambda: queued_reads(b) == 1, "the receive to queue")
        closer = threading.Thread(target=b.Close)
        closer.start()
        with pytest.raises(SocketException) as ei:
            await asyncio.wait_for(task, WAIT)
        assert ei.value.SocketErrorCode == SocketError.OperationAborted
        closer.join(WAIT)

    run(main())


def test_not_started_until_awaited(make_socket: MakeSocket, peer4: UdpPeer) -> None:
    s = make_socket()
    coro = s.SendToAsync(b"never", 0, peer4.endpoint)
    coro.close()  # dropped without being awaited: nothing is sent
    assert peer4.nothing_pending()
    assert s.LocalEndPoint is None

    async def main() -> int:
        return await s.SendToAsync(b"sent", 0, peer4.endpoint)

    # Made outside the loop, awaited inside it.
    pending = s.SendToAsync(b"made early", 0, peer4.endpoint)

    async def later() -> int:
        return await pending

    assert run(later()) == 10
    assert run(main()) == 4
    assert peer4.recv()[0] == b"made early"
    assert peer4.recv()[0] == b"sent"


def test_task_group_and_create_task(make_socket: MakeSocket, peer4: UdpPeer) -> None:
    s = make_socket()

    async def main() -> list[int]:
        async with asyncio.TaskGroup() as tg:
            tasks = [tg.create_task(s.SendToAsync(b"tg%d" % i, 0, peer4.endpoint)) for i in range(3)]
        return [t.result() for t in tasks]

    assert run(main()) == [3, 3, 3]
    assert sorted(peer4.recv()[0] for _ in range(3)) == [b"tg0", b"tg1", b"tg2"]


# -- streams -----------------------------------------------------------------------------------------


def test_stream_accept_connect_send_receive(make_socket: MakeSocket, af: AddressFamily) -> None:
    listener = make_socket(af, SocketType.Stream)
    listener.Bind(IPEndPoint(loopback(af), 0))
    listener.Listen(4)
    client = make_socket(af, SocketType.Stream)

    async def main() -> None:
        accepting = asyncio.create_task(listener.AcceptAsync())
        await until(lambda: queued_reads(listener) == 1, "the accept to queue")
        await client.ConnectAsync(listener.LocalEndPoint)
        assert client.Connected and client.LocalEndPoint is not None
        server = await asyncio.wait_for(accepting, WAIT)
        try:
            assert server.Connected and server.RemoteEndPoint == client.LocalEndPoint
            assert await client.SendAsync(b"ping", SocketFlags.None_) == 4
            buf = bytearray(16)
            got = 0
            while got < 4:
                got += await server.ReceiveAsync(memoryview(buf)[got:])
            assert bytes(buf[:4]) == b"ping"
            assert await server.SendAsync([b"po", (b"xngx", 1, 2)]) == 4
            a, b = bytearray(1), bytearray(8)
            got = 0
            while got < 4:
                got += await client.ReceiveAsync([a, b] if got == 0 else memoryview(b)[got - 1 :])
            assert bytes(a) + bytes(b[:3]) == b"pong"
            server.Shutdown(1)
            assert await client.ReceiveAsync(buf) == 0  # the peer's shutdown
            await client.DisconnectAsync(False)
            assert not client.Connected
        finally:
            server.Dispose()

    run(main())


def test_connect_forms_and_refusal(make_socket: MakeSocket) -> None:
    listener = make_socket(AddressFamily.InterNetwork, SocketType.Stream)
    listener.Bind(IPEndPoint(IPAddress.Loopback, 0))
    listener.Listen(8)
    port = addr_of(listener)[1]
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    closed_port = probe.getsockname()[1]
    probe.close()

    async def main() -> None:
        c1 = make_socket(AddressFamily.InterNetwork, SocketType.Stream)
        await c1.ConnectAsync(IPAddress.Loopback, port)
        c2 = make_socket(AddressFamily.InterNetwork, SocketType.Stream)
        await c2.ConnectAsync("127.0.0.1", port)
        c3 = make_socket(AddressFamily.InterNetwork, SocketType.Stream)
        # Tried in order: the refused address first, then the listener.
        await c3.ConnectAsync(addresses=[IPAddress.Parse("127.0.0.2"), IPAddress.Loopback], port=port)
        assert c1.Connected and c2.Connected and c3.Connected
        c4 = make_socket(AddressFamily.InterNetwork, SocketType.Stream)
        with pytest.raises(SocketException) as ei:
            await c4.ConnectAsync(IPEndPoint(IPAddress.Loopback, closed_port))
        assert ei.value.SocketErrorCode == SocketError.ConnectionRefused
        assert not c4.Connected
        with pytest.raises(ArgumentNullException) as ei2:
            c4.ConnectAsync(remote_ep=None)
        assert ei2.value.ParamName == "remoteEP"

    run(main())


def test_send_pends_on_a_full_buffer_then_completes(make_socket: MakeSocket) -> None:
    listener = make_socket(AddressFamily.InterNetwork, SocketType.Stream)
    listener.Bind(IPEndPoint(IPAddress.Loopback, 0))
    listener.Listen(1)
    client = make_socket(AddressFamily.InterNetwork, SocketType.Stream)
    client.Connect(listener.LocalEndPoint)
    server = listener.Accept()
    # 16 MiB: more than the kernel's loopback buffers hold.  (Shrinking the
    # buffers instead makes some kernels crawl through the transfer.)
    data = bytes(range(256)) * 65536

    async def main() -> None:
        task = asyncio.create_task(client.SendAsync(data))
        await until(lambda: len(client._io.wq) == 1, "the send to wait for room")
        assert not task.done()
        received = bytearray()
        buf = bytearray(1 << 20)
        while len(received) < len(data):
            n = await asyncio.wait_for(server.ReceiveAsync(buf), WAIT)
            assert n > 0
            received += buf[:n]
        assert await asyncio.wait_for(task, WAIT) == len(data)
        assert received == data

    try:
        run(main())
    finally:
        server.Dispose()


def test_cancelled_accept_accepts_nothing(make_socket: MakeSocket) -> None:
    listener = make_socket(AddressFamily.InterNetwork, SocketType.Stream)
    listener.Bind(IPEndPoint(IPAddress.Loopback, 0))
    listener.Listen(4)

    async def main() -> None:
        task = asyncio.create_task(listener.AcceptAsync())
        await until(lambda: queued_reads(listener) == 1, "the accept to queue")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        peer = socket.create_connection(addr_of(listener), timeout=WAIT)
        try:
            server = await asyncio.wait_for(listener.AcceptAsync(), WAIT)
            try:
                peer.sendall(b"!")
                assert await server.ReceiveAsync(bytearray(1)) == 1
            finally:
                server.Dispose()
        finally:
            peer.close()

    run(main())


def test_accept_checks(make_socket: MakeSocket) -> None:
    s = make_socket(AddressFamily.InterNetwork, SocketType.Stream)
    with pytest.raises(InvalidOperationException):
        s.AcceptAsync()
    s.Bind(IPEndPoint(IPAddress.Loopback, 0))
    with pytest.raises(InvalidOperationException):
        s.AcceptAsync()
    s.Listen(1)
    with pytest.raises(ArgumentException):
        s.AcceptAsync(accept_socket="not a socket")


def test_accept_into_a_given_socket(make_socket: MakeSocket) -> None:
    listener = make_socket(AddressFamily.InterNetwork, SocketType.Stream)
    listener.Bind(IPEndPoint(IPAddress.Loopback, 0))
    listener.Listen(4)
    target = make_socket(AddressFamily.InterNetwork, SocketType.Stream)

    async def main() -> None:
        peer = socket.create_connection(addr_of(listener), timeout=WAIT)
        try:
            accepted = await listener.AcceptAsync(target)
            assert accepted is target and target.Connected
        finally:
            peer.close()

    run(main())


# -- from_async --------------------------------------------------------------------------------------


def test_from_async_send_and_receive(make_socket: MakeSocket, peer4: UdpPeer) -> None:
    a = make_socket()
    b = bound_udp(make_socket)

    async def main() -> None:
        n = await from_async(a.BeginSendTo, a.EndSendTo, b"apm", 0, 3, 0, b.LocalEndPoint)
        assert n == 3
        buf = bytearray(8)
        result = await TaskFactory.FromAsync(
            b.BeginReceiveFrom, b.EndReceiveFrom, buf, 0, 8, 0, any_ep(AddressFamily.InterNetwork)
        )
        assert result.ReceivedBytes == 3 and bytes(buf[:3]) == b"apm"
        with pytest.raises(SocketException) as ei:
            await from_async(a.BeginSendTo, a.EndSendTo, b"x", 0, 1, 0, IPEndPoint(IPAddress.Broadcast, 9))
        assert ei.value.SocketErrorCode == SocketError.AccessDenied

    run(main())
    assert TaskFactory.FromAsync is TaskFactory.from_async


def test_from_async_argument_checks(make_socket: MakeSocket) -> None:
    s = make_socket()
    with pytest.raises(ArgumentNullException) as ei:
        from_async(None, s.EndSendTo)  # type: ignore[arg-type]
    assert ei.value.ParamName == "beginMethod"
    with pytest.raises(ArgumentException) as ei:
        from_async(s.BeginSendTo, 5)  # type: ignore[arg-type]
    assert ei.value.ParamName == "endMethod"

    async def main() -> None:
        # The Begin method's own argument errors come out of the await.
        with pytest.raises(ArgumentNullException):
            await from_async(s.BeginSendTo, s.EndSendTo, None, 0, 0, 0, IPEndPoint(IPAddress.Loopback, 9))

    run(main())


def test_denied_by_policy_raises_security_exception(make_socket: MakeSocket, peer4: UdpPeer) -> None:
    from dotnet_sockets import SecurityException
    from dotnet_sockets.security import SocketPolicy, using_policy

    s = make_socket()

    async def main() -> None:
        with using_policy(SocketPolicy.deny_only(peer4.endpoint)):
            with pytest.raises(SecurityException):
                s.SendToAsync(b"no", 0, peer4.endpoint)  # from the call, before any I/O
            with pytest.raises(SecurityException):
                s.SendToAsync(b"no", peer4.endpoint)
            c = make_socket(AddressFamily.InterNetwork, SocketType.Stream)
            with pytest.raises(SecurityException):
                c.ConnectAsync(peer4.endpoint)
        assert await s.SendToAsync(b"yes", 0, peer4.endpoint) == 3

    run(main())
    assert peer4.recv()[0] == b"yes"


def test_cancelled_connect_closes_the_socket(make_socket: MakeSocket) -> None:
    listener = make_socket(AddressFamily.InterNetwork, SocketType.Stream)
    listener.Bind(IPEndPoint(IPAddress.Loopback, 0))
    listener.Listen(0)
    filler = socket.create_connection(addr_of(listener), timeout=WAIT)  # fills the backlog
    client = make_socket(AddressFamily.InterNetwork, SocketType.Stream)

    async def main() -> None:
        task = asyncio.create_task(client.ConnectAsync(listener.LocalEndPoint))
        await until(lambda: task.done() or len(client._io.wq) == 1, "the connect to start")
        if task.done():
            pytest.skip("this kernel completed the connect despite the full backlog")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # A half-made connection cannot be withdrawn: the socket is closed, as .NET does.
        assert not client.Connected
        with pytest.raises(ObjectDisposedException):
            client.ConnectAsync(listener.LocalEndPoint)

    try:
        run(main())
    finally:
        filler.close()
