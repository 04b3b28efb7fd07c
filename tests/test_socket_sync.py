"""The synchronous surface of ``Socket``: every member, every bad input, on the one engine.

Cases follow dotnet/runtime's ArgumentValidationTests.cs, DisposedSocketTests.cs,
DisconnectTest.cs, DualModeSocketTest.cs and UnixDomainSocketTest.cs, with the
decisions of the contract where .NET versions disagree.
"""

from __future__ import annotations

import datetime
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import FAMILIES, HAS_IPV6, WAIT, loopback
from dotnet_sockets import (
    AddressFamily,
    ArgumentException,
    ArgumentNullException,
    ArgumentOutOfRangeException,
    InvalidOperationException,
    IPAddress,
    IPEndPoint,
    IPv6MulticastOption,
    LingerOption,
    MulticastOption,
    NotSupportedException,
    ObjectDisposedException,
    ProtocolType,
    SelectMode,
    Socket,
    SocketError,
    SocketException,
    SocketOptionLevel,
    SocketOptionName,
    SocketShutdown,
    SocketType,
    UnixDomainSocketEndPoint,
)
from socket_helpers import WAIT_US, Made, peer_reset, pending, receive_exactly, refused_endpoint

needs_ipv6 = pytest.mark.skipif(not HAS_IPV6, reason="no IPv6 loopback on this machine")


@pytest.fixture
def make_socket() -> Iterator[Made]:
    made = Made()
    yield made
    made.dispose_all()


# -- every member on a disposed socket (DisposedSocketTests.cs) ------------------------------------

EP = IPEndPoint(IPAddress.Loopback, 1)
BUF = bytearray(1)

DISPOSED: list[tuple[str, Callable[[Socket], Any]]] = [
    ("Available", lambda s: s.Available),
    ("LocalEndPoint", lambda s: s.LocalEndPoint),
    ("RemoteEndPoint", lambda s: s.RemoteEndPoint),
    ("Blocking=", lambda s: setattr(s, "Blocking", True)),
    ("ExclusiveAddressUse", lambda s: s.ExclusiveAddressUse),
    ("ExclusiveAddressUse=", lambda s: setattr(s, "ExclusiveAddressUse", True)),
    ("ReceiveBufferSize", lambda s: s.ReceiveBufferSize),
    ("ReceiveBufferSize=", lambda s: setattr(s, "ReceiveBufferSize", 1)),
    ("SendBufferSize", lambda s: s.SendBufferSize),
    ("SendBufferSize=", lambda s: setattr(s, "SendBufferSize", 1)),
    ("ReceiveTimeout", lambda s: s.ReceiveTimeout),
    ("ReceiveTimeout=", lambda s: setattr(s, "ReceiveTimeout", 1)),
    ("SendTimeout", lambda s: s.SendTimeout),
    ("SendTimeout=", lambda s: setattr(s, "SendTimeout", 1)),
    ("LingerState", lambda s: s.LingerState),
    ("LingerState=", lambda s: setattr(s, "LingerState", LingerOption(True, 1))),
    ("NoDelay", lambda s: s.NoDelay),
    ("NoDelay=", lambda s: setattr(s, "NoDelay", True)),
    ("Ttl", lambda s: s.Ttl),
    ("Ttl=", lambda s: setattr(s, "Ttl", 1)),
    ("DontFragment", lambda s: s.DontFragment),
    ("DontFragment=", lambda s: setattr(s, "DontFragment", True)),
    ("MulticastLoopback", lambda s: s.MulticastLoopback),
    ("MulticastLoopback=", lambda s: setattr(s, "MulticastLoopback", True)),
    ("EnableBroadcast", lambda s: s.EnableBroadcast),
    ("EnableBroadcast=", lambda s: setattr(s, "EnableBroadcast", True)),
    ("Bind", lambda s: s.Bind(IPEndPoint(IPAddress.Loopback, 0))),
    ("Connect(ep)", lambda s: s.Connect(EP)),
    ("Connect(address, port)", lambda s: s.Connect(IPAddress.Loopback, 1)),
    ("Connect(host, port)", lambda s: s.Connect("localhost", 1)),
    ("Connect(addresses, port)", lambda s: s.Connect([IPAddress.Loopback], 1)),
    ("Listen()", lambda s: s.Listen()),
    ("Listen(1)", lambda s: s.Listen(1)),
    ("Accept", lambda s: s.Accept()),
    ("Send(buffer, size, flags)", lambda s: s.Send(BUF, 1, 0)),
    ("Send(buffer, flags)", lambda s: s.Send(BUF, 0)),
    ("Send(buffer)", lambda s: s.Send(BUF)),
    ("Send(buffer, offset, size, flags)", lambda s: s.Send(BUF, 0, 1, 0)),
    ("Send(buffers)", lambda s: s.Send([BUF])),
    ("Send(buffers, flags)", lambda s: s.Send([BUF], 0)),
    ("SendTo(buffer, offset, size, flags, ep)", lambda s: s.SendTo(BUF, 0, 1, 0, EP)),
    ("SendTo(buffer, size, flags, ep)", lambda s: s.SendTo(BUF, 1, 0, EP)),
    ("SendTo(buffer, flags, ep)", lambda s: s.SendTo(BUF, 0, EP)),
    ("SendTo(buffer, ep)", lambda s: s.SendTo(BUF, EP)),
    ("Receive(buffer, size, flags)", lambda s: s.Receive(BUF, 1, 0)),
    ("Receive(buffer, flags)", lambda s: s.Receive(BUF, 0)),
    ("Receive(buffer)", lambda s: s.Receive(BUF)),
    ("Receive(buffer, offset, size, flags)", lambda s: s.Receive(BUF, 0, 1, 0)),
    ("Receive(buffers)", lambda s: s.Receive([BUF])),
    ("Receive(buffers, flags)", lambda s: s.Receive([BUF], 0)),
    ("ReceiveFrom(buffer, offset, size, flags, ep)", lambda s: s.ReceiveFrom(BUF, 0, 1, 0, EP)),
    ("ReceiveFrom(buffer, size, flags, ep)", lambda s: s.ReceiveFrom(BUF, 1, 0, EP)),
    ("ReceiveFrom(buffer, flags, ep)", lambda s: s.ReceiveFrom(BUF, 0, EP)),
    ("ReceiveFrom(buffer, ep)", lambda s: s.ReceiveFrom(BUF, EP)),
    ("Shutdown", lambda s: s.Shutdown(SocketShutdown.Both)),
    ("Disconnect", lambda s: s.Disconnect(False)),
    ("SetSocketOption(int)", lambda s: s.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error, 0)),
    ("SetSocketOption(bytes)", lambda s: s.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error, b"x")),
    ("SetSocketOption(bool)", lambda s: s.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error, True)),
    (
        "SetSocketOption(object)",
        lambda s: s.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Linger, LingerOption(True, 1)),
    ),
    ("GetSocketOption(length)", lambda s: s.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error, 4)),
    ("GetSocketOption(object)", lambda s: s.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Linger)),
    ("Poll", lambda s: s.Poll(-1, SelectMode.SelectWrite)),
    ("Select", lambda s: Socket.Select([s], None, None, 0)),
]


@pytest.mark.parametrize(("member", "call"), DISPOSED, ids=[m for m, _ in DISPOSED])
def test_every_member_of_a_disposed_socket_raises_object_disposed(
    make_socket: Made, member: str, call: Callable[[Socket], Any]
) -> None:
    s = make_socket.tcp()
    s.Dispose()
    with pytest.raises(ObjectDisposedException):
        call(s)


@needs_ipv6
@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.Ttl,
        lambda s: setattr(s, "Ttl", 1),
        lambda s: s.MulticastLoopback,
        lambda s: setattr(s, "MulticastLoopback", True),
        lambda s: s.DualMode,
        lambda s: setattr(s, "DualMode", True),
    ],
    ids=["Ttl", "Ttl=", "MulticastLoopback", "MulticastLoopback=", "DualMode", "DualMode="],
)
def test_ipv6_members_of_a_disposed_socket_raise_object_disposed(
    make_socket: Made, call: Callable[[Socket], Any]
) -> None:
    s = make_socket(AddressFamily.InterNetworkV6, SocketType.Dgram)
    s.Close()
    with pytest.raises(ObjectDisposedException):
        call(s)


def test_close_and_dispose_twice_are_harmless(make_socket: Made) -> None:
    s = make_socket.tcp()
    s.Close()
    s.Close()
    s.Dispose()
    s.Close(0)
    assert not s.Connected


# -- bad input (ArgumentValidationTests.cs) -----------------------------------------------------------


def test_exclusive_address_use_of_a_bound_socket(make_socket: Made) -> None:
    s = make_socket.tcp()
    s.Bind(IPEndPoint(IPAddress.Loopback, 0))
    with pytest.raises(InvalidOperationException):
        s.ExclusiveAddressUse = True


@pytest.mark.parametrize("prop", ["ReceiveBufferSize", "SendBufferSize"])
def test_negative_buffer_sizes(make_socket: Made, prop: str) -> None:
    with pytest.raises(ArgumentOutOfRangeException) as ei:
        setattr(make_socket.tcp(), prop, -1)
    assert ei.value.ParamName == "value"


@pytest.mark.parametrize("prop", ["ReceiveTimeout", "SendTimeout"])
@pytest.mark.parametrize("value", [-2, -(2**31)])
def test_timeouts_below_minus_one(make_socket: Made, prop: str, value: int) -> None:
    with pytest.raises(ArgumentOutOfRangeException) as ei:
        setattr(make_socket.tcp(), prop, value)
    assert ei.value.ParamName == "value"


@pytest.mark.parametrize("prop", ["ReceiveTimeout", "SendTimeout"])
def test_timeouts_take_a_timedelta_as_the_porting_guide_says(make_socket: Made, prop: str) -> None:
    s = make_socket.tcp()
    setattr(s, prop, datetime.timedelta(seconds=1.5))
    assert getattr(s, prop) == 1500
    setattr(s, prop, datetime.timedelta(microseconds=2500))  # .NET truncates TotalMilliseconds
    assert getattr(s, prop) == 2
    with pytest.raises(ArgumentOutOfRangeException) as ei:
        setattr(s, prop, datetime.timedelta(milliseconds=-2))
    assert ei.value.ParamName == "value"


@pytest.mark.parametrize("value", [-1, 256])
def test_ttl_out_of_range(make_socket: Made, value: int) -> None:
    with pytest.raises(ArgumentOutOfRangeException):
        make_socket.tcp().Ttl = value


@needs_ipv6
def test_dont_fragment_is_ipv4_only(make_socket: Made) -> None:
    s = make_socket.tcp(AddressFamily.InterNetworkV6)
    with pytest.raises(NotSupportedException):
        _ = s.DontFragment
    with pytest.raises(NotSupportedException):
        s.DontFragment = True


def test_bind_null(make_socket: Made) -> None:
    with pytest.raises(ArgumentNullException) as ei:
        make_socket.tcp().Bind(None)  # type: ignore[arg-type]
    assert ei.value.ParamName == "localEP"


def test_connect_null_endpoint(make_socket: Made) -> None:
    with pytest.raises(ArgumentNullException) as ei:
        make_socket.tcp().Connect(None)
    assert ei.value.ParamName == "remoteEP"


@pytest.mark.parametrize(
    "args",
    [(EP,), (IPAddress.Loopback, 1), ("localhost", 1), ([IPAddress.Loopback], 1)],
    ids=["endpoint", "address", "host", "addresses"],
)
def test_connect_on_a_listening_socket(make_socket: Made, args: tuple[Any, ...]) -> None:
    with pytest.raises(InvalidOperationException):
        make_socket.listener().Connect(*args)


def test_connect_null_address(make_socket: Made) -> None:
    with pytest.raises(ArgumentNullException):
        make_socket.tcp().Connect(None, 1)


@pytest.mark.parametrize("target", [IPAddress.Loopback, "localhost", [IPAddress.Loopback]])
@pytest.mark.parametrize("port", [-1, 65536])
def test_connect_port_out_of_range(make_socket: Made, target: Any, port: int) -> None:
    with pytest.raises(ArgumentOutOfRangeException) as ei:
        make_socket.tcp().Connect(target, port)
    assert ei.value.ParamName == "port"


@needs_ipv6
def test_connect_address_of_the_wrong_family(make_socket: Made) -> None:
    with pytest.raises(NotSupportedException):
        make_socket.tcp().Connect(IPAddress.IPv6Loopback, 1)
    with pytest.raises(NotSupportedException):
        make_socket.tcp(AddressFamily.InterNetworkV6).Connect(IPAddress.Loopback, 1)


def test_connect_empty_address_list(make_socket: Made) -> None:
    with pytest.raises(ArgumentException) as ei:
        make_socket.tcp().Connect([], 1)
    assert ei.value.ParamName == "addresses"


@needs_ipv6
def test_connect_address_list_without_a_usable_address(make_socket: Made) -> None:
    with pytest.raises(ArgumentException) as ei:
        make_socket.tcp().Connect([IPAddress.IPv6Loopback], 1)
    assert ei.value.ParamName == "addresses"


def test_accept_not_bound_or_not_listening(make_socket: Made) -> None:
    s = make_socket.tcp()
    with pytest.raises(InvalidOperationException):
        s.Accept()
    s.Bind(IPEndPoint(IPAddress.Loopback, 0))
    with pytest.raises(InvalidOperationException):
        s.Accept()


@pytest.mark.parametrize("member", ["Send", "Receive"])
def test_send_receive_buffer_checks(make_socket: Made, member: str) -> None:
    s = make_socket.tcp()
    call = getattr(s, member)
    with pytest.raises(ArgumentNullException) as ei:
        call(None, 0, 0, 0)
    assert ei.value.ParamName == "buffer"
    for offset in (-1, 2):
        with pytest.raises(ArgumentOutOfRangeException) as ei2:
            call(bytearray(1), offset, 0, 0)
        assert ei2.value.ParamName == "offset"
    for offset, size in ((0, -1), (0, 2), (1, 1)):
        with pytest.raises(ArgumentOutOfRangeException) as ei3:
            call(bytearray(1), offset, size, 0)
        assert ei3.value.ParamName == "size"
    with pytest.raises(ArgumentException) as ei4:
        call([], 0)
    assert ei4.value.ParamName == "buffers"


def test_set_socket_option_bad_values(make_socket: Made) -> None:
    s = make_socket.tcp()
    with pytest.raises(ArgumentNullException):
        s.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Linger, None)
    bad: list[tuple[SocketOptionLevel, SocketOptionName, Any]] = [
        (SocketOptionLevel.Socket, SocketOptionName.Linger, object()),
        (SocketOptionLevel.Socket, SocketOptionName.Linger, LingerOption(True, -1)),
        (SocketOptionLevel.Socket, SocketOptionName.Linger, LingerOption(True, 65536)),
        (SocketOptionLevel.IP, SocketOptionName.AddMembership, object()),
        (SocketOptionLevel.IP, SocketOptionName.DropMembership, object()),
        (SocketOptionLevel.IPv6, SocketOptionName.AddMembership, object()),
        (SocketOptionLevel.IPv6, SocketOptionName.DropMembership, object()),
        (SocketOptionLevel.Tcp, SocketOptionName.NoDelay, object()),
    ]
    for level, name, value in bad:
        with pytest.raises(ArgumentException) as ei:
            s.SetSocketOption(level, name, value)
        assert ei.value.ParamName == "optionValue", (level, name, value)


def test_linger_state_bad_values(make_socket: Made) -> None:
    s = make_socket.tcp()
    with pytest.raises(ArgumentNullException):
        s.LingerState = None  # type: ignore[assignment]
    with pytest.raises(ArgumentException):
        s.LingerState = 5  # type: ignore[assignment]


def test_close_timeout_below_minus_one(make_socket: Made) -> None:
    s = make_socket.tcp()
    with pytest.raises(ArgumentOutOfRangeException) as ei:
        s.Close(-2)
    assert ei.value.ParamName == "timeout"
    assert s.Handle >= 0  # not closed by the bad call


def test_select_empty_lists(make_socket: Made) -> None:
    empty: list[Socket] = []
    for lists in [
        (None, None, None),
        (empty, None, None),
        (None, empty, None),
        (empty, empty, None),
        (None, None, empty),
        (empty, None, empty),
        (None, empty, empty),
        (empty, empty, empty),
    ]:
        with pytest.raises(ArgumentNullException):
            Socket.Select(*lists, -1)


@pytest.mark.parametrize(("position", "name"), [(0, "checkRead"), (1, "checkWrite"), (2, "checkError")])
def test_select_list_too_large(make_socket: Made, position: int, name: str) -> None:
    s = make_socket()
    lists: list[Any] = [None, None, None]
    lists[position] = [s] * 65537
    with pytest.raises(ArgumentOutOfRangeException) as ei:
        Socket.Select(*lists, 0)
    assert ei.value.ParamName == name


def test_select_and_poll_bad_arguments(make_socket: Made) -> None:
    s = make_socket()
    with pytest.raises(ArgumentException):
        Socket.Select(s, None, None, 0)  # type: ignore[arg-type]
    with pytest.raises(ArgumentException):
        Socket.Select([object()], None, None, 0)  # type: ignore[list-item]
    with pytest.raises(ArgumentException):
        s.Poll(0, 7)  # type: ignore[arg-type]
    with pytest.raises(ArgumentOutOfRangeException):
        s.Poll(2**40, SelectMode.SelectRead)


# -- Connect -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("af", FAMILIES)
def test_connect_forms_set_the_connection_state(make_socket: Made, af: AddressFamily) -> None:
    lst = make_socket.listener(af)
    port = lst.LocalEndPoint.Port
    for args in [
        (lst.LocalEndPoint,),
        (loopback(af), port),
        (str(loopback(af)), port),
        ([loopback(af)], port),
    ]:
        c = make_socket.tcp(af)
        assert not c.Connected and c.RemoteEndPoint is None and c.LocalEndPoint is None
        c.Connect(*args)
        assert c.Connected
        assert c.RemoteEndPoint == lst.LocalEndPoint
        local = c.LocalEndPoint
        assert isinstance(local, IPEndPoint) and local.Address == loopback(af) and local.Port != 0
        a = lst.Accept()
        make_socket.track(a)
        assert a.Connected
        assert a.RemoteEndPoint == local
        assert a.LocalEndPoint == lst.LocalEndPoint
        c.Send(b"ping")
        assert receive_exactly(a, 4) == b"ping"


def test_connect_by_host_name(make_socket: Made) -> None:
    lst = make_socket.listener()
    c = make_socket.tcp()
    c.Connect("localhost", lst.LocalEndPoint.Port)  # only its IPv4 addresses are tried
    assert c.Connected and c.RemoteEndPoint == lst.LocalEndPoint


@pytest.mark.parametrize("af", FAMILIES)
def test_connect_refused(make_socket: Made, af: AddressFamily) -> None:
    c = make_socket.tcp(af)
    with pytest.raises(SocketException) as ei:
        c.Connect(refused_endpoint(af))
    assert ei.value.SocketErrorCode == SocketError.ConnectionRefused
    assert ei.value.ErrorCode == 10061
    assert not c.Connected


def test_connect_again_after_a_failed_connect_on_the_same_descriptor(make_socket: Made) -> None:
    c = make_socket.tcp()
    c.NoDelay = True
    fd = c.Handle
    with pytest.raises(SocketException):
        c.Connect(refused_endpoint())
    lst = make_socket.listener()
    c.Connect(lst.LocalEndPoint)  # Linux needs a fresh socket: it is put behind the same number
    assert c.Connected
    assert c.Handle == fd
    assert c.NoDelay  # options carried over to the fresh socket


def test_connect_tries_the_addresses_in_order(make_socket: Made) -> None:
    lst = make_socket.listener()  # listens on 127.0.0.1 only: 127.0.0.2 refuses
    c = make_socket.tcp()
    c.Connect([IPAddress.Parse("127.0.0.2"), IPAddress.Loopback], lst.LocalEndPoint.Port)
    assert c.Connected
    assert c.RemoteEndPoint == lst.LocalEndPoint


def test_connect_raises_the_last_failure_when_every_address_refuses(make_socket: Made) -> None:
    dead = refused_endpoint()
    c = make_socket.tcp()
    with pytest.raises(SocketException) as ei:
        c.Connect([IPAddress.Parse("127.0.0.2"), IPAddress.Loopback], dead.Port)
    assert ei.value.SocketErrorCode == SocketError.ConnectionRefused
    assert not c.Connected


def test_connect_when_connected(make_socket: Made) -> None:
    c, _ = make_socket.pair()
    with pytest.raises(SocketException) as ei:
        c.Connect(EP)
    assert ei.value.SocketErrorCode == SocketError.IsConnected


def test_non_blocking_connect(make_socket: Made) -> None:
    lst = make_socket.listener()
    c = make_socket.tcp()
    c.Blocking = False
    with pytest.raises(SocketException) as ei:
        c.Connect(lst.LocalEndPoint)  # a TCP connect never finishes inside the call on Linux
    assert ei.value.SocketErrorCode == SocketError.WouldBlock
    assert ei.value.ErrorCode == 10035
    assert c.Poll(WAIT_US, SelectMode.SelectWrite)
    assert c.Connected
    assert c.RemoteEndPoint == lst.LocalEndPoint


def test_connect_udp_sets_the_default_peer(make_socket: Made) -> None:
    a = make_socket()
    a.Bind(IPEndPoint(IPAddress.Loopback, 0))
    b = make_socket()
    b.Connect(a.LocalEndPoint)
    assert b.Connected and b.RemoteEndPoint == a.LocalEndPoint
    assert b.Send(b"udp") == 3
    buf = bytearray(8)
    n, sender = a.ReceiveFrom(buf, IPEndPoint(IPAddress.Any, 0))
    assert bytes(buf[:n]) == b"udp" and sender == b.LocalEndPoint


# -- Accept, Send, Receive, timeouts, Blocking, Available ------------------------------------------------


def test_accept_non_blocking_without_a_connection(make_socket: Made) -> None:
    lst = make_socket.listener()
    lst.Blocking = False
    with pytest.raises(SocketException) as ei:
        lst.Accept()
    assert ei.value.SocketErrorCode == SocketError.WouldBlock


def test_accepted_socket_inherits_blocking(make_socket: Made) -> None:
    lst = make_socket.listener()
    c = make_socket.tcp()
    c.Connect(lst.LocalEndPoint)
    assert lst.Poll(WAIT_US, SelectMode.SelectRead)
    lst.Blocking = False
    a = lst.Accept()
    make_socket.track(a)
    assert not a.Blocking


def test_send_and_receive_every_byte_with_buffer_lists(make_socket: Made) -> None:
    c, a = make_socket.pair()
    data = os.urandom(300_000)
    sender = threading.Thread(target=lambda: c.Send([data[:1000], (bytearray(data), 1000, len(data) - 1000)]))
    sender.start()
    got = receive_exactly(a, len(data))
    sender.join(WAIT)
    assert got == data
    c.Send(b"abcdef")
    first, second = bytearray(2), bytearray(4)
    assert a.Poll(WAIT_US, SelectMode.SelectRead)
    assert a.Receive([first, second]) == 6
    assert (bytes(first), bytes(second)) == (b"ab", b"cdef")


def test_receive_timeout(make_socket: Made) -> None:
    c, a = make_socket.pair()
    a.ReceiveTimeout = 100
    assert a.ReceiveTimeout == 100
    assert a.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReceiveTimeout) == 100
    started = time.monotonic()
    with pytest.raises(SocketException) as ei:
        a.Receive(bytearray(4))
    assert 0.09 <= time.monotonic() - started < WAIT
    assert ei.value.SocketErrorCode == SocketError.TimedOut
    assert ei.value.ErrorCode == 10060
    assert a.Connected  # a timeout does not break the connection
    c.Send(b"late")
    assert receive_exactly(a, 4) == b"late"
    a.ReceiveTimeout = -1
    assert a.ReceiveTimeout == 0
    a.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReceiveTimeout, 250)
    assert a.ReceiveTimeout == 250


def test_receive_from_timeout(make_socket: Made) -> None:
    s = make_socket()
    s.Bind(IPEndPoint(IPAddress.Loopback, 0))
    s.ReceiveTimeout = 50
    with pytest.raises(SocketException) as ei:
        s.ReceiveFrom(bytearray(4), IPEndPoint(IPAddress.Any, 0))
    assert ei.value.SocketErrorCode == SocketError.TimedOut


def test_send_timeout_on_a_full_connection(make_socket: Made) -> None:
    c, a = make_socket.pair()
    c.SendBufferSize = 65536
    a.ReceiveBufferSize = 65536
    c.SendTimeout = 100
    assert c.SendTimeout == 100
    with pytest.raises(SocketException) as ei:
        c.Send(bytes(16 * 1024 * 1024))  # far more than both buffers hold; the peer never reads
    assert ei.value.SocketErrorCode == SocketError.TimedOut
    assert c.Connected


def test_non_blocking_receive_and_partial_send(make_socket: Made) -> None:
    c, a = make_socket.pair()
    a.Blocking = False
    assert not a.Blocking
    with pytest.raises(SocketException) as ei:
        a.Receive(bytearray(4))
    assert ei.value.SocketErrorCode == SocketError.WouldBlock
    c.SendBufferSize = 65536
    a.ReceiveBufferSize = 65536
    c.Blocking = False
    size = 16 * 1024 * 1024
    n = c.Send(bytes(size))
    assert 0 < n < size  # what the system took, as .NET returns it
    with pytest.raises(SocketException) as ei2:
        while True:  # bounded: the peer never reads, so the buffers fill
            c.Send(bytes(65536))
    assert ei2.value.SocketErrorCode == SocketError.WouldBlock


def test_available(make_socket: Made) -> None:
    c, a = make_socket.pair()
    assert a.Available == 0
    c.Send(b"12345")
    assert a.Poll(WAIT_US, SelectMode.SelectRead)
    assert a.Available == 5


# -- Shutdown, Disconnect, Close ---------------------------------------------------------------------------


def test_shutdown_of_a_socket_never_connected(make_socket: Made) -> None:
    with pytest.raises(SocketException) as ei:
        make_socket.tcp().Shutdown(SocketShutdown.Both)
    assert ei.value.SocketErrorCode == SocketError.NotConnected
    assert ei.value.ErrorCode == 10057


def test_shutdown_send_delivers_end_of_stream(make_socket: Made) -> None:
    c, a = make_socket.pair()
    c.Send(b"last")
    c.Shutdown(SocketShutdown.Send)
    assert not c.Connected  # .NET marks the socket disconnected
    assert receive_exactly(a, 4) == b"last"
    assert a.Receive(bytearray(4)) == 0
    a.Send(b"back")  # the other direction still works
    assert receive_exactly(c, 4) == b"back"
    c.Shutdown(SocketShutdown.Both)  # again: ENOTCONN after a connection is not an error


def test_disconnect_a_socket_never_connected(make_socket: Made) -> None:
    for reuse in (False, True):
        with pytest.raises(SocketException) as ei:
            make_socket.tcp().Disconnect(reuse)
        assert ei.value.SocketErrorCode == SocketError.NotConnected


@pytest.mark.parametrize("reuse", [False, True])
def test_disconnect(make_socket: Made, reuse: bool) -> None:
    c, a = make_socket.pair()
    fd = c.Handle
    c.Disconnect(reuse)
    assert not c.Connected
    assert c.RemoteEndPoint is None
    assert c.Handle == fd
    assert a.Receive(bytearray(4)) == 0  # the peer sees the end of the stream
    other = make_socket.listener()
    # As in .NET: after Disconnect only an asynchronous connect may follow.
    with pytest.raises(InvalidOperationException):
        c.Connect(other.LocalEndPoint)
    ar = c.BeginConnect(other.LocalEndPoint, None, None)
    if reuse:
        c.EndConnect(ar)
        assert c.Connected and c.RemoteEndPoint == other.LocalEndPoint
    else:
        with pytest.raises(SocketException) as ei:
            c.EndConnect(ar)
        assert ei.value.SocketErrorCode == SocketError.IsConnected


def test_close_sends_end_of_stream(make_socket: Made) -> None:
    c, a = make_socket.pair()
    c.Send(b"bye")
    c.Close()
    assert receive_exactly(a, 3) == b"bye"
    assert a.Receive(bytearray(4)) == 0


def plain_peer(make_socket: Made) -> tuple[Socket, socket.socket]:
    lst = make_socket.listener()
    peer = socket.create_connection(("127.0.0.1", lst.LocalEndPoint.Port), timeout=WAIT)
    s = lst.Accept()
    make_socket.track(s)
    return s, peer


def test_close_zero_resets_the_connection(make_socket: Made) -> None:
    s, peer = plain_peer(make_socket)
    with peer:
        s.Close(0)
        assert peer_reset(peer)
        with pytest.raises(ConnectionResetError):
            peer.recv(4)


def test_close_with_timeout_is_graceful_when_the_peer_closes_too(make_socket: Made) -> None:
    s, peer = plain_peer(make_socket)
    with peer:
        peer.shutdown(socket.SHUT_WR)
        started = time.monotonic()
        s.Close(WAIT_US // 1000)
        assert time.monotonic() - started < WAIT / 2  # it did not wait for the timeout
        assert peer.recv(4) == b""
        assert peer.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0


def test_close_with_timeout_resets_when_the_peer_does_not_close(make_socket: Made) -> None:
    s, peer = plain_peer(make_socket)
    with peer:
        started = time.monotonic()
        s.Close(150)  # milliseconds, as in .NET
        assert 0.14 <= time.monotonic() - started < WAIT
        assert peer_reset(peer)


def test_close_with_timeout_on_a_datagram_socket(make_socket: Made) -> None:
    s = make_socket()
    s.Bind(IPEndPoint(IPAddress.Loopback, 0))
    s.Close(100)
    with pytest.raises(ObjectDisposedException):
        s.Bind(IPEndPoint(IPAddress.Loopback, 0))


def test_synchronous_calls_cut_short_by_close(make_socket: Made) -> None:
    c, a = make_socket.pair()
    u = make_socket()
    u.Bind(IPEndPoint(IPAddress.Loopback, 0))
    lst = make_socket.listener()
    cases: list[tuple[Socket, Callable[[], Any], SocketError]] = [
        (a, lambda: a.Receive(bytearray(4)), SocketError.ConnectionAborted),
        (u, lambda: u.ReceiveFrom(bytearray(4), IPEndPoint(IPAddress.Any, 0)), SocketError.Interrupted),
        (lst, lambda: lst.Accept(), SocketError.Interrupted),
    ]
    for s, call, expected in cases:
        outcome: list[BaseException] = []

        def run(call: Callable[[], Any] = call, outcome: list[BaseException] = outcome) -> None:
            try:
                call()
            except BaseException as exc:  # noqa: BLE001 - checked below
                outcome.append(exc)

        t = threading.Thread(target=run)
        t.start()
        assert pending(s)
        s.Close()
        t.join(WAIT)
        assert not t.is_alive()
        assert len(outcome) == 1 and isinstance(outcome[0], SocketException), outcome
        assert outcome[0].SocketErrorCode == expected


# -- Poll and Select ---------------------------------------------------------------------------------------


def test_poll(make_socket: Made) -> None:
    s = make_socket()
    s.Bind(IPEndPoint(IPAddress.Loopback, 0))
    assert not s.Poll(0, SelectMode.SelectRead)
    started = time.monotonic()
    assert not s.Poll(50_000, SelectMode.SelectRead)
    assert time.monotonic() - started >= 0.045
    assert s.Poll(0, SelectMode.SelectWrite)
    assert not s.Poll(0, SelectMode.SelectError)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
        peer.sendto(b"x", ("127.0.0.1", s.LocalEndPoint.Port))
    assert s.Poll(WAIT_US, SelectMode.SelectRead)
    assert s.Poll(-1, SelectMode.SelectRead)


def test_poll_listening_and_closed_connection(make_socket: Made) -> None:
    lst = make_socket.listener()
    assert not lst.Poll(0, SelectMode.SelectRead)
    c = make_socket.tcp()
    c.Connect(lst.LocalEndPoint)
    assert lst.Poll(WAIT_US, SelectMode.SelectRead)  # a connection to accept
    a = lst.Accept()
    make_socket.track(a)
    c.Close()
    assert a.Poll(WAIT_US, SelectMode.SelectRead)  # readable at the end of the stream
    assert a.Receive(bytearray(1)) == 0


def test_select_filters_the_lists_in_place(make_socket: Made) -> None:
    quiet = make_socket()
    quiet.Bind(IPEndPoint(IPAddress.Loopback, 0))
    busy = make_socket()
    busy.Bind(IPEndPoint(IPAddress.Loopback, 0))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
        peer.sendto(b"x", ("127.0.0.1", busy.LocalEndPoint.Port))
    read = [quiet, busy]
    write = [quiet]
    error = [quiet, busy]
    Socket.Select(read, write, error, WAIT_US)
    assert read == [busy]
    assert write == [quiet]
    assert error == []
    read = [quiet]
    started = time.monotonic()
    Socket.Select(read, None, None, 30_000)
    assert read == [] and time.monotonic() - started >= 0.025


# -- options -----------------------------------------------------------------------------------------------


def test_tcp_options_round_trip(make_socket: Made) -> None:
    s = make_socket.tcp()
    s.NoDelay = True
    assert s.NoDelay
    s.NoDelay = False
    assert not s.NoDelay
    assert s.LingerState == LingerOption(False, 0)
    s.LingerState = LingerOption(True, 5)
    assert s.LingerState == LingerOption(True, 5)
    assert s.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Linger) == LingerOption(True, 5)
    s.Ttl = 17
    assert s.Ttl == 17
    s.DontFragment = True
    assert s.DontFragment
    s.DontFragment = False
    assert not s.DontFragment
    s.ExclusiveAddressUse = True
    assert s.ExclusiveAddressUse
    s.ExclusiveAddressUse = False
    assert not s.ExclusiveAddressUse
    s.ReceiveBufferSize = 65536
    assert s.ReceiveBufferSize >= 65536
    s.SendBufferSize = 32768
    assert s.SendBufferSize >= 32768


@pytest.mark.parametrize("af", FAMILIES)
def test_datagram_options_round_trip(make_socket: Made, af: AddressFamily) -> None:
    s = make_socket(af)
    s.MulticastLoopback = False
    assert not s.MulticastLoopback
    s.MulticastLoopback = True
    assert s.MulticastLoopback
    s.Ttl = 3
    assert s.Ttl == 3
    s.EnableBroadcast = True
    assert s.EnableBroadcast


def test_unix_sockets_have_no_ip_options(tmp_path: Path, make_socket: Made) -> None:
    s = make_socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
    for call in (lambda: s.Ttl, lambda: s.MulticastLoopback, lambda: s.DontFragment):
        with pytest.raises(NotSupportedException):
            call()
    assert not s.DualMode
    with pytest.raises(NotSupportedException):
        s.DualMode = True


def test_ipv4_multicast_membership(make_socket: Made) -> None:
    s = make_socket()
    s.Bind(IPEndPoint(IPAddress.Any, 0))
    group = IPAddress.Parse("239.255.42.99")
    try:
        s.SetSocketOption(
            SocketOptionLevel.IP, SocketOptionName.AddMembership, MulticastOption(group, IPAddress.Loopback)
        )
    except SocketException as exc:
        pytest.skip(f"the loopback interface takes no multicast here: {exc.SocketErrorCode.name}")
    s.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.DropMembership, MulticastOption(group, IPAddress.Loopback))
    with pytest.raises(SocketException):  # not a member any more
        s.SetSocketOption(
            SocketOptionLevel.IP, SocketOptionName.DropMembership, MulticastOption(group, IPAddress.Loopback)
        )


def test_multicast_option_at_the_wrong_level(make_socket: Made) -> None:
    s = make_socket()
    with pytest.raises(ArgumentException):
        s.SetSocketOption(
            SocketOptionLevel.IPv6, SocketOptionName.AddMembership, MulticastOption(IPAddress.Parse("239.1.1.1"))
        )
    with pytest.raises(ArgumentException):
        s.SetSocketOption(
            SocketOptionLevel.IP, SocketOptionName.AddMembership, IPv6MulticastOption(IPAddress.Parse("ff02::1"))
        )


def test_unknown_option_numbers(make_socket: Made) -> None:
    s = make_socket()
    with pytest.raises(SocketException) as ei:
        s.SetSocketOption(12345, 54321, 1)  # type: ignore[arg-type]
    assert ei.value.SocketErrorCode == SocketError.ProtocolOption
    with pytest.raises(SocketException):
        s.GetSocketOption(12345, 54321)  # type: ignore[arg-type]


# -- dual mode -----------------------------------------------------------------------------------------------


@needs_ipv6
def test_dual_mode_constructor_and_property(make_socket: Made) -> None:
    with Socket(SocketType.Dgram, ProtocolType.Udp) as dual:
        assert dual.AddressFamily == AddressFamily.InterNetworkV6
        assert dual.DualMode
    v6 = make_socket(AddressFamily.InterNetworkV6)
    assert not v6.DualMode
    v6.DualMode = True
    assert v6.DualMode
    v4 = make_socket()
    assert not v4.DualMode
    with pytest.raises(NotSupportedException):
        v4.DualMode = True


@needs_ipv6
def test_dual_mode_receive_from_reports_ipv4_senders_mapped(make_socket: Made) -> None:
    with Socket(SocketType.Dgram, ProtocolType.Udp) as s:
        s.Bind(IPEndPoint(IPAddress.IPv6Any, 0))
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
            peer.bind(("127.0.0.1", 0))
            peer.sendto(b"v4", ("127.0.0.1", s.LocalEndPoint.Port))
            buf = bytearray(8)
            # Current .NET reports the sender IPv4-mapped even when given an IPv4 endpoint.
            n, sender = s.ReceiveFrom(buf, IPEndPoint(IPAddress.Any, 0))
            assert bytes(buf[:n]) == b"v4"
            assert sender.AddressFamily == AddressFamily.InterNetworkV6
            assert sender == IPEndPoint(IPAddress.Loopback.MapToIPv6(), peer.getsockname()[1])
            assert s.SendTo(b"back", IPEndPoint(IPAddress.Loopback, peer.getsockname()[1])) == 4
            assert peer.recv(8) == b"back"


@needs_ipv6
def test_receive_from_with_an_ipv4_endpoint_on_an_ipv6_only_socket(make_socket: Made) -> None:
    s = make_socket(AddressFamily.InterNetworkV6)
    s.Bind(IPEndPoint(IPAddress.IPv6Loopback, 0))
    with pytest.raises(ArgumentException) as ei:
        s.ReceiveFrom(bytearray(4), IPEndPoint(IPAddress.Any, 0))
    assert ei.value.ParamName == "remoteEP"


@needs_ipv6
def test_dual_mode_stream_sockets(make_socket: Made) -> None:
    with Socket(SocketType.Stream, ProtocolType.Tcp) as lst:
        lst.Bind(IPEndPoint(IPAddress.IPv6Any, 0))
        lst.Listen(4)
        port = lst.LocalEndPoint.Port
        with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as v4client:
            a = lst.Accept()
            make_socket.track(a)
            assert a.RemoteEndPoint == IPEndPoint(IPAddress.Loopback.MapToIPv6(), v4client.getsockname()[1])
        with Socket(SocketType.Stream, ProtocolType.Tcp) as dual_client:
            dual_client.Connect(IPAddress.Loopback, port)  # an IPv4 address on a dual-mode socket
            assert dual_client.Connected
            assert dual_client.RemoteEndPoint == IPEndPoint(IPAddress.Loopback.MapToIPv6(), port)


# -- Unix domain sockets --------------------------------------------------------------------------------------


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    # sun_path holds 107 bytes: pytest's tmp_path can be longer than that.
    d = Path(f"/tmp/ds-sync-{os.getpid()}")
    d.mkdir(exist_ok=True)
    yield d
    for p in d.iterdir():
        p.unlink()
    d.rmdir()


def unix(make_socket: Made, st: SocketType) -> Socket:
    return make_socket(AddressFamily.Unix, st, ProtocolType.Unspecified)


def test_unix_stream_sockets(make_socket: Made, short_tmp: Path) -> None:
    path = str(short_tmp / "stream.sock")
    lst = unix(make_socket, SocketType.Stream)
    lst.Bind(UnixDomainSocketEndPoint(path))
    lst.Listen(4)
    assert os.path.exists(path)
    assert lst.LocalEndPoint == UnixDomainSocketEndPoint(path)
    c = unix(make_socket, SocketType.Stream)
    c.Connect(UnixDomainSocketEndPoint(path))
    a = lst.Accept()
    make_socket.track(a)
    assert c.Connected and a.Connected
    assert c.RemoteEndPoint == UnixDomainSocketEndPoint(path)
    data = os.urandom(200_000)
    t = threading.Thread(target=lambda: c.Send(data))
    t.start()
    assert receive_exactly(a, len(data)) == data
    t.join(WAIT)
    a.Dispose()
    c.Dispose()
    assert os.path.exists(path)  # only the socket that bound the path deletes it
    lst.Dispose()
    assert not os.path.exists(path)


def test_unix_datagram_sockets(make_socket: Made, short_tmp: Path) -> None:
    a_path, b_path = str(short_tmp / "a.sock"), str(short_tmp / "b.sock")
    a = unix(make_socket, SocketType.Dgram)
    a.Bind(UnixDomainSocketEndPoint(a_path))
    b = unix(make_socket, SocketType.Dgram)
    b.Bind(UnixDomainSocketEndPoint(b_path))
    assert b.SendTo(b"hello", UnixDomainSocketEndPoint(a_path)) == 5
    buf = bytearray(16)
    n, sender = a.ReceiveFrom(buf, UnixDomainSocketEndPoint(b_path))
    assert bytes(buf[:n]) == b"hello"
    assert sender == UnixDomainSocketEndPoint(b_path)
    with pytest.raises(SocketException) as ei:
        unix(make_socket, SocketType.Dgram).Bind(UnixDomainSocketEndPoint(a_path))
    assert ei.value.SocketErrorCode == SocketError.AddressAlreadyInUse
    b.Dispose()
    assert not os.path.exists(b_path)  # .NET deletes the file of any socket that bound it
    a.Dispose()
    assert not os.path.exists(a_path)


def test_unix_connect_to_a_missing_path(make_socket: Made, short_tmp: Path) -> None:
    c = unix(make_socket, SocketType.Stream)
    with pytest.raises(SocketException) as ei:
        c.Connect(UnixDomainSocketEndPoint(str(short_tmp / "nobody.sock")))
    assert ei.value.SocketErrorCode == SocketError.AddressNotAvailable
    assert not c.Connected


def test_unix_abstract_names(make_socket: Made) -> None:
    name = f"\0dotnet-sockets-test-{os.getpid()}"
    a = unix(make_socket, SocketType.Dgram)
    a.Bind(UnixDomainSocketEndPoint(name))
    b = unix(make_socket, SocketType.Dgram)
    b.SendTo(b"abstract", UnixDomainSocketEndPoint(name))
    buf = bytearray(16)
    n, _ = a.ReceiveFrom(buf, UnixDomainSocketEndPoint(name))
    assert bytes(buf[:n]) == b"abstract"
    a.Dispose()  # nothing to delete, nothing raised
