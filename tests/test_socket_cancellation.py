"""``cancellation_token`` on the awaitable ``...Async`` forms of ``Socket`` (issue 17 item 1).

Ports the ``*Cancel*`` cases of dotnet/runtime's SendReceive and Accept/Connect
tests (``ReceiveAsync_CanceledDuringOperation_Throws``, ``..._Precanceled_Throws``,
``AcceptAsync_Precanceled_Throws`` and friends), with the promise this library
adds on top of them: a cancelled operation loses nothing.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from conftest import WAIT, loopback
from dotnet_sockets import (
    AddressFamily,
    CancellationToken,
    CancellationTokenSource,
    IPEndPoint,
    OperationCanceledException,
    Socket,
    SocketFlags,
)
from socket_helpers import Made, fill, receive_exactly, wait_until
from socket_helpers import run_bounded as run

LOOP4 = loopback(AddressFamily.InterNetwork)
ANY4 = IPEndPoint(LOOP4, 0)



def cancelled_source() -> CancellationTokenSource:
    cts = CancellationTokenSource()
    cts.Cancel()
    return cts


async def queued(s: Socket, n: int = 1) -> None:
    """Let a just-created task start its operation, and check that it is waiting."""
    await asyncio.sleep(0)
    assert wait_until(lambda: s._io.pending_count() >= n), "the operation must be pending"


async def cancel_pending(s: Socket, make: Callable[[CancellationToken], Coroutine[Any, Any, Any]]) -> None:
    """Start ``make(token)``, let it wait, cancel the token: OperationCanceledException with that token."""
    cts = CancellationTokenSource()
    task = asyncio.ensure_future(make(cts.Token))
    await queued(s)
    cts.Cancel()
    with pytest.raises(OperationCanceledException) as info:
        await task
    assert info.value.CancellationToken == cts.Token
    assert s._io.pending_count() == 0  # withdrawn from the socket's queue


# -- cancelled while waiting: nothing lost ----------------------------------------------------------
def test_receive_from_canceled_during_operation_loses_no_datagram(made: Made) -> None:
    receiver, sender = made.udp(), made.udp()

    async def main() -> None:
        buf = bytearray(8)
        await cancel_pending(receiver, lambda t: receiver.ReceiveFromAsync(buf, SocketFlags.None_, ANY4, t))
        assert buf == bytearray(8)
        sender.SendTo(b"next", receiver.LocalEndPoint)
        r = await receiver.ReceiveFromAsync(buf, ANY4, CancellationTokenSource().Token)
        assert bytes(buf[: r.ReceivedBytes]) == b"next"

    run(main())


def test_receive_canceled_during_operation_keeps_stream_bytes_in_order(made: Made) -> None:
    client, server = made.pair()

    async def main() -> None:
        buf = bytearray(16)
        await cancel_pending(server, lambda t: server.ReceiveAsync(buf, SocketFlags.None_, t))
        client.Send(b"abc")
        client.Send(b"def")
        got = bytearray()
        while len(got) < 6:
            n = await server.ReceiveAsync(memoryview(buf)[len(got) :], cancellation_token=CancellationToken.None_)
            assert n > 0
            got += buf[len(got) : len(got) + n]
        assert bytes(got) == b"abcdef"

    run(main())


def test_send_canceled_while_waiting_for_room_leaves_a_prefix_and_no_gap(made: Made) -> None:
    client, server = made.pair()
    filled = fill(client)
    size, after = 300_000, 2_000

    async def main() -> bytes:
        await cancel_pending(client, lambda t: client.SendAsync(b"A" * size, SocketFlags.None_, t))
        # The peer drains concurrently while a later send goes out.
        send = asyncio.ensure_future(client.SendAsync(b"Z" * after))
        reader = asyncio.ensure_future(asyncio.to_thread(receive_exactly, server, filled + after))
        assert await send == after
        head = await reader
        client.Shutdown(1)  # the end of the stream: the rest, if any, follows
        rest = await asyncio.to_thread(_read_to_end, server)
        return head + rest

    data = run(main())[filled:]
    cut = data.index(b"Z")
    assert data[:cut] == b"A" * cut and cut < size
    assert data[cut:] == b"Z" * after


def _read_to_end(s: Socket) -> bytes:
    out = bytearray()
    buf = bytearray(65536)
    for _ in range(10_000):  # bounded
        n = s.Receive(buf)
        if n == 0:
            break
        out += buf[:n]
    return bytes(out)


def test_accept_canceled_during_operation_leaves_the_connection_for_the_next_accept(made: Made) -> None:
    listener = made.listener()

    async def main() -> None:
        await cancel_pending(listener, lambda t: listener.AcceptAsync(t))
        client = made.tcp()
        client.Connect(listener.LocalEndPoint)
        accepted = made.track(await listener.AcceptAsync(None, CancellationTokenSource().Token))
        assert accepted.RemoteEndPoint == client.LocalEndPoint

    run(main())


def test_cancel_after_ends_a_receive(made: Made) -> None:
    receiver, sender = made.udp(), made.udp()

    async def main() -> None:
        cts = CancellationTokenSource()
        cts.CancelAfter(20)
        with pytest.raises(OperationCanceledException):
            await receiver.ReceiveAsync(bytearray(8), cts.Token)
        sender.SendTo(b"kept", receiver.LocalEndPoint)
        assert await receiver.ReceiveAsync(bytearray(8)) == 4

    run(main())


def test_cancel_from_another_thread(made: Made) -> None:
    receiver, _ = made.udp(), made.udp()

    async def main() -> None:
        cts = CancellationTokenSource()
        task = asyncio.ensure_future(receiver.ReceiveAsync(bytearray(8), cts.Token))
        await queued(receiver)
        t = threading.Thread(target=cts.Cancel)
        t.start()
        with pytest.raises(OperationCanceledException):
            await task
        t.join(WAIT)

    run(main())


# -- pre-cancelled: raises when awaited, before any I/O ----------------------------------------------
PRECANCELED: dict[str, Callable[[Made, CancellationToken], tuple[Socket, Coroutine[Any, Any, Any]]]] = {
    "ReceiveAsync": lambda m, t: (s := m.udp(), s.ReceiveAsync(bytearray(8), SocketFlags.None_, t)),
    "ReceiveFromAsync": lambda m, t: (s := m.udp(), s.ReceiveFromAsync(bytearray(8), ANY4, t)),
    "SendAsync": lambda m, t: (s := m.pair()[0], s.SendAsync(b"x", t)),
    "SendToAsync": lambda m, t: (s := m.udp(), s.SendToAsync(b"x", SocketFlags.None_, s.LocalEndPoint, t)),
    "AcceptAsync": lambda m, t: (s := m.listener(), s.AcceptAsync(t)),
    "ConnectAsync": lambda m, t: (s := m.tcp(), s.ConnectAsync(m.listener().LocalEndPoint, t)),
    "DisconnectAsync": lambda m, t: (s := m.pair()[0], s.DisconnectAsync(False, t)),
}


@pytest.mark.parametrize("method", sorted(PRECANCELED))
def test_precanceled_token_raises_before_any_io(made: Made, method: str) -> None:
    cts = cancelled_source()
    sock, coro = PRECANCELED[method](made, cts.Token)

    async def main() -> None:
        with pytest.raises(OperationCanceledException) as info:
            await coro
        assert info.value.CancellationToken == cts.Token

    run(main())
    if method == "ConnectAsync":
        assert not sock.Connected
    if method == "DisconnectAsync":
        assert sock.Connected
    if method == "SendToAsync":
        assert sock.Available == 0  # nothing was sent to itself


def test_precanceled_send_to_sends_nothing_and_receive_leaves_the_datagram(made: Made) -> None:
    a, b = made.udp(), made.udp()
    token = cancelled_source().Token

    async def main() -> None:
        with pytest.raises(OperationCanceledException):
            await a.SendToAsync(b"never", b.LocalEndPoint, token)
        a.SendTo(b"once", b.LocalEndPoint)
        assert wait_until(lambda: b.Available == 4)
        with pytest.raises(OperationCanceledException):
            await b.ReceiveFromAsync(bytearray(8), ANY4, cancellation_token=token)
        buf = bytearray(8)
        r = await b.ReceiveFromAsync(buf, ANY4)
        assert bytes(buf[: r.ReceivedBytes]) == b"once"
        assert b.Available == 0

    run(main())


# -- the rest of the contract -------------------------------------------------------------------------
def test_task_cancel_keeps_raising_cancelled_error_with_a_token(made: Made) -> None:
    receiver = made.udp()

    async def main() -> None:
        cts = CancellationTokenSource()
        task = asyncio.ensure_future(receiver.ReceiveAsync(bytearray(8), cts.Token))
        await queued(receiver)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not isinstance(task.exception() if not task.cancelled() else None, OperationCanceledException)
        assert task.cancelled()
        assert receiver._io.pending_count() == 0

    run(main())


def test_none_token_and_uncancelled_tokens_change_nothing(made: Made) -> None:
    a, b = made.udp(), made.udp()

    async def main() -> None:
        for token in (CancellationToken.None_, CancellationToken(), CancellationTokenSource().Token):
            assert await a.SendToAsync(b"hi", SocketFlags.None_, b.LocalEndPoint, token) == 2
            assert await b.ReceiveAsync(bytearray(8), cancellation_token=token) == 2

    run(main())


def test_a_token_that_is_not_a_token_is_refused_at_the_call(made: Made) -> None:
    s = made.udp()
    with pytest.raises(TypeError):
        s.ReceiveAsync(bytearray(8), cancellation_token=object())


def test_the_event_based_forms_are_unchanged(made: Made) -> None:
    from dotnet_sockets import SocketAsyncEventArgs

    s = made.udp()
    e = SocketAsyncEventArgs()
    e.SetBuffer(bytearray(8), 0, 8)
    assert s.ReceiveAsync(e) is True  # pending, as before
    s.Close()
