"""Closing a socket while operations are pending on it.

Every pending operation completes exactly once: its callback runs, and its
``End...`` raises ``SocketException`` with ``SocketError.OperationAborted``
(current .NET on Linux; the contract's choice).  Nothing waits forever, and
no descriptor or thread is left behind.
"""

from __future__ import annotations

import gc
import os
import random
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from conftest import WAIT, CallbackRecorder
from dotnet_sockets import (
    IAsyncResult,
    IPAddress,
    IPEndPoint,
    Socket,
    SocketError,
    SocketException,
    SocketShutdown,
)
from dotnet_sockets._engine.epoll import engine
from socket_helpers import Made, fill, wait_until

ANY4 = IPEndPoint(IPAddress.Any, 0)


@pytest.fixture
def make_socket() -> Iterator[Made]:
    made = Made()
    yield made
    made.dispose_all()


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def other_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if not t.name.startswith("dotnet-sockets")}


Start = Callable[[Made, Any], tuple[Socket, list[IAsyncResult], str]]


def receive(m: Made, cb: Any) -> tuple[Socket, list[IAsyncResult], str]:
    _, a = m.pair()
    return a, [a.BeginReceive(bytearray(8), 0, 8, 0, cb, None)], "EndReceive"


def receive_list(m: Made, cb: Any) -> tuple[Socket, list[IAsyncResult], str]:
    _, a = m.pair()
    return a, [a.BeginReceive([bytearray(4), bytearray(4)], 0, cb, None)], "EndReceive"


def several_receives(m: Made, cb: Any) -> tuple[Socket, list[IAsyncResult], str]:
    _, a = m.pair()
    return a, [a.BeginReceive(bytearray(8), 0, 8, 0, cb, i) for i in range(3)], "EndReceive"


def receive_from(m: Made, cb: Any) -> tuple[Socket, list[IAsyncResult], str]:
    u = m.udp()
    return u, [u.BeginReceiveFrom(bytearray(8), 0, 8, 0, ANY4, cb, i) for i in range(2)], "EndReceiveFrom"


def udp_receive(m: Made, cb: Any) -> tuple[Socket, list[IAsyncResult], str]:
    u = m.udp()
    return u, [u.BeginReceive(bytearray(8), 0, 8, 0, cb, None)], "EndReceive"


def accept(m: Made, cb: Any) -> tuple[Socket, list[IAsyncResult], str]:
    lst = m.listener()
    return lst, [lst.BeginAccept(cb, None), lst.BeginAccept(cb, None)], "EndAccept"


def accept_with_receive(m: Made, cb: Any) -> tuple[Socket, list[IAsyncResult], str]:
    lst = m.listener()
    return lst, [lst.BeginAccept(16, cb, None), lst.BeginAccept(m.tcp(), 16, cb, None)], "EndAccept"


def connect(m: Made, cb: Any) -> tuple[Socket, list[IAsyncResult], str]:
    lst = m.listener(backlog=0)
    m.tcp().Connect(lst.LocalEndPoint)  # fills the accept queue: the next SYN is dropped
    c = m.tcp()
    return c, [c.BeginConnect(lst.LocalEndPoint, cb, None)], "EndConnect"


def connect_to_addresses(m: Made, cb: Any) -> tuple[Socket, list[IAsyncResult], str]:
    lst = m.listener(backlog=0)
    m.tcp().Connect(lst.LocalEndPoint)
    c = m.tcp()
    # The first address refuses, the second never answers while the queue is full.
    ar = c.BeginConnect([IPAddress.Parse("127.0.0.2"), IPAddress.Loopback], lst.LocalEndPoint.Port, cb, None)
    return c, [ar], "EndConnect"


def send(m: Made, cb: Any) -> tuple[Socket, list[IAsyncResult], str]:
    c, _ = m.pair()
    fill(c)
    return c, [c.BeginSend(bytes(200_000), 0, 200_000, 0, cb, i) for i in range(2)], "EndSend"


def send_list(m: Made, cb: Any) -> tuple[Socket, list[IAsyncResult], str]:
    c, _ = m.pair()
    fill(c)
    return c, [c.BeginSend([bytes(100_000), bytes(100_000)], 0, cb, None)], "EndSend"


def send_to_on_a_stream(m: Made, cb: Any) -> tuple[Socket, list[IAsyncResult], str]:
    c, _ = m.pair()
    fill(c)
    return c, [c.BeginSendTo(bytes(200_000), 0, 200_000, 0, ANY4, cb, None)], "EndSendTo"


KINDS: dict[str, Start] = {
    "receive": receive,
    "receive_list": receive_list,
    "several_receives": several_receives,
    "receive_from": receive_from,
    "udp_receive": udp_receive,
    "accept": accept,
    "accept_with_receive": accept_with_receive,
    "connect": connect,
    "connect_to_addresses": connect_to_addresses,
    "send": send,
    "send_list": send_list,
    "send_to_on_a_stream": send_to_on_a_stream,
}


def warm_up(made: Made) -> None:
    """Start the engine's lazily created threads before the baseline is taken."""
    rec = CallbackRecorder()
    s, ars, _ = receive(made, rec)
    s.Close()
    assert rec.wait(len(ars))


@pytest.mark.parametrize("kind", list(KINDS))
def test_close_with_operations_pending(kind: str) -> None:
    warm = Made()
    warm_up(warm)
    warm.dispose_all()
    # Garbage of earlier tests (a socket or a pipe in a reference cycle) is collected now, not at
    # some allocation during this test, where its descriptor closing would look like one of ours.
    gc.collect()
    # A collected socket the engine knew is closed by the engine thread (its finalizer only hands
    # it over): let those closes finish before counting.
    assert wait_until(lambda: not engine._reaper.orphans)
    base_fds = open_descriptors()
    base_threads = other_threads()

    made = Made()
    try:
        outcomes: list[Any] = []

        def action(ar: IAsyncResult) -> Any:
            try:
                return getattr(s, end)(ar)
            except SocketException as exc:
                return exc

        rec = CallbackRecorder(action)
        s, ars, end = KINDS[kind](made, rec)
        assert all(not ar.IsCompleted for ar in ars), "the operation must be pending to test this"
        s.Close()
        assert rec.wait(len(ars)), f"{len(rec.calls)} of {len(ars)} callbacks ran"
        assert not rec.wait(len(ars) + 1, timeout=0.05)  # exactly once each
        assert sorted(map(id, rec.calls)) == sorted(map(id, ars))
        outcomes = rec.results
        for ar, outcome in zip(rec.calls, outcomes, strict=True):
            assert ar.IsCompleted and not ar.CompletedSynchronously
            assert isinstance(outcome, SocketException), outcome
            assert outcome.SocketErrorCode == SocketError.OperationAborted
            assert outcome.ErrorCode == 995
    finally:
        made.dispose_all()
    # None of ours is left open.  (Fewer than before would be some other object's descriptor that
    # a collection closed meanwhile; one of ours left open shows as more.)
    assert open_descriptors() <= base_fds
    assert wait_until(lambda: other_threads() == base_threads)


def test_end_without_callback_after_close_raises_aborted(make_socket: Made) -> None:
    _, a = make_socket.pair()
    ar = a.BeginReceive(bytearray(8), 0, 8, 0, None, None)
    closer = threading.Timer(0.05, a.Close)
    closer.start()
    with pytest.raises(SocketException) as ei:
        a.EndReceive(ar)  # waiting in End when the socket is closed
    closer.join(WAIT)
    assert ei.value.SocketErrorCode == SocketError.OperationAborted


def test_end_after_close_returns_what_completed_before(make_socket: Made) -> None:
    c, a = make_socket.pair()
    buf = bytearray(8)
    ar = a.BeginReceive(buf, 0, 8, 0, None, None)
    c.Send(b"arrived")
    assert ar.AsyncWaitHandle.WaitOne(int(WAIT * 1000))
    a.Close()
    assert a.EndReceive(ar) == 7
    assert bytes(buf[:7]) == b"arrived"


def test_close_from_a_callback_aborts_the_rest(make_socket: Made) -> None:
    c, a = make_socket.pair()
    results: list[Any] = []
    lock = threading.Lock()
    finished = threading.Event()

    def on_receive(ar: IAsyncResult) -> None:
        try:
            outcome: Any = a.EndReceive(ar)
        except SocketException as exc:
            outcome = exc.SocketErrorCode
        with lock:
            results.append((ar.AsyncState, outcome))
            if len(results) == 3:
                finished.set()
        if ar.AsyncState == 0:
            a.Close()

    for i in range(3):
        a.BeginReceive(bytearray(1), 0, 1, 0, on_receive, i)
    c.Send(b"x")
    assert finished.wait(WAIT)
    assert sorted(results) == [(0, 1), (1, SocketError.OperationAborted), (2, SocketError.OperationAborted)]


def test_disconnect_reuse_ends_pending_operations(make_socket: Made) -> None:
    _, a = make_socket.pair()
    rec = CallbackRecorder(lambda ar: a.EndReceive(ar))
    a.BeginReceive(bytearray(8), 0, 8, 0, rec, None)
    a.Disconnect(True)
    assert rec.wait(1)
    assert not rec.wait(2, timeout=0.05)
    # The shutdown may hand it the end of the stream first; else the new descriptor aborts it.
    if rec.errors:
        assert isinstance(rec.errors[0], SocketException)
        assert rec.errors[0].SocketErrorCode == SocketError.OperationAborted
    else:
        assert rec.results == [0]


def test_shutdown_completes_a_pending_receive_with_end_of_stream(make_socket: Made) -> None:
    c, a = make_socket.pair()
    ar = a.BeginReceive(bytearray(8), 0, 8, 0, None, None)
    c.Shutdown(SocketShutdown.Send)
    assert a.EndReceive(ar) == 0


def test_closing_while_completions_race(make_socket: Made) -> None:
    """Datagrams arrive while the sockets close: each callback still runs exactly once."""
    count = 200
    lock = threading.Lock()
    calls: dict[int, int] = {}
    outcomes: dict[int, Any] = {}
    all_done = threading.Event()
    sockets = [make_socket.udp() for _ in range(count)]

    def on_receive(ar: IAsyncResult) -> None:
        i = ar.AsyncState
        try:
            outcome: Any = sockets[i].EndReceiveFrom(ar)[0]
        except SocketException as exc:
            outcome = exc.SocketErrorCode
        with lock:
            calls[i] = calls.get(i, 0) + 1
            outcomes[i] = outcome
            if len(outcomes) == count:
                all_done.set()

    for i, s in enumerate(sockets):
        s.BeginReceiveFrom(bytearray(8), 0, 8, 0, ANY4, on_receive, i)
    order = list(range(count))
    random.Random(7).shuffle(order)
    targets = [("127.0.0.1", s.LocalEndPoint.Port) for s in sockets]

    def send_all() -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
            for i in range(count):
                peer.sendto(b"race", targets[i])

    sender = threading.Thread(target=send_all)
    sender.start()
    for i in order:
        sockets[i].Close()
    sender.join(WAIT)
    assert all_done.wait(WAIT), f"{count - len(outcomes)} callbacks never ran"
    assert set(calls.values()) == {1}
    assert set(outcomes.values()) <= {4, SocketError.OperationAborted}
