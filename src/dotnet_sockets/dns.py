"""Name resolution: ``Dns`` and ``IPHostEntry`` (.NET ``System.Net.Dns``).

Lookups go through a module-level resolver object (the ``socket`` module's
functions by default) so that tests can swap in a fake with
:func:`set_resolver`. An IP literal never reaches the resolver where .NET
answers it from the text alone (``GetHostAddresses``, ``GetHostByName``);
``GetHostEntry`` and ``Resolve`` given an IP literal do a reverse lookup
first, as .NET does.

The asynchronous forms (``Begin…``/``End…`` and the awaitable ``…Async``) make
.NET's checks in the call, answer an IP literal at once where .NET does, and run
any real lookup on the small pool of ``_lookups`` (never on the caller's thread,
never a thread per call).  ``Begin…`` callbacks run on the completion threads, as
for sockets.  A cancelled token ends an awaitable with ``TaskCanceledException``,
as .NET's tasks do; a lookup already running cannot be stopped, its result is
dropped.
"""

from __future__ import annotations

import socket as _socket
import typing
from collections.abc import Callable, Coroutine, Sequence
from types import TracebackType
from typing import Any, Protocol, overload

from . import _lookups
from ._names import dotnet_names
from .addresses import IPAddress, _make_address
from .asyncresult import AsyncCallback, AsyncOperation, IAsyncResult
from .cancellation import CancellationToken, await_task_cancellable
from .dnsrecords import AddressRecord, CNameRecord, DnsResult, MxRecord, NsRecord, PtrRecord, SrvRecord, TxtRecord
from .dnsresolver import DnsResolver
from .enums import AddressFamily, SocketError
from .exceptions import (
    ArgumentException,
    ArgumentNullException,
    ArgumentOutOfRangeException,
    InvalidOperationException,
    SocketException,
    TaskCanceledException,
)

__all__ = ["Dns", "IPHostEntry", "Resolver", "set_resolver", "check_host_entry_argument", "host_entry_core"]

AddrInfo = tuple[int, int, int, str, tuple[typing.Any, ...]]

_MAX_HOST_NAME = 255
_INVALID_ADDRESS = (
    "IPv4 address 0.0.0.0 and IPv6 address ::0 are unspecified addresses that cannot be used as a target address."
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


_PLATFORM_FAMILY: typing.Final[dict[int, int]] = {
    AddressFamily.Unspecified: 0,
    AddressFamily.InterNetwork: int(_socket.AF_INET),
    AddressFamily.InterNetworkV6: int(_socket.AF_INET6),
}


def _platform_family(family: int) -> int:
    native = _PLATFORM_FAMILY.get(family)
    if native is None:
        # What getaddrinfo answers for a family it cannot look up (EAI_FAMILY), as in .NET.
        raise SocketException(SocketError.AddressFamilyNotSupported)
    return native


def _check_family(family: object) -> AddressFamily:
    if isinstance(family, bool) or not isinstance(family, int):
        raise ArgumentException(f"Expected an AddressFamily, not {type(family).__name__}.", "family")
    try:
        return AddressFamily(family)
    except ValueError:
        raise ArgumentException(f"{family} is not an AddressFamily.", "family") from None


def _forward(name: str, family: int = AddressFamily.Unspecified) -> tuple[str, list[IPAddress]]:
    """Canonical name and addresses (in the resolver's order, no duplicates)."""
    if name == "":
        # As on Windows, and as .NET does everywhere: "" is the local host.
        name = _resolver.gethostname()
    # RFC 6761, as current .NET applies it: "invalid" names never resolve (no lookup is made), and
    # a "localhost" subdomain the system does not know is "localhost".
    label = (name[:-1] if name.endswith(".") else name).lower()
    if label == "invalid" or label.endswith(".invalid"):
        raise SocketException(SocketError.HostNotFound)
    localhost_subdomain = label.endswith(".localhost")
    native = _platform_family(family)
    try:
        infos = _resolver.getaddrinfo(name, None, native, 0, 0, _socket.AI_CANONNAME)
    except OSError as exc:
        if localhost_subdomain:
            return _forward("localhost", family)
        raise _fail(exc) from None
    canonical, addresses = _unique_addresses(infos)
    if not addresses and localhost_subdomain:
        return _forward("localhost", family)
    return canonical or name, addresses


def _unique_addresses(infos: Sequence[AddrInfo]) -> tuple[str, list[IPAddress]]:
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
    return canonical, addresses


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


def _entry_for_address(address: IPAddress, family: int = AddressFamily.Unspecified) -> IPHostEntry:
    """Reverse lookup for the name, then forward lookup of that name for the addresses."""
    name = _reverse(address)
    try:
        host_name, addresses = _forward(name, family)
    except SocketException:
        # A PTR record without a matching A/AAAA record: .NET returns the
        # name it found and no addresses.
        return IPHostEntry(name, [], [])
    return IPHostEntry(host_name, [], addresses)


def _entry_for_name(name: str, family: int = AddressFamily.Unspecified) -> IPHostEntry:
    _validate_host_name(name)
    host_name, addresses = _forward(name, family)
    return IPHostEntry(host_name, [], addresses)


def _addresses_for_name(name: str, family: int) -> list[IPAddress]:
    _validate_host_name(name)
    return _forward(name, family)[1]


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


def host_entry_core(target: str | IPAddress, family: int = AddressFamily.Unspecified) -> IPHostEntry:
    """The blocking part of ``GetHostEntry`` (for a value from :func:`check_host_entry_argument`)."""
    if isinstance(target, IPAddress):
        return _entry_for_address(target, family)
    return _entry_for_name(target, family)


def _addresses_of(address: IPAddress, family: int) -> list[IPAddress]:
    return [address] if family == AddressFamily.Unspecified or address.AddressFamily == family else []


# --------------------------------------------------------------------------
# The asynchronous forms
# --------------------------------------------------------------------------


class _NoQueue:
    """Stands in for a socket's queue: a lookup's callback never runs inline."""

    __slots__ = ()
    inline = False


_NO_QUEUE: Any = _NoQueue()
_ENTRY = "entry"
_ADDRESSES = "addresses"


class _DnsResult(AsyncOperation):
    """The ``IAsyncResult`` of a ``Dns.Begin…``: ``kind`` says which ``End…`` may take it."""

    __slots__ = ("kind", "literal")

    def __init__(self, kind: str, callback: AsyncCallback | None, state: Any) -> None:
        super().__init__(_NO_QUEUE, callback, state)
        self.kind = kind
        self.literal: IPAddress | None = None

    def _finish(self, result: Any, error: BaseException | None) -> None:
        self._value = result
        self._error = error
        self._complete(False)


def _begin(
    kind: str, work: Callable[[], Any] | None, ready: Any, callback: AsyncCallback | None, state: Any
) -> _DnsResult:
    """Start ``work`` on the lookup pool, or complete at once with ``ready`` when ``work`` is None."""
    op = _DnsResult(kind, callback, state)
    if work is None:
        op._value = ready
        op._complete(True)
    else:
        _lookups.submit(work, op._finish)
    return op


def _end(async_result: IAsyncResult, kinds: tuple[str, ...], method: str) -> Any:
    if async_result is None:
        raise ArgumentNullException("asyncResult")
    if not isinstance(async_result, _DnsResult) or async_result.kind not in kinds:
        raise ArgumentException(
            "The IAsyncResult object was not returned from the corresponding asynchronous method.", "asyncResult"
        )
    op = async_result
    if op._ended:
        raise InvalidOperationException(f"{method} can only be called once for each asynchronous operation.")
    op._ended = True
    op._wait(-1)
    if op._error is not None:
        raise op._error
    return op._value


def _split_family(family: Any, cancellation_token: Any) -> tuple[AddressFamily, CancellationToken | None]:
    """The ``(family[, token])`` and ``(token)`` overloads of the awaitable forms."""
    if isinstance(family, CancellationToken):
        if cancellation_token is not None:
            raise TypeError("the family comes before the cancellation_token")
        return AddressFamily.Unspecified, family
    if cancellation_token is not None and not isinstance(cancellation_token, CancellationToken):
        raise TypeError("cancellation_token must be a CancellationToken")
    return _check_family(family), cancellation_token


async def _ready(value: Any) -> Any:
    return value


async def _canceled(token: CancellationToken) -> Any:
    raise TaskCanceledException(None, token)


async def _run_async(work: Callable[[], Any], token: CancellationToken | None) -> Any:
    """Run ``work`` on the lookup pool and await its result on this loop."""
    return await await_task_cancellable(_lookups.run(work), token)


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

    @overload
    @staticmethod
    def GetHostEntry(host_name_or_address: str, family: AddressFamily = ...) -> IPHostEntry: ...
    @overload
    @staticmethod
    def GetHostEntry(host_name_or_address: IPAddress) -> IPHostEntry: ...

    @staticmethod
    def GetHostEntry(host_name_or_address: str | IPAddress, family: int = AddressFamily.Unspecified) -> IPHostEntry:
        """Resolve a host name, or reverse-resolve an address (``IPAddress`` or IP literal).

        An address is looked up in reverse for its name, and that name forward
        for the address list; ``family`` keeps only that family's addresses.
        Raises ``ArgumentNullException`` (``hostNameOrAddress``/``address``),
        ``ArgumentException`` for ``IPAddress.Any``/``IPv6Any``,
        ``ArgumentOutOfRangeException`` (``hostName``) for a name over 255
        characters, ``SocketException`` (``HostNotFound``...) when the lookup fails.
        """
        family = _check_family(family)
        return host_entry_core(check_host_entry_argument(host_name_or_address), family)

    @staticmethod
    def GetHostAddresses(host_name_or_address: str, family: int = AddressFamily.Unspecified) -> list[IPAddress]:
        """The addresses of a host (of ``family`` only, when given); an IP literal is returned as is,
        without a lookup (an empty list if it is not of ``family``).

        Raises ``ArgumentNullException`` (``hostNameOrAddress``), ``ArgumentException`` for
        ``0.0.0.0``/``::``, ``ArgumentOutOfRangeException`` (``hostName``) for a name over 255
        characters, ``SocketException`` (``HostNotFound``...) when the lookup fails.
        """
        name = _require_str(host_name_or_address, "hostNameOrAddress")
        family = _check_family(family)
        _, address = IPAddress.TryParse(name)
        if address is not None:
            if _is_unspecified(address):
                raise ArgumentException(_INVALID_ADDRESS, "hostNameOrAddress")
            return _addresses_of(address, family)
        return _addresses_for_name(name, family)

    # -- awaitable forms ------------------------------------------------------

    @overload
    @staticmethod
    def GetHostAddressesAsync(
        host_name_or_address: str, family: AddressFamily = ..., cancellation_token: CancellationToken | None = None
    ) -> Coroutine[Any, Any, list[IPAddress]]: ...
    @overload
    @staticmethod
    def GetHostAddressesAsync(
        host_name_or_address: str, cancellation_token: CancellationToken, /
    ) -> Coroutine[Any, Any, list[IPAddress]]: ...

    @staticmethod
    def GetHostAddressesAsync(
        host_name_or_address: str, family: Any = AddressFamily.Unspecified, cancellation_token: Any = None
    ) -> Coroutine[Any, Any, list[IPAddress]]:
        """``await GetHostAddressesAsync(host[, family][, cancellation_token])``: ``GetHostAddresses``
        off the loop's thread; an IP literal is answered without a lookup.

        The call raises ``ArgumentNullException`` (``hostName``) and ``ArgumentException`` for
        ``0.0.0.0``/``::``; the awaitable raises what the lookup raises (``SocketException``,
        ``ArgumentOutOfRangeException`` for a name over 255 characters) and
        ``TaskCanceledException`` when the token is or becomes cancelled.
        """
        name = _require_async_name(host_name_or_address)
        fam, token = _split_family(family, cancellation_token)
        if token is not None and token.IsCancellationRequested:
            return _canceled(token)
        address = _parse_target(name)
        if address is not None:
            return _ready(_addresses_of(address, fam))
        return _run_async(lambda: _addresses_for_name(name, fam), token)

    @overload
    @staticmethod
    def GetHostEntryAsync(
        host_name_or_address: str, family: AddressFamily = ..., cancellation_token: CancellationToken | None = None
    ) -> Coroutine[Any, Any, IPHostEntry]: ...
    @overload
    @staticmethod
    def GetHostEntryAsync(
        host_name_or_address: str, cancellation_token: CancellationToken, /
    ) -> Coroutine[Any, Any, IPHostEntry]: ...
    @overload
    @staticmethod
    def GetHostEntryAsync(host_name_or_address: IPAddress) -> Coroutine[Any, Any, IPHostEntry]: ...

    @staticmethod
    def GetHostEntryAsync(
        host_name_or_address: str | IPAddress, family: Any = AddressFamily.Unspecified, cancellation_token: Any = None
    ) -> Coroutine[Any, Any, IPHostEntry]:
        """``await GetHostEntryAsync(host_or_address[, family][, cancellation_token])``: ``GetHostEntry``
        off the loop's thread (an address or IP literal is looked up in reverse, as the synchronous form).

        The call raises ``ArgumentNullException`` (``hostName``, or ``address`` for the
        ``IPAddress`` form) and ``ArgumentException`` for ``IPAddress.Any``/``IPv6Any``; the
        awaitable raises what the lookup raises and ``TaskCanceledException`` when the token is or
        becomes cancelled.
        """
        fam, token = _split_family(family, cancellation_token)
        if isinstance(host_name_or_address, IPAddress):
            address: IPAddress | None = _check_address_argument(host_name_or_address)
        else:
            name = _require_async_name(host_name_or_address)
            if token is not None and token.IsCancellationRequested:
                return _canceled(token)
            address = _parse_target(name)
        if token is not None and token.IsCancellationRequested:
            return _canceled(token)
        if address is not None:
            target = address
            return _run_async(lambda: _entry_for_address(target, fam), token)
        return _run_async(lambda: _entry_for_name(name, fam), token)

    # -- Begin/End ------------------------------------------------------------------

    @staticmethod
    def BeginGetHostAddresses(
        host_name_or_address: str, request_callback: AsyncCallback | None, state: Any
    ) -> IAsyncResult:
        """Start ``GetHostAddresses`` off the caller's thread; ``EndGetHostAddresses`` gives the list.

        An IP literal completes inside the call (``CompletedSynchronously``; the callback still runs
        on a completion thread).  Raises ``ArgumentNullException`` (``hostName``) and
        ``ArgumentException`` for ``0.0.0.0``/``::`` from the call; lookup errors from ``End…``.
        """
        name = _require_async_name(host_name_or_address)
        address = _parse_target(name)
        if address is not None:
            return _begin(_ADDRESSES, None, [address], request_callback, state)
        return _begin(
            _ADDRESSES, lambda: _addresses_for_name(name, AddressFamily.Unspecified), None, request_callback, state
        )

    @staticmethod
    def EndGetHostAddresses(async_result: IAsyncResult) -> list[IPAddress]:
        """Wait for ``BeginGetHostAddresses`` and return the addresses, or raise what the lookup raised.

        Raises ``ArgumentNullException``/``ArgumentException`` (``asyncResult``) for a missing or
        foreign result, ``InvalidOperationException`` when called twice.
        """
        return _end(async_result, (_ADDRESSES,), "EndGetHostAddresses")  # type: ignore[no-any-return]

    @overload
    @staticmethod
    def BeginGetHostEntry(
        host_name_or_address: str, request_callback: AsyncCallback | None, state_object: Any
    ) -> IAsyncResult: ...
    @overload
    @staticmethod
    def BeginGetHostEntry(
        host_name_or_address: IPAddress, request_callback: AsyncCallback | None, state_object: Any
    ) -> IAsyncResult: ...

    @staticmethod
    def BeginGetHostEntry(
        host_name_or_address: str | IPAddress, request_callback: AsyncCallback | None, state_object: Any
    ) -> IAsyncResult:
        """Start ``GetHostEntry`` off the caller's thread; ``EndGetHostEntry`` gives the ``IPHostEntry``.

        Raises ``ArgumentNullException`` (``hostName``/``address``) and ``ArgumentException``
        (``IPAddress.Any``/``IPv6Any``) from the call; lookup errors from ``EndGetHostEntry``.
        """
        if isinstance(host_name_or_address, IPAddress):
            target: str | IPAddress = _check_address_argument(host_name_or_address)
        else:
            name = _require_async_name(host_name_or_address)
            target = _parse_target(name) or name
        return _begin(_ENTRY, lambda: host_entry_core(target), None, request_callback, state_object)

    @staticmethod
    def EndGetHostEntry(async_result: IAsyncResult) -> IPHostEntry:
        """Wait for ``BeginGetHostEntry`` (or the obsolete ``BeginGetHostByName``/``BeginResolve``) and
        return the entry, or raise what the lookup raised; ``InvalidOperationException`` when called twice."""
        return _end(async_result, (_ENTRY,), "EndGetHostEntry")  # type: ignore[no-any-return]

    # -- obsolete in .NET, kept for ported code ------------------------------------

    @staticmethod
    def GetHostByName(host_name: str) -> IPHostEntry:
        """Obsolete in .NET (use ``GetHostEntry``): an IP literal is returned without a lookup."""
        name = _require_str(host_name, "hostName")
        _, address = IPAddress.TryParse(name)
        if address is not None:
            return _literal_entry(address)
        return _entry_for_name(name)

    @staticmethod
    def BeginGetHostByName(host_name: str, request_callback: AsyncCallback | None, state_object: Any) -> IAsyncResult:
        """Obsolete in .NET (use ``BeginGetHostEntry``): ``GetHostByName`` off the caller's thread."""
        name = _require_async_name(host_name)
        address = _parse_target(name)
        if address is not None:
            return _begin(_ENTRY, None, _literal_entry(address), request_callback, state_object)
        return _begin(_ENTRY, lambda: _entry_for_name(name), None, request_callback, state_object)

    @staticmethod
    def EndGetHostByName(async_result: IAsyncResult) -> IPHostEntry:
        """Obsolete in .NET (use ``EndGetHostEntry``)."""
        return _end(async_result, (_ENTRY,), "EndGetHostByName")  # type: ignore[no-any-return]

    @overload
    @staticmethod
    def GetHostByAddress(address: str) -> IPHostEntry: ...
    @overload
    @staticmethod
    def GetHostByAddress(address: IPAddress) -> IPHostEntry: ...

    @staticmethod
    def GetHostByAddress(address: str | IPAddress) -> IPHostEntry:
        """Obsolete in .NET (use ``GetHostEntry``): reverse lookup of an address.

        Raises ``ArgumentNullException`` (``address``), ``FormatException`` for text that is not an
        address, ``SocketException`` when the lookup fails.
        """
        if address is None:
            raise ArgumentNullException("address")
        if not isinstance(address, IPAddress):
            address = IPAddress.Parse(_require_str(address, "address"))
        return _entry_for_address(address)

    @staticmethod
    def Resolve(host_name: str) -> IPHostEntry:
        """Obsolete in .NET (use ``GetHostEntry``), kept for ported code.

        An IP literal is reverse-resolved; if that fails the entry holds just
        the literal. ``""`` resolves the local host.
        """
        name = _require_str(host_name, "hostName")
        return _resolve_core(name)

    @staticmethod
    def BeginResolve(host_name: str, request_callback: AsyncCallback | None, state_object: Any) -> IAsyncResult:
        """Obsolete in .NET (use ``BeginGetHostEntry``): ``Resolve`` off the caller's thread."""
        name = _require_async_name(host_name)
        return _begin(_ENTRY, lambda: _resolve_core(name), None, request_callback, state_object)

    @staticmethod
    def EndResolve(async_result: IAsyncResult) -> IPHostEntry:
        """Obsolete in .NET (use ``EndGetHostEntry``)."""
        return _end(async_result, (_ENTRY,), "EndResolve")  # type: ignore[no-any-return]

    # -- .NET 11's typed record lookups, with the system's DNS servers ------------

    @staticmethod
    def ResolveAddresses(
        name: str, address_family: AddressFamily = AddressFamily.Unspecified
    ) -> DnsResult[AddressRecord]:
        """``DnsResolver.ResolveAddresses`` with the system's servers: A, AAAA or both records of ``name``.

        Raises ``ArgumentNullException``/``ArgumentException`` (``name``), ``ArgumentException``
        (``addressFamily``), ``TimeoutException``, ``SocketException``, ``InvalidDataException``;
        negative answers are results (see ``DnsResolver``).
        """
        return _system_resolver().ResolveAddresses(name, address_family)

    @overload
    @staticmethod
    def ResolveAddressesAsync(
        name: str, address_family: AddressFamily = ..., cancellation_token: CancellationToken | None = None
    ) -> Coroutine[Any, Any, DnsResult[AddressRecord]]: ...
    @overload
    @staticmethod
    def ResolveAddressesAsync(
        name: str, cancellation_token: CancellationToken, /
    ) -> Coroutine[Any, Any, DnsResult[AddressRecord]]: ...

    @staticmethod
    def ResolveAddressesAsync(
        name: str, address_family: Any = AddressFamily.Unspecified, cancellation_token: Any = None
    ) -> Coroutine[Any, Any, DnsResult[AddressRecord]]:
        """``await Dns.ResolveAddressesAsync(name[, address_family][, cancellation_token])``: the awaitable
        ``ResolveAddresses``.  The call raises ``ArgumentNullException``/``ArgumentException`` (``name``);
        the awaitable raises what ``ResolveAddresses`` raises and ``TaskCanceledException``."""
        return _system_resolver().ResolveAddressesAsync(name, address_family, cancellation_token)

    @staticmethod
    def ResolveSrv(name: str) -> DnsResult[SrvRecord]:
        """``DnsResolver.ResolveSrv`` with the system's servers.  Raises as ``DnsResolver`` says."""
        return _system_resolver().ResolveSrv(name)

    @staticmethod
    def ResolveSrvAsync(
        name: str, cancellation_token: CancellationToken | None = None
    ) -> Coroutine[Any, Any, DnsResult[SrvRecord]]:
        """The awaitable ``ResolveSrv``.  Raises as ``DnsResolver`` says."""
        return _system_resolver().ResolveSrvAsync(name, cancellation_token)

    @staticmethod
    def ResolveMx(name: str) -> DnsResult[MxRecord]:
        """``DnsResolver.ResolveMx`` with the system's servers.  Raises as ``DnsResolver`` says."""
        return _system_resolver().ResolveMx(name)

    @staticmethod
    def ResolveMxAsync(
        name: str, cancellation_token: CancellationToken | None = None
    ) -> Coroutine[Any, Any, DnsResult[MxRecord]]:
        """The awaitable ``ResolveMx``.  Raises as ``DnsResolver`` says."""
        return _system_resolver().ResolveMxAsync(name, cancellation_token)

    @staticmethod
    def ResolveTxt(name: str) -> DnsResult[TxtRecord]:
        """``DnsResolver.ResolveTxt`` with the system's servers.  Raises as ``DnsResolver`` says."""
        return _system_resolver().ResolveTxt(name)

    @staticmethod
    def ResolveTxtAsync(
        name: str, cancellation_token: CancellationToken | None = None
    ) -> Coroutine[Any, Any, DnsResult[TxtRecord]]:
        """The awaitable ``ResolveTxt``.  Raises as ``DnsResolver`` says."""
        return _system_resolver().ResolveTxtAsync(name, cancellation_token)

    @staticmethod
    def ResolveCName(name: str) -> DnsResult[CNameRecord]:
        """``DnsResolver.ResolveCName`` with the system's servers.  Raises as ``DnsResolver`` says."""
        return _system_resolver().ResolveCName(name)

    @staticmethod
    def ResolveCNameAsync(
        name: str, cancellation_token: CancellationToken | None = None
    ) -> Coroutine[Any, Any, DnsResult[CNameRecord]]:
        """The awaitable ``ResolveCName``.  Raises as ``DnsResolver`` says."""
        return _system_resolver().ResolveCNameAsync(name, cancellation_token)

    @staticmethod
    def ResolvePtr(name: str | IPAddress) -> DnsResult[PtrRecord]:
        """``DnsResolver.ResolvePtr`` (a name, or an ``IPAddress`` looked up in reverse) with the system's
        servers.  Raises ``ArgumentNullException`` (``name``) and the rest as ``DnsResolver`` says."""
        return _system_resolver().ResolvePtr(name)

    @staticmethod
    def ResolvePtrAsync(
        name: str | IPAddress, cancellation_token: CancellationToken | None = None
    ) -> Coroutine[Any, Any, DnsResult[PtrRecord]]:
        """The awaitable ``ResolvePtr``.  Raises ``ArgumentNullException`` (``name``) from the call and
        the rest as ``DnsResolver`` says (``TaskCanceledException`` from the awaitable)."""
        return _system_resolver().ResolvePtrAsync(name, cancellation_token)

    @staticmethod
    def ResolveNs(name: str) -> DnsResult[NsRecord]:
        """``DnsResolver.ResolveNs`` with the system's servers.  Raises as ``DnsResolver`` says."""
        return _system_resolver().ResolveNs(name)

    @staticmethod
    def ResolveNsAsync(
        name: str, cancellation_token: CancellationToken | None = None
    ) -> Coroutine[Any, Any, DnsResult[NsRecord]]:
        """The awaitable ``ResolveNs``.  Raises as ``DnsResolver`` says."""
        return _system_resolver().ResolveNsAsync(name, cancellation_token)

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    get_host_name = GetHostName
    get_host_entry = GetHostEntry
    get_host_addresses = GetHostAddresses
    get_host_addresses_async = GetHostAddressesAsync
    get_host_entry_async = GetHostEntryAsync
    begin_get_host_addresses = BeginGetHostAddresses
    end_get_host_addresses = EndGetHostAddresses
    begin_get_host_entry = BeginGetHostEntry
    end_get_host_entry = EndGetHostEntry
    get_host_by_name = GetHostByName
    begin_get_host_by_name = BeginGetHostByName
    end_get_host_by_name = EndGetHostByName
    get_host_by_address = GetHostByAddress
    resolve = Resolve
    begin_resolve = BeginResolve
    end_resolve = EndResolve
    resolve_addresses = ResolveAddresses
    resolve_addresses_async = ResolveAddressesAsync
    resolve_srv = ResolveSrv
    resolve_srv_async = ResolveSrvAsync
    resolve_mx = ResolveMx
    resolve_mx_async = ResolveMxAsync
    resolve_txt = ResolveTxt
    resolve_txt_async = ResolveTxtAsync
    resolve_c_name = ResolveCName
    resolve_c_name_async = ResolveCNameAsync
    resolve_ptr = ResolvePtr
    resolve_ptr_async = ResolvePtrAsync
    resolve_ns = ResolveNs
    resolve_ns_async = ResolveNsAsync
    # -- end of PEP 8 spellings --


_SYSTEM_RESOLVER: list[DnsResolver] = []


def _system_resolver() -> DnsResolver:
    """The one resolver of the static ``Dns.Resolve…`` methods: no servers of its own, so each query
    reads the system's (``_dnsquery.RESOLV_CONF``) afresh."""
    if not _SYSTEM_RESOLVER:
        _SYSTEM_RESOLVER.append(DnsResolver())
    return _SYSTEM_RESOLVER[0]


def _resolve_core(name: str) -> IPHostEntry:
    _, address = IPAddress.TryParse(name)
    if address is not None and (address.AddressFamily == AddressFamily.InterNetwork or _socket.has_ipv6):
        try:
            return _entry_for_address(address)
        except SocketException:
            return _literal_entry(address)
    return _entry_for_name(name)


def _require_async_name(value: object) -> str:
    # The asynchronous forms check their argument under .NET's inner name, hostName.
    return _require_str(value, "hostName")


def _parse_target(name: str) -> IPAddress | None:
    """An IP literal (refusing the unspecified addresses, as .NET's asynchronous forms do), else None."""
    _, address = IPAddress.TryParse(name)
    if address is not None and _is_unspecified(address):
        raise ArgumentException(_INVALID_ADDRESS, "hostName")
    return address


def _check_address_argument(address: IPAddress) -> IPAddress:
    if _is_unspecified(address):
        raise ArgumentException(_INVALID_ADDRESS, "address")
    return address
