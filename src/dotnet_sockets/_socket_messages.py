"""``ReceiveMessageFrom`` (with the packet information) and the .NET 8 ``SocketAddress`` receive.

``ReceiveMessageFrom`` is ``recvmsg`` with ``IP_PKTINFO``/``IPV6_RECVPKTINFO``
turned on the first time it is used, as .NET does on Linux: besides the
sender it reports the address the datagram was sent to and the interface it
came in on (``IPPacketInformation``), and the flags the kernel returned
(``Truncated`` when the datagram did not fit).
"""

from __future__ import annotations

import socket as _socket
import sys
from logging import DEBUG
from typing import TYPE_CHECKING, Any, overload

from . import _platform
from ._checks import buffer_list, check_received_address
from ._engine import ops
from ._names import dotnet_names
from ._socket_core import _MISSING, SocketCore, _audit, _isEnabledFor, _recv_flags, _set_flags, _SocketOpError
from .addresses import EndPoint, IPAddress
from .asyncresult import AsyncCallback, IAsyncResult
from .enums import AddressFamily, SocketFlags
from .exceptions import ArgumentException, ArgumentNullException
from .results import IPPacketInformation, SocketReceiveMessageFromResult
from .security import audit as _audit_op
from .security import denied as _denied
from .socketaddress import SocketAddress
from .telemetry import DATAGRAM as _DGRAM
from .telemetry import tls as _tel
from .tracing import trace_exit

if TYPE_CHECKING:
    pass

__all__ = ["SocketMessages", "receive_from_address", "new_receive_from_address", "try_send_to_address"]

_IP_PKTINFO = _platform.IP_PKTINFO
_IPV6_RECVPKTINFO: int = getattr(_socket, "IPV6_RECVPKTINFO", 49)
_IPV6_PKTINFO: int = getattr(_socket, "IPV6_PKTINFO", 50)
# Room for both kinds: a dual-mode socket gets an in_pktinfo and an in6_pktinfo for an IPv4 datagram.
_ANC_SPACE = _socket.CMSG_SPACE(12) + _socket.CMSG_SPACE(20)
_NO_PACKET_INFO = IPPacketInformation()
_FLAG_TYPES = (int, SocketFlags)
_BYTES = (bytes, bytearray)
# sizeof(sockaddr_in), sizeof(sockaddr_in6) by the socket's tuple length; other families take the long way.
_FULL_SIZE = {2: 16, 4: 28}
_NEVER = 1 << 30
_FLAGS_CACHE: dict[int, SocketFlags] = {}


_INFO_CACHE: dict[bytes, IPPacketInformation] = {}


def _packet_information(ancdata: list[tuple[int, int, bytes]], ipv4: bool) -> IPPacketInformation:
    """The ``in_pktinfo`` (IPv4 sender) or ``in6_pktinfo`` of a ``recvmsg``, as .NET reads them:
    the header's destination address and the interface index."""
    for level, kind, data in ancdata:
        if ipv4 and level == _socket.IPPROTO_IP and kind == _IP_PKTINFO and len(data) >= 12:
            # struct in_pktinfo { int ipi_ifindex; in_addr ipi_spec_dst; in_addr ipi_addr; }
            key = bytes(data[0:4]) + bytes(data[8:12])
        elif not ipv4 and level == _socket.IPPROTO_IPV6 and kind == _IPV6_PKTINFO and len(data) >= 20:
            # struct in6_pktinfo { in6_addr ipi6_addr; unsigned ipi6_ifindex; }
            key = bytes(data[16:20]) + bytes(data[0:16])
        else:
            continue
        # A receiver sees few destinations: the (immutable) result is kept, as addresses.py keeps peers.
        info = _INFO_CACHE.get(key)
        if info is None:
            info = IPPacketInformation(IPAddress(key[4:]), int.from_bytes(key[0:4], sys.byteorder))
            if len(_INFO_CACHE) >= 512:
                _INFO_CACHE.clear()
            _INFO_CACHE[key] = info
        return info
    return _NO_PACKET_INFO


def _ipv4_sender(sockaddr: Any) -> bool:
    """An IPv4 sender, also when a dual-mode socket reports it IPv4-mapped (.NET's isIPv4)."""
    if not isinstance(sockaddr, tuple):
        return False
    return len(sockaddr) == 2 or (sockaddr[0].startswith("::ffff:") and "." in sockaddr[0])


@dotnet_names
class SocketMessages(SocketCore):
    """``ReceiveMessageFrom``, ``BeginReceiveMessageFrom``, ``EndReceiveMessageFrom``."""

    __slots__ = ()

    def _receive_packet_information(self) -> None:
        """.NET's SetReceivingPacketInformation: ask once for the control messages, per family."""
        if self._pktinfo:
            return
        self._pktinfo = True
        sock = self._sock
        try:
            if self._af == AddressFamily.InterNetwork:
                sock.setsockopt(_socket.IPPROTO_IP, _IP_PKTINFO, 1)
            elif self._af == AddressFamily.InterNetworkV6:
                sock.setsockopt(_socket.IPPROTO_IPV6, _IPV6_RECVPKTINFO, 1)
                if self._dual:
                    sock.setsockopt(_socket.IPPROTO_IP, _IP_PKTINFO, 1)
        except OSError:
            pass  # not an IP datagram socket: the receive still works, without packet information

    def _new_receive_message_from(
        self, buffer: Any, args: tuple[Any, ...], kwargs: dict[str, Any], callback: Any, state: Any
    ) -> Any:
        """The checks and the operation of every ReceiveMessageFrom form (the endpoint goes to ``extra``)."""
        bufs: list[memoryview]
        if isinstance(buffer, list):
            # SocketAsyncEventArgs.BufferList: scatter into the segments.
            bufs = buffer_list(buffer, True)
            flags = kwargs.pop("socket_flags", args[0] if len(args) > 1 else 0)
            ep = kwargs.pop("remote_ep", args[-1] if args else _MISSING)
        else:
            if buffer is None:
                raise ArgumentNullException("buffer")
            offset, size, flags, ep, buffer = self._split_overload(buffer, args, True, kwargs)
            bufs = [memoryview(self._buffer_range(buffer, offset, size, True))]
        self._check_receive_ep(ep, "remoteEP")
        self._receive_packet_information()
        op = ops.ReceiveMessageFromOp(self._io, callback, state)
        op.bufs = bufs
        op.ancsize = _ANC_SPACE
        op.extra = ep
        _set_flags(op, flags, _recv_flags)
        return op

    def _message_result(self, op: Any) -> SocketReceiveMessageFromResult:
        n, ancdata, msg_flags, sa = op._value
        flags = _FLAGS_CACHE.get(msg_flags)
        if flags is None:
            flags = _FLAGS_CACHE[msg_flags] = SocketFlags(_platform.from_platform_message_flags(msg_flags))
        return SocketReceiveMessageFromResult(
            n,
            flags,
            self._endpoint_from(sa, op.extra),
            _packet_information(ancdata, _ipv4_sender(sa)),
        )

    @overload
    def ReceiveMessageFrom(
        self, buffer: Any, offset: int, size: int, socket_flags: SocketFlags | int, remote_ep: EndPoint
    ) -> SocketReceiveMessageFromResult: ...
    @overload
    def ReceiveMessageFrom(
        self, buffer: Any, socket_flags: SocketFlags | int, remote_ep: EndPoint
    ) -> SocketReceiveMessageFromResult: ...

    def ReceiveMessageFrom(self, buffer: Any, *args: Any, **kwargs: Any) -> SocketReceiveMessageFromResult:
        """``ReceiveMessageFrom(buffer[, offset, size], socket_flags, remote_ep)``: one datagram and where it went.

        Returns ``(received_bytes, socket_flags, remote_end_point, packet_information)``,
        .NET's return value and its ``ref``/``out`` arguments.  Checks, in .NET's order:
        disposed, ``buffer``, ``offset``, ``size``, ``remoteEP`` (not None, not a
        ``DnsEndPoint``, of the socket's family), then the socket must be bound
        (``InvalidOperationException``).  Errors of the receive raise ``SocketException``.
        """
        self._throw_if_disposed()
        op = self._new_receive_message_from(buffer, args, kwargs, None, None)
        _audit_op("dotnet_sockets.Socket.ReceiveMessageFrom", self, op.extra)
        self._start_read(op, self._rcv_timeout)
        return self._message_result(op)

    def BeginReceiveMessageFrom(
        self,
        buffer: Any,
        offset: int,
        size: int,
        socket_flags: SocketFlags | int,
        remote_ep: EndPoint,
        callback: AsyncCallback | None = None,
        state: Any = None,
    ) -> IAsyncResult:
        """Start a ``ReceiveMessageFrom``; ``EndReceiveMessageFrom`` returns what it returns.

        Argument errors raise here, as ``ReceiveMessageFrom``'s do; errors of the
        receive are raised by ``EndReceiveMessageFrom``.
        """
        self._throw_if_disposed()
        op = self._new_receive_message_from(buffer, (offset, size, socket_flags, remote_ep), {}, callback, state)
        return self._begin(op, "BeginReceiveMessageFrom", write=False)

    def EndReceiveMessageFrom(
        self, async_result: IAsyncResult, socket_flags: Any = _MISSING, end_point: Any = _MISSING
    ) -> SocketReceiveMessageFromResult:
        """``(received_bytes, socket_flags, remote_end_point, packet_information)`` of the receive.

        ``socket_flags`` and ``end_point`` stand for .NET's ``ref`` arguments and may be
        left out; an ``end_point`` given must not be None and must be of the socket's
        family (``ArgumentNullException``/``ArgumentException`` "endPoint").
        """
        if end_point is not _MISSING:
            if end_point is None:
                raise ArgumentNullException("endPoint")
            if not isinstance(end_point, EndPoint):
                raise ArgumentException(f"Expected an EndPoint, not {type(end_point).__name__}.", "endPoint")
            self._check_family(end_point, "endPoint")
        op = self._end(async_result, "EndReceiveMessageFrom")
        result = self._message_result(op)
        if _isEnabledFor(DEBUG):
            trace_exit("EndReceiveMessageFrom", self, result)
        return result

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    receive_message_from = ReceiveMessageFrom
    begin_receive_message_from = BeginReceiveMessageFrom
    end_receive_message_from = EndReceiveMessageFrom
    # -- end of PEP 8 spellings --


def new_receive_from_address(
    sock: SocketCore, buffer: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[Any, SocketAddress]:
    """The checks and operation of ``ReceiveFrom(buffer, socket_flags, received_address)`` (.NET 8).

    Unlike the endpoint forms the socket need not be bound, as in .NET.
    """
    sock._throw_if_disposed()
    address = kwargs.pop("received_address", _MISSING)
    flags = kwargs.pop("socket_flags", _MISSING)
    if kwargs:
        raise TypeError(f"unexpected keyword arguments {sorted(kwargs)}")
    rest = list(args)
    if address is _MISSING:
        address = rest.pop() if rest else None
    if flags is _MISSING:
        flags = rest.pop() if rest else 0
    if rest:
        raise TypeError("ReceiveFrom(buffer, socket_flags, received_address) takes 3 arguments")
    if buffer is None:
        raise ArgumentNullException("buffer")
    view = memoryview(sock._buffer_range(buffer, _MISSING, _MISSING, True))
    received = check_received_address(address, sock._af)
    # (0 bytes waits for data, taking none: see ops.ReceiveFromZeroOp)
    op = (ops.ReceiveFromOp if view.nbytes else ops.ReceiveFromZeroOp)(sock._io, None, None)
    op.buf = view
    op.extra = None
    _set_flags(op, flags, _recv_flags)
    return op, received


def store_sender(sock: SocketCore, received: SocketAddress, sockaddr: Any) -> None:
    """Write the sender into ``received`` (``Size`` 0 when the kernel named none, as on a stream)."""
    if sockaddr is None or sockaddr == "" or sockaddr == b"":
        received.Size = 0
        return
    received._store(sock._pf, sockaddr)


def receive_from_address(sock: SocketCore, buffer: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
    """``ReceiveFrom(buffer, socket_flags, received_address) -> bytes``: the sender goes into the ``SocketAddress``."""
    if (
        len(args) == 2
        and not kwargs
        and type(buffer) is bytearray
        and buffer  # (0 bytes waits for data: the path below)
        and type(args[0]) in _FLAG_TYPES
        and not args[0]
        and type(args[1]) is SocketAddress
        and args[1]._size >= _FULL_SIZE.get(sock._alen, _NEVER)  # the family's whole address fits
        and not sock._disposed
        and sock._dgram
        and not sock._io.rq
        and not _isEnabledFor(DEBUG)
    ):
        # The receive loop this overload exists for, kept short: a datagram already waiting is
        # taken at once; anything else (would block, an odd argument) takes the path below.
        try:
            _audit("dotnet_sockets.Socket.ReceiveFrom", sock, None)
        except PermissionError as exc:
            raise _denied(exc) from exc
        audited = True
        io = sock._io  # (a hook may have closed the socket, or queued a receive)
        if not io.rq and not io.closed:
            try:
                n, sa = io.sock.recvfrom_into(buffer)
            except BlockingIOError:
                pass
            except OSError as exc:
                raise sock._sync_failed(exc) from None
            else:
                _tel.c.received += n + _DGRAM
                args[1]._store(sock._pf, sa)
                return int(n)
    else:
        audited = False
    op, received = new_receive_from_address(sock, buffer, args, kwargs)
    if not audited:  # (a would-block of the short path above goes on as its operation: one audit)
        _audit_op("dotnet_sockets.Socket.ReceiveFrom", sock, None)
    n, sa = sock._start_read(op, sock._rcv_timeout)
    store_sender(sock, received, sa)
    return int(n)


def try_send_to_address(sock: SocketCore, buffer: Any, flags: Any, address: SocketAddress) -> int | None:
    """``SendTo(buffer, socket_flags, socket_address)`` in its steady state: bytes sent, or None.

    None (nothing sent, nothing checked) sends the call down ``SendTo``'s general path, which
    makes every check and reports every error the other forms do.
    """
    if (
        type(buffer) not in _BYTES
        or type(flags) not in _FLAG_TYPES
        or flags
        or sock._disposed
        or not sock._dgram
        or sock._right_ep is None
        or sock._io.wq
        or _isEnabledFor(DEBUG)
    ):
        return None
    addr = address._sockaddr_for(sock._pf, sock._dual)
    if type(addr) is not tuple:
        return None
    try:
        _audit("dotnet_sockets.Socket.SendTo", sock, address)
    except PermissionError as exc:
        raise _denied(exc) from exc
    try:
        n: int = sock._sock.sendto(buffer, addr)
    except BlockingIOError:
        return None
    except OSError as exc:
        raise sock._failed(_SocketOpError(exc)) from None
    _tel.c.sent += n + _DGRAM
    return n
