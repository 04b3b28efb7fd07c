"""``TcpClient``: a TCP connection as .NET's ``System.Net.Sockets.TcpClient`` makes it.

A thin owner of one stream ``Socket``: every operation is the socket's (so are the argument
checks it does not add, the exceptions, tracing and telemetry); the client adds .NET's own
checks, the host-name connect that tries every resolved address, and the one ``NetworkStream``
that owns the socket (``GetStream``).
"""

from __future__ import annotations

import datetime
from collections.abc import Coroutine, Sequence
from typing import Any, cast, overload

from ._client_support import close_socket, positional, split_token
from ._names import dotnet_names
from ._socket_core import _check_port
from .addresses import IPAddress, IPEndPoint
from .asyncresult import AsyncCallback, IAsyncResult
from .cancellation import CancellationToken, await_cancellable
from .dns import Dns
from .enums import AddressFamily, ProtocolType, SocketError, SocketType
from .exceptions import (
    ArgumentException,
    ArgumentNullException,
    InvalidOperationException,
    ObjectDisposedException,
    SocketException,
)
from .networkstream import NetworkStream
from .options import LingerOption
from .socket import Socket

__all__ = ["TcpClient"]

_NAME = "System.Net.Sockets.TcpClient"
_FAMILIES = (AddressFamily.InterNetwork, AddressFamily.InterNetworkV6, AddressFamily.Unknown)


def _new_socket(family: AddressFamily) -> Socket:
    if family != AddressFamily.Unknown:
        return Socket(family, SocketType.Stream, ProtocolType.Tcp)
    try:
        return Socket(SocketType.Stream, ProtocolType.Tcp)
    except SocketException:
        # No IPv6 on this machine: .NET falls back to IPv4.
        return Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)


def _connect_args(method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """The Connect overloads' arguments, positional or by PEP 8 name, in .NET's order."""
    names = ("remote_ep", "address", "hostname", "host", "ip_addresses", "addresses", "port")
    out = positional(method, args, kwargs, names)
    if len(out) not in (1, 2):
        raise TypeError(f"{method}() takes (remote_ep), (address, port), (hostname, port) or (ip_addresses, port)")
    return out


@dotnet_names
class TcpClient:
    """A TCP client connection (``System.Net.Sockets.TcpClient``).

    ``TcpClient()`` (an IPv6 socket in dual mode, or IPv4 where there is no IPv6),
    ``TcpClient(address_family)`` (``InterNetwork`` or ``InterNetworkV6``, else
    ``ArgumentException``, ``family``), ``TcpClient(local_ep)`` (bound there;
    ``ArgumentNullException``, ``localEP``), ``TcpClient(hostname, port)`` (connected to the first
    address of ``hostname`` that accepts; ``ArgumentNullException`` ``hostname``,
    ``ArgumentOutOfRangeException`` ``port``, ``SocketException`` if none accepts).
    ``Close``/``Dispose`` close the socket (through the stream, if ``GetStream`` made one); after
    that ``Client`` is ``None`` and the other members raise ``ObjectDisposedException``.  A context
    manager, like ``using``.
    """

    __slots__ = ("_family", "_sock", "_stream", "_disposed", "_active")

    @overload
    def __init__(self) -> None: ...
    @overload
    def __init__(self, family: AddressFamily) -> None: ...
    @overload
    def __init__(self, local_ep: IPEndPoint) -> None: ...
    @overload
    def __init__(self, hostname: str, port: int) -> None: ...

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._stream: NetworkStream | None = None
        self._disposed = False
        self._active = False
        self._sock: Socket | None = None
        self._family = AddressFamily.Unknown
        args = positional("TcpClient", args, kwargs, ("family", "address_family", "local_ep", "hostname", "port"))
        if len(args) == 2:
            hostname, port = args
            if hostname is None:
                raise ArgumentNullException("hostname")
            port = _check_port(port)
            try:
                self.Connect(hostname, port)
            except BaseException:
                if self._sock is not None:
                    self._sock.Close()
                raise
            return
        if len(args) > 2:
            raise TypeError("TcpClient() takes (), (family), (local_ep) or (hostname, port)")
        arg = args[0] if args else AddressFamily.Unknown
        if arg is None:
            raise ArgumentNullException("localEP")
        if isinstance(arg, IPEndPoint):
            self._family = arg.AddressFamily
            self._sock = _new_socket(self._family)
            try:
                self._sock.Bind(arg)
            except BaseException:
                # .NET leaves this socket to its finaliser; nobody can reach it to close it.
                self._sock.Close()
                raise
            return
        if isinstance(arg, bool) or not isinstance(arg, int) or arg not in _FAMILIES:
            raise ArgumentException("'TCP' Client can only accept InterNetwork or InterNetworkV6 addresses.", "family")
        self._family = AddressFamily(arg)
        self._sock = _new_socket(self._family)
        if self._sock.AddressFamily == AddressFamily.InterNetwork:
            self._family = AddressFamily.InterNetwork

    @classmethod
    def _accepted(cls, sock: Socket) -> TcpClient:
        """The client of a connection ``TcpListener`` accepted."""
        client = cls.__new__(cls)
        client._stream = None
        client._disposed = False
        client._sock = sock
        client._family = sock.AddressFamily
        client._active = True
        return client

    def _client(self) -> Socket:
        if self._disposed or self._sock is None:
            raise ObjectDisposedException(_NAME)
        return self._sock

    # -- state ------------------------------------------------------------------------------------

    @property
    def Client(self) -> Socket:
        """The socket.  Setting it replaces the socket the client uses.

        Typed ``Socket`` as .NET declares it; like .NET (which returns ``null`` there) it reads
        ``None`` once the client is closed or after ``Client = None``.
        """
        # .NET's getter is `Disposed ? null! : _clientSocket`: non-nullable to the compiler, null at run time.
        return cast(Socket, None if self._disposed else self._sock)

    @Client.setter
    def Client(self, value: Socket | None) -> None:
        self._sock = value
        self._family = value.AddressFamily if value is not None else AddressFamily.Unknown

    @property
    def Active(self) -> bool:
        """True once a connection was made (protected in .NET); a host-name ``Connect`` refuses to run while it is."""
        return self._active

    @Active.setter
    def Active(self, value: bool) -> None:
        self._active = bool(value)

    @property
    def Connected(self) -> bool:
        """The socket's ``Connected`` (False once closed)."""
        sock = None if self._disposed else self._sock
        return sock.Connected if sock is not None else False

    @property
    def Available(self) -> int:
        """Bytes waiting to be read (0 once closed)."""
        sock = None if self._disposed else self._sock
        return sock.Available if sock is not None else 0

    @property
    def ExclusiveAddressUse(self) -> bool:
        """The socket's ``ExclusiveAddressUse`` (False once closed)."""
        sock = None if self._disposed else self._sock
        return sock.ExclusiveAddressUse if sock is not None else False

    @ExclusiveAddressUse.setter
    def ExclusiveAddressUse(self, value: bool) -> None:
        if self._sock is not None:
            self._sock.ExclusiveAddressUse = value

    @property
    def ReceiveBufferSize(self) -> int:
        """The socket's receive buffer size in bytes.  Raises ``ObjectDisposedException`` once closed."""
        return self._client().ReceiveBufferSize

    @ReceiveBufferSize.setter
    def ReceiveBufferSize(self, value: int) -> None:
        self._client().ReceiveBufferSize = value

    @property
    def SendBufferSize(self) -> int:
        """The socket's send buffer size in bytes.  Raises ``ObjectDisposedException`` once closed."""
        return self._client().SendBufferSize

    @SendBufferSize.setter
    def SendBufferSize(self, value: int) -> None:
        self._client().SendBufferSize = value

    @property
    def ReceiveTimeout(self) -> int:
        """Milliseconds a synchronous read may wait (0: for ever), the socket's ``ReceiveTimeout``.

        Settable as a ``timedelta``.  Raises ``ObjectDisposedException`` once closed.
        """
        return self._client().ReceiveTimeout

    @ReceiveTimeout.setter
    def ReceiveTimeout(self, value: int | datetime.timedelta) -> None:
        self._client().ReceiveTimeout = value

    @property
    def SendTimeout(self) -> int:
        """Milliseconds a synchronous write may wait (0: for ever), the socket's ``SendTimeout``.

        Settable as a ``timedelta``.  Raises ``ObjectDisposedException`` once closed.
        """
        return self._client().SendTimeout

    @SendTimeout.setter
    def SendTimeout(self, value: int | datetime.timedelta) -> None:
        self._client().SendTimeout = value

    @property
    def LingerState(self) -> LingerOption:
        """The socket's ``LingerState``.  Raises ``ObjectDisposedException`` once closed."""
        return self._client().LingerState

    @LingerState.setter
    def LingerState(self, value: LingerOption) -> None:
        self._client().LingerState = value

    @property
    def NoDelay(self) -> bool:
        """The socket's ``NoDelay`` (Nagle's algorithm off when True); ``ObjectDisposedException`` once closed."""
        return self._client().NoDelay

    @NoDelay.setter
    def NoDelay(self, value: bool) -> None:
        self._client().NoDelay = value

    # -- connecting -------------------------------------------------------------------------------

    @overload
    def Connect(self, remote_ep: IPEndPoint) -> None: ...
    @overload
    def Connect(self, address: IPAddress, port: int) -> None: ...
    @overload
    def Connect(self, hostname: str, port: int) -> None: ...
    @overload
    def Connect(self, ip_addresses: Sequence[IPAddress], port: int) -> None: ...

    def Connect(self, *args: Any, **kwargs: Any) -> None:
        """``Connect(remote_ep)``, ``Connect(address, port)``, ``Connect(hostname, port)`` or
        ``Connect(ip_addresses, port)``.

        Raises ``ObjectDisposedException`` once closed; ``ArgumentNullException`` (``remoteEP``,
        ``address``, ``hostname``), ``ArgumentOutOfRangeException`` (``port``); for a host name,
        ``SocketException`` ``IsConnected`` when already connected, and the last address's error when
        none accepts; otherwise what ``Socket.Connect`` raises.
        """
        # A positional None cannot say which overload it meant: C#'s (string)null is the common one.
        null_name = "address" if "address" in kwargs else "hostname"
        args = _connect_args("Connect", args, kwargs)
        if self._disposed:
            raise ObjectDisposedException(_NAME)
        if len(args) == 1:
            remote_ep = args[0]
            if remote_ep is None:
                raise ArgumentNullException("remoteEP")
            sock = self._client()
            sock.Connect(remote_ep)
            self._family = sock.AddressFamily
            self._active = True
            return
        target, port = args
        if isinstance(target, str) or target is None:
            if target is None:
                raise ArgumentNullException(null_name)
            self._connect_host(target, _check_port(port))
            return
        if isinstance(target, IPAddress):
            port = _check_port(port)
            self.Connect(IPEndPoint(target, port))
            return
        sock = self._client()
        sock.Connect(target, port)
        self._family = sock.AddressFamily
        self._active = True

    def _connect_host(self, hostname: str, port: int) -> None:
        if self._active:
            raise SocketException(SocketError.IsConnected)
        last: BaseException | None = None
        for address in Dns.GetHostAddresses(hostname):
            try:
                if self._sock is None:
                    # The (hostname, port) constructor: a socket of the address's family.
                    sock = Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp)
                    self._sock = sock
                    try:
                        if address.IsIPv4MappedToIPv6:
                            sock.DualMode = True
                        sock.Connect(address, port)
                    except BaseException:
                        self._sock = None
                        sock.Close()
                        raise
                    self._family = address.AddressFamily
                    self._active = True
                    return
                if self._family in (address.AddressFamily, AddressFamily.Unknown):
                    self.Connect(IPEndPoint(address, port))
                    return
            except (SocketException, ArgumentException, InvalidOperationException) as exc:
                last = exc
        if last is not None:
            raise last
        raise SocketException(SocketError.NotConnected)

    @overload
    def BeginConnect(
        self, address: IPAddress, port: int, callback: AsyncCallback | None = None, state: Any = None
    ) -> IAsyncResult: ...
    @overload
    def BeginConnect(
        self, host: str, port: int, callback: AsyncCallback | None = None, state: Any = None
    ) -> IAsyncResult: ...
    @overload
    def BeginConnect(
        self, addresses: Sequence[IPAddress], port: int, callback: AsyncCallback | None = None, state: Any = None
    ) -> IAsyncResult: ...

    def BeginConnect(self, *args: Any, **kwargs: Any) -> IAsyncResult:
        """``BeginConnect(address | host | addresses, port, callback, state)``; finish with ``EndConnect``.

        Raises ``ObjectDisposedException`` once closed; argument errors raise here (as
        ``Socket.BeginConnect``'s: ``ArgumentNullException``, ``ArgumentOutOfRangeException``
        ``port``); the connection's ``SocketException`` from ``EndConnect``.
        """
        return self._client().BeginConnect(*args, **kwargs)

    def EndConnect(self, async_result: IAsyncResult) -> None:
        """Wait for ``BeginConnect``; raises the connection's error (``SocketException``), as ``Socket.EndConnect``."""
        self._client().EndConnect(async_result)
        self._active = True

    @overload
    def ConnectAsync(
        self, remote_ep: IPEndPoint, cancellation_token: CancellationToken = ...
    ) -> Coroutine[Any, Any, None]: ...
    @overload
    def ConnectAsync(
        self, address: IPAddress, port: int, cancellation_token: CancellationToken = ...
    ) -> Coroutine[Any, Any, None]: ...
    @overload
    def ConnectAsync(
        self, host: str, port: int, cancellation_token: CancellationToken = ...
    ) -> Coroutine[Any, Any, None]: ...
    @overload
    def ConnectAsync(
        self, addresses: Sequence[IPAddress], port: int, cancellation_token: CancellationToken = ...
    ) -> Coroutine[Any, Any, None]: ...

    def ConnectAsync(self, *args: Any, **kwargs: Any) -> Coroutine[Any, Any, None]:
        """``await ConnectAsync(remote_ep | address, port | host, port | addresses, port[, cancellation_token])``.

        Argument errors raise from the call; the connection's from the await.  A cancelled token
        ends it with ``OperationCanceledException`` (and closes the socket, as in .NET).
        """
        args, token = split_token(args, kwargs)
        args = _connect_args("ConnectAsync", args, kwargs)
        if len(args) == 1 and args[0] is None:
            raise ArgumentNullException("remoteEP")
        pending = self._client().ConnectAsync(*args)
        return self._connected(await_cancellable(pending, token))

    async def _connected(self, pending: Coroutine[Any, Any, None]) -> None:
        await pending
        self._active = True

    # -- the stream and closing -------------------------------------------------------------------

    def GetStream(self) -> NetworkStream:
        """The ``NetworkStream`` of the connection (always the same one); it owns the socket.

        Raises ``ObjectDisposedException`` once closed and ``InvalidOperationException`` when not connected.
        """
        sock = self._client()
        if not sock.Connected:
            raise InvalidOperationException("The operation is not allowed on non-connected sockets.")
        if self._stream is None:
            self._stream = NetworkStream(sock, True)
        return self._stream

    def Close(self) -> None:
        """``Dispose()``."""
        self.Dispose()

    def Dispose(self) -> None:
        """Close the stream (if ``GetStream`` made one) or shut the socket down and close it.  Twice does nothing."""
        if self._disposed:
            return
        self._disposed = True
        if self._stream is not None:
            self._stream.Dispose()
        elif self._sock is not None:
            close_socket(self._sock)

    def __enter__(self) -> TcpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.Dispose()

    def __repr__(self) -> str:
        return f"<TcpClient Client={self.Client!r} Connected={self.Connected}>"

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    client = Client
    active = Active
    connected = Connected
    available = Available
    exclusive_address_use = ExclusiveAddressUse
    receive_buffer_size = ReceiveBufferSize
    send_buffer_size = SendBufferSize
    receive_timeout = ReceiveTimeout
    send_timeout = SendTimeout
    linger_state = LingerState
    no_delay = NoDelay
    connect = Connect
    begin_connect = BeginConnect
    end_connect = EndConnect
    connect_async = ConnectAsync
    get_stream = GetStream
    close = Close
    dispose = Dispose
    # -- end of PEP 8 spellings --
