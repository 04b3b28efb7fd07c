"""The package's own promises about its code: typed (mypy --strict) and linted (ruff)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import same_in_both_passes

ROOT = Path(__file__).resolve().parent.parent


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)


@same_in_both_passes
@pytest.mark.skipif(
    shutil.which("ruff") is None and not (Path(sys.executable).parent / "ruff").exists(),
    reason="ruff is not installed (pip install '.[test]')",
)
def test_ruff_is_clean() -> None:
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    paths = [p for p in ("src", "tests", "tools", "benchmarks", "examples") if (ROOT / p).exists()]
    res = _run(ruff, "check", *paths)
    assert res.returncode == 0, res.stdout + res.stderr


@same_in_both_passes
def test_mypy_strict_is_clean() -> None:
    pytest.importorskip("mypy")
    res = _run(sys.executable, "-m", "mypy", "--strict", "src/dotnet_sockets", "tools")
    assert res.returncode == 0, res.stdout + res.stderr


def test_py_typed_is_shipped() -> None:
    assert (ROOT / "src" / "dotnet_sockets" / "py.typed").exists()
