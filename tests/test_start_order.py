"""Start order across the models on one socket, and where each model waits.

.NET completes the sends (and the receives) of one socket in the order they
were started, whatever model started them: synchronous calls, Begin/End,
``SocketAsyncEventArgs`` and awaitables.  Issue 14 defect 4: an awaited send
that waited for room was taken out of the write queue when the socket became
writable, and a ``BeginSend`` started after it went first; a ``BeginReceive``
started after a pending ``await ReceiveAsync`` got the first datagram.

The second half checks where the waits happen (issue 15): a synchronous call
waits on its own thread and an awaitable on its loop's selector; the engine
thread is armed only for the models it serves.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from conftest import WAIT, loopback
from dotnet_sockets import (
    AddressFamily,
    IAsyncResult,
    IPEndPoint,
    Socket,
    SocketAsyncEventArgs,
    SocketError,
    SocketException,
    SocketFlags,
)
from dotnet_sockets._engine.opqueue import Waiter
from dotnet_sockets._engine.ops import SendToOp
from socket_helpers import Made, fill, receive_exactly, wait_until
from socket_helpers import run_bounded as run

ANY4 = IPEndPoint(loopback(AddressFamily.InterNetwork), 0)



def udp_pair(made: Made) -> tuple[Socket, Socket]:
    """(receiver, sender), both bound to loopback."""
    return made.udp(), made.udp()


def send_datagrams(sender: Socket, receiver: Socket, *payloads: bytes) -> None:
    for p in payloads:
        sender.SendTo(p, receiver.LocalEndPoint)


async def awaiting_receive(s: Socket, buf: bytearray, queued: int = 1) -> asyncio.Future[int]:
    """An ``await ReceiveAsync(buf)`` started in a task, checked to be waiting (``queued`` reads in all)."""
    task = asyncio.ensure_future(s.ReceiveAsync(buf, 0))
    await asyncio.sleep(0)
    assert reads_queued(s, queued), "the await must be pending"
    return task


def reads_queued(s: Socket, n: int) -> bool:
    return wait_until(lambda: len(s._io.rq) >= n)


def writes_queued(s: Socket, n: int) -> bool:
    return wait_until(lambda: len(s._io.wq) >= n)


class Ended:
    """A Begin callback that ends the operation and keeps what it returned."""

    def __init__(self, end: Any) -> None:
        self.end = end
        self.result: Any = None
        self.done = threading.Event()

    def __call__(self, ar: IAsyncResult) -> None:
        try:
            self.result = self.end(ar)
        except Exception as exc:  # noqa: BLE001 - kept for the test
            self.result = exc
        self.done.set()


# -- start order ------------------------------------------------------------------------------------
def test_begin_send_after_an_awaited_send_waiting_for_room_goes_second(made: Made) -> None:
    """The issue's case: the peer must get every 'A' before the first 'B'."""
    client, server = made.pair()
    filled = fill(client)
    a_size, b_size = 300_000, 1_000

    async def main() -> bytes:
        task = asyncio.ensure_future(client.SendAsync(b"A" * a_size, 0))
        await asyncio.sleep(0)
        assert writes_queued(client, 1), "the awaited send must be waiting for room"
        ended = Ended(client.EndSend)
        client.BeginSend(b"B" * b_size, 0, b_size, 0, ended, None)
        data = await asyncio.to_thread(receive_exactly, server, filled + a_size + b_size)
        assert await task == a_size
        assert ended.done.wait(WAIT) and ended.result == b_size
        return data

    data = run(main())
    assert data[filled:] == b"A" * a_size + b"B" * b_size


def test_sync_send_after_an_awaited_send_waiting_for_room_goes_second(made: Made) -> None:
    client, server = made.pair()
    filled = fill(client)
    a_size, c_size = 200_000, 50_000
    sent: list[Any] = []

    async def main() -> bytes:
        task = asyncio.ensure_future(client.SendAsync(b"A" * a_size, 0))
        await asyncio.sleep(0)
        assert writes_queued(client, 1)
        t = threading.Thread(target=lambda: sent.append(client.Send(b"C" * c_size)))
        t.start()
        assert writes_queued(client, 2), "the synchronous send must queue behind the awaited one"
        data = await asyncio.to_thread(receive_exactly, server, filled + a_size + c_size)
        assert await task == a_size
        await asyncio.to_thread(t.join, WAIT)
        return data

    data = run(main())
    assert sent == [c_size]
    assert data[filled:] == b"A" * a_size + b"C" * c_size


def test_begin_receive_after_a_pending_await_gets_the_second_datagram(made: Made) -> None:
    receiver, sender = udp_pair(made)

    async def main() -> None:
        buf = bytearray(8)
        task = asyncio.ensure_future(receiver.ReceiveFromAsync(buf, 0, ANY4))
        await asyncio.sleep(0)
        assert reads_queued(receiver, 1)
        later = bytearray(8)
        ended = Ended(receiver.EndReceive)
        receiver.BeginReceive(later, 0, 8, 0, ended, None)
        send_datagrams(sender, receiver, b"first", b"second")
        r = await task
        assert bytes(buf[: r.ReceivedBytes]) == b"first"
        assert await asyncio.to_thread(ended.done.wait, WAIT)
        assert bytes(later[: ended.result]) == b"second"

    run(main())


def test_event_args_receive_after_a_pending_await_gets_the_second_datagram(made: Made) -> None:
    receiver, sender = udp_pair(made)

    async def main() -> None:
        buf = bytearray(8)
        task = await awaiting_receive(receiver, buf)
        done = threading.Event()
        e = SocketAsyncEventArgs()
        e.SetBuffer(bytearray(8), 0, 8)
        e.Completed += lambda _s, _e: done.set()
        assert receiver.ReceiveAsync(e), "it must be pending behind the await"
        send_datagrams(sender, receiver, b"first", b"second")
        n = await task
        assert bytes(buf[:n]) == b"first"
        assert await asyncio.to_thread(done.wait, WAIT)
        assert e.SocketError == SocketError.Success
        assert bytes(e.Buffer[: e.BytesTransferred]) == b"second"

    run(main())


def test_begin_receive_after_a_blocked_sync_receive_gets_the_second_datagram(made: Made) -> None:
    receiver, sender = udp_pair(made)
    got: list[bytes] = []
    buf = bytearray(8)
    t = threading.Thread(target=lambda: got.append(bytes(buf[: receiver.Receive(buf)])))
    t.start()
    assert reads_queued(receiver, 1)
    later = bytearray(8)
    ended = Ended(receiver.EndReceive)
    receiver.BeginReceive(later, 0, 8, 0, ended, None)
    send_datagrams(sender, receiver, b"first", b"second")
    t.join(WAIT)
    assert got == [b"first"]
    assert ended.done.wait(WAIT)
    assert bytes(later[: ended.result]) == b"second"


def test_sync_receive_behind_a_begin_receive_gets_its_turn(made: Made) -> None:
    """The engine finishes the Begin, then hands the queue to the blocked thread."""
    receiver, sender = udp_pair(made)
    first = bytearray(8)
    ended = Ended(receiver.EndReceive)
    receiver.BeginReceive(first, 0, 8, 0, ended, None)
    got: list[bytes] = []
    buf = bytearray(8)
    t = threading.Thread(target=lambda: got.append(bytes(buf[: receiver.Receive(buf)])))
    t.start()
    assert reads_queued(receiver, 2)
    send_datagrams(sender, receiver, b"first", b"second")
    t.join(WAIT)
    assert ended.done.wait(WAIT) and bytes(first[: ended.result]) == b"first"
    assert got == [b"second"]


def test_await_behind_a_begin_receive_gets_its_turn(made: Made) -> None:
    """The engine finishes the Begin, then wakes the loop, which makes the call itself."""
    receiver, sender = udp_pair(made)

    async def main() -> None:
        first = bytearray(8)
        ended = Ended(receiver.EndReceive)
        receiver.BeginReceive(first, 0, 8, 0, ended, None)
        buf = bytearray(8)
        task = await awaiting_receive(receiver, buf, 2)
        send_datagrams(sender, receiver, b"first", b"second")
        n = await task
        assert bytes(buf[:n]) == b"second"
        # Its callback runs on a completion worker, maybe after the await was resumed.
        assert await asyncio.to_thread(ended.done.wait, WAIT)
        assert bytes(first[: ended.result]) == b"first"

    run(main())


def test_await_behind_a_blocked_sync_receive_gets_its_turn(made: Made) -> None:
    """A thread's call finishes, then hands the queue to another thread's loop."""
    receiver, sender = udp_pair(made)
    got: list[bytes] = []
    sync_buf = bytearray(8)
    t = threading.Thread(target=lambda: got.append(bytes(sync_buf[: receiver.Receive(sync_buf)])))
    t.start()
    assert reads_queued(receiver, 1)

    async def main() -> bytes:
        buf = bytearray(8)
        task = await awaiting_receive(receiver, buf, 2)
        send_datagrams(sender, receiver, b"first", b"second")
        n = await task
        return bytes(buf[:n])

    assert run(main()) == b"second"
    t.join(WAIT)
    assert got == [b"first"]


def test_cancelled_head_passes_the_turn_on(made: Made) -> None:
    """A cancelled await at the head of the queue hands the queue to the Begin behind it."""
    receiver, sender = udp_pair(made)

    async def main() -> None:
        task = await awaiting_receive(receiver, bytearray(8))
        later = bytearray(8)
        ended = Ended(receiver.EndReceive)
        receiver.BeginReceive(later, 0, 8, 0, ended, None)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        send_datagrams(sender, receiver, b"only")
        assert await asyncio.to_thread(ended.done.wait, WAIT)
        assert bytes(later[: ended.result]) == b"only"

    run(main())


# -- where each model waits -------------------------------------------------------------------------
def test_an_await_waits_on_its_loop_not_on_the_engine(made: Made) -> None:
    receiver, sender = udp_pair(made)

    async def main() -> None:
        buf = bytearray(8)
        task = await awaiting_receive(receiver, buf)
        io = receiver._io
        op = io.rpark
        assert op is not None and op._ctx.watching in (1, 3)  # a reader on this loop's selector
        assert io.mask == 0 and not io.registered  # the engine was never armed
        send_datagrams(sender, receiver, b"x")
        assert await task == 1
        assert not io.registered

    run(main())


def test_a_sync_receive_waits_on_its_own_thread(made: Made) -> None:
    receiver, sender = udp_pair(made)
    got: list[int] = []
    threads: list[int] = []

    def blocked() -> None:
        threads.append(threading.get_ident())
        got.append(receiver.Receive(bytearray(8)))

    t = threading.Thread(target=blocked)
    t.start()
    assert reads_queued(receiver, 1)
    io = receiver._io
    assert io.rpark is io.rq[0]  # parked: its thread polls the descriptor
    assert io.mask == 0 and not io.registered  # the engine was never armed
    send_datagrams(sender, receiver, b"xy")
    t.join(WAIT)
    assert got == [2]
    assert not io.registered


def test_close_ends_a_sync_receive_waiting_on_its_thread(made: Made) -> None:
    receiver, _ = udp_pair(made)
    outcome: list[Any] = []

    def blocked() -> None:
        try:
            outcome.append(receiver.Receive(bytearray(8)))
        except SocketException as exc:
            outcome.append(exc)

    t = threading.Thread(target=blocked)
    t.start()
    assert reads_queued(receiver, 1) and receiver._io.rpark is not None
    receiver.Close()
    t.join(WAIT)
    assert not t.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], SocketException)
    assert outcome[0].SocketErrorCode == SocketError.Interrupted  # .NET on Linux, datagram socket


def test_close_from_another_thread_ends_an_await(made: Made) -> None:
    receiver, _ = udp_pair(made)

    async def main() -> None:
        task = await awaiting_receive(receiver, bytearray(8))
        await asyncio.to_thread(receiver.Close)
        with pytest.raises(SocketException) as info:
            await task
        assert info.value.SocketErrorCode == SocketError.OperationAborted

    run(main())


def test_close_from_another_thread_never_leaves_a_closed_descriptor_in_the_loops_selector(made: Made) -> None:
    """The loop's selector watched the socket: the descriptor is closed once the loop stopped
    watching it, so its number cannot be reused under a stale registration (a new socket that
    got that number would then never be reported ready)."""
    receiver, sender = udp_pair(made)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        selector_map = loop._selector.get_map()  # type: ignore[attr-defined]
        task = asyncio.ensure_future(receiver.ReceiveAsync(bytearray(8), 0))
        await queued_in_selector(receiver, selector_map)
        fd = receiver._io.fd
        # Closed while this loop cannot run (this thread waits for the closing one).
        t = threading.Thread(target=receiver.Close)
        t.start()
        t.join(WAIT)
        assert not t.is_alive()
        assert fd in selector_map
        assert receiver._sock.fileno() == fd, "still open while the loop's selector holds it"
        with pytest.raises(SocketException) as info:
            await task
        assert info.value.SocketErrorCode == SocketError.OperationAborted
        assert fd not in selector_map
        assert receiver._sock.fileno() == -1
        # The loop goes on with new sockets, whatever numbers they get.
        other = made.udp()
        buf = bytearray(8)
        pending = asyncio.ensure_future(other.ReceiveAsync(buf, 0))
        await queued_in_selector(other, selector_map)
        send_datagrams(sender, other, b"fresh")
        assert await pending == 5

    run(main())


async def queued_in_selector(s: Socket, selector_map: Any) -> None:
    for _ in range(1000):  # bounded: a few loop iterations are enough
        if s._io.fd in selector_map:
            return
        await asyncio.sleep(0.001)
    raise AssertionError("the await never watched its socket")


class _HeldBack(Waiter):
    """A waiter that never watches anything: its parked operation holds the queue until withdrawn."""

    def wake(self) -> None:
        pass


def test_awaited_send_to_behind_a_parked_operation_waits_for_its_turn_on_the_loop(made: Made) -> None:
    """``await SendToAsync(bytes, flags, ep)`` (the compiled awaitable when the accelerator is built)
    that cannot send at once waits as every awaitable does: queued behind, then on its loop."""
    s, receiver = udp_pair(made)
    io = s._io
    held = SendToOp(io, None, None)
    held.buf, held.flags, held.addr = b"held", 0, None
    held._ctx = _HeldBack()
    io.enqueue_write(held)
    assert io.wpark is held

    async def main() -> int:
        task = asyncio.ensure_future(s.SendToAsync(b"mine", SocketFlags.None_, receiver.LocalEndPoint))
        await asyncio.sleep(0)
        assert writes_queued(s, 2) and not task.done()
        assert receiver.Available == 0 and not io.registered
        assert io.cancel(held)  # its turn passes on: the loop is woken and sends
        return await task

    assert run(main()) == 4
    assert wait_until(lambda: receiver.Available == 4)
    assert not io.registered  # the engine was never involved
