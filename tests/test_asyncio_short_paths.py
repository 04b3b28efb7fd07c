"""The short paths of the awaitables (issue 15): a plainly valid ``await SendAsync``,
``ReceiveAsync`` or ``ReceiveFromAsync`` makes its system call without an operation object
when nothing is queued; everything it does must match the general path.

Each test runs the same calls in the short form (positional, ``SocketFlags.None_``) and in a
form the short path does not take (``socket_flags=`` by name), and compares what a user sees:
results, exceptions, audit events, telemetry, tracing, order and buffer exports.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Coroutine, Iterator
from typing import Any

import pytest

from conftest import WAIT
from dotnet_sockets import (
    AddressFamily,
    ArgumentException,
    CancellationToken,
    CancellationTokenSource,
    InvalidOperationException,
    IPAddress,
    IPEndPoint,
    LingerOption,
    OperationCanceledException,
    SecurityException,
    SelectMode,
    Socket,
    SocketError,
    SocketException,
    SocketFlags,
    SocketShutdown,
)
from dotnet_sockets._socket_core import SocketCore
from dotnet_sockets.telemetry import Telemetry
from socket_helpers import WAIT_US, Made, run_bounded

NONE = SocketFlags.None_
PREFIX = "dotnet_sockets.Socket."
_recording: list[list[tuple[str, Any, Any]]] = []


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if _recording and event.startswith(PREFIX):
        _recording[-1].append((event[len(PREFIX) :], args[0], args[1]))


sys.addaudithook(_hook)  # hooks cannot be removed; this one records only inside the fixture


@pytest.fixture
def audit_events() -> Iterator[list[tuple[str, Any, Any]]]:
    events: list[tuple[str, Any, Any]] = []
    _recording.append(events)
    yield events
    _recording.remove(events)



def send(short: bool, s: Socket, buf: Any) -> Coroutine[Any, Any, int]:
    return s.SendAsync(buf, NONE) if short else s.SendAsync(buf, socket_flags=NONE)  # type: ignore[no-any-return]


def receive(short: bool, s: Socket, buf: Any) -> Coroutine[Any, Any, int]:
    return s.ReceiveAsync(buf, NONE) if short else s.ReceiveAsync(buf, socket_flags=NONE)  # type: ignore[no-any-return]


def receive_from(short: bool, s: Socket, buf: Any, ep: Any) -> Coroutine[Any, Any, Any]:
    if short:
        return s.ReceiveFromAsync(buf, NONE, ep)  # type: ignore[no-any-return]
    return s.ReceiveFromAsync(buf, socket_flags=NONE, remote_ep=ep)  # type: ignore[no-any-return]


@pytest.fixture
def counted_builders(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How often the general path's operation builders ran."""
    counts = {"_new_send": 0, "_new_receive": 0, "_new_receive_from": 0}
    for name in counts:
        original = getattr(SocketCore, name)

        def counting(self: Any, *args: Any, _name: str = name, _original: Any = original) -> Any:
            counts[_name] += 1
            return _original(self, *args)

        monkeypatch.setattr(SocketCore, name, counting)
    return counts


def test_short_forms_build_no_operation_when_the_call_finishes_at_once(
    made: Made, counted_builders: dict[str, int]
) -> None:
    c, s = made.pair()
    u = made.udp()
    peer = made.udp()

    async def main() -> None:
        assert await c.SendAsync(bytearray(b"abc"), NONE) == 3
        assert await c.SendAsync(memoryview(b"defg"), NONE) == 4
        assert await c.SendAsync(b"h") == 1
        buf = bytearray(16)
        got = 0
        while got < 8:
            got += await s.ReceiveAsync(memoryview(buf)[got:], NONE)
        assert bytes(buf[:8]) == b"abcdefgh"
        peer.SendTo(b"dgram", u.LocalEndPoint)
        await asyncio.sleep(0)
        r = await asyncio.wait_for(u.ReceiveFromAsync(buf, NONE, IPEndPoint(IPAddress.Any, 0)), WAIT)
        assert (r.ReceivedBytes, r.RemoteEndPoint) == (5, peer.LocalEndPoint)

    run_bounded(main())
    # Every receive either finished at once or waited once (a waiting ReceiveFromAsync builds its
    # operation through the general builder; ReceiveAsync and SendAsync never do).
    assert counted_builders["_new_send"] == 0
    assert counted_builders["_new_receive"] == 0
    assert counted_builders["_new_receive_from"] <= 1


@pytest.mark.parametrize("short", [True, False], ids=["short", "general"])
def test_audit_events_once_each_with_the_peer(made: Made, short: bool, audit_events: list[Any]) -> None:
    c, s = made.pair()
    u = made.udp()
    peer = made.udp()
    any_ep = IPEndPoint(IPAddress.Any, 0)

    async def main() -> None:
        await send(short, c, bytearray(b"xy"))
        buf = bytearray(2)
        got = 0
        while got < 2:
            got += await receive(short, s, memoryview(buf)[got:])
        peer.SendTo(b"z", u.LocalEndPoint)
        await asyncio.wait_for(receive_from(short, u, buf, any_ep), WAIT)

    run_bounded(main())
    mine = [e for e in audit_events if e[1] in (c, s, u) and e[0].endswith("Async")]
    assert mine[0] == ("SendAsync", c, c.RemoteEndPoint)
    # A receive that waited for its data is still audited once.
    assert {e for e in mine[1:-1]} == {("ReceiveAsync", s, s.RemoteEndPoint)}
    assert mine[-1] == ("ReceiveFromAsync", u, any_ep)


def test_a_denied_short_call_raises_security_exception_from_the_await_and_moves_nothing(made: Made) -> None:
    c, s = made.pair()
    deny = [False]

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if deny[0] and event in (PREFIX + "SendAsync", PREFIX + "ReceiveAsync"):
            raise PermissionError("denied by test")

    sys.addaudithook(hook)

    async def main() -> None:
        c.Send(b"q")
        sending, receiving = c.SendAsync(b"abc", NONE), s.ReceiveAsync(bytearray(4), NONE)
        deny[0] = True  # as the general path, the check is made when the await starts the call
        try:
            with pytest.raises(SecurityException):
                await sending
            with pytest.raises(SecurityException):
                await receiving
        finally:
            deny[0] = False
        buf = bytearray(8)
        assert await asyncio.wait_for(s.ReceiveAsync(buf, NONE), WAIT) == 1  # the "q", nothing else
        assert s.Available == 0

    run_bounded(main())


@pytest.mark.parametrize("short", [True, False], ids=["short", "general"])
def test_telemetry_counts_bytes_and_datagrams_the_same(made: Made, short: bool) -> None:
    c, s = made.pair()
    u, peer = made.udp(), made.udp()
    u.Connect(peer.LocalEndPoint)
    peer.Connect(u.LocalEndPoint)

    async def main() -> Any:
        before = Telemetry.snapshot()
        await send(short, c, bytes(100))
        buf = bytearray(100)
        got = 0
        while got < 100:
            got += await receive(short, s, memoryview(buf)[got:])
        await send(short, u, bytes(7))
        assert await asyncio.wait_for(receive(short, peer, buf), WAIT) == 7
        return Telemetry.snapshot() - before

    delta = run_bounded(main())
    assert (delta.bytes_sent, delta.bytes_received) == (107, 107)
    assert (delta.datagrams_sent, delta.datagrams_received) == (1, 1)


async def outcome(coro: Coroutine[Any, Any, Any]) -> tuple[str, Any]:
    """What an await gave: its result, or its SocketError."""
    try:
        return "result", await asyncio.wait_for(coro, WAIT)
    except SocketException as exc:
        return "error", exc.SocketErrorCode


def test_a_reset_gives_the_same_errors_and_state_on_both_paths(made: Made) -> None:
    seen = []
    for short in (True, False):
        c, s = made.pair()
        c.LingerState = LingerOption(True, 0)
        c.Close()  # a reset
        assert s.Poll(WAIT_US, SelectMode.SelectRead)

        async def main(s: Socket = s, short: bool = short) -> tuple[Any, ...]:
            received = await outcome(receive(short, s, bytearray(8)))
            connected = s.Connected
            sent = await outcome(send(short, s, b"x"))
            return received, connected, sent

        seen.append(run_bounded(main()))
    assert seen[0] == seen[1]
    assert seen[0][:2] == (("error", SocketError.ConnectionReset), False)
    assert seen[0][2][0] == "error"


@pytest.mark.parametrize("short", [True, False], ids=["short", "general"])
def test_closed_between_call_and_await_is_operation_aborted(made: Made, short: bool) -> None:
    c, s = made.pair()
    c.Send(b"data waiting")

    async def main() -> None:
        receiving = receive(short, s, bytearray(32))
        sending = send(short, s, b"x")
        s.Close()
        for pending in (receiving, sending):
            with pytest.raises(SocketException) as ei:
                await pending
            assert ei.value.SocketErrorCode == SocketError.OperationAborted

    run_bounded(main())


@pytest.mark.parametrize("short", [True, False], ids=["short", "general"])
def test_an_await_goes_behind_a_pending_begin_receive(made: Made, short: bool) -> None:
    c, s = made.pair()
    first = bytearray(1)

    async def main() -> None:
        ar = s.BeginReceive(first, 0, 1, NONE, None, None)
        assert len(s._io.rq) == 1
        second = bytearray(8)
        task = asyncio.ensure_future(receive(short, s, second))
        await asyncio.sleep(0)
        assert not task.done() and len(s._io.rq) == 2  # queued behind it, nothing taken
        c.Send(b"AB")
        n = await asyncio.wait_for(task, WAIT)
        assert s.EndReceive(ar) == 1 and first == b"A"
        assert bytes(second[:n]) == b"B"

    run_bounded(main())


@pytest.mark.parametrize("short", [True, False], ids=["short", "general"])
def test_an_await_with_data_there_goes_behind_a_waiting_await(made: Made, short: bool) -> None:
    c, s = made.pair()

    async def main() -> None:
        first_buf, second_buf = bytearray(1), bytearray(8)
        first = asyncio.ensure_future(receive(short, s, first_buf))
        await asyncio.sleep(0)
        assert s._io.rpark is not None  # parked on the loop, not yet woken
        c.Send(b"AB")
        assert s.Poll(WAIT_US, SelectMode.SelectRead)
        # asyncio runs this step before the loop's reader callback for the first: the
        # second finds data there, yet must not take it past the first.
        second = asyncio.ensure_future(receive(short, s, second_buf))
        assert await asyncio.wait_for(first, WAIT) == 1
        n = await asyncio.wait_for(second, WAIT)
        assert (bytes(first_buf), bytes(second_buf[:n])) == (b"A", b"B")

    run_bounded(main())


@pytest.mark.parametrize("short", [True, False], ids=["short", "general"])
def test_a_waiting_receive_cancelled_takes_nothing(made: Made, short: bool) -> None:
    c, s = made.pair()

    async def main() -> None:
        task = asyncio.ensure_future(receive(short, s, bytearray(8)))
        await asyncio.sleep(0)
        assert s._io.rpark is not None  # it waits on the loop
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not s._io.rq
        c.Send(b"kept")
        buf = bytearray(8)
        assert await asyncio.wait_for(receive(short, s, buf), WAIT) == 4
        assert buf[:4] == b"kept"

    run_bounded(main())


def test_a_big_short_send_goes_on_after_a_prefix_and_a_cancel_leaves_a_prefix(made: Made) -> None:
    c, s = made.pair()
    data = bytes(range(256)) * 65536  # 16 MiB: more than loopback buffers hold

    async def main() -> None:
        before = Telemetry.snapshot()
        task = asyncio.ensure_future(c.SendAsync(data, NONE))
        await asyncio.sleep(0)
        assert not task.done() and c._io.wpark is not None  # a prefix went; the rest waits on the loop
        got = bytearray()
        buf = bytearray(1 << 16)
        while len(got) < (1 << 20):
            got += buf[: await asyncio.wait_for(s.ReceiveAsync(buf, NONE), WAIT)]
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        c.Shutdown(SocketShutdown.Send)
        while True:
            n = await asyncio.wait_for(s.ReceiveAsync(buf, NONE), WAIT)
            if n == 0:
                break
            got += buf[:n]
        assert 0 < len(got) < len(data)
        assert got == data[: len(got)]  # a prefix, never a gap
        delta = Telemetry.snapshot() - before
        assert delta.bytes_sent == delta.bytes_received == len(got)  # counted as they left

    run_bounded(main())


@pytest.mark.parametrize("short", [True, False], ids=["short", "general"])
def test_the_buffer_is_exported_from_the_call_to_the_end_of_the_await(made: Made, short: bool) -> None:
    c, s = made.pair()

    async def main() -> None:
        out = bytearray(b"abc")
        sending = send(short, c, out)
        with pytest.raises(BufferError):
            out.extend(b"d")
        assert await sending == 3
        out.extend(b"d")  # let go once the await returned
        into = bytearray(8)
        receiving = receive(short, s, into)
        with pytest.raises(BufferError):
            into.extend(b"d")
        assert await asyncio.wait_for(receiving, WAIT) == 3
        into.extend(b"d")

    run_bounded(main())


def test_odd_buffers_get_the_general_checks(made: Made) -> None:
    c, s = made.pair()
    released = memoryview(bytearray(4))
    released.release()
    for bad in (released, memoryview(b"read-only"), memoryview(bytearray(8))[::2]):
        with pytest.raises(ArgumentException) as ei:
            s.ReceiveAsync(bad, NONE)
        assert ei.value.ParamName == "buffer"
    with pytest.raises(ArgumentException) as ei:
        c.SendAsync(released, NONE)
    assert ei.value.ParamName == "buffer"

    async def main() -> None:
        import array

        ints = array.array("i", [0, 0])
        assert await c.SendAsync(memoryview(array.array("i", [1, 2])), NONE) == 8  # counted in bytes
        got = 0
        while got < 8:
            got += await asyncio.wait_for(s.ReceiveAsync(memoryview(ints).cast("B")[got:], NONE), WAIT)
        assert list(ints) == [1, 2]

    run_bounded(main())


def test_receive_from_short_form_checks_and_result(made: Made) -> None:
    u = made.udp()
    unbound = made(AddressFamily.InterNetwork)
    peer = made.udp()
    with pytest.raises(InvalidOperationException):
        unbound.ReceiveFromAsync(bytearray(4), NONE, IPEndPoint(IPAddress.Any, 0))
    with pytest.raises(ArgumentException) as ei:
        u.ReceiveFromAsync(bytearray(4), NONE, IPEndPoint(IPAddress.IPv6Any, 0))
    assert ei.value.ParamName == "remoteEP"

    async def main() -> None:
        results = []
        for short in (True, False):
            peer.SendTo(b"hello", u.LocalEndPoint)
            buf = bytearray(16)
            r = await asyncio.wait_for(receive_from(short, u, buf, IPEndPoint(IPAddress.Any, 0)), WAIT)
            results.append((type(r), r.ReceivedBytes, r.RemoteEndPoint, bytes(buf[:5])))
        assert results[0] == results[1]
        assert results[0][1:] == (5, peer.LocalEndPoint, b"hello")
        # A datagram longer than the buffer: the same outcome either way.
        cut = []
        for short in (True, False):
            peer.SendTo(b"too long", u.LocalEndPoint)
            cut.append(await outcome(receive_from(short, u, bytearray(2), IPEndPoint(IPAddress.Any, 0))))
        assert cut[0][0] == cut[1][0]
        assert cut[0][0] == "error" or cut[0][1].ReceivedBytes == cut[1][1].ReceivedBytes

    run_bounded(main())


class _Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=1)
        self.members: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.members.append(" ".join(record.getMessage().split()[1:3]))  # "SendAsync enter"


@pytest.fixture
def traced() -> Iterator[_Keep]:
    """The network trace switched on (DEBUG) for the test; what it wrote, as "Member step"."""
    lg = logging.getLogger("dotnet_sockets")
    keep = _Keep()
    old = lg.level
    lg.addHandler(keep)
    lg.setLevel(logging.DEBUG)
    try:
        yield keep
    finally:
        lg.removeHandler(keep)
        lg.setLevel(old)


@pytest.mark.parametrize("short", [True, False], ids=["short", "general"])
def test_tracing_on_traces_the_awaits(made: Made, short: bool, traced: _Keep) -> None:
    c, s = made.pair()
    traced.members.clear()  # the pair's own Bind, Listen, Connect and Accept

    async def main() -> None:
        await send(short, c, b"traced")
        got = 0
        buf = bytearray(6)
        assert s.Poll(WAIT_US, SelectMode.SelectRead)  # all six there: one receive
        got += await asyncio.wait_for(receive(short, s, memoryview(buf)[got:]), WAIT)
        assert got == 6

    run_bounded(main())
    assert traced.members == [
        f"{member} {step}"
        for member in ("SendAsync", "EndSend", "ReceiveAsync", "EndReceive")
        for step in ("enter", "exit")
    ]


def test_a_token_keeps_the_short_path_and_cancels_a_waiting_receive(
    made: Made, counted_builders: dict[str, int]
) -> None:
    c, s = made.pair()
    u, peer = made.udp(), made.udp()

    async def main() -> None:
        cts = CancellationTokenSource()
        c.Send(b"a")
        counted_builders["_new_send"] = 0  # the synchronous Send's
        assert s.Poll(WAIT_US, SelectMode.SelectRead)
        assert await s.ReceiveAsync(bytearray(4), NONE, cts.Token) == 1
        assert await c.SendAsync(b"b", CancellationToken.None_) == 1
        peer.SendTo(b"d", u.LocalEndPoint)
        assert u.Poll(WAIT_US, SelectMode.SelectRead)
        r = await u.ReceiveFromAsync(bytearray(4), IPEndPoint(IPAddress.Any, 0), cts.Token)
        assert r.ReceivedBytes == 1
        assert counted_builders == {"_new_send": 0, "_new_receive": 0, "_new_receive_from": 0}
        buf = bytearray(4)
        assert await asyncio.wait_for(s.ReceiveAsync(buf, NONE, cts.Token), WAIT) == 1
        assert buf[:1] == b"b"
        task = asyncio.ensure_future(s.ReceiveAsync(buf, NONE, cts.Token))
        await asyncio.sleep(0)
        assert s._io.rpark is not None
        cts.Cancel()
        with pytest.raises(OperationCanceledException):
            await asyncio.wait_for(task, WAIT)
        assert not s._io.rq
        c.Send(b"kept")
        assert await asyncio.wait_for(s.ReceiveAsync(buf, NONE), WAIT) == 4
        assert buf == b"kept"
        with pytest.raises(OperationCanceledException):  # already cancelled: before any I/O
            await s.ReceiveAsync(buf, NONE, cts.Token)

    run_bounded(main())


def test_an_audit_hook_that_closes_the_socket_aborts_the_await_on_both_paths(made: Made) -> None:
    closing: list[Socket] = []

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if closing and args and args[0] is closing[0] and event in (PREFIX + "ReceiveAsync", PREFIX + "SendAsync"):
            closing[0].Close()

    sys.addaudithook(hook)  # records nothing once the test is over (closing is empty)
    seen = []
    for short in (True, False):
        c, s = made.pair()
        c.Send(b"there")
        assert s.Poll(WAIT_US, SelectMode.SelectRead)

        async def main(s: Socket = s, short: bool = short) -> tuple[Any, Any]:
            closing.append(s)
            try:
                received = await outcome(receive(short, s, bytearray(8)))
            finally:
                closing.clear()
            return received, s._io.closed

        seen.append(run_bounded(main()))
    assert seen[0] == seen[1] == (("error", SocketError.OperationAborted), True)


def test_tracing_on_traces_a_datagram_send_to_the_same_on_both_paths(made: Made, traced: _Keep) -> None:
    s, peer = made(), made.udp()
    s.SendTo(b"bind", peer.LocalEndPoint)  # bound: the short path's steady state
    traced.members.clear()

    async def main() -> None:
        assert await s.SendToAsync(b"abc", NONE, peer.LocalEndPoint) == 3
        assert await s.SendToAsync(b"abc", socket_flags=NONE, remote_ep=peer.LocalEndPoint) == 3

    run_bounded(main())
    assert traced.members == ["EndSendTo enter", "EndSendTo exit"] * 2


@pytest.mark.parametrize("short", [True, False], ids=["short", "general"])
def test_a_send_that_waits_holds_the_buffer_until_it_is_done(made: Made, short: bool) -> None:
    c, s = made.pair()
    data = bytearray(16 << 20)  # more than loopback buffers hold: the send waits
    resized: list[bool] = []

    def on_done(_: Any) -> None:
        # The task is done: nothing may hold the caller's buffer any more.
        try:
            data.extend(b"x")
            del data[-1:]
            resized.append(True)
        except BufferError:
            resized.append(False)

    async def main() -> None:
        task = asyncio.ensure_future(send(short, c, data))
        task.add_done_callback(on_done)
        await asyncio.sleep(0)
        assert not task.done()
        with pytest.raises(BufferError):
            data.extend(b"x")  # exported while pending
        buf = bytearray(1 << 16)
        got = 0
        while got < len(data):
            got += await asyncio.wait_for(s.ReceiveAsync(buf, NONE), WAIT)
        assert await asyncio.wait_for(task, WAIT) == len(data)

    run_bounded(main())
    assert resized == [True]


def test_short_forms_that_wait_build_no_operation_through_the_general_builders(
    made: Made, counted_builders: dict[str, int]
) -> None:
    c, s = made.pair()

    async def main() -> None:
        for _ in range(3):
            waiting = asyncio.ensure_future(s.ReceiveAsync(bytearray(8), NONE))
            await asyncio.sleep(0)
            assert s._io.rpark is not None  # it waits
            assert await c.SendAsync(b"ping", NONE) == 4
            assert await asyncio.wait_for(waiting, WAIT) == 4

    run_bounded(main())
    # The operation a waiting short form queues is built where it waits, not by the general path.
    assert counted_builders == {"_new_send": 0, "_new_receive": 0, "_new_receive_from": 0}


def test_a_reset_while_waiting_gives_the_same_errors_and_state_on_both_paths(made: Made) -> None:
    seen = []
    for short in (True, False):
        c, s = made.pair()

        async def main(c: Socket = c, s: Socket = s, short: bool = short) -> tuple[Any, ...]:
            waiting = asyncio.ensure_future(outcome(receive(short, s, bytearray(8))))
            for _ in range(10):  # (outcome's wait_for starts the receive a step later)
                await asyncio.sleep(0)
                if s._io.rpark is not None:
                    break
            assert s._io.rpark is not None  # it waits
            c.LingerState = LingerOption(True, 0)
            c.Close()  # a reset
            received = await asyncio.wait_for(waiting, WAIT)
            return received, s.Connected

        seen.append(run_bounded(main()))
    assert seen[0] == seen[1] == (("error", SocketError.ConnectionReset), False)


def test_tracing_turned_on_while_a_receive_waits_traces_its_end_on_both_paths(made: Made) -> None:
    lg = logging.getLogger("dotnet_sockets")
    seen = []
    for short in (True, False):
        c, s = made.pair()
        keep = _Keep()

        async def main(c: Socket = c, s: Socket = s, short: bool = short, keep: _Keep = keep) -> int:
            waiting = asyncio.ensure_future(receive(short, s, bytearray(8)))
            await asyncio.sleep(0)
            assert s._io.rpark is not None  # it waits, started with tracing off
            old = lg.level
            lg.addHandler(keep)
            lg.setLevel(logging.DEBUG)
            try:
                c._sock.send(b"late")  # (the raw socket: only the receive's trace is wanted)
                return await asyncio.wait_for(waiting, WAIT)
            finally:
                lg.removeHandler(keep)
                lg.setLevel(old)

        assert run_bounded(main()) == 4
        seen.append(keep.members)
    assert seen[0] == seen[1] == ["EndReceive enter", "EndReceive exit"]


def _fill(c: Socket) -> int:
    """Fill ``c``'s send buffer (and the peer's receive buffer) until a send would block."""
    chunk = b"f" * 65536
    filled = 0
    for _ in range(10_000):  # bounded: loopback buffers hold a few MiB at most
        try:
            filled += c._sock.send(chunk)
        except BlockingIOError:
            return filled
    raise AssertionError("the send buffer never filled")


async def _drain(s: Socket, until: bytes) -> bytes:
    """Receive from ``s`` until the stream so far ends with ``until``."""
    got = bytearray()
    buf = bytearray(1 << 16)
    for _ in range(100_000):
        n = await asyncio.wait_for(s.ReceiveAsync(buf, NONE), WAIT)
        assert n > 0
        got += buf[:n]
        if got.endswith(until):
            return bytes(got)
    raise AssertionError("the stream never ended as expected")


def test_a_short_send_that_finds_no_room_waits_on_the_loop_and_keeps_its_place(made: Made) -> None:
    """The would-block of a short send queues its operation, parked and watched at once
    (``OpQueue.enqueue_watched``); a ``BeginSend`` started after it goes after it."""
    c, s = made.pair()

    async def main() -> None:
        filled = _fill(c)
        first = asyncio.ensure_future(c.SendAsync(b"A" * 10, NONE))
        await asyncio.sleep(0)
        assert c._io.wpark is not None and not first.done(), "it waits, parked for the loop"
        ar = c.BeginSend(b"B" * 10, 0, 10, NONE, None, None)
        stream = await _drain(s, b"B" * 10)
        assert len(stream) == filled + 20
        assert stream[filled:] == b"A" * 10 + b"B" * 10, "start order kept"
        assert await asyncio.wait_for(first, WAIT) == 10
        assert c.EndSend(ar) == 10
        assert c._io.wpark is None and not c._io.wq

    run_bounded(main())


def test_a_cancelled_short_send_that_found_no_room_sends_nothing(made: Made) -> None:
    c, s = made.pair()

    async def main() -> None:
        filled = _fill(c)
        task = asyncio.ensure_future(c.SendAsync(b"C" * 10, NONE))
        await asyncio.sleep(0)
        assert c._io.wpark is not None
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert c._io.wpark is None and not c._io.wq
        after = asyncio.ensure_future(c.SendAsync(b"D" * 10, NONE))  # usable after (it waits for room)
        stream = await _drain(s, b"D" * 10)
        assert stream == b"f" * filled + b"D" * 10, "nothing of the cancelled send"
        assert await asyncio.wait_for(after, WAIT) == 10

    run_bounded(main())
