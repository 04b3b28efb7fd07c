"""How a synchronous call waits: in the kernel, on its caller's thread.

A ``Receive`` that would block does not hand its operation to the engine
thread and sleep on an event that thread sets (two thread wake-ups and a
GIL hand-off per wait).  Its operation joins the socket's queue like any
other, so start order across models holds, but it waits on its own
(:class:`~dotnet_sockets._engine.opqueue.Waiter`): once it is the parked
head of its queue, its thread ``poll``s the descriptor with the time left,
and makes the call itself when the descriptor is ready, as .NET does on
Linux and as a blocking Python socket does.

``Close`` from another thread must end that wait at once.  A thread that
waits opens an eventfd that it polls beside the socket (trio's
``notify_closing`` idea): a close aborts the operation, then writes to it.
The same eventfd tells a call queued behind operations of other models that
its turn has come.  It is closed when the wait ends, so that no descriptor
outlives the call (a long-lived thread such as a completion worker would
otherwise hold one for good), and a lock keeps a late wake-up from ever
writing to that number once it is closed.
"""

from __future__ import annotations

import os
import select
import threading
import time
from typing import TYPE_CHECKING

from .opqueue import Waiter

if TYPE_CHECKING:
    from ..asyncresult import AsyncOperation
    from .opqueue import OpQueue

__all__ = ["ThreadWaiter", "thread_waiter", "wait"]

_POLLIN = select.POLLIN
_POLLOUT = select.POLLOUT
_monotonic = time.monotonic


class ThreadWaiter(Waiter):
    """One thread's way of being woken while it polls: an eventfd, open while it waits."""

    __slots__ = ("efd", "poller", "lock")

    def __init__(self) -> None:
        self.efd = -1
        self.poller = select.poll()
        self.lock = threading.Lock()

    def open(self) -> None:
        """On the owning thread, before it polls.  A close that found no eventfd has already
        aborted the operation, which the waiter looks at after this."""
        efd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        self.poller.register(efd, _POLLIN)
        self.efd = efd

    def shut(self) -> None:
        """On the owning thread, when its wait ends."""
        with self.lock:
            efd = self.efd
            self.efd = -1
        if efd >= 0:
            self.poller.unregister(efd)
            os.close(efd)

    def wake(self) -> None:
        with self.lock:
            efd = self.efd
            if efd >= 0:
                try:
                    os.eventfd_write(efd, 1)
                except OSError:
                    pass  # the counter is full: the thread is awake anyway

    def drained(self) -> None:
        try:
            os.eventfd_read(self.efd)
        except OSError:
            pass


_local = threading.local()


def thread_waiter() -> ThreadWaiter:
    """The calling thread's waiter (dropped, and its eventfd closed, when the thread ends)."""
    try:
        w: ThreadWaiter = _local.waiter
    except AttributeError:
        w = _local.waiter = ThreadWaiter()
    return w


def _forget_after_fork() -> None:
    # A fresh waiter (and lock) for the forking thread: the parent's other
    # threads, which might have held its lock, do not exist in the child.
    _local.__dict__.pop("waiter", None)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)


def wait(io: OpQueue, op: AsyncOperation, timeout_ms: int) -> bool:
    """Wait on this thread for ``op`` (started, its ``_ctx`` this thread's waiter) to finish.

    True when it finished (or was aborted by a close); False when
    ``timeout_ms`` (> 0; otherwise no limit) ran out first, in which case the
    operation has been withdrawn from the queue.  Whatever interrupts the
    wait (``KeyboardInterrupt``) withdraws it too, and is raised.
    """
    w = op._ctx
    assert isinstance(w, ThreadWaiter)
    poller = w.poller
    fd = io.fd
    deadline = _monotonic() + timeout_ms / 1000 if timeout_ms > 0 else 0.0
    # Its start has just tried the call: poll before the next try.
    polled = False
    try:
        w.open()
        while True:
            if op._done:
                return True
            # Parked: this thread watches the descriptor; queued behind others: only its eventfd.
            if op is io.rpark:
                mask = _POLLIN
                if polled and io.retry_parked(op, False):
                    continue  # finished, or went on to a next step of its own
            elif op is io.wpark:
                mask = _POLLOUT
                if polled and io.retry_parked(op, True):
                    continue
            else:
                mask = 0
            polled = True
            if deadline:
                left = deadline - _monotonic()
                if left <= 0:
                    if io.cancel(op):
                        return False
                    continue  # it finished meanwhile
                ms = int(left * 1000) + 1
            else:
                ms = -1
            if mask:
                poller.register(fd, mask)
            try:
                events = poller.poll(ms)
            finally:
                if mask:
                    try:
                        poller.unregister(fd)
                    except KeyError:
                        pass
            for f, _ in events:
                if f == w.efd:
                    w.drained()
    except BaseException:
        io.cancel(op)
        raise
    finally:
        w.shut()
