"""How a synchronous call waits: in the kernel, on its caller's thread.

A ``Receive`` that would block does not hand its operation to the engine
thread and sleep on an event that thread sets (two thread wake-ups and a
GIL hand-off per wait).  Its operation joins the socket's queue like any
other, so start order across models holds; when it is the head of its
queue (nothing of another model started before it), it is *parked* there
(:class:`~dotnet_sockets._engine.opqueue.Waiter`) and its thread ``poll``s
the descriptor with the time left, then makes the call itself when the
descriptor is ready, as .NET does on Linux and as a blocking Python socket
does.  A call queued behind operations of other models is served like them,
by the engine, and its thread waits on the operation's wait handle.

``Close`` from another thread must end that wait at once.  As .NET on Linux
does for a thread blocked in a socket call, the close shuts the socket down
(only when such a waiter is parked on it) before closing the descriptor:
that wakes the ``poll`` (``POLLHUP``), and the waiter finds its operation
aborted.  No descriptor is opened for the wait.
"""

from __future__ import annotations

import select
import threading
import time
from typing import TYPE_CHECKING

from .opqueue import Waiter

if TYPE_CHECKING:
    from ..asyncresult import AsyncOperation
    from .opqueue import OpQueue

__all__ = ["ThreadWaiter", "thread_waiter", "wait", "waiters"]

_POLLIN = select.POLLIN
_POLLOUT = select.POLLOUT
_monotonic = time.monotonic


class ThreadWaiter(Waiter):
    """A thread that polls the descriptor of the operation parked for it."""

    __slots__ = ("poller", "fd", "mask")

    # Waits on its own only when it can be parked at once; queued behind
    # others, its operation is an ordinary one (see OpQueue.enqueue).
    parks_only = True
    # Woken by the close's shutdown of the descriptor it polls.
    polls_descriptor = True

    def __init__(self) -> None:
        self.poller = select.poll()
        # What the poller watches: left registered between waits (a poll object holds numbers,
        # no kernel state), so that a thread waiting on one socket again and again registers it once.
        self.fd = -1
        self.mask = 0

    def watch(self, fd: int, mask: int) -> None:
        """Have the poller watch ``fd`` (its number now) for ``mask``, and nothing else."""
        if fd != self.fd:
            if self.fd >= 0:
                self.poller.unregister(self.fd)
            self.fd = -1  # (as good as unregistered, should the next line raise)
        elif mask == self.mask:
            return
        self.poller.register(fd, mask)
        self.fd = fd
        self.mask = mask

    def wake(self) -> None:
        pass  # never handed a turn (parks_only); a close wakes it through the descriptor


# Each thread's waiter, as its attribute ``waiter`` once made: a hot caller reads
# ``waiters.waiter`` itself and calls thread_waiter() only when that is missing.
waiters = threading.local()


def thread_waiter() -> ThreadWaiter:
    """The calling thread's waiter (dropped with the thread)."""
    try:
        w: ThreadWaiter = waiters.waiter
    except AttributeError:
        w = waiters.waiter = ThreadWaiter()
    return w


def wait(io: OpQueue, op: AsyncOperation, timeout_ms: int) -> bool:
    """Wait on this thread for a started ``op`` of a synchronous call to finish.

    True when it finished (or was aborted by a close); False when
    ``timeout_ms`` (> 0; otherwise no limit) ran out first, in which case the
    operation has been withdrawn from the queue.  Whatever interrupts the
    wait (``KeyboardInterrupt``) withdraws it too, and is raised.
    """
    w = op._ctx
    if type(w) is not ThreadWaiter:  # (no subclasses: the check costs no call)
        return _wait_on_handle(io, op, timeout_ms)
    poller = w.poller
    fd = io.fd
    deadline = _monotonic() + timeout_ms / 1000 if timeout_ms > 0 else 0.0
    ms = timeout_ms if timeout_ms > 0 else -1  # the first poll's: the whole time
    # Its start has just tried the call: poll before the next try.
    polled = False
    try:
        while True:
            if op._done:
                return True
            if op is io.rpark:
                mask = _POLLIN
                if polled and io.retry_parked(op, False):
                    continue  # finished, or went on to a next step of its own
            elif op is io.wpark:
                mask = _POLLOUT
                if polled and io.retry_parked(op, True):
                    continue
            else:
                return _wait_on_handle(io, op, timeout_ms)  # not parked: served by the engine
            if polled and deadline:
                left = deadline - _monotonic()
                if left <= 0:
                    if io.cancel(op):
                        return False
                    continue  # it finished meanwhile
                ms = int(left * 1000) + 1
            polled = True
            if fd != w.fd or mask != w.mask:  # (watching it already: most waits)
                w.watch(fd, mask)
            poller.poll(ms)
    except BaseException:
        io.cancel(op)
        raise


def _wait_on_handle(io: OpQueue, op: AsyncOperation, timeout_ms: int) -> bool:
    """A synchronous call queued behind other models' operations: the engine serves it."""
    try:
        finished = op._wait(timeout_ms if timeout_ms > 0 else -1)
    except BaseException:
        # Interrupted (Ctrl-C): withdraw it, or the next datagram would go to a call nobody waits for.
        io.cancel(op)
        raise
    if not finished:
        if io.cancel(op):
            return False
        op._wait(-1)
    return True
