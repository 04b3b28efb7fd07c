"""The like-for-like benchmarks keep running: a ``--quick`` smoke run of a few rows of each kind.

No test here measures or asserts a time: the figures of a quick run mean nothing.  What is
checked is that every side of the chosen rows runs to its result line (or says why it cannot
run here: no ``mcs``, no .NET Core host, no uvloop, no ``dotnet_sockets.TcpClient`` yet), that
the rows' workloads exist on every side, and that ``--write-results`` replaces its section.
"""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

import background
from conftest import PURE_PASS, same_in_both_passes
from dotnet_sockets import _accel

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"


@pytest.fixture(scope="module")
def run_all() -> object:
    sys.path.insert(0, str(BENCH))
    try:
        yield importlib.import_module("run_all")
    finally:
        sys.path.remove(str(BENCH))


def _run(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BENCH / "run_all.py"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


def test_every_row_names_a_workload_on_every_side(run_all: object) -> None:
    ra: object = run_all
    cs = (BENCH / "dotnet" / "Bench.cs").read_text(encoding="utf-8")
    cs_workloads = set(re.findall(r'case "(\w+)":', cs))
    modules = {
        impl: importlib.import_module(name)
        for impl, name in (
            ("asyncio", "workloads_asyncio"),
            ("uvloop", "workloads_asyncio"),
            ("plain", "workloads_plain"),
        )
    }
    ds = importlib.import_module("workloads_dotnet_sockets")
    rows = ra.ROWS  # type: ignore[attr-defined]
    assert len({r.key for r in rows}) == len(rows)
    for row in rows:
        assert row.workload in cs_workloads, row.key
        assert callable(getattr(ds, row.workload, None)), row.key
        assert set(row.params) == set(row.quick), row.key  # quick changes counts, never the shape
        for impl, workload in row.peers.items():
            assert callable(getattr(modules[impl], workload, None)), (row.key, impl)
    # Nothing in Bench.cs that no row runs: a C# workload without its Python twin would rot.
    assert cs_workloads == {r.workload for r in rows}


QUICK_ROWS = "sendto_unthrottled,recv_begin,ping_sync,bulk1k_await,client_echo"


def _quick_job() -> background.Job:
    results = background.workdir("bench") / "RESULTS.md"
    args = ["--quick", "--rounds", "1", "--rows", QUICK_ROWS, "--write-results", "--results", str(results)]
    return background.Job("run_all.py --quick", [sys.executable, BENCH / "run_all.py", *args], cwd=ROOT, timeout=240)


def _per_op_job() -> background.Job:
    argv = [sys.executable, BENCH / "per_op.py", "--count", "200", "--runs", "1", "--calls"]
    return background.Job("per_op.py", argv, cwd=ROOT, timeout=240)


def background_jobs(selected: set[str]) -> list[background.Job]:
    jobs = []
    if "test_quick_run_of_a_few_rows_of_each_kind" in selected and not PURE_PASS:
        jobs.append(_quick_job())
    if "test_quick_run_of_every_plain_side_beside_the_compiled_one" in selected and not PURE_PASS:
        jobs.append(_plain_sides_job())
    if "test_profile_row_prints_each_measure_for_both_sides" in selected and not PURE_PASS:
        jobs.append(_profile_row_job())
    if "test_per_op_profile_runs_every_model" in selected:
        jobs.append(_per_op_job())
    return jobs


@pytest.mark.timeout(300)
@same_in_both_passes  # the harness runs the compiled and the pure side itself
def test_quick_run_of_a_few_rows_of_each_kind() -> None:
    """A datagram send row (with asyncio and uvloop peers), a fed receive row, the sync ping-pong
    (with the plain-socket peer), a stream row and a client-layer row: every side of each gives a
    figure or an n/a with its reason, never an error, and the table has every row."""
    rows = QUICK_ROWS
    res = background.outcome(_quick_job())
    results = Path(res.args[-1])
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    table = [ln for ln in res.stdout.splitlines() if ln.startswith("| `") and "`: " in ln]  # the figures
    ratios = [ln for ln in res.stdout.splitlines() if ln.startswith("| `") and "`: " not in ln]
    assert len(ratios) == len(table)
    assert [ln.split("`")[1] for ln in table] == rows.split(",")
    assert "error:" not in res.stdout
    header = next(ln for ln in res.stdout.splitlines() if ln.startswith("| row | dotnet_sockets compiled"))
    column = {title.strip(): i for i, title in enumerate(header.split("|")[1:-1])}
    for line in table:
        cells = [c.strip() for c in line.split("|")[1:-1]]
        compiled, pure = cells[column["dotnet_sockets compiled"]], cells[column["dotnet_sockets pure"]]
        for cell in (compiled, pure):
            assert cell and (cell[0].isdigit() or cell.startswith("n/a: dotnet_sockets.TcpClient")), line
        # The InlineCompletions side runs on the rows with callbacks only.
        inline = cells[column["compiled, InlineCompletions"]]
        with_callbacks = line.startswith(("| `sendto_unthrottled`", "| `recv_begin`"))
        assert inline[:1].isdigit() if with_callbacks else inline == "", line
    ping = next(ln for ln in table if ln.startswith("| `ping_sync`"))
    assert " p99 " in ping
    text = results.read_text(encoding="utf-8")
    assert text.count("run_all.py: generated from here") == 1
    assert "benchmarks/run_all.py --quick" in text
    # A second write replaces the section instead of adding one.
    res = _run("--quick", "--rounds", "1", "--rows", "sendto_sync", "--sides", "compiled,plain", "--write-results",
               "--results", str(results))  # fmt: skip
    assert res.returncode == 0, res.stderr[-2000:]
    text = results.read_text(encoding="utf-8")
    assert text.count("run_all.py: generated from here") == 1
    assert "`sendto_sync`" in text and "`recv_begin`" not in text


def _plain_rows() -> list[str]:
    """The rows with a plain ``socket.socket`` peer, from run_all.py's table."""
    sys.path.insert(0, str(BENCH))
    try:
        rows = importlib.import_module("run_all").ROWS
    finally:
        sys.path.remove(str(BENCH))
    return sorted(r.key for r in rows if "plain" in r.peers)


def _plain_sides_job() -> background.Job:
    args = ["--quick", "--rounds", "1", "--rows", ",".join(_plain_rows()), "--sides", "compiled,plain"]
    return background.Job("run_all.py plain sides", [sys.executable, BENCH / "run_all.py", *args], cwd=ROOT,
                          timeout=240)  # fmt: skip


def _profile_row_job() -> background.Job:
    out = background.workdir("profile") / "profile.json"
    argv = [sys.executable, BENCH / "profile_row.py", "echo_begin", "--quick", "--repeat", "1", "--json", out]
    return background.Job("profile_row.py", argv, cwd=ROOT, timeout=240)


@pytest.mark.timeout(300)
@same_in_both_passes  # the harness runs the compiled side itself
def test_quick_run_of_every_plain_side_beside_the_compiled_one(run_all: object) -> None:
    """Every row with a plain ``socket.socket`` peer (CPython's ceiling for its shape) gives a
    plain figure and the compiled / plain ratio; the Begin/End send rows have none by design."""
    rows = [r for r in run_all.ROWS if "plain" in r.peers]  # type: ignore[attr-defined]
    keys = {r.key for r in rows}
    assert {"stream64", "stream1k", "bulk1k_begin", "bulk1k_await", "echo_begin", "echo_await",
            "accept_begin", "client_echo", "sendto_sync", "ping_sync"} <= keys  # fmt: skip
    assert not keys & {"sendto_sem", "sendto_unthrottled", "sendto_chains"}
    assert _plain_rows() == sorted(keys)  # what the background run was given
    res = background.outcome(_plain_sides_job())
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    table = [ln for ln in res.stdout.splitlines() if ln.startswith("| `") and "`: " in ln]
    ratios = {ln.split("`")[1]: ln for ln in res.stdout.splitlines() if ln.startswith("| `") and "`: " not in ln}
    assert {ln.split("`")[1] for ln in table} == keys
    for line in table:
        compiled, plain = (c.strip() for c in line.split("|")[2:4])
        assert plain[:1].isdigit(), line
        if compiled[:1].isdigit():
            ratio = [c.strip() for c in ratios[line.split("`")[1]].split("|")[1:-1]][5]  # compiled / plain
            assert float(ratio.split()[0]) > 0, ratios[line.split("`")[1]]
        else:
            assert compiled.startswith("n/a: dotnet_sockets.TcpClient"), line


@pytest.mark.timeout(300)
@same_in_both_passes  # profile_row.py picks its send path itself (--pure)
def test_profile_row_prints_each_measure_for_both_sides() -> None:
    """``profile_row.py`` on a threaded row with a plain peer: for the package and for the plain
    socket, the figure, context switches per operation by thread group, the probe's GIL wait,
    the switch-interval runs and the Python calls per operation with the top functions."""
    proc = background.outcome(_profile_row_job())
    out = Path(proc.args[-1])
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    text = proc.stdout
    assert "### dotnet_sockets compiled" in text and "### plain socket" in text  # "compiled path NOT built" too
    for measure in ("context switches per operation:", "GIL held per operation", "GIL wait of a woken thread",
                    "sys.setswitchinterval", "Python calls per operation (cProfile):"):  # fmt: skip
        assert text.count(measure) == 2, measure
    (summary,) = __import__("json").loads(out.read_text(encoding="utf-8"))
    package = next(v for k, v in summary["sides"].items() if k.startswith("dotnet_sockets compiled"))
    plain = summary["sides"]["plain socket"]
    for side in (package, plain):
        assert side["counters"]["done"] > 0 and side["counters"]["ctx"] >= 0
        assert side["cprofile"]["profile"]["total_calls"] > 0
        assert set(side) >= {"probe", "switch=0.0005", "switch=0.05"}
    # The package's engine threads are seen and named; the plain side runs one loop thread.
    assert any(g.startswith("dotnet-sockets") for g in package["counters"]["threads"])
    assert not any(g.startswith("dotnet-sockets") for g in plain["counters"]["threads"])
    # Each side's calls are counted per round trip of its own (not a comparison of the two: the
    # package's count falls as it gets faster, and that must not fail this test).
    for side in (package, plain):
        assert 0 < side["cprofile"]["profile"]["total_calls"] / side["cprofile"]["done"] < 10_000, side["cprofile"]


def test_unknown_rows_and_sides_are_usage_errors() -> None:
    res = _run("--rows", "warp_drive", timeout=60)
    assert res.returncode == 2 and "no row matches" in res.stderr
    res = _run("--sides", "java", timeout=60)
    assert res.returncode == 2 and "unknown side" in res.stderr


def test_per_op_profile_runs_every_model() -> None:
    """``per_op.py`` (the per-operation profile behind the rows) runs each model to its line."""
    proc = background.outcome(_per_op_job())
    assert proc.returncode == 0, proc.stderr
    rows = {line.split("|")[1].strip(): line for line in proc.stdout.splitlines() if line.startswith("| ")}
    for model in ("plain", "asyncio", "sync", "stream", "begin", "saea", "await"):
        cells = [c.strip() for c in rows[model].split("|")[1:-1]]
        assert float(cells[1]) > 0, rows[model]
        if model in ("sync", "stream", "begin") and _accel.ACCELERATED:
            assert float(cells[3]) == 0, rows[model]  # the compiled stream calls: no Python frame
        else:
            assert float(cells[3]) > 0, rows[model]
