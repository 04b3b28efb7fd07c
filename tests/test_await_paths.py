"""The awaited ``SendAsync``/``ReceiveAsync`` give what the general path gives, however they are taken.

A plainly valid ``await SendAsync(buffer[, no flags])`` or ``ReceiveAsync`` is taken by a short path:
where the accelerator is built, by its compiled twin (``_speedups.c``, an awaitable whose first
step makes ``aio.short_io``'s first try), else by ``_async_methods._short_call`` and
``aio.short_io``.  Each generated call below runs three ways on fresh connected pairs: as installed
(compiled on the compiled pass), through the Python method (``inspect.unwrap``), and down the
general path (``_short_call`` answering None), and the records must be equal: the value, or the
exception (where it was raised: at the call or from the await; type, ``ParamName``,
``SocketErrorCode``), the audit events, the telemetry counted, the bytes moved and the buffer's
content.  Then, for the installed and the Python way: cancellation while waiting, ``Close`` from
another thread while awaiting, start order with ``BeginReceive``, exactly-once awaiting, and a
buffer resized while its operation is pending.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import socket
import sys
import threading
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import WAIT
from dotnet_sockets import (
    CancellationToken,
    CancellationTokenSource,
    Socket,
    SocketError,
    SocketException,
    SocketFlags,
    SocketShutdown,
    _accel,
    _async_methods,
    _checks,
)
from dotnet_sockets.telemetry import Telemetry
from socket_helpers import Made, run_bounded

NONE = SocketFlags.None_
_events: list[list[str]] = []


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if _events and event.startswith("dotnet_sockets.Socket."):
        _events[-1].append(event)


sys.addaudithook(_hook)  # hooks cannot be removed: this one records only inside _run()


def _pair() -> tuple[Socket, Socket]:
    """A connected (client, accepted) pair; the listener is closed at once."""
    made = Made()
    pair = made.pair()
    made.sockets[0].Close()  # the listener
    return pair


def _method(name: str, way: str) -> Callable[..., Any]:
    value = vars(_async_methods.AsyncMethodsMixin)[name]
    return value if way == "installed" else inspect.unwrap(value)


def _failure(where: str, exc: BaseException) -> tuple[Any, ...]:
    code = getattr(exc, "SocketErrorCode", None)
    return ("raised", where, type(exc).__name__, getattr(exc, "ParamName", None), None if code is None else code.name)


def _buffer(kind: str) -> Any:
    data = bytearray(b"ABCDEFGHIJKLMNOP")
    if kind == "released":
        view = memoryview(bytearray(16))
        view.release()
        return view
    return {
        "bytearray": data,
        "bytes": bytes(data),
        "memoryview": memoryview(data),
        "slice": memoryview(data)[3:11],
        "readonly": memoryview(bytes(data)),
        "strided": memoryview(data)[::2],
        "2d": memoryview(data).cast("B", (4, 4)),
        "format": memoryview(data).cast("b"),
        "empty": bytearray(),
        "none": None,
        "list": [data],
        "str": "ABCD",
    }[kind]


_BUFFERS = ["bytearray", "bytes", "memoryview", "slice", "readonly", "strided", "2d", "format", "empty",
            "none", "list", "str", "released"]  # fmt: skip
_FLAGS = [NONE, 0, SocketFlags.Peek, SocketFlags.DontRoute, -1, None, 1.5, True, "0"]
# open: 16 bytes wait to be read; wait: they come after the receive started; eof: the peer shut its
# side; disposed: closed before the call; closed: closed between the call and the await;
# shut: this side shut down both ways before the call.
_STATES = ["open", "wait", "eof", "disposed", "closed", "shut"]


def _run(name: str, kind: str, rest: tuple[Any, ...], state: str, way: str) -> tuple[Any, ...]:
    c, s = _pair()
    me = c if name == "SendAsync" else s
    buffer = _buffer(kind)
    fn = _method(name, way)
    try:
        if name == "ReceiveAsync" and state in ("open", "eof"):
            c._sock.send(b"0123456789abcdef")  # raw: no telemetry or audit of its own
        if state == "eof":
            c._sock.shutdown(socket.SHUT_WR)
        elif state == "disposed":
            me.Close()
        elif state == "shut":
            me.Shutdown(SocketShutdown.Both)

        async def main() -> tuple[Any, ...]:
            try:
                awaitable = fn(me, buffer, *rest)
            except Exception as exc:  # noqa: BLE001 - the outcome is the point
                return _failure("call", exc)
            if state == "closed":
                me.Close()
            try:
                task = asyncio.ensure_future(awaitable)
                await asyncio.sleep(0)  # its first step: the first try
                if state == "wait" and name == "ReceiveAsync":
                    c._sock.send(b"0123456789abcdef")
                return ("value", await asyncio.wait_for(task, WAIT))
            except Exception as exc:  # noqa: BLE001
                return _failure("await", exc)

        with pytest.MonkeyPatch.context() as m:
            if way == "general":
                m.setattr(_async_methods, "_short_call", lambda *a: None)
            _events.append([])
            before = Telemetry.snapshot()
            try:
                out = asyncio.run(main())
            finally:
                events = _events.pop()
            d = Telemetry.snapshot() - before
        moved = b""
        if name == "SendAsync" and state in ("open", "wait"):
            raw = s._sock
            raw.settimeout(WAIT)
            try:
                c._sock.shutdown(socket.SHUT_WR)
                while chunk := raw.recv(4096):
                    moved += chunk
            finally:
                raw.setblocking(False)
        content = bytes(buffer) if isinstance(buffer, (bytearray, memoryview)) and kind != "released" else None
        return (*out, events, d.bytes_sent, d.bytes_received, moved, content)
    finally:
        c.Close()
        s.Close()


@st.composite
def _calls(draw: st.DrawFn) -> tuple[str, str, tuple[Any, ...], str]:
    name = draw(st.sampled_from(["SendAsync", "ReceiveAsync"]))
    kind = draw(st.sampled_from(_BUFFERS))
    shape = draw(st.sampled_from([0, 1, 2, 3]))
    rest: tuple[Any, ...] = {
        0: (),
        1: (draw(st.sampled_from(_FLAGS)),),
        2: (draw(st.sampled_from(_FLAGS)), CancellationToken.None_),
        3: (CancellationToken.None_,),
    }[shape]
    return name, kind, rest, draw(st.sampled_from(_STATES))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_calls())
def test_every_call_gives_what_the_general_path_gives(case: tuple[str, str, tuple[Any, ...], str]) -> None:
    installed = _run(*case, "installed")
    assert installed == _run(*case, "python")
    assert installed == _run(*case, "general")


def test_the_short_shapes_are_compared_and_take_the_compiled_path() -> None:
    """The property above reaches the short path's outcomes (a test that cannot fail is a defect)."""
    sent = _run("SendAsync", "bytearray", (NONE,), "open", "installed")
    assert sent[:2] == ("value", 16) and sent[2] == ["dotnet_sockets.Socket.SendAsync"]
    assert sent[3:6] == (16, 0, b"ABCDEFGHIJKLMNOP")
    got = _run("ReceiveAsync", "slice", (), "wait", "installed")
    assert got[:2] == ("value", 8) and got[2] == ["dotnet_sockets.Socket.ReceiveAsync"]
    assert got[3:5] == (0, 8)
    assert _run("ReceiveAsync", "bytearray", (), "closed", "installed")[:5] == (
        "raised", "await", "SocketException", None, "OperationAborted"
    )  # fmt: skip
    c, s = _pair()
    try:
        for name in ("SendAsync", "ReceiveAsync"):
            method = vars(_async_methods.AsyncMethodsMixin)[name]
            assert (type(method).__name__ == "FastMethod") == _accel.ACCELERATED
            assert inspect.signature(method) == inspect.signature(inspect.unwrap(method))
            awaitable = getattr(c, name)(bytearray(4), NONE)
            assert asyncio.iscoroutine(awaitable)  # create_task and ensure_future take it
            assert inspect.iscoroutine(awaitable) != _accel.ACCELERATED
            awaitable.close()
    finally:
        c.Close()
        s.Close()


_VIEWS = st.sampled_from(_BUFFERS[:9] + ["released", "none", "str"]) | st.builds(
    lambda fmt, n: memoryview(bytearray(8)).cast(fmt) if n else memoryview(bytes(8)).cast(fmt),
    st.sampled_from(["B", "b", "c", "H"]),
    st.booleans(),
)


@pytest.mark.skipif(not _accel.ACCELERATED, reason="the compiled plain_view: built accelerator only")
@settings(max_examples=200, deadline=None)
@given(_VIEWS, st.booleans())
def test_compiled_plain_view_is_the_python_one(buffer: Any, writable: bool) -> None:
    if isinstance(buffer, str) and buffer in _BUFFERS:
        buffer = _buffer(buffer)
    mine = _accel._speedups.plain_view(buffer, writable)
    theirs = _checks.plain_view(buffer, writable)
    assert (mine is None) == (theirs is None)
    if theirs is None:
        return
    assert type(mine) is type(theirs)
    if isinstance(theirs, bytes):
        assert mine is theirs is buffer
        return
    assert mine is not buffer and theirs is not buffer
    def seen(v: memoryview) -> tuple[Any, ...]:
        return (v.obj, v.readonly, v.nbytes, bytes(v))

    assert seen(mine) == seen(theirs)


# -- the waits, on the installed awaitable and on the Python method ----------------------------------
WAYS = ["installed", "python"]


@pytest.mark.parametrize("way", WAYS)
def test_a_waiting_receive_cancelled_takes_nothing_and_the_next_gets_it(made: Made, way: str) -> None:
    c, s = made.pair()
    receive = _method("ReceiveAsync", way)

    async def main() -> bytes:
        first = bytearray(8)
        task = asyncio.ensure_future(receive(s, first, NONE))
        await asyncio.sleep(0)  # it tried, found nothing, and waits on the loop
        assert not task.done()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        c.Send(b"later")
        second = bytearray(8)
        n = await asyncio.wait_for(receive(s, second, NONE), WAIT)
        assert bytes(first) == bytes(8)
        return bytes(second[:n])

    assert run_bounded(main()) == b"later"


@pytest.mark.parametrize("way", WAYS)
def test_a_token_cancels_a_waiting_receive(made: Made, way: str) -> None:
    _, s = made.pair()
    receive = _method("ReceiveAsync", way)
    from dotnet_sockets import OperationCanceledException

    async def main() -> None:
        cts = CancellationTokenSource()
        task = asyncio.ensure_future(receive(s, bytearray(8), NONE, cts.Token))
        await asyncio.sleep(0)
        cts.Cancel()
        with pytest.raises(OperationCanceledException):
            await asyncio.wait_for(task, WAIT)

    run_bounded(main())


@pytest.mark.parametrize("way", WAYS)
def test_close_from_another_thread_ends_a_waiting_receive_with_operation_aborted(
    made: Made, way: str
) -> None:
    _, s = made.pair()
    receive = _method("ReceiveAsync", way)

    async def main() -> SocketError:
        task = asyncio.ensure_future(receive(s, bytearray(8), NONE))
        await asyncio.sleep(0)
        closer = threading.Thread(target=s.Close)
        closer.start()
        try:
            with pytest.raises(SocketException) as info:
                await asyncio.wait_for(task, WAIT)
        finally:
            closer.join(WAIT)
        return info.value.SocketErrorCode

    assert run_bounded(main()) == SocketError.OperationAborted


@pytest.mark.parametrize("way", WAYS)
def test_an_await_goes_behind_a_pending_begin_receive_and_each_completes_once(
    made: Made, way: str
) -> None:
    c, s = made.pair()
    receive = _method("ReceiveAsync", way)
    done = threading.Event()
    calls: list[bytes] = []
    into = bytearray(4)

    def on_done(ar: Any) -> None:
        calls.append(bytes(into[: s.EndReceive(ar)]))
        done.set()

    async def main() -> bytes:
        s.BeginReceive(into, 0, 4, NONE, on_done, None)
        mine = bytearray(4)
        task = asyncio.ensure_future(receive(s, mine, NONE))
        await asyncio.sleep(0)
        c.Send(b"1st!")
        assert await asyncio.get_running_loop().run_in_executor(None, done.wait, WAIT)
        c.Send(b"2nd!")
        n = await asyncio.wait_for(task, WAIT)
        return bytes(mine[:n])

    assert run_bounded(main()) == b"2nd!"
    assert calls == [b"1st!"]


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("name", ["SendAsync", "ReceiveAsync"])
def test_an_awaitable_is_awaited_once(made: Made, way: str, name: str) -> None:
    c, s = made.pair()
    c.Send(b"x")
    me = c if name == "SendAsync" else s

    async def main() -> None:
        awaitable = _method(name, way)(me, bytearray(1), NONE)
        assert await awaitable == 1
        with pytest.raises(RuntimeError, match="cannot reuse already awaited coroutine"):
            await awaitable
        send = _method("SendAsync", way)
        assert await asyncio.gather(send(c, b"ab", NONE), send(c, bytearray(b"cd"))) == [2, 2]

    run_bounded(main())
    left = bytearray(8)
    s.ReceiveTimeout = int(WAIT * 1000)
    n = 0
    while n < 4 + 2 * (name == "SendAsync"):
        n += s.Receive(left, n, 8 - n, NONE)
    assert bytes(left[:n]) == (b"x\0abcd" if name == "SendAsync" else b"abcd")


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("waits", [False, True])
def test_a_finished_awaitable_lets_go_of_its_socket_and_buffer(made: Made, way: str, waits: bool) -> None:
    """As a finished coroutine lets go of its frame: a done Task keeps its awaitable (3.12+), and
    that must not keep the socket or the buffer alive (it did on 3.13: a collected socket went
    unclosed and unwarned while its last Task lived)."""
    c, s = made.pair()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        received, sent = bytearray(4), bytearray(b"ping")
        if not waits:
            c.Send(b"ping")
        receive = _method("ReceiveAsync", way)(s, received, NONE)
        send = _method("SendAsync", way)(c, sent, NONE)
        task = asyncio.ensure_future(receive)
        if waits:
            await asyncio.sleep(0)
            loop.call_soon(c.Send, b"ping")
        assert await asyncio.wait_for(task, WAIT) == 4
        assert await send == 4
        for finished in (receive, send):
            held = gc.get_referents(finished)
            assert not any(x is s or x is c or x is received or x is sent for x in held), held

    run_bounded(main())


@pytest.mark.parametrize("way", WAYS)
def test_a_buffer_is_held_while_its_operation_is_pending(made: Made, way: str) -> None:
    c, s = made.pair()
    receive, send = _method("ReceiveAsync", way), _method("SendAsync", way)

    async def main() -> None:
        into = bytearray(8)
        task = asyncio.ensure_future(receive(s, into, NONE))
        await asyncio.sleep(0)
        with pytest.raises(BufferError):
            into.extend(b"!")  # pending: the receive holds it
        into[0:1] = b"?"  # a change in place is the caller's business: the data lands over it
        c.Send(b"data")
        assert await asyncio.wait_for(task, WAIT) == 4
        into.extend(b"!")  # let go once the await returned
        assert bytes(into) == b"data" + bytes(4) + b"!"
        # A send that finds no room (more than loopback buffers hold) waits holding its buffer.
        size = 16 << 20
        big = bytearray(b"z" * size)
        sending = asyncio.ensure_future(send(c, big, NONE))
        await asyncio.sleep(0)
        assert not sending.done()
        with pytest.raises(BufferError):
            big.extend(b"!")
        got = 0
        sink = bytearray(1 << 16)
        for _ in range(size):  # bounded: each receive takes at least a byte
            if got == size:
                break
            got += await asyncio.wait_for(receive(s, sink, NONE), WAIT)
        assert await asyncio.wait_for(sending, WAIT) == size
        big.extend(b"!")

    run_bounded(main())


def test_thousands_of_awaits_leak_nothing(made: Made) -> None:
    """Every way through the awaitable (at once, after a wait, closed unawaited, awaited twice):
    flat memory and unchanged reference counts of the sockets and the buffers."""
    import gc
    import tracemalloc

    c, s = made.pair()
    out, into = bytearray(b"0123456789abcdef"), bytearray(16)
    view = memoryview(into)

    async def rounds(count: int) -> None:
        for _ in range(count):
            assert await c.SendAsync(out, NONE) == 16
            assert await s.ReceiveAsync(view[:8]) == 8
            assert await s.ReceiveAsync(into, NONE) == 8
            waiting = asyncio.ensure_future(s.ReceiveAsync(into, NONE))
            await asyncio.sleep(0)
            c.Send(out)
            assert await asyncio.wait_for(waiting, WAIT) == 16
            unawaited = c.SendAsync(out)
            unawaited.close()
            once = s.ReceiveAsync(into)
            c.Send(b"x")
            assert await asyncio.wait_for(once, WAIT) == 1
            with pytest.raises(RuntimeError):
                await once

    def watched() -> list[int]:
        return [sys.getrefcount(o) for o in (c, s, out, into, view)]

    asyncio.run(rounds(200))  # warm-up: caches, the kept reader
    gc.collect()
    refs = watched()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        asyncio.run(rounds(1500))
        gc.collect()
        growth = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert watched() == refs
    assert growth < 100_000, growth  # a leaked object per await would be megabytes


# -- the kept reader's report: the compiled twin of _LoopWatch.ready ---------------------------------
_FUTS = ["none", "pending", "done", "cancelled"]
# Who waits on the future: nobody; an asyncio Task (awaiting it); a plain callback; a Task and a
# plain callback; asyncio's Python Task (not an asyncio.Task: woken the usual way).
_WAKERS = ["none", "task", "plain", "two", "pytask"]


def _report(
    way: str,
    waiting: bool,
    suspect: bool,
    readable: bool,
    fut_state: str,
    raising: bool,
    waker: str = "none",
    inside: bool = False,
) -> tuple[Any, ...]:
    """One report to a kept reader in the given state (``inside``: made from a running task): what
    it did (futures, flags, polls, errors, and whether the waiting task's step ran in the report)."""
    from dotnet_sockets import aio

    loop = asyncio.new_event_loop()
    c, s = _pair()
    marks: list[Any] = []
    try:
        io = s._io
        keep = aio._LoopWatch(loop, threading.get_ident(), io)
        polls: list[int] = []

        def poll(timeout: int) -> list[Any]:
            polls.append(timeout)
            if raising:
                raise OSError("poll failed")
            return [(io.fd, 1)] if readable else []

        keep.poll = poll
        keep.suspect = suspect
        fut: Any = None
        if waiting:
            w = aio._LoopWaiter(loop, io)
            if fut_state != "none":
                fut = w.fut = loop.create_future()

                async def awaiting() -> None:
                    try:
                        marks.append(("resumed", await fut, asyncio.current_task(loop) is task))
                    except asyncio.CancelledError:
                        marks.append("cancelled")

                if waker in ("task", "two", "pytask"):
                    make: Any = asyncio.tasks._PyTask if waker == "pytask" else asyncio.Task  # type: ignore[attr-defined]
                    task = make(awaiting(), loop=loop)
                    loop.run_until_complete(asyncio.sleep(0))  # its first step: it awaits fut
                if waker in ("plain", "two"):
                    fut.add_done_callback(lambda f: marks.append("plain callback"))
                if fut_state == "done":
                    fut.set_result("earlier")
                elif fut_state == "cancelled":
                    fut.cancel()
            keep.waiter = w
        io.rkeep = keep
        ready = vars(aio._LoopWatch)["ready"] if way == "installed" else inspect.unwrap(vars(aio._LoopWatch)["ready"])

        seen: list[tuple[Any, ...]] = []

        def report() -> None:
            # As the loop calls it (a callback, on a running loop), or from a running task.
            try:
                out: tuple[Any, ...] = ("value", ready(keep))
            except Exception as exc:  # noqa: BLE001 - the outcome is the point
                out = ("raised", type(exc).__name__, str(exc))
            done = None if fut is None or not fut.done() else "cancelled" if fut.cancelled() else fut.result()
            state = None if fut is None else "pending" if not fut.done() else done
            seen.append((*out, state, keep.suspect, polls, io.rkeep is keep, keep.waiter is not None, list(marks)))

        async def from_a_task() -> None:
            report()

        if inside:
            loop.run_until_complete(from_a_task())
        else:
            loop.call_soon(report)
        for _ in range(3):
            loop.run_until_complete(asyncio.sleep(0))
        return (*seen[0], marks)
    finally:
        io.rkeep = None
        c.Close()
        s.Close()
        for t in asyncio.all_tasks(loop):
            t.cancel()
        loop.run_until_complete(asyncio.sleep(0))
        loop.close()


@settings(max_examples=200, deadline=None)
@given(
    st.booleans(),
    st.booleans(),
    st.booleans(),
    st.sampled_from(_FUTS),
    st.booleans(),
    st.sampled_from(_WAKERS),
    st.booleans(),
)
def test_compiled_report_does_what_the_python_one_does(
    waiting: bool, suspect: bool, readable: bool, fut_state: str, raising: bool, waker: str, inside: bool
) -> None:
    case = (waiting, suspect, readable, fut_state, raising, waker, inside)
    assert _report("installed", *case) == _report("python", *case)


def test_the_report_is_compared_and_takes_the_compiled_path(monkeypatch: pytest.MonkeyPatch) -> None:
    from dotnet_sockets import aio

    assert (type(vars(aio._LoopWatch)["ready"]).__name__ == "FastMethod") == _accel.ACCELERATED
    # a suspect report of a readable socket wakes the waiter; an unreadable one leaves it waiting
    assert _report("installed", True, True, True, "pending", False) == (
        "value", None, None, False, [0], True, True, [], []
    )  # fmt: skip
    assert _report("installed", True, True, False, "pending", False)[2:4] == ("pending", False)
    # nobody waits and the socket is readable: the reader lets go of the descriptor
    assert _report("installed", False, False, True, "none", False)[5:7] == (False, False)
    # a Task awaits: its step runs in the report (the compiled twin does it without aio._step_now)
    called: list[Any] = []
    step_now = aio._step_now
    monkeypatch.setattr(aio, "_step_now", lambda *a: called.append(a) or step_now(*a))
    ran = _report("installed", True, False, True, "pending", False, "task")
    assert ran[2:] == (None, False, [], True, True, [("resumed", None, True)], [("resumed", None, True)])
    assert len(called) == (0 if _accel.ACCELERATED else 1)
    # from inside a running task, or with another callback, or a Python Task: the usual way, later
    for waker, inside in (("task", True), ("two", False), ("pytask", False)):
        later = _report("installed", True, False, True, "pending", False, waker, inside)
        assert later[2] is None and later[7] == [] and ("resumed", None, True) in later[8], (waker, inside)


# -- the waits, three ways: as installed, all Python, and woken one iteration later ------------------
# "later" is the Python report with aio._step_now declining: the woken step runs on the loop's next
# iteration, as a plain future's callback does (the way before the report ran it at once).
_WAIT_WAYS = ["installed", "python", "later"]
# What happens while the await waits: nothing; the task is cancelled; Close from another thread;
# (receive) a BeginReceive started before the await, served first.
_EVENTS = ["none", "cancel", "close", "ahead"]


def _waited(op: str, size: int, chunks: list[int], event: str, way: str) -> tuple[Any, ...]:
    """An await that waits: a receive of ``size`` bytes whose data comes later in ``chunks``, or a
    send of ``size`` KiB (more than the socket buffers hold, read off by the peer later)."""
    from dotnet_sockets import aio

    c, s = _pair()
    begun: list[Any] = []
    done = threading.Event()
    with pytest.MonkeyPatch.context() as m:
        if way != "installed":
            for name in ("SendAsync", "ReceiveAsync"):
                m.setattr(_async_methods.AsyncMethodsMixin, name, _method(name, "python"))
            m.setattr(aio._LoopWatch, "ready", inspect.unwrap(vars(aio._LoopWatch)["ready"]))
        if way == "later":
            m.setattr(aio, "_step_now", lambda fut, loop: False)
        me = s if op == "receive" else c
        data = bytes(range(256)) * (size * 4 if op == "send" else 1)
        buf = bytearray(size) if op == "receive" else bytearray(data[: size * 1024])
        ahead = bytearray(3)

        def on_ahead(ar: Any) -> None:
            try:
                begun.append(s.EndReceive(ar))
            except Exception as exc:  # noqa: BLE001 - the outcome is the point
                begun.append(_failure("end", exc))
            done.set()

        async def main() -> tuple[Any, ...]:
            loop = asyncio.get_running_loop()
            if event == "ahead":
                s.BeginReceive(ahead, 0, 3, NONE, on_ahead, None)
            task = asyncio.ensure_future(me.ReceiveAsync(buf, NONE) if op == "receive" else me.SendAsync(buf, NONE))
            await asyncio.sleep(0)  # its first try found nothing (no room): it waits
            waited = not task.done()
            if event == "cancel":
                task.cancel()
            elif event == "close":
                closer = threading.Thread(target=me.Close)
                closer.start()
                closer.join(WAIT)
            if op == "receive" and event != "close":
                if event == "ahead":
                    c._sock.send(b"abc")  # the BeginReceive's, served first
                    assert await loop.run_in_executor(None, done.wait, WAIT)
                # The first chunk wakes the await; the rest come once it finished (how much one
                # receive gets of chunks arriving meanwhile depends on timing, in .NET as here).
                c._sock.send(data[: chunks[0]])
                await asyncio.wait([task], timeout=WAIT)
                for n in chunks[1:]:
                    c._sock.send(data[:n])
            try:
                if op == "send" and event != "close":
                    moved = bytearray()
                    while not task.done() and len(moved) < len(buf):  # bounded: each read takes a byte
                        await asyncio.sleep(0)
                        try:
                            moved += s._sock.recv(1 << 16)
                        except BlockingIOError:
                            pass
                out: tuple[Any, ...] = ("value", await asyncio.wait_for(task, WAIT))
            except asyncio.CancelledError:
                out = ("cancelled",)
            except Exception as exc:  # noqa: BLE001
                out = _failure("await", exc)
            return (waited, *out)

        _events.append([])
        before = Telemetry.snapshot()
        try:
            out = run_bounded(main())
        finally:
            events = _events.pop()
        d = Telemetry.snapshot() - before
    # What is left on the socket for the next receive: nothing a cancelled or finished await took.
    left = b""
    if op == "receive" and event != "close":
        c._sock.shutdown(socket.SHUT_WR)
        s._sock.settimeout(WAIT)
        while chunk := s._sock.recv(4096):
            left += chunk
    c.Close()
    s.Close()
    return (*out, bytes(buf) if op == "receive" else None, events, d.bytes_sent, d.bytes_received, begun, left)


@st.composite
def _waits(draw: st.DrawFn) -> tuple[str, int, list[int], str]:
    op = draw(st.sampled_from(["receive", "send"]))
    size = draw(st.integers(1, 24)) if op == "receive" else draw(st.sampled_from([4096, 8192]))
    chunks = draw(st.lists(st.integers(1, 16), min_size=1, max_size=3))
    events = _EVENTS if op == "receive" else _EVENTS[:3]
    return op, size, chunks, draw(st.sampled_from(events))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_waits())
def test_every_wait_gives_what_the_python_and_the_later_wake_give(case: tuple[str, int, list[int], str]) -> None:
    installed = _waited(*case, "installed")
    assert installed[0], "the await waited (the case this compares)"
    assert installed == _waited(*case, "python")
    assert installed == _waited(*case, "later")
