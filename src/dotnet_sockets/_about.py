"""The package's version, and which send path this process runs (for ``--version``)."""

from __future__ import annotations

import platform

from . import _accel

__all__ = ["__version__", "version_string"]

__version__ = "0.1.0"


def version_string() -> str:
    """What ``dotnet-sockets --version`` prints: the version, the Python, and which send path runs.

    ``dotnet-sockets 0.1.0 (Python CPython 3.11.7; send path: compiled accelerator ...)``; the
    pure-Python path says why it runs (``DOTNET_SOCKETS_PURE`` set, no compiler at install, a
    build from other sources, an accelerator that failed to start).
    """
    python = f"{platform.python_implementation()} {platform.python_version()}"
    return f"dotnet-sockets {__version__} (Python {python}; send path: {_accel.send_path()})"
