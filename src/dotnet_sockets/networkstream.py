"""``NetworkStream``: .NET's stream over a connected stream ``Socket``, and a Python binary stream too.

Every read and write is a call of the socket's own ``Receive``/``Send`` (and their Begin/End and
awaitable forms), so tracing, telemetry, audit events and timeouts are the socket's.  What the
stream adds is .NET's contract: its argument checks (``buffer``, ``offset``, ``count``), its
``CanRead``/``CanWrite`` access, and ``IOException`` wrapping the socket's error
(``InnerException``), as .NET's ``NetworkStream`` reports it.

It is also an ``io.RawIOBase``, so ``io.BufferedReader(stream).readline()`` and
``io.TextIOWrapper(io.BufferedRWPair(stream, stream))`` do what ``StreamReader``/``StreamWriter``
do in C#.  Where a .NET name's PEP 8 spelling is an ``io`` method the one object takes both call
shapes: ``read()``/``read(n)`` return bytes, ``Read(buffer[, offset, count])`` returns a count.
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Awaitable, Coroutine
from typing import TYPE_CHECKING, Any, overload

from ._checks import STEADY_RANGE as _STEADY_RANGE
from ._checks import as_buffer, as_int, as_timeout_ms, as_writable_buffer
from ._checks import steady_range as _steady_range
from ._client_support import close_socket, split_token
from ._names import dotnet_names
from ._types import BytesLike
from .asyncresult import AsyncCallback, IAsyncResult
from .cancellation import CancellationToken, await_cancellable
from .enums import FileAccess, SocketFlags, SocketType
from .exceptions import (
    ArgumentException,
    ArgumentNullException,
    ArgumentOutOfRangeException,
    EndOfStreamException,
    InvalidOperationException,
    IOException,
    NotSupportedException,
    ObjectDisposedException,
    SocketException,
)

if TYPE_CHECKING:
    from .socket import Socket

__all__ = ["NetworkStream"]

_NAME = "System.Net.Sockets.NetworkStream"
_READ_FAILURE = "Unable to read data from the transport connection: {}."
_WRITE_FAILURE = "Unable to write data to the transport connection: {}."
_NO_SEEK = "This stream does not support seek operations."
_DEFAULT_COPY_BUFFER = 81920
_NONE = SocketFlags.None_
# The errors .NET's NetworkStream turns into IOException: the socket's own (SocketException,
# ObjectDisposedException once the socket is closed, the argument errors of End...).
_WRAPPED = (SocketException, InvalidOperationException, ArgumentException)
_BYTES = (bytes, bytearray)
_WRITABLE = (bytearray,)


class _SeekNotSupported(NotSupportedException, io.UnsupportedOperation):
    """``NotSupportedException`` for .NET callers, ``io.UnsupportedOperation`` for ``io`` callers."""


def _wrap(exc: BaseException, template: str) -> IOException:
    message = getattr(exc, "Message", None) or str(exc)
    return IOException(template.format(message.rstrip(".")), exc)


def _range(buffer: Any, offset: Any, count: Any, writable: bool) -> memoryview:
    """Stream.ValidateBufferArguments: ``buffer``, then ``offset`` >= 0, then ``count`` fits."""
    if buffer is None:
        raise ArgumentNullException("buffer")
    view = as_writable_buffer(buffer) if writable else memoryview(as_buffer(buffer))
    off = as_int(offset, "offset")
    if off < 0:
        raise ArgumentOutOfRangeException("offset", off, "Non-negative number required.")
    cnt = as_int(count, "count")
    if cnt < 0 or cnt > len(view) - off:
        raise ArgumentOutOfRangeException(
            "count",
            cnt,
            "Offset and length were out of bounds for the array or count is greater than the number "
            "of elements from index to the end of the source collection.",
        )
    return view[off : off + cnt]


def _common_shape(args: tuple[Any, ...], kwargs: dict[str, Any], types: tuple[type, ...]) -> Any:
    """The range of a ``(buffer)`` or ``(buffer, offset, count)`` call in its common shape (a ``bytes`` or
    ``bytearray`` and two ints in range), as the socket takes it; None sends the call down the general
    path, which checks everything and raises what .NET raises."""
    if kwargs or not args or type(args[0]) not in types:
        return None
    buffer = args[0]
    if len(args) == 1:
        return buffer
    if len(args) == 3:
        offset, count = args[1], args[2]
        if type(offset) is int and type(count) is int and 0 <= offset and 0 <= count <= len(buffer) - offset:
            return buffer if offset == 0 and count == len(buffer) else memoryview(buffer)[offset : offset + count]
    return None


def _buffer_args(method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, Any, Any]:
    """``(buffer)`` or ``(buffer, offset, count)``, positional or by name, as ``(buffer, offset, count)``."""
    names = ("buffer", "offset", "count")
    values = dict(zip(names, args, strict=False))
    if len(args) > 3:
        raise TypeError(f"{method}() takes (buffer) or (buffer, offset, count)")
    for key in list(kwargs):
        if key not in names or key in values:
            raise TypeError(f"{method}() got an unexpected or repeated argument {key!r}")
        values[key] = kwargs.pop(key)
    if "buffer" not in values:
        raise TypeError(f"{method}() needs a buffer")
    buffer = values["buffer"]
    if "offset" in values or "count" in values:
        if "offset" not in values or "count" not in values:
            raise TypeError(f"{method}() takes (buffer) or (buffer, offset, count)")
        return buffer, values["offset"], values["count"]
    if buffer is None:
        raise ArgumentNullException("buffer")
    return buffer, 0, None


@dotnet_names
class NetworkStream(io.RawIOBase):
    """The stream of a connected stream ``Socket`` (``System.Net.Sockets.NetworkStream``).

    ``NetworkStream(socket)``, ``NetworkStream(socket, owns_socket)``, ``NetworkStream(socket, access)``
    or ``NetworkStream(socket, access, owns_socket)``, with ``access`` a ``FileAccess``.  Raises
    ``ArgumentNullException`` (``socket``) for no socket and ``IOException`` for a socket that is
    non-blocking, not connected, or not a stream socket.  Closing the stream closes the socket only
    when it owns it (as a ``TcpClient``'s stream does).  Errors of the socket come out as
    ``IOException`` with the ``SocketException`` in ``InnerException``; every member but
    ``Close``/``Dispose`` raises ``ObjectDisposedException`` once the stream is closed.  A context
    manager, like ``using``.
    """

    @overload
    def __init__(self, socket: Socket) -> None: ...
    @overload
    def __init__(self, socket: Socket, owns_socket: bool) -> None: ...
    @overload
    def __init__(self, socket: Socket, access: FileAccess) -> None: ...
    @overload
    def __init__(self, socket: Socket, access: FileAccess, owns_socket: bool) -> None: ...

    def __init__(self, socket: Socket, *args: Any, **kwargs: Any) -> None:
        super().__init__()
        access: Any = FileAccess.ReadWrite
        owns: Any = False
        if len(args) == 1 and type(args[0]) is bool:
            owns = args[0]
        elif len(args) == 1:
            access = args[0]
        elif len(args) == 2:
            access, owns = args
        elif args:
            raise TypeError("NetworkStream() takes (socket[, access][, owns_socket])")
        access = kwargs.pop("access", access)
        owns = kwargs.pop("owns_socket", owns)
        if kwargs:
            raise TypeError(f"NetworkStream() got unexpected arguments {sorted(kwargs)}")
        from .socket import Socket as _Socket

        if socket is None:
            raise ArgumentNullException("socket")
        if not isinstance(socket, _Socket):
            raise ArgumentException("Expected a Socket.", "socket")
        if not socket.Blocking:
            raise IOException("The operation is not allowed on a non-blocking Socket.")
        if not socket.Connected:
            raise IOException("The operation is not allowed on non-connected sockets.")
        if socket.SocketType != SocketType.Stream:
            raise IOException("The operation is not allowed on non-stream oriented sockets.")
        # .NET treats any value other than Read or Write as ReadWrite.
        try:
            access = FileAccess(as_int(access, "access"))
        except ValueError:
            access = FileAccess.ReadWrite
        self._sock: Socket = socket
        self._owns = bool(owns)
        self._readable: bool = access != FileAccess.Write
        self._writeable: bool = access != FileAccess.Read
        self._disposed = False
        self._close_timeout = -1

    # -- state ------------------------------------------------------------------------------------

    @property
    def Socket(self) -> Socket:
        """The socket the stream reads and writes."""
        return self._sock

    @property
    def CanRead(self) -> bool:
        """True when the stream was opened for reading and is not closed."""
        return self._readable

    @property
    def CanWrite(self) -> bool:
        """True when the stream was opened for writing and is not closed."""
        return self._writeable

    @property
    def CanSeek(self) -> bool:
        """Always False: a network stream has no position."""
        return False

    @property
    def CanTimeout(self) -> bool:
        """Always True: ``ReadTimeout`` and ``WriteTimeout`` apply."""
        return True

    @property
    def DataAvailable(self) -> bool:
        """True when bytes are waiting to be read.  Raises ``ObjectDisposedException`` once closed."""
        self._throw_if_disposed()
        return self._sock.Available != 0

    @property
    def ReadTimeout(self) -> int:
        """Milliseconds a synchronous read may wait (-1, the default, for ever); the socket's ``ReceiveTimeout``.

        Setting 0 or a value below -1 raises ``ArgumentOutOfRangeException`` (``value``); a read that
        times out raises ``IOException`` wrapping ``SocketException`` ``TimedOut``.
        """
        timeout = self._sock.ReceiveTimeout
        return -1 if timeout == 0 else timeout

    @ReadTimeout.setter
    def ReadTimeout(self, value: int) -> None:
        self._sock.ReceiveTimeout = self._timeout_value(value)

    @property
    def WriteTimeout(self) -> int:
        """Milliseconds a synchronous write may wait (-1 for ever); the socket's ``SendTimeout``.

        Setting 0 or a value below -1 raises ``ArgumentOutOfRangeException`` (``value``).
        """
        timeout = self._sock.SendTimeout
        return -1 if timeout == 0 else timeout

    @WriteTimeout.setter
    def WriteTimeout(self, value: int) -> None:
        self._sock.SendTimeout = self._timeout_value(value)

    @staticmethod
    def _timeout_value(value: Any) -> int:
        ms = as_timeout_ms(value, "value") if isinstance(value, datetime.timedelta) else as_int(value, "value")
        if ms <= 0 and ms != -1:
            raise ArgumentOutOfRangeException(
                "value", ms, "Timeout can be only be set to 'System.Threading.Timeout.Infinite' or a value > 0."
            )
        return 0 if ms == -1 else ms

    @property
    def Length(self) -> int:
        """Raises ``NotSupportedException``: a network stream has no length."""
        raise NotSupportedException(_NO_SEEK)

    @property
    def Position(self) -> int:
        """Raises ``NotSupportedException`` (get and set): a network stream has no position."""
        raise NotSupportedException(_NO_SEEK)

    @Position.setter
    def Position(self, value: int) -> None:
        raise NotSupportedException(_NO_SEEK)

    def Seek(self, offset: int, origin: int = 0, /) -> int:
        """Raises ``NotSupportedException`` (which is also ``io.UnsupportedOperation``)."""
        raise _SeekNotSupported(_NO_SEEK)

    def SetLength(self, value: int) -> None:
        """Raises ``NotSupportedException``."""
        raise NotSupportedException(_NO_SEEK)

    def _throw_if_disposed(self) -> None:
        if self._disposed:
            raise ObjectDisposedException(_NAME)

    def _check_read(self) -> None:
        can = self._readable
        self._throw_if_disposed()
        if not can:
            raise InvalidOperationException("The operation is not allowed on a write-only stream.")

    def _check_write(self) -> None:
        can = self._writeable
        self._throw_if_disposed()
        if not can:
            raise InvalidOperationException("The operation is not allowed on a read-only stream.")

    def _target(
        self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any], read: bool, state_first: bool = True
    ) -> Any:
        """What a ``(buffer[, offset, count])`` call reads into or writes from, as the socket takes it.

        Checked in .NET's order: the stream's state (closed, access), then ``buffer``, ``offset``,
        ``count`` (``Stream``'s own helpers such as ``ReadExactly`` check the arguments first).
        """
        if state_first:
            can = self._readable if read else self._writeable
            # The common shape goes straight to the socket (CanRead/CanWrite are False once closed).
            common = _common_shape(args, kwargs, _WRITABLE if read else _BYTES) if can else None
            if common is not None:
                return common
            self._check_read() if read else self._check_write()
        buffer, offset, count = _buffer_args(method, args, kwargs)
        if count is None:
            view = as_writable_buffer(buffer) if read else memoryview(as_buffer(buffer))
        else:
            view = _range(buffer, offset, count, read)
        if not state_first:
            self._check_read() if read else self._check_write()
        return view

    # -- synchronous ------------------------------------------------------------------------------

    # A bytes or bytearray (rather than a view of one) takes the socket's steady path.
    def _receive(self, view: Any) -> int:
        try:
            return self._sock.Receive(view, 0, len(view), _NONE)
        except _WRAPPED as exc:
            raise _wrap(exc, _READ_FAILURE) from None

    def _send(self, view: Any) -> None:
        try:
            self._sock.Send(view, 0, len(view), _NONE)
        except _WRAPPED as exc:
            raise _wrap(exc, _WRITE_FAILURE) from None

    @overload
    def Read(self, size: int | None = -1, /) -> bytes: ...
    @overload
    def Read(self, buffer: BytesLike, /) -> int: ...
    @overload
    def Read(self, buffer: BytesLike, offset: int, count: int, /) -> int: ...

    def Read(self, *args: Any, **kwargs: Any) -> Any:
        """``Read(buffer[, offset, count]) -> int`` (.NET), or ``read([size]) -> bytes`` (``io``).

        The .NET shape waits for at least one byte and returns how many it put in ``buffer``; 0 means
        the peer closed its side.  The ``io`` shape returns up to ``size`` bytes (``b""`` at the end),
        or everything up to the end without ``size``.  Raises ``ArgumentNullException``
        (``buffer``), ``ArgumentOutOfRangeException`` (``offset``, ``count``),
        ``InvalidOperationException`` on a write-only stream, ``ObjectDisposedException`` once closed,
        and ``IOException`` (the ``SocketException`` inside) when the socket fails or times out.
        """
        if len(args) == 3 and not kwargs and self._readable:
            buffer, offset, count = args
            # The common shape goes straight to the socket (CanRead is False once closed);
            # _steady_range's test spelled out while it is the rule (see _checks.STEADY_RANGE).
            if type(buffer) is bytearray and (
                (_steady_range is _STEADY_RANGE and type(offset) is int and type(count) is int)
                and 0 <= offset
                and 0 <= count <= len(buffer) - offset
                or _steady_range(buffer, offset, count, _NONE)
            ):
                try:
                    return self._sock._receive_steady(buffer, offset, count, _NONE)
                except _WRAPPED as exc:
                    raise _wrap(exc, _READ_FAILURE) from None
        if (not args and "buffer" not in kwargs) or (
            args and (args[0] is None or type(args[0]) is int) and len(args) == 1
        ):
            size = args[0] if args else kwargs.pop("size", -1)
            if kwargs:
                raise TypeError(f"read() got unexpected arguments {sorted(kwargs)}")
            return self._read_bytes(size)
        return self._receive(self._target("Read", args, kwargs, True))

    def _read_bytes(self, size: int | None) -> bytes:
        if size is None or size < 0:
            return self.readall()
        self._check_read()
        data = bytearray(size)
        n = self._receive(data) if size else 0
        del data[n:]
        return bytes(data)

    def readall(self) -> bytes:
        """Every byte up to the end of the stream (the peer's shutdown or close)."""
        self._check_read()
        chunks = bytearray()
        block = bytearray(io.DEFAULT_BUFFER_SIZE)
        view = memoryview(block)
        while n := self._receive(block):
            chunks += view[:n]
        return bytes(chunks)

    def readinto(self, buffer: Any, /) -> int:
        """``io``'s read into ``buffer``: the count read, 0 at the end of the stream."""
        self._check_read()
        view = as_writable_buffer(buffer)
        return self._receive(view) if len(view) else 0

    def ReadByte(self) -> int:
        """One byte as an int, or -1 at the end of the stream."""
        self._check_read()
        one = bytearray(1)
        return one[0] if self._receive(one) else -1

    @overload
    def Write(self, buffer: BytesLike, /) -> int: ...
    @overload
    def Write(self, buffer: BytesLike, offset: int, count: int, /) -> None: ...

    def Write(self, *args: Any, **kwargs: Any) -> int | None:
        """``Write(buffer[, offset, count])``: send every byte before returning.

        ``Write(buffer)`` (also ``io``'s ``write(b)``) returns the number of bytes written, as
        ``io`` expects.  Raises ``ArgumentNullException`` (``buffer``),
        ``ArgumentOutOfRangeException`` (``offset``, ``count``), ``InvalidOperationException`` on a
        read-only stream, ``ObjectDisposedException`` once closed, and ``IOException`` (the
        ``SocketException`` inside) when the socket fails or times out.
        """
        if len(args) == 3 and not kwargs and self._writeable:
            buffer, offset, count = args
            # _steady_range's test spelled out while it is the rule (see _checks.STEADY_RANGE).
            if (
                (_steady_range is _STEADY_RANGE and ((t := type(buffer)) is bytearray or t is bytes))
                and type(offset) is int
                and type(count) is int
                and 0 <= offset
                and 0 <= count <= len(buffer) - offset
                or _steady_range(buffer, offset, count, _NONE)
            ):
                try:
                    self._sock._send_steady(buffer, offset, count, _NONE)
                except _WRAPPED as exc:
                    raise _wrap(exc, _WRITE_FAILURE) from None
                return None
        view = self._target("Write", args, kwargs, False)
        self._send(view)
        if len(args) + len(kwargs) == 1:
            return len(view)
        return None

    def WriteByte(self, value: int) -> None:
        """Write one byte (an int from 0 to 255; ``ArgumentOutOfRangeException`` otherwise)."""
        self._check_write()
        b = as_int(value, "value")
        if not 0 <= b <= 255:
            raise ArgumentOutOfRangeException("value", b, "A byte is a number from 0 to 255.")
        self._send(bytes((b,)))

    @overload
    def ReadExactly(self, buffer: BytesLike, /) -> None: ...
    @overload
    def ReadExactly(self, buffer: BytesLike, offset: int, count: int, /) -> None: ...

    def ReadExactly(self, buffer: Any, *args: Any, **kwargs: Any) -> None:
        """``ReadExactly(buffer[, offset, count])``: fill the whole range or raise ``EndOfStreamException``.

        Raises what ``Read`` raises, and ``EndOfStreamException`` if the stream ends first.
        """
        view = self._target("ReadExactly", (buffer, *args), kwargs, True, state_first=False)
        self._fill(view, len(view), True)

    def ReadAtLeast(self, buffer: BytesLike, minimum_bytes: int, throw_on_end_of_stream: bool = True) -> int:
        """Read until at least ``minimum_bytes`` are in ``buffer``; returns the count read.

        Raises ``ArgumentOutOfRangeException`` (``minimumBytes``) below 0 or beyond the buffer, and
        ``EndOfStreamException`` if the stream ends first (unless ``throw_on_end_of_stream`` is false:
        then the count read so far is returned).
        """
        view = as_writable_buffer(buffer) if buffer is not None else None
        if view is None:
            raise ArgumentNullException("buffer")
        minimum = as_int(minimum_bytes, "minimumBytes")
        if minimum < 0 or minimum > len(view):
            raise ArgumentOutOfRangeException("minimumBytes", minimum)
        self._check_read()
        return self._fill(view, minimum, throw_on_end_of_stream)

    def _fill(self, view: memoryview, minimum: int, throw: bool) -> int:
        total = 0
        while total < minimum:
            n = self._receive(view[total:])
            if n == 0:
                if throw:
                    raise EndOfStreamException()
                break
            total += n
        return total

    def CopyTo(self, destination: Any, buffer_size: int = _DEFAULT_COPY_BUFFER) -> None:
        """Read to the end of the stream, writing every block to ``destination``.

        ``destination`` is another ``NetworkStream`` or any writable binary ``io`` stream.  Raises
        ``ArgumentNullException`` (``destination``), ``ArgumentOutOfRangeException`` (``bufferSize``)
        for a size of 0 or less, ``NotSupportedException`` when this stream cannot read or the
        destination cannot write, and what ``Read`` raises.
        """
        write = self._copy_checks(destination, buffer_size)
        data = bytearray(buffer_size)
        block = memoryview(data)
        while n := self._receive(data):
            write(block[:n])

    def _copy_checks(self, destination: Any, buffer_size: Any) -> Any:
        if destination is None:
            raise ArgumentNullException("destination")
        size = as_int(buffer_size, "bufferSize")
        if size <= 0:
            raise ArgumentOutOfRangeException("bufferSize", size, "Positive number required.")
        self._throw_if_disposed()
        if not self._readable:
            raise NotSupportedException("Stream does not support reading.")
        if isinstance(destination, NetworkStream):
            if not destination.CanWrite:
                raise NotSupportedException("Stream does not support writing.")
            return destination.Write
        writable = getattr(destination, "writable", None)
        if writable is None or not writable():
            raise NotSupportedException("Stream does not support writing.")
        return destination.write

    def Flush(self) -> None:
        """Does nothing: every ``Write`` has already handed its bytes to the socket."""

    def Close(self, timeout: int | datetime.timedelta | None = None) -> None:
        """Close the stream (and its socket, if it owns it); also ``io``'s ``close()``.

        With ``timeout`` (milliseconds or a ``timedelta``) an owned socket is closed with
        ``Socket.Close(timeout)``: unsent data gets that long to leave.  Raises
        ``ArgumentOutOfRangeException`` (``timeout``) below -1.  Closing twice does nothing.
        """
        if timeout is not None:
            self._close_timeout = as_timeout_ms(timeout, "timeout")
        self.Dispose()

    def Dispose(self) -> None:
        """Close the stream; an owned socket is shut down and closed.  Closing twice does nothing."""
        if self._disposed:
            return
        self._disposed = True
        self._readable = False
        self._writeable = False
        if self._owns:
            close_socket(self._sock, self._close_timeout)
        io.RawIOBase.close(self)

    def __del__(self) -> None:
        # .NET's finaliser leaves the socket alone; io's would close it.
        pass

    def readable(self) -> bool:
        """``CanRead``, for ``io``."""
        return self._readable

    def writable(self) -> bool:
        """``CanWrite``, for ``io``."""
        return self._writeable

    def seekable(self) -> bool:
        """False, for ``io``."""
        return False

    def fileno(self) -> int:
        """The socket's descriptor (``Socket.Handle``), for ``select`` and friends."""
        self._throw_if_disposed()
        return self._sock.Handle

    # -- Begin/End --------------------------------------------------------------------------------

    def BeginRead(
        self, buffer: Any, offset: int, count: int, callback: AsyncCallback | None = None, state: Any = None
    ) -> IAsyncResult:
        """Start a read into ``buffer[offset:offset+count]``; ``EndRead`` gives the count.

        Argument errors raise here, as from ``Read``; errors of the read are raised by ``EndRead``.
        """
        self._check_read()
        view = _range(buffer, offset, count, True)
        try:
            return self._sock.BeginReceive(view, 0, len(view), _NONE, callback, state)
        except _WRAPPED as exc:
            raise _wrap(exc, _READ_FAILURE) from None

    def EndRead(self, async_result: IAsyncResult) -> int:
        """Wait for a ``BeginRead`` and return its count (0 at the end of the stream).

        Raises ``ObjectDisposedException`` once the stream is closed, ``ArgumentNullException``
        (``asyncResult``), and ``IOException`` for the read's error (or a result not from ``BeginRead``).
        """
        self._throw_if_disposed()
        if async_result is None:
            raise ArgumentNullException("asyncResult")
        try:
            return self._sock.EndReceive(async_result)
        except _WRAPPED as exc:
            raise _wrap(exc, _READ_FAILURE) from None

    def BeginWrite(
        self, buffer: Any, offset: int, count: int, callback: AsyncCallback | None = None, state: Any = None
    ) -> IAsyncResult:
        """Start writing ``buffer[offset:offset+count]`` (all of it); finish with ``EndWrite``."""
        self._check_write()
        view = _range(buffer, offset, count, False)
        try:
            return self._sock.BeginSend(view, 0, len(view), _NONE, callback, state)
        except _WRAPPED as exc:
            raise _wrap(exc, _WRITE_FAILURE) from None

    def EndWrite(self, async_result: IAsyncResult) -> None:
        """Wait for a ``BeginWrite``; raises as ``EndRead`` does."""
        self._throw_if_disposed()
        if async_result is None:
            raise ArgumentNullException("asyncResult")
        try:
            self._sock.EndSend(async_result)
        except _WRAPPED as exc:
            raise _wrap(exc, _WRITE_FAILURE) from None

    # -- awaitable --------------------------------------------------------------------------------

    @overload
    def ReadAsync(
        self, buffer: BytesLike, /, cancellation_token: CancellationToken = ...
    ) -> Coroutine[Any, Any, int]: ...
    @overload
    def ReadAsync(
        self, buffer: BytesLike, offset: int, count: int, /, cancellation_token: CancellationToken = ...
    ) -> Coroutine[Any, Any, int]: ...

    def ReadAsync(self, *args: Any, **kwargs: Any) -> Coroutine[Any, Any, int]:
        """``await ReadAsync(buffer[, offset, count][, cancellation_token]) -> int`` (0 at the end).

        Argument errors raise from the call, as from ``Read``; errors of the read from the await,
        as ``IOException``.  A cancelled token ends it with ``OperationCanceledException`` and takes
        no bytes off the socket.
        """
        args, token = split_token(args, kwargs)
        view = self._target("ReadAsync", args, kwargs, True)
        try:
            pending = self._sock.ReceiveAsync(view, _NONE)
        except _WRAPPED as exc:
            raise _wrap(exc, _READ_FAILURE) from None
        return _read(pending, token)

    @overload
    def WriteAsync(
        self, buffer: BytesLike, /, cancellation_token: CancellationToken = ...
    ) -> Coroutine[Any, Any, None]: ...
    @overload
    def WriteAsync(
        self, buffer: BytesLike, offset: int, count: int, /, cancellation_token: CancellationToken = ...
    ) -> Coroutine[Any, Any, None]: ...

    def WriteAsync(self, *args: Any, **kwargs: Any) -> Coroutine[Any, Any, None]:
        """``await WriteAsync(buffer[, offset, count][, cancellation_token])``: every byte sent.

        Argument errors raise from the call, as from ``Write`` (``ArgumentNullException``,
        ``ArgumentOutOfRangeException``, ``InvalidOperationException``, ``ObjectDisposedException``);
        errors of the write from the await, as ``IOException``, and ``OperationCanceledException``
        for a cancelled token.
        """
        args, token = split_token(args, kwargs)
        view = self._target("WriteAsync", args, kwargs, False)
        try:
            pending = self._sock.SendAsync(view, _NONE)
        except _WRAPPED as exc:
            raise _wrap(exc, _WRITE_FAILURE) from None
        return _written(pending, token)

    @overload
    def ReadExactlyAsync(
        self, buffer: BytesLike, /, cancellation_token: CancellationToken = ...
    ) -> Coroutine[Any, Any, None]: ...
    @overload
    def ReadExactlyAsync(
        self, buffer: BytesLike, offset: int, count: int, /, cancellation_token: CancellationToken = ...
    ) -> Coroutine[Any, Any, None]: ...

    def ReadExactlyAsync(self, *args: Any, **kwargs: Any) -> Coroutine[Any, Any, None]:
        """``await ReadExactlyAsync(buffer[, offset, count][, cancellation_token])``; as ``ReadExactly``.

        Argument errors raise from the call (``ArgumentNullException`` ``buffer``,
        ``ArgumentOutOfRangeException`` ``offset``/``count``); the await raises
        ``EndOfStreamException`` if the stream ends first, ``IOException`` for the read's error and
        ``OperationCanceledException`` for a cancelled token.
        """
        args, token = split_token(args, kwargs)
        view = self._target("ReadExactlyAsync", args, kwargs, True, state_first=False)
        return _discard(await_cancellable(self._fill_async(view, len(view), True), token))

    def ReadAtLeastAsync(
        self,
        buffer: BytesLike,
        minimum_bytes: int,
        throw_on_end_of_stream: bool = True,
        cancellation_token: CancellationToken = CancellationToken.None_,
    ) -> Coroutine[Any, Any, int]:
        """``await ReadAtLeastAsync(buffer, minimum_bytes[, throw_on_end_of_stream][, cancellation_token])``."""
        if buffer is None:
            raise ArgumentNullException("buffer")
        view = as_writable_buffer(buffer)
        minimum = as_int(minimum_bytes, "minimumBytes")
        if minimum < 0 or minimum > len(view):
            raise ArgumentOutOfRangeException("minimumBytes", minimum)
        self._check_read()
        return await_cancellable(self._fill_async(view, minimum, throw_on_end_of_stream), cancellation_token)

    async def _fill_async(self, view: memoryview, minimum: int, throw: bool) -> int:
        total = 0
        while total < minimum:
            self._check_read()
            try:
                n = await self._sock.ReceiveAsync(view[total:], _NONE)
            except _WRAPPED as exc:
                raise _wrap(exc, _READ_FAILURE) from None
            if n == 0:
                if throw:
                    raise EndOfStreamException()
                break
            total += n
        return total

    @overload
    def CopyToAsync(
        self, destination: Any, /, cancellation_token: CancellationToken = ...
    ) -> Coroutine[Any, Any, None]: ...
    @overload
    def CopyToAsync(
        self, destination: Any, buffer_size: int, /, cancellation_token: CancellationToken = ...
    ) -> Coroutine[Any, Any, None]: ...

    def CopyToAsync(self, destination: Any, *args: Any, **kwargs: Any) -> Coroutine[Any, Any, None]:
        """``await CopyToAsync(destination[, buffer_size][, cancellation_token])``: as ``CopyTo``.

        A ``NetworkStream`` destination is written with ``WriteAsync``; any other with its ``write``.
        Raises from the call what ``CopyTo`` raises for its arguments (``ArgumentNullException``
        ``destination``, ``ArgumentOutOfRangeException`` ``bufferSize``, ``NotSupportedException``);
        the await raises ``IOException`` for the read's error and ``OperationCanceledException``
        for a cancelled token.
        """
        args, token = split_token(args, kwargs)
        buffer_size = kwargs.pop("buffer_size", args[0] if args else _DEFAULT_COPY_BUFFER)
        if kwargs or len(args) > 1:
            raise TypeError("CopyToAsync() takes (destination[, buffer_size][, cancellation_token])")
        write = self._copy_checks(destination, buffer_size)
        return await_cancellable(self._copy_async(destination, write, as_int(buffer_size, "bufferSize")), token)

    async def _copy_async(self, destination: Any, write: Any, size: int) -> None:
        block = memoryview(bytearray(size))
        while True:
            try:
                n = await self._sock.ReceiveAsync(block, _NONE)
            except _WRAPPED as exc:
                raise _wrap(exc, _READ_FAILURE) from None
            if n == 0:
                return
            if isinstance(destination, NetworkStream):
                await destination.WriteAsync(block[:n])
            else:
                write(block[:n])

    def FlushAsync(self, cancellation_token: CancellationToken = CancellationToken.None_) -> Coroutine[Any, Any, None]:
        """``await FlushAsync([cancellation_token])``: nothing to flush; a cancelled token raises
        ``OperationCanceledException``."""
        return await_cancellable(_done(), cancellation_token)

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    socket = Socket
    can_read = CanRead
    can_write = CanWrite
    can_seek = CanSeek
    can_timeout = CanTimeout
    data_available = DataAvailable
    read_timeout = ReadTimeout
    write_timeout = WriteTimeout
    length = Length
    position = Position
    seek = Seek
    set_length = SetLength
    read = Read
    read_byte = ReadByte
    write = Write
    write_byte = WriteByte
    read_exactly = ReadExactly
    read_at_least = ReadAtLeast
    copy_to = CopyTo
    flush = Flush
    close = Close
    dispose = Dispose
    begin_read = BeginRead
    end_read = EndRead
    begin_write = BeginWrite
    end_write = EndWrite
    read_async = ReadAsync
    write_async = WriteAsync
    read_exactly_async = ReadExactlyAsync
    read_at_least_async = ReadAtLeastAsync
    copy_to_async = CopyToAsync
    flush_async = FlushAsync
    # -- end of PEP 8 spellings --


async def _done() -> None:
    return None


async def _read(pending: Awaitable[int], token: CancellationToken) -> int:
    try:
        # A token that can never be cancelled needs no registration (await_cancellable's own shortcut).
        if token.CanBeCanceled:
            return await await_cancellable(pending, token)
        return await pending
    except _WRAPPED as exc:
        raise _wrap(exc, _READ_FAILURE) from None


async def _written(pending: Awaitable[int], token: CancellationToken) -> None:
    try:
        if token.CanBeCanceled:
            await await_cancellable(pending, token)
        else:
            await pending
    except _WRAPPED as exc:
        raise _wrap(exc, _WRITE_FAILURE) from None


async def _discard(pending: Awaitable[Any]) -> None:
    await pending
