"""Child processes whose outcome a test only reads, run ahead of it on one background lane.

A Sphinx build, a type checker, a wheel build, a benchmark smoke run: each is a program of its own,
with its own arguments, working directory and environment, that no other test can disturb and that
disturbs no other test (loopback only, its own files).  Run in the test itself, each held the suite
for its whole length while a core stood idle; started when the session's tests are collected
(``conftest.pytest_collection_finish`` asks each test module's ``background_jobs``), they run one at
a time beside the suite, in the order the tests will want them.

A test asks for its job's outcome with :func:`outcome`: the job's own result, whatever ran before or
beside it.  A job the lane has not started yet is taken off the lane and run in the test, as if
there were no lane; one that is running is waited for, bounded by its own timeout.  Every job is
bounded (killed past its timeout, which the test then reports); at the end of the session whatever
still runs is killed and the working files are removed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

_lock = threading.Lock()
_queue: list[Job] = []
_jobs: dict[str, Job] = {}
_lane: threading.Thread | None = None
_workdir: Path | None = None


def workdir(name: str) -> Path:
    """A fresh directory for one job's files, removed at the end of the session."""
    global _workdir
    with _lock:
        if _workdir is None:
            _workdir = Path(tempfile.mkdtemp(prefix="dotnet-sockets-background-"))
    path = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=_workdir))
    return path


class Job:
    """One child process: argv, cwd, env and a timeout, as ``subprocess.run`` takes them."""

    def __init__(
        self,
        key: str,
        argv: Sequence[str | os.PathLike[str]],
        *,
        timeout: float,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.key = key
        self.argv = [os.fspath(a) for a in argv]
        self.timeout = timeout
        self.cwd = cwd
        self.env = env
        self.started = False
        self.done = threading.Event()
        self.result: subprocess.CompletedProcess[str] | None = None
        self.error: BaseException | None = None
        self._proc: subprocess.Popen[str] | None = None

    def run(self) -> None:
        try:
            with subprocess.Popen(
                self.argv, cwd=self.cwd, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            ) as proc:
                self._proc = proc
                try:
                    out, err = proc.communicate(timeout=self.timeout)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.communicate()
                    raise
                self.result = subprocess.CompletedProcess(self.argv, proc.returncode, out, err)
        except BaseException as exc:  # noqa: BLE001 - handed to the test that asks
            self.error = exc
        finally:
            self.done.set()

    def finished(self) -> subprocess.CompletedProcess[str]:
        """The result of a run that has ended; a timeout (or a failure to start) is raised."""
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result

    def kill(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()


def start(jobs: Iterable[Job]) -> None:
    """Queue ``jobs`` on the lane (a key already known is left as it is)."""
    global _lane
    with _lock:
        for job in jobs:
            if job.key not in _jobs:
                _jobs[job.key] = job
                _queue.append(job)
        if _lane is None and _queue:
            _lane = threading.Thread(target=_work, name="background-jobs", daemon=True)
            _lane.start()


def _work() -> None:
    global _lane
    while True:
        with _lock:
            if not _queue:
                _lane = None
                return
            job = _queue.pop(0)
            job.started = True
        job.run()


def outcome(job: Job) -> subprocess.CompletedProcess[str]:
    """The finished run of the job with ``job``'s key: the lane's, or ``job`` run here and now."""
    with _lock:
        known = _jobs.setdefault(job.key, job)
        here = not known.started
        if here:
            known.started = True
            if known in _queue:
                _queue.remove(known)
    if here:
        known.run()
    # Bounded: the job kills its child past its own timeout, and then sets done.
    assert known.done.wait(known.timeout + 60), f"{known.key}: the background job never finished"
    return known.finished()


def stop() -> None:
    """End of the session: nothing more starts, whatever runs is killed, the files go."""
    global _workdir
    with _lock:
        _queue.clear()
        running = list(_jobs.values())
        _jobs.clear()
    for job in running:
        job.kill()
    for job in running:
        if job.started:
            job.done.wait(30)
    if _workdir is not None:
        shutil.rmtree(_workdir, ignore_errors=True)
        _workdir = None
