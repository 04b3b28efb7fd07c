"""The synchronous stream calls' short paths give what the general path gives, over every overload.

``Socket.Send``/``Receive`` and ``NetworkStream.Write``/``Read`` hand their loop shape to a
shortcut (``_send_steady``/``_receive_steady``) and, where the accelerator is built, to its
compiled twin (``_speedups.c``).  Each call below runs three ways on fresh connected pairs: as
installed (compiled on the compiled pass), through the Python functions, and down the general
path (``steady_range`` answering False), and the three records must be equal: the value or the
exception (type, ``ParamName``, ``SocketErrorCode``, ``InnerException``), the audit events,
the telemetry counted and the bytes that moved.  Then the waits of the short paths: a timeout,
and ``Close`` from another thread, which must end the wait at once with .NET's error.
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
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import WAIT
from dotnet_sockets import (
    AddressFamily,
    IPAddress,
    IPEndPoint,
    NetworkStream,
    ProtocolType,
    Socket,
    SocketFlags,
    SocketType,
    _accel,
    _socket_transfer,
    networkstream,
)
from dotnet_sockets.telemetry import Telemetry

_events: list[list[str]] = []


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if _events and event.startswith("dotnet_sockets.Socket."):
        _events[-1].append(event)


sys.addaudithook(_hook)  # hooks cannot be removed: this one records only inside _run()

_NAMES = {"Send": "send", "Receive": "receive", "Read": "read", "Write": "write"}


def _pair() -> tuple[Socket, Socket]:
    lst = Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
    try:
        lst.Bind(IPEndPoint(IPAddress.Loopback, 0))
        lst.Listen(1)
        c = Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
        c.Connect(lst.LocalEndPoint)
        s = lst.Accept()
    finally:
        lst.Close()
    return c, s


def _method(owner: type, name: str, way: str) -> Callable[..., Any]:
    """``owner.name`` as installed, or its Python function (``python`` and ``general``)."""
    value = vars(owner)[name] if name in vars(owner) else getattr(owner, name)
    return value if way == "installed" else inspect.unwrap(value)


def _outcome(fn: Callable[[], Any]) -> tuple[Any, ...]:
    _events.append([])
    before = Telemetry.snapshot()
    try:
        value = fn()
    except Exception as exc:  # noqa: BLE001 - the outcome is the point
        inner = getattr(exc, "InnerException", None)
        code = getattr(exc, "SocketErrorCode", None) or getattr(inner, "SocketErrorCode", None)
        result: tuple[Any, ...] = (
            "raised",
            type(exc).__name__,
            getattr(exc, "ParamName", None),
            None if code is None else code.name,
            type(inner).__name__,
        )
    else:
        result = ("value", value)
    finally:
        events = _events.pop()
    d = Telemetry.snapshot() - before
    return (*result, events, d.bytes_sent, d.bytes_received)


def _sent(c: Socket, s: Socket) -> bytes:
    """Every byte ``c`` sent: ``c`` shuts its side down, ``s`` reads to the end (bounded waits)."""
    try:
        c._sock.shutdown(socket.SHUT_WR)
    except OSError:
        return b"(not connected)"
    got = bytearray()
    raw = s._sock
    raw.settimeout(WAIT)
    try:
        while chunk := raw.recv(4096):
            got += chunk
    finally:
        raw.setblocking(False)
    return bytes(got)


def _run(call: str, args: tuple[Any, ...], way: str) -> tuple[Any, ...]:
    """One call on a fresh pair (``c`` sends, ``s`` receives); 16 bytes wait to be read."""
    c, s = _pair()
    try:
        s.ReceiveTimeout = int(WAIT * 1000)
        if call in ("Receive", "Read"):
            c._sock.send(b"0123456789abcdef")  # raw: no telemetry or audit of its own
        args = tuple(bytearray(a) if isinstance(a, bytearray) else a for a in args)  # each way its own
        with pytest.MonkeyPatch.context() as m:
            if way == "general":
                never = lambda *a: False  # noqa: E731
                m.setattr(_socket_transfer, "_steady_range", never)
                m.setattr(networkstream, "_steady_range", never)
            if call in ("Read", "Write"):
                stream = NetworkStream(s if call == "Read" else c)
                fn = _method(NetworkStream, call, way)
                out = _outcome(lambda: fn(stream, *args))
            else:
                fn = _method(Socket, call, way)
                out = _outcome(lambda: fn(s if call == "Receive" else c, *args))
        moved = _sent(c, s) if call in ("Send", "Write") else b""
        buf = args[0] if isinstance(args[0], bytearray) else None
        return (*out, moved, None if buf is None else bytes(buf))
    finally:
        c.Close()
        s.Close()


_ODD = st.sampled_from([True, 1.5, "2", None, -1, 17, 2**70])
_INT = st.integers(-2, 18) | _ODD
_FLAGS = st.sampled_from([0, SocketFlags.None_, SocketFlags.Peek, SocketFlags.DontRoute, -1, None, 1.0])
_BUFFER = st.sampled_from(["bytearray", "bytes", "memoryview", "none", "list"])


def _buffer(kind: str) -> Any:
    data = bytearray(b"ABCDEFGHIJKLMNOP")
    return {
        "bytearray": data,
        "bytes": bytes(data),
        "memoryview": memoryview(data),
        "none": None,
        "list": [data],
    }[kind]


@st.composite
def _calls(draw: st.DrawFn) -> tuple[str, tuple[Any, ...]]:
    call = draw(st.sampled_from(["Send", "Receive", "Read", "Write"]))
    buffer = _buffer(draw(_BUFFER))
    if call in ("Read", "Write"):
        # (Read(None) is io's read(size=None): everything to the end, a wait for the timeout.)
        shape = 3 if call == "Read" and buffer is None else draw(st.sampled_from([1, 3]))
        rest: tuple[Any, ...] = (draw(_INT), draw(_INT)) if shape == 3 else ()
    else:
        shape = draw(st.sampled_from([1, 2, 3, 4]))
        rest = {
            1: (),
            2: (draw(_FLAGS),),
            3: (draw(_INT), draw(_FLAGS)),
            4: (draw(_INT), draw(_INT), draw(_FLAGS)),
        }[shape]
    return call, (buffer, *rest)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_calls())
def test_every_overload_gives_what_the_general_path_gives(case: tuple[str, tuple[Any, ...]]) -> None:
    call, args = case
    installed = _run(call, args, "installed")
    assert installed == _run(call, args, "python")
    assert installed == _run(call, args, "general")


def test_the_loop_shapes_are_compared_and_take_the_compiled_path() -> None:
    """The property above reaches the steady shapes (a test that cannot fail is a defect)."""
    ok = _run("Read", (bytearray(16), 2, 8), "installed")
    assert ok[:2] == ("value", 8) and ok[-1] == b"\0\x0001234567" + bytes(6)
    assert ok[2] == ["dotnet_sockets.Socket.Receive"] and ok[-3:-2] == (8,)
    assert _run("Write", (b"xyz", 0, 3), "installed")[-2] == b"xyz"
    for name in ("Send", "Receive"):
        method = vars(_socket_transfer.SocketTransfer)[name]
        assert method is vars(_socket_transfer.SocketTransfer)[_NAMES[name]]
        assert (type(method).__name__ == "FastMethod") == _accel.ACCELERATED
    for name in ("Read", "Write"):
        method = vars(NetworkStream)[name]
        assert method is vars(NetworkStream)[_NAMES[name]]
        assert (type(method).__name__ == "FastMethod") == _accel.ACCELERATED
        assert inspect.signature(method) == inspect.signature(inspect.unwrap(method))
        assert method.__doc__ == inspect.unwrap(method).__doc__
    # The pairs _run makes reach the compiled steady state: no Python function of these runs.
    c, s = _pair()
    try:
        ns = NetworkStream(s)
        buf = bytearray(8)
        prof = cProfile.Profile()
        prof.enable()
        c.Send(b"abc")
        s.Receive(buf)
        c.Send(b"xyz", 0, 3, SocketFlags.None_)
        s.Receive(buf, 0, 3, SocketFlags.None_)
        ns.Write(b"q", 0, 1)
        c.Receive(buf)
        c.Send(b"r")
        ns.Read(buf, 0, 1)
        prof.disable()
        ns.Close()
    finally:
        c.Close()
        s.Close()
    stats: Any = pstats.Stats(prof).stats
    ours = [f for f in stats if ("_socket_transfer" in f[0] or "networkstream" in f[0]) and f[2] in _NAMES]
    assert (not ours) == _accel.ACCELERATED, ours


@pytest.fixture
def pair() -> Iterator[tuple[Socket, Socket]]:
    c, s = _pair()
    yield c, s
    c.Close()
    s.Close()


@pytest.mark.parametrize("way", ["installed", "python"])
def test_a_read_that_waits_times_out_with_timed_out(pair: tuple[Socket, Socket], way: str) -> None:
    _, s = pair
    stream = NetworkStream(s)
    stream.ReadTimeout = 50
    buf = bytearray(8)
    read = _method(NetworkStream, "Read", way)
    t0 = time.monotonic()
    out = _outcome(lambda: read(stream, buf, 0, 8))
    assert out[:5] == ("raised", "IOException", None, "TimedOut", "SocketException")
    assert 0.04 <= time.monotonic() - t0 < WAIT
    gc.collect()  # (the exception's frames, in a cycle with this test's closures, held the range)
    buf.append(0)  # nothing holds the buffer any more (BufferError otherwise)
    # The socket still works: a later block is read at once.
    pair[0].Send(b"late")
    assert read(stream, buf, 0, 8) == 4


@pytest.mark.parametrize("way", ["installed", "python"])
@pytest.mark.parametrize("call", ["Read", "Receive"])
def test_close_from_another_thread_ends_the_wait_at_once(pair: tuple[Socket, Socket], way: str, call: str) -> None:
    _, s = pair
    s.ReceiveTimeout = int(WAIT * 1000) * 4  # far beyond the bound below: only the close can end it
    stream = NetworkStream(s)
    buf = bytearray(8)
    fn = _method(NetworkStream if call == "Read" else Socket, call, way)
    target = stream if call == "Read" else s
    result: list[tuple[Any, ...]] = []
    started = threading.Event()

    def wait() -> None:
        started.set()
        result.append(_outcome(lambda: fn(target, buf, 0, 8) if call == "Read" else fn(target, buf, 0, 8, 0)))

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
    if call == "Read":
        assert result[0][:5] == ("raised", "IOException", None, "ConnectionAborted", "SocketException")
    else:
        assert result[0][:4] == ("raised", "SocketException", None, "ConnectionAborted")
    gc.collect()  # (the exception's frames, in a cycle with this test's closures, held the range)
    buf.append(0)


def _byte_scenario() -> list[tuple[Any, ...]]:
    c, s = _pair()
    try:
        s.ReceiveTimeout = int(WAIT * 1000)
        ws, rs = NetworkStream(c), NetworkStream(s)
        into = bytearray(2)
        out = [
            _outcome(lambda: ws.WriteByte(65)),
            _outcome(lambda: rs.ReadByte()),
            _outcome(lambda: ws.WriteByte(300)),
            _outcome(lambda: ws.Write(b"hello world")),
            _outcome(lambda: rs.read(3)),
            _outcome(lambda: rs.readinto(into)),
            (bytes(into),),
        ]
        c.Shutdown(1)
        out += [_outcome(lambda: rs.readall()), _outcome(lambda: rs.ReadByte())]
        c.Close()
        out.append(_outcome(lambda: ws.WriteByte(1)))
        return out
    finally:
        c.Close()
        s.Close()


def test_byte_and_io_shapes_match_the_general_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """ReadByte, WriteByte and io's read/readinto/readall go to the socket's steady path."""
    installed = _byte_scenario()
    with monkeypatch.context() as m:
        for cls in (_socket_transfer.SocketTransfer, NetworkStream):
            for name, value in list(vars(cls).items()):
                if type(value).__name__ == "FastMethod":
                    m.setattr(cls, name, inspect.unwrap(value))
        python = _byte_scenario()
        never = lambda *a: False  # noqa: E731
        m.setattr(_socket_transfer, "_steady_range", never)
        m.setattr(networkstream, "_steady_range", never)
        general = _byte_scenario()
    assert installed == python == general
    assert installed[1][:2] == ("value", 65) and installed[2][1] == "ArgumentOutOfRangeException"
    assert installed[6] == (b"lo",) and installed[7][:2] == ("value", b" world") and installed[8][:2] == ("value", -1)
    assert installed[9][1:5] == ("IOException", None, None, "ObjectDisposedException")


def _late(seconds: float, action: Callable[[], Any]) -> threading.Timer:
    timer = threading.Timer(seconds, action)
    timer.start()
    return timer


def _read_all(sock: Socket, count: int, got: list[int]) -> None:
    """Read ``count`` bytes raw (no telemetry of its own), each wait bounded by WAIT."""
    raw = sock._sock
    raw.settimeout(WAIT)
    while got[0] < count:
        chunk = raw.recv(65536)
        if not chunk:
            return
        got[0] += len(chunk)


def test_a_thread_waits_on_one_descriptor_after_another() -> None:
    """The thread's poller keeps its last registration between waits: a wait on another socket,
    on a new socket given the same descriptor number, or for writing on the same one, must watch
    exactly that (each wait here is ended by its own data, well within WAIT)."""
    from dotnet_sockets._engine.syncwait import thread_waiter

    buf = bytearray(8)
    c1, s1 = _pair()
    c2, s2 = _pair()
    try:
        for c, s in ((c1, s1), (c2, s2), (c1, s1)):
            s.ReceiveTimeout = int(WAIT * 1000)
            timer = _late(0.03, lambda c=c: c._sock.send(b"abc"))
            assert s.Receive(buf, 0, 8, 0) == 3
            timer.join(WAIT)
            assert thread_waiter().fd == s._io.fd
        number = s1._io.fd
        c1.Close()
        s1.Close()
        c3, s3 = _pair()  # the lowest free numbers: s1's among them
        try:
            assert number in (c3._io.fd, s3._io.fd)
            waiting = s3 if s3._io.fd == number else c3
            peer = c3 if waiting is s3 else s3
            waiting.ReceiveTimeout = int(WAIT * 1000)
            timer = _late(0.03, lambda: peer._sock.send(b"new"))
            t0 = time.monotonic()
            assert waiting.Receive(buf, 0, 8, 0) == 3 and bytes(buf[:3]) == b"new"
            assert time.monotonic() - t0 < WAIT / 2
            timer.join(WAIT)
            # The same descriptor for writing: a send larger than the kernel's buffers waits for
            # room until the peer starts reading.
            waiting.SendBufferSize = 4096
            waiting.SendTimeout = int(WAIT * 1000)
            big = bytearray(4 << 20)
            got = [0]
            timer = _late(0.05, lambda: _read_all(peer, len(big), got))
            assert waiting.Send(big, 0, len(big), 0) == len(big)
            assert thread_waiter().fd == number and thread_waiter().mask == select.POLLOUT
            timer.join(WAIT)
            assert got[0] == len(big)
        finally:
            c3.Close()
            s3.Close()
    finally:
        for sock in (c1, s1, c2, s2):
            sock.Close()


def test_one_thread_waits_on_two_sockets_in_turn() -> None:
    """The thread's poller, left watching the last descriptor between waits, watches each new one:
    a wait that kept polling the other socket would run into the timeout instead."""
    from dotnet_sockets._engine.syncwait import thread_waiter

    pairs = [_pair(), _pair()]
    try:
        for _, s in pairs:
            s.ReceiveTimeout = int(WAIT * 1000)
        for _round in range(3):
            for c, s in pairs:
                buf = bytearray(4)

                def feed(c: Socket = c, s: Socket = s) -> None:
                    deadline = time.monotonic() + WAIT
                    while s._io.rpark is None and time.monotonic() < deadline:  # parked: it waits in poll
                        time.sleep(0.001)
                    c.Send(b"abcd")

                t = threading.Thread(target=feed, daemon=True)
                t.start()
                assert s.Receive(buf, 0, 4, SocketFlags.None_) == 4
                t.join(WAIT)
                assert not t.is_alive()
                assert buf == b"abcd"
                assert thread_waiter().fd == s._io.fd  # the wait watched this socket's descriptor
    finally:
        for c, s in pairs:
            c.Close()
            s.Close()
