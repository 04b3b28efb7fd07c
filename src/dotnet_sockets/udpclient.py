"""``UdpClient``: .NET's ``System.Net.Sockets.UdpClient``, one datagram ``Socket`` with .NET's rules on top.

The rules it adds: once ``Connect`` has chosen a default peer, sending to any other endpoint is an
``InvalidOperationException``; ``IPAddress.Broadcast`` as a destination turns ``EnableBroadcast``
on; receives come back as ``(bytes, sender)`` (``Receive(ref remoteEP)`` in C#) or as a
``UdpReceiveResult``.  Every send and receive is the socket's own.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, cast, overload

from ._checks import as_buffer, as_int
from ._client_support import close_socket, positional, split_token
from ._names import dotnet_names
from ._socket_core import _check_port
from ._types import BytesLike
from .addresses import IPAddress, IPEndPoint
from .asyncresult import AsyncCallback, IAsyncResult
from .cancellation import CancellationToken, await_cancellable
from .dns import Dns
from .enums import AddressFamily, ProtocolType, SocketError, SocketOptionLevel, SocketOptionName, SocketType
from .exceptions import (
    ArgumentException,
    ArgumentNullException,
    ArgumentOutOfRangeException,
    InvalidOperationException,
    ObjectDisposedException,
    PlatformNotSupportedException,
    SocketException,
)
from .options import IPv6MulticastOption, MulticastOption
from .results import SocketReceiveFromResult, UdpReceiveResult
from .socket import Socket

__all__ = ["UdpClient"]

_NAME = "System.Net.Sockets.UdpClient"
_MAX_UDP = 0x10000
_SPARES = 2  # receive buffers a client keeps for its next receives
_CONNECTED = "Cannot send packets to an arbitrary host while connected."
_NOT_CONNECTED = "The operation is not allowed on non-connected sockets."
_BAD_FAMILY = "'UDP' Client can only accept InterNetwork or InterNetworkV6 addresses."
_BAD_MULTICAST_FAMILY = "The multicast group address does not match the address family of the 'UDP' client."
_NO_PEER: Any = object()  # Send's endpoint argument was not given at all


def _family(value: Any) -> AddressFamily:
    if value not in (AddressFamily.InterNetwork, AddressFamily.InterNetworkV6) or isinstance(value, bool):
        raise ArgumentException(_BAD_FAMILY, "family")
    return AddressFamily(value)


# The "any sender" endpoints handed to ReceiveFrom as C#'s ref remoteEP; a datagram socket never
# returns them, so one of each serves every receive.
_ANY_V4 = IPEndPoint(IPAddress.Any, 0)
_ANY_V6 = IPEndPoint(IPAddress.IPv6Any, 0)


def _any(family: AddressFamily) -> IPEndPoint:
    return _ANY_V4 if family == AddressFamily.InterNetwork else _ANY_V6


@dotnet_names
class UdpClient:
    """A UDP endpoint (``System.Net.Sockets.UdpClient``).

    ``UdpClient()`` / ``UdpClient(family)`` (unbound; ``ArgumentException`` ``family`` unless
    ``InterNetwork`` or ``InterNetworkV6``), ``UdpClient(port[, family])`` (bound to every address
    at ``port``; ``ArgumentOutOfRangeException`` ``port``), ``UdpClient(local_ep)`` (bound there;
    ``ArgumentNullException`` ``localEP``), ``UdpClient(hostname, port)`` (connected to the first
    address of ``hostname``).  ``Close``/``Dispose`` close the socket; after that every member raises
    ``ObjectDisposedException``.  A context manager, like ``using``.
    """

    __slots__ = ("_sock", "_family", "_active", "_disposed", "_broadcast", "_spares")

    @overload
    def __init__(self) -> None: ...
    @overload
    def __init__(self, family: AddressFamily) -> None: ...
    @overload
    def __init__(self, port: int) -> None: ...
    @overload
    def __init__(self, port: int, family: AddressFamily) -> None: ...
    @overload
    def __init__(self, local_ep: IPEndPoint) -> None: ...
    @overload
    def __init__(self, hostname: str, port: int) -> None: ...

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._sock: Socket | None = None
        self._family = AddressFamily.InterNetwork
        self._active = False
        self._disposed = False
        self._broadcast = False
        self._spares: list[bytearray] = []
        args = positional("UdpClient", args, kwargs, ("hostname", "local_ep", "port", "family"))
        if len(args) == 2 and (args[0] is None or isinstance(args[0], str)):
            hostname, port = args
            if hostname is None:
                raise ArgumentNullException("hostname")
            self.Connect(hostname, _check_port(port))
            return
        if len(args) == 2:
            port = _check_port(args[0])
            self._family = _family(args[1])
            self._sock = Socket(self._family, SocketType.Dgram, ProtocolType.Udp)
            self._bind(IPEndPoint(_any(self._family).Address, port))
            return
        if len(args) > 2:
            raise TypeError("UdpClient() takes (), (family), (port[, family]), (local_ep) or (hostname, port)")
        if not args:
            self._sock = Socket(self._family, SocketType.Dgram, ProtocolType.Udp)
            return
        arg = args[0]
        if arg is None:
            raise ArgumentNullException("localEP")
        if isinstance(arg, IPEndPoint):
            self._family = arg.AddressFamily
            self._sock = Socket(self._family, SocketType.Dgram, ProtocolType.Udp)
            self._bind(arg)
            return
        if isinstance(arg, AddressFamily):
            self._family = _family(arg)
            self._sock = Socket(self._family, SocketType.Dgram, ProtocolType.Udp)
            return
        port = _check_port(arg)
        self._sock = Socket(self._family, SocketType.Dgram, ProtocolType.Udp)
        self._bind(IPEndPoint(IPAddress.Any, port))

    def _bind(self, ep: IPEndPoint) -> None:
        sock = self._client()
        try:
            sock.Bind(ep)
        except BaseException:
            sock.Close()
            raise

    def _client(self) -> Socket:
        if self._disposed or self._sock is None:
            raise ObjectDisposedException(_NAME)
        return self._sock

    # -- state ------------------------------------------------------------------------------------

    @property
    def Client(self) -> Socket:
        """The socket; setting it replaces the socket the client uses.

        Typed ``Socket`` as .NET declares it; like .NET (which returns ``null`` there) it reads
        ``None`` once the client is closed or after ``Client = None``.
        """
        # .NET's field is set to `null!` by Dispose: non-nullable to the compiler, null at run time.
        return cast(Socket, self._sock)

    @Client.setter
    def Client(self, value: Socket | None) -> None:
        self._sock = value

    @property
    def Active(self) -> bool:
        """True once ``Connect`` chose a default remote host (protected in .NET)."""
        return self._active

    @Active.setter
    def Active(self, value: bool) -> None:
        self._active = bool(value)

    @property
    def Available(self) -> int:
        """Bytes waiting to be received."""
        return self._client().Available

    @property
    def Ttl(self) -> int:
        """The socket's ``Ttl`` (time to live of unicast datagrams).  ``ObjectDisposedException`` once closed."""
        return self._client().Ttl

    @Ttl.setter
    def Ttl(self, value: int) -> None:
        self._client().Ttl = value

    @property
    def DontFragment(self) -> bool:
        """The socket's ``DontFragment`` (IPv4 only).  ``ObjectDisposedException`` once closed."""
        return self._client().DontFragment

    @DontFragment.setter
    def DontFragment(self, value: bool) -> None:
        self._client().DontFragment = value

    @property
    def MulticastLoopback(self) -> bool:
        """The socket's ``MulticastLoopback``.  ``ObjectDisposedException`` once closed."""
        return self._client().MulticastLoopback

    @MulticastLoopback.setter
    def MulticastLoopback(self, value: bool) -> None:
        self._client().MulticastLoopback = value

    @property
    def EnableBroadcast(self) -> bool:
        """The socket's ``EnableBroadcast`` (turned on by a send to ``IPAddress.Broadcast``).

        Raises ``ObjectDisposedException`` once closed.
        """
        return self._client().EnableBroadcast

    @EnableBroadcast.setter
    def EnableBroadcast(self, value: bool) -> None:
        self._client().EnableBroadcast = value

    @property
    def ExclusiveAddressUse(self) -> bool:
        """The socket's ``ExclusiveAddressUse``.  ``ObjectDisposedException`` once closed."""
        return self._client().ExclusiveAddressUse

    @ExclusiveAddressUse.setter
    def ExclusiveAddressUse(self, value: bool) -> None:
        self._client().ExclusiveAddressUse = value

    def AllowNatTraversal(self, allowed: bool) -> None:
        """Windows only: raises ``PlatformNotSupportedException`` here, as .NET does on Linux."""
        self._client()
        raise PlatformNotSupportedException("IP protection levels are supported on Windows only.")

    def _compatible(self, family: AddressFamily) -> bool:
        if family == self._family:
            return True
        sock = self._sock
        return (
            family == AddressFamily.InterNetwork
            and sock is not None
            and self._family == AddressFamily.InterNetworkV6
            and sock.DualMode
        )

    def _check_broadcast(self, address: IPAddress) -> None:
        # .NET turns the option on for IPAddress.Broadcast only, and never turns it off again.
        if (
            not self._broadcast
            and address.AddressFamily == AddressFamily.InterNetwork
            and address == IPAddress.Broadcast
        ):
            self._broadcast = True
            self._client().SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Broadcast, 1)

    # -- connecting -------------------------------------------------------------------------------

    @overload
    def Connect(self, end_point: IPEndPoint) -> None: ...
    @overload
    def Connect(self, addr: IPAddress, port: int) -> None: ...
    @overload
    def Connect(self, hostname: str, port: int) -> None: ...

    def Connect(self, *args: Any, **kwargs: Any) -> None:
        """``Connect(end_point)``, ``Connect(addr, port)`` or ``Connect(hostname, port)``: choose the default peer.

        Afterwards ``Send`` needs no endpoint and only the peer's datagrams are received.  Raises
        ``ObjectDisposedException``, ``ArgumentNullException`` (``endPoint``, ``addr``, ``hostname``),
        ``ArgumentOutOfRangeException`` (``port``), and ``SocketException`` when no address of
        ``hostname`` can be used.
        """
        # A positional None cannot say which overload it meant: C#'s (string)null is the common one.
        null_name = "addr" if "addr" in kwargs else "hostname"
        args = positional("Connect", args, kwargs, ("end_point", "addr", "hostname", "port"))
        if len(args) not in (1, 2):
            raise TypeError("Connect() takes (end_point), (addr, port) or (hostname, port)")
        if self._disposed:
            raise ObjectDisposedException(_NAME)
        if len(args) == 1:
            ep = args[0]
            if ep is None:
                raise ArgumentNullException("endPoint")
            if isinstance(ep, IPEndPoint):
                self._check_broadcast(ep.Address)
            self._client().Connect(ep)
            self._active = True
            return
        target, port = args
        if target is None:
            raise ArgumentNullException(null_name)
        if isinstance(target, IPAddress):
            self.Connect(IPEndPoint(target, _check_port(port)))
            return
        if not isinstance(target, str):
            raise ArgumentException(f"Expected an IPAddress or a host name, not {type(target).__name__}.", "addr")
        self._connect_host(target, _check_port(port))

    def _connect_host(self, hostname: str, port: int) -> None:
        addresses = Dns.GetHostAddresses(hostname)
        last: BaseException | None = None
        for address in addresses:
            try:
                if self._sock is None:
                    # The (hostname, port) constructor: a socket of the address's family.
                    sock = Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp)
                    try:
                        sock.Connect(address, port)
                    except BaseException:
                        sock.Close()
                        raise
                    self._sock = sock
                    self._family = address.AddressFamily
                    self._active = True
                    return
                if self._compatible(address.AddressFamily):
                    self.Connect(IPEndPoint(address, port))
                    return
            except (SocketException, ArgumentException, InvalidOperationException) as exc:
                last = exc
        if last is not None:
            raise last
        raise SocketException(SocketError.NotConnected)

    # -- sending ----------------------------------------------------------------------------------

    def _endpoint(self, hostname: str | None, port: Any) -> IPEndPoint | None:
        """.NET's GetEndpoint: ``None`` for (None, 0); the first address of a compatible family."""
        port = as_int(port, "port")
        if self._active and (hostname is not None or port != 0):
            raise InvalidOperationException(_CONNECTED)
        if hostname is None or port == 0:
            return None
        port = _check_port(port)
        for address in Dns.GetHostAddresses(hostname):
            if self._compatible(address.AddressFamily):
                self._check_broadcast(address)
                return IPEndPoint(address, port)
        raise ArgumentException(
            "None of the discovered or specified addresses match the socket address family.", "hostname"
        )

    def _datagram(self, datagram: Any, nbytes: Any, name: str, count_name: str = "bytes") -> Any:
        """The first ``bytes`` bytes of ``datagram``, checked as .NET's ValidateDatagram.

        A whole ``bytes`` object comes back as it is: the socket's short datagram path takes it.
        """
        if datagram is None:
            raise ArgumentNullException(name)
        data = as_buffer(datagram, name)
        if nbytes is None:
            return data
        n = as_int(nbytes, count_name)
        if n < 0 or n > len(data):
            raise ArgumentOutOfRangeException(count_name, n)
        return data if n == len(data) else memoryview(data)[:n]

    @staticmethod
    def _send_shape(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, Any, Any, Any]:
        """``(datagram, bytes or None, endpoint or _NO_PEER, (hostname, port) or None)`` of a Send overload."""
        datagram = kwargs.pop("datagram", kwargs.pop("dgram", None)) if not args else args[0]
        rest = list(args[1:])
        nbytes = kwargs.pop("bytes", None)
        if nbytes is None and rest and type(rest[0]) is int:
            nbytes = rest.pop(0)
        peer: Any = _NO_PEER
        host: Any = None
        if "end_point" in kwargs:
            peer = kwargs.pop("end_point")
        if "hostname" in kwargs or "port" in kwargs:
            host = (kwargs.pop("hostname", None), kwargs.pop("port", 0))
        if kwargs:
            raise TypeError(f"unexpected arguments {sorted(kwargs)}")
        if len(rest) == 1:
            peer = rest[0]
        elif len(rest) == 2:
            host = (rest[0], rest[1])
        elif rest:
            raise TypeError("Send takes (datagram[, bytes][, end_point | hostname, port])")
        return datagram, nbytes, peer, host

    @overload
    def Send(self, datagram: BytesLike, /) -> int: ...
    @overload
    def Send(self, datagram: BytesLike, bytes: int, /) -> int: ...
    @overload
    def Send(self, datagram: BytesLike, end_point: IPEndPoint | None, /) -> int: ...
    @overload
    def Send(self, datagram: BytesLike, bytes: int, end_point: IPEndPoint | None, /) -> int: ...
    @overload
    def Send(self, datagram: BytesLike, hostname: str | None, port: int, /) -> int: ...
    @overload
    def Send(self, datagram: BytesLike, bytes: int, hostname: str | None, port: int, /) -> int: ...

    def Send(self, *args: Any, **kwargs: Any) -> int:
        """``Send(datagram[, bytes])`` to the connected peer, ``Send(datagram[, bytes], end_point)`` or
        ``Send(datagram[, bytes], hostname, port)``; returns the bytes sent.

        ``bytes`` is how many bytes of ``datagram`` to send (all of them when left out).  Raises
        ``ObjectDisposedException``; ``ArgumentNullException`` (``dgram``); ``InvalidOperationException``
        for an endpoint on a connected client, or for no endpoint on an unconnected one;
        ``ArgumentOutOfRangeException`` (``size``, as .NET's Socket names ``bytes``); ``SocketException``
        for the send's error.
        """
        if len(args) == 3 and not kwargs and not self._active and not self._disposed:
            datagram, nbytes, peer = args
            if type(datagram) is bytes and type(nbytes) is int and nbytes == len(datagram) and type(peer) is IPEndPoint:
                # Send(dgram, dgram.Length, endPoint), the usual datagram send: to the socket's short path.
                self._check_broadcast(peer.Address)
                return self._client().SendTo(datagram, peer)
        datagram, nbytes, peer, host = self._send_shape(args, kwargs)
        sock = self._client()
        if host is not None:
            peer = self._endpoint(*host)
        if datagram is None:
            raise ArgumentNullException("dgram")
        if peer is _NO_PEER:
            if not self._active:
                raise InvalidOperationException(_NOT_CONNECTED)
            peer = None
        elif peer is not None and self._active:
            raise InvalidOperationException(_CONNECTED)
        # .NET leaves ``bytes`` to Socket.Send, which calls it ``size``.
        view = self._datagram(datagram, nbytes, "dgram", "size")
        if peer is None:
            return sock.Send(view)
        self._check_broadcast(peer.Address)
        return sock.SendTo(view, peer)

    @overload
    def BeginSend(
        self, datagram: BytesLike, bytes: int, request_callback: AsyncCallback | None, state: Any
    ) -> IAsyncResult: ...
    @overload
    def BeginSend(
        self,
        datagram: BytesLike,
        bytes: int,
        end_point: IPEndPoint | None,
        request_callback: AsyncCallback | None,
        state: Any,
    ) -> IAsyncResult: ...
    @overload
    def BeginSend(
        self,
        datagram: BytesLike,
        bytes: int,
        hostname: str | None,
        port: int,
        request_callback: AsyncCallback | None,
        state: Any,
    ) -> IAsyncResult: ...

    def BeginSend(self, *args: Any, **kwargs: Any) -> IAsyncResult:
        """``BeginSend(datagram, bytes[, end_point | hostname, port], callback, state)``; finish with ``EndSend``.

        Argument errors raise here (``ArgumentNullException`` ``datagram``,
        ``ArgumentOutOfRangeException`` ``bytes``, ``InvalidOperationException`` for an endpoint on
        a connected client); the send's errors from ``EndSend``.
        """
        callback = kwargs.pop("request_callback", kwargs.pop("callback", None))
        state = kwargs.pop("state", None)
        lead = list(args)
        if len(lead) >= 4:
            # Every .NET form passes (callback, state) last: (datagram, bytes[, end_point | hostname, port], cb, st).
            lead, callback, state = lead[:-2], lead[-2], lead[-1]
        elif len(lead) == 3 and not isinstance(lead[2], (IPEndPoint, str)):
            # (datagram, bytes, callback) with the state left out; None is "no callback" (or, the same
            # thing here, "no endpoint": the connected send).
            lead, callback = lead[:-1], lead[-1]
        datagram, nbytes, peer, host = self._send_shape(tuple(lead), kwargs)
        sock = self._client()
        view = self._datagram(datagram, nbytes, "datagram")
        if host is not None:
            peer = self._endpoint(*host)
        if peer is _NO_PEER or peer is None:
            return sock.BeginSend(view, 0, len(view), 0, callback, state)
        if self._active:
            raise InvalidOperationException(_CONNECTED)
        self._check_broadcast(peer.Address)
        return sock.BeginSendTo(view, 0, len(view), 0, peer, callback, state)

    def EndSend(self, async_result: IAsyncResult) -> int:
        """Wait for ``BeginSend``; the bytes sent.  Raises the send's ``SocketException``."""
        sock = self._client()
        return sock.EndSend(async_result) if self._active else sock.EndSendTo(async_result)

    @overload
    def SendAsync(
        self, datagram: BytesLike, /, cancellation_token: CancellationToken = ...
    ) -> Coroutine[Any, Any, int]: ...
    @overload
    def SendAsync(
        self, datagram: BytesLike, bytes: int, /, cancellation_token: CancellationToken = ...
    ) -> Coroutine[Any, Any, int]: ...
    @overload
    def SendAsync(
        self, datagram: BytesLike, end_point: IPEndPoint | None, /, cancellation_token: CancellationToken = ...
    ) -> Coroutine[Any, Any, int]: ...
    @overload
    def SendAsync(
        self,
        datagram: BytesLike,
        bytes: int,
        end_point: IPEndPoint | None,
        /,
        cancellation_token: CancellationToken = ...,
    ) -> Coroutine[Any, Any, int]: ...
    @overload
    def SendAsync(
        self, datagram: BytesLike, hostname: str | None, port: int, /, cancellation_token: CancellationToken = ...
    ) -> Coroutine[Any, Any, int]: ...
    @overload
    def SendAsync(
        self,
        datagram: BytesLike,
        bytes: int,
        hostname: str | None,
        port: int,
        /,
        cancellation_token: CancellationToken = ...,
    ) -> Coroutine[Any, Any, int]: ...

    def SendAsync(self, *args: Any, **kwargs: Any) -> Coroutine[Any, Any, int]:
        """``await SendAsync(datagram[, bytes][, end_point | hostname, port][, cancellation_token])`` -> bytes sent.

        Argument errors raise from the call, as from ``Send`` (``ObjectDisposedException``,
        ``ArgumentNullException``, ``ArgumentOutOfRangeException``, ``InvalidOperationException``);
        the send's ``SocketException`` from the await, and ``OperationCanceledException`` for a
        cancelled token.
        """
        args, token = split_token(args, kwargs)
        datagram, nbytes, peer, host = self._send_shape(args, kwargs)
        sock = self._client()
        view = self._datagram(datagram, nbytes, "datagram")
        if host is not None:
            peer = self._endpoint(*host)
        if peer is _NO_PEER or peer is None:
            pending = sock.SendAsync(view, 0)
        else:
            if self._active:
                raise InvalidOperationException(_CONNECTED)
            self._check_broadcast(peer.Address)
            pending = sock.SendToAsync(view, 0, peer)
        return await_cancellable(pending, token)

    # -- receiving --------------------------------------------------------------------------------

    def Receive(self, remote_ep: IPEndPoint | None = None) -> tuple[bytes, IPEndPoint]:
        """Wait for a datagram: ``(bytes, sender)``, the Python shape of C#'s ``Receive(ref remoteEP)``.

        ``remote_ep`` is accepted for the port's sake and ignored, as .NET ignores its value.  Raises
        ``ObjectDisposedException`` and the receive's ``SocketException`` (``TimedOut`` after the
        socket's ``ReceiveTimeout``).
        """
        sock = self._client()
        buffer = self._buffer()
        n, sender = sock.ReceiveFrom(buffer, _any(self._family))
        return _received(buffer, n, self._spares), sender  # type: ignore[return-value]

    def _buffer(self) -> bytearray:
        """A buffer for the largest datagram: a spare one the client keeps (.NET keeps one per
        client, and makes only the returned datagram's array per receive), or a new one while
        the spares are in use by other receives (a 64 KiB bytearray costs its zeroing)."""
        try:
            return self._spares.pop()  # (atomic: two threads never get the same one)
        except IndexError:
            return bytearray(_MAX_UDP)

    def BeginReceive(self, callback: AsyncCallback | None = None, state: Any = None) -> IAsyncResult:
        """Start receiving a datagram; ``EndReceive`` gives ``(bytes, sender)``."""
        sock = self._client()
        buffer = self._buffer()
        return sock.BeginReceiveFrom(buffer, 0, _MAX_UDP, 0, _any(self._family), callback, state)

    def EndReceive(self, async_result: IAsyncResult, remote_ep: IPEndPoint | None = None) -> tuple[bytes, IPEndPoint]:
        """Wait for ``BeginReceive``'s datagram: ``(bytes, sender)`` (C#'s ``ref remoteEP`` comes back).

        Raises ``ObjectDisposedException``, and what ``Socket.EndReceiveFrom`` raises
        (``ArgumentNullException``/``ArgumentException`` ``asyncResult``, the receive's ``SocketException``).
        """
        n, sender = self._client().EndReceiveFrom(async_result)
        # EndReceiveFrom accepted it, so it is the receive-from operation BeginReceive started, with its buffer.
        view: memoryview = async_result.buf  # type: ignore[attr-defined]
        return _received(view.obj, n, self._spares), sender  # type: ignore[arg-type,return-value]

    def ReceiveAsync(
        self, cancellation_token: CancellationToken = CancellationToken.None_
    ) -> Coroutine[Any, Any, UdpReceiveResult]:
        """``await ReceiveAsync([cancellation_token]) -> UdpReceiveResult``.

        A cancelled token ends it with ``OperationCanceledException`` and takes no datagram: the next
        receive gets it.
        """
        sock = self._client()
        buffer = self._buffer()
        pending = sock.ReceiveFromAsync(buffer, 0, _any(self._family))
        return _as_result(await_cancellable(pending, cancellation_token), buffer, self._spares)

    # -- multicast --------------------------------------------------------------------------------

    @overload
    def JoinMulticastGroup(self, multicast_addr: IPAddress, /) -> None: ...
    @overload
    def JoinMulticastGroup(self, ifindex: int, multicast_addr: IPAddress, /) -> None: ...
    @overload
    def JoinMulticastGroup(self, multicast_addr: IPAddress, time_to_live: int, /) -> None: ...
    @overload
    def JoinMulticastGroup(self, multicast_addr: IPAddress, local_address: IPAddress, /) -> None: ...

    def JoinMulticastGroup(self, *args: Any) -> None:
        """``JoinMulticastGroup(multicast_addr)``, ``(ifindex, multicast_addr)`` (IPv6),
        ``(multicast_addr, time_to_live)`` or ``(multicast_addr, local_address)`` (IPv4).

        Raises ``ObjectDisposedException``; ``ArgumentNullException`` (``multicastAddr``);
        ``ArgumentException`` (``multicastAddr``) for a group of the other family;
        ``ArgumentOutOfRangeException`` (``ifindex`` below 0, ``timeToLive`` outside 0..255);
        ``SocketException`` ``OperationNotSupported`` for an interface form of the other family.
        """
        if len(args) == 2 and isinstance(args[0], int) and not isinstance(args[0], IPAddress):
            self._join_v6(args[0], args[1])
        elif len(args) == 2 and (args[1] is None or isinstance(args[1], IPAddress)):
            self._join_local(args[0], args[1])
        elif len(args) == 2:
            self._join_ttl(args[0], args[1])
        elif len(args) == 1:
            self._membership(SocketOptionName.AddMembership, args[0])
        else:
            raise TypeError("JoinMulticastGroup() takes 1 or 2 arguments")

    def _membership(self, name: SocketOptionName, group: Any) -> None:
        sock = self._client()
        if group is None:
            raise ArgumentNullException("multicastAddr")
        if not isinstance(group, IPAddress) or group.AddressFamily != self._family:
            raise ArgumentException(_BAD_MULTICAST_FAMILY, "multicastAddr")
        if self._family == AddressFamily.InterNetwork:
            sock.SetSocketOption(SocketOptionLevel.IP, name, MulticastOption(group))
        else:
            sock.SetSocketOption(SocketOptionLevel.IPv6, name, IPv6MulticastOption(group))

    def _join_local(self, group: Any, local: Any) -> None:
        sock = self._client()
        if self._family != AddressFamily.InterNetwork:
            raise SocketException(SocketError.OperationNotSupported)
        if group is None:
            raise ArgumentNullException("group")
        if local is None:
            raise ArgumentNullException("mcint")
        sock.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.AddMembership, MulticastOption(group, local))

    def _interface_index(self, group: Any, ifindex: Any) -> int:
        self._client()
        if group is None:
            raise ArgumentNullException("multicastAddr")
        index = as_int(ifindex, "ifindex")
        if index < 0:
            raise ArgumentOutOfRangeException("ifindex", index)
        if self._family != AddressFamily.InterNetworkV6:
            raise SocketException(SocketError.OperationNotSupported)
        return index

    def _join_v6(self, ifindex: Any, group: Any) -> None:
        index = self._interface_index(group, ifindex)
        self._client().SetSocketOption(
            SocketOptionLevel.IPv6, SocketOptionName.AddMembership, IPv6MulticastOption(group, index)
        )

    def _join_ttl(self, group: Any, ttl: Any) -> None:
        self._client()
        if group is None:
            raise ArgumentNullException("multicastAddr")
        value = as_int(ttl, "timeToLive")
        if not 0 <= value <= 255:
            raise ArgumentOutOfRangeException("timeToLive", value)
        self._membership(SocketOptionName.AddMembership, group)
        level = SocketOptionLevel.IP if self._family == AddressFamily.InterNetwork else SocketOptionLevel.IPv6
        self._client().SetSocketOption(level, SocketOptionName.MulticastTimeToLive, value)

    @overload
    def DropMulticastGroup(self, multicast_addr: IPAddress, /) -> None: ...
    @overload
    def DropMulticastGroup(self, multicast_addr: IPAddress, ifindex: int, /) -> None: ...

    def DropMulticastGroup(self, *args: Any) -> None:
        """``DropMulticastGroup(multicast_addr)`` or ``(multicast_addr, ifindex)`` (IPv6): leave a group.

        Raises as ``JoinMulticastGroup`` does, and ``SocketException`` for a group never joined.
        """
        if len(args) == 2:
            index = self._interface_index(args[0], args[1])
            self._client().SetSocketOption(
                SocketOptionLevel.IPv6, SocketOptionName.DropMembership, IPv6MulticastOption(args[0], index)
            )
        elif len(args) == 1:
            self._membership(SocketOptionName.DropMembership, args[0])
        else:
            raise TypeError("DropMulticastGroup() takes 1 or 2 arguments")

    # -- closing ----------------------------------------------------------------------------------

    def Close(self) -> None:
        """``Dispose()``."""
        self.Dispose()

    def Dispose(self) -> None:
        """Shut the socket down and close it; pending receives end aborted.  Twice does nothing."""
        if self._disposed:
            return
        self._disposed = True
        sock, self._sock = self._sock, None
        if sock is not None:
            close_socket(sock)

    def __enter__(self) -> UdpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.Dispose()

    def __repr__(self) -> str:
        return f"<UdpClient Client={self._sock!r} Active={self._active}>"

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    client = Client
    active = Active
    available = Available
    ttl = Ttl
    dont_fragment = DontFragment
    multicast_loopback = MulticastLoopback
    enable_broadcast = EnableBroadcast
    exclusive_address_use = ExclusiveAddressUse
    allow_nat_traversal = AllowNatTraversal
    connect = Connect
    send = Send
    begin_send = BeginSend
    end_send = EndSend
    send_async = SendAsync
    receive = Receive
    begin_receive = BeginReceive
    end_receive = EndReceive
    receive_async = ReceiveAsync
    join_multicast_group = JoinMulticastGroup
    drop_multicast_group = DropMulticastGroup
    close = Close
    dispose = Dispose
    # -- end of PEP 8 spellings --


def _received(buffer: bytearray, n: int, spares: list[bytearray]) -> bytes:
    """The datagram's ``n`` bytes from a finished receive's ``buffer``, which becomes a spare again.

    Only a receive that finished gives its buffer back (nothing writes to it any more); a failed
    or cancelled one leaves it to the collector.  A few spares serve receives that overlap.
    """
    data = bytes(memoryview(buffer)[:n])
    if len(spares) < _SPARES:
        spares.append(buffer)
    return data


async def _as_result(
    pending: Coroutine[Any, Any, SocketReceiveFromResult], buffer: bytearray, spares: list[bytearray]
) -> UdpReceiveResult:
    n, sender = await pending
    return UdpReceiveResult(_received(buffer, n, spares), sender)  # type: ignore[arg-type]
