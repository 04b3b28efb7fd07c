"""``Socket.Close()`` and ``Dispose()``: the compiled steady state gives what the Python methods give.

Where the accelerator is built, ``Close``/``Dispose`` and ``__del__`` are compiled twins
(``_speedups.c``, "Close, Dispose and __del__") of the Python methods, which stay their fallbacks
(``__wrapped__``).  Each generated
case runs twice on fresh sockets, through the installed method and through the Python one, and the
records must be equal: the value or the exception (type, ``ParamName``, message), the socket's
state after (disposed, ``Connected``, the descriptor, the OpQueue closed, a pending operation
aborted once), the Unix domain socket file a ``Bind`` created, the calls of a subclass's own
``Dispose``, and the trace lines.  On the pure pass both ways are the Python method.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import WAIT
from dotnet_sockets import (
    AddressFamily,
    IPAddress,
    IPEndPoint,
    ProtocolType,
    Socket,
    SocketType,
    UnixDomainSocketEndPoint,
)

_KINDS = ("fresh_tcp", "udp_bound", "connected", "accepted", "listener_pending", "unix_path", "disposed")
_CALLS: dict[str, tuple[str, tuple[Any, ...]]] = {
    "Close()": ("Close", ()),
    "Close(None)": ("Close", (None,)),
    "Close(-1)": ("Close", (-1,)),
    "Close(0)": ("Close", (0,)),
    "Close(-2)": ("Close", (-2,)),
    "Close('x')": ("Close", ("x",)),
    "Dispose()": ("Dispose", ()),
    "close()": ("close", ()),
    "dispose()": ("dispose", ()),
}


class _Own(Socket):
    """A subclass with a Dispose of its own: Close must still call it."""

    __slots__ = ()
    calls: list[str] = []

    def Dispose(self) -> None:
        _Own.calls.append("Dispose")
        super().Dispose()


class _Plain(Socket):
    __slots__ = ()


_CLASSES: dict[str, type[Socket]] = {"Socket": Socket, "own Dispose": _Own, "subclass": _Plain}


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        # Object ids differ between the two runs: only the member and the shape of the line count.
        self.lines.append(re.sub(r"#\d+|0x[0-9a-f]+", "#", record.getMessage()))


@contextmanager
def _tracing(on: bool) -> Iterator[_Lines]:
    lg = logging.getLogger("dotnet_sockets")
    handler = _Lines()
    old = lg.level
    lg.addHandler(handler)
    lg.setLevel(logging.DEBUG if on else logging.INFO)
    try:
        yield handler
    finally:
        lg.setLevel(old)
        lg.removeHandler(handler)


def _make(kind: str, cls: type[Socket], closers: list[Callable[[], None]]) -> tuple[Socket, Any]:
    """A socket of ``kind`` (of class ``cls``), and what the record looks at besides it."""
    af, tcp = AddressFamily.InterNetwork, (SocketType.Stream, ProtocolType.Tcp)
    if kind == "udp_bound":
        s = cls(af, SocketType.Dgram, ProtocolType.Udp)
        s.Bind(IPEndPoint(IPAddress.Loopback, 0))
        return s, None
    if kind in ("connected", "accepted"):
        lst = Socket(af, *tcp)
        closers.append(lst.Close)
        lst.Bind(IPEndPoint(IPAddress.Loopback, 0))
        lst.Listen(4)
        c = cls(af, *tcp) if kind == "connected" else Socket(af, *tcp)
        c.Connect(lst.LocalEndPoint)
        if kind == "connected":
            closers.append(lambda: None)
            return c, None
        closers.append(c.Close)
        return lst.Accept() if cls is Socket else _adopted(lst, cls), None
    if kind == "listener_pending":
        s = cls(af, *tcp)
        s.Bind(IPEndPoint(IPAddress.Loopback, 0))
        s.Listen(4)
        done = threading.Event()
        seen: list[str] = []

        def on_accept(ar: Any) -> None:
            try:
                s.EndAccept(ar)
                seen.append("accepted")
            except Exception as exc:  # noqa: BLE001 - recorded
                seen.append(type(exc).__name__)
            done.set()

        s.BeginAccept(on_accept, None)
        return s, (done, seen)
    if kind == "unix_path":
        d = tempfile.mkdtemp()
        path = os.path.join(d, "s")
        s = cls(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
        s.Bind(UnixDomainSocketEndPoint(path))
        closers.append(lambda: (os.path.exists(path) and os.unlink(path), os.rmdir(d)))  # type: ignore[func-returns-value]
        return s, path
    s = cls(af, *tcp)
    if kind == "disposed":
        s.Dispose()
    return s, None


def _adopted(lst: Socket, cls: type[Socket]) -> Socket:
    """An accepted connection in a socket of class ``cls`` (BeginAccept's accept_socket form)."""
    target = cls(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
    return lst.EndAccept(lst.BeginAccept(target, 0, None, None))[0]  # type: ignore[no-any-return]


def _record(kind: str, cls_name: str, call: str, tracing: bool, python: bool) -> dict[str, Any]:
    cls = _CLASSES[cls_name]
    closers: list[Callable[[], None]] = []
    _Own.calls = []
    rec: dict[str, Any] = {}
    s, extra = _make(kind, cls, closers)
    try:
        name, args = _CALLS[call]
        method = getattr(type(s), name)
        if python:
            method = getattr(method, "__wrapped__", method)
        with _tracing(tracing) as lines:
            try:
                rec["value"] = method(s, *args)
            except Exception as exc:  # noqa: BLE001 - recorded
                rec["raised"] = (type(exc).__name__, getattr(exc, "ParamName", None), str(exc))
            if kind == "listener_pending":
                # The aborted accept's callback (and its trace) runs on a completion worker.
                rec["pending"] = extra[0].wait(WAIT) if s._disposed else None
        # (Sorted: a completion worker's lines interleave with the caller's as threads run.)
        rec["trace"] = sorted(lines.lines)
        rec["state"] = (s._disposed, s.Connected, s._disconnected, s._io.closed, s.Handle == -1)
        rec["own_dispose"] = list(_Own.calls)
        if kind == "unix_path":
            rec["file"] = os.path.exists(extra)
        if kind == "listener_pending":
            rec["seen"] = list(extra[1])
    finally:
        for close in closers:
            close()
        try:
            s.Dispose()
        except Exception:  # noqa: BLE001, S110 - the record has what counts
            pass
        if kind == "listener_pending":
            extra[0].wait(WAIT)  # its callback runs before the next case traces anything
    return rec


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(_KINDS),
    st.sampled_from(sorted(_CLASSES)),
    st.sampled_from(sorted(_CALLS)),
    st.booleans(),
)
def test_close_and_dispose_match_the_python_methods(kind: str, cls_name: str, call: str, tracing: bool) -> None:
    installed = _record(kind, cls_name, call, tracing, python=False)
    python = _record(kind, cls_name, call, tracing, python=True)
    assert installed == python


def test_the_records_tell_the_cases_apart() -> None:
    """The comparison above can fail: what it records differs where the behaviour does."""
    closed = _record("connected", "Socket", "Close()", False, python=False)
    assert closed["state"] == (True, False, True, True, True) and "raised" not in closed
    refused = _record("connected", "Socket", "Close(-2)", False, python=False)
    assert refused["raised"][:2] == ("ArgumentOutOfRangeException", "timeout")
    assert refused["state"][0] is False
    own = _record("fresh_tcp", "own Dispose", "Close()", False, python=False)
    assert own["own_dispose"] == ["Dispose"]
    traced = _record("fresh_tcp", "Socket", "Close()", True, python=False)
    assert traced["trace"], traced
    unix = _record("unix_path", "Socket", "Dispose()", False, python=False)
    assert unix["file"] is False and unix["state"][0] is True
    pending = _record("listener_pending", "Socket", "close()", False, python=False)
    assert pending["pending"] is True and pending["seen"] == ["SocketException"]


def _finalized(disposed: bool, python: bool) -> tuple[Any, ...]:
    """What ``__del__`` (installed, or the Python one) does to a socket, closed or not."""
    s = Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
    fd = s.Handle
    if disposed:
        s.Dispose()
    finalizer = type(s).__del__
    if python:
        finalizer = getattr(finalizer, "__wrapped__", finalizer)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        finalizer(s)
    gone = not os.path.exists(f"/proc/self/fd/{fd}") or s._io.closed
    record = (
        [(w.category.__name__, str(w.message)) for w in caught],
        s._disposed,
        s._io.closed,
        gone,
    )
    s.Dispose()  # (the real finalizer then finds it disposed)
    return record


def test_the_finalizer_matches_the_python_one() -> None:
    for disposed in (True, False):
        assert _finalized(disposed, python=False) == _finalized(disposed, python=True)
    assert _finalized(True, python=False)[0] == []
    warned = _finalized(False, python=False)
    assert warned[0] and warned[0][0][0] == "ResourceWarning" and warned[3], warned


def test_the_finalizer_of_a_half_made_socket_does_nothing() -> None:
    """A constructor that raised before the socket had its slots: its finalizer must not fail."""
    s = Socket.__new__(Socket)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        type(s).__del__(s)
        getattr(type(s).__del__, "__wrapped__", type(s).__del__)(s)
    assert caught == []
