"""Whether the calling thread is running a garbage collection, and so perhaps a finalizer.

A finalizer (a ``__del__``, a ``weakref.finalize`` callback) runs inside whatever the
collecting thread was doing when the collection started: maybe holding a socket's queue
lock or the dispatcher's lock, neither of which is reentrant.  A ``Close`` made there must
not wait for them, or that thread hangs for good.  ``gc.callbacks`` mark the collecting
thread; ``Socket.Close`` asks :func:`collecting` and, when it is true, leaves the aborts and
the descriptor to the engine thread, as ``Socket.__del__`` does (``OpQueue.close_from_finalizer``).
"""

from __future__ import annotations

import gc
import threading
from typing import Any

__all__ = ["collecting"]

_get_ident = threading.get_ident
# The thread running a collection, 0 when none runs.  Collections never nest; a finalizer that
# lets the GIL go lets other threads run, and they are not the collecting thread.
_collector = 0


def _mark(phase: str, info: dict[str, Any]) -> None:
    global _collector
    _collector = _get_ident() if phase == "start" else 0


gc.callbacks.append(_mark)


def collecting() -> bool:
    """True on the thread running a garbage collection (inside its finalizers)."""
    return _collector != 0 and _collector == _get_ident()
