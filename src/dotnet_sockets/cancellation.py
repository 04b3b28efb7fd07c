""".NET's cooperative cancellation: ``CancellationTokenSource``, ``CancellationToken`` and their registrations.

A source hands out tokens; code that can stop early takes a token and either polls it
(``ThrowIfCancellationRequested``) or registers a callback that runs when the source is
cancelled.  Every awaitable ``…Async`` method of the package takes one as its last
argument (``cancellation_token``) and ends with ``OperationCanceledException`` when it is
cancelled, losing nothing: :func:`await_cancellable` is the one place that does it.

Tokens are small value objects: two tokens of one source compare equal, as .NET's struct
tokens do, and ``CancellationToken.None_`` (also ``CancellationToken()``) can never be
cancelled, which costs nothing on the hot path.
"""

from __future__ import annotations

import asyncio
import contextvars
import datetime
import heapq
import itertools
import os
import threading
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, TypeVar

from ._checks import timedelta_ms
from ._names import dotnet_names
from .exceptions import (
    AggregateException,
    ArgumentOutOfRangeException,
    ObjectDisposedException,
    OperationCanceledException,
    TaskCanceledException,
)

__all__ = [
    "CancellationToken",
    "CancellationTokenRegistration",
    "CancellationTokenSource",
    "await_cancellable",
    "await_task_cancellable",
]

_T = TypeVar("_T")
_INT_MAX = 2**31 - 1
_NO_STATE: Any = object()


def _delay_ms(delay: int | datetime.timedelta, param: str) -> int:
    if isinstance(delay, datetime.timedelta):
        ms = timedelta_ms(delay)
    elif isinstance(delay, bool) or not isinstance(delay, int):
        raise TypeError(f"{param} must be an int number of milliseconds or a datetime.timedelta")
    else:
        ms = delay
    if ms < -1 or ms > _INT_MAX:
        raise ArgumentOutOfRangeException(param, delay)
    return ms


def _delay_param(delay: object) -> str:
    # .NET's overloads name the parameter after its type.
    return "delay" if isinstance(delay, datetime.timedelta) else "millisecondsDelay"


class _Timers:
    """One lazily started daemon thread for every ``CancelAfter`` in the process (no thread per timer)."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._heap: list[tuple[float, int, CancellationTokenSource]] = []
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None

    def schedule(self, source: CancellationTokenSource, due: float) -> int:
        with self._cond:
            seq = next(self._seq)
            heapq.heappush(self._heap, (due, seq, source))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="dotnet_sockets-timers", daemon=True)
                self._thread.start()
            self._cond.notify()
            return seq

    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    if self._heap:
                        wait = self._heap[0][0] - time.monotonic()
                        if wait <= 0:
                            _, seq, source = heapq.heappop(self._heap)
                            break
                        self._cond.wait(wait)
                    else:
                        self._cond.wait()
            source._timer_fired(seq)

    def _reset_after_fork(self) -> None:
        # Every source's lock first (another thread may have held one at the fork), then
        # the pending timers, and only then (_resume_after_fork) a thread that may fire
        # them: one started earlier could fire a timer before its source knew its new
        # number, and lose it.
        for source in list(_sources):
            source._lock = threading.Lock()
        self._cond = threading.Condition(threading.Lock())
        self._thread = None
        heap, self._heap = self._heap, []
        for due, _seq, source in heap:
            seq = next(self._seq)
            source._timer_seq = seq
            heapq.heappush(self._heap, (due, seq, source))

    def _resume_after_fork(self) -> None:
        # The thread runs cancellation callbacks, which may take any lock of the package:
        # it starts once all are made anew (registered last, by the package's __init__).
        with self._cond:
            if self._heap and self._thread is None:
                self._thread = threading.Thread(target=self._run, name="dotnet_sockets-timers", daemon=True)
                self._thread.start()


_timers = _Timers()
# Every live source, so that a forked child re-makes each one's lock.
_sources: weakref.WeakSet[CancellationTokenSource] = weakref.WeakSet()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_timers._reset_after_fork)


class _Callback:
    __slots__ = ("callback", "state", "context", "_claim")

    def __init__(self, callback: Callable[..., object], state: Any, context: contextvars.Context | None) -> None:
        self.callback = callback
        self.state = state
        self.context = context
        # Whoever takes the claim first decides: Cancel runs the callback, Unregister drops it.  A
        # non-blocking acquire never waits, so an Unregister run by a finalizer (a collected coroutine's
        # ``finally``) cannot deadlock on a lock its own thread holds.
        self._claim = threading.Lock()

    def take(self) -> bool:
        """Claim the callback (to run it, or to drop it); False when someone already did."""
        return self._claim.acquire(False)

    @property
    def registered(self) -> bool:
        return not self._claim.locked()

    def invoke(self) -> None:
        if self.state is _NO_STATE:
            args: tuple[Any, ...] = ()
        else:
            args = (self.state,)
        if self.context is None:
            self.callback(*args)
        else:
            self.context.run(self.callback, *args)


@dotnet_names
class CancellationTokenSource:
    """Signals cancellation to the tokens it hands out (``Token``).

    ``CancellationTokenSource(millisecond_delay)`` cancels itself after the delay (an int in
    milliseconds or a ``timedelta``; ``-1`` never).  Raises ``ArgumentOutOfRangeException`` for a
    delay below ``-1``; members other than ``IsCancellationRequested``, ``Token`` and ``Dispose``
    raise ``ObjectDisposedException`` once disposed.  A context manager, like ``using``.
    """

    __slots__ = ("_lock", "_cancelled", "_callbacks", "_compact_at", "_disposed", "_timer_seq", "_due", "__weakref__")

    def __init__(self, millisecond_delay: int | datetime.timedelta = -1) -> None:
        ms = _delay_ms(millisecond_delay, _delay_param(millisecond_delay))
        # Callbacks run outside the lock, so a callback may register, dispose or cancel again.
        self._lock = threading.Lock()
        _sources.add(self)
        self._cancelled = False
        self._callbacks: list[_Callback] = []
        self._compact_at = 16
        self._disposed = False
        self._timer_seq = -1
        self._due = 0.0
        if ms >= 0:
            self._start_timer(ms)

    # -- the state -------------------------------------------------------------------------------

    @property
    def IsCancellationRequested(self) -> bool:
        """True once ``Cancel`` ran (or the delay passed)."""
        return self._cancelled

    @property
    def Token(self) -> CancellationToken:
        """A token of this source (every token of one source compares equal)."""
        if self._disposed:
            raise ObjectDisposedException("System.Threading.CancellationTokenSource")
        return CancellationToken._of(self)

    def Cancel(self, throw_on_first_exception: bool = False) -> None:
        """Request cancellation and run the registered callbacks, newest first, on this thread.

        With ``throw_on_first_exception`` the first callback that raises stops the rest and its
        exception propagates; otherwise every callback runs and their exceptions come out together
        as an ``AggregateException``.  A second ``Cancel`` does nothing.
        """
        self._throw_if_disposed()
        self._cancel(throw_on_first_exception)

    def CancelAfter(self, delay: int | datetime.timedelta) -> None:
        """Cancel after ``delay`` (milliseconds or ``timedelta``), replacing an earlier ``CancelAfter``.

        ``-1`` stops the timer.  Raises ``ArgumentOutOfRangeException`` below ``-1``.
        """
        self._throw_if_disposed()
        ms = _delay_ms(delay, _delay_param(delay))
        if self._cancelled:
            return
        if ms < 0:
            with self._lock:
                self._timer_seq = -1
            return
        self._start_timer(ms)

    def TryReset(self) -> bool:
        """Make a source that was not cancelled usable again: drops its registrations and timer (.NET 6)."""
        self._throw_if_disposed()
        with self._lock:
            if self._cancelled:
                return False
            self._timer_seq = -1
            for cb in self._callbacks:
                cb.take()
            self._callbacks.clear()
            return True

    def Dispose(self) -> None:
        """Release the timer; registrations are dropped.  Tokens already handed out keep their state."""
        with self._lock:
            self._disposed = True
            self._timer_seq = -1
            if not self._cancelled:
                for cb in self._callbacks:
                    cb.take()
                self._callbacks.clear()

    def __enter__(self) -> CancellationTokenSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.Dispose()

    def __repr__(self) -> str:
        return f"<CancellationTokenSource IsCancellationRequested={self._cancelled}>"

    @staticmethod
    def CreateLinkedTokenSource(*tokens: CancellationToken) -> CancellationTokenSource:
        """A source that is cancelled as soon as any of ``tokens`` is (also takes one sequence of tokens)."""
        if len(tokens) == 1 and not isinstance(tokens[0], CancellationToken):
            tokens = tuple(tokens[0])
        linked = CancellationTokenSource()
        for token in tokens:
            if not isinstance(token, CancellationToken):
                raise TypeError("CreateLinkedTokenSource takes CancellationToken values")
            if token.CanBeCanceled:
                token.Register(linked._cancel_from_link)
        return linked

    # -- internals -------------------------------------------------------------------------------

    def _throw_if_disposed(self) -> None:
        if self._disposed:
            raise ObjectDisposedException("System.Threading.CancellationTokenSource")

    def _cancel_from_link(self) -> None:
        if not self._disposed:
            self._cancel(False)

    def _start_timer(self, ms: int) -> None:
        if ms == 0:
            self._cancel(False)
            return
        due = time.monotonic() + ms / 1000.0
        with self._lock:
            self._due = due
        seq = _timers.schedule(self, due)
        with self._lock:
            if self._due == due:
                self._timer_seq = seq

    def _timer_fired(self, seq: int) -> None:
        with self._lock:
            current = seq == self._timer_seq and not self._disposed
        if current:
            try:
                self._cancel(False)
            except AggregateException as exc:
                # Nobody called Cancel, so nobody can catch it: report it like any exception in a thread.
                threading.excepthook(threading.ExceptHookArgs((type(exc), exc, exc.__traceback__, None)))

    def _cancel(self, throw_on_first: bool) -> None:
        with self._lock:
            if self._cancelled:
                return
            self._cancelled = True
            self._timer_seq = -1
            callbacks = self._callbacks
            self._callbacks = []
        errors: list[BaseException] = []
        # .NET runs registrations newest first.
        for cb in reversed(callbacks):
            if not cb.take():
                continue
            try:
                cb.invoke()
            except Exception as exc:
                if throw_on_first:
                    raise
                errors.append(exc)
        if errors:
            raise AggregateException(None, errors)

    def _register(self, cb: _Callback) -> bool:
        """Add ``cb``; False when the source was already cancelled (the caller then runs it at once)."""
        with self._lock:
            if self._cancelled:
                return False
            if not self._disposed:
                callbacks = self._callbacks
                if len(callbacks) >= self._compact_at:
                    # Unregister only claims; the dropped callbacks are swept here, under the lock.
                    callbacks[:] = [c for c in callbacks if c.registered]
                    self._compact_at = max(16, 2 * len(callbacks))
                callbacks.append(cb)
            return True

    @staticmethod
    def _unregister(cb: _Callback) -> bool:
        # Takes no lock: a finalizer may run this on a thread that holds the source's lock.
        return cb.take()

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    is_cancellation_requested = IsCancellationRequested
    token = Token
    cancel = Cancel
    cancel_after = CancelAfter
    try_reset = TryReset
    dispose = Dispose
    create_linked_token_source = CreateLinkedTokenSource
    # -- end of PEP 8 spellings --


@dotnet_names
class CancellationToken:
    """Tells an operation whether it should stop.  ``CancellationToken.None_`` can never be cancelled.

    ``CancellationToken(canceled)`` makes a token that is cancelled (``True``) or never can be.
    Tokens of one source compare equal and hash alike.
    """

    __slots__ = ("_source",)

    None_: ClassVar[CancellationToken]
    _canceled_source: ClassVar[CancellationTokenSource]

    def __init__(self, canceled: bool = False) -> None:
        self._source: CancellationTokenSource | None = CancellationToken._canceled_source if canceled else None

    @classmethod
    def _of(cls, source: CancellationTokenSource) -> CancellationToken:
        token = cls.__new__(cls)
        token._source = source
        return token

    @property
    def IsCancellationRequested(self) -> bool:
        """True once the token's source was cancelled."""
        source = self._source
        return source is not None and source._cancelled

    @property
    def CanBeCanceled(self) -> bool:
        """False for ``None_``: code may then skip all cancellation work."""
        return self._source is not None

    @property
    def WaitHandle(self) -> Any:
        """A ``ManualResetEvent`` set when the token is cancelled."""
        from .waithandles import ManualResetEvent

        handle = ManualResetEvent(self.IsCancellationRequested)
        if self.CanBeCanceled and not self.IsCancellationRequested:
            # Set even if the caller closed it: a closed handle must not make Cancel (or the
            # timer thread) raise, as an operation's completion ignores its closed handle.
            self.Register(handle._set_even_if_disposed)
        return handle

    def ThrowIfCancellationRequested(self) -> None:
        """Raise ``OperationCanceledException`` (carrying this token) if cancellation was requested."""
        if self.IsCancellationRequested:
            raise OperationCanceledException(None, self)

    def Register(
        self, callback: Callable[..., object], state: Any = _NO_STATE, use_synchronization_context: bool = False
    ) -> CancellationTokenRegistration:
        """Run ``callback()`` (or ``callback(state)`` when ``state`` is given) when the token is cancelled.

        The callback runs on the thread that cancels, in the ``contextvars`` context captured here;
        at once, on this thread, if the token is already cancelled.  Raises ``ArgumentNullException``
        for a ``None`` callback.
        """
        return self._register(callback, state, contextvars.copy_context())

    def UnsafeRegister(self, callback: Callable[..., object], state: Any = _NO_STATE) -> CancellationTokenRegistration:
        """``Register`` without capturing the caller's context (the callback runs in the canceller's)."""
        return self._register(callback, state, None)

    def _register(
        self, callback: Callable[..., object], state: Any, context: contextvars.Context | None
    ) -> CancellationTokenRegistration:
        if callback is None:
            from .exceptions import ArgumentNullException

            raise ArgumentNullException("callback")
        source = self._source
        if source is None:
            return CancellationTokenRegistration(None, None, self)
        cb = _Callback(callback, state, context)
        if not source._register(cb):
            cb.take()
            cb.invoke()
            return CancellationTokenRegistration(None, None, self)
        return CancellationTokenRegistration(source, cb, self)

    def Equals(self, other: object) -> bool:
        """True for a token of the same source (as ``==``)."""
        return self == other

    def GetHashCode(self) -> int:
        """The same number for every token of one source (as ``hash()``)."""
        return hash(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CancellationToken):
            return NotImplemented
        return self._source is other._source

    def __hash__(self) -> int:
        return id(self._source)

    def __repr__(self) -> str:
        if self._source is None:
            return "CancellationToken.None_"
        return f"<CancellationToken IsCancellationRequested={self.IsCancellationRequested}>"

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    none_: ClassVar[CancellationToken]
    is_cancellation_requested = IsCancellationRequested
    can_be_canceled = CanBeCanceled
    wait_handle = WaitHandle
    throw_if_cancellation_requested = ThrowIfCancellationRequested
    register = Register
    unsafe_register = UnsafeRegister
    equals = Equals
    get_hash_code = GetHashCode
    # -- end of PEP 8 spellings --


CancellationToken.None_ = CancellationToken.none_ = CancellationToken()
CancellationToken._canceled_source = CancellationTokenSource()
CancellationToken._canceled_source._cancelled = True


@dotnet_names
class CancellationTokenRegistration:
    """What ``Register`` returns: ``Dispose()``/``Unregister()`` removes the callback.  A context manager."""

    __slots__ = ("_source", "_cb", "_token")

    def __init__(self, source: CancellationTokenSource | None, cb: _Callback | None, token: CancellationToken) -> None:
        self._source = source
        self._cb = cb
        self._token = token

    @property
    def Token(self) -> CancellationToken:
        """The token the callback was registered with."""
        return self._token

    def Unregister(self) -> bool:
        """Remove the callback; False if it already ran, is running, or was removed."""
        if self._source is None or self._cb is None:
            return False
        return self._source._unregister(self._cb)

    def Dispose(self) -> None:
        """Remove the callback if it has not run (as ``Unregister``, without the answer)."""
        self.Unregister()

    def __enter__(self) -> CancellationTokenRegistration:
        return self

    def __exit__(self, *exc: object) -> None:
        self.Unregister()

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    token = Token
    unregister = Unregister
    dispose = Dispose
    # -- end of PEP 8 spellings --


def _closed(awaitable: object) -> None:
    """A token cancelled before the await began: end ``awaitable`` as the await would have."""
    if isinstance(awaitable, asyncio.Future):
        awaitable.cancel()  # what cancelling the task while it awaited the future does
        return
    close = getattr(awaitable, "close", None)
    if close is not None:
        close()


async def await_cancellable(awaitable: Awaitable[_T], token: CancellationToken | None) -> _T:
    """Await ``awaitable`` so that cancelling ``token`` ends it with ``OperationCanceledException``.

    The one mechanism behind every ``cancellation_token`` argument: the token cancels the current
    asyncio task the asyncio way, so whatever the awaited operation does on ``task.cancel()`` (give a
    datagram back to the queue, keep a stream's bytes in order, leave a connection for the next
    accept) holds for tokens too; the ``CancelledError`` that results is then turned into
    ``OperationCanceledException``.  A ``task.cancel()`` by anyone else still raises
    ``asyncio.CancelledError``.  A token that cannot be cancelled costs one attribute read.
    """
    if token is None or token._source is None:
        return await awaitable
    if not isinstance(token, CancellationToken):
        _closed(awaitable)
        raise TypeError("cancellation_token must be a CancellationToken")
    if token._source._cancelled:
        _closed(awaitable)
        raise OperationCanceledException(None, token)
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    if task is None:  # pragma: no cover - awaited outside a task (a bare coroutine driven by hand)
        return await awaitable
    pending = [True]
    fired = [False]

    def cancel_on_loop() -> None:
        # Runs on the loop thread, so it cannot race with the await below finishing.
        if pending[0]:
            fired[0] = True
            task.cancel()

    def on_cancel() -> None:
        if loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            loop.call_soon(cancel_on_loop)
        else:
            loop.call_soon_threadsafe(cancel_on_loop)

    registration = token.UnsafeRegister(on_cancel)
    try:
        return await awaitable
    except asyncio.CancelledError:
        if fired[0] and task.uncancel() == 0:
            raise OperationCanceledException(None, token) from None
        raise
    finally:
        pending[0] = False
        registration.Dispose()


async def await_task_cancellable(awaitable: Awaitable[_T], token: CancellationToken | None) -> _T:
    """:func:`await_cancellable` for what .NET returns as a ``Task``: a cancelled token ends it with
    ``TaskCanceledException`` (what awaiting a cancelled ``Task`` raises), carrying the token."""
    if token is None or token._source is None:
        return await awaitable
    try:
        return await await_cancellable(awaitable, token)
    except OperationCanceledException as exc:
        if isinstance(exc, TaskCanceledException) or exc.CancellationToken != token:
            raise
        raise TaskCanceledException(None, token) from None
