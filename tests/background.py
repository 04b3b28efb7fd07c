"""Child processes whose outcome a test only reads, run ahead of it on one background lane.

A Sphinx build, a type checker, a wheel build, a benchmark smoke run: each is a program of its own,
with its own arguments, working directory and environment, that no other test can disturb and that
disturbs no other test (loopback only, its own files).  Run in the test itself, each held the suite
for its whole length while a core stood idle; started when the session's tests are collected
(``conftest.pytest_collection_finish`` asks each test module's ``background_jobs``), they run one at
a time beside the suite, in the order the tests will want them.

The lane is a process of its own (this file run as a program), started once with the first job: it
reads job descriptions from its stdin and writes each result to its stdout as one JSON line.  So
the test process holds the same two pipes and the same reader thread from the first job to the end
of the session, and tests that count this process's descriptors or threads see no job come and go.

A test asks for its job's outcome with :func:`outcome`: the job's own result, whatever ran before or
beside it; a job that was never queued runs in the test, as if there were no lane.  Every job is
bounded (killed past its timeout, which the test then sees as ``subprocess.TimeoutExpired``); at the
end of the session the lane is stopped, whatever still runs is killed, and the working files go.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

_lock = threading.Lock()
_jobs: dict[str, Job] = {}
_lane: subprocess.Popen[str] | None = None
_workdir: Path | None = None


def workdir(name: str) -> Path:
    """A fresh directory for one job's files, removed at the end of the session."""
    global _workdir
    with _lock:
        if _workdir is None:
            _workdir = Path(tempfile.mkdtemp(prefix="dotnet-sockets-background-"))
    return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=_workdir))


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
        self.cwd = None if cwd is None else os.fspath(cwd)
        self.env = dict(os.environ) if env is None else env
        self.done = threading.Event()
        self.result: subprocess.CompletedProcess[str] | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        """Run the child here and now (bounded by the timeout)."""
        try:
            self.result = subprocess.run(
                self.argv, cwd=self.cwd, env=self.env, capture_output=True, text=True, timeout=self.timeout
            )
        except BaseException as exc:  # noqa: BLE001 - handed to whoever asks for the result
            self.error = exc
        finally:
            self.done.set()

    def finished(self) -> subprocess.CompletedProcess[str]:
        """The result of a run that has ended; a timeout (or a failure to start) is raised."""
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result

    def describe(self) -> dict[str, Any]:
        return {"key": self.key, "argv": self.argv, "cwd": self.cwd, "env": self.env, "timeout": self.timeout}


def start(jobs: Iterable[Job], *, first: bool = False) -> None:
    """Queue ``jobs`` on the lane, in order (a key already queued is left as it is); ``first`` puts
    them ahead of every job still waiting."""
    global _lane
    with _lock:
        new = [job for job in jobs if job.key not in _jobs]
        if not new:
            return
        if _lane is None:
            _lane = subprocess.Popen(
                [sys.executable, __file__], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
            )
            threading.Thread(target=_read_results, args=(_lane,), name="background-results", daemon=True).start()
        assert _lane.stdin is not None
        for job in new:
            _jobs[job.key] = job
            _lane.stdin.write(json.dumps({**job.describe(), "first": first}) + "\n")
        _lane.stdin.flush()


def _read_results(lane: subprocess.Popen[str]) -> None:
    assert lane.stdout is not None
    for line in lane.stdout:
        done = json.loads(line)
        with _lock:
            job = _jobs.get(done["key"])
        if job is None:
            continue
        if done["timeout"]:
            job.error = subprocess.TimeoutExpired(job.argv, job.timeout, done["stdout"], done["stderr"])
        elif done["error"]:
            job.error = OSError(done["error"])
        else:
            job.result = subprocess.CompletedProcess(job.argv, done["returncode"], done["stdout"], done["stderr"])
        job.done.set()
    # The lane ended: nothing more will finish.
    with _lock:
        waiting = [job for job in _jobs.values() if not job.done.is_set()]
    for job in waiting:
        job.error = RuntimeError(f"{job.key}: the background lane ended before the job")
        job.done.set()


def outcome(job: Job) -> subprocess.CompletedProcess[str]:
    """The finished run of the job with ``job``'s key: the lane's, or ``job`` run here and now."""
    with _lock:
        known = _jobs.get(job.key)
    if known is None:
        job.run()
        return job.finished()
    # Bounded: the lane kills each child past its own timeout; the jobs ahead of this one are
    # bounded the same way, and pytest-timeout bounds the test as a whole.
    with _lock:
        ahead = list(_jobs.values())
    bound = sum(j.timeout for j in ahead) + 60
    assert known.done.wait(bound), f"{known.key}: the background job never finished"
    return known.finished()


def stop() -> None:
    """End of the session: the lane stops (killing whatever it runs) and the files go."""
    global _lane, _workdir
    with _lock:
        lane, _lane = _lane, None
        _jobs.clear()
    if lane is not None:
        assert lane.stdin is not None
        lane.stdin.close()  # the lane's signal to kill its child and end
        try:
            lane.wait(30)
        except subprocess.TimeoutExpired:
            lane.kill()
            lane.wait(30)
    if _workdir is not None:
        shutil.rmtree(_workdir, ignore_errors=True)
        _workdir = None


# -- the lane ----------------------------------------------------------------------------------------


def _serve() -> None:
    """Run the jobs read from stdin one at a time; stdin's end kills the one running and ends."""
    queue: list[dict[str, Any]] = []
    ready = threading.Condition()
    closed = threading.Event()
    running: list[subprocess.Popen[str]] = []

    def read() -> None:
        for line in sys.stdin:
            job = json.loads(line)
            with ready:
                # A job queued first goes behind the other firsts still waiting, ahead of the rest.
                at = len(queue)
                if job["first"]:
                    at = 0
                    while at < len(queue) and queue[at]["first"]:
                        at += 1
                queue.insert(at, job)
                ready.notify()
        closed.set()
        with ready:
            ready.notify()
            for proc in running:
                proc.kill()

    threading.Thread(target=read, daemon=True).start()
    while True:
        with ready:
            while not queue and not closed.is_set():
                ready.wait()
            if closed.is_set():
                return
            job = queue.pop(0)
            done: dict[str, Any] = {"key": job["key"], "timeout": False, "error": "", "returncode": None}
            done.update(stdout="", stderr="")
            try:
                proc = subprocess.Popen(
                    job["argv"], cwd=job["cwd"], env=job["env"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                    text=True,
                )  # fmt: skip
            except OSError as exc:
                proc = None
                done["error"] = f"{type(exc).__name__}: {exc}"
            else:
                running.append(proc)
        if proc is not None:
            try:
                done["stdout"], done["stderr"] = proc.communicate(timeout=job["timeout"])
            except subprocess.TimeoutExpired:
                proc.kill()
                done["stdout"], done["stderr"] = proc.communicate()
                done["timeout"] = True
            with ready:
                running.remove(proc)
            done["returncode"] = proc.returncode
        sys.stdout.write(json.dumps(done) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    _serve()
