"""``ExecutionContext`` flow control, mapped onto :mod:`contextvars`.

Every ``Begin...`` call captures the caller's ``contextvars`` context and runs
the completion callback inside it, the way .NET flows its ExecutionContext
(and with it every ``AsyncLocal<T>``) into the callback.
``ExecutionContext.SuppressFlow()`` turns that capture off for the calling
thread: a callback of an operation started while flow is suppressed runs in
a new, empty ``contextvars.Context``, so it sees every ``ContextVar`` at its
default.  Suppression is per thread, as in .NET.
"""

from __future__ import annotations

import contextvars
import os
import threading
import weakref
from collections import deque
from collections.abc import Callable
from types import TracebackType

from ._names import dotnet_names
from .exceptions import InvalidOperationException

__all__ = ["ExecutionContext", "AsyncFlowControl", "capture_context"]

_copy_context = contextvars.copy_context

# Number of live threads that currently suppress flow.  While it is 0 (the
# usual case) capture_context() needs no thread-local lookup.  Only a thread
# changing its own suppression writes it, under _count_lock; a stale read by
# another thread only costs it the thread-local lookup, never a wrong answer,
# because suppression is per thread.
_suppressing_threads = 0
_count_lock = threading.Lock()
# Told every new value of _suppressing_threads, under _count_lock (the compiled send
# path keeps its own copy rather than look the global up on every Begin).
_count_changed: Callable[[int], object] | None = None
_local = threading.local()
# Decrements owed by tokens that died in a collection.  A finalizer must not
# wait for _count_lock (the collecting thread may hold it), so it leaves its
# decrement here for whoever next holds the lock; until then the count is
# too high, which only costs a thread-local lookup.
_owed: deque[int] = deque()


def _reset_after_fork() -> None:
    # Another thread may have held the lock at the fork.  The count is left
    # as it is: the tokens of the threads the child lost give theirs back
    # through _owed when they are freed.
    global _count_lock
    _count_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


class _Suppression:
    """The token of one thread's current suppression, kept in ``_local``.

    If the thread ends while suppressing, its thread-local storage is freed,
    the token dies and the finalizer gives back its count.
    """

    __slots__ = ("release", "__weakref__")

    def __init__(self) -> None:
        self.release = weakref.finalize(self, _owe)


def _owe() -> None:
    """The token's finalizer: takes no lock (see ``_owed``)."""
    _owed.append(1)
    if _count_lock.acquire(False):
        try:
            _settle()
        finally:
            _count_lock.release()


def _settle() -> None:
    """Apply the owed decrements; with ``_count_lock`` held."""
    global _suppressing_threads
    n = 0
    while True:
        try:
            n += _owed.pop()
        except IndexError:
            break
    if n:
        _suppressing_threads -= n
        if _count_changed is not None:
            _count_changed(_suppressing_threads)


def _current() -> _Suppression | None:
    token: _Suppression | None = getattr(_local, "suppression", None)
    return token


def _suppress() -> _Suppression:
    global _suppressing_threads
    token = _Suppression()
    with _count_lock:
        _settle()
        _suppressing_threads += 1
        if _count_changed is not None:
            _count_changed(_suppressing_threads)
    _local.suppression = token
    return token


def _restore(token: _Suppression) -> None:
    del _local.suppression
    if token.release.detach() is not None:
        _owed.append(1)
    with _count_lock:
        _settle()


def capture_context() -> contextvars.Context | None:
    """The context a ``Begin...`` call hands to its callback, or None while flow is suppressed.

    The engine runs the callback of a None capture in an empty ``contextvars.Context``.
    """
    if _suppressing_threads == 0:
        return _copy_context()
    if getattr(_local, "suppression", None) is not None:
        return None
    return _copy_context()


@dotnet_names
class AsyncFlowControl:
    """Returned by ``ExecutionContext.SuppressFlow``; ``Undo`` (or leaving ``with``) restores flow.

    It can be used once, and only on the thread that suppressed flow.
    """

    __slots__ = ("_thread", "_token")

    def __init__(self, thread: threading.Thread, token: _Suppression) -> None:
        self._thread: threading.Thread | None = thread
        # Weak, so that a kept AsyncFlowControl does not keep the count of a
        # thread that ended while suppressing.
        self._token = weakref.ref(token)

    def Undo(self) -> None:
        """Restore the flow of the execution context on this thread."""
        if self._thread is None:
            raise InvalidOperationException("Undo was already called on this AsyncFlowControl.")
        if self._thread is not threading.current_thread():
            raise InvalidOperationException("Undo must be called on the thread that suppressed flow.")
        token = _current()
        if token is None or token is not self._token():
            # Flow was restored (and maybe suppressed again) behind our back.
            raise InvalidOperationException("Flow is no longer suppressed by this AsyncFlowControl.")
        self._thread = None
        _restore(token)

    def Dispose(self) -> None:
        """Same as ``Undo`` (so disposing twice raises, as in .NET)."""
        self.Undo()

    def __enter__(self) -> AsyncFlowControl:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.Undo()

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    undo = Undo
    dispose = Dispose
    # -- end of PEP 8 spellings --


@dotnet_names
class ExecutionContext:
    """Static control of execution-context flow into asynchronous callbacks."""

    __slots__ = ()

    def __init__(self) -> None:
        raise TypeError("ExecutionContext has only static members")

    @staticmethod
    def SuppressFlow() -> AsyncFlowControl:
        """Stop capturing the context for operations this thread starts until flow is restored.

        Usable as ``with ExecutionContext.SuppressFlow(): ...``.  Raises
        ``InvalidOperationException`` if flow is already suppressed on this thread.
        """
        if _current() is not None:
            raise InvalidOperationException("Execution context flow is already suppressed on this thread.")
        return AsyncFlowControl(threading.current_thread(), _suppress())

    @staticmethod
    def RestoreFlow() -> None:
        """Undo ``SuppressFlow`` on this thread; ``InvalidOperationException`` if flow is not suppressed."""
        token = _current()
        if token is None:
            raise InvalidOperationException("Execution context flow is not suppressed on this thread.")
        _restore(token)

    @staticmethod
    def IsFlowSuppressed() -> bool:
        """True while this thread suppresses flow."""
        if _suppressing_threads == 0:
            return False
        return _current() is not None

    @staticmethod
    def Capture() -> contextvars.Context | None:
        """A copy of the current ``contextvars`` context, or None while flow is suppressed."""
        return capture_context()

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    suppress_flow = SuppressFlow
    restore_flow = RestoreFlow
    is_flow_suppressed = IsFlowSuppressed
    capture = Capture
    # -- end of PEP 8 spellings --
