"""``int`` subclasses whose ``__bool__``/``__index__``/``__int__`` raise or lie (issue 14, defect 11).

Shared by ``test_reliability_paths.py`` and ``_send_paths_scenarios.py``: as socket flags, each is
read by its stored value on both send paths.
"""

from __future__ import annotations


class RaisingBool(int):
    def __bool__(self) -> bool:
        raise ValueError("__bool__ called")


class RaisingIndex(int):
    def __index__(self) -> int:
        raise ValueError("__index__ called")

    def __int__(self) -> int:
        raise ValueError("__int__ called")


class LiesFalse(int):
    """Says it is false, whatever its value."""

    def __bool__(self) -> bool:
        return False


class LiesTrue(int):
    """Says it is true, whatever its value."""

    def __bool__(self) -> bool:
        return True
