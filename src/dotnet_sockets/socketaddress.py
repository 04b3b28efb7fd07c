"""``SocketAddress``: an endpoint as the raw bytes of a ``sockaddr`` (.NET ``System.Net.SocketAddress``).

The bytes are Linux's, as in .NET on Linux: the first two hold the native
address family (``AF_INET6`` is 10 there, whatever ``AddressFamily`` says),
then the port in network order and the address.  The .NET 8 ``SendTo``/
``ReceiveFrom`` overloads take one of these instead of an ``EndPoint``, so a
receive loop can reuse one object for every sender instead of making an
endpoint per datagram.
"""

from __future__ import annotations

import errno
import os
import socket as _socket
import struct
from typing import Any, Final, overload

from . import _platform
from ._names import dotnet_names
from .enums import AddressFamily
from .exceptions import (
    ArgumentException,
    ArgumentOutOfRangeException,
    PlatformNotSupportedException,
    SocketException,
)

__all__ = ["SocketAddress"]

IPV4_ADDRESS_SIZE: Final = 16  # sizeof(struct sockaddr_in)
IPV6_ADDRESS_SIZE: Final = 28  # sizeof(struct sockaddr_in6)
UDS_ADDRESS_SIZE: Final = 110  # sizeof(struct sockaddr_un)
MAX_ADDRESS_SIZE: Final = 128  # sizeof(struct sockaddr_storage)
_MIN_SIZE: Final = 2  # the family field

_AF_INET: Final = int(_socket.AF_INET)
_AF_INET6: Final = int(_socket.AF_INET6)
_AF_UNIX: Final = int(_socket.AF_UNIX)
_FAMILY = struct.Struct("=H")  # sa_family_t, host order
_PORT = struct.Struct("!H")
_V6_TAIL = struct.Struct("!I16sI")  # flowinfo (network order), address, scope id
_SCOPE = struct.Struct("=I")  # sin6_scope_id is host order

_MAX_SIZES: Final[dict[int, int]] = {
    AddressFamily.InterNetwork: IPV4_ADDRESS_SIZE,
    AddressFamily.InterNetworkV6: IPV6_ADDRESS_SIZE,
    AddressFamily.Unix: UDS_ADDRESS_SIZE,
}


def _native_family(family: Any) -> int:
    try:
        return _platform.to_platform_family(AddressFamily(family))
    except (ValueError, TypeError, SocketException):
        raise PlatformNotSupportedException(
            f"The address family {family!r} is not supported on this platform."
        ) from None


@dotnet_names
class SocketAddress:
    """A ``sockaddr`` as bytes: ``Family``, ``Size``, ``sa[i]``, ``Buffer``.

    ``SocketAddress(family)`` makes one big enough for any address of
    ``family``; ``SocketAddress(family, size)`` one of ``size`` bytes (at
    least 2).  ``Size`` may be lowered and raised again within the buffer, as
    ``ReceiveFrom`` does when it stores a sender.  Two are equal when their
    first ``Size`` bytes are.  A family Linux has no sockets for raises
    ``PlatformNotSupportedException``.
    """

    __slots__ = ("_buf", "_size")

    @overload
    def __init__(self, family: AddressFamily) -> None: ...
    @overload
    def __init__(self, family: AddressFamily, size: int) -> None: ...

    def __init__(self, family: AddressFamily | int, size: int | None = None) -> None:
        if size is None:
            size = SocketAddress.GetMaximumAddressSize(family)
        else:
            if not isinstance(size, int) or isinstance(size, bool):
                raise ArgumentException(f"Expected an integer, not {type(size).__name__}.", "size")
            if size < _MIN_SIZE:
                raise ArgumentOutOfRangeException("size", size)
        native = _native_family(family)
        self._buf = bytearray(size)
        _FAMILY.pack_into(self._buf, 0, native)
        self._size = size

    @staticmethod
    def GetMaximumAddressSize(address_family: AddressFamily | int) -> int:
        """The size of the largest address of ``address_family`` (128 for families without a fixed one)."""
        return _MAX_SIZES.get(int(address_family), MAX_ADDRESS_SIZE)

    @property
    def Family(self) -> AddressFamily:
        """The family in the first two bytes, as a .NET ``AddressFamily``."""
        native = _FAMILY.unpack_from(self._buf, 0)[0]
        try:
            return _platform.from_platform_family(native)
        except SocketException:
            raise PlatformNotSupportedException(f"The native address family {native} is not supported.") from None

    @property
    def Size(self) -> int:
        """How many bytes of ``Buffer`` the address uses (0 to the buffer's length)."""
        return self._size

    @Size.setter
    def Size(self, value: int) -> None:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ArgumentException(f"Expected an integer, not {type(value).__name__}.", "value")
        if value < 0 or value > len(self._buf):
            raise ArgumentOutOfRangeException("value", value)
        self._size = value

    @property
    def Buffer(self) -> memoryview:
        """The whole underlying buffer, writable (changes show in the address)."""
        return memoryview(self._buf)

    def __getitem__(self, offset: int) -> int:
        """``sa[offset]``: one byte; ``IndexError`` outside ``0..Size-1`` (.NET's ``IndexOutOfRangeException``)."""
        if not isinstance(offset, int) or offset < 0 or offset >= self._size:
            raise IndexError("Index was outside the bounds of the array.")
        return self._buf[offset]

    def __setitem__(self, offset: int, value: int) -> None:
        if not isinstance(offset, int) or offset < 0 or offset >= self._size:
            raise IndexError("Index was outside the bounds of the array.")
        self._buf[offset] = value

    def __len__(self) -> int:
        return self._size

    def Equals(self, comparand: object) -> bool:
        """Same ``Size`` and the same first ``Size`` bytes."""
        if not isinstance(comparand, SocketAddress):
            return False
        n = self._size
        return n == comparand._size and self._buf[:n] == comparand._buf[:n]

    def GetHashCode(self) -> int:
        return hash(bytes(self._buf[: self._size]))

    def ToString(self) -> str:
        """``"InterNetwork:16:{0,80,127,0,0,1,0,0,0,0,0,0,0,0}"``: family, size, then the bytes after the family."""
        try:
            family = self.Family.name
        except PlatformNotSupportedException:
            family = str(_FAMILY.unpack_from(self._buf, 0)[0])
        body = ",".join(str(b) for b in self._buf[2 : self._size])
        return f"{family}:{self._size}:{{{body}}}"

    __eq__ = Equals
    __hash__ = GetHashCode

    def __ne__(self, other: object) -> bool:
        return not self.Equals(other)

    def __str__(self) -> str:
        return self.ToString()

    def __repr__(self) -> str:
        return f"<SocketAddress {self.ToString()}>"

    # -- the socket module's addresses (internal) --------------------------------
    def _native(self) -> int:
        return int(_FAMILY.unpack_from(self._buf, 0)[0])

    def _store(self, native: int, sockaddr: Any) -> None:
        """Write ``sockaddr`` (as ``recvfrom`` returns it) into this address and set ``Size``."""
        buf = self._buf
        if native == _AF_INET:
            host, port = sockaddr
            need = IPV4_ADDRESS_SIZE
            if len(buf) < need:
                raise ArgumentOutOfRangeException("receivedAddress", len(buf))
            buf[:need] = bytes(need)
            _FAMILY.pack_into(buf, 0, native)
            _PORT.pack_into(buf, 2, port)
            buf[4:8] = _socket.inet_pton(_AF_INET, host)
        elif native == _AF_INET6:
            host, port, flowinfo, scope = sockaddr
            need = IPV6_ADDRESS_SIZE
            if len(buf) < need:
                raise ArgumentOutOfRangeException("receivedAddress", len(buf))
            _FAMILY.pack_into(buf, 0, native)
            _PORT.pack_into(buf, 2, port)
            _V6_TAIL.pack_into(buf, 4, flowinfo, _socket.inet_pton(_AF_INET6, host.partition("%")[0]), 0)
            _SCOPE.pack_into(buf, 24, scope)
        elif native == _AF_UNIX:
            path = sockaddr.encode("utf-8", "surrogateescape") if isinstance(sockaddr, str) else bytes(sockaddr or b"")
            need = 2 + len(path) + (0 if path[:1] == b"\0" or not path else 1)
            if len(buf) < need:
                raise ArgumentOutOfRangeException("receivedAddress", len(buf))
            _FAMILY.pack_into(buf, 0, native)
            buf[2 : 2 + len(path)] = path
            if need > 2 + len(path):
                buf[2 + len(path)] = 0
        else:
            raise PlatformNotSupportedException()
        self._size = need

    @classmethod
    def _from_sockaddr(cls, native: int, sockaddr: Any, size: int | None = None) -> SocketAddress:
        sa: SocketAddress = object.__new__(cls)
        fam = _platform.from_platform_family(native)
        sa._buf = bytearray(size if size is not None else SocketAddress.GetMaximumAddressSize(fam))
        sa._size = len(sa._buf)
        sa._store(native, sockaddr)  # sets Size to the address's own length
        return sa

    def _sockaddr_for(self, platform_family: int, dual_mode: bool) -> Any:
        """The address for a send on a socket of ``platform_family``, or the ``OSError`` Linux gives.

        An IPv4 address on a dual-mode IPv6 socket goes as its IPv4-mapped form (the
        kernel's own rule); on a v6-only socket it is unreachable.
        """
        sa = self._sockaddr()
        if isinstance(sa, OSError):
            return sa
        native = self._native()
        if native == platform_family:
            return sa
        if native == _AF_INET and platform_family == _AF_INET6:
            if dual_mode:
                return ("::ffff:" + sa[0], sa[1], 0, 0)
            return OSError(errno.ENETUNREACH, os.strerror(errno.ENETUNREACH))
        return OSError(errno.EAFNOSUPPORT, os.strerror(errno.EAFNOSUPPORT))

    def _sockaddr(self) -> Any:
        """The ``socket`` module's form of this address, or an ``OSError`` Linux would give for it."""
        buf = self._buf
        native = self._native()
        n = self._size
        try:
            if native == _AF_INET and n >= 8:
                return (_socket.inet_ntop(_AF_INET, bytes(buf[4:8])), _PORT.unpack_from(buf, 2)[0])
            if native == _AF_INET6 and n >= 24:
                flow, packed, _ = _V6_TAIL.unpack_from(buf, 4)
                scope = _SCOPE.unpack_from(buf, 24)[0] if n >= 28 else 0
                return (_socket.inet_ntop(_AF_INET6, packed), _PORT.unpack_from(buf, 2)[0], flow, scope)
            if native == _AF_UNIX and n > 2:
                path = bytes(buf[2:n])
                if path[:1] != b"\0":
                    path = path.split(b"\0", 1)[0]
                return path
        except (ValueError, struct.error):
            pass
        code = errno.EAFNOSUPPORT if native not in (_AF_INET, _AF_INET6, _AF_UNIX) else errno.EINVAL
        return OSError(code, os.strerror(code))

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    get_maximum_address_size = GetMaximumAddressSize
    family = Family
    size = Size
    buffer = Buffer
    equals = Equals
    get_hash_code = GetHashCode
    to_string = ToString
    # -- end of PEP 8 spellings --
