"""The ``...Async`` methods of ``Socket``: one name, two models, as in .NET.

Called with a ``SocketAsyncEventArgs`` they are the event-based model and
return a bool (``True``: pending, ``Completed`` will fire).  Called with
ordinary arguments they are the task model and return an awaitable for the
running asyncio loop.  ``Socket`` inherits them from this mixin; the models
themselves live in ``eventargs.py`` and ``aio.py``.

Every task-model form takes .NET's ``CancellationToken`` as its last
argument (positional, or ``cancellation_token=``; ``CancellationToken.None_``
when left out, which costs nothing).  Cancelling it ends the await with
``OperationCanceledException`` and loses nothing, exactly as ``task.cancel()``
does (which still raises ``asyncio.CancelledError``): a receive takes no
datagram or byte off the socket, an accept leaves the connection for the
next accept, a stream send has handed over a prefix of its bytes.  A token
already cancelled raises when awaited, before any I/O.
"""

from __future__ import annotations

import sys
from collections.abc import Coroutine, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, overload

from . import aio, eventargs
from ._names import dotnet_names
from ._types import BufferList, BytesLike
from .addresses import EndPoint, IPAddress, IPEndPoint
from .cancellation import CancellationToken, await_cancellable
from .enums import SocketFlags
from .eventargs import SocketAsyncEventArgs
from .results import SocketReceiveFromResult
from .security import denied as _denied

if TYPE_CHECKING:
    from .socket import Socket

__all__ = ["AsyncMethodsMixin"]

_T = TypeVar("_T")

_NOT_EVENT: Any = object()
_NO: Any = object()  # a positional argument that was not given
_send_to_event = eventargs.send_to_async
_send_to_task = aio.send_to_async
_send_to_now = aio._send_to_now
_sys_audit = sys.audit
_SEND_TO_ASYNC = "dotnet_sockets.Socket.SendToAsync"
_BYTES = (bytes, bytearray)


def _event_args(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The ``e`` of an event-based call, or ``_NOT_EVENT`` for a task-model call."""
    if len(args) == 1 and not kwargs:
        e = args[0]
        if e is None or isinstance(e, SocketAsyncEventArgs):
            return e
    elif not args and len(kwargs) == 1 and "e" in kwargs:
        return kwargs["e"]
    return _NOT_EVENT


def _token(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[tuple[Any, ...], CancellationToken | None]:
    """Peel .NET's trailing ``CancellationToken`` (positional, or ``cancellation_token=``) off a task-model call."""
    token = kwargs.pop("cancellation_token", None)
    if token is None:
        if args and isinstance(args[-1], CancellationToken):
            return args[:-1], args[-1]
        return args, None
    if not isinstance(token, CancellationToken):
        raise TypeError(f"cancellation_token must be a CancellationToken, not {type(token).__name__}")
    return args, token


def _cancellable(coro: Coroutine[Any, Any, _T], token: CancellationToken | None) -> Coroutine[Any, Any, _T]:
    """The awaitable of a task-model call: ``coro`` itself unless ``token`` can be cancelled."""
    if token is None or not token.CanBeCanceled:
        return coro
    return await_cancellable(coro, token)


def _buffer_first(
    method: str, args: tuple[Any, ...], kwargs: dict[str, Any], names: tuple[str, ...]
) -> tuple[Any, tuple[Any, ...], dict[str, Any]]:
    if args:
        return args[0], args[1:], kwargs
    for name in names:
        if name in kwargs:
            return kwargs.pop(name), args, kwargs
    raise TypeError(f"{method}() needs a SocketAsyncEventArgs or a buffer")


@dotnet_names
class AsyncMethodsMixin:
    """``ConnectAsync``, ``AcceptAsync``, ``SendAsync``, ``SendToAsync``, ``ReceiveAsync``,
    ``ReceiveFromAsync`` and ``DisconnectAsync`` for ``Socket``."""

    __slots__ = ()

    @overload
    def SendToAsync(self, e: SocketAsyncEventArgs, /) -> bool: ...
    @overload
    def SendToAsync(
        self, buffer: BytesLike, /, remote_ep: EndPoint, cancellation_token: CancellationToken = ...
    ) -> Coroutine[Any, Any, int]: ...
    @overload
    def SendToAsync(
        self,
        buffer: BytesLike,
        /,
        socket_flags: SocketFlags | int,
        remote_ep: EndPoint,
        cancellation_token: CancellationToken = ...,
    ) -> Coroutine[Any, Any, int]: ...
    @overload
    def SendToAsync(
        self,
        buffer: BytesLike,
        /,
        size: int,
        socket_flags: SocketFlags | int,
        remote_ep: EndPoint,
        cancellation_token: CancellationToken = ...,
    ) -> Coroutine[Any, Any, int]: ...
    @overload
    def SendToAsync(
        self,
        buffer: BytesLike,
        /,
        offset: int,
        size: int,
        socket_flags: SocketFlags | int,
        remote_ep: EndPoint,
        cancellation_token: CancellationToken = ...,
    ) -> Coroutine[Any, Any, int]: ...

    def SendToAsync(
        self,
        a0: Any = _NO,
        a1: Any = _NO,
        a2: Any = _NO,
        a3: Any = _NO,
        a4: Any = _NO,
        a5: Any = _NO,
        /,
        **kwargs: Any,
    ) -> Any:
        """``SendToAsync(e) -> bool`` (event-based), or
        ``await SendToAsync(buffer[, [[offset,] size,] socket_flags], remote_ep[, cancellation_token])
        -> bytes sent`` (asyncio).

        Argument errors raise from the call, in the order of ``SendTo``
        (``ObjectDisposedException``, ``ArgumentNullException``, ``ArgumentOutOfRangeException``,
        ``ArgumentException``; ``InvalidOperationException`` when ``e`` is already in use;
        ``SecurityException``).  Errors of the send go into ``e.SocketError`` or are raised by the
        await as ``SocketException``.  An unbound socket is bound by the send, and
        ``LocalEndPoint`` is set from then on, as in the other models.
        """
        sock: Socket = self  # type: ignore[assignment]
        # Positional parameters rather than *args: the two hot shapes below
        # (a reused args object; an awaited datagram send) then cost no tuple.
        if a1 is _NO and not kwargs:
            if a0 is None or isinstance(a0, SocketAsyncEventArgs):
                return _send_to_event(sock, a0)
        elif a3 is _NO and a2 is not _NO and not kwargs:
            if type(a2) is IPEndPoint and not a1 and type(a0) in _BYTES and sock._dgram:
                # The awaited datagram send of asyncio loops: straight to its coroutine.
                addr = a2._sa_dual if sock._v6 else a2._sa
                if addr is not None and len(addr) == sock._alen and not sock._disposed:
                    try:
                        _sys_audit(_SEND_TO_ASYNC, sock, a2)
                    except PermissionError as exc:
                        raise _denied(exc) from exc
                    return _send_to_now(sock, a0, addr, a2)
        args = tuple(a for a in (a0, a1, a2, a3, a4, a5) if a is not _NO)
        e = _event_args(args, kwargs)
        if e is not _NOT_EVENT:
            return _send_to_event(sock, e)
        args, token = _token(args, kwargs)
        buffer, rest, kw = _buffer_first("SendToAsync", args, kwargs, ("buffer",))
        return _cancellable(_send_to_task(sock, buffer, rest, kw), token)

    @overload
    def ReceiveFromAsync(self, e: SocketAsyncEventArgs, /) -> bool: ...
    @overload
    def ReceiveFromAsync(
        self, buffer: BytesLike, remote_ep: EndPoint, cancellation_token: CancellationToken = ...
    ) -> Coroutine[Any, Any, SocketReceiveFromResult]: ...
    @overload
    def ReceiveFromAsync(
        self,
        buffer: BytesLike,
        socket_flags: SocketFlags | int,
        remote_ep: EndPoint,
        cancellation_token: CancellationToken = ...,
    ) -> Coroutine[Any, Any, SocketReceiveFromResult]: ...
    @overload
    def ReceiveFromAsync(
        self,
        buffer: BytesLike,
        size: int,
        socket_flags: SocketFlags | int,
        remote_ep: EndPoint,
        cancellation_token: CancellationToken = ...,
    ) -> Coroutine[Any, Any, SocketReceiveFromResult]: ...
    @overload
    def ReceiveFromAsync(
        self,
        buffer: BytesLike,
        offset: int,
        size: int,
        socket_flags: SocketFlags | int,
        remote_ep: EndPoint,
        cancellation_token: CancellationToken = ...,
    ) -> Coroutine[Any, Any, SocketReceiveFromResult]: ...

    def ReceiveFromAsync(self, *args: Any, **kwargs: Any) -> Any:
        """``ReceiveFromAsync(e) -> bool`` (the sender goes to ``e.RemoteEndPoint``), or
        ``await ReceiveFromAsync(buffer[, socket_flags], remote_ep[, cancellation_token]) -> SocketReceiveFromResult``.

        ``remote_ep`` only gives the address family, as in .NET.  A cancelled
        await takes no datagram off the socket.  Argument errors raise from the call, as
        ``ReceiveFrom``'s do (``InvalidOperationException`` too when the socket is not bound);
        errors of the receive go into ``e.SocketError`` or are raised by the await.
        """
        sock: Socket = self  # type: ignore[assignment]
        e = _event_args(args, kwargs)
        if e is not _NOT_EVENT:
            return eventargs.receive_from_async(sock, e)
        args, token = _token(args, kwargs)
        buffer, rest, kw = _buffer_first("ReceiveFromAsync", args, kwargs, ("buffer",))
        return _cancellable(aio.receive_from_async(sock, buffer, rest, kw), token)

    @overload
    def SendAsync(self, e: SocketAsyncEventArgs, /) -> bool: ...
    @overload
    def SendAsync(
        self, buffer: BytesLike, socket_flags: SocketFlags | int = ..., cancellation_token: CancellationToken = ...
    ) -> Coroutine[Any, Any, int]: ...
    @overload
    def SendAsync(self, buffers: BufferList, /, socket_flags: SocketFlags | int = ...) -> Coroutine[Any, Any, int]: ...

    def SendAsync(self, *args: Any, **kwargs: Any) -> Any:
        """``SendAsync(e) -> bool``, or
        ``await SendAsync(buffer | buffers[, socket_flags][, cancellation_token]) -> bytes sent``.

        On a stream socket the send completes when every byte is handed to the kernel.  Argument
        errors raise from the call, as ``Send``'s do; errors of the send go into ``e.SocketError``
        or are raised by the await (``SocketException``).
        """
        sock: Socket = self  # type: ignore[assignment]
        e = _event_args(args, kwargs)
        if e is not _NOT_EVENT:
            return eventargs.send_async(sock, e)
        args, token = _token(args, kwargs)
        buffer, rest, kw = _buffer_first("SendAsync", args, kwargs, ("buffer", "buffers"))
        return _cancellable(aio.send_async(sock, buffer, rest, kw), token)

    @overload
    def ReceiveAsync(self, e: SocketAsyncEventArgs, /) -> bool: ...
    @overload
    def ReceiveAsync(
        self, buffer: BytesLike, socket_flags: SocketFlags | int = ..., cancellation_token: CancellationToken = ...
    ) -> Coroutine[Any, Any, int]: ...
    @overload
    def ReceiveAsync(
        self, buffers: BufferList, /, socket_flags: SocketFlags | int = ...
    ) -> Coroutine[Any, Any, int]: ...

    def ReceiveAsync(self, *args: Any, **kwargs: Any) -> Any:
        """``ReceiveAsync(e) -> bool``, or
        ``await ReceiveAsync(buffer | buffers[, socket_flags][, cancellation_token]) -> bytes``.

        0 bytes from a stream socket means the peer closed its side.  A
        cancelled await takes no data off the socket.  Argument errors raise from the call, as
        ``Receive``'s do; errors of the receive go into ``e.SocketError`` or are raised by the
        await (``SocketException``).
        """
        sock: Socket = self  # type: ignore[assignment]
        e = _event_args(args, kwargs)
        if e is not _NOT_EVENT:
            return eventargs.receive_async(sock, e)
        args, token = _token(args, kwargs)
        buffer, rest, kw = _buffer_first("ReceiveAsync", args, kwargs, ("buffer", "buffers"))
        return _cancellable(aio.receive_async(sock, buffer, rest, kw), token)

    @overload
    def AcceptAsync(self, e: SocketAsyncEventArgs, /) -> bool: ...
    @overload
    def AcceptAsync(self, cancellation_token: CancellationToken = ...) -> Coroutine[Any, Any, Socket]: ...
    @overload
    def AcceptAsync(
        self, accept_socket: Socket | None, cancellation_token: CancellationToken = ...
    ) -> Coroutine[Any, Any, Socket]: ...

    def AcceptAsync(self, *args: Any, **kwargs: Any) -> Any:
        """``AcceptAsync(e) -> bool`` (the new socket goes to ``e.AcceptSocket``), or
        ``await AcceptAsync([accept_socket][, cancellation_token]) -> Socket``.

        The socket must be bound and listening.  A cancelled await accepts nothing.

        Raises from the call ``ObjectDisposedException`` (closed) and ``InvalidOperationException``
        (not bound, not listening, ``accept_socket`` bound or connected, ``e`` already in use) and
        ``ArgumentException`` (``accept_socket`` not a ``Socket``); a
        failed accept goes into ``e.SocketError`` or is raised by the await as ``SocketException``
        (``OperationAborted`` when the socket is closed meanwhile).
        """
        sock: Socket = self  # type: ignore[assignment]
        e = _event_args(args, kwargs)
        if e is not _NOT_EVENT:
            return eventargs.accept_async(sock, e)
        args, token = _token(args, kwargs)
        accept_socket = kwargs.pop("accept_socket", args[0] if args else None)
        if len(args) > 1 or kwargs:
            raise TypeError("AcceptAsync() takes a SocketAsyncEventArgs or an optional accept_socket")
        return _cancellable(aio.accept_async(sock, accept_socket), token)

    @overload
    def ConnectAsync(self, e: SocketAsyncEventArgs, /) -> bool: ...
    @overload
    def ConnectAsync(
        self, remote_ep: EndPoint, cancellation_token: CancellationToken = ...
    ) -> Coroutine[Any, Any, None]: ...
    @overload
    def ConnectAsync(
        self, address: IPAddress, port: int, cancellation_token: CancellationToken = ...
    ) -> Coroutine[Any, Any, None]: ...
    @overload
    def ConnectAsync(
        self, host: str, port: int, cancellation_token: CancellationToken = ...
    ) -> Coroutine[Any, Any, None]: ...
    @overload
    def ConnectAsync(
        self, addresses: Sequence[IPAddress], port: int, cancellation_token: CancellationToken = ...
    ) -> Coroutine[Any, Any, None]: ...

    def ConnectAsync(self, *args: Any, **kwargs: Any) -> Any:
        """``ConnectAsync(e) -> bool`` (``e.ConnectSocket`` is the socket once connected), or
        ``await ConnectAsync(remote_ep | address, port | host, port | addresses, port[, cancellation_token])``.

        Cancelling an await while the connection is being made closes the
        socket, as .NET does.  Argument and state errors raise from the call, as ``Connect``'s do;
        a failed connection goes into ``e.SocketError`` or is raised by the await
        (``SocketException``: ``ConnectionRefused``, ``TimedOut``, ``HostNotFound``).
        """
        sock: Socket = self  # type: ignore[assignment]
        e = _event_args(args, kwargs)
        if e is not _NOT_EVENT:
            return eventargs.connect_async(sock, e)
        args, token = _token(args, kwargs)
        pos = args
        if kwargs:
            names = ("remote_ep", "address", "host", "addresses", "port")
            unknown = set(kwargs) - set(names)
            if unknown:
                raise TypeError(f"ConnectAsync() got unexpected arguments {sorted(unknown)}")
            pos = pos + tuple(kwargs[k] for k in names if k in kwargs)
        return _cancellable(aio.connect_async(sock, pos), token)

    @overload
    def DisconnectAsync(self, e: SocketAsyncEventArgs, /) -> bool: ...
    @overload
    def DisconnectAsync(
        self, reuse_socket: bool, cancellation_token: CancellationToken = ...
    ) -> Coroutine[Any, Any, None]: ...

    def DisconnectAsync(self, *args: Any, **kwargs: Any) -> Any:
        """``DisconnectAsync(e) -> bool`` (uses ``e.DisconnectReuseSocket``), or
        ``await DisconnectAsync(reuse_socket[, cancellation_token])``.  Both finish at once on Linux.

        Raises ``ObjectDisposedException`` from the call on a closed socket; the disconnect's own
        ``SocketException`` (``NotConnected`` on a socket that never connected) goes into
        ``e.SocketError`` or is raised by the await.
        """
        sock: Socket = self  # type: ignore[assignment]
        e = _event_args(args, kwargs)
        if e is not _NOT_EVENT:
            return eventargs.disconnect_async(sock, e)
        args, token = _token(args, kwargs)
        reuse = kwargs.pop("reuse_socket", args[0] if args else _NOT_EVENT)
        if reuse is _NOT_EVENT or len(args) > 1 or kwargs:
            raise TypeError("DisconnectAsync() takes a SocketAsyncEventArgs or reuse_socket")
        return _cancellable(aio.disconnect_async(sock, bool(reuse)), token)

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    send_to_async = SendToAsync
    receive_from_async = ReceiveFromAsync
    send_async = SendAsync
    receive_async = ReceiveAsync
    accept_async = AcceptAsync
    connect_async = ConnectAsync
    disconnect_async = DisconnectAsync
    # -- end of PEP 8 spellings --
