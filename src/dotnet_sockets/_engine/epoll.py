"""The one readiness thread.

Kernel facts behind the choices here:

* epoll is *level* triggered and *one-shot* as used here.  An operation is
  queued only after its system call said "would block"; arming the interest
  afterwards cannot miss an edge, because a level-triggered epoll reports a
  descriptor that is already ready the moment it is armed.  One-shot means
  a report disarms the descriptor, so the engine re-arms it (one
  ``epoll_ctl``) only while operations are still queued, and a descriptor
  with nothing queued never reports again: no register/unregister pair per
  operation, and no spinning on a hung-up stream (EPOLLERR and EPOLLHUP are
  disarmed too).
* ``epoll_ctl`` is thread-safe and wakes a concurrent ``epoll_wait``, so
  callers arm their own descriptors; no wake-up pipe or command queue is
  needed to add work.
* A descriptor is removed before it is closed (``OpQueue.close``), so its
  number can be reused safely; an event that raced with the removal finds
  either no owner or a new owner, whose operations simply see "would block".

This thread never runs user code: it retries queued system calls and hands
finished operations to the completion workers.

A completion worker that runs out of completions serves whatever is ready
at that moment itself before it sleeps (``Engine.serve_ready``, a
``poll(0)``).  Without it, a callback that makes another local socket ready
(an echo, a proxy, two peers in one process) costs two thread wake-ups per
step: this thread is woken for the readiness, then wakes the worker that
had gone to sleep meanwhile.  When the two threads sit on different CPUs
each wake-up is a cross-CPU one (tens of microseconds on a virtual machine
whose idle CPUs halt), and that hand-off, not the system calls, set the
speed of a TCP echo.  One-shot arming gives each report to one thread
only, and one lock (``_serving``) lets one batch of reports be served at a
time, so the completions of a queue are still posted in order.

That alone leaves a race: the readiness a callback creates wakes this
thread too (it is the one waiting in ``epoll_wait``), and when this thread
wins, the worker has gone to sleep and must be woken again; each hand-off
also moves the GIL between the CPUs.  So when this thread serves a batch
while a worker is awake (an exchange in progress), it then stands aside
for as long as that worker keeps coming back to ``serve_ready``: it waits
on a lock instead of the epoll set (``_stand_by``), so the kernel has
nobody to wake and the worker collects every report itself (a worker
comes back every ``dispatch._PASS`` completions even when its queue does
not run dry: many connections keep the engine thread aside too).  The
last worker to go to sleep wakes it (``worker_sleeps``); workers that
stop coming back (a long or blocking callback) send it back to the epoll
set within two ``_STANDBY_SECONDS`` periods, so no report waits longer
than that for a thread.
"""

from __future__ import annotations

import os
import select
import threading
from collections import deque
from typing import TYPE_CHECKING, Protocol, cast

from .dispatch import dispatcher, report_exception

if TYPE_CHECKING:
    from .opqueue import OpQueue

__all__ = ["Engine", "engine", "EPOLLIN", "EPOLLOUT"]

EPOLLIN = select.EPOLLIN
EPOLLOUT = select.EPOLLOUT
_READABLE = select.EPOLLIN | select.EPOLLERR | select.EPOLLHUP | select.EPOLLPRI
_WRITABLE = select.EPOLLOUT | select.EPOLLERR | select.EPOLLHUP
_ONESHOT = select.EPOLLONESHOT

# How long the engine thread stands aside at a time, before it checks that
# a worker still polls; two periods bound the extra delay of a report when
# that worker gets stuck in a callback.  Each period costs one wake-up of
# this thread (and a GIL hand-off), so shorter costs throughput.
_STANDBY_SECONDS = 0.002


class _Ready(Protocol):
    def on_ready(self, readable: bool, writable: bool) -> None: ...


class _Reaper:
    """Closes the queues finalizers hand over (``OpQueue.close_from_finalizer``).

    A finalizer may run on any thread, holding any lock, so it only appends
    to a deque (no lock) and writes the eventfd (a system call); this
    thread, or a worker serving readiness, does the closing.
    """

    __slots__ = ("fd", "orphans")

    def __init__(self) -> None:
        self.fd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        self.orphans: deque[OpQueue] = deque()

    def on_ready(self, readable: bool, writable: bool) -> None:
        try:
            os.eventfd_read(self.fd)
        except BlockingIOError:
            pass  # another thread of this batch read it
        while True:
            try:
                q = self.orphans.popleft()
            except IndexError:
                return
            try:
                q.close()
            except Exception as exc:  # noqa: BLE001 - this thread serves every socket
                report_exception(exc)

    def wake(self) -> None:
        try:
            os.eventfd_write(self.fd, 1)
        except OSError:
            pass  # the counter is full: a wake-up is pending anyway


class Engine:
    """Owner of the epoll set and of the thread that waits on it."""

    def __init__(self) -> None:
        self._ep = select.epoll()
        self._regs: dict[int, _Ready] = {}
        self._reaper = _Reaper()
        self._regs[self._reaper.fd] = self._reaper
        self._ep.register(self._reaper.fd, select.EPOLLIN)
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        # Held while a batch of reports is served (by this thread, or by a
        # completion worker in serve_ready): one batch at a time keeps the
        # completions of a queue in the order its operations finished.
        self._serving = threading.Lock()
        # Bumped by each serve_ready poll: this thread stands aside while it moves.
        self._cycles = 0
        # Held except while a sleeping worker hands the watch back to this thread.
        self._wake = threading.Lock()
        self._wake.acquire()
        self._standing_by = False

    # Called with the queue's lock held.
    def arm(self, q: OpQueue, mask: int) -> None:
        """Arm a one-shot readiness interest ``mask`` (non-zero) for ``q``."""
        fd = q.fd
        if q.registered:
            self._ep.modify(fd, mask | _ONESHOT)
        else:
            self._regs[fd] = q
            try:
                self._ep.register(fd, mask | _ONESHOT)
            except FileExistsError:
                # A stale registration of a reused descriptor number.
                self._ep.modify(fd, mask | _ONESHOT)
            q.registered = True
        if self._thread is None:
            self._start()

    # Called with the queue's lock held, before the descriptor is closed.
    def forget(self, q: OpQueue) -> None:
        if q.registered:
            q.registered = False
            if self._regs.get(q.fd) is q:
                del self._regs[q.fd]
            try:
                self._ep.unregister(q.fd)
            except OSError:
                pass

    def close_later(self, q: OpQueue) -> None:
        """Have this thread close ``q``: what a finalizer may do (it takes no lock)."""
        self._reaper.orphans.append(q)
        self._reaper.wake()

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                t = threading.Thread(target=self._run, name="dotnet-sockets epoll", daemon=True)
                self._thread = t
                t.start()

    def _run(self) -> None:
        poll = self._ep.poll
        serving = self._serving
        serve = self._serve
        gave_up = -1
        while True:
            try:
                events = poll(-1, 1024)
            except InterruptedError:
                continue
            except (OSError, ValueError):
                # The epoll object was closed under us (fork child reset).
                return
            if events:
                busy = dispatcher._active
                with serving:
                    serve(events)
                # A worker that was already awake polls before it sleeps:
                # it takes the next reports itself, unless it stopped
                # polling last time and has not polled since (a long
                # queue, a long callback).  A worker this batch woke says
                # nothing of an exchange under way.
                if busy and dispatcher._active and self._cycles != gave_up:
                    gave_up = self._cycles if self._stand_by() else -1

    def _serve(self, events: list[tuple[int, int]]) -> None:
        regs = self._regs
        for fd, ev in events:
            q = regs.get(fd)
            if q is not None:
                try:
                    q.on_ready(ev & _READABLE != 0, ev & _WRITABLE != 0)
                except Exception as exc:  # noqa: BLE001 - this thread serves every socket
                    report_exception(exc)

    def serve_ready(self) -> None:
        """Serve the descriptors that are ready now, on the calling thread, without waiting.

        A completion worker calls this when it has run out of completions,
        before it goes to sleep.  A callback that starts the next operation
        on a peer in the same process (an echo, a proxy) has just made that
        operation's descriptor ready: serving it here finishes it on the
        worker, whose queue it then lands in, instead of a hand-off to this
        thread and back (two thread wake-ups, costly when the two threads
        run on different CPUs).  One-shot arming hands each report to one
        thread only; if this thread has a batch under way, it is left to it.
        """
        if self._thread is None:
            return
        # Counted even when the engine thread has a batch under way: that is
        # when it must see that a worker keeps coming back, and step aside.
        self._cycles += 1
        serving = self._serving  # the one acquired is the one released, even if a fork re-made it
        if not serving.acquire(False):
            return
        try:
            try:
                events = self._ep.poll(0, 1024)
            except (OSError, ValueError):
                return
            if events:
                self._serve(events)
        finally:
            serving.release()

    def _stand_by(self) -> bool:
        """Wait off the epoll set while a worker keeps polling it (see the module docstring).

        True when the wait ended because the workers stopped polling for a
        whole period (stuck in a callback, or a queue that does not run dry).
        """
        wake = self._wake
        stuck = False
        while True:
            seen = self._cycles
            self._standing_by = True
            # Set the flag, then look: a worker decrements _active, then
            # looks at the flag (worker_sleeps), so one of the two sees the other.
            if not dispatcher._active or wake.acquire(timeout=_STANDBY_SECONDS):
                break  # every worker sleeps: the watch is this thread's again
            if self._cycles == seen:
                stuck = True
                break
        self._standing_by = False
        return stuck

    def worker_sleeps(self) -> None:
        """A completion worker is going to sleep: if this thread stands aside, it takes the watch back."""
        if self._standing_by and not dispatcher._active:
            self._standing_by = False
            try:
                self._wake.release()
            except RuntimeError:
                pass  # another worker did it first

    @property
    def running(self) -> bool:
        return self._thread is not None

    def _reset_after_fork(self) -> None:
        # The child shares the parent's kernel epoll instance; it needs its
        # own, and its own thread, and its queues armed again there.
        old = self._ep
        self._ep = select.epoll()
        try:
            old.close()
        except OSError:
            pass
        self._thread = None
        self._start_lock = threading.Lock()
        self._serving = threading.Lock()
        self._wake = threading.Lock()
        self._wake.acquire()
        self._standing_by = False
        reaper = self._reaper
        queues = [cast("OpQueue", q) for q in self._regs.values() if q is not reaper]
        # The eventfd is shared with the parent too: a wake-up there must not land here.
        os.close(reaper.fd)
        reaper.fd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        self._regs = {reaper.fd: reaper}
        self._ep.register(reaper.fd, select.EPOLLIN)
        for q in queues:
            q._reset_after_fork()
            q.registered = False
            if q.mask:
                # Armed here, but the thread that serves them starts in _resume_after_fork.
                try:
                    self._ep.register(q.fd, q.mask | _ONESHOT)
                except OSError:
                    continue  # a descriptor closed behind our back: its operations wait for Close
                self._regs[q.fd] = q
                q.registered = True
        if reaper.orphans:
            reaper.wake()

    def _resume_after_fork(self) -> None:
        # Once every lock of the package is made anew: this thread completes operations,
        # and their callbacks may take any of them (registered last, by the package's __init__).
        if len(self._regs) > 1 or self._reaper.orphans:
            self._start()


engine = Engine()
dispatcher.before_idle = engine.serve_ready
dispatcher.before_sleep = engine.worker_sleeps

if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=engine._reset_after_fork)
