"""Semaphore and SemaphoreSlim: .NET's checks, counts, cancellation, and no count lost under races.

Checks and messages follow dotnet/runtime (SemaphoreSlim.cs, Semaphore.cs and their tests in
System.Threading/tests) and what .NET Core 3.1 printed for the same calls.  Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import datetime
import random
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dotnet_sockets import (
    ArgumentException,
    ArgumentOutOfRangeException,
    CancellationToken,
    CancellationTokenSource,
    ManualResetEvent,
    ObjectDisposedException,
    OperationCanceledException,
    PlatformNotSupportedException,
    Semaphore,
    SemaphoreFullException,
    SemaphoreSlim,
    TaskCanceledException,
    WaitHandle,
)
from dotnet_sockets import semaphores as _sem

JOIN = 30.0  # seconds: the bound on every thread of a race
JOIN_MS = 30_000



def _run_threads(target: object, n: int) -> None:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            target()  # type: ignore[operator]
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, daemon=True) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(JOIN)
        assert not t.is_alive(), "a thread of the race did not finish"
    assert not errors, errors


# -- SemaphoreSlim: construction -------------------------------------------


@pytest.mark.parametrize(
    ("args", "param"),
    [
        ((-1,), "initialCount"),
        ((3, 2), "initialCount"),
        ((-1, 2), "initialCount"),
        ((0, 0), "maxCount"),
        ((0, -1), "initialCount"),
    ],
)
def test_slim_constructor_checks(args: tuple[int, ...], param: str) -> None:
    with pytest.raises(ArgumentOutOfRangeException) as info:
        SemaphoreSlim(*args)
    assert info.value.ParamName == param
    assert info.value.ActualValue == (args[0] if param == "initialCount" else args[1])


def test_slim_counts_and_release_returns_the_count_before() -> None:
    sem = SemaphoreSlim(1, 3)
    assert sem.CurrentCount == 1
    assert sem.Release(2) == 1
    assert sem.current_count == 3
    assert sem.Wait() is True
    assert sem.Wait(0) is True
    assert sem.Wait(datetime.timedelta(0)) is True
    assert sem.Wait(0) is False
    assert sem.CurrentCount == 0
    assert sem.Release() == 0


def test_slim_release_past_the_maximum_releases_nothing() -> None:
    sem = SemaphoreSlim(1, 2)
    with pytest.raises(SemaphoreFullException):
        sem.Release(2)
    assert sem.CurrentCount == 1
    sem.Release()
    with pytest.raises(SemaphoreFullException):
        sem.Release()
    assert sem.CurrentCount == 2


@pytest.mark.parametrize("count", [0, -1])
def test_slim_release_count_must_be_positive(count: int) -> None:
    with pytest.raises(ArgumentOutOfRangeException) as info:
        SemaphoreSlim(1, 3).Release(count)
    assert info.value.ParamName == "releaseCount"


@pytest.mark.parametrize(
    ("timeout", "param"),
    [(-2, "millisecondsTimeout"), (2**31, "millisecondsTimeout"), (datetime.timedelta(milliseconds=-2), "timeout")],
)
def test_slim_timeout_checks(timeout: object, param: str) -> None:
    sem = SemaphoreSlim(0)
    with pytest.raises(ArgumentOutOfRangeException) as info:
        sem.Wait(timeout)
    assert info.value.ParamName == param
    with pytest.raises(ArgumentOutOfRangeException):
        sem.WaitAsync(timeout)


def test_slim_wait_times_out() -> None:
    sem = SemaphoreSlim(0)
    assert sem.Wait(30) is False
    assert sem.Wait(datetime.timedelta(milliseconds=30)) is False
    assert sem.CurrentCount == 0


def test_slim_disposed() -> None:
    sem = SemaphoreSlim(1, 2)
    sem.Dispose()
    sem.Dispose()
    for call in (sem.Wait, lambda: sem.Wait(0), sem.Release, lambda: sem.AvailableWaitHandle, sem.WaitAsync):
        with pytest.raises(ObjectDisposedException) as info:
            call()
        assert info.value.Message == "The semaphore has been disposed."
    assert sem.CurrentCount == 1  # readable after Dispose, as in .NET
    # .NET checks the semaphore before the timeout and the token.
    with pytest.raises(ObjectDisposedException):
        sem.Wait(-2)
    with pytest.raises(ObjectDisposedException):
        sem.Wait(0, CancellationToken(True))
    with pytest.raises(ObjectDisposedException):
        sem.WaitAsync(-2)
    with pytest.raises(ObjectDisposedException):
        sem.Release(0)
    with pytest.raises(ArgumentOutOfRangeException):  # a TimeSpan is checked first
        sem.Wait(datetime.timedelta(milliseconds=-2))


def test_slim_is_a_context_manager() -> None:
    with SemaphoreSlim(1) as sem:
        assert sem.Wait(0)
    with pytest.raises(ObjectDisposedException):
        sem.Release()


def test_available_wait_handle_follows_the_count() -> None:
    sem = SemaphoreSlim(1, 2)
    handle = sem.AvailableWaitHandle
    assert handle is sem.available_wait_handle
    assert isinstance(handle, WaitHandle)
    assert handle.WaitOne(0) is True  # .NET: True False True 1
    sem.Wait()
    assert handle.WaitOne(0) is False
    sem.Release()
    assert handle.WaitOne(0) is True
    assert sem.CurrentCount == 1  # waiting on the handle took no count


# -- SemaphoreSlim: cancellation -------------------------------------------


def test_slim_wait_with_a_cancelled_token_raises_even_when_a_count_is_free() -> None:
    sem = SemaphoreSlim(1)
    token = CancellationToken(True)
    with pytest.raises(OperationCanceledException) as info:
        sem.Wait(0, token)
    assert info.value.CancellationToken == token
    with pytest.raises(OperationCanceledException):
        sem.Wait(token)
    assert sem.CurrentCount == 1


def test_slim_blocked_wait_ends_when_the_token_is_cancelled() -> None:
    sem = SemaphoreSlim(0)
    with CancellationTokenSource() as cts:
        cts.CancelAfter(50)
        with pytest.raises(OperationCanceledException):
            sem.Wait(10_000, cts.Token)
    sem.Release()
    assert sem.CurrentCount == 1  # the cancelled waiter did not keep a count
    assert sem.Wait(0, CancellationToken.None_)


def test_slim_waiters_are_served_oldest_first() -> None:
    async def main() -> None:
        sem = SemaphoreSlim(0)
        order: list[int] = []

        async def waiter(i: int) -> None:
            assert await sem.WaitAsync()
            order.append(i)

        tasks = []
        for i in range(4):
            tasks.append(asyncio.ensure_future(waiter(i)))
            await asyncio.sleep(0)  # queued, in this order
        assert len(sem._waiters) == 4
        assert sem.Wait(0) is False  # a newcomer cannot overtake the queue
        for n in range(1, 5):
            sem.Release()
            for _ in range(3):
                await asyncio.sleep(0)
            assert order == list(range(n))
        await asyncio.wait_for(asyncio.gather(*tasks), JOIN)
        assert sem.CurrentCount == 0

    asyncio.run(main())


# -- SemaphoreSlim: races ----------------------------------------------------


@pytest.mark.usefixtures("tiny_switch_interval")
@pytest.mark.parametrize("initial", [3, _sem._TOKENS + 40])
def test_slim_never_lets_more_than_its_count_in_and_loses_nothing(initial: int) -> None:
    """Eight threads on 3 free counts (the rest held; above the token list's size some are the
    number beside it): the fast ``Wait`` and the queued one never let more than 3 in."""
    sem = SemaphoreSlim(initial, initial)
    held = [sem.Wait(0) for _ in range(initial - 3)]
    assert all(held)
    inside = [0]
    peak = [0]
    guard = threading.Lock()

    def worker() -> None:
        for _ in range(300):
            assert sem.Wait(JOIN_MS)
            with guard:
                inside[0] += 1
                peak[0] = max(peak[0], inside[0])
            with guard:
                inside[0] -= 1
            sem.Release()

    _run_threads(worker, 8)
    assert peak[0] <= 3
    assert sem.CurrentCount == 3
    if held:
        sem.Release(len(held))
    assert sem.CurrentCount == initial


@pytest.mark.usefixtures("tiny_switch_interval")
def test_slim_no_release_is_lost_between_fast_waits_and_blocked_ones() -> None:
    """Waiters block (count 0) while releasers release one at a time and probers take the fast
    path: every Wait returns True within its timeout (no release lost), the count ends where
    the arithmetic says, and AvailableWaitHandle agrees with it once all is quiet."""
    sem = SemaphoreSlim(0)
    handle = sem.AvailableWaitHandle
    rounds = 1500
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

    roles = iter([waiter] * 4 + [releaser] * 4 + [prober] * 2)

    def role() -> None:
        with guard:
            run = next(roles)
        run()

    _run_threads(role, 10)
    assert len(results) == 4 * rounds and all(results)
    assert sem.CurrentCount == 0
    assert handle.WaitOne(0) is False
    sem.Release(3)
    assert handle.WaitOne(0) is True and sem.CurrentCount == 3


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
def test_slim_every_call_gives_what_the_count_says(initial: int, extra: int, ops: list[tuple[str, int]]) -> None:
    """One thread: Wait, Release, CurrentCount and AvailableWaitHandle against a plain count,
    below, at and above the token list's size (the fast paths and the number beside the list)."""
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


@pytest.mark.usefixtures("tiny_switch_interval")
def test_slim_timeouts_and_cancellations_racing_releases_lose_no_count() -> None:
    sem = SemaphoreSlim(2, 2)
    rng = random.Random(17)
    delays = [rng.choice([0, 1, 2]) for _ in range(2000)]
    taken = [0]
    guard = threading.Lock()

    def worker() -> None:
        for i in range(250):
            with CancellationTokenSource() as cts:
                if delays[i] == 2:
                    cts.Cancel()
                try:
                    got = sem.Wait(delays[i], cts.Token)
                except OperationCanceledException:
                    continue
                if got:
                    with guard:
                        taken[0] += 1
                    sem.Release()

    _run_threads(worker, 8)
    assert sem.CurrentCount == 2
    assert taken[0] > 0


# -- SemaphoreSlim: WaitAsync --------------------------------------------------


def test_slim_wait_async() -> None:
    async def main() -> None:
        sem = SemaphoreSlim(1)
        assert await sem.WaitAsync() is True
        assert await sem.wait_async(0) is False
        assert await sem.WaitAsync(20) is False
        loop = asyncio.get_running_loop()
        loop.call_later(0.02, sem.Release)
        assert await asyncio.wait_for(sem.WaitAsync(), JOIN) is True
        threading.Timer(0.02, sem.Release).start()  # released from another thread
        assert await asyncio.wait_for(sem.WaitAsync(datetime.timedelta(seconds=JOIN)), JOIN) is True
        assert sem.CurrentCount == 0

    asyncio.run(main())


def test_slim_wait_async_with_a_cancelled_token_is_a_cancelled_task() -> None:
    async def main() -> None:
        sem = SemaphoreSlim(1)
        with pytest.raises(TaskCanceledException):
            await sem.WaitAsync(CancellationToken(True))
        assert sem.CurrentCount == 1
        sem.Wait()
        with CancellationTokenSource() as cts:
            cts.CancelAfter(30)
            with pytest.raises(TaskCanceledException) as info:
                await asyncio.wait_for(sem.WaitAsync(-1, cts.Token), JOIN)
            assert info.value.CancellationToken == cts.Token
        sem.Release()
        assert sem.CurrentCount == 1

    asyncio.run(main())


def test_slim_task_cancel_keeps_its_asyncio_meaning_and_loses_no_count() -> None:
    async def main() -> None:
        sem = SemaphoreSlim(0)
        task = asyncio.ensure_future(sem.WaitAsync())
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        sem.Release()
        assert sem.CurrentCount == 1

    asyncio.run(main())


@pytest.mark.usefixtures("tiny_switch_interval")
def test_slim_async_cancel_racing_release_from_threads_loses_no_count() -> None:
    """A count handed to a waiter that is being cancelled goes back, wherever the race falls."""

    async def main() -> int:
        sem = SemaphoreSlim(0, 1000)
        granted = 0
        for i in range(200):
            cts = CancellationTokenSource()
            task = asyncio.ensure_future(sem.WaitAsync(-1, cts.Token))
            await asyncio.sleep(0)
            release = threading.Thread(target=sem.Release, daemon=True)
            if i % 3 == 0:
                task.cancel()
                release.start()
            else:
                release.start()
                cts.Cancel()
            try:
                if await asyncio.wait_for(task, JOIN):
                    granted += 1
            except (TaskCanceledException, asyncio.CancelledError):
                pass
            release.join(JOIN)
            cts.Dispose()
        # Every release is either held by a waiter that got it, or back in the count.
        for _ in range(100):
            if sem.CurrentCount + granted == 200:
                break
            await asyncio.sleep(0.01)
        assert sem.CurrentCount + granted == 200
        return granted

    asyncio.run(main())


# -- Semaphore (a WaitHandle) -------------------------------------------------


def test_semaphore_constructor_checks() -> None:
    with pytest.raises(ArgumentOutOfRangeException) as info:
        Semaphore(-1, 1)
    assert info.value.ParamName == "initialCount"
    with pytest.raises(ArgumentOutOfRangeException) as info:
        Semaphore(0, 0)
    assert info.value.ParamName == "maximumCount"
    with pytest.raises(ArgumentException) as exc:
        Semaphore(3, 2)
    assert type(exc.value) is ArgumentException and exc.value.ParamName is None
    with pytest.raises(PlatformNotSupportedException):
        Semaphore(1, 1, "Global\\name")
    with pytest.raises(PlatformNotSupportedException):
        Semaphore.OpenExisting("name")


def test_semaphore_wait_one_and_release() -> None:
    sem = Semaphore(1, 3)
    assert sem.WaitOne(0) is True
    assert sem.WaitOne(0) is False
    assert sem.Release(2) == 0
    assert sem.WaitOne() and sem.WaitOne(10)
    assert sem.WaitOne(10) is False
    with pytest.raises(ArgumentOutOfRangeException) as info:
        sem.Release(0)
    assert info.value.ParamName == "releaseCount"
    sem.Release(3)
    with pytest.raises(SemaphoreFullException):
        sem.Release()
    sem.Dispose()
    with pytest.raises(ObjectDisposedException):
        sem.WaitOne(0)
    with pytest.raises(ObjectDisposedException):
        sem.Release()


def test_semaphore_with_wait_any_and_wait_all() -> None:
    sem = Semaphore(1, 2)
    event = ManualResetEvent(False)
    assert WaitHandle.WaitAny([event, sem], 0) == 1  # .NET: 1 then 258
    assert WaitHandle.WaitAny([event, sem], 0) == WaitHandle.WaitTimeout
    sem.Release(2)
    assert WaitHandle.WaitAll([event, sem], 0) is False
    event.Set()
    assert WaitHandle.WaitAll([event, sem], 0) is True
    assert WaitHandle.WaitAll([event, sem], 0) is True
    assert WaitHandle.WaitAll([event, sem], 0) is False  # the count is used up


def test_semaphore_release_wakes_blocked_waiters() -> None:
    sem = Semaphore(0, 2)
    results: list[bool] = []

    def waiter() -> None:
        results.append(sem.WaitOne(JOIN_MS))

    threads = [threading.Thread(target=waiter, daemon=True) for _ in range(2)]
    for t in threads:
        t.start()
    sem.Release(2)
    for t in threads:
        t.join(JOIN)
        assert not t.is_alive()
    assert results == [True, True]


@pytest.mark.usefixtures("tiny_switch_interval")
def test_semaphore_race_keeps_its_count() -> None:
    sem = Semaphore(2, 2)
    inside = [0]
    peak = [0]
    guard = threading.Lock()

    def worker() -> None:
        for _ in range(150):
            assert sem.WaitOne(JOIN_MS)
            with guard:
                inside[0] += 1
                peak[0] = max(peak[0], inside[0])
                inside[0] -= 1
            sem.Release()

    _run_threads(worker, 6)
    assert peak[0] <= 2
    assert sem._count == 2
    assert sem.WaitOne(0) and sem.WaitOne(0) and not sem.WaitOne(0)


def test_only_the_awaited_tokens_cancellation_becomes_task_canceled() -> None:
    from dotnet_sockets.cancellation import await_task_cancellable

    other = CancellationToken(True)

    async def cancelled_elsewhere() -> None:
        raise OperationCanceledException(None, other)

    async def main() -> None:
        with CancellationTokenSource() as cts:
            with pytest.raises(OperationCanceledException) as info:
                await await_task_cancellable(cancelled_elsewhere(), cts.Token)
            assert type(info.value) is OperationCanceledException
            assert info.value.CancellationToken == other
            cts.CancelAfter(10)
            with pytest.raises(TaskCanceledException) as mine:
                await await_task_cancellable(asyncio.sleep(JOIN), cts.Token)
            assert mine.value.CancellationToken == cts.Token

    asyncio.run(main())
