"""Completion workers: the threads on which user callbacks run.

The cost to beat is the hand-off between threads under the GIL, not the
system call.  So: one shared deque that producers append to without a lock;
a worker is woken only when no worker is awake to drain it; an awake worker
drains everything before it sleeps, serving the descriptors that are ready
(``before_idle``) after every ``_PASS`` completions and whenever the queue
runs dry, so that with many connections the readiness the callbacks create
is collected by the worker itself rather than by a wake-up of the engine
thread (see ``_engine.epoll``).  A callback that starts the next
operation (the classic Begin-in-callback chain) therefore never causes a
thread switch: its completion lands in the deque the same worker is
draining.

What a callback posts runs on the same worker (``run_next``, its own
deque, in the order posted), before the shared deque, as .NET's thread
pool runs a work item queued from a pool thread on that thread first: a
chain whose next operation finishes inside ``Begin...`` goes on there and
does not wait behind what other threads posted.  Measured on the 1 KiB
Begin/End bulk transfer (``benchmarks/run_all.py --rows bulk1k_begin``):
1.5x the throughput, and a third of the system time per block.  Fairness:
after ``_RUN_NEXT`` items in a row from its own deque a worker takes one
from the shared deque.

No second worker is woken for a backlog that one awake worker drains.
Tried in issue 15's sixth round (a worker alone awake whose own deque
still held more than 1, 8 or 32 completions after serving readiness
handed the older ones to a second worker, woken for it) on ``echo_begin``:
no consistent gain on a shared machine, on either path (interleaved runs
of the same minutes went from 0.7x to 1.9x, medians), about the same CPU
per round trip, slightly more context switches.  On the compiled path a
stream ``Begin...`` below 8 KiB keeps the GIL through its system call, so
the two workers mostly take turns with the GIL, each turn a hand-off
between CPUs, which is what the design above avoids.

Callbacks may block (on ``End...`` of another pending operation, on a wait
handle set by another callback...).  A watchdog thread, awake only while a
worker is, looks every ``_STALL_SECONDS``: if completions are queued and
the running callback has not changed, it moves what the workers posted to
their own deques to the shared one and wakes or starts another worker, as
.NET's thread pool injects threads.  There is no cap: callbacks that all wait
for work only a later callback would do must never starve it of a thread.
Up to ``_max`` workers one is added per stalled ``_STALL_SECONDS``; beyond,
each further one waits ``_STEP_SECONDS`` longer, up to ``_SLOW_SECONDS``
(.NET's starvation injection, one thread per half second, is the model), so
that a program whose callbacks block for good grows its pool slowly instead
of by fifty threads a second.  Workers beyond the base count retire after
``_IDLE_SECONDS`` without work.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["Completion", "Dispatcher", "dispatcher", "report_exception"]


class Watch(Protocol):
    """The engine's readiness watch, as the worker that holds it sees it (``_engine.epoll.Engine``)."""

    def take(self) -> bool:
        """Dispatcher lock held, the caller the last worker awake: True when it now holds the watch."""
        ...

    def ring(self) -> None:
        """Dispatcher lock held: wake the holder (already counted awake).  Must not block."""
        ...

    def leave(self) -> None:
        """Give the watch back without waiting (the holder found work after ``take``)."""
        ...

    def hold(self, claim: Callable[[], bool]) -> None:
        """Wait for readiness or a ring; call ``claim`` first thing once woken, then serve what came."""
        ...


class Completion(Protocol):
    """A finished operation: its callback runs as ``_ctx.run(_callback, self)``."""

    _ctx: Any
    _callback: Any


_STALL_SECONDS = 0.02
_IDLE_SECONDS = 30.0
_EXIT_SECONDS = 1.0
# Workers added at the fast pace; not a cap.
_FAST_WORKERS = 32
_STEP_SECONDS = 0.02
# Completions a worker runs before it serves ready descriptors again (``before_idle``) even
# though more are queued: a long queue (many connections) must not keep the readiness it
# creates waiting, nor make the engine thread think the worker stuck (Engine._guard).
_PASS = 32
_SLOW_SECONDS = 0.5
# Items a worker runs in a row from its own deque (what its callbacks posted) before it takes
# one from the shared deque.  Measured (bulk transfers, Begin/End chains): 2 keeps the 1 KiB
# blocks' gain (1.5x) and costs the 64 KiB blocks nothing; 16 cost the 64 KiB blocks a third
# (the sender's completions, posted by the engine, waited behind the receiver's run).
_RUN_NEXT = 2

# The accelerator's compiled drain loop (set by dotnet_sockets._accel when built).
drain_in_c: Callable[[Dispatcher, deque[Completion], int], int] | None = None


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


class _WorkerLocal(threading.local):
    """A completion worker's own deque (``run_next``); None on every other thread, read
    without the exception a missing attribute of a plain ``threading.local`` costs."""

    run_next: deque[Any] | None = None


class Dispatcher:
    """A small pool of daemon threads that run completion work items.

    Items are completions: objects whose callback runs as
    ``item._ctx.run(item._callback, item)``; what it raises is reported.  Posting
    the object itself, not a ``(function, argument)`` pair, saves an
    allocation per completion on the hottest path of the library.
    """

    __slots__ = (
        "_q",
        "_locals",
        "_tls",
        "_idle",
        "_active",
        "_lock",
        "_threads",
        "_base",
        "_max",
        "_current",
        "_watch",
        "_watch_wake",
        "_pid",
        "_leading",
        "before_idle",
        "watch",
        "__weakref__",
    )

    def __init__(self, workers: int | None = None) -> None:
        self._q: deque[Completion] = deque()
        # Each worker's own deque: what the callbacks it runs post (see the module docstring).
        self._locals: list[deque[Completion]] = []
        # On this dispatcher's workers: ``run_next``, the worker's own deque; unset elsewhere.
        self._tls = _WorkerLocal()
        self._idle: list[threading.Lock] = []
        self._active = 0
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._base = workers if workers is not None else _default_workers()
        self._max = max(self._base, _FAST_WORKERS)
        self._current: object = None
        self._watch: threading.Thread | None = None
        self._watch_wake = threading.Event()
        self._pid = os.getpid()
        # Called by a worker that ran out of completions, before it goes to
        # sleep (the engine serves ready descriptors there: Engine.serve_ready).
        self.before_idle: Callable[[], None] | None = None
        # The engine's watch, which the last worker to go idle holds (see the module docstring).
        self.watch: Watch | None = None
        # True while a worker holds the watch and nothing rang it: a post must ring it.
        self._leading = False

    def post(self, item: Completion) -> None:
        """Queue ``item``'s callback to run on a completion thread (this one, next, when a
        completion worker posts it)."""
        own: deque[Completion] | None = self._tls.run_next
        if own is not None:
            own.append(item)
            return
        self._q.append(item)
        if not self._active:  # an awake worker drains it; the watchdog covers a blocked one
            self._add_worker(only_if_none_awake=True)

    def _add_worker(self, only_if_none_awake: bool) -> None:
        """Wake an idle worker, or start one."""
        new: threading.Thread | None = None
        watch: threading.Thread | None = None
        with self._lock:
            if only_if_none_awake and self._active:
                return
            if self._leading and self.watch is not None:
                # The holder, not another worker: the holder would be woken
                # for the readiness the other's callbacks create.
                self._leading = False
                self._active += 1
                self.watch.ring()
            elif self._idle:
                self._active += 1
                self._idle.pop().release()
            else:
                self._active += 1
                new = threading.Thread(
                    target=self._run, name=f"dotnet-sockets completion {len(self._threads) + 1}", daemon=True
                )
                self._threads.append(new)
                if self._watch is None:
                    watch = self._watch = threading.Thread(
                        target=self._watchdog, name="dotnet-sockets watchdog", daemon=True
                    )
        if new is not None:
            try:
                new.start()
            except BaseException:
                # No thread to be had (the system's limit, or interpreter exit): the
                # watchdog tries again while work waits.
                with self._lock:
                    self._active -= 1
                    self._threads.remove(new)
                raise
        if watch is not None:
            watch.start()
        self._watch_wake.set()

    def _injection_delay(self) -> float:
        """How long the queue must stall before the watchdog adds a worker (see the module docstring)."""
        extra = len(self._threads) - self._max
        if extra < 0:
            return _STALL_SECONDS
        return min(_SLOW_SECONDS, _STALL_SECONDS + _STEP_SECONDS * (extra + 1))

    def _watchdog(self) -> None:
        wake = self._watch_wake
        while True:
            wake.wait()
            wake.clear()
            while self._active:
                before = self._current
                time.sleep(self._injection_delay())
                if self._active and self._current is before and (self._q or any(self._locals)):
                    # The awake workers are stuck in their callbacks while
                    # completions wait: let another worker drain them, those
                    # the stuck ones posted to their own deques too (each item
                    # leaves its deque once: popleft is atomic).
                    for own in self._locals:
                        while True:
                            try:
                                self._q.append(own.popleft())
                            except IndexError:
                                break
                    try:
                        self._add_worker(only_if_none_awake=False)
                    except BaseException as exc:  # noqa: BLE001 - the watchdog must go on
                        report_exception(exc)

    def _run(self) -> None:
        q = self._q
        popleft = q.popleft
        own: deque[Completion] = deque()
        own_popleft = own.popleft
        self._tls.run_next = own
        self._locals.append(own)
        me = threading.Lock()
        me.acquire()
        this = threading.current_thread()
        in_a_row = 0
        while True:
            c_drain = drain_in_c
            left = _PASS
            while c_drain is None and left:
                if own and in_a_row < _RUN_NEXT:
                    try:
                        item = own_popleft()
                    except IndexError:
                        continue  # the watchdog moved them to the shared deque meanwhile
                    in_a_row += 1
                else:
                    try:
                        item = popleft()
                    except IndexError:
                        if not own:
                            break
                        in_a_row = 0  # nothing shared waits: go on with our own
                        continue
                    in_a_row = 0
                left -= 1
                self._current = item
                # Inlined AsyncOperation._run_callback: one frame less per completion.
                try:
                    item._ctx.run(item._callback, item)
                except BaseException as exc:  # noqa: BLE001 - reported, never lost
                    report_exception(exc)
            if c_drain is not None:
                in_a_row = c_drain(self, own, in_a_row)  # the same loop, compiled
            hook = self.before_idle
            if hook is not None:
                try:
                    hook()
                except BaseException as exc:  # noqa: BLE001 - reported, never lost
                    report_exception(exc)
            if q or own:
                continue  # still awake: no need to go through the idle registration
            # Register as idle *before* the last look at the queue, so that a
            # producer that appends after that look is sure to see us idle.
            with self._lock:
                watch = self.watch
                # The last one awake takes the watch before it stops counting as
                # awake, so that the engine thread never sees nobody awake and
                # nobody holding the watch meanwhile, and take the set itself.
                # Even an extra worker: the pool shrinks back to its base count
                # through the ones that sleep, which retire.
                leading = self._active == 1 and watch is not None and watch.take()
                self._active -= 1
                if q or own:
                    self._active += 1
                    if leading:
                        assert watch is not None
                        watch.leave()
                    continue
                extra = len(self._threads) > self._base
                if leading:
                    self._leading = True
                else:
                    self._idle.append(me)
            if leading:
                assert watch is not None
                try:
                    watch.hold(self._claim)
                except BaseException as exc:  # noqa: BLE001 - reported, never lost
                    self._claim()
                    report_exception(exc)
                continue
            if not extra:
                me.acquire()
                continue
            if me.acquire(timeout=_IDLE_SECONDS):
                continue
            with self._lock:
                retire = me in self._idle and len(self._threads) > self._base
                if retire:
                    # Nobody handed us work while we waited, and the base
                    # count stays without us.
                    self._idle.remove(me)
                    self._threads.remove(this)
                    self._locals.remove(own)
            if retire:
                self._tls.run_next = None
                return
            me.acquire()  # handed work as the wait timed out, or one of the base workers now

    def _claim(self) -> bool:
        """The watch holder woke: count it awake, or say True when a ring already did."""
        with self._lock:
            rung = not self._leading
            if not rung:
                self._leading = False
                self._active += 1
        # Its callbacks may block while completions wait, as for a worker woken by a post.
        self._watch_wake.set()
        return rung

    @property
    def thread_count(self) -> int:
        return len(self._threads)

    def _drain_at_exit(self) -> None:
        # Completions queued just before the interpreter exits (typically the
        # aborts of a Close in the last lines of a program) would otherwise be
        # dropped with the daemon workers: give them a bounded moment to run.
        # Operations still pending are not waited for, as .NET does not wait.
        if self._pid != os.getpid():
            return
        now = time.monotonic()
        deadline = now + _EXIT_SECONDS
        while (self._q or any(self._locals)) and now < deadline:
            if not self._active:
                try:
                    self._add_worker(only_if_none_awake=True)
                except RuntimeError:
                    return  # no new threads at this stage of shutdown
            time.sleep(0.002)
            now = time.monotonic()
        # Let the callbacks taken last finish; one stuck for good is not waited for.
        grace = min(deadline, now + 0.05)
        while self._active and time.monotonic() < grace:
            time.sleep(0.002)

    def _reset_after_fork(self) -> None:
        # Threads do not survive fork; the child starts with a fresh pool and
        # keeps the queued items (their completions still have to run once).
        for own in self._locals:  # the workers' own deques: their threads are gone
            self._q.extend(own)
        self._locals = []
        self._tls = _WorkerLocal()  # (the forking thread may have been a worker)
        self._idle = []
        self._active = 0
        self._leading = False
        self._lock = threading.Lock()
        self._threads = []
        self._watch = None
        self._watch_wake = threading.Event()
        self._pid = os.getpid()

    def _resume_after_fork(self) -> None:
        # Once every lock of the package is made anew (the callbacks a worker runs
        # may take any of them): registered last, by the package's __init__.
        if self._q:
            self._add_worker(only_if_none_awake=True)


dispatcher = Dispatcher()

if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=dispatcher._reset_after_fork)
atexit.register(dispatcher._drain_at_exit)
