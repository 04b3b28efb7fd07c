"""The short steady state of BeginSend/BeginReceive/BeginAccept (issue 15, item 5).

Plainly valid calls make their system call at once, past the general machinery; every
other form takes the general path.  These tests pin that both give the same results,
that what would block still waits in order holding its buffer, and that the steady
state stays short (Python calls per operation).
"""

from __future__ import annotations

import gc
import inspect
import logging
import socket
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from conftest import WAIT, CallbackRecorder
from dotnet_sockets import (
    IAsyncResult,
    IPAddress,
    IPEndPoint,
    LingerOption,
    Socket,
    SocketFlags,
    SocketType,
    _socket_transfer,
)
from dotnet_sockets.telemetry import Telemetry
from socket_helpers import Made, fill, plain_receive_exactly, receive_exactly
from test_begin_send_to import trace  # noqa: F401 - the fixture that records every trace
from test_steady_paths import Record, _action, _free, _pair, sockets  # noqa: F401 - the harness, shared

NONE = SocketFlags.None_


@pytest.fixture
def make_socket() -> Iterator[Made]:
    made = Made()
    yield made
    made.dispose_all()


def _wait(ar: IAsyncResult) -> None:
    assert ar.AsyncWaitHandle.WaitOne(int(WAIT * 1000)), "the operation never completed"


# Each form of the same 5-byte send/receive: the first two are the steady state, the others
# go through the general path (keywords, a memoryview, a bytes-like object, an int subclass).
_SEND_FORMS: list[tuple[str, Callable[[Socket, bytes], IAsyncResult]]] = [
    ("flags enum", lambda s, d: s.BeginSend(d, 0, len(d), NONE, None, None)),
    ("flags int, no state", lambda s, d: s.BeginSend(d, 0, len(d), 0, None)),
    ("bytearray slice", lambda s, d: s.BeginSend(bytearray(b"--" + d), 2, len(d), 0, None, None)),
    ("keywords", lambda s, d: s.BeginSend(d, offset=0, size=len(d), socket_flags=0, callback=None, state=None)),
    ("memoryview", lambda s, d: s.BeginSend(memoryview(d), 0, len(d), NONE, None, None)),
    ("flags None", lambda s, d: s.BeginSend(d, 0, len(d), None, None, None)),
]


@pytest.mark.parametrize("form", [f for _, f in _SEND_FORMS], ids=[n for n, _ in _SEND_FORMS])
def test_every_send_form_gives_the_same_result_and_counts(make_socket: Made, form: Any) -> None:
    c, a = make_socket.pair()
    before = Telemetry.snapshot()
    ar = form(c, b"hello")
    assert ar.IsCompleted and ar.CompletedSynchronously
    assert c.EndSend(ar) == 5
    buf = bytearray(8)
    rar = a.BeginReceive(buf, 1, 7, NONE, None, None)
    _wait(rar)
    assert a.EndReceive(rar) == 5
    assert buf == b"\0hello\0\0"
    d = Telemetry.snapshot() - before
    assert (d.bytes_sent, d.bytes_received) == (5, 5)


@pytest.mark.parametrize("offset", [0, 3])
def test_a_receive_of_zero_bytes_takes_nothing(make_socket: Made, offset: int) -> None:
    # recv_into(buffer, 0) would fill the whole buffer: the steady state must not pass it 0.
    c, a = make_socket.pair()
    c.Send(b"waiting")
    buf = bytearray(b"........")
    assert a.Poll(int(WAIT * 1_000_000), 0)  # SelectRead: the data is there
    ar = a.BeginReceive(buf, offset, 0, NONE, None, None)
    _wait(ar)
    assert a.EndReceive(ar) == 0
    assert buf == b"........"
    assert a.Receive(buf) == 7 and buf[:7] == b"waiting"


def test_a_receive_into_part_of_a_buffer_writes_only_there(make_socket: Made) -> None:
    c, a = make_socket.pair()
    c.Send(b"abcdef")
    buf = bytearray(b"0123456789")
    ar = a.BeginReceive(buf, 3, 4, NONE, None, None)
    _wait(ar)
    assert a.EndReceive(ar) == 4
    assert buf == b"012abcd789"


@pytest.mark.parametrize("sliced", [False, True])
def test_a_send_that_would_block_holds_its_buffer_until_it_completes(make_socket: Made, sliced: bool) -> None:
    lst = make_socket.listener()
    peer = socket.create_connection(("127.0.0.1", lst.LocalEndPoint.Port), timeout=WAIT)
    with peer:
        s = make_socket.track(lst.Accept())
        filled = fill(s)
        data = bytearray(b"x" * 200_000)
        done = CallbackRecorder(s.EndSend)
        if sliced:
            ar = s.BeginSend(data, 10, len(data) - 20, NONE, done, None)
        else:
            ar = s.BeginSend(data, 0, len(data), NONE, done, None)
        assert not ar.IsCompleted
        with pytest.raises(BufferError):
            data.extend(b"!")  # exported while pending, as the general path's operation holds it
        got = plain_receive_exactly(peer, filled + (len(data) - 20 if sliced else len(data)))
        assert done.wait() and not done.errors
        assert done.results == [len(data) - 20 if sliced else len(data)]
        assert not ar.CompletedSynchronously
        data.extend(b"!")  # let go once complete
        assert set(got[filled:]) == {ord("x")}


def test_a_receive_that_would_block_completes_later_on_a_completion_thread(make_socket: Made) -> None:
    c, a = make_socket.pair()
    buf = bytearray(4)
    got = CallbackRecorder(a.EndReceive)
    ar = a.BeginReceive(buf, 0, 4, NONE, got, "state")
    assert not ar.IsCompleted and ar.AsyncState == "state"
    with pytest.raises(BufferError):
        buf.extend(b"!")  # the pending receive holds an export
    c.Send(b"ping")
    assert got.wait() and got.results == [4] and not got.errors
    assert not ar.CompletedSynchronously and buf == b"ping"


def test_tracing_on_takes_the_general_path_with_its_trace(
    make_socket: Made,
    trace: list[logging.LogRecord],  # noqa: F811 - the fixture imported above
) -> None:
    c, a = make_socket.pair()
    assert c.EndSend(c.BeginSend(b"hi", 0, 2, NONE, None, None)) == 2
    ar = a.BeginReceive(bytearray(2), 0, 2, NONE, None, None)
    _wait(ar)
    assert a.EndReceive(ar) == 2
    records = trace
    text = [r.getMessage() for r in records]
    for member in ("BeginSend", "EndSend", "BeginReceive", "EndReceive"):
        assert any(f" {member} " in t for t in text), (member, text)


def test_begin_accept_of_a_waiting_connection_completes_synchronously(make_socket: Made) -> None:
    lst = make_socket.listener()
    peer = socket.create_connection(("127.0.0.1", lst.LocalEndPoint.Port), timeout=WAIT)
    with peer:
        assert lst.Poll(int(WAIT * 1_000_000), 0)
        accepted = CallbackRecorder(lst.EndAccept)
        ar = lst.BeginAccept(accepted, "s")
        assert ar.CompletedSynchronously and ar.AsyncState == "s"
        assert accepted.wait() and not accepted.errors
        a = make_socket.track(accepted.results[0])
        assert a.Connected and a.RemoteEndPoint.Port == peer.getsockname()[1]


def test_the_steady_state_is_short(make_socket: Made) -> None:
    """Python calls of a completed BeginSend+EndSend+BeginReceive+EndReceive (the general path
    made 50); a layer added to it shows here first."""
    c, a = make_socket.pair()
    out, into = bytearray(64), bytearray(64)

    def once() -> None:
        c.EndSend(c.BeginSend(out, 0, 64, NONE, None, None))
        a.EndReceive(a.BeginReceive(into, 0, 64, NONE, None, None))

    once()
    calls: list[str] = []

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event == "call":
            calls.append(frame.f_code.co_name)

    collecting = gc.isenabled()
    gc.disable()  # a collection here would run unrelated finalizers inside the count
    sys.setprofile(profile)
    try:
        once()
    finally:
        sys.setprofile(None)
        if collecting:
            gc.enable()
    calls.remove("once")
    # 8 on the compiled path, 12 on the pure one (the operations' own __init__ and _complete);
    # 19 before End's checks and the tracing check were made without calls.
    assert len(calls) <= 12, calls


_FROM_FORMS: list[tuple[str, Callable[[Socket, bytearray, IPEndPoint], IAsyncResult]]] = [
    ("steady", lambda u, b, ep: u.BeginReceiveFrom(b, 1, 7, NONE, ep, None, None)),
    ("flags int", lambda u, b, ep: u.BeginReceiveFrom(b, 1, 7, 0, ep, None, None)),
    ("flags None", lambda u, b, ep: u.BeginReceiveFrom(b, 1, 7, None, ep, None, None)),
    ("memoryview", lambda u, b, ep: u.BeginReceiveFrom(memoryview(b), 1, 7, NONE, ep, None, None)),
]


@pytest.mark.parametrize("form", [f for _, f in _FROM_FORMS], ids=[n for n, _ in _FROM_FORMS])
@pytest.mark.parametrize("ready", [True, False], ids=["ready", "pending"])
def test_every_receive_from_form_gives_the_same_result_and_counts(make_socket: Made, form: Any, ready: bool) -> None:
    u, sender = make_socket.udp(), make_socket.udp()
    any_ep = IPEndPoint(IPAddress.Any, 0)
    buf = bytearray(8)
    before = Telemetry.snapshot()
    if ready:
        sender.SendTo(b"hello", u.LocalEndPoint)
        assert u.Poll(int(WAIT * 1_000_000), 0)
    ar = form(u, buf, any_ep)
    assert ar.CompletedSynchronously == ready
    if not ready:
        sender.SendTo(b"hello", u.LocalEndPoint)
    _wait(ar)
    n, ep = u.EndReceiveFrom(ar)
    assert (n, ep) == (5, sender.LocalEndPoint)
    assert buf == b"\0hello\0\0"
    d = Telemetry.snapshot() - before
    assert (d.bytes_received, d.datagrams_received) == (5, 1)


@pytest.mark.parametrize("offset", [0, 3])
def test_a_receive_from_of_zero_bytes_takes_no_bytes(make_socket: Made, offset: int) -> None:
    u, sender = make_socket.udp(), make_socket.udp()
    sender.SendTo(b"datagram", u.LocalEndPoint)
    assert u.Poll(int(WAIT * 1_000_000), 0)
    buf = bytearray(b"........")
    ar = u.BeginReceiveFrom(buf, offset, 0, NONE, IPEndPoint(IPAddress.Any, 0), None, None)
    _wait(ar)
    assert u.EndReceiveFrom(ar)[0] == 0
    assert buf == b"........"


# -- the steady state against the general path, scenario by scenario (as tests/test_steady_paths.py) --


def _ended(rec: Record, end: Callable[[IAsyncResult], Any], ar: IAsyncResult) -> None:
    """Wait for ``ar`` (bounded), then record End's outcome and whether it completed at once."""
    rec.note("sync", ar.CompletedSynchronously)
    _wait(ar)
    rec.outcome(lambda: end(ar))


def _begin_end(rec: Record, begin: Callable[[], IAsyncResult], end: Callable[[IAsyncResult], Any]) -> None:
    """Begin and End with an audit hook of the scenario's own on top (no outcome() around the
    Begin, whose event recorder would hide it)."""
    try:
        ar = begin()
    except Exception as exc:  # noqa: BLE001 - the outcome is the point
        rec.note("begin raised", type(exc).__name__, getattr(getattr(exc, "SocketErrorCode", None), "name", None))
        return
    _ended(rec, end, ar)


def _begin_scenarios(make: Callable[..., Socket]) -> list[Any]:
    rec = Record()
    rb = bytearray(64)

    # Stream: data there, slices, zero bytes, then the peer's shutdown.
    c, s = _pair(make)
    rec.outcome(lambda: _ended(rec, c.EndSend, c.BeginSend(bytearray(b"0123456789"), 2, 5, NONE, None, None)))
    rec.outcome(lambda: _ended(rec, s.EndReceive, s.BeginReceive(rb, 3, 10, NONE, None)))
    rec.note("got", bytes(rb[:16]), _free(rb))
    rec.outcome(lambda: _ended(rec, c.EndSend, c.BeginSend(b"abc", 0, 3, 0, None, None)))
    rec.outcome(lambda: _ended(rec, s.EndReceive, s.BeginReceive(rb, 0, 0, 0, None, None)))
    rec.outcome(lambda: _ended(rec, s.EndReceive, s.BeginReceive(rb, 0, 64, 0, None, None)))
    c.Shutdown(1)
    rec.outcome(lambda: _ended(rec, s.EndReceive, s.BeginReceive(rb, 0, 64, NONE, None, None)))

    # A receive that waits for data, with a callback; a send that waits for room.
    c, s = _pair(make)
    got = CallbackRecorder(s.EndReceive)
    ar = s.BeginReceive(rb, 0, 8, NONE, got, "st")
    rec.note("pending", ar.IsCompleted, _free(rb))
    c._sock.send(b"late")  # raw: no telemetry of its own
    rec.note("callback", got.wait(), got.results, got.errors, ar.CompletedSynchronously, bytes(rb[:4]), _free(rb))
    c.SendBufferSize = 4096
    big = bytearray(1 << 20)
    ar = c.BeginSend(big, 0, len(big), NONE, None, None)
    rec.note("big pending", ar.IsCompleted, _free(big))
    rec.note("big arrived", len(receive_exactly(s, len(big))))
    _ended(rec, c.EndSend, ar)
    rec.note("big free", _free(big))

    # Errors: a reset peer, a closed socket, an audit hook that closes it or resizes the buffer.
    c, s = _pair(make)
    s.LingerState = LingerOption(True, 0)
    s.Close()
    wb = bytearray(100)
    for _ in range(3):
        rec.outcome(lambda: _ended(rec, c.EndSend, c.BeginSend(wb, 0, 100, NONE, None, None)))
    rec.outcome(lambda: _ended(rec, c.EndReceive, c.BeginReceive(rb, 0, 8, NONE, None, None)))
    rec.note("free after error", _free(wb), _free(rb))
    c.Close()
    rec.outcome(lambda: c.BeginSend(wb, 0, 100, NONE, None, None))
    rec.outcome(lambda: c.BeginReceive(rb, 0, 8, NONE, None, None))
    c, s = _pair(make)
    _action.append(lambda event, args: args[0].Close())
    try:
        _begin_end(rec, lambda: c.BeginSend(wb, 0, 100, NONE, None, None), c.EndSend)
        _begin_end(rec, lambda: s.BeginReceive(rb, 0, 8, NONE, None, None), s.EndReceive)
    finally:
        _action.pop()
    rec.note("free after close in hook", _free(wb), _free(rb))

    def shrink(event: str, args: tuple[Any, ...]) -> None:
        try:
            del victim[:]
        except BufferError:
            rec.note("resize refused in", event)

    c, s = _pair(make)
    victim = bytearray(b"x" * 32)
    _action.append(shrink)
    try:
        _begin_end(rec, lambda: c.BeginSend(victim, 0, 32, NONE, None, None), c.EndSend)
        _begin_end(rec, lambda: s.BeginReceive(victim, 0, 32, NONE, None, None), s.EndReceive)
    finally:
        _action.pop()
    rec.note("victim", len(victim), _free(victim))

    # Datagrams: BeginReceiveFrom ready, waiting, of another family, unbound; a connected pair.
    a = make(SocketType.Dgram)
    b = make(SocketType.Dgram)
    a.Bind(IPEndPoint(IPAddress.Loopback, 0))
    b.Bind(IPEndPoint(IPAddress.Loopback, 0))
    any_ep = IPEndPoint(IPAddress.Any, 0)
    a.SendTo(bytearray(b"hello"), b.LocalEndPoint)
    assert b.Poll(int(WAIT * 1_000_000), 0)
    rec.outcome(lambda: _ended(rec, b.EndReceiveFrom, b.BeginReceiveFrom(rb, 4, 20, NONE, any_ep, None, None)))
    ar = b.BeginReceiveFrom(rb, 0, 64, NONE, any_ep, None, None)
    a.SendTo(b"later", b.LocalEndPoint)
    _ended(rec, b.EndReceiveFrom, ar)
    rec.note("dgrams", bytes(rb[:10]), _free(rb))
    rec.outcome(lambda: b.BeginReceiveFrom(rb, 0, 8, NONE, IPEndPoint(IPAddress.IPv6Any, 0), None, None))
    unbound = make(SocketType.Dgram)
    rec.outcome(lambda: unbound.BeginReceiveFrom(rb, 0, 8, NONE, any_ep, None, None))
    a.Connect(b.LocalEndPoint)
    b.Connect(a.LocalEndPoint)
    rec.outcome(lambda: _ended(rec, a.EndSend, a.BeginSend(bytearray(b"conn"), 0, 4, NONE, None, None)))
    assert b.Poll(int(WAIT * 1_000_000), 0)
    rec.outcome(lambda: _ended(rec, b.EndReceive, b.BeginReceive(rb, 0, 64, NONE, None, None)))
    return rec.items


def test_begin_shortcuts_match_the_general_path(
    sockets: Callable[..., Socket],  # noqa: F811 - the fixture imported above
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    steady = _begin_scenarios(sockets)
    with monkeypatch.context() as m:
        m.setattr(_socket_transfer, "_steady_range", lambda *args: False)
        general = _begin_scenarios(sockets)
    assert steady == general
    flat = repr(steady)
    for needle in (
        "ConnectionReset",
        "ObjectDisposedException",
        "InvalidOperationException",
        "resize refused",
        "OperationAborted",
    ):
        assert needle in flat, needle


def _end_outcome(fn: Callable[[], Any]) -> Any:
    try:
        return ("returned", fn())
    except Exception as exc:  # noqa: BLE001 - the outcome is what is compared
        return (type(exc).__name__, getattr(exc, "ParamName", None), getattr(exc, "SocketErrorCode", None), str(exc))


def _end_scenarios(make_socket: Made) -> list[Any]:
    """Every End... outcome of a steady Begin's result: right and wrong socket, wrong End, twice,
    None, a foreign object, an operation that failed (and the Connected it leaves)."""
    c, a = make_socket.pair()
    _, other = make_socket.pair()
    out: list[Any] = []
    sar = c.BeginSend(bytearray(b"abcd"), 0, 4, NONE, None, None)
    _wait(sar)
    rar = a.BeginReceive(bytearray(8), 0, 8, NONE, None, None)
    _wait(rar)
    for end in (
        lambda: a.EndSend(sar),  # another socket's result
        lambda: c.EndReceive(sar),  # a send's result in EndReceive
        lambda: a.EndSend(rar),  # a receive's result in EndSend
        lambda: other.EndReceive(rar),
        lambda: c.EndSend(None),  # type: ignore[arg-type]
        lambda: a.EndReceive(object()),  # type: ignore[arg-type]
        lambda: c.EndSend(sar),
        lambda: c.EndSend(sar),  # twice
        lambda: a.EndReceive(rar),
        lambda: a.EndReceive(rar),  # twice
    ):
        out.append(_end_outcome(end))
    c2, a2 = make_socket.pair()
    failing = a2.BeginReceive(bytearray(8), 0, 8, NONE, None, None)
    c2.LingerState = LingerOption(True, 0)
    c2.Close()  # a reset: the pending receive fails
    _wait(failing)
    out.append(_end_outcome(lambda: a2.EndReceive(failing)))
    out.append(a2.Connected)
    out.append(_end_outcome(lambda: a2.EndReceive(failing)))
    return out


def test_the_ends_shortcut_matches_the_general_path(make_socket: Made, monkeypatch: pytest.MonkeyPatch) -> None:
    """EndSend/EndReceive take a finished, error-free result of their own socket and kind without
    _end; everything else goes to _end.  Both give the same outcomes, ParamName and message."""
    steady = _end_scenarios(make_socket)
    with monkeypatch.context() as m:
        # Not False: the shortcut is not taken, and isEnabledFor still answers (off).
        m.setattr(_socket_transfer, "_trace_cached", lambda level: None)
        general = _end_scenarios(make_socket)
    assert steady == general
    flat = repr(steady)
    needles = ("'asyncResult'", "InvalidOperationException", "ArgumentNullException", "ConnectionReset", "returned', 4")
    for needle in needles:
        assert needle in flat, (needle, flat)


def test_tracing_switched_on_after_a_begin_traces_its_end(make_socket: Made) -> None:
    """The steady paths read logging's level cache; a level set later (which clears it) is seen
    by the very next End, as isEnabledFor would see it."""
    c, a = make_socket.pair()
    lg = logging.getLogger("dotnet_sockets")
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    old = lg.level
    lg.setLevel(logging.WARNING)
    handler = Keep(level=1)
    lg.addHandler(handler)
    try:
        sar = c.BeginSend(bytearray(b"hi"), 0, 2, NONE, None, None)
        _wait(sar)
        rar = a.BeginReceive(bytearray(2), 0, 2, NONE, None, None)
        _wait(rar)
        assert not lg.isEnabledFor(logging.DEBUG)  # cached: off
        assert records == []
        lg.setLevel(1)
        assert c.EndSend(sar) == 2
        assert a.EndReceive(rar) == 2
    finally:
        lg.removeHandler(handler)
        lg.setLevel(old)
    text = [r.getMessage() for r in records]
    for member in ("EndSend", "EndReceive"):
        assert any(f" {member} " in t for t in text), (member, text)


_PY_END_RECEIVE_FROM = inspect.unwrap(vars(_socket_transfer.SocketTransfer)["EndReceiveFrom"])


def _receive_from_end_scenarios(make_socket: Made) -> tuple[list[Any], int]:
    """Every outcome of the Python ``EndReceiveFrom`` (on both passes: the compiled pass has a C
    twin) on steady ``BeginReceiveFrom`` results: the datagram and its sender, another socket's
    result, EndReceive's result, twice, None, a foreign object, one aborted by Close; and how
    many of them went through ``_end``."""
    u, sender, other = make_socket.udp(), make_socket.udp(), make_socket.udp()
    any_ep = IPEndPoint(IPAddress.Any, 0)
    sender.SendTo(b"hello", u.LocalEndPoint)
    sender.SendTo(b"again", u.LocalEndPoint)
    assert u.Poll(int(WAIT * 1_000_000), 0)
    buf = bytearray(8)
    ar = u.BeginReceiveFrom(buf, 1, 7, NONE, any_ep, None, None)
    _wait(ar)
    sender.Connect(u.LocalEndPoint)
    u.Connect(sender.LocalEndPoint)
    rar = u.BeginReceive(bytearray(8), 0, 8, NONE, None, None)
    _wait(rar)
    out: list[Any] = []
    ends = [0]
    from_sender = sender.LocalEndPoint  # (each run's sockets are its own: compared as a bool)
    core_end = _socket_transfer.SocketCore._end

    def counted(self: Any, *args: Any) -> Any:
        ends[0] += 1
        return core_end(self, *args)

    with pytest.MonkeyPatch.context() as m:
        m.setattr(_socket_transfer.SocketCore, "_end", counted)
        for end in (
            lambda: _PY_END_RECEIVE_FROM(other, ar),  # another socket's result
            lambda: _PY_END_RECEIVE_FROM(u, rar),  # a receive's result
            lambda: _PY_END_RECEIVE_FROM(u, None),
            lambda: _PY_END_RECEIVE_FROM(u, object()),
            lambda: (lambda r: (r[0], r[1] == from_sender))(_PY_END_RECEIVE_FROM(u, ar)),
            lambda: _PY_END_RECEIVE_FROM(u, ar),  # twice
        ):
            out.append(_end_outcome(end))
        out.append(bytes(buf))
        pending = other.BeginReceiveFrom(bytearray(8), 0, 8, NONE, any_ep, None, None)
        other.Close()  # aborted: End raises what .NET raises on a disposed socket
        _wait(pending)
        out.append(_end_outcome(lambda: _PY_END_RECEIVE_FROM(other, pending)))
    return out, ends[0]


def test_the_receive_from_ends_shortcut_matches_the_general_path(
    make_socket: Made, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Python EndReceiveFrom takes a finished, error-free ReceiveFromOp of its own socket
    without _end, as EndReceive does; everything else goes to _end, with the same outcomes,
    ParamName and message."""
    steady, steady_ends = _receive_from_end_scenarios(make_socket)
    with monkeypatch.context() as m:
        # Not False: the shortcut is not taken, and isEnabledFor still answers (off).
        m.setattr(_socket_transfer, "_trace_cached", lambda level: None)
        general, general_ends = _receive_from_end_scenarios(make_socket)
    assert steady == general
    assert steady[4] == ("returned", (5, True)) and steady[6] == b"\0hello\0\0"
    assert general_ends == 7 and steady_ends == 6  # only the steady End skipped _end
    flat = repr(steady)
    for needle in ("'asyncResult'", "InvalidOperationException", "ArgumentNullException", "OperationAborted"):
        assert needle in flat, (needle, flat)
