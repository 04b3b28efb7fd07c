"""``ReceiveMessageFrom`` in every model, ported from dotnet/runtime's ``ReceiveMessageFrom.cs``.

One body per scenario runs through the synchronous call, Begin/End, the
``SocketAsyncEventArgs`` form and the awaitable form, on IPv4 and IPv6
loopback: the data, the sender, and the packet information (the address the
datagram was sent to, the interface it came in on).
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Callable
from typing import Any

import pytest

from conftest import FAMILIES, HAS_IPV6, WAIT, loopback
from dotnet_sockets import (
    AddressFamily,
    ArgumentException,
    ArgumentNullException,
    ArgumentOutOfRangeException,
    DnsEndPoint,
    EndPoint,
    InvalidOperationException,
    IPAddress,
    IPEndPoint,
    IPPacketInformation,
    ObjectDisposedException,
    ProtocolType,
    Socket,
    SocketAsyncEventArgs,
    SocketAsyncOperation,
    SocketError,
    SocketException,
    SocketFlags,
    SocketOptionLevel,
    SocketOptionName,
    SocketReceiveMessageFromResult,
    SocketType,
)
from socket_helpers import Made

Receive = Callable[[Socket, Any, EndPoint], SocketReceiveMessageFromResult]


def _sync(s: Socket, buf: Any, ep: EndPoint) -> SocketReceiveMessageFromResult:
    return s.ReceiveMessageFrom(buf, 0, len(buf), SocketFlags.None_, ep)


def _apm(s: Socket, buf: Any, ep: EndPoint) -> SocketReceiveMessageFromResult:
    ar = s.BeginReceiveMessageFrom(buf, 0, len(buf), SocketFlags.None_, ep, None, None)
    assert ar.AsyncWaitHandle.WaitOne(int(WAIT * 1000))
    return s.EndReceiveMessageFrom(ar, SocketFlags.None_, ep)


def _event(s: Socket, buf: Any, ep: EndPoint) -> SocketReceiveMessageFromResult:
    e = SocketAsyncEventArgs()
    done = threading.Event()
    e.Completed += lambda sender, args: done.set()
    e.SetBuffer(buf, 0, len(buf))
    e.RemoteEndPoint = ep
    if s.ReceiveMessageFromAsync(e):
        assert done.wait(WAIT)
    assert e.LastOperation == SocketAsyncOperation.ReceiveMessageFrom
    if e.SocketError != SocketError.Success:
        raise SocketException(e.SocketError)
    assert e.RemoteEndPoint is not None
    return SocketReceiveMessageFromResult(
        e.BytesTransferred, SocketFlags(e.SocketFlags), e.RemoteEndPoint, e.ReceiveMessageFromPacketInfo
    )


def _task(s: Socket, buf: Any, ep: EndPoint) -> SocketReceiveMessageFromResult:
    async def main() -> SocketReceiveMessageFromResult:
        return await asyncio.wait_for(s.ReceiveMessageFromAsync(buf, SocketFlags.None_, ep), WAIT)

    return asyncio.run(main())


MODELS: dict[str, Receive] = {"sync": _sync, "apm": _apm, "event": _event, "asyncio": _task}


@pytest.fixture(params=list(MODELS))
def receive(request: pytest.FixtureRequest) -> Receive:
    return MODELS[request.param]


@pytest.fixture(params=FAMILIES)
def af(request: pytest.FixtureRequest) -> AddressFamily:
    return request.param  # type: ignore[no-any-return]



def any_ep(af: AddressFamily) -> IPEndPoint:
    return IPEndPoint(IPAddress.Any if af == AddressFamily.InterNetwork else IPAddress.IPv6Any, 0)


def test_receive_sent_messages(made: Made, af: AddressFamily, receive: Receive) -> None:
    """ReceiveSentMessages_Success: data, sender and packet information of 16 datagrams."""
    receiver = made.udp(af)
    sender = made.udp(af)
    level = SocketOptionLevel.IP if af == AddressFamily.InterNetwork else SocketOptionLevel.IPv6
    receiver.SetSocketOption(level, SocketOptionName.PacketInformation, True)
    receiver.ReceiveTimeout = int(WAIT * 1000)
    rnd = random.Random(0)
    for _ in range(16):
        data = rnd.randbytes(256)
        sender.SendTo(data, receiver.LocalEndPoint)
        buf = bytearray(256)
        result = receive(receiver, buf, any_ep(af))
        assert result.ReceivedBytes == 256 and bytes(buf) == data
        assert result.RemoteEndPoint == sender.LocalEndPoint
        assert result.PacketInformation.Address == loopback(af)
        assert result.PacketInformation.Interface > 0  # the loopback interface's index
        assert result.SocketFlags == SocketFlags.None_
        n, flags, remote, info = result  # unpacks as .NET's return value and ref/out arguments
        assert (n, flags, remote, info) == tuple(result)


def test_packet_information_is_asked_for_by_the_first_call(made: Made, af: AddressFamily, receive: Receive) -> None:
    """Without the option set beforehand, a datagram that arrives after the call still has it."""
    receiver = made.udp(af)
    sender = made.udp(af)
    receiver.ReceiveTimeout = int(WAIT * 1000)
    started = threading.Event()

    def send_later() -> None:
        started.wait(WAIT)
        sender.SendTo(b"late", receiver.LocalEndPoint)

    t = threading.Thread(target=send_later)
    t.start()
    try:
        receiver._receive_packet_information()  # what the call does first; the datagram comes after it
        started.set()
        buf = bytearray(8)
        result = receive(receiver, buf, any_ep(af))
    finally:
        t.join(WAIT)
    assert result.ReceivedBytes == 4
    assert result.PacketInformation.Address == loopback(af)


def test_truncated_datagram_reports_truncated(made: Made, af: AddressFamily, receive: Receive) -> None:
    receiver = made.udp(af)
    sender = made.udp(af)
    receiver.ReceiveTimeout = int(WAIT * 1000)
    sender.SendTo(b"0123456789", receiver.LocalEndPoint)
    buf = bytearray(4)
    result = receive(receiver, buf, any_ep(af))
    assert result.ReceivedBytes == 4 and bytes(buf) == b"0123"
    assert result.SocketFlags & SocketFlags.Truncated


@pytest.mark.skipif(not HAS_IPV6, reason="no IPv6 loopback")
def test_dual_mode_socket_reports_ipv4_senders_mapped(made: Made, receive: Receive) -> None:
    receiver = made.track(Socket(SocketType.Dgram, ProtocolType.Udp))
    receiver.Bind(IPEndPoint(IPAddress.IPv6Any, 0))
    receiver.ReceiveTimeout = int(WAIT * 1000)
    sender = made.udp(AddressFamily.InterNetwork)
    port = receiver.LocalEndPoint.Port
    sender.SendTo(b"v4", IPEndPoint(IPAddress.Loopback, port))
    result = receive(receiver, bytearray(8), IPEndPoint(IPAddress.Any, 0))
    assert result.ReceivedBytes == 2
    assert result.RemoteEndPoint == IPEndPoint(IPAddress.Loopback.MapToIPv6(), sender.LocalEndPoint.Port)
    assert result.PacketInformation.Address == IPAddress.Loopback


# -- argument checks: the same in every model -----------------------------------------------------
def _call(receive: Receive, s: Socket, buf: Any, ep: Any) -> Any:
    return receive(s, buf, ep)


def test_checks_in_dotnet_order(made: Made, receive: Receive) -> None:
    s = made.udp()
    ep = any_ep(AddressFamily.InterNetwork)
    with pytest.raises(ArgumentNullException) as ei:
        s.ReceiveMessageFrom(None, 0, 0, SocketFlags.None_, ep)
    assert ei.value.ParamName == "buffer"
    with pytest.raises(ArgumentOutOfRangeException) as ei2:
        s.ReceiveMessageFrom(bytearray(4), 5, 0, SocketFlags.None_, ep)
    assert ei2.value.ParamName == "offset"
    with pytest.raises(ArgumentOutOfRangeException) as ei3:
        s.ReceiveMessageFrom(bytearray(4), 1, 4, SocketFlags.None_, ep)
    assert ei3.value.ParamName == "size"
    for bad in (None, DnsEndPoint("localhost", 1), IPEndPoint(IPAddress.IPv6Loopback, 1)):
        with pytest.raises(ArgumentException) as ei4:
            _call(receive, s, bytearray(4), bad)
        assert ei4.value.ParamName in ("remoteEP", "e")
    unbound = made()
    with pytest.raises(InvalidOperationException):
        _call(receive, unbound, bytearray(4), ep)
    with pytest.raises(ArgumentException):
        _call(receive, s, b"read-only", ep)
    s.Dispose()
    with pytest.raises(ObjectDisposedException):
        _call(receive, s, bytearray(4), ep)


def test_event_model_checks_e(made: Made) -> None:
    s = made.udp()
    with pytest.raises(ArgumentNullException) as ei:
        s.ReceiveMessageFromAsync(None)
    assert ei.value.ParamName == "e"
    e = SocketAsyncEventArgs()
    e.SetBuffer(bytearray(4), 0, 4)
    with pytest.raises(ArgumentException) as ei2:
        s.ReceiveMessageFromAsync(e)  # no RemoteEndPoint
    assert ei2.value.ParamName == "e"
    e.RemoteEndPoint = IPEndPoint(IPAddress.IPv6Any, 0)
    with pytest.raises(ArgumentException) as ei3:
        s.ReceiveMessageFromAsync(e)
    assert ei3.value.ParamName == "e"


def test_a_flag_linux_lacks_fails_the_receive(made: Made, receive: Receive) -> None:
    s = made.udp()
    with pytest.raises(SocketException) as ei:
        s.ReceiveMessageFrom(bytearray(4), 0, 4, SocketFlags.Partial, any_ep(AddressFamily.InterNetwork))
    assert ei.value.SocketErrorCode == SocketError.OperationNotSupported


def test_end_receive_message_from_misuse(made: Made) -> None:
    s = made.udp()
    other = made.udp()
    other.SendTo(b"x", s.LocalEndPoint)
    ep = any_ep(AddressFamily.InterNetwork)
    ar = s.BeginReceiveMessageFrom(bytearray(4), 0, 4, SocketFlags.None_, ep, None, None)
    with pytest.raises(ArgumentNullException) as ei:
        s.EndReceiveMessageFrom(ar, SocketFlags.None_, None)
    assert ei.value.ParamName == "endPoint"
    with pytest.raises(ArgumentException) as ei2:
        s.EndReceiveMessageFrom(ar, SocketFlags.None_, IPEndPoint(IPAddress.IPv6Any, 0))
    assert ei2.value.ParamName == "endPoint"
    with pytest.raises(ArgumentException) as ei3:
        other.EndReceiveMessageFrom(ar)
    assert ei3.value.ParamName == "asyncResult"
    assert s.EndReceiveMessageFrom(ar).ReceivedBytes == 1
    with pytest.raises(InvalidOperationException):
        s.EndReceiveMessageFrom(ar)
    with pytest.raises(ArgumentNullException):
        s.EndReceiveMessageFrom(None)  # type: ignore[arg-type]
    ar2 = s.BeginReceiveFrom(bytearray(4), 0, 4, SocketFlags.None_, ep)
    with pytest.raises(ArgumentException):
        s.EndReceiveMessageFrom(ar2)
    s.Dispose()


def test_close_during_pending_receive_aborts_it_once(made: Made, recorder: Any) -> None:
    s = made.udp()
    rec = recorder()
    ar = s.BeginReceiveMessageFrom(bytearray(4), 0, 4, SocketFlags.None_, any_ep(AddressFamily.InterNetwork), rec, 7)
    assert not ar.IsCompleted
    s.Close()
    assert rec.wait(1) and len(rec.calls) == 1 and ar.AsyncState == 7
    with pytest.raises(SocketException) as ei:
        s.EndReceiveMessageFrom(ar)
    assert ei.value.SocketErrorCode == SocketError.OperationAborted


def test_cancelled_await_takes_no_datagram(made: Made) -> None:
    receiver = made.udp()
    sender = made.udp()
    receiver.ReceiveTimeout = int(WAIT * 1000)

    async def main() -> None:
        task = asyncio.ensure_future(receiver.ReceiveMessageFromAsync(bytearray(8), any_ep(AddressFamily.InterNetwork)))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    sender.SendTo(b"kept", receiver.LocalEndPoint)
    assert receiver.ReceiveMessageFrom(bytearray(8), SocketFlags.None_, any_ep(AddressFamily.InterNetwork))[0] == 4


@pytest.mark.parametrize("buffer_mode", [0, 1, 2])
def test_event_args_reused_for_many_receives(made: Made, af: AddressFamily, buffer_mode: int) -> None:
    """ReceiveSentMessages_ReuseEventArgs_Success: one args object, single buffer or buffer lists."""
    receiver = made.udp(af)
    sender = made.udp(af)
    level = SocketOptionLevel.IP if af == AddressFamily.InterNetwork else SocketOptionLevel.IPv6
    receiver.SetSocketOption(level, SocketOptionName.PacketInformation, True)
    e = SocketAsyncEventArgs()
    completed = threading.Event()
    e.Completed += lambda sender_, args: completed.set()
    e.RemoteEndPoint = any_ep(af)
    for i in range(30):
        if buffer_mode == 0:
            e.SetBuffer(bytearray(1024), 0, 1024)
        elif buffer_mode == 1:
            e.BufferList = [bytearray(1024)]
        else:
            e.BufferList = [bytearray(512), (bytearray(600), 88, 512)]
        pending = receiver.ReceiveMessageFromAsync(e)
        payload = bytes([i]) * 1024
        sender.SendTo(payload, receiver.LocalEndPoint)
        if pending:
            assert completed.wait(WAIT)
        completed.clear()
        assert e.SocketError == SocketError.Success
        assert e.BytesTransferred == 1024
        assert e.RemoteEndPoint == sender.LocalEndPoint
        assert e.ReceiveMessageFromPacketInfo.Address == loopback(af)
        if buffer_mode == 2:
            first, (second, off, _) = e.BufferList
            assert bytes(first) + bytes(second[off : off + 512]) == payload
        e.BufferList = None


def test_ip_packet_information_value_semantics() -> None:
    default = IPPacketInformation()
    assert default.Address is None and default.Interface == 0
    a = IPPacketInformation(IPAddress.Loopback, 1)
    b = IPPacketInformation(IPAddress.Parse("127.0.0.1"), 1)
    assert a == b and a.Equals(b) and hash(a) == hash(b) == a.GetHashCode()
    assert a != IPPacketInformation(IPAddress.Loopback, 2)
    assert a != default and not a.Equals("x")
    assert IPPacketInformation.get_hash_code is IPPacketInformation.GetHashCode
    assert SocketAsyncEventArgs().ReceiveMessageFromPacketInfo == default


def test_cancellation_token_ends_the_await_and_takes_no_datagram(made: Made) -> None:
    from dotnet_sockets import CancellationTokenSource, OperationCanceledException

    receiver = made.udp()
    sender = made.udp()
    receiver.ReceiveTimeout = int(WAIT * 1000)
    cts = CancellationTokenSource()
    ep = any_ep(AddressFamily.InterNetwork)

    async def main() -> None:
        task = asyncio.ensure_future(receiver.ReceiveMessageFromAsync(bytearray(8), SocketFlags.None_, ep, cts.Token))
        await asyncio.sleep(0.01)
        cts.Cancel()
        with pytest.raises(OperationCanceledException) as ei:
            await asyncio.wait_for(task, WAIT)
        assert ei.value.CancellationToken == cts.Token
        # Already cancelled: raises at once; by keyword too.
        with pytest.raises(OperationCanceledException):
            await receiver.ReceiveMessageFromAsync(bytearray(8), ep, cancellation_token=cts.Token)

    asyncio.run(main())
    sender.SendTo(b"kept", receiver.LocalEndPoint)
    assert receiver.ReceiveMessageFrom(bytearray(8), SocketFlags.None_, ep).ReceivedBytes == 4
