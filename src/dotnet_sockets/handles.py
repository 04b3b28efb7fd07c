"""``SafeSocketHandle`` and ``SocketInformation``: a socket's descriptor, and Windows' duplication record."""

from __future__ import annotations

import os
import threading
from typing import Any, overload

from ._names import dotnet_names
from .enums import SocketInformationOptions
from .exceptions import ArgumentException

__all__ = ["SafeSocketHandle", "SocketInformation"]

_INVALID = -1


@dotnet_names
class SafeSocketHandle:
    """A socket descriptor and whether closing the handle closes it (.NET's ``SafeSocketHandle``).

    ``SafeSocketHandle()`` is invalid; ``SafeSocketHandle(preexisting_handle, owns_handle)``
    wraps a descriptor (an ``int``, or anything with ``fileno()``).  ``Socket(handle)``
    adopts it; ``Socket.SafeHandle`` gives one that does not own the socket's descriptor.
    Raises ``ArgumentException`` (``preexistingHandle``) for something that is not a descriptor.
    """

    __slots__ = ("_fd", "_owns", "_closed", "_close_claim")

    @overload
    def __init__(self) -> None: ...
    @overload
    def __init__(self, preexisting_handle: int, owns_handle: bool) -> None: ...

    def __init__(self, preexisting_handle: Any = _INVALID, owns_handle: bool = True) -> None:
        fd = preexisting_handle
        if not isinstance(fd, int) and hasattr(fd, "fileno"):
            fd = fd.fileno()
        if not isinstance(fd, int) or isinstance(fd, bool):
            raise ArgumentException(
                f"Expected a descriptor, not {type(preexisting_handle).__name__}.", "preexistingHandle"
            )
        self._fd = fd
        self._owns = bool(owns_handle)
        self._closed = False
        # Taken once, without waiting, by the one Close that closes: no thread ever blocks on it,
        # so neither a fork nor a finalizer can leave it held against a waiter.
        self._close_claim = threading.Lock()

    @property
    def IsInvalid(self) -> bool:
        """True for -1 (and any negative value), .NET's ``SafeHandleMinusOneIsInvalid``."""
        return self._fd < 0

    @property
    def IsClosed(self) -> bool:
        return self._closed

    def DangerousGetHandle(self) -> int:
        """The descriptor itself."""
        return self._fd

    def SetHandleAsInvalid(self) -> None:
        """Mark the handle closed without closing the descriptor."""
        self._closed = True

    def Close(self) -> None:
        """Close the descriptor if the handle owns it; later calls do nothing."""
        if not self._close_claim.acquire(False) or self._closed:
            return
        self._closed = True
        if self._owns and self._fd >= 0:
            try:
                os.close(self._fd)
            except OSError:
                pass

    Dispose = Close

    def __enter__(self) -> SafeSocketHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.Close()

    def __repr__(self) -> str:
        return f"<SafeSocketHandle fd={self._fd} owns={self._owns} closed={self._closed}>"

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    is_invalid = IsInvalid
    is_closed = IsClosed
    dangerous_get_handle = DangerousGetHandle
    set_handle_as_invalid = SetHandleAsInvalid
    close = Close
    dispose = Dispose
    # -- end of PEP 8 spellings --


@dotnet_names
class SocketInformation:
    """What ``DuplicateAndClose`` returns on Windows; Linux has no such transfer (.NET raises there too)."""

    __slots__ = ("_options", "_protocol_information")

    def __init__(
        self, options: SocketInformationOptions | int = 0, protocol_information: bytes | None = None
    ) -> None:
        self._options = SocketInformationOptions(options)
        self._protocol_information = protocol_information

    @property
    def Options(self) -> SocketInformationOptions:
        return self._options

    @Options.setter
    def Options(self, value: SocketInformationOptions | int) -> None:
        self._options = SocketInformationOptions(value)

    @property
    def ProtocolInformation(self) -> bytes | None:
        return self._protocol_information

    @ProtocolInformation.setter
    def ProtocolInformation(self, value: bytes | None) -> None:
        self._protocol_information = value

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SocketInformation):
            return NotImplemented
        return self.Options == other.Options and self.ProtocolInformation == other.ProtocolInformation

    __hash__ = None  # type: ignore[assignment]

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    options = Options
    protocol_information = ProtocolInformation
    # -- end of PEP 8 spellings --
