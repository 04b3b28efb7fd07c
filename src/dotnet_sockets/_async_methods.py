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
from ._checks import as_int, no_flags, plain_view, send_view
from ._names import dotnet_names
from ._socket_files import NOT_CONNECTED_MESSAGE
from ._types import BufferList, BytesLike
from .addresses import DnsEndPoint, EndPoint, IPAddress, IPEndPoint
from .cancellation import CancellationToken, await_cancellable
from .enums import AddressFamily, ConnectAlgorithm, SocketFlags, TransmitFileOptions
from .eventargs import SocketAsyncEventArgs
from .exceptions import ArgumentException, ArgumentNullException
from .results import SocketReceiveFromResult, SocketReceiveMessageFromResult
from .security import denied as _denied
from .socketaddress import SocketAddress

if TYPE_CHECKING:
    from .socket import Socket

__all__ = ["AsyncMethodsMixin"]

_T = TypeVar("_T")

_NOT_EVENT: Any = object()
_NO: Any = object()  # a positional argument that was not given
_send_to_event = eventargs.send_to_async
_send_async_event = eventargs.send_async
_receive_async_event = eventargs.receive_async
_receive_from_async_event = eventargs.receive_from_async
_send_to_task = aio.send_to_async
_send_to_now = aio._send_to_now
_short_io = aio.short_io
_RECEIVE, _SEND, _RECEIVE_FROM = aio.RECEIVE, aio.SEND, aio.RECEIVE_FROM
_sys_audit = sys.audit
_SEND_TO_ASYNC = "dotnet_sockets.Socket.SendToAsync"
_BYTES = (bytes, bytearray)
_NONE_FLAGS = SocketFlags.None_


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
    if token is None or (isinstance(token, CancellationToken) and not token.CanBeCanceled):
        return coro
    return await_cancellable(coro, token)  # (a non-token raises TypeError from the await)


def _buffer_first(
    method: str, args: tuple[Any, ...], kwargs: dict[str, Any], names: tuple[str, ...]
) -> tuple[Any, tuple[Any, ...], dict[str, Any]]:
    if args:
        return args[0], args[1:], kwargs
    for name in names:
        if name in kwargs:
            return kwargs.pop(name), args, kwargs
    raise TypeError(f"{method}() needs a SocketAsyncEventArgs or a buffer")


def _short_call(sock: Socket, args: tuple[Any, ...], kwargs: dict[str, Any], kind: int) -> Any:
    """The awaitable of a task-model call plainly valid for ``aio.short_io`` (``kind``), else None.

    The shape is ``(buffer[, no flags][, remote_ep][, token])`` by position (``remote_ep`` an exact
    ``IPEndPoint`` for RECEIVE_FROM), on an open socket; the buffer's hold is the call's own
    (``_checks.plain_view``), ``token`` a trailing ``CancellationToken``.  Anything else is None
    and goes the general way, which keeps every check and its order.
    """
    n = len(args)
    if kwargs or n == 0 or n > 4 or sock._disposed:
        return None
    token = args[n - 1]
    if token is _NONE_FLAGS or not isinstance(token, CancellationToken):
        token = None
    else:
        n -= 1
    ep = None
    if kind == _RECEIVE_FROM:
        ep = args[n - 1]
        if n < 2 or type(ep) is not IPEndPoint:
            return None
        n -= 1
    if n > 2 or (n == 2 and args[1] is not _NONE_FLAGS and not no_flags(args[1])):
        return None
    buffer = args[0]
    # (plain_view's first case, without the call: the hold a bytearray gets is a new export of it)
    view = memoryview(buffer) if type(buffer) is bytearray else plain_view(buffer, kind != _SEND)
    if view is None or (kind != _SEND and not view.nbytes):
        return None  # (0 bytes waits for data: ops.ReceiveZeroOp, built by the general path)
    if ep is not None:
        sock._check_receive_ep(ep, "remoteEP")
    coro = _short_io(sock, view, kind, ep)
    return coro if token is None else _cancellable(coro, token)


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
    @overload
    def SendToAsync(
        self, buffer: BytesLike, socket_flags: SocketFlags | int, socket_address: SocketAddress, /
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
            if (
                type(a2) is IPEndPoint
                and (a1 == 0 if type(a1) is int else no_flags(a1))
                and type(a0) in _BYTES
                and sock._dgram
            ):
                # The awaited datagram send of asyncio loops: straight to its coroutine.
                addr = a2._sa_dual if sock._v6 else a2._sa
                if addr is not None and len(addr) == sock._alen and not sock._disposed:
                    try:
                        _sys_audit(_SEND_TO_ASYNC, sock, a2)
                    except PermissionError as exc:
                        raise _denied(exc) from exc
                    # A bytearray is exported until the send is over (see send_view).
                    return _send_to_now(sock, send_view(a0), addr, a2)
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
        self, buffer: BytesLike, socket_flags: SocketFlags | int, received_address: SocketAddress, /
    ) -> Coroutine[Any, Any, int]: ...
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
        ``await ReceiveFromAsync(buffer[, socket_flags], remote_ep[, cancellation_token]) -> SocketReceiveFromResult``,
        or ``await ReceiveFromAsync(buffer, socket_flags, received_address[, cancellation_token]) -> bytes``
        (.NET 8: the sender is written into the ``SocketAddress``).

        ``remote_ep`` only gives the address family, as in .NET.  A cancelled
        await takes no datagram off the socket.  Argument errors raise from the call, as
        ``ReceiveFrom``'s do (``InvalidOperationException`` too when the socket is not bound);
        errors of the receive go into ``e.SocketError`` or are raised by the await.
        """
        sock: Socket = self  # type: ignore[assignment]
        if len(args) == 1 and type(args[0]) is SocketAsyncEventArgs and not kwargs:
            return _receive_from_async_event(sock, args[0])  # a reused args object, the hot case
        short = _short_call(sock, args, kwargs, _RECEIVE_FROM)
        if short is not None:
            return short  # the plain awaited receive of a datagram: straight to its short path
        e = _event_args(args, kwargs)
        if e is not _NOT_EVENT:
            return _receive_from_async_event(sock, e)
        args, token = _token(args, kwargs)
        buffer, rest, kw = _buffer_first("ReceiveFromAsync", args, kwargs, ("buffer",))
        if (rest and type(rest[-1]) is SocketAddress) or "received_address" in kw:
            return _cancellable(aio.receive_from_address_async(sock, buffer, rest, kw), token)
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
        if len(args) == 1 and type(args[0]) is SocketAsyncEventArgs and not kwargs:
            return _send_async_event(sock, args[0])  # a reused args object, the hot case
        short = _short_call(sock, args, kwargs, _SEND)
        if short is not None:
            return short  # the plain awaited send (one whole buffer, no flags): straight to its short path
        e = _event_args(args, kwargs)
        if e is not _NOT_EVENT:
            return _send_async_event(sock, e)
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
        if len(args) == 1 and type(args[0]) is SocketAsyncEventArgs and not kwargs:
            return _receive_async_event(sock, args[0])  # a reused args object, the hot case
        short = _short_call(sock, args, kwargs, _RECEIVE)
        if short is not None:
            return short  # the plain awaited receive (one whole writable buffer, no flags): straight to its short path
        e = _event_args(args, kwargs)
        if e is not _NOT_EVENT:
            return _receive_async_event(sock, e)
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

    def ConnectAsync(self: Any, *args: Any, **kwargs: Any) -> Any:
        """``ConnectAsync(e) -> bool`` (``e.ConnectSocket`` is the socket once connected), or
        ``await ConnectAsync(remote_ep | address, port | host, port | addresses, port[, cancellation_token])``.

        Cancelling an await while the connection is being made closes the
        socket, as .NET does.  Argument and state errors raise from the call, as ``Connect``'s do;
        a failed connection goes into ``e.SocketError`` or is raised by the await
        (``SocketException``: ``ConnectionRefused``, ``TimedOut``, ``HostNotFound``).
        Called on the class, ``Socket.ConnectAsync(socket_type, protocol_type, e)`` is .NET's
        static form: it makes a socket for ``e.RemoteEndPoint`` (a dual-mode one for a
        ``DnsEndPoint`` of no family) and connects it; ``e.ConnectSocket`` is that socket, which
        is closed again if the connect fails.
        """
        if not isinstance(self, AsyncMethodsMixin):
            return _static_connect_async(self, *args, **kwargs)
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

    @staticmethod
    def CancelConnectAsync(e: SocketAsyncEventArgs) -> None:
        """End a pending ``ConnectAsync(e)`` with ``SocketError.OperationAborted`` (closing its socket)."""
        eventargs.cancel_connect_async(e)

    @overload
    def ReceiveMessageFromAsync(self, e: SocketAsyncEventArgs, /) -> bool: ...
    @overload
    def ReceiveMessageFromAsync(
        self, buffer: Any, socket_flags: SocketFlags | int, remote_end_point: EndPoint, /
    ) -> Coroutine[Any, Any, SocketReceiveMessageFromResult]: ...
    @overload
    def ReceiveMessageFromAsync(
        self, buffer: Any, remote_end_point: EndPoint, /
    ) -> Coroutine[Any, Any, SocketReceiveMessageFromResult]: ...

    def ReceiveMessageFromAsync(self, *args: Any, **kwargs: Any) -> Any:
        """``ReceiveMessageFromAsync(e) -> bool`` (sender in ``e.RemoteEndPoint``, packet information in
        ``e.ReceiveMessageFromPacketInfo``), or ``await ReceiveMessageFromAsync(buffer[, socket_flags],
        remote_end_point[, cancellation_token]) -> SocketReceiveMessageFromResult``.  A cancelled await
        (``task.cancel()``, or the token: ``OperationCanceledException``) takes no datagram.

        Argument errors raise from the call, as ``ReceiveMessageFrom``'s do (``ArgumentNullException``,
        ``ArgumentOutOfRangeException``, ``ArgumentException`` ``remoteEP``/``e``,
        ``InvalidOperationException`` when not bound, ``ObjectDisposedException``); errors of the
        receive go into ``e.SocketError`` or are raised by the await (``SocketException``)."""
        sock: Socket = self  # type: ignore[assignment]
        e = _event_args(args, kwargs)
        if e is not _NOT_EVENT:
            return eventargs.receive_message_from_async(sock, e)
        buffer, rest, kw = _buffer_first("ReceiveMessageFromAsync", args, kwargs, ("buffer",))
        token = kw.pop("cancellation_token", None)
        if rest and isinstance(rest[-1], CancellationToken):
            token, rest = rest[-1], rest[:-1]
        if "remote_end_point" in kw:
            kw["remote_ep"] = kw.pop("remote_end_point")
        return _cancellable(aio.receive_message_from_async(sock, buffer, rest, kw), token)

    def SendPacketsAsync(self, e: SocketAsyncEventArgs) -> bool:
        """Send ``e.SendPacketsElements`` (buffers and files) in order on a connected socket.

        Always pending on Linux: ``Completed`` fires, with ``BytesTransferred`` and
        ``SocketError`` (``InvalidArgument`` when a file range goes past the file's end,
        nothing sent).  ``NotSupportedException`` when not connected; a missing file raises
        ``FileNotFoundError`` from the call.  ``e.SendPacketsFlags`` ``Disconnect`` and
        ``ReuseSocket`` disconnect the socket after the send, before ``Completed``.
        """
        sock: Socket = self  # type: ignore[assignment]
        return eventargs.send_packets_async(sock, e, NOT_CONNECTED_MESSAGE)

    @overload
    def SendFileAsync(self, file_name: str | None) -> Coroutine[Any, Any, None]: ...
    @overload
    def SendFileAsync(
        self, file_name: str | None, pre_buffer: Any, post_buffer: Any, flags: TransmitFileOptions | int
    ) -> Coroutine[Any, Any, None]: ...

    def SendFileAsync(
        self,
        file_name: Any,
        pre_buffer: Any = None,
        post_buffer: Any = None,
        flags: Any = 0,
        cancellation_token: CancellationToken | None = None,
    ) -> Coroutine[Any, Any, None]:
        """``await SendFileAsync(file_name[, pre_buffer, post_buffer, flags][, cancellation_token])``:
        the buffers and the file, in order.

        ``Disconnect``/``ReuseSocket`` disconnect afterwards; other flags are ignored, as on .NET
        for Linux.  A cancelled await (``task.cancel()``, or the token: ``OperationCanceledException``)
        leaves the socket with part of the data sent: a stream cannot take bytes back.

        Raises ``ObjectDisposedException`` and ``NotSupportedException`` (not connected) from the
        call; from the await ``SocketException`` (``NotConnected`` on a socket that is not a stream,
        or the send's error) and ``FileNotFoundError`` for a missing file.
        """
        sock: Socket = self  # type: ignore[assignment]
        if isinstance(pre_buffer, CancellationToken):  # SendFileAsync(file_name, cancellation_token)
            pre_buffer, cancellation_token = None, pre_buffer
        return _cancellable(aio.send_file_async(sock, file_name, pre_buffer, post_buffer, flags), cancellation_token)

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    send_to_async = SendToAsync
    receive_from_async = ReceiveFromAsync
    send_async = SendAsync
    receive_async = ReceiveAsync
    accept_async = AcceptAsync
    connect_async = ConnectAsync
    disconnect_async = DisconnectAsync
    cancel_connect_async = CancelConnectAsync
    receive_message_from_async = ReceiveMessageFromAsync
    send_packets_async = SendPacketsAsync
    send_file_async = SendFileAsync
    # -- end of PEP 8 spellings --



def _static_connect_async(socket_type: Any, protocol_type: Any, e: Any, connect_algorithm: Any = 0) -> bool:
    """``Socket.ConnectAsync(socket_type, protocol_type, e[, connect_algorithm])``."""
    from .socket import Socket

    if e is None:
        raise ArgumentNullException("e")
    if not isinstance(e, SocketAsyncEventArgs):
        raise ArgumentException(f"Expected a SocketAsyncEventArgs, not {type(e).__name__}.", "e")
    if e.BufferList is not None:
        raise ArgumentException("Multiple buffers cannot be used with this method.", "BufferList")
    ep = e.RemoteEndPoint
    if ep is None:
        raise ArgumentNullException("remoteEP")
    ConnectAlgorithm(as_int(connect_algorithm, "connectAlgorithm"))  # .NET 11; both connect in order here
    family = ep.AddressFamily
    if isinstance(ep, DnsEndPoint) and family == AddressFamily.Unspecified:
        sock = Socket(socket_type, protocol_type)  # dual mode: either family of the name's addresses
    else:
        sock = Socket(family, socket_type, protocol_type)
    return eventargs.connect_owned_async(sock, e)
