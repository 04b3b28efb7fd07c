"""Buffers that change while an operation is pending, in every send and receive form of every model.

A pending send holds an export of its buffer (a memoryview), as ``socket.sendall`` and
asyncio do: resizing a ``bytearray`` meanwhile raises ``BufferError`` in whoever resizes it,
and exactly the ``size`` bytes given are sent (issue 14, defect 8).  A pending receive holds
an export of every buffer it will write into, a ``BufferList`` included (defect 7): a resize
fails in the caller, never on a completion thread, and no datagram is lost.  Contents may
change while pending (.NET shares the array too): a send carries some prefix of the old bytes
and the rest of the new ones.  Releasing a memoryview the caller gave never frees the memory
under the operation.

Sends are made pending on a TCP connection whose buffers are full (the peer does not read);
receives wait on a UDP socket nothing was sent to yet.  Each form is checked for exactly one
completion (its callback, ``Completed`` handler or await).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from conftest import WAIT, loopback
from dotnet_sockets import (
    AddressFamily,
    IPEndPoint,
    Socket,
    SocketAsyncEventArgs,
    SocketError,
    SocketFlags,
)
from reliability_support import checked_sockets
from socket_helpers import Made, fill, pending, receive_exactly

# More than the two kernel buffers between the ends can hold while the peer reads nothing (the
# sender's is fixed by fill(); the receiver's grows only as it reads): after fill() the connection
# may still take a few tens of kilobytes, as in-flight segments are acknowledged, and a pending
# send that fitted would finish before the test looks at it.
SIZE = 1_000_000
PAYLOAD = bytes(range(256)) * (SIZE // 256) + bytes(SIZE % 256)
DATAGRAM = b"datagram-" + bytes(range(40))


class Loop:
    """An asyncio loop on its own thread, so that a test can change a buffer while an await is pending."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def start(self, make: Callable[[], Any]) -> Any:
        """Run ``await make()`` on the loop; ``make`` runs on the loop's thread."""

        async def main() -> Any:
            return await make()

        return asyncio.run_coroutine_threadsafe(main(), self.loop)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(WAIT)
        self.loop.close()


@pytest.fixture
def made() -> Iterator[Made]:
    with checked_sockets() as m:
        yield m


@pytest.fixture
def loop() -> Iterator[Loop]:
    lp = Loop()
    yield lp
    lp.close()


class Once:
    """Counts completions of one operation (callback, Completed, await or sync return)."""

    def __init__(self) -> None:
        self.count = 0
        self.value: Any = None
        self.error: BaseException | None = None
        self.done = threading.Event()
        self.lock = threading.Lock()

    def hit(self, value: Any = None, error: BaseException | None = None) -> None:
        with self.lock:
            self.count += 1
            self.value, self.error = value, error
        self.done.set()

    def result(self) -> Any:
        assert self.done.wait(WAIT), "never completed"
        assert self.count == 1
        if self.error is not None:
            raise self.error
        return self.value


def _thread(once: Once, fn: Callable[[], Any]) -> None:
    def run() -> None:
        try:
            once.hit(fn())
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            once.hit(error=exc)

    threading.Thread(target=run, daemon=True).start()


def _begin(once: Once, sock: Socket, begin: Callable[[Any], Any], end: str) -> None:
    def cb(ar: Any) -> None:
        try:
            once.hit(getattr(sock, end)(ar))
        except BaseException as exc:  # noqa: BLE001
            once.hit(error=exc)

    begin(cb)


def _event(once: Once, sock: Socket, setup: Callable[[SocketAsyncEventArgs], None], method: str) -> None:
    e = SocketAsyncEventArgs()
    setup(e)

    def done(_s: Any, ev: SocketAsyncEventArgs) -> None:
        if ev.SocketError == SocketError.Success:
            once.hit(ev.BytesTransferred)
        else:
            once.hit(error=RuntimeError(ev.SocketError.name))

    e.Completed += done
    assert getattr(sock, method)(e) is True, "expected the operation to be pending"


def _await(once: Once, loop: Loop, make: Callable[[], Any]) -> None:
    fut = loop.start(make)
    fut.add_done_callback(lambda f: once.hit(f.result()) if f.exception() is None else once.hit(error=f.exception()))


# -- sends: form name -> start(sock, buffer, once, loop) ------------------------------------------
Starter = Callable[[Socket, Any, Once, Loop], None]


def _e_buffer(buf: Any) -> Callable[[SocketAsyncEventArgs], None]:
    def setup(e: SocketAsyncEventArgs) -> None:
        e.SetBuffer(buf, 0, len(buf))

    return setup


def _e_list(buf: Any, ep: Any = None) -> Callable[[SocketAsyncEventArgs], None]:
    def setup(e: SocketAsyncEventArgs) -> None:
        e.BufferList = [buf]
        if ep is not None:
            e.RemoteEndPoint = ep

    return setup


def _e_buffer_to(buf: Any, ep: Any) -> Callable[[SocketAsyncEventArgs], None]:
    def setup(e: SocketAsyncEventArgs) -> None:
        e.SetBuffer(buf, 0, len(buf))
        e.RemoteEndPoint = ep

    return setup


SENDS: dict[str, Starter] = {
    "sync Send": lambda s, b, o, lp: _thread(o, lambda: s.Send(b)),
    "sync Send list": lambda s, b, o, lp: _thread(o, lambda: s.Send([b])),
    "sync SendTo": lambda s, b, o, lp: _thread(o, lambda: s.SendTo(b, s.RemoteEndPoint)),
    "BeginSend": lambda s, b, o, lp: _begin(
        o, s, lambda cb: s.BeginSend(b, 0, len(b), SocketFlags.None_, cb, None), "EndSend"
    ),
    "BeginSend list": lambda s, b, o, lp: _begin(
        o, s, lambda cb: s.BeginSend([b], SocketFlags.None_, cb, None), "EndSend"
    ),
    "BeginSendTo": lambda s, b, o, lp: _begin(
        o, s, lambda cb: s.BeginSendTo(b, 0, len(b), SocketFlags.None_, s.RemoteEndPoint, cb, None), "EndSendTo"
    ),
    "SendAsync(e)": lambda s, b, o, lp: _event(o, s, _e_buffer(b), "SendAsync"),
    "SendAsync(e) list": lambda s, b, o, lp: _event(o, s, _e_list(b), "SendAsync"),
    "SendToAsync(e)": lambda s, b, o, lp: _event(o, s, _e_buffer_to(b, s.RemoteEndPoint), "SendToAsync"),
    "await SendAsync": lambda s, b, o, lp: _await(o, lp, lambda: s.SendAsync(b, SocketFlags.None_)),
    "await SendAsync list": lambda s, b, o, lp: _await(o, lp, lambda: s.SendAsync([b], SocketFlags.None_)),
    "await SendToAsync": lambda s, b, o, lp: _await(
        o, lp, lambda: s.SendToAsync(b, SocketFlags.None_, s.RemoteEndPoint)
    ),
}


def _pending_send(made: Made, form: str, buf: Any, loop: Loop) -> tuple[Socket, Socket, int, Once]:
    client, server = made.pair()
    server.ReceiveTimeout = int(WAIT * 1000)
    filled = fill(client)
    once = Once()
    SENDS[form](client, buf, once, loop)
    assert pending(client), "the send did not wait"
    assert not once.done.is_set()
    return client, server, filled, once


@pytest.mark.parametrize("form", list(SENDS))
def test_whole_bytearray_send_is_exported(made: Made, loop: Loop, form: str) -> None:
    """Defect 8: a resize while the send waits raises BufferError; exactly len(buffer) bytes go out."""
    ba = bytearray(PAYLOAD)
    client, server, filled, once = _pending_send(made, form, ba, loop)
    with pytest.raises(BufferError):
        ba.extend(bytes(SIZE))
    with pytest.raises(BufferError):
        del ba[:10]
    got = receive_exactly(server, filled + SIZE)
    assert once.result() == SIZE
    assert got[filled:] == PAYLOAD
    # Nothing more arrives: the resize changed nothing on the wire.
    server.Blocking = False
    assert server.Available == 0


@pytest.mark.parametrize("form", list(SENDS))
def test_send_contents_changed_while_pending(made: Made, loop: Loop, form: str) -> None:
    """Contents may change (same size): each byte sent is the old or the new one at its place.

    (Not a prefix of the old and the rest of the new: the change may run while another thread is
    in the kernel copying the buffer, as it may in .NET.)"""
    ba = bytearray(PAYLOAD)
    client, server, filled, once = _pending_send(made, form, ba, loop)
    new = bytes(255 - (i % 256) for i in range(SIZE))
    ba[:] = new
    got = receive_exactly(server, filled + SIZE)[filled:]
    assert once.result() == SIZE
    assert len(got) == SIZE
    assert all(g in (o, n) for g, o, n in zip(got, PAYLOAD, new, strict=True))


@pytest.mark.parametrize("form", list(SENDS))
def test_send_memoryview_released_while_pending(made: Made, loop: Loop, form: str) -> None:
    """The caller's memoryview released while the send waits: the send still has its memory."""
    ba = bytearray(PAYLOAD)
    mv = memoryview(ba)
    client, server, filled, once = _pending_send(made, form, mv, loop)
    try:
        mv.release()
    except BufferError:
        pass  # still exported by the caller's own view: refused, also fine
    with pytest.raises(BufferError):
        ba.extend(b"x")
    got = receive_exactly(server, filled + SIZE)
    assert once.result() == SIZE
    assert got[filled:] == PAYLOAD


# -- receives: form name -> start(sock, buffers, once, loop); buffers is a list of two -----------
RStarter = Callable[[Socket, list[Any], Once, Loop], None]
ANY = IPEndPoint(loopback(AddressFamily.InterNetwork), 0)


def _e_two(bufs: list[Any], ep: Any = None) -> Callable[[SocketAsyncEventArgs], None]:
    def setup(e: SocketAsyncEventArgs) -> None:
        e.BufferList = list(bufs)
        if ep is not None:
            e.RemoteEndPoint = ep

    return setup


def _e_one(buf: Any, ep: Any = None) -> Callable[[SocketAsyncEventArgs], None]:
    def setup(e: SocketAsyncEventArgs) -> None:
        e.SetBuffer(buf, 0, len(buf))
        if ep is not None:
            e.RemoteEndPoint = ep

    return setup


def _first(r: Any) -> Any:
    return r[0] if isinstance(r, tuple) else r


RECEIVES: dict[str, tuple[bool, RStarter]] = {
    # name: (uses both buffers, starter)
    "sync Receive": (False, lambda s, b, o, lp: _thread(o, lambda: s.Receive(b[0]))),
    "sync Receive list": (True, lambda s, b, o, lp: _thread(o, lambda: s.Receive(list(b)))),
    "sync ReceiveFrom": (False, lambda s, b, o, lp: _thread(o, lambda: _first(s.ReceiveFrom(b[0], ANY)))),
    "BeginReceive": (
        False,
        lambda s, b, o, lp: _begin(o, s, lambda cb: s.BeginReceive(b[0], 0, len(b[0]), 0, cb, None), "EndReceive"),
    ),
    "BeginReceive list": (
        True,
        lambda s, b, o, lp: _begin(o, s, lambda cb: s.BeginReceive(list(b), 0, cb, None), "EndReceive"),
    ),
    "BeginReceiveFrom": (
        False,
        lambda s, b, o, lp: _begin(
            o, s, lambda cb: s.BeginReceiveFrom(b[0], 0, len(b[0]), 0, ANY, cb, None), "EndReceiveFrom"
        ),
    ),
    "ReceiveAsync(e)": (False, lambda s, b, o, lp: _event(o, s, _e_one(b[0]), "ReceiveAsync")),
    "ReceiveAsync(e) list": (True, lambda s, b, o, lp: _event(o, s, _e_two(b), "ReceiveAsync")),
    "ReceiveFromAsync(e)": (False, lambda s, b, o, lp: _event(o, s, _e_one(b[0], ANY), "ReceiveFromAsync")),
    "ReceiveFromAsync(e) list": (True, lambda s, b, o, lp: _event(o, s, _e_two(b, ANY), "ReceiveFromAsync")),
    "await ReceiveAsync": (False, lambda s, b, o, lp: _await(o, lp, lambda: s.ReceiveAsync(b[0], SocketFlags.None_))),
    "await ReceiveAsync list": (
        True,
        lambda s, b, o, lp: _await(o, lp, lambda: s.ReceiveAsync(list(b), SocketFlags.None_)),
    ),
    "await ReceiveFromAsync": (
        False,
        lambda s, b, o, lp: _await(o, lp, lambda: s.ReceiveFromAsync(b[0], SocketFlags.None_, ANY)),
    ),
}


def _pending_receive(made: Made, form: str, bufs: list[Any], loop: Loop) -> tuple[Socket, Socket, Once]:
    rx = made.udp()
    tx = made.udp()
    once = Once()
    RECEIVES[form][1](rx, bufs, once, loop)
    assert pending(rx), "the receive did not wait"
    assert not once.done.is_set()
    return rx, tx, once


def _landed(form: str, bufs: list[Any], n: int) -> bytes:
    both = RECEIVES[form][0]
    data = bytes(bufs[0]) + (bytes(bufs[1]) if both else b"")
    return data[:n]


@pytest.mark.parametrize("form", list(RECEIVES))
def test_receive_buffer_resized_while_pending(made: Made, loop: Loop, form: str) -> None:
    """Defect 7 (the BufferList forms): a resize fails in the caller; the datagram lands, completion once."""
    bufs = [bytearray(20), bytearray(40)]
    rx, tx, once = _pending_receive(made, form, bufs, loop)
    for b in bufs if RECEIVES[form][0] else bufs[:1]:
        with pytest.raises(BufferError):
            b.extend(bytes(100))
        with pytest.raises(BufferError):
            del b[:5]
    tx.SendTo(DATAGRAM, rx.LocalEndPoint)
    n = _first(once.result())
    expected = DATAGRAM if RECEIVES[form][0] else DATAGRAM[:20]
    assert n == len(expected)
    assert _landed(form, bufs, n) == expected


def test_receive_from_async_buffer_list_resized_while_pending(made: Made) -> None:
    """Defect 7 as reported: ReceiveFromAsync(e) with a BufferList, one buffer shrunk while pending."""
    rx, tx = made.udp(), made.udp()
    a, b = bytearray(20), bytearray(40)
    e = SocketAsyncEventArgs()
    e.BufferList = [a, (b, 0, 40)]
    e.RemoteEndPoint = ANY
    fired: list[SocketError] = []
    got = threading.Event()
    e.Completed += lambda _s, ev: (fired.append(ev.SocketError), got.set())
    assert rx.ReceiveFromAsync(e) is True
    with pytest.raises(BufferError):
        del b[10:]
    tx.SendTo(DATAGRAM, rx.LocalEndPoint)
    assert got.wait(WAIT)
    assert fired == [SocketError.Success]
    assert e.BytesTransferred == len(DATAGRAM)
    assert bytes(a + b)[: len(DATAGRAM)] == DATAGRAM
    assert e.RemoteEndPoint == tx.LocalEndPoint


@pytest.mark.parametrize("form", list(RECEIVES))
def test_receive_contents_changed_while_pending(made: Made, loop: Loop, form: str) -> None:
    """Contents written meanwhile are overwritten by the datagram, as in .NET (the array is shared)."""
    bufs = [bytearray(20), bytearray(40)]
    rx, tx, once = _pending_receive(made, form, bufs, loop)
    bufs[0][:] = b"\xff" * 20
    bufs[1][:] = b"\xff" * 40
    tx.SendTo(DATAGRAM, rx.LocalEndPoint)
    n = _first(once.result())
    assert _landed(form, bufs, n) == (DATAGRAM if RECEIVES[form][0] else DATAGRAM[:20])


@pytest.mark.parametrize("form", list(RECEIVES))
def test_receive_memoryview_released_while_pending(made: Made, loop: Loop, form: str) -> None:
    """The caller's memoryviews released while pending: the datagram still lands in the memory behind them."""
    backing = [bytearray(20), bytearray(40)]
    views = [memoryview(backing[0]), memoryview(backing[1])]
    rx, tx, once = _pending_receive(made, form, list(views), loop)
    for v in views:
        try:
            v.release()
        except BufferError:
            pass
    tx.SendTo(DATAGRAM, rx.LocalEndPoint)
    n = _first(once.result())
    assert _landed(form, backing, n) == (DATAGRAM if RECEIVES[form][0] else DATAGRAM[:20])


def _resizable(ba: bytearray) -> bool:
    try:
        ba.extend(b"x")
    except BufferError:
        return False
    del ba[-1:]
    return True


@pytest.mark.parametrize(
    "form", ["BeginSendTo udp", "BeginSendTo udp queued", "BeginSend tcp", "BeginSend tcp waited", "SendToAsync(e)"]
)
def test_send_buffer_resizable_once_sent(made: Made, form: str) -> None:
    """The export ends with the send: the buffer may be resized from the callback on, even while
    the IAsyncResult is kept (a callback that clears its bytearray to fill it again)."""
    ba = bytearray(PAYLOAD[:1000])
    in_callback: list[bool] = []
    kept: list[Any] = []
    done = threading.Event()

    def cb(ar: Any) -> None:
        kept.append(ar)
        in_callback.append(_resizable(ba))
        done.set()

    if form.startswith("BeginSendTo"):
        rx, tx = made.udp(), made.udp()
        tx.SendTo(b"bind", rx.LocalEndPoint)
        if form.endswith("queued"):
            # Another send already queued: this one completes on the engine's side, not in Begin.
            tx._io.enqueue_write(_blocker(tx))
        ar = tx.BeginSendTo(ba, 0, len(ba), 0, rx.LocalEndPoint, cb, None)
        if form.endswith("queued"):
            assert not done.is_set()
            tx._io.on_ready(False, True)
        assert done.wait(WAIT)
        assert tx.EndSendTo(ar) == len(ba)
    elif form.startswith("BeginSend"):
        client, server = made.pair()
        server.ReceiveTimeout = int(WAIT * 1000)
        filled = fill(client) if form.endswith("waited") else 0
        ar = client.BeginSend(ba, 0, len(ba), SocketFlags.None_, cb, None)
        receive_exactly(server, filled + len(ba))
        assert done.wait(WAIT)
        assert client.EndSend(ar) == len(ba)
    else:
        rx, tx = made.udp(), made.udp()
        tx.SendTo(b"bind", rx.LocalEndPoint)
        e = SocketAsyncEventArgs()
        e.SetBuffer(ba, 0, len(ba))
        e.RemoteEndPoint = rx.LocalEndPoint
        assert tx.SendToAsync(e) is False
        assert e.BytesTransferred == len(ba)
        in_callback.append(True)
        kept.append(e)
    assert in_callback == [True]
    assert _resizable(ba)
    assert kept


def _blocker(sock: Socket) -> Any:
    """A queued send that finishes when the queue is next served (an empty datagram to itself)."""
    from dotnet_sockets._engine import ops

    op = ops.SendToOp(sock._io, None, None)
    op.buf = b""
    op.flags = 0
    op.addr = sock._sock.getsockname()
    return op
