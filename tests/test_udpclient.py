"""UdpClient and UdpReceiveResult: what dotnet/runtime's UdpClientTest.cs checks, in every model and family.

Datagrams go between loopback endpoints only; every receive is bounded by ReceiveTimeout,
WaitOne with a limit or asyncio.wait_for.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from client_helpers import WAIT_MS, param_of, run
from conftest import HAS_IPV6, UdpPeer, loopback
from dotnet_sockets import (
    AddressFamily,
    ArgumentException,
    ArgumentNullException,
    ArgumentOutOfRangeException,
    CancellationTokenSource,
    Dns,
    InvalidOperationException,
    IPAddress,
    IPEndPoint,
    ObjectDisposedException,
    OperationCanceledException,
    PlatformNotSupportedException,
    SocketError,
    SocketException,
    TaskFactory,
    UdpClient,
    UdpReceiveResult,
)


@pytest.fixture
def pair(af: AddressFamily) -> Iterator[tuple[UdpClient, UdpClient]]:
    receiver = UdpClient(IPEndPoint(loopback(af), 0))
    sender = UdpClient(IPEndPoint(loopback(af), 0))
    for c in (receiver, sender):
        assert c.Client is not None
        c.Client.ReceiveTimeout = WAIT_MS
    yield receiver, sender
    receiver.Close()
    sender.Close()


def local(c: UdpClient) -> IPEndPoint:
    assert c.Client is not None
    ep = c.Client.LocalEndPoint
    assert isinstance(ep, IPEndPoint)
    return ep


# -- construction ------------------------------------------------------------------------------------


def test_ctor_valid_family(af: AddressFamily) -> None:
    with UdpClient(af) as c:
        assert c.Client is not None and c.Client.AddressFamily == af and not c.Client.IsBound
    with UdpClient() as c:
        assert c.Client is not None and c.Client.AddressFamily == AddressFamily.InterNetwork


@pytest.mark.parametrize("family", [AddressFamily.DataKit, AddressFamily.Unix, AddressFamily.Unspecified])
def test_ctor_invalid_family(family: AddressFamily) -> None:
    assert param_of(ArgumentException, lambda: UdpClient(family)) == "family"
    assert param_of(ArgumentException, lambda: UdpClient(0, family)) == "family"


@pytest.mark.parametrize("port", [-1, 66000])
def test_ctor_invalid_port(port: int) -> None:
    assert param_of(ArgumentOutOfRangeException, lambda: UdpClient(port)) == "port"
    assert param_of(ArgumentOutOfRangeException, lambda: UdpClient(port, AddressFamily.InterNetwork)) == "port"
    assert param_of(ArgumentOutOfRangeException, lambda: UdpClient(port, AddressFamily.InterNetworkV6)) == "port"
    assert param_of(ArgumentOutOfRangeException, lambda: UdpClient("localhost", port)) == "port"


def test_ctor_null_arguments() -> None:
    assert param_of(ArgumentNullException, lambda: UdpClient(None)) == "localEP"
    assert param_of(ArgumentNullException, lambda: UdpClient(None, 0)) == "hostname"
    with pytest.raises(TypeError):
        UdpClient(1, 2, 3)


def test_ctor_port_binds_every_address(af: AddressFamily) -> None:
    with UdpClient(0, af) as c:
        ep = local(c)
        assert ep.Port > 0 and ep.Address in (IPAddress.Any, IPAddress.IPv6Any)
    with UdpClient(0) as c:
        assert local(c).Address == IPAddress.Any


def test_ctor_local_endpoint_can_send(af: AddressFamily) -> None:
    peer = UdpPeer(af)
    try:
        with UdpClient(IPEndPoint(loopback(af), 0)) as c:
            assert c.Send(b"\x01", 1, peer.endpoint) == 1
            data, _ = peer.recv()
            assert data == b"\x01" and not c.Active
    finally:
        peer.close()


def test_ctor_host_port_connects(af: AddressFamily) -> None:
    peer = UdpPeer(af)
    try:
        with UdpClient(str(loopback(af)), peer.endpoint.Port) as c:
            assert c.Active and c.Client is not None and c.Client.Connected
            assert c.Send(b"xy", 2) == 2
            assert peer.recv()[0] == b"xy"
    finally:
        peer.close()


def test_ctor_localhost_connects_when_it_resolves_to_loopback() -> None:
    if IPAddress.Loopback not in Dns.GetHostAddresses("localhost"):
        pytest.skip("localhost does not resolve to 127.0.0.1 here")
    peer = UdpPeer(AddressFamily.InterNetwork)
    try:
        with UdpClient("localhost", peer.endpoint.Port) as c:
            assert c.Active
    finally:
        peer.close()


# -- properties --------------------------------------------------------------------------------------


def test_properties_round_trip() -> None:
    with UdpClient() as c:
        ttl = c.Ttl
        assert c.Ttl == ttl
        c.Ttl = 100
        assert c.Ttl == 100
        assert not c.DontFragment
        c.DontFragment = True
        assert c.DontFragment
        c.DontFragment = False
        assert c.MulticastLoopback
        c.MulticastLoopback = False
        assert not c.MulticastLoopback
        c.MulticastLoopback = True
        assert not c.EnableBroadcast
        c.EnableBroadcast = True
        assert c.EnableBroadcast
        c.EnableBroadcast = False
        assert not c.EnableBroadcast
        c.ExclusiveAddressUse = False
        assert not c.ExclusiveAddressUse
        assert c.Available == 0
        assert UdpClient.EnableBroadcast is UdpClient.enable_broadcast
        assert UdpClient.JoinMulticastGroup is UdpClient.join_multicast_group


def test_active_and_client_round_trip() -> None:
    with UdpClient() as c:
        assert not c.Active
        c.Active = True
        assert c.Active
        c.Active = False
        s = c.Client
        assert s is not None and c.Client is s
        c.Client = None
        assert c.Client is None
        c.Client = s
        assert c.Client is s


def test_allow_nat_traversal_is_windows_only() -> None:
    with UdpClient() as c, pytest.raises(PlatformNotSupportedException):
        c.AllowNatTraversal(True)


def test_connect_to_broadcast_turns_broadcast_on() -> None:
    # Connecting a datagram socket sends nothing; .NET turns the option on for IPAddress.Broadcast.
    with UdpClient() as c:
        c.Connect(IPEndPoint(IPAddress.Broadcast, 9))
        assert c.EnableBroadcast and c.Active


# -- bad input and disposal ----------------------------------------------------------------------


@pytest.mark.parametrize("close", [False, True])
def test_dispose_close_operations_raise(close: bool) -> None:
    c = UdpClient()
    for _ in range(2):
        c.Close() if close else c.Dispose()
    assert c.Client is None
    for call in (
        lambda: c.BeginSend(b"\x00", 1, None, None),
        lambda: c.EndSend(None),
        lambda: c.BeginReceive(None, None),
        lambda: c.EndReceive(None),
        lambda: c.JoinMulticastGroup(IPAddress.Loopback),
        lambda: c.JoinMulticastGroup(IPAddress.Loopback, IPAddress.Loopback),
        lambda: c.JoinMulticastGroup(0, IPAddress.Loopback),
        lambda: c.JoinMulticastGroup(IPAddress.Loopback, 0),
        lambda: c.DropMulticastGroup(IPAddress.Loopback),
        lambda: c.DropMulticastGroup(IPAddress.Loopback, 0),
        lambda: c.Connect(None),
        lambda: c.Connect(IPAddress.Loopback, 0),
        lambda: c.Connect("localhost", 0),
        lambda: c.Receive(None),
        lambda: c.Send(None, 0, None),
        lambda: c.Send(None, 0),
        lambda: c.Send(None, 0, "localhost", 0),
        lambda: c.SendAsync(b"x", 1),
        lambda: c.ReceiveAsync(),
        lambda: c.Available,
        lambda: c.Ttl,
        lambda: c.AllowNatTraversal(True),
    ):
        with pytest.raises(ObjectDisposedException):
            call()


def test_send_invalid_arguments() -> None:
    with UdpClient() as c:
        ep = IPEndPoint(IPAddress.Loopback, 9)
        assert param_of(ArgumentNullException, lambda: c.Send(None, 0)) == "dgram"
        assert param_of(ArgumentNullException, lambda: c.Send(None, 0, "localhost", 0)) == "dgram"
        assert param_of(ArgumentNullException, lambda: c.Send(None, 0, ep)) == "dgram"
        assert param_of(ArgumentOutOfRangeException, lambda: c.Send(b"x", 2, ep)) == "size"
        assert param_of(ArgumentOutOfRangeException, lambda: c.Send(b"x", -1, ep)) == "size"
        assert param_of(ArgumentException, lambda: c.Send("text", 1, ep)) == "dgram"
        with pytest.raises(InvalidOperationException):
            c.Send(b"x", 1)  # no default peer
        with pytest.raises(InvalidOperationException):
            c.Send(b"x")
        c.Active = True
        with pytest.raises(InvalidOperationException):
            c.Send(b"x", 1, ep)
        with pytest.raises(InvalidOperationException):
            c.Send(b"x", ep)
        with pytest.raises(InvalidOperationException):
            c.Send(b"x", 1, "localhost", 9)
        with pytest.raises(TypeError):
            c.Send(b"x", 1, ep, 2, 3)


def test_begin_send_and_send_async_invalid_arguments() -> None:
    with UdpClient(AddressFamily.InterNetwork) as c:
        ep = IPEndPoint(IPAddress.Loopback, 9)
        assert param_of(ArgumentNullException, lambda: c.BeginSend(None, 0, None, None)) == "datagram"
        assert param_of(ArgumentOutOfRangeException, lambda: c.BeginSend(b"x", -1, ep, None, None)) == "bytes"
        assert param_of(ArgumentOutOfRangeException, lambda: c.BeginSend(b"x", 2, ep, None, None)) == "bytes"
        assert param_of(ArgumentNullException, lambda: c.SendAsync(None, 0)) == "datagram"
        assert param_of(ArgumentOutOfRangeException, lambda: c.SendAsync(b"x", 5, ep)) == "bytes"
    with UdpClient("127.0.0.1", 9) as connected:
        with pytest.raises(InvalidOperationException):
            connected.BeginSend(b"x", 1, "localhost", 9, None, None)
        with pytest.raises(InvalidOperationException):
            connected.BeginSend(b"x", 1, IPEndPoint(IPAddress.Loopback, 0), None, None)
        with pytest.raises(InvalidOperationException):
            connected.SendAsync(b"x", 1, IPEndPoint(IPAddress.Loopback, 0))
        with pytest.raises(InvalidOperationException):
            connected.SendAsync(b"x", IPEndPoint(IPAddress.Loopback, 0))


def test_connect_invalid_arguments() -> None:
    with UdpClient() as c:
        assert param_of(ArgumentNullException, lambda: c.Connect(None, 0)) == "hostname"
        assert param_of(ArgumentNullException, lambda: c.Connect(addr=None, port=0)) == "addr"
        assert param_of(ArgumentOutOfRangeException, lambda: c.Connect("localhost", -1)) == "port"
        assert param_of(ArgumentOutOfRangeException, lambda: c.Connect("localhost", 66000)) == "port"
        assert param_of(ArgumentOutOfRangeException, lambda: c.Connect(IPAddress.Loopback, -1)) == "port"
        assert param_of(ArgumentOutOfRangeException, lambda: c.Connect(IPAddress.Loopback, 66000)) == "port"
        assert param_of(ArgumentNullException, lambda: c.Connect(None)) == "endPoint"
        with pytest.raises(TypeError):
            c.Connect()


def test_join_drop_multicast_invalid_arguments() -> None:
    with UdpClient(AddressFamily.InterNetwork) as c:
        assert param_of(ArgumentNullException, lambda: c.JoinMulticastGroup(None)) == "multicastAddr"
        assert param_of(ArgumentNullException, lambda: c.JoinMulticastGroup(0, None)) == "multicastAddr"
        assert param_of(ArgumentNullException, lambda: c.JoinMulticastGroup(None, 0)) == "multicastAddr"
        assert param_of(ArgumentOutOfRangeException, lambda: c.JoinMulticastGroup(-1, IPAddress.Any)) == "ifindex"
        assert (
            param_of(ArgumentOutOfRangeException, lambda: c.JoinMulticastGroup(IPAddress.Loopback, -1)) == "timeToLive"
        )
        assert (
            param_of(ArgumentOutOfRangeException, lambda: c.JoinMulticastGroup(IPAddress.Loopback, 256)) == "timeToLive"
        )
        assert param_of(ArgumentException, lambda: c.JoinMulticastGroup(IPAddress.IPv6Loopback)) == "multicastAddr"
        assert param_of(ArgumentNullException, lambda: c.DropMulticastGroup(None)) == "multicastAddr"
        assert param_of(ArgumentNullException, lambda: c.DropMulticastGroup(None, 0)) == "multicastAddr"
        assert param_of(ArgumentException, lambda: c.DropMulticastGroup(IPAddress.IPv6Loopback)) == "multicastAddr"
        assert param_of(ArgumentOutOfRangeException, lambda: c.DropMulticastGroup(IPAddress.Loopback, -1)) == "ifindex"
        with pytest.raises(SocketException) as ei:
            c.JoinMulticastGroup(1, IPAddress.Parse("ff02::1"))  # the interface form is IPv6's
        assert ei.value.SocketErrorCode == SocketError.OperationNotSupported
        with pytest.raises(TypeError):
            c.JoinMulticastGroup()
    with UdpClient(AddressFamily.InterNetworkV6) as c6:
        with pytest.raises(SocketException) as ei:
            c6.JoinMulticastGroup(IPAddress.Parse("239.1.2.3"), IPAddress.Loopback)  # the local-address form is IPv4's
        assert ei.value.SocketErrorCode == SocketError.OperationNotSupported
        assert (
            param_of(ArgumentException, lambda: c6.JoinMulticastGroup(IPAddress.Parse("239.1.2.3"))) == "multicastAddr"
        )


def test_join_multicast_on_loopback_interface() -> None:
    group = IPAddress.Parse("239.255.42.99")
    with UdpClient(IPEndPoint(IPAddress.Any, 0)) as c:
        try:
            c.JoinMulticastGroup(group, IPAddress.Loopback)
        except SocketException as exc:
            pytest.skip(f"no multicast on the loopback interface here: {exc}")
        with pytest.raises(SocketException):
            c.JoinMulticastGroup(group, IPAddress.Loopback)  # already a member


@pytest.mark.skipif(not HAS_IPV6, reason="no IPv6 loopback on this machine")
def test_join_drop_ipv6_multicast_on_loopback_interface() -> None:
    import socket

    group = IPAddress.Parse("ff02::1:3")
    with UdpClient(AddressFamily.InterNetworkV6) as c:
        assert c.Client is not None
        c.Client.Bind(IPEndPoint(IPAddress.IPv6Any, 0))
        lo = socket.if_nametoindex("lo")
        try:
            c.JoinMulticastGroup(lo, group)
        except SocketException as exc:
            pytest.skip(f"no IPv6 multicast on the loopback interface here: {exc}")
        c.DropMulticastGroup(group, lo)
        with pytest.raises(SocketException):
            c.DropMulticastGroup(group, lo)  # not a member any more


def test_udp_receive_result() -> None:
    assert param_of(ArgumentNullException, lambda: UdpReceiveResult(None, None)) == "buffer"
    assert param_of(ArgumentNullException, lambda: UdpReceiveResult(b"\x01", None)) == "remoteEndPoint"
    buffer1, buffer2 = bytearray(b"\x2a"), bytearray(b"\x2a")
    ep1, ep2, ep3 = (
        IPEndPoint(IPAddress.Loopback, 123),
        IPEndPoint(IPAddress.Loopback, 123),
        IPEndPoint(IPAddress.Any, 456),
    )
    r = UdpReceiveResult(buffer1, ep1)
    assert r.Buffer is buffer1 and r.RemoteEndPoint is ep1 and r.remote_end_point is ep1
    assert r.GetHashCode() == UdpReceiveResult(buffer1, ep2).GetHashCode()
    assert r.Equals(UdpReceiveResult(buffer1, ep2)) and r == UdpReceiveResult(buffer1, ep2)
    assert not r.Equals(UdpReceiveResult(buffer2, ep1)) and r != UdpReceiveResult(buffer2, ep1)  # by reference, as .NET
    assert r != UdpReceiveResult(buffer1, ep3)
    assert not r.Equals(object())
    data, sender = r
    assert data is buffer1 and sender is ep1


# -- sending and receiving in every model --------------------------------------------------------


def test_send_receive(pair: tuple[UdpClient, UdpClient], af: AddressFamily) -> None:
    receiver, sender = pair
    to = local(receiver)
    assert sender.Send(b"abc", 3, to) == 3
    assert sender.Send(b"abcdef", 2, to) == 2
    assert sender.Send(memoryview(b"span"), to) == 4
    assert sender.Send(bytearray(b"host"), str(to.Address), to.Port) == 4
    assert sender.Send(b"hostbytes", 4, str(to.Address), to.Port) == 4
    got = [receiver.Receive(None) for _ in range(5)]
    assert [d for d, _ in got] == [b"abc", b"ab", b"span", b"host", b"host"]
    for _, remote in got:
        assert remote == local(sender)


def test_receive_timeout_is_socket_exception(pair: tuple[UdpClient, UdpClient]) -> None:
    receiver, _ = pair
    assert receiver.Client is not None
    receiver.Client.ReceiveTimeout = 50
    with pytest.raises(SocketException) as ei:
        receiver.Receive(None)
    assert ei.value.SocketErrorCode == SocketError.TimedOut


def test_available(pair: tuple[UdpClient, UdpClient]) -> None:
    from socket_helpers import wait_until

    receiver, sender = pair
    sender.Send(b"\x00", 1, local(receiver))
    assert wait_until(lambda: receiver.Available > 0)


def test_connected_send_receive(pair: tuple[UdpClient, UdpClient]) -> None:
    receiver, sender = pair
    sender.Connect(local(receiver))
    assert sender.Active
    assert sender.Send(b"one", 3) == 3
    assert sender.Send(b"two") == 3
    assert sender.Send(b"three", None) == 5
    assert sender.Send(b"four", 4, None) == 4
    assert sender.EndSend(sender.BeginSend(b"five", 4, None, None)) == 4
    # Three arguments: the third is the callback (state left out), or None for none.
    assert sender.EndSend(sender.BeginSend(b"5a", 2, None)) == 2
    called = threading.Event()
    ar = sender.BeginSend(b"5b", 2, lambda ar: called.set())
    assert called.wait(WAIT_MS / 1000) and ar.AsyncState is None
    assert sender.EndSend(ar) == 2
    assert run(sender.SendAsync(b"six", 3)) == 3
    assert run(sender.SendAsync(b"seven")) == 5
    got = [receiver.Receive()[0] for _ in range(9)]
    assert got == [b"one", b"two", b"three", b"four", b"five", b"5a", b"5b", b"six", b"seven"]


def test_connect_forms(af: AddressFamily) -> None:
    peer = UdpPeer(af)
    try:
        for target in (
            (peer.endpoint,),
            (peer.endpoint.Address, peer.endpoint.Port),
            (str(peer.endpoint.Address), peer.endpoint.Port),
        ):
            with UdpClient(af) as c:
                c.Connect(*target)
                assert c.Active and c.Send(b"k") == 1
                assert peer.recv()[0] == b"k"
    finally:
        peer.close()


def test_begin_end_send_receive(pair: tuple[UdpClient, UdpClient]) -> None:
    receiver, sender = pair
    to = local(receiver)
    rar = receiver.BeginReceive(None, "rs")
    sar = sender.BeginSend(b"apm", 3, to, None, "ss")
    assert sar.AsyncWaitHandle.WaitOne(WAIT_MS) and sar.AsyncState == "ss"
    assert sender.EndSend(sar) == 3
    assert rar.AsyncWaitHandle.WaitOne(WAIT_MS) and rar.AsyncState == "rs"
    data, remote = receiver.EndReceive(rar)
    assert data == b"apm" and remote == local(sender)
    assert sender.EndSend(sender.BeginSend(b"host", 4, str(to.Address), to.Port, None, None)) == 4
    assert sender.EndSend(sender.BeginSend(b"cb", 2, to, lambda ar: None, None)) == 2
    assert receiver.EndReceive(receiver.BeginReceive(None, None), None)[0] == b"host"
    assert receiver.EndReceive(receiver.BeginReceive(None, None))[0] == b"cb"
    assert param_of(ArgumentNullException, lambda: receiver.EndReceive(None)) == "asyncResult"


def test_from_async_send_receive(pair: tuple[UdpClient, UdpClient]) -> None:
    receiver, sender = pair
    to = local(receiver)

    async def main() -> None:
        receiving = asyncio.ensure_future(TaskFactory.FromAsync(receiver.BeginReceive, receiver.EndReceive))
        assert await TaskFactory.FromAsync(sender.BeginSend, sender.EndSend, b"fa", 2, to) == 2
        data, remote = await receiving
        assert data == b"fa" and remote == local(sender)

    run(main())


def test_send_receive_async_every_form(pair: tuple[UdpClient, UdpClient]) -> None:
    receiver, sender = pair
    to = local(receiver)
    cts = CancellationTokenSource()

    async def main() -> None:
        assert await sender.SendAsync(b"a1", 2, to) == 2
        assert await sender.SendAsync(b"a2", to) == 2
        assert await sender.SendAsync(b"a3", to, cts.Token) == 2
        assert await sender.SendAsync(b"a4xx", 2, str(to.Address), to.Port) == 2
        assert await sender.SendAsync(b"a5", str(to.Address), to.Port, cancellation_token=cts.Token) == 2
        results = [await receiver.ReceiveAsync() for _ in range(4)]
        results.append(await receiver.ReceiveAsync(cts.Token))
        assert [bytes(r.Buffer) for r in results] == [b"a1", b"a2", b"a3", b"a4", b"a5"]
        assert all(r.RemoteEndPoint == local(sender) for r in results)

    run(main())


def test_receive_async_cancelled_loses_nothing(pair: tuple[UdpClient, UdpClient]) -> None:
    receiver, sender = pair

    async def main() -> None:
        cts = CancellationTokenSource()
        task = asyncio.ensure_future(receiver.ReceiveAsync(cts.Token))
        await asyncio.sleep(0)
        cts.Cancel()
        with pytest.raises(OperationCanceledException):
            await task
        sender.Send(b"kept", 4, local(receiver))
        result = await receiver.ReceiveAsync()
        assert result.Buffer == b"kept"
        done = CancellationTokenSource()
        done.Cancel()
        with pytest.raises(OperationCanceledException):
            await receiver.ReceiveAsync(done.Token)
        with pytest.raises(OperationCanceledException):
            await sender.SendAsync(b"x", local(receiver), done.Token)

    run(main())


def test_close_ends_pending_receives(pair: tuple[UdpClient, UdpClient]) -> None:
    receiver, _ = pair
    assert receiver.Client is not None
    sock = receiver.Client
    ar = receiver.BeginReceive(None, None)
    receiver.Close()
    assert ar.AsyncWaitHandle.WaitOne(WAIT_MS)
    with pytest.raises(SocketException) as ei:
        sock.EndReceiveFrom(ar)
    assert ei.value.SocketErrorCode == SocketError.OperationAborted


def test_max_size_datagram(pair: tuple[UdpClient, UdpClient], af: AddressFamily) -> None:
    receiver, sender = pair
    big = bytes(range(256)) * 200  # 51200 bytes: over the old 8 KiB defaults, under 64 KiB
    assert sender.Send(big, len(big), local(receiver)) == len(big)
    assert receiver.Receive()[0] == big


@pytest.mark.skipif(not HAS_IPV6, reason="no IPv6 loopback on this machine")
def test_dual_mode_sender_to_ipv4_host() -> None:
    with UdpClient(IPEndPoint(IPAddress.Loopback, 0)) as receiver, UdpClient(AddressFamily.InterNetworkV6) as sender:
        assert sender.Client is not None and receiver.Client is not None
        sender.Client.DualMode = True
        receiver.Client.ReceiveTimeout = WAIT_MS
        assert sender.Send(b"\x01", 1, "127.0.0.1", local(receiver).Port) == 1
        data, remote = receiver.Receive()
        assert data == b"\x01" and remote.Address == IPAddress.Loopback
        with UdpClient(AddressFamily.InterNetworkV6) as v6only, pytest.raises(ArgumentException) as ei:
            v6only.Send(b"\x01", 1, "127.0.0.1", 9)  # v6-only: no usable address
        assert ei.value.ParamName == "hostname"


# -- the receive buffer ------------------------------------------------------------------------------


def test_a_receive_allocates_the_datagram_not_the_largest_one(pair: tuple[UdpClient, UdpClient]) -> None:
    """.NET keeps one 64 KiB buffer per client and makes only the received size per Receive: so do
    the models here (a spare buffer per client; a new one only while the spares are in use)."""
    import tracemalloc

    receiver, sender = pair
    to = local(receiver)
    sender.Send(b"warm", 4, to)
    assert receiver.Receive(None)[0] == b"warm"  # the client's spare buffer now exists
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        for i in range(5):
            sender.Send(b"small %d" % i, 7, to)
            assert receiver.Receive(None)[0] == b"small %d" % i
            ar = receiver.BeginReceive(None, None)
            sender.Send(b"begin %d" % i, 7, to)
            assert ar.AsyncWaitHandle.WaitOne(WAIT_MS)
            assert receiver.EndReceive(ar)[0] == b"begin %d" % i
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 0x10000 // 2, peak


def test_overlapping_receives_never_share_a_buffer(pair: tuple[UdpClient, UdpClient]) -> None:
    receiver, sender = pair
    to = local(receiver)
    big = bytes(range(256)) * 200
    sender.Send(big, len(big), to)
    assert receiver.Receive(None)[0] == big
    # Pending at once: each holds its own buffer; a short datagram after a long one is itself.
    first = receiver.BeginReceive(None, None)
    second = receiver.BeginReceive(None, None)
    sender.Send(b"one", 3, to)
    sender.Send(b"two", 3, to)
    assert first.AsyncWaitHandle.WaitOne(WAIT_MS) and second.AsyncWaitHandle.WaitOne(WAIT_MS)
    assert receiver.EndReceive(first)[0] == b"one"
    assert receiver.EndReceive(second)[0] == b"two"

    async def both() -> list[bytes]:
        pending = [asyncio.ensure_future(receiver.ReceiveAsync()) for _ in range(3)]
        await asyncio.sleep(0)
        for word in (b"a", b"bb", b"ccc"):
            sender.Send(word, len(word), to)
        return [r.Buffer for r in await asyncio.wait_for(asyncio.gather(*pending), WAIT_MS / 1000)]

    assert sorted(run(both())) == [b"a", b"bb", b"ccc"]
    sender.Send(big[:100], 100, to)
    assert receiver.Receive(None)[0] == big[:100]
