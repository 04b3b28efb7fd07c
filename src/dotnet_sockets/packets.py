"""``SendPacketsElement``: one buffer or file range of a ``SendPacketsAsync`` (or ``SendFile``).

The three .NET forms are told apart by the first argument: a bytes-like
object is a buffer, a ``str`` (or ``os.PathLike``) a file path, and an open
binary file (anything with ``fileno()``, .NET's ``FileStream``) a file
stream.  Files are sent with ``os.sendfile`` from an explicit offset, so a
file stream's position is left where it was, as in .NET.
"""

from __future__ import annotations

import os
from typing import Any, overload

from ._checks import as_buffer, as_int
from ._names import dotnet_names
from .exceptions import (
    ArgumentException,
    ArgumentNullException,
    ArgumentOutOfRangeException,
)

__all__ = ["SendPacketsElement", "packet_parts"]

_INT_MAX = 0x7FFFFFFF


def _is_path(value: Any) -> bool:
    return isinstance(value, (str, os.PathLike))


def _is_file(value: Any) -> bool:
    return hasattr(value, "fileno") and not isinstance(value, (bytes, bytearray, memoryview))


@dotnet_names
class SendPacketsElement:
    """A buffer, a file path or an open file, with the range of it to send.

    ``SendPacketsElement(buffer[, offset, count][, end_of_packet])``,
    ``SendPacketsElement(filepath[, offset, count][, end_of_packet])``,
    ``SendPacketsElement(file_stream[, offset, count][, end_of_packet])``.
    A ``count`` of 0 for a file sends it to its end.  The file is opened (and a
    missing one reported, ``FileNotFoundError``) when the send starts, not here.

    Raises ``ArgumentNullException`` (``buffer``, ``filepath`` or ``fileStream``, after the keyword
    used), ``ArgumentOutOfRangeException`` (``offset``, ``count``) for a range outside the buffer
    or a negative file range, and ``ArgumentException`` for something that is neither.
    """

    __slots__ = ("_buffer", "_view", "_path", "_stream", "_offset", "_count", "_eop")

    @overload
    def __init__(self, buffer: Any, /) -> None: ...
    @overload
    def __init__(self, buffer: Any, offset: int, count: int, end_of_packet: bool = False, /) -> None: ...
    @overload
    def __init__(self, buffer: Any, end_of_packet: bool, /) -> None: ...

    def __init__(self, source: Any = None, *args: Any, **kwargs: Any) -> None:
        named = ""
        for name, dotnet in (("buffer", "buffer"), ("filepath", "filepath"), ("file_stream", "fileStream")):
            if name in kwargs:
                if source is not None:
                    raise TypeError(f"SendPacketsElement() got {name} twice")
                source = kwargs.pop(name)
                named = dotnet
        offset: Any = kwargs.pop("offset", None)
        count: Any = kwargs.pop("count", None)
        eop: Any = kwargs.pop("end_of_packet", False)
        if kwargs:
            raise TypeError(f"SendPacketsElement() got unexpected arguments {sorted(kwargs)}")
        if len(args) == 1:
            eop = args[0]
        elif len(args) in (2, 3):
            offset, count = args[0], args[1]
            if len(args) == 3:
                eop = args[2]
        elif args:
            raise TypeError("SendPacketsElement() takes at most 4 arguments")
        self._buffer: Any = None
        self._view: memoryview | None = None
        self._path: str | None = None
        self._stream: Any = None
        self._eop = bool(eop)
        if source is None:
            # .NET's overloads name it buffer, filepath or fileStream: the keyword used says which.
            raise ArgumentNullException(named or "buffer")
        if _is_path(source):
            self._path = os.fspath(source)
            self._set_file_range(offset, count)
        elif _is_file(source):
            self._stream = source
            self._set_file_range(offset, count)
        else:
            view = as_buffer(source, "buffer")
            mv = view if isinstance(view, memoryview) else memoryview(view)
            n = len(mv)
            off = 0 if offset is None else as_int(offset, "offset")
            cnt = n - off if count is None else as_int(count, "count")
            if off < 0 or off > n:
                raise ArgumentOutOfRangeException("offset", off)
            if cnt < 0 or cnt > n - off:
                raise ArgumentOutOfRangeException("count", cnt)
            if isinstance(source, memoryview) and offset is None:
                # .NET's ReadOnlyMemory<byte> form: no array, the whole view is the range.
                self._offset = 0
            else:
                self._buffer = source
                self._offset = off
            self._count = cnt
            self._view = mv[off : off + cnt]

    def _set_file_range(self, offset: Any, count: Any) -> None:
        off = 0 if offset is None else as_int(offset, "offset")
        cnt = 0 if count is None else as_int(count, "count")
        if off < 0:
            raise ArgumentOutOfRangeException("offset", off)
        if cnt < 0:
            raise ArgumentOutOfRangeException("count", cnt)
        self._offset = off
        self._count = cnt

    @property
    def Buffer(self) -> Any:
        """The buffer given (.NET's ``byte[]`` form), or None for a file or a bare ``memoryview``."""
        return self._buffer

    @property
    def MemoryBuffer(self) -> memoryview | None:
        """The range to send (``Offset``, ``Count``) as a byte view, or None for a file element."""
        return self._view

    @property
    def FilePath(self) -> str | None:
        return self._path

    @property
    def FileStream(self) -> Any:
        return self._stream

    @property
    def Offset(self) -> int:
        """The offset as .NET's ``int``; ``OverflowError`` (.NET's ``OverflowException``) when it does not fit."""
        if self._offset > _INT_MAX:
            raise OverflowError("The offset does not fit in an int; use OffsetLong.")
        return self._offset

    @property
    def OffsetLong(self) -> int:
        return self._offset

    @property
    def Count(self) -> int:
        """Bytes to send; 0 for a file means up to its end."""
        return self._count

    @property
    def EndOfPacket(self) -> bool:
        return self._eop

    def __repr__(self) -> str:
        what = "buffer" if self._view is not None else repr(self._path) if self._path is not None else "stream"
        return f"<SendPacketsElement {what} offset={self._offset} count={self._count}>"

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    buffer = Buffer
    memory_buffer = MemoryBuffer
    file_path = FilePath
    file_stream = FileStream
    offset = Offset
    offset_long = OffsetLong
    count = Count
    end_of_packet = EndOfPacket
    # -- end of PEP 8 spellings --


def _bad_range() -> OSError:
    import errno

    return OSError(errno.EINVAL, os.strerror(errno.EINVAL))


def packet_parts(elements: Any) -> tuple[list[tuple[Any, int, int, int]], list[Any], OSError | None]:
    """The operation parts of ``elements``, the files opened for them, and an error of the send.

    Files named by path are opened here, so a missing one raises at the call, as in
    .NET (``FileNotFoundError``; an empty path ``ArgumentException``, ParamName
    "path").  A range past a file's end is an error of the send (``InvalidArgument``,
    nothing sent), returned rather than raised.
    """
    parts: list[tuple[Any, int, int, int]] = []
    owned: list[Any] = []
    error: OSError | None = None
    try:
        for el in list(elements):
            if el is None:
                continue
            if not isinstance(el, SendPacketsElement):
                raise ArgumentException(f"Expected a SendPacketsElement, not {type(el).__name__}.", "e")
            if el._view is not None:
                if el._count:
                    parts.append((el._view, -1, 0, 0))
                continue
            if el._path is not None:
                if not el._path:
                    raise ArgumentException("Empty path name is not legal.", "path")
                f = open(el._path, "rb")  # noqa: SIM115 - closed by the operation
                owned.append(f)
                fd = f.fileno()
            else:
                fd = el._stream.fileno()
            size = os.fstat(fd).st_size
            count = el._count if el._count else size - el._offset
            if el._offset > size or count > size - el._offset or count < 0:
                error = error or _bad_range()
                continue
            if count:
                parts.append((None, fd, el._offset, count))
    except BaseException:
        for f in owned:
            f.close()
        raise
    return parts, owned, error
