"""``SocketAsyncEventArgs``: .NET's event-based socket model, on the one engine.

High-throughput .NET servers keep one ``SocketAsyncEventArgs`` per operation
slot and reuse it: ``sock.ReceiveFromAsync(e)`` returns ``True`` when the
operation is pending (``e.Completed`` then fires on a completion thread) and
``False`` when it finished inside the call (``Completed`` does not fire; the
caller reads the results from ``e`` at once).  Errors of the operation go into
``e.SocketError``; only argument errors and misuse raise.

Each ``...Async(e)`` builds the same engine operation as the synchronous and
``Begin...`` calls, through ``Socket``'s own builders, and reads the outcome
through the matching ``End...`` method, so every model shares the same checks,
error codes and endpoint bookkeeping.  The only difference is how completion
is reported: the operation runs without a callback while the call is under
way, so an operation that finishes inside the call completes silently (the
call returns ``False``); otherwise ``e``'s completion callback is put in
place and the completion workers run it.

The steady state of a reused ``e`` is shorter: ``SendAsync``, ``ReceiveAsync``,
``ReceiveFromAsync`` and ``SendToAsync`` with a buffer ``SetBuffer`` made, no
flags, nothing queued in that direction and tracing off make the system call
themselves and write the outcome into ``e`` (no operation object, no result
object); ``AcceptAsync`` without an ``AcceptSocket`` tries its operation in
the call and reads it there.  They take only that plainly valid case; a call
that would block becomes the ``Begin...`` operation from there, and anything
else takes the general path, which keeps every rule.
"""

from __future__ import annotations

import contextvars
import socket as _socket
import sys
from collections.abc import Callable, Iterator
from logging import DEBUG as _DEBUG
from typing import TYPE_CHECKING, Any, overload

from ._checks import as_buffer, as_int, buffer_list, no_flags, send_view
from ._engine.dispatch import dispatcher, report_exception
from ._lookups import HostLookup
from ._names import dotnet_names
from ._types import BytesLike
from .addresses import EndPoint, IPEndPoint
from .enums import SocketAsyncOperation, TransmitFileOptions
from .enums import SocketError as _SocketError
from .enums import SocketFlags as _SocketFlags
from .exceptions import (
    ArgumentException,
    ArgumentNullException,
    ArgumentOutOfRangeException,
    InvalidOperationException,
    NotSupportedException,
    ObjectDisposedException,
    SocketException,
)
from .execution_context import capture_context
from .packets import SendPacketsElement
from .results import IPPacketInformation
from .security import EVENT_PREFIX as _EVENT
from .security import audit as _audit
from .security import denied as _denied
from .telemetry import DATAGRAM as _DGRAM
from .telemetry import tls as _tel
from .tracing import log

if TYPE_CHECKING:
    from ._engine.opqueue import OpQueue
    from .socket import Socket

__all__ = ["SocketAsyncEventArgs", "CompletedEvent"]

EventHandler = Callable[[Any, "SocketAsyncEventArgs"], object]
"""A ``Completed`` handler: ``handler(sender, e)``, as .NET's ``EventHandler<SocketAsyncEventArgs>``."""

_post = dispatcher.post
_sys_audit = sys.audit
_SEND_TO = SocketAsyncOperation.SendTo
_SEND = SocketAsyncOperation.Send
_RECEIVE = SocketAsyncOperation.Receive
_RECEIVE_FROM = SocketAsyncOperation.ReceiveFrom
_ACCEPT = SocketAsyncOperation.Accept
_SEND_TO_ASYNC = "dotnet_sockets.Socket.SendToAsync"
_SEND_ASYNC = _EVENT + "SendAsync"
_RECEIVE_ASYNC = _EVENT + "ReceiveAsync"
_RECEIVE_FROM_ASYNC = _EVENT + "ReceiveFromAsync"
_ACCEPT_ASYNC = _EVENT + "AcceptAsync"
# What the short path of SendAsync(e) sends as it is (SetBuffer made any other buffer one of these).
_SEND_SEGMENTS = (bytes, bytearray, memoryview)
_tracing = log.isEnabledFor
_SocketOpError = SocketException._from_os_error
_Context = contextvars.Context
_SUCCESS = _SocketError.Success
_NO_FLAGS = _SocketFlags.None_
_TRUNCATED = _SocketFlags.Truncated
_TRUNC = _socket.MSG_TRUNC
_NO_PACKET_INFO = IPPacketInformation()

# Operation states, as .NET's SocketAsyncEventArgs.OperationState.
_CONFIGURING = -1
_FREE = 0
_IN_PROGRESS = 1
_DISPOSED = 2

_IN_USE_MESSAGE = "An asynchronous socket operation is already in progress using this SocketAsyncEventArgs instance."
_AMBIGUOUS_MESSAGE = "Buffer and BufferList properties cannot both be set to non-null values."


class CompletedEvent:
    """The ``Completed`` event of a ``SocketAsyncEventArgs``.

    Subscribe with ``e.Completed += handler`` and unsubscribe with
    ``e.Completed -= handler``, as in C#; ``e.Completed = handler`` replaces
    every subscriber with one handler and ``e.Completed = None`` removes them
    all.  Handlers run in subscription order as ``handler(sender, e)``, where
    ``sender`` is the socket that ran the operation.
    """

    __slots__ = ("_handlers",)

    def __init__(self) -> None:
        # A tuple, replaced on change: a completion thread iterating it while
        # another thread subscribes sees one consistent list.
        self._handlers: tuple[EventHandler, ...] = ()

    def add(self, handler: EventHandler | None) -> None:
        """``+=``: subscribe ``handler`` (``None`` is ignored, as C# ignores a null delegate)."""
        if handler is None:
            return
        if not callable(handler):
            raise ArgumentException("A Completed handler must be callable as handler(sender, e).", "value")
        self._handlers = (*self._handlers, handler)

    def remove(self, handler: EventHandler | None) -> None:
        """``-=``: remove the last subscription of ``handler``; unknown handlers are ignored."""
        hs = self._handlers
        for i in range(len(hs) - 1, -1, -1):
            if hs[i] == handler:
                self._handlers = hs[:i] + hs[i + 1 :]
                return

    def clear(self) -> None:
        self._handlers = ()

    def __iadd__(self, handler: EventHandler | None) -> CompletedEvent:
        self.add(handler)
        return self

    def __isub__(self, handler: EventHandler | None) -> CompletedEvent:
        self.remove(handler)
        return self

    def __call__(self, sender: Any, e: SocketAsyncEventArgs) -> None:
        for handler in self._handlers:
            handler(sender, e)

    def __len__(self) -> int:
        return len(self._handlers)

    def __bool__(self) -> bool:
        return bool(self._handlers)

    def __iter__(self) -> Iterator[EventHandler]:
        return iter(self._handlers)

    def __repr__(self) -> str:
        return f"<CompletedEvent with {len(self._handlers)} handler(s)>"


def _check_segment(length: int, offset: Any, count: Any) -> tuple[int, int]:
    """SetBuffer's range check: ``offset`` in 0..length, ``count`` in 0..length-offset."""
    if type(offset) is not int:
        offset = as_int(offset, "offset")
    if offset < 0 or offset > length:
        raise ArgumentOutOfRangeException("offset", offset)
    if type(count) is not int:
        count = as_int(count, "count")
    if count < 0 or count > length - offset:
        raise ArgumentOutOfRangeException("count", count)
    return offset, count


@dotnet_names
class SocketAsyncEventArgs:
    """One reusable asynchronous socket operation (.NET's ``SocketAsyncEventArgs``).

    Set the buffer (``SetBuffer``) or ``BufferList``, the ``RemoteEndPoint``
    and ``SocketFlags`` as the operation needs, subscribe to ``Completed``,
    then pass it to ``ConnectAsync``, ``AcceptAsync``, ``SendAsync``,
    ``SendToAsync``, ``ReceiveAsync``, ``ReceiveFromAsync`` or
    ``DisconnectAsync``.  When that call returns ``True`` the results
    (``BytesTransferred``, ``SocketError``, ``RemoteEndPoint``,
    ``AcceptSocket``, ``ConnectSocket``) are filled in before ``Completed``
    fires; when it returns ``False`` they are ready at once.  One object runs
    one operation at a time: starting another while it is pending raises
    ``InvalidOperationException``.  The object is free again by the time
    ``Completed`` runs, so a handler may start the next operation with it.

    ``SocketAsyncEventArgs(unsafe_suppress_execution_context_flow=True)``
    runs handlers in an empty ``contextvars`` context instead of the one
    current when the operation started.
    """

    __slots__ = (
        "_accept_socket",
        "_connect_socket",
        "_buffer",
        "_seg",
        "_offset",
        "_count",
        "_buffer_list",
        "_list_items",
        "_bytes",
        "_reuse",
        "_last_op",
        "_remote_ep",
        "_error",
        "_connect_error",
        "_flags",
        "_token",
        "_completed",
        "_flow",
        "_operating",
        "_dispose_called",
        "_socket",
        "_finish",
        "_scatter",
        "_on_op",
        "_packet_info",
        "_send_packets",
        "_send_packets_flags",
        "_send_packets_size",
        "__weakref__",
    )

    def __init__(self, unsafe_suppress_execution_context_flow: bool = False) -> None:
        self._accept_socket: Socket | None = None
        self._connect_socket: Socket | None = None
        self._buffer: Any = None
        # The bytes the operation uses: the buffer itself when the segment is
        # all of it (no export, so a bytearray stays resizable), else a view.
        self._seg: Any = None
        self._offset = 0
        self._count = 0
        self._buffer_list: Any = None
        self._list_items: list[Any] | None = None
        self._bytes = 0
        self._reuse = False
        self._last_op = SocketAsyncOperation.None_
        self._remote_ep: EndPoint | None = None
        self._error = _SUCCESS
        self._connect_error: BaseException | None = None
        self._flags: _SocketFlags | int = _NO_FLAGS
        self._token: Any = None
        self._completed = CompletedEvent()
        self._flow = not unsafe_suppress_execution_context_flow
        self._operating = _FREE
        self._dispose_called = False
        self._socket: Socket | None = None
        self._finish: Callable[[SocketAsyncEventArgs, Any, Any], None] | None = None
        # A pending ReceiveFromAsync into a BufferList: the datagram's landing buffer, and the
        # list's buffers exported at the start (what it is copied into when it arrives).
        self._scatter: tuple[bytearray, list[memoryview]] | None = None
        # Bound once: the completion callback of every pending operation.
        self._on_op = self._async_completion
        self._packet_info: IPPacketInformation = _NO_PACKET_INFO
        self._send_packets: list[SendPacketsElement | None] | None = None
        self._send_packets_flags = TransmitFileOptions.UseDefaultWorkerThread
        self._send_packets_size = 0

    # -- properties -----------------------------------------------------------
    @property
    def AcceptSocket(self) -> Socket | None:
        """The accepted socket after ``AcceptAsync``; set it beforehand to accept into a socket of yours."""
        return self._accept_socket

    @AcceptSocket.setter
    def AcceptSocket(self, value: Socket | None) -> None:
        self._accept_socket = value

    @property
    def ConnectSocket(self) -> Socket | None:
        """The connected socket after a successful ``ConnectAsync``; ``None`` otherwise."""
        return self._connect_socket

    @property
    def ConnectByNameError(self) -> BaseException | None:
        """The exception of a failed ``ConnectAsync`` (``None`` after success)."""
        return self._connect_error

    @property
    def Buffer(self) -> Any:
        """The buffer given to ``SetBuffer`` (``None`` when there is none)."""
        return self._buffer

    @property
    def MemoryBuffer(self) -> memoryview | None:
        """A byte view of the whole buffer, or ``None``."""
        buf = self._buffer
        if buf is None:
            return None
        view = as_buffer(buf)
        return view if isinstance(view, memoryview) else memoryview(view)

    @property
    def Offset(self) -> int:
        """Where in ``Buffer`` the operation starts."""
        return self._offset

    @property
    def Count(self) -> int:
        """How many bytes of ``Buffer`` (from ``Offset``) the operation may send or fill."""
        return self._count

    @property
    def BufferList(self) -> Any:
        """A list of buffers (or ``(buffer, offset, count)`` segments) to gather from or scatter into.

        Exclusive with ``Buffer``: setting one while the other is set raises
        ``ArgumentException``.  The list is copied when set, as .NET does, so
        later changes to it do not affect operations.
        """
        return self._buffer_list

    @BufferList.setter
    def BufferList(self, value: Any) -> None:
        self._start_configuring()
        try:
            if value is not None:
                if self._buffer is not None:
                    raise ArgumentException(_AMBIGUOUS_MESSAGE)
                if isinstance(value, (bytes, bytearray, memoryview, str)):
                    raise ArgumentException("BufferList must be a list of buffers.", "value")
                try:
                    items = list(value)
                except TypeError:
                    raise ArgumentException("BufferList must be a list of buffers.", "value") from None
                for item in items:
                    if isinstance(item, tuple) and len(item) == 3:
                        buf, off, cnt = item
                        _check_segment(len(as_buffer(buf, "value")), off, cnt)
                    else:
                        as_buffer(item, "value")
                self._list_items = items
            else:
                self._list_items = None
            self._buffer_list = value
        finally:
            self._configured()

    @property
    def BytesTransferred(self) -> int:
        """Bytes sent or received by the last operation."""
        return self._bytes

    @property
    def Completed(self) -> CompletedEvent:
        """The event raised when a pending operation completes: ``e.Completed += handler``."""
        return self._completed

    @Completed.setter
    def Completed(self, value: CompletedEvent) -> None:
        # ``e.Completed += h`` reads the event, adds to it and assigns it back.  Typed as the
        # event alone, as C# allows only += and -= from outside: with the handler forms in the
        # setter's type, mypy reads that union back and rejects ``+=``.  At run time a handler
        # (one subscriber) or None (none) is still accepted.
        if value is self._completed:
            return
        if value is None:
            self._completed.clear()
            return
        if isinstance(value, CompletedEvent):
            self._completed._handlers = value._handlers
            return
        if not callable(value):
            raise ArgumentException("A Completed handler must be callable as handler(sender, e).", "value")
        self._completed._handlers = (value,)

    @property
    def DisconnectReuseSocket(self) -> bool:
        """Whether ``DisconnectAsync`` leaves the socket able to connect again."""
        return self._reuse

    @DisconnectReuseSocket.setter
    def DisconnectReuseSocket(self, value: bool) -> None:
        self._reuse = bool(value)

    @property
    def LastOperation(self) -> SocketAsyncOperation:
        """The kind of the operation most recently started with this object."""
        return self._last_op

    @property
    def RemoteEndPoint(self) -> EndPoint | None:
        """Where ``SendToAsync``/``ConnectAsync`` go; after ``ReceiveFromAsync``, the sender."""
        return self._remote_ep

    @RemoteEndPoint.setter
    def RemoteEndPoint(self, value: EndPoint | None) -> None:
        self._remote_ep = value

    @property
    def SocketError(self) -> _SocketError:
        """The outcome of the last operation (``SocketError.Success`` when it worked)."""
        return self._error

    @SocketError.setter
    def SocketError(self, value: _SocketError | int) -> None:
        try:
            self._error = _SocketError(value)
        except (ValueError, TypeError):
            raise ArgumentException(f"{value!r} is not a SocketError value.", "value") from None

    @property
    def SocketFlags(self) -> _SocketFlags | int:
        """Flags for the next operation; after a completion, the flags it reported: ``Truncated``
        when a datagram receive (``ReceiveAsync``, ``ReceiveFromAsync``, ``ReceiveMessageFromAsync``)
        got a datagram larger than the buffer (the bytes that fit, no error), else ``None_``."""
        return self._flags

    @SocketFlags.setter
    def SocketFlags(self, value: _SocketFlags | int) -> None:
        # Only integers: .NET's property is an enum, and a value whose truth cannot be
        # taken (a released buffer) must fail here, not inside the next operation.
        self._flags = value if isinstance(value, int) else as_int(value, "value")

    @property
    def ReceiveMessageFromPacketInfo(self) -> IPPacketInformation:
        """Where the datagram of the last ``ReceiveMessageFromAsync`` was sent (address, interface)."""
        return self._packet_info

    @property
    def SendPacketsElements(self) -> list[SendPacketsElement | None] | None:
        """What ``SendPacketsAsync`` sends, in order (``None`` items are skipped)."""
        return self._send_packets

    @SendPacketsElements.setter
    def SendPacketsElements(self, value: Any) -> None:
        self._start_configuring()
        try:
            if value is None:
                self._send_packets = None
            else:
                not_a_list = ArgumentException("SendPacketsElements must be a list of SendPacketsElement.", "value")
                if isinstance(value, (SendPacketsElement, bytes, bytearray, memoryview, str)):
                    raise not_a_list
                try:
                    items = list(value)
                except TypeError:
                    raise not_a_list from None
                for item in items:
                    if item is not None and not isinstance(item, SendPacketsElement):
                        raise ArgumentException(f"Expected a SendPacketsElement, not {type(item).__name__}.", "value")
                self._send_packets = items
        finally:
            self._configured()

    @property
    def SendPacketsFlags(self) -> TransmitFileOptions:
        """``TransmitFileOptions`` of ``SendPacketsAsync``: ``Disconnect`` and ``ReuseSocket`` act on Linux."""
        return self._send_packets_flags

    @SendPacketsFlags.setter
    def SendPacketsFlags(self, value: TransmitFileOptions | int) -> None:
        self._send_packets_flags = TransmitFileOptions(as_int(value, "value"))

    @property
    def SendPacketsSendSize(self) -> int:
        """The chunk size Windows sends in; kept for ported code, not used on Linux (0 by default)."""
        return self._send_packets_size

    @SendPacketsSendSize.setter
    def SendPacketsSendSize(self, value: int) -> None:
        self._send_packets_size = as_int(value, "value")

    @property
    def UserToken(self) -> Any:
        """Any object of yours, carried along untouched."""
        return self._token

    @UserToken.setter
    def UserToken(self, value: Any) -> None:
        self._token = value

    # -- buffer ------------------------------------------------------------------
    @overload
    def SetBuffer(self, buffer: BytesLike | None, offset: int, count: int) -> None: ...
    @overload
    def SetBuffer(self, offset: int, count: int) -> None: ...
    @overload
    def SetBuffer(self, buffer: BytesLike | None) -> None: ...

    def SetBuffer(self, *args: Any, **kwargs: Any) -> None:
        """Set the data buffer of the next operation, or the window over it.

        .NET's overloads: ``SetBuffer(buffer, offset, count)``, ``SetBuffer(offset, count)``,
        ``SetBuffer(buffer)`` (the whole buffer, as .NET's ``Memory<byte>`` form).
        ``SetBuffer(None, 0, 0)`` (or ``SetBuffer(None)``) clears the buffer.
        ``SetBuffer(offset, count)`` moves the window over the buffer already
        set, and does nothing when there is none, as in .NET.

        Raises ``ArgumentOutOfRangeException`` (``offset``/``count`` outside the buffer),
        ``ArgumentException`` when ``BufferList`` is set too, ``InvalidOperationException`` while
        an operation is using these args, ``ObjectDisposedException`` after ``Dispose``.
        """
        buffer: Any = kwargs.pop("buffer", _UNSET)
        offset: Any = kwargs.pop("offset", _UNSET)
        count: Any = kwargs.pop("count", _UNSET)
        if kwargs:
            raise TypeError(f"SetBuffer() got unexpected arguments {sorted(kwargs)}")
        n = len(args)
        if n == 3:
            buffer, offset, count = args
        elif n == 2:
            if buffer is _UNSET and _is_int(args[0]):
                offset, count = args
            else:
                raise TypeError("SetBuffer takes (buffer, offset, count), (offset, count) or (buffer)")
        elif n == 1:
            if buffer is _UNSET and offset is not _UNSET and count is _UNSET:
                # SetBuffer(5, count=...) is not a form; SetBuffer(buf, offset=.., count=..) is.
                raise TypeError("SetBuffer takes (buffer, offset, count), (offset, count) or (buffer)")
            (buffer,) = args
        elif n > 3:
            raise TypeError("SetBuffer takes at most 3 arguments")
        if buffer is _UNSET:
            if offset is _UNSET or count is _UNSET:
                raise TypeError("SetBuffer(offset, count) needs both offset and count")
            self._move_window(offset, count)
        elif offset is _UNSET and count is _UNSET:
            self._set_whole(buffer)
        else:
            if offset is _UNSET or count is _UNSET:
                raise TypeError("SetBuffer(buffer, offset, count) needs offset and count")
            self._set_segment(buffer, offset, count)

    def _set_segment(self, buffer: Any, offset: Any, count: Any) -> None:
        self._start_configuring()
        try:
            if buffer is None:
                self._clear_buffer()
                return
            if self._buffer_list is not None:
                raise ArgumentException(_AMBIGUOUS_MESSAGE)
            view = as_buffer(buffer)
            offset, count = _check_segment(len(view), offset, count)
            self._buffer = buffer
            self._offset = offset
            self._count = count
            self._seg = view if offset == 0 and count == len(view) else memoryview(view)[offset : offset + count]
        finally:
            self._configured()

    def _set_whole(self, buffer: Any) -> None:
        self._start_configuring()
        try:
            if buffer is None:
                self._clear_buffer()
                return
            view = as_buffer(buffer)
            if len(view) and self._buffer_list is not None:
                raise ArgumentException(_AMBIGUOUS_MESSAGE)
            self._buffer = buffer
            self._offset = 0
            self._count = len(view)
            self._seg = view
        finally:
            self._configured()

    def _move_window(self, offset: Any, count: Any) -> None:
        self._start_configuring()
        try:
            if self._buffer is None:
                return
            view = as_buffer(self._buffer)
            offset, count = _check_segment(len(view), offset, count)
            self._offset = offset
            self._count = count
            self._seg = view if offset == 0 and count == len(view) else memoryview(view)[offset : offset + count]
        finally:
            self._configured()

    def _clear_buffer(self) -> None:
        self._buffer = None
        self._seg = None
        self._offset = 0
        self._count = 0

    # -- life cycle ---------------------------------------------------------------
    def Dispose(self) -> None:
        """Release the object; while an operation is pending this happens when it completes."""
        self._dispose_called = True
        if self._operating != _FREE:
            return
        self._operating = _DISPOSED
        self._clear_buffer()
        self._list_items = None

    def __enter__(self) -> SocketAsyncEventArgs:
        return self

    def __exit__(self, *exc: object) -> None:
        self.Dispose()

    def OnCompleted(self, e: SocketAsyncEventArgs) -> None:
        """Raise ``Completed``; override it in a subclass to handle completions without the event."""
        self._completed(self._socket, e)

    def __repr__(self) -> str:
        states = {_FREE: "free", _IN_PROGRESS: "pending", _DISPOSED: "disposed", _CONFIGURING: "configuring"}
        return (
            f"<SocketAsyncEventArgs {states.get(self._operating, '?')} last={self._last_op.name} "
            f"error={self._error.name} bytes={self._bytes}>"
        )

    # -- the operation protocol (used by the Socket methods below) ----------------------
    def _start_configuring(self) -> None:
        st = self._operating
        if st != _FREE:
            self._throw_for_status(st)
        self._operating = _CONFIGURING

    def _configured(self) -> None:
        if self._operating == _CONFIGURING:
            self._operating = _FREE

    def _throw_for_status(self, status: int) -> None:
        if status == _DISPOSED:
            raise ObjectDisposedException(type(self).__name__)
        raise InvalidOperationException(_IN_USE_MESSAGE)

    def _start_operation(
        self,
        sock: Socket,
        kind: SocketAsyncOperation,
        finish: Callable[[SocketAsyncEventArgs, Any, Any], None],
    ) -> None:
        """.NET's StartOperationCommon: mark in use (or raise), remember socket and kind."""
        st = self._operating
        if st != _FREE:
            self._throw_for_status(st)
        self._operating = _IN_PROGRESS
        self._last_op = kind
        self._socket = sock
        self._finish = finish

    def _complete_operation(self) -> None:
        """.NET's Complete: free again, and run a Dispose deferred while in use."""
        self._operating = _FREE
        if self._dispose_called:
            self.Dispose()

    def _pending(self, op: Any, always: bool = False) -> bool:
        """After starting ``op`` (built without a callback): the ``...Async(e)`` return value.

        Finished inside the call: record the outcome now, return False, and
        ``Completed`` does not fire.  Otherwise put the completion callback
        in place and return True.  The operation may complete on the engine
        thread while that happens; the claim token makes sure its completion
        is delivered exactly once, by whoever gets to it first.
        """
        if op._done and op._sync and not always:
            self._record(op)
            return False
        ctx = capture_context() if self._flow else None
        op._ctx = ctx if ctx is not None else _Context()
        op._state = [True]  # the claim: taken (popped) once by the completion that runs
        op._callback = self._on_op
        if op._done:
            # It completed before the callback was there (or just as it was put there).
            _post(op)
        return True

    def _record(self, op: Any) -> None:
        finish = self._finish
        sock = self._socket
        try:
            assert finish is not None
            finish(self, sock, op)
        finally:
            self._complete_operation()

    def _async_completion(self, op: Any) -> None:
        # On a completion thread, in the context captured at the start.
        try:
            op._state.pop()
        except IndexError:
            return  # delivered already
        sender = self._socket
        try:
            self._record(op)
        except Exception as exc:  # noqa: BLE001 - reported, and Completed still fires
            # Reading the outcome raised (a state the program changed while the operation
            # was pending): nobody on this thread can catch it, and a Completed that never
            # fires is a lost operation.  It fires, failed.
            report_exception(exc)
            self._set_results(_SocketError.SocketError, 0)
        if type(self).OnCompleted is SocketAsyncEventArgs.OnCompleted:
            self._completed(sender, self)
        else:
            self.OnCompleted(self)

    def _set_results(self, error: _SocketError, transferred: int) -> None:
        self._error = error
        self._bytes = transferred
        self._flags = _NO_FLAGS

    def _send_bytes(self) -> Any:
        """What a send-to sends: the buffer segment, the gathered list, or nothing."""
        if self._list_items is not None:
            return b"".join(buffer_list(self._list_items, False))
        seg = self._seg
        return b"" if seg is None else send_view(seg)

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    accept_socket = AcceptSocket
    connect_socket = ConnectSocket
    connect_by_name_error = ConnectByNameError
    buffer = Buffer
    memory_buffer = MemoryBuffer
    offset = Offset
    count = Count
    buffer_list = BufferList
    bytes_transferred = BytesTransferred
    completed = Completed
    disconnect_reuse_socket = DisconnectReuseSocket
    last_operation = LastOperation
    remote_end_point = RemoteEndPoint
    socket_error = SocketError
    socket_flags = SocketFlags
    receive_message_from_packet_info = ReceiveMessageFromPacketInfo
    send_packets_elements = SendPacketsElements
    send_packets_flags = SendPacketsFlags
    send_packets_send_size = SendPacketsSendSize
    user_token = UserToken
    set_buffer = SetBuffer
    dispose = Dispose
    on_completed = OnCompleted
    # -- end of PEP 8 spellings --


_UNSET: Any = object()


def _is_int(value: Any) -> bool:
    if isinstance(value, (bytes, bytearray, memoryview, str)) or value is None:
        return False
    try:
        import operator

        operator.index(value)
    except TypeError:
        return False
    return True


# -- finishing: read the outcome through the End... method of the same model -------------------
def _fail(e: SocketAsyncEventArgs, exc: SocketException) -> None:
    e._set_results(exc.SocketErrorCode, 0)


def _finishes_with(end_method: str) -> Callable[[SocketAsyncEventArgs, Any, Any], None]:
    """A finisher for the operations whose End... returns a byte count."""

    def finish(e: SocketAsyncEventArgs, sock: Any, op: Any) -> None:
        try:
            n = getattr(sock, end_method)(op)
        except SocketException as exc:
            _fail(e, exc)
        else:
            e._set_results(_SUCCESS, n)

    return finish


_finish_send_to = _finishes_with("EndSendTo")
_finish_send = _finishes_with("EndSend")


def _finish_receive(e: SocketAsyncEventArgs, sock: Any, op: Any) -> None:
    try:
        n = sock.EndReceive(op)
    except SocketException as exc:
        _fail(e, exc)
        return
    e._set_results(_SUCCESS, n)
    if getattr(op, "truncated", False):
        e._flags = _TRUNCATED


def _finish_receive_from(e: SocketAsyncEventArgs, sock: Any, op: Any) -> None:
    scatter = e._scatter
    e._scatter = None
    try:
        n, sender = sock.EndReceiveFrom(op)
    except SocketException as exc:
        _fail(e, exc)
        return
    if scatter is not None:
        # Into the buffers exported at the start, not the list as it is now: a list changed
        # meanwhile cannot lose the datagram, already taken off the socket.
        landed, views = scatter
        pos = 0
        for view in views:
            take = min(len(view), n - pos)
            if take <= 0:
                break
            view[:take] = landed[pos : pos + take]
            pos += take
    ep = op.extra
    e._remote_ep = ep if _names_sender(ep, op._value[1]) else sender
    e._set_results(_SUCCESS, n)
    if getattr(op, "truncated", False):
        e._flags = _TRUNCATED


def _finish_accept(e: SocketAsyncEventArgs, sock: Any, op: Any) -> None:
    try:
        accepted = sock.EndAccept(op)
    except SocketException as exc:
        _fail(e, exc)
    else:
        e._accept_socket = accepted
        e._set_results(_SUCCESS, 0)


def _finish_connect(e: SocketAsyncEventArgs, sock: Any, op: Any) -> None:
    try:
        sock.EndConnect(op)
    except SocketException as exc:
        e._connect_error = exc
        _fail(e, exc)
    else:
        e._connect_error = None
        e._connect_socket = sock
        e._set_results(_SUCCESS, 0)


# -- the ...Async(e) implementations ------------------------------------------------------------
def _check_call(sock: Socket, e: Any) -> SocketAsyncEventArgs:
    if sock._disposed:
        raise ObjectDisposedException("System.Net.Sockets.Socket")
    if e is None:
        raise ArgumentNullException("e")
    if not isinstance(e, SocketAsyncEventArgs):
        raise ArgumentException(f"Expected a SocketAsyncEventArgs, not {type(e).__name__}.", "e")
    return e


def _flags_args(e: SocketAsyncEventArgs) -> Any:
    # Read by _set_flags, by the one rule (never by the flags' own __bool__).
    return e._flags


def send_to_async(sock: Socket, e_: Any) -> bool:
    """``Socket.SendToAsync(e)``: send ``e``'s buffer to ``e.RemoteEndPoint``."""
    if sock._disposed or not isinstance(e_, SocketAsyncEventArgs):
        _check_call(sock, e_)
    e: SocketAsyncEventArgs = e_
    ep = e._remote_ep
    if type(ep) is IPEndPoint:
        addr = ep._sa_dual if sock._v6 else ep._sa
        if addr is None or len(addr) != sock._alen:
            addr = sock._sockaddr(ep, "remoteEP")
    elif ep is None:
        # Current .NET: ArgumentException, ParamName "e"; .NET Core 3.1 and the
        # Framework raise ArgumentNullException.  This is both.
        raise ArgumentNullException("e", "e.RemoteEndPoint must not be null.")
    else:
        addr = sock._sockaddr(ep, "remoteEP")
    try:
        _sys_audit(_SEND_TO_ASYNC, sock, ep)
    except PermissionError as exc:
        raise _denied(exc) from exc
    if e._operating:  # not _FREE
        e._throw_for_status(e._operating)
    io = sock._io
    if (
        type(addr) is tuple
        and sock._dgram
        and no_flags(e._flags)
        and e._list_items is None
        and sock._right_ep is not None
        and not io.wq
        and not io.closed
    ):
        # The steady-state datagram send of a reused args object (what
        # high-rate senders do), kept short: SendToOp.attempt's try without
        # the operation object.  Anything unusual takes the path below.
        seg = e._seg
        e._last_op = _SEND_TO
        e._socket = sock
        try:
            n = sock._sock.sendto(b"" if seg is None else seg, addr)
        except BlockingIOError:
            pass
        except OSError as exc:
            return send_to_failed(sock, e, exc)
        else:
            _tel.c.sent += n + _DGRAM
            e._error = _SUCCESS
            e._bytes = n
            e._flags = _NO_FLAGS
            return False
    return send_to_queued(sock, e, addr, ep)


def send_to_failed(sock: Socket, e: SocketAsyncEventArgs, exc: OSError) -> bool:
    """The send of ``SendToAsync(e)`` failed at once: the error goes into ``e``; False (done)."""
    e._set_results(sock._failed(_SocketOpError(exc)).SocketErrorCode, 0)
    return False


def send_to_queued(sock: Socket, e: SocketAsyncEventArgs, addr: Any, ep: Any) -> bool:
    """``SendToAsync(e)`` past the steady state: an operation that may wait for room."""
    e._start_operation(sock, SocketAsyncOperation.SendTo, _finish_send_to)
    try:
        op = sock._new_send_to(e._send_bytes(), e._flags, addr, None, None)
        sock._start_send_to(op, ep)
    except BaseException:
        e._complete_operation()
        raise
    return e._pending(op)


def send_async(sock: Socket, e_: Any) -> bool:
    """``Socket.SendAsync(e)``: send ``e``'s buffer (or ``BufferList``) on a connected socket.

    The steady state of a reused ``e`` (a whole or windowed buffer, no flags, nothing
    queued before it, tracing off) makes the system call here, with no operation
    object; a send that would block, and every other case, goes on as ``BeginSend``.
    """
    if sock._disposed or not isinstance(e_, SocketAsyncEventArgs):
        _check_call(sock, e_)
    e: SocketAsyncEventArgs = e_
    if e._operating:  # not _FREE
        e._throw_for_status(e._operating)
    seg = e._seg
    io = sock._io
    if type(seg) not in _SEND_SEGMENTS or not _may_go_now(e, io.wq, io):
        return _send_general(sock, e)
    data = _held(seg)
    io = _start_now(sock, e, _SEND, _SEND_ASYNC)
    if io.wq or io.closed:
        return _send_later(sock, e, seg, 0)
    try:
        n = io.sock.send(data)
    except BlockingIOError:
        return _send_later(sock, e, seg, 0)
    except OSError as exc:
        return _failed_now(sock, e, exc)
    except BaseException:
        e._complete_operation()  # interrupted (Ctrl-C): e is free again, as on the general path
        raise
    if io.dgram:
        _tel.c.sent += n + _DGRAM
        return _done_now(e, n)
    _tel.c.sent += n  # counted as they leave, as StreamSendOp counts a partial write
    if n < len(seg):
        # A stream send is done only when every byte is handed over: the rest waits.
        return _send_later(sock, e, seg, n)
    return _done_now(e, n)


def _may_go_now(e: SocketAsyncEventArgs, queue: Any, io: Any) -> bool:
    """The short path's rule besides the buffer: no flags, no buffer list, nothing queued
    in its direction (start order), the socket open, tracing off."""
    flags = e._flags
    return (
        (flags is _NO_FLAGS or no_flags(flags))
        and e._list_items is None
        and not queue
        and not io.closed
        and not _tracing(_DEBUG)
    )


def _writable(seg: Any) -> bool:
    """A receive's segment the short path fills as it is (a bytearray, or a writable byte view
    ``SetBuffer`` made); anything else meets the general path's checks."""
    return type(seg) is bytearray or (type(seg) is memoryview and not seg.readonly)


def _held(seg: Any) -> Any:
    """What the short path hands the kernel: a ``bytearray`` exported before the audit hooks run,
    as the general path's operation holds it (a hook cannot resize it); ``bytes`` and the views
    ``SetBuffer`` made (which hold their export already) as they are."""
    return memoryview(seg) if type(seg) is bytearray else seg


def _start_now(
    sock: Socket, e: SocketAsyncEventArgs, kind: SocketAsyncOperation, event: str, ep: EndPoint | None = None
) -> OpQueue:
    """The short path's ``_start_operation`` and audit event (as ``_begin`` raises it: with ``ep``,
    a receive-from's, else the connected peer); a refusal leaves ``e`` free again.

    Returns the socket's queue of this moment: a hook may have closed the socket or given it a
    new queue, and then the call is queued as the general path queues it (and aborted if closed).
    """
    e._operating = _IN_PROGRESS
    e._last_op = kind
    e._socket = sock
    if ep is None:
        ep = sock._remote_ep
        if ep is None:
            ep = sock._peer()
    try:
        _sys_audit(event, sock, ep)
    except BaseException as exc:
        e._complete_operation()
        if isinstance(exc, PermissionError):
            raise _denied(exc) from exc
        raise
    return sock._io


def _done_now(e: SocketAsyncEventArgs, n: int) -> bool:
    """The call of the short path transferred ``n`` bytes: the results, as ``End...`` gives them; False (done)."""
    e._error = _SUCCESS
    e._bytes = n
    e._flags = _NO_FLAGS
    e._operating = _FREE
    if e._dispose_called:
        e.Dispose()
    return False


def _datagram_now(e: SocketAsyncEventArgs, n: int, size: int) -> bool:
    """The short path's datagram receive got a datagram of ``n`` bytes into ``size``: the bytes
    that fit, and ``SocketFlags.Truncated`` when more did not, as .NET reports it."""
    if n > size:
        _tel.c.received += size + _DGRAM
        _done_now(e, size)
        e._flags = _TRUNCATED
        return False
    _tel.c.received += n + _DGRAM
    return _done_now(e, n)


def _failed_now(sock: Socket, e: SocketAsyncEventArgs, exc: OSError) -> bool:
    """The call of the short path failed: the error goes into ``e`` as ``End...`` reports it; False (done)."""
    e._set_results(sock._failed(_SocketOpError(exc)).SocketErrorCode, 0)
    e._complete_operation()
    return False


def _send_later(sock: Socket, e: SocketAsyncEventArgs, seg: Any, sent: int) -> bool:
    """The short path's send would block (``sent`` bytes of a stream send already handed over):
    the rest runs as ``BeginSend``'s operation, which exports the buffer while it waits."""
    e._finish = _finish_send
    try:
        op: Any = sock._new_send(seg, (_NO_FLAGS,), {}, None, None)
        if sent:
            op.sent = sent
        sock._io.enqueue_write(op)  # it just would block: tried again once there is room
    except BaseException:
        e._complete_operation()
        raise
    return e._pending(op)


def _send_general(sock: Socket, e: SocketAsyncEventArgs) -> bool:
    """``SendAsync(e)`` as ``BeginSend`` runs it: a buffer list, flags, tracing, a queue to join."""
    e._start_operation(sock, _SEND, _finish_send)
    try:
        if e._list_items is not None:
            op = sock._new_send(e._list_items, (_flags_args(e),), {}, None, None)
        else:
            seg = e._seg if e._seg is not None else b""
            op = sock._new_send(seg, (_flags_args(e),), {}, None, None)
        sock._begin(op, "SendAsync", write=True)
    except BaseException:
        e._complete_operation()
        raise
    return e._pending(op)


def receive_async(sock: Socket, e_: Any) -> bool:
    """``Socket.ReceiveAsync(e)``: receive into ``e``'s buffer (or ``BufferList``).

    As ``send_async``: the steady state calls the system here; a receive that would
    block, and every other case, goes on as ``BeginReceive``.
    """
    if sock._disposed or not isinstance(e_, SocketAsyncEventArgs):
        _check_call(sock, e_)
    e: SocketAsyncEventArgs = e_
    if e._operating:  # not _FREE
        e._throw_for_status(e._operating)
    seg = e._seg
    io = sock._io
    # (0 bytes waits for data: ops.ReceiveZeroOp, built by the general path)
    if not (_writable(seg) and len(seg) and _may_go_now(e, io.rq, io)):
        return _receive_general(sock, e)
    data = _held(seg)
    io = _start_now(sock, e, _RECEIVE, _RECEIVE_ASYNC)
    if io.rq or io.closed:
        return _receive_later(sock, e, seg)
    try:
        # A datagram's length (MSG_TRUNC), for SocketFlags.Truncated when it did not fit.
        n = io.sock.recv_into(data, 0, _TRUNC) if io.dgram else io.sock.recv_into(data)
    except BlockingIOError:
        return _receive_later(sock, e, seg)
    except OSError as exc:
        return _failed_now(sock, e, exc)
    except BaseException:
        e._complete_operation()  # interrupted (Ctrl-C): e is free again, as on the general path
        raise
    if io.dgram:
        return _datagram_now(e, n, len(data))
    _tel.c.received += n
    return _done_now(e, n)


def _receive_later(sock: Socket, e: SocketAsyncEventArgs, seg: Any) -> bool:
    """The short path's receive would block: it waits as ``BeginReceive``'s operation."""
    e._finish = _finish_receive
    try:
        op = sock._new_receive(seg, (_NO_FLAGS,), {}, None, None, True)
        sock._io.enqueue_read(op)  # it just would block: tried again once there is data
    except BaseException:
        e._complete_operation()
        raise
    return e._pending(op)


def _receive_general(sock: Socket, e: SocketAsyncEventArgs) -> bool:
    """``ReceiveAsync(e)`` as ``BeginReceive`` runs it: a buffer list, flags, tracing, a queue to join."""
    e._start_operation(sock, _RECEIVE, _finish_receive)
    try:
        if e._list_items is not None:
            op = sock._new_receive(e._list_items, (_flags_args(e),), {}, None, None)
        else:
            seg = e._seg if e._seg is not None else bytearray()
            op = sock._new_receive(seg, (_flags_args(e),), {}, None, None, True)
        sock._begin(op, "ReceiveAsync", write=False)
    except BaseException:
        e._complete_operation()
        raise
    return e._pending(op)


def _receive_endpoint(sock: Socket, e: SocketAsyncEventArgs) -> EndPoint:
    """``e.RemoteEndPoint`` of a receive-from: set, an endpoint, of the socket's family (ParamName "e")."""
    ep = e._remote_ep
    if ep is None:
        # Current .NET: ArgumentException; .NET Core 3.1 and the Framework: ArgumentNullException. This is both.
        raise ArgumentNullException("e", "e.RemoteEndPoint must not be null.")
    if not isinstance(ep, EndPoint):
        raise ArgumentException(f"Expected an EndPoint, not {type(ep).__name__}.", "e")
    sock._check_family(ep, "e")
    return ep


def receive_from_async(sock: Socket, e_: Any) -> bool:
    """``Socket.ReceiveFromAsync(e)``: receive one datagram; the sender goes to ``e.RemoteEndPoint``.

    As ``send_async``: with an ``IPEndPoint`` on a bound socket, the steady state calls
    the system here; a receive that would block, and every other case, goes on as
    ``BeginReceiveFrom``.
    """
    if sock._disposed or not isinstance(e_, SocketAsyncEventArgs):
        _check_call(sock, e_)
    e: SocketAsyncEventArgs = e_
    ep = e._remote_ep
    if type(ep) is not IPEndPoint:
        return _receive_from_general(sock, e)
    sock._check_family(ep, "e")
    if e._operating:  # not _FREE
        e._throw_for_status(e._operating)
    seg = e._seg
    io = sock._io
    # (0 bytes waits for data: ops.ReceiveFromZeroOp, built by the general path)
    if not (_writable(seg) and len(seg) and sock._right_ep is not None and _may_go_now(e, io.rq, io)):
        return _receive_from_general(sock, e)
    data = _held(seg)
    io = _start_now(sock, e, _RECEIVE_FROM, _RECEIVE_FROM_ASYNC, ep)
    if io.rq or io.closed:
        return _receive_from_later(sock, e, seg, ep)
    try:
        n, sa = io.sock.recvfrom_into(data, 0, _TRUNC) if io.dgram else io.sock.recvfrom_into(data)
    except BlockingIOError:
        return _receive_from_later(sock, e, seg, ep)
    except OSError as exc:
        return _failed_now(sock, e, exc)
    except BaseException:
        e._complete_operation()  # interrupted (Ctrl-C): e is free again, as on the general path
        raise
    e._remote_ep = ep if _names_sender(ep, sa) else sock._endpoint_from(sa, ep)
    if io.dgram:
        return _datagram_now(e, n, len(data))
    _tel.c.received += n
    return _done_now(e, n)


def _names_sender(ep: Any, sa: Any) -> bool:
    """Whether ``e.RemoteEndPoint`` already names the sender ``sa`` of a receive-from: then it
    stays the same object, as .NET keeps it when the received address equals its serialized
    form (an IPv4 endpoint on a dual-mode socket does not: the sender is IPv4-mapped IPv6);
    otherwise a new endpoint replaces it.  A steady sender costs no endpoint per datagram."""
    return type(ep) is IPEndPoint and ep._sockaddr(False) == sa


def _receive_from_later(sock: Socket, e: SocketAsyncEventArgs, seg: Any, ep: EndPoint) -> bool:
    """The short path's receive-from would block: it waits as ``BeginReceiveFrom``'s operation."""
    e._finish = _finish_receive_from
    try:
        op, hint = sock._new_receive_from(seg, (_NO_FLAGS, ep), {}, None, None, True)
        op.extra = hint
        sock._io.enqueue_read(op)  # it just would block: tried again once there is data
    except BaseException:
        e._complete_operation()
        raise
    return e._pending(op)


def _receive_from_general(sock: Socket, e_: Any) -> bool:
    """``ReceiveFromAsync(e)`` as ``BeginReceiveFrom`` runs it: a buffer list, flags, tracing, a queue to join."""
    e = _check_call(sock, e_)
    ep = _receive_endpoint(sock, e)
    e._start_operation(sock, SocketAsyncOperation.ReceiveFrom, _finish_receive_from)
    try:
        if e._list_items is not None:
            # Exported and checked here, as the other receive forms do: a buffer of the list
            # shrunk or released later fails in the caller, not on a completion thread.
            views = buffer_list(e._list_items, True)
            landed = bytearray(sum(len(v) for v in views))
            e._scatter = (landed, views)
            target: Any = landed
        else:
            target = e._seg if e._seg is not None else bytearray()
        op, hint = sock._new_receive_from(target, (_flags_args(e), ep), {}, None, None, True)
        op.extra = hint
        sock._begin(op, "ReceiveFromAsync", write=False)
    except BaseException:
        e._scatter = None
        e._complete_operation()
        raise
    return e._pending(op)


def new_accept_op(sock: Socket, accept_socket: Any) -> Any:
    """The checks and the operation of an accept, as ``BeginAccept`` makes them (shared with asyncio)."""
    from ._engine import ops

    sock._check_can_accept()
    if accept_socket is not None:
        if not isinstance(accept_socket, type(sock)):
            raise ArgumentException("Expected a Socket.", "acceptSocket")
        accept_socket._throw_if_disposed()
        if accept_socket._right_ep is not None or accept_socket._connected:
            raise InvalidOperationException("The acceptSocket must not be bound or connected.")
    op: Any = ops.AcceptOp(sock._io, None, None)
    op.later = False
    op.then = None
    # (accept_socket, 0): EndAccept adopts the connection into accept_socket and returns it.
    op.extra = (accept_socket, 0) if accept_socket is not None else None
    return op


def new_connect_op(sock: Socket, endpoints: list[EndPoint] | HostLookup, member: str) -> Any:
    """The operation of a connect that tries ``endpoints`` in order, as ``BeginConnect`` makes it
    (a host name is resolved when the operation starts, off the caller's thread)."""
    from ._engine import ops

    if isinstance(endpoints, HostLookup):
        endpoints.event = _EVENT + member  # judged once resolved
    else:
        for ep in endpoints:
            _audit(_EVENT + member, sock, ep)
    op: Any = ops.ConnectOp(sock._io, None, None)
    op.addr = None
    op.started = False
    op.extra = endpoints
    return op


def accept_async(sock: Socket, e_: Any) -> bool:
    """``Socket.AcceptAsync(e)``: the accepted socket goes to ``e.AcceptSocket``."""
    e = _check_call(sock, e_)
    if e._list_items is not None:
        raise ArgumentException("Multiple buffers cannot be used with this method.", "e")
    if e._buffer is not None and sock._right_ep is not None and sock._listening:
        # .NET on Linux cannot receive data as part of an accept either.
        raise NotSupportedException("Receiving data as part of an accept is not supported on this platform.")
    accept_socket = e._accept_socket
    op = new_accept_op(sock, accept_socket)
    io = sock._io
    if accept_socket is not None or not _may_go_now(e, io.rq, io):
        e._start_operation(sock, _ACCEPT, _finish_accept)
        try:
            sock._begin(op, "AcceptAsync", write=False)
        except BaseException:
            e._complete_operation()
            raise
        return e._pending(op)
    # The steady state of an accept loop: the operation's own try, read here rather than
    # through _begin and EndAccept.
    if e._operating:  # not _FREE
        e._throw_for_status(e._operating)
    io = _start_now(sock, e, _ACCEPT, _ACCEPT_ASYNC)  # (a listener has no peer: the event names None)
    e._finish = _finish_accept
    try:
        if io.rq or io.closed or not op.attempt():
            io.enqueue_read(op)  # tried again once a connection is there (aborted if closed)
            return e._pending(op)
        if op._error is not None:
            return _failed_now(sock, e, op._error)
        pysock, sa = op._value
        e._accept_socket = sock._from_accepted(sock, pysock, sa)
    except BaseException:
        e._complete_operation()
        raise
    return _done_now(e, 0)


def connect_async(sock: Socket, e_: Any, finish: Any = None) -> bool:
    """``Socket.ConnectAsync(e)``: connect to ``e.RemoteEndPoint``; ``e.ConnectSocket`` is the socket."""
    e = _check_call(sock, e_)
    if e._list_items is not None:
        raise ArgumentException("Multiple buffers cannot be used with this method.", "BufferList")
    ep = e._remote_ep
    if ep is None:
        raise ArgumentNullException("remoteEP")
    sock._check_can_connect()
    endpoints = sock._connect_addresses((ep,))
    op = new_connect_op(sock, endpoints, "ConnectAsync")
    e._start_operation(sock, SocketAsyncOperation.Connect, finish or _finish_connect)
    e._connect_socket = None
    try:
        sock._next_connect(op)
    except BaseException:
        e._complete_operation()
        raise
    return e._pending(op)


def disconnect_async(sock: Socket, e_: Any) -> bool:
    """``Socket.DisconnectAsync(e)``: done inside the call on Linux, as in .NET; returns ``False``."""
    e = _check_call(sock, e_)
    _audit(_EVENT + "DisconnectAsync", sock, sock._remote_ep)
    e._start_operation(sock, SocketAsyncOperation.Disconnect, _finish_disconnect)
    try:
        try:
            sock.Disconnect(e._reuse)
        except SocketException as exc:
            e._set_results(exc.SocketErrorCode, 0)
        else:
            e._set_results(_SUCCESS, 0)
    finally:
        e._complete_operation()
    return False


def _finish_disconnect(e: SocketAsyncEventArgs, sock: Any, op: Any) -> None:  # pragma: no cover
    # Disconnect never pends; kept so every kind has a finisher.
    e._set_results(_SUCCESS, 0)


def _finish_receive_message_from(e: SocketAsyncEventArgs, sock: Any, op: Any) -> None:
    try:
        n, flags, sender, info = sock.EndReceiveMessageFrom(op)
    except SocketException as exc:
        _fail(e, exc)
        e._packet_info = _NO_PACKET_INFO
        return
    ep = op.extra
    e._remote_ep = ep if _names_sender(ep, op._value[3]) else sender
    e._packet_info = info
    e._set_results(_SUCCESS, n)
    e._flags = flags


def receive_message_from_async(sock: Socket, e_: Any) -> bool:
    """``Socket.ReceiveMessageFromAsync(e)``: sender to ``e.RemoteEndPoint``, packet information to
    ``e.ReceiveMessageFromPacketInfo``, the kernel's flags to ``e.SocketFlags``."""
    e = _check_call(sock, e_)
    ep = _receive_endpoint(sock, e)
    e._start_operation(sock, SocketAsyncOperation.ReceiveMessageFrom, _finish_receive_message_from)
    try:
        target = e._list_items if e._list_items is not None else e._seg if e._seg is not None else bytearray()
        op = sock._new_receive_message_from(target, (_flags_args(e), ep), {}, None, None)
        sock._begin(op, "ReceiveMessageFromAsync", write=False)
    except BaseException:
        e._complete_operation()
        raise
    return e._pending(op)


def _finish_send_packets(e: SocketAsyncEventArgs, sock: Any, op: Any) -> None:
    try:
        sock.EndSendFile(op)
    except SocketException as exc:
        _fail(e, exc)
        e._bytes = op.sent
    else:
        e._set_results(_SUCCESS, op.sent)


def send_packets_async(sock: Socket, e_: Any, not_connected: str) -> bool:
    """``Socket.SendPacketsAsync(e)``: always pending (``Completed`` fires), as on .NET for Linux.

    Files named by path are opened in the call, so a missing one raises there.
    """
    e = _check_call(sock, e_)
    if e._send_packets is None:
        raise ArgumentException("The parameter e.SendPacketsElements must not be null.", "e")
    if not sock._connected:
        raise NotSupportedException(not_connected)
    e._start_operation(sock, SocketAsyncOperation.SendPackets, _finish_send_packets)
    try:
        op = sock._new_send_packets(e._send_packets, e._send_packets_flags, None, None)
        sock._begin(op, "SendPacketsAsync", write=True)
    except BaseException:
        e._complete_operation()
        raise
    return e._pending(op, always=True)


def cancel_connect_async(e: Any) -> None:
    """``Socket.CancelConnectAsync(e)``: a pending ``ConnectAsync(e)`` ends with ``OperationAborted``.

    As in .NET, the socket it was connecting is closed; nothing happens when no connect is pending.
    """
    if e is None:
        raise ArgumentNullException("e")
    if not isinstance(e, SocketAsyncEventArgs):
        raise ArgumentException(f"Expected a SocketAsyncEventArgs, not {type(e).__name__}.", "e")
    sock = e._socket
    if e._operating == _IN_PROGRESS and e._last_op == SocketAsyncOperation.Connect and sock is not None:
        sock.Dispose()


def _finish_owned_connect(e: SocketAsyncEventArgs, sock: Any, op: Any) -> None:
    # The static ConnectAsync made the socket: on failure nobody else can close it.
    _finish_connect(e, sock, op)
    if e._connect_socket is None:
        sock.Dispose()


def connect_owned_async(sock: Socket, e: Any) -> bool:
    """The static ``ConnectAsync(socket_type, protocol_type, e)`` once it made ``sock``."""
    try:
        return connect_async(sock, e, _finish_owned_connect)
    except BaseException:
        sock.Dispose()
        raise
