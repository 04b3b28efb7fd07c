"""``python -m dotnet_sockets``: the same command line as ``dotnet-sockets``."""

from __future__ import annotations

import sys

from .cli import main

sys.exit(main())
