"""Argument checks in .NET's order; ``ParamName`` is chosen here and nowhere else.

Every public entry point of every model (sync, Begin/End, SocketAsyncEventArgs,
asyncio) validates through these functions, so the same bad input raises the
same exception whatever model it came through.
"""

from __future__ import annotations

import datetime
import operator
from typing import Any

from .enums import AddressFamily, SocketFlags, TransmitFileOptions
from .exceptions import (
    ArgumentException,
    ArgumentNullException,
    ArgumentOutOfRangeException,
)
from .socketaddress import SocketAddress

__all__ = [
    "as_buffer",
    "as_writable_buffer",
    "check_range",
    "as_int",
    "as_timeout_ms",
    "as_timeout_property",
    "timedelta_ms",
    "buffer_list",
    "flags_value",
    "no_flags",
    "send_view",
    "plain_view",
    "check_received_address",
    "as_transmit_flags",
    "as_microseconds",
    "as_int32",
]

_bytes_types = (bytes, bytearray)
_NONE = SocketFlags.None_


def as_buffer(buffer: Any, name: str = "buffer") -> Any:
    """Return ``buffer`` as something ``len()`` counts in bytes and ``socket`` accepts.

    bytes and bytearray pass through untouched (the hot path); any other
    bytes-like object becomes a flat byte memoryview, so that ``offset`` and
    ``size`` count bytes, as a .NET ``byte[]`` does.
    """
    if type(buffer) in _bytes_types:
        return buffer
    if buffer is None:
        raise ArgumentNullException(name)
    if isinstance(buffer, str):
        raise ArgumentException("A str is not a buffer; encode it to bytes first.", name)
    try:
        mv = memoryview(buffer)
    except TypeError:
        raise ArgumentException(f"Expected a bytes-like object, not {type(buffer).__name__}.", name) from None
    except ValueError:
        # A released memoryview: no memory to send from or receive into.
        raise ArgumentException("The buffer has been released.", name) from None
    if not mv.c_contiguous:
        # The kernel needs one flat run of bytes; a strided view would fail later, on the engine thread.
        raise ArgumentException("The buffer must be C-contiguous.", name)
    if mv.format != "B" or mv.ndim != 1:
        try:
            mv = mv.cast("B")
        except TypeError:
            raise ArgumentException("The buffer must be C-contiguous.", name) from None
    return mv


def as_writable_buffer(buffer: Any, name: str = "buffer") -> memoryview:
    """A flat, writable byte view of ``buffer`` (receives write into it)."""
    mv = as_buffer(buffer, name)
    if not isinstance(mv, memoryview):
        mv = memoryview(mv)
    if mv.readonly:
        raise ArgumentException("The buffer must be writable (bytearray, memoryview, array...).", name)
    return mv


def send_view(buf: Any) -> Any:
    """What a send holds while it is pending: ``bytes`` as they are, anything else exported.

    The export (a memoryview) is what ``socket.sendall`` and asyncio hold too: resizing a
    ``bytearray`` while its send is pending raises ``BufferError`` in whoever resizes it,
    and exactly the bytes there at the start are sent.
    """
    return buf if type(buf) is bytes else memoryview(buf)


def plain_view(buffer: Any, writable: bool) -> Any:
    """A fast path's own hold on ``buffer`` when the general checks could only accept it, else None.

    Plainly valid: an exact ``bytearray``, an exact flat byte ``memoryview`` (writable for a
    receive), or exact ``bytes`` for a send.  What it returns is what the general path holds for
    the whole buffer: the ``bytes`` themselves, or a new memoryview (an export, see
    :func:`send_view`).  None hands the buffer to the general path, which raises or converts.
    """
    t = type(buffer)
    if t is bytearray:
        return memoryview(buffer)
    if t is memoryview:
        try:
            if buffer.ndim == 1 and buffer.format == "B" and buffer.c_contiguous and not (writable and buffer.readonly):
                return memoryview(buffer)
        except ValueError:
            pass  # released: the general path says so
        return None
    if t is bytes and not writable:
        return buffer
    return None


def no_flags(flags: Any) -> bool:
    """The one rule for "no socket flags" on the fast paths (``_speedups.c`` spells it too).

    An ``int`` (``SocketFlags`` or any subclass) counts by its stored value: its
    ``__bool__``, ``__index__`` and ``__int__`` are never called, so a subclass that raises
    or lies in them is read the same way by every path.  Anything else is not "no flags"
    here: the general path reads it with :func:`flags_value`.
    """
    t = type(flags)
    return (t is int or issubclass(t, int)) and operator.index(flags) == 0


def flags_value(flags: Any) -> int:
    """The value of a ``socket_flags`` argument (see :func:`no_flags` for ints).

    ``None`` and other false values are no flags, as before; anything else must be an
    integer (``ArgumentException``, ParamName ``socketFlags``, otherwise).
    """
    if issubclass(type(flags), int):
        return operator.index(flags)
    if flags is None or not flags:
        return 0
    return as_int(flags, "socketFlags")


def as_int(value: Any, name: str) -> int:
    if type(value) is int:
        return value
    if value is None:
        raise ArgumentNullException(name)
    try:
        return operator.index(value)
    except TypeError:
        raise ArgumentException(f"Expected an integer, not {type(value).__name__}.", name) from None


def steady_range(buffer: Any, offset: Any, size: Any, flags: Any) -> bool:
    """True for the steady state's arguments, which a fast path may hand to the kernel at once.

    Only the plainly valid common case: a ``bytes`` or ``bytearray``, exact ``int`` offset and
    size inside it (:func:`check_range` holds), and no flags (:func:`no_flags`, which takes
    ``SocketFlags.None_`` and ``0`` at once).  False means "let the general path decide", never
    "invalid": that path applies every rule, in .NET's order, and raises.
    """
    t = type(buffer)
    return (
        (t is bytearray or t is bytes)
        and type(offset) is int
        and type(size) is int
        and 0 <= offset
        and 0 <= size <= len(buffer) - offset
        and (flags is _NONE or no_flags(flags))
    )


STEADY_RANGE = steady_range
"""The rule itself.  The hottest callers (``NetworkStream.Write``/``Read``, ``BeginSend``,
``BeginReceive``) spell out its test for ``SocketFlags.None_`` inline, a frame fewer, but only
while their module's ``_steady_range`` is this function: the tests swap that name for one that
answers False to send every call down the general path, and the spelled-out test then steps
aside.  Anything the spelled-out test does not pass asks ``steady_range`` itself."""


def check_range(length: int, offset: Any, size: Any) -> tuple[int, int]:
    """.NET's ValidateBufferArguments: offset in 0..length, size in 0..length-offset."""
    if type(offset) is not int:
        offset = as_int(offset, "offset")
    if offset < 0 or offset > length:
        raise ArgumentOutOfRangeException("offset", offset)
    if type(size) is not int:
        size = as_int(size, "size")
    if size < 0 or size > length - offset:
        raise ArgumentOutOfRangeException("size", size)
    return offset, size


_ONE_MS = datetime.timedelta(milliseconds=1)


def timedelta_ms(value: datetime.timedelta) -> int:
    """A ``TimeSpan``'s milliseconds as .NET's ``(int)timeout.TotalMilliseconds`` gives them (toward zero)."""
    return int(value / _ONE_MS)


def as_timeout_ms(value: Any, name: str = "millisecondsTimeout") -> int:
    """.NET timeouts: int milliseconds, -1 infinite; a timedelta is accepted too."""
    if isinstance(value, datetime.timedelta):
        ms = timedelta_ms(value)
        if ms < -1 or ms > 0x7FFFFFFF:
            raise ArgumentOutOfRangeException("timeout", value)
        return ms
    ms = as_int(value, name)
    if ms < -1:
        raise ArgumentOutOfRangeException(name, ms)
    return ms


def as_timeout_property(value: Any) -> int:
    """``ReceiveTimeout``/``SendTimeout`` values: int milliseconds from -1 (infinite) up, or a ``timedelta``."""
    ms = timedelta_ms(value) if isinstance(value, datetime.timedelta) else as_int(value, "value")
    if ms < -1 or ms > 0x7FFFFFFF:  # beyond .NET's int the wait of a later call would fail
        raise ArgumentOutOfRangeException("value", value)
    return ms


def buffer_list(buffers: Any, writable: bool) -> list[memoryview]:
    """Validate a .NET ``IList<ArraySegment<byte>>``: a non-empty list of buffers.

    Items may be buffers or ``(buffer, offset, count)`` triples, the Python
    shape of an ``ArraySegment<byte>``.
    """
    if buffers is None:
        raise ArgumentNullException("buffers")
    if isinstance(buffers, (bytes, bytearray, memoryview, str)):
        raise ArgumentException("Expected a list of buffers.", "buffers")
    try:
        items = list(buffers)
    except TypeError:
        raise ArgumentException("Expected a list of buffers.", "buffers") from None
    if not items:
        raise ArgumentException("The parameter must contain at least one buffer.", "buffers")
    views: list[memoryview] = []
    for item in items:
        if isinstance(item, tuple) and len(item) == 3:
            buf, off, cnt = item
            mv = as_writable_buffer(buf, "buffers") if writable else memoryview(as_buffer(buf, "buffers"))
            off, cnt = check_range(len(mv), off, cnt)
            views.append(mv[off : off + cnt])
        else:
            mv = as_writable_buffer(item, "buffers") if writable else memoryview(as_buffer(item, "buffers"))
            views.append(mv)
    return views


def check_received_address(address: Any, family: AddressFamily) -> SocketAddress:
    """The ``receivedAddress`` checks of the .NET 8 ``ReceiveFrom`` overloads."""
    if address is None:
        raise ArgumentNullException("receivedAddress")
    if not isinstance(address, SocketAddress):
        raise ArgumentException(f"Expected a SocketAddress, not {type(address).__name__}.", "receivedAddress")
    if address._size < SocketAddress.GetMaximumAddressSize(family):
        raise ArgumentOutOfRangeException(
            "receivedAddress", address._size, "Provided SocketAddress is too small for given AddressFamily."
        )
    return address


def as_transmit_flags(flags: Any) -> TransmitFileOptions:
    """A ``TransmitFileOptions`` value (``flags``); plain ints are accepted, as for every flags enum."""
    return TransmitFileOptions(as_int(flags, "flags"))


_INT_MAX = 0x7FFFFFFF


def as_microseconds(value: Any, name: str = "microSeconds") -> int:
    """``Poll``/``Select``'s timeout: int microseconds (negative waits forever), or .NET's ``TimeSpan``
    form as a ``timedelta`` (``timedelta(milliseconds=-1)`` is infinite; -1 to ``int.MaxValue`` us)."""
    if isinstance(value, datetime.timedelta):
        if value == datetime.timedelta(milliseconds=-1):
            return -1
        us = value // datetime.timedelta(microseconds=1)
        if us < -1 or us > _INT_MAX:
            raise ArgumentOutOfRangeException("timeout", value)
        return int(us)
    return as_int(value, name)


def as_int32(value: Any, name: str) -> int:
    """A .NET ``int`` argument: an integer from ``int.MinValue`` to ``int.MaxValue``."""
    v = as_int(value, name)
    if v < -_INT_MAX - 1 or v > _INT_MAX:
        raise ArgumentOutOfRangeException(name, v)
    return v
