"""``Connect`` and ``EndAccept``: the compiled accept and connect attempts give what the Python ones give.

Where the accelerator is built, ``ops.AcceptOp.attempt`` and ``ops.ConnectOp.attempt`` are
compiled twins (``_speedups_c/connections.c``) of the Python methods, which stay their fallbacks
(``__wrapped__``).  Each generated case runs three ways on fresh sockets: through the installed
attempts ("installed"), through the Python ones put back for the case ("python"), and with
tracing on, which sends ``Connect``/``BeginAccept``/``EndAccept`` down their general paths
("general").  The records must be equal: the value or the exception (type, ``ParamName``,
``SocketErrorCode``, message), the socket's state after (``Connected``, the endpoints, its
class and blocking mode), the telemetry counts (connections started, established, failed,
accepted) and the audit events of the package and of the socket module (``socket.__new__``,
``socket.connect``), each as many times.  On the pure pass "installed" is the Python method too.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import threading
from _socket import socket as _RawSocket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import HAS_IPV6, WAIT
from dotnet_sockets import (
    AddressFamily,
    DnsEndPoint,
    IPAddress,
    IPEndPoint,
    ProtocolType,
    Socket,
    SocketType,
    _accel,
)
from dotnet_sockets._engine import opqueue as opqueue_module
from dotnet_sockets._engine import ops
from dotnet_sockets._engine.opqueue import OpQueue
from dotnet_sockets._socket_connections import SocketConnections
from dotnet_sockets.telemetry import Telemetry
from socket_helpers import wait_until

_PATHS = ("installed", "python", "general")
_EVENTS = ("socket.__new__", "socket.connect", "dotnet_sockets.Socket.Connect", "dotnet_sockets.Socket.BeginAccept",
           "dotnet_sockets.Socket.Accept")

_seen: list[str] = []
_recording = threading.Event()


def _hook(event: str, args: Any) -> None:
    if _recording.is_set() and event in _EVENTS:
        _seen.append(event)


sys.addaudithook(_hook)


def _installed(cls: type) -> Any:
    return vars(cls)["attempt"]


def _python(cls: type) -> Any:
    fast = _installed(cls)
    return getattr(fast, "__wrapped__", fast)


# The compiled members and the names they are installed under.
_MEMBERS = (
    (ops.AcceptOp, ("attempt",)),
    (ops.ConnectOp, ("attempt",)),
    (SocketConnections, ("Connect", "connect", "EndAccept", "end_accept")),
)


@contextmanager
def _path(path: str) -> Iterator[None]:
    """Run the body on ``path`` (see the module docstring)."""
    saved = [(cls, name, vars(cls)[name]) for cls, names in _MEMBERS for name in names]
    lg = logging.getLogger("dotnet_sockets")
    level = lg.level
    handler = logging.NullHandler()
    try:
        if path == "python":
            for cls, name, fast in saved:
                setattr(cls, name, getattr(fast, "__wrapped__", fast))
        elif path == "general":
            lg.addHandler(handler)
            lg.setLevel(logging.DEBUG)
        yield
    finally:
        for cls, name, fast in saved:
            setattr(cls, name, fast)
        lg.setLevel(level)
        lg.removeHandler(handler)


def _counts() -> tuple[int, int, int, int]:
    t = Telemetry.snapshot()
    return (
        t.outgoing_connections_started,
        t.outgoing_connections_established,
        t.outgoing_connections_failed,
        t.incoming_connections_established,
    )


def _outcome(call: Callable[[], Any]) -> tuple[Any, ...]:
    try:
        value = call()
    except Exception as exc:  # noqa: BLE001 - recorded
        code = getattr(exc, "SocketErrorCode", None)
        return ("raised", type(exc).__name__, getattr(exc, "ParamName", None), code, str(exc))
    return ("returned", value)


def _ep(ep: Any, ports: dict[int, str]) -> Any:
    """An endpoint, its port named (the ports differ from run to run)."""
    if not isinstance(ep, IPEndPoint):
        return None if ep is None else type(ep).__name__
    return (str(ep.Address), ports.get(ep.Port, "other"), ep.AddressFamily)


_TCP = (SocketType.Stream, ProtocolType.Tcp)
_CONNECT_KINDS = (
    "ipv4",
    "ipv6",
    "dual_ipv4",
    "address_port",
    "dns",
    "wrong_family",
    "refused",
    "closed",
    "listening",
    "connected",
    "nonblocking",
    "none",
    "not_endpoint",
)


def _connect_case(kind: str) -> tuple[Any, ...]:
    """One ``Connect`` of ``kind``, on sockets made for it; its record."""
    closers: list[Callable[[], None]] = []
    try:
        v6 = kind == "ipv6"
        lst = Socket(AddressFamily.InterNetworkV6 if v6 else AddressFamily.InterNetwork, *_TCP)
        closers.append(lst.Close)
        lst.Bind(IPEndPoint(IPAddress.IPv6Loopback if v6 else IPAddress.Loopback, 0))
        lst.Listen(8)
        port = lst.LocalEndPoint.Port  # type: ignore[union-attr]
        refused = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # bound, not listening
        closers.append(refused.close)
        refused.bind(("127.0.0.1", 0))
        ports = {port: "listener", refused.getsockname()[1]: "refused"}
        if kind == "dual_ipv4":
            c = Socket(*_TCP)  # IPv6, dual mode
        else:
            c = Socket(AddressFamily.InterNetworkV6 if v6 else AddressFamily.InterNetwork, *_TCP)
        closers.append(c.Close)
        args: tuple[Any, ...] = (IPEndPoint(IPAddress.Loopback, port),)
        if v6:
            args = (IPEndPoint(IPAddress.IPv6Loopback, port),)
        elif kind == "address_port":
            args = (IPAddress.Loopback, port)
        elif kind == "dns":
            args = (DnsEndPoint("127.0.0.1", port),)
        elif kind == "wrong_family":
            args = (IPEndPoint(IPAddress.IPv6Loopback, port),)
        elif kind == "refused":
            args = (IPEndPoint(IPAddress.Loopback, refused.getsockname()[1]),)
        elif kind == "closed":
            c.Close()
        elif kind == "listening":
            c.Bind(IPEndPoint(IPAddress.Loopback, 0))
            c.Listen(1)
        elif kind == "connected":
            c.Connect(IPEndPoint(IPAddress.Loopback, port))
        elif kind == "nonblocking":
            c.Blocking = False
        elif kind == "none":
            args = (None,)
        elif kind == "not_endpoint":
            args = (("127.0.0.1", port),)
        _seen.clear()
        before = _counts()
        _recording.set()
        try:
            outcome = _outcome(lambda: c.Connect(*args))
        finally:
            _recording.clear()
        after = _counts()
        events = sorted(_seen)
        if kind == "nonblocking" and outcome[0] == "raised":
            # Still connecting: the engine finishes it (the listener is there), bounded.
            assert wait_until(lambda: c.Connected)
            after = _counts()
        state: tuple[Any, ...] = ("disposed",)
        if kind != "closed":
            state = (c.Connected, _ep(c.RemoteEndPoint, ports), c.LocalEndPoint is not None, c.Blocking)
        return outcome, state, tuple(a - b for a, b in zip(after, before, strict=True)), events
    finally:
        for close in reversed(closers):
            close()


def _kinds(kinds: tuple[str, ...]) -> tuple[str, ...]:
    return kinds if HAS_IPV6 else tuple(k for k in kinds if k not in ("ipv6", "dual_ipv4", "accept_ipv6"))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_kinds(_CONNECT_KINDS)), min_size=1, max_size=3))
def test_connect_gives_the_same_on_every_path(kinds: list[str]) -> None:
    for kind in kinds:
        records = {}
        for path in _PATHS:
            with _path(path):
                records[path] = _connect_case(kind)
        assert records["installed"] == records["python"] == records["general"], (kind, records)


_ACCEPT_KINDS = ("waiting", "later", "accept_ipv6", "closed", "sync", "receive_size", "twice", "foreign", "none")


def _accept_case(kind: str) -> tuple[Any, ...]:
    """One accept of ``kind``: the connection already waiting at ``BeginAccept`` (its first try
    takes it), or made after (the engine's report does), over IPv6, cut short by the listener's
    close, the synchronous ``Accept``, the ``receive_size`` form, ``EndAccept`` called twice, on
    another socket first, or with None first; its record."""
    closers: list[Callable[[], None]] = []
    try:
        v6 = kind == "accept_ipv6"
        af = AddressFamily.InterNetworkV6 if v6 else AddressFamily.InterNetwork
        lst = Socket(af, *_TCP)
        closers.append(lst.Close)
        lst.Bind(IPEndPoint(IPAddress.IPv6Loopback if v6 else IPAddress.Loopback, 0))
        lst.Listen(8)
        ep = lst.LocalEndPoint
        c = Socket(af, *_TCP)
        closers.append(c.Close)
        done = threading.Event()
        got: list[Any] = []

        other = Socket(af, *_TCP)
        closers.append(other.Close)

        def on_accept(ar: Any) -> None:
            if kind == "foreign":
                got.append(_outcome(lambda: other.EndAccept(ar)))
            elif kind == "none":
                got.append(_outcome(lambda: lst.EndAccept(None)))
            got.append(_outcome(lambda: lst.EndAccept(ar)))
            if kind == "twice":
                got.append(_outcome(lambda: lst.EndAccept(ar)))
            done.set()

        _seen.clear()
        before = _counts()
        _recording.set()
        try:
            if kind == "sync":
                c.Connect(ep)
                got.append(_outcome(lst.Accept))
                done.set()
            elif kind == "waiting":
                c.Connect(ep)
                lst.BeginAccept(on_accept, None)
            elif kind == "receive_size":
                c.Connect(ep)
                c.Send(b"abc")
                lst.BeginAccept(3, on_accept, None)
            else:
                lst.BeginAccept(on_accept, None)
                if kind == "closed":
                    lst.Close()
                else:
                    c.Connect(ep)
            assert done.wait(WAIT)
        finally:
            _recording.clear()
        after = _counts()
        outcomes = []
        for outcome in got:
            if outcome[0] == "returned":
                value = outcome[1]
                data: Any = None
                if isinstance(value, tuple):
                    value, data, n = value
                    data = (bytes(data), n)
                closers.append(value.Close)
                outcome = (
                    "returned",
                    type(value).__name__,
                    value.Connected,
                    value.Blocking,
                    value.RemoteEndPoint == c.LocalEndPoint,
                    value.LocalEndPoint == c.RemoteEndPoint,
                    value.AddressFamily,
                    data,
                )
            outcomes.append(outcome)
        return outcomes, tuple(a - b for a, b in zip(after, before, strict=True)), sorted(_seen)
    finally:
        for close in reversed(closers):
            close()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_kinds(_ACCEPT_KINDS)), min_size=1, max_size=3))
def test_end_accept_gives_the_same_on_every_path(kinds: list[str]) -> None:
    for kind in kinds:
        records = {}
        for path in _PATHS:
            with _path(path):
                records[path] = _accept_case(kind)
        assert records["installed"] == records["python"] == records["general"], (kind, records)


def _python_attempts(run: Callable[[], None]) -> int:
    """How many times the Python ``attempt`` methods, ``Connect`` and ``EndAccept`` ran on this thread
    during ``run``."""
    connect = vars(SocketConnections)["Connect"]
    end_accept = vars(SocketConnections)["EndAccept"]
    python_connect = getattr(connect, "__wrapped__", connect)
    python_end_accept = getattr(end_accept, "__wrapped__", end_accept)
    codes = {_python(cls).__code__ for cls in (ops.AcceptOp, ops.ConnectOp)}
    codes |= {python_connect.__code__, python_end_accept.__code__}
    calls = [0]

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event == "call" and frame.f_code in codes:
            calls[0] += 1

    sys.setprofile(profile)
    try:
        run()
    finally:
        sys.setprofile(None)
    return calls[0]


def _one_connection() -> None:
    """Connect (its attempt and its retry once writable, both on this thread) and a BeginAccept
    whose first try takes the connection waiting (on this thread too), then EndAccept."""
    lst = Socket(AddressFamily.InterNetwork, *_TCP)
    c = Socket(AddressFamily.InterNetwork, *_TCP)
    try:
        lst.Bind(IPEndPoint(IPAddress.Loopback, 0))
        lst.Listen(8)
        c.Connect(lst.LocalEndPoint)
        ar = lst.BeginAccept(lambda ar: None, None)
        assert ar.CompletedSynchronously
        lst.EndAccept(ar).Close()
    finally:
        c.Close()
        lst.Close()


def test_the_compiled_attempts_are_reached() -> None:
    """On the compiled path a steady ``Connect``, accept and ``EndAccept`` run none of the Python
    ``attempt`` methods, ``Connect`` and ``EndAccept``; with the Python methods put back, they do (so
    that the count can tell)."""
    with _path("python"):
        assert _python_attempts(_one_connection) >= 5
    if not _accel.ACCELERATED:
        pytest.skip("the pure path: the Python attempts are the installed ones")
    assert _installed(ops.AcceptOp) is not _python(ops.AcceptOp)
    assert _installed(ops.ConnectOp) is not _python(ops.ConnectOp)
    assert hasattr(vars(SocketConnections)["Connect"], "__wrapped__")
    assert hasattr(vars(SocketConnections)["EndAccept"], "__wrapped__")
    assert _python_attempts(_one_connection) == 0


@pytest.mark.parametrize("v6", [False, True] if HAS_IPV6 else [False])
def test_every_descriptor_is_non_blocking_from_its_start(v6: bool) -> None:
    """A ``Socket()``'s descriptor (made non-blocking by socket(2)) and an accepted one (by accept4
    on the compiled path, by OpQueue's setblocking on the Python one) are non-blocking, and the
    socket module knows it (timeout 0), whichever way the accept went."""
    af = AddressFamily.InterNetworkV6 if v6 else AddressFamily.InterNetwork
    lst = Socket(af, *_TCP)
    made: list[Socket] = [lst]
    try:
        lst.Bind(IPEndPoint(IPAddress.IPv6Loopback if v6 else IPAddress.Loopback, 0))
        lst.Listen(8)
        for path in ("installed", "python"):
            with _path(path):
                c = Socket(af, *_TCP)
                made.append(c)
                c.Connect(lst.LocalEndPoint)
                ar = lst.BeginAccept(lambda ar: None, None)
                assert ar.AsyncWaitHandle.WaitOne(int(WAIT * 1000))
                made.append(lst.EndAccept(ar))
                c2 = Socket(af, *_TCP)
                made.append(c2)
                c2.Connect(lst.LocalEndPoint)
                made.append(lst.Accept())
        for s in made:
            assert s._sock.timeout == 0.0
            assert not os.get_blocking(s._sock.fileno())
    finally:
        for s in made:
            s.Close()


_QUEUE_KINDS = {
    "tcp4": (socket.AF_INET, socket.SOCK_STREAM),
    "udp4": (socket.AF_INET, socket.SOCK_DGRAM),
    "tcp6": (socket.AF_INET6, socket.SOCK_STREAM),
    "udp6": (socket.AF_INET6, socket.SOCK_DGRAM),
    "unix_stream": (socket.AF_UNIX, socket.SOCK_STREAM),
    "unix_dgram": (socket.AF_UNIX, socket.SOCK_DGRAM),
}


def _queue_record(q: OpQueue, sock: Any) -> tuple[Any, ...]:
    slots = [n for n in OpQueue.__slots__ if n not in ("__weakref__", "key", "lock", "rq", "wq", "sock")]
    return (
        tuple((n, getattr(q, n)) for n in slots),
        q.sock is sock,
        type(q.lock),
        q.lock.locked(),
        (type(q.rq), len(q.rq), type(q.wq), len(q.wq), q.rq is not q.wq),
        type(q.key),
        opqueue_module._live[q.key]() is q,
        sock.timeout,
        os.get_blocking(sock.fileno()),
    )


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(sorted(_QUEUE_KINDS)), st.booleans())
def test_queue_construction_gives_the_same_on_both_paths(kind: str, made_non_blocking: bool) -> None:
    """``OpQueue(sock)`` through the installed ``__init__`` and through the Python one (on a twin
    socket of the same kind): the same slots, registry entry and descriptor mode, for sockets the
    package makes (non-blocking from socket(2)) and for one still blocking (the Python method's)."""
    if kind.endswith("6") and not HAS_IPV6:
        return
    family, type_ = _QUEUE_KINDS[kind]
    flags = socket.SOCK_NONBLOCK if made_non_blocking else 0
    python_init = getattr(vars(OpQueue)["__init__"], "__wrapped__", vars(OpQueue)["__init__"])
    records = []
    for way in ("installed", "python"):
        sock = _RawSocket(family, type_ | flags, 0)
        try:
            if way == "installed":
                q = OpQueue(sock)
            else:
                q = OpQueue.__new__(OpQueue)
                python_init(q, sock)
            records.append(_queue_record(q, sock))
            q.close()
        finally:
            sock.close()
    assert records[0] == records[1], records


def test_the_compiled_queue_construction_is_reached() -> None:
    python_init = getattr(vars(OpQueue)["__init__"], "__wrapped__", vars(OpQueue)["__init__"])
    calls = [0]

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event == "call" and frame.f_code is python_init.__code__:
            calls[0] += 1

    sys.setprofile(profile)
    try:
        Socket(AddressFamily.InterNetwork, *_TCP).Close()
        blocking = _RawSocket(socket.AF_INET, socket.SOCK_STREAM, 0)  # the Python method's case
        OpQueue(blocking).close()
    finally:
        sys.setprofile(None)
    assert calls[0] == (1 if _accel.ACCELERATED else 2)
