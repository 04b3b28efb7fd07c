"""BeginSend/EndSend, BeginReceive/EndReceive and BeginReceiveFrom/EndReceiveFrom: the compiled
steady state gives what the Python paths give.

Their steady state (``(buffer, offset, size, socket_flags, callback[, state])`` on a connected
stream; with an ``IPEndPoint`` on a datagram socket) runs in ``_speedups.c`` where the accelerator
is built, in Python where not, and every other call goes down the general path.  Each generated
call below runs three ways on fresh sockets: as installed (compiled on the compiled pass), through
the Python functions, and down the general path (``steady_range`` answering False); the three
records must be equal: what Begin raises, what End returns or raises (and a second End), the
callback's calls, whether it completed synchronously, the audit events, the telemetry, the bytes
moved, whether the buffer was held while pending (and a send's let go at completion).  The cases
include a closed (or unbound) socket, an operation queued ahead, and audit hooks that close the
socket or refuse the call.  Then Close racing the completion from another thread, and steady
Begin calls racing Close: every operation completes exactly once, a send lets its buffer go.
"""

from __future__ import annotations

import cProfile
import functools
import gc
import inspect
import pstats
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import WAIT, CallbackRecorder
from dotnet_sockets import (
    AddressFamily,
    DnsEndPoint,
    IPAddress,
    IPEndPoint,
    ProtocolType,
    SelectMode,
    Socket,
    SocketFlags,
    SocketType,
    _accel,
    _socket_transfer,
)
from dotnet_sockets.telemetry import Telemetry
from socket_helpers import fill
from test_stream_paths import _buffer as _stream_buffer
from test_stream_paths import _pair

_events: list[list[str]] = []
_close_in_hook: list[Socket] = []  # the socket the next Begin's audit event closes
_deny_in_hook: list[str] = []  # the event the policy refuses next

_BEGINS = (
    "dotnet_sockets.Socket.BeginSend",
    "dotnet_sockets.Socket.BeginReceive",
    "dotnet_sockets.Socket.BeginReceiveFrom",
)


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if not event.startswith("dotnet_sockets.Socket."):
        return
    if _events:
        _events[-1].append(event)
    if _close_in_hook and event in _BEGINS:
        _close_in_hook.pop().Close()
    if _deny_in_hook and event == _deny_in_hook[0]:
        _deny_in_hook.clear()
        raise PermissionError("refused by the test's policy")


sys.addaudithook(_hook)  # hooks cannot be removed: this one acts only when a test asks

DATA = b"0123456789abcdef"
AHEAD = 100_000  # the send queued ahead of the one under test


class _Int(int):
    """An int subclass: never the steady state (exact ints only), whatever its value."""


class _Callable:
    """A callable object (not a function): counts its calls."""

    def __init__(self) -> None:
        self.calls = 0
        self.called = threading.Event()

    def __call__(self, ar: Any) -> None:
        self.calls += 1
        self.called.set()


@dataclass(frozen=True)
class Case:
    call: str  # "Send" or "Receive"
    buffer: str
    offset: Any
    size: Any
    flags: Any
    callback: str
    with_state: bool
    scene: str  # "plain", "closed", "ahead", "hook closes", "hook refuses"


def _buffer(kind: str) -> Any:
    """``test_stream_paths``'s buffers, and a read-only memoryview."""
    return memoryview(bytes(_stream_buffer("bytes"))) if kind == "readonly" else _stream_buffer(kind)


def _exported(buf: Any) -> bool | None:
    """Whether something holds an export of ``buf`` (None: not a bytearray)."""
    if type(buf) is not bytearray:
        return None
    try:
        buf.append(0)
    except BufferError:
        return True
    buf.pop()
    return False


def _raised(exc: Exception) -> tuple[Any, ...]:
    code = getattr(exc, "SocketErrorCode", None)
    return ("raised", type(exc).__name__, getattr(exc, "ParamName", None), None if code is None else code.name)


def _outcome(fn: Callable[[], Any]) -> tuple[Any, ...]:
    try:
        value = fn()
    except Exception as exc:  # noqa: BLE001 - the outcome is the point
        return _raised(exc)
    return ("value", value if isinstance(value, int) else type(value).__name__)


def _method(name: str, way: str) -> Callable[..., Any]:
    value = vars(_socket_transfer.SocketTransfer)[name]
    return value if way == "installed" else inspect.unwrap(value)


def _begin(
    m: pytest.MonkeyPatch,
    way: str,
    scene: str,
    begin: Callable[..., Any],
    sock: Socket,
    args: tuple[Any, ...],
    event: str,
) -> tuple[Any, tuple[Any, ...]]:
    """``begin(sock, *args)`` down ``way`` in ``scene`` (the socket closed before, or an audit hook
    that closes it or refuses ``event``, armed for this call only): (the result or None, what it
    raised)."""
    if way == "general":
        m.setattr(_socket_transfer, "_steady_range", lambda *a: False)
    if scene == "closed":
        sock.Close()
    elif scene == "hook closes":
        _close_in_hook.append(sock)
    elif scene == "hook refuses":
        _deny_in_hook.append(event)
    try:
        return begin(sock, *args), ("began",)
    except Exception as exc:  # noqa: BLE001 - the outcome is the point
        return None, _raised(exc)
    finally:
        _close_in_hook.clear()
        _deny_in_hook.clear()


def _read_to_end(raw: socket.socket, out: bytearray) -> None:
    try:
        raw.settimeout(WAIT)
        while chunk := raw.recv(65536):
            out += chunk
    except OSError:
        pass  # closed meanwhile: what was read is the record


def _run(case: Case, way: str) -> tuple[Any, ...]:  # noqa: C901 - one scenario, spelled out
    c, s = _pair()
    # A loop's steady state: the peer's endpoint known (the first call of a new socket asks the
    # kernel for it in Python, so the compiled path would never be reached without this).
    assert c.RemoteEndPoint is not None and s.RemoteEndPoint is not None
    sock = c if case.call == "Send" else s
    moved = bytearray()
    reader: threading.Thread | None = None
    ahead: Any = None
    filled = 0
    try:
        if case.scene == "ahead":
            if case.call == "Receive":
                ahead = s.BeginReceive(bytearray(4), 0, 4, 0, None, None)  # waits: nothing sent yet
            else:
                filled = fill(c)
                # Counted from here: how much of it leaves before the call under test is the
                # kernel's business, all of it has left once that call completes.
                before = Telemetry.snapshot()
                ahead = c.BeginSend(bytearray(AHEAD), 0, AHEAD, 0, None, None)
            assert not ahead.IsCompleted
        elif case.call == "Receive":
            c._sock.send(DATA)  # raw: no telemetry or audit of its own
        buf = _buffer(case.buffer)
        callback: Any = {
            "none": None,
            "recorder": CallbackRecorder(),
            "object": _Callable(),
            "not callable": 5,
        }[case.callback]
        args = (buf, case.offset, case.size, case.flags, callback) + (("state",) if case.with_state else ())
        begin, end = _method(f"Begin{case.call}", way), _method(f"End{case.call}", way)
        with pytest.MonkeyPatch.context() as m:
            _events.append([])
            if not (case.scene == "ahead" and case.call == "Send"):
                before = Telemetry.snapshot()
            ar, began = _begin(m, way, case.scene, begin, sock, args, f"dotnet_sockets.Socket.Begin{case.call}")
            held = ended = again = sync = calls = None
            if ar is not None:
                held = _exported(buf) if case.scene == "ahead" else None  # while pending
            if case.call == "Send" and (ar is not None or ahead is not None):
                reader = threading.Thread(target=_read_to_end, args=(s._sock, moved), daemon=True)
                reader.start()
            if ahead is not None and case.call == "Send":
                # All of it leaves, whatever the call under test did (a call refused at once does
                # not wait for it): the bytes counted are the same every way.
                assert ahead.AsyncWaitHandle.WaitOne(int(WAIT * 1000)), "the send ahead never completed"
            if ar is not None:
                if case.call == "Receive" and case.scene == "ahead":
                    c._sock.send(DATA)
                assert ar.AsyncWaitHandle.WaitOne(int(WAIT * 1000)), "never completed"
                if isinstance(callback, CallbackRecorder):
                    assert callback.wait()
                    assert callback.calls[0] is ar
                elif isinstance(callback, _Callable):
                    assert callback.called.wait(WAIT)
                ended = _outcome(lambda: end(sock, ar))
                again = _outcome(lambda: end(sock, ar))
                sync = (ar.CompletedSynchronously, ar.AsyncState)
                calls = (
                    len(callback.calls) if isinstance(callback, CallbackRecorder) else getattr(callback, "calls", None)
                )
            events = _events.pop()
            d = Telemetry.snapshot() - before
        if reader is not None:
            try:
                c._sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass  # closed: the peer reads to its end anyway
            reader.join(WAIT)
            assert not reader.is_alive()
        if isinstance(callback, CallbackRecorder):
            callback.calls.clear()
        ar = ahead = None  # (the lambdas above keep the cell, not the operation)
        released = _let_go(buf) if case.call == "Send" else None
        start = filled + AHEAD if case.scene == "ahead" else 0
        contents = bytes(buf) if isinstance(buf, bytearray) else None
        return (
            began,
            ended,
            again,
            sync,
            calls,
            held,
            released,
            events,
            d.bytes_sent,
            d.bytes_received,
            bytes(moved[start:]),
            contents,
        )
    finally:
        c.Close()
        s.Close()


_ODD = st.sampled_from([True, 1.5, "2", None, _Int(3), 2**70])
_INT = st.integers(-2, 18) | _ODD
_FLAGS = st.sampled_from([0, SocketFlags.None_, _Int(0), SocketFlags.Peek, SocketFlags.DontRoute, -1, None, 1.0])


@st.composite
def _cases(draw: st.DrawFn) -> Case:
    call = draw(st.sampled_from(["Send", "Receive"]))
    steady = draw(st.booleans())  # half the cases near the steady state, to reach the compiled path
    if steady:
        buffer = "bytearray" if call == "Receive" else draw(st.sampled_from(["bytearray", "bytes"]))
        offset = draw(st.integers(0, 16))
        size = draw(st.integers(0, 16 - offset))
        flags = draw(st.sampled_from([0, SocketFlags.None_, _Int(0)]))
    else:
        buffer = draw(st.sampled_from(["bytearray", "bytes", "memoryview", "readonly", "none", "list"]))
        offset, size, flags = draw(_INT), draw(_INT), draw(_FLAGS)
    return Case(
        call,
        buffer,
        offset,
        size,
        flags,
        draw(st.sampled_from(["none", "recorder", "object", "not callable"])),
        draw(st.booleans()),
        draw(st.sampled_from(["plain", "plain", "closed", "ahead", "hook closes", "hook refuses"])),
    )


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_cases())
def test_every_call_gives_what_the_python_and_general_paths_give(case: Case) -> None:
    installed = _run(case, "installed")
    assert installed == _run(case, "python")
    assert installed == _run(case, "general")


def test_the_steady_calls_are_compared_and_take_the_compiled_path() -> None:
    """The property reaches the steady state (a test that cannot fail is a defect), and there
    the compiled path runs no Python function of the package."""
    send = _run(Case("Send", "bytes", 0, 16, 0, "recorder", True, "plain"), "installed")
    assert send[:5] == (
        ("began",),
        ("value", 16),
        ("raised", "InvalidOperationException", None, None),
        (True, "state"),
        1,
    )
    assert send[7:11] == (["dotnet_sockets.Socket.BeginSend"], 16, 0, b"ABCDEFGHIJKLMNOP")
    receive = _run(Case("Receive", "bytearray", 2, 8, SocketFlags.None_, "none", False, "ahead"), "installed")
    assert receive[1] == ("value", 8) and receive[5] is True and receive[6] is None  # held while pending
    assert receive[-1] == b"AB456789abKLMNOP"  # the 4 bytes ahead went to the receive queued first
    names = {
        "BeginSend": "begin_send",
        "EndSend": "end_send",
        "BeginReceive": "begin_receive",
        "EndReceive": "end_receive",
    }
    for name, pep8 in names.items():
        method = vars(_socket_transfer.SocketTransfer)[name]
        assert (type(method).__name__ == "FastMethod") == _accel.ACCELERATED
        assert method is vars(_socket_transfer.SocketTransfer)[pep8]
        assert inspect.signature(method) == inspect.signature(inspect.unwrap(method))
        assert method.__doc__ == inspect.unwrap(method).__doc__
    c, s = _pair()
    try:
        out, into = bytearray(64), bytearray(64)
        prof = cProfile.Profile()
        for i in range(21):
            if i == 1:  # (the first call of each learns the peer's endpoint: _peer, in Python)
                prof.enable()
            c.EndSend(c.BeginSend(out, 0, 64, 0, None, None))
            assert s.Poll(int(WAIT * 1_000_000), SelectMode.SelectRead)
            s.EndReceive(s.BeginReceive(into, 0, 64, 0, None, None))
        prof.disable()
    finally:
        c.Close()
        s.Close()
    stats: Any = pstats.Stats(prof).stats
    ours = [
        f
        for f in stats
        if "_socket_transfer" in f[0] and f[2] in ("BeginSend", "EndSend", "BeginReceive", "EndReceive")
    ]
    assert (not ours) == _accel.ACCELERATED, ours


def _send_quietly(raw: socket.socket, data: bytes) -> None:
    try:
        raw.send(data)
    except OSError:
        pass  # the test closed it first: the race went the other way


def _let_go(buf: Any) -> bool:
    """Whether nothing holds ``buf`` any more: a send lets its data go at completion.

    (A receive's operation holds its range until the operation itself is gone, and a completion
    worker may refer to the last operation it ran until it runs another: when that happens is
    the dispatcher's business, so receives are not asked this; test_accelerator's leak check
    counts their references over thousands of rounds instead.)"""
    gc.collect()  # (an exception's frames may hold the range in a cycle)
    return _exported(buf) is not True


def _warm_pair() -> tuple[Socket, Socket]:
    c, s = _pair()
    assert c.RemoteEndPoint is not None and s.RemoteEndPoint is not None  # the steady state
    return c, s


@pytest.mark.parametrize("call", ["Send", "Receive"])
def test_close_racing_the_completion_completes_once_and_lets_the_buffer_go(
    call: str, tiny_switch_interval: Any
) -> None:
    """A pending operation completes as data moves while another thread closes the socket:
    whichever wins, the callback runs exactly once, End gives the bytes or .NET's error, and the
    buffer is let go (a send's at completion, a receive's with its IAsyncResult)."""
    deadline = time.monotonic() + WAIT
    outcomes: set[str] = set()
    for _ in range(30):
        if time.monotonic() > deadline:
            break
        c, s = _warm_pair()
        try:
            sock = c if call == "Send" else s
            rec = CallbackRecorder()
            if call == "Send":
                filled = fill(c)
                buf = bytearray(100_000)
                ar = c.BeginSend(buf, 0, len(buf), 0, rec, None)
                move = threading.Thread(target=_read_to_end, args=(s._sock, bytearray()), daemon=True)
            else:
                filled = 0
                buf = bytearray(8)
                ar = s.BeginReceive(buf, 0, 8, 0, rec, None)
                move = threading.Thread(target=_send_quietly, args=(c._sock, b"12345678"), daemon=True)
            assert not ar.IsCompleted and _exported(buf)
            move.start()
            sock.Close()
            assert rec.wait()
            end = _method(f"End{call}", "installed")
            out = _outcome(functools.partial(end, sock, ar))
            assert out in (
                ("value", len(buf)),
                ("raised", "SocketException", None, "OperationAborted"),
                ("raised", "ObjectDisposedException", None, None),
            ), out
            outcomes.add(out[0] if out[0] == "value" else out[1])
            assert len(rec.calls) == 1 and rec.calls[0] is ar
            if call == "Send":
                assert _let_go(buf)  # at completion, its IAsyncResult still held
            c.Close()
            move.join(WAIT)
            assert not move.is_alive()
            assert len(rec.calls) == 1
            rec.calls.clear()
            ar = None
            assert filled >= 0
        finally:
            c.Close()
            s.Close()
    assert outcomes  # (at least one round ran)


def test_begin_racing_close_from_another_thread(tiny_switch_interval: Any) -> None:
    """Steady BeginReceive/BeginSend calls on one thread while another closes the socket: each
    call raises ObjectDisposedException or returns an operation that completes exactly once."""
    for _round in range(10):
        c, s = _warm_pair()
        c._sock.send(bytes(4096))  # raw: every receive below finds data until the close
        results: list[Any] = []
        errors: list[str] = []
        rec = CallbackRecorder()
        started = threading.Event()

        def loop(
            s: Socket = s,
            results: list[Any] = results,
            errors: list[str] = errors,
            rec: CallbackRecorder = rec,
            started: threading.Event = started,
        ) -> None:
            out, into = bytearray(8), bytearray(8)
            for i in range(400):
                if i == 2:
                    started.set()
                try:
                    results.append(s.BeginReceive(into, 0, 8, 0, rec, None))
                    results.append(s.BeginSend(out, 0, 8, 0, rec, None))
                except Exception as exc:  # noqa: BLE001 - recorded
                    errors.append(type(exc).__name__)
                    return

        t = threading.Thread(target=loop, daemon=True)
        t.start()
        assert started.wait(WAIT)
        s.Close()
        t.join(WAIT)
        assert not t.is_alive()
        assert errors in ([], ["ObjectDisposedException"])
        for ar in results:
            assert ar.AsyncWaitHandle.WaitOne(int(WAIT * 1000))
        assert rec.wait(len(results))
        assert len(rec.calls) == len(results)
        assert {id(a) for a in rec.calls} == {id(a) for a in results}  # each once
        c.Close()


# -- BeginReceiveFrom / EndReceiveFrom on a datagram socket ------------------------------------

_BEGIN_FROM = "dotnet_sockets.Socket.BeginReceiveFrom"


@dataclass(frozen=True)
class FromCase:
    buffer: str
    offset: Any
    size: Any
    flags: Any
    endpoint: str
    callback: str
    state: int  # 0: neither callback nor state given, 1: callback only, 2: both
    scene: str  # "plain", "closed", "unbound", "ahead", "hook closes", "hook refuses"


def _endpoint(kind: str) -> Any:
    return {
        "any": IPEndPoint(IPAddress.Any, 0),
        "loopback": IPEndPoint(IPAddress.Loopback, 7),
        "ipv6": IPEndPoint(IPAddress.IPv6Any, 0),
        "dns": DnsEndPoint("localhost", 7),
        "none": None,
    }[kind]


def _udp() -> Socket:
    return Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)


def _run_from(case: FromCase, way: str) -> tuple[Any, ...]:  # noqa: C901 - one scenario, spelled out
    s = _udp()
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sender.bind(("127.0.0.1", 0))
        if case.scene != "unbound":
            s.Bind(IPEndPoint(IPAddress.Loopback, 0))
            to = ("127.0.0.1", s.LocalEndPoint.Port)
        ahead: Any = None
        if case.scene == "ahead":
            ahead = s.BeginReceiveFrom(bytearray(4), 0, 4, 0, IPEndPoint(IPAddress.Any, 0), None, None)
            assert not ahead.IsCompleted
        elif case.scene != "unbound":
            sender.sendto(DATA, to)
            assert s.Poll(int(WAIT * 1_000_000), SelectMode.SelectRead)  # arrived: a receive finds it
        buf = _buffer(case.buffer)
        callback: Any = {"none": None, "recorder": CallbackRecorder(), "not callable": 5}[case.callback]
        if not case.state:
            callback = None  # (not given)
        args = (buf, case.offset, case.size, case.flags, _endpoint(case.endpoint))
        args += ((callback,), (callback, "state"))[case.state - 1] if case.state else ()
        begin, end = _method("BeginReceiveFrom", way), _method("EndReceiveFrom", way)
        with pytest.MonkeyPatch.context() as m:
            _events.append([])
            before = Telemetry.snapshot()
            ar, began = _begin(m, way, case.scene, begin, s, args, _BEGIN_FROM)
            held = ended = again = sync = None
            if ar is not None:
                held = _exported(buf) if case.scene == "ahead" else None  # while pending
                if case.scene == "ahead":
                    sender.sendto(DATA, to)
                    sender.sendto(DATA[::-1], to)
                assert ar.AsyncWaitHandle.WaitOne(int(WAIT * 1000)), "never completed"
                if isinstance(callback, CallbackRecorder):
                    assert callback.wait()
                    callback.calls.clear()
                port = sender.getsockname()[1]
                ended = _outcome_from(functools.partial(end, s, ar), port)
                again = _outcome_from(functools.partial(end, s, ar), port)
                sync = (ar.CompletedSynchronously, ar.AsyncState)
            events = _events.pop()
            d = Telemetry.snapshot() - before
        ar = ahead = None
        contents = bytes(buf) if isinstance(buf, bytearray) else None
        counts = (d.bytes_received, d.datagrams_received)
        return (began, ended, again, sync, held, events, counts, contents)
    finally:
        s.Close()
        sender.close()


def _outcome_from(fn: Callable[[], Any], port: int) -> tuple[Any, ...]:
    """The result, the sender's endpoint told by its type, address and whether it is ``port``."""
    try:
        value = fn()
    except Exception as exc:  # noqa: BLE001 - the outcome is the point
        return _raised(exc)
    n, ep = value
    return ("value", type(value).__name__, n, type(ep).__name__, str(ep.Address), ep.Port == port, ep._sa[0])


@st.composite
def _from_cases(draw: st.DrawFn) -> FromCase:
    if draw(st.booleans()):  # near the steady state, to reach the compiled path
        buffer = "bytearray"
        offset = draw(st.integers(0, 16))
        size = draw(st.integers(0, 16 - offset))
        flags: Any = draw(st.sampled_from([0, SocketFlags.None_, _Int(0)]))
        endpoint = draw(st.sampled_from(["any", "any", "loopback", "ipv6"]))
    else:
        buffer = draw(st.sampled_from(["bytearray", "bytes", "memoryview", "readonly", "none"]))
        offset, size, flags = draw(_INT), draw(_INT), draw(_FLAGS)
        endpoint = draw(st.sampled_from(["any", "loopback", "ipv6", "dns", "none"]))
    return FromCase(
        buffer,
        offset,
        size,
        flags,
        endpoint,
        draw(st.sampled_from(["none", "recorder", "not callable"])),
        draw(st.sampled_from([0, 1, 2])),
        draw(st.sampled_from(["plain", "plain", "closed", "unbound", "ahead", "hook closes", "hook refuses"])),
    )


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_from_cases())
def test_every_receive_from_gives_what_the_python_and_general_paths_give(case: FromCase) -> None:
    installed = _run_from(case, "installed")
    assert installed == _run_from(case, "python")
    assert installed == _run_from(case, "general")


def test_the_steady_receive_from_is_compared_and_takes_the_compiled_path() -> None:
    steady = _run_from(FromCase("bytearray", 1, 8, 0, "any", "recorder", 2, "plain"), "installed")
    assert steady[0] == ("began",) and steady[1][:3] == ("value", "SocketReceiveFromResult", 8)
    assert steady[1][3:] == ("IPEndPoint", "127.0.0.1", True, "127.0.0.1")
    assert steady[3] == (True, "state")
    assert steady[5] == [_BEGIN_FROM] and steady[6] == (8, 1) and steady[7] == b"A01234567JKLMNOP"
    for name in ("BeginReceiveFrom", "EndReceiveFrom"):
        method = vars(_socket_transfer.SocketTransfer)[name]
        assert (type(method).__name__ == "FastMethod") == _accel.ACCELERATED
    s = _udp()
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.Bind(IPEndPoint(IPAddress.Loopback, 0))
        into, any_ep = bytearray(64), IPEndPoint(IPAddress.Any, 0)
        prof = cProfile.Profile()
        for _ in range(20):
            sender.sendto(b"x" * 64, ("127.0.0.1", s.LocalEndPoint.Port))
            assert s.Poll(int(WAIT * 1_000_000), SelectMode.SelectRead)
            prof.enable()
            n, _ep = s.EndReceiveFrom(s.BeginReceiveFrom(into, 0, 64, 0, any_ep, None, None))
            prof.disable()
            assert n == 64
    finally:
        s.Close()
        sender.close()
    stats: Any = pstats.Stats(prof).stats
    ours = {f[2] for f in stats if "_socket_transfer" in f[0]}
    assert bool(ours & {"BeginReceiveFrom", "EndReceiveFrom"}) != _accel.ACCELERATED, ours
