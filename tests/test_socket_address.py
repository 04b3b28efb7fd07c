"""``SocketAddress``, ``EndPoint.Create``/``Serialize`` and the .NET 8 ``SocketAddress`` send/receive forms.

Ported from dotnet/runtime's ``SocketAddressTest.cs`` (Primitives) and the
``SocketAddress`` cases of the Sockets ``SendTo``/``ReceiveFrom`` tests; sizes are
current .NET's (``SocketAddress(InterNetwork)`` is 16 bytes since .NET 8).
"""

from __future__ import annotations

import asyncio
import socket
import struct
import sys
import threading
from typing import Any

import pytest

from conftest import WAIT
from dotnet_sockets import (
    AddressFamily,
    ArgumentException,
    ArgumentNullException,
    ArgumentOutOfRangeException,
    DnsEndPoint,
    EndPoint,
    IPAddress,
    IPEndPoint,
    NotImplementedException,
    ObjectDisposedException,
    PlatformNotSupportedException,
    Socket,
    SocketAddress,
    SocketError,
    SocketException,
    SocketFlags,
    SocketType,
    UnixDomainSocketEndPoint,
)
from socket_helpers import Made, wait_until


@pytest.fixture
def made() -> Any:
    m = Made()
    yield m
    m.dispose_all()


# -- the type itself -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("family", "size"),
    [(AddressFamily.InterNetwork, 16), (AddressFamily.InterNetworkV6, 28), (AddressFamily.Unix, 110)],
)
def test_ctor_family_makes_the_largest_address_of_the_family(family: AddressFamily, size: int) -> None:
    sa = SocketAddress(family)
    assert sa.Family == family
    assert sa.Size == size == SocketAddress.GetMaximumAddressSize(family)
    assert len(sa.Buffer) == size


def test_ctor_family_size() -> None:
    sa = SocketAddress(AddressFamily.InterNetwork, 64)
    assert sa.Family == AddressFamily.InterNetwork
    assert sa.Size == 64


@pytest.mark.parametrize("size", [1, 0, -5])
def test_ctor_size_below_two_throws(size: int) -> None:
    with pytest.raises(ArgumentOutOfRangeException) as ei:
        SocketAddress(AddressFamily.InterNetwork, size)
    assert ei.value.ParamName == "size"


@pytest.mark.parametrize("family", [65539, 1_000_000, AddressFamily.Ipx])
def test_family_linux_has_no_sockets_for_throws_platform_not_supported(family: int) -> None:
    with pytest.raises(PlatformNotSupportedException):
        SocketAddress(family)  # type: ignore[arg-type]
    with pytest.raises(PlatformNotSupportedException):
        SocketAddress(family, 16)  # type: ignore[arg-type]


def test_maximum_address_size_of_other_families_is_sockaddr_storage() -> None:
    assert SocketAddress.GetMaximumAddressSize(AddressFamily.Unspecified) == 128
    assert SocketAddress.get_maximum_address_size is SocketAddress.GetMaximumAddressSize


def test_equals_and_hash() -> None:
    sa1 = SocketAddress(AddressFamily.InterNetwork, 64)
    sa2 = SocketAddress(AddressFamily.InterNetwork, 64)
    sa3 = SocketAddress(AddressFamily.InterNetworkV6, 64)
    sa4 = SocketAddress(AddressFamily.InterNetwork, 60000)
    assert not sa1.Equals(None)
    assert not sa1.Equals("")
    assert sa1 == sa2 and sa2 == sa1 and sa1.Equals(sa2)
    assert hash(sa1) == hash(sa2) == sa1.GetHashCode()
    assert sa1 != sa3 and hash(sa1) != hash(sa3)
    assert sa1 != sa4
    # Only the first Size bytes count.
    sa4.Size = 64
    assert sa1 == sa4
    sa4.Buffer[100] = 7
    assert sa1 == sa4
    sa4[10] = 1
    assert sa1 != sa4


@pytest.mark.parametrize(
    ("family", "size", "fill", "expected_head"),
    [
        (AddressFamily.InterNetwork, 48, False, "InterNetwork:48:{" + ",".join(["0"] * 46) + "}"),
        (AddressFamily.InterNetworkV6, 48, True, "InterNetworkV6:48:{" + ",".join(str(i) for i in range(2, 48)) + "}"),
        (
            AddressFamily.Unix,
            258,
            True,
            "Unix:258:{" + ",".join(str(i % 256) for i in range(2, 258)) + "}",
        ),
    ],
)
def test_to_string_is_family_size_and_the_bytes_after_the_family(
    family: AddressFamily, size: int, fill: bool, expected_head: str
) -> None:
    sa = SocketAddress(family, size)
    if fill:
        for i in range(2, sa.Size):
            sa[i] = i % 256
    assert sa.ToString() == str(sa) == expected_head


def test_indexer_bounds_follow_size() -> None:
    sa = SocketAddress(AddressFamily.InterNetwork)
    sa[15] = 200
    assert sa[15] == 200
    for bad in (-1, 16):
        with pytest.raises(IndexError):
            sa[bad]
        with pytest.raises(IndexError):
            sa[bad] = 1
    sa.Size = 8
    with pytest.raises(IndexError):
        sa[8]
    with pytest.raises(ValueError):
        sa[0] = 256  # a byte


def test_size_setter_checks_the_buffer() -> None:
    sa = SocketAddress(AddressFamily.InterNetwork)
    sa.Size = 0
    assert sa.Size == 0
    sa.Size = 16
    for bad in (-1, 17):
        with pytest.raises(ArgumentOutOfRangeException) as ei:
            sa.Size = bad
        assert ei.value.ParamName == "value"


def test_buffer_is_a_writable_view_of_the_whole_address() -> None:
    sa = SocketAddress(AddressFamily.InterNetworkV6)
    view = sa.Buffer
    assert isinstance(view, memoryview) and not view.readonly and len(view) == 28
    view[2:4] = b"\x00\x50"
    assert sa[3] == 0x50
    # The family lives in the first two bytes, in Linux's numbering.
    assert struct.unpack_from("=H", sa.Buffer, 0)[0] == socket.AF_INET6


@pytest.mark.skipif(not hasattr(socket, "AF_PACKET"), reason="no AF_PACKET")
def test_linux_specific_families_are_kept() -> None:
    assert SocketAddress(AddressFamily.Packet).Family == AddressFamily.Packet


# -- EndPoint.Serialize / Create ----------------------------------------------------------------------
def test_ipv4_endpoint_serializes_as_sockaddr_in() -> None:
    ep = IPEndPoint(IPAddress.Parse("127.0.0.1"), 80)
    sa = ep.Serialize()
    assert sa.Family == AddressFamily.InterNetwork and sa.Size == 16
    assert bytes(sa.Buffer[2:8]) == b"\x00\x50\x7f\x00\x00\x01"
    assert str(sa) == "InterNetwork:16:{0,80,127,0,0,1,0,0,0,0,0,0,0,0}"
    back = ep.Create(sa)
    assert back == ep and back is not ep and type(back) is IPEndPoint


def test_ipv6_endpoint_round_trips_with_scope() -> None:
    ep = IPEndPoint(IPAddress.Parse("fe80::1%3"), 443)
    sa = ep.Serialize()
    assert sa.Family == AddressFamily.InterNetworkV6 and sa.Size == 28
    assert struct.unpack_from("=I", sa.Buffer, 24)[0] == 3
    back = ep.Create(sa)
    assert back == ep and back.Address.ScopeId == 3
    assert IPEndPoint(IPAddress.IPv6Any, 0).Create(sa) == ep  # any endpoint of the family builds it


def test_create_checks_family_and_size() -> None:
    v4 = IPEndPoint(IPAddress.Loopback, 1)
    v6 = IPEndPoint(IPAddress.IPv6Loopback, 1)
    with pytest.raises(ArgumentNullException) as ei:
        v4.Create(None)  # type: ignore[arg-type]
    assert ei.value.ParamName == "socketAddress"
    with pytest.raises(ArgumentException) as ei2:
        v4.Create(v6.Serialize())
    assert ei2.value.ParamName == "socketAddress"
    short = SocketAddress(AddressFamily.InterNetworkV6, 20)
    with pytest.raises(ArgumentException) as ei3:
        v6.Create(short)
    assert ei3.value.ParamName == "socketAddress"


def test_unix_endpoint_round_trips(tmp_path: Any) -> None:
    for path in (str(tmp_path / "s.sock"), "\0abstract-name"):
        ep = UnixDomainSocketEndPoint(path)
        sa = ep.Serialize()
        assert sa.Family == AddressFamily.Unix
        back = ep.Create(sa)
        assert isinstance(back, UnixDomainSocketEndPoint) and back.Path == path
    with pytest.raises(ArgumentOutOfRangeException):
        UnixDomainSocketEndPoint("/x").Create(IPEndPoint(IPAddress.Loopback, 1).Serialize())
    with pytest.raises(ArgumentNullException):
        UnixDomainSocketEndPoint("/x").Create(None)  # type: ignore[arg-type]


def test_base_and_dns_endpoints_do_not_serialize() -> None:
    for ep in (EndPoint(), DnsEndPoint("localhost", 80)):
        with pytest.raises(NotImplementedException):
            ep.Serialize()
        with pytest.raises(NotImplementedException):
            ep.Create(SocketAddress(AddressFamily.InterNetwork))
    assert IPEndPoint.serialize is IPEndPoint.Serialize and EndPoint.create is EndPoint.Create


# -- SendTo / ReceiveFrom with a SocketAddress ---------------------------------------------------------
def _families() -> list[Any]:
    from conftest import FAMILIES

    return FAMILIES


@pytest.mark.parametrize("af", _families())
def test_sync_send_to_and_receive_from_with_socket_address(made: Made, af: AddressFamily) -> None:
    receiver = made.udp(af)
    sender = made.udp(af)
    receiver.ReceiveTimeout = int(WAIT * 1000)
    target = receiver.LocalEndPoint.Serialize()
    received = SocketAddress(af)
    buf = bytearray(32)
    for i in range(3):
        assert sender.SendTo(b"datagram%d" % i, SocketFlags.None_, target) == 9
        assert receiver.ReceiveFrom(buf, SocketFlags.None_, received) == 9
        assert bytes(buf[:9]) == b"datagram%d" % i
        assert received == sender.LocalEndPoint.Serialize()
        assert receiver.LocalEndPoint.Create(received) == sender.LocalEndPoint


@pytest.mark.parametrize("af", _families())
def test_awaited_send_to_and_receive_from_with_socket_address(made: Made, af: AddressFamily) -> None:
    receiver = made.udp(af)
    sender = made.udp(af)
    received = SocketAddress(af)

    async def main() -> tuple[int, int]:
        buf = bytearray(16)
        pending = asyncio.ensure_future(receiver.ReceiveFromAsync(buf, SocketFlags.None_, received))
        await asyncio.sleep(0)
        sent = await sender.SendToAsync(b"hello", SocketFlags.None_, receiver.LocalEndPoint.Serialize())
        got = await asyncio.wait_for(pending, WAIT)
        assert bytes(buf[:got]) == b"hello"
        return sent, got

    assert asyncio.run(main()) == (5, 5)
    assert received == sender.LocalEndPoint.Serialize()


def test_send_to_socket_address_binds_an_unbound_socket(made: Made) -> None:
    receiver = made.udp()
    sender = made()
    assert not sender.IsBound
    sender.SendTo(b"x", SocketFlags.None_, receiver.LocalEndPoint.Serialize())
    assert sender.IsBound and sender.LocalEndPoint.Port != 0


def test_dual_mode_socket_sends_to_an_ipv4_socket_address(made: Made) -> None:
    receiver = made.udp(AddressFamily.InterNetwork)
    receiver.ReceiveTimeout = int(WAIT * 1000)
    dual = made.track(Socket(SocketType.Dgram, __import__("dotnet_sockets").ProtocolType.Udp))
    dual.Bind(IPEndPoint(IPAddress.IPv6Any, 0))
    dual.SendTo(b"v4", SocketFlags.None_, receiver.LocalEndPoint.Serialize())
    received = SocketAddress(AddressFamily.InterNetwork)
    assert receiver.ReceiveFrom(bytearray(8), SocketFlags.None_, received) == 2
    assert received.Family == AddressFamily.InterNetwork
    # A v6-only socket cannot reach an IPv4 address: the kernel's error, from the send.
    v6only = made.udp(AddressFamily.InterNetworkV6) if _has_v6() else None
    if v6only is not None:
        with pytest.raises(SocketException) as ei:
            v6only.SendTo(b"v4", SocketFlags.None_, receiver.LocalEndPoint.Serialize())
        assert ei.value.SocketErrorCode == SocketError.NetworkUnreachable


def _has_v6() -> bool:
    from conftest import HAS_IPV6

    return HAS_IPV6


def test_receive_from_checks_the_received_address(made: Made) -> None:
    s = made.udp()
    with pytest.raises(ArgumentNullException) as ei:
        s.ReceiveFrom(bytearray(4), SocketFlags.None_, received_address=None)
    assert ei.value.ParamName == "receivedAddress"
    with pytest.raises(ArgumentOutOfRangeException) as ei2:
        s.ReceiveFrom(bytearray(4), SocketFlags.None_, SocketAddress(AddressFamily.InterNetwork, 8))
    assert ei2.value.ParamName == "receivedAddress"
    with pytest.raises(ArgumentNullException) as ei3:
        s.ReceiveFrom(None, SocketFlags.None_, SocketAddress(AddressFamily.InterNetwork))
    assert ei3.value.ParamName == "buffer"
    with pytest.raises(ArgumentException):
        s.ReceiveFrom(b"read-only", SocketFlags.None_, SocketAddress(AddressFamily.InterNetwork))

    async def too_small() -> None:
        await s.ReceiveFromAsync(bytearray(4), SocketFlags.None_, SocketAddress(AddressFamily.InterNetwork, 8))

    with pytest.raises(ArgumentOutOfRangeException):
        asyncio.run(too_small())
    s.Dispose()
    with pytest.raises(ObjectDisposedException):
        s.ReceiveFrom(bytearray(4), SocketFlags.None_, SocketAddress(AddressFamily.InterNetwork))


def test_receive_from_socket_address_times_out_like_receive_from(made: Made) -> None:
    s = made.udp()
    s.ReceiveTimeout = 50
    with pytest.raises(SocketException) as ei:
        s.ReceiveFrom(bytearray(4), SocketFlags.None_, SocketAddress(AddressFamily.InterNetwork))
    assert ei.value.SocketErrorCode == SocketError.TimedOut


def test_send_to_a_socket_address_of_another_family_fails_in_the_send(made: Made) -> None:
    s = made.udp()
    with pytest.raises(SocketException) as ei:
        s.SendTo(b"x", SocketFlags.None_, IPEndPoint(IPAddress.IPv6Loopback, 9).Serialize())
    assert ei.value.SocketErrorCode == SocketError.AddressFamilyNotSupported


def test_send_to_socket_address_flags_and_disposed(made: Made) -> None:
    receiver = made.udp()
    receiver.ReceiveTimeout = int(WAIT * 1000)
    sender = made.udp()
    target = receiver.LocalEndPoint.Serialize()
    assert sender.SendTo(b"routed", SocketFlags.DontRoute, target) == 6  # flags take the general path
    with pytest.raises(SocketException) as ei:
        sender.SendTo(b"x", SocketFlags.Partial, target)
    assert ei.value.SocketErrorCode == SocketError.OperationNotSupported
    received = SocketAddress(AddressFamily.InterNetwork)
    assert receiver.ReceiveFrom(bytearray(8), SocketFlags.None_, received) == 6
    assert received == sender.LocalEndPoint.Serialize()
    # The buffer may be any bytes-like object; a memoryview takes the general path.
    assert sender.SendTo(memoryview(b"view"), 0, target) == 4
    assert receiver.ReceiveFrom(bytearray(8), SocketFlags.Peek, received) == 4
    assert receiver.ReceiveFrom(memoryview(bytearray(8)), 0, received) == 4
    sender.Dispose()
    with pytest.raises(ObjectDisposedException):
        sender.SendTo(b"x", SocketFlags.None_, target)


def test_a_changed_socket_address_is_read_again(made: Made) -> None:
    """The address is read from the buffer at each send: changing the port redirects the next one."""
    a = made.udp()
    b = made.udp()
    a.ReceiveTimeout = b.ReceiveTimeout = int(WAIT * 1000)
    sender = made.udp()
    sa = a.LocalEndPoint.Serialize()
    sender.SendTo(b"to a", SocketFlags.None_, sa)
    struct.pack_into("!H", sa.Buffer, 2, b.LocalEndPoint.Port)
    sender.SendTo(b"to b", SocketFlags.None_, sa)
    buf = bytearray(8)
    assert a.Receive(buf) == 4 and bytes(buf[:4]) == b"to a"
    assert b.Receive(buf) == 4 and bytes(buf[:4]) == b"to b"


_audited: list[tuple[str, Any]] = []
_watching: list[Any] = []


def _audit_hook(event: str, args: tuple[Any, ...]) -> None:
    if _watching and event.startswith("dotnet_sockets.Socket.") and args and args[0] is _watching[0]:
        _audited.append((event, args[0]))


sys.addaudithook(_audit_hook)  # hooks cannot be removed; this one records only while watching


def test_a_receive_from_into_a_socket_address_that_waits_is_audited_once(made: Made) -> None:
    """The short path audits, finds no datagram and goes on as the queued operation: one event,
    as the general path raises (it raised a second one)."""
    a, b = made.udp(), made.udp()
    b.ReceiveTimeout = int(WAIT * 1000)
    address = SocketAddress(AddressFamily.InterNetwork)
    got: list[int] = []
    _audited.clear()
    _watching.append(b)
    try:
        t = threading.Thread(target=lambda: got.append(b.ReceiveFrom(bytearray(8), SocketFlags.None_, address)))
        t.start()
        assert wait_parked(b)
        a.SendTo(b"hi", b.LocalEndPoint)
        t.join(WAIT)
    finally:
        _watching.clear()
    assert got == [2]
    assert [e for e, _ in _audited] == ["dotnet_sockets.Socket.ReceiveFrom"]


def wait_parked(s: Any) -> bool:
    """The receive waits (parked on its queue), within WAIT."""
    return wait_until(lambda: s._io.rpark is not None)
