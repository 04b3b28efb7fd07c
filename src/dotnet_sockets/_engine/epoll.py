"""The epoll set, its thread, and the completion worker that may hold its watch.

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

The engine thread never runs user code: it retries queued system calls and
hands finished operations to the completion workers.

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

That alone leaves a race: the readiness a callback creates wakes whoever
waits in ``epoll_wait``, and each hand-off also moves the GIL between the
CPUs.  So nobody waits in the set while a worker is awake: this thread
*guards* instead (``_guard``), waiting on a lock for ``_STANDBY_SECONDS`` at
a time, and the kernel has nobody to wake; the worker collects every
report itself (it comes back every ``dispatch._PASS`` completions even when
its queue does not run dry: many connections keep this thread aside too).
A worker that stops coming back (a long or blocking callback) sends this
thread to the set within two periods, so no report waits longer than that
for a thread.

When every worker is idle, the report that ends the wait used to cost two
wake-ups: this thread's, then (with the completion it posted) a worker's.
The last worker to go idle therefore holds the watch itself (leader and
followers): it waits in ``epoll_wait`` (``hold``), serves what it gets,
and the completions land in the queue it drains next: one wake-up from
readiness to callback, which is what asyncio's one thread gets.  A
completion posted by another thread meanwhile rings an eventfd in the set
(``ring``, only while a worker holds the watch and none is awake), so the
holder wakes to run it, instead of a second worker whose callbacks'
readiness would wake the holder anyway.  Only the holder reads that
eventfd (its count says the holder was already counted awake), so nobody
else can swallow its wake-up; level triggering keeps it visible to the
holder.

While a worker holds the watch, this thread waits off the set.  It stays
in its timed guard while the holder keeps coming back (an exchange with
short pauses: the holder is woken for each step, and must not have to
wake this thread too), and once a whole period passes without any worker
serving it *parks* (an untimed wait): an idle process makes no periodic
wake-ups.  A holder that wakes while this thread is parked wakes it
(``leave``), off its own path: someone must guard while the
holder's callbacks run, since one of them may block.
"""

from __future__ import annotations

import os
import select
import threading
from collections import deque
from collections.abc import Callable
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

# How long the engine thread guards at a time, before it checks that an
# awake worker still polls; two periods bound the extra delay of a report
# when that worker gets stuck in a callback.  Each period costs one wake-up
# of this thread (and a GIL hand-off) while a worker is awake, so shorter
# costs throughput.  A whole period without any worker polling, while a
# worker holds the watch, lets this thread park.
_STANDBY_SECONDS = 0.002

# Who waits in epoll_wait on the set (Engine._holder): at most one thread at a time.
_NOBODY = 0
_ENGINE = 1
_WORKER = 2


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


class _Bell:
    """The eventfd a post rings to wake the worker holding the watch (``Engine.ring``).

    Level-triggered and read only by that worker (``Engine.hold``): a
    ``serve_ready`` poll that sees it leaves it alone.
    """

    __slots__ = ("fd",)

    def __init__(self) -> None:
        self.fd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)

    def on_ready(self, readable: bool, writable: bool) -> None:
        pass

    def clear(self) -> None:
        try:
            os.eventfd_read(self.fd)
        except BlockingIOError:
            pass


class Engine:
    """Owner of the epoll set and of the thread that waits on it."""

    def __init__(self) -> None:
        self._ep = select.epoll()
        self._regs: dict[int, _Ready] = {}
        self._reaper = _Reaper()
        self._regs[self._reaper.fd] = self._reaper
        self._ep.register(self._reaper.fd, select.EPOLLIN)
        self._bell = _Bell()
        self._regs[self._bell.fd] = self._bell
        self._ep.register(self._bell.fd, select.EPOLLIN)
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        # Held while a batch of reports is served (by this thread, or by a
        # completion worker in serve_ready): one batch at a time keeps the
        # completions of a queue in the order its operations finished.
        self._serving = threading.Lock()
        # Bumped by each serve_ready poll: this thread stays off the set while it moves.
        self._cycles = 0
        # _holder and _parked change together under it (take, leave, _enter_set, _park).
        self._watch_lock = threading.Lock()
        self._holder = _NOBODY
        # True while this thread waits untimed on _wake, a worker holding the watch.
        self._parked = False
        # Held except while a worker that leaves the watch wakes this thread from its park.
        self._wake = threading.Lock()
        self._wake.acquire()

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
            if not self._enter_set(gave_up):
                # Workers are awake, or one holds the watch: stay off the set.
                gave_up = self._cycles if self._guard() else -1
                continue
            try:
                events = poll(-1, 1024)
            except (OSError, ValueError):
                # The epoll object was closed under us (fork child reset).
                return
            finally:
                with self._watch_lock:
                    self._holder = _NOBODY
            if not dispatcher._active:
                # The stuck workers went idle: a worker this batch wakes starts afresh,
                # and holds the watch once it runs dry.
                gave_up = -1
            if events:
                with serving:
                    serve(events)

    def _enter_set(self, gave_up: int) -> bool:
        """Take the watch for this thread, unless a worker holds it or awake workers still poll.

        Awake workers that stopped polling last time (``gave_up``, a long
        queue or callback) and have not polled since leave it to this thread.
        """
        with self._watch_lock:
            if self._holder != _NOBODY or (dispatcher._active and self._cycles != gave_up):
                return False
            self._holder = _ENGINE
            return True

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
        # when it must see that a worker keeps coming back, and stay off the set.
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

    def _guard(self) -> bool:
        """Wait off the epoll set while workers keep polling it or a worker holds the watch.

        True when the wait ended because awake workers stopped polling for
        a whole period (stuck in a callback, or a queue that does not run
        dry); False when nobody is awake and nobody holds the watch: the set
        is this thread's again.  Parks (waits untimed) once a worker holds
        the watch and a whole period went by without any worker polling.
        """
        wake = self._wake
        while True:
            seen = self._cycles
            wake.acquire(timeout=_STANDBY_SECONDS)
            if dispatcher._active:
                if self._cycles == seen:
                    return True
                continue
            if self._holder != _WORKER:
                return False
            if self._cycles == seen:
                self._park()

    def _park(self) -> None:
        with self._watch_lock:
            if self._holder != _WORKER:
                return
            self._parked = True
        # Released by the worker that leaves the watch (leave), maybe already.
        self._wake.acquire()

    def leave(self) -> None:
        """The holding worker woke, or found work after ``take``: nobody waits in the set now,
        and this thread must guard."""
        with self._watch_lock:
            self._holder = _NOBODY
            if self._parked:
                self._parked = False
                self._wake.release()

    # -- the watch held by a completion worker (dispatch.Watch) --------------------------------

    def take(self) -> bool:
        """Called with the dispatcher's lock held by the last worker awake, about to go idle: True
        when the watch is now that worker's, to wait for readiness in ``hold`` rather than on its
        lock (or to ``leave`` at once if it finds work after all)."""
        if self._thread is None:
            return False  # nothing armed yet: the engine thread takes the set when it starts
        with self._watch_lock:
            if self._holder != _NOBODY:
                return False  # this thread is in the set (workers got stuck): it keeps it
            self._holder = _WORKER
            return True

    def ring(self) -> None:
        """Called with the dispatcher's lock held: wake the worker holding the watch (a completion
        was posted while no worker is awake).  That worker is already counted awake."""
        try:
            os.eventfd_write(self._bell.fd, 1)
        except OSError:
            pass  # the counter is full: a ring is pending anyway

    def hold(self, claim: Callable[[], bool]) -> None:
        """The watch holder's wait: until readiness or a ring, then serve what came, on this worker.

        ``claim()`` counts the worker awake again (False) or says that the
        ring that woke it already did (True), and comes before serving, so
        that the completions served here wake nobody else.
        """
        try:
            events = self._ep.poll(-1, 1024)
        except (OSError, ValueError):
            events = []  # the set was closed (a fork child's reset): go back to the queue
        try:
            if claim():
                self._bell.clear()
        finally:
            self.leave()
        if events:
            serving = self._serving
            with serving:
                self._serve(events)

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
        self._watch_lock = threading.Lock()
        self._holder = _NOBODY
        self._parked = False
        self._wake = threading.Lock()
        self._wake.acquire()
        reaper = self._reaper
        bell = self._bell
        queues = [cast("OpQueue", q) for q in self._regs.values() if q is not reaper and q is not bell]
        # The eventfd is shared with the parent too: a wake-up there must not land here.
        os.close(reaper.fd)
        reaper.fd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        os.close(bell.fd)
        bell.fd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        self._regs = {reaper.fd: reaper, bell.fd: bell}
        self._ep.register(reaper.fd, select.EPOLLIN)
        self._ep.register(bell.fd, select.EPOLLIN)
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
        if len(self._regs) > 2 or self._reaper.orphans:
            self._start()


engine = Engine()
dispatcher.before_idle = engine.serve_ready
dispatcher.watch = engine

if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=engine._reset_after_fork)
