"""The task model for asyncio: awaitable ``...Async`` methods, and ``FromAsync``.

``await sock.ReceiveFromAsync(buffer, SocketFlags.None_, remote_ep)`` runs the
same engine operation as ``ReceiveFrom`` and ``BeginReceiveFrom``: the
arguments are checked by the same code (and raise at the call, as in .NET),
the outcome is read through the same ``End...`` method, so the exceptions
and ``SocketError`` codes are the same in every model.

How it waits: the operation is tried at once on the loop's thread, and
usually that finishes it (a datagram send, or a receive with data waiting)
without any thread being involved.  Otherwise it waits in the socket's queue
like any other operation, but the engine thread only reports *readiness* for
it: the system call itself is made again on the loop's thread.  So no data is
ever taken off the socket for an awaiter that has been cancelled: a cancelled
receive or accept leaves the socket usable and loses nothing, and the
operation's result is always produced and delivered on the loop's thread.

The I/O starts when the awaitable is first awaited (it is a coroutine, so
``asyncio.create_task`` and ``TaskGroup.create_task`` accept it); a coroutine
that is never awaited does nothing.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Callable, Coroutine
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from . import _lookups
from ._checks import as_transmit_flags, no_flags, send_view
from ._lookups import HostLookup
from ._names import dotnet_names
from ._socket_files import file_elements
from ._socket_messages import new_receive_from_address, store_sender
from .addresses import IPEndPoint
from .asyncresult import IAsyncResult
from .enums import SocketError
from .eventargs import new_accept_op, new_connect_op
from .exceptions import (
    ArgumentException,
    ArgumentNullException,
    ObjectDisposedException,
    SocketException,
)
from .results import SocketReceiveFromResult, SocketReceiveMessageFromResult
from .security import EVENT_PREFIX as _EVENT
from .security import audit as _audit
from .security import denied as _denied
from .telemetry import DATAGRAM as _DGRAM
from .telemetry import tls as _tel

if TYPE_CHECKING:
    from .socket import Socket

__all__ = ["TaskFactory", "from_async"]

_T = TypeVar("_T")
_get_ident = threading.get_ident
_get_running_loop = asyncio.get_running_loop
_CancelledError = asyncio.CancelledError
_SocketOpError = SocketException._from_os_error
_BYTES = (bytes, bytearray)
_sys_audit = sys.audit
_SEND_TO_ASYNC = "dotnet_sockets.Socket.SendToAsync"


class _Ready:
    """Marker value of an operation that the engine found ready but did not run."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "READY"


_READY: Any = _Ready()


# -- operations that run their system call on the loop's thread only --------------------------
# These operations never have a callback (nothing is posted to the completion
# workers), which frees two slots for this model: ``_ctx`` holds the ident of
# the loop's thread, ``_state`` the hook that wakes the awaiter.
_loop_classes: dict[type[Any], type[Any]] = {}


def _loop_class(base: type[Any]) -> type[Any]:
    cls = _loop_classes.get(base)
    if cls is None:
        real_attempt = base.attempt
        real_complete = base._complete

        def attempt(self: Any) -> bool:
            if _get_ident() == self._ctx:
                return bool(real_attempt(self))
            # The engine thread: report readiness, leave the data where it is.
            self._value = _READY
            return True

        def _complete(self: Any, synchronously: bool) -> None:
            if self._done:
                return
            if self._value is _READY:
                self._done = True  # not an outcome: continuations must not see it
            else:
                real_complete(self, synchronously)
                if not self._done:
                    return  # a continuation took over; it completes the operation later
            if not synchronously:
                wake = self._state
                if wake is not None:
                    wake(self)

        # Same layout as the base (no new slots), so an operation made by the
        # Socket's builders can take this class before it is started.
        cls = type(
            f"Loop{base.__name__}", (base,), {"__slots__": (), "attempt": attempt, "_complete": _complete}
        )
        _loop_classes[base] = cls
    return cls


class _Wake:
    """Completion hook of a waiting operation: wakes its awaiter on the loop's thread."""

    __slots__ = ("loop", "fut")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.fut: asyncio.Future[None] = loop.create_future()

    def __call__(self, op: Any) -> None:
        # Any thread: the engine's, or the one closing the socket.
        try:
            self.loop.call_soon_threadsafe(self._fire)
        except RuntimeError:
            pass  # the loop is closed: nobody can be awaiting any more

    def _fire(self) -> None:
        fut = self.fut
        if not fut.done():
            fut.set_result(None)


async def _wait(op: Any, write: bool, on_cancel: Callable[[], None] | None = None) -> None:
    """Wait until a started operation has its real outcome; retry it on this thread when ready."""
    loop = _get_running_loop()
    io = op._io
    op._ctx = _get_ident()
    wake = _Wake(loop)
    op._state = wake
    while True:
        if op._done:
            if op._value is not _READY:
                return
            # The engine saw readiness; make the call here, in queue order.
            op._done = False
            op._value = None
            if write:
                io.start_write(op)
            else:
                io.start_read(op)
            continue
        if wake.fut.done():
            wake.fut = loop.create_future()
        try:
            await wake.fut
        except _CancelledError:
            # Nothing was consumed for this operation (its call only ever
            # runs here); take it out of the queue so that it never is.
            io.cancel(op)
            if on_cancel is not None:
                on_cancel()
            raise


async def _run(
    start: Callable[[Any, Any, Any], None],
    sock: Any,
    op: Any,
    arg: Any,
    write: bool,
    end: Callable[[Any, Any], _T],
) -> _T:
    op._ctx = _get_ident()
    start(sock, op, arg)
    if not op._done or op._value is _READY:
        await _wait(op, write)
    return end(sock, op)


def _start_send_to(sock: Any, op: Any, ep: Any) -> None:
    sock._start_send_to(op, ep)


def _start_read(sock: Any, op: Any, member: Any) -> None:
    sock._begin(op, member, write=False)


def _start_write(sock: Any, op: Any, member: Any) -> None:
    sock._begin(op, member, write=True)


def _check_disposed(sock: Socket) -> None:
    if sock._disposed:
        raise ObjectDisposedException("System.Net.Sockets.Socket")


_socket_missing: Any = None


def _missing() -> Any:
    """socket.py's marker for an argument that was not given (imported late: socket.py imports us)."""
    global _socket_missing
    if _socket_missing is None:
        from ._socket_core import _MISSING

        _socket_missing = _MISSING
    return _socket_missing


# -- the awaitable methods ---------------------------------------------------------------------------
def send_to_async(
    sock: Socket, buffer: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Coroutine[Any, Any, int]:
    """``await SendToAsync(buffer[, socket_flags], remote_ep) -> bytes sent``."""
    if not kwargs and type(buffer) in _BYTES and 0 < len(args) < 3:
        # The plain datagram send (the common case, kept short): bytes to an
        # IPEndPoint without flags; anything else takes the general path below.
        ep = args[-1]
        if type(ep) is IPEndPoint and (len(args) == 1 or no_flags(args[0])) and sock._dgram and not sock._disposed:
            addr = ep._sa_dual if sock._v6 else ep._sa
            if addr is None:
                addr = ep._sockaddr(sock._v6)
            if len(addr) == sock._alen:
                try:
                    _sys_audit(_SEND_TO_ASYNC, sock, ep)
                except PermissionError as exc:
                    raise _denied(exc) from exc
                # Exported from here to the end of the send (see send_view).
                return _send_to_now(sock, send_view(buffer), addr, ep)
    offset, size, flags, ep, buffer = sock._split_overload(buffer, args, True, kwargs)
    _check_disposed(sock)
    if buffer is None:
        raise ArgumentNullException("buffer")
    view = sock._buffer_range(buffer, offset, size, False)
    if ep is None or ep is _missing():
        raise ArgumentNullException("remoteEP")
    addr = sock._sockaddr(ep, "remoteEP")
    _audit(_EVENT + "SendToAsync", sock, ep)
    op = sock._new_send_to(view, flags, addr, None, None)
    op.__class__ = _loop_class(type(op))
    return _run(_start_send_to, sock, op, ep, True, type(sock).EndSendTo)


async def _send_to_now(sock: Socket, buffer: Any, addr: Any, ep: Any) -> int:
    io = sock._io
    if sock._right_ep is not None and not io.wq and not io.closed:
        # What SendToOp.attempt does, without the operation object: the try
        # that finishes almost every datagram send.
        try:
            n: int = sock._sock.sendto(buffer, addr)
        except BlockingIOError:
            pass
        except OSError as exc:
            raise sock._failed(_SocketOpError(exc)) from None
        else:
            _tel.c.sent += n + _DGRAM
            return n
    return await _send_to_queued(sock, buffer, addr, ep)


async def _send_to_queued(sock: Socket, buffer: Any, addr: Any, ep: Any) -> int:
    """The awaited datagram send past its first try: an operation that may wait for room."""
    op = sock._new_send_to(buffer, 0, addr, None, None)
    op.__class__ = _loop_class(type(op))
    return await _run(_start_send_to, sock, op, ep, True, type(sock).EndSendTo)


def receive_from_async(
    sock: Socket, buffer: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Coroutine[Any, Any, SocketReceiveFromResult]:
    """``await ReceiveFromAsync(buffer[, socket_flags], remote_ep) -> SocketReceiveFromResult``."""
    _check_disposed(sock)
    op, hint = sock._new_receive_from(buffer, args, kwargs, None, None)
    op.extra = hint
    op.__class__ = _loop_class(type(op))
    return _run(_start_read, sock, op, "ReceiveFromAsync", False, type(sock).EndReceiveFrom)


def receive_message_from_async(
    sock: Socket, buffer: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Coroutine[Any, Any, SocketReceiveMessageFromResult]:
    """``await ReceiveMessageFromAsync(buffer[, socket_flags], remote_end_point)``."""
    _check_disposed(sock)
    op = sock._new_receive_message_from(buffer, args, kwargs, None, None)
    op.__class__ = _loop_class(type(op))
    return _run(_start_read, sock, op, "ReceiveMessageFromAsync", False, type(sock).EndReceiveMessageFrom)


def receive_from_address_async(
    sock: Socket, buffer: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Coroutine[Any, Any, int]:
    """``await ReceiveFromAsync(buffer, socket_flags, received_address) -> bytes`` (.NET 8)."""
    op, received = new_receive_from_address(sock, buffer, args, kwargs)
    op.__class__ = _loop_class(type(op))
    return _receive_from_address(sock, op, received)


async def _receive_from_address(sock: Socket, op: Any, received: Any) -> int:
    n, sa = await _run(_start_read, sock, op, "ReceiveFromAsync", False, _end_receive_from_raw)
    store_sender(sock, received, sa)
    return int(n)


def _end_receive_from_raw(sock: Any, op: Any) -> Any:
    return sock._end(op, "EndReceiveFrom")._value


def send_file_async(
    sock: Socket, file_name: Any, pre_buffer: Any, post_buffer: Any, flags: Any
) -> Coroutine[Any, Any, None]:
    """``await SendFileAsync(file_name[, pre_buffer, post_buffer, flags])``.

    In .NET's order: a socket that is not a stream fails with ``SocketError.NotConnected``
    (from the await, as .NET's faulted task), then disposed and not connected
    (``NotSupportedException``) raise at the call; a missing file raises from the await.
    """
    if sock._dgram:
        return _not_connected()
    sock._check_send_file()
    options = as_transmit_flags(flags)
    elements = file_elements(file_name, pre_buffer, post_buffer, True)
    return _send_file(sock, elements, options)


async def _not_connected() -> None:
    raise SocketException(SocketError.NotConnected)


async def _send_file(sock: Socket, elements: list[Any], options: Any) -> None:
    op = sock._new_send_packets(elements, options, None, None)
    op.__class__ = _loop_class(type(op))
    op._ctx = _get_ident()
    try:
        _start_write(sock, op, "SendFileAsync")
        if not op._done or op._value is _READY:
            await _wait(op, True)
    finally:
        op.release()
    sock.EndSendFile(op)


def send_async(
    sock: Socket, buffer: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Coroutine[Any, Any, int]:
    """``await SendAsync(buffer[, socket_flags])`` or ``await SendAsync(buffers[, socket_flags])``."""
    _check_disposed(sock)
    op: Any = sock._new_send(buffer, args, kwargs, None, None)
    op.__class__ = _loop_class(type(op))
    return _run(_start_write, sock, op, "SendAsync", True, type(sock).EndSend)


def receive_async(
    sock: Socket, buffer: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Coroutine[Any, Any, int]:
    """``await ReceiveAsync(buffer[, socket_flags])`` or ``await ReceiveAsync(buffers[, socket_flags])``."""
    _check_disposed(sock)
    op: Any = sock._new_receive(buffer, args, kwargs, None, None)
    op.__class__ = _loop_class(type(op))
    return _run(_start_read, sock, op, "ReceiveAsync", False, type(sock).EndReceive)


def accept_async(sock: Socket, accept_socket: Any = None) -> Coroutine[Any, Any, Socket]:
    """``await AcceptAsync()`` or ``await AcceptAsync(accept_socket)`` -> the accepted ``Socket``."""
    _check_disposed(sock)
    op = new_accept_op(sock, accept_socket)
    op.__class__ = _loop_class(type(op))
    return _run(_start_read, sock, op, "AcceptAsync", False, type(sock).EndAccept)


def connect_async(sock: Socket, args: tuple[Any, ...]) -> Coroutine[Any, Any, None]:
    """``await ConnectAsync(endpoint | address, port | host, port | addresses, port)``.

    The addresses are tried in order, as ``Connect`` tries them.  Cancelling
    a connect that is in progress closes the socket, as .NET's cancellation
    of ``ConnectAsync`` does: a half-made connection cannot be taken back.
    """
    sock._check_can_connect()
    endpoints = sock._connect_addresses(args)
    op = new_connect_op(sock, endpoints, "ConnectAsync")
    op.__class__ = _loop_class(type(op))
    return _connect(sock, op)


async def _connect(sock: Socket, op: Any) -> None:
    if isinstance(op.extra, HostLookup):
        # Resolve on the lookup pool while the loop runs on; connect from the loop's thread.
        op.extra = await _lookups.run(partial(sock._resolve_lookup, op.extra))
        sock._throw_if_disposed()
    op._ctx = _get_ident()
    sock._next_connect(op)
    if not op._done or op._value is _READY:
        await _wait(op, True, sock.Dispose)
    sock.EndConnect(op)


def disconnect_async(sock: Socket, reuse_socket: bool) -> Coroutine[Any, Any, None]:
    """``await DisconnectAsync(reuse_socket)``: no waiting on Linux, as in .NET."""
    _check_disposed(sock)
    return _disconnect(sock, reuse_socket)


async def _disconnect(sock: Socket, reuse_socket: bool) -> None:
    _audit(_EVENT + "DisconnectAsync", sock, sock._remote_ep)
    sock.Disconnect(reuse_socket)


# -- FromAsync ---------------------------------------------------------------------------------------
def _check_method(method: Any, name: str) -> None:
    if method is None:
        raise ArgumentNullException(name)
    if not callable(method):
        raise ArgumentException(f"{name} must be callable.", name)


def from_async(
    begin: Callable[..., IAsyncResult], end: Callable[[IAsyncResult], _T], *args: Any
) -> Coroutine[Any, Any, _T]:
    """Turn any Begin/End pair into an awaitable, as .NET's ``Task.Factory.FromAsync``.

    ``await from_async(sock.BeginSendTo, sock.EndSendTo, buf, 0, n, 0, ep)``
    calls ``begin(*args, callback, None)`` when awaited, and ``end`` on the
    loop's thread once the callback has run; what ``end`` returns or raises
    is the result.  An APM operation cannot be withdrawn: if the awaiter is
    cancelled, the operation still completes and ``end`` still observes it,
    but its result is dropped.
    """
    _check_method(begin, "beginMethod")
    _check_method(end, "endMethod")
    return _from_async(begin, end, args)


async def _from_async(
    begin: Callable[..., IAsyncResult], end: Callable[[IAsyncResult], _T], args: tuple[Any, ...]
) -> _T:
    loop = _get_running_loop()
    fut: asyncio.Future[_T] = loop.create_future()

    def settle(ar: IAsyncResult) -> None:
        # On the loop's thread.
        try:
            value = end(ar)
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiter
            if not fut.done():
                fut.set_exception(exc)
            return
        if not fut.done():
            fut.set_result(value)

    def callback(ar: IAsyncResult) -> None:
        try:
            loop.call_soon_threadsafe(settle, ar)
        except RuntimeError:
            pass  # the loop is closed: nobody can be awaiting any more

    begin(*args, callback, None)
    return await fut


@dotnet_names
class TaskFactory:
    """The ``Task.Factory`` of .NET, for what a socket port needs of it: ``FromAsync``."""

    __slots__ = ()

    FromAsync = staticmethod(from_async)

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    from_async = FromAsync
    # -- end of PEP 8 spellings --
