"""Result types of operations that return more than one value."""

from __future__ import annotations

from typing import NamedTuple

from ._names import dotnet_names
from .addresses import EndPoint

__all__ = ["SocketReceiveFromResult"]


@dotnet_names
class SocketReceiveFromResult(NamedTuple):
    """What a receive-from returns: ``ReceivedBytes`` and ``RemoteEndPoint``.

    It unpacks like the tuple ``(bytes_received, remote_end_point)``, the
    Python shape of .NET's ``ref EndPoint`` out-value.
    """

    ReceivedBytes: int
    RemoteEndPoint: EndPoint
