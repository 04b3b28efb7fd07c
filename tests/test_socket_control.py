"""``IOControl``, raw options, handles, what the OS supports, the Windows-only members, the static
``ConnectAsync``/``CancelConnectAsync`` and the ``TimeSpan`` forms of ``Poll``/``Select``.

The ``IOControl`` cases are ported from dotnet/runtime's ``OSSupport.cs``
(``IOControl_FIONREAD_Success``, ``IOControl_SIOCATMARK_Unix_Success``,
``IOControl_FIONBIO_Throws``, ``IOControl_UnknownValues_Unix_Throws``); the
handle cases from ``SafeHandleTest.cs``/``CreateSocketTests.cs``.
"""

from __future__ import annotations

import datetime
import os
import socket
import struct
import threading
from typing import Any

import pytest

from conftest import WAIT
from dotnet_sockets import (
    AddressFamily,
    ArgumentException,
    ArgumentNullException,
    ArgumentOutOfRangeException,
    ConnectAlgorithm,
    DnsEndPoint,
    InvalidOperationException,
    IOControlCode,
    IPAddress,
    IPEndPoint,
    IPProtectionLevel,
    NotSupportedException,
    ObjectDisposedException,
    PlatformNotSupportedException,
    ProtocolFamily,
    ProtocolType,
    SafeSocketHandle,
    SelectMode,
    Socket,
    SocketAsyncEventArgs,
    SocketError,
    SocketException,
    SocketFlags,
    SocketInformation,
    SocketInformationOptions,
    SocketOptionName,
    SocketType,
    TransmitFileOptions,
)
from socket_helpers import Made, refused_endpoint, wait_until


def _int32(data: bytes | bytearray) -> int:
    return int(struct.unpack("<i", bytes(data))[0])


# -- IOControl ---------------------------------------------------------------------------------------
def test_fionread(made: Made) -> None:
    client = made.tcp()
    for out in (None, bytearray(0), bytearray(3)):
        with pytest.raises(SocketException) as ei:
            client.IOControl(IOControlCode.DataToRead, None, out)
        assert ei.value.SocketErrorCode == SocketError.Fault
    result = bytearray(4)
    assert client.IOControl(IOControlCode.DataToRead, None, result) == 4
    assert _int32(result) == client.Available == 0
    assert client.IOControl(int(IOControlCode.DataToRead), None, result) == 4
    listener = made.listener()
    client.Connect(listener.LocalEndPoint)
    server = made.track(listener.Accept())
    server.Send(bytes([42]))
    assert wait_until(lambda: client.Available != 0)
    assert client.IOControl(IOControlCode.DataToRead, None, result) == 4
    assert _int32(result) == client.Available == 1


def test_siocatmark(made: Made) -> None:
    client = made.tcp()
    for out in (None, bytearray(0), bytearray(3)):
        with pytest.raises(SocketException):
            client.IOControl(IOControlCode.OobDataRead, None, out)
    listener = made.listener()
    client.Connect(listener.LocalEndPoint)
    server = made.track(listener.Accept())
    result = bytearray(4)
    assert client.IOControl(IOControlCode.OobDataRead, None, result) == 4
    assert _int32(result) == 0
    server.Send(bytes([42]), SocketFlags.None_)
    server.Send(bytes([43]), SocketFlags.OutOfBand)
    assert wait_until(lambda: client.Available >= 1)
    client.IOControl(IOControlCode.OobDataRead, None, result)
    assert _int32(result) == 0  # not at the mark yet
    client.ReceiveTimeout = int(WAIT * 1000)
    received = bytearray(1)
    assert client.Receive(received) == 1 and received[0] == 42
    assert client.IOControl(IOControlCode.OobDataRead, None, result) == 4
    assert _int32(result) == 1  # at the mark
    assert client.Receive(received, SocketFlags.OutOfBand) == 1 and received[0] == 43
    client.IOControl(IOControlCode.OobDataRead, None, result)
    assert _int32(result) == 1


def test_fionbio_throws_invalid_operation(made: Made) -> None:
    client = made.tcp()
    with pytest.raises(InvalidOperationException):
        client.IOControl(IOControlCode.NonBlockingIO, None, None)
    # .NET's unchecked((int)IOControlCode.NonBlockingIO), a negative int.
    with pytest.raises(InvalidOperationException):
        client.IOControl(int(IOControlCode.NonBlockingIO) - (1 << 32), None, None)
    assert client.Blocking


def test_every_other_code_throws_platform_not_supported(made: Made) -> None:
    client = made.tcp()
    works = {IOControlCode.NonBlockingIO, IOControlCode.DataToRead, IOControlCode.OobDataRead}
    for code in IOControlCode:
        if code in works:
            continue
        with pytest.raises(PlatformNotSupportedException):
            client.IOControl(code, None, None)
        with pytest.raises(PlatformNotSupportedException):
            client.IOControl(int(code) - (1 << 32) if code >= 1 << 31 else int(code), None, None)
    with pytest.raises(PlatformNotSupportedException):
        client.IOControl(12345, None, bytearray(4))


def test_iocontrol_on_a_disposed_socket(made: Made) -> None:
    client = made.tcp()
    client.Dispose()
    with pytest.raises(ObjectDisposedException):
        client.IOControl(IOControlCode.DataToRead, None, bytearray(4))
    with pytest.raises(ArgumentException):
        made.tcp().IOControl("DataToRead", None, bytearray(4))


def test_io_control_code_values_are_dotnets() -> None:
    assert IOControlCode.DataToRead == 0x4004667F and IOControlCode.NonBlockingIO == 0x8004667E
    assert IOControlCode.OobDataRead == 0x40047307 and IOControlCode.KeepAliveValues == 0x98000004
    assert IOControlCode.NamespaceChange != IOControlCode.AddressListSort
    assert len(IOControlCode) == 34


# -- raw options --------------------------------------------------------------------------------------
def test_raw_socket_options_round_trip(made: Made) -> None:
    s = made.udp()
    s.SetRawSocketOption(socket.SOL_SOCKET, socket.SO_REUSEADDR, struct.pack("i", 1))
    out = bytearray(4)
    assert s.GetRawSocketOption(socket.SOL_SOCKET, socket.SO_REUSEADDR, out) == 4
    assert struct.unpack("i", out)[0] == 1
    assert s.GetSocketOption(0xFFFF, SocketOptionName.ReuseAddress) == 1
    big = bytearray(16)
    assert s.GetRawSocketOption(socket.SOL_SOCKET, socket.SO_RCVBUF, big) == 4
    with pytest.raises(SocketException) as ei:
        s.SetRawSocketOption(socket.SOL_SOCKET, 0x7FFF, b"\0\0\0\0")
    assert ei.value.SocketErrorCode == SocketError.ProtocolOption
    with pytest.raises(ArgumentNullException) as ei2:
        s.SetRawSocketOption(socket.SOL_SOCKET, socket.SO_REUSEADDR, None)
    assert ei2.value.ParamName == "optionValue"
    with pytest.raises(ArgumentException):
        s.GetRawSocketOption(socket.SOL_SOCKET, socket.SO_REUSEADDR, b"read-only")
    s.Dispose()
    with pytest.raises(ObjectDisposedException):
        s.GetRawSocketOption(socket.SOL_SOCKET, socket.SO_REUSEADDR, out)


# -- OS support and obsolete members ---------------------------------------------------------------
def test_os_supports() -> None:
    assert Socket.OSSupportsIPv4 is True and Socket.OSSupportsUnixDomainSockets is True
    assert Socket.SupportsIPv4 == Socket.OSSupportsIPv4 and Socket.SupportsIPv6 == Socket.OSSupportsIPv6
    assert Socket.os_supports_ipv6 == Socket.OSSupportsIPv6
    try:
        socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).close()
        v6 = True
    except OSError:
        v6 = False
    assert Socket.OSSupportsIPv6 == v6


def test_use_only_overlapped_io_is_always_false(made: Made) -> None:
    s = made.tcp()
    assert s.UseOnlyOverlappedIO is False
    s.UseOnlyOverlappedIO = True
    assert s.UseOnlyOverlappedIO is False


# -- Windows-only members ----------------------------------------------------------------------------
def test_windows_only_members_raise_platform_not_supported(made: Made) -> None:
    s = made.tcp()
    with pytest.raises(PlatformNotSupportedException):
        s.DuplicateAndClose(os.getpid())
    with pytest.raises(PlatformNotSupportedException):
        Socket(SocketInformation(SocketInformationOptions.Connected, b"\0" * 16))
    with pytest.raises(ArgumentException) as ei:
        s.SetIPProtectionLevel(IPProtectionLevel.Unspecified)
    assert ei.value.ParamName == "level"
    for level in (IPProtectionLevel.Unrestricted, IPProtectionLevel.EdgeRestricted, IPProtectionLevel.Restricted):
        with pytest.raises(PlatformNotSupportedException):
            s.SetIPProtectionLevel(level)
    unix = made.track(Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
    with pytest.raises(NotSupportedException):
        unix.SetIPProtectionLevel(IPProtectionLevel.Restricted)
    assert isinstance(PlatformNotSupportedException(), NotSupportedException)
    assert s.Connected is False and not s._disposed  # nothing happened to the socket


def test_socket_information_is_a_plain_record() -> None:
    info = SocketInformation()
    info.Options = SocketInformationOptions.NonBlocking | SocketInformationOptions.Listening
    info.ProtocolInformation = b"abc"
    assert info.options == SocketInformationOptions.NonBlocking | SocketInformationOptions.Listening
    assert info == SocketInformation(5, b"abc")


# -- SafeHandle and Socket(SafeSocketHandle) ------------------------------------------------------------
def test_safe_handle_does_not_own_the_socket(made: Made) -> None:
    s = made.udp()
    h = s.SafeHandle
    assert isinstance(h, SafeSocketHandle) and not h.IsInvalid
    assert h.DangerousGetHandle() == s.Handle
    h.Dispose()
    assert h.IsClosed
    assert s.LocalEndPoint is not None  # still open
    s.Dispose()
    with pytest.raises(ObjectDisposedException):
        s.SafeHandle  # noqa: B018


def test_socket_from_an_owning_handle_adopts_it(made: Made) -> None:
    plain = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    plain.bind(("127.0.0.1", 0))
    port = plain.getsockname()[1]
    handle = SafeSocketHandle(plain.detach(), True)
    s = made.track(Socket(handle))
    assert (s.AddressFamily, s.SocketType, s.ProtocolType) == (
        AddressFamily.InterNetwork,
        SocketType.Dgram,
        ProtocolType.Udp,
    )
    assert s.IsBound and s.LocalEndPoint == IPEndPoint(IPAddress.Loopback, port)
    assert not s.Connected and s.Blocking
    peer = made.udp()
    peer.SendTo(b"hi", s.LocalEndPoint)
    s.ReceiveTimeout = int(WAIT * 1000)
    n, sender = s.ReceiveFrom(bytearray(4), IPEndPoint(IPAddress.Any, 0))
    assert n == 2 and sender == peer.LocalEndPoint
    fd = s.Handle
    s.Dispose()
    with pytest.raises(OSError):
        os.fstat(fd)  # the socket closed the descriptor it owned


def test_socket_from_a_non_owning_handle_reads_connected_state(made: Made) -> None:
    listener = made.listener()
    plain = socket.create_connection(("127.0.0.1", listener.LocalEndPoint.Port), timeout=WAIT)
    plain.setblocking(False)
    server = made.track(listener.Accept())
    s = Socket(SafeSocketHandle(plain.fileno(), False))
    try:
        assert s.Connected and s.RemoteEndPoint == server.LocalEndPoint
        assert not s.Blocking  # read from the descriptor, as .NET does
        s.Blocking = True
        s.Send(b"x")
        server.ReceiveTimeout = int(WAIT * 1000)
        assert server.Receive(bytearray(1)) == 1
    finally:
        s.Dispose()
    plain.sendall(b"still open")  # the handle did not own the descriptor
    plain.close()


def test_socket_from_a_listening_handle(made: Made) -> None:
    plain = socket.socket(socket.AF_INET6 if Socket.OSSupportsIPv6 else socket.AF_INET, socket.SOCK_STREAM)
    plain.bind(("::1" if plain.family == socket.AF_INET6 else "127.0.0.1", 0))
    plain.listen()
    s = made.track(Socket(SafeSocketHandle(plain.detach(), True)))
    assert s.IsBound and s._listening
    client = made.tcp(s.AddressFamily)
    client.Connect(s.LocalEndPoint)
    assert made.track(s.Accept()).Connected


def test_socket_from_bad_handles(tmp_path: Any) -> None:
    with pytest.raises(ArgumentNullException) as ei:
        Socket(handle=None)
    assert ei.value.ParamName == "handle"
    with pytest.raises(ArgumentException):
        Socket(SafeSocketHandle())  # invalid (-1)
    f = open(tmp_path / "not-a-socket", "wb")  # noqa: SIM115
    try:
        with pytest.raises(SocketException) as ei2:
            Socket(SafeSocketHandle(f.fileno(), False))
        assert ei2.value.SocketErrorCode == SocketError.NotSocket
    finally:
        f.close()
    closed = SafeSocketHandle(socket.socket().detach(), True)
    closed.Dispose()
    with pytest.raises(ArgumentException):
        Socket(closed)


# -- static ConnectAsync / CancelConnectAsync -----------------------------------------------------------
def _connect_static(e: SocketAsyncEventArgs, *extra: Any) -> SocketAsyncEventArgs:
    done = threading.Event()
    e.Completed += lambda sender, args: done.set()
    if Socket.ConnectAsync(SocketType.Stream, ProtocolType.Tcp, e, *extra):
        assert done.wait(WAIT)
    return e


def test_static_connect_async_makes_and_connects_a_socket(made: Made) -> None:
    listener = made.listener()
    e = SocketAsyncEventArgs()
    e.RemoteEndPoint = listener.LocalEndPoint
    _connect_static(e)
    assert e.SocketError == SocketError.Success
    s = made.track(e.ConnectSocket)
    assert s.Connected and s.RemoteEndPoint == listener.LocalEndPoint
    assert made.track(listener.Accept()).RemoteEndPoint == s.LocalEndPoint


def test_static_connect_async_to_a_name_uses_a_dual_mode_socket(made: Made) -> None:
    listener = made.listener()
    e = SocketAsyncEventArgs()
    e.RemoteEndPoint = DnsEndPoint("127.0.0.1", listener.LocalEndPoint.Port)
    _connect_static(e, ConnectAlgorithm.Default)
    assert e.SocketError == SocketError.Success
    s = made.track(e.ConnectSocket)
    assert s.Connected


def test_static_connect_async_failure_closes_its_socket(made: Made) -> None:
    e = SocketAsyncEventArgs()
    e.RemoteEndPoint = refused_endpoint()
    _connect_static(e)
    assert e.SocketError == SocketError.ConnectionRefused
    assert e.ConnectSocket is None


def test_static_connect_async_checks(made: Made) -> None:
    with pytest.raises(ArgumentNullException) as ei:
        Socket.ConnectAsync(SocketType.Stream, ProtocolType.Tcp, None)
    assert ei.value.ParamName == "e"
    e = SocketAsyncEventArgs()
    with pytest.raises(ArgumentNullException) as ei2:
        Socket.ConnectAsync(SocketType.Stream, ProtocolType.Tcp, e)
    assert ei2.value.ParamName == "remoteEP"
    e.BufferList = [bytearray(1)]
    e.RemoteEndPoint = IPEndPoint(IPAddress.Loopback, 1)
    with pytest.raises(ArgumentException) as ei3:
        Socket.ConnectAsync(SocketType.Stream, ProtocolType.Tcp, e)
    assert ei3.value.ParamName == "BufferList"


def test_cancel_connect_async_aborts_a_pending_connect(made: Made) -> None:
    # A listener whose backlog is full leaves further connects pending (SYNs dropped).
    listener = made.listener(backlog=0)
    fillers = []
    for _ in range(8):
        c = made.tcp()
        c.Blocking = False
        try:
            c.Connect(listener.LocalEndPoint)
        except SocketException:
            pass
        fillers.append(c)
    e = SocketAsyncEventArgs()
    done = threading.Event()
    e.Completed += lambda sender, args: done.set()
    e.RemoteEndPoint = listener.LocalEndPoint
    if not Socket.ConnectAsync(SocketType.Stream, ProtocolType.Tcp, e):
        pytest.skip("the connect finished at once; nothing to cancel")
    if done.wait(0.2):
        pytest.skip("the kernel accepted the connection after all")
    Socket.CancelConnectAsync(e)
    assert done.wait(WAIT)
    assert e.SocketError == SocketError.OperationAborted and e.ConnectSocket is None
    Socket.CancelConnectAsync(e)  # nothing pending: nothing happens
    with pytest.raises(ArgumentNullException):
        Socket.CancelConnectAsync(None)  # type: ignore[arg-type]


# -- Poll and Select with a timedelta (.NET's TimeSpan overloads) -------------------------------------
def test_poll_with_timedelta(made: Made) -> None:
    r = made.udp()
    s = made.udp()
    assert not r.Poll(datetime.timedelta(milliseconds=10), SelectMode.SelectRead)
    s.SendTo(b"x", r.LocalEndPoint)
    assert r.Poll(datetime.timedelta(seconds=WAIT), SelectMode.SelectRead)
    assert r.Poll(datetime.timedelta(milliseconds=-1), SelectMode.SelectRead)  # infinite; ready already
    for bad in (datetime.timedelta(milliseconds=-2), datetime.timedelta(seconds=3000)):
        with pytest.raises(ArgumentOutOfRangeException) as ei:
            r.Poll(bad, SelectMode.SelectRead)
        assert ei.value.ParamName == "timeout"


def test_select_with_timedelta(made: Made) -> None:
    r = made.udp()
    s = made.udp()
    check = [r]
    Socket.Select(check, None, None, datetime.timedelta(milliseconds=10))
    assert check == []
    s.SendTo(b"x", r.LocalEndPoint)
    check = [r, s]
    Socket.Select(check, None, None, datetime.timedelta(seconds=WAIT))
    assert check == [r]
    with pytest.raises(ArgumentOutOfRangeException):
        Socket.Select([r], None, None, datetime.timedelta(milliseconds=-5))


# -- enums ---------------------------------------------------------------------------------------------
def test_new_enums_have_dotnets_values() -> None:
    assert ProtocolFamily.InterNetworkV6 == 23 and ProtocolFamily.Packet == 65536 and ProtocolFamily.NS == 6
    assert len(ProtocolFamily.__members__) == 33
    assert [int(x) for x in IPProtectionLevel] == [-1, 10, 20, 30]
    assert SocketInformationOptions.UseOnlyOverlappedIO == 8
    assert TransmitFileOptions.UseDefaultWorkerThread == 0 and TransmitFileOptions.UseKernelApc == 32
    assert ConnectAlgorithm.Parallel == 1
    assert SocketOptionName.FastOpen == 15


def test_fast_open_option_reaches_tcp_fastopen(made: Made) -> None:
    from dotnet_sockets import SocketOptionLevel

    listener = made.listener()
    listener.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.FastOpen, 5)
    assert listener.GetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.FastOpen) == 5


def test_protocol_family_is_address_family_by_another_name() -> None:
    assert {n: int(v) for n, v in ProtocolFamily.__members__.items()} == {
        n: int(v) for n, v in AddressFamily.__members__.items()
    }
    assert str(ProtocolFamily(6)) == str(AddressFamily(6)) == "Ipx"
    assert str(TransmitFileOptions.Disconnect | TransmitFileOptions.ReuseSocket) == "Disconnect, ReuseSocket"
    assert format(IOControlCode.NonBlockingIO, "X") == "8004667E"


def test_socket_task_extensions_call_the_sockets_own_methods(made: Made) -> None:
    import asyncio

    from dotnet_sockets import SocketTaskExtensions

    listener = made.listener()
    client = made.tcp()
    receiver = made.udp()
    sender = made.udp()

    async def main() -> None:
        accept = asyncio.ensure_future(SocketTaskExtensions.AcceptAsync(listener))
        await SocketTaskExtensions.ConnectAsync(client, listener.LocalEndPoint)
        server = made.track(await asyncio.wait_for(accept, WAIT))
        assert await SocketTaskExtensions.SendAsync(client, b"hi", SocketFlags.None_) == 2
        buf = bytearray(4)
        assert await asyncio.wait_for(SocketTaskExtensions.ReceiveAsync(server, buf, SocketFlags.None_), WAIT) == 2
        any_ep = IPEndPoint(IPAddress.Any, 0)
        await SocketTaskExtensions.SendToAsync(sender, b"dg", SocketFlags.None_, receiver.LocalEndPoint)
        received = SocketTaskExtensions.ReceiveFromAsync(receiver, buf, SocketFlags.None_, any_ep)
        n, ep = await asyncio.wait_for(received, WAIT)
        assert n == 2 and ep == sender.LocalEndPoint
        await SocketTaskExtensions.SendToAsync(sender, b"m", SocketFlags.None_, receiver.LocalEndPoint)
        result = await asyncio.wait_for(
            SocketTaskExtensions.ReceiveMessageFromAsync(receiver, buf, SocketFlags.None_, any_ep), WAIT
        )
        assert result.ReceivedBytes == 1

    asyncio.run(main())
    with pytest.raises(ArgumentNullException) as ei:
        SocketTaskExtensions.SendAsync(None, b"x")  # type: ignore[arg-type]
    assert ei.value.ParamName == "socket"
    with pytest.raises(ArgumentException):
        SocketTaskExtensions.receive_async("not a socket", bytearray(1))  # type: ignore[arg-type]
