"""``System.Threading.Semaphore`` and ``SemaphoreSlim``: counting locks that throttle work.

``Semaphore`` is a ``WaitHandle`` (it works with ``WaitOne``, ``WaitAny`` and ``WaitAll``);
``SemaphoreSlim`` is the light one the .NET samples use to throttle sockets
(``await sem.WaitAsync()`` before each send, ``sem.Release()`` in its callback), with
``WaitAsync`` for asyncio and a ``CancellationToken`` on every wait.

``SemaphoreSlim`` keeps its count as tokens in a list (up to :data:`_TOKENS` of them; the rest
a number beside it) and its waiters under one lock of its own.  A ``Wait`` that finds a token
takes it with one ``list.pop``, atomic in CPython, without the lock: the uncontended path of
.NET's ``SemaphoreSlim``, which takes no kernel wait either.  Everything that adds to the count
(``Release``, a count given back) or queues a waiter holds the lock, and a waiter queues only
after it found no token under it, so a token never sits beside a queued waiter: ``Release``
hands counts to queued waiters first, oldest first, and a thread that arrives later cannot
overtake one that is waiting.  A waiter that gives up (timeout, cancellation,
``task.cancel()``) after it was handed a count gives it back: no count is lost.
"""

from __future__ import annotations

import asyncio
import collections
import datetime
import os
import threading
import weakref
from collections.abc import Coroutine
from typing import Any, overload

from ._checks import timedelta_ms
from ._names import dotnet_names
from .cancellation import CancellationToken, await_task_cancellable
from .exceptions import (
    ArgumentException,
    ArgumentOutOfRangeException,
    ObjectDisposedException,
    OperationCanceledException,
    PlatformNotSupportedException,
    SemaphoreFullException,
    TaskCanceledException,
)
from .waithandles import ManualResetEvent, WaitHandle, _lock, _signal

__all__ = ["Semaphore", "SemaphoreSlim"]

_INT_MAX = 2**31 - 1
_TOKENS = 256
"""The most tokens a ``SemaphoreSlim`` keeps in its list; a count above it is kept as a number too,
and turned into tokens, under the lock, as the list runs out."""
# Every live SemaphoreSlim, so that a forked child re-makes each one's lock.
_slims: weakref.WeakSet[SemaphoreSlim] = weakref.WeakSet()
_TIMEOUT_TEXT = "The timeout must represent a value between -1 and Int32.MaxValue, inclusive."
_DISPOSED_TEXT = "The semaphore has been disposed."
_NAMED_TEXT = "The named version of this synchronization primitive is not supported on this platform."


def _as_count(value: object, param: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ArgumentException(f"Expected an int, not {type(value).__name__}.", param)
    return value


def _split_wait_args(timeout: Any, cancellation_token: Any) -> tuple[int, CancellationToken | None]:
    """.NET's ``Wait``/``WaitAsync`` overloads: ``([timeout][, token])`` or ``(token)``; checks the timeout."""
    if isinstance(timeout, CancellationToken):
        if cancellation_token is not None:
            raise TypeError("Wait takes a timeout and a cancellation_token, in that order")
        return -1, timeout
    if cancellation_token is not None and not isinstance(cancellation_token, CancellationToken):
        raise TypeError("cancellation_token must be a CancellationToken")
    if isinstance(timeout, datetime.timedelta):
        ms = timedelta_ms(timeout)
        if ms < -1 or ms > _INT_MAX:
            raise ArgumentOutOfRangeException("timeout", timeout, _TIMEOUT_TEXT)
        return ms, cancellation_token
    if isinstance(timeout, bool) or not isinstance(timeout, int):
        raise TypeError(
            f"timeout must be an int number of milliseconds or a datetime.timedelta, not {type(timeout).__name__}"
        )
    if timeout < -1:
        raise ArgumentOutOfRangeException("millisecondsTimeout", timeout, _TIMEOUT_TEXT)
    if timeout > _INT_MAX:
        raise ArgumentOutOfRangeException("millisecondsTimeout", timeout, _TIMEOUT_TEXT)
    return timeout, cancellation_token


# --------------------------------------------------------------------------
# Semaphore: a counting WaitHandle
# --------------------------------------------------------------------------


@dotnet_names
class Semaphore(WaitHandle):
    """A counting wait handle (.NET ``System.Threading.Semaphore``, unnamed only, as on Linux).

    ``Semaphore(initial_count, maximum_count)``: ``WaitOne`` takes one count (blocking while it is
    zero), ``Release([release_count])`` gives counts back and returns the count before.  Works with
    ``WaitHandle.WaitAny``/``WaitAll``.  Raises ``ArgumentOutOfRangeException`` (``initialCount`` <
    0, ``maximumCount`` < 1), ``ArgumentException`` (initial above maximum),
    ``PlatformNotSupportedException`` for a name, as .NET on Linux does.
    """

    __slots__ = ("_count", "_max")

    def __init__(self, initial_count: int, maximum_count: int, name: str | None = None) -> None:
        super().__init__()
        initial_count = _as_count(initial_count, "initialCount")
        maximum_count = _as_count(maximum_count, "maximumCount")
        if initial_count < 0:
            raise ArgumentOutOfRangeException("initialCount", None, "Non-negative number required.")
        if maximum_count < 1:
            raise ArgumentOutOfRangeException("maximumCount", None, "Positive number required.")
        if initial_count > maximum_count:
            raise ArgumentException(
                "The initial count for the semaphore must be greater than or equal to zero and less than the "
                "maximum count."
            )
        if name:
            raise PlatformNotSupportedException(_NAMED_TEXT)
        self._auto = True
        self._count = initial_count
        self._max = maximum_count
        self._signaled = initial_count > 0

    def _take(self) -> None:
        self._count -= 1
        self._signaled = self._count > 0

    def _put_back(self) -> None:
        self._count += 1
        _signal(self)

    def Release(self, release_count: int = 1) -> int:
        """Add ``release_count`` to the count, waking as many waiters; returns the count before.

        Raises ``ArgumentOutOfRangeException`` (``releaseCount`` < 1), ``SemaphoreFullException``
        when the count would pass the maximum (nothing is released then), ``ObjectDisposedException``.
        """
        release_count = _as_count(release_count, "releaseCount")
        if release_count < 1:
            raise ArgumentOutOfRangeException("releaseCount", None, "Non-negative number required.")
        with _lock:
            self._throw_if_disposed()
            previous = self._count
            if previous > self._max - release_count:
                raise SemaphoreFullException()
            self._count = previous + release_count
            _signal(self)
        return previous

    @staticmethod
    def OpenExisting(name: str) -> Semaphore:
        """Named semaphores do not exist on Linux: raises ``PlatformNotSupportedException``, as .NET does."""
        raise PlatformNotSupportedException(_NAMED_TEXT)

    @staticmethod
    def TryOpenExisting(name: str) -> tuple[bool, Semaphore | None]:
        """Named semaphores do not exist on Linux: raises ``PlatformNotSupportedException``, as .NET does."""
        raise PlatformNotSupportedException(_NAMED_TEXT)

    def __repr__(self) -> str:
        state = "disposed" if self._disposed else f"count={self._count}/{self._max}"
        return f"<Semaphore {state}>"

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    release = Release
    open_existing = OpenExisting
    try_open_existing = TryOpenExisting
    # -- end of PEP 8 spellings --


# --------------------------------------------------------------------------
# SemaphoreSlim
# --------------------------------------------------------------------------


class _Waiter:
    """A blocked ``Wait``: its lock is released when it is handed a count or cancelled."""

    __slots__ = ("wakeup", "granted")

    def __init__(self) -> None:
        self.wakeup = threading.Lock()
        self.wakeup.acquire()
        self.granted = False


class _AsyncWaiter:
    """A pending ``WaitAsync``: handed a count through its loop."""

    __slots__ = ("loop", "future", "granted")

    def __init__(self, loop: asyncio.AbstractEventLoop, future: asyncio.Future[bool]) -> None:
        self.loop = loop
        self.future = future
        self.granted = False


def _reset_after_fork() -> None:
    # Only the forking thread lives on in the child: another thread may have held a
    # semaphore's lock at the fork, and the blocked Waits of the other threads would
    # each swallow a count that Release hands them.
    for sem in list(_slims):
        sem._lock = threading.Lock()
        sem._waiters = collections.deque(w for w in sem._waiters if not isinstance(w, _Waiter))


@dotnet_names
class SemaphoreSlim:
    """A light counting semaphore (.NET ``System.Threading.SemaphoreSlim``).

    ``SemaphoreSlim(initial_count[, max_count])``; ``Wait([timeout][, cancellation_token])`` takes
    one count, ``await WaitAsync([timeout][, cancellation_token])`` does it in asyncio,
    ``Release([release_count])`` gives counts back.  Waiters are served oldest first.  A context
    manager (``with sem:`` disposes it, as ``using`` does).
    """

    __slots__ = ("_lock", "_tokens", "_more", "_max", "_fast", "_waiters", "_avail", "_disposed", "__weakref__")

    def __init__(self, initial_count: int, max_count: int = _INT_MAX) -> None:
        """Raises ``ArgumentOutOfRangeException``: ``initialCount`` below 0 or above ``max_count``,
        ``maxCount`` below 1."""
        initial_count = _as_count(initial_count, "initialCount")
        max_count = _as_count(max_count, "maxCount")
        if initial_count < 0 or initial_count > max_count:
            raise ArgumentOutOfRangeException(
                "initialCount",
                initial_count,
                "The initialCount argument must be non-negative and less than or equal to the maximumCount.",
            )
        if max_count <= 0:
            raise ArgumentOutOfRangeException(
                "maxCount",
                max_count,
                "The maximumCount argument must be a positive number. If a maximum is not required, use the "
                "constructor without a maxCount parameter.",
            )
        self._lock = threading.Lock()
        _slims.add(self)
        # The count is len(_tokens) + _more.  A Wait pops a token without the lock (see the module
        # docstring); _more, and every addition to the count, change only with the lock held.
        self._tokens: list[None] = [None] * min(initial_count, _TOKENS)
        self._more = initial_count - len(self._tokens)
        self._max = max_count
        self._fast = min(max_count, _TOKENS)  # Release's short path: a count below it
        self._waiters: collections.deque[_Waiter | _AsyncWaiter] = collections.deque()
        self._avail: ManualResetEvent | None = None
        self._disposed = False

    @property
    def CurrentCount(self) -> int:
        """How many more ``Wait`` calls would pass at once (readable after ``Dispose`` too)."""
        return len(self._tokens) + self._more

    def _take(self) -> bool:
        """With the lock held: take one count if there is one (tokens made from ``_more`` first)."""
        tokens = self._tokens
        if not tokens and self._more:
            n = min(self._more, _TOKENS)
            self._more -= n
            tokens.extend([None] * n)
        try:
            tokens.pop()
        except IndexError:  # (a Wait without the lock took the last one)
            return False
        if self._avail is not None and not tokens and not self._more:
            self._avail.Reset()
        return True

    def _add(self, counts: int) -> None:
        """With the lock held: ``counts`` more (tokens while the list has room)."""
        tokens = self._tokens
        was = len(tokens) + self._more
        room = max(_TOKENS - len(tokens), 0)
        tokens.extend([None] * min(counts, room))
        self._more += counts - min(counts, room)
        if was == 0 and self._avail is not None:
            self._avail.Set()

    def _emptied(self) -> None:
        """A Wait without the lock took a token while ``AvailableWaitHandle`` exists: reset it if
        that was the last count (checked under the lock, where no count can be added)."""
        with self._lock:
            if self._avail is not None and not self._tokens and not self._more:
                self._avail.Reset()

    @property
    def AvailableWaitHandle(self) -> WaitHandle:
        """A ``ManualResetEvent`` that is set while the count is above zero.

        Waiting on it takes no count.  Raises ``ObjectDisposedException`` after ``Dispose``.
        """
        with self._lock:
            self._throw_if_disposed()
            if self._avail is None:
                self._avail = ManualResetEvent(self.CurrentCount > 0)
            return self._avail

    def _throw_if_disposed(self) -> None:
        if self._disposed:
            raise ObjectDisposedException(None, _DISPOSED_TEXT)

    @overload
    def Wait(self) -> bool: ...
    @overload
    def Wait(self, timeout: int | datetime.timedelta, cancellation_token: CancellationToken | None = None) -> bool: ...
    @overload
    def Wait(self, cancellation_token: CancellationToken, /) -> bool: ...

    def Wait(self, timeout: Any = -1, cancellation_token: Any = None) -> bool:
        """Take one count, blocking while there is none.

        ``Wait()``, ``Wait(timeout)``, ``Wait(cancellation_token)``, ``Wait(timeout,
        cancellation_token)``; ``timeout`` is int milliseconds (-1: forever) or a ``timedelta``.
        Returns True once a count was taken, False if ``timeout`` elapsed first.  Raises
        ``OperationCanceledException`` if the token is (or becomes) cancelled, even when a count is
        free; ``ArgumentOutOfRangeException`` (``millisecondsTimeout``/``timeout``) below -1;
        ``ObjectDisposedException``.
        """
        if cancellation_token is None and type(timeout) is int and -1 <= timeout <= _INT_MAX:
            if self._tokens and not self._disposed:
                # The uncontended path: a token, taken by one atomic pop (no waiter is queued
                # while there is one: see the module docstring).
                try:
                    self._tokens.pop()
                except IndexError:
                    pass  # another thread took the last one meanwhile
                else:
                    if self._avail is not None:
                        self._emptied()
                    return True
            token = None
            ms = timeout
        else:
            ms, token = self._checked_wait_args(timeout, cancellation_token)
            if token is not None and token.IsCancellationRequested:
                raise OperationCanceledException(None, token)
        lock = self._lock
        lock.acquire()
        try:
            self._throw_if_disposed()
            if self._take():
                return True
            if ms == 0:
                return False
            waiter = _Waiter()
            self._waiters.append(waiter)
        finally:
            lock.release()
        return self._block(waiter, ms, token)

    def _checked_wait_args(self, timeout: Any, cancellation_token: Any) -> tuple[int, CancellationToken | None]:
        # .NET's order: a TimeSpan is checked before the semaphore, a millisecond count after it.
        if isinstance(timeout, datetime.timedelta):
            ms_token = _split_wait_args(timeout, cancellation_token)
            self._throw_if_disposed()
            return ms_token
        self._throw_if_disposed()
        return _split_wait_args(timeout, cancellation_token)

    def _block(self, waiter: _Waiter, ms: int, token: CancellationToken | None) -> bool:
        registration = None
        if token is not None and token.CanBeCanceled:
            registration = token.UnsafeRegister(lambda: self._drop(waiter))
        try:
            woken = waiter.wakeup.acquire(True, -1 if ms < 0 else ms / 1000.0)
        except BaseException:
            # Interrupted (KeyboardInterrupt): a count handed to us goes back.
            if self._abandon(waiter) is False:
                self._give_back()
            raise
        finally:
            if registration is not None:
                registration.Dispose()
        if woken and waiter.granted:
            return True
        if not woken and self._abandon(waiter) is False:
            return True  # handed a count between the timeout and the lock: it counts
        if token is not None and token.IsCancellationRequested:
            raise OperationCanceledException(None, token)
        return False

    def _drop(self, waiter: _Waiter) -> None:
        """The token of a blocked ``Wait`` was cancelled: wake it without a count."""
        with self._lock:
            if waiter.granted:
                return
            try:
                self._waiters.remove(waiter)
            except ValueError:
                return
        waiter.wakeup.release()

    def _abandon(self, waiter: _Waiter | _AsyncWaiter) -> bool | None:
        """A waiter gives up: True if it was still queued (now removed), False if it had been handed a
        count (which it keeps; see callers), None if it was already gone."""
        with self._lock:
            if waiter.granted:
                return False
            try:
                self._waiters.remove(waiter)
            except ValueError:
                return None
            return True

    def Release(self, release_count: int = 1) -> int:
        """Give ``release_count`` counts back, to queued waiters first; returns the count before.

        Raises ``ObjectDisposedException``, ``ArgumentOutOfRangeException`` (``releaseCount`` < 1),
        ``SemaphoreFullException`` when the count would pass the maximum (nothing is released then).
        """
        if release_count != 1 or type(release_count) is not int:
            self._check_release_count(release_count)
        lock = self._lock
        lock.acquire()
        try:
            tokens = self._tokens
            previous = len(tokens) + self._more
            if previous < self._fast and release_count == 1 and not self._waiters and not self._disposed:
                # The uncontended path: one lock round trip, as .NET's.  Additions hold the lock,
                # so the maximum is checked against a count no other thread can raise meanwhile
                # (a Wait may lower it: this Release then came first); below _fast (the maximum,
                # or the token list's size) the list has room.
                tokens.append(None)
                if not previous and self._avail is not None:
                    self._avail.Set()
                return previous
            self._throw_if_disposed()
            if previous > self._max - release_count:
                raise SemaphoreFullException()
            handed = self._hand_out(release_count)
        finally:
            lock.release()
        for w in handed:
            self._deliver(w)
        return previous

    def _check_release_count(self, release_count: object) -> None:
        self._throw_if_disposed()  # .NET checks the semaphore before the argument
        count = _as_count(release_count, "releaseCount")
        if count < 1:
            raise ArgumentOutOfRangeException(
                "releaseCount", count, "The releaseCount argument must be greater than zero."
            )

    def _hand_out(self, counts: int) -> list[_Waiter | _AsyncWaiter]:
        """With the lock held: give ``counts`` to the oldest waiters, keep the rest; who to wake."""
        handed: list[_Waiter | _AsyncWaiter] = []
        waiters = self._waiters
        while counts and waiters:
            w = waiters.popleft()
            w.granted = True
            handed.append(w)
            counts -= 1
        if counts:
            self._add(counts)
        return handed

    def _deliver(self, waiter: _Waiter | _AsyncWaiter) -> None:
        if isinstance(waiter, _Waiter):
            waiter.wakeup.release()
            return
        try:
            waiter.loop.call_soon_threadsafe(self._settle, waiter)
        except RuntimeError:  # its loop is closed: nobody will take the count
            self._give_back()

    def _settle(self, waiter: _AsyncWaiter) -> None:
        """On the waiter's loop: complete its future, or give the count back if it stopped waiting."""
        if waiter.future.done():
            self._give_back()
        else:
            waiter.future.set_result(True)

    def _give_back(self) -> None:
        """A count handed to a waiter that no longer wants it: the next waiter gets it, or the count."""
        with self._lock:
            handed = self._hand_out(1)
        for w in handed:
            self._deliver(w)

    @overload
    def WaitAsync(self) -> Coroutine[Any, Any, bool]: ...
    @overload
    def WaitAsync(
        self, timeout: int | datetime.timedelta, cancellation_token: CancellationToken | None = None
    ) -> Coroutine[Any, Any, bool]: ...
    @overload
    def WaitAsync(self, cancellation_token: CancellationToken, /) -> Coroutine[Any, Any, bool]: ...

    def WaitAsync(self, timeout: Any = -1, cancellation_token: Any = None) -> Coroutine[Any, Any, bool]:
        """``await WaitAsync([timeout][, cancellation_token])``: take one count without blocking the loop.

        The awaitable gives True once a count was taken, False if ``timeout`` elapsed first; it raises
        ``TaskCanceledException`` if the token is (or becomes) cancelled, as .NET's task does.
        ``task.cancel()`` raises ``asyncio.CancelledError`` as usual.  No count is lost either way.
        ``ObjectDisposedException`` and ``ArgumentOutOfRangeException`` (timeout below -1) are
        raised by the call itself.
        """
        ms, token = self._checked_wait_args(timeout, cancellation_token)
        return self._wait_async(ms, token)

    async def _wait_async(self, ms: int, token: CancellationToken | None) -> bool:
        if token is not None and token.IsCancellationRequested:
            raise TaskCanceledException(None, token)
        if self._tokens:
            try:
                self._tokens.pop()  # as Wait's uncontended path
            except IndexError:
                pass
            else:
                if self._avail is not None:
                    self._emptied()
                return True
        with self._lock:
            if self._take():
                return True
            if ms == 0:
                return False
            loop = asyncio.get_running_loop()
            waiter = _AsyncWaiter(loop, loop.create_future())
            self._waiters.append(waiter)
        return await await_task_cancellable(self._await_waiter(waiter, ms), token)

    async def _await_waiter(self, waiter: _AsyncWaiter, ms: int) -> bool:
        timer = None
        if ms > 0:
            timer = waiter.loop.call_later(ms / 1000.0, self._time_out, waiter)
        future = waiter.future
        try:
            return await future
        except BaseException:
            if self._abandon(waiter) is False and future.done() and not future.cancelled():
                # Handed a count and told so, then cancelled before resuming: give it back.
                # (Handed but not yet told: _settle finds the future cancelled and gives it back.)
                self._give_back()
            raise
        finally:
            if timer is not None:
                timer.cancel()

    def _time_out(self, waiter: _AsyncWaiter) -> None:
        if self._abandon(waiter) and not waiter.future.done():
            waiter.future.set_result(False)

    def Dispose(self) -> None:
        """Release the semaphore: later waits and releases raise ``ObjectDisposedException``."""
        with self._lock:
            self._disposed = True
            avail, self._avail = self._avail, None
        if avail is not None:
            avail.Dispose()

    def __enter__(self) -> SemaphoreSlim:
        return self

    def __exit__(self, *exc: object) -> None:
        self.Dispose()

    def __repr__(self) -> str:
        state = "disposed" if self._disposed else f"count={self.CurrentCount}"
        return f"<SemaphoreSlim {state} waiters={len(self._waiters)}>"

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    current_count = CurrentCount
    available_wait_handle = AvailableWaitHandle
    wait = Wait
    release = Release
    wait_async = WaitAsync
    dispose = Dispose
    # -- end of PEP 8 spellings --


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)
