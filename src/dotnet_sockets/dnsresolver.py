"""``DnsResolver``: .NET 11's typed DNS lookups (A/AAAA, SRV, MX, TXT, CNAME, PTR, NS).

Each ``Resolve…`` checks its argument (``ArgumentNullException``/``ArgumentException``, ``name``),
then whether the resolver was disposed (``ObjectDisposedException``), in .NET's order; the query
itself (see ``_dnsquery``) runs on the caller's thread for the blocking form and on the running
asyncio loop for the awaitable ``…Async`` form, which takes .NET's ``cancellation_token`` last.
"""

from __future__ import annotations

from collections.abc import Coroutine
from types import TracebackType
from typing import Any, Final, overload

from . import _dnsquery
from ._names import dotnet_names
from .addresses import IPAddress, IPEndPoint
from .cancellation import CancellationToken, await_task_cancellable
from .dnsrecords import (
    AddressRecord,
    CNameRecord,
    DnsResolverOptions,
    DnsResult,
    MxRecord,
    NsRecord,
    PtrRecord,
    SrvRecord,
    TxtRecord,
)
from .enums import AddressFamily
from .exceptions import ArgumentException, ArgumentNullException, ObjectDisposedException, TaskCanceledException

__all__ = ["DnsResolver"]

_NO_OPTIONS: Final[Any] = object()
_OBJECT_NAME: Final = "System.Net.DnsResolver"
_Awaitable = Coroutine[Any, Any, DnsResult[Any]]


def _check_name(name: object) -> str:
    if name is None:
        raise ArgumentNullException("name")
    if not isinstance(name, str):
        raise ArgumentException(f"Expected a str, not {type(name).__name__}.", "name")
    if not name:
        raise ArgumentException("The value cannot be an empty string.", "name")
    return name


def _check_token(token: object) -> CancellationToken | None:
    if token is not None and not isinstance(token, CancellationToken):
        raise TypeError("cancellation_token must be a CancellationToken")
    return token


def _split_family(family: Any, token: Any) -> tuple[Any, CancellationToken | None]:
    """The ``(name, addressFamily[, token])`` and ``(name[, token])`` overloads of ``ResolveAddressesAsync``."""
    if isinstance(family, CancellationToken):
        if token is not None:
            raise TypeError("the address family comes before the cancellation_token")
        return AddressFamily.Unspecified, family
    return family, _check_token(token)


async def _canceled(token: CancellationToken) -> Any:
    raise TaskCanceledException(None, token)


@dotnet_names
class DnsResolver:
    """Asks DNS servers for typed records: ``DnsResolver([options])``.

    ``options.Servers`` (copied when the resolver is made) lists the servers to ask; empty means the
    system's (``/etc/resolv.conf``'s ``nameserver`` lines, re-read for each query).  Raises
    ``ArgumentNullException`` (``options``) for ``None``, ``ArgumentException``
    (``options.Servers``) for a ``None`` or non-``IPEndPoint`` entry.

    Each lookup returns a ``DnsResult``: negative answers (``NxDomain``, NODATA, ``ServerFailure``,
    ``Refused``) are results with a ``ResponseCode``, not exceptions.  A lookup raises
    ``ArgumentNullException``/``ArgumentException`` (``name``) for a missing or empty name,
    ``ObjectDisposedException`` after ``Dispose``, ``ArgumentException`` (``name``) for a name DNS
    cannot carry (from the lookup, so from the awaitable for ``…Async``), ``TimeoutException`` when
    no server answered (each server is asked 3 times, 3 seconds each), ``SocketException`` when the
    last attempt failed on the network, ``InvalidDataException`` for a malformed answer, and (the
    ``…Async`` forms) ``TaskCanceledException`` when the token is or becomes cancelled.  A resolver
    may be used from several threads and loops at once; it holds no socket between lookups.
    """

    __slots__ = ("_servers", "_disposed")

    def __init__(self, options: DnsResolverOptions = _NO_OPTIONS) -> None:
        if options is _NO_OPTIONS:
            options = DnsResolverOptions()
        if options is None:
            raise ArgumentNullException("options")
        if not isinstance(options, DnsResolverOptions):
            raise ArgumentException(f"Expected a DnsResolverOptions, not {type(options).__name__}.", "options")
        servers = []
        for server in options.Servers:
            if not isinstance(server, IPEndPoint):
                raise ArgumentException(
                    "The list of DNS servers contains an entry that is not an IPEndPoint.", "options.Servers"
                )
            # IPEndPoint is mutable: the resolver keeps its own copies.
            servers.append(IPEndPoint(server.Address, server.Port))
        self._servers: tuple[IPEndPoint, ...] = tuple(servers)
        self._disposed = False

    # -- the lookups --------------------------------------------------------------

    def _start(self, name: object) -> str:
        checked = _check_name(name)
        if self._disposed:
            raise ObjectDisposedException(_OBJECT_NAME)
        return checked

    def _blocking(self, name: object, qtype: int) -> Any:
        checked = self._start(name)
        return _dnsquery.run_blocking(_dnsquery.resolve(_dnsquery.BLOCKING, self._servers, checked, qtype))

    def _awaitable(self, name: object, qtype: int, token: object) -> _Awaitable:
        checked = self._start(name)
        checked_token = _check_token(token)
        return self._on_loop(_dnsquery.resolve(_dnsquery.LOOP, self._servers, checked, qtype), checked_token)

    @staticmethod
    def _on_loop(work: _Awaitable, token: CancellationToken | None) -> _Awaitable:
        if token is not None and token.IsCancellationRequested:
            work.close()
            return _canceled(token)
        return await_task_cancellable(work, token)

    @staticmethod
    def _ptr_target(name_or_address: object) -> object:
        if isinstance(name_or_address, IPAddress):
            return _dnsquery.arpa_name(name_or_address)
        return name_or_address

    def ResolveAddresses(
        self, name: str, address_family: AddressFamily = AddressFamily.Unspecified
    ) -> DnsResult[AddressRecord]:
        """The A (``InterNetwork``), AAAA (``InterNetworkV6``) or both (``Unspecified``, the default:
        A's records then AAAA's) records of ``name``.

        Raises as the class says, and ``ArgumentException`` (``addressFamily``) for another family.
        """
        checked = self._start(name)
        return _dnsquery.run_blocking(
            _dnsquery.resolve_addresses(_dnsquery.BLOCKING, self._servers, checked, address_family)
        )

    @overload
    def ResolveAddressesAsync(
        self, name: str, address_family: AddressFamily = ..., cancellation_token: CancellationToken | None = None
    ) -> Coroutine[Any, Any, DnsResult[AddressRecord]]: ...
    @overload
    def ResolveAddressesAsync(
        self, name: str, cancellation_token: CancellationToken, /
    ) -> Coroutine[Any, Any, DnsResult[AddressRecord]]: ...

    def ResolveAddressesAsync(
        self, name: str, address_family: Any = AddressFamily.Unspecified, cancellation_token: Any = None
    ) -> Coroutine[Any, Any, DnsResult[AddressRecord]]:
        """``await ResolveAddressesAsync(name[, address_family][, cancellation_token])``: ``ResolveAddresses``
        on the running loop, A and AAAA asked at once for ``Unspecified``.

        The call raises ``ArgumentNullException``/``ArgumentException`` (``name``) and
        ``ObjectDisposedException``; the awaitable raises the lookup's exceptions (see the class) and
        ``TaskCanceledException`` when the token is or becomes cancelled.
        """
        family, token = _split_family(address_family, cancellation_token)
        checked = self._start(name)
        return self._on_loop(_dnsquery.resolve_addresses(_dnsquery.LOOP, self._servers, checked, family), token)

    def ResolveSrv(self, name: str) -> DnsResult[SrvRecord]:
        """The SRV records of ``name`` (``_service._proto.domain``), each with the target's addresses
        the server sent along.  Raises as the class says."""
        return self._blocking(name, _dnsquery.SRV)  # type: ignore[no-any-return]

    def ResolveSrvAsync(
        self, name: str, cancellation_token: CancellationToken | None = None
    ) -> Coroutine[Any, Any, DnsResult[SrvRecord]]:
        """``await ResolveSrvAsync(name[, cancellation_token])``: ``ResolveSrv`` on the running loop.
        Raises as the class says (``TaskCanceledException`` from the awaitable)."""
        return self._awaitable(name, _dnsquery.SRV, cancellation_token)

    def ResolveMx(self, name: str) -> DnsResult[MxRecord]:
        """The MX records of ``name``.  Raises as the class says."""
        return self._blocking(name, _dnsquery.MX)  # type: ignore[no-any-return]

    def ResolveMxAsync(
        self, name: str, cancellation_token: CancellationToken | None = None
    ) -> Coroutine[Any, Any, DnsResult[MxRecord]]:
        """``await ResolveMxAsync(name[, cancellation_token])``: ``ResolveMx`` on the running loop.
        Raises as the class says (``TaskCanceledException`` from the awaitable)."""
        return self._awaitable(name, _dnsquery.MX, cancellation_token)

    def ResolveTxt(self, name: str) -> DnsResult[TxtRecord]:
        """The TXT records of ``name``.  Raises as the class says."""
        return self._blocking(name, _dnsquery.TXT)  # type: ignore[no-any-return]

    def ResolveTxtAsync(
        self, name: str, cancellation_token: CancellationToken | None = None
    ) -> Coroutine[Any, Any, DnsResult[TxtRecord]]:
        """``await ResolveTxtAsync(name[, cancellation_token])``: ``ResolveTxt`` on the running loop.
        Raises as the class says (``TaskCanceledException`` from the awaitable)."""
        return self._awaitable(name, _dnsquery.TXT, cancellation_token)

    def ResolveCName(self, name: str) -> DnsResult[CNameRecord]:
        """The CNAME records in the answer for ``name`` (every link of a chain the server sent).
        Raises as the class says."""
        return self._blocking(name, _dnsquery.CNAME)  # type: ignore[no-any-return]

    def ResolveCNameAsync(
        self, name: str, cancellation_token: CancellationToken | None = None
    ) -> Coroutine[Any, Any, DnsResult[CNameRecord]]:
        """``await ResolveCNameAsync(name[, cancellation_token])``: ``ResolveCName`` on the running loop.
        Raises as the class says (``TaskCanceledException`` from the awaitable)."""
        return self._awaitable(name, _dnsquery.CNAME, cancellation_token)

    def ResolvePtr(self, name: str | IPAddress) -> DnsResult[PtrRecord]:
        """The PTR records of a name (``4.3.2.1.in-addr.arpa``), or of an ``IPAddress`` (a reverse lookup
        of its ``in-addr.arpa``/``ip6.arpa`` name).  Raises as the class says (``ArgumentNullException``
        ``name`` for ``None``)."""
        return self._blocking(self._ptr_target(name), _dnsquery.PTR)  # type: ignore[no-any-return]

    def ResolvePtrAsync(
        self, name: str | IPAddress, cancellation_token: CancellationToken | None = None
    ) -> Coroutine[Any, Any, DnsResult[PtrRecord]]:
        """``await ResolvePtrAsync(name_or_address[, cancellation_token])``: ``ResolvePtr`` on the running
        loop.  Raises as the class says (``TaskCanceledException`` from the awaitable)."""
        return self._awaitable(self._ptr_target(name), _dnsquery.PTR, cancellation_token)

    def ResolveNs(self, name: str) -> DnsResult[NsRecord]:
        """The NS records of ``name``.  Raises as the class says."""
        return self._blocking(name, _dnsquery.NS)  # type: ignore[no-any-return]

    def ResolveNsAsync(
        self, name: str, cancellation_token: CancellationToken | None = None
    ) -> Coroutine[Any, Any, DnsResult[NsRecord]]:
        """``await ResolveNsAsync(name[, cancellation_token])``: ``ResolveNs`` on the running loop.
        Raises as the class says (``TaskCanceledException`` from the awaitable)."""
        return self._awaitable(name, _dnsquery.NS, cancellation_token)

    # -- disposal ---------------------------------------------------------------------

    def Dispose(self) -> None:
        """Later lookups raise ``ObjectDisposedException``; lookups under way finish.  Idempotent."""
        self._disposed = True

    async def DisposeAsync(self) -> None:
        """``await resolver.DisposeAsync()``: ``Dispose``."""
        self._disposed = True

    def __enter__(self) -> DnsResolver:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.Dispose()

    async def __aenter__(self) -> DnsResolver:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.Dispose()

    def __repr__(self) -> str:
        servers = ", ".join(str(s) for s in self._servers) or "system"
        return f"DnsResolver(servers=[{servers}]{', disposed' if self._disposed else ''})"

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
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
    dispose = Dispose
    dispose_async = DisposeAsync
    # -- end of PEP 8 spellings --
