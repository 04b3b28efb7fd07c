"""``TcpListener``: .NET's ``System.Net.Sockets.TcpListener``, a listening ``Socket`` that hands out ``TcpClient``s.

``Start`` binds and listens; ``Stop`` closes the listening socket only (accepted connections live
on) and the next ``Start`` makes a new one.  Accepting is the socket's ``Accept``/``BeginAccept``/
``AcceptAsync``, wrapped in a ``TcpClient`` where the method says so.
"""

from __future__ import annotations

import socket as _socket
import warnings
from collections.abc import Coroutine
from typing import Any, overload

from ._checks import as_int
from ._client_support import positional
from ._names import dotnet_names
from ._socket_core import _check_port
from .addresses import EndPoint, IPAddress, IPEndPoint
from .asyncresult import AsyncCallback, IAsyncResult
from .cancellation import CancellationToken, await_cancellable
from .enums import ProtocolType, SelectMode, SocketType
from .exceptions import (
    ArgumentException,
    ArgumentNullException,
    ArgumentOutOfRangeException,
    InvalidOperationException,
    ObjectDisposedException,
    PlatformNotSupportedException,
    SocketException,
)
from .socket import Socket
from .tcpclient import TcpClient

__all__ = ["TcpListener"]

_MAX_BACKLOG = 0x7FFFFFFF  # SocketOptionName.MaxConnections
_NOT_STARTED = "Not listening. You must call the Start() method before calling this method."
_MUST_BE_STOPPED = "This operation cannot be performed while the listener is started; call Stop() first."


@dotnet_names
class TcpListener:
    """Listens for TCP connections (``System.Net.Sockets.TcpListener``).

    ``TcpListener(local_ep)`` (``ArgumentNullException``, ``localEP``),
    ``TcpListener(local_address, port)`` (``ArgumentNullException`` ``localaddr``,
    ``ArgumentOutOfRangeException`` ``port``), the obsolete ``TcpListener(port)`` (every IPv4
    address), or ``TcpListener.Create(port)`` (IPv6 in dual mode: IPv4 clients too).  Accepting
    before ``Start`` raises ``InvalidOperationException``; an ``End…`` whose accept was ended by
    ``Stop`` raises ``ObjectDisposedException``.  A context manager: leaving it calls ``Stop``.
    """

    __slots__ = ("_ep", "_server", "_active", "_exclusive", "_accepting")

    @overload
    def __init__(self, local_ep: IPEndPoint) -> None: ...
    @overload
    def __init__(self, local_address: IPAddress, port: int) -> None: ...
    @overload
    def __init__(self, port: int) -> None: ...

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        args = positional("TcpListener", args, kwargs, ("local_ep", "local_address", "localaddr", "port"))
        if len(args) == 2:
            address, port = args
            if address is None:
                raise ArgumentNullException("localaddr")
            if not isinstance(address, IPAddress):
                raise ArgumentException(f"Expected an IPAddress, not {type(address).__name__}.", "localaddr")
            ep = IPEndPoint(address, _check_port(port))
        elif len(args) == 1 and (args[0] is None or isinstance(args[0], IPEndPoint)):
            if args[0] is None:
                raise ArgumentNullException("localEP")
            ep = args[0]
        elif len(args) == 1 and isinstance(args[0], int) and not isinstance(args[0], bool):
            warnings.warn(
                "TcpListener(port) is obsolete; use TcpListener(IPAddress.Any, port)", DeprecationWarning, stacklevel=2
            )
            ep = IPEndPoint(IPAddress.Any, _check_port(args[0]))
        elif len(args) == 1:
            raise ArgumentException(f"Expected an IPEndPoint, not {type(args[0]).__name__}.", "localEP")
        else:
            raise TypeError("TcpListener() takes (local_ep), (local_address, port) or (port)")
        self._ep: IPEndPoint = ep
        self._server: Socket | None = Socket(ep.AddressFamily, SocketType.Stream, ProtocolType.Tcp)
        self._active = False
        self._exclusive = False
        # The socket of the last BeginAccept…, so that its End… still finds it after Stop.
        self._accepting: Socket | None = None

    @staticmethod
    def Create(port: int) -> TcpListener:
        """A listener on every IPv6 and IPv4 address (dual mode) at ``port``; IPv4 only without IPv6.

        Raises ``ArgumentOutOfRangeException`` (``port``).
        """
        port = _check_port(port)
        if _socket.has_ipv6:
            try:
                listener = TcpListener(IPAddress.IPv6Any, port)
            except SocketException:
                pass  # IPv6 compiled in but not usable here
            else:
                listener.Server.DualMode = True
                return listener
        return TcpListener(IPAddress.Any, port)

    def _new_socket_if_needed(self) -> Socket:
        if self._server is None:
            self._server = Socket(self._ep.AddressFamily, SocketType.Stream, ProtocolType.Tcp)
            if self._exclusive:
                self._server.ExclusiveAddressUse = True
        return self._server

    # -- state ------------------------------------------------------------------------------------

    @property
    def Server(self) -> Socket:
        """The listening socket (a new one after ``Stop``, made on first use)."""
        return self._new_socket_if_needed()

    @property
    def LocalEndpoint(self) -> EndPoint:
        """Where it listens: the socket's ``LocalEndPoint`` once started (the real port for port 0),
        else the endpoint given."""
        if self._active and self._server is not None:
            ep = self._server.LocalEndPoint
            if ep is not None:
                return ep
        return self._ep

    @property
    def Active(self) -> bool:
        """True between ``Start`` and ``Stop`` (protected in .NET; read-only here)."""
        return self._active

    @property
    def ExclusiveAddressUse(self) -> bool:
        """The socket's ``ExclusiveAddressUse``; setting it once started raises ``InvalidOperationException``."""
        return self._server.ExclusiveAddressUse if self._server is not None else self._exclusive

    @ExclusiveAddressUse.setter
    def ExclusiveAddressUse(self, value: bool) -> None:
        if self._active:
            raise InvalidOperationException(_MUST_BE_STOPPED)
        if self._server is not None:
            self._server.ExclusiveAddressUse = value
        self._exclusive = bool(value)

    def AllowNatTraversal(self, allowed: bool) -> None:
        """Windows only: raises ``InvalidOperationException`` once started, else ``PlatformNotSupportedException``."""
        if self._active:
            raise InvalidOperationException(_MUST_BE_STOPPED)
        raise PlatformNotSupportedException("IP protection levels are supported on Windows only.")

    # -- starting and stopping --------------------------------------------------------------------

    def Start(self, backlog: int = _MAX_BACKLOG) -> None:
        """Bind and listen (``backlog`` pending connections at most; the system caps it).

        Raises ``ArgumentOutOfRangeException`` (``backlog``) below 0, and ``SocketException`` when the
        endpoint cannot be bound (``AddressAlreadyInUse``).  Starting a started listener does nothing.
        """
        n = as_int(backlog, "backlog")
        if n < 0 or n > _MAX_BACKLOG:
            raise ArgumentOutOfRangeException("backlog", n)
        if self._active:
            return
        server = self._new_socket_if_needed()
        try:
            server.Bind(self._ep)
            server.Listen(n)
        except SocketException:
            self.Stop()
            raise
        self._active = True

    def Stop(self) -> None:
        """Close the listening socket (pending accepts end; accepted connections stay open)."""
        server, self._server = self._server, None
        self._active = False
        if server is not None:
            server.Dispose()

    def Dispose(self) -> None:
        """``Stop()``."""
        self.Stop()

    def __enter__(self) -> TcpListener:
        return self

    def __exit__(self, *exc: object) -> None:
        self.Stop()

    def _listening(self) -> Socket:
        server = self._server
        if not self._active or server is None:
            raise InvalidOperationException(_NOT_STARTED)
        return server

    def Pending(self) -> bool:
        """True when a connection is waiting to be accepted.  Raises ``InvalidOperationException`` before ``Start``."""
        return self._listening().Poll(0, SelectMode.SelectRead)

    # -- accepting --------------------------------------------------------------------------------

    def AcceptSocket(self) -> Socket:
        """Wait for a connection and return its ``Socket``.  Raises ``InvalidOperationException`` before ``Start``."""
        return self._listening().Accept()

    def AcceptTcpClient(self) -> TcpClient:
        """Wait for a connection and return it as a ``TcpClient``.

        Raises ``InvalidOperationException`` before ``Start``."""
        return TcpClient._accepted(self._listening().Accept())

    def BeginAcceptSocket(self, callback: AsyncCallback | None = None, state: Any = None) -> IAsyncResult:
        """Start accepting; ``EndAcceptSocket`` gives the ``Socket``.

        Raises ``InvalidOperationException`` before ``Start``."""
        server = self._listening()
        self._accepting = server
        return server.BeginAccept(callback, state)

    def BeginAcceptTcpClient(self, callback: AsyncCallback | None = None, state: Any = None) -> IAsyncResult:
        """Start accepting; ``EndAcceptTcpClient`` gives the ``TcpClient``.

        Raises ``InvalidOperationException`` before ``Start``."""
        return self.BeginAcceptSocket(callback, state)

    def EndAcceptSocket(self, async_result: IAsyncResult) -> Socket:
        """Wait for ``BeginAcceptSocket``'s connection.

        Raises ``ArgumentNullException`` (``asyncResult``), ``ObjectDisposedException`` when ``Stop``
        ended the accept, otherwise what ``Socket.EndAccept`` raises.
        """
        if async_result is None:
            raise ArgumentNullException("asyncResult")
        server = self._accepting or self._server
        if server is None:
            raise ArgumentException(
                "The IAsyncResult object was not returned from a Begin call on this listener.", "asyncResult"
            )
        try:
            accepted: Socket = server.EndAccept(async_result)
        except (SocketException, ObjectDisposedException):
            if not self._active:
                raise ObjectDisposedException("System.Net.Sockets.Socket") from None
            raise
        return accepted

    def EndAcceptTcpClient(self, async_result: IAsyncResult) -> TcpClient:
        """Wait for ``BeginAcceptTcpClient``'s connection; raises as ``EndAcceptSocket``."""
        return TcpClient._accepted(self.EndAcceptSocket(async_result))

    def AcceptSocketAsync(
        self, cancellation_token: CancellationToken = CancellationToken.None_
    ) -> Coroutine[Any, Any, Socket]:
        """``await AcceptSocketAsync([cancellation_token]) -> Socket``.

        ``InvalidOperationException`` from the call before ``Start``; a cancelled token ends it with
        ``OperationCanceledException`` and accepts nothing (the connection waits for the next accept).
        """
        pending: Coroutine[Any, Any, Socket] = self._listening().AcceptAsync()
        return await_cancellable(pending, cancellation_token)

    def AcceptTcpClientAsync(
        self, cancellation_token: CancellationToken = CancellationToken.None_
    ) -> Coroutine[Any, Any, TcpClient]:
        """``await AcceptTcpClientAsync([cancellation_token]) -> TcpClient``; as ``AcceptSocketAsync``."""
        return _as_client(self.AcceptSocketAsync(cancellation_token))

    def __repr__(self) -> str:
        return f"<TcpListener LocalEndpoint={self.LocalEndpoint} Active={self._active}>"

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    create = Create
    server = Server
    local_endpoint = LocalEndpoint
    active = Active
    exclusive_address_use = ExclusiveAddressUse
    allow_nat_traversal = AllowNatTraversal
    start = Start
    stop = Stop
    dispose = Dispose
    pending = Pending
    accept_socket = AcceptSocket
    accept_tcp_client = AcceptTcpClient
    begin_accept_socket = BeginAcceptSocket
    begin_accept_tcp_client = BeginAcceptTcpClient
    end_accept_socket = EndAcceptSocket
    end_accept_tcp_client = EndAcceptTcpClient
    accept_socket_async = AcceptSocketAsync
    accept_tcp_client_async = AcceptTcpClientAsync
    # -- end of PEP 8 spellings --


async def _as_client(pending: Coroutine[Any, Any, Socket]) -> TcpClient:
    return TcpClient._accepted(await pending)
