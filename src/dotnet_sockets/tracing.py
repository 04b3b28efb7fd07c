"""Network tracing through the standard ``logging`` module.

The logger is ``dotnet_sockets`` (operations log under
``dotnet_sockets.socket``).  At ``DEBUG`` every traced operation logs its
entry with arguments and its exit with the result or exception; at
``VERBOSE`` (level 5) the bytes sent and received are hex-dumped, at most
``DUMP_LIMIT`` bytes each, like .NET's DumpBuffer events.

Tracing is off unless a handler would print it: callers guard every call
with ``log.isEnabledFor(...)``, so when it is off no message is formatted.
Set ``DOTNET_SOCKETS_TRACE=1`` (or a level name such as ``VERBOSE``) in the
environment to get the trace on standard error without writing code.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

__all__ = [
    "log",
    "VERBOSE",
    "DUMP_LIMIT",
    "trace_enter",
    "trace_exit",
    "trace_error",
    "trace_dump",
    "hexdump",
]

VERBOSE = 5
DUMP_LIMIT = 1024
logging.addLevelName(VERBOSE, "VERBOSE")

root_log = logging.getLogger("dotnet_sockets")
log = logging.getLogger("dotnet_sockets.socket")


def _object_id(obj: object) -> str:
    # .NET formats traced objects as "TypeName#hashcode".
    return f"{type(obj).__name__}#{id(obj) & 0xFFFFFFF:d}"


def trace_enter(member: str, obj: object, **args: Any) -> None:
    text = ", ".join(f"{k}={v!r}" for k, v in args.items())
    log.debug("%s %s enter (%s)", _object_id(obj), member, text)


def trace_exit(member: str, obj: object, result: Any) -> None:
    log.debug("%s %s exit -> %r", _object_id(obj), member, result)


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
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(threadName)s %(name)s: %(message)s"))
    root_log.addHandler(handler)
    root_log.setLevel(level)


_configure_from_environment()
