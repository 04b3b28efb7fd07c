"""The loop's reader kept between awaits (``dotnet_sockets.aio._LoopWatch``, issue 15).

An awaited receive that waits registers a reader with its loop; the reader stays when the
receive completes, for the socket's next await, instead of ``remove_reader`` + ``add_reader``
per wait.  What must hold: the next wait reuses it (no new registration); it lets go of the
descriptor when it reports with nobody waiting; and the descriptor is never closed or
replaced while a loop still holds it (a new socket given the same number must work), whether
the socket is closed on the loop's thread, from another thread, by the garbage collector, or
its descriptor replaced (``Disconnect(True)``).
"""

from __future__ import annotations

import asyncio
import gc
import sys
import threading
import warnings
from typing import Any

import pytest

from conftest import WAIT
from dotnet_sockets import IPAddress, IPEndPoint, Socket, SocketError, SocketException, SocketFlags, aio
from socket_helpers import Made
from socket_helpers import run_bounded as run

NONE = SocketFlags.None_



def selector_map() -> Any:
    return asyncio.get_running_loop()._selector.get_map()  # type: ignore[attr-defined]


async def turns(n: int = 3) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


async def waited_receive(peer: Socket, s: Socket, payload: bytes) -> int:
    """An ``await ReceiveAsync`` that waits (checked), then gets ``payload`` from ``peer``."""
    buf = bytearray(64)
    task = asyncio.ensure_future(s.ReceiveAsync(buf, NONE))
    await turns(1)
    assert s._io.rpark is not None and not task.done(), "the receive waits on the loop"
    peer.Send(payload)
    n = await asyncio.wait_for(task, WAIT)
    assert bytes(buf[:n]) == payload
    return n


def test_the_reader_stays_between_awaits_and_is_registered_once(made: Made) -> None:
    c, s = made.pair()

    async def main() -> int:
        loop = asyncio.get_running_loop()
        registered = []
        add_reader = loop.add_reader

        def counting(fd: Any, callback: Any, *args: Any) -> None:
            registered.append(fd)
            add_reader(fd, callback, *args)

        loop.add_reader = counting  # type: ignore[method-assign]
        try:
            for i in range(5):
                assert await waited_receive(c, s, b"round %d" % i) == 7
                assert s._io.fd in selector_map(), "kept after the receive completed"
                assert s._io.rkeep is not None
        finally:
            del loop.add_reader
        return len(registered)

    assert run(main()) == 1


def test_a_reader_that_reports_with_nobody_waiting_lets_go(made: Made) -> None:
    c, s = made.pair()

    async def main() -> None:
        await waited_receive(c, s, b"first")
        c.Send(b"left unread")  # readable, and no await waits
        for _ in range(200):  # bounded: a few loop turns
            await asyncio.sleep(0.001)
            if s._io.fd not in selector_map():
                break
        assert s._io.fd not in selector_map() and s._io.rkeep is None
        buf = bytearray(32)
        assert await asyncio.wait_for(s.ReceiveAsync(buf, NONE), WAIT) == 11  # nothing lost

    run(main())


def test_close_on_the_loops_thread_lets_go_at_once(made: Made) -> None:
    c, s = made.pair()

    async def main() -> None:
        await waited_receive(c, s, b"ping")
        fd = s._io.fd
        assert fd in selector_map()
        s.Close()
        assert fd not in selector_map()
        assert s._sock.fileno() == -1

    run(main())


def test_close_from_another_thread_closes_the_descriptor_once_the_loop_let_go(made: Made) -> None:
    """The loop cannot run while the other thread closes: the descriptor stays open (and in the
    selector) until the loop lets go, then is closed; a new socket that gets the number works."""
    c, s = made.pair()

    async def main() -> None:
        await waited_receive(c, s, b"ping")
        fd = s._io.fd
        t = threading.Thread(target=s.Close)
        t.start()
        t.join(WAIT)
        assert not t.is_alive()
        assert fd in selector_map() and s._sock.fileno() == fd, "open while the loop holds it"
        for _ in range(200):
            await asyncio.sleep(0.001)
            if s._sock.fileno() == -1:
                break
        assert s._sock.fileno() == -1 and fd not in selector_map()
        # New sockets, whatever numbers they get, are watched and reported.
        c2, s2 = made.pair()
        assert await waited_receive(c2, s2, b"fresh") == 5

    run(main())


def test_a_collected_socket_is_closed_once_the_loop_let_go(made: Made) -> None:
    c, s = made.pair()
    made.sockets.remove(s)
    held = [s]
    del s

    async def main() -> None:
        await waited_receive(c, held[0], b"ping")
        io = held[0]._io
        fd, raw = io.fd, held[0]._sock
        assert io.rkeep is not None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            held.clear()  # the last reference: the finalizer closes it
            gc.collect()
        assert any(issubclass(w.category, ResourceWarning) for w in caught)
        assert raw.fileno() == fd, "open while the loop holds it"
        for _ in range(200):
            await asyncio.sleep(0.001)
            if raw.fileno() == -1:
                break
        assert raw.fileno() == -1 and fd not in selector_map()
        c2, s2 = made.pair()
        assert await waited_receive(c2, s2, b"fresh") == 5

    run(main())


def test_a_replaced_descriptor_is_watched_anew_on_the_loops_thread_and_from_another(made: Made) -> None:
    """``Disconnect(True)`` replaces the descriptor under the same number (dup2): a reader kept
    for the old one must not stand for the new one (the kernel forgot it: an await would hang)."""
    for other_thread in (False, True):
        c, s = made.pair()

        async def main(c: Socket = c, s: Socket = s, other_thread: bool = other_thread) -> None:
            await waited_receive(c, s, b"before")
            if other_thread:
                await asyncio.to_thread(s.Disconnect, True)
            else:
                s.Disconnect(True)
            listener = made.listener()
            await asyncio.wait_for(s.ConnectAsync(listener.LocalEndPoint), WAIT)  # (.NET: only asynchronously)
            accepted = listener.Accept()
            made.sockets.append(accepted)
            assert await waited_receive(accepted, s, b"after") == 5

        run(main())


def test_a_socket_awaited_on_two_loops_one_after_the_other(made: Made) -> None:
    c, s = made.pair()
    for round_ in (b"one", b"two"):

        async def main(payload: bytes = round_) -> int:
            return await waited_receive(c, s, payload)

        assert run(main()) == 3  # a new loop: the finished loop's reader is dropped


def test_a_cancelled_wait_keeps_nothing_waiting_and_takes_nothing(made: Made) -> None:
    c, s = made.pair()

    async def main() -> None:
        await waited_receive(c, s, b"first")
        task = asyncio.ensure_future(s.ReceiveAsync(bytearray(8), NONE))
        await turns(1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not s._io.rq
        c.Send(b"kept")
        buf = bytearray(8)
        assert await asyncio.wait_for(s.ReceiveAsync(buf, NONE), WAIT) == 4
        assert buf[:4] == b"kept"

    run(main())


def test_udp_receive_from_and_a_close_while_waiting_with_a_kept_reader(made: Made) -> None:
    r, w = made.udp(), made.udp()

    async def main() -> None:
        for i in range(3):
            task = asyncio.ensure_future(r.ReceiveFromAsync(bytearray(16), NONE, IPEndPoint(IPAddress.Any, 0)))
            await turns(1)
            w.SendTo(b"d%d" % i, r.LocalEndPoint)
            got = await asyncio.wait_for(task, WAIT)
            assert got.ReceivedBytes == 2
        pending = asyncio.ensure_future(r.ReceiveFromAsync(bytearray(16), NONE, IPEndPoint(IPAddress.Any, 0)))
        await turns(1)
        await asyncio.to_thread(r.Close)
        with pytest.raises(SocketException) as info:
            await asyncio.wait_for(pending, WAIT)
        assert info.value.SocketErrorCode == SocketError.OperationAborted

    run(main())


async def echo_rounds(c: Socket, s: Socket, rounds: int) -> None:
    """``rounds`` request/answer round trips between two awaiting tasks on this loop: every
    receive waits (its data comes from the other task)."""

    async def server() -> None:
        buf = bytearray(16)
        for _ in range(rounds):
            n = await s.ReceiveAsync(buf, NONE)
            assert n == 4
            await s.SendAsync(memoryview(buf)[:n], NONE)

    task = asyncio.ensure_future(server())
    back = bytearray(16)
    for i in range(rounds):
        assert await c.SendAsync(b"r%03d" % i, NONE) == 4
        assert await asyncio.wait_for(c.ReceiveAsync(back, NONE), WAIT) == 4
        assert bytes(back[:4]) == b"r%03d" % i
    await asyncio.wait_for(task, WAIT)


@pytest.mark.parametrize("tasks", ["asyncio", "python"])
def test_no_report_wakes_a_waiting_receive_into_a_would_block(
    made: Made, monkeypatch: pytest.MonkeyPatch, tasks: str
) -> None:
    """asyncio's tasks: the report that wakes a receive runs its step at once (``aio._step_now``),
    so the data is gone before the loop's next selector call: one report per waiting receive, and
    none is stale.  Other tasks (asyncio's Python ``Task``, whose wake-up the kept reader does not
    run itself) wake one iteration later, and each wake is followed by a stale report: the kept
    reader asks the kernel on its first report after a wait starts, which is enough for all of
    them (without it each would wake the next wait for nothing), and no later report is stale."""
    from dotnet_sockets._engine import ops

    c, s = made.pair()
    tries = {"blocked": 0, "done": 0}
    attempt = ops.ReceiveOp.attempt

    def counting(op: Any) -> bool:
        done = attempt(op)
        tries["done" if done else "blocked"] += 1
        return done

    monkeypatch.setattr(ops.ReceiveOp, "attempt", counting)
    reports = {"n": 0}
    ready = aio._LoopWatch.ready

    def counted_ready(self: Any) -> None:
        reports["n"] += 1
        ready(self)

    monkeypatch.setattr(aio._LoopWatch, "ready", counted_ready)

    async def main() -> None:
        if tasks == "python":
            py_task: Any = asyncio.tasks._PyTask  # type: ignore[attr-defined]
            asyncio.get_running_loop().set_task_factory(lambda loop, coro, **kw: py_task(coro, loop=loop, **kw))
        await echo_rounds(c, s, 2)  # the first receives may find their data there at once
        tries.update(blocked=0, done=0)
        reports["n"] = 0
        await echo_rounds(c, s, 30)

    run(main())
    assert tries["done"] >= 50, "most receives waited and were served by their own retry"
    assert tries["blocked"] == 0, "woken into a would-block"
    if tasks == "python":
        assert reports["n"] - tries["done"] >= 25, ("stale reports came (the case this checks)", reports, tries)
    else:
        assert tries["done"] <= reports["n"] <= tries["done"] + 2, "one report per waiting receive"


def test_a_receive_after_one_that_found_nothing_asks_the_poll_first(made: Made) -> None:
    """A would-block raises ``BlockingIOError`` inside the interpreter (costly); a socket whose
    last short receive found nothing is polled first, so the waiting receives here do not raise
    it, and every byte still arrives in order."""
    c, s = made.pair()
    raised: list[Any] = []

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event == "c_exception" and getattr(arg, "__name__", "") in ("recv_into", "recvfrom_into"):
            raised.append(arg)

    async def main() -> None:
        await echo_rounds(c, s, 2)  # the readers are kept from here on
        raised.clear()
        sys.setprofile(profile)
        try:
            await echo_rounds(c, s, 30)
        finally:
            sys.setprofile(None)

    run(main())
    # (A receive that found its data there, as a new server task's first does, lets the next one
    # try the call first: data may be streaming in.  So once per socket here, not per receive.)
    assert len(raised) <= 2, f"{len(raised)} would-block exceptions in 60 waiting receives"
