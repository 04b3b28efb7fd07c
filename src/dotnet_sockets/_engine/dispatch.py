"""Completion workers: the threads on which user callbacks run.

The cost to beat is the hand-off between threads under the GIL, not the
system call.  So: one shared deque that producers append to without a lock;
a worker is woken only when no worker is awake to drain it; an awake worker
drains everything before it sleeps.  A callback that starts the next
operation (the classic Begin-in-callback chain) therefore never causes a
thread switch: its completion lands in the deque the same worker is
draining.

A second worker exists for callbacks that block: when the awake worker has
been inside one callback for longer than ``_STALL_SECONDS`` and more work
arrives, a sleeping worker is woken to drain the rest.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import deque
from typing import Any, Protocol

__all__ = ["Completion", "Dispatcher", "dispatcher", "report_exception"]


class Completion(Protocol):
    """A finished operation: its callback runs as ``_ctx.run(_callback, self)``."""

    _ctx: Any
    _callback: Any

_STALL_SECONDS = 0.02


def _default_workers() -> int:
    raw = os.environ.get("DOTNET_SOCKETS_COMPLETION_THREADS", "")
    try:
        n = int(raw)
    except ValueError:
        n = 2
    return max(1, min(n, 64))


def report_exception(exc: BaseException) -> None:
    """Report an exception that escaped user code without stopping the engine.

    .NET would crash the process for an exception escaping a thread-pool
    callback; Python's convention is ``threading.excepthook``, which by
    default prints the traceback and lets the thread go on.
    """
    try:
        args = threading.ExceptHookArgs([type(exc), exc, exc.__traceback__, threading.current_thread()])
        threading.excepthook(args)
    except BaseException:  # noqa: BLE001 - a broken hook must not kill the worker
        try:
            sys.__excepthook__(type(exc), exc, exc.__traceback__)
        except BaseException:  # noqa: BLE001
            pass


class Dispatcher:
    """A small fixed pool of daemon threads that run completion work items.

    Items are completions: objects whose callback runs as
    ``item._ctx.run(item._callback, item)``; what it raises is reported.  Posting
    the object itself, not a ``(function, argument)`` pair, saves an
    allocation per completion on the hottest path of the library.
    """

    __slots__ = (
        "_q",
        "_idle",
        "_active",
        "_lock",
        "_threads",
        "_max",
        "_current",
        "_seen",
        "_seen_at",
        "_pid",
        "__weakref__",
    )

    def __init__(self, workers: int | None = None) -> None:
        self._q: deque[Completion] = deque()
        self._idle: list[threading.Lock] = []
        self._active = 0
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._max = workers if workers is not None else _default_workers()
        self._current: object = None
        self._seen: object = None
        self._seen_at: float | None = None
        self._pid = os.getpid()

    def post(self, item: Completion) -> None:
        """Queue ``item``'s callback to run on a completion thread."""
        self._q.append(item)
        if self._active:
            # Someone is draining; only a callback stuck for a while justifies
            # waking a second worker (and the thread switches that follow).
            # The clock is read only from the second post made while one
            # item keeps running: a chain of callbacks that each post once
            # never pays for it.
            cur = self._current
            if cur is not self._seen:
                self._seen = cur
                self._seen_at = None
            elif self._seen_at is None:
                self._seen_at = time.monotonic()
            elif time.monotonic() - self._seen_at > _STALL_SECONDS:
                if self._idle:
                    self._wake_one()
                elif len(self._threads) < self._max:
                    self._spawn()
            return
        if self._idle:
            self._wake_one()
        elif len(self._threads) < self._max:
            self._spawn()

    def _wake_one(self) -> None:
        with self._lock:
            if self._idle:
                self._active += 1
                self._idle.pop().release()

    def _spawn(self) -> None:
        with self._lock:
            if len(self._threads) >= self._max:
                return
            self._active += 1
            t = threading.Thread(
                target=self._run,
                name=f"dotnet-sockets completion {len(self._threads) + 1}",
                daemon=True,
            )
            self._threads.append(t)
        t.start()

    def _run(self) -> None:
        q = self._q
        popleft = q.popleft
        me = threading.Lock()
        me.acquire()
        while True:
            while True:
                try:
                    item = popleft()
                except IndexError:
                    break
                self._current = item
                # Inlined AsyncOperation._run_callback: one frame less per completion.
                try:
                    item._ctx.run(item._callback, item)
                except BaseException as exc:  # noqa: BLE001 - reported, never lost
                    report_exception(exc)
            # Register as idle *before* the last look at the queue, so that a
            # producer that appends after that look is sure to see us idle.
            with self._lock:
                self._active -= 1
                self._idle.append(me)
                if q:
                    self._idle.remove(me)
                    self._active += 1
                    continue
            me.acquire()

    @property
    def thread_count(self) -> int:
        return len(self._threads)

    def _reset_after_fork(self) -> None:
        # Threads do not survive fork; the child starts with a fresh pool and
        # keeps the queued items (their completions still have to run once).
        self._idle = []
        self._active = 0
        self._lock = threading.Lock()
        self._threads = []
        self._pid = os.getpid()
        if self._q:
            self._spawn()


dispatcher = Dispatcher()

if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=dispatcher._reset_after_fork)
