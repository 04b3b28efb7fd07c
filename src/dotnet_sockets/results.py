"""Result types of operations that return more than one value."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ._names import dotnet_names
from .addresses import EndPoint, IPAddress, IPEndPoint
from .enums import SocketFlags as _SocketFlags
from .exceptions import ArgumentNullException

__all__ = ["SocketReceiveFromResult", "UdpReceiveResult", "IPPacketInformation", "SocketReceiveMessageFromResult"]


@dotnet_names
class SocketReceiveFromResult(tuple[int, EndPoint]):
    """What a receive-from returns: ``ReceivedBytes`` and ``RemoteEndPoint``.

    It unpacks like the tuple ``(bytes_received, remote_end_point)``, the
    Python shape of .NET's ``ref EndPoint`` out-value.
    """

    # A tuple subclass rather than a NamedTuple: a NamedTuple's body can hold
    # nothing but fields, so the PEP 8 spellings could not be written out there.
    __slots__ = ()

    def __new__(cls, received_bytes: int, remote_end_point: EndPoint) -> SocketReceiveFromResult:
        return tuple.__new__(cls, (received_bytes, remote_end_point))

    def __getnewargs__(self) -> tuple[int, EndPoint]:
        return (self[0], self[1])

    @property
    def ReceivedBytes(self) -> int:
        """The number of bytes received (.NET's return value)."""
        return self[0]

    @property
    def RemoteEndPoint(self) -> EndPoint:
        """The sender (.NET's ``ref EndPoint remoteEP``, filled in)."""
        return self[1]

    def __repr__(self) -> str:
        return f"SocketReceiveFromResult(ReceivedBytes={self[0]!r}, RemoteEndPoint={self[1]!r})"

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    received_bytes = ReceivedBytes
    remote_end_point = RemoteEndPoint
    # -- end of PEP 8 spellings --


@dotnet_names
class UdpReceiveResult:
    """What ``UdpClient.ReceiveAsync`` returns: the datagram (``Buffer``) and its sender (``RemoteEndPoint``).

    ``UdpReceiveResult(buffer, remote_end_point)``; both are required (``ArgumentNullException``,
    ``buffer`` / ``remoteEndPoint``).  Two results are equal when they hold the same buffer object
    (compared by reference, as .NET compares arrays) and equal senders; it also unpacks like the
    tuple ``(buffer, remote_end_point)``, as ``UdpClient.Receive`` returns.
    """

    __slots__ = ("_buffer", "_remote")

    def __init__(self, buffer: bytes, remote_end_point: IPEndPoint) -> None:
        if buffer is None:
            raise ArgumentNullException("buffer")
        if remote_end_point is None:
            raise ArgumentNullException("remoteEndPoint")
        self._buffer = buffer
        self._remote = remote_end_point

    @property
    def Buffer(self) -> bytes:
        """The datagram's bytes."""
        return self._buffer

    @property
    def RemoteEndPoint(self) -> IPEndPoint:
        """Who sent it."""
        return self._remote

    def Equals(self, other: object) -> bool:
        """``==``: the same buffer object from an equal endpoint."""
        return self == other

    def GetHashCode(self) -> int:
        """``hash()``."""
        return hash(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, UdpReceiveResult):
            return NotImplemented
        # .NET compares the arrays by reference, not by content.
        return self._buffer is other._buffer and self._remote == other._remote

    def __hash__(self) -> int:
        return hash((id(self._buffer), self._remote))

    def __iter__(self) -> Iterator[Any]:
        return iter((self._buffer, self._remote))

    def __repr__(self) -> str:
        return f"UdpReceiveResult(Buffer={bytes(self._buffer)!r}, RemoteEndPoint={self._remote})"

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    buffer = Buffer
    remote_end_point = RemoteEndPoint
    equals = Equals
    get_hash_code = GetHashCode
    # -- end of PEP 8 spellings --


@dotnet_names
class IPPacketInformation:
    """Where a datagram arrived (.NET's ``IPPacketInformation``), from ``ReceiveMessageFrom``.

    ``Address`` is the destination address in the datagram's header, ``Interface``
    the index of the interface it came in on.  Equal when both are equal.  The
    default value (``IPPacketInformation()``) has ``Address`` None and ``Interface`` 0,
    what .NET reports when the system gave no packet information.
    """

    __slots__ = ("_address", "_interface")

    def __init__(self, address: IPAddress | None = None, interface: int = 0) -> None:
        self._address = address
        self._interface = int(interface)

    @property
    def Address(self) -> IPAddress | None:
        return self._address

    @property
    def Interface(self) -> int:
        return self._interface

    def Equals(self, comparand: object) -> bool:
        """``==``: same address and interface."""
        if not isinstance(comparand, IPPacketInformation):
            return False
        return self._interface == comparand._interface and self._address == comparand._address

    def GetHashCode(self) -> int:
        return hash((self._address, self._interface))

    __eq__ = Equals
    __hash__ = GetHashCode

    def __ne__(self, other: object) -> bool:
        return not self.Equals(other)

    def __repr__(self) -> str:
        return f"IPPacketInformation(address={self._address!s}, interface={self._interface})"

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    address = Address
    interface = Interface
    equals = Equals
    get_hash_code = GetHashCode
    # -- end of PEP 8 spellings --


@dotnet_names
class SocketReceiveMessageFromResult(tuple[int, _SocketFlags, EndPoint, "IPPacketInformation"]):
    """What ``ReceiveMessageFrom`` returns: the count and .NET's ``ref``/``out`` values.

    Unpacks as ``(received_bytes, socket_flags, remote_end_point, packet_information)``,
    the order of .NET's ``ReceiveMessageFrom(buffer, ..., ref socketFlags, ref remoteEP,
    out ipPacketInformation)``.  ``SocketFlags`` has ``Truncated`` when the datagram did
    not fit the buffer (Linux drops the rest, and reports no error).
    """

    __slots__ = ()

    def __new__(
        cls,
        received_bytes: int,
        socket_flags: _SocketFlags,
        remote_end_point: EndPoint,
        packet_information: IPPacketInformation,
    ) -> SocketReceiveMessageFromResult:
        return tuple.__new__(cls, (received_bytes, socket_flags, remote_end_point, packet_information))

    def __getnewargs__(self) -> tuple[int, _SocketFlags, EndPoint, IPPacketInformation]:
        return (self[0], self[1], self[2], self[3])

    @property
    def ReceivedBytes(self) -> int:
        """The number of bytes received (.NET's return value)."""
        return self[0]

    @property
    def SocketFlags(self) -> _SocketFlags:
        """The flags the system reported (.NET's ``ref SocketFlags socketFlags``, filled in)."""
        return self[1]

    @property
    def RemoteEndPoint(self) -> EndPoint:
        """The sender (.NET's ``ref EndPoint remoteEP``, filled in)."""
        return self[2]

    @property
    def PacketInformation(self) -> IPPacketInformation:
        """Where the datagram was sent (.NET's ``out IPPacketInformation``)."""
        return self[3]

    def __repr__(self) -> str:
        return (
            f"SocketReceiveMessageFromResult(ReceivedBytes={self[0]!r}, SocketFlags={self[1]!r}, "
            f"RemoteEndPoint={self[2]!r}, PacketInformation={self[3]!r})"
        )

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    received_bytes = ReceivedBytes
    socket_flags = SocketFlags
    remote_end_point = RemoteEndPoint
    packet_information = PacketInformation
    # -- end of PEP 8 spellings --
