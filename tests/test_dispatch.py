"""The completion workers: blocking callbacks cannot starve other completions."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from conftest import WAIT, CallbackRecorder, UdpPeer
from dotnet_sockets import AddressFamily, IAsyncResult, Socket
from dotnet_sockets._engine.dispatch import Dispatcher


def test_a_callback_waiting_for_another_callback_does_not_deadlock(make_socket: Callable[..., Socket]) -> None:
    # The classic pattern: a callback blocks until a later operation's callback
    # has run.  With one worker stuck, the watchdog must bring another one in.
    peer = UdpPeer(AddressFamily.InterNetwork)
    try:
        s = make_socket()
        second_ran = threading.Event()
        outcome: list[bool] = []
        first_done = threading.Event()

        def first(ar: IAsyncResult) -> None:
            s.EndSendTo(ar)
            outcome.append(second_ran.wait(WAIT))
            first_done.set()

        def second(ar: IAsyncResult) -> None:
            s.EndSendTo(ar)
            second_ran.set()

        s.BeginSendTo(b"1", 0, 1, 0, peer.endpoint, first, None)
        s.BeginSendTo(b"2", 0, 1, 0, peer.endpoint, second, None)
        assert first_done.wait(WAIT * 2)
        assert outcome == [True]
    finally:
        peer.close()


def test_completions_keep_running_while_one_callback_blocks(make_socket: Callable[..., Socket]) -> None:
    peer = UdpPeer(AddressFamily.InterNetwork)
    release = threading.Event()
    try:
        s = make_socket()
        blocker_started = threading.Event()

        def blocker(ar: IAsyncResult) -> None:
            blocker_started.set()
            release.wait(WAIT)

        s.BeginSendTo(b"b", 0, 1, 0, peer.endpoint, blocker, None)
        assert blocker_started.wait(WAIT)
        rec = CallbackRecorder(s.EndSendTo)
        for i in range(5):
            s.BeginSendTo(b"x", 0, 1, 0, peer.endpoint, rec, i)
        assert rec.wait(5)
        assert sorted(ar.AsyncState for ar in rec.calls) == [0, 1, 2, 3, 4]
    finally:
        release.set()
        peer.close()


class _Item:
    def __init__(self, fn: Callable[[Any], None]) -> None:
        self._ctx = __import__("contextvars").copy_context()
        self._callback = fn


def test_extra_workers_retire_and_base_workers_stay(monkeypatch: Any) -> None:
    import dotnet_sockets._engine.dispatch as d

    monkeypatch.setattr(d, "_IDLE_SECONDS", 0.05)
    disp = Dispatcher(workers=1)
    gate = threading.Event()
    ran = threading.Event()
    disp.post(_Item(lambda _: gate.wait(WAIT)))
    disp.post(_Item(lambda _: ran.set()))
    assert ran.wait(WAIT)  # a second worker was injected past the blocked one
    assert disp.thread_count == 2
    threads = list(disp._threads)
    gate.set()
    # Exactly one of the two retires; join both with a bound, then check.
    for t in threads:
        t.join(timeout=0.5)
    assert sum(t.is_alive() for t in threads) == 1
    assert disp.thread_count == 1
    again = threading.Event()
    disp.post(_Item(lambda _: again.set()))
    assert again.wait(WAIT)


def test_a_worker_serves_ready_descriptors_between_passes_of_a_long_queue() -> None:
    # With many connections the queue is long; the worker must come back to its
    # before_idle hook (Engine.serve_ready) every _PASS completions, not only once it
    # runs dry, or the readiness its callbacks create waits for the engine thread.
    import dotnet_sockets._engine.dispatch as d

    disp = Dispatcher(workers=1)
    since_hook: dict[int, int] = {}
    longest = [0]
    hooks = [0]
    gate = threading.Event()
    last = threading.Event()
    count = 4 * d._PASS + 5

    def hook() -> None:
        since_hook[threading.get_ident()] = 0
        hooks[0] += 1

    def item(_: Any) -> None:
        tid = threading.get_ident()
        since_hook[tid] = since_hook.get(tid, 0) + 1
        longest[0] = max(longest[0], since_hook[tid])

    disp.before_idle = hook
    disp.post(_Item(lambda _: gate.wait(WAIT)))
    for _ in range(count):
        disp.post(_Item(item))
    disp.post(_Item(lambda _: last.set()))
    gate.set()
    assert last.wait(WAIT)
    assert 0 < longest[0] <= d._PASS
    assert hooks[0] >= 4
