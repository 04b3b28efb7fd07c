"""Name resolution: ``Dns`` and ``IPHostEntry`` (.NET ``System.Net.Dns``).

Lookups go through a module-level resolver object (the ``socket`` module's
functions by default) so that tests can swap in a fake with
:func:`set_resolver`. An IP literal never reaches the resolver where .NET
answers it from the text alone (``GetHostAddresses``, ``GetHostByName``);
``GetHostEntry`` and ``Resolve`` given an IP literal do a reverse lookup
first, as .NET does.

``BeginGetHostEntry``/``EndGetHostEntry`` are built elsewhere on the async
engine from the two halves of ``GetHostEntry``: :func:`check_host_entry_argument`
(the checks .NET makes before it starts) and :func:`host_entry_core` (the
blocking work, whose errors ``End`` raises).
"""

from __future__ import annotations

import socket as _socket
import typing
from collections.abc import Sequence
from types import TracebackType
from typing import Protocol

from ._names import dotnet_names
from .addresses import IPAddress, _make_address
from .enums import AddressFamily
from .exceptions import (
    ArgumentException,
    ArgumentNullException,
    ArgumentOutOfRangeException,
    SocketException,
)

__all__ = ["Dns", "IPHostEntry", "Resolver", "set_resolver", "check_host_entry_argument", "host_entry_core"]

AddrInfo = tuple[int, int, int, str, tuple[typing.Any, ...]]

_MAX_HOST_NAME = 255
_INVALID_ADDRESS = (
    "IPv4 address 0.0.0.0 and IPv6 address ::0 are unspecified addresses "
    "that cannot be used as a target address."
)


class Resolver(Protocol):
    """What the resolver must provide; the signatures are the ``socket`` module's."""

    def getaddrinfo(
        self, host: str, port: int | None, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0
    ) -> Sequence[AddrInfo]: ...

    def getnameinfo(self, sockaddr: tuple[typing.Any, ...], flags: int) -> tuple[str, str]: ...

    def gethostname(self) -> str: ...


class _SystemResolver:
    """The operating system's resolver, through the ``socket`` module."""

    def getaddrinfo(
        self, host: str, port: int | None, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0
    ) -> Sequence[AddrInfo]:
        # .NET hands the name to getaddrinfo as UTF-8, without Python's IDNA step
        # (which rejects names that getaddrinfo would simply not find).
        try:
            raw = host.encode("utf-8")
        except UnicodeEncodeError:
            raw = b"\0"
        if b"\0" in raw:
            raise _socket.gaierror(_socket.EAI_NONAME, "Name or service not known")
        return _socket.getaddrinfo(raw, port, family, type, proto, flags)

    def getnameinfo(self, sockaddr: tuple[typing.Any, ...], flags: int) -> tuple[str, str]:
        return _socket.getnameinfo(sockaddr, flags)

    def gethostname(self) -> str:
        return _socket.gethostname()


_resolver: Resolver = _SystemResolver()


class set_resolver:
    """Use ``resolver`` for every lookup from now on; as a context manager, only inside the block.

    >>> with set_resolver(fake):          # doctest: +SKIP
    ...     Dns.GetHostAddresses("example.test")
    """

    __slots__ = ("_previous",)

    def __init__(self, resolver: Resolver | None) -> None:
        global _resolver
        self._previous = _resolver
        _resolver = _SystemResolver() if resolver is None else resolver

    def __enter__(self) -> Resolver:
        return _resolver

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        global _resolver
        _resolver = self._previous


@dotnet_names
class IPHostEntry:
    """The result of a lookup: ``HostName``, ``Aliases`` and ``AddressList``, all settable."""

    __slots__ = ("_host_name", "_aliases", "_address_list")

    def __init__(
        self,
        host_name: str = "",
        aliases: list[str] | None = None,
        address_list: list[IPAddress] | None = None,
    ) -> None:
        self._host_name = host_name
        self._aliases: list[str] = [] if aliases is None else aliases
        self._address_list: list[IPAddress] = [] if address_list is None else address_list

    @property
    def HostName(self) -> str:
        return self._host_name

    @HostName.setter
    def HostName(self, value: str) -> None:
        self._host_name = value

    @property
    def Aliases(self) -> list[str]:
        return self._aliases

    @Aliases.setter
    def Aliases(self, value: list[str]) -> None:
        self._aliases = value

    @property
    def AddressList(self) -> list[IPAddress]:
        return self._address_list

    @AddressList.setter
    def AddressList(self, value: list[IPAddress]) -> None:
        self._address_list = value

    def __repr__(self) -> str:
        return (
            f"IPHostEntry(host_name={self._host_name!r}, aliases={self._aliases!r}, "
            f"address_list={self._address_list!r})"
        )

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    host_name = HostName
    aliases = Aliases
    address_list = AddressList
    # -- end of PEP 8 spellings --


# --------------------------------------------------------------------------
# The lookups
# --------------------------------------------------------------------------


def _fail(exc: OSError) -> SocketException:
    if isinstance(exc, SocketException):
        return exc
    return SocketException._from_os_error(exc)


def _validate_host_name(name: str) -> None:
    if len(name) > _MAX_HOST_NAME or (len(name) == _MAX_HOST_NAME and name[-1] != "."):
        raise ArgumentOutOfRangeException(
            "hostName",
            None,
            f"The size of hostName is too long. It cannot be longer than {_MAX_HOST_NAME} characters.",
        )


def _forward(name: str) -> tuple[str, list[IPAddress]]:
    """Canonical name and addresses (in the resolver's order, no duplicates)."""
    if name == "":
        # As on Windows, and as .NET does everywhere: "" is the local host.
        name = _resolver.gethostname()
    try:
        infos = _resolver.getaddrinfo(name, None, 0, 0, 0, _socket.AI_CANONNAME)
    except OSError as exc:
        raise _fail(exc) from None
    canonical = ""
    seen: set[tuple[bytes, int]] = set()
    addresses: list[IPAddress] = []
    for family, _type, _proto, canonname, sockaddr in infos:
        if canonname and not canonical:
            canonical = canonname
        if family == _socket.AF_INET:
            key = (_socket.inet_pton(_socket.AF_INET, sockaddr[0]), 0)
        elif family == _socket.AF_INET6:
            host = sockaddr[0].partition("%")[0]
            key = (_socket.inet_pton(_socket.AF_INET6, host), sockaddr[3])
        else:
            continue
        # getaddrinfo gives one entry per socket type; callers want each address once.
        if key not in seen:
            seen.add(key)
            addresses.append(_make_address(key[0], key[1], None))
    return canonical or name, addresses


def _reverse(address: IPAddress) -> str:
    sockaddr: tuple[typing.Any, ...]
    if address.AddressFamily == AddressFamily.InterNetwork:
        sockaddr = (address._sockaddr_host(), 0)
    else:
        sockaddr = (address._sockaddr_host(), 0, 0, address.ScopeId)
    try:
        return _resolver.getnameinfo(sockaddr, _socket.NI_NAMEREQD)[0]
    except OSError as exc:
        raise _fail(exc) from None


def _entry_for_address(address: IPAddress) -> IPHostEntry:
    """Reverse lookup for the name, then forward lookup of that name for the addresses."""
    name = _reverse(address)
    try:
        host_name, addresses = _forward(name)
    except SocketException:
        # A PTR record without a matching A/AAAA record: .NET returns the
        # name it found and no addresses.
        return IPHostEntry(name, [], [])
    return IPHostEntry(host_name, [], addresses)


def _entry_for_name(name: str) -> IPHostEntry:
    _validate_host_name(name)
    host_name, addresses = _forward(name)
    return IPHostEntry(host_name, [], addresses)


def _literal_entry(address: IPAddress) -> IPHostEntry:
    return IPHostEntry(address.ToString(), [], [address])


def _require_str(value: object, param: str) -> str:
    if value is None:
        raise ArgumentNullException(param)
    if not isinstance(value, str):
        raise ArgumentException(f"Expected a str, not {type(value).__name__}.", param)
    return value


def _is_unspecified(address: IPAddress) -> bool:
    return address == IPAddress.Any or address == IPAddress.IPv6Any


def check_host_entry_argument(host_name_or_address: str | IPAddress) -> str | IPAddress:
    """``GetHostEntry``'s checks, made before any lookup starts.

    Returns what :func:`host_entry_core` takes: an ``IPAddress`` for an
    address or an IP literal, else the host name.
    """
    if isinstance(host_name_or_address, IPAddress):
        if _is_unspecified(host_name_or_address):
            raise ArgumentException(_INVALID_ADDRESS, "address")
        return host_name_or_address
    name = _require_str(host_name_or_address, "hostNameOrAddress")
    _, address = IPAddress.TryParse(name)
    if address is not None:
        if _is_unspecified(address):
            raise ArgumentException(_INVALID_ADDRESS, "hostNameOrAddress")
        return address
    return name


def host_entry_core(target: str | IPAddress) -> IPHostEntry:
    """The blocking part of ``GetHostEntry`` (for a value from :func:`check_host_entry_argument`)."""
    if isinstance(target, IPAddress):
        return _entry_for_address(target)
    return _entry_for_name(target)


@dotnet_names
class Dns:
    """Static methods that resolve host names and addresses.

    Failures raise ``SocketException`` (``HostNotFound``, ``TryAgain``,
    ``NoRecovery``...). ``""`` means the local host.
    """

    __slots__ = ()

    def __new__(cls) -> Dns:
        raise TypeError("Dns is a static class; call its methods on the class.")

    @staticmethod
    def GetHostName() -> str:
        """The local machine's host name."""
        try:
            return _resolver.gethostname()
        except OSError as exc:
            raise _fail(exc) from None

    @staticmethod
    def GetHostEntry(host_name_or_address: str | IPAddress) -> IPHostEntry:
        """Resolve a host name, or reverse-resolve an address (``IPAddress`` or IP literal).

        An address is looked up in reverse for its name, and that name forward
        for the address list. ``IPAddress.Any``/``IPv6Any`` raise ``ArgumentException``.
        """
        return host_entry_core(check_host_entry_argument(host_name_or_address))

    @staticmethod
    def GetHostAddresses(host_name_or_address: str) -> list[IPAddress]:
        """The addresses of a host; an IP literal is returned as is, without a lookup."""
        name = _require_str(host_name_or_address, "hostNameOrAddress")
        _, address = IPAddress.TryParse(name)
        if address is not None:
            if _is_unspecified(address):
                raise ArgumentException(_INVALID_ADDRESS, "hostNameOrAddress")
            return [address]
        _validate_host_name(name)
        return _forward(name)[1]

    @staticmethod
    def GetHostByName(host_name: str) -> IPHostEntry:
        """Obsolete in .NET (use ``GetHostEntry``): an IP literal is returned without a lookup."""
        name = _require_str(host_name, "hostName")
        _, address = IPAddress.TryParse(name)
        if address is not None:
            return _literal_entry(address)
        return _entry_for_name(name)

    @staticmethod
    def Resolve(host_name: str) -> IPHostEntry:
        """Obsolete in .NET (use ``GetHostEntry``), kept for ported code.

        An IP literal is reverse-resolved; if that fails the entry holds just
        the literal. ``""`` resolves the local host.
        """
        name = _require_str(host_name, "hostName")
        _, address = IPAddress.TryParse(name)
        if address is not None and (address.AddressFamily == AddressFamily.InterNetwork or _socket.has_ipv6):
            try:
                return _entry_for_address(address)
            except SocketException:
                return _literal_entry(address)
        return _entry_for_name(name)

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    get_host_name = GetHostName
    get_host_entry = GetHostEntry
    get_host_addresses = GetHostAddresses
    get_host_by_name = GetHostByName
    resolve = Resolve
    # -- end of PEP 8 spellings --
