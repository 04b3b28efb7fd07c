"""What .NET 11's typed DNS lookups return: ``DnsResult``, the record types, ``DnsResponseCode``,
``DnsResolverOptions``, and the two exceptions a lookup can end with besides ``SocketException``.

The records are values, as .NET's ``readonly struct`` records are: equal when every field is equal,
hashable, immutable.  A time to live is a ``datetime.timedelta`` (.NET's ``TimeSpan``); a list of
the API (``Records``, ``Values``, ``Addresses``) is a tuple (.NET's ``IReadOnlyList``).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any, ClassVar, Generic, Self, TypeVar

from ._names import dotnet_names
from .addresses import IPAddress, IPEndPoint
from .enums import DotNetEnum
from .exceptions import ArgumentException, ArgumentNullException

__all__ = [
    "DnsResponseCode",
    "DnsResult",
    "AddressRecord",
    "SrvRecord",
    "MxRecord",
    "TxtRecord",
    "CNameRecord",
    "PtrRecord",
    "NsRecord",
    "DnsResolverOptions",
]

_ZERO = datetime.timedelta(0)
T = TypeVar("T")


class DnsResponseCode(DotNetEnum):
    """The RCODE of a DNS answer (RFC 1035 section 4.1.1), as ``DnsResult.ResponseCode`` reports it.

    A code .NET gives no name to (``9``, NotAuth...) is still a ``DnsResponseCode`` and prints as
    its number, as a C# cast of the number would.
    """

    NoError = 0
    FormatError = 1
    ServerFailure = 2
    NxDomain = 3
    NotImplemented = 4
    Refused = 5

    @classmethod
    def _missing_(cls, value: object) -> Self | None:
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 0xFFFF:
            pseudo = int.__new__(cls, value)
            pseudo._name_ = str(value)
            pseudo._value_ = value
            return pseudo
        return None


class _Value:
    """Value semantics for the record types: equality, hash and ``repr`` over ``_fields``."""

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()

    def _key(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, _Value)
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._key()))

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__name__}({inner})"


def _ttl(value: datetime.timedelta | int) -> datetime.timedelta:
    return value if isinstance(value, datetime.timedelta) else datetime.timedelta(seconds=value)


@dotnet_names
class _Record(_Value):
    """What every record has: ``Ttl``."""

    __slots__ = ("_ttl",)
    _ttl: datetime.timedelta

    @property
    def Ttl(self) -> datetime.timedelta:
        """How long the record may be cached (``datetime.timedelta``, .NET's ``TimeSpan``)."""
        return self._ttl

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    ttl = Ttl
    # -- end of PEP 8 spellings --


@dotnet_names
class AddressRecord(_Record):
    """An A or AAAA record: ``Address`` (``IPAddress``) and ``Ttl`` (``timedelta``)."""

    __slots__ = ("_address",)
    _fields = ("Address", "Ttl")

    def __init__(self, address: IPAddress, ttl: datetime.timedelta | int = _ZERO) -> None:
        self._address = address
        self._ttl = _ttl(ttl)

    @property
    def Address(self) -> IPAddress:
        """The IPv4 or IPv6 address."""
        return self._address

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    address = Address
    # -- end of PEP 8 spellings --


@dotnet_names
class SrvRecord(_Record):
    """An SRV record: ``Target``, ``Port``, ``Priority``, ``Weight``, ``Ttl``, and ``Addresses``, the
    A/AAAA records of ``Target`` that the server sent along in the additional section (may be empty)."""

    __slots__ = ("_target", "_port", "_priority", "_weight", "_addresses")
    _fields = ("Target", "Port", "Priority", "Weight", "Ttl", "Addresses")

    def __init__(
        self,
        target: str,
        port: int,
        priority: int,
        weight: int,
        ttl: datetime.timedelta | int = _ZERO,
        addresses: Iterable[AddressRecord] = (),
    ) -> None:
        self._target = target
        self._port = port
        self._priority = priority
        self._weight = weight
        self._ttl = _ttl(ttl)
        self._addresses = tuple(addresses)

    @property
    def Target(self) -> str:
        """The host that offers the service."""
        return self._target

    @property
    def Port(self) -> int:
        """The port the service listens on."""
        return self._port

    @property
    def Priority(self) -> int:
        """Lower is tried first (RFC 2782)."""
        return self._priority

    @property
    def Weight(self) -> int:
        """The share among targets of the same priority."""
        return self._weight

    @property
    def Addresses(self) -> tuple[AddressRecord, ...]:
        """``Target``'s addresses from the additional section; empty when the server sent none."""
        return self._addresses

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    target = Target
    port = Port
    priority = Priority
    weight = Weight
    addresses = Addresses
    # -- end of PEP 8 spellings --


@dotnet_names
class MxRecord(_Record):
    """An MX record: ``Exchange`` (the mail host), ``Preference`` (lower first) and ``Ttl``."""

    __slots__ = ("_exchange", "_preference",)
    _fields = ("Exchange", "Preference", "Ttl")

    def __init__(self, exchange: str, preference: int, ttl: datetime.timedelta | int = _ZERO) -> None:
        self._exchange = exchange
        self._preference = preference
        self._ttl = _ttl(ttl)

    @property
    def Exchange(self) -> str:
        """The mail host."""
        return self._exchange

    @property
    def Preference(self) -> int:
        """Lower is preferred."""
        return self._preference

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    exchange = Exchange
    preference = Preference
    # -- end of PEP 8 spellings --


@dotnet_names
class TxtRecord(_Record):
    """A TXT record: ``Values`` (each character-string, decoded as UTF-8, invalid bytes replaced) and ``Ttl``."""

    __slots__ = ("_values",)
    _fields = ("Values", "Ttl")

    def __init__(self, values: Iterable[str], ttl: datetime.timedelta | int = _ZERO) -> None:
        self._values = tuple(values)
        self._ttl = _ttl(ttl)

    @property
    def Values(self) -> tuple[str, ...]:
        """The record's strings, in order."""
        return self._values

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    values = Values
    # -- end of PEP 8 spellings --


@dotnet_names
class CNameRecord(_Record):
    """A CNAME record: ``CanonicalName`` (the alias's target) and ``Ttl``."""

    __slots__ = ("_canonical_name",)
    _fields = ("CanonicalName", "Ttl")

    def __init__(self, canonical_name: str, ttl: datetime.timedelta | int = _ZERO) -> None:
        self._canonical_name = canonical_name
        self._ttl = _ttl(ttl)

    @property
    def CanonicalName(self) -> str:
        """The name the alias points to."""
        return self._canonical_name

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    canonical_name = CanonicalName
    # -- end of PEP 8 spellings --


@dotnet_names
class _NameRecord(_Record):
    """A record whose data is one name: ``Name`` and ``Ttl``."""

    __slots__ = ("_name",)
    _fields = ("Name", "Ttl")

    def __init__(self, name: str, ttl: datetime.timedelta | int = _ZERO) -> None:
        self._name = name
        self._ttl = _ttl(ttl)

    @property
    def Name(self) -> str:
        """The name the record holds."""
        return self._name

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    name = Name
    # -- end of PEP 8 spellings --


class PtrRecord(_NameRecord):
    """A PTR record (a reverse lookup's answer): ``Name``, the host, and ``Ttl``."""

    __slots__ = ()


class NsRecord(_NameRecord):
    """An NS record: ``Name``, an authoritative name server, and ``Ttl``."""

    __slots__ = ()


@dotnet_names
class DnsResult(_Value, Generic[T]):
    """One lookup's outcome: ``ResponseCode``, ``Records`` and ``NegativeCacheTtl``.

    A negative answer is a result, not an exception: NXDOMAIN gives ``ResponseCode`` ``NxDomain``,
    a name without records of the asked type ("NODATA") gives ``NoError`` and no ``Records``; for
    both, ``NegativeCacheTtl`` is how long that may be cached (the smaller of the SOA record's TTL
    and its MINIMUM field, RFC 2308 section 5), zero when the server sent no SOA.  ``ServerFailure``,
    ``Refused``... are results too, with no records.
    """

    __slots__ = ("_response_code", "_records", "_negative_cache_ttl")
    _fields = ("ResponseCode", "Records", "NegativeCacheTtl")

    def __init__(
        self,
        response_code: DnsResponseCode | int = DnsResponseCode.NoError,
        records: Iterable[T] = (),
        negative_cache_ttl: datetime.timedelta | int = _ZERO,
    ) -> None:
        self._response_code = DnsResponseCode(response_code)
        self._records = tuple(records)
        self._negative_cache_ttl = _ttl(negative_cache_ttl)

    @property
    def ResponseCode(self) -> DnsResponseCode:
        """The server's RCODE (``NoError``, ``NxDomain``, ``ServerFailure``...)."""
        return self._response_code

    @property
    def Records(self) -> tuple[T, ...]:
        """The answer's records of the asked type, in the server's order; empty for any negative answer."""
        return self._records

    @property
    def NegativeCacheTtl(self) -> datetime.timedelta:
        """For a negative answer, how long it may be cached (from the SOA); else zero."""
        return self._negative_cache_ttl

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    response_code = ResponseCode
    records = Records
    negative_cache_ttl = NegativeCacheTtl
    # -- end of PEP 8 spellings --


@dotnet_names
class DnsResolverOptions:
    """``DnsResolver``'s settings: ``Servers``, the DNS servers to ask, in order.

    Empty (the default) means the system's servers, the ``nameserver`` lines of
    ``/etc/resolv.conf`` (``127.0.0.1`` when it names none), as .NET on Linux does.  A server's port
    0 means 53.  Setting ``Servers`` to ``None`` raises ``ArgumentNullException`` (``value``).
    """

    __slots__ = ("_servers",)

    def __init__(self, servers: Iterable[IPEndPoint] | None = None) -> None:
        self._servers: list[IPEndPoint] = [] if servers is None else list(servers)

    @property
    def Servers(self) -> list[IPEndPoint]:
        """The servers to ask (a list the caller may change until a ``DnsResolver`` copies it)."""
        return self._servers

    @Servers.setter
    def Servers(self, value: list[IPEndPoint]) -> None:
        if value is None:
            raise ArgumentNullException("value")
        if isinstance(value, str | bytes) or not isinstance(value, Iterable):
            raise ArgumentException(f"Expected a list of IPEndPoint, not {type(value).__name__}.", "value")
        self._servers = value if isinstance(value, list) else list(value)

    def __repr__(self) -> str:
        return f"DnsResolverOptions(Servers={self._servers!r})"

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    servers = Servers
    # -- end of PEP 8 spellings --
