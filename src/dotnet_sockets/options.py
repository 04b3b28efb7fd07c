"""Option value types: ``LingerOption``, ``MulticastOption``, ``IPv6MulticastOption``."""

from __future__ import annotations

from ._names import dotnet_names
from ._object import DotNetObject
from .addresses import IPAddress
from .exceptions import ArgumentNullException, ArgumentOutOfRangeException

__all__ = ["LingerOption", "MulticastOption", "IPv6MulticastOption"]


@dotnet_names
class LingerOption(DotNetObject):
    """What ``Close`` does with unsent data: ``Enabled`` and ``LingerTime`` in seconds.

    Two options with the same values are equal (``==``, ``Equals``), as in .NET 8 and later.
    """

    __slots__ = ("_enabled", "_seconds")
    _dotnet_type = "System.Net.Sockets.LingerOption"

    def __init__(self, enable: bool, seconds: int) -> None:
        self._enabled = bool(enable)
        self._seconds = int(seconds)

    @property
    def Enabled(self) -> bool:
        return self._enabled

    @Enabled.setter
    def Enabled(self, value: bool) -> None:
        self._enabled = bool(value)

    @property
    def LingerTime(self) -> int:
        return self._seconds

    @LingerTime.setter
    def LingerTime(self, value: int) -> None:
        self._seconds = int(value)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, LingerOption)
            and other._enabled == self._enabled
            and other._seconds == self._seconds
        )

    def __hash__(self) -> int:
        return hash((self._enabled, self._seconds))

    def __repr__(self) -> str:
        return f"LingerOption(enable={self._enabled}, seconds={self._seconds})"

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    enabled = Enabled
    linger_time = LingerTime
    # -- end of PEP 8 spellings --


@dotnet_names
class MulticastOption(DotNetObject):
    """An IPv4 multicast group to join or leave: ``Group`` and ``LocalAddress`` or ``InterfaceIndex``.

    Compared by identity, as in .NET (``Equals`` is not overridden there).
    """

    _dotnet_type = "System.Net.Sockets.MulticastOption"

    __slots__ = ("_group", "_local", "_index")

    def __init__(self, group: IPAddress, local_address: IPAddress | int | None = None) -> None:
        if group is None:
            raise ArgumentNullException("group")
        self._group = group
        self._index = 0
        self._local: IPAddress = IPAddress.Any
        if isinstance(local_address, IPAddress):
            self._local = local_address
        elif local_address is not None:
            if not 0 <= int(local_address) <= 0xFFFFFF:
                raise ArgumentOutOfRangeException("interfaceIndex", local_address)
            self._index = int(local_address)

    @property
    def Group(self) -> IPAddress:
        return self._group

    @property
    def LocalAddress(self) -> IPAddress:
        return self._local

    @property
    def InterfaceIndex(self) -> int:
        return self._index

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    group = Group
    local_address = LocalAddress
    interface_index = InterfaceIndex
    # -- end of PEP 8 spellings --


@dotnet_names
class IPv6MulticastOption(DotNetObject):
    """An IPv6 multicast group to join or leave: ``Group`` and ``InterfaceIndex``; compared by identity, as in .NET."""

    __slots__ = ("_group", "_index")
    _dotnet_type = "System.Net.Sockets.IPv6MulticastOption"

    def __init__(self, group: IPAddress, ifindex: int = 0) -> None:
        if group is None:
            raise ArgumentNullException("group")
        if not 0 <= int(ifindex) <= 0xFFFFFFFF:
            raise ArgumentOutOfRangeException("ifindex", ifindex)
        self._group = group
        self._index = int(ifindex)

    @property
    def Group(self) -> IPAddress:
        return self._group

    @property
    def InterfaceIndex(self) -> int:
        return self._index

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    group = Group
    interface_index = InterfaceIndex
    # -- end of PEP 8 spellings --
