"""The optional compiled send path (``_speedups``) against the pure-Python one.

The compiled path may only skip the interpreter, never decide differently: the scenario
file runs once on each path and the two outcomes must be equal.  The rest checks the
accelerated methods look like the Python ones (same object under both spellings, same
signature and docstring), that ``DOTNET_SOCKETS_PURE=1`` turns the accelerator off, that a
stale or broken build falls back to the pure path, and that the compiled paths leak nothing.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import platform
import pydoc
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import typing
from pathlib import Path
from typing import Any

import pytest

import background
import dotnet_sockets
from conftest import PURE_PASS, same_in_both_passes
from dotnet_sockets import Socket, _accel

HERE = Path(__file__).parent
SCENARIOS = HERE / "_send_paths_scenarios.py"
BUILT = importlib.util.find_spec("dotnet_sockets._speedups") is not None
needs_build = pytest.mark.skipif(not BUILT, reason="the accelerator is not built here (no C compiler at install)")
ACCELERATED_NAMES = [
    ("BeginSendTo", "begin_send_to"),
    ("EndSendTo", "end_send_to"),
    ("SendTo", "send_to"),
    ("SendToAsync", "send_to_async"),
    ("Send", "send"),
    ("Receive", "receive"),
    ("BeginSend", "begin_send"),
    ("EndSend", "end_send"),
    ("BeginReceive", "begin_receive"),
    ("EndReceive", "end_receive"),
    ("BeginReceiveFrom", "begin_receive_from"),
    ("EndReceiveFrom", "end_receive_from"),
]


def python_job(key: str, code_or_file: str | Path, pure: bool, timeout: float = 50.0) -> background.Job:
    env = dict(os.environ)
    env.pop("DOTNET_SOCKETS_PURE", None)
    if pure:
        env["DOTNET_SOCKETS_PURE"] = "1"
    args = [str(code_or_file)] if isinstance(code_or_file, Path) else ["-c", code_or_file]
    return background.Job(key, [sys.executable, "-X", "dev", "-W", "error::ResourceWarning", *args], env=env,
                          timeout=timeout)  # fmt: skip


def run_python(code_or_file: str | Path, pure: bool, timeout: float = 50.0) -> subprocess.CompletedProcess[str]:
    job = python_job("run here", code_or_file, pure, timeout)
    job.run()
    return job.finished()


def _scenario_job(pure: bool) -> background.Job:
    return python_job(f"scenarios pure={pure}", SCENARIOS, pure)


def _leak_job() -> background.Job:
    return python_job("leak check", LEAK_CHECK, pure=False)


def background_jobs(selected: set[str]) -> list[background.Job]:
    """The two longest children (both the same in either pass: they set the path themselves)."""
    if PURE_PASS or not BUILT:
        return []
    jobs = []
    if "test_compiled_and_pure_paths_agree_on_every_scenario" in selected:
        jobs += [_scenario_job(False), _scenario_job(True)]
    if "test_the_compiled_paths_leak_nothing" in selected:
        jobs.append(_leak_job())
    return jobs


@needs_build
@same_in_both_passes  # it runs the scenario file on each path itself
def test_compiled_and_pure_paths_agree_on_every_scenario() -> None:
    runs: dict[bool, dict[str, Any]] = {}
    for pure in (False, True):
        proc = background.outcome(_scenario_job(pure))
        assert proc.returncode == 0, proc.stderr
        runs[pure] = json.loads(proc.stdout)
    assert runs[False].pop("accelerated") is True
    assert runs[True].pop("accelerated") is False
    compiled, pure_run = runs[False], runs[True]
    assert compiled.keys() == pure_run.keys()
    for key in compiled:
        assert compiled[key] == pure_run[key], key
    # The scenarios do reach what they are about (a few anchors, so that a scenario that
    # quietly stopped doing anything would show).
    assert compiled["begin steady bytes"][1:] == [16, 1]
    assert compiled["begin too big"][0][2][2] == "MessageSize"
    assert compiled["inline chain in order"] is True
    assert compiled["inline chain never nested"] == 1
    assert compiled["denied begin"][0][1] == "SecurityException"
    assert compiled["denied begin"][1:] == [0, 0]
    assert compiled["event steady"][0][0] == ["value", False]
    assert compiled["await task"] == ["value", 16]


def test_a_compiler_here_means_the_accelerator_is_used() -> None:
    """``optional=True`` lets a failed build pass silently; here it would be seen."""
    has_compiler = shutil.which("cc") is not None or shutil.which("gcc") is not None
    has_headers = (Path(sysconfig.get_paths()["include"]) / "Python.h").exists()
    if os.environ.get("DOTNET_SOCKETS_PURE", "") not in ("", "0"):
        assert not _accel.ACCELERATED
        return
    if not (has_compiler and has_headers):
        pytest.skip("no C compiler or Python headers: the pure path is the only one")
    assert BUILT, "a C compiler is here, but the install did not build dotnet_sockets._speedups"
    assert _accel.ACCELERATED


@pytest.mark.parametrize(("dotnet", "pep8"), ACCELERATED_NAMES)
def test_accelerated_methods_look_like_the_python_ones(dotnet: str, pep8: str) -> None:
    method = getattr(Socket, dotnet)
    assert method is getattr(Socket, pep8)
    python_function = inspect.unwrap(method)
    assert inspect.isfunction(python_function)
    assert python_function.__name__ == dotnet
    assert method.__doc__ == python_function.__doc__ and method.__doc__
    assert inspect.signature(method) == inspect.signature(python_function)
    assert dotnet in pydoc.render_doc(method, renderer=pydoc.plaintext)
    if _accel.ACCELERATED:
        assert method is not python_function
        assert inspect.ismethoddescriptor(method)  # documented as a method by Sphinx's autodoc
        assert repr(method).startswith("<accelerated <function ")
        assert method.__qualname__ == python_function.__qualname__
        assert method.__module__ == python_function.__module__


@pytest.mark.parametrize("dotnet", ["SendTo", "SendToAsync"])
def test_accelerated_methods_keep_their_overloads(dotnet: str) -> None:
    """``typing.get_overloads`` (and so the API reference) sees .NET's overloads on both paths."""
    method = getattr(Socket, dotnet)
    overloads = typing.get_overloads(method)
    assert overloads and overloads == typing.get_overloads(inspect.unwrap(method))
    # SendTo: the four EndPoint forms, then .NET 8's SocketAddress form.
    assert [list(inspect.signature(o).parameters)[-1] for o in overloads if dotnet == "SendTo"] == (
        ["remote_ep"] * 4 + ["socket_address"] if dotnet == "SendTo" else []
    )


def test_bound_accelerated_methods_know_their_socket() -> None:
    from dotnet_sockets import AddressFamily, ProtocolType, SocketType

    s = Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)
    try:
        bound = s.BeginSendTo
        assert bound.__self__ is s
        assert bound.__func__ is Socket.BeginSendTo
        assert list(inspect.signature(bound).parameters)[0] == "buffer"
    finally:
        s.Close()


def test_pure_env_var_turns_the_accelerator_off() -> None:
    code = textwrap.dedent(
        """
        import inspect
        from dotnet_sockets import Socket, _accel
        print(_accel.ACCELERATED, inspect.isfunction(Socket.BeginSendTo), inspect.isfunction(Socket.SendToAsync))
        """
    )
    proc = run_python(code, pure=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "True", "True"]


FAKE_BUILD = """
import sys, types
fake = types.ModuleType("dotnet_sockets._speedups")
fake.INTERFACE = {interface}
def configure(cfg):
    raise RuntimeError("built from other sources")
fake.configure = configure
sys.modules["dotnet_sockets._speedups"] = fake
import warnings
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import socket
    from dotnet_sockets import AddressFamily, IPAddress, IPEndPoint, ProtocolType, Socket, SocketType, _accel
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r.bind(("127.0.0.1", 0))
r.settimeout(10)
s = Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)
n = s.EndSendTo(s.BeginSendTo(b"abc", 0, 3, 0, IPEndPoint(IPAddress.Loopback, r.getsockname()[1]), None, None))
print(_accel.ACCELERATED, n, r.recv(10).decode(), [type(w.message).__name__ for w in caught])
s.Close()
r.close()
"""


@pytest.mark.parametrize(
    ("interface", "warned"),
    [(0, []), (_accel._INTERFACE, ["RuntimeWarning"])],
    ids=["stale build: not used", "broken build: warned, not used"],
)
def test_a_stale_or_broken_build_falls_back_to_the_pure_path(interface: int, warned: list[str]) -> None:
    proc = run_python(FAKE_BUILD.format(interface=interface), pure=False)
    assert proc.returncode == 0, proc.stderr
    flag, n, data, warnings_seen = proc.stdout.split(" ", 3)
    assert (flag, n, data) == ("False", "3", "abc")
    assert eval(warnings_seen) == warned  # noqa: S307 - our own printed list
    check = FAKE_BUILD.format(interface=interface) + "import dotnet_sockets; print(dotnet_sockets.version_string())"
    proc = run_python(check, pure=False)
    assert proc.returncode == 0, proc.stderr
    said = proc.stdout.splitlines()[-1]
    assert ("send path: pure Python (the built accelerator is from other sources" if interface == 0
            else "send path: pure Python (the accelerator failed to start") in said, said


@pytest.mark.parametrize(
    ("build", "said"),
    [
        (None, "pure Python (the accelerator was not built: no C compiler at install)"),
        (b"not a shared object", "pure Python (the built accelerator did not load: "),
    ],
    ids=["no build", "a build that does not load"],
)
def test_a_missing_or_unloadable_build_is_named(tmp_path: Path, build: bytes | None, said: str) -> None:
    package = Path(inspect.getfile(_accel)).parent
    copy = tmp_path / "dotnet_sockets"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("_speedups*.so", "__pycache__"))
    if build is not None:
        (copy / f"_speedups{sysconfig.get_config_var('EXT_SUFFIX')}").write_bytes(build)
    code = (
        f"import sys; sys.path.insert(0, {str(tmp_path)!r}); "
        "import dotnet_sockets as d; print(d.__file__); print(d.version_string())"
    )
    proc = run_python(code, pure=False)
    assert proc.returncode == 0, proc.stderr
    where, version = proc.stdout.splitlines()
    assert where.startswith(str(tmp_path))
    assert f"; send path: {said}" in version, version


@pytest.mark.parametrize("pure", [False, True], ids=["default", "DOTNET_SOCKETS_PURE=1"])
def test_the_send_path_is_public_and_says_why(pure: bool) -> None:
    code = "import dotnet_sockets as d, platform; print(d.ACCELERATED, d._accel.ACCELERATED); print(d.version_string())"
    proc = run_python(code, pure=pure)
    assert proc.returncode == 0, proc.stderr
    flags, said = proc.stdout.splitlines()
    expect_compiled = BUILT and not pure
    assert flags == f"{expect_compiled} {expect_compiled}"
    assert said.startswith(f"dotnet-sockets {dotnet_sockets.__version__} (Python CPython {platform.python_version()}; ")
    if expect_compiled:
        assert said.endswith("; send path: compiled accelerator (DOTNET_SOCKETS_PURE=1 turns it off))")
    elif pure:
        assert said.endswith("; send path: pure Python (DOTNET_SOCKETS_PURE is set))")
    else:
        assert "; send path: pure Python (the accelerator was not built" in said


LEAK_CHECK = """
import asyncio, gc, socket, tracemalloc, threading
from dotnet_sockets import (AddressFamily, IPAddress, IPEndPoint, ProtocolType, Socket,
                            SocketAsyncEventArgs, SocketType)
from dotnet_sockets._engine.ops import ReceiveFromOp, ReceiveOp, SendToOp, StreamSendOnlyOp
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r.bind(("127.0.0.1", 0))
ep = IPEndPoint(IPAddress.Loopback, r.getsockname()[1])
s = Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)
e = SocketAsyncEventArgs()
e.SetBuffer(b"x" * 32, 0, 32)
e.RemoteEndPoint = ep
e_done = threading.Event()
e.Completed += lambda sender, args: e_done.set()
big = bytes(70000)
P = b"x" * 32
# The synchronous stream calls' compiled paths (Send/Receive, NetworkStream Write/Read).
from dotnet_sockets import NetworkStream, SocketException
lst = Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
lst.Bind(IPEndPoint(IPAddress.Loopback, 0)); lst.Listen(1)
tc = Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
tc.Connect(lst.LocalEndPoint); ts = lst.Accept(); lst.Close()
ts.ReceiveTimeout = 5000
ws, rs = NetworkStream(tc), NetworkStream(ts)
out, inb = bytearray(64), bytearray(64)
# The Begin/End pairs' compiled paths: on the stream, and BeginReceiveFrom on a datagram socket.
u = Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)
u.Bind(IPEndPoint(IPAddress.Loopback, 0))
uport = u.LocalEndPoint.Port
any_ep = IPEndPoint(IPAddress.Any, 0)
assert tc.RemoteEndPoint is not None and ts.RemoteEndPoint is not None  # (the steady state)
import sys
watched = lambda: [sys.getrefcount(o) for o in (s, ep, ep._sa, e, P, big, r, tc, ts, ws, rs, out, inb, tc._io, ts._io,
                                                u, any_ep, u._io)]

def begin_round(i):
    assert tc.EndSend(tc.BeginSend(out, 0, 64, 0, None, None)) == 64
    ar = ts.BeginReceive(inb, 0, 64, 0, None, i)
    assert ar.AsyncWaitHandle.WaitOne(5000) and ts.EndReceive(ar) == 64
    r.sendto(P, ("127.0.0.1", uport))
    ar = u.BeginReceiveFrom(inb, 0, 64, 0, any_ep, None, None)
    assert ar.AsyncWaitHandle.WaitOne(5000)
    n, sender = u.EndReceiveFrom(ar)
    assert n == 32
    if i % 100 == 0:  # queued first, then completed by the engine; and an error
        ar = ts.BeginReceive(inb, 0, 8, 0, None, None)
        tc.Send(out, 0, 8, 0)
        assert ar.AsyncWaitHandle.WaitOne(5000) and ts.EndReceive(ar) == 8
        try:
            tc.EndReceive(ar)
        except Exception:
            pass

def stream_round(i):
    ws.Write(out, 0, 64)
    assert rs.Read(inb, 0, 64) == 64
    assert tc.Send(P) == 32
    assert ts.Receive(inb, 0, 64, 0) == 32
    tc.Send(out, 8, 8, 0)
    assert ts.Receive(inb) == 8
    if i % 100 == 0:  # the would-block path, to its timeout
        ts.ReceiveTimeout = 1
        try:
            ts.Receive(inb, 0, 8, 0)
        except SocketException:
            pass
        ts.ReceiveTimeout = 5000

def round_of(n):
    done = threading.Event()
    left = [n]
    def cb(ar):
        s.EndSendTo(ar)
        left[0] -= 1
        if left[0] == 0:
            done.set()
    for i in range(n):
        stream_round(i)
        begin_round(i)
        s.BeginSendTo(P, 0, 32, 0, ep, cb, i)
        s.SendTo(P, ep)
        for _ in range(1 + i % 2):
            if s.SendToAsync(e):  # went pending (the machine is busy): wait for it
                assert e_done.wait(30)
                e_done.clear()
        ar = s.BeginSendTo(big, 0, len(big), 0, ep, None, None)  # the error path
        try:
            s.EndSendTo(ar)
        except Exception:
            pass
    async def awaits():
        for _ in range(n):
            await s.SendToAsync(P, 0, ep)
            try:
                await s.SendToAsync(big, 0, ep)
            except Exception:
                pass
    asyncio.run(awaits())
    assert done.wait(30)

round_of(2000)  # warm up caches and free lists
gc.collect()
refs_before = watched()
tracemalloc.start()
before = tracemalloc.get_traced_memory()[0]
round_of(20000)
gc.collect()
after = tracemalloc.get_traced_memory()[0]
ops = sum(1 for o in gc.get_objects() if type(o) in (SendToOp, StreamSendOnlyOp, ReceiveOp, ReceiveFromOp))
refs_after = watched()
# A few operations may still be on their way out (a worker about to drop its last one).
same = all(0 <= a - b <= 3 for a, b in zip(refs_after, refs_before))
print(after - before, ops, int(same), refs_before, refs_after)
s.Close()
r.close()
tc.Close()
ts.Close()
u.Close()
"""


@needs_build
@same_in_both_passes  # it runs the compiled path whatever the pass
def test_the_compiled_paths_leak_nothing() -> None:
    proc = background.outcome(_leak_job())
    assert proc.returncode == 0, proc.stderr
    growth, live_ops, same_refs = (int(x) for x in proc.stdout.split()[:3])
    assert same_refs, proc.stdout  # no reference leaked to the socket, endpoint, buffers...
    # 20,000 rounds of every path: a leaked object per call would be megabytes.
    assert growth < 200_000, growth
    assert live_ops <= 5  # the last results still named by the script, a worker, the dispatcher
