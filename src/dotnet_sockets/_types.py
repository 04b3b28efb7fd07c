"""Names for the types in signatures: what static tools check, what ``help()`` shows.

``BytesLike`` is any bytes-like object (``bytes``, ``bytearray``, ``memoryview``,
``array.array``, ...): ``collections.abc.Buffer`` from Python 3.12 on, which static
tools know for every version through ``typing_extensions``.  (Not named ``Buffer``:
inside ``SocketAsyncEventArgs`` that name is .NET's ``Buffer`` property.)  Whether a
buffer that receives is writable is checked at run time (``ArgumentException``); no
type says it.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

__all__ = ["BufferList", "BytesLike"]

if TYPE_CHECKING:
    from typing_extensions import Buffer as BytesLike
elif sys.version_info >= (3, 12):
    from collections.abc import Buffer as BytesLike
else:
    BytesLike = Any  # Python 3.11 has no run-time name for it

BufferList: TypeAlias = "Sequence[BytesLike]"
""".NET's ``IList<ArraySegment<byte>>``: a list or tuple of buffers (a ``memoryview`` slice is a segment)."""
