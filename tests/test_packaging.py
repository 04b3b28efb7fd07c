"""What a user who ships the package gets: a wheel with the compiled send path that installs without a compiler.

The wheel is built once, installed into a fresh virtual environment with the C compiler made unusable,
and asked which send path it runs.  It runs on the compiled-path suite run only (the pure run would
build the same wheel again to learn nothing new).
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

import background
from dotnet_sockets import _accel

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    not _accel.ACCELERATED, reason="the compiled path is off in this run (no compiler, or DOTNET_SOCKETS_PURE)"
)


def _run(*args: str | os.PathLike[str], env: dict[str, str] | None = None, timeout: float = 240) -> str:
    proc = subprocess.run(
        [os.fspath(a) for a in args], capture_output=True, text=True, timeout=timeout, env=env, check=False
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return proc.stdout


def _wheel_job() -> background.Job:
    argv = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", background.workdir("wheels"), ROOT]
    return background.Job("pip wheel", argv, timeout=240)


def background_jobs(selected: set[str]) -> list[background.Job]:
    """The wheel build (the slow part), ahead of its test, on the compiled-path run only."""
    return [_wheel_job()] if _accel.ACCELERATED and selected else []


@pytest.mark.timeout(300)
def test_a_wheel_installs_without_a_compiler_and_runs_the_compiled_path(tmp_path: Path) -> None:
    built = background.outcome(_wheel_job())
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    wheels = Path(built.args[-2])
    (wheel,) = wheels.glob("dotnet_sockets-*.whl")
    # A platform wheel: it carries the compiled module, so installing it compiles nothing.
    assert not wheel.name.endswith("-none-any.whl"), wheel.name

    env_dir = tmp_path / "fresh"
    # No pip of its own (ensurepip alone took longer than the rest of the test): this pip installs
    # into it with --python, which runs the install in the fresh environment's interpreter.
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    no_compiler = dict(os.environ, CC="/bin/false", CXX="/bin/false", PATH="/usr/bin:/bin")
    no_compiler.pop("DOTNET_SOCKETS_PURE", None)
    no_compiler.pop("PYTHONPATH", None)
    _run(sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", "--no-index", wheel,
         env=no_compiler)  # fmt: skip
    # Installed there, and only there: the test's own environment is not what answers below.
    assert list((env_dir / "lib").glob("python*/site-packages/dotnet_sockets/_speedups*.so")), "not installed"
    out = _run(python, "-m", "dotnet_sockets", "--version", env=no_compiler)
    assert "send path: compiled accelerator" in out, out
    metadata = "import importlib.metadata as m; print(m.metadata('dotnet-sockets')['License-Expression'])"
    assert _run(python, "-c", metadata).strip() == "MIT"
