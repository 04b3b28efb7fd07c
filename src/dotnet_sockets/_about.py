"""The package's version, and which send path this process runs (for ``--version``)."""

from __future__ import annotations

import platform

from . import _accel

__all__ = ["__version__", "version_string"]

__version__ = "0.1.0"


def version_string() -> str:
    """``dotnet-sockets VERSION (PYTHON VERSION, SEND PATH)``: what ``dotnet-sockets --version`` prints.

    The send path is the compiled one, or the pure-Python one with the reason
    (``DOTNET_SOCKETS_PURE`` set, no compiler at install, a stale build).
    """
    return (
        f"dotnet-sockets {__version__} "
        f"({platform.python_implementation()} {platform.python_version()}, {_accel.send_path()})"
    )
