"""The last after-fork handler: the package's threads start again in a forked child.

Every module that owns a lock re-makes it in its own ``os.register_at_fork``
handler (another thread of the parent may have held it at the fork).  The
epoll thread, the ``CancelAfter`` timer thread and the completion workers run
callbacks that may take any of those locks, so none of them may start before
all are re-made: this module is imported last by the package's ``__init__``,
so its handler is registered, and runs, after all the others.
"""

from __future__ import annotations

import os

from ._engine.dispatch import dispatcher
from ._engine.epoll import engine
from .cancellation import _timers

__all__: list[str] = []


def _resume_after_fork() -> None:
    engine._resume_after_fork()
    _timers._resume_after_fork()
    dispatcher._resume_after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_resume_after_fork)
