"""``IAsyncResult`` and the operation object behind every asynchronous call.

One object per operation is both the engine's unit of work and the
``IAsyncResult`` the caller gets back, so a ``Begin...`` call allocates
exactly one small ``__slots__`` object.  It completes exactly once: the
first ``_complete``/``_abort`` wins, which is what makes "every callback runs
once" hold even when a close races with the engine.
"""

from __future__ import annotations

import contextvars
import os
import threading
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import _accel, execution_context
from ._engine.dispatch import dispatcher, report_exception
from ._names import dotnet_names
from .exceptions import ArgumentException
from .execution_context import capture_context
from .waithandles import ManualResetEvent, WaitHandle, _wait_until

if TYPE_CHECKING:
    from ._engine.opqueue import OpQueue, Waiter

__all__ = ["IAsyncResult", "AsyncCallback", "AsyncOperation", "ABORTED"]

AsyncCallback = Callable[["IAsyncResult"], object]
"""Any callable taking the ``IAsyncResult``; its return value is ignored."""


@dotnet_names
class IAsyncResult(ABC):
    """The status of an asynchronous operation, as returned by every ``Begin...``."""

    __slots__ = ()

    @property
    @abstractmethod
    def AsyncState(self) -> Any:
        """The ``state`` object given to ``Begin...``."""

    @property
    @abstractmethod
    def AsyncWaitHandle(self) -> WaitHandle:
        """A ``WaitHandle`` signalled when the operation completes."""

    @property
    @abstractmethod
    def IsCompleted(self) -> bool:
        """True once the operation has completed (successfully or not)."""

    @property
    @abstractmethod
    def CompletedSynchronously(self) -> bool:
        """True when the operation finished inside the ``Begin...`` call itself."""

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    async_state = AsyncState
    async_wait_handle = AsyncWaitHandle
    is_completed = IsCompleted
    completed_synchronously = CompletedSynchronously
    # -- end of PEP 8 spellings --


class _Aborted:
    """Marker stored as the error of an operation aborted by ``Close``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "ABORTED"


ABORTED: Any = _Aborted()

_handle_lock = threading.Lock()


def _reset_after_fork() -> None:
    # Shared by every operation: if another thread held it at the fork, the child's first
    # AsyncWaitHandle would wait for that lock forever.
    global _handle_lock
    _handle_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)
_inline = threading.local()


def _run_inline(op: _PyOpCore) -> None:
    """Run a callback on the caller's thread without recursing.

    A callback that starts the next operation, which again completes at
    once, would otherwise nest one stack frame per operation: the stack
    overflows .NET 6+ users hit.  Nested completions are queued on this
    thread and run by the outermost call, in order.
    """
    pending: deque[_PyOpCore] | None = getattr(_inline, "pending", None)
    if pending is not None:
        pending.append(op)
        return
    pending = _inline.pending = deque((op,))
    try:
        while pending:
            pending.popleft()._run_callback()
    finally:
        _inline.pending = None
_post = dispatcher.post
_Context = contextvars.Context
_copy_context = contextvars.copy_context


class _PyOpCore(IAsyncResult):
    """What every operation is made of: its slots, and completing it exactly once.

    The pure-Python reference of the operation core.  When the accelerator
    is built, ``AsyncOperation`` derives from its compiled twin
    (``_speedups.OpCore``: the same slots, ``__init__``, ``_complete``,
    ``_abort`` and ``_run_callback``, with the same results) instead; the
    test suite runs both.
    """

    __slots__ = (
        "_io",
        "_callback",
        "_state",
        "_ctx",
        "_done",
        "_sync",
        "_ended",
        "_value",
        "_error",
        "_handle",
        "__weakref__",
    )

    _io: OpQueue
    _callback: AsyncCallback | None
    _state: Any
    _ctx: contextvars.Context | Waiter | None
    _done: bool
    _sync: bool
    _ended: bool
    _value: Any
    _error: Any
    _handle: ManualResetEvent | None

    def __init__(self, io: OpQueue, callback: AsyncCallback | None, state: Any) -> None:
        self._io = io
        self._callback = callback
        self._state = state
        # The callback's context; for an operation that waits on its own (a synchronous
        # call, an await), which has no callback, its Waiter (see _engine.opqueue).
        self._ctx = None
        if callback is not None:
            if not callable(callback):
                # Refused here, in Begin..., not later on a completion thread.
                raise ArgumentException("The callback must be callable.", "callback")
            if execution_context._suppressing_threads == 0:
                self._ctx = _copy_context()  # capture_context()'s common case, without the call
            else:
                # Flow suppressed: the callback runs in an empty context, as
                # .NET runs it with no ExecutionContext.
                self._ctx = capture_context() or _Context()
        self._done = False
        self._sync = False
        self._ended = False
        self._value = None
        self._error = None
        self._handle = None

    def _complete(self, synchronously: bool) -> None:
        """Complete once: the first ``_complete`` or ``_abort`` wins."""
        if self._done:
            return
        self._sync = synchronously
        self._done = True
        h = self._handle
        if h is not None:
            h._set_even_if_disposed()
        if self._callback is not None:
            if synchronously and self._io.inline:
                _run_inline(self)
            else:
                _post(self)

    def _abort(self) -> None:
        """Complete as aborted (a close), unless already complete."""
        if not self._done:
            self._error = ABORTED
            self._complete(False)

    def _run_callback(self) -> None:
        """Run the callback in its context; what it raises is reported."""
        # Only operations with a callback are posted, and those always have a context.
        try:
            self._ctx.run(self._callback, self)  # type: ignore[union-attr,arg-type]
        except BaseException as exc:  # noqa: BLE001 - reported, never lost
            report_exception(exc)


if TYPE_CHECKING:
    _OpCore = _PyOpCore
else:
    _OpCore = _accel.op_core(_PyOpCore, _post, report_exception, ArgumentException, ABORTED, execution_context)
    if _OpCore is not _PyOpCore:
        IAsyncResult.register(_OpCore)  # as _PyOpCore is one
        # One trampoline per thread for both cores: a Python-side completion nested in a
        # compiled one (or the reverse) joins the same queue.
        _run_inline = _accel.run_inline()


@dotnet_names
class AsyncOperation(_OpCore, IAsyncResult):
    """Base of every operation kind; subclasses implement :meth:`attempt`.

    Its core (slots, ``__init__``, ``_complete``, ``_abort``, ``_run_callback``) is
    ``_PyOpCore`` or, when the accelerator is built, its compiled twin.
    """

    __slots__ = ()

    # The End... method that may consume this kind of result.
    end_method = ""
    # Which queued neighbours it may share one system call with (``_engine.batch``); 0: none.
    batch_kind = 0

    # -- engine side ------------------------------------------------------
    def attempt(self) -> bool:
        """Try the system call once: True when finished (result or error set), False on would-block."""
        raise NotImplementedError

    def _wait(self, timeout_ms: int = -1) -> bool:
        """Wait for the completion; False if ``timeout_ms`` elapsed first.

        Not ``AsyncWaitHandle.WaitOne``: the caller may have closed, set or
        reset that handle, and an ``End...`` must still wait for the real
        completion (.NET ignores a disposed handle there too).
        """
        if self._done:
            return True
        return _wait_until(self.AsyncWaitHandle, self._is_done, timeout_ms)

    def _is_done(self) -> bool:
        return self._done

    # -- IAsyncResult -----------------------------------------------------
    @property
    def AsyncState(self) -> Any:
        return self._state

    @property
    def AsyncWaitHandle(self) -> WaitHandle:
        h = self._handle
        if h is None:
            with _handle_lock:
                h = self._handle
                if h is None:
                    h = ManualResetEvent(False)
                    self._handle = h
            # The completer sets _done before it reads _handle; we stored
            # _handle before reading _done: one of us sees the other.
            if self._done:
                h._set_even_if_disposed()  # another thread may already have closed it
        return h

    @property
    def IsCompleted(self) -> bool:
        return self._done

    @property
    def CompletedSynchronously(self) -> bool:
        return self._sync

    def __repr__(self) -> str:
        state = "completed" if self._done else "pending"
        return f"<{type(self).__name__} {state}>"

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    async_state = AsyncState
    async_wait_handle = AsyncWaitHandle
    is_completed = IsCompleted
    completed_synchronously = CompletedSynchronously
    # -- end of PEP 8 spellings --
