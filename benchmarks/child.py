"""One benchmark run in a fresh process: ``python benchmarks/child.py IMPL WORKLOAD key=value ...``.

IMPL is ``dotnet_sockets`` (the send path follows ``DOTNET_SOCKETS_PURE``), ``asyncio``,
``uvloop`` or ``plain``.  Prints the workload's JSON line (see ``_common.py``).
"""

from __future__ import annotations

import importlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

MODULES = {
    "dotnet_sockets": "workloads_dotnet_sockets",
    "asyncio": "workloads_asyncio",
    "uvloop": "workloads_asyncio",
    "plain": "workloads_plain",
}


def main(argv: list[str]) -> int:
    impl, workload, *rest = argv
    from _common import Params, report

    if impl == "uvloop":
        try:
            import uvloop  # type: ignore[import-not-found, unused-ignore]
        except ImportError:
            report(0.0, "n/a", 0, True, na="uvloop is not installed (pip install '.[bench]')")
            return 0
        import asyncio

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    module = importlib.import_module(MODULES[impl])
    getattr(module, workload)(Params(rest))
    return 1  # a workload ends the process itself through report()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
