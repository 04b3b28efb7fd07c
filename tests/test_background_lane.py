"""The suite's background lane (``background.py``) gives each test its own job's result, bounded,
and changes nothing a test of this process counts (descriptors, threads).

These jobs go ahead of the suite's (``first=True``); still, one of those may be running: the waits
here allow for the longest of them, under pytest-timeout's bound.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

import background


def _python(key: str, code: str, timeout: float = 30) -> background.Job:
    return background.Job(key, [sys.executable, "-c", code], timeout=timeout)


def _counts() -> tuple[int, int]:
    return len(os.listdir("/proc/self/fd")), threading.active_count()


@pytest.mark.timeout(300)
def test_each_job_gets_its_own_result_in_the_order_queued() -> None:
    jobs = [_python(f"lane order {i}", f"import sys; print({i}); sys.exit({i})") for i in range(3)]
    background.start(jobs, first=True)
    for i, job in enumerate(jobs):
        res = background.outcome(_python(job.key, "raise SystemExit('not this one')"))
        assert (res.returncode, res.stdout) == (i, f"{i}\n")


@pytest.mark.timeout(300)
def test_a_job_past_its_timeout_is_killed_and_reported() -> None:
    background.start([_python("lane timeout", "import time; time.sleep(60)", timeout=0.2)], first=True)
    with pytest.raises(subprocess.TimeoutExpired):
        background.outcome(_python("lane timeout", "pass"))


def test_a_job_never_queued_runs_in_the_test() -> None:
    res = background.outcome(_python("lane never queued", "print('here')"))
    assert res.stdout == "here\n"


@pytest.mark.timeout(300)
def test_a_lane_job_changes_no_descriptor_or_thread_of_this_process(tmp_path: Path) -> None:
    background.start([_python("lane warm", "pass")], first=True)  # the lane exists from here on
    background.outcome(_python("lane warm", "pass"))
    before = _counts()
    running, go = tmp_path / "running", tmp_path / "go"
    code = (
        "import pathlib, time\n"
        f"pathlib.Path({str(running)!r}).touch()\n"
        f"for _ in range(3000):\n    if pathlib.Path({str(go)!r}).exists(): break\n    time.sleep(0.01)\n"
        "print('ran')"
    )
    job = _python("lane counted", code)
    background.start([job], first=True)
    assert wait_for(running.exists, 240), "the job never started"
    during = _counts()  # measured while the child runs
    go.touch()
    assert background.outcome(job).stdout == "ran\n"
    assert before == during == _counts()


def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    for _ in range(int(seconds * 100)):
        if condition():
            return True
        threading.Event().wait(0.01)
    return condition()
