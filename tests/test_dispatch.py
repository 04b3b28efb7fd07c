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


def test_what_a_callback_posts_runs_next_on_the_same_worker() -> None:
    """As .NET's thread pool runs a work item queued from a pool thread on that thread first:
    a chain goes on before the completions that were already waiting (bursts, not 1:1)."""
    disp = Dispatcher(workers=1)
    gate = threading.Event()
    done = threading.Event()
    order: list[str] = []
    threads: set[int] = set()

    def step(n: int) -> Callable[[Any], None]:
        def run(_: Any) -> None:
            order.append(f"chain {n}")
            threads.add(threading.get_ident())
            if n < 3:
                disp.post(_Item(step(n + 1)))  # posted by a callback: runs next, here

        return run

    def first(_: Any) -> None:
        gate.wait(WAIT)
        step(0)(None)

    disp.post(_Item(first))
    disp.post(_Item(lambda _: order.append("waiting before")))
    disp.post(_Item(lambda _: done.set()))
    gate.set()
    assert done.wait(WAIT)
    # chain 0 came from the shared deque; the next _RUN_NEXT steps go before what was waiting.
    import dotnet_sockets._engine.dispatch as d

    ahead = min(3, d._RUN_NEXT)
    chain = [f"chain {n}" for n in range(4)]
    assert order == chain[: 1 + ahead] + ["waiting before"] + chain[1 + ahead :]
    assert d._RUN_NEXT >= 1 and len(threads) == 1


def test_a_chain_that_never_stops_lets_the_shared_queue_in_every_run_next_items() -> None:
    import dotnet_sockets._engine.dispatch as d

    disp = Dispatcher(workers=1)
    gate = threading.Event()
    outside = threading.Event()
    seen_at: list[int] = []
    steps = [0]
    limit = 5 * d._RUN_NEXT

    def chain(_: Any) -> None:
        gate.wait(WAIT)
        steps[0] += 1
        if steps[0] < limit and not outside.is_set():
            disp.post(_Item(chain))

    def from_outside(_: Any) -> None:
        seen_at.append(steps[0])
        outside.set()

    disp.post(_Item(chain))
    disp.post(_Item(from_outside))  # queued while the chain runs: it must not wait for its end
    gate.set()
    assert outside.wait(WAIT)
    assert seen_at and seen_at[0] <= d._RUN_NEXT + 1


def test_a_callback_waiting_for_what_it_posted_itself_does_not_deadlock(make_socket: Callable[..., Socket]) -> None:
    # The next callback of a chain waits in the worker's own deque; if the callback that
    # posted it blocks until it has run, the watchdog must move it to the shared deque for
    # another worker, as .NET's thread pool lets other threads steal a blocked thread's items.
    peer = UdpPeer(AddressFamily.InterNetwork)
    try:
        s = make_socket()
        inner_ran = threading.Event()
        outcome: list[Any] = []
        outer_done = threading.Event()

        def inner(ar: IAsyncResult) -> None:
            s.EndSendTo(ar)
            inner_ran.set()

        def outer(ar: IAsyncResult) -> None:
            s.EndSendTo(ar)
            ar2 = s.BeginSendTo(b"2", 0, 1, 0, peer.endpoint, inner, None)
            outcome.append(ar2.CompletedSynchronously)
            outcome.append(inner_ran.wait(WAIT))
            outer_done.set()

        s.BeginSendTo(b"1", 0, 1, 0, peer.endpoint, outer, None)
        assert outer_done.wait(WAIT * 2)
        assert outcome == [True, True]
    finally:
        peer.close()
