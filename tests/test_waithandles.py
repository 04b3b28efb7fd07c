"""WaitHandle, ManualResetEvent and AutoResetEvent: .NET semantics, with real threads."""

from __future__ import annotations

import datetime
import queue
import signal
import threading
import time
import types
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

import pytest

from dotnet_sockets import waithandles
from dotnet_sockets.exceptions import (
    ArgumentException,
    ArgumentNullException,
    ArgumentOutOfRangeException,
    NotSupportedException,
    ObjectDisposedException,
)
from dotnet_sockets.waithandles import (
    AutoResetEvent,
    EventResetMode,
    EventWaitHandle,
    ManualResetEvent,
    WaitHandle,
)

WAIT = 5.0  # seconds: bound on every wait for another thread
WAIT_MS = 10_000  # bound on a waiter thread's own WaitOne/WaitAny/WaitAll


def waiter_count(h: WaitHandle) -> int:
    return len(h._waiters or ())


def until_waiting(*handles: WaitHandle, count: int = 1) -> None:
    """Block until ``count`` waiters are registered on each handle (a precondition, not a result)."""
    deadline = time.monotonic() + WAIT
    while any(waiter_count(h) < count for h in handles):
        assert time.monotonic() < deadline, "waiter threads never blocked"
        time.sleep(0.001)


class Runner:
    """Runs ``fn`` on a thread and hands back its result through a queue."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        self.results: queue.Queue[Any] = queue.Queue()
        self.thread = threading.Thread(target=lambda: self.results.put(fn()), daemon=True)
        self.thread.start()

    def result(self) -> Any:
        value = self.results.get(timeout=WAIT)
        self.thread.join(WAIT)
        return value


@pytest.fixture
def auto_pair() -> Iterator[tuple[AutoResetEvent, AutoResetEvent]]:
    a, b = AutoResetEvent(False), AutoResetEvent(False)
    yield a, b
    a.Dispose()
    b.Dispose()


# -- single handle ------------------------------------------------------------


def test_initial_state() -> None:
    assert ManualResetEvent(True).WaitOne(0) is True
    assert ManualResetEvent(False).WaitOne(0) is False
    assert AutoResetEvent(True).WaitOne(0) is True
    assert AutoResetEvent(False).WaitOne(0) is False


def test_manual_reset_event_stays_signalled_until_reset() -> None:
    ev = ManualResetEvent(False)
    assert ev.Set() is True
    assert ev.WaitOne(0) and ev.WaitOne(0) and ev.WaitOne()
    assert ev.Reset() is True
    assert ev.WaitOne(0) is False


def test_auto_reset_event_resets_after_one_wait() -> None:
    ev = AutoResetEvent(False)
    ev.Set()
    ev.Set()  # signals do not accumulate
    assert ev.WaitOne(0) is True
    assert ev.WaitOne(0) is False


def test_auto_reset_event_reset() -> None:
    ev = AutoResetEvent(True)
    ev.Reset()
    assert ev.WaitOne(0) is False


def test_timeout_returns_false_and_unregisters() -> None:
    ev = AutoResetEvent(False)
    start = time.monotonic()
    assert ev.WaitOne(30) is False
    assert time.monotonic() - start >= 0.025
    assert waiter_count(ev) == 0
    # A later Set is not swallowed by the timed-out waiter.
    ev.Set()
    assert ev.WaitOne(0) is True


def test_timedelta_timeout() -> None:
    ev = ManualResetEvent(False)
    assert ev.WaitOne(datetime.timedelta(milliseconds=20)) is False
    ev.Set()
    assert ev.WaitOne(datetime.timedelta(seconds=1)) is True
    assert ev.WaitOne(datetime.timedelta(milliseconds=-1)) is True  # -1 ms is infinite
    # .NET truncates TotalMilliseconds toward zero: -1 microsecond is 0 ms, not an error.
    ev.Reset()
    assert ev.WaitOne(datetime.timedelta(microseconds=-1)) is False


@pytest.mark.parametrize("bad", [-2, -1000, 2**31])
def test_bad_int_timeout(bad: int) -> None:
    ev = ManualResetEvent(True)
    with pytest.raises(ArgumentOutOfRangeException) as info:
        ev.WaitOne(bad)
    assert info.value.ParamName == "millisecondsTimeout"
    with pytest.raises(ArgumentOutOfRangeException) as info:
        WaitHandle.WaitAny([ev], bad)
    assert info.value.ParamName == "millisecondsTimeout"
    with pytest.raises(ArgumentOutOfRangeException) as info:
        WaitHandle.WaitAll([ev], bad)
    assert info.value.ParamName == "millisecondsTimeout"


@pytest.mark.parametrize("bad", [datetime.timedelta(milliseconds=-2), datetime.timedelta(milliseconds=2**31)])
def test_bad_timedelta_timeout(bad: datetime.timedelta) -> None:
    ev = ManualResetEvent(True)
    with pytest.raises(ArgumentOutOfRangeException) as info:
        ev.WaitOne(bad)
    assert info.value.ParamName == "timeout"
    with pytest.raises(ArgumentOutOfRangeException) as info:
        WaitHandle.WaitAll([ev], bad)
    assert info.value.ParamName == "timeout"


@pytest.mark.parametrize("bad", ["10", 1.5, None, True])
def test_timeout_of_wrong_type(bad: Any) -> None:
    with pytest.raises(TypeError):
        ManualResetEvent(True).WaitOne(bad)


def test_manual_reset_event_releases_every_waiter() -> None:
    ev = ManualResetEvent(False)
    runners = [Runner(lambda: ev.WaitOne(WAIT_MS)) for _ in range(4)]
    until_waiting(ev, count=4)
    ev.Set()
    assert [r.result() for r in runners] == [True] * 4
    assert waiter_count(ev) == 0


def test_auto_reset_event_wakes_exactly_one_of_two_waiters() -> None:
    ev = AutoResetEvent(False)
    results: queue.Queue[bool] = queue.Queue()

    def wait() -> None:
        results.put(ev.WaitOne(WAIT_MS))

    threads = [threading.Thread(target=wait, daemon=True) for _ in range(2)]
    for t in threads:
        t.start()
    until_waiting(ev, count=2)
    ev.Set()
    assert results.get(timeout=WAIT) is True
    # The other waiter is still registered and blocked; the signal was consumed.
    assert waiter_count(ev) == 1
    assert results.empty()
    assert ev._signaled is False
    ev.Set()
    assert results.get(timeout=WAIT) is True
    for t in threads:
        t.join(WAIT)
    assert ev.WaitOne(0) is False


def test_auto_reset_ping_pong_loses_no_wakeup() -> None:
    ping, pong = AutoResetEvent(False), AutoResetEvent(False)
    rounds = 2000

    def echo() -> int:
        n = 0
        while ping.WaitOne(WAIT_MS):
            n += 1
            pong.Set()
            if n == rounds:
                break
        return n

    r = Runner(echo)
    for _ in range(rounds):
        ping.Set()
        assert pong.WaitOne(WAIT_MS)
    assert r.result() == rounds


def test_set_reaches_a_waiter_racing_with_its_timeout() -> None:
    # Whatever the interleaving, a signal is either taken by the waiter (True)
    # or left on the event, never lost.
    for i in range(200):
        ev = AutoResetEvent(False)
        r = Runner(lambda ev=ev: ev.WaitOne(1))  # type: ignore[misc]
        if i % 2:
            # Vary the interleaving around the 1 ms timeout (not a wait for a result).
            time.sleep(0.001)
        ev.Set()
        took = r.result()
        assert took != ev.WaitOne(0)


def test_set_landing_just_after_the_timeout_counts_as_success(monkeypatch: pytest.MonkeyPatch) -> None:
    # Deterministic version of the race above: the waiter's lock times out,
    # then a Set hands it the event before it re-takes the module lock.
    ev = AutoResetEvent(False)

    class LateLock:
        def __init__(self) -> None:
            self.inner = threading.Lock()
            self.calls = 0

        def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
            self.calls += 1
            if self.calls == 1:
                return self.inner.acquire()
            ev.Set()
            return False

        def release(self) -> None:
            self.inner.release()

    monkeypatch.setattr(waithandles, "threading", types.SimpleNamespace(Lock=LateLock))
    assert ev.WaitOne(50) is True
    monkeypatch.undo()
    assert ev.WaitOne(0) is False  # consumed exactly once
    assert waiter_count(ev) == 0


def test_interrupted_wait_unregisters() -> None:
    ev = AutoResetEvent(False)

    class Interrupted(Exception):
        pass

    def handler(signum: int, frame: FrameType | None) -> None:
        raise Interrupted

    old = signal.signal(signal.SIGUSR1, handler)
    try:
        main = threading.get_ident()

        def poke() -> None:
            until_waiting(ev)
            signal.pthread_kill(main, signal.SIGUSR1)

        t = threading.Thread(target=poke, daemon=True)
        t.start()
        with pytest.raises(Interrupted):
            ev.WaitOne(WAIT_MS)
        t.join(WAIT)
    finally:
        signal.signal(signal.SIGUSR1, old)
    assert waiter_count(ev) == 0
    assert ev.WaitOne(0) is False


def test_interrupted_wait_gives_back_what_a_set_handed_it() -> None:
    ev = AutoResetEvent(False)

    class Interrupted(Exception):
        pass

    def handler(signum: int, frame: FrameType | None) -> None:
        ev.Set()  # satisfies (and consumes for) the interrupted waiter
        raise Interrupted

    old = signal.signal(signal.SIGUSR1, handler)
    try:
        main = threading.get_ident()

        def poke() -> None:
            until_waiting(ev)
            signal.pthread_kill(main, signal.SIGUSR1)

        t = threading.Thread(target=poke, daemon=True)
        t.start()
        with pytest.raises(Interrupted):
            ev.WaitOne(WAIT_MS)
        t.join(WAIT)
    finally:
        signal.signal(signal.SIGUSR1, old)
    assert waiter_count(ev) == 0
    assert ev.WaitOne(0) is True  # the signal went back to the event


# -- WaitAny ------------------------------------------------------------------


def test_wait_any_returns_lowest_signalled_index_and_consumes_only_it() -> None:
    a, b, c = AutoResetEvent(False), AutoResetEvent(True), AutoResetEvent(True)
    assert WaitHandle.WaitAny([a, b, c], 0) == 1
    assert b.WaitOne(0) is False
    assert c.WaitOne(0) is True
    assert a.WaitOne(0) is False


def test_wait_any_manual_handles_are_not_reset() -> None:
    a, b = ManualResetEvent(False), ManualResetEvent(True)
    assert WaitHandle.WaitAny([a, b]) == 1
    assert WaitHandle.WaitAny([a, b]) == 1


def test_wait_any_blocks_until_one_is_set(auto_pair: tuple[AutoResetEvent, AutoResetEvent]) -> None:
    a, b = auto_pair
    r = Runner(lambda: WaitHandle.WaitAny([a, b], WAIT_MS))
    until_waiting(a, b)
    b.Set()
    assert r.result() == 1
    assert waiter_count(a) == waiter_count(b) == 0
    assert b.WaitOne(0) is False
    a.Set()  # nobody waits any more: stays signalled
    assert a.WaitOne(0) is True


def test_wait_any_timeout(auto_pair: tuple[AutoResetEvent, AutoResetEvent]) -> None:
    assert WaitHandle.WaitAny(list(auto_pair), 20) == WaitHandle.WaitTimeout == 258
    assert WaitHandle.WaitAny(list(auto_pair), datetime.timedelta(milliseconds=5)) == 258
    assert all(waiter_count(h) == 0 for h in auto_pair)


def test_wait_any_accepts_duplicates() -> None:
    a = AutoResetEvent(False)
    r = Runner(lambda: WaitHandle.WaitAny([a, a], WAIT_MS))
    until_waiting(a)
    a.Set()
    assert r.result() == 0
    assert a.WaitOne(0) is False


def test_auto_reset_set_goes_to_oldest_waiter_only() -> None:
    a, b = AutoResetEvent(False), AutoResetEvent(False)
    first = Runner(lambda: WaitHandle.WaitAny([b, a], WAIT_MS))
    until_waiting(a)
    second = Runner(lambda: a.WaitOne(WAIT_MS))
    until_waiting(a, count=2)
    a.Set()
    assert first.result() == 1
    assert waiter_count(a) == 1
    assert second.results.empty()
    a.Set()
    assert second.result() is True


# -- WaitAll ------------------------------------------------------------------


def test_wait_all_immediate() -> None:
    a, b = AutoResetEvent(True), ManualResetEvent(True)
    assert WaitHandle.WaitAll([a, b], 0) is True
    assert a.WaitOne(0) is False  # auto consumed
    assert b.WaitOne(0) is True  # manual untouched


def test_wait_all_is_atomic(auto_pair: tuple[AutoResetEvent, AutoResetEvent]) -> None:
    a, b = auto_pair
    a.Set()
    assert WaitHandle.WaitAll([a, b], 20) is False
    assert a.WaitOne(0) is True  # not consumed by the failed WaitAll


def test_wait_all_takes_nothing_until_all_are_set(auto_pair: tuple[AutoResetEvent, AutoResetEvent]) -> None:
    a, b = auto_pair
    r = Runner(lambda: WaitHandle.WaitAll([a, b], WAIT_MS))
    until_waiting(a, b)
    a.Set()
    assert a._signaled is True and waiter_count(a) == 1
    assert r.results.empty()
    # Another thread may take ``a`` meanwhile: WaitAll held no part of it.
    assert a.WaitOne(0) is True
    a.Set()
    b.Set()
    assert r.result() is True
    assert a.WaitOne(0) is False and b.WaitOne(0) is False
    assert waiter_count(a) == waiter_count(b) == 0


def test_wait_all_timeout_with_timedelta() -> None:
    a, b = ManualResetEvent(True), ManualResetEvent(False)
    assert WaitHandle.WaitAll([a, b], datetime.timedelta(milliseconds=10)) is False


def test_wait_all_rejects_duplicates() -> None:
    a, b = ManualResetEvent(True), ManualResetEvent(True)
    with pytest.raises(ArgumentException) as info:
        WaitHandle.WaitAll([a, b, a])
    assert info.value.ParamName == "waitHandles[2]"


# -- argument checks, disposal, names -----------------------------------------


@pytest.mark.parametrize("method", [WaitHandle.WaitAll, WaitHandle.WaitAny])
def test_wait_multiple_argument_checks(method: Callable[..., Any]) -> None:
    ev = ManualResetEvent(True)
    with pytest.raises(ArgumentNullException) as null:
        method(None)
    assert null.value.ParamName == "waitHandles"
    with pytest.raises(ArgumentException) as empty:
        method([])
    assert empty.value.ParamName == "waitHandles"
    assert not isinstance(empty.value, ArgumentNullException)
    with pytest.raises(NotSupportedException):
        method([ManualResetEvent(True) for _ in range(65)])
    assert method([ManualResetEvent(True) for _ in range(64)], 0) in (True, 0)
    with pytest.raises(ArgumentNullException) as element:
        method([ev, None])
    assert element.value.ParamName == "waitHandles[1]"
    with pytest.raises(TypeError):
        method([ev, threading.Event()])


def test_disposed_handle() -> None:
    ev = ManualResetEvent(True)
    ev.Close()
    ev.Dispose()  # idempotent
    for call in (ev.WaitOne, ev.Set, ev.Reset, lambda: WaitHandle.WaitAny([ev])):
        with pytest.raises(ObjectDisposedException) as info:
            call()
        assert info.value.ObjectName == "System.Threading.ManualResetEvent"
    with pytest.raises(ObjectDisposedException):
        WaitHandle.WaitAll([ManualResetEvent(True), ev])


def test_context_manager_disposes() -> None:
    with AutoResetEvent(True) as ev:
        assert ev.WaitOne(0)
    with pytest.raises(ObjectDisposedException):
        ev.WaitOne(0)


def test_waiter_blocked_on_a_disposed_handle_keeps_waiting() -> None:
    a, b = ManualResetEvent(False), ManualResetEvent(False)
    r = Runner(lambda: WaitHandle.WaitAny([a, b], WAIT_MS))
    until_waiting(a)
    a.Dispose()
    b.Set()
    assert r.result() == 1


def test_wait_handle_is_abstract() -> None:
    with pytest.raises(TypeError):
        WaitHandle()


def test_event_wait_handle_modes() -> None:
    auto = EventWaitHandle(True, EventResetMode.AutoReset)
    assert auto.WaitOne(0) and not auto.WaitOne(0)
    manual = EventWaitHandle(True, EventResetMode.ManualReset)
    assert manual.WaitOne(0) and manual.WaitOne(0)
    with pytest.raises(ArgumentOutOfRangeException):
        EventWaitHandle(True, 7)  # type: ignore[arg-type]


def test_pep8_aliases() -> None:
    ev = AutoResetEvent(False)
    assert ev.WaitOne == ev.wait_one
    assert ev.Set == ev.set and ev.Reset == ev.reset
    assert ev.Close == ev.close and ev.Dispose == ev.dispose
    assert WaitHandle.WaitAll is WaitHandle.wait_all
    assert WaitHandle.WaitAny is WaitHandle.wait_any
    assert ManualResetEvent.WaitAny is ManualResetEvent.wait_any
    assert WaitHandle.wait_timeout == 258
    ev.set()
    assert WaitHandle.wait_any([ev], 0) == 0
