"""TcpClient: what dotnet/runtime's TcpClientTest.cs checks, on loopback, in every model and family.

The peers are TcpListener or library sockets on 127.0.0.1 / ::1; every wait is bounded (socket
timeouts, asyncio.wait_for, WaitOne with a limit).
"""

from __future__ import annotations

import asyncio
import datetime
import io
from collections.abc import Iterator
from typing import Any

import pytest

from client_helpers import WAIT_MS, param_of, pending_connection, run
from conftest import HAS_IPV6, loopback
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
    LingerOption,
    NetworkStream,
    ObjectDisposedException,
    OperationCanceledException,
    Socket,
    SocketError,
    SocketException,
    TaskFactory,
    TcpClient,
    TcpListener,
)
from socket_helpers import refused_endpoint


@pytest.fixture
def listener(af: AddressFamily) -> Iterator[TcpListener]:
    lst = TcpListener(loopback(af), 0)
    lst.Start()
    yield lst
    lst.Stop()


def endpoint(lst: TcpListener) -> IPEndPoint:
    ep = lst.LocalEndpoint
    assert isinstance(ep, IPEndPoint)
    return ep


# -- construction ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "family", [AddressFamily.Banyan, AddressFamily.DataLink, AddressFamily.NetBios, AddressFamily.Unix, 12345]
)
def test_ctor_invalid_family(family: Any) -> None:
    assert param_of(ArgumentException, lambda: TcpClient(family)) == "family"


def test_ctor_invalid_arguments() -> None:
    assert param_of(ArgumentNullException, lambda: TcpClient(None)) == "localEP"
    assert param_of(ArgumentNullException, lambda: TcpClient(None, 0)) == "hostname"
    assert param_of(ArgumentOutOfRangeException, lambda: TcpClient("localhost", -1)) == "port"
    assert param_of(ArgumentOutOfRangeException, lambda: TcpClient("localhost", 65536)) == "port"
    with pytest.raises(TypeError):
        TcpClient(1, 2, 3)
    with pytest.raises(TypeError):
        TcpClient(nope=1)


def test_default_ctor_is_dual_mode() -> None:
    with TcpClient() as c:
        assert c.Client is not None
        if HAS_IPV6:
            assert c.Client.AddressFamily == AddressFamily.InterNetworkV6 and c.Client.DualMode
        assert not c.Connected and c.Available == 0 and not c.Active


def test_ctor_local_endpoint_in_use_raises(af: AddressFamily) -> None:
    with TcpListener(loopback(af), 0) as lst:
        lst.Start()
        with pytest.raises(SocketException) as ei:
            TcpClient(lst.LocalEndpoint)
        assert ei.value.SocketErrorCode == SocketError.AddressAlreadyInUse


def test_ctor_family_and_local_endpoint(af: AddressFamily) -> None:
    with TcpClient(af) as c:
        assert c.Client is not None and c.Client.AddressFamily == af
        assert c.Client is c.Client
    with TcpClient(IPEndPoint(loopback(af), 0)) as c:
        assert c.Client is not None and c.Client.IsBound
        local = c.Client.LocalEndPoint
        assert isinstance(local, IPEndPoint) and local.Address == loopback(af) and local.Port > 0


@pytest.mark.parametrize(
    "server,host",
    [
        (AddressFamily.InterNetwork, "127.0.0.1"),
        (AddressFamily.InterNetwork, "::ffff:127.0.0.1"),
        (AddressFamily.InterNetwork, "localhost"),
        (AddressFamily.InterNetworkV6, "::1"),
    ],
)
def test_ctor_host_port_connects(server: AddressFamily, host: str) -> None:
    if server == AddressFamily.InterNetworkV6 or ":" in host:
        if not HAS_IPV6:
            pytest.skip("no IPv6 loopback")
    if host == "localhost" and IPAddress.Loopback not in Dns.GetHostAddresses("localhost"):
        pytest.skip("localhost does not resolve to 127.0.0.1 here")
    with TcpListener(loopback(server), 0) as lst:
        lst.Start()
        with TcpClient(host, endpoint(lst).Port) as c:
            assert c.Connected and c.Active
            with pending_connection(lst).AcceptTcpClient() as accepted:
                assert accepted.Connected


def test_ctor_host_port_refused_raises_and_closes() -> None:
    ep = refused_endpoint()
    with pytest.raises(SocketException) as ei:
        TcpClient("127.0.0.1", ep.Port)
    assert ei.value.SocketErrorCode == SocketError.ConnectionRefused


# -- properties --------------------------------------------------------------------------------------


def test_properties_round_trip(af: AddressFamily) -> None:
    with TcpClient(af) as c:
        c.ExclusiveAddressUse = True
        assert c.ExclusiveAddressUse
        c.ExclusiveAddressUse = False
        assert not c.ExclusiveAddressUse
        c.LingerState = LingerOption(True, 42)
        assert c.LingerState.Enabled and c.LingerState.LingerTime == 42
        c.LingerState = LingerOption(False, 0)
        assert not c.LingerState.Enabled
        c.NoDelay = True
        assert c.NoDelay
        c.NoDelay = False
        assert not c.NoDelay
        c.ReceiveBufferSize = 8192
        assert c.ReceiveBufferSize >= 8192
        c.SendBufferSize = 8192
        assert c.SendBufferSize >= 8192
        c.ReceiveTimeout = 1
        assert c.ReceiveTimeout == 1
        c.ReceiveTimeout = 0
        assert c.ReceiveTimeout == 0
        c.SendTimeout = 84
        assert c.SendTimeout == 84
        # The porting guide: the timeouts take a timedelta, as the socket's do, and read back in ms.
        c.ReceiveTimeout = datetime.timedelta(seconds=1.5)
        c.SendTimeout = datetime.timedelta(milliseconds=250)
        assert (c.ReceiveTimeout, c.SendTimeout) == (1500, 250) == (c.Client.ReceiveTimeout, c.Client.SendTimeout)
        assert c.Client is not None
        ttl = c.Client.Ttl
        c.Client.Ttl = ttl + 1 if ttl < 255 else ttl - 1
        assert c.Client.Ttl != ttl
        assert TcpClient.ReceiveBufferSize is TcpClient.receive_buffer_size
        assert TcpClient.GetStream is TcpClient.get_stream and TcpClient.BeginConnect is TcpClient.begin_connect


def test_properties_persist_after_connect(listener: TcpListener, af: AddressFamily) -> None:
    with TcpClient(af) as c:
        c.LingerState = LingerOption(True, 1)
        c.ReceiveTimeout = 42
        c.SendTimeout = 84
        c.Connect(endpoint(listener))
        assert c.LingerState.Enabled and c.LingerState.LingerTime == 1
        assert c.ReceiveTimeout == 42 and c.SendTimeout == 84


def test_null_client() -> None:
    with TcpClient() as c:
        sock = c.Client
        c.Client = None
        assert not c.Connected and c.Available == 0 and not c.ExclusiveAddressUse and c.Client is None
        c.ExclusiveAddressUse = True  # ignored, as in .NET
        assert sock is not None
        c.Client = sock
        assert c.Client is sock


def test_active_round_trips() -> None:
    with TcpClient() as c:
        assert not c.Active
        c.Active = True
        assert c.Active
        with pytest.raises(SocketException) as ei:
            c.Connect("anywhere", 0)
        assert ei.value.SocketErrorCode == SocketError.IsConnected
        c.Active = False
        assert not c.Active


# -- bad input and disposal ----------------------------------------------------------------------


def test_connect_invalid_arguments() -> None:
    with TcpClient() as c:
        assert param_of(ArgumentNullException, lambda: c.Connect(None, 0)) == "hostname"
        assert param_of(ArgumentNullException, lambda: c.Connect(hostname=None, port=0)) == "hostname"
        assert param_of(ArgumentNullException, lambda: c.Connect(address=None, port=0)) == "address"
        assert param_of(ArgumentOutOfRangeException, lambda: c.Connect("localhost", -1)) == "port"
        assert param_of(ArgumentOutOfRangeException, lambda: c.Connect(IPAddress.Loopback, -1)) == "port"
        assert param_of(ArgumentOutOfRangeException, lambda: c.Connect(IPAddress.Loopback, 70000)) == "port"
        assert param_of(ArgumentNullException, lambda: c.Connect(None)) == "remoteEP"
        assert param_of(ArgumentOutOfRangeException, lambda: c.Connect([IPAddress.Loopback], -1)) == "port"
        assert (
            param_of(ArgumentOutOfRangeException, lambda: c.BeginConnect(IPAddress.Loopback, -1, None, None)) == "port"
        )
        assert param_of(ArgumentNullException, lambda: c.ConnectAsync(None)) == "remoteEP"
        assert param_of(ArgumentOutOfRangeException, lambda: c.ConnectAsync(IPAddress.Loopback, -1)) == "port"
        with pytest.raises(TypeError):
            c.Connect()
        with pytest.raises(TypeError):
            c.Connect(IPAddress.Loopback, 1, 2)


def test_get_stream_not_connected() -> None:
    with TcpClient() as c, pytest.raises(InvalidOperationException):
        c.GetStream()


@pytest.mark.parametrize("close", [False, True])
def test_dispose_close_operations_raise(close: bool) -> None:
    c = TcpClient()
    sock = c.Client
    for _ in range(2):  # twice does nothing more
        c.Close() if close else c.Dispose()
    assert c.Client is None and not c.Connected and c.Available == 0
    assert sock is not None and sock._disposed
    for call in (
        lambda: c.Connect(None),
        lambda: c.Connect(IPAddress.Loopback, 0),
        lambda: c.Connect("localhost", 0),
        lambda: c.Connect([IPAddress.Loopback], 1),
        lambda: c.GetStream(),
        lambda: c.BeginConnect(IPAddress.Loopback, 1, None, None),
        lambda: c.ConnectAsync(IPAddress.Loopback, 1),
        lambda: c.ReceiveBufferSize,
        lambda: c.NoDelay,
    ):
        with pytest.raises(ObjectDisposedException):
            call()


# -- connecting in every model -------------------------------------------------------------------


def _check_connected(c: TcpClient, lst: TcpListener) -> None:
    assert c.Connected and c.Active
    with pending_connection(lst).AcceptTcpClient() as server:
        stream = c.GetStream()
        assert stream is c.GetStream()
        stream.Write(b"ping\n")
        server.Client.ReceiveTimeout = WAIT_MS
        assert io.BufferedReader(server.GetStream()).readline() == b"ping\n"


@pytest.mark.parametrize("mode", ["endpoint", "address", "host", "addresses"])
def test_connect_sync(listener: TcpListener, af: AddressFamily, mode: str) -> None:
    ep = endpoint(listener)
    with TcpClient(af) as c:
        if mode == "endpoint":
            c.Connect(ep)
        elif mode == "address":
            c.Connect(ep.Address, ep.Port)
        elif mode == "host":
            c.Connect(str(ep.Address), ep.Port)
        else:
            c.Connect([ep.Address], ep.Port)
        _check_connected(c, listener)


@pytest.mark.parametrize("mode", ["address", "host", "addresses"])
def test_begin_end_connect(listener: TcpListener, af: AddressFamily, mode: str) -> None:
    ep = endpoint(listener)
    target: Any = {"address": ep.Address, "host": str(ep.Address), "addresses": [ep.Address]}[mode]
    with TcpClient(af) as c:
        ar = c.BeginConnect(target, ep.Port, None, "st")
        assert ar.AsyncWaitHandle.WaitOne(WAIT_MS) and ar.AsyncState == "st"
        assert not c.Active
        c.EndConnect(ar)
        _check_connected(c, listener)


@pytest.mark.parametrize("mode", ["endpoint", "address", "host", "addresses"])
@pytest.mark.parametrize("with_token", [False, True])
def test_connect_async(listener: TcpListener, af: AddressFamily, mode: str, with_token: bool) -> None:
    ep = endpoint(listener)
    args: tuple[Any, ...] = {
        "endpoint": (ep,),
        "address": (ep.Address, ep.Port),
        "host": (str(ep.Address), ep.Port),
        "addresses": ([ep.Address], ep.Port),
    }[mode]
    cts = CancellationTokenSource()
    with TcpClient(af) as c:

        async def main() -> None:
            if with_token:
                await c.ConnectAsync(*args, cts.Token)
            else:
                await c.ConnectAsync(*args)

        run(main())
        _check_connected(c, listener)


def test_connect_with_from_async(listener: TcpListener) -> None:
    ep = endpoint(listener)
    with TcpClient(ep.AddressFamily) as c:
        run(TaskFactory.FromAsync(c.BeginConnect, c.EndConnect, ep.Address, ep.Port))
        _check_connected(c, listener)


def test_connect_refused_every_model(af: AddressFamily) -> None:
    ep = refused_endpoint(af)
    for model in ("sync", "apm", "async"):
        with TcpClient(af) as c:
            with pytest.raises(SocketException) as ei:
                if model == "sync":
                    c.Connect(ep)
                elif model == "apm":
                    c.EndConnect(c.BeginConnect(ep.Address, ep.Port, None, None))
                else:
                    run(c.ConnectAsync(ep))
            assert ei.value.SocketErrorCode == SocketError.ConnectionRefused
            assert not c.Active


def test_connect_async_cancelled_token() -> None:
    cts = CancellationTokenSource()
    cts.Cancel()
    ep = refused_endpoint()
    with TcpClient(AddressFamily.InterNetwork) as c:
        with pytest.raises(OperationCanceledException):
            run(c.ConnectAsync(ep, cts.Token))
        assert not c.Active


def test_dual_mode_client_reaches_ipv4_listener() -> None:
    with TcpListener(IPAddress.Loopback, 0) as lst:
        lst.Start()
        with TcpClient() as c:
            c.Connect(IPAddress.Loopback, endpoint(lst).Port)
            _check_connected(c, lst)


def test_connect_host_when_connected_raises_is_connected(listener: TcpListener) -> None:
    ep = endpoint(listener)
    with TcpClient(ep.AddressFamily) as c:
        c.Connect(ep)
        with pytest.raises(SocketException) as ei:
            c.Connect(str(ep.Address), ep.Port)
        assert ei.value.SocketErrorCode == SocketError.IsConnected
        pending_connection(listener).AcceptSocket().Dispose()


# -- the stream and closing ----------------------------------------------------------------------


def test_closing_client_closes_stream_and_socket(listener: TcpListener) -> None:
    ep = endpoint(listener)
    c = TcpClient(ep.AddressFamily)
    c.Connect(ep)
    server = pending_connection(listener).AcceptSocket()
    server.ReceiveTimeout = WAIT_MS
    stream = c.GetStream()
    sock = c.Client
    c.Close()
    assert stream.closed and sock is not None and sock._disposed
    with pytest.raises(ObjectDisposedException):
        stream.Write(b"x")
    assert server.Receive(bytearray(1)) == 0  # the peer sees the end
    server.Dispose()


def test_closing_stream_closes_client_socket(listener: TcpListener) -> None:
    ep = endpoint(listener)
    with TcpClient(ep.AddressFamily) as c:
        c.Connect(ep)
        pending_connection(listener).AcceptSocket().Dispose()
        c.GetStream().Close()
        assert c.Client is not None and c.Client._disposed and not c.Connected


def test_dispose_ends_pending_connect_async() -> None:
    # A listener that never accepts, with a full backlog, keeps a connect pending.
    with Socket(AddressFamily.InterNetwork, 1, 6) as server:  # Stream, Tcp
        server.Bind(IPEndPoint(IPAddress.Loopback, 0))
        server.Listen(1)
        ep = server.LocalEndPoint
        assert isinstance(ep, IPEndPoint)
        c = TcpClient(AddressFamily.InterNetwork)

        async def main() -> None:
            task = asyncio.ensure_future(c.ConnectAsync(ep.Address, ep.Port))
            await asyncio.sleep(0)
            c.Dispose()
            try:
                await task
            except SocketException as exc:
                assert exc.SocketErrorCode == SocketError.OperationAborted
            except ObjectDisposedException:
                pass

        run(main())
        assert c.Client is None


def test_accepted_client_stream_round_trip_text(listener: TcpListener) -> None:
    ep = endpoint(listener)
    with TcpClient(ep.AddressFamily) as c:
        c.Connect(ep)
        with pending_connection(listener).AcceptTcpClient() as server:
            assert isinstance(server.GetStream(), NetworkStream)
            c.ReceiveTimeout = WAIT_MS
            out = io.TextIOWrapper(io.BufferedRWPair(server.GetStream(), server.GetStream()), "utf-8", newline="\n")
            out.write("ünïcode line\n")
            out.flush()
            inp = io.TextIOWrapper(io.BufferedRWPair(c.GetStream(), c.GetStream()), "utf-8", newline="\n")
            assert inp.readline() == "ünïcode line\n"
