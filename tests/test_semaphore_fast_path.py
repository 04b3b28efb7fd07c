"""``SemaphoreSlim``'s uncontended path: a ``Wait`` that takes a token without the lock.

A model check (hypothesis) of every count-changing call against plain arithmetic, across the
token list's size, and races (bounded: counts of iterations, every wait with a timeout) in
which fast ``Wait``s meet blocked waiters, releases and ``AvailableWaitHandle``: no release may
be lost (a waiter that never wakes, a count that drifts) and no more than the count may be in.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dotnet_sockets import SemaphoreFullException, SemaphoreSlim
from dotnet_sockets import semaphores as _sem

JOIN = 30.0  # seconds: the bound on every thread of a race
JOIN_MS = 30_000


@pytest.fixture
def fast_switching() -> Iterator[None]:
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


def _run_threads(targets: list[object]) -> None:
    errors: list[BaseException] = []

    def run(target: object) -> None:
        try:
            target()  # type: ignore[operator]
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(t,), daemon=True) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(JOIN)
        assert not t.is_alive(), "a thread of the race did not finish"
    if errors:
        raise errors[0]


_OPS = st.lists(
    st.one_of(
        st.tuples(st.just("wait"), st.sampled_from([0, 1, -1])),
        st.tuples(st.just("release"), st.integers(1, 300)),
        st.tuples(st.just("handle"), st.just(0)),
    ),
    max_size=60,
)


@settings(max_examples=60, deadline=None)
@given(initial=st.integers(0, 600), extra=st.integers(0, 600), ops=_OPS)
def test_every_call_gives_what_the_count_says(initial: int, extra: int, ops: list[tuple[str, int]]) -> None:
    """One thread: Wait, Release, CurrentCount and AvailableWaitHandle against a plain count,
    with counts below, at and above the token list's size."""
    maximum = max(initial + extra, 1)
    sem = SemaphoreSlim(initial, maximum)
    count = initial
    handle = None
    for op, arg in ops:
        if op == "wait":
            if count == 0 and arg != 0:
                arg = 0  # (would block: the model has no other thread)
            assert sem.Wait(arg) is (count > 0)
            count -= count > 0
        elif op == "release":
            if count + arg > maximum:
                with pytest.raises(SemaphoreFullException):
                    sem.Release(arg)
            else:
                assert sem.Release(arg) == count
                count += arg
        else:
            handle = sem.AvailableWaitHandle
        assert sem.CurrentCount == count
        assert len(sem._tokens) <= _sem._TOKENS
        if handle is not None:
            assert handle.WaitOne(0) is (count > 0)


@pytest.mark.usefixtures("fast_switching")
@pytest.mark.parametrize("initial", [3, _sem._TOKENS + 40])
def test_fast_waits_never_let_more_than_the_count_in(initial: int) -> None:
    """Six threads on a semaphore left with 3 counts (the rest held, some of them as the number
    beside the token list): never more than 3 inside, and every count back at the end."""
    sem = SemaphoreSlim(initial, initial)
    hold = [sem.Wait(0) for _ in range(initial - 3)]
    assert all(hold)
    inside = [0]
    peak = [0]
    guard = threading.Lock()

    def worker() -> None:
        for _ in range(2000):
            assert sem.Wait(JOIN_MS)
            with guard:
                inside[0] += 1
                peak[0] = max(peak[0], inside[0])
            with guard:
                inside[0] -= 1
            sem.Release()

    _run_threads([worker] * 6)
    assert 1 <= peak[0] <= 3, peak
    assert sem.CurrentCount == 3
    if hold:
        sem.Release(len(hold))
    assert sem.CurrentCount == initial


@pytest.mark.usefixtures("fast_switching")
def test_no_release_is_lost_between_fast_waits_and_blocked_ones() -> None:
    """Waiters block (count 0) while releasers release one at a time and other threads try the
    fast path: every Wait returns True within its timeout (no release lost), and the count ends
    where the arithmetic says; AvailableWaitHandle agrees with it once all is quiet."""
    sem = SemaphoreSlim(0)
    handle = sem.AvailableWaitHandle
    rounds, waiters, releasers = 1500, 4, 4
    results: list[bool] = []
    guard = threading.Lock()

    def waiter() -> None:
        got = [sem.Wait(JOIN_MS) for _ in range(rounds)]
        with guard:
            results.extend(got)

    def releaser() -> None:
        for _ in range(rounds):
            sem.Release()

    def prober() -> None:
        for _ in range(rounds):
            if sem.Wait(0):
                sem.Release()
            handle.WaitOne(0)

    _run_threads([waiter] * waiters + [releaser] * releasers + [prober] * 2)
    assert len(results) == waiters * rounds and all(results)
    assert sem.CurrentCount == 0
    assert handle.WaitOne(0) is False
    sem.Release(3)
    assert handle.WaitOne(0) is True and sem.CurrentCount == 3
