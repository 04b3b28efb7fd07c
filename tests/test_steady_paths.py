"""The steady-state shortcuts of the synchronous calls give what the general path gives.

``Send``, ``Receive``, ``SendTo`` and ``ReceiveFrom`` in their loop shape (a ``bytearray`` or
``bytes``, exact ints, no flags; see ``_checks.steady_range``), and ``NetworkStream.Read`` /
``Write``, make their system call before building an operation.  Every scenario here runs twice,
once as it is and once with ``steady_range`` answering False (so the general path takes every
call), and the two records must be equal: what the call returned or raised (type, code,
message), the audit events it raised, the telemetry it counted, the bytes that arrived, and
whether the caller's buffer is free again afterwards.
"""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from conftest import WAIT
from dotnet_sockets import (
    AddressFamily,
    IPAddress,
    IPEndPoint,
    LingerOption,
    NetworkStream,
    ProtocolType,
    Socket,
    SocketFlags,
    SocketType,
    _socket_transfer,
    networkstream,
)
from dotnet_sockets.telemetry import Telemetry

NONE = SocketFlags.None_
_action: list[Callable[[str, tuple[Any, ...]], None]] = []


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if event.startswith("dotnet_sockets.Socket.") and _action:
        _action[-1](event, args)


sys.addaudithook(_hook)  # hooks cannot be removed: this one acts only inside record()


class Record:
    """What one scenario did, in a form two runs can compare."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self.ports: list[str] = []

    def note(self, *item: Any) -> None:
        self.items.append(item)

    def outcome(self, fn: Callable[[], Any]) -> None:
        events: list[str] = []
        _action.append(lambda event, args: events.append(event))
        before = Telemetry.snapshot()
        try:
            value = fn()
        except Exception as exc:  # noqa: BLE001 - the outcome is the point
            code = getattr(exc, "SocketErrorCode", None)
            inner = getattr(exc, "InnerException", None)
            self.note("raised", type(exc).__name__, None if code is None else code.name, type(inner).__name__)
        else:
            self.note("value", value if isinstance(value, int) else repr(type(value)), _shape(value))
        finally:
            _action.pop()
        self.note("events", events)
        d = Telemetry.snapshot() - before
        self.note("telemetry", d.bytes_sent, d.bytes_received, d.datagrams_sent, d.datagrams_received)


def _shape(value: Any) -> Any:
    if isinstance(value, tuple):
        return [value[0], type(value[1]).__name__]
    return None


def _free(buf: bytearray) -> bool:
    """True when nothing holds an export of ``buf`` (it can be resized).

    Collected first: the frames of an exception just recorded (``Record.outcome`` keeps its
    ``InnerException``, whose frames lead back to that method's) form a cycle that may name the
    range until the next collection, which comes sooner or later with each path's allocations.
    """
    gc.collect()
    try:
        buf.append(0)
    except BufferError:
        return False
    buf.pop()
    return True


@pytest.fixture
def sockets() -> Iterator[Callable[..., Socket]]:
    made: list[Socket] = []

    def make(st: SocketType = SocketType.Stream) -> Socket:
        s = Socket(AddressFamily.InterNetwork, st, ProtocolType.Tcp if st == SocketType.Stream else ProtocolType.Udp)
        made.append(s)
        return s

    yield make
    for s in made:
        s.Close()


def _pair(make: Callable[..., Socket]) -> tuple[Socket, Socket]:
    lst = make()
    lst.Bind(IPEndPoint(IPAddress.Loopback, 0))
    lst.Listen(4)
    c = make()
    c.Connect(lst.LocalEndPoint)
    s = lst.Accept()
    lst.Close()
    return c, s


def _scenarios(make: Callable[..., Socket]) -> list[Any]:
    rec = Record()
    rb = bytearray(64)

    # Stream: data there, a slice of the buffer, then the peer's shutdown.
    c, s = _pair(make)
    rec.outcome(lambda: c.Send(bytearray(b"0123456789"), 2, 5, NONE))
    rec.outcome(lambda: s.Receive(rb, 3, 10, NONE))
    rec.note("got", bytes(rb[:16]), _free(rb))
    rec.outcome(lambda: c.Send(b"abc", 0, 3, 0))
    rec.outcome(lambda: s.Receive(rb, 0, 64, 0))
    rec.outcome(lambda: c.Send(b"whole"))
    rec.outcome(lambda: c.Send(bytearray(b"array")))
    rec.outcome(lambda: s.Receive(rb))
    c.Shutdown(1)
    rec.outcome(lambda: s.Receive(rb, 0, 64, NONE))

    # Waits: a timeout, a non-blocking socket, data that arrives while the call waits.
    c, s = _pair(make)
    s.ReceiveTimeout = 50
    rec.outcome(lambda: s.Receive(rb, 0, 8, NONE))
    rec.note("free after timeout", _free(rb))
    s.Blocking = False
    rec.outcome(lambda: s.Receive(rb, 0, 8, NONE))
    s.Blocking = True
    s.ReceiveTimeout = int(WAIT * 1000)
    timer = threading.Timer(0.05, lambda: c._sock.send(b"late"))  # raw: no telemetry of its own
    timer.start()
    rec.outcome(lambda: s.Receive(rb, 0, 8, NONE))
    timer.join(WAIT)
    rec.note("late", bytes(rb[:4]), _free(rb))

    # A non-blocking stream send that fills the kernel's buffers reports what it handed over.
    c, s = _pair(make)
    c.SendBufferSize = 4096
    s.ReceiveBufferSize = 4096
    c.Blocking = False
    big = bytearray(1 << 20)
    sent: list[int] = []
    rec.outcome(lambda: sent.append(c.Send(big, 0, len(big), NONE)) or 0)
    rec.note("partial", 0 < sent[0] < len(big) if sent else None, _free(big))
    rec.outcome(lambda: c.Send(big, 0, len(big), NONE))

    # Errors of the call: a reset peer, a closed socket, an audit hook that closes it.
    c, s = _pair(make)
    s.LingerState = LingerOption(True, 0)
    s.Close()
    wb = bytearray(100)
    for _ in range(3):
        rec.outcome(lambda: c.Send(wb, 0, 100, NONE))
    rec.note("free after error", _free(wb))
    rec.outcome(lambda: c.Receive(rb, 0, 8, NONE))
    c.Close()
    rec.outcome(lambda: c.Send(wb, 0, 100, NONE))
    rec.outcome(lambda: c.Receive(rb, 0, 8, NONE))
    c, s = _pair(make)
    _action.append(lambda event, args: args[0].Close())
    try:
        rec.outcome(lambda: c.Send(wb, 0, 100, NONE))
        rec.outcome(lambda: s.Receive(rb, 0, 8, NONE))
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
        rec.outcome(lambda: c.Send(victim, 0, 32, NONE))
        rec.outcome(lambda: s.Receive(victim, 0, 32, NONE))
    finally:
        _action.pop()
    rec.note("victim", len(victim), _free(victim))

    # Datagrams: SendTo and ReceiveFrom in the loop shapes, a connected Send, errors.
    a = make(SocketType.Dgram)
    b = make(SocketType.Dgram)
    a.Bind(IPEndPoint(IPAddress.Loopback, 0))
    b.Bind(IPEndPoint(IPAddress.Loopback, 0))
    b.ReceiveTimeout = int(WAIT * 1000)
    any_ep = IPEndPoint(IPAddress.Any, 0)
    rec.outcome(lambda: a.SendTo(bytearray(b"hello"), 1, 3, NONE, b.LocalEndPoint))
    rec.outcome(lambda: a.SendTo(b"whole", b.LocalEndPoint))
    rec.outcome(lambda: b.ReceiveFrom(rb, 4, 20, NONE, any_ep))
    rec.outcome(lambda: b.ReceiveFrom(rb, any_ep))
    rec.note("dgrams", bytes(rb[:10]), _free(rb))
    rec.outcome(lambda: a.SendTo(bytearray(70000), 0, 70000, NONE, b.LocalEndPoint))
    rec.outcome(lambda: b.ReceiveFrom(rb, 0, 8, NONE, IPEndPoint(IPAddress.IPv6Any, 0)))
    b.ReceiveTimeout = 50
    rec.outcome(lambda: b.ReceiveFrom(rb, 0, 8, NONE, any_ep))
    a.SendTo(bytearray(40), b.LocalEndPoint)
    rec.outcome(lambda: b.ReceiveFrom(rb, 0, 8, NONE, any_ep))  # a datagram larger than the range
    unbound = make(SocketType.Dgram)
    rec.outcome(lambda: unbound.ReceiveFrom(rb, 0, 8, NONE, any_ep))
    fresh = make(SocketType.Dgram)
    rec.outcome(lambda: fresh.SendTo(bytearray(4), 0, 4, NONE, b.LocalEndPoint))
    rec.note("bound by SendTo", fresh.LocalEndPoint is not None)
    a.Connect(b.LocalEndPoint)
    rec.outcome(lambda: a.Send(bytearray(b"conn"), 0, 4, NONE))
    b.ReceiveTimeout = int(WAIT * 1000)
    rec.outcome(lambda: b.Receive(rb, 0, 64, NONE))

    # NetworkStream's Read and Write go to the same shortcuts.
    c, s = _pair(make)
    ws, rs = NetworkStream(c), NetworkStream(s)
    rs.ReadTimeout = 50
    rec.outcome(lambda: rs.Read(rb, 0, 8))
    rec.outcome(lambda: ws.Write(bytearray(b"stream"), 1, 4))
    rs.ReadTimeout = int(WAIT * 1000)
    rec.outcome(lambda: rs.Read(rb, 0, 64))
    rec.note("stream", bytes(rb[:4]), _free(rb))
    c.Close()
    rec.outcome(lambda: ws.Write(bytearray(3), 0, 3))
    return rec.items


def _python_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The compiled twins (``_speedups``) of the shortcuts off: their Python functions run."""
    for cls in (_socket_transfer.SocketTransfer, NetworkStream):
        for name, value in list(vars(cls).items()):
            wrapped = getattr(value, "__wrapped__", None)
            if wrapped is not None and type(value).__name__ == "FastMethod":
                monkeypatch.setattr(cls, name, wrapped)


def _general(monkeypatch: pytest.MonkeyPatch) -> None:
    never = lambda *args: False  # noqa: E731
    monkeypatch.setattr(_socket_transfer, "_steady_range", never)
    monkeypatch.setattr(networkstream, "_steady_range", never)
    _python_only(monkeypatch)


def test_steady_shortcuts_match_the_general_path(
    sockets: Callable[..., Socket], monkeypatch: pytest.MonkeyPatch
) -> None:
    steady = _scenarios(sockets)
    with monkeypatch.context() as m:
        _python_only(m)
        python_steady = _scenarios(sockets)
    with monkeypatch.context() as m:
        _general(m)
        general = _scenarios(sockets)
    assert steady == general
    assert python_steady == general
    # The record is not empty of the cases that matter (a test that cannot fail is a defect).
    flat = repr(steady)
    for needle in ("TimedOut", "WouldBlock", "MessageSize", "InvalidOperationException", "ObjectDisposedException"):
        assert needle in flat, needle


def test_shortcut_is_taken_in_the_loop_shape(sockets: Callable[..., Socket], monkeypatch: pytest.MonkeyPatch) -> None:
    """The loop shapes go the short way: no operation object is built when the call succeeds."""
    from dotnet_sockets._engine import ops

    built: list[str] = []
    for cls in (ops.StreamSendOnlyOp, ops.ReceiveOp, ops.SendToOp, ops.ReceiveFromOp, ops.DatagramSendOp):
        original = cls.__init__

        def counting(self: Any, *args: Any, _o: Any = original, **kwargs: Any) -> None:
            built.append(type(self).__name__)
            _o(self, *args, **kwargs)

        monkeypatch.setattr(cls, "__init__", counting)
    c, s = _pair(sockets)
    rb = bytearray(16)
    assert c.Send(bytearray(b"abcd"), 0, 4, NONE) == 4
    assert s.Receive(rb, 0, 16, NONE) == 4
    a = sockets(SocketType.Dgram)
    b = sockets(SocketType.Dgram)
    b.Bind(IPEndPoint(IPAddress.Loopback, 0))
    assert a.SendTo(bytearray(3), 0, 3, NONE, b.LocalEndPoint) == 3
    assert b.ReceiveFrom(rb, 0, 16, NONE, IPEndPoint(IPAddress.Any, 0))[0] == 3
    assert built == []
    # ...and a would-block builds one, once the call has failed with EAGAIN.
    s.ReceiveTimeout = 30
    with pytest.raises(Exception, match="timed out|TimedOut") as info:
        s.Receive(rb, 0, 16, NONE)
    assert getattr(info.value, "SocketErrorCode", None) is not None
    assert built == ["ReceiveOp"]


def test_one_audit_event_when_the_shortcut_waits(sockets: Callable[..., Socket]) -> None:
    c, s = _pair(sockets)
    events: list[str] = []
    _action.append(lambda event, args: events.append(event))
    try:
        timer = threading.Timer(0.05, lambda: c._sock.send(b"x"))
        timer.start()
        assert s.Receive(bytearray(4), 0, 4, NONE) == 1
        timer.join(WAIT)
    finally:
        _action.pop()
    assert events == ["dotnet_sockets.Socket.Receive"]
