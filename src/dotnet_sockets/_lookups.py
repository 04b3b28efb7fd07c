"""A small bounded pool of threads for blocking name lookups (``getaddrinfo``, ``getnameinfo``).

The system resolver has no non-blocking interface, so the asynchronous forms of ``Dns`` and
of a connect to a host name run their lookup here, off the caller's thread: at most
``_MAX_WORKERS`` threads, started when work arrives and kept (as daemons) for the next
lookup, never one thread per call.  A lookup nobody waits for any more is skipped if it has
not started; one that has started runs to its end and its result is dropped.
"""

from __future__ import annotations

import asyncio
import os
import queue
import threading
from collections.abc import Callable
from typing import Any

from ._engine.dispatch import report_exception

__all__ = ["HostLookup", "Lookup", "run", "submit"]

_MAX_WORKERS = 4

Done = Callable[[Any, BaseException | None], None]


class Lookup:
    """One queued lookup: ``work()`` runs on a pool thread, then ``done(result, error)`` there too."""

    __slots__ = ("work", "done", "cancelled")

    def __init__(self, work: Callable[[], Any], done: Done) -> None:
        self.work = work
        self.done = done
        self.cancelled = False

    def cancel(self) -> None:
        """Skip the lookup if it has not started (``done`` is then never called)."""
        self.cancelled = True

    def run(self) -> None:
        if self.cancelled:
            return
        try:
            result = self.work()
        except BaseException as exc:  # noqa: BLE001 - handed to done, which reports it
            self.done(None, exc)
        else:
            self.done(result, None)


class _Pool:
    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Lookup] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._workers = 0
        self._idle = 0

    def submit(self, work: Callable[[], Any], done: Done) -> Lookup:
        job = Lookup(work, done)
        with self._lock:
            # _idle is idle workers minus queued lookups nobody has started a worker for.
            start = self._idle <= 0 and self._workers < _MAX_WORKERS
            if start:
                self._workers += 1
            else:
                self._idle -= 1
        if start:
            threading.Thread(target=self._run, name="dotnet_sockets-lookup", daemon=True).start()
        self._queue.put(job)
        return job

    def _run(self) -> None:
        get = self._queue.get
        while True:
            job = get()
            try:
                job.run()
            except BaseException as exc:  # noqa: BLE001 - a failing done() must not kill the worker
                report_exception(exc)
            with self._lock:
                self._idle += 1

    def _reset_after_fork(self) -> None:
        # The workers did not survive the fork; queued lookups belonged to the parent.
        self.__init__()  # type: ignore[misc]


_pool = _Pool()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_pool._reset_after_fork)


def submit(work: Callable[[], Any], done: Done) -> Lookup:
    """Run ``work()`` on a pool thread, then ``done(result, None)`` or ``done(None, error)`` there."""
    return _pool.submit(work, done)


async def run(work: Callable[[], Any]) -> Any:
    """Await ``work()`` run on a pool thread, from a running asyncio loop (the loop never blocks).

    Cancelling the awaiting task skips the lookup if it has not started, or drops its result.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()

    def settle(result: Any, error: BaseException | None) -> None:
        if not future.done():
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)

    def done(result: Any, error: BaseException | None) -> None:
        try:
            loop.call_soon_threadsafe(settle, result, error)
        except RuntimeError:  # the loop is closed: nobody is waiting
            pass

    job = submit(work, done)
    try:
        return await future
    finally:
        job.cancel()


class HostLookup:
    """A host name an asynchronous connect resolves first, on the lookup pool (not in ``Begin…``).

    ``event`` is the audit event its endpoints are judged under once they are known.
    """

    __slots__ = ("host", "port", "event")

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.event = "dotnet_sockets.Socket.BeginConnect"
