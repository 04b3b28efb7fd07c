"""Result types of operations that return more than one value."""

from __future__ import annotations

from typing import NamedTuple

from ._names import dotnet_names
from .addresses import EndPoint, IPAddress
from .enums import SocketFlags as _SocketFlags

__all__ = ["SocketReceiveFromResult", "IPPacketInformation", "SocketReceiveMessageFromResult"]


@dotnet_names
class SocketReceiveFromResult(NamedTuple):
    """What a receive-from returns: ``ReceivedBytes`` and ``RemoteEndPoint``.

    It unpacks like the tuple ``(bytes_received, remote_end_point)``, the
    Python shape of .NET's ``ref EndPoint`` out-value.
    """

    ReceivedBytes: int
    RemoteEndPoint: EndPoint


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


@dotnet_names
class SocketReceiveMessageFromResult(NamedTuple):
    """What ``ReceiveMessageFrom`` returns: the count and .NET's ``ref``/``out`` values.

    Unpacks as ``(received_bytes, socket_flags, remote_end_point, packet_information)``,
    the order of .NET's ``ReceiveMessageFrom(buffer, ..., ref socketFlags, ref remoteEP,
    out ipPacketInformation)``.  ``SocketFlags`` has ``Truncated`` when the datagram did
    not fit the buffer (Linux drops the rest, and reports no error).
    """

    ReceivedBytes: int
    SocketFlags: _SocketFlags
    RemoteEndPoint: EndPoint
    PacketInformation: IPPacketInformation
