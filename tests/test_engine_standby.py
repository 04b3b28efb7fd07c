"""Who waits for readiness: the engine thread, or the completion worker that holds the watch.

In a request/response exchange between two sockets of one process, the
worker that runs the callbacks collects the readiness they create
(``Engine.serve_ready``); the engine thread then waits off the epoll set
(``Engine._guard``) so that the kernel does not wake it for reports the
worker takes anyway.  When every worker is idle, the last one to go idle
waits in the set itself (``Engine.hold``): a report reaches its callback
with one thread wake-up, and a post from another thread rings that
worker.  These tests pin down the ways out of the engine thread's guard
(nobody awake, a worker going to hold the watch, a worker that stopped
polling), that it parks while a worker holds the watch and the process
is idle (no periodic wake-ups), who serves a report, and that readiness
is still served when the worker holding the watch gets stuck in a
callback.
"""

from __future__ import annotations

import os
import sys
import textwrap
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
from dotnet_sockets._engine.dispatch import dispatcher
from dotnet_sockets._engine.epoll import _ENGINE, _NOBODY, _WORKER, Engine, engine
from dotnet_sockets._engine.opqueue import OpQueue
from reliability_support import CHILD_PRELUDE, run_child
from socket_helpers import wait_until


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


def _guard_in_thread(eng: Engine) -> tuple[threading.Thread, list[tuple[float, bool]]]:
    took: list[tuple[float, bool]] = []

    def run() -> None:
        t0 = time.monotonic()
        stuck = eng._guard()
        took.append((time.monotonic() - t0, stuck))

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, took


def test_no_guard_without_an_awake_worker_or_a_holder(lone_engine: tuple[Engine, _FakeDispatcher]) -> None:
    eng, fake = lone_engine
    fake._active = 0
    t, took = _guard_in_thread(eng)
    t.join(WAIT)
    assert took and took[0][1] is False  # the set is the engine thread's
    assert not eng._parked


def test_a_worker_that_stops_polling_gets_the_engine_thread_back(
    lone_engine: tuple[Engine, _FakeDispatcher],
) -> None:
    # The worker counts as awake but never comes back to serve_ready (a
    # long or blocking callback): the guard ends after one period.
    eng, _ = lone_engine
    t, took = _guard_in_thread(eng)
    t.join(WAIT)
    assert took and took[0][0] < WAIT / 2
    assert took[0][1] is True  # the engine thread then keeps the set until the worker polls again


def test_the_guard_parks_while_a_worker_holds_the_watch_and_wakes_when_it_leaves(
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
        t, took = _guard_in_thread(eng)
        time.sleep(period * 3)
        assert t.is_alive() and not eng._parked  # guarding: the worker polls
        # The worker goes idle and holds the watch, and keeps polling a while
        # (the pauses of an exchange): the engine thread keeps guarding, timed.
        eng._thread = t  # take() hands out the watch only once the engine runs
        fake._active = 0
        assert eng.take() and eng._holder == _WORKER
        time.sleep(period * 2)
        assert t.is_alive() and not eng._parked
        stop.set()
        cycler.join(WAIT)
        # A whole period without a poll: it parks (an idle process makes no periodic wake-ups).
        assert wait_until(lambda: eng._parked)
        time.sleep(period * 3)
        assert t.is_alive() and eng._parked  # untimed
        # The holder wakes and leaves the watch: the guard goes on, and with
        # nobody awake and nobody holding the watch it gives the set back.
        eng.leave()
        t.join(WAIT)
        assert took and took[0][1] is False
        assert eng._holder == _NOBODY and not eng._parked
    finally:
        stop.set()


def test_the_watch_goes_to_one_thread_at_a_time(lone_engine: tuple[Engine, _FakeDispatcher]) -> None:
    eng, fake = lone_engine
    assert not eng.take()  # the engine thread has not started: the workers sleep as before
    eng._thread = threading.current_thread()
    fake._active = 0
    assert eng._enter_set(-1) and eng._holder == _ENGINE
    assert not eng.take()  # the engine thread is in the set: it keeps it
    eng._holder = _NOBODY
    assert eng.take() and eng._holder == _WORKER
    assert not eng.take()
    assert not eng._enter_set(-1)  # nor may the engine thread join the holder
    eng.leave()
    fake._active = 1
    assert not eng._enter_set(-1)  # an awake worker polls: guard instead
    assert eng._enter_set(eng._cycles)  # unless it stopped polling (gave_up)


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


def _holding_thread() -> threading.Thread | None:
    """The completion worker that waits in the epoll set (in ``Engine.hold``), if one does."""
    frames = sys._current_frames()
    for t in threading.enumerate():
        frame = frames.get(t.ident or -1)
        while frame is not None:
            if frame.f_code is Engine.hold.__code__:
                return t
            frame = frame.f_back
    return None


def _where_workers_are() -> str:
    frames = sys._current_frames()
    out = [f"awake {dispatcher._active}, holder {engine._holder}, leading {dispatcher._leading}"]
    for t in threading.enumerate():
        if t.name.startswith("dotnet-sockets"):
            frame, names = frames.get(t.ident or -1), []
            while frame is not None:
                names.append(f"{frame.f_code.co_name}:{frame.f_lineno}")
                frame = frame.f_back
            out.append(f"{t.name}: {' < '.join(names[:6])}")
    return "; ".join(out)


def _wait_for_holder(seconds: float = WAIT) -> threading.Thread | None:
    found: list[threading.Thread] = []

    def held() -> bool:
        t = _holding_thread()
        if t is not None and dispatcher._leading and engine._holder == _WORKER:
            found.append(t)
            return True
        return False

    return found[-1] if wait_until(held, seconds) else None


def _holder() -> threading.Thread:
    t = _wait_for_holder()
    assert t is not None, f"no completion worker took the watch: {_where_workers_are()}"
    return t


def test_a_report_while_every_worker_idles_wakes_only_the_worker_that_runs_its_callback(
    make_socket: Callable[..., Socket], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The report is served by the worker holding the watch (not the engine
    # thread, which then would have to wake a worker), and the callback runs
    # on that same worker: one thread wake-up from readiness to callback.
    server = make_socket()
    server.Bind(IPEndPoint(IPAddress.Loopback, 0))
    client = make_socket()
    served: list[threading.Thread] = []
    ran: list[threading.Thread] = []
    arrived = threading.Event()
    real_on_ready = OpQueue.on_ready

    def recording_on_ready(self: OpQueue, readable: bool, writable: bool) -> None:
        if self is server._io:
            served.append(threading.current_thread())
        real_on_ready(self, readable, writable)

    def on_recv(ar: IAsyncResult) -> None:
        try:
            server.EndReceiveFrom(ar)
        except (SocketException, ObjectDisposedException):
            return  # the receive left pending at the end, aborted by the Dispose
        ran.append(threading.current_thread())
        arrived.set()
        server.BeginReceiveFrom(bytearray(64), 0, 64, 0, IPEndPoint(IPAddress.Any, 0), on_recv, None)

    monkeypatch.setattr(OpQueue, "on_ready", recording_on_ready)
    server.BeginReceiveFrom(bytearray(64), 0, 64, 0, IPEndPoint(IPAddress.Any, 0), on_recv, None)
    rounds = 30
    held = same = 0
    for _ in range(rounds):
        # Normally a worker holds the watch again by now.  The engine thread keeps the
        # set instead when it judged the awake worker stuck (on a loaded machine, a
        # worker held off its CPU for a period) until the next report: then it serves it.
        holder = _wait_for_holder(seconds=1.0)
        served_before = len(served)
        arrived.clear()
        client.SendTo(b"ping", server.LocalEndPoint)
        assert arrived.wait(WAIT)
        if holder is not None:
            held += 1
            assert served[served_before:] == [holder], (holder, served[served_before:])
            same += ran[-1] is holder
    assert held >= rounds - 3, f"{held} of {rounds} rounds found a worker holding the watch"
    assert len(served) == len(ran)
    # The watchdog brings in another worker only after a holder stalled _STALL_SECONDS
    # with the completion queued: allow a hiccup of a loaded machine or two.
    assert same >= held - 2, (served, ran)


def test_a_post_while_a_worker_holds_the_watch_rings_that_worker(make_socket: Callable[..., Socket]) -> None:
    # A completion posted by another thread (here a BeginSendTo that completes
    # at once on this thread) wakes the holder, not a sleeping worker: that
    # one's callbacks would create readiness that wakes the holder too.
    receiver = make_socket()
    receiver.Bind(IPEndPoint(IPAddress.Loopback, 0))
    sender = make_socket()
    ran: list[threading.Thread] = []
    done = threading.Event()

    def on_sent(ar: IAsyncResult) -> None:
        sender.EndSendTo(ar)
        ran.append(threading.current_thread())
        done.set()

    # A pending receive gets the engine going, and a worker to hold its watch.
    got = threading.Event()
    receiver.BeginReceiveFrom(bytearray(64), 0, 64, 0, IPEndPoint(IPAddress.Any, 0), lambda ar: got.set(), None)
    sender.SendTo(b"x", receiver.LocalEndPoint)
    assert got.wait(WAIT)
    for _ in range(10):
        holder = _holder()
        sleeping = list(dispatcher._idle)
        done.clear()
        sender.BeginSendTo(b"y", 0, 1, 0, receiver.LocalEndPoint, on_sent, None)
        assert done.wait(WAIT)
        assert ran[-1] is holder
        assert all(lock in dispatcher._idle for lock in sleeping)  # nobody else was woken


def test_readiness_is_served_while_the_holder_is_stuck_in_a_callback(make_socket: Callable[..., Socket]) -> None:
    # The worker holding the watch wakes for a report and its callback then
    # blocks on End... of another receive: only the engine thread, woken
    # from its park by that worker, can serve the other socket now (no
    # completion is queued, so the watchdog brings in no other worker).
    first = make_socket()
    first.Bind(IPEndPoint(IPAddress.Loopback, 0))
    second = make_socket()
    second.Bind(IPEndPoint(IPAddress.Loopback, 0))
    client = make_socket()
    any_ep = IPEndPoint(IPAddress.Any, 0)
    warm = threading.Event()
    first.BeginReceiveFrom(bytearray(64), 0, 64, 0, any_ep, lambda ar: warm.set(), None)
    client.SendTo(b"warm", first.LocalEndPoint)
    assert warm.wait(WAIT)
    _holder()
    assert wait_until(lambda: engine._parked)  # the process is idle: the engine thread parked
    blocked = threading.Event()
    outcome: list[Any] = []
    finished = threading.Event()
    pending = second.BeginReceiveFrom(bytearray(64), 0, 64, 0, any_ep, None, None)

    def on_first(ar: IAsyncResult) -> None:
        first.EndReceiveFrom(ar)
        blocked.set()
        try:
            outcome.append(second.EndReceiveFrom(pending)[0])
        except Exception as exc:  # noqa: BLE001 - recorded for the test
            outcome.append(exc)
        finished.set()

    first.BeginReceiveFrom(bytearray(64), 0, 64, 0, any_ep, on_first, None)
    client.SendTo(b"go", first.LocalEndPoint)
    assert blocked.wait(WAIT)
    t0 = time.monotonic()
    client.SendTo(b"late", second.LocalEndPoint)
    assert finished.wait(WAIT)
    assert outcome == [4], outcome
    assert time.monotonic() - t0 < WAIT / 2
    assert engine.running


_IDLE_CHILD = CHILD_PRELUDE + textwrap.dedent(
    """
    import json
    from dotnet_sockets._engine.dispatch import dispatcher
    from dotnet_sockets._engine.epoll import engine

    def switches():
        out = {}
        for t in threading.enumerate():
            if t.name.startswith("dotnet-sockets"):
                with open(f"/proc/self/task/{t.native_id}/status") as f:
                    for line in f:
                        if line.startswith("voluntary_ctxt_switches"):
                            out[t.name] = int(line.split()[1])
        return out

    server, client = udp(), udp()
    got = threading.Event()
    def on_recv(ar):
        server.EndReceiveFrom(ar)
        got.set()
        server.BeginReceiveFrom(bytearray(64), 0, 64, SocketFlags.None_, ANY4, on_recv, None)
    server.BeginReceiveFrom(bytearray(64), 0, 64, SocketFlags.None_, ANY4, on_recv, None)
    for _ in range(50):
        got.clear()
        client.SendTo(b"ping", server.LocalEndPoint)
        assert got.wait(5)
    # Settled: the engine thread parks a period or two after the last poll; the
    # watchdog ends its loop within _STALL_SECONDS of the last awake worker.
    deadline = time.monotonic() + 5
    while not (engine._parked and dispatcher._leading) and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)
    before = switches()
    time.sleep(1.0)
    after = switches()
    print(json.dumps({"parked": engine._parked, "leading": dispatcher._leading,
                      "woken": {k: after[k] - before.get(k, 0) for k in after}}))
    """
)


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="needs Linux /proc")
def test_an_idle_process_makes_no_periodic_wake_ups() -> None:
    # A server waiting for its next datagram, in a fresh interpreter: over a
    # second of idleness, none of the package's threads is woken (no timer
    # ticks while nothing is pending that can fire and nothing runs).
    import json

    proc, _ = run_child(_IDLE_CHILD, timeout=60)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["parked"] and report["leading"], report
    assert len(report["woken"]) >= 3, report  # engine, a worker, the watchdog at least
    assert not any(report["woken"].values()), report
