"""``System.Threading`` wait handles: ``WaitHandle``, ``ManualResetEvent``, ``AutoResetEvent``.

These are in-process events with .NET semantics (there is no kernel object
behind them, so they cannot be shared with other processes):

* timeouts are int milliseconds, ``-1`` meaning infinite, or a
  ``datetime.timedelta``;
* an ``AutoResetEvent`` lets exactly one waiter through per ``Set`` and then
  resets itself;
* ``WaitAny`` returns the lowest index among the signalled handles and
  consumes only that handle; ``WaitAll`` acquires all handles at once or
  none of them.

Design: one module-wide lock guards the state of every handle.  A thread
that has to block registers a *waiter* (a ``threading.Lock`` it holds) on
each handle it waits for and blocks acquiring that lock; the ``Set`` that
satisfies it does the consuming on its behalf and releases the lock.  So a
waiter costs no thread and no polling, and ``Set`` on a handle nobody waits
on is one uncontended lock round trip.
"""

from __future__ import annotations

import datetime
import os
import threading
import time
from collections.abc import Callable, Sequence
from types import TracebackType

from ._checks import timedelta_ms
from ._names import dotnet_names
from .enums import DotNetEnum
from .exceptions import (
    ArgumentException,
    ArgumentNullException,
    ArgumentOutOfRangeException,
    NotSupportedException,
    ObjectDisposedException,
)

__all__ = [
    "WaitHandle",
    "EventWaitHandle",
    "EventResetMode",
    "ManualResetEvent",
    "AutoResetEvent",
]

_INT_MAX = 2**31 - 1
_MAX_WAIT_HANDLES = 64

# Guards _signaled and _waiters of every handle, the fields of every
# _Waiter, and _blocked.  Held only for short, non-blocking sections; never
# taken by a finalizer (a collection may start while it is held).
_lock = threading.Lock()
# Every wait now blocked, so that a forked child can drop those of the
# threads it did not inherit (each would otherwise swallow an AutoResetEvent's Set).
_blocked: set[_Waiter] = set()


def _reset_after_fork() -> None:
    # Only the forking thread lives on in the child: another thread may have
    # held _lock at the fork, and the waits registered by other threads
    # belong to nobody any more.  The lock is re-made in place: other modules
    # (semaphores) hold it by name.
    _lock._at_fork_reinit()  # type: ignore[attr-defined]
    for w in list(_blocked):
        _unregister(w)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


def _timeout_ms(timeout: int | datetime.timedelta, int_param: str) -> int:
    """Validate a .NET timeout and return it in milliseconds (-1 = infinite)."""
    if isinstance(timeout, datetime.timedelta):
        # .NET truncates TimeSpan.TotalMilliseconds toward zero.
        ms = timedelta_ms(timeout)
        if ms < -1 or ms > _INT_MAX:
            raise ArgumentOutOfRangeException("timeout", timeout)
        return ms
    if isinstance(timeout, bool) or not isinstance(timeout, int):
        raise TypeError(
            f"timeout must be an int number of milliseconds or a datetime.timedelta, "
            f"not {type(timeout).__name__}"
        )
    if timeout < -1 or timeout > _INT_MAX:
        raise ArgumentOutOfRangeException(int_param, timeout)
    return timeout


class _Waiter:
    """One blocked call of WaitOne/WaitAny/WaitAll."""

    __slots__ = ("handles", "wait_all", "wakeup", "result")

    def __init__(self, handles: Sequence[WaitHandle], wait_all: bool) -> None:
        self.handles = handles
        self.wait_all = wait_all
        self.wakeup = threading.Lock()
        self.wakeup.acquire()
        # Index that satisfied the wait (0 for WaitAll); -1 while pending.
        self.result = -1


# -- helpers below all run with _lock held ------------------------------------


def _try_acquire(handles: Sequence[WaitHandle], wait_all: bool) -> int:
    """Consume what the wait needs if it can be satisfied now: the index, or -1."""
    if wait_all:
        for h in handles:
            if not h._signaled:
                return -1
        for h in handles:
            if h._auto:
                h._take()
        return 0
    for i, h in enumerate(handles):
        if h._signaled:
            if h._auto:
                h._take()
            return i
    return -1


def _unregister(waiter: _Waiter) -> None:
    _blocked.discard(waiter)
    for h in waiter.handles:
        ws = h._waiters
        if ws is not None and waiter in ws:
            ws.remove(waiter)
            if not ws:
                h._waiters = None


def _signal(handle: WaitHandle) -> None:
    """Signal ``handle`` and hand it to the waiters it now satisfies, oldest first."""
    handle._signaled = True
    waiters = handle._waiters
    if waiters is None:
        return
    for w in list(waiters):
        # Only a wait that involves ``handle`` can have become satisfiable:
        # every registered wait was unsatisfiable before this Set.
        idx = _try_acquire(w.handles, w.wait_all)
        if idx < 0:
            continue
        w.result = idx
        _unregister(w)
        w.wakeup.release()
        if not handle._signaled:
            break  # an auto-reset handle went to exactly one waiter


@dotnet_names
class WaitHandle:
    """Base of the waitable events (.NET's abstract ``System.Threading.WaitHandle``).

    Disposing a handle makes later ``Set``/``Reset``/waits on it raise
    ``ObjectDisposedException``; threads already blocked on it keep waiting,
    as with .NET (the underlying object lives until the last wait ends).
    """

    __slots__ = ("_signaled", "_auto", "_waiters", "_disposed", "__weakref__")

    WaitTimeout = 258
    """What ``WaitAny`` returns when the timeout elapsed before any handle was signalled."""

    def __init__(self) -> None:
        if type(self) is WaitHandle:
            raise TypeError("WaitHandle is abstract; use ManualResetEvent, AutoResetEvent or Semaphore")
        self._signaled = False
        self._auto = False
        self._waiters: list[_Waiter] | None = None
        self._disposed = False

    def _throw_if_disposed(self) -> None:
        if self._disposed:
            raise ObjectDisposedException(_dotnet_type_name(self))

    # A wait that is satisfied by a consuming handle (``_auto``) takes one signal, and gives it
    # back if the waiter was interrupted; a counting handle (Semaphore) overrides both.
    def _take(self) -> None:
        self._signaled = False

    def _put_back(self) -> None:
        if not self._signaled:
            _signal(self)

    def WaitOne(self, timeout: int | datetime.timedelta = -1) -> bool:
        """Block until the handle is signalled: True, or False if ``timeout`` elapsed first."""
        ms = _timeout_ms(timeout, "millisecondsTimeout")
        self._throw_if_disposed()
        return _wait((self,), False, ms) == 0

    @staticmethod
    def WaitAll(wait_handles: Sequence[WaitHandle], timeout: int | datetime.timedelta = -1) -> bool:
        """Block until every handle is signalled, acquiring them all at once.

        Returns False if ``timeout`` elapsed first, in which case no handle was consumed.
        """
        ms = _timeout_ms(timeout, "millisecondsTimeout")
        handles = _check_handles(wait_handles)
        seen: set[int] = set()
        for i, h in enumerate(handles):
            if id(h) in seen:
                # .NET raises DuplicateWaitObjectException, an ArgumentException.
                raise ArgumentException("Duplicate objects in argument.", f"waitHandles[{i}]")
            seen.add(id(h))
        return _wait(handles, True, ms) == 0

    @staticmethod
    def WaitAny(wait_handles: Sequence[WaitHandle], timeout: int | datetime.timedelta = -1) -> int:
        """Block until any handle is signalled and return its index.

        When several are signalled the lowest index wins and only that handle
        is consumed.  Returns ``WaitHandle.WaitTimeout`` (258) if ``timeout``
        elapsed first.
        """
        ms = _timeout_ms(timeout, "millisecondsTimeout")
        handles = _check_handles(wait_handles)
        idx = _wait(handles, False, ms)
        return idx if idx >= 0 else WaitHandle.WaitTimeout

    def Close(self) -> None:
        """Release the handle (same as ``Dispose``)."""
        self._disposed = True

    def Dispose(self) -> None:
        """Release the handle; calling it again does nothing."""
        self.Close()

    def __enter__(self) -> WaitHandle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.Dispose()

    def __repr__(self) -> str:
        state = "disposed" if self._disposed else ("set" if self._signaled else "reset")
        return f"<{type(self).__name__} {state}>"

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    wait_timeout = WaitTimeout
    wait_one = WaitOne
    wait_all = WaitAll
    wait_any = WaitAny
    close = Close
    dispose = Dispose
    # -- end of PEP 8 spellings --


def _dotnet_type_name(handle: WaitHandle) -> str:
    cls = type(handle)
    if cls.__module__ == __name__:
        return f"System.Threading.{cls.__name__}"
    return cls.__qualname__


def _check_handles(wait_handles: Sequence[WaitHandle] | None) -> tuple[WaitHandle, ...]:
    """Validate a WaitAll/WaitAny argument in .NET's order."""
    if wait_handles is None:
        raise ArgumentNullException("waitHandles")
    handles = tuple(wait_handles)
    if not handles:
        raise ArgumentException("Waithandle array may not be empty.", "waitHandles")
    if len(handles) > _MAX_WAIT_HANDLES:
        raise NotSupportedException(
            f"The number of WaitHandles must be less than or equal to {_MAX_WAIT_HANDLES}."
        )
    for i, h in enumerate(handles):
        if h is None:
            raise ArgumentNullException(f"waitHandles[{i}]", "Found a null value within an array.")
        if not isinstance(h, WaitHandle):
            raise TypeError(f"waitHandles[{i}] is a {type(h).__name__}, not a WaitHandle")
        h._throw_if_disposed()
    return handles


def _wait(handles: Sequence[WaitHandle], wait_all: bool, ms: int) -> int:
    """The one wait primitive: the satisfying index (0 for WaitAll), or -1 on timeout."""
    with _lock:
        idx = _try_acquire(handles, wait_all)
        if idx >= 0 or ms == 0:
            return idx
        waiter = _Waiter(handles, wait_all)
        _blocked.add(waiter)
        for h in handles:
            ws = h._waiters
            if ws is None:
                h._waiters = [waiter]
            elif waiter not in ws:  # WaitAny may list a handle twice
                ws.append(waiter)
    try:
        woken = waiter.wakeup.acquire(True, -1 if ms < 0 else ms / 1000.0)
    except BaseException:
        # Interrupted (KeyboardInterrupt): whatever a Set already handed us
        # must go back, or an AutoResetEvent signal would be lost.
        with _lock:
            if waiter.result < 0:
                _unregister(waiter)
            else:
                _give_back(waiter)
        raise
    if woken:
        return waiter.result
    with _lock:
        # A Set may have satisfied us between the timeout and this point;
        # it already consumed on our behalf, so that counts as success.
        if waiter.result < 0:
            _unregister(waiter)
        return waiter.result


def _wait_until(handle: WaitHandle, done: Callable[[], bool], ms: int) -> bool:
    """Wait for ``done()`` to turn true, ``handle`` being set each time it may have.

    The wait of an ``End...`` or of a synchronous call on its operation's
    handle: whatever the user did to that handle (closed it, disposed it,
    set it early, reset it) must not make the wait fail or end too soon.
    False if ``ms`` elapsed first.
    """
    deadline = None if ms < 0 else time.monotonic() + ms / 1000.0
    while True:
        if done():
            return True
        left = -1
        if deadline is not None:
            left = max(0, int((deadline - time.monotonic()) * 1000.0))
        if _wait((handle,), False, left) < 0:
            return done()
        with _lock:
            # Set by someone else before the completion: take the signal back
            # and wait again.  The completer sets done() before it sets the
            # handle, under _lock, so this cannot swallow the real Set.
            if done():
                return True
            handle._signaled = False


def _give_back(waiter: _Waiter) -> None:
    taken = waiter.handles if waiter.wait_all else (waiter.handles[waiter.result],)
    for h in taken:
        if h._auto:
            h._put_back()


class EventResetMode(DotNetEnum):
    """Whether an ``EventWaitHandle`` resets itself after releasing one waiter."""

    AutoReset = 0
    ManualReset = 1


@dotnet_names
class EventWaitHandle(WaitHandle):
    """A thread synchronisation event (.NET ``EventWaitHandle``, unnamed only)."""

    __slots__ = ()

    def __init__(self, initial_state: bool, mode: EventResetMode) -> None:
        super().__init__()
        if mode not in (EventResetMode.AutoReset, EventResetMode.ManualReset):
            raise ArgumentOutOfRangeException("mode", mode)
        self._auto = mode == EventResetMode.AutoReset
        self._signaled = bool(initial_state)

    def Set(self) -> bool:
        """Signal the event: an auto-reset event releases one waiter, a manual one all of them."""
        with _lock:
            if self._disposed:
                raise ObjectDisposedException(_dotnet_type_name(self))
            if not self._signaled:
                _signal(self)
        return True

    def _set_even_if_disposed(self) -> None:
        # The completion of an operation: a handle its owner closed is still
        # signalled, never an error on the thread that completes (as .NET
        # ignores the ObjectDisposedException there).
        with _lock:
            if not self._signaled:
                _signal(self)

    def Reset(self) -> bool:
        """Put the event in the non-signalled state, so that waits block."""
        with _lock:
            if self._disposed:
                raise ObjectDisposedException(_dotnet_type_name(self))
            self._signaled = False
        return True

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    set = Set
    reset = Reset
    # -- end of PEP 8 spellings --


@dotnet_names
class ManualResetEvent(EventWaitHandle):
    """An event that stays signalled, releasing every waiter, until ``Reset``."""

    __slots__ = ()

    def __init__(self, initial_state: bool) -> None:
        super().__init__(initial_state, EventResetMode.ManualReset)


@dotnet_names
class AutoResetEvent(EventWaitHandle):
    """An event that releases exactly one waiter per ``Set`` and then resets itself."""

    __slots__ = ()

    def __init__(self, initial_state: bool) -> None:
        super().__init__(initial_state, EventResetMode.AutoReset)
