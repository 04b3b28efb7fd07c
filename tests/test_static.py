"""The package's own promises about its code: typed (mypy --strict) and linted (ruff)."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import background
from conftest import PURE_PASS, same_in_both_passes

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


def _mypy_job() -> background.Job:
    argv = [sys.executable, "-m", "mypy", "--strict", "src/dotnet_sockets", "tools"]
    return background.Job("mypy --strict src", argv, cwd=ROOT, timeout=300)


def background_jobs(selected: set[str]) -> list[background.Job]:
    if PURE_PASS or "test_mypy_strict_is_clean" not in selected or importlib.util.find_spec("mypy") is None:
        return []
    return [_mypy_job()]


@same_in_both_passes
def test_mypy_strict_is_clean() -> None:
    pytest.importorskip("mypy")
    res = background.outcome(_mypy_job())
    assert res.returncode == 0, res.stdout + res.stderr


def test_py_typed_is_shipped() -> None:
    assert (ROOT / "src" / "dotnet_sockets" / "py.typed").exists()
