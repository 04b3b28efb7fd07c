"""What every .NET object has: ``Equals``, ``GetHashCode``, ``ToString``, tied to ``==``, ``hash()``, ``str()``."""

from __future__ import annotations

from typing import ClassVar

from ._names import dotnet_names

__all__ = ["DotNetObject", "hash_code"]


def hash_code(value: object) -> int:
    """``hash(value)`` folded into a signed 32-bit number, the range of .NET's ``GetHashCode()``."""
    h = hash(value)
    h = (h ^ (h >> 32)) & 0xFFFFFFFF
    return h - 0x1_0000_0000 if h & 0x8000_0000 else h


@dotnet_names
class DotNetObject:
    """Mixin: ``Equals(obj)`` is ``==`` (``False`` for another type or ``None``), ``GetHashCode()`` is
    ``hash()`` folded to 32 bits, ``ToString()`` .NET's full type name unless a class prints itself."""

    __slots__ = ()

    _dotnet_type: ClassVar[str] = "System.Object"

    def Equals(self, comparand: object) -> bool:
        """True when ``comparand`` is equal to this object (as ``==``); never raises."""
        return comparand is not None and bool(self == comparand)

    def GetHashCode(self) -> int:
        """A signed 32-bit hash; equal objects give equal numbers (as ``hash()``)."""
        return hash_code(self)

    def ToString(self) -> str:
        """.NET's ``Object.ToString()``: the full type name."""
        return self._dotnet_type

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    equals = Equals
    get_hash_code = GetHashCode
    to_string = ToString
    # -- end of PEP 8 spellings --
