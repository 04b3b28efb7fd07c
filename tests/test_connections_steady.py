"""Short connections on their steady paths (the ``accept_begin`` row's shape): ``Socket()``,
``Connect``, ``Send``, ``Close`` on the client, ``BeginAccept``/``EndAccept``/``Close`` on the
server.  What the shortcuts of these paths must keep: the peer the system reports, ``Close``
from another thread ending a wait at once with .NET's error, and every descriptor given back."""

from __future__ import annotations

import os
import socket
import threading
import time
from typing import Any

import pytest

from conftest import HAS_IPV6, WAIT
from dotnet_sockets import (
    AddressFamily,
    IPAddress,
    IPEndPoint,
    ObjectDisposedException,
    ProtocolType,
    SelectMode,
    Socket,
    SocketError,
    SocketException,
    SocketFlags,
    SocketType,
)
from socket_helpers import Made, wait_until


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _tcp(af: AddressFamily = AddressFamily.InterNetwork) -> Socket:
    return Socket(af, SocketType.Stream, ProtocolType.Tcp)


def test_connect_records_the_peer_the_system_reports(made: Made) -> None:
    lst = made.listener()
    c = made.tcp()
    c.Connect(lst.LocalEndPoint)
    a = made.track(lst.Accept())
    assert c.RemoteEndPoint == lst.LocalEndPoint
    assert a.RemoteEndPoint == c.LocalEndPoint
    assert c.Connected and a.Connected


def test_connect_keeps_the_peer_after_the_peer_reset(made: Made) -> None:
    """The peer the system reported when the connect finished stays the socket's
    ``RemoteEndPoint``, as an accepted socket keeps the address its accept reported: asked first
    after the peer went away, it is not lost (the first ``Send``'s audit, which reads it, never
    asks the system again)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as lst:
        lst.bind(("127.0.0.1", 0))
        lst.listen(1)
        port = lst.getsockname()[1]
        c = made.tcp()
        c.Connect(IPEndPoint(IPAddress.Loopback, port))
        peer, _ = lst.accept()
        peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        peer.close()  # a reset
        assert wait_until(lambda: c.Poll(0, SelectMode.SelectRead))
    assert c.RemoteEndPoint == IPEndPoint(IPAddress.Loopback, port)


@pytest.mark.skipif(not HAS_IPV6, reason="no IPv6 loopback on this machine")
def test_dual_mode_connect_reports_the_peer_ipv4_mapped(made: Made) -> None:
    lst = made.listener()
    c = made.track(Socket(SocketType.Stream, ProtocolType.Tcp))  # IPv6, dual mode
    c.Connect(lst.LocalEndPoint)
    made.track(lst.Accept())
    ep = c.RemoteEndPoint
    assert isinstance(ep, IPEndPoint)
    assert ep.AddressFamily == AddressFamily.InterNetworkV6
    assert ep.Address == IPAddress.Parse("::ffff:127.0.0.1") and ep.Port == lst.LocalEndPoint.Port  # type: ignore[union-attr]


def _stalled_listener() -> tuple[socket.socket, list[socket.socket]]:
    """A plain listener whose accept queue is full: Linux drops the next SYN, so a connect to it
    stays in progress (for a second at least, until the SYN is sent again)."""
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.bind(("127.0.0.1", 0))
    lst.listen(0)
    fillers: list[socket.socket] = []
    for _ in range(4):
        f = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        f.setblocking(False)
        f.connect_ex(lst.getsockname())
        fillers.append(f)
    time.sleep(0.05)  # (the handshakes that can finish do so at once on loopback)
    return lst, fillers


def test_close_from_another_thread_ends_a_waiting_connect() -> None:
    """A blocking ``Connect`` still in progress ends at once when another thread closes the socket,
    with the error .NET gives a synchronous call cut short by ``Close`` (``NotSocket``)."""
    lst, fillers = _stalled_listener()
    try:
        c = _tcp()
        outcome: list[BaseException] = []
        returned = threading.Event()

        def connect() -> None:
            try:
                c.Connect(IPEndPoint(IPAddress.Loopback, lst.getsockname()[1]))
            except BaseException as exc:  # noqa: BLE001 - checked below
                outcome.append(exc)
            returned.set()

        t = threading.Thread(target=connect, daemon=True)
        t.start()
        assert wait_until(lambda: c._io.wpark is not None or returned.is_set())
        if returned.is_set():
            pytest.skip(f"the connect did not wait (the system accepted it): {outcome}")
        started = time.monotonic()
        c.Close()
        assert returned.wait(WAIT)
        assert time.monotonic() - started < 0.5  # at once, not at the SYN's next try
        t.join(WAIT)
        assert len(outcome) == 1 and isinstance(outcome[0], SocketException), outcome
        assert outcome[0].SocketErrorCode == SocketError.NotSocket
        assert not c.Connected
        with pytest.raises(ObjectDisposedException):
            c.Connect(IPEndPoint(IPAddress.Loopback, lst.getsockname()[1]))
    finally:
        for f in fillers:
            f.close()
        lst.close()


def test_close_from_another_thread_ends_a_pending_begin_accept(made: Made) -> None:
    lst = made.listener()
    done = threading.Event()
    got: list[Any] = []

    def on_accept(ar: Any) -> None:
        try:
            got.append(lst.EndAccept(ar))
        except BaseException as exc:  # noqa: BLE001 - checked below
            got.append(exc)
        done.set()

    lst.BeginAccept(on_accept, None)
    assert wait_until(lambda: lst._io.pending_count() == 1)
    threading.Thread(target=lst.Close, daemon=True).start()
    assert done.wait(WAIT)
    assert len(got) == 1 and isinstance(got[0], SocketException), got
    assert got[0].SocketErrorCode == SocketError.OperationAborted


def _connections(count: int) -> int:
    """The row's shape: a BeginAccept chain (EndAccept, Close, BeginAccept) and a client that
    makes Socket(), Connect, Send 1 byte, Close per connection; returns how many were accepted."""
    listener = _tcp()
    try:
        listener.Bind(IPEndPoint(IPAddress.Loopback, 0))
        listener.Listen(512)
        ep = listener.LocalEndPoint
        assert ep is not None
        accepted = [0]
        done = threading.Event()

        def on_accept(ar: Any) -> None:
            try:
                a = listener.EndAccept(ar)
            except ObjectDisposedException:
                return
            a.Close()
            accepted[0] += 1
            if accepted[0] == count:
                done.set()
            else:
                listener.BeginAccept(on_accept, None)

        payload = bytearray(1)
        listener.BeginAccept(on_accept, None)
        deadline = time.monotonic() + 6 * WAIT
        for _ in range(count):
            assert time.monotonic() < deadline
            c = _tcp()
            c.Connect(ep)
            assert c.Send(payload, 0, 1, SocketFlags.None_) == 1
            c.Close()
        assert done.wait(WAIT), accepted
        return accepted[0]
    finally:
        listener.Close()


def test_no_descriptor_is_left_over_a_thousand_connections() -> None:
    _connections(50)  # the engine's and the workers' own descriptors exist from here on
    before = _fds()
    assert _connections(1000) == 1000
    # The listener's close may still be under way on the engine thread: bounded.
    assert wait_until(lambda: _fds() <= before), (before, _fds())
