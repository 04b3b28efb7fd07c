"""The engine thread stands aside while a completion worker serves readiness itself.

In a request/response exchange between two sockets of one process, the
worker that runs the callbacks collects the readiness they create
(``Engine.serve_ready``); the engine thread then waits off the epoll set
(``Engine._stand_by``) so that the kernel does not wake it for reports the
worker takes anyway.  These tests pin down the three ways out of that
wait (no worker active, a worker going to sleep, a worker that stopped
polling), and that readiness is still served when the worker is stuck in
a callback.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from conftest import WAIT
from dotnet_sockets import (
    AddressFamily,
    IAsyncResult,
    IPAddress,
    IPEndPoint,
    ObjectDisposedException,
    Socket,
    SocketException,
    SocketType,
)
from dotnet_sockets._engine import epoll
from dotnet_sockets._engine.epoll import _STANDBY_SECONDS, Engine, engine
from dotnet_sockets._engine.opqueue import OpQueue


class _FakeDispatcher:
    _active = 1


@pytest.fixture
def lone_engine(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Engine, _FakeDispatcher]]:
    """An engine of its own (never started) that sees a fake dispatcher's worker count."""
    fake = _FakeDispatcher()
    monkeypatch.setattr(epoll, "dispatcher", fake)
    eng = Engine()
    yield eng, fake
    eng._ep.close()


def _stand_by_in_thread(eng: Engine) -> tuple[threading.Thread, list[tuple[float, bool]]]:
    took: list[tuple[float, bool]] = []

    def run() -> None:
        t0 = time.monotonic()
        stuck = eng._stand_by()
        took.append((time.monotonic() - t0, stuck))

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, took


def test_no_stand_by_without_an_active_worker(lone_engine: tuple[Engine, _FakeDispatcher]) -> None:
    eng, fake = lone_engine
    fake._active = 0
    t0 = time.monotonic()
    assert eng._stand_by() is False
    assert time.monotonic() - t0 < _STANDBY_SECONDS
    assert not eng._standing_by


def test_a_worker_that_stops_polling_gets_the_engine_thread_back(
    lone_engine: tuple[Engine, _FakeDispatcher],
) -> None:
    # The worker counts as active but never comes back to serve_ready (a
    # long or blocking callback): the wait ends after one period.
    eng, _ = lone_engine
    t, took = _stand_by_in_thread(eng)
    t.join(WAIT)
    assert took and took[0][0] < WAIT / 2
    assert took[0][1] is True  # the engine thread then keeps the watch until the worker polls again
    assert not eng._standing_by


def test_a_polling_worker_keeps_it_aside_until_it_sleeps(
    lone_engine: tuple[Engine, _FakeDispatcher], monkeypatch: pytest.MonkeyPatch
) -> None:
    eng, fake = lone_engine
    period = 0.1  # long enough that a loaded machine does not make the cycler miss one
    monkeypatch.setattr(epoll, "_STANDBY_SECONDS", period)
    stop = threading.Event()

    def worker_cycles() -> None:
        # What serve_ready does to the counter, several times a period.
        while not stop.is_set():
            eng._cycles += 1
            time.sleep(period / 20)

    cycler = threading.Thread(target=worker_cycles, daemon=True)
    cycler.start()
    try:
        t, took = _stand_by_in_thread(eng)
        time.sleep(period * 3)
        assert t.is_alive() and eng._standing_by  # still aside: the worker polls for it
        stop.set()
        cycler.join(WAIT)
        fake._active = 0
        t0 = time.monotonic()
        eng.worker_sleeps()  # the last worker goes to sleep: the watch goes back
        t.join(WAIT)
        assert took and not t.is_alive()
        assert took[0][1] is False
        assert time.monotonic() - t0 < WAIT / 2
    finally:
        stop.set()
    # A second hand-back with nobody aside is harmless.  (A hand-back that
    # races with the end of a wait may leave the lock released: the next
    # wait then ends at once, which only sends this thread back early.)
    eng.worker_sleeps()
    assert not eng._standing_by


def test_a_worker_that_is_still_active_does_not_hand_back(lone_engine: tuple[Engine, _FakeDispatcher]) -> None:
    # Another worker is still awake (and will poll before it sleeps): the
    # one going to sleep leaves the engine thread aside.
    eng, _ = lone_engine
    eng._standing_by = True
    eng.worker_sleeps()
    assert eng._standing_by
    assert not eng._wake.acquire(False)


@pytest.fixture
def echo_pair(make_socket: Callable[..., Socket]) -> Iterator[Callable[[], tuple[Socket, Socket]]]:
    """Factory of connected (client, server) TCP pairs; all disposed at the end of the test."""
    accepted: list[Socket] = []

    def make() -> tuple[Socket, Socket]:
        listener = make_socket(AddressFamily.InterNetwork, SocketType.Stream)
        listener.Bind(IPEndPoint(IPAddress.Loopback, 0))
        listener.Listen()
        client = make_socket(AddressFamily.InterNetwork, SocketType.Stream)
        client.Connect(listener.LocalEndPoint)
        server = listener.Accept()
        accepted.append(server)
        return client, server

    yield make
    for s in accepted:
        s.Dispose()


def test_an_echo_is_served_by_the_worker_not_the_engine_thread(
    echo_pair: Callable[[], tuple[Socket, Socket]], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, server = echo_pair()
    served = {"engine": 0, "worker": 0}
    real_on_ready = OpQueue.on_ready

    def counting_on_ready(self: OpQueue, readable: bool, writable: bool) -> None:
        # (Engine._serve is bound once by a running engine thread; each report goes through here.)
        served["engine" if threading.current_thread() is engine._thread else "worker"] += 1
        real_on_ready(self, readable, writable)

    monkeypatch.setattr(OpQueue, "on_ready", counting_on_ready)
    # Periods long enough that a loaded machine, which may hold the worker
    # off a CPU for milliseconds, does not end the stand-by here.
    monkeypatch.setattr(epoll, "_STANDBY_SECONDS", 0.1)
    # Several completions per step (receive, send): the engine thread, if it
    # wins a report while the worker runs a callback, could keep the
    # worker's queue fed for good, the two threads working as a pipeline
    # in which the worker never runs dry and never polls.  It steps aside
    # because the worker was awake, not only once the worker polled.
    rounds = 2000
    block = bytes(4096)
    sbuf = bytearray(4096)
    cbuf = bytearray(4096)
    done = threading.Event()
    state = {"left": rounds, "got": 0}

    def on_server_recv(ar: IAsyncResult) -> None:
        try:
            n = server.EndReceive(ar)
        except (SocketException, ObjectDisposedException):
            return  # the receive left pending at the end, aborted by the Dispose
        if n:
            server.BeginSend(sbuf, 0, n, 0, lambda sar: server.EndSend(sar), None)
            server.BeginReceive(sbuf, 0, len(sbuf), 0, on_server_recv, None)

    def on_client_recv(ar: IAsyncResult) -> None:
        state["got"] += client.EndReceive(ar)
        if state["got"] >= len(block):
            state["got"] -= len(block)
            state["left"] -= 1
            if not state["left"]:
                done.set()
                return
            client.BeginSend(block, 0, len(block), 0, lambda sar: client.EndSend(sar), None)
        client.BeginReceive(cbuf, 0, len(cbuf), 0, on_client_recv, None)

    server.BeginReceive(sbuf, 0, len(sbuf), 0, on_server_recv, None)
    client.BeginReceive(cbuf, 0, len(cbuf), 0, on_client_recv, None)
    client.Send(block)
    assert done.wait(WAIT * 4)
    total = served["engine"] + served["worker"]
    assert total > 0
    # Without the stand-by the engine thread took a third to most of the
    # reports (depending on whether both threads share a CPU); with it, it
    # takes the first few and those after a scheduling hiccup.
    assert served["engine"] < max(50, total // 5), served


def test_readiness_is_served_while_the_polling_worker_is_stuck(
    echo_pair: Callable[[], tuple[Socket, Socket]],
) -> None:
    # A callback blocks on a synchronous Receive right after an exchange that
    # had put the engine thread aside: no completion is queued (the watchdog
    # brings in no other worker), so only the engine thread's return to the
    # epoll set can finish that receive.
    client, server = echo_pair()
    other_client, other_server = echo_pair()
    rounds = 300
    buf = bytearray(1024)
    outcome: list[Any] = []
    finished = threading.Event()
    state = {"left": rounds}

    def blocked_receive() -> None:
        other_server.ReceiveTimeout = int(WAIT * 1000)
        try:
            outcome.append(other_server.Receive(bytearray(16)))
        except Exception as exc:  # noqa: BLE001 - recorded for the test
            outcome.append(exc)
        finished.set()

    def on_server_recv(ar: IAsyncResult) -> None:
        try:
            n = server.EndReceive(ar)
        except (SocketException, ObjectDisposedException):
            return  # the receive left pending at the end, aborted by the Dispose
        if n:
            server.Send(buf, 0, n, 0)
            server.BeginReceive(buf, 0, len(buf), 0, on_server_recv, None)

    def on_client_recv(ar: IAsyncResult) -> None:
        client.EndReceive(ar)
        state["left"] -= 1
        if not state["left"]:
            threading.Timer(0.05, lambda: other_client.Send(b"late")).start()
            blocked_receive()
            return
        client.Send(b"x" * 64)
        client.BeginReceive(bytearray(1024), 0, 1024, 0, on_client_recv, None)

    server.BeginReceive(buf, 0, len(buf), 0, on_server_recv, None)
    client.BeginReceive(bytearray(1024), 0, 1024, 0, on_client_recv, None)
    t0 = time.monotonic()
    client.Send(b"x" * 64)
    assert finished.wait(WAIT * 2)
    assert outcome == [4], outcome
    assert time.monotonic() - t0 < WAIT
    assert engine.running
