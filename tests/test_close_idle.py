"""What a socket builds only when it needs it, and the promises of Close around it.

A socket that never had to wait (nothing queued, never watched by the engine, no selector
registration kept) closes its descriptor at once, without the bookkeeping a close needs when
other threads may still be watching it.  Its queue's engine registration and parked head are
built by the first operation that would block: a close from another thread racing that first
operation must still end it at once, with .NET's error, exactly once.  The short paths of
``Socket(...)`` and ``Connect(IPEndPoint)`` take only the plainly valid common case: what
they skip must come out the same.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from conftest import WAIT, CallbackRecorder
from dotnet_sockets import (
    AddressFamily,
    IPAddress,
    IPEndPoint,
    ObjectDisposedException,
    ProtocolType,
    Socket,
    SocketError,
    SocketException,
    SocketShutdown,
    SocketType,
)
from dotnet_sockets._engine.epoll import engine
from dotnet_sockets._engine.opqueue import live_queues
from dotnet_sockets.telemetry import Telemetry, track_socket
from reliability_support import assert_engine_serves
from socket_helpers import Made, wait_until

LOOPBACK = IPEndPoint(IPAddress.Loopback, 0)



def _plain_pair() -> tuple[socket.socket, Socket, Socket]:
    """A plain client connected to a library listener, and the accepted library socket."""
    lst = Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
    lst.Bind(LOOPBACK)
    lst.Listen(4)
    port = lst.LocalEndPoint.Port  # type: ignore[union-attr]
    plain = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
    return plain, lst, lst.Accept()


def test_a_socket_closed_before_anything_was_built() -> None:
    """Fresh, bound and accepted sockets that never waited: Close releases the descriptor at
    once (the peer reads the end of the stream), leaves nothing with the engine, and the
    socket then behaves as closed."""
    plain, lst, accepted = _plain_pair()
    fresh_tcp = Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
    bound_udp = Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)
    bound_udp.Bind(LOOPBACK)
    pending_before = Telemetry.snapshot().operations_pending
    try:
        for s in (fresh_tcp, bound_udp, accepted):
            fd = s.Handle
            assert fd >= 0 and not s._io.registered and s._io.pending_count() == 0
            s.Close()
            assert s.Handle == -1
            assert engine._regs.get(fd) is not s._io
            with pytest.raises(ObjectDisposedException):
                s.Send(b"x")
            s.Close()  # a second close does nothing
            s.Dispose()
        plain.settimeout(WAIT)
        assert plain.recv(16) == b""  # the accepted descriptor is really closed
        assert Telemetry.snapshot().operations_pending == pending_before
    finally:
        plain.close()
        lst.Close()


def _race(start: Callable[[], Any], close: Callable[[], None], delay: int) -> tuple[Any, BaseException | None]:
    """Run ``start`` on one thread and ``close`` on another, ``delay`` idle loop turns after
    ``start`` began (so that over the rounds the close lands before, inside and after the
    operation's first steps); both must end within WAIT."""
    began = [False]
    outcome: list[Any] = [None, None]

    def run_start() -> None:
        began[0] = True
        try:
            outcome[0] = start()
        except BaseException as exc:  # noqa: BLE001 - checked by the caller
            outcome[1] = exc

    def run_close() -> None:
        # Spins rather than waits on an event: a thread that is runnable all along is handed the
        # GIL within the switch interval, while ``start`` is still in its first steps.
        deadline = time.monotonic() + WAIT
        while not began[0] and time.monotonic() < deadline:
            pass
        for _ in range(delay):
            pass
        close()

    threads = [threading.Thread(target=run_close), threading.Thread(target=run_start)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)
        assert not t.is_alive(), "a thread hung"
    return outcome[0], outcome[1]


# Idle loop turns before the close: 0 (it usually wins) up to past the operation's start.
DELAYS = [0, 25, 50, 100, 150, 200, 300, 400, 600, 800, 1200, 1600, 2400, 3200] * 3


def test_close_from_another_thread_races_the_first_blocking_receive(made: Made, tiny_switch_interval: None) -> None:
    """The first Receive of an accepted socket builds its parked head while another thread
    closes the socket: the Receive never hangs and ends with .NET's error for a call cut short
    (ConnectionAborted), or ObjectDisposedException when the close came first."""
    for delay in DELAYS:
        _, a = made.pair()
        result, exc = _race(lambda a=a: a.Receive(bytearray(8)), a.Close, delay)
        assert result is None, "nothing was sent: the receive cannot have succeeded"
        if isinstance(exc, SocketException):
            # (OperationAborted: the close came between the check of the socket and its system call)
            assert exc.SocketErrorCode in (SocketError.ConnectionAborted, SocketError.OperationAborted), exc
        else:
            assert isinstance(exc, ObjectDisposedException), exc
        assert wait_until(lambda a=a: a.Handle == -1)
    assert_engine_serves()


def test_close_from_another_thread_races_the_first_begin_accept(made: Made, tiny_switch_interval: None) -> None:
    """The first BeginAccept of a listener registers it with the engine while another thread
    closes it: the callback runs exactly once and EndAccept raises OperationAborted, or
    BeginAccept itself raises ObjectDisposedException; never a lost completion."""
    for delay in DELAYS:
        lst = made.listener()
        rec = CallbackRecorder()
        ar, exc = _race(lambda lst=lst, rec=rec: lst.BeginAccept(rec, None), lst.Close, delay)
        if exc is not None:
            assert isinstance(exc, ObjectDisposedException), exc
            assert not rec.wait(count=1, timeout=0.05)
            continue
        assert rec.wait(count=1)
        assert rec.calls == [ar]
        with pytest.raises(SocketException) as info:
            lst.EndAccept(ar)
        assert info.value.SocketErrorCode == SocketError.OperationAborted
        assert not rec.wait(count=2, timeout=0.02)  # exactly once
    assert_engine_serves()


def test_the_queue_registry_stays_bounded_and_counts_what_is_pending(made: Made) -> None:
    """Queues are registered without a callback: the dead ones are pruned as the registry grows,
    and telemetry still counts an operation pending on a live socket."""
    from dotnet_sockets._engine import opqueue

    before = len(opqueue._live)
    churn = 10 * opqueue._PRUNE_FLOOR
    for _ in range(churn):
        Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp).Close()
    # Without the pruning it would hold every one of them; with it, a floor's worth more at most.
    assert len(opqueue._live) <= before + 2 * opqueue._PRUNE_FLOOR + len(live_queues()) // 4 < before + churn
    s = made.udp()
    before = Telemetry.snapshot().operations_pending
    ar = s.BeginReceiveFrom(bytearray(8), 0, 8, 0, IPEndPoint(IPAddress.Any, 0), None, None)
    assert s._io in live_queues()
    assert Telemetry.snapshot().operations_pending == before + 1
    track_socket(s)  # a package socket registered by hand too: its queue still counts once
    assert Telemetry.snapshot().operations_pending == before + 1
    s.Close()
    assert ar.IsCompleted
    assert s._io not in live_queues()  # a closed queue leaves the registry at once
    assert Telemetry.snapshot().operations_pending == before


@pytest.mark.parametrize(
    ("args", "v6"),
    [
        ((AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp), False),
        ((AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp), True),
        ((2, 1, 6), False),
    ],
)
def test_socket_short_constructor_gives_what_the_general_one_gives(args: tuple[Any, ...], v6: bool) -> None:
    """The members seen before skip the overload sorting: the same enum members, the same
    IPv6 v6-only default, whether the combination was made before or not, and ints still
    become members."""
    made = [Socket(*args) for _ in range(2)]
    try:
        for s in made:
            assert type(s.AddressFamily) is AddressFamily and s.AddressFamily == args[0]
            assert type(s.SocketType) is SocketType and s.SocketType == args[1]
            assert type(s.ProtocolType) is ProtocolType and s.ProtocolType == args[2]
            if v6:
                assert s.DualMode is False
    finally:
        for s in made:
            s.Close()
    dual = Socket(SocketType.Stream, ProtocolType.Tcp)
    try:
        assert dual.AddressFamily == AddressFamily.InterNetworkV6 and dual.DualMode is True
    finally:
        dual.Close()


def test_socket_short_constructor_never_keeps_a_refused_combination() -> None:
    for _ in range(2):
        with pytest.raises(SocketException) as info:
            Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Tcp)
        assert info.value.SocketErrorCode == SocketError.ProtocolNotSupported


def test_connect_short_path_leaves_every_state_check_to_the_general_path(made: Made) -> None:
    """Connect(IPEndPoint) takes its short path only on a fresh socket: a listening,
    connected, disconnected or closed one still raises what .NET raises, in its order."""
    lst = made.listener()
    target = lst.LocalEndPoint
    assert isinstance(target, IPEndPoint)
    listening = made.listener()
    with pytest.raises(Exception) as info:
        listening.Connect(target)
    assert type(info.value).__name__ == "InvalidOperationException"
    connected = made.tcp()
    connected.Connect(target)
    assert connected.Connected
    with pytest.raises(SocketException) as sock_info:
        connected.Connect(target)
    assert sock_info.value.SocketErrorCode == SocketError.IsConnected
    connected.Shutdown(SocketShutdown.Both)
    connected.Disconnect(True)
    with pytest.raises(Exception) as info:
        connected.Connect(target)
    assert type(info.value).__name__ == "InvalidOperationException"
    closed = made.tcp()
    closed.Close()
    with pytest.raises(ObjectDisposedException):
        closed.Connect(target)


def test_close_still_calls_an_overridden_dispose() -> None:
    """Close() is Dispose() in .NET: a subclass's Dispose runs even on Close's short path."""
    calls: list[str] = []

    class Mine(Socket):
        __slots__ = ()

        def Dispose(self) -> None:
            calls.append("Dispose")
            super().Dispose()

    s = Mine(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
    s.Close()
    assert calls == ["Dispose"] and s.Handle == -1
