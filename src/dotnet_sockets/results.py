"""Result types of operations that return more than one value."""

from __future__ import annotations

from ._names import dotnet_names
from .addresses import EndPoint

__all__ = ["SocketReceiveFromResult"]


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
