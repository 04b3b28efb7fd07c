"""Network tracing through the standard ``logging`` module.

The logger is ``dotnet_sockets`` (operations log under
``dotnet_sockets.socket``).  At ``DEBUG`` every public socket operation logs
its entry with its arguments and its exit with the result or the exception
(``Begin...`` exits with the ``IAsyncResult``; the operation's own outcome is
the exit of ``End...``); at ``VERBOSE`` (level 5) the bytes sent and received
are hex-dumped, at most ``DUMP_LIMIT`` bytes each, like .NET's DumpBuffer
events.  Lines look like::

    Socket#1234 BeginSendTo enter (offset=0, size=5, socket_flags=None, remote_ep=127.0.0.1:9000)
    Socket#1234 BeginSendTo exit -> <SendToOp completed>
    Socket#1234 EndSendTo enter (async_result=<SendToOp completed>)
    Socket#1234 EndSendTo exit -> 5

Arguments come in .NET's parameter order; endpoints print as .NET prints them
(``127.0.0.1:9000``, ``[::1]:9000``) and a receive-from result as
``5 bytes from 127.0.0.1:9000``.

Tracing is off unless a handler would print it: callers guard every call
with ``log.isEnabledFor(...)``, so when it is off no message is formatted
and no argument is looked at.  Switch it on from code with ``logging``
(``logging.getLogger("dotnet_sockets").setLevel(logging.DEBUG)`` and a
handler), or set ``DOTNET_SOCKETS_TRACE=1`` (or a level: ``DEBUG``,
``VERBOSE``, a number) in the environment to get the trace on standard error
without writing code.
"""

from __future__ import annotations

import enum
import functools
import inspect
import logging
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = [
    "log",
    "VERBOSE",
    "DUMP_LIMIT",
    "trace_enter",
    "trace_exit",
    "trace_error",
    "trace_dump",
    "trace_start",
    "trace_sync",
    "sync_member",
    "traced",
    "hexdump",
    "TRACE_FORMAT",
    "stderr_handler",
]

_F = TypeVar("_F", bound=Callable[..., Any])

VERBOSE = 5
DUMP_LIMIT = 1024
logging.addLevelName(VERBOSE, "VERBOSE")

root_log = logging.getLogger("dotnet_sockets")
log = logging.getLogger("dotnet_sockets.socket")
_isEnabledFor = log.isEnabledFor
# logging's own per-level cache of ``log``, which it clears in place whenever a level or handler
# changes (``_speedups.c`` reads it too): ``trace_cached(DEBUG) is False`` is ``isEnabledFor``'s
# answer without the call, for the hot paths; anything else (not cached yet, the logger disabled)
# asks ``isEnabledFor``.
trace_cached = getattr(log, "_cache", {}).get


def _object_id(obj: object) -> str:
    # .NET formats traced objects as "TypeName#hashcode".
    return f"{type(obj).__name__}#{id(obj) & 0xFFFFFFF:d}"


_REPR_LIMIT = 200


def _is_endpoint(value: object) -> bool:
    # By name, so that this module needs nothing from addresses (which imports nothing from here either).
    return type(value).__name__.endswith("EndPoint") and hasattr(value, "AddressFamily")


def _fmt(value: Any) -> str:
    """An argument as the trace shows it: buffers by size (their bytes go to the dump), the rest by repr."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{memoryview(value).nbytes} bytes>"
    if _is_endpoint(value):
        return str(value)
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], int):
        sender = value[1]
        if sender is None or _is_endpoint(sender):
            # A receive-from result: (bytes_received, remote_end_point).
            return f"{value[0]} bytes from {sender}"
        if isinstance(sender, tuple) and len(sender) in (2, 4) and isinstance(sender[0], str):
            # The same before the sockaddr became an endpoint (a synchronous ReceiveFrom's exit).
            host = f"[{sender[0]}]" if ":" in sender[0] else sender[0]
            return f"{value[0]} bytes from {host}:{sender[1]}"
    if isinstance(value, enum.Enum):
        return str(value)  # the package's enums print .NET's ToString() ("None", "Peek, DontRoute")
    if isinstance(value, (list, tuple)) and value and isinstance(value[0], (bytes, bytearray, memoryview)):
        return f"<{len(value)} buffers>"
    if callable(value) and not isinstance(value, type):
        return getattr(value, "__qualname__", None) or repr(value)
    try:
        text = repr(value)
    except Exception as exc:  # noqa: BLE001 - a broken __repr__ must not break the traced call
        text = f"<unprintable {type(value).__name__}: {type(exc).__name__}>"
    if len(text) > _REPR_LIMIT:
        text = text[:_REPR_LIMIT] + "..."
    return text


def trace_enter(member: str, obj: object, **args: Any) -> None:
    text = ", ".join(f"{k}={_fmt(v)}" for k, v in args.items())
    log.debug("%s %s enter (%s)", _object_id(obj), member, text)


def trace_exit(member: str, obj: object, result: Any) -> None:
    log.debug("%s %s exit -> %s", _object_id(obj), member, _fmt(result))


def trace_error(member: str, obj: object, exc: BaseException) -> None:
    log.debug("%s %s error -> %s: %s", _object_id(obj), member, type(exc).__name__, exc)


def hexdump(data: bytes | bytearray | memoryview, limit: int = DUMP_LIMIT) -> str:
    """Classic 16-bytes-a-line dump: offset, hex bytes, printable text."""
    raw = bytes(data[:limit])
    lines = []
    for off in range(0, len(raw), 16):
        chunk = raw[off : off + 16]
        hexpart = " ".join(f"{b:02X}" for b in chunk)
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{off:08X} : {hexpart:<47} : {text}")
    if len(data) > limit:
        lines.append(f"... {len(data) - limit} more bytes not shown")
    return "\n".join(lines)


def trace_dump(member: str, obj: object, data: bytes | bytearray | memoryview) -> None:
    log.log(VERBOSE, "%s %s %d bytes\n%s", _object_id(obj), member, len(data), hexdump(data))


# -- operations: what the engine's operation objects carry ----------------------------------------


def _op_args(op: Any) -> dict[str, Any]:
    args: dict[str, Any] = {}
    buf = getattr(op, "buf", None)
    if buf is not None:
        args["size"] = memoryview(buf).nbytes
    bufs = getattr(op, "bufs", None)
    if bufs is not None:
        args["buffers"] = len(bufs)
        args["size"] = sum(memoryview(b).nbytes for b in bufs)
    flags = getattr(op, "flags", 0)
    if flags:
        args["platform_flags"] = hex(flags)
    extra = getattr(op, "extra", None)
    if type(extra).__name__.endswith("EndPoint"):  # a ReceiveFrom's remote_ep
        args["remote_ep"] = extra
    return args


def sync_member(op: Any) -> str:
    """The synchronous member an operation object serves: ``ReceiveOp`` (``EndReceive``) -> ``Receive``."""
    end: str = getattr(op, "end_method", "") or type(op).__name__
    return end[3:] if end.startswith("End") else end


def trace_start(member: str, obj: object, op: Any, **args: Any) -> None:
    """Entry of an operation described by its operation object; sends are dumped at VERBOSE."""
    trace_enter(member, obj, **args, **_op_args(op))
    if log.isEnabledFor(VERBOSE) and "Send" in member:
        buf = getattr(op, "buf", None)
        if buf is not None:
            trace_dump(member, obj, buf)
        else:
            for b in getattr(op, "bufs", None) or ():
                trace_dump(member, obj, b)


def trace_sync(
    obj: object,
    op: Any,
    start: Callable[[Any], object],
    wait: Callable[[Any, int], Any],
    timeout_ms: int,
    **args: Any,
) -> Any:
    """Run a synchronous call's ``start(op)`` and ``wait(op, timeout_ms)``, tracing entry, exit and error."""
    member = sync_member(op)
    trace_start(member, obj, op, **args)
    try:
        start(op)
        result = wait(op, timeout_ms)
    except BaseException as exc:
        trace_error(member, obj, exc)
        raise
    trace_exit(member, obj, result)
    return result


# -- the decorator for the members that are not on a hot path -------------------------------------


def traced(fn: _F) -> _F:
    """Trace a method's entry (with its arguments), its result and its exception.

    When tracing is off the cost is one extra call and the level check;
    only members off the hot send/receive paths use it (those trace inline).
    """
    return traced_as(fn.__name__, fn)


def traced_as(member: str, fn: _F) -> _F:
    """``traced``, tracing ``fn`` under the name ``member``: the general form of a member whose
    public method takes a short path of its own when tracing is off."""
    sig = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not _isEnabledFor(logging.DEBUG):
            return fn(self, *args, **kwargs)
        try:
            bound = sig.bind(self, *args, **kwargs)
            shown = {k: v for k, v in list(bound.arguments.items())[1:]}
        except TypeError:
            shown = {"args": args, **kwargs}
        trace_enter(member, self, **shown)
        try:
            result = fn(self, *args, **kwargs)
        except BaseException as exc:
            trace_error(member, self, exc)
            raise
        trace_exit(member, self, result)
        return result

    return wrapper  # type: ignore[return-value]


# The one format of every trace printed on standard error (the CLI's --trace, its demo, DOTNET_SOCKETS_TRACE).
TRACE_FORMAT = "trace %(relativeCreated)8.1fms %(threadName)s: %(message)s"


def stderr_handler() -> logging.Handler:
    """A handler that prints the trace on standard error in the package's one trace format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(TRACE_FORMAT))
    return handler


def _configure_from_environment() -> None:
    raw = os.environ.get("DOTNET_SOCKETS_TRACE", "").strip()
    if not raw or raw == "0":
        return
    level: int
    if raw.isdigit():
        level = logging.DEBUG if raw == "1" else int(raw)
    else:
        named = logging.getLevelName(raw.upper())
        level = named if isinstance(named, int) else logging.DEBUG
    root_log.addHandler(stderr_handler())
    root_log.setLevel(level)


_configure_from_environment()
