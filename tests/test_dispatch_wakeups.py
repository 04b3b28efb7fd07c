"""Issue 15, item 5: a chain of Begin/End operations whose callbacks start the next one never
puts its completion worker to sleep, so nothing has to wake a thread for it.

What the chain's callbacks post runs next on the same worker (``run_next``), and the worker
serves the readiness they create before it would sleep (``before_idle``, ``Engine.serve_ready``).
A worker sleeps in one of two places: on its own lock (``Dispatcher._idle``) or holding the
engine's watch (``Engine.hold``); every later wake-up of it starts from one of them, so these
tests count both while a chain runs.  A design that handed each step to another thread, or
let the worker run dry between steps, would sleep about once per step.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from conftest import WAIT
from dotnet_sockets import (
    IAsyncResult,
    IPAddress,
    IPEndPoint,
    ObjectDisposedException,
    Socket,
    SocketException,
    SocketType,
)
from dotnet_sockets._engine import epoll
from dotnet_sockets._engine.dispatch import dispatcher
from dotnet_sockets._engine.epoll import engine

STEPS = 400
WARM_UP = 20  # the first steps start from the test's thread and may find every worker asleep


class _Sleeps:
    """Counts the completion workers' sleeps while ``counting`` is set."""

    def __init__(self) -> None:
        self.counting = threading.Event()
        self.count = 0

    def seen(self) -> None:
        if self.counting.is_set():
            self.count += 1


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Sleeps]:
    counter = _Sleeps()

    class CountingIdle(list[Any]):
        def append(self, item: Any) -> None:
            counter.seen()
            super().append(item)

    real_hold = engine.hold

    def counting_hold(claim: Callable[[], bool]) -> None:
        counter.seen()
        real_hold(claim)

    # Periods long enough that a loaded machine, which may hold the worker off a CPU for
    # milliseconds, does not send the engine thread into the set (it would then serve the
    # chain's reports and the worker could run dry waiting for them).
    monkeypatch.setattr(epoll, "_STANDBY_SECONDS", 0.1)
    monkeypatch.setattr(engine, "hold", counting_hold)
    # The workers' idle list is swapped for a counting one holding the same entries, and
    # back for a plain one holding what it holds then: entries come and go meanwhile, so
    # the old list object must not come back (monkeypatch would restore it).
    with dispatcher._lock:
        dispatcher._idle = CountingIdle(dispatcher._idle)
    try:
        yield counter
    finally:
        counter.counting.clear()
        with dispatcher._lock:
            dispatcher._idle = list(dispatcher._idle)


def _bound(make_socket: Callable[..., Socket], st: SocketType = SocketType.Dgram) -> Socket:
    s = make_socket(st=st)
    s.Bind(IPEndPoint(IPAddress.Loopback, 0))
    return s


def _check(sleeps: _Sleeps, ran: list[threading.Thread], done: threading.Event) -> None:
    assert done.wait(WAIT * 2), f"{len(ran)} of {STEPS} steps"
    counted = STEPS - WARM_UP
    # A few for a scheduling hiccup of a loaded machine; one per step is what a hand-off costs.
    assert sleeps.count <= counted // 20, f"the worker slept {sleeps.count} times in {counted} steps"
    steady = ran[WARM_UP:]
    assert sum(t is steady[0] for t in steady) >= len(steady) - 5, "the chain moved between workers"


def test_a_datagram_chain_never_puts_its_worker_to_sleep(
    make_socket: Callable[..., Socket], sleeps: _Sleeps
) -> None:
    # Each step's receive callback starts the next receive and the next send to itself.
    server = _bound(make_socket)
    client = _bound(make_socket)
    target = server.LocalEndPoint
    buf = bytearray(64)
    ran: list[threading.Thread] = []
    done = threading.Event()

    def on_sent(ar: IAsyncResult) -> None:
        client.EndSendTo(ar)

    def on_recv(ar: IAsyncResult) -> None:
        try:
            server.EndReceiveFrom(ar)
        except (SocketException, ObjectDisposedException):
            return  # (not expected: the chain ends without a pending receive)
        ran.append(threading.current_thread())
        if len(ran) == WARM_UP:
            sleeps.counting.set()
        if len(ran) >= STEPS:
            sleeps.counting.clear()
            done.set()
            return
        server.BeginReceiveFrom(buf, 0, len(buf), 0, IPEndPoint(IPAddress.Any, 0), on_recv, None)
        client.BeginSendTo(b"x", 0, 1, 0, target, on_sent, None)

    server.BeginReceiveFrom(buf, 0, len(buf), 0, IPEndPoint(IPAddress.Any, 0), on_recv, None)
    client.BeginSendTo(b"x", 0, 1, 0, target, on_sent, None)
    _check(sleeps, ran, done)


def test_a_stream_echo_chain_never_puts_its_worker_to_sleep(
    make_socket: Callable[..., Socket], sleeps: _Sleeps
) -> None:
    # echo_begin's shape for one connection: client send, server receive, server send back,
    # client receive, next request; four operations per step, two of them pending receives.
    listener = _bound(make_socket, SocketType.Stream)
    listener.Listen(1)
    client = make_socket(st=SocketType.Stream)
    client.Connect(listener.LocalEndPoint)
    server = listener.Accept()
    try:
        size = 128
        sbuf, req, resp = bytearray(size), bytes(size), bytearray(size)
        got = [0]
        ran: list[threading.Thread] = []
        done = threading.Event()

        def on_server_recv(ar: IAsyncResult) -> None:
            try:
                n = server.EndReceive(ar)
            except (SocketException, ObjectDisposedException):
                return  # the receive left pending at the end, aborted by the Dispose
            if n:
                server.BeginSend(sbuf, 0, n, 0, lambda sar: server.EndSend(sar), None)
                server.BeginReceive(sbuf, 0, size, 0, on_server_recv, None)

        def on_client_recv(ar: IAsyncResult) -> None:
            got[0] += client.EndReceive(ar)
            if got[0] < size:
                client.BeginReceive(resp, got[0], size - got[0], 0, on_client_recv, None)
                return
            got[0] = 0
            ran.append(threading.current_thread())
            if len(ran) == WARM_UP:
                sleeps.counting.set()
            if len(ran) >= STEPS:
                sleeps.counting.clear()
                done.set()
                return
            client.BeginReceive(resp, 0, size, 0, on_client_recv, None)
            client.BeginSend(req, 0, size, 0, lambda sar: client.EndSend(sar), None)

        server.BeginReceive(sbuf, 0, size, 0, on_server_recv, None)
        client.BeginReceive(resp, 0, size, 0, on_client_recv, None)
        client.BeginSend(req, 0, size, 0, lambda sar: client.EndSend(sar), None)
        _check(sleeps, ran, done)
    finally:
        server.Dispose()
