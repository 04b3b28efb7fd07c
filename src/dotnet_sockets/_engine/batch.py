"""Several queued datagram operations in one system call, where the kernel allows.

When a datagram socket becomes ready and three or more operations of one kind
lead its queue (a server that posted several ``BeginReceiveFrom``, an
unthrottled ``BeginSendTo`` loop whose sends found the buffer full), one
``recvmmsg`` or ``sendmmsg`` serves as many of them as lead the queue, up to
:data:`LIMIT`.  Each then finishes exactly as its own ``attempt`` would
have: the same value, the same telemetry, the same error, in the same order.

The rules live here and in the operations (``batch_kind``, ``message``,
``received``, ``sent``); the accelerator's ``recv_batch`` and ``send_batch``
only make the system call and build what the socket module's single calls
return.  Without them (the pure-Python path, ``DOTNET_SOCKETS_PURE=1``) the
queue is served one ``attempt`` at a time, which gives the same results.

What is left out: ``ReceiveMessageFrom`` (its ancillary data would need the
socket module's parsing in C), stream sockets, and sockets of other families
than IPv4 and IPv6.

A ``sendmmsg`` that stops after message k without an error (a full buffer;
or an error, which the kernel does not report once a message has left)
leaves the rest queued for the next readiness report, so a persistent error
(an oversized datagram, an address the socket cannot reach) reaches its own
operation on the next call.  An error the kernel reports only once (a
connected socket's pending ICMP error, ``ConnectionRefused``) would be lost
that way: on a connected socket the primitive makes one ``sendmsg`` per
message instead, and the message that meets the error fails with it, as its
own send would (the calls still cost no Python work each).  An audit hook
that refuses message k is asked once: its exception is message k's outcome,
as the hook raising in that operation's own ``sendto``.  A message the hooks
allowed but the kernel did not take is not asked about again when it is sent
later (``ops.AllowedSendToOp``): once per datagram, as one call each.
"""

from __future__ import annotations

import socket
from collections import deque
from collections.abc import Callable
from itertools import islice
from typing import Any

__all__ = [
    "LIMIT",
    "MIN_RUN",
    "NONE",
    "RECEIVE",
    "SEND",
    "TRUNC",
    "drained_singly",
    "enabled",
    "recv_batch",
    "send_batch",
    "serve",
]

LIMIT = 64
"""The most operations one system call serves (the accelerator's arrays hold as many)."""

MIN_RUN = 3
"""The fewest operations worth a batch: for two, the batch's own Python costs about what the
second system call saves (measured: ``benchmarks/bench_batching.py``, ``docs/performance.md``)."""

TRUNC = socket.MSG_TRUNC
"""The receive flag that makes the kernel report a datagram's length rather than the bytes copied."""

# An operation class's ``batch_kind``: which of its neighbours it may share a call with.
NONE = 0
RECEIVE = 1  # recvfrom_into / recv_into of one datagram: value from (nbytes, sockaddr)
SEND = 2  # sendto / send of one datagram: value from the byte count

_Primitive = Callable[[Any, list[Any], int], tuple[list[Any], "OSError | None"]]
_SendPrimitive = Callable[[Any, list[Any], int], tuple[list[Any], "OSError | None", int]]

# The accelerator's primitives, put here by ``_accel.install``; None on the pure-Python path.
recv_batch: _Primitive | None = None
send_batch: _SendPrimitive | None = None


def enabled() -> bool:
    """Whether queued operations may be batched (the accelerator's primitives are in use)."""
    return recv_batch is not None and send_batch is not None


def serve(
    io: Any, q: deque[Any], waits_itself: Callable[[Any], bool], broken: Callable[[Any, Exception], None]
) -> tuple[int, bool]:
    """One system call for the run of batchable operations leading ``q`` (left in ``q``).

    The run is ``q[0]`` and those right behind it of the same kind and flags
    that the engine serves (not waiting on their own); a receive run is cut
    to ``io.rwant`` (see below).  Returns ``(finished, more)``: how many of
    the run finished (their ``_value`` or ``_error`` set, in order), 0 when
    the first would block, -1 when the run is shorter than :data:`MIN_RUN` or the first is
    one the system call does not take (the caller runs its own
    ``attempt``); ``more`` is False when the kernel stopped short (no more
    datagrams, no more room, or an error it reports on the next call): the
    caller waits for readiness instead of asking again at once.
    Raises what the primitive raised (a signal handler's exception): the
    caller treats it as the first operation's ``attempt`` raising it.  An
    operation whose own completion step raises (a bug) fails alone through
    ``broken``, as its ``attempt`` raising would: the others of the run keep
    the datagrams the call gave them.
    """
    head = q[0]
    kind, flags = head.batch_kind, head.flags
    if kind == RECEIVE:
        # Receives differ by MSG_TRUNC alone (a SocketAsyncEventArgs receive asks for it, to
        # report a cut datagram) share a call made with it: each one's ``received`` keeps the
        # count its own call would have given (see ops).
        flags &= ~TRUNC
    want = io.rwant if kind == RECEIVE else LIMIT
    run = [head]
    for op in islice(q, 1, want):
        if op.batch_kind != kind or (op.flags & ~TRUNC if kind == RECEIVE else op.flags) != flags or waits_itself(op):
            break
        run.append(op)
    if len(run) < MIN_RUN:
        return -1, True
    if kind == RECEIVE:
        assert recv_batch is not None
        got, exc = recv_batch(io.sock, [op.buf for op in run], flags | TRUNC)
        for op, value in zip(run, got, strict=False):  # (got: the first len(got) of run)
            try:
                op.received(value)
            except Exception as bug:  # noqa: BLE001 - see broken
                broken(op, bug)
        if got:
            # A server with many receives pending and few datagrams per wake-up would
            # otherwise gather (and export) every buffer each time for one datagram: ask for
            # about twice what came last time, growing while the kernel fills every one.
            # Below MIN_RUN the receives go one by one until a wake-up finds more (drained_singly).
            io.rwant = min(LIMIT, 2 * len(got))
    else:
        assert send_batch is not None
        got, exc, allowed = send_batch(io.sock, [op.message() for op in run], flags)
        for op, n in zip(run, got, strict=False):
            try:
                op.sent(n)
            except Exception as bug:  # noqa: BLE001 - see broken
                broken(op, bug)
        for op in islice(run, len(got), allowed):
            op.allowed()  # asked once: a later call sends it without asking again
        if exc is not None and not isinstance(exc, BlockingIOError):
            # What the next message's own send would have raised (its error, or an audit
            # hook's refusal, asked once): that operation fails with it, as its attempt would.
            failed = run[len(got)]
            if isinstance(exc, OSError):
                failed._error = exc
            else:
                broken(failed, exc)
            return len(got) + 1, True
    if got:
        return len(got), len(got) == len(run)
    if exc is None:
        return -1, True
    if isinstance(exc, BlockingIOError):
        return 0, False
    head._error = exc
    return 1, True


def drained_singly(io: Any, count: int) -> None:
    """``count`` receives went one call each in a wake-up, up to a would-block: the next
    batch of receives takes about twice as many (batches resume once a wake-up finds
    :data:`MIN_RUN` datagrams or more waiting, at least two of them one by one)."""
    io.rwant = min(LIMIT, 2 * count)
