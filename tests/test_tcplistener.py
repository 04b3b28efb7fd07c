"""TcpListener: what dotnet/runtime's TcpListenerTest.cs checks, in every model, IPv4, IPv6 and dual mode."""

from __future__ import annotations

import asyncio
import threading
import warnings
from typing import Any

import pytest

from client_helpers import WAIT_MS, param_of, pending_connection, run
from conftest import HAS_IPV6, WAIT, loopback
from dotnet_sockets import (
    AddressFamily,
    ArgumentException,
    ArgumentNullException,
    ArgumentOutOfRangeException,
    CancellationTokenSource,
    InvalidOperationException,
    IPAddress,
    IPEndPoint,
    ObjectDisposedException,
    OperationCanceledException,
    PlatformNotSupportedException,
    Socket,
    SocketError,
    SocketException,
    TaskFactory,
    TcpClient,
    TcpListener,
)
from socket_helpers import pending, wait_until


def port_of(lst: TcpListener) -> int:
    ep = lst.LocalEndpoint
    assert isinstance(ep, IPEndPoint)
    return ep.Port


def test_ctor_invalid_arguments() -> None:
    assert param_of(ArgumentNullException, lambda: TcpListener(None)) == "localEP"
    assert param_of(ArgumentNullException, lambda: TcpListener(None, 0)) == "localaddr"
    assert param_of(ArgumentOutOfRangeException, lambda: TcpListener(IPAddress.Loopback, -1)) == "port"
    assert param_of(ArgumentOutOfRangeException, lambda: TcpListener(IPAddress.Loopback, 66000)) == "port"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        assert param_of(ArgumentOutOfRangeException, lambda: TcpListener(66000)) == "port"
    assert param_of(ArgumentOutOfRangeException, lambda: TcpListener.Create(66000)) == "port"
    assert param_of(ArgumentOutOfRangeException, lambda: TcpListener.Create(-1)) == "port"
    assert param_of(ArgumentException, lambda: TcpListener("127.0.0.1", 0)) == "localaddr"
    assert param_of(ArgumentException, lambda: TcpListener("127.0.0.1")) == "localEP"
    with pytest.raises(TypeError):
        TcpListener()
    with pytest.raises(TypeError):
        TcpListener(IPAddress.Loopback, 0, nope=1)


@pytest.mark.parametrize("ctor", [0, 1, 2])
def test_active_true_while_running(ctor: int) -> None:
    if ctor == 0:
        lst = TcpListener(IPEndPoint(IPAddress.Loopback, 0))
    elif ctor == 1:
        lst = TcpListener(IPAddress.Loopback, 0)
    else:
        with pytest.warns(DeprecationWarning):
            lst = TcpListener(0)
    assert not lst.Active
    lst.Start()
    try:
        assert lst.Active
        with pytest.raises(InvalidOperationException):
            lst.AllowNatTraversal(False)
        with pytest.raises(InvalidOperationException):
            lst.ExclusiveAddressUse = True
        with pytest.raises(InvalidOperationException):
            lst.ExclusiveAddressUse = False
        assert lst.ExclusiveAddressUse in (True, False)  # readable while started
    finally:
        lst.Stop()
    assert not lst.Active


def test_allow_nat_traversal_is_windows_only() -> None:
    lst = TcpListener(IPAddress.Loopback, 0)
    with pytest.raises(PlatformNotSupportedException):
        lst.AllowNatTraversal(True)
    lst.Stop()


def test_start_invalid_args_and_twice() -> None:
    lst = TcpListener(IPAddress.Loopback, 0)
    assert param_of(ArgumentOutOfRangeException, lambda: lst.Start(-1)) == "backlog"
    assert param_of(ArgumentOutOfRangeException, lambda: lst.Start(2**31)) == "backlog"
    assert not lst.Active
    lst.Start(1)
    lst.Start(1)  # nothing happens the second time
    assert lst.Active
    lst.Stop()


def test_start_on_a_port_in_use_raises_and_unwinds(af: AddressFamily) -> None:
    with TcpListener(loopback(af), 0) as first:
        first.Start()
        second = TcpListener(loopback(af), port_of(first))
        with pytest.raises(SocketException) as ei:
            second.Start()
        assert ei.value.SocketErrorCode == SocketError.AddressAlreadyInUse
        assert not second.Active


def test_local_endpoint_before_and_after_start(af: AddressFamily) -> None:
    lst = TcpListener(loopback(af), 0)
    assert lst.LocalEndpoint == IPEndPoint(loopback(af), 0)
    assert lst.local_endpoint == lst.LocalEndpoint
    lst.Start()
    ep = lst.LocalEndpoint
    assert isinstance(ep, IPEndPoint) and ep.Address == loopback(af) and ep.Port > 0
    lst.Stop()
    assert lst.LocalEndpoint == IPEndPoint(loopback(af), 0)


def test_pending(af: AddressFamily) -> None:
    lst = TcpListener(loopback(af), 0)
    with pytest.raises(InvalidOperationException):
        lst.Pending()
    lst.Start()
    assert not lst.Pending()
    with TcpClient(IPEndPoint(loopback(af), 0)) as client:
        client.Connect(loopback(af), port_of(lst))
        assert wait_until(lst.Pending)
        pending_connection(lst).AcceptSocket().Dispose()
        assert not lst.Pending()
    lst.Stop()
    with pytest.raises(InvalidOperationException):
        lst.Pending()


def test_accept_invalid() -> None:
    lst = TcpListener(IPAddress.Loopback, 0)
    for call in (
        lst.AcceptSocket,
        lst.AcceptTcpClient,
        lambda: lst.BeginAcceptSocket(None, None),
        lambda: lst.BeginAcceptTcpClient(None, None),
        lst.AcceptSocketAsync,
        lst.AcceptTcpClientAsync,
    ):
        with pytest.raises(InvalidOperationException):
            call()
    assert param_of(ArgumentNullException, lambda: lst.EndAcceptSocket(None)) == "asyncResult"
    assert param_of(ArgumentNullException, lambda: lst.EndAcceptTcpClient(None)) == "asyncResult"
    lst.Start()
    with Socket(AddressFamily.InterNetwork, 2, 17) as other:  # Dgram, Udp
        other.Bind(IPEndPoint(IPAddress.Loopback, 0))
        foreign = other.BeginReceiveFrom(bytearray(1), 0, 1, 0, IPEndPoint(IPAddress.Any, 0), None, None)
        assert param_of(ArgumentException, lambda: lst.EndAcceptSocket(foreign)) == "asyncResult"
        assert param_of(ArgumentException, lambda: lst.EndAcceptTcpClient(foreign)) == "asyncResult"
    lst.Stop()


def _accept(lst: TcpListener, mode: str, tcp_client: bool) -> Any:
    if mode == "sync":
        return pending_connection(lst).AcceptTcpClient() if tcp_client else pending_connection(lst).AcceptSocket()
    if mode == "apm":
        ar = lst.BeginAcceptTcpClient(None, "st") if tcp_client else lst.BeginAcceptSocket(None, "st")
        assert ar.AsyncWaitHandle.WaitOne(WAIT_MS) and ar.AsyncState == "st"
        return lst.EndAcceptTcpClient(ar) if tcp_client else lst.EndAcceptSocket(ar)
    if mode == "from_async":
        if tcp_client:
            return run(TaskFactory.FromAsync(lst.BeginAcceptTcpClient, lst.EndAcceptTcpClient))
        return run(TaskFactory.FromAsync(lst.BeginAcceptSocket, lst.EndAcceptSocket))
    cts = CancellationTokenSource()
    if mode == "async":
        return run(lst.AcceptTcpClientAsync() if tcp_client else lst.AcceptSocketAsync())
    return run(lst.AcceptTcpClientAsync(cts.Token) if tcp_client else lst.AcceptSocketAsync(cts.Token))


@pytest.mark.parametrize("mode", ["sync", "apm", "from_async", "async", "async_token"])
def test_accept_pending_socket_or_client(af: AddressFamily, mode: str) -> None:
    with TcpListener(loopback(af), 0) as lst:
        lst.Start()
        for tcp_client in (False, True):
            with TcpClient(af) as client:
                client.Connect(loopback(af), port_of(lst))
                accepted = _accept(lst, mode, tcp_client)
                try:
                    assert not lst.Pending()
                    if tcp_client:
                        assert isinstance(accepted, TcpClient) and accepted.Connected
                        sock = accepted.Client
                    else:
                        assert isinstance(accepted, Socket)
                        sock = accepted
                    assert sock is not None
                    sock.ReceiveTimeout = WAIT_MS
                    client.GetStream().Write(b"hi")
                    buf = bytearray(2)
                    got = 0
                    while got < 2:
                        got += sock.Receive(buf, got, 2 - got, 0)
                    assert buf == b"hi"
                finally:
                    accepted.Dispose()


def test_accept_socket_async_cancelled_accepts_nothing(af: AddressFamily) -> None:
    with TcpListener(loopback(af), 0) as lst:
        lst.Start()

        async def main() -> None:
            cts = CancellationTokenSource()
            task = asyncio.ensure_future(lst.AcceptTcpClientAsync(cts.Token))
            await asyncio.sleep(0)
            cts.Cancel()
            with pytest.raises(OperationCanceledException):
                await task
            with TcpClient(af) as client:
                await client.ConnectAsync(loopback(af), port_of(lst))
                with await lst.AcceptTcpClientAsync() as accepted:
                    assert accepted.Connected

        run(main())


def test_start_after_stop_accepts(af: AddressFamily) -> None:
    lst = TcpListener(loopback(af), 0)
    for _ in range(2):
        lst.Start()
        first = lst.Server
        assert lst.Server is first
        with TcpClient(af) as client:
            client.Connect(loopback(af), port_of(lst))
            with pending_connection(lst).AcceptSocket():
                pass
        lst.Stop()
        assert lst.Server is not first and lst.Server is not None  # Server makes the next socket
    lst.Stop()


def test_exclusive_address_use() -> None:
    lst = TcpListener(IPAddress.Loopback, 0)
    lst.ExclusiveAddressUse = True
    assert lst.ExclusiveAddressUse
    lst.ExclusiveAddressUse = False
    assert not lst.ExclusiveAddressUse
    lst.ExclusiveAddressUse = True
    lst.Start()
    assert lst.ExclusiveAddressUse
    lst.Stop()
    assert lst.ExclusiveAddressUse
    lst.Start()
    assert lst.ExclusiveAddressUse  # the new socket gets it too
    lst.Stop()


@pytest.mark.parametrize("tcp_client", [False, True])
def test_end_accept_when_stopped_raises_object_disposed(tcp_client: bool) -> None:
    lst = TcpListener(IPAddress.Loopback, 0)
    lst.Start()
    server = lst.Server
    done = threading.Event()
    ar = (lst.BeginAcceptTcpClient if tcp_client else lst.BeginAcceptSocket)(lambda _ar: done.set(), None)
    assert pending(server)
    lst.Stop()
    assert done.wait(WAIT)
    with pytest.raises(ObjectDisposedException):
        (lst.EndAcceptTcpClient if tcp_client else lst.EndAcceptSocket)(ar)


def test_stop_keeps_accepted_connections(af: AddressFamily) -> None:
    lst = TcpListener(loopback(af), 0)
    lst.Start()
    with TcpClient(af) as client:
        client.Connect(loopback(af), port_of(lst))
        accepted = pending_connection(lst).AcceptTcpClient()
        lst.Stop()
        client.GetStream().Write(b"still here")
        accepted.Client.ReceiveTimeout = WAIT_MS
        buf = bytearray(10)
        accepted.GetStream().ReadExactly(buf)
        assert buf == b"still here"
        accepted.Close()


def test_stop_ends_a_blocked_accept() -> None:
    lst = TcpListener(IPAddress.Loopback, 0)
    lst.Start()
    errors: list[BaseException] = []

    def accept() -> None:
        try:
            lst.AcceptSocket()
        except BaseException as exc:  # noqa: BLE001 - recorded for the assertion
            errors.append(exc)

    t = threading.Thread(target=accept)
    t.start()
    lst.Stop()
    t.join(WAIT)
    assert not t.is_alive()
    # Aborted (SocketException, ObjectDisposedException), or not listening any more if Stop came first.
    assert errors and isinstance(errors[0], (SocketException, InvalidOperationException))


@pytest.mark.skipif(not HAS_IPV6, reason="no IPv6 loopback on this machine")
@pytest.mark.parametrize("client_af", [AddressFamily.InterNetwork, AddressFamily.InterNetworkV6])
def test_create_is_dual_mode(client_af: AddressFamily) -> None:
    lst = TcpListener.Create(0)
    assert lst.Server.AddressFamily == AddressFamily.InterNetworkV6 and lst.Server.DualMode
    lst.Start()
    try:
        assert lst.LocalEndpoint.Address == IPAddress.IPv6Any  # type: ignore[attr-defined]
        with TcpClient(client_af) as client:
            client.Connect(loopback(client_af), port_of(lst))
            with pending_connection(lst).AcceptTcpClient() as accepted:
                remote = accepted.Client.RemoteEndPoint
                assert isinstance(remote, IPEndPoint)
                if client_af == AddressFamily.InterNetwork:
                    assert remote.Address.IsIPv4MappedToIPv6
    finally:
        lst.Stop()


def test_context_manager_and_names() -> None:
    with TcpListener(IPAddress.Loopback, 0) as lst:
        lst.Start()
        assert lst.Active
    assert not lst.Active
    lst.Dispose()
    assert TcpListener.AcceptTcpClient is TcpListener.accept_tcp_client
    assert TcpListener.Create is TcpListener.create
    assert TcpListener.BeginAcceptSocket is TcpListener.begin_accept_socket
