"""Result types of operations that return more than one value."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

from ._names import dotnet_names
from .addresses import EndPoint, IPEndPoint
from .exceptions import ArgumentNullException

__all__ = ["SocketReceiveFromResult", "UdpReceiveResult"]


@dotnet_names
class SocketReceiveFromResult(NamedTuple):
    """What a receive-from returns: ``ReceivedBytes`` and ``RemoteEndPoint``.

    It unpacks like the tuple ``(bytes_received, remote_end_point)``, the
    Python shape of .NET's ``ref EndPoint`` out-value.
    """

    ReceivedBytes: int
    RemoteEndPoint: EndPoint


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
