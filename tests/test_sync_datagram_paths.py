"""The synchronous ``ReceiveFrom`` on a datagram socket: the compiled steady state gives what the
Python paths give.

``ReceiveFrom(buffer, remote_ep)`` and ``ReceiveFrom(buffer, offset, size, socket_flags,
remote_ep)`` into a ``bytearray`` with an ``IPEndPoint`` run in ``_speedups_c/sync_datagram.c``
where the accelerator is built (the call, and the wait after a would-block: parked in the
socket's queue, the caller's thread polling the descriptor), in ``_receive_from_steady`` where
not, and every other call goes down the general path.  Each generated call runs three ways on
fresh sockets: as installed (compiled on the compiled pass), through the Python function, and
down the general path; the three records must be equal: the value (the count and the sender's
endpoint: its type, address, family and cached sockaddr) or the exception (type, ``ParamName``,
``SocketErrorCode``), the audit events, the telemetry, the bytes received, whether the buffer is
still held afterwards.  Over buffer kinds, offsets and sizes (valid and not), flags, endpoint
kinds (IPv4, IPv6, IPv4-mapped, ``DnsEndPoint``, None, the other family), IPv4, IPv6 and
dual-mode sockets, and scenes: a datagram waiting, one arriving while the call waits, none
(``ReceiveTimeout``: TimedOut; a non-blocking socket: WouldBlock), one larger than the buffer
(cut to it, as .NET on Linux), a closed or unbound socket, a receive queued ahead, audit hooks
that close the socket or refuse the call.  Then: the compiled path is really reached, and
``Close`` from another thread ends a blocking ``ReceiveFrom`` at once with .NET's error.
"""

from __future__ import annotations

import cProfile
import gc
import inspect
import pstats
import select
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

from conftest import WAIT
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
from dotnet_sockets.results import SocketReceiveFromResult
from dotnet_sockets.telemetry import Telemetry

_events: list[list[str]] = []
_close_in_hook: list[Socket] = []  # the socket the next ReceiveFrom's audit event closes
_deny_in_hook: list[bool] = []  # the next ReceiveFrom's audit event is refused

_EVENT = "dotnet_sockets.Socket.ReceiveFrom"


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if not event.startswith("dotnet_sockets.Socket."):
        return
    if _events:
        _events[-1].append(event)
    if event == _EVENT and _close_in_hook:
        _close_in_hook.pop().Close()
    if event == _EVENT and _deny_in_hook:
        _deny_in_hook.clear()
        raise PermissionError("refused by the test's policy")


sys.addaudithook(_hook)  # hooks cannot be removed: this one acts only when a test asks

DATA = b"0123456789abcdefghij"  # 20 bytes: more than some buffers below hold


class _Int(int):
    """An int subclass: never the steady state (exact ints only), whatever its value."""


class _EndPoint(IPEndPoint):
    """An IPEndPoint subclass: never the steady state (exact IPEndPoint only)."""


@dataclass(frozen=True)
class Case:
    shape: str  # "ep", "flags", "size", "full": which overload (by argument count)
    buffer: str
    offset: Any
    size: Any
    flags: Any
    family: str  # the receiving socket: "v4", "v6", "dual"
    ep: str  # the remote_ep passed
    scene: str


def _buffer(kind: str) -> Any:
    return {
        "bytearray": lambda: bytearray(b"." * 16),
        "bytes": lambda: b"." * 16,
        "memoryview": lambda: memoryview(bytearray(b"." * 16)),
        "readonly": lambda: memoryview(b"." * 16),
        "none": lambda: None,
    }[kind]()


def _endpoint(kind: str) -> Any:
    return {
        "v4": lambda: IPEndPoint(IPAddress.Any, 0),
        "v6": lambda: IPEndPoint(IPAddress.IPv6Any, 0),
        "mapped": lambda: IPEndPoint(IPAddress.Parse("::ffff:127.0.0.1"), 0),
        "dns": lambda: DnsEndPoint("localhost", 0),
        "none": lambda: None,
        "subclass": lambda: _EndPoint(IPAddress.Any, 0),
    }[kind]()


def _receiver(family: str) -> tuple[Socket, tuple[str, int], int]:
    """The receiving socket, bound on loopback; where to send to it, and the sender's family."""
    if family == "v4":
        s = Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)
        s.Bind(IPEndPoint(IPAddress.Loopback, 0))
        return s, ("127.0.0.1", s.LocalEndPoint.Port), socket.AF_INET
    s = Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp)
    if family == "dual":
        s.DualMode = True
        s.Bind(IPEndPoint(IPAddress.Parse("::ffff:127.0.0.1"), 0))
        return s, ("127.0.0.1", s.LocalEndPoint.Port), socket.AF_INET
    s.Bind(IPEndPoint(IPAddress.IPv6Loopback, 0))
    return s, ("::1", s.LocalEndPoint.Port), socket.AF_INET6


def _raised(exc: BaseException) -> tuple[Any, ...]:
    code = getattr(exc, "SocketErrorCode", None)
    return ("raised", type(exc).__name__, getattr(exc, "ParamName", None), None if code is None else code.name)


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


def _described(value: Any, sender_port: int) -> tuple[Any, ...]:
    """A ReceiveFrom's value, the sender's port (new each run) told only as 'the sender's'."""
    if not isinstance(value, SocketReceiveFromResult):
        return ("odd value", type(value).__name__)
    n, ep = value
    sa = getattr(ep, "_sa", "none")
    if isinstance(sa, tuple):
        sa = (sa[0], sa[1] == sender_port, *sa[2:])
    return (
        "value",
        type(value).__name__,
        n,
        type(ep).__name__,
        str(ep.Address),
        ep.Port == sender_port,
        ep.AddressFamily.name,
        sa,
        getattr(ep, "_sa_dual", "none") is None,
        value.ReceivedBytes == n and value.RemoteEndPoint is ep,
    )


def _method(way: str) -> Callable[..., Any]:
    value = vars(_socket_transfer.SocketTransfer)["ReceiveFrom"]
    return value if way == "installed" else inspect.unwrap(value)


def _args(case: Case, buf: Any, ep: Any) -> tuple[Any, ...]:
    return {
        "ep": (buf, ep),
        "flags": (buf, case.flags, ep),
        "size": (buf, case.size, case.flags, ep),
        "full": (buf, case.offset, case.size, case.flags, ep),
    }[case.shape]


def _run(case: Case, way: str) -> tuple[Any, ...]:  # noqa: C901 - one scenario, spelled out
    s, to, sender_family = _receiver(case.family)
    sender = socket.socket(sender_family, socket.SOCK_DGRAM)  # raw: no telemetry or audit of its own
    timer: threading.Timer | None = None
    ahead: Any = None
    try:
        sender.bind(("127.0.0.1" if sender_family == socket.AF_INET else "::1", 0))
        sender_port = sender.getsockname()[1]
        s.ReceiveTimeout = int(WAIT * 1000)  # bounds every wait below that data ends
        if case.scene == "unbound":
            s.Close()
            s = Socket(
                AddressFamily.InterNetwork if case.family == "v4" else AddressFamily.InterNetworkV6,
                SocketType.Dgram,
                ProtocolType.Udp,
            )
        elif case.scene == "ahead":
            hint = _endpoint("v4" if case.family == "v4" else "v6")
            ahead = s.BeginReceiveFrom(bytearray(4), 0, 4, 0, hint, None, None)
            sender.sendto(b"AHEAD", to)
            assert ahead.AsyncWaitHandle.WaitOne(int(WAIT * 1000))  # the next datagram is ours
            sender.sendto(DATA, to)
            ahead = None
        elif case.scene == "arrives":
            timer = threading.Timer(0.02, sender.sendto, (DATA, to))
            timer.start()
        elif case.scene == "timeout":
            s.ReceiveTimeout = 30
        elif case.scene == "nonblocking":
            s.Blocking = False
        else:
            sender.sendto(DATA * 4 if case.scene == "big" else DATA, to)
            _until_readable(s)
        buf = _buffer(case.buffer)
        ep = _endpoint(case.ep)
        receive = _method(way)
        with pytest.MonkeyPatch.context() as m:
            if way == "general":
                general = _socket_transfer.SocketTransfer._receive_from_general
                m.setattr(
                    _socket_transfer.SocketTransfer,
                    "_receive_from_steady",
                    lambda self, b, o, z, f, e: general(self, b, (o, z, f, e), {}),
                )
            if case.scene == "closed":
                s.Close()
            elif case.scene == "hook closes":
                _close_in_hook.append(s)
            elif case.scene == "hook refuses":
                _deny_in_hook.append(True)
            _events.append([])
            before = Telemetry.snapshot()
            try:
                out = _described(receive(s, *_args(case, buf, ep)), sender_port)
            except Exception as exc:  # noqa: BLE001 - the outcome is the point
                out = _raised(exc)
            finally:
                _close_in_hook.clear()
                _deny_in_hook.clear()
            events = _events.pop()
            d = Telemetry.snapshot() - before
        if timer is not None:
            timer.join(WAIT)
        held = _exported(buf)
        if held:
            gc.collect()  # (an exception's frames may hold the range in a cycle: a full collection is slow)
            held = _exported(buf)
        contents = bytes(buf) if isinstance(buf, (bytearray, bytes, memoryview)) else None
        return (out, events, d.bytes_received, d.datagrams_received, held, contents)
    finally:
        if timer is not None:
            timer.cancel()
        sender.close()
        s.Close()


def _until_readable(s: Socket) -> None:
    """The datagram sent has arrived (loopback delivers at once, but the test does not assume it)."""
    r, _, _ = select.select([s._sock], [], [], WAIT)
    assert r, "the datagram never arrived"


_ODD = st.sampled_from([True, 1.5, "2", None, _Int(3), 2**70])
_INT = st.integers(-2, 18) | _ODD
_FLAGS = st.sampled_from([0, SocketFlags.None_, _Int(0), SocketFlags.Peek, SocketFlags.DontRoute, -1, None])
_SCENES = [
    "plain",
    "plain",
    "arrives",
    "timeout",
    "nonblocking",
    "big",
    "closed",
    "unbound",
    "ahead",
    "hook closes",
    "hook refuses",
]


@st.composite
def _cases(draw: st.DrawFn) -> Case:
    family = draw(st.sampled_from(["v4", "v4", "v6", "dual"]))
    steady = draw(st.booleans())  # half the cases near the steady state, to reach the compiled path
    if steady:
        shape = draw(st.sampled_from(["ep", "flags", "size", "full"]))
        buffer = "bytearray"
        offset = draw(st.integers(0, 16)) if shape == "full" else 0
        size = draw(st.integers(0, 16 - offset))
        flags = draw(st.sampled_from([0, SocketFlags.None_, _Int(0)]))
        ep = {"v4": "v4", "v6": "v6", "dual": draw(st.sampled_from(["v4", "v6", "mapped"]))}[family]
    else:
        shape = draw(st.sampled_from(["ep", "flags", "size", "full"]))
        buffer = draw(st.sampled_from(["bytearray", "bytes", "memoryview", "readonly", "none"]))
        offset, size, flags = draw(_INT), draw(_INT), draw(_FLAGS)
        ep = draw(st.sampled_from(["v4", "v6", "mapped", "dns", "none", "subclass"]))
    return Case(shape, buffer, offset, size, flags, family, ep, draw(st.sampled_from(_SCENES)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_cases())
def test_every_call_gives_what_the_python_and_general_paths_give(case: Case) -> None:
    installed = _run(case, "installed")
    assert installed == _run(case, "python")
    assert installed == _run(case, "general")


def test_the_steady_calls_are_compared_and_take_the_compiled_path() -> None:
    """The property reaches the steady state and its results (a test that cannot fail is a
    defect), and there the compiled path runs no Python function of the package's ReceiveFrom."""
    plain = _run(Case("full", "bytearray", 2, 8, SocketFlags.None_, "v4", "v4", "plain"), "installed")
    assert plain[0] == (
        "value",
        "SocketReceiveFromResult",
        8,
        "IPEndPoint",
        "127.0.0.1",
        True,
        "InterNetwork",
        ("127.0.0.1", True),
        True,
        True,
    )
    assert plain[1:] == ([_EVENT], 8, 1, False, b"..01234567......")
    waited = _run(Case("ep", "bytearray", 0, 16, 0, "v6", "v6", "arrives"), "installed")
    assert waited[0][2:8] == (16, "IPEndPoint", "::1", True, "InterNetworkV6", ("::1", True, 0, 0))
    mapped = _run(Case("ep", "bytearray", 0, 16, 0, "dual", "v4", "plain"), "installed")
    assert mapped[0][4] == "::ffff:127.0.0.1" and mapped[0][6] == "InterNetworkV6"
    big = _run(Case("ep", "bytearray", 0, 16, 0, "v4", "v4", "big"), "installed")
    assert big[0][2] == 16 and big[5] == (DATA * 4)[:16]  # cut to the buffer, no error (.NET on Linux)
    assert _run(Case("ep", "bytearray", 0, 16, 0, "v4", "v4", "timeout"), "installed")[0] == (
        "raised",
        "SocketException",
        None,
        "TimedOut",
    )
    assert _run(Case("ep", "bytearray", 0, 16, 0, "v4", "v4", "nonblocking"), "installed")[0][3] == "WouldBlock"
    wrong = _run(Case("ep", "bytearray", 0, 16, 0, "v4", "v6", "plain"), "installed")
    assert wrong[0] == ("raised", "ArgumentException", "remoteEP", None)
    method = vars(_socket_transfer.SocketTransfer)["ReceiveFrom"]
    assert (type(method).__name__ == "FastMethod") == _accel.ACCELERATED
    assert method is vars(_socket_transfer.SocketTransfer)["receive_from"]
    assert inspect.signature(method) == inspect.signature(inspect.unwrap(method))
    assert method.__doc__ == inspect.unwrap(method).__doc__
    # A ping-pong on one thread: the datagram is there (the call) or arrives (the wait).
    a, _, _ = _receiver("v4")
    b, to, _ = _receiver("v4")
    try:
        out, into = bytearray(32), bytearray(64)
        any_ep = IPEndPoint(IPAddress.Any, 0)
        prof = cProfile.Profile()
        prof.enable()
        for i in range(20):
            if i % 2:
                threading.Timer(0.002, a.SendTo, (out, 0, 32, SocketFlags.None_, b.LocalEndPoint)).start()
            else:
                a.SendTo(out, 0, 32, SocketFlags.None_, b.LocalEndPoint)
            n, frm = b.ReceiveFrom(into, 0, 64, SocketFlags.None_, any_ep)
            assert n == 32 and frm.Port == a.LocalEndPoint.Port
        prof.disable()
    finally:
        a.Close()
        b.Close()
    stats: Any = pstats.Stats(prof).stats
    ours = [
        f[2]
        for f in stats
        if "_socket_transfer" in f[0] and f[2] in ("ReceiveFrom", "_receive_from_steady", "_receive_from_wait")
    ]
    assert (not ours) == _accel.ACCELERATED, ours
    # The wait's turns (park, the call once ready) are compiled too: syncwait's loop, the queue's
    # enqueue and retry_parked, the operation's attempt run no Python.
    waits = [
        f[2]
        for f in stats
        if (f[0].endswith("syncwait.py") and f[2] == "wait")
        or (f[0].endswith("opqueue.py") and f[2] in ("enqueue", "retry_parked"))
        or (f[0].endswith("ops.py") and f[2] in ("attempt", "received"))
    ]
    assert (not waits) == _accel.ACCELERATED, waits


@pytest.mark.parametrize("way", ["installed", "python"])
@pytest.mark.parametrize("family", ["v4", "dual"])
def test_close_from_another_thread_ends_a_blocking_receive_from_at_once(way: str, family: str) -> None:
    s, _, _ = _receiver(family)
    try:
        s.ReceiveTimeout = int(WAIT * 1000) * 4  # far beyond the bound below: only the close can end it
        buf = bytearray(8)
        receive = _method(way)
        result: list[tuple[Any, ...]] = []
        started = threading.Event()

        def wait() -> None:
            started.set()
            try:
                receive(s, buf, 0, 8, SocketFlags.None_, IPEndPoint(IPAddress.Any, 0))
                result.append(("returned",))
            except Exception as exc:  # noqa: BLE001 - the outcome is the point
                result.append(_raised(exc))

        t = threading.Thread(target=wait, daemon=True)
        t.start()
        assert started.wait(WAIT)
        deadline = time.monotonic() + WAIT
        while s._io.rpark is None and time.monotonic() < deadline:  # parked: it waits in poll
            time.sleep(0.001)
        assert s._io.rpark is not None
        t0 = time.monotonic()
        s.Close()
        t.join(WAIT)
        assert not t.is_alive()
        assert time.monotonic() - t0 < WAIT / 2
        assert result == [("raised", "SocketException", None, "Interrupted")]
        gc.collect()  # (the exception's frames, in a cycle with this test's closures, held the range)
        assert _exported(buf) is False
    finally:
        s.Close()


def test_a_socket_keeps_working_after_a_timed_out_receive_from() -> None:
    """The withdrawn wait leaves nothing behind: the next datagram goes to the next call."""
    s, to, fam = _receiver("v4")
    sender = socket.socket(fam, socket.SOCK_DGRAM)
    try:
        s.ReceiveTimeout = 30
        buf = bytearray(8)
        for _ in range(3):
            with pytest.raises(Exception) as info:
                s.ReceiveFrom(buf, IPEndPoint(IPAddress.Any, 0))
            assert _raised(info.value)[3] == "TimedOut"
            assert s._io.rpark is None and not s._io.rq
        s.ReceiveTimeout = int(WAIT * 1000)
        sender.sendto(b"late", to)
        n, frm = s.ReceiveFrom(buf, IPEndPoint(IPAddress.Any, 0))
        assert (n, bytes(buf[:4]), frm.Port) == (4, b"late", sender.getsockname()[1])
    finally:
        sender.close()
        s.Close()


# -- SendTo: every overload's steady state is the compiled one ------------------------------------


@dataclass(frozen=True)
class SendCase:
    shape: str
    buffer: str
    offset: Any
    size: Any
    flags: Any
    ep: str
    scene: str  # "plain", "unbound" (the send binds it), "closed", "hook refuses"


def _send_run(case: SendCase, way: str) -> tuple[Any, ...]:
    s = Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # raw: no telemetry or audit of its own
    try:
        sink.bind(("127.0.0.1", 0))
        sink.settimeout(WAIT)
        if case.scene != "unbound":
            s.Bind(IPEndPoint(IPAddress.Loopback, 0))
        ep: Any = {
            "v4": lambda: IPEndPoint(IPAddress.Loopback, sink.getsockname()[1]),
            "v6": lambda: IPEndPoint(IPAddress.IPv6Loopback, sink.getsockname()[1]),
            "dns": lambda: DnsEndPoint("localhost", sink.getsockname()[1]),
            "none": lambda: None,
            "subclass": lambda: _EndPoint(IPAddress.Loopback, sink.getsockname()[1]),
        }[case.ep]()
        buf = _buffer(case.buffer)
        if isinstance(buf, bytearray):
            buf[:] = DATA[:16]
        elif isinstance(buf, bytes):
            buf = DATA[:16]
        send = vars(_socket_transfer.SocketTransfer)["SendTo"]
        if way != "installed":
            send = inspect.unwrap(send)
        with pytest.MonkeyPatch.context() as m:
            if way == "general":
                m.setattr(_socket_transfer.SocketTransfer, "_send_to_steady", lambda *a: None)
            if case.scene == "closed":
                s.Close()
            elif case.scene == "hook refuses":
                _deny_send.append(True)
            _events.append([])
            before = Telemetry.snapshot()
            try:
                out: tuple[Any, ...] = ("value", send(s, *_args(case, buf, ep)))  # type: ignore[arg-type]
            except Exception as exc:  # noqa: BLE001 - the outcome is the point
                out = _raised(exc)
            finally:
                _deny_send.clear()
            events = _events.pop()
            d = Telemetry.snapshot() - before
        got = sink.recv(64) if out[0] == "value" else None
        bound = None if case.scene == "closed" else s.LocalEndPoint is not None
        return (out, events, d.bytes_sent, d.datagrams_sent, got, bound, _exported(buf))
    finally:
        sink.close()
        s.Close()


_deny_send: list[bool] = []


def _send_hook(event: str, args: tuple[Any, ...]) -> None:
    if event == "dotnet_sockets.Socket.SendTo" and _deny_send:
        _deny_send.clear()
        raise PermissionError("refused by the test's policy")


sys.addaudithook(_send_hook)


@st.composite
def _send_cases(draw: st.DrawFn) -> SendCase:
    shape = draw(st.sampled_from(["ep", "flags", "size", "full"]))
    if draw(st.booleans()):  # near the steady state
        buffer = draw(st.sampled_from(["bytearray", "bytes"]))
        offset = draw(st.integers(0, 16)) if shape == "full" else 0
        size = draw(st.integers(0, 16 - offset))
        flags = draw(st.sampled_from([0, SocketFlags.None_, _Int(0)]))
        ep = "v4"
    else:
        buffer = draw(st.sampled_from(["bytearray", "bytes", "memoryview", "readonly", "none"]))
        offset, size, flags = draw(_INT), draw(_INT), draw(_FLAGS)
        ep = draw(st.sampled_from(["v4", "v6", "dns", "none", "subclass"]))
    scene = draw(st.sampled_from(["plain", "plain", "unbound", "closed", "hook refuses"]))
    return SendCase(shape, buffer, offset, size, flags, ep, scene)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_send_cases())
def test_every_send_to_gives_what_the_python_and_general_paths_give(case: SendCase) -> None:
    installed = _send_run(case, "installed")
    assert installed == _send_run(case, "python")
    assert installed == _send_run(case, "general")


def test_every_send_to_overload_takes_the_compiled_path() -> None:
    """SendTo(buffer, socket_flags, ep) and SendTo(buffer, size, socket_flags, ep) are compiled as
    the two loop shapes are: no Python function of the package's SendTo runs."""
    for shape in ("ep", "flags", "size", "full"):
        case = SendCase(shape, "bytearray", 0, 16, SocketFlags.None_, "v4", "plain")
        assert _send_run(case, "installed") == (
            ("value", 16),
            ["dotnet_sockets.Socket.SendTo"],
            16,
            1,
            DATA[:16],
            True,
            False,
        )
    s = Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sink.bind(("127.0.0.1", 0))
        to = IPEndPoint(IPAddress.Loopback, sink.getsockname()[1])
        data = bytearray(8)
        s.SendTo(data, to)  # (the first send binds the socket, and the endpoint caches its sockaddr)
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(5):
            s.SendTo(data, SocketFlags.None_, to)
            s.SendTo(data, 8, SocketFlags.None_, to)
        prof.disable()
    finally:
        sink.close()
        s.Close()
    stats: Any = pstats.Stats(prof).stats
    ours = [f[2] for f in stats if "_socket_transfer" in f[0] and f[2] in ("SendTo", "_send_to_steady")]
    assert (not ours) == _accel.ACCELERATED, ours


def test_the_other_send_and_receive_overloads_take_the_compiled_path() -> None:
    """Send/Receive(buffer, socket_flags) and (buffer, size, socket_flags) on a connected stream go
    the compiled way of the loop shapes (test_stream_paths compares every overload's results)."""
    from test_stream_paths import _pair

    c, s = _pair()
    try:
        assert c.RemoteEndPoint is not None and s.RemoteEndPoint is not None  # (the steady state)
        out, into = bytearray(b"abcdefgh"), bytearray(8)
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(5):
            assert c.Send(out, SocketFlags.None_) == 8
            assert c.Send(out, 4, SocketFlags.None_) == 4
            got = 0
            while got < 12:  # (a stream: the bytes may come in pieces)
                assert s.Poll(int(WAIT * 1_000_000), SelectMode.SelectRead)
                got += s.Receive(into, SocketFlags.None_) if got < 8 else s.Receive(into, 12 - got, 0)
        prof.disable()
    finally:
        c.Close()
        s.Close()
    stats: Any = pstats.Stats(prof).stats
    names = ("Send", "Receive", "_send_general", "_receive_general")
    ours = [f[2] for f in stats if "_socket_transfer" in f[0] and f[2] in names]
    assert (not ours) == _accel.ACCELERATED, ours


def test_the_receive_from_paths_leak_nothing() -> None:
    """Thousands of ReceiveFrom calls that find their datagram, wait for it (a ping-pong with an
    echo thread), time out or are refused, and of Send/Receive on a connected datagram socket:
    memory stays flat, no operation is left alive, and the sockets, endpoints, buffers and queues
    keep their reference counts."""
    import tracemalloc

    from dotnet_sockets._engine.ops import ReceiveFromOp

    s, _, _ = _receiver("v4")
    echo = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    echo.bind(("127.0.0.1", 0))
    echo.settimeout(WAIT)
    echo_ep = IPEndPoint(IPAddress.Loopback, echo.getsockname()[1])
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                data, frm = echo.recvfrom(64)
            except OSError:
                return  # timed out (the test failed) or closed
            echo.sendto(data, frm)

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    any_ep, wrong = IPEndPoint(IPAddress.Any, 0), IPEndPoint(IPAddress.IPv6Any, 0)
    p, inb = bytearray(32), bytearray(64)
    s.ReceiveTimeout = int(WAIT * 1000)
    c, _, _ = _receiver("v4")  # connected to the echo: Send/Receive on a datagram socket
    c.Connect(echo_ep)
    assert c.RemoteEndPoint is not None
    c.ReceiveTimeout = int(WAIT * 1000)

    def rounds(n: int) -> None:
        for i in range(n):
            assert s.SendTo(p, 0, 32, SocketFlags.None_, echo_ep) == 32
            got, frm = s.ReceiveFrom(inb, 0, 64, SocketFlags.None_, any_ep)
            assert got == 32 and frm.Port == echo_ep.Port
            assert c.Send(p, 0, 16, SocketFlags.None_) == 16
            assert c.Receive(inb, SocketFlags.None_) == 16
            if i % 50 == 0:
                s.ReceiveTimeout = 1
                with pytest.raises(Exception, match="timed out"):
                    s.ReceiveFrom(inb, any_ep)
                s.ReceiveTimeout = int(WAIT * 1000)
                with pytest.raises(Exception, match="AddressFamily"):
                    s.ReceiveFrom(inb, wrong)

    def watched() -> list[int]:
        return [sys.getrefcount(o) for o in (s, s._io, any_ep, wrong, p, inb, echo_ep, echo_ep._sa, c, c._io)]

    try:
        rounds(300)  # warm up caches and free lists
        gc.collect()
        refs = watched()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        rounds(3000)
        gc.collect()
        growth = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        assert watched() == refs
        assert growth < 100_000, growth  # a leaked object per call would be hundreds of kB
        assert sum(1 for o in gc.get_objects() if type(o) is ReceiveFromOp) <= 1
    finally:
        stop.set()
        s.Close()
        c.Close()
        echo.close()
        server.join(WAIT)


@pytest.mark.parametrize("way", ["installed", "python"])
def test_a_receive_started_behind_a_waiting_receive_from_gets_the_next_datagram(way: str) -> None:
    """Start order across models: a BeginReceiveFrom started while a ReceiveFrom waits (parked)
    queues behind it; the first datagram is the ReceiveFrom's, the second the BeginReceiveFrom's."""
    s, to, fam = _receiver("v4")
    sender = socket.socket(fam, socket.SOCK_DGRAM)
    try:
        s.ReceiveTimeout = int(WAIT * 1000)
        receive = _method(way)
        result: list[Any] = []

        def wait() -> None:
            buf = bytearray(8)
            try:
                n, _ = receive(s, buf, 0, 8, SocketFlags.None_, IPEndPoint(IPAddress.Any, 0))
                result.append(bytes(buf[:n]))
            except Exception as exc:  # noqa: BLE001 - the outcome is the point
                result.append(_raised(exc))

        t = threading.Thread(target=wait, daemon=True)
        t.start()
        deadline = time.monotonic() + WAIT
        while s._io.rpark is None and time.monotonic() < deadline:  # parked: it waits in poll
            time.sleep(0.001)
        assert s._io.rpark is not None
        later = bytearray(8)
        ar = s.BeginReceiveFrom(later, 0, 8, 0, IPEndPoint(IPAddress.Any, 0), None, None)
        assert not ar.IsCompleted
        sender.sendto(b"first", to)
        sender.sendto(b"second", to)
        t.join(WAIT)
        assert not t.is_alive()
        assert ar.AsyncWaitHandle.WaitOne(int(WAIT * 1000))
        n, _ = s.EndReceiveFrom(ar)
        assert result == [b"first"] and bytes(later[:n]) == b"second"
        assert s._io.rpark is None and not s._io.rq
    finally:
        sender.close()
        s.Close()


# -- Send/Receive on a connected datagram socket ---------------------------------------------------


_deny_event: list[str] = []  # the event the policy refuses next
_close_on_event: list[tuple[str, Socket]] = []  # the event whose hook closes the socket next


def _transfer_hook(event: str, args: tuple[Any, ...]) -> None:
    if _deny_event and event == _deny_event[0]:
        _deny_event.clear()
        raise PermissionError("refused by the test's policy")
    if _close_on_event and event == _close_on_event[0][0]:
        _close_on_event.pop()[1].Close()


sys.addaudithook(_transfer_hook)


@dataclass(frozen=True)
class TransferCase:
    call: str  # "Send" or "Receive"
    shape: int  # arguments after the buffer: 0 to 3
    buffer: str
    offset: Any
    size: Any
    flags: Any
    scene: str


def _transfer_args(case: TransferCase, buf: Any) -> tuple[Any, ...]:
    return {
        0: (buf,),
        1: (buf, case.flags),
        2: (buf, case.size, case.flags),
        3: (buf, case.offset, case.size, case.flags),
    }[case.shape]


def _transfer_run(case: TransferCase, way: str) -> tuple[Any, ...]:  # noqa: C901 - one scenario, spelled out
    s, to, fam = _receiver("v4")
    peer = socket.socket(fam, socket.SOCK_DGRAM)  # raw: no telemetry or audit of its own
    timer: threading.Timer | None = None
    try:
        peer.bind(("127.0.0.1", 0))
        peer.connect(to)
        peer.settimeout(WAIT)
        s.Connect(IPEndPoint(IPAddress.Loopback, peer.getsockname()[1]))
        assert s.RemoteEndPoint is not None  # (the steady state: the peer known)
        s.ReceiveTimeout = int(WAIT * 1000)
        if case.call == "Receive":
            if case.scene == "arrives":
                timer = threading.Timer(0.02, peer.send, (DATA,))
                timer.start()
            elif case.scene == "timeout":
                s.ReceiveTimeout = 30
            elif case.scene != "nonblocking":
                peer.send(DATA * 4 if case.scene == "big" else DATA)
                _until_readable(s)
        if case.scene == "nonblocking":
            s.Blocking = False
        buf = _buffer(case.buffer)
        if isinstance(buf, bytes):
            buf = DATA[:16]
        fn = vars(_socket_transfer.SocketTransfer)[case.call]
        if way != "installed":
            fn = inspect.unwrap(fn)
        event = f"dotnet_sockets.Socket.{case.call}"
        with pytest.MonkeyPatch.context() as m:
            if way == "general":
                cls = _socket_transfer.SocketTransfer
                general = cls._send_general if case.call == "Send" else cls._receive_general
                m.setattr(
                    cls, f"_{case.call.lower()}_steady", lambda self, b, o, z, f: general(self, b, (o, z, f), {})
                )
            if case.scene == "closed":
                s.Close()
            elif case.scene == "hook closes":
                _close_on_event.append((event, s))
            elif case.scene == "hook refuses":
                _deny_event.append(event)
            _events.append([])
            before = Telemetry.snapshot()
            try:
                out: tuple[Any, ...] = ("value", fn(s, *_transfer_args(case, buf)))
            except Exception as exc:  # noqa: BLE001 - the outcome is the point
                out = _raised(exc)
            finally:
                _deny_event.clear()
                _close_on_event.clear()
            events = _events.pop()
            d = Telemetry.snapshot() - before
        if timer is not None:
            timer.join(WAIT)
        got = peer.recv(256) if case.call == "Send" and out[0] == "value" else None
        held = _exported(buf)
        if held:
            gc.collect()  # (an exception's frames may hold the range in a cycle)
            held = _exported(buf)
        contents = bytes(buf) if isinstance(buf, (bytearray, bytes, memoryview)) else None
        counts = (d.bytes_sent, d.datagrams_sent, d.bytes_received, d.datagrams_received)
        return (out, events, counts, got, held, contents)
    finally:
        if timer is not None:
            timer.cancel()
        peer.close()
        s.Close()


@st.composite
def _transfer_cases(draw: st.DrawFn) -> TransferCase:
    call = draw(st.sampled_from(["Send", "Receive"]))
    shape = draw(st.integers(0, 3))
    if draw(st.booleans()):  # near the steady state
        buffer = "bytearray" if call == "Receive" else draw(st.sampled_from(["bytearray", "bytes"]))
        offset = draw(st.integers(0, 16)) if shape == 3 else 0
        size = draw(st.integers(0, 16 - offset))
        flags = draw(st.sampled_from([0, SocketFlags.None_, _Int(0)]))
    else:
        buffer = draw(st.sampled_from(["bytearray", "bytes", "memoryview", "readonly", "none"]))
        offset, size, flags = draw(_INT), draw(_INT), draw(_FLAGS)
    scenes = ["plain", "plain", "closed", "nonblocking", "hook closes", "hook refuses"]
    if call == "Receive":
        scenes += ["arrives", "timeout", "big"]
    return TransferCase(call, shape, buffer, offset, size, flags, draw(st.sampled_from(scenes)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_transfer_cases())
def test_every_datagram_send_and_receive_gives_what_the_python_and_general_paths_give(case: TransferCase) -> None:
    installed = _transfer_run(case, "installed")
    assert installed == _transfer_run(case, "python")
    assert installed == _transfer_run(case, "general")


def test_datagram_send_and_receive_take_the_compiled_path() -> None:
    """Every overload of Send/Receive on a connected datagram socket, its steady state reached
    (the records the compare above pins) and run without a Python function of the package."""
    for shape in range(4):
        send = _transfer_run(TransferCase("Send", shape, "bytearray", 0, 16, SocketFlags.None_, "plain"), "installed")
        assert send[0] == ("value", 16) and send[2:4] == ((16, 1, 0, 0), b"." * 16)
        receive = _transfer_run(TransferCase("Receive", shape, "bytearray", 0, 8, 0, "big"), "installed")
        assert receive[0] == ("value", 16 if shape < 2 else 8) and receive[2] == (0, 0, receive[0][1], 1)
    s, to, fam = _receiver("v4")
    peer = socket.socket(fam, socket.SOCK_DGRAM)
    try:
        peer.bind(("127.0.0.1", 0))
        peer.connect(to)
        s.Connect(IPEndPoint(IPAddress.Loopback, peer.getsockname()[1]))
        assert s.RemoteEndPoint is not None
        s.ReceiveTimeout = int(WAIT * 1000)
        out, into = bytearray(8), bytearray(8)
        prof = cProfile.Profile()
        prof.enable()
        for i in range(8):
            assert s.Send(out, *((SocketFlags.None_,), (8, 0), (0, 8, 0), ())[i % 4]) == 8
            peer.send(b"12345678")
            assert s.Receive(into, *((SocketFlags.None_,), (8, 0), (0, 8, 0), ())[i % 4]) == 8
        prof.disable()
    finally:
        peer.close()
        s.Close()
    stats: Any = pstats.Stats(prof).stats
    names = ("Send", "Receive", "_send_steady", "_receive_steady", "_send_general", "_receive_general")
    ours = [f[2] for f in stats if "_socket_transfer" in f[0] and f[2] in names]
    assert (not ours) == _accel.ACCELERATED, ours


@pytest.mark.parametrize("way", ["installed", "python"])
def test_an_exception_raised_by_a_signal_handler_during_the_wait_withdraws_the_receive(way: str) -> None:
    """A signal handler that raises while ReceiveFrom waits in poll (Ctrl-C's KeyboardInterrupt,
    here a test exception): the exception comes out of ReceiveFrom, the operation has left the
    queue, and the next datagram goes to the next call."""
    import signal

    class Interrupted(Exception):
        pass

    def handler(signum: int, frame: Any) -> None:
        raise Interrupted

    s, to, fam = _receiver("v4")
    sender = socket.socket(fam, socket.SOCK_DGRAM)
    old = signal.signal(signal.SIGUSR1, handler)
    main = threading.main_thread().ident
    assert main == threading.get_ident()
    try:
        s.ReceiveTimeout = int(WAIT * 1000)
        buf = bytearray(8)
        kick = threading.Timer(0.05, signal.pthread_kill, (main, signal.SIGUSR1))
        kick.start()
        t0 = time.monotonic()
        with pytest.raises(Interrupted):
            _method(way)(s, buf, 0, 8, SocketFlags.None_, IPEndPoint(IPAddress.Any, 0))
        assert time.monotonic() - t0 < WAIT / 2
        kick.join(WAIT)
        assert s._io.rpark is None and not s._io.rq
        sender.sendto(b"next", to)
        n, _ = s.ReceiveFrom(buf, IPEndPoint(IPAddress.Any, 0))
        assert bytes(buf[:n]) == b"next"
    finally:
        signal.signal(signal.SIGUSR1, old)
        sender.close()
        s.Close()
